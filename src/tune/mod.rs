//! `rulelint tune`: the exclusions RL201 proposes, written beside rule
//! packs a team does not edit (SigmaHQ, Elastic's prebuilt rules, Splunk
//! ES content), in each ecosystem's own tuning format:
//!
//! * Sigma meta-filters (`sigma/mf_<pattern>.yml`), see [`sigma`];
//! * Splunk `macros.conf` filter macros (`splunk/macros.conf`), see
//!   [`splunk`];
//! * Kibana exception lists (`elastic/<pattern>.ndjson`) and the
//!   `exceptions_list` references to add to each rule, see [`elastic`].
//!
//! Only exclusions whose values all come from the user's `[environment]`
//! facts are written; the others are listed with the facts they need.
//! The pack is a pure function of the findings (sorted, no dates), so the
//! same input gives byte-identical files; [`write`] puts it on disk.

pub mod elastic;
pub mod sigma;
pub mod splunk;
pub mod uuid;
pub mod write;

use crate::checks::proposal::{Exclusion, ValueOrigin};
use crate::checks::Code;
use crate::lint::{FileResult, FileStatus};
use crate::rule::{DetectionRule, Format, Language, Op};
use crate::source::Span;
use std::collections::{BTreeMap, BTreeSet};

/// One rule a pattern's exclusion is written for.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The catalogue pattern (`ephemeral-port`).
    pub pattern: String,
    /// The rule file, as displayed.
    pub file: String,
    /// The rule's id (`id`, `rule_id`); empty when it has none (Splunk
    /// detections are named by their filter macro instead).
    pub id: String,
    pub title: String,
    /// Sigma `logsource`: its `category`, `product` and `service` as
    /// written.
    pub logsource: Vec<(String, String)>,
    /// Splunk: the filter macro the search ends with, and the names the
    /// exclusion's fields have there.
    pub filter_macro: Option<(String, Vec<String>)>,
    /// The exclusion, values from facts only, addresses widened to blocks.
    pub exclusion: Exclusion,
    /// What the exclusion does ("exclude server replies").
    pub summary: String,
    /// The facts the values come from, one per field.
    pub facts: Vec<String>,
}

/// A finding whose exclusion is not written, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    pub file: String,
    /// The rule's id, else its title.
    pub rule: String,
    pub pattern: String,
    pub reason: String,
}

/// What `tune` writes, per format, and what it leaves out.
#[derive(Debug, Default)]
pub struct Plan {
    pub sigma: Vec<Target>,
    pub elastic: Vec<Target>,
    pub splunk: Vec<Target>,
    pub skipped: Vec<Skipped>,
}

/// The files of a tuning pack: path relative to the output folder →
/// content.
pub type Pack = BTreeMap<String, String>;

/// The rule of `rules` a finding at `at` belongs to.
fn rule_at(rules: &[DetectionRule], at: Span) -> Option<&DetectionRule> {
    rules
        .iter()
        .find(|r| r.span.start <= at.start && at.end <= r.span.end)
        .or_else(|| (rules.len() == 1).then(|| &rules[0]))
}

fn meta_text(m: &Option<crate::rule::Meta<String>>) -> String {
    m.as_ref()
        .map(|m| m.value.trim().to_string())
        .unwrap_or_default()
}

/// Is `s` an address block (`10.0.0.0/8`, `fe80::/10`)?
pub fn is_block(s: &str) -> bool {
    let Some((ip, len)) = s.trim().split_once('/') else {
        return false;
    };
    let Ok(len) = len.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => len <= 32,
        Ok(std::net::IpAddr::V6(_)) => len <= 128,
        Err(_) => false,
    }
}

/// Is this an EQL sequence (`sequence by … [step] [step]`)?
fn eql_sequence(rule: &DetectionRule, text: &str) -> bool {
    rule.language == Language::Eql
        && rule
            .anchors
            .query
            .and_then(|s| text.get(s.start..s.end))
            .and_then(|q| q.trim_start().get(..9))
            .is_some_and(|w| {
                w.len() == 9
                    && w[..8].eq_ignore_ascii_case("sequence")
                    && w[8..].starts_with(char::is_whitespace)
            })
}

/// The join keys of an EQL sequence (`sequence by host.id, user.name`,
/// `sequence with maxspan=1m by …`): fields every event of it has.
fn sequence_keys(rule: &DetectionRule, text: &str) -> Vec<String> {
    let Some(q) = rule.anchors.query.and_then(|s| text.get(s.start..s.end)) else {
        return Vec::new();
    };
    let Some(head) = q
        .trim_start()
        .strip_prefix("sequence")
        .and_then(|r| r.split('[').next())
    else {
        return Vec::new();
    };
    let words: Vec<&str> = head.split_whitespace().collect();
    let Some(by) = words.iter().position(|w| *w == "by") else {
        return Vec::new();
    };
    let mut keys = Vec::new();
    for w in &words[by + 1..] {
        if *w == "with" || *w == "until" {
            break;
        }
        keys.extend(
            w.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(String::from),
        );
    }
    keys
}

