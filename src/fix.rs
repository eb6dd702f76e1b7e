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
    let mut refused: Vec<(Option<String>, Code)> = Vec::new();
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
            if refused.contains(&(d.pattern.clone(), d.code)) {
                continue;
            }
            match fixable(d, mode) {
                Ok(edits) => {
                    next = Some((d.clone(), edits.to_vec()));
                    break;
                }
                Err(reason) => {
                    if d.suggestion.is_some() {
                        refused.push((d.pattern.clone(), d.code));
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
            refused.push((d.pattern.clone(), d.code));
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
        let still = check
            .diagnostics
            .iter()
            .any(|x| x.code == d.code && x.pattern == d.pattern && x.severity != Severity::Info);
        if check.status == FileStatus::Failed || still {
            refused.push((d.pattern.clone(), d.code));
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
