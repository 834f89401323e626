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
        // A node an older ckalab built lacks a port: it counts as absent and is built again.
        let ports: Ports = serde_json::from_str(&text).map_err(|_| SandboxError::Absent)?;
        Ok(SandboxNode { root, ports })
    }

    /// The tools a node needs, each with how to get it: etcd 3.6 and the Kubernetes binaries
    /// are built from Go modules, containerd and bubblewrap come from the distribution.
    pub fn check_tools() -> Result<(), SandboxError> {
        const BUILT: [&str; 8] = [
            "etcd",
            "etcdctl",
            "etcdutl",
            "kubeadm",
            "kube-apiserver",
            "kube-controller-manager",
            "kube-scheduler",
            "kubectl",
        ];
        for tool in BUILT {
            if crate::binaries::find(tool).is_none() {
                return Err(SandboxError::MissingTool {
                    tool,
                    install: "bash scripts/build-k8s.sh (builds etcd 3.6 and the Kubernetes v1.35 binaries from Go modules)",
                });
            }
        }
        for (tool, install) in [
            ("containerd", "sudo apt-get install -y containerd"),
            ("bwrap", "sudo apt-get install -y bubblewrap"),
        ] {
            if crate::doctor::find_in_path(tool).is_none() {
                return Err(SandboxError::MissingTool { tool, install });
            }
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
        // The node's name is its directory's (`controlplane`, an exam's `exam-2`), as the agent
        // and the graders have it.
        let name = self.layout().node_name;
        super::kubeadm::init(&self.root, &name, &self.ports)?;
        write("/etc/containerd/config.toml", &files::containerd_config())?;
        write("/etc/crictl.yaml", &files::crictl_config())?;
        write(files::CNI_CONFIG, &files::cni_config())?;
        let exe =
            std::env::current_exe().map_err(|e| format!("cannot find ckalab's own binary: {e}"))?;
        super::shell::install_shims(&self.root, &exe)
            .map_err(|e| format!("{}: {e}", super::shell::BIN_DIR))?;
        write(
            "/var/lib/ckalab/node.json",
            &serde_json::to_string_pretty(&self.ports).map_err(|e| e.to_string())?,
        )
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn ports(&self) -> &Ports {
        &self.ports
    }

    pub fn layout(&self) -> NodeLayout {
        NodeLayout::sandbox(&self.root, self.ports)
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

    /// Starts the node agent in the background, inside the node's view so that it and every
    /// process it starts see the node's files at their real paths, in its own process group so
    /// that one signal reaches everything it started; returns once it has published its first
    /// state.
    pub fn start_agent(&self) -> Result<(), SandboxError> {
        if self.agent_pid().is_some() {
            return Ok(());
        }
        let exe = std::env::current_exe()
            .map_err(|e| self.unhealthy(format!("cannot find ckalab's own binary: {e}")))?;
        let bwrap = super::node_view::bwrap().ok_or_else(|| {
            self.unhealthy(
                "bubblewrap is not installed: the node runs in its own mount namespace \
                 (sudo apt-get install -y bubblewrap)"
                    .into(),
            )
        })?;
        super::node_view::prepare(&self.root).map_err(|e| self.unhealthy(e.to_string()))?;
        // A fresh file, never through a link the node holds there.
        let _ = std::fs::remove_file(self.agent_log());
        let log = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.agent_log())
            .map_err(|e| self.unhealthy(e.to_string()))?;
        let err = log.try_clone().map_err(|e| self.unhealthy(e.to_string()))?;
        let cache = crate::binaries::cache_root();
        let lent = super::node_view::Lent {
            root: &self.root,
            exe: &exe,
            binaries: &cache,
        };
        let mut child = Command::new(bwrap)
            .args(super::node_view::bwrap_args(
                &lent,
                "/",
                super::node_view::Lifetime::Detached,
            ))
            .arg(super::node_view::EXE)
            .arg("__agent")
            .arg(&self.root)
            .env("CKALAB_BIN_CACHE", super::node_view::BINARIES)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|e| self.unhealthy(format!("cannot start the node agent: {e}")))?;
        // bubblewrap's pid until the agent writes its own: both command lines name the node.
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
            if state.is_some_and(|s| {
                ckalab_process_alive(s.agent_pid, &["__agent", &self.root.to_string_lossy()])
            }) {
                // The agent outlives this command on purpose; `stop` and `reset` end it.
                return Ok(());
            }
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(self.agent_log()).unwrap_or_default();
                return Err(self.unhealthy(format!(
                    "the node agent exited at start ({status}){}",
                    super::node_view::refused_hint(&log)
                )));
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
        if let UnitAction::Enable | UnitAction::Disable = action {
            // Whether it starts at boot: the agent reads it when the node starts.
            return self
                .state_files()
                .set_enabled(unit, action == UnitAction::Enable)
                .map_err(|e| self.unhealthy(e.to_string()));
        }
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
            // No ETCDCTL_ENDPOINTS or certificate variables, as on a kubeadm node: etcdctl 3.6
            // refuses a flag that a set variable shadows, and the exam's commands pass flags.
            ("ETCDCTL_API".into(), "3".into()),
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

/// Stops the node at `root`: its agent first, then whatever is left of its processes. Returns
/// whether anything was running.
pub fn stop_agent_at(root: &Path) -> bool {
    let agent = agent_pid_at(root);
    if let Some(pid) = agent {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while agent_pid_at(root).is_some() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Whatever is left of the node's processes goes too: a stuck etcd, or everything the agent
    // ran when the agent itself was killed or the node's folder deleted under it. `stop`
    // returns only once they are gone: a SIGKILL is delivered, not awaited.
    let groups = node_groups(root);
    for group in &groups {
        let _ = kill(Pid::from_raw(-group.as_raw()), Signal::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while groups
        .iter()
        .any(|g| kill(Pid::from_raw(-g.as_raw()), None).is_ok())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let files = StateFiles::new(root);
    let _ = std::fs::remove_file(files.pid_path());
    agent.is_some() || !groups.is_empty()
}

/// The process groups of the node's processes still alive: every process of a node runs in its
/// mount namespace, whose mounts name the node's directories (even once they are deleted), so
/// no pid file is needed to find them.
fn node_groups(root: &Path) -> Vec<Pid> {
    // As /proc/<pid>/mountinfo writes a path: space, tab, newline and backslash octal-escaped.
    let mounted = root
        .to_string_lossy()
        .replace('\\', "\\134")
        .replace(' ', "\\040")
        .replace('\t', "\\011")
        .replace('\n', "\\012");
    let (under, exact) = (format!(" {mounted}/"), format!(" {mounted} "));
    let Ok(processes) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut groups: Vec<Pid> = processes
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != std::process::id() as i32)
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/mountinfo"))
                .is_ok_and(|mounts| mounts.contains(&under) || mounts.contains(&exact))
        })
        .filter_map(|pid| nix::unistd::getpgid(Some(Pid::from_raw(pid))).ok())
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

/// Free loopback ports, held open together so they are distinct.
fn free_ports() -> std::io::Result<Ports> {
    let listeners: Vec<TcpListener> = (0..6)
        .map(|_| TcpListener::bind(("127.0.0.1", 0)))
        .collect::<Result<_, _>>()?;
    let port = |i: usize| listeners[i].local_addr().map(|a| a.port());
    Ok(Ports {
        apiserver: port(0)?,
        etcd_client: port(1)?,
        etcd_peer: port(2)?,
        controller_manager: port(3)?,
        scheduler: port(4)?,
        etcd_metrics: port(5)?,
    })
}
