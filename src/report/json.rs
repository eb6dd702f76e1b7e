//! `--format json`: one JSON document, a stable contract (version 1),
//! described field by field in `docs/output.md`.
//!
//! Fields are only ever added (a consumer ignores fields it does not know);
//! a change to an existing field bumps `version`. The structs below are the
//! contract: they are filled from the internal diagnostics, never
//! serialised from them, so a change inside the linter cannot change the
//! output by accident.

use super::Summary;
use crate::diagnostic::{Diagnostic, Edit, Label, Position, RuleRef, Suggestion};
use crate::lint::FileResult;
use serde::Serialize;

/// The version of this document's shape.
pub const VERSION: u32 = 1;

#[derive(Serialize)]
pub struct Document<'a> {
    pub version: u32,
    pub summary: Summary,
    pub diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// One finding or parse error.
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub code: &'a str,
    pub check: &'a str,
    pub pattern: Option<&'a str>,
    pub severity: &'static str,
    pub message: &'a str,
    pub note: Option<&'a str>,
    pub help: Option<&'a str>,
    pub file: &'a str,
    pub format: Option<&'static str>,
    pub rule: Option<JsonRule<'a>>,
    pub span: JsonPosition,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<JsonLabel<'a>>,
    pub suggestion: Option<JsonSuggestion<'a>>,
}

#[derive(Serialize)]
pub struct JsonRule<'a> {
    pub id: Option<&'a str>,
    pub title: Option<&'a str>,
}

#[derive(Serialize)]
pub struct JsonPosition {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub offset: usize,
    pub length: usize,
}

#[derive(Serialize)]
pub struct JsonLabel<'a> {
    pub position: JsonPosition,
    pub message: &'a str,
}

/// The exclusion to add: the text to paste, and the edits that apply it
/// with how safe they are to apply unread (`--fix` applies `safe`,
/// `--unsafe-fixes` adds `unsafe`).
#[derive(Serialize)]
pub struct JsonSuggestion<'a> {
    pub language: &'static str,
    pub text: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<JsonEdit<'a>>,
    pub applicability: &'static str,
    pub has_placeholders: bool,
}

#[derive(Serialize)]
pub struct JsonEdit<'a> {
    pub offset: usize,
    pub length: usize,
    pub replacement: &'a str,
}

impl From<&Position> for JsonPosition {
    fn from(p: &Position) -> Self {
        JsonPosition {
            line: p.line,
            column: p.column,
            end_line: p.end_line,
            end_column: p.end_column,
            offset: p.offset,
            length: p.length,
        }
    }
}

impl<'a> From<&'a RuleRef> for JsonRule<'a> {
    fn from(r: &'a RuleRef) -> Self {
        JsonRule {
            id: r.id.as_deref(),
            title: r.title.as_deref(),
        }
    }
}

impl<'a> From<&'a Label> for JsonLabel<'a> {
    fn from(l: &'a Label) -> Self {
        JsonLabel {
            position: (&l.position).into(),
            message: &l.message,
        }
    }
}

impl<'a> From<&'a Edit> for JsonEdit<'a> {
    fn from(e: &'a Edit) -> Self {
        JsonEdit {
            offset: e.offset,
            length: e.length,
            replacement: &e.replacement,
        }
    }
}

impl<'a> From<&'a Suggestion> for JsonSuggestion<'a> {
    fn from(s: &'a Suggestion) -> Self {
        JsonSuggestion {
            language: s.language.as_str(),
            text: &s.text,
            edits: s.fix.edits.iter().map(JsonEdit::from).collect(),
            applicability: s.fix.applicability.as_str(),
            has_placeholders: s.has_placeholders,
        }
    }
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            code: d.code.as_str(),
            check: d.check(),
            pattern: d.pattern.as_deref(),
            severity: d.severity.as_str(),
            message: &d.message,
            note: d.note.as_deref(),
            help: d.help.as_deref(),
            file: &d.file,
            format: d.format.map(|f| f.as_str()),
            rule: d.rule.as_ref().map(JsonRule::from),
            span: (&d.position).into(),
            labels: d.labels.iter().map(JsonLabel::from).collect(),
            suggestion: d.suggestion.as_ref().map(JsonSuggestion::from),
        }
    }
}

