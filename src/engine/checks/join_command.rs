//! A `kubeadm join` command written for a new node, proven against the cluster instead of
//! compared with one spelling: it names the API server's endpoint, a live bootstrap token, the
//! hash that pins the cluster CA, and, for a control-plane node, a certificate key that opens
//! the `kubeadm-certs` Secret the certificates were uploaded to. Whatever printed it
//! (`kubeadm token create --print-join-command`, or words put together by hand) passes alike.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::catalog::command_line;
use crate::engine::api;
use crate::engine::cluster::Backend;
use crate::engine::fault::Fault;
use crate::engine::verdict::CheckResult;
use crate::pki;

use super::object;

const ADMIN_KUBECONFIG: &str = "/etc/kubernetes/admin.conf";
const CLUSTER_CA: &str = "/etc/kubernetes/pki/ca.crt";
/// Where `kubeadm init phase upload-certs` puts the encrypted certificates.
const UPLOADED_CERTS: &str = "kubeadm-certs";
/// `kubeadm join`'s flags that take no value.
const SWITCHES: [&str; 4] = [
    "control-plane",
    "discovery-token-unsafe-skip-ca-verification",
    "dry-run",
    "skip-token-print",
];

/// What the command must do.
pub struct Wanted {
    pub control_plane: bool,
    /// The token must expire within this many hours.
    pub max_ttl_hours: Option<u32>,
}

pub async fn grade(backend: &dyn Backend, check: &str, file: &str, want: &Wanted) -> CheckResult {
    match verify(backend, check, file, want).await {
        Ok(proof) => CheckResult::pass(check, proof),
        Err(result) => result,
    }
}

async fn verify(
    backend: &dyn Backend,
    check: &str,
    file: &str,
    want: &Wanted,
) -> Result<String, CheckResult> {
    let fail = |message: String| CheckResult::fail(check, message);
    let script = backend.read_text(file).await.map_err(|fault| match fault {
        Fault::Cluster(why) => fail(format!(
            "{file} does not exist yet or cannot be read ({why})"
        )),
        Fault::Grader(_) => CheckResult::fault(check, &fault),
    })?;
    let join = Join::find(&script)
        .ok_or_else(|| fail(format!("{file} holds no `kubeadm join` command")))?;

    // The endpoint: where the new node finds the API server.
    let server = api_server(backend, check).await?;
    match join.endpoint.as_deref() {
        Some(endpoint) if endpoint == server => {}
        Some(endpoint) => {
            return Err(fail(format!(
                "the command joins {endpoint}, but the cluster's API server is {server}"
            )));
        }
        None => return Err(fail(format!("the command names no API server ({server})"))),
    }

    // The token: a live bootstrap token, usable for discovery and for the TLS bootstrap.
    let token = join
        .value("token")
        .or_else(|| join.value("discovery-token"))
        .ok_or_else(|| fail("the command has no --token".into()))?;
    let client = object::client(backend, check).await?;
    let secrets: Api<Secret> = Api::namespaced(client, "kube-system");
    let expires = live_token(&secrets, check, token, want.max_ttl_hours).await?;

    // The CA hash: the new node trusts only this cluster's CA.
    let ca = backend
        .read(CLUSTER_CA)
        .await
        .map_err(|fault| CheckResult::fault(check, &fault))?;
    let hash = pki::ca_cert_hash(&ca).map_err(|e| fail(format!("{CLUSTER_CA}: {e}")))?;
    let pinned = join.values("discovery-token-ca-cert-hash");
    if pinned.is_empty() {
        return Err(fail(
            if join.has("discovery-token-unsafe-skip-ca-verification") {
                "the command skips verifying the cluster CA: pin it with \
             --discovery-token-ca-cert-hash"
                    .into()
            } else {
                "the command has no --discovery-token-ca-cert-hash".into()
            },
        ));
    }
    if !pinned.contains(&hash.as_str()) {
        return Err(fail(format!(
            "--discovery-token-ca-cert-hash is not the hash of {CLUSTER_CA} ({hash})"
        )));
    }

    match (want.control_plane, join.has("control-plane")) {
        (true, false) => {
            return Err(fail(
                "the command joins a worker: it has no --control-plane (nor --certificate-key)"
                    .into(),
            ));
        }
        (false, true) => {
            return Err(fail(
                "the command joins a control-plane node, not a worker".into(),
            ));
        }
        (false, false) => return Ok(format!("joins {server} as a worker ({expires})")),
        (true, true) => {}
    }

    // The certificate key: it opens the certificates uploaded for the new control plane.
    let key = join.value("certificate-key").ok_or_else(|| {
        fail(
            "the command has no --certificate-key: the new control plane could not download \
             the cluster's certificates"
                .into(),
        )
    })?;
    let uploaded = secrets
        .get_opt(UPLOADED_CERTS)
        .await
        .map_err(|err| CheckResult::fault(check, &api::fault(&err)))?
        .ok_or_else(|| {
            fail(format!(
                "the certificates are not uploaded: Secret kube-system/{UPLOADED_CERTS} does \
                 not exist"
            ))
        })?;
    let sealed_ca = uploaded
        .data
        .as_ref()
        .and_then(|data| data.get("ca.crt"))
        .ok_or_else(|| {
            fail(format!(
                "Secret kube-system/{UPLOADED_CERTS} holds no ca.crt"
            ))
        })?;
    match pki::open_uploaded(key, &sealed_ca.0) {
        Ok(opened) if opened == ca => Ok(format!(
            "joins {server} as a control-plane node ({expires}); the CA is pinned and the \
             certificate key opens kube-system/{UPLOADED_CERTS}"
        )),
        Ok(_) => Err(fail(format!(
            "kube-system/{UPLOADED_CERTS} holds another CA than {CLUSTER_CA}"
        ))),
        Err(why) => Err(fail(format!(
            "the certificate key does not open kube-system/{UPLOADED_CERTS}: {why}"
        ))),
    }
}

