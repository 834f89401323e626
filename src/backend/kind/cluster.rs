//! ckalab's kind cluster: create it (waiting until its nodes are Ready and preparing the control
//! plane for labs), delete it, and say how it is. The slow phases report through `progress`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::cli::{self, Kind};
use super::external::{self, ExternalError};
use super::node::{KindNode, NodeError, Provider};
use crate::home::Home;

/// What went wrong with the cluster, in words that say what to do next.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(transparent)]
    External(#[from] ExternalError),
    #[error(transparent)]
    Node(#[from] NodeError),
    /// ckalab's kubeconfig does not lead to this cluster's control plane: the cluster was not
    /// made by `ckalab cluster up`, or was recreated behind ckalab's back.
    #[error(
        "refusing to use the kind cluster `{cluster}`: {reason}\nhint: ckalab only changes a cluster it created with `ckalab cluster up`; if this one is yours, `ckalab cluster up --name <another name>` makes one for ckalab"
    )]
    NotCreatedByCkalab { cluster: String, reason: String },
    /// The installed kind is not a release ckalab has a node image for.
    #[error(
        "`{found}`: ckalab has no Kubernetes v1.35 node image for this kind release\nhint: install kind {supported} (kind runs a node image only with the release that built it): {install}"
    )]
    UnsupportedKind {
        found: String,
        supported: String,
        install: &'static str,
    },
    /// `--config` names no built-in config.
    #[error("no kind config named `{name}`\nhint: the built-in configs are {known}")]
    UnknownConfig { name: String, known: String },
    /// The cluster came up but its nodes did not become Ready.
    #[error(
        "the cluster's nodes are not Ready after {seconds}s: {detail}\nhint: `docker exec {container} journalctl -u kubelet` shows why; `ckalab cluster down` removes the cluster"
    )]
    NotReady {
        seconds: u64,
        container: String,
        detail: String,
    },
    /// kind printed a kubeconfig without the context it should have written.
    #[error(
        "kind's kubeconfig for `{cluster}` has no context `{context}`: ckalab will not guess which cluster to talk to"
    )]
    NoContext { cluster: String, context: String },
    /// Neither Kubernetes' etcd image nor etcd's own had the tool.
    #[error(
        "could not install {tool} on the control plane: {reason}\nhint: etcd 3.6 restores snapshots with etcdutl, which Kubernetes' etcd image lacks; ckalab fetches it from {UPSTREAM_ETCD}, so the node needs internet access. Run `ckalab cluster up` again to retry"
    )]
    NoEtcdTool { tool: String, reason: String },
    /// The node's etcd manifest names no image to copy etcdctl and etcdutl from.
    #[error(
        "the control plane's /etc/kubernetes/manifests/etcd.yaml names no container image, so etcdctl and etcdutl cannot be copied from it\nhint: this is not a kind node ckalab knows; `ckalab cluster down` then `up` recreates it"
    )]
    NoEtcdImage,
    /// Writing under `$CKALAB_HOME` failed.
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// The cluster as `ckalab cluster status` shows it.
#[derive(Debug, Serialize)]
pub struct Status {
    pub name: String,
    pub provider: &'static str,
    pub exists: bool,
    pub context: String,
    pub kubeconfig: String,
    pub nodes: Vec<NodeStatus>,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct NodeStatus {
    pub name: String,
    pub ready: bool,
}

/// What `up` did.
pub enum Up {
    Created,
    AlreadyUp,
    /// It was up, but an earlier `up` had not finished preparing it for labs; now it has.
    Prepared,
}

/// ckalab's cluster named `name`, driven through the provider kind uses.
pub struct Cluster {
    pub name: String,
    pub provider: Provider,
    kind: Kind,
    dir: PathBuf,
}

impl Cluster {
    pub fn new(home: &Home, name: &str) -> Cluster {
        let dir = home.root().join("kind");
        Cluster {
            name: name.to_string(),
            provider: Provider::from_env(),
            kind: Kind {
                kubeconfig: dir.join(format!("{name}.kubeconfig")).display().to_string(),
            },
            dir,
        }
    }

    pub fn kubeconfig_path(&self) -> &str {
        &self.kind.kubeconfig
    }

    /// Whether `kind get clusters` lists this cluster.
    pub fn exists(&self) -> Result<bool, ClusterError> {
        let out = external::run(&self.kind.get_clusters_argv(), None)?;
        Ok(cli::parse_clusters(&out).contains(&self.name))
    }

