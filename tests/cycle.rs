//! Every lab of the catalog, end to end, generated from `labs/<id>/lab.yaml` at run time: a new
//! lab folder is tested without writing Rust.
//!
//! One trial per lab × variant × backend, named `cycle::<backend>::<lab>[::<variant>]`. On the
//! sandbox each trial drives the real `ckalab` binary through its CLI, with its own
//! `CKALAB_HOME`, so trials run in parallel:
//!
//! 1. `start <lab> --backend sandbox [--variant V]` prints the task;
//! 2. `check --json` is FAIL, and the failing checks' messages hold every `reason` the lab and
//!    the variant declare under `verify_broken` (`start` itself has already proved that each
//!    `verify_broken` check fails);
//! 3. after `__apply near-miss` the lab still does not pass (skipped when the near miss is
//!    empty);
//! 4. after `solution --apply` the lab passes within 90 s;
//! 5. `reset` leaves a healthy node and no lab in progress, and ends the old node's processes;
//! 6. `stop` ends every process the node ran (also run when an assertion fails).
//!
//! And one trial per learner fix (`::learner-fix-<n>`): on a freshly broken node, the lab's
//! `learner_fixes` line typed in `ckalab shell` passes like the canonical solution.
//!
//! Trials for `kind` are listed but ignored: they need Docker, and the opt-in kind end-to-end
//! test runs them (`CKALAB_E2E_KIND=1 cargo nextest run --run-ignored only kind_e2e`).
//!
//! The catalog is `$CKALAB_CATALOG` when set (and passed on to ckalab), else the repository's.
//! Black-box only: lab.yaml is read as plain YAML, never through ckalab's own types.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use serde_json::Value;
use tempfile::TempDir;

const CATALOG_ENV: &str = "CKALAB_CATALOG";

/// How long the canonical fix may take to grade PASS.
const SOLUTION_DEADLINE: Duration = Duration::from_secs(90);

fn main() {
    let args = Arguments::from_args();
    libtest_mimic::run(&args, trials()).exit();
}

/// The catalog root: `$CKALAB_CATALOG`, else the repository.
fn catalog_root() -> PathBuf {
    match std::env::var_os(CATALOG_ENV) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    }
}

/// One lab (and variant) on one backend, as lab.yaml declares it.
#[derive(Debug, Clone)]
struct Case {
    lab: String,
    variant: Option<String>,
    /// The `reason`s of the lab's and the variant's `verify_broken` entries.
    reasons: Vec<String>,
    /// Whether the lab's and the variant's `near_miss` steps are both empty.
    no_near_miss: bool,
    /// The lab's and the variant's `learner_fixes`: command lines typed in `ckalab shell`.
    learner_fixes: Vec<String>,
    /// What reset must leave absent, as kubectl names it (`namespace/ml`): the namespaces setup
    /// applies and the objects its `keep_object` steps name.
    made: Vec<String>,
}

impl Case {
    fn name(&self, backend: &str) -> String {
        match &self.variant {
            Some(v) => format!("cycle::{backend}::{}::{v}", self.lab),
            None => format!("cycle::{backend}::{}", self.lab),
        }
    }
}

fn trials() -> Vec<Trial> {
    let labs_dir = catalog_root().join("labs");
    let mut folders: Vec<PathBuf> = match std::fs::read_dir(&labs_dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("lab.yaml").is_file())
            .collect(),
        Err(err) => {
            let message = format!("cannot read the labs in {}: {err}", labs_dir.display());
            return vec![Trial::test("cycle::catalog", move || Err(message.into()))];
        }
    };
    folders.sort();

    let mut trials = Vec::new();
    for folder in folders {
        let id = folder
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (backends, cases) = match read_lab(&folder, &id) {
            Ok(found) => found,
            Err(message) => {
                trials.push(Trial::test(format!("cycle::catalog::{id}"), move || {
                    Err(message.into())
                }));
                continue;
            }
        };
        for backend in backends {
            for case in &cases {
                trials.push(trial(&backend, case.clone()));
                for (n, fix) in case.learner_fixes.iter().enumerate() {
                    trials.push(learner_fix_trial(&backend, case, n + 1, fix.clone()));
                }
            }
        }
    }
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    trials
}

fn trial(backend: &str, case: Case) -> Trial {
    let name = case.name(backend);
    match backend {
        "sandbox" => Trial::test(name, move || sandbox_cycle(&case)),
        // Listed so every lab × backend shows up, but never run here: asked for with
        // --ignored, it reports itself ignored without touching anything.
        other => {
            let why = if other == "kind" {
                "needs Docker and kind: the opt-in kind e2e test runs it \
                 (CKALAB_E2E_KIND=1 cargo nextest run --run-ignored only kind_e2e)"
                    .to_string()
            } else {
                format!("no runner for the `{other}` backend in this test")
            };
            Trial::ignorable_test(name, move || Ok(Completion::ignored_with(why)))
                .with_ignored_flag(true)
        }
    }
}

