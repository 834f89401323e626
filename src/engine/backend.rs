//! What the engine can ask of a node. One enum, so steps and checks are written once; each
//! backend implements the primitives its own way (files on disk and the node agent for the
//! sandbox; `docker exec` and the kube API for kind).

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::{BackendKind, NodeLayout};
use crate::kind::backend::KindBackend;
use crate::kind::external::ExternalError;
use crate::kind::node_commands;
use crate::sandbox::SandboxNode;
use crate::sandbox::etcdctl::Etcdctl;
use crate::sandbox::state::{NodeState, UnitAction};

pub enum Backend {
    Sandbox(SandboxNode),
    Kind(Box<KindBackend>),
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

    fn external(node_path: &str, err: ExternalError) -> BackendError {
        BackendError(format!("{node_path}: {err}"))
    }
}

impl Backend {
    pub fn kind(&self) -> BackendKind {
        match self {
            Backend::Sandbox(_) => BackendKind::Sandbox,
            Backend::Kind(_) => BackendKind::Kind,
        }
    }

    pub fn layout(&self) -> NodeLayout {
        match self {
            Backend::Sandbox(node) => node.layout(),
            Backend::Kind(kind) => kind.layout.clone(),
        }
    }

    /// Where a node path is on this machine. On kind the path stays the container's own: only
    /// sandbox code (which knows its node is a directory) may use the result as a host path.
    pub fn host_path(&self, node_path: &str) -> PathBuf {
        match self {
            Backend::Sandbox(node) => node.path(node_path),
            Backend::Kind(_) => PathBuf::from(node_path),
        }
    }

    pub fn is_dir(&self, node_path: &str) -> bool {
        match self {
            Backend::Sandbox(node) => node.path(node_path).is_dir(),
            Backend::Kind(kind) => kind.node.run(&node_commands::is_dir(node_path)).is_ok(),
        }
    }

    pub fn read(&self, node_path: &str) -> Result<String, BackendError> {
        let bytes = self.read_bytes(node_path)?;
        String::from_utf8(bytes).map_err(|_| BackendError(format!("{node_path}: not text")))
    }

    pub fn read_bytes(&self, node_path: &str) -> Result<Vec<u8>, BackendError> {
        match self {
            Backend::Sandbox(node) => {
                std::fs::read(node.path(node_path)).map_err(|e| BackendError::io(node_path, &e))
            }
            Backend::Kind(kind) => kind
                .node
                .read_bytes(node_path)
                .map_err(|e| BackendError::external(node_path, e)),
        }
    }

    pub fn write(&self, node_path: &str, text: &str) -> Result<(), BackendError> {
        self.write_bytes(node_path, text.as_bytes())
    }

    pub fn write_bytes(&self, node_path: &str, bytes: &[u8]) -> Result<(), BackendError> {
        match self {
            Backend::Sandbox(node) => {
                crate::sandbox::state::write_atomic(&node.path(node_path), bytes)
                    .map_err(|e| BackendError::io(node_path, &e))
            }
            Backend::Kind(kind) => {
                self.make_parent(node_path)?;
                kind.node
                    .write(node_path, bytes)
                    .map_err(|e| BackendError::external(node_path, e))
            }
        }
    }

    pub fn copy(&self, from: &str, to: &str) -> Result<(), BackendError> {
        self.make_parent(to)?;
        match self {
            Backend::Sandbox(node) => std::fs::copy(node.path(from), node.path(to))
                .map(drop)
                .map_err(|e| BackendError::io(from, &e)),
            Backend::Kind(_) => self.kind_run(from, &node_commands::copy(from, to)),
        }
    }

    pub fn rename(&self, from: &str, to: &str) -> Result<(), BackendError> {
        self.make_parent(to)?;
        match self {
            Backend::Sandbox(node) => std::fs::rename(node.path(from), node.path(to))
                .map_err(|e| BackendError::io(from, &e)),
            Backend::Kind(_) => self.kind_run(from, &node_commands::rename(from, to)),
        }
    }

