//! Kubernetes-level checks on a kind cluster through the kube crate: a node is Ready, an object
//! exists (with its data), a pod is in a phase, the API server answers `/readyz`. The client is
//! built from the `kind-<cluster>` context of ckalab's own kubeconfig — never the learner's
//! current context — with retries off and short timeouts, so a grader facing a deliberately
//! broken API server answers in seconds instead of retrying for minutes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

use super::cli;
use crate::catalog::step::ObjectKind;
use crate::engine::report::CheckResult;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A client for ckalab's cluster `cluster`, from ckalab's kubeconfig file for it.
pub async fn client(kubeconfig: &Path, cluster: &str) -> Result<Client, String> {
    Client::try_from(config(kubeconfig, cluster).await?).map_err(|e| e.to_string())
}

/// The client configuration: the `kind-<cluster>` context whatever the file's current context,
/// retries off, short timeouts.
pub async fn config(kubeconfig: &Path, cluster: &str) -> Result<Config, String> {
    let file = Kubeconfig::read_from(kubeconfig)
        .map_err(|e| format!("cannot read {}: {e}", kubeconfig.display()))?;
    let options = KubeConfigOptions {
        context: Some(cli::context(cluster)),
        ..KubeConfigOptions::default()
    };
    let mut config = Config::from_custom_kubeconfig(file, &options)
        .await
        .map_err(|e| format!("{}: {e}", kubeconfig.display()))?;
    // kube retries 429/503/504 with long back-off by default: a grader must not.
    config.default_retry = false;
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(READ_TIMEOUT);
    config.write_timeout = Some(READ_TIMEOUT);
    Ok(config)
}

/// The node reports Ready.
pub async fn node_ready(client: &Client, check: &str, node: &str) -> CheckResult {
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes.get(node).await {
        Ok(found) => {
            let ready = found
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "Ready");
            match ready {
                Some(c) if c.status == "True" => {
                    CheckResult::pass(check, format!("{node} is Ready"))
                }
                Some(c) => CheckResult::fail(
                    check,
                    format!(
                        "{node} is NotReady ({}): {}",
                        c.reason.unwrap_or_default(),
                        c.message.unwrap_or_default()
                    ),
                ),
                None => CheckResult::fail(check, format!("{node} reports no Ready condition yet")),
            }
        }
        Err(kube::Error::Api(status)) if status.code == 404 => {
            CheckResult::fail(check, format!("there is no node named {node}"))
        }
        Err(err) => cannot_look(check, &err),
    }
}

/// The object exists, and holds `data` when given (Secret values compared decoded).
pub async fn object_exists(
    client: &Client,
    check: &str,
    kind: ObjectKind,
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, String>,
) -> CheckResult {
    let found: Result<BTreeMap<String, String>, kube::Error> = match kind {
        ObjectKind::ConfigMap => Api::<ConfigMap>::namespaced(client.clone(), namespace)
            .get(name)
            .await
            .map(|cm| cm.data.unwrap_or_default()),
        ObjectKind::Secret => Api::<Secret>::namespaced(client.clone(), namespace)
            .get(name)
            .await
            .map(|secret| {
                secret
                    .data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned()))
                    .collect()
            }),
    };
    match found {
        Ok(values) => match data.iter().find(|(k, want)| values.get(*k) != Some(*want)) {
            None => CheckResult::pass(check, format!("{kind:?} {namespace}/{name} is back")),
            Some((k, want)) => CheckResult::fail(
                check,
                format!("{kind:?} {namespace}/{name} exists, but data.{k} is not {want:?}"),
            ),
        },
        Err(kube::Error::Api(status)) if status.code == 404 => CheckResult::fail(
            check,
            format!("{kind:?} \"{name}\" not found in namespace {namespace}"),
        ),
        Err(err) => cannot_look(check, &err),
    }
}

/// The pod is in `phase`; when it is not, the reasons its conditions and containers give
/// (Unschedulable, ContainerCreating, CrashLoopBackOff...) say why.
pub async fn pod_phase(
    client: &Client,
    check: &str,
    namespace: &str,
    name: &str,
    phase: &str,
) -> CheckResult {
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
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
        Err(kube::Error::Api(status)) if status.code == 404 => CheckResult::fail(
            check,
            format!("there is no pod {name} in namespace {namespace}"),
        ),
        Err(err) => cannot_look(check, &err),
    }
}

