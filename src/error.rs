//! Errors a user can hit, each saying what happened and what to do next, and the exit codes
//! they map to.

use crate::backend::sandbox::SandboxError;
use crate::catalog::CatalogErrors;
use crate::home::HomeError;
use crate::store::StoreError;
use crate::suggest::format_suggestions;

/// Exit codes, documented in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    Success = 0,
    /// A grading found the lab still broken; or a general failure.
    Fail = 1,
    /// Bad usage: an unknown flag, lab, lesson or domain.
    Usage = 2,
    /// The grader could not look (tool missing, node gone).
    Invalid = 3,
    /// The environment is not usable: a damaged database, an invalid catalog, no home.
    Environment = 4,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The learner named a lab the catalog does not have.
    #[error("no lab named `{name}`{}\nhint: `ckalab labs` lists every lab", format_suggestions(.suggestions))]
    UnknownLab {
        name: String,
        suggestions: Vec<String>,
    },
    /// The learner named a lesson or component no lesson covers.
    #[error("no lesson or component named `{name}`{}\nhint: `ckalab learn` lists every lesson", format_suggestions(.suggestions))]
    UnknownTopic {
        name: String,
        suggestions: Vec<String>,
    },
    /// The learner named a CKA domain that does not exist.
    #[error("no CKA domain named `{name}`{}\nhint: domains are {}", format_suggestions(.suggestions), crate::catalog::Domain::ALL.map(|d| d.id()).join(", "))]
    UnknownDomain {
        name: String,
        suggestions: Vec<String>,
    },
    #[error(transparent)]
    Catalog(#[from] CatalogErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Home(#[from] HomeError),
    #[error(transparent)]
    Sandbox(#[from] crate::backend::sandbox::SandboxError),
    /// A node that did not become healthy, on either backend.
    #[error("the {node} is not healthy: {reason}\nhint: {hint}")]
    Unhealthy {
        node: String,
        reason: String,
        hint: &'static str,
    },
    /// The learner asked for a lab on a backend it does not run on.
    #[error(
        "lab `{lab}` does not run on the {backend} backend{}\nhint: its backends are {known}",
        if *backend == crate::catalog::BackendKind::Sandbox {
            format!(": {}", crate::catalog::SANDBOX_LIMITS)
        } else {
            String::new()
        }
    )]
    UnsupportedBackend {
        lab: String,
        backend: crate::catalog::BackendKind,
        known: String,
    },
    /// The kind cluster could not be created, reached or changed.
    #[error(transparent)]
    Cluster(crate::backend::kind::cluster::ClusterError),
    /// A command that needs a lab in progress ran without one.
    #[error(
        "no lab is in progress\nhint: `ckalab labs` lists the labs; `ckalab start <lab>` starts one"
    )]
    NoLab,
    /// A lab's own step failed: a bug in the lab or a node in a state the lab cannot act on.
    #[error(
        "{0}\nhint: `ckalab reset` rebuilds the node; if this keeps happening, the lab is broken: please report it"
    )]
    Step(#[from] crate::engine::steps::StepError),
    /// The learner named a variant the lab does not have.
    #[error("lab `{lab}` has no variant `{name}`\nhint: its variants are {known}")]
    UnknownVariant {
        lab: String,
        name: String,
        known: String,
    },
    /// Arguments that parse but do not make sense together, or an unreadable input file.
    #[error("{0}")]
    Usage(String),
    /// Starting the async runtime or a child process failed.
    #[error("{0}")]
    System(String),
    /// Writing to the terminal failed (a closed pipe is not reported).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
}

impl Error {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::UnknownLab { .. } | Error::UnknownTopic { .. } | Error::UnknownDomain { .. } => {
                ExitStatus::Usage
            }
            Error::UnknownVariant { .. }
            | Error::UnsupportedBackend { .. }
            | Error::NoLab
            | Error::Usage(_)
            | Error::Store(StoreError::Import { .. }) => ExitStatus::Usage,
            // A missing docker or kind, or a container ckalab refuses to touch, is the
            // environment, not the learner's answer.
            Error::Catalog(_)
            | Error::Store(_)
            | Error::Home(_)
            | Error::System(_)
            | Error::Unhealthy { .. }
            | Error::Cluster(_) => ExitStatus::Environment,
            Error::Sandbox(err) => match err {
                // The node or a tool it runs is missing: ckalab cannot look, as on kind.
                SandboxError::MissingTool { .. } | SandboxError::Absent => ExitStatus::Invalid,
                SandboxError::PathTooLong(_)
                | SandboxError::Build { .. }
                | SandboxError::Unhealthy { .. } => ExitStatus::Environment,
            },
            // A step ckalab could not carry out is never the learner's wrong answer.
            Error::Step(_) => ExitStatus::Invalid,
            Error::Output(_) => ExitStatus::Fail,
        }
    }

    /// `ckalab labs | head -1` closes the pipe early: that is a normal end, not an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Output(err) if err.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error with its causes, for libraries whose top message hides why: kube says only
/// `ServiceError: client error (Connect)` (refused? an expired certificate?), tera only
/// "failed to render". A cause the text already holds is not repeated.
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut next = err.source();
    while let Some(cause) = next {
        let said = cause.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BackendKind;

    /// The same condition exits the same way on both backends, as the README's table says.
    #[test]
    fn exit_codes_follow_the_readme() {
        let unhealthy = Error::Unhealthy {
            node: "kind node ckalab-control-plane".into(),
            reason: "etcd is healthy: refused".into(),
            hint: "",
        };
        assert_eq!(unhealthy.exit_status(), ExitStatus::Environment);
        let sandbox_unhealthy = Error::Sandbox(SandboxError::Unhealthy {
            reason: "the node agent exited".into(),
            log: "agent.log".into(),
            journals: "journal".into(),
        });
        assert_eq!(sandbox_unhealthy.exit_status(), ExitStatus::Environment);
        let elsewhere = Error::UnsupportedBackend {
            lab: "etcd-restore".into(),
            backend: BackendKind::Sandbox,
            known: "kind".into(),
        };
        assert_eq!(elsewhere.exit_status(), ExitStatus::Usage);
        let step = Error::Step(crate::engine::steps::StepError {
            index: 1,
            kind: "replace_text",
            fault: crate::engine::fault::Fault::cluster("no such text"),
        });
        assert_eq!(step.exit_status(), ExitStatus::Invalid);
        assert_eq!(
            Error::Sandbox(SandboxError::Absent).exit_status(),
            ExitStatus::Invalid
        );
    }
}
