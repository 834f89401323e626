//! The `--json` shapes the README documents, and colour rules.

use serde_json::Value;

use crate::Test;

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}

#[test]
fn labs_json_lists_every_lab_with_every_field() {
    let json = Test::new().run(&["labs", "--json"]).success().json();
    assert_eq!(keys(&json), ["labs"]);
    let labs = json["labs"].as_array().expect("labs");
    let ids: Vec<&str> = labs.iter().map(|l| l["id"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), crate::lab_folders());
    assert!(ids.is_sorted(), "by id: {ids:?}");
    for seed in [
        "apiserver-flags",
        "cri-plugin-disabled",
        "etcd-restore",
        "expired-certs",
        "runtime-endpoint",
        "taint-toleration",
        "pv-pvc-static",
        "rollout-undo",
    ] {
        assert!(ids.contains(&seed), "{seed} in {ids:?}");
    }
    for lab in labs {
        assert_eq!(
            keys(lab),
            [
                "attempts",
                "backends",
                "best_seconds",
                "difficulty",
                "domain",
                "hints",
                "id",
                "lesson",
                "minutes",
                "passes",
                "status",
                "symptom",
                "task",
                "title",
                "variants"
            ]
        );
        assert!(lab["title"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(lab["symptom"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(
            lab["task"].as_str().is_some_and(|t| !t.contains("{{")),
            "task is rendered"
        );
        assert!((1..=5).contains(&lab["difficulty"].as_u64().expect("difficulty")));
        assert!(lab["minutes"].as_u64().expect("minutes") > 0);
        assert!(lab["hints"].as_u64().expect("hints") >= 3);
        let backends = lab["backends"].as_array().expect("backends");
        assert!(
            !backends.is_empty() && backends.iter().all(|b| b == "sandbox" || b == "kind"),
            "{lab}"
        );
        assert_eq!(lab["status"], "never-tried");
        assert_eq!(lab["attempts"], 0);
        assert_eq!(lab["best_seconds"], Value::Null);
    }
    let flags = labs
        .iter()
        .find(|l| l["id"] == "apiserver-flags")
        .expect("lab");
    assert_eq!(
        flags["variants"],
        serde_json::json!(["etcd-peer-port", "misspelled-flag", "missing-cert"])
    );
}

#[test]
fn show_json_has_the_task_fields() {
    let json = Test::new()
        .run(&["show", "expired-certs", "--json"])
        .success()
        .json();
    assert_eq!(
        keys(&json),
        [
            "backends",
            "difficulty",
            "domain",
            "hints",
            "id",
            "lesson",
            "minutes",
            "symptom",
            "task",
            "title"
        ]
    );
    assert_eq!(json["lesson"], "certificates");
    assert_eq!(json["domain"], "cluster-architecture");
}

#[test]
fn progress_json_on_a_fresh_home() {
    let test = Test::new();
    let json = test.run(&["progress", "--json"]).success().json();
    assert_eq!(
        keys(&json),
        [
            "curriculum",
            "database",
            "domains",
            "labs",
            "last_activity",
            "last_exam",
            "next",
            "recent",
            "streak_days",
            "totals"
        ]
    );
    assert_eq!(json["domains"].as_array().expect("domains").len(), 5);
    assert_eq!(json["next"][0]["kind"], "first-steps");
    assert_eq!(json["database"], test.database().display().to_string());
    assert_eq!(
        keys(&json["totals"]),
        [
            "attempts",
            "exams",
            "labs_passed",
            "quiz_answers",
            "quiz_correct"
        ]
    );
    assert_eq!(
        json["labs"].as_array().expect("labs").len(),
        crate::lab_folders()
    );
    assert_eq!(json["recent"], serde_json::json!([]));
}

fn has_ansi(text: &str) -> bool {
    text.contains('\u{1b}')
}

#[test]
fn no_color_wins_over_clicolor_force() {
    let forced = Test::new().env("CLICOLOR_FORCE", "1");
    assert!(
        has_ansi(&forced.run(&["labs"]).success().stdout()),
        "CLICOLOR_FORCE colours a pipe"
    );
    assert!(has_ansi(&forced.run(&["learn", "etcd"]).success().stdout()));

    let plain = Test::new().env("CLICOLOR_FORCE", "1").env("NO_COLOR", "1");
    assert!(!has_ansi(&plain.run(&["labs"]).success().stdout()));
    assert!(!has_ansi(&plain.run(&["learn", "etcd"]).success().stdout()));
    assert!(!has_ansi(
        &plain.run(&["show", "etcd-nope"]).exit(2).stderr()
    ));
}

#[test]
fn color_flag_overrides_the_environment() {
    let test = Test::new().env("NO_COLOR", "1");
    assert!(has_ansi(
        &test.run(&["--color", "always", "labs"]).success().stdout()
    ));
    assert!(!has_ansi(
        &Test::new()
            .env("CLICOLOR_FORCE", "1")
            .run(&["labs", "--color", "never"])
            .success()
            .stdout()
    ));
}

#[test]
fn json_never_has_colour() {
    let json = Test::new()
        .env("CLICOLOR_FORCE", "1")
        .run(&["labs", "--json"])
        .success();
    assert!(!has_ansi(&json.stdout()));
}
