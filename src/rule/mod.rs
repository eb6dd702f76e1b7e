//! A parsed detection rule: metadata, the Logic IR and the anchors a
//! suggestion needs to place an exclusion in the rule's own language.

pub mod constraints;
pub mod logic;
pub mod persistent;

pub use logic::{Cmp, Field, Keyword, Logic, Op, Opaque, Parsed, Value};
pub use persistent::{PList, PMap};

use crate::source::Span;
use serde::Serialize;

/// The file format a rule is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Sigma,
    Elastic,
    Splunk,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Sigma => "sigma",
            Format::Elastic => "elastic",
            Format::Splunk => "splunk",
        }
    }
}

/// The language the detection logic is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Sigma,
    Kql,
    Eql,
    Esql,
    Lucene,
    Spl,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Sigma => "sigma",
            Language::Kql => "kql",
            Language::Eql => "eql",
            Language::Esql => "esql",
            Language::Lucene => "lucene",
            Language::Spl => "spl",
        }
    }
}

/// Which field-name table resolves this rule's fields to concepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Schema {
    /// Sigma's taxonomy (Sysmon/Windows/Linux/network names).
    Sigma,
    /// Elastic Common Schema.
    Ecs,
    /// Splunk CIM datamodel fields and common raw fields.
    Splunk,
}

/// A metadata value with the span where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta<T> {
    pub value: T,
    pub span: Span,
}

/// Rule metadata shared by all formats (absent fields are `None`/empty).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleMeta {
    pub id: Option<Meta<String>>,
    pub title: Option<Meta<String>>,
    pub status: Option<Meta<String>>,
    /// Sigma `level`, Elastic `severity`, Splunk impact-derived level.
    pub level: Option<Meta<String>>,
    pub description: Option<Meta<String>>,
    pub author: Option<Meta<String>>,
    pub tags: Vec<Meta<String>>,
    pub references: Vec<Meta<String>>,
    /// Free-text false-positive notes (Sigma `falsepositives`, Elastic
    /// `false_positives` and the "False positive analysis" section of
    /// `note`, Splunk `known_false_positives`).
    pub falsepositives: Vec<Meta<String>>,
    /// Sigma `logsource` (category, product, service), Elastic `index` /
    /// `event.dataset`, Splunk `data_source` / datamodel: lower-case words
    /// that say what data the rule reads (e.g. `network_connection`,
    /// `process_creation`, `Endpoint.Processes`, `logs-endpoint.events.*`).
    pub data: Vec<String>,
    /// Sigma `logsource` keys and values as written (`category`,
    /// `process_creation`), in the order of the file.
    pub logsource: Vec<(String, String)>,
    /// Rule type where the format has one (Elastic `query`/`eql`/…, Splunk
    /// `TTP`/`Anomaly`/…, Sigma `correlation`/`filter`).
    pub rule_type: Option<Meta<String>>,
    /// What the rule counts before it alerts (Elastic `threshold` and
    /// `new_terms`, ES|QL and SPL `stats … by` with the count a later
    /// `where` compares, Sigma correlations), in the order written.
    pub aggregations: Vec<Aggregation>,
}

/// How a rule counts events before it alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggregationKind {
    /// Alerts when the events of one group reach a count (Elastic
    /// `threshold`).
    Threshold,
    /// Alerts on a value (or combination of values) of `fields` not seen
    /// in the history window (Elastic `new_terms`).
    NewTerms,
}

/// One aggregation of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregation {
    pub kind: AggregationKind,
    /// The fields the count is grouped by; for new terms, the fields whose
    /// new values alert.
    pub fields: Vec<Meta<String>>,
    /// Fields whose distinct values are counted (a threshold's
    /// `cardinality`).
    pub distinct: Vec<Meta<String>>,
    /// The count the rule alerts at, when written.
    pub threshold: Option<i64>,
}