    /// Creates the cluster from the built-in config `config` unless it exists, waits until every
    /// node is Ready, and prepares the control plane for labs.
    pub fn up(&self, config: &str, progress: &dyn Fn(&str)) -> Result<Up, ClusterError> {
        // Both tools are needed: say which is missing before kind fails half-way.
        for program in [self.provider.binary(), "kind"] {
            if crate::doctor::find_in_path(program).is_none() {
                return Err(ExternalError::Missing {
                    program: program.to_string(),
                    install: external::install_hint(program),
                }
                .into());
            }
        }
        if self.exists()? {
            // A cluster of this name that ckalab did not create is not adopted.
            let node = self.owned_control_plane()?;
            if missing_tools(&node).is_empty() {
                return Ok(Up::AlreadyUp);
            }
            progress("preparing the control plane for labs: etcdctl and etcdutl");
            prepare_for_labs(&node)?;
            return Ok(Up::Prepared);
        }
        let text =
            crate::catalog::kind_config(config).ok_or_else(|| ClusterError::UnknownConfig {
                name: config.to_string(),
                known: crate::catalog::kind_config_names().join(", "),
            })?;
        let release = self.kind_release()?;
        let config_path = self.dir.join(format!("{config}.yaml"));
        write(&config_path, &super::releases::config_for(text, release))?;
        progress(
            "creating the kind cluster (the first time, pulling the node image takes minutes)",
        );
        external::run(
            &self
                .kind
                .create_argv(&self.name, &config_path.display().to_string()),
            None,
        )?;
        self.check_kubeconfig()?;
        progress("waiting for every node to be Ready");
        let node = self.control_plane()?;
        self.wait_ready(&node, Duration::from_secs(180))?;
        progress("preparing the control plane for labs: etcdctl and etcdutl from the etcd image");
        prepare_for_labs(&node)?;
        Ok(Up::Created)
    }

    /// The supported release the installed kind is, whose node image the cluster uses.
    fn kind_release(&self) -> Result<&'static super::releases::KindRelease, ClusterError> {
        let line = external::run(&self.kind.version_argv(), None)?;
        super::releases::of_version(&line).ok_or_else(|| ClusterError::UnsupportedKind {
            found: line.trim().to_string(),
            supported: super::releases::supported(),
            install: external::install_hint("kind"),
        })
    }

    /// Deletes the cluster (and its entry in ckalab's kubeconfig); `false` when there was none.
    pub fn down(&self) -> Result<bool, ClusterError> {
        if !self.exists()? {
            return Ok(false);
        }
        external::run(&self.kind.delete_argv(&self.name), None)?;
        Ok(true)
    }

    pub fn status(&self) -> Result<Status, ClusterError> {
        let exists = self.exists()?;
        let nodes = if exists {
            node_statuses(&self.control_plane()?.run(&KUBECTL_GET_NODES)?)
        } else {
            Vec::new()
        };
        Ok(Status {
            name: self.name.clone(),
            provider: self.provider.binary(),
            exists,
            context: cli::context(&self.name),
            kubeconfig: self.kind.kubeconfig.clone(),
            nodes,
        })
    }

    /// The control-plane container, verified to be this cluster's before anything runs in it.
    pub fn control_plane(&self) -> Result<KindNode, ClusterError> {
        Ok(KindNode::verify(
            self.provider,
            &self.name,
            &cli::control_plane(&self.name),
        )?)
    }

    /// The control plane of a cluster ckalab created: its label verified, and ckalab's kube
    /// context shown to reach it. What labs and a repeated `up` work on.
    pub fn owned_control_plane(&self) -> Result<KindNode, ClusterError> {
        let node = self.control_plane()?;
        self.verify_context(&node)?;
        Ok(node)
    }

