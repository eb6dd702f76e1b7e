//! Parser for Elastic EQL (Event Query Language) queries.
//!
//! A hand-written lexer (`lexer`) and recursive-descent parser
//! (`parser`) build a small syntax tree that `lower` turns into the
//! Logic IR. Spans are byte offsets into the query text given to [`parse`].
//!
//! How EQL maps to the IR:
//!
//! * `<category> where <cond>`: `event.category == "<category>"` (span on
//!   the category word) AND the condition; `any where` adds nothing.
//! * `sequence` / `sample`: the AND of every step's logic. Join keys
//!   (`by`), `with maxspan=…` and `with runs=…` do not change which events
//!   match a step and are not modelled.
//! * `until [ … ]` and missing-event steps `![ … ]` go under [`Logic::Not`]:
//!   an event matching them stops (or forbids) a match, so their
//!   comparisons only ever *reduce* what the rule reports, which is what a
//!   negated comparison means to the checks. They are not anchors: an
//!   exclusion never belongs in them.
//! * `==` → `Eq`; `!=` → `Not(Eq)`; `!= null` → `Exists`; `== null` →
//!   `Not(Exists)`; `<`, `<=`, `>`, `>=` → `Lt`, `Lte`, `Gt`, `Gte`.
//! * `in`, `in~` → `Eq` with the list; `not in` → `Not(Eq)`.
//! * `:`, `like`, `like~` → wildcard mapping (no wildcard: `Eq`; only a
//!   leading/trailing `*`: `EndsWith`/`StartsWith`/`Contains` with the `*`
//!   stripped from the text and the span; `"*"`: `Exists`; otherwise
//!   `Wildcard`). A list with values of different shapes becomes an `Or` of
//!   one comparison per operator.
//! * `regex`, `regex~`, `match(…)` → `Regex`.
//! * `startsWith`, `endsWith`, `stringContains`, `wildcard`, `cidrMatch`,
//!   `arrayContains` (any case) → `StartsWith`, `EndsWith`, `Contains`,
//!   wildcard mapping, `Cidr`, `Eq`.
//! * `:` and every `~` form add the modifier `case_insensitive`.
//! * A field compared with another field (`a == b`, `a : b`,
//!   `startsWith~(a, b)`) → `FieldRef` with the other field as the value;
//!   for functions the function is named in `modifiers` (`startswith`).
//! * A computed operand (`length(process.args) > 2`,
//!   `substring(user.name, 0, -1)`) becomes a *derived* field named by its
//!   text, so checks never mistake it for the plain field.
//! * Other functions used as conditions, comparisons between two literals
//!   and similar oddities → [`Logic::Opaque`] with an `RL010` info issue.
//! * Pipes: `| filter <cond>` is ANDed into the logic; `head`, `tail`,
//!   `unique`, `unique_count`, `count`, `sort`, … only post-process results
//!   and are ignored.
//!
//! Spans: a field's span is its name without `?` or backquotes (the
//! comparison's span covers them); a string value's span is the characters
//! between the quotes, minus any leading/trailing `*` stripped from its text.
//!
//! Anchors: `steps` holds the span of the condition (after `where`) of each
//! step whose event must occur, in order (one span for a plain query).
//! `anchors.query` is left to the format layer.
//!
//! Errors are `RL008` at the exact byte: unbalanced brackets point at the
//! bracket that is never closed (or the one that closes nothing),
//! unterminated strings at their opening quote. Nesting deeper than
//! 200 levels is an error, never a stack overflow.

mod lexer;
mod lower;
mod parser;

use super::QueryParse;
use crate::rule::{Anchors, Logic, ParseIssue};
use crate::source::Span;

pub use lower::CASE_INSENSITIVE;
pub(crate) use parser::is_reserved;

pub(crate) const RL008: &str = "RL008";

/// Parse an EQL query; spans are relative to `text`.
pub fn parse(text: &str) -> QueryParse {
    let toks = match lexer::lex(text) {
        Ok(t) => t,
        Err(e) => return failed(text, e),
    };
    let mut p = parser::Parser::new(toks);
    let q = match p.query() {
        Ok(q) => q,
        Err(e) => return failed(text, *e),
    };
    let mut lw = lower::Lowerer::new(text);
    if let parser::Body::Sequence { steps, .. } | parser::Body::Sample { steps } = &q.body {
        lw.aliases = steps.iter().filter_map(|s| s.alias.clone()).collect();
    }
    let mut anchors = Anchors::default();
    let mut parts = Vec::new();
    match &q.body {
        parser::Body::Event(e) => {
            anchors.steps.push(e.cond.span());
            parts.push(lw.event(e));
        }
        parser::Body::Sequence { steps, until } => {
            for s in steps {
                parts.push(step(&mut lw, s, &mut anchors));
            }
            if let Some(u) = until {
                let l = lw.event(&u.query);
                parts.push(Logic::not(l));
            }
        }
        parser::Body::Sample { steps } => {
            for s in steps {
                parts.push(step(&mut lw, s, &mut anchors));
            }
        }
    }
    anchors.steps_need_parens = anchors
        .steps
        .iter()
        .map(|s| has_top_level_or(text.get(s.start..s.end).unwrap_or("")))
        .collect();
    for pipe in &q.pipes {
        match pipe {
            parser::Pipe::Filter(c) => parts.push(lw.cond(c)),
            parser::Pipe::Other { .. } => {}
        }
    }
    QueryParse {
        logic: Logic::and(parts),
        issues: lw.issues,
        anchors,
    }
}

fn step(lw: &mut lower::Lowerer<'_>, s: &parser::Step, anchors: &mut Anchors) -> Logic {
    let l = lw.event(&s.query);
    if s.missing {
        Logic::not(l)
    } else {
        anchors.steps.push(s.query.cond.span());
        l
    }
}

fn failed(text: &str, issue: ParseIssue) -> QueryParse {
    QueryParse {
        logic: Logic::opaque(text, Span::new(0, text.len()), "the query does not parse"),
        issues: vec![issue],
        anchors: Anchors::default(),
    }
}

/// Whether an EQL condition has an `or` outside any brackets (so appending
/// `and not …` would bind to its last alternative only). Text that does not
/// lex is reported as having one, so callers wrap it to be safe.
pub fn has_top_level_or(condition: &str) -> bool {
    let Ok(toks) = lexer::lex(condition) else {
        return true;
    };
    let mut depth = 0i64;
    for t in &toks {
        match t.kind {
            lexer::Tok::LParen | lexer::Tok::LBracket => depth += 1,
            lexer::Tok::RParen | lexer::Tok::RBracket => depth -= 1,
            lexer::Tok::Ident if depth == 0 && t.text == "or" => return true,
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests;
