//! An answer the learner wrote to a file, compared with what kubectl prints at grading time:
//! line by line, blank lines and spacing ignored, so `kubectl ... > file` passes however the
//! columns were padded.

use crate::engine::cluster::Backend;
use crate::engine::steps::{kubectl_argv, run_on_node};
use crate::engine::verdict::CheckResult;

pub async fn grade(backend: &dyn Backend, check: &str, file: &str, kubectl: &str) -> CheckResult {
    let written = match backend.read_text(file).await {
        Ok(text) => text,
        Err(_) => return CheckResult::fail(check, format!("{file} does not exist")),
    };
    let truth = match kubectl_argv(kubectl) {
        Ok(argv) => match run_on_node(backend, &argv).await {
            Ok(output) => output,
            Err(fault) => return CheckResult::fault(check, &fault),
        },
        Err(fault) => return CheckResult::invalid(check, fault.to_string()),
    };
    let (written, truth) = (lines(&written), lines(&truth));
    if written == truth {
        return CheckResult::pass(check, format!("{file} matches `kubectl {kubectl}`"));
    }
    let at = written
        .iter()
        .zip(&truth)
        .position(|(a, b)| a != b)
        .unwrap_or(written.len().min(truth.len()));
    let shown = |lines: &[String]| lines.get(at).cloned().unwrap_or_else(|| "(nothing)".into());
    CheckResult::fail(
        check,
        format!(
            "{file} does not match `kubectl {kubectl}` now: line {} is {:?}, the cluster says {:?}",
            at + 1,
            shown(&written),
            shown(&truth)
        ),
    )
}

/// The non-blank lines of a text, each with its words single-spaced.
fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn spacing_and_blank_lines_do_not_matter() {
        let kubectl = "deployment.apps/api \nREVISION  CHANGE-CAUSE\n1         <none>\n\n";
        let learner = "deployment.apps/api\nREVISION CHANGE-CAUSE\n1 <none>\n";
        assert_eq!(super::lines(kubectl), super::lines(learner));
        assert_ne!(super::lines("1 <none>\n3 <none>"), super::lines("1 <none>"));
    }
}
