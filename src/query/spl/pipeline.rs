//! The SPL pipeline: one handler per command, threading the field
//! environment (renames, derived fields, datamodel prefixes) from command
//! to command and collecting the filtering commands into Logic.

use super::env::{FieldEnv, Origin};
use super::eval::{EvalParser, Expr};
use super::lex::{self, Arg, ArgKind, Cmd, SyntaxError};
use super::search::{self, CmpOp};
use crate::rule::{Cmp, Field, Logic, Op, ParseIssue, TstatsCall, Value};
use crate::source::Span;
use std::collections::BTreeMap;

/// Subsearches nested deeper than this are not analysed (still checked
/// for balance by the splitter).
const MAX_SUB_DEPTH: usize = 40;

/// One top-level command of the pipeline, with the field environment that
/// holds just before it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Lower-case command name; `` ` `` for a macro used as a command;
    /// `search` for the implied base search.
    pub name: String,
    /// Offset of the `|` that starts it (none for the base search).
    pub pipe: Option<usize>,
    /// From the pipe (or the first byte) to the end of the command.
    pub span: Span,
    pub env: FieldEnv,
}

/// Where a condition can be added to the generating `tstats` command.
#[derive(Debug, Clone, PartialEq)]
pub struct TstatsWhere {
    /// The `where` expression, when there is one.
    pub expr: Option<Span>,
    /// Offset at which to insert: the end of the `where` expression, or
    /// (without one) just before `by`/the end of the command.
    pub insert_at: usize,
}

/// A `` `…_filter` `` macro.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterMacro {
    pub name: String,
    /// The macro with its backticks.
    pub span: Span,
    /// Index of the top-level stage it is the command of, when it is one.
    pub stage: Option<usize>,
    /// Found in the top-level pipeline (not in a subsearch).
    pub top: bool,
}

pub(crate) struct Ctx<'s> {
    /// The query with comments blanked.
    pub src: &'s str,
    pub env: FieldEnv,
    pub issues: Vec<ParseIssue>,
    pub filter_macros: Vec<FilterMacro>,
    /// `(object prefix, datamodel spec)` per datamodel read, with whether
    /// it was read at the top level.
    pub datamodels: Vec<(String, String, bool)>,
    /// Every generating `tstats` (of the search or a subsearch) with the
    /// datamodel object it reads, in order.
    pub tstats_points: Vec<(Option<String>, TstatsWhere)>,
    /// Every `tstats` command, in order.
    pub tstats_calls: Vec<TstatsCall>,
    sub_depth: usize,
    stage: Option<usize>,
}

/// Where a command's arguments are.
struct At<'c> {
    cmd: &'c Cmd,
    /// Just after the command name.
    start: usize,
    end: usize,
    /// In the top-level pipeline (not a subsearch).
    top: bool,
    /// The command is the (sub)search's generating `tstats`.
    generating: bool,
}

#[derive(Debug, Default)]
pub(crate) struct PipeOut {
    pub logic: Option<Logic>,
    pub stages: Vec<Stage>,
    pub first_aggregation: Option<usize>,
    pub tstats: Option<TstatsWhere>,
}

/// Functions whose result holds values of their argument field.
const ALIAS_FUNCS: &[&str] = &[
    "values", "list", "latest", "earliest", "first", "last", "min", "max", "mode",
];

/// Commands that aggregate (a filter on event fields must come before).
const AGGREGATING: &[&str] = &[
    "stats",
    "eventstats",
    "streamstats",
    "chart",
    "timechart",
    "top",
    "rare",
    "sistats",
    "sichart",
    "sitimechart",
    "sitop",
    "sirare",
    "geostats",
    "transaction",
];

/// Commands that filter nothing by event field values, or whose effect on
/// the result set needs no modelling for exclusion purposes.
const PASSIVE: &[&str] = &[
    "addinfo",
    "addtotals",
    "accum",
    "autoregress",
    "bin",
    "bucket",
    "collect",
    "convert",
    "dedup",
    "delta",
    "fieldformat",
    "fillnull",
    "filldown",
    "foreach",
    "format",
    "head",
    "highlight",
    "iconify",
    "iplocation",
    "localize",
    "makemv",
    "makeresults",
    "mvcombine",
    "mvexpand",
    "nomv",
    "outputlookup",
    "outputcsv",
    "rangemap",
    "replace",
    "rest",
    "return",
    "reverse",
    "sendalert",
    "sendemail",
    "setfields",
    "sort",
    "strcat",
    "tail",
    "tojson",
    "transpose",
    "trendline",
    "typer",
    "tags",
    "uniq",
    "untable",
    "xyseries",
    "xmlunescape",
    "apply",
    "fit",
    "summary",
    "score",
    "predict",
    "cluster",
    "kmeans",
    "metadata",
    "eventcount",
    "dbinspect",
    "loadjob",
    "savedsearch",
    "inputcsv",
    "gentimes",
    "mstats",
    "mcatalog",
    "pivot",
    "ldapsearch",
    "ldapfilter",
    "ldapgroup",
    "outlier",
    "anomalousvalue",
    "abstract",
    "concurrency",
    "contingency",
    "correlate",
    "fieldsummary",
    "makecontinuous",
    "timewrap",
    "x11",
];

/// Commands that extract new fields from the event text.
const EXTRACTING: &[&str] = &[
    "xmlkv",
    "spath",
    "kvform",
    "extract",
    "kv",
    "multikv",
    "xpath",
    "iplocation",
    "auto_extract",
];

