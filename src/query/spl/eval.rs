//! Eval expressions (`where`, `eval`): precedence is the usual one —
//! parentheses, `NOT`, comparisons, `AND`, `XOR`, `OR` — and string
//! comparisons are exact (no wildcards).
//!
//! `where` conditions become Logic: `f="x"` → Eq, `like(f, "x%")` →
//! StartsWith/EndsWith/Contains/Wildcard, `match(f, re)` → Regex,
//! `isnull(f)` → Eq null, `isnotnull(f)` → Exists, `in(f, …)` / `f IN (…)`
//! → Eq list, `cidrmatch(c, f)` → Cidr; `lower(f)`/`upper(f)` around a
//! field keep the field with a `lower`/`upper` modifier. The rest is
//! Opaque.

use super::lex::{is_ws, skip_macro, skip_string, unescape, SyntaxError, MAX_DEPTH};
use super::pipeline::Ctx;
use crate::rule::{Cmp, Logic, Op, Value};
use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Num(String, Span),
    /// A string literal: decoded text and the span inside the quotes.
    Str(String, Span),
    Field(String, Span),
    Call {
        name: String,
        args: Vec<Expr>,
        span: Span,
    },
    Bin {
        op: BinOp,
        l: Box<Expr>,
        r: Box<Expr>,
        span: Span,
    },
    Neg(Box<Expr>, Span),
    Not(Box<Expr>, Span),
    And(Vec<Expr>, Span),
    Or(Vec<Expr>, Span),
    Xor(Vec<Expr>, Span),
    In {
        e: Box<Expr>,
        list: Vec<Expr>,
        span: Span,
    },
    Macro(Span),
    Sub(Span),
    /// `( e )`, spanning the parentheses.
    Paren(Box<Expr>, Span),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Num(_, s) | Expr::Field(_, s) | Expr::Macro(s) | Expr::Sub(s) => *s,
            Expr::Str(_, s) => Span::new(s.start.saturating_sub(1), s.end + 1),
            Expr::Call { span, .. }
            | Expr::Bin { span, .. }
            | Expr::Neg(_, span)
            | Expr::Not(_, span)
            | Expr::And(_, span)
            | Expr::Or(_, span)
            | Expr::Xor(_, span)
            | Expr::Paren(_, span)
            | Expr::In { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Span),
    Str(Span),
    /// `'field name'`
    QField(Span),
    Ident(Span),
    LParen(usize),
    RParen(usize),
    Comma(usize),
    Op(BinOp, Span),
    Not(Span),
    Macro(Span),
    Sub(Span),
    Bad(Span),
    End,
}

pub(crate) struct EvalParser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    end: usize,
    depth: usize,
}

impl<'a> EvalParser<'a> {
    pub fn new(src: &'a str, start: usize, end: usize) -> Self {
        EvalParser {
            src,
            b: src.as_bytes(),
            pos: start,
            end: end.min(src.len()),
            depth: 0,
        }
    }

    pub fn pos(&self) -> usize {
        self.pos
    }

