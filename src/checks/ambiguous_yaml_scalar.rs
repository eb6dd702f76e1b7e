//! `RL307 ambiguous-yaml-scalar`.
//!
//! A plain (unquoted) YAML scalar is typed by the reader's schema. The
//! Sigma toolchain reads rules with PyYAML, which implements YAML 1.1:
//! there `0755` is the octal number 493, `22:30` the base-60 number 1350,
//! `no` and `off` the boolean false and `1_000` the number 1000. A YAML 1.2
//! reader (and rulelint) sees `755`, the text `22:30`, the text `no`. The
//! rule author meant the text as written; quoting it makes every reader
//! agree. This module decides, for a plain scalar, what each schema makes
//! of it, and flags the detection values where that is not the text.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::{Applicability, Diagnostic, Fix, Suggestion};
use crate::rule::{DetectionRule, Format, Language, Logic, Value};
use crate::source::{Edit, Span};

declare_check! {
    /// A plain YAML value that YAML 1.1 tools (PyYAML: pySigma, sigma-cli) read differently from the text written.
    ///
    /// ## Why
    ///
    /// An unquoted YAML value gets a type from the reader's schema. The
    /// Sigma toolchain reads rules with PyYAML, a YAML 1.1 reader: there
    /// `0755` is the octal number 493, `22:30` the base-60 number 1350,
    /// `yes`/`no`/`on`/`off` are booleans, `1_000` is 1000, `0b101` is 5,
    /// `2024-01-31` is a date and `=` cannot be read at all. A YAML 1.2
    /// reader sees `755`, `22:30`, `no` as written. Either way the backend
    /// no longer compares the field with the text of the rule (`0x10`,
    /// which every reader types as the number 16, and `1.10`, the number
    /// 1.1, lose their text the same way), so the detection silently
    /// matches something else or nothing.
    ///
    /// Only detection values of Sigma rules are checked: they are what a
    /// backend turns into a query. Numbers written plainly in decimal
    /// (`EventID: 4624`, `DestinationPort: 443`) mean the same to every
    /// reader and are not flagged.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// selection:
    ///     a1: 0755
    ///     Enabled: no
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// selection:
    ///     a1: '0755'
    ///     Enabled: 'no'
    /// ```
    ///
    /// ## Fix
    ///
    /// Quote the value (`'0755'`). `--fix` does it: the quoted value is the
    /// text the rule already showed, so the fix is safe.
    pub struct AmbiguousYamlScalar {
        code: "RL307",
        name: "ambiguous-yaml-scalar",
        category: Logic,
        severity: Warning,
        fix: Always,
    }
}

impl Check for AmbiguousYamlScalar {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        if rule.format != Format::Sigma {
            return;
        }
        let Some(logic) = &rule.logic else {
            return;
        };
        let mut seen: Vec<Span> = Vec::new();
        let mut report = |v: &Value, field: Option<&str>| {
            if seen.contains(&v.span) {
                return;
            }
            seen.push(v.span);
            let token = ctx.file.slice(v.span);
            let before = ctx.file.text[..v.span.start].chars().next_back();
            if matches!(before, Some('\'' | '"')) || !is_plain_token(token) {
                return;
            }
            let Some(problem) = misread(token) else {
                return;
            };
            let quoted = format!("'{token}'");
            let message = match field {
                Some(f) => format!("`{f}: {token}`: {problem}"),
                None => format!("`{token}`: {problem}"),
            };
            let mut d = Diagnostic::new(self.code(), ctx, v.span, message)
                .with_rule(rule)
                .with_help(format!(
                    "quote the value, `{quoted}`, so that every YAML reader keeps the text"
                ));
            d.key = format!("{}|{}|{token}", self.code(), field.unwrap_or(""));
            d.suggestion = Some(Suggestion {
                language: Language::Sigma,
                text: quoted.clone(),
                fix: Fix {
                    edits: vec![Edit::new(v.span, quoted)],
                    applicability: Applicability::Safe,
                },
                has_placeholders: false,
                proposal: None,
            });
            out.push(d.into());
        };
        logic.visit(&mut |node| match node {
            Logic::Cmp(c) => c
                .values
                .iter()
                .for_each(|v| report(v, Some(c.field.raw.as_str()))),
            Logic::Keyword(k) => k.values.iter().for_each(|v| report(v, None)),
            _ => {}
        });
    }
}

/// The span covers a plain scalar token: no quotes, no block scalar, one
/// line, and non-empty.
fn is_plain_token(token: &str) -> bool {
    let Some(first) = token.chars().next() else {
        return false;
    };
    !matches!(first, '\'' | '"' | '|' | '>' | '!' | '&' | '*')
        && !token.contains(['\n', '\r'])
        && token == token.trim()
}

