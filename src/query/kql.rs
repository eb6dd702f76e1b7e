//! Kibana Query Language (KQL, Elastic's `kuery`).
//!
//! A hand-written recursive-descent parser over the query text. The grammar
//! follows Kibana's:
//!
//! ```text
//! query      = or
//! or         = and ("or" and)*
//! and        = not ("and" not)*
//! not        = "not" not | sub
//! sub        = "(" or ")" | nested
//! nested     = literal ":" "{" or "}" | expression
//! expression = literal (":" values | range_op literal)?   # no operator: a bare term
//! values     = "(" value_or ")" | value
//! value_or   = value_and ("or" value_and)*
//! value_and  = value_not ("and" value_not)*
//! value_not  = "not" value_not | values
//! ```
//!
//! Keywords are case-insensitive. Unquoted literals may contain spaces (as
//! in Kibana) up to a keyword, a special character or the end; `*` is the
//! only wildcard (`?` is an ordinary character in KQL), `\` escapes the
//! special characters `\():<>"*{}`, keywords and whitespace (`\t`, `\n`,
//! `\r`), and `\uXXXX`. Quoted values are phrases: `*` inside quotes is a
//! literal star.
//!
//! IR mapping: `field:(a or b)` is one [`Cmp`] with two values; a value list
//! mixing `and`/`not` becomes a tree of comparisons on the same field;
//! `field:*` is [`Op::Exists`]; a value with only a leading/trailing `*` is
//! `EndsWith`/`StartsWith`/`Contains` (stars stripped), other stars make
//! [`Op::Wildcard`]; an IP network (`10.0.0.0/8`, `"FE80::/10"`) is
//! [`Op::Cidr`]; a term without a field is a [`Logic::Keyword`].

use super::QueryParse;
use crate::rule::{Anchors, Cmp, Field, Keyword, Logic, Op, ParseIssue, Value};
use crate::source::Span;

/// Deepest nesting of parentheses / `not` / nested fields accepted.
const MAX_DEPTH: usize = 200;

/// Parse a query; spans are relative to `text`.
pub fn parse(text: &str) -> QueryParse {
    let mut p = Parser::new(text);
    let result = p.parse_query();
    match result {
        Ok(logic) => QueryParse {
            logic,
            issues: Vec::new(),
            anchors: Anchors {
                append_needs_parens: Some(p.top_or),
                ..Anchors::default()
            },
        },
        Err(issue) => QueryParse {
            logic: Logic::opaque(text, Span::new(0, text.len()), "KQL syntax error"),
            issues: vec![issue],
            anchors: Anchors::default(),
        },
    }
}

/// True when `text` has an `or` outside any parentheses (so appending
/// `and …` would bind to the last alternative only), or does not parse.
pub fn has_top_level_or(text: &str) -> bool {
    let mut p = Parser::new(text);
    match p.parse_query() {
        Ok(_) => p.top_or,
        Err(_) => true,
    }
}

