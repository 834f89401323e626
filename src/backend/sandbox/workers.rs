//! The worker nodes `node01` and `node02`, simulated by kwok (the real binary, built from its
//! Go module): they register as Nodes through the real API, kwok keeps them Ready with their
//! Leases renewed, and moves the pods the real scheduler binds to them through their lives with
//! its default stages (Running with a pod IP, a Job's pod Completed, a deleted pod gone).
//! No container runs: there is no traffic, exec or DNS inside these pods.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The simulated workers, with the InternalIP each reports.
pub const WORKERS: [(&str, &str); 2] = [("node01", "172.18.0.3"), ("node02", "172.18.0.4")];
/// The annotation kwok is told to manage nodes by.
const MANAGED: (&str, &str) = ("kwok.x-k8s.io/node", "fake");
/// How soon a kwok that exited (the API server not up yet, say) is started again.
const RESTART: Duration = Duration::from_secs(2);

/// kwok, run for the node's workers as the agent runs containerd.
pub struct Workers {
    kubeconfig: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    start_at: Instant,
}

impl Workers {
    /// kwok talks to the API server with `kubeconfig` and writes its log to `log`.
    pub fn new(kubeconfig: PathBuf, log: PathBuf) -> Workers {
        Workers {
            kubeconfig,
            log,
            child: None,
            start_at: Instant::now(),
        }
    }

    /// Starts kwok when it is not running and its restart is due.
    pub fn tick(&mut self) {
        if let Some(child) = self.child.as_mut() {
            match child.try_wait() {
                Ok(None) => return,
                _ => {
                    self.child = None;
                    self.start_at = Instant::now() + RESTART;
                }
            }
        }
        if Instant::now() < self.start_at {
            return;
        }
        self.start_at = Instant::now() + RESTART;
        let (Some(kwok), Some(stages)) = (
            crate::binaries::find("kwok"),
            crate::binaries::find(crate::binaries::KWOK_STAGES),
        ) else {
            self.note(&format!(
                "kwok is not built: no worker nodes (run {})",
                crate::binaries::BUILD_COMMAND
            ));
            return;
        };
        let log = match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
        {
            Ok(file) => file,
            Err(_) => return,
        };
        let spawned = Command::new(kwok)
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()))
            .arg(format!("--config={}", stages.display()))
            .arg(format!(
                "--manage-nodes-with-annotation-selector={}={}",
                MANAGED.0, MANAGED.1
            ))
            .arg("--node-lease-duration-seconds=40")
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_or_else(|_| Stdio::null(), Stdio::from))
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn();
        match spawned {
            Ok(child) => self.child = Some(child),
            Err(e) => self.note(&format!("kwok did not start: {e}")),
        }
    }

    fn note(&self, line: &str) {
        use std::io::Write;
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
        {
            let _ = writeln!(file, "{} {line}", crate::clock::now());
        }
    }

    /// Stops kwok, waiting at most `grace` before it is killed.
    pub async fn shutdown(&mut self, grace: Duration) {
        if let Some(child) = self.child.take() {
            super::agent::terminate(child, grace).await;
        }
    }
}

/// The Node a worker's kubelet registers: labelled as kubeadm's workers are, with its address
/// and versions in its status (kwok keeps what the status already says).
pub fn node_object(name: &str, ip: &str, kubelet_version: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {MANAGED.0: MANAGED.1},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
            },
        },
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "nodeInfo": {
                "kubeletVersion": kubelet_version,
                "kubeProxyVersion": kubelet_version,
                "containerRuntimeVersion": "containerd://1.7",
                "kernelVersion": "simulated by kwok",
                "osImage": "ckalab sandbox worker",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    })
}

/// The node path of kwok's log, under the ckalab-owned part of the controlplane node.
pub fn log_path(root: &Path) -> PathBuf {
    root.join("var/lib/ckalab/workers.log")
}
