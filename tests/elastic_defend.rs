//! Elastic Defend behaviour rules: a `[rule]` table with `query`,
//! `os_list` and `version` but no `type` or `language`. Their queries are
//! EQL, with step aliases (`as event0`), references to an aliased event's
//! fields, `startswith~`, `like~` and optional fields (`?field`).

use rulelint::format::{self, elastic::infer_language};
use rulelint::rule::{Cmp, Format, Language, Op, ParsedFile};
use rulelint::source::SourceFile;
use rulelint::Severity;
use std::path::Path;

fn parse_fixture(name: &str) -> (String, ParsedFile) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/elastic_defend")
        .join(name);
    let text = std::fs::read_to_string(&path).expect("fixture exists");
    let p = format::parse(Format::Elastic, &SourceFile::new(&path, text.clone()));
    (text, p)
}

fn cmps(p: &ParsedFile) -> Vec<(Cmp, bool)> {
    let mut out = Vec::new();
    let logic = p.rules[0].logic.as_ref().expect("the rule has logic");
    logic.visit_cmps(&mut |c, neg| out.push((c.clone(), neg)));
    out
}

fn assert_clean(p: &ParsedFile) {
    let bad: Vec<_> = p
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{} {}", i.code, i.message))
        .collect();
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(p.rules.len(), 1);
    assert_eq!(p.rules[0].language, Language::Eql);
}

#[test]
fn a_sequence_with_an_aliased_step_is_eql() {
    let (text, p) = parse_fixture("sequence_with_alias.toml");
    assert_clean(&p);
    let rule = &p.rules[0];
    assert_eq!(
        rule.meta.id.as_ref().map(|m| m.value.as_str()),
        Some("0b6a1c52-3e1f-4d7a-9c8e-5f1e2a7b9d01")
    );
    let cs = cmps(&p);
    // The join on the first event's entity id: a field compared with a
    // field of the aliased event.
    let join = cs
        .iter()
        .find(|(c, _)| c.field.raw == "process.entity_id")
        .expect("the entity id comparison");
    assert_eq!(join.0.op, Op::FieldRef);
    assert_eq!(join.0.values[0].text, "event0.process.entity_id");
    // startswith~ under `not`: an exclusion, case-insensitive, with its
    // span on the file's characters.
    let (sw, neg) = cs
        .iter()
        .find(|(c, _)| c.op == Op::StartsWith && c.field.raw == "file.path")
        .expect("the startswith~ comparison");
    assert!(*neg);
    assert!(sw.modifiers.iter().any(|m| m == "case_insensitive"));
    let v = &sw.values[0];
    assert_eq!(&text[v.span.start..v.span.end], r"C:\\Windows\\Installer\\");
    // Both steps' conditions are anchors.
    assert_eq!(rule.anchors.steps.len(), 2);
}

#[test]
fn an_aliased_events_field_is_not_this_events_field() {
    let q = r#"sequence
 [process where process.name == "a.exe"] as event0
 [network where event0.process.name == "b.exe" and process.name == "c.exe"]"#;
    let r = rulelint::query::eql::parse(q);
    assert!(
        r.issues.iter().all(|i| i.severity != Severity::Error),
        "{:?}",
        r.issues
    );
    let mut fields = Vec::new();
    r.logic
        .visit_cmps(&mut |c, _| fields.push((c.field.raw.clone(), c.field.derived)));
    assert!(fields.contains(&("event0.process.name".to_string(), true)));
    assert!(fields.contains(&("process.name".to_string(), false)));
}

#[test]
fn a_bad_alias_is_an_error_at_the_name() {
    let q = "sequence [process where true] as [file where true]";
    let r = rulelint::query::eql::parse(q);
    let e = r
        .issues
        .iter()
        .find(|i| i.severity == Severity::Error)
        .expect("an error");
    assert_eq!(e.code, "RL008");
    assert_eq!(&q[e.span.start..e.span.end], "[");
}

#[test]
fn a_single_event_rule_with_optional_fields_and_like_tilde() {
    let (_, p) = parse_fixture("single_event.toml");
    assert_clean(&p);
    let cs = cmps(&p);
    let exists = cs
        .iter()
        .find(|(c, _)| c.field.raw == "process.parent.executable")
        .expect("?process.parent.executable");
    assert_eq!((exists.0.op, exists.1), (Op::Exists, false));
    let like = cs
        .iter()
        .find(|(c, _)| c.field.raw == "process.command_line")
        .expect("like~ on the command line");
    assert_eq!((like.0.op, like.1), (Op::Contains, true));
    assert!(like.0.modifiers.iter().any(|m| m == "case_insensitive"));
    let names = cs
        .iter()
        .find(|(c, _)| c.field.raw == "process.name")
        .expect("process.name like~ (…)");
    assert_eq!(names.0.values.len(), 3);
}

#[test]
fn an_any_where_rule_is_eql() {
    let (_, p) = parse_fixture("any_event.toml");
    assert_clean(&p);
    assert!(cmps(&p).iter().any(|(c, _)| c.field.raw == "dll.path"));
}

#[test]
fn the_language_is_inferred_from_the_query() {
    for q in [
        "process where true",
        "  // leading comment\n  file where file.name : \"a\"",
        "/* block */ any where event.action == \"x\"",
        "sequence by host.id [process where true] [file where true]",
        "sample by host.id [process where true] [file where true]",
        "PROCESS WHERE process.name == \"a\"",
    ] {
        assert_eq!(infer_language(q), Language::Eql, "{q}");
    }
    for q in [
        "process.name : \"cmd.exe\"",
        "event.category:process and process.name:where",
        "where",
        "sequence:1",
        "process.where : x",
        "",
    ] {
        assert_eq!(infer_language(q), Language::Kql, "{q}");
    }
}

#[test]
fn a_rule_that_names_its_language_keeps_it() {
    let text = r#"[rule]
name = "kql rule"
type = "query"
query = 'process where true'
"#;
    let p = format::parse(Format::Elastic, &SourceFile::new("r.toml", text));
    assert_eq!(p.rules[0].language, Language::Kql);
}
