//! ckalab's kind cluster as the engine sees it. Node actions go through `docker exec` on the
//! verified control-plane container (argv only, each with a timeout, run off the async
//! threads); the API through the kube crate with ckalab's own context.

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::cluster::{Cluster as KindCluster, ClusterError};
use super::external::{self, ExternalError};
use super::node::KindNode;
use super::node_commands;
use crate::catalog::{BackendKind, NodeLayout};
use crate::engine::cluster::{Cluster, ClusterTarget, Versions};
use crate::engine::fault::Fault;
use crate::engine::node::{Node, PodStatus, UnitAction, UnitStatus};

/// ckalab's kind cluster, ready for the engine.
pub struct KindBackend {
    node: KindNode,
    cluster: String,
    kubeconfig: PathBuf,
    versions: Versions,
    layout: NodeLayout,
    client: OnceCell<kube::Client>,
}

/// Reads the versions off the node: `kubelet --version` and the etcd manifest's image tag.
fn read_versions(node: &KindNode) -> Result<Versions, ClusterError> {
    let kubelet = node.run(&node_commands::kubelet_version())?;
    let etcd_manifest = node.read("/etc/kubernetes/manifests/etcd.yaml")?;
    Ok(Versions {
        kubernetes_minor: parse_minor(&kubelet).unwrap_or(35),
        etcd_minor: super::cluster::etcd_image(&etcd_manifest)
            .as_deref()
            .and_then(etcd_minor)
            .unwrap_or(6),
    })
}

impl KindBackend {
    /// Verifies the control-plane container carries ckalab's label and that ckalab's kube
    /// context leads to it (before anything runs in it), and reads the versions that decide
    /// which files and tools the labs name, unless they are `known` from an earlier command.
    pub fn open(
        cluster: &KindCluster,
        known: Option<Versions>,
    ) -> Result<KindBackend, ClusterError> {
        let node = cluster.owned_control_plane()?;
        let versions = match known {
            Some(versions) => versions,
            None => read_versions(&node)?,
        };
        Ok(KindBackend {
            node,
            cluster: cluster.name.clone(),
            kubeconfig: PathBuf::from(cluster.kubeconfig_path()),
            versions,
            layout: NodeLayout::kind_versions(
                &cluster.name,
                versions.kubernetes_minor,
                versions.etcd_minor,
            ),
            client: OnceCell::new(),
        })
    }

    /// Runs a node command off the async threads.
    async fn on_node<T: Send + 'static>(
        &self,
        action: impl FnOnce(&KindNode) -> Result<T, ExternalError> + Send + 'static,
    ) -> Result<T, Fault> {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || action(&node))
            .await
            .map_err(|e| Fault::grader(e.to_string()))?
            .map_err(fault)
    }

    async fn run(&self, argv: Vec<String>) -> Result<String, Fault> {
        self.on_node(move |node| node.run(&argv)).await
    }

    async fn make_parent(&self, path: &str) -> Result<(), Fault> {
        match path.rsplit_once('/') {
            Some((parent, _)) if !parent.is_empty() => {
                self.run(node_commands::make_dir(parent)).await.map(drop)
            }
            _ => Ok(()),
        }
    }
}

/// A node command that failed. The container or its engine gone, or a command that hangs, is
/// ckalab unable to look; a command that ran and failed is the node's answer.
fn fault(err: ExternalError) -> Fault {
    match &err {
        ExternalError::Missing { .. } | ExternalError::TimedOut { .. } => {
            Fault::grader(err.to_string())
        }
        ExternalError::Failed { output, .. }
            if output.contains("No such container")
                || output.contains("is not running")
                || output.contains("Cannot connect to the Docker daemon") =>
        {
            Fault::grader(err.to_string())
        }
        ExternalError::Failed { output, .. } => Fault::cluster(output.clone()),
    }
}

#[async_trait]
impl Node for KindBackend {
    async fn read(&self, path: &str) -> Result<Vec<u8>, Fault> {
        let path = path.to_string();
        self.on_node(move |node| node.read_bytes(&path)).await
    }

    async fn write(&self, path: &str, bytes: &[u8]) -> Result<(), Fault> {
        self.make_parent(path).await?;
        let (path, bytes) = (path.to_string(), bytes.to_vec());
        self.on_node(move |node| node.write(&path, &bytes)).await
    }

