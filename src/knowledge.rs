//! The catalogue of known false-positive patterns and the field-concept
//! tables, loaded from `knowledge/*.yml` (embedded in the binary) and from
//! user catalogues in the same schema.
//!
//! The schema is documented in `knowledge/README.md`.

use crate::rule::{Field, Logic, Op, Schema};
use crate::severity::Severity;
use crate::source::{SourceFile, Span};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::fmt;

pub mod facts;

// `BUILTIN_PATTERN_FILES` and `BUILTIN_SET_FILES`: every catalogue file
// under `knowledge/` and `knowledge/patterns/`, listed by `build.rs`.
include!(concat!(env!("OUT_DIR"), "/catalogue.rs"));

/// The embedded intent signals (which rules are about one specific threat).
pub const BUILTIN_INTENT: (&str, &str) = (
    "knowledge/intent.yml",
    include_str!("../knowledge/intent.yml"),
);

/// SigmaHQ's field names per log source (see `knowledge/README.md` for its
/// provenance and licence).
pub const BUILTIN_SIGMA_LOGSOURCES: (&str, &str) = (
    "knowledge/sigma-logsource.json",
    include_str!("../knowledge/sigma-logsource.json"),
);

/// The embedded field-concept table.
pub const BUILTIN_FIELDS: (&str, &str) = (
    "knowledge/fields.yml",
    include_str!("../knowledge/fields.yml"),
);

/// A catalogue file: a list of patterns, and the named value sets they
/// share (`$name` in a value list).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternFile {
    #[serde(default)]
    pub sets: indexmap::IndexMap<String, ValueSet>,
    pub patterns: Vec<Pattern>,
}

/// A file that only defines value sets (`knowledge/sets.yml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetFile {
    pub sets: indexmap::IndexMap<String, ValueSet>,
}

/// A named list of values that matchers, `handled` entries and exclusions
/// use as `$name`: one list of benign programs or paths kept in one place.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ValueSet {
    /// What the values are, for a detection engineer.
    pub description: String,
    /// Where the values come from: an evidence file
    /// (`knowledge/evidence/<set>.tsv`) or a public reference.
    pub provenance: String,
    pub values: Vec<String>,
}

/// One known false-positive pattern.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// Stable kebab-case id, never reused.
    pub id: String,
    /// One line: what the rule matches that benign activity also matches.
    pub title: String,
    /// Default severity: error, warning, info or hint.
    #[serde(default = "default_severity", deserialize_with = "de_severity")]
    pub severity: Severity,
    /// The finding's message; `{field}` and `{value}` are replaced by the
    /// triggering field and value. Default: "`{field}` matches {value}: <title>".
    #[serde(default)]
    pub message: Option<String>,
    /// Why this fires on benign activity, for a detection engineer.
    pub rationale: String,
    /// Who or what causes the benign activity.
    pub benign: Vec<String>,
    #[serde(default)]
    pub references: Vec<String>,
    /// Any clause matching in positive position makes the pattern apply.
    pub trigger: Vec<Clause>,
    /// Exclusions (in negative position) that mean the rule already deals
    /// with the pattern.
    #[serde(default)]
    pub handled: Vec<Handled>,
    /// The pattern does not apply when any of these matches the rule
    /// (the rule keys on something that makes the benign actor irrelevant);
    /// like a trigger clause, one may require `also` matchers as well.
    #[serde(default)]
    pub unless: Vec<Clause>,
    /// What the rule must be about for the pattern to apply.
    #[serde(default)]
    pub scope: Scope,
    /// What happens on a rule written for one specific threat.
    #[serde(default)]
    pub intent: IntentPolicy,
    pub exclusion: ExclusionSpec,
    /// Taxonomy entries of the knowledge sources this pattern condenses.
    #[serde(default)]
    pub taxonomy: Vec<String>,
    /// Words and phrases that name this pattern's benign actor in a rule's
    /// free-text false-positive notes ("jenkins", "build systems"),
    /// compared case-insensitively.
    #[serde(default)]
    pub phrases: Vec<String>,
}

fn default_severity() -> Severity {
    Severity::Warning
}

fn de_severity<'de, D: Deserializer<'de>>(d: D) -> Result<Severity, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "severity `{s}` must be error, warning, info or hint"
        ))
    })
}

