//! Lexical layer shared by the SPL command parsers: comment blanking, the
//! pipeline splitter (pipes, subsearch brackets, quotes and macros, with
//! exact error positions) and a generic argument tokenizer.

use crate::source::Span;

/// Deepest subsearch / parenthesis nesting accepted before giving up.
pub(crate) const MAX_DEPTH: usize = 200;

/// A syntax error at a byte offset (RL008).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
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

/// Replace every ```` ```comment``` ```` with spaces (byte for byte, so
/// offsets do not move). Quoted strings and single-backtick macros are
/// skipped. An unclosed comment is reported and blanked to the end.
pub(crate) fn blank_comments(text: &str) -> (String, Option<SyntaxError>) {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let mut err = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => i = skip_string(b, i).unwrap_or(b.len()),
            b'\\' => i += 2,
            b'`' if b[i..].starts_with(b"```") => {
                let body = i + 3;
                match find(b, body, b"```") {
                    Some(close) => {
                        out[i..close + 3].fill(b' ');
                        i = close + 3;
                    }
                    None => {
                        err = Some(SyntaxError::new(
                            Span::new(i, i + 3),
                            "unclosed comment: ``` has no closing ```",
                        ));
                        out[i..].fill(b' ');
                        i = b.len();
                    }
                }
            }
            b'`' => match b[i + 1..].iter().position(|&c| c == b'`') {
                Some(p) => i = i + 1 + p + 1,
                None => i = b.len(),
            },
            _ => i += 1,
        }
    }
    // Only ASCII bytes and whole characters were replaced: still UTF-8.
    let s = String::from_utf8(out).unwrap_or_else(|_| text.to_string());
    (s, err)
}

fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    if from > b.len() {
        return None;
    }
    b[from..]
        .windows(pat.len())
        .position(|w| w == pat)
        .map(|p| p + from)
}

