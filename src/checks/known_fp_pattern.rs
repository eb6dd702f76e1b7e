//! `RL201 known-fp-pattern`: the rule's logic matches a known
//! false-positive pattern of the catalogue and does not exclude it.

use super::proposal::{Exclusion, ExclusionField, ExclusionValue, Finding, Proposal, ValueOrigin};
use super::{Check, CheckContext, Code};
use crate::declare_check;
use crate::diagnostic::{Diagnostic, Label, Position, RuleRef, Severity};
use crate::knowledge::{ExclusionFieldSpec, Handled, Knowledge, Matcher, Pattern};
use crate::rule::{Cmp, DetectionRule, Logic, Op, Schema};
use crate::source::{SourceFile, Span};

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

/// Concepts that also count for a process-name matcher.
fn widen(concepts: &[String], by_name: bool) -> Vec<&str> {
    let mut out: Vec<&str> = concepts.iter().map(String::as_str).collect();
    if by_name {
        for c in concepts {
            match c.as_str() {
                "process.name" => {
                    out.extend(["process.executable", "process.pe.original_file_name"])
                }
                "process.executable" => {
                    out.extend(["process.name", "process.pe.original_file_name"])
                }
                "process.parent.name" => out.push("process.parent.executable"),
                "process.parent.executable" => out.push("process.parent.name"),
                _ => {}
            }
        }
    }
    out
}

/// The program name a value stands for: last path component, lower-case,
/// wildcards and a trailing `.exe` removed. `None` when the value is not a
/// plain name or path.
pub fn program_name(text: &str) -> Option<String> {
    let t = text.trim().trim_matches('"');
    let t = t.trim_start_matches('*');
    let base = t.rsplit(['\\', '/']).next().unwrap_or(t);
    let base = base.trim_end_matches('*');
    if base.is_empty() || base.contains(['*', '?']) {
        return None;
    }
    let lower = base.to_ascii_lowercase();
    Some(
        lower
            .strip_suffix(".exe")
            .map(str::to_string)
            .unwrap_or(lower),
    )
}

fn norm_name(s: &str) -> String {
    let l = s.to_ascii_lowercase();
    l.strip_suffix(".exe").map(str::to_string).unwrap_or(l)
}

fn port_overlap(cmp: &Cmp, lo: i64, hi: i64) -> Vec<Span> {
    let mut hits = Vec::new();
    let bound = |i: usize| cmp.values.get(i).and_then(|v| v.as_int());
    match cmp.op {
        Op::Eq => {
            for v in &cmp.values {
                if let Some(p) = v.as_int() {
                    if (lo..=hi).contains(&p) {
                        hits.push(v.span);
                    }
                }
            }
        }
        Op::Gt | Op::Gte => {
            if let Some(b) = bound(0) {
                let from = if cmp.op == Op::Gt { b + 1 } else { b };
                if from <= hi && from <= 65535 {
                    hits.push(cmp.values[0].span);
                }
            }
        }
        Op::Lt | Op::Lte => {
            if let Some(b) = bound(0) {
                let to = if cmp.op == Op::Lt { b - 1 } else { b };
                if to >= lo && to >= 0 {
                    hits.push(cmp.values[0].span);
                }
            }
        }
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => {
            if let (Some(a), Some(b)) = (bound(0), bound(1)) {
                let a = if lo_inclusive { a } else { a + 1 };
                let b = if hi_inclusive { b } else { b - 1 };
                if a <= hi && b >= lo && a <= b {
                    hits.push(cmp.span);
                }
            }
        }
        _ => {}
    }
    hits
}

