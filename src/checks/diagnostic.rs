//! Diagnostics: data only. Reporters turn them into text; nothing here prints.

pub use crate::severity::Severity;
pub use crate::source::Edit;

use super::{Category, CheckContext, Code};
use crate::rule::{DetectionRule, Format, Language};
use crate::source::{SourceFile, Span};
use serde::Serialize;
use std::fmt;

/// A resolved position: 1-based lines and columns (columns in characters),
/// plus the byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub offset: usize,
    pub length: usize,
}

impl Position {
    pub fn resolve(file: &SourceFile, span: Span) -> Position {
        let start = file.line_col(span.start);
        let end = file.line_col(span.end.max(span.start));
        Position {
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            offset: span.start,
            length: span.len(),
        }
    }
}

/// A secondary location shown with a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Label {
    #[serde(skip)]
    pub span: Span,
    pub position: Position,
    pub message: String,
}

/// How safe it is to apply a fix without a person reading it first.
///
/// `--fix` applies [`Applicability::Safe`] fixes; `--unsafe-fixes` adds
/// [`Applicability::Unsafe`]; `--fix-placeholders` adds
/// [`Applicability::NeedsFacts`]. [`Applicability::DisplayOnly`] is never
/// applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Applicability {
    /// Keeps what the rule detects, or writes only values the user supplied
    /// (every value of an exclusion comes from the `[environment]` facts).
    Safe,
    /// Changes what the rule detects with values the user did not supply
    /// (catalogue defaults such as `jenkins`): a suggestion to review.
    Unsafe,
    /// Holds placeholders (`<your DNS servers>`) that must be filled in
    /// first; written as is it would match the placeholder literally.
    NeedsFacts,
    /// Shown to be pasted by hand; there is no mechanical edit.
    DisplayOnly,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::Unsafe => "unsafe",
            Applicability::NeedsFacts => "needs-facts",
            Applicability::DisplayOnly => "display-only",
        }
    }
}

impl fmt::Display for Applicability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The exclusion to add, in the rule's own language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub language: Language,
    /// Ready-to-paste text shown to the user.
    pub text: String,
    /// The edits that apply the suggestion to the file.
    #[serde(flatten)]
    pub fix: Fix,
    /// The text contains placeholders (`<your DNS servers>`) the user must
    /// fill in before the exclusion means anything.
    pub has_placeholders: bool,
    /// What the suggestion excludes, in no rule language (for `tune`).
    #[serde(skip)]
    pub proposal: Option<Box<super::proposal::Proposal>>,
}

/// Edits that apply a suggestion to the file, and how safe they are to
/// apply unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// Empty when only the text can be offered (then
    /// [`Applicability::DisplayOnly`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    pub id: Option<String>,
    pub title: Option<String>,
}

impl RuleRef {
    pub fn of(rule: &DetectionRule) -> RuleRef {
        RuleRef {
            id: rule.meta.id.as_ref().map(|m| m.value.clone()),
            title: rule.meta.title.as_ref().map(|m| m.value.clone()),
        }
    }
}

/// One finding or parse error in one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// `RL201`; serialised as `code` and `check` (`known-fp-pattern`).
    #[serde(flatten, serialize_with = "code_and_check")]
    pub code: Code,
    /// The knowledge pattern, for knowledge-driven checks.
    pub pattern: Option<String>,
    pub severity: Severity,
    pub message: String,
    pub note: Option<String>,
    pub help: Option<String>,
    pub file: String,
    pub format: Option<Format>,
    pub rule: Option<RuleRef>,
    #[serde(skip)]
    pub span: Span,
    #[serde(rename = "span")]
    pub position: Position,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<Label>,
    pub suggestion: Option<Suggestion>,
    /// Values that identify this finding independently of line numbers
    /// (the triggering value), used by baselines and fingerprints.
    #[serde(skip)]
    pub key: String,
}

fn code_and_check<S: serde::Serializer>(code: &Code, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(2))?;
    m.serialize_entry("code", code.as_str())?;
    m.serialize_entry("check", code.name())?;
    m.end()
}

impl Diagnostic {
    /// A finding of `code` at `span` of the file a check is looking at, with
    /// the code's default severity.
    pub fn new(code: Code, ctx: &CheckContext<'_>, span: Span, message: String) -> Diagnostic {
        Diagnostic {
            code,
            pattern: None,
            severity: code.meta().severity,
            key: format!("{code}|{message}"),
            message,
            note: None,
            help: None,
            file: ctx.display.to_string(),
            format: None,
            rule: None,
            span,
            position: Position::resolve(ctx.file, span),
            labels: Vec::new(),
            suggestion: None,
        }
    }

    /// Say which rule of the file the finding is about.
    pub fn with_rule(mut self, rule: &DetectionRule) -> Diagnostic {
        self.format = Some(rule.format);
        self.rule = Some(RuleRef::of(rule));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// `known-fp-pattern`.
    pub fn check(&self) -> &'static str {
        self.code.name()
    }

    /// An error that stopped the file from being (fully) checked.
    pub fn is_fatal(&self) -> bool {
        self.code.category() == Category::Parse && self.severity == Severity::Error
    }

    /// Sort key: file, then position, then code.
    pub fn sort_key(&self) -> (&str, usize, usize, Code, Option<&str>) {
        (
            &self.file,
            self.position.line,
            self.position.column,
            self.code,
            self.pattern.as_deref(),
        )
    }
}
