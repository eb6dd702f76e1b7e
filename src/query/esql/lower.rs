//! From parsed commands to the Logic IR: the `WHERE` clauses AND-ed in
//! order, with every field resolved through the columns the earlier
//! commands created (EVAL, STATS, RENAME, DISSECT, GROK, …).

use std::collections::HashMap;

use super::ast::{CmpOp, Expr, ExprKind};
use super::parser::{Command, CommandKind, Name};
use crate::query::QueryParse;
use crate::rule::{Anchors, Cmp, Field, Logic, Op, ParseIssue, Value};
use crate::source::Span;

/// Functions that change how a value is written but not which event it
/// comes from: `TO_LOWER(process.name) == "x"` is still a comparison on
/// `process.name` (with a modifier).
const TRANSPARENT: &[&str] = &[
    "TO_LOWER",
    "TO_UPPER",
    "TO_STRING",
    "TO_STR",
    "TO_IP",
    "TO_INTEGER",
    "TO_INT",
    "TO_LONG",
    "TO_DOUBLE",
    "TO_DBL",
    "TO_BOOLEAN",
    "TO_BOOL",
    "TO_DATETIME",
    "TO_DT",
    "TO_VERSION",
    "TO_VER",
    "TO_UNSIGNED_LONG",
    "TO_ULONG",
    "TO_UL",
    "TRIM",
];

/// What a name refers to at some point of the pipeline.
#[derive(Debug, Clone, PartialEq)]
enum Binding {
    /// Computed inside the query.
    Derived,
    /// An event field (possibly under another name after RENAME).
    Source(String),
}

/// The columns visible at some point of the pipeline.
#[derive(Debug, Clone, Default)]
struct Scope {
    names: HashMap<String, Binding>,
    /// After STATS (or ROW) only the listed names exist: anything else is
    /// not an event field.
    closed: bool,
}

impl Scope {
    fn binding(&self, name: &str) -> Binding {
        match self.names.get(name) {
            Some(b) => b.clone(),
            None if self.closed => Binding::Derived,
            None => Binding::Source(name.to_string()),
        }
    }

    fn field(&self, name: &str, span: Span) -> Field {
        match self.binding(name) {
            Binding::Derived => {
                let mut f = Field::new(name, span);
                f.derived = true;
                f
            }
            Binding::Source(raw) => Field::new(raw, span),
        }
    }

    fn derive(&mut self, name: &str) {
        self.names.insert(name.to_string(), Binding::Derived);
    }

    /// Merge the scopes of FORK branches: derived anywhere is derived.
    fn merge(&mut self, other: &Scope) {
        for (k, v) in &other.names {
            match (self.names.get(k), v) {
                (Some(Binding::Derived), _) => {}
                (_, Binding::Derived) => {
                    self.names.insert(k.clone(), Binding::Derived);
                }
                (None, b) => {
                    self.names.insert(k.clone(), b.clone());
                }
                (Some(_), _) => {}
            }
        }
        self.closed |= other.closed;
    }
}

/// One side of a comparison.
enum Operand {
    /// A field, possibly under transparent functions (`modifiers`); a
    /// computed expression is a derived field named after its text.
    Field {
        field: Field,
        modifiers: Vec<String>,
        computed: bool,
    },
    /// A literal (or a constant expression such as `NOW() - 1 hour`).
    Values(Vec<Value>),
}

pub struct Lowerer<'a> {
    text: &'a str,
    issues: Vec<ParseIssue>,
    anchors: Anchors,
}

/// Turn the parsed pipeline into a [`QueryParse`].
pub fn lower(text: &str, commands: &[Command]) -> QueryParse {
    let mut l = Lowerer {
        text,
        issues: Vec::new(),
        anchors: Anchors::default(),
    };
    let mut scope = Scope::default();
    let parts = l.pipeline(commands, &mut scope, true);
    QueryParse {
        logic: Logic::and(parts),
        issues: l.issues,
        anchors: l.anchors,
    }
}

