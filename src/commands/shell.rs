use std::process::Command;

use clap::Args;

use crate::catalog::BackendKind;
use crate::engine::backend::Backend;
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
    if crate::session::Session::load(&home).is_some_and(|s| s.backend == BackendKind::Kind) {
        return kind_shell(ui, &home, args);
    }
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

/// On kind: a shell in the control-plane container, through docker (or podman) exec.
fn kind_shell(ui: &mut Ui, home: &Home, args: ShellArgs) -> Result<ExitStatus> {
    let Backend::Kind(kind) = super::open_backend(home, BackendKind::Kind)? else {
        return Err(Error::System(
            "ckalab's kind cluster is not the lab's backend".into(),
        ));
    };
    let argv = match &args.command {
        Some(command) => kind.node.exec_argv(&["bash", "-c", command]),
        None => {
            ui.line(format!(
                "Shell on the kind node {} (exit to leave).",
                kind.node.container()
            ))?;
            kind.node.interactive_argv(&["bash"])
        }
    };
    let status = Command::new(&argv[0])
        .args(&argv[1..])
        .status()
        .map_err(|e| Error::System(format!("cannot run {}: {e}", argv[0])))?;
    std::process::exit(status.code().unwrap_or(1));
}
