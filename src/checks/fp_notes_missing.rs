//! `RL203 fp-notes-missing`: the rule documents no false positives while
//! catalogue patterns apply to it.

use super::documented_fp_unhandled::rl201_patterns;
use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::rule::DetectionRule;
use crate::source::Span;

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
    /// analyst starts from nothing although the benign actors are known. The
    /// help suggests note text that names them. A rule without the field is
    /// left alone: many rule sets omit it by convention.
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
        // Absent notes are left alone: many rule sets leave the field out
        // by convention, and its absence is no statement.
        if rule.logic.is_none()
            || rule.meta.falsepositives.is_empty()
            || rule
                .meta
                .falsepositives
                .iter()
                .any(|n| !is_placeholder(&n.value))
        {
            return;
        }
        let ids = rl201_patterns(ctx, rule);
        if ids.is_empty() {
            return;
        }
        let patterns: Vec<_> = ctx
            .knowledge
            .patterns
            .iter()
            .filter(|p| ids.contains(&p.id))
            .collect();
        let span = match (
            rule.meta.falsepositives.first(),
            rule.meta.falsepositives.last(),
        ) {
            (Some(a), Some(b)) => a.span.join(b.span),
            _ => Span::point(0),
        };
        let what = "the false-positive notes say nothing";
        let names: Vec<String> = patterns.iter().map(|p| format!("`{}`", p.id)).collect();
        let text: Vec<String> = patterns
            .iter()
            .map(|p| {
                let actors = p.benign.iter().take(2).cloned().collect::<Vec<_>>();
                format!("\"{}\"", capitalise(&actors.join("; ")))
            })
            .collect();
        out.push(
            Diagnostic::new(
                self.code(),
                ctx,
                span,
                format!(
                    "{what}, but known benign actors apply to it ({})",
                    names.join(", ")
                ),
            )
            .with_rule(rule)
            .with_help(format!("document them, for example: {}", text.join(", ")))
            .into(),
        );
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
