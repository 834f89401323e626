//! `ckalab completions <shell>`: a completion script for bash, zsh or fish that also completes
//! the catalog's names (lab ids, lessons and their aliases, domains), as kubectl's completes
//! resource names.

use clap::Args;
use clap::builder::PossibleValuesParser;
use clap_complete::Shell;

use crate::catalog::{Catalog, Domain};
use crate::error::{ExitStatus, Result};
use crate::ui::Ui;

/// Print a shell completion script: `source <(ckalab completions bash)`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(ui: &mut Ui, args: CompletionsArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    let names = named_arguments(&catalog);
    let mut command = completable(crate::cli::command(), &names);
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "ckalab", &mut script);
    ui.line(String::from_utf8_lossy(&script).trim_end())?;
    if args.shell == Shell::Fish {
        // clap_complete's fish script completes flags' values but not positional ones.
        for (subcommand, _, values) in names.iter().filter(|(_, arg, _)| !arg.starts_with('-')) {
            ui.line(format!(
                "complete -c ckalab -n \"__fish_ckalab_using_subcommand {subcommand}\" -f -a \"{}\"",
                values.join(" ")
            ))?;
        }
    }
    Ok(ExitStatus::Success)
}

/// (subcommand, argument, the names it takes): positional arguments by id, flags as `--flag`.
type NamedArgument = (&'static str, &'static str, Vec<String>);

/// The arguments that take a name from the catalog.
fn named_arguments(catalog: &Catalog) -> Vec<NamedArgument> {
    let labs: Vec<String> = catalog.lab_ids().map(String::from).collect();
    let lessons: Vec<String> = catalog.lesson_names().map(String::from).collect();
    vec![
        ("start", "lab", labs.clone()),
        ("show", "lab", labs),
        ("learn", "topic", lessons.clone()),
        ("explain", "component", lessons.clone()),
        ("quiz", "--topic", lessons),
        (
            "labs",
            "--domain",
            Domain::ALL.map(|d| d.id().to_string()).to_vec(),
        ),
    ]
}

/// The command line with the catalog's names as the values of the arguments that take them.
/// Only the completion script sees these: parsing still takes any name and suggests the
/// closest when it is unknown.
fn completable(command: clap::Command, names: &[NamedArgument]) -> clap::Command {
    names
        .iter()
        .fold(command, |command, (subcommand, arg, values)| {
            let id = arg.trim_start_matches('-');
            command.mut_subcommand(*subcommand, |c| {
                c.mut_arg(id, |a| {
                    a.value_parser(PossibleValuesParser::new(values.clone()))
                })
            })
        })
}
