//! The backends behind the engine's `Node` and `Cluster`, and their lifecycle: open a node,
//! prepare one for a lab, reset it, stop it. This is the one place that matches on which
//! backend is in use; the engine and the commands see `dyn Backend`.

pub mod kind;
pub mod sandbox;

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::BackendKind;
use crate::engine::cluster::{Backend, ClusterTarget};
use crate::engine::fault::Fault;
use crate::engine::node::UnitAction;
use crate::engine::run::wait_healthy;
use crate::engine::undo::UndoLog;
use crate::error::{Error, Result};
use crate::home::Home;
use kind::backend::KindBackend;
use sandbox::{SandboxBackend, SandboxNode};

/// How long a node may take to become healthy: a fresh sandbox node, a restarted one, and a
/// kind control plane whose static pods the kubelet recreates.
const SANDBOX_HEALTHY: Duration = Duration::from_secs(90);
const SANDBOX_RESTARTED: Duration = Duration::from_secs(45);
const KIND_HEALTHY: Duration = Duration::from_secs(180);

/// The node of an existing backend: the sandbox node directory, or the control plane of
/// ckalab's kind cluster (its label and kube context verified before anything runs in it):
/// `target`'s cluster when a lab keeps one, else the cluster ckalab created last.
pub fn open(
    home: &Home,
    kind: BackendKind,
    target: Option<&ClusterTarget>,
) -> Result<Box<dyn Backend>> {
    Ok(match kind {
        BackendKind::Sandbox => Box::new(SandboxBackend::new(SandboxNode::open(home)?)),
        BackendKind::Kind => Box::new(open_kind(home, target)?),
    })
}

fn open_kind(home: &Home, target: Option<&ClusterTarget>) -> Result<KindBackend> {
    let backend = match target {
        Some(target) => KindBackend::open(
            &kind::cluster::Cluster::new(home, &target.cluster),
            Some(target.versions),
        ),
        None => KindBackend::open(&kind_cluster(home), None),
    };
    backend.map_err(Error::Cluster)
}

/// ckalab's kind cluster in use: the one it created most recently (`cluster up --name`), else
/// the default `ckalab`.
pub fn kind_cluster(home: &Home) -> kind::cluster::Cluster {
    let name = recorded_cluster(home).unwrap_or_else(|| kind::cli::DEFAULT_CLUSTER.into());
    kind::cluster::Cluster::new(home, &name)
}

/// The kind cluster the store says ckalab created most recently. Only an existing store is
/// opened: asking creates nothing.
pub fn recorded_cluster(home: &Home) -> Option<String> {
    if !home.database().exists() {
        return None;
    }
    let store = crate::store::Store::open(&home.database()).ok()?;
    Some(store.newest_cluster().ok()??.name)
}

/// Whether ckalab's kind cluster is up (no kind, no docker and no cluster all mean no).
pub fn kind_is_up(home: &Home) -> (bool, String) {
    let cluster = kind_cluster(home);
    (cluster.exists().unwrap_or(false), cluster.name)
}

/// A node ready for a lab's setup. On the sandbox, a fresh node (at `dir`, else the learner's
/// node directory), started and healthy; on kind, ckalab's cluster with what an earlier lab
/// changed put back, healthy. `progress` hears each slow phase.
pub async fn prepare(
    home: &Home,
    kind: BackendKind,
    dir: Option<PathBuf>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Box<dyn Backend>> {
    match kind {
        BackendKind::Sandbox => {
            progress("building the sandbox node: PKI, manifests, containerd and kubelet config");
            let backend = build_sandbox(dir.unwrap_or_else(|| SandboxNode::dir(home))).await?;
            progress("starting containerd, the kubelet, etcd and the API server");
            boot_sandbox(&backend).await?;
            Ok(Box::new(backend))
        }
        BackendKind::Kind => {
            progress("checking ckalab's kind cluster");
            let backend = open_kind(home, None)?;
            // An earlier lab's changes go first, so breaks never stack up.
            progress("putting back what an earlier lab changed");
            put_back(&backend, false).await?;
            progress("waiting for a healthy control plane");
            healthy(&backend, KIND_HEALTHY).await?;
            Ok(Box::new(backend))
        }
    }
}

/// A sandbox node's files at `dir` (PKI, manifests, containerd and kubelet config), nothing
/// started yet.
pub async fn build_sandbox(dir: PathBuf) -> Result<SandboxBackend> {
    let node = blocking(move || SandboxNode::create_at(dir)).await??;
    Ok(SandboxBackend::new(node))
}

/// Starts a node `build_sandbox` built, and waits until it is healthy.
pub async fn boot_sandbox(backend: &SandboxBackend) -> Result<()> {
    let node = backend.node().clone();
    blocking(move || node.start_agent()).await??;
    healthy(backend, SANDBOX_HEALTHY).await
}

/// How much an undo put back.
#[derive(Debug, Default, Clone, Copy)]
pub struct Restored {
    pub files: usize,
    pub objects: usize,
}

impl std::fmt::Display for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} file(s) and {} object(s)", self.files, self.objects)
    }
}

