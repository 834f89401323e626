use clap::Args;
use serde::Serialize;

use super::{open_store, preview_layout};
use crate::catalog::{BackendKind, Catalog, Domain, Lab};
use crate::clock::human_duration;
use crate::error::{Error, ExitStatus, Result};
use crate::store::{LabRecord, Verdict};
use crate::suggest;
use crate::ui::{Table, Ui};

/// List the labs, with your status on each.
#[derive(Debug, Args)]
pub struct LabsArgs {
    /// Only labs of this CKA domain (troubleshooting, cluster-architecture,
    /// services-networking, workloads-scheduling, storage).
    #[arg(long)]
    domain: Option<String>,

    /// Print JSON (the format is documented in the README).
    #[arg(long)]
    json: bool,
}

/// A lab in `ckalab labs --json`.
#[derive(Serialize)]
struct LabEntry<'a> {
    id: &'a str,
    title: &'a str,
    domain: Domain,
    difficulty: u8,
    minutes: u32,
    backends: &'a [BackendKind],
    lesson: &'a str,
    symptom: &'a str,
    task: String,
    hints: usize,
    variants: Vec<&'a str>,
    status: Status,
    attempts: u32,
    passes: u32,
    best_seconds: Option<i64>,
}

/// The learner's standing on a lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    NeverTried,
    /// Started but never graded.
    Started,
    Passed,
    Failed,
}

impl Status {
    pub fn of(record: &LabRecord) -> Status {
        match (record.attempts, record.passes, record.last_result) {
            (0, _, _) => Status::NeverTried,
            (_, p, _) if p > 0 => Status::Passed,
            (_, _, Some(Verdict::Fail)) => Status::Failed,
            _ => Status::Started,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Status::NeverTried => "never tried",
            Status::Started => "started",
            Status::Passed => "passed",
            Status::Failed => "failed",
        }
    }
}

pub fn run(ui: &mut Ui, args: LabsArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    let domain = args.domain.as_deref().map(parse_domain).transpose()?;
    let records = open_store()?.lab_records()?;
    let labs: Vec<&Lab> = catalog
        .labs()
        .iter()
        .filter(|lab| domain.is_none_or(|d| lab.domain == d))
        .collect();

    if args.json {
        let layout = preview_layout()?;
        let entries: Vec<LabEntry> = labs
            .iter()
            .map(|lab| {
                let record = records.get(&lab.id).cloned().unwrap_or_default();
                LabEntry {
                    id: &lab.id,
                    title: &lab.title,
                    domain: lab.domain,
                    difficulty: lab.difficulty,
                    minutes: lab.minutes,
                    backends: &lab.backends,
                    lesson: &lab.lesson,
                    symptom: lab.symptom.trim(),
                    // The catalog rendered every task at load time, so this cannot fail.
                    task: layout
                        .render(&lab.task)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                    hints: lab.hints.len(),
                    variants: lab.variants.iter().map(|v| v.id.as_str()).collect(),
                    status: Status::of(&record),
                    attempts: record.attempts,
                    passes: record.passes,
                    best_seconds: record.best_seconds,
                }
            })
            .collect();
        ui.json(&serde_json::json!({ "labs": entries }))?;
        return Ok(ExitStatus::Success);
    }

    let mut table = Table::new(&[
        "LAB", "DOMAIN", "LEVEL", "MIN", "BACKENDS", "STATUS", "BEST",
    ]);
    for lab in &labs {
        let record = records.get(&lab.id).cloned().unwrap_or_default();
        let status = Status::of(&record);
        let status_text = match status {
            Status::Passed => ui.green(status.label()),
            Status::Failed => ui.red(status.label()),
            Status::Started => ui.yellow(status.label()),
            Status::NeverTried => ui.dim(status.label()),
        };
        table.row(vec![
            ui.bold(&lab.id),
            lab.domain.to_string(),
            format!(
                "{}{}",
                "●".repeat(lab.difficulty.into()),
                "○".repeat(5 - usize::from(lab.difficulty))
            ),
            lab.minutes.to_string(),
            lab.backends
                .iter()
                .map(|b| b.id())
                .collect::<Vec<_>>()
                .join(","),
            status_text,
            record
                .best_seconds
                .map_or_else(|| "-".to_string(), human_duration),
        ]);
    }
    ui.table(&table)?;
    ui.line("")?;
    ui.line(ui.dim("`ckalab show <lab>` reads a task; `ckalab start <lab>` starts it."))?;
    Ok(ExitStatus::Success)
}

fn parse_domain(name: &str) -> Result<Domain> {
    Domain::parse(name).ok_or_else(|| Error::UnknownDomain {
        name: name.to_string(),
        suggestions: suggest::closest(name, Domain::ALL.map(Domain::id)),
    })
}
