//! Why a node or cluster could not give the engine what it asked for, and the one policy that
//! turns that into a verdict: the learner's cluster not answering is their problem to fix
//! (FAIL); ckalab being unable to look is not (INVALID, never counted against them).

use super::verdict::Verdict;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// The node or cluster answered wrongly or not at all: a file the lab needs is missing, a
    /// command fails, the API server refuses connections or its certificate has expired.
    /// What the learner must fix.
    #[error("{0}")]
    Cluster(String),
    /// ckalab could not look: the node or its container is gone, the agent is not running, a
    /// tool or ckalab's kubeconfig is missing.
    #[error("{0}")]
    Grader(String),
}

impl Fault {
    pub fn cluster(message: impl Into<String>) -> Fault {
        Fault::Cluster(message.into())
    }

    pub fn grader(message: impl Into<String>) -> Fault {
        Fault::Grader(message.into())
    }

    /// The verdict a check gets when it meets this fault.
    pub fn verdict(&self) -> Verdict {
        match self {
            Fault::Cluster(_) => Verdict::Fail,
            Fault::Grader(_) => Verdict::Invalid,
        }
    }

    /// The same fault, its message prefixed (`/etc/kubernetes/admin.conf: ...`).
    pub fn context(self, prefix: impl std::fmt::Display) -> Fault {
        match self {
            Fault::Cluster(m) => Fault::Cluster(format!("{prefix}: {m}")),
            Fault::Grader(m) => Fault::Grader(format!("{prefix}: {m}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_not_answering_fails_and_ckalab_not_looking_is_invalid() {
        assert_eq!(Fault::cluster("refused").verdict(), Verdict::Fail);
        assert_eq!(Fault::grader("container gone").verdict(), Verdict::Invalid);
        assert_eq!(
            Fault::cluster("refused").context("/readyz").to_string(),
            "/readyz: refused"
        );
    }
}
