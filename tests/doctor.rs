//! `ckalab doctor` finds tools on PATH and says how to install the missing ones.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::Test;

fn fake_tool(dir: &Path, name: &str, version: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho '{version}'\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// A pinned version from gobuild/pins.env.
fn pin(key: &str) -> String {
    let pins = std::fs::read_to_string(crate::repo_root().join("gobuild/pins.env")).expect("pins");
    pins.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .expect("pinned")
        .to_string()
}

/// A family of built binaries in `cache`, each printing `version`; `finished` writes the
/// stamp a completed build leaves.
fn fake_family(cache: &Path, family: &str, key: &str, binaries: &[(&str, &str)], finished: bool) {
    let dir = cache.join(format!("{family}-{}", pin(key)));
    std::fs::create_dir_all(&dir).expect("mkdir");
    for (name, version) in binaries {
        fake_tool(&dir, name, version);
    }
    if finished {
        std::fs::write(dir.join(".built"), "stamp").expect("stamp");
    }
}

#[test]
fn nothing_installed_exits_4_with_install_commands() {
    let empty = tempfile::tempdir().expect("dir");
    let run = Test::new()
        .env("PATH", empty.path().to_string_lossy())
        .env("CKALAB_BIN_CACHE", empty.path().to_string_lossy())
        .run(&["doctor"])
        .exit(4);
    run.stdout_has("sudo apt-get install -y containerd")
        .stdout_has("sudo apt-get install -y bubblewrap")
        .stdout_has("kind.sigs.k8s.io/dl/v0.33.0")
        .stdout_has("build them: bash scripts/build-k8s.sh")
        .stdout_has("sandbox backend (no Docker needed): not ready");
}

#[test]
fn sandbox_tools_present_make_the_sandbox_ready() {
    let bin = tempfile::tempdir().expect("dir");
    fake_tool(
        bin.path(),
        "containerd",
        "containerd github.com/containerd/containerd 1.6.20",
    );
    fake_tool(bin.path(), "openssl", "OpenSSL 3.0.17");
    fake_tool(bin.path(), "bwrap", "bubblewrap 0.8.0");
    let cache = tempfile::tempdir().expect("dir");
    let etcd = [
        ("etcd", "etcd Version: 3.6.16"),
        ("etcdutl", "etcdutl version: 3.6.16"),
        ("etcdctl", "etcdctl version: 3.6.16"),
    ];
    let test = Test::new()
        .env("PATH", bin.path().to_string_lossy())
        .env("CKALAB_BIN_CACHE", cache.path().to_string_lossy());
    // Without etcd 3.6 and the Kubernetes binaries built, the sandbox cannot run.
    test.run(&["doctor"])
        .exit(4)
        .stdout_has("sandbox backend (no Docker needed): not ready");
    fake_family(cache.path(), "etcd", "ETCD_VERSION", &etcd, true);
    test.run(&["doctor"])
        .exit(4)
        .stdout_has("sandbox backend (no Docker needed): not ready");
    let kubernetes = [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kubeadm",
        "kubectl",
    ]
    .map(|name| (name, "Kubernetes v1.35.4"));
    fake_family(cache.path(), "kubernetes", "K8S_VERSION", &kubernetes, true);
    test.run(&["doctor"])
        .success()
        .stdout_has("containerd github.com/containerd/containerd 1.6.20")
        .stdout_has("sandbox backend (no Docker needed): ready")
        .stdout_has("kind backend (a real cluster):      not ready")
        .stdout_has("curl -LO https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl");

    let json = test.run(&["doctor", "--json"]).success().json();
    assert_eq!(json["sandbox_ready"], true);
    assert_eq!(json["kind_ready"], false);
    let containerd = json["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .find(|t| t["name"] == "containerd")
        .expect("containerd")
        .clone();
    assert_eq!(containerd["needed_by"], "sandbox");
}

/// The real binaries built from Go modules are listed with the versions they print; a family
/// whose build did not finish (no `.built` stamp) counts as not built, with the command that
/// builds it.
#[test]
fn the_real_control_plane_binaries_are_listed_with_their_versions() {
    let cache = tempfile::tempdir().expect("dir");
    let etcd = [
        ("etcd", "etcd Version: 3.6.16"),
        ("etcdutl", "etcdutl version: 3.6.16"),
        ("etcdctl", "etcdctl version: 3.6.16"),
    ];
    fake_family(cache.path(), "etcd", "ETCD_VERSION", &etcd, true);
    // Half a Kubernetes build: binaries without the stamp.
    let apiserver = [("kube-apiserver", "Kubernetes v1.35.4")];
    fake_family(cache.path(), "kubernetes", "K8S_VERSION", &apiserver, false);

    let test = Test::new().env("CKALAB_BIN_CACHE", cache.path().to_string_lossy());
    let json = test.run(&["doctor", "--json"]).json();
    let binary = |name: &str| {
        json["binaries"]
            .as_array()
            .expect("binaries")
            .iter()
            .find(|b| b["name"] == name)
            .unwrap_or_else(|| panic!("{name} listed"))
            .clone()
    };
    assert_eq!(binary("etcdutl")["version"], "etcdutl version: 3.6.16");
    assert_eq!(binary("etcdutl")["family"], "etcd");
    assert!(binary("etcd")["path"].as_str().is_some());
    assert!(
        binary("kube-apiserver")["path"].is_null(),
        "a build without its stamp is never used"
    );
    assert_eq!(binary("kubectl")["pinned"], pin("K8S_VERSION"));
    assert_eq!(json["binaries_build"], "bash scripts/build-k8s.sh");
    test.run(&["doctor"])
        .stdout_has("etcd Version: 3.6.16")
        .stdout_has("not built")
        .stdout_has("build them: bash scripts/build-k8s.sh");
}

/// doctor names the node image a supported kind gets, and says which kinds to install when the
/// one found has no v1.35 image of ckalab's.
#[test]
fn doctor_says_which_node_image_each_kind_release_gets() {
    let kind_says = |version: &str| {
        let bin = tempfile::tempdir().expect("dir");
        fake_tool(bin.path(), "kind", version);
        let test = Test::new().env("PATH", bin.path().to_string_lossy());
        let out = test.run(&["doctor"]);
        let json = test.run(&["doctor", "--json"]).json();
        let kind = json["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["name"] == "kind")
            .expect("kind")
            .clone();
        (out.stdout(), kind)
    };
    let (text, kind) = kind_says("kind v0.32.0 go1.25.4 linux/amd64");
    assert!(
        text.contains("kind: kind v0.32 clusters run kindest/node:v1.35.5@sha256:ce977ae6"),
        "{text}"
    );
    assert!(kind["advice"].is_null(), "{kind}");
    let (_, kind) = kind_says("kind v0.33.0 go1.26.0 linux/amd64");
    assert!(
        kind["note"]
            .as_str()
            .is_some_and(|n| n.contains("kindest/node:v1.35.8@sha256:07b2536e")),
        "{kind}"
    );
    let (text, kind) = kind_says("kind v0.29.0 go1.24.2 linux/amd64");
    assert!(kind["note"].is_null(), "{kind}");
    assert!(
        text.contains("node image for kind v0.31, v0.32 or v0.33 only"),
        "{text}"
    );
}
