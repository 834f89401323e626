//! The node's kubeadm files, made by kubeadm itself: `kubeadm init` with a ClusterConfiguration,
//! its phases that write files only (certs, kubeconfig, etcd, control-plane, kubelet-start), run
//! inside the node's view so it writes `/etc/kubernetes` and `/var/lib/kubelet` at their real
//! paths.
//!
//! Two things differ from a plain `kubeadm init`, both so that sandboxes stay on this machine
//! and never collide: every port is a free one (through the configuration and kubeadm's own
//! patches), and the node's address is 127.0.0.1. kubeadm refuses a loopback advertise
//! address, so it is given a documentation address (RFC 5737) that is then replaced, in the
//! manifests and kubeconfigs only; the certificates carry 127.0.0.1 through `certSANs` and the
//! etcd certificates' own localhost names. Keys are ECDSA P-256 (`encryptionAlgorithm`): RSA
//! keys would take seconds of every start.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::files::NODE_IP;
use super::node_view;
use crate::catalog::Ports;

/// The address kubeadm is given in place of 127.0.0.1 (TEST-NET-2: routed nowhere).
const STAND_IN: &str = "198.51.100.7";
/// The configuration, in the part of the node ckalab owns.
pub const CONFIG: &str = "/var/lib/ckalab/kubeadm.yaml";
const PATCHES: &str = "/var/lib/ckalab/kubeadm-patches";
/// The phases of `kubeadm init` skipped: what checks the machine, or needs a running control
/// plane (the node agent does their part: it registers and labels the Node). What remains
/// writes the files: certs, kubeconfig, etcd, control-plane and kubelet-start.
const SKIPPED: &str = "preflight,wait-control-plane,upload-config,upload-certs,\
                       mark-control-plane,bootstrap-token,kubelet-finalize,addon,show-join-command";
/// The files that name the node's address.
const ADDRESSED: [&str; 10] = [
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/super-admin.conf",
    "/etc/kubernetes/controller-manager.conf",
    "/etc/kubernetes/scheduler.conf",
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/manifests/etcd.yaml",
    "/etc/kubernetes/manifests/kube-apiserver.yaml",
    "/etc/kubernetes/manifests/kube-controller-manager.yaml",
    "/etc/kubernetes/manifests/kube-scheduler.yaml",
    "/var/lib/kubelet/kubeadm-flags.env",
];

/// Runs kubeadm's init for the node at `root`, listening on `ports`.
pub fn init(root: &Path, node_name: &str, ports: &Ports) -> Result<(), String> {
    let host = |node_path: &str| root.join(node_path.trim_start_matches('/'));
    let write = |node_path: &str, text: String| {
        let path = host(node_path);
        std::fs::create_dir_all(path.parent().unwrap_or(root))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| format!("{node_path}: {e}"))
    };
    write(CONFIG, config(node_name, ports))?;
    for (target, patch) in patches(ports) {
        write(&format!("{PATCHES}/{target}+json.json"), patch)?;
    }
    let kubeadm = kubeadm_in_view()?;
    let bwrap = node_view::bwrap().ok_or(
        "bubblewrap is not installed: kubeadm writes the node's files at their real paths \
         inside the node's own mount namespace (install it: sudo apt-get install -y bubblewrap)",
    )?;
    node_view::prepare(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find ckalab itself: {e}"))?;
    let cache = crate::binaries::cache_root();
    let lent = node_view::Lent {
        root,
        exe: &exe,
        binaries: &cache,
    };
    // One `kubeadm init`: each phase run on its own would pay kubeadm's start-up five times.
    let output = Command::new(&bwrap)
        .args(node_view::bwrap_args(
            &lent,
            "/root",
            node_view::Lifetime::WithParent,
        ))
        .arg(&kubeadm)
        .arg("init")
        .arg(format!("--config={CONFIG}"))
        .arg(format!("--skip-phases={SKIPPED}"))
        // No init system: kubelet-start writes the kubelet's files and starts nothing.
        .env_clear()
        .env("PATH", "/nonexistent")
        .env("HOME", "/root")
        .output()
        .map_err(|e| format!("cannot run bubblewrap: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "`kubeadm init` failed: {}{}",
            stderr.trim(),
            node_view::refused_hint(&stderr)
        ));
    }
    for file in ADDRESSED {
        let path = host(file);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
        std::fs::write(&path, text.replace(STAND_IN, NODE_IP))
            .map_err(|e| format!("{file}: {e}"))?;
    }
    Ok(())
}

