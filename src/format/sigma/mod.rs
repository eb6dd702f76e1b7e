//! Sigma rule files: YAML documents with metadata, a `logsource`, and a
//! `detection` of named selections combined by a `condition`.
//!
//! Every key and scalar keeps its exact byte span (see [`yaml`]); values are
//! taken as written, so YAML 1.1 typing never changes them (`0755`, `no`,
//! `22:30` stay strings). Multi-document files are read document by
//! document: legacy `action: global` documents are merged into the
//! documents after them, correlation rules keep their metadata only, and
//! meta-filter documents (`filter:` with `rules:`) become rules of type
//! `filter`.

pub(crate) mod condition;
pub(crate) mod detection;
pub(crate) mod yaml;

use crate::rule::{
    Aggregation, AggregationKind, Anchors, ConditionExpr, DetectionRule, Format, Language, Logic,
    Meta, ParseIssue, ParsedFile, RuleMeta, Schema,
};
use crate::source::{SourceFile, Span};
use condition::Selections;
use yaml::{Node, Scalar};

/// Keys under `detection` that are not selections.
const NON_SELECTIONS: &[&str] = &["condition", "timeframe"];

/// Parse a Sigma file into its rules. Never panics; problems are issues.
pub fn parse(file: &SourceFile) -> ParsedFile {
    let text = file.text.as_str();
    let mut out = ParsedFile::default();
    let (docs, yissues) = yaml::load(text);
    let had_yaml_errors = yissues.iter().any(|i| i.code == "RL002");
    for i in yissues {
        out.issues
            .push(ParseIssue::error(i.code, i.span, i.message));
    }

    let mut global: Option<Node> = None;
    let mut previous: Option<Node> = None;
    let mut saw_document = false;
    for doc in &docs {
        let Some(root) = &doc.root else { continue };
        saw_document = true;
        if !matches!(root, Node::Map { .. }) {
            out.issues.push(ParseIssue::error(
                "RL004",
                root.span(),
                format!("a Sigma rule must be a mapping, found {}", root.kind()),
            ));
            continue;
        }
        let action = root
            .get("action")
            .and_then(Node::as_scalar)
            .map(|s| s.value.trim().to_ascii_lowercase());
        let merged = match action.as_deref() {
            Some("global") => {
                let g = without_key(root, "action");
                global = Some(match &global {
                    Some(prev) => yaml::merge(prev, &g),
                    None => g,
                });
                continue;
            }
            Some("reset") => {
                global = None;
                continue;
            }
            Some("repeat") => {
                let over = without_key(root, "action");
                match &previous {
                    Some(p) => yaml::merge(p, &over),
                    None => over,
                }
            }
            _ => match &global {
                Some(g) => yaml::merge(g, root),
                None => root.clone(),
            },
        };
        let span = yaml::trim_end(text, root.span());
        if let Some(rule) = build_rule(text, &merged, span, &mut out.issues) {
            out.rules.push(rule);
        }
        previous = Some(merged);
    }
    if out.rules.is_empty() && !had_yaml_errors {
        let has_rule_issue = out.issues.iter().any(|i| i.code == "RL004");
        if !has_rule_issue {
            let msg = if saw_document {
                "the file holds no Sigma rule"
            } else {
                "empty file: no Sigma rule"
            };
            out.issues
                .push(ParseIssue::error("RL012", Span::new(0, 0), msg));
        }
    }
    out
}

/// Cheap content sniff: a top-level `detection:` and `logsource:`, or a
/// `correlation:`, or a `filter:` with `rules:`.
pub fn looks_like_rule(text: &str) -> bool {
    let (mut detection, mut logsource, mut correlation, mut filter, mut rules) =
        (false, false, false, false, false);
    for line in text.lines() {
        let top = !line.starts_with([' ', '\t']);
        let t = line.trim_start();
        let key = |k: &str| {
            t.strip_prefix(k)
                .is_some_and(|r| r.trim_start().starts_with(':'))
        };
        if top {
            detection |= key("detection");
            logsource |= key("logsource");
            correlation |= key("correlation");
            filter |= key("filter");
        } else {
            rules |= key("rules");
        }
    }
    (detection && logsource) || correlation || (filter && rules)
}

