//! The kind backend's contract with docker, podman and kind, proven with fake executables on
//! PATH that log every argv they receive: `cluster up` makes exactly the expected calls, a
//! second `up` changes nothing, missing tools are named with their install command, and a
//! container without ckalab's label is refused before anything runs in it.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::Test;

/// A directory of fake `docker`, `podman` and `kind`, and the log of their calls.
struct Fakes {
    dir: tempfile::TempDir,
}

const KIND: &str = r#"#!/bin/sh
echo "kind $*" >> "$FAKE_DIR/calls"
case "$1 $2" in
  "version ") echo "kind ${FAKE_KIND_VERSION:-v0.32.0} go1.25.4 linux/amd64" ;;
  "get clusters") [ -f "$FAKE_DIR/created" ] && /bin/cat "$FAKE_DIR/created" || echo "No kind clusters found." >&2 ;;
  "create cluster") echo "$4" > "$FAKE_DIR/created" ;;
  "delete cluster") /bin/rm -f "$FAKE_DIR/created" ;;
  "get kubeconfig") /bin/sed "s/kind-ckalab/kind-$4/g" "$FAKE_DIR/kubeconfig" ;;
  *) exit 1 ;;
esac
"#;

const ENGINE: &str = r#"#!/bin/sh
echo "$(/usr/bin/basename "$0") $*" >> "$FAKE_DIR/calls"
case "$1" in
  inspect)
    label=$(/bin/cat "$FAKE_DIR/label" 2>/dev/null || echo "$FAKE_LABEL")
    /bin/sed "s/\"io.x-k8s.kind.cluster\": \"ckalab\"/\"io.x-k8s.kind.cluster\": \"$label\"/" "$FAKE_DIR/inspect.json" ;;
  exec)
    shift; [ "$1" = "-i" ] && shift; shift
    case "$1" in
      kubectl) /bin/cat "$FAKE_DIR/nodes.json" ;;
      cat) /bin/cat "$FAKE_DIR/etcd.yaml" ;;
      openssl) echo "OpenSSL 3.0.15 3 Sep 2024" ;;
      ctr)
        case "$4 $5" in
          "images mount") echo "$6" > "$FAKE_DIR/mounted" ;;
          "images pull") [ ! -f "$FAKE_DIR/no-network" ] || { echo "ctr: failed to resolve reference \"$6\": dial tcp: lookup gcr.io: no such host" >&2; exit 1; } ;;
        esac ;;
      # The node's /usr/local/bin holds what was copied there; Kubernetes' etcd image may lack
      # etcdutl, etcd's own image has both tools.
      test)
        case "$3" in
          /usr/local/bin/*) /bin/grep -qx -- "$3" "$FAKE_DIR/installed" 2>/dev/null ;;
          */etcdutl) ! /bin/grep -q '^registry.k8s.io/' "$FAKE_DIR/mounted" || [ ! -f "$FAKE_DIR/k8s-image-lacks-etcdutl" ] ;;
        esac ;;
      cp) echo "$3" >> "$FAKE_DIR/installed" ;;
    esac ;;
  *) exit 1 ;;
esac
"#;

const KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:39121
  name: kind-ckalab
contexts:
- context:
    cluster: kind-ckalab
    user: kind-ckalab
  name: kind-ckalab
current-context: kind-ckalab
users:
- name: kind-ckalab
  user: {}
";

const ETCD_MANIFEST: &str = "apiVersion: v1
kind: Pod
metadata:
  name: etcd
  namespace: kube-system
spec:
  containers:
  - command:
    - etcd
    image: registry.k8s.io/etcd:3.6.6-0
    name: etcd
";

