//! A parsed detection rule: metadata, the Logic IR and the anchors a
//! suggestion needs to place an exclusion in the rule's own language.

pub mod logic;

pub use logic::{Cmp, Field, Keyword, Logic, Op, Opaque, Parsed, Value};

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
    /// `false_positives`, Splunk `known_false_positives`).
    pub falsepositives: Vec<Meta<String>>,
    /// Sigma `logsource` (category, product, service), Elastic `index` /
    /// `event.dataset`, Splunk `data_source` / datamodel: lower-case words
    /// that say what data the rule reads (e.g. `network_connection`,
    /// `process_creation`, `Endpoint.Processes`, `logs-endpoint.events.*`).
    pub data: Vec<String>,
    /// Rule type where the format has one (Elastic `query`/`eql`/…, Splunk
    /// `TTP`/`Anomaly`/…, Sigma `correlation`/`filter`).
    pub rule_type: Option<Meta<String>>,
}

/// Where a suggestion can put an exclusion, filled in by the format parser.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Anchors {
    /// The whole query/search string inside the file.
    pub query: Option<Span>,
    /// Sigma: the `condition` value(s).
    pub conditions: Vec<Span>,
    /// Sigma: names of the selections defined under `detection`.
    pub selections: Vec<String>,
    /// Sigma: the column (0-based, in bytes) at which `detection`'s keys
    /// are indented, and the span of the `detection` mapping.
    pub detection_indent: Option<usize>,
    pub detection: Option<Span>,
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
