use std::fmt;

/// A problem in a catalog file, located by file and line, with what to do about it.
#[derive(Debug, Clone, thiserror::Error)]
pub struct CatalogError {
    pub file: String,
    pub line: usize,
    pub message: String,
    pub hint: Option<String>,
    /// The offending lines, as the YAML parser quotes them.
    pub snippet: Option<String>,
}

impl CatalogError {
    pub fn at(file: &str, line: usize, message: impl Into<String>) -> CatalogError {
        CatalogError {
            file: file.to_string(),
            line,
            message: message.into(),
            hint: None,
            snippet: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CatalogError {
        self.hint = Some(hint.into());
        self
    }

    /// Wraps a YAML error. `line_offset` is added to the parser's lines when the YAML was cut
    /// out of a larger file (a lesson's front matter).
    pub fn yaml(file: &str, err: &serde_saphyr::Error, line_offset: usize) -> CatalogError {
        let line = err.location().map_or(1, |l| l.line() as usize) + line_offset;
        // The parser's first line reads "error: line L column C: <message>", then a snippet.
        let rendered = err.to_string();
        let mut lines = rendered.lines();
        let first = lines.next().unwrap_or_default();
        let message = first
            .strip_prefix("error: ")
            .unwrap_or(first)
            .split_once(": ")
            .filter(|(pos, _)| pos.starts_with("line "))
            .map_or(first, |(_, msg)| msg)
            .to_string();
        let snippet = (line_offset == 0)
            .then(|| {
                lines
                    .map(|l| l.replace("<input>", file))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .filter(|s| !s.trim().is_empty());
        let hint = if message.contains("unknown variant") {
            "use one of the kinds listed above; DESIGN.md and src/catalog/{step,check}.rs describe each"
        } else if message.contains("unknown field") {
            "remove the field or fix its spelling (fields are listed above)"
        } else if message.contains("missing field") {
            "add the field"
        } else {
            "fix the YAML at that line"
        };
        CatalogError {
            file: file.to_string(),
            line,
            message,
            hint: Some(hint.to_string()),
            snippet,
        }
    }
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found in a catalog, so a lab author fixes them in one pass.
#[derive(Debug, Clone, thiserror::Error)]
pub struct CatalogErrors(pub Vec<CatalogError>);

impl fmt::Display for CatalogErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the lab catalog is invalid ({} problem{}):",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for err in &self.0 {
            write!(f, "\n\n{err}")?;
        }
        Ok(())
    }
}