fn err(span: Span, msg: impl Into<String>) -> ParseIssue {
    ParseIssue::error("RL008", span, msg)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kw {
    Or,
    And,
    Not,
}

impl Kw {
    fn len(self) -> usize {
        match self {
            Kw::Or => 2,
            Kw::And | Kw::Not => 3,
        }
    }
}

/// A literal token after unescaping.
#[derive(Debug, Clone)]
struct Literal {
    text: String,
    /// The token's characters (without the quotes of a quoted string).
    span: Span,
    /// Span including quotes.
    outer: Span,
    quoted: bool,
    /// Byte offsets (in `text`) of unescaped `*` wildcards.
    stars: Vec<usize>,
    /// Some `*` in `text` was escaped (a literal star).
    literal_star: bool,
}

/// A value-list expression for one field, before it becomes Logic.
#[derive(Debug, Clone)]
enum VTree {
    Or(Vec<VTree>),
    And(Vec<VTree>),
    Not(Box<VTree>),
    /// `op` with a value; `Op::Exists` has none.
    Leaf(Op, Option<Value>),
}

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
    /// Prefix of a nested field query (`parent.`).
    prefix: String,
    /// An `or` was seen outside all parentheses.
    top_or: bool,
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Characters that end an unquoted literal.
fn is_special(b: u8) -> bool {
    matches!(b, b'(' | b')' | b':' | b'<' | b'>' | b'"' | b'{' | b'}')
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            depth: 0,
            prefix: String::new(),
            top_or: false,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.b.len()
    }

    fn skip_ws(&mut self) {
        while let Some(c) = self.peek() {
            if is_ws(c) {
                self.pos += 1;
            } else {
                break;
            }
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
            None => "the end of the query".to_string(),
        }
    }

    /// The keyword starting at `at`, if any: `or`/`and`/`not` in any case,
    /// followed by whitespace, `(`, `"` or the end.
    fn keyword_at(&self, at: usize) -> Option<Kw> {
        for kw in [Kw::Or, Kw::And, Kw::Not] {
            let word: &[u8] = match kw {
                Kw::Or => b"or",
                Kw::And => b"and",
                Kw::Not => b"not",
            };
            let end = at + word.len();
            let Some(slice) = self.b.get(at..end) else {
                continue;
            };
            if !slice.eq_ignore_ascii_case(word) {
                continue;
            }
            match self.b.get(end) {
                None => return Some(kw),
                Some(&c) if is_ws(c) || c == b'(' || c == b'"' => return Some(kw),
                _ => {}
            }
        }
        None
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

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn parse_query(&mut self) -> Result<Logic, ParseIssue> {
        self.skip_ws();
        if self.at_end() {
            return Err(err(Span::point(self.pos), "the query is empty"));
        }
        let logic = self.parse_or()?;
        self.skip_ws();
        if !self.at_end() {
            let msg = match self.peek() {
                Some(b')') => "unmatched `)`".to_string(),
                Some(b'}') => "unmatched `}`".to_string(),
                _ => format!(
                    "unexpected {} (expected `and`, `or` or the end of the query)",
                    self.describe(self.pos)
                ),
            };
            return Err(err(self.char_span(self.pos), msg));
        }
        Ok(logic)
    }

    /// After optional whitespace, consume keyword `kw` if present.
    fn eat_keyword(&mut self, kw: Kw) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.keyword_at(self.pos) == Some(kw) {
            self.pos += kw.len();
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn parse_or(&mut self) -> Result<Logic, ParseIssue> {
        let mut items = vec![self.parse_and()?];
        while self.eat_keyword(Kw::Or) {
            items.push(self.parse_and()?);
        }
        if items.len() > 1 && self.depth == 0 {
            self.top_or = true;
        }
        Ok(Logic::or(items))
    }

    fn parse_and(&mut self) -> Result<Logic, ParseIssue> {
        let mut items = vec![self.parse_not()?];
        while self.eat_keyword(Kw::And) {
            items.push(self.parse_not()?);
        }
        Ok(Logic::and(items))
    }

    fn parse_not(&mut self) -> Result<Logic, ParseIssue> {
        self.skip_ws();
        if self.keyword_at(self.pos) == Some(Kw::Not) {
            let at = self.pos;
            self.pos += 3;
            self.skip_ws();
            self.enter(at)?;
            let inner = self.parse_not()?;
            self.leave();
            return Ok(Logic::not(inner));
        }
        self.parse_sub()
    }

    fn parse_sub(&mut self) -> Result<Logic, ParseIssue> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            let open = self.pos;
            self.pos += 1;
            self.enter(open)?;
            self.skip_ws();
            let inner = self.parse_or()?;
            self.skip_ws();
            self.expect_close(b')', open)?;
            self.leave();
            return Ok(inner);
        }
        self.parse_expression()
    }

    fn expect_close(&mut self, close: u8, open: usize) -> Result<(), ParseIssue> {
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        let (o, c) = if close == b')' {
            ('(', ')')
        } else {
            ('{', '}')
        };
        if self.at_end() {
            Err(err(
                Span::new(open, open + 1),
                format!("unclosed `{o}`: expected `{c}` before the end of the query"),
            ))
        } else {
            Err(err(
                self.char_span(self.pos),
                format!(
                    "expected `{c}` to close the `{o}` at offset {open}, found {}",
                    self.describe(self.pos)
                ),
            ))
        }
    }

    /// Error for a position where an expression or value must start.
    fn expected_here(&self, what: &str) -> ParseIssue {
        let at = self.pos;
        if self.at_end() {
            return err(
                Span::point(at),
                format!("expected {what}, found the end of the query"),
            );
        }
        if let Some(kw) = self.keyword_at(at) {
            let word = self.src.get(at..at + kw.len()).unwrap_or("");
            return err(
                Span::new(at, at + kw.len()),
                format!("expected {what}, found the keyword `{word}`"),
            );
        }
        err(
            self.char_span(at),
            format!("expected {what}, found {}", self.describe(at)),
        )
    }

    fn parse_expression(&mut self) -> Result<Logic, ParseIssue> {
        self.skip_ws();
        let start = self.pos;
        if self.at_end()
            || matches!(self.keyword_at(start), Some(Kw::Or | Kw::And))
            || self.peek().is_some_and(|c| is_special(c) && c != b'"')
        {
            return Err(self.expected_here("a field, a value or `(`"));
        }
        let lit = self.parse_literal()?;
        let after = self.pos;
        self.skip_ws();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                self.skip_ws();
                let field_name = format!("{}{}", self.prefix, lit.text);
                let field = Field::new(field_name, lit.span);
                if self.peek() == Some(b'{') {
                    let open = self.pos;
                    self.pos += 1;
                    self.enter(open)?;
                    let saved = std::mem::replace(&mut self.prefix, format!("{}.", field.raw));
                    self.skip_ws();
                    let inner = self.parse_or();
                    self.prefix = saved;
                    let inner = inner?;
                    self.skip_ws();
                    self.expect_close(b'}', open)?;
                    self.leave();
                    return Ok(inner);
                }
                let tree = self.parse_values()?;
                let span = Span::new(lit.outer.start, self.pos);
                Ok(tree_to_logic(&field, span, tree))
            }
            Some(b'<') | Some(b'>') => {
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
                self.skip_ws();
                if self.at_end()
                    || self.keyword_at(self.pos).is_some()
                    || self.peek().is_some_and(|c| is_special(c) && c != b'"')
                {
                    return Err(self.expected_here("a value after the range operator"));
                }
                let v = self.parse_literal()?;
                let value = if v.quoted {
                    Value::string(v.text, v.span)
                } else {
                    Value::guess(v.text, v.span)
                };
                let field = Field::new(format!("{}{}", self.prefix, lit.text), lit.span);
                Ok(Logic::Cmp(Cmp::new(
                    field,
                    op,
                    vec![value],
                    Span::new(lit.outer.start, self.pos),
                )))
            }
            _ => {
                self.pos = after;
                let value = if lit.quoted || !lit.stars.is_empty() || lit.literal_star {
                    Value::string(lit.text, lit.span)
                } else {
                    Value::guess(lit.text, lit.span)
                };
                Ok(Logic::Keyword(Keyword {
                    values: vec![value],
                    span: lit.outer,
                }))
            }
        }
    }

    fn parse_values(&mut self) -> Result<VTree, ParseIssue> {
        self.skip_ws();
        if self.peek() == Some(b'(') {
            let open = self.pos;
            self.pos += 1;
            self.enter(open)?;
            self.skip_ws();
            let t = self.parse_value_or()?;
            self.skip_ws();
            self.expect_close(b')', open)?;
            self.leave();
            return Ok(t);
        }
        if self.at_end()
            || self.keyword_at(self.pos).is_some()
            || self.peek().is_some_and(|c| is_special(c) && c != b'"')
        {
            return Err(self.expected_here("a value"));
        }
        let lit = self.parse_literal()?;
        Ok(leaf(lit))
    }

    fn parse_value_or(&mut self) -> Result<VTree, ParseIssue> {
        let mut items = vec![self.parse_value_and()?];
        while self.eat_keyword(Kw::Or) {
            items.push(self.parse_value_and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(VTree::Or(Vec::new()))
        } else {
            VTree::Or(items)
        })
    }

    fn parse_value_and(&mut self) -> Result<VTree, ParseIssue> {
        let mut items = vec![self.parse_value_not()?];
        while self.eat_keyword(Kw::And) {
            items.push(self.parse_value_not()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(VTree::And(Vec::new()))
        } else {
            VTree::And(items)
        })
    }

    fn parse_value_not(&mut self) -> Result<VTree, ParseIssue> {
        self.skip_ws();
        if self.keyword_at(self.pos) == Some(Kw::Not) {
            let at = self.pos;
            self.pos += 3;
            self.skip_ws();
            self.enter(at)?;
            let inner = self.parse_value_not()?;
            self.leave();
            return Ok(VTree::Not(Box::new(inner)));
        }
        self.parse_values()
    }

    /// A quoted or unquoted literal at `self.pos`.
    fn parse_literal(&mut self) -> Result<Literal, ParseIssue> {
        if self.peek() == Some(b'"') {
            return self.parse_quoted();
        }
        let start = self.pos;
        let mut text = String::new();
        let mut stars = Vec::new();
        let mut literal_star = false;
        let mut end = start;
        while let Some(c) = self.peek() {
            if c == b'\\' {
                let esc_at = self.pos;
                let Some(next) = self.src.get(self.pos + 1..).and_then(|s| s.chars().next()) else {
                    return Err(err(
                        Span::new(esc_at, esc_at + 1),
                        "a backslash at the end of the query escapes nothing",
                    ));
                };
                self.pos += 1 + next.len_utf8();
                match next {
                    't' => text.push('\t'),
                    'n' => text.push('\n'),
                    'r' => text.push('\r'),
                    'u' => match self.unicode_escape(self.pos) {
                        Some(ch) => {
                            text.push(ch);
                            self.pos += 4;
                        }
                        None => text.push('u'),
                    },
                    '*' => {
                        literal_star = true;
                        text.push('*');
                    }
                    other => text.push(other),
                }
                end = self.pos;
                continue;
            }
            if c == b'*' {
                stars.push(text.len());
                text.push('*');
                self.pos += 1;
                end = self.pos;
                continue;
            }
            if is_ws(c) {
                // Whitespace belongs to the literal unless what follows ends it.
                let mut j = self.pos;
                while self.b.get(j).is_some_and(|&x| is_ws(x)) {
                    j += 1;
                }
                let ends = match self.b.get(j) {
                    None => true,
                    Some(&x) => is_special(x) || self.keyword_at(j).is_some(),
                };
                if ends {
                    break;
                }
                if let Some(ws) = self.src.get(self.pos..j) {
                    text.push_str(ws);
                }
                self.pos = j;
                continue;
            }
            if is_special(c) {
                break;
            }
            let Some(ch) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
                break;
            };
            text.push(ch);
            self.pos += ch.len_utf8();
            end = self.pos;
        }
        if end == start {
            return Err(self.expected_here("a value"));
        }
        self.pos = end;
        Ok(Literal {
            text,
            span: Span::new(start, end),
            outer: Span::new(start, end),
            quoted: false,
            stars,
            literal_star,
        })
    }

    fn unicode_escape(&self, at: usize) -> Option<char> {
        let hex = self.src.get(at..at + 4)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let n = u32::from_str_radix(hex, 16).ok()?;
        char::from_u32(n)
    }

    fn parse_quoted(&mut self) -> Result<Literal, ParseIssue> {
        let open = self.pos;
        self.pos += 1;
        let mut text = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(err(
                    Span::new(open, open + 1),
                    "unterminated string: this `\"` is never closed",
                ));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    break;
                }
                b'\\' => {
                    let next = self.src.get(self.pos + 1..).and_then(|s| s.chars().next());
                    match next {
                        Some('"') => text.push('"'),
                        Some('\\') => text.push('\\'),
                        Some('t') => text.push('\t'),
                        Some('n') => text.push('\n'),
                        Some('r') => text.push('\r'),
                        Some('u') => {
                            if let Some(ch) = self.unicode_escape(self.pos + 2) {
                                text.push(ch);
                                self.pos += 6;
                                continue;
                            }
                            text.push_str("\\u");
                        }
                        Some(other) => {
                            // Not an escape: the backslash is an ordinary character.
                            text.push('\\');
                            text.push(other);
                        }
                        None => {
                            return Err(err(
                                Span::new(open, open + 1),
                                "unterminated string: this `\"` is never closed",
                            ))
                        }
                    }
                    self.pos += 1 + next.map(char::len_utf8).unwrap_or(0);
                }
                _ => {
                    let Some(ch) = self.src.get(self.pos..).and_then(|s| s.chars().next()) else {
                        self.pos += 1;
                        continue;
                    };
                    text.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
        Ok(Literal {
            text,
            span: Span::new(open + 1, self.pos - 1),
            outer: Span::new(open, self.pos),
            quoted: true,
            stars: Vec::new(),
            literal_star: false,
        })
    }
}

