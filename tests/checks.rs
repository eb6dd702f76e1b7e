//! Every check against its fixture folder, `tests/fixtures/<check_name>/`
//! (the check's name in snake_case: `known_fp_pattern`,
//! `tstats_without_datamodel`, `unused_suppression`, ...). A folder that
//! names no check fails the run, unless it is listed in `OTHER_FIXTURES`
//! as the input folder of another test.
//!
//! A folder holds rule files, directly or in sub-folders (by convention
//! `sigma/`, `elastic/`, `splunk/`); each file's name says what it expects:
//!
//! * `flagged_*`: at least one diagnostic of the check, and no error from
//!   another check.
//! * `clean_*`: no diagnostic of the check and no error at all.
//!
//! `known_fp_pattern` (RL201) is checked per pattern: the name continues
//! with a catalogue pattern id in snake_case (`flagged_ephemeral_port_kql`)
//! and the expectation is about that pattern's findings:
//!
//! * `flagged_<id>*`: a finding for the pattern with the catalogue's
//!   severity; `clean_<id>*`: no finding for the pattern;
//! * `partial_<id>*`: exactly one `info` finding for the pattern (the rule
//!   excludes the right field but not every benign actor);
//! * `lowered_<id>*`: exactly one finding for the pattern one severity
//!   level below the catalogue's (a deprecated rule, a broad list);
//! * `nofield_<id>*`: exactly one finding for the pattern without a
//!   suggestion, whose help says the log source has no field for the
//!   exclusion.
//!
//! Any other file name, or a file that is not YAML or TOML, is a failure:
//! nothing in a fixture folder is passed over.
//!
//! A file's snapshot (`tests/snapshots/<check_name>__<path>.snap`: the
//! check's diagnostics with positions and suggestions) is compared only
//! when the file's expectations hold, so accepting a snapshot can never
//! turn a failing expectation green. All failures and snapshot mismatches
//! of a run are reported together.
//!
//! Diagnostics are matched to a check by its name (`Diagnostic::code.name()`).

use rulelint::checks::{self, CheckMeta};
use rulelint::{Diagnostic, Knowledge, LintOptions, Severity, SourceFile};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const KNOWN_FP_PATTERN: &str = "known-fp-pattern";

/// Folders of `tests/fixtures/` that hold inputs of another test, not a
/// check's fixtures: each must exist and must not be a check's name.
const OTHER_FIXTURES: &[(&str, &str)] = &[
    ("elastic_defend", "tests/elastic_defend.rs"),
    ("tune", "tests/tune.rs"),
];

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
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

/// The check a fixture folder is named after: its name in snake_case,
/// exactly (not a code, not another spelling).
fn check_of_folder(folder: &str) -> Result<&'static CheckMeta, String> {
    let name = folder.replace('_', "-");
    match checks::find(&name) {
        Some(c) if c.name == name && snake(c.name) == folder => Ok(c),
        _ => Err(format!(
            "`{folder}` names no check (a folder is a check's name in snake_case, \
             e.g. `known_fp_pattern`; docs/checks.md lists the checks)"
        )),
    }
}

/// The check fixture folders (all but [`OTHER_FIXTURES`]), sorted.
fn folders() -> Vec<String> {
    let root = fixtures_root();
    let rd =
        std::fs::read_dir(&root).unwrap_or_else(|e| panic!("cannot read {}: {e}", root.display()));
    let mut out: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|f| !OTHER_FIXTURES.iter().any(|(o, _)| o == f))
        .collect();
    out.sort();
    out
}

/// Every file below `dir`, in path order.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd =
            std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()));
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What a fixture's name says it expects. `pattern` is set for RL201.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Flagged,
    Clean,
    Partial,
    Lowered,
    NoField,
}

#[derive(Debug, Clone, PartialEq)]
struct Expect {
    kind: Kind,
    pattern: Option<String>,
}

