//! The sandbox node as the engine sees it: files under the node directory, units and static
//! pods through the node agent, the real containerd and etcd, and the API server through
//! ckalab's admin kubeconfig.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::SandboxNode;
use super::etcdctl::{Etcdctl, EtcdctlError};
use super::node_path::{self, Last};
use super::node_view;
use super::state::NodeState;
use crate::catalog::{BackendKind, NodeLayout};
use crate::engine::cluster::Cluster;
use crate::engine::fault::Fault;
use crate::engine::node::{Node, PodStatus, UnitAction, UnitStatus};

pub struct SandboxBackend {
    node: SandboxNode,
    layout: NodeLayout,
    client: OnceCell<kube::Client>,
}

impl SandboxBackend {
    /// A command run as on the node: inside the node's view at the real paths (bubblewrap),
    /// with etcdctl and kubectl pointed at the node and its `systemctl`, `journalctl` and
    /// `crictl` first on PATH. Without bubblewrap, in the node directory with the host's paths.
    fn command_in_node(&self, program: &str, args: &[String]) -> std::process::Command {
        let root = self.node.root();
        let exe = std::env::current_exe().unwrap_or_default();
        let cache = crate::binaries::cache_root();
        // kubectl and kubeadm v1.35, etcdctl and etcdutl 3.6, helm, before this machine's own.
        let tools = crate::binaries::built_dirs(&["kubernetes", "etcd", "helm"]);
        let view = node_view::bwrap().filter(|_| node_view::prepare(root).is_ok());
        match view {
            Some(bwrap) => {
                let lent = node_view::Lent {
                    root,
                    exe: &exe,
                    binaries: &cache,
                };
                let tools: Vec<PathBuf> = tools
                    .iter()
                    .filter_map(|dir| dir.strip_prefix(&cache).ok())
                    .map(|family| Path::new(node_view::BINARIES).join(family))
                    .collect();
                let mut cmd = std::process::Command::new(bwrap);
                cmd.args(node_view::bwrap_args(
                    &lent,
                    "/root",
                    node_view::Lifetime::WithParent,
                ))
                .arg(program)
                .args(args)
                .env("HOME", "/root")
                .env("CKALAB_EXE", node_view::EXE)
                .envs(self.node.shell_env(Path::new("/"), &tools));
                cmd
            }
            None => {
                let mut cmd = std::process::Command::new(program);
                cmd.args(args)
                    .current_dir(root)
                    .envs(self.node.shell_env(root, &tools));
                cmd
            }
        }
    }

    pub fn new(node: SandboxNode) -> SandboxBackend {
        SandboxBackend {
            layout: node.layout(),
            node,
            client: OnceCell::new(),
        }
    }

    pub fn node(&self) -> &SandboxNode {
        &self.node
    }

    /// The node agent's view, or why ckalab cannot look.
    fn state(&self) -> Result<NodeState, Fault> {
        self.node.state().ok_or_else(|| {
            Fault::grader("the sandbox node is not running (`ckalab reset` starts it again)")
        })
    }

    /// A node path on this machine, resolved as the node's processes see it (never outside the
    /// node); the node directory itself gone is the grader's problem.
    fn path_at(&self, node_path: &str, last: Last) -> Result<std::path::PathBuf, Fault> {
        if !self.node.root().is_dir() {
            return Err(Fault::grader(format!(
                "the sandbox node {} is gone (`ckalab reset` builds a new one)",
                self.node.root().display()
            )));
        }
        node_path::resolve(self.node.root(), node_path, last).map_err(Fault::cluster)
    }

    fn path(&self, node_path: &str) -> Result<std::path::PathBuf, Fault> {
        self.path_at(node_path, Last::Follow)
    }

    fn etcd(&self) -> Etcdctl {
        Etcdctl::for_node(self.node.root(), self.node.ports().etcd_client)
    }

    /// Runs a blocking wait on the node agent off the async threads.
    async fn agent<T: Send + 'static>(
        &self,
        wait: impl FnOnce(SandboxNode) -> Result<T, super::SandboxError> + Send + 'static,
    ) -> Result<T, Fault> {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || wait(node))
            .await
            .map_err(|e| Fault::grader(e.to_string()))?
            .map_err(|e| Fault::grader(e.to_string()))
    }
}

fn io_fault(path: &str, err: &std::io::Error) -> Fault {
    match err.kind() {
        std::io::ErrorKind::NotFound => {
            Fault::cluster(format!("{path}: no such file or directory"))
        }
        _ => Fault::cluster(format!("{path}: {err}")),
    }
}

fn etcd_fault(err: EtcdctlError) -> Fault {
    match err {
        EtcdctlError::Missing(_) => Fault::grader(err.to_string()),
        EtcdctlError::Failed(_) => Fault::cluster(err.to_string()),
    }
}

fn make_parent(path: &std::path::Path, node_path: &str) -> Result<(), Fault> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|e| io_fault(node_path, &e)),
        None => Ok(()),
    }
}

#[async_trait]
impl Node for SandboxBackend {
    async fn read(&self, path: &str) -> Result<Vec<u8>, Fault> {
        std::fs::read(self.path(path)?).map_err(|e| io_fault(path, &e))
    }

    async fn write(&self, path: &str, bytes: &[u8]) -> Result<(), Fault> {
        super::state::write_atomic(&self.path(path)?, bytes).map_err(|e| io_fault(path, &e))
    }

