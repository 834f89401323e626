//! The schema, one migration per version. Never edit a released migration: add one.

use rusqlite_migration::{M, Migrations};

/// `PRAGMA application_id` of a ckalab database ("cklb"), so a foreign SQLite file is told
/// apart from ours before anything is written to it.
pub const APPLICATION_ID: i32 = 0x636b_6c62;

const VERSIONS: &[&str] = &[V1, V2, V3, V4];

pub fn migrations() -> Migrations<'static> {
    Migrations::new(VERSIONS.iter().map(|sql| M::up(sql)).collect())
}

/// The schema version this build migrates to.
pub fn migrations_count() -> i64 {
    VERSIONS.len() as i64
}

const V1: &str = "
PRAGMA application_id = 1667984482;

-- One start of a lab. `result` is the latest grading (NULL until graded).
CREATE TABLE attempts (
    id                INTEGER PRIMARY KEY,
    lab_id            TEXT    NOT NULL,
    variant           TEXT,
    backend           TEXT    NOT NULL,
    blind             INTEGER NOT NULL DEFAULT 0,
    started_at        INTEGER NOT NULL,
    ended_at          INTEGER,
    hints_used        INTEGER NOT NULL DEFAULT 0,
    solution_revealed INTEGER NOT NULL DEFAULT 0,
    result            TEXT CHECK (result IN ('PASS', 'FAIL', 'INVALID')),
    exam_id           INTEGER REFERENCES exams(id) ON DELETE CASCADE
);
CREATE INDEX attempts_by_lab ON attempts(lab_id, started_at);

-- One `ckalab check` of an attempt, with each check's outcome.
CREATE TABLE gradings (
    id         INTEGER PRIMARY KEY,
    attempt_id INTEGER NOT NULL REFERENCES attempts(id) ON DELETE CASCADE,
    graded_at  INTEGER NOT NULL,
    result     TEXT    NOT NULL CHECK (result IN ('PASS', 'FAIL', 'INVALID'))
);
CREATE INDEX gradings_by_attempt ON gradings(attempt_id);

CREATE TABLE check_results (
    grading_id INTEGER NOT NULL REFERENCES gradings(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    check_name TEXT    NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('PASS', 'FAIL', 'INVALID')),
    message    TEXT    NOT NULL,
    PRIMARY KEY (grading_id, position)
);

-- A timed mock exam; its tasks are attempts with `exam_id` set.
CREATE TABLE exams (
    id           INTEGER PRIMARY KEY,
    seed         INTEGER NOT NULL,
    backend      TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    deadline     INTEGER NOT NULL,
    submitted_at INTEGER,
    score        REAL,
    max_score    REAL,
    passed       INTEGER
);

CREATE TABLE exam_tasks (
    exam_id    INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    lab_id     TEXT    NOT NULL,
    variant    TEXT,
    points     REAL    NOT NULL,
    flagged    INTEGER NOT NULL DEFAULT 0,
    attempt_id INTEGER REFERENCES attempts(id),
    score      REAL,
    PRIMARY KEY (exam_id, position)
);

CREATE TABLE quiz_answers (
    id          INTEGER PRIMARY KEY,
    question_id TEXT    NOT NULL,
    topic       TEXT    NOT NULL,
    answered_at INTEGER NOT NULL,
    answer      TEXT    NOT NULL,
    correct     INTEGER NOT NULL CHECK (correct IN (0, 1))
);
CREATE INDEX quiz_answers_by_topic ON quiz_answers(topic, answered_at);
";

/// The kind clusters ckalab created (and has not deleted).
const V2: &str = "
CREATE TABLE clusters (
    name       TEXT    PRIMARY KEY,
    provider   TEXT    NOT NULL,
    config     TEXT    NOT NULL,
    kubeconfig TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
";

/// How an exam was graded (`submit`, `deadline` by the proctor, or `late` when nobody was
/// there at the deadline), and the tasks pre-flight replaced.
const V3: &str = "
ALTER TABLE exams ADD COLUMN graded_by TEXT CHECK (graded_by IN ('submit', 'deadline', 'late'));

CREATE TABLE exam_replacements (
    exam_id INTEGER NOT NULL REFERENCES exams(id) ON DELETE CASCADE,
    lab_id  TEXT    NOT NULL,
    variant TEXT,
    reason  TEXT    NOT NULL
);
";

/// The cluster each exam task runs on (exams are several clusters at once); an exam from before
/// had one node per task, numbered as its tasks.
const V4: &str = "
ALTER TABLE exam_tasks ADD COLUMN cluster INTEGER;
UPDATE exam_tasks SET cluster = position;
";

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().expect("valid migrations");
    }

    #[test]
    fn application_id_matches_the_pragma() {
        assert!(super::V1.contains(&format!("application_id = {};", super::APPLICATION_ID)));
    }
}
