//! Inline suppressions in rule files:
//!
//! ```yaml
//! # rulelint: allow(ephemeral-port, RL201) -- replies from our NAT'd proxy
//! DestinationPort: 6667
//! ```
//!
//! A `#` comment whose text starts with `rulelint:` names check codes
//! (`RL201`), check names (`known-fp-pattern`) or pattern ids
//! (`ephemeral-port`), then optionally `-- reason`.
//!
//! * In the file's leading comment block it applies to the whole file.
//! * On a line of its own it applies to the next line that is not blank or a
//!   comment, and to what is nested under that line (a YAML mapping or list,
//!   a block scalar, a TOML multi-line string: the Elastic `query = '''`).
//! * At the end of a line it applies to that line and what is nested under it.
//!
//! An id that names nothing gets an `RL102 invalid-suppression` warning with
//! a did-you-mean; an id that suppresses no finding gets an
//! `RL101 unused-suppression` note, so stale suppressions get cleaned up.
//! Errors that stop a file from being checked cannot be suppressed.

use crate::checks::Code;
use crate::diagnostic::{Diagnostic, Position};
use crate::did_you_mean::did_you_mean;
use crate::rule::Format;
use crate::source::{SourceFile, Span};
use std::collections::BTreeSet;

/// What a suppression covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    File,
    /// 1-based, inclusive.
    Lines(usize, usize),
}

/// One `rulelint: allow(...)` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Each id with its span in the file.
    pub ids: Vec<(String, Span)>,
    pub scope: Scope,
    /// The whole comment, from `#`.
    pub comment: Span,
    pub reason: Option<String>,
}

/// A `rulelint:` comment that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub span: Span,
    pub message: String,
}

#[derive(Debug, Clone, Default)]
struct Line {
    start: usize,
    end: usize,
    indent: usize,
    /// No code on the line (blank or only a comment).
    no_code: bool,
    /// Inside a multi-line string or block scalar opened on an earlier line.
    in_string: bool,
    /// Offset of `#` of a comment.
    comment: Option<usize>,
    /// The code part, before any comment, ends with `:` (a YAML key whose
    /// value follows on the next lines).
    opens_mapping: bool,
    starts_dash: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Normal,
    /// Inside a TOML `'''` or `"""` string.
    Triple(&'static str),
    /// Inside a YAML block scalar whose key line has this indentation.
    Block(usize),
}

fn indent_of(s: &str) -> usize {
    s.bytes().take_while(|b| *b == b' ' || *b == b'\t').count()
}

/// Split the text into lines, classifying comments and string contents.
fn scan(text: &str, toml: bool) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut state = State::Normal;
    let mut pos = 0;
    for raw in text.split_inclusive('\n') {
        let start = pos;
        pos += raw.len();
        let body = raw.trim_end_matches(['\n', '\r']);
        let end = start + body.len();
        let indent = indent_of(body);
        let blank = body.trim().is_empty();
        let mut line = Line {
            start,
            end,
            indent,
            no_code: blank,
            ..Line::default()
        };
        match state {
            State::Triple(delim) => {
                line.in_string = true;
                line.no_code = true;
                if let Some(i) = body.find(delim) {
                    state = State::Normal;
                    // Anything after the closing delimiter is code again.
                    let rest = &body[i + delim.len()..];
                    scan_code(rest, start + i + delim.len(), toml, &mut line, &mut state);
                }
                lines.push(line);
                continue;
            }
            State::Block(ind) => {
                if blank || indent > ind {
                    line.in_string = true;
                    line.no_code = true;
                    lines.push(line);
                    continue;
                }
                state = State::Normal;
            }
            State::Normal => {}
        }
        scan_code(body, start, toml, &mut line, &mut state);
        lines.push(line);
    }
    lines
}

