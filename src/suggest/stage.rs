//! The rendering stage: runs on a check's findings before they are
//! reported and turns each finding's language-neutral [`Proposal`] into a
//! [`crate::diagnostic::Suggestion`] in the rule's own language, and the
//! finding's help text.
//!
//! Checks never write rule syntax: they say *what* to exclude and which
//! comparisons triggered; this stage decides *how* it is written (and, for
//! Elastic rules, how to add it as a Kibana rule exception instead).

use super::{render_with_notes, Exclusion, Finding, Proposal};
use crate::diagnostic::{Applicability, Diagnostic};
use crate::rule::{DetectionRule, Format, Op};
use crate::source::{SourceFile, Span};

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
    d.suggestion = rendered.map(|(mut s, _)| {
        s.proposal = Some(Box::new(p.clone()));
        s
    });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Position, Severity};
    use crate::format;
    use crate::suggest::{ExclusionField, ExclusionValue, ValueOrigin};

    fn diagnostic(file: &SourceFile, span: Span) -> Diagnostic {
        Diagnostic {
            code: crate::checks::Code::KnownFpPattern,
            pattern: Some("ephemeral-port".into()),
            severity: Severity::Warning,
            message: "m".into(),
            note: None,
            help: Some("exclude server replies".into()),
            file: "r".into(),
            format: None,
            rule: None,
            span,
            position: Position::resolve(file, span),
            labels: Vec::new(),
            suggestion: None,
            key: String::new(),
        }
    }

    fn proposal(trigger: Span) -> Proposal {
        Proposal {
            exclusion: Exclusion {
                name: "ephemeral_port".into(),
                fields: vec![ExclusionField {
                    field: "SourcePort".into(),
                    op: Op::Eq,
                    values: ["80", "443"]
                        .iter()
                        .map(|t| ExclusionValue {
                            text: t.to_string(),
                            numeric: true,
                            origin: ValueOrigin::Catalogue,
                        })
                        .collect(),
                }],
            },
            triggers: vec![trigger],
            summary: "exclude server replies".into(),
            facts: vec![None],
        }
    }

    #[test]
    fn each_proposal_is_written_for_its_own_document() {
        let text = "title: a\ndetection:\n    selection:\n        DestinationPort: 6667\n    condition: selection\n---\ntitle: b\ndetection:\n    sel:\n        DestinationPort: 6697\n    condition: sel\n";
        let file = SourceFile::new("r.yml", text);
        let parsed = format::parse(Format::Sigma, &file);
        assert_eq!(parsed.rules.len(), 2);
        let at = |needle: &str| {
            let i = text.find(needle).unwrap();
            Span::new(i, i + needle.len())
        };
        let findings = vec![
            Finding {
                diagnostic: diagnostic(&file, at("6697")),
                proposal: Some(proposal(at("6697"))),
            },
            Finding::from(diagnostic(&file, at("6667"))),
        ];
        let out = render(&parsed.rules, &file, findings);
        let s = out[0].suggestion.as_ref().expect("a suggestion");
        assert!(
            s.text
                .ends_with("condition: sel and not filter_ephemeral_port\n"),
            "{}",
            s.text
        );
        assert!(s
            .fix
            .edits
            .iter()
            .all(|e| e.span.start > text.find("---").unwrap()));
        let help = out[0].help.as_deref().unwrap();
        assert!(
            help.starts_with("exclude server replies:\nfilter_ephemeral_port:\n"),
            "{help}"
        );
        assert!(!help.contains("Kibana"), "{help}");
        // Without a proposal the diagnostic passes through untouched.
        assert_eq!(out[1], diagnostic(&file, at("6667")));
    }

    #[test]
    fn kibana_note_names_every_condition() {
        let mut p = proposal(Span::new(0, 1)).exclusion;
        p.fields.push(ExclusionField {
            field: "process.executable".into(),
            op: Op::EndsWith,
            values: vec![ExclusionValue {
                text: "\\jenkins.exe".into(),
                numeric: false,
                origin: ValueOrigin::Catalogue,
            }],
        });
        assert_eq!(
            kibana_exception_note(&p),
            "For a prebuilt Elastic rule your team does not edit, add the same exclusion as a Kibana rule exception instead (Rules → the rule → Rule exceptions): `SourcePort` is one of `80`, `443` AND `process.executable` matches `*\\jenkins.exe`."
        );
    }
}
