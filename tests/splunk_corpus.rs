//! Corpus sweep: every Splunk security_content detection under the shared
//! corpus parses without panic and without errors, and its search is
//! modelled with no opaque part other than macros.
//!
//! Corpus root: `$RULELINT_CORPUS`, else `<manifest>/../shared/corpus`.
//! Skipped (with a message) when absent.

mod common;

use rulelint::diagnostic::Severity;
use rulelint::format::splunk;
use rulelint::query::spl;
use rulelint::rule::Logic;
use rulelint::rule::Op;
use rulelint::source::SourceFile;
use rulelint::suggest::{self, Exclusion, ExclusionField, ExclusionValue};

fn opaque_reasons(l: &Logic) -> Vec<String> {
    let mut v = Vec::new();
    l.visit(&mut |n| {
        if let Logic::Opaque(o) = n {
            if o.reason != "macro" {
                v.push(format!(
                    "{}: {}",
                    o.reason,
                    o.text.chars().take(80).collect::<String>()
                ));
            }
        }
    });
    v
}

#[test]
fn splunk_corpus_parses() {
    let Some(dir) = common::corpus_dir("splunk", "Splunk corpus test") else {
        return;
    };
    let files = common::yml_files(&dir);
    let (mut searches, mut modelled, mut sniffed, mut with_filter, mut inexact) = (0, 0, 0, 0, 0);
    let mut errors = Vec::new();
    let mut panics = Vec::new();
    let mut not_modelled = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if splunk::looks_like_rule(&text) {
            sniffed += 1;
        }
        let file = SourceFile::new(path.clone(), text);
        let parsed = match std::panic::catch_unwind(|| splunk::parse(&file)) {
            Ok(p) => p,
            Err(_) => {
                panics.push(path.display().to_string());
                continue;
            }
        };
        for i in &parsed.issues {
            if i.severity == rulelint::diagnostic::Severity::Error {
                let lc = file.line_col(i.span.start);
                errors.push(format!(
                    "{}:{}:{}: {} {}",
                    path.display(),
                    lc.line,
                    lc.column,
                    i.code,
                    i.message
                ));
            }
        }
        for r in &parsed.rules {
            let Some(l) = &r.logic else { continue };
            searches += 1;
            if spl::fully_modelled(l) {
                modelled += 1;
            } else {
                not_modelled.push(format!("{}: {:?}", path.display(), opaque_reasons(l)));
            }
            if r.anchors.filter_macro.is_some() {
                with_filter += 1;
            }
            if let Some(q) = r.anchors.query {
                if let Some(d) = splunk::search_scalar(&file, q) {
                    if !d.exact {
                        inexact += 1;
                    }
                }
            }
        }
    }
    let pct = if searches == 0 {
        0.0
    } else {
        100.0 * modelled as f64 / searches as f64
    };
    println!("files: {}", files.len());
    println!("sniffed as Splunk detections: {sniffed}");
    println!("searches: {searches}");
    println!("fully modelled (no opaque part but macros): {modelled} ({pct:.1} %)");
    println!("with a filter macro: {with_filter}");
    println!("searches decoded only approximately: {inexact}");
    println!("errors: {}", errors.len());
    for e in errors.iter().take(20) {
        println!("  {e}");
    }
    println!("not fully modelled: {}", not_modelled.len());
    for n in not_modelled.iter().take(80) {
        println!("  {n}");
    }
    assert!(panics.is_empty(), "panics: {panics:?}");
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert!(pct >= 95.0, "only {pct:.1} % fully modelled");
}

/// A compact rendering of the IR, for the dump below.
fn show(l: &Logic) -> String {
    use rulelint::rule::Op;
    match l {
        Logic::And(c) => format!("and({})", c.iter().map(show).collect::<Vec<_>>().join(", ")),
        Logic::Or(c) => format!("or({})", c.iter().map(show).collect::<Vec<_>>().join(", ")),
        Logic::Not(x) => format!("not({})", show(x)),
        Logic::Keyword(k) => format!(
            "kw[{}]",
            k.values
                .iter()
                .map(|v| v.text.clone())
                .collect::<Vec<_>>()
                .join("|")
        ),
        Logic::Opaque(o) if o.reason == "macro" => format!("macro({})", o.text),
        Logic::Opaque(o) => format!("opaque({})", o.reason),
        Logic::Shared(x) => show(x),
        Logic::Cmp(c) => {
            let op = match c.op {
                Op::Eq => "=",
                Op::Contains => " contains ",
                Op::StartsWith => " startswith ",
                Op::EndsWith => " endswith ",
                Op::Wildcard => " glob ",
                Op::Regex => " re ",
                Op::Cidr => " cidr ",
                Op::Exists => " exists",
                Op::FieldRef => " =field ",
                Op::Gt => ">",
                Op::Gte => ">=",
                Op::Lt => "<",
                Op::Lte => "<=",
                Op::Range { .. } => " range ",
            };
            let vals = if c.op == Op::Exists {
                String::new()
            } else {
                format!(
                    "[{}]",
                    c.values
                        .iter()
                        .map(|v| if v.is_null() {
                            "null".to_string()
                        } else {
                            v.text.clone()
                        })
                        .collect::<Vec<_>>()
                        .join("|")
                )
            };
            let d = if c.field.derived { "~" } else { "" };
            let m = if c.modifiers.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", c.modifiers.join(","))
            };
            format!("{d}{}{m}{op}{vals}", c.field.raw)
        }
    }
}

