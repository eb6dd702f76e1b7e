//! Parser for kql queries (placeholder until implemented).

use super::QueryParse;
use crate::rule::{Anchors, Logic};
use crate::source::Span;

/// Parse a query; spans are relative to `text`.
pub fn parse(text: &str) -> QueryParse {
    QueryParse {
        logic: Logic::opaque(text, Span::new(0, text.len()), "not yet modelled"),
        issues: Vec::new(),
        anchors: Anchors::default(),
    }
}
