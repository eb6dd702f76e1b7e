//! Deterministic fuzzing of the ES|QL parser: thousands of mutated queries
//! (built-in seeds; the corpus in an `#[ignore]`d test) must never panic, and
//! every span must stay inside the text on character boundaries.

mod common;

use common::{Prng, Xorshift as Rng};
use std::panic::{catch_unwind, AssertUnwindSafe};

use rulelint::query::esql::parse;
use rulelint::rule::Logic;
use rulelint::source::Span;

const SEEDS: &[&str] = &[
    "FROM logs-* METADATA _id | WHERE destination.port IN (6667, 6697) AND NOT source.ip == \"10.0.0.1\"",
    "from x | where to_lower(process.name) like (\"*a*\", \"b?\") or process.args is not null | limit 10",
    "FROM x | EVAL a = CASE(b == 1, \"x\", \"y\"), t = DATE_TRUNC(1 hour, @timestamp) | STATS c = COUNT(*) BY a | WHERE c > 5",
    "FROM x | DISSECT message \"%{a} %{+a}\" APPEND_SEPARATOR = \"-\" | GROK m \"%{IP:ip}\" | RENAME a AS b | KEEP b, ip",
    "FROM x | WHERE KQL(\"\"\"event.action:\"exec\" and not user.name:root\"\"\") | INLINE STATS n = COUNT_DISTINCT(h) BY u",
    "FROM x | FORK (WHERE a == 1 | SORT b DESC NULLS LAST) (WHERE `c d` != \"e\\\"f\") | COMPLETION r = p WITH { \"inference_id\": \"m\" }",
    "FROM x // c\n/* block /* nested */ */ | WHERE CIDR_MATCH(source.ip, \"10.0.0.0/8\") AND STARTS_WITH(f, \"a\") AND LOCATE(g, \"x\") > 0",
    "ROW a = [1, 2, 3], b = -1.5e3, c = null | MV_EXPAND a | WHERE a::long >= ?p AND b =~ \"X\"",
    "FROM x | LOOKUP JOIN t ON a | ENRICH p ON b WITH c = d | CHANGE_POINT v ON t AS ty, pv | SAMPLE 0.5",
];

const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "\"",
    "\"\"\"",
    "|",
    "NOT ",
    " AND ",
    " OR ",
    "[",
    "]",
    "{",
    "}",
    "`",
    "/*",
    "*/",
    "//",
    "\\",
    "::",
    "==",
    "!=",
    "*",
    "?",
    "é",
    "\n",
    " IN (",
    " LIKE ",
    " RLIKE ",
    "STATS ",
    ",",
    ".",
    "1 hour",
    "-",
    "=",
    ":",
    "IS NULL",
    "FROM ",
    "WHERE ",
    "KQL(",
    "\"a\\",
    "%{x}",
    "\u{1F600}",
    "\t",
    "0.",
    ".5",
    "@",
    "_",
    "#",
    ";",
];

/// A random character boundary of `s`.
fn boundary(s: &str, rng: &mut Rng) -> usize {
    let mut i = rng.below(s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(s: &str, rng: &mut Rng) -> String {
    let mut s = s.to_string();
    for _ in 0..1 + rng.below(3) {
        match rng.below(5) {
            0 => {
                let a = boundary(&s, rng);
                let mut b = (a + 1 + rng.below(8)).min(s.len());
                while !s.is_char_boundary(b) {
                    b -= 1;
                }
                if a < b {
                    s.replace_range(a..b, "");
                }
            }
            1 => {
                let a = boundary(&s, rng);
                s.insert_str(a, FRAGMENTS[rng.below(FRAGMENTS.len())]);
            }
            2 => {
                let a = boundary(&s, rng);
                let b = boundary(&s, rng);
                let (a, b) = (a.min(b), a.max(b));
                let piece = s[a..b].to_string();
                let at = boundary(&s, rng);
                s.insert_str(at, &piece);
            }
            3 => {
                let a = boundary(&s, rng);
                s.truncate(a);
            }
            _ => {
                let a = boundary(&s, rng);
                let b = boundary(&s, rng);
                let (a, b) = (a.min(b), a.max(b));
                if a < b {
                    let ca = s[a..].chars().next().unwrap_or(' ');
                    let cb = s[b..].chars().next().unwrap_or(' ');
                    if b + cb.len_utf8() <= s.len() {
                        s.replace_range(b..b + cb.len_utf8(), &ca.to_string());
                        s.replace_range(a..a + ca.len_utf8(), &cb.to_string());
                    }
                }
            }
        }
    }
    s
}

fn check_span(q: &str, s: Span, what: &str) {
    assert!(
        s.start <= s.end && s.end <= q.len(),
        "{what} span {s:?} out of range in {q:?}"
    );
    assert!(
        q.is_char_boundary(s.start) && q.is_char_boundary(s.end),
        "{what} span {s:?} not on char boundaries in {q:?}"
    );
}

fn check(q: &str) {
    let res = catch_unwind(AssertUnwindSafe(|| parse(q)));
    let p = match res {
        Ok(p) => p,
        Err(_) => panic!("parser panicked on {q:?}"),
    };
    for i in &p.issues {
        check_span(q, i.span, "issue");
    }
    if let Some(a) = p.anchors.first_aggregation {
        assert!(
            a < q.len() && q.as_bytes()[a] == b'|',
            "anchor {a} in {q:?}"
        );
    }
    p.logic.visit(&mut |n| match n {
        Logic::Cmp(c) => {
            check_span(q, c.span, "cmp");
            check_span(q, c.field.span, "field");
            for v in &c.values {
                check_span(q, v.span, "value");
            }
        }
        Logic::Opaque(o) => check_span(q, o.span, "opaque"),
        _ => {}
    });
}

fn corpus_queries() -> Vec<String> {
    common::toml_files(&common::corpus_dir("elastic"))
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|text| common::rule_query(&text, "esql"))
        .collect()
}

/// `ESQL_FUZZ_SCALE=10` runs ten times more mutations.
fn scale() -> usize {
    std::env::var("ESQL_FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

#[test]
fn mutated_queries_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut n = 0;
    for seed in SEEDS {
        check(seed);
        for _ in 0..400 * scale() {
            check(&mutate(seed, &mut rng));
            n += 1;
        }
    }
    println!("fuzzed {n} mutated queries");
    assert!(n >= 3000);
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn mutated_corpus_queries_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let corpus = corpus_queries();
    assert!(!corpus.is_empty(), "no ES|QL rule in the corpus");
    let mut n = 0;
    for q in &corpus {
        check(q);
        for _ in 0..20 * scale() {
            check(&mutate(q, &mut rng));
            n += 1;
        }
    }
    println!("fuzzed {n} mutated queries ({} corpus seeds)", corpus.len());
}

#[test]
fn every_prefix_of_the_seeds_is_handled() {
    for seed in SEEDS {
        for (i, _) in seed.char_indices() {
            check(&seed[..i]);
            check(&seed[i..]);
        }
    }
}
