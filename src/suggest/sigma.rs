//! Exclusions written in Sigma: a new `filter_<name>` selection in the
//! detection, and `and not filter_<name>` added to every condition.
//!
//! ```yaml
//! filter_ephemeral_port:
//!     SourcePort:
//!         - 80
//!         - 443
//! condition: selection and not filter_ephemeral_port
//! ```
//!
//! The edits insert the selection just above the `condition` key, at the
//! detection's own indentation, and append `and not filter_<name>` to each
//! condition's expression where it ends (wrapping it in parentheses when
//! it has an `or`), so a condition written over several lines keeps its
//! lines, its quoting and a legacy `| aggregation`. Everything the edits
//! need was recorded by the Sigma parser in the rule's anchors.

use super::{Exclusion, ExclusionField, ExclusionValue, Rendered};
use crate::diagnostic::Edit;
use crate::format::sigma::condition::glob_match;
use crate::rule::{ConditionExpr, DetectionRule, Op};
use crate::source::{SourceFile, Span};

pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    _triggers: &[Span],
) -> Option<Rendered> {
    let a = &rule.anchors;
    if excl.fields.is_empty() || rule.logic.is_none() || a.conditions.is_empty() {
        return None;
    }
    if excl
        .fields
        .iter()
        .any(|f| modifier(f.op).is_none() || f.values.is_empty() || f.field.is_empty())
    {
        return None;
    }
    let text = file.text.as_str();
    // The old conditions, as decoded text.
    let old: Vec<String> = if a.condition_exprs.len() == a.conditions.len() {
        a.condition_exprs.iter().map(|c| c.value.clone()).collect()
    } else {
        a.conditions
            .iter()
            .map(|sp| file.slice(*sp).to_string())
            .collect()
    };
    let name = filter_name(&excl.name, &a.selections, &old)?;
    let step = a.detection_step.unwrap_or(4);
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let new: Vec<String> = old.iter().map(|c| add_exclusion(c, &name)).collect();

    let body = selection_lines(&name, &excl.fields, step);
    let mut shown = body.join("\n");
    shown.push('\n');
    if new.len() == 1 {
        shown.push_str(&format!("condition: {}\n", yaml_scalar(&new[0])));
    } else {
        shown.push_str("condition:\n");
        for c in &new {
            shown.push_str(&format!("{}- {}\n", " ".repeat(step), yaml_scalar(c)));
        }
    }

    let edits = edits(text, rule, &body, &name, nl).unwrap_or_default();
    Some(Rendered::new(shown, edits))
}

fn modifier(op: Op) -> Option<&'static str> {
    match op {
        Op::Eq => Some(""),
        Op::EndsWith => Some("|endswith"),
        Op::StartsWith => Some("|startswith"),
        Op::Contains => Some("|contains"),
        Op::Cidr => Some("|cidr"),
        _ => None,
    }
}

/// `filter_<name>` in snake_case, unique among the rule's selections and
/// not caught by an `all of <pattern>` (or `N of`) of a condition: there
/// the new selection would be required instead of excluded. `1 of` patterns
/// are harmless (`(a or f) and not f` is `a and not f`). `None` when no
/// name fits (`all of *`).
fn filter_name(name: &str, existing: &[String], conditions: &[String]) -> Option<String> {
    let base = base_name(name);
    let quants: Vec<(String, String)> = conditions.iter().flat_map(|c| quantified(c)).collect();
    let fits = |n: &str| {
        !existing.iter().any(|s| s == n)
            && !quants.iter().any(|(q, p)| {
                let one = q == "1" || q.eq_ignore_ascii_case("any");
                let hit = if p.eq_ignore_ascii_case("them") {
                    !n.starts_with('_')
                } else {
                    glob_match(p, n)
                };
                hit && !one
            })
    };
    let underscored = format!("_{base}");
    let numbered =
        |b: String| std::iter::once(b.clone()).chain((2..50).map(move |i| format!("{b}_{i}")));
    numbered(base)
        .chain(numbered(underscored))
        .find(|n| fits(n))
}

