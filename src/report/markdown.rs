//! `--format markdown`: a summary for `$GITHUB_STEP_SUMMARY` or a pull
//! request comment: tables of findings by pattern and by file, then each
//! finding with its suggested exclusion in a fenced block.
//!
//! Text from rule files and configuration never becomes live Markdown:
//! values are code spans or fenced blocks that their content cannot close
//! (line breaks inside a code span become spaces, so a blank line cannot end
//! it), prose is backslash-escaped, and a word that GitHub would turn into a
//! mention, an issue reference or a link is shown as code. Every value is
//! capped, and the whole document stays below GitHub's limit of 65,536
//! characters for a comment, saying what was left out.

use super::{sanitize, Context, Summary};
use crate::baseline::Entry;
use crate::checks::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::{FileResult, FileStatus};
use crate::rule::Language;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The whole document stays below this many bytes (a pull request comment
/// holds 65,536 characters).
pub const LIMIT: usize = 60_000;
/// The tables stop adding rows past this size, leaving room for details.
const TABLE_BUDGET: usize = 20_000;
/// Longest value shown in a code span, in characters.
const MAX_VALUE: usize = 500;
/// Longest prose (a message, a note) shown, in characters.
const MAX_PROSE: usize = 2_000;
/// Longest suggested exclusion shown, in characters.
const MAX_BLOCK: usize = 4_000;

/// Line breaks as spaces, unsafe characters as visible escapes.
fn flat(s: &str) -> String {
    sanitize::terminal(&s.replace("\r\n", " ").replace(['\n', '\r'], " ")).into_owned()
}

/// Escape text for a table cell: `|` (with an odd number of backslashes
/// before it, so that no backslash of the text can cancel the escape) and
/// line breaks.
pub fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut run = 0;
    for c in flat(s).chars() {
        if c == '|' {
            out.push_str(if run % 2 == 0 { "\\" } else { "\\\\" });
        }
        run = if c == '\\' { run + 1 } else { 0 };
        out.push(c);
    }
    out
}

