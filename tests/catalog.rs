//! The shipped catalog is complete, and a broken one is refused with file, line and a hint.

use ckalab::catalog::step::Step;
use ckalab::catalog::{BackendKind, Catalog, Domain};

use crate::{CatalogCopy, repo_root};

const SEED_LABS: [&str; 5] = [
    "apiserver-flags",
    "cri-plugin-disabled",
    "etcd-restore",
    "expired-certs",
    "runtime-endpoint",
];

#[test]
fn the_shipped_catalog_loads_from_disk_and_embedded_alike() {
    let from_disk = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let embedded = Catalog::load().unwrap_or_else(|e| panic!("{e}"));
    let ids = |c: &Catalog| c.lab_ids().map(String::from).collect::<Vec<_>>();
    assert_eq!(ids(&from_disk), ids(&embedded));
    assert_eq!(from_disk.lessons().len(), embedded.lessons().len());
}

#[test]
fn every_seed_lab_is_complete() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    for id in SEED_LABS {
        let lab = catalog
            .lab(id)
            .unwrap_or_else(|| panic!("seed lab {id} missing"));
        assert!(
            lab.hints.len() >= 3,
            "{id}: hints should lead from direction to answer"
        );
        assert!(!lab.checks.is_empty(), "{id}: no checks");
        assert!(!lab.solution.is_empty() || lab.variants.iter().all(|v| !v.solution.is_empty()));
        assert!(
            lab.backends.contains(&BackendKind::Sandbox),
            "{id}: must run offline"
        );
        let lesson = catalog
            .lesson(&lab.lesson)
            .expect("the loader checks lesson links");
        assert!(
            lesson.practise_labs.iter().any(|l| l == id),
            "{id}: its lesson should practise it"
        );
    }
    let flags = catalog.lab("apiserver-flags").expect("seed lab");
    assert!(
        flags.variants.len() >= 3,
        "apiserver-flags draws from at least three breaks"
    );
}

#[test]
fn at_least_twelve_lessons_each_ending_with_practise_it() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        catalog.lessons().len() >= 12,
        "only {} lessons",
        catalog.lessons().len()
    );
    for lesson in catalog.lessons() {
        assert!(
            !lesson.practise_labs.is_empty(),
            "{} practises no lab",
            lesson.id
        );
        let last_heading = lesson.body.lines().rfind(|l| l.starts_with("## "));
        assert_eq!(last_heading, Some("## Practise it"), "{}", lesson.id);
    }
}

/// Breaks one file of a copied catalog and expects `ckalab labs` to refuse it.
fn refused(copy: &CatalogCopy, file_and_line: &str, message: &str) {
    copy.test()
        .run(&["labs"])
        .exit(4)
        .stderr_has("the lab catalog is invalid")
        .stderr_has(file_and_line)
        .stderr_has(message)
        .stderr_has("hint:");
}

#[test]
fn malformed_yaml_names_file_and_line() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "difficulty: 2",
        "difficulty: [2",
    );
    refused(
        &copy,
        "labs/runtime-endpoint/lab.yaml:4",
        "expected string scalar",
    );
    // One broken file is one problem: lessons linking the lab are not blamed for it.
    copy.test().run(&["labs"]).stderr_has("(1 problem)");
}

#[test]
fn an_unknown_field_is_an_error_with_its_line() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/etcd-restore/lab.yaml",
        "minutes: 20",
        "minutes: 20\nminuets: 20",
    );
    refused(
        &copy,
        "labs/etcd-restore/lab.yaml:6",
        "unknown field `minuets`",
    );
}

#[test]
fn an_unknown_step_kind_is_an_error_listing_the_kinds() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/cri-plugin-disabled/lab.yaml",
        "  - restart: containerd\n",
        "  - reboot: containerd\n",
    );
    refused(
        &copy,
        "labs/cri-plugin-disabled/lab.yaml:",
        "unknown variant `reboot`",
    );
    copy.test().run(&["labs"]).stderr_has("restart");
}

