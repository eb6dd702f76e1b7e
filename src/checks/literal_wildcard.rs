//! `RL306 literal-wildcard`.

use super::modifier_misuse::{key_modifiers, sigma_entries};
use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::{Diagnostic, Severity};
use crate::rule::{DetectionRule, Language, Logic, Op, Quoting, Value};
use crate::source::Span;

declare_check! {
    /// A wildcard the rule's engine reads as a plain character, or a plain character it reads as a wildcard.
    ///
    /// ## Why
    ///
    /// Each query language has its own place for wildcards; written
    /// elsewhere a `*` is just a star, and the comparison matches (almost)
    /// nothing:
    ///
    /// * KQL: a quoted value is a phrase, `process.name:"*.exe"` matches
    ///   the literal text `*.exe` (Kibana reads `*` as a wildcard only
    ///   unquoted);
    /// * Lucene: the same for a quoted phrase, `"*\\temp\\*"`;
    /// * EQL: `==` and `in` compare exactly; wildcards need `:` or `like`;
    /// * ES|QL: `==` compares exactly (wildcards need `LIKE`); and in a
    ///   `LIKE` pattern the backslash escapes the next character, so a
    ///   Windows path written with string-escaped backslashes (`"C:\\Windows\\*"`)
    ///   escapes the `*` or the letter after it: a literal backslash needs
    ///   `\\\\` in a `"…"` string;
    /// * Sigma: in a `|contains`, `|startswith` or `|endswith` value, `?`
    ///   matches any one character and `*` any text; a `?` in a URL or a
    ///   `*` between spaces or digits (`SELECT * FROM`, `7*7`) is meant
    ///   literally and needs a backslash (`\?`, `\*`), or the rule matches
    ///   more than it says (reported as `info`: the rule still fires); a
    ///   regex group made optional (`(::ffff:)?10.`) in such a value is a
    ///   warning, as the value then matches nothing the author meant.
    ///
    /// Left alone: a lone `"*"` (a literal star on purpose, as Kubernetes'
    /// wildcard verb) and Windows share names (`\\*\IPC$`), which hold a
    /// real star.
    ///
    /// ## Example
    ///
    /// Flagged (KQL):
    ///
    /// ```kql
    /// process.name:"*.scr" and process.parent.name:"explorer.exe"
    /// ```
    ///
    /// Clean:
    ///
    /// ```kql
    /// process.name:*.scr and process.parent.name:"explorer.exe"
    /// ```
    ///
    /// ## Fix
    ///
    /// The help gives the comparison written so the engine reads the
    /// wildcard (or the escaped character) as intended. It is not applied
    /// by `--fix`: the corrected comparison matches other events than the
    /// written one, which is the point, and needs a review.
    pub struct LiteralWildcard {
        code: "RL306",
        name: "literal-wildcard",
        category: Logic,
        severity: Warning,
        fix: None,
    }
}

