//! Elastic: Kibana exception lists in the import format of
//! `POST /api/exception_lists/_import` (NDJSON: the list object, then its
//! items), one list per pattern, and `exception_references.json`: for
//! each affected rule, the `exceptions_list` reference to add to it.
//!
//! Items of one list are ORed, the entries of one item ANDed; each entry
//! is `included` (the event matches it) with type `match` (one value),
//! `match_any` (several), `wildcard` (a suffix, prefix or substring) or
//! `exists`.

use super::{slug, uuid, Target};
use crate::checks::proposal::{Exclusion, ExclusionField};
use crate::rule::Op;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The entries of one exception item for each way `f` can match
/// (several wildcard values are several items); `None` when Kibana has no
/// entry for the operator.
fn alternatives(f: &ExclusionField) -> Option<Vec<Value>> {
    let texts: Vec<&str> = f.values.iter().map(|v| v.text.as_str()).collect();
    let entry = |kind: &str, value: Value| json!({"field": f.field, "operator": "included", "type": kind, "value": value});
    // A `*` or `?` in a wildcard value is a wildcard: values holding one
    // would exclude more than asked.
    let wild = |pre: &str, post: &str| -> Option<Vec<Value>> {
        if texts.iter().any(|t| t.contains(['*', '?'])) {
            return None;
        }
        Some(
            texts
                .iter()
                .map(|t| entry("wildcard", json!(format!("{pre}{t}{post}"))))
                .collect(),
        )
    };
    match f.op {
        Op::Exists => Some(vec![
            json!({"field": f.field, "operator": "included", "type": "exists"}),
        ]),
        _ if texts.is_empty() => None,
        Op::Eq | Op::Cidr => Some(vec![match texts.as_slice() {
            [one] => entry("match", json!(one)),
            many => entry("match_any", json!(many)),
        }]),
        Op::EndsWith => wild("*", ""),
        Op::StartsWith => wild("", "*"),
        Op::Contains => wild("*", "*"),
        _ => None,
    }
}

/// Every item's entries (the product of the fields' alternatives), or
/// `None` when some field cannot be written as an exception entry.
pub fn items(excl: &Exclusion) -> Option<Vec<Vec<Value>>> {
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for f in &excl.fields {
        let alts = alternatives(f)?;
        let mut next = Vec::new();
        for prefix in &out {
            for a in &alts {
                let mut e = prefix.clone();
                e.push(a.clone());
                next.push(e);
            }
        }
        out = next;
    }
    Some(out)
}

/// The list id of a pattern's list.
pub fn list_id(pattern: &str) -> String {
    format!("rulelint-tune-{}", slug(pattern))
}

fn line(v: &Value) -> String {
    // Objects print in a fixed key order (sorted, or as built), so the
    // same value always prints the same.
    let mut s = serde_json::to_string(v).unwrap_or_default();
    s.push('\n');
    s
}

/// `(file name, text)`: one `<pattern>.ndjson` per pattern and
/// `exception_references.json`.
pub fn render(targets: &[Target]) -> Vec<(String, String)> {
    let mut by_pattern: BTreeMap<&str, Vec<&Target>> = BTreeMap::new();
    for t in targets {
        by_pattern.entry(&t.pattern).or_default().push(t);
    }
    let mut out = Vec::new();
    // rule id → (name, file, list ids)
    let mut refs: BTreeMap<&str, (&str, &str, Vec<String>)> = BTreeMap::new();
    for (pattern, ts) in &by_pattern {
        let lid = list_id(pattern);
        let mut ids: Vec<&str> = ts.iter().map(|t| t.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        // Distinct item entries → the rules they come from.
        let mut entries: BTreeMap<String, (Vec<Value>, Vec<&str>)> = BTreeMap::new();
        for t in ts {
            for e in items(&t.exclusion).unwrap_or_default() {
                let key = serde_json::to_string(&e).unwrap_or_default();
                entries
                    .entry(key)
                    .or_insert_with(|| (e, Vec::new()))
                    .1
                    .push(t.id.as_str());
            }
            let r = refs.entry(t.id.as_str()).or_insert((
                t.title.as_str(),
                t.file.as_str(),
                Vec::new(),
            ));
            if !r.2.contains(&lid) {
                r.2.push(lid.clone());
            }
        }
        let summary = ts[0].summary.as_str();
        let mut text = line(&json!({
            "description": format!(
                "rulelint tune: excludes the benign activity of the known false-positive pattern {pattern} ({summary}). Attach it to the rules with rule_id {}.",
                ids.join(", ")
            ),
            "immutable": false,
            "list_id": lid,
            "name": format!("rulelint tune: {pattern}"),
            "namespace_type": "single",
            "os_types": [],
            "tags": ["rulelint-tune", format!("rulelint-pattern:{pattern}")],
            "type": "detection",
            "version": 1,
        }));
        for (n, (_, (e, from))) in entries.iter().enumerate() {
            let mut from = from.clone();
            from.sort_unstable();
            from.dedup();
            let item_id = uuid::v5(
                &uuid::NAMESPACE_URL,
                &format!(
                    "rulelint-tune:elastic:{pattern}:{}",
                    serde_json::to_string(e).unwrap_or_default()
                ),
            );
            text.push_str(&line(&json!({
                "comments": [],
                "description": format!("{summary} (rules: {})", from.join(", ")),
                "entries": e,
                "item_id": item_id,
                "list_id": lid,
                "name": format!("rulelint tune: {pattern} #{}", n + 1),
                "namespace_type": "single",
                "os_types": [],
                "tags": ["rulelint-tune"],
                "type": "simple",
            })));
        }
        out.push((format!("{}.ndjson", slug(pattern)), text));
    }
    if !refs.is_empty() {
        let rules: Vec<Value> = refs
            .iter()
            .map(|(id, (name, file, lists))| {
                let mut lists = lists.clone();
                lists.sort();
                json!({
                    "rule_id": id,
                    "name": name,
                    "file": file,
                    "exceptions_list": lists.iter().map(|l| json!({
                        "list_id": l,
                        "namespace_type": "single",
                        "type": "detection",
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = json!({
            "note": "Import each .ndjson file with POST /api/exception_lists/_import (or Rules > Shared exception lists > Import), then add each list to the rule's exceptions_list with the id Kibana gave the list (GET /api/exception_lists?list_id=...).",
            "rules": rules,
        });
        let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
        s.push('\n');
        out.push(("exception_references.json".into(), s));
    }
    out.sort();
    out
}
