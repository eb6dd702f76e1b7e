//! KQL/Lucene exclusions applied to Elastic TOML rules: the edited file
//! re-parses, keeps the original logic and adds the exclusion under `Not`.

mod common;

use rulelint::diagnostic::Severity;
use rulelint::format::elastic;
use rulelint::rule::{DetectionRule, Language, Logic, Op};
use rulelint::source::SourceFile;
use rulelint::suggest::{self, Exclusion, ExclusionField, ExclusionValue, ValueOrigin};

fn ev(text: &str, numeric: bool) -> ExclusionValue {
    ExclusionValue {
        text: text.into(),
        numeric,
        origin: ValueOrigin::Catalogue,
    }
}

fn port_exclusion() -> Exclusion {
    Exclusion {
        name: "ephemeral_port".into(),
        fields: vec![ExclusionField {
            field: "source.port".into(),
            op: Op::Eq,
            values: vec![ev("80", true), ev("443", true)],
        }],
    }
}

fn two_field_exclusion() -> Exclusion {
    Exclusion {
        name: "ci".into(),
        fields: vec![
            ExclusionField {
                field: "process.parent.name".into(),
                op: Op::Eq,
                values: vec![ev("java.exe", false), ev("jenkins agent", false)],
            },
            ExclusionField {
                field: "process.executable".into(),
                op: Op::EndsWith,
                values: vec![ev("\\bin\\git.exe", false)],
            },
        ],
    }
}

fn parse_one(text: &str) -> (SourceFile, DetectionRule) {
    let f = SourceFile::new("r.toml", text);
    let p = elastic::parse(&f);
    let errors: Vec<_> = p
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{text}\n{errors:?}");
    let r = p.rules.into_iter().next().expect("a rule");
    (f, r)
}

/// (field, op, values, negated) of every comparison.
fn flat(l: &Logic) -> Vec<(String, Op, Vec<String>, bool)> {
    let mut out = Vec::new();
    l.visit_cmps(&mut |c, neg| {
        out.push((
            c.field.raw.clone(),
            c.op,
            c.values.iter().map(|v| v.text.clone()).collect(),
            neg,
        ))
    });
    out
}

/// Apply the suggestion's edits and check the result.
fn apply_and_check(text: &str, excl: &Exclusion) -> String {
    let (f, rule) = parse_one(text);
    let before = flat(rule.logic.as_ref().unwrap());
    let s = suggest::render(&rule, &f, excl, &[]).expect("a suggestion");
    assert!(!s.fix.edits.is_empty(), "no edits for\n{text}");
    // Code only, one line, ready to paste: the Kibana note is help.
    assert!(
        !s.text.contains('\n') && !s.text.contains("Kibana"),
        "{}",
        s.text
    );
    let edited = suggest::edit::apply_at(text, 0, &s.fix.edits);
    let (_, after_rule) = parse_one(&edited);
    let logic = after_rule.logic.unwrap();
    // the original query AND the exclusion
    let Logic::And(items) = &logic else {
        panic!("not an And:\n{edited}\n{logic:?}")
    };
    assert!(
        items.iter().any(|i| matches!(i, Logic::Not(_))),
        "no exclusion under the top-level And:\n{edited}"
    );
    let after = flat(&logic);
    // The original comparisons are all still there, in order, with their
    // polarity; the exclusion adds exactly its own.
    let added: Vec<_> = {
        let mut rest = after.clone();
        for b in &before {
            let i = rest
                .iter()
                .position(|a| a == b)
                .unwrap_or_else(|| panic!("{b:?} lost:\n{edited}"));
            rest.remove(i);
        }
        rest
    };
    assert_eq!(added.len(), excl.fields.len(), "{edited}\n{added:?}");
    for f in &excl.fields {
        assert!(
            added.iter().any(|(name, op, values, neg)| *neg
                && name == &f.field
                && *op == f.op
                && values.iter().map(String::as_str).collect::<Vec<_>>()
                    == f.values.iter().map(|v| v.text.as_str()).collect::<Vec<_>>()),
            "exclusion on {} missing:\n{edited}\n{after:?}",
            f.field
        );
    }
    edited
}

fn rule_text(language: &str, query_literal: &str) -> String {
    format!(
        "[metadata]\nmaturity = \"production\"\n\n[rule]\nname = \"x\"\nrule_id = \"1\"\ntype = \"query\"\nlanguage = \"{language}\"\nquery = {query_literal}\n\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n"
    )
}

