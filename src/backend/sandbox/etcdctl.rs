//! The real `etcdctl` and `etcdutl` (etcd 3.6, built from Go modules), run against a sandbox
//! node's etcd: the same tools the learner uses, so what ckalab writes and reads is exactly
//! what they see.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// How to reach an etcd: endpoints and the client certificate files (host paths).
#[derive(Debug, Clone)]
pub struct Etcdctl {
    pub endpoints: String,
    pub cacert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EtcdctlError {
    /// The binary is not built.
    #[error(
        "{0} is not built yet\nhint: bash scripts/build-k8s.sh builds etcd 3.6 and its tools from Go modules"
    )]
    Missing(&'static str),
    /// etcdctl ran and failed; its own words.
    #[error("{0}")]
    Failed(String),
}

impl Etcdctl {
    /// The node's etcd, as the API server reaches it (its etcd client certificate).
    pub fn for_node(root: &Path, client_port: u16) -> Etcdctl {
        let pki = root.join("etc/kubernetes/pki");
        Etcdctl {
            endpoints: format!("https://{}:{client_port}", super::files::NODE_IP),
            cacert: pki.join("etcd/ca.crt"),
            cert: pki.join("apiserver-etcd-client.crt"),
            key: pki.join("apiserver-etcd-client.key"),
        }
    }

    /// Runs `etcdctl <args>` with this endpoint and certificates; stdout on success.
    pub async fn run(&self, args: &[&str]) -> Result<String, EtcdctlError> {
        let mut cmd = Command::new(tool("etcdctl")?);
        cmd.arg(format!("--endpoints={}", self.endpoints))
            .arg(format!("--cacert={}", self.cacert.display()))
            .arg(format!("--cert={}", self.cert.display()))
            .arg(format!("--key={}", self.key.display()))
            .args(["--dial-timeout=2s", "--command-timeout=3s"])
            .args(args);
        run(cmd).await
    }

    pub async fn health(&self) -> Result<(), EtcdctlError> {
        self.run(&["endpoint", "health"]).await.map(drop)
    }

    pub async fn snapshot_save(&self, to: &Path) -> Result<(), EtcdctlError> {
        let to = to.display().to_string();
        self.run(&["snapshot", "save", &to]).await.map(drop)
    }
}

/// A built etcd tool.
fn tool(name: &'static str) -> Result<PathBuf, EtcdctlError> {
    crate::binaries::find(name).ok_or(EtcdctlError::Missing(name))
}

/// `etcdutl snapshot restore` (etcd 3.6 restores with etcdutl; etcdctl's restore is gone) into
/// a new data directory.
pub async fn snapshot_restore(snapshot: &Path, data_dir: &Path) -> Result<(), EtcdctlError> {
    let mut cmd = Command::new(tool("etcdutl")?);
    cmd.args(["snapshot", "restore"])
        .arg(snapshot)
        .arg(format!("--data-dir={}", data_dir.display()));
    run(cmd).await.map(drop)
}

async fn run(mut cmd: Command) -> Result<String, EtcdctlError> {
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    let output = match tokio::time::timeout(Duration::from_secs(10), cmd.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(err)) => return Err(EtcdctlError::Failed(err.to_string())),
        Err(_) => {
            return Err(EtcdctlError::Failed(
                "etcdctl did not answer within 10 s".into(),
            ));
        }
    };
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let text = if stderr.trim().is_empty() {
            stdout
        } else {
            stderr
        };
        Err(EtcdctlError::Failed(
            text.trim()
                .lines()
                .last()
                .unwrap_or("etcdctl failed")
                .to_string(),
        ))
    }
}
