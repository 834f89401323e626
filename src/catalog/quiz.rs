//! The quiz bank: `content/quiz/<lesson>.yaml`, one file per lesson, each question with its
//! answer, an explanation and (through its file) the lesson it belongs to.

use serde::Deserialize;

use super::command_line;
use super::error::CatalogError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizFile {
    /// The lesson these questions test; the file is named after it.
    pub lesson: String,
    pub questions: Vec<Question>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Unique across the bank; answers are stored under it.
    pub id: String,
    pub kind: QuestionKind,
    pub question: String,
    /// `single` and `multiple`: the choices, in the author's order.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// `command`: the canonical command, every valued flag written `--flag=value`.
    #[serde(default)]
    pub answer: Option<String>,
    /// `command`: other complete commands that are also right.
    #[serde(default)]
    pub accept: Vec<String>,
    /// Why the answer is right; shown after a wrong answer.
    pub explanation: String,
    /// The lesson (the file's `lesson`), filled in when loaded.
    #[serde(skip)]
    pub lesson: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// One correct choice.
    Single,
    /// Several correct choices, all of which must be picked (and no other).
    Multiple,
    /// Type the command; compared by `command_line::same_command`.
    Command,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub text: String,
    #[serde(default)]
    pub correct: bool,
}

/// A learner's answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Indexes into the question's `choices` (the author's order).
    Choices(Vec<usize>),
    Command(String),
}

impl Question {
    /// Indexes of the correct choices.
    pub fn correct_choices(&self) -> Vec<usize> {
        (0..self.choices.len())
            .filter(|&i| self.choices[i].correct)
            .collect()
    }

    pub fn is_correct(&self, answer: &Answer) -> bool {
        match (self.kind, answer) {
            (QuestionKind::Command, Answer::Command(typed)) => self
                .answer
                .iter()
                .chain(&self.accept)
                .any(|expected| command_line::same_command(expected, typed)),
            (QuestionKind::Single | QuestionKind::Multiple, Answer::Choices(picked)) => {
                let mut picked = picked.clone();
                picked.sort_unstable();
                picked.dedup();
                picked == self.correct_choices()
            }
            _ => false,
        }
    }

    /// The right answer in words, for feedback.
    pub fn right_answer(&self) -> String {
        match self.kind {
            QuestionKind::Command => self
                .answer
                .as_deref()
                .map(command_line::display)
                .unwrap_or_default(),
            _ => self
                .correct_choices()
                .iter()
                .map(|&i| self.choices[i].text.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        }
    }

    /// What is wrong with the question's own shape (not its links).
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.question.trim().is_empty() {
            problems.push("the question text is empty".to_string());
        }
        if self.explanation.trim().is_empty() {
            problems.push("the explanation is empty".to_string());
        }
        let correct = self.correct_choices().len();
        match self.kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                if !(3..=5).contains(&self.choices.len()) {
                    problems.push(format!("{} choices (write 3 to 5)", self.choices.len()));
                }
                if self.answer.is_some() || !self.accept.is_empty() {
                    problems.push("`answer`/`accept` belong to command questions".into());
                }
            }
            QuestionKind::Command => {
                if !self.choices.is_empty() {
                    problems.push("a command question has no choices".into());
                }
                match &self.answer {
                    None => problems.push("a command question needs `answer`".into()),
                    Some(answer) => {
                        for command in std::iter::once(answer).chain(&self.accept) {
                            if command_line::split(command).is_none_or(|w| w.is_empty()) {
                                problems.push(format!("`{command}` is not a command line"));
                            }
                        }
                    }
                }
            }
        }
        match self.kind {
            QuestionKind::Single if correct != 1 => {
                problems.push(format!(
                    "{correct} correct choices (a single has exactly 1)"
                ));
            }
            QuestionKind::Multiple if correct < 2 || correct == self.choices.len() => {
                problems.push(format!(
                    "{correct} of {} choices correct (a multiple has at least 2 right and 1 wrong)",
                    self.choices.len()
                ));
            }
            _ => {}
        }
        problems
    }
}

/// Parses one quiz file named `content/quiz/<stem>.yaml`; the questions carry their lesson.
pub fn parse(path: &str, stem: &str, text: &str) -> Result<Vec<Question>, Vec<CatalogError>> {
    let file: QuizFile =
        serde_saphyr::from_str(text).map_err(|err| vec![CatalogError::yaml(path, &err, 0)])?;
    let line_of = |needle: &str| super::line_containing(text, needle);
    let mut errors = Vec::new();
    if file.lesson != stem {
        errors.push(
            CatalogError::at(
                path,
                line_of("lesson:"),
                format!(
                    "the lesson `{}` is not the file's name `{stem}`",
                    file.lesson
                ),
            )
            .hint("name the file after the lesson its questions belong to"),
        );
    }
    let mut questions = Vec::new();
    for mut question in file.questions {
        for problem in question.problems() {
            errors.push(
                CatalogError::at(
                    path,
                    line_of(&format!("id: {}", question.id)),
                    format!("question `{}`: {problem}", question.id),
                )
                .hint("content/quiz/README.md describes the question format"),
            );
        }
        question.lesson = file.lesson.clone();
        questions.push(question);
    }
    if errors.is_empty() {
        Ok(questions)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
lesson: etcd
questions:
  - id: etcd-port
    kind: single
    question: Which port?
    choices:
      - text: "2380"
      - text: "2379"
        correct: true
      - text: "6443"
    explanation: Clients use 2379.
  - id: etcd-save
    kind: command
    question: Save a snapshot to /tmp/s.db.
    answer: etcdctl --endpoints=https://127.0.0.1:2379 snapshot save /tmp/s.db
    explanation: snapshot save writes one file.
"#;

    #[test]
    fn answers_are_graded() {
        let questions = parse("content/quiz/etcd.yaml", "etcd", FILE).expect("valid");
        assert_eq!(questions[0].lesson, "etcd");
        assert!(questions[0].is_correct(&Answer::Choices(vec![1])));
        assert!(!questions[0].is_correct(&Answer::Choices(vec![0])));
        assert!(!questions[0].is_correct(&Answer::Choices(vec![0, 1])));
        assert!(!questions[0].is_correct(&Answer::Command("2379".into())));
        assert!(questions[1].is_correct(&Answer::Command(
            "etcdctl snapshot save /tmp/s.db --endpoints https://127.0.0.1:2379".into()
        )));
        assert_eq!(questions[0].right_answer(), "2379");
    }

    #[test]
    fn malformed_questions_are_refused_with_their_line() {
        let no_correct = FILE.replace("        correct: true\n", "");
        let errors = parse("content/quiz/etcd.yaml", "etcd", &no_correct).expect_err("invalid");
        assert_eq!(errors[0].line, 4);
        assert!(errors[0].message.contains("0 correct choices"));

        let wrong_file = parse("content/quiz/kubelet.yaml", "kubelet", FILE).expect_err("x");
        assert!(wrong_file[0].message.contains("not the file's name"));
    }
}
