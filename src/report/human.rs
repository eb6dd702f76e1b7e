//! Human output: a header line per finding, then a miette snippet with the
//! labels, the note and the help.

use super::Summary;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::FileResult;
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use std::fmt::{self, Write};

/// One diagnostic wrapped for miette.
struct Shown<'a> {
    d: &'a Diagnostic,
    src: Option<NamedSource<String>>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
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
        self.src.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.src.as_ref()?;
        let primary = LabeledSpan::new_primary_with_span(
            Some(match &self.d.pattern {
                Some(p) => p.clone(),
                None => self.d.check().to_string(),
            }),
            SourceSpan::new(self.d.span.start.into(), self.d.span.len()),
        );
        let rest = self.d.labels.iter().map(|l| {
            LabeledSpan::new_with_span(
                Some(l.message.clone()),
                SourceSpan::new(l.span.start.into(), l.span.len()),
            )
        });
        Some(Box::new(std::iter::once(primary).chain(rest)))
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
        "{}:{}:{}  {on}{sev}[{}]{off} {what}: {}",
        d.file, d.position.line, d.position.column, d.code, d.message
    )
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
        for d in &r.diagnostics {
            let _ = writeln!(out, "{}", header(d, opts.color));
            if opts.quiet {
                continue;
            }
            let src = r
                .source
                .as_ref()
                .filter(|s| d.span.end <= s.text.len() && !s.text.is_empty())
                .map(|s| NamedSource::new(d.file.clone(), s.text.clone()));
            if src.is_some() {
                let shown = Shown { d, src };
                let mut buf = String::new();
                if handler.render_report(&mut buf, &shown).is_ok() {
                    // Drop miette's empty message line; the header says it.
                    let body = buf.trim_start_matches([' ', '\n']);
                    let body = body
                        .split_once('\n')
                        .filter(|(first, _)| visible(first).trim().chars().count() <= 2)
                        .map(|(_, rest)| rest)
                        .unwrap_or(body);
                    out.push_str(body.trim_end());
                    out.push('\n');
                }
            }
            if let Some(n) = &d.note {
                push_block(&mut out, "note", &wrap(n, opts.width.saturating_sub(10)));
            }
            if let Some(h) = &d.help {
                push_block(&mut out, "help", h);
            }
            out.push('\n');
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
    out
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
