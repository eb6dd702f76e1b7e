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

pub use stage::{Finding, Proposal};

use crate::diagnostic::{Applicability, Edit, Fix, Suggestion};
use crate::rule::{DetectionRule, Language, Op};
use crate::source::{SourceFile, Span};

/// One condition of an exclusion: `field <op> any of values`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExclusionField {
    /// The field name in the rule's schema (`SourcePort`, `source.port`,
    /// `All_Traffic.src_port`).
    pub field: String,
    /// `Eq`, `EndsWith`, `StartsWith` or `Cidr`.
    pub op: Op,
    pub values: Vec<ExclusionValue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExclusionValue {
    pub text: String,
    /// A number: written unquoted where the language allows it.
    pub numeric: bool,
    /// Where the value comes from.
    pub origin: ValueOrigin,
}

/// Where an exclusion value comes from; decides whether `--fix` may write
/// it without an explicit opt-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueOrigin {
    /// The user's `[environment]` facts.
    Fact,
    /// The catalogue's default benign actors (`jenkins`, `80`).
    Catalogue,
    /// A placeholder the user must replace (`<your DNS servers>`): always
    /// quoted, never guessed as a number.
    Placeholder,
}

impl ExclusionValue {
    pub fn is_placeholder(&self) -> bool {
        self.origin == ValueOrigin::Placeholder
    }
}

/// What to exclude: all `fields` must match for an event to be excluded
/// (a Sigma map, an AND in a query).
#[derive(Debug, Clone, PartialEq)]
pub struct Exclusion {
    /// A snake_case name, used for Sigma filter names
    /// (`filter_ephemeral_port`).
    pub name: String,
    pub fields: Vec<ExclusionField>,
}

impl Exclusion {
    /// Some value is a placeholder the user must fill in.
    pub fn has_placeholders(&self) -> bool {
        self.values().any(ExclusionValue::is_placeholder)
    }

    fn values(&self) -> impl Iterator<Item = &ExclusionValue> {
        self.fields.iter().flat_map(|f| f.values.iter())
    }

    /// How safe it is to write this exclusion with `edits`: only values
    /// the user supplied are safe; catalogue defaults change what the rule
    /// detects without the user's say; placeholders need facts first.
    pub fn applicability(&self, edits: &[Edit]) -> Applicability {
        if edits.is_empty() {
            Applicability::DisplayOnly
        } else if self.has_placeholders() {
            Applicability::NeedsFacts
        } else if self.values().all(|v| v.origin == ValueOrigin::Fact) {
            Applicability::Safe
        } else {
            Applicability::Unsafe
        }
    }

    /// The suggestion that writes this exclusion as `text` with `edits`.
    pub fn suggestion(&self, language: Language, text: String, edits: Vec<Edit>) -> Suggestion {
        Suggestion {
            language,
            text,
            fix: Fix {
                applicability: self.applicability(&edits),
                edits,
            },
            has_placeholders: self.has_placeholders(),
        }
    }
}

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

impl Exclusion {
    /// Some CIDR condition holds a placeholder: no toolchain accepts
    /// `<your DNS servers>` as an address block, so it is never written.
    pub fn has_cidr_placeholder(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.op == Op::Cidr && f.values.iter().any(ExclusionValue::is_placeholder))
    }

    /// The exclusion as written: a bare address in a CIDR condition
    /// becomes a one-address block (`10.0.0.53` → `10.0.0.53/32`,
    /// `fe80::1` → `fe80::1/128`).
    pub fn normalized(&self) -> Exclusion {
        let mut out = self.clone();
        for f in out.fields.iter_mut().filter(|f| f.op == Op::Cidr) {
            for v in f.values.iter_mut().filter(|v| !v.is_placeholder()) {
                if let Some(block) = address_block(&v.text) {
                    v.text = block;
                    v.numeric = false;
                }
            }
        }
        out
    }
}

/// `text` as a one-address CIDR block when it is a bare IPv4 or IPv6
/// address; `None` when it is anything else (already a block, a name).
pub fn address_block(text: &str) -> Option<String> {
    let t = text.trim();
    match t.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(_) => Some(format!("{t}/32")),
        std::net::IpAddr::V6(_) => Some(format!("{t}/128")),
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
    use crate::format;

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
