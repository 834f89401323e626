use clap::Args;

use crate::error::{ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and rebuild a healthy node (the sandbox is rebuilt from scratch).
#[derive(Debug, Args)]
pub struct ResetArgs {}

pub fn run(ui: &mut Ui, _args: ResetArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    Session::clear(&home);
    let node = SandboxNode::create(&home)?;
    node.start_agent()?;
    let backend = crate::engine::backend::Backend::Sandbox(node);
    super::runtime()?.block_on(super::start::wait_healthy(&backend))?;
    ui.line(format!(
        "The sandbox node is rebuilt and healthy: {}",
        backend.layout().root
    ))?;
    Ok(ExitStatus::Success)
}
