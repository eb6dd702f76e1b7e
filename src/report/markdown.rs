//! `--format markdown`: a summary for `$GITHUB_STEP_SUMMARY` or a pull
//! request comment: tables of findings by pattern and by file, then each
//! finding with its suggested exclusion in a fenced block.

use super::Summary;
use crate::baseline::{self, Entry};
use crate::checks::Code;
use crate::config::Workspace;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{FileResult, FileStatus};
use crate::rule::Language;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Stop adding details past this size (a pull request comment holds 65536
/// characters).
const BUDGET: usize = 60_000;

/// Escape text for a table cell: `|` and line breaks.
pub fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace("\r\n", " ")
        .replace(['\n', '\r'], " ")
}

/// Text as an inline code span, whatever backticks it holds.
pub fn code(s: &str) -> String {
    let longest = longest_run(s, '`');
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn longest_run(s: &str, ch: char) -> usize {
    let mut best = 0;
    let mut n = 0;
    for c in s.chars() {
        if c == ch {
            n += 1;
            best = best.max(n);
        } else {
            n = 0;
        }
    }
    best
}

/// A fenced code block that the content cannot close.
pub fn fenced(lang: &str, text: &str) -> String {
    let fence = "`".repeat(longest_run(text, '`').max(2) + 1);
    let mut s = format!("{fence}{lang}\n{text}");
    if !text.ends_with('\n') {
        s.push('\n');
    }
    s.push_str(&fence);
    s.push('\n');
    s
}

/// The info string of a fenced block for a rule language.
pub fn fence_lang(l: Language) -> &'static str {
    match l {
        Language::Sigma => "yaml",
        Language::Kql => "kql",
        Language::Eql => "eql",
        Language::Esql => "esql",
        Language::Lucene => "lucene",
        Language::Spl => "spl",
    }
}

fn plural(n: usize, w: &str) -> String {
    format!("{n} {w}{}", if n == 1 { "" } else { "s" })
}

fn is_error(d: &Diagnostic) -> bool {
    d.is_fatal()
}

/// Render the summary. `stale` are baseline entries that no longer occur.
pub fn render(
    results: &[FileResult],
    summary: &Summary,
    ws: &Workspace,
    stale: &[Entry],
) -> String {
    let mut out = String::from("## rulelint\n\n");
    let _ = writeln!(
        out,
        "**{}** and {} in {} ({} checked).\n",
        plural(summary.findings, "finding"),
        plural(summary.errors, "error"),
        plural(summary.files, "file"),
        plural(summary.rules, "rule"),
    );
    let all: Vec<(&FileResult, &Diagnostic)> = results
        .iter()
        .flat_map(|r| r.diagnostics.iter().map(move |d| (r, d)))
        .collect();
    if all.is_empty() {
        out.push_str("No findings.\n");
    } else {
        // By pattern (or check, for diagnostics without a pattern).
        let mut by_pattern: BTreeMap<(Code, &str, Option<&str>), (usize, Severity)> =
            BTreeMap::new();
        for (_, d) in &all {
            let e = by_pattern
                .entry((d.code, d.check(), d.pattern.as_deref()))
                .or_insert((0, d.severity));
            e.0 += 1;
            e.1 = e.1.max(d.severity);
        }
        out.push_str("### Findings by pattern\n\n| Check | Pattern | Severity | Count |\n| --- | --- | --- | ---: |\n");
        for ((c, name, pattern), (n, sev)) in &by_pattern {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {n} |",
                cell(&format!("{c} {name}")),
                pattern.map(|p| cell(&code(p))).unwrap_or_default(),
                sev
            );
        }
        out.push_str(
            "\n### Findings by file\n\n| File | Findings | Errors |\n| --- | ---: | ---: |\n",
        );
        for r in results {
            if r.diagnostics.is_empty() {
                continue;
            }
            let errors = r.diagnostics.iter().filter(|d| is_error(d)).count();
            let _ = writeln!(
                out,
                "| {} | {} | {errors} |",
                cell(&code(&ws.rel(&r.path))),
                r.diagnostics.len() - errors
            );
        }
        out.push_str("\n### Details\n\n");
        let mut shown = 0;
        for (r, d) in &all {
            if out.len() > BUDGET {
                break;
            }
            detail(&mut out, &ws.rel(&r.path), d);
            shown += 1;
        }
        if shown < all.len() {
            let _ = writeln!(
                out,
                "… and {} more not shown here; run `rulelint check` for all of them.\n",
                all.len() - shown
            );
        }
    }
    if !stale.is_empty() {
        let _ = writeln!(
            out,
            "### Fixed since the baseline\n\n{} no longer reported; update the baseline with `--write-baseline`.\n",
            match stale.iter().map(|e| e.count).sum::<usize>() {
                1 => "1 recorded finding is".to_string(),
                n => format!("{n} recorded findings are"),
            }
        );
        for e in stale {
            let _ = writeln!(out, "* {}", baseline::describe(e).replace('\n', " "));
        }
        out.push('\n');
    }
    let skipped_failed = results
        .iter()
        .filter(|r| r.status == FileStatus::Failed)
        .count();
    if skipped_failed > 0 {
        let _ = writeln!(
            out,
            "_{} could not be checked._",
            plural(skipped_failed, "file")
        );
    }
    out
}

