//! The seed labs on the sandbox with the real etcd and containerd, through the CLI, the way a
//! learner works: their own fixes, reset, two sandboxes, a node that dies. The canonical cycle
//! of every lab (start, FAIL for the intended reason, near miss, solution, reset, stop) is
//! generated from the catalog by tests/cycle.rs.

use std::path::Path;

use serde_json::{Value, json};

use crate::Test;

/// One learner with a sandbox; stops the node even when an assertion fails.
struct Lab {
    test: Test,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.test.command(&["stop"]).output();
    }
}

impl Lab {
    fn start(id: &str, variant: Option<&str>) -> Lab {
        let lab = Lab { test: Test::new() };
        let mut args = vec!["start", id];
        if let Some(v) = variant {
            args.extend(["--variant", v]);
        }
        lab.test.run(&args).success().stdout_has("Task");
        lab
    }

    fn check(&self) -> (Option<i32>, Value) {
        let run = self.test.run(&["check", "--json"]);
        (run.code(), run.json())
    }

    /// Grades every second until the lab passes, for up to a minute.
    #[track_caller]
    fn wait_for_pass(&self, why: &str) {
        let mut last = Value::Null;
        for _ in 0..60 {
            let (code, report) = self.check();
            if code == Some(0) {
                return;
            }
            last = report;
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        panic!("{why}: {last:#}");
    }
}

/// The pid of the node agent of the sandbox in `home`.
fn agent_pid(home: &Path) -> u32 {
    std::fs::read_to_string(home.join("sandbox/controlplane/var/lib/ckalab/agent.pid"))
        .expect("agent.pid")
        .trim()
        .parse()
        .expect("a pid")
}

/// `rm -rf` a folder that running processes still write into: a file made between listing a
/// folder and removing it fails the removal, so remove again, as one would retype `rm -rf`.
fn remove_while_written(dir: &Path) {
    for _ in 0..20 {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => continue,
            Err(e) => panic!("rm -rf {}: {e}", dir.display()),
        }
    }
    panic!("rm -rf {}: still not empty after 20 tries", dir.display());
}

fn alive(pid: u32) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty()
        && !stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z')
}

/// On a node that outlives the lab (kind), a second attempt needs kubeadm's manifest back and
/// the restore directories free again: reset gives both, without rebuilding the node.
#[test]
fn reset_after_etcd_restore_frees_the_restore_directory_and_puts_the_manifest_back() {
    let lab = Lab::start("etcd-restore", None);
    let root = lab.test.home().join("sandbox/controlplane");
    let manifest = || {
        std::fs::read_to_string(root.join("etc/kubernetes/manifests/etcd.yaml")).expect("etcd.yaml")
    };
    let original = manifest();
    lab.test.run(&["solution", "--apply"]).success();
    lab.wait_for_pass("the solution must pass");
    assert!(manifest().contains("/var/lib/etcd-restored"));

    let reset = lab
        .test
        .run(&["reset"])
        .success()
        .stdout_has("Put back 4 file(s)")
        .stdout_has("healthy");
    assert!(
        !reset.stdout().contains("rebuilding"),
        "restored, not rebuilt"
    );
    assert_eq!(manifest(), original, "kubeadm's manifest is back");
    assert!(
        !root.join("var/lib/etcd-restored").exists(),
        "the restore directory is free for the next attempt"
    );
    assert!(
        root.join("var/lib/etcd").is_dir(),
        "etcd's own data is untouched"
    );
}

