use std::time::Duration;

use clap::Args;

use super::start::wait_healthy;
use crate::catalog::BackendKind;
use crate::engine::backend::Backend;
use crate::engine::changes::Changes;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::sandbox::state::UnitAction;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and make the node healthy again: the files the lab's setup changed
/// are put back and the node restarted; a node still unhealthy after that is rebuilt.
#[derive(Debug, Args)]
pub struct ResetArgs {}

pub fn run(ui: &mut Ui, _args: ResetArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let session = Session::load(&home);
    Session::clear(&home);
    let rt = super::runtime()?;
    if let Some(session) = session.filter(|s| s.backend == BackendKind::Kind) {
        return reset_kind(ui, &home, &rt, &session);
    }
    let restored = match SandboxNode::open(&home) {
        Ok(node) => restore_and_restart(&rt, node),
        Err(_) => Err("no node exists yet".to_string()),
    };
    let backend = match restored {
        Ok((backend, count)) => {
            ui.line(format!(
                "Put back {count} file(s) the lab had changed and restarted the node."
            ))?;
            backend
        }
        Err(reason) => {
            ui.line(ui.dim(format!("({reason}: rebuilding the node from scratch)")))?;
            let node = SandboxNode::create(&home)?;
            node.start_agent()?;
            let backend = Backend::Sandbox(node);
            rt.block_on(wait_healthy(&backend, Duration::from_secs(60)))?;
            backend
        }
    };
    ui.line(format!(
        "The sandbox node is healthy: {}",
        backend.layout().root
    ))?;
    Ok(ExitStatus::Success)
}

/// On kind the cluster stays: the lab's files go back, containerd and the kubelet restart (the
/// kubelet recreates changed static pods), and the control plane must be healthy again.
fn reset_kind(
    ui: &mut Ui,
    home: &Home,
    rt: &tokio::runtime::Runtime,
    session: &Session,
) -> Result<ExitStatus> {
    let backend = super::open_backend(home, BackendKind::Kind, Some(session))?;
    let count = put_back_on_kind(&backend)?;
    // Even with nothing to put back: a unit the learner stopped comes back too.
    restart_runtime_and_kubelet(&backend)?;
    rt.block_on(wait_healthy(&backend, Duration::from_secs(180)))?;
    ui.line(format!(
        "Put back {count} file(s) the lab had changed; ckalab's kind cluster is healthy."
    ))?;
    Ok(ExitStatus::Success)
}

/// Puts back the files a lab's setup changed on the kind node; returns how many.
fn put_back_on_kind(backend: &Backend) -> Result<usize> {
    Changes::load(backend)
        .restore(backend)
        .map_err(|reason| Error::System(format!("cannot put back the lab's files: {reason}")))
}

/// Puts back the files a lab's setup changed on the kind node and, when there were any,
/// restarts containerd and the kubelet so both read them. Returns how many went back.
pub(super) fn put_back_and_restart(backend: &Backend) -> Result<usize> {
    let count = put_back_on_kind(backend)?;
    if count > 0 {
        restart_runtime_and_kubelet(backend)?;
    }
    Ok(count)
}

/// Restarts containerd and the kubelet so both read their files again (the kubelet also
/// recreates the static pods whose manifests changed).
fn restart_runtime_and_kubelet(backend: &Backend) -> Result<()> {
    for unit in ["containerd", "kubelet"] {
        backend
            .unit(unit, UnitAction::Restart)
            .map_err(|e| Error::System(e.to_string()))?;
    }
    Ok(())
}

/// Stops the node, restores what setup recorded, starts it again and waits until it is healthy.
fn restore_and_restart(
    rt: &tokio::runtime::Runtime,
    node: SandboxNode,
) -> std::result::Result<(Backend, usize), String> {
    node.stop_agent();
    let backend = Backend::Sandbox(node.clone());
    let count = Changes::load(&backend).restore(&backend)?;
    node.start_agent().map_err(|e| e.to_string())?;
    // Changes the learner made beyond what setup recorded may keep it broken: then rebuild.
    rt.block_on(wait_healthy(&backend, Duration::from_secs(20)))
        .map_err(|e| format!("the node is still not healthy after restoring ({e})"))?;
    Ok((backend, count))
}
