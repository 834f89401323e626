//! Mastery per CKA domain and what to practise next, worked out from the learner's history.
//!
//! Pure logic: the `progress` command reads the rows from the store and the time from the clock,
//! calls [`summarize`], and prints the result (as a table or as JSON).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Serialize;

use crate::catalog::Domain;

/// More suggestions than this is a to-do list, not a next step.
const MAX_RECOMMENDATIONS: usize = 6;
/// Labs suggested from the weakest domain, so quiz and review items still fit.
const MAX_WEAK_LABS: usize = 3;
/// Fewer answers than this say more about luck than about knowledge.
const QUIZ_MIN_ANSWERS: u32 = 3;
/// A topic answered right less often than this (in percent) needs another pass.
const QUIZ_WEAK_PERCENT: u32 = 70;
/// A mastered lab not redone for this long is due for a spaced review.
const REVIEW_AFTER_DAYS: i64 = 14;
const SECONDS_PER_DAY: i64 = 86_400;

/// A lab of the catalog.
#[derive(Debug, Clone)]
pub struct LabInfo {
    pub id: String,
    pub domain: Domain,
    /// The time a prepared candidate needs.
    pub minutes: u32,
    /// The lesson that teaches what the lab exercises.
    pub lesson: String,
}

/// A lesson of the catalog; its id is also its quiz topic.
#[derive(Debug, Clone)]
pub struct LessonInfo {
    pub id: String,
    pub domain: Domain,
}

/// The grader's latest verdict on an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// The grader could not look: neither a pass nor a failure.
    Invalid,
}

/// One try at a lab.
#[derive(Debug, Clone)]
pub struct AttemptInfo {
    pub lab_id: String,
    pub started_at: Timestamp,
    /// Set when the attempt passed.
    pub ended_at: Option<Timestamp>,
    /// `None` while the attempt was never graded.
    pub result: Option<Outcome>,
    pub hints_used: u32,
    pub solution_revealed: bool,
    /// A task of a mock exam.
    pub in_exam: bool,
}

/// One answer to a quiz question.
#[derive(Debug, Clone)]
pub struct QuizAnswerInfo {
    /// The id of the lesson the question belongs to.
    pub topic: String,
    pub answered_at: Timestamp,
    pub correct: bool,
}

/// One mock exam; the scores are unset until it is submitted.
#[derive(Debug, Clone)]
pub struct ExamInfo {
    pub id: i64,
    pub started_at: Timestamp,
    pub score: Option<f64>,
    pub max_score: Option<f64>,
    pub passed: Option<bool>,
}

/// Everything `ckalab progress` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// All five domains, in [`Domain::ALL`] order.
    pub domains: Vec<DomainMastery>,
    /// Consecutive UTC days with any activity, ending today or yesterday.
    pub streak_days: u32,
    /// The latest attempt start, quiz answer or exam start.
    #[serde(serialize_with = "crate::clock::rfc3339_optional")]
    pub last_activity: Option<Timestamp>,
    /// The most recent mock exam that has a score.
    pub last_exam: Option<ExamSummary>,
    /// What to do next, most useful first.
    pub next: Vec<Recommendation>,
}

/// How well the learner knows one domain.
///
/// `mastery` is `round(100 × mean of the components that exist)`, where
/// - the lab component is `labs_mastered / labs_total`; it exists when the domain has labs and
///   the learner has evidence in the domain (a graded attempt on one of its labs or a quiz answer
///   on one of its lessons), so theory alone cannot reach 100% and an untouched domain stays
///   unknown rather than 0%;
/// - the quiz component is `quiz_accuracy`; it exists from the first answer.
///
/// `None` when neither component exists: no evidence is not the same as knowing nothing.
#[derive(Debug, Clone, Serialize)]
pub struct DomainMastery {
    pub domain: Domain,
    /// Share of the exam's score, in percent.
    pub weight: u32,
    pub labs_total: u32,
    /// Labs with at least one passing attempt.
    pub labs_passed: u32,
    /// Labs passed at least once without revealing the solution.
    pub labs_mastered: u32,
    /// Mean over the labs with a timed pass of `best_seconds / (minutes × 60)`: below 1 is faster
    /// than the target. Exam tasks and passes with the solution shown are not timed.
    pub best_time_ratio: Option<f64>,
    pub hints_used: u32,
    /// Attempts in which the solution was revealed.
    pub solutions_used: u32,
    pub quiz_answered: u32,
    pub quiz_correct: u32,
    /// `quiz_correct / quiz_answered`, from 0 to 1.
    pub quiz_accuracy: Option<f64>,
    /// 0 to 100; see the type's documentation for the formula.
    pub mastery: Option<u8>,
}

/// The most recent scored mock exam.
#[derive(Debug, Clone, Serialize)]
pub struct ExamSummary {
    pub id: i64,
    #[serde(serialize_with = "crate::clock::rfc3339")]
    pub started_at: Timestamp,
    /// `score / max_score` in percent, when both are known.
    pub percent: Option<u8>,
    pub passed: Option<bool>,
}

/// One thing to do next.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub kind: RecommendationKind,
    /// A lab id or a lesson id.
    pub target: String,
    /// One sentence for the learner.
    pub reason: String,
    /// The command that does it.
    pub command: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecommendationKind {
    /// A lab of the weakest domain that is not mastered yet.
    WeakDomainLab,
    /// A quiz topic answered wrong too often.
    QuizTopic,
    /// A mastered lab not done for a while.
    SpacedReview,
    /// Where to begin, when nothing has been done yet.
    FirstSteps,
}

