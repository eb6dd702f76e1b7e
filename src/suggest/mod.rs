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

use crate::diagnostic::Suggestion;
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
    /// A placeholder the user must replace (`<your DNS servers>`): always
    /// quoted, never guessed as a number.
    pub placeholder: bool,
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
        self.fields
            .iter()
            .any(|f| f.values.iter().any(|v| v.placeholder))
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
