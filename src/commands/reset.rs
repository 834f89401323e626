use clap::Args;

use crate::error::{ExitStatus, Result};
use crate::home::Home;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and make the node healthy again: what the lab's setup changed is
/// put back and the node restarted; a sandbox node still unhealthy after that is rebuilt.
#[derive(Debug, Args)]
pub struct ResetArgs {}

pub fn run(ui: &mut Ui, _args: ResetArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let session = Session::load(&home);
    let (kind, target) = Session::node_of(session.as_ref());
    let reset = super::runtime()?.block_on(crate::backend::reset(&home, kind, target))?;
    // Only now: a reset that failed leaves the lab in progress, so the next reset tries the
    // same node again instead of building a sandbox one.
    Session::clear(&home);
    if let Some(reason) = &reset.rebuilt {
        ui.line(ui.dim(format!("({reason}: rebuilding the node from scratch)")))?;
    } else {
        ui.line(format!(
            "Put back {} the lab had changed and restarted the node.",
            reset.restored
        ))?;
    }
    ui.line(format!("The {} is healthy.", reset.backend.describe()))?;
    Ok(ExitStatus::Success)
}
