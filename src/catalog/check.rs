//! The typed assertions that grade a lab. Each asks whether the cluster works (an endpoint
//! answers, a node is Ready, objects are back), not whether a file holds one exact string, so
//! every valid fix passes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::step::core_v1;

#[derive(Debug, Clone, Deserialize, Serialize)]
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
    /// A shell command line run on the node (`sh -c`) exits 0; `about` says what that proves,
    /// in the learner's terms ("the snapshot restores").
    Shell { about: String, run: String },
    /// The scheduler schedules: a probe pod the grader creates in `namespace`, naming no node,
    /// is bound to one within `within_seconds` (60 unless given); the probe is removed after.
    Schedules {
        namespace: String,
        #[serde(default = "sixty")]
        within_seconds: u64,
    },
    /// A field of an object, found by a key path (`spec.template.spec.containers[name=api].image`,
    /// `spec.taints[key=dedicated].effect`), meets an expectation.
    Field {
        /// What the field means, for the learner ("node01 keeps its taint"); else the path.
        #[serde(default)]
        about: Option<String>,
        object: Target,
        path: String,
        expect: Expect,
    },
    /// The pods of a workload (a Deployment, StatefulSet, DaemonSet, ReplicaSet or Job, found
    /// through its selector; or one Pod): exactly `ready` of them, every one Ready, and where
    /// given, on these nodes, on nodes with these labels, running this image, one per node, or
    /// spread across a topology key.
    WorkloadPods {
        object: Target,
        ready: u32,
        #[serde(default)]
        on_nodes: Vec<String>,
        #[serde(default)]
        node_labels: BTreeMap<String, String>,
        #[serde(default)]
        image: Option<String>,
        #[serde(default)]
        distinct_nodes: bool,
        #[serde(default)]
        spread: Option<Spread>,
    },
    /// A Deployment's rollout is complete (every replica updated and available) at revision
    /// `min_revision` or later: a rollback makes a new revision, a recreate starts again at 1.
    Rollout {
        namespace: String,
        name: String,
        #[serde(default)]
        min_revision: u32,
    },
    /// A PersistentVolumeClaim is Bound, to the volume and through the class given.
    ClaimBound {
        namespace: String,
        name: String,
        #[serde(default)]
        volume: Option<String>,
        #[serde(default)]
        storage_class: Option<String>,
    },
    /// The object setup created is still the same one (its uid): edited, not deleted and
    /// recreated.
    SameObject(Target),
    /// A file the learner wrote holds what `kubectl <kubectl>` prints now, line by line with
    /// spacing ignored.
    FileMatchesKubectl { file: String, kubectl: String },
    /// A container of a Pod (or of a workload's pod template) gets environment variable
    /// `name` with `value`, however it is spelled: a literal, `valueFrom` a ConfigMap or Secret
    /// key, or `envFrom` (with its prefix). `from` requires the source: `config_map`,
    /// `secret` or `literal`.
    EnvVar {
        object: Target,
        #[serde(default)]
        container: Option<String>,
        name: String,
        value: String,
        #[serde(default)]
        from: Option<EnvSource>,
    },
    /// A container of a Pod (or of a workload's pod template) mounts, at `path`, a volume whose
    /// definition includes `volume` (`{persistentVolumeClaim: {claimName: data}}`,
    /// `{emptyDir: {}}`), read-only when asked.
    Mount {
        object: Target,
        #[serde(default)]
        container: Option<String>,
        path: String,
        volume: serde_json::Value,
        #[serde(default)]
        read_only: bool,
    },
    /// The API server admits `object` (a YAML manifest), asked with a server-side dry run, and
    /// the object it would store meets the expectation at `path`: what admission (a LimitRange,
    /// a PriorityClass) adds.
    Admitted {
        /// What the probe shows, for the learner ("a container without resources gets a 100m
        /// CPU request"); else a generic sentence.
        #[serde(default)]
        about: Option<String>,
        object: String,
        path: String,
        expect: Expect,
    },
    /// The API server refuses `object` (a YAML manifest) on a server-side dry run, with a
    /// message that contains `reason`: what a ResourceQuota or a policy forbids.
    Refused {
        /// What the probe shows, for the learner ("a pod asking for 3 CPUs is refused").
        #[serde(default)]
        about: Option<String>,
        object: String,
        reason: String,
    },
    /// What a user or ServiceAccount may do, asked of the API server's authorizer as
    /// `kubectl auth can-i --as` asks it (a SubjectAccessReview): every request of `allowed`
    /// is allowed, every one of `denied` is denied, whatever Roles and bindings grant it.
    Access {
        /// `jane`, or `system:serviceaccount:<namespace>:<name>`.
        #[serde(rename = "as")]
        user: String,
        #[serde(default)]
        groups: Vec<String>,
        #[serde(default)]
        allowed: Vec<Request>,
        #[serde(default)]
        denied: Vec<Request>,
    },
    /// What the NetworkPolicies allow, evaluated as the API defines them for concrete flows
    /// between pods: a pod no policy selects takes everything, a selected one only what the
    /// union of its policies' rules allows, and a flow needs both the sender's egress and the
    /// receiver's ingress. (kind enforces policies in traffic; the sandbox evaluates them.)
    Traffic {
        #[serde(default)]
        allowed: Vec<Flow>,
        #[serde(default)]
        denied: Vec<Flow>,
    },
    /// The EndpointSlices of a Service list exactly the Ready pods of a workload, on `port` (the
    /// Service's other ports, such as kube-dns's metrics port beside 53, are not compared).
    ServiceEndpoints {
        namespace: String,
        service: String,
        pods_of: Target,
        port: u16,
    },
    /// A Helm release as the cluster holds it (its newest `sh.helm.release.v1.<name>.v<N>`
    /// Secret): its status (`deployed` unless given), at revision `min_revision` or later, of a
    /// chart version, and with user-supplied values (a key path into them, and the value).
    HelmRelease {
        namespace: String,
        name: String,
        #[serde(default)]
        status: Option<String>,
        #[serde(default)]
        min_revision: u32,
        #[serde(default)]
        chart_version: Option<String>,
        #[serde(default)]
        values: BTreeMap<String, serde_json::Value>,
    },
    /// A `kubeadm join` command in a file the learner wrote would join this cluster: the API
    /// server's endpoint, a live bootstrap token (expiring within `max_ttl_hours` when given),
    /// the cluster CA's hash; for a `control_plane` node, `--control-plane` and a certificate
    /// key that opens the uploaded `kubeadm-certs` Secret.
    JoinCommand {
        file: String,
        #[serde(default)]
        control_plane: bool,
        #[serde(default)]
        max_ttl_hours: Option<u32>,
    },
    /// The nodes a workload's pods may be scheduled on (its node name, node selector, required
    /// node affinity, and the NoSchedule and NoExecute taints it does not tolerate) are exactly
    /// `nodes`.
    Placement { object: Target, nodes: Vec<String> },
}

