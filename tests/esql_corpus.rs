//! Corpus sweep: every Elastic rule whose language is ES|QL must parse
//! without a panic and without a syntax error; the report says how many
//! parse with no opaque part.
//!
//! Corpus root: `$RULELINT_CORPUS`, else `<crate>/../shared/corpus`; the
//! test is skipped (with a message) when it is absent.
//!
//! Run: `RULELINT_CORPUS=/work/shared/corpus cargo test --test esql_corpus -- --nocapture`

mod common;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use rulelint::diagnostic::Severity;
use rulelint::rule::{
    Anchors, DetectionRule, Format, Language, Logic, Op, PipeCommand, Quoting, RuleMeta, Schema,
};
use rulelint::source::{SourceFile, Span};
use rulelint::suggest::{Exclusion, ExclusionField, ExclusionValue};

/// The ES|QL queries of the corpus, as `(path, query)`.
pub fn esql_queries(root: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for f in common::toml_files(root) {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        if let Some(q) = common::rule_query(&text, "esql") {
            out.push((f, q));
        }
    }
    out
}

/// Is this opaque node the placeholder of a delegated parser (the text of
/// a `KQL("…")` / `QSTR("…")` argument)?
fn delegated(query: &str, start: usize) -> bool {
    let before = query.get(..start).unwrap_or("").trim_end_matches('"');
    let before = before.trim_end();
    let before = before.strip_suffix('(').unwrap_or("").trim_end();
    let upper = before.to_ascii_uppercase();
    upper.ends_with("KQL") || upper.ends_with("QSTR")
}

#[test]
fn esql_corpus_parses() {
    let Some(root) = common::corpus_dir("elastic", "ES|QL corpus sweep") else {
        return;
    };
    let queries = esql_queries(&root);
    assert!(
        !queries.is_empty(),
        "no ES|QL rules found under {}",
        root.display()
    );

    let mut panics = Vec::new();
    let mut errors = Vec::new();
    let mut clean = 0usize;
    let mut clean_but_delegated = 0usize;
    let mut reasons: BTreeMap<String, (usize, String)> = BTreeMap::new();
    let mut with_stats = 0usize;
    for (path, q) in &queries {
        let rel = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .display()
            .to_string();
        let res = catch_unwind(AssertUnwindSafe(|| rulelint::query::esql::parse(q)));
        let Ok(parsed) = res else {
            panics.push(rel);
            continue;
        };
        if let Some(e) = parsed.issues.iter().find(|i| i.severity == Severity::Error) {
            let line = q.get(..e.span.start).unwrap_or("").matches('\n').count() + 1;
            let excerpt: String = q
                .get(e.span.start..)
                .unwrap_or("")
                .chars()
                .take(40)
                .collect();
            errors.push(format!("{rel}:{line}: {} [{excerpt:?}]", e.message));
            continue;
        }
        if parsed.anchors.first_aggregation.is_some() {
            with_stats += 1;
        }
        let mut own = Vec::new();
        let mut any = false;
        parsed.logic.visit(&mut |n| {
            if let Logic::Opaque(o) = n {
                any = true;
                if !delegated(q, o.span.start) {
                    let text: String = o.text.split_whitespace().collect::<Vec<_>>().join(" ");
                    let text: String = text.chars().take(90).collect();
                    own.push((o.reason.clone(), text));
                }
            }
        });
        if !any {
            clean += 1;
        }
        if own.is_empty() {
            clean_but_delegated += 1;
        }
        for (r, text) in own {
            let e = reasons.entry(r).or_insert((0, text));
            e.0 += 1;
        }
    }
    let n = queries.len();
    let pct = |k: usize| 100.0 * k as f64 / n as f64;
    println!("ES|QL corpus: {n} queries");
    println!("  panics: {}", panics.len());
    println!("  syntax errors: {}", errors.len());
    println!("  no Opaque node at all: {clean} ({:.1} %)", pct(clean));
    println!(
        "  no Opaque node except delegated KQL()/QSTR() text: {clean_but_delegated} ({:.1} %)",
        pct(clean_but_delegated)
    );
    println!("  with a STATS anchor: {with_stats}");
    for (r, (k, example)) in &reasons {
        println!("  opaque: {k:4} × {r}, e.g. `{example}`");
    }
    for e in errors.iter().take(20) {
        println!("  error: {e}");
    }
    assert!(panics.is_empty(), "panics on: {panics:?}");
    assert!(
        errors.is_empty(),
        "{} queries did not parse: {:#?}",
        errors.len(),
        &errors[..errors.len().min(20)]
    );
    assert!(
        pct(clean_but_delegated) >= 95.0,
        "only {clean_but_delegated}/{n} queries parse with no opaque part"
    );
}

