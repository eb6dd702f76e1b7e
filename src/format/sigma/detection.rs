//! Sigma selections (search identifiers) → Logic.
//!
//! A mapping is the AND of its entries, a list of mappings the OR of them,
//! a list of plain values (or a single plain string) a keyword search. Each
//! entry is `field|modifier|…: value(s)`; several values mean any of them
//! unless `|all`.
//!
//! Values follow Sigma's string rules: `*`/`?` are wildcards, `\*`, `\?`
//! and `\\` are escapes, any other backslash is literal. A value whose only
//! wildcards are leading/trailing `*` becomes Eq/EndsWith/StartsWith/
//! Contains with the unescaped text, and its span covers exactly that text
//! (the `*` excluded). Any other wildcard makes an `Op::Wildcard` whose text
//! is the glob as written (escapes kept, with the `*` that `contains`/
//! `startswith`/`endswith` imply added). A bare `*` is `Op::Exists`. Values
//! of the same entry with different operators split into an OR (an AND
//! under `|all`).

use super::yaml::{trim_end, Node, Scalar, Style};
use crate::rule::{Cmp, Field, Keyword, Logic, Op, ParseIssue, Value};
use crate::source::{OffsetMap, Span};

/// Modifiers of the Sigma specification (and widely supported extensions).
pub(crate) const MODIFIERS: &[&str] = &[
    "contains",
    "startswith",
    "endswith",
    "all",
    "re",
    "i",
    "m",
    "s",
    "cidr",
    "base64",
    "base64offset",
    "utf16le",
    "utf16be",
    "utf16",
    "wide",
    "windash",
    "exists",
    "lt",
    "lte",
    "gt",
    "gte",
    "expand",
    "fieldref",
    "cased",
    "neq",
    "minute",
    "hour",
    "day",
    "week",
    "month",
    "year",
];

/// The Logic of one selection, or `None` (with an issue) when it is malformed.
pub(crate) fn selection(
    text: &str,
    name: &str,
    node: &Node,
    issues: &mut Vec<ParseIssue>,
) -> Option<Logic> {
    match node {
        Node::Map { entries, .. } => map_logic(text, name, node, entries, issues),
        Node::Seq { items, span, .. } => {
            if items.is_empty() {
                issues.push(ParseIssue::error(
                    "RL004",
                    *span,
                    format!("selection `{name}` is an empty list"),
                ));
                return None;
            }
            let mut keywords = Vec::new();
            let mut kw_span: Option<Span> = None;
            let mut alts = Vec::new();
            let mut ok = true;
            for item in items {
                match item {
                    Node::Map { entries, .. } => match map_logic(text, name, item, entries, issues)
                    {
                        Some(l) => alts.push(l),
                        None => ok = false,
                    },
                    Node::Scalar(s) if !s.is_null() => {
                        let v = keyword_value(text, s);
                        kw_span = Some(kw_span.map_or(s.token, |k| k.join(s.token)));
                        keywords.push(v);
                    }
                    other => {
                        issues.push(ParseIssue::error(
                            "RL004",
                            other.span(),
                            format!(
                                "an item of selection `{name}` must be a mapping or a keyword, found {}",
                                other.kind()
                            ),
                        ));
                        ok = false;
                    }
                }
            }
            if !ok {
                return None;
            }
            if !keywords.is_empty() {
                let span = if alts.is_empty() {
                    *span
                } else {
                    kw_span.unwrap_or(*span)
                };
                alts.insert(
                    0,
                    Logic::Keyword(Keyword {
                        values: keywords,
                        span,
                    }),
                );
            }
            Some(Logic::or(alts))
        }
        Node::Scalar(s) => {
            if s.is_null() {
                issues.push(ParseIssue::error(
                    "RL004",
                    s.token,
                    format!("selection `{name}` is empty"),
                ));
                return None;
            }
            let v = keyword_value(text, s);
            if s.style == Style::Plain && !matches!(v.parsed, crate::rule::Parsed::Str) {
                issues.push(ParseIssue::error(
                    "RL004",
                    s.token,
                    format!(
                        "selection `{name}` must be a mapping of fields or a list, found the value `{}`",
                        s.value
                    ),
                ));
                return None;
            }
            Some(Logic::Keyword(Keyword {
                span: v.span,
                values: vec![v],
            }))
        }
    }
}