fn detail(out: &mut String, file: &str, d: &Diagnostic) {
    let what = match &d.pattern {
        Some(p) => format!("{} {}", d.code, code(p)),
        None => format!("{} {}", d.code, d.check()),
    };
    let loc = format!("{file}:{}:{}", d.position.line, d.position.column);
    let _ = writeln!(out, "#### {} {} — {what}\n", d.severity, code(&loc));
    if let Some(t) = d.rule.as_ref().and_then(|r| r.title.as_deref()) {
        let _ = writeln!(out, "Rule: {}\n", code(t));
    }
    let _ = writeln!(out, "{}\n", d.message.replace('\n', " "));
    if let Some(n) = &d.note {
        let _ = writeln!(out, "> {}\n", n.replace('\n', "\n> "));
    }
    match (&d.suggestion, &d.help) {
        (Some(s), help) => {
            let summary = help
                .as_deref()
                .and_then(|h| h.lines().next())
                .unwrap_or("suggested exclusion")
                .trim_end_matches(':');
            let _ = writeln!(out, "Suggested exclusion ({summary}):\n");
            out.push_str(&fenced(fence_lang(s.language), &s.text));
            if s.has_placeholders {
                out.push_str("\nReplace the `<placeholders>`, or set the matching `[environment]` facts in `rulelint.toml`.\n");
            }
            out.push('\n');
        }
        (None, Some(h)) => {
            let _ = writeln!(out, "Help: {}\n", h.replace('\n', " "));
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Position, RuleRef, Suggestion};
    use crate::source::Span;
    use std::path::PathBuf;

    fn diag(pattern: Option<&str>, message: &str, lang: Option<Language>) -> Diagnostic {
        Diagnostic {
            code: if pattern.is_some() {
                Code::KnownFpPattern
            } else {
                Code::InvalidYaml
            },
            pattern: pattern.map(str::to_string),
            severity: if pattern.is_some() {
                Severity::Warning
            } else {
                Severity::Error
            },
            message: message.into(),
            note: pattern.map(|_| "Clients pick ephemeral ports.".to_string()),
            help: Some("exclude server replies:\nfilter".into()),
            file: "x".into(),
            format: None,
            rule: Some(RuleRef {
                id: None,
                title: Some("A | B".into()),
            }),
            span: Span::default(),
            position: Position {
                line: 3,
                column: 5,
                end_line: 3,
                end_column: 9,
                offset: 0,
                length: 0,
            },
            labels: Vec::new(),
            suggestion: lang.map(|l| Suggestion {
                language: l,
                text: "filter_x:\n    SourcePort: 80\n".into(),
                fix: crate::diagnostic::Fix {
                    edits: Vec::new(),
                    applicability: crate::diagnostic::Applicability::DisplayOnly,
                },
                has_placeholders: true,
            }),
            key: String::new(),
        }
    }

    fn results() -> Vec<FileResult> {
        vec![
            FileResult {
                path: "a|b.yml".into(),
                source: None,
                format: None,
                status: FileStatus::Checked(1),
                diagnostics: vec![
                    diag(
                        Some("ephemeral-port"),
                        "`DestinationPort` matches `6667|x`",
                        Some(Language::Sigma),
                    ),
                    diag(Some("ephemeral-port"), "second", Some(Language::Spl)),
                ],
            },
            FileResult {
                path: "bad.yml".into(),
                source: None,
                format: None,
                status: FileStatus::Failed,
                diagnostics: vec![diag(None, "invalid YAML", None)],
            },
        ]
    }

    fn ws() -> Workspace {
        Workspace {
            cwd: PathBuf::from("/r"),
            root: PathBuf::from("/r"),
        }
    }

    #[test]
    fn tables_and_details() {
        let r = results();
        let s = Summary::from_results(&r, 0);
        let md = render(&r, &s, &ws(), &[]);
        assert!(
            md.starts_with(
                "## rulelint\n\n**2 findings** and 1 error in 2 files (1 rule checked).\n"
            ),
            "{md}"
        );
        assert!(
            md.contains("| RL201 known-fp-pattern | `ephemeral-port` | warning | 2 |"),
            "{md}"
        );
        assert!(md.contains("| RL002 invalid-yaml |  | error | 1 |"), "{md}");
        assert!(md.contains("| `a\\|b.yml` | 2 | 0 |"), "{md}");
        assert!(md.contains("| `bad.yml` | 0 | 1 |"), "{md}");
        assert!(
            md.contains("#### warning `a|b.yml:3:5` — RL201 `ephemeral-port`"),
            "{md}"
        );
        assert!(md.contains("Suggested exclusion (exclude server replies):\n\n```yaml\nfilter_x:\n    SourcePort: 80\n```\n"), "{md}");
        assert!(md.contains("```spl\n"), "{md}");
        assert!(md.contains("> Clients pick ephemeral ports."));
        assert!(md.contains("Help: exclude server replies: filter"));
        assert!(md.contains("_1 file could not be checked._"));
        // Every table row has the same number of unescaped pipes.
        for line in md
            .lines()
            .filter(|l| l.starts_with("| RL") || l.starts_with("| `"))
        {
            let pipes = line.replace("\\|", "").matches('|').count();
            assert!(pipes == 5 || pipes == 4, "{line}");
        }
    }

    #[test]
    fn empty_and_stale() {
        let s = Summary::default();
        let stale = vec![Entry {
            file: "rules/x.yml".into(),
            rule: None,
            code: "RL201".into(),
            pattern: Some("ephemeral-port".into()),
            key: "ephemeral-port|DestinationPort|6667".into(),
            count: 1,
        }];
        let md = render(&[], &s, &ws(), &stale);
        assert!(md.contains("No findings."));
        assert!(
            md.contains("1 recorded finding is no longer reported"),
            "{md}"
        );
        assert!(md.contains("* rules/x.yml: RL201 ephemeral-port `6667`"));
    }

    #[test]
    fn fences_and_code_spans_cannot_be_broken() {
        assert_eq!(fenced("yaml", "a ``` b"), "````yaml\na ``` b\n````\n");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }

    #[test]
    fn long_reports_are_cut() {
        let many: Vec<Diagnostic> = (0..2000)
            .map(|i| {
                diag(
                    Some("ephemeral-port"),
                    &format!("finding {i}"),
                    Some(Language::Sigma),
                )
            })
            .collect();
        let r = vec![FileResult {
            path: "a.yml".into(),
            source: None,
            format: None,
            status: FileStatus::Checked(1),
            diagnostics: many,
        }];
        let md = render(&r, &Summary::from_results(&r, 0), &ws(), &[]);
        assert!(md.len() < 65_536, "{}", md.len());
        assert!(md.contains("more not shown here"));
    }
}