#[test]
fn an_unknown_check_kind_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "  - node_ready\n",
        "  - node_is_ready\n",
    );
    refused(
        &copy,
        "labs/runtime-endpoint/lab.yaml:",
        "unknown variant `node_is_ready`",
    );
}

#[test]
fn a_missing_lesson_link_is_an_error_with_a_suggestion() {
    let copy = CatalogCopy::new();
    copy.edit("labs/etcd-restore/lab.yaml", "lesson: etcd", "lesson: etc");
    refused(&copy, "labs/etcd-restore/lab.yaml:7", "no lesson `etc`");
    copy.test()
        .run(&["labs"])
        .stderr_has("did you mean `etcd`?");
}

#[test]
fn a_lab_without_hints_is_an_error() {
    let copy = CatalogCopy::new();
    let text = copy.read("labs/runtime-endpoint/lab.yaml");
    let start = text.find("hints:").expect("hints");
    let end = text.find("setup:").expect("setup");
    copy.write(
        "labs/runtime-endpoint/lab.yaml",
        &format!("{}hints: []\n\n{}", &text[..start], &text[end..]),
    );
    refused(&copy, "labs/runtime-endpoint/lab.yaml:", "`hints` is empty");
}

#[test]
fn a_lab_without_solution_is_an_error() {
    let copy = CatalogCopy::new();
    let text = copy.read("labs/expired-certs/lab.yaml");
    let start = text.find("\nsolution:").expect("solution");
    let end = text.find("\n# Renewed").expect("near_miss comment");
    copy.write(
        "labs/expired-certs/lab.yaml",
        &format!("{}\nsolution: []\n{}", &text[..start], &text[end..]),
    );
    refused(&copy, "labs/expired-certs/lab.yaml:", "no solution steps");
}

/// Every lab proves a learner's own fix passes, not only the canonical solution.
#[test]
fn a_lab_without_another_valid_fix_is_an_error() {
    let copy = CatalogCopy::new();
    let text = copy.read("labs/cri-plugin-disabled/lab.yaml");
    let start = text.find("learner_fixes:").expect("learner_fixes");
    let end = text[start..].find("\n\n").expect("end of the list") + start;
    copy.write(
        "labs/cri-plugin-disabled/lab.yaml",
        &format!("{}{}", &text[..start], &text[end..]),
    );
    refused(
        &copy,
        "labs/cri-plugin-disabled/lab.yaml:",
        "the lab has no learner_fixes",
    );
}

#[test]
fn a_folder_and_id_mismatch_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/etcd-restore/lab.yaml",
        "id: etcd-restore",
        "id: etcd-restores",
    );
    refused(
        &copy,
        "labs/etcd-restore/lab.yaml:1",
        "not the folder's name",
    );
}

#[test]
fn a_task_that_does_not_render_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit("labs/etcd-restore/lab.yaml", "{{ node }}", "{{ nodename }}");
    refused(
        &copy,
        "labs/etcd-restore/lab.yaml:",
        "the task text does not render",
    );
}

#[test]
fn a_lesson_without_practise_it_is_an_error() {
    let copy = CatalogCopy::new();
    let text = copy.read("content/lessons/etcd.md");
    let cut = text.find("## Practise it").expect("section");
    copy.write("content/lessons/etcd.md", &text[..cut]);
    refused(
        &copy,
        "content/lessons/etcd.md:",
        "no \"Practise it\" section",
    );
}

#[test]
fn a_lesson_linking_a_missing_lab_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "content/lessons/etcd.md",
        "ckalab start etcd-restore",
        "ckalab start etcd-restor",
    );
    refused(
        &copy,
        "content/lessons/etcd.md:",
        "links `etcd-restor`, which is not a lab",
    );
}

