//! The typed actions a lab's `setup`, `solution` and `near_miss` are made of.
//!
//! Paths are node paths, written as on a real kubeadm node (`/etc/kubernetes/...`); each backend
//! maps them to where the node really is. Every string field is a tera template rendered with
//! the node's layout (`{{ ports.etcd_client }}`, `{{ paths.pki }}`, ...) before it runs.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::check::Check;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Writes `content` to `path`, creating parent directories.
    WriteFile { path: String, content: String },
    /// Copies the files of a folder shipped beside the lab's `lab.yaml` (`from`, such as
    /// `chart`) to the node under `to`, as they are: not rendered, so a Helm chart's
    /// `{{ .Values.x }}` stays. The catalog reads them when it loads the lab.
    CopyLabFiles {
        from: String,
        to: String,
        /// (node path, contents), filled in by the catalog.
        #[serde(skip)]
        files: Vec<(String, String)>,
    },
    /// Sets a key in a TOML or YAML file (format from the extension). `key` is dotted; quote a
    /// part that holds dots (`plugins."io.containerd.grpc.v1.cri".sandbox_image`), index lists
    /// by position or by a field (`spec.volumes[name=etcd-data].hostPath.path`).
    SetKey {
        file: String,
        key: String,
        value: serde_json::Value,
    },
    /// Points the kubelet at a runtime endpoint where the node's Kubernetes version keeps it:
    /// `containerRuntimeEndpoint` in config.yaml (1.34+), or the `--container-runtime-endpoint`
    /// flag in kubeadm-flags.env (1.27–1.33).
    SetRuntimeEndpoint(String),
    /// Removes a key from a TOML or YAML file; a key already absent is fine.
    RemoveKey { file: String, key: String },
    /// Replaces every occurrence of `from` with `to`; fails if `from` is not in the file.
    ReplaceText {
        file: String,
        from: String,
        to: String,
    },
    /// Sets `--flag=value` in the first container's command of a static pod manifest, adding
    /// the flag when it is missing.
    SetFlag {
        manifest: String,
        flag: String,
        value: String,
    },
    /// Removes a flag from the first container's command of a static pod manifest.
    RemoveFlag { manifest: String, flag: String },
    /// Copies a file.
    CopyPath { from: String, to: String },
    /// Moves a file or directory.
    MovePath { from: String, to: String },
    /// Removes a file or directory tree; a path already absent is fine.
    RemovePath(String),
    /// Changes nothing: has `reset` put the file back as it is now, or remove the path if
    /// there is none yet. For what a solution changes, on a node that outlives the lab (kind).
    Keep(String),
    /// Starts a unit (`containerd`, `kubelet`, `etcd`).
    Start(String),
    /// Stops a unit.
    Stop(String),
    /// Restarts a unit.
    Restart(String),
    /// Enables a unit: it starts at boot.
    Enable(String),
    /// Disables a unit: it no longer starts at boot (reset enables it again).
    Disable(String),
    /// Saves an etcd snapshot to a node path, through the etcd client URL and certs.
    EtcdSnapshot { to: String },
    /// Restores an etcd snapshot into a new data directory (`data_dir` must not exist), with
    /// the tool the node's etcd version needs (`etcdctl` on 3.4/3.5, `etcdutl` on 3.6).
    EtcdRestore { snapshot: String, data_dir: String },
    /// Creates or replaces an object holding `data` (a ConfigMap, or a Secret whose values are
    /// given in clear), and its namespace.
    PutObject {
        #[serde(default = "core_v1")]
        api_version: String,
        kind: String,
        namespace: String,
        name: String,
        #[serde(default)]
        data: BTreeMap<String, String>,
    },
    /// Changes fields of an object with a JSON merge patch: labels under `metadata.labels`, a
    /// node's taints under `spec.taints` (a list is replaced whole), `spec.unschedulable: true`
    /// to cordon. Reset puts the whole object back as it was.
    PatchObject {
        #[serde(default = "core_v1")]
        api_version: String,
        kind: String,
        #[serde(default)]
        namespace: String,
        name: String,
        patch: serde_json::Value,
    },
    /// Deletes an object; an object already absent is fine.
    DeleteObject {
        #[serde(default = "core_v1")]
        api_version: String,
        kind: String,
        #[serde(default)]
        namespace: String,
        name: String,
    },
    /// Issues a certificate for an existing key, signed by `ca`/`ca_key`, with the subject and
    /// SANs copied from `like` (the certificate it replaces), valid from `from_days` to
    /// `to_days` relative to now (negative: in the past).
    MakeCert {
        cert: String,
        key: String,
        ca: String,
        ca_key: String,
        like: String,
        from_days: i64,
        to_days: i64,
    },
    /// Creates or updates the objects of a YAML text (documents separated by `---`) with
    /// server-side apply, as `kubectl apply --server-side` does. Reset deletes what it created
    /// (a Namespace with everything in it) and puts back what it changed.
    Apply(String),
    /// Applies a bundle ckalab ships with its binaries, as `apply` does: `gateway-api` (the
    /// Gateway API's standard CRDs at the pinned release). Reset deletes what it created.
    ApplyBundled(String),
    /// Runs kubectl on the node with the admin kubeconfig, as a learner types it:
    /// `kubectl: set image deployment/api api=registry.local/api:1.4.2 -n shop`.
    Kubectl(String),
    /// Changes nothing: has reset put the object back as it is now, or delete it if there is
    /// none yet. For cluster-wide objects a solution creates (a PersistentVolume, a
    /// PriorityClass): objects in a namespace setup created go with the namespace.
    KeepObject(super::check::Target),
    /// Polls a check until it passes or the timeout ends (then the step fails).
    WaitFor { check: Check, timeout_seconds: u64 },
    /// Runs an argv on the node (never through a shell built from input).
    Run(Vec<String>),
}