/// The API server answers `/readyz`. Here a refused connection is the answer (the API server
/// is down), so it fails rather than being INVALID.
pub async fn readyz(client: &Client, check: &str) -> CheckResult {
    let request = match http::Request::get("/readyz").body(Vec::new()) {
        Ok(request) => request,
        Err(e) => return CheckResult::invalid(check, e.to_string()),
    };
    match client.request_text(request).await {
        Ok(body) => CheckResult::pass(check, format!("/readyz answered {}", body.trim())),
        Err(kube::Error::Api(status)) => CheckResult::fail(
            check,
            format!(
                "/readyz answered {}: {}",
                status.code,
                status.message.trim()
            ),
        ),
        Err(err) => CheckResult::fail(
            check,
            format!(
                "the API server does not answer: {}",
                crate::error::with_causes(&err)
            ),
        ),
    }
}

/// The API could not be asked, so the grader cannot tell: INVALID, never a wrong answer.
fn cannot_look(check: &str, err: &kube::Error) -> CheckResult {
    CheckResult::invalid(
        check,
        format!(
            "cannot ask the API server ({}); `ckalab cluster status` shows the cluster",
            crate::error::with_causes(err)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Verdict;
    use http::{Request, Response, StatusCode};
    use kube::client::Body;

    type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

    /// What the mock API server does with the one request it gets.
    enum Reply {
        /// Checks the request's path, then answers with a status and a body.
        Answer(&'static str, StatusCode, &'static str),
        /// Fails the connection, as a stopped API server does.
        Refuse,
        /// Fails the TLS handshake on an expired serving certificate.
        ExpiredCertificate,
    }

    /// hyper-util's client error: its text names only the kind of failure, the reason is its
    /// source, as when kube talks to a real API server.
    #[derive(Debug)]
    struct ConnectError(std::io::Error);

    impl std::fmt::Display for ConnectError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }

    impl std::error::Error for ConnectError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    /// Runs `ask` against a client whose API server replies with `reply`.
    async fn graded<F, Fut>(reply: Reply, ask: F) -> CheckResult
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<Output = CheckResult>,
    {
        let (service, mut handle): (_, Handle) =
            tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let server = tokio::spawn(async move {
            let (request, send) = handle.next_request().await.expect("a request");
            match reply {
                Reply::Answer(path, status, body) => {
                    assert_eq!(request.uri().path(), path);
                    let response = Response::builder()
                        .status(status)
                        .body(Body::from(body.as_bytes().to_vec()))
                        .expect("response");
                    send.send_response(response);
                }
                Reply::Refuse => send.send_error(ConnectError(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "tcp connect error: Connection refused (os error 111)",
                ))),
                Reply::ExpiredCertificate => send.send_error(ConnectError(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "invalid peer certificate: certificate expired: verification time 1795600000 (UNIX), but certificate is not valid after 1795500000 (UNIX)",
                ))),
            }
        });
        let result = ask(Client::new(service, "default")).await;
        server.await.expect("server");
        result
    }

    #[tokio::test]
    async fn the_client_uses_ckalabs_context_without_retries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ckalab.kubeconfig");
        // The current context is someone else's cluster: ckalab must not follow it.
        let kubeconfig = "apiVersion: v1
kind: Config
current-context: production
clusters:
- cluster: {server: 'https://prod.example:6443'}
  name: production
- cluster: {server: 'https://127.0.0.1:39121'}
  name: kind-ckalab
contexts:
- context: {cluster: production, user: prod}
  name: production
- context: {cluster: kind-ckalab, user: kind-ckalab}
  name: kind-ckalab
users:
- name: prod
  user: {token: secret}
- name: kind-ckalab
  user: {token: abc}
