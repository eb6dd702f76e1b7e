//! Exclusions rendered in each rule language.
//!
//! A check decides *what* to exclude (an [`Exclusion`]: fields already named
//! in the rule's own schema, an operator and values); a renderer per
//! language decides *how* it is written and where it goes.

pub mod edit;
pub mod eql;
pub mod esql;
pub mod kql;
pub mod lucene;
pub mod sigma;
pub mod spl;
pub mod stage;

pub use crate::checks::proposal::{
    address_block, Exclusion, ExclusionField, ExclusionValue, Finding, Proposal, ValueOrigin,
};

use crate::diagnostic::{Edit, Suggestion};
use crate::rule::{DetectionRule, Language};
use crate::source::{SourceFile, Span};

/// What a renderer writes: the code to paste, the edits that put it into
/// the file, and notes for the help (where it goes, alternatives).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// Code only, ready to paste.
    pub text: String,
    pub edits: Vec<Edit>,
    /// Prose for the help: where the code goes, other places it can go.
    pub notes: Vec<String>,
}

impl Rendered {
    pub fn new(text: impl Into<String>, edits: Vec<Edit>) -> Self {
        Rendered {
            text: text.into(),
            edits,
            notes: Vec::new(),
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
}

/// Render `excl` for `rule`. `triggers` are the spans of the triggering
/// comparisons (used to place the exclusion in the right EQL step).
pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    triggers: &[Span],
) -> Option<Suggestion> {
    render_with_notes(rule, file, excl, triggers).map(|(s, _)| s)
}

/// [`render`], with the notes for the help.
pub fn render_with_notes(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    triggers: &[Span],
) -> Option<(Suggestion, Vec<String>)> {
    let excl = excl.normalized();
    let r = match rule.language {
        Language::Sigma => sigma::render(rule, file, &excl, triggers),
        Language::Kql => kql::render(rule, file, &excl, triggers),
        Language::Eql => eql::render(rule, file, &excl, triggers),
        Language::Esql => esql::render(rule, file, &excl, triggers),
        Language::Lucene => lucene::render(rule, file, &excl, triggers),
        Language::Spl => spl::render(rule, file, &excl, triggers),
    }?;
    let mut edits = r.edits;
    if excl.has_cidr_placeholder() {
        edits.clear();
    }
    Some((excl.suggestion(rule.language, r.text, edits), r.notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Applicability;
    use crate::format;
    use crate::rule::Op;

    /// One rule in each language, as its format parser reads it.
    fn rules() -> Vec<(SourceFile, DetectionRule)> {
        let elastic = |lang: &str, q: &str| {
            format!("[rule]\nname = \"x\"\ntype = \"query\"\nlanguage = \"{lang}\"\nquery = '''\n{q}\n'''\n")
        };
        let files = [
            ("r.yml".to_string(), "title: t\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        DestinationPort: 53\n    condition: selection\n".to_string()),
            ("r.toml".into(), elastic("kuery", "destination.port:53")),
            ("r.toml".into(), elastic("lucene", "destination.port:53")),
            ("r.toml".into(), elastic("eql", "network where destination.port == 53")),
            ("r.toml".into(), elastic("esql", "from logs-* | where destination.port == 53")),
            ("r.yml".into(), "name: x\nid: 1\nsearch: '`sysmon` EventCode=3 DestinationPort=53 | `x_filter`'\n".to_string()),
        ];
        files
            .into_iter()
            .map(|(name, text)| {
                let file = SourceFile::new(name, text);
                let fmt = format::sniff(&file.text).expect("a rule");
                let mut parsed = format::parse(fmt, &file);
                assert!(
                    parsed
                        .issues
                        .iter()
                        .all(|i| i.severity != crate::diagnostic::Severity::Error),
                    "{:?}",
                    parsed.issues
                );
                (file, parsed.rules.remove(0))
            })
            .collect()
    }

    fn cidr(field: &str, values: &[(&str, ValueOrigin)]) -> Exclusion {
        Exclusion {
            name: "dns_server".into(),
            fields: vec![ExclusionField {
                field: field.into(),
                op: Op::Cidr,
                values: values
                    .iter()
                    .map(|(t, origin)| ExclusionValue {
                        text: t.to_string(),
                        numeric: false,
                        origin: *origin,
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn every_language_is_covered() {
        let langs: Vec<Language> = rules().iter().map(|(_, r)| r.language).collect();
        assert_eq!(
            langs,
            [
                Language::Sigma,
                Language::Kql,
                Language::Lucene,
                Language::Eql,
                Language::Esql,
                Language::Spl
            ]
        );
    }

    #[test]
    fn a_cidr_placeholder_is_shown_never_written() {
        for (file, rule) in rules() {
            let field = if rule.language == Language::Sigma {
                "SourceIp"
            } else {
                "source.ip"
            };
            let ex = cidr(field, &[("<your DNS servers>", ValueOrigin::Placeholder)]);
            let s = render(&rule, &file, &ex, &[]).expect("a suggestion");
            assert!(s.has_placeholders, "{:?}", rule.language);
            assert!(
                s.fix.edits.is_empty(),
                "{:?}: {:?}",
                rule.language,
                s.fix.edits
            );
            assert_eq!(s.fix.applicability, Applicability::DisplayOnly);
            assert!(s.text.contains("<your DNS servers>"), "{}", s.text);
            // The same exclusion with a real block is written.
            let ex = cidr(field, &[("10.0.0.0/8", ValueOrigin::Fact)]);
            let s = render(&rule, &file, &ex, &[]).expect("a suggestion");
            assert!(!s.fix.edits.is_empty(), "{:?}", rule.language);
            assert_eq!(s.fix.applicability, Applicability::Safe);
        }
    }

    #[test]
    fn bare_addresses_become_blocks_in_every_language() {
        for (file, rule) in rules() {
            let field = if rule.language == Language::Sigma {
                "SourceIp"
            } else {
                "source.ip"
            };
            let ex = cidr(
                field,
                &[
                    ("10.0.0.53", ValueOrigin::Fact),
                    ("fd00::53", ValueOrigin::Fact),
                    ("10.1.0.0/16", ValueOrigin::Fact),
                ],
            );
            let s = render(&rule, &file, &ex, &[]).expect("a suggestion");
            for want in ["10.0.0.53/32", "fd00::53/128", "10.1.0.0/16"] {
                assert!(s.text.contains(want), "{:?}: {}", rule.language, s.text);
            }
            assert!(
                !s.text.contains("/32/") && !s.text.contains("/16/"),
                "{}",
                s.text
            );
        }
    }

    #[test]
    fn address_blocks() {
        assert_eq!(address_block("10.0.0.53").as_deref(), Some("10.0.0.53/32"));
        assert_eq!(address_block(" fe80::1 ").as_deref(), Some("fe80::1/128"));
        assert_eq!(address_block("10.0.0.0/8"), None);
        assert_eq!(address_block("dns1.corp"), None);
        assert_eq!(address_block("<your DNS servers>"), None);
        // Only CIDR conditions are touched.
        let mut ex = cidr("a", &[("10.0.0.1", ValueOrigin::Fact)]);
        ex.fields[0].op = Op::Eq;
        assert_eq!(ex.normalized(), ex);
    }

    #[test]
    fn suggestion_text_is_code_only() {
        let ex = cidr("source.ip", &[("10.0.0.0/8", ValueOrigin::Catalogue)]);
        for (file, rule) in rules().into_iter().skip(1) {
            let (s, _) = render_with_notes(&rule, &file, &ex, &[]).expect("a suggestion");
            assert!(!s.text.contains("Kibana"), "{}", s.text);
            assert!(!s.text.contains("step"), "{}", s.text);
            assert!(!s.text.contains("macros.conf"), "{}", s.text);
        }
    }
}
