//! The node's files kubeadm does not write: containerd's and crictl's configs. Paths inside
//! are node paths: the node's `/` is its directory.

/// The node's address: everything listens on loopback so sandboxes never leave the machine.
pub const NODE_IP: &str = "127.0.0.1";

pub const CONTAINERD_SOCKET: &str = "/run/containerd/containerd.sock";

/// containerd's config: version 2 like kind's, at the node's real paths (containerd runs in
/// the node's view).
pub fn containerd_config() -> String {
    format!(
        r#"version = 2
root = "/var/lib/containerd"
state = "/run/containerd"

[grpc]
  address = "{CONTAINERD_SOCKET}"

[ttrpc]
  address = "{CONTAINERD_SOCKET}.ttrpc"

[debug]
  address = ""

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.10"
"#
    )
}

/// crictl's own config, as kind nodes have it.
pub fn crictl_config() -> String {
    format!("runtime-endpoint: unix://{CONTAINERD_SOCKET}\n")
}
