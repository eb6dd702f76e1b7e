use super::*;
use crate::rule::{Cmp, Op, Parsed};
use crate::severity::Severity;
use crate::testkit::texts;

fn file(text: &str) -> SourceFile {
    SourceFile::new("rule.yml", text)
}

fn errors(p: &ParsedFile) -> Vec<&ParseIssue> {
    p.issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect()
}

/// The logic of the only rule; asserts there is no error.
fn logic(text: &str) -> Logic {
    let p = parse(&file(text));
    assert!(errors(&p).is_empty(), "unexpected errors: {:#?}", p.issues);
    assert_eq!(p.rules.len(), 1);
    p.rules[0].logic.clone().expect("logic")
}

/// A rule whose detection holds `body` (indented 4) and `condition`.
fn rule(body: &str, condition: &str) -> String {
    let mut s = String::from("title: Test\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n");
    for line in body.lines() {
        s.push_str("    ");
        s.push_str(line);
        s.push('\n');
    }
    s.push_str("    condition: ");
    s.push_str(condition);
    s.push('\n');
    s
}

fn span_of(text: &str, needle: &str) -> Span {
    let i = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in text"));
    Span::new(i, i + needle.len())
}

fn nth_span(text: &str, needle: &str, n: usize) -> Span {
    let i = text
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("`{needle}` #{n} not in text"))
        .0;
    Span::new(i, i + needle.len())
}

fn cmps(l: &Logic) -> Vec<(Cmp, bool)> {
    let mut out = Vec::new();
    l.visit_cmps(&mut |c, neg| out.push((c.clone(), neg)));
    out
}

fn only_cmp(l: &Logic) -> Cmp {
    match l {
        Logic::Cmp(c) => c.clone(),
        other => panic!("expected a Cmp, got {other:#?}"),
    }
}

// ---------------------------------------------------------------- spans

#[test]
fn exact_spans_of_field_value_and_comparison() {
    let text = rule(
        "selection:\n    Image|endswith: '\\foo.exe'\n    SourcePort: 443",
        "selection",
    );
    let f = file(&text);
    let l = logic(&text);
    let Logic::And(parts) = &l else {
        panic!("{l:#?}")
    };
    let image = only_cmp(&parts[0]);
    assert_eq!(image.field.raw, "Image");
    assert_eq!(image.field.span, span_of(&text, "Image"));
    assert_eq!(image.op, Op::EndsWith);
    assert_eq!(texts(&image), ["\\foo.exe"]);
    assert_eq!(image.values[0].span, span_of(&text, "\\foo.exe"));
    assert_eq!(f.slice(image.span), "Image|endswith: '\\foo.exe'");
    let port = only_cmp(&parts[1]);
    assert_eq!(port.values[0].parsed, Parsed::Int(443));
    assert_eq!(port.values[0].span, span_of(&text, "443"));
    assert_eq!(f.slice(port.span), "SourcePort: 443");
}

#[test]
fn spans_through_quoted_and_escaped_scalars() {
    let text = rule(
        "selection:\n    'Command Line|contains': \"a\\\"b\"\n    User: 'it''s'",
        "selection",
    );
    let l = logic(&text);
    let c = cmps(&l);
    assert_eq!(c[0].0.field.raw, "Command Line");
    assert_eq!(c[0].0.field.span, span_of(&text, "Command Line"));
    assert_eq!(c[0].0.op, Op::Contains);
    assert_eq!(texts(&c[0].0), ["a\"b"]);
    assert_eq!(c[0].0.values[0].span, span_of(&text, "a\\\"b"));
    assert_eq!(texts(&c[1].0), ["it's"]);
    assert_eq!(c[1].0.values[0].span, span_of(&text, "it''s"));
}

#[test]
fn values_keep_their_text_whatever_yaml_1_1_says() {
    let text = rule(
        "selection:\n    a: 0755\n    b: '22:30'\n    c: no\n    d: yes\n    e: on\n    f: 0x10\n    g: 22:30\n    h: '443'\n    i: 1.5",
        "selection",
    );
    let l = logic(&text);
    let c = cmps(&l);
    let got: Vec<(&str, &Parsed)> = c
        .iter()
        .map(|(c, _)| (c.values[0].text.as_str(), &c.values[0].parsed))
        .collect();
    assert_eq!(
        got,
        vec![
            ("0755", &Parsed::Str),
            ("22:30", &Parsed::Str),
            ("no", &Parsed::Str),
            ("yes", &Parsed::Str),
            ("on", &Parsed::Str),
            ("0x10", &Parsed::Str),
            ("22:30", &Parsed::Str),
            ("443", &Parsed::Str),
            ("1.5", &Parsed::Float(1.5)),
        ]
    );
    assert_eq!(c[7].0.values[0].as_int(), Some(443));
}