/// What `reset` did.
pub struct Reset {
    pub backend: Box<dyn Backend>,
    /// Files and objects put back.
    pub restored: Restored,
    /// Why the node had to be rebuilt instead, if it had.
    pub rebuilt: Option<String>,
}

/// Puts back everything the lab's setup changed and makes the node healthy again. A sandbox
/// node still unhealthy after that (the learner broke more than setup did) is rebuilt; a kind
/// cluster is never rebuilt behind the learner's back.
pub async fn reset(
    home: &Home,
    kind: BackendKind,
    target: Option<&ClusterTarget>,
) -> Result<Reset> {
    match kind {
        BackendKind::Kind => {
            let backend = open_kind(home, target)?;
            // Even with nothing to put back: a unit the learner stopped comes back too.
            let restored = put_back(&backend, true).await?;
            Ok(Reset {
                backend: Box::new(backend),
                restored,
                rebuilt: None,
            })
        }
        BackendKind::Sandbox => {
            let restarted = match SandboxNode::open(home) {
                // A running node is mended in place, as a kind node is: much quicker than
                // starting the whole control plane again.
                Ok(node) if node.agent_pid().is_some() => {
                    let backend = SandboxBackend::new(node);
                    match put_back(&backend, true).await {
                        Ok(restored) => Ok((backend, restored)),
                        Err(e) => Err(e.to_string()),
                    }
                }
                Ok(node) => restart_sandbox(node).await,
                Err(_) => Err("no node exists yet".to_string()),
            };
            match restarted {
                Ok((backend, restored)) => Ok(Reset {
                    backend: Box::new(backend),
                    restored,
                    rebuilt: None,
                }),
                Err(reason) => Ok(Reset {
                    backend: prepare(home, kind, None, &|_| {}).await?,
                    restored: Restored::default(),
                    rebuilt: Some(reason),
                }),
            }
        }
    }
}

/// A stopped node: restores what setup recorded, starts it again and waits until it is
/// healthy; the reason when it is not.
async fn restart_sandbox(
    node: SandboxNode,
) -> std::result::Result<(SandboxBackend, Restored), String> {
    let stopped = node.clone();
    blocking(move || stopped.stop_agent())
        .await
        .map_err(|e| e.to_string())?;
    let backend = SandboxBackend::new(node.clone());
    let mut undo = UndoLog::load(&backend).await;
    let files = undo
        .restore_files(&backend)
        .await
        .map_err(|e| e.to_string())?;
    blocking(move || node.start_agent())
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    // Changes the learner made beyond what setup recorded may keep it broken: then rebuild.
    wait_healthy(&backend, SANDBOX_RESTARTED)
        .await
        .map_err(|failing| {
            format!(
                "the node is still not healthy after restoring ({}: {})",
                failing.name, failing.message
            )
        })?;
    let objects = undo
        .restore_objects(&backend)
        .await
        .map_err(|e| e.to_string())?;
    Ok((backend, Restored { files, objects }))
}

/// On a node that stays up (kind, or a running sandbox node): the lab's files go back,
/// containerd and the kubelet restart (the kubelet recreates changed static pods; `always`
/// restarts them even with nothing to put back), the control plane must be healthy again, then
/// the lab's objects go back.
pub async fn put_back(backend: &dyn Backend, always: bool) -> Result<Restored> {
    let cannot = |fault: Fault| {
        Error::System(format!(
            "cannot put back what the lab changed: {fault}\nhint: `ckalab reset` tries again; `ckalab cluster status` shows the cluster"
        ))
    };
    let mut undo = UndoLog::load(backend).await;
    let files = undo.restore_files(backend).await.map_err(cannot)?;
    let restart = files > 0 || always;
    if restart {
        for unit in ["containerd", "kubelet"] {
            crate::engine::node::Node::unit(backend, unit, UnitAction::Restart)
                .await
                .map_err(cannot)?;
        }
    }
    // Objects go back through the API server, and restarted units must come back: both need a
    // healthy control plane. With neither, nothing changed and there is nothing to wait for.
    if restart || !undo.is_empty() {
        let timeout = match backend.kind() {
            BackendKind::Sandbox => SANDBOX_RESTARTED,
            BackendKind::Kind => KIND_HEALTHY,
        };
        healthy(backend, timeout).await?;
    }
    let objects = undo.restore_objects(backend).await.map_err(cannot)?;
    Ok(Restored { files, objects })
}