    /// ckalab's kubeconfig for this cluster, written by `cluster up`, must hold the
    /// `kind-<name>` context and point it at the port this control plane publishes its API
    /// server on: then the API checks reach this cluster and no other.
    fn verify_context(&self, control_plane: &KindNode) -> Result<(), ClusterError> {
        let refuse = |reason: String| ClusterError::NotCreatedByCkalab {
            cluster: self.name.clone(),
            reason,
        };
        let path = &self.kind.kubeconfig;
        let file = kube::config::Kubeconfig::read_from(path).map_err(|_| {
            refuse(format!(
                "ckalab has no kubeconfig for it ({path}), so `ckalab cluster up` did not create it"
            ))
        })?;
        let context = cli::context(&self.name);
        let server = file
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.context.as_ref())
            .and_then(|c| file.clusters.iter().find(|k| k.name == c.cluster))
            .and_then(|k| k.cluster.as_ref()?.server.clone())
            .ok_or_else(|| refuse(format!("{path} has no context `{context}` with a server")))?;
        let port = server
            .trim_end_matches('/')
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse::<u16>().ok());
        match control_plane.api_port() {
            Some(published) if port == Some(published) => Ok(()),
            Some(published) => Err(refuse(format!(
                "ckalab's context `{context}` points at {server}, but `{}` publishes its API server on port {published}: the cluster was recreated without ckalab",
                control_plane.container()
            ))),
            None => Err(refuse(format!(
                "`{}` publishes no API server port (6443/tcp), so ckalab cannot tell that `{context}` reaches it",
                control_plane.container()
            ))),
        }
    }

    /// The kubeconfig kind wrote must hold the context ckalab expects, or ckalab talks to nothing.
    fn check_kubeconfig(&self) -> Result<(), ClusterError> {
        let text = external::run(&self.kind.kubeconfig_argv(&self.name), None)?;
        let context = cli::context(&self.name);
        let has_context = kube::config::Kubeconfig::from_yaml(&text)
            .map(|k| k.contexts.iter().any(|c| c.name == context))
            .unwrap_or(false);
        if !has_context {
            return Err(ClusterError::NoContext {
                cluster: self.name.clone(),
                context,
            });
        }
        write(PathBuf::from(&self.kind.kubeconfig).as_path(), &text)
    }

    fn wait_ready(&self, node: &KindNode, timeout: Duration) -> Result<(), ClusterError> {
        let start = Instant::now();
        loop {
            let detail = match node.run(&KUBECTL_GET_NODES) {
                Ok(json) => {
                    let nodes = node_statuses(&json);
                    if !nodes.is_empty() && nodes.iter().all(|n| n.ready) {
                        return Ok(());
                    }
                    let waiting: Vec<&str> = nodes
                        .iter()
                        .filter(|n| !n.ready)
                        .map(|n| n.name.as_str())
                        .collect();
                    format!("still NotReady: {}", waiting.join(", "))
                }
                Err(e) => e.to_string(),
            };
            if start.elapsed() >= timeout {
                return Err(ClusterError::NotReady {
                    seconds: timeout.as_secs(),
                    container: node.container().to_string(),
                    detail,
                });
            }
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}

/// The node's own kubectl with the control plane's admin kubeconfig: it needs nothing from the
/// learner's machine.
const KUBECTL_GET_NODES: [&str; 6] = [
    "kubectl",
    "--kubeconfig=/etc/kubernetes/admin.conf",
    "get",
    "nodes",
    "-o",
    "json",
];

/// Where an etcd image is mounted while its tools are copied out.
const ETCD_IMAGE_MOUNT: &str = "/var/lib/ckalab/etcd-image";

/// The etcd tools labs run on the control plane, installed in /usr/local/bin.
const ETCD_TOOLS: [&str; 2] = ["etcdctl", "etcdutl"];

/// The etcd project's own image: unlike Kubernetes' (etcd and etcdctl only), it ships etcdutl.
const UPSTREAM_ETCD: &str = "gcr.io/etcd-development/etcd";

/// kind nodes have no etcdctl/etcdutl. They come from the etcd image the node already runs,
/// else (etcdutl) from etcd's own image of the same version. Then openssl is checked.
fn prepare_for_labs(node: &KindNode) -> Result<(), ClusterError> {
    let manifest = node.read("/etc/kubernetes/manifests/etcd.yaml")?;
    let image = etcd_image(&manifest).ok_or(ClusterError::NoEtcdImage)?;
    copy_tools(node, &image, &ETCD_TOOLS)?;
    let missing = missing_tools(node);
    if !missing.is_empty() {
        let upstream = upstream_etcd_image(&image);
        let fetched = node
            .run(&["ctr", "-n", "k8s.io", "images", "pull", &upstream])
            .map_err(ClusterError::from)
            .and_then(|_| copy_tools(node, &upstream, &missing));
        if let Err(e) = fetched {
            return Err(ClusterError::NoEtcdTool {
                tool: missing.join(" and "),
                reason: e.to_string(),
            });
        }
        if let Some(tool) = missing_tools(node).first() {
            return Err(ClusterError::NoEtcdTool {
                tool: tool.to_string(),
                reason: format!("neither {image} nor {upstream} has /usr/local/bin/{tool}"),
            });
        }
    }
    node.run(&["openssl", "version"])?;
    Ok(())
}

/// Copies those of `tools` that `image` has from its /usr/local/bin to the node's: mount it
/// with `ctr`, copy, unmount (removing the mount's snapshot).
fn copy_tools(node: &KindNode, image: &str, tools: &[&str]) -> Result<(), ClusterError> {
    node.run(&["mkdir", "-p", ETCD_IMAGE_MOUNT])?;
    node.run(&[
        "ctr",
        "-n",
        "k8s.io",
        "images",
        "mount",
        image,
        ETCD_IMAGE_MOUNT,
    ])?;
    let copied = tools.iter().try_for_each(|tool| {
        let from = format!("{ETCD_IMAGE_MOUNT}/usr/local/bin/{tool}");
        if node.run(&["test", "-x", &from]).is_err() {
            return Ok(());
        }
        node.run(&["cp", &from, &format!("/usr/local/bin/{tool}")])
            .map(drop)
    });
    // Unmount even when a copy failed, so the node is left as it was.
    node.run(&[
        "ctr",
        "-n",
        "k8s.io",
        "images",
        "unmount",
        "--rm",
        ETCD_IMAGE_MOUNT,
    ])?;
    Ok(copied?)
}

/// The etcd tools the control plane lacks.
fn missing_tools(node: &KindNode) -> Vec<&'static str> {
    ETCD_TOOLS
        .into_iter()
        .filter(|tool| {
            node.run(&["test", "-x", &format!("/usr/local/bin/{tool}")])
                .is_err()
        })
        .collect()
}

