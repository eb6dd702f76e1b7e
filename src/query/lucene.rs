//! Lucene query syntax (Elasticsearch `query_string`, Elastic rules with
//! `language = "lucene"`).
//!
//! Boolean logic follows Lucene's classic query parser with the default
//! operator OR: a group is a flat list of clauses, each *must*, *should*
//! or *must not*. `+x` and `AND` make clauses required (`a AND b` makes
//! both), `-x`, `!x` and `NOT x` prohibit one, anything else is optional.
//! A group with required clauses matches their conjunction (optional
//! clauses only score); otherwise it matches any optional clause; the
//! prohibited ones are AND-ed in under `Not`.
//!
//! Terms: `field:value`, `field:"phrase"`, `field:(a OR b)` (the field
//! applies inside), ranges `[a TO b]` / `{a TO b}` (mixed brackets too, `*`
//! for an open bound), `field:>=10`, wildcards `*` and `?`, regular
//! expressions `/…/`, `_exists_:field`, fuzziness `~` and boosts `^`
//! (kept as modifiers / ignored), and `\` escapes.

use super::QueryParse;
use crate::rule::{Anchors, Cmp, Field, Keyword, Logic, Op, ParseIssue, Value};
use crate::source::Span;

const MAX_DEPTH: usize = 200;

/// Parse a query; spans are relative to `text`.
pub fn parse(text: &str) -> QueryParse {
    let mut p = Parser {
        src: text,
        b: text.as_bytes(),
        pos: 0,
        depth: 0,
    };
    match p.parse_top() {
        Ok(logic) => QueryParse {
            // Lucene gives `AND` no precedence over `OR`: anything but a
            // single clause is wrapped before a clause is appended.
            anchors: Anchors {
                append_needs_parens: Some(!matches!(logic, Logic::Cmp(_) | Logic::Keyword(_))),
                ..Anchors::default()
            },
            logic,
            issues: Vec::new(),
        },
        Err(issue) => QueryParse {
            logic: Logic::opaque(text, Span::new(0, text.len()), "Lucene syntax error"),
            issues: vec![issue],
            anchors: Anchors::default(),
        },
    }
}

