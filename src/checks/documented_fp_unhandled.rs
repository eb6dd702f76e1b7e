//! `RL202 documented-fp-unhandled`: the rule's own false-positive notes
//! name a benign actor of the catalogue, and the logic does not exclude it.

use super::known_fp_pattern::{self, is_private_range, program_name};
use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::knowledge::{Handled, Knowledge, Pattern};
use crate::rule::{Cmp, DetectionRule, Schema};
use std::collections::BTreeSet;

declare_check! {
    /// The rule's false-positive notes name a known benign actor that its logic does not exclude.
    ///
    /// ## Why
    ///
    /// A rule that says in its own notes "build servers may trigger this" but
    /// has no exclusion for them hands every analyst the same triage work. The
    /// notes (Sigma `falsepositives`, Elastic `false_positives` and the "False
    /// positive analysis" section of `note`, Splunk `known_false_positives`)
    /// are read for the phrases of each catalogue pattern (`phrases:`); when
    /// one is named, the pattern can apply to the rule (its scope, the
    /// rule's intent and the pattern's `unless` conditions are read as
    /// `known-fp-pattern` reads them), the logic tests a field the pattern's
    /// triggers read, the rule's log source has the pattern's exclusion
    /// field and the logic does not exclude the pattern, the note is
    /// reported with the pattern's exclusion as help. A pattern that
    /// `known-fp-pattern` already reports on the rule is not reported twice.
    ///
    /// ## Example
    ///
    /// Flagged (Sigma):
    ///
    /// ```yaml
    /// falsepositives:
    ///     - Jenkins build servers
    /// logsource:
    ///     category: process_creation
    ///     product: windows
    /// detection:
    ///     selection:
    ///         CommandLine|contains: ' -enc '
    ///     condition: selection
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// falsepositives:
    ///     - Jenkins build servers
    /// logsource:
    ///     category: process_creation
    ///     product: windows
    /// detection:
    ///     selection:
    ///         CommandLine|contains: ' -enc '
    ///     filter_ci:
    ///         ParentImage|endswith: '\java.exe'
    ///     condition: selection and not filter_ci
    /// ```
    ///
    /// ## Fix
    ///
    /// Add the exclusion the help describes (`rulelint explain <pattern>`
    /// shows it in full), or reword the note when the actor it names cannot
    /// reach this rule.
    pub struct DocumentedFpUnhandled {
        code: "RL202",
        name: "documented-fp-unhandled",
        category: FalsePositive,
        severity: Info,
        fix: None,
    }
}

impl Check for DocumentedFpUnhandled {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        if rule.meta.falsepositives.is_empty() {
            return;
        }
        let assessed = assess(ctx, rule);
        let reported: BTreeSet<&str> = assessed
            .findings
            .iter()
            .filter_map(|f| f.diagnostic.pattern.as_deref())
            .collect();
        let mut cmps: Vec<(&Cmp, bool)> = Vec::new();
        logic.visit_cmps(&mut |c, neg| cmps.push((c, neg)));
        for pattern in &ctx.knowledge.patterns {
            // Reported by known-fp-pattern already, or kept away from this
            // rule by its scope, its intent or the pattern's `unless`.
            if reported.contains(pattern.id.as_str()) || !assessed.open.contains(&pattern.id) {
                continue;
            }
            // A phrase several patterns share ("terraform" names every
            // cloud change) does not say which exclusion is missing.
            let own: Vec<String> = pattern
                .phrases
                .iter()
                .filter(|p| !shared_phrase(ctx.knowledge, &pattern.id, p))
                .cloned()
                .collect();
            let Some((note, phrase)) = rule
                .meta
                .falsepositives
                .iter()
                .find_map(|n| first_phrase(&n.value, &own).map(|p| (n, p.to_string())))
            else {
                continue;
            };
            let phrase = phrase.as_str();
            if excluded_by_name(&cmps, phrase)
                || about_the_actor(rule, &cmps, phrase)
                || !about_the_same_data(pattern, &cmps)
                || !exclusion_fields_available(ctx.knowledge, rule, pattern)
                || handled(pattern, &cmps)
            {
                continue;
            }
            let mut d = Diagnostic::new(
                    self.code(),
                    ctx,
                    note.span,
                    format!(
                        "the false-positive notes name {phrase:?} ({}: {}), but the logic has no exclusion for it",
                        pattern.id, pattern.title
                    ),
                )
            .with_rule(rule)
            .with_help(format!(
                "{} (`rulelint explain {}`)",
                pattern.exclusion.summary.trim(),
                pattern.id
            ));
            d.pattern = Some(pattern.id.clone());
            out.push(d.into());
        }
    }
}

