//! Hidden verbs: the node agent, the node's tools behind the shell's shims, and applying a
//! lab's near-miss for tests.

use std::path::PathBuf;

use clap::Args;

use super::{current_lab, runtime};
use crate::engine::steps::run_steps;
use crate::error::{Error, ExitStatus, Result};
use crate::ui::Ui;

#[derive(Debug, Args)]
pub struct AgentArgs {
    /// The node's directory on this machine (the agent itself sees it as `/`).
    root: PathBuf,
}

pub fn agent(args: AgentArgs) -> Result<ExitStatus> {
    crate::backend::sandbox::agent::run(args.root)
        .map_err(|e| Error::System(format!("the node agent failed: {e}")))?;
    Ok(ExitStatus::Success)
}

#[derive(Debug, Args)]
pub struct NodeToolArgs {
    root: PathBuf,
    tool: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

pub fn node_tool(args: NodeToolArgs) -> Result<ExitStatus> {
    let code = crate::backend::sandbox::shell::run_tool(&args.root, &args.tool, &args.args);
    std::process::exit(code);
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// `near-miss`: the lab's plausible but incomplete fix.
    #[arg(value_parser = ["near-miss"])]
    what: String,
}

pub fn apply(ui: &mut Ui, _args: ApplyArgs) -> Result<ExitStatus> {
    let (_, catalog, session, backend) = current_lab()?;
    let lab = super::find_lab(&catalog, &session.lab_id)?;
    let variant = session.variant.as_deref().and_then(|v| lab.variant(v));
    runtime()?.block_on(run_steps(backend.as_ref(), &lab.near_miss_steps(variant)))?;
    ui.line("near miss applied")?;
    Ok(ExitStatus::Success)
}
