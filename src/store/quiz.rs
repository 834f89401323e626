//! Quiz answers: one row per answered question.

use jiff::Timestamp;
use rusqlite::params;

use super::{Store, StoreError, ts};

/// One stored answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuizAnswerRow {
    pub question_id: String,
    pub topic: String,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub answered_at: Timestamp,
    pub answer: String,
    pub correct: bool,
}

impl Store {
    pub fn record_quiz_answer(&self, row: &QuizAnswerRow) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO quiz_answers (question_id, topic, answered_at, answer, correct)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    row.question_id,
                    row.topic,
                    row.answered_at.as_second(),
                    row.answer,
                    row.correct
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Every answer, oldest first.
    pub fn quiz_answers(&self) -> Result<Vec<QuizAnswerRow>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT question_id, topic, answered_at, answer, correct
                 FROM quiz_answers ORDER BY answered_at, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = statement
            .query_map([], |row| {
                Ok(QuizAnswerRow {
                    question_id: row.get(0)?,
                    topic: row.get(1)?,
                    answered_at: ts(row.get(2)?),
                    answer: row.get(3)?,
                    correct: row.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
