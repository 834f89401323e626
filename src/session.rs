//! The lab in progress: which attempt, on which backend, since when. One at a time, kept in
//! `$CKALAB_HOME/session.json` so every command (and a new terminal) sees the same lab.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::BackendKind;
use crate::home::Home;
use crate::kind::backend::KindTarget;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub attempt_id: i64,
    pub lab_id: String,
    pub variant: Option<String>,
    pub backend: BackendKind,
    /// On kind: the cluster and its versions, as `start` found them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<KindTarget>,
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
        crate::sandbox::state::read_json(&path(home))
    }

    pub fn save(&self, home: &Home) -> std::io::Result<()> {
        crate::sandbox::state::write_json(&path(home), self)
    }

    pub fn clear(home: &Home) {
        let _ = std::fs::remove_file(path(home));
    }

    /// Seconds on the clock: until the pass, or until now.
    pub fn elapsed(&self, now: Timestamp) -> i64 {
        self.passed_at.unwrap_or(now).as_second() - self.started_at.as_second()
    }
}
