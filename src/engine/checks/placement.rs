//! Where a workload's pods may go, decided from its pod spec as the scheduler's filters decide
//! it: `nodeName`, `nodeSelector`, required node affinity, and the NoSchedule and NoExecute
//! taints it does not tolerate. Any spelling that admits the same nodes passes.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;

use crate::catalog::check::Target;
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
    wanted: &[String],
) -> CheckResult {
    let spec = match object::fetch_pod_spec(backend, check, target).await {
        Ok(spec) => spec,
        Err(result) => return result,
    };
    let client = match object::client(backend, check).await {
        Ok(client) => client,
        Err(result) => return result,
    };
    let nodes: Api<Node> = Api::all(client);
    let nodes = match nodes.list(&ListParams::default()).await {
        Ok(list) => list.items,
        Err(err) => return CheckResult::fault(check, &api::fault(&err)),
    };
    let mut admitted = Vec::new();
    let mut refused = Vec::new();
    for node in &nodes {
        let node = serde_json::to_value(node).unwrap_or_default();
        let name = node["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match fits(&spec, &node) {
            Ok(()) => admitted.push(name),
            Err(why) => refused.push(format!("{name}: {why}")),
        }
    }
    admitted.sort();
    let mut wanted = wanted.to_vec();
    wanted.sort();
    if admitted == wanted {
        return CheckResult::pass(
            check,
            format!(
                "{target}'s pods can be placed on {} only",
                admitted.join(", ")
            ),
        );
    }
    let extra: Vec<&str> = admitted
        .iter()
        .filter(|n| !wanted.contains(n))
        .map(String::as_str)
        .collect();
    let missing = wanted.iter().filter(|n| !admitted.contains(n));
    let mut problems = Vec::new();
    if !extra.is_empty() {
        problems.push(format!(
            "its pods could also be placed on {}",
            extra.join(", ")
        ));
    }
    for node in missing {
        let why = refused
            .iter()
            .find(|r| r.starts_with(&format!("{node}:")))
            .cloned()
            .unwrap_or_else(|| format!("{node}: no such node"));
        problems.push(format!("its pods cannot be placed on {why}"));
    }
    CheckResult::fail(check, format!("{target}: {}", problems.join("; ")))
}

/// Whether a pod with `spec` may be placed on `node`, and why not.
pub fn fits(spec: &Value, node: &Value) -> Result<(), String> {
    let name = node["metadata"]["name"].as_str().unwrap_or_default();
    let labels: BTreeMap<String, String> =
        serde_json::from_value(node["metadata"]["labels"].clone()).unwrap_or_default();
    if let Some(pinned) = spec["nodeName"].as_str()
        && pinned != name
    {
        return Err(format!("nodeName is {pinned}"));
    }
    for (key, value) in spec["nodeSelector"].as_object().into_iter().flatten() {
        if labels.get(key).map(String::as_str) != value.as_str() {
            return Err(format!(
                "no label {key}={}",
                value.as_str().unwrap_or_default()
            ));
        }
    }
    let terms = &spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        ["nodeSelectorTerms"];
    if let Some(terms) = terms.as_array()
        && !terms.iter().any(|term| term_matches(term, &labels, name))
    {
        return Err("its required node affinity does not match".into());
    }
    // A nodeName bypasses the scheduler and its taint filter; the kubelet still refuses
    // NoExecute taints.
    let effects: &[&str] = if spec["nodeName"].is_string() {
        &["NoExecute"]
    } else {
        &["NoSchedule", "NoExecute"]
    };
    let tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    for taint in node["spec"]["taints"].as_array().into_iter().flatten() {
        let effect = taint["effect"].as_str().unwrap_or_default();
        if effects.contains(&effect) && !tolerations.iter().any(|t| tolerates(t, taint)) {
            let key = taint["key"].as_str().unwrap_or_default();
            let value = taint["value"]
                .as_str()
                .map(|v| format!("={v}"))
                .unwrap_or_default();
            return Err(format!("the taint {key}{value}:{effect} is not tolerated"));
        }
    }
    Ok(())
}

/// A node selector term: every expression and field expression holds.
fn term_matches(term: &Value, labels: &BTreeMap<String, String>, name: &str) -> bool {
    let expressions = term["matchExpressions"].as_array().into_iter().flatten();
    let fields = term["matchFields"].as_array().into_iter().flatten();
    let mut any = false;
    let mut all = true;
    for expression in expressions {
        any = true;
        let key = expression["key"].as_str().unwrap_or_default();
        all &= requirement(expression, labels.get(key).map(String::as_str));
    }
    for expression in fields {
        any = true;
        let value = (expression["key"] == "metadata.name").then_some(name);
        all &= requirement(expression, value);
    }
    // An empty term matches no node.
    any && all
}

fn requirement(expression: &Value, value: Option<&str>) -> bool {
    let values = object::strings(&expression["values"]);
    let number = |v: &str| v.parse::<i64>().ok();
    match expression["operator"].as_str().unwrap_or_default() {
        "In" => value.is_some_and(|v| values.contains(&v)),
        "NotIn" => value.is_none_or(|v| !values.contains(&v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a > b)
        }
        "Lt" => {
            matches!((value.and_then(number), values.first().and_then(|v| number(v))), (Some(a), Some(b)) if a < b)
        }
        _ => false,
    }
}

/// Whether a toleration tolerates a taint, as the API defines it.
pub fn tolerates(toleration: &Value, taint: &Value) -> bool {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let effect = text(&toleration["effect"]);
    if !effect.is_empty() && effect != text(&taint["effect"]) {
        return false;
    }
    let key = text(&toleration["key"]);
    let operator = toleration["operator"].as_str().unwrap_or("Equal");
    if key.is_empty() {
        // An empty key with Exists tolerates everything.
        return operator == "Exists";
    }
    if key != text(&taint["key"]) {
        return false;
    }
    match operator {
        "Exists" => true,
        "Equal" => text(&toleration["value"]) == text(&taint["value"]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn node(name: &str, labels: Value, taints: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}})
    }

    #[test]
    fn a_toleration_permits_and_a_selector_or_affinity_attracts() {
        let gpu = json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]);
        let node01 = node("node01", json!({"kubernetes.io/hostname": "node01"}), gpu);
        let node02 = node(
            "node02",
            json!({"kubernetes.io/hostname": "node02"}),
            json!([]),
        );
        let tolerate = json!([{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]);

        let only_toleration = json!({"tolerations": tolerate});
        assert!(fits(&only_toleration, &node01).is_ok());
        assert!(
            fits(&only_toleration, &node02).is_ok(),
            "a toleration does not attract"
        );

        let selector =
            json!({"tolerations": tolerate, "nodeSelector": {"kubernetes.io/hostname": "node01"}});
        assert!(fits(&selector, &node01).is_ok());
        assert!(fits(&selector, &node02).is_err());

        let affinity = json!({
            "tolerations": [{"key": "dedicated", "operator": "Exists"}],
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node01"]}]}]}}},
        });
        assert!(fits(&affinity, &node01).is_ok());
        assert!(fits(&affinity, &node02).is_err());

        let untolerated = json!({"nodeSelector": {"kubernetes.io/hostname": "node01"}});
        assert_eq!(
            fits(&untolerated, &node01),
            Err("the taint dedicated=gpu:NoSchedule is not tolerated".into())
        );
        let wrong_value =
            json!({"tolerations": [{"key": "dedicated", "value": "tpu", "effect": "NoSchedule"}]});
        assert!(fits(&wrong_value, &node01).is_err());
        assert!(fits(&json!({"tolerations": [{"operator": "Exists"}]}), &node01).is_ok());
    }
}
