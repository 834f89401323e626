//! The node's files kubeadm does not write: containerd's, crictl's and the CNI's configs. Paths inside
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

/// Where the CNI configuration lives, and the file kind's kindnet writes there.
pub const CNI_CONFIG: &str = "/etc/cni/net.d/10-kindnet.conflist";

/// The CNI configuration kindnet writes on a kind node for the node's pod range (the
/// controlplane's is the first /24 of 10.244.0.0/16). The simulated workers need no CNI, and
/// the control plane's own pods use the host network: nothing on the node reads it, but it is
/// where a learner looks for the pod network's plugin.
pub fn cni_config() -> String {
    r#"{
	"cniVersion": "0.3.1",
	"name": "kindnet",
	"plugins": [
	{
		"type": "ptp",
		"ipMasq": false,
		"ipam": {
			"type": "host-local",
			"dataDir": "/run/cni-ipam-state",
			"routes": [ { "dst": "0.0.0.0/0" } ],
			"ranges": [ [ { "subnet": "10.244.0.0/24" } ] ]
		},
		"mtu": 1500
	},
	{
		"type": "portmap",
		"capabilities": {
			"portMappings": true
		}
	}
	]
}
"#
    .to_string()
}
