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
        self.write("stderr", message);
    }

    /// Appends each line of `message` as the container's `stream` (`stdout`, `stderr`).
    pub fn write(&self, stream: &str, message: &str) {
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
        {
            for line in message.lines() {
                let _ = writeln!(file, "{} {stream} F {line}", crate::clock::now());
            }
        }
    }

    /// Copies a process's output stream into the log line by line, in the CRI format, until
    /// the stream ends.
    pub fn follow(
        &self,
        stream: &'static str,
        output: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    ) {
        use tokio::io::AsyncBufReadExt;
        let log = self.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(output).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                log.write(stream, &line);
            }
        });
    }
}

/// The message part of a CRI log line.
pub fn message(line: &str) -> &str {
    line.splitn(4, ' ').nth(3).unwrap_or(line)
}

/// Whether a CRI log line is from the container's stderr (`<time> stderr F <message>`).
pub fn is_stderr(line: &str) -> bool {
    line.split(' ').nth(1) == Some("stderr")
}
