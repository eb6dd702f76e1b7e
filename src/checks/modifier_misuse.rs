//! `RL309 modifier-misuse`.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Fix, Severity, Suggestion};
use crate::rule::{Cmp, DetectionRule, Format, Language, Logic, Op};
use crate::source::Span;
use std::collections::BTreeMap;

declare_check! {
    /// A Sigma modifier is repeated, pointless or given a value it cannot use.
    ///
    /// ## Why
    ///
    /// Modifiers change how a value matches; used wrongly they hide a
    /// mistake or make the rule fail on some backends:
    ///
    /// * a repeated modifier (`|contains|contains`) does nothing more and
    ///   usually stands where another was meant;
    /// * `|all` on a single value means the same as without it;
    /// * a `|re` pattern that does not compile fails the conversion (or the
    ///   search); a pattern with a PCRE-only construct (lookaround,
    ///   backreference, atomic group, possessive quantifier) works only on
    ///   backends whose regex engine has it, which Elasticsearch's and RE2's
    ///   do not (reported as `info`); a quantified group that itself ends in
    ///   an unbounded quantifier (`(a+)+`) backtracks catastrophically on
    ///   engines that backtrack (PCRE, Java);
    /// * `|cidr` takes an IP network (`10.0.0.0/8`); anything else (a
    ///   wildcard `10.*`, a network with host bits set `192.168.1.1/24`)
    ///   is refused by pySigma or matches nothing;
    /// * `|windash` varies the dash of command-line flags (`-`, `/`, `–`):
    ///   on a field that holds no command line (`Image`, `TargetFilename`)
    ///   it only multiplies values.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// selection:
    ///     CommandLine|contains|contains: 'vssadmin'
    ///     DestinationIp|cidr: '10.*'
    ///     Image|windash|endswith: '\net.exe'
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// selection:
    ///     CommandLine|contains: 'vssadmin'
    ///     DestinationIp|cidr: '10.0.0.0/8'
    ///     Image|endswith: '\net.exe'
    /// ```
    ///
    /// ## Fix
    ///
    /// Dropping a repeated modifier, or `|all` on a single value, is a safe
    /// fix (`--fix`): the rule matches exactly what it matched before. For a
    /// `|cidr` value the help gives the network it most likely means; the
    /// other findings say what to change.
    pub struct ModifierMisuse {
        code: "RL309",
        name: "modifier-misuse",
        category: Logic,
        severity: Warning,
        fix: Sometimes,
    }
}

/// The modifiers written after a Sigma field name, each with its file span
/// (the `|` included), read from the file text just after `field_end`.
pub(crate) fn key_modifiers(text: &str, field_end: usize) -> Vec<(String, Span)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = field_end;
    while bytes.get(at) == Some(&b'|') {
        let start = at;
        at += 1;
        while bytes
            .get(at)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            at += 1;
        }
        let Some(name) = text.get(start + 1..at) else {
            break;
        };
        if name.is_empty() {
            break;
        }
        out.push((name.to_string(), Span::new(start, at)));
    }
    out
}

/// The comparisons of each `field|modifiers: values` entry, grouped: an
/// entry whose values need different operators is several comparisons with
/// the entry's span.
pub(crate) fn sigma_entries(logic: &Logic) -> Vec<Vec<&Cmp>> {
    let mut groups: BTreeMap<(usize, usize), Vec<&Cmp>> = BTreeMap::new();
    logic.visit(&mut |l| {
        if let Logic::Cmp(c) = l {
            groups
                .entry((c.span.start, c.field.span.start))
                .or_default()
                .push(c);
        }
    });
    groups.into_values().collect()
}

/// Fields whose value is (or holds) a command line.
fn holds_command_line(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    [
        "commandline",
        "command_line",
        "cmdline",
        "command",
        "imagepath",
        "servicefilename",
        "scriptblocktext",
        "payload",
        "details",
        "args",
        "arguments",
        "parameters",
        "processcommandline",
    ]
    .iter()
    .any(|k| f.contains(k))
}

