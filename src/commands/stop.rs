use clap::Args;

use crate::catalog::BackendKind;
use crate::error::{ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and stop the sandbox node's processes (etcd, containerd, the agent).
#[derive(Debug, Args)]
pub struct StopArgs {}

pub fn run(ui: &mut Ui, _args: StopArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let session = Session::load(&home);
    Session::clear(&home);
    if session
        .as_ref()
        .is_some_and(|s| s.backend == BackendKind::Kind)
    {
        ui.line("Ended the lab. ckalab's kind cluster stays up: `ckalab reset` puts back what the lab changed, `ckalab cluster down` deletes the cluster.")?;
        return Ok(ExitStatus::Success);
    }
    let had_lab = session.is_some();
    match SandboxNode::open(&home) {
        Ok(node) => {
            node.stop_agent();
            ui.line(format!(
                "Stopped the sandbox node{}.",
                if had_lab { " and ended the lab" } else { "" }
            ))?;
        }
        Err(_) => ui.line("Nothing is running.")?,
    }
    Ok(ExitStatus::Success)
}