/// Works out mastery per domain, the streak and the next steps from the history.
///
/// Attempts on labs and answers on topics the catalog does not know (renamed or removed) are
/// ignored, except that they still count as activity for the streak.
pub fn summarize(
    labs: &[LabInfo],
    lessons: &[LessonInfo],
    attempts: &[AttemptInfo],
    answers: &[QuizAnswerInfo],
    exams: &[ExamInfo],
    now: Timestamp,
) -> Progress {
    let catalog = unique_by_id(labs);
    let histories = lab_histories(&catalog, attempts);
    let topics = quiz_topics(lessons, answers);
    let domains: Vec<DomainMastery> = Domain::ALL
        .into_iter()
        .map(|domain| domain_mastery(domain, &catalog, &histories, &topics))
        .collect();

    let activity: Vec<Timestamp> = attempts
        .iter()
        .map(|a| a.started_at)
        .chain(answers.iter().map(|a| a.answered_at))
        .chain(exams.iter().map(|e| e.started_at))
        .collect();
    let next = if activity.is_empty() {
        first_steps(&catalog, lessons).into_iter().collect()
    } else {
        recommend(&catalog, &histories, &topics, &domains, now)
    };

    Progress {
        streak_days: streak_days(&activity, now),
        last_activity: activity.iter().copied().max(),
        last_exam: last_exam(exams),
        domains,
        next,
    }
}

/// One competency of the curriculum, and whether the learner has practised it.
#[derive(Debug, Clone, Serialize)]
pub struct CompetencyProgress<'c> {
    pub id: &'c str,
    pub domain: Domain,
    pub title: &'c str,
    /// Its labs the learner has passed.
    pub labs_passed: Vec<&'c str>,
    /// Its labs not passed yet, in the map's order.
    pub labs_to_do: Vec<&'c str>,
    pub lessons: &'c [String],
}

impl CompetencyProgress<'_> {
    /// Practised: one of its labs passed.
    pub fn practised(&self) -> bool {
        !self.labs_passed.is_empty()
    }
}

/// Each competency with the labs of it the learner passed (`passed` holds lab ids).
pub fn competencies<'c>(
    curriculum: &'c crate::catalog::Curriculum,
    passed: &BTreeSet<&str>,
) -> Vec<CompetencyProgress<'c>> {
    curriculum
        .competencies
        .iter()
        .map(|c| {
            let (labs_passed, labs_to_do) = c
                .labs
                .iter()
                .map(String::as_str)
                .partition(|lab| passed.contains(lab));
            CompetencyProgress {
                id: &c.id,
                domain: c.domain,
                title: &c.title,
                labs_passed,
                labs_to_do,
                lessons: &c.lessons,
            }
        })
        .collect()
}

/// A terminal bar of `width` cells, `percent` of them (rounded, capped at 100) filled.
pub fn bar(percent: u8, width: usize) -> String {
    let percent = usize::from(percent.min(100));
    let filled = (percent * width + 50) / 100;
    let mut out = "█".repeat(filled);
    out.push_str(&"░".repeat(width - filled));
    out
}

/// What the attempts on one lab say.
#[derive(Debug, Default)]
struct LabHistory {
    attempted: bool,
    /// Start and verdict of the latest attempt graded Pass or Fail.
    last_graded: Option<(Timestamp, Graded)>,
    passed: bool,
    mastered: bool,
    /// When the latest pass happened.
    last_pass: Option<Timestamp>,
    best_seconds: Option<i64>,
    hints_used: u32,
    solutions_used: u32,
}

/// A verdict that says something about the learner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Graded {
    Fail,
    /// Passed, but only with the solution in view.
    PassWithSolution,
    Pass,
}

/// Answers on one quiz topic.
#[derive(Debug, Clone, Copy)]
struct Topic {
    domain: Domain,
    answered: u32,
    correct: u32,
}

/// The catalog's labs sorted by id, the first of any duplicate kept.
fn unique_by_id(labs: &[LabInfo]) -> Vec<&LabInfo> {
    let mut by_id: BTreeMap<&str, &LabInfo> = BTreeMap::new();
    for lab in labs {
        by_id.entry(lab.id.as_str()).or_insert(lab);
    }
    by_id.into_values().collect()
}

fn lab_histories<'a>(
    catalog: &[&'a LabInfo],
    attempts: &[AttemptInfo],
) -> HashMap<&'a str, LabHistory> {
    let mut histories: HashMap<&str, LabHistory> = catalog
        .iter()
        .map(|lab| (lab.id.as_str(), LabHistory::default()))
        .collect();
    for attempt in attempts {
        let Some(history) = histories.get_mut(attempt.lab_id.as_str()) else {
            continue;
        };
        history.attempted = true;
        history.hints_used = history.hints_used.saturating_add(attempt.hints_used);
        history.solutions_used += u32::from(attempt.solution_revealed);
        let graded = match attempt.result {
            Some(Outcome::Fail) => Graded::Fail,
            Some(Outcome::Pass) if attempt.solution_revealed => Graded::PassWithSolution,
            Some(Outcome::Pass) => Graded::Pass,
            Some(Outcome::Invalid) | None => continue,
        };
        // `>=` so that of two attempts started in the same second the later row wins.
        if history
            .last_graded
            .is_none_or(|(at, _)| attempt.started_at >= at)
        {
            history.last_graded = Some((attempt.started_at, graded));
        }
        if graded == Graded::Fail {
            continue;
        }
        history.passed = true;
        let passed_at = attempt.ended_at.unwrap_or(attempt.started_at);
        history.last_pass = history.last_pass.max(Some(passed_at));
        if graded == Graded::Pass {
            history.mastered = true;
            // An exam task's clock runs while the candidate works on the other tasks.
            if let (false, Some(ended)) = (attempt.in_exam, attempt.ended_at) {
                let seconds = ended.as_second() - attempt.started_at.as_second();
                if seconds >= 0 {
                    history.best_seconds = Some(
                        history
                            .best_seconds
                            .map_or(seconds, |best| best.min(seconds)),
                    );
                }
            }
        }
    }
    histories
}