/// Conditions on the rule's context. Every condition given must hold; an
/// empty scope applies everywhere.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The rule reads one of these log sources: words compared with the
    /// rule's data words (Sigma logsource category/product/service, Elastic
    /// index patterns and data sets, Splunk datamodels and source macros),
    /// case-insensitively, as substrings. A rule that names no log source
    /// passes.
    #[serde(default)]
    pub logsource: Vec<String>,
    /// The rule reads none of these log sources.
    #[serde(default)]
    pub not_logsource: Vec<String>,
    /// The rule is about one of these platforms (a rule that names none
    /// passes).
    #[serde(default)]
    pub platform: Vec<Platform>,
    /// The rule's type is one of these (Elastic `query`/`eql`/`threshold`,
    /// Splunk `TTP`/`Anomaly`/`Hunting`); a rule without a type passes.
    #[serde(default)]
    pub rule_type: Vec<String>,
    /// The rule's type is none of these.
    #[serde(default)]
    pub not_rule_type: Vec<String>,
    /// The address scope the rule must have.
    #[serde(default)]
    pub address: Option<AddressScope>,
    /// What the rule must count before it alerts: `threshold` (a count per
    /// group, SPL `stats … | where`, Elastic `threshold`), `distinct` (a
    /// count of distinct values, SPL `dc()`, a threshold `cardinality`),
    /// `new_terms` (Elastic `new_terms`). Empty: any rule.
    #[serde(default)]
    pub counts: Vec<CountKind>,
    /// What the rule must not count.
    #[serde(default)]
    pub not_counts: Vec<CountKind>,
    /// Words or phrases that, in the rule's title (at word boundaries,
    /// case-insensitively), say the rule is about a case the pattern's
    /// benign actor must not be excluded from ("privileged role": only
    /// the admins the exclusion names can make that change).
    #[serde(default)]
    pub not_titles: Vec<String>,
}

/// How a rule counts, as a pattern's scope names it.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CountKind {
    Threshold,
    Distinct,
    NewTerms,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Windows,
    Linux,
    Macos,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Windows => "windows",
            Platform::Linux => "linux",
            Platform::Macos => "macos",
        }
    }
}

/// Address scope of a network rule.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AddressScope {
    /// The rule is about traffic to or from the Internet: it excludes the
    /// private ranges on one side, or keys on an external direction.
    Internet,
    /// The rule is about internal traffic: it requires private ranges.
    Internal,
}

/// What a pattern does on a rule written for one specific threat (an
/// exploit, a CVE, a web shell, a malware family, an initial-access
/// technique, a supply-chain attack).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum IntentPolicy {
    /// No finding: the benign actor's exclusion would blind the rule.
    #[default]
    Silence,
    /// The finding drops one severity level.
    Lower,
    /// The finding stays as it is.
    Keep,
}

/// A matcher, optionally with further matchers that must all match too.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Clause {
    #[serde(flatten)]
    pub matcher: Matcher,
    /// Further matchers that must all match somewhere in the rule as well
    /// (e.g. a shell *and* a web-server parent).
    #[serde(default)]
    pub also: Vec<Matcher>,
}

/// Matches comparisons on some concepts. Exactly one of `ports`,
/// `processes`, `values`, `contains`, `prefixes`, `globs`, `regex`,
/// `absent`, `any` is given.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// Concepts the comparison's field must resolve to.
    pub concepts: Vec<String>,
    /// Port numbers or ranges (`"1024-65535"`); matches equalities, lists,
    /// ranges and `>`/`>=` bounds that overlap.
    #[serde(default)]
    pub ports: Vec<PortSpec>,
    /// Program names (`nmap`, `base64`): a value whose last path component,
    /// with wildcards and `.exe` removed, equals one of them.
    #[serde(default)]
    pub processes: Vec<String>,
    /// Values compared case-insensitively (wildcards ignored).
    #[serde(default)]
    pub values: Vec<String>,
    /// Substrings: a value containing one of them (case-insensitive).
    #[serde(default)]
    pub contains: Vec<String>,
    /// Prefixes: a value starting with one of them (case-insensitive).
    #[serde(default)]
    pub prefixes: Vec<String>,
    /// Value globs (`*` any run, `?` one character, everything else
    /// literal, case-insensitive) matched against the rule's value with its
    /// leading and trailing wildcards removed.
    #[serde(default)]
    pub globs: Vec<String>,
    /// Regular expressions (Rust syntax), anchored at both ends and
    /// case-insensitive, matched like `globs`; for what a glob cannot say.
    #[serde(default)]
    pub regex: Vec<String>,
    /// The rule requires the field to be absent or empty.
    #[serde(default)]
    pub absent: bool,
    /// Any value test on the field (the rule keys on it at all).
    #[serde(default)]
    pub any: bool,
    /// Match in negative position (the rule excludes it) instead of positive.
    #[serde(default)]
    pub negated: bool,
    /// Every value of the comparison must match: the rule requires one of
    /// these values and nothing else (`event.outcome: failure`, not
    /// `success or failure`).
    #[serde(default)]
    pub only: bool,
    /// The same matcher prepared for matching; filled in at load.
    #[serde(skip)]
    pub compiled: CompiledMatcher,
}

/// A matcher's lists normalised once at load: lower-case, program names
/// without `.exe`, concepts widened to their name/path siblings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CompiledMatcher {
    /// The concepts a comparison may resolve to (`processes` matchers on
    /// `process.name` also look at `process.executable`, and the reverse).
    pub concepts: Vec<String>,
    /// Any field, resolved or not (`concepts: ["*"]`).
    pub any_field: bool,
    pub processes: Vec<String>,
    pub values: Vec<String>,
    pub contains: Vec<String>,
    /// `contains` without a leading `-` or `/` (a flag written bare).
    pub contains_bare: Vec<String>,
    pub prefixes: Vec<String>,
    /// `globs` and `regex`, compiled.
    pub patterns: Vec<ValueRegex>,
}

/// A compiled value glob or regular expression (compared by its source).
#[derive(Debug, Clone)]
pub struct ValueRegex(pub regex::Regex);

