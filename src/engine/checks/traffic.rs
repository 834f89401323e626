//! NetworkPolicy semantics for concrete flows, as the API defines them: policies only add
//! allowances. A pod that no policy selects for a direction takes all traffic that way; a
//! selected pod takes what the union of its policies' rules allows. A flow needs the sender's
//! egress and the receiver's ingress. Two policies that together say what one says pass alike.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::check::{Flow, PodRef};
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

/// The cluster as the policies see it: pods (labels, IP, ports), namespaces' labels, policies.
pub struct Cluster {
    pub pods: Vec<Value>,
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    pub policies: Vec<Value>,
}

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    allowed: &[Flow],
    denied: &[Flow],
) -> CheckResult {
    let cluster = match read(backend, check).await {
        Ok(cluster) => cluster,
        Err(result) => return result,
    };
    let flows = allowed
        .iter()
        .map(|f| (f, true))
        .chain(denied.iter().map(|f| (f, false)));
    for (flow, want) in flows {
        match cluster.allows(flow) {
            Err(missing) => return CheckResult::fail(check, missing),
            Ok((got, why)) if got != want => {
                let verdict = if got { "allowed" } else { "denied" };
                let should = if want { "allowed" } else { "denied" };
                return CheckResult::fail(
                    check,
                    format!("{} is {verdict} ({why}), but must be {should}", show(flow)),
                );
            }
            Ok(_) => {}
        }
    }
    CheckResult::pass(
        check,
        format!(
            "the policies allow and deny exactly what was asked ({} flows checked)",
            allowed.len() + denied.len()
        ),
    )
}

async fn read(backend: &dyn Backend, check: &str) -> Result<Cluster, CheckResult> {
    let client = object::client(backend, check).await?;
    let fault = |fault: crate::engine::fault::Fault| CheckResult::fault(check, &fault);
    let json = |items: Vec<kube::core::DynamicObject>| -> Vec<Value> {
        items
            .into_iter()
            .map(|i| serde_json::to_value(i).unwrap_or_default())
            .collect()
    };
    let pods = api::object::list(&client, "v1", "Pod", "", None)
        .await
        .map_err(fault)?;
    let namespaces = api::object::list(&client, "v1", "Namespace", "", None)
        .await
        .map_err(fault)?;
    let policies = api::object::list(&client, "networking.k8s.io/v1", "NetworkPolicy", "", None)
        .await
        .map_err(fault)?;
    Ok(Cluster {
        pods: json(pods),
        namespaces: json(namespaces)
            .into_iter()
            .map(|ns| (text(&ns["metadata"]["name"]), labels(&ns)))
            .collect(),
        policies: json(policies),
    })
}

