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
use crate::rule::{Anchors, Logic, ParseIssue, PipeCommand};
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
        Ok(commands) => {
            let mut q = lower::lower(text, &commands);
            q.anchors.commands = command_anchors(&commands);
            q
        }
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

/// The commands after the first, with the fields each writes when it keeps
/// the others (`WHERE`, `EVAL`, `DISSECT`, `GROK`), up to the first one
/// without a pipe.
fn command_anchors(commands: &[parser::Command]) -> Vec<PipeCommand> {
    use parser::CommandKind;
    commands
        .iter()
        .skip(1)
        .map_while(|cmd| {
            let writes = match &cmd.kind {
                CommandKind::Where(_) => Some(Vec::new()),
                CommandKind::Eval(assigns) => Some(
                    assigns
                        .iter()
                        .filter_map(|a| a.name.as_ref().map(|n| n.text.clone()))
                        .collect(),
                ),
                CommandKind::Dissect { pattern, .. } => Some(lower::dissect_keys(&pattern.text)),
                CommandKind::Grok { patterns, .. } => Some(
                    patterns
                        .iter()
                        .flat_map(|p| lower::grok_keys(&p.text))
                        .collect(),
                ),
                _ => None,
            };
            Some(PipeCommand {
                pipe: cmd.pipe?.start,
                writes,
            })
        })
        .collect()
}
