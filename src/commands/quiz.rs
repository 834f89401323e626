use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use clap::Args;

use super::open_store;
use crate::catalog::Catalog;
use crate::catalog::quiz::{Answer, QuestionKind};
use crate::error::{Error, ExitStatus, Result};
use crate::quiz::{QuizItem, draw};
use crate::store::QuizAnswerRow;
use crate::ui::Ui;

/// Answer quiz questions from the lessons. A wrong answer shows the explanation and the
/// lesson to read; every answer is kept for `ckalab progress`.
#[derive(Debug, Args)]
pub struct QuizArgs {
    /// Only questions of one lesson (`ckalab learn` lists them; component names work too).
    #[arg(long)]
    topic: Option<String>,

    /// How many questions.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,

    /// Seed for drawing the questions and ordering their choices: the same seed asks the same
    /// quiz.
    #[arg(long)]
    seed: Option<u64>,

    /// Answer from a file (`-` for standard input) instead of prompts, one line per question:
    /// a letter (`b`), letters for several (`a,c`), or the command. Graded the same way.
    #[arg(long, value_name = "FILE")]
    answers: Option<PathBuf>,
}

pub fn run(ui: &mut Ui, args: QuizArgs) -> Result<ExitStatus> {
    let catalog = Catalog::load()?;
    let lesson = match &args.topic {
        Some(topic) => Some(super::find_lesson(&catalog, topic)?.id.as_str()),
        None => None,
    };
    let seed = args.seed.unwrap_or_else(|| fastrand::u64(..));
    let items = draw(&catalog, lesson, args.count as usize, seed);
    let store = open_store()?;

    let mut answers: Box<dyn Iterator<Item = std::io::Result<String>>> = match &args.answers {
        Some(path) if path.as_os_str() == "-" => Box::new(std::io::stdin().lock().lines()),
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|e| {
                Error::Usage(format!(
                    "cannot read the answers file {}: {e}",
                    path.display()
                ))
            })?;
            Box::new(std::io::BufReader::new(file).lines())
        }
        None if !std::io::stdin().is_terminal() => {
            return Err(Error::Usage(
                "the quiz asks its questions on a terminal\nhint: answer from a file with `--answers FILE` (or `--answers -` for standard input), one line per question".into(),
            ));
        }
        None => Box::new(std::iter::empty()),
    };
    let interactive = args.answers.is_none();

    let mut correct = 0;
    let mut asked = 0;
    for (n, item) in items.iter().enumerate() {
        let question = item.question;
        ui.line("")?;
        ui.line(ui.bold(format!(
            "Question {} of {} · {}",
            n + 1,
            items.len(),
            question.lesson
        )))?;
        ui.line(question.question.trim_end())?;
        let answer = if interactive {
            match prompt(item)? {
                Some(answer) => answer,
                None => break,
            }
        } else {
            for choice in item.shown_choices() {
                ui.line(format!("  {choice}"))?;
            }
            match next_answer(&mut answers)? {
                Some(line) => {
                    ui.line(ui.dim(format!("> {line}")))?;
                    item.parse_answer(&line)
                        .map_err(|e| Error::Usage(format!("answer {} (`{line}`): {e}", n + 1)))?
                }
                None => {
                    ui.line(ui.dim("(no more answers in the file)"))?;
                    break;
                }
            }
        };
        asked += 1;
        let right = question.is_correct(&answer);
        store.record_quiz_answer(&QuizAnswerRow {
            question_id: question.id.clone(),
            topic: question.lesson.clone(),
            answered_at: crate::clock::now(),
            answer: item.answer_text(&answer),
            correct: right,
        })?;
        if right {
            correct += 1;
            ui.line(ui.green("✓ correct"))?;
        } else {
            ui.line(format!(
                "{} the answer: {}",
                ui.red("✗"),
                question.right_answer()
            ))?;
            ui.line(question.explanation.trim_end())?;
            ui.line(ui.dim(format!("Lesson: `ckalab learn {}`", question.lesson)))?;
        }
    }

    ui.line("")?;
    if asked == 0 {
        ui.line("No question answered.")?;
        return Ok(ExitStatus::Success);
    }
    let percent = correct * 100 / asked;
    ui.line(ui.bold(format!(
        "{correct} of {asked} correct ({percent}%) · seed {seed}"
    )))?;
    ui.line(ui.dim("Your answers are kept: `ckalab progress` shows what to study next."))?;
    Ok(ExitStatus::Success)
}

/// The next non-empty, non-comment line of the answers.
fn next_answer(lines: &mut dyn Iterator<Item = std::io::Result<String>>) -> Result<Option<String>> {
    for line in lines {
        let line = line.map_err(|e| Error::Usage(format!("cannot read the answers: {e}")))?;
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            return Ok(Some(line.to_string()));
        }
    }
    Ok(None)
}

/// Asks one question on the terminal; `None` when the learner quits (Esc or q).
fn prompt(item: &QuizItem) -> Result<Option<Answer>> {
    let failed = |e: dialoguer::Error| Error::System(format!("the prompt failed: {e}"));
    Ok(match item.question.kind {
        QuestionKind::Single => dialoguer::Select::new()
            .with_prompt("Your answer (arrows, Enter; Esc quits)")
            .items(item.shown_choices())
            .default(0)
            .interact_opt()
            .map_err(failed)?
            .map(|p| item.answer_from_positions(&[p])),
        QuestionKind::Multiple => dialoguer::MultiSelect::new()
            .with_prompt("Your answers (Space picks, Enter confirms; Esc quits)")
            .items(item.shown_choices())
            .interact_opt()
            .map_err(failed)?
            .map(|ps| item.answer_from_positions(&ps)),
        QuestionKind::Command => {
            let typed: String = dialoguer::Input::new()
                .with_prompt("Command (empty line quits)")
                .allow_empty(true)
                .interact_text()
                .map_err(failed)?;
            (!typed.trim().is_empty()).then_some(Answer::Command(typed))
        }
    })
}
