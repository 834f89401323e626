//! Every lesson renders in the terminal; the etcd lesson teaches what the exam asks.

use ckalab::catalog::Catalog;

use crate::{CatalogCopy, Test, repo_root};

#[test]
fn learn_etcd_explains_ports_and_snapshots() {
    let run = Test::new().run(&["learn", "etcd"]).success();
    let text = run.stdout();
    for needle in [
        "2379",
        "2380",
        "snapshot save",
        "snapshot restore",
        "etcdutl",
        "hostPath",
    ] {
        assert!(
            text.contains(needle),
            "the etcd lesson should mention {needle:?}"
        );
    }
    assert!(
        !text.contains("```"),
        "code fences should be rendered, not printed"
    );
}

/// Lessons name the file and tool of the node in use: the sandbox here (etcd 3.4, Kubernetes
/// 1.35 layout), kind at 1.35 or 1.31 in the unit of the layout.
#[test]
fn lessons_name_the_file_and_tool_of_the_node_in_use() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let etcd = catalog.lesson("etcd").expect("etcd lesson");
    let kubelet = catalog.lesson("kubelet").expect("kubelet lesson");
    let old_kind = ckalab::catalog::NodeLayout::kind_versions("ckalab", 31, 5);
    assert!(
        etcd.render(&old_kind).contains(
            "On ckalab's kind cluster (Kubernetes 1.31, etcd 3.5), restore with `etcdctl`"
        )
    );
    assert!(
        kubelet
            .render(&old_kind)
            .contains("kubeadm keeps it in `/var/lib/kubelet/kubeadm-flags.env`")
    );
    let new_kind = ckalab::catalog::NodeLayout::kind("ckalab");
    assert!(etcd.render(&new_kind).contains("restore with `etcdutl`"));
    assert!(
        kubelet
            .render(&new_kind)
            .contains("kubeadm keeps it in `/var/lib/kubelet/config.yaml`")
    );

    let sandbox = Test::new().run(&["learn", "etcd"]).success();
    assert!(sandbox.stdout().contains("On the sandbox node"));
    assert!(
        !sandbox.stdout().contains("{{"),
        "every placeholder is filled"
    );
}

#[test]
fn every_lesson_renders_by_id_and_alias() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let test = Test::new();
    for lesson in catalog.lessons() {
        // Every alias finds this lesson and no other; the command line is run with the id and
        // one alias (a run costs a second on a debug build, and there are 150 names).
        for name in lesson.names() {
            let found = catalog.lesson(name).map(|l| l.id.as_str());
            assert_eq!(found, Some(lesson.id.as_str()), "`learn {name}`");
        }
        for name in lesson.names().take(2) {
            let run = test.run(&["learn", name]).success();
            assert!(
                run.stdout().contains(&lesson.title),
                "`learn {name}` shows {}",
                lesson.title
            );
            assert!(run.stdout().contains("Practise it"), "`learn {name}`");
        }
    }
}

#[test]
fn explain_accepts_component_names() {
    let test = Test::new();
    let by_alias = test.run(&["explain", "apiserver"]).success().stdout();
    let by_id = test.run(&["explain", "kube-apiserver"]).success().stdout();
    assert_eq!(by_alias, by_id);
    assert!(by_id.contains("/readyz"));
}

#[test]
fn learn_lists_every_lesson() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let run = Test::new().run(&["learn"]).success();
    for lesson in catalog.lessons() {
        assert!(
            run.stdout().contains(&lesson.id),
            "list lacks {}",
            lesson.id
        );
    }
    let json = Test::new().run(&["learn", "--json"]).success().json();
    assert_eq!(
        json["lessons"].as_array().expect("lessons").len(),
        catalog.lessons().len()
    );
}

#[test]
fn learn_curriculum_shows_each_competency_with_its_lessons_labs_and_gaps() {
    let out = Test::new().run(&["learn", "--curriculum"]).success();
    let text = out.stdout();
    assert!(
        text.contains("CKA curriculum v1.35: 27 competencies"),
        "{text}"
    );
    assert!(
        text.contains("Use the Gateway API to manage Ingress traffic"),
        "{text}"
    );
    assert!(text.contains("labs: gateway-httproute"), "{text}");
    assert!(text.contains("27 practised by labs"), "{text}");
    assert!(
        !text.contains("no lab yet"),
        "every competency has a lab: {text}"
    );
    // A competency without labs is shown as a gap.
    let catalog = CatalogCopy::new();
    catalog.edit(
        "content/curriculum.yaml",
        "labs: [ha-join-control-plane]",
        "labs: []",
    );
    let gap = catalog.test().run(&["learn", "--curriculum"]).success();
    assert!(
        gap.stdout().contains("26 practised by labs"),
        "{}",
        gap.stdout()
    );
    assert!(
        gap.stdout().contains("no lab yet"),
        "a gap is shown: {}",
        gap.stdout()
    );
    let json = Test::new()
        .run(&["learn", "--curriculum", "--json"])
        .success()
        .json();
    assert_eq!(json["competencies"].as_array().map(Vec::len), Some(27));
}
