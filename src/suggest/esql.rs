//! Exclusions written in ES|QL: a `| WHERE f IS NULL OR NOT (…)` command
//! inserted as a new line right before the first `STATS` (so the excluded
//! events never reach the aggregation), or at the end of the query when it
//! has none.
//!
//! `WHERE` keeps only rows whose condition is true, and a comparison with
//! a missing field is null: `NOT (f IN (…))` alone would also drop every
//! event without `f`, which the exclusion is not about. Each excluded
//! field's `IS NULL` keeps them.
//!
//! A command that drops, renames or reshapes the event fields before the
//! first `STATS` (or at the end of a query without one: `KEEP`, `DROP`,
//! `RENAME`, `MV_EXPAND`, `LIMIT`, …) would leave the exclusion naming
//! columns that no longer exist, so the exclusion goes before the first
//! such command.

use super::edit::{escape, is_multiline};
use super::{Exclusion, ExclusionField, ExclusionValue, Rendered};
use crate::diagnostic::Edit;
use crate::rule::{DetectionRule, Op, Quoting};
use crate::source::{SourceFile, Span};

pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    _triggers: &[Span],
) -> Option<Rendered> {
    let command = command(excl)?;
    let edits = insertion(rule, file, excl, &command).into_iter().collect();
    Some(Rendered::new(command, edits))
}

/// `| WHERE a IS NULL OR NOT (<condition>)`: the command that drops the
/// excluded events and keeps events without the excluded fields.
pub fn command(excl: &Exclusion) -> Option<String> {
    let cond = condition(excl)?;
    let mut keep: Vec<String> = Vec::new();
    for f in excl.fields.iter().filter(|f| f.op != Op::Exists) {
        let n = format!("{} IS NULL", field_name(&f.field));
        if !keep.contains(&n) {
            keep.push(n);
        }
    }
    keep.push(format!("NOT ({cond})"));
    Some(format!("| WHERE {}", keep.join(" OR ")))
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

/// The query's characters in the file (without delimiters). `query` (a
/// rule's `anchors.query`) may or may not include the delimiters.
fn query_content(text: &str, query: Span) -> Option<Span> {
    let body = text.get(query.start..query.end)?;
    for delim in ["'''", "\"\"\"", "'", "\""] {
        if body.len() >= 2 * delim.len() && body.starts_with(delim) && body.ends_with(delim) {
            let mut start = query.start + delim.len();
            if delim.len() == 3 {
                // TOML trims a newline right after the opening delimiter
                if text.get(start..).is_some_and(|s| s.starts_with("\r\n")) {
                    start += 2;
                } else if text.get(start..).is_some_and(|s| s.starts_with('\n')) {
                    start += 1;
                }
            }
            return Some(Span::new(start, query.end - delim.len()));
        }
    }
    Some(query)
}

/// The edit that inserts `command` into the rule's query: before the `|`
/// of the first command after which the event fields may no longer be
/// there as they were read — `STATS` (the first aggregation) but also
/// `KEEP`, `DROP`, `RENAME`, `MV_EXPAND`, `LIMIT`, … and an
/// `EVAL`/`DISSECT`/`GROK` that overwrites one of the excluded fields —
/// or at the end of the query. The parser recorded what each command does
/// (`anchors.commands`).
fn insertion(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    command: &str,
) -> Option<Edit> {
    let text = file.text.as_str();
    let a = &rule.anchors;
    let quoting = a.query_quoting?;
    let content = query_content(text, a.query?)?;
    let excluded = |name: &String| excl.fields.iter().any(|f| &f.field == name);
    let before = match a.commands.as_slice() {
        // No command recorded (one command, or an older parse): the first
        // aggregation is the one place known.
        [] => a
            .first_aggregation
            .filter(|&at| at >= content.start && at < content.end),
        commands => commands
            .iter()
            .find(|c| c.writes.as_ref().is_none_or(|w| w.iter().any(excluded)))
            .map(|c| c.pipe),
    };
    match before {
        Some(at) => before_pipe(text, content, quoting, at, command),
        None => at_end(text, content, quoting, command),
    }
}

/// Insert `command` as a new line before the `|` at `at`.
fn before_pipe(text: &str, content: Span, kind: Quoting, at: usize, command: &str) -> Option<Edit> {
    if at < content.start || at > content.end || !text.is_char_boundary(at) {
        return None;
    }
    let line_start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let indent = text.get(line_start..at)?;
    let inserted = if is_multiline(kind)
        && line_start >= content.start
        && indent.chars().all(|c| c == ' ' || c == '\t')
    {
        // the command starts its line: a new line with the same indent
        format!("{command}\n{indent}")
    } else if is_multiline(kind) {
        format!("{command}\n")
    } else {
        format!("{command} ")
    };
    Some(Edit::insert(at, escape(kind, &inserted)?))
}

/// Append `command` after the last command of the query.
fn at_end(text: &str, content: Span, kind: Quoting, command: &str) -> Option<Edit> {
    let body = text.get(content.start..content.end)?;
    let end = content.start + body.trim_end().len();
    let last_line = body.trim_end().rsplit('\n').next().unwrap_or("");
    let inserted = if is_multiline(kind) {
        format!("\n{command}")
    } else if last_line.contains("//") {
        // a trailing comment would swallow a command on the same line
        return None;
    } else {
        format!(" {command}")
    };
    Some(Edit::insert(end, escape(kind, &inserted)?))
}
