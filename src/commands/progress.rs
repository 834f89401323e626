use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use super::open_store;
use crate::catalog::{Catalog, Domain};
use crate::clock::human_duration;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::progress::{
    AttemptInfo, CompetencyProgress, ExamInfo, LabInfo, LessonInfo, Outcome, Progress,
    QuizAnswerInfo, bar, summarize,
};
use crate::store::{AttemptRow, LabRecord, Store, Totals, Verdict};
use crate::ui::{Table, Ui, printable};

/// What you have done and what to study next: mastery per CKA domain, recent attempts,
/// streak, exams, and the next labs and quiz topics.
#[derive(Debug, Args)]
pub struct ProgressArgs {
    /// Print JSON (the format is documented in the README).
    #[arg(long)]
    json: bool,

    /// Write your whole history to a JSON file (to move it to another machine).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["import", "reset"])]
    export: Option<PathBuf>,

    /// Merge a history written by `--export` into this one (rows already here are skipped).
    #[arg(long, value_name = "FILE", conflicts_with = "reset")]
    import: Option<PathBuf>,

    /// Delete your history, after saving a copy under $CKALAB_HOME/backups. Asks first.
    #[arg(long)]
    reset: bool,

    /// With --reset: do not ask.
    #[arg(long, requires = "reset")]
    yes: bool,
}

#[derive(Serialize)]
struct ProgressJson<'a> {
    database: String,
    totals: Totals,
    labs: Vec<LabProgress<'a>>,
    recent: Vec<AttemptRow>,
    #[serde(flatten)]
    mastery: Progress,
    curriculum: Vec<CompetencyProgress<'a>>,
}

#[derive(Serialize)]
struct LabProgress<'a> {
    id: &'a str,
    #[serde(flatten)]
    record: LabRecord,
}

pub fn run(ui: &mut Ui, args: ProgressArgs) -> Result<ExitStatus> {
    let mut store = open_store()?;
    if let Some(path) = &args.export {
        return export(ui, &store, path);
    }
    if let Some(path) = &args.import {
        return import(ui, &mut store, path);
    }
    if args.reset {
        return reset(ui, &mut store, args.yes);
    }
    let catalog = Catalog::load()?;
    let records = store.lab_records()?;
    let totals = store.totals()?;
    let recent = store.recent_attempts(10)?;
    let mastery = mastery(&catalog, &store)?;
    let passed: BTreeSet<&str> = records
        .iter()
        .filter(|(_, record)| record.passes > 0)
        .map(|(id, _)| id.as_str())
        .collect();
    let curriculum = crate::progress::competencies(catalog.curriculum(), &passed);

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
            mastery,
            curriculum,
        })?;
        return Ok(ExitStatus::Success);
    }

    if totals.attempts == 0 && totals.quiz_answers == 0 && totals.exams == 0 {
        ui.line("No attempts yet. Pick a lab with `ckalab labs`, then `ckalab start <lab>`; or test yourself with `ckalab quiz`.")?;
        return Ok(ExitStatus::Success);
    }
    ui.line(format!(
        "{} of {} labs passed · {} attempts · {} exams · quiz {}/{} correct · streak {} day{}",
        totals.labs_passed,
        catalog.labs().len(),
        totals.attempts,
        totals.exams,
        totals.quiz_correct,
        totals.quiz_answers,
        mastery.streak_days,
        if mastery.streak_days == 1 { "" } else { "s" }
    ))?;
    ui.line("")?;
    let mut table = Table::new(&["DOMAIN", "MASTERY", "LABS", "BEST TIME", "QUIZ"]);
    for domain in &mastery.domains {
        table.row(vec![
            format!("{} ({}%)", domain.domain, domain.weight),
            domain.mastery.map_or_else(
                || format!("{} -", bar(0, 10)),
                |m| format!("{} {m}%", bar(m, 10)),
            ),
            format!("{}/{}", domain.labs_mastered, domain.labs_total),
            domain
                .best_time_ratio
                .map_or("-".to_string(), |r| format!("{r:.1}× target")),
            match (domain.quiz_answered, domain.quiz_accuracy) {
                (0, _) | (_, None) => "-".to_string(),
                (n, Some(a)) => format!("{}/{n} ({:.0}%)", domain.quiz_correct, a * 100.0),
            },
        ]);
    }
    ui.table(&table)?;
    show_curriculum(ui, &curriculum)?;
    if !mastery.next.is_empty() {
        ui.line("")?;
        ui.line(ui.bold("What to do next"))?;
        for (i, next) in mastery.next.iter().enumerate() {
            ui.line(format!(
                "{}. `{}` — {}",
                i + 1,
                printable(&next.command),
                printable(&next.reason)
            ))?;
        }
    }
    if !recent.is_empty() {
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
                printable(&attempt.lab_id),
                printable(&attempt.backend),
                result,
                time,
                attempt.hints_used.to_string(),
            ]);
        }
        ui.table(&table)?;
    }
    let exams = store.exams()?;
    if !exams.is_empty() {
        ui.line("")?;
        for exam in exams.iter().take(3) {
            let result = match (exam.score, exam.max_score, exam.passed) {
                (Some(s), Some(m), Some(p)) => format!(
                    "{s} / {m} · {}",
                    if p { ui.green("PASS") } else { ui.red("FAIL") }
                ),
                _ => "running".to_string(),
            };
            ui.line(format!(
                "Exam #{} on {}: {result}",
                exam.id,
                exam.started_at.strftime("%Y-%m-%d")
            ))?;
        }
        ui.line(ui.dim("All exams: `ckalab exam history`"))?;
    }
    Ok(ExitStatus::Success)
}

