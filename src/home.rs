//! `$CKALAB_HOME`: the one directory ckalab writes to.

use std::path::{Path, PathBuf};

pub const HOME_ENV: &str = "CKALAB_HOME";

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum HomeError {
    /// Neither CKALAB_HOME, XDG_DATA_HOME nor HOME is set.
    #[error(
        "cannot tell where to keep ckalab's data: CKALAB_HOME, XDG_DATA_HOME and HOME are all unset\nhint: set CKALAB_HOME to a directory, e.g. export CKALAB_HOME=~/.local/share/ckalab"
    )]
    Unset,
    /// The directory cannot be created.
    #[error(
        "cannot create ckalab's data directory {path}: {source}\nhint: set CKALAB_HOME to a writable directory"
    )]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Another ckalab command is changing this home's node right now.
    #[error(
        "another ckalab command is changing this home's node: {holder}\nhint: wait for it to finish, then run this again"
    )]
    Busy { holder: String },
}

/// The lock a command that changes the home's node holds until it ends: two `ckalab start`s on
/// one home would each start a node agent.
#[derive(Debug)]
pub struct HomeLock {
    _file: std::fs::File,
}

/// `path` with every link resolved, so one home has one spelling whichever way it was named
/// (its node's processes are recognised by it): the longest part that exists, resolved, then
/// the rest as given.
fn real_path(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            return rest.iter().rev().fold(real, |p, part| p.join(part));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

impl Home {
    /// `$CKALAB_HOME`, else `$XDG_DATA_HOME/ckalab`, else `~/.local/share/ckalab`.
    pub fn from_env() -> Result<Home, HomeError> {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let root = var(HOME_ENV)
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("ckalab")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/ckalab")))
            .ok_or(HomeError::Unset)?;
        Ok(Home {
            root: real_path(&root),
        })
    }

    pub fn at(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the home, readable by its owner only (it holds keys and kubeconfigs); a home
    /// that already exists keeps the mode its owner gave it.
    pub fn ensure(&self) -> Result<&Path, HomeError> {
        use std::os::unix::fs::DirBuilderExt;
        if !self.root.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&self.root)
                .map_err(|source| HomeError::Create {
                    path: self.root.clone(),
                    source,
                })?;
        }
        Ok(&self.root)
    }

    /// Takes the home's lock for `command` (in the learner's words), or says who holds it.
    pub fn lock(&self, command: &str) -> Result<HomeLock, HomeError> {
        use std::io::{Read, Seek, Write};
        self.ensure()?;
        let path = self.root.join(".lock");
        let create = |source| HomeError::Create {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(create)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                // The holder writes who it is just after taking the lock: give it a moment.
                let mut holder = String::new();
                for _ in 0..25 {
                    holder.clear();
                    let _ = file.rewind();
                    let _ = file.read_to_string(&mut holder);
                    if !holder.trim().is_empty() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                return Err(HomeError::Busy {
                    holder: holder.trim().to_string(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(create(e)),
        }
        // Who holds it, for the next command's message: in one write, so a reader never sees
        // half of it (`write!` writes piece by piece).
        let _ = file.set_len(0);
        let _ = file.rewind();
        let holder = format!("`ckalab {command}` (pid {})", std::process::id());
        let _ = file.write_all(holder.as_bytes());
        Ok(HomeLock { _file: file })
    }

    pub fn database(&self) -> PathBuf {
        self.root.join("progress.db")
    }

    pub fn sandbox_dir(&self) -> PathBuf {
        self.root.join("sandbox")
    }
}
