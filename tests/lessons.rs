//! Every lesson renders in the terminal; the etcd lesson teaches what the exam asks.

use ckalab::catalog::Catalog;

use crate::{Test, repo_root};

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

#[test]
fn every_lesson_renders_by_id_and_alias() {
    let catalog = Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"));
    let test = Test::new();
    for lesson in catalog.lessons() {
        for name in lesson.names() {
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
