use std::time::Duration;

use clap::Args;

use super::start::wait_healthy;
use crate::engine::backend::Backend;
use crate::engine::changes::Changes;
use crate::error::{ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and make the node healthy again: the files the lab's setup changed
/// are put back and the node restarted; a node still unhealthy after that is rebuilt.
#[derive(Debug, Args)]
pub struct ResetArgs {}

pub fn run(ui: &mut Ui, _args: ResetArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    Session::clear(&home);
    let rt = super::runtime()?;
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