#[test]
fn condition_names_have_file_spans() {
    let text = rule(
        "selection:\n    a: 1\nfilter:\n    b: 2",
        "selection and not filter",
    );
    let p = parse(&file(&text));
    let r = &p.rules[0];
    assert_eq!(
        r.anchors.conditions,
        vec![span_of(&text, "selection and not filter")]
    );
    assert_eq!(r.anchors.selections, vec!["selection", "filter"]);
    assert_eq!(r.anchors.detection_indent, Some(4));
    let det = r.anchors.detection.unwrap();
    assert_eq!(det.start, span_of(&text, "selection:").start);
    assert_eq!(det.end, text.trim_end().len());
}

// ------------------------------------------------------------ modifiers

#[test]
fn match_position_modifiers() {
    let text = rule(
        "selection:\n    A|contains: x\n    B|startswith: y\n    C|endswith: z\n    D|contains|all:\n        - p\n        - q",
        "selection",
    );
    let l = logic(&text);
    let c = cmps(&l);
    assert_eq!(c[0].0.op, Op::Contains);
    assert_eq!(c[1].0.op, Op::StartsWith);
    assert_eq!(c[2].0.op, Op::EndsWith);
    assert_eq!(c[3].0.op, Op::Contains);
    assert!(c[3].0.all);
    assert_eq!(texts(&c[3].0), ["p", "q"]);
    assert!(!c[0].0.all);
}

#[test]
fn regex_cidr_compare_fieldref_and_transforms() {
    let text = rule(
        "selection:\n    A|re|i|m: '^a.*b$'\n    B|cidr: 10.0.0.0/8\n    C|gt: 5\n    D|lte: 10\n    E|fieldref: Image\n    F|base64offset|contains: secret\n    G|windash|contains: ' -enc '\n    H|cased: Foo\n    I|expand: '%admins%'\n    J|utf16le|base64: x",
        "selection",
    );
    let l = logic(&text);
    let c: Vec<Cmp> = cmps(&l).into_iter().map(|x| x.0).collect();
    assert_eq!(
        (c[0].op, c[0].modifiers.clone()),
        (Op::Regex, vec!["i".to_string(), "m".to_string()])
    );
    assert_eq!(texts(&c[0]), ["^a.*b$"]);
    assert_eq!(c[1].op, Op::Cidr);
    assert_eq!(texts(&c[1]), ["10.0.0.0/8"]);
    assert_eq!(
        (c[2].op, c[2].values[0].parsed.clone()),
        (Op::Gt, Parsed::Int(5))
    );
    assert_eq!(c[3].op, Op::Lte);
    assert_eq!((c[4].op, texts(&c[4])), (Op::FieldRef, vec!["Image"]));
    assert_eq!(
        (c[5].op, c[5].modifiers.clone()),
        (Op::Contains, vec!["base64offset".to_string()])
    );
    assert_eq!(
        (c[6].op, c[6].modifiers.clone()),
        (Op::Contains, vec!["windash".to_string()])
    );
    assert_eq!(texts(&c[6]), [" -enc "]);
    assert_eq!(
        (c[7].op, c[7].modifiers.clone()),
        (Op::Eq, vec!["cased".to_string()])
    );
    assert_eq!(c[8].modifiers, vec!["expand".to_string()]);
    assert_eq!(
        c[9].modifiers,
        vec!["utf16le".to_string(), "base64".to_string()]
    );
}

#[test]
fn exists_modifier() {
    let text = rule(
        "selection:\n    A|exists: true\n    B|exists: false",
        "selection",
    );
    let l = logic(&text);
    let Logic::And(parts) = &l else { panic!() };
    let a = only_cmp(&parts[0]);
    assert_eq!(a.op, Op::Exists);
    assert!(a.values.is_empty());
    match &parts[1] {
        Logic::Not(inner) => assert_eq!(only_cmp(inner).op, Op::Exists),
        other => panic!("{other:#?}"),
    }
    let bad = rule("selection:\n    A|exists: maybe", "selection");
    let p = parse(&file(&bad));
    assert_eq!(errors(&p)[0].code, "RL004");
}

