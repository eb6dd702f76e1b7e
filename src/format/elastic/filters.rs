//! Kibana filters (`[[rule.filters]]`) as IR nodes.
//!
//! A filter is `{ meta = { negate, disabled, type, key, params }, query =
//! <Elasticsearch query DSL> }` (older exports put the DSL, e.g. `exists`,
//! next to `meta`). The DSL forms Kibana writes are modelled: `exists`,
//! `match_phrase`/`match` (phrase filters), `bool.should` of phrases
//! (phrases filters), `wildcard`, `prefix`, `term`/`terms`, `range` and
//! `query_string` (parsed as Lucene); anything else is an opaque node.
//! `negate = true` puts the filter under `Not`: it is an exclusion.

use super::{key_span, span_of, string, table, SValue};
use crate::query::lucene;
use crate::rule::{Cmp, Field, Logic, Op, ParseIssue, Value};
use crate::source::Span;
use toml::de::{DeTable, DeValue};

/// One node per enabled filter.
pub(super) fn parse(text: &str, v: &SValue<'_>, issues: &mut Vec<ParseIssue>) -> Vec<Logic> {
    let DeValue::Array(items) = v.get_ref() else {
        issues.push(ParseIssue::error(
            "RL004",
            span_of(v),
            format!(
                "`filters` must be an array of tables, found {}",
                v.get_ref().type_str()
            ),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items.iter() {
        let Some(f) = table(item) else {
            issues.push(ParseIssue::error(
                "RL004",
                span_of(item),
                format!(
                    "a filter must be a table, found {}",
                    item.get_ref().type_str()
                ),
            ));
            continue;
        };
        let cx = Fx { text, issues };
        if let Some(l) = cx.filter(f, span_of(item)) {
            out.push(l);
        }
    }
    out
}

struct Fx<'a, 't> {
    text: &'t str,
    issues: &'a mut Vec<ParseIssue>,
}

fn get_bool(t: &DeTable<'_>, key: &str) -> Option<bool> {
    t.get(key).and_then(|v| v.get_ref().as_bool())
}

/// Whether `v` is `*x`, `x*`, `*x*` or a general glob (`*` and `?`), after
/// Elasticsearch wildcard-query unescaping (`\*` is a literal star).
fn wildcard_op(raw: &str) -> (Op, String) {
    let mut text = String::with_capacity(raw.len());
    let mut wild = Vec::new();
    let mut escaped_wild = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    escaped_wild |= n == '*' || n == '?';
                    text.push(n);
                }
            }
            '*' | '?' => {
                wild.push((text.len(), c));
                text.push(c);
            }
            c => text.push(c),
        }
    }
    if wild.is_empty() {
        return (Op::Eq, text);
    }
    if !escaped_wild && wild.iter().all(|w| w.1 == '*') {
        let n = text.len();
        let lead = wild.first().map(|w| w.0) == Some(0);
        let trail = wild.last().map(|w| w.0) == Some(n - 1);
        let inner = |a: usize, b: usize| text.get(a..b).unwrap_or("").to_string();
        match (lead, trail, wild.len()) {
            (true, false, 1) if n > 1 => return (Op::EndsWith, inner(1, n)),
            (false, true, 1) if n > 1 => return (Op::StartsWith, inner(0, n - 1)),
            (true, true, 2) if n > 2 => return (Op::Contains, inner(1, n - 1)),
            (true, true, 1) => return (Op::Exists, String::new()),
            _ => {}
        }
    }
    (Op::Wildcard, text)
}

impl<'a, 't> Fx<'a, 't> {
    /// An unmodelled part of a filter (reported as RL010 info).
    fn opaque(&mut self, span: Span, reason: &str) -> Logic {
        let raw = self.text.get(span.start..span.end).unwrap_or("");
        self.issues.push(ParseIssue::info(
            "RL010",
            span,
            format!("Kibana filter not modelled ({reason}); checks skip it"),
        ));
        Logic::opaque(raw, span, reason)
    }

