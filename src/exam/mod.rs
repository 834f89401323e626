//! Timed mock exams: the draw, the scoring, and the running exam's local state (which node
//! holds which task, the proctor's pid). The store keeps the durable record.

pub mod draw;
pub mod score;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::catalog::BackendKind;
use crate::home::Home;

/// The running exam's nodes and proctor, in `$CKALAB_HOME/exam.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExamState {
    pub exam_id: i64,
    pub backend: BackendKind,
    pub proctor_pid: Option<u32>,
}

fn path(home: &Home) -> PathBuf {
    home.root().join("exam.json")
}

impl ExamState {
    pub fn load(home: &Home) -> Option<ExamState> {
        serde_json::from_str(&std::fs::read_to_string(path(home)).ok()?).ok()
    }

    pub fn save(&self, home: &Home) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::sandbox::state::write_atomic(&path(home), &bytes)
    }

    pub fn clear(home: &Home) {
        let _ = std::fs::remove_file(path(home));
    }

    /// Whether the proctor process is still alive (and is ckalab's proctor, not a reused pid).
    pub fn proctor_alive(&self) -> bool {
        self.proctor_pid
            .is_some_and(|pid| crate::sandbox::ckalab_process_alive(pid, &["__proctor"]))
    }
}

/// On the sandbox each task has its own node, as each CKA task has its own host.
pub fn task_node_dir(home: &Home, position: u32) -> PathBuf {
    home.sandbox_dir().join(format!("exam-{position}"))
}