const READY_NODES: &str = r#"{"items": [
  {"metadata": {"name": "ckalab-control-plane"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
  {"metadata": {"name": "ckalab-worker"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
]}"#;

impl Fakes {
    /// Fakes for `tools` (any of docker, podman, kind).
    fn new(tools: &[&str]) -> Fakes {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str, exec: bool| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            if exec {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                    .expect("chmod");
            }
        };
        for tool in tools {
            write(tool, if *tool == "kind" { KIND } else { ENGINE }, true);
        }
        write("kubeconfig", KUBECONFIG, false);
        write("etcd.yaml", ETCD_MANIFEST, false);
        write("nodes.json", READY_NODES, false);
        write(
            "inspect.json",
            include_str!("fixtures/kind/docker-inspect-control-plane.json"),
            false,
        );
        write("calls", "", false);
        Fakes { dir }
    }

    /// A learner whose PATH holds only the fakes.
    fn test(&self, label: &str) -> Test {
        Test::new()
            .env("PATH", self.dir.path().to_string_lossy())
            .env("FAKE_DIR", self.dir.path().to_string_lossy())
            .env("FAKE_LABEL", label)
    }

    /// Creates a marker file the fake engine reads (`no-network`, `k8s-image-lacks-etcdutl`).
    fn mark(&self, name: &str) {
        std::fs::write(self.dir.path().join(name), "").expect("marker");
    }

    fn unmark(&self, name: &str) {
        std::fs::remove_file(self.dir.path().join(name)).expect("marker");
    }

    /// kind lists `cluster`, as if someone had created it.
    fn kind_lists(&self, cluster: &str) {
        std::fs::write(self.dir.path().join("created"), cluster).expect("created");
    }

    /// From now on the control plane publishes its API server on `port`.
    fn publish_api_on(&self, port: u16) {
        let path = self.dir.path().join("inspect.json");
        let json = std::fs::read_to_string(&path).expect("inspect.json");
        std::fs::write(&path, json.replace("\"39121\"", &format!("\"{port}\""))).expect("write");
    }

    /// From now on the containers carry this cluster label, whatever the test's `FAKE_LABEL`.
    fn relabel(&self, label: &str) {
        std::fs::write(self.dir.path().join("label"), label).expect("label");
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("calls"))
            .expect("calls")
            .lines()
            .map(String::from)
            .collect()
    }
}

fn kind_dir(test: &Test) -> PathBuf {
    test.home().join("kind")
}

/// Nothing ran inside a node container.
#[track_caller]
fn assert_no_exec(calls: &[String]) {
    assert!(
        !calls.iter().any(|c| c.starts_with("docker exec")),
        "nothing may run in the container: {calls:?}"
    );
}

/// `cluster down` deletes `name` through kind, and `cluster status` then finds no cluster
/// under the default name.
fn down_and_gone(fakes: &Fakes, test: &Test, name: &str) {
    test.run(&["cluster", "down"])
        .success()
        .stdout_has(&format!("Deleted the kind cluster `{name}`"));
    assert!(
        fakes
            .calls()
            .last()
            .is_some_and(|c| c.starts_with(&format!("kind delete cluster --name {name} ")))
    );
    test.run(&["cluster", "status"])
        .success()
        .stdout_has("No kind cluster `ckalab`");
}

