use crate::engine::cluster::Backend;
use crate::engine::node::PodStatus;
use crate::engine::verdict::CheckResult;

/// A static pod's container is running.
pub async fn grade(backend: &dyn Backend, name: &str, pod: &str) -> CheckResult {
    match backend.static_pod(pod).await {
        Ok(PodStatus::Running(which)) => {
            CheckResult::pass(name, format!("{pod} is running ({which})"))
        }
        Ok(PodStatus::Stopped(why)) => CheckResult::fail(name, why),
        Ok(PodStatus::Absent) => CheckResult::fail(
            name,
            format!("there is no {pod} pod: is its manifest in /etc/kubernetes/manifests?"),
        ),
        Err(fault) => CheckResult::fault(name, &fault),
    }
}