impl PartialEq for ValueRegex {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

/// The anchored, case-insensitive regular expression of a value glob.
pub fn glob_regex(glob: &str) -> String {
    let mut out = String::from("(?is)^");
    for ch in glob.chars() {
        match ch {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            c => out.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out.push('$');
    out
}

/// A `regex` entry made anchored and case-insensitive.
pub fn anchored_regex(re: &str) -> String {
    format!("(?is)^(?:{re})$")
}

impl CompiledMatcher {
    /// Does a rule value match one of the globs or regular expressions?
    /// The value's own leading and trailing wildcards are removed first.
    /// `open_end`: the rule's comparison accepts anything after the value
    /// (a prefix or substring test); then a value ending in a path
    /// separator (`...\Run\`, anything under a key) is also tried without
    /// it, and so is one with a trailing wildcard.
    pub fn pattern_hit(&self, value: &str, open_end: bool) -> bool {
        let text = value.trim();
        let core = text.trim_matches('*');
        if core.is_empty() {
            return false;
        }
        let hit = |t: &str| self.patterns.iter().any(|r| r.0.is_match(t));
        if hit(core) {
            return true;
        }
        let open = open_end || text.ends_with('*');
        let under = core.trim_end_matches(['\\', '/']);
        open && under.len() < core.len() && !under.is_empty() && hit(under)
    }
}

impl Matcher {
    /// Fill in [`Matcher::compiled`].
    pub fn compile(&mut self) {
        let lower = |v: &[String]| v.iter().map(|x| x.to_ascii_lowercase()).collect::<Vec<_>>();
        let contains = lower(&self.contains);
        self.compiled = CompiledMatcher {
            concepts: widen_concepts(&self.concepts, !self.processes.is_empty()),
            any_field: self.concepts.iter().any(|c| c == "*"),
            processes: self.processes.iter().map(|p| norm_program(p)).collect(),
            values: lower(&self.values),
            contains_bare: contains
                .iter()
                .map(|x| x.trim().trim_start_matches(['-', '/']).to_string())
                .collect(),
            contains,
            prefixes: lower(&self.prefixes),
            patterns: self
                .globs
                .iter()
                .map(|g| glob_regex(g))
                .chain(self.regex.iter().map(|r| anchored_regex(r)))
                .filter_map(|r| regex::Regex::new(&r).ok().map(ValueRegex))
                .collect(),
        };
    }
}

/// A program name as compared: lower-case, without a trailing `.exe`.
pub fn norm_program(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    l.strip_suffix(".exe").map(str::to_string).unwrap_or(l)
}

/// Concepts that also count for a matcher by program name: a name is found
/// in the executable path and the original file name, and the reverse.
pub fn widen_concepts(concepts: &[String], by_name: bool) -> Vec<String> {
    let mut out: Vec<String> = concepts.to_vec();
    if by_name {
        for c in concepts {
            let extra: &[&str] = match c.as_str() {
                "process.name" => &["process.executable", "process.pe.original_file_name"],
                "process.executable" => &["process.name", "process.pe.original_file_name"],
                "process.parent.name" => &["process.parent.executable"],
                "process.parent.executable" => &["process.parent.name"],
                _ => &[],
            };
            for e in extra {
                if !out.iter().any(|o| o == e) {
                    out.push((*e).to_string());
                }
            }
        }
    }
    out
}

/// A port or an inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSpec {
    pub lo: i64,
    pub hi: i64,
}

impl<'de> Deserialize<'de> for PortSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(i64),
            Str(String),
        }
        let parse = |s: &str| -> Result<PortSpec, String> {
            let (lo, hi) = match s.split_once('-') {
                Some((a, b)) => (a.trim(), b.trim()),
                None => (s.trim(), s.trim()),
            };
            let lo: i64 = lo.parse().map_err(|_| format!("invalid port `{s}`"))?;
            let hi: i64 = hi.parse().map_err(|_| format!("invalid port `{s}`"))?;
            if !(0..=65535).contains(&lo) || !(0..=65535).contains(&hi) || lo > hi {
                return Err(format!("invalid port range `{s}`"));
            }
            Ok(PortSpec { lo, hi })
        };
        match Raw::deserialize(d)? {
            Raw::Int(i) => parse(&i.to_string()).map_err(serde::de::Error::custom),
            Raw::Str(s) => parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// An exclusion already in the rule that deals with the pattern.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Handled {
    pub concepts: Vec<String>,
    /// Values the exclusion should cover; empty = any exclusion on these
    /// concepts counts (the values are the organisation's own).
    #[serde(default)]
    pub values: Vec<String>,
    /// Program names the exclusion should cover (matched like
    /// [`Matcher::processes`]).
    #[serde(default)]
    pub processes: Vec<String>,
    /// How many of `values`/`processes` must be covered; default all.
    #[serde(default)]
    pub min: Option<usize>,
    /// `concepts` widened and `processes` normalised; filled in at load.
    #[serde(skip)]
    pub compiled: CompiledMatcher,
}

impl Handled {
    /// Fill in [`Handled::compiled`].
    pub fn compile(&mut self) {
        self.compiled = CompiledMatcher {
            concepts: widen_concepts(&self.concepts, !self.processes.is_empty()),
            processes: self.processes.iter().map(|p| norm_program(p)).collect(),
            values: self.values.iter().map(|v| v.to_ascii_lowercase()).collect(),
            ..CompiledMatcher::default()
        };
    }
}

/// The exclusion to suggest.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExclusionSpec {
    /// Short imperative phrase: "exclude server replies".
    pub summary: String,
    /// snake_case name for the filter (`filter_<name>` in Sigma).
    pub name: String,
    /// All must match for an event to be excluded.
    pub fields: Vec<ExclusionFieldSpec>,
    /// Other ways to exclude it, in words (shown in `explain`).
    #[serde(default)]
    pub alternatives: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExclusionFieldSpec {
    pub concept: String,
    /// `eq` (default), `endswith`, `startswith`, `cidr`.
    #[serde(default)]
    pub op: ExclusionOp,
    /// Default values (known benign actors).
    #[serde(default)]
    pub values: Vec<String>,
    /// The environment fact (configuration) that holds the organisation's
    /// values, e.g. `dns_servers`.
    #[serde(default)]
    pub fact: Option<String>,
    /// Shown instead of values when neither defaults nor facts exist,
    /// e.g. `<your DNS servers>`.
    #[serde(default)]
    pub placeholder: Option<String>,
    /// Field names to write instead of the concept table's choice, for
    /// rules whose triggering field is a given one (e.g. a Sigma rule keyed
    /// on `EventID` 4625 names the failed account `TargetUserName`).
    #[serde(default)]
    pub overrides: Vec<FieldOverride>,
    /// The values narrow the trigger's own comparison (an exact path among
    /// the programs the rule names), so a rule that pins this concept is
    /// not a contradiction.
    #[serde(default)]
    pub narrows_trigger: bool,
}

/// How an exclusion field compares its values.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ExclusionOp {
    #[default]
    Eq,
    StartsWith,
    EndsWith,
    /// Addresses and ranges.
    Cidr,
}

