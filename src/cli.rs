//! The command line, as clap types. Nothing outside `cli` and `commands` sees them.

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands::check::CheckArgs;
use crate::commands::cluster::ClusterArgs;
use crate::commands::completions::CompletionsArgs;
use crate::commands::doctor::DoctorArgs;
use crate::commands::exam::ExamArgs;
use crate::commands::explain::ExplainArgs;
use crate::commands::hint::HintArgs;
use crate::commands::internal::{AgentArgs, ApplyArgs, NodeToolArgs};
use crate::commands::labs::LabsArgs;
use crate::commands::learn::LearnArgs;
use crate::commands::progress::ProgressArgs;
use crate::commands::quiz::QuizArgs;
use crate::commands::reset::ResetArgs;
use crate::commands::shell::ShellArgs;
use crate::commands::show::ShowArgs;
use crate::commands::solution::SolutionArgs;
use crate::commands::start::StartArgs;
use crate::commands::status::StatusArgs;
use crate::commands::stop::StopArgs;
use crate::ui::ColorChoice;

/// A hands-on trainer for the Certified Kubernetes Administrator exam: ckalab breaks a
/// practice cluster the way real clusters break, gives you the task, and grades your fix by
/// looking at the cluster's real state.
#[derive(Debug, Parser)]
#[command(name = "ckalab", max_term_width = 100)]
pub struct Cli {
    /// When to use colour (NO_COLOR and CLICOLOR_FORCE are respected in `auto`).
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto)]
    pub color: Color,

    #[command(subcommand)]
    pub command: Command,
}

/// ckalab's command line, its version naming the Kubernetes and etcd versions the labs target
/// (the pins the real binaries are built from).
pub fn command() -> clap::Command {
    let version = format!(
        "{} (Kubernetes {}, etcd {})",
        env!("CARGO_PKG_VERSION"),
        crate::binaries::pin("K8S_VERSION"),
        crate::binaries::pin("ETCD_VERSION")
    );
    <Cli as clap::CommandFactory>::command().version(version)
}

/// Parses a command line as `ckalab` does.
pub fn parse(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let matches = command().try_get_matches_from(args)?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Labs(LabsArgs),
    Show(ShowArgs),
    Learn(LearnArgs),
    Explain(ExplainArgs),
    Quiz(QuizArgs),
    Exam(ExamArgs),
    Progress(ProgressArgs),
    Doctor(DoctorArgs),
    Cluster(ClusterArgs),
    Start(StartArgs),
    Status(StatusArgs),
    Check(CheckArgs),
    Hint(HintArgs),
    Solution(SolutionArgs),
    Reset(ResetArgs),
    Stop(StopArgs),
    Shell(ShellArgs),
    Completions(CompletionsArgs),
    #[command(name = "__agent", hide = true)]
    Agent(AgentArgs),
    #[command(name = "__node", hide = true)]
    Node(NodeToolArgs),
    #[command(name = "__proctor", hide = true)]
    Proctor(ProctorArgs),
    #[command(name = "__apply", hide = true)]
    Apply(ApplyArgs),
}

/// The exam proctor's arguments: which exam to grade at its deadline.
#[derive(Debug, clap::Args)]
pub struct ProctorArgs {
    pub exam_id: i64,
    /// The home whose exam it grades: on its command line, so it is found like the agent.
    #[arg(long)]
    pub home: std::path::PathBuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

impl From<Color> for ColorChoice {
    fn from(color: Color) -> Self {
        match color {
            Color::Auto => ColorChoice::Auto,
            Color::Always => ColorChoice::Always,
            Color::Never => ColorChoice::Never,
        }
    }
}
