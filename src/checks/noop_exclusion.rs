//! `RL304 noop-exclusion`.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::{Diagnostic, Label, Position, Severity};
use crate::rule::constraints::{
    alternatives, field_key, may_hold_several_values, requirements, value_set, Atom, Conjunction,
    Requirement, Requirements, Shape, ValueSet,
};
use crate::rule::{Cmp, DetectionRule, Language, Logic};
use crate::source::Span;

declare_check! {
    /// An exclusion can never remove an event the rule selects, or removes every one.
    ///
    /// ## Why
    ///
    /// An exclusion (`and not filter`) is only worth its place when some of
    /// the events the rule selects match it. When the rule already requires
    /// values the exclusion rules out (it requires `Image|endswith:
    /// '\cmd.exe'` and excludes `Image|endswith: '\powershell.exe'`; it
    /// requires `User|contains: AUTHORI` and excludes `User: admin`), the
    /// exclusion is dead: the false positive it was written for is still
    /// reported, usually because the filter was copied from another rule or
    /// names the wrong field. When the exclusion matches everything the rule
    /// requires (excluding `Image|endswith: '.exe'` from a rule on
    /// `\cmd.exe`), the rule can never fire.
    ///
    /// Only what can be proven is reported: the same field on both sides,
    /// exact values, prefixes, suffixes and substrings (not globs, regexes,
    /// ranges or transformed values), the comparisons every match of the
    /// rule's branch must satisfy (under an `or`, only a field that every
    /// branch tests), and the case rules of the language (Sigma ignores
    /// case unless `|cased`; EQL `:` and `~` ignore it; other languages are
    /// read as exact when the exclusion must cover the selection). Fields
    /// that can hold several values in one event (`event.category`,
    /// `process.args`, `host.ip`) are not used to prove a no-op. In an EQL
    /// sequence only the comparisons of the exclusion's own step count;
    /// SPL searches with subsearches are not analysed.
    ///
    /// A whole exclusion that is dead, or one that blinds the rule, is a
    /// `warning`; dead values inside an exclusion that otherwise works are
    /// reported as `info`.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// selection:
    ///     Image|endswith: '\cmd.exe'
    /// filter:
    ///     Image|endswith: '\powershell.exe'
    /// condition: selection and not filter
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// selection:
    ///     Image|endswith: '\cmd.exe'
    /// filter:
    ///     ParentImage: 'C:\Program Files\Backup\agent.exe'
    /// condition: selection and not filter
    /// ```
    ///
    /// ## Fix
    ///
    /// Point the exclusion at the field the false positive differs in (often
    /// the parent process or the command line), or remove it. An exclusion
    /// that blinds the rule must be narrowed.
    pub struct NoopExclusion {
        code: "RL304",
        name: "noop-exclusion",
        category: Logic,
        severity: Warning,
        fix: None,
    }
}

/// Most alternatives an exclusion is expanded to.
const LIMIT: usize = 64;

/// Rules with more values than this are not analysed.
const MAX_VALUES: usize = 5_000;

impl Check for NoopExclusion {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        if rule.language == Language::Spl && spl_has_subsearch(ctx, rule) {
            return;
        }
        // Every value is compared with every required one: keep that
        // bounded on rules with huge value lists.
        let mut values = 0usize;
        logic.visit_cmps(&mut |c, _| values += c.values.len());
        if values > MAX_VALUES {
            return;
        }
        let mut found = Vec::new();
        walk(logic, &Requirements::default(), rule.language, &mut found);
        let mut seen = std::collections::HashSet::new();
        for f in found {
            let Some(f) = scope_to_step(ctx, rule, f) else {
                continue;
            };
            for d in self.diagnostics(ctx, rule, &f) {
                if seen.insert((d.span, d.message.clone())) {
                    out.push(d.into());
                }
            }
        }
    }
}

/// An exclusion and the requirements of the events it is applied to.
struct Site<'a> {
    exclusion: &'a Logic,
    context: Requirements<'a>,
}

fn deref(l: &Logic) -> &Logic {
    match l {
        Logic::Shared(x) => deref(x),
        other => other,
    }
}