impl Check for LiteralWildcard {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        let text = ctx.file.text.as_str();
        // A wildcard read literally makes the comparison blind (the
        // check's severity); a literal character read as a wildcard only
        // widens it (`info`).
        let mut push = |widens: bool, span: Span, message: String, help: String| {
            let mut d = Diagnostic::new(self.code(), ctx, span, message)
                .with_rule(rule)
                .with_help(help);
            if widens {
                d.severity = Severity::Info;
            }
            out.push(d.into())
        };
        match rule.language {
            Language::Kql | Language::Lucene => {
                let kql = rule.language == Language::Kql;
                let lang = if kql { "KQL" } else { "Lucene" };
                for (field, v) in quoted_values(logic, text) {
                    if !v.text.contains('*') || deliberate_star(&v.text) {
                        continue;
                    }
                    let fixed = if kql {
                        kql_unquoted(&v.text)
                    } else {
                        lucene_unquoted(&v.text)
                    };
                    let (what, written) = match field {
                        Some(f) => (format!("`{f}`"), format!("{f}:{fixed}")),
                        None => ("the term".to_string(), fixed),
                    };
                    push(
                        false,
                        v.span,
                        format!(
                            "{what} is compared with the quoted {lang} value `\"{}\"`: inside quotes `*` is not a wildcard (a literal star, or dropped by a text field's analyzer)",
                            v.text
                        ),
                        format!("drop the quotes to make `*` a wildcard: `{written}`"),
                    );
                }
            }
            Language::Eql => {
                logic.visit(&mut |l| {
                    let Logic::Cmp(c) = l else { return };
                    if c.op != Op::Eq {
                        return;
                    }
                    for v in &c.values {
                        if v.text.contains('*') && !deliberate_star(&v.text) {
                            let f = &c.field.raw;
                            push(
                                false,
                                v.span,
                                format!(
                                    "`{f}` is compared with `\"{}\"` by `==`/`in`, which compare exactly: the `*` is a literal star",
                                    v.text
                                ),
                                format!(
                                    "match the wildcard with `:` (case-insensitive) or `like`: `{f} : \"{}\"`",
                                    v.text
                                ),
                            );
                        }
                    }
                });
            }
            Language::Esql => {
                // Both need the query as written: in a TOML literal string
                // the file holds the query text unchanged.
                let (Some(q), Some(Quoting::TomlLiteral | Quoting::TomlMultiLiteral)) =
                    (rule.anchors.query, rule.anchors.query_quoting)
                else {
                    return;
                };
                let likes = esql_like_literals(text, q);
                logic.visit(&mut |l| {
                    let Logic::Cmp(c) = l else { return };
                    if c.op != Op::Eq {
                        return;
                    }
                    for v in &c.values {
                        let in_like = likes
                            .iter()
                            .any(|s| s.start <= v.span.start && v.span.end <= s.end);
                        if v.text.contains('*') && !deliberate_star(&v.text) && !in_like {
                            let f = &c.field.raw;
                            push(
                                false,
                                v.span,
                                format!(
                                    "`{f}` is compared exactly with `\"{}\"`: outside `LIKE` the `*` is a literal star",
                                    v.text
                                ),
                                format!("match the wildcard with `LIKE`: `{f} LIKE \"{}\"`", v.text),
                            );
                        }
                    }
                });
                for span in likes {
                    let raw = text
                        .get(span.start + 1..span.end.saturating_sub(1))
                        .unwrap_or("");
                    if text
                        .get(span.start..)
                        .is_some_and(|t| t.starts_with("\"\"\""))
                    {
                        continue;
                    }
                    if let Some((message, help)) = like_escape_problem(raw) {
                        push(false, span, message, help);
                    }
                }
            }
            Language::Sigma => {
                let mut seen = std::collections::HashSet::new();
                for entry in sigma_entries(logic) {
                    let first = entry[0];
                    let mods = key_modifiers(text, first.field.span.end);
                    let Some(m) = mods
                        .iter()
                        .map(|m| m.0.as_str())
                        .find(|m| matches!(*m, "contains" | "startswith" | "endswith"))
                    else {
                        continue;
                    };
                    if mods.iter().any(|m| m.0 == "re" || m.0 == "cidr") {
                        continue;
                    }
                    for c in entry.iter().filter(|c| c.op == Op::Wildcard) {
                        for v in &c.values {
                            let raw = text.get(v.span.start..v.span.end).unwrap_or("");
                            if !seen.insert(v.span) {
                                continue;
                            }
                            if let Some((ch, why, fixed)) = sigma_literal_wildcard(raw) {
                                let f = &c.field.raw;
                                let wild = if ch == '?' {
                                    "any one character"
                                } else {
                                    "any text"
                                };
                                push(
                                    !why.starts_with("a regular expression"),
                                    v.span,
                                    format!(
                                        "in the `{f}|{m}` value `{raw}`, the `{ch}` reads as {why}, but Sigma matches it as a wildcard for {wild}"
                                    ),
                                    format!(
                                        "escape it to match the character itself: `{fixed}`"
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            Language::Spl => {}
        }
    }
}

/// The quoted values of `logic` (their span starts after a `"`), with the
/// field they are compared with (`None` for a bare term).
fn quoted_values<'a>(logic: &'a Logic, text: &str) -> Vec<(Option<&'a str>, &'a Value)> {
    let quoted =
        |v: &Value| v.span.start > 0 && text.as_bytes().get(v.span.start - 1) == Some(&b'"');
    let mut out = Vec::new();
    logic.visit(&mut |l| match l {
        Logic::Cmp(c) if matches!(c.op, Op::Eq) => {
            for v in c.values.iter().filter(|v| quoted(v)) {
                out.push((Some(c.field.raw.as_str()), v));
            }
        }
        Logic::Keyword(k) => {
            for v in k.values.iter().filter(|v| quoted(v)) {
                out.push((None, v));
            }
        }
        _ => {}
    });
    out
}

/// A value whose `*` is meant literally wherever it is written: a lone
/// `*` (Kubernetes RBAC's wildcard verb, compared as text) and Windows
/// share names, which the Security log writes as `\\*\IPC$`.
fn deliberate_star(v: &str) -> bool {
    v == "*" || v.starts_with("\\\\*\\")
}

/// A KQL value written unquoted, `*` kept as a wildcard.
fn kql_unquoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    for c in v.chars() {
        if matches!(c, '\\' | '(' | ')' | ':' | '<' | '>' | '"' | '{' | '}') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Lucene term written unquoted, `*` kept as a wildcard.
fn lucene_unquoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    for c in v.chars() {
        if c != '*' && crate::query::lucene::is_special(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// In a Sigma value as written, the first unescaped wildcard that reads as
/// a character meant literally: its character, what it reads as, and the
/// value with it escaped. A `?` of a URL query (`.php?id=`, `/?linkid`,
/// `?&`, `?@`, a trailing `.html?`) or after a regex group (`(…)?`); a `*`
/// between digits (`7*7`) or in SQL's `SELECT * FROM`. A `?` standing for
/// one character of a drive letter, a hex digit or a file name, and a `*`
/// between words of a command line, are left alone.
fn sigma_literal_wildcard(raw: &str) -> Option<(char, &'static str, String)> {
    let chars: Vec<char> = raw.chars().collect();
    let mut i = 0;
    let mut hit = None;
    while i < chars.len() {
        match chars[i] {
            '\\' if matches!(chars.get(i + 1), Some('*' | '?' | '\\')) => i += 2,
            '?' => {
                if let Some(why) = literal_question_mark(&chars, i) {
                    hit = Some((i, why));
                    break;
                }
                i += 1;
            }
            '*' if i > 0 && i + 1 < chars.len() => {
                let (a, b) = (chars[i - 1], chars[i + 1]);
                if a.is_ascii_digit() && b.is_ascii_digit() {
                    hit = Some((i, "a multiplication"));
                    break;
                }
                let before: String = chars[..i].iter().collect();
                if a == ' '
                    && b == ' '
                    && before.trim_end().to_ascii_lowercase().ends_with("select")
                {
                    hit = Some((i, "SQL's `SELECT *`"));
                    break;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    let (at, why) = hit?;
    let ch = chars[at];
    let mut fixed = String::with_capacity(raw.len() + 2);
    for (j, c) in chars.iter().enumerate() {
        if j == at {
            fixed.push('\\');
        }
        fixed.push(*c);
    }
    Some((ch, why, fixed))
}

/// Does the unescaped `?` at `i` read as a URL's query mark or a regex
/// quantifier rather than "any one character"? What it reads as.
fn literal_question_mark(c: &[char], i: usize) -> Option<&'static str> {
    let prev = i.checked_sub(1).map(|p| c[p]);
    let next = c.get(i + 1).copied();
    if prev == Some(')') {
        return Some("a regular expression's optional group");
    }
    let url = Some("the start of a URL query");
    if matches!(next, Some('&' | '@')) {
        return url;
    }
    if prev == Some('/') && next.is_some_and(|n| n.is_ascii_alphabetic()) {
        return url;
    }
    // `?name=`: a query parameter.
    let mut j = i + 1;
    while c
        .get(j)
        .is_some_and(|x| x.is_ascii_alphanumeric() || matches!(x, '_' | '-' | ':' | '.'))
    {
        j += 1;
    }
    if j > i + 1
        && c.get(j) == Some(&'=')
        && prev.is_none_or(|p| p.is_ascii_alphanumeric() || p == '/')
    {
        return url;
    }
    // A trailing `?` after a URL path (`/send?`, `.html?`).
    (next.is_none()
        && prev.is_some_and(|p| p.is_ascii_alphabetic())
        && c[..i].iter().any(|x| *x == '/' || *x == '.'))
    .then_some("the start of a URL query")
}

/// The string literals that are `LIKE` patterns in the query at `query`
/// (`x LIKE "…"`, `x LIKE ("…", "…")`), as file spans with their quotes.
fn esql_like_literals(text: &str, query: Span) -> Vec<Span> {
    let mut out = Vec::new();
    let Some(q) = text.get(query.start..query.end) else {
        return out;
    };
    let b = q.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Skip strings that do not follow LIKE.
        if b[i] == b'"' {
            i = string_end(b, i);
            continue;
        }
        let word = i + 4 <= b.len()
            && q.get(i..i + 4)
                .is_some_and(|w| w.eq_ignore_ascii_case("like"))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
            && b.get(i + 4)
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
        if !word {
            i += 1;
            continue;
        }
        let mut j = i + 4;
        let skip_ws = |j: &mut usize| {
            while b.get(*j).is_some_and(u8::is_ascii_whitespace) {
                *j += 1;
            }
        };
        skip_ws(&mut j);
        let list = b.get(j) == Some(&b'(');
        if list {
            j += 1;
        }
        loop {
            skip_ws(&mut j);
            if b.get(j) != Some(&b'"') {
                break;
            }
            let end = string_end(b, j);
            out.push(Span::new(query.start + j, query.start + end));
            j = end;
            skip_ws(&mut j);
            if list && b.get(j) == Some(&b',') {
                j += 1;
                continue;
            }
            break;
        }
        i = j.max(i + 1);
    }
    out
}

/// The end (exclusive) of the ES|QL string starting at `open`.
fn string_end(b: &[u8], open: usize) -> usize {
    if b.get(open..open + 3) == Some(b"\"\"\"") {
        let mut j = open + 3;
        while j + 3 <= b.len() {
            if &b[j..j + 3] == b"\"\"\"" {
                return j + 3;
            }
            j += 1;
        }
        return b.len();
    }
    let mut j = open + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// The problem of a `LIKE` pattern written as `raw` (the inside of a `"…"`
/// string): a backslash left by `\\` that escapes a letter, or that ends
/// the pattern by escaping its last `*`. The message and the help.
fn like_escape_problem(raw: &str) -> Option<(String, String)> {
    // Decode the string escapes.
    let mut pat = String::new();
    let mut it = raw.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('\\') => pat.push('\\'),
                Some('"') => pat.push('"'),
                Some('t') => pat.push('\t'),
                Some('n') => pat.push('\n'),
                Some('r') => pat.push('\r'),
                Some(o) => {
                    pat.push('\\');
                    pat.push(o);
                }
                None => pat.push('\\'),
            }
        } else {
            pat.push(c);
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let mut bad = None;
    let mut i = 0;
    while i < p.len() {
        if p[i] == '\\' {
            match p.get(i + 1) {
                Some('\\') => {}
                Some('*' | '?') if i + 2 < p.len() => {}
                Some(c) => {
                    bad = Some(*c);
                    break;
                }
                None => {
                    bad = Some(' ');
                    break;
                }
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    let c = bad?;
    // The pattern meant: every lone backslash a literal backslash (a
    // Windows path written with string escapes only).
    let mut meant = String::new();
    let mut i = 0;
    while i < p.len() {
        if p[i] == '\\' {
            match p.get(i + 1) {
                Some('\\') => {
                    meant.push_str("\\\\");
                    i += 2;
                    continue;
                }
                _ => meant.push_str("\\\\"),
            }
        } else {
            meant.push(p[i]);
        }
        i += 1;
    }
    let written: String = meant
        .chars()
        .flat_map(|c| match c {
            '\\' => vec!['\\', '\\'],
            '"' => vec!['\\', '"'],
            c => vec![c],
        })
        .collect();
    let what = match c {
        '*' | '?' => format!("escapes the final `{c}`, which then matches only a literal `{c}`"),
        ' ' => "ends the pattern".to_string(),
        c => format!("escapes `{c}` (LIKE allows escaping only `*`, `?` and `\\`)"),
    };
    Some((
        format!(
            "in this LIKE pattern the backslash written `\\\\` is one backslash after string unescaping, and it {what}"
        ),
        format!("write a literal backslash as `\\\\\\\\`: \"{written}\""),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigma_literal_wildcards() {
        assert_eq!(
            sigma_literal_wildcard("/index.php?id=").map(|x| x.2),
            Some("/index.php\\?id=".to_string())
        );
        assert_eq!(
            sigma_literal_wildcard("SELECT * FROM").map(|x| x.0),
            Some('*')
        );
        assert_eq!(sigma_literal_wildcard("cmd.exe /C * > x"), None);
        assert_eq!(sigma_literal_wildcard("{7*7}").map(|x| x.0), Some('*'));
        assert_eq!(sigma_literal_wildcard("\\AppData\\*\\x.exe"), None);
        assert_eq!(sigma_literal_wildcard("a\\?b"), None);
        assert_eq!(sigma_literal_wildcard("whoami*>"), None);
        assert_eq!(sigma_literal_wildcard("* *"), None);
        for yes in [
            "?id=",
            "tvs.php?class_key=../x",
            "/fwlink/?linkid",
            "edit?&filePath=",
            "autodiscover.json?@",
            "/debug/dump?",
            ".html?",
            "(::ffff:)?10.",
            "/BneViewerXMLService?bne:uueupload=TRUE",
        ] {
            assert_eq!(sigma_literal_wildcard(yes).map(|x| x.0), Some('?'), "{yes}");
        }
        for no in [
            "0200????C0A8",
            "HostApplication=?:\\Windows\\System32",
            "1?",
            "B?",
            "8???",
            "\\spinstall?.aspx",
        ] {
            assert_eq!(sigma_literal_wildcard(no), None, "{no}");
        }
    }

    #[test]
    fn like_escapes() {
        assert!(like_escape_problem(r"*...\\*").is_some_and(|p| p.1.contains(r#""*...\\\\*""#)));
        assert!(like_escape_problem(r"C:\\Windows\\*").is_some());
        assert!(like_escape_problem(r"*..\\\\..\\\\..*").is_none());
        assert!(like_escape_problem(r"*a\\*b*").is_none());
        assert!(like_escape_problem(r"*abc*").is_none());
    }

    #[test]
    fn like_scan() {
        let q = r#"FROM x | WHERE a LIKE "C:\\Windows\\*" AND b RLIKE "\\d+" AND c LIKE ("ok*", """x\y""") AND d == "e*""#;
        let got = esql_like_literals(q, Span::new(0, q.len()));
        let spans: Vec<&str> = got.iter().map(|g| &q[g.start..g.end]).collect();
        assert_eq!(spans, [r#""C:\\Windows\\*""#, r#""ok*""#, r#""""x\y""""#]);
    }

    #[test]
    fn unquoted_forms() {
        assert_eq!(kql_unquoted("*C:\\temp\\*"), "*C\\:\\\\temp\\\\*");
        assert_eq!(lucene_unquoted("*a b*"), "*a\\ b*");
    }
}