#[test]
fn unknown_modifier_is_rl005_at_its_span_with_did_you_mean() {
    let text = rule("selection:\n    CommandLine|contians: foo", "selection");
    let p = parse(&file(&text));
    let e = errors(&p);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "RL005");
    assert_eq!(e[0].span, span_of(&text, "contians"));
    assert_eq!(e[0].help.as_deref(), Some("did you mean `contains`?"));
    // The rule is still produced, the entry is opaque.
    assert!(p.rules[0].logic.as_ref().unwrap().has_opaque());

    let text = rule("selection:\n    'Image|endswith|wat': foo", "selection");
    let p = parse(&file(&text));
    assert_eq!(errors(&p)[0].span, span_of(&text, "wat"));
    assert_eq!(errors(&p)[0].help, None);
}

// ------------------------------------------------------------ wildcards

#[test]
fn wildcards_become_match_operators_or_globs() {
    let text = rule(
        "selection:\n    A: '*\\evil.exe'\n    B: 'C:\\Temp\\\\*'\n    C: '*mimikatz*'\n    D: 'C:\\\\*\\x.exe'\n    E: 'ab?'\n    F: 'lit\\*'\n    G: '*'\n    H|contains: 'a*b'\n    I: 'x\\*'",
        "selection",
    );
    let l = logic(&text);
    let c: Vec<Cmp> = cmps(&l).into_iter().map(|x| x.0).collect();
    assert_eq!((c[0].op, texts(&c[0])), (Op::EndsWith, vec!["\\evil.exe"]));
    assert_eq!(c[0].values[0].span, span_of(&text, "\\evil.exe"));
    // `\\*` is an escaped backslash then a wildcard
    assert_eq!(
        (c[1].op, texts(&c[1])),
        (Op::StartsWith, vec!["C:\\Temp\\"])
    );
    assert_eq!((c[2].op, texts(&c[2])), (Op::Contains, vec!["mimikatz"]));
    // a glob keeps the Sigma escapes as written
    assert_eq!(
        (c[3].op, texts(&c[3])),
        (Op::Wildcard, vec!["C:\\\\*\\x.exe"])
    );
    assert_eq!(c[3].values[0].span, span_of(&text, "C:\\\\*\\x.exe"));
    assert_eq!((c[4].op, texts(&c[4])), (Op::Wildcard, vec!["ab?"]));
    assert_eq!((c[5].op, texts(&c[5])), (Op::Eq, vec!["lit*"]));
    assert_eq!((c[6].op, c[6].values.len()), (Op::Exists, 0));
    assert_eq!((c[7].op, texts(&c[7])), (Op::Wildcard, vec!["*a*b*"]));
    // `\*` alone is an escaped star
    assert_eq!((c[8].op, texts(&c[8])), (Op::Eq, vec!["x*"]));
}

#[test]
fn mixed_operators_in_one_list_split_into_an_or() {
    let text = rule(
        "selection:\n    Image:\n        - '*\\a.exe'\n        - 'C:\\b.exe'\n        - '*\\c.exe'",
        "selection",
    );
    let l = logic(&text);
    let Logic::Or(parts) = &l else {
        panic!("{l:#?}")
    };
    let a = only_cmp(&parts[0]);
    assert_eq!(
        (a.op, texts(&a)),
        (Op::EndsWith, vec!["\\a.exe", "\\c.exe"])
    );
    let b = only_cmp(&parts[1]);
    assert_eq!((b.op, texts(&b)), (Op::Eq, vec!["C:\\b.exe"]));
}

#[test]
fn null_and_empty_values() {
    let text = rule(
        "selection:\n    A: null\n    B: ''\n    C:\n    D: ~",
        "selection",
    );
    let l = logic(&text);
    let c: Vec<Cmp> = cmps(&l).into_iter().map(|x| x.0).collect();
    assert!(c[0].values[0].is_null());
    assert_eq!(c[0].op, Op::Eq);
    assert_eq!(c[0].values[0].span, nth_span(&text, "null", 0));
    assert_eq!(
        (c[1].op, texts(&c[1]), c[1].values[0].parsed.clone()),
        (Op::Eq, vec![""], Parsed::Str)
    );
    assert!(c[2].values[0].is_null());
    assert!(c[3].values[0].is_null());
}

