//! `RL201 known-fp-pattern`: the rule's logic matches a known
//! false-positive pattern of the catalogue and does not exclude it.

use super::proposal::{Exclusion, ExclusionField, ExclusionValue, Finding, Proposal, ValueOrigin};
use super::{Check, CheckContext, Code};
use crate::declare_check;
use crate::diagnostic::{Diagnostic, Label, Position, RuleRef, Severity};
use crate::knowledge::{
    AddressScope, CountKind, ExclusionFieldSpec, Handled, IntentPolicy, Knowledge, Matcher,
    Pattern, Platform, PortSpec, SchemaName, Scope,
};
use crate::rule::{AggregationKind, Cmp, DetectionRule, Logic, Op, Schema};
use crate::source::{SourceFile, Span};
use std::collections::BTreeSet;

declare_check! {
    /// The rule matches a known false-positive pattern and does not exclude it.
    ///
    /// ## What it does
    ///
    /// Matches the rule's detection logic, in positive position, against the
    /// catalogue of known false-positive patterns (`rulelint patterns`). When a
    /// pattern applies and the rule does not already exclude it, reports the
    /// triggering value with the reason and a ready-to-paste exclusion in the
    /// rule's own language.
    ///
    /// ## Why
    ///
    /// Detection rules that fire on benign activity bury a SOC. What is known about
    /// these false positives usually lives only as free text in the rule's notes:
    /// this check turns it into a concrete exclusion. A rule that already excludes
    /// the pattern (in negative position, on the pattern's exclusion concept, with
    /// values that cover its benign actors) gives no finding; a rule that excludes
    /// the right field but not the benign actors gets an `info` finding pointing at
    /// the existing exclusion.
    ///
    /// ## Example
    ///
    /// Flagged (Sigma):
    ///
    /// ```yaml
    /// detection:
    ///     selection:
    ///         DestinationPort: 6667
    ///     condition: selection
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// detection:
    ///     selection:
    ///         DestinationPort: 6667
    ///     filter_ephemeral_port:
    ///         SourcePort: [80, 443]
    ///     condition: selection and not filter_ephemeral_port
    /// ```
    ///
    /// ## Fix safety
    ///
    /// The suggested exclusion narrows what the rule detects. Values in angle
    /// brackets (`<your DNS servers>`) are placeholders: fill them in, or set the
    /// matching `[environment]` fact in the configuration.
    ///
    /// ## References
    ///
    /// * `rulelint explain <pattern>` for each pattern's rationale and references.
    pub struct KnownFpPattern {
        code: "RL201",
        name: "known-fp-pattern",
        category: FalsePositive,
        severity: Warning,
        fix: Sometimes,
    }
}

impl Check for KnownFpPattern {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let c = Context {
            knowledge: ctx.knowledge,
            environment: ctx.environment,
        };
        // The check proposes what to exclude; the rendering stage writes it
        // in the rule's language (suggestion, help, Kibana note).
        out.extend(check(&c, ctx.file, rule, ctx.display));
    }
}

pub use super::Environment;

/// Everything a knowledge-driven check needs besides the rule.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub knowledge: &'a Knowledge,
    pub environment: &'a Environment,
}

/// The program name a value stands for: last path component, wildcards
/// and a trailing `.exe` removed, as written (compare it with
/// `eq_ignore_ascii_case`). `None` when the value is not a plain name or
/// path.
pub fn program_name(text: &str) -> Option<&str> {
    let t = text.trim().trim_matches('"');
    let t = t.trim_start_matches('*');
    let base = t.rsplit(['\\', '/']).next().unwrap_or(t);
    let base = base.trim_end_matches('*');
    if base.is_empty() || base.contains(['*', '?']) {
        return None;
    }
    Some(
        WINDOWS_PROGRAM_EXTENSIONS
            .iter()
            .find_map(|x| strip_suffix_ci(base, x))
            .unwrap_or(base),
    )
}

/// Extensions Windows runs as programs: `tree.com` is `tree`.
const WINDOWS_PROGRAM_EXTENSIONS: &[&str] = &[".exe", ".com", ".bat", ".cmd", ".scr", ".pif"];

fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let n = s.len().checked_sub(suffix.len())?;
    (s.is_char_boundary(n) && s[n..].eq_ignore_ascii_case(suffix)).then(|| &s[..n])
}

/// `hay` contains `needle` (given in lower case), ignoring ASCII case,
/// without allocating.
fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn starts_with_ci(hay: &str, prefix: &str) -> bool {
    hay.len() >= prefix.len()
        && hay.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// The ports a comparison selects, as an inclusive interval, when it is a
/// range or a bound.
fn port_interval(cmp: &Cmp) -> Option<(i64, i64)> {
    let bound = |i: usize| cmp.values.get(i).and_then(|v| v.as_int());
    match cmp.op {
        Op::Gt => Some((bound(0)? + 1, 65535)),
        Op::Gte => Some((bound(0)?, 65535)),
        Op::Lt => Some((0, bound(0)? - 1)),
        Op::Lte => Some((0, bound(0)?)),
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => {
            let a = bound(0)?;
            let b = bound(1)?;
            Some((
                if lo_inclusive { a } else { a + 1 },
                if hi_inclusive { b } else { b - 1 },
            ))
        }
        _ => None,
    }
}

/// Values of `cmp` that select a port of the set `ports`. A port the rule
/// names (an equality or a list) selects it; a range or a bound only when
/// everything it leaves open lies in one range of the set (`>= 1024` is a
/// selection of the ephemeral range, `< 49152` selects no particular
/// service). Ports in `excluded` (the rule excludes them on the same
/// concept) never count.
fn port_hits(cmp: &Cmp, ports: &[PortSpec], excluded: impl Fn(i64) -> bool) -> Vec<Span> {
    let mut hits = Vec::new();
    if cmp.op == Op::Eq {
        for v in &cmp.values {
            if let Some(p) = v.as_int() {
                if ports.iter().any(|r| (r.lo..=r.hi).contains(&p)) && !excluded(p) {
                    hits.push(v.span);
                }
            }
        }
    } else if let Some((lo, hi)) = port_interval(cmp) {
        let lo = lo.max(0);
        let hi = hi.min(65535);
        if lo <= hi
            && ports
                .iter()
                .any(|r| r.lo <= lo && hi <= r.hi && r.lo < r.hi)
        {
            hits.push(cmp.span);
        }
    }
    hits
}

/// What the matching needs to know about the rule besides one comparison.
struct RuleView<'a> {
    cmps: Vec<(&'a Cmp, bool)>,
    /// Ports the rule excludes, by concept.
    excluded_ports: Vec<(&'a str, i64)>,
    /// Lower-case names of the allowlist macros the rule excludes
    /// (`` NOT `kube_allowed_user_names` ``).
    allowlists: Vec<String>,
}

impl<'a> RuleView<'a> {
    fn new(logic: &'a Logic) -> Self {
        let mut cmps = Vec::new();
        logic.visit_cmps(&mut |c, neg| cmps.push((c, neg)));
        let mut excluded_ports = Vec::new();
        for (c, neg) in &cmps {
            if *neg && c.op == Op::Eq {
                if let Some(k) = c.field.concept.as_deref() {
                    excluded_ports
                        .extend(c.values.iter().filter_map(|v| v.as_int()).map(|p| (k, p)));
                }
            }
        }
        let mut allowlists = Vec::new();
        negated_macros(logic, false, &mut allowlists);
        allowlists.retain(|m| is_allowlist(m));
        RuleView {
            cmps,
            excluded_ports,
            allowlists,
        }
    }

    /// Does the rule exclude `port` on `concept`?
    fn excludes(&self, concept: &str, port: i64) -> bool {
        self.excluded_ports
            .iter()
            .any(|(k, p)| *k == concept && *p == port)
    }
}

/// Spans of the values of `cmp` that `m` matches, given the comparison's
/// polarity.
fn matcher_hits(m: &Matcher, cmp: &Cmp, negated: bool, view: Option<&RuleView<'_>>) -> Vec<Span> {
    // `absent` reads both polarities itself (`x: null` and `not x exists`).
    if m.negated != negated && !m.absent {
        return Vec::new();
    }
    let cm = &m.compiled;
    let concept = cmp.field.concept.as_deref();
    let concept_ok = cm.any_field || concept.is_some_and(|k| cm.concepts.iter().any(|c| c == k));
    if !concept_ok {
        return Vec::new();
    }
    if m.absent {
        let empty = cmp.op == Op::Eq
            && !cmp.values.is_empty()
            && cmp
                .values
                .iter()
                .all(|v| v.is_null() || v.text.trim().is_empty() || v.text.trim() == "-");
        let not_exists = cmp.op == Op::Exists;
        // The rule requires the field absent: a positive "equals empty or
        // null", or a negated "exists".
        return if (!negated && empty) || (negated && not_exists) {
            vec![cmp.span]
        } else {
            Vec::new()
        };
    }
    if m.any {
        let tests_value = !matches!(cmp.op, Op::Exists | Op::FieldRef)
            && cmp
                .values
                .iter()
                .any(|v| !v.is_null() && !v.text.trim().trim_matches('*').is_empty());
        return if tests_value {
            vec![cmp.span]
        } else {
            Vec::new()
        };
    }
    let mut hits = Vec::new();
    if !m.ports.is_empty() {
        let excluded = |p: i64| match (view, concept) {
            (Some(v), Some(k)) if !negated => v.excludes(k, p),
            _ => false,
        };
        hits.extend(port_hits(cmp, &m.ports, excluded));
    }
    if !cm.processes.is_empty()
        && matches!(cmp.op, Op::Eq | Op::EndsWith | Op::Contains | Op::Wildcard)
    {
        for v in &cmp.values {
            if let Some(name) = program_name(&v.text) {
                if cm.processes.iter().any(|p| p.eq_ignore_ascii_case(name)) {
                    hits.push(v.span);
                }
            }
        }
    }
    if !cm.values.is_empty() && !matches!(cmp.op, Op::Regex | Op::Exists | Op::FieldRef) {
        for v in &cmp.values {
            let t = v.text.trim().trim_matches('*');
            if cm.values.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                hits.push(v.span);
            }
        }
    }
    if !cm.patterns.is_empty() && !matches!(cmp.op, Op::Regex | Op::Exists | Op::FieldRef) {
        hits.extend(
            cmp.values
                .iter()
                .filter(|v| {
                    cm.pattern_hit(&v.text, matches!(cmp.op, Op::Contains | Op::StartsWith))
                })
                .map(|v| v.span),
        );
    }
    if !cm.contains.is_empty() && !matches!(cmp.op, Op::Exists | Op::FieldRef) {
        // A `contains` comparison on a flag written without its dash
        // (`*decode*`) matches every value holding `-decode` or `/decode`.
        let partial = matches!(cmp.op, Op::Contains | Op::Wildcard);
        for v in &cmp.values {
            let core = v
                .text
                .trim()
                .trim_matches('*')
                .trim()
                .trim_start_matches(['-', '/']);
            let hit = cm.contains.iter().any(|x| contains_ci(&v.text, x))
                || (partial
                    && core.len() >= 4
                    && cm
                        .contains_bare
                        .iter()
                        .any(|x| x.eq_ignore_ascii_case(core)));
            if hit {
                hits.push(v.span);
            }
        }
    }
    if !cm.prefixes.is_empty() && matches!(cmp.op, Op::Eq | Op::StartsWith | Op::Wildcard) {
        for v in &cmp.values {
            // A directory prefix (`/tmp/`) also matches the directory
            // itself (`process.working_directory: /tmp`).
            let t = v.text.trim();
            if cm.prefixes.iter().any(|x| {
                starts_with_ci(t, x)
                    || x.strip_suffix(['/', '\\'])
                        .is_some_and(|dir| !dir.is_empty() && t.eq_ignore_ascii_case(dir))
            }) {
                hits.push(v.span);
            }
        }
    }
    hits
}

/// A triggering value: its span and the comparison it belongs to.
#[derive(Debug, Clone)]
struct Hit<'a> {
    span: Span,
    cmp: &'a Cmp,
}

