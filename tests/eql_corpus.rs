//! Corpus sweep: every Elastic rule written in EQL parses without a panic
//! and without an error, and almost all without an opaque part.
//!
//! Corpus root: `$RULELINT_CORPUS`, else `<manifest>/../shared/corpus`.
//! The corpus tests are `#[ignore]`d: run with `--include-ignored`; they fail without it.

mod common;

use common::Prng;
use rulelint::query::eql;
use rulelint::rule::Logic;
use std::panic::{catch_unwind, AssertUnwindSafe};

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn eql_corpus_sweep() {
    let root = common::corpus_dir("elastic");
    let files = common::toml_files(&root);

    let mut queries = 0usize;
    let mut clean = 0usize;
    let mut panics = Vec::new();
    let mut errors = Vec::new();
    let mut opaque = Vec::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Some(query) = common::rule_query(&text, "eql") else {
            continue;
        };
        queries += 1;
        let result = catch_unwind(AssertUnwindSafe(|| eql::parse(&query)));
        let parsed = match result {
            Ok(p) => p,
            Err(_) => {
                panics.push(path.display().to_string());
                continue;
            }
        };
        if parsed.has_errors() {
            let e = &parsed.issues[0];
            let near = query
                .get(e.span.start..)
                .unwrap_or("")
                .chars()
                .take(40)
                .collect::<String>();
            errors.push(format!(
                "{}: {} at {}: {near:?}",
                path.display(),
                e.message,
                e.span.start
            ));
            continue;
        }
        assert!(
            !parsed.anchors.steps.is_empty(),
            "{}: no steps",
            path.display()
        );
        for s in &parsed.anchors.steps {
            assert!(s.start <= s.end && s.end <= query.len());
        }
        if parsed.logic.has_opaque() {
            let mut parts = Vec::new();
            parsed.logic.visit(&mut |n| {
                if let Logic::Opaque(o) = n {
                    parts.push(format!("{} ({})", o.text, o.reason));
                }
            });
            opaque.push(format!("{}: {}", path.display(), parts.join("; ")));
        } else {
            clean += 1;
        }
    }

    let pct = |n: usize| {
        if queries == 0 {
            100.0
        } else {
            n as f64 * 100.0 / queries as f64
        }
    };
    println!("EQL corpus: {queries} queries");
    println!("  parsed with no Opaque node: {clean} ({:.2}%)", pct(clean));
    println!("  parsed with an Opaque node: {}", opaque.len());
    println!("  errors: {}", errors.len());
    println!("  panics: {}", panics.len());
    for e in errors.iter().take(20) {
        println!("  error: {e}");
    }
    for o in opaque.iter().take(20) {
        println!("  opaque: {o}");
    }
    assert!(panics.is_empty(), "panics: {panics:?}");
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        errors.first()
    );
    assert!(
        pct(clean) >= 99.0,
        "only {clean}/{queries} EQL queries parsed without an Opaque node"
    );
}

const PIECES: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "\"",
    "\"\"\"",
    "`",
    "?",
    "~",
    "!",
    "==",
    ":",
    "=",
    "not ",
    " and ",
    " or ",
    " in ",
    "like~",
    "where",
    "sequence",
    "until",
    " by ",
    "|",
    ",",
    "/*",
    "*/",
    "//",
    "\\",
    "-",
    "\u{e9}",
    "\n",
    "1",
    "null",
    "'",
    "((((((((((",
    "))))))))))",
];

/// Every corpus query, mutated a few times (deleted, inserted and
/// duplicated pieces): the parser never panics, and every span it returns
/// lies inside the text on character boundaries.
#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn eql_corpus_mutations_never_panic() {
    let root = common::corpus_dir("elastic");
    let files = common::toml_files(&root);
    let mut rng = common::Xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut total, mut still_valid) = (0usize, 0usize);
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Some(query) = common::rule_query(&text, "eql") else {
            continue;
        };
        for _ in 0..4 {
            let mut q: Vec<char> = query.chars().collect();
            for _ in 0..1 + rng.below(3) {
                let pos = rng.below(q.len() + 1);
                match rng.below(3) {
                    0 if pos < q.len() => {
                        let end = (pos + 1 + rng.below(8)).min(q.len());
                        q.drain(pos..end);
                    }
                    1 => {
                        let piece = PIECES[rng.below(PIECES.len())];
                        for (k, ch) in piece.chars().enumerate() {
                            q.insert((pos + k).min(q.len()), ch);
                        }
                    }
                    _ => {
                        let end = (pos + rng.below(30)).min(q.len());
                        let dup: Vec<char> = q[pos.min(end)..end].to_vec();
                        for (k, ch) in dup.into_iter().enumerate() {
                            q.insert(pos + k, ch);
                        }
                    }
                }
            }
            let mutated: String = q.into_iter().collect();
            total += 1;
            let p = catch_unwind(AssertUnwindSafe(|| eql::parse(&mutated))).unwrap_or_else(|_| {
                panic!("panic on a mutation of {}:\n{mutated}", path.display())
            });
            for i in &p.issues {
                assert!(
                    i.span.end <= mutated.len()
                        && mutated.is_char_boundary(i.span.start)
                        && mutated.is_char_boundary(i.span.end),
                    "{mutated:?}: {i:?}"
                );
            }
            let mut bad = None;
            p.logic.visit(&mut |n| {
                if let Some(s) = n.span() {
                    if s.end > mutated.len()
                        || !mutated.is_char_boundary(s.start)
                        || !mutated.is_char_boundary(s.end)
                    {
                        bad = Some(s);
                    }
                }
            });
            assert!(bad.is_none(), "{mutated:?}: bad span {bad:?}");
            if !p.has_errors() {
                still_valid += 1;
            }
        }
    }
    println!("EQL corpus mutations: {total} parsed without a panic ({still_valid} still valid)");
}