/// Answers per known topic, keyed (and so sorted) by topic id.
fn quiz_topics<'a>(
    lessons: &'a [LessonInfo],
    answers: &[QuizAnswerInfo],
) -> BTreeMap<&'a str, Topic> {
    let mut topics: BTreeMap<&str, Topic> = BTreeMap::new();
    for lesson in lessons {
        topics.entry(lesson.id.as_str()).or_insert(Topic {
            domain: lesson.domain,
            answered: 0,
            correct: 0,
        });
    }
    for answer in answers {
        if let Some(topic) = topics.get_mut(answer.topic.as_str()) {
            topic.answered += 1;
            topic.correct += u32::from(answer.correct);
        }
    }
    topics
}

fn domain_mastery(
    domain: Domain,
    catalog: &[&LabInfo],
    histories: &HashMap<&str, LabHistory>,
    topics: &BTreeMap<&str, Topic>,
) -> DomainMastery {
    let labs: Vec<(&LabInfo, &LabHistory)> = catalog
        .iter()
        .filter(|lab| lab.domain == domain)
        .filter_map(|&lab| Some((lab, histories.get(lab.id.as_str())?)))
        .collect();
    let count = |keep: fn(&LabHistory) -> bool| {
        u32::try_from(labs.iter().filter(|(_, h)| keep(h)).count()).unwrap_or(u32::MAX)
    };
    let labs_total = count(|_| true);
    let labs_passed = count(|h| h.passed);
    let labs_mastered = count(|h| h.mastered);
    let best_time_ratio = mean(labs.iter().filter_map(|(lab, h)| {
        let best = h.best_seconds?;
        (lab.minutes > 0).then(|| best as f64 / (f64::from(lab.minutes) * 60.0))
    }));

    let (quiz_answered, quiz_correct) = topics
        .values()
        .filter(|t| t.domain == domain)
        .fold((0, 0), |(n, ok), t| (n + t.answered, ok + t.correct));
    let quiz_accuracy = ratio(quiz_correct, quiz_answered);

    let has_evidence = quiz_answered > 0 || labs.iter().any(|(_, h)| h.last_graded.is_some());
    let lab_component = has_evidence
        .then(|| ratio(labs_mastered, labs_total))
        .flatten();
    let mastery = mean(lab_component.into_iter().chain(quiz_accuracy)).map(percent);

    DomainMastery {
        domain,
        weight: domain.exam_weight(),
        labs_total,
        labs_passed,
        labs_mastered,
        best_time_ratio,
        hints_used: labs
            .iter()
            .fold(0u32, |sum, (_, h)| sum.saturating_add(h.hints_used)),
        solutions_used: labs
            .iter()
            .fold(0u32, |sum, (_, h)| sum.saturating_add(h.solutions_used)),
        quiz_answered,
        quiz_correct,
        quiz_accuracy,
        mastery,
    }
}

/// The next steps for a learner who has done something; see [`summarize`].
///
/// In order, deduplicated by target, at most [`MAX_RECOMMENDATIONS`]:
/// 1. labs of the weakest domain not mastered yet;
/// 2. quiz topics answered right less than 70% of the time (over at least 3 answers);
/// 3. mastered labs last passed [`REVIEW_AFTER_DAYS`] or more days ago.
fn recommend(
    catalog: &[&LabInfo],
    histories: &HashMap<&str, LabHistory>,
    topics: &BTreeMap<&str, Topic>,
    domains: &[DomainMastery],
    now: Timestamp,
) -> Vec<Recommendation> {
    let mut next = Vec::new();
    for rec in weak_domain_labs(catalog, histories, domains) {
        push(&mut next, rec);
    }
    for rec in weak_quiz_topics(topics) {
        push(&mut next, rec);
    }
    for rec in spaced_reviews(catalog, histories, now) {
        push(&mut next, rec);
    }
    next
}

fn push(next: &mut Vec<Recommendation>, rec: Recommendation) {
    if next.len() < MAX_RECOMMENDATIONS && next.iter().all(|r| r.target != rec.target) {
        next.push(rec);
    }
}

