//! Hand-written parsers for the query languages embedded in rule files.
//!
//! Every parser takes the *decoded* query text (after TOML/YAML unescaping)
//! and returns spans relative to that text; the format layer maps them to
//! file offsets with an [`crate::source::OffsetMap`].

pub mod eql;
pub mod esql;
pub mod kql;
pub mod lucene;
pub mod spl;

use crate::rule::{Anchors, Logic, ParseIssue};

/// What a query parser returns. Spans (in `logic`, `issues`, `anchors`) are
/// byte offsets into the query text that was parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryParse {
    pub logic: Logic,
    pub issues: Vec<ParseIssue>,
    pub anchors: Anchors,
}

impl QueryParse {
    /// True when some issue is an error (the query did not parse).
    pub fn has_errors(&self) -> bool {
        self.issues
            .iter()
            .any(|i| i.severity == crate::severity::Severity::Error)
    }
}
