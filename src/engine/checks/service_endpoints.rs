//! A Service's endpoints, as `kubectl get endpointslices -l kubernetes.io/service-name=<svc>`
//! lists them: exactly the Ready pods of a workload, each on the expected port. A selector that
//! matches nothing, or a targetPort that names the wrong port, shows here.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;

use crate::catalog::check::Target;
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::{object, workload_pods};

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    service: &str,
    pods_of: &Target,
    port: u16,
) -> CheckResult {
    let client = match object::client(backend, check).await {
        Ok(client) => client,
        Err(result) => return result,
    };
    let workload = match object::fetch(backend, check, pods_of).await {
        Ok(found) => found,
        Err(result) => return result,
    };
    let Some(selector) = workload_pods::label_selector(&workload["spec"]["selector"]) else {
        return CheckResult::invalid(check, format!("{pods_of} has no pod selector"));
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let wanted: BTreeSet<(String, u16)> =
        match pods.list(&ListParams::default().labels(&selector)).await {
            Ok(list) => list
                .items
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .filter_map(|p| p.status.as_ref()?.pod_ip.clone())
                .map(|ip| (ip, port))
                .collect(),
            Err(err) => return CheckResult::fault(check, &api::fault(&err)),
        };
    let slices: Api<EndpointSlice> = Api::namespaced(client, namespace);
    let by_service = ListParams::default().labels(&format!("kubernetes.io/service-name={service}"));
    let slices = match slices.list(&by_service).await {
        Ok(list) => list.items,
        Err(err) => return CheckResult::fault(check, &api::fault(&err)),
    };
    // Every ready (address, port) pair, shown when they are wrong; the Service's other ports
    // (kube-dns's metrics port beside 53) are not the question.
    let mut every = BTreeSet::new();
    for slice in &slices {
        let ports: Vec<u16> = slice
            .ports
            .iter()
            .flatten()
            .filter_map(|p| p.port.and_then(|p| u16::try_from(p).ok()))
            .collect();
        for endpoint in &slice.endpoints {
            let ready = endpoint
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(true);
            if !ready {
                continue;
            }
            for address in &endpoint.addresses {
                for port in &ports {
                    every.insert((address.clone(), *port));
                }
            }
        }
    }
    let shown = |set: &BTreeSet<(String, u16)>| {
        if set.is_empty() {
            "none".to_string()
        } else {
            set.iter()
                .map(|(ip, port)| format!("{ip}:{port}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let found: BTreeSet<(String, u16)> =
        every.iter().filter(|(_, p)| *p == port).cloned().collect();
    if wanted.is_empty() {
        return CheckResult::fail(check, format!("{pods_of} has no pod with an IP yet"));
    }
    if found == wanted {
        CheckResult::pass(
            check,
            format!("service {service} sends to {}", shown(&found)),
        )
    } else {
        CheckResult::fail(
            check,
            format!(
                "service {service}'s ready endpoints are {}, not the pods of {pods_of} on port {port} ({})",
                shown(&every),
                shown(&wanted)
            ),
        )
    }
}
