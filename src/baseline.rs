//! Baselines: `check --write-baseline FILE` records today's findings,
//! `check --baseline FILE` reports only the ones that are new and lists the
//! recorded ones that no longer occur (fixed, stale entries).
//!
//! Entries are keyed by file (relative to the project root), rule id, check
//! code, pattern and the triggering value ([`Diagnostic::key`]), never by
//! line number, so reformatting a rule or moving lines keeps them valid. An
//! entry has a count: the number of identical findings it covers.

use crate::diagnostic::Diagnostic;
use crate::lint::FileResult;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const VERSION: u32 = 1;

/// A baseline file larger than this is not read.
pub const MAX_SIZE: u64 = 256 * 1024 * 1024;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    /// Informational: the rulelint version that wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    pub entries: Vec<Entry>,
}

/// Identical findings (same key) recorded in a baseline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Path relative to the project root, forward slashes.
    pub file: String,
    /// The rule's id (or its title when it has no id).
    #[serde(default)]
    pub rule: Option<String>,
    pub code: String,
    #[serde(default)]
    pub pattern: Option<String>,
    /// The triggering value (see [`Diagnostic::key`]).
    pub key: String,
    pub count: usize,
}

type Key = (String, Option<String>, String, Option<String>, String);

fn key_of(file: &str, d: &Diagnostic) -> Key {
    (
        file.to_string(),
        d.rule
            .as_ref()
            .and_then(|r| r.id.clone().or_else(|| r.title.clone())),
        d.code.to_string(),
        d.pattern.clone(),
        d.key.clone(),
    )
}

impl Entry {
    fn key(&self) -> Key {
        (
            self.file.clone(),
            self.rule.clone(),
            self.code.clone(),
            self.pattern.clone(),
            self.key.clone(),
        )
    }

    /// The entry for `count` findings with this key.
    fn from_key((file, rule, code, pattern, key): Key, count: usize) -> Entry {
        Entry {
            file,
            rule,
            code,
            pattern,
            key,
            count,
        }
    }
}

/// What filtering with a baseline did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filtered {
    /// Findings that the baseline covered (removed from the results).
    pub baselined: usize,
    /// Recorded findings that no longer occur; `count` is how many of them.
    pub stale: Vec<Entry>,
}

impl Baseline {
    /// Record the findings of `results`. `rel` maps a shown path to the
    /// project-relative path. Errors that stop a file from being checked
    /// (parse errors) are recorded too: a baseline can cover files the team
    /// does not own, such as an upstream folder of unsupported rules.
    pub fn from_results(results: &[FileResult], rel: &dyn Fn(&str) -> String) -> Baseline {
        let mut counts: BTreeMap<Key, usize> = BTreeMap::new();
        for r in results {
            let file = rel(&r.path);
            for d in &r.diagnostics {
                let n = counts.entry(key_of(&file, d)).or_default();
                *n = n.saturating_add(1);
            }
        }
        Baseline {
            version: VERSION,
            generated_by: Some(format!("rulelint {}", env!("CARGO_PKG_VERSION"))),
            entries: counts
                .into_iter()
                .map(|(k, count)| Entry::from_key(k, count))
                .collect(),
        }
    }

    /// Read a baseline (a leading UTF-8 byte-order mark is allowed);
    /// errors name the position.
    pub fn parse(display: &str, text: &str) -> Result<Baseline, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let b: Baseline = serde_json::from_str(text).map_err(|e| {
            if e.line() > 0 {
                format!(
                    "{display}:{}:{}: invalid baseline: {e}",
                    e.line(),
                    e.column()
                )
            } else {
                format!("{display}: invalid baseline: {e}")
            }
        })?;
        if b.version != VERSION {
            return Err(format!(
                "{display}: unsupported baseline version {} (this rulelint writes version {VERSION}); write a new one with --write-baseline",
                b.version
            ));
        }
        if let Some(i) = b.entries.iter().position(|e| e.count == 0) {
            return Err(format!(
                "{display}: invalid baseline: entry {} has count 0",
                i + 1
            ));
        }
        Ok(b)
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Remove from `results` the findings the baseline records (up to each
    /// entry's count, in file order) and return the stale entries.
    pub fn filter(&self, results: &mut [FileResult], rel: &dyn Fn(&str) -> String) -> Filtered {
        let mut left: BTreeMap<Key, usize> = BTreeMap::new();
        for e in &self.entries {
            let n = left.entry(e.key()).or_default();
            *n = n.saturating_add(e.count);
        }
        let mut out = Filtered::default();
        for r in results.iter_mut() {
            let file = rel(&r.path);
            r.diagnostics
                .retain(|d| match left.get_mut(&key_of(&file, d)) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        out.baselined += 1;
                        false
                    }
                    _ => true,
                });
        }
        out.stale = left
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, count)| Entry::from_key(k, count))
            .collect();
        out
    }
}

/// The number of findings `entries` cover (at most `usize::MAX`).
pub fn total(entries: &[Entry]) -> usize {
    entries
        .iter()
        .fold(0usize, |n, e| n.saturating_add(e.count))
}

