//! RL201 findings read by hand against their rules, kept in
//! `tests/data/judged/*.tsv` (see `tests/data/judged/README.md`). A finding
//! judged `wrong` that the precision work removed (`after_verdict` is
//! `gone`) must not come back. Findings still judged wrong after it are
//! the known open ones, listed in the data with `after_verdict` `wrong`.
//!
//! Needs the shared corpus: run with
//! `RULELINT_CORPUS=/work/shared/corpus cargo test --test judged_sample -- --include-ignored`.
//! When run, a missing corpus is a failure, not a skip.

mod common;
use common::corpus_root;

use rulelint::{Code, Diagnostic, Knowledge, LintOptions, SourceFile};
use std::collections::HashMap;
use std::path::Path;

/// One judged finding.
#[derive(Debug)]
struct Judged {
    source: String,
    path: String,
    pattern: String,
    field: String,
    value: String,
    /// The verdict when the sample was judged.
    verdict: String,
    /// The verdict after the precision work (`gone`: no longer reported).
    after: String,
    /// The field and value the rule and pattern report instead, when the
    /// finding changed form (optional columns; empty: the same finding).
    after_field: String,
    after_value: String,
}

fn read(name: &str) -> Vec<Judged> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/judged")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut lines = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let head: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |n: &str| head.iter().position(|h| *h == n);
    let need = |n: &str| col(n).unwrap_or_else(|| panic!("{name}: no `{n}` column"));
    let (p, pat, f, v, verdict) = (
        need("path"),
        need("pattern"),
        need("field"),
        need("value"),
        need("verdict"),
    );
    let after = need("after_verdict");
    let (af, av) = (col("after_field"), col("after_value"));
    lines
        .enumerate()
        .map(|(i, l)| {
            let cells: Vec<&str> = l.split('\t').collect();
            let get = |c: usize| cells.get(c).copied().unwrap_or("").to_string();
            Judged {
                source: format!("{name}:{}", i + 2),
                path: get(p),
                pattern: get(pat),
                field: get(f),
                value: get(v),
                verdict: get(verdict),
                after: get(after),
                after_field: af.map(get).unwrap_or_default(),
                after_value: av.map(get).unwrap_or_default(),
            }
        })
        .collect()
}

/// The field and value a finding's message names: "`field` matches
/// `value`: ...".
fn field_value(message: &str) -> (String, String) {
    let parts: Vec<&str> = message.split('`').collect();
    if parts.len() >= 4 && parts[2].starts_with(" matches ") {
        (parts[1].to_string(), parts[3].to_string())
    } else if parts.len() >= 2 {
        (parts[1].to_string(), String::new())
    } else {
        (String::new(), String::new())
    }
}

fn findings(k: &Knowledge, root: &Path, rel: &str) -> Vec<Diagnostic> {
    let file = root.join(rel);
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("judged rule {} cannot be read: {e}", file.display()));
    let opts = LintOptions::default();
    rulelint::lint_source(k, &opts, SourceFile::new(&file, text), rel, true)
        .diagnostics
        .into_iter()
        .filter(|d| d.code == Code::KnownFpPattern)
        .collect()
}

#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn findings_judged_wrong_do_not_come_back() {
    let root = corpus_root();
    assert!(
        root.join("sigma").is_dir()
            && root.join("elastic").is_dir()
            && root.join("splunk").is_dir(),
        "the corpus is missing at {} (set RULELINT_CORPUS)",
        root.display()
    );
    let k = Knowledge::builtin().expect("catalogue");
    let mut rows = read("rl201-before.tsv");
    rows.extend(read("rl201-fresh.tsv"));
    assert!(
        rows.len() >= 120,
        "two samples of at least 60 findings each"
    );
    let mut cache: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    let mut back = Vec::new();
    let mut wrong = 0;
    for j in &rows {
        assert!(
            ["useful", "weak", "wrong"].contains(&j.verdict.as_str())
                && ["useful", "weak", "wrong", "gone"].contains(&j.after.as_str()),
            "{}: unknown verdict `{}` / `{}`",
            j.source,
            j.verdict,
            j.after
        );
        if j.verdict != "wrong" || j.after != "gone" {
            continue;
        }
        wrong += 1;
        let now = cache.entry(j.path.clone()).or_insert_with(|| {
            let rel = &j.path;
            findings(&k, &root, rel)
                .iter()
                .map(|d| {
                    let (f, v) = field_value(&d.message);
                    (d.pattern.clone().unwrap_or_default(), f, v)
                })
                .collect()
        });
        if now
            .iter()
            .any(|(p, f, v)| *p == j.pattern && *f == j.field && *v == j.value)
        {
            back.push(format!(
                "{}: {} {} `{}` = `{}`",
                j.source, j.path, j.pattern, j.field, j.value
            ));
        }
    }
    assert!(
        wrong > 0,
        "the samples hold findings judged wrong and removed"
    );
    assert!(
        back.is_empty(),
        "{} findings judged wrong, and gone after the precision work, are reported again:\n  {}",
        back.len(),
        back.join("\n  ")
    );
}

/// The judged sample of the endpoint patterns: a finding judged wrong and
/// removed stays away, and every finding judged useful on the final build
/// is still reported.
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn new_pattern_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-new-patterns.tsv");
}