impl<'a> Lowerer<'a> {
    fn slice(&self, span: Span) -> &'a str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// The text of an expression with runs of whitespace collapsed (the
    /// name ES|QL gives an unnamed column, and a computed field's name).
    fn expr_text(&self, span: Span) -> String {
        self.slice(span)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn opaque(&mut self, span: Span, reason: impl Into<String>) -> Logic {
        let reason = reason.into();
        self.issues.push(ParseIssue::info(
            "RL010",
            span,
            format!("part of the ES|QL query is not modelled: {reason}"),
        ));
        Logic::opaque(self.slice(span), span, reason)
    }

    fn pipeline(&mut self, commands: &[Command], scope: &mut Scope, top: bool) -> Vec<Logic> {
        let mut parts = Vec::new();
        for cmd in commands {
            match &cmd.kind {
                CommandKind::From { .. } => *scope = Scope::default(),
                CommandKind::Row(assigns) => {
                    *scope = Scope {
                        names: HashMap::new(),
                        closed: true,
                    };
                    for a in assigns {
                        if let Some(n) = &a.name {
                            scope.derive(&n.text);
                        }
                    }
                }
                CommandKind::Show => {
                    *scope = Scope {
                        names: HashMap::new(),
                        closed: true,
                    }
                }
                CommandKind::Where(e) => parts.push(self.boolean(e, scope)),
                CommandKind::Eval(assigns) => {
                    for a in assigns {
                        let name = match &a.name {
                            Some(n) => n.text.clone(),
                            None => self.expr_text(a.expr.span),
                        };
                        scope.derive(&name);
                    }
                }
                CommandKind::Stats {
                    inline, aggs, by, ..
                } => {
                    if top && self.anchors.first_aggregation.is_none() {
                        self.anchors.first_aggregation =
                            Some(cmd.pipe.map_or(cmd.span.start, |p| p.start));
                    }
                    let mut out = if *inline {
                        scope.clone()
                    } else {
                        Scope {
                            names: HashMap::new(),
                            closed: true,
                        }
                    };
                    for a in aggs {
                        let name = match &a.name {
                            Some(n) => n.text.clone(),
                            None => self.expr_text(a.expr.span),
                        };
                        out.derive(&name);
                    }
                    for g in by {
                        match (&g.name, g.expr.as_field()) {
                            (Some(n), _) => out.derive(&n.text),
                            // A group key keeps the value of the field it names.
                            (None, Some(f)) => {
                                out.names.insert(f.to_string(), scope.binding(f));
                            }
                            (None, None) => out.derive(&self.expr_text(g.expr.span)),
                        }
                    }
                    *scope = out;
                }
                CommandKind::Keep(_)
                | CommandKind::Drop(_)
                | CommandKind::Limit
                | CommandKind::Sort(_)
                | CommandKind::MvExpand(_)
                | CommandKind::LookupJoin { .. }
                | CommandKind::Sample => {}
                CommandKind::Rename(pairs) => {
                    for (old, new) in pairs {
                        let b = scope.binding(&old.text);
                        scope.names.remove(&old.text);
                        scope.names.insert(new.text.clone(), b);
                    }
                }
                CommandKind::Dissect { pattern, .. } => {
                    for k in dissect_keys(&pattern.text) {
                        scope.derive(&k);
                    }
                }
                CommandKind::Grok { patterns, .. } => {
                    for p in patterns {
                        for k in grok_keys(&p.text) {
                            scope.derive(&k);
                        }
                    }
                }
                CommandKind::Enrich { with, .. } => {
                    for (new, _) in with {
                        scope.derive(&new.text);
                    }
                }
                CommandKind::ChangePoint { outputs, .. } => {
                    if outputs.is_empty() {
                        scope.derive("type");
                        scope.derive("pvalue");
                    }
                    for o in outputs {
                        scope.derive(&o.text);
                    }
                }
                CommandKind::Completion { target, .. } => {
                    scope.derive(target.as_ref().map_or("completion", |t: &Name| &t.text));
                }
                CommandKind::Fork(branches) => {
                    let mut alts = Vec::new();
                    let mut merged = scope.clone();
                    let mut unconstrained = false;
                    for b in branches {
                        let mut s = scope.clone();
                        let logic = Logic::and(self.pipeline(b, &mut s, false));
                        if matches!(&logic, Logic::And(v) if v.is_empty()) {
                            unconstrained = true;
                        }
                        alts.push(logic);
                        merged.merge(&s);
                    }
                    merged.derive("_fork");
                    *scope = merged;
                    if !unconstrained && !alts.is_empty() {
                        parts.push(Logic::or(alts));
                    }
                }
                CommandKind::Unknown { name } => {
                    let reason = format!("unknown command `{}`", name.to_ascii_uppercase());
                    parts.push(self.opaque(cmd.span, reason));
                }
            }
        }
        parts
    }

    // ---- boolean expressions ------------------------------------------------

    fn boolean(&mut self, e: &Expr, sc: &Scope) -> Logic {
        match &e.kind {
            ExprKind::And(v) => Logic::and(v.iter().map(|x| self.boolean(x, sc)).collect()),
            ExprKind::Or(v) => Logic::or(v.iter().map(|x| self.boolean(x, sc)).collect()),
            ExprKind::Not(x) => Logic::not(self.boolean(x, sc)),
            ExprKind::Compare { op, lhs, rhs } => self.compare(e.span, *op, lhs, rhs, sc),
            ExprKind::In {
                expr,
                list,
                negated,
            } => {
                let l = self.in_list(e.span, expr, list, sc);
                negate(l, *negated)
            }
            ExprKind::Like {
                expr,
                patterns,
                negated,
                rlike,
            } => {
                let l = self.like(e.span, expr, patterns, *rlike, sc);
                negate(l, *negated)
            }
            ExprKind::IsNull { expr, negated } => match self.operand(expr, sc) {
                Operand::Field {
                    field, modifiers, ..
                } => {
                    let (op, values) = if *negated {
                        (Op::Exists, Vec::new())
                    } else {
                        let null_span = Span::new(e.span.end.saturating_sub(4), e.span.end);
                        (Op::Eq, vec![Value::null(null_span)])
                    };
                    cmp(field, op, values, modifiers, e.span)
                }
                Operand::Values(_) => self.opaque(e.span, "`IS NULL` on a constant"),
            },
            ExprKind::Match { field, value } => {
                self.field_value(e.span, field, value, Op::Eq, "match", sc)
            }
            ExprKind::Call { name, args, .. } => self.call(e.span, name, args, sc),
            ExprKind::Bool(true) => Logic::And(Vec::new()),
            ExprKind::Field(_) | ExprKind::Cast { .. } => match self.operand(e, sc) {
                Operand::Field {
                    field,
                    modifiers,
                    computed: false,
                } => {
                    let v = Value::guess("true", Span::point(e.span.end));
                    cmp(field, Op::Eq, vec![v], modifiers, e.span)
                }
                _ => self.opaque(e.span, "expression used as a condition"),
            },
            _ => self.opaque(e.span, "expression used as a condition"),
        }
    }

    fn compare(&mut self, span: Span, op: CmpOp, lhs: &Expr, rhs: &Expr, sc: &Scope) -> Logic {
        // Put the constant on the right.
        let (op, lhs, rhs) = if lhs.is_constant() && !rhs.is_constant() {
            (flip(op), rhs, lhs)
        } else {
            (op, lhs, rhs)
        };
        if let Some(l) = self.locate(span, op, lhs, rhs, sc) {
            return l;
        }
        let left = self.operand(lhs, sc);
        let right = self.operand(rhs, sc);
        match (left, right) {
            (
                Operand::Field {
                    field,
                    mut modifiers,
                    ..
                },
                Operand::Values(mut vals),
            ) if vals.len() == 1 => {
                let (o, neg) = match op {
                    CmpOp::Eq => (Op::Eq, false),
                    CmpOp::Neq => (Op::Eq, true),
                    CmpOp::CaseEq => {
                        modifiers.push("case_insensitive".to_string());
                        (Op::Eq, false)
                    }
                    CmpOp::Lt => (Op::Lt, false),
                    CmpOp::Lte => (Op::Lte, false),
                    CmpOp::Gt => (Op::Gt, false),
                    CmpOp::Gte => (Op::Gte, false),
                };
                let v = vals.pop().map(|v| vec![v]).unwrap_or_default();
                negate(cmp(field, o, v, modifiers, span), neg)
            }
            (
                Operand::Field {
                    field, modifiers, ..
                },
                Operand::Field { field: other, .. },
            ) if matches!(op, CmpOp::Eq | CmpOp::Neq | CmpOp::CaseEq) => {
                let v = Value::string(other.raw, other.span);
                negate(
                    cmp(field, Op::FieldRef, vec![v], modifiers, span),
                    op == CmpOp::Neq,
                )
            }
            (Operand::Values(_), Operand::Values(_)) => {
                self.opaque(span, "comparison between constants")
            }
            _ => self.opaque(span, "comparison between computed values"),
        }
    }

    /// `LOCATE(f, "x") > 0` (or `>= 1`) means `f` contains `x`; `== 0`
    /// means it does not.
    fn locate(
        &mut self,
        span: Span,
        op: CmpOp,
        lhs: &Expr,
        rhs: &Expr,
        sc: &Scope,
    ) -> Option<Logic> {
        let ExprKind::Call { name, args, .. } = &lhs.kind else {
            return None;
        };
        if name != "LOCATE" || args.len() != 2 {
            return None;
        }
        let ExprKind::Num(n) = &rhs.kind else {
            return None;
        };
        let negated = match (op, n.as_str()) {
            (CmpOp::Gt, "0") | (CmpOp::Gte, "1") | (CmpOp::Neq, "0") => false,
            (CmpOp::Eq, "0") | (CmpOp::Lt, "1") | (CmpOp::Lte, "0") => true,
            _ => return None,
        };
        let (field, modifiers) = match self.operand(&args[0], sc) {
            Operand::Field {
                field,
                modifiers,
                computed: false,
            } => (field, modifiers),
            _ => return None,
        };
        let ExprKind::Str { text, content, .. } = &args[1].kind else {
            return None;
        };
        let v = Value::string(text.clone(), *content);
        Some(negate(
            cmp(field, Op::Contains, vec![v], modifiers, span),
            negated,
        ))
    }

    fn in_list(&mut self, span: Span, expr: &Expr, list: &[Expr], sc: &Scope) -> Logic {
        // `true IN (cond, cond, …)`: any of the conditions holds
        if let ExprKind::Bool(b) = expr.kind {
            if !list.is_empty() && list.iter().all(is_condition) {
                let alts = list
                    .iter()
                    .map(|x| negate(self.boolean(x, sc), !b))
                    .collect();
                return Logic::or(alts);
            }
        }
        let subject = self.operand(expr, sc);
        let items: Vec<Operand> = list.iter().map(|x| self.operand(x, sc)).collect();
        match subject {
            Operand::Field {
                field, modifiers, ..
            } => {
                let mut values = Vec::new();
                for it in items {
                    match it {
                        Operand::Values(v) if v.len() == 1 => values.extend(v),
                        _ => return self.opaque(span, "`IN` list with computed values"),
                    }
                }
                cmp(field, Op::Eq, values, modifiers, span)
            }
            Operand::Values(v) if v.len() == 1 => {
                // "x" IN (a, b): any of the fields equals the constant
                let mut alts = Vec::new();
                for it in items {
                    match it {
                        Operand::Field {
                            field,
                            modifiers,
                            computed: false,
                        } => alts.push(cmp(field, Op::Eq, v.clone(), modifiers, span)),
                        _ => return self.opaque(span, "`IN` on a constant"),
                    }
                }
                Logic::or(alts)
            }
            Operand::Values(_) => self.opaque(span, "`IN` on a constant"),
        }
    }

    fn like(
        &mut self,
        span: Span,
        expr: &Expr,
        patterns: &[Expr],
        rlike: bool,
        sc: &Scope,
    ) -> Logic {
        let (field, modifiers) = match self.operand(expr, sc) {
            Operand::Field {
                field, modifiers, ..
            } => (field, modifiers),
            Operand::Values(_) => return self.opaque(span, "pattern match on a constant"),
        };
        // (op, values) groups in order of first appearance
        let mut groups: Vec<(Op, Vec<Value>)> = Vec::new();
        for p in patterns {
            let ExprKind::Str {
                text,
                content,
                triple,
            } = &p.kind
            else {
                return self.opaque(span, "pattern given as a parameter");
            };
            let (op, value) = if rlike {
                (Op::Regex, Some(Value::string(text.clone(), *content)))
            } else {
                let map = super::lexer::offsets(self.text, *content, *triple);
                like_value(text, &map)
            };
            match groups.iter_mut().find(|(o, _)| *o == op) {
                Some((_, vals)) => vals.extend(value),
                None => groups.push((op, value.into_iter().collect())),
            }
        }
        if let Some(i) = groups.iter().position(|(o, _)| *o == Op::Exists) {
            let (op, vals) = groups.swap_remove(i);
            return cmp(field, op, vals, modifiers, span);
        }
        let alts: Vec<Logic> = groups
            .into_iter()
            .map(|(op, vals)| cmp(field.clone(), op, vals, modifiers.clone(), span))
            .collect();
        Logic::or(alts)
    }

    /// `f : v`, `MATCH(f, v)`: the field compared with one constant.
    fn field_value(
        &mut self,
        span: Span,
        field: &Expr,
        value: &Expr,
        op: Op,
        modifier: &str,
        sc: &Scope,
    ) -> Logic {
        match (self.operand(field, sc), self.operand(value, sc)) {
            (
                Operand::Field {
                    field,
                    mut modifiers,
                    ..
                },
                Operand::Values(v),
            ) => {
                if !modifier.is_empty() {
                    modifiers.push(modifier.to_string());
                }
                cmp(field, op, v, modifiers, span)
            }
            _ => self.opaque(span, "condition on computed values"),
        }
    }

    fn call(&mut self, span: Span, name: &str, args: &[Expr], sc: &Scope) -> Logic {
        match (name, args) {
            ("STARTS_WITH", [f, v]) => self.field_value(span, f, v, Op::StartsWith, "", sc),
            ("ENDS_WITH", [f, v]) => self.field_value(span, f, v, Op::EndsWith, "", sc),
            ("CONTAINS", [f, v]) => self.field_value(span, f, v, Op::Contains, "", sc),
            ("CIDR_MATCH", [f, rest @ ..]) if !rest.is_empty() => {
                let Operand::Field {
                    field, modifiers, ..
                } = self.operand(f, sc)
                else {
                    return self.opaque(span, "CIDR_MATCH on a constant");
                };
                let mut values = Vec::new();
                for r in rest {
                    match self.operand(r, sc) {
                        Operand::Values(v) => values.extend(v),
                        Operand::Field { .. } => {
                            return self.opaque(span, "CIDR_MATCH with computed ranges")
                        }
                    }
                }
                cmp(field, Op::Cidr, values, modifiers, span)
            }
            ("MV_CONTAINS", [a, b]) => match (self.operand(a, sc), self.operand(b, sc)) {
                (
                    Operand::Field {
                        field, modifiers, ..
                    },
                    Operand::Values(v),
                ) => {
                    let all = v.len() > 1;
                    let mut c = Cmp::new(field, Op::Eq, v, span);
                    c.all = all;
                    c.modifiers = modifiers;
                    Logic::Cmp(c)
                }
                // MV_CONTAINS(["a", "b"], f): every value of f is listed
                (
                    Operand::Values(v),
                    Operand::Field {
                        field,
                        modifiers,
                        computed: false,
                    },
                ) => cmp(field, Op::Eq, v, modifiers, span),
                _ => self.opaque(span, "MV_CONTAINS on computed values"),
            },
            ("MATCH", [f, v, ..]) => self.field_value(span, f, v, Op::Eq, "match", sc),
            ("MATCH_PHRASE", [f, v, ..]) => {
                self.field_value(span, f, v, Op::Eq, "match_phrase", sc)
            }
            ("KQL", [q, ..]) => self.embedded(span, q, Embedded::Kql),
            ("QSTR", [q, ..]) => self.embedded(span, q, Embedded::Lucene),
            _ => self.opaque(span, format!("function `{name}` used as a condition")),
        }
    }

    /// `KQL("…")` / `QSTR("…")`: parsed with the KQL / Lucene parser, spans
    /// mapped back through the string's escapes.
    fn embedded(&mut self, span: Span, arg: &Expr, lang: Embedded) -> Logic {
        let ExprKind::Str {
            text,
            content,
            triple,
        } = &arg.kind
        else {
            return self.opaque(span, "embedded query that is not a string literal");
        };
        let parsed = match lang {
            Embedded::Kql => crate::query::kql::parse(text),
            Embedded::Lucene => crate::query::lucene::parse(text),
        };
        let map = super::lexer::offsets(self.text, *content, *triple);
        let last = map.last().copied().unwrap_or(content.end);
        let at = |i: usize| map.get(i).copied().unwrap_or(last);
        let f = |s: Span| Span::new(at(s.start), at(s.end).max(at(s.start)));
        let mut logic = parsed.logic;
        logic.map_spans(&f);
        for mut issue in parsed.issues {
            issue.span = f(issue.span);
            self.issues.push(issue);
        }
        logic
    }

    // ---- operands -----------------------------------------------------------

    fn operand(&mut self, e: &Expr, sc: &Scope) -> Operand {
        if let Some((field, modifiers)) = self.field_of(e, sc, 0) {
            return Operand::Field {
                field,
                modifiers,
                computed: false,
            };
        }
        if e.is_constant() {
            return Operand::Values(self.values(e));
        }
        let mut field = Field::new(self.expr_text(e.span), e.span);
        field.derived = true;
        Operand::Field {
            field,
            modifiers: Vec::new(),
            computed: true,
        }
    }

    /// A field under zero or more transparent functions and casts.
    fn field_of(&self, e: &Expr, sc: &Scope, depth: usize) -> Option<(Field, Vec<String>)> {
        if depth > 32 {
            return None;
        }
        match &e.kind {
            ExprKind::Field(name) => Some((sc.field(name, e.span), Vec::new())),
            ExprKind::Call { name, args, .. }
                if args.len() == 1 && TRANSPARENT.contains(&name.as_str()) =>
            {
                let (f, mut m) = self.field_of(&args[0], sc, depth + 1)?;
                m.push(name.to_ascii_lowercase());
                Some((f, m))
            }
            ExprKind::Cast { expr, types } => {
                let (f, mut m) = self.field_of(expr, sc, depth + 1)?;
                m.extend(types.iter().map(|t| format!("::{t}")));
                Some((f, m))
            }
            _ => None,
        }
    }

    /// The values of a constant expression (an array gives several).
    fn values(&self, e: &Expr) -> Vec<Value> {
        match &e.kind {
            ExprKind::Str { text, content, .. } => vec![Value::string(text.clone(), *content)],
            ExprKind::Null => vec![Value::null(e.span)],
            ExprKind::Array(items) => items.iter().flat_map(|i| self.values(i)).collect(),
            // `- 1` is the number -1
            ExprKind::Neg(inner) if matches!(inner.kind, ExprKind::Num(_)) => {
                let digits = self.slice(inner.span);
                vec![Value::guess(format!("-{digits}"), e.span)]
            }
            _ => vec![Value::guess(self.expr_text(e.span), e.span)],
        }
    }
}

#[derive(Clone, Copy)]
enum Embedded {
    Kql,
    Lucene,
}

fn negate(l: Logic, negated: bool) -> Logic {
    if negated {
        Logic::not(l)
    } else {
        l
    }
}

/// An expression whose value is a condition (a comparison, a predicate, a
/// boolean combination or a call such as `STARTS_WITH`).
fn is_condition(e: &Expr) -> bool {
    e.is_predicate() || matches!(e.kind, ExprKind::Call { .. })
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Lte => CmpOp::Gte,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Gte => CmpOp::Lte,
        other => other,
    }
}

