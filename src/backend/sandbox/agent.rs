//! The node agent: one background process per sandbox node. It runs containerd (the real
//! binary, from the node's config.toml) and the kubelet model, which validates the CRI v1
//! runtime API on its configured endpoint with a real gRPC call and runs the static pods from
//! the manifests directory: the real etcd, kube-apiserver, kube-controller-manager and
//! kube-scheduler (built from Go modules). It registers the Node and posts its Ready condition
//! through the real API, and runs kwok for the simulated workers `node01` and `node02`. It acts
//! on `systemctl` requests and publishes the node's state for `crictl`, `systemctl` and the
//! graders. On SIGTERM it stops everything it started.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::container_log::ContainerLog;
use super::files;
use super::journal::Journal;
use super::node_status::{NodeStatus, StaticPodRun};
use super::pods::StaticPod;
use super::probe::{ProbeRun, Probes, Verdict};
use super::state::{NodeState, PodState, StateFiles, UnitAction, UnitState};
use super::workers::Workers;

/// How often the node's status is posted, as the kubelet's nodeStatusUpdateFrequency (10 s),
/// shortened so a fix shows in `check` at once.
const STATUS_INTERVAL: Duration = Duration::from_secs(2);
/// How long a container stopped by the kubelet (a changed manifest, `crictl stop`) may take
/// to exit, and how long when the whole node stops.
const STOP_GRACE: Duration = Duration::from_secs(5);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// How often the agent looks at requests, processes and manifests.
const TICK: Duration = Duration::from_millis(200);
/// The kubelet unit restarts a second after it fails, like kind's.
const KUBELET_RESTART: Duration = Duration::from_secs(1);
/// containerd.service's RestartSec.
const CONTAINERD_RESTART: Duration = Duration::from_secs(5);
/// How often the storage provisioner looks for claims to serve.
const PROVISION_INTERVAL: Duration = Duration::from_secs(1);
/// Crash-loop back-off of static pods: shorter than the kubelet's 10 s so labs stay brisk.
const BACKOFF_START: Duration = Duration::from_secs(2);
const BACKOFF_MAX: Duration = Duration::from_secs(20);

/// Runs the agent for the node at `node_dir` until SIGTERM or SIGINT, from inside the node's
/// view (its `/` is the node's), as `ckalab start` runs it.
pub fn run(node_dir: PathBuf) -> std::io::Result<()> {
    let node = node_dir
        .file_name()
        .map_or_else(|| "node".into(), |n| n.to_string_lossy().into_owned());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut agent = Agent::new(PathBuf::from("/"), node);
        // Its own pid, in place of bubblewrap's: `stop` signals the agent itself.
        crate::atomic_file::write_atomic(
            &agent.files.pid_path(),
            std::process::id().to_string().as_bytes(),
        )?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut interrupt =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        // Boot: systemd starts the enabled units.
        if agent.files.is_enabled("containerd") {
            agent.start_containerd().await;
        }
        if agent.files.is_enabled("kubelet") {
            agent.start_kubelet();
        } else {
            agent.kubelet_wanted = false;
        }
        // kubeadm's and kind's add-ons, and kind's storage provisioner; failures (the API
        // server starting) are retried at the next round.
        let admin = agent.host("/etc/kubernetes/super-admin.conf");
        let mut addons =
            super::addons::Addons::new(admin.clone(), agent.host("/var/lib/ckalab/addons-made"));
        let mut storage = super::provisioner::Provisioner::new(admin);
        tokio::spawn(async move {
            loop {
                let _ = addons.tick().await;
                let _ = storage.tick().await;
                tokio::time::sleep(PROVISION_INTERVAL).await;
            }
        });
        loop {
            agent.tick().await;
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = term.recv() => break,
                _ = interrupt.recv() => break,
            }
        }
        agent.shutdown().await;
        Ok(())
    })
}

enum Process {
    Child(Child),
    /// A container with no behaviour of its own: any static pod but the control plane's.
    Idle,
}

