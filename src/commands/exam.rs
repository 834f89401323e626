use clap::{Args, Subcommand};
use jiff::SignedDuration;
use serde::Serialize;

use super::start::choose_backend;
use super::{Spinner, open_store, runtime};
use crate::backend;
use crate::catalog::{BackendKind, Catalog};
use crate::clock::human_duration;
use crate::error::{Error, ExitStatus, Result};
use crate::exam::draw::{Clusters, Draw};
use crate::exam::grading::{self, exam_backend, seconds_until};
use crate::exam::preflight::{Preflight, prepare_tasks};
use crate::exam::score::{PASS_MARK, exam_result};
use crate::exam::{ExamState, contexts, proctor};
use crate::home::Home;
use crate::store::{ExamRow, ExamTaskRow, NewExamTask, ReplacementRow, Store};
use crate::ui::{Table, Ui, printable};

/// A timed mock exam: tasks drawn across the CKA domains by their weights, a hard deadline,
/// partial credit per check, and the 66% pass mark. Without a subcommand: `exam status`.
#[derive(Debug, Args)]
pub struct ExamArgs {
    #[command(subcommand)]
    command: Option<ExamCommand>,
}

#[derive(Debug, Subcommand)]
enum ExamCommand {
    /// Draw the tasks, break their nodes (each task checked to be really broken), and start
    /// the clock.
    Start(StartArgs),
    /// Tasks, points, flags and time left (or the result, once graded).
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show task N, as the exam words it.
    Task { number: u32 },
    /// Flag task N to come back to it (again to unflag).
    Flag { number: u32 },
    /// Open a shell on task N's node.
    Shell {
        number: u32,
        /// Run one command and exit with its status.
        #[arg(short = 'c')]
        command: Option<String>,
    },
    /// Grade every task now and end the exam.
    Submit,
    /// Past exams and their scores.
    History {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
struct StartArgs {
    /// The exam's length.
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..=600))]
    minutes: u32,
    /// How many tasks to draw (the CKA has 16 or 17).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=30))]
    tasks: u32,
    /// Seed for the draw: the same seed gives the same exam.
    #[arg(long)]
    seed: Option<u64>,
    /// `sandbox` (each task on its own node) or `kind` (every task on ckalab's cluster).
    #[arg(long, value_parser = ["sandbox", "kind"])]
    backend: Option<String>,
    /// The exam's length in seconds instead of minutes (for tests and demos).
    #[arg(long, hide = true)]
    seconds: Option<u32>,
}

pub fn run(ui: &mut Ui, args: ExamArgs) -> Result<ExitStatus> {
    match args.command.unwrap_or(ExamCommand::Status { json: false }) {
        ExamCommand::Start(args) => start(ui, args),
        ExamCommand::Status { json } => status(ui, json),
        ExamCommand::Task { number } => task(ui, number),
        ExamCommand::Flag { number } => flag(ui, number),
        ExamCommand::Shell { number, command } => shell(ui, number, command.as_deref()),
        ExamCommand::Submit => submit(ui),
        ExamCommand::History { json } => history(ui, json),
    }
}

/// What every exam command reads: the home, the catalog and the store.
fn open_exam() -> Result<(Home, Catalog, Store)> {
    Ok((Home::from_env()?, Catalog::load()?, open_store()?))
}

