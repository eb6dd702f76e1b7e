//! The expression tree the parser builds before it is lowered to the Logic
//! IR. Chains of `AND`, `OR` and arithmetic are n-ary so that long chains
//! never make the tree deep.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    /// `=~`: equality ignoring case.
    CaseEq,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A (qualified) field name, unquoted: `process.name`, `` `1.x` ``.
    Field(String),
    Str {
        text: String,
        /// The characters between the quotes.
        content: Span,
        triple: bool,
    },
    /// A number as written (without sign).
    Num(String),
    Bool(bool),
    Null,
    /// `1 hour`, `7days`: the text as written.
    Timespan(String),
    /// `?name`
    Param(String),
    /// `[1, 2, 3]`
    Array(Vec<Expr>),
    /// `{ "key": value, … }` (function options).
    Map(Vec<(String, Expr)>),
    /// The `*` of `COUNT(*)`.
    Star,
    Call {
        /// Upper-cased function name.
        name: String,
        name_span: Span,
        args: Vec<Expr>,
    },
    /// Unary minus (unary plus is dropped).
    Neg(Box<Expr>),
    /// `first op rest[0].1 op rest[1].1 …` evaluated left to right.
    Arith {
        first: Box<Expr>,
        rest: Vec<(ArithOp, Expr)>,
    },
    /// `expr::type::type…`
    Cast {
        expr: Box<Expr>,
        types: Vec<String>,
    },
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    In {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    Like {
        expr: Box<Expr>,
        patterns: Vec<Expr>,
        negated: bool,
        rlike: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `field : "query"`
    Match {
        field: Box<Expr>,
        value: Box<Expr>,
    },
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// A predicate: a comparison, `IN`, `LIKE`/`RLIKE`, `IS [NOT] NULL`,
    /// a match, or a boolean combination.
    pub fn is_predicate(&self) -> bool {
        matches!(
            self.kind,
            ExprKind::Compare { .. }
                | ExprKind::In { .. }
                | ExprKind::Like { .. }
                | ExprKind::IsNull { .. }
                | ExprKind::Match { .. }
                | ExprKind::Not(_)
                | ExprKind::And(_)
                | ExprKind::Or(_)
        )
    }

    /// The plain field name, when this is a field reference.
    pub fn as_field(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Field(f) => Some(f),
            _ => None,
        }
    }

    /// Visit every sub-expression, pre-order.
    pub fn walk(&self, f: &mut impl FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Array(v) | ExprKind::And(v) | ExprKind::Or(v) => {
                v.iter().for_each(|x| x.walk(f))
            }
            ExprKind::Map(v) => v.iter().for_each(|(_, x)| x.walk(f)),
            ExprKind::Call { args, .. } => args.iter().for_each(|x| x.walk(f)),
            ExprKind::Neg(x) | ExprKind::Not(x) => x.walk(f),
            ExprKind::Cast { expr, .. } | ExprKind::IsNull { expr, .. } => expr.walk(f),
            ExprKind::Arith { first, rest } => {
                first.walk(f);
                rest.iter().for_each(|(_, x)| x.walk(f));
            }
            ExprKind::Compare { lhs, rhs, .. } => {
                lhs.walk(f);
                rhs.walk(f);
            }
            ExprKind::In { expr, list, .. } => {
                expr.walk(f);
                list.iter().for_each(|x| x.walk(f));
            }
            ExprKind::Like { expr, patterns, .. } => {
                expr.walk(f);
                patterns.iter().for_each(|x| x.walk(f));
            }
            ExprKind::Match { field, value } => {
                field.walk(f);
                value.walk(f);
            }
            ExprKind::Field(_)
            | ExprKind::Str { .. }
            | ExprKind::Num(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Timespan(_)
            | ExprKind::Param(_)
            | ExprKind::Star => {}
        }
    }

    /// True when no field is read (literals, `NOW() - 1 hour`, params).
    pub fn is_constant(&self) -> bool {
        let mut constant = true;
        self.walk(&mut |e| {
            if e.is_predicate() || matches!(e.kind, ExprKind::Field(_) | ExprKind::Star) {
                constant = false;
            }
        });
        constant
    }
}
