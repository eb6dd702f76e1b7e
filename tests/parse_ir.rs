//! The Logic IR of small rules, one folder per language under
//! `tests/parse/<language>/` (`sigma`, `kql`, `eql`, `esql`, `lucene`,
//! `spl`), rendered as text and compared with `insta` snapshots
//! (`tests/snapshots/parse_ir__<language>__<rule>.snap`).
//!
//! The rendering shows the tree (`and`, `or`, `not`, and `shared` for a
//! subtree held once and named several times) and, for every
//! comparison, its polarity (`+` detects, `-` excludes: under an odd number
//! of `not`), the field as written with its concept, the operator, the
//! values with their parsed kind, and the span of each part as
//! `line:col-line:col` in the rule file with the text it covers. Concepts
//! are resolved from the built-in field table, as `rulelint check` does.
//!
//! Every rule must parse without an error and in the folder's language, and
//! every language folder must hold rules: a failure names the file.

use rulelint::rule::{Cmp, DetectionRule, Language, Logic, Op, Parsed, Value};
use rulelint::source::{SourceFile, Span};
use rulelint::{Knowledge, Severity};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn at(file: &SourceFile, span: Span) -> String {
    let a = file.line_col(span.start);
    let b = file.line_col(span.end);
    format!("{}:{}-{}:{}", a.line, a.column, b.line, b.column)
}

/// A span with the text it covers, e.g. `3:9-3:30 "Image|endswith: x"`.
fn spanned(file: &SourceFile, span: Span) -> String {
    format!("{} {:?}", at(file, span), file.slice(span))
}

fn op(o: Op) -> String {
    match o {
        Op::Eq => "eq".into(),
        Op::Contains => "contains".into(),
        Op::StartsWith => "startswith".into(),
        Op::EndsWith => "endswith".into(),
        Op::Wildcard => "wildcard".into(),
        Op::Regex => "regex".into(),
        Op::Cidr => "cidr".into(),
        Op::Range {
            lo_inclusive,
            hi_inclusive,
        } => format!(
            "range{}lo,hi{}",
            if lo_inclusive { '[' } else { '(' },
            if hi_inclusive { ']' } else { ')' }
        ),
        Op::Gt => "gt".into(),
        Op::Gte => "gte".into(),
        Op::Lt => "lt".into(),
        Op::Lte => "lte".into(),
        Op::Exists => "exists".into(),
        Op::FieldRef => "fieldref".into(),
    }
}

fn value(file: &SourceFile, v: &Value) -> String {
    let kind = match &v.parsed {
        Parsed::Str => "str".to_string(),
        Parsed::Int(i) => format!("int {i}"),
        Parsed::Float(f) => format!("float {f}"),
        Parsed::Bool(b) => format!("bool {b}"),
        Parsed::Null => "null".to_string(),
    };
    format!("{:?} ({kind}) at {}", v.text, spanned(file, v.span))
}

fn cmp(out: &mut String, file: &SourceFile, c: &Cmp, pad: &str, negated: bool) {
    let concept = match (&c.field.concept, c.field.derived) {
        (_, true) => "derived".to_string(),
        (Some(k), false) => k.clone(),
        (None, false) => "no concept".to_string(),
    };
    let mut flags = Vec::new();
    if c.all {
        flags.push("all".to_string());
    }
    if !c.modifiers.is_empty() {
        flags.push(format!("modifiers {}", c.modifiers.join("|")));
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(" [{}]", flags.join(", "))
    };
    let _ = writeln!(
        out,
        "{pad}{} cmp {} ({concept}) {}{flags}",
        if negated { '-' } else { '+' },
        c.field.raw,
        op(c.op)
    );
    let _ = writeln!(out, "{pad}    at {}", spanned(file, c.span));
    let _ = writeln!(out, "{pad}    field at {}", at(file, c.field.span));
    for v in &c.values {
        let _ = writeln!(out, "{pad}    value {}", value(file, v));
    }
}

fn logic(out: &mut String, file: &SourceFile, l: &Logic, depth: usize, negated: bool) {
    let pad = "  ".repeat(depth);
    match l {
        Logic::And(cs) | Logic::Or(cs) => {
            let _ = writeln!(
                out,
                "{pad}{}",
                if matches!(l, Logic::And(_)) {
                    "and"
                } else {
                    "or"
                }
            );
            for c in cs {
                logic(out, file, c, depth + 1, negated);
            }
        }
        Logic::Not(x) => {
            let _ = writeln!(out, "{pad}not");
            logic(out, file, x, depth + 1, !negated);
        }
        Logic::Shared(x) => {
            let _ = writeln!(out, "{pad}shared");
            logic(out, file, x, depth + 1, negated);
        }
        Logic::Cmp(c) => cmp(out, file, c, &pad, negated),
        Logic::Keyword(k) => {
            let _ = writeln!(
                out,
                "{pad}{} keyword at {}",
                if negated { '-' } else { '+' },
                at(file, k.span)
            );
            for v in &k.values {
                let _ = writeln!(out, "{pad}    value {}", value(file, v));
            }
        }
        Logic::Opaque(o) => {
            let _ = writeln!(
                out,
                "{pad}{} opaque ({}) at {}",
                if negated { '-' } else { '+' },
                o.reason,
                spanned(file, o.span)
            );
        }
    }
}

