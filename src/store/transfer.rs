//! Moving a learner's history between machines: every progress table as JSON rows, imported by
//! merging (rows already present are skipped, ids are renumbered after the existing ones), and
//! a reset that empties them.

use std::collections::{HashMap, HashSet};

use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::{Store, StoreError};
use crate::ui::printable;

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

/// The longest text an import accepts in one field: every real value (a lab id, a check's
/// message) is far shorter.
const MAX_TEXT: usize = 64 * 1024;

/// A column of a progress table, as SQLite declares it.
struct Column {
    kind: String,
    not_null: bool,
}

/// The columns of `table`, by name.
fn columns(
    tx: &rusqlite::Transaction<'_>,
    table: &str,
) -> Result<HashMap<String, Column>, rusqlite::Error> {
    let mut statement = tx.prepare(&format!("PRAGMA table_info({table})"))?;
    let rows = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>("name")?,
            Column {
                kind: row.get::<_, String>("type")?,
                not_null: row.get::<_, bool>("notnull")?,
            },
        ))
    })?;
    rows.collect()
}

/// Why a row cannot go into `table`: a column the table lacks (its name is never pasted into
/// SQL), or a value of the wrong type, missing or too long.
fn invalid_row(
    table: &str,
    row: &Map<String, Value>,
    schema: &HashMap<String, Column>,
) -> Option<String> {
    for (name, value) in row {
        let Some(column) = schema.get(name) else {
            return Some(format!("{table} has no column `{}`", printable(name)));
        };
        let fits = match (column.kind.as_str(), value) {
            (_, Value::Null) => !column.not_null,
            ("INTEGER", Value::Number(n)) => n.is_i64(),
            ("INTEGER", Value::Bool(_)) => true,
            ("REAL", Value::Number(_)) => true,
            // No escape sequence from a file ever reaches the terminal through `progress`.
            ("TEXT", Value::String(text)) => {
                text.len() <= MAX_TEXT
                    && !text
                        .chars()
                        .any(|c| c.is_control() && c != '\n' && c != '\t')
            }
            _ => false,
        };
        if !fits {
            return Some(format!(
                "{table}.{name}: {} is not {}",
                printable(&value.to_string().chars().take(40).collect::<String>()),
                match column.kind.as_str() {
                    "INTEGER" => "a whole number",
                    "REAL" => "a number",
                    _ => "a text of at most 64 KiB without control characters",
                }
            ));
        }
    }
    None
}

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
        // A row the table's own constraints refuse (a result that is not PASS, FAIL or
        // INVALID, a key given twice) is the file's fault, not the database's.
        let rejected = |source: rusqlite::Error| match source.sqlite_error_code() {
            Some(rusqlite::ErrorCode::ConstraintViolation) => invalid(source.to_string()),
            _ => err(source),
        };
        let tx = self.conn.transaction().map_err(err)?;
        // Every row is checked against its table before anything is written.
        for table in TABLES {
            let schema = columns(&tx, table).map_err(err)?;
            if let Some(reason) = rows(table)
                .iter()
                .find_map(|row| invalid_row(table, row, &schema))
            {
                return Err(invalid(reason));
            }
        }
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
        // An id renumbered after the existing ones; one near i64::MAX cannot be.
        let renumber = |table: &str, old: i64, base: i64| {
            old.checked_add(base)
                .ok_or_else(|| invalid(format!("{table}.id {old} is out of range")))
        };
        // Column names come from the table's own schema (checked above), never from the file.
        let insert = |table: &str, row: &Map<String, Value>| -> Result<(), rusqlite::Error> {
            let columns: Vec<&str> = row.keys().map(String::as_str).collect();
            let sql = format!(
                "INSERT INTO {table} ({}) VALUES ({})",
                columns.join(", "),
                (1..=columns.len())
                    .map(|i| format!("?{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let values: Vec<Sql> = row.values().map(to_sql).collect();
            tx.prepare_cached(&sql)?
                .execute(rusqlite::params_from_iter(values))
                .map(drop)
        };
        // The keys of the rows already here, read once: an import is linear in its size.
        let keys = |sql: &str| -> Result<HashSet<(String, i64)>, rusqlite::Error> {
            let mut statement = tx.prepare(sql)?;
            let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect()
        };
        let mut exam_keys =
            keys("SELECT CAST(seed AS TEXT), started_at FROM exams").map_err(err)?;
        let mut attempt_keys = keys("SELECT lab_id, started_at FROM attempts").map_err(err)?;
        let mut answer_keys =
            keys("SELECT question_id, answered_at FROM quiz_answers").map_err(err)?;
        let text = |row: &Map<String, Value>, column: &str| match row.get(column) {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };

        let mut counts = ImportCounts::default();
        // Old id → new id of the rows inserted now.
        let mut exams: HashMap<i64, i64> = HashMap::new();
        let mut attempts: HashMap<i64, i64> = HashMap::new();
        let mut gradings: HashMap<i64, i64> = HashMap::new();
        for mut row in rows("exams") {
            let old = int(&row, "id").unwrap_or_default();
            let key = (
                text(&row, "seed"),
                int(&row, "started_at").unwrap_or_default(),
            );
            if !exam_keys.insert(key) {
                counts.skipped += 1;
                continue;
            }
            let new = renumber("exams", old, exam_base)?;
            row.insert("id".into(), new.into());
            insert("exams", &row).map_err(rejected)?;
            exams.insert(old, new);
            counts.exams += 1;
        }
        for mut row in rows("attempts") {
            let old = int(&row, "id").unwrap_or_default();
            let exam = int(&row, "exam_id");
            // An exam task belongs with its exam: skipped with it, kept with it.
            if exam.is_some_and(|e| !exams.contains_key(&e)) {
                counts.skipped += 1;
                continue;
            }
            let key = (
                text(&row, "lab_id"),
                int(&row, "started_at").unwrap_or_default(),
            );
            if !attempt_keys.insert(key) {
                counts.skipped += 1;
                continue;
            }
            let new = renumber("attempts", old, attempt_base)?;
            row.insert("id".into(), new.into());
            row.insert(
                "exam_id".into(),
                exam.and_then(|e| exams.get(&e)).copied().into(),
            );
            insert("attempts", &row).map_err(rejected)?;
            attempts.insert(old, new);
            counts.attempts += 1;
        }
        for mut row in rows("gradings") {
            let old = int(&row, "id").unwrap_or_default();
            let Some(attempt) = int(&row, "attempt_id").and_then(|a| attempts.get(&a)) else {
                continue;
            };
            row.insert("attempt_id".into(), (*attempt).into());
            let new = renumber("gradings", old, grading_base)?;
            row.insert("id".into(), new.into());
            insert("gradings", &row).map_err(rejected)?;
            gradings.insert(old, new);
        }
        for mut row in rows("check_results") {
            let Some(grading) = int(&row, "grading_id").and_then(|g| gradings.get(&g)) else {
                continue;
            };
            row.insert("grading_id".into(), (*grading).into());
            insert("check_results", &row).map_err(rejected)?;
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
                insert(table, &row).map_err(rejected)?;
            }
        }
        for mut row in rows("quiz_answers") {
            let key = (
                text(&row, "question_id"),
                int(&row, "answered_at").unwrap_or_default(),
            );
            if !answer_keys.insert(key) {
                counts.skipped += 1;
                continue;
            }
            row.remove("id");
            insert("quiz_answers", &row).map_err(rejected)?;
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