/// How many competencies a passed lab has practised, and the first gaps by exam weight.
fn show_curriculum(ui: &mut Ui, curriculum: &[CompetencyProgress]) -> Result<()> {
    let practised = curriculum.iter().filter(|c| c.practised()).count();
    ui.line("")?;
    ui.line(format!(
        "{} of {} curriculum competencies practised (a lab passed)",
        practised,
        curriculum.len()
    ))?;
    // Domain::ALL runs from the heaviest domain to the lightest.
    let gaps = Domain::ALL
        .into_iter()
        .flat_map(|domain| curriculum.iter().filter(move |c| c.domain == domain))
        .filter(|c| !c.practised());
    for gap in gaps.take(3) {
        let next = match gap.labs_to_do.first() {
            Some(lab) => format!("`ckalab start {lab}`"),
            None => format!(
                "no lab yet: `ckalab learn {}`",
                gap.lessons.first().map_or("--curriculum", String::as_str)
            ),
        };
        ui.line(ui.dim(format!("  not yet: {} — {next}", gap.title)))?;
    }
    if practised + 3 < curriculum.len() {
        ui.line(ui.dim("  all of them: `ckalab learn --curriculum`"))?;
    }
    Ok(())
}

/// The learner's history, handed to the pure progress logic.
fn mastery(catalog: &Catalog, store: &Store) -> Result<Progress> {
    let labs: Vec<LabInfo> = catalog
        .labs()
        .iter()
        .map(|lab| LabInfo {
            id: lab.id.clone(),
            domain: lab.domain,
            minutes: lab.minutes,
            lesson: lab.lesson.clone(),
        })
        .collect();
    let lessons: Vec<LessonInfo> = catalog
        .lessons()
        .iter()
        .map(|lesson| LessonInfo {
            id: lesson.id.clone(),
            domain: lesson.domain,
        })
        .collect();
    let attempts: Vec<AttemptInfo> = store
        .recent_attempts(u32::MAX)?
        .into_iter()
        .map(|a| AttemptInfo {
            lab_id: a.lab_id,
            started_at: a.started_at,
            ended_at: a.ended_at,
            result: a.result.map(|v| match v {
                Verdict::Pass => Outcome::Pass,
                Verdict::Fail => Outcome::Fail,
                Verdict::Invalid => Outcome::Invalid,
            }),
            hints_used: a.hints_used,
            solution_revealed: a.solution_revealed,
            in_exam: a.exam_id.is_some(),
        })
        .collect();
    let answers: Vec<QuizAnswerInfo> = store
        .quiz_answers()?
        .into_iter()
        .map(|a| QuizAnswerInfo {
            topic: a.topic,
            answered_at: a.answered_at,
            correct: a.correct,
        })
        .collect();
    let exams: Vec<ExamInfo> = store
        .exams()?
        .into_iter()
        .map(|e| ExamInfo {
            id: e.id,
            started_at: e.started_at,
            score: e.score,
            max_score: e.max_score,
            passed: e.passed,
        })
        .collect();
    Ok(summarize(
        &labs,
        &lessons,
        &attempts,
        &answers,
        &exams,
        crate::clock::now(),
    ))
}