impl Check for ModifierMisuse {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        if rule.format != Format::Sigma || rule.language != Language::Sigma {
            return;
        }
        let Some(logic) = &rule.logic else {
            return;
        };
        let text = ctx.file.text.as_str();
        for entry in sigma_entries(logic) {
            let first = entry[0];
            let mods = key_modifiers(text, first.field.span.end);
            let field = first.field.raw.as_str();
            self.repeated(ctx, rule, field, &mods, out);
            self.all_on_one(ctx, rule, field, &mods, &entry, out);
            for c in &entry {
                match c.op {
                    Op::Regex => self.regex(ctx, rule, c, out),
                    Op::Cidr => self.cidr(ctx, rule, c, out),
                    _ => {}
                }
            }
            if mods.iter().any(|(m, _)| m == "windash") && !holds_command_line(field) {
                let span = mods
                    .iter()
                    .find(|(m, _)| m == "windash")
                    .map_or(first.field.span, |m| m.1);
                out.push(
                    Diagnostic::new(
                        self.code(),
                        ctx,
                        span,
                        format!(
                            "`|windash` on `{field}`, which holds no command line: it varies the dash of command-line flags and only multiplies the values here"
                        ),
                    )
                    .with_rule(rule)
                    .with_help("drop `|windash`, or apply it to the command-line field (`CommandLine`)")
                    .into(),
                );
            }
        }
    }
}

impl ModifierMisuse {
    fn repeated(
        &self,
        ctx: &CheckContext<'_>,
        rule: &DetectionRule,
        field: &str,
        mods: &[(String, Span)],
        out: &mut Vec<Finding>,
    ) {
        for (i, (m, span)) in mods.iter().enumerate() {
            if !mods[..i].iter().any(|(p, _)| p == m) {
                continue;
            }
            out.push(safe_drop(
                Diagnostic::new(
                    self.code(),
                    ctx,
                    *span,
                    format!("`{field}` repeats the modifier `|{m}`: the repetition does nothing"),
                )
                .with_rule(rule)
                .with_help(format!("drop the repeated `|{m}`")),
                rule,
                *span,
                key_without(field, mods, i),
            ));
        }
    }

    fn all_on_one(
        &self,
        ctx: &CheckContext<'_>,
        rule: &DetectionRule,
        field: &str,
        mods: &[(String, Span)],
        entry: &[&Cmp],
        out: &mut Vec<Finding>,
    ) {
        let Some((_, span)) = mods.iter().find(|(m, _)| m == "all") else {
            return;
        };
        // A repeated `|all` is reported as a repetition.
        if mods.iter().filter(|(m, _)| m == "all").count() > 1 {
            return;
        }
        let values: usize = entry.iter().map(|c| c.values.len().max(1)).sum();
        if values != 1 {
            return;
        }
        out.push(safe_drop(
            Diagnostic::new(
                self.code(),
                ctx,
                *span,
                format!("`{field}|all` has a single value: `|all` changes nothing"),
            )
            .with_rule(rule)
            .with_help("drop `|all`, or list the values that must all match"),
            rule,
            *span,
            key_without(
                field,
                mods,
                mods.iter().position(|(m, _)| m == "all").unwrap_or(0),
            ),
        ));
    }

    fn regex(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, c: &Cmp, out: &mut Vec<Finding>) {
        for v in &c.values {
            let field = &c.field.raw;
            if let Some(construct) = pcre_only(&v.text) {
                let mut d = Diagnostic::new(
                    self.code(),
                    ctx,
                    v.span,
                    format!(
                        "the `{field}|re` pattern uses {construct}, which only PCRE-style engines support"
                    ),
                )
                .with_rule(rule)
                .with_help(
                    "backends with such an engine (Splunk) run it; Elasticsearch's regex and RE2-based engines reject it: rewrite it without the construct if the rule must convert everywhere",
                );
                d.severity = Severity::Info;
                out.push(d.into());
                continue;
            }
            if let Err(e) = regex::RegexBuilder::new(&v.text)
                .size_limit(1 << 22)
                .build()
            {
                let reason = e
                    .to_string()
                    .lines()
                    .rev()
                    .find(|l| l.starts_with("error:"))
                    .unwrap_or("the pattern does not compile")
                    .trim_start_matches("error:")
                    .trim()
                    .to_string();
                let mut d = Diagnostic::new(
                    self.code(),
                    ctx,
                    v.span,
                    format!("the `{field}|re` pattern does not compile: {reason}"),
                )
                .with_rule(rule)
                .with_help("fix the regular expression (escape literal metacharacters with `\\`)");
                d.severity = Severity::Error;
                out.push(d.into());
                continue;
            }
            if let Some(group) = nested_quantifier(&v.text) {
                out.push(
                    Diagnostic::new(
                        self.code(),
                        ctx,
                        v.span,
                        format!(
                            "the `{field}|re` pattern repeats `{group}`, a group that itself ends in an unbounded repetition: backtracking engines (PCRE, Java) can take exponential time on a near-match"
                        ),
                    )
                    .with_rule(rule)
                    .with_help("repeat the inner part once (`(a+)+` → `a+`), or make the repetitions unambiguous")
                    .into(),
                );
            }
        }
    }

