//! An environment variable a container gets, resolved as the kubelet resolves it: `env` wins
//! over `envFrom`, a later `envFrom` source over an earlier one, and a value read from a
//! ConfigMap or Secret key counts like a literal one. Any spelling of the same result passes.

use base64::Engine as _;
use serde_json::Value;

use crate::catalog::check::{EnvSource, Target};
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
    container: Option<&str>,
    variable: &str,
    value: &str,
    from: Option<EnvSource>,
) -> CheckResult {
    let spec = match object::fetch_pod_spec(backend, check, target).await {
        Ok(spec) => spec,
        Err(result) => return result,
    };
    let chosen = spec["containers"]
        .as_array()
        .and_then(|containers| match container {
            Some(name) => containers.iter().find(|c| c["name"] == name),
            None => containers.first(),
        });
    let Some(chosen) = chosen else {
        let which = container.unwrap_or("any");
        return CheckResult::fail(check, format!("{target} has no container {which}"));
    };
    let cname = chosen["name"].as_str().unwrap_or_default().to_string();
    let resolved = match resolve(backend, check, &target.namespace, chosen, variable).await {
        Ok(resolved) => resolved,
        Err(result) => return result,
    };
    let Some((got, source)) = resolved else {
        return CheckResult::fail(
            check,
            format!("container {cname} of {target} has no {variable}"),
        );
    };
    if got != value {
        return CheckResult::fail(
            check,
            format!("{variable} in container {cname} is {got:?}, not {value:?}"),
        );
    }
    if let Some(wanted) = from
        && wanted != source.kind
    {
        return CheckResult::fail(
            check,
            format!(
                "{variable} is {got:?}, but from {}, not from {}",
                source.text,
                words(wanted)
            ),
        );
    }
    CheckResult::pass(
        check,
        format!(
            "{variable}={got} in container {cname}, from {}",
            source.text
        ),
    )
}

struct Source {
    kind: EnvSource,
    text: String,
}

fn words(source: EnvSource) -> &'static str {
    match source {
        EnvSource::Literal => "a literal value",
        EnvSource::ConfigMap => "a ConfigMap",
        EnvSource::Secret => "a Secret",
    }
}

/// The variable's value and where it came from, or `None` when the container does not get it.
async fn resolve(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    container: &Value,
    variable: &str,
) -> Result<Option<(String, Source)>, CheckResult> {
    // The last definition in `env` wins, as in the kubelet.
    if let Some(entry) = container["env"]
        .as_array()
        .and_then(|env| env.iter().rev().find(|e| e["name"] == variable))
    {
        if let Some(literal) = entry["value"].as_str() {
            let source = Source {
                kind: EnvSource::Literal,
                text: "a literal value".into(),
            };
            return Ok(Some((literal.to_string(), source)));
        }
        let from = &entry["valueFrom"];
        for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
            let reference = &from[field];
            if let (Some(name), Some(key)) = (reference["name"].as_str(), reference["key"].as_str())
            {
                let data = data_of(backend, check, kind, namespace, name).await?;
                return Ok(data
                    .get(key)
                    .map(|v| (v.clone(), source(kind, format!("{kind} {name}, key {key}")))));
            }
        }
        // A fieldRef or resourceFieldRef: not a value a task asks to compare.
        return Ok(None);
    }
    for from in container["envFrom"].as_array().into_iter().flatten().rev() {
        let prefix = from["prefix"].as_str().unwrap_or_default();
        let Some(key) = variable.strip_prefix(prefix) else {
            continue;
        };
        for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
            if let Some(name) = from[field]["name"].as_str() {
                let data = data_of(backend, check, kind, namespace, name).await?;
                if let Some(v) = data.get(key) {
                    let text = format!("all keys of {kind} {name} (envFrom)");
                    return Ok(Some((v.clone(), source(kind, text))));
                }
            }
        }
    }
    Ok(None)
}

fn source(kind: &str, text: String) -> Source {
    let kind = if kind == "Secret" {
        EnvSource::Secret
    } else {
        EnvSource::ConfigMap
    };
    Source { kind, text }
}

/// A ConfigMap's or Secret's data, decoded; a missing one has none (as an optional source).
async fn data_of(
    backend: &dyn Backend,
    check: &str,
    kind: &str,
    namespace: &str,
    name: &str,
) -> Result<std::collections::BTreeMap<String, String>, CheckResult> {
    let target = Target::new(kind, namespace, name);
    let found = match object::fetch(backend, check, &target).await {
        Ok(found) => found,
        Err(result) if result.verdict == crate::engine::verdict::Verdict::Fail => {
            return Ok(Default::default());
        }
        Err(result) => return Err(result),
    };
    let decode = |v: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(v)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let mut data: std::collections::BTreeMap<String, String> = Default::default();
    for (field, encoded) in [
        ("data", kind == "Secret"),
        ("stringData", false),
        ("binaryData", true),
    ] {
        for (k, v) in found[field].as_object().into_iter().flatten() {
            let v = v.as_str().unwrap_or_default();
            data.insert(k.clone(), if encoded { decode(v) } else { v.to_string() });
        }
    }
    Ok(data)
}
