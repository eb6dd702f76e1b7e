//! The ES|QL lexer: reads one token at a time from a byte position, so the
//! parser can switch to the raw scanning that index patterns need.

use crate::source::Span;

/// What a token is. Keywords are lexed as [`Tok::Ident`] and recognised by
/// the parser (they are case-insensitive and contextual).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// An unquoted identifier part (`process`, `@timestamp`, `_id`, `AND`).
    Ident,
    /// A backquoted identifier (`` `1.field` ``).
    QuotedIdent,
    Number,
    /// A `"…"` or `"""…"""` string.
    Str,
    /// `?`, `?name`, `?1`, `??name`.
    Param,
    Pipe,
    Comma,
    Dot,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    /// `=`
    Assign,
    /// `==`
    Eq,
    /// `!=`
    Neq,
    Lt,
    Lte,
    Gt,
    Gte,
    /// `=~` (case-insensitive equality)
    CaseEq,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// `::`
    Cast,
    /// `:` (the match operator)
    Colon,
    Eof,
}

/// One token. `text` is the identifier or string after unquoting and
/// unescaping; for other tokens it is the source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub span: Span,
    pub text: String,
    /// Strings and quoted identifiers: the characters between the quotes.
    pub content: Span,
    /// Strings: written with `"""`.
    pub triple: bool,
}

impl Token {
    /// An unquoted identifier equal to `kw`, ignoring case.
    pub fn is_kw(&self, kw: &str) -> bool {
        self.kind == Tok::Ident && self.text.eq_ignore_ascii_case(kw)
    }
}

/// A lexical or syntax error at an exact byte range.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

impl SyntaxError {
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        SyntaxError {
            span,
            message: message.into(),
        }
    }
}

pub type LexResult<T> = Result<T, SyntaxError>;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'@'
}

