use clap::Args;

use super::{current_lab, open_store, runtime};
use crate::engine::steps::{describe, run_steps};
use crate::error::{ExitStatus, Result};
use crate::ui::Ui;

/// Show the canonical fix of the lab in progress. Your attempt is then marked as revealed.
#[derive(Debug, Args)]
pub struct SolutionArgs {
    /// Also apply the fix to the node (then `ckalab check` shows it passing).
    #[arg(long)]
    apply: bool,
}

pub fn run(ui: &mut Ui, args: SolutionArgs) -> Result<ExitStatus> {
    let (home, catalog, mut session, backend) = current_lab()?;
    let lab = super::find_lab(&catalog, &session.lab_id)?;
    let variant = session.variant.as_deref().and_then(|v| lab.variant(v));
    let steps = lab.solution_steps(variant);
    open_store()?.reveal_solution(session.attempt_id)?;
    session.solution_revealed = true;
    session.save(&home)?;

    let layout = backend.layout();
    if let Some(v) = variant {
        ui.line(format!("What was broken: {}", v.description))?;
    }
    ui.line(ui.bold("The fix"))?;
    for (i, step) in steps.iter().enumerate() {
        ui.line(format!("{}. {}", i + 1, describe(step, layout)))?;
    }
    ui.line(ui.dim(format!(
        "(paths are the node's, as `ckalab shell` shows them; on this machine the node's / is {})",
        layout.root
    )))?;
    if args.apply {
        runtime()?.block_on(run_steps(backend.as_ref(), &steps))?;
        ui.line("Applied. `ckalab check` grades it.")?;
    }
    Ok(ExitStatus::Success)
}