    fn filter(mut self, f: &DeTable<'_>, span: Span) -> Option<Logic> {
        let meta = f.get("meta").and_then(table);
        if meta.and_then(|m| get_bool(m, "disabled")) == Some(true) {
            return None;
        }
        let negate = meta.and_then(|m| get_bool(m, "negate")) == Some(true);
        let logic = if let Some(q) = f.get("query") {
            match table(q) {
                Some(t) => self.dsl(t, span_of(q)),
                None => self.opaque(span_of(q), "filter query is not a table"),
            }
        } else if f.iter().any(|(k, _)| is_dsl_kind(k.get_ref())) {
            // Older exports: the DSL sits next to `meta`.
            let mut nodes = Vec::new();
            for (k, v) in f.iter() {
                if is_dsl_kind(k.get_ref()) {
                    nodes.push(self.dsl_kind(k.get_ref(), v, span_of(k).join(span_of(v))));
                }
            }
            Logic::and(nodes)
        } else if let Some(m) = meta {
            self.meta_filter(m, span)
        } else {
            self.opaque(span, "filter without a query")
        };
        Some(if negate { Logic::not(logic) } else { logic })
    }

    /// A phrase/phrases/exists filter described only by its `meta`.
    fn meta_filter(&mut self, m: &DeTable<'_>, span: Span) -> Logic {
        let ty = m
            .get("type")
            .and_then(|v| v.get_ref().as_str())
            .unwrap_or("");
        let Some(key) = m.get("key").filter(|k| k.get_ref().is_str()) else {
            return self.opaque(span, "filter without a query");
        };
        let field = Field::new(
            key.get_ref().as_str().unwrap_or(""),
            string::content_span(self.text, span_of(key)),
        );
        let params = m.get("params");
        match ty {
            "exists" => Logic::Cmp(Cmp::new(field.clone(), Op::Exists, Vec::new(), field.span)),
            "phrase" => {
                let v = params.and_then(|p| match p.get_ref() {
                    DeValue::Table(t) => t.get("query"),
                    _ => Some(p),
                });
                match v.and_then(|v| self.scalar(v)) {
                    Some(val) => {
                        let span = field.span.join(val.span);
                        Logic::Cmp(Cmp::new(field, Op::Eq, vec![val], span))
                    }
                    None => self.opaque(span, "phrase filter without a value"),
                }
            }
            "phrases" => {
                let values: Vec<Value> = match params.map(|p| p.get_ref()) {
                    Some(DeValue::Array(items)) => {
                        items.iter().filter_map(|i| self.scalar(i)).collect()
                    }
                    _ => Vec::new(),
                };
                if values.is_empty() {
                    return self.opaque(span, "phrases filter without values");
                }
                let span = values.iter().fold(field.span, |s, v| s.join(v.span));
                Logic::Cmp(Cmp::new(field, Op::Eq, values, span))
            }
            _ => self.opaque(span, "unsupported filter type"),
        }
    }

    /// A TOML scalar as a Value (strings unquoted, numbers guessed).
    fn scalar(&self, v: &SValue<'_>) -> Option<Value> {
        let span = span_of(v);
        Some(match v.get_ref() {
            DeValue::String(s) => Value::string(s.as_ref(), string::content_span(self.text, span)),
            DeValue::Integer(i) => Value::guess(i.as_str(), span),
            DeValue::Float(f) => Value::guess(f.as_str(), span),
            DeValue::Boolean(b) => Value::guess(b.to_string(), span),
            _ => return None,
        })
    }

    /// A query DSL object: each key is one clause, all must match.
    fn dsl(&mut self, t: &DeTable<'_>, span: Span) -> Logic {
        let mut nodes = Vec::new();
        for (k, v) in t.iter() {
            nodes.push(self.dsl_kind(k.get_ref(), v, span_of(k).join(span_of(v))));
        }
        if nodes.is_empty() {
            return self.opaque(span, "empty filter query");
        }
        Logic::and(nodes)
    }