/// What a reader makes of a plain scalar.
#[derive(Debug, Clone, PartialEq)]
enum Reading {
    Text,
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Date,
    /// PyYAML refuses the value (`=`, YAML 1.1's "value" key).
    Refused,
}

impl Reading {
    fn describe(&self) -> String {
        match self {
            Reading::Text => "the text".to_string(),
            Reading::Null => "null".to_string(),
            Reading::Bool(b) => format!("the boolean {b}"),
            Reading::Int(i) => format!("the number {i}"),
            Reading::Float(f) => format!("the number {f}"),
            Reading::Date => "a date".to_string(),
            Reading::Refused => "an error".to_string(),
        }
    }

    /// The reading keeps the value as the rule wrote it: a text, or a
    /// number whose decimal form is the token.
    fn keeps(&self, token: &str) -> bool {
        match self {
            Reading::Text | Reading::Null => true,
            // `True`, `FALSE`: every reader agrees, and backends write
            // booleans in their own spelling.
            Reading::Bool(b) => token.eq_ignore_ascii_case(if *b { "true" } else { "false" }),
            Reading::Int(i) => i.to_string() == token,
            Reading::Float(f) => float_text(*f) == token,
            Reading::Date | Reading::Refused => false,
        }
    }
}

/// Shortest decimal form of a float as a rule would write it (`1.5`,
/// `2.0` for a whole number).
fn float_text(f: f64) -> String {
    let s = format!("{f}");
    if s.contains(['.', 'e', 'E', 'i', 'N']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Why the plain scalar `token` is misread, when it is: the YAML 1.1 and
/// YAML 1.2 readings differ, or both lose the text.
pub fn misread(token: &str) -> Option<String> {
    let old = yaml11(token);
    let new = yaml12(token);
    if old == new && old.keeps(token) {
        return None;
    }
    if old == new {
        return Some(format!(
            "YAML reads it as {}, not as the text `{token}`",
            old.describe()
        ));
    }
    if old == Reading::Refused {
        return Some(
            "YAML 1.1 readers (PyYAML: pySigma, sigma-cli) cannot read this plain value"
                .to_string(),
        );
    }
    let new_part = if new.keeps(token) {
        format!("YAML 1.2 readers as `{token}`")
    } else {
        format!("YAML 1.2 readers as {}", new.describe())
    };
    Some(format!(
        "YAML 1.1 readers (PyYAML: pySigma, sigma-cli) read it as {}, {new_part}",
        old.describe()
    ))
}

fn sign(s: &str) -> (i128, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (-1, &s[1..]),
        Some(b'+') => (1, &s[1..]),
        _ => (1, s),
    }
}

/// Digits of `radix` and `_` only, at least one digit; the value, or
/// `None` when it is not that (or overflows).
fn digits(s: &str, radix: u32, underscores: bool) -> Option<i128> {
    let mut any = false;
    let mut v: i128 = 0;
    for c in s.chars() {
        if c == '_' && underscores {
            continue;
        }
        let d = c.to_digit(radix)?;
        any = true;
        v = v.checked_mul(radix as i128)?.checked_add(d as i128)?;
    }
    any.then_some(v)
}

/// Base-60 parts after the first: `:[0-5]?[0-9]` each.
fn sexagesimal_tail(parts: &[&str]) -> Option<Vec<i128>> {
    parts
        .iter()
        .map(|p| {
            let ok = !p.is_empty()
                && p.len() <= 2
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || p.as_bytes()[0] <= b'5');
            ok.then(|| p.parse::<i128>().ok()).flatten()
        })
        .collect()
}