// ------------------------------------------------------- selection shapes

#[test]
fn list_of_maps_is_or_and_map_is_and() {
    let text = rule(
        "selection:\n    - A: 1\n      B: 2\n    - C: 3",
        "selection",
    );
    let l = logic(&text);
    let Logic::Or(alts) = &l else {
        panic!("{l:#?}")
    };
    assert_eq!(alts.len(), 2);
    assert!(matches!(&alts[0], Logic::And(x) if x.len() == 2));
    assert!(matches!(&alts[1], Logic::Cmp(_)));
}

#[test]
fn keyword_selections() {
    let text = rule("keywords:\n    - 'evil'\n    - bad*thing\nkw2: single\nkw3:\n    '|all':\n        - x\n        - y", "keywords or kw2 or kw3");
    let l = logic(&text);
    let Logic::Or(alts) = &l else {
        panic!("{l:#?}")
    };
    match &alts[0] {
        Logic::Keyword(k) => {
            let t: Vec<&str> = k.values.iter().map(|v| v.text.as_str()).collect();
            assert_eq!(t, ["evil", "bad*thing"]);
            assert_eq!(k.values[0].span, span_of(&text, "evil"));
        }
        other => panic!("{other:#?}"),
    }
    assert!(matches!(&alts[1], Logic::Keyword(k) if k.values[0].text == "single"));
    assert!(matches!(&alts[2], Logic::And(x) if x.len() == 2 && matches!(x[0], Logic::Keyword(_))));
}

// -------------------------------------------------------------- condition

fn names(l: &Logic) -> String {
    match l {
        Logic::And(c) => format!("and({})", c.iter().map(names).collect::<Vec<_>>().join(",")),
        Logic::Or(c) => format!("or({})", c.iter().map(names).collect::<Vec<_>>().join(",")),
        Logic::Not(x) => format!("not({})", names(x)),
        Logic::Cmp(c) => c.field.raw.clone(),
        Logic::Keyword(_) => "kw".into(),
        Logic::Opaque(o) => format!("opaque({})", o.text),
        Logic::Shared(x) => format!("shared({})", names(x)),
    }
}

const ABC: &str = "a:\n    A: 1\nb:\n    B: 1\nc:\n    C: 1";

#[test]
fn precedence_not_and_or() {
    assert_eq!(
        names(&logic(&rule(ABC, "a or b and not c"))),
        "or(A,and(B,not(C)))"
    );
    assert_eq!(names(&logic(&rule(ABC, "not a and b"))), "and(not(A),B)");
    assert_eq!(
        names(&logic(&rule(ABC, "(a or b) and not c"))),
        "and(or(A,B),not(C))"
    );
    assert_eq!(
        names(&logic(&rule(ABC, "not (a or not b)"))),
        "not(or(A,not(B)))"
    );
    assert_eq!(
        names(&logic(&rule(ABC, "a AND (b OR c)"))),
        "and(A,or(B,C))"
    );
}

#[test]
fn quantifiers() {
    let sels = "sel_a:\n    A: 1\nsel_b:\n    B: 1\nfilter_x:\n    X: 1\n_helper:\n    H: 1";
    assert_eq!(names(&logic(&rule(sels, "1 of sel_*"))), "or(A,B)");
    assert_eq!(names(&logic(&rule(sels, "any of sel_*"))), "or(A,B)");
    assert_eq!(names(&logic(&rule(sels, "all of sel_*"))), "and(A,B)");
    assert_eq!(names(&logic(&rule(sels, "1 of them"))), "or(A,B,X)");
    assert_eq!(names(&logic(&rule(sels, "all of them"))), "and(A,B,X)");
    assert_eq!(
        names(&logic(&rule(
            sels,
            "all of sel_* and not 1 of filter_* and not _helper"
        ))),
        "and(A,B,not(X),not(H))"
    );
    let p = parse(&file(&rule(sels, "2 of them")));
    assert!(errors(&p).is_empty());
    assert!(p.issues.iter().any(|i| i.code == "RL010"));
    assert!(p.rules[0].logic.as_ref().unwrap().has_opaque());
}

