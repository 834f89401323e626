use clap::Args;
use serde::Serialize;

use crate::catalog::Catalog;
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

/// Renders the lesson a topic names, or fails with the closest names.
pub fn render(ui: &mut Ui, catalog: &Catalog, topic: &str) -> Result<ExitStatus> {
    let lesson = super::find_lesson(catalog, topic)?;
    ui.markdown(&lesson.render(&super::layout_in_use()?))?;
    Ok(ExitStatus::Success)
}
