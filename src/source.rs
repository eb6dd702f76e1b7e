//! Source files, byte spans and the byte-offset → line/column index.

use serde::Serialize;
use std::path::{Path, PathBuf};

/// A half-open byte range `[start, end)` into the text of one rule file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// An empty span at `offset`.
    pub const fn point(offset: usize) -> Self {
        Span {
            start: offset,
            end: offset,
        }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// This span moved right by `offset` bytes.
    pub fn shift(self, offset: usize) -> Span {
        Span {
            start: self.start + offset,
            end: self.end + offset,
        }
    }
}

/// Line and column of a byte offset: both 1-based, the column counted in
/// characters (Unicode scalar values), as editors and SARIF expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// Maps byte offsets to lines and columns. A line ends at `\n`, at `\r\n`
/// or at a `\r` alone (old Mac line endings), as YAML counts lines.
#[derive(Debug, Clone)]
pub struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        let bytes = text.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// Line/column of `offset` in `text` (the text this index was built from).
    /// Offsets past the end or inside a UTF-8 sequence are clamped.
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = offset.min(text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let mut end = offset;
        while end > start && !text.is_char_boundary(end) {
            end -= 1;
        }
        let column = text[start..end].chars().count() + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// Byte offset of the start of 1-based `line`, if it exists.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        line.checked_sub(1)
            .and_then(|l| self.line_starts.get(l).copied())
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

/// One rule file read into memory.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as given or discovered (used in output).
    pub path: PathBuf,
    pub text: String,
    pub index: LineIndex,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let text = text.into();
        let index = LineIndex::new(&text);
        SourceFile {
            path: path.into(),
            text,
            index,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn line_col(&self, offset: usize) -> LineCol {
        self.index.line_col(&self.text, offset)
    }

    /// The text under `span`, or "" when the span is out of range.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let text = "ab\ncdé f\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), LineCol { line: 1, column: 1 });
        assert_eq!(idx.line_col(text, 3), LineCol { line: 2, column: 1 });
        // 'f' is after a two-byte 'é' and a space
        let f = text.find('f').unwrap();
        assert_eq!(idx.line_col(text, f), LineCol { line: 2, column: 5 });
        assert_eq!(idx.line_col(text, 999).line, 3);
    }

    #[test]
    fn every_line_ending_starts_a_line() {
        let text = "a: 1\rb: 2\r\nc: 3\nd: é\re";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_count(), 5);
        let at = |s: &str| idx.line_col(text, text.find(s).unwrap());
        assert_eq!(at("b"), LineCol { line: 2, column: 1 });
        assert_eq!(at("c"), LineCol { line: 3, column: 1 });
        assert_eq!(at("d"), LineCol { line: 4, column: 1 });
        assert_eq!(at("e"), LineCol { line: 5, column: 1 });
        // The `\r` of a `\r\n` belongs to its line.
        assert_eq!(idx.line_col(text, 9), LineCol { line: 2, column: 5 });
        assert_eq!(idx.line_start(3), Some(11));
    }

    #[test]
    fn span_join_and_shift() {
        let a = Span::new(3, 5).join(Span::new(1, 4));
        assert_eq!(a, Span::new(1, 5));
        assert_eq!(a.shift(10), Span::new(11, 15));
        assert_eq!(a.len(), 4);
    }
}

/// Maps byte offsets in a decoded string (a query after YAML/TOML unquoting,
/// unescaping and line folding) back to byte offsets in the file.
///
/// Each decoded byte remembers the file range it came from, so a span in the
/// decoded text maps to the exact characters in the file even across `\"`,
/// `''` or folded line breaks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OffsetMap {
    /// Runs of decoded bytes, in order; see [`Run`].
    runs: Vec<Run>,
    /// Decoded length so far.
    len: usize,
    /// File offset of the end of the literal (for spans at the very end).
    tail: usize,
}

/// `len` decoded bytes starting at decoded offset `at`. Verbatim runs map
/// byte `at + i` to file byte `start + i`; other runs (an escape, a folded
/// line break) map every byte to the whole file range `start..end`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Run {
    at: usize,
    len: usize,
    start: usize,
    end: usize,
    verbatim: bool,
}

