use clap::Args;
use serde::Serialize;

use crate::catalog::{Catalog, Domain};
use crate::error::{ExitStatus, Result};
use crate::ui::{Table, Ui};

/// List the lessons, or read one in the terminal.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// A lesson id or a component name (`etcd`, `apiserver`, `kubelet`, ...). Omit to list.
    topic: Option<String>,

    /// With no topic: print the lesson list as JSON.
    #[arg(long)]
    json: bool,

    /// Show the CKA curriculum's competencies, with the lessons and labs that cover each,
    /// and the gaps.
    #[arg(long, conflicts_with = "topic")]
    curriculum: bool,
}

#[derive(Serialize)]
struct LessonEntry<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    aliases: &'a [String],
    labs: &'a [String],
}

pub fn run(ui: &mut Ui, args: LearnArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    if args.curriculum {
        return curriculum(ui, &catalog, args.json);
    }
    match args.topic {
        Some(topic) => render(ui, &catalog, &topic),
        None if args.json => {
            let entries: Vec<LessonEntry> = catalog
                .lessons()
                .iter()
                .map(|l| LessonEntry {
                    id: &l.id,
                    title: &l.title,
                    summary: &l.summary,
                    aliases: &l.aliases,
                    labs: &l.practise_labs,
                })
                .collect();
            ui.json(&serde_json::json!({ "lessons": entries }))?;
            Ok(ExitStatus::Success)
        }
        None => {
            let mut table = Table::new(&["LESSON", "WHAT IT COVERS"]);
            for lesson in catalog.lessons() {
                table.row(vec![ui.bold(&lesson.id), lesson.summary.clone()]);
            }
            ui.table(&table)?;
            ui.line("")?;
            ui.line(ui.dim("Read one: `ckalab learn <lesson>` (component names work too: `ckalab explain apiserver`)."))?;
            Ok(ExitStatus::Success)
        }
    }
}

/// The curriculum map: per domain, each competency with its lessons and labs; one with no lab
/// yet is a gap.
fn curriculum(ui: &mut Ui, catalog: &Catalog, json: bool) -> Result<ExitStatus> {
    let map = catalog.curriculum();
    if json {
        ui.json(&serde_json::json!({
            "version": map.version,
            "competencies": map.competencies,
        }))?;
        return Ok(ExitStatus::Success);
    }
    let practised = map
        .competencies
        .iter()
        .filter(|c| !c.labs.is_empty())
        .count();
    ui.line(format!(
        "CKA curriculum {}: {} competencies, each taught by a lesson; {practised} practised by labs.",
        map.version,
        map.competencies.len()
    ))?;
    for domain in Domain::ALL {
        ui.line("")?;
        ui.line(ui.bold(format!("{domain} ({}%)", domain.exam_weight())))?;
        for competency in map.of(domain) {
            let labs = if competency.labs.is_empty() {
                ui.yellow("no lab yet")
            } else {
                competency.labs.join(", ")
            };
            ui.line(format!("  {}", competency.title))?;
            ui.line(ui.dim(format!(
                "    lessons: {}  ·  labs: {labs}",
                competency.lessons.join(", ")
            )))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// Renders the lesson a topic names, or fails with the closest names.
pub fn render(ui: &mut Ui, catalog: &Catalog, topic: &str) -> Result<ExitStatus> {
    let lesson = super::find_lesson(catalog, topic)?;
    ui.markdown(&lesson.render(&super::layout_in_use()?))?;
    Ok(ExitStatus::Success)
}