fn err(span: Span, msg: impl Into<String>) -> ParseIssue {
    ParseIssue::error("RL008", span, msg)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occur {
    Must,
    Should,
    MustNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Conj {
    None,
    And,
    Or,
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
}

/// A term after unescaping.
struct Term {
    text: String,
    span: Span,
    /// Byte offsets in `text` of unescaped `*`/`?`.
    wild: Vec<(usize, char)>,
    escaped_wild: bool,
}

/// A character Lucene's query syntax gives a meaning to, which a term
/// must backslash-escape to mean it literally.
pub fn is_special(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '+' | '-'
                | '='
                | '&'
                | '|'
                | '>'
                | '<'
                | '!'
                | '('
                | ')'
                | '{'
                | '}'
                | '['
                | ']'
                | '^'
                | '"'
                | '~'
                | '*'
                | '?'
                | ':'
                | '\\'
                | '/'
        )
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Characters that end a term (unless escaped).
fn ends_term(b: u8) -> bool {
    is_ws(b)
        || matches!(
            b,
            b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b':' | b'^' | b'~'
        )
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, at: usize) -> Option<u8> {
        self.b.get(at).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    fn char_span(&self, at: usize) -> Span {
        let len = self
            .src
            .get(at..)
            .and_then(|s| s.chars().next())
            .map(char::len_utf8)
            .unwrap_or(0);
        Span::new(at, at + len)
    }

    fn describe(&self, at: usize) -> String {
        match self.src.get(at..).and_then(|s| s.chars().next()) {
            Some(c) => format!("`{c}`"),
            None => "the end of the query".into(),
        }
    }

    /// `AND`/`OR`/`NOT` (upper case only) as a whole word at `at`.
    fn word_at(&self, at: usize, word: &str) -> bool {
        let end = at + word.len();
        if self.b.get(at..end) != Some(word.as_bytes()) {
            return false;
        }
        match self.peek_at(end) {
            None => true,
            Some(c) => is_ws(c) || c == b'(' || c == b'"',
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseIssue> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.char_span(at),
                format!("query nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn parse_top(&mut self) -> Result<Logic, ParseIssue> {
        self.skip_ws();
        if self.at_end() {
            return Err(err(Span::point(0), "the query is empty"));
        }
        let logic = self.parse_group(None)?;
        self.skip_ws();
        if !self.at_end() {
            return Err(err(self.char_span(self.pos), "unmatched `)`"));
        }
        Ok(logic)
    }

    /// Clauses up to `)` or the end, combined Lucene-style.
    fn parse_group(&mut self, field: Option<&Field>) -> Result<Logic, ParseIssue> {
        let mut clauses: Vec<(Occur, Logic)> = Vec::new();
        loop {
            self.skip_ws();
            if self.at_end() || self.peek() == Some(b')') {
                break;
            }
            let conj_at = self.pos;
            let mut conj = Conj::None;
            if self.word_at(self.pos, "AND") || self.b.get(self.pos..self.pos + 2) == Some(b"&&") {
                conj = Conj::And;
                self.pos += if self.peek() == Some(b'&') { 2 } else { 3 };
            } else if self.word_at(self.pos, "OR")
                || self.b.get(self.pos..self.pos + 2) == Some(b"||")
            {
                conj = Conj::Or;
                self.pos += 2;
            }
            if conj != Conj::None {
                if clauses.is_empty() {
                    return Err(err(
                        Span::new(conj_at, self.pos),
                        "a boolean operator needs a clause before it",
                    ));
                }
                self.skip_ws();
            }
            // Modifier.
            let mut occur_mod: Option<Occur> = None;
            let mod_at = self.pos;
            if self.word_at(self.pos, "NOT") {
                self.pos += 3;
                occur_mod = Some(Occur::MustNot);
            } else if let Some(c @ (b'+' | b'-' | b'!')) = self.peek() {
                // `!=`-like junk or a lone sign is an error below.
                self.pos += 1;
                occur_mod = Some(if c == b'+' {
                    Occur::Must
                } else {
                    Occur::MustNot
                });
            }
            if occur_mod.is_some() {
                self.skip_ws();
            }
            if self.at_end() || self.peek() == Some(b')') {
                let at = if occur_mod.is_some() { mod_at } else { conj_at };
                let op_end = self
                    .src
                    .get(at..self.pos)
                    .map_or(at, |s| at + s.trim_end().len());
                return Err(err(
                    Span::new(at, op_end),
                    format!(
                        "expected a clause after `{}`, found {}",
                        self.src.get(at..self.pos).unwrap_or("").trim(),
                        self.describe(self.pos)
                    ),
                ));
            }
            let clause = self.parse_clause(field)?;
            // Classic parser: AND makes the previous clause required too.
            if conj == Conj::And {
                if let Some(prev) = clauses.last_mut() {
                    if prev.0 != Occur::MustNot {
                        prev.0 = Occur::Must;
                    }
                }
            }
            let occur = match occur_mod {
                Some(Occur::MustNot) => Occur::MustNot,
                Some(Occur::Must) => Occur::Must,
                _ if conj == Conj::And => Occur::Must,
                _ => Occur::Should,
            };
            clauses.push((occur, clause));
        }
        if clauses.is_empty() {
            return Err(err(
                self.char_span(self.pos),
                format!("expected a clause, found {}", self.describe(self.pos)),
            ));
        }
        Ok(combine(clauses, field.is_some()))
    }

    fn parse_clause(&mut self, field: Option<&Field>) -> Result<Logic, ParseIssue> {
        let start = self.pos;
        match self.peek() {
            Some(b'(') => {
                self.pos += 1;
                self.enter(start)?;
                let inner = self.parse_group(field)?;
                self.skip_ws();
                if self.peek() != Some(b')') {
                    return Err(if self.at_end() {
                        err(
                            Span::new(start, start + 1),
                            "unclosed `(`: expected `)` before the end of the query",
                        )
                    } else {
                        err(self.char_span(self.pos), "expected `)`")
                    });
                }
                self.pos += 1;
                self.depth = self.depth.saturating_sub(1);
                self.skip_suffixes(&mut Vec::new())?;
                Ok(inner)
            }
            Some(b'"') | Some(b'[') | Some(b'{') | Some(b'/') => match field {
                Some(f) => self.field_value(f.clone(), start),
                None => {
                    let (value, _) = self.value_token()?;
                    let span = Span::new(start, self.pos);
                    Ok(Logic::Keyword(Keyword {
                        values: vec![value],
                        span,
                    }))
                }
            },
            Some(b')') | Some(b']') | Some(b'}') | Some(b':') | Some(b'^') | Some(b'~') | None => {
                Err(err(
                    self.char_span(start),
                    format!("expected a term, found {}", self.describe(start)),
                ))
            }
            _ => {
                let term = self.term()?;
                // `field:` (whitespace allowed around the colon).
                let save = self.pos;
                self.skip_ws();
                if self.peek() == Some(b':') {
                    self.pos += 1;
                    self.skip_ws();
                    if term.text == "_exists_" {
                        let name = self.term()?;
                        return Ok(Logic::Cmp(Cmp::new(
                            Field::new(name.text, name.span),
                            Op::Exists,
                            Vec::new(),
                            Span::new(start, self.pos),
                        )));
                    }
                    let f = Field::new(term.text, term.span);
                    return self.field_value(f, start);
                }
                self.pos = save;
                let mut modifiers = Vec::new();
                self.skip_suffixes(&mut modifiers)?;
                match field {
                    Some(f) => Ok(cmp_from_term(
                        f.clone(),
                        term,
                        Span::new(start, self.pos),
                        modifiers,
                    )),
                    None => {
                        let value = if term.wild.is_empty() {
                            Value::guess(term.text, term.span)
                        } else {
                            Value::string(term.text, term.span)
                        };
                        Ok(Logic::Keyword(Keyword {
                            values: vec![value],
                            span: Span::new(start, self.pos),
                        }))
                    }
                }
            }
        }
    }

    /// The value after `field:`.
    fn field_value(&mut self, field: Field, start: usize) -> Result<Logic, ParseIssue> {
        match self.peek() {
            Some(b'(') => {
                let open = self.pos;
                self.pos += 1;
                self.enter(open)?;
                let inner = self.parse_group(Some(&field))?;
                self.skip_ws();
                if self.peek() != Some(b')') {
                    return Err(if self.at_end() {
                        err(
                            Span::new(open, open + 1),
                            "unclosed `(`: expected `)` before the end of the query",
                        )
                    } else {
                        err(self.char_span(self.pos), "expected `)`")
                    });
                }
                self.pos += 1;
                self.depth = self.depth.saturating_sub(1);
                self.skip_suffixes(&mut Vec::new())?;
                let span = Span::new(start, self.pos);
                Ok(respan(inner, span))
            }
            Some(b'[') | Some(b'{') => self.range(field, start),
            Some(b'>') | Some(b'<') => {
                let lt = self.peek() == Some(b'<');
                self.pos += 1;
                let eq = self.peek() == Some(b'=');
                if eq {
                    self.pos += 1;
                }
                let op = match (lt, eq) {
                    (true, true) => Op::Lte,
                    (true, false) => Op::Lt,
                    (false, true) => Op::Gte,
                    (false, false) => Op::Gt,
                };
                let (value, _) = self.value_token()?;
                Ok(Logic::Cmp(Cmp::new(
                    field,
                    op,
                    vec![value],
                    Span::new(start, self.pos),
                )))
            }
            Some(b'"') | Some(b'/') => {
                let is_regex = self.peek() == Some(b'/');
                let (value, _) = self.value_token()?;
                let mut modifiers = Vec::new();
                self.skip_suffixes(&mut modifiers)?;
                let op = if is_regex {
                    Op::Regex
                } else if super::kql::is_cidr(&value.text) {
                    Op::Cidr
                } else {
                    Op::Eq
                };
                let mut cmp = Cmp::new(field, op, vec![value], Span::new(start, self.pos));
                cmp.modifiers = modifiers;
                Ok(Logic::Cmp(cmp))
            }
            None => Err(err(
                Span::point(self.pos),
                "expected a value after `:`, found the end of the query",
            )),
            Some(c) if ends_term(c) || c == b')' => Err(err(
                self.char_span(self.pos),
                format!(
                    "expected a value after `:`, found {}",
                    self.describe(self.pos)
                ),
            )),
            _ => {
                let term = self.term()?;
                let mut modifiers = Vec::new();
                self.skip_suffixes(&mut modifiers)?;
                Ok(cmp_from_term(
                    field,
                    term,
                    Span::new(start, self.pos),
                    modifiers,
                ))
            }
        }
    }

    /// `[lo TO hi]`, `{lo TO hi}` or mixed.
    fn range(&mut self, field: Field, start: usize) -> Result<Logic, ParseIssue> {
        let open = self.pos;
        let lo_inclusive = self.peek() == Some(b'[');
        self.pos += 1;
        self.skip_ws();
        let lo = self.bound()?;
        self.skip_ws();
        if !self.word_at(self.pos, "TO") {
            return Err(err(
                self.char_span(self.pos),
                format!("expected `TO` in range, found {}", self.describe(self.pos)),
            ));
        }
        self.pos += 2;
        self.skip_ws();
        let hi = self.bound()?;
        self.skip_ws();
        let hi_inclusive = match self.peek() {
            Some(b']') => true,
            Some(b'}') => false,
            None => {
                return Err(err(
                    Span::new(open, open + 1),
                    "unclosed range: expected `]` or `}` before the end of the query",
                ))
            }
            Some(_) => {
                return Err(err(
                    self.char_span(self.pos),
                    format!(
                        "expected `]` or `}}` to close the range, found {}",
                        self.describe(self.pos)
                    ),
                ))
            }
        };
        self.pos += 1;
        self.skip_suffixes(&mut Vec::new())?;
        let span = Span::new(start, self.pos);
        let open_lo = lo.text == "*";
        let open_hi = hi.text == "*";
        let (op, values) = match (open_lo, open_hi) {
            (true, true) => (Op::Exists, Vec::new()),
            (true, false) => (if hi_inclusive { Op::Lte } else { Op::Lt }, vec![hi]),
            (false, true) => (if lo_inclusive { Op::Gte } else { Op::Gt }, vec![lo]),
            (false, false) => (
                Op::Range {
                    lo_inclusive,
                    hi_inclusive,
                },
                vec![lo, hi],
            ),
        };
        Ok(Logic::Cmp(Cmp::new(field, op, values, span)))
    }

    /// A range bound: quoted, or a run of characters up to whitespace or
    /// a closing bracket.
    fn bound(&mut self) -> Result<Value, ParseIssue> {
        if self.peek() == Some(b'"') {
            return self.quoted();
        }
        let start = self.pos;
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if is_ws(c) || c == b']' || c == b'}' {
                break;
            }
            if c == b'\\' {
                if let Some(n) = self.src.get(self.pos + 1..).and_then(|s| s.chars().next()) {
                    text.push(n);
                    self.pos += 1 + n.len_utf8();
                    continue;
                }
            }
            let Some(ch) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
                break;
            };
            text.push(ch);
            self.pos += ch.len_utf8();
        }
        if start == self.pos {
            return Err(err(
                self.char_span(self.pos),
                format!("expected a range bound, found {}", self.describe(self.pos)),
            ));
        }
        Ok(Value::guess(text, Span::new(start, self.pos)))
    }

    /// A quoted phrase, a `/regex/`, or a term, as a Value.
    fn value_token(&mut self) -> Result<(Value, bool), ParseIssue> {
        match self.peek() {
            Some(b'"') => Ok((self.quoted()?, true)),
            Some(b'/') => Ok((self.regex()?, true)),
            Some(b'[') | Some(b'{') => {
                // A bare range without a field: keep its text.
                let start = self.pos;
                let close = self.src[start..]
                    .find([']', '}'])
                    .map(|i| start + i + 1)
                    .ok_or_else(|| {
                        err(
                            Span::new(start, start + 1),
                            "unclosed range: expected `]` or `}` before the end of the query",
                        )
                    })?;
                self.pos = close;
                let text = self.src.get(start..close).unwrap_or("");
                Ok((Value::string(text, Span::new(start, close)), true))
            }
            None => Err(err(
                Span::point(self.pos),
                "expected a value, found the end of the query",
            )),
            _ => {
                let t = self.term()?;
                let v = if t.wild.is_empty() {
                    Value::guess(t.text, t.span)
                } else {
                    Value::string(t.text, t.span)
                };
                Ok((v, false))
            }
        }
    }

    fn quoted(&mut self) -> Result<Value, ParseIssue> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(err(
                        Span::new(open, open + 1),
                        "unterminated string: this `\"` is never closed",
                    ))
                }
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    let Some(n) = self.src.get(self.pos + 1..).and_then(|s| s.chars().next())
                    else {
                        return Err(err(
                            Span::new(open, open + 1),
                            "unterminated string: this `\"` is never closed",
                        ));
                    };
                    text.push(n);
                    self.pos += 1 + n.len_utf8();
                }
                Some(_) => {
                    let Some(ch) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
                        self.pos += 1;
                        continue;
                    };
                    text.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        Ok(Value::string(text, Span::new(open + 1, self.pos - 1)))
    }

    fn regex(&mut self) -> Result<Value, ParseIssue> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(err(
                        Span::new(open, open + 1),
                        "unterminated regular expression: this `/` is never closed",
                    ))
                }
                Some(b'/') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') if self.peek_at(self.pos + 1) == Some(b'/') => {
                    text.push('/');
                    self.pos += 2;
                }
                Some(_) => {
                    let Some(ch) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
                        self.pos += 1;
                        continue;
                    };
                    text.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        Ok(Value::string(text, Span::new(open + 1, self.pos - 1)))
    }

    /// An unquoted term with `\` escapes; `*` and `?` are wildcards.
    fn term(&mut self) -> Result<Term, ParseIssue> {
        let start = self.pos;
        let mut text = String::new();
        let mut wild = Vec::new();
        let mut escaped_wild = false;
        while let Some(c) = self.peek() {
            if c == b'\\' {
                let Some(n) = self.src.get(self.pos + 1..).and_then(|s| s.chars().next()) else {
                    return Err(err(
                        Span::new(self.pos, self.pos + 1),
                        "a backslash at the end of the query escapes nothing",
                    ));
                };
                escaped_wild |= n == '*' || n == '?';
                text.push(n);
                self.pos += 1 + n.len_utf8();
                continue;
            }
            if ends_term(c) || c == b')' {
                break;
            }
            if c == b'*' || c == b'?' {
                wild.push((text.len(), c as char));
            }
            let Some(ch) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
                break;
            };
            text.push(ch);
            self.pos += ch.len_utf8();
        }
        if self.pos == start {
            return Err(err(
                self.char_span(start),
                format!("expected a term, found {}", self.describe(start)),
            ));
        }
        Ok(Term {
            text,
            span: Span::new(start, self.pos),
            wild,
            escaped_wild,
        })
    }

    /// `~N` (fuzziness/proximity, kept) and `^N` (boost, dropped).
    fn skip_suffixes(&mut self, modifiers: &mut Vec<String>) -> Result<(), ParseIssue> {
        loop {
            match self.peek() {
                Some(c @ (b'~' | b'^')) => {
                    let at = self.pos;
                    self.pos += 1;
                    while self.peek().is_some_and(|d| d.is_ascii_digit() || d == b'.') {
                        self.pos += 1;
                    }
                    if c == b'^' && self.pos == at + 1 {
                        return Err(err(
                            Span::new(at, at + 1),
                            "a boost `^` needs a number after it",
                        ));
                    }
                    if c == b'~' {
                        modifiers.push(self.src.get(at..self.pos).unwrap_or("~").to_string());
                    }
                }
                _ => return Ok(()),
            }
        }
    }
}