fn find_hits<'a>(m: &Matcher, view: &RuleView<'a>) -> Vec<Hit<'a>> {
    let mut out = Vec::new();
    for (c, neg) in &view.cmps {
        let spans = matcher_hits(m, c, *neg, Some(view));
        if m.only && spans.len() < c.values.len() {
            continue;
        }
        for span in spans {
            out.push(Hit { span, cmp: c });
        }
    }
    out
}

/// How well the rule already excludes the pattern.
enum Coverage<'a> {
    /// Not excluded at all.
    None,
    /// Excluded on the right concept, but not all benign actors.
    Partial {
        cmp: &'a Cmp,
        missing: Vec<String>,
    },
    Full,
}

fn handled_coverage<'a>(h: &Handled, cmps: &[(&'a Cmp, bool)], triggers: &[Span]) -> Coverage<'a> {
    let concepts = &h.compiled.concepts;
    let excl: Vec<&Cmp> = cmps
        .iter()
        .filter(|(c, neg)| {
            // A comparison that is itself part of the trigger (the rule
            // excludes sshd *to* be about other services) is not an
            // exclusion of the pattern.
            *neg && !triggers.contains(&c.span)
                && c.field
                    .concept
                    .as_deref()
                    .is_some_and(|k| concepts.iter().any(|c| c == k))
        })
        .map(|(c, _)| *c)
        .collect();
    let Some(first) = excl.first() else {
        return Coverage::None;
    };
    if h.values.is_empty() && h.processes.is_empty() {
        // "To or from the Internet" rules exclude private address ranges:
        // that scopes the rule, it does not exclude the organisation's
        // servers. Only an exclusion with some other value counts.
        // Excluding `root` or `SYSTEM` scopes the rule to other accounts;
        // it does not exclude the organisation's own actors either.
        let org_specific = excl.iter().any(|c| {
            c.values
                .iter()
                .any(|v| !is_private_range(&v.text) && !is_scoping_account(&v.text))
        });
        return if org_specific {
            Coverage::Full
        } else {
            Coverage::None
        };
    }
    let covers_value = |want: &str| {
        excl.iter().any(|c| {
            c.values.iter().any(|v| {
                v.text.trim().eq_ignore_ascii_case(want)
                    || (v.as_int().is_some() && v.as_int() == want.parse().ok())
            }) || port_range_covers(c, want)
        })
    };
    let covers_process = |want: &str| {
        excl.iter().any(|c| {
            c.values
                .iter()
                .any(|v| program_name(&v.text).is_some_and(|n| n.eq_ignore_ascii_case(want)))
        })
    };
    let mut missing = Vec::new();
    let mut covered = 0;
    for v in &h.values {
        if covers_value(v) {
            covered += 1;
        } else {
            missing.push(v.clone());
        }
    }
    for (p, norm) in h.processes.iter().zip(&h.compiled.processes) {
        if covers_process(norm) {
            covered += 1;
        } else {
            missing.push(p.clone());
        }
    }
    let total = h.values.len() + h.processes.len();
    let need = h.min.unwrap_or(total).min(total);
    if covered >= need {
        Coverage::Full
    } else {
        Coverage::Partial {
            cmp: first,
            missing,
        }
    }
}

/// One of the three private blocks of RFC 1918, as rules write them
/// (`10.0.0.0/8`, `172.16.*`, `192.168.0.0/16`).
fn is_rfc1918_block(text: &str) -> bool {
    let t = text.trim().trim_end_matches('*').trim_end_matches('.');
    let t = t.split('/').next().unwrap_or(t);
    t == "10"
        || t.starts_with("10.") && t.split('.').skip(1).all(|x| x == "0")
        || t == "192.168"
        || t.starts_with("192.168.") && t.split('.').skip(2).all(|x| x == "0")
        || t.strip_prefix("172.").is_some_and(|r| {
            let mut it = r.split('.');
            it.next()
                .and_then(|b| b.parse::<u8>().ok())
                .is_some_and(|b| (16..=31).contains(&b))
                && it.all(|x| x == "0")
        })
}

/// Whole private, loopback, link-local, multicast and other reserved
/// blocks as written in rules (`10.0.0.0/8`, `192.168.*`, `fe80::/10`).
/// Excluding these scopes a rule to the Internet; a narrower private range
/// or address (`10.20.0.53`) names the organisation's own hosts.
pub fn is_private_range(text: &str) -> bool {
    let t = text.trim().to_ascii_lowercase();
    let t = t.trim_end_matches('*').trim_end_matches('.');
    const BLOCKS: &[&str] = &[
        "10.0.0.0/8",
        "10",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "192.168",
        "127.0.0.0/8",
        "127",
        "169.254.0.0/16",
        "169.254",
        "100.64.0.0/10",
        "0.0.0.0/8",
        "0.0.0.0/32",
        "0.0.0.0",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "255.255.255.255",
        "255.255.255.255/32",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "127.0.0.1",
        "::1",
        "::1/128",
        "::",
        "::/128",
        "fe80::/10",
        "fe80:",
        "fe80",
        "fc00::/7",
        "fd00::/8",
        "ff00::/8",
        "::ffff:0:0/96",
        "64:ff9b::/96",
        "2001:db8::/32",
        "localhost",
    ];
    if BLOCKS.contains(&t) {
        return true;
    }
    // `172.16.*` … `172.31.*`
    if let Some(rest) = t.strip_prefix("172.") {
        if let Ok(b) = rest.parse::<u8>() {
            return (16..=31).contains(&b);
        }
    }
    false
}