/// Plan the pack from linted files (findings already filtered by the
/// selection, the configuration and the baseline). Errors are bad input:
/// a rule without an id, duplicate ids, a fact that is not valid for its
/// field.
pub fn plan(results: &[FileResult]) -> Result<Plan, Vec<String>> {
    let mut errors = Vec::new();
    let mut plan = Plan::default();
    // (format, id) → the file that has it first.
    let mut ids: BTreeMap<(Format, String), String> = BTreeMap::new();
    let mut done: BTreeSet<(String, usize, String, String)> = BTreeSet::new();
    for r in results {
        let (Some(src), Some(fmt)) = (&r.source, r.format) else {
            continue;
        };
        if !matches!(r.status, FileStatus::Checked(_)) {
            continue;
        }
        let Ok(parsed) = crate::guard::catching(|| crate::format::parse(fmt, src)) else {
            continue;
        };
        let mut own = BTreeSet::new();
        for rule in &parsed.rules {
            let id = meta_text(&rule.meta.id);
            if id.is_empty() || !own.insert(id.clone()) {
                continue;
            }
            if let Some(first) = ids.insert((fmt, id.clone()), r.path.clone()) {
                errors.push(format!(
                    "duplicate rule id `{id}` in {first} and {}: meta-filters and exception lists name rules by id, so each rule needs its own",
                    r.path
                ));
            }
        }
        for d in r
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::KnownFpPattern)
        {
            let pattern = d.pattern.clone().unwrap_or_default();
            let Some((ri, rule)) = rule_at(&parsed.rules, d.span).and_then(|rule| {
                parsed
                    .rules
                    .iter()
                    .position(|x| x == rule)
                    .map(|i| (i, rule))
            }) else {
                continue;
            };
            let id = meta_text(&rule.meta.id);
            let title = meta_text(&rule.meta.title);
            let named = if id.is_empty() {
                title.clone()
            } else {
                id.clone()
            };
            let skip = |reason: String| Skipped {
                file: r.path.clone(),
                rule: named.clone(),
                pattern: pattern.clone(),
                reason,
            };
            let Some(p) = d.suggestion.as_ref().and_then(|s| s.proposal.as_deref()) else {
                plan.skipped.push(skip(
                    "rulelint suggests no exclusion for this finding (`rulelint check` says why, e.g. the rule's log source has no field for it)".into(),
                ));
                continue;
            };
            let excl = p.exclusion.normalized();
            let facts: Vec<Option<String>> = (0..excl.fields.len())
                .map(|i| p.facts.get(i).cloned().flatten())
                .collect();
            let mut needs = Vec::new();
            let mut catalogue = Vec::new();
            for (f, fact) in excl.fields.iter().zip(&facts) {
                let from_facts = f.values.iter().all(|v| v.origin == ValueOrigin::Fact)
                    && (!f.values.is_empty() || f.op == Op::Exists);
                if from_facts {
                    continue;
                }
                match fact {
                    Some(name) => needs.push(format!("`{name}`")),
                    None => catalogue.push(format!("`{}`", f.field)),
                }
            }
            if !needs.is_empty() {
                needs.dedup();
                let s = if needs.len() == 1 { "" } else { "s" };
                plan.skipped.push(skip(format!(
                    "needs the environment fact{s} {} ([environment] in rulelint.toml)",
                    needs.join(", ")
                )));
                continue;
            }
            if !catalogue.is_empty() {
                plan.skipped.push(skip(format!(
                    "the exclusion of {} uses the catalogue's values, which no environment fact replaces",
                    catalogue.join(", ")
                )));
                continue;
            }
            // Address blocks: a bare address was widened; anything else
            // (a host name) cannot be matched as a block.
            let mut bad = false;
            for (f, fact) in excl.fields.iter().zip(&facts) {
                if f.op != Op::Cidr {
                    continue;
                }
                for v in f.values.iter().filter(|v| !is_block(&v.text)) {
                    bad = true;
                    errors.push(format!(
                        "{}: the environment fact `{}` holds `{}`, which is not an IP address or CIDR range; pattern `{pattern}` matches `{}` against address blocks (write e.g. `10.0.0.53` or `10.0.0.0/24`)",
                        r.path,
                        fact.as_deref().unwrap_or("?"),
                        v.text,
                        f.field
                    ));
                }
            }
            // An address block compared as an exact value matches only that
            // text, except in a Splunk search (which matches CIDR values) and
            // in an Elastic address field.
            for (f, fact) in excl.fields.iter().zip(&facts) {
                let blocks_match = f.op == Op::Cidr
                    || rule.format == Format::Splunk
                    || (rule.format == Format::Elastic
                        && (f.field == "ip" || f.field.ends_with(".ip")));
                if blocks_match || f.op == Op::Exists {
                    continue;
                }
                for v in f
                    .values
                    .iter()
                    .filter(|v| v.text.contains('/') && is_block(&v.text))
                {
                    bad = true;
                    errors.push(format!(
                        "{}: the environment fact `{}` holds the address block `{}`, but pattern `{pattern}` compares `{}` with exact values, which would match only that text (write single addresses or names there)",
                        r.path,
                        fact.as_deref().unwrap_or("?"),
                        v.text,
                        f.field
                    ));
                }
            }
            if bad {
                continue;
            }
            let filter_macro = match rule.format {
                Format::Splunk => {
                    let Some((name, _)) = &rule.anchors.filter_macro else {
                        plan.skipped.push(skip(
                            "the search does not end with a `<name>_filter` macro, so a macros.conf stanza would not apply to it".into(),
                        ));
                        continue;
                    };
                    let scope = rule.anchors.pipeline.as_ref().map(|pl| {
                        pl.filter_stage
                            .and_then(|i| pl.stages.get(i))
                            .map(|s| &s.scope)
                            .unwrap_or(&pl.end_scope)
                    });
                    let names = match scope {
                        Some(scope) => crate::suggest::spl::names_in(scope, &excl),
                        None => Some(excl.fields.iter().map(|f| f.field.clone()).collect()),
                    };
                    let Some(names) = names else {
                        plan.skipped.push(skip(
                            "a field of the exclusion is no longer in the search's results where the filter macro runs".into(),
                        ));
                        continue;
                    };
                    let name = name.trim_matches('`');
                    if name.is_empty()
                        || !name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_-.:".contains(c))
                    {
                        plan.skipped.push(skip(
                            "the filter macro's name cannot be written as a macros.conf stanza name".into(),
                        ));
                        continue;
                    }
                    Some((name.to_string(), names))
                }
                _ => None,
            };
            if rule.format == Format::Elastic
                && eql_sequence(rule, &src.text)
                && !excl
                    .fields
                    .iter()
                    .all(|f| sequence_keys(rule, &src.text).contains(&f.field))
            {
                plan.skipped.push(skip(
                    "an EQL sequence rule takes exceptions only on fields that every event of the sequence has (its `sequence by` keys), and this exclusion's fields are not among them; add the exclusion to its sequence step in the query instead (`rulelint check --fix`)".into(),
                ));
                continue;
            }
            if rule.format == Format::Elastic && elastic::items(&excl).is_none() {
                plan.skipped.push(skip(
                    "a value holds a wildcard character or an operator that a Kibana exception entry cannot express".into(),
                ));
                continue;
            }
            if id.is_empty() && rule.format != Format::Splunk {
                let key = if rule.format == Format::Sigma {
                    "id"
                } else {
                    "rule_id"
                };
                let what = if rule.format == Format::Sigma {
                    "meta-filters name the rules they apply to by id"
                } else {
                    "exception lists are attached to rules by rule_id"
                };
                errors.push(format!(
                    "{}: the rule `{title}` has no `{key}`; {what}: add one",
                    r.path
                ));
                continue;
            }
            if !done.insert((r.path.clone(), ri, pattern.clone(), format!("{excl:?}"))) {
                continue;
            }
            let t = Target {
                pattern: pattern.clone(),
                file: r.path.clone(),
                id,
                title,
                // What a converter matches a filter's log source on.
                logsource: ["category", "product", "service"]
                    .iter()
                    .filter_map(|k| rule.meta.logsource.iter().find(|(x, _)| x == k))
                    .cloned()
                    .collect(),
                filter_macro,
                facts: facts.into_iter().map(Option::unwrap_or_default).collect(),
                exclusion: excl,
                summary: p.summary.clone(),
            };
            match rule.format {
                Format::Sigma => plan.sigma.push(t),
                Format::Elastic => plan.elastic.push(t),
                Format::Splunk => plan.splunk.push(t),
            }
        }
    }
    if !errors.is_empty() {
        errors.sort();
        errors.dedup();
        return Err(errors);
    }
    plan.skipped.sort();
    plan.skipped.dedup();
    Ok(plan)
}