    /// One DSL clause `kind = v`; `whole` spans the key and the value.
    fn dsl_kind(&mut self, kind: &str, v: &SValue<'_>, whole: Span) -> Logic {
        let span = span_of(v);
        match kind {
            "exists" => {
                let field = table(v).and_then(|t| t.get("field"));
                match field.filter(|f| f.get_ref().is_str()) {
                    Some(f) => {
                        let fs = string::content_span(self.text, span_of(f));
                        Logic::Cmp(Cmp::new(
                            Field::new(f.get_ref().as_str().unwrap_or(""), fs),
                            Op::Exists,
                            Vec::new(),
                            fs,
                        ))
                    }
                    None => self.opaque(span, "exists filter without a field"),
                }
            }
            "match_phrase" | "match" | "term" | "wildcard" | "prefix" | "terms" | "regexp" => {
                self.field_clause(kind, v)
            }
            "range" => self.range(v),
            "bool" => self.bool(v),
            "query_string" => self.query_string(v),
            "match_all" => Logic::And(Vec::new()),
            _ => self.opaque(whole, "unsupported filter query"),
        }
    }

    /// `{ kind = { "<field>" = value | { value/query = …, … } } }`.
    fn field_clause(&mut self, kind: &str, v: &SValue<'_>) -> Logic {
        let Some(t) = table(v) else {
            return self.opaque(span_of(v), "unsupported filter query");
        };
        let mut nodes = Vec::new();
        for (k, spec) in t.iter() {
            let field = Field::new(k.get_ref().as_ref(), key_span(self.text, k));
            let mut modifiers = Vec::new();
            let value_v = match spec.get_ref() {
                DeValue::Table(st) => {
                    if get_bool(st, "case_insensitive") == Some(true) {
                        modifiers.push("case_insensitive".to_string());
                    }
                    st.get("value").or_else(|| st.get("query"))
                }
                _ => Some(spec),
            };
            let Some(value_v) = value_v else {
                nodes.push(self.opaque(span_of(spec), "filter without a value"));
                continue;
            };
            let (op, values) = match (kind, value_v.get_ref()) {
                ("terms", DeValue::Array(items)) => (
                    Op::Eq,
                    items.iter().filter_map(|i| self.scalar(i)).collect(),
                ),
                ("wildcard", DeValue::String(s)) => {
                    let (op, text) = wildcard_op(s);
                    let vs = string::content_span(self.text, span_of(value_v));
                    let values = if op == Op::Exists {
                        Vec::new()
                    } else {
                        vec![Value::string(text, vs)]
                    };
                    (op, values)
                }
                ("prefix", _) => (Op::StartsWith, self.scalar(value_v).into_iter().collect()),
                ("regexp", _) => (Op::Regex, self.scalar(value_v).into_iter().collect()),
                _ => {
                    let val = self.scalar(value_v);
                    let op = match &val {
                        Some(v)
                            if v.parsed == crate::rule::Parsed::Str
                                && crate::query::kql::is_cidr(&v.text) =>
                        {
                            Op::Cidr
                        }
                        _ => Op::Eq,
                    };
                    (op, val.into_iter().collect())
                }
            };
            if values.is_empty() && op != Op::Exists {
                nodes.push(self.opaque(span_of(spec), "filter without a usable value"));
                continue;
            }
            let span = values.iter().fold(field.span, |s, v| s.join(v.span));
            let mut cmp = Cmp::new(field, op, values, span);
            cmp.modifiers = modifiers;
            nodes.push(Logic::Cmp(cmp));
        }
        if nodes.is_empty() {
            return self.opaque(span_of(v), "empty filter query");
        }
        Logic::and(nodes)
    }

    /// `range = { "<field>" = { gte = …, lt = … } }`.
    fn range(&mut self, v: &SValue<'_>) -> Logic {
        let Some(t) = table(v) else {
            return self.opaque(span_of(v), "unsupported range filter");
        };
        let mut nodes = Vec::new();
        for (k, spec) in t.iter() {
            let field = Field::new(k.get_ref().as_ref(), key_span(self.text, k));
            let Some(st) = table(spec) else {
                nodes.push(self.opaque(span_of(spec), "unsupported range filter"));
                continue;
            };
            let bound = |names: [&str; 2]| -> Option<(Value, bool)> {
                for (i, n) in names.iter().enumerate() {
                    if let Some(b) = st.get(*n).and_then(|b| self.scalar(b)) {
                        return Some((b, i == 0));
                    }
                }
                None
            };
            let lo = bound(["gte", "gt"]);
            let hi = bound(["lte", "lt"]);
            let (op, values) = match (lo, hi) {
                (Some((l, li)), Some((h, hi))) => (
                    Op::Range {
                        lo_inclusive: li,
                        hi_inclusive: hi,
                    },
                    vec![l, h],
                ),
                (Some((l, true)), None) => (Op::Gte, vec![l]),
                (Some((l, false)), None) => (Op::Gt, vec![l]),
                (None, Some((h, true))) => (Op::Lte, vec![h]),
                (None, Some((h, false))) => (Op::Lt, vec![h]),
                (None, None) => {
                    nodes.push(self.opaque(span_of(spec), "range filter without bounds"));
                    continue;
                }
            };
            let span = values.iter().fold(field.span, |s, v| s.join(v.span));
            nodes.push(Logic::Cmp(Cmp::new(field, op, values, span)));
        }
        if nodes.is_empty() {
            return self.opaque(span_of(v), "empty range filter");
        }
        Logic::and(nodes)
    }

