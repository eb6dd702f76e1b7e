//! `RL305 unreachable-logic`.
//!
//! Parts of a rule that can never take part in a match: a Sigma selection
//! no condition names, an `and` whose parts contradict each other (one
//! selection required and excluded, one single-valued field required to
//! hold two different values), a comparison with an empty value list.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::rule::{Cmp, DetectionRule, Format, Language, Logic, Op};
use crate::source::Span;
use std::collections::HashSet;
use std::sync::Arc;

declare_check! {
    /// Part of the rule can never match: an unused selection, a contradictory `and`, an empty value list.
    ///
    /// ## Why
    ///
    /// A selection the condition never names is dead weight at best; more
    /// often it is a filter the author meant to apply (`filter_admin`
    /// defined, `condition: selection`), so the false positives it was
    /// written for still fire. An `and` that requires a selection and its
    /// negation (`selection and not selection`), or one field to hold two
    /// different values at once (`EventID: 4688` and `EventID: 4624`,
    /// `Image|endswith: '\cmd.exe'` and `Image|endswith: '\powershell.exe'`),
    /// matches no event: that branch of the rule, or the whole rule, is
    /// blind. A field compared with an empty list of values matches
    /// nothing (in Sigma that is already the error `RL004`).
    ///
    /// Contradictions are only concluded on fields that hold one value per
    /// event (a program path, an event code, a port), compared by the same
    /// field name, in the rule languages where an `and` is about one event
    /// (not across the steps of an EQL sequence or between SPL searches).
    /// `N of` patterns that match no selection are reported by `RL007`.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// detection:
    ///     selection:
    ///         Image|endswith: '\certutil.exe'
    ///         CommandLine|contains: '-urlcache'
    ///     filter_updates:
    ///         ParentImage|endswith: '\wuauclt.exe'
    ///     condition: selection
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    ///     condition: selection and not filter_updates
    /// ```
    ///
    /// ## Fix
    ///
    /// Name the selection in the condition (or delete it), and rewrite a
    /// contradictory `and` as the `or` (or the list of values) it was meant
    /// to be.
    pub struct UnreachableLogic {
        code: "RL305",
        name: "unreachable-logic",
        category: Logic,
        severity: Warning,
        fix: None,
    }
}

impl Check for UnreachableLogic {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        for (name, span) in &rule.anchors.unused_selections {
            let mut d = Diagnostic::new(
                self.code(),
                ctx,
                *span,
                format!("selection `{name}` is defined but no condition uses it"),
            )
            .with_rule(rule)
            .with_help(if looks_like_filter(name) {
                format!(
                    "add it to the condition (`… and not {name}`) or delete it; as it is, the events it was written to exclude still match"
                )
            } else {
                format!("name `{name}` in the condition or delete it")
            });
            d.key = format!("{}|unused|{name}", self.code());
            out.push(d.into());
        }
        let Some(logic) = &rule.logic else {
            return;
        };
        let mut seen = HashSet::new();
        let mut empties = Vec::new();
        logic.visit(&mut |node| {
            if let Logic::Cmp(c) = node {
                if c.values.is_empty() && c.op != Op::Exists && seen.insert(c.span) {
                    empties.push(c);
                }
            }
        });
        for c in empties {
            let mut d = Diagnostic::new(
                self.code(),
                ctx,
                c.span,
                format!(
                    "`{}` is compared with an empty list of values: it matches no event",
                    c.field.raw
                ),
            )
            .with_rule(rule)
            .with_help("give the values, or remove the comparison");
            d.key = format!("{}|empty|{}", self.code(), c.field.raw);
            out.push(d.into());
        }
        if !per_event_and(rule) {
            return;
        }
        let mut found = Vec::new();
        walk(logic, false, &mut HashSet::new(), &mut found);
        let mut reported: HashSet<Span> = HashSet::new();
        for c in found {
            if !reported.insert(c.span) {
                continue;
            }
            let mut d = Diagnostic::new(self.code(), ctx, c.span, c.message)
                .with_rule(rule)
                .with_help(c.help);
            // Identified by what is written, not by where.
            d.key = format!("{}|{}|{}", self.code(), c.key, ctx.file.slice(c.span));
            out.push(d.into());
        }
    }
}