impl ExclusionOp {
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionOp::Eq => "eq",
            ExclusionOp::StartsWith => "startswith",
            ExclusionOp::EndsWith => "endswith",
            ExclusionOp::Cidr => "cidr",
        }
    }

    /// The Logic IR operator.
    pub fn op(self) -> Op {
        match self {
            ExclusionOp::Eq => Op::Eq,
            ExclusionOp::StartsWith => Op::StartsWith,
            ExclusionOp::EndsWith => Op::EndsWith,
            ExclusionOp::Cidr => Op::Cidr,
        }
    }
}

impl fmt::Display for ExclusionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ExclusionOp {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A rule schema as named in the catalogue.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SchemaName {
    Sigma,
    Ecs,
    Splunk,
}

impl SchemaName {
    pub fn of(s: Schema) -> SchemaName {
        match s {
            Schema::Sigma => SchemaName::Sigma,
            Schema::Ecs => SchemaName::Ecs,
            Schema::Splunk => SchemaName::Splunk,
        }
    }
}

/// A field name for one schema, used when the trigger's field is one of
/// `when_trigger` (any trigger when empty).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldOverride {
    /// `sigma`, `ecs` or `splunk`.
    pub schema: SchemaName,
    #[serde(default)]
    pub when_trigger: Vec<String>,
    pub field: String,
}

impl ExclusionFieldSpec {
    /// The default values joined with `, `, or the placeholder when there
    /// are none.
    pub fn values_text(&self) -> String {
        if self.values.is_empty() {
            self.placeholder.clone().unwrap_or_default()
        } else {
            self.values.join(", ")
        }
    }

    /// The field in words, the one description used by `explain`, SARIF
    /// help and the checks page: "`source.ip` in CIDR: <your DNS servers>
    /// (environment fact `dns_servers`)".
    pub fn describe(&self) -> String {
        let how = match self.op {
            ExclusionOp::Eq => "is",
            ExclusionOp::StartsWith => "starts with",
            ExclusionOp::EndsWith => "ends with",
            ExclusionOp::Cidr => "in CIDR",
        };
        let fact = self
            .fact
            .as_deref()
            .map(|x| format!(" (environment fact `{x}`)"))
            .unwrap_or_default();
        format!("`{}` {how}: {}{fact}", self.concept, self.values_text())
    }
}

impl ExclusionSpec {
    /// One line per field, see [`ExclusionFieldSpec::describe`]; an event
    /// is excluded when all of them match.
    pub fn describe(&self) -> Vec<String> {
        self.fields
            .iter()
            .map(ExclusionFieldSpec::describe)
            .collect()
    }
}

/// The field-concept table file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldsFile {
    pub concepts: indexmap::IndexMap<String, ConceptFields>,
}

/// The names of one concept in each schema; the first is the one used when
/// writing a suggestion.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ConceptFields {
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub sigma: Vec<String>,
    #[serde(default)]
    pub ecs: Vec<String>,
    #[serde(default)]
    pub splunk: Vec<String>,
    /// Splunk names for searches that read one data source whose events do
    /// not follow the CIM names: the data-source macro (compared with the
    /// rule's data words, as a substring) → the name to write
    /// (`amazon_security_lake: actor.user.uid` for OCSF events).
    #[serde(default)]
    pub splunk_sources: indexmap::IndexMap<String, String>,
}

