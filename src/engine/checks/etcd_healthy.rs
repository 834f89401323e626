use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// etcd answers a health check over its client URL with the manifest's certificates.
pub async fn grade(backend: &dyn Backend, name: &str) -> CheckResult {
    match backend.etcd_health().await {
        Ok(health) => CheckResult::pass(name, health),
        Err(fault) => CheckResult::fault(name, &fault.context("etcd is not healthy")),
    }
}
