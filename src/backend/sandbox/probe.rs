//! The kubelet's probes of a static pod's container, as its manifest declares them: a startup
//! probe first, then liveness (failing it restarts the container) and readiness (the mirror
//! pod's Ready condition). An HTTP(S) GET passes on a status from 200 to 399, a TCP probe when
//! it connects; like the kubelet, an HTTPS probe does not verify the server's certificate.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// A probe as a manifest declares it, with its port resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub action: Action,
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Http {
        https: bool,
        host: String,
        port: u16,
        path: String,
    },
    Tcp {
        host: String,
        port: u16,
    },
}

/// The three probes of a container.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Probes {
    pub startup: Option<Probe>,
    pub liveness: Option<Probe>,
    pub readiness: Option<Probe>,
}

/// A probe in a manifest, before its port is resolved.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    http_get: Option<HttpGet>,
    tcp_socket: Option<TcpSocket>,
    #[serde(default)]
    initial_delay_seconds: u64,
    period_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
    failure_threshold: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct HttpGet {
    host: Option<String>,
    #[serde(default)]
    path: String,
    port: serde_json::Value,
    scheme: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TcpSocket {
    host: Option<String>,
    port: serde_json::Value,
}

impl Spec {
    /// The probe, with a named port looked up in the container's `ports`; `None` when its port
    /// names none (the kubelet would fail it the same way every time).
    pub fn resolve(&self, named: &dyn Fn(&str) -> Option<u16>) -> Option<Probe> {
        let port = |value: &serde_json::Value| match value {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            serde_json::Value::String(s) => s.parse().ok().or_else(|| named(s)),
            _ => None,
        };
        // A pod on the host network is probed at the node's address.
        let host = |h: &Option<String>| h.clone().unwrap_or_else(|| super::files::NODE_IP.into());
        let action = match (&self.http_get, &self.tcp_socket) {
            (Some(http), _) => Action::Http {
                https: http.scheme.as_deref() == Some("HTTPS"),
                host: host(&http.host),
                port: port(&http.port)?,
                path: if http.path.is_empty() {
                    "/".into()
                } else {
                    http.path.clone()
                },
            },
            (None, Some(tcp)) => Action::Tcp {
                host: host(&tcp.host),
                port: port(&tcp.port)?,
            },
            (None, None) => return None,
        };
        Some(Probe {
            action,
            initial_delay: Duration::from_secs(self.initial_delay_seconds),
            period: Duration::from_secs(self.period_seconds.unwrap_or(10).max(1)),
            timeout: Duration::from_secs(self.timeout_seconds.unwrap_or(1).max(1)),
            failure_threshold: self.failure_threshold.unwrap_or(3).max(1),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Startup,
    Liveness,
    Readiness,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Startup => "Startup",
            Kind::Liveness => "Liveness",
            Kind::Readiness => "Readiness",
        }
    }
}

/// What a probe round tells the kubelet to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changes.
    Carry,
    /// A startup or liveness probe failed its threshold: restart the container. Carries the
    /// probe and what its last attempt said.
    Restart(Kind, String),
}

/// The probes of one running container: when each is due, and how many times in a row each
/// has failed.
pub struct ProbeRun {
    probes: Probes,
    started: bool,
    ready: bool,
    failures: [u32; 3],
    due: [Instant; 3],
    in_flight: Option<(Kind, JoinHandle<Result<(), String>>)>,
}

fn slot(kind: Kind) -> usize {
    kind as usize
}

impl ProbeRun {
    /// The probes of a container that started just now.
    pub fn new(probes: Probes) -> ProbeRun {
        let now = Instant::now();
        let first =
            |p: &Option<Probe>| now + p.as_ref().map_or(Duration::ZERO, |p| p.initial_delay);
        ProbeRun {
            started: probes.startup.is_none(),
            ready: false,
            failures: [0; 3],
            due: [
                first(&probes.startup),
                first(&probes.liveness),
                first(&probes.readiness),
            ],
            in_flight: None,
            probes,
        }
    }

    /// Ready, as the mirror pod's condition: started, and its readiness probe (if any) passing.
    pub fn ready(&self) -> bool {
        self.started && (self.probes.readiness.is_none() || self.ready)
    }

    fn probe(&self, kind: Kind) -> Option<&Probe> {
        match kind {
            Kind::Startup => self.probes.startup.as_ref(),
            Kind::Liveness => self.probes.liveness.as_ref(),
            Kind::Readiness => self.probes.readiness.as_ref(),
        }
    }

    /// Collects a finished probe and starts the next one due; never waits on the network.
    pub async fn tick(&mut self) -> Verdict {
        let mut verdict = Verdict::Carry;
        if let Some((kind, task)) = self.in_flight.take_if(|(_, task)| task.is_finished()) {
            let result = task.await.unwrap_or_else(|e| Err(e.to_string()));
            verdict = self.record(kind, result);
        }
        if self.in_flight.is_none()
            && let Some(kind) = self.next_due()
            && let Some(probe) = self.probe(kind).cloned()
        {
            self.due[slot(kind)] = Instant::now() + probe.period;
            self.in_flight = Some((kind, tokio::spawn(run(probe))));
        }
        verdict
    }

    fn next_due(&self) -> Option<Kind> {
        let now = Instant::now();
        let kinds: &[Kind] = if self.started {
            &[Kind::Liveness, Kind::Readiness]
        } else {
            &[Kind::Startup]
        };
        kinds
            .iter()
            .copied()
            .filter(|k| self.probe(*k).is_some() && self.due[slot(*k)] <= now)
            .min_by_key(|k| self.due[slot(*k)])
    }

    fn record(&mut self, kind: Kind, result: Result<(), String>) -> Verdict {
        let threshold = self.probe(kind).map_or(1, |p| p.failure_threshold);
        let failures = &mut self.failures[slot(kind)];
        let why = match result {
            Ok(()) => {
                *failures = 0;
                match kind {
                    Kind::Startup => self.started = true,
                    Kind::Readiness => self.ready = true,
                    Kind::Liveness => {}
                }
                return Verdict::Carry;
            }
            Err(why) => why,
        };
        *failures += 1;
        if *failures < threshold {
            return Verdict::Carry;
        }
        match kind {
            Kind::Readiness => {
                self.ready = false;
                Verdict::Carry
            }
            _ => Verdict::Restart(kind, why),
        }
    }
}

impl Drop for ProbeRun {
    /// A probe in flight ends with its container.
    fn drop(&mut self) {
        if let Some((_, task)) = self.in_flight.take() {
            task.abort();
        }
    }
}

/// One probe, within its timeout.
async fn run(probe: Probe) -> Result<(), String> {
    let attempt = async {
        match &probe.action {
            Action::Tcp { host, port } => TcpStream::connect((host.as_str(), *port))
                .await
                .map(drop)
                .map_err(|e| format!("dial tcp {host}:{port}: {}", go_error(&e))),
            Action::Http {
                https,
                host,
                port,
                path,
            } => http_get(*https, host, *port, path).await,
        }
    };
    tokio::time::timeout(probe.timeout, attempt)
        .await
        .map_err(|_| {
            "context deadline exceeded (Client.Timeout exceeded while awaiting headers)".into()
        })
        .and_then(|r| r)
}

/// GET `path`, as the kubelet's prober does: a status from 200 to 399 passes.
async fn http_get(https: bool, host: &str, port: u16, path: &str) -> Result<(), String> {
    let scheme = if https { "https" } else { "http" };
    let url = format!("{scheme}://{host}:{port}{path}");
    let tcp = TcpStream::connect((host, port))
        .await
        .map_err(|e| format!("Get \"{url}\": dial tcp {host}:{port}: {}", go_error(&e)))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: kube-probe/1.35\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    let response = if https {
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| format!("Get \"{url}\": {e}"))?;
        let mut tls = tokio_rustls::TlsConnector::from(insecure_tls()?)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("Get \"{url}\": {e}"))?;
        exchange(&mut tls, &request).await
    } else {
        let mut tcp = tcp;
        exchange(&mut tcp, &request).await
    }
    .map_err(|e| format!("Get \"{url}\": {e}"))?;
    let status: u16 = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("Get \"{url}\": malformed HTTP response"))?;
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP probe failed with statuscode: {status}"))
    }
}

