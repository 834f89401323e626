//! The kind releases ckalab supports, each with the Kubernetes v1.35 node image built for it.
//! kind supports a node image only with the release that built it, so `cluster up` asks the
//! installed kind its version and creates the cluster from that release's image, pinned by
//! digest. Images from each release's notes ("Images pre-built for this release").

/// One kind release line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindRelease {
    /// `v0.32` (any patch of it).
    pub minor: &'static str,
    /// Its pre-built Kubernetes 1.35 node image.
    pub node_image: &'static str,
    /// The containerd in its node images. Their `/etc/containerd/config.toml` is still a
    /// version 2 file (kind's base image writes `version = 2` with the
    /// `io.containerd.grpc.v1.cri` sections, which containerd 2.x migrates when it loads it).
    pub containerd: &'static str,
}

/// Oldest first.
pub const RELEASES: [KindRelease; 3] = [
    KindRelease {
        minor: "v0.31",
        node_image: "kindest/node:v1.35.0@sha256:452d707d4862f52530247495d180205e029056831160e22870e37e3f6c1ac31f",
        containerd: "2.2.0",
    },
    KindRelease {
        minor: "v0.32",
        node_image: "kindest/node:v1.35.5@sha256:ce977ae6d65918d0b58a5f8b5e940429c2ce42fa3a5619ec2bbc60b949c0ac95",
        containerd: "2.3.1",
    },
    KindRelease {
        minor: "v0.33",
        node_image: "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0",
        containerd: "2.3.4",
    },
];

/// What the kind configs under `kind-configs/` write where each node's image goes.
pub const NODE_IMAGE_PLACEHOLDER: &str = "{{ node_image }}";

/// The release a `kind version` line names (`kind v0.32.0 go1.24.2 linux/amd64`).
pub fn of_version(line: &str) -> Option<&'static KindRelease> {
    let version = line
        .split_whitespace()
        .find(|word| word.starts_with("v0."))?;
    RELEASES.iter().find(|r| {
        version
            .strip_prefix(r.minor)
            .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// The supported releases, for messages: `v0.31, v0.32 or v0.33`.
pub fn supported() -> String {
    let minors: Vec<&str> = RELEASES.iter().map(|r| r.minor).collect();
    match minors.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => minors.join(""),
    }
}

/// A kind cluster config with the release's node image in place of the placeholder.
pub fn config_for(config: &str, release: &KindRelease) -> String {
    config.replace(NODE_IMAGE_PLACEHOLDER, release.node_image)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_release_has_its_own_pinned_v1_35_image() {
        for release in RELEASES {
            assert!(
                release.node_image.starts_with("kindest/node:v1.35."),
                "{release:?}"
            );
            let digest = release.node_image.split_once("@sha256:").map(|(_, d)| d);
            assert_eq!(digest.map(str::len), Some(64), "{release:?}");
        }
    }

    #[test]
    fn a_version_line_names_its_release() {
        let minor = |line| of_version(line).map(|r| r.minor);
        assert_eq!(minor("kind v0.31.0 go1.25.5 linux/amd64"), Some("v0.31"));
        assert_eq!(minor("kind v0.33.1 go1.26.0 darwin/arm64"), Some("v0.33"));
        assert_eq!(minor("kind v0.30.0 go1.24.6 linux/amd64"), None);
        assert_eq!(minor("kind v0.3.0 go1.12 linux/amd64"), None, "not v0.31+");
        assert_eq!(minor("kind v0.310.0"), None);
        assert_eq!(supported(), "v0.31, v0.32 or v0.33");
    }

    #[test]
    fn the_shipped_configs_take_the_releases_image() {
        for name in crate::catalog::kind_config_names() {
            let config = crate::catalog::kind_config(name).unwrap_or_default();
            assert!(config.contains(NODE_IMAGE_PLACEHOLDER), "{name}");
            let made = config_for(config, &RELEASES[1]);
            assert!(
                made.contains("kindest/node:v1.35.5@sha256:ce977ae6"),
                "{name}"
            );
            assert!(!made.contains(NODE_IMAGE_PLACEHOLDER), "{name}");
        }
    }
}
