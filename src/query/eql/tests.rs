use super::*;
use crate::rule::{Cmp, Op, Parsed};
use crate::severity::Severity;
use crate::testkit::{texts, Xorshift};

fn ok(q: &str) -> QueryParse {
    let p = parse(q);
    assert!(
        !p.has_errors(),
        "unexpected errors for {q:?}: {:?}",
        p.issues
    );
    p
}

fn err(q: &str) -> ParseIssue {
    let p = parse(q);
    let e = p
        .issues
        .iter()
        .find(|i| i.severity == Severity::Error)
        .unwrap_or_else(|| panic!("expected an error for {q:?}, got {:?}", p.logic))
        .clone();
    assert_eq!(e.code, "RL008");
    e
}

/// The text of `span` in `q`.
fn at(q: &str, span: Span) -> &str {
    &q[span.start..span.end]
}

/// The span of the `n`-th (0-based) occurrence of `needle` in `q`.
fn find(q: &str, needle: &str, n: usize) -> Span {
    let start = q
        .match_indices(needle)
        .nth(n)
        .unwrap_or_else(|| panic!("{needle:?} #{n} not in {q:?}"))
        .0;
    Span::new(start, start + needle.len())
}

fn cmps(l: &Logic) -> Vec<(Cmp, bool)> {
    let mut out = Vec::new();
    l.visit_cmps(&mut |c, neg| out.push((c.clone(), neg)));
    out
}

fn and_items(l: &Logic) -> &[Logic] {
    match l {
        Logic::And(v) => v,
        other => panic!("expected And, got {other:?}"),
    }
}

fn as_cmp(l: &Logic) -> &Cmp {
    match l {
        Logic::Cmp(c) => c,
        other => panic!("expected Cmp, got {other:?}"),
    }
}

