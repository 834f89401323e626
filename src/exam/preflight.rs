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

/// Draws and prepares up to `wanted` tasks: the clusters start together, then each cluster's
/// tasks are set up in order, clusters side by side.
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
    let drawn: Vec<DrawnTask> = draw.by_ref().take(wanted).collect();
    let mut nodes = Nodes::default();
    let wanted_clusters: Vec<u32> = cluster_numbers(&drawn);
    progress(&format!(
        "starting {} cluster{}",
        wanted_clusters.len(),
        if wanted_clusters.len() == 1 { "" } else { "s" }
    ));
    nodes.start(home, kind, &wanted_clusters).await?;
    nodes.write_contexts(None).await?;

    let setups = wanted_clusters.iter().map(|&cluster| {
        let tasks: Vec<&DrawnTask> = drawn.iter().filter(|t| t.cluster == cluster).collect();
        let node = nodes.get(cluster);
        async move {
            let mut outcomes = Vec::new();
            for task in tasks {
                let outcome = match find(catalog, &task.lab_id) {
                    Ok(lab) => {
                        progress(&format!("cluster {cluster}: {}", lab.title));
                        check_task(node, lab, task.variant.as_deref()).await
                    }
                    Err(e) => Err(e.to_string()),
                };
                outcomes.push((task.clone(), outcome));
            }
            outcomes
        }
    });
    let mut kept: Vec<(DrawnTask, Report)> = Vec::new();
    let mut failed = Vec::new();
    for (task, outcome) in futures::future::join_all(setups)
        .await
        .into_iter()
        .flatten()
    {
        match outcome {
            Ok(report) => kept.push((task, report)),
            Err(reason) => failed.push((task, reason)),
        }
    }
    // Draw order, as the exam numbers its tasks.
    kept.sort_by_key(|(task, _)| drawn.iter().position(|t| t == task));

    let mut replaced = Vec::new();
    let mut queue = failed;
    while let Some((task, reason)) = queue.pop() {
        draw.reject(&task.lab_id);
        replaced.push(ReplacementRow {
            lab_id: task.lab_id.clone(),
            variant: task.variant.clone(),
            reason,
        });
        // What the rejected setup changed goes with everything on its cluster, and the tasks
        // kept there are broken again.
        progress("undoing the replaced task");
        let node = nodes.get(task.cluster);
        backend::put_back(node, false).await?;
        for (kept_task, report) in kept.iter_mut().filter(|(t, _)| t.cluster == task.cluster) {
            let lab = find(catalog, &kept_task.lab_id)?;
            *report = check_task(node, lab, kept_task.variant.as_deref())
                .await
                .map_err(Error::System)?;
        }
        let Some(next) = draw.next() else { continue };
        let lab = find(catalog, &next.lab_id)?;
        progress(&format!("cluster {}: {}", next.cluster, lab.title));
        if !nodes.0.contains_key(&next.cluster) {
            nodes.start(home, kind, &[next.cluster]).await?;
            // Only the new node: the others' setups may have written their own kubeconfig.
            nodes.write_contexts(Some(next.cluster)).await?;
        }
        match check_task(nodes.get(next.cluster), lab, next.variant.as_deref()).await {
            Ok(report) => kept.push((next, report)),
            Err(reason) => queue.push((next, reason)),
        }
    }
    // A cluster left with no task is not the exam's.
    for cluster in nodes.numbers() {
        if kept.iter().all(|(t, _)| t.cluster != cluster) {
            nodes.discard(home, kind, cluster);
        }
    }
    Ok(Preflight { kept, replaced })
}

/// The clusters the tasks run on, in order.
fn cluster_numbers(tasks: &[DrawnTask]) -> Vec<u32> {
    let mut numbers: Vec<u32> = tasks.iter().map(|t| t.cluster).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers
}

/// How many clusters start side by side.
const STARTED_TOGETHER: usize = 2;

/// The exam's running clusters, by number.
#[derive(Default)]
struct Nodes(std::collections::BTreeMap<u32, Box<dyn Backend>>);

impl Nodes {
    /// Starts the clusters not running yet, side by side. On kind every cluster is the one
    /// cluster ckalab made.
    async fn start(&mut self, home: &Home, kind: BackendKind, clusters: &[u32]) -> Result<()> {
        let missing: Vec<u32> = clusters
            .iter()
            .copied()
            .filter(|c| !self.0.contains_key(c))
            .collect();
        let mut started = Vec::new();
        // Two at a time: a control plane starting takes a core, and more at once on a small
        // machine only starve each other past their health deadline.
        for batch in missing.chunks(STARTED_TOGETHER) {
            let starts = batch.iter().map(|&cluster| {
                let dir = match backend::shares_nodes(kind) {
                    true => None,
                    false => Some(backend::task_node_dir(home, cluster)),
                };
                backend::prepare(home, kind, dir, &|_| {})
            });
            started.extend(futures::future::join_all(starts).await);
        }
        let mut first_error = None;
        for (cluster, node) in missing.into_iter().zip(started) {
            match node {
                Ok(node) => {
                    self.0.insert(cluster, node);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => {
                for cluster in self.numbers() {
                    self.discard(home, kind, cluster);
                }
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Every cluster's node gets the kubeconfig naming them all (before any setup, so a lab
    /// that writes root's kubeconfig has the last word, and its reset puts this one back).
    async fn write_contexts(&self, only: Option<u32>) -> Result<()> {
        let nodes: Vec<(u32, &dyn Backend)> =
            self.0.iter().map(|(c, node)| (*c, node.as_ref())).collect();
        super::contexts::write(&nodes, only)
            .await
            .map_err(|e| Error::System(format!("cannot write the exam's kubeconfig: {e}")))
    }

    fn get(&self, cluster: u32) -> &dyn Backend {
        self.0[&cluster].as_ref()
    }

    fn numbers(&self) -> Vec<u32> {
        self.0.keys().copied().collect()
    }

    /// Stops and removes a sandbox cluster (kind's outlives the exam).
    fn discard(&mut self, home: &Home, kind: BackendKind, cluster: u32) {
        self.0.remove(&cluster);
        if !backend::shares_nodes(kind) {
            let dir = backend::task_node_dir(home, cluster);
            backend::discard(dir.clone());
            let _ = std::fs::remove_dir_all(dir);
        }
    }
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
