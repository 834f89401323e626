//! What the engine can ask of a node. One enum, so steps and checks are written once; each
//! backend implements the primitives its own way (files on disk and the node agent for the
//! sandbox; `docker exec` and the kube API for kind).

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::{BackendKind, NodeLayout};
use crate::sandbox::SandboxNode;
use crate::sandbox::etcdctl::Etcdctl;
use crate::sandbox::state::{NodeState, UnitAction};

pub enum Backend {
    Sandbox(SandboxNode),
}

/// A primitive that failed, in words for the learner or lab author.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

impl BackendError {
    fn io(node_path: &str, err: &std::io::Error) -> BackendError {
        let what = match err.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            _ => err.to_string(),
        };
        BackendError(format!("{node_path}: {what}"))
    }
}

impl Backend {
    pub fn kind(&self) -> BackendKind {
        match self {
            Backend::Sandbox(_) => BackendKind::Sandbox,
        }
    }

    pub fn layout(&self) -> NodeLayout {
        match self {
            Backend::Sandbox(node) => node.layout(),
        }
    }

    /// Where a node path is on this machine (sandbox only; kind paths live in the container).
    pub fn host_path(&self, node_path: &str) -> PathBuf {
        match self {
            Backend::Sandbox(node) => node.path(node_path),
        }
    }

    pub fn read(&self, node_path: &str) -> Result<String, BackendError> {
        std::fs::read_to_string(self.host_path(node_path))
            .map_err(|e| BackendError::io(node_path, &e))
    }

    pub fn read_bytes(&self, node_path: &str) -> Result<Vec<u8>, BackendError> {
        std::fs::read(self.host_path(node_path)).map_err(|e| BackendError::io(node_path, &e))
    }

    pub fn write(&self, node_path: &str, text: &str) -> Result<(), BackendError> {
        self.write_bytes(node_path, text.as_bytes())
    }

    pub fn write_bytes(&self, node_path: &str, bytes: &[u8]) -> Result<(), BackendError> {
        crate::sandbox::state::write_atomic(&self.host_path(node_path), bytes)
            .map_err(|e| BackendError::io(node_path, &e))
    }

    pub fn copy(&self, from: &str, to: &str) -> Result<(), BackendError> {
        let target = self.host_path(to);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BackendError::io(to, &e))?;
        }
        std::fs::copy(self.host_path(from), target)
            .map(drop)
            .map_err(|e| BackendError::io(from, &e))
    }

    pub fn rename(&self, from: &str, to: &str) -> Result<(), BackendError> {
        let target = self.host_path(to);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| BackendError::io(to, &e))?;
        }
        std::fs::rename(self.host_path(from), target).map_err(|e| BackendError::io(from, &e))
    }

    pub fn remove(&self, node_path: &str) -> Result<(), BackendError> {
        let path = self.host_path(node_path);
        let result = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match result {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(BackendError::io(node_path, &e))
            }
            _ => Ok(()),
        }
    }

    /// Starts, stops or restarts a systemd unit, or restarts a static pod's container.
    pub fn unit(&self, name: &str, action: UnitAction) -> Result<(), BackendError> {
        match self {
            Backend::Sandbox(node) if crate::sandbox::state::UNITS.contains(&name) => node
                .unit(name, action)
                .map_err(|e| BackendError(e.to_string())),
            Backend::Sandbox(node) => {
                if action != UnitAction::Restart {
                    return Err(BackendError(format!(
                        "{name} is a static pod: only restart applies (move its manifest away to stop it)"
                    )));
                }
                node.restart_pod(name)
                    .map_err(|e| BackendError(e.to_string()))
            }
        }
    }

    /// The node's etcd as the API server reaches it.
    pub fn etcd(&self) -> Etcdctl {
        match self {
            Backend::Sandbox(node) => Etcdctl::for_node(node.root(), node.ports().etcd_client),
        }
    }

    /// The node agent's view, or why there is none.
    pub fn node_state(&self) -> Result<NodeState, BackendError> {
        match self {
            Backend::Sandbox(node) => node.state().ok_or_else(|| {
                BackendError(
                    "the sandbox node is not running (run `ckalab start <lab>` again)".into(),
                )
            }),
        }
    }

    /// Runs an argv on the node (the sandbox: in the node directory, with the shell's env).
    pub async fn run(&self, argv: &[String]) -> Result<std::process::Output, BackendError> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| BackendError("an empty command".into()))?;
        match self {
            Backend::Sandbox(node) => {
                let mut cmd = tokio::process::Command::new(program);
                cmd.args(args)
                    .current_dir(node.root())
                    .envs(node.shell_env())
                    .kill_on_drop(true);
                match tokio::time::timeout(Duration::from_secs(60), cmd.output()).await {
                    Ok(Ok(output)) => Ok(output),
                    Ok(Err(e)) => Err(BackendError(format!("{program}: {e}"))),
                    Err(_) => Err(BackendError(format!(
                        "{program} did not finish within 60 s"
                    ))),
                }
            }
        }
    }
}
