//! The kind backend of the lab engine: what the engine asks of a node, done in ckalab's kind
//! cluster. Node actions go through `docker exec` on the verified control-plane container
//! (argv only); Kubernetes-level checks go through the kube crate with ckalab's own context.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::cluster::Cluster;
use super::external::ExternalError;
use super::kube_checks;
use super::node::KindNode;
use super::node_commands;
use crate::catalog::step::ObjectKind;
use crate::catalog::{NodeLayout, check::Check};
use crate::engine::report::CheckResult;

/// ckalab's kind cluster, ready for the engine.
#[derive(Debug, Clone)]
pub struct KindBackend {
    pub node: KindNode,
    pub cluster: String,
    pub kubeconfig: PathBuf,
    pub versions: KindVersions,
    pub layout: NodeLayout,
}

/// The minor versions of a kind control plane's Kubernetes and etcd: they decide which files
/// and tools the labs name (kubeadm-flags.env or config.yaml, etcdctl or etcdutl).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindVersions {
    pub kubernetes_minor: u32,
    pub etcd_minor: u32,
}

impl KindVersions {
    /// Reads them off the node: `kubelet --version` and the etcd manifest's image tag.
    fn read(node: &KindNode) -> Result<KindVersions, super::cluster::ClusterError> {
        let kubelet = node.run(&node_commands::kubelet_version())?;
        let etcd_manifest = node.read("/etc/kubernetes/manifests/etcd.yaml")?;
        Ok(KindVersions {
            kubernetes_minor: parse_minor(&kubelet).unwrap_or(35),
            etcd_minor: super::cluster::etcd_image(&etcd_manifest)
                .as_deref()
                .and_then(etcd_minor)
                .unwrap_or(6),
        })
    }
}

/// The kind cluster a lab runs on and its versions, kept in the session so the commands after
/// `start` talk to the same cluster without reading the versions again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KindTarget {
    pub cluster: String,
    pub versions: KindVersions,
}

impl KindBackend {
    /// Verifies the control-plane container carries ckalab's label and that ckalab's kube
    /// context leads to it (before anything runs in it), and reads the versions that decide which files and tools the labs name, unless they are
    /// `known` from an earlier command.
    pub fn open(
        cluster: &Cluster,
        known: Option<KindVersions>,
    ) -> Result<KindBackend, super::cluster::ClusterError> {
        let node = cluster.owned_control_plane()?;
        let versions = match known {
            Some(versions) => versions,
            None => KindVersions::read(&node)?,
        };
        Ok(KindBackend {
            node,
            cluster: cluster.name.clone(),
            kubeconfig: PathBuf::from(cluster.kubeconfig_path()),
            versions,
            layout: NodeLayout::kind_versions(
                &cluster.name,
                versions.kubernetes_minor,
                versions.etcd_minor,
            ),
        })
    }

    /// What the session keeps of this backend.
    pub fn target(&self) -> KindTarget {
        KindTarget {
            cluster: self.cluster.clone(),
            versions: self.versions,
        }
    }

    /// Grades the checks whose answer lives in the cluster, not in a node file.
    pub async fn grade(&self, check: &Check, name: &str) -> Option<CheckResult> {
        Some(match check {
            Check::ServiceActive(unit) => match self.node.run(&node_commands::unit_state(unit)) {
                Ok(out) => match node_commands::parse_unit_state(&out) {
                    Some((active, sub)) if active == "active" => {
                        CheckResult::pass(name, format!("{unit} is active ({sub})"))
                    }
                    // The sandbox words it the same way: `kubelet is activating (auto-restart)`.
                    Some((active, sub)) => CheckResult::fail(
                        name,
                        format!("{unit} is {active} ({sub}): see `journalctl -u {unit}`"),
                    ),
                    None => CheckResult::invalid(
                        name,
                        format!("cannot read {unit}'s state from systemctl: {}", out.trim()),
                    ),
                },
                Err(e) => CheckResult::invalid(name, e.to_string()),
            },
            Check::KubeletRuntime => {
                let endpoint = self.kubelet_endpoint();
                match self.node.run(&node_commands::crictl_version(&endpoint)) {
                    Ok(out) => CheckResult::pass(
                        name,
                        format!(
                            "{endpoint} answers CRI: {}",
                            out.lines().last().unwrap_or("")
                        ),
                    ),
                    Err(ExternalError::Failed { output, .. }) => CheckResult::fail(name, output),
                    Err(e) => CheckResult::invalid(name, e.to_string()),
                }
            }
            Check::StaticPodRunning(pod) => {
                match self.node.run(&node_commands::crictl_running(pod)) {
                    Ok(ids) if !ids.trim().is_empty() => {
                        CheckResult::pass(name, format!("{pod} is running ({})", ids.trim()))
                    }
                    Ok(_) => CheckResult::fail(
                        name,
                        format!(
                            "no running {pod} container: `crictl ps -a --name {pod}` and `crictl logs` tell why"
                        ),
                    ),
                    Err(e) => CheckResult::invalid(name, e.to_string()),
                }
            }
            Check::EtcdHealthy => match self.node.run(&node_commands::etcd_health()) {
                Ok(out) => CheckResult::pass(name, out.trim().to_string()),
                Err(ExternalError::Failed { output, .. }) => CheckResult::fail(name, output),
                Err(e) => CheckResult::invalid(name, e.to_string()),
            },
            Check::NodeReady
            | Check::ApiserverReady
            | Check::ObjectExists { .. }
            | Check::PodPhase { .. } => {
                let client = match kube_checks::client(&self.kubeconfig, &self.cluster).await {
                    Ok(client) => client,
                    Err(e) => return Some(CheckResult::invalid(name, e)),
                };
                match check {
                    Check::NodeReady => {
                        kube_checks::node_ready(&client, name, &self.layout.node_name).await
                    }
                    Check::ApiserverReady => kube_checks::readyz(&client, name).await,
                    Check::ObjectExists {
                        kind,
                        namespace,
                        name: object,
                        data,
                    } => {
                        kube_checks::object_exists(&client, name, *kind, namespace, object, data)
                            .await
                    }
                    Check::PodPhase {
                        namespace,
                        name: pod,
                        phase,
                    } => kube_checks::pod_phase(&client, name, namespace, pod, phase).await,
                    _ => return None,
                }
            }
            // Files, certificates and commands are graded the same way on every backend.
            _ => return None,
        })
    }

