//! The search-expression grammar of the `search` command (also the implied
//! base search, `tstats … where`, `inputlookup … where`).
//!
//! Precedence (Splunk's, for the search command): parentheses, `NOT`,
//! `OR`, then `AND` (explicit or implied by juxtaposition) — so
//! `a OR b c` is `(a OR b) AND c`. Operators are upper case; lower-case
//! `and`/`or` are plain terms.

use super::lex::{is_ws, skip_group, skip_macro, skip_string, unescape, SyntaxError, MAX_DEPTH};
use super::pipeline::Ctx;
use crate::rule::{Cmp, Field, Keyword, Logic, Op, Value};
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    LParen(usize),
    RParen(usize),
    Comma(usize),
    Op(CmpOp, Span),
    Word(Span),
    Quoted(Span),
    Macro(Span),
    Sub(Span),
    End,
}

/// Time and search-scope modifiers: not conditions on event fields.
const MODIFIERS: &[&str] = &[
    "earliest",
    "latest",
    "_index_earliest",
    "_index_latest",
    "starttime",
    "endtime",
    "starttimeu",
    "endtimeu",
    "timeformat",
    "daysago",
    "hoursago",
    "minutesago",
    "searchtimespandays",
    "searchtimespanhours",
    "searchtimespanminutes",
    "nodename",
    "splunk_server",
    "splunk_server_group",
];

pub(crate) struct SearchParser<'s, 'c, 'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    end: usize,
    depth: usize,
    ctx: &'c mut Ctx<'s>,
}

/// Parse `ctx.src[start..end]` as a search expression. `Ok(None)` when it
/// holds no condition (empty, `*`, only time modifiers).
pub(crate) fn parse_search(
    ctx: &mut Ctx<'_>,
    start: usize,
    end: usize,
) -> Result<Option<Logic>, SyntaxError> {
    let src = ctx.src;
    let mut p = SearchParser {
        src,
        b: src.as_bytes(),
        pos: start,
        end: end.min(src.len()),
        depth: 0,
        ctx,
    };
    let l = p.parse_and()?;
    match p.peek() {
        Tok::End => Ok(l),
        Tok::RParen(i) => Err(SyntaxError::new(Span::new(i, i + 1), "unmatched `)`")),
        other => Err(SyntaxError::new(
            tok_span(other, p.pos),
            "unexpected token in search expression",
        )),
    }
}

fn tok_span(t: Tok, at: usize) -> Span {
    match t {
        Tok::LParen(i) | Tok::RParen(i) | Tok::Comma(i) => Span::new(i, i + 1),
        Tok::Op(_, s) | Tok::Word(s) | Tok::Quoted(s) | Tok::Macro(s) | Tok::Sub(s) => s,
        Tok::End => Span::point(at),
    }
}

fn op_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

