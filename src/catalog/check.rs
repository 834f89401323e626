//! The typed assertions that grade a lab. Each asks whether the cluster works (an endpoint
//! answers, a node is Ready, objects are back), not whether a file holds one exact string, so
//! every valid fix passes.

use serde::Deserialize;

use super::step::core_v1;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// A unit (`containerd`, `kubelet`, `etcd`) is running.
    ServiceActive(String),
    /// The runtime endpoint the kubelet is configured with answers CRI v1 `Version`.
    KubeletRuntime,
    /// The node reports Ready.
    NodeReady,
    /// The static pod's container (`kube-apiserver`, `etcd`, ...) is running.
    StaticPodRunning(String),
    /// The apiserver answers `/readyz` over TLS verified against the cluster CA.
    ApiserverReady,
    /// etcd answers a health check over its client URL with the manifest's certs.
    EtcdHealthy,
    /// A certificate is valid now and for `days` more days, and signed by `ca`.
    CertValid { cert: String, ca: String, days: u32 },
    /// An object exists, asked of the API server, with the given data when given (a Secret's
    /// values compared decoded).
    ObjectExists {
        #[serde(default = "core_v1")]
        api_version: String,
        kind: String,
        #[serde(default)]
        namespace: String,
        name: String,
        #[serde(default)]
        data: std::collections::BTreeMap<String, String>,
    },
    /// A pod reports `phase` (`Running`, `Pending`, `Succeeded`, `Failed`) through the API.
    /// On the sandbox, pods run on the simulated workers (`node01`, `node02`).
    PodPhase {
        namespace: String,
        name: String,
        phase: String,
    },
    /// A key of a TOML or YAML file has the given value.
    FileKey {
        file: String,
        key: String,
        equals: serde_json::Value,
    },
    /// An argv run on the node exits 0.
    Command(Vec<String>),
}
