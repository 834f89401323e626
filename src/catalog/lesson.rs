//! A lesson: a Markdown page in `content/lessons/<id>.md` with a small YAML front matter.

use serde::Deserialize;

use super::error::CatalogError;

/// The heading every lesson ends with; its list links the labs that practise the lesson.
pub const PRACTISE_HEADING: &str = "## Practise it";

#[derive(Debug, Clone)]
pub struct Lesson {
    /// The file stem: `content/lessons/etcd.md` is `etcd`.
    pub id: String,
    /// The first `# ` heading of the page.
    pub title: String,
    pub summary: String,
    pub domain: super::Domain,
    /// Other names a learner may type (`apiserver` for `kube-apiserver`).
    pub aliases: Vec<String>,
    /// The Markdown page without its front matter.
    pub body: String,
    /// The file's line number of the body's first line, for error messages.
    pub body_line: usize,
    /// Lab ids named as `ckalab start <id>` in the "Practise it" section.
    pub practise_labs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    /// The CKA domain the lesson's knowledge scores in (quiz accuracy counts there).
    domain: super::Domain,
    summary: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// The only `{{ name }}` placeholders a lesson may use: what differs between the nodes a
/// learner practises on. Anything else in double braces is left alone by `render`.
pub const LESSON_VARIABLES: [&str; 3] = [
    "node_description",
    "etcd_restore_tool",
    "kubelet_endpoint_file",
];

/// The values of `LESSON_VARIABLES` on a node, in the same order.
fn lesson_values(layout: &super::NodeLayout) -> [&str; 3] {
    [
        &layout.description,
        &layout.etcd_restore_tool,
        &layout.kubelet_endpoint_file,
    ]
}

impl Lesson {
    /// The body with the node's file and tool names filled in.
    pub fn render(&self, layout: &super::NodeLayout) -> String {
        LESSON_VARIABLES
            .iter()
            .zip(lesson_values(layout))
            .fold(self.body.clone(), |body, (name, value)| {
                body.replace(&format!("{{{{ {name} }}}}"), value)
            })
    }

    /// `{{ name }}` placeholders in the body that `render` would not fill.
    pub fn unknown_placeholders(&self) -> Vec<String> {
        self.body
            .split("{{ ")
            .skip(1)
            .filter_map(|rest| rest.split_once(" }}").map(|(name, _)| name))
            .filter(|name| !LESSON_VARIABLES.contains(name))
            .map(String::from)
            .collect()
    }

    /// Parses a lesson file. Semantic checks that need the rest of the catalog (do the linked
    /// labs exist?) happen in the catalog.
    pub fn parse(file: &str, id: &str, text: &str) -> Result<Lesson, CatalogError> {
        let rest = text.strip_prefix("---\n").ok_or_else(|| {
            CatalogError::at(
                file,
                1,
                "a lesson starts with a `---` line opening its front matter",
            )
            .hint("begin the file with ---, then `domain:`, `summary:` and `aliases:`, then ---")
        })?;
        let end = rest.find("\n---\n").ok_or_else(|| {
            CatalogError::at(file, 1, "the front matter is never closed")
                .hint("add a line `---` after the front matter")
        })?;
        let front: FrontMatter = serde_saphyr::from_str(&rest[..end + 1])
            // Line numbers inside the front matter are off by the opening `---` line.
            .map_err(|err| CatalogError::yaml(file, &err, 1))?;
        let body = rest[end + "\n---\n".len()..]
            .trim_start_matches('\n')
            .to_string();
        let body_line = |needle: &str| {
            text.lines()
                .position(|l| l.starts_with(needle))
                .map_or(1, |i| i + 1)
        };

        let title = body
            .lines()
            .find_map(|l| l.strip_prefix("# "))
            .ok_or_else(|| {
                CatalogError::at(file, body_line(""), "the page has no `# ` title line")
                    .hint("start the body with `# <title>`")
            })?
            .trim()
            .to_string();
        let practise = body
            .split_once(PRACTISE_HEADING)
            .map(|(_, section)| section)
            .ok_or_else(|| {
                CatalogError::at(
                    file,
                    text.lines().count(),
                    "the lesson has no \"Practise it\" section",
                )
                .hint(format!(
                    "end the page with `{PRACTISE_HEADING}` and `ckalab start <lab>` lines"
                ))
            })?;
        if practise.contains("\n## ") || practise.contains("\n# ") {
            return Err(CatalogError::at(
                file,
                body_line(PRACTISE_HEADING),
                "\"Practise it\" must be the last section",
            )
            .hint("move the section to the end of the page"));
        }
        let practise_labs = practise
            .split("ckalab start ")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect::<String>()
            })
            .collect();

        let body_line = text.lines().count() - body.lines().count() + 1;
        Ok(Lesson {
            body_line,
            id: id.to_string(),
            title,
            summary: front.summary,
            domain: front.domain,
            aliases: front.aliases,
            body,
            practise_labs,
        })
    }

    /// The names this lesson answers to: its id and its aliases.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}