/// Scan the code of one line (or the rest of a line) in the normal state.
fn scan_code(body: &str, base: usize, toml: bool, line: &mut Line, state: &mut State) {
    let bytes = body.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    let mut code_end = bytes.len();
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(b'"') => {
                if b == b'\\' {
                    i += 2;
                    continue;
                }
                if b == b'"' {
                    quote = None;
                }
            }
            Some(_) => {
                if b == b'\'' {
                    if !toml && bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    quote = None;
                }
            }
            None => {
                if toml && (bytes[i..].starts_with(b"'''") || bytes[i..].starts_with(b"\"\"\"")) {
                    let delim = if b == b'\'' { "'''" } else { "\"\"\"" };
                    match body.get(i + 3..).and_then(|r| r.find(delim)) {
                        Some(j) => {
                            i += 3 + j + 3;
                            continue;
                        }
                        None => {
                            *state = State::Triple(delim);
                            code_end = bytes.len();
                            break;
                        }
                    }
                }
                let after_ws = i == 0 || matches!(bytes[i - 1], b' ' | b'\t');
                if b == b'#' && (toml || after_ws) {
                    line.comment = Some(base + i);
                    code_end = i;
                    break;
                }
                let opens = i == 0
                    || matches!(
                        bytes[i - 1],
                        b' ' | b'\t' | b':' | b'=' | b'[' | b'{' | b',' | b'('
                    );
                if (b == b'"' || b == b'\'') && opens {
                    quote = Some(b);
                }
            }
        }
        i += 1;
    }
    let code = body.get(..code_end).unwrap_or("").trim();
    if !code.is_empty() {
        line.no_code = false;
    } else if base == line.start {
        line.no_code = true;
    }
    line.opens_mapping = code.ends_with(':');
    line.starts_dash = code == "-" || code.starts_with("- ");
    if !toml && *state == State::Normal && block_indicator(code) {
        *state = State::Block(line.indent);
    }
}

/// Does YAML code end with a block scalar indicator (`key: |`, `- >-`)?
fn block_indicator(code: &str) -> bool {
    let (before, tok) = code.rsplit_once([' ', '\t']).unwrap_or(("", code));
    let mut chars = tok.chars();
    let first_ok = matches!(chars.next(), Some('|' | '>'));
    let rest_ok = chars.all(|c| c.is_ascii_digit() || c == '+' || c == '-');
    let before = before.trim_end();
    first_ok && rest_ok && (before.is_empty() || before.ends_with(':') || before.ends_with('-'))
}

/// The last line (index) belonging to the code line `li`: itself, the lines
/// nested under it and the lines of a string it opens.
fn region_end(lines: &[Line], li: usize) -> usize {
    let Some(first) = lines.get(li) else {
        return li;
    };
    let mut end = li;
    for (j, l) in lines.iter().enumerate().skip(li + 1) {
        if l.in_string {
            end = j;
            continue;
        }
        if l.no_code {
            continue;
        }
        let nested = l.indent > first.indent
            || (l.indent == first.indent && first.opens_mapping && l.starts_dash);
        if nested {
            end = j;
        } else {
            break;
        }
    }
    end
}

/// Parse the text after `#` of a `rulelint:` comment. `base` is the file
/// offset of `text`.
/// The ids of a suppression comment with their spans, and its reason.
type Parsed = (Vec<(String, Span)>, Option<String>);

fn parse_comment(text: &str, base: usize) -> Result<Parsed, String> {
    let usage = "expected `# rulelint: allow(ID, ...) -- reason`";
    let t = text.trim_start();
    let mut off = base + (text.len() - t.len());
    let Some(rest) = t.strip_prefix("rulelint:") else {
        return Err(usage.into());
    };
    off += "rulelint:".len();
    let trimmed = rest.trim_start();
    off += rest.len() - trimmed.len();
    let Some(args) = trimmed.strip_prefix("allow") else {
        let word: String = trimmed
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        return Err(if word.is_empty() {
            usage.into()
        } else {
            format!("unknown directive `{word}`; {usage}")
        });
    };
    off += "allow".len();
    let Some(inner) = args.strip_prefix('(') else {
        return Err(format!("missing `(` after `allow`; {usage}"));
    };
    off += 1;
    let Some(close) = inner.find(')') else {
        return Err(format!("missing `)`; {usage}"));
    };
    let list = &inner[..close];
    let mut ids = Vec::new();
    let mut p = 0;
    for part in list.split(',') {
        let lead = part.len() - part.trim_start().len();
        let id = part.trim();
        if !id.is_empty() {
            let s = off + p + lead;
            ids.push((id.to_string(), Span::new(s, s + id.len())));
        }
        p += part.len() + 1;
    }
    if ids.is_empty() {
        return Err(format!("`allow()` names no check or pattern; {usage}"));
    }
    let after = inner[close + 1..].trim();
    let reason = if after.is_empty() {
        None
    } else if let Some(r) = after.strip_prefix("--") {
        Some(r.trim().to_string()).filter(|r| !r.is_empty())
    } else {
        return Err(format!("unexpected `{after}` after `)`; {usage}"));
    };
    Ok((ids, reason))
}

