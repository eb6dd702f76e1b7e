//! Exclusions written in sigma (placeholder until implemented).

use super::Exclusion;
use crate::diagnostic::Suggestion;
use crate::rule::DetectionRule;
use crate::source::{SourceFile, Span};

pub fn render(
    _rule: &DetectionRule,
    _file: &SourceFile,
    _excl: &Exclusion,
    _triggers: &[Span],
) -> Option<Suggestion> {
    None
}
