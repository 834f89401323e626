//! Any object, addressed by apiVersion and kind as a manifest addresses it: discovery finds its
//! resource, so a new object type (a CRD's included) needs no code. Read, put whole, patched,
//! deleted.

use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::{ApiResource, Scope};
use kube::{Api, Client};

use super::fault;
use crate::engine::cluster::ObjectRef;
use crate::engine::fault::Fault;

/// The resource behind an apiVersion and kind, as the API server describes it.
async fn resource(
    client: &Client,
    api_version: &str,
    kind: &str,
) -> Result<(ApiResource, Scope), Fault> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    match kube::discovery::pinned_kind(client, &gvk).await {
        Ok((resource, capabilities)) => Ok((resource, capabilities.scope)),
        Err(kube::Error::Discovery(_)) => Err(Fault::cluster(format!(
            "the API server serves no kind {kind} in {api_version} (is its CRD installed?)"
        ))),
        Err(err) if super::status_code(&err) == Some(404) => Err(Fault::cluster(format!(
            "the API server serves no {api_version} API (is its CRD installed?)"
        ))),
        Err(err) => Err(fault(&err)),
    }
}

async fn api(client: &Client, object: &ObjectRef) -> Result<Api<DynamicObject>, Fault> {
    let (resource, scope) = resource(client, &object.api_version, &object.kind).await?;
    Ok(match scope {
        Scope::Namespaced => Api::namespaced_with(client.clone(), &object.namespace, &resource),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    })
}

/// The object as the API server has it, or `None` when there is no such object.
pub async fn get(client: &Client, object: &ObjectRef) -> Result<Option<DynamicObject>, Fault> {
    match api(client, object).await?.get(&object.name).await {
        Ok(found) => Ok(Some(found)),
        Err(err) if super::status_code(&err) == Some(404) => Ok(None),
        Err(err) => Err(fault(&err)),
    }
}

/// Creates an object, or replaces it whole when it exists (its namespace first, when it names
/// one): what `kubectl replace --force` leaves, without the delete.
pub async fn put(client: &Client, manifest: &serde_json::Value) -> Result<(), Fault> {
    let object = reference(manifest)?;
    if !object.namespace.is_empty() {
        let namespace = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": object.namespace},
        });
        let namespace_ref = reference(&namespace)?;
        if get(client, &namespace_ref).await?.is_none() {
            create(client, &namespace_ref, &namespace).await?;
        }
    }
    match get(client, &object).await? {
        None => create(client, &object, manifest).await,
        Some(current) => {
            let mut body = dynamic(manifest)?;
            body.metadata.resource_version = current.metadata.resource_version;
            api(client, &object)
                .await?
                .replace(&object.name, &PostParams::default(), &body)
                .await
                .map(drop)
                .map_err(|err| fault(&err).context(format!("replacing {object}")))
        }
    }
}

/// Creates an object unless it exists; an existing one is left as it is.
pub async fn ensure(client: &Client, manifest: &serde_json::Value) -> Result<(), Fault> {
    let object = reference(manifest)?;
    match get(client, &object).await? {
        Some(_) => Ok(()),
        None => create(client, &object, manifest).await,
    }
}

async fn create(
    client: &Client,
    object: &ObjectRef,
    manifest: &serde_json::Value,
) -> Result<(), Fault> {
    match api(client, object)
        .await?
        .create(&PostParams::default(), &dynamic(manifest)?)
        .await
    {
        Ok(_) => Ok(()),
        // Someone (the learner, a controller) made it meanwhile: it exists, as wanted.
        Err(err) if super::status_code(&err) == Some(409) => Ok(()),
        Err(err) => Err(fault(&err).context(format!("creating {object}"))),
    }
}

fn dynamic(manifest: &serde_json::Value) -> Result<DynamicObject, Fault> {
    serde_json::from_value(manifest.clone())
        .map_err(|e| Fault::grader(format!("the lab's object is not a Kubernetes object: {e}")))
}

/// Creates or updates an object with server-side apply, as `kubectl apply --server-side
/// --force-conflicts` does, and returns it as the API server stored it.
pub async fn apply(client: &Client, manifest: &serde_json::Value) -> Result<DynamicObject, Fault> {
    let object = reference(manifest)?;
    api(client, &object)
        .await?
        .patch(
            &object.name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(manifest),
        )
        .await
        .map_err(|err| fault(&err).context(format!("applying {object}")))
}