#[test]
fn condition_list_is_or() {
    let text = rule(ABC, "\n        - a and b\n        - c");
    let p = parse(&file(&text));
    assert!(errors(&p).is_empty(), "{:#?}", p.issues);
    assert_eq!(names(p.rules[0].logic.as_ref().unwrap()), "or(and(A,B),C)");
    assert_eq!(
        p.rules[0].anchors.conditions,
        vec![span_of(&text, "a and b"), {
            let i = text.rfind("- c").unwrap() + 2;
            Span::new(i, i + 1)
        }]
    );
}

#[test]
fn unknown_selection_is_rl007_at_the_name() {
    let text = rule("selection:\n    A: 1", "selection and not filtr");
    let p = parse(&file(&text));
    let e = errors(&p);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "RL007");
    assert_eq!(e[0].span, span_of(&text, "filtr"));
    assert_eq!(e[0].help, None);

    let text = rule(
        "selection:\n    A: 1\nfilter:\n    B: 1",
        "selection and not filtr",
    );
    let p = parse(&file(&text));
    assert_eq!(
        errors(&p)[0].help.as_deref(),
        Some("did you mean `filter`?")
    );

    let text = rule("selection:\n    A: 1", "selection and not 1 of filter_*");
    let p = parse(&file(&text));
    assert_eq!(errors(&p)[0].code, "RL007");
    assert_eq!(errors(&p)[0].span, span_of(&text, "filter_*"));
}

#[test]
fn unknown_selection_span_through_quoted_and_block_conditions() {
    // single-quoted
    let text = rule("selection:\n    A: 1", "'selection and nope'");
    let e = parse(&file(&text)).issues;
    assert_eq!(e[0].span, span_of(&text, "nope"));
    // double-quoted with an escape before the name
    let text = rule("selection:\n    A: 1", "\"selection and\\tnope\"");
    let e = parse(&file(&text)).issues;
    assert_eq!(e[0].span, span_of(&text, "nope"));
    // folded
    let text = rule(
        "selection:\n    A: 1",
        ">\n        selection and\n        not nope",
    );
    let e = parse(&file(&text)).issues;
    assert_eq!(e[0].span, span_of(&text, "nope"));
    // literal
    let text = rule(
        "selection:\n    A: 1",
        "|\n        selection\n          and not nope",
    );
    let e = parse(&file(&text)).issues;
    assert_eq!(e[0].span, span_of(&text, "nope"));
    // plain, over two lines
    let text = rule("selection:\n    A: 1", "selection and\n        not nope");
    let e = parse(&file(&text)).issues;
    assert_eq!(e[0].span, span_of(&text, "nope"));
}

#[test]
fn syntax_errors_are_rl006_at_the_exact_position() {
    let cases: &[(&str, &str)] = &[
        ("a and", "END"),
        ("(a or b", "END"),
        ("a or b)", ")"),
        ("a b", "b"),
        ("and a", "and"),
        ("a and not", "END"),
        ("1 of", "END"),
        ("x of a", "x"),
        ("", "END"),
    ];
    for (cond, at) in cases {
        let text = rule(ABC, &format!("'{cond}'"));
        let p = parse(&file(&text));
        let e = errors(&p);
        assert_eq!(e.len(), 1, "{cond}: {:#?}", p.issues);
        assert_eq!(e[0].code, "RL006", "{cond}");
        let cstart = text.rfind("condition: '").unwrap() + "condition: '".len();
        let expected = if *at == "END" {
            Span::point(cstart + cond.len())
        } else {
            let i = cond.rfind(at).unwrap();
            Span::new(cstart + i, cstart + i + at.len())
        };
        assert_eq!(e[0].span, expected, "{cond}");
        assert!(p.rules[0].logic.as_ref().unwrap().has_opaque());
    }
}

#[test]
fn unparsable_condition_reports_syntax_only() {
    let text = rule(ABC, "write x from a to list; then if b -> alert");
    let p = parse(&file(&text));
    let e = errors(&p);
    assert_eq!(e.len(), 1, "{:#?}", p.issues);
    assert_eq!(e[0].code, "RL006");
}

#[test]
fn legacy_aggregation_is_opaque_with_info() {
    let text = rule(ABC, "a and not b | count(x) by y > 5");
    let p = parse(&file(&text));
    assert!(errors(&p).is_empty());
    let info: Vec<_> = p.issues.iter().filter(|i| i.code == "RL009").collect();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].severity, Severity::Info);
    assert_eq!(info[0].span, span_of(&text, "| count(x) by y > 5"));
    let l = p.rules[0].logic.as_ref().unwrap();
    assert_eq!(names(l), "and(A,not(B),opaque(| count(x) by y > 5))");

    let text = rule(ABC, "a | near b");
    let p = parse(&file(&text));
    assert!(errors(&p).is_empty());
    assert!(p.issues[0].message.contains("near"));
}