fn port_range_covers(c: &Cmp, want: &str) -> bool {
    let Ok(p) = want.parse::<i64>() else {
        return false;
    };
    port_interval(c).is_some_and(|(lo, hi)| lo <= p && p <= hi)
}

/// Run the check on one rule.
pub fn check(
    ctx: &Context<'_>,
    file: &SourceFile,
    rule: &DetectionRule,
    display_path: &str,
) -> Vec<Finding> {
    assess(ctx, file, rule, display_path).findings
}

/// What the check decides on one rule: its findings, and the patterns
/// the rule's scope, intent and the patterns' `unless` leave open, whether
/// or not a trigger matched (the notes checks ask which patterns can apply
/// at all).
pub struct Assessment {
    pub findings: Vec<Finding>,
    pub open: BTreeSet<String>,
}

/// Run the check on one rule and say which patterns were open to it.
pub fn assess(
    ctx: &Context<'_>,
    file: &SourceFile,
    rule: &DetectionRule,
    display_path: &str,
) -> Assessment {
    let mut out = Assessment {
        findings: Vec::new(),
        open: BTreeSet::new(),
    };
    let Some(logic) = &rule.logic else {
        return out;
    };
    let view = RuleView::new(logic);
    let facts = RuleFacts::new(ctx.knowledge, rule, logic, display_path);
    for pattern in &ctx.knowledge.patterns {
        if blocked(&facts, &view, pattern) {
            continue;
        }
        out.open.insert(pattern.id.clone());
        if let Some(d) = check_pattern(ctx, file, rule, &view, &facts, pattern, display_path) {
            out.findings.push(d);
        }
    }
    out
}

/// Concepts that name who acted: an exclusion on one of them is an
/// exclusion of actors.
const ACTOR_CONCEPTS: &[&str] = &[
    "user.name",
    "user.id",
    "user.email",
    "cloud.actor.name",
    "kubernetes.audit.user.username",
    "service.account",
];

/// What the rule is about, read once per rule: its log source, platform,
/// type, address scope, intent and the constraints every match satisfies.
struct RuleFacts<'a> {
    /// Lower-case data words (logsource values, index patterns, datamodels).
    data: Vec<String>,
    platforms: Vec<Platform>,
    rule_type: Option<String>,
    internet: bool,
    internal: bool,
    /// Written for one specific threat (see `knowledge/intent.yml`).
    threat: bool,
    /// Positive comparisons on a parent that is the way in (a web server,
    /// a document reader): the rule watches what runs under it.
    entry_parents: Vec<Span>,
    /// Deprecated or unsupported: findings drop one level.
    retired: bool,
    /// The rule counts distinct accounts (`dc(TargetUserName) > 30`, a
    /// threshold cardinality on `user.name`): a few named accounts cannot
    /// make up such an alert, so excluding them explains nothing.
    distinct_accounts: bool,
    /// How the rule counts before it alerts.
    counts: Vec<CountKind>,
    /// The rule is a new-terms rule on the actor (a new-terms field is an
    /// identity: user name or id, cloud principal, service account).
    learned_actors: bool,
    /// The rule watches processes inside containers (Defend for
    /// Containers data, a positive test on `container.id`).
    container: bool,
    /// Positive comparisons every match of the rule satisfies, by concept.
    required: Vec<(&'a str, Vec<&'a Cmp>)>,
    /// The rule's title.
    title: &'a str,
}

impl<'a> RuleFacts<'a> {
    fn new(k: &Knowledge, rule: &'a DetectionRule, logic: &'a Logic, path: &str) -> Self {
        let data: Vec<String> = rule
            .meta
            .data
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        let tags: Vec<&str> = rule.meta.tags.iter().map(|t| t.value.as_str()).collect();
        let title = rule
            .meta
            .title
            .as_ref()
            .map(|t| t.value.as_str())
            .unwrap_or("");
        let path_l = path.replace('\\', "/").to_ascii_lowercase();
        let mut platforms = Vec::new();
        for p in [Platform::Windows, Platform::Linux, Platform::Macos] {
            let word = p.as_str();
            let in_data = data
                .iter()
                .any(|d| d == word || data_platform(d) == Some(p));
            let in_tags = tags
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&format!("os: {word}")));
            let mut in_logic = false;
            logic.visit_cmps(&mut |c, neg| {
                if !neg
                    && c.field.raw.eq_ignore_ascii_case("host.os.type")
                    && c.values.iter().any(|v| v.text.eq_ignore_ascii_case(word))
                {
                    in_logic = true;
                }
            });
            if in_data || in_tags || in_logic {
                platforms.push(p);
            }
        }
        let (internet, internal) = address_scope(logic, title);
        let status = rule
            .meta
            .status
            .as_ref()
            .map(|s| s.value.to_ascii_lowercase());
        let retired = matches!(status.as_deref(), Some("deprecated" | "unsupported"))
            || path_l
                .split('/')
                .any(|seg| seg == "deprecated" || seg == "unsupported");
        RuleFacts {
            platforms,
            rule_type: rule
                .meta
                .rule_type
                .as_ref()
                .map(|t| t.value.to_ascii_lowercase()),
            internet,
            internal,
            threat: threat_intent(k, &tags, title, &path_l)
                || notes_rule_out_benign(k, &rule.meta.falsepositives),
            entry_parents: entry_parents(k, logic),
            retired,
            counts: count_kinds(rule),
            distinct_accounts: rule.meta.aggregations.iter().any(|a| {
                a.distinct.iter().any(|f| {
                    k.fields
                        .concept_of(rule.schema, &f.value)
                        .is_some_and(|c| ACTOR_CONCEPTS.contains(&c))
                })
            }),
            learned_actors: rule.meta.aggregations.iter().any(|a| {
                a.kind == AggregationKind::NewTerms
                    && a.fields.iter().any(|f| {
                        k.fields
                            .concept_of(rule.schema, &f.value)
                            .is_some_and(|c| ACTOR_CONCEPTS.contains(&c))
                    })
            }),
            container: data.iter().any(|d| d.contains("cloud_defend")) || in_container(logic),
            required: required_constraints(logic),
            data,
            title,
        }
    }

    fn in_scope(&self, s: &Scope) -> bool {
        let reads = |words: &[String]| {
            words
                .iter()
                .any(|w| self.data.iter().any(|d| contains_ci(d, w)))
        };
        if !s.logsource.is_empty() && !self.data.is_empty() && !reads(&s.logsource) {
            return false;
        }
        if reads(&s.not_logsource) {
            return false;
        }
        if !s.platform.is_empty()
            && !self.platforms.is_empty()
            && !self.platforms.iter().any(|p| s.platform.contains(p))
        {
            return false;
        }
        if let Some(t) = &self.rule_type {
            if !s.rule_type.is_empty() && !s.rule_type.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                return false;
            }
            if s.not_rule_type.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                return false;
            }
        }
        if !s.counts.is_empty() && !s.counts.iter().any(|k| self.counts.contains(k)) {
            return false;
        }
        if s.not_counts.iter().any(|k| self.counts.contains(k)) {
            return false;
        }
        if s.not_titles.iter().any(|w| has_word(self.title, w)) {
            return false;
        }
        match s.address {
            Some(AddressScope::Internet) => self.internet,
            Some(AddressScope::Internal) => self.internal && !self.internet,
            None => true,
        }
    }

    /// The required comparisons on `concept`.
    fn required_on(&self, concept: &str) -> &[&'a Cmp] {
        self.required
            .iter()
            .find(|(k, _)| *k == concept)
            .map(|(_, v)| v.as_slice())
            .unwrap_or(&[])
    }
}

/// A positive comparison on `container.id`: the rule is about processes
/// inside containers.
fn in_container(logic: &Logic) -> bool {
    let mut yes = false;
    logic.visit_cmps(&mut |c, neg| {
        if !neg && c.field.raw.eq_ignore_ascii_case("container.id") {
            yes = true;
        }
    });
    yes
}

/// The platform a data-source name implies: Splunk's `wineventlog_security`,
/// `sysmon` and `powershell` macros read Windows logs, `linux_auditd` and
/// `sysmon_linux` Linux ones.
fn data_platform(data: &str) -> Option<Platform> {
    if data.contains("linux") || data.contains("auditd") {
        Some(Platform::Linux)
    } else if data.contains("macos") || data.contains("osx") {
        Some(Platform::Macos)
    } else if ["wineventlog", "sysmon", "powershell", "windows"]
        .iter()
        .any(|w| data.starts_with(w))
    {
        Some(Platform::Windows)
    } else {
        None
    }
}