/// A learner's own fix (the lab's `learner_fixes`), typed in `ckalab shell` on a freshly broken
/// node, must pass like the canonical solution.
fn learner_fix_trial(backend: &str, case: &Case, n: usize, fix: String) -> Trial {
    let name = format!("{}::learner-fix-{n}", case.name(backend));
    let case = case.clone();
    match backend {
        "sandbox" => Trial::test(name, move || {
            let node = Sandbox::new()?;
            node.run(&start_args(&case))?.success("start")?;
            node.run(&["shell", "-c", &fix])?
                .success(&format!("the learner's fix `{fix}`"))?;
            node.wait_for_pass()
        }),
        _ => Trial::ignorable_test(name, || {
            Ok(Completion::ignored_with("needs Docker and kind"))
        })
        .with_ignored_flag(true),
    }
}

/// `start <lab> --backend sandbox [--variant V]`.
fn start_args(case: &Case) -> Vec<&str> {
    let mut start = vec!["start", case.lab.as_str(), "--backend", "sandbox"];
    if let Some(v) = &case.variant {
        start.extend(["--variant", v.as_str()]);
    }
    start
}

/// The backends a lab lists, and one case per variant (or one for a lab without variants).
fn read_lab(folder: &Path, id: &str) -> Result<(Vec<String>, Vec<Case>), String> {
    let path = folder.join("lab.yaml");
    let text = std::fs::read_to_string(&path)
        .map_err(|err| format!("cannot read {}: {err}", path.display()))?;
    let lab: Value = serde_saphyr::from_str(&text)
        .map_err(|err| format!("{} is not valid YAML: {err}", path.display()))?;

    let strings = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let reasons = |owner: &Value| -> Vec<String> {
        owner["verify_broken"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| e["reason"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let no_steps = |owner: &Value| owner["near_miss"].as_array().is_none_or(Vec::is_empty);
    let made = |owner: &Value| -> Vec<String> {
        let mut made = Vec::new();
        for step in owner["setup"].as_array().into_iter().flatten() {
            if let Some(yaml) = step["apply"].as_str() {
                let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).unwrap_or_default();
                made.extend(
                    docs.iter()
                        .filter(|d| d["kind"] == "Namespace")
                        .filter_map(|d| {
                            d["metadata"]["name"]
                                .as_str()
                                .map(|n| format!("namespace/{n}"))
                        }),
                );
            }
            let kept = &step["keep_object"];
            if let (Some(kind), Some(name)) = (kept["kind"].as_str(), kept["name"].as_str())
                && !name.contains("{{")
            {
                let namespace = kept["namespace"]
                    .as_str()
                    .map(|ns| format!(" -n {ns}"))
                    .unwrap_or_default();
                made.push(format!("{}/{name}{namespace}", kind.to_lowercase()));
            }
        }
        made
    };

    let backends = strings(&lab["backends"]);
    if backends.is_empty() {
        return Err(format!("{} lists no backends", path.display()));
    }
    let variants = lab["variants"].as_array().cloned().unwrap_or_default();
    let cases = if variants.is_empty() {
        vec![Case {
            lab: id.to_string(),
            variant: None,
            reasons: reasons(&lab),
            no_near_miss: no_steps(&lab),
            learner_fixes: strings(&lab["learner_fixes"]),
            made: made(&lab),
        }]
    } else {
        variants
            .iter()
            .map(|variant| {
                let vid = variant["id"]
                    .as_str()
                    .ok_or_else(|| format!("{}: a variant has no id", path.display()))?;
                Ok(Case {
                    lab: id.to_string(),
                    variant: Some(vid.to_string()),
                    reasons: reasons(&lab).into_iter().chain(reasons(variant)).collect(),
                    no_near_miss: no_steps(&lab) && no_steps(variant),
                    learner_fixes: strings(&lab["learner_fixes"])
                        .into_iter()
                        .chain(strings(&variant["learner_fixes"]))
                        .collect(),
                    made: made(&lab).into_iter().chain(made(variant)).collect(),
                })
            })
            .collect::<Result<_, String>>()?
    };
    Ok((backends, cases))
}

/// The whole cycle of one lab (and variant) on a fresh sandbox.
fn sandbox_cycle(case: &Case) -> Result<(), Failed> {
    let node = Sandbox::new()?;

    // 1. Start: builds the node, breaks it, verifies the break.
    node.run(&start_args(case))?
        .success("start")?
        .stdout_has("Task")?;

    // 2. Broken: FAIL, for each reason the lab declares.
    let report = node.check()?;
    if report.code != Some(1) || report.json["verdict"] != "FAIL" {
        return Err(format!("right after start the lab must FAIL (exit 1):\n{report}").into());
    }
    let messages = report.failing_messages();
    let missing: Vec<&String> = case
        .reasons
        .iter()
        .filter(|r| !messages.iter().any(|m| m.contains(r.as_str())))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "the failing checks should say {missing:?} (verify_broken's reasons), \
             but none of their messages does:\n{report}"
        )
        .into());
    }

    // 3. The near miss is not enough.
    if !case.no_near_miss {
        node.run(&["__apply", "near-miss"])?
            .success("__apply near-miss")?;
        let report = node.check()?;
        if report.code == Some(0) {
            return Err(format!("the near miss must not pass:\n{report}").into());
        }
    }

    // 4. The canonical fix passes, within a minute.
    node.run(&["solution", "--apply"])?
        .success("solution --apply")?;
    node.wait_for_pass()?;

    // 5. Reset: a healthy node, no lab, and no orphan: a process the node ran before that is
    //    still alive must still be the node's (reset mends a running node in place).
    let before = node.processes()?;
    node.run(&["reset"])?
        .success("reset")?
        .stdout_has("healthy")?;
    let now: Vec<u32> = node.processes()?.iter().map(|p| p.pid).collect();
    let orphans: Vec<u32> = survivors(&before)
        .into_iter()
        .filter(|pid| !now.contains(pid))
        .collect();
    if !orphans.is_empty() {
        return Err(format!("reset left processes the node no longer runs: {orphans:?}").into());
    }
    node.run(&["check"])?
        .exit(2, "check after reset")?
        .stderr_has("no lab is in progress")?;
    node.run(&[
        "shell",
        "-c",
        "crictl ps | grep -q kube-apiserver && systemctl is-active kubelet",
    ])?
    .success("the node after reset runs kube-apiserver and the kubelet")?;
    // What the lab and the learner made is gone: the lab's namespaces, with everything in
    // them, and the cluster-wide objects it keeps.
    for object in &case.made {
        node.run(&["shell", "-c", &format!("kubectl get {object}")])?
            .exit(
                1,
                &format!("kubectl get {object} after reset (it must be gone)"),
            )?;
    }

    // 6. Stop: nothing the node ran survives.
    let after = node.processes()?;
    node.run(&["stop"])?.success("stop")?;
    let alive = survivors(&after);
    if !alive.is_empty() {
        return Err(format!("stop must end every process of the node; alive: {alive:?}").into());
    }
    Ok(())
}