fn map_logic(
    text: &str,
    name: &str,
    node: &Node,
    entries: &[(Node, Node)],
    issues: &mut Vec<ParseIssue>,
) -> Option<Logic> {
    if entries.is_empty() {
        issues.push(ParseIssue::error(
            "RL004",
            node.span(),
            format!("selection `{name}` is an empty mapping"),
        ));
        return None;
    }
    let mut parts = Vec::with_capacity(entries.len());
    let mut ok = true;
    for (k, v) in entries {
        match entry(text, k, v, issues) {
            Some(l) => parts.push(l),
            None => ok = false,
        }
    }
    ok.then(|| Logic::and(parts))
}

#[derive(Default)]
struct Mods {
    contains: bool,
    startswith: bool,
    endswith: bool,
    all: bool,
    re: bool,
    cidr: bool,
    exists: bool,
    fieldref: bool,
    neq: bool,
    cmp: Option<Op>,
    transforms: Vec<String>,
}

/// One `field|mods: values` entry.
fn entry(text: &str, key: &Node, value: &Node, issues: &mut Vec<ParseIssue>) -> Option<Logic> {
    let Some(k) = key.as_scalar().filter(|k| !k.is_null()) else {
        issues.push(ParseIssue::error(
            "RL004",
            key.span(),
            format!("a selection key must be a field name, found {}", key.kind()),
        ));
        return None;
    };
    let kmap = k.content_map(text);
    let mut segs = Vec::new();
    let mut start = 0usize;
    for (i, c) in k.value.char_indices() {
        if c == '|' {
            segs.push((start, i));
            start = i + 1;
        }
    }
    segs.push((start, k.value.len()));
    let (fs, fe) = segs[0];
    let field_name = &k.value[fs..fe];
    let field_span = kmap.span(Span::new(fs, fe));
    let mut mods = Mods::default();
    let mut bad = false;
    for &(s, e) in &segs[1..] {
        let m = &k.value[s..e];
        let span = if s == e {
            kmap.span(Span::new(s.saturating_sub(1), s))
        } else {
            kmap.span(Span::new(s, e))
        };
        match m {
            "contains" => mods.contains = true,
            "startswith" => mods.startswith = true,
            "endswith" => mods.endswith = true,
            "all" => mods.all = true,
            "re" => mods.re = true,
            "i" | "m" | "s" if mods.re => mods.transforms.push(m.to_string()),
            "i" | "m" | "s" => {
                issues.push(ParseIssue::error(
                    "RL005",
                    span,
                    format!("modifier `{m}` only applies after `re`"),
                ));
                bad = true;
            }
            "cidr" => mods.cidr = true,
            "exists" => mods.exists = true,
            "fieldref" => mods.fieldref = true,
            "neq" => mods.neq = true,
            "lt" => mods.cmp = Some(Op::Lt),
            "lte" => mods.cmp = Some(Op::Lte),
            "gt" => mods.cmp = Some(Op::Gt),
            "gte" => mods.cmp = Some(Op::Gte),
            "base64" | "base64offset" | "utf16le" | "utf16be" | "utf16" | "wide" | "windash"
            | "expand" | "cased" | "minute" | "hour" | "day" | "week" | "month" | "year" => {
                mods.transforms.push(m.to_string())
            }
            "" => {
                issues.push(ParseIssue::error("RL005", span, "empty modifier after `|`"));
                bad = true;
            }
            _ => {
                let mut issue = ParseIssue::error("RL005", span, format!("unknown modifier `{m}`"));
                if let Some(s) = crate::did_you_mean::did_you_mean(m, MODIFIERS.iter().copied()) {
                    issue = issue.with_help(format!("did you mean `{s}`?"));
                }
                issues.push(issue);
                bad = true;
            }
        }
    }
    let cmp_span = Span::new(
        key.span().start,
        trim_end(text, value.span()).end.max(key.span().end),
    );
    if bad {
        return Some(Logic::opaque(
            k.value.clone(),
            cmp_span,
            "unknown Sigma modifier",
        ));
    }

    let scalars: Vec<&Scalar> = match value {
        Node::Scalar(s) => vec![s],
        Node::Seq { items, span, .. } => {
            if items.is_empty() {
                issues.push(ParseIssue::error(
                    "RL004",
                    *span,
                    format!("field `{field_name}` has an empty list of values"),
                ));
                return None;
            }
            let mut out = Vec::with_capacity(items.len());
            for it in items {
                match it.as_scalar() {
                    Some(s) => out.push(s),
                    None => {
                        issues.push(ParseIssue::error(
                            "RL004",
                            it.span(),
                            format!(
                                "a value of field `{field_name}` must be a scalar, found {}",
                                it.kind()
                            ),
                        ));
                        return None;
                    }
                }
            }
            out
        }
        Node::Map { span, .. } => {
            issues.push(ParseIssue::error(
                "RL004",
                *span,
                format!(
                    "field `{field_name}` must have a value or a list of values, found a mapping"
                ),
            ));
            return None;
        }
    };

    // A key without a field name (`'|all': [...]`) searches keywords.
    if field_name.is_empty() {
        let values: Vec<Value> = scalars
            .iter()
            .filter(|s| !s.is_null())
            .map(|s| keyword_value(text, s))
            .collect();
        if mods.all {
            return Some(Logic::and(
                values
                    .into_iter()
                    .map(|v| {
                        Logic::Keyword(Keyword {
                            span: v.span,
                            values: vec![v],
                        })
                    })
                    .collect(),
            ));
        }
        return Some(Logic::Keyword(Keyword {
            values,
            span: cmp_span,
        }));
    }

    let field = Field::new(field_name, field_span);

    if mods.exists {
        let s = scalars[0];
        let b = s.value.trim().to_ascii_lowercase();
        if scalars.len() != 1 || (b != "true" && b != "false") {
            issues.push(ParseIssue::error(
                "RL004",
                value.span(),
                format!("`{field_name}|exists` takes `true` or `false`"),
            ));
            return None;
        }
        let cmp = Logic::Cmp(Cmp::new(field, Op::Exists, Vec::new(), cmp_span));
        return Some(if b == "true" { cmp } else { Logic::not(cmp) });
    }

    // Group the values by operator, in order of first appearance.
    let mut groups: Vec<(Op, Vec<Value>)> = Vec::new();
    for s in &scalars {
        let (op, v) = classify(text, s, &mods);
        match groups.iter_mut().find(|(o, _)| *o == op) {
            Some((_, vs)) => vs.extend(v),
            None => groups.push((op, v.into_iter().collect())),
        }
    }
    let cmps: Vec<Logic> = groups
        .into_iter()
        .map(|(op, values)| {
            let mut c = Cmp::new(field.clone(), op, values, cmp_span);
            c.all = mods.all;
            c.modifiers = mods.transforms.clone();
            Logic::Cmp(c)
        })
        .collect();
    let l = if mods.all {
        Logic::and(cmps)
    } else {
        Logic::or(cmps)
    };
    Some(if mods.neq { Logic::not(l) } else { l })
}

