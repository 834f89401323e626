//! ckalab: a hands-on trainer for the Certified Kubernetes Administrator exam.
//!
//! The command line (`cli`, `commands`) parses and presents; the core modules
//! (`catalog`, `store`, `doctor`, `ui`) do the work and never see clap types.

pub mod atomic_file;
pub mod backend;
pub mod binaries;
pub mod catalog;
mod cli;
pub mod clock;
mod commands;
pub mod cri;
pub mod doctor;
pub mod engine;
pub mod error;
pub mod exam;
pub mod home;
pub mod kubelet;
pub mod pki;
pub mod progress;
pub mod quiz;
pub mod session;
pub mod store;
pub mod suggest;
pub mod ui;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::error::ExitStatus;

/// Parses `args`, runs the command and turns its outcome into an exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match cli::parse(args) {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() {
                ExitStatus::Usage as u8
            } else {
                0
            });
        }
    };
    let mut ui = ui::Ui::new(cli.color.into());
    match commands::dispatch(&mut ui, cli.command) {
        Ok(status) => ExitCode::from(status as u8),
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            ui.error(&err);
            ExitCode::from(err.exit_status() as u8)
        }
    }
}