// ----------------------------------------------------- metadata & docs

#[test]
fn metadata() {
    let text = "title: Suspicious Thing\nid: 5a0b6d8e-0000-4000-8000-000000000001\nstatus: test\ndescription: |\n    Detects a thing.\nauthor: Jane\nlevel: high\ntags:\n    - attack.execution\n    - attack.t1059\nreferences:\n    - https://example.com\nfalsepositives:\n    - Admins\nlogsource:\n    category: network_connection\n    product: Windows\n    service: sysmon\ndetection:\n    selection:\n        A: 1\n    condition: selection\n";
    let p = parse(&file(text));
    assert!(p.issues.is_empty(), "{:#?}", p.issues);
    let r = &p.rules[0];
    assert_eq!(
        (r.format, r.language, r.schema),
        (Format::Sigma, Language::Sigma, Schema::Sigma)
    );
    let m = &r.meta;
    assert_eq!(m.title.as_ref().unwrap().value, "Suspicious Thing");
    assert_eq!(
        m.title.as_ref().unwrap().span,
        span_of(text, "Suspicious Thing")
    );
    assert_eq!(
        m.id.as_ref().unwrap().value,
        "5a0b6d8e-0000-4000-8000-000000000001"
    );
    assert_eq!(m.status.as_ref().unwrap().value, "test");
    assert_eq!(m.level.as_ref().unwrap().value, "high");
    assert_eq!(m.description.as_ref().unwrap().value, "Detects a thing.");
    assert_eq!(m.author.as_ref().unwrap().value, "Jane");
    assert_eq!(m.tags.len(), 2);
    assert_eq!(m.tags[1].span, span_of(text, "attack.t1059"));
    assert_eq!(m.references[0].value, "https://example.com");
    assert_eq!(m.falsepositives[0].value, "Admins");
    assert_eq!(m.data, vec!["network_connection", "windows", "sysmon"]);
    assert_eq!(m.rule_type, None);
    assert_eq!(r.span, Span::new(0, text.trim_end().len()));
}

#[test]
fn legacy_global_documents_are_merged() {
    let text = "action: global\ntitle: Shared\ndetection:\n    selection1:\n        EventID: 1\n    condition: selection1 and selection2\n---\nlogsource:\n    product: windows\ndetection:\n    selection2:\n        A: 1\n---\nlogsource:\n    product: linux\ndetection:\n    selection2:\n        B: 2\n";
    let p = parse(&file(text));
    assert!(errors(&p).is_empty(), "{:#?}", p.issues);
    assert_eq!(p.rules.len(), 2);
    assert_eq!(p.rules[0].meta.title.as_ref().unwrap().value, "Shared");
    assert_eq!(p.rules[0].meta.data, vec!["windows"]);
    assert_eq!(p.rules[1].meta.data, vec!["linux"]);
    assert_eq!(names(p.rules[0].logic.as_ref().unwrap()), "and(EventID,A)");
    assert_eq!(names(p.rules[1].logic.as_ref().unwrap()), "and(EventID,B)");
    assert_eq!(p.rules[1].span.start, text.rfind("logsource").unwrap());
}

#[test]
fn value_count_correlation_counts_distinct_values() {
    let text = "title: Spray\nid: 11111111-0000-4000-8000-000000000001\ncorrelation:\n    type: value_count\n    rules: [failed_logon]\n    group-by: IpAddress\n    timespan: 10m\n    condition:\n        gt: 30\n        field: TargetUserName\n";
    let p = parse(&file(text));
    let a = &p.rules[0].meta.aggregations[0];
    assert_eq!(a.fields[0].value, "IpAddress");
    assert_eq!(a.distinct[0].value, "TargetUserName");
    assert_eq!(a.threshold, Some(30));
    // An unknown correlation type is not read as counting.
    let odd = text.replace("value_count", "something_else");
    assert!(parse(&file(&odd)).rules[0].meta.aggregations.is_empty());
}