impl<'s> Ctx<'s> {
    pub fn new(src: &'s str) -> Self {
        Ctx {
            src,
            env: FieldEnv::default(),
            issues: Vec::new(),
            filter_macros: Vec::new(),
            datamodels: Vec::new(),
            tstats_points: Vec::new(),
            tstats_calls: Vec::new(),
            sub_depth: 0,
            stage: None,
        }
    }

    fn text(&self, s: Span) -> &'s str {
        self.src.get(s.start..s.end).unwrap_or("")
    }

    /// A field used at this point of the pipeline: `raw` resolved through
    /// renames, `derived` for computed names; also the modifiers the
    /// environment applies (`eval x=lower(f)`).
    pub fn field(&self, name: &str, span: Span) -> (Field, Vec<String>) {
        let (raw, derived, mods) = self.env.resolve(name);
        let mut f = Field::new(raw, span);
        f.derived = derived;
        (f, mods)
    }

    pub fn search_cmp(
        &self,
        name: &str,
        fspan: Span,
        op: CmpOp,
        values: &[(Span, String, bool)],
        span: Span,
    ) -> Logic {
        let (f, mods) = self.field(name, fspan);
        search::build_cmp(f, mods, op, values, span)
    }

    /// An RL010 note for a part of the query that is not modelled.
    pub fn note_opaque(&mut self, span: Span, message: &str) {
        self.issues
            .push(ParseIssue::info("RL010", span, message.to_string()));
    }

    /// A macro used as a search term or condition.
    ///
    /// * `` `<name>_filter` `` is the detection's exclusion point: recorded,
    ///   no condition;
    /// * `` `process_<tool>` `` (tool in lower-case letters and digits)
    ///   stands for `Processes.process_name=<tool>.exe` — Splunk's
    ///   security_content defines these as a match on the process name (and
    ///   the original file name, not modelled);
    /// * any other macro is an Opaque node with reason `macro`.
    pub fn macro_logic(&mut self, span: Span) -> Option<Logic> {
        let inner_span = Span::new(
            span.start + 1,
            span.end.saturating_sub(1).max(span.start + 1),
        );
        let inner = self.text(inner_span);
        let (name, args) = parse_macro(inner);
        if name.ends_with("_filter") && args.is_empty() {
            self.filter_macros.push(FilterMacro {
                name: name.to_string(),
                span,
                stage: None,
                top: self.sub_depth == 0,
            });
            return None;
        }
        if args.is_empty() {
            if let Some((tool, tspan)) = process_macro(name, inner_span.start) {
                let f = Field::new("Processes.process_name", span);
                let v = Value::string(tool, tspan);
                return Some(Logic::Cmp(Cmp::new(f, Op::Eq, vec![v], span)));
            }
        }
        Some(Logic::opaque(inner, span, "macro"))
    }

    /// A `[subsearch]` used as a search term: its results become
    /// conditions we cannot know. The subsearch itself is checked.
    pub fn subsearch_term(&mut self, span: Span) -> Logic {
        if let Err(e) = self.check_sub_at(span.start) {
            self.issues
                .push(ParseIssue::error("RL008", e.span, e.message));
        }
        let text = self.text(span).to_string();
        self.note_opaque(
            span,
            "subsearch results used as search terms are not modelled",
        );
        Logic::opaque(text, span, "subsearch")
    }

    fn check_sub_at(&mut self, open: usize) -> Result<(), SyntaxError> {
        let cmds = lex::split_sub(self.src, open)?;
        self.run_sub(&cmds, FieldEnv::default()).map(|_| ())
    }

    /// Analyse a subsearch with its own environment.
    fn run_sub(
        &mut self,
        cmds: &[Cmd],
        env: FieldEnv,
    ) -> Result<(Option<Logic>, FieldEnv), SyntaxError> {
        if self.sub_depth >= MAX_SUB_DEPTH {
            return Ok((None, FieldEnv::default()));
        }
        let saved_env = std::mem::replace(&mut self.env, env);
        let saved_stage = self.stage.take();
        self.sub_depth += 1;
        let r = self.run(cmds, false);
        self.sub_depth -= 1;
        self.stage = saved_stage;
        let sub_env = std::mem::replace(&mut self.env, saved_env);
        r.map(|o| (o.logic, sub_env))
    }

    /// Run a pipeline; `top` records the stages.
    pub fn run(&mut self, cmds: &[Cmd], top: bool) -> Result<PipeOut, SyntaxError> {
        let mut out = PipeOut::default();
        let mut filters: Vec<Logic> = Vec::new();
        let mut generating_tstats = false;
        let mut seen_command = false;
        for cmd in cmds {
            let Some((name, args_start)) = self.command_name(cmd)? else {
                continue;
            };
            if !seen_command {
                // The generating command: a search that starts with
                // `| tstats` has no aggregation to filter before.
                generating_tstats = name == "tstats";
                seen_command = true;
            }
            if top {
                self.stage = Some(out.stages.len());
                out.stages.push(Stage {
                    name: name.clone(),
                    pipe: cmd.pipe,
                    span: Span::new(cmd.pipe.unwrap_or(cmd.start), cmd.end),
                    env: self.env.clone(),
                });
                if out.first_aggregation.is_none()
                    && !generating_tstats
                    && AGGREGATING.contains(&name.as_str())
                {
                    out.first_aggregation = cmd.pipe;
                }
            }
            let at = At {
                cmd,
                start: args_start,
                end: cmd.end,
                top,
                generating: generating_tstats,
            };
            let used_subs = self.command(&name, &at, &mut filters, &mut out)?;
            if !used_subs {
                for sub in &cmd.subs {
                    self.run_sub(&sub.cmds, FieldEnv::default())?;
                }
            }
        }
        self.stage = None;
        out.logic = if filters.is_empty() {
            None
        } else {
            Some(Logic::and(filters))
        };
        Ok(out)
    }

    /// Apply one command: its conditions go to `filters`, its effect on
    /// the names to the environment. True when the command analysed its
    /// own subsearches.
    fn command(
        &mut self,
        name: &str,
        at: &At<'_>,
        filters: &mut Vec<Logic>,
        out: &mut PipeOut,
    ) -> Result<bool, SyntaxError> {
        let (start, end) = (at.start, at.end);
        match name {
            "search" => {
                filters.extend(search::parse_search(self, start, end)?);
                return Ok(true);
            }
            "where" => {
                filters.push(self.where_cmd(start, end)?);
                return Ok(true);
            }
            "regex" => filters.extend(self.regex_cmd(start, end)),
            "tstats" => {
                let (logic, info) = self.tstats(start, end, at.generating)?;
                filters.extend(logic);
                if at.top && at.generating && out.tstats.is_none() {
                    out.tstats = info;
                }
            }
            "datamodel" => self.datamodel_cmd(start, end),
            "from" => self.datamodel_from(start, end),
            "inputlookup" => filters.extend(self.inputlookup_cmd(start, end)?),
            "eval" => self.eval_cmd(start, end),
            "rename" => self.rename_cmd(start, end),
            "table" => {
                let names = self.names(start, end);
                self.env.project(&names);
            }
            "fields" => self.fields_cmd(start, end),
            "stats" | "chart" | "timechart" | "top" | "rare" | "sistats" | "sichart"
            | "sitimechart" | "sitop" | "sirare" | "geostats" => self.stats_cmd(name, start, end),
            "eventstats" | "streamstats" => {
                let args = lex::args(self.src, start, end);
                let (outs, _) = self.aggregations(&args, false, name);
                for (n, _) in outs {
                    self.env.derive(&n);
                }
            }
            "lookup" => self.lookup_cmd(start, end),
            "rex" => self.rex_cmd(start, end),
            "join" => {
                filters.extend(self.join_cmd(at.cmd, start, end)?);
                return Ok(true);
            }
            "append" | "multisearch" | "union" => {
                self.union_cmd(name, at.cmd, filters)?;
                return Ok(true);
            }
            "appendpipe" | "appendcols" | "selfjoin" => {
                for sub in &at.cmd.subs {
                    let env = self.env.clone();
                    let (_, e) = self.run_sub(&sub.cmds, env)?;
                    if name == "appendcols" {
                        self.env.merge(&e);
                    }
                }
                return Ok(true);
            }
            "map" => filters.push(self.unmodelled(
                at,
                "`map` runs another search per result: not modelled",
                "map",
            )),
            "anomalydetection" => filters.push(self.unmodelled(
                at,
                "`anomalydetection` filters by statistics: not modelled",
                "anomalydetection",
            )),
            "`" => filters.extend(self.macro_command(start, end)?),
            "foreach" => {
                self.foreach_cmd(at);
                return Ok(true);
            }
            n if EXTRACTING.contains(&n) => self.extracting_cmd(start, end),
            n if PASSIVE.contains(&n) => self.passive_cmd(n, start, end),
            "transaction" => {
                for n in [
                    "duration",
                    "eventcount",
                    "closed_txn",
                    "field_match_sum",
                    "linecount",
                ] {
                    self.env.derive(n);
                }
            }
            "dedup" | "sort" | "head" | "tail" | "bin" | "bucket" => {}
            other => filters.push(self.unmodelled(
                at,
                &format!("unknown SPL command `{other}`: not modelled"),
                &format!("unknown command `{other}`"),
            )),
        }
        Ok(false)
    }

    /// A command whose effect on the events is not modelled: an Opaque
    /// part with an RL010 note.
    fn unmodelled(&mut self, at: &At<'_>, message: &str, reason: &str) -> Logic {
        let s = Span::new(at.cmd.pipe.unwrap_or(at.cmd.start), at.end);
        let text = self.text(s).trim().to_string();
        self.note_opaque(s, message);
        Logic::opaque(text, s, reason)
    }

    /// `inputlookup <table> [where <search>]`: a new result set.
    fn inputlookup_cmd(&mut self, start: usize, end: usize) -> Result<Option<Logic>, SyntaxError> {
        self.env = FieldEnv::default();
        let args = lex::args(self.src, start, end);
        match args.iter().position(|a| a.is_word(self.src, "where")) {
            Some(w) => search::parse_search(self, args[w].span.end, end),
            None => Ok(None),
        }
    }

    /// `fields [+|-] a b …`.
    fn fields_cmd(&mut self, start: usize, end: usize) {
        let mut names = self.names(start, end);
        if names.first().map(String::as_str) == Some("-") {
            names.remove(0);
            self.env.remove(&names);
        } else {
            if names.first().map(String::as_str) == Some("+") {
                names.remove(0);
            }
            self.env.project(&names);
        }
    }

    /// `stats`/`chart`/`timechart`/`top`/…: only the outputs and the `by`
    /// fields exist afterwards.
    fn stats_cmd(&mut self, name: &str, start: usize, end: usize) {
        let args = lex::args(self.src, start, end);
        let (outs, by) = self.aggregations(&args, false, name);
        let mut known = BTreeMap::new();
        for b in by {
            let o = self.env.origin(&b);
            known.insert(b, o);
        }
        for (n, o) in outs {
            known.insert(n, o);
        }
        if name == "timechart" {
            known.insert("_time".into(), Origin::Derived);
        }
        self.env.close(known);
    }

    /// `append`/`multisearch`/`union`: events of any of the searches.
    fn union_cmd(
        &mut self,
        name: &str,
        cmd: &Cmd,
        filters: &mut Vec<Logic>,
    ) -> Result<(), SyntaxError> {
        let mut alts = Vec::new();
        let mut unconstrained = false;
        for sub in &cmd.subs {
            let (l, env) = self.run_sub(&sub.cmds, FieldEnv::default())?;
            self.env.merge(&env);
            match l {
                Some(l) => alts.push(l),
                None => unconstrained = true,
            }
        }
        if name == "append" {
            // Events of the main search, or of the appended one.
            let cur = Logic::and(std::mem::take(filters));
            let has_cur = !matches!(&cur, Logic::And(v) if v.is_empty());
            if has_cur && !alts.is_empty() && !unconstrained {
                alts.insert(0, cur);
                filters.push(Logic::or(alts));
            } else if has_cur {
                filters.push(cur);
            }
        } else if !alts.is_empty() && !unconstrained {
            filters.push(Logic::or(alts));
        }
        Ok(())
    }

    /// `foreach <fields> [<template>]`: the body is a template
    /// (`<<FIELD>>`, `<<MATCHSTR>>`) run once per matching field, not a
    /// search of its own.
    fn foreach_cmd(&mut self, at: &At<'_>) {
        for a in lex::args(self.src, at.start, at.end) {
            if let Some((k, v)) = lex::key_value(a.text(self.src)) {
                if k == "fieldname" || k == "as" {
                    self.env.derive(&v);
                }
            }
        }
        let s = Span::new(at.cmd.pipe.unwrap_or(at.cmd.start), at.end);
        self.note_opaque(
            trim_span(self.src, s),
            "the `foreach` body (a `<<FIELD>>` template) is not modelled",
        );
    }

    /// `spath`, `xmlkv`, `extract`, …: new fields from the event text.
    fn extracting_cmd(&mut self, start: usize, end: usize) {
        let args = lex::args(self.src, start, end);
        for a in &args {
            if let Some((k, v)) = lex::key_value(a.text(self.src)) {
                if k == "output" || k == "outfield" {
                    self.env.derive(&v);
                }
            }
        }
        self.env.closed = false;
    }

    /// Commands that filter nothing; some still bind or reshape names.
    fn passive_cmd(&mut self, name: &str, start: usize, end: usize) {
        if matches!(name, "addtotals" | "apply" | "fit") {
            for a in lex::args(self.src, start, end) {
                if let Some((k, v)) = lex::key_value(a.text(self.src)) {
                    if k == "fieldname" || k == "as" {
                        self.env.derive(&v);
                    }
                }
            }
        }
        if matches!(name, "transpose" | "untable" | "xyseries") {
            self.env.close(BTreeMap::new());
            self.env.closed = false;
        }
    }

    /// The command name and where its arguments start; `None` for an
    /// empty first segment (a search that starts with `|`).
    fn command_name(&self, cmd: &Cmd) -> Result<Option<(String, usize)>, SyntaxError> {
        let b = self.src.as_bytes();
        let mut i = cmd.start;
        while i < cmd.end && lex::is_ws(b[i]) {
            i += 1;
        }
        if i >= cmd.end {
            return match cmd.pipe {
                None => Ok(None),
                Some(p) => Err(SyntaxError::new(
                    Span::new(p, p + 1),
                    "empty command after `|`",
                )),
            };
        }
        if b[i] == b'`' && cmd.pipe.is_some() {
            return Ok(Some(("`".to_string(), i)));
        }
        let s = i;
        while i < cmd.end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        let word = self.text(Span::new(s, i));
        let ends_word = i >= cmd.end
            || lex::is_ws(b[i])
            || b[i] == b'['
            || b[i] == b'(' && word.eq_ignore_ascii_case("where");
        match cmd.pipe {
            None => {
                if word.eq_ignore_ascii_case("search") && ends_word {
                    Ok(Some(("search".into(), i)))
                } else {
                    Ok(Some(("search".into(), cmd.start)))
                }
            }
            Some(_) => {
                if word.is_empty() {
                    return Err(SyntaxError::new(
                        Span::new(s, (s + 1).min(cmd.end)),
                        "expected a command name after `|`",
                    ));
                }
                Ok(Some((word.to_ascii_lowercase(), i)))
            }
        }
    }

    fn where_cmd(&mut self, start: usize, end: usize) -> Result<Logic, SyntaxError> {
        let mut p = EvalParser::new(self.src, start, end);
        if p.at_end() {
            return Err(SyntaxError::new(
                Span::point(start),
                "`where` needs a condition",
            ));
        }
        let e = p.expr()?;
        if !p.at_end() {
            let at = p.pos();
            return Err(SyntaxError::new(
                Span::new(at, (at + 1).min(end)),
                "unexpected text after the `where` condition",
            ));
        }
        if let Expr::Sub(s) = &e {
            let s = *s;
            return Ok(self.subsearch_term(s));
        }
        Ok(self.eval_logic(&e, 0))
    }

    /// `regex [field=|field!=]<regex>`.
    fn regex_cmd(&mut self, start: usize, end: usize) -> Option<Logic> {
        let b = self.src.as_bytes();
        let mut i = start;
        while i < end && lex::is_ws(b[i]) {
            i += 1;
        }
        let fs = i;
        while i < end && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.')) {
            i += 1;
        }
        let (field, fspan, neg, vstart) = if i > fs && i < end && b[i] == b'=' {
            (
                self.text(Span::new(fs, i)).to_string(),
                Span::new(fs, i),
                false,
                i + 1,
            )
        } else if i > fs && i + 1 < end && b[i] == b'!' && b[i + 1] == b'=' {
            (
                self.text(Span::new(fs, i)).to_string(),
                Span::new(fs, i),
                true,
                i + 2,
            )
        } else {
            ("_raw".to_string(), Span::point(fs), false, fs)
        };
        let mut v = vstart;
        while v < end && lex::is_ws(b[v]) {
            v += 1;
        }
        let mut ve = end;
        while ve > v && lex::is_ws(b[ve - 1]) {
            ve -= 1;
        }
        if v >= ve {
            return None;
        }
        let (vspan, text) = if b[v] == b'"' && ve > v + 1 && b[ve - 1] == b'"' {
            let s = Span::new(v + 1, ve - 1);
            (s, lex::unescape(self.text(s)))
        } else {
            let s = Span::new(v, ve);
            (s, lex::unescape(self.text(s)))
        };
        let (f, mods) = self.field(&field, fspan);
        let mut c = Cmp::new(
            f,
            Op::Regex,
            vec![Value::string(text, vspan)],
            Span::new(fs, ve),
        );
        c.modifiers = mods;
        let l = Logic::Cmp(c);
        Some(if neg { Logic::not(l) } else { l })
    }

    /// `tstats <aggs> [from datamodel=X.Y] [where <search>] [by <fields>]`.
    #[allow(clippy::type_complexity)]
    fn tstats(
        &mut self,
        start: usize,
        end: usize,
        generating: bool,
    ) -> Result<(Option<Logic>, Option<TstatsWhere>), SyntaxError> {
        let args = lex::args(self.src, start, end);
        let src = self.src;
        let kw = |a: &Arg| -> Option<&'static str> {
            if a.kind != ArgKind::Word {
                return None;
            }
            let t = a.text(src);
            ["from", "where", "by"]
                .into_iter()
                .find(|k| t.eq_ignore_ascii_case(k))
        };
        let mut from_i = None;
        let mut where_i = None;
        let mut by_i = None;
        for (i, a) in args.iter().enumerate() {
            match kw(a) {
                Some("from") if from_i.is_none() && where_i.is_none() && by_i.is_none() => {
                    from_i = Some(i)
                }
                Some("where") if where_i.is_none() && by_i.is_none() => where_i = Some(i),
                Some("by") if by_i.is_none() => by_i = Some(i),
                _ => {}
            }
        }
        let agg_end = [from_i, where_i, by_i]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(args.len());
        let (outs, _) = self.aggregations(&args[..agg_end], true, "tstats");
        let by_fields: Vec<String> = match by_i {
            Some(b) => args[b + 1..]
                .iter()
                .filter(|a| matches!(a.kind, ArgKind::Word | ArgKind::Quoted))
                .map(|a| a.value(src))
                .filter(|t| !t.contains('='))
                .collect(),
            None => Vec::new(),
        };
        // The datamodel.
        let models_before = self.datamodels.len();
        if let Some(f) = from_i {
            let stop = [where_i, by_i]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(args.len());
            let spec = datamodel_spec(&args[f + 1..stop], src);
            if let Some(spec) = spec {
                let mut fields: Vec<String> = by_fields.clone();
                fields.extend(outs.iter().filter_map(|(_, o)| match o {
                    Origin::Raw { field, .. } => Some(field.clone()),
                    Origin::Derived => None,
                }));
                if let Some(w) = where_i {
                    let ws = args[w].span.end;
                    let we = by_i.map(|b| args[b].span.start).unwrap_or(end);
                    fields.extend(dotted_names(self.text(Span::new(ws, we))));
                }
                let object = datamodel_object(&spec, &fields);
                self.datamodels.push((object, spec, self.sub_depth == 0));
            }
        }
        // What the command reads, for checks: whether it names a datamodel,
        // and the datamodel-style fields (`Processes.process_name`) it uses.
        let text = self.text(Span::new(start, end)).to_string();
        let at = args
            .first()
            .map(|a| a.span)
            .unwrap_or(Span::new(start, end));
        self.tstats_calls.push(TstatsCall {
            span: trim_span(self.src, Span::new(start.min(at.start), end)),
            names_datamodel: self.datamodels.len() > models_before,
            datamodel_fields: dotted_names(&text)
                .into_iter()
                .filter(|n| {
                    n.split('.').count() >= 2
                        && n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                })
                .collect(),
        });
        // The where clause: a search expression over datamodel fields.
        self.env = FieldEnv::default();
        let mut logic = None;
        let mut info = None;
        if let Some(w) = where_i {
            let ws = args[w].span.end;
            let we = by_i.map(|b| args[b].span.start).unwrap_or(end);
            logic = search::parse_search(self, ws, we)?;
            let expr = trim_span(self.src, Span::new(ws, we));
            if generating {
                info = Some(TstatsWhere {
                    expr: Some(expr),
                    insert_at: expr.end,
                });
            }
        } else if generating {
            let at = match by_i {
                Some(b) => args[b].span.start,
                None => trim_span(self.src, Span::new(start, end)).end,
            };
            info = Some(TstatsWhere {
                expr: None,
                insert_at: at,
            });
        }
        let mut known = BTreeMap::new();
        for b in by_fields {
            known.insert(
                b.clone(),
                Origin::Raw {
                    field: b,
                    modifiers: Vec::new(),
                },
            );
        }
        for (n, o) in outs {
            known.insert(n, o);
        }
        self.env.close(known);
        if let Some(i) = &info {
            let object = self.datamodels[models_before..].last().map(|d| d.0.clone());
            self.tstats_points.push((object, i.clone()));
        }
        Ok((logic, info))
    }

    /// `datamodel <model> <object> [search|flat|acceleration_search]`.
    fn datamodel_cmd(&mut self, start: usize, end: usize) {
        let args = lex::args(self.src, start, end);
        let words: Vec<String> = args
            .iter()
            .filter(|a| {
                matches!(a.kind, ArgKind::Word | ArgKind::Quoted) && !a.text(self.src).contains('=')
            })
            .map(|a| a.value(self.src))
            .collect();
        if let Some(model) = words.first() {
            let object = words.get(1).filter(|o| !is_dm_mode(o)).cloned();
            let spec = match &object {
                Some(o) => format!("{model}.{o}"),
                None => model.clone(),
            };
            let object = object.unwrap_or_else(|| datamodel_object(model, &[]));
            self.datamodels.push((object, spec, self.sub_depth == 0));
        }
        self.env = FieldEnv::default();
    }

    /// `from datamodel=X.Y` / `from datamodel:X.Y` / `from datamodel X.Y`.
    fn datamodel_from(&mut self, start: usize, end: usize) {
        let args = lex::args(self.src, start, end);
        if let Some(spec) = datamodel_spec(&args, self.src) {
            let object = datamodel_object(&spec, &[]);
            self.datamodels.push((object, spec, self.sub_depth == 0));
        }
        self.env = FieldEnv::default();
    }

    /// `eval a=expr, b=expr`: copies and `lower()`/`upper()` of a field
    /// keep the field; everything else is derived.
    fn eval_cmd(&mut self, start: usize, end: usize) {
        let mut p = EvalParser::new(self.src, start, end);
        loop {
            if p.at_end() {
                break;
            }
            let Some((name, _)) = p.assignment_target() else {
                break;
            };
            let origin = match p.expr() {
                Ok(e) => self.eval_origin(&e),
                Err(_) => {
                    p.skip_to_comma();
                    Origin::Derived
                }
            };
            self.env.bind(&name, origin);
            if !p.comma() {
                break;
            }
        }
    }

    fn eval_origin(&self, e: &Expr) -> Origin {
        match e {
            Expr::Paren(inner, _) => self.eval_origin(inner),
            Expr::Field(n, _) => self.env.origin(n),
            Expr::Call { name, args, .. } if args.len() == 1 => {
                let m = name.to_ascii_lowercase();
                if !matches!(m.as_str(), "lower" | "upper" | "trim") {
                    return Origin::Derived;
                }
                match self.eval_origin(&args[0]) {
                    Origin::Raw {
                        field,
                        mut modifiers,
                    } => {
                        // Each is idempotent and `lower`/`upper` replace
                        // each other: the list stays short however long a
                        // chain of `eval`s is.
                        if m != "trim" {
                            modifiers.retain(|x| x == "trim");
                        }
                        if !modifiers.contains(&m) {
                            modifiers.push(m);
                        }
                        Origin::Raw { field, modifiers }
                    }
                    Origin::Derived => Origin::Derived,
                }
            }
            _ => Origin::Derived,
        }
    }

    /// `rename a as b, c AS d`.
    fn rename_cmd(&mut self, start: usize, end: usize) {
        let args: Vec<Arg> = lex::args(self.src, start, end)
            .into_iter()
            .filter(|a| a.kind != ArgKind::Comma)
            .collect();
        let mut i = 0;
        while i + 3 <= args.len() {
            if !args[i + 1].is_word(self.src, "as") {
                i += 1;
                continue;
            }
            let from = args[i].value(self.src);
            let to = args[i + 2].value(self.src);
            self.env.rename(&from, &to);
            i += 3;
        }
    }

    /// Plain names listed in a command (`table a b, c`).
    fn names(&self, start: usize, end: usize) -> Vec<String> {
        lex::args(self.src, start, end)
            .into_iter()
            .filter(|a| matches!(a.kind, ArgKind::Word | ArgKind::Quoted))
            .map(|a| a.value(self.src))
            .filter(|t| !t.contains('=') || t == "=")
            .collect()
    }

    /// Aggregations and `by`/`over` fields of a stats-like command.
    fn aggregations(
        &self,
        args: &[Arg],
        tstats: bool,
        cmd: &str,
    ) -> (Vec<(String, Origin)>, Vec<String>) {
        let mut outs: Vec<(String, Origin)> = Vec::new();
        let mut by = Vec::new();
        let mut in_by = false;
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            i += 1;
            if matches!(a.kind, ArgKind::Comma | ArgKind::Macro | ArgKind::Sub) {
                continue;
            }
            if a.is_word(self.src, "by") || a.is_word(self.src, "over") {
                in_by = true;
                continue;
            }
            let t = a.text(self.src);
            if in_by {
                if !t.contains('=') {
                    by.push(a.value(self.src));
                }
                continue;
            }
            if a.is_word(self.src, "as") {
                if let (Some(n), Some(last)) = (args.get(i), outs.last_mut()) {
                    last.0 = n.value(self.src);
                    i += 1;
                }
                continue;
            }
            let paren = t.find('(');
            let eq = t.find('=');
            match (paren, eq) {
                (Some(p), e) if e.is_none_or(|e| p < e) => {
                    let func = t[..p].to_ascii_lowercase();
                    let inner = t[p + 1..].strip_suffix(')').unwrap_or(&t[p + 1..]).trim();
                    let plain = !inner.is_empty()
                        && inner.bytes().all(|c| {
                            c.is_ascii_alphanumeric()
                                || matches!(c, b'_' | b'.' | b':' | b'@' | b'{' | b'}')
                        });
                    let origin = if plain && ALIAS_FUNCS.contains(&func.as_str()) {
                        if tstats {
                            Origin::Raw {
                                field: inner.to_string(),
                                modifiers: Vec::new(),
                            }
                        } else {
                            self.env.origin(inner)
                        }
                    } else {
                        Origin::Derived
                    };
                    outs.push((t.to_string(), origin));
                }
                (_, Some(_)) => {}
                _ => {
                    if matches!(cmd, "top" | "rare" | "sitop" | "sirare") {
                        // `top user`: the listed fields stay, with counts.
                        by.push(a.value(self.src));
                    } else {
                        outs.push((a.value(self.src), Origin::Derived));
                    }
                }
            }
        }
        if matches!(cmd, "top" | "rare" | "sitop" | "sirare") {
            outs.push(("count".into(), Origin::Derived));
            outs.push(("percent".into(), Origin::Derived));
        }
        (outs, by)
    }

    /// `lookup <table> <field> [AS f] … [OUTPUT|OUTPUTNEW out [AS o], …]`.
    fn lookup_cmd(&mut self, start: usize, end: usize) {
        let args: Vec<Arg> = lex::args(self.src, start, end)
            .into_iter()
            .filter(|a| a.kind != ArgKind::Comma)
            .collect();
        let Some(o) = args
            .iter()
            .position(|a| a.is_word(self.src, "output") || a.is_word(self.src, "outputnew"))
        else {
            return;
        };
        let outs = &args[o + 1..];
        let mut i = 0;
        while i < outs.len() {
            let name = if outs.get(i + 1).is_some_and(|a| a.is_word(self.src, "as")) {
                let n = outs.get(i + 2).map(|a| a.value(self.src));
                i += 3;
                n
            } else {
                let n = Some(outs[i].value(self.src));
                i += 1;
                n
            };
            if let Some(n) = name {
                self.env.derive(&n);
            }
        }
    }

    /// `rex [field=f] [mode=sed] "<regex with (?<name>…) groups>"`.
    fn rex_cmd(&mut self, start: usize, end: usize) {
        let args = lex::args(self.src, start, end);
        let mut field = "_raw".to_string();
        let mut sed = false;
        for a in &args {
            let t = a.text(self.src);
            if let Some((k, v)) = lex::key_value(t) {
                match k {
                    "field" => field = v,
                    "mode" => sed = v == "sed",
                    _ => {}
                }
            }
        }
        if sed {
            self.env.derive(&field);
            return;
        }
        for a in args.iter().filter(|a| a.kind == ArgKind::Quoted) {
            let re = a.value(self.src);
            for name in named_groups(&re) {
                self.env.derive(&name);
            }
        }
    }

    /// `join [type=inner|left|outer] [options] <fields> [subsearch]`: an
    /// inner join keeps only events the subsearch also matched, so its
    /// conditions are AND-ed in.
    fn join_cmd(
        &mut self,
        cmd: &Cmd,
        start: usize,
        end: usize,
    ) -> Result<Option<Logic>, SyntaxError> {
        let args = lex::args(self.src, start, end);
        let mut inner = true;
        for a in &args {
            if let Some((k, v)) = lex::key_value(a.text(self.src)) {
                if k.eq_ignore_ascii_case("type") {
                    inner = v.eq_ignore_ascii_case("inner");
                }
            }
        }
        let mut out = None;
        for sub in &cmd.subs {
            let (l, env) = self.run_sub(&sub.cmds, FieldEnv::default())?;
            self.env.merge(&env);
            if inner && out.is_none() {
                out = l;
            }
        }
        Ok(out)
    }

    /// A macro used as a pipeline command.
    fn macro_command(&mut self, start: usize, end: usize) -> Result<Option<Logic>, SyntaxError> {
        let b = self.src.as_bytes();
        let mut i = start;
        while i < end && lex::is_ws(b[i]) {
            i += 1;
        }
        let close = lex::skip_macro(b, i).unwrap_or(end).min(end);
        let span = Span::new(i, close);
        let inner = self.text(Span::new(i + 1, close.saturating_sub(1).max(i + 1)));
        let (name, args) = parse_macro(inner);
        let mut out = Vec::new();
        if name == "drop_dm_object_name" {
            if let Some(p) = args.first() {
                self.env.drop_prefix(p);
            }
        } else if name.starts_with("security_content_ctime") {
            // `convert ctime(x)`: formats a time field.
        } else if name.ends_with("_filter") && args.is_empty() {
            self.filter_macros.push(FilterMacro {
                name: name.to_string(),
                span,
                stage: self.stage,
                top: self.sub_depth == 0,
            });
        } else if let Some(l) = self.macro_logic(span) {
            out.push(l);
        }
        // Anything after the macro in the same command is search terms.
        if close < end && !self.text(Span::new(close, end)).trim().is_empty() {
            if let Some(l) = search::parse_search(self, close, end)? {
                out.push(l);
            }
        }
        Ok(if out.is_empty() {
            None
        } else {
            Some(Logic::and(out))
        })
    }
}

