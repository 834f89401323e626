//! The progress store: one SQLite file, `$CKALAB_HOME/progress.db`, in WAL mode with a busy
//! timeout so two ckalab commands at once never corrupt it.

mod exams;
mod migrations;
mod quiz;
mod transfer;

pub use exams::{ExamRow, ExamTaskRow, NewExamTask, ReplacementRow};
pub use quiz::QuizAnswerRow;
pub use transfer::ImportCounts;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

pub use migrations::APPLICATION_ID;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The file is not an SQLite database, or its pages are damaged.
    #[error(
        "the progress database {path} is damaged or not a database ({reason})\n\
         ckalab left the file untouched.\n\
         hint: move it aside to start a fresh record (mv {path} {path}.broken), or restore it from a backup"
    )]
    Corrupt { path: PathBuf, reason: String },
    /// The database (or the folder it is in) cannot be written.
    #[error(
        "the progress database {path} is read-only ({reason})\n\
         ckalab records every attempt there, so it needs to write it.\n\
         hint: make the file and its folder writable (chmod u+w), or point CKALAB_HOME at a writable directory"
    )]
    ReadOnly { path: PathBuf, reason: String },
    /// The file is a valid SQLite database, but another program's.
    #[error(
        "{path} is an SQLite database, but not ckalab's\n\
         ckalab left the file untouched.\n\
         hint: point CKALAB_HOME at another directory, or move the file aside"
    )]
    Foreign { path: PathBuf },
    /// A newer ckalab wrote this database.
    #[error(
        "the progress database {path} was written by a newer ckalab (schema {found}, this one knows {known})\n\
         hint: upgrade ckalab (cargo install --path . in a newer checkout)"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// Any other SQLite failure (disk full, permissions, ...).
    #[error(
        "the progress database {path} failed: {source}\nhint: check the file's permissions and free disk space"
    )]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// A progress export that cannot be imported; nothing was written.
    #[error(
        "cannot import that file: {reason}\nNothing was imported.\nhint: import a file written by `ckalab progress --export`"
    )]
    Import { reason: String },
}

pub use crate::engine::verdict::Verdict;

/// What the learner has done with one lab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LabRecord {
    pub attempts: u32,
    pub passes: u32,
    /// The latest graded attempt's verdict.
    pub last_result: Option<Verdict>,
    /// Fastest passing attempt, start to pass, in seconds.
    pub best_seconds: Option<i64>,
}

/// One attempt, for listings.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptRow {
    pub id: i64,
    pub lab_id: String,
    pub variant: Option<String>,
    pub backend: String,
    /// RFC 3339, as the README documents.
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub started_at: Timestamp,
    #[serde(serialize_with = "crate::clock::rfc3339_optional")]
    pub ended_at: Option<Timestamp>,
    pub hints_used: u32,
    pub solution_revealed: bool,
    pub result: Option<Verdict>,
    /// The exam the attempt was a task of.
    pub exam_id: Option<i64>,
}

/// A stored time (whole seconds since the epoch).
fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Whole seconds in UTC (`2026-11-03T10:00:00Z`): JSON readers need no sub-second parsing.
/// A kind cluster ckalab created.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterRecord {
    pub name: String,
    /// `docker` or `podman`.
    pub provider: String,
    /// The built-in config it was made from (`ckalab`, `three-nodes`).
    pub config: String,
    /// ckalab's own kubeconfig file for it.
    pub kubeconfig: String,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub created_at: Timestamp,
}

/// One check's outcome inside a grading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckOutcome {
    pub name: String,
    pub verdict: Verdict,
    pub message: String,
}

/// Totals for `ckalab progress`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub attempts: u32,
    pub labs_passed: u32,
    pub exams: u32,
    pub quiz_answers: u32,
    pub quiz_correct: u32,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Whether SQLite's words mean it could not write (a read-only file system or folder: the WAL
