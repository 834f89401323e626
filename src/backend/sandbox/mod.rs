//! The sandbox backend: a kubeadm-shaped node under `$CKALAB_HOME/sandbox/<node>/`, with a real
//! PKI, the real etcd and containerd, and models of the kubelet and the API server, run by one
//! background node agent per node.

mod addons;
pub mod agent;
pub mod container_log;
pub mod etcdctl;
pub mod files;
pub mod journal;
mod kubeadm;
pub mod pods;
mod probe;
mod provisioner;
pub mod shell;
pub mod state;
pub mod workers;

mod backend;
mod node;
mod node_path;
mod node_status;
pub mod node_view;

pub use backend::SandboxBackend;
pub use node::{SandboxError, SandboxNode, ckalab_process_alive, stop_agent_at};
