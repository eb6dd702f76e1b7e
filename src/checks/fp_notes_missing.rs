//! `RL203 fp-notes-missing`: the rule documents no false positives while
//! catalogue patterns apply to it.

use super::documented_fp_unhandled::assess;
use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::rule::{DetectionRule, Format};
use crate::source::Span;
use std::collections::BTreeSet;

declare_check! {
    /// The rule documents no false positives although known benign actors apply to it.
    ///
    /// ## Why
    ///
    /// The false-positive notes (Sigma `falsepositives`, Elastic
    /// `false_positives` and the "False positive analysis" section of `note`,
    /// Splunk `known_false_positives`) are what an analyst reads first when the
    /// rule fires. When they say only "Unknown", "None" or "N/A"
    /// while `known-fp-pattern` finds catalogue patterns on the rule, the
    /// analyst starts from nothing although the benign actors are known. A
    /// rule without the field at all is reported the same way, on its title.
    /// The help gives note text that names them, written the way the rule's
    /// format holds it.
    ///
    /// ## Example
    ///
    /// Flagged (Sigma):
    ///
    /// ```yaml
    /// falsepositives:
    ///     - Unknown
    /// detection:
    ///     selection:
    ///         DestinationPort: 6667
    ///     condition: selection
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// falsepositives:
    ///     - NAT'd web servers replying to clients whose source port is 6667
    /// detection:
    ///     selection:
    ///         DestinationPort: 6667
    ///     condition: selection
    /// ```
    ///
    /// ## Fix
    ///
    /// Write the benign actors into the notes (the help names them), and
    /// exclude them where the rule can.
    pub struct FpNotesMissing {
        code: "RL203",
        name: "fp-notes-missing",
        category: FalsePositive,
        severity: Info,
        fix: None,
    }
}

impl Check for FpNotesMissing {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let notes = &rule.meta.falsepositives;
        if rule.logic.is_none() || notes.iter().any(|n| !is_placeholder(&n.value)) {
            return;
        }
        let ids: BTreeSet<String> = assess(ctx, rule)
            .findings
            .into_iter()
            .filter_map(|f| f.diagnostic.pattern)
            .collect();
        if ids.is_empty() {
            return;
        }
        let patterns: Vec<_> = ctx
            .knowledge
            .patterns
            .iter()
            .filter(|p| ids.contains(&p.id))
            .collect();
        let names: Vec<String> = patterns.iter().map(|p| format!("`{}`", p.id)).collect();
        let actors: Vec<String> = patterns
            .iter()
            .map(|p| {
                capitalise(
                    &p.benign
                        .iter()
                        .take(2)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
            .collect();
        let (span, message) = match (notes.first(), notes.last()) {
            (Some(a), Some(b)) => (
                a.span.join(b.span),
                format!(
                    "the false-positive notes say nothing, but known benign actors apply to it ({})",
                    names.join(", ")
                ),
            ),
            _ => (
                rule.meta
                    .title
                    .as_ref()
                    .map(|t| t.span)
                    .unwrap_or(Span::point(0)),
                format!(
                    "the rule has no false-positive notes, but known benign actors apply to it ({})",
                    names.join(", ")
                ),
            ),
        };
        out.push(
            Diagnostic::new(self.code(), ctx, span, message)
                .with_rule(rule)
                .with_help(format!(
                    "document them, for example:\n{}",
                    note_text(rule.format, &actors)
                ))
                .into(),
        );
    }
}

/// The notes, written the way the rule's format holds them.
fn note_text(format: Format, actors: &[String]) -> String {
    let quoted = |a: &String| format!("\"{}\"", a.replace('\\', "\\\\").replace('"', "\\\""));
    match format {
        Format::Sigma => {
            let mut s = String::from("falsepositives:");
            for a in actors {
                s.push_str(&format!("\n    - {}", quoted(a)));
            }
            s
        }
        Format::Elastic => format!(
            "false_positives = [{}]",
            actors.iter().map(quoted).collect::<Vec<_>>().join(", ")
        ),
        Format::Splunk => format!("known_false_positives: {}", quoted(&actors.join(". "))),
    }
}

/// A note that documents nothing: empty, or a word that stands for
/// "nothing known".
pub fn is_placeholder(note: &str) -> bool {
    let t = note
        .trim()
        .trim_end_matches(['.', '!'])
        .trim()
        .to_ascii_lowercase();
    matches!(
        t.as_str(),
        "" | "unknown"
            | "none"
            | "n/a"
            | "na"
            | "-"
            | "tbd"
            | "todo"
            | "none known"
            | "unlikely"
            | "none expected"
            | "not known"
            | "no known false positives"
            | "none identified"
            | "no false positives"
            | "none observed"
    )
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;

    #[test]
    fn placeholders_say_nothing() {
        for p in ["Unknown", "unknown.", " None ", "N/A", "", "Unlikely"] {
            assert!(is_placeholder(p), "{p:?}");
        }
        for n in [
            "Admins",
            "Unknown legitimate tools",
            "None of the above apply",
        ] {
            assert!(!is_placeholder(n), "{n:?}");
        }
    }
}