/// The `(quantifier, pattern)` pairs of `x of y` in a condition.
fn quantified(cond: &str) -> Vec<(String, String)> {
    let head = cond.split('|').next().unwrap_or("");
    let spaced = head.replace(['(', ')'], " ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    words
        .windows(3)
        .filter(|w| w[1].eq_ignore_ascii_case("of"))
        .map(|w| (w[0].to_string(), w[2].to_string()))
        .collect()
}

fn base_name(name: &str) -> String {
    let mut base: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    base = base.trim_matches('_').to_string();
    if base.is_empty() {
        base = "exclusion".into();
    }
    if !base.starts_with("filter_") {
        base = format!("filter_{base}");
    }
    base
}

/// True when `cond` already ANDs a `not 1 of <pattern>` that `name`
/// matches at its top level: the new selection is excluded as it is.
fn already_excludes(cond: &str, name: &str) -> bool {
    let head = cond.split('|').next().unwrap_or("");
    let spaced = head.replace('(', " ( ").replace(')', " ) ");
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let mut depth = 0i32;
    let mut top = Vec::new();
    for w in &words {
        match *w {
            "(" => depth += 1,
            ")" => depth -= 1,
            w if depth == 0 => top.push(w),
            _ => {}
        }
    }
    if top.iter().any(|w| w.eq_ignore_ascii_case("or")) {
        return false;
    }
    top.windows(4).any(|w| {
        w[0].eq_ignore_ascii_case("not")
            && (w[1] == "1" || w[1].eq_ignore_ascii_case("any"))
            && w[2].eq_ignore_ascii_case("of")
            && w[3].contains('*')
            && glob_match(w[3], name)
    })
}

/// `<old> and not <name>`, parenthesising `old` when it has an `or`, and
/// keeping a legacy `| aggregation` at the end.
fn add_exclusion(old: &str, name: &str) -> String {
    if already_excludes(old, name) {
        return old.trim().to_string();
    }
    let (head, agg) = match old.find('|') {
        Some(i) => (&old[..i], Some(old[i..].trim())),
        None => (old, None),
    };
    let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = if has_or(&head) {
        format!("({head}) and not {name}")
    } else {
        format!("{head} and not {name}")
    };
    if let Some(a) = agg {
        out.push(' ');
        out.push_str(a);
    }
    out
}

/// The new selection, one line per entry, without the base indentation.
pub(crate) fn selection_lines(name: &str, fields: &[ExclusionField], step: usize) -> Vec<String> {
    let pad = " ".repeat(step);
    let mut lines = vec![format!("{name}:")];
    for f in fields {
        let key = yaml_key(&format!("{}{}", f.field, modifier(f.op).unwrap_or("")));
        if f.values.len() == 1 {
            lines.push(format!("{pad}{key}: {}", sigma_value(&f.values[0], f.op)));
        } else {
            lines.push(format!("{pad}{key}:"));
            for v in &f.values {
                lines.push(format!("{pad}{pad}- {}", sigma_value(v, f.op)));
            }
        }
    }
    lines
}

fn yaml_key(key: &str) -> String {
    if key
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '|' | '/'))
        && !key.starts_with(['-', '|'])
    {
        key.to_string()
    } else {
        single_quote(key)
    }
}

/// A value as a YAML scalar: numbers bare, everything else single-quoted
/// with Sigma's wildcard characters escaped.
fn sigma_value(v: &ExclusionValue, op: Op) -> String {
    let t = v.text.as_str();
    if v.numeric && !v.is_placeholder() && is_number(t) {
        return t.to_string();
    }
    if op == Op::Cidr {
        return single_quote(t);
    }
    single_quote(&sigma_escape(t))
}

fn is_number(t: &str) -> bool {
    let d = t.strip_prefix('-').unwrap_or(t);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && d.matches('.').count() <= 1
        && !d.starts_with('.')
        && !d.ends_with('.')
        && (d.len() == 1 || !d.starts_with('0') || d.starts_with("0."))
}

