//! The scheduler schedules: a probe pod the grader creates, with no node named, gets bound to a
//! node within the time given. Only a working kube-scheduler binds it, so a pod placed by hand
//! with `nodeName` proves nothing here. The probe is removed afterwards, bound or not.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, PostParams};

use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// The probe: the pause image, so it costs nothing where it really runs (kind).
fn probe(name: &str) -> Pod {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "ckalab"}},
        "spec": {
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "probe", "image": "registry.k8s.io/pause:3.10"}],
        },
    }))
    .expect("the probe pod is a Pod")
}

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    within: u64,
) -> CheckResult {
    let client = match backend.client().await {
        Ok(client) => client,
        Err(fault) => return CheckResult::fault(check, &fault),
    };
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    let name = format!("ckalab-schedule-probe-{:06x}", fastrand::u32(..0xff_ffff));
    if let Err(err) = pods.create(&PostParams::default(), &probe(&name)).await {
        return CheckResult::fault(check, &api::fault(&err));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(within);
    let bound = loop {
        match pods.get(&name).await {
            Ok(pod) => {
                if let Some(node) = pod.spec.and_then(|s| s.node_name) {
                    break Ok(Some(node));
                }
            }
            Err(err) => break Err(api::fault(&err)),
        }
        if tokio::time::Instant::now() >= deadline {
            break Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // Bound or not, the probe goes: the learner never sees it.
    let _ = pods
        .delete(&name, &DeleteParams::default().grace_period(0))
        .await;
    match bound {
        Ok(Some(node)) => CheckResult::pass(
            check,
            format!("a new pod in {namespace} was scheduled to {node}"),
        ),
        Ok(None) => CheckResult::fail(
            check,
            format!(
                "a new pod in {namespace} is still Pending after {within}s, with no node: nothing schedules pods"
            ),
        ),
        Err(fault) => CheckResult::fault(check, &fault),
    }
}
