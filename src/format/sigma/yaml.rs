//! YAML text → a tree of spanned nodes.
//!
//! Built on the YAML event parser that serde-saphyr uses internally and
//! re-exports (`serde_saphyr::granit_parser`). The serde data model would
//! lose what a linter needs: the scalar style (so `0755`, `no`, `22:30`
//! could be re-typed), the exact byte range of every key and scalar token,
//! the extent of block collections, and per-document recovery (serde's
//! multi-document API stops at the first broken document). The event stream
//! gives all of it: every node is a [`Node`] whose scalars keep their value
//! *as written* (the event parser never resolves types), their style and
//! their token span; [`Scalar::content_map`] maps positions inside a
//! decoded scalar (quoted, escaped, folded, block) back to file bytes.

use crate::source::{OffsetMap, Span};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, ScanError, StructureStyle};
use std::collections::{HashMap, HashSet};

/// Deepest nesting of collections accepted.
const MAX_DEPTH: usize = 200;
/// Most nodes copied for anchors and aliases together (guards against
/// alias bombs and deeply nested anchors, each of which holds a copy of
/// its subtree).
pub(crate) const MAX_ALIAS_NODES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Literal,
    Folded,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    /// The value after YAML unquoting/unescaping/folding. Never re-typed:
    /// `0755`, `no`, `0x10` stay exactly as written.
    pub value: String,
    pub style: Style,
    /// The scalar token: quotes included; for block scalars the content
    /// lines (the `|`/`>` header excluded, trailing blank space trimmed).
    /// Empty (a point) for an implicit null such as `key:`.
    pub token: Span,
    /// An explicit tag (`!!str`) was given.
    pub tagged: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Scalar(Scalar),
    Seq {
        items: Vec<Node>,
        span: Span,
        flow: bool,
    },
    Map {
        entries: Vec<(Node, Node)>,
        span: Span,
        flow: bool,
    },
}

/// One YAML document of a stream.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    /// `None` for an empty document.
    pub root: Option<Node>,
}

/// A YAML problem: invalid syntax (`RL002`) or a duplicate key (`RL013`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct YamlIssue {
    pub code: &'static str,
    pub span: Span,
    pub message: String,
}

