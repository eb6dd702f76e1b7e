//! Parses every Sigma rule of the shared corpus: no panic anywhere, and no
//! error issue for files outside `unsupported/`.
//!
//! The corpus lives outside the repository: `RULELINT_CORPUS` (the folder
//! holding `sigma/`) or `<manifest>/../shared/corpus`. The corpus tests are
//! `#[ignore]`d: run with `--include-ignored`; they fail without it.

mod common;

use common::Prng;
use rulelint::diagnostic::Severity;
use rulelint::format::sigma;
use rulelint::rule::Logic;
use rulelint::source::SourceFile;
use std::panic::{catch_unwind, AssertUnwindSafe};

fn count_opaque(l: &Logic) -> usize {
    let mut n = 0;
    l.visit(&mut |x| n += usize::from(matches!(x, Logic::Opaque(_))));
    n
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn sigma_corpus_parses() {
    let root = common::corpus_dir("sigma");
    let files = common::yml_files(&root);
    assert!(!files.is_empty(), "no .yml files under {}", root.display());

    let (mut rules, mut opaque, mut error_files, mut unsupported_errors) = (0, 0, 0, 0);
    let mut panics = Vec::new();
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let file = SourceFile::new(path.clone(), text);
        let parsed = match catch_unwind(AssertUnwindSafe(|| sigma::parse(&file))) {
            Ok(p) => p,
            Err(_) => {
                panics.push(path.display().to_string());
                continue;
            }
        };
        rules += parsed.rules.len();
        opaque += parsed
            .rules
            .iter()
            .filter_map(|r| r.logic.as_ref())
            .map(count_opaque)
            .sum::<usize>();
        if std::env::var_os("RULELINT_CORPUS_VERBOSE").is_some() {
            for i in &parsed.issues {
                let lc = file.line_col(i.span.start);
                println!(
                    "{}:{}:{}: {} {} {:?} `{}`",
                    path.display(),
                    lc.line,
                    lc.column,
                    i.code,
                    i.message,
                    i.help,
                    file.slice(i.span)
                );
            }
        }
        let errors: Vec<_> = parsed
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        if errors.is_empty() {
            continue;
        }
        error_files += 1;
        let rel = path.strip_prefix(&root).unwrap_or(path);
        if rel.starts_with("unsupported") {
            unsupported_errors += 1;
            continue;
        }
        for e in errors {
            let lc = file.line_col(e.span.start);
            failures.push(format!(
                "{}:{}:{}: {} {}",
                rel.display(),
                lc.line,
                lc.column,
                e.code,
                e.message
            ));
        }
    }
    println!(
        "sigma corpus: {} files, {} rules, {} files with errors ({} in unsupported/), {} opaque parts, {} panics",
        files.len(),
        rules,
        error_files,
        unsupported_errors,
        opaque,
        panics.len()
    );
    assert!(panics.is_empty(), "parser panicked on: {panics:#?}");
    assert!(
        failures.is_empty(),
        "{} errors outside unsupported/:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn sigma_corpus_is_sniffed() {
    let root = common::corpus_dir("sigma");
    let files = common::yml_files(&root);
    let mut missed = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        if !sigma::looks_like_rule(&text) {
            missed.push(path.display().to_string());
        }
    }
    println!(
        "sniffed {} of {} files",
        files.len() - missed.len(),
        files.len()
    );
    assert!(
        missed.len() * 100 <= files.len(),
        "not sniffed: {missed:#?}"
    );
}