/// Rule 1: the domain with the lowest mastery (unknown counts as 0; on a tie the one the exam
/// weighs more) that still has a lab to master. Its labs whose latest verdict was a failure (or a
/// pass only with the solution shown) come first, most recent first, then the labs without a
/// verdict, by id: a fresh failure is the cheapest gap to close.
fn weak_domain_labs(
    catalog: &[&LabInfo],
    histories: &HashMap<&str, LabHistory>,
    domains: &[DomainMastery],
) -> Vec<Recommendation> {
    let mut ranked: Vec<&DomainMastery> = domains.iter().filter(|d| d.labs_total > 0).collect();
    ranked.sort_by_key(|d| (d.mastery.unwrap_or(0), Reverse(d.weight)));
    for domain in ranked {
        let mut retry: Vec<(Timestamp, &LabInfo, Graded)> = Vec::new();
        let mut fresh: Vec<(&LabInfo, bool)> = Vec::new();
        for &lab in catalog.iter().filter(|lab| lab.domain == domain.domain) {
            let Some(history) = histories.get(lab.id.as_str()) else {
                continue;
            };
            if history.mastered {
                continue;
            }
            match history.last_graded {
                Some((at, graded)) => retry.push((at, lab, graded)),
                None => fresh.push((lab, history.attempted)),
            }
        }
        if retry.is_empty() && fresh.is_empty() {
            continue;
        }
        retry.sort_by_key(|&(at, lab, _)| (Reverse(at), lab.id.as_str()));
        let standing = match domain.mastery {
            Some(m) => format!("{m}%"),
            None => "not started".to_string(),
        };
        let lead = format!("{} is your weakest domain ({standing})", domain.domain.id());
        let retries = retry.into_iter().map(|(_, lab, graded)| {
            let why = if graded == Graded::Fail {
                "your last attempt failed"
            } else {
                "you last passed it only with the solution shown"
            };
            (lab, why)
        });
        let fresh = fresh.into_iter().map(|(lab, attempted)| {
            let why = if attempted {
                "not finished yet"
            } else {
                "not tried yet"
            };
            (lab, why)
        });
        return retries
            .chain(fresh)
            .take(MAX_WEAK_LABS)
            .map(|(lab, why)| Recommendation {
                kind: RecommendationKind::WeakDomainLab,
                target: lab.id.clone(),
                reason: format!("{lead}; {why}"),
                command: format!("ckalab start {}", lab.id),
            })
            .collect();
    }
    Vec::new()
}

/// Rule 2: topics with enough answers and too few right, the worst first.
fn weak_quiz_topics(topics: &BTreeMap<&str, Topic>) -> Vec<Recommendation> {
    let mut weak: Vec<(&str, Topic)> = topics
        .iter()
        .map(|(&id, &t)| (id, t))
        .filter(|(_, t)| {
            t.answered >= QUIZ_MIN_ANSWERS
                && u64::from(t.correct) * 100 < u64::from(t.answered) * u64::from(QUIZ_WEAK_PERCENT)
        })
        .collect();
    // Compare correct/answered exactly by cross-multiplying; ties keep the id order.
    weak.sort_by(|(_, a), (_, b)| {
        (u64::from(a.correct) * u64::from(b.answered))
            .cmp(&(u64::from(b.correct) * u64::from(a.answered)))
    });
    weak.into_iter()
        .map(|(id, t)| {
            let accuracy = ratio(t.correct, t.answered).map_or(0, percent);
            Recommendation {
                kind: RecommendationKind::QuizTopic,
                target: id.to_string(),
                reason: format!(
                    "{id}: {} of {} correct ({accuracy}%)",
                    t.correct, t.answered
                ),
                command: format!("ckalab quiz --topic {id}"),
            }
        })
        .collect()
}

/// Rule 3: mastered labs not passed for [`REVIEW_AFTER_DAYS`], the oldest first, because a skill
/// redone just as it starts to fade sticks longer.
fn spaced_reviews(
    catalog: &[&LabInfo],
    histories: &HashMap<&str, LabHistory>,
    now: Timestamp,
) -> Vec<Recommendation> {
    let mut due: Vec<(Timestamp, &LabInfo)> = catalog
        .iter()
        .filter_map(|&lab| {
            let history = histories.get(lab.id.as_str())?;
            let passed_at = history.last_pass.filter(|_| history.mastered)?;
            (days_between(passed_at, now) >= REVIEW_AFTER_DAYS).then_some((passed_at, lab))
        })
        .collect();
    due.sort_by_key(|&(at, lab)| (at, lab.id.as_str()));
    due.into_iter()
        .map(|(at, lab)| Recommendation {
            kind: RecommendationKind::SpacedReview,
            target: lab.id.clone(),
            reason: format!(
                "passed {} days ago: redo it before you forget",
                days_between(at, now)
            ),
            command: format!("ckalab start {}", lab.id),
        })
        .collect()
}

/// Rule 4: with no history at all, one step: the first lab by id, with its lesson named in the
/// reason for a learner new to the topic; the first lesson when there are no labs.
fn first_steps(catalog: &[&LabInfo], lessons: &[LessonInfo]) -> Option<Recommendation> {
    if let Some(lab) = catalog.first() {
        return Some(Recommendation {
            kind: RecommendationKind::FirstSteps,
            target: lab.id.clone(),
            reason: format!(
                "start here; if the topic is new to you, read `ckalab learn {}` first",
                lab.lesson
            ),
            command: format!("ckalab start {}", lab.id),
        });
    }
    let lesson = lessons.iter().min_by_key(|l| l.id.as_str())?;
    Some(Recommendation {
        kind: RecommendationKind::FirstSteps,
        target: lesson.id.clone(),
        reason: "start here: read the lesson, then take its quiz".to_string(),
        command: format!("ckalab learn {}", lesson.id),
    })
}

/// Consecutive UTC days with activity, ending today, or yesterday when nothing happened yet
/// today: a streak is only broken once a whole day goes by without practice.
fn streak_days(activity: &[Timestamp], now: Timestamp) -> u32 {
    let days: BTreeSet<i64> = activity.iter().map(|&t| utc_day(t)).collect();
    let today = utc_day(now);
    let mut day = if days.contains(&today) {
        today
    } else {
        today - 1
    };
    let mut streak = 0;
    while days.contains(&day) {
        streak += 1;
        day -= 1;
    }
    streak
}