impl Scalar {
    /// True for an implicit or explicit null (`key:`, `~`, `null`).
    pub fn is_null(&self) -> bool {
        self.style == Style::Plain
            && !self.tagged
            && matches!(self.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
    }

    pub fn is_quoted(&self) -> bool {
        matches!(self.style, Style::Single | Style::Double)
    }

    /// The region of the file holding the scalar's characters (quotes
    /// excluded).
    fn region(&self, text: &str) -> Span {
        let t = self.token;
        if self.is_quoted() && t.len() >= 2 {
            let q = if self.style == Style::Single {
                b'\''
            } else {
                b'"'
            };
            let bytes = text.as_bytes();
            if bytes.get(t.start) == Some(&q) && bytes.get(t.end - 1) == Some(&q) {
                return Span::new(t.start + 1, t.end - 1);
            }
        }
        t
    }

    /// Maps each byte of `value` to the file bytes it was read from.
    ///
    /// Walks the decoded value and the source text side by side: equal
    /// characters map one to one, escapes (`\"`, `''`, `\x41`) map to their
    /// whole sequence, folded line breaks map to the break, indentation and
    /// other presentation whitespace is skipped. When the two cannot be
    /// aligned every byte maps to the whole token, which is never wrong.
    pub fn content_map(&self, text: &str) -> OffsetMap {
        let region = self.region(text);
        match align(&self.value, text, region, self.style) {
            Some(map) => map,
            None => {
                let mut map = OffsetMap::new();
                map.push(self.value.len(), region.start, region.end);
                map.set_tail(region.end);
                map
            }
        }
    }

    /// The file span of the scalar's characters (without quotes).
    pub fn content_span(&self, text: &str) -> Span {
        if self.value.is_empty() {
            let r = self.region(text);
            return Span::point(r.start);
        }
        self.content_map(text).span(Span::new(0, self.value.len()))
    }
}

fn align(value: &str, text: &str, region: Span, style: Style) -> Option<OffsetMap> {
    let src = text.get(region.start..region.end)?;
    let sb = src.as_bytes();
    let block = matches!(style, Style::Literal | Style::Folded);
    let indent = if block {
        let line_start = text.get(..region.start)?.rfind('\n').map_or(0, |i| i + 1);
        region.start - line_start
    } else {
        0
    };
    let mut map = OffsetMap::new();
    let mut j = 0usize;
    let mut at_line_start = false;
    for ch in value.chars() {
        loop {
            if j >= sb.len() {
                if block && ch == '\n' {
                    // Kept final line breaks lie past the trimmed token.
                    map.push(1, region.end, region.end);
                    break;
                }
                return None;
            }
            if at_line_start {
                at_line_start = false;
                let mut k = 0;
                while k < indent && sb.get(j) == Some(&b' ') {
                    j += 1;
                    k += 1;
                }
                continue;
            }
            let c = src.get(j..)?.chars().next()?;
            if style == Style::Double && c == '\\' {
                let next = sb.get(j + 1).copied();
                match next {
                    Some(b'\n') => {
                        j += 2;
                        continue;
                    }
                    Some(b'\r') => {
                        j += 2;
                        if sb.get(j) == Some(&b'\n') {
                            j += 1;
                        }
                        continue;
                    }
                    Some(b'x') => {
                        map.push(
                            ch.len_utf8(),
                            region.start + j,
                            region.start + (j + 4).min(sb.len()),
                        );
                        j += 4;
                    }
                    Some(b'u') => {
                        map.push(
                            ch.len_utf8(),
                            region.start + j,
                            region.start + (j + 6).min(sb.len()),
                        );
                        j += 6;
                    }
                    Some(b'U') => {
                        map.push(
                            ch.len_utf8(),
                            region.start + j,
                            region.start + (j + 10).min(sb.len()),
                        );
                        j += 10;
                    }
                    Some(_) => {
                        let len = src.get(j + 1..)?.chars().next().map_or(1, char::len_utf8);
                        map.push(ch.len_utf8(), region.start + j, region.start + j + 1 + len);
                        j += 1 + len;
                    }
                    None => return None,
                }
                break;
            }
            if style == Style::Single && c == '\'' {
                if sb.get(j + 1) == Some(&b'\'') && ch == '\'' {
                    map.push(1, region.start + j, region.start + j + 2);
                    j += 2;
                    break;
                }
                return None;
            }
            if c == ch {
                map.push_verbatim(region.start + j, c.len_utf8());
                j += c.len_utf8();
                if c == '\n' {
                    at_line_start = block;
                }
                break;
            }
            if (ch == ' ' || ch == '\n') && (c == '\n' || c == '\r') {
                // A folded line break.
                map.push(1, region.start + j, region.start + j + 1);
                j += 1;
                if c == '\r' && sb.get(j) == Some(&b'\n') {
                    j += 1;
                }
                at_line_start = block;
                break;
            }
            if matches!(c, ' ' | '\t' | '\n' | '\r') {
                j += 1;
                if c == '\n' {
                    at_line_start = block;
                }
                continue;
            }
            return None;
        }
    }
    map.set_tail(region.start + j.min(sb.len()));
    Some(map)
}

impl Node {
    pub fn span(&self) -> Span {
        match self {
            Node::Scalar(s) => s.token,
            Node::Seq { span, .. } | Node::Map { span, .. } => *span,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Scalar(s) if s.is_null())
    }

