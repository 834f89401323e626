use clap::Args;

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
    let had_lab = Session::load(&home).is_some();
    Session::clear(&home);
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
