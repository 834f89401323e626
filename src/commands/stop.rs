use clap::Args;

use crate::error::{ExitStatus, Result};
use crate::home::Home;
use crate::session::Session;
use crate::ui::Ui;

/// End the lab in progress and stop the sandbox node's processes (etcd, containerd, the agent).
/// On kind the cluster stays up, with what the lab changed put back.
#[derive(Debug, Args)]
pub struct StopArgs {}

pub fn run(ui: &mut Ui, _args: StopArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let session = Session::load(&home);
    let (kind, target) = Session::node_of(session.as_ref());
    let mut done = super::runtime()?.block_on(crate::backend::stop(&home, kind, target))?;
    // Exam nodes no exam owns (an interrupted pre-flight's) stop too.
    if crate::exam::ExamState::load(&home).is_none() {
        let orphans = crate::backend::remove_task_nodes(&home);
        if orphans > 0 {
            done = format!("{done} Stopped {orphans} exam node(s) no exam was using.");
        }
    }
    Session::clear(&home);
    ui.line(if session.is_some() {
        format!("Ended the lab and {done}")
    } else {
        let mut chars = done.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    })?;
    Ok(ExitStatus::Success)
}
