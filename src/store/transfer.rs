//! Moving a learner's history between machines: every progress table as JSON rows, imported by
//! merging (rows already present are skipped, ids are renumbered after the existing ones), and
//! a reset that empties them.

use std::collections::HashMap;

use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::{Store, StoreError};

const FORMAT: &str = "ckalab-progress";
const VERSION: u64 = 1;

/// The progress tables, parents before children. `clusters` is this machine's, not progress.
const TABLES: [&str; 7] = [
    "exams",
    "attempts",
    "gradings",
    "check_results",
    "exam_tasks",
    "exam_replacements",
    "quiz_answers",
];

/// What an import added and skipped.
#[derive(Debug, Default, serde::Serialize)]
pub struct ImportCounts {
    pub attempts: u32,
    pub exams: u32,
    pub quiz_answers: u32,
    pub skipped: u32,
}

fn to_json(value: Sql) -> Value {
    match value {
        Sql::Null | Sql::Blob(_) => Value::Null,
        Sql::Integer(i) => i.into(),
        Sql::Real(r) => r.into(),
        Sql::Text(t) => t.into(),
    }
}

fn to_sql(value: &Value) -> Sql {
    match value {
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::Number(n) => n
            .as_i64()
            .map(Sql::Integer)
            .or_else(|| n.as_f64().map(Sql::Real))
            .unwrap_or(Sql::Null),
        Value::String(s) => Sql::Text(s.clone()),
        _ => Sql::Null,
    }
}

fn int(row: &Map<String, Value>, column: &str) -> Option<i64> {
    row.get(column).and_then(Value::as_i64)
}

impl Store {
    /// Every progress row, as a JSON document `import` reads back.
    pub fn export(&self, now: jiff::Timestamp) -> Result<Value, StoreError> {
        let mut tables = Map::new();
        for table in TABLES {
            let mut statement = self
                .conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
                .map_err(|e| self.err(e))?;
            let columns: Vec<String> = statement
                .column_names()
                .iter()
                .map(|c| c.to_string())
                .collect();
            let rows = statement
                .query_map([], |row| {
                    let mut object = Map::new();
                    for (i, column) in columns.iter().enumerate() {
                        object.insert(column.clone(), to_json(row.get::<_, Sql>(i)?));
                    }
                    Ok(Value::Object(object))
                })
                .map_err(|e| self.err(e))?;
            let rows: Vec<Value> = rows.collect::<Result<_, _>>().map_err(|e| self.err(e))?;
            tables.insert(table.to_string(), Value::Array(rows));
        }
        Ok(serde_json::json!({
            "format": FORMAT,
            "version": VERSION,
            "exported_at": now.to_string(),
            "tables": tables,
        }))
    }