/// `registry.k8s.io/etcd:3.6.6-0` → `gcr.io/etcd-development/etcd:v3.6.6`: the same etcd
/// version (Kubernetes adds an image revision, etcd a `v`).
fn upstream_etcd_image(image: &str) -> String {
    let tag = image.rsplit_once(':').map_or(image, |(_, tag)| tag);
    let version = tag.split_once('-').map_or(tag, |(version, _)| version);
    format!("{UPSTREAM_ETCD}:v{version}")
}

/// The image of the etcd static pod's first container.
pub(crate) fn etcd_image(manifest: &str) -> Option<String> {
    let value: serde_json::Value = serde_saphyr::from_str(manifest).ok()?;
    value["spec"]["containers"][0]["image"]
        .as_str()
        .map(String::from)
}

/// Each node's name and Ready condition from `kubectl get nodes -o json`.
pub fn node_statuses(json: &str) -> Vec<NodeStatus> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    value["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|item| NodeStatus {
                    name: item["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    ready: item["status"]["conditions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|c| c["type"] == "Ready" && c["status"] == "True"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn write(path: &std::path::Path, text: &str) -> Result<(), ClusterError> {
    let failed = |e: std::io::Error| ClusterError::Write {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    std::fs::write(path, text).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_readiness_parses_from_kubectl_json() {
        let json = include_str!("../../../tests/fixtures/kind/kubectl-get-nodes.json");
        assert_eq!(
            node_statuses(json),
            [
                NodeStatus {
                    name: "ckalab-control-plane".into(),
                    ready: true
                },
                NodeStatus {
                    name: "ckalab-worker".into(),
                    ready: false
                }
            ]
        );
        assert!(node_statuses("not json").is_empty());
    }

    #[test]
    fn etcds_own_image_of_the_same_version_is_named_from_kubernetes_tag() {
        assert_eq!(
            upstream_etcd_image("registry.k8s.io/etcd:3.6.6-0"),
            "gcr.io/etcd-development/etcd:v3.6.6"
        );
        assert_eq!(
            upstream_etcd_image("registry.k8s.io/etcd:3.5.21-0"),
            "gcr.io/etcd-development/etcd:v3.5.21"
        );
    }

    #[test]
    fn the_etcd_image_comes_from_the_manifest() {
        let manifest = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - command:\n    - etcd\n    image: registry.k8s.io/etcd:3.6.6-0\n    name: etcd\n";
        assert_eq!(
            etcd_image(manifest).as_deref(),
            Some("registry.k8s.io/etcd:3.6.6-0")
        );
    }
}