/// Read the expectation of `check` from a file name. For RL201 the pattern
/// id is the longest catalogue id (in snake_case) the rest starts with.
fn expectation(k: &Knowledge, check: &CheckMeta, name: &str) -> Result<Expect, String> {
    let stem = [".yml", ".yaml", ".toml"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .ok_or("not a rule file (.yml, .yaml or .toml)")?;
    let per_pattern = check.name == KNOWN_FP_PATTERN;
    let prefixes: &[&str] = if per_pattern {
        &["flagged_", "clean_", "partial_", "lowered_", "nofield_"]
    } else {
        &["flagged_", "clean_"]
    };
    let (kind, rest) = prefixes
        .iter()
        .find_map(|p| stem.strip_prefix(p).map(|r| (*p, r)))
        .ok_or_else(|| format!("the name must start with {}", prefixes.join(", ")))?;
    let kind = match kind {
        "flagged_" => Kind::Flagged,
        "clean_" => Kind::Clean,
        "partial_" => Kind::Partial,
        "lowered_" => Kind::Lowered,
        _ => Kind::NoField,
    };
    if !per_pattern {
        return Ok(Expect {
            kind,
            pattern: None,
        });
    }
    let id = k
        .patterns
        .iter()
        .map(|p| p.id.as_str())
        .filter(|id| {
            let s = snake(id);
            rest == s || rest.starts_with(&format!("{s}_"))
        })
        .max_by_key(|id| id.len())
        .ok_or_else(|| format!("`{rest}` names no catalogue pattern"))?;
    Ok(Expect {
        kind,
        pattern: Some(id.to_string()),
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

/// The snapshot text of one file's diagnostics of the check `code`.
fn render(code: &str, found: &[&Diagnostic]) -> String {
    let mut out = String::new();
    if found.is_empty() {
        let _ = writeln!(out, "(no {code} findings)");
    }
    for d in found {
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

/// The failures of one file against its expectation, empty when it holds.
fn judge(k: &Knowledge, check: &CheckMeta, expect: &Expect, ds: &[Diagnostic]) -> Vec<String> {
    let mut failures = Vec::new();
    let mine: Vec<&Diagnostic> = ds.iter().filter(|d| d.code.name() == check.name).collect();
    let other_errors: Vec<&Diagnostic> = ds
        .iter()
        .filter(|d| d.severity == Severity::Error && d.code.name() != check.name)
        .collect();
    if !other_errors.is_empty() {
        failures.push(format!(
            "expected no error from another check, found: {}",
            describe_all(&other_errors)
        ));
    }
    let code = check.code;
    let Some(id) = &expect.pattern else {
        match expect.kind {
            Kind::Flagged if mine.is_empty() => failures.push(format!(
                "expected at least one {code} {}, found none; all diagnostics: {}",
                check.name,
                describe_all(&ds.iter().collect::<Vec<_>>())
            )),
            Kind::Clean if !mine.is_empty() => failures.push(format!(
                "expected no {code} {}, found: {}",
                check.name,
                describe_all(&mine)
            )),
            _ => {}
        }
        return failures;
    };
    let of_pattern: Vec<&Diagnostic> = mine
        .iter()
        .copied()
        .filter(|d| d.pattern.as_deref() == Some(id.as_str()))
        .collect();
    match expect.kind {
        Kind::Flagged => {
            let want: Severity = k
                .pattern(id)
                .map(|p| p.severity)
                .unwrap_or(Severity::Warning);
            if !of_pattern.iter().any(|d| d.severity == want) {
                failures.push(format!(
                    "expected an {code} {want} finding for `{id}`, found: {}",
                    describe_all(&mine)
                ));
            }
        }
        Kind::Clean => {
            if !of_pattern.is_empty() {
                failures.push(format!(
                    "expected no {code} finding for `{id}`, found: {}",
                    describe_all(&of_pattern)
                ));
            }
        }
        Kind::Lowered => {
            let want = match k.pattern(id).map(|p| p.severity) {
                Some(Severity::Error) => Severity::Warning,
                Some(Severity::Warning) => Severity::Info,
                _ => Severity::Hint,
            };
            if of_pattern.len() != 1 || of_pattern[0].severity != want {
                failures.push(format!(
                    "expected one {code} {want} finding for `{id}`, found: {}",
                    describe_all(&mine)
                ));
            }
        }
        Kind::NoField => {
            let ok = of_pattern.len() == 1
                && of_pattern[0].suggestion.is_none()
                && of_pattern[0]
                    .help
                    .as_deref()
                    .is_some_and(|h| h.contains("has no field for"));
            if !ok {
                failures.push(format!(
                    "expected one {code} finding for `{id}` without a suggestion, \
                     saying the log source has no field, found: {}",
                    describe_all(&mine)
                ));
            }
        }
        Kind::Partial => {
            if of_pattern.len() != 1 || of_pattern[0].severity != Severity::Info {
                failures.push(format!(
                    "expected exactly one {code} info finding for `{id}` \
                     (extend the existing exclusion), found: {}",
                    describe_all(&mine)
                ));
            }
        }
    }
    failures
}

/// Lint every file of one fixture folder, check the expectations, then
/// compare the snapshots. Returns the report of what failed (empty: all
/// good) and the number of files.
fn run_folder(k: &Knowledge, folder: &str) -> (String, usize) {
    let check = match check_of_folder(folder) {
        Ok(c) => c,
        Err(e) => return (format!("tests/fixtures/{folder}: {e}\n"), 0),
    };
    let opts = LintOptions::default();
    let dir = fixtures_root().join(folder);
    let files = files_below(&dir);
    let mut failures: Vec<String> = Vec::new();
    let mut snapshots: Vec<(String, String)> = Vec::new();
    if files.is_empty() {
        failures.push("the folder holds no fixture".into());
    }
    for path in &files {
        let rel = path
            .strip_prefix(&dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let expect = match expectation(k, check, name) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{rel}: bad fixture name: {e}"));
                continue;
            }
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{rel}: cannot read: {e}"));
                continue;
            }
        };
        let result = rulelint::lint_source(k, &opts, SourceFile::new(path, text), &rel, true);
        let found = judge(k, check, &expect, &result.diagnostics);
        if !found.is_empty() {
            for f in found {
                failures.push(format!("{rel}: {f}"));
            }
            continue;
        }
        // Only a file whose expectations hold is snapshotted.
        let mine: Vec<&Diagnostic> = result
            .diagnostics
            .iter()
            .filter(|d| d.code.name() == check.name)
            .collect();
        let stem = rel
            .rsplit_once('.')
            .map_or(rel.as_str(), |(s, _)| s)
            .replace('/', "__");
        snapshots.push((format!("{folder}__{stem}"), render(check.code, &mine)));
    }
    // Compare every snapshot and collect the mismatches, so one run shows
    // all of them together with the failed expectations.
    let mut changed: Vec<String> = Vec::new();
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for (name, text) in &snapshots {
            let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                insta::assert_snapshot!(name.as_str(), text);
            }));
            if compared.is_err() {
                changed.push(name.clone());
            }
        }
    });
    let mut report = String::new();
    if !failures.is_empty() {
        let _ = write!(
            report,
            "tests/fixtures/{folder}: {} of {} fixtures failed:\n  {}\n",
            failures.len(),
            files.len(),
            failures.join("\n  ")
        );
    }
    if !changed.is_empty() {
        let _ = write!(
            report,
            "tests/fixtures/{folder}: {} snapshots differ (review with `cargo insta review`):\n  {}\n",
            changed.len(),
            changed.join("\n  ")
        );
    }
    (report, files.len())
}