#[test]
fn correlation_and_filter_documents() {
    let text = "title: Many failures\nid: 11111111-0000-4000-8000-000000000000\ncorrelation:\n    type: event_count\n    rules:\n        - failed_logon\n    group-by:\n        - User\n    timespan: 5m\n    condition:\n        gte: 10\n---\ntitle: Filter admins\nlogsource:\n    product: windows\nfilter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n    selection:\n        User|startswith: 'adm_'\n    condition: not selection\n";
    let p = parse(&file(text));
    assert!(p.issues.is_empty(), "{:#?}", p.issues);
    assert_eq!(p.rules.len(), 2);
    let c = &p.rules[0];
    assert_eq!(c.meta.rule_type.as_ref().unwrap().value, "correlation");
    assert_eq!(
        c.meta.rule_type.as_ref().unwrap().span,
        span_of(text, "correlation")
    );
    assert!(c.logic.is_none());
    let [agg] = c.meta.aggregations.as_slice() else {
        panic!("{:?}", c.meta.aggregations)
    };
    assert_eq!(agg.fields.len(), 1);
    assert_eq!(agg.fields[0].value, "User");
    let at = span_of(text, "User\n    timespan").start;
    assert_eq!(agg.fields[0].span, Span::new(at, at + 4));
    assert!(agg.distinct.is_empty());
    assert_eq!(agg.threshold, Some(10));
    let f = &p.rules[1];
    assert_eq!(f.meta.rule_type.as_ref().unwrap().value, "filter");
    assert_eq!(names(f.logic.as_ref().unwrap()), "not(User)");
    assert_eq!(f.anchors.selections, vec!["selection"]);
    assert_eq!(f.anchors.conditions, vec![span_of(text, "not selection")]);
}

#[test]
fn detection_indent_two() {
    let text = "title: t\nlogsource:\n  product: windows\ndetection:\n  sel:\n    A: 1\n  condition: sel\n";
    let p = parse(&file(text));
    assert_eq!(p.rules[0].anchors.detection_indent, Some(2));
}

// --------------------------------------------------------------- bad input

fn codes(text: &str) -> Vec<(&'static str, Span)> {
    parse(&file(text))
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| (i.code, i.span))
        .collect()
}

#[test]
fn invalid_yaml_is_rl002_at_the_position() {
    let text = "title: t\ndetection:\n    sel: [a, b\n    condition: sel\n";
    let c = codes(text);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].0, "RL002");
    // the scanner stops at the `:` it cannot place inside the open flow list
    assert_eq!(c[0].1.start, text.rfind(':').unwrap());
    let text = "title: 'unterminated\n";
    assert_eq!(codes(text)[0].0, "RL002");
    let text = "a: b\n  c: d\n";
    // the `:` that makes `c` a key inside a plain scalar
    assert_eq!(codes(text)[0], ("RL002", Span::new(8, 9)));
}

#[test]
fn broken_document_does_not_hide_the_others() {
    let good = rule("sel:\n    A: 1", "sel");
    let text = format!("{good}---\ntitle: [broken\n---\n{good}");
    let p = parse(&file(&text));
    assert_eq!(p.rules.len(), 2, "{:#?}", p.issues);
    assert_eq!(errors(&p).len(), 1);
    assert_eq!(errors(&p)[0].code, "RL002");
}

#[test]
fn wrong_types_are_rl004() {
    // detection is a list
    let text = "title: t\ndetection:\n    - a\n    - b\n";
    let c = codes(text);
    assert_eq!(
        c,
        vec![(
            "RL004",
            Span::new(text.find("- a").unwrap(), text.trim_end().len())
        )]
    );
    // a selection that is a number
    let text = rule("sel: 42", "sel");
    assert_eq!(codes(&text), vec![("RL004", span_of(&text, "42"))]);
    // a field whose value is a mapping
    let text = rule("sel:\n    A:\n        b: 1", "sel");
    assert_eq!(codes(&text)[0].0, "RL004");
    // a list item that is a list
    let text = rule("sel:\n    A:\n        - [1, 2]", "sel");
    assert_eq!(codes(&text)[0].0, "RL004");
    // condition is a mapping
    let text = "title: t\ndetection:\n    sel:\n        A: 1\n    condition:\n        x: 1\n";
    assert_eq!(codes(text)[0].0, "RL004");
    // the document is a list
    assert_eq!(codes("- a\n- b\n")[0].0, "RL004");
    // empty selection
    let text = rule("sel:", "sel");
    assert_eq!(codes(&text)[0].0, "RL004");
}

