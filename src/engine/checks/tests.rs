//! The API checks against a mocked API server, with responses in the shape a v1.35 server
//! gives (tests/fixtures/kube), and the one FAIL/INVALID policy: the cluster not answering
//! fails, ckalab unable to ask is INVALID.

use std::collections::BTreeMap;

use http::StatusCode;

use super::grade;
use crate::catalog::check::Check;
use crate::engine::testing::{FakeBackend, Reply, mock_client};
use crate::engine::verdict::{CheckResult, Verdict};

const DISCOVERY: &str = include_str!("../../../tests/fixtures/kube/api-v1.json");
const NODE: &str = "/api/v1/nodes/ckalab-control-plane";
const CONFIGMAP: &str = "/api/v1/namespaces/payments/configmaps/app-config";
const NODE_READY: &str = include_str!("../../../tests/fixtures/kube/node-ready.json");
const NODE_NOT_READY: &str = include_str!("../../../tests/fixtures/kube/node-notready.json");
const APP_CONFIG: &str = include_str!("../../../tests/fixtures/kube/configmap-app-config.json");
const NOT_FOUND: &str = include_str!("../../../tests/fixtures/kube/configmap-not-found.json");
const READYZ_500: &str = include_str!("../../../tests/fixtures/kube/readyz-500.txt");
const POD_RUNNING: &str = include_str!("../../../tests/fixtures/kube/pod-running.json");
const POD_PENDING: &str = include_str!("../../../tests/fixtures/kube/pod-pending.json");
const POD_NOT_FOUND: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}"#;

async fn graded(routes: Vec<(&'static str, Reply)>, check: Check) -> CheckResult {
    let backend = FakeBackend::new(Some(mock_client(routes)));
    grade(&backend, &check).await
}

fn ok(body: &'static str) -> Reply {
    Reply::Answer(StatusCode::OK, body)
}

fn app_config(data: &[(&str, &str)]) -> Check {
    Check::ObjectExists {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: "payments".into(),
        name: "app-config".into(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn pod(namespace: &str, name: &str) -> Check {
    Check::PodPhase {
        namespace: namespace.into(),
        name: name.into(),
        phase: "Running".into(),
    }
}

#[tokio::test]
async fn a_ready_node_passes_and_a_notready_one_fails_with_its_reason() {
    let result = graded(vec![(NODE, ok(NODE_READY))], Check::NodeReady).await;
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);
    let result = graded(vec![(NODE, ok(NODE_NOT_READY))], Check::NodeReady).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result
            .message
            .contains("Kubelet stopped posting node status"),
        "{}",
        result.message
    );
}

#[tokio::test]
async fn an_object_is_found_through_discovery_with_its_data_or_reported_missing() {
    let found = || vec![("/api/v1", ok(DISCOVERY)), (CONFIGMAP, ok(APP_CONFIG))];
    let result = graded(found(), app_config(&[("currency", "EUR")])).await;
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);
    let result = graded(found(), app_config(&[("currency", "USD")])).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result.message.contains("data.currency"),
        "{}",
        result.message
    );

    let missing = vec![
        ("/api/v1", ok(DISCOVERY)),
        (CONFIGMAP, Reply::Answer(StatusCode::NOT_FOUND, NOT_FOUND)),
    ];
    let result = graded(missing, app_config(&[("currency", "EUR")])).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result.message.contains("not found in namespace payments"),
        "{}",
        result.message
    );
}

#[tokio::test]
async fn a_kind_the_api_server_does_not_serve_fails_naming_it() {
    let check = Check::ObjectExists {
        api_version: "gateway.networking.k8s.io/v1".into(),
        kind: "Gateway".into(),
        namespace: "web".into(),
        name: "main".into(),
        data: BTreeMap::new(),
    };
    let result = graded(vec![], check).await;
    assert_eq!(result.verdict, Verdict::Fail, "{}", result.message);
    assert!(
        result.message.contains("gateway.networking.k8s.io/v1"),
        "{}",
        result.message
    );
}

#[tokio::test]
async fn a_running_pod_passes_and_a_pending_one_fails_with_the_schedulers_reason() {
    let etcd = "/api/v1/namespaces/kube-system/pods/etcd-controlplane";
    let result = graded(
        vec![(etcd, ok(POD_RUNNING))],
        pod("kube-system", "etcd-controlplane"),
    )
    .await;
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);

    let web = "/api/v1/namespaces/payments/pods/web";
    let result = graded(vec![(web, ok(POD_PENDING))], pod("payments", "web")).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result.message.contains("is Pending, not Running")
            && result.message.contains("PodScheduled Unschedulable")
            && result
                .message
                .contains("didn't match Pod's node affinity/selector"),
        "{}",
        result.message
    );

    let missing = Reply::Answer(StatusCode::NOT_FOUND, POD_NOT_FOUND);
    let result = graded(vec![(web, missing)], pod("payments", "web")).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result
            .message
            .contains("there is no pod web in namespace payments")
    );
}

#[tokio::test]
async fn readyz_ok_passes_and_500_fails_with_the_failing_checks() {
    let result = graded(vec![("/readyz", ok("ok"))], Check::ApiserverReady).await;
    assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);
    let failing = Reply::Answer(StatusCode::INTERNAL_SERVER_ERROR, READYZ_500);
    let result = graded(vec![("/readyz", failing)], Check::ApiserverReady).await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result.message.contains("[-]etcd failed"),
        "{}",
        result.message
    );
}

/// Before one policy, a refused connection was FAIL for /readyz but INVALID for the node and
/// objects on kind (and FAIL for objects on the sandbox): the same cluster, two verdicts.
#[tokio::test]
async fn an_api_server_that_does_not_answer_fails_every_api_check_alike() {
    let refused = |path| vec![("/api/v1", Reply::Refuse), (path, Reply::Refuse)];
    for (path, check) in [
        (NODE, Check::NodeReady),
        (CONFIGMAP, app_config(&[])),
        ("/readyz", Check::ApiserverReady),
        (
            "/api/v1/namespaces/payments/pods/web",
            pod("payments", "web"),
        ),
    ] {
        let result = graded(refused(path), check).await;
        assert_eq!(
            result.verdict,
            Verdict::Fail,
            "{}: {}",
            result.name,
            result.message
        );
        assert!(
            result.message.contains("Connection refused"),
            "the reason under kube's error is shown: {}",
            result.message
        );
    }
}

#[tokio::test]
async fn ckalab_without_a_client_is_invalid_not_a_wrong_answer() {
    let backend = FakeBackend::new(None);
    for check in [Check::NodeReady, Check::ApiserverReady, app_config(&[])] {
        let result = grade(&backend, &check).await;
        assert_eq!(result.verdict, Verdict::Invalid, "{}", result.name);
    }
}

#[tokio::test]
async fn an_expired_serving_certificate_is_named_in_the_readyz_failure() {
    let result = graded(
        vec![("/readyz", Reply::ExpiredCertificate)],
        Check::ApiserverReady,
    )
    .await;
    assert_eq!(result.verdict, Verdict::Fail);
    assert!(
        result.message.contains("client error (Connect)")
            && result.message.contains("certificate expired"),
        "{}",
        result.message
    );
}