#[test]
fn lesson_front_matter_is_validated() {
    let copy = CatalogCopy::new();
    copy.edit("content/lessons/kubelet.md", "summary:", "sumary:");
    refused(
        &copy,
        "content/lessons/kubelet.md:3",
        "unknown field `sumary`",
    );
}

#[test]
fn a_new_lab_is_a_new_folder() {
    let copy = CatalogCopy::new();
    let text = copy
        .read("labs/runtime-endpoint/lab.yaml")
        .replace("id: runtime-endpoint", "id: runtime-endpoint-2");
    copy.write("labs/runtime-endpoint-2/lab.yaml", &text);
    let run = copy.test().run(&["labs", "--json"]).success();
    let labs = run.json()["labs"].as_array().expect("labs").len();
    assert_eq!(labs, crate::lab_folders() + 1);
}

#[test]
fn an_unknown_lesson_placeholder_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "content/lessons/etcd.md",
        "{{ etcd_restore_tool }}",
        "{{ etcd_tool }}",
    );
    refused(
        &copy,
        "content/lessons/etcd.md:",
        "`{{ etcd_tool }}` is not a lesson variable",
    );
}

#[test]
fn the_quiz_bank_covers_every_lesson_with_150_questions() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let questions = catalog.questions();
    assert!(questions.len() >= 150, "{} questions", questions.len());
    for lesson in catalog.lessons() {
        assert!(
            questions.iter().filter(|q| q.lesson == lesson.id).count() >= 5,
            "{}: too few questions",
            lesson.id
        );
    }
    for kind in ["single", "multiple", "command"] {
        assert!(
            questions
                .iter()
                .any(|q| format!("{:?}", q.kind).to_lowercase() == kind),
            "no {kind} question"
        );
    }
    // Every command question's canonical answer is right by its own normaliser.
    for question in questions.iter().filter(|q| q.answer.is_some()) {
        let answer = question.answer.clone().unwrap_or_default();
        let display = ckalab::catalog::command_line::display(&answer);
        assert!(
            question.is_correct(&ckalab::catalog::quiz::Answer::Command(display.clone())),
            "{}: the displayed answer `{display}` is not accepted",
            question.id
        );
    }
}

#[test]
fn a_question_without_an_explanation_is_an_error() {
    let copy = CatalogCopy::new();
    let text = copy.read("content/quiz/etcd.yaml");
    // Drop the first explanation block (the key line and its indented text).
    let mut out = Vec::new();
    let mut skipping = false;
    let mut dropped = false;
    for line in text.lines() {
        if !dropped && line.trim_start().starts_with("explanation:") {
            skipping = true;
            dropped = true;
            continue;
        }
        if skipping && (line.starts_with("      ") || line.trim().is_empty()) {
            continue;
        }
        skipping = false;
        out.push(line);
    }
    copy.write("content/quiz/etcd.yaml", &out.join("\n"));
    refused(&copy, "content/quiz/etcd.yaml:", "missing field");
}

#[test]
fn a_lesson_without_questions_is_an_error() {
    let copy = CatalogCopy::new();
    std::fs::remove_file(copy.path("content/quiz/coredns.yaml")).expect("remove");
    refused(
        &copy,
        "content/lessons/coredns.md:1",
        "the lesson has no quiz questions",
    );
}

#[test]
fn a_quiz_file_for_no_lesson_is_an_error() {
    let copy = CatalogCopy::new();
    let text = copy.read("content/quiz/coredns.yaml");
    copy.write(
        "content/quiz/dns.yaml",
        &text
            .replace("lesson: coredns", "lesson: dns")
            .replace("id: coredns-", "id: dns-"),
    );
    refused(&copy, "content/quiz/dns.yaml:1", "no lesson `dns` exists");
}

