//! `--format github`: GitHub Actions workflow commands, which GitHub shows as
//! annotations on the pull request's changed lines:
//!
//! ```text
//! ::warning file=rules/x.yml,line=7,col=26,endLine=7,endColumn=30,title=RL201 ephemeral-port::message
//! ```
//!
//! Every value from a rule file is escaped the way the Actions runner
//! decodes it (`%` → `%25`, CR → `%0D`, LF → `%0A`; in properties also
//! `:` → `%3A` and `,` → `%2C`), so a rule title or value can never end the
//! command early or start another one (`::set-env`, `::add-mask`).

use super::{sanitize, Context, Summary};
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::FileResult;
use std::fmt::Write;

/// Escape a command's message.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escape a command property value: as a message, and `:` and `,` too.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Unsafe characters as visible escapes; line breaks are kept for
/// [`escape_data`] to encode.
fn safe(s: &str) -> String {
    s.split('\r')
        .map(sanitize::terminal)
        .collect::<Vec<_>>()
        .join("\r")
}

fn command(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "notice",
    }
}

/// One workflow command for one diagnostic.
pub fn annotation(d: &Diagnostic, file: &str) -> String {
    let what = d.pattern.as_deref().unwrap_or(d.check());
    let mut title = format!("{} {what}", d.code);
    if let Some(t) = d.rule.as_ref().and_then(|r| r.title.as_deref()) {
        title.push_str(&format!(" in {t}"));
    }
    let p = &d.position;
    let mut props = format!(
        "file={},line={},col={},endLine={}",
        escape_property(&safe(file)),
        p.line.max(1),
        p.column.max(1),
        p.end_line.max(p.line).max(1),
    );
    if p.end_line <= p.line {
        let _ = write!(props, ",endColumn={}", p.end_column.max(p.column).max(1));
    }
    let _ = write!(props, ",title={}", escape_property(&safe(&title)));
    let mut msg = safe(&d.message);
    if let Some(n) = &d.note {
        msg.push_str(&format!("\n\n{}", safe(n)));
    }
    if let Some(h) = &d.help {
        msg.push_str(&format!("\n\nhelp: {}", safe(h)));
    }
    format!("::{} {props}::{}", command(d.severity), escape_data(&msg))
}

/// Render all diagnostics as workflow commands, then a plain summary line.
pub fn render(results: &[FileResult], summary: &Summary, ctx: &Context) -> String {
    let mut out = String::new();
    for r in results {
        let file = ctx.rel(&r.path);
        for d in &r.diagnostics {
            out.push_str(&annotation(d, &file));
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "rulelint: {} finding{} in {} file{}, {} error{}",
        summary.findings,
        if summary.findings == 1 { "" } else { "s" },
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        summary.errors,
        if summary.errors == 1 { "" } else { "s" },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Position, RuleRef};
    use crate::lint::FileStatus;
    use crate::source::Span;
    use std::path::PathBuf;

    fn diag(title: &str, message: &str, severity: Severity) -> Diagnostic {
        Diagnostic {
            code: crate::checks::Code::KnownFpPattern,
            pattern: Some("ephemeral-port".into()),
            severity,
            message: message.into(),
            note: Some("Clients pick ephemeral ports.".into()),
            help: Some("exclude server replies:\nfilter:\n  SourcePort: 80".into()),
            file: "x".into(),
            format: None,
            rule: Some(RuleRef {
                id: None,
                title: Some(title.into()),
            }),
            span: Span::new(10, 14),
            position: Position {
                line: 7,
                column: 26,
                end_line: 7,
                end_column: 30,
                offset: 10,
                length: 4,
            },
            labels: Vec::new(),
            suggestion: None,
            key: String::new(),
        }
    }

    #[test]
    fn plain_annotation() {
        let a = annotation(
            &diag(
                "Odd port",
                "`DestinationPort` matches `6667`",
                Severity::Warning,
            ),
            "rules/a.yml",
        );
        assert_eq!(
            a,
            "::warning file=rules/a.yml,line=7,col=26,endLine=7,endColumn=30,title=RL201 ephemeral-port in Odd port::`DestinationPort` matches `6667`%0A%0AClients pick ephemeral ports.%0A%0Ahelp: exclude server replies:%0Afilter:%0A  SourcePort: 80"
        );
    }

    #[test]
    fn levels() {
        assert!(annotation(&diag("t", "m", Severity::Error), "f").starts_with("::error "));
        assert!(annotation(&diag("t", "m", Severity::Info), "f").starts_with("::notice "));
        assert!(annotation(&diag("t", "m", Severity::Hint), "f").starts_with("::notice "));
    }

    #[test]
    fn no_injection_from_titles_values_or_paths() {
        let evil_title = "x%0A::set-env name=PATH::/tmp\r\n::add-mask::y, a:b";
        let evil_value = "v%0A::set-env name=X::1\n::error::pwned,:";
        let d = diag(
            evil_title,
            &format!("`Image` matches `{evil_value}`"),
            Severity::Warning,
        );
        let a = annotation(&d, "rules/a,b:c\n::x.yml");
        // One line, one command.
        assert_eq!(a.lines().count(), 1, "{a}");
        assert!(!a.contains('\r') && !a.contains('\n'));
        // Only the leading `::` and the one separating properties from the
        // message remain.
        let (head, msg) = a
            .split_once("::")
            .and_then(|(_, rest)| rest.split_once("::"))
            .unwrap();
        assert!(!head.contains("::"));
        assert!(
            head.starts_with("warning file=rules/a%2Cb%3Ac%0A%3A%3Ax.yml,line=7"),
            "{head}"
        );
        assert!(head.contains("title=RL201 ephemeral-port in x%250A%3A%3Aset-env name=PATH%3A%3A/tmp%0D%0A%3A%3Aadd-mask%3A%3Ay%2C a%3Ab"), "{head}");
        // Property values hold no raw `,` or `:` beyond the separators.
        for kv in head.trim_start_matches("warning ").split(',') {
            let (k, v) = kv.split_once('=').unwrap();
            assert!(!v.contains(':'), "{k}={v}");
        }
        // In the message, a literal `%0A` becomes `%250A` (it decodes back
        // to the text `%0A`, not to a newline) and real newlines become
        // `%0A`: the runner sees one command, whatever the message holds.
        assert!(
            msg.contains("v%250A::set-env name=X::1%0A::error::pwned,:"),
            "{msg}"
        );
    }

    #[test]
    fn render_with_summary() {
        let ctx = Context::new("/r").with_files(["a.yml"], |s| PathBuf::from("/r/rules").join(s));
        let r = vec![FileResult {
            path: "a.yml".into(),
            source: None,
            format: None,
            status: FileStatus::Checked(1),
            diagnostics: vec![diag("t", "m", Severity::Warning)],
        }];
        let s = Summary::from_results(&r, 0);
        let out = render(&r, &s, &ctx);
        let lines: Vec<_> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("::warning file=rules/a.yml,"));
        assert_eq!(lines[1], "rulelint: 1 finding in 1 file, 0 errors");
    }

    #[test]
    fn multi_line_spans_omit_end_column() {
        let mut d = diag("t", "m", Severity::Warning);
        d.position.end_line = 9;
        let a = annotation(&d, "f");
        assert!(a.contains("line=7,col=26,endLine=9,title="), "{a}");
    }
}