";
        std::fs::write(&path, kubeconfig).expect("write");
        let ours = config(&path, "ckalab").await.expect("config");
        assert_eq!(ours.cluster_url.to_string(), "https://127.0.0.1:39121/");
        assert!(!ours.default_retry);
        assert_eq!(ours.read_timeout, Some(READ_TIMEOUT));
        assert!(
            config(&path, "other").await.is_err(),
            "no kind-other context"
        );
    }

    const NODE: &str = "/api/v1/nodes/ckalab-control-plane";
    const CONFIGMAP: &str = "/api/v1/namespaces/payments/configmaps/app-config";
    const NODE_READY: &str = include_str!("../../tests/fixtures/kube/node-ready.json");
    const NODE_NOT_READY: &str = include_str!("../../tests/fixtures/kube/node-notready.json");
    const APP_CONFIG: &str = include_str!("../../tests/fixtures/kube/configmap-app-config.json");
    const NOT_FOUND: &str = include_str!("../../tests/fixtures/kube/configmap-not-found.json");
    const READYZ_500: &str = include_str!("../../tests/fixtures/kube/readyz-500.txt");

    async fn node(reply: Reply) -> CheckResult {
        graded(reply, |c| async move {
            node_ready(&c, "node", "ckalab-control-plane").await
        })
        .await
    }

    async fn app_config(reply: Reply, data: &[(&str, &str)]) -> CheckResult {
        let data: BTreeMap<String, String> = data
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        graded(reply, |c| async move {
            object_exists(
                &c,
                "cm",
                ObjectKind::ConfigMap,
                "payments",
                "app-config",
                &data,
            )
            .await
        })
        .await
    }

    async fn ready(reply: Reply) -> CheckResult {
        graded(reply, |c| async move { readyz(&c, "readyz").await }).await
    }

    const POD_RUNNING: &str = include_str!("../../tests/fixtures/kube/pod-running.json");
    const POD_PENDING: &str = include_str!("../../tests/fixtures/kube/pod-pending.json");
    const POD_NOT_FOUND: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"web\" not found","reason":"NotFound","details":{"name":"web","kind":"pods"},"code":404}"#;

    async fn pod(reply: Reply, namespace: &'static str, name: &'static str) -> CheckResult {
        graded(reply, move |c| async move {
            pod_phase(&c, "pod", namespace, name, "Running").await
        })
        .await
    }

    #[tokio::test]
    async fn a_running_pod_passes_and_a_pending_one_fails_with_the_schedulers_reason() {
        let etcd = "/api/v1/namespaces/kube-system/pods/etcd-ckalab-control-plane";
        let result = pod(
            Reply::Answer(etcd, StatusCode::OK, POD_RUNNING),
            "kube-system",
            "etcd-ckalab-control-plane",
        )
        .await;
        assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);

        let web = "/api/v1/namespaces/payments/pods/web";
        let result = pod(
            Reply::Answer(web, StatusCode::OK, POD_PENDING),
            "payments",
            "web",
        )
        .await;
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

        let result = pod(
            Reply::Answer(web, StatusCode::NOT_FOUND, POD_NOT_FOUND),
            "payments",
            "web",
        )
        .await;
        assert_eq!(result.verdict, Verdict::Fail);
        assert!(
            result
                .message
                .contains("there is no pod web in namespace payments")
        );

        let result = pod(Reply::Refuse, "payments", "web").await;
        assert_eq!(result.verdict, Verdict::Invalid, "{}", result.message);
    }

    #[tokio::test]
    async fn a_ready_node_passes_and_a_notready_one_fails_with_its_reason() {
        let result = node(Reply::Answer(NODE, StatusCode::OK, NODE_READY)).await;
        assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);
        let result = node(Reply::Answer(NODE, StatusCode::OK, NODE_NOT_READY)).await;
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
    async fn a_configmap_is_found_with_its_data_or_reported_missing() {
        let found = Reply::Answer(CONFIGMAP, StatusCode::OK, APP_CONFIG);
        let result = app_config(found, &[("currency", "EUR")]).await;
        assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);
        let found = Reply::Answer(CONFIGMAP, StatusCode::OK, APP_CONFIG);
        let result = app_config(found, &[("currency", "USD")]).await;
        assert_eq!(result.verdict, Verdict::Fail);
        let missing = Reply::Answer(CONFIGMAP, StatusCode::NOT_FOUND, NOT_FOUND);
        let result = app_config(missing, &[("currency", "EUR")]).await;
        assert_eq!(result.verdict, Verdict::Fail);
        assert!(result.message.contains("not found in namespace payments"));
    }

    #[tokio::test]
    async fn readyz_ok_passes_and_500_fails_with_the_failing_checks() {
        let result = ready(Reply::Answer("/readyz", StatusCode::OK, "ok")).await;
        assert_eq!(result.verdict, Verdict::Pass, "{}", result.message);
        let result = ready(Reply::Answer(
            "/readyz",
            StatusCode::INTERNAL_SERVER_ERROR,
            READYZ_500,
        ))
        .await;
        assert_eq!(result.verdict, Verdict::Fail);
        assert!(
            result.message.contains("[-]etcd failed"),
            "{}",
            result.message
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_invalid_for_objects_and_a_failure_for_readyz() {
        let result = node(Reply::Refuse).await;
        assert_eq!(result.verdict, Verdict::Invalid, "{}", result.message);
        let result = app_config(Reply::Refuse, &[]).await;
        assert_eq!(result.verdict, Verdict::Invalid);
        assert!(
            result.message.contains("Connection refused"),
            "the reason under kube's error is shown: {}",
            result.message
        );
        let result = ready(Reply::Refuse).await;
        assert_eq!(result.verdict, Verdict::Fail);
        assert!(
            result.message.contains("Connection refused"),
            "{}",
            result.message
        );
    }

    #[tokio::test]
    async fn an_expired_serving_certificate_is_named_in_the_readyz_failure() {
        let result = ready(Reply::ExpiredCertificate).await;
        assert_eq!(result.verdict, Verdict::Fail);
        assert!(
            result.message.contains("client error (Connect)")
                && result.message.contains("certificate expired"),
            "{}",
            result.message
        );
    }
}
