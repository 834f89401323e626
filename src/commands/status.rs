use clap::Args;

use super::current_lab;
use crate::clock::human_duration;
use crate::error::{ExitStatus, Result};
use crate::ui::Ui;

/// Show the lab in progress: backend, elapsed time, the task and the node's directory.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &mut Ui, args: StatusArgs) -> Result<ExitStatus> {
    let (_, catalog, session, backend) = current_lab()?;
    let lab = super::find_lab(&catalog, &session.lab_id)?;
    let layout = backend.layout();
    let task = layout.render(&lab.task).unwrap_or_default();
    let elapsed = session.elapsed(crate::clock::now());
    let agent_running = backend.is_running();
    if args.json {
        ui.json(&serde_json::json!({
            "lab": lab.id,
            "title": lab.title,
            "variant": session.variant,
            "backend": session.backend,
            "started_at": session.started_at.to_string(),
            "elapsed_seconds": elapsed,
            "passed": session.passed_at.is_some(),
            "hints_used": session.hints_shown,
            "solution_revealed": session.solution_revealed,
            "blind": session.blind,
            "task": if session.blind { lab.symptom.trim() } else { task.trim() },
            "node_root": layout.root,
            "node_running": agent_running,
        }))?;
        return Ok(ExitStatus::Success);
    }
    ui.line(ui.bold(format!("{} — {}", lab.id, lab.title)))?;
    let clock = if session.passed_at.is_some() {
        "passed in"
    } else {
        "running for"
    };
    ui.line(format!(
        "{} backend · {clock} {} · {} hints used",
        session.backend,
        human_duration(elapsed),
        session.hints_shown
    ))?;
    ui.line(format!(
        "node: {}{}",
        layout.root,
        if agent_running { "" } else { " (stopped)" }
    ))?;
    ui.line("")?;
    ui.line(if session.blind {
        lab.symptom.trim()
    } else {
        task.trim()
    })?;
    Ok(ExitStatus::Success)
}
