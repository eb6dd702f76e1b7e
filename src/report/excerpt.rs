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
        let labels = kept
            .iter()
            .map(|(m, _, _, span)| {
                let start = ex.map(text, span.start, false);
                let end = ex.map(text, span.end, true).max(start);
                let label = sanitize::cap(&sanitize::one_line(&m.label), 80).into_owned();
                ex_starts.push((
                    start,
                    m.position.line.saturating_sub(1),
                    m.position.column.saturating_sub(1),
                ));
                let s = SourceSpan::new(start.into(), end - start);
                if m.primary {
                    LabeledSpan::new_primary_with_span(Some(label), s)
                } else {
                    LabeledSpan::new_with_span(Some(label), s)
                }
            })
            .collect();
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
