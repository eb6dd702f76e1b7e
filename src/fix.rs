//! Applying suggested exclusions to rule files.
//!
//! Fixes are applied one finding at a time: apply its edits, re-parse the
//! result, and keep it only when the file still parses without errors and
//! the finding is gone. Every byte outside the edits is kept as it was.

use crate::checks::Code;
use crate::diagnostic::{Applicability, Diagnostic, Edit, Severity};
use crate::knowledge::Knowledge;
use crate::lint::{lint_source, FileStatus, LintOptions};
use crate::source::SourceFile;

/// What happened to one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixOutcome {
    pub code: Code,
    pub pattern: Option<String>,
    pub line: usize,
    pub applied: bool,
    /// Why it was not applied.
    pub reason: Option<String>,
}

/// The result of fixing one file.
#[derive(Debug, Clone)]
pub struct FixResult {
    /// The new text, if anything was applied.
    pub text: Option<String>,
    pub outcomes: Vec<FixOutcome>,
}

/// Apply non-overlapping edits to `text`. `None` when edits overlap or fall
/// outside the text or inside a character.
pub fn apply_edits(text: &str, edits: &[Edit]) -> Option<String> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut pos = 0;
    for e in sorted {
        if e.span.start < pos
            || e.span.end > text.len()
            || e.span.end < e.span.start
            || !text.is_char_boundary(e.span.start)
            || !text.is_char_boundary(e.span.end)
        {
            return None;
        }
        out.push_str(&text[pos..e.span.start]);
        out.push_str(&e.replacement);
        pos = e.span.end;
    }
    out.push_str(&text[pos..]);
    Some(out)
}

/// Which fixes `--fix` applies: [`Applicability::Safe`] always, the others
/// on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FixMode {
    /// `--unsafe-fixes`: also exclusions with the catalogue's default values.
    pub unsafe_fixes: bool,
    /// `--fix-placeholders`: also exclusions that hold placeholders.
    pub placeholders: bool,
}

impl FixMode {
    pub fn allows(self, a: Applicability) -> bool {
        match a {
            Applicability::Safe => true,
            Applicability::Unsafe => self.unsafe_fixes,
            Applicability::NeedsFacts => self.placeholders,
            Applicability::DisplayOnly => false,
        }
    }
}

/// Why `--fix` leaves a fix of this applicability alone.
fn refusal(a: Applicability) -> &'static str {
    match a {
        Applicability::Safe => "",
        Applicability::Unsafe => "the exclusion uses the catalogue's default values, which change what the rule detects: review it and pass --unsafe-fixes, or set the environment facts in the configuration",
        Applicability::NeedsFacts => "the exclusion has placeholders: set the environment facts in the configuration, or pass --fix-placeholders",
        Applicability::DisplayOnly => "the suggestion cannot be applied mechanically: its help says what to set or paste",
    }
}

/// The edits of `d` that `mode` allows, or why there are none.
fn fixable(d: &Diagnostic, mode: FixMode) -> Result<&[Edit], String> {
    let Some(s) = &d.suggestion else {
        return Err("no suggestion to apply (extend the existing exclusion by hand)".into());
    };
    if mode.allows(s.fix.applicability) {
        Ok(&s.fix.edits)
    } else {
        Err(refusal(s.fix.applicability).into())
    }
}

