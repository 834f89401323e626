//! Container logs in the CRI format the kubelet writes under `/var/log/pods`
//! (`<RFC 3339 time> <stream> F <line>`); the sandbox's `crictl logs` strips the prefix.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ContainerLog {
    path: PathBuf,
}

impl ContainerLog {
    pub fn new(path: PathBuf) -> ContainerLog {
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        ContainerLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn line(&self, message: &str) {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            for line in message.lines() {
                let _ = writeln!(file, "{} stderr F {line}", crate::clock::now());
            }
        }
    }
}

/// The message part of a CRI log line.
pub fn message(line: &str) -> &str {
    line.splitn(4, ' ').nth(3).unwrap_or(line)
}
