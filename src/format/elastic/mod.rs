//! Elastic detection-rules TOML files (`[metadata]`, `[rule]`,
//! `[transform]`).
//!
//! The TOML is read with `toml`'s spanned document tree, so every key and
//! value used has a byte span. The query string is decoded again from the
//! raw file bytes ([`string::decode`]) with an offset map, parsed with the
//! rule language's parser, and every span is mapped back to the file: a
//! label on `6667` inside `destination.port:(6667 or 6697)` lands on those
//! four bytes of the file, through `\"` escapes and line continuations.
//!
//! Kibana filters (`[[rule.filters]]`) become IR nodes AND-ed with the
//! query (negated filters under `Not`), so an exclusion written there
//! counts as one.

mod filters;
pub mod string;

use crate::query::{self, QueryParse};
use crate::rule::{
    Aggregation, AggregationKind, Anchors, DetectionRule, Format, Language, Logic, Meta,
    ParseIssue, ParsedFile, Quoting, RuleMeta, Schema,
};
use crate::source::{OffsetMap, SourceFile, Span};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

pub(crate) type SValue<'i> = Spanned<DeValue<'i>>;

/// The `language` values Elastic accepts, with the language each means.
const LANGUAGES: &[(&str, Language)] = &[
    ("kuery", Language::Kql),
    ("eql", Language::Eql),
    ("esql", Language::Esql),
    ("lucene", Language::Lucene),
];

/// The language of a query that names none: EQL when it starts like an
/// EQL query (`sequence`, `sample`, `<category> where`, `any where`), else
/// KQL.
pub fn infer_language(query: &str) -> Language {
    let mut rest = query;
    // Leading blank space and comments.
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, r)| r);
        } else {
            break;
        }
    }
    let word_len = |t: &str| {
        t.bytes()
            .position(|c| !(c.is_ascii_alphanumeric() || c == b'_'))
            .unwrap_or(t.len())
    };
    let n = word_len(rest);
    let (first, after) = rest.split_at(n);
    let starts_alpha = first
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic());
    let next_is_blank = after.is_empty() || after.starts_with(char::is_whitespace);
    if !starts_alpha || !next_is_blank {
        return Language::Kql;
    }
    if first.eq_ignore_ascii_case("sequence") || first.eq_ignore_ascii_case("sample") {
        return Language::Eql;
    }
    let after = after.trim_start();
    let m = word_len(after);
    let ends = after[m..].is_empty() || after[m..].starts_with(char::is_whitespace);
    if after[..m].eq_ignore_ascii_case("where") && ends {
        Language::Eql
    } else {
        Language::Kql
    }
}

/// A cheap sniff (no TOML parse): a `[rule]` table that sets `type`,
/// `query` or `language`, or a `[metadata]` table next to a `[rule]` table.
pub fn looks_like_rule(text: &str) -> bool {
    let mut has_rule = false;
    let mut has_meta = false;
    let mut has_key = false;
    let mut in_rule = false;
    for line in text.lines() {
        let l = line.trim();
        if let Some(h) = l.strip_prefix('[') {
            let name: String = h
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            in_rule = name == "rule";
            has_rule |= in_rule;
            has_meta |= name == "metadata";
            continue;
        }
        if in_rule {
            for key in ["type", "query", "language"] {
                if let Some(rest) = l.strip_prefix(key) {
                    if rest.trim_start().starts_with('=') {
                        has_key = true;
                    }
                }
            }
        }
        if has_rule && (has_meta || has_key) {
            return true;
        }
    }
    has_rule && (has_meta || has_key)
}

/// Parse an Elastic detection-rules TOML file.
pub fn parse(file: &SourceFile) -> ParsedFile {
    let text = file.text.as_str();
    let mut out = ParsedFile::default();
    if text.trim().is_empty() {
        out.issues.push(ParseIssue::error(
            "RL012",
            Span::point(0),
            "the file is empty: no rule",
        ));
        return out;
    }
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(e) => {
            out.issues.push(toml_error(text, &e));
            return out;
        }
    };
    let mut cx = Cx {
        text,
        issues: Vec::new(),
    };
    if let Some(rule) = cx.rule(root.get_ref()) {
        out.rules.push(rule);
    }
    out.issues = cx.issues;
    out
}

