//! Waiting on a node: until it is healthy, and until a lab's break has taken effect (a kubelet
//! notices a changed file within seconds, not at once).

use std::time::Duration;

use super::checks;
use super::cluster::Backend;
use super::verdict::{CheckResult, Verdict};
use crate::catalog::Lab;
use crate::catalog::check::Check;
use crate::catalog::lab::Variant;

/// What makes a node healthy: containerd and the kubelet active (a kubelet that just died
/// leaves the Node Ready for the grace period), the Node Ready, etcd healthy, the API server
/// answering, and the controller-manager at work: until it has made the `default`
/// ServiceAccount, no pod can be created.
fn healthy_checks() -> [Check; 6] {
    [
        Check::ServiceActive("containerd".into()),
        Check::ServiceActive("kubelet".into()),
        Check::NodeReady,
        Check::EtcdHealthy,
        Check::ApiserverReady,
        Check::ObjectExists {
            api_version: "v1".into(),
            kind: "ServiceAccount".into(),
            namespace: "default".into(),
            name: "default".into(),
            data: Default::default(),
        },
    ]
}

/// Polls until every health check passes. A node that is still coming up fails or cannot be
/// asked for a while (an API server restarting refuses connections), so every verdict other
/// than PASS means "not yet" until the deadline. Returns the check still failing then.
pub async fn wait_healthy(backend: &dyn Backend, timeout: Duration) -> Result<(), CheckResult> {
    let deadline = tokio::time::Instant::now() + timeout;
    let healthy = healthy_checks();
    loop {
        let mut failing = None;
        for check in &healthy {
            let result = checks::grade(backend, check).await;
            if result.verdict != Verdict::Pass {
                failing = Some(result);
                break;
            }
        }
        match failing {
            None => return Ok(()),
            Some(result) if tokio::time::Instant::now() >= deadline => return Err(result),
            Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Polls the lab's expected breaks until each fails for its reason, or gives up after 45 s
/// with what it saw.
pub async fn verify_broken(
    backend: &dyn Backend,
    lab: &Lab,
    variant: Option<&Variant>,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let mut problem = None;
        for expected in lab.expected_breaks(variant) {
            let result = checks::grade(backend, &expected.check).await;
            let reason_ok = expected
                .reason
                .as_deref()
                .is_none_or(|r| result.message.contains(r));
            if result.verdict != Verdict::Fail || !reason_ok {
                let wanted = expected
                    .reason
                    .map(|r| format!(" with \"{r}\""))
                    .unwrap_or_default();
                problem = Some(format!(
                    "\"{}\" should fail{wanted}, but: {} ({})",
                    result.name,
                    result.message,
                    result.verdict.as_str()
                ));
                break;
            }
        }
        match problem {
            None => return Ok(()),
            Some(p) if tokio::time::Instant::now() >= deadline => return Err(p),
            Some(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use http::StatusCode;

    use super::*;
    use crate::engine::fault::Fault;
    use crate::engine::node::UnitStatus;
    use crate::engine::testing::{FakeBackend, Reply, mock_client};

    const NODE_READY: &str = include_str!("../../tests/fixtures/kube/node-ready.json");
    const DISCOVERY: &str = include_str!("../../tests/fixtures/kube/api-v1.json");
    const SERVICE_ACCOUNT: &str = r#"{"apiVersion":"v1","kind":"ServiceAccount",
        "metadata":{"name":"default","namespace":"default","uid":"u"}}"#;

    fn ready_cluster() -> kube::Client {
        mock_client(vec![
            (
                "/api/v1/nodes/ckalab-control-plane",
                Reply::Answer(StatusCode::OK, NODE_READY),
            ),
            ("/readyz", Reply::Answer(StatusCode::OK, "ok")),
            ("/api/v1", Reply::Answer(StatusCode::OK, DISCOVERY)),
            (
                "/api/v1/namespaces/default/serviceaccounts/default",
                Reply::Answer(StatusCode::OK, SERVICE_ACCOUNT),
            ),
        ])
    }

    /// A control plane still restarting cannot be asked for a moment (etcd's container is not
    /// up yet): `reset` after an apiserver-flags attempt met exactly that and gave up at once.
    #[tokio::test]
    async fn waiting_for_health_goes_on_through_answers_ckalab_cannot_get_yet() {
        let backend = FakeBackend::new(Some(ready_cluster()))
            .units_running()
            .etcd_answers(vec![
                Err(Fault::grader("no running etcd container yet")),
                Err(Fault::grader("no running etcd container yet")),
                Ok("healthy".into()),
            ]);
        let waited = wait_healthy(&backend, Duration::from_secs(10)).await;
        assert!(waited.is_ok(), "{:?}", waited.err());
    }

    /// A kubelet that just died leaves the Node Ready for its grace period: the unit says so.
    #[tokio::test]
    async fn a_dead_kubelet_is_unhealthy_while_its_node_still_reads_ready() {
        let mut backend = FakeBackend::new(Some(ready_cluster())).units_running();
        backend.units.insert(
            "kubelet".into(),
            UnitStatus {
                active: "activating".into(),
                sub: "auto-restart".into(),
            },
        );
        let failing = wait_healthy(&backend, Duration::from_millis(300))
            .await
            .expect_err("the kubelet is down");
        assert_eq!(failing.name, "kubelet is active");
    }

    #[tokio::test]
    async fn waiting_for_health_ends_at_the_deadline_with_the_failing_check() {
        let backend = FakeBackend::new(Some(ready_cluster()))
            .units_running()
            .etcd_answers(vec![Err(Fault::cluster("connection refused"))]);
        let failing = wait_healthy(&backend, Duration::from_millis(300))
            .await
            .expect_err("etcd never answers");
        assert_eq!(failing.name, "etcd is healthy");
        assert!(
            failing.message.contains("connection refused"),
            "{}",
            failing.message
        );
    }
}