/// The node paths (templates) a step changes, and those it only reads.
#[derive(Debug, Default, PartialEq)]
pub struct StepPaths<'s> {
    pub written: Vec<&'s str>,
    pub read: Vec<&'s str>,
}

impl<'s> StepPaths<'s> {
    fn written(written: Vec<&'s str>) -> StepPaths<'s> {
        StepPaths {
            written,
            read: Vec::new(),
        }
    }
}

impl Step {
    /// The node paths the step writes, moves or removes, and those it reads.
    pub fn paths(&self) -> StepPaths<'_> {
        let written = StepPaths::written;
        match self {
            Step::WriteFile { path, .. } | Step::RemovePath(path) | Step::Keep(path) => {
                written(vec![path])
            }
            Step::CopyLabFiles { files, .. } => {
                written(files.iter().map(|(path, _)| path.as_str()).collect())
            }
            Step::SetKey { file, .. }
            | Step::RemoveKey { file, .. }
            | Step::ReplaceText { file, .. } => written(vec![file]),
            Step::SetFlag { manifest, .. } | Step::RemoveFlag { manifest, .. } => {
                written(vec![manifest])
            }
            Step::SetRuntimeEndpoint(_) => written(vec!["{{ kubelet_endpoint_file }}"]),
            Step::CopyPath { from, to } => StepPaths {
                written: vec![to],
                read: vec![from],
            },
            Step::MovePath { from, to } => written(vec![from, to]),
            Step::EtcdSnapshot { to } => written(vec![to]),
            Step::EtcdRestore { snapshot, data_dir } => StepPaths {
                written: vec![data_dir],
                read: vec![snapshot],
            },
            Step::MakeCert {
                cert,
                key,
                ca,
                ca_key,
                like,
                ..
            } => StepPaths {
                written: vec![cert],
                read: vec![key, ca, ca_key, like],
            },
            // Units, objects, waits and commands change no file setup could name in advance.
            Step::Start(_)
            | Step::Stop(_)
            | Step::Enable(_)
            | Step::Disable(_)
            | Step::Restart(_)
            | Step::PutObject { .. }
            | Step::PatchObject { .. }
            | Step::DeleteObject { .. }
            | Step::WaitFor { .. }
            | Step::Apply(_)
            | Step::ApplyBundled(_)
            | Step::Kubectl(_)
            | Step::KeepObject(_)
            | Step::Run(_) => StepPaths::default(),
        }
    }
}

/// Why a lab's node path cannot be used: it must be absolute, as on a real node (or a layout
/// template such as `{{ kubelet_endpoint_file }}`), and never climb with `..`.
pub fn path_problem(path: &str) -> Option<String> {
    if !(path.starts_with('/') || path.starts_with("{{")) {
        return Some(format!("`{path}` is not an absolute node path"));
    }
    path.split('/')
        .any(|part| part == "..")
        .then(|| format!("`{path}` climbs out with `..`"))
}

/// The core group's version, where ConfigMaps, Secrets, Pods and Nodes live.
pub fn core_v1() -> String {
    "v1".to_string()
}