/// RL003 (RL013 for a duplicate key) at the position `toml` reports.
fn toml_error(text: &str, e: &toml::de::Error) -> ParseIssue {
    let mut span = e
        .span()
        .map(|r| Span::new(r.start, r.end))
        .unwrap_or_default();
    span.start = floor_char_boundary(text, span.start.min(text.len()));
    span.end = floor_char_boundary(text, span.end.min(text.len())).max(span.start);
    let msg = e.message().trim();
    let first = msg.lines().next().unwrap_or("invalid TOML");
    let code = if msg.contains("duplicate key") {
        "RL013"
    } else {
        "RL003"
    };
    ParseIssue::error(code, span, format!("invalid TOML: {first}"))
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

pub(crate) fn span_of<T>(v: &Spanned<T>) -> Span {
    let r = v.span();
    Span::new(r.start, r.end)
}

/// The span of a key's name (without quotes for a quoted key).
pub(crate) fn key_span(text: &str, k: &Spanned<std::borrow::Cow<'_, str>>) -> Span {
    let s = span_of(k);
    match text.get(s.start..s.end) {
        Some(raw)
            if raw.len() >= 2
                && ((raw.starts_with('"') && raw.ends_with('"'))
                    || (raw.starts_with('\'') && raw.ends_with('\''))) =>
        {
            Span::new(s.start + 1, s.end - 1)
        }
        _ => s,
    }
}

struct Cx<'t> {
    text: &'t str,
    issues: Vec<ParseIssue>,
}

fn table<'a, 'i>(v: &'a SValue<'i>) -> Option<&'a DeTable<'i>> {
    match v.get_ref() {
        DeValue::Table(t) => Some(t),
        _ => None,
    }
}

impl<'t> Cx<'t> {
    fn wrong_type(&mut self, key: &str, v: &SValue<'_>, expected: &str) {
        self.issues.push(ParseIssue::error(
            "RL004",
            span_of(v),
            format!(
                "`{key}` must be {expected}, found {}",
                v.get_ref().type_str()
            ),
        ));
    }

    /// A string value with the span of its characters.
    fn string(&mut self, t: &DeTable<'_>, key: &str) -> Option<Meta<String>> {
        let v = t.get(key)?;
        match v.get_ref() {
            DeValue::String(s) => Some(Meta {
                value: s.to_string(),
                span: string::content_span(self.text, span_of(v)),
            }),
            _ => {
                self.wrong_type(key, v, "a string");
                None
            }
        }
    }

