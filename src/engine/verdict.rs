//! Grading results: one verdict and one sentence per check, and the lab's verdict.

use serde::Serialize;

use super::fault::Fault;
use crate::store::CheckOutcome;

/// Outcome of a grading or an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Pass,
    Fail,
    /// The grader could not look (tool missing, node gone): never scored as a wrong answer.
    Invalid,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::Invalid => "INVALID",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        [Verdict::Pass, Verdict::Fail, Verdict::Invalid]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    /// What the check asks, in a learner's words ("etcd is healthy").
    pub name: String,
    pub verdict: Verdict,
    /// Why it passed or failed, or why it could not look.
    pub message: String,
}

impl CheckResult {
    pub fn pass(name: &str, message: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            verdict: Verdict::Pass,
            message: message.into(),
        }
    }

    pub fn fail(name: &str, message: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            verdict: Verdict::Fail,
            message: message.into(),
        }
    }

    pub fn invalid(name: &str, message: impl Into<String>) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            verdict: Verdict::Invalid,
            message: message.into(),
        }
    }

    /// A check that could not get its answer: FAIL or INVALID as the fault decides.
    pub fn fault(name: &str, fault: &Fault) -> CheckResult {
        CheckResult {
            name: name.to_string(),
            verdict: fault.verdict(),
            message: fault.to_string(),
        }
    }

    pub fn outcome(&self) -> CheckOutcome {
        CheckOutcome {
            name: self.name.clone(),
            verdict: self.verdict,
            message: self.message.clone(),
        }
    }
}

/// The result of grading all of a lab's checks.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// INVALID if any check could not look (never scored as wrong), else FAIL if any failed.
    pub fn new(checks: Vec<CheckResult>) -> Report {
        let verdict = if checks.iter().any(|c| c.verdict == Verdict::Invalid) {
            Verdict::Invalid
        } else if checks.iter().any(|c| c.verdict == Verdict::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        };
        Report { verdict, checks }
    }

    pub fn passed(&self) -> usize {
        self.checks
            .iter()
            .filter(|c| c.verdict == Verdict::Pass)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_outranks_fail_outranks_pass() {
        let pass = CheckResult::pass("a", "ok");
        let fail = CheckResult::fail("b", "no");
        let invalid = CheckResult::invalid("c", "could not look");
        assert_eq!(Report::new(vec![pass.clone()]).verdict, Verdict::Pass);
        assert_eq!(
            Report::new(vec![pass.clone(), fail.clone()]).verdict,
            Verdict::Fail
        );
        assert_eq!(
            Report::new(vec![pass, fail, invalid]).verdict,
            Verdict::Invalid
        );
    }
}