/// Fix every fixable finding of one file's text.
pub fn fix_text(
    knowledge: &Knowledge,
    opts: &LintOptions,
    file: &SourceFile,
    display: &str,
    mode: FixMode,
    settle: &dyn Fn(&mut Vec<Diagnostic>),
) -> FixResult {
    let mut text = file.text.clone();
    let mut outcomes = Vec::new();
    let mut changed = false;
    // What a fix is about: a pattern's findings for knowledge-driven
    // checks (one exclusion deals with all of them), the finding itself
    // (its key) for the others.
    let about = |d: &Diagnostic| -> (Code, String) {
        match &d.pattern {
            Some(p) => (d.code, format!("pattern|{p}")),
            None => (d.code, format!("key|{}", d.key)),
        }
    };
    let mut refused: Vec<(Code, String)> = Vec::new();
    for _ in 0..64 {
        let mut res = lint_source(
            knowledge,
            opts,
            SourceFile::new(file.path.clone(), text.clone()),
            display,
            true,
        );
        settle(&mut res.diagnostics);
        if res.status == FileStatus::Failed {
            break;
        }
        let mut next = None;
        for d in &res.diagnostics {
            if refused.contains(&about(d)) {
                continue;
            }
            match fixable(d, mode) {
                Ok(edits) => {
                    next = Some((d.clone(), edits.to_vec()));
                    break;
                }
                Err(reason) => {
                    if d.suggestion.is_some() {
                        refused.push(about(d));
                        outcomes.push(FixOutcome {
                            code: d.code,
                            pattern: d.pattern.clone(),
                            line: d.position.line,
                            applied: false,
                            reason: Some(reason),
                        });
                    }
                }
            }
        }
        let Some((d, edits)) = next else { break };
        let outcome = |applied: bool, reason: Option<String>| FixOutcome {
            code: d.code,
            pattern: d.pattern.clone(),
            line: d.position.line,
            applied,
            reason,
        };
        let Some(new_text) = apply_edits(&text, &edits) else {
            refused.push(about(&d));
            outcomes.push(outcome(
                false,
                Some("the edits overlap; not applied".into()),
            ));
            continue;
        };
        // Verify: the new text parses and the finding is gone.
        let check = lint_source(
            knowledge,
            opts,
            SourceFile::new(file.path.clone(), new_text.clone()),
            display,
            true,
        );
        // A pattern's exclusion must leave none of its findings; a fix of
        // one finding must leave fewer findings with its key (a file may
        // hold the same value twice).
        let count = |ds: &[Diagnostic]| {
            ds.iter()
                .filter(|x| about(x) == about(&d) && x.severity != Severity::Info)
                .count()
        };
        let after = count(&check.diagnostics);
        let still = match d.pattern {
            Some(_) => after > 0,
            None => after >= count(&res.diagnostics),
        };
        if check.status == FileStatus::Failed || still {
            refused.push(about(&d));
            outcomes.push(outcome(
                false,
                Some(if still {
                    "the edited rule still matches the pattern; not applied".into()
                } else {
                    "the edited rule would not parse; not applied".into()
                }),
            ));
            continue;
        }
        text = new_text;
        changed = true;
        outcomes.push(outcome(true, None));
    }
    FixResult {
        text: changed.then_some(text),
        outcomes,
    }
}

/// Replace the rule file at `path`, read as `read`, with `text`: through
/// a fresh temporary file in the same directory and a rename, keeping the
/// file's permissions. A file that changed since it was read, a symbolic
/// link and a file with several hard links are left as they are (see
/// [`crate::fsio::replace_file`]).
pub fn write_atomic(
    path: &std::path::Path,
    read: &str,
    text: &str,
) -> Result<(), crate::fsio::WriteError> {
    crate::fsio::replace_file(path, Some(read.as_bytes()), text.as_bytes())
}

/// Lines of context around each change in [`unified_diff`].
const CONTEXT: usize = 3;

/// Above this many line pairs the changed middle is shown as one block
/// rather than matched line by line.
const MAX_MATCH_CELLS: usize = 4_000_000;

