//! The part of the kubelet the API server sees: this node's Node object, its Ready condition
//! following the kubelet model (NotReady with the kubelet's own words when its runtime check
//! fails) with a heartbeat and its Lease renewed, a mirror pod for each static pod (`kube-apiserver-controlplane`)
//! whose status follows its process, and, once, the binding `kubeadm init` makes so that
//! admin.conf's group `kubeadm:cluster-admins` is cluster-admin. It talks with
//! super-admin.conf, as kubeadm does before that binding exists.

use std::path::PathBuf;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};

use super::state::PodState;
use crate::engine::api;
use crate::engine::fault::Fault;

/// A static pod as the kubelet runs it: its manifest and its container's state.
pub struct StaticPodRun {
    pub name: String,
    pub manifest: String,
    pub state: PodState,
}

impl StaticPodRun {
    /// The manifest as JSON (null when it does not parse).
    fn object(&self) -> serde_json::Value {
        serde_saphyr::from_str(&self.manifest).unwrap_or_default()
    }

    /// The namespace the manifest names, `default` when it names none, as the kubelet has it.
    fn namespace(&self) -> String {
        self.object()["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string()
    }
}

pub struct NodeStatus {
    name: String,
    kubeconfig: PathBuf,
    client: Option<kube::Client>,
    bound: bool,
    registered: bool,
    /// The Ready status last posted and since when, for lastTransitionTime.
    last: Option<(bool, String)>,
    /// The mirror pods made, by static pod name: the hash of the manifest each mirrors, and
    /// its namespace.
    mirrored: BTreeMap<String, (String, String)>,
}

impl NodeStatus {
    pub fn new(name: &str, super_admin: PathBuf) -> NodeStatus {
        NodeStatus {
            name: name.to_string(),
            kubeconfig: super_admin,
            client: None,
            bound: false,
            registered: false,
            last: None,
            mirrored: BTreeMap::new(),
        }
    }

    /// Registers the node when it is not yet, posts its Ready condition and heartbeat, and keeps
    /// a mirror pod for each static pod.
    pub async fn post(
        &mut self,
        ready: bool,
        message: &str,
        pods: &[StaticPodRun],
    ) -> Result<(), Fault> {
        let client = api::cached_client(&mut self.client, &self.kubeconfig).await?;
        if !self.bound {
            api::object::ensure(&client, &cluster_admins()).await?;
            self.bound = true;
        }
        if !self.registered {
            api::object::ensure(&client, &node_object(&self.name)).await?;
            // The workers' kubelets register their Nodes as this one does, when they start.
            for (name, ip) in super::workers::WORKERS {
                let node = super::workers::node_object(name, ip, &kubelet_version());
                api::object::ensure(&client, &node).await?;
            }
            self.registered = true;
        }
        let now = crate::clock::now().to_string();
        let since = match &self.last {
            Some((was, since)) if *was == ready => since.clone(),
            _ => now.clone(),
        };
        let (status, reason) = match ready {
            true => ("True", "KubeletReady"),
            false => ("False", "KubeletNotReady"),
        };
        let patch = serde_json::json!({
            "status": {
                "conditions": [{
                    "type": "Ready",
                    "status": status,
                    "reason": reason,
                    "message": message,
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": since,
                }],
                "addresses": [
                    {"type": "InternalIP", "address": super::files::NODE_IP},
                    {"type": "Hostname", "address": self.name},
                ],
                "nodeInfo": {
                    "kubeletVersion": kubelet_version(),
                    "containerRuntimeVersion": "containerd://1.7",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "osImage": "ckalab sandbox",
                    "kernelVersion": "",
                    "kubeProxyVersion": "",
                    "machineID": "",
                    "systemUUID": "",
                    "bootID": "",
                },
            }
        });
        Api::<Node>::all(client.clone())
            .patch_status(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| api::fault(&e))?;
        self.last = Some((ready, since));
        self.renew_lease(&client).await?;
        self.mirror(&client, pods).await
    }

