//! A kind node container, reached through docker or podman (kind's
//! `KIND_EXPERIMENTAL_PROVIDER`). One implementation serves both: they differ only in the
//! binary. Every action is an argv; a path or value from a lab is always its own argument.

use std::collections::BTreeMap;

use super::external::{self, ExternalError};

/// How long one command in a node may take: a hung container must not hang `check`.
pub const NODE_COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The label kind puts on every node container of a cluster.
pub const CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";

/// The container engine kind runs its nodes with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Docker,
    Podman,
}

impl Provider {
    /// kind's own rule: `KIND_EXPERIMENTAL_PROVIDER` names it; unset, docker when it is
    /// installed, else podman when that is.
    pub fn from_env() -> Provider {
        let installed = |program| crate::doctor::find_in_path(program).is_some();
        match std::env::var("KIND_EXPERIMENTAL_PROVIDER").as_deref() {
            Ok("podman") => Provider::Podman,
            Ok("docker") => Provider::Docker,
            _ if !installed("docker") && installed("podman") => Provider::Podman,
            _ => Provider::Docker,
        }
    }

    pub fn binary(self) -> &'static str {
        match self {
            Provider::Docker => "docker",
            Provider::Podman => "podman",
        }
    }

    fn argv(self, args: &[&str]) -> Vec<String> {
        std::iter::once(self.binary())
            .chain(args.iter().copied())
            .map(String::from)
            .collect()
    }

    /// `docker inspect <container>`: JSON with the container's labels.
    pub fn inspect_argv(self, container: &str) -> Vec<String> {
        self.argv(&["inspect", "--type", "container", container])
    }
}

/// Why ckalab will not touch a container.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    External(#[from] ExternalError),
    /// The container is not a node of the cluster ckalab created.
    #[error(
        "refusing to touch container `{container}`: it is not a node of ckalab's kind cluster `{cluster}` (its {CLUSTER_LABEL} label is {found})\nhint: ckalab only changes the cluster it created; `ckalab cluster up` creates it"
    )]
    NotOurs {
        container: String,
        cluster: String,
        found: String,
    },
    /// `docker inspect` printed something ckalab does not understand.
    #[error("cannot read `{container}`'s labels from `{binary} inspect`: {reason}")]
    Inspect {
        container: String,
        binary: &'static str,
        reason: String,
    },
}

/// A node container ckalab has verified belongs to its cluster. The only way to get one is
/// [`KindNode::verify`], so no action can reach a container that is not ckalab's.
#[derive(Debug, Clone)]
pub struct KindNode {
    provider: Provider,
    container: String,
    /// The host port it publishes its API server on, when it does (the control plane).
    api_port: Option<u16>,
}

impl KindNode {
    /// Checks the container's `io.x-k8s.kind.cluster` label before anything else is run in it.
    pub fn verify(
        provider: Provider,
        cluster: &str,
        container: &str,
    ) -> Result<KindNode, NodeError> {
        let json = external::run(&provider.inspect_argv(container), None)?;
        let labels = parse_labels(&json).map_err(|reason| NodeError::Inspect {
            container: container.to_string(),
            binary: provider.binary(),
            reason,
        })?;
        match labels.get(CLUSTER_LABEL) {
            Some(found) if found == cluster => Ok(KindNode {
                provider,
                container: container.to_string(),
                api_port: published_api_port(&json),
            }),
            found => Err(NodeError::NotOurs {
                container: container.to_string(),
                cluster: cluster.to_string(),
                found: found.map_or_else(|| "missing".to_string(), |f| format!("`{f}`")),
            }),
        }
    }

    /// A node that skipped verification: only for tests that pin argv.
    #[cfg(test)]
    pub(crate) fn unverified(provider: Provider, container: &str) -> KindNode {
        KindNode {
            provider,
            container: container.to_string(),
            api_port: None,
        }
    }

    pub fn api_port(&self) -> Option<u16> {
        self.api_port
    }

    pub fn container(&self) -> &str {
        &self.container
    }

    /// `docker exec <container> <argv…>`.
    pub fn exec_argv<S: AsRef<str>>(&self, argv: &[S]) -> Vec<String> {
        let mut full = self.provider.argv(&["exec", &self.container]);
        full.extend(argv.iter().map(|a| a.as_ref().to_string()));
        full
    }

    /// `docker exec -i <container> <argv…>`, for commands that read their standard input.
    pub fn exec_stdin_argv<S: AsRef<str>>(&self, argv: &[S]) -> Vec<String> {
        let mut full = self.provider.argv(&["exec", "-i", &self.container]);
        full.extend(argv.iter().map(|a| a.as_ref().to_string()));
        full
    }

    /// `docker exec -it <container> <argv…>`, for the learner's interactive shell.
    pub fn interactive_argv<S: AsRef<str>>(&self, argv: &[S]) -> Vec<String> {
        let mut full = self.provider.argv(&["exec", "-it", &self.container]);
        full.extend(argv.iter().map(|a| a.as_ref().to_string()));
        full
    }

    pub fn read_argv(&self, path: &str) -> Vec<String> {
        self.exec_argv(&["cat", "--", path])
    }

