use clap::Args;
use serde::Serialize;

use super::open_store;
use crate::catalog::Catalog;
use crate::clock::human_duration;
use crate::error::{ExitStatus, Result};
use crate::store::{AttemptRow, LabRecord, Totals};
use crate::ui::{Table, Ui};

/// What you have done so far: attempts, passes, best times.
#[derive(Debug, Args)]
pub struct ProgressArgs {
    /// Print JSON (the format is documented in the README).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct ProgressJson<'a> {
    database: String,
    totals: Totals,
    labs: Vec<LabProgress<'a>>,
    recent: Vec<AttemptRow>,
}

#[derive(Serialize)]
struct LabProgress<'a> {
    id: &'a str,
    #[serde(flatten)]
    record: LabRecord,
}

pub fn run(ui: &mut Ui, args: ProgressArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    let store = open_store()?;
    let records = store.lab_records()?;
    let totals = store.totals()?;
    let recent = store.recent_attempts(10)?;

    if args.json {
        let labs = catalog
            .labs()
            .iter()
            .map(|lab| LabProgress {
                id: &lab.id,
                record: records.get(&lab.id).cloned().unwrap_or_default(),
            })
            .collect();
        ui.json(&ProgressJson {
            database: store.path().display().to_string(),
            totals,
            labs,
            recent,
        })?;
        return Ok(ExitStatus::Success);
    }

    if totals.attempts == 0 && totals.quiz_answers == 0 {
        ui.line("No attempts yet. Pick a lab with `ckalab labs`, then `ckalab start <lab>`.")?;
        return Ok(ExitStatus::Success);
    }
    ui.line(format!(
        "{} of {} labs passed · {} attempts · {} exams · quiz {}/{} correct",
        totals.labs_passed,
        catalog.labs().len(),
        totals.attempts,
        totals.exams,
        totals.quiz_correct,
        totals.quiz_answers
    ))?;
    ui.line("")?;
    let mut table = Table::new(&["RECENT", "LAB", "BACKEND", "RESULT", "TIME", "HINTS"]);
    for attempt in &recent {
        let result = match attempt.result {
            Some(verdict) => verdict.as_str().to_string(),
            None => "in progress".to_string(),
        };
        let time = attempt.ended_at.map_or_else(
            || "-".to_string(),
            |end| human_duration(end.as_second() - attempt.started_at.as_second()),
        );
        table.row(vec![
            attempt.started_at.strftime("%Y-%m-%d %H:%M").to_string(),
            attempt.lab_id.clone(),
            attempt.backend.clone(),
            result,
            time,
            attempt.hints_used.to_string(),
        ]);
    }
    ui.table(&table)?;
    Ok(ExitStatus::Success)
}
