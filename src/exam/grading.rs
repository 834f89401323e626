//! Grading an exam: every task as its node stands, each check's share of the task's points,
//! the result recorded last, once the nodes are freed (a written result means done).

use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::ExamState;
use super::preflight::find;
use super::score::{exam_result, task_score};
use crate::backend;
use crate::catalog::{BackendKind, Catalog};
use crate::engine::checks;
use crate::engine::verdict::{CheckResult, Report, Verdict};
use crate::error::Result;
use crate::home::Home;
use crate::store::{ExamRow, Store};

/// Grades every task of `exam` as its node is now, records it as graded at `at` by `by`
/// (`submit`, `deadline` or `late`), and frees the nodes. Returns false when someone else
/// (submit or the proctor) graded it first.
pub async fn grade_exam(
    home: &Home,
    catalog: &Catalog,
    store: &mut Store,
    exam: &ExamRow,
    at: Timestamp,
    by: &str,
) -> Result<bool> {
    if !store.claim_exam_grading(exam.id, at, by)? {
        return Ok(false);
    }
    grade_claimed(home, catalog, store, exam, at, by == "late").await?;
    Ok(true)
}

/// Grades a claimed exam to the end. Each step overwrites what an earlier, interrupted run
/// wrote (a task's score, the result), so a grading cut short is finished by running it again.
/// A `late` grading (nobody watched the deadline) counts what the learner's last check before
/// the deadline showed, never what was fixed after it.
async fn grade_claimed(
    home: &Home,
    catalog: &Catalog,
    store: &mut Store,
    exam: &ExamRow,
    at: Timestamp,
    late: bool,
) -> Result<()> {
    let kind = exam_backend(exam);
    let mut scores = Vec::new();
    for task in &store.exam_tasks(exam.id)? {
        let at_setup = store.first_grading(task.attempt_id)?;
        if late {
            let at_deadline = store.last_grading_before(task.attempt_id, exam.deadline)?;
            let earned = task_score(task.points, &at_setup, &at_deadline);
            store.set_exam_task_score(exam.id, task.position, earned)?;
            scores.push((earned, task.points));
            continue;
        }
        let report = match find(catalog, &task.lab_id) {
            // A lab gone from the catalog cannot be graded: INVALID, its node freed anyway.
            Err(e) => Report::new(vec![CheckResult::invalid(
                &format!("lab {}", task.lab_id),
                e.to_string(),
            )]),
            Ok(lab) => match backend::open_task(home, kind, task.cluster) {
                Ok(node) => checks::grade_all(node.as_ref(), &lab.checks).await,
                Err(e) => Report::new(
                    lab.checks
                        .iter()
                        .map(|check| {
                            CheckResult::invalid(
                                &checks::describe(check),
                                format!("the task's node is gone: {e}"),
                            )
                        })
                        .collect(),
                ),
            },
        };
        let outcomes: Vec<_> = report.checks.iter().map(|c| c.outcome()).collect();
        store.record_grading(task.attempt_id, at, report.verdict, &outcomes)?;
        let verdicts: Vec<Verdict> = report.checks.iter().map(|c| c.verdict).collect();
        let earned = task_score(task.points, &at_setup, &verdicts);
        store.set_exam_task_score(exam.id, task.position, earned)?;
        scores.push((earned, task.points));
    }
    backend::free_task_nodes(home, kind).await;
    let (total, _, passed) = exam_result(&scores);
    let possible: f64 = scores.iter().map(|(_, p)| p).sum();
    store.finish_exam(exam.id, total, possible, passed)?;
    ExamState::clear(home);
    Ok(())
}

/// Before any exam command: an exam past its deadline is graded. The proctor normally did it
/// at the deadline; if it is still at it, wait for it; if it is gone (the machine was off),
/// grade now (`late`).
pub async fn settle(home: &Home, catalog: &Catalog, store: &mut Store) -> Result<()> {
    let Some(exam) = store.exams()?.into_iter().next() else {
        return Ok(());
    };
    let done = |store: &Store| -> Result<bool> {
        Ok(store
            .exam(exam.id)?
            .is_none_or(|e| e.graded_at.is_some() && e.passed.is_some()))
    };
    if done(store)? || (exam.graded_at.is_none() && crate::clock::now() < exam.deadline) {
        return Ok(());
    }
    // Past the deadline, or being graded: the proctor (or a submit) is at it. A grading the
    // proctor claimed and died in is not waited for.
    let proctor_alive =
        ExamState::load(home).is_some_and(|s| s.exam_id == exam.id && s.proctor_alive(home));
    let claimed_by_dead_proctor = !proctor_alive && exam.graded_by.as_deref() == Some("deadline");
    if proctor_alive || (exam.graded_at.is_some() && !claimed_by_dead_proctor) {
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(120) {
            if done(store)? {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    match exam.graded_at {
        None => {
            grade_exam(home, catalog, store, &exam, crate::clock::now(), "late").await?;
        }
        // Claimed, never finished: whoever claimed it is gone; finish it as it started.
        Some(at) => {
            let late = exam.graded_by.as_deref() == Some("late");
            grade_claimed(home, catalog, store, &exam, at, late).await?
        }
    }
    Ok(())
}

/// The backend an exam ran on, as the store names it.
pub fn exam_backend(exam: &ExamRow) -> BackendKind {
    if exam.backend == "kind" {
        BackendKind::Kind
    } else {
        BackendKind::Sandbox
    }
}

/// Whole seconds from now until `at`, 0 once it has passed.
pub fn seconds_until(at: Timestamp) -> i64 {
    (at.as_second() - crate::clock::now().as_second()).max(0)
}