fn last_exam(exams: &[ExamInfo]) -> Option<ExamSummary> {
    let exam = exams
        .iter()
        .filter(|e| e.score.is_some())
        .max_by_key(|e| (e.started_at, e.id))?;
    let percent = match (exam.score, exam.max_score) {
        (Some(score), Some(max)) if max > 0.0 => Some(percent(score / max)),
        _ => None,
    };
    Some(ExamSummary {
        id: exam.id,
        started_at: exam.started_at,
        percent,
        passed: exam.passed,
    })
}

/// The day number since the Unix epoch; Unix time has no leap seconds, so each UTC day is
/// exactly 86 400 of them.
fn utc_day(t: Timestamp) -> i64 {
    t.as_second().div_euclid(SECONDS_PER_DAY)
}

/// Calendar days (UTC) from `from` to `to`: something done yesterday evening was done 1 day ago.
fn days_between(from: Timestamp, to: Timestamp) -> i64 {
    utc_day(to) - utc_day(from)
}

fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(sum, n), v| (sum + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

/// A 0..=1 ratio as a rounded percentage.
fn percent(ratio: f64) -> u8 {
    (ratio * 100.0).round().clamp(0.0, 100.0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "2026-11-25T12:00:00Z";

    fn now() -> Timestamp {
        NOW.parse().expect("valid timestamp")
    }

    fn at(s: &str) -> Timestamp {
        s.parse().expect("valid timestamp")
    }

    fn days_ago(days: i64) -> Timestamp {
        Timestamp::from_second(now().as_second() - days * SECONDS_PER_DAY).expect("in range")
    }

    fn lab(id: &str, domain: Domain, minutes: u32, lesson: &str) -> LabInfo {
        LabInfo {
            id: id.to_string(),
            domain,
            minutes,
            lesson: lesson.to_string(),
        }
    }

    fn labs() -> Vec<LabInfo> {
        vec![
            lab("kubelet-down", Domain::Troubleshooting, 10, "kubelet"),
            lab("node-notready", Domain::Troubleshooting, 8, "kubelet"),
            lab("dns-broken", Domain::Troubleshooting, 12, "networking"),
            lab("etcd-restore", Domain::ClusterArchitecture, 10, "etcd"),
            lab("cluster-upgrade", Domain::ClusterArchitecture, 15, "etcd"),
            lab("netpol-deny", Domain::ServicesNetworking, 5, "networking"),
            lab(
                "taint-toleration",
                Domain::WorkloadsScheduling,
                6,
                "scheduling",
            ),
            lab("pvc-pending", Domain::Storage, 7, "storage"),
        ]
    }

    fn lessons() -> Vec<LessonInfo> {
        [
            ("kubelet", Domain::Troubleshooting),
            ("etcd", Domain::ClusterArchitecture),
            ("networking", Domain::ServicesNetworking),
            ("scheduling", Domain::WorkloadsScheduling),
            ("storage", Domain::Storage),
        ]
        .into_iter()
        .map(|(id, domain)| LessonInfo {
            id: id.to_string(),
            domain,
        })
        .collect()
    }

    /// A graded practice attempt that took `seconds` (its end is only recorded on a pass).
    fn attempt(lab_id: &str, started_at: Timestamp, result: Outcome, seconds: i64) -> AttemptInfo {
        let ended_at = (result == Outcome::Pass)
            .then(|| Timestamp::from_second(started_at.as_second() + seconds).expect("in range"));
        AttemptInfo {
            lab_id: lab_id.to_string(),
            started_at,
            ended_at,
            result: Some(result),
            hints_used: 0,
            solution_revealed: false,
            in_exam: false,
        }
    }

    fn answers(topic: &str, correct: u32, wrong: u32) -> Vec<QuizAnswerInfo> {
        let answer = |correct| QuizAnswerInfo {
            topic: topic.to_string(),
            answered_at: days_ago(1),
            correct,
        };
        (0..correct)
            .map(|_| answer(true))
            .chain((0..wrong).map(|_| answer(false)))
            .collect()
    }

    fn run(attempts: &[AttemptInfo], answers: &[QuizAnswerInfo]) -> Progress {
        summarize(&labs(), &lessons(), attempts, answers, &[], now())
    }

    fn mastery(progress: &Progress, domain: Domain) -> &DomainMastery {
        progress
            .domains
            .iter()
            .find(|d| d.domain == domain)
            .expect("every domain is listed")
    }

    fn targets(progress: &Progress, kind: RecommendationKind) -> Vec<&str> {
        progress
            .next
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| r.target.as_str())
            .collect()
    }

    #[test]
    fn empty_history_suggests_first_steps_only() {
        let progress = run(&[], &[]);
        let order: Vec<Domain> = progress.domains.iter().map(|d| d.domain).collect();
        assert_eq!(order, Domain::ALL);
        let weights: Vec<u32> = progress.domains.iter().map(|d| d.weight).collect();
        assert_eq!(weights, [30, 25, 20, 15, 10]);
        assert!(progress.domains.iter().all(|d| d.mastery.is_none()));
        assert_eq!(mastery(&progress, Domain::Troubleshooting).labs_total, 3);
        assert_eq!(progress.streak_days, 0);
        assert_eq!(progress.last_activity, None);
        assert_eq!(progress.next.len(), 1);
        let first = &progress.next[0];
        assert_eq!(first.kind, RecommendationKind::FirstSteps);
        assert_eq!(first.target, "cluster-upgrade");
        assert_eq!(first.command, "ckalab start cluster-upgrade");
        assert!(
            first.reason.contains("ckalab learn etcd"),
            "{}",
            first.reason
        );
    }

    #[test]
    fn first_steps_without_labs_points_at_a_lesson() {
        let progress = summarize(&[], &lessons(), &[], &[], &[], now());
        assert_eq!(progress.next.len(), 1);
        assert_eq!(progress.next[0].target, "etcd");
        assert_eq!(progress.next[0].command, "ckalab learn etcd");
    }

    #[test]
    fn weakest_domain_failed_labs_come_before_untried_ones() {
        let attempts = [
            attempt("kubelet-down", days_ago(5), Outcome::Fail, 0),
            attempt("node-notready", days_ago(2), Outcome::Fail, 0),
            attempt("etcd-restore", days_ago(2), Outcome::Pass, 300),
            attempt("netpol-deny", days_ago(1), Outcome::Pass, 200),
            attempt("taint-toleration", days_ago(1), Outcome::Pass, 200),
            attempt("pvc-pending", days_ago(1), Outcome::Pass, 200),
        ];
        let progress = run(&attempts, &[]);
        assert_eq!(mastery(&progress, Domain::Troubleshooting).mastery, Some(0));
        assert_eq!(
            mastery(&progress, Domain::ClusterArchitecture).mastery,
            Some(50)
        );
        assert_eq!(mastery(&progress, Domain::Storage).mastery, Some(100));
        let weak: Vec<(&str, &str)> = progress
            .next
            .iter()
            .map(|r| (r.target.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            weak,
            [
                (
                    "node-notready",
                    "troubleshooting is your weakest domain (0%); your last attempt failed"
                ),
                (
                    "kubelet-down",
                    "troubleshooting is your weakest domain (0%); your last attempt failed"
                ),
                (
                    "dns-broken",
                    "troubleshooting is your weakest domain (0%); not tried yet"
                ),
            ]
        );
        assert!(
            progress
                .next
                .iter()
                .all(|r| r.kind == RecommendationKind::WeakDomainLab)
        );
        assert_eq!(progress.next[0].command, "ckalab start node-notready");
    }

    #[test]
    fn weakest_domain_ties_go_to_the_heavier_domain() {
        // Only cluster architecture has evidence; the others are unknown and so count as 0.
        let attempts = [attempt("etcd-restore", days_ago(1), Outcome::Pass, 300)];
        let progress = run(&attempts, &[]);
        assert_eq!(
            targets(&progress, RecommendationKind::WeakDomainLab),
            ["dns-broken", "kubelet-down", "node-notready"]
        );
    }

    #[test]
    fn a_weakest_domain_with_every_lab_mastered_passes_the_turn() {
        let attempts: Vec<AttemptInfo> = labs()
            .iter()
            .filter(|l| l.id != "cluster-upgrade")
            .map(|l| attempt(&l.id, days_ago(1), Outcome::Pass, 60))
            .collect();
        let quiz = [answers("storage", 0, 3), answers("etcd", 3, 0)].concat();
        let progress = run(&attempts, &quiz);
        // Storage: (1/1 + 0/3) / 2; cluster architecture: (1/2 + 3/3) / 2.
        assert_eq!(mastery(&progress, Domain::Storage).mastery, Some(50));
        assert_eq!(
            mastery(&progress, Domain::ClusterArchitecture).mastery,
            Some(75)
        );
        assert_eq!(
            targets(&progress, RecommendationKind::WeakDomainLab),
            ["cluster-upgrade"]
        );
        assert_eq!(
            progress.next[0].reason,
            "cluster-architecture is your weakest domain (75%); not tried yet"
        );
    }

    #[test]
    fn quiz_topics_need_three_answers_and_under_seventy_percent() {
        let quiz: Vec<QuizAnswerInfo> = [
            answers("etcd", 2, 3),
            answers("kubelet", 2, 0),
            answers("networking", 4, 1),
            answers("unknown-topic", 0, 5),
        ]
        .concat();
        let progress = run(&[], &quiz);
        let topics: Vec<&Recommendation> = progress
            .next
            .iter()
            .filter(|r| r.kind == RecommendationKind::QuizTopic)
            .collect();
        assert_eq!(topics.len(), 1);
        assert_eq!(topics[0].target, "etcd");
        assert_eq!(topics[0].reason, "etcd: 2 of 5 correct (40%)");
        assert_eq!(topics[0].command, "ckalab quiz --topic etcd");

        let arch = mastery(&progress, Domain::ClusterArchitecture);
        assert_eq!((arch.quiz_answered, arch.quiz_correct), (5, 2));
        assert_eq!(arch.quiz_accuracy, Some(0.4));
        // Lab component 0/2 (answers are activity), quiz 0.4: mean 0.2.
        assert_eq!(arch.mastery, Some(20));
        assert_eq!(
            mastery(&progress, Domain::Troubleshooting).mastery,
            Some(50)
        );
        assert_eq!(
            mastery(&progress, Domain::ServicesNetworking).mastery,
            Some(40)
        );
        // The unknown topic counts nowhere.
        let answered: u32 = progress.domains.iter().map(|d| d.quiz_answered).sum();
        assert_eq!(answered, 12);
        // Workloads (unknown, weight 15) beats storage (unknown, weight 10) as the weakest.
        assert_eq!(
            targets(&progress, RecommendationKind::WeakDomainLab),
            ["taint-toleration"]
        );
        assert_eq!(progress.next[1].target, "etcd");
    }

    #[test]
    fn weakest_quiz_topics_come_first() {
        let quiz = [answers("etcd", 2, 2), answers("kubelet", 1, 3)].concat();
        let progress = run(&[], &quiz);
        assert_eq!(
            targets(&progress, RecommendationKind::QuizTopic),
            ["kubelet", "etcd"]
        );
    }

    #[test]
    fn labs_passed_long_ago_are_due_for_review() {
        let attempts = [
            attempt("etcd-restore", days_ago(20), Outcome::Pass, 300),
            attempt("netpol-deny", days_ago(3), Outcome::Pass, 200),
            attempt("pvc-pending", days_ago(30), Outcome::Pass, 200),
        ];
        let progress = run(&attempts, &[]);
        let reviews: Vec<&Recommendation> = progress
            .next
            .iter()
            .filter(|r| r.kind == RecommendationKind::SpacedReview)
            .collect();
        let due: Vec<&str> = reviews.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(due, ["pvc-pending", "etcd-restore"]);
        assert_eq!(
            reviews[1].reason,
            "passed 20 days ago: redo it before you forget"
        );
        assert_eq!(reviews[1].command, "ckalab start etcd-restore");
    }

    #[test]
    fn a_pass_with_the_solution_shown_is_not_mastery() {
        let mut cheat = attempt("pvc-pending", days_ago(30), Outcome::Pass, 100);
        cheat.solution_revealed = true;
        cheat.hints_used = 2;
        let progress = run(&[cheat], &[]);
        let storage = mastery(&progress, Domain::Storage);
        assert_eq!(storage.labs_passed, 1);
        assert_eq!(storage.labs_mastered, 0);
        assert_eq!(storage.solutions_used, 1);
        assert_eq!(storage.hints_used, 2);
        assert_eq!(storage.best_time_ratio, None);
        assert_eq!(storage.mastery, Some(0));
        assert!(targets(&progress, RecommendationKind::SpacedReview).is_empty());
        // Storage is the only domain with evidence, so the unknown heavier ones rank first.
        assert_eq!(
            targets(&progress, RecommendationKind::WeakDomainLab),
            ["dns-broken", "kubelet-down", "node-notready"]
        );

        let mut cheat = attempt("kubelet-down", days_ago(1), Outcome::Pass, 100);
        cheat.solution_revealed = true;
        let progress = run(&[cheat], &[]);
        assert_eq!(progress.next[0].target, "kubelet-down");
        assert_eq!(
            progress.next[0].reason,
            "troubleshooting is your weakest domain (0%); you last passed it only with the \
             solution shown"
        );
    }

    #[test]
    fn invalid_results_are_ignored() {
        let attempts = [
            attempt("kubelet-down", days_ago(3), Outcome::Fail, 0),
            attempt("kubelet-down", days_ago(2), Outcome::Invalid, 0),
            attempt("etcd-restore", days_ago(3), Outcome::Pass, 300),
            attempt("etcd-restore", days_ago(2), Outcome::Invalid, 0),
            attempt("pvc-pending", days_ago(2), Outcome::Invalid, 0),
        ];
        let progress = run(&attempts, &[]);
        // An Invalid after a pass keeps the lab mastered.
        let arch = mastery(&progress, Domain::ClusterArchitecture);
        assert_eq!((arch.labs_mastered, arch.mastery), (1, Some(50)));
        // An Invalid alone is no evidence.
        assert_eq!(mastery(&progress, Domain::Storage).mastery, None);
        // The Fail is still the latest verdict on kubelet-down.
        assert_eq!(progress.next[0].target, "kubelet-down");
        assert!(
            progress.next[0]
                .reason
                .ends_with("your last attempt failed")
        );
        assert_eq!(mastery(&progress, Domain::Troubleshooting).mastery, Some(0));
    }

    #[test]
    fn an_ungraded_attempt_is_not_finished() {
        let mut started = attempt("dns-broken", days_ago(0), Outcome::Fail, 0);
        started.result = None;
        let failed = attempt("kubelet-down", days_ago(1), Outcome::Fail, 0);
        let progress = run(&[started, failed], &[]);
        let reasons: Vec<&str> = progress.next.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "troubleshooting is your weakest domain (0%); your last attempt failed",
                "troubleshooting is your weakest domain (0%); not finished yet",
                "troubleshooting is your weakest domain (0%); not tried yet",
            ]
        );
    }

    #[test]
    fn streak_counts_consecutive_days_ending_today_or_yesterday() {
        let exam = |started_at| ExamInfo {
            id: 1,
            started_at,
            score: None,
            max_score: None,
            passed: None,
        };
        let quiz = |answered_at| QuizAnswerInfo {
            topic: "etcd".to_string(),
            answered_at,
            correct: true,
        };
        let streak = |attempts: &[AttemptInfo], answers: &[QuizAnswerInfo], exams: &[ExamInfo]| {
            summarize(&labs(), &lessons(), attempts, answers, exams, now()).streak_days
        };

        // Today just after midnight, yesterday just before midnight, two days ago.
        let three = streak(
            &[attempt(
                "etcd-restore",
                at("2026-11-25T00:30:00Z"),
                Outcome::Fail,
                0,
            )],
            &[quiz(at("2026-11-24T23:59:59Z"))],
            &[exam(at("2026-11-23T08:00:00Z"))],
        );
        assert_eq!(three, 3);
        // Nothing today yet: the streak still stands.
        assert_eq!(streak(&[], &[quiz(days_ago(1)), quiz(days_ago(2))], &[]), 2);
        // A whole day missed breaks it.
        assert_eq!(streak(&[], &[quiz(days_ago(2)), quiz(days_ago(3))], &[]), 0);
        // A gap before today stops the count.
        assert_eq!(streak(&[], &[quiz(days_ago(0)), quiz(days_ago(2))], &[]), 1);
    }

    #[test]
    fn best_time_ratio_is_the_mean_of_best_passes_over_targets() {
        let mut in_exam = attempt("kubelet-down", days_ago(1), Outcome::Pass, 30);
        in_exam.in_exam = true;
        let attempts = [
            attempt("kubelet-down", days_ago(4), Outcome::Pass, 900),
            attempt("kubelet-down", days_ago(3), Outcome::Pass, 480),
            attempt("kubelet-down", days_ago(2), Outcome::Fail, 0),
            in_exam,
            attempt("node-notready", days_ago(2), Outcome::Pass, 960),
        ];
        let progress = run(&attempts, &[]);
        let trouble = mastery(&progress, Domain::Troubleshooting);
        // kubelet-down: 480 s / 600 s = 0.8; node-notready: 960 s / 480 s = 2.0.
        let ratio = trouble.best_time_ratio.expect("two timed labs");
        assert!((ratio - 1.4).abs() < 1e-9, "{ratio}");
        assert_eq!((trouble.labs_passed, trouble.labs_mastered), (2, 2));
        // Two of three labs mastered.
        assert_eq!(trouble.mastery, Some(67));
        assert_eq!(mastery(&progress, Domain::Storage).best_time_ratio, None);
    }

    #[test]
    fn mastery_is_the_mean_of_the_lab_and_quiz_components() {
        let attempts = [attempt("etcd-restore", days_ago(1), Outcome::Pass, 60)];
        let quiz = answers("etcd", 3, 1);
        let progress = run(&attempts, &quiz);
        // (1/2 + 3/4) / 2 = 0.625.
        assert_eq!(
            mastery(&progress, Domain::ClusterArchitecture).mastery,
            Some(63)
        );
    }

    #[test]
    fn recommendations_are_capped_and_deduplicated() {
        let attempts: Vec<AttemptInfo> = labs()
            .iter()
            .filter(|l| l.domain != Domain::Troubleshooting)
            .map(|l| attempt(&l.id, days_ago(40), Outcome::Pass, 60))
            .collect();
        // A lesson sharing a lab's id is deduplicated against the lab.
        let mut lessons = lessons();
        lessons.push(LessonInfo {
            id: "dns-broken".to_string(),
            domain: Domain::Troubleshooting,
        });
        let quiz = [answers("dns-broken", 0, 3), answers("etcd", 0, 3)].concat();
        let progress = summarize(&labs(), &lessons, &attempts, &quiz, &[], now());
        let kinds: Vec<(RecommendationKind, &str)> = progress
            .next
            .iter()
            .map(|r| (r.kind, r.target.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                (RecommendationKind::WeakDomainLab, "dns-broken"),
                (RecommendationKind::WeakDomainLab, "kubelet-down"),
                (RecommendationKind::WeakDomainLab, "node-notready"),
                (RecommendationKind::QuizTopic, "etcd"),
                (RecommendationKind::SpacedReview, "cluster-upgrade"),
                (RecommendationKind::SpacedReview, "etcd-restore"),
            ]
        );
    }

    #[test]
    fn last_exam_and_activity() {
        let exams = [
            ExamInfo {
                id: 1,
                started_at: days_ago(10),
                score: Some(60.0),
                max_score: Some(80.0),
                passed: Some(true),
            },
            ExamInfo {
                id: 2,
                started_at: days_ago(2),
                score: None,
                max_score: Some(80.0),
                passed: None,
            },
        ];
        let progress = summarize(&labs(), &lessons(), &[], &[], &exams, now());
        let last = progress.last_exam.as_ref().expect("a scored exam");
        assert_eq!(
            (last.id, last.percent, last.passed),
            (1, Some(75), Some(true))
        );
        assert_eq!(progress.last_activity, Some(days_ago(2)));
        // Something was done, so no first steps; the weakest domain leads.
        assert_eq!(
            targets(&progress, RecommendationKind::WeakDomainLab),
            ["dns-broken", "kubelet-down", "node-notready"]
        );
    }

    #[test]
    fn json_shape() {
        let exams = [ExamInfo {
            id: 7,
            started_at: at("2026-11-20T09:30:00Z"),
            score: Some(50.0),
            max_score: Some(100.0),
            passed: Some(false),
        }];
        let progress = summarize(&labs(), &lessons(), &[], &[], &exams, now());
        let json = serde_json::to_value(&progress).expect("serializable");
        assert_eq!(json["last_activity"], "2026-11-20T09:30:00Z");
        assert_eq!(json["last_exam"]["started_at"], "2026-11-20T09:30:00Z");
        assert_eq!(json["last_exam"]["percent"], 50);
        assert_eq!(json["domains"][1]["domain"], "cluster-architecture");
        assert_eq!(json["domains"][1]["mastery"], serde_json::Value::Null);
        assert_eq!(json["next"][0]["kind"], "weak-domain-lab");
        let empty = serde_json::to_value(run(&[], &[])).expect("serializable");
        assert_eq!(empty["last_activity"], serde_json::Value::Null);
        assert_eq!(empty["next"][0]["kind"], "first-steps");
    }

    #[test]
    fn bars() {
        assert_eq!(bar(50, 10), "█████░░░░░");
        assert_eq!(bar(0, 4), "░░░░");
        assert_eq!(bar(100, 3), "███");
        assert_eq!(bar(33, 10), "███░░░░░░░");
        assert_eq!(bar(35, 10), "████░░░░░░");
        assert_eq!(bar(200, 4), "████");
        assert_eq!(bar(80, 0), "");
    }
}