    /// `bool = { must/filter = …, should = …, must_not = … }`.
    fn bool(&mut self, v: &SValue<'_>) -> Logic {
        let Some(t) = table(v) else {
            return self.opaque(span_of(v), "unsupported bool filter");
        };
        let mut parts = Vec::new();
        for (k, clauses) in t.iter() {
            let kind = k.get_ref().as_ref();
            if !matches!(kind, "must" | "filter" | "should" | "must_not") {
                continue;
            }
            let items: Vec<Logic> = match clauses.get_ref() {
                DeValue::Array(a) => a
                    .iter()
                    .map(|c| match table(c) {
                        Some(ct) => self.dsl(ct, span_of(c)),
                        None => self.opaque(span_of(c), "unsupported bool clause"),
                    })
                    .collect(),
                DeValue::Table(ct) => vec![self.dsl(ct, span_of(clauses))],
                _ => vec![self.opaque(span_of(clauses), "unsupported bool clause")],
            };
            if items.is_empty() {
                continue;
            }
            parts.push(match kind {
                "should" => merge_or(items),
                "must_not" => Logic::and(items.into_iter().map(Logic::not).collect()),
                _ => Logic::and(items),
            });
        }
        if parts.is_empty() {
            return self.opaque(span_of(v), "empty bool filter");
        }
        Logic::and(parts)
    }

    /// `query_string = { query = "<Lucene>" }`.
    fn query_string(&mut self, v: &SValue<'_>) -> Logic {
        let q = table(v).and_then(|t| t.get("query"));
        let Some(q) = q.filter(|q| q.get_ref().is_str()) else {
            return self.opaque(span_of(v), "query_string filter without a query");
        };
        let Some(d) = string::decode(self.text, span_of(q)) else {
            return self.opaque(span_of(q), "query_string filter without a query");
        };
        let parsed = super::map_query(lucene::parse(&d.value), &d.map);
        self.issues.extend(parsed.issues);
        parsed.logic
    }
}

fn is_dsl_kind(k: &str) -> bool {
    matches!(
        k,
        "exists"
            | "match_phrase"
            | "match"
            | "term"
            | "terms"
            | "wildcard"
            | "prefix"
            | "range"
            | "bool"
            | "query_string"
            | "regexp"
    )
}

/// An Or where equality tests on the same field share one comparison
/// (Kibana's "is one of" filter is a `bool.should` of phrases).
fn merge_or(items: Vec<Logic>) -> Logic {
    let mut out: Vec<Logic> = Vec::new();
    for item in items {
        if let Logic::Cmp(c) = &item {
            if c.op == Op::Eq {
                if let Some(Logic::Cmp(prev)) = out.iter_mut().find(|l| {
                    matches!(l, Logic::Cmp(p) if p.op == Op::Eq && p.field.raw == c.field.raw && p.modifiers == c.modifiers)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_ops() {
        assert_eq!(wildcard_op("*.exe"), (Op::EndsWith, ".exe".into()));
        assert_eq!(wildcard_op("C:\\\\x*"), (Op::StartsWith, "C:\\x".into()));
        assert_eq!(wildcard_op("*x*"), (Op::Contains, "x".into()));
        assert_eq!(
            wildcard_op("?:\\\\a\\\\*"),
            (Op::Wildcard, "?:\\a\\*".into())
        );
        assert_eq!(wildcard_op("abc"), (Op::Eq, "abc".into()));
    }
}