/// The API server as the admin kubeconfig names it, `host:port`: what `kubeadm token create
/// --print-join-command` prints.
async fn api_server(backend: &dyn Backend, check: &str) -> Result<String, CheckResult> {
    let text = backend
        .read_text(ADMIN_KUBECONFIG)
        .await
        .map_err(|fault| CheckResult::fault(check, &fault))?;
    let kubeconfig: serde_json::Value = serde_saphyr::from_str(&text)
        .map_err(|e| CheckResult::invalid(check, format!("{ADMIN_KUBECONFIG} is not YAML: {e}")))?;
    kubeconfig["clusters"][0]["cluster"]["server"]
        .as_str()
        .map(|server| {
            let server = server.strip_prefix("https://").unwrap_or(server);
            server.trim_end_matches('/').to_string()
        })
        .ok_or_else(|| CheckResult::invalid(check, format!("{ADMIN_KUBECONFIG} names no server")))
}

/// Whether `token` (`<id>.<secret>`) is a bootstrap token the cluster holds, good for joining
/// and not expired (nor living longer than `max_hours`); when it expires, in words.
async fn live_token(
    secrets: &Api<Secret>,
    check: &str,
    token: &str,
    max_hours: Option<u32>,
) -> Result<String, CheckResult> {
    let fail = |message: String| CheckResult::fail(check, message);
    let (id, secret) = token
        .split_once('.')
        .filter(|(id, secret)| id.len() == 6 && secret.len() == 16)
        .ok_or_else(|| {
            fail(format!(
                "{token} is not a bootstrap token ([a-z0-9]{{6}}.[a-z0-9]{{16}})"
            ))
        })?;
    let stored = secrets
        .get_opt(&format!("bootstrap-token-{id}"))
        .await
        .map_err(|err| CheckResult::fault(check, &api::fault(&err)))?
        .ok_or_else(|| {
            fail(format!(
                "the cluster holds no bootstrap token {id} (see `kubeadm token list`)"
            ))
        })?;
    let data: BTreeMap<String, String> = stored
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, String::from_utf8_lossy(&value.0).into_owned()))
        .collect();
    let field = |key: &str| data.get(key).map(String::as_str).unwrap_or_default();
    if field("token-secret") != secret {
        return Err(fail(format!(
            "the secret half of token {id} is not the one the cluster holds"
        )));
    }
    for usage in ["authentication", "signing"] {
        if field(&format!("usage-bootstrap-{usage}")) != "true" {
            return Err(fail(format!(
                "token {id} is not for joining: its usages lack {usage}"
            )));
        }
    }
    let expiration = field("expiration");
    if expiration.is_empty() {
        return match max_hours {
            Some(hours) => Err(fail(format!(
                "token {id} never expires; it must expire within {hours} hours"
            ))),
            None => Ok(format!("token {id} never expires")),
        };
    }
    let expires: jiff::Timestamp = expiration.parse().map_err(|_| {
        fail(format!(
            "token {id} has an unreadable expiration: {expiration}"
        ))
    })?;
    let now = jiff::Timestamp::now();
    let shown = expires.strftime("%Y-%m-%d %H:%M UTC");
    if expires <= now {
        return Err(fail(format!("token {id} expired at {shown}")));
    }
    if let Some(hours) = max_hours
        && expires.duration_since(now) > jiff::SignedDuration::from_hours(i64::from(hours))
    {
        return Err(fail(format!(
            "token {id} is valid until {shown}: it must expire within {hours} hours"
        )));
    }
    Ok(format!("token {id} valid until {shown}"))
}