    async fn is_dir(&self, path: &str) -> Result<bool, Fault> {
        Ok(self.path(path)?.is_dir())
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), Fault> {
        let target = self.path(to)?;
        make_parent(&target, to)?;
        std::fs::copy(self.path(from)?, target)
            .map(drop)
            .map_err(|e| io_fault(from, &e))
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), Fault> {
        let target = self.path_at(to, Last::Keep)?;
        make_parent(&target, to)?;
        std::fs::rename(self.path_at(from, Last::Keep)?, target).map_err(|e| io_fault(from, &e))
    }

    async fn remove(&self, path: &str) -> Result<(), Fault> {
        let host = self.path_at(path, Last::Keep)?;
        let is_dir = std::fs::symlink_metadata(&host).is_ok_and(|m| m.is_dir());
        let result = if is_dir {
            std::fs::remove_dir_all(&host)
        } else {
            std::fs::remove_file(&host)
        };
        match result {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_fault(path, &e)),
            _ => Ok(()),
        }
    }

    async fn exec(&self, argv: &[String], timeout: Duration) -> Result<Output, Fault> {
        let (program, args) = argv
            .split_first()
            .ok_or_else(|| Fault::grader("an empty command"))?;
        self.path("/")?;
        let mut cmd = tokio::process::Command::from(self.command_in_node(program, args));
        cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
        match tokio::time::timeout(timeout, cmd.output()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(Fault::grader(format!("{program} is not installed")))
            }
            Ok(Err(e)) => Err(Fault::grader(format!("{program}: {e}"))),
            Err(_) => Err(Fault::cluster(format!(
                "{program} did not finish within {} s",
                timeout.as_secs()
            ))),
        }
    }

    async fn unit_status(&self, unit: &str) -> Result<UnitStatus, Fault> {
        match self.state()?.units.get(unit) {
            Some(u) => Ok(UnitStatus {
                active: u.active.clone(),
                sub: u.sub.clone(),
            }),
            None => Err(Fault::grader(format!("the node has no unit named {unit}"))),
        }
    }

    async fn unit(&self, unit: &str, action: UnitAction) -> Result<(), Fault> {
        let unit = unit.to_string();
        self.agent(move |node| node.unit(&unit, action)).await
    }

    async fn static_pod(&self, name: &str) -> Result<PodStatus, Fault> {
        Ok(match self.state()?.pods.get(name) {
            Some(p) if p.state == "Running" => PodStatus::Running(format!(
                "container {}, attempt {}",
                p.container_id, p.attempt
            )),
            Some(p) => PodStatus::Stopped(format!(
                "{name} exited with code {} (attempt {}): `crictl logs {}` tells why",
                p.exit_code.unwrap_or_default(),
                p.attempt,
                p.container_id
            )),
            None => PodStatus::Absent,
        })
    }

    async fn restart_static_pod(&self, name: &str) -> Result<(), Fault> {
        let name = name.to_string();
        self.agent(move |node| node.restart_pod(&name)).await
    }

    async fn cri_version(&self, endpoint: &str) -> Result<String, Fault> {
        let socket =
            crate::cri::socket_path(endpoint).map_err(|e| Fault::cluster(e.to_string()))?;
        let host_socket = self.path(&socket.to_string_lossy())?;
        let version = crate::cri::version(&host_socket, endpoint)
            .await
            .map_err(|e| Fault::cluster(e.to_string()))?;
        Ok(format!(
            "{} {}, API {}",
            version.runtime_name, version.runtime_version, version.runtime_api_version
        ))
    }

    async fn etcd_health(&self) -> Result<String, Fault> {
        let etcd = self.etcd();
        etcd.health().await.map_err(etcd_fault)?;
        Ok(format!("{} is healthy", etcd.endpoints))
    }

    async fn etcd_snapshot_save(&self, to: &str) -> Result<(), Fault> {
        let host = self.path(to)?;
        make_parent(&host, to)?;
        self.etcd().snapshot_save(&host).await.map_err(etcd_fault)
    }

    async fn etcd_snapshot_restore(&self, snapshot: &str, data_dir: &str) -> Result<(), Fault> {
        super::etcdctl::snapshot_restore(&self.path(snapshot)?, &self.path(data_dir)?)
            .await
            .map_err(etcd_fault)
    }

    fn shell(&self, command: Option<&str>) -> (std::process::Command, String) {
        let mut cmd = match command {
            Some(command) => self.command_in_node("bash", &["-c".to_string(), command.to_string()]),
            None => {
                let mut cmd = self.command_in_node("bash", &["--norc".to_string()]);
                cmd.env("PS1", format!("root@{}:\\w# ", self.layout.node_name));
                cmd
            }
        };
        cmd.stdin(std::process::Stdio::inherit());
        let banner = match node_view::bwrap() {
            Some(_) => format!(
                "Shell on the sandbox node {} (its files are at their real paths here: /etc/kubernetes, /var/lib/etcd, ...; exit to leave).",
                self.node.root().display()
            ),
            None => format!(
                "Shell on the sandbox node {} (exit to leave). bubblewrap is not installed, so absolute paths are this machine's: use paths relative to the node (etc/kubernetes/...), or install it (sudo apt-get install -y bubblewrap) for the real paths.",
                self.node.root().display()
            ),
        };
        (cmd, banner)
    }

    fn is_running(&self) -> bool {
        self.node.state().is_some()
    }
}

#[async_trait]
impl Cluster for SandboxBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Sandbox
    }

    fn describe(&self) -> String {
        format!("sandbox node {}", self.node.root().display())
    }

    fn layout(&self) -> &NodeLayout {
        &self.layout
    }

    async fn client(&self) -> Result<kube::Client, Fault> {
        let admin = self.path("/etc/kubernetes/admin.conf")?;
        self.client
            .get_or_try_init(|| async {
                crate::engine::api::client(crate::engine::api::grader_config(&admin, None).await?)
            })
            .await
            .cloned()
    }
}
