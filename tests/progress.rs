//! Progress on seeded histories: what to do next, export and import, and reset.

use serde_json::{Value, json};

use crate::Test;

const NOW: &str = "2026-11-25T12:00:00Z";
const DAY: i64 = 86_400;

fn now() -> i64 {
    NOW.parse::<jiff::Timestamp>().expect("time").as_second()
}

fn attempt(id: i64, lab: &str, days_ago: i64, result: &str) -> Value {
    let started = now() - days_ago * DAY;
    json!({
        "id": id, "lab_id": lab, "variant": null, "backend": "sandbox", "blind": 0,
        "started_at": started,
        "ended_at": if result == "PASS" { json!(started + 600) } else { json!(null) },
        "hints_used": 1, "solution_revealed": 0, "result": result, "exam_id": null
    })
}

fn answer(id: i64, topic: &str, days_ago: i64, correct: bool) -> Value {
    json!({
        "id": id, "question_id": format!("{topic}-q{id}"), "topic": topic,
        "answered_at": now() - days_ago * DAY, "answer": "a", "correct": i64::from(correct)
    })
}

/// A learner who failed runtime-endpoint yesterday, passed apiserver-flags two days ago and
/// etcd-restore twenty days ago, and answers etcd questions badly but kubelet ones well.
fn seeded_history() -> Value {
    json!({
        "format": "ckalab-progress",
        "version": 1,
        "exported_at": NOW,
        "tables": {
            "exams": [],
            "attempts": [
                attempt(1, "etcd-restore", 20, "PASS"),
                attempt(2, "apiserver-flags", 2, "PASS"),
                attempt(3, "runtime-endpoint", 1, "FAIL"),
            ],
            "gradings": [],
            "check_results": [],
            "exam_tasks": [],
            "exam_replacements": [],
            "quiz_answers": [
                answer(1, "etcd", 1, true),
                answer(2, "etcd", 1, false),
                answer(3, "etcd", 0, false),
                answer(4, "etcd", 0, false),
                answer(5, "kubelet", 0, true),
                answer(6, "kubelet", 0, true),
                answer(7, "kubelet", 0, true),
            ],
        }
    })
}

fn learner() -> Test {
    Test::new().env("CKALAB_NOW", NOW)
}

fn import(test: &Test, document: &Value) {
    let file = test.home().join("seed.json");
    std::fs::write(&file, document.to_string()).expect("seed");
    test.run(&["progress", "--import", &file.to_string_lossy()])
        .success()
        .stdout_has("Imported 3 attempts, 0 exams and 7 quiz answers");
}