fn cmp(field: Field, op: Op, values: Vec<Value>, modifiers: Vec<String>, span: Span) -> Logic {
    let mut c = Cmp::new(field, op, values, span);
    c.modifiers = modifiers;
    Logic::Cmp(c)
}

/// Read a LIKE pattern: no wildcard is equality, `*x`, `x*`, `*x*` are
/// EndsWith / StartsWith / Contains (stars stripped), a lone `*` is
/// Exists, anything else a Wildcard. `\` escapes a wildcard. `map` gives
/// the query offset of each byte of the decoded `text` (plus its end).
fn like_value(text: &str, map: &[usize]) -> (Op, Option<Value>) {
    #[derive(PartialEq)]
    enum U {
        Lit(char),
        Star,
        One,
    }
    // (unit, decoded start, decoded end)
    let mut units: Vec<(U, usize, usize)> = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => match it.next() {
                Some((j, n)) => units.push((U::Lit(n), i, j + n.len_utf8())),
                None => units.push((U::Lit('\\'), i, i + 1)),
            },
            '*' => units.push((U::Star, i, i + 1)),
            '?' => units.push((U::One, i, i + 1)),
            _ => units.push((U::Lit(c), i, i + c.len_utf8())),
        }
    }
    let last = map.last().copied().unwrap_or(0);
    let at = |i: usize| map.get(i).copied().unwrap_or(last);
    let whole = Span::new(at(0), at(text.len()));
    let lead = units.iter().take_while(|u| u.0 == U::Star).count();
    if lead == units.len() && lead > 0 {
        return (Op::Exists, None);
    }
    let trail = units.iter().rev().take_while(|u| u.0 == U::Star).count();
    let middle = &units[lead..units.len() - trail];
    let plain = middle.iter().all(|u| matches!(u.0, U::Lit(_)));
    if !plain {
        return (Op::Wildcard, Some(Value::string(text, whole)));
    }
    let lit: String = middle
        .iter()
        .filter_map(|u| match u.0 {
            U::Lit(c) => Some(c),
            _ => None,
        })
        .collect();
    let span = match (middle.first(), middle.last()) {
        (Some(a), Some(b)) => Span::new(at(a.1), at(b.2)),
        _ => whole,
    };
    let op = match (lead > 0, trail > 0) {
        (false, false) => Op::Eq,
        (true, false) => Op::EndsWith,
        (false, true) => Op::StartsWith,
        (true, true) => Op::Contains,
    };
    (op, Some(Value::string(lit, span)))
}