    /// The node's heartbeat Lease in `kube-node-lease`, renewed on every post as the kubelet
    /// renews it.
    async fn renew_lease(&self, client: &kube::Client) -> Result<(), Fault> {
        let renewed = crate::clock::now()
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let lease = serde_json::json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": self.name, "leaseDurationSeconds": 40, "renewTime": renewed},
        });
        api::object::ensure(client, &lease).await?;
        let object = api::object::reference(&lease)?;
        let patch = serde_json::json!({"spec": {"renewTime": renewed}});
        api::object::patch(client, &object, &patch).await
    }

    /// Makes, updates and removes the mirror pods: a changed manifest gets a new mirror pod,
    /// as the kubelet makes one per manifest hash.
    async fn mirror(&mut self, client: &kube::Client, pods: &[StaticPodRun]) -> Result<(), Fault> {
        let gone: Vec<String> = self
            .mirrored
            .keys()
            .filter(|name| pods.iter().all(|p| &p.name != *name))
            .cloned()
            .collect();
        for name in gone {
            if let Some((_, namespace)) = self.mirrored.remove(&name) {
                self.delete_mirror(client, &namespace, &name).await?;
            }
        }
        for pod in pods {
            let hash = format!("{:016x}", fnv(pod.manifest.as_bytes()));
            let namespace = pod.namespace();
            if self.mirrored.get(&pod.name).map(|(h, _)| h) != Some(&hash) {
                if let Some((_, old)) = self.mirrored.remove(&pod.name) {
                    self.delete_mirror(client, &old, &pod.name).await?;
                }
                // A mirror left by an earlier agent of this node, not in the map yet.
                self.delete_mirror(client, &namespace, &pod.name).await?;
                let Some(manifest) = self.mirror_object(pod, &hash) else {
                    continue;
                };
                api::object::ensure(client, &manifest).await?;
                self.mirrored
                    .insert(pod.name.clone(), (hash, namespace.clone()));
            }
            Api::<Pod>::namespaced(client.clone(), &namespace)
                .patch_status(
                    &self.mirror_name(&pod.name),
                    &PatchParams::default(),
                    &Patch::Merge(&pod_status(pod)),
                )
                .await
                .map_err(|e| api::fault(&e))?;
        }
        Ok(())
    }

    fn mirror_name(&self, pod: &str) -> String {
        format!("{pod}-{}", self.name)
    }

    /// Deletes a mirror pod at once, as the kubelet does (grace 0): no kubelet would ever
    /// confirm a graceful deletion of a pod that has no container of its own.
    async fn delete_mirror(
        &self,
        client: &kube::Client,
        namespace: &str,
        pod: &str,
    ) -> Result<(), Fault> {
        let pods = Api::<Pod>::namespaced(client.clone(), namespace);
        match pods
            .delete(
                &self.mirror_name(pod),
                &DeleteParams::default().grace_period(0),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if api::status_code(&err) == Some(404) => Ok(()),
            Err(err) => Err(api::fault(&err)),
        }
    }

    /// The pod the manifest describes, bound to this node and marked as a mirror.
    fn mirror_object(&self, pod: &StaticPodRun, hash: &str) -> Option<serde_json::Value> {
        let mut object = pod.object();
        if !object.is_object() {
            return None;
        }
        object["metadata"]["name"] = self.mirror_name(&pod.name).into();
        object["metadata"]["namespace"] = pod.namespace().into();
        object["metadata"]["annotations"]["kubernetes.io/config.mirror"] = hash.into();
        object["metadata"]["annotations"]["kubernetes.io/config.hash"] = hash.into();
        object["metadata"]["annotations"]["kubernetes.io/config.source"] = "file".into();
        object["spec"]["nodeName"] = self.name.clone().into();
        Some(object)
    }
}

/// A mirror pod's status as the kubelet reports it: Running and Ready with its container, or
/// its container in CrashLoopBackOff after the exit code it last had.
fn pod_status(pod: &StaticPodRun) -> serde_json::Value {
    // The container the manifest declares; the control plane's are named after their pod.
    let manifest = pod.object();
    let container = &manifest["spec"]["containers"][0];
    let name = container["name"].as_str().unwrap_or(pod.name.as_str());
    let image = container["image"].as_str().map_or_else(
        || format!("registry.k8s.io/{name}:{}", kubelet_version()),
        String::from,
    );
    let running = pod.state.state == "Running";
    let state = if running {
        serde_json::json!({"running": {"startedAt": pod.state.started_at}})
    } else {
        serde_json::json!({"waiting": {
            "reason": "CrashLoopBackOff",
            "message": format!("back-off restarting failed container {name}"),
        }})
    };
    let last_state = match pod.state.exit_code {
        Some(code) if !running => serde_json::json!({"terminated": {
            "exitCode": code,
            "reason": "Error",
            "finishedAt": pod.state.started_at,
            "startedAt": pod.state.started_at,
        }}),
        _ => serde_json::json!({}),
    };
    let ready = if running && pod.state.ready {
        "True"
    } else {
        "False"
    };
    serde_json::json!({"status": {
        "phase": "Running",
        "hostIP": super::files::NODE_IP,
        "podIP": super::files::NODE_IP,
        "startTime": pod.state.started_at,
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "ContainersReady", "status": ready},
            {"type": "Ready", "status": ready},
            {"type": "PodScheduled", "status": "True"},
        ],
        "containerStatuses": [{
            "name": name,
            "image": image,
            "imageID": "",
            "containerID": format!("containerd://{}", pod.state.container_id),
            "ready": running && pod.state.ready,
            "started": running,
            "restartCount": pod.state.attempt,
            "state": state,
            "lastState": last_state,
        }],
    }})
}

/// FNV-1a: a stable hash of a manifest (std's hasher may change between releases).
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The Kubernetes version the node reports, the control plane's pinned one.
pub(super) fn kubelet_version() -> String {
    crate::binaries::pin("K8S_VERSION")
}

/// The Node as the kubelet registers a kubeadm control plane.
fn node_object(name: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/control-plane": "",
                "node.kubernetes.io/exclude-from-external-load-balancers": "",
            },
        },
        "spec": {
            "taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}],
        },
    })
}

/// What `kubeadm init` binds so admin.conf (group `kubeadm:cluster-admins`) is cluster-admin.
fn cluster_admins() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "kubeadm:cluster-admins"},
        "roleRef": {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "ClusterRole",
            "name": "cluster-admin",
        },
        "subjects": [{
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Group",
            "name": "kubeadm:cluster-admins",
        }],
    })
}
