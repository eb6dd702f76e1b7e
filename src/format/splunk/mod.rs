//! Splunk security_content detections: YAML files with `name`, `id`,
//! `type`, `data_source`, `tags` and an SPL `search`.
//!
//! The YAML is read with serde-saphyr for its byte spans; the `search`
//! scalar is decoded here from the raw bytes (single-quoted `''`, double
//! quoted escapes, line folding, block scalars) with an [`OffsetMap`], so
//! every span of the SPL parse maps back to the exact characters in the
//! file.
//!
//! Metadata: `name` → title, `id`, `status`, `type` → rule_type,
//! `description`, `author`, `references`, `known_false_positives` →
//! falsepositives, `data_source` (and the datamodel the search reads) →
//! `data` in lower case, `tags.mitre_attack_id` → tags as written,
//! `tags.analytic_story` → `analytic_story:<story>` tags, `tags.impact` →
//! level (Splunk's risk bands: ≤20 informational, ≤40 low, ≤60 medium, ≤80
//! high, else critical).

pub(crate) mod aggregate;
pub(crate) mod yaml;

use crate::query::spl;
use crate::rule::{
    Anchors, DetectionRule, Format, Language, Meta, ParseIssue, ParsedFile, Quoting, RuleMeta,
    Schema,
};
use crate::source::{SourceFile, Span};
use serde_saphyr::options::DuplicateKeyPolicy;
use serde_saphyr::Spanned;
use yaml::{decode_value, line_indent, node_span, Node};

pub use yaml::{Decoded, ScalarStyle};

/// A cheap sniff: top-level `search:`, `name:` and `id:` keys.
pub fn looks_like_rule(text: &str) -> bool {
    let (mut search, mut name, mut id) = (false, false, false);
    for line in text.lines() {
        match top_key(line) {
            Some("search") => search = true,
            Some("name") => name = true,
            Some("id") => id = true,
            _ => {}
        }
        if search && name && id {
            return true;
        }
    }
    false
}

/// The key of a top-level `key: value` line.
fn top_key(line: &str) -> Option<&str> {
    let l = line.trim_end();
    if l.starts_with([' ', '\t', '#', '-']) {
        return None;
    }
    let (k, rest) = if let Some(r) = l.strip_prefix('"') {
        r.split_once('"')?
    } else if let Some(r) = l.strip_prefix('\'') {
        r.split_once('\'')?
    } else {
        let i = l.find(':')?;
        (&l[..i], &l[i..])
    };
    let rest = rest.trim_start();
    let after = rest.strip_prefix(':')?;
    if after.is_empty() || after.starts_with([' ', '\t']) {
        Some(k.trim_end())
    } else {
        None
    }
}

fn read_docs(text: &str) -> Result<Vec<Spanned<Node>>, serde_saphyr::Error> {
    let options = serde_saphyr::options! {
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
    };
    serde_saphyr::from_str_multiple_with_options::<Spanned<Node>, Vec<_>>(text, options)
}

/// Parse a Splunk detection file.
pub fn parse(file: &SourceFile) -> ParsedFile {
    let text = file.text.as_str();
    let mut out = ParsedFile::default();
    if text.trim().is_empty() {
        out.issues.push(ParseIssue::error(
            "RL012",
            Span::new(0, text.len()),
            "empty file: no Splunk detection",
        ));
        return out;
    }
    let docs = match std::panic::catch_unwind(|| read_docs(text)) {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            out.issues.push(yaml_error(text, &e));
            return out;
        }
        Err(_) => {
            out.issues.push(ParseIssue::error(
                "RL002",
                Span::point(0),
                "invalid YAML: the YAML reader failed on this file",
            ));
            return out;
        }
    };
    for doc in &docs {
        match &doc.value {
            Node::Map(entries) => rule_from_map(text, doc, entries, &mut out),
            Node::Null => {}
            _ => {
                let s = node_span(doc, text).unwrap_or_default();
                out.issues.push(ParseIssue::error(
                    "RL004",
                    s,
                    "expected a mapping with `name`, `id` and `search` at the top of the document",
                ));
            }
        }
    }
    if out.rules.is_empty() && out.issues.is_empty() {
        out.issues.push(ParseIssue::error(
            "RL012",
            Span::point(0),
            "no Splunk detection in this file",
        ));
    }
    out
}