/// Ends the lab on its node. The sandbox node stops; on kind the cluster stays up with what the
/// lab changed put back (a cluster left broken would surprise the learner's next kubectl).
/// Returns what was done, in the learner's words.
pub async fn stop(
    home: &Home,
    kind: BackendKind,
    target: Option<&ClusterTarget>,
) -> Result<String> {
    match kind {
        BackendKind::Kind => {
            let put_back = match open_kind(home, target) {
                Ok(backend) => put_back(&backend, false).await,
                Err(e) => Err(e),
            };
            Ok(match put_back {
                Ok(restored) => format!(
                    "put back {restored} it had changed. ckalab's kind cluster stays up: `ckalab cluster down` deletes it."
                ),
                Err(e) => format!(
                    "its changes could not be put back ({e}); the next `ckalab start` on kind puts them back first."
                ),
            })
        }
        // By its folder, not its files: a node whose folder was deleted under it still stops.
        BackendKind::Sandbox => {
            let dir = SandboxNode::dir(home);
            match blocking(move || sandbox::stop_agent_at(&dir)).await? {
                true => Ok("stopped the sandbox node.".into()),
                false => Ok("nothing was running.".into()),
            }
        }
    }
}

/// Whether an exam's tasks share one node (kind: ckalab's one cluster), so tasks whose breaks
/// block each other must not be drawn together. On the sandbox every task has its own node,
/// as every CKA task has its own host.
pub fn shares_nodes(kind: BackendKind) -> bool {
    kind == BackendKind::Kind
}

/// On the sandbox, the directory of exam cluster `cluster`'s control-plane node.
pub fn task_node_dir(home: &Home, cluster: u32) -> PathBuf {
    home.sandbox_dir().join(format!("exam-{cluster}"))
}

/// The control-plane node of exam cluster `cluster`.
pub fn open_task(home: &Home, kind: BackendKind, cluster: u32) -> Result<Box<dyn Backend>> {
    match kind {
        BackendKind::Sandbox => Ok(Box::new(SandboxBackend::new(SandboxNode::open_at(
            task_node_dir(home, cluster),
        )?))),
        BackendKind::Kind => open(home, kind, None),
    }
}

/// After an exam nothing may change its result: sandbox task nodes are stopped and removed;
/// on kind what the tasks changed is put back, as `reset` does.
pub async fn free_task_nodes(home: &Home, kind: BackendKind) {
    match kind {
        BackendKind::Sandbox => {
            let home = home.clone();
            let _ = blocking(move || remove_task_nodes(&home)).await;
        }
        BackendKind::Kind => {
            if let Ok(backend) = open_kind(home, None) {
                let _ = put_back(&backend, false).await;
            }
        }
    }
}

/// Stops and removes every sandbox exam node (`sandbox/exam-N`), an interrupted pre-flight's
/// included. Returns how many were running.
pub fn remove_task_nodes(home: &Home) -> usize {
    let Ok(entries) = std::fs::read_dir(home.sandbox_dir()) else {
        return 0;
    };
    let mut running = 0;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("exam-") {
            running += usize::from(discard(entry.path()));
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    running
}

/// Stops a sandbox node that belongs to no lab any more (a task that failed pre-flight, or one
/// an interrupted pre-flight left half built). Returns whether anything was running.
pub fn discard(dir: PathBuf) -> bool {
    sandbox::stop_agent_at(&dir)
}

/// Waits until the node is healthy; the check still failing at the deadline otherwise.
pub async fn healthy(backend: &dyn Backend, timeout: Duration) -> Result<()> {
    wait_healthy(backend, timeout).await.map_err(|failing| Error::Unhealthy {
        node: backend.describe(),
        reason: format!("{}: {}", failing.name, failing.message),
        hint: match backend.kind() {
            BackendKind::Sandbox => "`ckalab doctor` checks the tools; `ckalab reset` rebuilds the node",
            BackendKind::Kind => "`ckalab cluster status` shows its nodes; `ckalab cluster down` then `up` rebuilds it",
        },
    })
}

/// Runs blocking node work (the agent's waits, process starts) off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::System(format!("a node task failed: {e}")))
}
