//! Per-unit journals in the node (`var/log/journal/<unit>.log`), in journald's short format so
//! the sandbox's `journalctl -u kubelet` reads like a real node's.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
    host: String,
}

impl Journal {
    pub fn new(root: &Path, host: &str) -> Journal {
        Journal {
            dir: root.join("var/log/journal"),
            host: host.to_string(),
        }
    }

    pub fn path(&self, unit: &str) -> PathBuf {
        self.dir.join(format!("{unit}.log"))
    }

    /// Appends `message` as written by `process[pid]` to the journal of `unit`.
    pub fn log(&self, unit: &str, process: &str, pid: u32, message: &str) {
        let now = crate::clock::now();
        let line = format!(
            "{} {} {process}[{pid}]: {message}\n",
            now.strftime("%b %d %H:%M:%S"),
            self.host
        );
        let _ = std::fs::create_dir_all(&self.dir);
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.path(unit))
        {
            let _ = file.write_all(line.as_bytes());
        }
    }

    /// A line from systemd about a unit.
    pub fn systemd(&self, unit: &str, message: &str) {
        self.log(unit, "systemd", 1, message);
    }

    /// A klog-style line (`E1122 14:03:08.901957    1234 file.go:72] msg`), as the kubelet
    /// and the control-plane components write.
    pub fn klog(
        &self,
        unit: &str,
        process: &str,
        pid: u32,
        level: char,
        source: &str,
        message: &str,
    ) {
        self.log(unit, process, pid, &klog_line(level, pid, source, message));
    }
}

pub fn klog_line(level: char, pid: u32, source: &str, message: &str) -> String {
    let now: Timestamp = crate::clock::now();
    format!(
        "{level}{} {pid:>7} {source}] {message}",
        now.strftime("%m%d %H:%M:%S%.6f")
    )
}