impl<'s, 'c, 'a> SearchParser<'s, 'c, 'a> {
    fn skip_ws(&mut self) {
        while self.pos < self.end && is_ws(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    fn text(&self, s: Span) -> &'a str {
        self.src.get(s.start..s.end).unwrap_or("")
    }

    /// The next token and the offset just after it.
    fn lex(&self, mut i: usize) -> (Tok, usize) {
        let b = self.b;
        while i < self.end && is_ws(b[i]) {
            i += 1;
        }
        if i >= self.end {
            return (Tok::End, i);
        }
        let c = b[i];
        match c {
            b'(' => return (Tok::LParen(i), i + 1),
            b')' => return (Tok::RParen(i), i + 1),
            b',' => return (Tok::Comma(i), i + 1),
            b'"' => {
                let j = skip_string(b, i).unwrap_or(self.end).min(self.end);
                return (Tok::Quoted(Span::new(i, j)), j);
            }
            b'`' => {
                let j = skip_macro(b, i).unwrap_or(self.end).min(self.end);
                return (Tok::Macro(Span::new(i, j)), j);
            }
            b'[' => {
                let j = skip_group(b, i).unwrap_or(self.end).min(self.end);
                return (Tok::Sub(Span::new(i, j)), j);
            }
            b'=' => {
                let j = if b.get(i + 1) == Some(&b'=') {
                    i + 2
                } else {
                    i + 1
                };
                return (Tok::Op(CmpOp::Eq, Span::new(i, j)), j);
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                return (Tok::Op(CmpOp::Ne, Span::new(i, i + 2)), i + 2)
            }
            b'<' | b'>' => {
                let eq = b.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'<', false) => CmpOp::Lt,
                    (b'<', true) => CmpOp::Le,
                    (_, false) => CmpOp::Gt,
                    (_, true) => CmpOp::Ge,
                };
                let j = if eq { i + 2 } else { i + 1 };
                return (Tok::Op(op, Span::new(i, j)), j);
            }
            _ => {}
        }
        let s = i;
        while i < self.end {
            let c = b[i];
            if is_ws(c)
                || matches!(
                    c,
                    b'(' | b')' | b'"' | b'=' | b'<' | b'>' | b',' | b'[' | b'`'
                )
            {
                break;
            }
            if c == b'!' && b.get(i + 1) == Some(&b'=') {
                break;
            }
            if c == b'\\' {
                i = (i + 2).min(self.end);
                continue;
            }
            i += 1;
        }
        (Tok::Word(Span::new(s, i)), i)
    }

    fn peek(&self) -> Tok {
        self.lex(self.pos).0
    }

    fn bump(&mut self) -> Tok {
        let (t, j) = self.lex(self.pos);
        self.pos = j;
        t
    }

    fn is_kw(&self, t: Tok, kw: &str) -> bool {
        matches!(t, Tok::Word(s) if self.text(s) == kw)
    }

    fn deeper(&mut self, at: usize) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError::new(
                Span::new(at, at + 1),
                "search expression nested too deeply",
            ));
        }
        Ok(())
    }

    /// `and := or ((AND)? or)*` — the lowest precedence.
    fn parse_and(&mut self) -> Result<Option<Logic>, SyntaxError> {
        let mut items = Vec::new();
        // A term was read (it may hold no condition, like `earliest=-1d`).
        let mut seen = false;
        loop {
            let t = self.peek();
            match t {
                Tok::End | Tok::RParen(_) => break,
                Tok::Comma(_) => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            if self.is_kw(t, "AND") {
                let s = tok_span(t, self.pos);
                self.bump();
                if !seen || matches!(self.peek(), Tok::End | Tok::RParen(_)) {
                    return Err(SyntaxError::new(s, "`AND` needs a term on both sides"));
                }
                continue;
            }
            seen = true;
            if let Some(l) = self.parse_or()? {
                items.push(l);
            }
        }
        Ok(if items.is_empty() {
            None
        } else {
            Some(Logic::and(items))
        })
    }

    /// `or := not (OR not)*`.
    fn parse_or(&mut self) -> Result<Option<Logic>, SyntaxError> {
        let t = self.peek();
        if self.is_kw(t, "OR") {
            return Err(SyntaxError::new(
                tok_span(t, self.pos),
                "`OR` needs a term on both sides",
            ));
        }
        let first = self.parse_not()?;
        let mut items = vec![first];
        loop {
            let t = self.peek();
            if !self.is_kw(t, "OR") {
                break;
            }
            let s = tok_span(t, self.pos);
            self.bump();
            let n = self.peek();
            if matches!(n, Tok::End | Tok::RParen(_)) || self.is_kw(n, "AND") || self.is_kw(n, "OR")
            {
                return Err(SyntaxError::new(s, "`OR` needs a term on both sides"));
            }
            items.push(self.parse_not()?);
        }
        if items.len() == 1 {
            return Ok(items.pop().flatten());
        }
        // A term without a condition (`*`) matches everything: the OR does too.
        if items.iter().any(Option::is_none) {
            return Ok(None);
        }
        Ok(Some(Logic::or(items.into_iter().flatten().collect())))
    }

    fn parse_not(&mut self) -> Result<Option<Logic>, SyntaxError> {
        let t = self.peek();
        if self.is_kw(t, "NOT") {
            let s = tok_span(t, self.pos);
            self.bump();
            let n = self.peek();
            if matches!(n, Tok::End | Tok::RParen(_)) || self.is_kw(n, "AND") || self.is_kw(n, "OR")
            {
                return Err(SyntaxError::new(s, "`NOT` needs a term after it"));
            }
            self.deeper(s.start)?;
            let inner = self.parse_not()?;
            self.depth -= 1;
            return Ok(inner.map(Logic::not));
        }
        self.parse_atom()
    }

    fn parse_atom(&mut self) -> Result<Option<Logic>, SyntaxError> {
        let t = self.bump();
        match t {
            Tok::LParen(i) => {
                self.deeper(i)?;
                let inner = self.parse_and()?;
                self.depth -= 1;
                match self.bump() {
                    Tok::RParen(j) => {
                        if inner.is_none() && self.text(Span::new(i + 1, j)).trim().is_empty() {
                            return Err(SyntaxError::new(Span::new(i, j + 1), "empty parentheses"));
                        }
                        Ok(inner)
                    }
                    _ => Err(SyntaxError::new(Span::new(i, i + 1), "unclosed `(`")),
                }
            }
            Tok::RParen(i) => Err(SyntaxError::new(Span::new(i, i + 1), "unmatched `)`")),
            Tok::Comma(_) => Ok(None),
            Tok::Op(op, s) => Err(SyntaxError::new(
                s,
                format!("`{}` has no field name before it", op_name(op)),
            )),
            Tok::Macro(s) => Ok(self.ctx.macro_logic(s)),
            Tok::Sub(s) => Ok(Some(self.ctx.subsearch_term(s))),
            Tok::Quoted(s) => {
                if let Tok::Op(op, os) = self.peek() {
                    let name = unescape(self.text(Span::new(s.start + 1, s.end.saturating_sub(1))));
                    self.bump();
                    return self.comparison(
                        name,
                        Span::new(s.start + 1, s.end.saturating_sub(1)),
                        op,
                        os,
                    );
                }
                let inner = Span::new(s.start + 1, s.end.saturating_sub(1).max(s.start + 1));
                let v = Value::string(unescape(self.text(inner)), inner);
                Ok(Some(Logic::Keyword(Keyword {
                    values: vec![v],
                    span: s,
                })))
            }
            Tok::Word(s) => self.word(s),
            Tok::End => Ok(None),
        }
    }

    fn word(&mut self, s: Span) -> Result<Option<Logic>, SyntaxError> {
        let w = self.text(s);
        // TERM(x) / CASE(x): a term matched as a whole / case-sensitively.
        if (w == "TERM" || w == "CASE") && self.b.get(s.end) == Some(&b'(') {
            let inner = self.parse_atom()?;
            return Ok(inner);
        }
        match self.peek() {
            Tok::Op(op, os) => {
                self.bump();
                self.comparison(unescape(w), s, op, os)
            }
            t if self.is_kw(t, "IN") => {
                let in_span = tok_span(t, self.pos);
                self.bump();
                self.in_list(unescape(w), s, in_span)
            }
            _ => {
                if w.bytes().all(|c| c == b'*') {
                    return Ok(None);
                }
                let v = Value::guess(unescape(w), s);
                Ok(Some(Logic::Keyword(Keyword {
                    values: vec![v],
                    span: s,
                })))
            }
        }
    }

    /// Read a value after an operator or inside an IN list:
    /// `(span of the characters, decoded text, quoted)`.
    fn value(&mut self, in_list: bool) -> Option<(Span, String, bool)> {
        self.skip_ws();
        if self.pos >= self.end {
            return None;
        }
        let b = self.b;
        let i = self.pos;
        match b[i] {
            b'"' => {
                let j = skip_string(b, i).unwrap_or(self.end).min(self.end);
                self.pos = j;
                let inner = Span::new(i + 1, j.saturating_sub(1).max(i + 1));
                Some((inner, unescape(self.text(inner)), true))
            }
            b')' | b'(' | b'[' => None,
            b',' if in_list => None,
            _ if !in_list && call_name_len(&b[i..self.end]).is_some() => {
                // `relative_time(now(), "-10m@m")`: a function call with
                // its arguments, up to the balanced `)`.
                let open = i + call_name_len(&b[i..self.end]).unwrap_or(0);
                let j = skip_group(b, open).filter(|&j| j <= self.end)?;
                self.pos = j;
                let s = Span::new(i, j);
                Some((s, self.text(s).to_string(), false))
            }
            _ => {
                let mut j = i;
                let mut depth = 0usize;
                while j < self.end {
                    let c = b[j];
                    // `*GetCurrent()*`: parentheses inside a term belong to it.
                    if c == b'(' && j > i {
                        depth += 1;
                        j += 1;
                        continue;
                    }
                    if c == b')' && depth > 0 {
                        depth -= 1;
                        j += 1;
                        continue;
                    }
                    if is_ws(c)
                        || matches!(c, b'(' | b')' | b'"' | b'[' | b'`')
                        || (in_list && c == b',')
                    {
                        break;
                    }
                    if c == b'\\' {
                        j = (j + 2).min(self.end);
                        continue;
                    }
                    j += 1;
                }
                if j == i {
                    return None;
                }
                self.pos = j;
                let s = Span::new(i, j);
                Some((s, unescape(self.text(s)), false))
            }
        }
    }

    fn comparison(
        &mut self,
        name: String,
        fspan: Span,
        op: CmpOp,
        ospan: Span,
    ) -> Result<Option<Logic>, SyntaxError> {
        self.skip_ws();
        if self.pos < self.end && self.b[self.pos] == b'`' {
            // `field=`macro``: the value is whatever the macro expands to.
            let (t, j) = self.lex(self.pos);
            self.pos = j;
            let ms = tok_span(t, j);
            return Ok(Some(Logic::opaque(
                self.text(Span::new(fspan.start, ms.end)),
                Span::new(fspan.start, ms.end),
                "macro",
            )));
        }
        let Some((vspan, text, quoted)) = self.value(false) else {
            return Err(SyntaxError::new(
                ospan,
                format!("`{}` has no value after it", op_name(op)),
            ));
        };
        if MODIFIERS.iter().any(|m| name.eq_ignore_ascii_case(m)) {
            return Ok(None);
        }
        if !quoted && call_name_len(text.as_bytes()).is_some() {
            // A computed bound: `_time >= relative_time(now(), "-10m@m")`.
            let span = Span::new(fspan.start, vspan.end);
            let fn_name = &text[..call_name_len(text.as_bytes()).unwrap_or(0)];
            self.ctx.note_opaque(
                span,
                &format!("comparison with the computed value `{fn_name}(…)` is not modelled"),
            );
            return Ok(Some(Logic::opaque(self.text(span), span, "computed value")));
        }
        let cmp_end = if quoted { vspan.end + 1 } else { vspan.end };
        let span = Span::new(fspan.start, cmp_end);
        Ok(Some(self.ctx.search_cmp(
            &name,
            fspan,
            op,
            &[(vspan, text, quoted)],
            span,
        )))
    }

    fn in_list(
        &mut self,
        name: String,
        fspan: Span,
        in_span: Span,
    ) -> Result<Option<Logic>, SyntaxError> {
        match self.bump() {
            Tok::LParen(_) => {}
            _ => {
                return Err(SyntaxError::new(
                    in_span,
                    "`IN` needs a parenthesised list of values",
                ));
            }
        }
        let mut values = Vec::new();
        let mut macros = Vec::new();
        loop {
            self.skip_ws();
            if self.pos >= self.end {
                return Err(SyntaxError::new(in_span, "unclosed `IN (` list"));
            }
            match self.b[self.pos] {
                b',' => {
                    self.pos += 1;
                    continue;
                }
                b')' => {
                    self.pos += 1;
                    break;
                }
                _ => {}
            }
            if self.b[self.pos] == b'`' {
                let (t, j) = self.lex(self.pos);
                self.pos = j;
                macros.push(tok_span(t, j));
                continue;
            }
            match self.value(true) {
                Some(v) => values.push(v),
                None => {
                    let at = self.pos;
                    return Err(SyntaxError::new(
                        Span::new(at, (at + 1).min(self.end)),
                        "expected a value in the `IN` list",
                    ));
                }
            }
        }
        if values.is_empty() && macros.is_empty() {
            return Err(SyntaxError::new(in_span, "empty `IN ()` list"));
        }
        if MODIFIERS.iter().any(|m| name.eq_ignore_ascii_case(m)) {
            return Ok(None);
        }
        let span = Span::new(fspan.start, self.pos);
        let mut alts = Vec::new();
        if !values.is_empty() {
            alts.push(self.ctx.search_cmp(&name, fspan, CmpOp::Eq, &values, span));
        }
        // A macro in the list expands to more values we cannot see.
        for m in macros {
            let inner = self.text(Span::new(
                m.start + 1,
                m.end.saturating_sub(1).max(m.start + 1),
            ));
            alts.push(Logic::opaque(inner, m, "macro"));
        }
        Ok(Some(Logic::or(alts)))
    }
}