fn walk<'a>(
    node: &'a Logic,
    context: &Requirements<'a>,
    language: Language,
    out: &mut Vec<Site<'a>>,
) {
    match deref(node) {
        Logic::And(xs) => {
            let mut here = context.clone();
            for x in xs {
                if !matches!(deref(x), Logic::Not(_)) {
                    here.merge(requirements(x, language));
                }
            }
            for x in xs {
                match deref(x) {
                    Logic::Not(inner) => out.push(Site {
                        exclusion: inner,
                        context: here.clone(),
                    }),
                    other => walk(other, &here, language, out),
                }
            }
        }
        Logic::Or(xs) => xs.iter().for_each(|x| walk(x, context, language, out)),
        _ => {}
    }
}

/// An SPL search with a subsearch (`join`, `append`, `[ … ]`) mixes the
/// conditions of several searches in one tree.
fn spl_has_subsearch(ctx: &CheckContext<'_>, rule: &DetectionRule) -> bool {
    match rule.anchors.query {
        Some(q) => ctx.file.slice(q).contains('['),
        None => true,
    }
}

/// In an EQL sequence or sample, keep only the requirements of the step the
/// exclusion is in; `None` when the step cannot be told.
fn scope_to_step<'a>(
    ctx: &CheckContext<'_>,
    rule: &DetectionRule,
    mut site: Site<'a>,
) -> Option<Site<'a>> {
    let sequence = rule.language == Language::Eql
        && rule.anchors.query.is_some_and(|q| {
            let t = ctx
                .file
                .slice(q)
                .trim_start_matches(|c: char| c == '\'' || c == '"' || c.is_whitespace())
                .to_ascii_lowercase();
            t.starts_with("sequence") || t.starts_with("sample")
        });
    if !sequence && rule.anchors.steps.len() < 2 {
        return Some(site);
    }
    let at = site.exclusion.span()?;
    let step = *rule
        .anchors
        .steps
        .iter()
        .find(|s| s.start <= at.start && at.end <= s.end)?;
    site.context
        .retain(|c| step.start <= c.span.start && c.span.end <= step.end);
    Some(site)
}

/// Why a part of an exclusion never matches: its comparison and the
/// requirement it contradicts.
struct Dead<'a> {
    cmp: &'a Cmp,
    /// The values of `cmp` that never match (all of them when `None`).
    values: Option<Vec<usize>>,
    req: Requirement<'a>,
}

/// The requirement on `cmp`'s field that `set` cannot meet.
fn contradicted<'a>(
    cmp: &Cmp,
    set: &ValueSet,
    context: &Requirements<'a>,
) -> Option<Requirement<'a>> {
    let key = field_key(cmp)?;
    if may_hold_several_values(key) {
        return None;
    }
    context
        .on(key)
        .iter()
        .find(|r| r.set.disjoint(set))
        .cloned()
}

/// A conjunction of the exclusion that never matches, and why.
fn dead_conjunction<'a>(
    conj: &Conjunction<'a>,
    context: &Requirements<'a>,
    language: Language,
) -> Option<Dead<'a>> {
    conj.cmps.iter().find_map(|c| {
        // `field != ""` / `!= null` guard against empty values; that they
        // cannot occur is no mistake.
        if c.values.iter().all(|v| v.is_null() || v.text.is_empty()) {
            return None;
        }
        let set = value_set(c, language)?;
        contradicted(c, &set, context).map(|req| Dead {
            cmp: c,
            values: None,
            req,
        })
    })
}

/// The values of a lone any-of comparison that never match.
fn dead_values<'a>(
    cmp: &'a Cmp,
    context: &Requirements<'a>,
    language: Language,
) -> Option<Dead<'a>> {
    if cmp.all || cmp.values.len() < 2 {
        return None;
    }
    let set = value_set(cmp, language)?;
    let mut dead = Vec::new();
    let mut req = None;
    for (i, alt) in set.alts.iter().enumerate() {
        let one = ValueSet {
            alts: vec![alt.clone()],
        };
        if let Some(r) = contradicted(cmp, &one, context) {
            dead.push(i);
            req.get_or_insert(r);
        }
    }
    Some(Dead {
        cmp,
        values: Some(dead),
        req: req?,
    })
}

/// The exclusion covers every event the conjunction's context selects.
fn blinds<'a>(
    conj: &Conjunction<'a>,
    context: &Requirements<'a>,
    language: Language,
) -> Option<Vec<Requirement<'a>>> {
    if conj.extra || conj.cmps.is_empty() {
        return None;
    }
    conj.cmps
        .iter()
        .map(|c| {
            let set = value_set(c, language)?;
            context
                .on(field_key(c)?)
                .iter()
                .find(|r| set.covers(&r.set))
                .cloned()
        })
        .collect()
}