/// One learner's `CKALAB_HOME` with a sandbox in it; stops the node however the trial ends.
struct Sandbox {
    home: TempDir,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.command(&["stop"]).output();
    }
}

impl Sandbox {
    fn new() -> Result<Sandbox, Failed> {
        let home = TempDir::new().map_err(|err| format!("cannot make a temp dir: {err}"))?;
        Ok(Sandbox { home })
    }

    /// `ckalab` with the environment of tests/lib.rs's `Test::command`, except that
    /// `CKALAB_CATALOG` is passed on when set.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ckalab"));
        cmd.args(args)
            .env("CKALAB_HOME", self.home.path())
            .env("COLUMNS", "100")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CKALAB_NOW");
        match std::env::var_os(CATALOG_ENV) {
            Some(dir) if !dir.is_empty() => cmd.env(CATALOG_ENV, dir),
            _ => cmd.env_remove(CATALOG_ENV),
        };
        cmd
    }

    fn run(&self, args: &[&str]) -> Result<Run, Failed> {
        let output = self
            .command(args)
            .output()
            .map_err(|err| format!("cannot run ckalab {}: {err}", args.join(" ")))?;
        Ok(Run {
            line: args.join(" "),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        })
    }

    fn check(&self) -> Result<Report, Failed> {
        let run = self.run(&["check", "--json"])?;
        let json = serde_json::from_str(&run.stdout)
            .map_err(|err| format!("`ckalab check --json` did not print JSON ({err}):\n{run}"))?;
        Ok(Report {
            code: run.code,
            json,
            run,
        })
    }

    /// Grades once a second until PASS, for up to [`SOLUTION_DEADLINE`].
    fn wait_for_pass(&self) -> Result<(), Failed> {
        let started = Instant::now();
        loop {
            let report = self.check()?;
            if report.code == Some(0) && report.json["verdict"] == "PASS" {
                return Ok(());
            }
            if started.elapsed() >= SOLUTION_DEADLINE {
                return Err(format!(
                    "the solution did not pass within {} s; the last grading:\n{report}",
                    SOLUTION_DEADLINE.as_secs()
                )
                .into());
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Every process the node runs (the agent, and each unit's and pod's process), with its
    /// start time, so a pid the kernel reuses later is not mistaken for a survivor.
    fn processes(&self) -> Result<Vec<Process>, Failed> {
        let path = self
            .home
            .path()
            .join("sandbox/controlplane/var/lib/ckalab/state.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|err| format!("cannot read the node's state {}: {err}", path.display()))?;
        let state: Value = serde_json::from_str(&text)
            .map_err(|err| format!("{} is not JSON ({err}):\n{text}", path.display()))?;
        let mut pids = Vec::new();
        collect_pids(&state, &mut pids);
        // The kubelet is simulated by the agent and shows a made-up pid (the only one the
        // agent writes), which may be any other live process of this machine, even one of the
        // node's: it is no process of its own.
        let kubelet = state["units"]["kubelet"]["pid"].as_u64();
        pids.retain(|&pid| Some(u64::from(pid)) != kubelet);
        let processes: Vec<Process> = pids
            .into_iter()
            .filter_map(|pid| started_at(pid).map(|start| Process { pid, start }))
            .collect();
        // The agent and at least one container (etcd is a real process).
        if processes.len() < 2 {
            return Err(format!(
                "no live process of the node besides its agent in {}:\n{text}",
                path.display()
            )
            .into());
        }
        Ok(processes)
    }
}

/// Every `pid` / `*_pid` number in the node's state.
fn collect_pids(value: &Value, pids: &mut Vec<u32>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key == "pid" || key.ends_with("_pid") {
                    if let Some(pid) = item.as_u64().and_then(|p| u32::try_from(p).ok())
                        && pid > 0
                        && !pids.contains(&pid)
                    {
                        pids.push(pid);
                    }
                } else {
                    collect_pids(item, pids);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_pids(i, pids)),
        _ => {}
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Process {
    pid: u32,
    /// Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot.
    start: u64,
}

/// The start time of a live (not zombie) process, or None.
fn started_at(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the command's name in parentheses: state (field 3), ..., starttime (field 22).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    if fields.first().is_none_or(|s| *s == "Z" || *s == "X") {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// The processes of `before` still running (same pid, same start time).
fn survivors(before: &[Process]) -> Vec<u32> {
    before
        .iter()
        .filter(|p| started_at(p.pid) == Some(p.start))
        .map(|p| p.pid)
        .collect()
}

/// The outcome of one `ckalab` run; its Display shows everything, for a CI log.
struct Run {
    line: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self
            .code
            .map_or_else(|| "by a signal".to_string(), |c| c.to_string());
        write!(
            f,
            "`ckalab {}` exited {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.line, self.stdout, self.stderr
        )
    }
}

impl Run {
    fn exit(self, code: i32, what: &str) -> Result<Run, Failed> {
        if self.code == Some(code) {
            Ok(self)
        } else {
            Err(format!("{what}: expected exit {code}\n{self}").into())
        }
    }

    fn success(self, what: &str) -> Result<Run, Failed> {
        self.exit(0, what)
    }

    fn stdout_has(self, needle: &str) -> Result<Run, Failed> {
        if self.stdout.contains(needle) {
            Ok(self)
        } else {
            Err(format!("stdout lacks {needle:?}\n{self}").into())
        }
    }

    fn stderr_has(self, needle: &str) -> Result<Run, Failed> {
        if self.stderr.contains(needle) {
            Ok(self)
        } else {
            Err(format!("stderr lacks {needle:?}\n{self}").into())
        }
    }
}

/// One `ckalab check --json`; its Display is the whole report, for a CI log.
struct Report {
    code: Option<i32>,
    json: Value,
    run: Run,
}

impl Report {
    fn failing_messages(&self) -> Vec<String> {
        self.json["checks"]
            .as_array()
            .map(|checks| {
                checks
                    .iter()
                    .filter(|c| c["verdict"] != "PASS")
                    .map(|c| c["message"].as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self
            .code
            .map_or_else(|| "by a signal".to_string(), |c| c.to_string());
        write!(f, "`ckalab check --json` exited {code}:\n{:#}", self.json)?;
        if !self.run.stderr.is_empty() {
            write!(f, "\n--- stderr\n{}", self.run.stderr)?;
        }
        Ok(())
    }
}
