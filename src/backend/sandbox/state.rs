//! What the node agent publishes about the node (`var/lib/ckalab/state.json`), and the requests
//! `systemctl` and steps leave for it (`var/lib/ckalab/units/<unit>`). Files, not sockets: any
//! process can read them, and a dead agent leaves its last word behind.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::engine::node::{UNITS, UnitAction};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeState {
    /// The agent's pid; 0 before the first write.
    pub agent_pid: u32,
    pub units: BTreeMap<String, UnitState>,
    pub pods: BTreeMap<String, PodState>,
    pub node_ready: bool,
    /// Why the node is not Ready, in the kubelet's words.
    pub node_reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitState {
    /// `active`, `activating`, `inactive` or `failed`, as `systemctl is-active` says.
    pub active: String,
    /// `running`, `auto-restart`, `dead`: systemd's sub-state.
    pub sub: String,
    pub pid: u32,
    /// RFC 3339 time of the last state change.
    pub since: String,
    /// The last request generation the agent has acted on.
    pub generation: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PodState {
    pub container_id: String,
    /// How many times the container was started (0 for the first run), like crictl's ATTEMPT.
    pub attempt: u32,
    /// `Running` or `Exited`, as `crictl ps -a` shows.
    pub state: String,
    pub exit_code: Option<i32>,
    /// The process id of a container that is a real process (etcd), else 0.
    pub pid: u32,
    pub started_at: String,
    /// The node path of the container's current log file.
    pub log: String,
    /// Started and passing its readiness probe, as the mirror pod's Ready condition shows.
    #[serde(default)]
    pub ready: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRequest {
    pub action: UnitAction,
    pub generation: u64,
}

/// The agent's files inside a node directory.
#[derive(Debug, Clone)]
pub struct StateFiles {
    dir: PathBuf,
}

impl StateFiles {
    pub fn new(root: &Path) -> StateFiles {
        StateFiles {
            dir: root.join("var/lib/ckalab"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    pub fn pid_path(&self) -> PathBuf {
        self.dir.join("agent.pid")
    }

    /// A request to restart a static pod's container; the agent removes it when done.
    pub fn pod_restart_path(&self, pod: &str) -> PathBuf {
        self.dir.join("pods").join(format!("{pod}.restart"))
    }

    /// Present while a unit is disabled: the agent does not start it when the node boots.
    fn disabled_path(&self, unit: &str) -> PathBuf {
        self.dir.join("units").join(format!("{unit}.disabled"))
    }

    /// Whether a unit starts at boot (`systemctl is-enabled`).
    pub fn is_enabled(&self, unit: &str) -> bool {
        !self.disabled_path(unit).exists()
    }

    /// `systemctl enable` / `disable`.
    pub fn set_enabled(&self, unit: &str, enabled: bool) -> io::Result<()> {
        let path = self.disabled_path(unit);
        if enabled {
            match std::fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            }
        } else {
            write_atomic(&path, b"disabled\n")
        }
    }

    fn request_path(&self, unit: &str) -> PathBuf {
        self.dir.join("units").join(unit)
    }

    pub fn read_state(&self) -> Option<NodeState> {
        read_json(&self.state_path())
    }

    pub fn write_state(&self, state: &NodeState) -> io::Result<()> {
        write_json(&self.state_path(), state)
    }

    pub fn read_request(&self, unit: &str) -> Option<UnitRequest> {
        read_json(&self.request_path(unit))
    }

    /// Leaves a request for the agent and returns its generation.
    pub fn request(&self, unit: &str, action: UnitAction) -> io::Result<u64> {
        let generation = self.read_request(unit).map_or(1, |r| r.generation + 1);
        let request = UnitRequest { action, generation };
        write_atomic(
            &self.request_path(unit),
            &serde_json::to_vec(&request).map_err(io::Error::other)?,
        )?;
        Ok(generation)
    }
}

pub use crate::atomic_file::{read_json, write_atomic, write_json};
