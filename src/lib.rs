//! rulelint: a linter for security detection rules that finds known
//! false-positive patterns and writes the exclusion in the rule's language.
//!
//! The flow: `discover` → `format` parsers (→ [`rule::Logic`] IR) →
//! [`checks`] (with the [`Knowledge`] catalogue) → [`Diagnostic`]s →
//! `report`ers.
//!
//! # The library API
//!
//! Lint a rule held in memory:
//!
//! ```
//! use rulelint::{lint_source, Knowledge, LintOptions, SourceFile};
//!
//! let knowledge = Knowledge::builtin().expect("the built-in catalogue loads");
//! let rule = "title: IRC\nlogsource: {category: network_connection}\n\
//!             detection:\n  sel: {DestinationPort: 6667}\n  condition: sel\n";
//! let result = lint_source(
//!     &knowledge,
//!     &LintOptions::default(),
//!     SourceFile::new("irc.yml", rule),
//!     "irc.yml",
//!     true,
//! );
//! assert!(result.diagnostics.iter().any(|d| d.code.as_str() == "RL201"));
//! ```
//!
//! The stable API is what this page re-exports ([`lint_source`],
//! [`LintOptions`], [`FileResult`], [`Diagnostic`], [`Severity`],
//! [`Code`], [`Knowledge`], [`SourceFile`]) and the data types they carry
//! ([`diagnostic`], [`checks`], [`rule`]). The parsers, renderers and the
//! command line are public only so that the integration tests and
//! benchmarks can reach them; they are hidden from the documentation and
//! may change in any release.

#![forbid(unsafe_code)]

pub mod checks;
pub mod knowledge;
pub mod lint;
pub mod rule;
pub mod severity;
pub mod source;

/// Diagnostics, the checks' output (defined beside the registry whose
/// [`Code`] they carry).
pub use checks::diagnostic;

pub(crate) mod baseline;
pub(crate) mod did_you_mean;
pub(crate) mod discover;
pub(crate) mod fix;
pub(crate) mod fsio;
pub(crate) mod guard;
pub(crate) mod suppress;
#[cfg(test)]
pub(crate) mod testkit;

#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod config;
#[doc(hidden)]
pub mod docs;
#[doc(hidden)]
pub mod format;
#[doc(hidden)]
pub mod query;
#[doc(hidden)]
pub mod report;
#[doc(hidden)]
pub mod suggest;
#[doc(hidden)]
pub mod tune;

pub use checks::Code;
pub use diagnostic::{Diagnostic, Severity};
pub use knowledge::Knowledge;
pub use lint::{lint_source, FileResult, LintOptions};
pub use source::SourceFile;
