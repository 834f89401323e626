//! The progress store: history shows up in listings; a damaged or foreign file is refused
//! with a clear message and left byte-for-byte as it was.

use ckalab::store::{CheckOutcome, Store, Verdict};
use jiff::Timestamp;

use crate::Test;

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

#[test]
fn attempts_show_in_labs_and_progress() {
    let test = Test::new();
    {
        let mut store = Store::open(&test.database()).expect("store");
        let failed = store
            .start_attempt(
                "etcd-restore",
                None,
                "sandbox",
                false,
                at("2026-11-01T10:00:00Z"),
            )
            .expect("start");
        let outcome = CheckOutcome {
            name: "etcd_healthy".into(),
            verdict: Verdict::Fail,
            message: "etcd is down".into(),
        };
        store
            .record_grading(
                failed,
                at("2026-11-01T10:05:00Z"),
                Verdict::Fail,
                &[outcome],
            )
            .expect("grade");
        let passed = store
            .start_attempt(
                "expired-certs",
                None,
                "sandbox",
                false,
                at("2026-11-02T10:00:00Z"),
            )
            .expect("start");
        store
            .record_grading(passed, at("2026-11-02T10:12:05Z"), Verdict::Pass, &[])
            .expect("grade");
        let slower = store
            .start_attempt(
                "expired-certs",
                None,
                "sandbox",
                false,
                at("2026-11-03T10:00:00Z"),
            )
            .expect("start");
        store
            .record_grading(slower, at("2026-11-03T10:20:00Z"), Verdict::Pass, &[])
            .expect("grade");
        store
            .start_attempt(
                "runtime-endpoint",
                None,
                "sandbox",
                false,
                at("2026-11-04T10:00:00Z"),
            )
            .expect("start");
    }

    let json = test.run(&["labs", "--json"]).success().json();
    let lab = |id: &str| {
        json["labs"]
            .as_array()
            .expect("labs")
            .iter()
            .find(|l| l["id"] == id)
            .expect("lab")
            .clone()
    };
    assert_eq!(lab("etcd-restore")["status"], "failed");
    assert_eq!(lab("expired-certs")["status"], "passed");
    assert_eq!(lab("expired-certs")["best_seconds"], 725);
    assert_eq!(lab("expired-certs")["passes"], 2);
    assert_eq!(lab("runtime-endpoint")["status"], "started");
    assert_eq!(lab("apiserver-flags")["status"], "never-tried");

    test.run(&["labs"])
        .success()
        .stdout_has("12m 05s")
        .stdout_has("failed")
        .stdout_has("never tried");

    let progress = test.run(&["progress", "--json"]).success().json();
    assert_eq!(progress["totals"]["attempts"], 4);
    assert_eq!(progress["totals"]["labs_passed"], 1);
    assert_eq!(progress["recent"][0]["lab_id"], "runtime-endpoint");
    assert_eq!(progress["recent"][0]["result"], serde_json::Value::Null);
    assert_eq!(progress["recent"][1]["result"], "PASS");
    assert_eq!(progress["recent"][1]["started_at"], "2026-11-03T10:00:00Z");
    test.run(&["progress"])
        .success()
        .stdout_has(&format!("1 of {} labs passed", crate::lab_folders()))
        .stdout_has("etcd-restore");
}

#[test]
fn a_corrupted_database_is_refused_and_left_untouched() {
    let test = Test::new();
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(test.database(), &garbage).expect("write garbage");
    for args in [&["labs"][..], &["progress"], &["progress", "--json"]] {
        test.run(args)
            .exit(4)
            .stderr_has(&test.database().display().to_string())
            .stderr_has("damaged or not a database")
            .stderr_has("left the file untouched")
            .stderr_has("mv ");
    }
    assert_eq!(std::fs::read(test.database()).expect("read"), garbage);
    assert!(!test.home().join("progress.db-wal").exists());
}

#[test]
fn a_damaged_ckalab_database_is_refused() {
    let test = Test::new();
    drop(Store::open(&test.database()).expect("store"));
    // Keep SQLite's header but overwrite the pages behind it.
    let mut bytes = std::fs::read(test.database()).expect("read");
    assert!(bytes.len() > 4096);
    for b in &mut bytes[100..] {
        *b = 0xA5;
    }
    std::fs::write(test.database(), &bytes).expect("write");
    test.run(&["labs"])
        .exit(4)
        .stderr_has("damaged or not a database");
    assert_eq!(std::fs::read(test.database()).expect("read"), bytes);
}