fn show(flow: &Flow) -> String {
    format!(
        "{} → {} on {}/{}",
        flow.from, flow.to, flow.port, flow.protocol
    )
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn labels(object: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(object["metadata"]["labels"].clone()).unwrap_or_default()
}

impl Cluster {
    /// The pod meant; of several with the labels, the first by name, so grading is repeatable.
    fn pod(&self, at: &PodRef) -> Result<&Value, String> {
        self.pods
            .iter()
            .filter(|p| at.matches(p))
            .min_by_key(|p| text(&p["metadata"]["name"]))
            .ok_or_else(|| format!("there is no pod {at}"))
    }

    /// Whether the policies allow the flow, and which policy decided (or that none selects).
    pub fn allows(&self, flow: &Flow) -> Result<(bool, String), String> {
        let (from, to) = (self.pod(&flow.from)?, self.pod(&flow.to)?);
        let egress = self.direction(from, to, to, flow, "Egress");
        let ingress = self.direction(to, from, to, flow, "Ingress");
        Ok(match (egress, ingress) {
            ((true, out), (true, inn)) => (true, format!("{out}; {inn}")),
            ((false, out), _) => (false, out),
            (_, (false, inn)) => (false, inn),
        })
    }

    /// Whether the policies selecting `pod` for `kind` (Ingress or Egress) let the flow pass
    /// to or from `peer`; `receiver` holds the named ports.
    fn direction(
        &self,
        pod: &Value,
        peer: &Value,
        receiver: &Value,
        flow: &Flow,
        kind: &str,
    ) -> (bool, String) {
        let namespace = text(&pod["metadata"]["namespace"]);
        let name = text(&pod["metadata"]["name"]);
        let selecting: Vec<&Value> = self
            .policies
            .iter()
            .filter(|p| text(&p["metadata"]["namespace"]) == namespace)
            .filter(|p| selector_matches(&p["spec"]["podSelector"], &labels(pod)))
            .filter(|p| policy_types(p).contains(&kind))
            .collect();
        let way = kind.to_lowercase();
        if selecting.is_empty() {
            return (true, format!("no policy limits {name}'s {way}"));
        }
        let rules_field = if kind == "Ingress" { "from" } else { "to" };
        for policy in &selecting {
            let rules = policy["spec"][way.as_str()]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let allowed = rules.iter().any(|rule| {
                let peers = rule[rules_field].as_array().cloned().unwrap_or_default();
                let peer_ok = peers.is_empty()
                    || peers.iter().any(|p| self.peer_matches(p, peer, &namespace));
                let ports = rule["ports"].as_array().cloned().unwrap_or_default();
                peer_ok
                    && (ports.is_empty() || ports.iter().any(|p| port_matches(p, flow, receiver)))
            });
            if allowed {
                return (
                    true,
                    format!("policy {} allows it", text(&policy["metadata"]["name"])),
                );
            }
        }
        let names: Vec<String> = selecting
            .iter()
            .map(|p| text(&p["metadata"]["name"]))
            .collect();
        (
            false,
            format!(
                "{name}'s {way} is limited by {}, and none of them allows it",
                names.join(", ")
            ),
        )
    }

    /// A `from`/`to` peer: pods by label (in the policy's namespace, or in the namespaces a
    /// namespaceSelector picks), whole namespaces, or an IP block.
    fn peer_matches(&self, peer: &Value, pod: &Value, policy_namespace: &str) -> bool {
        if let Some(block) = peer.get("ipBlock") {
            let ip = text(&pod["status"]["podIP"]);
            return in_cidr(&ip, &text(&block["cidr"]))
                && !block["except"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|e| in_cidr(&ip, &text(e)));
        }
        let pod_namespace = text(&pod["metadata"]["namespace"]);
        let namespace_ok = match peer.get("namespaceSelector") {
            Some(selector) => selector_matches(
                selector,
                self.namespaces
                    .get(&pod_namespace)
                    .unwrap_or(&BTreeMap::new()),
            ),
            None => pod_namespace == policy_namespace,
        };
        let pod_ok = peer
            .get("podSelector")
            .is_none_or(|selector| selector_matches(selector, &labels(pod)));
        namespace_ok && pod_ok
    }
}

/// The directions a policy governs: `policyTypes`, or Ingress always and Egress when it has
/// egress rules.
fn policy_types(policy: &Value) -> Vec<&str> {
    match policy["spec"]["policyTypes"].as_array() {
        Some(types) => types.iter().filter_map(Value::as_str).collect(),
        None if policy["spec"]["egress"].is_array() => vec!["Ingress", "Egress"],
        None => vec!["Ingress"],
    }
}

/// A rule's port: the protocol (TCP by default), and a number, a range up to `endPort`, or a
/// name the receiving pod's containers give one of their ports.
fn port_matches(port: &Value, flow: &Flow, receiver: &Value) -> bool {
    let protocol = port["protocol"].as_str().unwrap_or("TCP");
    if protocol != flow.protocol {
        return false;
    }
    let wanted = u64::from(flow.port);
    match &port["port"] {
        Value::Null => true,
        Value::Number(n) => {
            let first = n.as_u64().unwrap_or(0);
            let last = port["endPort"].as_u64().unwrap_or(first);
            (first..=last).contains(&wanted)
        }
        Value::String(name) => object::containers(&receiver["spec"]).any(|c| {
            c["ports"].as_array().into_iter().flatten().any(|p| {
                p["name"] == name.as_str()
                    && p["containerPort"].as_u64() == Some(wanted)
                    && p["protocol"].as_str().unwrap_or("TCP") == flow.protocol
            })
        }),
        _ => false,
    }
}

/// A label selector: every matchLabels pair and every matchExpression holds (`{}` selects all).
pub fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let pairs_hold = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let expressions_hold = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let value = labels.get(&text(&e["key"]));
            let values = object::strings(&e["values"]);
            match e["operator"].as_str().unwrap_or_default() {
                "In" => value.is_some_and(|v| values.contains(&v.as_str())),
                "NotIn" => value.is_none_or(|v| !values.contains(&v.as_str())),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        });
    pairs_hold && expressions_hold
}

