//! Configuration errors: file, line, column, the source line and a help.

use crate::source::SourceFile;
use std::fmt;
use std::ops::Range;

/// An error in a configuration file (or a file it names), with position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
    /// The source line, for a caret display.
    pub source_line: Option<String>,
    /// Width of the caret (characters).
    pub width: usize,
}

impl ConfigError {
    pub(crate) fn plain(file: &str, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
            help: None,
            source_line: None,
            width: 0,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message)?,
            _ => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let (Some(src), Some(l), Some(c)) = (&self.source_line, self.line, self.column) {
            let gutter = l.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{l} | {src}\n{:gutter$} | {}{}",
                "",
                "",
                " ".repeat(c.saturating_sub(1)),
                "^".repeat(self.width.max(1))
            )?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

/// Join errors for printing.
#[cfg(test)]
pub fn format_errors(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn error_at(
    display: &str,
    source: &SourceFile,
    span: Option<Range<usize>>,
    message: String,
    help: Option<String>,
) -> ConfigError {
    let mut e = ConfigError::plain(display, message);
    e.help = help;
    if let Some(sp) = span {
        let lc = source.line_col(sp.start);
        e.line = Some(lc.line);
        e.column = Some(lc.column);
        if let Some(start) = source.index.line_start(lc.line) {
            let rest = source.text.get(start..).unwrap_or("");
            let line = rest.split(['\n', '\r']).next().unwrap_or("");
            let end = (start + line.len()).min(sp.end.max(sp.start));
            let width = source
                .text
                .get(sp.start.min(end)..end)
                .map(|s| s.chars().count())
                .unwrap_or(1);
            e.source_line = Some(line.to_string());
            e.width = width.max(1);
        }
    }
    e
}