/// files beside the database cannot be made), rather than a damaged file.
fn unwritable(reason: &str) -> bool {
    [
        "readonly database",
        "read-only file system",
        "unable to open database file",
    ]
    .iter()
    .any(|words| reason.contains(words))
}

impl Store {
    /// Opens (creating if needed) the database at `path`, refusing damaged or foreign files
    /// before writing a byte to them.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let sqlite = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let existed = path.metadata().is_ok_and(|m| m.len() > 0);
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if !existed {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
        if !existed {
            // The learner's history is theirs alone.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| StoreError::ReadOnly {
                    path: path.to_path_buf(),
                    reason: e.to_string(),
                },
            )?;
        }
        conn.busy_timeout(Duration::from_secs(10)).map_err(sqlite)?;
        let read_only = |reason: String| StoreError::ReadOnly {
            path: path.to_path_buf(),
            reason,
        };
        // SQLite quietly opens a file it cannot write read-only; that is no damage to report.
        if conn.is_readonly(rusqlite::MAIN_DB).map_err(sqlite)? {
            return Err(read_only("the file is not writable".into()));
        }
        if existed {
            Self::inspect(&conn, path).map_err(|e| match e {
                StoreError::Corrupt { reason, .. } if unwritable(&reason) => read_only(reason),
                other => other,
            })?;
        }
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sqlite)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(sqlite)?;
        migrations::migrations()
            .to_latest(&mut conn)
            .map_err(|err| match err {
                rusqlite_migration::Error::RusqliteError { err, .. } => sqlite(err),
                other => StoreError::Corrupt {
                    path: path.to_path_buf(),
                    reason: other.to_string(),
                },
            })?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Read-only look at an existing file: is it an intact ckalab database we understand?
    fn inspect(conn: &Connection, path: &Path) -> Result<(), StoreError> {
        let corrupt = |err: rusqlite::Error| StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: err.to_string(),
        };
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |row| row.get(0))
            .map_err(corrupt)?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                reason: check,
            });
        }
        let app_id: i32 = conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
            .map_err(corrupt)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(corrupt)?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
            .map_err(corrupt)?;
        let empty = version == 0 && app_id == 0 && tables == 0;
        if !empty && app_id != APPLICATION_ID {
            return Err(StoreError::Foreign {
                path: path.to_path_buf(),
            });
        }
        let known = migrations::migrations_count();
        if version > known {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known,
            });
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Records a kind cluster ckalab created.
    pub fn record_cluster(&self, cluster: &ClusterRecord) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO clusters (name, provider, config, kubeconfig, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    cluster.name,
                    cluster.provider,
                    cluster.config,
                    cluster.kubeconfig,
                    cluster.created_at.as_second()
                ],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Forgets a cluster once it is deleted.
    pub fn forget_cluster(&self, name: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM clusters WHERE name = ?1", [name])
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The kind cluster ckalab created most recently and has not deleted, if any: the one labs
    /// run on.
    pub fn newest_cluster(&self) -> Result<Option<ClusterRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, provider, config, kubeconfig, created_at FROM clusters
                 ORDER BY created_at DESC, rowid DESC LIMIT 1",
                [],
                |row| {
                    Ok(ClusterRecord {
                        name: row.get(0)?,
                        provider: row.get(1)?,
                        config: row.get(2)?,
                        kubeconfig: row.get(3)?,
                        created_at: ts(row.get(4)?),
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Records the start of an attempt and returns its id.
    pub fn start_attempt(
        &self,
        lab_id: &str,
        variant: Option<&str>,
        backend: &str,
        blind: bool,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO attempts (lab_id, variant, backend, blind, started_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![lab_id, variant, backend, blind, at.as_second()],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Stores one grading of an attempt; a PASS ends the attempt.
    pub fn record_grading(
        &mut self,
        attempt_id: i64,
        at: Timestamp,
        verdict: Verdict,
        checks: &[CheckOutcome],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO gradings (attempt_id, graded_at, result) VALUES (?1, ?2, ?3)",
            params![attempt_id, at.as_second(), verdict.as_str()],
        )
        .map_err(err)?;
        let grading_id = tx.last_insert_rowid();
        for (position, check) in checks.iter().enumerate() {
            tx.execute(
                "INSERT INTO check_results (grading_id, position, check_name, outcome, message)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    grading_id,
                    position as i64,
                    check.name,
                    check.verdict.as_str(),
                    check.message
                ],
            )
            .map_err(err)?;
        }
        let ended = (verdict == Verdict::Pass).then_some(at.as_second());
        tx.execute(
            "UPDATE attempts SET result = ?2, ended_at = COALESCE(ended_at, ?3) WHERE id = ?1",
            params![attempt_id, verdict.as_str(), ended],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Per-lab history, keyed by lab id.
    pub fn lab_records(&self) -> Result<HashMap<String, LabRecord>, StoreError> {
        let mut records: HashMap<String, LabRecord> = HashMap::new();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT lab_id, result, ended_at - started_at FROM attempts
                 WHERE exam_id IS NULL ORDER BY started_at, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, Option<String>>(1)?,
                    row.get::<_, Option<i64>>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (lab_id, result, seconds) = row.map_err(|e| self.err(e))?;
            let record = records.entry(lab_id).or_default();
            record.attempts += 1;
            let verdict = result.as_deref().and_then(Verdict::parse);
            if verdict.is_some() {
                record.last_result = verdict;
            }
            if verdict == Some(Verdict::Pass) {
                record.passes += 1;
                if let Some(s) = seconds {
                    record.best_seconds = Some(record.best_seconds.map_or(s, |b| b.min(s)));
                }
            }
        }
        Ok(records)
    }

    /// The latest attempts, newest first (`u32::MAX`: all of them).
    pub fn recent_attempts(&self, limit: u32) -> Result<Vec<AttemptRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, lab_id, variant, backend, started_at, ended_at, hints_used,
                        solution_revealed, result, exam_id
                 FROM attempts ORDER BY started_at DESC, id DESC LIMIT ?1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit], |row| {
                Ok(AttemptRow {
                    id: row.get(0)?,
                    lab_id: row.get(1)?,
                    variant: row.get(2)?,
                    backend: row.get(3)?,
                    started_at: ts(row.get(4)?),
                    ended_at: row.get::<_, Option<i64>>(5)?.map(ts),
                    hints_used: row.get(6)?,
                    solution_revealed: row.get(7)?,
                    result: row
                        .get::<_, Option<String>>(8)?
                        .as_deref()
                        .and_then(Verdict::parse),
                    exam_id: row.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    pub fn totals(&self) -> Result<Totals, StoreError> {
        self.conn
            .query_row(
                "SELECT
                    (SELECT count(*) FROM attempts),
                    (SELECT count(DISTINCT lab_id) FROM attempts WHERE result = 'PASS'),
                    (SELECT count(*) FROM exams),
                    (SELECT count(*) FROM quiz_answers),
                    (SELECT count(*) FROM quiz_answers WHERE correct = 1)",
                [],
                |row| {
                    Ok(Totals {
                        attempts: row.get(0)?,
                        labs_passed: row.get(1)?,
                        exams: row.get(2)?,
                        quiz_answers: row.get(3)?,
                        quiz_correct: row.get(4)?,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Marks that the learner saw the canonical fix.
    pub fn reveal_solution(&self, attempt_id: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE attempts SET solution_revealed = 1 WHERE id = ?1",
                [attempt_id],
            )
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The attempt's hints counter, after adding one.
    pub fn count_hint(&self, attempt_id: i64) -> Result<u32, StoreError> {
        self.conn
            .query_row(
                "UPDATE attempts SET hints_used = hints_used + 1 WHERE id = ?1 RETURNING hints_used",
                [attempt_id],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
            .map(Option::unwrap_or_default)
    }
}