/// A selection name that reads as an exclusion.
fn looks_like_filter(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "filter",
        "exclu",
        "fp",
        "legit",
        "whitelist",
        "allow",
        "benign",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// In this rule, does an `and` join conditions on one event? Not between
/// the steps of an EQL sequence or sample, not in SPL (subsearches,
/// `append`, multi-valued fields).
fn per_event_and(rule: &DetectionRule) -> bool {
    match rule.language {
        Language::Sigma => rule.format == Format::Sigma,
        Language::Kql | Language::Lucene | Language::Esql => true,
        Language::Eql => rule.anchors.steps.len() <= 1,
        Language::Spl => false,
    }
}

/// One contradiction found.
struct Contradiction {
    span: Span,
    message: String,
    help: String,
    key: String,
}

/// The node behind any number of [`Logic::Shared`].
fn unshared(l: &Logic) -> &Logic {
    match l {
        Logic::Shared(x) => unshared(x),
        other => other,
    }
}

/// The conjuncts of an `and`, through nested `and`s and shared subtrees.
fn conjuncts<'a>(l: &'a Logic, out: &mut Vec<&'a Logic>) {
    match unshared(l) {
        Logic::And(c) => c.iter().for_each(|x| conjuncts(x, out)),
        other => out.push(other),
    }
}

/// Look for contradictory `and`s in positive position (an `and` under a
/// `not` that never holds is an exclusion that removes nothing, which is
/// `RL304`'s business).
fn walk(l: &Logic, negated: bool, seen: &mut HashSet<(usize, bool)>, out: &mut Vec<Contradiction>) {
    match l {
        Logic::Shared(x) => {
            if seen.insert((Arc::as_ptr(x) as usize, negated)) {
                walk(x, negated, seen, out)
            }
        }
        Logic::Not(x) => walk(x, !negated, seen, out),
        Logic::Or(c) => c.iter().for_each(|x| walk(x, negated, seen, out)),
        Logic::And(c) => {
            if !negated {
                let mut parts = Vec::new();
                conjuncts(l, &mut parts);
                contradictions(&parts, out);
            }
            c.iter().for_each(|x| walk(x, negated, seen, out))
        }
        Logic::Cmp(_) | Logic::Keyword(_) | Logic::Opaque(_) => {}
    }
}

fn contradictions(parts: &[&Logic], out: &mut Vec<Contradiction>) {
    // `x and not x`.
    for (i, a) in parts.iter().enumerate() {
        let Logic::Not(inner) = a else { continue };
        let inner = unshared(inner);
        if parts
            .iter()
            .enumerate()
            .any(|(j, b)| j != i && !matches!(b, Logic::Not(_)) && unshared(b) == inner)
        {
            let span = a.span().unwrap_or_default();
            out.push(Contradiction {
                span,
                message: "an `and` both requires and excludes this part (the same selection or expression): it matches no event".to_string(),
                help: "remove the exclusion, or exclude something narrower than what is required".to_string(),
                key: "self".to_string(),
            });
            return;
        }
    }
    // One single-valued field required to hold values no single value meets.
    let cmps: Vec<&Cmp> = parts
        .iter()
        .filter_map(|p| match p {
            Logic::Cmp(c) => Some(c),
            _ => None,
        })
        .filter(|c| single_valued(c) && literal(c))
        .collect();
    for (i, a) in cmps.iter().enumerate() {
        for b in &cmps[i + 1..] {
            if !a.field.raw.eq_ignore_ascii_case(&b.field.raw) || a.span == b.span {
                continue;
            }
            if compatible(a, b) {
                continue;
            }
            let show = |c: &Cmp| {
                let vals: Vec<&str> = c.values.iter().map(|v| v.text.as_str()).collect();
                format!("{} {}", op_word(c.op), vals.join(" | "))
            };
            out.push(Contradiction {
                span: b.span,
                message: format!(
                    "`{}` must {} and also {}: no single value does both, so this `and` matches no event",
                    b.field.raw,
                    show(a),
                    show(b)
                ),
                help: "if either value should match, put them in one list (or join the parts with `or`)".to_string(),
                key: format!("field|{}", show(a)),
            });
        }
    }
}

