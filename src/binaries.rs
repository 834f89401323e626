//! The real binaries the sandbox's control plane is built from: Kubernetes v1.35, etcd 3.6,
//! crictl and kwok, and the tools its labs use (helm, with the Gateway API's CRDs), built from the Go modules under `gobuild/` by `scripts/build-k8s.sh` into a
//! per-version cache outside the repository. A family counts only once its build finished: its
//! folder holds a `.built` stamp, written after every binary is in place.

use std::path::{Path, PathBuf};

/// The pinned versions, shared with the build script.
const PINS: &str = include_str!("../gobuild/pins.env");

/// kwok's default stages, copied from its module beside the binary.
pub const KWOK_STAGES: &str = "kwok-stages.yaml";

/// The Gateway API's standard CRDs at the pinned release, copied beside helm.
pub const GATEWAY_API_CRDS: &str = "gateway-api-standard.yaml";

/// What builds the binaries, for messages.
pub const BUILD_COMMAND: &str = "bash scripts/build-k8s.sh";

/// One tool family: one Go build module, one cache folder.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    pub version: String,
    pub binaries: &'static [&'static str],
    /// Files the build copies beside the binaries (kwok's stages).
    pub data: &'static [&'static str],
}

impl Family {
    /// Where its binaries are, under the cache `root`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join(format!("{}-{}", self.name, self.version))
    }

    /// Whether its build finished (a half-built folder has no stamp).
    pub fn is_built(&self, root: &Path) -> bool {
        let dir = self.dir(root);
        dir.join(".built").is_file() && self.files().all(|name| dir.join(name).is_file())
    }

    fn files(&self) -> impl Iterator<Item = &&'static str> {
        self.binaries.iter().chain(self.data)
    }
}

/// A built binary (`etcd`, `kube-apiserver`, `kubectl`, ...) or data file by name, from the
/// cache; `None` until its family's build has finished.
pub fn find(name: &str) -> Option<PathBuf> {
    let root = cache_root();
    families()
        .into_iter()
        .find(|f| f.files().any(|n| *n == name) && f.is_built(&root))
        .map(|f| f.dir(&root).join(name))
}

/// The folders of the families that are built, for PATH.
pub fn built_dirs(names: &[&str]) -> Vec<PathBuf> {
    let root = cache_root();
    families()
        .into_iter()
        .filter(|f| names.contains(&f.name) && f.is_built(&root))
        .map(|f| f.dir(&root))
        .collect()
}

/// The families and their pinned versions.
pub fn families() -> Vec<Family> {
    let family = |name, key, binaries| Family {
        name,
        version: pin(key),
        binaries,
        data: &[],
    };
    vec![
        family(
            "kubernetes",
            "K8S_VERSION",
            &[
                "kube-apiserver",
                "kube-controller-manager",
                "kube-scheduler",
                "kubeadm",
                "kubectl",
            ][..],
        ),
        family("etcd", "ETCD_VERSION", &["etcd", "etcdutl", "etcdctl"][..]),
        family("crictl", "CRICTL_VERSION", &["crictl"][..]),
        Family {
            data: &[KWOK_STAGES],
            ..family("kwok", "KWOK_VERSION", &["kwok"][..])
        },
        Family {
            data: &[GATEWAY_API_CRDS],
            ..family("helm", "HELM_VERSION", &["helm"][..])
        },
    ]
}

/// A pinned version from `gobuild/pins.env` (empty when the key is missing: a test catches it).
pub fn pin(key: &str) -> String {
    PINS.lines()
        .filter_map(|line| line.split_once('='))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// The cache: `CKALAB_BIN_CACHE`, else `$XDG_CACHE_HOME/ckalab/bin`, else `~/.cache/ckalab/bin`,
/// as the build script has it.
pub fn cache_root() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("CKALAB_BIN_CACHE")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("ckalab/bin")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/ckalab/bin")))
        .unwrap_or_else(|| PathBuf::from(".cache/ckalab/bin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_has_its_pinned_version() {
        let families = families();
        let version = |name| {
            families
                .iter()
                .find(|f| f.name == name)
                .map(|f| f.version.clone())
                .unwrap_or_default()
        };
        assert!(
            version("kubernetes").starts_with("v1.35."),
            "{}",
            version("kubernetes")
        );
        assert!(version("etcd").starts_with("v3.6."), "{}", version("etcd"));
        assert!(!version("crictl").is_empty() && !version("kwok").is_empty());
        assert!(version("helm").starts_with("v3."), "{}", version("helm"));
    }

    #[test]
    fn a_family_without_its_stamp_is_not_built() {
        let root = tempfile::tempdir().expect("tempdir");
        let crictl = families()
            .into_iter()
            .find(|f| f.name == "crictl")
            .expect("crictl");
        let dir = crictl.dir(root.path());
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("crictl"), "").expect("write");
        assert!(
            !crictl.is_built(root.path()),
            "no stamp: a build that did not finish"
        );
        std::fs::write(dir.join(".built"), "0123").expect("write");
        assert!(crictl.is_built(root.path()));
    }
}