/// pod_phase grades through the sandbox's real API server: a pod the learner runs lands on a
/// simulated worker and turns Running.
#[test]
fn a_pod_phase_check_grades_a_pod_on_the_sandboxs_workers() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/etcd-restore/lab.yaml",
        "checks:\n  - static_pod_running: etcd\n",
        "checks:\n  - pod_phase:\n      namespace: payments\n      name: web\n      phase: Running\n  - static_pod_running: etcd\n",
    );
    let test = copy.test();
    test.run(&["start", "etcd-restore", "--backend", "sandbox"])
        .success();
    let pod_check = || {
        let report = test.run(&["check", "--json"]).json();
        report["checks"]
            .as_array()
            .and_then(|checks| {
                checks
                    .iter()
                    .find(|c| c["name"] == "pod payments/web is Running")
            })
            .cloned()
            .unwrap_or_else(|| panic!("no pod_phase check in {report:#}"))
    };
    let missing = pod_check();
    // The controller-manager gives a new namespace its `default` ServiceAccount within seconds.
    let run = test.run(&[
        "shell",
        "-c",
        "for i in $(seq 30); do kubectl get serviceaccount default -n payments >/dev/null 2>&1 \
         && break; sleep 1; done; kubectl run web -n payments --image=nginx",
    ]);
    let mut last = missing.clone();
    for _ in 0..30 {
        last = pod_check();
        if last["verdict"] == "PASS" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
    // Asserted once the node is stopped, so a failure leaves no node behind.
    test.run(&["stop"]).success();
    assert_eq!(missing["verdict"], "FAIL", "{missing:#}");
    run.success();
    assert_eq!(last["verdict"], "PASS", "{last:#}");
}

#[test]
fn a_kind_only_lab_says_what_the_simulated_workers_cannot_do() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "backends: [sandbox, kind]",
        "backends: [kind]",
    );
    copy.test()
        .run(&["show", "runtime-endpoint"])
        .success()
        .stdout_has("Runs on kind only")
        .stdout_has("simulated by kwok");
    copy.test()
        .run(&["start", "runtime-endpoint", "--backend", "sandbox"])
        .exit(2)
        .stderr_has("real traffic, `kubectl exec`");
}

/// A lab's node paths are absolute and never climb out with `..`: a custom catalog cannot have
/// ckalab write outside the node.
#[test]
fn a_step_path_that_climbs_out_of_the_node_is_refused() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "  - restart: kubelet\n\nverify_broken:",
        "  - restart: kubelet\n  - write_file:\n      path: /../../tmp/pwned\n      content: x\n\nverify_broken:",
    );
    refused(
        &copy,
        "labs/runtime-endpoint/lab.yaml:48",
        "`/../../tmp/pwned` climbs out with `..`",
    );
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "  - restart: kubelet\n\nverify_broken:",
        "  - restart: kubelet\n  - copy_path: {from: etc/passwd, to: /root/p}\n\nverify_broken:",
    );
    refused(
        &copy,
        "labs/runtime-endpoint/lab.yaml:48",
        "`etc/passwd` is not an absolute node path",
    );
}

/// A lab's `run` step runs inside the node: what it writes to `/tmp` lands in the node's `/tmp`,
/// never in this machine's.
#[test]
fn a_run_step_writes_inside_the_node_only() {
    let marker = format!("ckalab-run-step-{}", std::process::id());
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "  - restart: kubelet\n\nverify_broken:",
        &format!("  - restart: kubelet\n  - run: [sh, -c, \"echo inside > /tmp/{marker}\"]\n\nverify_broken:"),
    );
    let test = copy.test();
    let started = test.run(&["start", "runtime-endpoint"]);
    let in_node = test
        .home()
        .join("sandbox/controlplane/tmp")
        .join(&marker)
        .is_file();
    test.run(&["stop"]).success();
    started.success();
    assert!(in_node, "the node's /tmp has the file");
    assert!(
        !std::path::Path::new("/tmp").join(&marker).exists(),
        "this machine's /tmp does not"
    );
}