/// What `known-fp-pattern` decides on the rule: its findings and the
/// patterns open to the rule.
pub(crate) fn assess(ctx: &CheckContext<'_>, rule: &DetectionRule) -> known_fp_pattern::Assessment {
    let c = known_fp_pattern::Context {
        knowledge: ctx.knowledge,
        environment: ctx.environment,
    };
    known_fp_pattern::assess(&c, ctx.file, rule, ctx.display)
}

/// The first of `phrases` that `text` contains as whole words, ignoring
/// case, as written in the catalogue.
pub fn first_phrase<'a>(text: &str, phrases: &'a [String]) -> Option<&'a str> {
    phrases
        .iter()
        .find(|p| contains_phrase(text, p))
        .map(String::as_str)
}

/// `text` contains `phrase` (ASCII case ignored), neither preceded nor
/// followed by a letter or digit.
pub fn contains_phrase(text: &str, phrase: &str) -> bool {
    let (t, p) = (text.as_bytes(), phrase.as_bytes());
    if p.is_empty() || p.len() > t.len() {
        return false;
    }
    // A hyphen joins a compound ("image-build systems" are not build
    // systems).
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
    (0..=t.len() - p.len()).any(|i| {
        t[i..i + p.len()].eq_ignore_ascii_case(p)
            && (i == 0 || !word(t[i - 1]) || !word(p[0]))
            && (i + p.len() == t.len() || !word(t[i + p.len()]) || !word(p[p.len() - 1]))
    })
}

/// Is the rule about the actor the phrase names (a PsExec rule whose notes
/// say "legitimate PsExec use")? Then the note describes the detection,
/// not a benign source to exclude: the phrase is in the title or in a
/// value the logic selects.
fn about_the_actor(rule: &DetectionRule, cmps: &[(&Cmp, bool)], phrase: &str) -> bool {
    let squeezed = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let p = squeezed(phrase);
    if p.is_empty() {
        return false;
    }
    rule.meta
        .title
        .as_ref()
        .is_some_and(|t| squeezed(&t.value).contains(&p))
        || cmps
            .iter()
            .any(|(c, neg)| !*neg && c.values.iter().any(|v| squeezed(&v.text).contains(&p)))
}

/// Does the logic select on what the pattern's triggers read? A note
/// naming administrators says nothing about a pattern on programs when
/// the rule tests no program at all. The kind of event (`event.action`,
/// `event.code`, …) does not count: nearly every rule tests it.
fn about_the_same_data(pattern: &Pattern, cmps: &[(&Cmp, bool)]) -> bool {
    const EVENT_KIND: &[&str] = &[
        "event.action",
        "event.code",
        "event.category",
        "event.type",
        "event.outcome",
        "event.dataset",
        "event.provider",
    ];
    cmps.iter().any(|(c, neg)| {
        !*neg
            && c.field.concept.as_deref().is_some_and(|k| {
                !EVENT_KIND.contains(&k)
                    && pattern
                        .trigger
                        .iter()
                        .any(|t| t.matcher.compiled.concepts.iter().any(|x| x == k))
            })
    })
}

/// Does the logic already exclude something the phrase names (a negated
/// value containing "Nessus" when the note names Nessus)?
fn excluded_by_name(cmps: &[(&Cmp, bool)], phrase: &str) -> bool {
    cmps.iter()
        .any(|(c, neg)| *neg && c.values.iter().any(|v| contains_phrase(&v.text, phrase)))
}

/// Does another pattern of the catalogue list the same phrase?
fn shared_phrase(k: &Knowledge, id: &str, phrase: &str) -> bool {
    k.patterns
        .iter()
        .any(|p| p.id != id && p.phrases.iter().any(|q| q.eq_ignore_ascii_case(phrase)))
}