/// The words of a `kubeadm join` command line.
#[derive(Debug, PartialEq)]
struct Join {
    /// The API server, `host:port`.
    endpoint: Option<String>,
    /// Flags without their dashes, in order, with their values.
    flags: Vec<(String, Option<String>)>,
}

impl Join {
    /// The first `kubeadm join` of a script: its continued lines joined, comments skipped, a
    /// leading `sudo` or a path to kubeadm allowed.
    fn find(script: &str) -> Option<Join> {
        let script = script.replace("\\\n", " ");
        script
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .find_map(|line| {
                let words = command_line::split(line)?;
                let at = words.windows(2).position(|pair| {
                    pair[0].rsplit('/').next() == Some("kubeadm") && pair[1] == "join"
                })?;
                Some(Join::parse(&words[at + 2..]))
            })
    }

    fn parse(words: &[String]) -> Join {
        let mut join = Join {
            endpoint: None,
            flags: Vec::new(),
        };
        let mut words = words.iter();
        while let Some(word) = words.next() {
            let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) else {
                join.endpoint.get_or_insert_with(|| word.clone());
                continue;
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None if SWITCHES.contains(&flag) => (flag.to_string(), None),
                None => (flag.to_string(), words.next().cloned()),
            };
            join.flags.push((name, value));
        }
        join
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|(name, _)| name == flag)
    }

    fn values(&self, flag: &str) -> Vec<&str> {
        self.flags
            .iter()
            .filter(|(name, _)| name == flag)
            .filter_map(|(_, value)| value.as_deref())
            .collect()
    }

    fn value(&self, flag: &str) -> Option<&str> {
        self.values(flag).into_iter().next_back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeadm_s_own_line_is_read() {
        let printed = "kubeadm join 127.0.0.1:36701 --token mf59a7.2fu4c189b1uq3q8r \
            --discovery-token-ca-cert-hash sha256:5496 --control-plane --certificate-key ed02\n";
        let join = Join::find(printed).expect("a join line");
        assert_eq!(join.endpoint.as_deref(), Some("127.0.0.1:36701"));
        assert_eq!(join.value("token"), Some("mf59a7.2fu4c189b1uq3q8r"));
        assert_eq!(join.values("discovery-token-ca-cert-hash"), ["sha256:5496"]);
        assert!(join.has("control-plane"));
        assert_eq!(join.value("certificate-key"), Some("ed02"));
    }

    #[test]
    fn a_script_with_sudo_continued_lines_and_equals_signs_reads_the_same() {
        let script = "#!/bin/sh\n# kubeadm join is below\nset -e\n\
            sudo /usr/bin/kubeadm join \\\n  --control-plane \\\n  \
            --token=mf59a7.2fu4c189b1uq3q8r 127.0.0.1:36701 \\\n  \
            --certificate-key 'ed02' --discovery-token-ca-cert-hash=sha256:5496\n";
        let join = Join::find(script).expect("a join line");
        let printed = Join::find(
            "kubeadm join 127.0.0.1:36701 --token mf59a7.2fu4c189b1uq3q8r \
             --discovery-token-ca-cert-hash sha256:5496 --control-plane --certificate-key ed02",
        )
        .expect("a join line");
        assert_eq!(join.endpoint, printed.endpoint);
        for flag in [
            "token",
            "discovery-token-ca-cert-hash",
            "certificate-key",
            "control-plane",
        ] {
            assert_eq!(join.values(flag), printed.values(flag), "{flag}");
            assert_eq!(join.has(flag), printed.has(flag), "{flag}");
        }
    }

    #[test]
    fn no_join_no_command() {
        assert_eq!(Join::find("kubeadm token list\n# kubeadm join x\n"), None);
        assert_eq!(Join::find(""), None);
    }
}
