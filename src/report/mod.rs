//! Reporters: the only code (with `main.rs`) that produces output text.

mod excerpt;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod paths;
pub mod sanitize;
pub mod sarif;
pub mod statistics;

pub use paths::Context;

use crate::lint::{FileResult, FileStatus};

/// Totals for the summary line / JSON summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Rule files checked (recognised and parsed, or failed).
    pub files: usize,
    pub rules: usize,
    /// Findings (diagnostics from checks, not parse errors).
    pub findings: usize,
    /// Parse errors and unreadable files.
    pub errors: usize,
    /// Files that were looked at but are not rules.
    pub skipped: usize,
    pub elapsed_ms: u128,
}

impl Summary {
    pub fn from_results(results: &[FileResult], elapsed_ms: u128) -> Summary {
        let mut s = Summary {
            elapsed_ms,
            ..Summary::default()
        };
        for r in results {
            match r.status {
                FileStatus::Checked(n) => {
                    s.files += 1;
                    s.rules += n;
                }
                FileStatus::Failed => s.files += 1,
                FileStatus::Skipped => s.skipped += 1,
            }
            for d in &r.diagnostics {
                // Parse errors count as errors, parse notes (opaque parts,
                // legacy syntax) as neither; everything else is a finding.
                if d.code.category() == crate::checks::Category::Parse {
                    match d.severity {
                        crate::diagnostic::Severity::Error => s.errors += 1,
                        crate::diagnostic::Severity::Warning => s.findings += 1,
                        _ => {}
                    }
                } else {
                    s.findings += 1;
                }
            }
        }
        s
    }
}
