//! Exam scoring: partial credit per check, and the CKA's pass mark.

use crate::store::Verdict;

/// The CKA pass mark, in percent.
pub const PASS_MARK: f64 = 66.0;

/// Points earned on a task. Its points are shared among the checks that failed when the task
/// was set up (what the learner must fix); each one passing now earns its share. Checks that
/// already passed at setup earn nothing, but one failing now means the learner broke what
/// worked, and the task earns 0. A check the grader could not run (INVALID) earns nothing.
pub fn task_score(points: f64, at_setup: &[Verdict], now: &[Verdict]) -> f64 {
    let needed: Vec<usize> = (0..now.len())
        .filter(|&i| at_setup.get(i) != Some(&Verdict::Pass))
        .collect();
    let broke_what_worked =
        (0..now.len()).any(|i| at_setup.get(i) == Some(&Verdict::Pass) && now[i] != Verdict::Pass);
    if needed.is_empty() || broke_what_worked {
        return 0.0;
    }
    let fixed = needed.iter().filter(|&&i| now[i] == Verdict::Pass).count();
    round(points * fixed as f64 / needed.len() as f64)
}

/// (total, percent, passed) over the tasks' (earned, possible) points.
pub fn exam_result(tasks: &[(f64, f64)]) -> (f64, f64, bool) {
    let earned: f64 = tasks.iter().map(|(e, _)| e).sum();
    let possible: f64 = tasks.iter().map(|(_, p)| p).sum();
    let percent = if possible > 0.0 {
        round(earned * 100.0 / possible)
    } else {
        0.0
    };
    (round(earned), percent, percent >= PASS_MARK)
}

/// One decimal, as scores are shown.
fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use Verdict::{Fail, Invalid, Pass};

    #[test]
    fn partial_credit_per_check_that_needed_fixing() {
        let setup = [Fail, Fail, Pass, Fail];
        assert_eq!(task_score(12.0, &setup, &[Pass, Pass, Pass, Fail]), 8.0);
        assert_eq!(task_score(12.0, &setup, &[Pass, Pass, Pass, Pass]), 12.0);
        assert_eq!(task_score(12.0, &setup, &setup), 0.0, "nothing fixed");
        assert_eq!(
            task_score(10.0, &[Fail, Fail, Fail], &[Pass, Fail, Fail]),
            3.3
        );
        assert_eq!(task_score(10.0, &[Fail, Fail], &[Pass, Invalid]), 5.0);
        // Fixing the task but breaking what worked earns nothing.
        assert_eq!(task_score(12.0, &setup, &[Pass, Pass, Fail, Pass]), 0.0);
        assert_eq!(task_score(10.0, &[], &[]), 0.0);
    }

    #[test]
    fn the_total_sums_the_tasks_against_the_pass_mark() {
        // 9 of 12, 10 of 10, 0 of 20, 12 of 12: 31 of 54 = 57.4%.
        let (total, percent, passed) =
            exam_result(&[(9.0, 12.0), (10.0, 10.0), (0.0, 20.0), (12.0, 12.0)]);
        assert_eq!((total, percent, passed), (31.0, 57.4, false));
        assert_eq!(exam_result(&[(6.6, 10.0)]), (6.6, 66.0, true));
        assert_eq!(exam_result(&[(6.5, 10.0)]), (6.5, 65.0, false));
        assert_eq!(exam_result(&[]), (0.0, 0.0, false));
    }
}
