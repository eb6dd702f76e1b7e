//! Exclusions written in ES|QL: a `| WHERE NOT (…)` command inserted as a
//! new line right before the first `STATS` (so the excluded events never
//! reach the aggregation), or at the end of the query when it has none.
//!
//! A command that drops, renames or reshapes the event fields before the
//! first `STATS` (or at the end of a query without one: `KEEP`, `DROP`,
//! `RENAME`, `MV_EXPAND`, `LIMIT`, …) would leave the exclusion naming
//! columns that no longer exist, so the exclusion goes before the first
//! such command.

use super::{Exclusion, ExclusionField, ExclusionValue};
use crate::diagnostic::{Edit, Suggestion};
use crate::query::esql::lower::{dissect_keys, grok_keys};
use crate::query::esql::parser::{self, CommandKind};
use crate::rule::{DetectionRule, Language, Op};
use crate::source::{SourceFile, Span};

pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    _triggers: &[Span],
) -> Option<Suggestion> {
    let cond = condition(excl)?;
    let command = format!("| WHERE NOT ({cond})");
    let edits = insertion(rule, file, excl, &command).into_iter().collect();
    Some(excl.suggestion(Language::Esql, command, edits))
}

/// The condition that matches the excluded events: every field's test,
/// AND-ed.
pub fn condition(excl: &Exclusion) -> Option<String> {
    let parts: Option<Vec<String>> = excl.fields.iter().map(field_condition).collect();
    let parts = parts?;
    if parts.is_empty() {
        return None;
    }
    Some(parts.join(" AND "))
}

