//! `--statistics`: the number of findings per check code and pattern,
//! most frequent first.

use crate::lint::FileResult;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One line of the statistics.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub code: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    pub count: usize,
}

/// The counts, most frequent first, then by code and pattern.
pub fn counts(results: &[FileResult]) -> Vec<Count> {
    let mut m: BTreeMap<(String, &'static str, Option<String>), usize> = BTreeMap::new();
    for d in results.iter().flat_map(|r| &r.diagnostics) {
        *m.entry((d.code.to_string(), d.code.name(), d.pattern.clone()))
            .or_default() += 1;
    }
    let mut v: Vec<Count> = m
        .into_iter()
        .map(|((code, name, pattern), count)| Count {
            code,
            name: name.to_string(),
            pattern,
            count,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.code.cmp(&b.code)));
    v
}

/// A table (`count  code  name/pattern`) or, with `json`, a JSON array.
pub fn render(results: &[FileResult], json: bool) -> String {
    let v = counts(results);
    if json {
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        return s;
    }
    let w = v
        .iter()
        .map(|c| c.count.to_string().len())
        .max()
        .unwrap_or(1);
    let mut s = String::new();
    for c in &v {
        let what = c.pattern.as_deref().unwrap_or(&c.name);
        let _ = writeln!(s, "{:>w$}  {}  {what}", c.count, c.code);
    }
    let total: usize = v.iter().map(|c| c.count).sum();
    let _ = writeln!(
        s,
        "{total} finding{} in total",
        if total == 1 { "" } else { "s" }
    );
    s
}
