//! One file per verb: its clap arguments (the doc comment is its `--help`) and its `run`.

pub mod doctor;
pub mod explain;
pub mod labs;
pub mod learn;
pub mod progress;
pub mod show;

use crate::catalog::{Catalog, NodeLayout, Ports};
use crate::cli::Command;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
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
        Command::Doctor(args) => doctor::run(ui, args),
    }
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

/// The layout task texts are shown with before a node exists: the sandbox node's paths
/// under `$CKALAB_HOME` and kubeadm's well-known ports.
fn preview_layout() -> Result<NodeLayout> {
    let home = Home::from_env()?;
    Ok(NodeLayout::sandbox(
        &home.sandbox_dir().join("controlplane"),
        Ports::KUBEADM,
    ))
}
