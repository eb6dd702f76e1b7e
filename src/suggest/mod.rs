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
