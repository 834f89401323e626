//! The kube-apiserver model. It validates its command line the way the real binary does (an
//! unknown flag, a missing or mismatched certificate, etcd unreachable with the given client
//! certificate) and, when healthy, serves `/livez`, `/readyz` and the objects labs use over TLS
//! with the manifest's certificate on the manifest's port, so curl and openssl see the real
//! thing.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::container_log::ContainerLog;
use super::etcdctl::Etcdctl;
use super::https;
use super::journal::klog_line;
use super::pods::StaticPod;

/// The flags of kube-apiserver 1.35 that kubeadm and learners use. Anything else is refused
/// at start, like cobra's "unknown flag".
const KNOWN_FLAGS: &[&str] = &[
    "--admission-control-config-file",
    "--advertise-address",
    "--allow-privileged",
    "--anonymous-auth",
    "--api-audiences",
    "--audit-log-maxage",
    "--audit-log-maxbackup",
    "--audit-log-maxsize",
    "--audit-log-path",
    "--audit-policy-file",
    "--authentication-config",
    "--authorization-config",
    "--authorization-mode",
    "--bind-address",
    "--cert-dir",
    "--client-ca-file",
    "--cloud-provider",
    "--default-not-ready-toleration-seconds",
    "--default-unreachable-toleration-seconds",
    "--disable-admission-plugins",
    "--enable-admission-plugins",
    "--enable-aggregator-routing",
    "--enable-bootstrap-token-auth",
    "--encryption-provider-config",
    "--endpoint-reconciler-type",
    "--etcd-cafile",
    "--etcd-certfile",
    "--etcd-keyfile",
    "--etcd-prefix",
    "--etcd-servers",
    "--event-ttl",
    "--feature-gates",
    "--kubelet-certificate-authority",
    "--kubelet-client-certificate",
    "--kubelet-client-key",
    "--kubelet-preferred-address-types",
    "--max-mutating-requests-inflight",
    "--max-requests-inflight",
    "--oidc-client-id",
    "--oidc-groups-claim",
    "--oidc-issuer-url",
    "--oidc-username-claim",
    "--profiling",
    "--proxy-client-cert-file",
    "--proxy-client-key-file",
    "--requestheader-allowed-names",
    "--requestheader-client-ca-file",
    "--requestheader-extra-headers-prefix",
    "--requestheader-group-headers",
    "--requestheader-username-headers",
    "--runtime-config",
    "--secure-port",
    "--service-account-issuer",
    "--service-account-key-file",
    "--service-account-signing-key-file",
    "--service-cluster-ip-range",
    "--service-node-port-range",
    "--tls-cert-file",
    "--tls-cipher-suites",
    "--tls-min-version",
    "--tls-private-key-file",
    "--token-auth-file",
    "--v",
];

/// Flags naming files the binary opens at start.
const FILE_FLAGS: &[&str] = &[
    "--client-ca-file",
    "--etcd-cafile",
    "--etcd-certfile",
    "--etcd-keyfile",
    "--kubelet-client-certificate",
    "--kubelet-client-key",
    "--proxy-client-cert-file",
    "--proxy-client-key-file",
    "--requestheader-client-ca-file",
    "--service-account-key-file",
    "--service-account-signing-key-file",
    "--tls-cert-file",
    "--tls-private-key-file",
];

/// How long the model retries etcd before giving up, like the real storage factory does.
const ETCD_PATIENCE: Duration = Duration::from_secs(8);

/// Runs the API server until it fails (its exit code) or the task is aborted.
pub async fn run(root: PathBuf, pod: StaticPod, log: ContainerLog, pid: u32) -> i32 {
    match serve(&root, &pod, &log, pid).await {
        Ok(()) => 0,
        Err(message) => {
            log.line(&klog_line(
                'E',
                pid,
                "run.go:72",
                &format!("\"command failed\" err=\"{message}\""),
            ));
            1
        }
    }
}