/// A line describing a stale entry, for the summary.
pub fn describe(e: &Entry) -> String {
    let what = e.pattern.as_deref().unwrap_or(&e.code);
    let value = e.key.rsplit('|').next().unwrap_or(&e.key);
    let times = if e.count > 1 {
        format!(" ({}x)", e.count)
    } else {
        String::new()
    };
    format!("{}: {} {what} `{value}`{times}", e.file, e.code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Position, RuleRef, Severity};
    use crate::lint::FileStatus;
    use crate::source::Span;

    fn d(line: usize, code: &'static str, key: &str, severity: Severity) -> Diagnostic {
        Diagnostic {
            code: crate::checks::Code::from_code(code).expect("a declared code"),
            pattern: Some("ephemeral-port".into()),
            severity,
            message: "m".into(),
            note: None,
            help: None,
            file: "rules/a.yml".into(),
            format: None,
            rule: Some(RuleRef {
                id: Some("1111".into()),
                title: Some("T".into()),
            }),
            span: Span::default(),
            position: Position {
                line,
                column: 1,
                end_line: line,
                end_column: 1,
                offset: 0,
                length: 0,
            },
            labels: Vec::new(),
            suggestion: None,
            key: key.into(),
        }
    }

    fn result(diags: Vec<Diagnostic>) -> FileResult {
        FileResult {
            path: "rules/a.yml".into(),
            source: None,
            format: None,
            status: FileStatus::Checked(1),
            diagnostics: diags,
        }
    }

    fn rel(p: &str) -> String {
        format!("repo/{p}")
    }

    #[test]
    fn round_trip_ignores_line_numbers() {
        let before = vec![result(vec![
            d(
                3,
                "RL201",
                "ephemeral-port|DestinationPort|6667",
                Severity::Warning,
            ),
            d(
                4,
                "RL201",
                "ephemeral-port|DestinationPort|6697",
                Severity::Warning,
            ),
            d(
                5,
                "RL201",
                "ephemeral-port|DestinationPort|6697",
                Severity::Warning,
            ),
            d(1, "RL002", "RL002|bad", Severity::Error),
        ])];
        let b = Baseline::from_results(&before, &rel);
        // The parse error is recorded too.
        assert_eq!(b.entries.len(), 3);
        assert_eq!(b.entries[0].file, "repo/rules/a.yml");
        assert_eq!(b.entries[0].code, "RL002");
        assert_eq!(b.entries[2].count, 2);
        let text = b.to_json();
        assert!(!text.contains("\"line\""));
        let b = Baseline::parse("b.json", &text).unwrap();

        // Lines moved, one 6697 fixed, a new 8080 appeared.
        let mut after = vec![result(vec![
            d(
                10,
                "RL201",
                "ephemeral-port|DestinationPort|6667",
                Severity::Warning,
            ),
            d(
                11,
                "RL201",
                "ephemeral-port|DestinationPort|6697",
                Severity::Warning,
            ),
            d(
                12,
                "RL201",
                "ephemeral-port|DestinationPort|8080",
                Severity::Warning,
            ),
            d(1, "RL002", "RL002|bad", Severity::Error),
        ])];
        let f = b.filter(&mut after, &rel);
        assert_eq!(f.baselined, 3);
        let left: Vec<_> = after[0]
            .diagnostics
            .iter()
            .map(|d| d.key.as_str())
            .collect();
        assert_eq!(left, vec!["ephemeral-port|DestinationPort|8080"]);
        assert_eq!(f.stale.len(), 1);
        assert_eq!(f.stale[0].count, 1);
        assert_eq!(
            describe(&f.stale[0]),
            "repo/rules/a.yml: RL201 ephemeral-port `6697`"
        );
    }

    #[test]
    fn malformed_baselines_are_rejected_with_position() {
        let e = Baseline::parse("b.json", "{\"version\": 1, \"entries\": [}").unwrap_err();
        assert!(e.starts_with("b.json:1:"), "{e}");
        let e = Baseline::parse("b.json", "{\"version\": 2, \"entries\": []}").unwrap_err();
        assert!(e.contains("unsupported baseline version 2"), "{e}");
        let e = Baseline::parse(
            "b.json",
            "{\"version\": 1, \"entries\": [{\"file\": \"a\", \"code\": \"RL201\", \"key\": \"k\", \"count\": 1, \"line\": 3}]}",
        )
        .unwrap_err();
        assert!(e.contains("unknown field `line`"), "{e}");
        let e = Baseline::parse("b.json", "[]").unwrap_err();
        assert!(e.contains("invalid baseline"), "{e}");
    }

    fn entry(key: &str, count: usize) -> Entry {
        Entry {
            file: "repo/rules/a.yml".into(),
            rule: Some("1111".into()),
            code: "RL201".into(),
            pattern: Some("ephemeral-port".into()),
            key: key.into(),
            count,
        }
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        let k = "ephemeral-port|DestinationPort|6667";
        let b = Baseline {
            version: VERSION,
            generated_by: None,
            entries: vec![entry(k, usize::MAX), entry(k, usize::MAX)],
        };
        let text = b.to_json();
        assert!(text.contains(&usize::MAX.to_string()), "{text}");
        let b = Baseline::parse("b.json", &text).unwrap();
        let mut results = vec![result(vec![d(3, "RL201", k, Severity::Warning)])];
        let f = b.filter(&mut results, &rel);
        assert_eq!(f.baselined, 1);
        assert!(results[0].diagnostics.is_empty());
        assert_eq!(f.stale.len(), 1);
        assert_eq!(f.stale[0].count, usize::MAX - 1);
        assert_eq!(total(&b.entries), usize::MAX);
        assert_eq!(total(&[entry(k, 2), entry(k, 3)]), 5);
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let b = Baseline::parse("b.json", "\u{feff}{\"version\": 1, \"entries\": []}").unwrap();
        assert!(b.entries.is_empty());
        let e = Baseline::parse("b.json", "\u{feff}\u{feff}{}").unwrap_err();
        assert!(e.contains("invalid baseline"), "{e}");
    }
}