/// An error found while loading a catalogue, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct KnowledgeError {
    pub file: String,
    pub span: Option<Span>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for KnowledgeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Field table lookups by schema.
#[derive(Debug, Clone, Default)]
pub struct FieldTable {
    by_schema: HashMap<(SchemaKey, String), String>,
    preferred: HashMap<(SchemaKey, String), String>,
    pub concepts: indexmap::IndexMap<String, ConceptFields>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum SchemaKey {
    Sigma,
    Ecs,
    Splunk,
}

fn key(s: Schema) -> SchemaKey {
    match s {
        Schema::Sigma => SchemaKey::Sigma,
        Schema::Ecs => SchemaKey::Ecs,
        Schema::Splunk => SchemaKey::Splunk,
    }
}

impl FieldTable {
    pub fn from_file(f: FieldsFile) -> Self {
        let mut t = FieldTable::default();
        for (concept, names) in &f.concepts {
            for (k, list) in [
                (SchemaKey::Sigma, &names.sigma),
                (SchemaKey::Ecs, &names.ecs),
                (SchemaKey::Splunk, &names.splunk),
            ] {
                for (i, n) in list.iter().enumerate() {
                    t.by_schema
                        .entry((k, n.to_ascii_lowercase()))
                        .or_insert_with(|| concept.clone());
                    if i == 0 {
                        t.preferred.insert((k, concept.clone()), n.clone());
                    }
                }
            }
        }
        t.concepts = f.concepts;
        t
    }

    /// The concept of a raw field name in `schema`. Splunk datamodel
    /// prefixes (`Processes.`, `All_Traffic.`) are tried with and without.
    pub fn concept_of(&self, schema: Schema, raw: &str) -> Option<&str> {
        let k = key(schema);
        let lower = raw.to_ascii_lowercase();
        if let Some(c) = self.by_schema.get(&(k, lower.clone())) {
            return Some(c);
        }
        // ECS names are the concepts themselves.
        if schema == Schema::Ecs && self.concepts.contains_key(lower.as_str()) {
            return self
                .concepts
                .get_key_value(lower.as_str())
                .map(|(k, _)| k.as_str());
        }
        if schema == Schema::Splunk {
            // `Processes.process_name` → `process_name`, and the reverse.
            if let Some((_, rest)) = lower.rsplit_once('.') {
                if let Some(c) = self.by_schema.get(&(k, rest.to_string())) {
                    return Some(c);
                }
            }
        }
        None
    }

    /// The field name to write for `concept` in `schema`.
    pub fn preferred(&self, schema: Schema, concept: &str) -> Option<&str> {
        self.preferred
            .get(&(key(schema), concept.to_string()))
            .map(String::as_str)
    }

    /// Fill in `concept` on every field of `logic`.
    pub fn resolve(&self, schema: Schema, logic: &mut Logic) {
        logic.fields_mut(&mut |f: &mut Field, _, _| {
            if f.derived || f.concept.is_some() {
                return;
            }
            f.concept = self.concept_of(schema, &f.raw).map(str::to_string);
        });
    }
}

/// The loaded catalogue.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub patterns: Vec<Pattern>,
    pub fields: FieldTable,
    /// Signals that a rule is written for one specific threat.
    pub intent: IntentSignals,
    /// Field names per Sigma log source.
    pub sigma_logsources: SigmaLogsources,
    /// Named value sets (`$name`), from `knowledge/sets.yml` and the
    /// `sets:` of every catalogue file loaded so far.
    pub sets: indexmap::IndexMap<String, ValueSet>,
}

/// `knowledge/intent.yml`: what marks a rule as written for one specific
/// threat. All lists are compared case-insensitively; already lower-cased
/// at load.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IntentSignals {
    /// Tag prefixes (`cve.`, `attack.t1190`, `Use Case: Vulnerability`,
    /// `analytic_story:` stories are matched with `stories`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Substrings of a Splunk analytic story name.
    #[serde(default)]
    pub stories: Vec<String>,
    /// Substrings of the rule's path (`rules-emerging-threats/`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Words or phrases in the rule's title, matched at word boundaries.
    #[serde(default)]
    pub titles: Vec<String>,
    /// Parent programs whose children a rule watches because the parent is
    /// the way in (web servers, document readers, mail clients): a rule
    /// keyed on one is about a web shell or a malicious document.
    #[serde(default)]
    pub parents: Vec<String>,
    /// Phrases in the rule's own false-positive notes saying that no
    /// benign activity matches it ("no known legitimate"), compared as
    /// case-insensitive substrings.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl IntentSignals {
    fn normalise(&mut self) {
        for list in [
            &mut self.tags,
            &mut self.stories,
            &mut self.paths,
            &mut self.titles,
            &mut self.notes,
        ] {
            for x in list.iter_mut() {
                *x = x.to_ascii_lowercase();
            }
        }
        for x in self.parents.iter_mut() {
            *x = norm_program(x);
        }
    }
}

