//! Static pod manifests as the kubelet model reads them: the container's command, and how its
//! paths map through `volumeMounts` and `hostPath` volumes to node paths. A path no mount
//! covers does not exist inside the container, as on a real node.

use serde::Deserialize;

use super::probe::{self, Probes};
use crate::engine::edit;

#[derive(Debug, Clone, PartialEq)]
pub struct StaticPod {
    pub name: String,
    pub command: Vec<String>,
    pub probes: Probes,
    mounts: Vec<Mount>,
}

#[derive(Debug, Clone, PartialEq)]
struct Mount {
    container_path: String,
    host_path: String,
}

#[derive(Deserialize)]
struct Manifest {
    metadata: Metadata,
    spec: Spec,
}

#[derive(Deserialize)]
struct Metadata {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    containers: Vec<Container>,
    #[serde(default)]
    volumes: Vec<Volume>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    command: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    volume_mounts: Vec<VolumeMount>,
    #[serde(default)]
    ports: Vec<ContainerPort>,
    startup_probe: Option<probe::Spec>,
    liveness_probe: Option<probe::Spec>,
    readiness_probe: Option<probe::Spec>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerPort {
    name: Option<String>,
    container_port: u16,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VolumeMount {
    mount_path: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    name: String,
    host_path: Option<HostPath>,
}

#[derive(Deserialize)]
struct HostPath {
    path: String,
}

impl StaticPod {
    /// Parses a manifest; the error reads like the kubelet's when it cannot decode a file.
    pub fn parse(text: &str) -> Result<StaticPod, String> {
        let manifest: Manifest = serde_saphyr::from_str(text).map_err(|err| {
            format!(
                "invalid pod: {}",
                err.to_string().lines().next().unwrap_or_default()
            )
        })?;
        let container = manifest
            .spec
            .containers
            .into_iter()
            .next()
            .ok_or("invalid pod: no containers")?;
        let mounts = container
            .volume_mounts
            .iter()
            .filter_map(|m| {
                let volume = manifest.spec.volumes.iter().find(|v| v.name == m.name)?;
                let host = volume.host_path.as_ref()?;
                Some(Mount {
                    container_path: m.mount_path.clone(),
                    host_path: host.path.clone(),
                })
            })
            .collect();
        let named = |name: &str| {
            container
                .ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name))
                .map(|p| p.container_port)
        };
        let resolve = |spec: &Option<probe::Spec>| spec.as_ref().and_then(|s| s.resolve(&named));
        let probes = Probes {
            startup: resolve(&container.startup_probe),
            liveness: resolve(&container.liveness_probe),
            readiness: resolve(&container.readiness_probe),
        };
        let mut command = container.command;
        command.extend(container.args);
        Ok(StaticPod {
            name: manifest.metadata.name,
            command,
            probes,
            mounts,
        })
    }

    /// The node path a container path lives at, through the longest matching mount.
    pub fn host_path(&self, container_path: &str) -> Option<String> {
        self.mounts
            .iter()
            .filter(|m| {
                container_path == m.container_path
                    || container_path
                        .starts_with(&format!("{}/", m.container_path.trim_end_matches('/')))
            })
            .max_by_key(|m| m.container_path.len())
            .map(|m| {
                format!(
                    "{}{}",
                    m.host_path.trim_end_matches('/'),
                    &container_path[m.container_path.trim_end_matches('/').len()..]
                )
            })
    }

    /// `--flag=value` arguments, in order (the binary's name excluded).
    pub fn flags(&self) -> Vec<(String, Option<String>)> {
        self.command
            .iter()
            .skip(1)
            .map(|arg| match arg.split_once('=') {
                Some((name, value)) => (name.to_string(), Some(value.to_string())),
                None => (arg.clone(), None),
            })
            .collect()
    }

    pub fn flag(&self, name: &str) -> Option<String> {
        self.flags()
            .into_iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v)
    }

    /// Whether an argument is a flag at all (`--x`), for arguments like `etcd`.
    pub fn is_flag(arg: &str) -> bool {
        edit::flag_name(arg).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::{StaticPod, probe};

    /// The etcd manifest `kubeadm init phase etcd local` wrote for a sandbox node.
    const ETCD: &str = include_str!("testdata/kubeadm-etcd.yaml");

    #[test]
    fn paths_map_through_host_path_volumes() {
        let mut pod = StaticPod::parse(ETCD).expect("parses");
        assert_eq!(pod.name, "etcd");
        assert_eq!(pod.flag("--data-dir").as_deref(), Some("/var/lib/etcd"));
        assert_eq!(
            pod.host_path("/var/lib/etcd").as_deref(),
            Some("/var/lib/etcd")
        );
        assert_eq!(
            pod.host_path("/etc/kubernetes/pki/etcd/server.crt")
                .as_deref(),
            Some("/etc/kubernetes/pki/etcd/server.crt")
        );
        assert_eq!(
            pod.host_path("/etc/kubernetes/pki/ca.crt"),
            None,
            "only the etcd certs are mounted"
        );

        let moved = crate::engine::edit::set_key(
            ETCD,
            crate::engine::edit::Format::Yaml,
            &crate::engine::keypath::KeyPath::parse("spec.volumes[name=etcd-data].hostPath.path")
                .expect("path"),
            &serde_json::json!("/var/lib/etcd-restored"),
        )
        .expect("edit");
        pod = StaticPod::parse(&moved).expect("parses");
        assert_eq!(
            pod.host_path("/var/lib/etcd/member").as_deref(),
            Some("/var/lib/etcd-restored/member")
        );
    }

    #[test]
    fn kubeadms_probes_resolve_their_named_port() {
        let pod = StaticPod::parse(ETCD).expect("parses");
        let liveness = pod.probes.liveness.expect("etcd has a liveness probe");
        assert_eq!(
            liveness.action,
            probe::Action::Http {
                https: false,
                host: "127.0.0.1".into(),
                port: 41107,
                path: "/livez".into(),
            },
            "probe-port is the metrics port"
        );
        assert_eq!(liveness.failure_threshold, 8);
        assert_eq!(liveness.period, std::time::Duration::from_secs(10));
        assert!(pod.probes.startup.is_some() && pod.probes.readiness.is_some());
    }

    #[test]
    fn a_broken_manifest_is_an_error() {
        assert!(StaticPod::parse("spec: [").is_err());
        assert!(StaticPod::parse("metadata: {name: x}\nspec: {containers: []}\n").is_err());
    }
}
