//! The `kind` command line: the calls ckalab makes and the parsing of what kind prints.

/// The cluster ckalab creates unless told otherwise.
pub const DEFAULT_CLUSTER: &str = "ckalab";

/// The calls ckalab makes to `kind` (which picks docker or podman from the environment itself).
/// Every call names ckalab's own kubeconfig file, so the learner's `~/.kube/config` and its
/// current context are never touched.
#[derive(Debug, Clone)]
pub struct Kind {
    pub kubeconfig: String,
}

impl Kind {
    fn argv(&self, args: &[&str]) -> Vec<String> {
        std::iter::once("kind")
            .chain(args.iter().copied())
            .map(String::from)
            .collect()
    }

    pub fn version_argv(&self) -> Vec<String> {
        self.argv(&["version"])
    }

    pub fn get_clusters_argv(&self) -> Vec<String> {
        self.argv(&["get", "clusters"])
    }

    pub fn create_argv(&self, name: &str, config: &str) -> Vec<String> {
        self.argv(&[
            "create",
            "cluster",
            "--name",
            name,
            "--config",
            config,
            "--kubeconfig",
            &self.kubeconfig,
        ])
    }

    pub fn delete_argv(&self, name: &str) -> Vec<String> {
        self.argv(&[
            "delete",
            "cluster",
            "--name",
            name,
            "--kubeconfig",
            &self.kubeconfig,
        ])
    }

    pub fn kubeconfig_argv(&self, name: &str) -> Vec<String> {
        self.argv(&["get", "kubeconfig", "--name", name])
    }
}

/// `kind get clusters` prints one name a line (and "No kind clusters found." on stderr).
pub fn parse_clusters(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("No kind clusters"))
        .map(String::from)
        .collect()
}

/// The node containers of a cluster, as kind names them.
pub fn control_plane(cluster: &str) -> String {
    format!("{cluster}-control-plane")
}

/// The kube context kind writes for a cluster.
pub fn context(cluster: &str) -> String {
    format!("kind-{cluster}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv_of_every_kind_call() {
        let kind = Kind {
            kubeconfig: "/h/kind/ckalab.kubeconfig".into(),
        };
        assert_eq!(kind.get_clusters_argv(), ["kind", "get", "clusters"]);
        assert_eq!(
            kind.create_argv("ckalab", "/home/u/.local/share/ckalab/kind/ckalab.yaml"),
            [
                "kind",
                "create",
                "cluster",
                "--name",
                "ckalab",
                "--config",
                "/home/u/.local/share/ckalab/kind/ckalab.yaml",
                "--kubeconfig",
                "/h/kind/ckalab.kubeconfig"
            ]
        );
        assert_eq!(
            kind.delete_argv("ckalab"),
            [
                "kind",
                "delete",
                "cluster",
                "--name",
                "ckalab",
                "--kubeconfig",
                "/h/kind/ckalab.kubeconfig"
            ]
        );
        assert_eq!(
            kind.kubeconfig_argv("ckalab"),
            ["kind", "get", "kubeconfig", "--name", "ckalab"]
        );
    }

    #[test]
    fn clusters_parse_one_a_line() {
        assert_eq!(parse_clusters("ckalab\nkind\n"), ["ckalab", "kind"]);
        assert!(parse_clusters("").is_empty());
        assert!(parse_clusters("No kind clusters found.\n").is_empty());
        assert_eq!(control_plane("ckalab"), "ckalab-control-plane");
        assert_eq!(context("ckalab"), "kind-ckalab");
    }
}
