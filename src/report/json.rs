//! `--format json`: one JSON document.

use super::Summary;
use crate::diagnostic::Diagnostic;
use crate::lint::FileResult;
use serde::Serialize;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    summary: Summary,
    diagnostics: Vec<&'a Diagnostic>,
}

pub fn render(results: &[FileResult], summary: &Summary) -> String {
    let doc = Document {
        version: 1,
        summary: *summary,
        diagnostics: results.iter().flat_map(|r| r.diagnostics.iter()).collect(),
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