fn is_ident_body(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The length in bytes of the character starting at `pos` (1 when `pos` is
/// not on a character boundary or past the end).
pub fn char_len(text: &str, pos: usize) -> usize {
    text.get(pos..)
        .and_then(|s| s.chars().next())
        .map(char::len_utf8)
        .unwrap_or(1)
}

/// Skip whitespace and comments from `pos`; returns the next position.
/// Block comments nest. An unterminated block comment is an error at its
/// opening `/*`.
pub fn skip_trivia(text: &str, mut pos: usize) -> LexResult<usize> {
    let bytes = text.as_bytes();
    loop {
        match bytes.get(pos) {
            Some(b' ' | b'\t' | b'\n' | b'\r') => pos += 1,
            Some(b'/') if bytes.get(pos + 1) == Some(&b'/') => {
                while let Some(&b) = bytes.get(pos) {
                    if b == b'\n' {
                        break;
                    }
                    pos += 1;
                }
            }
            Some(b'/') if bytes.get(pos + 1) == Some(&b'*') => {
                let open = pos;
                let mut depth = 0usize;
                loop {
                    match (bytes.get(pos), bytes.get(pos + 1)) {
                        (Some(b'/'), Some(b'*')) => {
                            depth += 1;
                            pos += 2;
                        }
                        (Some(b'*'), Some(b'/')) => {
                            depth -= 1;
                            pos += 2;
                            if depth == 0 {
                                break;
                            }
                        }
                        (Some(_), _) => pos += 1,
                        (None, _) => {
                            return Err(SyntaxError::new(
                                Span::new(open, open + 2),
                                "unterminated block comment",
                            ))
                        }
                    }
                }
            }
            _ => return Ok(pos),
        }
    }
}

/// Lex the token starting at `pos` (after trivia has been skipped).
pub fn lex_at(text: &str, pos: usize) -> LexResult<Token> {
    let bytes = text.as_bytes();
    let Some(&b) = bytes.get(pos) else {
        return Ok(simple(Tok::Eof, text, pos, 0));
    };
    let next = bytes.get(pos + 1).copied();
    let tok = match b {
        b'"' => return lex_string(text, pos),
        b'`' => return lex_quoted_ident(text, pos),
        b'0'..=b'9' => return Ok(lex_number(text, pos)),
        b'.' if next.is_some_and(|n| n.is_ascii_digit()) && !after_name(bytes, pos) => {
            return Ok(lex_number(text, pos))
        }
        b'?' => return Ok(lex_param(text, pos)),
        _ if is_ident_start(b) => {
            let mut end = pos + 1;
            while bytes.get(end).is_some_and(|&c| is_ident_body(c)) {
                end += 1;
            }
            return Ok(simple(Tok::Ident, text, pos, end - pos));
        }
        b'|' => (Tok::Pipe, 1),
        b',' => (Tok::Comma, 1),
        b'.' => (Tok::Dot, 1),
        b'(' => (Tok::LParen, 1),
        b')' => (Tok::RParen, 1),
        b'[' => (Tok::LBracket, 1),
        b']' => (Tok::RBracket, 1),
        b'{' => (Tok::LBrace, 1),
        b'}' => (Tok::RBrace, 1),
        b'=' if next == Some(b'=') => (Tok::Eq, 2),
        b'=' if next == Some(b'~') => (Tok::CaseEq, 2),
        b'=' => (Tok::Assign, 1),
        b'!' if next == Some(b'=') => (Tok::Neq, 2),
        b'<' if next == Some(b'=') => (Tok::Lte, 2),
        b'<' => (Tok::Lt, 1),
        b'>' if next == Some(b'=') => (Tok::Gte, 2),
        b'>' => (Tok::Gt, 1),
        b'+' => (Tok::Plus, 1),
        b'-' => (Tok::Minus, 1),
        b'*' => (Tok::Star, 1),
        b'/' => (Tok::Slash, 1),
        b'%' => (Tok::Percent, 1),
        b':' if next == Some(b':') => (Tok::Cast, 2),
        b':' => (Tok::Colon, 1),
        _ => {
            let len = char_len(text, pos);
            let shown = text.get(pos..pos + len).unwrap_or("?");
            return Err(SyntaxError::new(
                Span::new(pos, pos + len),
                format!("unexpected character `{}`", shown.escape_debug()),
            ));
        }
    };
    Ok(simple(tok.0, text, pos, tok.1))
}

/// `.5` after an identifier (`a.5`) is a dot, not a number.
fn after_name(bytes: &[u8], pos: usize) -> bool {
    pos > 0
        && bytes
            .get(pos - 1)
            .is_some_and(|&c| is_ident_body(c) || c == b'`' || c == b'@')
}

fn simple(kind: Tok, text: &str, pos: usize, len: usize) -> Token {
    let span = Span::new(pos, pos + len);
    Token {
        kind,
        span,
        text: text.get(pos..pos + len).unwrap_or("").to_string(),
        content: span,
        triple: false,
    }
}

fn lex_number(text: &str, pos: usize) -> Token {
    let bytes = text.as_bytes();
    let mut end = pos;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1;
        while bytes.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
    } else if bytes.get(end) == Some(&b'.')
        && !bytes
            .get(end + 1)
            .is_some_and(|&c| is_ident_start(c) || c == b'`')
        && end > pos
    {
        // `1.` is a decimal number
        end += 1;
    }
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let mut e = end + 1;
        if matches!(bytes.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        if bytes.get(e).is_some_and(u8::is_ascii_digit) {
            while bytes.get(e).is_some_and(u8::is_ascii_digit) {
                e += 1;
            }
            end = e;
        }
    }
    simple(Tok::Number, text, pos, end - pos)
}

fn lex_param(text: &str, pos: usize) -> Token {
    let bytes = text.as_bytes();
    let mut end = pos + 1;
    if bytes.get(end) == Some(&b'?') {
        end += 1;
    }
    while bytes.get(end).is_some_and(|&c| is_ident_body(c)) {
        end += 1;
    }
    simple(Tok::Param, text, pos, end - pos)
}

fn lex_quoted_ident(text: &str, pos: usize) -> LexResult<Token> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    let mut i = pos + 1;
    let mut seg = i;
    loop {
        match bytes.get(i) {
            Some(b'`') if bytes.get(i + 1) == Some(&b'`') => {
                out.push_str(text.get(seg..i + 1).unwrap_or(""));
                i += 2;
                seg = i;
            }
            Some(b'`') => {
                out.push_str(text.get(seg..i).unwrap_or(""));
                if out.is_empty() {
                    return Err(SyntaxError::new(
                        Span::new(pos, i + 1),
                        "empty quoted identifier",
                    ));
                }
                return Ok(Token {
                    kind: Tok::QuotedIdent,
                    span: Span::new(pos, i + 1),
                    text: out,
                    content: Span::new(pos + 1, i),
                    triple: false,
                });
            }
            Some(b'\n' | b'\r') | None => {
                return Err(SyntaxError::new(
                    Span::new(pos, pos + 1),
                    "unterminated quoted identifier",
                ))
            }
            Some(_) => i += 1,
        }
    }
}

