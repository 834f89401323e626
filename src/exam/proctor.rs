//! The proctor: a small detached process that grades the exam at its deadline, whether or not
//! the learner submits, so nothing done after the deadline counts.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::grading::{grade_exam, seconds_until};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::home::Home;
use crate::store::Store;

/// Starts the proctor for `exam_id` (`ckalab __proctor <id> --home <home>`, its own process group, so
/// closing the terminal does not stop it; its log in `$CKALAB_HOME/proctor.log`). Returns its
/// pid.
pub fn spawn(home: &Home, exam_id: i64) -> Result<u32> {
    use std::os::unix::process::CommandExt;
    let failed = |e: std::io::Error| {
        Error::System(format!(
            "cannot start the exam proctor: {e}\nhint: check free disk space and the permissions of CKALAB_HOME, then `ckalab exam start` again"
        ))
    };
    let log = std::fs::File::create(home.root().join("proctor.log")).map_err(failed)?;
    let exe = std::env::current_exe().map_err(failed)?;
    let child = Command::new(exe)
        .args(["__proctor", &exam_id.to_string(), "--home"])
        .arg(home.root())
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(failed)?)
        .stderr(log)
        // Its own process group: closing the terminal (SIGHUP to the group) leaves it running.
        .process_group(0)
        .spawn()
        .map_err(failed)?;
    Ok(child.id())
}

/// Sleeps until the deadline (leaving early when the exam is graded by a submit), then grades
/// the nodes as they stand and frees them.
pub async fn watch(home: &Home, catalog: &Catalog, exam_id: i64) -> Result<()> {
    let open = || Store::open(&home.database()).map_err(Error::from);
    let Some(exam) = open()?.exam(exam_id)? else {
        return Ok(());
    };
    let due = Instant::now() + Duration::from_secs(seconds_until(exam.deadline).unsigned_abs());
    loop {
        // A vanished home or database (a deleted test directory) ends the proctor too.
        let mut store = open()?;
        match store.exam(exam_id)? {
            Some(exam) if exam.graded_at.is_none() => {}
            _ => return Ok(()),
        }
        if Instant::now() >= due {
            grade_exam(home, catalog, &mut store, &exam, exam.deadline, "deadline").await?;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500).min(due - Instant::now())).await;
    }
}