fn start(ui: &mut Ui, args: StartArgs) -> Result<ExitStatus> {
    // The store's opening creates the home directory.
    let (home, catalog, mut store) = open_exam()?;
    settle(&home, &catalog, &mut store)?;
    if let Some(id) = store.running_exam()? {
        return Err(Error::Usage(format!(
            "exam #{id} is still running\nhint: `ckalab exam status` shows it; `ckalab exam submit` ends it"
        )));
    }
    let backend_kind = choose_backend(ui, &home, args.backend.as_deref())?;
    if backend::shares_nodes(backend_kind)
        && let Some(lab) =
            crate::session::Session::load(&home).filter(|s| s.backend == backend_kind)
    {
        ui.line(ui.dim(format!(
            "(ending the lab in progress on kind: {})",
            lab.lab_id
        )))?;
        crate::session::Session::clear(&home);
    }
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let shared_node = backend::shares_nodes(backend_kind);
    let clusters = match shared_node {
        true => Clusters::one_shared(),
        false => Clusters::sandbox(),
    };
    let mut draw = Draw::new(&catalog, backend_kind, clusters, seed).with_tasks(args.tasks);
    let empty = draw.empty_domains();

    let rt = runtime()?;
    let progress = Spinner::new();
    let Preflight { kept, replaced } = rt.block_on(prepare_tasks(
        &home,
        &catalog,
        backend_kind,
        &mut draw,
        args.tasks as usize,
        &|phase| progress.phase(phase),
    ))?;
    progress.finish();
    if kept.is_empty() {
        return Err(Error::System(format!(
            "no task passed pre-flight on the {backend_kind} backend\nhint: {}",
            replaced
                .iter()
                .map(|r| format!("{}: {}", r.lab_id, r.reason))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }

    let started_at = crate::clock::now();
    let length = args.seconds.map_or(i64::from(args.minutes) * 60, i64::from);
    let deadline = started_at + SignedDuration::from_secs(length);
    let exam_id = store.create_exam(seed, backend_kind.id(), started_at, deadline)?;
    for (i, (task, report)) in kept.iter().enumerate() {
        let attempt_id = store.add_exam_task(
            exam_id,
            &NewExamTask {
                position: i as u32 + 1,
                lab_id: &task.lab_id,
                variant: task.variant.as_deref(),
                points: task.points,
                cluster: task.cluster,
            },
            backend_kind.id(),
            started_at,
        )?;
        let outcomes: Vec<_> = report.checks.iter().map(|c| c.outcome()).collect();
        store.record_grading(attempt_id, started_at, report.verdict, &outcomes)?;
    }
    for replacement in &replaced {
        store.add_exam_replacement(exam_id, replacement)?;
    }
    let state = ExamState {
        exam_id,
        proctor_pid: proctor::spawn(&home, exam_id)?,
    };
    state
        .save(&home)
        .map_err(|e| Error::System(format!("cannot save the exam state: {e}")))?;

    let points: f64 = kept.iter().map(|(t, _)| t.points).sum();
    ui.line(ui.bold(format!(
        "Exam #{exam_id} · {} tasks · {points} points · {} · pass mark {PASS_MARK}%",
        kept.len(),
        human_duration(length)
    )))?;
    ui.line(ui.dim(format!(
        "{backend_kind} backend · seed {seed} · deadline {}",
        deadline.strftime("%H:%M:%S UTC")
    )))?;
    if kept.len() < args.tasks as usize {
        ui.line(ui.yellow(format!(
            "Only {} of {} tasks could be drawn{}.",
            kept.len(),
            args.tasks,
            if shared_node {
                " without two tasks breaking the same node in ways that block each other"
            } else {
                ""
            }
        )))?;
    }
    if !empty.is_empty() {
        ui.line(ui.dim(format!(
            "No labs yet for {}: their weight goes to the other domains.",
            empty.iter().map(|d| d.id()).collect::<Vec<_>>().join(", ")
        )))?;
    }
    for r in &replaced {
        ui.line(ui.dim(format!(
            "Replaced before the clock started: {} ({})",
            printable(&r.lab_id),
            printable(&r.reason)
        )))?;
    }
    ui.line("")?;
    print_tasks(
        ui,
        &catalog,
        &ClusterNames::new(&home, backend_kind),
        &store.exam_tasks(exam_id)?,
        false,
    )?;
    ui.line("")?;
    ui.line("Read a task: `ckalab exam task 1` · its node: `ckalab exam shell 1` · done: `ckalab exam submit`.")?;
    ui.line(ui.dim("At the deadline the exam is graded as it stands, even if you never submit; closing the terminal does not stop the clock."))?;
    Ok(ExitStatus::Success)
}

/// The proctor's process: grades the exam at its deadline.
pub fn proctor(exam_id: i64, home: std::path::PathBuf) -> Result<ExitStatus> {
    let home = Home::at(home);
    let catalog = Catalog::load()?;
    runtime()?.block_on(proctor::watch(&home, &catalog, exam_id))?;
    Ok(ExitStatus::Success)
}

/// Grades an exam past its deadline before anything else is shown (see `grading::settle`).
fn settle(home: &Home, catalog: &Catalog, store: &mut Store) -> Result<()> {
    runtime()?.block_on(grading::settle(home, catalog, store))
}

/// The exam to show: the running one, else the latest.
fn current_exam(store: &Store) -> Result<ExamRow> {
    let id = match store.running_exam()? {
        Some(id) => Some(id),
        None => store.exams()?.first().map(|e| e.id),
    };
    id.and_then(|id| store.exam(id).transpose())
        .transpose()?
        .ok_or_else(|| {
            Error::Usage(
                "no exam yet\nhint: `ckalab exam start` draws one (120 minutes, 16 tasks)".into(),
            )
        })
}

/// The running exam, or a usage error saying there is none.
fn running_exam(home: &Home, catalog: &Catalog, store: &mut Store) -> Result<ExamRow> {
    settle(home, catalog, store)?;
    let id = store.running_exam()?.ok_or_else(|| {
        Error::Usage(
            "no exam is running\nhint: `ckalab exam start` starts one; `ckalab exam status` shows the last result".into(),
        )
    })?;
    store
        .exam(id)?
        .ok_or_else(|| Error::System(format!("exam #{id} vanished from the store")))
}

fn task_row(store: &Store, exam: &ExamRow, number: u32) -> Result<ExamTaskRow> {
    let tasks = store.exam_tasks(exam.id)?;
    let count = tasks.len();
    tasks
        .into_iter()
        .find(|t| t.position == number)
        .ok_or_else(|| Error::Usage(format!("the exam has tasks 1 to {count}, not {number}")))
}

#[derive(Serialize)]
struct StatusJson<'a> {
    exam: &'a ExamRow,
    running: bool,
    seconds_left: i64,
    percent: Option<f64>,
    tasks: Vec<TaskJson<'a>>,
    /// Points per domain, once graded.
    domains: Vec<DomainScore>,
    replacements: Vec<ReplacementRow>,
}

#[derive(Serialize)]
struct TaskJson<'a> {
    #[serde(flatten)]
    row: &'a ExamTaskRow,
    title: &'a str,
    domain: crate::catalog::Domain,
    /// The cluster's name, as the task list shows it.
    cluster_name: String,
    /// The checks still failing at grading (with their reasons), once graded.
    failed_checks: Vec<crate::store::CheckOutcome>,
}

fn status(ui: &mut Ui, json: bool) -> Result<ExitStatus> {
    let (home, catalog, mut store) = open_exam()?;
    settle(&home, &catalog, &mut store)?;
    let exam = current_exam(&store)?;
    let tasks = store.exam_tasks(exam.id)?;
    let names = ClusterNames::new(&home, exam_backend(&exam));
    let running = exam.graded_at.is_none();
    let seconds_left = seconds_until(exam.deadline);
    let percent = exam
        .score
        .zip(exam.max_score)
        .map(|(s, m)| exam_result(&[(s, m)]).1);
    if json {
        let json_tasks = tasks
            .iter()
            .map(|row| {
                let lab = catalog.lab(&row.lab_id);
                let failed_checks = match running {
                    true => Vec::new(),
                    false => failed_checks(&store, row.attempt_id)?,
                };
                Ok(TaskJson {
                    row,
                    title: lab.map_or("", |l| l.title.as_str()),
                    domain: lab.map_or(crate::catalog::Domain::Troubleshooting, |l| l.domain),
                    cluster_name: names.of(row.cluster),
                    failed_checks,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        ui.json(&StatusJson {
            exam: &exam,
            running,
            seconds_left: if running { seconds_left } else { 0 },
            percent,
            tasks: json_tasks,
            domains: match running {
                true => Vec::new(),
                false => domain_scores(&catalog, &tasks),
            },
            replacements: store.exam_replacements(exam.id)?,
        })?;
        return Ok(ExitStatus::Success);
    }
    if running {
        ui.line(ui.bold(format!(
            "Exam #{} · {} left (deadline {})",
            exam.id,
            human_duration(seconds_left),
            exam.deadline.strftime("%H:%M:%S UTC")
        )))?;
        ui.line("")?;
        print_tasks(ui, &catalog, &names, &tasks, false)?;
        ui.line("")?;
        ui.line(ui.dim(
            "`ckalab exam task N` reads a task · `ckalab exam flag N` · `ckalab exam submit`",
        ))?;
    } else {
        print_result(ui, &catalog, &names, &store, &exam, &tasks)?;
    }
    Ok(ExitStatus::Success)
}

/// How the task list names a task's cluster: by its kube context, as the task's text does
/// (`exam-2`; on kind, the one cluster's context, `kind-ckalab`).
struct ClusterNames(Option<String>);

impl ClusterNames {
    fn new(home: &Home, kind: BackendKind) -> ClusterNames {
        ClusterNames(match kind {
            BackendKind::Sandbox => None,
            BackendKind::Kind => Some(contexts::kind_context(
                &crate::backend::kind_cluster(home).name,
            )),
        })
    }

    fn of(&self, cluster: u32) -> String {
        self.0
            .clone()
            .unwrap_or_else(|| contexts::sandbox_context(cluster))
    }
}

fn print_tasks(
    ui: &mut Ui,
    catalog: &Catalog,
    names: &ClusterNames,
    tasks: &[ExamTaskRow],
    graded: bool,
) -> Result<()> {
    let mut table = if graded {
        Table::new(&["TASK", "CLUSTER", "LAB", "DOMAIN", "SCORE"])
    } else {
        Table::new(&["TASK", "CLUSTER", "TITLE", "DOMAIN", "POINTS", "FLAG"])
    };
    for task in tasks {
        let lab = catalog.lab(&task.lab_id);
        let domain = lab.map_or("-".to_string(), |l| l.domain.to_string());
        let cluster = names.of(task.cluster);
        table.row(if graded {
            vec![
                task.position.to_string(),
                cluster,
                printable(&task.lab_id),
                domain,
                format!("{} / {}", task.score.unwrap_or(0.0), task.points),
            ]
        } else {
            vec![
                task.position.to_string(),
                cluster,
                lab.map_or(printable(&task.lab_id), |l| l.title.clone()),
                domain,
                task.points.to_string(),
                if task.flagged { "⚑" } else { "" }.to_string(),
            ]
        });
    }
    ui.table(&table)?;
    Ok(())
}

fn print_result(
    ui: &mut Ui,
    catalog: &Catalog,
    names: &ClusterNames,
    store: &Store,
    exam: &ExamRow,
    tasks: &[ExamTaskRow],
) -> Result<()> {
    let (score, max) = (exam.score.unwrap_or(0.0), exam.max_score.unwrap_or(0.0));
    let (_, percent, passed) = exam_result(&[(score, max)]);
    let verdict = if passed {
        ui.green("PASS")
    } else {
        ui.red("FAIL")
    };
    ui.line(ui.bold(format!(
        "Exam #{} · {verdict} · {score} of {max} points ({percent}%, pass mark {PASS_MARK}%)",
        exam.id
    )))?;
    let graded_at = exam.graded_at.map_or_else(String::new, |t| {
        t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
    });
    ui.line(ui.dim(match exam.graded_by.as_deref() {
        Some("deadline") => format!("Graded at the deadline ({graded_at}), as the nodes stood then."),
        Some("late") => format!(
            "Graded at {graded_at}, after the deadline: the proctor was not running then (was the machine off?)."
        ),
        _ => format!("Submitted at {graded_at}."),
    }))?;
    ui.line("")?;
    print_tasks(ui, catalog, names, tasks, true)?;

    ui.line("")?;
    let domains = domain_scores(catalog, tasks);
    let mut table = Table::new(&["DOMAIN", "WEIGHT", "SCORE", "%"]);
    for row in &domains {
        table.row(vec![
            row.domain.to_string(),
            format!("{}%", row.domain.exam_weight()),
            format!("{} / {}", row.score, row.points),
            format!("{}%", exam_result(&[(row.score, row.points)]).1),
        ]);
    }
    ui.table(&table)?;

    let missed: Vec<&ExamTaskRow> = tasks
        .iter()
        .filter(|t| t.score.unwrap_or(0.0) < t.points)
        .collect();
    if missed.is_empty() {
        return Ok(());
    }
    ui.line("")?;
    ui.line(ui.bold("What was still wrong"))?;
    for task in &missed {
        ui.line(format!(
            "Task {} · {} ({})",
            task.position,
            printable(&task.lab_id),
            names.of(task.cluster)
        ))?;
        for check in failed_checks(store, task.attempt_id)? {
            ui.line(format!(
                "  {} {}: {}",
                ui.red(check.verdict.as_str()),
                printable(&check.name),
                printable(&shortened(&check.message))
            ))?;
        }
    }
    ui.line("")?;
    ui.line(ui.bold("Practise next"))?;
    for line in practise_next(catalog, tasks, &domains) {
        ui.line(format!("  {line}"))?;
    }
    Ok(())
}

/// The checks of a task's last grading that did not pass, with their reasons.
fn failed_checks(store: &Store, attempt_id: i64) -> Result<Vec<crate::store::CheckOutcome>> {
    Ok(store
        .last_grading_checks(attempt_id)?
        .into_iter()
        .filter(|c| c.verdict != crate::engine::verdict::Verdict::Pass)
        .collect())
}

/// A check's message as a report line: its first line, cut at 200 characters.
fn shortened(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    match first.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &first[..cut]),
        None => first.to_string(),
    }
}

/// Points earned and possible in one domain.
#[derive(Debug, Serialize)]
struct DomainScore {
    domain: crate::catalog::Domain,
    score: f64,
    points: f64,
}

/// Each domain the exam drew, in the CKA's order, with its points.
fn domain_scores(catalog: &Catalog, tasks: &[ExamTaskRow]) -> Vec<DomainScore> {
    crate::catalog::Domain::ALL
        .into_iter()
        .filter_map(|domain| {
            let of_domain: Vec<&ExamTaskRow> = tasks
                .iter()
                .filter(|t| catalog.lab(&t.lab_id).is_some_and(|l| l.domain == domain))
                .collect();
            (!of_domain.is_empty()).then(|| DomainScore {
                domain,
                score: exam_result(
                    &of_domain
                        .iter()
                        .map(|t| (t.score.unwrap_or(0.0), t.points))
                        .collect::<Vec<_>>(),
                )
                .0,
                points: of_domain.iter().map(|t| t.points).sum(),
            })
        })
        .collect()
}

/// The lessons and labs to practise after an exam: each missed task's lesson and lab, then
/// labs of the weakest domain the exam did not draw.
fn practise_next(catalog: &Catalog, tasks: &[ExamTaskRow], domains: &[DomainScore]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut lessons_named = Vec::new();
    for task in tasks.iter().filter(|t| t.score.unwrap_or(0.0) < t.points) {
        let lesson = catalog.lab(&task.lab_id).map_or("", |l| l.lesson.as_str());
        let learn = match lessons_named.contains(&lesson) {
            true => String::new(),
            false => format!(" · `ckalab learn {lesson}`"),
        };
        lessons_named.push(lesson);
        lines.push(format!(
            "task {}: `ckalab start {}`{learn}",
            task.position,
            printable(&task.lab_id)
        ));
    }
    let weakest = domains
        .iter()
        .filter(|d| d.score < d.points)
        .min_by(|a, b| (a.score / a.points).total_cmp(&(b.score / b.points)));
    if let Some(weakest) = weakest {
        let more: Vec<String> = catalog
            .labs()
            .iter()
            .filter(|lab| lab.domain == weakest.domain)
            .filter(|lab| tasks.iter().all(|t| t.lab_id != lab.id))
            .take(3)
            .map(|lab| format!("`ckalab start {}`", lab.id))
            .collect();
        if !more.is_empty() {
            lines.push(format!(
                "more {} (your weakest domain): {}",
                weakest.domain,
                more.join(", ")
            ));
        }
    }
    lines
}

fn task(ui: &mut Ui, number: u32) -> Result<ExitStatus> {
    let (home, catalog, mut store) = open_exam()?;
    let exam = running_exam(&home, &catalog, &mut store)?;
    let row = task_row(&store, &exam, number)?;
    let lab = super::find_lab(&catalog, &row.lab_id)?;
    let backend = backend::open_task(&home, exam_backend(&exam), row.cluster)?;
    let layout = backend.layout();
    let count = store.exam_tasks(exam.id)?.len();
    ui.line(ui.bold(format!(
        "Task {number} of {count} · {} points · {}",
        row.points, lab.domain
    )))?;
    ui.line(format!(
        "Cluster: `kubectl config use-context {}`",
        contexts::context(backend.as_ref(), row.cluster)
    ))?;
    ui.line(format!(
        "Node: {} · `ckalab exam shell {number}` (the exam's `ssh {}`)",
        layout.node_name, layout.node_name
    ))?;
    ui.line("")?;
    ui.line(layout.render(&lab.task).unwrap_or_default().trim())?;
    Ok(ExitStatus::Success)
}

fn flag(ui: &mut Ui, number: u32) -> Result<ExitStatus> {
    let (home, catalog, mut store) = open_exam()?;
    let exam = running_exam(&home, &catalog, &mut store)?;
    let row = task_row(&store, &exam, number)?;
    store.flag_exam_task(exam.id, number, !row.flagged)?;
    ui.line(if row.flagged {
        format!("Task {number} unflagged.")
    } else {
        format!("Task {number} flagged: come back to it before the deadline.")
    })?;
    Ok(ExitStatus::Success)
}

fn shell(ui: &mut Ui, number: u32, command: Option<&str>) -> Result<ExitStatus> {
    let (home, catalog, mut store) = open_exam()?;
    let exam = running_exam(&home, &catalog, &mut store)?;
    let row = task_row(&store, &exam, number)?;
    let backend = backend::open_task(&home, exam_backend(&exam), row.cluster)?;
    // On a sandbox node seen at its real paths, kubectl reads root's kubeconfig, the exam's
    // contexts, as on the exam's terminal.
    let exam_contexts = backend.kind() == BackendKind::Sandbox
        && crate::backend::sandbox::node_view::bwrap().is_some();
    super::shell::open_shell(ui, backend.as_ref(), command, |cmd| {
        if exam_contexts {
            cmd.env_remove("KUBECONFIG").env("HOME", "/root");
        }
    })
}

fn submit(ui: &mut Ui) -> Result<ExitStatus> {
    let (home, catalog, mut store) = open_exam()?;
    let exam = running_exam(&home, &catalog, &mut store)?;
    let progress = Spinner::new();
    progress.phase("grading every task");
    runtime()?.block_on(grading::grade_exam(
        &home,
        &catalog,
        &mut store,
        &exam,
        crate::clock::now(),
        "submit",
    ))?;
    progress.finish();
    let exam = store.exam(exam.id)?.unwrap_or(exam);
    print_result(
        ui,
        &catalog,
        &ClusterNames::new(&home, exam_backend(&exam)),
        &store,
        &exam,
        &store.exam_tasks(exam.id)?,
    )?;
    Ok(if exam.passed == Some(true) {
        ExitStatus::Success
    } else {
        ExitStatus::Fail
    })
}

fn history(ui: &mut Ui, json: bool) -> Result<ExitStatus> {
    let (home, catalog, mut store) = open_exam()?;
    settle(&home, &catalog, &mut store)?;
    let exams = store.exams()?;
    if json {
        ui.json(&serde_json::json!({ "exams": exams }))?;
        return Ok(ExitStatus::Success);
    }
    if exams.is_empty() {
        ui.line("No exams yet: `ckalab exam start` draws one.")?;
        return Ok(ExitStatus::Success);
    }
    let mut table = Table::new(&["EXAM", "STARTED", "BACKEND", "TASKS", "SCORE", "RESULT"]);
    for exam in &exams {
        let tasks = store.exam_tasks(exam.id)?.len();
        let (score, result) = match (exam.score, exam.max_score, exam.passed) {
            (Some(s), Some(m), Some(p)) => (
                format!("{s} / {m} ({}%)", exam_result(&[(s, m)]).1),
                if p { "PASS" } else { "FAIL" }.to_string(),
            ),
            _ => ("-".to_string(), "running".to_string()),
        };
        table.row(vec![
            format!("#{}", exam.id),
            exam.started_at.strftime("%Y-%m-%d %H:%M").to_string(),
            exam.backend.clone(),
            tasks.to_string(),
            score,
            result,
        ]);
    }
    ui.table(&table)?;
    Ok(ExitStatus::Success)
}
