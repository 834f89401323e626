//! The pods a workload runs, as `kubectl get pods -o wide` shows them: how many are Ready, on
//! which nodes, with which image. Pods being deleted (an old ReplicaSet's, during a rollout)
//! do not count.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::ListParams;
use serde_json::Value;

use crate::catalog::check::{Spread, Target};
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

/// What a check wants of a workload's pods.
pub struct Wanted<'c> {
    pub ready: u32,
    pub on_nodes: &'c [String],
    pub node_labels: &'c BTreeMap<String, String>,
    pub image: Option<&'c str>,
    pub distinct_nodes: bool,
    pub spread: Option<&'c Spread>,
}

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
    want: &Wanted<'_>,
) -> CheckResult {
    match pods_wanted(backend, check, target, want).await {
        Ok(message) => CheckResult::pass(check, message),
        Err(result) => result,
    }
}

async fn pods_wanted(
    backend: &dyn Backend,
    check: &str,
    target: &Target,
    want: &Wanted<'_>,
) -> Result<String, CheckResult> {
    let fail = |message: String| CheckResult::fail(check, message);
    let client = object::client(backend, check).await?;
    let api_pods: Api<Pod> = Api::namespaced(client.clone(), &target.namespace);
    let listed = if target.kind == "Pod" {
        match api_pods.get_opt(&target.name).await {
            Ok(found) => found.into_iter().collect(),
            Err(err) => return Err(CheckResult::fault(check, &api::fault(&err))),
        }
    } else {
        let workload = object::fetch(backend, check, target).await?;
        let selector = label_selector(&workload["spec"]["selector"])
            .ok_or_else(|| CheckResult::invalid(check, format!("{target} has no pod selector")))?;
        match api_pods
            .list(&ListParams::default().labels(&selector))
            .await
        {
            Ok(list) => list.items,
            Err(err) => return Err(CheckResult::fault(check, &api::fault(&err))),
        }
    };
    let pods: Vec<&Pod> = listed
        .iter()
        .filter(|pod| pod.metadata.deletion_timestamp.is_none())
        .collect();

    let ready = pods.iter().filter(|pod| is_ready(pod)).count();
    if ready != want.ready as usize || pods.len() != ready {
        let why = pods
            .iter()
            .find(|pod| !is_ready(pod))
            .map(|pod| format!(": {}", not_ready_reason(pod)))
            .unwrap_or_default();
        return Err(fail(format!(
            "{target} has {} pod(s), {ready} Ready, not {} Ready{why}",
            pods.len(),
            want.ready
        )));
    }

    let node_of = |pod: &Pod| {
        pod.spec
            .as_ref()
            .and_then(|spec| spec.node_name.clone())
            .unwrap_or_default()
    };
    let nodes: Vec<String> = pods.iter().map(|pod| node_of(pod)).collect();
    if !want.on_nodes.is_empty()
        && let Some((pod, node)) = pods
            .iter()
            .zip(&nodes)
            .find(|(_, node)| !want.on_nodes.contains(node))
    {
        return Err(fail(format!(
            "pod {} runs on {node}, not on {}",
            name(pod),
            want.on_nodes.join(" or ")
        )));
    }
    if let Some(image) = want.image
        && let Some(pod) = pods.iter().find(|pod| !runs_image(pod, image))
    {
        return Err(fail(format!(
            "pod {} runs {}, not {image}",
            name(pod),
            images(pod).join(", ")
        )));
    }
    if want.distinct_nodes && nodes.iter().collect::<BTreeSet<_>>().len() != nodes.len() {
        return Err(fail(format!(
            "two pods of {target} share a node ({})",
            nodes.join(", ")
        )));
    }
    if !want.node_labels.is_empty() || want.spread.is_some() {
        let labels = node_labels(&client)
            .await
            .map_err(|fault| CheckResult::fault(check, &fault))?;
        let empty = BTreeMap::new();
        for (pod, node) in pods.iter().zip(&nodes) {
            let has = labels.get(node).unwrap_or(&empty);
            if let Some((key, value)) = want
                .node_labels
                .iter()
                .find(|(k, v)| has.get(*k) != Some(*v))
            {
                return Err(fail(format!(
                    "pod {} runs on {node}, which is not labelled {key}={value}",
                    name(pod)
                )));
            }
        }
        if let Some(spread) = want.spread {
            skew(&labels, &nodes, spread).map_err(fail)?;
        }
    }
    let placed: Vec<&str> = nodes
        .iter()
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok(format!(
        "{target} has {ready} pod(s), all Ready, on {}",
        placed.join(", ")
    ))
}