impl OffsetMap {
    /// The identity map for a string copied verbatim from `base` onward.
    pub fn identity(base: usize, len: usize) -> Self {
        let mut m = OffsetMap::new();
        m.push_verbatim(base, len);
        m.tail = base + len;
        m
    }

    pub fn new() -> Self {
        OffsetMap::default()
    }

    /// Record that the next `decoded_len` decoded bytes came from the file
    /// range `start..end` (e.g. the 2 bytes `\"` decode to 1 byte `"`).
    pub fn push(&mut self, decoded_len: usize, start: usize, end: usize) {
        if decoded_len > 0 {
            self.runs.push(Run {
                at: self.len,
                len: decoded_len,
                start,
                end,
                verbatim: false,
            });
            self.len += decoded_len;
        }
        self.tail = end;
    }

    /// Record `len` bytes copied verbatim from `start`.
    pub fn push_verbatim(&mut self, start: usize, len: usize) {
        if len > 0 {
            match self.runs.last_mut() {
                Some(r) if r.verbatim && r.start + r.len == start && r.at + r.len == self.len => {
                    r.len += len;
                    r.end = start + len;
                }
                _ => self.runs.push(Run {
                    at: self.len,
                    len,
                    start,
                    end: start + len,
                    verbatim: true,
                }),
            }
            self.len += len;
        }
        self.tail = start + len;
    }

    /// Set the file offset that an offset at the end of the decoded text
    /// maps to.
    pub fn set_tail(&mut self, tail: usize) {
        self.tail = tail;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file range of decoded byte `pos`, if it exists.
    fn byte(&self, pos: usize) -> Option<(usize, usize)> {
        if pos >= self.len {
            return None;
        }
        let i = self.runs.partition_point(|r| r.at + r.len <= pos);
        let r = self.runs.get(i)?;
        Some(if r.verbatim {
            let o = r.start + (pos - r.at);
            (o, o + 1)
        } else {
            (r.start, r.end)
        })
    }

    /// The file offset of decoded offset `pos`.
    pub fn offset(&self, pos: usize) -> usize {
        self.byte(pos).map(|b| b.0).unwrap_or(self.tail)
    }

    /// The file span of a decoded span.
    pub fn span(&self, span: Span) -> Span {
        let start = self.offset(span.start);
        if span.end <= span.start {
            return Span::point(start);
        }
        let end = self
            .byte(span.end - 1)
            .map(|b| b.1)
            .unwrap_or(self.tail)
            .max(start);
        Span::new(start, end)
    }
}

#[cfg(test)]
mod offset_map_tests {
    use super::*;

    #[test]
    fn maps_through_escapes() {
        // file: `q = "a\"b"`, decoded: `a"b`
        let mut m = OffsetMap::new();
        m.push_verbatim(5, 1); // a
        m.push(1, 6, 8); // \"
        m.push_verbatim(8, 1); // b
        m.set_tail(9);
        assert_eq!(m.span(Span::new(0, 3)), Span::new(5, 9));
        assert_eq!(m.span(Span::new(1, 2)), Span::new(6, 8));
        assert_eq!(m.span(Span::new(2, 3)), Span::new(8, 9));
        assert_eq!(m.offset(3), 9);
    }

    #[test]
    fn identity_is_a_shift() {
        let m = OffsetMap::identity(100, 10);
        assert_eq!(m.span(Span::new(2, 5)), Span::new(102, 105));
    }
}

/// A replacement of the bytes under `span`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    #[serde(skip)]
    pub span: Span,
    pub offset: usize,
    pub length: usize,
    pub replacement: String,
}

impl Edit {
    pub fn new(span: Span, replacement: impl Into<String>) -> Self {
        Edit {
            span,
            offset: span.start,
            length: span.len(),
            replacement: replacement.into(),
        }
    }

    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit::new(Span::point(at), text)
    }
}

/// `p` with the platform's separators as `/`; every other character kept.
pub fn slashed(p: &Path) -> String {
    let s = p.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        s.into_owned()
    } else {
        s.replace(std::path::MAIN_SEPARATOR, "/")
    }
}
