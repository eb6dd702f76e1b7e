//! rulelint: a linter for security detection rules that finds known
//! false-positive patterns and writes the exclusion in the rule's language.
//!
//! The flow: [`discover`] → [`format`] parsers (→ [`rule::Logic`] IR) →
//! [`checks`] (with the [`knowledge`] catalogue) → [`diagnostic`]s →
//! [`report`]ers.

#![forbid(unsafe_code)]

pub mod baseline;
pub mod checks;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod did_you_mean;
pub mod discover;
pub mod docs;
pub mod fix;
pub mod format;
pub mod fsio;
pub mod knowledge;
pub mod lint;
pub mod query;
pub mod report;
pub mod rule;
pub mod source;
pub mod suggest;
pub mod suppress;
#[cfg(test)]
pub(crate) mod testkit;

pub use diagnostic::{Diagnostic, Severity};
pub use knowledge::Knowledge;
pub use lint::{lint_source, FileResult, LintOptions};
pub use source::SourceFile;
