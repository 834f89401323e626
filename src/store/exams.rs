//! Mock exams: the exam, its tasks (each an attempt with `exam_id` set), the tasks pre-flight
//! replaced, and the grading at submit or deadline.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError, ts};

#[derive(Debug, Clone, Serialize)]
pub struct ExamRow {
    pub id: i64,
    pub seed: u64,
    pub backend: String,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub started_at: Timestamp,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub deadline: Timestamp,
    /// When it was graded; `None` while it runs.
    #[serde(serialize_with = "crate::clock::rfc3339_optional")]
    pub graded_at: Option<Timestamp>,
    pub graded_by: Option<String>,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub passed: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExamTaskRow {
    pub position: u32,
    pub lab_id: String,
    pub variant: Option<String>,
    pub points: f64,
    pub flagged: bool,
    pub attempt_id: i64,
    /// Points earned; `None` until graded.
    pub score: Option<f64>,
    /// The cluster the task runs on, from 1.
    pub cluster: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplacementRow {
    pub lab_id: String,
    pub variant: Option<String>,
    pub reason: String,
}

/// A task to add to an exam.
pub struct NewExamTask<'a> {
    pub position: u32,
    pub lab_id: &'a str,
    pub variant: Option<&'a str>,
    pub points: f64,
    pub cluster: u32,
}

impl Store {
    /// Records a new exam whose clock starts at `started_at`.
    pub fn create_exam(
        &self,
        seed: u64,
        backend: &str,
        started_at: Timestamp,
        deadline: Timestamp,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO exams (seed, backend, started_at, deadline) VALUES (?1, ?2, ?3, ?4)",
                params![
                    seed as i64,
                    backend,
                    started_at.as_second(),
                    deadline.as_second()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Adds a task (and its attempt, started with the exam's clock); returns the attempt.
    pub fn add_exam_task(
        &self,
        exam_id: i64,
        task: &NewExamTask,
        backend: &str,
        started_at: Timestamp,
    ) -> Result<i64, StoreError> {
        let attempt_id =
            self.start_attempt(task.lab_id, task.variant, backend, false, started_at)?;
        self.conn
            .execute(
                "UPDATE attempts SET exam_id = ?1 WHERE id = ?2",
                params![exam_id, attempt_id],
            )
            .map_err(|e| self.err(e))?;
        self.conn
            .execute(
                "INSERT INTO exam_tasks (exam_id, position, lab_id, variant, points, attempt_id, cluster)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    exam_id,
                    task.position,
                    task.lab_id,
                    task.variant,
                    task.points,
                    attempt_id,
                    task.cluster
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(attempt_id)
    }

    /// The verdict of each check (by position) in an attempt's first grading: for an exam
    /// task, the pre-flight right after setup.
    pub fn first_grading(&self, attempt_id: i64) -> Result<Vec<super::Verdict>, StoreError> {
        self.grading_verdicts(
            "SELECT min(id) FROM gradings WHERE attempt_id = ?1 AND graded_at <= ?2",
            attempt_id,
            i64::MAX,
        )
    }

    /// The verdicts of the attempt's last grading at or before `at`: what stood then, as far
    /// as anyone looked.
    pub fn last_grading_before(
        &self,
        attempt_id: i64,
        at: Timestamp,
    ) -> Result<Vec<super::Verdict>, StoreError> {
        self.grading_verdicts(
            "SELECT max(id) FROM gradings WHERE attempt_id = ?1 AND graded_at <= ?2",
            attempt_id,
            at.as_second(),
        )
    }

    /// Every check of the attempt's last grading, with its message: what an exam report shows.
    pub fn last_grading_checks(
        &self,
        attempt_id: i64,
    ) -> Result<Vec<super::CheckOutcome>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT check_name, outcome, message FROM check_results
                 WHERE grading_id = (SELECT max(id) FROM gradings WHERE attempt_id = ?1)
                 ORDER BY position",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([attempt_id], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, String, String)> =
            rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        Ok(rows
            .into_iter()
            .filter_map(|(name, outcome, message)| {
                Some(super::CheckOutcome {
                    name,
                    verdict: super::Verdict::parse(&outcome)?,
                    message,
                })
            })
            .collect())
    }

    /// The check verdicts of the grading `which` selects, in check order.
    fn grading_verdicts(
        &self,
        which: &str,
        attempt_id: i64,
        at: i64,
    ) -> Result<Vec<super::Verdict>, StoreError> {
        let mut statement = self
            .conn
            .prepare(&format!(
                "SELECT outcome FROM check_results WHERE grading_id = ({which}) ORDER BY position"
            ))
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(params![attempt_id, at], |row| row.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        let outcomes: Vec<String> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
        Ok(outcomes
            .iter()
            .filter_map(|o| super::Verdict::parse(o))
            .collect())
    }

    pub fn add_exam_replacement(
        &self,
        exam_id: i64,
        replaced: &ReplacementRow,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO exam_replacements (exam_id, lab_id, variant, reason)
                 VALUES (?1, ?2, ?3, ?4)",
                params![exam_id, replaced.lab_id, replaced.variant, replaced.reason],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Claims the grading of an exam: true for exactly one caller (submit or the proctor),
    /// false when it was graded already.
    pub fn claim_exam_grading(
        &self,
        exam_id: i64,
        at: Timestamp,
        by: &str,
    ) -> Result<bool, StoreError> {
        self.conn
            .execute(
                "UPDATE exams SET submitted_at = ?2, graded_by = ?3
                 WHERE id = ?1 AND submitted_at IS NULL",
                params![exam_id, at.as_second(), by],
            )
            .map(|changed| changed == 1)
            .map_err(|e| self.err(e))
    }

    pub fn set_exam_task_score(
        &self,
        exam_id: i64,
        position: u32,
        score: f64,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE exam_tasks SET score = ?3 WHERE exam_id = ?1 AND position = ?2",
                params![exam_id, position, score],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn finish_exam(
        &self,
        exam_id: i64,
        score: f64,
        max_score: f64,
        passed: bool,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE exams SET score = ?2, max_score = ?3, passed = ?4 WHERE id = ?1",
                params![exam_id, score, max_score, passed],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn flag_exam_task(
        &self,
        exam_id: i64,
        position: u32,
        flagged: bool,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE exam_tasks SET flagged = ?3 WHERE exam_id = ?1 AND position = ?2",
                params![exam_id, position, flagged],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    pub fn exam(&self, exam_id: i64) -> Result<Option<ExamRow>, StoreError> {
        self.exams_where("WHERE id = ?1", params![exam_id])
            .map(|mut rows| rows.pop())
    }

    /// Every exam, newest first.
    pub fn exams(&self) -> Result<Vec<ExamRow>, StoreError> {
        self.exams_where("", params![])
    }

    fn exams_where(
        &self,
        filter: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<ExamRow>, StoreError> {
        let sql = format!(
            "SELECT id, seed, backend, started_at, deadline, submitted_at, graded_by, score,
                    max_score, passed
             FROM exams {filter} ORDER BY started_at DESC, id DESC"
        );
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = statement
            .query_map(params, |row| {
                Ok(ExamRow {
                    id: row.get(0)?,
                    seed: row.get::<_, i64>(1)? as u64,
                    backend: row.get(2)?,
                    started_at: ts(row.get(3)?),
                    deadline: ts(row.get(4)?),
                    graded_at: row.get::<_, Option<i64>>(5)?.map(ts),
                    graded_by: row.get(6)?,
                    score: row.get(7)?,
                    max_score: row.get(8)?,
                    passed: row.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn exam_tasks(&self, exam_id: i64) -> Result<Vec<ExamTaskRow>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT position, lab_id, variant, points, flagged, attempt_id, score,
                        coalesce(cluster, position)
                 FROM exam_tasks WHERE exam_id = ?1 ORDER BY position",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([exam_id], |row| {
                Ok(ExamTaskRow {
                    position: row.get(0)?,
                    lab_id: row.get(1)?,
                    variant: row.get(2)?,
                    points: row.get(3)?,
                    flagged: row.get(4)?,
                    attempt_id: row.get(5)?,
                    score: row.get(6)?,
                    cluster: row.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn exam_replacements(&self, exam_id: i64) -> Result<Vec<ReplacementRow>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT lab_id, variant, reason FROM exam_replacements WHERE exam_id = ?1")
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([exam_id], |row| {
                Ok(ReplacementRow {
                    lab_id: row.get(0)?,
                    variant: row.get(1)?,
                    reason: row.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The exam still running (not graded), if any.
    pub fn running_exam(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT id FROM exams WHERE submitted_at IS NULL ORDER BY id DESC LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}