/// True for `10.0.0.0/8`, `FE80::/10`: an IP address and a prefix length.
pub(crate) fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    if bits.to_string() != s.split_once('/').map(|x| x.1).unwrap_or("") {
        return false;
    }
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// The operator and value an unquoted/quoted literal stands for.
fn leaf(lit: Literal) -> VTree {
    if lit.quoted {
        let op = if is_cidr(&lit.text) { Op::Cidr } else { Op::Eq };
        return VTree::Leaf(op, Some(Value::string(lit.text, lit.span)));
    }
    if lit.stars.is_empty() {
        if is_cidr(&lit.text) {
            return VTree::Leaf(Op::Cidr, Some(Value::string(lit.text, lit.span)));
        }
        return VTree::Leaf(Op::Eq, Some(Value::guess(lit.text, lit.span)));
    }
    if lit.text == "*" {
        return VTree::Leaf(Op::Exists, None);
    }
    let (op, text) = wildcard_op(&lit);
    VTree::Leaf(op, Some(Value::string(text, lit.span)))
}

/// `*x` → EndsWith, `x*` → StartsWith, `*x*` → Contains, else Wildcard.
fn wildcard_op(lit: &Literal) -> (Op, String) {
    let t = &lit.text;
    let n = t.len();
    if !lit.literal_star {
        let lead = lit.stars.first() == Some(&0);
        let trail = n > 0 && lit.stars.last() == Some(&(n - 1));
        let count = lit.stars.len();
        let inner = |a: usize, b: usize| t.get(a..b).unwrap_or("").to_string();
        match (lead, trail, count) {
            (true, false, 1) if n > 1 => return (Op::EndsWith, inner(1, n)),
            (false, true, 1) if n > 1 => return (Op::StartsWith, inner(0, n - 1)),
            (true, true, 2) if n > 2 => return (Op::Contains, inner(1, n - 1)),
            _ => {}
        }
    }
    (Op::Wildcard, t.clone())
}

