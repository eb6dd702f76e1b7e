//! No panic on garbage: a deterministic loop of mutated searches (built-in
//! samples; the corpus in an `#[ignore]`d test) through the SPL parser, and
//! of mutated detection files through the YAML layer. Every span a parse
//! returns must lie inside the text, on character boundaries.

mod common;

use common::{Prng, XorshiftStar};
use rulelint::format::splunk;
use rulelint::query::spl;
use rulelint::rule::Logic;
use rulelint::source::{SourceFile, Span};

const SAMPLES: &[&str] = &[
    r#"| tstats `security_content_summariesonly` count min(_time) as firstTime from datamodel=Endpoint.Processes where (Processes.process_name=nmap.exe OR `process_net`) Processes.process IN ("*-sV*", "*\\x*") by Processes.dest | `drop_dm_object_name(Processes)` | where isnotnull(dest) AND like(lower(dest), "%srv%") | `x_filter`"#,
    r#"`wineventlog_security` EventCode=4625 NOT (user IN ("SYSTEM", "*$")) | rename Computer as dest | stats count values(IpAddress) as src by dest | lookup ioc ip as src OUTPUT bad | search bad=true | join dest [search index=x | fields dest] | `y_filter`"#,
    r#"`powershell` EventCode=4104 | eval a=if(match(ScriptBlockText, "(?i)x|y"), 1, 0) | rex field=ScriptBlockText "(?<n>\d+)" ```comment``` | where a>0 OR n="5" | table a n"#,
];

const PIECES: &[&str] = &[
    "\"",
    "'",
    "`",
    "```",
    "(",
    ")",
    "[",
    "]",
    "|",
    "=",
    "!=",
    "<",
    ">=",
    "\\",
    "*",
    ",",
    " ",
    "\n",
    "NOT ",
    " OR ",
    " AND ",
    "IN (",
    "é",
    "中",
    "\u{0}",
    "''",
    "| where ",
    "| tstats ",
    " by ",
    "from datamodel=",
    "`x_filter`",
    "like(",
    "%",
    "[search ",
    "\t",
    "\r\n",
    ": ",
    "- ",
    "#",
];

/// A char boundary at or before `i`.
fn floor(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(s: &str, rng: &mut XorshiftStar) -> String {
    let mut t = s.to_string();
    for _ in 0..1 + rng.below(4) {
        let a = floor(&t, rng.below(t.len() + 1));
        match rng.below(5) {
            0 => {
                let b = floor(&t, a + rng.below(12));
                t.replace_range(a..b.max(a), "");
            }
            1 | 2 => {
                let p = PIECES[rng.below(PIECES.len())];
                t.insert_str(a, p);
            }
            3 => {
                let b = floor(&t, a + rng.below(20));
                let chunk = t[a..b.max(a)].to_string();
                let c = floor(&t, rng.below(t.len() + 1));
                t.insert_str(c, &chunk);
            }
            _ => {
                t.truncate(a);
            }
        }
    }
    t
}

fn check_span(text: &str, s: Span, what: &str) {
    assert!(
        s.start <= s.end
            && s.end <= text.len()
            && text.is_char_boundary(s.start)
            && text.is_char_boundary(s.end),
        "{what} span {s:?} out of bounds for {text:?}"
    );
}

fn check_logic(text: &str, l: &Logic) {
    l.visit(&mut |n| match n {
        Logic::Cmp(c) => {
            check_span(text, c.span, "cmp");
            check_span(text, c.field.span, "field");
            for v in &c.values {
                check_span(text, v.span, "value");
            }
        }
        Logic::Keyword(k) => {
            check_span(text, k.span, "keyword");
            for v in &k.values {
                check_span(text, v.span, "value");
            }
        }
        Logic::Opaque(o) => check_span(text, o.span, "opaque"),
        _ => {}
    });
}

/// Mutates `searches` (SPL parser) and `texts` (whole files: the YAML layer
/// and the scalar decoder too); `rounds` search mutations, 1000 file ones.
fn fuzz(searches: &[String], texts: &[String], rounds: usize) {
    // RULELINT_FUZZ_SEED / RULELINT_FUZZ_ROUNDS vary the run by hand.
    let seed = std::env::var("RULELINT_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15u64);
    let mut rng = XorshiftStar(seed.max(1));
    let rounds = std::env::var("RULELINT_FUZZ_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(rounds);
    let mut n = 0;
    for i in 0..rounds {
        let base = &searches[i % searches.len()];
        let m = mutate(base, &mut rng);
        let r = std::panic::catch_unwind(|| spl::parse(&m));
        let q = r.unwrap_or_else(|_| panic!("SPL parser panicked on {m:?}"));
        check_logic(&m, &q.logic);
        for is in &q.issues {
            check_span(&m, is.span, "issue");
        }
        if let Some((_, s)) = &q.anchors.filter_macro {
            check_span(&m, *s, "filter macro");
        }
        n += 1;
    }
    for i in 0..1000 {
        let base = &texts[i % texts.len()];
        let m = mutate(base, &mut rng);
        let f = SourceFile::new("m.yml", m.clone());
        let p = std::panic::catch_unwind(|| splunk::parse(&f))
            .unwrap_or_else(|_| panic!("Splunk format parser panicked on {m:?}"));
        for r in &p.rules {
            if let Some(l) = &r.logic {
                check_logic(&m, l);
            }
            if let Some(q) = r.anchors.query {
                check_span(&m, q, "query");
            }
        }
        for is in &p.issues {
            check_span(&m, is.span, "issue");
        }
        n += 1;
    }
    println!("{n} mutated inputs parsed without panic");
}

#[test]
fn mutated_searches_never_panic() {
    let searches: Vec<String> = SAMPLES.iter().map(|s| s.to_string()).collect();
    let texts: Vec<String> = SAMPLES
        .iter()
        .map(|s| format!("name: x\nid: 1\nsearch: '{}'\n", s.replace('\'', "''")))
        .collect();
    fuzz(&searches, &texts, 2000);
}

#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn mutated_corpus_searches_never_panic() {
    let files = common::yml_files(&common::corpus_dir("splunk"));
    let mut searches: Vec<String> = SAMPLES.iter().map(|s| s.to_string()).collect();
    let mut texts: Vec<String> = Vec::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let sf = SourceFile::new(f.clone(), text.clone());
        for r in splunk::parse(&sf).rules {
            if let Some(q) = r.anchors.query {
                if let Some(d) = splunk::search_scalar(&sf, q) {
                    searches.push(d.text);
                }
            }
        }
        texts.push(text);
    }
    assert!(!texts.is_empty(), "no Splunk rule in the corpus");
    fuzz(&searches, &texts, 4 * searches.len());
}
