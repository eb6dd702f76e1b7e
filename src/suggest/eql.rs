//! Exclusions written in EQL.
//!
//! The exclusion becomes a clause `and not <cond>` appended to the
//! condition of every step that holds a triggering comparison (or to the
//! single `where` condition):
//!
//! * `Eq`: `f == v` for one value, `f in (v1, v2)` for several;
//! * `EndsWith` / `StartsWith` / `Contains` / `Wildcard`: `f : "*v"` style
//!   case-insensitive wildcard patterns (`f : ("*a", "*b")` for several);
//! * `Cidr`: `cidrMatch(f, "10.0.0.0/8", …)`;
//! * `Regex`: `f regex "…"`; `Gt`/`Gte`/`Lt`/`Lte`: `f > v`; `Range`:
//!   `f >= lo and f <= hi`; `Exists`: `f != null`; `FieldRef`: `f == g`.
//!
//! Several fields are ANDed: `and not (a in ("x", "y") and b == "z")`.
//! A field the rule does not use (or writes as `?field`) is written as an
//! optional field `?field`, so an exclusion on a field missing from the
//! index mappings cannot make the whole query fail.
//! Strings are double-quoted with `\` and `"` escaped; numbers are bare.
//! When a step condition has an `or` outside brackets it is wrapped in
//! parentheses first, so the clause applies to the whole condition.
//!
//! The rule's anchors are file spans inside a TOML string; the inserted
//! text is escaped for that string's kind (recorded by the parser), and
//! whether a step needs parentheses is the parser's word too.

use super::edit::escape;
use super::{Exclusion, ExclusionField, ExclusionValue, Rendered};
use crate::diagnostic::Edit;
use crate::query::eql::is_reserved;
use crate::rule::{DetectionRule, Op};
use crate::source::{SourceFile, Span};

pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    triggers: &[Span],
) -> Option<Rendered> {
    let optional = |name: &str| field_is_optional(rule, file, name);
    let cond = condition_with(excl, &optional)?;
    let clause = format!("and not {cond}");
    let steps = &rule.anchors.steps;
    let chosen = choose_steps(steps, triggers, rule.anchors.query);

    let edits = build_edits(rule, &chosen, &clause).unwrap_or_default();
    let mut out = Rendered::new(clause, edits);
    if steps.len() > 1 {
        out = out.note(if chosen.is_empty() {
            "Append it to the condition of the sequence step that matches the benign activity."
                .to_string()
        } else {
            let nums: Vec<String> = chosen.iter().map(|i| (i + 1).to_string()).collect();
            let which = if nums.len() == 1 { "step" } else { "steps" };
            format!(
                "Append it to the condition of sequence {which} {} (inside the brackets).",
                nums.join(", ")
            )
        });
    }
    Some(out)
}

/// The steps (indices into `steps`) an exclusion belongs in: those whose
/// condition holds a trigger, or whose category word (between the previous
/// step and this condition) is a trigger. A query with one step uses it
/// when no trigger says otherwise.
fn choose_steps(steps: &[Span], triggers: &[Span], query: Option<Span>) -> Vec<usize> {
    let mut chosen = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let region_start = if i == 0 {
            query.map(|q| q.start).unwrap_or(0)
        } else {
            steps[i - 1].end
        };
        let hit = triggers.iter().any(|t| {
            (t.start >= s.start && t.end <= s.end) || (t.start >= region_start && t.end <= s.start)
        });
        if hit {
            chosen.push(i);
        }
    }
    if chosen.is_empty() && steps.len() == 1 {
        chosen.push(0);
    }
    chosen
}

fn build_edits(rule: &DetectionRule, chosen: &[usize], clause: &str) -> Option<Vec<Edit>> {
    if chosen.is_empty() {
        return None;
    }
    let a = &rule.anchors;
    let quoting = a.query_quoting?;
    let mut edits = Vec::new();
    for &i in chosen {
        let s = *a.steps.get(i)?;
        // Without the parser's word, parentheses are always correct.
        if a.steps_need_parens.get(i).copied().unwrap_or(true) {
            edits.push(Edit::insert(s.start, "("));
            edits.push(Edit::insert(
                s.end,
                escape(quoting, &format!(") {clause}"))?,
            ));
        } else {
            edits.push(Edit::insert(s.end, escape(quoting, &format!(" {clause}"))?));
        }
    }
    edits.sort_by_key(|e| e.offset);
    Some(edits)
}