/// Whether the rule is about traffic to or from the Internet (it excludes
/// private ranges on an address, keys on an external direction, or says so
/// in its title) and whether it is about internal traffic (it requires
/// private ranges).
fn address_scope(logic: &Logic, title: &str) -> (bool, bool) {
    let mut internet = contains_ci(title, "internet");
    let mut internal = false;
    logic.visit_cmps(&mut |c, neg| {
        let Some(k) = c.field.concept.as_deref() else {
            return;
        };
        if k == "network.direction" && !neg {
            if c.values.iter().any(|v| {
                ["inbound", "outbound", "external"]
                    .iter()
                    .any(|d| v.text.eq_ignore_ascii_case(d))
            }) {
                internet = true;
            }
            return;
        }
        if !matches!(k, "source.ip" | "destination.ip") {
            return;
        }
        // Excluding loopback or link-local alone says nothing about the
        // Internet; excluding the organisation's private blocks does.
        if neg && c.values.iter().any(|v| is_rfc1918_block(&v.text)) {
            internet = true;
        } else if !neg
            && c.values.iter().any(|v| is_rfc1918_block(&v.text))
            && c.values.iter().all(|v| is_private_range(&v.text))
        {
            internal = true;
        }
    });
    (internet, internal)
}

/// The rule carries a signal of the intent catalogue: a tag, a story, a
/// path or a title word.
fn threat_intent(k: &Knowledge, tags: &[&str], title: &str, path: &str) -> bool {
    let i = &k.intent;
    let tag = tags.iter().any(|t| {
        if let Some(story) = t.strip_prefix("analytic_story:") {
            return i.stories.iter().any(|s| contains_ci(story, s));
        }
        i.tags.iter().any(|p| starts_with_ci(t, p))
    });
    let in_path = i.paths.iter().any(|p| path.contains(p.as_str()));
    tag || in_path || i.titles.iter().any(|w| has_word(title, w))
}

/// For a rule that counts before it alerts: the exclusion drops events
/// before they are counted, and which fields the count is per.
fn counting_hint(rule: &DetectionRule) -> String {
    // A `stats … by` that only shapes the output (no threshold, no
    // distinct count) does not decide whether the rule alerts.
    let Some(a) = rule.meta.aggregations.iter().find(|a| {
        a.kind == AggregationKind::Threshold && (a.threshold.is_some() || !a.distinct.is_empty())
    }) else {
        return String::new();
    };
    let mut by: Vec<String> = a.fields.iter().map(|f| format!("`{}`", f.value)).collect();
    by.dedup();
    let per = if by.is_empty() {
        String::new()
    } else {
        format!(" per {}", by.join(", "))
    };
    let what = match a.distinct.first() {
        Some(d) => format!("distinct `{}`", d.value),
        None => "events".to_string(),
    };
    format!(", before the rule counts {what}{per}")
}

/// How the rule counts, in the scope's terms.
fn count_kinds(rule: &DetectionRule) -> Vec<CountKind> {
    let mut out = Vec::new();
    for a in &rule.meta.aggregations {
        let k = match a.kind {
            AggregationKind::NewTerms => CountKind::NewTerms,
            AggregationKind::Threshold if !a.distinct.is_empty() => CountKind::Distinct,
            AggregationKind::Threshold if a.threshold.is_some() => CountKind::Threshold,
            // Grouping for the output only.
            AggregationKind::Threshold => continue,
        };
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// The rule's own false-positive notes say no benign activity matches it
/// ("There is no known legitimate workflow that …"): a benign actor's
/// exclusion would only blind it.
fn notes_rule_out_benign(k: &Knowledge, notes: &[crate::rule::Meta<String>]) -> bool {
    notes.iter().any(|n| {
        let text = n.value.to_ascii_lowercase();
        k.intent.notes.iter().any(|p| text.contains(p.as_str()))
    })
}

/// Spans of positive comparisons that key the rule on an entry parent of
/// the intent catalogue.
fn entry_parents(k: &Knowledge, logic: &Logic) -> Vec<Span> {
    let mut out = Vec::new();
    logic.visit_cmps(&mut |c, neg| {
        let parent = matches!(
            c.field.concept.as_deref(),
            Some("process.parent.name" | "process.parent.executable")
        );
        if !neg
            && parent
            && c.values.iter().any(|v| {
                program_name(&v.text)
                    .is_some_and(|n| k.intent.parents.iter().any(|p| p.eq_ignore_ascii_case(n)))
            })
        {
            out.push(c.span);
        }
    });
    out
}

/// `text` contains `word` (lower case) at word boundaries, ignoring case.
fn has_word(text: &str, word: &str) -> bool {
    let (h, n) = (text.as_bytes(), word.as_bytes());
    if n.is_empty() || h.len() < n.len() {
        return false;
    }
    (0..=h.len() - n.len()).any(|i| {
        h[i..i + n.len()].eq_ignore_ascii_case(n)
            && (i == 0 || !h[i - 1].is_ascii_alphanumeric())
            && (i + n.len() == h.len() || !h[i + n.len()].is_ascii_alphanumeric())
    })
}

/// Positive comparisons that every match of the rule satisfies, grouped by
/// concept: everything under an `and`; under an `or`, the concepts every
/// branch constrains (any of their comparisons). Negative comparisons,
/// free-text keywords and what the parser could not model constrain
/// nothing.
fn required_constraints(logic: &Logic) -> Vec<(&str, Vec<&Cmp>)> {
    fn merge<'a>(into: &mut Vec<(&'a str, Vec<&'a Cmp>)>, from: Vec<(&'a str, Vec<&'a Cmp>)>) {
        for (k, cs) in from {
            match into.iter_mut().find(|(x, _)| *x == k) {
                Some((_, v)) => v.extend(cs),
                None => into.push((k, cs)),
            }
        }
    }
    match logic {
        Logic::Cmp(c) => match c.field.concept.as_deref() {
            Some(k) if !c.field.derived => vec![(k, vec![c])],
            _ => Vec::new(),
        },
        Logic::And(xs) => {
            let mut out = Vec::new();
            for x in xs {
                merge(&mut out, required_constraints(x));
            }
            out
        }
        Logic::Or(xs) => {
            let mut branches = xs.iter().map(required_constraints);
            let Some(mut out) = branches.next() else {
                return Vec::new();
            };
            for b in branches {
                out.retain(|(k, _)| b.iter().any(|(x, _)| x == k));
                for (k, cs) in b {
                    if let Some((_, v)) = out.iter_mut().find(|(x, _)| *x == k) {
                        v.extend(cs);
                    }
                }
            }
            out
        }
        Logic::Shared(inner) => required_constraints(inner),
        Logic::Not(_) | Logic::Keyword(_) | Logic::Opaque(_) => Vec::new(),
    }
}

/// The concepts whose required values decide whether an exclusion on
/// `concept` can matter: the concept itself, its name/path sibling, and
/// the host for a source address (a rule pinned to some hosts is pinned to
/// their addresses).
fn related_concepts(concept: &str) -> Vec<&str> {
    match concept {
        "process.name" | "process.executable" => vec!["process.name", "process.executable"],
        "process.parent.name" | "process.parent.executable" => {
            vec!["process.parent.name", "process.parent.executable"]
        }
        "source.ip" => vec!["source.ip", "host.name"],
        // A rule pinned to an account's SID is pinned to the account.
        "user.name" => vec!["user.name", "user.id"],
        other => vec![other],
    }
}

/// Built-in accounts a rule excludes to scope itself, not to exclude an
/// organisation's actors: `root` (uid `0`), `SYSTEM` and the service
/// identities, empty and placeholder names.
fn is_scoping_account(text: &str) -> bool {
    let t = text.trim().trim_matches(['*', '"']);
    if t.is_empty() {
        return true;
    }
    // `NT AUTHORITY\SYSTEM` is `SYSTEM`; a directory (`C:\Program Files\`)
    // is no account.
    let t = t.rsplit('\\').next().unwrap_or(t);
    !t.is_empty()
        && [
            "root",
            "0",
            "system",
            "s-1-5-18",
            "s-1-5-19",
            "s-1-5-20",
            "local service",
            "localservice",
            "network service",
            "networkservice",
            "nt authority",
            "-",
        ]
        .iter()
        .any(|a| t.eq_ignore_ascii_case(a))
}

/// `root` and uid `0` are one account: a rule on `user.id == "0"` is on
/// root.
fn account_key(concept: Option<&str>, text: &str) -> String {
    let t = text.trim();
    if concept == Some("user.id") && t == "0" {
        "root".to_string()
    } else {
        t.to_ascii_lowercase()
    }
}

/// Can an event the comparison `c` selects carry `value` (an exclusion
/// value, compared as the exclusion field's `op` would)? Unknown shapes
/// (regexes, ranges, addresses) answer yes.
fn value_meets(c: &Cmp, value: &str, program: bool) -> bool {
    let v = value.trim();
    if program {
        if let Some(name) = program_name(v) {
            return c
                .values
                .iter()
                .any(|x| program_name(&x.text).is_none_or(|n| n.eq_ignore_ascii_case(name)));
        }
    }
    c.values.iter().any(|x| {
        let t = x.text.trim();
        match c.op {
            Op::Eq if c.field.concept.as_deref() == Some("user.id") => {
                account_key(Some("user.id"), t) == account_key(None, v) || t.contains(['*', '?'])
            }
            Op::Eq => t.eq_ignore_ascii_case(v) || t.contains(['*', '?']),
            Op::Contains => contains_ci(v, &t.to_ascii_lowercase()),
            Op::StartsWith => starts_with_ci(v, t),
            Op::EndsWith => strip_suffix_ci(v, t).is_some(),
            _ => true,
        }
    })
}

/// Comparisons that pin a concept to particular values, as opposed to a
/// presence test or an address range. Programs are pinned only by exact
/// names (`Image|endswith: '/crontab'`): a prefix or a pattern (`/tmp/*`)
/// leaves room for the organisation's own programs inside it. Accounts
/// and hosts are pinned by any value test (`User|contains: AUTHORI`).
fn pins(c: &Cmp, program: bool) -> bool {
    let values_ok = !c.values.is_empty()
        && !c
            .values
            .iter()
            .any(|v| v.is_null() || v.text.trim().is_empty())
        && !c.values.iter().all(|v| is_rfc1918_block(&v.text));
    if !values_ok {
        return false;
    }
    if program {
        return matches!(c.op, Op::Eq | Op::EndsWith)
            && c.values.iter().all(|v| {
                !v.text.trim_start_matches('*').contains(['*', '?'])
                    && program_name(&v.text).is_some()
            });
    }
    matches!(
        c.op,
        Op::Eq | Op::Contains | Op::StartsWith | Op::EndsWith | Op::Wildcard | Op::Regex
    )
}

/// How an exclusion contradicts the rule it is suggested for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contradiction {
    /// The rule never selects the excluded values.
    NoOp,
    /// The excluded values cover everything the rule selects.
    Blinds,
    /// The rule pins the field and the values are the organisation's own
    /// (unknown): either of the above.
    Pinned,
}

