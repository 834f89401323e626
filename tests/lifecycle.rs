//! A lab's lifecycle when something goes wrong: a reset that fails, a lab on the wrong
//! backend, a setup step that cannot run. Each exits with the code the README gives for it and
//! loses nothing.

use crate::{CatalogCopy, Test};

/// A reset that fails (here: the node died, and containerd and bubblewrap cannot be found to
/// start it again) must leave the lab in progress, so the next reset tries the same node again;
/// it used to forget the lab first.
#[test]
fn a_reset_that_fails_keeps_the_lab_for_the_next_reset() {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::{Pid, getpgid};

    let test = Test::new();
    test.run(&["start", "runtime-endpoint", "--backend", "sandbox"])
        .success();
    // The node dies: its agent and everything in its process group.
    let pid_file = test
        .home()
        .join("sandbox/controlplane/var/lib/ckalab/agent.pid");
    let agent: i32 = std::fs::read_to_string(pid_file)
        .expect("agent.pid")
        .trim()
        .parse()
        .expect("a pid");
    let group = getpgid(Some(Pid::from_raw(agent))).expect("the agent's group");
    killpg(group, Signal::SIGKILL).expect("kill the node");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let failed = test
        .command(&["reset"])
        .env("PATH", "/nonexistent")
        .output()
        .expect("ckalab runs");
    assert_eq!(
        failed.status.code(),
        Some(3),
        "a missing tool is INVALID: {}",
        String::from_utf8_lossy(&failed.stderr)
    );
    let status = test.run(&["status", "--json"]).success().json();
    assert_eq!(
        status["lab"], "runtime-endpoint",
        "the lab is still in progress"
    );

    test.run(&["reset"]).success().stdout_has("is healthy");
    test.run(&["status"])
        .exit(2)
        .stderr_has("no lab is in progress");
    test.run(&["stop"]).success();
}

#[test]
fn a_lab_on_a_backend_it_does_not_run_on_is_a_usage_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/expired-certs/lab.yaml",
        "backends: [sandbox, kind]",
        "backends: [kind]",
    );
    copy.test()
        .run(&["start", "expired-certs", "--backend", "sandbox"])
        .exit(2)
        .stderr_has("does not run on the sandbox backend")
        .stderr_has("its backends are kind");
}

/// A setup step that cannot run is ckalab's (or the lab's) problem, never the learner's wrong
/// answer: INVALID, recorded as such, exit 3 (it used to exit 1, the wrong-answer code).
#[test]
fn a_setup_step_that_fails_is_invalid_not_a_wrong_answer() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/expired-certs/lab.yaml",
        "setup:\n",
        "setup:\n  - replace_text:\n      file: /etc/kubernetes/manifests/kube-apiserver.yaml\n      from: no such text in the manifest\n      to: anything\n",
    );
    let test = copy.test();
    test.run(&["start", "expired-certs", "--backend", "sandbox"])
        .exit(3)
        .stderr_has("step 1 (replace_text) failed")
        .stderr_has("recorded as INVALID");
    let progress = test.run(&["progress", "--json"]).success().json();
    assert_eq!(progress["recent"][0]["result"], "INVALID");
    test.run(&["stop"]).success();
}
