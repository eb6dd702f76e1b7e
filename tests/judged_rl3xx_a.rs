//! `RL306 literal-wildcard` and `RL309 modifier-misuse` findings read by
//! hand against their rules: `tests/data/judged/rl3xx/rl306.tsv` and
//! `rl309.tsv`, one row per finding (corpus-relative path, rule id, code,
//! field, the flagged text as it stands in the file, severity, verdict
//! `useful` | `weak` | `wrong`, a one-line reason). A finding judged
//! `useful` or `weak` must still be reported with the judged severity; one
//! judged `wrong` (reported by an earlier, looser form of the check) must
//! not come back.
//!
//! Needs the shared corpus: run with
//! `RULELINT_CORPUS=/work/shared/corpus cargo test --test judged_rl3xx_a -- --include-ignored`.
//! When run, a missing corpus is a failure, not a skip.

mod common;
use common::corpus_root;

use rulelint::{Code, Knowledge, LintOptions, SourceFile};
use std::collections::HashMap;
use std::path::Path;

const FILES: &[(&str, &str)] = &[("rl306.tsv", "RL306"), ("rl309.tsv", "RL309")];

/// A finding: code, flagged text, severity.
type Finding = (String, String, String);

#[derive(Debug)]
struct Row {
    source: String,
    path: String,
    code: String,
    value: String,
    severity: String,
    verdict: String,
    reason: String,
}

fn rows(name: &str) -> Vec<Row> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/judged/rl3xx")
        .join(name);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let mut lines = text.lines().enumerate();
    let head: Vec<&str> = lines.next().expect("header").1.split('\t').collect();
    let col = |n: &str| {
        head.iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("{name}: no `{n}` column"))
    };
    let (p, c, v, s, j, r) = (
        col("path"),
        col("code"),
        col("value"),
        col("severity"),
        col("verdict"),
        col("reason"),
    );
    lines
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, line)| {
            let cells: Vec<&str> = line.split('\t').collect();
            let get = |k: usize| cells.get(k).copied().unwrap_or("").to_string();
            Row {
                source: format!("{name}:{}", i + 1),
                path: get(p),
                code: get(c),
                value: get(v),
                severity: get(s),
                verdict: get(j),
                reason: get(r),
            }
        })
        .collect()
}

#[test]
fn judged_rows_are_well_formed() {
    for (name, code) in FILES {
        let rows = rows(name);
        assert!(!rows.is_empty(), "{name} holds no judged finding");
        for r in &rows {
            assert_eq!(r.code, *code, "{}", r.source);
            assert!(Code::from_code(&r.code).is_some(), "{}", r.source);
            assert!(
                ["useful", "weak", "wrong"].contains(&r.verdict.as_str()),
                "{}: unknown verdict `{}`",
                r.source,
                r.verdict
            );
            let sev_ok = if r.verdict == "wrong" {
                r.severity == "-"
            } else {
                ["error", "warning", "info"].contains(&r.severity.as_str())
            };
            assert!(sev_ok, "{}: severity `{}`", r.source, r.severity);
            assert!(
                !r.path.is_empty() && !r.value.is_empty() && !r.reason.is_empty(),
                "{}: empty path, value or reason",
                r.source
            );
        }
    }
}

/// A check stays at `warning` only where nine in ten of its judged warnings
/// are right.
#[test]
fn judged_warnings_are_nine_in_ten_useful() {
    for (name, _) in FILES {
        let warnings: Vec<Row> = rows(name)
            .into_iter()
            .filter(|r| r.severity == "warning")
            .collect();
        let useful = warnings.iter().filter(|r| r.verdict == "useful").count();
        assert!(
            useful * 10 >= warnings.len() * 9,
            "{name}: {useful} of {} judged warnings are useful",
            warnings.len()
        );
    }
}

#[test]
#[ignore = "needs the rule corpus (RULELINT_CORPUS or ../shared/corpus)"]
fn judged_findings_stay_as_judged() {
    let root = corpus_root();
    assert!(
        root.join("sigma").is_dir() && root.join("elastic").is_dir(),
        "the corpus is missing at {} (set RULELINT_CORPUS)",
        root.display()
    );
    let k = Knowledge::builtin().expect("catalogue");
    let opts = LintOptions::default();
    // Per file: its text and (code, flagged text, severity) of every finding.
    let mut cache: HashMap<String, (String, Vec<Finding>)> = HashMap::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, _) in FILES {
        for r in rows(name) {
            let (text, found) = cache.entry(r.path.clone()).or_insert_with(|| {
                let file = root.join(&r.path);
                let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                    panic!("judged rule {} cannot be read: {e}", file.display())
                });
                let src = SourceFile::new(&file, text.clone());
                let found = rulelint::lint_source(&k, &opts, src, &r.path, true)
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let flagged = text.get(d.span.start..d.span.end).unwrap_or("");
                        (
                            d.code.as_str().to_string(),
                            flagged.to_string(),
                            d.severity.to_string(),
                        )
                    })
                    .collect();
                (text, found)
            });
            checked += 1;
            let hits: Vec<&Finding> = found
                .iter()
                .filter(|(c, v, _)| *c == r.code && *v == r.value)
                .collect();
            match r.verdict.as_str() {
                "wrong" => {
                    // The guard names text the rule really holds.
                    if !text.contains(&r.value) {
                        failures.push(format!("{}: `{}` is not in {}", r.source, r.value, r.path));
                    }
                    if !hits.is_empty() {
                        failures.push(format!(
                            "{}: {} {} `{}` was judged wrong and is reported again",
                            r.source, r.path, r.code, r.value
                        ));
                    }
                }
                _ => {
                    if hits.is_empty() {
                        failures.push(format!(
                            "{}: {} {} `{}` was judged {} and is no longer reported",
                            r.source, r.path, r.code, r.value, r.verdict
                        ));
                    } else if hits.iter().all(|h| h.2 != r.severity) {
                        failures.push(format!(
                            "{}: {} {} `{}` is reported as {}, judged as {}",
                            r.source, r.path, r.code, r.value, hits[0].2, r.severity
                        ));
                    }
                }
            }
        }
    }
    assert!(checked > 100, "only {checked} judged findings");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
