use std::process::Command;

use clap::Args;

use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::sandbox::SandboxNode;
use crate::ui::Ui;

/// Open a shell on the node: in the node's directory, with ETCDCTL_* and KUBECONFIG set and
/// the node's systemctl, journalctl and crictl on PATH.
#[derive(Debug, Args)]
pub struct ShellArgs {
    /// Run one command and exit with its status.
    #[arg(short = 'c')]
    command: Option<String>,
}

pub fn run(ui: &mut Ui, args: ShellArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    let node = SandboxNode::open(&home)?;
    let mut cmd = Command::new("bash");
    cmd.current_dir(node.root()).envs(node.shell_env());
    match &args.command {
        Some(command) => {
            cmd.arg("-c").arg(command);
        }
        None => {
            ui.line(format!(
                "Shell on the sandbox node {} (exit to leave).",
                node.root().display()
            ))?;
            cmd.env("PS1", "root@controlplane:\\w# ");
            cmd.arg("--norc");
        }
    }
    let status = cmd
        .status()
        .map_err(|e| Error::System(format!("cannot run bash: {e}")))?;
    std::process::exit(status.code().unwrap_or(1));
}
