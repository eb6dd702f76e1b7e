//! The Logic IR: one spanned, schema-neutral model of a rule's detection
//! logic, whatever language it was written in.
//!
//! Every node carries an absolute byte [`Span`] into the rule file. Checks
//! walk the tree with polarity: a comparison under an odd number of
//! [`Logic::Not`] is an exclusion.
//!
//! A subtree used in several places (a Sigma selection named more than
//! once by its condition) is held once, behind [`Logic::Shared`], so the
//! tree stays as large as the rule that wrote it. The walkers below visit
//! a shared subtree once per polarity.

use crate::source::Span;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A boolean tree of field comparisons.
#[derive(Debug, Clone, PartialEq)]
pub enum Logic {
    And(Vec<Logic>),
    Or(Vec<Logic>),
    Not(Box<Logic>),
    Cmp(Cmp),
    /// Free-text terms matched anywhere in the event (Sigma keyword lists,
    /// bare SPL/Lucene terms). Several values mean any of them.
    Keyword(Keyword),
    /// What a parser could not model. Checks skip it.
    Opaque(Opaque),
    /// A subtree that also appears elsewhere in the same tree (the same
    /// `Arc`). It means exactly its content.
    Shared(Arc<Logic>),
}

/// `field <op> value(s)`. Several values mean *any of them* unless `all`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cmp {
    pub field: Field,
    pub op: Op,
    pub values: Vec<Value>,
    /// All values must match (Sigma `|all`), instead of any.
    pub all: bool,
    /// Value transformations applied before matching, in the rule's own
    /// words (Sigma `base64offset`, `utf16le`, `windash`, EQL `~` for
    /// case-insensitive …). Informational.
    pub modifiers: Vec<String>,
    /// The whole comparison as written.
    pub span: Span,
}

/// A field name as written, with its schema-neutral concept when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub raw: String,
    /// E.g. `destination.port`, `process.name`; see `knowledge/fields.yml`.
    /// Filled in after parsing from the field table of the rule's schema.
    pub concept: Option<String>,
    /// The field is computed inside the query (ES|QL `EVAL`/`STATS`, SPL
    /// `eval`/`stats` outputs), not read from the event: it never resolves
    /// to a concept.
    pub derived: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Contains,
    StartsWith,
    EndsWith,
    /// Value contains `*`/`?` wildcards to be matched as a glob.
    Wildcard,
    Regex,
    Cidr,
    /// `values[0]` is the lower bound, `values[1]` the upper bound.
    Range {
        lo_inclusive: bool,
        hi_inclusive: bool,
    },
    Gt,
    Gte,
    Lt,
    Lte,
    /// The field is present (its values are empty).
    Exists,
    /// The value names another field (Sigma `fieldref`).
    FieldRef,
}

