//! Human output: a header line per finding, then a miette snippet with the
//! labels, the note and the help.
//!
//! Snippets are drawn from an [`Excerpt`] of the file (the lines around the
//! spans, long lines cut to a window), never from a copy of the whole file.
//! Everything taken from a rule file or a file name is made safe to print
//! first ([`sanitize`]); when drawing a file's snippets fails, that file's
//! findings are shown as header lines only and the rest of the report
//! stands.

use super::excerpt::{Excerpt, Mark};
use super::{sanitize, Summary};
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::FileResult;
use crate::source::SourceFile;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use std::fmt::{self, Write};

/// Longest message shown in a header line, in characters.
const MAX_MESSAGE: usize = 1_000;
/// Longest note or help shown, in characters.
const MAX_BLOCK: usize = 4_000;

/// One diagnostic wrapped for miette.
struct Shown<'a> {
    d: &'a Diagnostic,
    excerpt: Excerpt,
    labels: Vec<LabeledSpan>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize::one_line(&self.d.message))
    }
}

impl fmt::Display for Shown<'_> {
    // The message is already in the header line above the snippet.
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Ok(())
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info | Severity::Hint => miette::Severity::Advice,
        })
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.excerpt)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

pub struct HumanOptions {
    pub color: bool,
    pub quiet: bool,
    pub width: usize,
}

fn header(d: &Diagnostic, color: bool) -> String {
    let sev = d.severity.as_str();
    let (on, off) = if color {
        let c = match d.severity {
            Severity::Error => "\x1b[1;31m",
            Severity::Warning => "\x1b[1;33m",
            Severity::Info => "\x1b[1;36m",
            Severity::Hint => "\x1b[1;32m",
        };
        (c, "\x1b[0m")
    } else {
        ("", "")
    };
    let what = d.pattern.as_deref().unwrap_or(d.check());
    format!(
        "{}:{}:{}  {on}{sev}[{}]{off} {}: {}",
        sanitize::one_line(&d.file),
        d.position.line,
        d.position.column,
        d.code,
        sanitize::one_line(what),
        sanitize::cap(&sanitize::terminal(&d.message), MAX_MESSAGE)
    )
}

/// The spans of a finding to draw: its own, then its labels.
fn marks(d: &Diagnostic) -> Vec<Mark> {
    let primary = Mark {
        span: d.span,
        position: d.position,
        label: d.pattern.clone().unwrap_or_else(|| d.check().to_string()),
        primary: true,
    };
    std::iter::once(primary)
        .chain(d.labels.iter().map(|l| Mark {
            span: l.span,
            position: l.position,
            label: l.message.clone(),
            primary: false,
        }))
        .collect()
}

/// The snippet of one finding, without miette's empty message line.
fn snippet(
    handler: &GraphicalReportHandler,
    src: &SourceFile,
    d: &Diagnostic,
    budget: usize,
) -> Option<String> {
    if src.text.is_empty() || d.span.end > src.text.len() {
        return None;
    }
    let (excerpt, labels) = Excerpt::build(src, &d.file, &marks(d), budget)?;
    let shown = Shown { d, excerpt, labels };
    let mut buf = String::new();
    handler.render_report(&mut buf, &shown).ok()?;
    let body = buf.trim_start_matches([' ', '\n']);
    let body = body
        .split_once('\n')
        .filter(|(first, _)| visible(first).trim().chars().count() <= 2)
        .map(|(_, rest)| rest)
        .unwrap_or(body);
    Some(body.trim_end().to_string())
}

/// All findings of one file.
fn render_file(
    out: &mut String,
    r: &FileResult,
    handler: &GraphicalReportHandler,
    opts: &HumanOptions,
) {
    let budget = opts.width.saturating_sub(12).max(40);
    for d in &r.diagnostics {
        let _ = writeln!(out, "{}", header(d, opts.color));
        if opts.quiet {
            continue;
        }
        if let Some(body) = r
            .source
            .as_ref()
            .and_then(|src| snippet(handler, src, d, budget))
        {
            out.push_str(&body);
            out.push('\n');
        }
        if let Some(n) = &d.note {
            let n = sanitize::cap(&sanitize::terminal(n), MAX_BLOCK).into_owned();
            push_block(out, "note", &wrap(&n, opts.width.saturating_sub(10)));
        }
        if let Some(h) = &d.help {
            push_block(
                out,
                "help",
                &sanitize::cap(&sanitize::terminal(h), MAX_BLOCK),
            );
        }
        out.push('\n');
    }
}

/// The findings of a file whose snippets could not be drawn: header lines
/// and a note saying so.
fn plain_file(out: &mut String, r: &FileResult, color: bool) {
    for d in &r.diagnostics {
        let _ = writeln!(out, "{}", header(d, color));
    }
    let _ = writeln!(
        out,
        "  = note: the snippets of {} could not be drawn; the findings above are complete\n",
        sanitize::one_line(&r.path)
    );
}