/// `b[i]` is `"`: the offset just after the closing quote, or `None`.
pub(crate) fn skip_string(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

/// `b[i]` is a backtick: the offset just after the closing backtick.
pub(crate) fn skip_macro(b: &[u8], i: usize) -> Option<usize> {
    b.get(i + 1..)?
        .iter()
        .position(|&c| c == b'`')
        .map(|p| i + 1 + p + 1)
}

/// `b[i]` is `[` or `(`: the offset just after its balanced closer
/// (quotes, macros and the other bracket kind are skipped over).
pub(crate) fn skip_group(b: &[u8], i: usize) -> Option<usize> {
    let mut stack: Vec<u8> = Vec::new();
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = skip_string(b, j)?;
                continue;
            }
            b'`' => {
                j = skip_macro(b, j)?;
                continue;
            }
            b'\\' => {
                j += 2;
                continue;
            }
            b'(' => stack.push(b')'),
            b'[' => stack.push(b']'),
            c @ (b')' | b']') => {
                if stack.pop() != Some(c) {
                    return None;
                }
                if stack.is_empty() {
                    return Some(j + 1);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// One command of a pipeline: the bytes between two pipes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cmd {
    /// Offset of the `|` that starts the command (none for the first).
    pub pipe: Option<usize>,
    /// The command text, after the pipe, up to the next pipe.
    pub start: usize,
    pub end: usize,
    /// Subsearches `[ … ]` directly inside this command.
    pub subs: Vec<Sub>,
}

/// A subsearch `[ … ]`: `open` is the `[`, `close` the `]`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sub {
    pub open: usize,
    pub close: usize,
    pub cmds: Vec<Cmd>,
}

/// Split `text` into pipeline commands, checking that quotes, macros,
/// brackets and parentheses are balanced.
pub(crate) fn split(text: &str) -> Result<Vec<Cmd>, SyntaxError> {
    let b = text.as_bytes();
    let (cmds, end) = split_at(b, 0, 0)?;
    if end < b.len() {
        return Err(SyntaxError::new(
            Span::new(end, end + 1),
            "unmatched `]`: no subsearch is open",
        ));
    }
    Ok(cmds)
}

/// The commands of the subsearch whose `[` is at `open`.
pub(crate) fn split_sub(text: &str, open: usize) -> Result<Vec<Cmd>, SyntaxError> {
    let (cmds, _) = split_at(text.as_bytes(), open + 1, 1)?;
    Ok(cmds)
}

/// Split from `i` until the end of text or (in a subsearch) the closing
/// `]`; returns the commands and the offset of that `]` (or text end).
fn split_at(b: &[u8], mut i: usize, depth: usize) -> Result<(Vec<Cmd>, usize), SyntaxError> {
    let mut cmds = Vec::new();
    let mut cur = Cmd {
        pipe: None,
        start: i,
        end: i,
        subs: Vec::new(),
    };
    let mut parens: Vec<usize> = Vec::new();
    while i < b.len() {
        match b[i] {
            b'"' => match skip_string(b, i) {
                Some(j) => i = j,
                None => {
                    return Err(SyntaxError::new(
                        Span::new(i, i + 1),
                        "unclosed double quote",
                    ))
                }
            },
            b'\\' => i = (i + 2).min(b.len()),
            b'`' => match skip_macro(b, i) {
                Some(j) => i = j,
                None => {
                    return Err(SyntaxError::new(
                        Span::new(i, i + 1),
                        "unclosed macro: ` has no closing backtick",
                    ))
                }
            },
            b'(' => {
                if parens.len() >= MAX_DEPTH {
                    return Err(SyntaxError::new(
                        Span::new(i, i + 1),
                        "parentheses nested too deeply",
                    ));
                }
                parens.push(i);
                i += 1;
            }
            b')' => {
                if parens.pop().is_none() {
                    return Err(SyntaxError::new(Span::new(i, i + 1), "unmatched `)`"));
                }
                i += 1;
            }
            b'[' => {
                if depth >= MAX_DEPTH {
                    return Err(SyntaxError::new(
                        Span::new(i, i + 1),
                        "subsearches nested too deeply",
                    ));
                }
                let (sub_cmds, close) = split_at(b, i + 1, depth + 1)?;
                if close >= b.len() {
                    return Err(SyntaxError::new(
                        Span::new(i, i + 1),
                        "unclosed subsearch: `[` has no matching `]`",
                    ));
                }
                cur.subs.push(Sub {
                    open: i,
                    close,
                    cmds: sub_cmds,
                });
                i = close + 1;
            }
            b']' => {
                if let Some(&p) = parens.last() {
                    return Err(SyntaxError::new(
                        Span::new(p, p + 1),
                        "unclosed `(` before the end of the subsearch",
                    ));
                }
                if depth == 0 {
                    return Err(SyntaxError::new(
                        Span::new(i, i + 1),
                        "unmatched `]`: no subsearch is open",
                    ));
                }
                cur.end = i;
                cmds.push(cur);
                return Ok((cmds, i));
            }
            b'|' if parens.is_empty() => {
                cur.end = i;
                cmds.push(cur);
                cur = Cmd {
                    pipe: Some(i),
                    start: i + 1,
                    end: i + 1,
                    subs: Vec::new(),
                };
                i += 1;
            }
            _ => i += 1,
        }
    }
    if let Some(&p) = parens.first() {
        return Err(SyntaxError::new(Span::new(p, p + 1), "unclosed `(`"));
    }
    cur.end = b.len();
    cmds.push(cur);
    Ok((cmds, b.len()))
}

/// Decode SPL escapes in a value: `\\` → `\`, `\"` → `"`; any other
/// backslash is kept as written (regexes and Windows paths rely on it).
pub(crate) fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('\\') | Some('"') => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub(crate) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// A generic whitespace-separated argument of a command (`span=1h`,
/// `min(_time)`, `"quoted"`, `` `macro` ``, `[subsearch]`, `,`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Arg {
    pub span: Span,
    pub kind: ArgKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgKind {
    Word,
    Quoted,
    Macro,
    Sub,
    Comma,
}

impl Arg {
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        src.get(self.span.start..self.span.end).unwrap_or("")
    }

    /// The argument without surrounding quotes, unescaped.
    pub fn value(&self, src: &str) -> String {
        let t = self.text(src);
        if self.kind == ArgKind::Quoted && t.len() >= 2 {
            unescape(&t[1..t.len() - 1])
        } else {
            unescape(t)
        }
    }

    pub fn is_word(&self, src: &str, w: &str) -> bool {
        self.kind == ArgKind::Word && self.text(src).eq_ignore_ascii_case(w)
    }
}

