//! Grades typed checks against a backend. Each returns PASS, FAIL or INVALID with a sentence a
//! learner understands. INVALID means the grader could not look; grading never repairs.

use std::time::{Duration, SystemTime};

use base64::Engine as _;

use super::backend::Backend;
use super::edit::{self, Format};
use super::keypath::KeyPath;
use super::report::{CheckResult, Report};
use super::steps::plural;
use crate::catalog::check::Check;
use crate::catalog::step::ObjectKind;

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
        } => format!("{kind:?} {namespace}/{name} exists"),
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
pub async fn grade_all(backend: &Backend, checks: &[Check]) -> Report {
    let mut results = Vec::new();
    for check in checks {
        results.push(grade(backend, check).await);
    }
    Report::new(results)
}

pub async fn grade(backend: &Backend, check: &Check) -> CheckResult {
    let name = describe(check);
    // On kind, node state and Kubernetes objects are asked of the cluster itself.
    if let Backend::Kind(kind) = backend
        && let Some(result) = kind.grade(check, &name).await
    {
        return result;
    }
    let layout = backend.layout();
    let render = |s: &str| layout.render(s);
    match check {
        Check::ServiceActive(unit) => match backend.node_state() {
            Err(e) => CheckResult::invalid(&name, e.to_string()),
            Ok(state) => match state.units.get(unit.as_str()) {
                Some(u) if u.active == "active" => {
                    CheckResult::pass(&name, format!("{unit} is active (running)"))
                }
                Some(u) => CheckResult::fail(
                    &name,
                    format!(
                        "{unit} is {} ({}): see `journalctl -u {unit}`",
                        u.active, u.sub
                    ),
                ),
                None => CheckResult::invalid(&name, format!("the node has no unit named {unit}")),
            },
        },
        Check::KubeletRuntime => kubelet_runtime(backend, &name).await,
        Check::NodeReady => match backend.node_state() {
            Err(e) => CheckResult::invalid(&name, e.to_string()),
            Ok(state) if state.node_ready => {
                CheckResult::pass(&name, format!("{} is Ready", layout.node_name))
            }
            Ok(state) => CheckResult::fail(
                &name,
                format!("{} is NotReady: {}", layout.node_name, state.node_reason),
            ),
        },
        Check::StaticPodRunning(pod) => match backend.node_state() {
            Err(e) => CheckResult::invalid(&name, e.to_string()),
            Ok(state) => match state.pods.get(pod.as_str()) {
                Some(p) if p.state == "Running" => CheckResult::pass(
                    &name,
                    format!(
                        "{pod} is running (container {}, attempt {})",
                        p.container_id, p.attempt
                    ),
                ),
                Some(p) => CheckResult::fail(
                    &name,
                    format!(
                        "{pod} exited with code {} (attempt {}): `crictl logs {}` tells why",
                        p.exit_code.unwrap_or_default(),
                        p.attempt,
                        p.container_id
                    ),
                ),
                None => CheckResult::fail(
                    &name,
                    format!("there is no {pod} pod: is its manifest in /etc/kubernetes/manifests?"),
                ),
            },
        },
        Check::ApiserverReady => {
            let port = layout.ports.apiserver;
            let ca = backend.host_path("/etc/kubernetes/pki/ca.crt");
            match crate::sandbox::https::get(port, &ca, None, "/readyz").await {
                Ok(r) if r.status == 200 => CheckResult::pass(
                    &name,
                    format!("https://127.0.0.1:{port}/readyz answered ok"),
                ),
                Ok(r) => CheckResult::fail(
                    &name,
                    format!("/readyz answered {}: {}", r.status, r.body.trim()),
                ),
                Err(e) => CheckResult::fail(&name, format!("https://127.0.0.1:{port}/readyz: {e}")),
            }
        }
        Check::EtcdHealthy => match backend.etcd() {
            Err(e) => CheckResult::invalid(&name, e.to_string()),
            Ok(etcd) => match etcd.health().await {
                Ok(()) => CheckResult::pass(&name, format!("{} is healthy", etcd.endpoints)),
                Err(e @ crate::sandbox::etcdctl::EtcdctlError::Missing) => {
                    CheckResult::invalid(&name, e.to_string())
                }
                Err(e) => CheckResult::fail(
                    &name,
                    format!("etcd at {} is not healthy: {e}", etcd.endpoints),
                ),
            },
        },
        Check::CertValid { cert, ca, days } => match (render(cert), render(ca)) {
            (Ok(cert), Ok(ca)) => cert_valid(backend, &name, &cert, &ca, *days),
            (Err(e), _) | (_, Err(e)) => CheckResult::invalid(&name, e),
        },
        Check::ObjectExists {
            kind,
            namespace,
            name: object,
            data,
        } => object_exists(backend, &name, *kind, namespace, object, data).await,
        // The catalog keeps these to kind labs; kind grades them above.
        Check::PodPhase { .. } => CheckResult::invalid(
            &name,
            "the sandbox node has no pod API: pod_phase checks run on kind only",
        ),
        Check::FileKey { file, key, equals } => {
            let result = render(file).and_then(|file| {
                let format =
                    Format::of(&file).ok_or_else(|| format!("{file}: neither TOML nor YAML"))?;
                let text = backend.read(&file).map_err(|e| e.to_string())?;
                let key = KeyPath::parse(key).map_err(|e| e.to_string())?;
                edit::get_key(&text, format, &key).map_err(|e| format!("{file}: {e}"))
            });
            match result {
                Ok(Some(value)) if &value == equals => {
                    CheckResult::pass(&name, format!("{key} is {value}"))
                }
                Ok(Some(value)) => {
                    CheckResult::fail(&name, format!("{key} is {value}, not {equals}"))
                }
                Ok(None) => CheckResult::fail(&name, format!("{key} is not set")),
                Err(e) => CheckResult::fail(&name, e),
            }
        }
        Check::Command(argv) => {
            let argv: Result<Vec<String>, String> = argv.iter().map(|a| render(a)).collect();
            match argv {
                Err(e) => CheckResult::invalid(&name, e),
                Ok(argv) => match backend.run(&argv).await {
                    Ok(out) if out.status.success() => CheckResult::pass(&name, "exited 0"),
                    Ok(out) => CheckResult::fail(
                        &name,
                        format!(
                            "exited with {}: {}",
                            out.status,
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                    ),
                    Err(e) => CheckResult::invalid(&name, e.to_string()),
                },
            }
        }
    }
}

/// Finds the runtime endpoint where the kubelet does (a kubeadm-flags.env flag beats
/// config.yaml) and calls CRI v1 `Version` on it.
async fn kubelet_runtime(backend: &Backend, name: &str) -> CheckResult {
    let config = match backend
        .read(crate::kubelet::CONFIG_FILE)
        .map_err(|e| e.to_string())
        .and_then(|text| edit::parse_yaml(&text).map_err(|e| e.to_string()))
    {
        Ok(config) => config,
        Err(e) => {
            return CheckResult::fail(name, format!("the kubelet cannot read its config: {e}"));
        }
    };
    let flags = backend.read(crate::kubelet::FLAGS_FILE).unwrap_or_default();
    let endpoint = &crate::kubelet::effective_endpoint(&flags, &config);
    let socket = match crate::cri::socket_path(endpoint) {
        Ok(socket) => socket,
        Err(e) => return CheckResult::fail(name, e.to_string()),
    };
    match crate::cri::version(&backend.host_path(&socket.to_string_lossy()), endpoint).await {
        Ok(v) => CheckResult::pass(
            name,
            format!(
                "{endpoint} answers CRI {} ({} {})",
                v.runtime_api_version, v.runtime_name, v.runtime_version
            ),
        ),
        Err(e) => CheckResult::fail(name, e.to_string()),
    }
}

fn cert_valid(backend: &Backend, name: &str, cert: &str, ca: &str, days: u32) -> CheckResult {
    let (cert_pem, ca_pem) = match (backend.read_bytes(cert), backend.read_bytes(ca)) {
        (Ok(c), Ok(a)) => (c, a),
        (Err(e), _) | (_, Err(e)) => return CheckResult::fail(name, e.to_string()),
    };
    let info = match crate::pki::inspect(&cert_pem) {
        Ok(info) => info,
        Err(e) => return CheckResult::fail(name, format!("{cert} is not a certificate: {e}")),
    };
    let now = SystemTime::now();
    let until = now + Duration::from_secs(u64::from(days) * 86_400);
    let end = jiff::Timestamp::try_from(info.not_after)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    if info.not_after < now {
        return CheckResult::fail(name, format!("{cert} expired on {end}"));
    }
    if info.not_before > now {
        return CheckResult::fail(name, format!("{cert} is not valid yet"));
    }
    if info.not_after < until {
        return CheckResult::fail(name, format!("{cert} expires on {end}, within {days} days"));
    }
    match crate::pki::signed_by(&cert_pem, &ca_pem) {
        Ok(true) => CheckResult::pass(name, format!("{cert} is valid until {end}, signed by {ca}")),
        Ok(false) => CheckResult::fail(
            name,
            format!("{cert} is not signed by {ca} (issuer: {})", info.issuer_cn),
        ),
        Err(e) => CheckResult::fail(name, e.to_string()),
    }
}

/// Asks the API server for the object, as kubectl would (with the admin client certificate).
async fn object_exists(
    backend: &Backend,
    name: &str,
    kind: ObjectKind,
    namespace: &str,
    object: &str,
    data: &std::collections::BTreeMap<String, String>,
) -> CheckResult {
    let port = backend.layout().ports.apiserver;
    let pki = |f: &str| backend.host_path(&format!("/etc/kubernetes/pki/{f}"));
    let (cert, key) = (
        pki("apiserver-kubelet-client.crt"),
        pki("apiserver-kubelet-client.key"),
    );
    let path = format!("/api/v1/namespaces/{namespace}/{}/{object}", plural(kind));
    let response =
        match crate::sandbox::https::get(port, &pki("ca.crt"), Some((&cert, &key)), &path).await {
            Ok(r) => r,
            Err(e) => {
                return CheckResult::fail(name, format!("the API server cannot be asked: {e}"));
            }
        };
    match response.status {
        200 => {}
        404 => {
            return CheckResult::fail(
                name,
                format!("{kind:?} \"{object}\" not found in namespace {namespace}"),
            );
        }
        code => {
            return CheckResult::fail(
                name,
                format!("the API server answered {code}: {}", response.body.trim()),
            );
        }
    }
    let found: serde_json::Value = serde_json::from_str(&response.body).unwrap_or_default();
    for (k, want) in data {
        let got = found["data"][k].as_str().map(|v| match kind {
            ObjectKind::Secret => base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
            ObjectKind::ConfigMap => v.to_string(),
        });
        if got.as_deref() != Some(want.as_str()) {
            return CheckResult::fail(
                name,
                format!("{kind:?} {namespace}/{object} exists, but data.{k} is not {want:?}"),
            );
        }
    }
    CheckResult::pass(name, format!("{kind:?} {namespace}/{object} is back"))
}