#[test]
fn recommendations_follow_the_seeded_history() {
    let test = learner();
    import(&test, &seeded_history());
    let json = test.run(&["progress", "--json"]).success().json();
    let next: Vec<(String, String)> = json["next"]
        .as_array()
        .expect("next")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or_default().to_string(),
                r["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let has = |kind: &str, target: &str| next.iter().any(|(k, t)| k == kind && t == target);
    // services-networking, never touched, counts as 0% and weighs the most of the untouched
    // domains (20%): the weakest domain, its labs by id.
    assert!(has("weak-domain-lab", "coredns-stub-domain"), "{next:?}");
    assert!(has("quiz-topic", "etcd"), "1 of 4 right: {next:?}");
    assert!(
        !next.iter().any(|(_, t)| t == "kubelet"),
        "3 of 3 right: {next:?}"
    );
    assert!(
        has("spaced-review", "etcd-restore"),
        "passed 20 days ago: {next:?}"
    );
    assert!(
        !has("spaced-review", "apiserver-flags"),
        "passed 2 days ago: {next:?}"
    );
    assert_eq!(
        json["streak_days"], 3,
        "today, yesterday and the day before"
    );

    // etcd-restore and apiserver-flags passed: their competencies are practised, the rest
    // are gaps, shown heaviest domain first.
    let competencies = json["curriculum"].as_array().expect("curriculum");
    let practised: Vec<&str> = competencies
        .iter()
        .filter(|c| !c["labs_passed"].as_array().expect("labs_passed").is_empty())
        .map(|c| c["id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        practised,
        ["troubleshoot-components", "cluster-lifecycle"],
        "{competencies:?}"
    );

    let text = test.run(&["progress"]).success();
    text.stdout()
        .contains("What to do next")
        .then_some(())
        .expect("a next-steps section");
    text.stdout()
        .contains("2 of 27 curriculum competencies practised")
        .then_some(())
        .expect("curriculum coverage");
    text.stdout()
        .contains("not yet: Troubleshoot clusters and nodes — `ckalab start cri-plugin-disabled`")
        .then_some(())
        .expect("the first gap with its lab");
    assert!(text.stdout().contains('█'), "bars per domain");
}

#[test]
fn export_and_import_carry_the_whole_history() {
    let first = learner();
    import(&first, &seeded_history());
    let file = first.home().join("export.json");
    first
        .run(&["progress", "--export", &file.to_string_lossy()])
        .success();

    let second = learner();
    second
        .run(&["progress", "--import", &file.to_string_lossy()])
        .success()
        .stdout_has("Imported 3 attempts");
    // Importing it again adds nothing.
    second
        .run(&["progress", "--import", &file.to_string_lossy()])
        .success()
        .stdout_has("Imported 0 attempts, 0 exams and 0 quiz answers (10 already here, skipped)");
    let strip = |mut v: Value| {
        v.as_object_mut().expect("object").remove("database");
        v
    };
    assert_eq!(
        strip(first.run(&["progress", "--json"]).success().json()),
        strip(second.run(&["progress", "--json"]).success().json())
    );

    std::fs::write(&file, "{\"format\": \"something else\"}").expect("write");
    second
        .run(&["progress", "--import", &file.to_string_lossy()])
        .exit(2)
        .stderr_has("not a ckalab progress export");
}

#[test]
fn reset_asks_first_and_keeps_a_backup() {
    let test = learner();
    import(&test, &seeded_history());
    test.run(&["progress", "--reset"])
        .exit(2)
        .stderr_has("--yes");
    test.run(&["progress", "--reset", "--yes"])
        .success()
        .stdout_has("backups/progress-20261125T120000Z.json");
    let json = test.run(&["progress", "--json"]).success().json();
    assert_eq!(json["totals"]["attempts"], 0);
    let backup = test.home().join("backups/progress-20261125T120000Z.json");
    test.run(&["progress", "--import", &backup.to_string_lossy()])
        .success()
        .stdout_has("Imported 3 attempts");

    // A second reset in the same second keeps the first backup and writes its own beside it.
    let first = std::fs::read(&backup).expect("first backup");
    test.run(&["progress", "--reset", "--yes"])
        .success()
        .stdout_has("backups/progress-20261125T120000Z-2.json");
    assert_eq!(std::fs::read(&backup).expect("still there"), first);
}

/// An import that fails exits 2, says why, and writes nothing: the history imported before it
/// reads the same afterwards.
fn refused(test: &Test, document: &Value, why: &str) {
    let before = test.run(&["progress", "--json"]).success().json();
    let file = test.home().join("bad.json");
    std::fs::write(&file, document.to_string()).expect("bad");
    test.run(&["progress", "--import", &file.to_string_lossy()])
        .exit(2)
        .stderr_has(why)
        .stderr_has("Nothing was imported");
    assert_eq!(
        test.run(&["progress", "--json"]).success().json(),
        before,
        "nothing written"
    );
}

fn with_attempt(row: Value) -> Value {
    let mut document = seeded_history();
    document["tables"]["attempts"] = json!([row]);
    document["tables"]["quiz_answers"] = json!([]);
    document
}

#[test]
fn an_import_takes_known_columns_of_the_right_type_only() {
    let test = learner();
    import(&test, &seeded_history());

    // A column name is never pasted into SQL: this one would have rewritten every result.
    let mut injected = attempt(9, "etcd-restore", 3, "FAIL");
    injected["result) SELECT 1; UPDATE attempts SET result='PASS' --"] = json!("x");
    refused(
        &test,
        &with_attempt(injected),
        "attempts has no column `result) SELECT 1; UPDATE attempts SET result='PASS' --`",
    );

    let mut not_a_time = attempt(9, "etcd-restore", 3, "FAIL");
    not_a_time["started_at"] = json!("not a time");
    refused(
        &test,
        &with_attempt(not_a_time),
        "attempts.started_at: \"not a time\" is not a whole number",
    );

    let mut huge = attempt(9, "etcd-restore", 3, "FAIL");
    huge["lab_id"] = json!("x".repeat(100_000));
    refused(
        &test,
        &with_attempt(huge),
        "is not a text of at most 64 KiB",
    );

    let escape = attempt(9, "\u{1b}[2J\u{1b}[31mowned", 3, "FAIL");
    refused(
        &test,
        &with_attempt(escape),
        r#"attempts.lab_id: "\u001b[2J\u001b[31mowned" is not a text"#,
    );

    refused(
        &test,
        &with_attempt(attempt(9, "etcd-restore", 3, "MAYBE")),
        "CHECK constraint failed",
    );

    let overflow = attempt(i64::MAX, "etcd-restore", 3, "FAIL");
    refused(
        &test,
        &with_attempt(overflow),
        "attempts.id 9223372036854775807 is out of range",
    );

    // And progress still reads: nothing broke the database.
    test.run(&["progress"]).success();
}

/// Importing is linear in the size of the export: ten thousand rows go in at once, and a
/// second import of the same file skips every one of them.
#[test]
fn a_large_import_merges_and_a_repeated_one_skips_it_all() {
    let test = learner();
    let answers: Vec<Value> = (1..=10_000)
        .map(|i| answer(i, "etcd", i % 30, i % 3 == 0))
        .collect();
    let mut document = seeded_history();
    document["tables"]["quiz_answers"] = json!(answers);
    let file = test.home().join("large.json");
    std::fs::write(&file, document.to_string()).expect("large");
    test.run(&["progress", "--import", &file.to_string_lossy()])
        .success()
        .stdout_has("Imported 3 attempts, 0 exams and 10000 quiz answers");
    test.run(&["progress", "--import", &file.to_string_lossy()])
        .success()
        .stdout_has(
            "Imported 0 attempts, 0 exams and 0 quiz answers (10003 already here, skipped)",
        );
}