/// Turn a value list for `field` into Logic: alternatives with the same
/// operator share one comparison.
fn tree_to_logic(field: &Field, span: Span, tree: VTree) -> Logic {
    match tree {
        VTree::Leaf(op, value) => Logic::Cmp(Cmp::new(
            field.clone(),
            op,
            value.into_iter().collect(),
            span,
        )),
        VTree::Not(inner) => Logic::not(tree_to_logic(field, span, *inner)),
        VTree::And(items) => Logic::and(
            items
                .into_iter()
                .map(|t| tree_to_logic(field, span, t))
                .collect(),
        ),
        VTree::Or(items) => {
            let mut flat = Vec::new();
            flatten_or(items, &mut flat);
            // Group plain values by operator, keeping first-seen order.
            let mut groups: Vec<(Op, Vec<Value>)> = Vec::new();
            let mut out: Vec<Logic> = Vec::new();
            let mut slots: Vec<Option<usize>> = Vec::new();
            for t in flat {
                match t {
                    VTree::Leaf(op, Some(v)) => {
                        if let Some(g) = groups.iter_mut().find(|g| g.0 == op) {
                            g.1.push(v);
                        } else {
                            groups.push((op, vec![v]));
                            slots.push(Some(groups.len() - 1));
                        }
                    }
                    other => {
                        out.push(tree_to_logic(field, span, other));
                        slots.push(None);
                    }
                }
            }
            let mut others = out.into_iter();
            let mut groups = groups.into_iter().map(Some).collect::<Vec<_>>();
            let mut result = Vec::new();
            for slot in slots {
                match slot {
                    Some(i) => {
                        if let Some((op, values)) = groups.get_mut(i).and_then(Option::take) {
                            result.push(Logic::Cmp(Cmp::new(field.clone(), op, values, span)));
                        }
                    }
                    None => {
                        if let Some(l) = others.next() {
                            result.push(l);
                        }
                    }
                }
            }
            Logic::or(result)
        }
    }
}

