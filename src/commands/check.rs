use clap::Args;

use super::{current_lab, open_store, runtime};
use crate::engine::checks;
use crate::error::{ExitStatus, Result};
use crate::store::Verdict;
use crate::ui::Ui;

/// Grade the lab in progress by looking at the node's real state. Exit 0 PASS, 1 FAIL,
/// 3 INVALID (the grader could not look; never counted as a wrong answer).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(ui: &mut Ui, args: CheckArgs) -> Result<ExitStatus> {
    let (home, catalog, mut session, backend) = current_lab()?;
    let lab = super::find_lab(&catalog, &session.lab_id)?;
    let rt = runtime()?;
    let report = rt.block_on(checks::grade_all(backend.as_ref(), &lab.checks));
    let now = crate::clock::now();
    let mut store = open_store()?;
    let outcomes: Vec<_> = report.checks.iter().map(|c| c.outcome()).collect();
    store.record_grading(session.attempt_id, now, report.verdict, &outcomes)?;
    if report.verdict == Verdict::Pass && session.passed_at.is_none() {
        session.passed_at = Some(now);
        session.save(&home)?;
    }
    let elapsed = session.elapsed(now);

    if args.json {
        ui.json(&serde_json::json!({
            "lab": lab.id,
            "variant": session.variant,
            "verdict": report.verdict,
            "elapsed_seconds": elapsed,
            "checks": report.checks,
        }))?;
    } else {
        for check in &report.checks {
            let mark = match check.verdict {
                Verdict::Pass => ui.green("✓"),
                Verdict::Fail => ui.red("✗"),
                Verdict::Invalid => ui.yellow("?"),
            };
            ui.line(format!("{mark} {}", check.name))?;
            ui.line(ui.dim(format!("  {}", check.message)))?;
        }
        ui.line("")?;
        let summary = format!("{} of {} checks pass", report.passed(), report.checks.len());
        match report.verdict {
            Verdict::Pass => ui.line(ui.green(format!(
                "PASS — {} solved in {}",
                lab.id,
                crate::clock::human_duration(elapsed)
            )))?,
            Verdict::Fail => ui.line(format!(
                "{} — {summary}. Keep going, or `ckalab hint`.",
                ui.red("FAIL")
            ))?,
            Verdict::Invalid => ui.line(format!(
                "{} — the grader could not look; this is not counted against you.",
                ui.yellow("INVALID")
            ))?,
        }
    }
    Ok(match report.verdict {
        Verdict::Pass => ExitStatus::Success,
        Verdict::Fail => ExitStatus::Fail,
        Verdict::Invalid => ExitStatus::Invalid,
    })
}