/// A connection error in the words Go's net package uses, as the kubelet's events show them.
fn go_error(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".into(),
        std::io::ErrorKind::TimedOut => "i/o timeout".into(),
        _ => err.to_string(),
    }
}

/// Sends the request and reads the status line.
async fn exchange<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
    stream: &mut S,
    request: &str,
) -> Result<String, String> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = vec![0; 64];
    let read = stream.read(&mut head).await.map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&head[..read]).into_owned())
}

/// TLS that accepts any server certificate, as the kubelet's HTTPS probes do.
fn insecure_tls() -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, Error, SignatureScheme};

    #[derive(Debug)]
    struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot HTTP server on loopback answering every request with `status`.
    async fn server(status: u16) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut request = [0; 512];
                let _ = stream.read(&mut request).await;
                let reply = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                let _ = stream.write_all(reply.as_bytes()).await;
            }
        });
        port
    }

    fn http(port: u16, threshold: u32) -> Probe {
        Probe {
            action: Action::Http {
                https: false,
                host: "127.0.0.1".into(),
                port,
                path: "/livez".into(),
            },
            initial_delay: Duration::ZERO,
            period: Duration::from_millis(1),
            timeout: Duration::from_secs(1),
            failure_threshold: threshold,
        }
    }

    /// Ticks the kubelet's loop `ticks` times (a probe a tick at most), returning the first
    /// restart verdict.
    async fn rounds(run: &mut ProbeRun, ticks: usize) -> Verdict {
        for _ in 0..ticks {
            let verdict = run.tick().await;
            if verdict != Verdict::Carry {
                return verdict;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Verdict::Carry
    }

    #[tokio::test]
    async fn a_status_from_200_to_399_passes_and_500_fails_with_its_code() {
        assert_eq!(run(http(server(200).await, 1)).await, Ok(()));
        assert_eq!(run(http(server(302).await, 1)).await, Ok(()));
        assert_eq!(
            run(http(server(500).await, 1)).await,
            Err("HTTP probe failed with statuscode: 500".into())
        );
    }

    #[tokio::test]
    async fn liveness_restarts_only_at_its_failure_threshold_and_readiness_never() {
        let failing = server(500).await;
        let mut run = ProbeRun::new(Probes {
            liveness: Some(http(failing, 3)),
            ..Probes::default()
        });
        match rounds(&mut run, 20).await {
            Verdict::Restart(kind, why) => {
                assert_eq!(kind, Kind::Liveness);
                assert_eq!(why, "HTTP probe failed with statuscode: 500");
            }
            Verdict::Carry => panic!("three failures in a row restart the container"),
        }
        assert_eq!(run.failures[slot(Kind::Liveness)], 3);

        let mut run = ProbeRun::new(Probes {
            readiness: Some(http(failing, 1)),
            ..Probes::default()
        });
        assert_eq!(rounds(&mut run, 5).await, Verdict::Carry);
        assert!(!run.ready(), "a failing readiness probe: not Ready");
    }

    #[tokio::test]
    async fn liveness_and_readiness_wait_for_the_startup_probe() {
        let up = server(200).await;
        let mut run = ProbeRun::new(Probes {
            startup: Some(http(up, 1)),
            readiness: Some(http(up, 1)),
            ..Probes::default()
        });
        assert!(!run.ready(), "not Ready before the startup probe passed");
        rounds(&mut run, 5).await;
        assert!(run.started && run.ready());
    }
}
