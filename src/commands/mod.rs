//! One file per verb: its clap arguments (the doc comment is its `--help`) and its `run`.

pub mod check;
pub mod cluster;
pub mod completions;
pub mod doctor;
pub mod exam;
pub mod explain;
pub mod hint;
pub mod internal;
pub mod labs;
pub mod learn;
pub mod progress;
pub mod quiz;
pub mod reset;
pub mod shell;
pub mod show;
pub mod solution;
pub mod start;
pub mod status;
pub mod stop;

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::catalog::{Catalog, NodeLayout, Ports};
use crate::cli::Command;
use crate::engine::cluster::Backend;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::session::Session;
use crate::store::Store;
use crate::suggest;
use crate::ui::Ui;

pub fn dispatch(ui: &mut Ui, command: Command) -> Result<ExitStatus> {
    // One command at a time changes a home's node: held until this one ends.
    let _lock = match &command {
        Command::Start(_) => Some(Home::from_env()?.lock("start")?),
        Command::Reset(_) => Some(Home::from_env()?.lock("reset")?),
        Command::Stop(_) => Some(Home::from_env()?.lock("stop")?),
        _ => None,
    };
    match command {
        Command::Labs(args) => labs::run(ui, args),
        Command::Show(args) => show::run(ui, args),
        Command::Learn(args) => learn::run(ui, args),
        Command::Explain(args) => explain::run(ui, args),
        Command::Progress(args) => progress::run(ui, args),
        Command::Quiz(args) => quiz::run(ui, args),
        Command::Exam(args) => exam::run(ui, args),
        Command::Proctor(args) => exam::proctor(args.exam_id, args.home),
        Command::Doctor(args) => doctor::run(ui, args),
        Command::Cluster(args) => cluster::run(ui, args),
        Command::Start(args) => start::run(ui, args),
        Command::Status(args) => status::run(ui, args),
        Command::Check(args) => check::run(ui, args),
        Command::Hint(args) => hint::run(ui, args),
        Command::Solution(args) => solution::run(ui, args),
        Command::Reset(args) => reset::run(ui, args),
        Command::Stop(args) => stop::run(ui, args),
        Command::Shell(args) => shell::run(ui, args),
        Command::Completions(args) => completions::run(ui, args),
        Command::Agent(args) => internal::agent(args),
        Command::Node(args) => internal::node_tool(args),
        Command::Apply(args) => internal::apply(ui, args),
    }
}

/// The async runtime for commands that talk to nodes.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::System(format!("cannot start the async runtime: {e}")))
}

/// The lab in progress with its catalog and backend.
fn current_lab() -> Result<(Home, Catalog, Session, Box<dyn Backend>)> {
    let home = Home::from_env()?;
    let catalog = Catalog::load()?;
    let session = Session::load(&home).ok_or(Error::NoLab)?;
    let backend = crate::backend::open(&home, session.backend, session.target.as_ref())?;
    Ok((home, catalog, session, backend))
}

fn open_store() -> Result<Store> {
    let home = Home::from_env()?;
    home.ensure()?;
    Ok(Store::open(&home.database())?)
}

/// The lab named `id`, or an error suggesting the closest ids.
fn find_lab<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c crate::catalog::Lab> {
    catalog.lab(id).ok_or_else(|| Error::UnknownLab {
        name: id.to_string(),
        suggestions: suggest::closest(id, catalog.lab_ids()),
    })
}

/// The lesson named by id, alias or component, or an error suggesting the closest names.
fn find_lesson<'c>(catalog: &'c Catalog, topic: &str) -> Result<&'c crate::catalog::Lesson> {
    catalog.lesson(topic).ok_or_else(|| Error::UnknownTopic {
        name: topic.to_string(),
        suggestions: suggest::closest(topic, catalog.lesson_names()),
    })
}

/// The layout task texts are shown with before a node exists: the sandbox node's paths
/// under `$CKALAB_HOME` and kubeadm's well-known ports.
fn preview_layout() -> Result<NodeLayout> {
    let home = Home::from_env()?;
    Ok(NodeLayout::sandbox(
        &home.sandbox_dir().join("controlplane"),
        Ports::KUBEADM,
    ))
}

/// The layout of the node the learner practises on: the lab in progress's backend, else
/// ckalab's kind cluster when one was created (and answers), else the sandbox. Task texts and
/// lessons name the files and tools of that node's versions.
fn layout_in_use() -> Result<NodeLayout> {
    use crate::catalog::BackendKind;
    let home = Home::from_env()?;
    let session = Session::load(&home);
    let (kind, target) = match &session {
        Some(session) => (session.backend, session.target.as_ref()),
        None if crate::backend::recorded_cluster(&home).is_some() => (BackendKind::Kind, None),
        None => (BackendKind::Sandbox, None),
    };
    match crate::backend::open(&home, kind, target) {
        Ok(backend) => Ok(backend.layout().clone()),
        Err(_) => preview_layout(),
    }
}

/// The slow phases of `start`, on a spinner (hidden when stderr is not a terminal).
pub struct Spinner {
    bar: ProgressBar,
}

impl Spinner {
    pub fn new() -> Spinner {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Spinner { bar }
    }

    pub fn phase(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
