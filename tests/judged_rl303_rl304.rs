//! RL303 `bypassable-exclusion` and RL304 `noop-exclusion` findings read by
//! hand against their rules, kept in `tests/data/judged/rl3xx/rl303.tsv`
//! and `rl304.tsv`. A finding judged `wrong` must not be reported again; a
//! finding judged `useful` must still be reported (the same code, on the
//! same line, about the same field).
//!
//! Needs the shared corpus: run with
//! `RULELINT_CORPUS=/work/shared/corpus cargo test --test judged_rl303_rl304 -- --include-ignored`.
//! When run, a missing corpus is a failure, not a skip.

mod common;
use common::corpus_root;

use rulelint::{Code, Knowledge, LintOptions, SourceFile};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug)]
struct Judged {
    source: String,
    path: String,
    code: String,
    line: usize,
    field: String,
    verdict: String,
}

fn read(name: &str) -> Vec<Judged> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/judged/rl3xx")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let head: Vec<&str> = lines.next().expect("a header").1.split('\t').collect();
    let col = |n: &str| {
        head.iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("{name}: no `{n}` column"))
    };
    let (p, c, l, f, v) = (
        col("path"),
        col("code"),
        col("line"),
        col("field"),
        col("verdict"),
    );
    lines
        .map(|(i, row)| {
            let cells: Vec<&str> = row.split('\t').collect();
            let get = |k: usize| cells.get(k).copied().unwrap_or("").to_string();
            Judged {
                source: format!("{name}:{}", i + 1),
                path: get(p),
                code: get(c),
                line: get(l)
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}:{}: bad line", i + 1)),
                field: get(f),
                verdict: get(v),
            }
        })
        .collect()
}

/// The field a finding is about: the first name in backticks of its message.
fn field_of(message: &str) -> &str {
    message.split('`').nth(1).unwrap_or("")
}

/// (code, line, field) of every RL303/RL304 finding on a corpus file.
fn findings(k: &Knowledge, root: &Path, rel: &str) -> Vec<(String, usize, String)> {
    let file = root.join(rel);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("judged rule {} cannot be read: {e}", file.display()));
    rulelint::lint_source(
        k,
        &LintOptions::default(),
        SourceFile::new(&file, text),
        rel,
        true,
    )
    .diagnostics
    .into_iter()
    .filter(|d| matches!(d.code, Code::BypassableExclusion | Code::NoopExclusion))
    .map(|d| {
        (
            d.code.as_str().to_string(),
            d.position.line,
            field_of(&d.message).to_string(),
        )
    })
    .collect()
}

fn check(name: &str, code: &str, min_rows: usize) {
    let root = corpus_root();
    assert!(
        root.join("sigma").is_dir()
            && root.join("elastic").is_dir()
            && root.join("splunk").is_dir(),
        "the corpus is missing at {} (set RULELINT_CORPUS)",
        root.display()
    );
    let k = Knowledge::builtin().expect("catalogue");
    let rows = read(name);
    assert!(
        rows.len() >= min_rows,
        "{name}: at least {min_rows} judged findings"
    );
    for corpus in ["sigma/", "elastic/", "splunk/"] {
        assert!(
            rows.iter().any(|r| r.path.starts_with(corpus)),
            "{name}: no judged finding from {corpus}"
        );
    }
    let mut cache: HashMap<String, Vec<(String, usize, String)>> = HashMap::new();
    let mut failures = Vec::new();
    for j in &rows {
        assert_eq!(j.code, code, "{}: a {code} sample", j.source);
        assert!(
            ["useful", "weak", "wrong"].contains(&j.verdict.as_str()),
            "{}: unknown verdict `{}`",
            j.source,
            j.verdict
        );
        let now = cache
            .entry(j.path.clone())
            .or_insert_with(|| findings(&k, &root, &j.path));
        let reported = now
            .iter()
            .any(|(c, l, f)| *c == j.code && *l == j.line && *f == j.field);
        match j.verdict.as_str() {
            "wrong" if reported => failures.push(format!(
                "{}: judged wrong and reported again: {} line {} `{}`",
                j.source, j.path, j.line, j.field
            )),
            "useful" if !reported => failures.push(format!(
                "{}: judged useful and no longer reported: {} line {} `{}`",
                j.source, j.path, j.line, j.field
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
#[ignore = "needs the rule corpus (RULELINT_CORPUS or ../shared/corpus)"]
fn rl303_judged_findings() {
    check("rl303.tsv", "RL303", 15);
}

#[test]
#[ignore = "needs the rule corpus (RULELINT_CORPUS or ../shared/corpus)"]
fn rl304_judged_findings() {
    check("rl304.tsv", "RL304", 15);
}
