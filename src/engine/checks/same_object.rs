//! "Edit it, do not recreate it": the object is the one setup made, by its uid.

use crate::catalog::check::Target;
use crate::engine::cluster::Backend;
use crate::engine::undo::UndoLog;
use crate::engine::verdict::CheckResult;

use super::object;

pub async fn grade(backend: &dyn Backend, check: &str, target: &Target) -> CheckResult {
    let reference = match object::reference(target) {
        Ok(reference) => reference,
        Err(e) => return CheckResult::invalid(check, e),
    };
    let undo = UndoLog::load(backend).await;
    let Some(before) = undo.uid(&reference).map(str::to_string) else {
        return CheckResult::invalid(
            check,
            format!("setup did not record {target}'s uid (is it made by an `apply` step?)"),
        );
    };
    let found = match object::fetch(backend, check, target).await {
        Ok(found) => found,
        Err(result) => return result,
    };
    match found["metadata"]["uid"].as_str() {
        Some(uid) if uid == before => CheckResult::pass(
            check,
            format!("{target} is the one the task gave (uid {uid})"),
        ),
        _ => CheckResult::fail(
            check,
            format!("{target} was deleted and created again: edit the one the task gave instead"),
        ),
    }
}