#[test]
fn a_foreign_sqlite_file_is_refused_and_left_untouched() {
    let test = Test::new();
    {
        let conn = rusqlite::Connection::open(test.database()).expect("sqlite");
        conn.execute_batch("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x');")
            .expect("sql");
    }
    let before = std::fs::read(test.database()).expect("read");
    test.run(&["labs"])
        .exit(4)
        .stderr_has("not ckalab's")
        .stderr_has("untouched");
    assert_eq!(std::fs::read(test.database()).expect("read"), before);
}

#[test]
fn a_database_from_a_newer_ckalab_is_refused() {
    let test = Test::new();
    drop(Store::open(&test.database()).expect("store"));
    {
        let conn = rusqlite::Connection::open(test.database()).expect("sqlite");
        conn.pragma_update(None, "user_version", 99)
            .expect("pragma");
    }
    test.run(&["labs"]).exit(4).stderr_has("newer ckalab");
}

#[test]
fn the_store_uses_wal_and_reopens() {
    let test = Test::new();
    let id = {
        let store = Store::open(&test.database()).expect("store");
        store
            .start_attempt(
                "etcd-restore",
                Some("v"),
                "sandbox",
                true,
                at("2026-11-01T10:00:00Z"),
            )
            .expect("start")
    };
    let store = Store::open(&test.database()).expect("reopen");
    assert_eq!(store.count_hint(id).expect("hint"), 1);
    assert_eq!(store.count_hint(id).expect("hint"), 2);
    let conn = rusqlite::Connection::open(test.database()).expect("sqlite");
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(mode, "wal");
    let app: i32 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(app, ckalab::store::APPLICATION_ID);
}

#[test]
fn two_writers_at_once_both_land() {
    let test = Test::new();
    drop(Store::open(&test.database()).expect("store"));
    let path = test.database();
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = Store::open(&path).expect("store");
                for i in 0..25 {
                    store
                        .start_attempt(
                            &format!("lab-{w}-{i}"),
                            None,
                            "sandbox",
                            false,
                            at("2026-11-01T10:00:00Z"),
                        )
                        .expect("insert");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer");
    }
    let store = Store::open(&path).expect("store");
    assert_eq!(store.totals().expect("totals").attempts, 100);
}

/// A database on a read-only file system (or one the learner cannot write) is read-only, not
/// damaged: the message says so and the file is left as it was. bubblewrap mounts the home
/// read-only, which holds even for root, who ignores file permissions.
#[test]
fn a_read_only_database_is_called_read_only_not_damaged() {
    let test = Test::new();
    test.run(&["progress"]).success();
    let before = std::fs::read(test.database()).expect("database");
    let home = test.home().to_string_lossy().into_owned();
    let output = std::process::Command::new("bwrap")
        .args(["--bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
        .args(["--ro-bind", &home, &home])
        .arg(assert_cmd::cargo::cargo_bin!("ckalab"))
        .arg("progress")
        .env("CKALAB_HOME", &home)
        .output()
        .expect("bwrap runs (scripts/install-deps.sh installs it)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("is read-only") && !stderr.contains("damaged"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(test.database()).expect("database"), before);
}

/// What the store holds is printed escaped: a lab id with an escape sequence in it (written by
/// another tool) never reaches the terminal as one.
#[test]
fn stored_text_reaches_the_terminal_escaped() {
    let test = Test::new().env("NO_COLOR", "1");
    test.run(&["progress"]).success();
    let store = Store::open(&test.database()).expect("store");
    store
        .start_attempt(
            "\u{1b}[2Jowned",
            None,
            "sandbox",
            false,
            at("2026-11-20T10:00:00Z"),
        )
        .expect("attempt");
    drop(store);
    let run = test.run(&["progress"]).success();
    assert!(!run.stdout().contains('\u{1b}'), "{:?}", run.stdout());
    assert!(run.stdout().contains(r"\u{1b}[2Jowned"), "{}", run.stdout());
}
