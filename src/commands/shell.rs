use clap::Args;

use crate::engine::cluster::Backend;
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::session::Session;
use crate::ui::Ui;

/// Open a shell on the node: in the node's directory, with KUBECONFIG set and the node's
/// systemctl, journalctl and crictl on PATH.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Run one command and exit with its status.
    #[arg(short = 'c')]
    command: Option<String>,
}

pub fn run(ui: &mut Ui, args: ShellArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let session = Session::load(&home);
    let (kind, target) = Session::node_of(session.as_ref());
    let backend = crate::backend::open(&home, kind, target)?;
    open_shell(ui, backend.as_ref(), args.command.as_deref(), |_| {})
}

/// A shell on a node (or one command in it), exiting with its status.
pub fn open_shell(
    ui: &mut Ui,
    backend: &dyn Backend,
    command: Option<&str>,
    adjust: impl FnOnce(&mut std::process::Command),
) -> Result<ExitStatus> {
    let (mut cmd, banner) = backend.shell(command);
    adjust(&mut cmd);
    if command.is_none() {
        ui.line(banner)?;
    }
    let status = cmd
        .status()
        .map_err(|e| Error::System(format!("cannot run {}: {e}", cmd.get_program().display())))?;
    std::process::exit(status.code().unwrap_or(1));
}