    fn cidr(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, c: &Cmp, out: &mut Vec<Finding>) {
        for v in &c.values {
            let t = v.text.trim();
            let problem = match network(t) {
                Net::Ok => continue,
                Net::HostBits(n) => (
                    format!("`{t}` has host bits set: pySigma refuses it"),
                    format!("use the network `{n}`"),
                ),
                Net::NotANetwork => (
                    format!("`{t}` is not an IP network"),
                    match wildcard_network(t) {
                        Some(n) => format!("write it as a network: `{n}`"),
                        None => "write an address with a prefix length, such as `10.0.0.0/8`"
                            .to_string(),
                    },
                ),
            };
            out.push(
                Diagnostic::new(
                    self.code(),
                    ctx,
                    v.span,
                    format!("`{}|cidr` value {}", c.field.raw, problem.0),
                )
                .with_rule(rule)
                .with_help(problem.1)
                .into(),
            );
        }
    }
}

/// A diagnostic whose fix deletes `span` (a modifier), applied by `--fix`.
fn safe_drop(d: Diagnostic, rule: &DetectionRule, span: Span, key: String) -> Finding {
    let mut d = d;
    d.suggestion = Some(Suggestion {
        language: rule.language,
        text: key,
        fix: Fix {
            edits: vec![Edit::new(span, "")],
            applicability: Applicability::Safe,
        },
        has_placeholders: false,
        proposal: None,
    });
    d.into()
}

/// `field|mods…` without the modifier at `skip`.
fn key_without(field: &str, mods: &[(String, Span)], skip: usize) -> String {
    let mut key = field.to_string();
    for (i, (m, _)) in mods.iter().enumerate() {
        if i != skip {
            key.push('|');
            key.push_str(m);
        }
    }
    key
}

