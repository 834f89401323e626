//! The part of the kubelet the API server sees: this node's Node object, its Ready condition
//! following the kubelet model (NotReady with the kubelet's own words when its runtime check
//! fails) with a heartbeat, and, once, the binding `kubeadm init` makes so that admin.conf's
//! group `kubeadm:cluster-admins` is cluster-admin. It talks with super-admin.conf, as kubeadm
//! does before that binding exists.

use std::path::PathBuf;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams};

use crate::engine::api;
use crate::engine::fault::Fault;

pub struct NodeStatus {
    name: String,
    kubeconfig: PathBuf,
    client: Option<kube::Client>,
    bound: bool,
    registered: bool,
    /// The Ready status last posted and since when, for lastTransitionTime.
    last: Option<(bool, String)>,
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
        }
    }

    /// Registers the node when it is not yet, and posts its Ready condition and heartbeat.
    pub async fn post(&mut self, ready: bool, message: &str) -> Result<(), Fault> {
        let client = match &self.client {
            Some(client) => client.clone(),
            None => {
                let config = api::grader_config(&self.kubeconfig, None).await?;
                let client = api::client(config)?;
                self.client = Some(client.clone());
                client
            }
        };
        if !self.bound {
            api::object::ensure(&client, &cluster_admins()).await?;
            self.bound = true;
        }
        if !self.registered {
            api::object::ensure(&client, &node_object(&self.name)).await?;
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
        Api::<Node>::all(client)
            .patch_status(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map_err(|e| api::fault(&e))?;
        self.last = Some((ready, since));
        Ok(())
    }
}

/// The Kubernetes version the node reports, the control plane's pinned one.
fn kubelet_version() -> String {
    crate::binaries::families()
        .into_iter()
        .find(|f| f.name == "kubernetes")
        .map(|f| f.version)
        .unwrap_or_default()
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
