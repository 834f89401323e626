use clap::{Args, Subcommand};

use super::open_store;
use crate::backend::kind::cli::DEFAULT_CLUSTER;
use crate::backend::kind::cluster::{Cluster, Up};
use crate::error::{Error, ExitStatus, Result};
use crate::home::Home;
use crate::store::ClusterRecord;
use crate::ui::Ui;

/// Manage ckalab's kind cluster: a real Kubernetes v1.35 cluster in containers (needs docker or
/// podman, and kind). Your own kubeconfig and kubectl context are never changed.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    action: ClusterAction,
}

#[derive(Debug, Subcommand)]
enum ClusterAction {
    /// Create the cluster (a no-op when it exists), wait for Ready nodes, prepare it for labs.
    Up {
        /// A built-in config: `ckalab` (control plane + worker) or `three-nodes`.
        #[arg(long, default_value = "ckalab")]
        config: String,
        /// The cluster's name.
        #[arg(long, default_value = DEFAULT_CLUSTER)]
        name: String,
    },
    /// Delete the cluster.
    Down {
        /// The cluster's name [default: the one ckalab created last, else `ckalab`].
        #[arg(long)]
        name: Option<String>,
    },
    /// Show whether the cluster exists and its nodes are Ready.
    Status {
        /// The cluster's name [default: the one ckalab created last, else `ckalab`].
        #[arg(long)]
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ui: &mut Ui, args: ClusterArgs) -> Result<ExitStatus> {
    let home = Home::from_env()?;
    home.ensure()?;
    match args.action {
        ClusterAction::Up { config, name } => {
            let cluster = Cluster::new(&home, &name);
            let spinner = super::Spinner::new();
            let outcome = cluster.up(&config, &|phase| spinner.phase(phase));
            spinner.finish();
            let outcome = outcome?;
            if matches!(outcome, Up::Created | Up::Prepared) {
                // A first `up` that failed while preparing the node recorded nothing yet.
                open_store()?.record_cluster(&ClusterRecord {
                    name: name.clone(),
                    provider: cluster.provider.binary().to_string(),
                    config,
                    kubeconfig: cluster.kubeconfig_path().to_string(),
                    created_at: crate::clock::now(),
                })?;
            }
            ui.line(match outcome {
                Up::AlreadyUp => format!(
                    "The kind cluster `{name}` is already up: nothing to do (`ckalab cluster status` shows it)."
                ),
                Up::Prepared => format!(
                    "The kind cluster `{name}` was up but not ready for labs: etcdctl and etcdutl are now on its control plane."
                ),
                Up::Created => format!(
                    "The kind cluster `{name}` is up and its nodes are Ready.\nkubectl: KUBECONFIG={} kubectl get nodes  (context kind-{name}; your own kubeconfig is untouched)",
                    cluster.kubeconfig_path()
                ),
            })?;
        }
        ClusterAction::Down { name } => {
            let cluster = named_or_in_use(&home, name);
            let name = cluster.name.clone();
            let deleted = cluster.down()?;
            open_store()?.forget_cluster(&name)?;
            ui.line(if deleted {
                format!("Deleted the kind cluster `{name}`.")
            } else {
                format!("There is no kind cluster `{name}`: nothing to do.")
            })?;
        }
        ClusterAction::Status { name, json } => {
            let cluster = named_or_in_use(&home, name);
            let name = cluster.name.clone();
            let status = cluster.status()?;
            if json {
                ui.json(&status)?;
            } else if !status.exists {
                ui.line(format!(
                    "No kind cluster `{name}`. `ckalab cluster up` creates it."
                ))?;
            } else {
                ui.line(format!(
                    "kind cluster `{}` ({}), context {}, kubeconfig {}",
                    status.name, status.provider, status.context, status.kubeconfig
                ))?;
                for node in &status.nodes {
                    ui.line(format!(
                        "  {} {}",
                        node.name,
                        if node.ready { "Ready" } else { "NotReady" }
                    ))?;
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// The cluster `--name` names, else the one labs run on.
fn named_or_in_use(home: &Home, name: Option<String>) -> Cluster {
    match name {
        Some(name) => Cluster::new(home, &name),
        None => crate::backend::kind_cluster(home),
    }
}

impl From<crate::backend::kind::cluster::ClusterError> for Error {
    fn from(err: crate::backend::kind::cluster::ClusterError) -> Error {
        Error::Cluster(err)
    }
}
