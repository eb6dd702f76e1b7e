//! ES|QL expressions: precedence climbing over boolean, predicate and
//! arithmetic operators, with literals, calls, maps and casts.

use super::*;

// Binding powers of the expression operators.
pub(super) const P_OR: u8 = 1;
pub(super) const P_AND: u8 = 2;
pub(super) const P_NOT: u8 = 3;
pub(super) const P_PRED: u8 = 4;
pub(super) const P_ADD: u8 = 5;
pub(super) const P_MUL: u8 = 6;
pub(super) const P_UNARY: u8 = 7;

pub(super) const TIME_UNITS: &[&str] = &[
    "nanosecond",
    "nanoseconds",
    "ns",
    "microsecond",
    "microseconds",
    "us",
    "millisecond",
    "milliseconds",
    "ms",
    "second",
    "seconds",
    "sec",
    "secs",
    "s",
    "minute",
    "minutes",
    "min",
    "mins",
    "m",
    "hour",
    "hours",
    "h",
    "hr",
    "hrs",
    "day",
    "days",
    "d",
    "week",
    "weeks",
    "w",
    "wk",
    "wks",
    "month",
    "months",
    "mo",
    "mos",
    "quarter",
    "quarters",
    "q",
    "qtr",
    "qtrs",
    "year",
    "years",
    "yr",
    "yrs",
    "y",
];

/// Words that cannot start an expression.
pub(super) const NOT_AN_OPERAND: &[&str] = &[
    "AND", "OR", "IN", "LIKE", "RLIKE", "IS", "BY", "WHERE", "AS",
];