/// The unified diff (`--- a/path`, `+++ b/path`, hunks with three lines of
/// context) turning `old` into `new`; empty when they are equal.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = line_ops(&a, &b);
    // Hunks: runs of changes with up to 2 * CONTEXT equal lines between.
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| !matches!(o, Op::Equal(..)))
        .map(|(i, _)| i)
        .collect();
    let mut k = 0;
    while k < changed.len() {
        let first = changed[k];
        let mut last = first;
        while k + 1 < changed.len() && changed[k + 1] - last <= 2 * CONTEXT + 1 {
            k += 1;
            last = changed[k];
        }
        k += 1;
        let lo = first.saturating_sub(CONTEXT);
        let hi = (last + CONTEXT + 1).min(ops.len());
        let (a0, b0) = match ops[lo] {
            Op::Equal(i, j) | Op::Delete(i, j) | Op::Insert(i, j) => (i, j),
        };
        let (mut na, mut nb) = (0, 0);
        let mut body = String::new();
        for op in &ops[lo..hi] {
            let (tag, line) = match *op {
                Op::Equal(i, _) => {
                    na += 1;
                    nb += 1;
                    (' ', a[i])
                }
                Op::Delete(i, _) => {
                    na += 1;
                    ('-', a[i])
                }
                Op::Insert(_, j) => {
                    nb += 1;
                    ('+', b[j])
                }
            };
            body.push(tag);
            body.push_str(line);
            if !line.ends_with('\n') {
                body.push_str("\n\\ No newline at end of file\n");
            }
        }
        let start = |s: usize, n: usize| if n == 0 { s } else { s + 1 };
        out.push_str(&format!(
            "@@ -{},{na} +{},{nb} @@\n",
            start(a0, na),
            start(b0, nb)
        ));
        out.push_str(&body);
    }
    out
}

/// One line of the edit script: indices into the old and new lines (for
/// a deletion, the new index is where it happens, and the other way round).
#[derive(Debug, Clone, Copy)]
enum Op {
    Equal(usize, usize),
    Delete(usize, usize),
    Insert(usize, usize),
}

/// A shortest edit script between two line lists: common head and tail,
/// then a longest common subsequence of the middle.
fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let head = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let mut ops: Vec<Op> = (0..head).map(|i| Op::Equal(i, i)).collect();
    let (n, m) = (am.len(), bm.len());
    if n.saturating_mul(m) > MAX_MATCH_CELLS || n == 0 || m == 0 {
        ops.extend((0..n).map(|i| Op::Delete(head + i, head)));
        ops.extend((0..m).map(|j| Op::Insert(head + n, head + j)));
    } else {
        // lcs[i][j]: length of the LCS of am[i..] and bm[j..].
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if am[i] == bm[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Equal(head + i, head + j));
                i += 1;
                j += 1;
            } else if i < n && (j == m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                ops.push(Op::Delete(head + i, head + j));
                i += 1;
            } else {
                ops.push(Op::Insert(head + i, head + j));
                j += 1;
            }
        }
    }
    let (da, db) = (a.len() - tail, b.len() - tail);
    ops.extend((0..tail).map(|k| Op::Equal(da + k, db + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn edits_apply_in_order_and_keep_other_bytes() {
        let t = "abc\r\ndéf\n";
        let e = [Edit::insert(0, "X"), Edit::new(Span::new(5, 8), "D")];
        assert_eq!(apply_edits(t, &e).as_deref(), Some("Xabc\r\nDf\n"));
    }

    #[test]
    fn unified_diff_has_hunks_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n";
        let new = "a\nb\nc\nd\nX\ne\nf\ng\nh\ni\nj\n";
        let d = unified_diff("r.yml", old, new);
        assert_eq!(
            d,
            "--- a/r.yml\n+++ b/r.yml\n@@ -2,6 +2,7 @@\n b\n c\n d\n+X\n e\n f\n g\n"
        );
        assert_eq!(unified_diff("r.yml", old, old), "");
        let d = unified_diff("r.yml", "a\nb", "a\nc");
        assert!(d.contains("-b\n\\ No newline at end of file\n+c\n"), "{d}");
    }

    #[test]
    fn overlapping_or_bad_edits_are_refused() {
        let t = "abcdef";
        assert!(apply_edits(
            t,
            &[
                Edit::new(Span::new(0, 3), "x"),
                Edit::new(Span::new(2, 4), "y")
            ]
        )
        .is_none());
        assert!(apply_edits(t, &[Edit::new(Span::new(5, 9), "x")]).is_none());
        assert!(apply_edits("é", &[Edit::new(Span::new(1, 2), "x")]).is_none());
    }
}
