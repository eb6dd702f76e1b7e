//! Lowering of the EQL syntax tree to the Logic IR.

use crate::rule::{Cmp, Field, Logic, Op, ParseIssue, Parsed, Value};
use crate::source::Span;

use super::parser::{Category, CmpOp, EventQuery, Expr, PredKind};

/// The modifier recorded for case-insensitive comparisons (`:`, `~`).
pub const CASE_INSENSITIVE: &str = "case_insensitive";

pub(crate) struct Lowerer<'a> {
    src: &'a str,
    pub issues: Vec<ParseIssue>,
    /// Names given to sequence steps (`[ … ] as event0`): a field
    /// `event0.x` is another event's field, never this event's `x`.
    pub aliases: Vec<String>,
}

/// One side of a comparison, classified.
enum Operand {
    /// A field, or a computed expression as a derived field.
    Field(Field),
    Lit(Value),
    Null,
    /// Anything else (a boolean expression used as a value, …).
    Other,
}

impl<'a> Lowerer<'a> {
    pub fn new(src: &'a str) -> Self {
        Lowerer {
            src,
            issues: Vec::new(),
            aliases: Vec::new(),
        }
    }

    fn slice(&self, span: Span) -> &'a str {
        self.src.get(span.start..span.end).unwrap_or("")
    }

    fn opaque(&mut self, span: Span, reason: impl Into<String>) -> Logic {
        let reason = reason.into();
        self.issues.push(ParseIssue::info(
            "RL010",
            span,
            format!("part of the EQL query is not modelled: {reason}"),
        ));
        Logic::opaque(self.slice(span), span, reason)
    }

    /// `<category> where <condition>`: the category becomes
    /// `event.category == "<category>"` (nothing for `any`).
    pub fn event(&mut self, q: &EventQuery) -> Logic {
        let mut parts = Vec::with_capacity(2);
        if let Category::Named { name, span } = &q.category {
            parts.push(Logic::Cmp(Cmp::new(
                Field::new("event.category", *span),
                Op::Eq,
                vec![Value::string(name.clone(), *span)],
                *span,
            )));
        }
        parts.push(self.cond(&q.cond));
        Logic::and(parts)
    }

    /// A condition (boolean expression).
    pub fn cond(&mut self, e: &Expr) -> Logic {
        match e {
            Expr::Or(xs) => {
                let items = xs.iter().map(|x| self.cond(x)).collect();
                Logic::or(items)
            }
            Expr::And(xs) => {
                let items = xs.iter().map(|x| self.cond(x)).collect();
                Logic::and(items)
            }
            Expr::Not(x, _) => {
                let inner = self.cond(x);
                Logic::not(inner)
            }
            Expr::Paren(x, _) => self.cond(x),
            Expr::Bool(true, _) => Logic::And(Vec::new()),
            Expr::Bool(false, _) => Logic::Or(Vec::new()),
            Expr::Cmp { op, lhs, rhs, span } => self.cmp(*op, lhs, rhs, *span),
            Expr::Pred {
                kind,
                ci,
                negated,
                lhs,
                items,
                span,
            } => {
                let l = self.pred(*kind, *ci, lhs, items, *span);
                if *negated {
                    Logic::not(l)
                } else {
                    l
                }
            }
            Expr::Call {
                name,
                ci,
                args,
                span,
            } => self.call(name, *ci, args, *span),
            Expr::Field { raw, span, .. } => {
                // A bare boolean field: `field == true`.
                Logic::Cmp(Cmp::new(
                    self.field(raw, *span),
                    Op::Eq,
                    vec![Value::guess("true", Span::point(span.end))],
                    *span,
                ))
            }
            other => {
                let span = other.span();
                self.opaque(span, "a value used as a condition")
            }
        }
    }

    fn operand(&self, e: &Expr) -> Operand {
        match e {
            Expr::Field { raw, span, .. } => Operand::Field(self.field(raw, *span)),
            Expr::Str { text, span, .. } => Operand::Lit(Value::string(text.clone(), *span)),
            Expr::Num { text, span } => Operand::Lit(Value::guess(text.clone(), *span)),
            Expr::Bool(b, span) => Operand::Lit(Value::guess(b.to_string(), *span)),
            Expr::Null(_) => Operand::Null,
            Expr::Neg(inner, span) => match &**inner {
                Expr::Num { text, .. } => Operand::Lit(Value::guess(format!("-{text}"), *span)),
                _ => Operand::Field(self.derived(*span)),
            },
            Expr::Paren(inner, _) => self.operand(inner),
            Expr::Call { name, .. } if !is_predicate_fn(name) => {
                Operand::Field(self.derived(e.span()))
            }
            Expr::Arith { .. } => Operand::Field(self.derived(e.span())),
            _ => Operand::Other,
        }
    }

    /// A field as written; one read from an aliased earlier event
    /// (`event0.process.entity_id`) is marked derived: it is not a field
    /// of the event this comparison filters.
    fn field(&self, raw: &str, span: Span) -> Field {
        let mut f = Field::new(raw, span);
        if let Some((head, rest)) = raw.split_once('.') {
            f.derived = !rest.is_empty() && self.aliases.iter().any(|a| a == head);
        }
        f
    }

    /// A computed value (`length(process.args)`, `a + 1`) as a derived field
    /// named by its text (whitespace runs collapsed).
    fn derived(&self, span: Span) -> Field {
        let raw = self
            .slice(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let mut f = Field::new(raw, span);
        f.derived = true;
        f
    }

    fn cmp(&mut self, op: CmpOp, lhs: &Expr, rhs: &Expr, span: Span) -> Logic {
        // `<condition> == true` / `!= false` …
        if matches!(op, CmpOp::Eq | CmpOp::Ne) {
            for (cond, other) in [(lhs, rhs), (rhs, lhs)] {
                if let (true, Expr::Bool(b, _)) = (is_boolean(cond), peel(other)) {
                    let inner = self.cond(cond);
                    return if (op == CmpOp::Eq) == *b {
                        inner
                    } else {
                        Logic::not(inner)
                    };
                }
            }
        }
        let (mut l, mut r, mut op) = (self.operand(lhs), self.operand(rhs), op);
        if matches!(l, Operand::Lit(_) | Operand::Null) && matches!(r, Operand::Field(_)) {
            std::mem::swap(&mut l, &mut r);
            op = match op {
                CmpOp::Lt => CmpOp::Gt,
                CmpOp::Le => CmpOp::Ge,
                CmpOp::Gt => CmpOp::Lt,
                CmpOp::Ge => CmpOp::Le,
                other => other,
            };
        }
        match (l, r) {
            (Operand::Field(f), Operand::Lit(v)) => {
                let (ir_op, negate) = match op {
                    CmpOp::Eq => (Op::Eq, false),
                    CmpOp::Ne => (Op::Eq, true),
                    CmpOp::Lt => (Op::Lt, false),
                    CmpOp::Le => (Op::Lte, false),
                    CmpOp::Gt => (Op::Gt, false),
                    CmpOp::Ge => (Op::Gte, false),
                };
                let c = Logic::Cmp(Cmp::new(f, ir_op, vec![v], span));
                if negate {
                    Logic::not(c)
                } else {
                    c
                }
            }
            (Operand::Field(f), Operand::Null) => {
                let exists = Logic::Cmp(Cmp::new(f, Op::Exists, Vec::new(), span));
                match op {
                    CmpOp::Ne => exists,
                    CmpOp::Eq => Logic::not(exists),
                    _ => self.opaque(span, "an ordering comparison with `null`"),
                }
            }
            (Operand::Field(f), Operand::Field(g)) => {
                let c = Logic::Cmp(Cmp::new(
                    f,
                    Op::FieldRef,
                    vec![Value::string(g.raw, g.span)],
                    span,
                ));
                match op {
                    CmpOp::Eq => c,
                    CmpOp::Ne => Logic::not(c),
                    _ => self.opaque(span, "an ordering comparison between two fields"),
                }
            }
            _ => self.opaque(span, "a comparison without a field"),
        }
    }

    fn pred(&mut self, kind: PredKind, ci: bool, lhs: &Expr, items: &[Expr], span: Span) -> Logic {
        let field = match self.operand(lhs) {
            Operand::Field(f) => f,
            _ => return self.opaque(span, "a lookup without a field"),
        };
        let mut modifiers = Vec::new();
        if ci || kind == PredKind::Seq {
            modifiers.push(CASE_INSENSITIVE.to_string());
        }
        let mut groups: Vec<(Op, Vec<Value>)> = Vec::new();
        let mut extra = Vec::new();
        for item in items {
            match self.operand(item) {
                Operand::Lit(v) => {
                    let (op, v) = match kind {
                        PredKind::In => (Op::Eq, Some(v)),
                        PredKind::Regex => (Op::Regex, Some(v)),
                        PredKind::Seq | PredKind::Like => self.wildcard(v),
                    };
                    push_group(&mut groups, op, v);
                }
                Operand::Field(g) if matches!(kind, PredKind::In | PredKind::Seq) => {
                    let mut c = Cmp::new(
                        field.clone(),
                        Op::FieldRef,
                        vec![Value::string(g.raw, g.span)],
                        span,
                    );
                    c.modifiers = modifiers.clone();
                    extra.push(Logic::Cmp(c));
                }
                Operand::Null if matches!(kind, PredKind::In | PredKind::Seq) => {
                    let c = Cmp::new(field.clone(), Op::Exists, Vec::new(), span);
                    extra.push(Logic::not(Logic::Cmp(c)));
                }
                _ => {
                    let s = item.span();
                    let o = self.opaque(s, "a pattern that is not a literal");
                    extra.push(o);
                }
            }
        }
        let mut out: Vec<Logic> = groups
            .into_iter()
            .map(|(op, values)| {
                let mut c = Cmp::new(field.clone(), op, values, span);
                c.modifiers = modifiers.clone();
                Logic::Cmp(c)
            })
            .collect();
        out.extend(extra);
        Logic::or(out)
    }

    /// A `:`/`like` pattern: no wildcard → `Eq`; only leading/trailing `*`
    /// → `EndsWith`/`StartsWith`/`Contains` with the `*` stripped (from the
    /// text and the span); `*` alone → `Exists`; otherwise `Wildcard`.
    fn wildcard(&self, v: Value) -> (Op, Option<Value>) {
        let t = v.text.as_str();
        if !t.contains('*') && !t.contains('?') {
            return (Op::Eq, Some(v));
        }
        if t.contains('?') {
            return (Op::Wildcard, Some(v));
        }
        let core = t.trim_matches('*');
        if core.is_empty() {
            return (Op::Exists, None);
        }
        if core.contains('*') {
            return (Op::Wildcard, Some(v));
        }
        let lead = t.len() - t.trim_start_matches('*').len();
        let trail = t.len() - t.trim_end_matches('*').len();
        let op = match (lead > 0, trail > 0) {
            (true, true) => Op::Contains,
            (true, false) => Op::EndsWith,
            _ => Op::StartsWith,
        };
        let raw = self.slice(v.span);
        let mut span = v.span;
        if raw.len() >= lead + trail
            && raw.bytes().take(lead).all(|b| b == b'*')
            && raw.bytes().rev().take(trail).all(|b| b == b'*')
        {
            span = Span::new(span.start + lead, span.end - trail);
        }
        (
            op,
            Some(Value {
                text: core.to_string(),
                parsed: Parsed::Str,
                span,
            }),
        )
    }

    fn call(&mut self, name: &str, ci: bool, args: &[Expr], span: Span) -> Logic {
        let lname = name.to_ascii_lowercase();
        let (op, modifier) = match lname.as_str() {
            "startswith" => (Op::StartsWith, "startswith"),
            "endswith" => (Op::EndsWith, "endswith"),
            "stringcontains" => (Op::Contains, "contains"),
            "wildcard" => (Op::Wildcard, "wildcard"),
            "cidrmatch" => (Op::Cidr, "cidrmatch"),
            "match" => (Op::Regex, "match"),
            "arraycontains" => (Op::Eq, "arraycontains"),
            _ => {
                return self.opaque(
                    span,
                    format!("function `{name}` is not modelled as a condition"),
                )
            }
        };
        if args.len() < 2 {
            return self.opaque(span, format!("`{name}` with fewer than two arguments"));
        }
        let field = match self.operand(&args[0]) {
            Operand::Field(f) => f,
            _ => return self.opaque(span, format!("`{name}` on a value that is not a field")),
        };
        let mut modifiers = Vec::new();
        if ci {
            modifiers.push(CASE_INSENSITIVE.to_string());
        }
        let mut groups: Vec<(Op, Vec<Value>)> = Vec::new();
        let mut extra = Vec::new();
        for arg in &args[1..] {
            match self.operand(arg) {
                Operand::Lit(v) => {
                    let (op, v) = if op == Op::Wildcard {
                        self.wildcard(v)
                    } else {
                        (op, Some(v))
                    };
                    push_group(&mut groups, op, v);
                }
                Operand::Field(g) => {
                    let mut c = Cmp::new(
                        field.clone(),
                        Op::FieldRef,
                        vec![Value::string(g.raw, g.span)],
                        span,
                    );
                    c.modifiers = modifiers.clone();
                    if op != Op::Eq {
                        c.modifiers.push(modifier.to_string());
                    }
                    extra.push(Logic::Cmp(c));
                }
                _ => {
                    let o = self.opaque(
                        arg.span(),
                        format!("a `{name}` argument that is not a literal"),
                    );
                    extra.push(o);
                }
            }
        }
        let mut out: Vec<Logic> = groups
            .into_iter()
            .map(|(op, values)| {
                let mut c = Cmp::new(field.clone(), op, values, span);
                c.modifiers = modifiers.clone();
                Logic::Cmp(c)
            })
            .collect();
        out.extend(extra);
        Logic::or(out)
    }
}

fn push_group(groups: &mut Vec<(Op, Vec<Value>)>, op: Op, v: Option<Value>) {
    let idx = match groups.iter().position(|(o, _)| *o == op) {
        Some(i) => i,
        None => {
            groups.push((op, Vec::new()));
            groups.len() - 1
        }
    };
    if let (Some(v), Some(g)) = (v, groups.get_mut(idx)) {
        g.1.push(v);
    }
}

/// Functions that return a boolean and are lowered as conditions.
fn is_predicate_fn(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "startswith"
            | "endswith"
            | "stringcontains"
            | "wildcard"
            | "cidrmatch"
            | "match"
            | "arraycontains"
    )
}

fn peel(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(x, _) => peel(x),
        other => other,
    }
}

/// Whether `e` is a boolean condition (not a value).
fn is_boolean(e: &Expr) -> bool {
    match e {
        Expr::Or(_) | Expr::And(_) | Expr::Not(..) | Expr::Cmp { .. } | Expr::Pred { .. } => true,
        Expr::Call { name, .. } => is_predicate_fn(name),
        Expr::Paren(x, _) => is_boolean(x),
        _ => false,
    }
}