/// Find the suppression comments of a file.
pub fn parse(text: &str, format: Option<Format>) -> (Vec<Suppression>, Vec<Malformed>) {
    let toml = format == Some(Format::Elastic);
    let lines = scan(text, toml);
    let mut leading = true;
    let mut out = Vec::new();
    let mut bad = Vec::new();
    for (li, l) in lines.iter().enumerate() {
        let body = text.get(l.start..l.end).unwrap_or("");
        let comment_only = l.no_code && !l.in_string;
        if leading && !comment_only && body.trim() != "---" {
            leading = false;
        }
        let Some(hash) = l.comment else { continue };
        let comment_text = text.get(hash + 1..l.end).unwrap_or("");
        if !comment_text.trim_start().starts_with("rulelint") {
            continue;
        }
        let comment = Span::new(hash, l.end);
        let (ids, reason) = match parse_comment(comment_text, hash + 1) {
            Ok(x) => x,
            Err(message) => {
                // `# rulelintx` and prose mentioning rulelint are not ours.
                let t = comment_text.trim_start();
                if t.starts_with("rulelint:") {
                    bad.push(Malformed {
                        span: comment,
                        message,
                    });
                }
                continue;
            }
        };
        let scope = if l.no_code && leading {
            Scope::File
        } else if l.no_code {
            let next = lines
                .iter()
                .enumerate()
                .skip(li + 1)
                .find(|(_, x)| !x.no_code || x.in_string);
            match next {
                Some((ni, _)) => Scope::Lines(ni + 1, region_end(&lines, ni) + 1),
                None => Scope::Lines(li + 2, li + 2),
            }
        } else {
            Scope::Lines(li + 1, region_end(&lines, li) + 1)
        };
        out.push(Suppression {
            ids,
            scope,
            comment,
            reason,
        });
    }
    (out, bad)
}

fn matches_id(id: &str, d: &Diagnostic) -> bool {
    d.code.as_str().eq_ignore_ascii_case(id)
        || d.code.name().eq_ignore_ascii_case(id)
        || d.pattern.as_deref() == Some(id)
}

fn covers(scope: Scope, d: &Diagnostic) -> bool {
    match scope {
        Scope::File => true,
        Scope::Lines(a, b) => (a..=b).contains(&d.position.line),
    }
}

struct Hygiene {
    code: Code,
    span: Span,
    message: String,
    help: Option<String>,
    key: String,
}

fn hygiene(file: &SourceFile, display: &str, format: Option<Format>, h: Hygiene) -> Diagnostic {
    let Hygiene {
        code,
        span,
        message,
        help,
        key,
    } = h;
    Diagnostic {
        code,
        pattern: None,
        severity: code.meta().severity,
        message,
        note: None,
        help,
        file: display.to_string(),
        format,
        rule: None,
        span,
        position: Position::resolve(file, span),
        labels: Vec::new(),
        suggestion: None,
        key,
    }
}