/// SigmaHQ's field names per log source: product → category or service →
/// the fields events of that log source carry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SigmaLogsources {
    products: HashMap<String, SigmaProduct>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct SigmaProduct {
    common: Vec<String>,
    /// category or service → fields (lower-case).
    sources: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct SigmaLogsourceFile {
    legit: HashMap<String, SigmaLogsourceProduct>,
    #[serde(default)]
    addon: HashMap<String, SigmaLogsourceProduct>,
}

#[derive(Deserialize, Default)]
struct SigmaLogsourceProduct {
    #[serde(default)]
    common: Vec<String>,
    #[serde(default)]
    category: HashMap<String, Vec<String>>,
    #[serde(default)]
    service: HashMap<String, Vec<String>>,
}

impl SigmaLogsources {
    fn from_json(text: &str) -> Result<Self, String> {
        let f: SigmaLogsourceFile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut out = SigmaLogsources::default();
        for part in [f.legit, f.addon] {
            for (product, p) in part {
                let e = out
                    .products
                    .entry(product.to_ascii_lowercase())
                    .or_default();
                e.common
                    .extend(p.common.iter().map(|x| x.to_ascii_lowercase()));
                for (name, fields) in p.category.into_iter().chain(p.service) {
                    e.sources
                        .entry(name.to_ascii_lowercase())
                        .or_default()
                        .extend(fields.iter().map(|x| x.to_ascii_lowercase()));
                }
            }
        }
        Ok(out)
    }

    /// The fields of the log source a rule names with `words` (its
    /// lower-case logsource values: product, category, service). `None`
    /// when the taxonomy does not list that log source's fields (unknown
    /// products, or a log source listed with no fields).
    pub fn fields_for(&self, words: &[String]) -> Option<Vec<&str>> {
        let product = words
            .iter()
            .find_map(|w| self.products.get_key_value(w.as_str()))
            .map(|(_, p)| p)
            .or_else(|| self.products.get("empty"))?;
        let mut out: Vec<&str> = Vec::new();
        let mut known = false;
        for w in words {
            if let Some(list) = product.sources.get(w.as_str()) {
                if !list.is_empty() {
                    known = true;
                    out.extend(list.iter().map(String::as_str));
                }
            }
        }
        if !known {
            return None;
        }
        out.extend(product.common.iter().map(String::as_str));
        Some(out)
    }
}

/// Convert a serde-saphyr error into a positioned error.
fn yaml_error(file: &str, text: &str, e: serde_saphyr::Error) -> KnowledgeError {
    let loc = e.location();
    let (line, column) = match loc {
        Some(l) => (Some(l.line() as usize), Some(l.column() as usize)),
        None => (None, None),
    };
    let span = line.and_then(|l| {
        let sf = SourceFile::new(file, text);
        sf.index
            .line_start(l)
            .map(|s| Span::point(s + column.unwrap_or(1).saturating_sub(1)))
    });
    let message = e.to_string();
    let message = message.lines().next().unwrap_or("invalid YAML").to_string();
    KnowledgeError {
        file: file.to_string(),
        span,
        line,
        column,
        message,
    }
}

impl Knowledge {
    /// The built-in catalogue. Validated by a test, so this cannot fail in a
    /// released binary; should it, the error is returned, not panicked.
    pub fn builtin() -> Result<Knowledge, Vec<KnowledgeError>> {
        let mut k = Knowledge::default();
        let mut errors = Vec::new();
        let (fname, ftext) = BUILTIN_FIELDS;
        match serde_saphyr::from_str::<FieldsFile>(ftext) {
            Ok(f) => k.fields = FieldTable::from_file(f),
            Err(e) => errors.push(yaml_error(fname, ftext, e)),
        }
        let (iname, itext) = BUILTIN_INTENT;
        match serde_saphyr::from_str::<IntentSignals>(itext) {
            Ok(mut i) => {
                i.normalise();
                k.intent = i;
            }
            Err(e) => errors.push(yaml_error(iname, itext, e)),
        }
        let (lname, ltext) = BUILTIN_SIGMA_LOGSOURCES;
        match SigmaLogsources::from_json(ltext) {
            Ok(l) => k.sigma_logsources = l,
            Err(message) => errors.push(KnowledgeError {
                file: lname.to_string(),
                span: None,
                line: None,
                column: None,
                message,
            }),
        }
        for (name, text) in BUILTIN_SET_FILES {
            if let Err(mut es) = k.add_sets(name, text) {
                errors.append(&mut es);
            }
        }
        for (name, text) in BUILTIN_PATTERN_FILES {
            if let Err(mut es) = k.add_patterns(name, text) {
                errors.append(&mut es);
            }
        }
        if errors.is_empty() {
            Ok(k)
        } else {
            Err(errors)
        }
    }

    /// Load a file of shared value sets (`sets:` only).
    pub fn add_sets(&mut self, file: &str, text: &str) -> Result<(), Vec<KnowledgeError>> {
        let parsed: SetFile =
            serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(file, text, e)])?;
        let errors = self.check_sets(file, text, &parsed.sets);
        if !errors.is_empty() {
            return Err(errors);
        }
        self.sets.extend(parsed.sets);
        Ok(())
    }

    /// Problems with a file's set definitions: names, duplicates, values.
    fn check_sets(
        &self,
        file: &str,
        text: &str,
        sets: &indexmap::IndexMap<String, ValueSet>,
    ) -> Vec<KnowledgeError> {
        let mut errors = Vec::new();
        for (name, set) in sets {
            let mut problems = Vec::new();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                problems.push("a set name must be snake_case (a-z, 0-9, _)".to_string());
            }
            if self.sets.contains_key(name) {
                problems.push("the set is defined twice".to_string());
            }
            if set.values.is_empty() {
                problems.push("a set needs at least one value".to_string());
            }
            if set.description.trim().is_empty() || set.provenance.trim().is_empty() {
                problems.push("a set needs a description and a provenance".to_string());
            }
            if set.values.iter().any(|v| v.starts_with('$')) {
                problems.push("a set's values cannot name another set".to_string());
            }
            for m in problems {
                errors.push(error_at_text(
                    file,
                    text,
                    find_key_span(text, name),
                    format!("set `{name}`: {m}"),
                ));
            }
        }
        errors
    }

    /// Load a catalogue file in the pattern schema and add its sets and
    /// patterns. Every pattern is validated; on error nothing from the file
    /// is added.
    pub fn add_patterns(&mut self, file: &str, text: &str) -> Result<(), Vec<KnowledgeError>> {
        let mut parsed: PatternFile =
            serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(file, text, e)])?;
        let mut errors = self.check_sets(file, text, &parsed.sets);
        let mut sets = self.sets.clone();
        sets.extend(parsed.sets.iter().map(|(k, v)| (k.clone(), v.clone())));
        for p in &mut parsed.patterns {
            let id_span = find_id_span(text, &p.id);
            for name in p.expand_sets(&sets) {
                let needle = format!("${name}");
                let after = id_span.map_or(0, |s| s.start);
                let at = text[after..]
                    .find(&needle)
                    .map(|i| after + i)
                    .or_else(|| text.find(&needle))
                    .map(|i| Span::new(i, i + needle.len()))
                    .or(id_span);
                let known = sets.keys().map(String::as_str);
                let hint = crate::did_you_mean::did_you_mean(&name, known)
                    .map(|c| format!(" (did you mean `${c}`?)"))
                    .unwrap_or_default();
                errors.push(error_at_text(
                    file,
                    text,
                    at,
                    format!("pattern `{}`: unknown value set `${name}`{hint}", p.id),
                ));
            }
        }
        for p in &parsed.patterns {
            for m in self.validate(p) {
                errors.push(error_at_text(
                    file,
                    text,
                    find_id_span(text, &p.id),
                    format!("pattern `{}`: {m}", p.id),
                ));
            }
            if self.patterns.iter().any(|q| q.id == p.id)
                || parsed.patterns.iter().filter(|q| q.id == p.id).count() > 1
            {
                errors.push(KnowledgeError {
                    file: file.to_string(),
                    span: None,
                    line: None,
                    column: None,
                    message: format!("pattern id `{}` is defined twice", p.id),
                });
            }
        }
        if !errors.is_empty() {
            errors.dedup();
            return Err(errors);
        }
        for p in &mut parsed.patterns {
            p.compile();
        }
        self.sets.extend(parsed.sets);
        self.patterns.extend(parsed.patterns);
        Ok(())
    }

    /// Problems with one pattern, in words.
    pub fn validate(&self, p: &Pattern) -> Vec<String> {
        let mut out = Vec::new();
        let kebab = !p.id.is_empty()
            && p.id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !p.id.starts_with('-')
            && !p.id.ends_with('-');
        if !kebab {
            out.push("id must be kebab-case (a-z, 0-9, -)".to_string());
        }
        if p.title.trim().is_empty() || p.rationale.trim().is_empty() {
            out.push("title and rationale must not be empty".into());
        }
        if p.trigger.is_empty() {
            out.push("trigger needs at least one clause".into());
        }
        let concept_ok = |c: &str| {
            c == "*" || self.fields.concepts.is_empty() || self.fields.concepts.contains_key(c)
        };
        let matchers = p
            .trigger
            .iter()
            .chain(p.unless.iter())
            .flat_map(|cl| std::iter::once(&cl.matcher).chain(cl.also.iter()));
        for m in matchers {
            let kinds = [
                !m.ports.is_empty(),
                !m.processes.is_empty(),
                !m.values.is_empty(),
                !m.contains.is_empty(),
                !m.prefixes.is_empty(),
                !m.globs.is_empty(),
                !m.regex.is_empty(),
                m.absent,
                m.any,
            ]
            .iter()
            .filter(|b| **b)
            .count();
            if kinds != 1 {
                out.push(
                    "each trigger matcher needs exactly one of ports, processes, values, contains, prefixes, globs, regex, absent, any"
                        .into(),
                );
            }
            for g in &m.globs {
                if g.trim().trim_matches('*').is_empty() {
                    out.push(format!("glob `{g}` matches every value; use `any`"));
                }
            }
            for r in &m.regex {
                if let Err(e) = regex::Regex::new(&anchored_regex(r)) {
                    let why = e.to_string();
                    let why = why.lines().last().unwrap_or("invalid").trim().to_string();
                    out.push(format!("regex `{r}` does not compile: {why}"));
                }
            }
            if m.concepts.is_empty() {
                out.push("each trigger matcher needs concepts".into());
            }
            for c in &m.concepts {
                if !concept_ok(c) {
                    out.push(format!("unknown concept `{c}` (see knowledge/fields.yml)"));
                }
            }
        }
        for h in &p.handled {
            for c in &h.concepts {
                if !concept_ok(c) {
                    out.push(format!("unknown concept `{c}` in handled"));
                }
            }
        }
        if p.exclusion.fields.is_empty() {
            out.push("exclusion needs at least one field".into());
        }
        if !p
            .exclusion
            .name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || p.exclusion.name.is_empty()
        {
            out.push("exclusion name must be snake_case".into());
        }
        for f in &p.exclusion.fields {
            if !concept_ok(&f.concept) {
                out.push(format!("unknown concept `{}` in exclusion", f.concept));
            }
            for o in &f.overrides {
                if o.field.is_empty() {
                    out.push(format!("override of `{}` needs a field", f.concept));
                }
            }
            if f.values.is_empty() && f.placeholder.is_none() {
                out.push(format!(
                    "exclusion field `{}` needs default values or a placeholder",
                    f.concept
                ));
            }
        }
        out
    }

    /// Prepare every pattern of the catalogue for matching (patterns built
    /// in code rather than loaded).
    pub fn compile(&mut self) {
        for p in &mut self.patterns {
            p.compile();
        }
    }

    pub fn pattern(&self, id: &str) -> Option<&Pattern> {
        self.patterns.iter().find(|p| p.id == id)
    }
}

