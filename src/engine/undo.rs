//! What a lab's setup changed, so `reset` can put it back on a node and cluster that stay up.
//! Before a setup step touches a file or an API object, what was there (or the fact that
//! nothing was) is recorded on the node under `/var/lib/ckalab/originals/`, through the
//! backend's own primitives: the record lives with the node it describes, on any backend.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cluster::{Backend, ObjectRef};
use super::fault::Fault;
use crate::catalog::step::Step;

const DIR: &str = "/var/lib/ckalab/originals";
const INDEX: &str = "/var/lib/ckalab/originals/index.json";

/// Every node path and object setup changed, with what was there before.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct UndoLog {
    paths: BTreeMap<String, Original>,
    /// Objects, in the order setup first touched them.
    #[serde(default)]
    objects: Vec<(ObjectRef, Option<serde_json::Value>)>,
    /// The uid of each object setup applied, as it was when setup ended: a check tells an
    /// edited object from one deleted and recreated.
    #[serde(default)]
    uids: Vec<(ObjectRef, String)>,
    /// Units setup disabled: reset enables them again.
    #[serde(default)]
    disabled_units: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Original {
    /// A file, saved under `DIR` by this name.
    File { saved_as: String },
    /// Nothing was there: reset removes whatever setup put there.
    Absent,
}

impl UndoLog {
    /// The record on the node, or an empty one.
    pub async fn load(backend: &dyn Backend) -> UndoLog {
        match backend.read_text(INDEX).await {
            Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
            Err(_) => UndoLog::default(),
        }
    }

    /// Saves what is at each path and object `step` will change, unless an earlier step
    /// already did.
    pub async fn record(&mut self, backend: &dyn Backend, step: &Step) -> Result<(), Fault> {
        let layout = backend.layout();
        if let Step::Disable(unit) = step {
            let unit = layout.render(unit).map_err(Fault::Grader)?;
            if !self.disabled_units.contains(&unit) {
                self.disabled_units.push(unit);
            }
        }
        for path in step.paths().written {
            let path = layout.render(path).map_err(Fault::Grader)?;
            if self.paths.contains_key(&path) {
                continue;
            }
            if backend.is_dir(&path).await? {
                return Err(Fault::grader(format!(
                    "{path} is a directory: setup can only change files it can put back"
                )));
            }
            let original = match backend.read(&path).await {
                Ok(bytes) => {
                    let saved_as = format!("{}.orig", self.paths.len());
                    backend.write(&format!("{DIR}/{saved_as}"), &bytes).await?;
                    Original::File { saved_as }
                }
                Err(_) => Original::Absent,
            };
            self.paths.insert(path, original);
        }
        for object in touched_objects(step, layout)? {
            if self.objects.iter().any(|(known, _)| known == &object) {
                continue;
            }
            let client = backend.client().await?;
            let before = super::api::object::get(&client, &object).await?;
            let before = before.map(|found| restorable(&object, found));
            self.objects.push((object, before));
        }
        self.save(backend).await
    }

    /// Notes the uid of each object `step` applied, once it has run.
    pub async fn remember_uids(&mut self, backend: &dyn Backend, step: &Step) -> Result<(), Fault> {
        let Step::Apply(_) = step else {
            return Ok(());
        };
        let client = backend.client().await?;
        for object in touched_objects(step, backend.layout())? {
            if let Some(found) = super::api::object::get(&client, &object).await?
                && let Some(uid) = found.metadata.uid
            {
                self.uids.retain(|(known, _)| known != &object);
                self.uids.push((object, uid));
            }
        }
        self.save(backend).await
    }

    /// The uid an object had when setup ended, if setup applied it.
    pub fn uid(&self, object: &ObjectRef) -> Option<&str> {
        self.uids
            .iter()
            .find(|(known, _)| known == object)
            .map(|(_, uid)| uid.as_str())
    }

    async fn save(&self, backend: &dyn Backend) -> Result<(), Fault> {
        let index = serde_json::to_string_pretty(self).map_err(|e| Fault::grader(e.to_string()))?;
        backend.write(INDEX, index.as_bytes()).await
    }

    /// Puts every recorded file back as it was and returns how many. Objects stay recorded:
    /// they go back with `restore_objects`, once the API server answers again.
    pub async fn restore_files(&mut self, backend: &dyn Backend) -> Result<usize, Fault> {
        let count = self.paths.len() + self.disabled_units.len();
        for unit in std::mem::take(&mut self.disabled_units) {
            backend
                .unit(&unit, super::node::UnitAction::Enable)
                .await
                .map_err(|e| e.context(format!("enabling {unit} again")))?;
        }
        for (path, original) in std::mem::take(&mut self.paths) {
            match original {
                Original::File { saved_as } => {
                    let bytes = backend
                        .read(&format!("{DIR}/{saved_as}"))
                        .await
                        .map_err(|e| e.context(format!("the saved copy of {path}")))?;
                    backend.write(&path, &bytes).await?;
                }
                Original::Absent => backend.remove(&path).await?,
            }
        }
        if self.objects.is_empty() {
            backend.remove(DIR).await?;
        } else {
            self.save(backend).await?;
        }
        Ok(count)
    }

    /// Puts every recorded object back as it was (deletes the ones setup created) and forgets
    /// the record. Returns how many objects it put back.
    pub async fn restore_objects(self, backend: &dyn Backend) -> Result<usize, Fault> {
        let count = self.objects.len();
        if count == 0 {
            // `restore_files` already removed the record.
            return Ok(0);
        }
        // Newest first, so an object setup made from another goes before it.
        let mut deleted = Vec::new();
        for (object, before) in self.objects.into_iter().rev() {
            match before {
                Some(manifest) => backend.put_object(&manifest).await?,
                None => {
                    backend.delete_object(&object).await?;
                    deleted.push(object);
                }
            }
        }
        // A namespace takes its objects with it, and a next setup must not find it
        // Terminating: wait until every deleted object is gone.
        wait_gone(backend, &deleted).await?;
        backend.remove(DIR).await?;
        Ok(count)
    }