/// kubeadm's path inside the view, once built.
fn kubeadm_in_view() -> Result<PathBuf, String> {
    let built = crate::binaries::find("kubeadm").ok_or_else(|| {
        format!(
            "kubeadm is not built: run `{}` (it builds the real Kubernetes binaries once)",
            crate::binaries::BUILD_COMMAND
        )
    })?;
    let relative = built
        .strip_prefix(crate::binaries::cache_root())
        .map_err(|_| format!("{} is outside the binary cache", built.display()))?;
    Ok(Path::new(node_view::BINARIES).join(relative))
}

/// The InitConfiguration and ClusterConfiguration a kubeadm user would write for this node.
fn config(node: &str, ports: &Ports) -> String {
    let Ports {
        apiserver,
        etcd_client: client,
        etcd_peer: peer,
        etcd_metrics: metrics,
        controller_manager,
        scheduler,
    } = *ports;
    let version = crate::binaries::pin("K8S_VERSION");
    // The image the manifest names is the etcd that runs (kubeadm's default is older).
    let etcd_tag = format!(
        "{}-0",
        crate::binaries::pin("ETCD_VERSION").trim_start_matches('v')
    );
    format!(
        r#"apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: {STAND_IN}
  bindPort: {apiserver}
nodeRegistration:
  name: {node}
  criSocket: unix:///var/run/containerd/containerd.sock
  kubeletExtraArgs:
  - name: node-ip
    value: {STAND_IN}
patches:
  directory: {PATCHES}
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: {version}
clusterName: kubernetes
encryptionAlgorithm: ECDSA-P256
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs: [localhost, {NODE_IP}, {node}]
  extraArgs:
  - name: etcd-servers
    value: https://{NODE_IP}:{client}
  - name: bind-address
    value: {NODE_IP}
  # The `kubernetes` Service cannot point at a loopback address: no endpoints for it.
  - name: endpoint-reconciler-type
    value: none
controllerManager:
  extraArgs:
  - name: secure-port
    value: "{controller_manager}"
scheduler:
  extraArgs:
  - name: secure-port
    value: "{scheduler}"
etcd:
  local:
    dataDir: /var/lib/etcd
    imageTag: {etcd_tag}
    extraArgs:
    - name: listen-client-urls
      value: https://{NODE_IP}:{client}
    - name: advertise-client-urls
      value: https://{NODE_IP}:{client}
    - name: listen-peer-urls
      value: https://{NODE_IP}:{peer}
    - name: initial-advertise-peer-urls
      value: https://{NODE_IP}:{peer}
    - name: initial-cluster
      value: {node}=https://{NODE_IP}:{peer}
    - name: listen-metrics-urls
      value: http://{NODE_IP}:{metrics}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
"#
    )
}

/// kubeadm's patches: the ports its manifests hold as constants (the probes' named port,
/// etcd's advertised client URL) follow the ports moved above.
fn patches(ports: &Ports) -> Vec<(&'static str, String)> {
    let probe_port = |port: u16| {
        format!(
            r#"[{{"op": "replace", "path": "/spec/containers/0/ports/0/containerPort", "value": {port}}}]"#
        )
    };
    vec![
        (
            "kube-controller-manager",
            probe_port(ports.controller_manager),
        ),
        ("kube-scheduler", probe_port(ports.scheduler)),
        (
            "etcd",
            format!(
                r#"[{{"op": "replace", "path": "/metadata/annotations/kubeadm.kubernetes.io~1etcd.advertise-client-urls", "value": "https://{NODE_IP}:{}"}}]"#,
                ports.etcd_client
            ),
        ),
    ]
}