    /// An array of strings (a lone string is accepted as one element).
    fn strings(&mut self, t: &DeTable<'_>, key: &str) -> Vec<Meta<String>> {
        let Some(v) = t.get(key) else {
            return Vec::new();
        };
        match v.get_ref() {
            DeValue::String(s) => vec![Meta {
                value: s.to_string(),
                span: string::content_span(self.text, span_of(v)),
            }],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push(Meta {
                            value: s.to_string(),
                            span: string::content_span(self.text, span_of(item)),
                        }),
                        _ => self.wrong_type(&format!("{key}[]"), item, "a string"),
                    }
                }
                out
            }
            _ => {
                self.wrong_type(key, v, "an array of strings");
                Vec::new()
            }
        }
    }

    fn expect_integer(&mut self, t: &DeTable<'_>, key: &str) {
        if let Some(v) = t.get(key) {
            if !matches!(v.get_ref(), DeValue::Integer(_)) {
                self.wrong_type(key, v, "an integer");
            }
        }
    }

    fn expect_table<'a, 'i>(&mut self, t: &'a DeTable<'i>, key: &str) -> Option<&'a DeTable<'i>> {
        let v = t.get(key)?;
        let tb = table(v);
        if tb.is_none() {
            self.wrong_type(key, v, "a table");
        }
        tb
    }

    /// An array of tables (`[[rule.x]]`).
    fn expect_tables<'a, 'i>(&mut self, t: &'a DeTable<'i>, key: &str) -> Vec<&'a DeTable<'i>> {
        let Some(v) = t.get(key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(key, v, "an array of tables");
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            match table(item) {
                Some(tb) => out.push(tb),
                None => self.wrong_type(&format!("{key}[]"), item, "a table"),
            }
        }
        out
    }

    fn rule(&mut self, root: &DeTable<'_>) -> Option<DetectionRule> {
        let Some((rule_key, rule_v)) = root.get_key_value("rule") else {
            self.issues.push(ParseIssue::error(
                "RL012",
                Span::point(0),
                "no `[rule]` table: not an Elastic detection rule",
            ));
            return None;
        };
        let Some(rule) = table(rule_v) else {
            self.wrong_type("rule", rule_v, "a table");
            return None;
        };
        let rule_span = span_of(rule_key);
        let metadata = root.get("metadata").and_then(|v| {
            let t = table(v);
            if t.is_none() {
                self.wrong_type("metadata", v, "a table");
            }
            t
        });

        let mut meta = RuleMeta {
            // Elastic Defend behaviour rules name it `id`.
            id: match rule.get("rule_id") {
                Some(_) => self.string(rule, "rule_id"),
                None => self.string(rule, "id"),
            },
            title: self.string(rule, "name"),
            level: self.string(rule, "severity"),
            description: self.string(rule, "description"),
            rule_type: self.string(rule, "type"),
            tags: self.strings(rule, "tags"),
            references: self.strings(rule, "references"),
            falsepositives: self.strings(rule, "false_positives"),
            ..RuleMeta::default()
        };
        if let Some(note) = self.string(rule, "note") {
            meta.falsepositives.extend(fp_analysis(self.text, &note));
        }
        let authors = self.strings(rule, "author");
        if let (Some(first), Some(last)) = (authors.first(), authors.last()) {
            meta.author = Some(Meta {
                value: authors
                    .iter()
                    .map(|a| a.value.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                span: first.span.join(last.span),
            });
        }
        meta.data = self
            .strings(rule, "index")
            .into_iter()
            .map(|m| m.value.to_lowercase())
            .collect();
        if let Some(md) = metadata {
            meta.status = self
                .string(md, "status")
                .or_else(|| self.string(md, "maturity"));
        }
        meta.aggregations = self.read_unmodelled(rule);

        let rule_type = meta.rule_type.as_ref().map(|m| m.value.clone());
        let language = self.language(rule, rule_type.as_deref());
        let mut anchors = Anchors::default();
        let mut logic = None;
        match language {
            Lang::Known(lang) => {
                if rule_type.as_deref() != Some("machine_learning") {
                    if let Some((l, a, aggs)) = self.query(rule, lang, rule_span) {
                        logic = Some(l);
                        anchors = a;
                        meta.aggregations.extend(aggs);
                    }
                }
            }
            Lang::Unknown => {}
        }
        if let Some(fv) = rule.get("filters") {
            let mut nodes = filters::parse(self.text, fv, &mut self.issues);
            if !nodes.is_empty() {
                logic = Some(match logic {
                    Some(q) => {
                        nodes.insert(0, q);
                        Logic::and(nodes)
                    }
                    None => Logic::and(nodes),
                });
            }
        }
        Some(DetectionRule {
            format: Format::Elastic,
            language: match language {
                Lang::Known(l) => l,
                Lang::Unknown => Language::Kql,
            },
            schema: Schema::Ecs,
            meta,
            logic,
            anchors,
            span: Span::new(0, self.text.len()),
        })
    }

    /// Values the logic does not model, read so that a wrong type is
    /// reported; returns the rule's aggregations (`threshold`,
    /// `new_terms`).
    fn read_unmodelled(&mut self, rule: &DeTable<'_>) -> Vec<Aggregation> {
        let mut aggregations = Vec::new();
        self.expect_integer(rule, "risk_score");
        if let Some(th) = self.expect_table(rule, "threshold") {
            let mut fields = Vec::new();
            if let Some(f) = th.get("field") {
                if matches!(f.get_ref(), DeValue::String(_) | DeValue::Array(_)) {
                    fields = self.strings(th, "field");
                } else {
                    self.wrong_type("threshold.field", f, "a string or an array of strings");
                }
            }
            self.expect_integer(th, "value");
            let threshold = th.get("value").and_then(|v| match v.get_ref() {
                DeValue::Integer(i) => i.to_string().parse().ok(),
                _ => None,
            });
            let mut distinct = Vec::new();
            for c in self.expect_tables(th, "cardinality") {
                distinct.extend(self.string(c, "field"));
                self.expect_integer(c, "value");
            }
            aggregations.push(Aggregation {
                kind: AggregationKind::Threshold,
                fields: fields.into_iter().filter(|f| !f.value.is_empty()).collect(),
                distinct,
                threshold,
            });
        }
        if let Some(nt) = self.expect_table(rule, "new_terms") {
            let _ = self.string(nt, "field");
            let fields = self.strings(nt, "value");
            for h in self.expect_tables(nt, "history_window_start") {
                let _ = self.string(h, "field");
                let _ = self.string(h, "value");
            }
            aggregations.push(Aggregation {
                kind: AggregationKind::NewTerms,
                fields,
                distinct: Vec::new(),
                threshold: None,
            });
        }
        for tm in self.expect_tables(rule, "threat_mapping") {
            for e in self.expect_tables(tm, "entries") {
                let _ = self.string(e, "field");
                let _ = self.string(e, "value");
                let _ = self.string(e, "type");
            }
        }
        for th in self.expect_tables(rule, "threat") {
            let _ = self.string(th, "framework");
            let _ = self.expect_table(th, "tactic");
            let _ = self.expect_tables(th, "technique");
        }
        aggregations
    }

    fn language(&mut self, rule: &DeTable<'_>, rule_type: Option<&str>) -> Lang {
        if rule_type == Some("esql") {
            return Lang::Known(Language::Esql);
        }
        let Some(v) = rule.get("language") else {
            return Lang::Known(match rule_type {
                Some("eql") => Language::Eql,
                // No type and no language (Elastic Defend behaviour rules):
                // the query's shape tells.
                None => match rule.get("query").map(|q| q.get_ref()) {
                    Some(DeValue::String(q)) => infer_language(q),
                    _ => Language::Kql,
                },
                _ => Language::Kql,
            });
        };
        let DeValue::String(s) = v.get_ref() else {
            self.wrong_type("language", v, "a string");
            return Lang::Unknown;
        };
        if let Some((_, l)) = LANGUAGES.iter().find(|(name, _)| *name == s.as_ref()) {
            return Lang::Known(*l);
        }
        let lower = s.to_ascii_lowercase();
        let suggestion = if matches!(lower.as_str(), "kql" | "kuery" | "kibana") {
            Some("kuery")
        } else if lower == "es|ql" || lower == "es_ql" {
            Some("esql")
        } else {
            crate::did_you_mean::did_you_mean(&lower, LANGUAGES.iter().map(|(name, _)| *name))
        };
        let mut issue = ParseIssue::error(
            "RL011",
            string::content_span(self.text, span_of(v)),
            format!("unknown query language `{s}`"),
        );
        issue = match suggestion {
            Some(name) => issue.with_help(format!(
                "did you mean `{name}`? (expected one of: kuery, eql, esql, lucene)"
            )),
            None => issue.with_help("expected one of: kuery, eql, esql, lucene"),
        };
        self.issues.push(issue);
        Lang::Unknown
    }

    /// Parse `rule.query` in `lang`; spans mapped to the file.
    fn query(
        &mut self,
        rule: &DeTable<'_>,
        lang: Language,
        rule_span: Span,
    ) -> Option<(Logic, Anchors, Vec<Aggregation>)> {
        let Some(v) = rule.get("query") else {
            self.issues.push(ParseIssue::error(
                "RL004",
                rule_span,
                "the rule has no `query`",
            ));
            return None;
        };
        let DeValue::String(value) = v.get_ref() else {
            self.wrong_type("query", v, "a string");
            return None;
        };
        let raw = span_of(v);
        let mut quoting = None;
        let (decoded, map, content) = match string::decode(self.text, raw) {
            Some(d) if d.value == value.as_ref() => {
                quoting = Some(match d.kind {
                    string::StrKind::Basic => Quoting::TomlBasic,
                    string::StrKind::MultiBasic => Quoting::TomlMultiBasic,
                    string::StrKind::Literal => Quoting::TomlLiteral,
                    string::StrKind::MultiLiteral => Quoting::TomlMultiLiteral,
                });
                (d.value, d.map, d.content)
            }
            _ => {
                // Should not happen; fall back to the whole string.
                let content = string::content_span(self.text, raw);
                let mut map = OffsetMap::new();
                map.push(value.len(), content.start, content.end);
                map.set_tail(content.end);
                (value.to_string(), map, content)
            }
        };
        let q = parse_query(lang, &decoded);
        let q = map_query(q, &map);
        self.issues.extend(q.issues);
        let mut anchors = q.anchors;
        anchors.query = Some(content);
        anchors.query_quoting = quoting;
        // ES|QL `STATS … BY …` and the `WHERE` that compares its count.
        let mut aggregations = Vec::new();
        if lang == Language::Esql {
            for mut agg in crate::format::splunk::aggregate::aggregations(&decoded) {
                agg.distinct
                    .retain(|d| esql_distinct_is_compared(&decoded, d.span));
                for f in agg.fields.iter_mut().chain(agg.distinct.iter_mut()) {
                    f.span = map.span(f.span);
                }
                aggregations.push(agg);
            }
        }
        Some((q.logic, anchors, aggregations))
    }
}

