//! The five seed labs on a real kind cluster: start → check FAIL → solution → check PASS →
//! reset. Opt-in, because it needs docker (or podman) and kind and takes minutes:
//!
//!     CKALAB_E2E_KIND=1 cargo nextest run --run-ignored only kind_e2e
//!
//! In the normal run it is ignored, which the test runner reports as skipped; asked for without
//! `CKALAB_E2E_KIND=1` it says so and touches nothing. It makes its own cluster,
//! `ckalab-e2e`, and deletes it at the end, also when an assertion fails.

use crate::Test;

const CLUSTER: &str = "ckalab-e2e";

/// Each lab and variant once; etcd-restore twice, since its second run on the same cluster
/// needs reset to have freed the restore directory.
const LABS: [(&str, Option<&str>, &str); 8] = [
    (
        "cri-plugin-disabled",
        None,
        "unknown service runtime.v1.RuntimeService",
    ),
    ("runtime-endpoint", None, "dockershim.sock"),
    ("apiserver-flags", Some("etcd-peer-port"), "/readyz"),
    ("apiserver-flags", Some("misspelled-flag"), "/readyz"),
    ("apiserver-flags", Some("missing-cert"), "/readyz"),
    ("expired-certs", None, "expired"),
    ("etcd-restore", None, "not found"),
    ("etcd-restore", None, "not found"),
];

/// Deletes the test's cluster however the test ends.
struct ClusterGuard<'t>(&'t Test);

impl Drop for ClusterGuard<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .command(&["cluster", "down", "--name", CLUSTER])
            .output();
    }
}

#[test]
#[ignore = "needs docker and kind: CKALAB_E2E_KIND=1 cargo nextest run --run-ignored only kind_e2e"]
fn the_seed_labs_on_a_real_kind_cluster() {
    if std::env::var("CKALAB_E2E_KIND").as_deref() != Ok("1") {
        eprintln!("SKIPPED: kind_e2e needs docker and kind; set CKALAB_E2E_KIND=1 to run it");
        return;
    }
    let test = Test::new();
    let _guard = ClusterGuard(&test);
    test.run(&["cluster", "up", "--name", CLUSTER]).success();
    for (lab, variant, intended) in LABS {
        let mut start = vec!["start", lab];
        if let Some(v) = variant {
            start.extend(["--variant", v]);
        }
        test.run(&start)
            .success()
            .stdout_has(&format!(
                "kind cluster `{CLUSTER}` is up: using the kind backend"
            ))
            .stdout_has("Task");
        let broken = test.run(&["check", "--json"]);
        assert_eq!(
            broken.code(),
            Some(1),
            "{lab}: broken must FAIL: {}",
            broken.stdout()
        );
        assert!(
            broken.stdout().contains(intended),
            "{lab}: should fail because of {intended:?}: {}",
            broken.stdout()
        );
        test.run(&["__apply", "near-miss"]).success();
        let near = test.run(&["check", "--json"]);
        assert_ne!(
            near.code(),
            Some(0),
            "{lab}: the near miss must not pass: {}",
            near.stdout()
        );
        test.run(&["solution", "--apply"]).success();
        let fixed = test.run(&["check", "--json"]);
        assert_eq!(
            fixed.code(),
            Some(0),
            "{lab}: the solution must PASS: {}",
            fixed.stdout()
        );
        test.run(&["reset"]).success().stdout_has("healthy");
    }
}