/// Does the logic exclude the pattern? Any exclusion counts, even one
/// that covers only part of the benign actors: a negated comparison on a
/// concept of a `handled` entry with one of its values or programs, or,
/// for an entry without values, with a value that is not a whole private
/// or reserved range. A pattern without `handled` entries is excluded by
/// any negated comparison on a concept of its exclusion.
fn handled(pattern: &Pattern, cmps: &[(&Cmp, bool)]) -> bool {
    if pattern.handled.is_empty() {
        return cmps.iter().any(|(c, neg)| {
            *neg && c
                .field
                .concept
                .as_deref()
                .is_some_and(|k| pattern.exclusion.fields.iter().any(|f| f.concept == k))
        });
    }
    pattern.handled.iter().any(|h| handled_by(h, cmps))
}

fn handled_by(h: &Handled, cmps: &[(&Cmp, bool)]) -> bool {
    let concepts = &h.compiled.concepts;
    let excl = cmps.iter().filter(|(c, neg)| {
        *neg && c
            .field
            .concept
            .as_deref()
            .is_some_and(|k| concepts.iter().any(|x| x == k))
    });
    let mut excl = excl.map(|(c, _)| *c).peekable();
    if excl.peek().is_none() {
        return false;
    }
    if h.values.is_empty() && h.processes.is_empty() {
        return excl.any(|c| c.values.iter().any(|v| !is_private_range(&v.text)));
    }
    excl.any(|c| {
        c.values.iter().any(|v| {
            let t = v.text.trim();
            h.values.iter().any(|w| {
                t.eq_ignore_ascii_case(w) || (v.as_int().is_some() && v.as_int() == w.parse().ok())
            }) || program_name(t).is_some_and(|n| {
                h.compiled
                    .processes
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(n))
            })
        })
    })
}

/// Does the rule's log source have a field for every concept of the
/// pattern's exclusion? Sigma: SigmaHQ's field list of the log source
/// (any log source the list does not know has them). ECS: network fields
/// are not in process-only indices. Splunk: a datamodel search has the
/// fields of its own object only.
fn exclusion_fields_available(k: &Knowledge, rule: &DetectionRule, pattern: &Pattern) -> bool {
    pattern.exclusion.fields.iter().all(|f| {
        let concept = f.concept.as_str();
        let Some(entry) = k.fields.concepts.get(concept) else {
            return rule.schema == Schema::Ecs;
        };
        let network = concept.starts_with("source.") || concept.starts_with("destination.");
        match rule.schema {
            Schema::Sigma => {
                if entry.sigma.is_empty() {
                    return false;
                }
                match k.sigma_logsources.fields_for(&rule.meta.data) {
                    Some(list) => entry
                        .sigma
                        .iter()
                        .any(|n| list.iter().any(|f| f.eq_ignore_ascii_case(n))),
                    None => true,
                }
            }
            Schema::Ecs => {
                let indices: Vec<&String> = rule
                    .meta
                    .data
                    .iter()
                    .filter(|d| d.contains("logs-") || d.contains('*'))
                    .collect();
                let process_only = !indices.is_empty()
                    && indices
                        .iter()
                        .all(|d| d.contains("process") && !d.contains("network"));
                !(network && process_only)
            }
            Schema::Splunk => {
                if entry.splunk.is_empty() {
                    return false;
                }
                match &rule.anchors.datamodel {
                    Some(o) if o.eq_ignore_ascii_case("Processes") => !network,
                    Some(o) if o.eq_ignore_ascii_case("All_Traffic") => {
                        !concept.starts_with("process.")
                    }
                    _ => true,
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::contains_phrase;

    #[test]
    fn phrases_match_whole_words_ignoring_case() {
        assert!(contains_phrase("Jenkins build servers", "jenkins"));
        assert!(contains_phrase("hosts behind NAT.", "NAT"));
        assert!(contains_phrase("ci/cd pipelines", "CI/CD"));
        assert!(!contains_phrase("Signature updates", "NAT"));
        assert!(!contains_phrase("natively", "NAT"));
        assert!(!contains_phrase("", "NAT"));
        assert!(contains_phrase("NAT'd web server", "NAT'd"));
    }
}
