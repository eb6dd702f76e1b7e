//! The rendering stage: runs after the checks and turns each finding's
//! language-neutral [`Proposal`] into a [`crate::diagnostic::Suggestion`]
//! in the rule's own language, and the finding's help text.
//!
//! Checks never write rule syntax: they say *what* to exclude and which
//! comparisons triggered; this stage decides *how* it is written (and, for
//! Elastic rules, how to add it as a Kibana rule exception instead).

use super::{render_with_notes, Exclusion};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::rule::{DetectionRule, Format, Op};
use crate::source::{SourceFile, Span};

/// What a check proposes to exclude, before it is written in a language.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub exclusion: Exclusion,
    /// Spans of the comparisons that triggered the finding; the exclusion
    /// goes where they are (the EQL sequence step, the SPL subsearch).
    pub triggers: Vec<Span>,
    /// What the exclusion does, in a few words ("exclude server replies").
    pub summary: String,
    /// For each field of the exclusion, the environment fact that holds
    /// the organisation's values, if there is one.
    pub facts: Vec<Option<String>>,
}

/// A check's finding: the diagnostic, and the exclusion it proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub diagnostic: Diagnostic,
    pub proposal: Option<Proposal>,
}

impl From<Diagnostic> for Finding {
    fn from(diagnostic: Diagnostic) -> Self {
        Finding {
            diagnostic,
            proposal: None,
        }
    }
}

/// Render every finding's proposal for the rule it belongs to (the rule
/// whose span holds the triggers) and return the diagnostics.
pub fn render(
    rules: &[DetectionRule],
    file: &SourceFile,
    findings: Vec<Finding>,
) -> Vec<Diagnostic> {
    findings
        .into_iter()
        .map(|f| match f.proposal {
            Some(p) => match rule_of(rules, &p, f.diagnostic.span) {
                Some(rule) => finish(rule, file, f.diagnostic, &p),
                None => f.diagnostic,
            },
            None => f.diagnostic,
        })
        .collect()
}

fn rule_of<'r>(rules: &'r [DetectionRule], p: &Proposal, at: Span) -> Option<&'r DetectionRule> {
    let at = p.triggers.first().copied().unwrap_or(at);
    rules
        .iter()
        .find(|r| r.span.start <= at.start && at.end <= r.span.end)
        .or_else(|| (rules.len() == 1).then(|| &rules[0]))
}

/// Attach the suggestion and write the help of one diagnostic.
fn finish(rule: &DetectionRule, file: &SourceFile, mut d: Diagnostic, p: &Proposal) -> Diagnostic {
    // A renderer that fails on an odd rule costs the suggestion, never the
    // finding.
    let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render_with_notes(rule, file, &p.exclusion, &p.triggers)
    }))
    .ok()
    .flatten();
    let mut help = p.summary.clone();
    if let Some((s, notes)) = &rendered {
        help.push_str(":\n");
        help.push_str(s.text.trim_end());
        for n in notes {
            help.push_str("\n\n");
            help.push_str(n);
        }
    }
    for n in fact_notes(p, rendered.as_ref().map(|r| &r.0)) {
        help.push_str("\n\n");
        help.push_str(&n);
    }
    if rule.format == Format::Elastic {
        help.push_str("\n\n");
        help.push_str(&kibana_exception_note(&p.exclusion.normalized()));
    }
    d.help = Some(help);
    d.suggestion = rendered.map(|(s, _)| s);
    d
}

/// What to do about placeholders the fix cannot write.
fn fact_notes(p: &Proposal, s: Option<&crate::diagnostic::Suggestion>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(s) = s else {
        return out;
    };
    if !s.has_placeholders {
        return out;
    }
    let facts: Vec<&str> = p
        .exclusion
        .fields
        .iter()
        .zip(p.facts.iter().chain(std::iter::repeat(&None)))
        .filter(|(f, _)| f.values.iter().any(|v| v.is_placeholder()))
        .filter_map(|(_, fact)| fact.as_deref())
        .collect();
    let set = if facts.is_empty() {
        "replace the placeholders with your values".to_string()
    } else {
        format!(
            "set the environment fact{} {} in the `[environment]` table of rulelint.toml",
            if facts.len() == 1 { "" } else { "s" },
            facts
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if s.fix.applicability == Applicability::DisplayOnly && p.exclusion.has_cidr_placeholder() {
        out.push(format!(
            "An address-block match cannot hold a placeholder, so `--fix` and `--fix-placeholders` leave this rule alone: {set} (addresses or CIDR blocks), then run `rulelint check --fix` again."
        ));
    } else if s.fix.applicability == Applicability::NeedsFacts {
        out.push(format!(
            "The values in angle brackets are placeholders: {set}, or apply it as is with `--fix-placeholders` and edit the rule."
        ));
    } else if s.fix.edits.is_empty() {
        out.push(format!(
            "The values in angle brackets are placeholders and this suggestion cannot be applied with `--fix-placeholders`: {set}."
        ));
    }
    out
}

/// For a prebuilt Elastic rule: the same exclusion as a Kibana rule
/// exception.
pub fn kibana_exception_note(excl: &Exclusion) -> String {
    let conds: Vec<String> = excl
        .fields
        .iter()
        .map(|f| {
            let quoted = |pre: &str, post: &str| -> Vec<String> {
                f.values
                    .iter()
                    .map(|v| format!("`{pre}{}{post}`", v.text))
                    .collect()
            };
            let (verb, vals) = match f.op {
                Op::Exists => ("exists", Vec::new()),
                Op::EndsWith => ("matches", quoted("*", "")),
                Op::StartsWith => ("matches", quoted("", "*")),
                Op::Contains => ("matches", quoted("*", "*")),
                Op::Wildcard => ("matches", quoted("", "")),
                _ if f.values.len() > 1 => ("is one of", quoted("", "")),
                _ => ("is", quoted("", "")),
            };
            if vals.is_empty() {
                format!("`{}` {verb}", f.field)
            } else {
                format!("`{}` {verb} {}", f.field, vals.join(", "))
            }
        })
        .collect();
    format!(
        "For a prebuilt Elastic rule your team does not edit, add the same exclusion as a \
         Kibana rule exception instead (Rules → the rule → Rule exceptions): {}.",
        conds.join(" AND ")
    )
}
