//! Which tools are on this machine, their versions, and how to install what is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

/// Who needs a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Need {
    /// The sandbox backend: containerd, bubblewrap and openssl on this machine (etcd and the
    /// Kubernetes binaries are built from Go modules: `crate::binaries`).
    Sandbox,
    /// The kind backend: a container engine, kind and kubectl.
    Kind,
}

/// From a version line: what ckalab uses the tool with (`Ok`), or why it cannot (`Err`).
type Judge = fn(&str) -> Result<String, String>;

struct Tool {
    name: &'static str,
    version_args: &'static [&'static str],
    needed_by: Need,
    purpose: &'static str,
    install: &'static str,
    /// Judges the version line: what ckalab will use it with, or why it will not.
    judge: Option<Judge>,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "containerd",
        version_args: &["--version"],
        needed_by: Need::Sandbox,
        purpose: "the sandbox node's container runtime, serving CRI",
        install: "sudo apt-get install -y containerd",
        judge: None,
    },
    Tool {
        name: "bwrap",
        version_args: &["--version"],
        needed_by: Need::Sandbox,
        purpose: "runs the sandbox node in its own mount namespace, its files at their real paths (bubblewrap)",
        install: "sudo apt-get install -y bubblewrap",
        judge: None,
    },
    Tool {
        name: "openssl",
        version_args: &["version"],
        needed_by: Need::Sandbox,
        purpose: "inspects and renews certificates (you use it in labs)",
        install: "sudo apt-get install -y openssl",
        judge: None,
    },
    Tool {
        name: "docker",
        version_args: &["--version"],
        needed_by: Need::Kind,
        purpose: "runs kind's node containers (or podman)",
        install: "sudo apt-get install -y docker.io  (macOS: install Docker Desktop or colima)",
        judge: None,
    },
    Tool {
        name: "podman",
        version_args: &["--version"],
        needed_by: Need::Kind,
        purpose: "runs kind's node containers instead of docker (KIND_EXPERIMENTAL_PROVIDER=podman)",
        install: "sudo apt-get install -y podman  (macOS: brew install podman)",
        judge: None,
    },
    Tool {
        name: "kind",
        version_args: &["version"],
        needed_by: Need::Kind,
        purpose: "creates the practice cluster",
        install: "curl -Lo kind https://kind.sigs.k8s.io/dl/v0.33.0/kind-linux-amd64 && sudo install kind /usr/local/bin/  (macOS: brew install kind)",
        judge: Some(kind_release),
    },
    Tool {
        name: "kubectl",
        version_args: &["version", "--client"],
        needed_by: Need::Kind,
        purpose: "talks to the cluster (you use it in labs)",
        install: "curl -LO https://dl.k8s.io/release/v1.35.0/bin/linux/amd64/kubectl && sudo install kubectl /usr/local/bin/  (macOS: brew install kubectl)",
        judge: None,
    },
];

/// Which node image a kind version line gets, or why ckalab cannot use that kind.
fn kind_release(line: &str) -> Result<String, String> {
    use crate::backend::kind::releases;
    match releases::of_version(line) {
        Some(release) => Ok(format!(
            "kind {} clusters run {} (containerd {})",
            release.minor, release.node_image, release.containerd
        )),
        None => Err(format!(
            "ckalab has a Kubernetes v1.35 node image for kind {} only, and kind runs an image only with the release that built it: install one of those",
            releases::supported()
        )),
    }
}

/// The command that installs a tool ckalab knows, as `ckalab doctor` prints it.
pub fn install_command(name: &str) -> Option<&'static str> {
    TOOLS.iter().find(|t| t.name == name).map(|t| t.install)
}

/// What was found of one tool.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub name: &'static str,
    pub needed_by: Need,
    pub purpose: &'static str,
    /// Where it is on PATH, if anywhere.
    pub path: Option<PathBuf>,
    /// The first line it printed for its version command.
    pub version: Option<String>,
    /// The command that installs it.
    pub install: &'static str,
    /// What ckalab uses the version found with (kind: its node image).
    pub note: Option<String>,
    /// Why the version found is not one ckalab can use, if it is not.
    pub advice: Option<String>,
}