impl Parser<'_> {
    //
    // The functions on the recursive path (expr_bp, prefix, primary, paren,
    // array, call, map, predicate, in_list) keep few locals and leave token
    // inspection and error building to small leaf functions, so a nesting
    // level costs little stack even in unoptimised builds.

    pub fn expr(&mut self) -> R<Expr> {
        self.expr_bp(0)
    }

    /// A primary expression with casts (DISSECT/GROK input, option values).
    pub(super) fn operand(&mut self) -> R<Expr> {
        let at = self.tok(0)?.span;
        self.enter(at)?;
        let r = self.primary_with_casts();
        self.leave();
        r
    }

    pub(super) fn expr_bp(&mut self, min: u8) -> R<Expr> {
        let at = self.tok(0)?.span;
        self.enter(at)?;
        let r = self.expr_bp_inner(min);
        self.leave();
        r
    }

    pub(super) fn expr_bp_inner(&mut self, min: u8) -> R<Expr> {
        let mut lhs = self.prefix(min)?;
        let mut predicate_done = false;
        loop {
            lhs = match self.infix(min, predicate_done)? {
                Infix::Stop => return Ok(lhs),
                Infix::Bool(or) => {
                    self.advance()?;
                    let rhs = self.expr_bp(if or { P_OR + 1 } else { P_AND + 1 })?;
                    predicate_done = false;
                    join_nary(lhs, rhs, or)
                }
                Infix::Predicate => {
                    predicate_done = true;
                    self.predicate(lhs)?
                }
                Infix::Arith(op, bp) => {
                    self.advance()?;
                    let rhs = self.expr_bp(bp + 1)?;
                    join_arith(lhs, op, rhs)
                }
            };
        }
    }

    /// What the next token does after an operand (a leaf: no recursion).
    #[inline(never)]
    pub(super) fn infix(&mut self, min: u8, predicate_done: bool) -> R<Infix> {
        self.fill(1)?;
        let (Some(t), Some(next)) = (self.buf.first(), self.buf.get(1)) else {
            return Ok(Infix::Stop);
        };
        if t.is_kw("OR") {
            return Ok(if min <= P_OR {
                Infix::Bool(true)
            } else {
                Infix::Stop
            });
        }
        if t.is_kw("AND") {
            return Ok(if min <= P_AND {
                Infix::Bool(false)
            } else {
                Infix::Stop
            });
        }
        if is_predicate_start(t, next) {
            if min > P_PRED {
                return Ok(Infix::Stop);
            }
            if predicate_done {
                let t = t.clone();
                return Err(SyntaxError::new(
                    t.span,
                    format!(
                        "unexpected {}: comparisons cannot be chained, combine them with AND",
                        describe(&t)
                    ),
                ));
            }
            return Ok(Infix::Predicate);
        }
        let arith = match t.kind {
            Tok::Plus => (ArithOp::Add, P_ADD),
            Tok::Minus => (ArithOp::Sub, P_ADD),
            Tok::Star => (ArithOp::Mul, P_MUL),
            Tok::Slash => (ArithOp::Div, P_MUL),
            Tok::Percent => (ArithOp::Mod, P_MUL),
            _ => return Ok(Infix::Stop),
        };
        Ok(if min <= arith.1 {
            Infix::Arith(arith.0, arith.1)
        } else {
            Infix::Stop
        })
    }

    pub(super) fn prefix(&mut self, min: u8) -> R<Expr> {
        match self.prefix_kind(min)? {
            Prefix::Not => {
                let start = self.advance()?;
                let inner = self.expr_bp(P_NOT)?;
                Ok(wrap_not(start, inner))
            }
            Prefix::Sign(negative) => {
                let start = self.advance()?;
                let inner = self.expr_bp(P_UNARY)?;
                Ok(wrap_sign(start, inner, negative))
            }
            Prefix::Primary => self.primary_with_casts(),
        }
    }

    #[inline(never)]
    pub(super) fn prefix_kind(&mut self, min: u8) -> R<Prefix> {
        let t = self.tok(0)?;
        Ok(if t.is_kw("NOT") && min <= P_NOT {
            Prefix::Not
        } else if t.kind == Tok::Minus {
            Prefix::Sign(true)
        } else if t.kind == Tok::Plus {
            Prefix::Sign(false)
        } else {
            Prefix::Primary
        })
    }

    pub(super) fn primary_with_casts(&mut self) -> R<Expr> {
        let p = self.primary()?;
        self.casts(p)
    }

    pub(super) fn primary(&mut self) -> R<Expr> {
        match self.primary_kind()? {
            Primary::Leaf => self.leaf(),
            Primary::Paren => self.paren(),
            Primary::Array => self.array(),
            Primary::Map => self.map(),
            Primary::Call => self.call(),
        }
    }

    #[inline(never)]
    pub(super) fn primary_kind(&mut self) -> R<Primary> {
        self.fill(1)?;
        let (Some(t), Some(next)) = (self.buf.first(), self.buf.get(1)) else {
            return Err(self.unexpected_next("an expression"));
        };
        Ok(match t.kind {
            Tok::Number | Tok::Str | Tok::Param | Tok::QuotedIdent => Primary::Leaf,
            Tok::LParen => Primary::Paren,
            Tok::LBracket => Primary::Array,
            Tok::LBrace => Primary::Map,
            Tok::Ident => {
                if NOT_AN_OPERAND.iter().any(|k| t.is_kw(k)) || t.is_kw("NOT") {
                    return Err(self.unexpected_next("an expression"));
                }
                if next.kind == Tok::LParen
                    && !(t.is_kw("TRUE") || t.is_kw("FALSE") || t.is_kw("NULL"))
                {
                    Primary::Call
                } else {
                    Primary::Leaf
                }
            }
            _ => return Err(self.unexpected_next("an expression")),
        })
    }

    /// Literals, parameters and field names (no recursion).
    #[inline(never)]
    pub(super) fn leaf(&mut self) -> R<Expr> {
        let t = self.tok(0)?.clone();
        match t.kind {
            Tok::Number => {
                self.advance()?;
                let unit = self.tok(0)?;
                if unit.kind == Tok::Ident
                    && TIME_UNITS.iter().any(|u| unit.text.eq_ignore_ascii_case(u))
                {
                    let span = t.span.join(unit.span);
                    self.advance()?;
                    let text = self
                        .text
                        .get(span.start..span.end)
                        .unwrap_or("")
                        .to_string();
                    return Ok(Expr::new(ExprKind::Timespan(text), span));
                }
                Ok(Expr::new(ExprKind::Num(t.text), t.span))
            }
            Tok::Str => {
                self.advance()?;
                Ok(Expr::new(
                    ExprKind::Str {
                        text: t.text,
                        content: t.content,
                        triple: t.triple,
                    },
                    t.span,
                ))
            }
            Tok::Param => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Param(t.text), t.span))
            }
            Tok::Ident if t.is_kw("TRUE") || t.is_kw("FALSE") => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Bool(t.is_kw("TRUE")), t.span))
            }
            Tok::Ident if t.is_kw("NULL") => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Null, t.span))
            }
            _ => {
                let n = self.qualified_name()?;
                Ok(Expr::new(ExprKind::Field(n.text), n.span))
            }
        }
    }

    pub(super) fn paren(&mut self) -> R<Expr> {
        let open = self.advance()?;
        let inner = self.expr()?;
        let close = self.close(open, Tok::RParen, "`)`")?;
        Ok(widen_paren(inner, open.join(close)))
    }

    pub(super) fn array(&mut self) -> R<Expr> {
        let open = self.advance()?;
        let mut items = Vec::new();
        if self.kind(0)? != Tok::RBracket {
            loop {
                items.push(self.expr()?);
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RBracket, "`,` or `]`")?;
        Ok(Expr::new(ExprKind::Array(items), open.join(close)))
    }

    pub(super) fn call(&mut self) -> R<Expr> {
        let (name, name_span, open) = self.call_head()?;
        let mut args = Vec::new();
        if let Some(star) = self.count_star()? {
            args.push(Expr::new(ExprKind::Star, star));
        } else if self.kind(0)? != Tok::RParen {
            loop {
                args.push(self.expr()?);
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RParen, "`,` or `)`")?;
        Ok(Expr::new(
            ExprKind::Call {
                name,
                name_span,
                args,
            },
            name_span.join(close),
        ))
    }

    /// `NAME (`: the upper-cased name, its span and the `(`'s span.
    #[inline(never)]
    pub(super) fn call_head(&mut self) -> R<(String, Span, Span)> {
        let t = self.tok(0)?;
        let (name, span) = (t.text.to_ascii_uppercase(), t.span);
        self.advance()?;
        let open = self.advance()?;
        Ok((name, span, open))
    }

    /// The `*` of `COUNT(*)`.
    #[inline(never)]
    pub(super) fn count_star(&mut self) -> R<Option<Span>> {
        if self.kind(0)? == Tok::Star {
            return Ok(Some(self.advance()?));
        }
        Ok(None)
    }

    /// `{ "key": value, … }`
    pub(super) fn map(&mut self) -> R<Expr> {
        let open = self.tok(0)?.span;
        if self.kind(0)? != Tok::LBrace {
            return Err(self.unexpected_next("`{`"));
        }
        self.advance()?;
        self.enter(open)?;
        let r = self.map_body(open);
        self.leave();
        r
    }

    pub(super) fn map_body(&mut self, open: Span) -> R<Expr> {
        let mut entries = Vec::new();
        if self.kind(0)? != Tok::RBrace {
            loop {
                let key = self.map_key()?;
                let value = if self.kind(0)? == Tok::LBrace {
                    self.map()?
                } else {
                    self.expr_bp(P_PRED + 1)?
                };
                entries.push((key, value));
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RBrace, "`,` or `}`")?;
        Ok(Expr::new(ExprKind::Map(entries), open.join(close)))
    }

    /// `"key" :`
    #[inline(never)]
    pub(super) fn map_key(&mut self) -> R<String> {
        let t = self.tok(0)?;
        if !matches!(t.kind, Tok::Str | Tok::Ident) {
            return Err(self.unexpected_next("a string key"));
        }
        let key = t.text.clone();
        self.advance()?;
        if self.kind(0)? != Tok::Colon {
            return Err(self.unexpected_next("`:`"));
        }
        self.advance()?;
        Ok(key)
    }

    /// The predicate after `lhs`: a comparison, `[NOT] IN`, `[NOT] LIKE`,
    /// `[NOT] RLIKE`, `IS [NOT] NULL` or `:`.
    pub(super) fn predicate(&mut self, lhs: Expr) -> R<Expr> {
        match self.predicate_head()? {
            Pred::Compare(op) => {
                let rhs = self.expr_bp(P_PRED + 1)?;
                Ok(make_compare(op, lhs, rhs))
            }
            Pred::Match => {
                let rhs = self.expr_bp(P_PRED + 1)?;
                Ok(make_match(lhs, rhs))
            }
            Pred::IsNull { negated, end } => Ok(make_is_null(lhs, negated, end)),
            Pred::In { negated } => self.in_list(lhs, negated),
            Pred::Like { negated, rlike } => self.like(lhs, negated, rlike),
        }
    }

    /// Consume the predicate's operator words.
    #[inline(never)]
    pub(super) fn predicate_head(&mut self) -> R<Pred> {
        let t = self.tok(0)?.clone();
        self.advance()?;
        let cmp = match t.kind {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Neq => Some(CmpOp::Neq),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Lte => Some(CmpOp::Lte),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Gte => Some(CmpOp::Gte),
            Tok::CaseEq => Some(CmpOp::CaseEq),
            _ => None,
        };
        if let Some(op) = cmp {
            return Ok(Pred::Compare(op));
        }
        if t.kind == Tok::Colon {
            return Ok(Pred::Match);
        }
        if t.is_kw("IS") {
            let negated = self.eat_kw("NOT")?.is_some();
            let null = self.expect_kw("NULL")?;
            return Ok(Pred::IsNull {
                negated,
                end: null.span,
            });
        }
        let negated = t.is_kw("NOT");
        let op = if negated { self.bump()? } else { t };
        if op.is_kw("IN") {
            return Ok(Pred::In { negated });
        }
        Ok(Pred::Like {
            negated,
            rlike: op.is_kw("RLIKE"),
        })
    }

    pub(super) fn in_list(&mut self, lhs: Expr, negated: bool) -> R<Expr> {
        if self.kind(0)? != Tok::LParen {
            return Err(self.unexpected_next("`(`"));
        }
        let open = self.advance()?;
        let mut list = Vec::new();
        if self.kind(0)? != Tok::RParen {
            loop {
                list.push(self.expr()?);
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RParen, "`,` or `)`")?;
        Ok(make_in(lhs, list, negated, close))
    }

    /// LIKE / RLIKE patterns: one string, or a parenthesised list.
    #[inline(never)]
    pub(super) fn like(&mut self, lhs: Expr, negated: bool, rlike: bool) -> R<Expr> {
        let mut patterns = Vec::new();
        let end;
        if self.kind(0)? == Tok::LParen {
            let open = self.advance()?;
            loop {
                patterns.push(self.pattern()?);
                if !self.eat_comma()? {
                    break;
                }
            }
            end = self.close(open, Tok::RParen, "`,` or `)`")?;
        } else {
            let p = self.pattern()?;
            end = p.span;
            patterns.push(p);
        }
        let span = lhs.span.join(end);
        Ok(Expr::new(
            ExprKind::Like {
                expr: Box::new(lhs),
                patterns,
                negated,
                rlike,
            },
            span,
        ))
    }

    pub(super) fn pattern(&mut self) -> R<Expr> {
        match self.kind(0)? {
            Tok::Str | Tok::Param => self.leaf(),
            _ => Err(self.unexpected_next("a pattern string")),
        }
    }

    #[inline(never)]
    pub(super) fn casts(&mut self, mut e: Expr) -> R<Expr> {
        let mut types = Vec::new();
        let mut span = e.span;
        while self.eat(Tok::Cast)?.is_some() {
            let t = self.expect(Tok::Ident, "a type name after `::`")?;
            types.push(t.text.to_ascii_lowercase());
            span = span.join(t.span);
        }
        if !types.is_empty() {
            e = Expr::new(
                ExprKind::Cast {
                    expr: Box::new(e),
                    types,
                },
                span,
            );
        }
        Ok(e)
    }
}

pub(super) enum Infix {
    Stop,
    /// `OR` (true) or `AND` (false).
    Bool(bool),
    Predicate,
    Arith(ArithOp, u8),
}

pub(super) enum Prefix {
    Not,
    /// Unary minus (true) or plus.
    Sign(bool),
    Primary,
}

pub(super) enum Primary {
    Leaf,
    Paren,
    Array,
    Map,
    Call,
}

pub(super) enum Pred {
    Compare(CmpOp),
    Match,
    IsNull { negated: bool, end: Span },
    In { negated: bool },
    Like { negated: bool, rlike: bool },
}

pub(super) fn wrap_not(start: Span, inner: Expr) -> Expr {
    let span = start.join(inner.span);
    Expr::new(ExprKind::Not(Box::new(inner)), span)
}

pub(super) fn wrap_sign(start: Span, inner: Expr, negative: bool) -> Expr {
    let span = start.join(inner.span);
    if negative {
        Expr::new(ExprKind::Neg(Box::new(inner)), span)
    } else {
        Expr::new(inner.kind, span)
    }
}

/// Value expressions keep their parentheses in the span (so the text of
/// `(a + b) * 2` is whole); predicates keep their own span.
pub(super) fn widen_paren(inner: Expr, span: Span) -> Expr {
    if inner.is_predicate() {
        inner
    } else {
        Expr::new(inner.kind, span)
    }
}

pub(super) fn make_compare(op: CmpOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.join(rhs.span);
    Expr::new(
        ExprKind::Compare {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    )
}

pub(super) fn make_match(field: Expr, value: Expr) -> Expr {
    let span = field.span.join(value.span);
    Expr::new(
        ExprKind::Match {
            field: Box::new(field),
            value: Box::new(value),
        },
        span,
    )
}

pub(super) fn make_is_null(lhs: Expr, negated: bool, end: Span) -> Expr {
    let span = lhs.span.join(end);
    Expr::new(
        ExprKind::IsNull {
            expr: Box::new(lhs),
            negated,
        },
        span,
    )
}

pub(super) fn make_in(lhs: Expr, list: Vec<Expr>, negated: bool, close: Span) -> Expr {
    let span = lhs.span.join(close);
    Expr::new(
        ExprKind::In {
            expr: Box::new(lhs),
            list,
            negated,
        },
        span,
    )
}

pub(super) fn is_predicate_start(t: &Token, next: &Token) -> bool {
    match t.kind {
        Tok::Eq | Tok::Neq | Tok::Lt | Tok::Lte | Tok::Gt | Tok::Gte | Tok::CaseEq | Tok::Colon => {
            true
        }
        Tok::Ident => {
            t.is_kw("IN")
                || t.is_kw("LIKE")
                || t.is_kw("RLIKE")
                || t.is_kw("IS")
                || (t.is_kw("NOT")
                    && (next.is_kw("IN") || next.is_kw("LIKE") || next.is_kw("RLIKE")))
        }
        _ => false,
    }
}

pub(super) fn join_nary(lhs: Expr, rhs: Expr, or: bool) -> Expr {
    let span = lhs.span.join(rhs.span);
    let mut items = match lhs.kind {
        ExprKind::Or(v) if or => v,
        ExprKind::And(v) if !or => v,
        other => vec![Expr::new(other, lhs.span)],
    };
    items.push(rhs);
    Expr::new(
        if or {
            ExprKind::Or(items)
        } else {
            ExprKind::And(items)
        },
        span,
    )
}

pub(super) fn level(op: ArithOp) -> u8 {
    match op {
        ArithOp::Add | ArithOp::Sub => P_ADD,
        _ => P_MUL,
    }
}

pub(super) fn join_arith(lhs: Expr, op: ArithOp, rhs: Expr) -> Expr {
    let span = lhs.span.join(rhs.span);
    match lhs.kind {
        ExprKind::Arith { first, mut rest }
            if rest.first().is_some_and(|(o, _)| level(*o) == level(op)) =>
        {
            rest.push((op, rhs));
            Expr::new(ExprKind::Arith { first, rest }, span)
        }
        other => Expr::new(
            ExprKind::Arith {
                first: Box::new(Expr::new(other, lhs.span)),
                rest: vec![(op, rhs)],
            },
            span,
        ),
    }
}
