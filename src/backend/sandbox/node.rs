use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::files;
use super::state::{NodeState, StateFiles, UnitAction, write_atomic};
use crate::catalog::{NodeLayout, Ports};
use crate::home::Home;

/// The one sandbox node ckalab builds.
pub const NODE_NAME: &str = "controlplane";

/// A unix socket path is at most 107 bytes; containerd's lives deepest in the node.
const MAX_SOCKET_PATH: usize = 107;

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A program the sandbox runs is not installed.
    #[error("{tool} is not installed, and the sandbox node runs the real one\nhint: {install}")]
    MissingTool {
        tool: &'static str,
        install: &'static str,
    },
    /// The node directory is too deep for containerd's unix socket.
    #[error(
        "the sandbox directory {0} is too long for a unix socket path\nhint: set CKALAB_HOME to a shorter directory, e.g. export CKALAB_HOME=~/.ckalab"
    )]
    PathTooLong(PathBuf),
    /// Building the node's files failed.
    #[error(
        "cannot build the sandbox node in {path}: {reason}\nhint: check free disk space and permissions, then `ckalab reset`"
    )]
    Build { path: PathBuf, reason: String },
    /// The agent did not come up.
    #[error(
        "the sandbox node did not become healthy: {reason}\nhint: read {log} and the journals under {journals}; `ckalab doctor` checks the tools"
    )]
    Unhealthy {
        reason: String,
        log: PathBuf,
        journals: PathBuf,
    },
    /// No node has been built yet.
    #[error("no sandbox node exists yet\nhint: `ckalab start <lab>` builds one")]
    Absent,
}

#[derive(Debug, Clone)]
pub struct SandboxNode {
    root: PathBuf,
    ports: Ports,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct NodeFile {
    apiserver: u16,
    etcd_client: u16,
    etcd_peer: u16,
    #[serde(default)]
    controller_manager: u16,
    #[serde(default)]
    scheduler: u16,
}

impl SandboxNode {
    pub fn dir(home: &Home) -> PathBuf {
        home.sandbox_dir().join(NODE_NAME)
    }

    /// The existing node, if one was built.
    pub fn open(home: &Home) -> Result<SandboxNode, SandboxError> {
        Self::open_at(Self::dir(home))
    }

    /// The existing node in `root` (an exam gives each task its own node directory).
    pub fn open_at(root: PathBuf) -> Result<SandboxNode, SandboxError> {
        let text = std::fs::read_to_string(root.join("var/lib/ckalab/node.json"))
            .map_err(|_| SandboxError::Absent)?;
        let file: NodeFile = serde_json::from_str(&text).map_err(|_| SandboxError::Absent)?;
        Ok(SandboxNode {
            root,
            ports: Ports {
                apiserver: file.apiserver,
                etcd_client: file.etcd_client,
                etcd_peer: file.etcd_peer,
                controller_manager: file.controller_manager,
                scheduler: file.scheduler,
            },
        })
    }

    /// The tools a node needs, each with how to get it: etcd 3.6 and its tools are built from
    /// Go modules, containerd comes from the distribution.
    pub fn check_tools() -> Result<(), SandboxError> {
        for tool in ["etcd", "etcdctl", "etcdutl"] {
            if crate::binaries::find(tool).is_none() {
                return Err(SandboxError::MissingTool {
                    tool,
                    install: "bash scripts/build-k8s.sh (builds etcd 3.6 and the Kubernetes v1.35 binaries from Go modules)",
                });
            }
        }
        if crate::doctor::find_in_path("containerd").is_none() {
            return Err(SandboxError::MissingTool {
                tool: "containerd",
                install: "sudo apt-get install -y containerd",
            });
        }
        Ok(())
    }

    /// Builds a fresh node, replacing (after stopping) any node already there.
    pub fn create(home: &Home) -> Result<SandboxNode, SandboxError> {
        Self::create_at(Self::dir(home))
    }

