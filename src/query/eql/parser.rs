//! Recursive-descent parser from EQL tokens to a small syntax tree.
//!
//! Grammar (precedence from loosest to tightest):
//!
//! ```text
//! query     = (event | sequence | sample) pipe*
//! event     = category "where" condition
//! category  = "any" | IDENT | STRING
//! sequence  = "sequence" (by | "with" "maxspan" "=" TIME)* step+ ("until" step)?
//! sample    = "sample" by? step+
//! step      = "!"? "[" event "]" (by | "with" "runs" "=" NUMBER | "as" IDENT)*
//! by        = "by" value ("," value)*
//! pipe      = "|" ("filter" condition | NAME (value ("," value)*)?)
//! condition = and ("or" and)*
//! and       = not ("and" not)*
//! not       = "not" not | predicate
//! predicate = value (cmp value | ":" rhs | "not"? ("like"|"regex") "~"? rhs
//!                    | "not"? "in" "~"? list)?
//! rhs       = list | value
//! value     = term (("+"|"-") term)*
//! term      = unary (("*"|"/"|"%") unary)*
//! unary     = "-" unary | primary
//! primary   = literal | field | NAME "~"? "(" args ")" | "(" condition ")"
//! ```
//!
//! Conditions are parsed by precedence climbing (one function per
//! recursion level instead of one per precedence level) so deeply nested
//! input uses little stack before the depth limit stops it.

use crate::rule::ParseIssue;
use crate::source::Span;

use super::lexer::{Tok, Token};
use super::RL008;

/// Deepest nesting of parentheses / `not` / unary minus accepted.
pub(crate) const MAX_DEPTH: usize = 200;

// Binding powers, loosest first.
const BP_OR: u8 = 1;
const BP_AND: u8 = 2;
/// The operand of `not`: a comparison or tighter.
const BP_NOT: u8 = 3;
const BP_CMP: u8 = 4;
const BP_ADD: u8 = 5;
const BP_MUL: u8 = 6;
/// The operand of unary minus.
const BP_NEG: u8 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PredKind {
    /// `:`
    Seq,
    Like,
    Regex,
    In,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>, Span),
    Cmp {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        span: Span,
    },
    Pred {
        kind: PredKind,
        ci: bool,
        negated: bool,
        lhs: Box<Expr>,
        items: Vec<Expr>,
        span: Span,
    },
    Call {
        name: String,
        ci: bool,
        args: Vec<Expr>,
        span: Span,
    },
    /// A field name (`?` and backquotes removed); `span` is the name.
    Field {
        raw: String,
        span: Span,
        full: Span,
    },
    /// A string literal: decoded text, span of the content.
    Str {
        text: String,
        span: Span,
        full: Span,
    },
    Num {
        text: String,
        span: Span,
    },
    Bool(bool, Span),
    Null(Span),
    Arith {
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        span: Span,
    },
    Neg(Box<Expr>, Span),
    Paren(Box<Expr>, Span),
}