/// Where a suggestion can put an exclusion, filled in by the format parser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Anchors {
    /// The whole query/search string inside the file.
    pub query: Option<Span>,
    /// How the query string is written in the file, which decides how
    /// inserted text is escaped; `None` when it cannot be told exactly.
    pub query_quoting: Option<Quoting>,
    /// KQL / Lucene: whether the query must be put in parentheses before a
    /// clause is appended (KQL: an `or` at its top level; Lucene, which
    /// gives `AND` no precedence: anything but a single clause).
    pub append_needs_parens: Option<bool>,
    /// EQL: for each of `steps`, whether its condition has an `or` outside
    /// brackets (so an appended `and not …` needs parentheses).
    pub steps_need_parens: Vec<bool>,
    /// ES|QL: the commands after the first, in order.
    pub commands: Vec<PipeCommand>,
    /// Sigma: the `condition` value(s).
    pub conditions: Vec<Span>,
    /// Sigma: names of the selections defined under `detection`.
    pub selections: Vec<String>,
    /// Sigma: the selections no condition names (directly or through an
    /// `N of` pattern), with the span of their key; empty when a condition
    /// did not parse.
    pub unused_selections: Vec<(String, Span)>,
    /// Sigma: the column (0-based, in bytes) at which `detection`'s keys
    /// are indented, and the span of the `detection` mapping.
    pub detection_indent: Option<usize>,
    pub detection: Option<Span>,
    /// Sigma: how much deeper a selection's fields sit than its name
    /// (the first block selection's), for writing a new selection.
    pub detection_step: Option<usize>,
    /// Sigma: the `condition` key.
    pub condition_key: Option<Span>,
    /// Sigma: each condition's expression (in the order of `conditions`).
    pub condition_exprs: Vec<ConditionExpr>,
    /// EQL: the condition of each sequence/sample step (or the single
    /// `where` condition), in order.
    pub steps: Vec<Span>,
    /// ES|QL / SPL: the byte offset of the pipe that starts the first
    /// aggregating command (`STATS`, `stats`), where a filter must go before.
    pub first_aggregation: Option<usize>,
    /// SPL: the detection's filter macro (`` `x_filter` ``) name and span.
    pub filter_macro: Option<(String, Span)>,
    /// SPL datamodel object prefix used by the search (`Processes`,
    /// `All_Traffic`), and whether `drop_dm_object_name` strips it.
    pub datamodel: Option<String>,
    /// SPL: which fields each command sees and where a filter can go.
    pub pipeline: Option<SplPipeline>,
    /// SPL: every `tstats` command, in order.
    pub tstats: Vec<TstatsCall>,
}

/// An SPL `tstats` command: what it reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TstatsCall {
    /// The command, from `tstats` to the end of its arguments.
    pub span: Span,
    /// `from datamodel=…` names a datamodel.
    pub names_datamodel: bool,
    /// Datamodel-style field names it uses (`Processes.process_name`).
    pub datamodel_fields: Vec<String>,
}

/// SPL: what placing a filter in a search needs to know (file offsets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SplPipeline {
    /// The top-level commands, in order.
    pub stages: Vec<SplStage>,
    /// The fields visible after the last command.
    pub end_scope: FieldScope,
    /// Every generating `tstats`: the search's own and its subsearches'.
    pub tstats: Vec<TstatsAnchor>,
    /// Index into `tstats` of the search's own generating `tstats`.
    pub own_tstats: Option<usize>,
    /// Index of the stage that is the detection's `` `…_filter` `` macro
    /// (when it is a top-level command).
    pub filter_stage: Option<usize>,
    /// Just after the search's last non-blank character.
    pub end: usize,
}

impl SplPipeline {
    /// Map every offset (decoded search → file).
    pub fn map_offsets(&mut self, f: &dyn Fn(usize) -> usize) {
        for s in &mut self.stages {
            s.pipe = s.pipe.map(f);
        }
        for t in &mut self.tstats {
            t.at = f(t.at);
        }
    }
}

/// One top-level SPL command.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SplStage {
    /// Offset of the `|` that starts it (none for the base search).
    pub pipe: Option<usize>,
    /// The fields visible before it.
    pub scope: FieldScope,
}

/// Where a `tstats` can take another condition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TstatsAnchor {
    /// The datamodel object it reads (`Processes`, `All_Traffic`).
    pub object: Option<String>,
    /// Where to insert: the end of the `where` expression, or (without
    /// one) just before `by` or the end of the command.
    pub at: usize,
    /// It has a `where` expression (a condition is AND-ed to it).
    pub has_where: bool,
    /// `at` is just before `by`.
    pub before_by: bool,
}

/// The names under which event fields are visible at one point of an SPL
/// pipeline. Persistent: the scopes of consecutive stages share what they
/// have in common, so recording one per stage costs no copy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldScope {
    /// Every name bound here: `Some(field)` when it holds an event field
    /// as read, `None` when it holds something else.
    pub names: PMap<Option<String>>,
    /// Names renamed away or removed while the set was open.
    pub removed: PMap<()>,
    /// After an aggregation or projection only `names` exist.
    pub closed: bool,
    /// Datamodel prefixes removed by `drop_dm_object_name`, newest first.
    pub dropped: PList<String>,
}