fn write_export(store: &Store, path: &std::path::Path) -> Result<()> {
    let document = store.export(crate::clock::now())?;
    crate::atomic_file::write_json(path, &document)
        .map_err(|e| Error::System(format!("cannot write {}: {e}", path.display())))
}

fn export(ui: &mut Ui, store: &Store, path: &std::path::Path) -> Result<ExitStatus> {
    write_export(store, path)?;
    ui.line(format!(
        "Wrote your history to {} (`ckalab progress --import` reads it).",
        path.display()
    ))?;
    Ok(ExitStatus::Success)
}

/// The largest export `--import` reads: years of practice export to a few megabytes.
const MAX_IMPORT_BYTES: u64 = 64 * 1024 * 1024;

fn import(ui: &mut Ui, store: &mut Store, path: &std::path::Path) -> Result<ExitStatus> {
    let size = std::fs::metadata(path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?
        .len();
    if size > MAX_IMPORT_BYTES {
        return Err(Error::Usage(format!(
            "{} is {} MiB, more than any ckalab export ({} MiB at most)\nNothing was imported.",
            path.display(),
            size / (1024 * 1024),
            MAX_IMPORT_BYTES / (1024 * 1024)
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
    let document: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        Error::Usage(format!(
            "{} is not JSON ({e})\nNothing was imported.",
            path.display()
        ))
    })?;
    let counts = store.import(&document)?;
    ui.line(format!(
        "Imported {} attempts, {} exams and {} quiz answers ({} already here, skipped).",
        counts.attempts, counts.exams, counts.quiz_answers, counts.skipped
    ))?;
    Ok(ExitStatus::Success)
}

fn reset(ui: &mut Ui, store: &mut Store, yes: bool) -> Result<ExitStatus> {
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Usage(
                "`progress --reset` deletes your history and asks first\nhint: add --yes to confirm without a prompt".into(),
            ));
        }
        let confirmed = dialoguer::Confirm::new()
            .with_prompt("Delete every attempt, exam and quiz answer? (a backup is kept)")
            .default(false)
            .interact()
            .map_err(|e| Error::System(format!("the prompt failed: {e}")))?;
        if !confirmed {
            ui.line("Nothing deleted.")?;
            return Ok(ExitStatus::Success);
        }
    }
    let home = Home::from_env()?;
    // A second reset within the same second must not overwrite the first one's backup.
    let stamp = crate::clock::now().strftime("%Y%m%dT%H%M%SZ").to_string();
    let mut n = 1;
    let backup = loop {
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let path = home
            .root()
            .join("backups")
            .join(format!("progress-{stamp}{suffix}.json"));
        if !path.exists() {
            break path;
        }
        n += 1;
    };
    write_export(store, &backup)?;
    store.reset_progress()?;
    ui.line(format!(
        "Your history is deleted. A copy is in {} (`ckalab progress --import` brings it back).",
        backup.display()
    ))?;
    Ok(ExitStatus::Success)
}