    /// The value of `key` in a mapping (the last one when repeated).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key and value of `key` in a mapping (the last one when repeated).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match self {
            Node::Map { entries, .. } => entries
                .iter()
                .rev()
                .find(|(k, _)| k.as_scalar().is_some_and(|s| s.value == key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    /// A short word for the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Scalar(s) if s.is_null() => "null",
            Node::Scalar(_) => "a scalar",
            Node::Seq { .. } => "a list",
            Node::Map { .. } => "a mapping",
        }
    }
}

/// Deep-merge `over` into `base` the way legacy Sigma merged an
/// `action: global` document into the documents after it: mappings merge
/// key by key, anything else is replaced.
pub(crate) fn merge(base: &Node, over: &Node) -> Node {
    match (base, over) {
        (
            Node::Map {
                entries: be,
                span: bspan,
                flow,
            },
            Node::Map {
                entries: oe,
                span: ospan,
                ..
            },
        ) => {
            let mut entries: Vec<(Node, Node)> = be.clone();
            // The first entry of each scalar key, to merge without a scan.
            let mut index: HashMap<String, usize> = HashMap::new();
            for (i, (k, _)) in entries.iter().enumerate() {
                if let Some(k) = k.as_scalar() {
                    index.entry(k.value.clone()).or_insert(i);
                }
            }
            for (ok, ov) in oe {
                let okey = ok.as_scalar().map(|s| s.value.as_str());
                match okey.and_then(|k| index.get(k).copied()) {
                    Some(i) => {
                        let merged = merge(&entries[i].1, ov);
                        entries[i] = (ok.clone(), merged);
                    }
                    None => {
                        if let Some(k) = okey {
                            index.insert(k.to_string(), entries.len());
                        }
                        entries.push((ok.clone(), ov.clone()));
                    }
                }
            }
            let span = if oe.is_empty() { *bspan } else { *ospan };
            Node::Map {
                entries,
                span,
                flow: *flow,
            }
        }
        _ => over.clone(),
    }
}

/// Parse every document of `text`. A document with a syntax error is
/// reported and skipped; the following documents are still read.
pub(crate) fn load(text: &str) -> (Vec<Document>, Vec<YamlIssue>) {
    let mut b = Builder {
        text,
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        alias_nodes: 0,
        issues: Vec::new(),
    };
    let mut docs = Vec::new();
    let mut guard = 0usize;
    loop {
        guard += 1;
        if guard > text.len() + 16 {
            break;
        }
        match b.parser.next_event() {
            None => break,
            Some(Err(e)) => {
                b.scan_error(&e);
                if !b.recover() {
                    break;
                }
            }
            Some(Ok((Event::StreamEnd, _))) => break,
            Some(Ok((Event::DocumentStart(..), _))) => match b.document() {
                Ok(root) => docs.push(Document { root }),
                Err(e) => {
                    b.build_error(e);
                    if !b.recover() {
                        break;
                    }
                }
            },
            Some(Ok(_)) => {}
        }
    }
    (docs, b.issues)
}

enum BuildError {
    Scan(ScanError),
    Limit(Span, String),
    Eof,
}

struct Builder<'a> {
    text: &'a str,
    parser: Parser<'a, serde_saphyr::granit_parser::StrInput<'a>>,
    /// Each anchor's node and its node count.
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    issues: Vec<YamlIssue>,
}

type Ev<'a> = (Event<'a>, Span);

impl<'a> Builder<'a> {
    fn recover(&mut self) -> bool {
        self.anchors.clear();
        matches!(self.parser.proceed_next_document(), Ok(true))
    }

    fn scan_error(&mut self, e: &ScanError) {
        let m = e.marker();
        let offset = m
            .byte_offset()
            .unwrap_or_else(|| line_col_offset(self.text, m.line(), m.col()));
        let offset = clamp_boundary(self.text, offset);
        let mut end = offset;
        if let Some(c) = self.text[offset..].chars().next() {
            if c != '\n' {
                end += c.len_utf8();
            }
        }
        self.issues.push(YamlIssue {
            code: "RL002",
            span: Span::new(offset, end),
            message: format!("invalid YAML: {}", e.info()),
        });
    }

    fn build_error(&mut self, e: BuildError) {
        match e {
            BuildError::Scan(e) => self.scan_error(&e),
            BuildError::Limit(span, message) => self.issues.push(YamlIssue {
                code: "RL002",
                span,
                message,
            }),
            BuildError::Eof => self.issues.push(YamlIssue {
                code: "RL002",
                span: Span::point(self.text.len()),
                message: "invalid YAML: unexpected end of input".into(),
            }),
        }
    }