/// Whether the distinct count of the field at `at` is what the query
/// alerts on: its name (`users = COUNT_DISTINCT(user.name)`) is compared
/// with `>` or `>=` by a later `WHERE`. A distinct count only read by a
/// `CASE` that also alerts on one value is not a distinct-count rule.
fn esql_distinct_is_compared(text: &str, at: Span) -> bool {
    let before = text.get(..at.start).unwrap_or("");
    let Some(eq) = before.rfind('=') else {
        return false;
    };
    let alias = before[..eq]
        .trim_end()
        .rsplit(|c: char| c.is_whitespace() || c == ',')
        .next()
        .unwrap_or("");
    if alias.is_empty() {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    let Some(rel) = lower.get(at.end..).and_then(|t| t.find("| where")) else {
        return false;
    };
    let after = &text[at.end + rel..];
    after.match_indices(alias).any(|(i, _)| {
        let starts_word = after[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        starts_word && after[i + alias.len()..].trim_start().starts_with('>')
    })
}

enum Lang {
    Known(Language),
    Unknown,
}

/// Parse query text with the parser of `lang`.
pub fn parse_query(lang: Language, text: &str) -> QueryParse {
    match lang {
        Language::Kql => query::kql::parse(text),
        Language::Eql => query::eql::parse(text),
        Language::Esql => query::esql::parse(text),
        Language::Lucene => query::lucene::parse(text),
        Language::Spl => query::spl::parse(text),
        Language::Sigma => query::kql::parse(text),
    }
}

/// Map every span of a query parse through `map` (decoded → file).
pub(crate) fn map_query(mut q: QueryParse, map: &OffsetMap) -> QueryParse {
    let f = |s: Span| map.span(s);
    q.logic.map_spans(&f);
    for i in &mut q.issues {
        i.span = f(i.span);
    }
    let a = &mut q.anchors;
    a.query = a.query.map(f);
    a.conditions = a.conditions.iter().map(|s| f(*s)).collect();
    a.steps = a.steps.iter().map(|s| f(*s)).collect();
    a.detection = a.detection.map(f);
    a.first_aggregation = a.first_aggregation.map(|o| map.offset(o));
    for c in &mut a.commands {
        c.pipe = map.offset(c.pipe);
    }
    if let Some((_, s)) = &mut a.filter_macro {
        *s = f(*s);
    }
    q
}

#[cfg(test)]
mod tests;

/// The "False positive analysis" section of an investigation guide
/// (`note`): from its heading to the next heading of the same or a higher
/// level, without the heading. Its span is the section's text in the file
/// when the string is written without escapes, else the whole `note`.
fn fp_analysis(text: &str, note: &Meta<String>) -> Option<Meta<String>> {
    let v = &note.value;
    let mut offset = 0;
    let mut start = None;
    let mut level = 0;
    let mut end = v.len();
    for line in v.split_inclusive('\n') {
        let t = line.trim();
        let hashes = t.bytes().take_while(|b| *b == b'#').count();
        if hashes > 0 {
            match start {
                None if t[hashes..]
                    .trim()
                    .to_ascii_lowercase()
                    .starts_with("false positive analysis") =>
                {
                    start = Some(offset + line.len());
                    level = hashes;
                }
                Some(_) if hashes <= level => {
                    end = offset;
                    break;
                }
                _ => {}
            }
        }
        offset += line.len();
    }
    let start = start?;
    let body = v.get(start..end)?;
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return None;
    }
    let lead = body.len() - body.trim_start().len();
    let from = start + lead;
    let to = from + trimmed.len();
    // The decoded value sits verbatim in the file when nothing is escaped.
    let raw = text.get(note.span.start..note.span.end).unwrap_or("");
    let span = if raw == v.as_str() {
        Span::new(note.span.start + from, note.span.start + to)
    } else {
        note.span
    };
    Some(Meta {
        value: trimmed.to_string(),
        span,
    })
}