#[test]
fn cluster_up_makes_the_expected_calls_and_a_second_up_is_a_no_op() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("ckalab");
    test.run(&["cluster", "up"])
        .success()
        .stdout_has("is up and its nodes are Ready");
    let dir = kind_dir(&test);
    let cp = "ckalab-control-plane";
    let mount = "/var/lib/ckalab/etcd-image";
    let expected = [
        "kind get clusters".to_string(),
        "kind version".to_string(),
        format!(
            "kind create cluster --name ckalab --config {} --kubeconfig {}",
            dir.join("ckalab.yaml").display(),
            dir.join("ckalab.kubeconfig").display()
        ),
        "kind get kubeconfig --name ckalab".into(),
        format!("docker inspect --type container {cp}"),
        format!(
            "docker exec {cp} kubectl --kubeconfig=/etc/kubernetes/admin.conf get nodes -o json"
        ),
        format!("docker exec {cp} cat -- /etc/kubernetes/manifests/etcd.yaml"),
        format!("docker exec {cp} mkdir -p {mount}"),
        format!("docker exec {cp} ctr -n k8s.io images mount registry.k8s.io/etcd:3.6.6-0 {mount}"),
        format!("docker exec {cp} test -x {mount}/usr/local/bin/etcdctl"),
        format!("docker exec {cp} cp {mount}/usr/local/bin/etcdctl /usr/local/bin/etcdctl"),
        format!("docker exec {cp} test -x {mount}/usr/local/bin/etcdutl"),
        format!("docker exec {cp} cp {mount}/usr/local/bin/etcdutl /usr/local/bin/etcdutl"),
        format!("docker exec {cp} ctr -n k8s.io images unmount --rm {mount}"),
        format!("docker exec {cp} test -x /usr/local/bin/etcdctl"),
        format!("docker exec {cp} test -x /usr/local/bin/etcdutl"),
        format!("docker exec {cp} openssl version"),
    ];
    assert_eq!(fakes.calls(), expected);
    // The pinned config went to kind, and ckalab keeps kind's kubeconfig to itself.
    let config = std::fs::read_to_string(dir.join("ckalab.yaml")).expect("config");
    assert!(
        config.contains("kindest/node:v1.35.5@sha256:"),
        "kind v0.32's image"
    );
    assert!(
        std::fs::read_to_string(dir.join("ckalab.kubeconfig"))
            .expect("kubeconfig")
            .contains("kind-ckalab")
    );
    let db = rusqlite::Connection::open(test.database()).expect("db");
    let provider: String = db
        .query_row(
            "SELECT provider FROM clusters WHERE name = 'ckalab'",
            [],
            |r| r.get(0),
        )
        .expect("the cluster is recorded");
    assert_eq!(provider, "docker");

    test.run(&["cluster", "up"])
        .success()
        .stdout_has("already up");
    assert_eq!(
        fakes.calls()[expected.len()..],
        [
            "kind get clusters",
            "docker inspect --type container ckalab-control-plane",
            "docker exec ckalab-control-plane test -x /usr/local/bin/etcdctl",
            "docker exec ckalab-control-plane test -x /usr/local/bin/etcdutl",
        ],
        "only the cluster list, the ownership check and the tools again"
    );

    let status = test.run(&["cluster", "status", "--json"]).success().json();
    assert_eq!(status["exists"], true);
    assert_eq!(status["context"], "kind-ckalab");
    assert_eq!(status["nodes"].as_array().map(Vec::len), Some(2));

    down_and_gone(&fakes, &test, "ckalab");
}

#[test]
fn podman_is_used_when_kind_is_told_to() {
    let fakes = Fakes::new(&["podman", "kind"]);
    let test = fakes
        .test("ckalab")
        .env("KIND_EXPERIMENTAL_PROVIDER", "podman");
    test.run(&["cluster", "up"]).success();
    let calls = fakes.calls();
    assert!(
        calls
            .iter()
            .any(|c| c == "podman inspect --type container ckalab-control-plane")
    );
    assert!(!calls.iter().any(|c| c.starts_with("docker")));
}

#[test]
fn podman_alone_is_used_without_being_named_as_kind_does() {
    let fakes = Fakes::new(&["podman", "kind"]);
    fakes.test("ckalab").run(&["cluster", "up"]).success();
    let calls = fakes.calls();
    assert!(calls.iter().any(|c| c.starts_with("podman exec")));
    assert!(!calls.iter().any(|c| c.starts_with("docker")));
}