/// `cargo test --test splunk_corpus -- --ignored --nocapture` prints the IR
/// and anchors of every corpus search (for eyeballing the parser).
#[test]
#[ignore]
fn splunk_corpus_dump() {
    let files = common::yml_files(&common::corpus_root().join("splunk"));
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let file = SourceFile::new(path.clone(), text);
        let parsed = splunk::parse(&file);
        for r in &parsed.rules {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            println!("{name}");
            if let Some(l) = &r.logic {
                println!("  {}", show(l));
            }
            println!(
                "  dm={:?} filter={:?} agg={:?} data={:?} level={:?}",
                r.anchors.datamodel,
                r.anchors.filter_macro.as_ref().map(|f| &f.0),
                r.anchors.first_aggregation,
                r.meta.data,
                r.meta.level.as_ref().map(|l| &l.value)
            );
            for i in &parsed.issues {
                println!("  {} {}", i.code, i.message);
            }
        }
    }
}

/// For every corpus search: exclude a value of the first field the search
/// matches on, apply the suggested edit, re-parse: the edited file has no
/// error and its logic holds the exclusion under a Not.
#[test]
fn splunk_corpus_exclusions_roundtrip() {
    let Some(dir) = common::corpus_dir("splunk", "Splunk corpus test") else {
        return;
    };
    let files = common::yml_files(&dir);
    let (mut tried, mut with_edits, mut verified) = (0, 0, 0);
    let mut no_edits = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let file = SourceFile::new(path.clone(), text.clone());
        let parsed = splunk::parse(&file);
        let Some(rule) = parsed.rules.first() else {
            continue;
        };
        let Some(logic) = &rule.logic else { continue };
        let mut field = None;
        logic.visit_cmps(&mut |c, neg| {
            if field.is_none() && !neg && !c.field.derived && c.op != Op::FieldRef {
                field = Some(c.field.raw.clone());
            }
        });
        let Some(field) = field else { continue };
        let excl = Exclusion {
            name: "filter_roundtrip".into(),
            fields: vec![ExclusionField {
                field: field.clone(),
                op: Op::Eq,
                values: vec![ExclusionValue {
                    text: "rulelint's test.exe".into(),
                    numeric: false,
                    origin: rulelint::suggest::ValueOrigin::Catalogue,
                }],
            }],
        };
        tried += 1;
        let Some(sugg) = suggest::render(rule, &file, &excl, &[]) else {
            failures.push(format!("{}: no suggestion for {field}", path.display()));
            continue;
        };
        if sugg.fix.edits.is_empty() {
            no_edits.push(format!("{}: {field}", path.display()));
            continue;
        }
        with_edits += 1;
        let mut edited = text.clone();
        let mut edits = sugg.fix.edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.offset));
        for e in edits {
            edited.replace_range(e.offset..e.offset + e.length, &e.replacement);
        }
        let again = splunk::parse(&SourceFile::new(path.clone(), edited.clone()));
        let errs: Vec<_> = again
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        if !errs.is_empty() {
            failures.push(format!(
                "{}: edited file has errors: {:?}",
                path.display(),
                errs[0].message
            ));
            continue;
        }
        let mut found = false;
        if let Some(l) = again.rules.first().and_then(|r| r.logic.as_ref()) {
            l.visit_cmps(&mut |c, neg| {
                found |= neg && c.values.iter().any(|v| v.text == "rulelint's test.exe");
            });
        }
        if found {
            verified += 1;
        } else {
            failures.push(format!(
                "{}: exclusion not found after the edit ({field})",
                path.display()
            ));
        }
    }
    println!(
        "exclusions tried: {tried}, with edits: {with_edits}, verified after re-parse: {verified}"
    );
    for f in failures.iter().take(20) {
        println!("  {f}");
    }
    println!(
        "text only (no place where every field is visible): {}",
        no_edits.len()
    );
    for f in no_edits.iter().take(20) {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} failures", failures.len());
}