/// `name(arg1, "arg2")` → `("name", ["arg1", "arg2"])`, arguments
/// stripped of quotes and escapes.
pub(crate) fn parse_macro(inner: &str) -> (&str, Vec<String>) {
    let inner = inner.trim();
    match inner.find('(') {
        Some(p) => {
            let name = inner[..p].trim();
            let body = inner[p + 1..].trim_end();
            let body = body.strip_suffix(')').unwrap_or(body);
            let args = body
                .split(',')
                .map(|a| {
                    a.trim()
                        .chars()
                        .filter(|c| *c != '"' && *c != '\\' && *c != '\'')
                        .collect::<String>()
                        .trim()
                        .to_string()
                })
                .filter(|a| !a.is_empty())
                .collect();
            (name, args)
        }
        None => (inner, Vec::new()),
    }
}

/// Macros named `process_<tool>` that security_content defines as a match
/// on the process name: the tool and the span of its name in the macro.
fn process_macro(name: &str, name_start: usize) -> Option<(String, Span)> {
    let tool = name.strip_prefix("process_")?;
    if tool.is_empty()
        || !tool
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        return None;
    }
    let exe = match tool {
        // Not an executable of its own.
        "copy" => return None,
        "microsoftworkflowcompiler" => "microsoft.workflow.compiler.exe".to_string(),
        t => format!("{t}.exe"),
    };
    let s = name_start + "process_".len();
    Some((exe, Span::new(s, s + tool.len())))
}