    fn text(&self, s: Span) -> &'a str {
        self.src.get(s.start..s.end).unwrap_or("")
    }

    pub fn skip_ws(&mut self) {
        while self.pos < self.end && is_ws(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.end
    }

    fn lex(&self, mut i: usize) -> (Tok, usize) {
        let b = self.b;
        while i < self.end && is_ws(b[i]) {
            i += 1;
        }
        if i >= self.end {
            return (Tok::End, i);
        }
        let c = b[i];
        let one = |op| (Tok::Op(op, Span::new(i, i + 1)), i + 1);
        let two = |op| (Tok::Op(op, Span::new(i, i + 2)), i + 2);
        let next = b.get(i + 1).copied();
        match c {
            b'(' => (Tok::LParen(i), i + 1),
            b')' => (Tok::RParen(i), i + 1),
            b',' => (Tok::Comma(i), i + 1),
            b'"' => {
                let j = skip_string(b, i).unwrap_or(self.end).min(self.end);
                (Tok::Str(Span::new(i, j)), j)
            }
            b'\'' => {
                let j = b[i + 1..self.end]
                    .iter()
                    .position(|&c| c == b'\'')
                    .map(|p| i + 1 + p + 1)
                    .unwrap_or(self.end);
                (Tok::QField(Span::new(i, j)), j)
            }
            b'`' => {
                let j = skip_macro(b, i).unwrap_or(self.end).min(self.end);
                (Tok::Macro(Span::new(i, j)), j)
            }
            b'[' => {
                let j = super::lex::skip_group(b, i)
                    .unwrap_or(self.end)
                    .min(self.end);
                (Tok::Sub(Span::new(i, j)), j)
            }
            b'=' if next == Some(b'=') => two(BinOp::Eq),
            b'=' => one(BinOp::Eq),
            b'!' if next == Some(b'=') => two(BinOp::Ne),
            b'!' => (Tok::Not(Span::new(i, i + 1)), i + 1),
            b'<' if next == Some(b'=') => two(BinOp::Le),
            b'<' if next == Some(b'>') => two(BinOp::Ne),
            b'<' => one(BinOp::Lt),
            b'>' if next == Some(b'=') => two(BinOp::Ge),
            b'>' => one(BinOp::Gt),
            b'+' => one(BinOp::Add),
            b'-' => one(BinOp::Sub),
            b'*' => one(BinOp::Mul),
            b'/' => one(BinOp::Div),
            b'%' => one(BinOp::Mod),
            b'.' if !next.is_some_and(|n| n.is_ascii_digit()) => one(BinOp::Concat),
            c if c.is_ascii_digit() || c == b'.' => {
                let mut j = i;
                while j < self.end && (b[j].is_ascii_alphanumeric() || b[j] == b'.') {
                    // `1e-5`
                    if (b[j] == b'e' || b[j] == b'E') && matches!(b.get(j + 1), Some(b'-' | b'+')) {
                        j += 2;
                        continue;
                    }
                    j += 1;
                }
                (Tok::Num(Span::new(i, j)), j)
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c == b'@' || c == b'$' || c >= 0x80 => {
                let mut j = i;
                while j < self.end {
                    let c = b[j];
                    let ident = c.is_ascii_alphanumeric()
                        || matches!(c, b'_' | b'@' | b'$' | b':' | b'{' | b'}')
                        || c >= 0x80;
                    let dot = c == b'.'
                        && b.get(j + 1)
                            .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'_');
                    if !(ident || dot) {
                        break;
                    }
                    j += 1;
                }
                let s = Span::new(i, j);
                let w = self.text(s);
                let tok = if w.eq_ignore_ascii_case("NOT") {
                    Tok::Not(s)
                } else if w.eq_ignore_ascii_case("LIKE") && !self.call_follows(j) {
                    Tok::Op(BinOp::Like, s)
                } else {
                    Tok::Ident(s)
                };
                (tok, j)
            }
            _ => (Tok::Bad(Span::new(i, i + 1)), i + 1),
        }
    }

    /// Whether `(` follows at `j` (after spaces): a function call.
    fn call_follows(&self, mut j: usize) -> bool {
        while j < self.end && is_ws(self.b[j]) {
            j += 1;
        }
        j < self.end && self.b[j] == b'('
    }

    fn peek(&self) -> Tok {
        self.lex(self.pos).0
    }

    fn bump(&mut self) -> Tok {
        let (t, j) = self.lex(self.pos);
        self.pos = j;
        t
    }

    fn kw(&self, t: &Tok, kw: &str) -> bool {
        matches!(t, Tok::Ident(s) if self.text(*s).eq_ignore_ascii_case(kw))
    }

    fn err_at(&self, t: &Tok, msg: &str) -> SyntaxError {
        let s = match t {
            Tok::Num(s)
            | Tok::Str(s)
            | Tok::QField(s)
            | Tok::Ident(s)
            | Tok::Op(_, s)
            | Tok::Not(s)
            | Tok::Macro(s)
            | Tok::Sub(s)
            | Tok::Bad(s) => *s,
            Tok::LParen(i) | Tok::RParen(i) | Tok::Comma(i) => Span::new(*i, i + 1),
            Tok::End => Span::point(self.pos),
        };
        SyntaxError::new(s, msg)
    }

    /// Parse one expression; stops before a top-level `,` or `)` or at the end.
    pub fn expr(&mut self) -> Result<Expr, SyntaxError> {
        self.or()
    }

    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let p = self.pos.min(self.end);
            return Err(SyntaxError::new(
                Span::new(p, p),
                "expression nested too deeply",
            ));
        }
        Ok(())
    }

    fn chain(
        &mut self,
        kw: &str,
        next: fn(&mut Self) -> Result<Expr, SyntaxError>,
        make: fn(Vec<Expr>, Span) -> Expr,
    ) -> Result<Expr, SyntaxError> {
        let first = next(self)?;
        let mut items = vec![first];
        loop {
            let t = self.peek();
            if !self.kw(&t, kw) {
                break;
            }
            self.bump();
            if matches!(self.peek(), Tok::End | Tok::RParen(_) | Tok::Comma(_)) {
                return Err(self.err_at(&t, "operator needs an operand on both sides"));
            }
            items.push(next(self)?);
        }
        if items.len() == 1 {
            return Ok(items.pop().unwrap_or(Expr::Macro(Span::default())));
        }
        let span = items
            .iter()
            .map(Expr::span)
            .reduce(Span::join)
            .unwrap_or_default();
        Ok(make(items, span))
    }

    fn or(&mut self) -> Result<Expr, SyntaxError> {
        self.chain("OR", Self::xor, Expr::Or)
    }

    fn xor(&mut self) -> Result<Expr, SyntaxError> {
        self.chain("XOR", Self::and, Expr::Xor)
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        self.chain("AND", Self::not, Expr::And)
    }

    fn not(&mut self) -> Result<Expr, SyntaxError> {
        let t = self.peek();
        if let Tok::Not(s) = t {
            self.bump();
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            let span = s.join(inner.span());
            return Ok(Expr::Not(Box::new(inner), span));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, SyntaxError> {
        let l = self.add()?;
        let t = self.peek();
        match t {
            Tok::Op(
                op @ (BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::Like),
                _,
            ) => {
                self.bump();
                let r = self.add()?;
                let span = l.span().join(r.span());
                Ok(Expr::Bin {
                    op,
                    l: Box::new(l),
                    r: Box::new(r),
                    span,
                })
            }
            Tok::Ident(s) if self.text(s).eq_ignore_ascii_case("IN") => {
                self.bump();
                match self.bump() {
                    Tok::LParen(_) => {}
                    other => return Err(self.err_at(&other, "`IN` needs a parenthesised list")),
                }
                let mut list = Vec::new();
                loop {
                    match self.peek() {
                        Tok::RParen(j) => {
                            self.bump();
                            let span = Span::new(l.span().start, j + 1);
                            return Ok(Expr::In {
                                e: Box::new(l),
                                list,
                                span,
                            });
                        }
                        Tok::Comma(_) => {
                            self.bump();
                        }
                        Tok::End => return Err(self.err_at(&t, "unclosed `IN (` list")),
                        _ => list.push(self.expr()?),
                    }
                }
            }
            _ => Ok(l),
        }
    }

    fn add(&mut self) -> Result<Expr, SyntaxError> {
        let mut l = self.mul()?;
        while let Tok::Op(op @ (BinOp::Add | BinOp::Sub | BinOp::Concat), _) = self.peek() {
            self.bump();
            let r = self.mul()?;
            let span = l.span().join(r.span());
            l = Expr::Bin {
                op,
                l: Box::new(l),
                r: Box::new(r),
                span,
            };
        }
        Ok(l)
    }

    fn mul(&mut self) -> Result<Expr, SyntaxError> {
        let mut l = self.unary()?;
        while let Tok::Op(op @ (BinOp::Mul | BinOp::Div | BinOp::Mod), _) = self.peek() {
            self.bump();
            let r = self.unary()?;
            let span = l.span().join(r.span());
            l = Expr::Bin {
                op,
                l: Box::new(l),
                r: Box::new(r),
                span,
            };
        }
        Ok(l)
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if let Tok::Op(BinOp::Sub | BinOp::Add, s) = self.peek() {
            self.bump();
            self.enter()?;
            let e = self.unary()?;
            self.depth -= 1;
            let span = s.join(e.span());
            return Ok(Expr::Neg(Box::new(e), span));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, SyntaxError> {
        let t = self.bump();
        match t {
            Tok::Num(s) => Ok(Expr::Num(self.text(s).to_string(), s)),
            Tok::Str(s) => {
                let inner = Span::new(s.start + 1, s.end.saturating_sub(1).max(s.start + 1));
                Ok(Expr::Str(unescape(self.text(inner)), inner))
            }
            Tok::QField(s) => {
                let inner = Span::new(s.start + 1, s.end.saturating_sub(1).max(s.start + 1));
                Ok(Expr::Field(self.text(inner).to_string(), inner))
            }
            Tok::Macro(s) => Ok(Expr::Macro(s)),
            Tok::Sub(s) => Ok(Expr::Sub(s)),
            Tok::LParen(i) => {
                self.enter()?;
                let e = self.expr()?;
                self.depth -= 1;
                match self.bump() {
                    Tok::RParen(j) => Ok(Expr::Paren(Box::new(e), Span::new(i, j + 1))),
                    Tok::End => Err(SyntaxError::new(Span::new(i, i + 1), "unclosed `(`")),
                    other => Err(self.err_at(&other, "expected `)`")),
                }
            }
            Tok::Ident(s) => {
                let name = self.text(s).to_string();
                if self.call_follows(s.end) {
                    self.bump(); // (
                    self.enter()?;
                    let mut args = Vec::new();
                    let end;
                    loop {
                        match self.peek() {
                            Tok::RParen(j) => {
                                self.bump();
                                end = j + 1;
                                break;
                            }
                            Tok::Comma(_) => {
                                self.bump();
                            }
                            Tok::End => {
                                return Err(SyntaxError::new(
                                    Span::new(s.start, s.end),
                                    "unclosed function call",
                                ))
                            }
                            _ => args.push(self.expr()?),
                        }
                    }
                    self.depth -= 1;
                    return Ok(Expr::Call {
                        name,
                        args,
                        span: Span::new(s.start, end),
                    });
                }
                Ok(Expr::Field(name, s))
            }
            Tok::End => Err(SyntaxError::new(
                Span::point(self.pos),
                "expression ends too early",
            )),
            other => Err(self.err_at(&other, "unexpected token in expression")),
        }
    }

    /// Skip a top-level `,` (eval assignments); true when one was there.
    pub fn comma(&mut self) -> bool {
        if let Tok::Comma(_) = self.peek() {
            self.bump();
            return true;
        }
        false
    }

    /// `name =` at the start of an eval assignment.
    pub fn assignment_target(&mut self) -> Option<(String, Span)> {
        let save = self.pos;
        let t = self.bump();
        let name = match t {
            Tok::Ident(s) => (self.text(s).to_string(), s),
            Tok::QField(s) => {
                let inner = Span::new(s.start + 1, s.end.saturating_sub(1).max(s.start + 1));
                (self.text(inner).to_string(), inner)
            }
            Tok::Str(s) => {
                let inner = Span::new(s.start + 1, s.end.saturating_sub(1).max(s.start + 1));
                (unescape(self.text(inner)), inner)
            }
            _ => {
                self.pos = save;
                return None;
            }
        };
        match self.bump() {
            Tok::Op(BinOp::Eq, s) if s.len() == 1 => Some(name),
            _ => {
                self.pos = save;
                None
            }
        }
    }

    /// Skip to the next top-level comma (error recovery in eval).
    pub fn skip_to_comma(&mut self) {
        let mut depth = 0usize;
        loop {
            match self.peek() {
                Tok::End => return,
                Tok::LParen(_) => depth += 1,
                Tok::RParen(_) => depth = depth.saturating_sub(1),
                Tok::Comma(_) if depth == 0 => return,
                _ => {}
            }
            self.bump();
        }
    }
}

/// A field reference, possibly wrapped in `lower()`/`upper()`/`trim()`.
fn field_of(e: &Expr) -> Option<(String, Span, Vec<String>)> {
    match e {
        Expr::Paren(inner, _) => field_of(inner),
        Expr::Field(n, s) => Some((n.clone(), *s, Vec::new())),
        Expr::Call { name, args, .. } if args.len() == 1 => {
            let m = name.to_ascii_lowercase();
            if matches!(m.as_str(), "lower" | "upper" | "trim" | "ltrim" | "rtrim") {
                let (n, s, mut mods) = field_of(&args[0])?;
                mods.push(m);
                Some((n, s, mods))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A literal value (number, string, negative number).
fn literal_of(e: &Expr) -> Option<Value> {
    match e {
        Expr::Paren(inner, _) => literal_of(inner),
        Expr::Num(t, s) => Some(Value::guess(t.clone(), *s)),
        Expr::Str(t, s) => Some(Value::string(t.clone(), *s)),
        Expr::Neg(inner, s) => match &**inner {
            Expr::Num(t, _) => Some(Value::guess(format!("-{t}"), *s)),
            _ => None,
        },
        Expr::Call { name, args, span } if args.is_empty() && name.eq_ignore_ascii_case("null") => {
            Some(Value::null(*span))
        }
        _ => None,
    }
}

impl Ctx<'_> {
    fn eval_cmp(&self, f: &Expr, op: Op, values: Vec<Value>, span: Span) -> Option<Logic> {
        let (name, fspan, mut mods) = field_of(f)?;
        let (field, env_mods) = self.field(&name, fspan);
        let mut all = env_mods;
        all.append(&mut mods);
        let mut c = Cmp::new(field, op, values, span);
        c.modifiers = all;
        Some(Logic::Cmp(c))
    }

    fn opaque_expr(&mut self, e: &Expr, reason: &str) -> Logic {
        let s = e.span();
        let text = self.src.get(s.start..s.end).unwrap_or("").to_string();
        self.note_opaque(s, &format!("{reason}: `{}`", shorten(&text)));
        Logic::opaque(text, s, reason)
    }

    /// Convert a `where` expression to Logic.
    pub(crate) fn eval_logic(&mut self, e: &Expr, depth: usize) -> Logic {
        if depth > MAX_DEPTH {
            return self.opaque_expr(e, "expression nested too deeply");
        }
        match e {
            Expr::And(items, _) => Logic::and(
                items
                    .iter()
                    .map(|x| self.eval_logic(x, depth + 1))
                    .collect(),
            ),
            Expr::Or(items, _) => Logic::or(
                items
                    .iter()
                    .map(|x| self.eval_logic(x, depth + 1))
                    .collect(),
            ),
            Expr::Not(inner, _) => Logic::not(self.eval_logic(inner, depth + 1)),
            Expr::Paren(inner, _) => self.eval_logic(inner, depth + 1),
            Expr::Macro(s) => self
                .macro_logic(*s)
                .unwrap_or_else(|| Logic::And(Vec::new())),
            Expr::Bin { op, l, r, span } => self.eval_bin(*op, l, r, *span, e),
            Expr::In { e: f, list, span } => self.eval_in(f, list, *span, e),
            Expr::Call { name, args, span } => self.eval_call(name, args, *span, e),
            _ => self.opaque_expr(e, "expression not modelled"),
        }
    }

    fn eval_bin(&mut self, op: BinOp, l: &Expr, r: &Expr, span: Span, whole: &Expr) -> Logic {
        if op == BinOp::Like {
            return self.like(l, r, span, whole);
        }
        let flip = |op: BinOp| match op {
            BinOp::Lt => BinOp::Gt,
            BinOp::Le => BinOp::Ge,
            BinOp::Gt => BinOp::Lt,
            BinOp::Ge => BinOp::Le,
            o => o,
        };
        let (f, lit, op) = if field_of(l).is_some() && literal_of(r).is_some() {
            (l, r, op)
        } else if field_of(r).is_some() && literal_of(l).is_some() {
            (r, l, flip(op))
        } else if field_of(l).is_some()
            && field_of(r).is_some()
            && matches!(op, BinOp::Eq | BinOp::Ne)
        {
            // Two fields compared: the value names the other field.
            let Some((rn, rs, _)) = field_of(r) else {
                return self.opaque_expr(whole, "expression not modelled");
            };
            let (rf, _) = self.field(&rn, rs);
            let v = Value::string(rf.raw, rs);
            let Some(c) = self.eval_cmp(l, Op::FieldRef, vec![v], span) else {
                return self.opaque_expr(whole, "expression not modelled");
            };
            return if op == BinOp::Ne { Logic::not(c) } else { c };
        } else {
            return self.opaque_expr(whole, "comparison not modelled");
        };
        let Some(value) = literal_of(lit) else {
            return self.opaque_expr(whole, "comparison not modelled");
        };
        let (o, neg) = match op {
            BinOp::Eq if value.is_null() => (Op::Eq, false),
            BinOp::Eq => (Op::Eq, false),
            BinOp::Ne => (Op::Eq, true),
            BinOp::Lt => (Op::Lt, false),
            BinOp::Le => (Op::Lte, false),
            BinOp::Gt => (Op::Gt, false),
            BinOp::Ge => (Op::Gte, false),
            _ => return self.opaque_expr(whole, "expression not modelled"),
        };
        match self.eval_cmp(f, o, vec![value], span) {
            Some(c) if neg => Logic::not(c),
            Some(c) => c,
            None => self.opaque_expr(whole, "comparison not modelled"),
        }
    }

    fn like(&mut self, f: &Expr, pat: &Expr, span: Span, whole: &Expr) -> Logic {
        let pat = strip_parens(pat);
        let Expr::Str(p, ps) = pat else {
            return self.opaque_expr(whole, "like() pattern is not a string");
        };
        let (op, value) = like_value(p, *ps);
        self.eval_cmp(f, op, vec![value], span)
            .unwrap_or_else(|| self.opaque_expr(whole, "like() on an expression"))
    }

    fn eval_in(&mut self, f: &Expr, list: &[Expr], span: Span, whole: &Expr) -> Logic {
        let mut values = Vec::new();
        for x in list {
            match literal_of(x) {
                Some(v) => values.push(v),
                None => {
                    if let (Some((n, s, _)), 1) = (field_of(x), list.len()) {
                        // `f IN (other_field)`: compares with another field.
                        let (rf, _) = self.field(&n, s);
                        let v = Value::string(rf.raw, s);
                        if let Some(c) = self.eval_cmp(f, Op::FieldRef, vec![v], span) {
                            return c;
                        }
                    }
                    return self.opaque_expr(whole, "in() with a non-literal value");
                }
            }
        }
        self.eval_cmp(f, Op::Eq, values, span)
            .unwrap_or_else(|| self.opaque_expr(whole, "in() on an expression"))
    }

    fn eval_call(&mut self, name: &str, args: &[Expr], span: Span, whole: &Expr) -> Logic {
        let n = name.to_ascii_lowercase();
        match (n.as_str(), args) {
            ("like", [f, p]) => self.like(f, p, span, whole),
            ("match", [f, Expr::Str(re, rs)]) => self
                .eval_cmp(f, Op::Regex, vec![Value::string(re.clone(), *rs)], span)
                .unwrap_or_else(|| self.opaque_expr(whole, "match() on an expression")),
            ("isnull", [f]) => self
                .eval_cmp(f, Op::Eq, vec![Value::null(f.span())], span)
                .unwrap_or_else(|| self.opaque_expr(whole, "isnull() on an expression")),
            ("isnotnull", [f]) => self
                .eval_cmp(f, Op::Exists, Vec::new(), span)
                .unwrap_or_else(|| self.opaque_expr(whole, "isnotnull() on an expression")),
            ("in", [f, rest @ ..]) if !rest.is_empty() => self.eval_in(f, rest, span, whole),
            ("cidrmatch", [Expr::Str(c, cs), f]) => self
                .eval_cmp(f, Op::Cidr, vec![Value::string(c.clone(), *cs)], span)
                .unwrap_or_else(|| self.opaque_expr(whole, "cidrmatch() on an expression")),
            _ => self.opaque_expr(whole, &format!("function {name}() not modelled")),
        }
    }
}

fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(inner, _) => strip_parens(inner),
        other => other,
    }
}

/// `like()` pattern: `%` any run, `_` one character. Only-leading/trailing
/// `%` without `_` map exactly; the rest becomes a `*`/`?` glob.
pub(crate) fn like_value(p: &str, span: Span) -> (Op, Value) {
    let lead = p.len() - p.trim_start_matches('%').len();
    let trail = p.len() - p.trim_end_matches('%').len();
    if lead == p.len() {
        return (Op::Wildcard, Value::string("*", span));
    }
    let inner = &p[lead..p.len() - trail];
    if inner.contains('%') || inner.contains('_') {
        let glob: String = p
            .chars()
            .map(|c| match c {
                '%' => '*',
                '_' => '?',
                c => c,
            })
            .collect();
        return (Op::Wildcard, Value::string(glob, span));
    }
    let vspan = Span::new(
        span.start + lead,
        span.end.saturating_sub(trail).max(span.start + lead),
    );
    let op = match (lead > 0, trail > 0) {
        (true, true) => Op::Contains,
        (true, false) => Op::EndsWith,
        (false, true) => Op::StartsWith,
        (false, false) => Op::Eq,
    };
    (op, Value::string(inner, vspan))
}

pub(crate) fn shorten(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        let t: String = s.chars().take(57).collect();
        format!("{t}...")
    } else {
        s
    }
}