fn without_key(node: &Node, key: &str) -> Node {
    match node {
        Node::Map {
            entries,
            span,
            flow,
        } => Node::Map {
            entries: entries
                .iter()
                .filter(|(k, _)| k.as_scalar().is_none_or(|s| s.value != key))
                .cloned()
                .collect(),
            span: *span,
            flow: *flow,
        },
        other => other.clone(),
    }
}

fn meta_str(text: &str, node: Option<&Node>) -> Option<Meta<String>> {
    match node? {
        Node::Scalar(s) if !s.is_null() => Some(Meta {
            value: s.value.trim().to_string(),
            span: s.content_span(text),
        }),
        Node::Seq { items, span, .. } => {
            let parts: Vec<&str> = items
                .iter()
                .filter_map(Node::as_scalar)
                .filter(|s| !s.is_null())
                .map(|s| s.value.trim())
                .collect();
            (!parts.is_empty()).then(|| Meta {
                value: parts.join(", "),
                span: yaml::trim_end(text, *span),
            })
        }
        _ => None,
    }
}

fn meta_list(text: &str, node: Option<&Node>) -> Vec<Meta<String>> {
    let one = |s: &Scalar| Meta {
        value: s.value.trim().to_string(),
        span: s.content_span(text),
    };
    match node {
        Some(Node::Scalar(s)) if !s.is_null() => vec![one(s)],
        Some(Node::Seq { items, .. }) => items
            .iter()
            .filter_map(Node::as_scalar)
            .filter(|s| !s.is_null())
            .map(one)
            .collect(),
        _ => Vec::new(),
    }
}

fn build_rule(
    text: &str,
    root: &Node,
    span: Span,
    issues: &mut Vec<ParseIssue>,
) -> Option<DetectionRule> {
    let mut meta = RuleMeta {
        id: meta_str(text, root.get("id")),
        title: meta_str(text, root.get("title")),
        status: meta_str(text, root.get("status")),
        level: meta_str(text, root.get("level")),
        description: meta_str(text, root.get("description")),
        author: meta_str(text, root.get("author")),
        tags: meta_list(text, root.get("tags")),
        references: meta_list(text, root.get("references")),
        falsepositives: meta_list(text, root.get("falsepositives")),
        ..RuleMeta::default()
    };
    for key in ["title", "id", "status", "level"] {
        if let Some(n @ Node::Map { .. }) = root.get(key) {
            issues.push(ParseIssue::error(
                "RL004",
                n.span(),
                format!("`{key}` must be a string, found a mapping"),
            ));
        }
    }
    if let Some(ls) = root.get("logsource") {
        match ls {
            Node::Map { .. } => {
                if let Node::Map { entries, .. } = ls {
                    for (k, v) in entries {
                        let k = k.as_scalar();
                        let v = v.as_scalar().filter(|v| !v.is_null());
                        if let (Some(k), Some(v)) = (k, v) {
                            meta.logsource.push((k.value.clone(), v.value.clone()));
                        }
                    }
                }
                for k in ["category", "product", "service"] {
                    if let Some(s) = ls.get(k).and_then(Node::as_scalar) {
                        if !s.is_null() && !s.value.trim().is_empty() {
                            meta.data.push(s.value.trim().to_ascii_lowercase());
                        }
                    }
                }
            }
            n if n.is_null() => {}
            n => issues.push(ParseIssue::error(
                "RL004",
                n.span(),
                format!("`logsource` must be a mapping, found {}", n.kind()),
            )),
        }
    }
    let mut rule = DetectionRule {
        format: Format::Sigma,
        language: Language::Sigma,
        schema: Schema::Sigma,
        meta,
        logic: None,
        anchors: Anchors::default(),
        span,
    };

    if let Some((k, c)) = root.entry("correlation") {
        rule.meta.rule_type = Some(Meta {
            value: "correlation".into(),
            span: k.span(),
        });
        rule.meta.aggregations.extend(correlation_aggregation(c));
        return Some(rule);
    }
    let (det_key, det, skip): (&Node, &Node, &[&str]) = match root.entry("filter") {
        Some((k, v @ Node::Map { .. })) if root.get("detection").is_none() => {
            rule.meta.rule_type = Some(Meta {
                value: "filter".into(),
                span: k.span(),
            });
            (k, v, &["rules"])
        }
        _ => match root.entry("detection") {
            Some((k, v)) => (k, v, &[]),
            None => {
                issues.push(ParseIssue::error(
                    "RL004",
                    first_key_span(root),
                    "missing `detection`: a Sigma rule needs a `detection` with selections and a `condition`",
                ));
                return Some(rule);
            }
        },
    };
    let (logic, anchors) = detection(text, det_key, det, skip, issues);
    rule.logic = logic;
    rule.anchors = anchors;
    Some(rule)
}

