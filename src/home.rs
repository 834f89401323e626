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
        Ok(Home { root })
    }

    pub fn at(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the directory if needed and returns it.
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

    pub fn database(&self) -> PathBuf {
        self.root.join("progress.db")
    }

    pub fn sandbox_dir(&self) -> PathBuf {
        self.root.join("sandbox")
    }
}