/// `name(` with arguments: the length of `name` when `b` starts with an
/// eval-style function call whose parentheses hold something (so that
/// `GetCurrent()` and `*Get()*` stay plain terms).
fn call_name_len(b: &[u8]) -> Option<usize> {
    let n = b
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))?;
    if n == 0 || !b[0].is_ascii_alphabetic() || b[n] != b'(' {
        return None;
    }
    let close = skip_group(b, n)?;
    let args = &b[n + 1..close - 1];
    let ends = b.get(close).is_none_or(|c| is_ws(*c) || *c == b')');
    (ends && args.iter().any(|c| !is_ws(*c))).then_some(n)
}

/// How a search-command value matches: `(op, value)` with wildcards
/// mapped (`*x` → EndsWith, `x*` → StartsWith, `*x*` → Contains, inner `*`
/// → Wildcard, `*` → Exists) and CIDR blocks recognised. The value span
/// covers the characters left after stripping the `*`s.
pub(crate) fn classify(span: Span, text: &str, quoted: bool) -> (Op, Option<Value>) {
    if !text.is_empty() && text.bytes().all(|c| c == b'*') {
        return (Op::Exists, None);
    }
    if !text.contains('*') {
        if is_cidr(text) {
            return (Op::Cidr, Some(Value::string(text, span)));
        }
        let v = if quoted {
            Value::string(text, span)
        } else {
            Value::guess(text, span)
        };
        return (Op::Eq, Some(v));
    }
    let lead = text.len() - text.trim_start_matches('*').len();
    let trail = text.len() - text.trim_end_matches('*').len();
    let inner = &text[lead..text.len() - trail];
    if inner.contains('*') {
        return (Op::Wildcard, Some(Value::string(text, span)));
    }
    let vspan = Span::new(
        (span.start + lead).min(span.end),
        span.end
            .saturating_sub(trail)
            .max(span.start + lead)
            .max(span.start),
    );
    let op = match (lead > 0, trail > 0) {
        (true, true) => Op::Contains,
        (true, false) => Op::EndsWith,
        _ => Op::StartsWith,
    };
    (op, Some(Value::string(inner, vspan)))
}