/// Escape `*` and `?` (literal characters, not wildcards) and the
/// backslashes that would otherwise escape them or each other.
fn sigma_escape(t: &str) -> String {
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::with_capacity(t.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '*' | '?' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => {
                let next = chars.get(i + 1).copied();
                if matches!(next, None | Some('*') | Some('?') | Some('\\')) {
                    out.push_str("\\\\");
                } else {
                    out.push('\\');
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn single_quote(t: &str) -> String {
    format!("'{}'", t.replace('\'', "''"))
}

/// `t` as a plain scalar when that reads back unchanged, else quoted.
fn yaml_scalar(t: &str) -> String {
    let bad_start = t.starts_with([
        '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
        '`', ' ',
    ]);
    if t.is_empty()
        || bad_start
        || t.ends_with([' ', ':'])
        || t.contains(": ")
        || t.contains(" #")
        || t.contains(['\n', '\t'])
    {
        single_quote(t)
    } else {
        t.to_string()
    }
}

fn edits(
    text: &str,
    rule: &DetectionRule,
    body: &[String],
    name: &str,
    nl: &str,
) -> Option<Vec<Edit>> {
    let a = &rule.anchors;
    // A flow-style detection (`{…}`) has no lines to add a selection to.
    a.detection_indent?;
    let key_start = a.condition_key?.start;
    if a.condition_exprs.len() != a.conditions.len() {
        return None;
    }
    let line_start = text[..key_start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let prefix = text.get(line_start..key_start)?;
    if !prefix.chars().all(|c| c == ' ') {
        return None;
    }
    // Keep comment lines written just above the condition with it.
    let mut insert_at = line_start;
    while insert_at > 0 {
        let prev_start = text[..insert_at - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[prev_start..insert_at - 1].trim_end_matches('\r');
        if line.starts_with(prefix) && line[prefix.len()..].starts_with('#') {
            insert_at = prev_start;
        } else {
            break;
        }
    }
    let mut block = String::new();
    for l in body {
        block.push_str(prefix);
        block.push_str(l);
        block.push_str(nl);
    }
    let mut out = vec![Edit::insert(insert_at, block)];
    for c in &a.condition_exprs {
        out.extend(condition_edits(text, c, name)?);
    }
    Some(out)
}

/// The insertions that turn one condition into `(<it>) and not <name>`
/// where it is written: nothing else of it changes.
fn condition_edits(text: &str, c: &ConditionExpr, name: &str) -> Option<Vec<Edit>> {
    if already_excludes(&c.value, name) {
        return Some(Vec::new());
    }
    if c.end <= c.start || c.end > text.len() || !text.is_char_boundary(c.start) {
        return None;
    }
    let head = c.value.split('|').next().unwrap_or("");
    if has_or(head) {
        Some(vec![
            Edit::insert(c.start, "("),
            Edit::insert(c.end, format!(") and not {name}")),
        ])
    } else {
        Some(vec![Edit::insert(c.end, format!(" and not {name}"))])
    }
}

fn has_or(head: &str) -> bool {
    head.split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .any(|w| w.eq_ignore_ascii_case("or"))
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
    use crate::diagnostic::Severity;
    use crate::format::sigma::parse;
    use crate::rule::Logic;
    use crate::suggest::ValueOrigin;

    /// `(field, op, [(value, numeric)])`
    type Spec<'a> = (&'a str, Op, Vec<(&'a str, bool)>);

    fn excl(name: &str, fields: Vec<Spec<'_>>) -> Exclusion {
        Exclusion {
            name: name.into(),
            fields: fields
                .into_iter()
                .map(|(f, op, vals)| ExclusionField {
                    field: f.into(),
                    op,
                    values: vals
                        .into_iter()
                        .map(|(t, numeric)| ExclusionValue {
                            text: t.into(),
                            numeric,
                            origin: if t.starts_with('<') {
                                ValueOrigin::Placeholder
                            } else {
                                ValueOrigin::Catalogue
                            },
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut e = edits.to_vec();
        e.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        let mut out = text.to_string();
        for ed in e {
            out.replace_range(ed.span.start..ed.span.end, &ed.replacement);
        }
        out
    }

    /// Render, apply, re-parse: no errors, and every exclusion field is a
    /// negated comparison with the expected values.
    fn round_trip(text: &str, ex: &Exclusion) -> (Suggestion, String) {
        let file = SourceFile::new("r.yml", text);
        let parsed = parse(&file);
        assert!(
            parsed.issues.iter().all(|i| i.severity != Severity::Error),
            "{:#?}",
            parsed.issues
        );
        let rule = &parsed.rules[0];
        let s = render(rule, &file, ex, &[]).expect("a suggestion");
        assert!(!s.fix.edits.is_empty(), "no edits for:\n{text}");
        let fixed = apply(text, &s.fix.edits);
        let f2 = SourceFile::new("r.yml", fixed.clone());
        let p2 = parse(&f2);
        assert!(
            p2.issues.iter().all(|i| i.severity != Severity::Error),
            "{fixed}\n{:#?}",
            p2.issues
        );
        for r in &p2.rules {
            let logic = r.logic.as_ref().unwrap();
            for f in &ex.fields {
                let mut found = false;
                logic.visit_cmps(&mut |c, neg| {
                    let vals: Vec<&str> = c.values.iter().map(|v| v.text.as_str()).collect();
                    let want: Vec<&str> = f.values.iter().map(|v| v.text.as_str()).collect();
                    if neg && c.field.raw == f.field && c.op == f.op && vals == want {
                        found = true;
                    }
                });
                assert!(
                    found,
                    "exclusion on {} not found under Not in:\n{fixed}\n{logic:#?}",
                    f.field
                );
            }
            // the old positive logic is still there
            let mut positive = 0;
            logic.visit_cmps(&mut |_, neg| positive += usize::from(!neg));
            assert!(positive > 0);
        }
        (s, fixed)
    }

    fn ports() -> Exclusion {
        excl(
            "ephemeral_port",
            vec![("SourcePort", Op::Eq, vec![("80", true), ("443", true)])],
        )
    }

    #[test]
    fn text_matches_the_documented_shape() {
        let text = "title: t\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        Initiated: 'true'\n    condition: selection\n";
        let (s, fixed) = round_trip(text, &ports());
        assert_eq!(
            s.text,
            "filter_ephemeral_port:\n    SourcePort:\n        - 80\n        - 443\ncondition: selection and not filter_ephemeral_port\n"
        );
        assert!(!s.has_placeholders);
        assert_eq!(
            fixed,
            "title: t\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        Initiated: 'true'\n    filter_ephemeral_port:\n        SourcePort:\n            - 80\n            - 443\n    condition: selection and not filter_ephemeral_port\n"
        );
    }

    #[test]
    fn endswith_value_is_quoted_and_escaped() {
        let text = "title: t\ndetection:\n  selection:\n    Image|endswith: '\\java.exe'\n  condition: selection\n";
        let ex = excl(
            "ci_build_agent",
            vec![("ParentImage", Op::EndsWith, vec![("\\jenkins.exe", false)])],
        );
        let (s, fixed) = round_trip(text, &ex);
        assert_eq!(
            s.text,
            "filter_ci_build_agent:\n  ParentImage|endswith: '\\jenkins.exe'\ncondition: selection and not filter_ci_build_agent\n"
        );
        assert!(fixed.contains("\n  filter_ci_build_agent:\n    ParentImage|endswith: '\\jenkins.exe'\n  condition: selection and not filter_ci_build_agent\n"), "{fixed}");
    }

    #[test]
    fn tricky_strings_survive() {
        let text = rule4("selection");
        let ex = excl(
            "odd",
            vec![
                (
                    "User",
                    Op::Eq,
                    vec![
                        ("O'Brien", false),
                        ("a*b?c", false),
                        ("\\\\server\\share\\", false),
                    ],
                ),
                ("Port", Op::Eq, vec![("0443", true)]),
                ("SourceIp", Op::Cidr, vec![("10.0.0.0/8", false)]),
                ("Path", Op::StartsWith, vec![("C:\\Temp\\", false)]),
            ],
        );
        round_trip(&text, &ex);
    }

    fn rule4(cond: &str) -> String {
        format!(
            "title: t\nlogsource:\n    product: windows\ndetection:\n    selection:\n        A: 1\n    selection_b:\n        B: 2\n    filter_main:\n        C: 3\n    condition: {cond}\nlevel: high\n"
        )
    }

    #[test]
    fn condition_shapes() {
        for cond in [
            "selection",
            "'selection'",
            "\"selection and not filter_main\"",
            "selection or selection_b",
            "1 of selection* and not 1 of filter_*",
            "all of selection*",
            "|\n        selection and\n        not filter_main",
            ">\n        selection or\n        selection_b",
            "selection and\n        not filter_main",
            "\n        - selection\n        - selection_b and not filter_main",
            "[selection, selection_b]",
        ] {
            let (_, fixed) = round_trip(&rule4(cond), &ports());
            assert!(fixed.contains("filter_ephemeral_port:"), "{fixed}");
        }
    }

    #[test]
    fn or_is_parenthesised_and_lists_each_get_it() {
        let (s, _) = round_trip(&rule4("selection or selection_b"), &ports());
        assert!(s
            .text
            .ends_with("condition: (selection or selection_b) and not filter_ephemeral_port\n"));
        let (s, fixed) = round_trip(
            &rule4("\n        - selection\n        - selection_b"),
            &ports(),
        );
        assert!(s.text.contains("condition:\n    - selection and not filter_ephemeral_port\n    - selection_b and not filter_ephemeral_port\n"), "{}", s.text);
        assert!(fixed.contains("- selection_b and not filter_ephemeral_port\n"));
    }

    #[test]
    fn name_is_unique() {
        let text = rule4("selection and not filter_main");
        let ex = excl("main", vec![("D", Op::Eq, vec![("x", false)])]);
        let (s, _) = round_trip(&text, &ex);
        assert!(s.text.starts_with("filter_main_2:\n"));
    }

    #[test]
    fn all_of_patterns_never_require_the_filter() {
        let (s, _) = round_trip(&rule4("all of them"), &ports());
        assert!(
            s.text.starts_with("_filter_ephemeral_port:\n"),
            "{}",
            s.text
        );
        let (s, _) = round_trip(&rule4("selection and not all of filter*"), &ports());
        assert!(
            s.text.starts_with("_filter_ephemeral_port:\n"),
            "{}",
            s.text
        );
        let (s, _) = round_trip(&rule4("1 of them"), &ports());
        assert!(s.text.starts_with("filter_ephemeral_port:\n"), "{}", s.text);
        let text = rule4("all of *");
        let file = SourceFile::new("r.yml", text.as_str());
        let p = parse(&file);
        assert!(render(&p.rules[0], &file, &ports(), &[]).is_none());
    }

    #[test]
    fn comments_above_condition_stay_with_it() {
        let text = "title: t\ndetection:\n    selection:\n        A: 1\n    # why\n    condition: selection\n";
        let (_, fixed) = round_trip(text, &ports());
        assert!(
            fixed.contains("            - 443\n    # why\n    condition: selection and"),
            "{fixed}"
        );
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "title: t\r\ndetection:\r\n    selection:\r\n        A: 1\r\n    condition: selection\r\n";
        let (_, fixed) = round_trip(text, &ports());
        assert!(!fixed.replace("\r\n", "").contains('\n'), "{fixed:?}");
    }

    #[test]
    fn a_matching_not_1_of_pattern_needs_no_condition_change() {
        let text = rule4("selection and not 1 of filter*");
        let (s, fixed) = round_trip(&text, &ports());
        assert_eq!(s.fix.edits.len(), 1);
        assert!(s
            .text
            .ends_with("condition: selection and not 1 of filter*\n"));
        assert!(fixed.contains("    condition: selection and not 1 of filter*\n"));
        assert!(!already_excludes("a or not 1 of filter*", "filter_x"));
        assert!(!already_excludes(
            "a and not 1 of filter_main_*",
            "filter_x"
        ));
        assert!(!already_excludes(
            "a and (b or not 1 of filter*)",
            "filter_x"
        ));
    }

    #[test]
    fn legacy_aggregation_keeps_its_pipe() {
        assert_eq!(
            add_exclusion("selection | count() by x > 5", "filter_y"),
            "selection and not filter_y | count() by x > 5"
        );
    }

    #[test]
    fn placeholders_are_flagged_and_quoted() {
        let ex = excl(
            "dns_server",
            vec![("DestinationIp", Op::Eq, vec![("<your DNS servers>", false)])],
        );
        let (s, _) = round_trip(&rule4("selection"), &ex);
        assert!(s.has_placeholders);
        assert!(s.text.contains("DestinationIp: '<your DNS servers>'"));
    }

    #[test]
    fn flow_detection_gets_text_only() {
        let text = "title: t\ndetection: {selection: {A: 1}, condition: selection}\n";
        let file = SourceFile::new("r.yml", text);
        let p = parse(&file);
        let s = render(&p.rules[0], &file, &ports(), &[]).unwrap();
        assert!(s.fix.edits.is_empty());
        assert!(s
            .text
            .contains("condition: selection and not filter_ephemeral_port"));
    }

    #[test]
    fn no_suggestion_without_logic() {
        let text = "title: c\ncorrelation:\n    type: event_count\n";
        let file = SourceFile::new("r.yml", text);
        let p = parse(&file);
        assert!(render(&p.rules[0], &file, &ports(), &[]).is_none());
        let text = rule4("selection");
        let file = SourceFile::new("r.yml", text.as_str());
        let p = parse(&file);
        let bad = excl("x", vec![("A", Op::Regex, vec![("a.*", false)])]);
        assert!(render(&p.rules[0], &file, &bad, &[]).is_none());
    }

    #[test]
    fn escaping_helpers() {
        assert_eq!(sigma_escape("a*b"), "a\\*b");
        assert_eq!(sigma_escape("\\\\srv\\x"), "\\\\\\srv\\x");
        assert_eq!(sigma_escape("C:\\dir\\"), "C:\\dir\\\\");
        assert_eq!(single_quote("it's"), "'it''s'");
        assert_eq!(yaml_scalar("1 of x* and not y"), "1 of x* and not y");
        assert_eq!(yaml_scalar("*x"), "'*x'");
        assert!(is_number("443") && !is_number("0443") && is_number("1.5") && !is_number("1.2.3"));
        let _ = Logic::And(Vec::new());
    }
}
