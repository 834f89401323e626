use clap::Args;

use crate::catalog::BackendKind;
use crate::error::{ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and stop the sandbox node's processes (etcd, containerd, the agent).
/// On kind the cluster stays up, with the files the lab changed put back.
#[derive(Debug, Args)]
pub struct StopArgs {}

pub fn run(ui: &mut Ui, _args: StopArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let session = Session::load(&home);
    Session::clear(&home);
    if let Some(session) = session.as_ref().filter(|s| s.backend == BackendKind::Kind) {
        // A cluster left broken would surprise the learner's next kubectl.
        let put_back = super::open_backend(&home, BackendKind::Kind, Some(session))
            .and_then(|backend| super::reset::put_back_and_restart(&backend));
        ui.line(match put_back {
            Ok(count) => format!(
                "Ended the lab and put back {count} file(s) it had changed. ckalab's kind cluster stays up: `ckalab cluster down` deletes it."
            ),
            Err(e) => format!(
                "Ended the lab. The files it changed could not be put back ({e}); the next `ckalab start` on kind puts them back first."
            ),
        })?;
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
