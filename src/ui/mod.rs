//! All output goes through `Ui`: it owns colour (NO_COLOR, CLICOLOR_FORCE, `--color`), the
//! terminal width, Markdown rendering and JSON, so commands stay free of terminal details and
//! tests see deterministic text.

mod markdown;
mod table;

use std::fmt::Display;
use std::io::{self, IsTerminal, Write};

use console::Style;
use serde::Serialize;

pub use table::Table;

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour a terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` colours pipes too.
    #[default]
    Auto,
    Always,
    Never,
}

pub struct Ui {
    color: bool,
    width: usize,
    out: io::Stdout,
}

impl Ui {
    pub fn new(choice: ColorChoice) -> Ui {
        let stdout = io::stdout();
        let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto if set("NO_COLOR") => false,
            ColorChoice::Auto => set("CLICOLOR_FORCE") || stdout.is_terminal(),
        };
        let width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.parse().ok())
            .or_else(|| {
                stdout
                    .is_terminal()
                    .then(|| console::Term::stdout().size().1 as usize)
            })
            .unwrap_or(100)
            .clamp(40, 120);
        Ui {
            color,
            width,
            out: stdout,
        }
    }

    pub fn color(&self) -> bool {
        self.color
    }

    pub fn width(&self) -> usize {
        self.width
    }

    /// Prints one line.
    pub fn line(&mut self, text: impl Display) -> io::Result<()> {
        writeln!(self.out, "{text}")
    }

    /// Prints a value as pretty JSON: the stable `--json` output.
    pub fn json(&mut self, value: &impl Serialize) -> io::Result<()> {
        let text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
        writeln!(self.out, "{text}")
    }

    /// Renders Markdown for the terminal.
    pub fn markdown(&mut self, text: &str) -> io::Result<()> {
        let rendered = markdown::render(text, self.width, self.color);
        self.out.write_all(rendered.as_bytes())?;
        self.out.flush()
    }

    pub fn table(&mut self, table: &Table) -> io::Result<()> {
        self.out.write_all(table.render().as_bytes())
    }

    /// Applies a style when colour is on.
    pub fn paint(&self, style: &Style, text: impl Display) -> String {
        style
            .clone()
            .force_styling(self.color)
            .apply_to(text)
            .to_string()
    }

    pub fn bold(&self, text: impl Display) -> String {
        self.paint(&Style::new().bold(), text)
    }

    pub fn dim(&self, text: impl Display) -> String {
        self.paint(&Style::new().dim(), text)
    }

    pub fn green(&self, text: impl Display) -> String {
        self.paint(&Style::new().green(), text)
    }

    pub fn red(&self, text: impl Display) -> String {
        self.paint(&Style::new().red(), text)
    }

    pub fn yellow(&self, text: impl Display) -> String {
        self.paint(&Style::new().yellow(), text)
    }

    /// Prints an error to stderr: "error: …" then the rest of its lines as they are.
    pub fn error(&self, err: &dyn Display) {
        let text = err.to_string();
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let mut stderr = io::stderr().lock();
        let _ = writeln!(
            stderr,
            "{} {first}",
            self.paint(&Style::new().red().bold(), "error:")
        );
        if !rest.is_empty() {
            let _ = writeln!(stderr, "{rest}");
        }
    }
}

/// Text that came from the store or a file, safe to print: control characters (an escape
/// sequence that would repaint the terminal) shown escaped, as `\u{1b}`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}