/// Tokenize `src[start..end]` into arguments. Parenthesised groups and
/// quoted strings glued to a word stay in that word (`values(x)`,
/// `field="a b"`); commas are their own arguments.
pub(crate) fn args(src: &str, start: usize, end: usize) -> Vec<Arg> {
    let b = src.as_bytes();
    let end = end.min(b.len());
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        let c = b[i];
        if is_ws(c) {
            i += 1;
            continue;
        }
        if c == b',' {
            out.push(Arg {
                span: Span::new(i, i + 1),
                kind: ArgKind::Comma,
            });
            i += 1;
            continue;
        }
        if c == b'[' {
            let j = skip_group(b, i).unwrap_or(end).min(end);
            out.push(Arg {
                span: Span::new(i, j),
                kind: ArgKind::Sub,
            });
            i = j;
            continue;
        }
        if c == b'`' {
            let j = skip_macro(b, i).unwrap_or(end).min(end);
            out.push(Arg {
                span: Span::new(i, j),
                kind: ArgKind::Macro,
            });
            i = j;
            continue;
        }
        let s = i;
        let mut only_quoted = c == b'"';
        while i < end {
            let c = b[i];
            if is_ws(c) || c == b',' || c == b'[' {
                break;
            }
            match c {
                b'"' => {
                    i = skip_string(b, i).unwrap_or(end).min(end);
                    if s != i && i < end && !is_ws(b[i]) && b[i] != b',' {
                        only_quoted = false;
                    }
                    continue;
                }
                b'(' => {
                    only_quoted = false;
                    i = skip_group(b, i).unwrap_or(end).min(end);
                    continue;
                }
                b'`' => {
                    only_quoted = false;
                    i = skip_macro(b, i).unwrap_or(end).min(end);
                    continue;
                }
                b'\\' => {
                    only_quoted = false;
                    i = (i + 2).min(end);
                    continue;
                }
                _ => {
                    only_quoted = false;
                    i += 1;
                }
            }
        }
        if i == s {
            i += 1;
            continue;
        }
        out.push(Arg {
            span: Span::new(s, i),
            kind: if only_quoted {
                ArgKind::Quoted
            } else {
                ArgKind::Word
            },
        });
    }
    out
}

/// Split a `key=value` argument; the value unquoted and unescaped.
pub(crate) fn key_value(text: &str) -> Option<(&str, String)> {
    let eq = text.find('=')?;
    let key = &text[..eq];
    if key.is_empty()
        || !key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
    {
        return None;
    }
    let v = &text[eq + 1..];
    let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
        unescape(&v[1..v.len() - 1])
    } else {
        unescape(v)
    };
    Some((key, v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_become_spaces() {
        let (s, e) = blank_comments("a ```x | y``` | b");
        assert_eq!(s, "a             | b");
        assert!(e.is_none());
        let (s, _) = blank_comments("a=\"```\" b");
        assert_eq!(s, "a=\"```\" b");
        let (_, e) = blank_comments("a ```x");
        assert_eq!(e.map(|e| e.span), Some(Span::new(2, 5)));
    }

    #[test]
    fn splits_pipes_outside_quotes_and_brackets() {
        let t = "a=\"x|y\" | join k [search b | head 1] | `m(x|y)` | c";
        let cmds = split(t).unwrap();
        assert_eq!(cmds.len(), 4);
        assert_eq!(cmds[1].subs.len(), 1);
        assert_eq!(cmds[1].subs[0].cmds.len(), 2);
        assert_eq!(cmds[3].pipe, Some(t.rfind('|').unwrap()));
    }

    #[test]
    fn reports_unbalanced_at_the_byte() {
        assert_eq!(split("a=(b").unwrap_err().span, Span::new(2, 3));
        assert_eq!(split("a=b)").unwrap_err().span, Span::new(3, 4));
        assert_eq!(split("a=\"b").unwrap_err().span, Span::new(2, 3));
        assert_eq!(split("x [search a").unwrap_err().span, Span::new(2, 3));
        assert_eq!(split("x ] y").unwrap_err().span, Span::new(2, 3));
        assert_eq!(split("x `m y").unwrap_err().span, Span::new(2, 3));
        assert_eq!(split("x [search (a]").unwrap_err().span, Span::new(10, 11));
    }

    #[test]
    fn args_keep_groups_together() {
        let t = "count min(_time) as firstTime, values(a) by x span=1h \"q r\" `m`";
        let a = args(t, 0, t.len());
        let texts: Vec<_> = a.iter().map(|a| a.text(t)).collect();
        assert_eq!(
            texts,
            [
                "count",
                "min(_time)",
                "as",
                "firstTime",
                ",",
                "values(a)",
                "by",
                "x",
                "span=1h",
                "\"q r\"",
                "`m`"
            ]
        );
        assert_eq!(a[9].kind, ArgKind::Quoted);
        assert_eq!(a[9].value(t), "q r");
    }
}
