//! Reading the object a check names, the same way for every check that grades API state.

use serde_json::Value;

use crate::catalog::check::Target;
use crate::engine::api;
use crate::engine::cluster::{Backend, ObjectRef};
use crate::engine::verdict::CheckResult;

/// The grader's client, or the result that says why there is none.
pub async fn client(backend: &dyn Backend, check: &str) -> Result<kube::Client, CheckResult> {
    backend
        .client()
        .await
        .map_err(|fault| CheckResult::fault(check, &fault))
}

/// How the API addresses a check's target.
pub fn reference(target: &Target) -> Result<ObjectRef, String> {
    let api_version = target
        .api_version()
        .ok_or_else(|| format!("the lab names no apiVersion for {target}"))?;
    Ok(ObjectRef {
        api_version: api_version.to_string(),
        kind: target.kind.clone(),
        namespace: target.namespace.clone(),
        name: target.name.clone(),
    })
}

/// The object as JSON (metadata included), or the result that says it is missing.
pub async fn fetch(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
) -> Result<Value, CheckResult> {
    let object = reference(target).map_err(|e| CheckResult::invalid(check, e))?;
    let client = client(backend, check).await?;
    match api::object::get(&client, &object).await {
        Ok(Some(found)) => Ok(serde_json::to_value(found).unwrap_or_default()),
        Ok(None) => Err(CheckResult::fail(check, not_found(&object))),
        Err(fault) => Err(CheckResult::fault(check, &fault)),
    }
}

/// The pod spec of a Pod, or of a workload's pod template, or the result that says why there
/// is none.
pub async fn fetch_pod_spec(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
) -> Result<Value, CheckResult> {
    let found = fetch(backend, check, target).await?;
    pod_spec(&found)
        .cloned()
        .ok_or_else(|| CheckResult::invalid(check, format!("{target} has no pod spec")))
}

/// `Deployment "web" not found in namespace shop`, as kubectl says it.
pub fn not_found(object: &ObjectRef) -> String {
    if object.namespace.is_empty() {
        format!("{} \"{}\" not found", object.kind, object.name)
    } else {
        format!(
            "{} \"{}\" not found in namespace {}",
            object.kind, object.name, object.namespace
        )
    }
}

/// The pod spec of a Pod, or the pod template's spec of a workload (a Deployment, a Job, a
/// CronJob's job template).
pub fn pod_spec(object: &Value) -> Option<&Value> {
    if object["kind"] == "Pod" {
        return object.get("spec");
    }
    let spec = &object["spec"];
    let template = if spec["jobTemplate"].is_object() {
        &spec["jobTemplate"]["spec"]["template"]
    } else {
        &spec["template"]
    };
    template.get("spec")
}

/// The strings of a JSON list (a selector expression's `values`); nothing for anything else.
pub fn strings(list: &Value) -> Vec<&str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// The containers of a pod spec, init containers (native sidecars among them) after the
/// others.
pub fn containers(spec: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers"]
        .into_iter()
        .filter_map(|field| spec[field].as_array())
        .flatten()
}
