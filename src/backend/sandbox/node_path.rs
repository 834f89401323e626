//! Where a node path is on this machine, resolved as the node's own processes see it: inside
//! the node's mount namespace `/` is the node's directory, so `..` stops at it and a symbolic
//! link to `/tmp/x` means the node's `/tmp/x`. ckalab reads, writes and removes the node's files
//! from outside (setup steps, reset, graders); resolving every path this way means nothing it
//! does can reach a file outside the node, whatever links or recorded paths the node holds.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

/// How many links one path may pass through, as Linux allows.
const MAX_LINKS: u32 = 40;

/// Whether the path's last component is followed when it is a symbolic link: reading or writing
/// a file follows it; removing or renaming acts on the link itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Last {
    Follow,
    Keep,
}

/// The host path of `node_path` in the node at `root`.
pub fn resolve(root: &Path, node_path: &str, last: Last) -> Result<PathBuf, String> {
    let words = |path: &str| -> VecDeque<String> {
        path.split('/')
            .filter(|w| !w.is_empty() && *w != ".")
            .map(String::from)
            .collect()
    };
    let mut pending = words(node_path);
    let mut resolved: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(word) = pending.pop_front() {
        if word == ".." {
            // The node's `/..` is its `/`.
            resolved.pop();
            continue;
        }
        let here = resolved
            .iter()
            .fold(root.to_path_buf(), |path, w| path.join(w))
            .join(&word);
        let follow = !pending.is_empty() || last == Last::Follow;
        let is_link = std::fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink());
        if !(is_link && follow) {
            resolved.push(word);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(format!("{node_path}: too many levels of symbolic links"));
        }
        let target = std::fs::read_link(&here).map_err(|e| format!("{node_path}: {e}"))?;
        let target = target.to_string_lossy();
        if target.starts_with('/') {
            resolved.clear();
        }
        let mut next = words(&target);
        next.append(&mut pending);
        pending = next;
    }
    Ok(resolved
        .iter()
        .fold(root.to_path_buf(), |path, w| path.join(w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("node/etc/kubernetes")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("node/run")).expect("mkdir");
        std::fs::create_dir_all(dir.path().join("outside")).expect("mkdir");
        dir
    }

    #[test]
    fn dot_dot_stops_at_the_nodes_root() {
        let dir = node();
        let root = dir.path().join("node");
        assert_eq!(
            resolve(&root, "/../../../../outside/victim", Last::Follow),
            Ok(root.join("outside/victim"))
        );
        assert_eq!(
            resolve(&root, "/etc/kubernetes/../../etc/hosts", Last::Follow),
            Ok(root.join("etc/hosts"))
        );
    }

    #[test]
    fn links_resolve_inside_the_node() {
        let dir = node();
        let root = dir.path().join("node");
        // Absolute, relative and escaping targets all land in the node, as they do in its
        // mount namespace.
        std::os::unix::fs::symlink(dir.path().join("outside"), root.join("etc/manifests"))
            .expect("link");
        std::os::unix::fs::symlink("../run", root.join("etc/var-run")).expect("link");
        std::os::unix::fs::symlink("../../../../outside", root.join("etc/up")).expect("link");
        let outside = dir.path().join("outside").to_string_lossy().into_owned();
        assert_eq!(
            resolve(&root, "/etc/manifests/etcd.yaml", Last::Follow),
            Ok(root.join(outside.trim_start_matches('/')).join("etcd.yaml"))
        );
        assert_eq!(
            resolve(&root, "/etc/var-run/containerd.sock", Last::Follow),
            Ok(root.join("run/containerd.sock"))
        );
        assert_eq!(
            resolve(&root, "/etc/up/x", Last::Follow),
            Ok(root.join("outside/x"))
        );
        // Removing a link removes the link.
        assert_eq!(
            resolve(&root, "/etc/manifests", Last::Keep),
            Ok(root.join("etc/manifests"))
        );
    }

    #[test]
    fn a_link_loop_is_an_error() {
        let dir = node();
        let root = dir.path().join("node");
        std::os::unix::fs::symlink("/etc/b", root.join("etc/a")).expect("link");
        std::os::unix::fs::symlink("/etc/a", root.join("etc/b")).expect("link");
        assert!(resolve(&root, "/etc/a/x", Last::Follow).is_err());
    }
}