/// Every folder of `tests/fixtures/`, one thread each.
#[test]
fn every_check_against_its_fixture_folder() {
    let k = knowledge();
    let folders = folders();
    assert!(!folders.is_empty(), "no fixture folders in tests/fixtures");
    let results: Vec<(String, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = folders
            .iter()
            .map(|f| {
                let k = &k;
                s.spawn(move || run_folder(k, f))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a fixture folder run panicked"))
            .collect()
    });
    let report: String = results.iter().map(|(r, _)| r.as_str()).collect();
    let total: usize = results.iter().map(|(_, n)| n).sum();
    assert!(report.is_empty(), "{report}");
    println!("{} fixture folders, {total} fixtures", folders.len());
}

#[test]
fn other_fixture_folders_exist_and_are_not_checks() {
    for (folder, user) in OTHER_FIXTURES {
        assert!(
            fixtures_root().join(folder).is_dir(),
            "tests/fixtures/{folder} (read by {user}) is gone: remove it from OTHER_FIXTURES"
        );
        assert!(
            check_of_folder(folder).is_err(),
            "tests/fixtures/{folder} is a check's name: test it as a check folder"
        );
    }
}

#[test]
fn a_folder_must_name_a_check_exactly() {
    for good in [
        "known_fp_pattern",
        "tstats_without_datamodel",
        "unused_suppression",
        "invalid_suppression",
    ] {
        let c = check_of_folder(good).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(snake(c.name), good);
    }
    for bad in [
        "no_such_check",
        "rl201",
        "RL201",
        "known-fp-pattern",
        "Known_Fp_Pattern",
        "",
    ] {
        assert!(check_of_folder(bad).is_err(), "`{bad}` was accepted");
    }
    let k = knowledge();
    let report = run_folder(&k, "no_such_check").0;
    assert!(report.contains("names no check"), "{report}");
}

#[test]
fn fixture_names_are_checked() {
    let k = knowledge();
    let rl201 = check_of_folder("known_fp_pattern").expect("RL201");
    let rl101 = check_of_folder("unused_suppression").expect("RL101");
    let ok = |c, n| expectation(&k, c, n);
    assert_eq!(
        ok(rl201, "partial_ephemeral_port_kql.toml"),
        Ok(Expect {
            kind: Kind::Partial,
            pattern: Some("ephemeral-port".into())
        })
    );
    assert_eq!(
        ok(rl101, "flagged_stale_allow.yml"),
        Ok(Expect {
            kind: Kind::Flagged,
            pattern: None
        })
    );
    for (c, bad) in [
        (rl101, "partial_x.yml"),
        (rl101, "flagged_x.md"),
        (rl101, "README.md"),
        (rl101, "x_flagged.yml"),
        (rl201, "flagged_no_such_pattern.yml"),
    ] {
        assert!(ok(c, bad).is_err(), "`{bad}` was accepted");
    }
}

#[test]
fn every_pattern_has_sigma_flagged_and_clean_fixtures() {
    let k = knowledge();
    assert!(!k.patterns.is_empty(), "the catalogue has no patterns");
    let dir = fixtures_root().join("known_fp_pattern/sigma");
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