impl Pattern {
    /// Replace every `$name` entry of the value lists by the values of the
    /// set it names; the names of unknown sets are returned (and their
    /// entries dropped).
    pub fn expand_sets(&mut self, sets: &indexmap::IndexMap<String, ValueSet>) -> Vec<String> {
        let mut unknown = Vec::new();
        let mut expand = |list: &mut Vec<String>| {
            if !list.iter().any(|v| v.starts_with('$')) {
                return;
            }
            let mut out = Vec::with_capacity(list.len());
            for v in list.drain(..) {
                match v.strip_prefix('$') {
                    Some(name) => match sets.get(name) {
                        Some(set) => {
                            for x in &set.values {
                                if !out.contains(x) {
                                    out.push(x.clone());
                                }
                            }
                        }
                        None => {
                            if !unknown.iter().any(|u| u == name) {
                                unknown.push(name.to_string());
                            }
                        }
                    },
                    None => {
                        if !out.contains(&v) {
                            out.push(v);
                        }
                    }
                }
            }
            *list = out;
        };
        let matchers = self
            .trigger
            .iter_mut()
            .chain(self.unless.iter_mut())
            .flat_map(|c| std::iter::once(&mut c.matcher).chain(c.also.iter_mut()));
        for m in matchers {
            for list in [
                &mut m.processes,
                &mut m.values,
                &mut m.contains,
                &mut m.prefixes,
                &mut m.globs,
            ] {
                expand(list);
            }
        }
        for h in &mut self.handled {
            expand(&mut h.values);
            expand(&mut h.processes);
        }
        for f in &mut self.exclusion.fields {
            expand(&mut f.values);
        }
        unknown
    }