fn first_key_span(root: &Node) -> Span {
    match root {
        Node::Map { entries, .. } => entries
            .first()
            .map_or(Span::point(root.span().start), |(k, _)| k.span()),
        _ => Span::point(root.span().start),
    }
}

/// The detection mapping → Logic and the anchors a suggestion needs.
fn detection(
    text: &str,
    det_key: &Node,
    det: &Node,
    skip: &[&str],
    issues: &mut Vec<ParseIssue>,
) -> (Option<Logic>, Anchors) {
    let mut anchors = Anchors::default();
    let key_name = det_key
        .as_scalar()
        .map_or("detection", |s| s.value.as_str());
    let Node::Map {
        entries,
        span,
        flow,
    } = det
    else {
        let msg = if det.is_null() {
            format!("`{key_name}` is empty")
        } else {
            format!(
                "`{key_name}` must be a mapping of selections and a `condition`, found {}",
                det.kind()
            )
        };
        let sp = if det.span().is_empty() {
            det_key.span()
        } else {
            det.span()
        };
        issues.push(ParseIssue::error("RL004", sp, msg));
        return (None, anchors);
    };
    anchors.detection = Some(yaml::trim_end(text, *span));
    if !*flow {
        anchors.detection_indent = entries.first().map(|(k, _)| column(text, k.span().start));
    }

    let mut sels = Selections::new();
    let mut key_spans: Vec<Span> = Vec::new();
    let mut cond: Option<&Node> = None;
    if !*flow {
        anchors.detection_step = indent_step(text, entries);
    }
    for (k, v) in entries {
        let Some(ks) = k.as_scalar().filter(|s| !s.is_null()) else {
            issues.push(ParseIssue::error(
                "RL004",
                k.span(),
                format!(
                    "a key of `{key_name}` must be a selection name, found {}",
                    k.kind()
                ),
            ));
            continue;
        };
        let name = ks.value.as_str();
        if name == "condition" {
            anchors.condition_key = Some(k.span());
            cond = Some(v);
            continue;
        }
        if NON_SELECTIONS.contains(&name) || skip.contains(&name) {
            continue;
        }
        let logic = detection::selection(text, name, v, issues);
        if !sels.contains_key(name) {
            anchors.selections.push(name.to_string());
            key_spans.push(k.span());
        }
        sels.insert(name.to_string(), logic);
    }

    let Some(cond) = cond else {
        issues.push(ParseIssue::error(
            "RL004",
            det_key.span(),
            format!("`{key_name}` has no `condition`"),
        ));
        return (None, anchors);
    };
    let scalars: Vec<&Scalar> = match cond {
        Node::Scalar(s) if !s.is_null() => vec![s],
        Node::Seq { items, .. } if !items.is_empty() => {
            let mut out = Vec::new();
            for it in items {
                match it.as_scalar().filter(|s| !s.is_null()) {
                    Some(s) => out.push(s),
                    None => {
                        issues.push(ParseIssue::error(
                            "RL004",
                            it.span(),
                            format!("a condition must be a string, found {}", it.kind()),
                        ));
                        return (None, anchors);
                    }
                }
            }
            out
        }
        other => {
            let sp = if other.span().is_empty() {
                det_key.span()
            } else {
                other.span()
            };
            issues.push(ParseIssue::error(
                "RL004",
                sp,
                format!(
                    "`condition` must be a string or a list of strings, found {}",
                    other.kind()
                ),
            ));
            return (None, anchors);
        }
    };
    let mut alts = Vec::new();
    let mut mentioned = vec![false; sels.len()];
    let mut all_parsed = true;
    let issues_before = issues.len();
    for s in scalars.iter().copied() {
        let cspan = s.content_span(text);
        anchors.conditions.push(cspan);
        let map = s.content_map(text);
        anchors.condition_exprs.push(condition_expr(&s.value, &map));
        match condition::parse(&s.value, &map, &sels, issues, &mut mentioned) {
            Some(l) => alts.push(l),
            None => {
                all_parsed = false;
                alts.push(Logic::opaque(
                    s.value.clone(),
                    cspan,
                    "the condition does not parse",
                ))
            }
        }
    }
    // A legacy aggregation names selections after its pipe
    // (`selection | near other`): those are used too.
    for s in &scalars {
        if let Some((_, tail)) = s.value.split_once('|') {
            for word in tail.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')) {
                if let Some(i) = sels.get_index_of(word) {
                    mentioned[i] = true;
                }
            }
        }
    }
    // A name the condition gets wrong (`RL007`, with its did-you-mean)
    // leaves the selection it meant unused: one report is enough.
    let misnamed = issues[issues_before..].iter().any(|i| i.code == "RL007");
    if all_parsed && !misnamed {
        anchors.unused_selections = sels
            .keys()
            .zip(&mentioned)
            .zip(&key_spans)
            .filter(|((_, m), _)| !**m)
            .map(|((name, _), span)| (name.clone(), *span))
            .collect();
    }
    (Some(Logic::or(alts)), anchors)
}

