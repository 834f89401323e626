use clap::Args;

use super::{current_lab, open_store};
use crate::error::{ExitStatus, Result};
use crate::ui::Ui;

/// Show the next hint for the lab in progress (hints are counted in your record).
#[derive(Debug, Args)]
pub struct HintArgs {}

pub fn run(ui: &mut Ui, _args: HintArgs) -> Result<ExitStatus> {
    let (home, catalog, mut session, backend) = current_lab()?;
    let lab = super::find_lab(&catalog, &session.lab_id)?;
    let index = session.hints_shown as usize;
    let Some(hint) = lab.hints.get(index) else {
        ui.line(format!(
            "No more hints: all {} are shown. `ckalab solution` shows the fix.",
            lab.hints.len()
        ))?;
        return Ok(ExitStatus::Success);
    };
    open_store()?.count_hint(session.attempt_id)?;
    session.hints_shown += 1;
    session.save(&home)?;
    let text = backend
        .layout()
        .render(hint)
        .unwrap_or_else(|_| hint.clone());
    ui.line(ui.bold(format!("Hint {} of {}", index + 1, lab.hints.len())))?;
    ui.line(text.trim())?;
    Ok(ExitStatus::Success)
}
