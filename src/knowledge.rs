//! The catalogue of known false-positive patterns and the field-concept
//! tables, loaded from `knowledge/*.yml` (embedded in the binary) and from
//! user catalogues in the same schema.
//!
//! The schema is documented in `knowledge/README.md`.

use crate::rule::{Field, Logic, Schema};
use crate::source::{SourceFile, Span};
use serde::Deserialize;
use std::collections::HashMap;

pub mod facts;

/// The embedded catalogue files, in load order.
pub const BUILTIN_PATTERN_FILES: &[(&str, &str)] = &[
    (
        "knowledge/network.yml",
        include_str!("../knowledge/network.yml"),
    ),
    (
        "knowledge/process.yml",
        include_str!("../knowledge/process.yml"),
    ),
    (
        "knowledge/identity.yml",
        include_str!("../knowledge/identity.yml"),
    ),
];

/// The embedded field-concept table.
pub const BUILTIN_FIELDS: (&str, &str) = (
    "knowledge/fields.yml",
    include_str!("../knowledge/fields.yml"),
);

/// A catalogue file: a list of patterns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatternFile {
    pub patterns: Vec<Pattern>,
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
    #[serde(default = "default_severity")]
    pub severity: String,
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
    pub exclusion: ExclusionSpec,
    /// Taxonomy entries of the knowledge sources this pattern condenses.
    #[serde(default)]
    pub taxonomy: Vec<String>,
}

fn default_severity() -> String {
    "warning".into()
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
/// `processes`, `values`, `contains`, `prefixes`, `absent` is given.
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
    /// The rule requires the field to be absent or empty.
    #[serde(default)]
    pub absent: bool,
    /// Match in negative position (the rule excludes it) instead of positive.
    #[serde(default)]
    pub negated: bool,
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
    #[serde(default = "default_op")]
    pub op: String,
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
}

/// A field name for one schema, used when the trigger's field is one of
/// `when_trigger` (any trigger when empty).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldOverride {
    /// `sigma`, `ecs` or `splunk`.
    pub schema: String,
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
}

fn default_op() -> String {
    "eq".into()
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

    /// Load a catalogue file in the pattern schema and add its patterns.
    /// Every pattern is validated; on error nothing from the file is added.
    pub fn add_patterns(&mut self, file: &str, text: &str) -> Result<(), Vec<KnowledgeError>> {
        let parsed: PatternFile =
            serde_saphyr::from_str(text).map_err(|e| vec![yaml_error(file, text, e)])?;
        let mut errors = Vec::new();
        for p in &parsed.patterns {
            for m in self.validate(p) {
                let span = find_id_span(text, &p.id);
                let sf = SourceFile::new(file, text);
                let lc = span.map(|s| sf.line_col(s.start));
                errors.push(KnowledgeError {
                    file: file.to_string(),
                    span,
                    line: lc.map(|l| l.line),
                    column: lc.map(|l| l.column),
                    message: format!("pattern `{}`: {m}", p.id),
                });
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
        if p.severity.parse::<crate::severity::Severity>().is_err() {
            out.push(format!(
                "severity `{}` must be error, warning, info or hint",
                p.severity
            ));
        }
        if p.title.trim().is_empty() || p.rationale.trim().is_empty() {
            out.push("title and rationale must not be empty".into());
        }
        if p.trigger.is_empty() {
            out.push("trigger needs at least one clause".into());
        }
        let concept_ok =
            |c: &str| self.fields.concepts.is_empty() || self.fields.concepts.contains_key(c);
        for cl in &p.trigger {
            for m in std::iter::once(&cl.matcher).chain(cl.also.iter()) {
                let kinds = [
                    !m.ports.is_empty(),
                    !m.processes.is_empty(),
                    !m.values.is_empty(),
                    !m.contains.is_empty(),
                    !m.prefixes.is_empty(),
                    m.absent,
                ]
                .iter()
                .filter(|b| **b)
                .count();
                if kinds != 1 {
                    out.push(
                        "each trigger matcher needs exactly one of ports, processes, values, contains, prefixes, absent"
                            .into(),
                    );
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
            if !["eq", "endswith", "startswith", "cidr"].contains(&f.op.as_str()) {
                out.push(format!(
                    "exclusion op `{}` must be eq, endswith, startswith or cidr",
                    f.op
                ));
            }
            for o in &f.overrides {
                if !["sigma", "ecs", "splunk"].contains(&o.schema.as_str()) || o.field.is_empty() {
                    out.push(format!(
                        "override of `{}` needs schema sigma, ecs or splunk and a field",
                        f.concept
                    ));
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

    pub fn pattern(&self, id: &str) -> Option<&Pattern> {
        self.patterns.iter().find(|p| p.id == id)
    }
}

fn find_id_span(text: &str, id: &str) -> Option<Span> {
    let needle = format!("id: {id}");
    text.find(&needle)
        .map(|i| Span::new(i + 4, i + needle.len()))
}