/// A literal as written, with its parsed reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// The value's text after unquoting and unescaping, as the rule means it
    /// (`0755` stays `0755`, `no` stays `no`).
    pub text: String,
    pub parsed: Parsed,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    Str,
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Keyword {
    pub values: Vec<Value>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Opaque {
    pub text: String,
    pub span: Span,
    /// Why it could not be modelled (shown in `info` diagnostics).
    pub reason: String,
}

impl Value {
    /// A value read from quoted text: never guessed as a number.
    pub fn string(text: impl Into<String>, span: Span) -> Self {
        Value {
            text: text.into(),
            parsed: Parsed::Str,
            span,
        }
    }

    /// A value read from an unquoted token: integers, floats and
    /// `true`/`false`/`null` are recognised, the text is kept as written.
    pub fn guess(text: impl Into<String>, span: Span) -> Self {
        let text = text.into();
        let parsed = parse_scalar(&text);
        Value { text, parsed, span }
    }

    pub fn null(span: Span) -> Self {
        Value {
            text: String::new(),
            parsed: Parsed::Null,
            span,
        }
    }

    /// The value as an integer, when it is one (`"443"` read from a quoted
    /// string counts: ports are often quoted).
    pub fn as_int(&self) -> Option<i64> {
        match self.parsed {
            Parsed::Int(i) => Some(i),
            Parsed::Float(_) | Parsed::Bool(_) | Parsed::Null => None,
            Parsed::Str => self.text.trim().parse().ok(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.parsed, Parsed::Null)
    }
}

fn parse_scalar(text: &str) -> Parsed {
    let t = text.trim();
    if t.eq_ignore_ascii_case("null") {
        return Parsed::Null;
    }
    if t.eq_ignore_ascii_case("true") {
        return Parsed::Bool(true);
    }
    if t.eq_ignore_ascii_case("false") {
        return Parsed::Bool(false);
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    // `0755` is kept as a string: a leading zero is not a decimal number
    // in the rule languages we read (and YAML 1.1 would call it octal).
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits.len() == 1 || !digits.starts_with('0'))
    {
        if let Ok(i) = t.parse() {
            return Parsed::Int(i);
        }
    }
    if t.contains('.')
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        if let Ok(f) = t.parse::<f64>() {
            if t.matches('.').count() == 1 {
                return Parsed::Float(f);
            }
        }
    }
    Parsed::Str
}

impl Field {
    pub fn new(raw: impl Into<String>, span: Span) -> Self {
        Field {
            raw: raw.into(),
            concept: None,
            derived: false,
            span,
        }
    }
}

impl Cmp {
    pub fn new(field: Field, op: Op, values: Vec<Value>, span: Span) -> Self {
        Cmp {
            field,
            op,
            values,
            all: false,
            modifiers: Vec::new(),
            span,
        }
    }
}

impl Logic {
    pub fn opaque(text: impl Into<String>, span: Span, reason: impl Into<String>) -> Logic {
        Logic::Opaque(Opaque {
            text: text.into(),
            span,
            reason: reason.into(),
        })
    }

    /// `And` that flattens nested `And`s and unwraps a single child.
    pub fn and(children: Vec<Logic>) -> Logic {
        let mut out = Vec::with_capacity(children.len());
        for c in children {
            match c {
                Logic::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        if out.len() == 1 {
            out.pop().unwrap_or(Logic::And(Vec::new()))
        } else {
            Logic::And(out)
        }
    }

    /// `Or` that flattens nested `Or`s and unwraps a single child.
    pub fn or(children: Vec<Logic>) -> Logic {
        let mut out = Vec::with_capacity(children.len());
        for c in children {
            match c {
                Logic::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        if out.len() == 1 {
            out.pop().unwrap_or(Logic::Or(Vec::new()))
        } else {
            Logic::Or(out)
        }
    }

    /// `Not` that cancels a double negation.
    #[allow(clippy::should_implement_trait)]
    pub fn not(inner: Logic) -> Logic {
        match inner {
            Logic::Not(x) => *x,
            other => Logic::Not(Box::new(other)),
        }
    }

    /// Visit every comparison with its polarity (`true` = under an odd
    /// number of `Not`, i.e. an exclusion). A [`Logic::Shared`] subtree is
    /// visited once per polarity however often it is used.
    pub fn visit_cmps<'a>(&'a self, f: &mut impl FnMut(&'a Cmp, bool)) {
        self.visit_cmps_inner(false, f, &mut HashSet::new())
    }

    fn visit_cmps_inner<'a>(
        &'a self,
        negated: bool,
        f: &mut impl FnMut(&'a Cmp, bool),
        seen: &mut HashSet<(usize, bool)>,
    ) {
        match self {
            Logic::And(c) | Logic::Or(c) => {
                c.iter().for_each(|x| x.visit_cmps_inner(negated, f, seen))
            }
            Logic::Not(x) => x.visit_cmps_inner(!negated, f, seen),
            Logic::Cmp(c) => f(c, negated),
            Logic::Keyword(_) | Logic::Opaque(_) => {}
            Logic::Shared(x) => {
                if seen.insert((Arc::as_ptr(x) as usize, negated)) {
                    x.visit_cmps_inner(negated, f, seen)
                }
            }
        }
    }

    /// Visit every node, pre-order; a [`Logic::Shared`] node is entered
    /// once.
    pub fn visit<'a>(&'a self, f: &mut impl FnMut(&'a Logic)) {
        self.visit_inner(f, &mut HashSet::new())
    }

    fn visit_inner<'a>(&'a self, f: &mut impl FnMut(&'a Logic), seen: &mut HashSet<usize>) {
        f(self);
        match self {
            Logic::And(c) | Logic::Or(c) => c.iter().for_each(|x| x.visit_inner(f, seen)),
            Logic::Not(x) => x.visit_inner(f, seen),
            Logic::Shared(x) if seen.insert(Arc::as_ptr(x) as usize) => x.visit_inner(f, seen),
            _ => {}
        }
    }

    /// Mutable access to every field, e.g. to resolve concepts. A shared
    /// subtree is rewritten once and stays shared.
    pub fn fields_mut(&mut self, f: &mut impl FnMut(&mut Field, Op, &[Value])) {
        self.rewrite(&mut |l| {
            if let Logic::Cmp(c) = l {
                f(&mut c.field, c.op, &c.values)
            }
        })
    }

    /// Rewrite every span (e.g. from query-relative to file offsets).
    pub fn map_spans(&mut self, f: &impl Fn(Span) -> Span) {
        self.rewrite(&mut |l| match l {
            Logic::Cmp(c) => {
                c.span = f(c.span);
                c.field.span = f(c.field.span);
                for v in &mut c.values {
                    v.span = f(v.span);
                }
            }
            Logic::Keyword(k) => {
                k.span = f(k.span);
                for v in &mut k.values {
                    v.span = f(v.span);
                }
            }
            Logic::Opaque(o) => o.span = f(o.span),
            _ => {}
        })
    }

    /// Apply `f` to every leaf (`Cmp`, `Keyword`, `Opaque`), each shared
    /// subtree once.
    fn rewrite(&mut self, f: &mut impl FnMut(&mut Logic)) {
        self.rewrite_inner(f, &mut HashMap::new())
    }

    fn rewrite_inner(
        &mut self,
        f: &mut impl FnMut(&mut Logic),
        done: &mut HashMap<usize, (Arc<Logic>, Arc<Logic>)>,
    ) {
        match self {
            Logic::And(c) | Logic::Or(c) => c.iter_mut().for_each(|x| x.rewrite_inner(f, done)),
            Logic::Not(x) => x.rewrite_inner(f, done),
            Logic::Shared(x) => {
                let key = Arc::as_ptr(x) as usize;
                if let Some((_, new)) = done.get(&key) {
                    *x = Arc::clone(new);
                    return;
                }
                let mut inner = Logic::clone(x);
                inner.rewrite_inner(f, done);
                let new = Arc::new(inner);
                // The old `Arc` is kept in the table so that its address
                // cannot be reused while the walk goes on.
                done.insert(key, (Arc::clone(x), Arc::clone(&new)));
                *x = new;
            }
            leaf => f(leaf),
        }
    }

    /// True when some part could not be modelled.
    pub fn has_opaque(&self) -> bool {
        let mut found = false;
        self.visit(&mut |n| found |= matches!(n, Logic::Opaque(_)));
        found
    }

    /// The span covering every node, if any node has one.
    pub fn span(&self) -> Option<Span> {
        match self {
            Logic::And(c) | Logic::Or(c) => c.iter().filter_map(Logic::span).reduce(Span::join),
            Logic::Not(x) => x.span(),
            Logic::Cmp(c) => Some(c.span),
            Logic::Keyword(k) => Some(k.span),
            Logic::Opaque(o) => Some(o.span),
            Logic::Shared(x) => x.span(),
        }
    }

    /// How many nodes the tree holds, a shared subtree counted once.
    pub fn node_count(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |_| n += 1);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(field: &str, v: &str) -> Logic {
        Logic::Cmp(Cmp::new(
            Field::new(field, Span::new(0, 1)),
            Op::Eq,
            vec![Value::guess(v, Span::new(2, 3))],
            Span::new(0, 3),
        ))
    }

    #[test]
    fn polarity_flips_under_not() {
        let l = Logic::and(vec![
            cmp("a", "1"),
            Logic::not(Logic::or(vec![cmp("b", "2"), Logic::not(cmp("c", "3"))])),
        ]);
        let mut seen = Vec::new();
        l.visit_cmps(&mut |c, neg| seen.push((c.field.raw.clone(), neg)));
        assert_eq!(
            seen,
            vec![("a".into(), false), ("b".into(), true), ("c".into(), false)]
        );
    }

    #[test]
    fn scalars_keep_their_text() {
        assert_eq!(Value::guess("0755", Span::default()).parsed, Parsed::Str);
        assert_eq!(
            Value::guess("443", Span::default()).parsed,
            Parsed::Int(443)
        );
        assert_eq!(Value::guess("no", Span::default()).parsed, Parsed::Str);
        assert_eq!(Value::string("443", Span::default()).as_int(), Some(443));
        assert_eq!(Value::guess("22:30", Span::default()).parsed, Parsed::Str);
    }
}
