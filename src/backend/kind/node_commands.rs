//! Every command the labs run inside a kind node, as argv (the part after `docker exec
//! <node>`). Kept in one place so the tests pin each one exactly.

/// The etcd client flags of a kubeadm control plane (etcd's own server certificate, as the
/// lessons teach).
const ETCD_TLS: [&str; 4] = [
    "--endpoints=https://127.0.0.1:2379",
    "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
    "--cert=/etc/kubernetes/pki/etcd/server.crt",
    "--key=/etc/kubernetes/pki/etcd/server.key",
];

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The node's etcdctl with the control plane's client TLS flags, then `args`.
fn etcdctl(args: &[&str]) -> Vec<String> {
    argv(&[&["etcdctl"][..], &ETCD_TLS, args].concat())
}

pub fn kubelet_version() -> Vec<String> {
    argv(&["kubelet", "--version"])
}

pub fn is_dir(path: &str) -> Vec<String> {
    argv(&["test", "-d", path])
}

pub fn make_dir(path: &str) -> Vec<String> {
    argv(&["mkdir", "-p", "--", path])
}

pub fn copy(from: &str, to: &str) -> Vec<String> {
    argv(&["cp", "-a", "--", from, to])
}

pub fn rename(from: &str, to: &str) -> Vec<String> {
    argv(&["mv", "--", from, to])
}

pub fn remove(path: &str) -> Vec<String> {
    argv(&["rm", "-rf", "--", path])
}

/// `systemctl <start|stop|restart> <unit>` through the node's systemd.
pub fn systemctl(action: &str, unit: &str) -> Vec<String> {
    argv(&["systemctl", action, unit])
}

/// A unit's state as `systemctl status` words it: `is-active` says only `activating` for a
/// unit in `auto-restart`, the crash loop a learner must recognise.
pub fn unit_state(unit: &str) -> Vec<String> {
    argv(&[
        "systemctl",
        "show",
        "-p",
        "ActiveState",
        "-p",
        "SubState",
        unit,
    ])
}

/// `active`/`running` from `systemctl show -p ActiveState -p SubState` output.
pub fn parse_unit_state(output: &str) -> Option<(String, String)> {
    let value = |key: &str| {
        output
            .lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix('='))
            .map(|v| v.trim().to_string())
    };
    Some((value("ActiveState")?, value("SubState")?))
}

/// CRI `Version` on an endpoint, as the kubelet validates its runtime.
pub fn crictl_version(endpoint: &str) -> Vec<String> {
    argv(&["crictl", "--runtime-endpoint", endpoint, "version"])
}

/// The ids of a static pod's running containers.
pub fn crictl_running(pod: &str) -> Vec<String> {
    argv(&["crictl", "ps", "--name", pod, "--state", "running", "-q"])
}

/// The ids of a static pod's containers, in any state (to restart it).
pub fn crictl_containers(pod: &str) -> Vec<String> {
    argv(&["crictl", "ps", "--name", pod, "-q"])
}

/// Stops a container; the kubelet starts a new one, as after a learner's `crictl stop`.
pub fn crictl_stop(id: &str) -> Vec<String> {
    argv(&["crictl", "stop", id])
}

pub fn etcd_health() -> Vec<String> {
    etcdctl(&["endpoint", "health"])
}

pub fn etcd_snapshot_save(to: &str) -> Vec<String> {
    etcdctl(&["snapshot", "save", to])
}

/// `etcdutl` (etcd 3.6) or `etcdctl` (3.4/3.5) `snapshot restore`: an offline file operation,
/// so no endpoint or certificates.
pub fn etcd_snapshot_restore(tool: &str, snapshot: &str, data_dir: &str) -> Vec<String> {
    argv(&[
        tool,
        "snapshot",
        "restore",
        snapshot,
        "--data-dir",
        data_dir,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::kind::node::{KindNode, Provider};

    /// Each in-node command with its full docker/podman command line.
    #[test]
    fn argv_of_every_node_command_the_labs_run() {
        let docker = KindNode::unverified(Provider::Docker, "ckalab-control-plane");
        let pinned = |argv: Vec<String>| docker.exec_argv(&argv).join(" ");
        let etcd_tls = "--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key";
        let cases = [
            (kubelet_version(), "kubelet --version".to_string()),
            (is_dir("/var/lib/etcd"), "test -d /var/lib/etcd".into()),
            (make_dir("/var/backups/etcd"), "mkdir -p -- /var/backups/etcd".into()),
            (copy("/a", "/b"), "cp -a -- /a /b".into()),
            (rename("/a", "/b"), "mv -- /a /b".into()),
            (remove("/var/lib/ckalab/originals"), "rm -rf -- /var/lib/ckalab/originals".into()),
            (
                unit_state("containerd"),
                "systemctl show -p ActiveState -p SubState containerd".into(),
            ),
            (systemctl("restart", "kubelet"), "systemctl restart kubelet".into()),
            (
                crictl_version("unix:///run/containerd/containerd.sock"),
                "crictl --runtime-endpoint unix:///run/containerd/containerd.sock version".into(),
            ),
            (crictl_running("etcd"), "crictl ps --name etcd --state running -q".into()),
            (crictl_containers("kube-apiserver"), "crictl ps --name kube-apiserver -q".into()),
            (crictl_stop("4f1c0e"), "crictl stop 4f1c0e".into()),
            (etcd_health(), format!("etcdctl {etcd_tls} endpoint health")),
            (
                etcd_snapshot_save("/var/backups/etcd/snapshot.db"),
                format!("etcdctl {etcd_tls} snapshot save /var/backups/etcd/snapshot.db"),
            ),
            (
                etcd_snapshot_restore("etcdutl", "/var/backups/etcd/snapshot.db", "/var/lib/etcd-restored"),
                "etcdutl snapshot restore /var/backups/etcd/snapshot.db --data-dir /var/lib/etcd-restored".into(),
            ),
        ];
        for (argv, inside) in cases {
            assert_eq!(
                pinned(argv),
                format!("docker exec ckalab-control-plane {inside}")
            );
        }
        // Commands reading standard input get `-i`.
        let podman = KindNode::unverified(Provider::Podman, "ckalab-control-plane");
        assert_eq!(
            podman.write_argv("/etc/kubernetes/admin.conf").join(" "),
            "podman exec -i ckalab-control-plane tee -- /etc/kubernetes/admin.conf"
        );
    }

    #[test]
    fn a_crash_looping_unit_reads_as_activating_auto_restart() {
        // systemd lists properties in its own order, not the order asked for.
        let looping = "SubState=auto-restart\nActiveState=activating\n";
        assert_eq!(
            parse_unit_state(looping),
            Some(("activating".into(), "auto-restart".into()))
        );
        assert_eq!(
            parse_unit_state("ActiveState=active\nSubState=running\n"),
            Some(("active".into(), "running".into()))
        );
        assert_eq!(parse_unit_state("Failed to connect to bus"), None);
    }
}