pub fn render(results: &[FileResult], summary: &Summary) -> String {
    let doc = Document {
        version: VERSION,
        summary: *summary,
        diagnostics: results
            .iter()
            .flat_map(|r| r.diagnostics.iter().map(JsonDiagnostic::from))
            .collect(),
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Applicability, Fix, Severity};
    use crate::lint::FileStatus;
    use crate::rule::{Format, Language};
    use crate::source::{SourceFile, Span};
    use serde_json::json;

    fn finding() -> Diagnostic {
        let src = SourceFile::new("a.yml", "a: 6667\nb: 7000\n");
        let span = Span::new(3, 7);
        let other = Span::new(11, 15);
        Diagnostic {
            code: crate::checks::Code::KnownFpPattern,
            pattern: Some("irc-client".into()),
            severity: Severity::Warning,
            message: "`a` matches `6667`".into(),
            note: None,
            help: Some("exclude:\nx".into()),
            file: "rules/a.yml".into(),
            format: Some(Format::Sigma),
            rule: Some(RuleRef {
                id: None,
                title: Some("T".into()),
            }),
            span,
            position: Position::resolve(&src, span),
            labels: vec![Label {
                span: other,
                position: Position::resolve(&src, other),
                message: "also matches: 7000".into(),
            }],
            suggestion: Some(Suggestion {
                language: Language::Esql,
                text: "x".into(),
                fix: Fix {
                    edits: vec![Edit::insert(16, "y")],
                    applicability: Applicability::Unsafe,
                },
                has_placeholders: false,
                proposal: None,
            }),
            key: "k".into(),
        }
    }

    #[test]
    fn the_contract() {
        let d = finding();
        let v = serde_json::to_value(JsonDiagnostic::from(&d)).unwrap();
        assert_eq!(
            v,
            json!({
                "code": "RL201",
                "check": "known-fp-pattern",
                "pattern": "irc-client",
                "severity": "warning",
                "message": "`a` matches `6667`",
                "note": null,
                "help": "exclude:\nx",
                "file": "rules/a.yml",
                "format": "sigma",
                "rule": {"id": null, "title": "T"},
                "span": {"line": 1, "column": 4, "end_line": 1, "end_column": 8, "offset": 3, "length": 4},
                "labels": [{
                    "position": {"line": 2, "column": 4, "end_line": 2, "end_column": 8, "offset": 11, "length": 4},
                    "message": "also matches: 7000"
                }],
                "suggestion": {
                    "language": "esql",
                    "text": "x",
                    "edits": [{"offset": 16, "length": 0, "replacement": "y"}],
                    "applicability": "unsafe",
                    "has_placeholders": false
                }
            })
        );
        // The order of the fields is part of the contract too.
        let text = serde_json::to_string(&JsonDiagnostic::from(&d)).unwrap();
        let order = [
            "\"code\"",
            "\"check\"",
            "\"pattern\"",
            "\"severity\"",
            "\"message\"",
            "\"note\"",
            "\"help\"",
            "\"file\"",
            "\"format\"",
            "\"rule\"",
            "\"span\"",
            "\"labels\"",
            "\"suggestion\"",
        ];
        let at: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn empty_lists_are_left_out() {
        let mut d = finding();
        d.labels.clear();
        d.suggestion = None;
        let v = serde_json::to_value(JsonDiagnostic::from(&d)).unwrap();
        assert!(v.get("labels").is_none());
        assert_eq!(v["suggestion"], serde_json::Value::Null);
        let r = vec![FileResult {
            path: "rules/a.yml".into(),
            source: None,
            format: None,
            status: FileStatus::Checked(1),
            diagnostics: vec![d],
        }];
        let doc: serde_json::Value =
            serde_json::from_str(&render(&r, &Summary::from_results(&r, 0))).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["summary"]["findings"], 1);
        assert_eq!(doc["diagnostics"][0]["code"], "RL201");
    }
}
