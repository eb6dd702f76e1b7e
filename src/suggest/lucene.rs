//! Exclusions written in Lucene query syntax:
//! `AND NOT source.port:(80 OR 443)`.
//!
//! Lucene's classic parser does not give `AND` precedence over `OR`, so the
//! original query is wrapped in parentheses unless it is a single clause.

use super::{Exclusion, ExclusionField, ExclusionValue, Rendered};
use crate::rule::{DetectionRule, Format, Op};
use crate::source::{SourceFile, Span};

pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    _triggers: &[Span],
) -> Option<Rendered> {
    let clause = clause(excl)?;
    let appended = format!("AND {clause}");
    let mut edits = Vec::new();
    if rule.format == Format::Elastic {
        if let (Some(content), Some(quoting)) = (rule.anchors.query, rule.anchors.query_quoting) {
            // Unknown shape: parentheses are always correct.
            let wrap = rule.anchors.append_needs_parens.unwrap_or(true);
            edits = super::edit::append_to_query(file, content, quoting, &appended, wrap)
                .unwrap_or_default();
        }
    }
    Some(Rendered::new(appended, edits))
}

/// `NOT field:(a OR b)` or `NOT (a:x AND b:(y OR z))`.
pub fn clause(excl: &Exclusion) -> Option<String> {
    let parts: Vec<String> = excl.fields.iter().filter_map(field_clause).collect();
    match parts.len() {
        0 => None,
        1 => Some(format!("NOT {}", parts[0])),
        _ => Some(format!("NOT ({})", parts.join(" AND "))),
    }
}

fn field_clause(f: &ExclusionField) -> Option<String> {
    let field = escape(&f.field);
    match f.op {
        Op::Exists => return Some(format!("_exists_:{field}")),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            let v = value(Op::Eq, f.values.first()?);
            return Some(match f.op {
                Op::Gt => format!("{field}:{{{v} TO *]"),
                Op::Gte => format!("{field}:[{v} TO *]"),
                Op::Lt => format!("{field}:[* TO {v}}}"),
                _ => format!("{field}:[* TO {v}]"),
            });
        }
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => {
            let lo = value(Op::Eq, f.values.first()?);
            let hi = value(Op::Eq, f.values.get(1)?);
            return Some(format!(
                "{field}:{}{lo} TO {hi}{}",
                if lo_inclusive { '[' } else { '{' },
                if hi_inclusive { ']' } else { '}' }
            ));
        }
        _ => {}
    }
    let values: Vec<String> = f.values.iter().map(|v| value(f.op, v)).collect();
    match values.len() {
        0 => None,
        1 => Some(format!("{field}:{}", values[0])),
        _ => Some(format!("{field}:({})", values.join(" OR "))),
    }
}

fn is_special(c: char) -> bool {
    crate::query::lucene::is_special(c)
}

/// Backslash-escape every special character (for terms and wildcards).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if is_special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn value(op: Op, v: &ExclusionValue) -> String {
    let t = v.text.as_str();
    match op {
        Op::EndsWith => format!("*{}", escape(t)),
        Op::StartsWith => format!("{}*", escape(t)),
        Op::Contains => format!("*{}*", escape(t)),
        Op::Wildcard => t
            .split('*')
            .map(|part| part.split('?').map(escape).collect::<Vec<_>>().join("?"))
            .collect::<Vec<_>>()
            .join("*"),
        _ => {
            let keyword = matches!(t, "AND" | "OR" | "NOT" | "TO");
            if v.is_placeholder() || t.is_empty() || keyword || t.chars().any(is_special) {
                if v.numeric
                    && !v.is_placeholder()
                    && t.parse::<f64>().is_ok()
                    && !t.starts_with('-')
                {
                    t.to_string()
                } else {
                    quote(t)
                }
            } else {
                t.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::lucene;
    use crate::suggest::ValueOrigin;

    fn ev(text: &str, numeric: bool) -> ExclusionValue {
        ExclusionValue {
            text: text.into(),
            numeric,
            origin: ValueOrigin::Catalogue,
        }
    }

    #[test]
    fn clauses() {
        let one = Exclusion {
            name: "p".into(),
            fields: vec![ExclusionField {
                field: "source.port".into(),
                op: Op::Eq,
                values: vec![ev("80", true), ev("443", true)],
            }],
        };
        assert_eq!(clause(&one).unwrap(), "NOT source.port:(80 OR 443)");

        let two = Exclusion {
            name: "p".into(),
            fields: vec![
                ExclusionField {
                    field: "process.name".into(),
                    op: Op::EndsWith,
                    values: vec![ev("\\java w.exe", false)],
                },
                ExclusionField {
                    field: "source.ip".into(),
                    op: Op::Cidr,
                    values: vec![ev("10.0.0.0/8", false)],
                },
                ExclusionField {
                    field: "user.name".into(),
                    op: Op::Eq,
                    values: vec![ExclusionValue {
                        text: "<your admins>".into(),
                        numeric: false,
                        origin: ValueOrigin::Placeholder,
                    }],
                },
            ],
        };
        let c = clause(&two).unwrap();
        assert_eq!(
            c,
            r#"NOT (process.name:*\\java\ w.exe AND source.ip:"10.0.0.0/8" AND user.name:"<your admins>")"#
        );
        let q = lucene::parse(&format!("event.category:network AND {c}"));
        assert!(q.issues.is_empty(), "{:?}", q.issues);
        let mut seen = Vec::new();
        q.logic.visit_cmps(&mut |c, neg| {
            seen.push((c.field.raw.clone(), c.op, c.values[0].text.clone(), neg))
        });
        assert_eq!(
            seen,
            [
                (
                    "event.category".to_string(),
                    Op::Eq,
                    "network".to_string(),
                    false
                ),
                (
                    "process.name".to_string(),
                    Op::EndsWith,
                    "\\java w.exe".to_string(),
                    true
                ),
                (
                    "source.ip".to_string(),
                    Op::Cidr,
                    "10.0.0.0/8".to_string(),
                    true
                ),
                (
                    "user.name".to_string(),
                    Op::Eq,
                    "<your admins>".to_string(),
                    true
                ),
            ]
        );
    }
}
