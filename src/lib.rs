//! rulelint: a linter for security detection rules that finds known
//! false-positive patterns and writes the exclusion in the rule's language.

pub mod diagnostic;
pub mod format;
pub mod query;
pub mod rule;
pub mod source;
pub mod suggest;
