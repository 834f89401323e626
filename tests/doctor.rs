//! `ckalab doctor` finds tools on PATH and says how to install the missing ones.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::Test;

fn fake_tool(dir: &Path, name: &str, version: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho '{version}'\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn nothing_installed_exits_4_with_install_commands() {
    let empty = tempfile::tempdir().expect("dir");
    let run = Test::new()
        .env("PATH", empty.path().to_string_lossy())
        .run(&["doctor"])
        .exit(4);
    run.stdout_has("sudo apt-get install -y etcd-server")
        .stdout_has("sudo apt-get install -y etcd-client")
        .stdout_has("sudo apt-get install -y containerd")
        .stdout_has("sudo apt-get install -y bubblewrap")
        .stdout_has("kind.sigs.k8s.io/dl/v0.31.0")
        .stdout_has("sandbox backend (no Docker needed): not ready");
}

#[test]
fn sandbox_tools_present_make_the_sandbox_ready() {
    let bin = tempfile::tempdir().expect("dir");
    fake_tool(bin.path(), "etcd", "etcd Version: 3.4.23");
    fake_tool(bin.path(), "etcdctl", "etcdctl version: 3.4.23");
    fake_tool(
        bin.path(),
        "containerd",
        "containerd github.com/containerd/containerd 1.6.20",
    );
    fake_tool(bin.path(), "openssl", "OpenSSL 3.0.17");
    fake_tool(bin.path(), "bwrap", "bubblewrap 0.8.0");
    let test = Test::new().env("PATH", bin.path().to_string_lossy());
    test.run(&["doctor"])
        .success()
        .stdout_has("etcd Version: 3.4.23")
        .stdout_has("sandbox backend (no Docker needed): ready")
        .stdout_has("kind backend (a real cluster):      not ready")
        .stdout_has("curl -LO https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl");

    let json = test.run(&["doctor", "--json"]).success().json();
    assert_eq!(json["sandbox_ready"], true);
    assert_eq!(json["kind_ready"], false);
    let etcd = json["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .find(|t| t["name"] == "etcd")
        .expect("etcd")
        .clone();
    assert_eq!(etcd["version"], "etcd Version: 3.4.23");
    assert_eq!(etcd["needed_by"], "sandbox");
}

#[test]
fn a_kind_other_than_the_pinned_release_is_pointed_out() {
    let bin = tempfile::tempdir().expect("dir");
    fake_tool(bin.path(), "kind", "kind v0.29.0 go1.24.2 linux/amd64");
    fake_tool(bin.path(), "docker", "Docker version 28.2.2, build e6534b4");
    fake_tool(bin.path(), "kubectl", "Client Version: v1.35.0");
    let test = Test::new().env("PATH", bin.path().to_string_lossy());
    test.run(&["doctor"])
        .stdout_has("kind: ckalab's cluster configs pin kind v0.31's node image")
        .stdout_has("install v0.31.x");
    let json = test.run(&["doctor", "--json"]).json();
    let advice = |name: &str| {
        json["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["name"] == name)
            .expect("tool")["advice"]
            .clone()
    };
    assert!(advice("kind").is_string());
    assert!(advice("docker").is_null());

    fake_tool(bin.path(), "kind", "kind v0.31.0 go1.25.5 linux/amd64");
    let json = test.run(&["doctor", "--json"]).json();
    assert!(
        json["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .all(|t| t["advice"].is_null())
    );
}

/// The real binaries built from Go modules are listed with the versions they print; a family
/// whose build did not finish (no `.built` stamp) counts as not built, with the command that
/// builds it.
#[test]
fn the_real_control_plane_binaries_are_listed_with_their_versions() {
    let cache = tempfile::tempdir().expect("dir");
    let pins = std::fs::read_to_string(crate::repo_root().join("gobuild/pins.env")).expect("pins");
    let pin = |key: &str| {
        pins.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .expect("pinned")
            .to_string()
    };
    let etcd_dir = cache.path().join(format!("etcd-{}", pin("ETCD_VERSION")));
    std::fs::create_dir_all(&etcd_dir).expect("mkdir");
    fake_tool(&etcd_dir, "etcd", "etcd Version: 3.6.16");
    fake_tool(&etcd_dir, "etcdutl", "etcdutl version: 3.6.16");
    fake_tool(&etcd_dir, "etcdctl", "etcdctl version: 3.6.16");
    std::fs::write(etcd_dir.join(".built"), "stamp").expect("stamp");
    // Half a Kubernetes build: binaries without the stamp.
    let k8s_dir = cache
        .path()
        .join(format!("kubernetes-{}", pin("K8S_VERSION")));
    std::fs::create_dir_all(&k8s_dir).expect("mkdir");
    fake_tool(&k8s_dir, "kube-apiserver", "Kubernetes v1.35.4");

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
