//! Every lab that runs on kind, on a real kind cluster of three nodes (labs may need two
//! workers): start → check FAIL → near miss → solution → check PASS → reset. Opt-in, because it needs docker (or podman) and kind and takes minutes:
//!
//!     CKALAB_E2E_KIND=1 cargo nextest run --run-ignored only kind_e2e
//!
//! In the normal run it is ignored, which the test runner reports as skipped; asked for without
//! `CKALAB_E2E_KIND=1` it says so and touches nothing. It makes its own cluster,
//! `ckalab-e2e`, and deletes it at the end, also when an assertion fails.

use ckalab::catalog::lab::Variant;
use ckalab::catalog::{BackendKind, Catalog};

use crate::Test;

const CLUSTER: &str = "ckalab-e2e";

/// Every lab that runs on kind, each variant once, with the first reason its break must show;
/// etcd-restore twice, since its second run on the same cluster needs reset to have freed the
/// restore directory.
fn labs() -> Vec<(String, Option<String>, String)> {
    let catalog = Catalog::from_dir(crate::repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let mut labs = Vec::new();
    for lab in catalog
        .labs()
        .iter()
        .filter(|lab| lab.backends.contains(&BackendKind::Kind))
    {
        let variants: Vec<Option<&Variant>> = if lab.variants.is_empty() {
            vec![None]
        } else {
            lab.variants.iter().map(Some).collect()
        };
        for variant in variants {
            let reason = lab
                .expected_breaks(variant)
                .into_iter()
                .find_map(|expected| expected.reason)
                .unwrap_or_default();
            labs.push((lab.id.clone(), variant.map(|v| v.id.clone()), reason));
        }
    }
    if let Some(again) = labs.iter().find(|(id, ..)| id == "etcd-restore").cloned() {
        labs.push(again);
    }
    labs
}

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
fn every_kind_lab_on_a_real_kind_cluster() {
    if std::env::var("CKALAB_E2E_KIND").as_deref() != Ok("1") {
        eprintln!("SKIPPED: kind_e2e needs docker and kind; set CKALAB_E2E_KIND=1 to run it");
        return;
    }
    let test = Test::new();
    let _guard = ClusterGuard(&test);
    test.run(&[
        "cluster",
        "up",
        "--name",
        CLUSTER,
        "--config",
        "three-nodes",
    ])
    .success();
    for (lab, variant, intended) in labs() {
        let (lab, intended) = (lab.as_str(), intended.as_str());
        let mut start = vec!["start", lab];
        if let Some(v) = &variant {
            start.extend(["--variant", v.as_str()]);
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
        // A rollout or a binding may take a moment after the last step.
        let mut fixed = test.run(&["check", "--json"]);
        for _ in 0..30 {
            if fixed.code() == Some(0) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
            fixed = test.run(&["check", "--json"]);
        }
        assert_eq!(
            fixed.code(),
            Some(0),
            "{lab}: the solution must PASS: {}",
            fixed.stdout()
        );
        test.run(&["reset"]).success().stdout_has("healthy");
    }
}
