//! Findings of the checks that read a rule's false-positive notes (`RL202`
//! `documented-fp-unhandled`, `RL203` `fp-notes-missing`) read by hand
//! against their rules, kept in `tests/data/judged/rl2xx/*.tsv`: one row per finding
//! (corpus-relative path, code, the flagged text as written in the file
//! (its first line),
//! verdict `useful` | `weak` | `wrong`, a one-line reason). A finding
//! judged `useful` or `weak` must still be reported; one judged `wrong`
//! must not come back, unless its row says `open` in the `status` column
//! (a known wrong finding the check cannot yet tell apart). A row whose
//! status says `gone` was judged on an earlier version and is no longer
//! reported since the check was narrowed: it must stay away.
//!
//! Needs the shared corpus: run with
//! `RULELINT_CORPUS=/work/shared/corpus cargo test --test judged_notes -- --include-ignored`.
//! When run, a missing corpus is a failure, not a skip.

use rulelint::{Code, Knowledge, LintOptions, SourceFile};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    match std::env::var_os("RULELINT_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

struct Row {
    source: String,
    path: String,
    code: String,
    value: String,
    verdict: String,
    /// `open`: judged wrong and still reported, knowingly.
    open: bool,
    /// `gone`: no longer reported since the check was narrowed.
    gone: bool,
}

fn rows() -> Vec<Row> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/judged/rl2xx");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "tsv"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&file).expect("read judged file");
        let mut lines = text.lines().enumerate();
        let head: Vec<&str> = lines.next().expect("header").1.split('\t').collect();
        let col = |n: &str| {
            head.iter()
                .position(|h| *h == n)
                .unwrap_or_else(|| panic!("{name}: no `{n}` column"))
        };
        let (p, c, v, j) = (col("path"), col("code"), col("value"), col("verdict"));
        let status = head.iter().position(|h| *h == "status");
        for (i, line) in lines {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let cells: Vec<&str> = line.split('\t').collect();
            let get = |k: usize| cells.get(k).copied().unwrap_or("").to_string();
            out.push(Row {
                source: format!("{name}:{}", i + 1),
                path: get(p),
                code: get(c),
                value: get(v),
                verdict: get(j),
                open: status.is_some_and(|k| get(k) == "open"),
                gone: status.is_some_and(|k| get(k) == "gone"),
            });
        }
    }
    out
}

#[test]
fn judged_rows_are_well_formed() {
    let rows = rows();
    assert!(!rows.is_empty(), "no judged RL202/RL203 findings");
    for r in &rows {
        assert!(
            ["useful", "weak", "wrong"].contains(&r.verdict.as_str()),
            "{}: unknown verdict `{}`",
            r.source,
            r.verdict
        );
        assert!(
            Code::from_code(&r.code).is_some(),
            "{}: `{}` is no code",
            r.source,
            r.code
        );
        assert!(
            ["RL202", "RL203"].contains(&r.code.as_str()),
            "{}: `{}` is not a notes check",
            r.source,
            r.code
        );
        assert!(
            !r.path.is_empty() && !r.value.is_empty(),
            "{}: empty path or value",
            r.source
        );
    }
}

#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn judged_findings_stay_as_judged() {
    let root = corpus_root();
    assert!(
        root.join("sigma").is_dir()
            && root.join("elastic").is_dir()
            && root.join("splunk").is_dir(),
        "the corpus is missing at {} (set RULELINT_CORPUS)",
        root.display()
    );
    let k = Knowledge::builtin().expect("catalogue");
    let opts = LintOptions::default();
    // Per file: (code, flagged text) of every finding.
    let mut cache: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut failures = Vec::new();
    for r in rows() {
        let found = cache.entry(r.path.clone()).or_insert_with(|| {
            let file = root.join(&r.path);
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("judged rule {} cannot be read: {e}", file.display()));
            let src = SourceFile::new(&file, text.clone());
            rulelint::lint_source(&k, &opts, src, &r.path, true)
                .diagnostics
                .iter()
                .map(|d| {
                    let flagged = text.get(d.span.start..d.span.end).unwrap_or("");
                    (d.code.as_str().to_string(), flagged.to_string())
                })
                .collect()
        });
        // The value is the flagged text, or its first line when it spans
        // several.
        let reported = found
            .iter()
            .any(|(c, v)| *c == r.code && v.lines().next().unwrap_or("") == r.value);
        if r.gone {
            if reported {
                failures.push(format!(
                    "{}: {} {} `{}` is marked gone and is reported again",
                    r.source, r.path, r.code, r.value
                ));
            }
            continue;
        }
        match (r.verdict.as_str(), reported) {
            ("wrong", true) if !r.open => failures.push(format!(
                "{}: {} {} `{}` was judged wrong and is reported again",
                r.source, r.path, r.code, r.value
            )),
            ("useful" | "weak", false) => failures.push(format!(
                "{}: {} {} `{}` was judged {} and is no longer reported",
                r.source, r.path, r.code, r.value, r.verdict
            )),
            ("wrong", false) if r.open => failures.push(format!(
                "{}: {} {} `{}` is marked open but no longer reported: drop `open`",
                r.source, r.path, r.code, r.value
            )),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