/// Why the exclusion cannot help this rule: it excludes values the rule
/// never selects (a no-op), or everything the rule selects (it blinds the
/// rule). `None` when it narrows the rule as intended.
fn contradiction(
    ctx: &Context<'_>,
    facts: &RuleFacts<'_>,
    pattern: &Pattern,
) -> Option<Contradiction> {
    for spec in &pattern.exclusion.fields {
        if spec.narrows_trigger {
            continue;
        }
        let program = spec.concept.starts_with("process.");
        let required: Vec<&Cmp> = related_concepts(&spec.concept)
            .into_iter()
            .flat_map(|k| facts.required_on(k).iter().copied())
            .filter(|c| pins(c, program))
            .collect();
        if required.is_empty() {
            continue;
        }
        let known: Vec<&str> = match spec.fact.as_ref().and_then(|f| ctx.environment.get(f)) {
            Some(v) if !v.is_empty() => v.iter().map(String::as_str).collect(),
            _ => spec.values.iter().map(String::as_str).collect(),
        };
        if known.is_empty() {
            // The organisation's values are unknown: inside what the rule
            // pins they blind it, outside they do nothing.
            return Some(Contradiction::Pinned);
        }
        // Known values: a no-op when none of them can occur in the rule's
        // matches, blinding when they cover every value the rule requires.
        if !known
            .iter()
            .any(|v| required.iter().all(|c| value_meets(c, v, program)))
        {
            return Some(Contradiction::NoOp);
        }
        let covered = required.iter().all(|c| {
            c.values.iter().all(|x| {
                known
                    .iter()
                    .any(|v| match (program_name(&x.text), program_name(v)) {
                        (Some(a), Some(b)) if program => a.eq_ignore_ascii_case(b),
                        _ => {
                            account_key(c.field.concept.as_deref(), &x.text) == account_key(None, v)
                        }
                    })
            })
        });
        if covered {
            return Some(Contradiction::Blinds);
        }
    }
    None
}

/// One level lower, `hint` at the bottom.
fn lower(s: Severity) -> Severity {
    match s {
        Severity::Error => Severity::Warning,
        Severity::Warning => Severity::Info,
        Severity::Info | Severity::Hint => Severity::Hint,
    }
}

