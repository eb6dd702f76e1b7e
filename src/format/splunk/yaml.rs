//! YAML access for Splunk detections: a spanned node tree read with
//! serde-saphyr, and a scalar decoder that keeps an [`OffsetMap`] from each
//! decoded byte back to the file, through `''`, escapes and line folding.

use crate::source::{OffsetMap, Span};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A YAML node with the location serde-saphyr reports for it.
#[derive(Debug)]
pub(crate) enum Node {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any YAML node")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
                Ok(i64::try_from(v)
                    .map(Node::Int)
                    .unwrap_or(Node::Float(v as f64)))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
                Ok(i64::try_from(v)
                    .map(Node::Int)
                    .unwrap_or(Node::Float(v as f64)))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
                Ok(i64::try_from(v)
                    .map(Node::Int)
                    .unwrap_or(Node::Float(v as f64)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
                Node::deserialize(d)
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Node, E> {
                Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = s.next_element::<Spanned<Node>>()? {
                    v.push(x);
                }
                Ok(Node::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = m.next_key::<Spanned<Node>>()? {
                    let val = m.next_value::<Spanned<Node>>()?;
                    v.push((k, val));
                }
                Ok(Node::Map(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The byte span serde-saphyr reports for a node (quotes included for
/// quoted scalars; content only for block scalars; the first token for
/// collections), clamped to the text.
pub(crate) fn node_span(n: &Spanned<Node>, text: &str) -> Option<Span> {
    let s = n.referenced.span();
    let start = usize::try_from(s.byte_offset()?).ok()?;
    let len = usize::try_from(s.byte_len().unwrap_or(0)).ok()?;
    let start = start.min(text.len());
    Some(Span::new(start, start.saturating_add(len).min(text.len())))
}

/// A byte offset from a 1-based line and character column.
pub(crate) fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut off = 0usize;
    for _ in 1..line.max(1) {
        match text[off..].find('\n') {
            Some(p) => off += p + 1,
            None => return text.len(),
        }
    }
    let rest = &text[off..];
    let col = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    match rest.char_indices().nth(col) {
        Some((i, _)) => off + i,
        None => off + rest.find('\n').unwrap_or(rest.len()),
    }
}

/// How a scalar is written in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// A decoded scalar with its map back to the file.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub map: OffsetMap,
    pub style: ScalarStyle,
    /// The scalar's content in the file (inside the quotes; the lines of a
    /// block scalar).
    pub content: Span,
    /// Whether our decoding matched the YAML library's value exactly; when
    /// not, `text` is the library's value and every byte maps to `content`.
    pub exact: bool,
}

/// Builds the per-byte file ranges of a decoded string.
struct Builder {
    out: String,
    ranges: Vec<(usize, usize)>,
}

impl Builder {
    fn new() -> Self {
        Builder {
            out: String::new(),
            ranges: Vec::new(),
        }
    }

    fn push_str(&mut self, s: &str, start: usize, end: usize) {
        self.out.push_str(s);
        for _ in 0..s.len() {
            self.ranges.push((start, end));
        }
    }

    /// Copy `src[start..end]` verbatim, each byte mapping to itself.
    fn copy(&mut self, src: &str, start: usize, end: usize) {
        if let Some(s) = src.get(start..end) {
            self.out.push_str(s);
            for i in start..end {
                self.ranges.push((i, i + 1));
            }
        }
    }

    fn finish(self, tail: usize) -> (String, OffsetMap) {
        let mut m = OffsetMap::new();
        for (s, e) in &self.ranges {
            m.push(1, *s, *e);
        }
        m.set_tail(tail);
        (self.out, m)
    }
}

fn is_blank(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

fn is_break(c: u8) -> bool {
    c == b'\n' || c == b'\r'
}

/// Skip one line break (`\n`, `\r\n` or `\r`) at `i`.
fn skip_break(b: &[u8], i: usize) -> usize {
    if b.get(i) == Some(&b'\r') && b.get(i + 1) == Some(&b'\n') {
        i + 2
    } else {
        i + 1
    }
}

/// Fold a flow scalar's line break: `i` is at the first trailing blank or
/// the break. Returns the offset of the next content byte after folding
/// (a single break → one space; each empty line → `\n`).
fn fold(b: &[u8], mut i: usize, end: usize, bld: &mut Builder) -> usize {
    let from = i;
    while i < end && is_blank(b[i]) {
        i += 1;
    }
    // i is at the break
    i = skip_break(b, i);
    let mut empties = 0;
    loop {
        while i < end && is_blank(b[i]) {
            i += 1;
        }
        if i < end && is_break(b[i]) {
            empties += 1;
            i = skip_break(b, i);
            continue;
        }
        break;
    }
    if empties == 0 {
        bld.push_str(" ", from, i);
    } else {
        for _ in 0..empties {
            bld.push_str("\n", from, i);
        }
    }
    i
}

/// Whether the blanks at `i` run into a line break (trailing blanks).
fn blanks_then_break(b: &[u8], mut i: usize, end: usize) -> bool {
    while i < end && is_blank(b[i]) {
        i += 1;
    }
    i < end && is_break(b[i])
}

/// Decode a single-quoted scalar whose opening quote is at `q`.
fn single_quoted(src: &str, q: usize) -> Option<(String, OffsetMap, Span)> {
    let b = src.as_bytes();
    let end = b.len();
    let mut bld = Builder::new();
    let mut i = q + 1;
    let mut run = i;
    loop {
        if i >= end {
            return None;
        }
        let c = b[i];
        if c == b'\'' {
            bld.copy(src, run, i);
            if b.get(i + 1) == Some(&b'\'') {
                bld.push_str("'", i, i + 2);
                i += 2;
                run = i;
                continue;
            }
            let (t, m) = bld.finish(i);
            return Some((t, m, Span::new(q + 1, i)));
        }
        if (is_blank(c) && blanks_then_break(b, i, end)) || is_break(c) {
            bld.copy(src, run, i);
            i = fold(b, i, end, &mut bld);
            run = i;
            continue;
        }
        i += 1;
    }
}

/// Decode a double-quoted scalar whose opening quote is at `q`.
fn double_quoted(src: &str, q: usize) -> Option<(String, OffsetMap, Span)> {
    let b = src.as_bytes();
    let end = b.len();
    let mut bld = Builder::new();
    let mut i = q + 1;
    let mut run = i;
    loop {
        if i >= end {
            return None;
        }
        let c = b[i];
        if c == b'"' {
            bld.copy(src, run, i);
            let (t, m) = bld.finish(i);
            return Some((t, m, Span::new(q + 1, i)));
        }
        if c == b'\\' {
            bld.copy(src, run, i);
            let e = *b.get(i + 1)?;
            if is_break(e) {
                // Escaped line break: joins the lines without a space.
                let mut j = skip_break(b, i + 1);
                let mut empties = 0;
                loop {
                    while j < end && is_blank(b[j]) {
                        j += 1;
                    }
                    if j < end && is_break(b[j]) {
                        empties += 1;
                        j = skip_break(b, j);
                        continue;
                    }
                    break;
                }
                for _ in 0..empties {
                    bld.push_str("\n", i, j);
                }
                i = j;
                run = i;
                continue;
            }
            let (decoded, len): (Option<char>, usize) = match e {
                b'0' => (Some('\0'), 2),
                b'a' => (Some('\u{7}'), 2),
                b'b' => (Some('\u{8}'), 2),
                b't' | b'\t' => (Some('\t'), 2),
                b'n' => (Some('\n'), 2),
                b'v' => (Some('\u{b}'), 2),
                b'f' => (Some('\u{c}'), 2),
                b'r' => (Some('\r'), 2),
                b'e' => (Some('\u{1b}'), 2),
                b' ' => (Some(' '), 2),
                b'"' => (Some('"'), 2),
                b'/' => (Some('/'), 2),
                b'\\' => (Some('\\'), 2),
                b'N' => (Some('\u{85}'), 2),
                b'_' => (Some('\u{a0}'), 2),
                b'L' => (Some('\u{2028}'), 2),
                b'P' => (Some('\u{2029}'), 2),
                b'x' | b'u' | b'U' => {
                    let n = match e {
                        b'x' => 2,
                        b'u' => 4,
                        _ => 8,
                    };
                    let hex = src.get(i + 2..i + 2 + n)?;
                    let v = u32::from_str_radix(hex, 16).ok()?;
                    (char::from_u32(v), 2 + n)
                }
                _ => return None,
            };
            let ch = decoded?;
            let mut buf = [0u8; 4];
            bld.push_str(ch.encode_utf8(&mut buf), i, i + len);
            i += len;
            run = i;
            continue;
        }
        if (is_blank(c) && blanks_then_break(b, i, end)) || is_break(c) {
            bld.copy(src, run, i);
            i = fold(b, i, end, &mut bld);
            run = i;
            continue;
        }
        i += 1;
    }
}

/// Decode a plain scalar occupying `start..end`.
fn plain(src: &str, start: usize, end: usize) -> (String, OffsetMap) {
    let b = src.as_bytes();
    let end = end.min(b.len());
    let mut bld = Builder::new();
    let mut i = start;
    let mut run = i;
    while i < end {
        let c = b[i];
        if (is_blank(c) && blanks_then_break(b, i, end)) || is_break(c) {
            bld.copy(src, run, i);
            i = fold(b, i, end, &mut bld);
            run = i;
            continue;
        }
        i += 1;
    }
    // Trailing blanks are not part of a plain scalar.
    let mut e = end;
    while e > run && is_blank(b[e - 1]) {
        e -= 1;
    }
    bld.copy(src, run, e.max(run));
    bld.finish(e.max(run))
}

/// Decode a block scalar whose indicator (`|` or `>`) is at `h`;
/// `parent_indent` is the indentation of the key that owns it.
fn block(
    src: &str,
    h: usize,
    parent_indent: usize,
) -> Option<(String, OffsetMap, Span, ScalarStyle)> {
    let b = src.as_bytes();
    let folded = b.get(h) == Some(&b'>');
    let style = if folded {
        ScalarStyle::Folded
    } else {
        ScalarStyle::Literal
    };
    let mut i = h + 1;
    let mut chomp = 0i8; // -1 strip, 0 clip, 1 keep
    let mut explicit: Option<usize> = None;
    while i < b.len() && !is_break(b[i]) {
        match b[i] {
            b'-' => chomp = -1,
            b'+' => chomp = 1,
            c @ b'1'..=b'9' => explicit = Some((c - b'0') as usize),
            b'#' => {
                while i < b.len() && !is_break(b[i]) {
                    i += 1;
                }
                break;
            }
            _ => {}
        }
        i += 1;
    }
    if i >= b.len() {
        let (t, m) = Builder::new().finish(b.len());
        return Some((t, m, Span::point(b.len()), style));
    }
    let body = skip_break(b, i);
    // Lines of the block.
    let mut lines: Vec<(usize, usize)> = Vec::new(); // (line start, line end excl. break)
    let mut indent = explicit.map(|e| parent_indent + e);
    let mut j = body;
    while j < b.len() {
        let ls = j;
        let mut le = j;
        while le < b.len() && !is_break(b[le]) {
            le += 1;
        }
        let mut sp = ls;
        while sp < le && b[sp] == b' ' {
            sp += 1;
        }
        let blank = src.get(sp..le).is_some_and(|r| r.trim().is_empty());
        let col = sp - ls;
        if !blank {
            match indent {
                None => {
                    if col <= parent_indent {
                        break;
                    }
                    indent = Some(col);
                }
                Some(n) if col < n => break,
                _ => {}
            }
        }
        lines.push((ls, le));
        j = if le < b.len() { skip_break(b, le) } else { le };
    }
    let n = indent.unwrap_or(parent_indent + 1);
    let mut bld = Builder::new();
    let mut prev_normal = false;
    let mut pending: Vec<(usize, usize)> = Vec::new(); // breaks waiting to be emitted
    let mut first = true;
    let mut content_end = body;
    let mut last_break: Option<(usize, usize)> = None;
    for &(ls, le) in &lines {
        let break_span = (le, if le < b.len() { skip_break(b, le) } else { le });
        let text_start = (ls + n).min(le);
        let is_empty = src
            .get(ls..le)
            .is_some_and(|r| r.bytes().all(|c| c == b' '))
            && le <= ls + n;
        if is_empty {
            pending.push(break_span);
            continue;
        }
        let more = folded && b.get(text_start).is_some_and(|c| is_blank(*c));
        if !first {
            let lb = last_break.unwrap_or((ls, ls));
            if folded && prev_normal && !more {
                if pending.is_empty() {
                    bld.push_str(" ", lb.0, lb.1);
                } else {
                    for p in &pending {
                        bld.push_str("\n", p.0, p.1);
                    }
                }
            } else {
                bld.push_str("\n", lb.0, lb.1);
                for p in &pending {
                    bld.push_str("\n", p.0, p.1);
                }
            }
        } else {
            for p in &pending {
                bld.push_str("\n", p.0, p.1);
            }
        }
        pending.clear();
        bld.copy(src, text_start, le);
        content_end = le;
        last_break = Some(break_span);
        prev_normal = !more;
        first = false;
    }
    // Chomping.
    if !first {
        match chomp {
            -1 => {}
            0 => {
                let lb = last_break.unwrap_or((content_end, content_end));
                if lb.1 > lb.0 {
                    bld.push_str("\n", lb.0, lb.1);
                }
            }
            _ => {
                let lb = last_break.unwrap_or((content_end, content_end));
                if lb.1 > lb.0 {
                    bld.push_str("\n", lb.0, lb.1);
                }
                for p in &pending {
                    bld.push_str("\n", p.0, p.1);
                }
            }
        }
    } else if chomp == 1 {
        for p in &pending {
            bld.push_str("\n", p.0, p.1);
        }
    }
    let (t, m) = bld.finish(content_end);
    let start = lines.first().map(|l| (l.0 + n).min(l.1)).unwrap_or(body);
    Some((t, m, Span::new(start.min(content_end), content_end), style))
}

/// Decode the scalar value of a mapping entry. `key_end` is the end of the
/// key, `value` the span serde-saphyr reports for the value, `expected`
/// the value it decoded. Falls back to the library's value with a coarse
/// map (every byte → the whole scalar) if our decoding differs.
pub(crate) fn decode_value(
    src: &str,
    key_end: usize,
    value: Span,
    expected: &str,
    parent_indent: usize,
) -> Decoded {
    let b = src.as_bytes();
    let first = b.get(value.start).copied();
    let attempt =
        match first {
            Some(b'\'') => single_quoted(src, value.start)
                .map(|(t, m, c)| (t, m, c, ScalarStyle::SingleQuoted)),
            Some(b'"') => double_quoted(src, value.start)
                .map(|(t, m, c)| (t, m, c, ScalarStyle::DoubleQuoted)),
            _ => {
                // A block scalar's indicator sits between the key and the content.
                let between = src.get(key_end..value.start).unwrap_or("");
                let ind = between
                    .char_indices()
                    .find(|(_, c)| *c == '|' || *c == '>')
                    .map(|(i, _)| key_end + i)
                    .filter(|_| {
                        let before_comment = between.split('#').next().unwrap_or("");
                        before_comment.contains('|') || before_comment.contains('>')
                    });
                match ind {
                    Some(h) => block(src, h, parent_indent),
                    None => {
                        let (t, m) = plain(src, value.start, value.end);
                        Some((t, m, value, ScalarStyle::Plain))
                    }
                }
            }
        };
    match attempt {
        Some((text, map, content, style)) if text == expected => Decoded {
            text,
            map,
            style,
            content,
            exact: true,
        },
        other => {
            let (content, style) = match &other {
                Some((_, _, c, s)) => (*c, *s),
                None => (value, ScalarStyle::Plain),
            };
            let mut map = OffsetMap::new();
            map.push(expected.len(), content.start, content.end);
            map.set_tail(content.end);
            Decoded {
                text: expected.to_string(),
                map,
                style,
                content,
                exact: false,
            }
        }
    }
}

/// The column (in bytes) at which the line holding `offset` starts its
/// content.
pub(crate) fn line_indent(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    let ls = src[..offset].rfind('\n').map(|p| p + 1).unwrap_or(0);
    src[ls..].bytes().take_while(|c| *c == b' ').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(src: &str, key: &str) -> Decoded {
        let v: Spanned<Node> = serde_saphyr::from_str(src).unwrap();
        let Node::Map(m) = v.value else { panic!() };
        for (k, val) in &m {
            if matches!(&k.value, Node::Str(s) if s == key) {
                let Node::Str(expected) = &val.value else {
                    panic!("not a string")
                };
                let ks = node_span(k, src).unwrap();
                let vs = node_span(val, src).unwrap();
                let d = decode_value(src, ks.end, vs, expected, line_indent(src, ks.start));
                assert!(
                    d.exact,
                    "{key}: decoded {:?} expected {:?}",
                    d.text, expected
                );
                return d;
            }
        }
        panic!("no key {key}");
    }

    #[test]
    fn single_quoted_folding_maps_each_byte() {
        let src = "search: '| tstats a=''b''\n  c  \n\n  d=x'\n";
        let d = check(src, "search");
        assert_eq!(d.text, "| tstats a='b' c\nd=x");
        // `x` on the last line
        let x = d.text.find('x').unwrap();
        let fx = d.map.offset(x);
        assert_eq!(&src[fx..fx + 1], "x");
        // the `'` decoded from `''`
        let q = d.text.find('\'').unwrap();
        assert_eq!(d.map.span(Span::new(q, q + 1)), Span::new(20, 22));
        assert_eq!(&src[d.content.start..d.content.end], &src[9..src.len() - 2]);
        assert_eq!(d.map.offset(d.text.len()), src.len() - 2);
    }

    #[test]
    fn other_styles_decode() {
        check("a: \"x\\ty\\\\ \\\"q\\\"\n  z\"\n", "a");
        check("a: \"x \\\n   y\"\n", "a");
        check("a: plain\n  folded  \n  more\nb: 1\n", "a");
        check("a: |\n  lit\n   more\n\n  end\nb: 1\n", "a");
        check("a: |-\n  lit\n  end\n", "a");
        check("a: |+\n  lit\n\n", "a");
        check(
            "a: >\n  fold\n  this\n\n  para\n    more\n  back\nb: 1\n",
            "a",
        );
        check("a: >-\n  x\n  y\n", "a");
        check("a:\n  '| x\n  y'\n", "a");
        check("a: 'é ''ü''\n   ß'\n", "a");
        check("a: |2\n    x\n   y\n", "a");
    }

    #[test]
    fn literal_maps_lines() {
        let src = "search: |\n  | tstats count\n  | where x=1\n";
        let d = check(src, "search");
        let w = d.text.find("x=1").unwrap();
        let f = d.map.offset(w);
        assert_eq!(&src[f..f + 3], "x=1");
        assert_eq!(d.style, ScalarStyle::Literal);
    }

    #[test]
    fn offsets_from_line_col() {
        let t = "ab\ncdé f\n";
        assert_eq!(offset_of(t, 2, 5), t.find('f').unwrap());
        assert_eq!(offset_of(t, 9, 1), t.len());
    }
}
