//! A Deployment's rollout, as `kubectl rollout status` and `rollout history` see it: every
//! replica updated and available, at a revision a rollback or an update reaches (a Deployment
//! deleted and created again starts over at revision 1).

use crate::catalog::check::Target;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

use super::object;

const REVISION: &str = "deployment.kubernetes.io/revision";

pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    name: &str,
    min_revision: u32,
) -> CheckResult {
    let target = Target::new("Deployment", namespace, name);
    let found = match object::fetch(backend, check, &target).await {
        Ok(found) => found,
        Err(result) => return result,
    };
    let revision: u32 = found["metadata"]["annotations"][REVISION]
        .as_str()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let count = |field: &str| found["status"][field].as_u64().unwrap_or(0);
    let wanted = found["spec"]["replicas"].as_u64().unwrap_or(1);
    let generation = found["metadata"]["generation"].as_u64().unwrap_or(0);
    let deployment = format!("deployment {namespace}/{name}");
    if count("observedGeneration") < generation {
        return CheckResult::fail(
            check,
            format!("the {deployment}'s controller has not seen its latest change yet"),
        );
    }
    let (updated, available, total) = (
        count("updatedReplicas"),
        count("availableReplicas"),
        count("replicas"),
    );
    if updated != wanted || available != wanted || total != wanted {
        return CheckResult::fail(
            check,
            format!(
                "the {deployment} rollout is not complete: {updated} of {wanted} replicas updated, {available} available, {total} in all"
            ),
        );
    }
    if revision < min_revision {
        return CheckResult::fail(
            check,
            format!("the {deployment} is at revision {revision}, not {min_revision} or later"),
        );
    }
    CheckResult::pass(
        check,
        format!("the {deployment} rollout is complete at revision {revision}"),
    )
}
