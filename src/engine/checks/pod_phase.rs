use k8s_openapi::api::core::v1::Pod;
use kube::Api;

use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::verdict::CheckResult;

/// The pod is in `phase`; when it is not, the reasons its conditions and containers give
/// (Unschedulable, ContainerCreating, CrashLoopBackOff...) say why.
pub async fn grade(
    backend: &dyn Backend,
    check: &str,
    namespace: &str,
    name: &str,
    phase: &str,
) -> CheckResult {
    let client = match backend.client().await {
        Ok(client) => client,
        Err(fault) => return CheckResult::fault(check, &fault),
    };
    let pods: Api<Pod> = Api::namespaced(client, namespace);
    match pods.get(name).await {
        Ok(pod) => {
            let status = pod.status.unwrap_or_default();
            let found = status.phase.clone().unwrap_or_else(|| "Unknown".into());
            if found == phase {
                return CheckResult::pass(check, format!("pod {namespace}/{name} is {found}"));
            }
            let conditions = status
                .conditions
                .iter()
                .flatten()
                .filter(|c| c.status != "True")
                .map(|c| {
                    format!(
                        "{} {}: {}",
                        c.type_,
                        c.reason.as_deref().unwrap_or("False"),
                        c.message.as_deref().unwrap_or_default()
                    )
                });
            let containers = status.container_statuses.iter().flatten().filter_map(|c| {
                let waiting = c.state.as_ref()?.waiting.as_ref()?;
                Some(format!(
                    "container {} waiting: {}",
                    c.name,
                    waiting.reason.as_deref().unwrap_or_default()
                ))
            });
            let why: Vec<String> = conditions.chain(containers).collect();
            CheckResult::fail(
                check,
                format!(
                    "pod {namespace}/{name} is {found}, not {phase}{}",
                    if why.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", why.join("; "))
                    }
                ),
            )
        }
        Err(err) if api::status_code(&err) == Some(404) => CheckResult::fail(
            check,
            format!("there is no pod {name} in namespace {namespace}"),
        ),
        Err(err) => CheckResult::fault(check, &api::fault(&err)),
    }
}