/// Spans of the values of `cmp` that `m` matches, given the comparison's
/// polarity.
fn matcher_hits(m: &Matcher, cmp: &Cmp, negated: bool) -> Vec<Span> {
    // `absent` reads both polarities itself (`x: null` and `not x exists`).
    if m.negated != negated && !m.absent {
        return Vec::new();
    }
    let by_name = !m.processes.is_empty();
    let Some(concept) = cmp.field.concept.as_deref() else {
        return Vec::new();
    };
    if !widen(&m.concepts, by_name).contains(&concept) {
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
    let mut hits = Vec::new();
    for p in &m.ports {
        hits.extend(port_overlap(cmp, p.lo, p.hi));
    }
    if !m.processes.is_empty()
        && matches!(cmp.op, Op::Eq | Op::EndsWith | Op::Contains | Op::Wildcard)
    {
        for v in &cmp.values {
            if let Some(name) = program_name(&v.text) {
                if m.processes.iter().any(|p| norm_name(p) == name) {
                    hits.push(v.span);
                }
            }
        }
    }
    if !m.values.is_empty() && !matches!(cmp.op, Op::Regex | Op::Exists | Op::FieldRef) {
        for v in &cmp.values {
            let t = v.text.trim().trim_matches('*');
            if m.values.iter().any(|x| x.eq_ignore_ascii_case(t)) {
                hits.push(v.span);
            }
        }
    }
    if !m.contains.is_empty() && !matches!(cmp.op, Op::Exists | Op::FieldRef) {
        // A `contains` comparison on a flag written without its dash
        // (`*decode*`) matches every value holding `-decode` or `/decode`.
        let partial = matches!(cmp.op, Op::Contains | Op::Wildcard);
        let bare = |s: &str| s.trim().trim_start_matches(['-', '/']).to_string();
        for v in &cmp.values {
            let t = v.text.to_ascii_lowercase();
            let core = bare(t.trim_matches('*'));
            if m.contains.iter().any(|x| {
                let x = x.to_ascii_lowercase();
                t.contains(&x) || (partial && core.len() >= 4 && bare(&x) == core)
            }) {
                hits.push(v.span);
            }
        }
    }
    if !m.prefixes.is_empty() && matches!(cmp.op, Op::Eq | Op::StartsWith | Op::Wildcard) {
        for v in &cmp.values {
            let t = v.text.to_ascii_lowercase();
            if m.prefixes
                .iter()
                .any(|x| t.starts_with(&x.to_ascii_lowercase()))
            {
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

fn all_cmps(logic: &Logic) -> Vec<(&Cmp, bool)> {
    let mut out = Vec::new();
    logic.visit_cmps(&mut |c, neg| out.push((c, neg)));
    out
}

fn find_hits<'a>(m: &Matcher, cmps: &[(&'a Cmp, bool)]) -> Vec<Hit<'a>> {
    let mut out = Vec::new();
    for (c, neg) in cmps {
        for span in matcher_hits(m, c, *neg) {
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
    let by_name = !h.processes.is_empty();
    let concepts = widen(&h.concepts, by_name);
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
                    .is_some_and(|k| concepts.contains(&k))
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
        let org_specific = excl
            .iter()
            .any(|c| c.values.iter().any(|v| !is_private_range(&v.text)));
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
                .any(|v| program_name(&v.text).is_some_and(|n| n == norm_name(want)))
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
    for p in &h.processes {
        if covers_process(p) {
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
    !port_overlap(c, p, p).is_empty() && c.op != Op::Eq
}

/// Run the check on one rule.
pub fn check(
    ctx: &Context<'_>,
    file: &SourceFile,
    rule: &DetectionRule,
    display_path: &str,
) -> Vec<Finding> {
    let Some(logic) = &rule.logic else {
        return Vec::new();
    };
    let cmps = all_cmps(logic);
    let mut out = Vec::new();
    for pattern in &ctx.knowledge.patterns {
        if let Some(d) = check_pattern(ctx, file, rule, &cmps, pattern, display_path) {
            out.push(d);
        }
    }
    out
}

fn check_pattern(
    ctx: &Context<'_>,
    file: &SourceFile,
    rule: &DetectionRule,
    cmps: &[(&Cmp, bool)],
    pattern: &Pattern,
    display_path: &str,
) -> Option<Finding> {
    let mut hits: Vec<Hit> = Vec::new();
    for clause in &pattern.trigger {
        let main = find_hits(&clause.matcher, cmps);
        if main.is_empty() {
            continue;
        }
        let mut also_hits = Vec::new();
        let mut ok = true;
        for m in &clause.also {
            let h = find_hits(m, cmps);
            if h.is_empty() {
                ok = false;
                break;
            }
            also_hits.extend(h);
        }
        if ok {
            hits.extend(main);
            hits.extend(also_hits);
        }
    }
    if hits.is_empty() {
        return None;
    }
    hits.sort_by_key(|h| h.span);
    hits.dedup_by_key(|h| h.span);

    // Already handled?
    let mut partial: Option<(&Cmp, Vec<String>)> = None;
    let trigger_cmps: Vec<Span> = hits.iter().map(|h| h.cmp.span).collect();
    for h in &pattern.handled {
        match handled_coverage(h, cmps, &trigger_cmps) {
            Coverage::Full => return None,
            Coverage::Partial { cmp, missing } => {
                if partial.is_none() {
                    partial = Some((cmp, missing));
                }
            }
            Coverage::None => {}
        }
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
    let severity: Severity = pattern.severity.parse().unwrap_or(Severity::Warning);
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

    let excl = build_exclusion(ctx, rule, pattern, primary.cmp);
    let trigger_spans: Vec<Span> = hits.iter().map(|h| h.cmp.span).collect();
    // A partly covered pattern is fixed by extending the existing
    // exclusion, not by adding a second one: no suggestion then. The
    // rendering stage writes the proposal in the rule's language.
    let proposal = partial.is_none().then(|| Proposal {
        exclusion: excl,
        triggers: trigger_spans,
        summary: pattern.exclusion.summary.clone(),
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
        let msg = match &pattern.message {
            Some(t) => t.replace("{field}", &field).replace("{value}", &value_text),
            None => format!(
                "`{field}` matches `{value_text}`: {}",
                pattern.title.to_lowercase()
            ),
        };
        let help = pattern.exclusion.summary.clone();
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

fn op_of(s: &str) -> Op {
    match s {
        "endswith" => Op::EndsWith,
        "startswith" => Op::StartsWith,
        "cidr" => Op::Cidr,
        _ => Op::Eq,
    }
}

/// The pattern's exclusion, with field names of the rule's schema and values
/// from the environment, the defaults, or a placeholder.
fn build_exclusion(
    ctx: &Context<'_>,
    rule: &DetectionRule,
    pattern: &Pattern,
    trigger: &Cmp,
) -> Exclusion {
    let mut fields = Vec::new();
    for spec in &pattern.exclusion.fields {
        let mut values = values_for(ctx, spec);
        let mut op = op_of(&spec.op);
        let schema = match rule.schema {
            Schema::Sigma => "sigma",
            Schema::Ecs => "ecs",
            Schema::Splunk => "splunk",
        };
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
                match fallback.and_then(|f| field_name(ctx, rule, f, trigger)) {
                    Some(n) => {
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
        fields.push(ExclusionField {
            field: name,
            op,
            values,
        });
    }
    Exclusion {
        name: pattern.exclusion.name.clone(),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_names_from_paths_and_patterns() {
        assert_eq!(program_name("\\nmap.exe").as_deref(), Some("nmap"));
        assert_eq!(program_name("/usr/bin/nmap").as_deref(), Some("nmap"));
        assert_eq!(program_name("*\\NMAP.EXE").as_deref(), Some("nmap"));
        assert_eq!(program_name("C:\\Tools\\").as_deref(), None);
        assert_eq!(program_name("*nm?p*").as_deref(), None);
    }

    #[test]
    fn contains_matches_flags_written_without_their_dash() {
        use crate::rule::{Field, Value};
        let m = Matcher {
            concepts: vec!["process.command_line".into()],
            contains: vec!["-decode".into(), "query user".into()],
            ..Matcher::default()
        };
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
            matcher_hits(&m, &cmp(Op::Contains, "decode"), false).len(),
            1
        );
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Contains, "certutil -decode x"), false).len(),
            1
        );
        assert_eq!(matcher_hits(&m, &cmp(Op::Eq, "decode"), false).len(), 0);
        assert_eq!(matcher_hits(&m, &cmp(Op::Contains, "user"), false).len(), 0);
        assert_eq!(
            matcher_hits(&m, &cmp(Op::Contains, "decode"), true).len(),
            0
        );
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