#[test]
fn the_apiserver_logs_say_why_it_exits() {
    let lab = Lab::start("apiserver-flags", Some("misspelled-flag"));
    let mut logs = String::new();
    for _ in 0..30 {
        let run = lab.test.run(&["shell", "-c", "crictl ps -a | awk '/kube-apiserver/ && /Exited/ {print $1; exit}' | xargs -r crictl logs 2>&1"]);
        logs = run.stdout();
        if logs.contains("unknown flag") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(
        logs.contains("Error: unknown flag: --service-cluster-ip-ranges"),
        "{logs}"
    );
    lab.test
        .run(&[
            "shell",
            "-c",
            "journalctl -u kubelet -n 5 && systemctl status kubelet",
        ])
        .success()
        .stdout_has("kubelet.service");
}

#[test]
fn the_kubelet_journal_shows_the_cri_error() {
    let lab = Lab::start("cri-plugin-disabled", None);
    let run = lab
        .test
        .run(&["shell", "-c", "journalctl -u kubelet"])
        .success();
    run.stdout_has(
        // klog escapes the quotes inside err="...", as the real kubelet's journal shows.
        r#"validate CRI v1 runtime API for endpoint \"unix:///var/run/containerd/containerd.sock\""#,
    )
    .stdout_has("Unimplemented");
    lab.test
        .run(&["shell", "-c", "crictl ps"])
        .exit(1)
        .stderr_has("unknown service runtime.v1.RuntimeService");
    lab.test
        .run(&["status", "--json"])
        .success()
        .stdout_has("node_root");
    lab.test.run(&["hint"]).success().stdout_has("Hint 1 of 4");
}

#[test]
fn two_sandboxes_run_at_once() {
    let a = std::thread::spawn(|| Lab::start("runtime-endpoint", None));
    let b = std::thread::spawn(|| Lab::start("runtime-endpoint", None));
    let (a, b) = (a.join().expect("a"), b.join().expect("b"));
    let port = |lab: &Lab| {
        let path = lab
            .test
            .home()
            .join("sandbox/controlplane/var/lib/ckalab/node.json");
        let node: Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("node")).expect("json");
        [
            node["apiserver"].clone(),
            node["etcd_client"].clone(),
            node["etcd_peer"].clone(),
        ]
    };
    let (pa, pb) = (port(&a), port(&b));
    assert!(pa.iter().all(|p| !pb.contains(p)), "{pa:?} vs {pb:?}");
    a.test.run(&["solution", "--apply"]).success();
    assert_eq!(a.check().0, Some(0));
    assert_eq!(
        b.check().0,
        Some(1),
        "fixing one sandbox leaves the other broken"
    );
}

#[test]
fn missing_tools_are_invalid_with_the_install_command() {
    let test = Test::new().env("PATH", "/nonexistent");
    test.run(&["start", "etcd-restore"])
        .exit(3)
        .stderr_has("containerd is not installed")
        .stderr_has("sudo apt-get install -y containerd");
    // etcd 3.6 is built from Go modules, not installed.
    Test::new()
        .env("CKALAB_BIN_CACHE", "/nonexistent")
        .run(&["start", "etcd-restore"])
        .exit(3)
        .stderr_has("etcd is not installed")
        .stderr_has("bash scripts/build-k8s.sh");
}