struct Container {
    manifest: String,
    process: Option<Process>,
    state: PodState,
    restart_at: Option<Instant>,
    backoff: Duration,
    probes: ProbeRun,
    /// When a container its probes failed gets SIGKILL if SIGTERM has not ended it.
    kill_at: Option<Instant>,
}

struct Agent {
    root: PathBuf,
    node: String,
    files: StateFiles,
    journal: Journal,
    state: NodeState,
    containerd: Option<Child>,
    containerd_restart_at: Option<Instant>,
    kubelet_wanted: bool,
    kubelet_running: bool,
    kubelet_pid: u32,
    kubelet_next_try: Instant,
    containers: BTreeMap<String, Container>,
    next_fake_pid: u32,
    /// The Node object and its status, posted in the background so a slow API server never
    /// holds up the kubelet's loop.
    node_status: Arc<Mutex<NodeStatus>>,
    status_task: Option<JoinHandle<bool>>,
    /// The readiness last handed to the API server, so a change is posted without waiting.
    posted_ready: Option<bool>,
    next_status: Instant,
    /// kwok, for the simulated worker nodes `node01` and `node02`.
    workers: Workers,
}

impl Agent {
    fn new(root: PathBuf, node: String) -> Agent {
        let files = StateFiles::new(&root);
        let mut state = NodeState {
            agent_pid: std::process::id(),
            ..NodeState::default()
        };
        for unit in super::state::UNITS {
            let generation = files.read_request(unit).map_or(0, |r| r.generation);
            state.units.insert(
                unit.to_string(),
                UnitState {
                    generation,
                    ..UnitState::default()
                },
            );
        }
        let super_admin = root.join("etc/kubernetes/super-admin.conf");
        Agent {
            journal: Journal::new(&root, &node),
            workers: Workers::new(super_admin.clone(), super::workers::log_path(&root)),
            node_status: Arc::new(Mutex::new(NodeStatus::new(&node, super_admin))),
            root,
            node,
            files,
            state,
            containerd: None,
            containerd_restart_at: None,
            kubelet_wanted: true,
            kubelet_running: false,
            kubelet_pid: 0,
            kubelet_next_try: Instant::now(),
            containers: BTreeMap::new(),
            next_fake_pid: 1200,
            status_task: None,
            posted_ready: None,
            next_status: Instant::now(),
        }
    }

    fn host(&self, node_path: &str) -> PathBuf {
        self.root.join(node_path.trim_start_matches('/'))
    }

    fn fake_pid(&mut self) -> u32 {
        self.next_fake_pid += 7;
        self.next_fake_pid
    }

    fn set_unit(&mut self, unit: &str, active: &str, sub: &str, pid: u32) {
        let entry = self.state.units.entry(unit.to_string()).or_default();
        if entry.active != active || entry.sub != sub || entry.pid != pid {
            entry.active = active.to_string();
            entry.sub = sub.to_string();
            entry.pid = pid;
            entry.since = crate::clock::now().to_string();
        }
    }

    async fn tick(&mut self) {
        self.handle_requests().await;
        self.watch_containerd().await;
        if self.kubelet_wanted && Instant::now() >= self.kubelet_next_try {
            self.kubelet_sync().await;
        }
        self.reap_containers().await;
        self.probe_containers().await;
        self.post_node_status().await;
        self.workers.tick();
        if self.files.read_state().as_ref() != Some(&self.state) {
            let _ = self.files.write_state(&self.state);
        }
    }

