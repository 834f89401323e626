use clap::Args;
use serde::Serialize;

use super::{find_lab, layout_in_use};
use crate::catalog::{BackendKind, Catalog, Domain, SANDBOX_LIMITS};
use crate::error::{ExitStatus, Result};
use crate::ui::Ui;

/// Show a lab's task, symptom and lesson without starting anything.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The lab's id (`ckalab labs` lists them).
    lab: String,

    /// Print JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ShowJson<'a> {
    id: &'a str,
    title: &'a str,
    domain: Domain,
    difficulty: u8,
    minutes: u32,
    backends: &'a [BackendKind],
    lesson: &'a str,
    symptom: &'a str,
    task: &'a str,
    hints: usize,
    /// Why the sandbox grades only the configuration, when it does.
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration_only: Option<&'a str>,
}

pub fn run(ui: &mut Ui, args: ShowArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    let lab = find_lab(&catalog, &args.lab)?;
    let task = layout_in_use()?.render(&lab.task).unwrap_or_default();
    let lesson = catalog
        .lesson(&lab.lesson)
        .map_or(lab.lesson.as_str(), |l| l.title.as_str());

    if args.json {
        ui.json(&ShowJson {
            id: &lab.id,
            title: &lab.title,
            domain: lab.domain,
            difficulty: lab.difficulty,
            minutes: lab.minutes,
            backends: &lab.backends,
            lesson: &lab.lesson,
            symptom: lab.symptom.trim(),
            task: task.trim(),
            hints: lab.hints.len(),
            configuration_only: lab.configuration_only.as_deref().map(str::trim),
        })?;
        return Ok(ExitStatus::Success);
    }

    ui.line(ui.bold(format!("{} — {}", lab.id, lab.title)))?;
    ui.line(ui.dim(format!(
        "{} · difficulty {}/5 · about {} minutes · runs on {}",
        lab.domain,
        lab.difficulty,
        lab.minutes,
        lab.backends.iter().map(|b| b.id()).collect::<Vec<_>>().join(" and ")
    )))?;
    if !lab.backends.contains(&BackendKind::Sandbox) {
        ui.line(ui.dim(format!("Runs on kind only: {SANDBOX_LIMITS}.")))?;
    }
    if let Some(why) = &lab.configuration_only
        && lab.backends.contains(&BackendKind::Sandbox)
    {
        ui.line(ui.dim(format!(
            "On the sandbox this lab grades configuration only, not behaviour: {}",
            why.trim()
        )))?;
    }
    ui.line("")?;
    ui.line(ui.bold("What you would see"))?;
    ui.line(lab.symptom.trim())?;
    ui.line("")?;
    ui.line(ui.bold("Task"))?;
    ui.line(task.trim())?;
    ui.line("")?;
    ui.line(format!("Lesson: {lesson} — `ckalab learn {}`", lab.lesson))?;
    ui.line(format!(
        "{} hints available once started. Start it: `ckalab start {}`",
        lab.hints.len(),
        lab.id
    ))?;
    Ok(ExitStatus::Success)
}
