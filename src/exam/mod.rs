//! Timed mock exams: the draw, pre-flight, grading, scoring and the running exam's proctor.
//! The store keeps the exam itself (tasks, backend, deadline, results).

pub mod contexts;
pub mod draw;
pub mod grading;
pub mod preflight;
pub mod proctor;
pub mod score;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::home::Home;

/// The proctor of the running exam, in `$CKALAB_HOME/exam.json`: the one thing about an exam
/// that is this machine's, not the record's.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExamState {
    pub exam_id: i64,
    pub proctor_pid: u32,
}

fn path(home: &Home) -> PathBuf {
    home.root().join("exam.json")
}

impl ExamState {
    pub fn load(home: &Home) -> Option<ExamState> {
        crate::atomic_file::read_json(&path(home))
    }

    pub fn save(&self, home: &Home) -> std::io::Result<()> {
        crate::atomic_file::write_json(&path(home), self)
    }

    pub fn clear(home: &Home) {
        let _ = std::fs::remove_file(path(home));
    }

    /// Whether the proctor process is still alive (and is this home's proctor of this exam,
    /// not a reused pid).
    pub fn proctor_alive(&self, home: &Home) -> bool {
        let exam = self.exam_id.to_string();
        let home = home.root().to_string_lossy();
        crate::backend::sandbox::ckalab_process_alive(
            self.proctor_pid,
            &["__proctor", &exam, "--home", &home],
        )
    }
}
