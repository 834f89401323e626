//! The lab in progress: which attempt, on which backend, since when. One at a time, kept in
//! `$CKALAB_HOME/session.json` so every command (and a new terminal) sees the same lab.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::BackendKind;
use crate::engine::cluster::ClusterTarget;
use crate::home::Home;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub attempt_id: i64,
    pub lab_id: String,
    pub variant: Option<String>,
    pub backend: BackendKind,
    /// The cluster and its versions, as `start` found them (kind; the sandbox keeps none).
    #[serde(default, alias = "kind", skip_serializing_if = "Option::is_none")]
    pub target: Option<ClusterTarget>,
    pub started_at: Timestamp,
    pub blind: bool,
    pub hints_shown: u32,
    pub solution_revealed: bool,
    /// Set when a grading passed; the clock stops there.
    pub passed_at: Option<Timestamp>,
}

fn path(home: &Home) -> PathBuf {
    home.root().join("session.json")
}

impl Session {
    pub fn load(home: &Home) -> Option<Session> {
        crate::atomic_file::read_json(&path(home))
    }

    pub fn save(&self, home: &Home) -> crate::error::Result<()> {
        crate::atomic_file::write_json(&path(home), self).map_err(|e| {
            crate::error::Error::System(format!(
                "cannot save the lab in progress to {}: {e}\nhint: check free disk space and the permissions of CKALAB_HOME",
                path(home).display()
            ))
        })
    }

    pub fn clear(home: &Home) {
        let _ = std::fs::remove_file(path(home));
    }

    /// The backend and cluster a node command acts on: the lab in progress's, else the sandbox
    /// node.
    pub fn node_of(session: Option<&Session>) -> (BackendKind, Option<&ClusterTarget>) {
        match session {
            Some(session) => (session.backend, session.target.as_ref()),
            None => (BackendKind::Sandbox, None),
        }
    }

    /// Seconds on the clock: until the pass, or until now.
    pub fn elapsed(&self, now: Timestamp) -> i64 {
        self.passed_at.unwrap_or(now).as_second() - self.started_at.as_second()
    }
}