#[test]
fn missing_detection_or_condition_is_rl004() {
    let text = "title: t\nlogsource:\n    product: windows\n";
    assert_eq!(codes(text), vec![("RL004", Span::new(0, 5))]);
    let text = "title: t\ndetection:\n    sel:\n        A: 1\n";
    assert_eq!(codes(text), vec![("RL004", span_of(text, "detection"))]);
    let text = "title: t\ndetection:\n";
    assert_eq!(codes(text), vec![("RL004", span_of(text, "detection"))]);
}

#[test]
fn empty_file_is_rl012() {
    for text in ["", "\n\n", "# just a comment\n", "---\n", "---\n...\n"] {
        assert_eq!(codes(text), vec![("RL012", Span::new(0, 0))], "{text:?}");
    }
}

#[test]
fn duplicate_keys_are_rl013() {
    let text = rule("sel:\n    A: 1\n    A: 2", "sel");
    let c = codes(&text);
    assert_eq!(c, vec![("RL013", nth_span(&text, "A", 1))]);
    let text = "title: a\ntitle: b\ndetection:\n    s:\n        A: 1\n    condition: s\n";
    assert_eq!(codes(text), vec![("RL013", Span::new(9, 14))]);
}

#[test]
fn hostile_input_never_panics() {
    let deep_flow = format!("a: {}{}", "[".repeat(1000), "]".repeat(1000));
    let deep_block: String = (0..400)
        .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
        .collect();
    let deep_cond = rule(ABC, &format!("{}a{}", "(".repeat(500), ")".repeat(500)));
    let nots = rule(ABC, &"not ".repeat(500));
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    let inputs = [
        deep_flow.as_str(),
        deep_block.as_str(),
        deep_cond.as_str(),
        nots.as_str(),
        bomb,
        "\u{feff}title: bom\n",
        "\t\ttitle: tabs\n",
        "detection:\n  sel:\n    A|: 1\n  condition: sel\n",
        "detection:\n  sel:\n    '|': 1\n  condition: sel\n",
        "detection:\n  ? [a]\n  : b\n  condition: a\n",
        "detection: {sel: {A: 1}, condition: sel}\nlogsource: {}\n",
        "détection: é\n  - ü: ß\n",
        "key: \"\\x\"\n",
        "k: !!binary aGVsbG8=\n",
        "*unknown\n",
        "&a [*a]\n",
        "title: t\ndetection:\n  sel:\n    A: 'é*ü'\n  condition: 'sél'\n",
        "%YAML 1.1\n---\ntitle: x\n",
        "\0\0\0",
        ":",
        "- - - -",
        "condition: |\n",
    ];
    for text in inputs {
        let p = parse(&file(text));
        for i in &p.issues {
            assert!(
                i.span.start <= i.span.end && i.span.end <= text.len(),
                "{text:?}: {i:?}"
            );
            assert!(text.is_char_boundary(i.span.start) && text.is_char_boundary(i.span.end));
        }
    }
    let p = parse(&file(&deep_cond));
    assert_eq!(errors(&p)[0].code, "RL006");
}

#[test]
fn flow_style_detection() {
    let text = "title: t\nlogsource: {product: windows}\ndetection: {sel: {Image|endswith: '\\x.exe'}, condition: sel}\n";
    let p = parse(&file(text));
    assert!(errors(&p).is_empty(), "{:#?}", p.issues);
    let c = cmps(p.rules[0].logic.as_ref().unwrap());
    assert_eq!(c[0].0.values[0].span, span_of(text, "\\x.exe"));
    assert_eq!(p.rules[0].anchors.detection_indent, None);
}

#[test]
fn sniffing() {
    assert!(looks_like_rule(
        "title: x\nlogsource:\n  product: w\ndetection:\n  s: 1\n"
    ));
    assert!(looks_like_rule(
        "title: x\ncorrelation:\n  type: event_count\n"
    ));
    assert!(looks_like_rule("title: x\nfilter:\n  rules:\n    - a\n"));
    assert!(!looks_like_rule("title: x\ndetection:\n  s: 1\n"));
    assert!(!looks_like_rule("name: x\nsearch: '| tstats'\n"));
    assert!(!looks_like_rule("[rule]\nquery = \"a\"\n"));
    assert!(!looks_like_rule("a:\n  detection: 1\n  logsource: 2\n"));
}
