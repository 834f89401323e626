//! A PersistentVolumeClaim bound, as `kubectl get pvc` shows it: STATUS, VOLUME, STORAGECLASS.

use crate::catalog::check::Target;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    name: &str,
    volume: Option<&str>,
    storage_class: Option<&str>,
) -> CheckResult {
    let target = Target::new("PersistentVolumeClaim", namespace, name);
    let found = match object::fetch(backend, check, &target).await {
        Ok(found) => found,
        Err(result) => return result,
    };
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
    let phase = text(&found["status"]["phase"]);
    let bound_to = text(&found["spec"]["volumeName"]);
    let class = text(&found["spec"]["storageClassName"]);
    let claim = format!("PVC {namespace}/{name}");
    if phase != "Bound" {
        let phase = if phase.is_empty() {
            "Pending".into()
        } else {
            phase
        };
        return CheckResult::fail(check, format!("{claim} is {phase}, not Bound"));
    }
    if let Some(volume) = volume
        && bound_to != volume
    {
        return CheckResult::fail(
            check,
            format!("{claim} is bound to {bound_to}, not {volume}"),
        );
    }
    if let Some(storage_class) = storage_class
        && class != storage_class
    {
        return CheckResult::fail(
            check,
            format!("{claim} uses storage class {class:?}, not {storage_class:?}"),
        );
    }
    CheckResult::pass(check, format!("{claim} is Bound to {bound_to} ({class})"))
}