impl Probe {
    pub fn found(&self) -> bool {
        self.path.is_some()
    }
}

/// One of the real binaries built from Go modules (`crate::binaries`).
#[derive(Debug, Clone, Serialize)]
pub struct BinaryProbe {
    pub name: &'static str,
    /// Its build family (`kubernetes`, `etcd`, `crictl`, `kwok`) and pinned version.
    pub family: &'static str,
    pub pinned: String,
    /// Where it is, once its family's build finished.
    pub path: Option<PathBuf>,
    /// The first line it printed for `--version` (`version` for kubectl, etcdctl, etcdutl).
    pub version: Option<String>,
}

/// The whole picture: every tool, and which backends can run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tools: Vec<Probe>,
    pub sandbox_ready: bool,
    pub kind_ready: bool,
    /// The real control-plane binaries, and the cache they are built into.
    pub binaries: Vec<BinaryProbe>,
    pub binaries_dir: PathBuf,
    /// The command that builds the missing ones.
    pub binaries_build: &'static str,
}

impl Report {
    pub fn tool(&self, name: &str) -> Option<&Probe> {
        self.tools.iter().find(|t| t.name == name)
    }
}

pub fn examine() -> Report {
    let tools: Vec<Probe> = TOOLS.iter().map(probe).collect();
    let found = |name: &str| tools.iter().any(|t| t.name == name && t.found());
    let root = crate::binaries::cache_root();
    // etcd 3.6 and its tools come from the Go build, the rest from the distribution.
    let control_plane_built = crate::binaries::families()
        .iter()
        .filter(|f| f.name == "etcd" || f.name == "kubernetes")
        .all(|f| f.is_built(&root));
    let sandbox_ready =
        ["containerd", "bwrap", "openssl"].into_iter().all(found) && control_plane_built;
    let kind_ready = (found("docker") || found("podman")) && found("kind") && found("kubectl");
    Report {
        tools,
        sandbox_ready,
        kind_ready,
        binaries: probe_binaries(&root),
        binaries_dir: root,
        binaries_build: crate::binaries::BUILD_COMMAND,
    }
}

fn probe_binaries(root: &Path) -> Vec<BinaryProbe> {
    let mut probes = Vec::new();
    for family in crate::binaries::families() {
        let built = family.is_built(root);
        for &name in family.binaries {
            let path = built.then(|| family.dir(root).join(name));
            let args: &[&str] = match name {
                "kubectl" => &["version", "--client"],
                "etcdctl" | "etcdutl" => &["version"],
                "kubeadm" => &["version", "-o", "short"],
                "helm" => &["version", "--short"],
                _ => &["--version"],
            };
            probes.push(BinaryProbe {
                name,
                family: family.name,
                pinned: family.version.clone(),
                version: path.as_deref().and_then(|p| version_line(p, args)),
                path,
            });
        }
    }
    probes
}

fn probe(tool: &Tool) -> Probe {
    let path = find_in_path(tool.name);
    let version = path
        .as_deref()
        .and_then(|p| version_line(p, tool.version_args));
    let verdict = version
        .as_deref()
        .zip(tool.judge)
        .map(|(line, judge)| judge(line));
    let (note, advice) = match verdict {
        Some(Ok(note)) => (Some(note), None),
        Some(Err(advice)) => (None, Some(advice)),
        None => (None, None),
    };
    Probe {
        name: tool.name,
        needed_by: tool.needed_by,
        purpose: tool.purpose,
        path,
        version,
        install: tool.install,
        note,
        advice,
    }
}

/// The first executable named `name` on PATH.
pub fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn version_line(program: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new(program).args(args).output().ok()?;
    let text = if output.stdout.is_empty() {
        output.stderr
    } else {
        output.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}