impl Expr {
    /// The whole expression as written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Or(xs) | Expr::And(xs) => xs
                .iter()
                .map(Expr::span)
                .reduce(Span::join)
                .unwrap_or_default(),
            Expr::Not(_, s)
            | Expr::Cmp { span: s, .. }
            | Expr::Pred { span: s, .. }
            | Expr::Call { span: s, .. }
            | Expr::Field { full: s, .. }
            | Expr::Str { full: s, .. }
            | Expr::Num { span: s, .. }
            | Expr::Bool(_, s)
            | Expr::Null(s)
            | Expr::Arith { span: s, .. }
            | Expr::Neg(_, s)
            | Expr::Paren(_, s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Category {
    Any(Span),
    /// A named category; `span` covers the name (inside quotes if quoted).
    Named {
        name: String,
        span: Span,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventQuery {
    pub category: Category,
    pub cond: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Step {
    pub query: EventQuery,
    /// `![ … ]`: the event must not occur.
    pub missing: bool,
    /// `[ … ] as event0`: later steps read this event's fields as
    /// `event0.<field>` (Elastic Defend behaviour rules).
    pub alias: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    Event(EventQuery),
    Sequence {
        steps: Vec<Step>,
        until: Option<Step>,
    },
    Sample {
        steps: Vec<Step>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Pipe {
    /// `| filter <condition>`.
    Filter(Expr),
    /// `head`, `tail`, `unique`, `count`, …: post-processing only.
    Other { name: String, span: Span },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Query {
    pub body: Body,
    pub pipes: Vec<Pipe>,
}

type PResult<T> = Result<T, Box<ParseIssue>>;

pub(crate) struct Parser {
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

fn describe(t: &Token) -> String {
    match t.kind {
        Tok::Eof => "the end of the query".to_string(),
        Tok::Str => "a string".to_string(),
        _ => format!("`{}`", t.text),
    }
}

impl Parser {
    pub fn new(toks: Vec<Token>) -> Self {
        Parser {
            toks,
            pos: 0,
            depth: 0,
        }
    }

    fn peek(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[self.pos.min(last)]
    }

    fn peek_at(&self, k: usize) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        &self.toks[(self.pos + k).min(last)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn at(&self, kind: Tok) -> bool {
        self.peek().kind == kind
    }

    fn at_kw(&self, kw: &str) -> bool {
        self.peek().is_kw(kw)
    }

    fn error_here(&self, msg: impl Into<String>) -> Box<ParseIssue> {
        let t = self.peek();
        let span = if t.kind == Tok::Eof {
            Span::point(t.span.start)
        } else {
            t.span
        };
        Box::new(ParseIssue::error(RL008, span, msg))
    }

    fn unexpected(&self, expected: &str) -> Box<ParseIssue> {
        let t = self.peek();
        let mut issue = self.error_here(format!("expected {expected}, found {}", describe(t)));
        if t.kind == Tok::Assign {
            issue.help = Some("`=` is not an EQL comparison: use `==` or `:`".to_string());
        }
        issue
    }

    /// Expect the closing `close` of the bracket opened at `open`.
    fn close(&mut self, close: Tok, open: Span, what: &str) -> PResult<Span> {
        if self.at(close) {
            return Ok(self.bump().span);
        }
        if self.at(Tok::Eof) {
            return Err(Box::new(ParseIssue::error(
                RL008,
                open,
                format!("unbalanced brackets: this `{what}` is never closed"),
            )));
        }
        let closing = if close == Tok::RParen { ")" } else { "]" };
        Err(self.unexpected(&format!(
            "`{closing}` to close the `{what}` at byte {}",
            open.start
        )))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(format!(
                "expression nested too deeply (more than {MAX_DEPTH} levels)"
            )));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- query structure -------------------------------------------------

    pub fn query(&mut self) -> PResult<Query> {
        if self.at(Tok::Eof) {
            return Err(self.error_here("empty EQL query"));
        }
        let body = if self.at_kw("sequence") {
            self.sequence()?
        } else if self.at_kw("sample") || self.at_kw("join") {
            self.sample()?
        } else {
            Body::Event(self.event()?)
        };
        let mut pipes = Vec::new();
        while self.at(Tok::Pipe) {
            self.bump();
            pipes.push(self.pipe()?);
        }
        if !self.at(Tok::Eof) {
            let t = self.peek();
            let msg = match t.kind {
                Tok::RParen | Tok::RBracket => {
                    format!("unbalanced brackets: `{}` closes nothing", t.text)
                }
                _ => format!("unexpected {} after the end of the query", describe(t)),
            };
            return Err(self.error_here(msg));
        }
        Ok(Query { body, pipes })
    }

    fn event(&mut self) -> PResult<EventQuery> {
        let t = self.peek().clone();
        let category = match t.kind {
            Tok::Ident if t.text == "any" => Category::Any(t.span),
            Tok::Ident if !is_reserved(&t.text) => Category::Named {
                name: t.text.clone(),
                span: t.span,
            },
            Tok::Str => Category::Named {
                name: t.text.clone(),
                span: t.inner,
            },
            _ => return Err(self.unexpected("an event category (`process`, `any`, …)")),
        };
        self.bump();
        if !self.at_kw("where") {
            let cat = match &category {
                Category::Any(_) => "any".to_string(),
                Category::Named { name, .. } => name.clone(),
            };
            let mut e = self.unexpected(&format!("`where` after the event category `{cat}`"));
            e.help = Some("an event query reads `<category> where <condition>`".to_string());
            return Err(e);
        }
        self.bump();
        let cond = self.condition()?;
        Ok(EventQuery { category, cond })
    }

    fn by_keys(&mut self) -> PResult<()> {
        // `by` already consumed
        loop {
            self.value()?;
            if self.at(Tok::Comma) {
                self.bump();
            } else {
                return Ok(());
            }
        }
    }

    fn assign_value(&mut self, name: &str) -> PResult<()> {
        if !self.at(Tok::Assign) {
            return Err(self.unexpected(&format!("`=` after `{name}`")));
        }
        self.bump();
        if !self.at(Tok::Number) {
            return Err(self.unexpected(&format!("a value for `{name}`")));
        }
        self.bump();
        Ok(())
    }

    fn sequence(&mut self) -> PResult<Body> {
        self.bump(); // sequence
        loop {
            if self.at_kw("by") {
                self.bump();
                self.by_keys()?;
            } else if self.at_kw("with") {
                self.bump();
                if !self.at_kw("maxspan") {
                    return Err(self.unexpected("`maxspan` after `with`"));
                }
                self.bump();
                self.assign_value("maxspan")?;
            } else {
                break;
            }
        }
        let steps = self.steps("sequence")?;
        let until = if self.at_kw("until") {
            self.bump();
            if !self.at(Tok::LBracket) {
                return Err(self.unexpected("`[` to start the `until` step"));
            }
            Some(self.step()?)
        } else {
            None
        };
        Ok(Body::Sequence { steps, until })
    }

    fn sample(&mut self) -> PResult<Body> {
        let kw = self.bump().text;
        if self.at_kw("by") {
            self.bump();
            self.by_keys()?;
        }
        let steps = self.steps(&kw)?;
        Ok(Body::Sample { steps })
    }

    fn steps(&mut self, what: &str) -> PResult<Vec<Step>> {
        let mut steps = Vec::new();
        while self.at(Tok::LBracket)
            || (self.at(Tok::Bang) && self.peek_at(1).kind == Tok::LBracket)
        {
            steps.push(self.step()?);
        }
        if steps.is_empty() {
            let mut e = self.unexpected(&format!("`[` to start the first step of the {what}"));
            e.help = Some(format!(
                "a {what} needs steps such as `[process where true]`"
            ));
            return Err(e);
        }
        Ok(steps)
    }

    fn step(&mut self) -> PResult<Step> {
        let missing = if self.at(Tok::Bang) {
            self.bump();
            true
        } else {
            false
        };
        let open = self.bump().span; // [
        let query = self.event()?;
        self.close(Tok::RBracket, open, "[")?;
        let mut alias = None;
        loop {
            if self.at_kw("as") && alias.is_none() {
                self.bump();
                if !self.at(Tok::Ident) || is_reserved(&self.peek().text) {
                    return Err(self.unexpected("a name for the event after `as`"));
                }
                alias = Some(self.bump().text);
            } else if self.at_kw("by") {
                self.bump();
                self.by_keys()?;
            } else if self.at_kw("with") {
                self.bump();
                if !self.at_kw("runs") {
                    return Err(self.unexpected("`runs` after `with`"));
                }
                self.bump();
                self.assign_value("runs")?;
            } else {
                break;
            }
        }
        Ok(Step {
            query,
            missing,
            alias,
        })
    }

    fn pipe(&mut self) -> PResult<Pipe> {
        if !self.at(Tok::Ident) {
            return Err(self.unexpected("a pipe name after `|`"));
        }
        let name_tok = self.bump();
        if name_tok.text == "filter" {
            return Ok(Pipe::Filter(self.condition()?));
        }
        if !self.at(Tok::Pipe) && !self.at(Tok::Eof) {
            loop {
                self.value()?;
                if self.at(Tok::Comma) {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        Ok(Pipe::Other {
            name: name_tok.text,
            span: name_tok.span,
        })
    }

    // ----- conditions (precedence climbing) --------------------------------

    /// A condition: `or` / `and` / `not` / comparisons / values.
    pub fn condition(&mut self) -> PResult<Expr> {
        self.expr(0)
    }

    /// A value: arithmetic over fields, literals and function calls.
    fn value(&mut self) -> PResult<Expr> {
        self.expr(BP_ADD)
    }

    /// The binding power of the infix operator at the cursor, if any.
    fn infix_bp(&self) -> Option<u8> {
        let t = self.peek();
        match t.kind {
            Tok::Ident => match t.text.as_str() {
                "or" => Some(BP_OR),
                "and" => Some(BP_AND),
                "in" | "like" | "regex" => Some(BP_CMP),
                "not"
                    if matches!(self.peek_at(1).text.as_str(), "in" | "like" | "regex")
                        && self.peek_at(1).kind == Tok::Ident =>
                {
                    Some(BP_CMP)
                }
                _ => None,
            },
            Tok::EqEq
            | Tok::NotEq
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge
            | Tok::Colon
            | Tok::Assign => Some(BP_CMP),
            Tok::Plus | Tok::Minus => Some(BP_ADD),
            Tok::Star | Tok::Slash | Tok::Percent => Some(BP_MUL),
            _ => None,
        }
    }

    /// Everything that binds at least as tightly as `min`.
    ///
    /// Deeply nested input recurses through `expr` → `prefix` → `expr`
    /// only, and [`Parser::enter`] bounds the depth.
    fn expr(&mut self, min: u8) -> PResult<Expr> {
        self.enter()?;
        let mut lhs = self.prefix()?;
        let mut compared = false;
        // `a + b + c …` nests to the left: count it against the depth limit
        let mut chained = 0usize;
        while let Some(bp) = self.infix_bp() {
            if bp < min {
                break;
            }
            lhs = if bp == BP_OR || bp == BP_AND {
                self.logical(lhs, bp)?
            } else if bp == BP_CMP {
                if compared {
                    return Err(
                        self.error_here("comparisons cannot be chained: join them with `and`")
                    );
                }
                compared = true;
                self.comparison(lhs)?
            } else {
                chained += 1;
                if self.depth + chained > MAX_DEPTH {
                    return Err(self.error_here(format!(
                        "arithmetic expression too long (more than {MAX_DEPTH} operators)"
                    )));
                }
                self.arith(lhs, bp)?
            };
        }
        self.leave();
        Ok(lhs)
    }

    fn logical(&mut self, lhs: Expr, bp: u8) -> PResult<Expr> {
        self.bump();
        let rhs = self.expr(bp + 1)?;
        Ok(match (bp == BP_OR, lhs) {
            (true, Expr::Or(mut items)) => {
                items.push(rhs);
                Expr::Or(items)
            }
            (true, lhs) => Expr::Or(vec![lhs, rhs]),
            (false, Expr::And(mut items)) => {
                items.push(rhs);
                Expr::And(items)
            }
            (false, lhs) => Expr::And(vec![lhs, rhs]),
        })
    }

    fn arith(&mut self, lhs: Expr, bp: u8) -> PResult<Expr> {
        self.bump();
        let rhs = self.expr(bp + 1)?;
        let span = lhs.span().join(rhs.span());
        Ok(Expr::Arith {
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
            span,
        })
    }

    fn tilde(&mut self) -> bool {
        if self.at(Tok::Tilde) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// A comparison or lookup after its left-hand side.
    fn comparison(&mut self, lhs: Expr) -> PResult<Expr> {
        let op = match self.peek().kind {
            Tok::EqEq => Some(CmpOp::Eq),
            Tok::NotEq => Some(CmpOp::Ne),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Le => Some(CmpOp::Le),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Ge => Some(CmpOp::Ge),
            Tok::Assign => return Err(self.unexpected("a comparison operator")),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let rhs = self.value()?;
            let span = lhs.span().join(rhs.span());
            return Ok(Expr::Cmp {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            });
        }
        let negated = if self.at_kw("not") {
            self.bump();
            true
        } else {
            false
        };
        let kind = match self.peek().kind {
            Tok::Colon => PredKind::Seq,
            _ => match self.peek().text.as_str() {
                "like" => PredKind::Like,
                "regex" => PredKind::Regex,
                _ => PredKind::In,
            },
        };
        self.bump();
        let ci = self.tilde();
        let (items, end) = if self.at(Tok::LParen) {
            self.list()?
        } else if kind == PredKind::In {
            return Err(self.unexpected("`(` to start the list after `in`"));
        } else {
            let v = self.value()?;
            let end = v.span();
            (vec![v], end)
        };
        let span = lhs.span().join(end);
        Ok(Expr::Pred {
            kind,
            ci,
            negated,
            lhs: Box::new(lhs),
            items,
            span,
        })
    }

    /// `( value, value, … )`; returns the items and the span of `)`.
    fn list(&mut self) -> PResult<(Vec<Expr>, Span)> {
        let open = self.bump().span;
        let mut items = Vec::new();
        if !self.at(Tok::RParen) {
            loop {
                items.push(self.value()?);
                if self.at(Tok::Comma) {
                    self.bump();
                    // tolerate a trailing comma
                    if self.at(Tok::RParen) {
                        break;
                    }
                } else {
                    break;
                }
            }
        }
        let end = self.close(Tok::RParen, open, "(")?;
        Ok((items, end))
    }

    /// `not …`, unary minus, `( … )`, or a primary.
    fn prefix(&mut self) -> PResult<Expr> {
        match self.peek().kind {
            Tok::Ident if self.at_kw("not") => {
                let kw = self.bump().span;
                let inner = self.expr(BP_NOT)?;
                let span = kw.join(inner.span());
                Ok(Expr::Not(Box::new(inner), span))
            }
            Tok::Minus => {
                let m = self.bump().span;
                let inner = self.expr(BP_NEG)?;
                let span = m.join(inner.span());
                Ok(Expr::Neg(Box::new(inner), span))
            }
            Tok::Plus => {
                self.bump();
                self.expr(BP_NEG)
            }
            Tok::LParen => {
                let open = self.bump().span;
                let inner = self.expr(0)?;
                let end = self.close(Tok::RParen, open, "(")?;
                Ok(Expr::Paren(Box::new(inner), open.join(end)))
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        match t.kind {
            Tok::Str => {
                self.bump();
                Ok(Expr::Str {
                    text: t.text,
                    span: t.inner,
                    full: t.span,
                })
            }
            Tok::Number => {
                self.bump();
                Ok(Expr::Num {
                    text: t.text,
                    span: t.span,
                })
            }
            Tok::Optional | Tok::Backquoted => {
                self.bump();
                Ok(Expr::Field {
                    raw: t.text,
                    span: t.inner,
                    full: t.span,
                })
            }
            Tok::Ident => match t.text.as_str() {
                "true" | "false" => {
                    self.bump();
                    Ok(Expr::Bool(t.text == "true", t.span))
                }
                "null" => {
                    self.bump();
                    Ok(Expr::Null(t.span))
                }
                kw if is_reserved(kw) => Err(self.unexpected("a field, value or function")),
                _ => {
                    let next = self.peek_at(1).kind;
                    let next2 = self.peek_at(2).kind;
                    if next == Tok::LParen || (next == Tok::Tilde && next2 == Tok::LParen) {
                        return self.call();
                    }
                    self.bump();
                    let mut raw = t.text;
                    let mut span = t.span;
                    // `field[0]`: array index written right after the name
                    while self.at(Tok::LBracket)
                        && self.peek().span.start == span.end
                        && self.peek_at(1).kind == Tok::Number
                        && self.peek_at(2).kind == Tok::RBracket
                    {
                        self.bump();
                        let idx = self.bump().text;
                        let end = self.bump().span.end;
                        raw.push('[');
                        raw.push_str(&idx);
                        raw.push(']');
                        span = Span::new(span.start, end);
                    }
                    Ok(Expr::Field {
                        raw,
                        span,
                        full: span,
                    })
                }
            },
            _ => Err(self.unexpected("a field, value or function")),
        }
    }

    fn call(&mut self) -> PResult<Expr> {
        let name = self.bump();
        let ci = self.tilde();
        let open = self.bump().span; // (
        self.enter()?;
        let mut args = Vec::new();
        if !self.at(Tok::RParen) {
            loop {
                args.push(self.condition()?);
                if self.at(Tok::Comma) {
                    self.bump();
                } else {
                    break;
                }
            }
        }
        let end = self.close(Tok::RParen, open, "(")?;
        self.leave();
        Ok(Expr::Call {
            name: name.text,
            ci,
            args,
            span: name.span.join(end),
        })
    }
}

/// Words that cannot be a field name or event category.
pub(crate) fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "or"
            | "not"
            | "in"
            | "like"
            | "regex"
            | "where"
            | "sequence"
            | "sample"
            | "join"
            | "by"
            | "with"
            | "until"
            | "true"
            | "false"
            | "null"
    )
}
