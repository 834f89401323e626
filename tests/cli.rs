//! Reading labs and lessons from the command line, and what happens on a typo.

use std::process::Stdio;

use crate::Test;

#[test]
fn show_prints_the_task_with_real_paths_without_starting_anything() {
    let test = Test::new();
    let run = test.run(&["show", "etcd-restore"]).success();
    let node = test.home().join("sandbox/controlplane");
    run.stdout_has("etcd-restore — Bring deleted objects back from an etcd snapshot")
        .stdout_has("    /var/backups/etcd/snapshot.db")
        .stdout_has("ckalab learn etcd")
        .stdout_has("What you would see");
    assert!(!node.exists(), "show must not build a node");
}

/// A lab whose behaviour simulated workers cannot show says so before anyone starts it; the
/// task names the sandbox's worker by its real name.
#[test]
fn show_says_when_the_sandbox_grades_configuration_only() {
    let test = Test::new();
    let probes = test.run(&["show", "liveness-probe"]).success();
    probes.stdout_has("On the sandbox this lab grades configuration only, not behaviour");
    let json = test.run(&["show", "hpa-cpu", "--json"]).success().json();
    assert!(
        json["configuration_only"]
            .as_str()
            .is_some_and(|why| why.contains("metrics-server")),
        "{json}"
    );
    let plain = test
        .run(&["show", "taint-toleration", "--json"])
        .success()
        .json();
    assert!(plain.get("configuration_only").is_none(), "{plain}");
    assert!(
        plain["task"]
            .as_str()
            .is_some_and(|task| task.contains("`node01` carries the taint")),
        "{plain}"
    );
}

#[test]
fn an_unknown_lab_exits_2_and_suggests_the_closest_ids() {
    Test::new()
        .run(&["show", "etcd-restor"])
        .exit(2)
        .stderr_has("no lab named `etcd-restor`")
        .stderr_has("did you mean")
        .stderr_has("`etcd-restore`")
        .stderr_has("ckalab labs");
}

#[test]
fn an_unknown_topic_exits_2_and_suggests_lessons() {
    Test::new()
        .run(&["learn", "kubelt"])
        .exit(2)
        .stderr_has("no lesson or component named `kubelt`")
        .stderr_has("`kubelet`");
    Test::new()
        .run(&["explain", "api-servr"])
        .exit(2)
        .stderr_has("did you mean");
}

#[test]
fn an_unknown_domain_exits_2() {
    Test::new()
        .run(&["labs", "--domain", "troubleshoot"])
        .exit(2)
        .stderr_has("did you mean `troubleshooting`?");
}

#[test]
fn a_usage_error_exits_2() {
    Test::new()
        .run(&["labs", "--bogus"])
        .exit(2)
        .stderr_has("--bogus");
}

#[test]
fn labs_filters_by_domain() {
    let run = Test::new()
        .run(&["labs", "--domain", "cluster-architecture", "--json"])
        .success();
    let ids: Vec<String> = run.json()["labs"]
        .as_array()
        .expect("labs")
        .iter()
        .map(|lab| lab["id"].as_str().expect("id").to_string())
        .collect();
    for id in ["etcd-restore", "expired-certs", "rbac-pod-reader"] {
        assert!(ids.iter().any(|i| i == id), "{id} in {ids:?}");
    }
    for id in ["cri-plugin-disabled", "taint-toleration", "svc-nodeport"] {
        assert!(
            !ids.iter().any(|i| i == id),
            "{id} is another domain's: {ids:?}"
        );
    }
    let all = Test::new().run(&["labs", "--json"]).success().json();
    let in_domain = all["labs"]
        .as_array()
        .expect("labs")
        .iter()
        .filter(|lab| lab["domain"] == "cluster-architecture")
        .count();
    assert_eq!(ids.len(), in_domain);
}

#[test]
fn labs_piped_into_head_exits_0() {
    let test = Test::new();
    let shell = format!(
        "set -o pipefail; '{}' labs | head -1",
        env!("CARGO_BIN_EXE_ckalab")
    );
    let output = std::process::Command::new("bash")
        .args(["-c", &shell])
        .env("CKALAB_HOME", test.home())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("LAB"));
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_closed_stdout_is_a_normal_end() {
    // A pipe whose reader is gone before ckalab writes: every write fails with EPIPE.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let output = Test::new()
        .command(&["learn", "etcd"])
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("ckalab runs");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn missing_home_says_how_to_fix_it() {
    Test::new()
        .command(&["labs"])
        .env_remove("CKALAB_HOME")
        .env_remove("XDG_DATA_HOME")
        .env_remove("HOME")
        .output()
        .map(|output| crate::Run { output })
        .expect("runs")
        .exit(4)
        .stderr_has("set CKALAB_HOME");
}

#[test]
fn version_names_the_kubernetes_and_etcd_versions_the_labs_target() {
    Test::new()
        .run(&["--version"])
        .success()
        .stdout_has("(Kubernetes v1.35.")
        .stdout_has(", etcd v3.6.");
}

#[test]
fn bash_completes_lab_ids_lessons_and_quiz_topics() {
    let test = Test::new();
    let script = test.run(&["completions", "bash"]).success().stdout();
    let file = test.home().join("ckalab.bash");
    std::fs::write(&file, script).expect("write the script");
    // What bash offers after `ckalab <words…><TAB>`, as its completion function computes it.
    let complete = |words: &str| {
        let words: Vec<&str> = words.split(' ').collect();
        let program = format!(
            "source {}; COMP_WORDS=({}); COMP_CWORD={}; _ckalab ckalab {} {}; echo \"${{COMPREPLY[@]}}\"",
            file.display(),
            words.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &program])
            .output()
            .expect("bash runs");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(complete("ckalab start etcd-re"), "etcd-restore");
    assert_eq!(complete("ckalab show netpol-egr"), "netpol-egress-dns");
    assert_eq!(complete("ckalab explain apiser"), "apiserver");
    assert_eq!(complete("ckalab quiz --topic netp"), "netpol");
    assert_eq!(
        complete("ckalab labs --domain stor"),
        "storage",
        "domains complete too"
    );
}

#[test]
fn zsh_and_fish_scripts_carry_the_catalog_names() {
    for shell in ["zsh", "fish"] {
        let script = Test::new().run(&["completions", shell]).success().stdout();
        for name in ["etcd-restore", "kube-apiserver", "netpol-egress-dns"] {
            assert!(script.contains(name), "{shell}: {name}");
        }
    }
    let fish = Test::new().run(&["completions", "fish"]).success().stdout();
    assert!(
        fish.lines()
            .any(|l| l.contains("using_subcommand start") && l.contains("etcd-restore")),
        "fish completes start's lab"
    );
}