/// A path inside the container, resolved through the pod's volumes to the host.
fn resolve(root: &Path, pod: &StaticPod, container_path: &str) -> Result<PathBuf, String> {
    pod.host_path(container_path)
        .map(|node_path| root.join(node_path.trim_start_matches('/')))
        .filter(|p| p.exists())
        .ok_or_else(|| format!("open {container_path}: no such file or directory"))
}

async fn serve(root: &Path, pod: &StaticPod, log: &ContainerLog, pid: u32) -> Result<(), String> {
    for (flag, _) in pod.flags() {
        if !KNOWN_FLAGS.contains(&flag.as_str()) {
            log.line(&format!("Error: unknown flag: {flag}"));
            return Err(format!("unknown flag: {flag}"));
        }
    }
    let flag = |name: &str| {
        pod.flag(name)
            .ok_or_else(|| format!("{name} must be specified"))
    };
    let mut files = std::collections::HashMap::new();
    for name in FILE_FLAGS {
        if let Some(path) = pod.flag(name) {
            files.insert(*name, resolve(root, pod, &path)?);
        }
    }
    let file = |name: &str| {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| format!("{name} must be specified"))
    };
    let port: u16 = flag("--secure-port")?
        .parse()
        .map_err(|_| "invalid --secure-port".to_string())?;
    let (cert_file, key_file) = (file("--tls-cert-file")?, file("--tls-private-key-file")?);
    let client_ca = file("--client-ca-file")?;
    let mut acceptor = https::acceptor(&cert_file, &key_file, Some(&client_ca))?;
    let mut serving_files = modified(&cert_file, &key_file);
    log.line(&klog_line(
        'I',
        pid,
        "options.go:249",
        "external host was not specified, using 127.0.0.1",
    ));

    let etcd = Etcdctl {
        endpoints: flag("--etcd-servers")?,
        cacert: file("--etcd-cafile")?,
        cert: file("--etcd-certfile")?,
        key: file("--etcd-keyfile")?,
    };
    wait_for_etcd(&etcd, log, pid).await?;

    let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
        format!("failed to create listener: failed to listen on 0.0.0.0:{port}: {e}")
    })?;
    log.line(&klog_line(
        'I',
        pid,
        "secure_serving.go:213",
        &format!("Serving securely on [::]:{port}"),
    ));
    let etcd = Arc::new(etcd);
    let state = super::state::StateFiles::new(root);
    // The node is the one this directory is (`controlplane`, or an exam task's `exam-N`), as
    // task texts name it.
    let node = root
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        // Like the real apiserver (dynamic serving certificates, since v1.17), a changed
        // serving cert/key pair is picked up without a restart; a bad one keeps the old pair.
        let now_files = modified(&cert_file, &key_file);
        if now_files != serving_files {
            serving_files = now_files;
            match https::acceptor(&cert_file, &key_file, Some(&client_ca)) {
                Ok(fresh) => {
                    acceptor = fresh;
                    log.line(&klog_line(
                        'I',
                        pid,
                        "dynamic_serving_content.go:135",
                        &format!(
                            "\"Loaded a new cert/key pair\" name=\"serving-cert::{}::{}\"",
                            cert_file.display(),
                            key_file.display()
                        ),
                    ));
                }
                Err(err) => log.line(&klog_line(
                    'E',
                    pid,
                    "dynamic_serving_content.go:120",
                    &format!("\"Failed to load the serving cert/key pair\" err=\"{err}\""),
                )),
            }
        }
        let acceptor = acceptor.clone();
        let etcd = etcd.clone();
        let (state, node) = (state.clone(), node.clone());
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            let Some((_, path)) = https::read_request(&mut tls).await else {
                return;
            };
            let (status, content_type, body) = answer(&etcd, &state, &node, &path).await;
            https::write_response(&mut tls, status, content_type, &body).await;
        });
    }
}

/// When the serving certificate and key last changed.
fn modified(cert: &Path, key: &Path) -> [Option<std::time::SystemTime>; 2] {
    [cert, key].map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
}