#[test]
fn simple_query_exact_spans() {
    let q = r#"process where process.name == "svchost.exe""#;
    let p = ok(q);
    let items = and_items(&p.logic);
    assert_eq!(items.len(), 2);
    let cat = as_cmp(&items[0]);
    assert_eq!(cat.field.raw, "event.category");
    assert_eq!(cat.op, Op::Eq);
    assert_eq!(texts(cat), ["process"]);
    assert_eq!(cat.span, Span::new(0, 7));
    assert_eq!(cat.values[0].span, Span::new(0, 7));
    let c = as_cmp(&items[1]);
    assert_eq!(c.field.raw, "process.name");
    assert_eq!(at(q, c.field.span), "process.name");
    assert_eq!(at(q, c.span), r#"process.name == "svchost.exe""#);
    assert_eq!(at(q, c.values[0].span), "svchost.exe");
    assert_eq!(c.values[0].parsed, Parsed::Str);
    assert!(c.modifiers.is_empty());
    assert_eq!(
        p.anchors.steps,
        vec![find(q, r#"process.name == "svchost.exe""#, 0)]
    );
    assert!(p.issues.is_empty());
}

#[test]
fn any_adds_no_category() {
    let q = r#"any where network.protocol == "http""#;
    let p = ok(q);
    let c = as_cmp(&p.logic);
    assert_eq!(c.field.raw, "network.protocol");
    assert_eq!(p.anchors.steps, vec![Span::new(10, q.len())]);
}

#[test]
fn quoted_category() {
    let q = r#""my-event" where true"#;
    let p = ok(q);
    let c = as_cmp(&p.logic);
    assert_eq!(texts(c), ["my-event"]);
    assert_eq!(c.span, Span::new(1, 9));
}

#[test]
fn where_true_and_false() {
    assert_eq!(ok("any where true").logic, Logic::And(vec![]));
    let p = ok("file where false");
    let items = and_items(&p.logic);
    assert_eq!(items[1], Logic::Or(vec![]));
}

#[test]
fn not_equal_is_not_eq() {
    let q = r#"process where user.name != "root""#;
    let p = ok(q);
    let items = and_items(&p.logic);
    match &items[1] {
        Logic::Not(inner) => {
            let c = as_cmp(inner);
            assert_eq!(c.op, Op::Eq);
            assert_eq!(texts(c), ["root"]);
            assert_eq!(at(q, c.span), r#"user.name != "root""#);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn null_comparisons_are_exists() {
    let q = "any where a != null and b == null";
    let p = ok(q);
    let items = and_items(&p.logic);
    let a = as_cmp(&items[0]);
    assert_eq!((a.op, a.values.len()), (Op::Exists, 0));
    assert_eq!(at(q, a.span), "a != null");
    match &items[1] {
        Logic::Not(inner) => assert_eq!(as_cmp(inner).op, Op::Exists),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ordering_comparisons_and_numbers() {
    let q = "any where a < 1 and b <= 2 and c > 3.5 and d >= -4 and 10 > e";
    let p = ok(q);
    let got: Vec<(String, Op, String, Parsed)> = cmps(&p.logic)
        .into_iter()
        .map(|(c, _)| {
            (
                c.field.raw.clone(),
                c.op,
                c.values[0].text.clone(),
                c.values[0].parsed.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), Op::Lt, "1".into(), Parsed::Int(1)),
            ("b".into(), Op::Lte, "2".into(), Parsed::Int(2)),
            ("c".into(), Op::Gt, "3.5".into(), Parsed::Float(3.5)),
            ("d".into(), Op::Gte, "-4".into(), Parsed::Int(-4)),
            ("e".into(), Op::Lt, "10".into(), Parsed::Int(10)),
        ]
    );
    let d = cmps(&p.logic)[3].0.clone();
    assert_eq!(at(q, d.values[0].span), "-4");
}

#[test]
fn colon_is_case_insensitive_with_wildcards() {
    let q = r#"any where a : "x" and b : "*.exe" and c : "C:\\Temp\\*" and d : "*mimi*" and e : "a*b" and f : "?:\\x" and g : "*""#;
    let p = ok(q);
    let cs = cmps(&p.logic);
    let ops: Vec<(String, Op, Vec<String>)> = cs
        .iter()
        .map(|(c, _)| {
            (
                c.field.raw.clone(),
                c.op,
                c.values.iter().map(|v| v.text.clone()).collect(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            ("a".into(), Op::Eq, vec!["x".into()]),
            ("b".into(), Op::EndsWith, vec![".exe".into()]),
            ("c".into(), Op::StartsWith, vec!["C:\\Temp\\".into()]),
            ("d".into(), Op::Contains, vec!["mimi".into()]),
            ("e".into(), Op::Wildcard, vec!["a*b".into()]),
            ("f".into(), Op::Wildcard, vec!["?:\\x".into()]),
            ("g".into(), Op::Exists, vec![]),
        ]
    );
    for (c, _) in &cs {
        assert_eq!(c.modifiers, vec![CASE_INSENSITIVE.to_string()]);
    }
    // the stripped `*` is outside the value span
    assert_eq!(at(q, cs[1].0.values[0].span), ".exe");
    assert_eq!(at(q, cs[2].0.values[0].span), r"C:\\Temp\\");
    assert_eq!(at(q, cs[3].0.values[0].span), "mimi");
    assert_eq!(at(q, cs[4].0.values[0].span), "a*b");
}

#[test]
fn colon_list_splits_by_operator() {
    let q = r#"process where process.name : ("cmd.exe", "python*", "powershell.exe", "perl*")"#;
    let p = ok(q);
    let items = and_items(&p.logic);
    match &items[1] {
        Logic::Or(v) => {
            assert_eq!(v.len(), 2);
            let eq = as_cmp(&v[0]);
            assert_eq!(eq.op, Op::Eq);
            assert_eq!(texts(eq), ["cmd.exe", "powershell.exe"]);
            let sw = as_cmp(&v[1]);
            assert_eq!(sw.op, Op::StartsWith);
            assert_eq!(texts(sw), ["python", "perl"]);
            assert_eq!(at(q, sw.values[1].span), "perl");
            assert_eq!(eq.span, sw.span);
            assert_eq!(at(q, eq.span), &q[14..]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn in_and_not_in() {
    let q = r#"network where destination.port in (80, 443) and not process.name in~ ("a", "b") and user.id not in ("0")"#;
    let p = ok(q);
    let items = and_items(&p.logic);
    let port = as_cmp(&items[1]);
    assert_eq!(port.op, Op::Eq);
    assert_eq!(texts(port), ["80", "443"]);
    assert_eq!(port.values[0].parsed, Parsed::Int(80));
    assert_eq!(at(q, port.values[1].span), "443");
    assert_eq!(at(q, port.span), "destination.port in (80, 443)");
    match &items[2] {
        Logic::Not(inner) => {
            let c = as_cmp(inner);
            assert_eq!(texts(c), ["a", "b"]);
            assert_eq!(c.modifiers, vec![CASE_INSENSITIVE.to_string()]);
        }
        other => panic!("{other:?}"),
    }
    match &items[3] {
        Logic::Not(inner) => {
            let c = as_cmp(inner);
            assert_eq!(c.field.raw, "user.id");
            assert_eq!(c.values[0].parsed, Parsed::Str);
            assert_eq!(at(q, c.span), r#"user.id not in ("0")"#);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn like_and_regex() {
    let q = r##"any where a like "Foo*" and b like~ ("*x", "y") and c regex ".*\\.exe" and d regex~ """[a-z]+\d""""##;
    let p = ok(q);
    let cs = cmps(&p.logic);
    assert_eq!((cs[0].0.op, texts(&cs[0].0)), (Op::StartsWith, vec!["Foo"]));
    assert!(cs[0].0.modifiers.is_empty());
    assert_eq!((cs[1].0.op, texts(&cs[1].0)), (Op::EndsWith, vec!["x"]));
    assert_eq!(cs[1].0.modifiers, vec![CASE_INSENSITIVE.to_string()]);
    assert_eq!((cs[2].0.op, texts(&cs[2].0)), (Op::Eq, vec!["y"]));
    assert_eq!((cs[3].0.op, texts(&cs[3].0)), (Op::Regex, vec![r".*\.exe"]));
    assert!(cs[3].0.modifiers.is_empty());
    assert_eq!(
        (cs[4].0.op, texts(&cs[4].0)),
        (Op::Regex, vec![r"[a-z]+\d"])
    );
    assert_eq!(cs[4].0.modifiers, vec![CASE_INSENSITIVE.to_string()]);
    assert_eq!(at(q, cs[4].0.values[0].span), r"[a-z]+\d");
}

#[test]
fn double_equals_keeps_star_literal() {
    let p = ok(r#"any where a == "cmd*.exe""#);
    let c = as_cmp(&p.logic);
    assert_eq!((c.op, texts(c)), (Op::Eq, vec!["cmd*.exe"]));
}

#[test]
fn boolean_precedence() {
    // not binds tighter than and, and tighter than or
    let p = ok("any where not a == 1 and b == 2 or c == 3");
    match &p.logic {
        Logic::Or(v) => {
            assert_eq!(v.len(), 2);
            let and = and_items(&v[0]);
            assert!(matches!(&and[0], Logic::Not(_)));
            assert_eq!(as_cmp(&and[1]).field.raw, "b");
            assert_eq!(as_cmp(&v[1]).field.raw, "c");
        }
        other => panic!("{other:?}"),
    }
    let p = ok("any where a == 1 and (b == 2 or c == 3)");
    let items = and_items(&p.logic);
    assert!(matches!(&items[1], Logic::Or(v) if v.len() == 2));
    let p = ok("any where not (a == 1 or b == 2)");
    assert!(matches!(&p.logic, Logic::Not(x) if matches!(**x, Logic::Or(_))));
}

#[test]
fn functions_map_to_ops() {
    let q = r#"any where startsWith(a, "x", "y") and endsWith~(b, ".exe") and stringContains(c, "mid") and cidrMatch(d, "10.0.0.0/8", "192.168.0.0/16") and wildcard(e, "*.dll", "a?c") and cidrmatch(f, "::1")"#;
    let p = ok(q);
    let cs = cmps(&p.logic);
    assert_eq!(
        (cs[0].0.op, texts(&cs[0].0)),
        (Op::StartsWith, vec!["x", "y"])
    );
    assert_eq!(at(q, cs[0].0.span), r#"startsWith(a, "x", "y")"#);
    assert_eq!(at(q, cs[0].0.field.span), "a");
    assert_eq!((cs[1].0.op, texts(&cs[1].0)), (Op::EndsWith, vec![".exe"]));
    assert_eq!(cs[1].0.modifiers, vec![CASE_INSENSITIVE.to_string()]);
    assert_eq!((cs[2].0.op, texts(&cs[2].0)), (Op::Contains, vec!["mid"]));
    assert_eq!(
        (cs[3].0.op, texts(&cs[3].0)),
        (Op::Cidr, vec!["10.0.0.0/8", "192.168.0.0/16"])
    );
    assert_eq!((cs[4].0.op, texts(&cs[4].0)), (Op::EndsWith, vec![".dll"]));
    assert_eq!((cs[5].0.op, texts(&cs[5].0)), (Op::Wildcard, vec!["a?c"]));
    assert_eq!((cs[6].0.field.raw.as_str(), cs[6].0.op), ("f", Op::Cidr));
    assert!(!p.logic.has_opaque());
}

#[test]
fn predicate_function_compared_to_bool() {
    let p = ok(r#"any where startsWith(a, "x") == false"#);
    assert!(matches!(&p.logic, Logic::Not(x) if as_cmp(x).op == Op::StartsWith));
    let p = ok(r#"any where startsWith(a, "x") == true"#);
    assert_eq!(as_cmp(&p.logic).op, Op::StartsWith);
}

#[test]
fn computed_operands_are_derived_fields() {
    let q = "any where length(process.command_line) > 50 and substring(user.name, 0, -1) == \"ab\"";
    let p = ok(q);
    assert!(!p.logic.has_opaque());
    let cs = cmps(&p.logic);
    assert_eq!(cs[0].0.field.raw, "length(process.command_line)");
    assert!(cs[0].0.field.derived);
    assert_eq!(at(q, cs[0].0.field.span), "length(process.command_line)");
    assert_eq!((cs[0].0.op, texts(&cs[0].0)), (Op::Gt, vec!["50"]));
    assert_eq!(cs[1].0.field.raw, "substring(user.name, 0, -1)");
    assert!(cs[1].0.field.derived);
}

#[test]
fn other_functions_are_opaque_with_info() {
    let q = r#"any where between(a, "x", "y") == "z" and b == 1 and number(c) and arraySearch(d, e, e == 1)"#;
    let p = ok(q);
    assert!(p.logic.has_opaque());
    let infos: Vec<_> = p.issues.iter().filter(|i| i.code == "RL010").collect();
    assert_eq!(infos.len(), 2, "{:?}", p.issues);
    assert_eq!(at(q, infos[0].span), "number(c)");
    assert_eq!(at(q, infos[1].span), "arraySearch(d, e, e == 1)");
    assert!(infos.iter().all(|i| i.severity == Severity::Info));
}

#[test]
fn field_to_field_is_fieldref() {
    let q = "any where a == b and c != ?d and startswith~(e, f.g) and h : (i, \"j\")";
    let p = ok(q);
    let cs = cmps(&p.logic);
    assert_eq!((cs[0].0.op, texts(&cs[0].0)), (Op::FieldRef, vec!["b"]));
    assert_eq!(at(q, cs[0].0.values[0].span), "b");
    assert!(!cs[0].1);
    assert_eq!(
        (cs[1].0.op, texts(&cs[1].0), cs[1].1),
        (Op::FieldRef, vec!["d"], true)
    );
    assert_eq!(at(q, cs[1].0.values[0].span), "d");
    assert_eq!((cs[2].0.op, texts(&cs[2].0)), (Op::FieldRef, vec!["f.g"]));
    assert_eq!(
        cs[2].0.modifiers,
        vec![CASE_INSENSITIVE.to_string(), "startswith".to_string()]
    );
    assert_eq!((cs[3].0.op, texts(&cs[3].0)), (Op::Eq, vec!["j"]));
    assert_eq!((cs[4].0.op, texts(&cs[4].0)), (Op::FieldRef, vec!["i"]));
}

#[test]
fn optional_and_backquoted_fields() {
    let q = r#"any where ?process.parent.executable == "x" and `my-field` == 1 and `a``b` : "c""#;
    let p = ok(q);
    let cs = cmps(&p.logic);
    assert_eq!(cs[0].0.field.raw, "process.parent.executable");
    assert_eq!(at(q, cs[0].0.field.span), "process.parent.executable");
    assert_eq!(at(q, cs[0].0.span), r#"?process.parent.executable == "x""#);
    assert_eq!(cs[1].0.field.raw, "my-field");
    assert_eq!(at(q, cs[1].0.field.span), "my-field");
    assert_eq!(cs[2].0.field.raw, "a`b");
}

#[test]
fn strings_escapes_and_raw() {
    let q = r##"any where a == "C:\\Windows\\\"x\"" and b == """C:\Raw\""" and c == "tab\there""##;
    let p = ok(q);
    let cs = cmps(&p.logic);
    assert_eq!(cs[0].0.values[0].text, r#"C:\Windows\"x""#);
    assert_eq!(at(q, cs[0].0.values[0].span), r#"C:\\Windows\\\"x\""#);
    assert_eq!(cs[1].0.values[0].text, r#"C:\Raw\"#);
    assert_eq!(at(q, cs[1].0.values[0].span), r#"C:\Raw\"#);
    assert_eq!(cs[2].0.values[0].text, "tab\there");
}

#[test]
fn comments_are_skipped() {
    let q = "process where /* first */ a == 1 // trailing\n and b == 2";
    let p = ok(q);
    assert_eq!(cmps(&p.logic).len(), 3);
    assert_eq!(at(q, p.anchors.steps[0]), "a == 1 // trailing\n and b == 2");
}

#[test]
fn sequence_with_by_maxspan_and_until() {
    let q = "sequence by host.id with maxspan=5m\n  [process where a == 1] by process.entity_id\n  [network where b == 2] by process.entity_id\nuntil [process where event.type == \"end\"]";
    let p = ok(q);
    assert_eq!(
        p.anchors.steps,
        vec![find(q, "a == 1", 0), find(q, "b == 2", 0)]
    );
    let items = and_items(&p.logic);
    assert_eq!(items.len(), 5);
    assert_eq!(as_cmp(&items[0]).values[0].text, "process");
    assert_eq!(as_cmp(&items[1]).field.raw, "a");
    assert_eq!(as_cmp(&items[2]).values[0].text, "network");
    assert_eq!(as_cmp(&items[3]).field.raw, "b");
    // until: under Not
    match &items[4] {
        Logic::Not(x) => {
            let u = and_items(x);
            assert_eq!(as_cmp(&u[1]).field.raw, "event.type");
        }
        other => panic!("{other:?}"),
    }
    let cs = cmps(&p.logic);
    assert_eq!(cs.iter().filter(|(_, neg)| *neg).count(), 2);
}

#[test]
fn sequence_header_in_either_order_and_runs() {
    let q = "sequence with maxspan = 30s by user.id, host.id [any where a == 1] with runs=5 [file where b : \"x\"] by file.path with runs = 2";
    let p = ok(q);
    assert_eq!(p.anchors.steps.len(), 2);
    assert_eq!(at(q, p.anchors.steps[1]), "b : \"x\"");
}

#[test]
fn missing_event_step_is_negated_and_not_an_anchor() {
    let q = "sequence by host.id with maxspan=5m\n [any where a == 1]\n ![any where b == 2]";
    let p = ok(q);
    assert_eq!(p.anchors.steps, vec![find(q, "a == 1", 0)]);
    let items = and_items(&p.logic);
    assert!(matches!(&items[1], Logic::Not(x) if as_cmp(x).field.raw == "b"));
}

#[test]
fn sample_by() {
    let q = "sample by host.id, process.pid\n [process where a == 1]\n [network where b == 2]";
    let p = ok(q);
    assert_eq!(
        p.anchors.steps,
        vec![find(q, "a == 1", 0), find(q, "b == 2", 0)]
    );
    assert_eq!(cmps(&p.logic).len(), 4);
}

#[test]
fn pipes() {
    let q = "process where a == 1 | head 5 | tail 3 | unique process.name, host.id | filter b == 2 | unique_count | count user.name | sort x";
    let p = ok(q);
    let items = and_items(&p.logic);
    assert_eq!(items.len(), 3);
    assert_eq!(as_cmp(&items[2]).field.raw, "b");
    assert_eq!(p.anchors.steps, vec![find(q, "a == 1", 0)]);
    ok("sequence [process where a == 1] [file where true] | head 1");
}

#[test]
fn array_index_and_arithmetic() {
    let q = "any where process.args[0] == \"x\" and ( 4 / process.args_count ) == 1";
    let p = ok(q);
    let cs = cmps(&p.logic);
    assert_eq!(cs[0].0.field.raw, "process.args[0]");
    assert_eq!(at(q, cs[0].0.field.span), "process.args[0]");
    assert_eq!(cs[1].0.field.raw, "4 / process.args_count");
    assert!(cs[1].0.field.derived);
}

#[test]
fn bare_boolean_field() {
    let p = ok("any where process.code_signature.trusted and not dll.code_signature.exists");
    let cs = cmps(&p.logic);
    assert_eq!(cs[0].0.values[0].parsed, Parsed::Bool(true));
    assert!(cs[1].1);
}

// ----- errors --------------------------------------------------------------

#[test]
fn error_unterminated_string() {
    let q = r#"process where a == "abc"#;
    assert_eq!(err(q).span, Span::new(19, 20));
}

#[test]
fn error_unbalanced_brackets() {
    let q = "process where (a == 1 or b == 2";
    assert_eq!(err(q).span, Span::new(14, 15));
    let q = "process where a == 1)";
    let e = err(q);
    assert_eq!(e.span, Span::new(20, 21));
    assert!(e.message.contains("unbalanced"), "{}", e.message);
    let q = "sequence [process where a == 1";
    assert_eq!(err(q).span, Span::new(9, 10));
    let q = "sequence [process where a == 1] [file where b in (1, 2]";
    assert_eq!(err(q).span, Span::new(54, 55));
}

#[test]
fn error_sequence_without_steps() {
    let q = "sequence by host.id with maxspan=1m";
    let e = err(q);
    assert_eq!(e.span, Span::point(q.len()));
    assert!(e.message.contains("first step"), "{}", e.message);
    let q = "sequence by host.id | head 1";
    assert_eq!(err(q).span, Span::new(20, 21));
}

#[test]
fn error_missing_where() {
    let q = "process a == 1";
    let e = err(q);
    assert_eq!(e.span, Span::new(8, 9));
    assert!(e.message.contains("where"), "{}", e.message);
    assert_eq!(err("process").span, Span::point(7));
    let q = "sequence [process a == 1]";
    assert_eq!(err(q).span, Span::new(18, 19));
}

#[test]
fn error_misc_positions() {
    assert_eq!(err("").span, Span::point(0));
    assert_eq!(err("   ").span, Span::point(3));
    assert_eq!(err("process where a = 1").span, Span::new(16, 17));
    assert_eq!(err("process where a == ").span, Span::point(19));
    assert_eq!(err("process where a == 1 b == 2").span, Span::new(21, 22));
    assert_eq!(err("process where a in \"x\"").span, Span::new(19, 22));
    assert_eq!(err("process where a == 1 and").span, Span::point(24));
    assert_eq!(err("where a == 1").span, Span::new(0, 5));
    assert_eq!(err("process where a == 1 | ").span, Span::point(23));
    assert_eq!(err("process where ?").span, Span::new(14, 15));
    let e = err("process where a == 1 /* open");
    assert_eq!(e.span, Span::new(21, 23));
}

#[test]
fn error_logic_is_opaque() {
    let p = parse("process where (");
    assert!(p.has_errors());
    assert!(p.logic.has_opaque());
    assert!(p.anchors.steps.is_empty());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let depth = 5000;
    let q = format!("any where {}a == 1{}", "(".repeat(depth), ")".repeat(depth));
    let e = err(&q);
    assert!(e.message.contains("nested too deeply"), "{}", e.message);
    let q = format!("any where {}a == 1", "not ".repeat(depth));
    assert!(err(&q).message.contains("nested too deeply"));
    let q = format!("any where a == {}1", "-".repeat(depth));
    assert!(err(&q).message.contains("nested too deeply"));
    // long left-nested arithmetic is bounded too (its tree would be deep)
    let q = format!("any where a {} == 1", "+ 1 ".repeat(depth));
    assert!(err(&q).message.contains("too long"));
    // long flat boolean chains are fine
    let q = format!(
        "any where a == 1{}",
        " and b == 2 or c : \"x\"".repeat(depth)
    );
    ok(&q);
    // nesting just under the limit parses (and fits a test thread's stack)
    let q = format!("any where {}a == 1{}", "(".repeat(197), ")".repeat(197));
    ok(&q);
    let q = format!("any where {}a == 1", "not ".repeat(197));
    ok(&q);
    let q = format!("any where a == {}1", "-".repeat(197));
    ok(&q);
    let q = format!("any where {}a == 1{}", "(".repeat(200), ")".repeat(200));
    assert_eq!(err(&q).span, Span::new(210, 211));
}

#[test]
fn top_level_or_detection() {
    assert!(has_top_level_or("a == 1 or b == 2"));
    assert!(!has_top_level_or("(a == 1 or b == 2) and c == 3"));
    assert!(!has_top_level_or("a : \"x or y\" // or\n and b == 1"));
    assert!(!has_top_level_or("a == 1 and b in (\"or\")"));
    assert!(has_top_level_or("a == \"unterminated"));
}

// ----- robustness ------------------------------------------------------------

const SEEDS: &[&str] = &[
    r#"process where process.name == "svchost.exe" and not user.name in ("SYSTEM", "LOCAL SERVICE")"#,
    r#"sequence by host.id with maxspan=5m [process where ?process.parent.name : "w*.exe"] by process.entity_id ![any where true] [network where cidrmatch(destination.ip, "10.0.0.0/8") == false] with runs=2 until [process where event.type == "end"] | head 5"#,
    r#"sample by host.id [file where file.path like~ """C:\Users\*\x.dll"""] [registry where length(registry.data.strings) > 0]"#,
    r#"any where startsWith~(`a-b`, substring(c.d, 0, -1)) or (e regex "x.*" and f != null) // c
    /* block */ and g not in~ (1, 2.5, -3) | filter h >= 4"#,
    "network where destination.port in (80, 443) and source.ip : (\"*\", \"a?c\")",
];

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
    "!=",
    ":",
    "=",
    "not",
    "and",
    "or",
    "in",
    "like~",
    "where",
    "sequence",
    "until",
    "by",
    "|",
    ",",
    "/*",
    "*/",
    "//",
    "\\",
    "-",
    "é",
    "\u{1F600}",
    " ",
    "\n",
    "1",
    "x.y",
    "null",
    "'",
];

#[test]
fn fuzz_mutations_never_panic() {
    let mut rng = Xorshift(0x5eed_cafe_f00d_1234);
    let mut parsed_ok = 0usize;
    let rounds = 6000;
    for round in 0..rounds {
        let seed = SEEDS[round % SEEDS.len()];
        let mut q: Vec<char> = seed.chars().collect();
        let edits = 1 + rng.below(4);
        for _ in 0..edits {
            let pos = rng.below(q.len() + 1);
            match rng.below(4) {
                0 if pos < q.len() => {
                    q.remove(pos);
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    for (k, ch) in piece.chars().enumerate() {
                        q.insert((pos + k).min(q.len()), ch);
                    }
                }
                2 if pos < q.len() => {
                    let end = (pos + rng.below(12)).min(q.len());
                    q.drain(pos..end);
                }
                _ => {
                    // duplicate a slice
                    let end = (pos + rng.below(20)).min(q.len());
                    let dup: Vec<char> = q[pos..end].to_vec();
                    for (k, ch) in dup.into_iter().enumerate() {
                        q.insert(pos + k, ch);
                    }
                }
            }
        }
        let text: String = q.into_iter().collect();
        let p = parse(&text);
        // every span is inside the text and on char boundaries
        for i in &p.issues {
            assert!(
                i.span.start <= i.span.end && i.span.end <= text.len(),
                "{text:?}: {i:?}"
            );
            assert!(text.is_char_boundary(i.span.start) && text.is_char_boundary(i.span.end));
        }
        let mut bad = None;
        p.logic.visit(&mut |n| {
            if let Some(s) = n.span() {
                if s.end > text.len()
                    || !text.is_char_boundary(s.start)
                    || !text.is_char_boundary(s.end)
                {
                    bad = Some(s);
                }
            }
        });
        assert!(bad.is_none(), "{text:?}: bad span {bad:?}");
        for s in &p.anchors.steps {
            assert!(s.end <= text.len());
        }
        if !p.has_errors() {
            parsed_ok += 1;
            let _ = has_top_level_or(&text);
        }
    }
    // the mutations keep a fair share of valid queries
    assert!(parsed_ok > rounds / 20, "only {parsed_ok} parsed");
}