    /// Fill in the compiled form of every matcher, and lower-case the
    /// scope's words.
    pub fn compile(&mut self) {
        for list in [
            &mut self.scope.logsource,
            &mut self.scope.not_logsource,
            &mut self.scope.rule_type,
            &mut self.scope.not_rule_type,
            &mut self.scope.not_titles,
        ] {
            for w in list.iter_mut() {
                *w = w.to_ascii_lowercase();
            }
        }
        for c in self.trigger.iter_mut().chain(self.unless.iter_mut()) {
            c.matcher.compile();
            for m in &mut c.also {
                m.compile();
            }
        }
        for h in &mut self.handled {
            h.compile();
        }
    }
}

/// An error at `span` of a catalogue file's text (line and column filled in).
fn error_at_text(file: &str, text: &str, span: Option<Span>, message: String) -> KnowledgeError {
    let sf = SourceFile::new(file, text);
    let lc = span.map(|s| sf.line_col(s.start));
    KnowledgeError {
        file: file.to_string(),
        span,
        line: lc.map(|l| l.line),
        column: lc.map(|l| l.column),
        message,
    }
}

/// The span of a mapping key `name:` (a set's name) in `text`.
fn find_key_span(text: &str, name: &str) -> Option<Span> {
    let needle = format!("{name}:");
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle).map(|i| from + i) {
        let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
        if text[line_start..i].trim().is_empty() {
            return Some(Span::new(i, i + name.len()));
        }
        from = i + needle.len();
    }
    None
}

fn find_id_span(text: &str, id: &str) -> Option<Span> {
    let needle = format!("id: {id}");
    text.find(&needle)
        .map(|i| Span::new(i + 4, i + needle.len()))
}