fn yaml_error(text: &str, e: &serde_saphyr::Error) -> ParseIssue {
    let mut at = 0;
    if let Some(loc) = e.location() {
        at = match loc
            .span()
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok())
        {
            Some(o) if loc.line() > 0 => o.min(text.len()),
            _ if loc.line() > 0 => yaml::offset_of(text, loc.line(), loc.column()),
            _ => 0,
        };
    }
    let mut msg = e.without_snippet().to_string();
    if let Some(r) = msg.strip_prefix("error: ") {
        msg = r.to_string();
    }
    if msg.starts_with("line ") {
        if let Some((_, r)) = msg.split_once(": ") {
            msg = r.to_string();
        }
    }
    let mut msg = msg.lines().next().unwrap_or("").trim().to_string();
    if let Some(p) = msg.rfind(" at line ") {
        msg.truncate(p);
    }
    let end = text[at..]
        .chars()
        .next()
        .map(|c| at + c.len_utf8())
        .unwrap_or(at);
    ParseIssue::error("RL002", Span::new(at, end), format!("invalid YAML: {msg}"))
}

/// Text of a scalar node (numbers and booleans as written).
fn scalar(n: &Node) -> Option<String> {
    match n {
        Node::Str(s) => Some(s.clone()),
        Node::Int(i) => Some(i.to_string()),
        Node::Float(f) => Some(f.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The largest end offset of a node and its children.
fn node_end(n: &Spanned<Node>, text: &str, depth: usize) -> usize {
    let mut end = node_span(n, text).map(|s| s.end).unwrap_or(0);
    if depth > 64 {
        return end;
    }
    match &n.value {
        Node::Seq(items) => {
            for i in items {
                end = end.max(node_end(i, text, depth + 1));
            }
        }
        Node::Map(entries) => {
            for (k, v) in entries {
                end = end
                    .max(node_end(k, text, depth + 1))
                    .max(node_end(v, text, depth + 1));
            }
        }
        _ => {}
    }
    end
}

struct Doc<'a> {
    text: &'a str,
    entries: Vec<(String, &'a Spanned<Node>, &'a Spanned<Node>)>,
}

impl<'a> Doc<'a> {
    fn get(&self, key: &str) -> Option<(&'a Spanned<Node>, &'a Spanned<Node>)> {
        self.entries.iter().find(|e| e.0 == key).map(|e| (e.1, e.2))
    }

    fn span(&self, n: &Spanned<Node>) -> Span {
        node_span(n, self.text).unwrap_or_default()
    }

    /// A scalar metadata value; a collection is an RL004 error.
    fn meta(&self, key: &str, issues: &mut Vec<ParseIssue>) -> Option<Meta<String>> {
        let (_, v) = self.get(key)?;
        match scalar(&v.value) {
            Some(s) => Some(Meta {
                value: s,
                span: self.span(v),
            }),
            None if matches!(v.value, Node::Null) => None,
            None => {
                issues.push(ParseIssue::error(
                    "RL004",
                    self.span(v),
                    format!("`{key}` must be a string"),
                ));
                None
            }
        }
    }

    /// A string or a list of strings.
    fn list(&self, node: &Spanned<Node>) -> Vec<Meta<String>> {
        match &node.value {
            Node::Seq(items) => items
                .iter()
                .filter_map(|i| {
                    scalar(&i.value).map(|s| Meta {
                        value: s,
                        span: self.span(i),
                    })
                })
                .collect(),
            other => scalar(other)
                .map(|s| {
                    vec![Meta {
                        value: s,
                        span: self.span(node),
                    }]
                })
                .unwrap_or_default(),
        }
    }
}

fn map_get<'a>(
    entries: &'a [(Spanned<Node>, Spanned<Node>)],
    key: &str,
) -> Option<&'a Spanned<Node>> {
    entries
        .iter()
        .rev()
        .find(|(k, _)| matches!(&k.value, Node::Str(s) if s == key))
        .map(|(_, v)| v)
}