    fn next(&mut self) -> Result<Ev<'a>, BuildError> {
        loop {
            match self.parser.next_event() {
                None => return Err(BuildError::Eof),
                Some(Err(e)) => return Err(BuildError::Scan(e)),
                Some(Ok((ev, sp))) => {
                    let span = match sp.byte_range() {
                        Some(r) => Span::new(r.start, r.end.max(r.start)),
                        None => {
                            Span::point(line_col_offset(self.text, sp.start.line(), sp.start.col()))
                        }
                    };
                    match ev {
                        Event::Scalar(..)
                        | Event::SequenceStart(..)
                        | Event::SequenceEnd
                        | Event::MappingStart(..)
                        | Event::MappingEnd
                        | Event::Alias(_)
                        | Event::DocumentEnd
                        | Event::StreamEnd => return Ok((ev, span)),
                        _ => continue,
                    }
                }
            }
        }
    }

    /// After `DocumentStart`: the root node, through `DocumentEnd`.
    fn document(&mut self) -> Result<Option<Node>, BuildError> {
        let (ev, span) = self.next()?;
        let root = match ev {
            Event::DocumentEnd => return Ok(None),
            Event::StreamEnd => return Err(BuildError::Eof),
            ev => self.node(ev, span, 0)?.0,
        };
        loop {
            match self.next()?.0 {
                Event::DocumentEnd => break,
                Event::StreamEnd => break,
                _ => {}
            }
        }
        self.anchors.clear();
        if root.is_null() && root.span().is_empty() {
            return Ok(None);
        }
        Ok(Some(root))
    }

    /// The node starting with `ev`, and how many nodes it holds.
    fn node(
        &mut self,
        ev: Event<'a>,
        span: Span,
        depth: usize,
    ) -> Result<(Node, usize), BuildError> {
        if depth > MAX_DEPTH {
            return Err(BuildError::Limit(
                span,
                format!("YAML nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let mut count = 1usize;
        let (node, anchor) = match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let token = if matches!(style, Style::Literal | Style::Folded) {
                    trim_end(self.text, span)
                } else {
                    span
                };
                (
                    Node::Scalar(Scalar {
                        value: value.into_owned(),
                        style,
                        token,
                        tagged: tag.is_some(),
                    }),
                    anchor,
                )
            }
            Event::SequenceStart(style, anchor, _) => {
                let flow = style == StructureStyle::Flow;
                let mut items = Vec::new();
                let end;
                loop {
                    let (ev, sp) = self.next()?;
                    match ev {
                        Event::SequenceEnd => {
                            end = if flow { sp.end } else { span.start };
                            break;
                        }
                        Event::DocumentEnd | Event::StreamEnd | Event::MappingEnd => {
                            return Err(BuildError::Eof)
                        }
                        ev => {
                            let (n, c) = self.node(ev, sp, depth + 1)?;
                            count = count.saturating_add(c);
                            items.push(n);
                        }
                    }
                }
                let last = items.last().map_or(end, |n: &Node| n.span().end);
                (
                    Node::Seq {
                        items,
                        span: Span::new(span.start, end.max(last)),
                        flow,
                    },
                    anchor,
                )
            }
            Event::MappingStart(style, anchor, _) => {
                let flow = style == StructureStyle::Flow;
                let mut entries: Vec<(Node, Node)> = Vec::new();
                let mut keys: HashSet<String> = HashSet::new();
                let end;
                loop {
                    let (ev, sp) = self.next()?;
                    let key = match ev {
                        Event::MappingEnd => {
                            end = if flow { sp.end } else { span.start };
                            break;
                        }
                        Event::DocumentEnd | Event::StreamEnd | Event::SequenceEnd => {
                            return Err(BuildError::Eof)
                        }
                        ev => self.node(ev, sp, depth + 1)?,
                    };
                    let (key, kc) = key;
                    let (ev, sp) = self.next()?;
                    let value = match ev {
                        Event::DocumentEnd
                        | Event::StreamEnd
                        | Event::SequenceEnd
                        | Event::MappingEnd => return Err(BuildError::Eof),
                        ev => self.node(ev, sp, depth + 1)?,
                    };
                    let (value, vc) = value;
                    count = count.saturating_add(kc).saturating_add(vc);
                    if let Some(k) = key.as_scalar() {
                        if !keys.insert(k.value.clone()) {
                            self.issues.push(YamlIssue {
                                code: "RL013",
                                span: k.token,
                                message: format!("duplicate key `{}`", k.value),
                            });
                        }
                    }
                    entries.push((key, value));
                }
                let last = entries.last().map_or(end, |(_, v)| v.span().end);
                (
                    Node::Map {
                        entries,
                        span: Span::new(span.start, end.max(last)),
                        flow,
                    },
                    anchor,
                )
            }
            Event::Alias(id) => {
                let Some(c) = self.anchors.get(&id).map(|a| a.1) else {
                    return Err(BuildError::Limit(
                        span,
                        "invalid YAML: unknown alias".into(),
                    ));
                };
                self.charge(span, c)?;
                let node = self.anchors.get(&id).map(|a| a.0.clone());
                return node.map(|n| (n, c)).ok_or(BuildError::Eof);
            }
            _ => return Err(BuildError::Eof),
        };
        if anchor != 0 {
            // The anchor keeps a copy of its subtree: it costs as much as
            // an alias, so nested anchors cannot multiply the input.
            self.charge(span, count)?;
            self.anchors.insert(anchor, (node.clone(), count));
        }
        Ok((node, count))
    }

    /// Count `nodes` copied for an anchor or alias against the budget.
    fn charge(&mut self, span: Span, nodes: usize) -> Result<(), BuildError> {
        self.alias_nodes = self.alias_nodes.saturating_add(nodes);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(BuildError::Limit(
                Span::new(span.start, span.start.max(span.end.min(span.start + 1))),
                format!(
                    "YAML anchors and aliases copy more than {MAX_ALIAS_NODES} nodes: \
                     write the repeated values out, or use fewer nested anchors"
                ),
            ));
        }
        Ok(())
    }
}