/// `10.0.0.0/8`, `fe80::/10`.
pub(crate) fn is_cidr(text: &str) -> bool {
    let Some((addr, bits)) = text.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// Build the Logic for `field <op> values` under search semantics.
pub(crate) fn build_cmp(
    field: Field,
    modifiers: Vec<String>,
    op: CmpOp,
    values: &[(Span, String, bool)],
    span: Span,
) -> Logic {
    let make = |op: Op, vals: Vec<Value>| {
        let mut c = Cmp::new(field.clone(), op, vals, span);
        c.modifiers = modifiers.clone();
        Logic::Cmp(c)
    };
    let l = match op {
        CmpOp::Eq | CmpOp::Ne => {
            let mut groups: Vec<(Op, Vec<Value>)> = Vec::new();
            for (vs, text, quoted) in values {
                let (o, v) = classify(*vs, text, *quoted);
                match groups.iter_mut().find(|g| g.0 == o) {
                    Some(g) => g.1.extend(v),
                    None => groups.push((o, v.into_iter().collect())),
                }
            }
            let cmps: Vec<Logic> = groups.into_iter().map(|(o, v)| make(o, v)).collect();
            let l = Logic::or(cmps);
            if op == CmpOp::Ne {
                Logic::not(l)
            } else {
                l
            }
        }
        _ => {
            let o = match op {
                CmpOp::Lt => Op::Lt,
                CmpOp::Le => Op::Lte,
                CmpOp::Gt => Op::Gt,
                _ => Op::Gte,
            };
            let vals = values
                .iter()
                .map(|(s, t, q)| {
                    if *q {
                        Value::string(t.clone(), *s)
                    } else {
                        Value::guess(t.clone(), *s)
                    }
                })
                .collect();
            make(o, vals)
        }
    };
    l
}
