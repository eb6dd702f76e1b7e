//! End-to-end over the real rule corpora in `../shared/corpus` (or
//! `$RULELINT_CORPUS`): every file is linted without a panic, every
//! current rule parses without an error, and the numbers are printed.
//! Ignored by default; run with `--include-ignored` (fails without the
//! corpus).

mod common;

use rulelint::diagnostic::Severity;
use rulelint::lint::{lint_path, FileStatus, LintOptions};
use rulelint::Knowledge;
use std::collections::BTreeMap;
use std::path::Path;

struct Tally {
    files: usize,
    rules: usize,
    skipped: usize,
    failed: Vec<String>,
    findings: BTreeMap<String, usize>,
    infos: BTreeMap<&'static str, usize>,
}

fn run(sub: &str, ext: &str, tolerate_errors: impl Fn(&Path) -> bool) -> Tally {
    let root = common::corpus_root();
    let paths = common::files_with_ext(&common::corpus_dir(sub), &[ext]);
    assert!(
        !paths.is_empty(),
        "no {ext} files under {}",
        root.join(sub).display()
    );
    let k = Knowledge::builtin().expect("catalogue");
    let opts = LintOptions::default();
    let mut t = Tally {
        files: 0,
        rules: 0,
        skipped: 0,
        failed: Vec::new(),
        findings: BTreeMap::new(),
        infos: BTreeMap::new(),
    };
    for p in &paths {
        let display = p.strip_prefix(&root).unwrap_or(p).display().to_string();
        let r = std::panic::catch_unwind(|| lint_path(&k, &opts, p, &display, false))
            .unwrap_or_else(|_| panic!("panic while linting {display}"));
        t.files += 1;
        match r.status {
            FileStatus::Checked(n) => t.rules += n,
            FileStatus::Skipped => t.skipped += 1,
            FileStatus::Failed => {
                if !tolerate_errors(p) {
                    let first = r
                        .diagnostics
                        .iter()
                        .find(|d| d.severity == Severity::Error)
                        .map(|d| {
                            format!(
                                "{}:{}:{} {} {}",
                                d.file, d.position.line, d.position.column, d.code, d.message
                            )
                        })
                        .unwrap_or_default();
                    t.failed.push(first);
                }
            }
        }
        for d in &r.diagnostics {
            if let Some(pat) = &d.pattern {
                *t.findings.entry(pat.clone()).or_default() += 1;
            } else if d.severity < Severity::Error {
                *t.infos.entry(d.code.as_str()).or_default() += 1;
            }
        }
    }
    eprintln!(
        "{sub}: {} files, {} rules, {} not rules, {} failed; findings per pattern: {:?}; notes: {:?}",
        t.files, t.rules, t.skipped, t.failed.len(), t.findings, t.infos
    );
    t
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn sigma_corpus() {
    let t = run("sigma", "yml", |p| {
        p.components().any(|c| c.as_os_str() == "unsupported")
    });
    assert!(
        t.failed.is_empty(),
        "{} sigma files failed:\n{}",
        t.failed.len(),
        t.failed.join("\n")
    );
    assert_eq!(t.skipped, 0, "every sigma corpus file is a rule");
    assert!(t.rules >= 4000, "only {} rules", t.rules);
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn elastic_corpus() {
    let t = run("elastic", "toml", |_| false);
    assert!(
        t.failed.is_empty(),
        "{} elastic files failed:\n{}",
        t.failed.len(),
        t.failed.join("\n")
    );
    assert!(t.rules >= 2000, "only {} rules", t.rules);
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn splunk_corpus() {
    let t = run("splunk", "yml", |_| false);
    assert!(
        t.failed.is_empty(),
        "{} splunk files failed:\n{}",
        t.failed.len(),
        t.failed.join("\n")
    );
    assert!(t.rules >= 1100, "only {} rules", t.rules);
}