fn flatten_or(items: Vec<VTree>, out: &mut Vec<VTree>) {
    for t in items {
        match t {
            VTree::Or(inner) => flatten_or(inner, out),
            other => out.push(other),
        }
    }
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

    fn error(text: &str) -> ParseIssue {
        let q = parse(text);
        assert_eq!(q.issues.len(), 1, "{text:?}: {:?}", q.issues);
        let i = q.issues[0].clone();
        assert_eq!(i.code, "RL008");
        assert!(q.logic.has_opaque());
        i
    }

    #[test]
    fn value_list_is_one_cmp_with_exact_spans() {
        let t = "destination.port:(6667 or 6697)";
        let l = ok(t);
        let c = cmp(&l);
        assert_eq!(c.field.raw, "destination.port");
        assert_eq!(c.field.span, Span::new(0, 16));
        assert_eq!(c.op, Op::Eq);
        assert_eq!(texts(c), ["6667", "6697"]);
        assert_eq!(c.values[0].parsed, Parsed::Int(6667));
        assert_eq!(&t[c.values[0].span.start..c.values[0].span.end], "6667");
        assert_eq!(&t[c.values[1].span.start..c.values[1].span.end], "6697");
        assert_eq!(c.span, Span::new(0, t.len()));
    }

    #[test]
    fn precedence_not_and_or() {
        let l = ok("a:1 or b:2 and not c:3");
        let Logic::Or(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(&items[0]).field.raw, "a");
        let Logic::And(and) = &items[1] else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(&and[0]).field.raw, "b");
        let Logic::Not(n) = &and[1] else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(n).field.raw, "c");
        // keywords in any case
        assert_eq!(ok("a:1 OR b:2 AnD NOT c:3"), l);
        // parentheses
        let l = ok("(a:1 or b:2) and c:3");
        let Logic::And(items) = &l else {
            panic!("{l:?}")
        };
        assert!(matches!(items[0], Logic::Or(_)));
    }

    #[test]
    fn mixed_value_list_builds_a_tree() {
        let l = ok("f:(a or b and c)");
        let Logic::Or(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(texts(cmp(&items[0])), ["a"]);
        let Logic::And(and) = &items[1] else {
            panic!("{l:?}")
        };
        assert_eq!(texts(cmp(&and[0])), ["b"]);
        assert_eq!(texts(cmp(&and[1])), ["c"]);

        let l = ok("http.request.method:(* and not (GET or HEAD))");
        let Logic::And(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(&items[0]).op, Op::Exists);
        assert!(cmp(&items[0]).values.is_empty());
        let Logic::Not(n) = &items[1] else {
            panic!("{l:?}")
        };
        assert_eq!(texts(cmp(n)), ["GET", "HEAD"]);
        assert_eq!(cmp(n).field.raw, "http.request.method");
    }

    #[test]
    fn or_groups_values_by_operator() {
        let l = ok("process.name:(bash or *sh or zsh or python*)");
        let Logic::Or(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(items.len(), 3);
        assert_eq!(
            (cmp(&items[0]).op, texts(cmp(&items[0]))),
            (Op::Eq, vec!["bash", "zsh"])
        );
        assert_eq!(
            (cmp(&items[1]).op, texts(cmp(&items[1]))),
            (Op::EndsWith, vec!["sh"])
        );
        assert_eq!(
            (cmp(&items[2]).op, texts(cmp(&items[2]))),
            (Op::StartsWith, vec!["python"])
        );
    }

    #[test]
    fn wildcards() {
        let t = "f:*.exe";
        let c = cmp(&ok(t)).clone();
        assert_eq!((c.op, texts(&c)), (Op::EndsWith, vec![".exe"]));
        assert_eq!(c.values[0].span, Span::new(2, 7));
        assert_eq!(c.values[0].parsed, Parsed::Str);
        let c = cmp(&ok("f:cmd*")).clone();
        assert_eq!((c.op, texts(&c)), (Op::StartsWith, vec!["cmd"]));
        let c = cmp(&ok("f:*foo*")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Contains, vec!["foo"]));
        let c = cmp(&ok("f:a*b")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Wildcard, vec!["a*b"]));
        // `?` is not a KQL wildcard
        let c = cmp(&ok("f:a?b")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Eq, vec!["a?b"]));
        // an escaped star is literal
        let c = cmp(&ok(r"f:a\*")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Eq, vec!["a*"]));
        // inside quotes `*` is literal
        let c = cmp(&ok(r#"f:"*a b*""#)).clone();
        assert_eq!((c.op, texts(&c)), (Op::Eq, vec!["*a b*"]));
        assert_eq!(c.values[0].span, Span::new(3, 8));
    }

    #[test]
    fn exists_and_not_exists() {
        let c = cmp(&ok("f : *")).clone();
        assert_eq!(c.op, Op::Exists);
        assert_eq!(c.span, Span::new(0, 5));
        let l = ok("not zoom.meeting.password:*");
        let Logic::Not(n) = &l else { panic!() };
        assert_eq!(cmp(n).op, Op::Exists);
    }

    #[test]
    fn quoted_and_escaped_values() {
        let t = r#"f:"a \"b\" \\ c""#;
        let c = cmp(&ok(t)).clone();
        assert_eq!(texts(&c), [r#"a "b" \ c"#]);
        assert_eq!(c.values[0].span, Span::new(3, t.len() - 1));
        let c = cmp(&ok(r"f:C\:\\Windows\\*")).clone();
        assert_eq!((c.op, texts(&c)), (Op::StartsWith, vec![r"C:\Windows\"]));
        let c = cmp(&ok(r"f:a\ or\ b")).clone();
        assert_eq!(texts(&c), ["a or b"]);
        let c = cmp(&ok(r#"f:"443""#)).clone();
        assert_eq!(c.values[0].parsed, Parsed::Str);
        assert_eq!(c.values[0].as_int(), Some(443));
    }

    #[test]
    fn unquoted_values_may_hold_spaces() {
        let c = cmp(&ok("user_agent.original:*S3 Browser*")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Contains, vec!["S3 Browser"]));
        let l = ok("f:hello world or g:x");
        let Logic::Or(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(texts(cmp(&items[0])), ["hello world"]);
    }

    #[test]
    fn ranges() {
        let t = "destination.port >= 1024 and network.bytes<256";
        let l = ok(t);
        let Logic::And(items) = &l else { panic!() };
        let c = cmp(&items[0]);
        assert_eq!(c.op, Op::Gte);
        assert_eq!(c.values[0].parsed, Parsed::Int(1024));
        assert_eq!(c.span, Span::new(0, 24));
        assert_eq!(c.values[0].span, Span::new(20, 24));
        let c = cmp(&items[1]);
        assert_eq!((c.op, texts(c)), (Op::Lt, vec!["256"]));
        for (t, op) in [("a > 1", Op::Gt), ("a <= 1", Op::Lte), ("a < 1", Op::Lt)] {
            assert_eq!(cmp(&ok(t)).op, op);
        }
        let c = cmp(&ok(r#"@timestamp >= "now-30d/d""#)).clone();
        assert_eq!(texts(&c), ["now-30d/d"]);
    }

    #[test]
    fn nested_fields_are_prefixed() {
        let t = "binding:{ action: ADD and role:(x or y) }";
        let l = ok(t);
        let Logic::And(items) = &l else {
            panic!("{l:?}")
        };
        assert_eq!(cmp(&items[0]).field.raw, "binding.action");
        assert_eq!(cmp(&items[0]).field.span, Span::new(10, 16));
        assert_eq!(cmp(&items[1]).field.raw, "binding.role");
        assert_eq!(texts(cmp(&items[1])), ["x", "y"]);
    }

    #[test]
    fn cidr_booleans_and_numbers() {
        let c = cmp(&ok("source.ip:10.0.0.0/8")).clone();
        assert_eq!((c.op, texts(&c)), (Op::Cidr, vec!["10.0.0.0/8"]));
        let c = cmp(&ok(r#"source.ip:"FE80::/10""#)).clone();
        assert_eq!(c.op, Op::Cidr);
        let c = cmp(&ok(r#"source.ip:"::1""#)).clone();
        assert_eq!(c.op, Op::Eq);
        assert_eq!(cmp(&ok("f:true")).values[0].parsed, Parsed::Bool(true));
        assert_eq!(cmp(&ok("f:1.5")).values[0].parsed, Parsed::Float(1.5));
        assert_eq!(cmp(&ok("f:0755")).values[0].parsed, Parsed::Str);
    }

    #[test]
    fn bare_terms_are_keywords() {
        let l = ok("mimikatz or \"sekurlsa logonpasswords\"");
        let Logic::Or(items) = &l else { panic!() };
        let Logic::Keyword(k) = &items[0] else {
            panic!()
        };
        assert_eq!(k.values[0].text, "mimikatz");
        assert_eq!(k.span, Span::new(0, 8));
        let Logic::Keyword(k) = &items[1] else {
            panic!()
        };
        assert_eq!(k.values[0].text, "sekurlsa logonpasswords");
    }

    #[test]
    fn errors_at_exact_positions() {
        let e = error("a:(1 or 2");
        assert_eq!(e.span, Span::new(2, 3));
        assert!(e.message.contains("unclosed `(`"), "{}", e.message);
        let e = error("(a:1 or b:2");
        assert_eq!(e.span, Span::new(0, 1));
        let e = error("a:1 )");
        assert_eq!(e.span, Span::new(4, 5));
        assert!(e.message.contains("unmatched `)`"));
        let e = error(r#"a:"abc"#);
        assert_eq!(e.span, Span::new(2, 3));
        assert!(e.message.contains("unterminated"));
        let e = error("a: or b");
        assert_eq!(e.span, Span::new(3, 5));
        let e = error("a:1 and");
        assert_eq!(e.span, Span::point(7));
        let e = error("a:1 b:2");
        assert_eq!(e.span, Span::new(5, 6));
        let e = error("a:(1 2:3)");
        assert_eq!(e.span, Span::new(6, 7));
        let e = error("a:1 and }");
        assert_eq!(e.span, Span::new(8, 9));
        let e = error("a:{ b:1 ");
        assert_eq!(e.span, Span::new(2, 3));
        let e = error(r"a:b\");
        assert_eq!(e.span, Span::new(3, 4));
        let e = error("   ");
        assert_eq!(e.span, Span::point(3));
        let e = error("a >= ");
        assert_eq!(e.span, Span::point(5));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let t = format!("{}a:1{}", "(".repeat(5000), ")".repeat(5000));
        let e = error(&t);
        assert!(e.message.contains("nested too deeply"));
        let t = format!("{}a:1", "not ".repeat(5000));
        error(&t);
        let t = format!("a:{}1{}", "(".repeat(5000), ")".repeat(5000));
        error(&t);
        let t = format!("a:{}1", "{".repeat(5000));
        error(&t);
        let ok_depth = format!("{}a:1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&ok_depth).issues.is_empty());
    }

    #[test]
    fn top_level_or_detection() {
        assert!(has_top_level_or("a:1 or b:2"));
        assert!(!has_top_level_or("(a:1 or b:2) and c:3"));
        assert!(!has_top_level_or("a:(1 or 2)"));
        assert!(!has_top_level_or("x:{ a:1 or b:2 }"));
    }

    /// Deterministic pseudo-random inputs: never panic, spans in bounds.
    #[test]
    fn garbage_never_panics() {
        let alphabet = "ab:() \"\\*?{}<>=!orandnt\n\t.-/0123456789éあ";
        testkit::for_each_garbage(0x1234_5678, alphabet, |text| {
            let q = parse(text);
            testkit::assert_issue_spans(text, &q.issues);
            q.logic.visit(&mut |n| {
                if let Some(s) = n.span() {
                    assert!(s.end <= text.len() && s.start <= s.end, "{text:?}");
                }
            });
        });
    }
}