    /// Every couple of seconds, and at once when readiness changes, while the API server runs,
    /// posts the node's Ready condition as the kubelet would (in the background: the loop never
    /// waits on the API server).
    async fn post_node_status(&mut self) {
        let busy = self.status_task.as_ref().is_some_and(|t| !t.is_finished());
        if !busy && let Some(task) = self.status_task.take() {
            // Refused (the API server is still starting): try again at the next tick rather
            // than a whole interval later, so a fresh node turns Ready as soon as it can.
            if !task.await.unwrap_or(false) {
                self.next_status = Instant::now();
                self.posted_ready = None;
            }
        }
        let apiserver_up = self
            .state
            .pods
            .get("kube-apiserver")
            .is_some_and(|p| p.state == "Running");
        let changed = self.posted_ready != Some(self.state.node_ready);
        if busy || !apiserver_up || (Instant::now() < self.next_status && !changed) {
            return;
        }
        self.next_status = Instant::now() + STATUS_INTERVAL;
        let (ready, reason) = (self.state.node_ready, self.state.node_reason.clone());
        self.posted_ready = Some(ready);
        let pods: Vec<StaticPodRun> = self
            .containers
            .iter()
            .map(|(name, container)| StaticPodRun {
                name: name.clone(),
                manifest: container.manifest.clone(),
                state: container.state.clone(),
            })
            .collect();
        let status = self.node_status.clone();
        self.status_task = Some(tokio::spawn(async move {
            status
                .lock()
                .await
                .post(ready, &reason, &pods)
                .await
                .is_ok()
        }));
    }

    async fn handle_requests(&mut self) {
        for unit in super::state::UNITS {
            let Some(request) = self.files.read_request(unit) else {
                continue;
            };
            let done = self.state.units.get(unit).map_or(0, |u| u.generation);
            if request.generation <= done {
                continue;
            }
            match (unit, request.action) {
                ("containerd", UnitAction::Stop) => self.stop_containerd().await,
                ("containerd", UnitAction::Start) => {
                    if self.containerd.is_none() {
                        self.start_containerd().await;
                    }
                }
                ("containerd", UnitAction::Restart) => {
                    self.stop_containerd().await;
                    self.start_containerd().await;
                }
                (_, UnitAction::Stop) => self.stop_kubelet(),
                (_, UnitAction::Start) => {
                    if !self.kubelet_wanted {
                        self.start_kubelet();
                    }
                }
                (_, UnitAction::Restart) => {
                    self.stop_kubelet();
                    self.start_kubelet();
                }
                // Enablement is a file the node reads at boot, never a request.
                (_, UnitAction::Enable | UnitAction::Disable) => {}
            }
            if let Some(u) = self.state.units.get_mut(unit) {
                u.generation = request.generation;
            }
            // Act on the kubelet at once, so `systemctl restart` returns to a settled state.
            if unit == "kubelet" && self.kubelet_wanted {
                self.kubelet_sync().await;
            }
        }
    }

