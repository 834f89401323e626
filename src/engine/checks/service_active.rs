use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// A unit is active (running).
pub async fn grade(backend: &dyn Backend, name: &str, unit: &str) -> CheckResult {
    match backend.unit_status(unit).await {
        Ok(status) if status.active == "active" => {
            CheckResult::pass(name, format!("{unit} is active ({})", status.sub))
        }
        Ok(status) => CheckResult::fail(
            name,
            format!(
                "{unit} is {} ({}): see `journalctl -u {unit}`",
                status.active, status.sub
            ),
        ),
        Err(fault) => CheckResult::fault(name, &fault),
    }
}
