//! Any object, addressed by apiVersion and kind as a manifest addresses it: discovery finds its
//! resource, so a new object type (a CRD's included) needs no code.

use kube::api::{DeleteParams, Patch, PatchParams};
use kube::core::{DynamicObject, GroupVersionKind};
use kube::discovery::{ApiResource, Scope};
use kube::{Api, Client};

use super::fault;
use crate::engine::cluster::ObjectRef;
use crate::engine::fault::Fault;

/// The field manager ckalab's server-side applies use.
const FIELD_MANAGER: &str = "ckalab";

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

/// Creates or updates an object by server-side apply (its namespace first, when it names one).
pub async fn apply(client: &Client, manifest: &serde_json::Value) -> Result<(), Fault> {
    let object = reference(manifest)?;
    if !object.namespace.is_empty() {
        let namespace = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": object.namespace},
        });
        apply_one(client, &reference(&namespace)?, &namespace).await?;
    }
    apply_one(client, &object, manifest).await
}

async fn apply_one(
    client: &Client,
    object: &ObjectRef,
    manifest: &serde_json::Value,
) -> Result<(), Fault> {
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api(client, object)
        .await?
        .patch(&object.name, &params, &Patch::Apply(manifest))
        .await
        .map(drop)
        .map_err(|err| fault(&err).context(format!("applying {object}")))
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
