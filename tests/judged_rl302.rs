//! RL302 `unknown-field` findings on the shared corpora, read by hand
//! against their rules and kept in `tests/data/judged/rl3xx/rl302.tsv`
//! (corpus-relative path, rule title, code, field, verdict when judged,
//! verdict now, reason).
//!
//! * A finding whose verdict now is `gone` (judged wrong or weak, removed
//!   by tightening the check) must not come back.
//! * A finding still reported (`useful`, `weak`, `wrong` now) must still
//!   be reported: a useful one that vanishes is a regression.
//! * Every RL302 finding on the corpora is in the data: a new one has to
//!   be read before it is accepted.
//! * At least nine in ten of the findings still reported are `useful`,
//!   which is what keeps the check at `warning`.
//!
//! Needs the shared corpus: run with
//! `RULELINT_CORPUS=/work/shared/corpus cargo test --test judged_rl302 -- --include-ignored`.
//! When run, a missing corpus is a failure, not a skip.

mod common;

use rulelint::{Code, Knowledge, LintOptions, SourceFile};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

struct Judged {
    line: usize,
    path: String,
    field: String,
    verdict: String,
    after: String,
}

fn read() -> Vec<Judged> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/judged/rl3xx/rl302.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let (_, head) = lines.next().expect("a header row");
    let head: Vec<&str> = head.split('\t').collect();
    let col = |n: &str| {
        head.iter()
            .position(|h| *h == n)
            .unwrap_or_else(|| panic!("rl302.tsv: no `{n}` column"))
    };
    let (p, c, f, v, a) = (
        col("path"),
        col("code"),
        col("field"),
        col("verdict"),
        col("after_verdict"),
    );
    col("rule");
    col("reason");
    lines
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split('\t').collect();
            let get = |k: usize| cells.get(k).copied().unwrap_or("").to_string();
            assert_eq!(get(c), "RL302", "rl302.tsv:{}: code", i + 1);
            Judged {
                line: i + 1,
                path: get(p),
                field: get(f),
                verdict: get(v),
                after: get(a),
            }
        })
        .collect()
}

/// The fields of the RL302 findings on one corpus file: the first
/// back-quoted name of each message.
fn findings(k: &Knowledge, root: &Path, rel: &str) -> BTreeSet<String> {
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
    .filter(|d| d.code == Code::UnknownField)
    .filter_map(|d| d.message.split('`').nth(1).map(str::to_string))
    .collect()
}

#[test]
#[ignore = "needs the rule corpus (RULELINT_CORPUS)"]
fn judged_findings_stay_judged() {
    let root = common::corpus_root();
    for sub in ["sigma", "elastic", "splunk"] {
        common::corpus_dir(sub);
    }
    let k = Knowledge::builtin().expect("catalogue");
    let rows = read();
    assert!(rows.len() >= 10, "a sample of at least ten findings");

    // Every finding on the corpora, by file.
    let mut all: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (sub, exts) in [
        ("sigma", &["yml", "yaml"][..]),
        ("elastic", &["toml"][..]),
        ("splunk", &["yml"][..]),
    ] {
        for p in common::files_with_ext(&common::corpus_dir(sub), exts) {
            let rel = p
                .strip_prefix(&root)
                .expect("below the corpus root")
                .to_string_lossy()
                .replace('\\', "/");
            let found = findings(&k, &root, &rel);
            if !found.is_empty() {
                all.insert(rel, found);
            }
        }
    }

    let mut problems = Vec::new();
    let mut judged = BTreeSet::new();
    let (mut reported, mut useful) = (0, 0);
    for j in &rows {
        assert!(
            ["useful", "weak", "wrong"].contains(&j.verdict.as_str())
                && ["useful", "weak", "wrong", "gone"].contains(&j.after.as_str()),
            "rl302.tsv:{}: unknown verdict `{}` / `{}`",
            j.line,
            j.verdict,
            j.after
        );
        judged.insert((j.path.clone(), j.field.clone()));
        let now = all.get(&j.path).is_some_and(|f| f.contains(&j.field));
        if j.after == "gone" {
            if now {
                problems.push(format!(
                    "rl302.tsv:{}: {} `{}` was judged {} and removed, but is reported again",
                    j.line, j.path, j.field, j.verdict
                ));
            }
        } else {
            reported += 1;
            useful += usize::from(j.after == "useful");
            if !now {
                problems.push(format!(
                    "rl302.tsv:{}: {} `{}` (judged {}) is no longer reported",
                    j.line, j.path, j.field, j.after
                ));
            }
        }
    }
    for (path, fields) in &all {
        for f in fields {
            if !judged.contains(&(path.clone(), f.clone())) {
                problems.push(format!(
                    "{path} `{f}`: a finding no one has judged (add it to rl302.tsv)"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
    assert!(
        rows.iter().any(|j| j.after == "gone"),
        "the data holds findings removed by the precision work"
    );
    assert!(
        useful * 10 >= reported * 9,
        "{useful} of {reported} findings still reported are useful: below 9 in 10, the check cannot stay a warning"
    );
}
