//! The EQL lexer: turns query text into tokens with byte spans.
//!
//! Comments (`// …` to the end of the line, `/* … */`) and whitespace are
//! skipped. Strings are decoded here (`\n`, `\r`, `\t`, `\\`, `\"`,
//! `\u{…}`; `"""…"""` raw strings are taken verbatim), so the parser sees
//! the value as the rule means it plus the span of the characters between
//! the quotes.

use crate::rule::ParseIssue;
use crate::source::Span;

use super::RL008;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare identifier or keyword; dots are part of it (`process.name`).
    Ident,
    /// `?field`: an optional field. `inner` is the name without `?`.
    Optional,
    /// `` `field name` ``: `inner` is the name between the backquotes.
    Backquoted,
    /// `"…"` or `"""…"""`: `inner` is the content between the quotes.
    Str,
    /// `42`, `1.5`, or a time value such as `30s` (the unit is included).
    Number,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Pipe,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Colon,
    /// A single `=` (only valid in `maxspan=` / `runs=`).
    Assign,
    /// `!` (only valid before a missing-event step `![ … ]`).
    Bang,
    /// `~` after a keyword or function name: case-insensitive.
    Tilde,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub kind: Tok,
    /// The whole token as written (quotes, backquotes and `?` included).
    pub span: Span,
    /// The name or content (without quotes, backquotes, `?`).
    pub inner: Span,
    /// Identifier text, or the decoded string/field name.
    pub text: String,
}

impl Token {
    fn simple(kind: Tok, start: usize, end: usize, src: &str) -> Token {
        Token {
            kind,
            span: Span::new(start, end),
            inner: Span::new(start, end),
            text: src.get(start..end).unwrap_or("").to_string(),
        }
    }

    /// Whether this is the (lower-case) keyword `kw`.
    pub fn is_kw(&self, kw: &str) -> bool {
        self.kind == Tok::Ident && self.text == kw
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'@'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'@' || b == b'.'
}

/// The length in bytes of the character starting at `pos` (1 when `pos` is
/// not on a character boundary, so spans never split a character badly).
fn char_len(src: &str, pos: usize) -> usize {
    src.get(pos..)
        .and_then(|s| s.chars().next())
        .map(char::len_utf8)
        .unwrap_or(1)
}

/// Split `src` into tokens, ending with one [`Tok::Eof`] token.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ParseIssue> {
    let bytes = src.as_bytes();
    let mut toks = Vec::new();
    let mut i = 0usize;
    let n = bytes.len();
    while i < n {
        let b = bytes[i];
        // whitespace
        if b.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // comments
        if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < n && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            match find(bytes, i + 2, b"*/") {
                Some(end) => {
                    i = end + 2;
                    continue;
                }
                None => {
                    return Err(ParseIssue::error(
                        RL008,
                        Span::new(i, i + 2),
                        "unterminated comment: `/*` is never closed by `*/`",
                    ))
                }
            }
        }
        let start = i;
        if is_ident_start(b) || b == b'`' {
            let tok = lex_name(src, i)?;
            i = tok.span.end;
            toks.push(tok);
            continue;
        }
        if b.is_ascii_digit() {
            i = lex_number(bytes, i);
            toks.push(Token::simple(Tok::Number, start, i, src));
            continue;
        }
        if b == b'"' {
            let tok = lex_string(src, i)?;
            i = tok.span.end;
            toks.push(tok);
            continue;
        }
        if b == b'?' {
            let name_start = i + 1;
            if name_start < n && (is_ident_start(bytes[name_start]) || bytes[name_start] == b'`') {
                let mut tok = lex_name(src, name_start)?;
                tok.kind = Tok::Optional;
                tok.span.start = start;
                i = tok.span.end;
                toks.push(tok);
                continue;
            }
            return Err(ParseIssue::error(
                RL008,
                Span::new(start, start + 1),
                "`?` must be followed by a field name (optional field `?field`)",
            ));
        }
        let two = bytes.get(i + 1).copied();
        let (kind, len) = match (b, two) {
            (b'=', Some(b'=')) => (Tok::EqEq, 2),
            (b'!', Some(b'=')) => (Tok::NotEq, 2),
            (b'<', Some(b'=')) => (Tok::Le, 2),
            (b'>', Some(b'=')) => (Tok::Ge, 2),
            (b'<', _) => (Tok::Lt, 1),
            (b'>', _) => (Tok::Gt, 1),
            (b'=', _) => (Tok::Assign, 1),
            (b'!', _) => (Tok::Bang, 1),
            (b':', _) => (Tok::Colon, 1),
            (b'~', _) => (Tok::Tilde, 1),
            (b'(', _) => (Tok::LParen, 1),
            (b')', _) => (Tok::RParen, 1),
            (b'[', _) => (Tok::LBracket, 1),
            (b']', _) => (Tok::RBracket, 1),
            (b',', _) => (Tok::Comma, 1),
            (b'|', _) => (Tok::Pipe, 1),
            (b'+', _) => (Tok::Plus, 1),
            (b'-', _) => (Tok::Minus, 1),
            (b'*', _) => (Tok::Star, 1),
            (b'/', _) => (Tok::Slash, 1),
            (b'%', _) => (Tok::Percent, 1),
            (b'\'', _) => {
                return Err(ParseIssue::error(
                    RL008,
                    Span::new(i, i + 1),
                    "single-quoted strings are not supported in EQL",
                )
                .with_help("enclose strings in double quotes (`\"…\"`)"))
            }
            _ => {
                let len = char_len(src, i);
                let what = src.get(i..i + len).unwrap_or("?");
                return Err(ParseIssue::error(
                    RL008,
                    Span::new(i, i + len),
                    format!("unexpected character `{what}`"),
                ));
            }
        };
        toks.push(Token::simple(kind, i, i + len, src));
        i += len;
    }
    toks.push(Token::simple(Tok::Eof, n, n, src));
    Ok(toks)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// Digits, an optional fraction and exponent, and any letters right after