    /// The endpoint the kubelet uses (a flag in kubeadm-flags.env beats config.yaml).
    fn kubelet_endpoint(&self) -> String {
        let read = |path| self.node.read(path).unwrap_or_default();
        // An unreadable config.yaml leaves the flag or the default, as for the kubelet.
        let config =
            crate::engine::edit::parse_yaml(&read(crate::kubelet::CONFIG_FILE)).unwrap_or_default();
        crate::kubelet::effective_endpoint(&read(crate::kubelet::FLAGS_FILE), &config)
    }

    /// `etcdctl snapshot save` on the node.
    pub fn snapshot_save(&self, to: &str) -> Result<(), String> {
        let dir = to.rsplit_once('/').map_or("/", |(d, _)| d);
        self.node
            .run(&node_commands::make_dir(dir))
            .map_err(|e| e.to_string())?;
        self.node
            .run(&node_commands::etcd_snapshot_save(to))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// `etcdutl` (etcd 3.6) or `etcdctl` (3.4/3.5) `snapshot restore` on the node.
    pub fn snapshot_restore(&self, snapshot: &str, data_dir: &str) -> Result<(), String> {
        self.node
            .run(&node_commands::etcd_snapshot_restore(
                &self.layout.etcd_restore_tool,
                snapshot,
                data_dir,
            ))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Creates (or replaces) an object through the API, its namespace first.
    pub fn put_object(&self, object_json: &str, namespace: &str) -> Result<(), String> {
        if let Err(e) = self.node.run(&node_commands::create_namespace(namespace))
            && !e.to_string().contains("AlreadyExists")
        {
            return Err(e.to_string());
        }
        let apply = self.node.exec_stdin_argv(&node_commands::apply_stdin());
        super::external::run(&apply, Some(object_json.as_bytes()))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    pub fn delete_object(
        &self,
        kind: ObjectKind,
        namespace: &str,
        name: &str,
    ) -> Result<(), String> {
        let kind = match kind {
            ObjectKind::ConfigMap => "configmap",
            ObjectKind::Secret => "secret",
        };
        self.node
            .run(&node_commands::delete_object(kind, namespace, name))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Re-issues a certificate: the files are copied out, signed here, and the new
    /// certificate written back.
    #[allow(clippy::too_many_arguments)]
    pub fn reissue(
        &self,
        cert: &str,
        key: &str,
        ca: &str,
        ca_key: &str,
        like: &str,
        from_days: i64,
        to_days: i64,
    ) -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let copy_out = |path: &str, local: &str| -> Result<PathBuf, String> {
            let text = self.node.read(path).map_err(|e| e.to_string())?;
            let file = dir.path().join(local);
            std::fs::write(&file, text).map_err(|e| e.to_string())?;
            Ok(file)
        };
        let (key, ca, ca_key, like) = (
            copy_out(key, "key.pem")?,
            copy_out(ca, "ca.crt")?,
            copy_out(ca_key, "ca.key")?,
            copy_out(like, "like.crt")?,
        );
        let out = dir.path().join("new.crt");
        crate::pki::reissue(
            &out,
            &key,
            &ca,
            &ca_key,
            &like,
            from_days,
            to_days,
            std::time::SystemTime::now(),
        )
        .map_err(|e| e.to_string())?;
        let pem = std::fs::read(&out).map_err(|e| e.to_string())?;
        self.node.write(cert, &pem).map_err(|e| e.to_string())
    }
}

/// `Kubernetes v1.35.0` → 35.
fn parse_minor(kubelet_version: &str) -> Option<u32> {
    let version = kubelet_version
        .split_whitespace()
        .last()?
        .trim_start_matches('v');
    version.split('.').nth(1)?.parse().ok()
}

/// `registry.k8s.io/etcd:3.6.6-0` → 6.
fn etcd_minor(image: &str) -> Option<u32> {
    let tag = image.rsplit_once(':')?.1;
    tag.split('.').nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_from_the_node() {
        assert_eq!(parse_minor("Kubernetes v1.35.0"), Some(35));
        assert_eq!(parse_minor("Kubernetes v1.31.4"), Some(31));
        assert_eq!(etcd_minor("registry.k8s.io/etcd:3.6.6-0"), Some(6));
        assert_eq!(etcd_minor("registry.k8s.io/etcd:3.5.16-0"), Some(5));
        assert_eq!(parse_minor("garbage"), None);
    }
}