#[test]
fn missing_docker_or_kind_is_named_with_its_install_command() {
    let only_kind = Fakes::new(&["kind"]);
    only_kind
        .test("ckalab")
        .run(&["cluster", "up"])
        .exit(4)
        .stderr_has("`docker` is not installed")
        .stderr_has("apt-get install -y docker.io");
    let only_docker = Fakes::new(&["docker"]);
    only_docker
        .test("ckalab")
        .run(&["cluster", "up"])
        .exit(4)
        .stderr_has("`kind` is not installed")
        .stderr_has("kind.sigs.k8s.io/dl/v0.33.0");
    assert!(only_kind.calls().is_empty() && only_docker.calls().is_empty());
}

#[test]
fn a_container_without_ckalabs_label_is_refused_before_any_exec() {
    let fakes = Fakes::new(&["docker", "kind"]);
    fakes
        .test("someone-elses-cluster")
        .run(&["cluster", "up"])
        .exit(4)
        .stderr_has("refusing to touch container `ckalab-control-plane`")
        .stderr_has("`someone-elses-cluster`");
    let calls = fakes.calls();
    assert!(calls.iter().any(|c| c.starts_with("docker inspect")));
    assert_no_exec(&calls);
}

#[test]
fn start_on_kind_refuses_a_foreign_container_before_any_setup() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("someone-elses-cluster");
    test.run(&["start", "runtime-endpoint", "--backend", "kind"])
        .exit(4)
        .stderr_has("refusing to touch container `ckalab-control-plane`");
    let calls = fakes.calls();
    assert_no_exec(&calls);
    test.run(&["check"])
        .exit(2)
        .stderr_has("no lab is in progress");
}

#[test]
fn start_picks_the_sandbox_when_no_kind_cluster_is_up() {
    // kind answers but lists no cluster: the sandbox is chosen, and start says so. The lab
    // itself then needs containerd, which this PATH lacks: INVALID with the install command.
    let fakes = Fakes::new(&["docker", "kind"]);
    fakes
        .test("ckalab")
        .run(&["start", "cri-plugin-disabled"])
        .stdout_has("no ckalab kind cluster is up: using the sandbox backend")
        .stderr_has("apt-get install -y containerd");
}

#[test]
fn a_cluster_made_under_another_name_is_the_one_labs_and_cluster_commands_use() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("practice");
    test.run(&["cluster", "up", "--name", "practice"])
        .success()
        .stdout_has("context kind-practice");
    let status = test.run(&["cluster", "status", "--json"]).success().json();
    assert_eq!(status["name"], "practice");
    assert_eq!(status["exists"], true);

    // start chooses it, and its safety check is on its container: a foreign label stops the
    // lab before anything runs in it.
    fakes.relabel("someone-elses-cluster");
    let before = fakes.calls().len();
    test.run(&["start", "runtime-endpoint"])
        .exit(4)
        .stdout_has("ckalab's kind cluster `practice` is up: using the kind backend")
        .stderr_has("refusing to touch container `practice-control-plane`");
    let calls = fakes.calls().split_off(before);
    assert!(
        calls.contains(&"docker inspect --type container practice-control-plane".to_string()),
        "{calls:?}"
    );
    assert_no_exec(&calls);

    // Forgotten once deleted: the default name is back.
    down_and_gone(&fakes, &test, "practice");
}

/// A lab in progress on `cluster` (whose kubeconfig `cluster up` left in ckalab's home), as
/// `start` leaves it in `session.json`. `versions` are the Kubernetes and etcd minors `start`
/// read from the node: absent in sessions written before ckalab kept them.
fn kind_session(test: &Test, cluster: &str, versions: Option<(u32, u32)>) {
    std::fs::create_dir_all(kind_dir(test)).expect("kind dir");
    std::fs::write(
        kind_dir(test).join(format!("{cluster}.kubeconfig")),
        KUBECONFIG.replace("kind-ckalab", &format!("kind-{cluster}")),
    )
    .expect("kubeconfig");
    let mut session = serde_json::json!({
        "attempt_id": 1,
        "lab_id": "runtime-endpoint",
        "variant": null,
        "backend": "kind",
        "started_at": "2026-11-25T10:00:00Z",
        "blind": false,
        "hints_shown": 0,
        "solution_revealed": false,
        "passed_at": null,
    });
    if let Some((kubernetes_minor, etcd_minor)) = versions {
        session["kind"] = serde_json::json!({
            "cluster": cluster,
            "versions": {"kubernetes_minor": kubernetes_minor, "etcd_minor": etcd_minor},
        });
    }
    std::fs::write(test.home().join("session.json"), session.to_string()).expect("session");
}

