//! What the engine can ask of the cluster a node belongs to: what it is (backend, layout) and a
//! Kubernetes client built once, through which objects are put, patched and deleted.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::fault::Fault;
use super::node::Node;
use crate::catalog::{BackendKind, NodeLayout};

#[async_trait]
pub trait Cluster: Send + Sync {
    fn kind(&self) -> BackendKind;
    /// The node's paths, ports and versions, for templates.
    fn layout(&self) -> &NodeLayout;
    /// The node, as the learner knows it: `sandbox node <dir>`, `kind node <container>`.
    fn describe(&self) -> String;
    /// What a lab keeps of this cluster between commands, when there is anything to keep.
    fn target(&self) -> Option<ClusterTarget> {
        None
    }
    /// A client with ckalab's own credentials, retries off and short timeouts, so a grader
    /// facing a deliberately broken API server answers in seconds. Built once.
    async fn client(&self) -> Result<kube::Client, Fault>;
    /// Creates an object or replaces it whole (a JSON manifest with apiVersion, kind and
    /// metadata), and its namespace when that is missing.
    async fn put_object(&self, object: &serde_json::Value) -> Result<(), Fault> {
        super::api::object::put(&self.client().await?, object).await
    }
    /// Changes an object with a JSON merge patch.
    async fn patch_object(
        &self,
        object: &ObjectRef,
        patch: &serde_json::Value,
    ) -> Result<(), Fault> {
        super::api::object::patch(&self.client().await?, object, patch).await
    }
    /// Deletes an object; one already absent is fine.
    async fn delete_object(&self, object: &ObjectRef) -> Result<(), Fault> {
        super::api::object::delete(&self.client().await?, object).await
    }
}

/// A node and the cluster it belongs to: what the engine drives.
pub trait Backend: Node + Cluster {}

impl<T: Node + Cluster> Backend for T {}

/// An object addressed as a manifest addresses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    /// Empty for a cluster-scoped object.
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// The cluster a lab runs on and its versions, kept in the session so the commands after
/// `start` reach the same cluster without asking it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterTarget {
    pub cluster: String,
    pub versions: Versions,
}

/// The minor versions of a control plane's Kubernetes and etcd: they decide which files and
/// tools the labs name (kubeadm-flags.env or config.yaml, etcdctl or etcdutl).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    pub kubernetes_minor: u32,
    pub etcd_minor: u32,
}