fn op_word(op: Op) -> &'static str {
    match op {
        Op::Eq => "equal",
        Op::StartsWith => "start with",
        Op::EndsWith => "end with",
        Op::Contains => "contain",
        _ => "match",
    }
}

/// Concepts that hold one value per event.
const SINGLE_VALUED: &[&str] = &[
    "destination.port",
    "source.port",
    "source.ip",
    "destination.ip",
    "process.name",
    "process.executable",
    "process.pe.original_file_name",
    "process.command_line",
    "process.working_directory",
    "process.parent.name",
    "process.parent.executable",
    "process.parent.command_line",
    "event.code",
    "file.path",
    "file.name",
    "dll.path",
    "registry.path",
    "http.request.method",
    "http.response.status_code",
];

fn single_valued(c: &Cmp) -> bool {
    !c.field.derived
        && c.field
            .concept
            .as_deref()
            .is_some_and(|k| SINGLE_VALUED.contains(&k))
}

/// A comparison of literal text (no wildcard, regex or range), any of its
/// values, without value transformations.
fn literal(c: &Cmp) -> bool {
    matches!(c.op, Op::Eq | Op::StartsWith | Op::EndsWith | Op::Contains)
        && !c.all
        && c.modifiers.is_empty()
        && !c.values.is_empty()
        && c.values
            .iter()
            .all(|v| !v.is_null() && !v.text.contains(['*', '?']) && !v.text.is_empty())
}

/// Can one value meet both comparisons (case-insensitively)? Only a pair
/// this can decide is called incompatible: `contains` with `contains`, and
/// `startswith` with `endswith`, always can.
fn compatible(a: &Cmp, b: &Cmp) -> bool {
    a.values.iter().any(|x| {
        b.values
            .iter()
            .any(|y| pair_compatible(a.op, &x.text, b.op, &y.text))
    })
}

fn pair_compatible(op_a: Op, a: &str, op_b: Op, b: &str) -> bool {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    match (op_a, op_b) {
        (Op::Eq, Op::Eq) => a == b,
        (Op::Eq, other) => meets(&a, other, &b),
        (other, Op::Eq) => meets(&b, other, &a),
        (Op::StartsWith, Op::StartsWith) => a.starts_with(&b) || b.starts_with(&a),
        (Op::EndsWith, Op::EndsWith) => a.ends_with(&b) || b.ends_with(&a),
        _ => true,
    }
}

/// Does the whole value `v` meet `op pattern`?
fn meets(v: &str, op: Op, pattern: &str) -> bool {
    match op {
        Op::Eq => v == pattern,
        Op::StartsWith => v.starts_with(pattern),
        Op::EndsWith => v.ends_with(pattern),
        Op::Contains => v.contains(pattern),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs() {
        assert!(!pair_compatible(Op::Eq, "4688", Op::Eq, "4624"));
        assert!(pair_compatible(Op::Eq, "CMD.exe", Op::Eq, "cmd.EXE"));
        assert!(!pair_compatible(
            Op::EndsWith,
            "\\cmd.exe",
            Op::EndsWith,
            "\\powershell.exe"
        ));
        assert!(pair_compatible(
            Op::EndsWith,
            "\\cmd.exe",
            Op::EndsWith,
            "cmd.exe"
        ));
        assert!(pair_compatible(
            Op::StartsWith,
            "c:\\",
            Op::EndsWith,
            ".exe"
        ));
        assert!(pair_compatible(Op::Contains, "a", Op::Contains, "b"));
        assert!(!pair_compatible(
            Op::Eq,
            "c:\\x\\a.exe",
            Op::EndsWith,
            "\\b.exe"
        ));
        assert!(pair_compatible(
            Op::Eq,
            "c:\\x\\a.exe",
            Op::Contains,
            "\\x\\"
        ));
        assert!(!pair_compatible(
            Op::StartsWith,
            "c:\\a",
            Op::StartsWith,
            "d:\\"
        ));
    }
}