/// A snapshot saved through a link the node holds lands where the link leads inside the node:
/// a lab step (or a learner) that points `/var/backups/etcd` at `/tmp/...` never makes ckalab
/// write this machine's `/tmp`.
#[test]
fn a_snapshot_through_a_link_stays_in_the_node() {
    let outside = format!("/tmp/ckalab-link-victim-{}", std::process::id());
    std::fs::create_dir_all(&outside).expect("outside dir");
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/runtime-endpoint/lab.yaml",
        "  - restart: kubelet\n\nverify_broken:",
        &format!(
            "  - restart: kubelet\n  - run: [sh, -c, \"mkdir -p {outside} && ln -s {outside} /var/backups/linked\"]\n  - etcd_snapshot:\n      to: /var/backups/linked/snapshot.db\n\nverify_broken:"
        ),
    );
    let test = copy.test();
    let started = test.run(&["start", "runtime-endpoint"]);
    let in_node = test
        .home()
        .join("sandbox/controlplane")
        .join(outside.trim_start_matches('/'))
        .join("snapshot.db")
        .is_file();
    let on_host = std::path::Path::new(&outside).join("snapshot.db").exists();
    test.run(&["stop"]).success();
    let _ = std::fs::remove_dir_all(&outside);
    started.success();
    assert!(in_node, "the snapshot is in the node's {outside}");
    assert!(!on_host, "and not in this machine's");
}

#[test]
fn a_lab_ships_files_beside_its_yaml_copied_unrendered() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let lab = catalog.lab("helm-rollback").expect("helm-rollback");
    let files = lab
        .setup
        .iter()
        .find_map(|step| match step {
            Step::CopyLabFiles { files, .. } => Some(files),
            _ => None,
        })
        .expect("a copy_lab_files step");
    let paths: Vec<&str> = files.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/opt/charts/invoice/Chart.yaml",
            "/opt/charts/invoice/templates/deployment.yaml",
            "/opt/charts/invoice/templates/service.yaml",
            "/opt/charts/invoice/values.yaml",
        ]
    );
    // Helm's templates stay Helm's: ckalab renders none of them.
    assert!(files[1].1.contains("replicas: {{ .Values.replicaCount }}"));
}

#[test]
fn copying_a_folder_the_lab_does_not_ship_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "labs/helm-rollback/lab.yaml",
        "copy_lab_files: {from: chart,",
        "copy_lab_files: {from: charts,",
    );
    refused(
        &copy,
        "labs/helm-rollback/lab.yaml:",
        "labs/helm-rollback/charts/ holds no files to copy",
    );
}

#[test]
fn the_curriculum_maps_every_competency_to_a_lesson() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let curriculum = catalog.curriculum();
    assert_eq!(curriculum.version, "v1.35");
    // The v1.35 curriculum, domain by domain.
    let per_domain: Vec<usize> = Domain::ALL
        .into_iter()
        .map(|domain| curriculum.of(domain).count())
        .collect();
    assert_eq!(per_domain, [5, 8, 6, 5, 3], "{:?}", Domain::ALL);
    for competency in &curriculum.competencies {
        assert!(!competency.lessons.is_empty(), "{}", competency.id);
        for lab in &competency.labs {
            assert!(catalog.lab(lab).is_some(), "{}: {lab}", competency.id);
        }
    }
}

#[test]
fn a_competency_without_a_lesson_is_an_error() {
    let copy = CatalogCopy::new();
    copy.edit(
        "content/curriculum.yaml",
        "    lessons: [coredns]\n",
        "    lessons: []\n",
    );
    refused(
        &copy,
        "content/curriculum.yaml:",
        "competency `coredns` has no lesson",
    );
    let copy = CatalogCopy::new();
    copy.edit(
        "content/curriculum.yaml",
        "labs: [coredns-stub-domain, coredns-scaled-zero]",
        "labs: [coredns-stub, coredns-scaled-zero]",
    );
    refused(
        &copy,
        "content/curriculum.yaml:",
        "names `coredns-stub`, which is not a lab",
    );
}