/// A comparison from an unquoted term: wildcards and CIDR recognised.
fn cmp_from_term(field: Field, term: Term, span: Span, modifiers: Vec<String>) -> Logic {
    let (op, values) = if term.wild.is_empty() {
        if super::kql::is_cidr(&term.text) {
            (Op::Cidr, vec![Value::string(term.text, term.span)])
        } else {
            (Op::Eq, vec![Value::guess(term.text, term.span)])
        }
    } else if term.text == "*" {
        (Op::Exists, Vec::new())
    } else {
        let n = term.text.len();
        let stars_only = !term.escaped_wild && term.wild.iter().all(|w| w.1 == '*');
        let lead = term.wild.first().map(|w| w.0) == Some(0);
        let trail = term.wild.last().map(|w| w.0) == Some(n - 1);
        let inner = |a: usize, b: usize| term.text.get(a..b).unwrap_or("").to_string();
        let (op, text) = match (stars_only, lead, trail, term.wild.len()) {
            (true, true, false, 1) if n > 1 => (Op::EndsWith, inner(1, n)),
            (true, false, true, 1) if n > 1 => (Op::StartsWith, inner(0, n - 1)),
            (true, true, true, 2) if n > 2 => (Op::Contains, inner(1, n - 1)),
            _ => (Op::Wildcard, term.text.clone()),
        };
        (op, vec![Value::string(text, term.span)])
    };
    let mut cmp = Cmp::new(field, op, values, span);
    cmp.modifiers = modifiers;
    Logic::Cmp(cmp)
}