fn shape_words(shape: Shape) -> &'static str {
    match shape {
        Shape::Eq => "to be",
        Shape::Prefix => "to start with",
        Shape::Suffix => "to end with",
        Shape::Contains => "to contain",
        Shape::Unknown => "to match",
    }
}

/// `` `Image` to end with `\cmd.exe` or `\pwsh.exe` ``.
fn describe(req: &Requirement<'_>) -> String {
    let field = req.from.first().map(|c| c.field.raw.as_str()).unwrap_or("");
    let atoms: Vec<&Atom> = req.set.alts.iter().flatten().collect();
    let joiner = if req.set.alts.len() == 1 && atoms.len() > 1 {
        " and "
    } else {
        " or "
    };
    let same = atoms.windows(2).all(|w| w[0].shape == w[1].shape);
    let mut parts: Vec<String> = atoms
        .iter()
        .take(3)
        .enumerate()
        .map(|(i, a)| {
            if same && i > 0 {
                format!("`{}`", a.text)
            } else {
                format!("{} `{}`", shape_words(a.shape), a.text)
            }
        })
        .collect();
    if atoms.len() > 3 {
        parts.push(format!("{} more", atoms.len() - 3));
    }
    format!("`{field}` {}", parts.join(joiner))
}

fn label(ctx: &CheckContext<'_>, span: Span, message: String) -> Label {
    Label {
        span,
        position: Position::resolve(ctx.file, span),
        message,
    }
}

fn quoted_values(cmp: &Cmp, which: &[usize]) -> String {
    let mut v: Vec<String> = which
        .iter()
        .take(3)
        .filter_map(|i| cmp.values.get(*i))
        .map(|v| format!("`{}`", v.text))
        .collect();
    if which.len() > 3 {
        v.push(format!("{} more", which.len() - 3));
    }
    v.join(", ")
}

