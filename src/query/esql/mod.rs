//! Parser for Elastic ES|QL queries.
//!
//! A hand-written lexer ([`lexer`]) and recursive-descent parser
//! ([`parser`]) build the pipeline of commands; [`lower`] turns it into the
//! Logic IR: the `WHERE` clauses AND-ed in order, fields resolved through
//! the columns earlier commands created (EVAL/STATS/DISSECT/GROK outputs
//! are `derived`, RENAME targets point back at their source field).

pub mod ast;
pub mod lexer;
pub mod lower;
pub mod parser;

use super::QueryParse;
use crate::rule::{Anchors, Logic, ParseIssue};
use crate::source::Span;

/// Parse a query; spans are relative to `text`.
///
/// A syntax error gives one `RL008` issue at the offending bytes and an
/// opaque logic; commands this parser does not know give an `Opaque` node
/// and an `RL010` note. `anchors.first_aggregation` is the offset of the
/// `|` before the first `STATS`/`INLINE STATS`; `anchors.query` is left for
/// the caller.
pub fn parse(text: &str) -> QueryParse {
    match parser::parse_pipeline(text) {
        Ok(commands) => lower::lower(text, &commands),
        Err(e) => QueryParse {
            logic: Logic::opaque(text, Span::new(0, text.len()), "the query did not parse"),
            issues: vec![ParseIssue::error(
                "RL008",
                e.span,
                format!("ES|QL syntax error: {}", e.message),
            )],
            anchors: Anchors::default(),
        },
    }
}
