use clap::Args;

use crate::doctor::{self, Need};
use crate::error::{ExitStatus, Result};
use crate::ui::{Table, Ui};

/// Check which tools ckalab and its labs need are installed, and how to install the rest.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &mut Ui, args: DoctorArgs) -> Result<ExitStatus> {
    let report = doctor::examine();
    // Usable when at least one backend can run labs.
    let status = if report.sandbox_ready || report.kind_ready {
        ExitStatus::Success
    } else {
        ExitStatus::Environment
    };
    if args.json {
        ui.json(&report)?;
        return Ok(status);
    }

    let mut table = Table::new(&["TOOL", "FOR", "STATUS", "VERSION"]);
    for tool in &report.tools {
        let need = match tool.needed_by {
            Need::Sandbox => "sandbox",
            Need::Kind => "kind",
        };
        let found = if tool.found() {
            ui.green("found")
        } else {
            ui.red("missing")
        };
        table.row(vec![
            tool.name.to_string(),
            need.to_string(),
            found,
            tool.version.clone().unwrap_or_default(),
        ]);
    }
    ui.table(&table)?;
    let mut binaries = Table::new(&["BINARY", "PINNED", "STATUS", "VERSION"]);
    for binary in &report.binaries {
        binaries.row(vec![
            binary.name.to_string(),
            binary.pinned.clone(),
            if binary.path.is_some() {
                ui.green("built")
            } else {
                ui.red("not built")
            },
            binary.version.clone().unwrap_or_default(),
        ]);
    }
    ui.line("")?;
    ui.line(format!(
        "The real control-plane binaries, built from Go modules into {}:",
        report.binaries_dir.display()
    ))?;
    ui.table(&binaries)?;
    if report.binaries.iter().any(|b| b.path.is_none()) {
        ui.line(ui.dim(format!(
            "  build them: {} (needs Go; about 25 minutes cold on 2 cores, under a minute warm)",
            report.binaries_build
        )))?;
    }
    for tool in &report.tools {
        if let Some(note) = &tool.note {
            ui.line(ui.dim(format!("{}: {note}", tool.name)))?;
        }
    }
    for tool in report.tools.iter().filter(|t| t.advice.is_some()) {
        ui.line(ui.red(format!(
            "{}: {}",
            tool.name,
            tool.advice.as_deref().unwrap_or_default()
        )))?;
        ui.line(ui.dim(format!("  {}", tool.install)))?;
    }
    ui.line("")?;

    for (backend, ok) in [
        ("sandbox backend (no Docker needed):", report.sandbox_ready),
        ("kind backend (a real cluster):     ", report.kind_ready),
    ] {
        let state = if ok {
            ui.green("ready")
        } else {
            ui.red("not ready")
        };
        ui.line(format!("{backend} {state}"))?;
    }

    let missing: Vec<_> = report
        .tools
        .iter()
        .filter(|t| !t.found())
        // podman is an alternative to docker: only suggest it when docker is missing too.
        .filter(|t| t.name != "podman" || report.tool("docker").is_some_and(|d| !d.found()))
        .collect();
    if !missing.is_empty() {
        ui.line("")?;
        ui.line(ui.bold("To install what is missing:"))?;
        for tool in missing {
            ui.line(format!("  {:<11} {}", tool.name, tool.install))?;
            ui.line(ui.dim(format!("  {:<11} ({})", "", tool.purpose)))?;
        }
    }
    Ok(status)
}