/// The text form of every rule of a file, and of the parser's issues.
fn render(file: &SourceFile, rules: &[DetectionRule], issues: &[String]) -> String {
    let mut out = String::new();
    for (i, r) in rules.iter().enumerate() {
        let _ = writeln!(
            out,
            "rule {}: {} in {}, schema {:?}",
            i + 1,
            r.format.as_str(),
            r.language.as_str(),
            r.schema
        );
        match &r.logic {
            Some(l) => logic(&mut out, file, l, 1, false),
            None => out.push_str("  (no logic)\n"),
        }
    }
    for i in issues {
        let _ = writeln!(out, "issue {i}");
    }
    out
}

fn language_of(folder: &str) -> Language {
    match folder {
        "sigma" => Language::Sigma,
        "kql" => Language::Kql,
        "eql" => Language::Eql,
        "esql" => Language::Esql,
        "lucene" => Language::Lucene,
        "spl" => Language::Spl,
        other => panic!("tests/parse/{other}: not a language folder"),
    }
}

fn rules_of(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/parse")
        .join(folder);
    let rd =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    files.sort();
    assert!(!files.is_empty(), "no rules in {}", dir.display());
    files
}

/// Parse, check and snapshot every rule of one language folder.
fn snapshot_language(folder: &str) {
    let k = Knowledge::builtin().expect("the built-in catalogue loads");
    let want = language_of(folder);
    let mut failures = Vec::new();
    let mut changed = Vec::new();
    for path in rules_of(folder) {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let file = SourceFile::new(&path, text);
        let Some(format) = rulelint::format::sniff(&file.text) else {
            failures.push(format!("{folder}/{name}: not recognised as a rule file"));
            continue;
        };
        let mut parsed = rulelint::format::parse(format, &file);
        let errors: Vec<String> = parsed
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .map(|i| format!("{} at {}: {}", i.code, at(&file, i.span), i.message))
            .collect();
        if !errors.is_empty() {
            failures.push(format!("{folder}/{name}: {}", errors.join("; ")));
            continue;
        }
        if parsed.rules.is_empty() || parsed.rules.iter().any(|r| r.language != want) {
            failures.push(format!(
                "{folder}/{name}: expected rules in {}, found {:?}",
                want.as_str(),
                parsed.rules.iter().map(|r| r.language).collect::<Vec<_>>()
            ));
            continue;
        }
        for r in &mut parsed.rules {
            if let Some(l) = &mut r.logic {
                k.fields.resolve(r.schema, l);
            }
        }
        let issues: Vec<String> = parsed
            .issues
            .iter()
            .map(|i| {
                format!(
                    "{} {} at {}: {}",
                    i.code,
                    i.severity,
                    spanned(&file, i.span),
                    i.message
                )
            })
            .collect();
        let text = render(&file, &parsed.rules, &issues);
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let snap = format!("{folder}__{stem}");
        let compared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            insta::assert_snapshot!(snap.as_str(), text);
        }));
        if compared.is_err() {
            changed.push(snap);
        }
    }
    let mut report = String::new();
    if !failures.is_empty() {
        let _ = writeln!(
            report,
            "rules that do not parse as expected:\n  {}",
            failures.join("\n  ")
        );
    }
    if !changed.is_empty() {
        let _ = writeln!(
            report,
            "snapshots differ (review with `cargo insta review`):\n  {}",
            changed.join("\n  ")
        );
    }
    assert!(report.is_empty(), "{report}");
}

#[test]
fn sigma_logic() {
    snapshot_language("sigma");
}

#[test]
fn kql_logic() {
    snapshot_language("kql");
}

#[test]
fn eql_logic() {
    snapshot_language("eql");
}

#[test]
fn esql_logic() {
    snapshot_language("esql");
}

#[test]
fn lucene_logic() {
    snapshot_language("lucene");
}

#[test]
fn spl_logic() {
    snapshot_language("spl");
}

#[test]
fn every_folder_is_a_language() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parse");
    let mut folders: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    assert_eq!(folders, ["eql", "esql", "kql", "lucene", "sigma", "spl"]);
}