#[test]
fn commands_after_start_reuse_the_sessions_cluster_and_versions() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("practice");
    kind_session(&test, "practice", Some((33, 5)));
    test.run(&["shell", "-c", "true"]).success();
    assert_eq!(
        fakes.calls(),
        [
            "docker inspect --type container practice-control-plane",
            "docker exec practice-control-plane bash -c true",
        ],
        "the label is checked every time; the versions are not read again"
    );
    // The versions the session holds decide what lessons name: 1.33 keeps the endpoint in
    // kubeadm-flags.env.
    test.run(&["learn", "kubelet"])
        .success()
        .stdout_has("(Kubernetes 1.33, etcd 3.5), kubeadm keeps it in")
        .stdout_has("/var/lib/kubelet/kubeadm-flags.env.\n");
}

#[test]
fn a_session_without_the_clusters_versions_reads_them_from_the_node() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("ckalab");
    kind_session(&test, "ckalab", None);
    test.run(&["shell", "-c", "true"]).success();
    let calls = fakes.calls();
    assert_eq!(
        calls.first().map(String::as_str),
        Some("docker inspect --type container ckalab-control-plane")
    );
    assert!(
        calls.contains(&"docker exec ckalab-control-plane kubelet --version".to_string()),
        "{calls:?}"
    );
}

#[test]
fn stop_on_kind_ends_the_lab_puts_back_its_files_and_keeps_the_cluster() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("ckalab");
    kind_session(&test, "ckalab", Some((35, 6)));
    test.run(&["stop"])
        .success()
        .stdout_has("Ended the lab and put back 0 file(s)")
        .stdout_has("kind cluster stays up");
    let calls = fakes.calls();
    let cp = "docker exec ckalab-control-plane";
    assert_eq!(
        calls,
        [
            "docker inspect --type container ckalab-control-plane".to_string(),
            format!("{cp} cat -- /var/lib/ckalab/originals/index.json"),
            format!("{cp} rm -rf -- /var/lib/ckalab/originals"),
        ],
        "nothing was recorded, so nothing restarts and the cluster is not deleted"
    );
    test.run(&["check"])
        .exit(2)
        .stderr_has("no lab is in progress");

    // Without docker the lab still ends, and the learner is told when its files go back.
    kind_session(&test, "ckalab", None);
    let test = test.env("PATH", "/nonexistent");
    test.run(&["stop"])
        .success()
        .stdout_has("could not be put back")
        .stdout_has("the next `ckalab start` on kind puts them back first");
    test.run(&["check"]).exit(2);
}

#[test]
fn a_kind_cluster_ckalab_did_not_create_is_never_adopted_or_changed() {
    // The learner's own kind cluster happens to be called `ckalab`: its label matches, but
    // ckalab holds no kubeconfig for it.
    let fakes = Fakes::new(&["docker", "kind"]);
    fakes.kind_lists("ckalab");
    let test = fakes.test("ckalab");
    test.run(&["cluster", "up"])
        .exit(4)
        .stderr_has("refusing to use the kind cluster `ckalab`")
        .stderr_has("ckalab has no kubeconfig for it")
        .stderr_has("`ckalab cluster up --name <another name>`");
    test.run(&["start", "runtime-endpoint", "--backend", "kind"])
        .exit(4)
        .stderr_has("`ckalab cluster up` did not create it");
    let calls = fakes.calls();
    assert_no_exec(&calls);
    assert!(
        !calls.iter().any(|c| c.starts_with("kind create")),
        "{calls:?}"
    );
}