pub fn render(results: &[FileResult], summary: &Summary, opts: &HumanOptions) -> String {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    for r in results {
        let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut s = String::new();
            render_file(&mut s, r, &handler, opts);
            s
        }));
        match drawn {
            Ok(s) => out.push_str(&s),
            Err(_) => plain_file(&mut out, r, opts.color),
        }
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{} in {} ({} checked), {}{} in {} ms",
        plural(summary.findings, "finding"),
        plural(summary.files, "file"),
        plural(summary.rules, "rule"),
        plural(summary.errors, "error"),
        if summary.skipped > 0 {
            format!(
                ", {} skipped (not {})",
                plural(summary.skipped, "file"),
                if summary.skipped == 1 {
                    "a rule"
                } else {
                    "rules"
                }
            )
        } else {
            String::new()
        },
        summary.elapsed_ms
    );
    sanitize::workflow_commands(&out).into_owned()
}

/// `  = note: first line` with following lines aligned under the text.
fn push_block(out: &mut String, label: &str, text: &str) {
    let pad = " ".repeat(label.len() + 6);
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "  = {label}: {line}");
        } else if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
}

/// Wrap prose at `width` columns (words are never split).
fn wrap(text: &str, width: usize) -> String {
    let width = width.max(40);
    let mut out = String::new();
    let mut col = 0;
    for word in text.split_whitespace() {
        let n = word.chars().count();
        if col > 0 && col + 1 + n > width {
            out.push('\n');
            col = 0;
        } else if col > 0 {
            out.push(' ');
            col += 1;
        }
        out.push_str(word);
        col += n;
    }
    out
}

/// `s` without ANSI colour sequences (`ESC [ ... m`).
fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::lint::FileStatus;
    use crate::source::Span;

    fn diag(file: &str, message: &str, span: Span, src: &SourceFile) -> Diagnostic {
        Diagnostic {
            code: crate::checks::Code::KnownFpPattern,
            pattern: Some("irc-client".into()),
            severity: Severity::Warning,
            message: message.into(),
            note: Some("n\u{1b}[2J".into()),
            help: Some("h\u{9b}".into()),
            file: file.into(),
            format: None,
            rule: None,
            span,
            position: Position::resolve(src, span),
            labels: Vec::new(),
            suggestion: None,
            key: String::new(),
        }
    }

    fn result(diags: Vec<Diagnostic>, src: SourceFile) -> FileResult {
        FileResult {
            path: "a.yml".into(),
            source: Some(src),
            format: None,
            status: FileStatus::Checked(1),
            diagnostics: diags,
        }
    }

    fn opts() -> HumanOptions {
        HumanOptions {
            color: false,
            quiet: false,
            width: 100,
        }
    }

    #[test]
    fn nothing_unsafe_and_no_workflow_command_at_a_line_start() {
        let src = SourceFile::new("a.yml", "p: 6667\n");
        let d = diag(
            "::add-mask::x.yml",
            "m\n::stop-commands::t \u{1b}]0;title\u{7}",
            Span::new(3, 7),
            &src,
        );
        let r = vec![result(vec![d], src)];
        let out = render(&r, &Summary::from_results(&r, 0), &opts());
        assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out}");
        for line in out.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
        }
        assert!(out.contains("\\x3a:add-mask::x.yml:1:4"), "{out}");
        assert!(out.contains("\\x1b]0;title\\x07"), "{out}");
        assert!(out.contains("= note: n\\x1b[2J"), "{out}");
        assert!(out.contains("= help: h\\x9b"), "{out}");
    }

    #[test]
    fn long_messages_are_cut() {
        let src = SourceFile::new("a.yml", "p: 6667\n");
        let d = diag("a.yml", &"m".repeat(50_000), Span::new(3, 7), &src);
        let r = vec![result(vec![d], src)];
        let out = render(&r, &Summary::from_results(&r, 0), &opts());
        assert!(out.len() < 5_000, "{}", out.len());
        assert!(out.contains("(49000 more characters)"));
    }

    #[test]
    fn the_plain_form_keeps_every_finding() {
        let src = SourceFile::new("a.yml", "p: 6667\nq: 7000\n");
        let a = diag("a.yml", "first", Span::new(3, 7), &src);
        let b = diag("a.yml", "second", Span::new(11, 15), &src);
        let r = result(vec![a, b], src);
        let mut out = String::new();
        plain_file(&mut out, &r, false);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "a.yml:1:4  warning[RL201] irc-client: first");
        assert_eq!(lines[1], "a.yml:2:4  warning[RL201] irc-client: second");
        assert!(lines[2].contains("could not be drawn"), "{out}");
    }
}
