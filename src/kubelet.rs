//! How a kubeadm kubelet finds its container runtime: `containerRuntimeEndpoint` in
//! `/var/lib/kubelet/config.yaml` (kubeadm writes it there from 1.34), overridden by a
//! `--container-runtime-endpoint` flag in `KUBELET_KUBEADM_ARGS` of
//! `/var/lib/kubelet/kubeadm-flags.env` (where kubeadm 1.27–1.33 put it). The sandbox's kubelet
//! model, the kind backend's check and the version-aware lab step all read and write it here.

pub const CONFIG_FILE: &str = "/var/lib/kubelet/config.yaml";
pub const FLAGS_FILE: &str = "/var/lib/kubelet/kubeadm-flags.env";
pub const DEFAULT_ENDPOINT: &str = "unix:///run/containerd/containerd.sock";

const FLAG: &str = "--container-runtime-endpoint";
const ARGS_VAR: &str = "KUBELET_KUBEADM_ARGS";

/// The endpoint the kubelet uses: the flag when kubeadm-flags.env sets it (a flag beats the
/// config file), else the field of the parsed config.yaml, else the kubelet's default.
pub fn effective_endpoint(flags_env: &str, config: &serde_json::Value) -> String {
    endpoint_flag(flags_env)
        .or_else(|| {
            config["containerRuntimeEndpoint"]
                .as_str()
                .map(String::from)
        })
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// The `--container-runtime-endpoint` value in kubeadm-flags.env, if it sets one.
pub fn endpoint_flag(flags_env: &str) -> Option<String> {
    args_line(flags_env)?
        .split_whitespace()
        .find_map(|word| word.strip_prefix(FLAG)?.strip_prefix('='))
        .map(String::from)
}

/// kubeadm-flags.env with `--container-runtime-endpoint=<endpoint>` set in
/// `KUBELET_KUBEADM_ARGS` (replacing the flag, or adding it, or adding the line).
pub fn set_endpoint_flag(flags_env: &str, endpoint: &str) -> String {
    let flag = format!("{FLAG}={endpoint}");
    let mut found = false;
    let mut lines: Vec<String> = flags_env
        .lines()
        .map(|line| {
            let Some(args) = line
                .strip_prefix(ARGS_VAR)
                .and_then(|rest| rest.strip_prefix('='))
            else {
                return line.to_string();
            };
            found = true;
            let mut words: Vec<String> = args
                .trim_matches('"')
                .split_whitespace()
                .filter(|w| !w.starts_with(FLAG))
                .map(String::from)
                .collect();
            words.push(flag.clone());
            format!("{ARGS_VAR}=\"{}\"", words.join(" "))
        })
        .collect();
    if !found {
        lines.push(format!("{ARGS_VAR}=\"{flag}\""));
    }
    lines.join("\n") + "\n"
}

fn args_line(flags_env: &str) -> Option<&str> {
    flags_env.lines().find_map(|line| {
        line.strip_prefix(ARGS_VAR)?
            .strip_prefix('=')
            .map(|v| v.trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS_133: &str = "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=172.18.0.3 --pod-infra-container-image=registry.k8s.io/pause:3.10\"\n";

    #[test]
    fn a_flag_beats_the_config_file() {
        let yaml = |text: &str| crate::engine::edit::parse_yaml(text).expect("YAML");
        let config = &yaml("containerRuntimeEndpoint: unix:///var/run/crio/crio.sock\n");
        assert_eq!(
            effective_endpoint(FLAGS_133, config),
            "unix:///run/containerd/containerd.sock"
        );
        assert_eq!(
            effective_endpoint("KUBELET_KUBEADM_ARGS=\"--node-ip=1.2.3.4\"\n", config),
            "unix:///var/run/crio/crio.sock"
        );
        assert_eq!(
            effective_endpoint("", &yaml("kind: KubeletConfiguration\n")),
            DEFAULT_ENDPOINT
        );
    }

    #[test]
    fn setting_the_flag_keeps_the_other_flags() {
        let changed = set_endpoint_flag(FLAGS_133, "unix:///var/run/dockershim.sock");
        assert_eq!(
            changed,
            "KUBELET_KUBEADM_ARGS=\"--node-ip=172.18.0.3 --pod-infra-container-image=registry.k8s.io/pause:3.10 --container-runtime-endpoint=unix:///var/run/dockershim.sock\"\n"
        );
        assert_eq!(
            endpoint_flag(&changed).as_deref(),
            Some("unix:///var/run/dockershim.sock")
        );
        assert_eq!(
            set_endpoint_flag("", "unix:///x.sock"),
            "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///x.sock\"\n"
        );
    }
}