/// Where the boolean expression of a condition is in the file: from its
/// first character to its last before a legacy `| aggregation`.
fn condition_expr(value: &str, map: &crate::source::OffsetMap) -> ConditionExpr {
    let head = value.split('|').next().unwrap_or("");
    let first = head.len() - head.trim_start().len();
    let last = head.trim_end().len();
    let (start, end) = if last > first {
        (
            map.span(Span::new(first, first + 1)).start,
            map.span(Span::new(last - 1, last)).end,
        )
    } else {
        let at = map.offset(0);
        (at, at)
    };
    ConditionExpr {
        value: value.to_string(),
        start,
        end,
    }
}

/// How much deeper the fields of the first block selection sit than its
/// name.
fn indent_step(text: &str, entries: &[(Node, Node)]) -> Option<usize> {
    entries.iter().find_map(|(k, v)| match v {
        Node::Map {
            entries: inner,
            flow: false,
            ..
        } => {
            let kc = column(text, k.span().start);
            let ic = column(text, inner.first()?.0.span().start);
            (ic > kc).then(|| ic - kc)
        }
        _ => None,
    })
}

/// The byte column (0-based) of `offset` in its line.
pub(crate) fn column(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    offset
        - text
            .get(..offset)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1)
}

/// What a correlation rule counts: `event_count` (events per `group-by`
/// reaching the condition), `value_count` (distinct values of the
/// condition's `field`), `temporal` and the ordered kinds (events of the
/// referenced rules together, per `group-by`).
fn correlation_aggregation(c: &Node) -> Option<Aggregation> {
    let kind = c.get("type")?.as_scalar()?.value.to_ascii_lowercase();
    let meta = |n: &Node| {
        n.as_scalar().map(|s| Meta {
            value: s.value.clone(),
            span: s.token,
        })
    };
    let fields: Vec<Meta<String>> = match c.get("group-by") {
        Some(Node::Seq { items, .. }) => items.iter().filter_map(meta).collect(),
        Some(n) => meta(n).into_iter().collect(),
        None => Vec::new(),
    };
    let cond = c.get("condition");
    let threshold = cond.and_then(|n| {
        ["gte", "gt", "eq"]
            .iter()
            .find_map(|op| n.get(op)?.as_scalar()?.value.trim().parse().ok())
    });
    let distinct = match kind.as_str() {
        "value_count" => cond
            .and_then(|n| n.get("field"))
            .and_then(meta)
            .into_iter()
            .collect(),
        "event_count" | "temporal" | "temporal_ordered" => Vec::new(),
        _ => return None,
    };
    Some(Aggregation {
        kind: AggregationKind::Threshold,
        fields,
        distinct,
        threshold,
    })
}

#[cfg(test)]
mod tests;