/// (time units: `30s`, `5m`, `500ms`).
fn lex_number(bytes: &[u8], mut i: usize) -> usize {
    let n = bytes.len();
    while i < n && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i + 1 < n && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        i += 1;
        while i < n && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < n && (bytes[i] == b'e' || bytes[i] == b'E') {
        let mut j = i + 1;
        if j < n && (bytes[j] == b'+' || bytes[j] == b'-') {
            j += 1;
        }
        if j < n && bytes[j].is_ascii_digit() {
            i = j;
            while i < n && bytes[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    while i < n && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// A `"…"` string (with escapes) or a `"""…"""` raw string at `start`.
fn lex_string(src: &str, start: usize) -> Result<Token, ParseIssue> {
    let bytes = src.as_bytes();
    if bytes.get(start + 1) == Some(&b'"') && bytes.get(start + 2) == Some(&b'"') {
        let content = start + 3;
        return match find(bytes, content, b"\"\"\"") {
            Some(close) => Ok(Token {
                kind: Tok::Str,
                span: Span::new(start, close + 3),
                inner: Span::new(content, close),
                text: src.get(content..close).unwrap_or("").to_string(),
            }),
            None => Err(ParseIssue::error(
                RL008,
                Span::new(start, start + 3),
                "unterminated raw string: `\"\"\"` is never closed",
            )),
        };
    }
    let content = start + 1;
    let mut text = String::new();
    let rest = src.get(content..).unwrap_or("");
    let mut chars = rest.char_indices().peekable();
    while let Some((off, c)) = chars.next() {
        match c {
            '"' => {
                let close = content + off;
                return Ok(Token {
                    kind: Tok::Str,
                    span: Span::new(start, close + 1),
                    inner: Span::new(content, close),
                    text,
                });
            }
            '\\' => match chars.next() {
                Some((_, 'n')) => text.push('\n'),
                Some((_, 'r')) => text.push('\r'),
                Some((_, 't')) => text.push('\t'),
                Some((_, '\\')) => text.push('\\'),
                Some((_, '"')) => text.push('"'),
                Some((_, 'u')) if chars.peek().map(|p| p.1) == Some('{') => {
                    // \u{XXXX}
                    let mut hex = String::new();
                    chars.next();
                    let mut closed = false;
                    for (_, h) in chars.by_ref() {
                        if h == '}' {
                            closed = true;
                            break;
                        }
                        if h == '"' || hex.len() > 8 {
                            break;
                        }
                        hex.push(h);
                    }
                    let decoded = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                    match (closed, decoded) {
                        (true, Some(ch)) => text.push(ch),
                        _ => {
                            let at = content + off;
                            return Err(ParseIssue::error(
                                RL008,
                                Span::new(at, at + 2),
                                "invalid unicode escape: expected `\\u{XXXX}` with 2 to 8 hex digits",
                            ));
                        }
                    }
                }
                // Unknown escapes are kept as written (`\d` stays `\d`).
                Some((_, other)) => {
                    text.push('\\');
                    text.push(other);
                }
                None => break,
            },
            other => text.push(other),
        }
    }
    Err(ParseIssue::error(
        RL008,
        Span::new(start, start + 1),
        "unterminated string: this `\"` is never closed",
    ))
}

/// A name at `start`: identifier characters and dots, where a
/// dot-separated segment may be backquoted (`` a.`0`.b ``). Names with a
/// backquoted segment are [`Tok::Backquoted`] (never keywords); their text
/// is the unescaped name.
fn lex_name(src: &str, start: usize) -> Result<Token, ParseIssue> {
    let bytes = src.as_bytes();
    let n = bytes.len();
    let mut i = start;
    let mut text = String::new();
    let mut quoted = false;
    let mut first_inner = None;
    loop {
        let last_quoted = if bytes.get(i) == Some(&b'`') {
            let seg = lex_backquoted(src, i)?;
            text.push_str(&seg.text);
            if i == start {
                first_inner = Some(seg.inner);
            }
            quoted = true;
            i = seg.span.end;
            true
        } else {
            let seg = i;
            while i < n && is_ident_continue(bytes[i]) {
                i += 1;
            }
            text.push_str(src.get(seg..i).unwrap_or(""));
            false
        };
        let next = bytes.get(i).copied();
        if (last_quoted && next == Some(b'.'))
            || (!last_quoted && next == Some(b'`') && text.ends_with('.'))
        {
            continue;
        }
        break;
    }
    let span = Span::new(start, i);
    if !quoted {
        return Ok(Token::simple(Tok::Ident, start, i, src));
    }
    let inner = match first_inner {
        Some(inner) if inner.end + 1 == i => inner,
        _ => span,
    };
    Ok(Token {
        kind: Tok::Backquoted,
        span,
        inner,
        text,
    })
}

/// A `` `field name` `` at `start`; ` `` ` inside stands for one backquote.
fn lex_backquoted(src: &str, start: usize) -> Result<Token, ParseIssue> {
    let bytes = src.as_bytes();
    let content = start + 1;
    let mut i = content;
    let mut text = String::new();
    let mut seg = content;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            if bytes.get(i + 1) == Some(&b'`') {
                text.push_str(src.get(seg..i).unwrap_or(""));
                text.push('`');
                i += 2;
                seg = i;
                continue;
            }
            text.push_str(src.get(seg..i).unwrap_or(""));
            return Ok(Token {
                kind: Tok::Backquoted,
                span: Span::new(start, i + 1),
                inner: Span::new(content, i),
                text,
            });
        }
        i += 1;
    }
    Err(ParseIssue::error(
        RL008,
        Span::new(start, start + 1),
        "unterminated field name: this backquote is never closed",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn operators_and_comments() {
        assert_eq!(
            kinds("a == 1 /* c */ != <= >= < > : = ! ~ // tail\n ( ) [ ] , | + - * / %"),
            vec![
                Tok::Ident,
                Tok::EqEq,
                Tok::Number,
                Tok::NotEq,
                Tok::Le,
                Tok::Ge,
                Tok::Lt,
                Tok::Gt,
                Tok::Colon,
                Tok::Assign,
                Tok::Bang,
                Tok::Tilde,
                Tok::LParen,
                Tok::RParen,
                Tok::LBracket,
                Tok::RBracket,
                Tok::Comma,
                Tok::Pipe,
                Tok::Plus,
                Tok::Minus,
                Tok::Star,
                Tok::Slash,
                Tok::Percent,
                Tok::Eof
            ]
        );
    }

    #[test]
    fn strings_decode_and_keep_inner_span() {
        let src = r#"x "a\\b\"c" """r\aw""" "\u{41}""#;
        let t = lex(src).unwrap();
        assert_eq!(t[1].text, "a\\b\"c");
        assert_eq!(&src[t[1].inner.start..t[1].inner.end], r#"a\\b\"c"#);
        assert_eq!(t[2].text, "r\\aw");
        assert_eq!(&src[t[2].inner.start..t[2].inner.end], r"r\aw");
        assert_eq!(t[3].text, "A");
    }

    #[test]
    fn fields_optional_and_backquoted() {
        let src = "?process.name `my``field` 30s @timestamp";
        let t = lex(src).unwrap();
        assert_eq!(
            (t[0].kind, t[0].text.as_str()),
            (Tok::Optional, "process.name")
        );
        assert_eq!(t[0].inner, Span::new(1, 13));
        assert_eq!(
            (t[1].kind, t[1].text.as_str()),
            (Tok::Backquoted, "my`field")
        );
        assert_eq!((t[2].kind, t[2].text.as_str()), (Tok::Number, "30s"));
        assert_eq!((t[3].kind, t[3].text.as_str()), (Tok::Ident, "@timestamp"));
        let src = "a.b.`0`.c `x-y`.z ?`p q` ?r.`1`";
        let t = lex(src).unwrap();
        assert_eq!(
            (t[0].kind, t[0].text.as_str()),
            (Tok::Backquoted, "a.b.0.c")
        );
        assert_eq!(t[0].inner, Span::new(0, 9));
        assert_eq!((t[1].kind, t[1].text.as_str()), (Tok::Backquoted, "x-y.z"));
        assert_eq!((t[2].kind, t[2].text.as_str()), (Tok::Optional, "p q"));
        assert_eq!(t[2].inner, Span::new(20, 23));
        assert_eq!((t[3].kind, t[3].text.as_str()), (Tok::Optional, "r.1"));
        assert_eq!(t[3].inner, Span::new(26, 31));
    }

    #[test]
    fn errors_point_at_the_opening() {
        assert_eq!(lex(r#"a == "abc"#).unwrap_err().span, Span::new(5, 6));
        assert_eq!(lex(r#"a == """abc"#).unwrap_err().span, Span::new(5, 8));
        assert_eq!(lex("a /* x").unwrap_err().span, Span::new(2, 4));
        assert_eq!(lex("a == 'x'").unwrap_err().span, Span::new(5, 6));
        assert_eq!(lex("a == é").unwrap_err().span, Span::new(5, 7));
        assert_eq!(lex("`abc").unwrap_err().span, Span::new(0, 1));
    }
}