/// Whether to write `name` as an optional field (`?name`): when the rule
/// writes it so, or does not use it at all (an exclusion on a field that
/// is not mapped in the rule's indices must not make the query fail).
fn field_is_optional(rule: &DetectionRule, file: &SourceFile, name: &str) -> bool {
    let mut first = None;
    if let Some(logic) = &rule.logic {
        logic.visit_cmps(&mut |c, _| {
            if first.is_none() && !c.field.derived && c.field.raw == name {
                first = Some(c.field.span.start);
            }
        });
    }
    let Some(mut at) = first else {
        return true;
    };
    let bytes = file.text.as_bytes();
    if at > 0 && bytes.get(at - 1) == Some(&b'`') {
        at -= 1;
    }
    at > 0 && bytes.get(at - 1) == Some(&b'?')
}

/// The EQL condition that matches the exclusion (without `and not`), with
/// every field written plainly.
pub fn exclusion_condition(excl: &Exclusion) -> Option<String> {
    condition_with(excl, &|_: &str| false)
}

fn condition_with(excl: &Exclusion, optional: &dyn Fn(&str) -> bool) -> Option<String> {
    let parts: Vec<(String, bool)> = excl
        .fields
        .iter()
        .map(|f| render_field(f, optional(&f.field)))
        .collect::<Option<Vec<_>>>()?;
    match parts.as_slice() {
        [] => None,
        [(one, compound)] => Some(if *compound {
            format!("({one})")
        } else {
            one.clone()
        }),
        many => Some(format!(
            "({})",
            many.iter()
                .map(|(p, compound)| if *compound {
                    format!("({p})")
                } else {
                    p.clone()
                })
                .collect::<Vec<_>>()
                .join(" and ")
        )),
    }
}

/// One field's condition, and whether it is itself an `and`/`or` of
/// several comparisons (so it needs parentheses next to others).
fn render_field(f: &ExclusionField, optional: bool) -> Option<(String, bool)> {
    let mut name = eql_field(&f.field);
    if optional {
        name.insert(0, '?');
    }
    let vals = &f.values;
    if vals.is_empty() && f.op != Op::Exists {
        return None;
    }
    let one_or_list = |items: Vec<String>| -> String {
        if items.len() == 1 {
            items.into_iter().next().unwrap_or_default()
        } else {
            format!("({})", items.join(", "))
        }
    };
    let out = match f.op {
        Op::Eq => {
            if vals.len() == 1 {
                (format!("{name} == {}", literal(&vals[0])), false)
            } else {
                let items: Vec<String> = vals.iter().map(literal).collect();
                (format!("{name} in ({})", items.join(", ")), false)
            }
        }
        Op::EndsWith | Op::StartsWith | Op::Contains | Op::Wildcard => {
            let items: Vec<String> = vals
                .iter()
                .map(|v| {
                    let pat = match f.op {
                        Op::EndsWith => format!("*{}", v.text),
                        Op::StartsWith => format!("{}*", v.text),
                        Op::Contains => format!("*{}*", v.text),
                        _ => v.text.clone(),
                    };
                    quote(&pat)
                })
                .collect();
            (format!("{name} : {}", one_or_list(items)), false)
        }
        Op::Regex => {
            let items: Vec<String> = vals.iter().map(|v| quote(&v.text)).collect();
            (format!("{name} regex {}", one_or_list(items)), false)
        }
        Op::Cidr => {
            let items: Vec<String> = vals.iter().map(|v| quote(&v.text)).collect();
            (format!("cidrMatch({name}, {})", items.join(", ")), false)
        }
        Op::Gt | Op::Gte | Op::Lt | Op::Lte => {
            let sym = match f.op {
                Op::Gt => ">",
                Op::Gte => ">=",
                Op::Lt => "<",
                _ => "<=",
            };
            let items: Vec<String> = vals
                .iter()
                .map(|v| format!("{name} {sym} {}", literal(v)))
                .collect();
            let compound = items.len() > 1;
            (items.join(" or "), compound)
        }
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => {
            let lo = vals.first()?;
            let hi = vals.get(1)?;
            let lo_op = if lo_inclusive { ">=" } else { ">" };
            let hi_op = if hi_inclusive { "<=" } else { "<" };
            (
                format!(
                    "{name} {lo_op} {} and {name} {hi_op} {}",
                    literal(lo),
                    literal(hi)
                ),
                true,
            )
        }
        Op::Exists => (format!("{name} != null"), false),
        Op::FieldRef => {
            let items: Vec<String> = vals
                .iter()
                .map(|v| format!("{name} == {}", eql_field(&v.text)))
                .collect();
            let compound = items.len() > 1;
            (items.join(" or "), compound)
        }
    };
    Some(out)
}