    /// Removes a file or a directory tree; an absent path is fine.
    pub fn remove(&self, node_path: &str) -> Result<(), BackendError> {
        match self {
            Backend::Sandbox(node) => {
                let path = node.path(node_path);
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
            Backend::Kind(_) => self.kind_run(node_path, &node_commands::remove(node_path)),
        }
    }

    fn make_parent(&self, node_path: &str) -> Result<(), BackendError> {
        let Some((parent, _)) = node_path.rsplit_once('/').filter(|(p, _)| !p.is_empty()) else {
            return Ok(());
        };
        match self {
            Backend::Sandbox(node) => {
                std::fs::create_dir_all(node.path(parent)).map_err(|e| BackendError::io(parent, &e))
            }
            Backend::Kind(_) => self.kind_run(parent, &node_commands::make_dir(parent)),
        }
    }

    /// Runs `argv` in the kind node (only called on kind).
    fn kind_run(&self, node_path: &str, argv: &[String]) -> Result<(), BackendError> {
        match self {
            Backend::Kind(kind) => kind
                .node
                .run(argv)
                .map(drop)
                .map_err(|e| BackendError::external(node_path, e)),
            Backend::Sandbox(_) => Err(BackendError("a kind node action on the sandbox".into())),
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
            Backend::Kind(kind) if crate::sandbox::state::UNITS.contains(&name) => {
                let verb = match action {
                    UnitAction::Start => "start",
                    UnitAction::Stop => "stop",
                    UnitAction::Restart => "restart",
                };
                self.kind_run(name, &node_commands::systemctl(verb, name))
                    .map_err(|e| BackendError(format!("{e} (on {})", kind.node.container())))
            }
            Backend::Kind(kind) => {
                if action != UnitAction::Restart {
                    return Err(BackendError(format!(
                        "{name} is a static pod: only restart applies (move its manifest away to stop it)"
                    )));
                }
                // As a learner would: stop the container; the kubelet starts a new one.
                let ids = kind
                    .node
                    .run(&node_commands::crictl_containers(name))
                    .map_err(|e| BackendError::external(name, e))?;
                ids.split_whitespace()
                    .try_for_each(|id| self.kind_run(name, &node_commands::crictl_stop(id)))
            }
        }
    }

    /// The sandbox node's etcd as the API server reaches it (on kind, etcd is reached through
    /// the node: see `KindBackend`).
    pub fn etcd(&self) -> Result<Etcdctl, BackendError> {
        match self {
            Backend::Sandbox(node) => Ok(Etcdctl::for_node(node.root(), node.ports().etcd_client)),
            Backend::Kind(_) => Err(BackendError(
                "on kind, etcd is reached with etcdctl inside the node".into(),
            )),
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
            Backend::Kind(_) => Err(BackendError(
                "a kind node is asked through docker exec and the API, not an agent".into(),
            )),
        }
    }

    /// Runs an argv on the node (the sandbox: in the node directory, with the shell's env).
    pub async fn run(&self, argv: &[String]) -> Result<std::process::Output, BackendError> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| BackendError("an empty command".into()))?;
        let mut cmd = match self {
            Backend::Sandbox(node) => {
                let mut cmd = tokio::process::Command::new(program);
                cmd.args(args)
                    .current_dir(node.root())
                    .envs(node.shell_env());
                cmd
            }
            Backend::Kind(kind) => {
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                let full = kind.node.exec_argv(&argv);
                let mut cmd = tokio::process::Command::new(&full[0]);
                cmd.args(&full[1..]);
                cmd
            }
        };
        cmd.kill_on_drop(true);
        match tokio::time::timeout(Duration::from_secs(60), cmd.output()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(e)) => Err(BackendError(format!("{program}: {e}"))),
            Err(_) => Err(BackendError(format!(
                "{program} did not finish within 60 s"
            ))),
        }
    }
}
