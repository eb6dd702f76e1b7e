//! RL301 `placeholder-value` against the fixtures in
//! `tests/fixtures/placeholder_value/{sigma,elastic,splunk}/`:
//! `flagged_*` files hold a placeholder that `--fix-placeholders` writes (or
//! one typed into the query) and give exactly one RL301 error on its value;
//! `clean_*` files are the same rules with real values and give none. Every
//! file parses without errors.

mod common;

use common::{repo, rulelint};
use rulelint::{Code, Knowledge, LintOptions, Severity, SourceFile};
use std::path::Path;

#[test]
fn fixtures_in_every_format() {
    let k = Knowledge::builtin().expect("catalogue");
    let opts = LintOptions::default();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/placeholder_value");
    let mut failures = Vec::new();
    let mut seen = 0;
    for format in ["sigma", "elastic", "splunk"] {
        let mut flagged = 0;
        let mut clean = 0;
        let mut entries: Vec<_> = std::fs::read_dir(root.join(format))
            .expect("fixture folder")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).unwrap();
            let r =
                rulelint::lint_source(&k, &opts, SourceFile::new(&path, text.clone()), &name, true);
            if r.diagnostics.iter().any(|d| d.is_fatal()) {
                failures.push(format!("{name}: does not parse: {:?}", r.diagnostics));
                continue;
            }
            let found: Vec<_> = r
                .diagnostics
                .iter()
                .filter(|d| d.code == Code::PlaceholderValue)
                .collect();
            if name.starts_with("flagged_") {
                flagged += 1;
                match found.as_slice() {
                    [d] => {
                        let quoted = &text[d.span.start..d.span.end];
                        if d.severity != Severity::Error || !quoted.contains("<your ") {
                            failures.push(format!(
                                "{name}: finding on {quoted:?} with severity {}",
                                d.severity
                            ));
                        }
                    }
                    _ => failures.push(format!("{name}: want one RL301, got {found:?}")),
                }
            } else if name.starts_with("clean_") {
                clean += 1;
                if !found.is_empty() {
                    failures.push(format!("{name}: want no RL301, got {found:?}"));
                }
            } else {
                failures.push(format!("{name}: neither flagged_ nor clean_"));
            }
            seen += 1;
        }
        if flagged == 0 || clean == 0 {
            failures.push(format!("{format}: needs flagged_ and clean_ fixtures"));
        }
    }
    assert!(seen >= 6);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn ci_cannot_pass_with_placeholders_written_by_fix() {
    let scanner = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/known_fp_pattern/sigma/flagged_security_scanner.yml"),
    )
    .unwrap();
    let d = repo(&[("scanner.yml", &scanner)]);
    let fix = rulelint(d.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--fix-placeholders",
            "scanner.yml",
        ])
        .output()
        .unwrap();
    let written = std::fs::read_to_string(d.path().join("scanner.yml")).unwrap();
    assert!(
        written.contains("'<your security team users>'"),
        "{written}\n{fix:?}"
    );
    let out = rulelint(d.path())
        .env("NO_COLOR", "1")
        .args(["check", "--isolated", "--fail-on", "error", "scanner.yml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("error[RL301] placeholder-value:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`User` is compared with the placeholder `<your security team users>`"),
        "{stdout}"
    );
}
