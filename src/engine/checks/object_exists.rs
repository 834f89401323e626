use std::collections::BTreeMap;

use base64::Engine as _;

use crate::engine::api;
use crate::engine::cluster::{Backend, ObjectRef};
use crate::engine::verdict::CheckResult;

pub fn describe(kind: &str, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} {name} exists")
    } else {
        format!("{kind} {namespace}/{name} exists")
    }
}

/// The object exists, and holds `data` when given (a Secret's values compared decoded).
pub async fn grade(
    backend: &dyn Backend,
    name: &str,
    object: &ObjectRef,
    data: &BTreeMap<String, String>,
) -> CheckResult {
    let client = match backend.client().await {
        Ok(client) => client,
        Err(fault) => return CheckResult::fault(name, &fault),
    };
    let found = match api::object::get(&client, object).await {
        Ok(Some(found)) => found,
        Ok(None) if object.namespace.is_empty() => {
            return CheckResult::fail(
                name,
                format!("{} \"{}\" not found", object.kind, object.name),
            );
        }
        Ok(None) => {
            return CheckResult::fail(
                name,
                format!(
                    "{} \"{}\" not found in namespace {}",
                    object.kind, object.name, object.namespace
                ),
            );
        }
        Err(fault) => return CheckResult::fault(name, &fault),
    };
    for (key, want) in data {
        let got = found.data["data"][key].as_str().map(|v| {
            if object.kind == "Secret" {
                base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default()
            } else {
                v.to_string()
            }
        });
        if got.as_deref() != Some(want.as_str()) {
            return CheckResult::fail(
                name,
                format!("{object} exists, but data.{key} is not {want:?}"),
            );
        }
    }
    CheckResult::pass(name, format!("{object} exists"))
}