/// Render an exclusion for every corpus rule, apply its edits and parse the
/// result again: no new error, and the exclusion is there under `Not`.
#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn sigma_corpus_exclusions_round_trip() {
    use rulelint::rule::Op;
    use rulelint::suggest::{Exclusion, ExclusionField, ExclusionValue};
    let root = common::corpus_dir("sigma");
    let excl = Exclusion {
        name: "rulelint_probe".into(),
        fields: vec![
            ExclusionField {
                field: "SourcePort".into(),
                op: Op::Eq,
                values: ["80", "443"]
                    .iter()
                    .map(|t| ExclusionValue {
                        text: t.to_string(),
                        numeric: true,
                        origin: rulelint::suggest::ValueOrigin::Catalogue,
                    })
                    .collect(),
            },
            ExclusionField {
                field: "ParentImage".into(),
                op: Op::EndsWith,
                values: vec![ExclusionValue {
                    text: "\\jenkins's*.exe".into(),
                    numeric: false,
                    origin: rulelint::suggest::ValueOrigin::Catalogue,
                }],
            },
        ],
    };
    let files = common::yml_files(&root);
    let (mut rendered, mut applied, mut text_only, mut none) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let file = SourceFile::new(path.clone(), text.clone());
        let parsed = sigma::parse(&file);
        if parsed.issues.iter().any(|i| i.severity == Severity::Error) || parsed.rules.len() != 1 {
            continue;
        }
        let rule = &parsed.rules[0];
        let Some(s) = rulelint::suggest::render(rule, &file, &excl, &[]) else {
            none += 1;
            continue;
        };
        rendered += 1;
        if s.fix.edits.is_empty() {
            text_only += 1;
            continue;
        }
        let mut edits = s.fix.edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.offset));
        let mut fixed = text.clone();
        for e in &edits {
            fixed.replace_range(e.offset..e.offset + e.length, &e.replacement);
        }
        let f2 = SourceFile::new(path.clone(), fixed.clone());
        let p2 = sigma::parse(&f2);
        let errs: Vec<_> = p2
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        let ok = errs.is_empty()
            && p2.rules.len() == 1
            && p2.rules[0].logic.as_ref().is_some_and(|l| {
                let (mut port, mut parent) = (false, false);
                l.visit_cmps(&mut |c, neg| {
                    let vals: Vec<&str> = c.values.iter().map(|v| v.text.as_str()).collect();
                    port |= neg && c.field.raw == "SourcePort" && vals == ["80", "443"];
                    parent |= neg
                        && c.field.raw == "ParentImage"
                        && c.op == Op::EndsWith
                        && vals == ["\\jenkins's*.exe"];
                });
                port && parent
            });
        if ok {
            applied += 1;
        } else {
            failures.push(format!("{}: {:?}", path.display(), errs));
        }
    }
    println!(
        "exclusions: {rendered} rendered ({applied} applied and re-parsed, {text_only} text only), {none} not rendered"
    );
    assert!(
        failures.is_empty(),
        "{} round-trip failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Damaged copies of corpus rules (truncated, lines dropped, characters
/// swapped) never make the parser or the renderer panic, and every issue
/// span lies on character boundaries inside the text.
#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn sigma_corpus_damaged_files_never_panic() {
    let root = common::corpus_dir("sigma");
    let files = common::yml_files(&root);
    let mut rng = common::Xorshift(0x9e37_79b9_7f4a_7c15);
    let mut next = move |n: usize| rng.below(n);
    let specials = [
        ":", "'", "\"", "|", "-", "[", "{", "*", "&", "!", "#", "\t", "(", ")", "\\",
    ];
    let mut panics = Vec::new();
    let mut variants = 0usize;
    for path in files.iter().step_by(7) {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for k in 0..6 {
            let mut t = text.clone();
            match k % 3 {
                0 => {
                    let mut cut = next(t.len());
                    while !t.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    t.truncate(cut);
                }
                1 => {
                    let lines: Vec<&str> = t.lines().collect();
                    let drop = next(lines.len());
                    t = lines
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != drop)
                        .map(|(_, l)| *l)
                        .collect::<Vec<_>>()
                        .join("\n");
                }
                _ => {
                    let mut at = next(t.len());
                    while !t.is_char_boundary(at) {
                        at -= 1;
                    }
                    t.insert_str(at, specials[next(specials.len())]);
                }
            }
            variants += 1;
            let file = SourceFile::new(path.clone(), t.clone());
            let r = catch_unwind(AssertUnwindSafe(|| {
                let p = sigma::parse(&file);
                for i in &p.issues {
                    assert!(i.span.start <= i.span.end && i.span.end <= t.len());
                    assert!(t.is_char_boundary(i.span.start) && t.is_char_boundary(i.span.end));
                }
                if let Some(rule) = p.rules.first() {
                    let excl = rulelint::suggest::Exclusion {
                        name: "x".into(),
                        fields: vec![rulelint::suggest::ExclusionField {
                            field: "User".into(),
                            op: rulelint::rule::Op::Eq,
                            values: vec![rulelint::suggest::ExclusionValue {
                                text: "svc".into(),
                                numeric: false,
                                origin: rulelint::suggest::ValueOrigin::Catalogue,
                            }],
                        }],
                    };
                    let _ = rulelint::suggest::render(rule, &file, &excl, &[]);
                }
            }));
            if r.is_err() {
                panics.push(format!("{} (variant {k})", path.display()));
            }
        }
    }
    println!("damaged variants: {variants}, panics: {}", panics.len());
    assert!(panics.is_empty(), "panics on: {panics:#?}");
}