    /// Whether anything is recorded.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.objects.is_empty() && self.disabled_units.is_empty()
    }
}

/// An object as it can be written back whole: everything but its status and the metadata
/// the API server owns (uid, resourceVersion, timestamps, managed fields).
fn restorable(object: &ObjectRef, found: kube::core::DynamicObject) -> serde_json::Value {
    let mut value = found.data;
    let mut metadata = serde_json::to_value(&found.metadata).unwrap_or_default();
    if let Some(fields) = metadata.as_object_mut() {
        for owned in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
        ] {
            fields.remove(owned);
        }
    }
    value["apiVersion"] = object.api_version.clone().into();
    value["kind"] = object.kind.clone().into();
    value["metadata"] = metadata;
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    value
}

/// How long reset waits for the objects it deleted (a namespace's included) to be gone.
const DELETION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

async fn wait_gone(backend: &dyn Backend, objects: &[ObjectRef]) -> Result<(), Fault> {
    if objects.is_empty() {
        return Ok(());
    }
    let client = backend.client().await?;
    let deadline = tokio::time::Instant::now() + DELETION_TIMEOUT;
    for object in objects {
        while super::api::object::get(&client, object).await?.is_some() {
            if tokio::time::Instant::now() >= deadline {
                return Err(Fault::cluster(format!(
                    "{object} is still there {} s after it was deleted",
                    DELETION_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }
    Ok(())
}

/// The objects a step creates, changes or deletes.
fn touched_objects(
    step: &Step,
    layout: &crate::catalog::NodeLayout,
) -> Result<Vec<ObjectRef>, Fault> {
    match step {
        Step::Apply(yaml) => {
            return super::steps::documents(layout, yaml)?
                .iter()
                .map(super::api::object::reference)
                .collect();
        }
        Step::ApplyBundled(bundle) => {
            return super::steps::bundled(bundle)?
                .iter()
                .map(super::api::object::reference)
                .collect();
        }
        Step::KeepObject(target) => {
            let api_version = target.api_version().ok_or_else(|| {
                Fault::grader(format!("the lab names no apiVersion for {target}"))
            })?;
            return super::steps::object_ref(
                layout,
                api_version,
                &target.kind,
                &target.namespace,
                &target.name,
            )
            .map(|object| vec![object]);
        }
        _ => {}
    }
    let (api_version, kind, namespace, name) = match step {
        Step::PutObject {
            api_version,
            kind,
            namespace,
            name,
            ..
        }
        | Step::PatchObject {
            api_version,
            kind,
            namespace,
            name,
            ..
        }
        | Step::DeleteObject {
            api_version,
            kind,
            namespace,
            name,
        } => (api_version, kind, namespace, name),
        _ => return Ok(Vec::new()),
    };
    super::steps::object_ref(layout, api_version, kind, namespace, name).map(|object| vec![object])
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::engine::steps::run_setup;
    use crate::engine::testing::{FakeBackend, Reply, recording_client};

    const DISCOVERY: &str = include_str!("../../tests/fixtures/kube/api-v1.json");
    const NODE: &str = include_str!("../../tests/fixtures/kube/node-ready.json");
    const NODE_PATH: &str = "/api/v1/nodes/controlplane";

    /// A lab that labels and taints a node leaves the node as it found it after reset: the
    /// whole object goes back, so a label the patch added is gone again.
    #[tokio::test]
    async fn a_patched_node_is_put_back_whole() {
        let ok = |body| Reply::Answer(StatusCode::OK, body);
        let (client, requests) =
            recording_client(vec![("/api/v1", ok(DISCOVERY)), (NODE_PATH, ok(NODE))]);
        let backend = FakeBackend::new(Some(client));
        let step: Step = serde_saphyr::from_str(
            "patch_object:
  kind: Node
  name: controlplane
  patch:
    metadata: {labels: {disk: ssd}}
    spec: {taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}
",
        )
        .expect("a step");
        run_setup(&backend, &[step]).await.expect("setup");
        let mut undo = UndoLog::load(&backend).await;
        assert_eq!(undo.restore_files(&backend).await, Ok(0));
        assert_eq!(undo.restore_objects(&backend).await, Ok(1));

        let requests = requests.lock().expect("lock").clone();
        let patch = requests
            .iter()
            .find(|r| r.starts_with(&format!("PATCH {NODE_PATH}")))
            .expect("the step patched the node");
        assert!(
            patch.contains("dedicated") && patch.contains("ssd"),
            "{patch}"
        );
        let put = requests.last().expect("requests");
        assert!(
            put.starts_with(&format!("PUT {NODE_PATH}")),
            "{requests:#?}"
        );
        let body: serde_json::Value = serde_json::from_str(
            put.split_once(' ')
                .and_then(|(_, r)| r.split_once(' '))
                .map_or("", |(_, b)| b),
        )
        .expect("a JSON body");
        let original: serde_json::Value = serde_json::from_str(NODE).expect("fixture");
        assert_eq!(body["metadata"]["labels"], original["metadata"]["labels"]);
        assert_eq!(body["spec"], original["spec"], "no taint is left behind");
        assert_eq!(
            body["metadata"]["resourceVersion"], original["metadata"]["resourceVersion"],
            "replaced over the version it found"
        );
        assert!(body.get("status").is_none());
    }
}
