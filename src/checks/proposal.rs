//! What a check proposes to exclude, in no rule language: the
//! [`Exclusion`] (fields in the rule's schema, an operator, values with
//! their origin) and the trigger spans it belongs to. The rendering stage
//! (`suggest::stage`) writes it in the rule's own language after the checks
//! ran; checks never write rule syntax.

use super::diagnostic::{Applicability, Diagnostic, Edit, Fix, Suggestion};
use crate::rule::{Language, Op};
use crate::source::Span;

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
            proposal: None,
        }
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
