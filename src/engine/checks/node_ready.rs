use k8s_openapi::api::core::v1::Node;
use kube::Api;

use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// The node reports Ready to the API server.
pub async fn grade(backend: &dyn Backend, name: &str) -> CheckResult {
    let node = &backend.layout().node_name;
    let client = match backend.client().await {
        Ok(client) => client,
        Err(fault) => return CheckResult::fault(name, &fault),
    };
    let found = match Api::<Node>::all(client).get(node).await {
        Ok(found) => found,
        Err(err) if api::status_code(&err) == Some(404) => {
            return CheckResult::fail(name, format!("there is no node named {node}"));
        }
        Err(err) => return CheckResult::fault(name, &api::fault(&err)),
    };
    let ready = found
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready");
    match ready {
        Some(c) if c.status == "True" => CheckResult::pass(name, format!("{node} is Ready")),
        Some(c) => CheckResult::fail(
            name,
            format!(
                "{node} is NotReady ({}): {}",
                c.reason.unwrap_or_default(),
                c.message.unwrap_or_default()
            ),
        ),
        None => CheckResult::fail(name, format!("{node} reports no Ready condition yet")),
    }
}