/// The fields a DISSECT pattern creates: `%{name}` and `%{+name}`; named
/// skips (`%{?x}`) and reference keys (`%{*k}`, `%{&v}`) create none that
/// can be named here.
pub fn dissect_keys(pattern: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = pattern;
    while let Some(i) = rest.find("%{") {
        rest = &rest[i + 2..];
        let Some(j) = rest.find('}') else { break };
        let key = &rest[..j];
        rest = &rest[j + 1..];
        let key = key.trim_end_matches("->");
        let key = key.split('/').next().unwrap_or("");
        if key.is_empty() || key.starts_with(['?', '*', '&']) {
            continue;
        }
        let key = key.trim_start_matches('+');
        if !key.is_empty() && !out.iter().any(|k| k == key) {
            out.push(key.to_string());
        }
    }
    out
}

/// The fields a GROK pattern creates: `%{SYNTAX:name[:type]}` and named
/// groups `(?<name>…)`.
pub fn grok_keys(pattern: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |k: &str| {
        if !k.is_empty() && !out.iter().any(|x| x == k) {
            out.push(k.to_string());
        }
    };
    let mut rest = pattern;
    while let Some(i) = rest.find("%{") {
        rest = &rest[i + 2..];
        let Some(j) = rest.find('}') else { break };
        let inner = &rest[..j];
        rest = &rest[j + 1..];
        let mut parts = inner.split(':');
        let _syntax = parts.next();
        if let Some(name) = parts.next() {
            push(name);
        }
    }
    let mut rest = pattern;
    while let Some(i) = rest.find("(?<") {
        rest = &rest[i + 3..];
        if rest.starts_with(['=', '!']) {
            continue;
        }
        let Some(j) = rest.find('>') else { break };
        push(&rest[..j]);
        rest = &rest[j + 1..];
    }
    let mut rest = pattern;
    while let Some(i) = rest.find("(?P<") {
        rest = &rest[i + 4..];
        let Some(j) = rest.find('>') else { break };
        push(&rest[..j]);
        rest = &rest[j + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dissect_and_grok_keys() {
        assert_eq!(
            dissect_keys("%{a} %{+a} %{?skip} %{*k}: %{&k} %{b->} %{c/2} %{}"),
            vec!["a", "b", "c"]
        );
        assert_eq!(
            grok_keys("%{IP:client.ip} %{WORD} %{NUMBER:bytes:int} (?<code>[0-9]+)(?<!x)"),
            vec!["client.ip", "bytes", "code"]
        );
    }

    #[test]
    fn like_patterns() {
        let map: Vec<usize> = (0..=10).collect();
        let (op, v) = like_value("*abc*", &map);
        assert_eq!(op, Op::Contains);
        let v = v.unwrap();
        assert_eq!((v.text.as_str(), v.span), ("abc", Span::new(1, 4)));
        assert_eq!(like_value("abc*", &map).0, Op::StartsWith);
        assert_eq!(like_value("*abc", &map).0, Op::EndsWith);
        assert_eq!(like_value("abc", &map).0, Op::Eq);
        assert_eq!(like_value("a*c", &map).0, Op::Wildcard);
        assert_eq!(like_value("*a?c", &map).0, Op::Wildcard);
        assert_eq!(like_value("**", &map).0, Op::Exists);
        let (op, v) = like_value(r"*a\*b*", &map);
        assert_eq!(op, Op::Contains);
        assert_eq!(v.unwrap().text, "a*b");
    }
}
