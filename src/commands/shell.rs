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
    let backend = match crate::session::Session::load(&home) {
        Some(session) if session.backend == BackendKind::Kind => {
            super::open_backend(&home, BackendKind::Kind, Some(&session))?
        }
        _ => Backend::Sandbox(SandboxNode::open(&home)?),
    };
    open_shell(ui, &backend, args.command.as_deref())
}

/// A shell on a node (or one command in it), exiting with its status. On the sandbox: bash in
/// the node directory with the node's tools on PATH; on kind: bash in the control-plane
/// container through docker (or podman) exec.
pub fn open_shell(ui: &mut Ui, backend: &Backend, command: Option<&str>) -> Result<ExitStatus> {
    let mut cmd = match backend {
        Backend::Sandbox(node) => {
            let mut cmd = Command::new("bash");
            cmd.current_dir(node.root()).envs(node.shell_env());
            match command {
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
            cmd
        }
        Backend::Kind(kind) => {
            let argv = match command {
                Some(command) => kind.node.exec_argv(&["bash", "-c", command]),
                None => {
                    ui.line(format!(
                        "Shell on the kind node {} (exit to leave).",
                        kind.node.container()
                    ))?;
                    kind.node.interactive_argv(&["bash"])
                }
            };
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            cmd
        }
    };
    let status = cmd
        .status()
        .map_err(|e| Error::System(format!("cannot run {}: {e}", cmd.get_program().display())))?;
    std::process::exit(status.code().unwrap_or(1));
}
