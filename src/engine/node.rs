//! What the engine can ask of a node: its files, commands, units, static pods, container
//! runtime and etcd. Each backend implements it its own way (the sandbox: files under the node
//! directory and the node agent; kind: `docker exec` on the control-plane container). Paths are
//! node paths, as on a real kubeadm node (`/etc/kubernetes/...`).

use std::process::Output;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::fault::Fault;

/// A request to a unit: start, stop or restart it; or enable or disable it, which decides
/// whether it starts at boot and leaves it running or stopped as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnitAction {
    Start,
    Stop,
    Restart,
    Enable,
    Disable,
}

impl UnitAction {
    /// The `systemctl` verb.
    pub fn verb(self) -> &'static str {
        match self {
            UnitAction::Start => "start",
            UnitAction::Stop => "stop",
            UnitAction::Restart => "restart",
            UnitAction::Enable => "enable",
            UnitAction::Disable => "disable",
        }
    }
}

/// A systemd unit's state, as `systemctl show -p ActiveState -p SubState` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitStatus {
    /// `active`, `activating`, `inactive` or `failed`.
    pub active: String,
    /// `running`, `auto-restart`, `dead`, ...
    pub sub: String,
}

/// A static pod's container, as `crictl ps -a` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodStatus {
    /// Running; the words say which container.
    Running(String),
    /// Its container exists but is not running; the words say why and where to look.
    Stopped(String),
    /// There is no such pod on the node.
    Absent,
}

/// The units every node has, as `systemctl` knows them; other names are static pods.
pub const UNITS: [&str; 2] = ["containerd", "kubelet"];

/// How long a command run for a lab may take before it is stopped.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

#[async_trait]
pub trait Node: Send + Sync {
    /// A file's bytes.
    async fn read(&self, path: &str) -> Result<Vec<u8>, Fault>;
    /// Writes a file whole, creating its parent directories.
    async fn write(&self, path: &str, bytes: &[u8]) -> Result<(), Fault>;
    async fn is_dir(&self, path: &str) -> Result<bool, Fault>;
    /// Copies a file, creating the target's parent directories.
    async fn copy(&self, from: &str, to: &str) -> Result<(), Fault>;
    /// Moves a file or directory, creating the target's parent directories.
    async fn rename(&self, from: &str, to: &str) -> Result<(), Fault>;
    /// Removes a file or a directory tree; an absent path is fine.
    async fn remove(&self, path: &str) -> Result<(), Fault>;
    /// Runs an argv on the node (never a shell string), stopping it after `timeout`.
    async fn exec(&self, argv: &[String], timeout: Duration) -> Result<Output, Fault>;
    async fn unit_status(&self, unit: &str) -> Result<UnitStatus, Fault>;
    /// Starts, stops or restarts a unit and returns once it has acted.
    async fn unit(&self, unit: &str, action: UnitAction) -> Result<(), Fault>;
    async fn static_pod(&self, name: &str) -> Result<PodStatus, Fault>;
    /// Restarts a static pod's container, as `crictl stop` does (the kubelet starts a new one).
    async fn restart_static_pod(&self, name: &str) -> Result<(), Fault>;
    /// Calls CRI v1 `Version` on a runtime endpoint (`unix:///run/containerd/containerd.sock`)
    /// and describes the runtime that answered.
    async fn cri_version(&self, endpoint: &str) -> Result<String, Fault>;
    /// Asks etcd for its health through its client URL and certificates.
    async fn etcd_health(&self) -> Result<String, Fault>;
    /// Saves an etcd snapshot to a node path.
    async fn etcd_snapshot_save(&self, to: &str) -> Result<(), Fault>;
    /// Restores a snapshot into a new data directory with the tool the node's etcd needs.
    async fn etcd_snapshot_restore(&self, snapshot: &str, data_dir: &str) -> Result<(), Fault>;

    /// The learner's shell on the node, or one command in it, ready to run; and, for an
    /// interactive shell, the line that introduces it.
    fn shell(&self, command: Option<&str>) -> (std::process::Command, String);
    /// Whether the node's own processes run (a sandbox node can be stopped).
    fn is_running(&self) -> bool;

    /// A file as text.
    async fn read_text(&self, path: &str) -> Result<String, Fault> {
        String::from_utf8(self.read(path).await?)
            .map_err(|_| Fault::cluster(format!("{path}: not text")))
    }
}
