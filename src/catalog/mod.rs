//! The lab catalog and the lessons: loaded from the files embedded at build time (or from
//! `CKALAB_CATALOG=<dir>`), and validated as a whole before any command uses them.

pub mod check;
pub mod command_line;
pub mod curriculum;
mod error;
pub mod lab;
pub mod layout;
pub mod lesson;
pub mod part;
pub mod quiz;
pub mod step;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

pub use curriculum::Curriculum;
pub use error::{CatalogError, CatalogErrors};
use lab::Variant;
pub use lab::{BackendKind, Domain, Lab, SANDBOX_LIMITS};
pub use layout::{NodeLayout, Ports};
pub use lesson::Lesson;
pub use quiz::Question;
use step::Step;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
}

/// Environment variable naming a catalog directory (holding `labs/` and `content/`) to load
/// instead of the embedded one: for lab authors and tests.
pub const CATALOG_ENV: &str = "CKALAB_CATALOG";

/// What to do about a lab without another valid fix than its solution.
const LEARNER_FIXES_HINT: &str = "add at least one other valid fix, as the command line a learner types in `ckalab shell` (a different command, path or spelling than the solution)";

/// A kind cluster config from `kind-configs/<name>.yaml`, as built into the binary.
pub fn kind_config(name: &str) -> Option<&'static str> {
    let path = format!("kind-configs/{name}.yaml");
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, text)| *text)
}

/// The names of the built-in kind cluster configs.
pub fn kind_config_names() -> Vec<&'static str> {
    embedded::FILES
        .iter()
        .filter_map(|(p, _)| p.strip_prefix("kind-configs/")?.strip_suffix(".yaml"))
        .collect()
}

#[derive(Debug)]
pub struct Catalog {
    labs: Vec<Lab>,
    lessons: Vec<Lesson>,
    questions: Vec<Question>,
    curriculum: Curriculum,
}

impl Catalog {
    /// Loads the catalog named by `CKALAB_CATALOG`, or else the embedded one.
    pub fn load() -> Result<Catalog, CatalogErrors> {
        match std::env::var_os(CATALOG_ENV) {
            Some(dir) if !dir.is_empty() => Catalog::from_dir(Path::new(&dir)),
            _ => Catalog::from_files(
                embedded::FILES
                    .iter()
                    .map(|(path, text)| (path.to_string(), text.to_string())),
            ),
        }
    }

