//! RL201 `known-fp-pattern` against the fixtures in
//! `tests/fixtures/known_fp_pattern/{sigma,elastic,splunk}/`.
//!
//! Fixture names say what is expected (`<id>` is the pattern id in
//! snake_case, optionally followed by `_<variant>` such as `_kql`):
//!
//! * `flagged_<id>*`: at least one RL201 finding for the pattern, with the
//!   catalogue's severity; the file parses without errors.
//! * `clean_<id>*`: no RL201 finding for the pattern (the rule already
//!   excludes it); the file parses without errors.
//! * `partial_<id>*`: an `info` RL201 finding for the pattern (the rule
//!   excludes the right field but not every benign actor).
//! * `lowered_<id>*`: an RL201 finding for the pattern one severity level
//!   below the catalogue's (a deprecated rule, a broad list).
//! * `nofield_<id>*`: an RL201 finding for the pattern without a
//!   suggestion, whose help says the log source has no field for the
//!   exclusion.
//!
//! Every file is checked and all failures are reported together. A file's
//! snapshot (its RL201 findings with positions and suggestions) is compared
//! only when the file's expectations hold, so accepting a bad snapshot
//! cannot turn a failing expectation green. Snapshot mismatches are
//! collected and reported with the failures.

use rulelint::{Diagnostic, Knowledge, LintOptions, Severity, SourceFile};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/known_fp_pattern")
}