/// Apply the file's suppressions to `diags`: remove the suppressed ones and
/// add `RL101` / `RL102` diagnostics. `known` are the valid ids (check
/// codes, check names, pattern ids); `checked` is false when the file could
/// not be fully checked (then unused suppressions are not reported);
/// `disabled` checks report nothing.
pub fn apply(
    file: &SourceFile,
    display: &str,
    format: Option<Format>,
    known: &[&str],
    checked: bool,
    disabled: &BTreeSet<Code>,
    diags: &mut Vec<Diagnostic>,
) {
    if !file.text.contains("rulelint") {
        return;
    }
    let (sups, bad) = parse(&file.text, format);
    let mut extra = Vec::new();
    for m in bad {
        extra.push(hygiene(
            file,
            display,
            format,
            Hygiene {
                code: Code::InvalidSuppression,
                span: m.span,
                message: format!("malformed suppression comment: {}", m.message),
                help: None,
                key: format!("{}|{}", Code::InvalidSuppression, file.slice(m.span).trim()),
            },
        ));
    }
    let is_known = |id: &str| Code::find(id).is_some() || known.contains(&id);
    // For each id of each suppression: did it suppress something?
    let mut used: Vec<Vec<bool>> = sups.iter().map(|s| vec![false; s.ids.len()]).collect();
    diags.retain(|d| {
        if d.is_fatal() || d.code.category() == crate::checks::Category::Suppression {
            return true;
        }
        let mut hit = false;
        for (si, s) in sups.iter().enumerate() {
            if !covers(s.scope, d) {
                continue;
            }
            for (ii, (id, _)) in s.ids.iter().enumerate() {
                if matches_id(id, d) {
                    used[si][ii] = true;
                    hit = true;
                }
            }
        }
        !hit
    });
    for (si, s) in sups.iter().enumerate() {
        for (ii, (id, span)) in s.ids.iter().enumerate() {
            if !is_known(id) {
                let help = match did_you_mean(id, known.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "name a check code (`RL201`), check name or pattern id (`rulelint patterns`)".into(),
                };
                extra.push(hygiene(
                    file,
                    display,
                    format,
                    Hygiene {
                        code: Code::InvalidSuppression,
                        span: *span,
                        message: format!("unknown check or pattern `{id}` in suppression comment"),
                        help: Some(help),
                        key: format!("{}|{id}", Code::InvalidSuppression),
                    },
                ));
            } else if checked && !used[si][ii] && !names_disabled(id, disabled) {
                let help = if s.ids.len() == 1 {
                    "remove the comment".to_string()
                } else {
                    format!("remove `{id}` from the comment")
                };
                let what = match s.scope {
                    Scope::File => "in this file".to_string(),
                    Scope::Lines(a, b) if a == b => format!("on line {a}"),
                    Scope::Lines(a, b) => format!("on lines {a}-{b}"),
                };
                extra.push(hygiene(
                    file,
                    display,
                    format,
                    Hygiene {
                        code: Code::UnusedSuppression,
                        span: *span,
                        message: format!("unused suppression: `{id}` reports nothing {what}"),
                        help: Some(help),
                        key: format!("{}|{id}", Code::UnusedSuppression),
                    },
                ));
            }
        }
    }
    extra.retain(|d| !disabled.contains(&d.code));
    diags.extend(extra);
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// A suppression of a check that did not run is not stale: the check may
/// report again once enabled. Ids that are not codes are pattern ids.
fn names_disabled(id: &str, disabled: &BTreeSet<Code>) -> bool {
    let code = Code::find(id).unwrap_or(Code::KnownFpPattern);
    disabled.contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    fn d(code: &'static str, pattern: Option<&str>, line: usize, sev: Severity) -> Diagnostic {
        Diagnostic {
            code: Code::from_code(code).expect("a declared code"),
            pattern: pattern.map(str::to_string),
            severity: sev,
            message: "m".into(),
            note: None,
            help: None,
            file: "f.yml".into(),
            format: None,
            rule: None,
            span: Span::default(),
            position: Position {
                line,
                column: 1,
                end_line: line,
                end_column: 2,
                offset: 0,
                length: 0,
            },
            labels: Vec::new(),
            suggestion: None,
            key: String::new(),
        }
    }

    const KNOWN: &[&str] = &[
        "RL201",
        "known-fp-pattern",
        "RL002",
        "invalid-yaml",
        "ephemeral-port",
        "dns-server",
    ];

    fn run(text: &str, format: Option<Format>, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
        let sf = SourceFile::new("f.yml", text);
        let mut ds = diags;
        apply(&sf, "f.yml", format, KNOWN, true, &BTreeSet::new(), &mut ds);
        ds
    }

    #[test]
    fn parses_ids_reason_and_spans() {
        let text = "title: x\ndetection:\n  # rulelint: allow(ephemeral-port, RL201) -- NAT replies\n  sel:\n    DestinationPort: 6667\n";
        let (s, bad) = parse(text, Some(Format::Sigma));
        assert!(bad.is_empty());
        assert_eq!(s.len(), 1);
        let ids: Vec<_> = s[0]
            .ids
            .iter()
            .map(|(i, sp)| (i.as_str(), &text[sp.start..sp.end]))
            .collect();
        assert_eq!(
            ids,
            vec![("ephemeral-port", "ephemeral-port"), ("RL201", "RL201")]
        );
        assert_eq!(s[0].reason.as_deref(), Some("NAT replies"));
        // Applies to `sel:` and what is nested under it.
        assert_eq!(s[0].scope, Scope::Lines(4, 5));
    }

    #[test]
    fn scopes() {
        let text = "# leading comment\n# rulelint: allow(dns-server)\n\ntitle: x\nlogsource: {}\ndetection:\n  sel:\n    # rulelint: allow(RL201)\n\n    DestinationPort:\n    - 6667\n    - 6697\n    SourcePort: 1 # rulelint: allow(ephemeral-port)\n  condition: sel\n";
        let (s, _) = parse(text, Some(Format::Sigma));
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].scope, Scope::File);
        assert_eq!(s[1].scope, Scope::Lines(10, 12));
        assert_eq!(s[2].scope, Scope::Lines(13, 13));
    }

    #[test]
    fn same_indent_list_under_a_key() {
        let text =
            "a:\n  b:\n  # rulelint: allow(RL201)\n  DestinationPort:\n  - 1\n  - 2\n  c: 3\n";
        let (s, _) = parse(text, None);
        assert_eq!(s[0].scope, Scope::Lines(4, 6));
    }

    #[test]
    fn toml_multiline_query_is_covered() {
        let text = "[rule]\n# rulelint: allow(ephemeral-port)\nquery = '''\nnetwork where destination.port == 6667\n# not a comment: rulelint: allow(RL201)\n'''\nname = \"x # y\" # rulelint: allow(RL201)\n";
        let (s, bad) = parse(text, Some(Format::Elastic));
        assert!(bad.is_empty());
        assert_eq!(s.len(), 2, "{s:?}");
        assert_eq!(s[0].scope, Scope::Lines(3, 6));
        assert_eq!(s[1].scope, Scope::Lines(7, 7));
    }

    #[test]
    fn yaml_block_scalars_and_quotes_are_not_comments() {
        let text = "search: |\n  | tstats count # rulelint: allow(RL201)\n  | where x\ntitle: 'a # rulelint: allow(RL201)'\ndescription: Don't # rulelint: allow(RL201)\n";
        let (s, _) = parse(text, Some(Format::Splunk));
        assert_eq!(s.len(), 1, "{s:?}");
        assert_eq!(s[0].scope, Scope::Lines(5, 5));
    }

    #[test]
    fn suppresses_next_line_and_reports_unused() {
        let text = "a: 1\n# rulelint: allow(ephemeral-port) -- reason\nb: 2\nc: 3 # rulelint: allow(RL201, dns-server)\n";
        let ds = run(
            text,
            None,
            vec![
                d("RL201", Some("ephemeral-port"), 3, Severity::Warning),
                d("RL201", Some("ephemeral-port"), 4, Severity::Warning),
                d("RL201", Some("dns-server"), 1, Severity::Warning),
            ],
        );
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code.as_str(), d.position.line, d.position.column))
            .collect();
        // line 3 suppressed; line 4 suppressed by RL201; dns-server unused
        // on line 4 (its finding is on line 1).
        assert_eq!(got, vec![("RL201", 1, 1), ("RL101", 4, 31)]);
        assert_eq!(ds[1].severity, Severity::Info);
        assert_eq!(
            ds[1].message,
            "unused suppression: `dns-server` reports nothing on line 4"
        );
        assert_eq!(
            ds[1].help.as_deref(),
            Some("remove `dns-server` from the comment")
        );
    }

    #[test]
    fn unknown_ids_and_malformed_comments() {
        let text = "# rulelint: allow(ephemral-port)\na: 1\nb: 2 # rulelint: alow(RL201)\nc: 3 # rulelint: allow(RL201\nd: 4 # rulelint explains this prose\n";
        let ds = run(text, None, vec![]);
        let got: Vec<_> = ds
            .iter()
            .map(|d| (d.code.as_str(), d.position.line, d.message.as_str()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "RL102");
        assert_eq!(got[0].1, 1);
        assert_eq!(
            ds[0].help.as_deref(),
            Some("did you mean `ephemeral-port`?")
        );
        assert_eq!(ds[0].position.column, 19);
        assert!(
            got[1].2.contains("unknown directive `alow`"),
            "{}",
            got[1].2
        );
        assert!(got[2].2.contains("missing `)`"), "{}", got[2].2);
    }

    #[test]
    fn fatal_errors_are_never_suppressed() {
        let text = "# rulelint: allow(RL002, invalid-yaml)\na: [\n";
        let ds = run(text, None, vec![d("RL002", None, 2, Severity::Error)]);
        assert!(ds.iter().any(|d| d.code.as_str() == "RL002"));
    }

    #[test]
    fn unused_is_not_reported_for_unchecked_files() {
        let sf = SourceFile::new("f.yml", "a: 1 # rulelint: allow(RL201)\n");
        let mut ds = Vec::new();
        apply(&sf, "f.yml", None, KNOWN, false, &BTreeSet::new(), &mut ds);
        assert!(ds.is_empty());
    }

    #[test]
    fn codes_match_case_insensitively_patterns_exactly() {
        let text = "a: 1 # rulelint: allow(rl201)\n";
        let ds = run(
            text,
            None,
            vec![d("RL201", Some("x"), 1, Severity::Warning)],
        );
        assert!(ds.is_empty(), "{ds:?}");
        let text = "a: 1 # rulelint: allow(Ephemeral-Port)\n";
        let ds = run(text, None, vec![]);
        assert_eq!(ds[0].code.as_str(), "RL102");
    }

    #[test]
    fn never_panics_on_odd_input() {
        for t in [
            "#rulelint:",
            "# rulelint: allow(",
            "# rulelint: allow()",
            "# rulelint: allow(,,)",
            "x: 'é # rulelint: allow(RL201)",
            "q = '''\n# rulelint: allow(RL201)",
            "a: |\n",
            "é: \"\\",
            "# rulelint: allow(a) -- ",
            "# rulelint: allow(a) trailing",
        ] {
            for f in [None, Some(Format::Elastic)] {
                let sf = SourceFile::new("f", t);
                let mut ds = Vec::new();
                apply(&sf, "f", f, KNOWN, true, &BTreeSet::new(), &mut ds);
            }
        }
    }

    /// Scan every YAML/TOML file of `$RULELINT_CORPUS` for suppression
    /// comments (none expected) without panicking; prints counts.
    #[test]
    #[ignore = "needs the rule corpus: RULELINT_CORPUS"]
    fn corpus_sweep() {
        let root = std::env::var_os("RULELINT_CORPUS")
            .expect("set RULELINT_CORPUS to the rule corpus (../shared/corpus)");
        let (mut files, mut found, mut bad) = (0, 0, 0);
        for e in ignore::WalkBuilder::new(root).build().flatten() {
            let p = e.path();
            let fmt = match p.extension().and_then(|x| x.to_str()) {
                Some("toml") => Some(Format::Elastic),
                Some("yml" | "yaml") => Some(Format::Sigma),
                _ => continue,
            };
            let Ok(text) = std::fs::read_to_string(p) else {
                continue;
            };
            files += 1;
            // Every comment line is scanned, so run the full scanner.
            let lines = scan(&text, fmt == Some(Format::Elastic));
            assert!(lines.len() <= text.lines().count() + 1);
            let (s, b) = parse(&text, fmt);
            found += s.len();
            bad += b.len();
        }
        eprintln!("{files} files, {found} suppressions, {bad} malformed");
        assert!(files > 0);
    }
}
