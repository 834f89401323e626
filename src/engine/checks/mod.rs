//! Grades typed checks against a backend. Each returns PASS, FAIL or INVALID with a sentence a
//! learner understands; what a fault means is decided once, in `Fault::verdict`. Grading never
//! repairs. One file per check.

mod access;
mod apiserver_ready;
mod cert_valid;
mod claim_bound;
mod command;
mod env_var;
mod etcd_healthy;
mod expect;
mod field;
mod file_key;
mod file_matches;
mod helm_release;
mod join_command;
mod kubelet_runtime;
mod mount;
mod node_ready;
mod object;
mod object_exists;
pub mod placement;
mod pod_phase;
mod rollout;
mod same_object;
mod schedules;
mod service_active;
mod service_endpoints;
mod static_pod_running;
#[cfg(test)]
mod tests;
pub mod traffic;
pub mod workload_pods;

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
        Check::Shell { about, .. } => about.clone(),
        Check::Schedules { namespace, .. } => format!("new pods in {namespace} get scheduled"),
        Check::Field {
            about: Some(about), ..
        } => about.clone(),
        Check::Field { object, path, .. } => format!("{path} of {object}"),
        Check::WorkloadPods { object, ready, .. } => {
            format!("{object} runs {ready} Ready pod(s) as asked")
        }
        Check::Rollout {
            namespace, name, ..
        } => {
            format!("the rollout of deployment {namespace}/{name} is complete")
        }
        Check::ClaimBound {
            namespace, name, ..
        } => format!("PVC {namespace}/{name} is Bound"),
        Check::SameObject(object) => format!("{object} was edited, not recreated"),
        Check::FileMatchesKubectl { file, kubectl } => {
            format!("{file} holds what `kubectl {kubectl}` prints")
        }
        Check::EnvVar { object, name, .. } => format!("{object} gets {name}"),
        Check::Mount { object, path, .. } => format!("{object} mounts {path}"),
        Check::Admitted {
            about: Some(about), ..
        }
        | Check::Refused {
            about: Some(about), ..
        } => about.clone(),
        Check::Admitted { path, .. } => format!("a new object is admitted with {path} as asked"),
        Check::Refused { reason, .. } => format!("a new object is refused ({reason})"),
        Check::Placement { object, nodes } => {
            format!("{object}'s pods can only be placed on {}", nodes.join(", "))
        }
        Check::Access { user, .. } => format!("{user} may do exactly what the task says"),
        Check::HelmRelease {
            namespace, name, ..
        } => format!("Helm release {namespace}/{name} is as asked"),
        Check::JoinCommand {
            file,
            control_plane,
            ..
        } => format!(
            "{file} joins a new {} to this cluster",
            if *control_plane {
                "control-plane node"
            } else {
                "worker"
            }
        ),
        Check::Traffic { .. } => "the NetworkPolicies allow exactly the flows asked".into(),
        Check::ServiceEndpoints {
            namespace, service, ..
        } => format!("service {namespace}/{service} sends to the right pods and port"),
    }
}

/// The check with every string rendered as a template with the node's layout.
fn rendered(check: &Check, layout: &crate::catalog::NodeLayout) -> Result<Check, String> {
    let value = serde_json::to_value(check).map_err(|e| e.to_string())?;
    let value = crate::engine::steps::render_value(layout, &value)?;
    serde_json::from_value(value).map_err(|e| e.to_string())
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
    // Every string of a check is a template: `{{ worker1 }}` is this cluster's first worker.
    let check = &match rendered(check, backend.layout()) {
        Ok(check) => check,
        Err(e) => return CheckResult::invalid(&describe(check), e),
    };
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
        Check::Schedules {
            namespace,
            within_seconds,
        } => schedules::grade(backend, &name, namespace, *within_seconds).await,
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
        Check::Shell { run, .. } => {
            let argv = ["sh".to_string(), "-c".to_string(), run.clone()];
            command::grade(backend, &name, &argv).await
        }
        Check::Field {
            object,
            path,
            expect,
            ..
        } => field::grade(backend, &name, object, path, expect).await,
        Check::WorkloadPods {
            object,
            ready,
            on_nodes,
            node_labels,
            image,
            distinct_nodes,
            spread,
        } => {
            let wanted = workload_pods::Wanted {
                ready: *ready,
                on_nodes,
                node_labels,
                image: image.as_deref(),
                distinct_nodes: *distinct_nodes,
                spread: spread.as_ref(),
            };
            workload_pods::grade(backend, &name, object, &wanted).await
        }
        Check::Rollout {
            namespace,
            name: deployment,
            min_revision,
        } => rollout::grade(backend, &name, namespace, deployment, *min_revision).await,
        Check::ClaimBound {
            namespace,
            name: claim,
            volume,
            storage_class,
        } => {
            let (volume, class) = (volume.as_deref(), storage_class.as_deref());
            claim_bound::grade(backend, &name, namespace, claim, volume, class).await
        }
        Check::SameObject(object) => same_object::grade(backend, &name, object).await,
        Check::FileMatchesKubectl { file, kubectl } => match (render(file), render(kubectl)) {
            (Ok(file), Ok(kubectl)) => file_matches::grade(backend, &name, &file, &kubectl).await,
            (Err(e), _) | (_, Err(e)) => CheckResult::invalid(&name, e),
        },
        Check::EnvVar {
            object,
            container,
            name: variable,
            value,
            from,
        } => {
            let container = container.as_deref();
            env_var::grade(backend, &name, object, container, variable, value, *from).await
        }
        Check::Mount {
            object,
            container,
            path,
            volume,
            read_only,
        } => {
            let container = container.as_deref();
            mount::grade(backend, &name, object, container, path, volume, *read_only).await
        }
        Check::Admitted {
            object,
            path,
            expect,
            ..
        } => field::admitted(backend, &name, object, path, expect).await,
        Check::Refused { object, reason, .. } => {
            field::refused(backend, &name, object, reason).await
        }
        Check::Placement { object, nodes } => placement::grade(backend, &name, object, nodes).await,
        Check::Access {
            user,
            groups,
            allowed,
            denied,
        } => access::grade(backend, &name, user, groups, allowed, denied).await,
        Check::HelmRelease {
            namespace,
            name: release,
            status,
            min_revision,
            chart_version,
            values,
        } => {
            let wanted = helm_release::Wanted {
                status: status.as_deref().unwrap_or("deployed"),
                min_revision: *min_revision,
                chart_version: chart_version.as_deref(),
                values,
            };
            helm_release::grade(backend, &name, namespace, release, &wanted).await
        }
        Check::JoinCommand {
            file,
            control_plane,
            max_ttl_hours,
        } => {
            let want = join_command::Wanted {
                control_plane: *control_plane,
                max_ttl_hours: *max_ttl_hours,
            };
            match render(file) {
                Ok(file) => join_command::grade(backend, &name, &file, &want).await,
                Err(e) => CheckResult::invalid(&name, e),
            }
        }
        Check::Traffic { allowed, denied } => traffic::grade(backend, &name, allowed, denied).await,
        Check::ServiceEndpoints {
            namespace,
            service,
            pods_of,
            port,
        } => service_endpoints::grade(backend, &name, namespace, service, pods_of, *port).await,
    }
}
