//! Parser for Splunk SPL searches.
//!
//! A search is a pipeline of commands. The filtering parts — the base
//! search, `| search`, `| where`, `| regex`, the `where` of `tstats`, the
//! subsearch of an inner `join` — become one AND-ed Logic tree; the other
//! commands thread a field environment (renames, derived fields, datamodel
//! prefixes dropped by `drop_dm_object_name`) so later field names resolve
//! to the event field they hold. Macros stay named Opaque nodes (reason
//! `macro`), except `` `<name>_filter` `` (recorded as the detection's
//! exclusion point) and `` `process_<tool>` `` (a process-name match).
//! Unknown commands become Opaque with an RL010 note; unbalanced quotes,
//! brackets, parentheses and dangling operators are RL008 errors at the
//! exact byte.

mod env;
mod eval;
mod lex;
mod pipeline;
mod search;

pub use env::{FieldEnv, Origin};
pub use pipeline::{FilterMacro, Stage, TstatsWhere};

use super::QueryParse;
use crate::rule::{Anchors, Logic, ParseIssue, SplPipeline, SplStage, TstatsAnchor};
use crate::source::Span;

/// Everything the parser learnt about a search (spans relative to the
/// parsed text). [`parse`] keeps the parts every language shares; the SPL
/// exclusion renderer uses the rest to place a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Analysis {
    pub logic: Logic,
    pub issues: Vec<ParseIssue>,
    pub anchors: Anchors,
    /// The top-level commands, each with the field environment before it.
    pub stages: Vec<Stage>,
    /// The field environment after the last command.
    pub end_env: FieldEnv,
    /// Where the generating `tstats` can take another condition.
    pub tstats: Option<TstatsWhere>,
    /// Every generating `tstats`, of the search and of its subsearches,
    /// with the datamodel object it reads (`All_Traffic`).
    pub tstats_points: Vec<(Option<String>, TstatsWhere)>,
    /// The detection's `` `…_filter` `` macro.
    pub filter_macro: Option<FilterMacro>,
    /// The datamodel read (`Endpoint.Processes`).
    pub datamodel_spec: Option<String>,
}

impl Analysis {
    /// What placing a filter in the search needs (offsets in `text`, the
    /// parsed search), for the rule's anchors.
    pub fn pipeline(&self, text: &str) -> SplPipeline {
        let anchor = |(object, t): &(Option<String>, TstatsWhere)| TstatsAnchor {
            object: object.clone(),
            at: t.insert_at,
            has_where: t.expr.is_some(),
            before_by: text
                .get(t.insert_at..)
                .and_then(|r| r.get(..2))
                .is_some_and(|w| w.eq_ignore_ascii_case("by")),
        };
        SplPipeline {
            stages: self
                .stages
                .iter()
                .map(|s| SplStage {
                    pipe: s.pipe,
                    scope: s.env.scope(),
                })
                .collect(),
            end_scope: self.end_env.scope(),
            tstats: self.tstats_points.iter().map(anchor).collect(),
            own_tstats: self
                .tstats
                .as_ref()
                .and_then(|t| self.tstats_points.iter().position(|(_, p)| p == t)),
            filter_stage: self
                .filter_macro
                .as_ref()
                .filter(|f| f.top)
                .and_then(|f| f.stage),
            end: text.trim_end().len(),
        }
    }
}

/// Parse a query; spans are relative to `text`.
pub fn parse(text: &str) -> QueryParse {
    let a = analyze(text);
    QueryParse {
        logic: a.logic,
        issues: a.issues,
        anchors: a.anchors,
    }
}

fn failed(text: &str, span: Span, message: String) -> Analysis {
    Analysis {
        logic: Logic::opaque(text, Span::new(0, text.len()), "syntax error"),
        issues: vec![ParseIssue::error("RL008", span, message)],
        anchors: Anchors::default(),
        stages: Vec::new(),
        end_env: FieldEnv::default(),
        tstats: None,
        tstats_points: Vec::new(),
        filter_macro: None,
        datamodel_spec: None,
    }
}

/// Parse a search and keep the pipeline details.
pub fn analyze(text: &str) -> Analysis {
    let mut a = analyze_inner(text);
    // Spans always cover whole characters.
    let fix = |s: Span| Span::new(floor(text, s.start), ceil(text, s.end.max(s.start)));
    for i in &mut a.issues {
        i.span = fix(i.span);
    }
    for t in &mut a.anchors.tstats {
        t.span = fix(t.span);
    }
    a.logic.map_spans(&fix);
    a
}

fn floor(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn analyze_inner(text: &str) -> Analysis {
    if text.trim().is_empty() {
        return failed(text, Span::new(0, text.len()), "empty search".into());
    }
    let (clean, comment_err) = lex::blank_comments(text);
    if let Some(e) = comment_err {
        return failed(text, e.span, e.message);
    }
    let cmds = match lex::split(&clean) {
        Ok(c) => c,
        Err(e) => return failed(text, e.span, e.message),
    };
    let mut ctx = pipeline::Ctx::new(&clean);
    let out = match ctx.run(&cmds, true) {
        Ok(o) => o,
        Err(e) => return failed(text, e.span, e.message),
    };
    let filter_macro = ctx
        .filter_macros
        .iter()
        .rev()
        .find(|f| f.top)
        .or_else(|| ctx.filter_macros.last())
        .cloned();
    let dm = ctx
        .datamodels
        .iter()
        .find(|d| d.2)
        .or_else(|| ctx.datamodels.first())
        .cloned();
    let anchors = Anchors {
        first_aggregation: out.first_aggregation,
        filter_macro: filter_macro.as_ref().map(|f| (f.name.clone(), f.span)),
        datamodel: dm.as_ref().map(|d| d.0.clone()),
        tstats: std::mem::take(&mut ctx.tstats_calls),
        ..Anchors::default()
    };
    Analysis {
        logic: out.logic.unwrap_or(Logic::And(Vec::new())),
        issues: ctx.issues,
        anchors,
        stages: out.stages,
        end_env: ctx.env,
        tstats: out.tstats,
        tstats_points: ctx.tstats_points,
        filter_macro,
        datamodel_spec: dm.map(|d| d.1),
    }
}

/// True when every Opaque part of `logic` is a macro.
pub fn fully_modelled(logic: &Logic) -> bool {
    let mut ok = true;
    logic.visit(&mut |n| {
        if let Logic::Opaque(o) = n {
            ok &= o.reason == "macro";
        }
    });
    ok
}

#[cfg(test)]
mod tests;