/// The files of the pack (`existing_macros`: the `--merge-with` file's
/// text).
pub fn render(plan: &Plan, existing_macros: Option<&str>) -> Result<Pack, String> {
    let mut pack = Pack::new();
    for (name, text) in sigma::render(&plan.sigma) {
        pack.insert(format!("sigma/{name}"), text);
    }
    if !plan.splunk.is_empty() || existing_macros.is_some() {
        pack.insert(
            "splunk/macros.conf".into(),
            splunk::render(&plan.splunk, existing_macros)?,
        );
    }
    for (name, text) in elastic::render(&plan.elastic) {
        pack.insert(format!("elastic/{name}"), text);
    }
    pack.insert(write::MARKER.into(), write::marker_text(&pack));
    Ok(pack)
}

/// A file-name-safe form of `s`: lower-case letters, digits, `-` and `_`.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        "x".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_slugs() {
        assert!(is_block("10.0.0.0/8"));
        assert!(is_block("fe80::/10"));
        assert!(!is_block("10.0.0.1"));
        assert!(!is_block("10.0.0.0/33"));
        assert!(!is_block("dns.corp/24"));
        assert_eq!(slug("Ephemeral Port"), "ephemeral_port");
        assert_eq!(slug("a/../b"), "a_b");
        assert_eq!(slug("///"), "x");
    }
}