/// Text as an inline code span, whatever backticks or line breaks it
/// holds; long text is cut.
pub fn code(s: &str) -> String {
    let s = flat(&sanitize::cap(s, MAX_VALUE));
    let longest = longest_run(&s, '`');
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

/// Could GitHub turn this word into a mention, a reference or a link?
fn linkish(w: &str) -> bool {
    let l = w.to_ascii_lowercase();
    w.contains(['@', '#']) || l.contains("://") || l.contains("www.") || l.contains("mailto:")
}

/// Text as Markdown prose on one line: every character with a meaning in
/// CommonMark or GitHub's Markdown escaped, and words GitHub would link
/// shown as code.
pub fn prose(s: &str) -> String {
    prose_part(s, true)
}

/// As [`prose`]; block syntax (`#`, `-`, `1.`) is escaped only for text at
/// the start of a line.
fn prose_part(s: &str, line_start: bool) -> String {
    let s = flat(&sanitize::cap(s, MAX_PROSE));
    let mut out = String::with_capacity(s.len() + 16);
    for (i, word) in s.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if linkish(word) {
            out.push_str(&code(word));
            continue;
        }
        let first = line_start && i == 0;
        let mut digits = first;
        for (j, c) in word.chars().enumerate() {
            // Block syntax at the start of a line: `- x`, `# x`, `1. x`.
            let block =
                first && ((j == 0 && "+-=#>".contains(c)) || (digits && j > 0 && ".)".contains(c)));
            digits = digits && c.is_ascii_digit();
            if block || "\\`*_[]<>!|~&{}$".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// A message: its `code` parts as code spans, the rest as prose.
fn message(s: &str) -> String {
    let s = sanitize::cap(s, MAX_PROSE);
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if part.is_empty() {
            continue;
        }
        if i % 2 == 1 {
            out.push_str(&code(part));
        } else {
            out.push_str(&prose_part(part, out.is_empty()));
        }
    }
    out
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

/// A fenced code block that the content cannot close; long text is cut.
pub fn fenced(lang: &str, text: &str) -> String {
    let text = sanitize::terminal(&sanitize::cap(text, MAX_BLOCK))
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    let fence = "`".repeat(longest_run(&text, '`').max(2) + 1);
    let mut s = format!("{fence}{lang}\n{text}");
    if !text.ends_with('\n') {
        s.push('\n');
    }
    s.push_str(&fence);
    s.push('\n');
    s
}

/// What the help says after the exclusion, paragraph by paragraph, each
/// marked prose or not: a paragraph of one line ending a sentence is prose
/// (the Kibana exception, the placeholder advice), as is a line ending with
/// `:` that introduces the lines after it; anything else is more text to
/// paste (a filter macro), shown as code.
pub fn help_after<'a>(help: &'a str, exclusion: &str) -> Vec<(bool, &'a str)> {
    let exclusion = exclusion.trim_end();
    let rest = match help.find(exclusion) {
        Some(i) if !exclusion.is_empty() => &help[i + exclusion.len()..],
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for p in rest
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
    {
        match p.split_once('\n') {
            None => out.push((p.trim_end().ends_with(['.', '!', '?']), p)),
            // A line introducing code: `Or define the filter macro:`.
            Some((intro, code)) if intro.trim_end().ends_with(':') => {
                out.push((true, intro));
                out.push((false, code));
            }
            Some(_) => out.push((false, p)),
        }
    }
    out
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
pub fn render(results: &[FileResult], summary: &Summary, ctx: &Context, stale: &[Entry]) -> String {
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
    let mut cut = Vec::new();
    if all.is_empty() {
        out.push_str("No findings.\n");
    } else {
        tables(&mut out, results, &all, ctx, &mut cut);
        out.push_str("\n### Details\n\n");
        let mut shown = 0;
        for (r, d) in &all {
            let mut one = String::new();
            detail(&mut one, &ctx.rel(&r.path), d);
            if out.len() + one.len() > LIMIT - 4_000 {
                break;
            }
            out.push_str(&one);
            shown += 1;
        }
        if shown < all.len() {
            cut.push(format!(
                "the details of {} of {} findings",
                all.len() - shown,
                all.len()
            ));
        }
    }
    if !stale.is_empty() {
        stale_section(&mut out, stale, &mut cut);
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
    if !cut.is_empty() {
        let _ = writeln!(
            out,
            "\n_Not shown, to keep this summary below {LIMIT} characters: {}. Run `rulelint check` for the full report._",
            cut.join("; ")
        );
    }
    out
}

/// The tables by pattern and by file, cut when they grow too long.
fn tables(
    out: &mut String,
    results: &[FileResult],
    all: &[(&FileResult, &Diagnostic)],
    ctx: &Context,
    cut: &mut Vec<String>,
) {
    // By pattern (or check, for diagnostics without a pattern).
    let mut by_pattern: BTreeMap<(Code, &str, Option<&str>), (usize, Severity)> = BTreeMap::new();
    for (_, d) in all {
        let e = by_pattern
            .entry((d.code, d.check(), d.pattern.as_deref()))
            .or_insert((0, d.severity));
        e.0 += 1;
        e.1 = e.1.max(d.severity);
    }
    out.push_str("### Findings by pattern\n\n| Check | Pattern | Severity | Count |\n| --- | --- | --- | ---: |\n");
    let mut rows = 0;
    for ((c, name, pattern), (n, sev)) in &by_pattern {
        if out.len() > TABLE_BUDGET / 2 {
            break;
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {n} |",
            cell(&format!("{c} {name}")),
            pattern.map(|p| cell(&code(p))).unwrap_or_default(),
            sev
        );
        rows += 1;
    }
    if rows < by_pattern.len() {
        cut.push(format!(
            "{} of {} rows of the table by pattern",
            by_pattern.len() - rows,
            by_pattern.len()
        ));
    }
    out.push_str("\n### Findings by file\n\n| File | Findings | Errors |\n| --- | ---: | ---: |\n");
    let files: Vec<&FileResult> = results
        .iter()
        .filter(|r| !r.diagnostics.is_empty())
        .collect();
    let mut rows = 0;
    for r in &files {
        if out.len() > TABLE_BUDGET {
            break;
        }
        let errors = r.diagnostics.iter().filter(|d| is_error(d)).count();
        let _ = writeln!(
            out,
            "| {} | {} | {errors} |",
            cell(&code(&ctx.rel(&r.path))),
            r.diagnostics.len() - errors
        );
        rows += 1;
    }
    if rows < files.len() {
        cut.push(format!(
            "{} of {} rows of the table by file",
            files.len() - rows,
            files.len()
        ));
    }
}

fn stale_section(out: &mut String, stale: &[Entry], cut: &mut Vec<String>) {
    let _ = writeln!(
        out,
        "### Fixed since the baseline\n\n{} no longer reported; update the baseline with `--write-baseline`.\n",
        match stale.iter().map(|e| e.count).fold(0usize, usize::saturating_add) {
            1 => "1 recorded finding is".to_string(),
            n => format!("{n} recorded findings are"),
        }
    );
    let mut shown = 0;
    for e in stale {
        let value = e.key.rsplit('|').next().unwrap_or(&e.key);
        let times = if e.count > 1 {
            format!(" ({}x)", e.count)
        } else {
            String::new()
        };
        let line = format!(
            "* {}: {} {} {}{times}\n",
            code(&e.file),
            code(&e.code),
            code(e.pattern.as_deref().unwrap_or("")),
            code(value)
        );
        if out.len() + line.len() > LIMIT - 2_000 {
            break;
        }
        out.push_str(&line);
        shown += 1;
    }
    if shown < stale.len() {
        cut.push(format!(
            "{} of {} baseline entries that no longer occur",
            stale.len() - shown,
            stale.len()
        ));
    }
    out.push('\n');
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
    let _ = writeln!(out, "{}\n", message(&d.message));
    if let Some(n) = &d.note {
        let _ = writeln!(out, "> {}\n", prose(n));
    }
    match (&d.suggestion, &d.help) {
        (Some(s), help) => {
            let summary = help
                .as_deref()
                .and_then(|h| h.lines().next())
                .unwrap_or("suggested exclusion")
                .trim_end_matches(':');
            let _ = writeln!(out, "Suggested exclusion ({}):\n", prose(summary));
            out.push_str(&fenced(fence_lang(s.language), &s.text));
            let after = help
                .as_deref()
                .map(|h| help_after(h, &s.text))
                .unwrap_or_default();
            for (is_prose, p) in &after {
                out.push('\n');
                if *is_prose {
                    let _ = writeln!(out, "{}", message(p));
                } else {
                    out.push_str(&fenced(fence_lang(s.language), p));
                }
            }
            if s.has_placeholders && !after.iter().any(|(_, p)| p.contains("placeholder")) {
                out.push_str("\nReplace the `<placeholders>`, or set the matching `[environment]` facts in `rulelint.toml`.\n");
            }
            out.push('\n');
        }
        (None, Some(h)) => {
            let _ = writeln!(out, "Help: {}\n", message(h));
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Position, RuleRef, Suggestion};
    use crate::source::Span;

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
                proposal: None,
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

    fn ws() -> Context {
        Context::new("/r")
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
        assert!(
            md.contains("* `rules/x.yml`: `RL201` `ephemeral-port` `6667`"),
            "{md}"
        );
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
        assert!(md.contains("the details of "), "{}", &md[md.len() - 300..]);
    }

    #[test]
    fn code_spans_survive_line_breaks_and_backticks() {
        assert_eq!(code("a\n\n<img src=x>"), "`a  <img src=x>`");
        assert_eq!(code("x\r\ny"), "`x y`");
        assert_eq!(code("``"), "``` `` ```");
        assert_eq!(code(""), "`  `");
        assert!(code(&"v".repeat(10_000)).contains("more characters)"));
    }

    #[test]
    fn prose_is_inert() {
        assert_eq!(
            prose("see <img src=x> *b* [l](u) @octocat a#1 www.x.io http://e"),
            "see \\<img src=x\\> \\*b\\* \\[l\\](u) `@octocat` `a#1` `www.x.io` `http://e`"
        );
        assert_eq!(prose("- x"), "\\- x");
        assert_eq!(prose("12. x"), "12\\. x");
        assert_eq!(prose("1 x"), "1 x");
        assert_eq!(prose("a\n\nb"), "a  b");
        // A backtick in a value shifts the code parts; each part is still
        // either a code span or escaped prose.
        assert_eq!(message("`f` matches `a`b`: t"), "`f` matches `a`b`: t`");
        assert_eq!(message("`v` is `<b>`"), "`v` is `<b>`");
        assert_eq!(message("x`@me` <i>"), "x`@me` \\<i\\>");
    }

    #[test]
    fn cells_escape_pipes_whatever_backslashes_precede() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("a\\|b"), "a\\\\\\|b");
        assert_eq!(cell("a\\\\|b"), "a\\\\\\|b");
        assert_eq!(cell("rules\\a.yml"), "rules\\a.yml");
    }

    #[test]
    fn help_after_the_exclusion_is_prose_or_code() {
        let help = "exclude:\nand not x\n\nSet the fact `a`.\n\nOr define the macro:\n[m]\ndefinition = y\n\n[n]\nz\n\nFor a prebuilt Elastic rule, do this.";
        assert_eq!(
            help_after(help, "and not x\n"),
            vec![
                (true, "Set the fact `a`."),
                (true, "Or define the macro:"),
                (false, "[m]\ndefinition = y"),
                (false, "[n]\nz"),
                (true, "For a prebuilt Elastic rule, do this."),
            ]
        );
        assert!(help_after("other", "and not x").is_empty());
    }
}