/// The pods' spread over a topology key's values (every node carrying the key counts, pods or
/// not): the fullest and emptiest domains differ by at most `max_skew`.
fn skew(
    labels: &BTreeMap<String, BTreeMap<String, String>>,
    nodes: &[String],
    spread: &Spread,
) -> Result<(), String> {
    let key = &spread.topology_key;
    let mut counts: BTreeMap<&str, usize> = labels
        .values()
        .filter_map(|l| l.get(key))
        .map(|value| (value.as_str(), 0))
        .collect();
    for node in nodes {
        let value = labels
            .get(node)
            .and_then(|l| l.get(key))
            .ok_or_else(|| format!("a pod runs on {node}, which has no {key} label"))?;
        *counts.entry(value.as_str()).or_default() += 1;
    }
    let (most, least) = (
        counts.values().max().copied().unwrap_or(0),
        counts.values().min().copied().unwrap_or(0),
    );
    if most - least > spread.max_skew as usize {
        let shown: Vec<String> = counts
            .iter()
            .map(|(v, n)| format!("{key}={v}: {n}"))
            .collect();
        return Err(format!(
            "the pods are spread {}: a skew of {}, more than {}",
            shown.join(", "),
            most - least,
            spread.max_skew
        ));
    }
    Ok(())
}

async fn node_labels(
    client: &kube::Client,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, crate::engine::fault::Fault> {
    let nodes: Api<Node> = Api::all(client.clone());
    let list = nodes
        .list(&ListParams::default())
        .await
        .map_err(|err| api::fault(&err))?;
    Ok(list
        .items
        .into_iter()
        .map(|node| {
            (
                node.metadata.name.unwrap_or_default(),
                node.metadata.labels.unwrap_or_default(),
            )
        })
        .collect())
}

/// A label selector (`matchLabels` and `matchExpressions`) in the API's query syntax.
pub fn label_selector(selector: &Value) -> Option<String> {
    let mut terms: Vec<String> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = expression["key"].as_str()?;
        let values = object::strings(&expression["values"]);
        terms.push(match expression["operator"].as_str()? {
            "In" => format!("{key} in ({})", values.join(",")),
            "NotIn" => format!("{key} notin ({})", values.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            _ => return None,
        });
    }
    (!terms.is_empty()).then(|| terms.join(","))
}

fn name(pod: &Pod) -> &str {
    pod.metadata.name.as_deref().unwrap_or_default()
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|conditions| {
            conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True")
        })
}

fn images(pod: &Pod) -> Vec<String> {
    pod.spec
        .iter()
        .flat_map(|spec| &spec.containers)
        .filter_map(|c| c.image.clone())
        .collect()
}

fn runs_image(pod: &Pod, image: &str) -> bool {
    images(pod).iter().any(|i| i == image)
}

/// Why a pod is not Ready, as `kubectl describe` would show it: its phase, and the reason of
/// a false condition (Unschedulable with the scheduler's message) or a waiting container.
pub fn not_ready_reason(pod: &Pod) -> String {
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.unwrap_or_else(|| "Unknown".into());
    let condition = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.status != "True");
    let waiting = status.container_statuses.iter().flatten().find_map(|c| {
        c.state.as_ref()?.waiting.as_ref().map(|w| {
            format!(
                "container {} is {}",
                c.name,
                w.reason.clone().unwrap_or_default()
            )
        })
    });
    let why = match (condition, waiting) {
        (_, Some(waiting)) => waiting,
        (Some(c), None) => format!(
            "{} {}",
            c.reason
                .clone()
                .unwrap_or_else(|| format!("{} False", c.type_)),
            c.message.clone().unwrap_or_default()
        )
        .trim()
        .to_string(),
        (None, None) => String::new(),
    };
    format!("pod {} is {phase} {why}", name(pod))
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_selector_is_written_in_the_query_syntax() {
        let selector = json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        });
        assert_eq!(
            label_selector(&selector).as_deref(),
            Some("app=web,tier in (a,b),!canary")
        );
        assert_eq!(label_selector(&json!({})), None);
    }

    #[test]
    fn the_skew_counts_every_domain_even_an_empty_one() {
        let labels: BTreeMap<String, BTreeMap<String, String>> =
            [("node01", "zone-a"), ("node02", "zone-b")]
                .into_iter()
                .map(|(node, zone)| {
                    let labels = [("topology.kubernetes.io/zone".to_string(), zone.to_string())];
                    (node.to_string(), labels.into_iter().collect())
                })
                .collect();
        let spread = Spread {
            topology_key: "topology.kubernetes.io/zone".into(),
            max_skew: 1,
        };
        let on = |nodes: &[&str]| nodes.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(
            skew(
                &labels,
                &on(&["node01", "node02", "node01", "node02"]),
                &spread
            )
            .is_ok()
        );
        let err = skew(&labels, &on(&["node01", "node01"]), &spread).expect_err("all in one zone");
        assert!(err.contains("a skew of 2"), "{err}");
        assert!(skew(&labels, &on(&["controlplane"]), &spread).is_err());
    }
}