/// A value as an EQL literal: numbers bare, everything else quoted.
fn literal(v: &ExclusionValue) -> String {
    let t = v.text.trim();
    let is_number = !t.is_empty()
        && t.parse::<f64>().is_ok()
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if v.numeric && !v.is_placeholder() && is_number {
        t.to_string()
    } else {
        quote(&v.text)
    }
}

/// A double-quoted EQL string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// A field name, with segments that are not plain identifiers backquoted
/// (`` a.`0`.b ``, `` `my-field` ``).
fn eql_field(name: &str) -> String {
    let plain_segment = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && (b[0].is_ascii_alphabetic() || b[0] == b'_' || b[0] == b'@')
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'@')
    };
    let keyword = is_reserved(name) || name == "any";
    if !keyword && name.split('.').all(plain_segment) {
        return name.to_string();
    }
    if keyword || name.split('.').any(|s| s.is_empty()) {
        return format!("`{}`", name.replace('`', "``"));
    }
    name.split('.')
        .map(|s| {
            if plain_segment(s) {
                s.to_string()
            } else {
                format!("`{}`", s.replace('`', "``"))
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Suggestion;

    /// Rendered as the rendering stage does (with the suggestion's
    /// applicability).
    fn render(
        rule: &DetectionRule,
        file: &SourceFile,
        excl: &Exclusion,
        triggers: &[Span],
    ) -> Option<Suggestion> {
        crate::suggest::render(rule, file, excl, triggers)
    }
    use crate::suggest::ValueOrigin;

    /// The clause, without the Kibana exception note that follows it.
    fn head(t: &str) -> &str {
        t.split("\n\n").next().unwrap_or(t)
    }
    use crate::query::eql::parse;
    use crate::rule::{Anchors, Format, Language, Logic, Quoting, RuleMeta, Schema};

    fn val(t: &str) -> ExclusionValue {
        ExclusionValue {
            text: t.to_string(),
            numeric: t.parse::<f64>().is_ok(),
            origin: ValueOrigin::Catalogue,
        }
    }

    fn field(name: &str, op: Op, values: &[&str]) -> ExclusionField {
        ExclusionField {
            field: name.to_string(),
            op,
            values: values.iter().map(|v| val(v)).collect(),
        }
    }

    fn excl(fields: Vec<ExclusionField>) -> Exclusion {
        Exclusion {
            name: "test".to_string(),
            fields,
        }
    }

    /// A TOML rule file holding `q` in a string of `kind`, and the map from
    /// each query byte offset (and the end) to its file offset.
    fn toml_file(q: &str, kind: Quoting) -> (String, Vec<usize>) {
        let (open, close) = match kind {
            Quoting::TomlMultiLiteral => ("'''\n", "'''"),
            Quoting::TomlMultiBasic => ("\"\"\"\n", "\"\"\""),
            Quoting::TomlBasic => ("\"", "\""),
            _ => ("'", "'"),
        };
        let mut f = String::from("[rule]\nlanguage = \"eql\"\nquery = ");
        f.push_str(open);
        let mut map = Vec::with_capacity(q.len() + 1);
        for c in q.chars() {
            let pos = f.len();
            let mut buf = [0u8; 4];
            let piece = match kind {
                Quoting::TomlMultiLiteral | Quoting::TomlLiteral => {
                    c.encode_utf8(&mut buf).to_string()
                }
                _ => escape(kind, c.encode_utf8(&mut buf)).unwrap(),
            };
            for k in 0..c.len_utf8() {
                map.push(if piece.len() == c.len_utf8() {
                    pos + k
                } else {
                    pos
                });
            }
            f.push_str(&piece);
        }
        map.push(f.len());
        f.push_str(close);
        f.push_str("\ntype = \"eql\"\n");
        (f, map)
    }

    /// Parse `q` stored in a file of `kind`, with spans mapped to the file.
    fn rule_in_file(q: &str, kind: Quoting) -> (DetectionRule, SourceFile) {
        let (text, map) = toml_file(q, kind);
        let parsed = parse(q);
        assert!(!parsed.has_errors(), "{:?}", parsed.issues);
        let m = |s: Span| Span::new(map[s.start], map[s.end]);
        let mut logic = parsed.logic;
        logic.map_spans(&m);
        let anchors = Anchors {
            query: Some(Span::new(map[0], map[q.len()])),
            query_quoting: Some(kind),
            steps: parsed.anchors.steps.iter().map(|s| m(*s)).collect(),
            steps_need_parens: parsed.anchors.steps_need_parens.clone(),
            ..Anchors::default()
        };
        let rule = DetectionRule {
            format: Format::Elastic,
            language: Language::Eql,
            schema: Schema::Ecs,
            meta: RuleMeta::default(),
            logic: Some(logic),
            anchors,
            span: Span::new(0, text.len()),
        };
        (rule, SourceFile::new("rule.toml", text))
    }

    /// Spans of the comparisons on `field` in the rule (file offsets).
    fn trigger_spans(rule: &DetectionRule, field: &str) -> Vec<Span> {
        let mut out = Vec::new();
        if let Some(l) = &rule.logic {
            l.visit_cmps(&mut |c, neg| {
                if c.field.raw == field && !neg {
                    out.push(c.span);
                }
            });
        }
        out
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut out = text.to_string();
        let mut sorted: Vec<&Edit> = edits.iter().collect();
        sorted.sort_by_key(|e| std::cmp::Reverse(e.offset));
        for e in sorted {
            out.replace_range(e.offset..e.offset + e.length, &e.replacement);
        }
        out
    }

    /// The query of an edited TOML file, decoded by the toml crate.
    fn query_of(toml_text: &str) -> String {
        let doc: toml::Table = toml::from_str(toml_text).expect("edited file is valid TOML");
        doc["rule"]["query"].as_str().unwrap().to_string()
    }

    /// For each step of `q`, whether it holds a negated comparison on
    /// `field` with `value`.
    fn negated_in_steps(q: &str, field: &str, value: &str) -> Vec<bool> {
        let p = parse(q);
        assert!(
            !p.has_errors(),
            "edited query does not parse: {q}\n{:?}",
            p.issues
        );
        let mut hits = Vec::new();
        p.logic.visit_cmps(&mut |c, neg| {
            if neg && c.field.raw == field && c.values.iter().any(|v| v.text == value) {
                hits.push(c.span);
            }
        });
        p.anchors
            .steps
            .iter()
            .map(|s| hits.iter().any(|h| h.start >= s.start && h.end <= s.end))
            .collect()
    }

    fn suggest(
        q: &str,
        kind: Quoting,
        ex: &Exclusion,
        trigger_field: &str,
    ) -> (Suggestion, String) {
        let (rule, file) = rule_in_file(q, kind);
        let triggers = trigger_spans(&rule, trigger_field);
        let s = render(&rule, &file, ex, &triggers).expect("a suggestion");
        let edited = apply(&file.text, &s.fix.edits);
        (s, query_of(&edited))
    }

    /// The help notes for an exclusion of `q` triggered on `trigger_field`.
    fn step_notes(q: &str, ex: &Exclusion, trigger_field: &str) -> Vec<String> {
        let (rule, file) = rule_in_file(q, Quoting::TomlMultiLiteral);
        let triggers = trigger_spans(&rule, trigger_field);
        crate::suggest::render_with_notes(&rule, &file, ex, &triggers)
            .expect("a suggestion")
            .1
    }

    #[test]
    fn simple_query_port_list() {
        let q = "network where destination.port == 6667 and source.port > 1024";
        let ex = excl(vec![field("source.port", Op::Eq, &["80", "443"])]);
        let (s, edited) = suggest(q, Quoting::TomlMultiLiteral, &ex, "destination.port");
        // Code only: the Kibana note and step numbers go to the help.
        assert_eq!(s.text, "and not source.port in (80, 443)");
        assert!(!s.has_placeholders);
        assert_eq!(s.fix.edits.len(), 1);
        assert_eq!(
            edited,
            "network where destination.port == 6667 and source.port > 1024 and not source.port in (80, 443)"
        );
        assert_eq!(negated_in_steps(&edited, "source.port", "443"), vec![true]);
    }

    #[test]
    fn top_level_or_is_wrapped() {
        let q = "process where process.name == \"a\" or process.name == \"b\"";
        let ex = excl(vec![field("process.parent.name", Op::Eq, &["jenkins"])]);
        let (s, edited) = suggest(q, Quoting::TomlMultiLiteral, &ex, "process.name");
        assert_eq!(s.fix.edits.len(), 2);
        assert_eq!(
            edited,
            "process where (process.name == \"a\" or process.name == \"b\") and not ?process.parent.name == \"jenkins\""
        );
        let p = parse(&edited);
        // the exclusion applies to both alternatives: And(.., Or, Not)
        match &p.logic {
            Logic::And(items) => {
                assert!(matches!(items[1], Logic::Or(_)));
                assert!(matches!(items[2], Logic::Not(_)));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sequence_step_with_trigger_only() {
        let q = "sequence by host.id with maxspan=1m\n  [process where process.name == \"cmd.exe\"]\n  [network where destination.port == 4444 or destination.port == 4445]\n  [file where file.name : \"*.tmp\"]";
        let ex = excl(vec![field(
            "process.executable",
            Op::EndsWith,
            &["\\jenkins.exe"],
        )]);
        let (s, edited) = suggest(q, Quoting::TomlMultiLiteral, &ex, "destination.port");
        assert_eq!(s.text, "and not ?process.executable : \"*\\\\jenkins.exe\"");
        assert_eq!(
            step_notes(q, &ex, "destination.port"),
            ["Append it to the condition of sequence step 2 (inside the brackets)."]
        );
        assert!(edited.contains("[network where (destination.port == 4444 or destination.port == 4445) and not ?process.executable : \"*\\\\jenkins.exe\"]"), "{edited}");
        assert_eq!(
            negated_in_steps(&edited, "process.executable", "\\jenkins.exe"),
            vec![false, true, false]
        );
    }

    #[test]
    fn sequence_several_steps() {
        let q = "sequence [process where user.name == \"a\"] [process where true] [process where user.name == \"b\"] until [process where user.name == \"c\"]";
        let ex = excl(vec![field("user.name", Op::Eq, &["svc"])]);
        let (s, edited) = suggest(q, Quoting::TomlMultiLiteral, &ex, "user.name");
        assert_eq!(s.text, "and not user.name == \"svc\"");
        assert_eq!(
            step_notes(q, &ex, "user.name"),
            ["Append it to the condition of sequence steps 1, 3 (inside the brackets)."]
        );
        assert_eq!(
            negated_in_steps(&edited, "user.name", "svc"),
            vec![true, false, true]
        );
    }

    #[test]
    fn trigger_on_category_word_picks_its_step() {
        let q = "sequence [process where a == 1] [network where b == 2]";
        let ex = excl(vec![field("c", Op::Eq, &["x"])]);
        let (rule, file) = rule_in_file(q, Quoting::TomlMultiLiteral);
        let mut cat = Vec::new();
        if let Some(l) = &rule.logic {
            l.visit_cmps(&mut |c, _| {
                if c.values.iter().any(|v| v.text == "network") {
                    cat.push(c.span);
                }
            });
        }
        assert_eq!(cat.len(), 1);
        let (s, notes) = crate::suggest::render_with_notes(&rule, &file, &ex, &cat).unwrap();
        assert_eq!(s.text, "and not ?c == \"x\"");
        assert!(notes[0].contains("sequence step 2 "), "{notes:?}");
        let edited = query_of(&apply(&file.text, &s.fix.edits));
        assert_eq!(negated_in_steps(&edited, "c", "x"), vec![false, true]);
    }

    #[test]
    fn sequence_without_matching_step_offers_text_only() {
        let q = "sequence [process where a == 1] [network where b == 2]";
        let ex = excl(vec![field("c", Op::Eq, &["x"])]);
        let (rule, file) = rule_in_file(q, Quoting::TomlMultiLiteral);
        let s = render(&rule, &file, &ex, &[]).unwrap();
        assert_eq!(head(&s.text), "and not ?c == \"x\"");
        assert!(s.fix.edits.is_empty());
        // a plain query needs no trigger
        let (rule, file) = rule_in_file("process where a == 1", Quoting::TomlMultiLiteral);
        let s = render(&rule, &file, &ex, &[]).unwrap();
        assert_eq!(s.fix.edits.len(), 1);
    }

    #[test]
    fn basic_string_is_escaped() {
        let q = "process where process.name : \"cmd.exe\" and process.parent.executable : \"C:\\\\x\\\\*\"";
        let ex = excl(vec![field(
            "process.parent.executable",
            Op::EndsWith,
            &["\\jenkins.exe"],
        )]);
        for kind in [Quoting::TomlBasic, Quoting::TomlMultiBasic] {
            let (s, edited) = suggest(q, kind, &ex, "process.name");
            assert_eq!(s.fix.edits.len(), 1);
            assert!(
                s.fix.edits[0]
                    .replacement
                    .contains("\\\"*\\\\\\\\jenkins.exe\\\""),
                "{:?}",
                s.fix.edits[0]
            );
            assert_eq!(
                edited,
                format!("{q} and not process.parent.executable : \"*\\\\jenkins.exe\"")
            );
            assert_eq!(
                negated_in_steps(&edited, "process.parent.executable", "\\jenkins.exe"),
                vec![true]
            );
        }
    }

    #[test]
    fn basic_string_with_escaped_or_is_wrapped() {
        // the `or` inside an escaped EQL string is not a top-level `or`
        let q = "process where a : \"x or y\" and b == 1";
        let ex = excl(vec![field("c", Op::Eq, &["z"])]);
        let (s, edited) = suggest(q, Quoting::TomlBasic, &ex, "a");
        assert_eq!(s.fix.edits.len(), 1);
        assert_eq!(edited, format!("{q} and not ?c == \"z\""));
    }

    #[test]
    fn literal_string_cannot_hold_quotes() {
        let q = "process where a == 1";
        let ex = excl(vec![field("c", Op::Eq, &["it's"])]);
        let (rule, file) = rule_in_file(q, Quoting::TomlLiteral);
        let s = render(&rule, &file, &ex, &[]).unwrap();
        assert!(s.fix.edits.is_empty());
        let ex = excl(vec![field("c", Op::Eq, &["ok"])]);
        let s = render(&rule, &file, &ex, &[]).unwrap();
        let edited = query_of(&apply(&file.text, &s.fix.edits));
        assert_eq!(edited, "process where a == 1 and not ?c == \"ok\"");
    }

    #[test]
    fn several_fields_and_ops() {
        let ex = excl(vec![
            field("a", Op::Eq, &["x", "y"]),
            field("b", Op::Eq, &["z"]),
        ]);
        assert_eq!(
            exclusion_condition(&ex).unwrap(),
            "(a in (\"x\", \"y\") and b == \"z\")"
        );
        let ex = excl(vec![field(
            "source.ip",
            Op::Cidr,
            &["10.0.0.0/8", "192.168.0.0/16"],
        )]);
        assert_eq!(
            exclusion_condition(&ex).unwrap(),
            "cidrMatch(source.ip, \"10.0.0.0/8\", \"192.168.0.0/16\")"
        );
        let ex = excl(vec![field("p", Op::StartsWith, &["C:\\a", "D:\\b"])]);
        assert_eq!(
            exclusion_condition(&ex).unwrap(),
            "p : (\"C:\\\\a*\", \"D:\\\\b*\")"
        );
        let ex = excl(vec![field("p", Op::Contains, &["x\"y"])]);
        assert_eq!(exclusion_condition(&ex).unwrap(), "p : \"*x\\\"y*\"");
        let ex = excl(vec![
            field(
                "source.port",
                Op::Range {
                    lo_inclusive: true,
                    hi_inclusive: false,
                },
                &["49152", "65536"],
            ),
            field("my-field", Op::Exists, &[]),
        ]);
        assert_eq!(
            exclusion_condition(&ex).unwrap(),
            "((source.port >= 49152 and source.port < 65536) and `my-field` != null)"
        );
        let ex = excl(vec![field("a.0.b", Op::Gt, &["5"])]);
        assert_eq!(exclusion_condition(&ex).unwrap(), "a.`0`.b > 5");
        assert_eq!(exclusion_condition(&excl(vec![])), None);
        assert_eq!(
            exclusion_condition(&excl(vec![field("a", Op::Eq, &[])])),
            None
        );
        // every rendered condition parses
        for f in [
            field("a", Op::Regex, &["x.*"]),
            field("a", Op::Wildcard, &["a*b?c"]),
            field("a", Op::FieldRef, &["b.c"]),
            field("a", Op::Lte, &["1", "2"]),
        ] {
            let cond = exclusion_condition(&excl(vec![f])).unwrap();
            let q = format!("any where true and not {cond}");
            assert!(!parse(&q).has_errors(), "{q}");
        }
    }

    #[test]
    fn placeholders_are_quoted() {
        let ex = excl(vec![ExclusionField {
            field: "destination.ip".into(),
            op: Op::Eq,
            values: vec![ExclusionValue {
                text: "<your DNS servers>".into(),
                numeric: false,
                origin: ValueOrigin::Placeholder,
            }],
        }]);
        let (rule, file) = rule_in_file(
            "network where destination.port == 53",
            Quoting::TomlMultiLiteral,
        );
        let s = render(&rule, &file, &ex, &[]).unwrap();
        assert!(s.has_placeholders);
        assert_eq!(
            head(&s.text),
            "and not ?destination.ip == \"<your DNS servers>\""
        );
        // numeric-looking placeholders stay quoted
        let v = ExclusionValue {
            text: "53".into(),
            numeric: true,
            origin: ValueOrigin::Placeholder,
        };
        assert_eq!(literal(&v), "\"53\"");
    }

    #[test]
    fn optional_fields_follow_the_rule() {
        let q =
            "process where ?process.parent.name == \"a\" and user.name == \"b\" and ?`x-y` == 1";
        let (rule, file) = rule_in_file(q, Quoting::TomlMultiLiteral);
        let render_for = |name: &str| {
            let ex = excl(vec![field(name, Op::Eq, &["v"])]);
            head(&render(&rule, &file, &ex, &[]).unwrap().text).to_string()
        };
        assert_eq!(
            render_for("process.parent.name"),
            "and not ?process.parent.name == \"v\""
        );
        assert_eq!(render_for("user.name"), "and not user.name == \"v\"");
        assert_eq!(render_for("x-y"), "and not ?`x-y` == \"v\"");
        assert_eq!(render_for("host.name"), "and not ?host.name == \"v\"");
    }

    #[test]
    fn field_names_are_backquoted_when_needed() {
        assert_eq!(eql_field("process.name"), "process.name");
        assert_eq!(eql_field("@timestamp"), "@timestamp");
        assert_eq!(eql_field("my-field"), "`my-field`");
        assert_eq!(eql_field("a.0.b"), "a.`0`.b");
        assert_eq!(eql_field("a`b"), "`a``b`");
        assert_eq!(eql_field("in"), "`in`");
        assert_eq!(eql_field("a..b"), "`a..b`");
    }
}