/// The field manager ckalab's own changes are recorded under.
const FIELD_MANAGER: &str = "ckalab";

/// Asks the API server to create an object without storing it (a server-side dry run), so every
/// admission step runs: the object as it would be stored, or the API server's reason to refuse
/// it.
pub async fn dry_run_create(
    client: &Client,
    manifest: &serde_json::Value,
) -> Result<Result<DynamicObject, String>, Fault> {
    let object = reference(manifest)?;
    let params = PostParams {
        dry_run: true,
        field_manager: Some(FIELD_MANAGER.into()),
    };
    match api(client, &object)
        .await?
        .create(&params, &dynamic(manifest)?)
        .await
    {
        Ok(admitted) => Ok(Ok(admitted)),
        Err(kube::Error::Api(status)) => Ok(Err(status.message)),
        Err(err) => Err(fault(&err)),
    }
}

/// Lists the objects of a kind (in a namespace, when it is namespaced and one is given),
/// optionally by label selector.
pub async fn list(
    client: &Client,
    api_version: &str,
    kind: &str,
    namespace: &str,
    label_selector: Option<&str>,
) -> Result<Vec<DynamicObject>, Fault> {
    let (resource, scope) = resource(client, api_version, kind).await?;
    let api: Api<DynamicObject> = match scope {
        Scope::Namespaced if !namespace.is_empty() => {
            Api::namespaced_with(client.clone(), namespace, &resource)
        }
        _ => Api::all_with(client.clone(), &resource),
    };
    let mut params = kube::api::ListParams::default();
    if let Some(selector) = label_selector {
        params = params.labels(selector);
    }
    api.list(&params)
        .await
        .map(|list| list.items)
        .map_err(|err| fault(&err))
}

/// Changes an object with a JSON merge patch.
pub async fn patch(
    client: &Client,
    object: &ObjectRef,
    patch: &serde_json::Value,
) -> Result<(), Fault> {
    api(client, object)
        .await?
        .patch(&object.name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map(drop)
        .map_err(|err| fault(&err).context(format!("patching {object}")))
}

/// Deletes an object; one already absent is fine.
pub async fn delete(client: &Client, object: &ObjectRef) -> Result<(), Fault> {
    match api(client, object)
        .await?
        .delete(&object.name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if super::status_code(&err) == Some(404) => Ok(()),
        Err(err) => Err(fault(&err).context(format!("deleting {object}"))),
    }
}

/// How a manifest addresses its object.
pub fn reference(manifest: &serde_json::Value) -> Result<ObjectRef, Fault> {
    let field = |path: &[&str]| {
        path.iter()
            .try_fold(manifest, |value, key| value.get(key))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    let missing = |what: &str| Fault::grader(format!("the lab's object has no {what}"));
    Ok(ObjectRef {
        api_version: field(&["apiVersion"]).ok_or_else(|| missing("apiVersion"))?,
        kind: field(&["kind"]).ok_or_else(|| missing("kind"))?,
        namespace: field(&["metadata", "namespace"]).unwrap_or_default(),
        name: field(&["metadata", "name"]).ok_or_else(|| missing("metadata.name"))?,
    })
}

/// Applies a JSON merge patch (RFC 7386) to a value: objects merge key by key, `null` removes a
/// key, anything else (a list included) replaces what was there.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(fields) = target {
        for (key, change) in changes {
            if change.is_null() {
                fields.remove(key);
            } else {
                merge_patch(fields.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_patch_merges_objects_replaces_lists_and_removes_nulls() {
        let mut node = serde_json::json!({
            "metadata": {"name": "worker", "labels": {"a": "1", "b": "2"}},
            "spec": {"taints": [{"key": "x", "effect": "NoSchedule"}]},
        });
        merge_patch(
            &mut node,
            &serde_json::json!({
                "metadata": {"labels": {"b": null, "disk": "ssd"}},
                "spec": {"taints": [], "unschedulable": true},
            }),
        );
        assert_eq!(
            node,
            serde_json::json!({
                "metadata": {"name": "worker", "labels": {"a": "1", "disk": "ssd"}},
                "spec": {"taints": [], "unschedulable": true},
            })
        );
    }
}
