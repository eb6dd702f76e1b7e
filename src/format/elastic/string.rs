//! TOML string literals read from the raw file bytes, with an
//! [`OffsetMap`] from every decoded byte back to the file, and written
//! back (escaped for the literal's kind) for edits.

use crate::source::{OffsetMap, Span};

/// The four TOML string forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrKind {
    /// `"…"`
    Basic,
    /// `"""…"""`
    MultiBasic,
    /// `'…'`
    Literal,
    /// `'''…'''`
    MultiLiteral,
}

impl StrKind {
    pub fn delimiter(self) -> &'static str {
        match self {
            StrKind::Basic => "\"",
            StrKind::MultiBasic => "\"\"\"",
            StrKind::Literal => "'",
            StrKind::MultiLiteral => "'''",
        }
    }

    pub fn is_multiline(self) -> bool {
        matches!(self, StrKind::MultiBasic | StrKind::MultiLiteral)
    }
}

/// A decoded TOML string.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub kind: StrKind,
    pub value: String,
    /// Decoded offsets → file offsets.
    pub map: OffsetMap,
    /// The file span between the delimiters (after the trimmed first
    /// newline of a multi-line string).
    pub content: Span,
}

/// The kind of the string literal starting at `start`.
pub fn kind_at(text: &str, start: usize) -> Option<StrKind> {
    let rest = text.get(start..)?;
    Some(if rest.starts_with("\"\"\"") {
        StrKind::MultiBasic
    } else if rest.starts_with("'''") {
        StrKind::MultiLiteral
    } else if rest.starts_with('"') {
        StrKind::Basic
    } else if rest.starts_with('\'') {
        StrKind::Literal
    } else {
        return None;
    })
}

/// The file span of the characters between the delimiters of the string
/// literal at `span` (quotes included), or `span` itself when it is not a
/// string literal.
pub fn content_span(text: &str, span: Span) -> Span {
    let Some(kind) = kind_at(text, span.start) else {
        return span;
    };
    let d = kind.delimiter().len();
    let mut start = span.start + d;
    if kind.is_multiline() {
        let rest = text.get(start..span.end).unwrap_or("");
        if rest.starts_with('\n') {
            start += 1;
        } else if rest.starts_with("\r\n") {
            start += 2;
        }
    }
    let end = span.end.saturating_sub(d).max(start);
    Span::new(start.min(end), end)
}

/// Decode the TOML string literal whose raw text (delimiters included) is
/// `text[span]`. `None` when it is not a well-formed string literal.
pub fn decode(text: &str, span: Span) -> Option<Decoded> {
    let kind = kind_at(text, span.start)?;
    let d = kind.delimiter().len();
    if span.len() < 2 * d || !text.is_char_boundary(span.end) {
        return None;
    }
    let content = content_span(text, span);
    let raw = text.get(content.start..content.end)?;
    let base = content.start;
    let mut map = OffsetMap::new();
    let mut value = String::with_capacity(raw.len());
    match kind {
        StrKind::Literal | StrKind::MultiLiteral => {
            value.push_str(raw);
            map.push_verbatim(base, raw.len());
        }
        StrKind::Basic | StrKind::MultiBasic => {
            let bytes = raw.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                let b = bytes[i];
                if b != b'\\' {
                    let ch = raw.get(i..)?.chars().next()?;
                    value.push(ch);
                    map.push_verbatim(base + i, ch.len_utf8());
                    i += ch.len_utf8();
                    continue;
                }
                let esc = *bytes.get(i + 1)?;
                let simple = match esc {
                    b'b' => Some('\u{8}'),
                    b'e' => Some('\u{1b}'),
                    b'f' => Some('\u{c}'),
                    b'n' => Some('\n'),
                    b'r' => Some('\r'),
                    b't' => Some('\t'),
                    b'\\' => Some('\\'),
                    b'"' => Some('"'),
                    _ => None,
                };
                if let Some(ch) = simple {
                    value.push(ch);
                    map.push(ch.len_utf8(), base + i, base + i + 2);
                    i += 2;
                    continue;
                }
                let hex_len = match esc {
                    b'x' => 2,
                    b'u' => 4,
                    b'U' => 8,
                    _ => 0,
                };
                if hex_len > 0 {
                    let hex = raw.get(i + 2..i + 2 + hex_len)?;
                    if !hex.bytes().all(|h| h.is_ascii_hexdigit()) {
                        return None;
                    }
                    let ch = char::from_u32(u32::from_str_radix(hex, 16).ok()?)?;
                    value.push(ch);
                    map.push(ch.len_utf8(), base + i, base + i + 2 + hex_len);
                    i += 2 + hex_len;
                    continue;
                }
                // Line-ending backslash (multi-line basic only): skip the
                // whitespace and newlines up to the next character.
                if kind == StrKind::MultiBasic {
                    let mut j = i + 1;
                    while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                        j += 1;
                    }
                    let nl = match bytes.get(j) {
                        Some(b'\n') => 1,
                        Some(b'\r') if bytes.get(j + 1) == Some(&b'\n') => 2,
                        _ => return None,
                    };
                    j += nl;
                    while matches!(bytes.get(j), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                        j += 1;
                    }
                    i = j;
                    continue;
                }
                return None;
            }
        }
    }
    map.set_tail(content.end);
    Some(Decoded {
        kind,
        value,
        map,
        content,
    })
}