fn level_of(impact: i64) -> &'static str {
    match impact {
        i64::MIN..=20 => "informational",
        21..=40 => "low",
        41..=60 => "medium",
        61..=80 => "high",
        _ => "critical",
    }
}

fn rule_from_map(
    text: &str,
    doc: &Spanned<Node>,
    entries: &[(Spanned<Node>, Spanned<Node>)],
    out: &mut ParsedFile,
) {
    let mut d = Doc {
        text,
        entries: Vec::new(),
    };
    for (k, v) in entries {
        let Some(key) = scalar(&k.value) else {
            continue;
        };
        if let Some(prev) = d.entries.iter_mut().find(|e| e.0 == key) {
            out.issues.push(ParseIssue::error(
                "RL013",
                node_span(k, text).unwrap_or_default(),
                format!("duplicate key `{key}`: the last one is used"),
            ));
            prev.1 = k;
            prev.2 = v;
            continue;
        }
        d.entries.push((key, k, v));
    }
    let start = entries
        .first()
        .and_then(|(k, _)| node_span(k, text))
        .map(|s| s.start)
        .or_else(|| node_span(doc, text).map(|s| s.start))
        .unwrap_or(0);
    let end = node_end(doc, text, 0).max(start);
    let doc_span = Span::new(start, end);

    let mut issues = Vec::new();
    for key in ["name", "id", "search"] {
        if d.get(key).is_none() {
            issues.push(ParseIssue::error(
                "RL004",
                Span::point(start),
                format!("missing required key `{key}` of a Splunk detection"),
            ));
        }
    }
    let mut meta = RuleMeta {
        id: d.meta("id", &mut issues),
        title: d.meta("name", &mut issues),
        status: d.meta("status", &mut issues),
        description: d.meta("description", &mut issues),
        author: d.meta("author", &mut issues),
        rule_type: d.meta("type", &mut issues),
        ..RuleMeta::default()
    };
    if let Some((_, v)) = d.get("references") {
        meta.references = d.list(v);
    }
    if let Some((_, v)) = d.get("known_false_positives") {
        meta.falsepositives = d.list(v);
    }
    if let Some((_, v)) = d.get("data_source") {
        meta.data = d
            .list(v)
            .into_iter()
            .map(|m| m.value.to_lowercase())
            .collect();
    }
    if let Some((_, tags)) = d.get("tags") {
        if let Node::Map(t) = &tags.value {
            if let Some(ids) = map_get(t, "mitre_attack_id") {
                meta.tags.extend(d.list(ids));
            }
            if let Some(stories) = map_get(t, "analytic_story") {
                meta.tags.extend(d.list(stories).into_iter().map(|m| Meta {
                    value: format!("analytic_story:{}", m.value),
                    span: m.span,
                }));
            }
            if let Some(impact) = map_get(t, "impact") {
                let n = match &impact.value {
                    Node::Int(i) => Some(*i),
                    Node::Float(f) => Some(*f as i64),
                    Node::Str(s) => s.trim().parse().ok(),
                    _ => None,
                };
                if let Some(n) = n {
                    meta.level = Some(Meta {
                        value: level_of(n).to_string(),
                        span: d.span(impact),
                    });
                }
            }
        }
    }

    let mut logic = None;
    let mut anchors = Anchors::default();
    if let Some((k, v)) = d.get("search") {
        match &v.value {
            Node::Str(expected) => {
                let ks = node_span(k, text).unwrap_or_default();
                let vs = node_span(v, text).unwrap_or_default();
                let dec = decode_value(text, ks.end, vs, expected, line_indent(text, ks.start));
                let mut a = spl::analyze(&dec.text);
                let map = &dec.map;
                let parsed = a
                    .issues
                    .iter()
                    .all(|i| i.severity != crate::severity::Severity::Error);
                let mut pipeline = parsed.then(|| a.pipeline(&dec.text));
                a.logic.map_spans(&|s| map.span(s));
                for i in &mut a.issues {
                    i.span = map.span(i.span);
                }
                issues.append(&mut a.issues);
                anchors = a.anchors;
                if let Some(p) = &mut pipeline {
                    // The end of the last character, so block scalars keep
                    // their line breaks after an insertion there.
                    let end = p.end;
                    p.map_offsets(&|o| map.offset(o));
                    p.end = match end {
                        0 => map.offset(0),
                        e => map.span(Span::new(e - 1, e)).end,
                    };
                }
                anchors.pipeline = pipeline;
                anchors.query = Some(dec.content);
                anchors.query_quoting = dec.exact.then_some(match dec.style {
                    ScalarStyle::Plain => Quoting::YamlPlain,
                    ScalarStyle::SingleQuoted => Quoting::YamlSingle,
                    ScalarStyle::DoubleQuoted => Quoting::YamlDouble,
                    ScalarStyle::Literal | ScalarStyle::Folded => Quoting::YamlBlock,
                });
                anchors.first_aggregation = anchors.first_aggregation.map(|o| map.offset(o));
                if let Some((_, s)) = &mut anchors.filter_macro {
                    *s = map.span(*s);
                }
                for t in &mut anchors.tstats {
                    t.span = map.span(t.span);
                }
                if let Some(spec) = a.datamodel_spec {
                    let spec = spec.to_lowercase();
                    if !meta.data.contains(&spec) {
                        meta.data.push(spec);
                    }
                }
                for mut agg in aggregate::aggregations(&dec.text) {
                    for f in agg.fields.iter_mut().chain(agg.distinct.iter_mut()) {
                        f.span = map.span(f.span);
                    }
                    meta.aggregations.push(agg);
                }
                for m in data_source_macros(&dec.text) {
                    if !meta.data.contains(&m) {
                        meta.data.push(m);
                    }
                }
                logic = Some(a.logic);
            }
            _ => issues.push(ParseIssue::error(
                "RL004",
                node_span(v, text).unwrap_or(Span::point(start)),
                "`search` must be a string holding the SPL search",
            )),
        }
    }
    out.issues.append(&mut issues);
    out.rules.push(DetectionRule {
        format: Format::Splunk,
        language: Language::Spl,
        schema: Schema::Splunk,
        meta,
        logic,
        anchors,
        span: doc_span,
    });
}

