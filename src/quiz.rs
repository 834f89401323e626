//! A quiz session's questions: drawn from the bank by topic and seed, each with its choices in
//! a shuffled order, and a learner's typed answer ("b", "a,c", a command) read against that
//! order. The interactive prompts and the `--answers` mode both go through here, so they grade
//! the same way.

use crate::catalog::quiz::{Answer, QuestionKind};
use crate::catalog::{Catalog, Question};

/// One question as shown: `order[i]` is the author's index of the choice shown as letter `i`.
#[derive(Debug, Clone)]
pub struct QuizItem<'c> {
    pub question: &'c Question,
    pub order: Vec<usize>,
}

impl QuizItem<'_> {
    /// The choices as shown, lettered: `a) 2379`.
    pub fn shown_choices(&self) -> Vec<String> {
        self.order
            .iter()
            .enumerate()
            .map(|(i, &c)| format!("{}) {}", letter(i), self.question.choices[c].text))
            .collect()
    }

    /// The answer from shown positions (what a prompt returns).
    pub fn answer_from_positions(&self, positions: &[usize]) -> Answer {
        Answer::Choices(positions.iter().map(|&p| self.order[p]).collect())
    }

    /// Reads a typed answer: letters for choices (`b`, `a,c`, `a c`), the command otherwise.
    pub fn parse_answer(&self, line: &str) -> Result<Answer, String> {
        let line = line.trim();
        if self.question.kind == QuestionKind::Command {
            return Ok(Answer::Command(line.to_string()));
        }
        let mut positions = Vec::new();
        for token in line.split([',', ' ']).filter(|t| !t.is_empty()) {
            let position = match token.to_ascii_lowercase().as_bytes() {
                [c @ b'a'..=b'z'] => usize::from(c - b'a'),
                _ => usize::MAX,
            };
            if position >= self.order.len() {
                return Err(format!(
                    "`{token}` is not a choice: answer with a letter from a to {}",
                    letter(self.order.len() - 1)
                ));
            }
            positions.push(position);
        }
        if positions.is_empty() {
            return Err("no answer given".to_string());
        }
        if self.question.kind == QuestionKind::Single && positions.len() > 1 {
            return Err("this question has one answer: give one letter".to_string());
        }
        Ok(self.answer_from_positions(&positions))
    }

    /// The learner's answer as stored: the shown letters, or the command typed.
    pub fn answer_text(&self, answer: &Answer) -> String {
        match answer {
            Answer::Command(text) => text.clone(),
            Answer::Choices(indexes) => indexes
                .iter()
                .filter_map(|i| self.order.iter().position(|o| o == i))
                .map(|p| letter(p).to_string())
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

pub fn letter(position: usize) -> char {
    char::from(b'a' + (position % 26) as u8)
}

/// Draws up to `count` questions (of one lesson when `lesson` is set), in an order and with
/// choice orders fixed by `seed`.
pub fn draw<'c>(
    catalog: &'c Catalog,
    lesson: Option<&str>,
    count: usize,
    seed: u64,
) -> Vec<QuizItem<'c>> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut pool: Vec<&Question> = catalog
        .questions()
        .iter()
        .filter(|q| lesson.is_none_or(|l| q.lesson == l))
        .collect();
    rng.shuffle(&mut pool);
    pool.truncate(count);
    pool.into_iter()
        .map(|question| {
            let mut order: Vec<usize> = (0..question.choices.len()).collect();
            rng.shuffle(&mut order);
            QuizItem { question, order }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::load().expect("the embedded catalog loads")
    }

    #[test]
    fn the_same_seed_draws_the_same_quiz() {
        let catalog = catalog();
        let ids = |seed| {
            draw(&catalog, Some("etcd"), 5, seed)
                .iter()
                .map(|item| (item.question.id.clone(), item.order.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(7), ids(7));
        assert_ne!(ids(7), ids(8));
        assert!(
            draw(&catalog, Some("etcd"), 500, 1)
                .iter()
                .all(|i| i.question.lesson == "etcd")
        );
    }

    #[test]
    fn letters_follow_the_shown_order() {
        let catalog = catalog();
        let item = draw(&catalog, None, 200, 3)
            .into_iter()
            .find(|i| i.question.kind == QuestionKind::Single)
            .expect("a single-choice question");
        let right = item.question.correct_choices()[0];
        let shown = item.order.iter().position(|&o| o == right).expect("shown");
        let answer = item
            .parse_answer(&letter(shown).to_string())
            .expect("a letter");
        assert!(item.question.is_correct(&answer));
        assert_eq!(item.answer_text(&answer), letter(shown).to_string());
        let wrong = (shown + 1) % item.order.len();
        let answer = item.parse_answer(&letter(wrong).to_uppercase().to_string());
        assert!(!item.question.is_correct(&answer.expect("a letter")));
        assert!(item.parse_answer("z").is_err());
        assert!(item.parse_answer("a,b").is_err(), "one letter for a single");
        assert!(item.parse_answer("").is_err());
    }
}