    /// Merges an exported document into this database, in one transaction: nothing is written
    /// unless all of it is.
    pub fn import(&mut self, document: &Value) -> Result<ImportCounts, StoreError> {
        let invalid = |reason: String| StoreError::Import { reason };
        if document["format"] != FORMAT {
            return Err(invalid("it is not a ckalab progress export".into()));
        }
        if document["version"].as_u64() != Some(VERSION) {
            return Err(invalid(format!(
                "export version {} is not one this ckalab reads ({VERSION})",
                document["version"]
            )));
        }
        let rows = |table: &str| -> Vec<Map<String, Value>> {
            document["tables"][table]
                .as_array()
                .map(|rows| rows.iter().filter_map(|r| r.as_object().cloned()).collect())
                .unwrap_or_default()
        };
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        let max_id = |table: &str| -> Result<i64, rusqlite::Error> {
            tx.query_row(
                &format!("SELECT coalesce(max(id), 0) FROM {table}"),
                [],
                |r| r.get(0),
            )
        };
        let (exam_base, attempt_base, grading_base) = (
            max_id("exams").map_err(err)?,
            max_id("attempts").map_err(err)?,
            max_id("gradings").map_err(err)?,
        );
        let insert = |table: &str, row: &Map<String, Value>| -> Result<(), rusqlite::Error> {
            let columns: Vec<&String> = row.keys().collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                columns
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                (1..=columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let values: Vec<Sql> = row.values().map(to_sql).collect();
            tx.execute(&sql, rusqlite::params_from_iter(values))
                .map(drop)
        };
        let exists =
            |sql: &str, params: &[&dyn rusqlite::ToSql]| -> Result<bool, rusqlite::Error> {
                tx.query_row(&format!("SELECT EXISTS ({sql})"), params, |r| r.get(0))
            };

        let mut counts = ImportCounts::default();
        // Old id → new id of the rows inserted now.
        let mut exams: HashMap<i64, i64> = HashMap::new();
        let mut attempts: HashMap<i64, i64> = HashMap::new();
        let mut gradings: HashMap<i64, i64> = HashMap::new();
        for mut row in rows("exams") {
            let old = int(&row, "id").unwrap_or_default();
            let here = exists(
                "SELECT 1 FROM exams WHERE seed = ?1 AND started_at = ?2",
                &[&int(&row, "seed"), &int(&row, "started_at")],
            )
            .map_err(err)?;
            if here {
                counts.skipped += 1;
                continue;
            }
            row.insert("id".into(), (old + exam_base).into());
            insert("exams", &row).map_err(err)?;
            exams.insert(old, old + exam_base);
            counts.exams += 1;
        }
        for mut row in rows("attempts") {
            let old = int(&row, "id").unwrap_or_default();
            let exam = int(&row, "exam_id");
            let here = exists(
                "SELECT 1 FROM attempts WHERE lab_id = ?1 AND started_at = ?2",
                &[
                    &row.get("lab_id").and_then(Value::as_str),
                    &int(&row, "started_at"),
                ],
            )
            .map_err(err)?;
            // An exam task belongs with its exam: skipped with it, kept with it.
            if here || exam.is_some_and(|e| !exams.contains_key(&e)) {
                counts.skipped += 1;
                continue;
            }
            row.insert("id".into(), (old + attempt_base).into());
            row.insert(
                "exam_id".into(),
                exam.and_then(|e| exams.get(&e)).copied().into(),
            );
            insert("attempts", &row).map_err(err)?;
            attempts.insert(old, old + attempt_base);
            counts.attempts += 1;
        }
        for mut row in rows("gradings") {
            let old = int(&row, "id").unwrap_or_default();
            let Some(attempt) = int(&row, "attempt_id").and_then(|a| attempts.get(&a)) else {
                continue;
            };
            row.insert("attempt_id".into(), (*attempt).into());
            row.insert("id".into(), (old + grading_base).into());
            insert("gradings", &row).map_err(err)?;
            gradings.insert(old, old + grading_base);
        }
        for mut row in rows("check_results") {
            let Some(grading) = int(&row, "grading_id").and_then(|g| gradings.get(&g)) else {
                continue;
            };
            row.insert("grading_id".into(), (*grading).into());
            insert("check_results", &row).map_err(err)?;
        }
        for table in ["exam_tasks", "exam_replacements"] {
            for mut row in rows(table) {
                let Some(exam) = int(&row, "exam_id").and_then(|e| exams.get(&e)) else {
                    continue;
                };
                row.insert("exam_id".into(), (*exam).into());
                if let Some(attempt) = int(&row, "attempt_id") {
                    row.insert("attempt_id".into(), attempts.get(&attempt).copied().into());
                }
                insert(table, &row).map_err(err)?;
            }
        }
        for mut row in rows("quiz_answers") {
            let here = exists(
                "SELECT 1 FROM quiz_answers WHERE question_id = ?1 AND answered_at = ?2",
                &[
                    &row.get("question_id").and_then(Value::as_str),
                    &int(&row, "answered_at"),
                ],
            )
            .map_err(err)?;
            if here {
                counts.skipped += 1;
                continue;
            }
            row.remove("id");
            insert("quiz_answers", &row).map_err(err)?;
            counts.quiz_answers += 1;
        }
        tx.commit().map_err(err)?;
        Ok(counts)
    }

    /// Deletes every progress row (the kind clusters ckalab created stay recorded).
    pub fn reset_progress(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        for table in TABLES.iter().rev() {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(err)?;
        }
        tx.commit().map_err(err)
    }
}