/// The operator and value of one scalar under `mods`; the value is `None`
/// for a bare `*` (the field exists).
fn classify(text: &str, s: &Scalar, mods: &Mods) -> (Op, Option<Value>) {
    if s.is_null() {
        let span = if s.token.is_empty() {
            s.token
        } else {
            s.content_span(text)
        };
        return (Op::Eq, Some(Value::null(span)));
    }
    let span = s.content_span(text);
    let plain = s.style == Style::Plain && !s.tagged;
    let literal = |t: &str, sp: Span| {
        if plain {
            Value::guess(t, sp)
        } else {
            Value::string(t, sp)
        }
    };
    if mods.re {
        return (Op::Regex, Some(Value::string(s.value.clone(), span)));
    }
    if mods.cidr {
        return (Op::Cidr, Some(Value::string(s.value.clone(), span)));
    }
    if mods.fieldref {
        return (Op::FieldRef, Some(Value::string(s.value.clone(), span)));
    }
    if let Some(op) = mods.cmp {
        return (op, Some(literal(&s.value, span)));
    }
    let map = s.content_map(text);
    let lead = mods.contains || mods.endswith;
    let trail = mods.contains || mods.startswith;
    let p = pattern(&s.value, &map, lead, trail);
    let v = match p.op {
        Op::Exists => None,
        Op::Eq => Some(literal(&p.text, p.span)),
        _ => Some(Value::string(p.text, p.span)),
    };
    (p.op, v)
}