/// The trigger names one member of a long list (`hostname.exe` among the
/// fifty children of an Office rule): the rule is about a class of
/// programs, of which the pattern explains a small part.
fn broad_list(hits: &[Hit<'_>]) -> bool {
    hits.iter().all(|h| {
        let n = h.cmp.values.len();
        let matched = hits.iter().filter(|x| x.cmp.span == h.cmp.span).count();
        n > 10 && matched * 4 < n
    })
}

/// The rule's scope, intent or one of the pattern's `unless` matchers
/// keeps the pattern away from the rule, whatever its triggers say.
fn blocked(facts: &RuleFacts<'_>, view: &RuleView<'_>, pattern: &Pattern) -> bool {
    if !facts.in_scope(&pattern.scope) {
        return true;
    }
    if facts.threat && pattern.intent == IntentPolicy::Silence {
        return true;
    }
    // Inside a container every process runs as the image's user on a
    // pod-named host: an exclusion by account or host name selects nothing
    // there.
    if facts.container
        && !pattern.exclusion.fields.is_empty()
        && pattern
            .exclusion
            .fields
            .iter()
            .all(|f| matches!(f.concept.as_str(), "user.name" | "host.name"))
    {
        return true;
    }
    if facts.distinct_accounts
        && pattern
            .exclusion
            .fields
            .iter()
            .any(|f| related_concepts(&f.concept).contains(&"user.name"))
    {
        return true;
    }
    if pattern.unless.iter().any(|c| {
        !find_hits(&c.matcher, view).is_empty()
            && c.also.iter().all(|m| !find_hits(m, view).is_empty())
    }) {
        return true;
    }
    false
}

#[allow(clippy::too_many_arguments)]
fn check_pattern(
    ctx: &Context<'_>,
    file: &SourceFile,
    rule: &DetectionRule,
    view: &RuleView<'_>,
    facts: &RuleFacts<'_>,
    pattern: &Pattern,
    display_path: &str,
) -> Option<Finding> {
    let cmps = view.cmps.as_slice();
    let mut hits: Vec<Hit> = Vec::new();
    // Hits of each clause's own matcher (not of its `also` companions).
    let mut main_hits: Vec<Hit> = Vec::new();
    for clause in &pattern.trigger {
        let main = find_hits(&clause.matcher, view);
        if main.is_empty() {
            continue;
        }
        let mut also_hits = Vec::new();
        let mut ok = true;
        for m in &clause.also {
            let h = find_hits(m, view);
            if h.is_empty() {
                ok = false;
                break;
            }
            also_hits.extend(h);
        }
        if ok {
            main_hits.extend(main.iter().cloned());
            hits.extend(main);
            hits.extend(also_hits);
        }
    }
    if hits.is_empty() {
        return None;
    }
    hits.sort_by_key(|h| h.span);
    hits.dedup_by_key(|h| h.span);
    // A rule on what runs under a web server or a document reader: the
    // pattern's benign actor is not there, unless the pattern is about
    // that very parent.
    let entry_context = !facts.entry_parents.is_empty()
        && !hits
            .iter()
            .any(|h| facts.entry_parents.contains(&h.cmp.span));
    if entry_context && pattern.intent == IntentPolicy::Silence {
        return None;
    }

    // An allowlist macro the rule already excludes, for the kind of field
    // the exclusion names (`` NOT `kube_allowed_user_names` `` for an
    // account exclusion): the author gave the rule its tuning hook.
    if view
        .allowlists
        .iter()
        .any(|m| allowlist_covers(m, &pattern.exclusion.fields))
    {
        return None;
    }

    // Already handled?
    let mut partial: Option<(&Cmp, Vec<String>)> = None;
    let trigger_cmps: Vec<Span> = hits.iter().map(|h| h.cmp.span).collect();
    for h in &pattern.handled {
        match handled_coverage(h, cmps, &trigger_cmps) {
            Coverage::Full => return None,
            Coverage::Partial { cmp, missing } => {
                // A process exclusion that names none of the actors, on a
                // pattern that excludes accounts or hosts (the rule excludes
                // `apt-key` parents, the actors are build runners), is about
                // other false positives: the pattern's own exclusion stands.
                let none_named =
                    h.min.is_some() && missing.len() == h.values.len() + h.processes.len();
                let other_field = !pattern.exclusion.fields.is_empty()
                    && pattern
                        .exclusion
                        .fields
                        .iter()
                        .all(|f| matches!(f.concept.as_str(), "user.name" | "host.name"));
                if none_named && other_field {
                    continue;
                }
                if partial.is_none() {
                    partial = Some((cmp, missing));
                }
            }
            Coverage::None => {}
        }
    }
    // Extending an exclusion on a parent the rule pins elsewhere (`node`)
    // with the missing actors (`gitlab-runner`) changes nothing.
    if let Some((cmp, missing)) = &partial {
        if let Some(k) = cmp.field.concept.as_deref() {
            let program = k.starts_with("process.");
            let pinned: Vec<&Cmp> = related_concepts(k)
                .into_iter()
                .flat_map(|k| facts.required_on(k).iter().copied())
                .filter(|c| pins(c, program))
                .collect();
            if !pinned.is_empty()
                && !missing
                    .iter()
                    .any(|v| pinned.iter().all(|c| value_meets(c, v, program)))
            {
                return None;
            }
        }
    }
    // An exclusion that cannot narrow the rule is no advice at all.
    if partial.is_none() && contradiction(ctx, facts, pattern).is_some() {
        return None;
    }

    // The finding points at the trigger itself, not at a companion of
    // its `also` list.
    if let Some(i) = hits
        .iter()
        .position(|h| main_hits.iter().any(|m| m.span == h.span))
    {
        let first = hits.remove(i);
        hits.insert(0, first);
    }
    let primary = &hits[0];
    let value_text = if primary.span == primary.cmp.span {
        // The whole comparison triggered (an absent field, a range).
        let c = primary.cmp;
        let empty = c.op == Op::Exists
            || c.values
                .iter()
                .all(|v| v.is_null() || v.text.trim().is_empty());
        if empty {
            "no value".to_string()
        } else {
            c.values
                .iter()
                .map(|v| v.text.as_str())
                .collect::<Vec<_>>()
                .join(" to ")
        }
    } else {
        file.slice(primary.span).to_string()
    };
    let field = primary.cmp.field.raw.clone();
    let mut severity = pattern.severity;
    if broad_list(&main_hits) {
        // The pattern explains a small part of a rule about a class of
        // programs: its benign actor is not what the rule is about.
        return None;
    }
    if (facts.threat || entry_context) && pattern.intent == IntentPolicy::Lower {
        severity = lower(severity);
    }
    if facts.retired {
        severity = lower(severity);
    }
    // A new-terms rule on the actor alerts on an actor's first time only:
    // the administrators and pipelines that repeat are learnt by its
    // history window, and only the rare ones remain to exclude.
    if facts.learned_actors
        && pattern
            .exclusion
            .fields
            .iter()
            .any(|f| ACTOR_CONCEPTS.contains(&f.concept.as_str()))
    {
        severity = lower(severity);
    }
    let rule_ref = RuleRef {
        id: rule.meta.id.as_ref().map(|m| m.value.clone()),
        title: rule.meta.title.as_ref().map(|m| m.value.clone()),
    };
    let mut labels: Vec<Label> = hits[1..]
        .iter()
        .take(16)
        .map(|h| Label {
            span: h.span,
            position: Position::resolve(file, h.span),
            message: format!("also matches: {}", file.slice(h.span)),
        })
        .collect();

    let excl = match build_exclusion(ctx, rule, pattern, primary.cmp) {
        Ok(e) => e,
        Err(missing) if partial.is_none() => {
            let message = finding_message(pattern, &field, &value_text);
            let note = Some(format!(
                "{} Benign sources: {}.",
                pattern.rationale.trim(),
                pattern.benign.join("; ")
            ));
            let key = format!("{}|{}|{}", pattern.id, field, value_text);
            return Some(
                no_field_finding(
                    file,
                    rule,
                    pattern,
                    &missing,
                    severity,
                    message,
                    note,
                    primary.span,
                    labels,
                    display_path,
                    key,
                )
                .into(),
            );
        }
        Err(_) => Exclusion {
            name: pattern.exclusion.name.clone(),
            fields: Vec::new(),
        },
    };
    let trigger_spans: Vec<Span> = hits.iter().map(|h| h.cmp.span).collect();
    // A partly covered pattern is fixed by extending the existing
    // exclusion, not by adding a second one: no suggestion then. The
    // rendering stage writes the proposal in the rule's language.
    let proposal = partial.is_none().then(|| Proposal {
        exclusion: excl,
        triggers: trigger_spans,
        summary: format!("{}{}", pattern.exclusion.summary, counting_hint(rule)),
        facts: pattern
            .exclusion
            .fields
            .iter()
            .map(|f| f.fact.clone())
            .collect(),
    });

    let note = Some(format!(
        "{} Benign sources: {}.",
        pattern.rationale.trim(),
        pattern.benign.join("; ")
    ));

    let (severity, message, help, span) = if let Some((cmp, missing)) = partial {
        labels.insert(
            0,
            Label {
                span: primary.span,
                position: Position::resolve(file, primary.span),
                message: "triggers the pattern".into(),
            },
        );
        let msg = format!(
            "the exclusion on `{}` does not cover the benign actors of `{}`",
            cmp.field.raw, pattern.id
        );
        let help = format!(
            "extend the existing exclusion{}",
            if missing.is_empty() {
                String::new()
            } else {
                format!(" with {}", missing.join(", "))
            }
        );
        (Severity::Info, msg, help, cmp.span)
    } else {
        let msg = finding_message(pattern, &field, &value_text);
        let help = format!("{}{}", pattern.exclusion.summary, counting_hint(rule));
        (severity, msg, help, primary.span)
    };

    let diagnostic = Diagnostic {
        code: Code::KnownFpPattern,
        pattern: Some(pattern.id.clone()),
        severity,
        message,
        note,
        help: Some(help),
        file: display_path.to_string(),
        format: Some(rule.format),
        rule: Some(rule_ref),
        span,
        position: Position::resolve(file, span),
        labels,
        suggestion: None,
        key: format!("{}|{}|{}", pattern.id, field, value_text),
    };
    Some(Finding {
        diagnostic,
        proposal,
    })
}

/// The finding's message: the pattern's own, or the field, the value and
/// the title.
fn finding_message(pattern: &Pattern, field: &str, value: &str) -> String {
    match &pattern.message {
        Some(t) => t.replace("{field}", field).replace("{value}", value),
        None => format!(
            "`{field}` matches `{value}`: {}",
            pattern.title.to_lowercase()
        ),
    }
}

/// Is the rule about Windows (for writing `\name` rather than `/name`)?
fn windows_rule(rule: &DetectionRule) -> bool {
    let data = rule.meta.data.iter().any(|d| d.contains("windows"));
    let mut backslash = false;
    if let Some(l) = &rule.logic {
        l.visit_cmps(&mut |c, _| {
            if c.values
                .iter()
                .any(|v| v.text.contains('\\') || v.text.to_ascii_lowercase().ends_with(".exe"))
            {
                backslash = true;
            }
        });
    }
    data || backslash
}

/// Pick the field name for `concept` in the rule's schema, in the naming
/// family of the triggering field where the table allows it.
fn field_name(
    ctx: &Context<'_>,
    rule: &DetectionRule,
    concept: &str,
    trigger: &Cmp,
) -> Option<String> {
    let table = &ctx.knowledge.fields;
    let entry = table.concepts.get(concept)?;
    let names = match rule.schema {
        Schema::Sigma => &entry.sigma,
        Schema::Ecs => &entry.ecs,
        Schema::Splunk => &entry.splunk,
    };
    if names.is_empty() {
        return if rule.schema == Schema::Ecs {
            Some(concept.to_string())
        } else {
            None
        };
    }
    if rule.schema == Schema::Splunk {
        // A search on a data source with its own names (Security Lake's
        // OCSF events) gets that source's name.
        if let Some(n) = entry.splunk_sources.iter().find_map(|(src, n)| {
            rule.meta
                .data
                .iter()
                .any(|d| contains_ci(d, src))
                .then(|| n.clone())
        }) {
            return Some(n);
        }
        // A search on datamodel fields gets the name in the same datamodel
        // object (`Authentication.action` → `Authentication.user`); a search
        // on plain CIM or raw names (after `drop_dm_object_name`) the plain
        // name.
        let plain = || names.iter().find(|n| !n.contains('.')).cloned();
        return match trigger.field.raw.split_once('.') {
            Some((object, _)) => names
                .iter()
                .find(|n| n.split_once('.').is_some_and(|(o, _)| o == object))
                .cloned()
                .or_else(plain)
                .or_else(|| names.first().cloned()),
            None => plain().or_else(|| names.first().cloned()),
        };
    }
    // Same position in the list as the trigger field in its own list.
    if let Some(tc) = trigger
        .field
        .concept
        .as_deref()
        .and_then(|c| table.concepts.get(c))
    {
        let tnames = match rule.schema {
            Schema::Sigma => &tc.sigma,
            Schema::Ecs => &tc.ecs,
            Schema::Splunk => &tc.splunk,
        };
        if let Some(i) = tnames
            .iter()
            .position(|n| n.eq_ignore_ascii_case(&trigger.field.raw))
        {
            if let Some(n) = names.get(i) {
                return Some(n.clone());
            }
        }
    }
    names.first().cloned()
}

fn values_for(ctx: &Context<'_>, spec: &ExclusionFieldSpec) -> Vec<ExclusionValue> {
    if let Some(fact) = &spec.fact {
        if let Some(vals) = ctx.environment.get(fact) {
            if !vals.is_empty() {
                return vals
                    .iter()
                    .map(|v| ExclusionValue {
                        numeric: v.parse::<i64>().is_ok(),
                        text: v.clone(),
                        origin: ValueOrigin::Fact,
                    })
                    .collect();
            }
        }
    }
    if !spec.values.is_empty() {
        return spec
            .values
            .iter()
            .map(|v| ExclusionValue {
                numeric: v.parse::<i64>().is_ok(),
                text: v.clone(),
                origin: ValueOrigin::Catalogue,
            })
            .collect();
    }
    vec![ExclusionValue {
        text: spec
            .placeholder
            .clone()
            .unwrap_or_else(|| format!("<{}>", spec.concept)),
        numeric: false,
        origin: ValueOrigin::Placeholder,
    }]
}

/// Does the rule's log source carry the field `name` for `concept`?
/// Sigma: SigmaHQ's field list of the rule's log source (when the taxonomy
/// lists one). ECS: network fields are not in process-only indices.
/// Splunk: a datamodel search only has fields of its own object.
fn field_available(ctx: &Context<'_>, rule: &DetectionRule, concept: &str, name: &str) -> bool {
    let network = concept.starts_with("source.") || concept.starts_with("destination.");
    match rule.schema {
        Schema::Sigma => match ctx.knowledge.sigma_logsources.fields_for(&rule.meta.data) {
            Some(list) => list.iter().any(|f| f.eq_ignore_ascii_case(name)),
            None => true,
        },
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
        Schema::Splunk => match &rule.anchors.datamodel {
            Some(object) if object.eq_ignore_ascii_case("Processes") => !network,
            Some(object) if object.eq_ignore_ascii_case("All_Traffic") => {
                !concept.starts_with("process.")
            }
            _ => true,
        },
    }
}

/// The pattern's exclusion, with field names of the rule's schema and values
/// from the environment, the defaults, or a placeholder. `Err` names the
/// concepts the rule's log source has no field for.
fn build_exclusion(
    ctx: &Context<'_>,
    rule: &DetectionRule,
    pattern: &Pattern,
    trigger: &Cmp,
) -> Result<Exclusion, Vec<String>> {
    let mut fields = Vec::new();
    let mut missing = Vec::new();
    let schema = SchemaName::of(rule.schema);
    for spec in &pattern.exclusion.fields {
        let mut values = values_for(ctx, spec);
        let mut op = spec.op.op();
        let overridden = spec
            .overrides
            .iter()
            .find(|o| {
                o.schema == schema
                    && (o.when_trigger.is_empty()
                        || o.when_trigger
                            .iter()
                            .any(|t| t.eq_ignore_ascii_case(&trigger.field.raw)))
            })
            .map(|o| o.field.clone());
        let mut concept = spec.concept.as_str();
        let name = match overridden.or_else(|| field_name(ctx, rule, &spec.concept, trigger)) {
            Some(n) => n,
            None => {
                // No field for a program *name* in this schema (Sigma):
                // match the executable path's last component instead.
                let fallback = match spec.concept.as_str() {
                    "process.name" => Some("process.executable"),
                    "process.parent.name" => Some("process.parent.executable"),
                    _ => None,
                };
                match fallback.and_then(|f| field_name(ctx, rule, f, trigger).map(|n| (f, n))) {
                    Some((f, n)) => {
                        concept = f;
                        let sep = if windows_rule(rule) { '\\' } else { '/' };
                        for v in &mut values {
                            if !v.is_placeholder() {
                                let windows = sep == '\\';
                                let exe = windows && !v.text.to_ascii_lowercase().ends_with(".exe");
                                v.text =
                                    format!("{sep}{}{}", v.text, if exe { ".exe" } else { "" });
                            }
                        }
                        op = Op::EndsWith;
                        n
                    }
                    None => spec.concept.clone(),
                }
            }
        };
        let name = if field_available(ctx, rule, concept, &name) {
            Some(name)
        } else {
            // Another name of the concept that this log source does carry.
            other_names(ctx, rule.schema, concept)
                .into_iter()
                .find(|n| field_available(ctx, rule, concept, n))
        };
        match name {
            Some(field) => fields.push(ExclusionField { field, op, values }),
            None => missing.push(spec.concept.clone()),
        }
    }
    if missing.is_empty() {
        Ok(Exclusion {
            name: pattern.exclusion.name.clone(),
            fields,
        })
    } else {
        Err(missing)
    }
}

/// Every name of `concept` in `schema`, in table order.
fn other_names(ctx: &Context<'_>, schema: Schema, concept: &str) -> Vec<String> {
    let Some(e) = ctx.knowledge.fields.concepts.get(concept) else {
        return Vec::new();
    };
    let list = match schema {
        Schema::Sigma => &e.sigma,
        Schema::Ecs => &e.ecs,
        Schema::Splunk => &e.splunk,
    };
    let mut out: Vec<String> = Vec::new();
    for n in list {
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

/// The finding for a pattern whose exclusion this log source cannot
/// express: the situation is real, the catalogue's field is not there.
#[allow(clippy::too_many_arguments)]
fn no_field_finding(
    file: &SourceFile,
    rule: &DetectionRule,
    pattern: &Pattern,
    missing: &[String],
    severity: Severity,
    message: String,
    note: Option<String>,
    primary: Span,
    labels: Vec<Label>,
    display_path: &str,
    key: String,
) -> Diagnostic {
    let mut help = format!(
        "{}: this rule's log source has no field for {}, so no exclusion is suggested",
        pattern.exclusion.summary,
        missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(" and ")
    );
    if !pattern.exclusion.alternatives.is_empty() {
        help.push_str("; instead: ");
        help.push_str(&pattern.exclusion.alternatives.join("; or "));
    }
    Diagnostic {
        code: Code::KnownFpPattern,
        pattern: Some(pattern.id.clone()),
        severity,
        message,
        note,
        help: Some(help),
        file: display_path.to_string(),
        format: Some(rule.format),
        rule: Some(RuleRef {
            id: rule.meta.id.as_ref().map(|m| m.value.clone()),
            title: rule.meta.title.as_ref().map(|m| m.value.clone()),
        }),
        span: primary,
        position: Position::resolve(file, primary),
        labels,
        suggestion: None,
        key,
    }
}

/// Names of the SPL macros in negative position (`` NOT `x` ``), lower-cased.
fn negated_macros(logic: &Logic, negated: bool, out: &mut Vec<String>) {
    match logic {
        Logic::And(c) | Logic::Or(c) => c.iter().for_each(|x| negated_macros(x, negated, out)),
        Logic::Not(x) => negated_macros(x, !negated, out),
        Logic::Shared(x) => negated_macros(x, negated, out),
        Logic::Opaque(o) if negated && o.reason == "macro" => {
            out.push(o.text.trim_matches('`').to_ascii_lowercase())
        }
        _ => {}
    }
}

/// Words of a macro name (split at `_`, `-`, `(`, spaces).
fn macro_words(name: &str) -> impl Iterator<Item = &str> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A macro whose name says it lists what is allowed: `allowed`,
/// `allowlist`, `whitelist`, `approved`, `trusted`, `known`, `legit…`.
fn is_allowlist(name: &str) -> bool {
    const WORDS: &[&str] = &[
        "allow",
        "allowed",
        "allowlist",
        "whitelist",
        "whitelisted",
        "approved",
        "trusted",
        "known",
        "legit",
        "legitimate",
        "sanctioned",
        "benign",
    ];
    macro_words(name).any(|w| WORDS.contains(&w))
}

/// Does the allowlist macro `name` list the kind of thing `fields`
/// exclude? Judged by the words of its name: `user`, `account`,
/// `principal`, `group` for accounts; `ip`, `src`, `cidr`, `network`,
/// `host` for addresses; `host`, `server`, `dest` for host names;
/// `process`, `image`, `binary`, `parent`, `path` for programs.
fn allowlist_covers(name: &str, fields: &[ExclusionFieldSpec]) -> bool {
    let words: Vec<&str> = macro_words(name).collect();
    let has = |ws: &[&str]| {
        words
            .iter()
            .any(|w| ws.iter().any(|x| w.trim_end_matches('s') == *x))
    };
    !fields.is_empty()
        && fields.iter().all(|f| match f.concept.as_str() {
            "user.name"
            | "user.id"
            | "user.email"
            | "cloud.actor.name"
            | "kubernetes.audit.user.username" => has(&[
                "user",
                "username",
                "account",
                "principal",
                "identity",
                "group",
                "admin",
            ]),
            "source.ip" | "destination.ip" => has(&[
                "ip", "src", "source", "cidr", "network", "subnet", "host", "addr", "address",
            ]),
            "host.name" => has(&["host", "hostname", "server", "dest", "computer", "endpoint"]),
            c if c.starts_with("process.") => {
                has(&["process", "image", "binary", "parent", "path", "program"])
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(concept: &str) -> ExclusionFieldSpec {
        serde_saphyr::from_str(&format!("concept: {concept}")).expect("field spec")
    }

    #[test]
    fn allowlist_macros_cover_the_kind_of_field_they_name() {
        assert!(is_allowlist("kube_allowed_user_names"));
        assert!(is_allowlist("known_admin_accounts"));
        assert!(is_allowlist("dns_server_allowlist"));
        assert!(!is_allowlist("kube_audit"));
        assert!(!is_allowlist("cloudtrail"));
        assert!(!is_allowlist("security_content_summariesonly"));
        let user = [spec("user.name")];
        let k8s = [spec("kubernetes.audit.user.username")];
        let ip = [spec("source.ip")];
        assert!(allowlist_covers("kube_allowed_user_names", &k8s));
        assert!(allowlist_covers("kube_allowed_user_groups", &k8s));
        assert!(allowlist_covers("known_admin_accounts", &user));
        assert!(!allowlist_covers("kube_allowed_locations", &k8s));
        assert!(!allowlist_covers("kube_allowed_user_names", &ip));
        assert!(allowlist_covers("dns_server_allowlist_src_ips", &ip));
        assert!(!allowlist_covers("known_admin_accounts", &[]));
        // Every field of the exclusion must be listed.
        assert!(!allowlist_covers(
            "allowed_users",
            &[spec("user.name"), spec("source.ip")]
        ));
    }

    #[test]
    fn program_names_from_paths_and_patterns() {
        assert_eq!(program_name("\\nmap.exe"), Some("nmap"));
        assert_eq!(program_name("/usr/bin/nmap"), Some("nmap"));
        assert_eq!(program_name("*\\NMAP.EXE"), Some("NMAP"));
        assert_eq!(program_name("C:\\Tools\\"), None);
        assert_eq!(program_name("*nm?p*"), None);
        assert_eq!(
            program_name("C:\\Windows\\System32\\tree.com"),
            Some("tree")
        );
        assert_eq!(program_name("\\run.BAT"), Some("run"));
    }

    #[test]
    fn scoping_accounts_are_not_exclusions() {
        for a in [
            "root",
            "0",
            "SYSTEM",
            "NT AUTHORITY\\SYSTEM",
            "-",
            "",
            "*Local Service*",
        ] {
            assert!(is_scoping_account(a), "{a}");
        }
        for a in ["jenkins", "C:\\Program Files\\", "svc-backup", "10"] {
            assert!(!is_scoping_account(a), "{a}");
        }
    }

    #[test]
    fn platforms_from_data_source_names() {
        assert_eq!(
            data_platform("wineventlog_security"),
            Some(Platform::Windows)
        );
        assert_eq!(data_platform("sysmon eventid 1"), Some(Platform::Windows));
        assert_eq!(
            data_platform("sysmon for linux eventid 1"),
            Some(Platform::Linux)
        );
        assert_eq!(data_platform("linux_auditd"), Some(Platform::Linux));
        assert_eq!(data_platform("cloudtrail"), None);
    }

    #[test]
    fn contains_matches_flags_written_without_their_dash() {
        use crate::rule::{Field, Value};
        let mut m = Matcher {
            concepts: vec!["process.command_line".into()],
            contains: vec!["-decode".into(), "query user".into()],
            ..Matcher::default()
        };
        m.compile();
        let cmp = |op: Op, v: &str| {
            let mut f = Field::new("CommandLine", Span::new(0, 1));
            f.concept = Some("process.command_line".into());
            Cmp::new(
                f,
                op,
                vec![Value::string(v, Span::new(2, 3))],
                Span::new(0, 3),
            )
        };
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Contains, "decode"), false, None).len(),
            1
        );
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Contains, "certutil -decode x"), false, None).len(),
            1
        );
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Eq, "decode"), false, None).len(),
            0
        );
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Contains, "user"), false, None).len(),
            0
        );
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Contains, "decode"), true, None).len(),
            0
        );
    }

    fn port_cmp(op: Op, vals: &[i64]) -> Cmp {
        use crate::rule::{Field, Value};
        let mut f = Field::new("destination.port", Span::new(0, 1));
        f.concept = Some("destination.port".into());
        let values = vals
            .iter()
            .enumerate()
            .map(|(i, v)| Value::guess(v.to_string(), Span::new(10 + i, 11 + i)))
            .collect();
        Cmp::new(f, op, values, Span::new(0, 20))
    }

    #[test]
    fn ports_match_what_the_rule_names_not_what_a_bound_leaves_open() {
        let ftp = [PortSpec { lo: 20, hi: 21 }];
        let eph = [PortSpec {
            lo: 1024,
            hi: 65535,
        }];
        assert_eq!(
            port_hits(&port_cmp(Op::Eq, &[21, 80]), &ftp, |_| false).len(),
            1
        );
        assert!(port_hits(&port_cmp(Op::Eq, &[21]), &ftp, |p| p == 21).is_empty());
        // `< 49152` leaves FTP open but selects no particular service.
        assert!(port_hits(&port_cmp(Op::Lt, &[49152]), &ftp, |_| false).is_empty());
        assert!(port_hits(&port_cmp(Op::Lt, &[49152]), &eph, |_| false).is_empty());
        // `>= 1024` is a selection of the ephemeral range.
        assert_eq!(
            port_hits(&port_cmp(Op::Gte, &[1024]), &eph, |_| false).len(),
            1
        );
        let vnc = port_cmp(
            Op::Range {
                lo_inclusive: true,
                hi_inclusive: true,
            },
            &[5800, 5810],
        );
        assert!(port_hits(&vnc, &ftp, |_| false).is_empty());
        assert_eq!(port_hits(&vnc, &eph, |_| false).len(), 1);
    }

    #[test]
    fn words_and_case_insensitive_search_without_allocation() {
        assert!(has_word("Exploit of CVE-2021-44228", "cve"));
        assert!(has_word("Possible Web Shell Usage", "web shell"));
        assert!(!has_word("Execution via Cvent Agent", "cve"));
        assert!(contains_ci("C:\\Windows\\CertUtil.exe", "certutil"));
        assert!(!contains_ci("cert", "certutil"));
        assert!(starts_with_ci("/TMP/x", "/tmp/"));
        assert_eq!(strip_suffix_ci("NMAP.EXE", ".exe"), Some("NMAP"));
    }

    #[test]
    fn only_rfc1918_blocks_scope_a_rule_to_the_internet() {
        for p in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "192.168.*",
            "10.*",
        ] {
            assert!(is_rfc1918_block(p), "{p}");
        }
        for p in [
            "127.0.0.1",
            "::1",
            "10.20.0.53",
            "169.254.0.0/16",
            "172.32.0.0/12",
        ] {
            assert!(!is_rfc1918_block(p), "{p}");
        }
    }

    #[test]
    fn private_ranges_are_recognised() {
        for p in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.*",
            "127.0.0.1",
            "169.254.0.0/16",
            "fe80::/10",
            "::1",
            "fc00::/7",
            "224.0.0.0/4",
        ] {
            assert!(is_private_range(p), "{p}");
        }
        for p in [
            "8.8.8.8",
            "172.32.0.1",
            "203.0.113.5x",
            "2a00:1450::1",
            "<your DNS servers>",
        ] {
            assert!(!is_private_range(p), "{p}");
        }
    }
}
