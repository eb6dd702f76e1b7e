//! Invariants the fuzz targets assert beyond "no panic": every span a
//! parser returns lies inside the text it parsed, on character boundaries.

use rulelint::query::QueryParse;
use rulelint::rule::{Logic, ParsedFile};
use rulelint::source::Span;

/// Panics when `span` is not a range of `text` on character boundaries.
pub fn check_span(text: &str, span: Span, what: &str) {
    assert!(
        span.start <= span.end
            && span.end <= text.len()
            && text.is_char_boundary(span.start)
            && text.is_char_boundary(span.end),
        "{what} span {span:?} is not inside the {} bytes of text",
        text.len()
    );
}

/// Checks the span of every node of `logic`.
pub fn check_logic(text: &str, logic: &Logic) {
    logic.visit(&mut |n| match n {
        Logic::Cmp(c) => {
            check_span(text, c.span, "comparison");
            check_span(text, c.field.span, "field");
            for v in &c.values {
                check_span(text, v.span, "value");
            }
        }
        Logic::Keyword(k) => {
            check_span(text, k.span, "keyword");
            for v in &k.values {
                check_span(text, v.span, "value");
            }
        }
        Logic::Opaque(o) => check_span(text, o.span, "opaque part"),
        Logic::And(_) | Logic::Or(_) | Logic::Not(_) | Logic::Shared(_) => {}
    });
}

/// Checks a query parse: logic, issues and anchors.
pub fn check_query(text: &str, q: &QueryParse) {
    check_logic(text, &q.logic);
    for i in &q.issues {
        check_span(text, i.span, "issue");
    }
    check_anchors(text, &q.anchors);
}

fn check_anchors(text: &str, a: &rulelint::rule::Anchors) {
    if let Some(s) = a.query {
        check_span(text, s, "query anchor");
    }
    for s in a.conditions.iter().chain(&a.steps) {
        check_span(text, *s, "condition anchor");
    }
    if let Some(s) = a.detection {
        check_span(text, s, "detection anchor");
    }
    if let Some((_, s)) = &a.filter_macro {
        check_span(text, *s, "filter macro anchor");
    }
    if let Some(p) = a.first_aggregation {
        assert!(p <= text.len(), "aggregation anchor {p} past the text");
    }
}

/// Checks a parsed file: every rule's logic, span and anchors, and every
/// issue.
pub fn check_file(text: &str, p: &ParsedFile) {
    for r in &p.rules {
        check_span(text, r.span, "rule");
        if let Some(l) = &r.logic {
            check_logic(text, l);
        }
        check_anchors(text, &r.anchors);
    }
    for i in &p.issues {
        check_span(text, i.span, "issue");
    }
}

/// The input as text, or `None` when it is not UTF-8 (the readers take
/// decoded text; invalid UTF-8 is refused before them).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The built-in catalogue, loaded once.
pub fn knowledge() -> &'static rulelint::Knowledge {
    static K: std::sync::OnceLock<rulelint::Knowledge> = std::sync::OnceLock::new();
    K.get_or_init(|| rulelint::Knowledge::builtin().expect("the built-in catalogue loads"))
}

/// `text` with `edits` applied, or `None` when they overlap, fall outside
/// the text or split a character.
pub fn apply_edits(text: &str, edits: &[rulelint::source::Edit]) -> Option<String> {
    let mut sorted: Vec<&rulelint::source::Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut pos = 0;
    for e in sorted {
        let (start, end) = (e.span.start, e.span.end);
        if start < pos
            || end < start
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            return None;
        }
        out.push_str(text.get(pos..start)?);
        out.push_str(&e.replacement);
        pos = end;
    }
    out.push_str(text.get(pos..)?);
    Some(out)
}
