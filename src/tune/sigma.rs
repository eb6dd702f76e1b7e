//! Sigma meta-filters: `filter:` documents of the Sigma filters
//! specification, as pySigma applies them (`sigma convert --filter`).
//!
//! One file per pattern, split where the affected rules differ in log
//! source or in the exclusion (field names differ between log sources).
//! The filter's condition is always `not <selection>`: a converter ANDs a
//! filter's condition to the rule's, so a bare selection would make the
//! rule fire only on the benign activity.

use super::{slug, uuid, Target};
use std::collections::BTreeMap;

type Group<'a> = Vec<&'a Target>;

/// `(file name, text)` of every meta-filter, sorted by name.
pub fn render(targets: &[Target]) -> Vec<(String, String)> {
    // pattern → (log source, exclusion) → rules
    let mut by_pattern: BTreeMap<&str, BTreeMap<(String, String), Group<'_>>> = BTreeMap::new();
    for t in targets {
        let ls = t
            .logsource
            .iter()
            .map(|(k, v)| format!("{k}\u{1f}{v}"))
            .collect::<Vec<_>>()
            .join("\u{1e}");
        let body = super::sigma::selection(t).join("\n");
        by_pattern
            .entry(&t.pattern)
            .or_default()
            .entry((ls, body))
            .or_default()
            .push(t);
    }
    let mut out = Vec::new();
    for (pattern, groups) in by_pattern {
        let base = format!("mf_{}", slug(pattern));
        let mut used: BTreeMap<String, usize> = BTreeMap::new();
        let single = groups.len() == 1;
        for rules in groups.values() {
            let first = rules[0];
            let mut name = if single {
                base.clone()
            } else {
                let ls: Vec<String> = first.logsource.iter().map(|(_, v)| slug(v)).collect();
                if ls.is_empty() {
                    base.clone()
                } else {
                    let mut n = format!("{base}_{}", ls.join("_"));
                    if n.len() > 120 {
                        n = n.chars().take(120).collect();
                    }
                    n
                }
            };
            let n = used.entry(name.clone()).or_insert(0);
            *n += 1;
            if *n > 1 {
                name = format!("{name}_{n}");
            }
            out.push((format!("{name}.yml"), document(pattern, rules)));
        }
    }
    out.sort();
    out
}

/// The exclusion as a selection named after it, one line per entry.
pub fn selection(t: &Target) -> Vec<String> {
    crate::suggest::sigma::selection_lines(&selection_name(t), &t.exclusion.fields, 4)
}

fn selection_name(t: &Target) -> String {
    let n = slug(&t.exclusion.name).replace('-', "_");
    format!("filter_{n}")
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn document(pattern: &str, rules: &[&Target]) -> String {
    let first = rules[0];
    let mut ids: Vec<&str> = rules.iter().map(|t| t.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut facts: Vec<&str> = rules
        .iter()
        .flat_map(|t| t.facts.iter().map(String::as_str))
        .filter(|f| !f.is_empty())
        .collect();
    facts.sort_unstable();
    facts.dedup();
    let ls_key: Vec<String> = first
        .logsource
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let id = uuid::v5(
        &uuid::NAMESPACE_URL,
        &format!(
            "rulelint-tune:sigma:{pattern}:{}:{}",
            ls_key.join(","),
            ids.join(",")
        ),
    );
    let mut s = String::new();
    s.push_str(&format!(
        "title: {}\n",
        quote(&format!("rulelint tune: {pattern} ({})", first.summary))
    ));
    s.push_str(&format!("id: {id}\n"));
    s.push_str(&format!(
        "description: {}\n",
        quote(&format!(
            "Excludes the benign activity of the known false-positive pattern {pattern} ({}) from the rules listed, with the values of the environment facts {}. Written by rulelint tune; rerun it rather than editing this file.",
            first.summary,
            facts.join(", ")
        ))
    ));
    s.push_str(if first.logsource.is_empty() {
        "logsource: {}\n"
    } else {
        "logsource:\n"
    });
    for (k, v) in &first.logsource {
        s.push_str(&format!("    {}: {}\n", yaml_key(k), quote(v)));
    }
    s.push_str("filter:\n    rules:\n");
    for id in &ids {
        s.push_str(&format!("        - {}\n", quote(id)));
    }
    for line in selection(first) {
        s.push_str(&format!("    {line}\n"));
    }
    s.push_str(&format!("    condition: not {}\n", selection_name(first)));
    s
}

fn yaml_key(k: &str) -> String {
    if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        k.to_string()
    } else {
        quote(k)
    }
}
