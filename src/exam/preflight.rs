//! Before the clock starts, every drawn task is set up on its node, its break proven, and its
//! checks confirmed not already passing. A task that fails is replaced by the next one the
//! seed draws, and the replacement is reported.

use crate::backend;
use crate::catalog::check::Check;
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

/// Draws and prepares up to `wanted` tasks. On the sandbox every cluster's files are built
/// first (so each node gets the kubeconfig of all), then the clusters start two at a time, and
/// each one's tasks are set up in order as soon as it is healthy, beside the others starting.
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
    let clusters = cluster_numbers(catalog, &drawn);
    progress(&format!(
        "starting {} cluster{}",
        clusters.len(),
        if clusters.len() == 1 { "" } else { "s" }
    ));
    let mut nodes = Nodes::default();
    let outcomes = match backend::shares_nodes(kind) {
        true => {
            nodes.insert(1, backend::prepare(home, kind, None, &|_| {}).await?);
            set_up(catalog, nodes.get(1), 1, &drawn, progress).await
        }
        false => {
            nodes
                .start_sandboxes(home, catalog, &clusters, &drawn, progress)
                .await?
        }
    };
    let mut kept: Vec<(DrawnTask, Report)> = Vec::new();
    let mut failed = Vec::new();
    for (task, outcome) in outcomes {
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
            nodes
                .start_sandboxes(home, catalog, &[next.cluster], &[], progress)
                .await?;
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

/// The clusters the tasks run on, those of a task that breaks its control plane first: their
/// setups wait longest (a component restarted, a break proven), so they start earliest.
fn cluster_numbers(catalog: &Catalog, tasks: &[DrawnTask]) -> Vec<u32> {
    let breaks = |cluster: u32| {
        tasks.iter().any(|t| {
            t.cluster == cluster
                && catalog
                    .lab(&t.lab_id)
                    .is_some_and(|lab| lab.breaks_control_plane())
        })
    };
    let mut numbers: Vec<u32> = tasks.iter().map(|t| t.cluster).collect();
    numbers.sort_unstable();
    numbers.dedup();
    numbers.sort_by_key(|&c| !breaks(c));
    numbers
}

/// Sets up, in draw order, the tasks of one cluster.
async fn set_up(
    catalog: &Catalog,
    node: &dyn Backend,
    cluster: u32,
    drawn: &[DrawnTask],
    progress: &(dyn Fn(&str) + Sync),
) -> Vec<(DrawnTask, std::result::Result<Report, String>)> {
    let mut outcomes = Vec::new();
    for task in drawn.iter().filter(|t| t.cluster == cluster) {
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

/// How many clusters start side by side: a control plane starting takes a core, and more at
/// once on a small machine only starve each other past their health deadline.
const STARTED_TOGETHER: usize = 2;

/// The exam's running clusters, by number.
#[derive(Default)]
struct Nodes(std::collections::BTreeMap<u32, Box<dyn Backend>>);

impl Nodes {
    fn insert(&mut self, cluster: u32, node: Box<dyn Backend>) {
        self.0.insert(cluster, node);
    }

    /// Builds the sandbox clusters, writes the exam's kubeconfig on each new node, then starts
    /// them and sets up `drawn`'s tasks on each as soon as it is healthy. A cluster that does
    /// not start ends the pre-flight, with nothing of it left running.
    async fn start_sandboxes(
        &mut self,
        home: &Home,
        catalog: &Catalog,
        clusters: &[u32],
        drawn: &[DrawnTask],
        progress: &(dyn Fn(&str) + Sync),
    ) -> Result<Vec<(DrawnTask, std::result::Result<Report, String>)>> {
        let mut built = Vec::new();
        for &cluster in clusters {
            match backend::build_sandbox(backend::task_node_dir(home, cluster)).await {
                Ok(node) => built.push((cluster, node)),
                Err(e) => {
                    self.discard_all(home, clusters);
                    return Err(e);
                }
            }
        }
        let every_node: Vec<(u32, &dyn Backend)> = self
            .0
            .iter()
            .map(|(c, node)| (*c, node.as_ref()))
            .chain(built.iter().map(|(c, node)| (*c, node as &dyn Backend)))
            .collect();
        for &cluster in clusters {
            // Only new nodes: a running one's setup may have written its own kubeconfig.
            if let Err(e) = super::contexts::write(&every_node, Some(cluster)).await {
                self.discard_all(home, clusters);
                return Err(Error::System(format!(
                    "cannot write the exam's kubeconfig: {e}"
                )));
            }
        }
        let starting = tokio::sync::Semaphore::new(STARTED_TOGETHER);
        let runs = built.iter().map(|(cluster, node)| {
            let starting = &starting;
            async move {
                let permit = starting.acquire().await;
                backend::boot_sandbox(node).await?;
                drop(permit);
                Ok(set_up(catalog, node, *cluster, drawn, progress).await)
            }
        });
        let results: Vec<Result<_>> = futures::future::join_all(runs).await;
        let mut outcomes = Vec::new();
        let mut first_error = None;
        for result in results {
            match result {
                Ok(of_cluster) => outcomes.extend(of_cluster),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        for (cluster, node) in built {
            self.insert(cluster, Box::new(node));
        }
        match first_error {
            Some(e) => {
                self.discard_all(home, &self.numbers());
                Err(e)
            }
            None => Ok(outcomes),
        }
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

    /// Discards these sandbox clusters and every one already running.
    fn discard_all(&mut self, home: &Home, clusters: &[u32]) {
        for cluster in self.numbers().into_iter().chain(clusters.iter().copied()) {
            self.discard(home, BackendKind::Sandbox, cluster);
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
    let at_setup: Vec<Check> = lab.checks.iter().map(at_setup).collect();
    let report = checks::grade_all(backend, &at_setup).await;
    if report.verdict == Verdict::Pass {
        return Err("its checks already pass after setup".to_string());
    }
    Ok(report)
}

/// How long a check waiting for the scheduler waits right after setup. A healthy scheduler
/// binds a probe in about a second; the full window (60 s) is for a scheduler the learner just
/// restarted, which setup never leaves behind. Without the cap, a task whose break stops the
/// scheduler would hold the whole pre-flight a minute to learn what `verify_broken` proved.
const SETUP_SCHEDULING_SECONDS: u64 = 15;

/// A check as pre-flight grades it.
fn at_setup(check: &Check) -> Check {
    match check {
        Check::Schedules {
            namespace,
            within_seconds,
        } => Check::Schedules {
            namespace: namespace.clone(),
            within_seconds: (*within_seconds).min(SETUP_SCHEDULING_SECONDS),
        },
        other => other.clone(),
    }
}

/// A lab the exam names; one missing from the catalog is a damaged record.
pub fn find<'c>(catalog: &'c Catalog, id: &str) -> Result<&'c Lab> {
    catalog.lab(id).ok_or_else(|| {
        Error::System(format!(
            "the exam names lab `{id}`, which this catalog does not have\nhint: `ckalab labs` lists the labs; an exam drawn with another catalog cannot be graded with this one"
        ))
    })
}