    /// Loads `labs/*/lab.yaml` (with the files beside it) and `content/lessons/*.md` under `dir`.
    pub fn from_dir(dir: &Path) -> Result<Catalog, CatalogErrors> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        let mut read = |rel: String| match std::fs::read_to_string(dir.join(&rel)) {
            Ok(text) => files.push((rel, text)),
            Err(err) => errors.push(CatalogError::at(&rel, 1, format!("cannot read it: {err}"))),
        };
        for entry in list_dir(&dir.join("labs")) {
            if dir.join("labs").join(&entry).is_dir() {
                read(format!("labs/{entry}/lab.yaml"));
                for file in files_under(dir, &format!("labs/{entry}")) {
                    if file != format!("labs/{entry}/lab.yaml") {
                        read(file);
                    }
                }
            }
        }
        for entry in list_dir(&dir.join("content/lessons")) {
            if entry.ends_with(".md") {
                read(format!("content/lessons/{entry}"));
            }
        }
        read(curriculum::FILE.to_string());
        for entry in list_dir(&dir.join("content/quiz")) {
            if entry.ends_with(".yaml") {
                read(format!("content/quiz/{entry}"));
            }
        }
        if files.is_empty() {
            errors.push(
                CatalogError::at(
                    &dir.display().to_string(),
                    1,
                    "no labs or lessons found here",
                )
                .hint(format!(
                    "{CATALOG_ENV} must name a directory holding labs/ and content/"
                )),
            );
        }
        if !errors.is_empty() {
            return Err(CatalogErrors(errors));
        }
        Catalog::from_files(files)
    }

    /// Parses and validates a catalog given as (path relative to the catalog root, text).
    /// Files other than `labs/<id>/lab.yaml` and the files beside it, `content/lessons/<id>.md`
    /// and `content/quiz/<lesson>.yaml` are ignored.
    pub fn from_files(
        files: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Catalog, CatalogErrors> {
        let mut errors = Vec::new();
        let mut labs = Vec::new();
        let mut lessons = Vec::new();
        let mut questions = Vec::new();
        let mut lab_texts = HashMap::new();
        // The files beside each lab.yaml, by folder: (path inside the folder, text).
        let mut lab_files: HashMap<String, Vec<(String, String)>> = HashMap::new();
        // Folders whose lab.yaml did not parse: already reported, so links to them are not.
        let mut unparsed_labs = BTreeSet::new();
        let mut curriculum_text = None;
        for (path, text) in files {
            let parts: Vec<&str> = path.split('/').collect();
            match parts.as_slice() {
                ["labs", folder, "lab.yaml"] => match serde_saphyr::from_str::<Lab>(&text) {
                    Ok(lab) if lab.id != *folder => errors.push(
                        CatalogError::at(
                            &path,
                            field_line(&text, "id"),
                            format!("the id `{}` is not the folder's name `{folder}`", lab.id),
                        )
                        .hint("a lab's id and its folder under labs/ must be the same"),
                    ),
                    Ok(lab) => {
                        lab_texts.insert(lab.id.clone(), (path, text));
                        labs.push(lab);
                    }
                    Err(err) => {
                        unparsed_labs.insert(folder.to_string());
                        errors.push(CatalogError::yaml(&path, &err, 0));
                    }
                },
                ["labs", folder, rest @ ..] if !rest.is_empty() => lab_files
                    .entry(folder.to_string())
                    .or_default()
                    .push((rest.join("/"), text)),
                ["content", "curriculum.yaml"] => curriculum_text = Some(text),
                ["content", "lessons", name] if name.ends_with(".md") => {
                    let id = name.trim_end_matches(".md");
                    match Lesson::parse(&path, id, &text) {
                        Ok(lesson) => lessons.push(lesson),
                        Err(err) => errors.push(err),
                    }
                }
                ["content", "quiz", name] if name.ends_with(".yaml") => {
                    match quiz::parse(&path, name.trim_end_matches(".yaml"), &text) {
                        Ok(parsed) => questions.extend(parsed),
                        Err(problems) => errors.extend(problems),
                    }
                }
                _ => {}
            }
        }
        for lab in &mut labs {
            let (path, text) = &lab_texts[&lab.id];
            let shipped = lab_files.get(&lab.id).map_or(&[][..], Vec::as_slice);
            errors.extend(fill_lab_files(lab, shipped, path, text));
        }
        labs.sort_by(|a, b| a.id.cmp(&b.id));
        lessons.sort_by(|a, b| a.id.cmp(&b.id));
        let parsed = match &curriculum_text {
            Some(text) => Curriculum::parse(text),
            None => Err(CatalogError::at(
                curriculum::FILE,
                1,
                "the curriculum map is missing",
            )),
        };
        let curriculum = parsed.unwrap_or_else(|err| {
            errors.push(
                err.hint("content/curriculum.yaml maps the CKA competencies to lessons and labs"),
            );
            Curriculum::default()
        });
        let curriculum_text = curriculum_text.unwrap_or_default();
        let catalog = Catalog {
            labs,
            lessons,
            questions,
            curriculum,
        };
        for lab in &catalog.labs {
            let (path, text) = &lab_texts[&lab.id];
            errors.extend(catalog.validate_lab(lab, path, text));
        }
        errors.extend(catalog.validate_lessons(&unparsed_labs));
        errors.extend(catalog.validate_quiz());
        errors.extend(catalog.validate_curriculum(&curriculum_text, &unparsed_labs));
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(CatalogErrors(errors))
        }
    }

    pub fn labs(&self) -> &[Lab] {
        &self.labs
    }

    pub fn lessons(&self) -> &[Lesson] {
        &self.lessons
    }

    /// The CKA competencies, with the lessons and labs that cover each.
    pub fn curriculum(&self) -> &Curriculum {
        &self.curriculum
    }

    /// The quiz bank, in file (lesson) order.
    pub fn questions(&self) -> &[Question] {
        &self.questions
    }

    pub fn lab(&self, id: &str) -> Option<&Lab> {
        self.labs.iter().find(|lab| lab.id == id)
    }

    pub fn lab_ids(&self) -> impl Iterator<Item = &str> {
        self.labs.iter().map(|lab| lab.id.as_str())
    }

    /// Finds a lesson by id or alias, ignoring case.
    pub fn lesson(&self, name: &str) -> Option<&Lesson> {
        let name = name.to_ascii_lowercase();
        self.lessons
            .iter()
            .find(|lesson| lesson.names().any(|n| n == name))
    }

    /// Every name a lesson answers to, for suggestions.
    pub fn lesson_names(&self) -> impl Iterator<Item = &str> {
        self.lessons.iter().flat_map(Lesson::names)
    }

    fn validate_lab(&self, lab: &Lab, path: &str, text: &str) -> Vec<CatalogError> {
        let mut errors = Vec::new();
        let mut problem = |field: &str, message: String, hint: &str| {
            errors.push(CatalogError::at(path, field_line(text, field), message).hint(hint));
        };
        if !(1..=5).contains(&lab.difficulty) {
            problem(
                "difficulty",
                format!("difficulty {} is outside 1–5", lab.difficulty),
                "use 1 (warm-up) to 5 (hard exam task)",
            );
        }
        if !(1..=120).contains(&lab.minutes) {
            problem(
                "minutes",
                format!("{} minutes is not a task's length", lab.minutes),
                "use 1 to 120",
            );
        }
        if lab.backends.is_empty()
            || lab.backends.iter().collect::<BTreeSet<_>>().len() != lab.backends.len()
        {
            problem(
                "backends",
                "backends must list kind and/or sandbox, each once".into(),
                "for example: backends: [sandbox, kind]",
            );
        }
        if self
            .lesson(&lab.lesson)
            .is_none_or(|lesson| lesson.id != lab.lesson)
        {
            let known: Vec<&str> = self.lessons.iter().map(|l| l.id.as_str()).collect();
            problem(
                "lesson",
                format!(
                    "no lesson `{}` in content/lessons/{}",
                    lab.lesson,
                    crate::suggest::did_you_mean(&lab.lesson, known)
                ),
                "name a lesson by its file stem: content/lessons/<lesson>.md",
            );
        }
        for (field, empty) in [
            ("title", lab.title.trim().is_empty()),
            ("symptom", lab.symptom.trim().is_empty()),
            ("task", lab.task.trim().is_empty()),
            (
                "hints",
                lab.hints.is_empty() || lab.hints.iter().any(|h| h.trim().is_empty()),
            ),
            ("setup", lab.setup.is_empty() && lab.variants.is_empty()),
            ("checks", lab.checks.is_empty()),
        ] {
            if empty {
                problem(
                    field,
                    format!("`{field}` is empty"),
                    "every lab needs a title, symptom, task, hints, setup and checks",
                );
            }
        }
        for path in lab.every_step().flat_map(|step| {
            let paths = step.paths();
            paths.written.into_iter().chain(paths.read)
        }) {
            if let Some(reason) = step::path_problem(path) {
                problem(
                    "setup",
                    reason,
                    "name node paths as on a kubeadm node: /etc/kubernetes/..., /var/lib/...",
                );
            }
        }
        for reason in lab.object_problems() {
            problem(
                "setup",
                reason,
                "objects need apiVersion (optional for the usual kinds), kind and metadata.name",
            );
        }
        if lab.variants.is_empty() {
            if lab.solution.is_empty() {
                problem(
                    "solution",
                    "the lab has no solution steps".into(),
                    "write the canonical fix as steps",
                );
            }
            if lab.near_miss.is_empty() {
                problem(
                    "near_miss",
                    "the lab has no near_miss steps".into(),
                    "write a plausible incomplete fix the checks must reject",
                );
            }
            if lab.verify_broken.is_empty() {
                problem(
                    "verify_broken",
                    "nothing proves the break took effect".into(),
                    "list the checks that must fail right after setup",
                );
            }
            if lab.learner_fixes.is_empty() {
                problem(
                    "learner_fixes",
                    "the lab has no learner_fixes".into(),
                    LEARNER_FIXES_HINT,
                );
            }
        } else {
            let mut seen = BTreeSet::new();
            for variant in &lab.variants {
                if !seen.insert(&variant.id) {
                    problem(
                        "variants",
                        format!("variant `{}` is defined twice", variant.id),
                        "give each variant its own id",
                    );
                }
                if variant.solution.is_empty() && lab.solution.is_empty() {
                    problem(
                        "variants",
                        format!("variant `{}` has no solution steps", variant.id),
                        "write the fix for this variant",
                    );
                }
                if variant.near_miss.is_empty() && lab.near_miss.is_empty() {
                    problem(
                        "variants",
                        format!("variant `{}` has no near_miss steps", variant.id),
                        "write a plausible incomplete fix",
                    );
                }
                if variant.verify_broken.is_empty() && lab.verify_broken.is_empty() {
                    problem(
                        "variants",
                        format!("nothing proves variant `{}` took effect", variant.id),
                        "list checks that must fail after its setup",
                    );
                }
                if variant.learner_fixes.is_empty() && lab.learner_fixes.is_empty() {
                    problem(
                        "variants",
                        format!("variant `{}` has no learner_fixes", variant.id),
                        LEARNER_FIXES_HINT,
                    );
                }
            }
        }
        // Every node a lab may meet: kind at the pinned 1.35 and at an older 1.31 with etcd
        // 3.5 (other files and tools), and the sandbox.
        for backend in &lab.backends {
            let layouts = match backend {
                BackendKind::Kind => vec![
                    NodeLayout::kind("ckalab"),
                    NodeLayout::kind_versions("ckalab", 31, 5),
                ],
                BackendKind::Sandbox => {
                    vec![NodeLayout::sandbox(
                        Path::new("/sandbox/node"),
                        Ports::KUBEADM,
                    )]
                }
            };
            for layout in layouts {
                let texts = std::iter::once(("task", &lab.task))
                    .chain(lab.hints.iter().map(|hint| ("hints", hint)));
                for (field, text) in texts {
                    if let Err(err) = layout.render(text) {
                        problem(
                            field,
                            format!("the {field} text does not render for {backend}: {err}"),
                            "variables: backend, node, root, ports.{apiserver,etcd_client,etcd_peer}, etcd_restore_tool, kubelet_endpoint_file",
                        );
                    }
                }
            }
        }
        errors
    }

    /// Every question links a lesson that exists, ids are unique, and every lesson has
    /// questions.
    fn validate_quiz(&self) -> Vec<CatalogError> {
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for question in &self.questions {
            let path = format!("content/quiz/{}.yaml", question.lesson);
            if self.lessons.iter().all(|l| l.id != question.lesson) {
                errors.push(
                    CatalogError::at(&path, 1, format!("no lesson `{}` exists", question.lesson))
                        .hint("quiz files are named after a lesson in content/lessons/"),
                );
            }
            if !seen.insert(question.id.as_str()) {
                errors.push(
                    CatalogError::at(
                        &path,
                        1,
                        format!("the question id `{}` is used twice", question.id),
                    )
                    .hint("answers are stored by id: give each question its own"),
                );
            }
        }
        for lesson in &self.lessons {
            if self.questions.iter().all(|q| q.lesson != lesson.id) {
                errors.push(
                    CatalogError::at(
                        &format!("content/lessons/{}.md", lesson.id),
                        1,
                        "the lesson has no quiz questions",
                    )
                    .hint(format!("write content/quiz/{}.yaml", lesson.id)),
                );
            }
        }
        errors
    }

    /// Every competency is taught by a lesson, and every lesson and lab it names exists.
    fn validate_curriculum(
        &self,
        text: &str,
        unparsed_labs: &BTreeSet<String>,
    ) -> Vec<CatalogError> {
        let mut errors = Vec::new();
        let mut ids = BTreeSet::new();
        for competency in &self.curriculum.competencies {
            let line = line_containing(text, &format!("id: {}", competency.id));
            let problem = |message: String, hint: &str| {
                CatalogError::at(curriculum::FILE, line, message).hint(hint)
            };
            if !ids.insert(&competency.id) {
                errors.push(problem(
                    format!("competency `{}` is listed twice", competency.id),
                    "give each competency its own id",
                ));
            }
            if competency.lessons.is_empty() {
                errors.push(problem(
                    format!("competency `{}` has no lesson", competency.id),
                    "every competency of the curriculum must be taught: name a lesson or write one",
                ));
            }
            for lesson in &competency.lessons {
                if !self.lessons.iter().any(|l| &l.id == lesson) {
                    errors.push(problem(
                        format!(
                            "competency `{}` names `{lesson}`, which is not a lesson{}",
                            competency.id,
                            crate::suggest::did_you_mean(
                                lesson,
                                self.lessons.iter().map(|l| l.id.as_str())
                            )
                        ),
                        "name lessons by their file name under content/lessons/",
                    ));
                }
            }
            for lab in &competency.labs {
                if self.lab(lab).is_none() && !unparsed_labs.contains(lab) {
                    errors.push(problem(
                        format!(
                            "competency `{}` names `{lab}`, which is not a lab{}",
                            competency.id,
                            crate::suggest::did_you_mean(lab, self.lab_ids())
                        ),
                        "name labs by their folder under labs/",
                    ));
                }
            }
        }
        errors
    }

    fn validate_lessons(&self, unparsed_labs: &BTreeSet<String>) -> Vec<CatalogError> {
        let mut errors = Vec::new();
        let mut owners: HashMap<&str, &str> = HashMap::new();
        for lesson in &self.lessons {
            let path = format!("content/lessons/{}.md", lesson.id);
            for name in lesson.unknown_placeholders() {
                errors.push(
                    CatalogError::at(
                        &path,
                        lesson_line(lesson, &format!("{{{{ {name} }}}}")),
                        format!("`{{{{ {name} }}}}` is not a lesson variable"),
                    )
                    .hint(format!(
                        "lessons may use {}",
                        lesson::LESSON_VARIABLES
                            .map(|v| format!("{{{{ {v} }}}}"))
                            .join(", ")
                    )),
                );
            }
            if lesson.practise_labs.is_empty() {
                errors.push(
                    CatalogError::at(
                        &path,
                        lesson_line(lesson, lesson::PRACTISE_HEADING),
                        "\"Practise it\" names no lab",
                    )
                    .hint("add a line like: - `ckalab start <lab>`: what it practises"),
                );
            }
            for lab in &lesson.practise_labs {
                if self.lab(lab).is_none() && !unparsed_labs.contains(lab) {
                    errors.push(
                        CatalogError::at(
                            &path,
                            lesson_line(lesson, &format!("ckalab start {lab}")),
                            format!(
                                "\"Practise it\" links `{lab}`, which is not a lab{}",
                                crate::suggest::did_you_mean(lab, self.lab_ids())
                            ),
                        )
                        .hint("link labs by their id under labs/"),
                    );
                }
            }
            for name in lesson.names() {
                if let Some(other) = owners.insert(name, &lesson.id) {
                    errors.push(
                        CatalogError::at(
                            &path,
                            3,
                            format!("the name `{name}` also belongs to lesson `{other}`"),
                        )
                        .hint("every lesson id and alias must be unique"),
                    );
                }
            }
        }
        errors
    }
}