/// The same for the judged sample of the cloud patterns
/// (`knowledge/patterns/cloud.yml`).
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn cloud_pattern_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-cloud-patterns.tsv");
}

/// The same for the judged sample of the desktop patterns
/// (`knowledge/patterns/desktop.yml`).
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn desktop_pattern_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-desktop-patterns.tsv");
}

/// The same for the final stratified sample of the first catalogue's
/// patterns (drawn excluding the four earlier samples).
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn final_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-final.tsv");
}

/// The same for the sixth sample, drawn fresh after the fifth round
/// (excluding every earlier sample).
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn sixth_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-sixth.tsv");
}

/// The same for the seventh sample, drawn fresh after the sixth round.
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn seventh_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-seventh.tsv");
}

/// The same for the findings the aggregation model touches: findings on
/// rules that count, the counting-aware identity patterns, and the ES|QL
/// distinct-count findings it removed.
#[test]
#[ignore = "needs the shared corpus (RULELINT_CORPUS)"]
fn aggregation_sample_keeps_its_verdicts() {
    sample_keeps_its_verdicts("rl201-aggregation.tsv");
}

/// The eighth sample: security_content's detections outside `endpoint/`
/// (cloud, network, application, web), which the shared corpus does not
/// hold. Judged as drawn at 32 % useful and 29 % wrong; what the eighth
/// round changed is checked here (no 60 % bar: the weak findings stay
/// weak). Needs `RULELINT_EXTRA_CORPUS`, see `tests/data/judged/README.md`;
/// without it this test fails, so CI (which has only the shared corpus)
/// leaves it out by its `manual_` name.
#[test]
#[ignore = "manual: needs RULELINT_EXTRA_CORPUS (tests/data/judged/README.md)"]
fn manual_eighth_sample_keeps_its_verdicts() {
    check_sample("rl201-eighth.tsv", false);
}

/// The ninth sample: every finding no earlier sample had read, on the
/// shared corpora and on the rule files of `RULELINT_EXTRA_CORPUS`; drawn
/// fresh after the eighth round. Run by hand like the eighth.
#[test]
#[ignore = "manual: needs RULELINT_EXTRA_CORPUS (tests/data/judged/README.md)"]
fn manual_ninth_sample_keeps_its_verdicts() {
    check_sample("rl201-ninth.tsv", true);
}

/// Where a judged path's rule lives: the shared corpus for `sigma/`,
/// `elastic/` and `splunk/`, `RULELINT_EXTRA_CORPUS` for the rest.
fn root_for(path: &str) -> std::path::PathBuf {
    let first = path.split('/').next().unwrap_or("");
    if ["sigma", "elastic", "splunk"].contains(&first) {
        return corpus_root();
    }
    let extra = std::env::var_os("RULELINT_EXTRA_CORPUS").unwrap_or_else(|| {
        panic!("{path}: set RULELINT_EXTRA_CORPUS (tests/data/judged/README.md)")
    });
    let extra = std::path::PathBuf::from(extra);
    assert!(
        extra.join(first).is_dir(),
        "{path}: {} has no `{first}` folder",
        extra.display()
    );
    extra
}

fn sample_keeps_its_verdicts(name: &str) {
    check_sample(name, true);
}

/// A judged-wrong finding that is gone stays gone, a judged-useful one is
/// still reported; with `bar`, the findings still reported are at least
/// 60 % useful, and in any case at most 10 % wrong.
fn check_sample(name: &str, bar: bool) {
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
    assert!(rows.len() >= 40, "{name}: at least 40 judged findings");
    let mut problems = Vec::new();
    let mut cache: HashMap<String, Vec<(String, String, String)>> = HashMap::new();
    for j in &rows {
        let now = cache.entry(j.path.clone()).or_insert_with(|| {
            findings(&k, &root_for(&j.path), &j.path)
                .iter()
                .map(|d| {
                    let (f, v) = field_value(&d.message);
                    (d.pattern.clone().unwrap_or_default(), f, v)
                })
                .collect()
        });
        // A finding that changed form (`after_field`, `after_value`) is
        // looked for as it is now.
        let (field, value) = if j.after_field.is_empty() {
            (&j.field, &j.value)
        } else {
            (&j.after_field, &j.after_value)
        };
        let reported = now
            .iter()
            .any(|(p, f, v)| *p == j.pattern && f == field && v == value);
        match j.after.as_str() {
            "gone" if reported => {
                problems.push(format!("{}: judged gone, reported again", j.source))
            }
            "useful" if !reported => {
                problems.push(format!("{}: judged useful, no longer reported", j.source))
            }
            "gone" | "useful" | "weak" | "wrong" => {}
            other => problems.push(format!("{}: unknown verdict `{other}`", j.source)),
        }
    }
    let kept: Vec<&Judged> = rows.iter().filter(|j| j.after != "gone").collect();
    let useful = kept.iter().filter(|j| j.after == "useful").count();
    let wrong = kept.iter().filter(|j| j.after == "wrong").count();
    assert!(
        !bar || useful * 10 >= kept.len() * 6,
        "{useful} of {} useful",
        kept.len()
    );
    assert!(wrong * 10 <= kept.len(), "{wrong} of {} wrong", kept.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