#[derive(serde::Deserialize)]
struct Doc {
    rule: RuleTable,
}

#[derive(serde::Deserialize)]
struct RuleTable {
    language: Option<String>,
    query: Option<toml::Spanned<String>>,
}

/// Suggest an exclusion for every ES|QL rule of the corpus, apply it to
/// the file, and check the edited query still parses and holds the
/// exclusion under a `NOT`.
#[test]
fn esql_corpus_exclusions_reparse() {
    let Some(root) = common::corpus_dir("elastic", "ES|QL exclusion round trip") else {
        return;
    };
    let files = common::toml_files(&root);
    let excl = Exclusion {
        name: "filter_test".into(),
        fields: vec![
            ExclusionField {
                field: "process.name".into(),
                op: Op::Eq,
                values: vec![ExclusionValue {
                    text: r#"rulelint "test".exe"#.into(),
                    numeric: false,
                    origin: rulelint::suggest::ValueOrigin::Catalogue,
                }],
            },
            ExclusionField {
                field: "destination.port".into(),
                op: Op::Eq,
                values: vec![
                    ExclusionValue {
                        text: "80".into(),
                        numeric: true,
                        origin: rulelint::suggest::ValueOrigin::Catalogue,
                    },
                    ExclusionValue {
                        text: "443".into(),
                        numeric: true,
                        origin: rulelint::suggest::ValueOrigin::Catalogue,
                    },
                ],
            },
        ],
    };
    let (mut done, mut before_stats, mut skipped, mut at_anchor) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(doc) = toml::from_str::<Doc>(&text) else {
            continue;
        };
        if doc.rule.language.as_deref() != Some("esql") {
            continue;
        }
        let Some(q) = doc.rule.query else { continue };
        let whole = q.span();
        // identity mapping only for literal strings
        let raw = &text[whole.clone()];
        if !raw.starts_with("'''") {
            skipped += 1;
            continue;
        }
        let mut start = whole.start + 3;
        if text[start..].starts_with('\n') {
            start += 1;
        }
        let content = Span::new(start, whole.end - 3);
        assert_eq!(&text[content.start..content.end], q.get_ref().as_str());
        let parsed = rulelint::query::esql::parse(q.get_ref());
        let anchors = Anchors {
            query: Some(content),
            query_quoting: Some(Quoting::TomlMultiLiteral),
            first_aggregation: parsed.anchors.first_aggregation.map(|a| a + content.start),
            commands: parsed
                .anchors
                .commands
                .iter()
                .map(|c| PipeCommand {
                    pipe: c.pipe + content.start,
                    writes: c.writes.clone(),
                })
                .collect(),
            ..Anchors::default()
        };
        if anchors.first_aggregation.is_some() {
            before_stats += 1;
        }
        let rule = DetectionRule {
            format: Format::Elastic,
            language: Language::Esql,
            schema: Schema::Ecs,
            meta: RuleMeta::default(),
            logic: Some(parsed.logic),
            anchors,
            span: Span::new(0, text.len()),
        };
        let file = SourceFile::new(&f, text.clone());
        let sugg = rulelint::suggest::render(&rule, &file, &excl, &[]).expect("a suggestion");
        assert_eq!(sugg.fix.edits.len(), 1);
        let mut edited = text.clone();
        let e = &sugg.fix.edits[0];
        if Some(e.offset) == rule.anchors.first_aggregation {
            at_anchor += 1;
        }
        edited.replace_range(e.offset..e.offset + e.length, &e.replacement);
        let new_doc: Doc = toml::from_str(&edited).expect("edited file is TOML");
        let new_q = new_doc.rule.query.expect("query").into_inner();
        let p = rulelint::query::esql::parse(&new_q);
        let mut found = Vec::new();
        p.logic.visit_cmps(&mut |c, neg| {
            let ours = c.field.raw == "process.name" || c.field.raw == "destination.port";
            if neg && ours && !c.field.derived {
                found.push(c.values.iter().map(|v| v.text.clone()).collect::<Vec<_>>());
            }
        });
        let want = [
            vec![r#"rulelint "test".exe"#.to_string()],
            vec!["80".to_string(), "443".to_string()],
        ];
        if p.has_errors() || !want.iter().all(|w| found.contains(w)) {
            failures.push(f.display().to_string());
        }
        done += 1;
    }
    println!(
        "ES|QL exclusion round trip: {done} rules edited, {before_stats} with a STATS ({at_anchor} edited right before it), {skipped} skipped, {} failures",
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(done > 0);
}