fn knowledge() -> Knowledge {
    match Knowledge::builtin() {
        Ok(k) => k,
        Err(errs) => panic!(
            "the built-in catalogue does not load:\n{}",
            errs.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

fn snake(id: &str) -> String {
    id.replace('-', "_")
}

/// What a fixture's name says it expects.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Flagged(String),
    Clean(String),
    Partial(String),
    Lowered(String),
    NoField(String),
}

/// Read the expectation from a file stem; the pattern id is the longest
/// catalogue id (in snake_case) the rest of the stem starts with.
fn expectation(k: &Knowledge, stem: &str) -> Result<Expect, String> {
    let (kind, rest) = ["flagged_", "clean_", "partial_", "lowered_", "nofield_"]
        .iter()
        .find_map(|p| stem.strip_prefix(p).map(|r| (*p, r)))
        .ok_or_else(|| {
            "name must start with flagged_, clean_, partial_, lowered_ or nofield_".to_string()
        })?;
    let id = k
        .patterns
        .iter()
        .map(|p| p.id.as_str())
        .filter(|id| {
            let s = snake(id);
            rest == s || rest.starts_with(&format!("{s}_"))
        })
        .max_by_key(|id| id.len())
        .ok_or_else(|| format!("`{rest}` names no catalogue pattern"))?
        .to_string();
    Ok(match kind {
        "flagged_" => Expect::Flagged(id),
        "clean_" => Expect::Clean(id),
        "lowered_" => Expect::Lowered(id),
        "nofield_" => Expect::NoField(id),
        _ => Expect::Partial(id),
    })
}

fn describe(d: &Diagnostic) -> String {
    format!(
        "{} {} {} at {}:{}: {}",
        d.code,
        d.severity,
        d.pattern.as_deref().unwrap_or("-"),
        d.position.line,
        d.position.column,
        d.message
    )
}

fn describe_all(ds: &[&Diagnostic]) -> String {
    if ds.is_empty() {
        "nothing".to_string()
    } else {
        ds.iter()
            .map(|d| describe(d))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The snapshot text of one file's RL201 findings.
fn render(findings: &[&Diagnostic]) -> String {
    let mut out = String::new();
    if findings.is_empty() {
        out.push_str("(no RL201 findings)\n");
    }
    for d in findings {
        let _ = writeln!(
            out,
            "{} {} {} {}:{}-{}:{}",
            d.code,
            d.severity,
            d.pattern.as_deref().unwrap_or("-"),
            d.position.line,
            d.position.column,
            d.position.end_line,
            d.position.end_column
        );
        let _ = writeln!(out, "  message: {}", d.message);
        for l in &d.labels {
            let _ = writeln!(
                out,
                "  label {}:{}: {}",
                l.position.line, l.position.column, l.message
            );
        }
        if let Some(help) = &d.help {
            let first = help.lines().next().unwrap_or("");
            let _ = writeln!(out, "  help: {first}");
        }
        match &d.suggestion {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "  suggestion ({}{}):",
                    s.language.as_str(),
                    if s.has_placeholders {
                        ", has placeholders"
                    } else {
                        ""
                    }
                );
                for line in s.text.lines() {
                    let _ = writeln!(out, "    | {line}");
                }
            }
            None => out.push_str("  suggestion: none\n"),
        }
    }
    out
}

/// Lint every fixture of `format` (files ending in one of `exts`), check
/// the expectations, then snapshot.
fn run_format(format: &str, exts: &[&str]) {
    let k = knowledge();
    let opts = LintOptions::default();
    let dir = fixtures_root().join(format);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| exts.iter().any(|e| n.ends_with(e)))
            })
            .collect(),
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", dir.display());

    let mut failures: Vec<String> = Vec::new();
    let mut snapshots: Vec<(String, String)> = Vec::new();
    for path in &files {
        let failed_before = failures.len();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let stem = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let display = format!("{format}/{name}");
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{display}: cannot read: {e}"));
                continue;
            }
        };
        let result = rulelint::lint_source(&k, &opts, SourceFile::new(path, text), &display, true);
        let parse_errors: Vec<&Diagnostic> =
            result.diagnostics.iter().filter(|d| d.is_fatal()).collect();
        let findings: Vec<&Diagnostic> = result
            .diagnostics
            .iter()
            .filter(|d| d.code == rulelint::checks::Code::KnownFpPattern)
            .collect();
        let expect = match expectation(&k, &stem) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{display}: bad fixture name: {e}"));
                continue;
            }
        };
        if !parse_errors.is_empty() {
            failures.push(format!(
                "{display}: expected no parse errors, found: {}",
                describe_all(&parse_errors)
            ));
        }
        let of = |id: &str| -> Vec<&Diagnostic> {
            findings
                .iter()
                .copied()
                .filter(|d| d.pattern.as_deref() == Some(id))
                .collect()
        };
        match &expect {
            Expect::Flagged(id) => {
                let want: Severity = k
                    .pattern(id)
                    .map(|p| p.severity)
                    .unwrap_or(Severity::Warning);
                let mine = of(id);
                if !mine.iter().any(|d| d.severity == want) {
                    failures.push(format!(
                        "{display}: expected an RL201 {want} finding for `{id}`, found: {}",
                        describe_all(&findings)
                    ));
                }
            }
            Expect::Clean(id) => {
                let mine = of(id);
                if !mine.is_empty() {
                    failures.push(format!(
                        "{display}: expected no RL201 finding for `{id}`, found: {}",
                        describe_all(&mine)
                    ));
                }
            }
            Expect::Lowered(id) => {
                let want = match k.pattern(id).map(|p| p.severity) {
                    Some(Severity::Error) => Severity::Warning,
                    Some(Severity::Warning) => Severity::Info,
                    _ => Severity::Hint,
                };
                let mine = of(id);
                if mine.len() != 1 || mine[0].severity != want {
                    failures.push(format!(
                        "{display}: expected one RL201 {want} finding for `{id}`, found: {}",
                        describe_all(&findings)
                    ));
                }
            }
            Expect::NoField(id) => {
                let mine = of(id);
                let ok = mine.len() == 1
                    && mine[0].suggestion.is_none()
                    && mine[0]
                        .help
                        .as_deref()
                        .is_some_and(|h| h.contains("has no field for"));
                if !ok {
                    failures.push(format!(
                        "{display}: expected one RL201 finding for `{id}` without a suggestion, \
                         saying the log source has no field, found: {}",
                        describe_all(&findings)
                    ));
                }
            }
            Expect::Partial(id) => {
                let mine = of(id);
                if !mine.iter().any(|d| d.severity == Severity::Info) || mine.len() != 1 {
                    failures.push(format!(
                        "{display}: expected exactly one RL201 info finding for `{id}` \
                         (extend the existing exclusion), found: {}",
                        describe_all(&findings)
                    ));
                }
            }
        }
        // Only a file whose expectations hold is snapshotted: accepting a
        // snapshot can never make a failing expectation pass.
        if failures.len() == failed_before {
            snapshots.push((format!("{format}__{stem}"), render(&findings)));
        }
    }
    // Compare every snapshot and collect the mismatches, so one run shows
    // all of them together with the failed expectations.
    let mut changed: Vec<String> = Vec::new();
    for (name, text) in snapshots {
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            insta::assert_snapshot!(name.as_str(), text);
        }));
        if compared.is_err() {
            changed.push(name);
        }
    }
    let mut report = String::new();
    if !failures.is_empty() {
        let _ = write!(
            report,
            "{} of {} {format} fixtures failed:\n  {}\n",
            failures.len(),
            files.len(),
            failures.join("\n  ")
        );
    }
    if !changed.is_empty() {
        let _ = write!(
            report,
            "{} {format} snapshots differ (review with `cargo insta review`):\n  {}\n",
            changed.len(),
            changed.join("\n  ")
        );
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn sigma_fixtures() {
    run_format("sigma", &[".yml", ".yaml"]);
}

#[test]
fn elastic_fixtures() {
    run_format("elastic", &[".toml"]);
}

#[test]
fn splunk_fixtures() {
    run_format("splunk", &[".yml", ".yaml"]);
}

#[test]
fn every_pattern_has_sigma_flagged_and_clean_fixtures() {
    let k = knowledge();
    assert!(!k.patterns.is_empty(), "the catalogue has no patterns");
    let dir = fixtures_root().join("sigma");
    let missing: Vec<String> = k
        .patterns
        .iter()
        .flat_map(|p| {
            let s = snake(&p.id);
            [format!("flagged_{s}.yml"), format!("clean_{s}.yml")]
        })
        .filter(|f| !dir.join(f).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "missing Sigma fixtures in {}:\n  {}",
        dir.display(),
        missing.join("\n  ")
    );
}

#[test]
fn fixture_names_name_catalogue_patterns() {
    let k = knowledge();
    let mut bad = Vec::new();
    for format in ["sigma", "elastic", "splunk"] {
        let Ok(rd) = std::fs::read_dir(fixtures_root().join(format)) else {
            continue;
        };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if !p.is_file() {
                continue;
            }
            let stem = p
                .file_stem()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_string();
            if let Err(why) = expectation(&k, &stem) {
                bad.push(format!("{format}/{stem}: {why}"));
            }
        }
    }
    bad.sort();
    assert!(
        bad.is_empty(),
        "fixtures with bad names:\n  {}",
        bad.join("\n  ")
    );
}
