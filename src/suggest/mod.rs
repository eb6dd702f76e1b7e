//! Exclusions rendered in each rule language.
//!
//! A check decides *what* to exclude (an [`Exclusion`]: fields already named
//! in the rule's own schema, an operator and values); a renderer per
//! language decides *how* it is written and where it goes.

pub mod eql;
pub mod esql;
pub mod kql;
pub mod lucene;
pub mod sigma;
pub mod spl;

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

/// Render `excl` for `rule`. `triggers` are the spans of the triggering
/// comparisons (used to place the exclusion in the right EQL step).
pub fn render(
    rule: &DetectionRule,
    file: &SourceFile,
    excl: &Exclusion,
    triggers: &[Span],
) -> Option<Suggestion> {
    match rule.language {
        Language::Sigma => sigma::render(rule, file, excl, triggers),
        Language::Kql => kql::render(rule, file, excl, triggers),
        Language::Eql => eql::render(rule, file, excl, triggers),
        Language::Esql => esql::render(rule, file, excl, triggers),
        Language::Lucene => lucene::render(rule, file, excl, triggers),
        Language::Spl => spl::render(rule, file, excl, triggers),
    }
}
