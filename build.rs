//! Embeds the catalog (`labs/` and `content/`) into the binary, so an installed `ckalab` needs
//! no data files next to it. `CKALAB_CATALOG=<dir>` still loads a catalog from disk at run time.
//! Also compiles the CRI v1 client from `proto/cri.proto` with protox (pure Rust: no `protoc`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

fn main() {
    compile_cri();
    let root =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["labs", "content", "kind-configs"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(&root, &root.join(dir), &mut files);
    }
    files.sort();

    let mut out =
        String::from("/// Every catalog file, as (path relative to the crate root, contents).\n");
    out.push_str("pub static FILES: &[(&str, &str)] = &[\n");
    for rel in &files {
        let abs = root.join(rel);
        writeln!(
            out,
            "    ({rel:?}, include_str!({:?})),",
            abs.display().to_string()
        )
        .expect("writing to a String cannot fail");
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("catalog_files.rs");
    fs::write(dest, out).expect("write catalog_files.rs");
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if !entry.file_name().to_string_lossy().starts_with('.') {
            let rel = path.strip_prefix(root).expect("under root");
            files.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn compile_cri() {
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(["cri.proto"], ["proto"]).expect("proto/cri.proto compiles");
    tonic_prost_build::configure()
        .build_server(false)
        .compile_fds(descriptors)
        .expect("generate the CRI client");
}