#[test]
fn kql_in_every_string_kind() {
    let lits = [
        "'''\nevent.category:network and destination.port:(6667 or 6697)\n'''",
        "'''\nprocess.name:a or process.name:b\n'''",
        "\"\"\"\nprocess.name:\"a b\" or \\\n  process.name:c\n\"\"\"",
        "'process.name:\"cmd.exe\" or process.args:x'",
        "\"process.name:\\\"cmd.exe\\\" or process.args:\\\"a\\\\\\\"b\\\"\"",
    ];
    for lit in lits {
        for excl in [port_exclusion(), two_field_exclusion()] {
            let text = rule_text("kuery", lit);
            let edited = apply_and_check(&text, &excl);
            // strings stay closed: the threat table is still there
            assert!(edited.contains("[[rule.threat]]"));
        }
    }
    // top-level `or` is wrapped, a plain conjunction is not
    let edited = apply_and_check(
        &rule_text("kuery", "'''\na:1 or b:2\n'''"),
        &port_exclusion(),
    );
    assert!(
        edited.contains("'''\n(a:1 or b:2)\nand not source.port:(80 or 443)\n'''"),
        "{edited}"
    );
    let edited = apply_and_check(&rule_text("kuery", "\"a:1 and b:2\""), &port_exclusion());
    assert!(
        edited.contains("query = \"a:1 and b:2 and not source.port:(80 or 443)\""),
        "{edited}"
    );
}

#[test]
fn lucene_in_every_string_kind() {
    let lits = [
        "'''\nevent.category:network AND destination.port:(6667 OR 6697)\n'''",
        "'process.name:a OR process.name:b'",
        "\"process.name:\\\"cmd.exe\\\" process.args:x\"",
        "'process.name:cmd.exe'",
    ];
    for lit in lits {
        for excl in [port_exclusion(), two_field_exclusion()] {
            apply_and_check(&rule_text("lucene", lit), &excl);
        }
    }
    let edited = apply_and_check(&rule_text("lucene", "'a:1 b:2'"), &port_exclusion());
    assert!(
        edited.contains("query = '(a:1 b:2) AND NOT source.port:(80 OR 443)'"),
        "{edited}"
    );
}

#[test]
fn no_edit_when_the_string_cannot_hold_the_clause() {
    let excl = Exclusion {
        name: "q".into(),
        fields: vec![ExclusionField {
            field: "user.name".into(),
            op: Op::Eq,
            values: vec![ev("o'brien x", false)],
        }],
    };
    let (f, rule) = parse_one(&rule_text("kuery", "'a:1'"));
    let s = suggest::render(&rule, &f, &excl, &[]).unwrap();
    assert!(s.fix.edits.is_empty());
    assert!(
        s.text.starts_with("and not user.name:\"o'brien x\""),
        "{}",
        s.text
    );
    // the same exclusion fits in a basic string
    apply_and_check(&rule_text("kuery", "\"a:1\""), &excl);
}

#[test]
fn placeholders_are_flagged_and_quoted() {
    let excl = Exclusion {
        name: "dns".into(),
        fields: vec![ExclusionField {
            field: "destination.ip".into(),
            op: Op::Eq,
            values: vec![ExclusionValue {
                text: "<your DNS servers>".into(),
                numeric: false,
                origin: ValueOrigin::Placeholder,
            }],
        }],
    };
    let (f, rule) = parse_one(&rule_text("kuery", "'''\ndestination.port:53\n'''"));
    let s = suggest::render(&rule, &f, &excl, &[]).unwrap();
    assert!(s.has_placeholders);
    assert!(s
        .text
        .starts_with("and not destination.ip:\"<your DNS servers>\""));
    assert_eq!(s.language, Language::Kql);
    apply_and_check(&rule_text("kuery", "'''\ndestination.port:53\n'''"), &excl);
}

/// Every KQL rule of the corpus takes the exclusion and re-parses.
#[test]
fn corpus_kql_rules_take_the_exclusion() {
    let Some(root) = common::corpus_dir("elastic", "KQL corpus exclusions") else {
        return;
    };
    let files = common::toml_files(&root);
    let mut n = 0;
    for p in files {
        let Ok(text) = std::fs::read_to_string(&p) else {
            continue;
        };
        let f = SourceFile::new(&p, text.clone());
        let parsed = elastic::parse(&f);
        let Some(rule) = parsed.rules.first() else {
            continue;
        };
        if rule.language != Language::Kql || rule.logic.is_none() {
            continue;
        }
        apply_and_check(&text, &two_field_exclusion());
        n += 1;
    }
    println!("exclusion applied to {n} KQL corpus rules");
    assert!(n > 0);
}

#[test]
fn crlf_files_keep_their_line_endings() {
    for lit in ["'''\na:1 or b:2\n'''", "\"\"\"\na:1 or \\\n b:2\n\"\"\""] {
        let text = rule_text("kuery", lit).replace('\n', "\r\n");
        let edited = apply_and_check(&text, &port_exclusion());
        assert!(!edited.replace("\r\n", "").contains('\n'), "{edited:?}");
    }
}