/// The line of a top-level YAML field, for errors found after parsing.
fn field_line(text: &str, field: &str) -> usize {
    let prefix = format!("{field}:");
    line_index(text, |l| l.starts_with(&prefix)).map_or(1, |i| i + 1)
}

/// The line of a lesson's file holding `needle` (counting the front matter).
fn lesson_line(lesson: &Lesson, needle: &str) -> usize {
    match line_index(&lesson.body, |l| l.contains(needle)) {
        Some(i) => i + lesson.body_line,
        None => 1,
    }
}

/// The line (from 1) of `text` holding `needle`, for errors found after parsing; 1 when none
/// does.
pub(crate) fn line_containing(text: &str, needle: &str) -> usize {
    line_index(text, |l| l.contains(needle)).map_or(1, |i| i + 1)
}

/// The index of the first line that `matches`.
fn line_index(text: &str, matches: impl Fn(&str) -> bool) -> Option<usize> {
    text.lines().position(matches)
}

/// Gives each `copy_lab_files` step the files of its folder, as node paths under its `to`.
fn fill_lab_files(
    lab: &mut Lab,
    shipped: &[(String, String)],
    path: &str,
    text: &str,
) -> Vec<CatalogError> {
    let mut errors = Vec::new();
    let steps = lab
        .setup
        .iter_mut()
        .chain(&mut lab.solution)
        .chain(&mut lab.near_miss)
        .chain(lab.variants.iter_mut().flat_map(Variant::steps_mut));
    for step in steps {
        if let Step::CopyLabFiles { from, to, files } = step {
            let folder = format!("{}/", from.trim_end_matches('/'));
            *files = shipped
                .iter()
                .filter_map(|(rel, text)| {
                    let inside = rel.strip_prefix(&folder)?;
                    Some((
                        format!("{}/{inside}", to.trim_end_matches('/')),
                        text.clone(),
                    ))
                })
                .collect();
            if files.is_empty() {
                errors.push(
                    CatalogError::at(
                        path,
                        field_line(text, "copy_lab_files"),
                        format!("labs/{}/{folder} holds no files to copy", lab.id),
                    )
                    .hint("put the files in that folder beside lab.yaml"),
                );
            }
        }
    }
    errors
}

/// Every file under `rel` (a folder of the catalog at `dir`), as catalog paths.
fn files_under(dir: &Path, rel: &str) -> Vec<String> {
    list_dir(&dir.join(rel))
        .into_iter()
        .filter(|name| !name.starts_with('.'))
        .flat_map(|name| {
            let path = format!("{rel}/{name}");
            if dir.join(&path).is_dir() {
                files_under(dir, &path)
            } else {
                vec![path]
            }
        })
        .collect()
}

fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