/// Combine a group's clauses (see the module docs), keeping their order.
fn combine(clauses: Vec<(Occur, Logic)>, in_field: bool) -> Logic {
    let has_must = clauses.iter().any(|c| c.0 == Occur::Must);
    let mut parts = Vec::new();
    let mut should = Vec::new();
    let mut should_at = None;
    for (o, l) in clauses {
        match o {
            Occur::Must => parts.push(l),
            Occur::MustNot => parts.push(Logic::not(l)),
            // Optional clauses only score when something is required.
            Occur::Should if has_must => {}
            Occur::Should => {
                should_at.get_or_insert(parts.len());
                should.push(l);
            }
        }
    }
    if let Some(at) = should_at {
        let or = if in_field {
            merge_same_field(should)
        } else {
            Logic::or(should)
        };
        parts.insert(at, or);
    }
    Logic::and(parts)
}

/// `field:(a OR b)`: alternatives with the same field and operator share
/// one comparison.
fn merge_same_field(items: Vec<Logic>) -> Logic {
    let mut out: Vec<Logic> = Vec::new();
    for item in items {
        if let Logic::Cmp(c) = &item {
            if !matches!(c.op, Op::Range { .. } | Op::Exists) && c.modifiers.is_empty() {
                if let Some(Logic::Cmp(prev)) = out.iter_mut().find(|l| {
                    matches!(l, Logic::Cmp(p) if p.op == c.op && p.field.raw == c.field.raw && p.modifiers.is_empty())
                }) {
                    prev.values.extend(c.values.iter().cloned());
                    prev.span = prev.span.join(c.span);
                    continue;
                }
            }
        }
        out.push(item);
    }
    Logic::or(out)
}