    async fn start_containerd(&mut self) {
        let config = self.host("/etc/containerd/config.toml");
        let log = self.journal.path("containerd");
        let _ = std::fs::create_dir_all(self.host("/run/containerd"));
        // A socket left by a killed containerd would look ready before the new one listens.
        let _ = std::fs::remove_file(self.host(files::CONTAINERD_SOCKET));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log);
        let mut cmd = Command::new("containerd");
        cmd.arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true);
        match stderr {
            Ok(file) => cmd.stderr(file),
            Err(_) => cmd.stderr(Stdio::null()),
        };
        self.journal.systemd(
            "containerd",
            "Starting containerd.service - containerd container runtime...",
        );
        match cmd.spawn() {
            Ok(mut child) => {
                let pid = child.id().unwrap_or_default();
                // containerd.service is Type=notify: systemd calls it started once it serves
                // its socket (or has exited, which the watcher reports).
                let socket = self.host(files::CONTAINERD_SOCKET);
                let deadline = Instant::now() + Duration::from_secs(10);
                while !socket.exists()
                    && Instant::now() < deadline
                    && matches!(child.try_wait(), Ok(None))
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                self.containerd = Some(child);
                self.containerd_restart_at = None;
                self.journal.systemd(
                    "containerd",
                    "Started containerd.service - containerd container runtime.",
                );
                self.set_unit("containerd", "active", "running", pid);
            }
            Err(err) => {
                self.journal.systemd(
                    "containerd",
                    &format!("containerd.service: Failed to locate executable containerd: {err}"),
                );
                self.set_unit("containerd", "failed", "failed", 0);
            }
        }
    }

    async fn stop_containerd(&mut self) {
        if let Some(child) = self.containerd.take() {
            self.journal.systemd(
                "containerd",
                "Stopping containerd.service - containerd container runtime...",
            );
            terminate(child, STOP_GRACE).await;
            self.journal.systemd(
                "containerd",
                "Stopped containerd.service - containerd container runtime.",
            );
        }
        self.containerd_restart_at = None;
        self.set_unit("containerd", "inactive", "dead", 0);
    }

    /// A containerd that exits on its own is restarted after RestartSec, like systemd does.
    async fn watch_containerd(&mut self) {
        if let Some(child) = self.containerd.as_mut()
            && let Ok(Some(status)) = child.try_wait()
        {
            let code = status.code().unwrap_or(-1);
            self.containerd = None;
            self.journal.systemd(
                "containerd",
                &format!(
                    "containerd.service: Main process exited, code=exited, status={code}/FAILURE"
                ),
            );
            self.journal.systemd(
                "containerd",
                "containerd.service: Failed with result 'exit-code'.",
            );
            self.set_unit("containerd", "activating", "auto-restart", 0);
            self.containerd_restart_at = Some(Instant::now() + CONTAINERD_RESTART);
        }
        if self
            .containerd_restart_at
            .is_some_and(|at| Instant::now() >= at)
        {
            self.start_containerd().await;
        }
    }

    fn start_kubelet(&mut self) {
        self.kubelet_wanted = true;
        self.kubelet_next_try = Instant::now();
    }

    fn stop_kubelet(&mut self) {
        if self.kubelet_wanted {
            self.journal.systemd(
                "kubelet",
                "Stopping kubelet.service - kubelet: The Kubernetes Node Agent...",
            );
            self.journal.systemd(
                "kubelet",
                "Stopped kubelet.service - kubelet: The Kubernetes Node Agent.",
            );
        }
        self.kubelet_wanted = false;
        self.kubelet_running = false;
        self.set_unit("kubelet", "inactive", "dead", 0);
        self.state.node_ready = false;
        self.state.node_reason = "kubelet stopped posting node status".into();
    }

    /// One pass of the kubelet: (re)start it when it is not running (validating the runtime),
    /// then sync the static pods.
    async fn kubelet_sync(&mut self) {
        if !self.kubelet_running {
            self.kubelet_pid = self.fake_pid();
            self.journal.systemd(
                "kubelet",
                "Started kubelet.service - kubelet: The Kubernetes Node Agent.",
            );
        }
        let pid = self.kubelet_pid;
        match self.kubelet_validate().await {
            Ok(config) => {
                if !self.kubelet_running {
                    self.journal.klog(
                        "kubelet",
                        "kubelet",
                        pid,
                        'I',
                        "server.go:530",
                        &format!(
                            "\"Kubelet version\" kubeletVersion=\"{}\"",
                            super::node_status::kubelet_version()
                        ),
                    );
                    self.journal.klog(
                        "kubelet",
                        "kubelet",
                        pid,
                        'I',
                        "kubelet.go:2380",
                        "\"Starting kubelet main sync loop\"",
                    );
                }
                self.kubelet_running = true;
                self.set_unit("kubelet", "active", "running", pid);
                self.state.node_ready = true;
                self.state.node_reason = "kubelet is posting ready status".into();
                self.sync_pods(&config).await;
                self.kubelet_next_try = Instant::now() + Duration::from_secs(1);
            }
            Err(err) => {
                self.journal.klog(
                    "kubelet",
                    "kubelet",
                    pid,
                    'E',
                    "run.go:72",
                    &format!(
                        "\"command failed\" err=\"failed to run Kubelet: {}\"",
                        err.replace('"', "\\\"")
                    ),
                );
                self.journal.systemd(
                    "kubelet",
                    "kubelet.service: Main process exited, code=exited, status=1/FAILURE",
                );
                self.journal.systemd(
                    "kubelet",
                    "kubelet.service: Failed with result 'exit-code'.",
                );
                self.kubelet_running = false;
                self.set_unit("kubelet", "activating", "auto-restart", 0);
                self.state.node_ready = false;
                self.state.node_reason = err;
                self.kubelet_next_try = Instant::now() + KUBELET_RESTART;
            }
        }
    }

    /// Reads the kubelet's config and validates its runtime endpoint, as the kubelet does at
    /// start. Returns the static pod path.
    async fn kubelet_validate(&self) -> Result<String, String> {
        let config_path = "/var/lib/kubelet/config.yaml";
        let text = std::fs::read_to_string(self.host(config_path)).map_err(|e| {
            format!("failed to load kubelet config file, path: {config_path}, error: {e}")
        })?;
        let config = crate::engine::edit::parse_yaml(&text).map_err(|e| {
            format!("failed to load kubelet config file, path: {config_path}, error: {e}")
        })?;
        // A missing kubeadm-flags.env is fine: the kubelet's unit only sources it if present.
        let flags =
            std::fs::read_to_string(self.host(crate::kubelet::FLAGS_FILE)).unwrap_or_default();
        let endpoint = crate::kubelet::effective_endpoint(&flags, &config);
        let socket = crate::cri::socket_path(&endpoint)
            .map_err(|e| format!("validate service connection: {e}"))?;
        let host_socket = self.host(&socket.to_string_lossy());
        crate::cri::version(&host_socket, &endpoint)
            .await
            .map_err(|e| format!("validate service connection: {e}"))?;
        Ok(config
            .get("staticPodPath")
            .and_then(|v| v.as_str())
            .unwrap_or("/etc/kubernetes/manifests")
            .to_string())
    }

    /// Starts pods whose manifests appeared or changed, stops those whose manifests are gone,
    /// and restarts crashed ones when their back-off ends.
    async fn sync_pods(&mut self, static_pod_path: &str) {
        let dir = self.host(static_pod_path);
        let mut manifests = BTreeMap::new();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().collect())
            .unwrap_or_default();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            // The kubelet loads every file here except hidden ones.
            if name.starts_with('.') || !entry.path().is_file() {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(entry.path()) else {
                continue;
            };
            match StaticPod::parse(&text) {
                Ok(pod) => {
                    manifests.insert(pod.name.clone(), (text, pod));
                }
                Err(err) => {
                    let pid = self.kubelet_pid;
                    self.journal.klog("kubelet", "kubelet", pid, 'E', "file.go:187", &format!("\"Could not process manifest file\" err=\"{err}\" path=\"{static_pod_path}/{name}\""));
                }
            }
        }
        let gone: Vec<String> = self
            .containers
            .keys()
            .filter(|k| !manifests.contains_key(*k))
            .cloned()
            .collect();
        for name in gone {
            if let Some(mut container) = self.containers.remove(&name) {
                stop(&mut container).await;
            }
            self.state.pods.remove(&name);
        }
        for (name, (text, pod)) in manifests {
            let changed = self
                .containers
                .get(&name)
                .is_none_or(|c| c.manifest != text);
            // `crictl stop` (or a lab step) asked for a new container.
            let requested = std::fs::remove_file(self.files.pod_restart_path(&name)).is_ok();
            if requested && let Some(old) = self.containers.get_mut(&name) {
                stop(old).await;
                old.restart_at = Some(Instant::now());
            }
            let due = self
                .containers
                .get(&name)
                .is_some_and(|c| c.restart_at.is_some_and(|at| Instant::now() >= at));
            if changed || due {
                let attempt = match self.containers.get_mut(&name) {
                    Some(old) if !changed => old.state.attempt + 1,
                    Some(old) => {
                        stop(old).await;
                        0
                    }
                    None => 0,
                };
                let backoff = self
                    .containers
                    .get(&name)
                    .filter(|_| !changed)
                    .map_or(BACKOFF_START, |c| c.backoff);
                let container = self.start_container(&pod, text, attempt, backoff);
                self.state
                    .pods
                    .insert(name.clone(), container.state.clone());
                self.containers.insert(name, container);
            }
        }
    }

    fn start_container(
        &mut self,
        pod: &StaticPod,
        manifest: String,
        attempt: u32,
        backoff: Duration,
    ) -> Container {
        let id = format!("{:013x}", fastrand::u64(..) >> 12);
        let log_node_path = format!(
            "/var/log/pods/kube-system_{}-{}/{}/{attempt}.log",
            pod.name, self.node, pod.name
        );
        if attempt == 0 {
            // A new pod: its logs start afresh, as under the kubelet's new pod directory.
            let _ = std::fs::remove_file(self.host(&log_node_path));
        }
        let log = ContainerLog::new(self.host(&log_node_path));
        let process = match pod.command.first().map(String::as_str) {
            Some(
                binary @ ("etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler"),
            ) => self.spawn(binary, pod, &log),
            Some(_) => Some(Process::Idle),
            None => {
                log.line("Error: no command");
                None
            }
        };
        let running = process.is_some();
        let real_pid = match &process {
            Some(Process::Child(child)) => child.id().unwrap_or_default(),
            _ => 0,
        };
        // A container with no process of its own has nothing to probe: it counts as healthy.
        let probes = match &process {
            Some(Process::Child(_)) => pod.probes.clone(),
            _ => Probes::default(),
        };
        Container {
            manifest,
            process,
            state: PodState {
                container_id: id,
                attempt,
                state: if running { "Running" } else { "Exited" }.into(),
                exit_code: if running { None } else { Some(128) },
                pid: real_pid,
                started_at: crate::clock::now().to_string(),
                log: log_node_path,
                ready: false,
            },
            probes: ProbeRun::new(probes),
            kill_at: None,
            restart_at: if running {
                None
            } else {
                Some(Instant::now() + backoff)
            },
            backoff,
        }
    }

    /// The real binary (etcd, kube-apiserver), with every path of its command line resolved
    /// through the pod's volumes. A path no volume covers lands in the container's own
    /// throw-away file system.
    fn spawn(&self, binary: &str, pod: &StaticPod, log: &ContainerLog) -> Option<Process> {
        let scratch = self.host(&format!("/var/lib/ckalab/containers/{}", pod.name));
        let _ = std::fs::remove_dir_all(&scratch);
        let args: Vec<String> = pod
            .command
            .iter()
            .skip(1)
            .map(|arg| match arg.split_once('=') {
                Some((flag, value)) if value.starts_with('/') => {
                    let host = match pod.host_path(value) {
                        Some(node_path) => self.host(&node_path),
                        None => scratch.join(value.trim_start_matches('/')),
                    };
                    format!("{flag}={}", host.display())
                }
                _ => arg.clone(),
            })
            .collect();
        let Some(program) = crate::binaries::find(binary) else {
            log.line(&format!(
                "exec: \"{binary}\": executable file not found (bash scripts/build-k8s.sh builds it)"
            ));
            return None;
        };
        match Command::new(program)
            // `ps` shows the manifest's command, as on a kubeadm node.
            .arg0(binary)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(mut child) => {
                // As containerd does: each line of the container's output in the CRI format.
                if let Some(stdout) = child.stdout.take() {
                    log.follow("stdout", stdout);
                }
                if let Some(stderr) = child.stderr.take() {
                    log.follow("stderr", stderr);
                }
                Some(Process::Child(child))
            }
            Err(e) => {
                log.line(&format!("exec: \"{binary}\": {e}"));
                None
            }
        }
    }

    /// Runs each running container's probes: a startup or liveness probe past its failure
    /// threshold restarts the container, as the kubelet does, and readiness is published for
    /// the mirror pod.
    async fn probe_containers(&mut self) {
        let pid = self.kubelet_pid;
        for (name, container) in self.containers.iter_mut() {
            let Some(Process::Child(child)) = container.process.as_mut() else {
                continue;
            };
            if container.kill_at.is_some_and(|at| Instant::now() >= at) {
                let _ = child.start_kill();
                continue;
            }
            if container.kill_at.is_some() {
                continue;
            }
            if let Verdict::Restart(kind, output) = container.probes.tick().await {
                // The kubelet's two lines: the probe's failure, then the restart it causes.
                let pod = format!("kube-system/{name}-{}", self.node);
                self.journal.klog(
                    "kubelet",
                    "kubelet",
                    pid,
                    'I',
                    "prober.go:120",
                    &format!(
                        "\"Probe failed\" probeType=\"{}\" pod=\"{pod}\" containerName=\"{name}\" \
                         probeResult=\"failure\" output=\"{}\"",
                        kind.name(),
                        output.replace('"', "\\\"")
                    ),
                );
                self.journal.klog(
                    "kubelet",
                    "kubelet",
                    pid,
                    'I',
                    "kuberuntime_manager.go:1081",
                    &format!(
                        "\"Message for Container of Pod\" containerName=\"{name}\" \
                         containerStatusID={{\"Type\":\"containerd\",\"ID\":\"{}\"}} pod=\"{pod}\" \
                         containerMessage=\"Container {name} failed {} probe, will be restarted\"",
                        container.state.container_id,
                        kind.name().to_lowercase()
                    ),
                );
                if let Some(pid) = child.id() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGTERM,
                    );
                }
                container.kill_at = Some(Instant::now() + STOP_GRACE);
            }
            let ready = container.probes.ready();
            if container.state.ready != ready {
                container.state.ready = ready;
                self.state
                    .pods
                    .insert(name.clone(), container.state.clone());
            }
        }
    }

    /// Notices containers that exited and schedules their restart with back-off.
    async fn reap_containers(&mut self) {
        for (name, container) in self.containers.iter_mut() {
            let code = match container.process.as_mut() {
                Some(Process::Child(child)) => child
                    .try_wait()
                    .ok()
                    .flatten()
                    .map(|s| s.code().unwrap_or(137)),
                _ => None,
            };
            if let Some(code) = code {
                container.process = None;
                container.kill_at = None;
                container.state.ready = false;
                container.state.state = "Exited".into();
                container.state.exit_code = Some(code);
                container.restart_at = Some(Instant::now() + container.backoff);
                container.backoff = (container.backoff * 2).min(BACKOFF_MAX);
                self.state
                    .pods
                    .insert(name.clone(), container.state.clone());
            }
        }
    }

    async fn shutdown(&mut self) {
        // All at once, with a short grace: the node is going away, and the API server's
        // graceful shutdown would otherwise hold `stop` and `reset` for seconds each.
        let mut stopping = Vec::new();
        for container in self.containers.values_mut() {
            if let Some(Process::Child(child)) = container.process.take() {
                stopping.push(tokio::spawn(terminate(child, SHUTDOWN_GRACE)));
            }
            container.state.state = "Exited".into();
        }
        for task in stopping {
            let _ = task.await;
        }
        self.workers.shutdown(SHUTDOWN_GRACE).await;
        self.stop_containerd().await;
        self.kubelet_wanted = false;
        self.set_unit("kubelet", "inactive", "dead", 0);
        self.state.node_ready = false;
        self.state.node_reason = "the sandbox node is stopped".into();
        self.state.agent_pid = 0;
        for pod in self.state.pods.values_mut() {
            pod.state = "Exited".into();
        }
        let _ = self.files.write_state(&self.state);
        let _ = std::fs::remove_file(self.files.pid_path());
    }
}

async fn stop(container: &mut Container) {
    match container.process.take() {
        Some(Process::Child(child)) => terminate(child, STOP_GRACE).await,
        Some(Process::Idle) | None => {}
    }
    container.state.state = "Exited".into();
    container.state.exit_code.get_or_insert(0);
}

/// SIGTERM, then SIGKILL after `grace`; always reaped.
pub(super) async fn terminate(mut child: Child, grace: Duration) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        if tokio::time::timeout(grace, child.wait()).await.is_ok() {
            return;
        }
    }
    let _ = child.kill().await;
}