/// The decoded `search` scalar whose content is `query` (a rule's
/// `anchors.query`), for placing edits.
pub fn search_scalar(file: &SourceFile, query: Span) -> Option<Decoded> {
    let text = file.text.as_str();
    let docs = std::panic::catch_unwind(|| read_docs(text)).ok()?.ok()?;
    for doc in &docs {
        let Node::Map(entries) = &doc.value else {
            continue;
        };
        for (k, v) in entries.iter().rev() {
            if !matches!(&k.value, Node::Str(s) if s == "search") {
                continue;
            }
            let Node::Str(expected) = &v.value else {
                continue;
            };
            let ks = node_span(k, text)?;
            let vs = node_span(v, text)?;
            let dec = decode_value(text, ks.end, vs, expected, line_indent(text, ks.start));
            if dec.content == query {
                return Some(dec);
            }
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests;

/// Data-source macros of a search (`` `wineventlog_security` ``,
/// `` `sysmon` ``, `` `cloudtrail` ``), lower case: they name the data the
/// search reads. Filter and helper macros name none.
fn data_source_macros(search: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, part) in search.split('`').enumerate() {
        if i % 2 == 0 {
            continue;
        }
        let name = part.split('(').next().unwrap_or("").trim().to_lowercase();
        let helper = name.is_empty()
            || name.ends_with("_filter")
            || name.starts_with("security_content_")
            || name.starts_with("drop_dm_object_name")
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !helper && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod data_source_macro_tests {
    use super::data_source_macros;

    #[test]
    fn data_source_macros_skip_helpers() {
        let m = data_source_macros(
            "`wineventlog_security` EventCode=4625 | `security_content_ctime(firstTime)` \
             | `drop_dm_object_name(Processes)` | `sysmon` | `x_filter`",
        );
        assert_eq!(m, vec!["wineventlog_security", "sysmon"]);
    }
}