/// The PCRE-only construct a pattern uses, named for a message.
fn pcre_only(re: &str) -> Option<&'static str> {
    let b = re.as_bytes();
    let mut i = 0;
    let mut in_class = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                match b.get(i + 1) {
                    Some(c) if !in_class && (b'1'..=b'9').contains(c) => {
                        return Some("a backreference")
                    }
                    Some(b'k')
                        if !in_class && matches!(b.get(i + 2), Some(b'<' | b'{' | b'\'')) =>
                    {
                        return Some("a named backreference")
                    }
                    Some(b'Q') => return Some("a `\\Q…\\E` quote"),
                    Some(c @ (b'Z' | b'h' | b'H' | b'R' | b'K' | b'G' | b'X' | b'C' | b'e'))
                        if !in_class || matches!(c, b'h' | b'H' | b'e') =>
                    {
                        return Some(match c {
                            b'Z' => "the `\\Z` anchor",
                            b'h' | b'H' => "the `\\h` horizontal-space class",
                            b'R' => "the `\\R` line-break escape",
                            b'K' => "the `\\K` match reset",
                            b'G' => "the `\\G` anchor",
                            b'e' => "the `\\e` escape",
                            _ => "a PCRE-only escape",
                        })
                    }
                    _ => {}
                }
                i += 2;
                continue;
            }
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let rest = &re[i + 1..];
                if rest.starts_with("?=") || rest.starts_with("?!") {
                    return Some("a lookahead");
                }
                if rest.starts_with("?<=") || rest.starts_with("?<!") {
                    return Some("a lookbehind");
                }
                if rest.starts_with("?>") {
                    return Some("an atomic group");
                }
                if rest.starts_with("?(") || rest.starts_with("?R)") {
                    return Some("a conditional or recursive group");
                }
            }
            b'*' | b'+' | b'?' | b'}' if !in_class && b.get(i + 1) == Some(&b'+') => {
                return Some("a possessive quantifier");
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// A group repeated without bound whose body is a single element itself
/// repeated without bound (`(a+)+`, `(?:\s*)*`, `(.*)+`): the text of the
/// group, if any.
fn nested_quantifier(re: &str) -> Option<String> {
    let b = re.as_bytes();
    // Stack of open groups: (start of group, start of body).
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' => i = class_end(b, i),
            b'(' => {
                let body = if b.get(i + 1) == Some(&b'?') {
                    // `(?:`, `(?i:`, `(?P<n>`, `(?<n>`: the body starts after `:` or `>`.
                    let mut j = i + 2;
                    while j < b.len() && b[j] != b':' && b[j] != b'>' && b[j] != b')' {
                        j += 1;
                    }
                    j + 1
                } else {
                    i + 1
                };
                stack.push((i, body));
                i += 1;
            }
            b')' => {
                if let Some((start, body)) = stack.pop() {
                    let after = i + 1;
                    if unbounded_at(b, after) && body <= i {
                        let inner = &b[body..i];
                        if single_unbounded_element(inner) {
                            let mut end = after + 1;
                            if b[after] == b'{' {
                                while end < b.len() && b[end - 1] != b'}' {
                                    end += 1;
                                }
                            }
                            return re.get(start..end).map(str::to_string);
                        }
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The end (exclusive) of a character class starting at `open`.
fn class_end(b: &[u8], open: usize) -> usize {
    let mut j = open + 1;
    if b.get(j) == Some(&b'^') {
        j += 1;
    }
    if b.get(j) == Some(&b']') {
        j += 1;
    }
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b']' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// An unbounded quantifier (`*`, `+`, `{n,}`) starts at `at`.
fn unbounded_at(b: &[u8], at: usize) -> bool {
    match b.get(at) {
        Some(b'*' | b'+') => true,
        Some(b'{') => {
            let mut j = at + 1;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            j > at + 1 && b.get(j) == Some(&b',') && b.get(j + 1) == Some(&b'}')
        }
        _ => false,
    }
}

/// `inner` is one atom (a character, an escape, a class, `.`) followed by an
/// unbounded quantifier (optionally lazy), and nothing else.
fn single_unbounded_element(inner: &[u8]) -> bool {
    let atom_end = match inner.first() {
        Some(b'\\') => 2,
        Some(b'[') => class_end(inner, 0),
        Some(b'(' | b')' | b'|' | b'*' | b'+' | b'?' | b'{') | None => return false,
        Some(_) => 1,
    };
    if atom_end > inner.len() || !unbounded_at(inner, atom_end) {
        return false;
    }
    let mut q_end = atom_end + 1;
    if inner[atom_end] == b'{' {
        while q_end < inner.len() && inner[q_end - 1] != b'}' {
            q_end += 1;
        }
    }
    if inner.get(q_end) == Some(&b'?') {
        q_end += 1;
    }
    q_end == inner.len()
}

enum Net {
    Ok,
    HostBits(String),
    NotANetwork,
}

/// Is `t` an IP network (or a single address) as pySigma's `|cidr` reads it?
fn network(t: &str) -> Net {
    let (addr, bits) = match t.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (t, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return Net::NotANetwork;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        None => return Net::Ok,
        Some(b) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) && b.len() <= 3 => {
            match b.parse::<u32>() {
                Ok(n) if n <= max => n,
                _ => return Net::NotANetwork,
            }
        }
        Some(_) => return Net::NotANetwork,
    };
    let masked = match ip {
        std::net::IpAddr::V4(v4) => {
            let n = u32::from(v4);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            if n & !mask == 0 {
                return Net::Ok;
            }
            std::net::Ipv4Addr::from(n & mask).to_string()
        }
        std::net::IpAddr::V6(v6) => {
            let n = u128::from(v6);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            if n & !mask == 0 {
                return Net::Ok;
            }
            std::net::Ipv6Addr::from(n & mask).to_string()
        }
    };
    Net::HostBits(format!("{masked}/{bits}"))
}

/// `10.*`, `192.168.*.*` → `10.0.0.0/8`, `192.168.0.0/16`.
fn wildcard_network(t: &str) -> Option<String> {
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let fixed: Vec<u8> = parts
        .iter()
        .take_while(|p| **p != "*")
        .map(|p| p.parse::<u8>().ok())
        .collect::<Option<Vec<u8>>>()?;
    if fixed.is_empty() || fixed.len() == parts.len() || fixed.len() > 3 {
        return None;
    }
    if parts[fixed.len()..].iter().any(|p| *p != "*") {
        return None;
    }
    let mut octets = [0u8; 4];
    octets[..fixed.len()].copy_from_slice(&fixed);
    Some(format!(
        "{}/{}",
        std::net::Ipv4Addr::from(octets),
        fixed.len() * 8
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modifiers_are_read_from_the_key() {
        let t = "    CommandLine|contains|all: x";
        let m = key_modifiers(t, 15);
        let names: Vec<&str> = m.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["contains", "all"]);
        assert_eq!(&t[m[1].1.start..m[1].1.end], "|all");
        assert!(key_modifiers("Image: x", 5).is_empty());
    }

    #[test]
    fn pcre_constructs() {
        assert_eq!(pcre_only(r"foo(?=bar)"), Some("a lookahead"));
        assert_eq!(pcre_only(r"(?<!x)y"), Some("a lookbehind"));
        assert_eq!(pcre_only(r"(a)\1"), Some("a backreference"));
        assert_eq!(pcre_only(r"a++"), Some("a possessive quantifier"));
        assert_eq!(pcre_only(r"[\1]"), None);
        assert_eq!(pcre_only(r"a\++b"), None);
        assert_eq!(pcre_only(r"(?i)foo(?:bar)?\d+"), None);
        assert_eq!(pcre_only(r"(?P<n>x)"), None);
        assert_eq!(pcre_only(r"foo\Z"), Some("the `\\Z` anchor"));
        assert_eq!(pcre_only(r"a\hb"), Some("the `\\h` horizontal-space class"));
        assert_eq!(pcre_only(r"a\\Z"), None);
    }

    #[test]
    fn nested_quantifiers() {
        for yes in [
            r"(a+)+",
            r"x(?:\s*)*y",
            r"(.*)+$",
            r"([a-z]+)*",
            r"(\d+?){2,}",
        ] {
            assert!(nested_quantifier(yes).is_some(), "{yes}");
        }
        for no in [
            r"([a-z0-9-]+\.)+[a-z]+",
            r"(a+)",
            r"(a+){2}",
            r"(ab)+",
            r"[(a+)+]",
            r"\(a+\)+",
            r"(a|b+)+",
        ] {
            assert!(nested_quantifier(no).is_none(), "{no}");
        }
        assert_eq!(nested_quantifier(r"^x(a+)+y").as_deref(), Some("(a+)+"));
    }

    #[test]
    fn networks() {
        assert!(matches!(network("10.0.0.0/8"), Net::Ok));
        assert!(matches!(network("10.1.2.3"), Net::Ok));
        assert!(matches!(network("fe80::/10"), Net::Ok));
        assert!(matches!(network("192.168.1.1/24"), Net::HostBits(n) if n == "192.168.1.0/24"));
        assert!(matches!(network("10.*"), Net::NotANetwork));
        assert!(matches!(network("10.0.0.0/33"), Net::NotANetwork));
        assert!(matches!(network("10.0.0.0/"), Net::NotANetwork));
        assert_eq!(wildcard_network("10.*").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(
            wildcard_network("192.168.*.*").as_deref(),
            Some("192.168.0.0/16")
        );
        assert_eq!(wildcard_network("10.*.1.*"), None);
        assert_eq!(wildcard_network("*"), None);
    }

    #[test]
    fn command_line_fields() {
        assert!(holds_command_line("CommandLine"));
        assert!(holds_command_line("ParentCommandLine"));
        assert!(holds_command_line("ImagePath"));
        assert!(!holds_command_line("Image"));
        assert!(!holds_command_line("TargetFilename"));
    }
}
