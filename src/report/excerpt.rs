//! The part of a rule file that one finding shows: the lines around each of
//! its spans, each line cut to a window around the span (with `…` where
//! text was left out) and made safe to print.
//!
//! An excerpt borrows the file and copies only the lines it shows, so the
//! cost of a snippet does not grow with the size of the file, and a span
//! far into a long line (a one-line Splunk search, a minified file) is
//! shown at a small column. Spans are mapped into the excerpt's own byte
//! offsets; the excerpt answers miette's questions about line numbers with
//! the file's real lines and columns.

use super::sanitize;
use crate::diagnostic::Position;
use crate::source::{SourceFile, Span};
use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Marker for text left out of a line.
const ELLIPSIS: &str = "…";
/// A span covering more lines than this is shown by its first line only.
pub const MAX_SPAN_LINES: usize = 12;
/// At most this many labels per finding are drawn.
pub const MAX_LABELS: usize = 16;

/// A span to show, with its label and where it starts in the file.
pub struct Mark {
    pub span: Span,
    pub position: Position,
    pub label: String,
    pub primary: bool,
}

/// One shown line.
struct Line {
    /// 1-based line number in the file.
    number: usize,
    /// File offsets of the line's text (without the line break).
    start: usize,
    end: usize,
    /// The shown window of the text.
    win_start: usize,
    win_end: usize,
    /// 0-based character column of `win_start` in the file.
    win_col: usize,
    /// Excerpt offsets: the start of the line, the start of the window's
    /// text (after a leading ellipsis), and the start of the trailing
    /// ellipsis (or the line break).
    v_start: usize,
    v_text: usize,
    v_trail: usize,
}

/// A run of consecutive shown lines.
struct Group {
    first: usize,
    last: usize,
}

pub struct Excerpt {
    name: String,
    text: String,
    lines: Vec<Line>,
    groups: Vec<Group>,
    /// Excerpt offset of each label's start, with its 0-based line and
    /// character column in the file.
    starts: Vec<(usize, usize, usize)>,
}

/// The 1-based line holding `offset`.
fn line_of(file: &SourceFile, offset: usize) -> usize {
    let (mut lo, mut hi) = (1, file.index.line_count());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        match file.index.line_start(mid) {
            Some(s) if s <= offset => lo = mid,
            _ => hi = mid - 1,
        }
    }
    lo
}