impl NoopExclusion {
    fn diagnostics(
        &self,
        ctx: &CheckContext<'_>,
        rule: &DetectionRule,
        site: &Site<'_>,
    ) -> Vec<Diagnostic> {
        let Some(alts) = alternatives(site.exclusion, LIMIT) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // Blinding: some alternative holds of every selected event.
        for conj in &alts {
            if let Some(reqs) = blinds(conj, &site.context, rule.language) {
                let c = conj.cmps[0];
                let what = reqs.iter().map(describe).collect::<Vec<_>>().join(" and ");
                let mut d = Diagnostic::new(
                    self.code(),
                    ctx,
                    c.span,
                    format!(
                        "the exclusion `{}` matches every event the rule selects (it requires {what}): the rule can never fire",
                        c.field.raw
                    ),
                )
                .with_rule(rule)
                .with_help("narrow the exclusion to the benign program or account it was written for");
                d.labels = reqs
                    .iter()
                    .flat_map(|r| r.from.iter())
                    .take(8)
                    .map(|c| label(ctx, c.span, "the rule requires this".into()))
                    .collect();
                out.push(d);
                return out;
            }
        }
        // Dead parts.
        let mut dead = Vec::new();
        let mut all_dead = true;
        for conj in &alts {
            if let Some(d) = dead_conjunction(conj, &site.context, rule.language) {
                dead.push(d);
                continue;
            }
            all_dead = false;
            if let [c] = conj.cmps.as_slice() {
                if let Some(d) = dead_values(c, &site.context, rule.language) {
                    dead.push(d);
                }
            }
        }
        if all_dead && !dead.is_empty() {
            let first = &dead[0];
            let mut d = Diagnostic::new(
                self.code(),
                ctx,
                first.cmp.span,
                format!(
                    "the exclusion on `{}` never matches an event the rule selects: the rule requires {}",
                    first.cmp.field.raw,
                    describe(&first.req)
                ),
            )
            .with_rule(rule)
            .with_help(
                "point the exclusion at the field the false positive differs in (the parent process, the command line), or remove it",
            );
            d.labels = first
                .req
                .from
                .iter()
                .take(4)
                .map(|c| label(ctx, c.span, "the rule requires this".into()))
                .chain(
                    dead[1..]
                        .iter()
                        .take(8)
                        .map(|x| label(ctx, x.cmp.span, "never matches either".into())),
                )
                .collect();
            out.push(d);
            return out;
        }
        for x in &dead {
            let (span, what) = match &x.values {
                Some(v) if v.len() < x.cmp.values.len() => {
                    let span = v
                        .iter()
                        .filter_map(|i| x.cmp.values.get(*i))
                        .map(|v| v.span)
                        .next()
                        .unwrap_or(x.cmp.span);
                    (
                        span,
                        format!(
                            "`{}` excludes {} ({} of {} values), which the rule never selects",
                            x.cmp.field.raw,
                            quoted_values(x.cmp, v),
                            v.len(),
                            x.cmp.values.len()
                        ),
                    )
                }
                _ => (
                    x.cmp.span,
                    format!(
                        "this part of the exclusion (`{}`) never matches an event the rule selects",
                        x.cmp.field.raw
                    ),
                ),
            };
            let mut d = Diagnostic::new(
                self.code(),
                ctx,
                span,
                format!("{what}: the rule requires {}", describe(&x.req)),
            )
            .with_rule(rule)
            .with_help("remove the values the rule never selects, or check that the field is the intended one");
            d.severity = Severity::Info;
            d.labels = x
                .req
                .from
                .iter()
                .take(4)
                .map(|c| label(ctx, c.span, "the rule requires this".into()))
                .collect();
            out.push(d);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::Code;
    use crate::diagnostic::Severity;
    use crate::{lint_source, Knowledge, LintOptions, SourceFile};

    fn sigma(detection: &str) -> Vec<(Severity, String)> {
        let text = format!(
            "title: T\nid: 3f1c2b4a-0000-4000-8000-000000000001\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n{detection}\nlevel: high\n"
        );
        let k = Knowledge::builtin().expect("catalogue");
        let r = lint_source(
            &k,
            &LintOptions::default(),
            SourceFile::new("t.yml", text),
            "t.yml",
            true,
        );
        r.diagnostics
            .iter()
            .filter(|d| d.code == Code::NoopExclusion)
            .map(|d| (d.severity, d.message.clone()))
            .collect()
    }

    #[test]
    fn a_dead_exclusion_is_a_warning() {
        let got = sigma("    selection:\n        Image|endswith: '\\cmd.exe'\n    filter:\n        Image|endswith: '\\powershell.exe'\n    condition: selection and not filter");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, Severity::Warning);
        assert!(got[0].1.contains("never matches"), "{got:?}");
    }

    #[test]
    fn the_user_example() {
        let got = sigma("    selection:\n        User|contains: AUTHORI\n    filter:\n        User: admin\n    condition: selection and not filter");
        assert_eq!(got.len(), 1, "{got:?}");
    }

    #[test]
    fn a_blinding_exclusion() {
        let got = sigma("    selection:\n        Image|endswith: '\\cmd.exe'\n    filter:\n        Image|endswith: '.exe'\n    condition: selection and not filter");
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].1.contains("can never fire"), "{got:?}");
    }

    #[test]
    fn dead_values_are_info() {
        let got = sigma("    selection:\n        Image|endswith: '\\cmd.exe'\n    filter:\n        Image|endswith:\n            - '\\powershell.exe'\n            - 'C:\\Tools\\cmd.exe'\n    condition: selection and not filter");
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].0, Severity::Info);
        assert!(got[0].1.contains("1 of 2 values"), "{got:?}");
    }

    #[test]
    fn quiet_when_nothing_is_provable() {
        for det in [
            // Another field.
            "    selection:\n        Image|endswith: '\\cmd.exe'\n    filter:\n        ParentImage|endswith: '\\powershell.exe'\n    condition: selection and not filter",
            // An `or` whose other branch does not test the field.
            "    sel1:\n        Image|endswith: '\\cmd.exe'\n    sel2:\n        CommandLine|contains: ' /c '\n    filter:\n        Image|endswith: '\\powershell.exe'\n    condition: (sel1 or sel2) and not filter",
            // A substring can be anywhere.
            "    selection:\n        Image|endswith: '\\cmd.exe'\n    filter:\n        Image|contains: '\\Temp\\'\n    condition: selection and not filter",
            // A transformed value.
            "    selection:\n        CommandLine|windash|contains: '-enc'\n    filter:\n        CommandLine|windash|contains: '-x'\n    condition: selection and not filter",
        ] {
            assert!(sigma(det).is_empty(), "{det}");
        }
    }

    #[test]
    fn both_branches_of_an_or_must_rule_the_value_out() {
        let got = sigma("    sel1:\n        Image|endswith: '\\cmd.exe'\n    sel2:\n        Image|endswith: '\\pwsh.exe'\n    filter:\n        Image|endswith: '\\powershell.exe'\n    condition: (sel1 or sel2) and not filter");
        assert_eq!(got.len(), 1, "{got:?}");
    }
}