#[test]
fn a_cluster_recreated_behind_ckalabs_back_is_refused_before_any_exec() {
    let fakes = Fakes::new(&["docker", "kind"]);
    let test = fakes.test("ckalab");
    test.run(&["cluster", "up"]).success();
    // `kind delete cluster` then `kind create cluster --name ckalab` by hand: same name and
    // label, another API server port, so ckalab's context no longer reaches it.
    fakes.publish_api_on(40123);
    let before = fakes.calls().len();
    test.run(&["start", "runtime-endpoint"])
        .exit(4)
        .stderr_has("points at https://127.0.0.1:39121")
        .stderr_has("publishes its API server on port 40123")
        .stderr_has("recreated without ckalab");
    let calls = fakes.calls().split_off(before);
    assert_no_exec(&calls);
}

#[test]
fn etcdutl_missing_from_kubernetes_etcd_image_comes_from_etcds_own_and_a_failed_fetch_is_retried() {
    let fakes = Fakes::new(&["docker", "kind"]);
    fakes.mark("k8s-image-lacks-etcdutl");
    fakes.mark("no-network");
    let test = fakes.test("ckalab");
    test.run(&["cluster", "up"])
        .exit(4)
        .stderr_has("could not install etcdutl on the control plane")
        .stderr_has("no such host")
        .stderr_has("Run `ckalab cluster up` again");
    let cp = "docker exec ckalab-control-plane";
    let mount = "/var/lib/ckalab/etcd-image";
    let calls = fakes.calls();
    assert!(calls.contains(&format!(
        "{cp} cp {mount}/usr/local/bin/etcdctl /usr/local/bin/etcdctl"
    )));
    assert!(
        !calls
            .iter()
            .any(|c| c.ends_with("/usr/local/bin/etcdutl /usr/local/bin/etcdutl")),
        "{calls:?}"
    );

    // With the network back, `up` finishes the job instead of calling the cluster up.
    fakes.unmark("no-network");
    let before = fakes.calls().len();
    test.run(&["cluster", "up"])
        .success()
        .stdout_has("was up but not ready for labs");
    let recorded: String = rusqlite::Connection::open(test.database())
        .expect("db")
        .query_row("SELECT name FROM clusters", [], |r| r.get(0))
        .expect("recorded once it is ready");
    assert_eq!(recorded, "ckalab");
    let calls = fakes.calls().split_off(before);
    let upstream = "gcr.io/etcd-development/etcd:v3.6.6";
    for expected in [
        format!("{cp} ctr -n k8s.io images pull {upstream}"),
        format!("{cp} ctr -n k8s.io images mount {upstream} {mount}"),
        format!("{cp} cp {mount}/usr/local/bin/etcdutl /usr/local/bin/etcdutl"),
        format!("{cp} ctr -n k8s.io images unmount --rm {mount}"),
    ] {
        assert!(calls.contains(&expected), "{expected} in {calls:?}");
    }
    let before = fakes.calls().len();
    test.run(&["cluster", "up"])
        .success()
        .stdout_has("already up");
    assert!(
        !fakes.calls()[before..].iter().any(|c| c.contains("ctr")),
        "nothing is fetched once both tools are there"
    );
}

#[test]
fn cluster_up_refuses_a_kind_without_a_v1_35_image_of_ckalabs() {
    let fakes = Fakes::new(&["docker", "kind"]);
    fakes
        .test("ckalab")
        .env("FAKE_KIND_VERSION", "v0.29.0")
        .run(&["cluster", "up"])
        .exit(4)
        .stderr_has("`kind v0.29.0 go1.25.4 linux/amd64`: ckalab has no Kubernetes v1.35 node image for this kind release")
        .stderr_has("install kind v0.31, v0.32 or v0.33");
    assert!(
        !fakes.calls().iter().any(|c| c.starts_with("kind create")),
        "nothing is created"
    );
}
