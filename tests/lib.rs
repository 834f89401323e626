//! Integration tests: one binary, a module per feature, and a small builder that runs
//! `ckalab` against a fresh `CKALAB_HOME` the way a learner would.
#![allow(clippy::new_without_default)]

mod catalog;
mod cli;
mod doctor;
mod exam;
mod kind;
mod kind_e2e;
mod labs;
mod lessons;
mod lifecycle;
mod output;
mod progress;
mod quiz;
mod store;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The repository's catalog, to copy and break in tests.
pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// How many labs the repository ships: one folder with a lab.yaml each.
pub fn lab_folders() -> usize {
    std::fs::read_dir(repo_root().join("labs"))
        .expect("labs/")
        .flatten()
        .filter(|e| e.path().join("lab.yaml").is_file())
        .count()
}

/// One isolated learner: a temporary `CKALAB_HOME`, no colour, a fixed width.
pub struct Test {
    home: TempDir,
    envs: Vec<(String, String)>,
}

impl Test {
    pub fn new() -> Test {
        Test {
            home: TempDir::new().expect("temp dir"),
            envs: Vec::new(),
        }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn database(&self) -> PathBuf {
        self.home().join("progress.db")
    }

    pub fn env(mut self, key: &str, value: impl AsRef<str>) -> Test {
        self.envs
            .push((key.to_string(), value.as_ref().to_string()));
        self
    }

    /// The command, ready to run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("ckalab"));
        cmd.args(args)
            .env("CKALAB_HOME", self.home())
            .env("COLUMNS", "100")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CKALAB_CATALOG")
            .env_remove("CKALAB_NOW");
        for (key, value) in &self.envs {
            cmd.env(key, value);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("ckalab runs");
        Run { output }
    }
}

/// The outcome of one `ckalab` run, with assertions that print everything on failure.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    #[track_caller]
    pub fn exit(self, code: i32) -> Run {
        assert_eq!(
            self.code(),
            Some(code),
            "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn success(self) -> Run {
        self.exit(0)
    }

    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Run {
        assert!(
            self.stdout().contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout()
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(self, needle: &str) -> Run {
        assert!(
            self.stderr().contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.output.stdout)
            .unwrap_or_else(|err| panic!("stdout is not JSON ({err}):\n{}", self.stdout()))
    }
}

/// A copy of the repository's catalog in a temp dir, for tests that break one file.
pub struct CatalogCopy {
    pub dir: TempDir,
}

impl CatalogCopy {
    pub fn new() -> CatalogCopy {
        let dir = TempDir::new().expect("temp dir");
        for sub in ["labs", "content"] {
            copy_tree(&repo_root().join(sub), &dir.path().join(sub));
        }
        CatalogCopy { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("catalog file")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write catalog file");
    }

    /// Replaces `from` with `to` in a file, asserting `from` is there.
    pub fn edit(&self, rel: &str, from: &str, to: &str) {
        let text = self.read(rel);
        assert!(text.contains(from), "{rel} lacks {from:?}");
        self.write(rel, &text.replacen(from, to, 1));
    }

    /// A test learner using this catalog.
    pub fn test(&self) -> Test {
        Test::new().env("CKALAB_CATALOG", self.dir.path().to_string_lossy())
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}