fn is_dm_mode(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "search" | "flat" | "acceleration_search" | "summariesonly"
    )
}

/// The `X.Y` after `datamodel=`, `datamodel:` or `datamodel `.
fn datamodel_spec(args: &[Arg], src: &str) -> Option<String> {
    for (i, a) in args.iter().enumerate() {
        let t = a.text(src);
        let lower = t.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("datamodel") {
            let rest_raw = &t["datamodel".len()..];
            let spec = if rest.starts_with('=') || rest.starts_with(':') {
                rest_raw[1..].to_string()
            } else if rest.is_empty() {
                args.get(i + 1)
                    .map(|n| n.text(src).to_string())
                    .unwrap_or_default()
            } else {
                continue;
            };
            let spec = spec
                .trim_matches('"')
                .trim_start_matches('=')
                .trim_matches('"')
                .to_string();
            if !spec.is_empty() {
                return Some(spec);
            }
        }
    }
    None
}

/// The object prefix fields of datamodel `spec` carry: the second part of
/// `Model.Object`, else the prefix the search's fields use, else the
/// model's usual root object.
fn datamodel_object(spec: &str, fields: &[String]) -> String {
    let mut parts = spec.split('.');
    let model = parts.next().unwrap_or(spec);
    if let Some(obj) = parts.next() {
        if !obj.is_empty() {
            return obj.to_string();
        }
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in fields {
        if let Some((p, _)) = f.split_once('.') {
            if !p.is_empty() && p != "_time" {
                *counts.entry(p).or_default() += 1;
            }
        }
    }
    if let Some((p, _)) = counts.iter().max_by_key(|(_, c)| **c) {
        return p.to_string();
    }
    let root = match model {
        "Network_Traffic" => "All_Traffic",
        "Network_Resolution" => "DNS",
        "Network_Sessions" => "All_Sessions",
        "Change" => "All_Changes",
        "Risk" => "All_Risk",
        "Email" => "All_Email",
        "Intrusion_Detection" => "IDS_Attacks",
        "Malware" => "Malware_Attacks",
        "Certificates" => "All_Certificates",
        "Inventory" => "All_Inventory",
        "Performance" => "All_Performance",
        "Ticket_Management" => "All_Ticket_Management",
        "Data_Loss_Prevention" => "DLP_Incidents",
        "Interprocess_Messaging" => "All_Interprocess_Messaging",
        "JVM" => "JVM",
        "Databases" => "All_Databases",
        "Vulnerabilities" => "Vulnerabilities",
        "Web" => "Web",
        "Authentication" => "Authentication",
        "Alerts" => "Alerts",
        "Updates" => "Updates",
        other => other,
    };
    root.to_string()
}

/// `X.y` names appearing in a search expression (to infer the prefix).
fn dotted_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_str = false;
    let mut cur = String::new();
    for c in text.chars() {
        if c == '"' {
            in_str = !in_str;
            cur.clear();
            continue;
        }
        if in_str {
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            cur.push(c);
        } else {
            if cur.contains('.') && cur.starts_with(|c: char| c.is_ascii_alphabetic()) {
                out.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    if cur.contains('.') && cur.starts_with(|c: char| c.is_ascii_alphabetic()) {
        out.push(cur);
    }
    out
}

/// Named capture groups of a regex: `(?<name>…)` and `(?P<name>…)`.
fn named_groups(re: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = re;
    while let Some(p) = rest.find("(?") {
        rest = &rest[p + 2..];
        let r = rest.strip_prefix('P').unwrap_or(rest);
        if let Some(r) = r.strip_prefix('<') {
            if let Some(e) = r.find('>') {
                let n = &r[..e];
                if !n.is_empty() && !n.starts_with('=') && !n.starts_with('!') {
                    out.push(n.to_string());
                }
            }
        }
    }
    out
}

/// The span without leading/trailing whitespace.
pub(crate) fn trim_span(src: &str, s: Span) -> Span {
    let b = src.as_bytes();
    let mut a = s.start.min(b.len());
    let mut e = s.end.min(b.len());
    while a < e && lex::is_ws(b[a]) {
        a += 1;
    }
    while e > a && lex::is_ws(b[e - 1]) {
        e -= 1;
    }
    Span::new(a, e)
}
