//! Exclusions written in KQL: `and not source.port:(80 or 443)`.
//!
//! The clause is appended to the rule's query; when the query has an `or`
//! at its top level it is wrapped in parentheses first, so the result is
//! always *the original query AND NOT the exclusion*. The edit is written
//! for the TOML string kind the query sits in.

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
    let appended = format!("and {clause}");
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

/// `not field:(a or b)` or `not (a:x and b:(y or z))`.
pub fn clause(excl: &Exclusion) -> Option<String> {
    let parts: Vec<String> = excl.fields.iter().filter_map(field_clause).collect();
    match parts.len() {
        0 => None,
        1 => Some(format!("not {}", parts[0])),
        _ => Some(format!("not ({})", parts.join(" and "))),
    }
}

fn field_clause(f: &ExclusionField) -> Option<String> {
    let field = field_name(&f.field);
    match f.op {
        Op::Exists => return Some(format!("{field}:*")),
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            let sym = match f.op {
                Op::Gt => ">",
                Op::Gte => ">=",
                Op::Lt => "<",
                _ => "<=",
            };
            let v = f.values.first()?;
            return Some(format!("{field} {sym} {}", value(Op::Eq, v)));
        }
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => {
            let (lo, hi) = (f.values.first()?, f.values.get(1)?);
            let l = if lo_inclusive { ">=" } else { ">" };
            let h = if hi_inclusive { "<=" } else { "<" };
            return Some(format!(
                "({field} {l} {} and {field} {h} {})",
                value(Op::Eq, lo),
                value(Op::Eq, hi)
            ));
        }
        _ => {}
    }
    let values: Vec<String> = f.values.iter().map(|v| value(f.op, v)).collect();
    match values.len() {
        0 => None,
        1 => Some(format!("{field}:{}", values[0])),
        _ => Some(format!("{field}:({})", values.join(" or "))),
    }
}

/// A field name, escaped where KQL needs it.
fn field_name(name: &str) -> String {
    if name.chars().any(|c| c.is_whitespace() || is_special(c)) {
        quote(name)
    } else {
        name.to_string()
    }
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '*' | '{' | '}'
    )
}

fn is_keyword(w: &str) -> bool {
    ["or", "and", "not"]
        .iter()
        .any(|k| w.eq_ignore_ascii_case(k))
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Escape `s` for an unquoted literal (wildcards are added by the caller).
fn escape_unquoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    let mut word_start = true;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if word_start && !c.is_whitespace() {
            // A keyword standing alone as a word must be escaped.
            let word: String = chars[i..]
                .iter()
                .take_while(|c| !c.is_whitespace())
                .collect();
            if is_keyword(&word) {
                out.push('\\');
            }
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_special(c) => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
        word_start = c.is_whitespace();
        i += 1;
    }
    out
}

fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars().any(|c| c.is_whitespace() || is_special(c))
        || is_keyword(s)
        || s.starts_with(|c: char| c.is_whitespace())
}

fn value(op: Op, v: &ExclusionValue) -> String {
    let t = v.text.as_str();
    match op {
        Op::EndsWith => format!("*{}", escape_unquoted(t)),
        Op::StartsWith => format!("{}*", escape_unquoted(t)),
        Op::Contains => format!("*{}*", escape_unquoted(t)),
        Op::Wildcard => t
            .split('*')
            .map(escape_unquoted)
            .collect::<Vec<_>>()
            .join("*"),
        _ => {
            if v.is_placeholder() {
                quote(t)
            } else if v.numeric && !t.is_empty() && t.parse::<f64>().is_ok() {
                t.to_string()
            } else if needs_quotes(t) {
                quote(t)
            } else {
                t.to_string()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::kql;
    use crate::rule::Logic;
    use crate::suggest::ValueOrigin;

    fn ev(text: &str, numeric: bool) -> ExclusionValue {
        ExclusionValue {
            text: text.into(),
            numeric,
            origin: ValueOrigin::Catalogue,
        }
    }

    fn ports() -> Exclusion {
        Exclusion {
            name: "ephemeral_port".into(),
            fields: vec![ExclusionField {
                field: "source.port".into(),
                op: Op::Eq,
                values: vec![ev("80", true), ev("443", true)],
            }],
        }
    }

    #[test]
    fn one_field_clause() {
        assert_eq!(clause(&ports()).unwrap(), "not source.port:(80 or 443)");
    }

    #[test]
    fn several_fields_quoting_and_wildcards() {
        let excl = Exclusion {
            name: "x".into(),
            fields: vec![
                ExclusionField {
                    field: "process.parent.name".into(),
                    op: Op::Eq,
                    values: vec![ev("jenkins agent.exe", false), ev("or", false)],
                },
                ExclusionField {
                    field: "process.executable".into(),
                    op: Op::EndsWith,
                    values: vec![ev("\\bin\\java (x).exe", false)],
                },
                ExclusionField {
                    field: "user.name".into(),
                    op: Op::Eq,
                    values: vec![ExclusionValue {
                        text: "<your CI service account>".into(),
                        numeric: false,
                        origin: ValueOrigin::Placeholder,
                    }],
                },
                ExclusionField {
                    field: "source.ip".into(),
                    op: Op::Cidr,
                    values: vec![ev("10.0.0.0/8", false), ev("fe80::/10", false)],
                },
            ],
        };
        let c = clause(&excl).unwrap();
        assert_eq!(
            c,
            r#"not (process.parent.name:("jenkins agent.exe" or "or") and process.executable:*\\bin\\java \(x\).exe and user.name:"<your CI service account>" and source.ip:(10.0.0.0/8 or "fe80::/10"))"#
        );
        // It re-parses and means what it says.
        let q = kql::parse(&format!("event.category:process and {c}"));
        assert!(q.issues.is_empty(), "{:?}", q.issues);
        let mut seen = Vec::new();
        q.logic.visit_cmps(&mut |c, neg| {
            seen.push((
                c.field.raw.clone(),
                c.op,
                c.values.iter().map(|v| v.text.clone()).collect::<Vec<_>>(),
                neg,
            ))
        });
        assert!(seen[1].3);
        assert_eq!(seen[1].2, ["jenkins agent.exe", "or"]);
        assert_eq!(
            (seen[2].1, seen[2].2.clone()),
            (Op::EndsWith, vec!["\\bin\\java (x).exe".to_string()])
        );
        assert_eq!(seen[3].2, ["<your CI service account>"]);
        assert_eq!(seen[4].1, Op::Cidr);
        assert_eq!(seen[4].2, ["10.0.0.0/8", "fe80::/10"]);
        assert!(seen[1..].iter().all(|s| s.3));
    }

    #[test]
    fn clause_appended_to_real_query_is_an_exclusion() {
        let query =
            "event.category:network and network.transport:tcp and destination.port:(6667 or 6697)";
        let text = format!("{query} and {}", clause(&ports()).unwrap());
        let q = kql::parse(&text);
        assert!(q.issues.is_empty());
        let Logic::And(items) = &q.logic else {
            panic!()
        };
        let Some(Logic::Not(n)) = items.last() else {
            panic!("{:?}", q.logic)
        };
        let Logic::Cmp(c) = n.as_ref() else { panic!() };
        assert_eq!(c.field.raw, "source.port");
        assert_eq!(
            c.values.iter().map(|v| v.as_int()).collect::<Vec<_>>(),
            [Some(80), Some(443)]
        );
    }
}
