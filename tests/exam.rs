//! Mock exams on the sandbox, each task on its own node with the real etcd and containerd:
//! pre-flight, resuming from new processes, and the proctor grading at the deadline while
//! nobody runs ckalab.

use std::time::{Duration, Instant};

use ckalab::catalog::{BackendKind, Catalog};
use ckalab::exam::draw::{Clusters, Draw};
use serde_json::Value;

use crate::{CatalogCopy, Test, repo_root};

/// The first seed whose draw of `tasks` tasks starts with `first` (pre-flight keeps every
/// valid lab, so the draw is the exam).
fn seed_drawing_first(catalog: &Catalog, tasks: u32, first: &str) -> u64 {
    (0..1000)
        .find(|&seed| {
            Draw::new(catalog, BackendKind::Sandbox, Clusters::sandbox(), seed)
                .with_tasks(tasks)
                .next()
                .is_some_and(|t| t.lab_id == first)
        })
        .expect("some seed draws it first")
}

fn status(test: &Test) -> Value {
    test.run(&["exam", "status", "--json"]).success().json()
}

fn task_of<'v>(status: &'v Value, lab: &str) -> &'v Value {
    status["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["lab_id"] == lab)
        .unwrap_or_else(|| panic!("no task {lab}: {status:#}"))
}

/// Waits, without running ckalab, until the store shows the exam graded.
fn wait_graded_in_store(test: &Test, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let graded: Option<i64> = rusqlite::Connection::open(test.database())
            .and_then(|db| {
                // The result is written last, after the nodes are freed.
                db.query_row("SELECT passed FROM exams WHERE id = 1", [], |row| {
                    row.get(0)
                })
            })
            .unwrap_or(None);
        if graded.is_some() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the proctor never graded the exam"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Ends a running exam even when an assertion fails, so no proctor or node outlives the test.
struct Submitted<'t>(&'t Test);

impl Drop for Submitted<'_> {
    fn drop(&mut self) {
        let _ = self.0.command(&["exam", "submit"]).output();
    }
}

#[test]
fn an_exam_resumes_and_the_deadline_grades_it_as_it_stood() {
    let test = Test::new();
    let _end = Submitted(&test);
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let seed = seed_drawing_first(&catalog, 2, "runtime-endpoint").to_string();
    test.run(&[
        "exam",
        "start",
        "--tasks",
        "2",
        "--seed",
        &seed,
        "--seconds",
        "12",
    ])
    .success()
    .stdout_has("Exam #1 · 2 tasks");

    // The proctor names its home on its command line, so it is found as the agent is.
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(test.home().join("exam.json")).expect("exam.json"),
    )
    .expect("json");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", state["proctor_pid"]))
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .unwrap_or_default();
    assert!(
        cmdline.contains(&format!("__proctor 1 --home {}", test.home().display())),
        "{cmdline}"
    );

    // A new process sees the same exam, running, and keeps a flag.
    let running = status(&test);
    assert_eq!(running["running"], true);
    assert_eq!(running["exam"]["seed"].to_string(), seed);
    let tasks = running["tasks"].as_array().expect("tasks").clone();
    assert_eq!(tasks.len(), 2);
    let fixed = task_of(&running, "runtime-endpoint")["position"].to_string();
    let other = tasks
        .iter()
        .find(|t| t["lab_id"] != "runtime-endpoint")
        .expect("a second task")
        .clone();
    test.run(&["exam", "flag", &other["position"].to_string()])
        .success();
    assert_eq!(
        task_of(&status(&test), other["lab_id"].as_str().expect("id"))["flagged"],
        true
    );
    test.run(&["exam", "task", &fixed])
        .success()
        .stdout_has("exam-")
        .stdout_has("kubelet");

    // The learner fixes one task on its node, then nobody runs ckalab past the deadline.
    test.run(&[
        "exam",
        "shell",
        &fixed,
        "-c",
        "sed -i 's#^containerRuntimeEndpoint:.*#containerRuntimeEndpoint: unix:///run/containerd/containerd.sock#' /var/lib/kubelet/config.yaml && systemctl restart kubelet",
    ])
    .success();
    wait_graded_in_store(&test, Duration::from_secs(90));

    let graded = status(&test);
    assert_eq!(graded["running"], false);
    assert_eq!(graded["exam"]["graded_by"], "deadline");
    assert_eq!(graded["exam"]["graded_at"], graded["exam"]["deadline"]);
    let fixed_task = task_of(&graded, "runtime-endpoint");
    assert_eq!(fixed_task["score"], fixed_task["points"], "{graded:#}");
    assert_eq!(
        task_of(&graded, other["lab_id"].as_str().expect("id"))["score"],
        0.0
    );
    // The nodes are gone: nothing done after the deadline can change the result.
    assert!(!test.home().join("sandbox/exam-1").exists());
    assert!(!test.home().join("sandbox/exam-2").exists());
    test.run(&["exam", "submit"])
        .exit(2)
        .stderr_has("no exam is running");
    test.run(&["exam", "history"]).success().stdout_has("FAIL");
}

