//! A backend for the engine's unit tests: a node whose answers each test sets, and an API
//! server mocked with tower-test that answers by path, failing the way hyper-util does.

use std::collections::{BTreeMap, VecDeque};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use http::{Request, Response, StatusCode};
use kube::client::Body;

use super::cluster::Cluster;
use super::fault::Fault;
use super::node::{Node, PodStatus, UnitAction, UnitStatus};
use crate::catalog::{BackendKind, NodeLayout};

/// What the mock API server does with a request.
#[derive(Clone)]
pub enum Reply {
    /// Answers with a status and a body.
    Answer(StatusCode, &'static str),
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

/// A client whose API server answers each path from `routes` (404 for any other path), for as
/// long as the test's runtime runs.
pub fn mock_client(routes: Vec<(&'static str, Reply)>) -> kube::Client {
    recording_client(routes).0
}

/// The same, and every request it got, as `METHOD path body`.
pub fn recording_client(
    routes: Vec<(&'static str, Reply)>,
) -> (kube::Client, Arc<Mutex<Vec<String>>>) {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    tokio::spawn(async move {
        while let Some((request, send)) = handle.next_request().await {
            let path = request.uri().path().to_string();
            let method = request.method().to_string();
            let body = request
                .into_body()
                .collect_bytes()
                .await
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            seen.lock()
                .expect("lock")
                .push(format!("{method} {path} {body}"));
            let reply = routes
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, r)| r.clone())
                .unwrap_or(Reply::Answer(StatusCode::NOT_FOUND, NOT_FOUND));
            match reply {
                Reply::Answer(status, body) => send.send_response(
                    Response::builder()
                        .status(status)
                        .body(Body::from(body.as_bytes().to_vec()))
                        .expect("response"),
                ),
                Reply::Refuse => send.send_error(ConnectError(std::io::Error::new(
                    std::io::ErrorKind::ConnectionRefused,
                    "tcp connect error: Connection refused (os error 111)",
                ))),
                Reply::ExpiredCertificate => send.send_error(ConnectError(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "invalid peer certificate: certificate expired: verification time 1795600000 (UNIX), but certificate is not valid after 1795500000 (UNIX)",
                ))),
            }
        }
    });
    (kube::Client::new(service, "default"), requests)
}

const NOT_FOUND: &str = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}"#;

/// A node and cluster whose every answer the test chose. What a test did not set is the
/// grader's fault (INVALID), so a test that forgets one sees it.
pub struct FakeBackend {
    pub layout: NodeLayout,
    pub client: Option<kube::Client>,
    /// Successive answers of `etcd_health`; the last one repeats.
    pub etcd: Mutex<VecDeque<Result<String, Fault>>>,
    pub units: BTreeMap<String, UnitStatus>,
    pub files: Mutex<BTreeMap<String, Vec<u8>>>,
}

impl FakeBackend {
    pub fn new(client: Option<kube::Client>) -> FakeBackend {
        FakeBackend {
            layout: NodeLayout::kind("ckalab"),
            client,
            etcd: Mutex::new(VecDeque::from([Ok("healthy".to_string())])),
            units: BTreeMap::new(),
            files: Mutex::new(BTreeMap::new()),
        }
    }

    /// containerd and the kubelet active, as on a healthy node.
    pub fn units_running(mut self) -> FakeBackend {
        for unit in ["containerd", "kubelet"] {
            let running = UnitStatus {
                active: "active".into(),
                sub: "running".into(),
            };
            self.units.insert(unit.into(), running);
        }
        self
    }

    pub fn etcd_answers(self, answers: Vec<Result<String, Fault>>) -> FakeBackend {
        *self.etcd.lock().expect("lock") = answers.into();
        self
    }
}

fn unset(what: &str) -> Fault {
    Fault::grader(format!("the test did not set {what}"))
}

#[async_trait]
impl Node for FakeBackend {
    async fn read(&self, path: &str) -> Result<Vec<u8>, Fault> {
        self.files
            .lock()
            .expect("lock")
            .get(path)
            .cloned()
            .ok_or_else(|| Fault::cluster(format!("{path}: no such file or directory")))
    }
    async fn write(&self, path: &str, bytes: &[u8]) -> Result<(), Fault> {
        self.files
            .lock()
            .expect("lock")
            .insert(path.to_string(), bytes.to_vec());
        Ok(())
    }
    async fn is_dir(&self, _: &str) -> Result<bool, Fault> {
        Ok(false)
    }
    async fn copy(&self, _: &str, _: &str) -> Result<(), Fault> {
        Err(unset("copy"))
    }
    async fn rename(&self, _: &str, _: &str) -> Result<(), Fault> {
        Err(unset("rename"))
    }
    async fn remove(&self, path: &str) -> Result<(), Fault> {
        let mut files = self.files.lock().expect("lock");
        files.retain(|p, _| p != path && !p.starts_with(&format!("{path}/")));
        Ok(())
    }
    async fn exec(&self, _: &[String], _: Duration) -> Result<Output, Fault> {
        Err(unset("exec"))
    }
    async fn unit_status(&self, unit: &str) -> Result<UnitStatus, Fault> {
        self.units.get(unit).cloned().ok_or_else(|| unset(unit))
    }
    async fn unit(&self, unit: &str, _: UnitAction) -> Result<(), Fault> {
        Err(unset(unit))
    }
    async fn static_pod(&self, name: &str) -> Result<PodStatus, Fault> {
        Err(unset(name))
    }
    async fn restart_static_pod(&self, name: &str) -> Result<(), Fault> {
        Err(unset(name))
    }
    async fn cri_version(&self, _: &str) -> Result<String, Fault> {
        Err(unset("the runtime"))
    }
    async fn etcd_health(&self) -> Result<String, Fault> {
        let mut answers = self.etcd.lock().expect("lock");
        match answers.len() {
            0 => Err(unset("etcd")),
            1 => answers[0].clone(),
            _ => answers.pop_front().unwrap_or_else(|| Err(unset("etcd"))),
        }
    }
    async fn etcd_snapshot_save(&self, _: &str) -> Result<(), Fault> {
        Err(unset("etcd"))
    }
    async fn etcd_snapshot_restore(&self, _: &str, _: &str) -> Result<(), Fault> {
        Err(unset("etcd"))
    }
    fn shell(&self, _: Option<&str>) -> (std::process::Command, String) {
        (std::process::Command::new("true"), String::new())
    }
    fn is_running(&self) -> bool {
        true
    }
}

#[async_trait]
impl Cluster for FakeBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Kind
    }
    fn layout(&self) -> &NodeLayout {
        &self.layout
    }
    fn describe(&self) -> String {
        "fake node".into()
    }
    async fn client(&self) -> Result<kube::Client, Fault> {
        self.client
            .clone()
            .ok_or_else(|| Fault::grader("no kubeconfig in this test"))
    }
}