/// A keyword value: unescaped when it holds no wildcard, else as written.
fn keyword_value(text: &str, s: &Scalar) -> Value {
    let span = s.content_span(text);
    let map = s.content_map(text);
    let p = pattern(&s.value, &map, false, false);
    if p.op == Op::Eq {
        if s.style == Style::Plain && !s.tagged {
            Value::guess(p.text, p.span)
        } else {
            Value::string(p.text, p.span)
        }
    } else {
        Value::string(s.value.clone(), span)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Piece {
    Lit(char),
    Star,
    Quest,
}

pub(crate) struct Pattern {
    pub op: Op,
    pub text: String,
    pub span: Span,
}

/// Read a Sigma string: `*`/`?` are wildcards, `\*`, `\?`, `\\` escapes,
/// any other backslash is literal. Only-leading/trailing `*` become
/// EndsWith/StartsWith/Contains; other wildcards make a glob.
pub(crate) fn pattern(value: &str, map: &OffsetMap, lead: bool, trail: bool) -> Pattern {
    let mut pieces: Vec<(Piece, usize, usize)> = Vec::new();
    let mut it = value.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        match c {
            '\\' => match it.peek() {
                Some(&(j, n)) if n == '*' || n == '?' || n == '\\' => {
                    it.next();
                    pieces.push((Piece::Lit(n), i, j + n.len_utf8()));
                }
                _ => pieces.push((Piece::Lit('\\'), i, i + 1)),
            },
            '*' => pieces.push((Piece::Star, i, i + 1)),
            '?' => pieces.push((Piece::Quest, i, i + 1)),
            c => pieces.push((Piece::Lit(c), i, i + c.len_utf8())),
        }
    }
    let leading = pieces.iter().take_while(|p| p.0 == Piece::Star).count();
    let trailing = pieces[leading..]
        .iter()
        .rev()
        .take_while(|p| p.0 == Piece::Star)
        .count();
    let middle = &pieces[leading..pieces.len() - trailing];
    let whole = if value.is_empty() {
        Span::point(map.offset(0))
    } else {
        map.span(Span::new(0, value.len()))
    };
    if middle.iter().any(|p| !matches!(p.0, Piece::Lit(_))) {
        let mut t = String::with_capacity(value.len() + 2);
        if lead && leading == 0 {
            t.push('*');
        }
        t.push_str(value);
        if trail && trailing == 0 {
            t.push('*');
        }
        return Pattern {
            op: Op::Wildcard,
            text: t,
            span: whole,
        };
    }
    let starts = leading > 0 || lead;
    let ends = trailing > 0 || trail;
    let text: String = middle
        .iter()
        .filter_map(|p| match p.0 {
            Piece::Lit(c) => Some(c),
            _ => None,
        })
        .collect();
    let span = match (middle.first(), middle.last()) {
        (Some(f), Some(l)) => map.span(Span::new(f.1, l.2)),
        _ => whole,
    };
    let op = match (starts, ends) {
        _ if middle.is_empty() && (leading + trailing) > 0 => Op::Exists,
        (false, false) => Op::Eq,
        (true, false) => Op::EndsWith,
        (false, true) => Op::StartsWith,
        (true, true) => Op::Contains,
    };
    Pattern { op, text, span }
}