/// `text` escaped so that it can be inserted inside a string literal of
/// `kind` and decodes back to itself; `None` when that is impossible
/// (a literal string cannot hold its own delimiter or, single-line, a
/// newline).
pub fn encode(kind: StrKind, text: &str) -> Option<String> {
    match kind {
        StrKind::Literal => {
            if text
                .chars()
                .any(|c| c == '\'' || (c.is_control() && c != '\t'))
            {
                None
            } else {
                Some(text.to_string())
            }
        }
        StrKind::MultiLiteral => {
            if text.contains("'''")
                || text.starts_with('\'')
                || text.ends_with('\'')
                || text
                    .replace("\r\n", "\n")
                    .chars()
                    .any(|c| c.is_control() && c != '\t' && c != '\n')
            {
                None
            } else {
                Some(text.to_string())
            }
        }
        StrKind::Basic | StrKind::MultiBasic => {
            let mut out = String::with_capacity(text.len() + 8);
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' if kind == StrKind::MultiBasic => out.push('\n'),
                    '\r' if kind == StrKind::MultiBasic && chars.peek() == Some(&'\n') => {
                        out.push('\r')
                    }
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push('\t'),
                    c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
                    c => out.push(c),
                }
            }
            Some(out)
        }
    }
}

/// The string literal whose content (as [`Decoded::content`]) is
/// `content`: its kind and its full span, delimiters included.
pub fn literal_around(text: &str, content: Span) -> Option<(StrKind, Span)> {
    let before = text.get(..content.start)?;
    for kind in [StrKind::MultiBasic, StrKind::MultiLiteral] {
        let d = kind.delimiter();
        for nl in ["\n", "\r\n", ""] {
            let open = format!("{d}{nl}");
            if before.ends_with(&open) {
                let start = content.start - open.len();
                let end = content.end + d.len();
                if text.get(content.end..end) == Some(d) {
                    return Some((kind, Span::new(start, end)));
                }
            }
        }
    }
    for kind in [StrKind::Basic, StrKind::Literal] {
        let d = kind.delimiter();
        if before.ends_with(d) && text.get(content.end..content.end + 1) == Some(d) {
            return Some((kind, Span::new(content.start - 1, content.end + 1)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(text: &str) -> Decoded {
        let start = text.find(['"', '\'']).unwrap();
        decode(text, Span::new(start, text.len())).unwrap()
    }

    #[test]
    fn multi_literal_trims_first_newline() {
        let t = "q = '''\na:b\n'''";
        let d = dec(t);
        assert_eq!(d.value, "a:b\n");
        assert_eq!(&t[d.content.start..d.content.end], "a:b\n");
        assert_eq!(d.map.span(Span::new(2, 3)), Span::new(10, 11));
    }

    #[test]
    fn basic_escapes_map_to_their_bytes() {
        let t = r#"q = "a\"b\\c\u00e9d""#;
        let d = dec(t);
        assert_eq!(d.value, "a\"b\\céd");
        // `"` decoded at 1 comes from `\"`
        let s = d.map.span(Span::new(1, 2));
        assert_eq!(&t[s.start..s.end], "\\\"");
        let e = d.value.find('é').unwrap();
        let s = d.map.span(Span::new(e, e + 2));
        assert_eq!(&t[s.start..s.end], "\\u00e9");
        let s = d.map.span(Span::new(e + 2, e + 3));
        assert_eq!(&t[s.start..s.end], "d");
    }

    #[test]
    fn line_ending_backslash() {
        let t = "q = \"\"\"\na and \\\n    b\"\"\"";
        let d = dec(t);
        assert_eq!(d.value, "a and b");
        let s = d.map.span(Span::new(6, 7));
        assert_eq!(&t[s.start..s.end], "b");
    }

    #[test]
    fn encode_round_trips() {
        for kind in [StrKind::Basic, StrKind::MultiBasic] {
            let e = encode(kind, "x:\"a\\b\"").unwrap();
            let lit = format!("{}{}{}", kind.delimiter(), e, kind.delimiter());
            let t = format!("q = {lit}");
            assert_eq!(dec(&t).value, "x:\"a\\b\"");
        }
        assert_eq!(encode(StrKind::Literal, "it's"), None);
        assert_eq!(encode(StrKind::MultiLiteral, "a'''b"), None);
        assert_eq!(
            encode(StrKind::MultiLiteral, "a:\"b\""),
            Some("a:\"b\"".into())
        );
    }
}