fn field_condition(f: &ExclusionField) -> Option<String> {
    let name = field_name(&f.field);
    let vals = &f.values;
    let any_of = |render: &dyn Fn(&ExclusionValue) -> String| -> Option<String> {
        let items: Vec<String> = vals.iter().map(render).collect();
        match items.len() {
            0 => None,
            1 => items.into_iter().next(),
            _ => Some(format!("({})", items.join(" OR "))),
        }
    };
    match f.op {
        Op::Eq => match vals.as_slice() {
            [] => None,
            [v] => Some(format!("{name} == {}", value(v))),
            _ => Some(format!(
                "{name} IN ({})",
                vals.iter().map(value).collect::<Vec<_>>().join(", ")
            )),
        },
        Op::EndsWith => any_of(&|v| format!("ENDS_WITH({name}, {})", string(&v.text))),
        Op::StartsWith => any_of(&|v| format!("STARTS_WITH({name}, {})", string(&v.text))),
        Op::Contains => like(&name, vals, |t| format!("*{}*", like_escape(t))),
        Op::Wildcard => like(&name, vals, |t| t.to_string()),
        Op::Regex => match vals.as_slice() {
            [] => None,
            [v] => Some(format!("{name} RLIKE {}", string(&v.text))),
            _ => Some(format!(
                "{name} RLIKE ({})",
                vals.iter()
                    .map(|v| string(&v.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        },
        Op::Cidr => {
            if vals.is_empty() {
                return None;
            }
            Some(format!(
                "CIDR_MATCH({name}, {})",
                vals.iter()
                    .map(|v| string(&v.text))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            let sym = match f.op {
                Op::Gt => ">",
                Op::Gte => ">=",
                Op::Lt => "<",
                _ => "<=",
            };
            any_of(&|v| format!("{name} {sym} {}", value(v)))
        }
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => {
            let [lo, hi] = vals.as_slice() else {
                return None;
            };
            let lo_op = if lo_inclusive { ">=" } else { ">" };
            let hi_op = if hi_inclusive { "<=" } else { "<" };
            Some(format!(
                "({name} {lo_op} {} AND {name} {hi_op} {})",
                value(lo),
                value(hi)
            ))
        }
        Op::Exists => Some(format!("{name} IS NOT NULL")),
        Op::FieldRef => any_of(&|v| format!("{name} == {}", field_name(&v.text))),
    }
}

fn like(name: &str, vals: &[ExclusionValue], pattern: impl Fn(&str) -> String) -> Option<String> {
    match vals {
        [] => None,
        [v] => Some(format!("{name} LIKE {}", string(&pattern(&v.text)))),
        _ => Some(format!(
            "{name} LIKE ({})",
            vals.iter()
                .map(|v| string(&pattern(&v.text)))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Escape LIKE's wildcards so the text matches literally.
fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value: a number unquoted when it is one, anything else quoted.
fn value(v: &ExclusionValue) -> String {
    if v.numeric && !v.is_placeholder() && is_number(&v.text) {
        v.text.clone()
    } else {
        string(&v.text)
    }
}

fn is_number(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && digits.bytes().filter(|&b| b == b'.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.')
}

/// An ES|QL string literal.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

const KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "like", "rlike", "is", "null", "true", "false", "by", "as", "asc",
    "desc", "nulls", "first", "last", "on", "with", "where", "metadata",
];

/// A field name, backquoted when it is not a plain dotted identifier.
pub fn field_name(name: &str) -> String {
    let plain_part = |p: &str| {
        let b = p.as_bytes();
        let Some(&first) = b.first() else {
            return false;
        };
        (first.is_ascii_alphabetic() || first == b'_' || first == b'@')
            && b[1..]
                .iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_')
            && p.bytes().any(|c| c.is_ascii_alphabetic())
            && !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(p))
    };
    if !name.is_empty() && name.split('.').all(plain_part) {
        name.to_string()
    } else {
        format!("`{}`", name.replace('`', "``"))
    }
}

/// How the query is stored in the file, which decides how inserted text
/// must be escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StrKind {
    /// TOML `'''…'''`: no escapes, no `'''`.
    MultiLiteral,
    /// TOML `"""…"""`: `\` and `"` escaped.
    MultiBasic,
    /// TOML `'…'`: one line, no `'`.
    Literal,
    /// TOML `"…"`: one line, `\` and `"` escaped.
    Basic,
    /// Not in a quoted string (a block scalar, a bare query file).
    Raw,
}

impl StrKind {
    fn multiline(self) -> bool {
        matches!(
            self,
            StrKind::MultiLiteral | StrKind::MultiBasic | StrKind::Raw
        )
    }

    fn escape(self, text: &str) -> Option<String> {
        match self {
            StrKind::MultiLiteral => (!text.contains("'''")).then(|| text.to_string()),
            StrKind::Literal => {
                (!text.contains('\'') && !text.contains('\n')).then(|| text.to_string())
            }
            StrKind::MultiBasic | StrKind::Basic => {
                let mut out = String::with_capacity(text.len());
                for c in text.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '"' => out.push_str("\\\""),
                        '\n' if self == StrKind::Basic => out.push_str("\\n"),
                        _ => out.push(c),
                    }
                }
                Some(out)
            }
            StrKind::Raw => Some(text.to_string()),
        }
    }
}

/// The query's characters in the file (without delimiters) and the kind
/// of string that holds them. `query` may or may not include the
/// delimiters.
fn query_content(text: &str, query: Span) -> Option<(Span, StrKind)> {
    let body = text.get(query.start..query.end)?;
    for (delim, kind) in [
        ("'''", StrKind::MultiLiteral),
        ("\"\"\"", StrKind::MultiBasic),
        ("'", StrKind::Literal),
        ("\"", StrKind::Basic),
    ] {
        if body.len() >= 2 * delim.len() && body.starts_with(delim) && body.ends_with(delim) {
            let mut start = query.start + delim.len();
            if kind.multiline() {
                // TOML trims a newline right after the opening delimiter
                if text.get(start..).is_some_and(|s| s.starts_with("\r\n")) {
                    start += 2;
                } else if text.get(start..).is_some_and(|s| s.starts_with('\n')) {
                    start += 1;
                }
            }
            return Some((Span::new(start, query.end - delim.len()), kind));
        }
    }
    let before = text.get(..query.start)?;
    let before = before
        .strip_suffix("\r\n")
        .or_else(|| before.strip_suffix('\n'))
        .filter(|b| b.ends_with("'''") || b.ends_with("\"\"\""))
        .unwrap_or(before);
    let kind = if before.ends_with("'''") {
        StrKind::MultiLiteral
    } else if before.ends_with("\"\"\"") {
        StrKind::MultiBasic
    } else if before.ends_with('\'') {
        StrKind::Literal
    } else if before.ends_with('"') {
        StrKind::Basic
    } else {
        StrKind::Raw
    };
    Some((query, kind))
}

/// The edit that inserts `command` into the rule's query.
fn insertion(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    command: &str,
) -> Option<Edit> {
    let text = file.text.as_str();
    let (content, kind) = query_content(text, rule.anchors.query?)?;
    let before = match insertion_point(text, content, kind, excl) {
        Some(point) => point,
        // the query could not be re-read: trust the anchor
        None => rule
            .anchors
            .first_aggregation
            .filter(|&at| at >= content.start && at < content.end),
    };
    match before {
        Some(at) => before_pipe(text, content, kind, at, command),
        None => at_end(text, content, kind, command),
    }
}

/// Where the exclusion goes: before the `|` of the first command after
/// which the event fields may no longer be there as they were read —
/// `STATS` (the first aggregation) but also `KEEP`, `DROP`, `RENAME`,
/// `MV_EXPAND`, `LIMIT`, … and an `EVAL`/`DISSECT`/`GROK` that overwrites
/// one of the excluded fields. `Some(None)`: at the end of the query.
/// `None` when the query cannot be decoded or parsed again.
fn insertion_point(
    text: &str,
    content: Span,
    kind: StrKind,
    excl: &Exclusion,
) -> Option<Option<usize>> {
    let (query, map) = decode(text, content, kind)?;
    let commands = parser::parse_pipeline(&query).ok()?;
    let excluded = |name: &str| excl.fields.iter().any(|f| f.field == name);
    for cmd in commands.iter().skip(1) {
        let keeps_fields = match &cmd.kind {
            CommandKind::Where(_) => true,
            CommandKind::Eval(assigns) => !assigns
                .iter()
                .any(|a| a.name.as_ref().is_some_and(|n| excluded(&n.text))),
            CommandKind::Dissect { pattern, .. } => {
                !dissect_keys(&pattern.text).iter().any(|k| excluded(k))
            }
            CommandKind::Grok { patterns, .. } => !patterns
                .iter()
                .any(|p| grok_keys(&p.text).iter().any(|k| excluded(k))),
            _ => false,
        };
        if !keeps_fields {
            let pipe = cmd.pipe?;
            return Some(Some(*map.get(pipe.start)?));
        }
    }
    Some(None)
}

/// The query as the parser sees it, and the file offset of each of its
/// bytes (plus one for the end).
fn decode(text: &str, content: Span, kind: StrKind) -> Option<(String, Vec<usize>)> {
    let raw = text.get(content.start..content.end)?;
    if !matches!(kind, StrKind::Basic | StrKind::MultiBasic) {
        return Some((raw.to_string(), (content.start..=content.end).collect()));
    }
    let mut out = String::with_capacity(raw.len());
    let mut map = Vec::with_capacity(raw.len() + 1);
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let at = content.start + i;
        if c != '\\' {
            out.push(c);
            map.extend(std::iter::repeat_n(at, c.len_utf8()));
            continue;
        }
        let (_, e) = chars.next()?;
        let decoded = match e {
            '\\' => '\\',
            '"' => '"',
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'e' => '\u{1b}',
            'u' | 'U' => {
                let n = if e == 'u' { 4 } else { 8 };
                let mut hex = String::new();
                for _ in 0..n {
                    hex.push(chars.next()?.1);
                }
                char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
            }
            // a line-ending backslash joins the next non-blank line
            ' ' | '\t' | '\r' | '\n' if kind == StrKind::MultiBasic => {
                let mut saw_newline = e == '\n';
                while let Some(&(_, w)) = chars.peek() {
                    if !w.is_whitespace() {
                        break;
                    }
                    saw_newline |= w == '\n';
                    chars.next();
                }
                if !saw_newline {
                    return None;
                }
                continue;
            }
            _ => return None,
        };
        out.push(decoded);
        map.extend(std::iter::repeat_n(at, decoded.len_utf8()));
    }
    map.push(content.end);
    Some((out, map))
}

/// Insert `command` as a new line before the `|` at `at`.
fn before_pipe(text: &str, content: Span, kind: StrKind, at: usize, command: &str) -> Option<Edit> {
    if at < content.start || at > content.end || !text.is_char_boundary(at) {
        return None;
    }
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let indent = text.get(line_start..at)?;
    let inserted = if kind.multiline()
        && line_start >= content.start
        && indent.chars().all(|c| c == ' ' || c == '\t')
    {
        // the command starts its line: a new line with the same indent
        format!("{command}\n{indent}")
    } else if kind.multiline() {
        format!("{command}\n")
    } else {
        format!("{command} ")
    };
    Some(Edit::insert(at, kind.escape(&inserted)?))
}

/// Append `command` after the last command of the query.
fn at_end(text: &str, content: Span, kind: StrKind, command: &str) -> Option<Edit> {
    let body = text.get(content.start..content.end)?;
    let end = content.start + body.trim_end().len();
    let last_line = body.trim_end().rsplit('\n').next().unwrap_or("");
    let inserted = if kind.multiline() {
        format!("\n{command}")
    } else if last_line.contains("//") {
        // a trailing comment would swallow a command on the same line
        return None;
    } else {
        format!(" {command}")
    };
    Some(Edit::insert(end, kind.escape(&inserted)?))
}