fn lex_string(text: &str, pos: usize) -> LexResult<Token> {
    let bytes = text.as_bytes();
    if bytes.get(pos + 1) == Some(&b'"') && bytes.get(pos + 2) == Some(&b'"') {
        let start = pos + 3;
        let Some(rel) = text.get(start..).and_then(|s| s.find("\"\"\"")) else {
            return Err(SyntaxError::new(
                Span::new(pos, pos + 3),
                "unterminated string (opened with `\"\"\"`)",
            ));
        };
        // Up to two more quotes right before the closing `"""` belong to
        // the string (`"""say "hi""""` is `say "hi"`).
        let mut end = start + rel;
        let mut extra = 0;
        while extra < 2 && bytes.get(end + 3) == Some(&b'"') {
            end += 1;
            extra += 1;
        }
        return Ok(Token {
            kind: Tok::Str,
            span: Span::new(pos, end + 3),
            text: text.get(start..end).unwrap_or("").to_string(),
            content: Span::new(start, end),
            triple: true,
        });
    }
    let mut out = String::new();
    let mut i = pos + 1;
    let mut seg = i;
    loop {
        match bytes.get(i) {
            Some(b'"') => {
                out.push_str(text.get(seg..i).unwrap_or(""));
                return Ok(Token {
                    kind: Tok::Str,
                    span: Span::new(pos, i + 1),
                    text: out,
                    content: Span::new(pos + 1, i),
                    triple: false,
                });
            }
            Some(b'\\') => {
                out.push_str(text.get(seg..i).unwrap_or(""));
                let c = match bytes.get(i + 1) {
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    None | Some(b'\n' | b'\r') => {
                        return Err(SyntaxError::new(
                            Span::new(pos, pos + 1),
                            "unterminated string",
                        ))
                    }
                    Some(_) => {
                        let len = 1 + char_len(text, i + 1);
                        return Err(SyntaxError::new(
                            Span::new(i, i + len),
                            format!(
                                "invalid escape sequence `{}` (use `\\\\` for a backslash, or a `\"\"\"` string)",
                                text.get(i..i + len).unwrap_or("\\")
                            ),
                        ));
                    }
                };
                out.push(c);
                i += 2;
                seg = i;
            }
            Some(b'\n' | b'\r') | None => {
                return Err(SyntaxError::new(
                    Span::new(pos, pos + 1),
                    "unterminated string",
                ))
            }
            Some(_) => i += 1,
        }
    }
}

/// For a string token's raw content, the offset in `text` of each decoded
/// byte, plus one final entry for the end: decoded `[a, b)` came from
/// `map[a]..map[b]`.
pub fn decoded_offsets(text: &str, tok: &Token) -> Vec<usize> {
    offsets(text, tok.content, tok.triple)
}

/// [`decoded_offsets`] from a string's content span.
pub fn offsets(text: &str, content: Span, triple: bool) -> Vec<usize> {
    let start = content.start;
    let end = content.end;
    if triple {
        return (start..=end).collect();
    }
    let bytes = text.as_bytes();
    let mut map = Vec::with_capacity(end.saturating_sub(start) + 1);
    let mut i = start;
    while i < end {
        if bytes.get(i) == Some(&b'\\') {
            map.push(i);
            i += 2;
        } else {
            map.push(i);
            i += 1;
        }
    }
    map.push(end);
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Tok, String)> {
        let mut pos = 0;
        let mut out = Vec::new();
        loop {
            pos = skip_trivia(text, pos).unwrap();
            let t = lex_at(text, pos).unwrap();
            if t.kind == Tok::Eof {
                return out;
            }
            pos = t.span.end;
            out.push((t.kind, t.text));
        }
    }

    #[test]
    fn lexes_operators_and_names() {
        let k = kinds("a.b==1 != 2.5e3 <= `x``y` ?p :: =~ // c\n /* d /* e */ */ @ts");
        let got: Vec<Tok> = k.iter().map(|x| x.0).collect();
        assert_eq!(
            got,
            vec![
                Tok::Ident,
                Tok::Dot,
                Tok::Ident,
                Tok::Eq,
                Tok::Number,
                Tok::Neq,
                Tok::Number,
                Tok::Lte,
                Tok::QuotedIdent,
                Tok::Param,
                Tok::Cast,
                Tok::CaseEq,
                Tok::Ident
            ]
        );
        assert_eq!(k[8].1, "x`y");
        assert_eq!(k[6].1, "2.5e3");
    }

    #[test]
    fn strings_unescape_and_map_back() {
        let text = r#"x "a\"b\\c" y"#;
        let t = lex_at(text, 2).unwrap();
        assert_eq!(t.text, r#"a"b\c"#);
        assert_eq!(t.content, Span::new(3, 10));
        let map = decoded_offsets(text, &t);
        assert_eq!(map, vec![3, 4, 6, 7, 9, 10]);
    }

    #[test]
    fn triple_quoted_strings_keep_extra_quotes() {
        let text = r#""""say "hi"""""#;
        let t = lex_at(text, 0).unwrap();
        assert_eq!(t.text, r#"say "hi""#);
        assert_eq!(t.span, Span::new(0, text.len()));
    }

    #[test]
    fn errors_point_at_the_culprit() {
        assert_eq!(lex_at("  \"abc", 2).unwrap_err().span.start, 2);
        assert_eq!(lex_at("\"a\\qb\"", 0).unwrap_err().span, Span::new(2, 4));
        assert_eq!(lex_at("#", 0).unwrap_err().span, Span::new(0, 1));
        assert_eq!(lex_at("é", 0).unwrap_err().span, Span::new(0, 2));
        assert_eq!(skip_trivia("  /* x", 0).unwrap_err().span.start, 2);
    }
}