/// An object a check reads. `api_version` may be left out for the kinds of `DEFAULT_VERSIONS`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    #[serde(default)]
    pub api_version: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub namespace: String,
    pub name: String,
}

/// The apiVersion a lab may leave out, by kind.
pub const DEFAULT_VERSIONS: &[(&str, &str)] = &[
    ("Pod", "v1"),
    ("Node", "v1"),
    ("Namespace", "v1"),
    ("ConfigMap", "v1"),
    ("Secret", "v1"),
    ("Service", "v1"),
    ("ServiceAccount", "v1"),
    ("PersistentVolume", "v1"),
    ("PersistentVolumeClaim", "v1"),
    ("LimitRange", "v1"),
    ("ResourceQuota", "v1"),
    ("Deployment", "apps/v1"),
    ("ReplicaSet", "apps/v1"),
    ("StatefulSet", "apps/v1"),
    ("DaemonSet", "apps/v1"),
    ("Job", "batch/v1"),
    ("CronJob", "batch/v1"),
    ("HorizontalPodAutoscaler", "autoscaling/v2"),
    ("StorageClass", "storage.k8s.io/v1"),
    ("PriorityClass", "scheduling.k8s.io/v1"),
    ("NetworkPolicy", "networking.k8s.io/v1"),
    ("Ingress", "networking.k8s.io/v1"),
    ("IngressClass", "networking.k8s.io/v1"),
    ("EndpointSlice", "discovery.k8s.io/v1"),
    ("Role", "rbac.authorization.k8s.io/v1"),
    ("RoleBinding", "rbac.authorization.k8s.io/v1"),
    ("ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
    ("CustomResourceDefinition", "apiextensions.k8s.io/v1"),
    ("CertificateSigningRequest", "certificates.k8s.io/v1"),
];

impl Target {
    /// An object of one of the usual kinds (its apiVersion is known).
    pub fn new(kind: &str, namespace: &str, name: &str) -> Target {
        Target {
            api_version: None,
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The apiVersion given, or the usual one for the kind.
    pub fn api_version(&self) -> Option<&str> {
        self.api_version.as_deref().or_else(|| {
            DEFAULT_VERSIONS
                .iter()
                .find(|(kind, _)| *kind == self.kind)
                .map(|(_, version)| *version)
        })
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// What a field must be.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Expect {
    /// Equal to this value (a number and its string spelling are equal).
    Equals(serde_json::Value),
    /// A string containing this text, a list with an item that includes this value, or an
    /// object that includes it (every key of it, recursively).
    Contains(serde_json::Value),
    /// A string this regular expression matches whole.
    Matches(String),
    /// The same quantity as this one, however spelled (`1Gi` = `1024Mi`, `500m` = `0.5`).
    Quantity(String),
    /// Set to anything.
    Present,
    /// Not set.
    Absent,
}

/// One request a user may or may not make: `verb` on `resource` (`pods`, `deployments.apps`,
/// `pods/log`), in `namespace` (empty: cluster-wide).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub verb: String,
    pub resource: String,
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// A connection from one pod to another's port.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    pub from: PodRef,
    pub to: PodRef,
    pub port: u16,
    #[serde(default = "tcp")]
    pub protocol: String,
}

/// A pod by namespace and name, or the first (by name) of the pods with some labels: a
/// Deployment's pods, such as CoreDNS's, have generated names.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PodRef {
    pub namespace: String,
    #[serde(default)]
    pub pod: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

impl PodRef {
    /// Whether `pod` (a Pod as JSON) is the one meant.
    pub fn matches(&self, pod: &serde_json::Value) -> bool {
        let metadata = &pod["metadata"];
        metadata["namespace"] == self.namespace.as_str()
            && self
                .pod
                .as_ref()
                .is_none_or(|name| metadata["name"] == name.as_str())
            && self
                .labels
                .iter()
                .all(|(key, value)| metadata["labels"][key] == value.as_str())
    }
}

impl std::fmt::Display for PodRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.pod {
            Some(name) => write!(f, "{}/{name}", self.namespace),
            None => {
                let labels: Vec<String> = self
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                write!(f, "{}/pod {}", self.namespace, labels.join(","))
            }
        }
    }
}

fn sixty() -> u64 {
    60
}

fn tcp() -> String {
    "TCP".into()
}

/// Pods spread across the values of a node label, no two values further apart than `max_skew`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spread {
    pub topology_key: String,
    pub max_skew: u32,
}

/// Where an environment variable's value must come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvSource {
    Literal,
    ConfigMap,
    Secret,
}