/// Whether an IPv4 address is in a CIDR block.
fn in_cidr(ip: &str, cidr: &str) -> bool {
    let parse = |a: &str| a.parse::<std::net::Ipv4Addr>().ok().map(u32::from);
    let (Some((net, bits)), Some(ip)) = (cidr.split_once('/'), parse(ip)) else {
        return false;
    };
    match (parse(net), bits.parse::<u32>()) {
        (Some(net), Ok(bits)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            ip & mask == net & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(namespace: &str, name: &str, app: &str, ip: &str) -> Value {
        json!({
            "metadata": {"namespace": namespace, "name": name, "labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "ports": [{"name": "pg", "containerPort": 5432}]}]},
            "status": {"podIP": ip},
        })
    }

    fn cluster(policies: Vec<Value>) -> Cluster {
        Cluster {
            pods: vec![
                pod("prod", "db", "db", "10.244.1.2"),
                pod("prod", "backend", "backend", "10.244.1.3"),
                pod("prod", "frontend", "frontend", "10.244.1.4"),
                pod("other", "probe", "backend", "10.244.2.2"),
            ],
            namespaces: [("prod", "prod"), ("other", "other")]
                .into_iter()
                .map(|(ns, name)| {
                    let labels = [("kubernetes.io/metadata.name".to_string(), name.to_string())];
                    (ns.to_string(), labels.into_iter().collect())
                })
                .collect(),
            policies,
        }
    }

    fn flow(from: (&str, &str), port: u16) -> Flow {
        Flow {
            from: PodRef {
                namespace: from.0.into(),
                pod: Some(from.1.into()),
                labels: BTreeMap::new(),
            },
            to: PodRef {
                namespace: "prod".into(),
                pod: None,
                labels: [("app".to_string(), "db".to_string())].into(),
            },
            port,
            protocol: "TCP".into(),
        }
    }

    fn allowed(cluster: &Cluster, from: (&str, &str), port: u16) -> bool {
        cluster.allows(&flow(from, port)).expect("pods exist").0
    }

    #[test]
    fn without_policies_everything_flows() {
        let open = cluster(vec![]);
        assert!(allowed(&open, ("prod", "frontend"), 5432));
        assert!(allowed(&open, ("other", "probe"), 22));
    }

    #[test]
    fn one_policy_or_a_deny_all_plus_an_allow_mean_the_same() {
        let allow_backend = json!({
            "metadata": {"namespace": "prod", "name": "db-from-backend"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "db"}},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "backend"}}}],
                             "ports": [{"port": 5432}]}],
            },
        });
        let deny_all = json!({
            "metadata": {"namespace": "prod", "name": "deny-all"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
        });
        let named_port = json!({
            "metadata": {"namespace": "prod", "name": "db-named"},
            "spec": {
                "podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["db"]}]},
                "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "backend"}}}],
                             "ports": [{"port": "pg", "protocol": "TCP"}]}],
            },
        });
        for policies in [
            vec![allow_backend.clone()],
            vec![deny_all.clone(), allow_backend],
            vec![deny_all, named_port],
        ] {
            let c = cluster(policies);
            assert!(allowed(&c, ("prod", "backend"), 5432));
            assert!(!allowed(&c, ("prod", "backend"), 80), "other ports");
            assert!(!allowed(&c, ("prod", "frontend"), 5432));
            assert!(
                !allowed(&c, ("other", "probe"), 5432),
                "same label, other namespace"
            );
        }
    }

    #[test]
    fn a_namespace_selector_opens_to_another_namespace_and_egress_is_checked_too() {
        let from_other = json!({
            "metadata": {"namespace": "prod", "name": "from-other"},
            "spec": {
                "podSelector": {"matchLabels": {"app": "db"}},
                "ingress": [{"from": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "other"}},
                    "podSelector": {"matchLabels": {"app": "backend"}},
                }]}],
            },
        });
        let c = cluster(vec![from_other.clone()]);
        assert!(allowed(&c, ("other", "probe"), 5432));
        assert!(!allowed(&c, ("prod", "backend"), 5432));

        let no_egress = json!({
            "metadata": {"namespace": "other", "name": "no-egress"},
            "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
        });
        let c = cluster(vec![from_other, no_egress]);
        let (ok, why) = c.allows(&flow(("other", "probe"), 5432)).expect("pods");
        assert!(!ok && why.contains("egress"), "{why}");
        assert!(in_cidr("10.244.1.2", "10.244.0.0/16") && !in_cidr("10.245.0.1", "10.244.0.0/16"));
    }
}