    /// Builds a fresh node in `root`, replacing any node there.
    pub fn create_at(root: PathBuf) -> Result<SandboxNode, SandboxError> {
        Self::check_tools()?;
        if let Ok(old) = Self::open_at(root.clone()) {
            old.stop_agent();
        } else {
            // A half-built node (interrupted start) may still have an agent pid file.
            stop_agent_at(&root);
        }
        let root_text = root.display().to_string();
        if root_text.len() + files::CONTAINERD_SOCKET.len() + ".ttrpc".len() > MAX_SOCKET_PATH {
            return Err(SandboxError::PathTooLong(root));
        }
        let build = |reason: String| SandboxError::Build {
            path: root.clone(),
            reason,
        };
        if root.exists() {
            std::fs::remove_dir_all(&root)
                .map_err(|e| build(format!("cannot remove the old node: {e}")))?;
        }
        let ports = free_ports().map_err(|e| build(format!("no free ports: {e}")))?;
        let node = SandboxNode {
            root: root.clone(),
            ports,
        };
        node.write_files().map_err(build)?;
        Ok(node)
    }

    fn write_files(&self) -> Result<(), String> {
        let write = |node_path: &str, text: &str| {
            write_atomic(&self.path(node_path), text.as_bytes())
                .map_err(|e| format!("{node_path}: {e}"))
        };
        for dir in [
            "/var/lib/etcd",
            "/var/backups/etcd",
            "/root",
            "/etc/ssl/certs",
            "/run/containerd",
            "/var/log/pods",
            "/var/lib/ckalab/units",
        ] {
            std::fs::create_dir_all(self.path(dir)).map_err(|e| format!("{dir}: {e}"))?;
        }
        // etcd refuses a data directory others can read.
        set_mode(&self.path("/var/lib/etcd"), 0o700)?;
        let identity = crate::pki::NodeIdentity {
            node_name: NODE_NAME.to_string(),
            node_ip: files::NODE_IP
                .parse()
                .map_err(|_| "bad node ip".to_string())?,
        };
        crate::pki::create_node_pki(
            &self.path("/etc/kubernetes/pki"),
            &identity,
            std::time::SystemTime::now(),
        )
        .map_err(|e| e.to_string())?;
        write(
            "/etc/kubernetes/manifests/etcd.yaml",
            &files::etcd_manifest(NODE_NAME, &self.ports),
        )?;
        write(
            "/etc/kubernetes/manifests/kube-apiserver.yaml",
            &files::apiserver_manifest(&self.ports),
        )?;
        write(
            "/etc/kubernetes/manifests/kube-controller-manager.yaml",
            &files::controller_manager_manifest(&self.ports),
        )?;
        write(
            "/etc/kubernetes/manifests/kube-scheduler.yaml",
            &files::scheduler_manifest(&self.ports),
        )?;
        write(
            "/etc/containerd/config.toml",
            &files::containerd_config(&self.root.display().to_string()),
        )?;
        write(crate::kubelet::CONFIG_FILE, &files::kubelet_config())?;
        write(crate::kubelet::FLAGS_FILE, files::KUBEADM_FLAGS)?;
        write("/etc/crictl.yaml", &files::crictl_config())?;
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find ckalab's own binary: {e}"))?;
        super::shell::install_shims(&self.root, &exe)
            .map_err(|e| format!("{}: {e}", super::shell::BIN_DIR))?;
        let read = |p: &str| std::fs::read_to_string(self.path(p)).map_err(|e| format!("{p}: {e}"));
        let ca = read("/etc/kubernetes/pki/ca.crt")?;
        for (file, user, identity) in [
            ("admin.conf", "kubernetes-admin", "apiserver-kubelet-client"),
            ("super-admin.conf", "kubernetes-super-admin", "super-admin"),
            (
                "controller-manager.conf",
                "system:kube-controller-manager",
                "controller-manager",
            ),
            ("scheduler.conf", "system:kube-scheduler", "scheduler"),
        ] {
            let kubeconfig = files::admin_kubeconfig(
                user,
                &self.ports,
                &ca,
                &read(&format!("/etc/kubernetes/pki/{identity}.crt"))?,
                &read(&format!("/etc/kubernetes/pki/{identity}.key"))?,
            );
            write(&format!("/etc/kubernetes/{file}"), &kubeconfig)?;
        }
        let node_file = NodeFile {
            apiserver: self.ports.apiserver,
            etcd_client: self.ports.etcd_client,
            etcd_peer: self.ports.etcd_peer,
            controller_manager: self.ports.controller_manager,
            scheduler: self.ports.scheduler,
        };
        write(
            "/var/lib/ckalab/node.json",
            &serde_json::to_string_pretty(&node_file).map_err(|e| e.to_string())?,
        )
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn layout(&self) -> NodeLayout {
        NodeLayout::sandbox(&self.root, self.ports.clone())
    }

    /// Where a node path is on this machine.
    pub fn path(&self, node_path: &str) -> PathBuf {
        self.root.join(node_path.trim_start_matches('/'))
    }

    pub fn state_files(&self) -> StateFiles {
        StateFiles::new(&self.root)
    }

    /// The agent's published state, when the agent is alive.
    pub fn state(&self) -> Option<NodeState> {
        self.agent_pid()?;
        self.state_files().read_state()
    }

    /// The agent's pid when it is alive.
    pub fn agent_pid(&self) -> Option<u32> {
        agent_pid_at(&self.root)
    }

    /// Starts the node agent in the background (its own process group, so one signal reaches
    /// it and everything it started) and returns once it has published its first state.
    pub fn start_agent(&self) -> Result<(), SandboxError> {
        if self.agent_pid().is_some() {
            return Ok(());
        }
        let exe = std::env::current_exe()
            .map_err(|e| self.unhealthy(format!("cannot find ckalab's own binary: {e}")))?;
        let log =
            std::fs::File::create(self.agent_log()).map_err(|e| self.unhealthy(e.to_string()))?;
        let err = log.try_clone().map_err(|e| self.unhealthy(e.to_string()))?;
        let mut child = Command::new(exe)
            .arg("__agent")
            .arg(&self.root)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| self.unhealthy(format!("cannot start the node agent: {e}")))?;
        write_atomic(
            &self.state_files().pid_path(),
            child.id().to_string().as_bytes(),
        )
        .map_err(|e| self.unhealthy(e.to_string()))?;
        // It publishes its first state once containerd is up. Watch the child itself: until it
        // has exec'd, /proc still shows this command's line, so `agent_pid` cannot see it yet.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = self.state_files().read_state();
            if state.is_some_and(|s| s.agent_pid == child.id()) {
                // The agent outlives this command on purpose; `stop` and `reset` end it.
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(self.unhealthy(format!("the node agent exited at start ({status})")));
            }
            if Instant::now() >= deadline {
                return Err(self.unhealthy("the node agent did not start within 20s".into()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn agent_log(&self) -> PathBuf {
        self.path("/var/log/ckalab-agent.log")
    }

    fn unhealthy(&self, reason: String) -> SandboxError {
        SandboxError::Unhealthy {
            reason,
            log: self.agent_log(),
            journals: self.path("/var/log/journal"),
        }
    }

    /// Waits until `ready` holds for the agent's state, or fails after `timeout`.
    pub fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        ready: impl Fn(&NodeState) -> bool,
    ) -> Result<(), SandboxError> {
        let deadline = Instant::now() + timeout;
        loop {
            let state = self.state_files().read_state();
            if self.agent_pid().is_none() {
                return Err(
                    self.unhealthy(format!("the node agent exited while waiting for {what}"))
                );
            }
            if state.as_ref().is_some_and(&ready) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let reason = state
                    .map(|s| s.node_reason)
                    .filter(|r| !r.is_empty())
                    .unwrap_or_default();
                return Err(self.unhealthy(format!(
                    "{what} did not happen within {}s {reason}",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Asks the agent to start, stop or restart a unit and waits until it has acted.
    pub fn unit(&self, unit: &str, action: UnitAction) -> Result<(), SandboxError> {
        let generation = self
            .state_files()
            .request(unit, action)
            .map_err(|e| self.unhealthy(e.to_string()))?;
        self.wait_for(
            Duration::from_secs(15),
            &format!("{unit} to {action:?}"),
            |s| {
                s.units
                    .get(unit)
                    .is_some_and(|u| u.generation >= generation)
            },
        )
    }

    /// Restarts a static pod's container, as `crictl stop` would (the kubelet starts it again),
    /// and waits until the new container runs or has exited.
    pub fn restart_pod(&self, name: &str) -> Result<(), SandboxError> {
        let old = self
            .state()
            .and_then(|s| s.pods.get(name).map(|p| p.container_id.clone()));
        write_atomic(&self.state_files().pod_restart_path(name), b"restart")
            .map_err(|e| self.unhealthy(e.to_string()))?;
        self.wait_for(
            Duration::from_secs(15),
            &format!("{name} to restart"),
            |s| {
                s.pods
                    .get(name)
                    .is_some_and(|p| Some(&p.container_id) != old.as_ref())
            },
        )
    }

    /// The environment of the learner's shell on this node, whose `/` is at `seen_at` (`/`
    /// inside the node's view, the node directory without one): etcdctl and kubectl pointed at
    /// the node, and the node's `systemctl`, `journalctl` and `crictl`, then `tools`, first on
    /// PATH.
    pub fn shell_env(&self, seen_at: &Path, tools: &[PathBuf]) -> Vec<(String, String)> {
        let at = |node_path: &str| {
            seen_at
                .join(node_path.trim_start_matches('/'))
                .display()
                .to_string()
        };
        let host_path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::iter::once(PathBuf::from(at(super::shell::BIN_DIR)))
            .chain(tools.iter().cloned())
            .chain(std::env::split_paths(&host_path));
        vec![
            ("CKALAB_NODE".into(), seen_at.display().to_string()),
            ("ETCDCTL_API".into(), "3".into()),
            (
                "ETCDCTL_ENDPOINTS".into(),
                format!("https://{}:{}", files::NODE_IP, self.ports.etcd_client),
            ),
            (
                "ETCDCTL_CACERT".into(),
                at("/etc/kubernetes/pki/etcd/ca.crt"),
            ),
            (
                "ETCDCTL_CERT".into(),
                at("/etc/kubernetes/pki/etcd/server.crt"),
            ),
            (
                "ETCDCTL_KEY".into(),
                at("/etc/kubernetes/pki/etcd/server.key"),
            ),
            ("KUBECONFIG".into(), at("/etc/kubernetes/admin.conf")),
            (
                "PATH".into(),
                std::env::join_paths(path)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
        ]
    }

    /// Stops the agent and everything it runs; returns once they are gone.
    pub fn stop_agent(&self) {
        stop_agent_at(&self.root);
    }
}

fn agent_pid_at(root: &Path) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(StateFiles::new(root).pid_path())
        .ok()?
        .trim()
        .parse()
        .ok()?;
    let root = root.to_string_lossy();
    ckalab_process_alive(pid, &["__agent", &root]).then_some(pid)
}

/// Whether `pid` is a live (not zombie) ckalab process whose command line holds every one of
/// `needles`: a pid file can outlive its process, and the pid can be reused.
pub fn ckalab_process_alive(pid: u32, needles: &[&str]) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let cmdline = String::from_utf8_lossy(&cmdline);
    let status = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let zombie = status
        .rsplit(')')
        .next()
        .is_some_and(|rest| rest.trim_start().starts_with('Z'));
    needles.iter().all(|n| cmdline.contains(n)) && !zombie
}

fn stop_agent_at(root: &Path) {
    let Some(pid) = agent_pid_at(root) else {
        return;
    };
    let group = Pid::from_raw(-(pid as i32));
    let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(15);
    while agent_pid_at(root).is_some() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Whatever is left in the agent's process group (a stuck etcd) goes too, and `stop`
    // returns only once it is gone: a SIGKILL is delivered, not awaited.
    let _ = kill(group, Signal::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(3);
    while kill(group, None).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_file(StateFiles::new(root).pid_path());
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Three free loopback ports, held open together so they are distinct.
fn free_ports() -> std::io::Result<Ports> {
    let listeners: Vec<TcpListener> = (0..5)
        .map(|_| TcpListener::bind(("127.0.0.1", 0)))
        .collect::<Result<_, _>>()?;
    let port = |i: usize| listeners[i].local_addr().map(|a| a.port());
    Ok(Ports {
        apiserver: port(0)?,
        etcd_client: port(1)?,
        etcd_peer: port(2)?,
        controller_manager: port(3)?,
        scheduler: port(4)?,
    })
}
