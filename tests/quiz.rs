//! Quizzes: a real interactive session driven through tmux, and the `--answers` mode, both
//! graded the same way and kept in the store.

use std::process::Command;
use std::time::{Duration, Instant};

use ckalab::catalog::Catalog;
use ckalab::catalog::quiz::QuestionKind;
use ckalab::quiz::{QuizItem, draw, letter};

use crate::{Test, repo_root};

fn catalog() -> Catalog {
    Catalog::from_dir(repo_root()).unwrap_or_else(|e| panic!("{e}"))
}

/// The shown positions a learner picks: the right ones, or a wrong set.
fn picks(item: &QuizItem, right: bool) -> Vec<usize> {
    let correct: Vec<usize> = item
        .question
        .correct_choices()
        .iter()
        .filter_map(|c| item.order.iter().position(|o| o == c))
        .collect();
    if right {
        correct
    } else {
        let wrong = (0..item.order.len())
            .find(|p| !correct.contains(p))
            .expect("a wrong choice");
        vec![wrong]
    }
}

/// (answers, correct) stored in the learner's database.
fn stored_score(test: &Test) -> (i64, i64) {
    let db = rusqlite::Connection::open(test.database()).expect("database");
    db.query_row(
        "SELECT count(*), coalesce(sum(correct), 0) FROM quiz_answers",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .expect("quiz answers")
}

/// A tmux server of our own (its own socket), killed when the test ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(command: &str) -> Tmux {
        let tmux = Tmux {
            socket: format!("ckalab-test-{}", std::process::id()),
        };
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "quiz",
            "-x",
            "160",
            "-y",
            "50",
            command,
        ]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("tmux is installed (scripts/install-deps.sh installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn pane(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-500", "-t", "quiz"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "quiz"];
        args.extend(keys);
        self.run(&args);
    }

    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "quiz", "-l", text]);
    }

    /// Waits until the pane's text after the last `after` contains `needle`.
    fn wait_for(&self, after: &str, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pane = self.pane();
            if pane
                .rsplit_once(after)
                .is_some_and(|(_, rest)| rest.contains(needle))
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {needle:?} after {after:?}; the pane shows:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

#[test]
fn an_interactive_quiz_in_tmux_is_graded_and_stored() {
    let test = Test::new();
    let catalog = catalog();
    // Seed 9 over kubelet draws all three kinds of question into the first four.
    let items = draw(&catalog, Some("kubelet"), 4, 9);
    let kinds: Vec<QuestionKind> = items.iter().map(|i| i.question.kind).collect();
    for kind in [
        QuestionKind::Single,
        QuestionKind::Multiple,
        QuestionKind::Command,
    ] {
        assert!(
            kinds.contains(&kind),
            "seed 9 should ask a {kind:?}: {kinds:?}"
        );
    }
    let command = format!(
        "CKALAB_HOME='{}' NO_COLOR=1 '{}' quiz --topic kubelet --count 4 --seed 9; echo QUIZ-EXIT-$?; sleep 60",
        test.home().display(),
        assert_cmd::cargo::cargo_bin!("ckalab").display()
    );
    let tmux = Tmux::start(&command);
    for (i, item) in items.iter().enumerate() {
        // Every answer right but the last.
        let right = i + 1 < items.len();
        let heading = format!("Question {} of 4", i + 1);
        match item.question.kind {
            QuestionKind::Single => {
                tmux.wait_for(&heading, "Your answer");
                let target = picks(item, right)[0];
                for _ in 0..target {
                    tmux.keys(&["Down"]);
                }
                tmux.keys(&["Enter"]);
            }
            QuestionKind::Multiple => {
                tmux.wait_for(&heading, "Your answers");
                let chosen = picks(item, right);
                for position in 0..item.order.len() {
                    if chosen.contains(&position) {
                        tmux.keys(&["Space"]);
                    }
                    tmux.keys(&["Down"]);
                }
                tmux.keys(&["Enter"]);
            }
            QuestionKind::Command => {
                tmux.wait_for(&heading, "Command");
                let answer = item.question.answer.clone().unwrap_or_default();
                let typed = if right {
                    ckalab::catalog::command_line::display(&answer)
                } else {
                    "kubectl get nodes".to_string()
                };
                tmux.type_text(&typed);
                tmux.keys(&["Enter"]);
            }
        }
    }
    tmux.wait_for("Question 4 of 4", "QUIZ-EXIT-0");
    let pane = tmux.pane();
    assert!(pane.contains("3 of 4 correct (75%)"), "{pane}");
    assert!(
        pane.contains(&format!(
            "Lesson: `ckalab learn {}`",
            items[3].question.lesson
        )),
        "a wrong answer links its lesson:\n{pane}"
    );
    assert_eq!(stored_score(&test), (4, 3));
}

#[test]
fn answers_from_a_file_are_graded_like_the_prompts() {
    let test = Test::new();
    let catalog = catalog();
    let items = draw(&catalog, Some("etcd"), 5, 3);
    let lines: Vec<String> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let right = i != 1;
            match item.question.kind {
                QuestionKind::Command if right => {
                    // Flags reordered and written with a space: still the same command.
                    let answer = item.question.answer.clone().unwrap_or_default();
                    let mut words: Vec<&str> = answer.split(' ').collect();
                    words[1..].sort_by_key(|w| !w.starts_with('-'));
                    words.join(" ").replacen('=', " ", 1)
                }
                QuestionKind::Command => "etcdctl member list".to_string(),
                _ => picks(item, right)
                    .iter()
                    .map(|&p| letter(p).to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            }
        })
        .collect();
    let file = test.home().join("answers.txt");
    std::fs::write(&file, format!("# my answers\n{}\n", lines.join("\n"))).expect("answers");
    test.run(&[
        "quiz",
        "--topic",
        "etcd",
        "--count",
        "5",
        "--seed",
        "3",
        "--answers",
        &file.to_string_lossy(),
    ])
    .success()
    .stdout_has("4 of 5 correct (80%)")
    .stdout_has("Lesson: `ckalab learn etcd`");
    assert_eq!(stored_score(&test), (5, 4));
}

#[test]
fn a_quiz_needs_a_terminal_or_an_answers_file() {
    Test::new()
        .run(&["quiz"])
        .exit(2)
        .stderr_has("--answers FILE");
    Test::new()
        .run(&["quiz", "--topic", "etcdd"])
        .exit(2)
        .stderr_has("did you mean");
}