async fn wait_for_etcd(etcd: &Etcdctl, log: &ContainerLog, pid: u32) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + ETCD_PATIENCE;
    loop {
        match etcd.health().await {
            Ok(()) => return Ok(()),
            Err(err) => {
                let endpoint = etcd.endpoints.split(',').next().unwrap_or_default();
                let addr = endpoint.split("://").nth(1).unwrap_or(endpoint);
                log.line(&klog_line(
                    'W',
                    pid,
                    "logging.go:55",
                    &format!("[core] [Channel #1 SubChannel #2]grpc: addrConn.createTransport failed to connect to {{Addr: \"{addr}\", ServerName: \"{addr}\", }}. Err: {err}"),
                ));
            }
        }
        if tokio::time::Instant::now() >= deadline {
            log.line(&klog_line(
                'F',
                pid,
                "instance.go:226",
                "Error creating leases: error creating storage factory: context deadline exceeded",
            ));
            return Err("error creating storage factory: context deadline exceeded".into());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn answer(
    etcd: &Etcdctl,
    state: &super::state::StateFiles,
    node: &str,
    path: &str,
) -> (u16, &'static str, String) {
    let path = path.split('?').next().unwrap_or(path);
    let node_path = format!("/api/v1/nodes/{node}");
    match path {
        "/livez" | "/healthz" => (200, "text/plain", "ok".into()),
        "/api/v1" => (200, "application/json", CORE_RESOURCES.into()),
        _ if path == node_path => (200, "application/json", node_json(state, node)),
        "/readyz" => match etcd.health().await {
            Ok(()) => (200, "text/plain", "ok".into()),
            Err(_) => (
                500,
                "text/plain",
                "[-]etcd failed: reason withheld\nreadyz check failed\n".into(),
            ),
        },
        _ => match object_key(path) {
            Some((kind, key)) => match etcd.get(&key).await {
                Ok(Some(value)) => (200, "application/json", value),
                Ok(None) => (404, "application/json", not_found(kind, path)),
                Err(err) => (
                    500,
                    "application/json",
                    status_json(500, "InternalError", &err.to_string()),
                ),
            },
            None => (
                404,
                "application/json",
                status_json(
                    404,
                    "NotFound",
                    "the server could not find the requested resource",
                ),
            ),
        },
    }
}

/// The core group's discovery document, for the kinds the model serves: what a client asks
/// before it addresses an object by apiVersion and kind.
const CORE_RESOURCES: &str = r#"{"kind":"APIResourceList","groupVersion":"v1","resources":[
{"name":"configmaps","singularName":"configmap","namespaced":true,"kind":"ConfigMap","verbs":["get"],"shortNames":["cm"]},
{"name":"nodes","singularName":"node","namespaced":false,"kind":"Node","verbs":["get"],"shortNames":["no"]},
{"name":"secrets","singularName":"secret","namespaced":true,"kind":"Secret","verbs":["get"]}]}"#;

/// The node as the kubelet (the agent) last reported it: Ready, or NotReady with the
/// kubelet's reason.
fn node_json(state: &super::state::StateFiles, node: &str) -> String {
    let (ready, message) = match state.read_state() {
        Some(s) if s.node_ready => (true, "kubelet is posting ready status".to_string()),
        Some(s) => (false, s.node_reason),
        None => (false, "Kubelet stopped posting node status.".to_string()),
    };
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": node},
        "status": {"conditions": [{
            "type": "Ready",
            "status": if ready { "True" } else { "False" },
            "reason": if ready { "KubeletReady" } else { "KubeletNotReady" },
            "message": message,
        }]},
    })
    .to_string()
}

/// `/api/v1/namespaces/<ns>/<configmaps|secrets>/<name>` → its etcd key.
fn object_key(path: &str) -> Option<(&str, String)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [
            "api",
            "v1",
            "namespaces",
            ns,
            kind @ ("configmaps" | "secrets"),
            name,
        ] => Some((kind, format!("/registry/{kind}/{ns}/{name}"))),
        _ => None,
    }
}

fn not_found(kind: &str, path: &str) -> String {
    let name = path.rsplit('/').next().unwrap_or_default();
    status_json(404, "NotFound", &format!("{kind} \"{name}\" not found"))
}

fn status_json(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code}).to_string()
}