/// Where the machine refuses bubblewrap its namespaces (unprivileged user namespaces off), the
/// node cannot be built: ckalab says so, with the setting to change.
#[test]
fn a_machine_that_refuses_namespaces_is_told_what_to_change() {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().expect("dir");
    let bwrap = bin.path().join("bwrap");
    std::fs::write(
        &bwrap,
        "#!/bin/sh\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n",
    )
    .expect("write");
    std::fs::set_permissions(&bwrap, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Test::new()
        .env("PATH", path)
        .run(&["start", "etcd-restore"])
        .exit(4)
        .stderr_has("bwrap: setting up uid map: Permission denied")
        .stderr_has("unprivileged user namespaces");
}

#[test]
fn grading_a_stopped_node_is_invalid() {
    let lab = Lab::start("runtime-endpoint", None);
    let node = lab.test.home().join("sandbox/controlplane");
    let pid = agent_pid(lab.test.home());
    // The node dies behind ckalab's back (machine rebooted, agent killed).
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    for _ in 0..100 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let run = lab.test.run(&["check"]).exit(3);
    run.stdout_has("INVALID").stdout_has("not running");
    assert!(Path::new(&node).exists());
}

#[test]
fn an_interrupted_start_is_cleaned_up_by_the_next() {
    let test = Test::new();
    let mut child = test
        .command(&["start", "etcd-restore"])
        .spawn()
        .expect("start");
    let pid_file = test
        .home()
        .join("sandbox/controlplane/var/lib/ckalab/agent.pid");
    for _ in 0..200 {
        if pid_file.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let first_agent: u32 = std::fs::read_to_string(&pid_file)
        .expect("agent started")
        .trim()
        .parse()
        .expect("pid");
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let _ = child.wait();
    test.run(&["check"])
        .exit(2)
        .stderr_has("no lab is in progress");

    let lab = Lab { test };
    lab.test.run(&["start", "etcd-restore"]).success();
    assert!(
        !alive(first_agent),
        "the next start stops the interrupted node's agent"
    );
    assert_eq!(lab.check().0, Some(1));
}

#[test]
fn reset_puts_back_what_setup_changed_without_a_rebuild() {
    let lab = Lab::start("runtime-endpoint", None);
    let root = lab.test.home().join("sandbox/controlplane");
    let read = |p: &str| std::fs::read_to_string(root.join(p)).expect(p);
    let ca_before = read("etc/kubernetes/pki/ca.crt");
    assert!(read("var/lib/kubelet/config.yaml").contains("dockershim.sock"));

    lab.test
        .run(&["reset"])
        .success()
        .stdout_has("Put back 1 file(s)")
        .stdout_has("healthy");
    let config = read("var/lib/kubelet/config.yaml");
    assert!(
        config.contains("unix:///var/run/containerd/containerd.sock")
            && !config.contains("dockershim"),
        "the kubelet config is the original again:\n{config}"
    );
    assert_eq!(
        read("etc/kubernetes/pki/ca.crt"),
        ca_before,
        "the node was restored, not rebuilt"
    );
    assert!(
        !root.join("var/lib/ckalab/originals").exists(),
        "the record is consumed"
    );
    lab.test
        .run(&["shell", "-c", "systemctl is-active kubelet"])
        .success();
}

#[test]
fn reset_rebuilds_a_node_the_learner_broke_beyond_setup() {
    let lab = Lab::start("cri-plugin-disabled", None);
    // The learner's own damage, which setup never recorded: the kubelet config is gone.
    lab.test
        .run(&["shell", "-c", "rm /var/lib/kubelet/config.yaml"])
        .success();
    lab.test
        .run(&["reset"])
        .success()
        .stdout_has("rebuilding the node from scratch")
        .stdout_has("healthy");
    lab.test
        .run(&[
            "shell",
            "-c",
            "test -f /var/lib/kubelet/config.yaml && systemctl is-active kubelet",
        ])
        .success();
}

/// In `ckalab shell` the sandbox answers what a learner types on a kubeadm node: the real
/// v1.35 kubectl against the real API server, the static pods as mirror pods, etcd 3.6's
/// tools, crictl, and the runtime socket at its documented path.
#[test]
fn the_node_answers_as_a_kubeadm_node_does() {
    let lab = Lab::start("etcd-restore", None);
    // etcdctl as the exam has it typed, with the flags the manifest shows: no ETCDCTL_*
    // variable may shadow them (etcdctl 3.6 refuses that).
    let commands = "kubectl get nodes && kubectl get pods -n kube-system && kubectl version \
                    && kubectl get lease -n kube-node-lease controlplane \
                    && etcdutl version && crictl ps && test -S /var/run/containerd/containerd.sock \
                    && ETCDCTL_API=3 etcdctl --endpoints=$(grep -- --advertise-client-urls \
                       /etc/kubernetes/manifests/etcd.yaml | cut -d= -f2) \
                       --cacert=/etc/kubernetes/pki/etcd/ca.crt \
                       --cert=/etc/kubernetes/pki/etcd/server.crt \
                       --key=/etc/kubernetes/pki/etcd/server.key endpoint health \
                    && helm version --short";
    let mut last = String::new();
    for _ in 0..20 {
        let run = lab.test.run(&["shell", "-c", commands]);
        last = format!("{}{}", run.stdout(), run.stderr());
        let mirrored = last
            .lines()
            .any(|l| l.starts_with("kube-apiserver-controlplane") && l.contains("Running"));
        if run.code() == Some(0) && mirrored {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    for expected in [
        "controlplane   Ready    control-plane",
        "etcd-controlplane",
        "kube-scheduler-controlplane",
        "Client Version: v1.35.",
        "Server Version: v1.35.",
        "HOLDER",
        "etcdutl version: 3.6.",
        "kube-apiserver",
        "is healthy: successfully committed proposal",
        "v3.22.0",
    ] {
        assert!(
            last.contains(expected),
            "{expected:?} missing from:\n{last}"
        );
    }
}

/// The simulated workers behave as a cluster's nodes do for what the API shows: three Ready
/// nodes, a Deployment's replicas Running with pod IPs, a Job complete, and scheduling that
/// follows taints and node labels.
#[test]
fn the_workers_run_workloads_as_a_cluster_does() {
    let lab = Lab::start("etcd-restore", None);
    let setup = "kubectl taint node node02 dedicated=gpu:NoSchedule \
        && kubectl label node node01 disk=ssd \
        && kubectl create deployment web --image=nginx --replicas=3 \
        && kubectl create job pi --image=busybox -- true \
        && kubectl run pinned --image=busybox \
               --overrides='{\"spec\":{\"nodeSelector\":{\"disk\":\"ssd\"}}}' -- sleep 3600";
    let until = |ready: &dyn Fn(&str) -> bool, commands: &str| -> String {
        let mut last = String::new();
        for _ in 0..60 {
            let run = lab.test.run(&["shell", "-c", commands]);
            last = format!("{}{}", run.stdout(), run.stderr());
            if run.code() == Some(0) && ready(&last) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
        last
    };
    let nodes = until(
        &|out| out.matches(" Ready ").count() == 3,
        "kubectl get nodes --no-headers",
    );
    for node in ["controlplane", "node01", "node02"] {
        assert!(
            nodes
                .lines()
                .any(|l| l.starts_with(node) && l.contains(" Ready ")),
            "{node} is not Ready:\n{nodes}"
        );
    }
    // The controller-manager makes the `default` ServiceAccount pods need a few seconds after
    // the API server is up, as on a cluster kubeadm has just made.
    until(
        &|out| out.contains("default"),
        "kubectl get serviceaccount default --no-headers",
    );
    lab.test.run(&["shell", "-c", setup]).success();
    let pods = until(
        &|out| {
            out.contains("deployment.apps/web   3/3")
                && out.contains("1/1")
                && out
                    .lines()
                    .any(|l| l.starts_with("pinned") && l.contains("Running"))
                && out
                    .lines()
                    .any(|l| l.starts_with("job.batch/pi") && l.contains("Complete"))
        },
        "kubectl get deployment,job && kubectl get pods -o wide --no-headers",
    );
    assert!(pods.contains("deployment.apps/web   3/3"), "{pods}");
    let pod_lines: Vec<&str> = pods.lines().filter(|l| l.starts_with("web-")).collect();
    assert_eq!(pod_lines.len(), 3, "{pods}");
    for line in &pod_lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[2], "Running", "{line}");
        assert!(fields[5].starts_with("10.244."), "no pod IP: {line}");
        // node02 is tainted and the control plane is too: every replica lands on node01.
        assert_eq!(fields[6], "node01", "{line}");
    }
    assert!(
        pods.lines()
            .any(|l| l.starts_with("pinned") && l.split_whitespace().nth(6) == Some("node01")),
        "{pods}"
    );
    assert!(
        pods.lines()
            .any(|l| l.starts_with("pi-") && l.contains("Completed")),
        "{pods}"
    );
}

/// The kubelet's probes, from the manifest kubeadm wrote: a learner who breaks the scheduler's
/// probe port sees it fail its startup probe and restart, in the journal and in the restarts.
#[test]
fn a_failing_probe_restarts_the_container_as_the_kubelet_does() {
    let lab = Lab::start("etcd-restore", None);
    // Quicker probes than kubeadm's (10 s apart, 24 tries), on a port nothing listens on.
    lab.test
        .run(&[
            "shell",
            "-c",
            "sed -i -e 's/failureThreshold: 24/failureThreshold: 2/' \
             -e 's/initialDelaySeconds: 10/initialDelaySeconds: 1/' \
             -e 's/periodSeconds: 10/periodSeconds: 1/' \
             -e 's/containerPort: [0-9]*/containerPort: 1/' \
             /etc/kubernetes/manifests/kube-scheduler.yaml",
        ])
        .success();
    let mut journal = String::new();
    for _ in 0..30 {
        std::thread::sleep(std::time::Duration::from_secs(1));
        journal = lab
            .test
            .run(&["shell", "-c", "journalctl -u kubelet"])
            .success()
            .stdout();
        if journal.contains("failed startup probe, will be restarted") {
            break;
        }
    }
    assert!(
        journal.contains(r#"probeType="Startup""#)
            && journal.contains("dial tcp 127.0.0.1:1: connect: connection refused")
            && journal.contains("Container kube-scheduler failed startup probe, will be restarted"),
        "{journal}"
    );
    let mut pods = String::new();
    for _ in 0..30 {
        pods = lab
            .test
            .run(&[
                "shell",
                "-c",
                "kubectl get pod -n kube-system kube-scheduler-controlplane --no-headers",
            ])
            .stdout();
        let restarts = pods
            .split_whitespace()
            .nth(3)
            .and_then(|r| r.parse::<u32>().ok());
        if pods.contains("0/1") && restarts.is_some_and(|r| r >= 1) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    panic!("the mirror pod shows neither Ready 0/1 nor a restart: {pods}");
}

/// A control-plane process that dies is started again by the node agent, as the kubelet
/// restarts a static pod's container: a new attempt, and the API server answers again.
#[test]
fn a_killed_kube_apiserver_is_restarted() {
    let lab = Lab::start("etcd-restore", None);
    let state = lab
        .test
        .home()
        .join("sandbox/controlplane/var/lib/ckalab/state.json");
    let pid = |state: &Path| -> i32 {
        let state: Value =
            serde_json::from_str(&std::fs::read_to_string(state).expect("state")).expect("json");
        state["pods"]["kube-apiserver"]["pid"]
            .as_i64()
            .and_then(|p| i32::try_from(p).ok())
            .expect("the apiserver's pid")
    };
    let killed = pid(&state);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(killed),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill kube-apiserver");
    let mut last = String::new();
    for _ in 0..60 {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let run = lab.test.run(&[
            "shell",
            "-c",
            "crictl ps --name kube-apiserver && kubectl get --raw /readyz",
        ]);
        last = format!("{}{}", run.stdout(), run.stderr());
        let attempt = last
            .lines()
            .find(|l| l.contains("kube-apiserver-controlplane"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|a| a.parse::<u32>().ok());
        if run.code() == Some(0) && attempt.is_some_and(|a| a >= 1) && last.ends_with("ok") {
            assert_ne!(pid(&state), killed, "a new process");
            return;
        }
    }
    panic!("kube-apiserver did not come back:\n{last}");
}

/// The reset record, a setup step's paths and the node's own symbolic links are resolved as the
/// node sees them: `..` stops at the node's `/` and a link to `/tmp/...` is the node's `/tmp`.
/// Nothing outside the node is deleted, overwritten or read.
#[test]
fn reset_never_reaches_outside_the_node() {
    let lab = Lab::start("runtime-endpoint", None);
    let outside = tempfile::tempdir().expect("outside");
    let victim_dir = outside.path().join("victim-dir");
    let victim_file = outside.path().join("victim-file");
    std::fs::create_dir_all(victim_dir.join("inner")).expect("victim dir");
    std::fs::write(&victim_file, "precious").expect("victim file");
    let node = lab.test.home().join("sandbox/controlplane");
    let ups = "/..".repeat(12);
    // A tampered record: an "absent" path that climbs out, and a saved copy written back
    // through a link that points outside.
    let index = node.join("var/lib/ckalab/originals/index.json");
    let mut record: Value =
        serde_json::from_str(&std::fs::read_to_string(&index).expect("index")).expect("json");
    record["paths"][format!("{ups}{}", victim_dir.display())] = json!("absent");
    record["paths"]["/etc/escape/victim-file"] = json!({"file": {"saved_as": "0.orig"}});
    std::fs::write(&index, record.to_string()).expect("tamper");
    std::os::unix::fs::symlink(outside.path(), node.join("etc/escape")).expect("link");

    lab.test.run(&["reset"]).success();
    assert!(
        victim_dir.join("inner").is_dir(),
        "the outside folder is still there"
    );
    assert_eq!(
        std::fs::read_to_string(&victim_file).expect("still there"),
        "precious"
    );
}

/// The home, the progress database and the kubeconfigs that hold keys are the learner's alone,
/// and a home whose name holds a quote builds a working node (no path is pasted into the
/// node's generated configuration).
#[test]
fn the_home_and_its_secrets_are_private_whatever_its_name() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().expect("dir");
    let home = parent.path().join("my \"ckalab\" home");
    let test = Test::new().env("CKALAB_HOME", home.to_string_lossy());
    let started = test.run(&["start", "runtime-endpoint"]);
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default()
    };
    let modes = [
        mode(&home),
        mode(&home.join("progress.db")),
        mode(&home.join("sandbox/controlplane/etc/kubernetes/admin.conf")),
        mode(&home.join("sandbox/controlplane/etc/kubernetes/super-admin.conf")),
    ];
    let check = test.run(&["check"]);
    test.run(&["stop"]).success();
    started.success();
    assert_eq!(
        check.code(),
        Some(1),
        "the lab runs and grades: {}",
        check.stdout()
    );
    assert_eq!(modes, [0o700, 0o600, 0o600, 0o600]);
}

/// `kill -9` of the node agent leaves containerd, etcd and the control plane running: `stop`
/// (like `start` and `reset`) ends them with the node's process group, not with the agent.
#[test]
fn a_killed_agent_leaves_nothing_behind_once_stopped() {
    let lab = Lab::start("etcd-restore", None);
    let node = lab.test.home().join("sandbox/controlplane/var/lib/ckalab");
    let state: Value =
        serde_json::from_str(&std::fs::read_to_string(node.join("state.json")).expect("state"))
            .expect("json");
    let mut pids: Vec<u32> = state["pods"]
        .as_object()
        .expect("pods")
        .values()
        .filter_map(|p| p["pid"].as_u64())
        .chain(state["units"]["containerd"]["pid"].as_u64())
        .filter_map(|p| u32::try_from(p).ok())
        .filter(|p| *p > 0)
        .collect();
    assert!(
        pids.len() >= 5,
        "etcd, the control plane and containerd: {state:#}"
    );
    let agent = agent_pid(lab.test.home());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(agent as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill -9 the agent");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(pids.iter().any(|p| alive(*p)), "the orphans run on");

    lab.test.run(&["stop"]).success();
    pids.retain(|p| alive(*p));
    assert!(pids.is_empty(), "left running after stop: {pids:?}");
}

/// Two `ckalab start` at once on one home: one builds the node, the other says what is busy
/// and changes nothing (it used to leave a second agent and containerd behind).
#[test]
fn two_starts_on_one_home_are_serialised() {
    let lab = Lab { test: Test::new() };
    let runs: Vec<std::process::Output> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    lab.test
                        .command(&["start", "runtime-endpoint"])
                        .output()
                        .expect("ckalab runs")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a start"))
            .collect()
    });
    let codes: Vec<Option<i32>> = runs.iter().map(|r| r.status.code()).collect();
    let busy = runs
        .iter()
        .find(|r| r.status.code() == Some(4))
        .map(|r| String::from_utf8_lossy(&r.stderr).into_owned())
        .unwrap_or_default();
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(4)),
        "{codes:?}: {busy}"
    );
    assert!(
        busy.contains("another ckalab command is changing this home's node: `ckalab start`"),
        "{busy}"
    );
    // The node the first one built is the only one, and grades as usual.
    assert_eq!(lab.check().0, Some(1));
}

/// A home named through a symbolic link is the same home as its real path: `stop` by either
/// name ends the node `start` made by the other (it used to say "Stopped" and stop nothing).
#[test]
fn a_home_named_through_a_link_is_one_home() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("real")).expect("real");
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("link")).expect("link");
    let by_link = Test::new().env(
        "CKALAB_HOME",
        dir.path().join("link/home").to_string_lossy(),
    );
    let by_path = Test::new().env(
        "CKALAB_HOME",
        dir.path().join("real/home").to_string_lossy(),
    );
    by_link.run(&["start", "runtime-endpoint"]).success();
    let agent = agent_pid(&dir.path().join("real/home"));
    by_path
        .run(&["status"])
        .success()
        .stdout_has("runtime-endpoint");
    by_path.run(&["stop"]).success();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let left = alive(agent);
    let _ = by_link.run(&["stop"]);
    assert!(!left, "stop by the real path ended the agent");
}

