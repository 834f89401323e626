//! Before the clock starts, every drawn task is set up on its node, its break proven, and its
//! checks confirmed not already passing. A task that fails is replaced by the next one the
//! seed draws, and the replacement is reported.

use crate::backend;
use crate::catalog::{BackendKind, Catalog, Lab};
use crate::engine::checks;
use crate::engine::cluster::Backend;
use crate::engine::run::verify_broken;
use crate::engine::steps::run_setup;
use crate::engine::verdict::{Report, Verdict};
use crate::error::{Error, Result};
use crate::exam::draw::{Draw, DrawnTask};
use crate::home::Home;
use crate::store::ReplacementRow;

/// The tasks that passed pre-flight, each with its checks' results right after setup (they
/// decide what the task's points pay for), and the ones replaced.
pub struct Preflight {
    pub kept: Vec<(DrawnTask, Report)>,
    pub replaced: Vec<ReplacementRow>,
}

/// Draws and prepares up to `wanted` tasks.
pub async fn prepare_tasks(
    home: &Home,
    catalog: &Catalog,
    kind: BackendKind,
    draw: &mut Draw<'_>,
    wanted: usize,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Preflight> {
    // Task nodes an interrupted pre-flight left behind go first.
    backend::remove_task_nodes(home);
    let shared = match backend::shares_nodes(kind) {
        true => Some(backend::prepare(home, kind, None, progress).await?),
        false => None,
    };
    let mut kept: Vec<(DrawnTask, Report)> = Vec::new();
    let mut replaced = Vec::new();
    while kept.len() < wanted {
        let Some(task) = draw.next() else { break };
        let lab = find(catalog, &task.lab_id)?;
        let position = kept.len() as u32 + 1;
        progress(&format!("task {position}: {}", lab.title));
        let outcome = match &shared {
            Some(node) => check_task(node.as_ref(), lab, task.variant.as_deref()).await,
            None => {
                let dir = backend::task_node_dir(home, position);
                let node = backend::prepare(home, kind, Some(dir.clone()), &|_| {}).await?;
                let outcome = check_task(node.as_ref(), lab, task.variant.as_deref()).await;
                if outcome.is_err() {
                    backend::discard(dir);
                }
                outcome
            }
        };
        match outcome {
            Ok(report) => kept.push((task, report)),
            Err(reason) => {
                draw.reject(&task.lab_id);
                replaced.push(ReplacementRow {
                    lab_id: task.lab_id.clone(),
                    variant: task.variant.clone(),
                    reason,
                });
                // On a shared node the rejected setup is undone with everything else, and the
                // kept tasks are broken again.
                if let Some(node) = &shared {
                    progress("undoing the replaced task");
                    backend::put_back(node.as_ref(), false).await?;
                    for (task, report) in &mut kept {
                        let lab = find(catalog, &task.lab_id)?;
                        *report = check_task(node.as_ref(), lab, task.variant.as_deref())
                            .await
                            .map_err(Error::System)?;
                    }
                }
            }
        }
    }
    Ok(Preflight { kept, replaced })
}

/// Sets a task up on its node, proves the break, and checks the task is not already solved.
async fn check_task(
    backend: &dyn Backend,
    lab: &Lab,
    variant: Option<&str>,
) -> std::result::Result<Report, String> {
    let variant = variant.and_then(|v| lab.variant(v));
    run_setup(backend, &lab.setup_steps(variant))
        .await
        .map_err(|e| format!("its setup failed: {e}"))?;
    verify_broken(backend, lab, variant)
        .await
        .map_err(|e| format!("the break did not take effect: {e}"))?;
    let report = checks::grade_all(backend, &lab.checks).await;
    if report.verdict == Verdict::Pass {
        return Err("its checks already pass after setup".to_string());
    }
    Ok(report)
}

/// A lab the exam names; one missing from the catalog is a damaged record.
pub fn find<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c Lab> {
    catalog.lab(id).ok_or_else(|| {
        Error::System(format!(
            "the exam names lab `{id}`, which this catalog does not have\nhint: `ckalab labs` lists the labs; an exam drawn with another catalog cannot be graded with this one"
        ))
    })
}