/// Give every comparison of a `field:( … )` group the span of the whole
/// group (the comparison as written).
fn respan(mut l: Logic, span: Span) -> Logic {
    fn go(l: &mut Logic, span: Span) {
        match l {
            Logic::And(c) | Logic::Or(c) => c.iter_mut().for_each(|x| go(x, span)),
            Logic::Not(x) => go(x, span),
            Logic::Cmp(c) => c.span = span,
            _ => {}
        }
    }
    go(&mut l, span);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::Parsed;
    use crate::testkit::{self, cmp, texts};

    fn ok(text: &str) -> Logic {
        let q = parse(text);
        assert!(q.issues.is_empty(), "{text:?}: {:?}", q.issues);
        q.logic
    }

    /// The tree without spans, to compare shapes.
    fn shape(text: &str) -> Logic {
        let mut l = ok(text);
        l.map_spans(&|_| Span::default());
        l
    }

    fn error(text: &str) -> ParseIssue {
        let q = parse(text);
        assert_eq!(q.issues.len(), 1, "{text:?}: {:?}", q.issues);
        assert_eq!(q.issues[0].code, "RL008");
        q.issues[0].clone()
    }

    #[test]
    fn field_group_is_one_cmp_with_exact_spans() {
        let t = "destination.port:(6667 OR 6697)";
        let l = ok(t);
        let c = cmp(&l);
        assert_eq!(c.field.raw, "destination.port");
        assert_eq!(c.field.span, Span::new(0, 16));
        assert_eq!(texts(c), ["6667", "6697"]);
        assert_eq!(c.values[0].parsed, Parsed::Int(6667));
        assert_eq!(c.values[0].span, Span::new(18, 22));
        assert_eq!(c.values[1].span, Span::new(26, 30));
        assert_eq!(c.span, Span::new(0, t.len()));
        // implicit OR inside a group
        assert_eq!(texts(cmp(&ok("f:(a b c)"))), ["a", "b", "c"]);
    }

    #[test]
    fn and_or_not() {
        let l = ok("a:1 AND NOT b:2");
        let shaped = shape("a:1 AND NOT b:2");
        let Logic::And(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(&items[0]).field.raw, "a");
        let Logic::Not(n) = &items[1] else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(n).field.raw, "b");
        assert_eq!(shape("a:1 && !b:2"), shaped);
        assert_eq!(shape("+a:1 -b:2"), shaped);
        assert_eq!(shape("a:1 -b:2"), shaped);

        let l = ok("a:1 OR b:2");
        assert!(matches!(&l, Logic::Or(v) if v.len() == 2));
        assert_eq!(shape("a:1 b:2"), shape("a:1 OR b:2"));
        assert_eq!(shape("a:1 || b:2"), shape("a:1 OR b:2"));

        // lower-case words are terms, not operators
        let l = ok("a:1 and");
        assert!(matches!(&l, Logic::Or(v) if v.len() == 2));

        let l = ok("(a:1 OR b:2) AND c:3");
        let Logic::And(items) = &l else {
            panic!("{l:?}")
        };
        assert!(matches!(items[0], Logic::Or(_)));

        let l = ok("NOT a:1");
        assert!(matches!(l, Logic::Not(_)));
    }

    #[test]
    fn classic_required_clauses() {
        // `+a b`: b is optional when a clause is required.
        let l = ok("+a:1 b:2");
        assert_eq!(cmp(&l).field.raw, "a");
        // AND makes both neighbours required.
        let l = ok("a:1 OR b:2 AND c:3");
        let Logic::And(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(cmp(&items[0]).field.raw, "b");
        assert_eq!(cmp(&items[1]).field.raw, "c");
    }

    #[test]
    fn ranges() {
        let t = "destination.port:[1024 TO 65535]";
        let c = cmp(&ok(t)).clone();
        assert_eq!(
            c.op,
            Op::Range {
                lo_inclusive: true,
                hi_inclusive: true
            }
        );
        assert_eq!(texts(&c), ["1024", "65535"]);
        assert_eq!(c.values[0].span, Span::new(18, 22));
        assert_eq!(c.values[1].span, Span::new(26, 31));
        assert_eq!(c.span, Span::new(0, t.len()));
        let c = cmp(&ok("f:{1 TO 5]")).clone();
        assert_eq!(
            c.op,
            Op::Range {
                lo_inclusive: false,
                hi_inclusive: true
            }
        );
        assert_eq!(cmp(&ok("f:[1024 TO *]")).op, Op::Gte);
        assert_eq!(cmp(&ok("f:{* TO 10}")).op, Op::Lt);
        assert_eq!(cmp(&ok("f:[* TO *]")).op, Op::Exists);
        assert_eq!(cmp(&ok("f:>=10")).op, Op::Gte);
        assert_eq!(cmp(&ok("f:<10")).op, Op::Lt);
        assert_eq!(texts(cmp(&ok(r#"f:["a" TO "b"]"#))), ["a", "b"]);
    }

    #[test]
    fn wildcards_phrases_regex_exists() {
        let c = cmp(&ok("process.name:*.exe")).clone();
        assert_eq!((c.op, texts(&c)), (Op::EndsWith, vec![".exe"]));
        assert_eq!(cmp(&ok("f:cmd*")).op, Op::StartsWith);
        assert_eq!(cmp(&ok("f:*x*")).op, Op::Contains);
        let c = cmp(&ok("f:c?d")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Wildcard, vec!["c?d"]));
        let t = r#"f:"a \"b\" c""#;
        let c = cmp(&ok(t)).clone();
        assert_eq!((c.op, texts(&c)), (Op::Eq, vec![r#"a "b" c"#]));
        assert_eq!(c.values[0].span, Span::new(3, t.len() - 1));
        let c = cmp(&ok(r"f:/ab+c\/d/")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Regex, vec!["ab+c/d"]));
        let c = cmp(&ok("_exists_:user.name")).clone();
        assert_eq!((c.op, c.field.raw.as_str()), (Op::Exists, "user.name"));
        assert_eq!(c.field.span, Span::new(9, 18));
        assert_eq!(cmp(&ok("f:*")).op, Op::Exists);
        let c = cmp(&ok(r"f:C\:\\Windows\\*")).clone();
        assert_eq!((c.op, texts(&c)), (Op::StartsWith, vec![r"C:\Windows\"]));
        let c = cmp(&ok(r"source.ip:10.0.0.0\/8")).clone();
        assert_eq!(c.op, Op::Cidr);
        let c = cmp(&ok(r#"source.ip:"10.0.0.0/8""#)).clone();
        assert_eq!(c.op, Op::Cidr);
        let c = cmp(&ok("f:roam~2^3")).clone();
        assert_eq!(c.modifiers, ["~2"]);
        let Logic::Keyword(k) = ok("mimikatz") else {
            panic!()
        };
        assert_eq!(k.values[0].text, "mimikatz");
    }

    #[test]
    fn realistic_query() {
        let t = r#"event.category:process AND process.name:(cmd.exe OR "power shell.exe") AND NOT user.name:*$ AND NOT process.args:\-enc* AND event.action:"Process Create (rule: ProcessCreate)""#;
        let l = ok(t);
        let mut seen = Vec::new();
        l.visit_cmps(&mut |c, neg| {
            seen.push((
                c.field.raw.clone(),
                c.op,
                c.values.iter().map(|v| v.text.clone()).collect::<Vec<_>>(),
                neg,
            ))
        });
        let s = |a: &str| a.to_string();
        assert_eq!(
            seen,
            [
                (s("event.category"), Op::Eq, vec![s("process")], false),
                (
                    s("process.name"),
                    Op::Eq,
                    vec![s("cmd.exe"), s("power shell.exe")],
                    false
                ),
                (s("user.name"), Op::EndsWith, vec![s("$")], true),
                (s("process.args"), Op::StartsWith, vec![s("-enc")], true),
                (
                    s("event.action"),
                    Op::Eq,
                    vec![s("Process Create (rule: ProcessCreate)")],
                    false
                ),
            ]
        );
    }

    #[test]
    fn errors_at_exact_positions() {
        let e = error("a:(1 OR 2");
        assert_eq!(e.span, Span::new(2, 3));
        let e = error("a:1 )");
        assert_eq!(e.span, Span::new(4, 5));
        let e = error(r#"a:"abc"#);
        assert_eq!(e.span, Span::new(2, 3));
        let e = error("a:1 AND");
        assert_eq!(e.span, Span::new(4, 7));
        let e = error("AND a:1");
        assert_eq!(e.span, Span::new(0, 3));
        let e = error("a:[1 TO");
        assert_eq!(e.span, Span::point(7));
        let e = error("a:[1 2]");
        assert_eq!(e.span, Span::new(5, 6));
        let e = error("a:[1 TO 2");
        assert_eq!(e.span, Span::new(2, 3));
        let e = error("a:");
        assert_eq!(e.span, Span::point(2));
        let e = error("a:1 -");
        assert_eq!(e.span, Span::new(4, 5));
        let e = error(r"a:b\");
        assert_eq!(e.span, Span::new(3, 4));
        let e = error("a:/x");
        assert_eq!(e.span, Span::new(2, 3));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let t = format!("{}a:1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(error(&t).message.contains("nested too deeply"));
        let t = format!("a:{}1{}", "(".repeat(5000), ")".repeat(5000));
        error(&t);
        let t = format!("{}a:1", "NOT ".repeat(5000));
        assert!(parse(&t).issues.len() <= 1);
    }

    #[test]
    fn garbage_never_panics() {
        let alphabet = "ab:()[]{} \"\\*?^~/+-!&|<>=ANDORTNO\n.0123456789éあ";
        testkit::for_each_garbage(0x9e37_79b9, alphabet, |text| {
            testkit::assert_issue_spans(text, &parse(text).issues);
        });
    }
}