impl FieldScope {
    /// `field` without a datamodel prefix that was dropped (the first
    /// dropped prefix that matches).
    pub fn strip_dropped(&self, field: &str) -> String {
        let mut out = None;
        for p in self.dropped.iter() {
            if let Some(rest) = field
                .strip_prefix(p.as_str())
                .and_then(|r| r.strip_prefix('.'))
            {
                if !rest.is_empty() {
                    out = Some(rest);
                }
            }
        }
        out.unwrap_or(field).to_string()
    }

    /// The name under which the event field `field` (named as in the
    /// datamodel, `Processes.process_name`, or raw, `Computer`) can be
    /// referenced here, if it still exists.
    pub fn name_for(&self, field: &str) -> Option<String> {
        let want = self.strip_dropped(field);
        let mut best: Option<&str> = None;
        for (n, f) in self.names.iter() {
            let Some(f) = f else { continue };
            if f == field || self.strip_dropped(f) == want {
                // Prefer the name that is the field itself.
                if best.is_none() || n == want {
                    best = Some(n);
                }
            }
        }
        if let Some(n) = best {
            return Some(n.to_string());
        }
        if self.closed || self.names.contains_key(&want) || self.removed.contains_key(&want) {
            return None;
        }
        Some(want)
    }
}

/// How a query string is written in the rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// TOML `"…"`.
    TomlBasic,
    /// TOML `"""…"""`.
    TomlMultiBasic,
    /// TOML `'…'`.
    TomlLiteral,
    /// TOML `'''…'''`.
    TomlMultiLiteral,
    /// A YAML plain (unquoted) scalar.
    YamlPlain,
    /// YAML `'…'`.
    YamlSingle,
    /// YAML `"…"`.
    YamlDouble,
    /// A YAML literal (`|`) or folded (`>`) block scalar.
    YamlBlock,
}

/// A command of a piped query after the first (ES|QL), for placing a
/// filter before it.
#[derive(Debug, Clone, PartialEq)]
pub struct PipeCommand {
    /// Offset of the `|` that starts it.
    pub pipe: usize,
    /// The fields it writes when it keeps every field it reads otherwise
    /// (`WHERE`: none; `EVAL x = …`: `x`); `None` when it drops, renames,
    /// reshapes or aggregates fields.
    pub writes: Option<Vec<String>>,
}

/// A Sigma condition as written: its decoded text and where its boolean
/// expression starts and ends in the file, so an exclusion can be added
/// (`(…) and not filter`) without rewriting its layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionExpr {
    /// The decoded condition (with a legacy `| aggregation`).
    pub value: String,
    /// File offset of the expression's first character.
    pub start: usize,
    /// File offset just after its last character, before a legacy
    /// `| aggregation` and trailing blanks.
    pub end: usize,
}

/// A problem a parser found: an error (the rule cannot be checked) or a
/// note (part of the logic is opaque, legacy syntax, …).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseIssue {
    /// A parse code (`RL0xx`), declared in `checks::parse`.
    pub code: &'static str,
    pub severity: crate::severity::Severity,
    pub message: String,
    pub span: Span,
    pub help: Option<String>,
}

impl ParseIssue {
    pub fn error(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        ParseIssue {
            code,
            severity: crate::severity::Severity::Error,
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn info(code: &'static str, span: Span, message: impl Into<String>) -> Self {
        ParseIssue {
            code,
            severity: crate::severity::Severity::Info,
            message: message.into(),
            span,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// One detection rule read from a file (a file may hold several, e.g.
/// Sigma multi-document files).
#[derive(Debug, Clone, PartialEq)]
pub struct DetectionRule {
    pub format: Format,
    pub language: Language,
    pub schema: Schema,
    pub meta: RuleMeta,
    /// The detection logic; `None` when the rule has none to check
    /// (Elastic machine-learning rules, Sigma correlation rules).
    pub logic: Option<Logic>,
    pub anchors: Anchors,
    /// Span of the whole rule (document) in the file.
    pub span: Span,
}

/// The result of parsing one file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedFile {
    pub rules: Vec<DetectionRule>,
    pub issues: Vec<ParseIssue>,
}
