//! Grades typed checks against a backend. Each returns PASS, FAIL or INVALID with a sentence a
//! learner understands; what a fault means is decided once, in `Fault::verdict`. Grading never
//! repairs. One file per check.

mod apiserver_ready;
mod cert_valid;
mod command;
mod etcd_healthy;
mod file_key;
mod kubelet_runtime;
mod node_ready;
mod object_exists;
mod pod_phase;
mod service_active;
mod static_pod_running;
#[cfg(test)]
mod tests;

use super::cluster::Backend;
use super::verdict::{CheckResult, Report};
use crate::catalog::check::Check;

/// What a check asks, in a learner's words.
pub fn describe(check: &Check) -> String {
    match check {
        Check::ServiceActive(unit) => format!("{unit} is active"),
        Check::KubeletRuntime => "the kubelet's runtime endpoint answers CRI v1".into(),
        Check::NodeReady => "the node is Ready".into(),
        Check::StaticPodRunning(pod) => format!("the {pod} container is running"),
        Check::ApiserverReady => {
            "the API server answers /readyz over TLS the cluster CA trusts".into()
        }
        Check::EtcdHealthy => "etcd is healthy".into(),
        Check::CertValid { cert, days, .. } => format!(
            "{} is valid for {days} more days and signed by the CA",
            file_name(cert)
        ),
        Check::ObjectExists {
            kind,
            namespace,
            name,
            ..
        } => object_exists::describe(kind, namespace, name),
        Check::PodPhase {
            namespace,
            name,
            phase,
        } => format!("pod {namespace}/{name} is {phase}"),
        Check::FileKey { file, key, .. } => format!("{key} in {}", file_name(file)),
        Check::Command(argv) => format!("`{}` succeeds", argv.join(" ")),
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Grades every check of a lab, in order, into one report.
pub async fn grade_all(backend: &dyn Backend, checks: &[Check]) -> Report {
    let mut results = Vec::new();
    for check in checks {
        results.push(grade(backend, check).await);
    }
    Report::new(results)
}

pub async fn grade(backend: &dyn Backend, check: &Check) -> CheckResult {
    let name = describe(check);
    let render = |text: &str| backend.layout().render(text);
    match check {
        Check::ServiceActive(unit) => service_active::grade(backend, &name, unit).await,
        Check::KubeletRuntime => kubelet_runtime::grade(backend, &name).await,
        Check::NodeReady => node_ready::grade(backend, &name).await,
        Check::StaticPodRunning(pod) => static_pod_running::grade(backend, &name, pod).await,
        Check::ApiserverReady => apiserver_ready::grade(backend, &name).await,
        Check::EtcdHealthy => etcd_healthy::grade(backend, &name).await,
        Check::CertValid { cert, ca, days } => match (render(cert), render(ca)) {
            (Ok(cert), Ok(ca)) => cert_valid::grade(backend, &name, &cert, &ca, *days).await,
            (Err(e), _) | (_, Err(e)) => CheckResult::invalid(&name, e),
        },
        Check::ObjectExists {
            api_version,
            kind,
            namespace,
            name: object,
            data,
        } => {
            let object = crate::engine::cluster::ObjectRef {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: namespace.clone(),
                name: object.clone(),
            };
            object_exists::grade(backend, &name, &object, data).await
        }
        Check::PodPhase {
            namespace,
            name: pod,
            phase,
        } => pod_phase::grade(backend, &name, namespace, pod, phase).await,
        Check::FileKey { file, key, equals } => match render(file) {
            Ok(file) => file_key::grade(backend, &name, &file, key, equals).await,
            Err(e) => CheckResult::invalid(&name, e),
        },
        Check::Command(argv) => {
            match argv
                .iter()
                .map(|a| render(a))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(argv) => command::grade(backend, &name, &argv).await,
                Err(e) => CheckResult::invalid(&name, e),
            }
        }
    }
}