/// `span` without trailing spaces and line breaks.
pub(crate) fn trim_end(text: &str, span: Span) -> Span {
    let Some(s) = text.get(span.start..span.end) else {
        return span;
    };
    let t = s.trim_end_matches([' ', '\t', '\n', '\r']);
    Span::new(span.start, span.start + t.len())
}

fn clamp_boundary(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while o > 0 && !text.is_char_boundary(o) {
        o -= 1;
    }
    o
}

/// Byte offset of 1-based `line`, 0-based character `col`.
fn line_col_offset(text: &str, line: usize, col: usize) -> usize {
    let mut start = 0usize;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let end_of_line = rest.find('\n').unwrap_or(rest.len());
    start
        + rest[..end_of_line]
            .char_indices()
            .nth(col)
            .map_or(end_of_line, |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_at<'n>(n: &'n Node, key: &str) -> &'n Scalar {
        n.get(key).and_then(Node::as_scalar).expect("scalar")
    }

    #[test]
    fn plain_and_quoted_spans() {
        let text = "a: 0755\nb: 'it''s'\nc: \"x\\\"y\"\nd:\n";
        let (docs, issues) = load(text);
        assert!(issues.is_empty());
        let root = docs[0].root.as_ref().unwrap();
        let a = scalar_at(root, "a");
        assert_eq!(a.value, "0755");
        assert_eq!(a.content_span(text), Span::new(3, 7));
        let b = scalar_at(root, "b");
        assert_eq!(b.value, "it's");
        assert_eq!(
            &text[b.content_span(text).start..b.content_span(text).end],
            "it''s"
        );
        let m = b.content_map(text);
        // the `s` after the doubled quote
        assert_eq!(m.span(Span::new(3, 4)), Span::new(16, 17));
        let c = scalar_at(root, "c");
        assert_eq!(c.value, "x\"y");
        assert_eq!(c.content_map(text).span(Span::new(1, 2)), Span::new(24, 26));
        assert!(scalar_at(root, "d").is_null());
    }

    #[test]
    fn block_and_folded_maps() {
        let text = "k: |\n    sel and\n      not f\nl: >-\n  one\n  two\nm: a\n  b\n";
        let (docs, _) = load(text);
        let root = docs[0].root.as_ref().unwrap();
        let k = scalar_at(root, "k");
        assert_eq!(k.value, "sel and\n  not f\n");
        let m = k.content_map(text);
        let pos = k.value.find("not").unwrap();
        let sp = m.span(Span::new(pos, pos + 3));
        assert_eq!(&text[sp.start..sp.end], "not");
        let l = scalar_at(root, "l");
        assert_eq!(l.value, "one two");
        let sp = l.content_map(text).span(Span::new(4, 7));
        assert_eq!(&text[sp.start..sp.end], "two");
        let mm = scalar_at(root, "m");
        assert_eq!(mm.value, "a b");
        let sp = mm.content_map(text).span(Span::new(2, 3));
        assert_eq!(&text[sp.start..sp.end], "b");
    }

    #[test]
    fn byte_order_mark_does_not_shift_spans() {
        let text = "\u{feff}a: b\n";
        let (docs, issues) = load(text);
        assert!(issues.is_empty());
        let a = scalar_at(docs[0].root.as_ref().unwrap(), "a");
        assert_eq!(&text[a.token.start..a.token.end], "b");
    }

    #[test]
    fn errors_and_recovery() {
        let text = "a: [1, 2\n---\nb: 1\n";
        let (docs, issues) = load(text);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, "RL002");
        assert_eq!(docs.len(), 1);
        assert!(docs[0].root.as_ref().unwrap().get("b").is_some());
    }

    #[test]
    fn duplicate_keys() {
        let text = "a: 1\nb: 2\na: 3\n";
        let (_, issues) = load(text);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].code, "RL013");
        assert_eq!(issues[0].span, Span::new(10, 11));
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let text = format!("{}{}", "[".repeat(300), "]".repeat(300));
        let (_, issues) = load(&text);
        assert!(!issues.is_empty());
        let text = "a: &x [1, 2]\nb: *x\n";
        let (docs, issues) = load(text);
        assert!(issues.is_empty());
        assert!(matches!(
            docs[0].root.as_ref().unwrap().get("b"),
            Some(Node::Seq { .. })
        ));
    }
}