    async fn is_dir(&self, path: &str) -> Result<bool, Fault> {
        let argv = node_commands::is_dir(path);
        match self.on_node(move |node| node.run(&argv)).await {
            Ok(_) => Ok(true),
            Err(Fault::Cluster(_)) => Ok(false),
            Err(grader) => Err(grader),
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), Fault> {
        self.make_parent(to).await?;
        self.run(node_commands::copy(from, to)).await.map(drop)
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), Fault> {
        self.make_parent(to).await?;
        self.run(node_commands::rename(from, to)).await.map(drop)
    }

    async fn remove(&self, path: &str) -> Result<(), Fault> {
        self.run(node_commands::remove(path)).await.map(drop)
    }

    async fn exec(&self, argv: &[String], timeout: Duration) -> Result<Output, Fault> {
        let full = self.node.exec_argv(argv);
        let mut cmd = tokio::process::Command::new(&full[0]);
        cmd.args(&full[1..])
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        match tokio::time::timeout(timeout, cmd.output()).await {
            Ok(Ok(output)) => Ok(output),
            Ok(Err(e)) => Err(Fault::grader(format!("{}: {e}", full[0]))),
            Err(_) => Err(Fault::grader(format!(
                "`{}` did not finish within {} s",
                external::command_line(&full),
                timeout.as_secs()
            ))),
        }
    }

    async fn unit_status(&self, unit: &str) -> Result<UnitStatus, Fault> {
        let out = self.run(node_commands::unit_state(unit)).await?;
        match node_commands::parse_unit_state(&out) {
            Some((active, sub)) => Ok(UnitStatus { active, sub }),
            None => Err(Fault::grader(format!(
                "cannot read {unit}'s state from systemctl: {}",
                out.trim()
            ))),
        }
    }

    async fn unit(&self, unit: &str, action: UnitAction) -> Result<(), Fault> {
        self.run(node_commands::systemctl(action.verb(), unit))
            .await
            .map(drop)
            .map_err(|e| e.context(format!("on {}", self.node.container())))
    }

    async fn static_pod(&self, name: &str) -> Result<PodStatus, Fault> {
        let running = self.run(node_commands::crictl_running(name)).await?;
        if !running.trim().is_empty() {
            return Ok(PodStatus::Running(format!("container {}", running.trim())));
        }
        let any = self.run(node_commands::crictl_containers(name)).await?;
        Ok(if any.trim().is_empty() {
            PodStatus::Absent
        } else {
            PodStatus::Stopped(format!(
                "no running {name} container: `crictl ps -a --name {name}` and `crictl logs` tell why"
            ))
        })
    }

    async fn restart_static_pod(&self, name: &str) -> Result<(), Fault> {
        // As a learner would: stop the container; the kubelet starts a new one.
        let ids = self.run(node_commands::crictl_containers(name)).await?;
        for id in ids.split_whitespace() {
            self.run(node_commands::crictl_stop(id)).await?;
        }
        Ok(())
    }

    async fn cri_version(&self, endpoint: &str) -> Result<String, Fault> {
        let out = self.run(node_commands::crictl_version(endpoint)).await?;
        Ok(out.lines().last().unwrap_or_default().trim().to_string())
    }

    async fn etcd_health(&self) -> Result<String, Fault> {
        self.run(node_commands::etcd_health())
            .await
            .map(|out| out.trim().to_string())
    }

    async fn etcd_snapshot_save(&self, to: &str) -> Result<(), Fault> {
        self.make_parent(to).await?;
        self.run(node_commands::etcd_snapshot_save(to))
            .await
            .map(drop)
    }

    async fn etcd_snapshot_restore(&self, snapshot: &str, data_dir: &str) -> Result<(), Fault> {
        self.run(node_commands::etcd_snapshot_restore(
            &self.layout.etcd_restore_tool,
            snapshot,
            data_dir,
        ))
        .await
        .map(drop)
    }

    fn shell(&self, command: Option<&str>) -> (std::process::Command, String) {
        let argv = match command {
            Some(command) => self.node.exec_argv(&["bash", "-c", command]),
            None => self.node.interactive_argv(&["bash"]),
        };
        let mut cmd = std::process::Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        let banner = format!(
            "Shell on the kind node {} (exit to leave).",
            self.node.container()
        );
        (cmd, banner)
    }

    // Opening the backend verified the container.
    fn is_running(&self) -> bool {
        true
    }
}

#[async_trait]
impl Cluster for KindBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Kind
    }

    fn layout(&self) -> &NodeLayout {
        &self.layout
    }

    fn describe(&self) -> String {
        format!("kind node {}", self.layout.node_name)
    }

    fn target(&self) -> Option<ClusterTarget> {
        Some(ClusterTarget {
            cluster: self.cluster.clone(),
            versions: self.versions,
        })
    }

    async fn client(&self) -> Result<kube::Client, Fault> {
        self.client
            .get_or_try_init(|| async {
                let context = Some(super::cli::context(&self.cluster));
                crate::engine::api::client(
                    crate::engine::api::grader_config(&self.kubeconfig, context).await?,
                )
            })
            .await
            .cloned()
    }
}

/// `Kubernetes v1.35.0` → 35.
fn parse_minor(kubelet_version: &str) -> Option<u32> {
    let version = kubelet_version
        .split_whitespace()
        .last()?
        .trim_start_matches('v');
    version.split('.').nth(1)?.parse().ok()
}

/// `registry.k8s.io/etcd:3.6.6-0` → 6.
fn etcd_minor(image: &str) -> Option<u32> {
    let tag = image.rsplit_once(':')?.1;
    tag.split('.').nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_the_node() {
        assert_eq!(parse_minor("Kubernetes v1.35.0"), Some(35));
        assert_eq!(parse_minor("Kubernetes v1.31.4"), Some(31));
        assert_eq!(etcd_minor("registry.k8s.io/etcd:3.6.6-0"), Some(6));
        assert_eq!(etcd_minor("registry.k8s.io/etcd:3.5.16-0"), Some(5));
        assert_eq!(parse_minor("garbage"), None);
    }
}