/// How PyYAML (YAML 1.1 implicit types) reads a plain scalar.
fn yaml11(t: &str) -> Reading {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Reading::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Reading::Bool(true)
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Reading::Bool(false)
        }
        "=" => return Reading::Refused,
        _ => {}
    }
    if is_date(t) {
        return Reading::Date;
    }
    let (sg, body) = sign(t);
    // Integers: binary, hex, octal, decimal, base 60.
    if let Some(b) = body.strip_prefix("0b") {
        if let Some(v) = digits(b, 2, true) {
            return Reading::Int(sg * v);
        }
    }
    if let Some(h) = body.strip_prefix("0x") {
        if let Some(v) = digits(h, 16, true) {
            return Reading::Int(sg * v);
        }
    }
    if body.len() > 1 && body.starts_with('0') {
        if let Some(v) = digits(&body[1..], 8, true) {
            return Reading::Int(sg * v);
        }
    }
    if body == "0" {
        return Reading::Int(0);
    }
    if body.starts_with(|c: char| ('1'..='9').contains(&c)) {
        if let Some(v) = digits(body, 10, true) {
            return Reading::Int(sg * v);
        }
        let parts: Vec<&str> = body.split(':').collect();
        if parts.len() > 1 {
            if let (Some(head), Some(tail)) =
                (digits(parts[0], 10, true), sexagesimal_tail(&parts[1..]))
            {
                let v = tail.iter().fold(head, |acc, p| acc * 60 + p);
                return Reading::Int(sg * v);
            }
        }
    }
    // Floats: `1.5`, `1_0.5`, `.5`, `1.0e+3` (the exponent needs a sign),
    // base 60 with a fraction, infinities and NaN.
    match body {
        ".inf" | ".Inf" | ".INF" => return Reading::Float(sg as f64 * f64::INFINITY),
        _ => {}
    }
    if matches!(t, ".nan" | ".NaN" | ".NAN") {
        return Reading::Float(f64::NAN);
    }
    if let Some(f) = float11(body) {
        return Reading::Float(sg as f64 * f);
    }
    Reading::Text
}

fn float11(body: &str) -> Option<f64> {
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    if let Some(e) = exp {
        let ok = e.len() > 1
            && (e.starts_with('+') || e.starts_with('-'))
            && e[1..].bytes().all(|b| b.is_ascii_digit());
        if !ok {
            return None;
        }
    }
    let (int_part, frac) = mantissa.split_once('.')?;
    let frac_ok = frac.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !frac_ok {
        return None;
    }
    let int_value: f64 = if int_part.is_empty() {
        // `.5`: the fraction needs a digit first.
        if !frac.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        0.0
    } else if int_part.contains(':') {
        let parts: Vec<&str> = int_part.split(':').collect();
        let head = digits(parts[0], 10, true)?;
        if !parts[0].starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let tail = sexagesimal_tail(&parts[1..])?;
        tail.iter().fold(head, |acc, p| acc * 60 + p) as f64
    } else {
        if !int_part.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        digits(int_part, 10, true)? as f64
    };
    let frac_digits: String = frac.chars().filter(|c| *c != '_').collect();
    let mut text = format!("{int_value}.{frac_digits}");
    if frac_digits.is_empty() {
        text.push('0');
    }
    if let Some(e) = exp {
        text.push('e');
        text.push_str(e);
    }
    text.parse().ok()
}

