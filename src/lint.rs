//! The linting pipeline: read → sniff → parse → resolve concepts → checks.

use crate::checks::{self, known_fp_pattern};
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::format;
use crate::knowledge::Knowledge;
use crate::rule::{Format, ParseIssue};
use crate::source::{SourceFile, Span};
use std::path::Path;

/// What linting one file produced.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The path as shown in output.
    pub path: String,
    /// The file's text, when it could be read (reporters quote it).
    pub source: Option<SourceFile>,
    pub format: Option<Format>,
    pub status: FileStatus,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Parsed and checked; the number of rules in it.
    Checked(usize),
    /// Not a rule file (found while walking a directory).
    Skipped,
    /// Unreadable or unparseable.
    Failed,
}

/// Options for linting, independent of the command line.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    pub environment: known_fp_pattern::Environment,
}

/// Turn a parser issue into a diagnostic.
pub fn issue_diagnostic(
    file: &SourceFile,
    display: &str,
    format: Option<Format>,
    issue: &ParseIssue,
) -> Diagnostic {
    let name = checks::find(issue.code)
        .map(|c| c.name)
        .unwrap_or("parse-error");
    let span = clamp(issue.span, file.text.len());
    Diagnostic {
        code: issue.code,
        check: name,
        pattern: None,
        severity: issue.severity,
        message: issue.message.clone(),
        note: None,
        help: issue.help.clone(),
        file: display.to_string(),
        format,
        rule: None,
        span,
        position: Position::resolve(file, span),
        labels: Vec::new(),
        suggestion: None,
        key: format!("{}|{}", issue.code, issue.message),
    }
}

fn clamp(span: Span, len: usize) -> Span {
    let start = span.start.min(len);
    Span::new(start, span.end.clamp(start, len))
}

/// An error about a file that has no text to point into (unreadable).
pub fn file_error(
    display: &str,
    code: &'static str,
    message: String,
    help: Option<String>,
) -> Diagnostic {
    let name = checks::find(code).map(|c| c.name).unwrap_or("parse-error");
    Diagnostic {
        code,
        check: name,
        pattern: None,
        severity: Severity::Error,
        message: message.clone(),
        note: None,
        help,
        file: display.to_string(),
        format: None,
        rule: None,
        span: Span::default(),
        position: Position {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            offset: 0,
            length: 0,
        },
        labels: Vec::new(),
        suggestion: None,
        key: format!("{code}|{message}"),
    }
}

/// Decode file bytes: UTF-8 text, or an RL001 diagnostic.
pub fn decode(display: &str, bytes: Vec<u8>) -> Result<String, Box<Diagnostic>> {
    if bytes.contains(&0) {
        return Err(Box::new(file_error(
            display,
            "RL001",
            "binary file (contains NUL bytes), not a rule".into(),
            Some("exclude it with `--exclude`".into()),
        )));
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let sf = SourceFile::new(display, prefix);
            let lc = sf.line_col(valid);
            let mut d = file_error(
                display,
                "RL001",
                format!(
                    "invalid UTF-8 at line {}, column {} (byte {valid})",
                    lc.line, lc.column
                ),
                Some("save the file as UTF-8".into()),
            );
            d.position.line = lc.line;
            d.position.column = lc.column;
            d.position.end_line = lc.line;
            d.position.end_column = lc.column;
            d.position.offset = valid;
            Err(Box::new(d))
        }
    }
}

/// Lint one file's text. `explicit` files are checked even when their
/// content does not look like a rule.
pub fn lint_source(
    knowledge: &Knowledge,
    opts: &LintOptions,
    file: SourceFile,
    display: &str,
    explicit: bool,
) -> FileResult {
    let fmt = match format::sniff(&file.text) {
        Some(f) => f,
        None if explicit => {
            if file.text.trim().is_empty() {
                let d = file_error(
                    display,
                    "RL012",
                    "the file is empty".into(),
                    Some("write a rule or remove the file".into()),
                );
                return FileResult {
                    path: display.into(),
                    source: Some(file),
                    format: None,
                    status: FileStatus::Failed,
                    diagnostics: vec![d],
                };
            }
            format::guess_by_extension(file.path(), &file.text)
        }
        None => {
            return FileResult {
                path: display.into(),
                source: Some(file),
                format: None,
                status: FileStatus::Skipped,
                diagnostics: Vec::new(),
            }
        }
    };
    let parsed =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| format::parse(fmt, &file)));
    let mut parsed = match parsed {
        Ok(p) => p,
        Err(_) => {
            let d = file_error(
                display,
                "RL004",
                "internal error while parsing this file; please report it".into(),
                None,
            );
            return FileResult {
                path: display.into(),
                source: Some(file),
                format: Some(fmt),
                status: FileStatus::Failed,
                diagnostics: vec![d],
            };
        }
    };
    let mut diags: Vec<Diagnostic> = parsed
        .issues
        .iter()
        .map(|i| issue_diagnostic(&file, display, Some(fmt), i))
        .collect();
    if parsed.rules.is_empty() && !diags.iter().any(|d| d.severity == Severity::Error) {
        diags.push(file_error(
            display,
            "RL012",
            format!("no {} rule found in this file", fmt.as_str()),
            None,
        ));
    }
    let failed = diags.iter().any(|d| d.severity == Severity::Error);
    let ctx = known_fp_pattern::Context {
        knowledge,
        environment: &opts.environment,
    };
    for rule in &mut parsed.rules {
        if let Some(l) = &mut rule.logic {
            knowledge.fields.resolve(rule.schema, l);
        }
    }
    let mut findings = Vec::new();
    for rule in &parsed.rules {
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            known_fp_pattern::check(&ctx, &file, rule, display)
        }));
        match found {
            Ok(ds) => findings.extend(ds),
            Err(_) => diags.push(file_error(
                display,
                "RL004",
                "internal error while checking this rule; please report it".into(),
                None,
            )),
        }
    }
    diags.extend(crate::suggest::stage::render(
        &parsed.rules,
        &file,
        findings,
    ));
    if file.text.contains("rulelint") {
        let names = crate::config::Names::new(knowledge);
        crate::suppress::apply(&file, display, Some(fmt), &names.all(), !failed, &mut diags);
    }
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    FileResult {
        path: display.into(),
        format: Some(fmt),
        status: if failed {
            FileStatus::Failed
        } else {
            FileStatus::Checked(parsed.rules.len())
        },
        source: Some(file),
        diagnostics: diags,
    }
}

/// Read and lint one path.
pub fn lint_path(
    knowledge: &Knowledge,
    opts: &LintOptions,
    path: &Path,
    display: &str,
    explicit: bool,
) -> FileResult {
    let failed = |d: Diagnostic| FileResult {
        path: display.into(),
        source: None,
        format: None,
        status: FileStatus::Failed,
        diagnostics: vec![d],
    };
    if path.is_dir() {
        return failed(file_error(
            display,
            "RL001",
            "is a directory, not a rule file".into(),
            None,
        ));
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return failed(file_error(
                display,
                "RL001",
                format!("cannot read the file: {e}"),
                None,
            ))
        }
    };
    match decode(display, bytes) {
        Ok(text) => lint_source(
            knowledge,
            opts,
            SourceFile::new(path, text),
            display,
            explicit,
        ),
        Err(d) => failed(*d),
    }
}