/// File offsets of the text of 1-based `line`, without `\n` or `\r\n`.
fn line_bounds(file: &SourceFile, line: usize) -> (usize, usize) {
    let text = file.text.as_bytes();
    let start = file.index.line_start(line).unwrap_or(text.len());
    let mut end = file
        .index
        .line_start(line + 1)
        .map(|n| n - 1)
        .unwrap_or(text.len());
    if end > start && text.get(end - 1) == Some(&b'\r') && text.get(end) == Some(&b'\n') {
        end -= 1;
    }
    (start, end.max(start))
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// `n` characters back from `at`, not before `stop`.
fn back(s: &str, at: usize, n: usize, stop: usize) -> usize {
    let mut i = at;
    for _ in 0..n {
        if i <= stop {
            return stop;
        }
        i = floor_boundary(s, i - 1);
    }
    i.max(stop)
}

/// `n` characters on from `at`, not past `stop`.
fn forward(s: &str, at: usize, n: usize, stop: usize) -> usize {
    match s[at..stop].char_indices().nth(n) {
        Some((i, _)) => at + i,
        None => stop,
    }
}

/// Length of `s` once made safe.
fn safe_len(s: &str) -> usize {
    s.chars()
        .map(|c| match sanitize::escaped_len(c) {
            0 => c.len_utf8(),
            n => n,
        })
        .sum()
}

impl Excerpt {
    /// The excerpt for `marks` (spans past the end of the text are left
    /// out); `budget` is the number of characters of a line to show. The
    /// labels come back in excerpt offsets. `None` when no mark fits.
    pub fn build(
        file: &SourceFile,
        name: &str,
        marks: &[Mark],
        budget: usize,
    ) -> Option<(Excerpt, Vec<LabeledSpan>)> {
        let text = file.text.as_str();
        let budget = budget.max(20);
        // Marks in the file, each with its first and last line.
        let mut kept: Vec<(&Mark, usize, usize, Span)> = Vec::new();
        for m in marks.iter().take(MAX_LABELS) {
            if m.span.start > text.len() || m.span.end > text.len() || m.span.end < m.span.start {
                continue;
            }
            let first = line_of(file, m.span.start);
            let last_offset = if m.span.end > m.span.start {
                m.span.end - 1
            } else {
                m.span.end
            };
            let mut last = line_of(file, last_offset).max(first);
            let mut span = m.span;
            if last >= first + MAX_SPAN_LINES {
                last = first;
                span.end = span.end.min(line_bounds(file, first).1).max(span.start);
            }
            kept.push((m, first, last, span));
        }
        if kept.is_empty() {
            return None;
        }
        // Line ranges with one line of context, merged when they touch.
        let count = file.index.line_count();
        let mut ranges: Vec<(usize, usize)> = kept
            .iter()
            .map(|(_, f, l, _)| (f.saturating_sub(1).max(1), (l + 1).min(count)))
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 + 1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut ex = Excerpt {
            name: sanitize::one_line(name).into_owned(),
            text: String::new(),
            lines: Vec::new(),
            groups: Vec::new(),
            starts: Vec::new(),
        };
        for (a, b) in merged {
            let first = ex.lines.len();
            for number in a..=b {
                // The window is placed at the primary mark starting on this
                // line, else at the first mark starting on it.
                let anchor = kept
                    .iter()
                    .filter(|(_, f, _, _)| *f == number)
                    .min_by_key(|(m, _, _, s)| (!m.primary, s.start))
                    .map(|(m, _, _, s)| (s.start, m.position.column.saturating_sub(1)));
                ex.push_line(file, number, anchor, budget);
            }
            ex.groups.push(Group {
                first,
                last: ex.lines.len() - 1,
            });
        }
        let mut ex_starts = Vec::new();
        // Labels outside the window of their line all point at the same
        // ellipsis: one label there says how many.
        let mut labels: Vec<LabeledSpan> = Vec::new();
        let mut hidden: Vec<(usize, usize, usize)> = Vec::new();
        for (m, _, _, span) in &kept {
            let start = ex.map(text, span.start, false);
            let end = ex.map(text, span.end, true).max(start);
            let label = sanitize::cap(&sanitize::one_line(&m.label), 80).into_owned();
            if !m.primary && ex.outside_window(*span) {
                if let Some(h) = hidden.iter_mut().find(|h| h.0 == start && h.1 == end) {
                    h.2 += 1;
                    continue;
                }
                hidden.push((start, end, 0));
            }
            ex_starts.push((
                start,
                m.position.line.saturating_sub(1),
                m.position.column.saturating_sub(1),
            ));
            let s = SourceSpan::new(start.into(), end - start);
            labels.push(if m.primary {
                LabeledSpan::new_primary_with_span(Some(label), s)
            } else {
                LabeledSpan::new_with_span(Some(label), s)
            });
        }
        for (start, end, more) in hidden.into_iter().filter(|h| h.2 > 0) {
            if let Some(l) = labels
                .iter_mut()
                .find(|l| l.offset() == start && l.offset() + l.len() == end)
            {
                let text = format!(
                    "{} (and {more} more outside the window)",
                    l.label().unwrap_or("")
                );
                *l = LabeledSpan::new_with_span(Some(text), *l.inner());
            }
        }
        ex.starts = ex_starts;
        Some((ex, labels))
    }

    fn push_line(
        &mut self,
        file: &SourceFile,
        number: usize,
        anchor: Option<(usize, usize)>,
        budget: usize,
    ) {
        let text = file.text.as_str();
        let (start, end) = line_bounds(file, number);
        let long = end - start > budget && text[start..end].chars().nth(budget).is_some();
        let (win_start, win_end, win_col) = if !long {
            (start, end, 0)
        } else {
            let (at, col) = anchor
                .map(|(a, c)| (floor_boundary(text, a.clamp(start, end)), c))
                .unwrap_or((start, 0));
            let mut ws = back(text, at, budget / 3, start);
            let we = forward(text, ws, budget, end);
            if we == end {
                ws = ws.min(back(text, end, budget, start));
            }
            let skipped = text[ws..at].chars().count();
            (ws, we, col.saturating_sub(skipped))
        };
        let v_start = self.text.len();
        if win_start > start {
            self.text.push_str(ELLIPSIS);
        }
        let v_text = self.text.len();
        self.text
            .push_str(&sanitize::terminal(&text[win_start..win_end]));
        let v_trail = self.text.len();
        if win_end < end {
            self.text.push_str(ELLIPSIS);
        }
        self.text.push('\n');
        self.lines.push(Line {
            number,
            start,
            end,
            win_start,
            win_end,
            win_col,
            v_start,
            v_text,
            v_trail,
        });
    }

    /// Does `span` lie on one line, wholly in text cut from its window?
    fn outside_window(&self, span: Span) -> bool {
        let i = self
            .lines
            .partition_point(|l| l.start <= span.start)
            .saturating_sub(1);
        let Some(l) = self.lines.get(i) else {
            return false;
        };
        span.end <= l.end
            && ((l.win_start > l.start && span.end <= l.win_start && span.start < l.win_start)
                || (l.win_end < l.end && span.start >= l.win_end && span.end > l.win_end))
    }

    /// The excerpt offset of file offset `o` in `text` (a span's end
    /// when `is_end`). Offsets left of a window map to its leading
    /// ellipsis, offsets right of it to the trailing one.
    fn map(&self, text: &str, o: usize, is_end: bool) -> usize {
        let i = self
            .lines
            .partition_point(|l| l.start <= o)
            .saturating_sub(1);
        let Some(l) = self.lines.get(i) else {
            return 0;
        };
        let o = floor_boundary(text, o.clamp(l.start, l.end));
        if o < l.win_start {
            if is_end {
                l.v_text
            } else {
                l.v_start
            }
        } else if o > l.win_end {
            if is_end {
                l.v_trail + ELLIPSIS.len()
            } else {
                l.v_trail
            }
        } else {
            l.v_text + safe_len(&text[l.win_start..o])
        }
    }
}

impl SourceCode for Excerpt {
    /// The group of lines holding `span` (the lines around it are already
    /// part of the group); with no context asked for, the line of its start
    /// with the file's line and column.
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (s, e) = (span.offset(), span.offset() + span.len());
        let li = self
            .lines
            .partition_point(|l| l.v_start <= s)
            .checked_sub(1)
            .ok_or(MietteError::OutOfBounds)?;
        let g = self
            .groups
            .iter()
            .find(|g| g.first <= li && li <= g.last)
            .ok_or(MietteError::OutOfBounds)?;
        let line_end = |i: usize| {
            self.lines
                .get(i + 1)
                .map(|n| n.v_start)
                .unwrap_or(self.text.len())
        };
        let g_start = self.lines[g.first].v_start;
        let g_end = line_end(g.last);
        if e > g_end {
            return Err(MietteError::OutOfBounds);
        }
        if context_lines_before == 0 && context_lines_after == 0 {
            let l = &self.lines[li];
            let (line, column) = match self.starts.iter().find(|x| x.0 == s) {
                Some(&(_, line, column)) => (line, column),
                None => (l.number - 1, l.win_col),
            };
            let end = line_end(li);
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                &self.text.as_bytes()[l.v_start..end],
                SourceSpan::new(l.v_start.into(), end - l.v_start),
                line,
                column,
                1,
            )));
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[g_start..g_end],
            SourceSpan::new(g_start.into(), g_end - g_start),
            self.lines[g.first].number - 1,
            0,
            g.last - g.first + 1,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(file: &SourceFile, span: Span, label: &str, primary: bool) -> Mark {
        Mark {
            span,
            position: Position::resolve(file, span),
            label: label.into(),
            primary,
        }
    }

    fn at(file: &SourceFile, needle: &str) -> Span {
        let s = file.text.find(needle).unwrap();
        Span::new(s, s + needle.len())
    }

    fn shown<'a>(ex: &'a Excerpt, l: &LabeledSpan) -> &'a str {
        &ex.text[l.offset()..l.offset() + l.len()]
    }

    #[test]
    fn copies_only_the_lines_around_the_span() {
        let mut text = "x: 1\n".repeat(50_000);
        text.push_str("port: 6667\n");
        text.push_str(&"y: 2\n".repeat(50_000));
        let f = SourceFile::new("big.yml", text);
        let span = at(&f, "6667");
        let (ex, labels) = Excerpt::build(&f, "big.yml", &[mark(&f, span, "p", true)], 80).unwrap();
        assert_eq!(ex.text, "x: 1\nport: 6667\ny: 2\n");
        assert_eq!(shown(&ex, &labels[0]), "6667");
        let c = ex.read_span(labels[0].inner(), 1, 1).unwrap();
        assert_eq!(c.line(), 50_000 - 1);
        assert_eq!(c.line_count(), 3);
        let c = ex.read_span(labels[0].inner(), 0, 0).unwrap();
        assert_eq!((c.line(), c.column()), (50_000, 6));
    }

    #[test]
    fn long_lines_are_cut_to_a_window_around_the_span() {
        let text = format!(
            "a: 1\nq: '{}', 6667, '{}'\nb: 2\n",
            "a".repeat(70_000),
            "b".repeat(5_000)
        );
        let f = SourceFile::new("l.yml", text);
        let span = at(&f, "6667");
        let (ex, labels) = Excerpt::build(&f, "l.yml", &[mark(&f, span, "p", true)], 60).unwrap();
        let lines: Vec<&str> = ex.text.lines().collect();
        assert_eq!(lines[0], "a: 1");
        assert!(
            lines[1].starts_with('…') && lines[1].ends_with('…'),
            "{}",
            lines[1]
        );
        assert!(lines[1].chars().count() <= 62, "{}", lines[1]);
        assert_eq!(shown(&ex, &labels[0]), "6667");
        let c = ex.read_span(labels[0].inner(), 0, 0).unwrap();
        assert_eq!((c.line(), c.column()), (1, 70_007));
    }

    #[test]
    fn escapes_keep_the_label_on_its_text() {
        let text = "v: \"\u{1b}]52;c;QQ==\u{7}\u{202e}\" 6667\r\nw: 1\r\n";
        let f = SourceFile::new("e.yml", text);
        let span = at(&f, "6667");
        let (ex, labels) =
            Excerpt::build(&f, "e\u{1b}.yml", &[mark(&f, span, "p\u{7}", true)], 80).unwrap();
        assert_eq!(ex.text, "v: \"\\x1b]52;c;QQ==\\x07\\u{202e}\" 6667\nw: 1\n");
        assert_eq!(shown(&ex, &labels[0]), "6667");
        assert_eq!(labels[0].label(), Some("p\\x07"));
        assert_eq!(ex.name, "e\\x1b.yml");
    }

    #[test]
    fn labels_outside_the_window_share_one_ellipsis() {
        let vals: Vec<String> = (0..40)
            .map(|i| format!("'{}{i}', {}", "z".repeat(30), 50_000 + i))
            .collect();
        let text = format!("p: [{}]\n", vals.join(", "));
        let f = SourceFile::new("m.yml", text);
        let mut marks = vec![mark(&f, at(&f, "50000"), "p", true)];
        for i in 1..10 {
            marks.push(mark(
                &f,
                at(&f, &(50_000 + i).to_string()),
                &format!("also {i}"),
                false,
            ));
        }
        let (ex, labels) = Excerpt::build(&f, "m.yml", &marks, 80).unwrap();
        assert_eq!(shown(&ex, &labels[0]), "50000");
        let on_ellipsis: Vec<&LabeledSpan> =
            labels.iter().filter(|l| shown(&ex, l) == "…").collect();
        assert_eq!(on_ellipsis.len(), 1, "{labels:?}");
        assert!(on_ellipsis[0]
            .label()
            .unwrap()
            .contains("more outside the window"));
    }

    #[test]
    fn odd_spans_do_not_panic() {
        let f = SourceFile::new("o.yml", "é: ü\nx\n");
        let bad = [
            Span::new(1, 2),
            Span::new(5, 3),
            Span::new(3, 99),
            Span::new(f.text.len(), f.text.len()),
            Span::new(0, f.text.len()),
        ];
        for s in bad {
            let m = Mark {
                span: s,
                position: Position {
                    line: 1,
                    column: 1,
                    end_line: 1,
                    end_column: 1,
                    offset: 0,
                    length: 0,
                },
                label: "l".into(),
                primary: true,
            };
            if let Some((ex, labels)) = Excerpt::build(&f, "o.yml", &[m], 40) {
                for l in &labels {
                    assert!(l.offset() + l.len() <= ex.text.len());
                    let _ = ex.read_span(l.inner(), 1, 1).unwrap();
                }
            }
        }
    }

    #[test]
    fn spans_over_many_lines_show_their_first_line() {
        let text = "a\n".repeat(200);
        let f = SourceFile::new("s.yml", text);
        let span = Span::new(0, f.text.len());
        let (ex, labels) = Excerpt::build(&f, "s.yml", &[mark(&f, span, "all", true)], 40).unwrap();
        assert_eq!(ex.text.lines().count(), 2);
        assert_eq!(shown(&ex, &labels[0]), "a");
    }
}