/// The node's own links never lead ckalab's writes out: a node whose agent log is a link to a
/// file outside gets a fresh log when the node starts again; the outside file is untouched.
#[test]
fn a_linked_agent_log_is_replaced_not_followed() {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::{Pid, getpgid};
    let lab = Lab::start("runtime-endpoint", None);
    let node = lab.test.home().join("sandbox/controlplane");
    let agent = agent_pid(lab.test.home()) as i32;
    killpg(
        getpgid(Some(Pid::from_raw(agent))).expect("group"),
        Signal::SIGKILL,
    )
    .expect("kill");
    let outside = tempfile::tempdir().expect("outside");
    let victim = outside.path().join("victim.log");
    std::fs::write(&victim, "precious").expect("victim");
    let log = node.join("var/log/ckalab-agent.log");
    std::fs::remove_file(&log).expect("old log");
    std::os::unix::fs::symlink(&victim, &log).expect("link");

    lab.test.run(&["reset"]).success();
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    assert!(
        !std::fs::symlink_metadata(&log)
            .expect("log")
            .file_type()
            .is_symlink()
    );
}

/// A node whose folder is deleted while it runs still stops: its processes are found by the
/// node's mounts, not by the files that were in the folder.
#[test]
fn a_node_whose_folder_was_deleted_still_stops() {
    let lab = Lab::start("runtime-endpoint", None);
    let agent = agent_pid(lab.test.home());
    remove_while_written(&lab.test.home().join("sandbox"));
    lab.test.run(&["stop"]).success();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!alive(agent), "the agent of the deleted node is gone");
}