const ALREADY_SOLVED: &str = r#"id: already-solved
title: A task whose setup breaks nothing
domain: troubleshooting
difficulty: 1
minutes: 5
backends: [sandbox]
lesson: troubleshooting
symptom: Nothing is wrong.
task: Nothing to do on {{ node }}.
hints:
  - There is nothing to fix.
setup:
  - write_file:
      path: /etc/ckalab-note
      content: "nothing broken\n"
verify_broken:
  - check:
      command: [test, -f, /no-such-file]
checks:
  - etcd_healthy
solution:
  - remove_path: /etc/ckalab-note
near_miss:
  - remove_path: /etc/ckalab-note
learner_fixes:
  - rm etc/ckalab-note
"#;

#[test]
fn pre_flight_replaces_a_task_whose_checks_already_pass() {
    let copy = CatalogCopy::new();
    copy.write("labs/already-solved/lab.yaml", ALREADY_SOLVED);
    let catalog = Catalog::from_dir(copy.dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let seed = seed_drawing_first(&catalog, 1, "already-solved").to_string();
    let test = copy.test();
    let _end = Submitted(&test);
    test.run(&["exam", "start", "--tasks", "1", "--seed", &seed])
        .success()
        .stdout_has("Replaced before the clock started: already-solved (its checks already pass after setup)");
    let running = status(&test);
    let tasks = running["tasks"].as_array().expect("tasks");
    assert_eq!(tasks.len(), 1, "the replacement keeps the task count");
    assert_ne!(tasks[0]["lab_id"], "already-solved");
    assert_eq!(running["replacements"][0]["lab_id"], "already-solved");
    // Submitting at once scores the untouched task 0 and fails the exam.
    test.run(&["exam", "submit"])
        .exit(1)
        .stdout_has("FAIL · 0 of");
}

/// A grading the proctor claimed and died in is finished by the next exam command, at once and
/// only once; a task whose lab is gone from the catalog is INVALID and scores nothing, instead
/// of stopping the grading with the exam half recorded.
#[test]
fn a_grading_cut_short_is_finished_and_a_vanished_lab_is_invalid() {
    use ckalab::store::{NewExamTask, Store};
    let test = Test::new();
    std::fs::create_dir_all(test.home()).expect("home");
    let store = Store::open(&test.database()).expect("store");
    let started: jiff::Timestamp = "2026-11-01T09:00:00Z".parse().expect("time");
    let deadline: jiff::Timestamp = "2026-11-01T11:00:00Z".parse().expect("time");
    let exam = store
        .create_exam(7, "sandbox", started, deadline)
        .expect("exam");
    for (position, lab_id) in [(1, "etcd-restore"), (2, "a-lab-since-removed\u{1b}[2J")] {
        let task = NewExamTask {
            position,
            lab_id,
            variant: None,
            points: 10.0,
            cluster: position,
        };
        store
            .add_exam_task(exam, &task, "sandbox", started)
            .expect("task");
    }
    // The proctor claimed the grading at the deadline, then was killed.
    assert!(
        store
            .claim_exam_grading(exam, deadline, "deadline")
            .expect("claim")
    );
    drop(store);

    let waited = Instant::now();
    let status = status(&test);
    assert!(
        waited.elapsed() < Duration::from_secs(60),
        "no two-minute wait for a dead proctor"
    );
    assert_eq!(status["exam"]["passed"], false, "{status:#}");
    assert_eq!(status["exam"]["max_score"], 20.0, "{status:#}");
    let gone = task_of(&status, "a-lab-since-removed\u{1b}[2J");
    assert_eq!(gone["score"], 0.0, "{status:#}");
    // Asked again, the same answer: graded once.
    assert_eq!(self::status(&test)["exam"], status["exam"]);
    // The stored lab id is printed escaped, never as an escape sequence.
    let text = test.run(&["exam", "status"]).success().stdout();
    assert!(
        !text.contains('\u{1b}') && text.contains(r"\u{1b}[2J"),
        "{text}"
    );
}

/// With no proctor at the deadline (the machine was off), the exam is graded late from what
/// the learner's checks showed before the deadline: a task checked PASS in time counts even
/// though its node is gone now, and nothing done after the deadline can count.
#[test]
fn a_late_grading_counts_what_stood_at_the_deadline() {
    use ckalab::store::{CheckOutcome, NewExamTask, Store, Verdict};
    let test = Test::new();
    std::fs::create_dir_all(test.home()).expect("home");
    let mut store = Store::open(&test.database()).expect("store");
    let started: jiff::Timestamp = "2026-11-01T09:00:00Z".parse().expect("time");
    let deadline: jiff::Timestamp = "2026-11-01T11:00:00Z".parse().expect("time");
    let exam = store
        .create_exam(7, "sandbox", started, deadline)
        .expect("exam");
    let mut attempts = Vec::new();
    for (position, lab_id) in [(1, "etcd-restore"), (2, "runtime-endpoint")] {
        let task = NewExamTask {
            position,
            lab_id,
            variant: None,
            points: 10.0,
            cluster: position,
        };
        attempts.push(
            store
                .add_exam_task(exam, &task, "sandbox", started)
                .expect("task"),
        );
    }
    let outcome = |verdict| CheckOutcome {
        name: "the check".into(),
        verdict,
        message: String::new(),
    };
    let at = |t: &str| t.parse::<jiff::Timestamp>().expect("time");
    for attempt in &attempts {
        // Broken at setup.
        store
            .record_grading(*attempt, started, Verdict::Fail, &[outcome(Verdict::Fail)])
            .expect("setup grading");
    }
    // Task 1 fixed and checked in time; task 2 only after the deadline.
    store
        .record_grading(
            attempts[0],
            at("2026-11-01T10:30:00Z"),
            Verdict::Pass,
            &[outcome(Verdict::Pass)],
        )
        .expect("in time");
    store
        .record_grading(
            attempts[1],
            at("2026-11-01T11:30:00Z"),
            Verdict::Pass,
            &[outcome(Verdict::Pass)],
        )
        .expect("too late");
    drop(store);

    let status = status(&test);
    assert_eq!(status["exam"]["graded_by"], "late", "{status:#}");
    assert_eq!(
        task_of(&status, "etcd-restore")["score"],
        10.0,
        "{status:#}"
    );
    assert_eq!(
        task_of(&status, "runtime-endpoint")["score"],
        0.0,
        "{status:#}"
    );
}

/// Ctrl-C (here: a kill) during an exam's pre-flight leaves task nodes no exam owns: `stop`
/// ends them, as `exam start` would before its next pre-flight.
#[test]
fn an_interrupted_pre_flight_leaves_nothing_stop_cannot_end() {
    let test = Test::new();
    let mut exam = test
        .command(&["exam", "start", "--tasks", "1", "--seconds", "600"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("exam start");
    let pid_file = test.home().join("sandbox/exam-1/var/lib/ckalab/agent.pid");
    let waited = Instant::now();
    while !pid_file.exists() && waited.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = exam.kill();
    let _ = exam.wait();
    let agent: Option<u32> = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|p| p.trim().parse().ok());
    test.run(&["stop"]).success();
    std::thread::sleep(Duration::from_millis(200));
    let agent = agent.expect("pre-flight got as far as starting a task node");
    let alive = std::fs::read_to_string(format!("/proc/{agent}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .trim_start()
            .starts_with('Z')
    });
    assert!(!alive, "the task node's agent was stopped");
    assert!(!test.home().join("sandbox/exam-1").exists());
}

/// The default exam, as exam day: 16 tasks from every domain at its weight, on several
/// clusters at once, a task that breaks its control plane alone on its cluster; each task
/// names its context and node, the contexts reach every cluster from any task's node, and the
/// report shows points per domain, what was still wrong and what to practise next.
#[test]
fn a_default_exam_runs_on_several_clusters_and_reports_by_domain() {
    let test = Test::new();
    let _end = Submitted(&test);
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    test.run(&["exam", "start", "--seed", "1"])
        .success()
        .stdout_has("16 tasks")
        .stdout_has("CLUSTER");
    let running = status(&test);
    let tasks = running["tasks"].as_array().expect("tasks").clone();
    assert_eq!(tasks.len(), 16);
    let lab_of = |t: &Value| catalog.lab(t["lab_id"].as_str().expect("id")).expect("lab");
    let mut clusters: Vec<u64> = tasks
        .iter()
        .map(|t| t["cluster"].as_u64().expect("cluster"))
        .collect();
    clusters.sort_unstable();
    clusters.dedup();
    assert!(clusters.len() >= 2, "several clusters: {clusters:?}");
    for task in &tasks {
        let alone = tasks
            .iter()
            .filter(|t| t["cluster"] == task["cluster"])
            .count()
            == 1;
        assert!(!lab_of(task).breaks_control_plane() || alone, "{task:#}");
    }

    // A task names its context and its node; from its node, kubectl reaches another cluster
    // through the exam's contexts.
    let first = &tasks[0];
    let context = format!("exam-{}", first["cluster"]);
    test.run(&["exam", "task", "1"])
        .success()
        .stdout_has(&format!("kubectl config use-context {context}"))
        .stdout_has(&format!("ssh {context}"));
    let from = tasks
        .iter()
        .find(|t| !lab_of(t).claims().contains("file//root/.kube/config"))
        .expect("a task that leaves root's kubeconfig alone");
    let other = tasks
        .iter()
        .find(|t| t["cluster"] != from["cluster"] && !lab_of(t).breaks_control_plane())
        .expect("a task on another cluster whose API server works");
    let other_context = format!("exam-{}", other["cluster"]);
    let shell = format!(
        "kubectl config use-context {other_context} && kubectl get node {other_context} -o name"
    );
    test.run(&["exam", "shell", &from["position"].to_string(), "-c", &shell])
        .success()
        .stdout_has(&format!("node/{other_context}"));

    // Nothing fixed: every task fails, and the report says why, by domain.
    test.run(&["exam", "submit"])
        .exit(1)
        .stdout_has("DOMAIN")
        .stdout_has("troubleshooting")
        .stdout_has("What was still wrong")
        .stdout_has("Practise next")
        .stdout_has(&format!(
            "`ckalab start {}`",
            first["lab_id"].as_str().expect("id")
        ));
    let graded = status(&test);
    assert_eq!(graded["domains"].as_array().expect("domains").len(), 5);
    assert!(
        graded["tasks"][0]["failed_checks"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{graded:#}"
    );
    assert!(
        !test.home().join("sandbox/exam-1").exists(),
        "the clusters are gone"
    );
}
