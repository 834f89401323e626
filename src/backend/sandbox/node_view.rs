//! The node as a learner sees it: a private mount namespace (bubblewrap) in which the node's
//! directories sit at their real paths, so `/etc/kubernetes/manifests/etcd.yaml`,
//! `/var/lib/etcd`, `/var/backups/etcd/snapshot.db` and `unix:///var/run/containerd/...` mean
//! what they mean on a kubeadm node, and whatever the learner writes there lands in the node,
//! never on the host.
//!
//! The view is built on an empty root (a tmpfs) rather than over the host's `/`: bubblewrap run
//! as root creates a missing mount point on the host. The host lends only what a shell needs,
//! read-only: `/usr` (and the `/bin`, `/lib` links into it) and a few files of its `/etc`.

use std::path::{Path, PathBuf};

/// The node's own top-level directories, each bound at its real path.
const NODE_DIRS: [&str; 6] = ["etc", "var", "run", "root", "tmp", "opt"];

/// Host files a shell and its tools need, lent read-only into the node's `/etc` (skipped when
/// the host has none).
const HOST_ETC: &[&str] = &[
    "passwd",
    "group",
    "hosts",
    "resolv.conf",
    "nsswitch.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "alternatives",
    "localtime",
    "bash.bashrc",
    "profile",
    "profile.d",
    "inputrc",
    "terminfo",
    "vim",
    "ssl/openssl.cnf",
];

/// Where ckalab itself is inside the view: the node's `systemctl`, `journalctl` and `crictl`
/// are ckalab. Out of the learner's way, and never under a node directory (binding it at its
/// host path, under `/root` or `/tmp`, would leave mount points in the node's own folders).
pub const EXE: &str = "/.ckalab/ckalab";
/// Where the cache of real binaries (kubectl, kubeadm, etcdctl, etcdutl) is inside the view.
pub const BINARIES: &str = "/.ckalab/bin";

/// What the learner's shell needs besides the node: ckalab itself, and the cache of real
/// binaries.
pub struct Lent<'a> {
    pub root: &'a Path,
    pub exe: &'a Path,
    pub binaries: &'a Path,
}

/// Makes the directories the view binds, and `/var/run -> /run` as on every Linux node.
pub fn prepare(root: &Path) -> std::io::Result<()> {
    for dir in NODE_DIRS {
        std::fs::create_dir_all(root.join(dir))?;
    }
    let var_run = root.join("var/run");
    if std::fs::symlink_metadata(&var_run).is_err() {
        std::os::unix::fs::symlink("../run", var_run)?;
    }
    Ok(())
}

/// How long what runs in the view lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// A shell or a command: it dies with the ckalab that started it.
    WithParent,
    /// The node agent: it outlives the `ckalab start` that started it; `stop` ends it.
    Detached,
}

/// The bubblewrap arguments (after `bwrap`, before the command) for the node at `lent.root`.
pub fn bwrap_args(lent: &Lent<'_>, cwd: &str, lifetime: Lifetime) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |words: &[&str]| args.extend(words.iter().map(|w| w.to_string()));
    if lifetime == Lifetime::WithParent {
        push(&["--die-with-parent"]);
    }
    push(&["--tmpfs", "/", "--dev", "/dev", "--proc", "/proc"]);
    // containerd reads the host's cgroups and kernel settings, as on any node.
    push(&["--ro-bind-try", "/sys", "/sys"]);
    push(&["--ro-bind", "/usr", "/usr"]);
    // Merged-/usr hosts link /bin, /lib... into /usr; older ones have real directories.
    for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = PathBuf::from("/").join(top);
        match std::fs::read_link(&host) {
            Ok(target) => push(&["--symlink", &target.to_string_lossy(), &format!("/{top}")]),
            Err(_) if host.is_dir() => push(&["--ro-bind", &format!("/{top}"), &format!("/{top}")]),
            Err(_) => {}
        }
    }
    for dir in NODE_DIRS {
        let node = lent.root.join(dir);
        push(&["--bind", &node.to_string_lossy(), &format!("/{dir}")]);
    }
    for file in HOST_ETC {
        let host = format!("/etc/{file}");
        push(&["--ro-bind-try", &host, &host]);
    }
    push(&["--ro-bind", &lent.exe.to_string_lossy(), EXE]);
    push(&["--ro-bind-try", &lent.binaries.to_string_lossy(), BINARIES]);
    push(&["--chdir", cwd]);
    args
}

/// What to tell a learner whose machine refuses bubblewrap's namespaces, from what it said.
pub fn refused_hint(output: &str) -> &'static str {
    if output.contains("bwrap:") {
        "\nhint: this machine refuses the mount namespace bubblewrap needs; allow unprivileged \
         user namespaces (sudo sysctl -w kernel.unprivileged_userns_clone=1, or on Ubuntu \
         sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0) or run ckalab as root"
    } else {
        ""
    }
}

/// Whether bubblewrap is installed, and where.
pub fn bwrap() -> Option<PathBuf> {
    crate::doctor::find_in_path("bwrap")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after<'a>(args: &'a [String], flag: &str, target: &str) -> Option<&'a str> {
        args.windows(3)
            .find(|w| w[0] == flag && w[2] == target)
            .map(|w| w[1].as_str())
    }

    #[test]
    fn the_node_sits_at_the_real_paths_on_an_empty_root() {
        let lent = Lent {
            root: Path::new("/home/u/.local/share/ckalab/sandbox/controlplane"),
            exe: Path::new("/usr/local/bin/ckalab"),
            binaries: Path::new("/home/u/.cache/ckalab/bin"),
        };
        let args = bwrap_args(&lent, "/root", Lifetime::WithParent);
        assert_eq!(&args[..3], ["--die-with-parent", "--tmpfs", "/"]);
        assert_eq!(
            bwrap_args(&lent, "/", Lifetime::Detached)[..2],
            ["--tmpfs", "/"],
            "the agent outlives `ckalab start`"
        );
        for dir in ["etc", "var", "run", "root", "tmp"] {
            assert_eq!(
                after(&args, "--bind", &format!("/{dir}")),
                Some(format!("{}/{dir}", lent.root.display()).as_str()),
                "/{dir} is the node's"
            );
        }
        assert_eq!(after(&args, "--ro-bind", "/usr"), Some("/usr"));
        assert_eq!(
            after(&args, "--ro-bind-try", "/etc/passwd"),
            Some("/etc/passwd"),
            "host files are lent read-only"
        );
        assert!(
            after(&args, "--bind", "/").is_none(),
            "never over the host's /"
        );
        assert_eq!(args[args.len() - 2..], ["--chdir", "/root"]);
    }

    #[test]
    fn var_run_is_a_link_to_run_inside_the_node() {
        let root = tempfile::tempdir().expect("tempdir");
        prepare(root.path()).expect("prepare");
        prepare(root.path()).expect("again: already there is fine");
        assert_eq!(
            std::fs::read_link(root.path().join("var/run")).expect("a link"),
            PathBuf::from("../run")
        );
        assert!(root.path().join("tmp").is_dir());
    }
}
