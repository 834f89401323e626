//! One file per verb: its clap arguments (the doc comment is its `--help`) and its `run`.

pub mod check;
pub mod cluster;
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
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::session::Session;
use crate::store::Store;
use crate::suggest;
use crate::ui::Ui;

pub fn dispatch(ui: &mut Ui, command: Command) -> Result<ExitStatus> {
    match command {
        Command::Labs(args) => labs::run(ui, args),
        Command::Show(args) => show::run(ui, args),
        Command::Learn(args) => learn::run(ui, args),
        Command::Explain(args) => explain::run(ui, args),
        Command::Progress(args) => progress::run(ui, args),
        Command::Quiz(args) => quiz::run(ui, args),
        Command::Exam(args) => exam::run(ui, args),
        Command::Proctor(args) => exam::proctor(args.exam_id),
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
fn current_lab() -> Result<(Home, Catalog, Session, crate::engine::backend::Backend)> {
    let home = Home::from_env()?;
    let catalog = Catalog::load()?;
    let session = Session::load(&home).ok_or(Error::NoLab)?;
    let backend = open_backend(&home, session.backend, Some(&session))?;
    Ok((home, catalog, session, backend))
}

/// The existing node of a backend: the sandbox node directory, or the control plane of a kind
/// cluster (its label verified before anything runs in it): the session's cluster when it has
/// one, else ckalab's cluster in use.
fn open_backend(
    home: &Home,
    kind: crate::catalog::BackendKind,
    session: Option<&Session>,
) -> Result<crate::engine::backend::Backend> {
    use crate::engine::backend::Backend;
    use crate::kind::backend::KindBackend;
    Ok(match kind {
        crate::catalog::BackendKind::Sandbox => {
            Backend::Sandbox(crate::sandbox::SandboxNode::open(home)?)
        }
        crate::catalog::BackendKind::Kind => {
            let backend = match session.and_then(|s| s.kind.as_ref()) {
                Some(target) => KindBackend::open(
                    &crate::kind::cluster::Cluster::new(home, &target.cluster),
                    Some(target.versions),
                )?,
                None => KindBackend::open(&kind_cluster(home), None)?,
            };
            Backend::Kind(Box::new(backend))
        }
    })
}

/// ckalab's kind cluster in use: the one it created most recently (`cluster up --name`), else
/// the default `ckalab`.
fn kind_cluster(home: &Home) -> crate::kind::cluster::Cluster {
    let name = recorded_cluster(home).unwrap_or_else(|| crate::kind::cli::DEFAULT_CLUSTER.into());
    crate::kind::cluster::Cluster::new(home, &name)
}

/// The kind cluster the store says ckalab created most recently. Only an existing store is
/// opened: asking creates nothing.
fn recorded_cluster(home: &Home) -> Option<String> {
    if !home.database().exists() {
        return None;
    }
    let store = Store::open(&home.database()).ok()?;
    Some(store.newest_cluster().ok()??.name)
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
    let on_kind = match &session {
        Some(session) => session.backend == BackendKind::Kind,
        None => recorded_cluster(&home).is_some(),
    };
    if on_kind && let Ok(backend) = open_backend(&home, BackendKind::Kind, session.as_ref()) {
        return Ok(backend.layout());
    }
    match crate::sandbox::SandboxNode::open(&home) {
        Ok(node) => Ok(node.layout()),
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
