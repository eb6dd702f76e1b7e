//! Sweep over the Elastic detection-rules corpus: every `.toml` parses
//! without panicking, and KQL/Lucene queries parse without errors.
//!
//! Corpus root: `$RULELINT_CORPUS`, else `<CARGO_MANIFEST_DIR>/../shared/corpus`.
//! The corpus tests are `#[ignore]`d: run with `--include-ignored`; they fail without it.
//! Run with `--nocapture` to see the per-language numbers.

mod common;

use rulelint::diagnostic::Severity;
use rulelint::format::elastic;
use rulelint::rule::{Language, Logic};
use rulelint::source::SourceFile;
use std::collections::BTreeMap;

#[derive(Default)]
struct Stats {
    queries: usize,
    clean: usize,
    errors: usize,
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn elastic_corpus_parses() {
    let root = common::corpus_dir("elastic");
    let files = common::toml_files(&root);
    assert!(!files.is_empty(), "no .toml files under {}", root.display());

    let mut stats: BTreeMap<&'static str, Stats> = BTreeMap::new();
    let mut panics = Vec::new();
    let mut failures = Vec::new();
    let mut no_logic = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let file = SourceFile::new(path.clone(), text);
        let res = std::panic::catch_unwind(|| elastic::parse(&file));
        let parsed = match res {
            Ok(p) => p,
            Err(_) => {
                panics.push(path.display().to_string());
                continue;
            }
        };
        assert!(
            elastic::looks_like_rule(&file.text),
            "{} not sniffed as an Elastic rule",
            path.display()
        );
        let errors: Vec<_> = parsed
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        let Some(rule) = parsed.rules.first() else {
            failures.push(format!("{}: no rule: {:?}", path.display(), errors));
            continue;
        };
        let Some(logic) = &rule.logic else {
            no_logic += 1;
            if !errors.is_empty() {
                failures.push(format!("{}: {:?}", path.display(), errors));
            }
            continue;
        };
        let st = stats.entry(rule.language.as_str()).or_default();
        st.queries += 1;
        if !errors.is_empty() {
            st.errors += 1;
        } else if !logic.has_opaque() {
            st.clean += 1;
        }
        let strict = matches!(rule.language, Language::Kql | Language::Lucene);
        if strict {
            for e in &errors {
                let lc = file.line_col(e.span.start);
                failures.push(format!(
                    "{}:{}:{}: {} {}",
                    path.display(),
                    lc.line,
                    lc.column,
                    e.code,
                    e.message
                ));
            }
            if errors.is_empty() && logic.has_opaque() {
                let mut reasons = Vec::new();
                logic.visit(&mut |n| {
                    if let Logic::Opaque(o) = n {
                        reasons.push(format!("{} ({:?})", o.reason, o.text));
                    }
                });
                eprintln!("opaque: {}: {}", path.display(), reasons.join("; "));
            }
        }
    }
    println!(
        "elastic corpus: {} files, {} without detection logic (machine_learning)",
        files.len(),
        no_logic
    );
    for (lang, st) in &stats {
        println!(
            "  {lang:7} queries {:5}  parsed with no Opaque {:5} ({:.1}%)  errors {:4}",
            st.queries,
            st.clean,
            100.0 * st.clean as f64 / st.queries.max(1) as f64,
            st.errors
        );
    }
    assert!(panics.is_empty(), "panicked on: {panics:#?}");
    assert!(failures.is_empty(), "errors:\n{}", failures.join("\n"));
    if let Some(kql) = stats.get("kql") {
        assert!(
            kql.clean * 100 >= kql.queries * 99,
            "KQL parsed cleanly {} of {}",
            kql.clean,
            kql.queries
        );
    }
}