/// `YYYY-MM-DD`, or a date with a time (PyYAML's timestamp).
fn is_date(t: &str) -> bool {
    let b = t.as_bytes();
    if b.len() < 8 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    if b.len() == 10 {
        return b[5..7].iter().all(u8::is_ascii_digit)
            && b[7] == b'-'
            && b[8..10].iter().all(u8::is_ascii_digit);
    }
    // With a time: `YYYY-M-D[Tt ]H:MM:SS…`.
    let rest = &t[5..];
    let Some((month, rest)) = rest.split_once('-') else {
        return false;
    };
    let day_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (day, time) = rest.split_at(day_end);
    let small = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !small(month) || !small(day) {
        return false;
    }
    let time = time.trim_start_matches([' ', '\t']);
    let time = time
        .strip_prefix(['T', 't'])
        .unwrap_or(time)
        .trim_start_matches([' ', '\t']);
    let mut parts = time.splitn(3, ':');
    let (Some(h), Some(m), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    small(h)
        && m.len() == 2
        && m.bytes().all(|b| b.is_ascii_digit())
        && s.len() >= 2
        && s.as_bytes()[..2].iter().all(u8::is_ascii_digit)
}

/// How a YAML 1.2 core-schema reader reads a plain scalar.
fn yaml12(t: &str) -> Reading {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return Reading::Null,
        "true" | "True" | "TRUE" => return Reading::Bool(true),
        "false" | "False" | "FALSE" => return Reading::Bool(false),
        _ => {}
    }
    if let Some(o) = t.strip_prefix("0o") {
        if let Some(v) = digits(o, 8, false) {
            return Reading::Int(v);
        }
    }
    if let Some(h) = t.strip_prefix("0x") {
        if let Some(v) = digits(h, 16, false) {
            return Reading::Int(v);
        }
    }
    let (sg, body) = sign(t);
    if let Some(v) = digits(body, 10, false) {
        return Reading::Int(sg * v);
    }
    match body {
        ".inf" | ".Inf" | ".INF" => return Reading::Float(sg as f64 * f64::INFINITY),
        _ => {}
    }
    if matches!(t, ".nan" | ".NaN" | ".NAN") {
        return Reading::Float(f64::NAN);
    }
    // `[0-9]+(\.[0-9]*)?` or `\.[0-9]+`, then an optional exponent.
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((i, f)) => {
            i.bytes().all(|b| b.is_ascii_digit())
                && f.bytes().all(|b| b.is_ascii_digit())
                && (!i.is_empty() || !f.is_empty())
        }
        None => false,
    } || (exp.is_some()
        && !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit()));
    let exp_ok = exp.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    if mantissa_ok && exp_ok {
        if let Ok(f) = body.parse::<f64>() {
            return Reading::Float(sg as f64 * f);
        }
    }
    Reading::Text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_1_1_readings() {
        assert_eq!(yaml11("0755"), Reading::Int(493));
        assert_eq!(yaml11("22:30"), Reading::Int(1350));
        assert_eq!(yaml11("1:20:30"), Reading::Int(4830));
        assert_eq!(yaml11("no"), Reading::Bool(false));
        assert_eq!(yaml11("Off"), Reading::Bool(false));
        assert_eq!(yaml11("YES"), Reading::Bool(true));
        assert_eq!(yaml11("1_000"), Reading::Int(1000));
        assert_eq!(yaml11("0b101"), Reading::Int(5));
        assert_eq!(yaml11("0x1F"), Reading::Int(31));
        assert_eq!(yaml11("1e3"), Reading::Text);
        assert_eq!(yaml11("1.0e+3"), Reading::Float(1000.0));
        assert_eq!(yaml11("2001-12-14"), Reading::Date);
        assert_eq!(yaml11("2001-12-14 21:59:43.10"), Reading::Date);
        assert_eq!(yaml11("="), Reading::Refused);
        assert_eq!(yaml11("y"), Reading::Text);
        assert_eq!(yaml11("08"), Reading::Text);
        assert_eq!(yaml11("0o17"), Reading::Text);
        assert_eq!(yaml11("010.5"), Reading::Float(10.5));
        assert_eq!(yaml11(".5"), Reading::Float(0.5));
        assert_eq!(yaml11("443"), Reading::Int(443));
        assert_eq!(yaml11("cmd.exe"), Reading::Text);
        assert_eq!(yaml11("1.2.3"), Reading::Text);
        assert_eq!(yaml11("12:61"), Reading::Text);
    }

    #[test]
    fn yaml_1_2_readings() {
        assert_eq!(yaml12("0755"), Reading::Int(755));
        assert_eq!(yaml12("22:30"), Reading::Text);
        assert_eq!(yaml12("no"), Reading::Text);
        assert_eq!(yaml12("1_000"), Reading::Text);
        assert_eq!(yaml12("0o17"), Reading::Int(15));
        assert_eq!(yaml12("1e3"), Reading::Float(1000.0));
        assert_eq!(yaml12("08"), Reading::Int(8));
        assert_eq!(yaml12("2001-12-14"), Reading::Text);
        assert_eq!(yaml12("1.2.3"), Reading::Text);
    }

    #[test]
    fn what_is_flagged() {
        for t in [
            "0755",
            "22:30",
            "no",
            "off",
            "1_000",
            "0b101",
            "0x10",
            "1.10",
            "2024-01-31",
            "=",
            "08",
            "1e3",
            "+12",
        ] {
            assert!(misread(t).is_some(), "{t} should be flagged");
        }
        for t in [
            "443",
            "4624",
            "0",
            "-1",
            "1.5",
            "true",
            "false",
            "True",
            "FALSE",
            "cmd.exe",
            "y",
            "n",
            "null",
            "",
            "C:\\Windows",
            "1.2.3.4",
        ] {
            assert!(
                misread(t).is_none(),
                "{t} should not be flagged: {:?}",
                misread(t)
            );
        }
        assert_eq!(
            misread("0755").unwrap(),
            "YAML 1.1 readers (PyYAML: pySigma, sigma-cli) read it as the number 493, YAML 1.2 readers as the number 755"
        );
        assert_eq!(
            misread("no").unwrap(),
            "YAML 1.1 readers (PyYAML: pySigma, sigma-cli) read it as the boolean false, YAML 1.2 readers as `no`"
        );
        assert_eq!(
            misread("0x10").unwrap(),
            "YAML reads it as the number 16, not as the text `0x10`"
        );
    }

    #[test]
    fn plain_tokens_only() {
        assert!(is_plain_token("0755"));
        assert!(!is_plain_token("'0755'"));
        assert!(!is_plain_token("\"no\""));
        assert!(!is_plain_token(""));
        assert!(!is_plain_token("|"));
    }
}
