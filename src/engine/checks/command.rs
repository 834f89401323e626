use crate::engine::cluster::Backend;
use crate::engine::node::COMMAND_TIMEOUT;
use crate::engine::verdict::CheckResult;

/// An argv run on the node exits 0.
pub async fn grade(backend: &dyn Backend, name: &str, argv: &[String]) -> CheckResult {
    match backend.exec(argv, COMMAND_TIMEOUT).await {
        Ok(out) if out.status.success() => CheckResult::pass(name, "exited 0"),
        Ok(out) => CheckResult::fail(
            name,
            format!(
                "exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ),
        Err(fault) => CheckResult::fault(name, &fault),
    }
}