    /// Writes standard input to `path` (tee's copy on stdout is discarded by the caller).
    pub fn write_argv(&self, path: &str) -> Vec<String> {
        self.exec_stdin_argv(&["tee", "--", path])
    }

    pub fn run<S: AsRef<str>>(&self, argv: &[S]) -> Result<String, ExternalError> {
        self.run_bytes(&self.exec_argv(argv), None)
            .map(|out| String::from_utf8_lossy(&out).into_owned())
    }

    /// Runs a full `docker exec` argv, stopped after `NODE_COMMAND_TIMEOUT`.
    pub fn run_bytes(
        &self,
        argv: &[String],
        stdin: Option<&[u8]>,
    ) -> Result<Vec<u8>, ExternalError> {
        external::run_within(argv, stdin, Some(NODE_COMMAND_TIMEOUT))
    }

    pub fn read(&self, path: &str) -> Result<String, ExternalError> {
        self.read_bytes(path)
            .map(|out| String::from_utf8_lossy(&out).into_owned())
    }

    pub fn read_bytes(&self, path: &str) -> Result<Vec<u8>, ExternalError> {
        self.run_bytes(&self.read_argv(path), None)
    }

    pub fn write(&self, path: &str, bytes: &[u8]) -> Result<(), ExternalError> {
        self.run_bytes(&self.write_argv(path), Some(bytes))
            .map(drop)
    }
}

/// The labels of the first container in `docker inspect`/`podman inspect` output.
pub fn parse_labels(inspect_json: &str) -> Result<BTreeMap<String, String>, String> {
    let value: serde_json::Value =
        serde_json::from_str(inspect_json).map_err(|e| format!("not JSON: {e}"))?;
    let first = value
        .as_array()
        .and_then(|a| a.first())
        .ok_or("no container in the output")?;
    Ok(first["Config"]["Labels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default())
}

/// The host port the first container in `docker inspect` output publishes the API server
/// (6443/tcp) on, found where kind itself looks: Docker Desktop's
/// `desktop.docker.io/ports/6443/tcp` label (`10.0.1.7:6443`), else `NetworkSettings.Ports`.
pub fn published_api_port(inspect_json: &str) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_str(inspect_json).ok()?;
    let first = value.as_array()?.first()?;
    match first["Config"]["Labels"]["desktop.docker.io/ports/6443/tcp"].as_str() {
        Some(endpoint) => endpoint.rsplit_once(':')?.1.parse().ok(),
        None => first["NetworkSettings"]["Ports"]["6443/tcp"][0]["HostPort"]
            .as_str()?
            .parse()
            .ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(provider: Provider) -> KindNode {
        KindNode::unverified(provider, "ckalab-control-plane")
    }

    #[test]
    fn docker_and_podman_differ_only_in_the_binary() {
        let restart = super::super::node_commands::systemctl("restart", "containerd");
        let docker = node(Provider::Docker).exec_argv(&restart);
        assert_eq!(
            docker,
            [
                "docker",
                "exec",
                "ckalab-control-plane",
                "systemctl",
                "restart",
                "containerd"
            ]
        );
        let podman = node(Provider::Podman).exec_argv(&restart);
        assert_eq!(podman[0], "podman");
        assert_eq!(podman[1..], docker[1..]);
    }

    #[test]
    fn file_actions_keep_the_path_one_argument() {
        let n = node(Provider::Docker);
        let path = "/etc/kubernetes/manifests/kube apiserver.yaml; rm -rf /";
        assert_eq!(
            n.read_argv(path),
            ["docker", "exec", "ckalab-control-plane", "cat", "--", path]
        );
        assert_eq!(
            n.write_argv(path),
            [
                "docker",
                "exec",
                "-i",
                "ckalab-control-plane",
                "tee",
                "--",
                path
            ]
        );
        assert_eq!(
            Provider::Podman.inspect_argv("ckalab-worker"),
            ["podman", "inspect", "--type", "container", "ckalab-worker"]
        );
    }

    #[test]
    fn labels_parse_from_docker_inspect() {
        let json = include_str!("../../../tests/fixtures/kind/docker-inspect-control-plane.json");
        let labels = parse_labels(json).expect("labels");
        assert_eq!(labels[CLUSTER_LABEL], "ckalab");
        assert_eq!(labels["io.x-k8s.kind.role"], "control-plane");
        assert!(parse_labels("[]").is_err());
        assert!(parse_labels("Error: No such object").is_err());
    }

    #[test]
    fn the_published_api_port_is_found_where_kind_looks() {
        let json = include_str!("../../../tests/fixtures/kind/docker-inspect-control-plane.json");
        assert_eq!(published_api_port(json), Some(39121));
        // Docker Desktop's label wins, as in kind.
        let desktop = json.replace(
            r#""io.x-k8s.kind.role": "control-plane""#,
            r#""io.x-k8s.kind.role": "control-plane", "desktop.docker.io/ports/6443/tcp": "127.0.0.1:51234""#,
        );
        assert_eq!(published_api_port(&desktop), Some(51234));
        // A worker publishes nothing.
        let worker = r#"[{"Config": {"Labels": {}}, "NetworkSettings": {"Ports": {}}}]"#;
        assert_eq!(published_api_port(worker), None);
    }
}
