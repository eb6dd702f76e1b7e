//! ES|QL parser: exact IR shapes and spans, every command, derived-field
//! tracking, anchors, and errors at exact positions.

use rulelint::diagnostic::Severity;
use rulelint::query::esql::parse;
use rulelint::query::QueryParse;
use rulelint::rule::{Cmp, Logic, Op, Parsed};
use rulelint::source::Span;

fn ok(q: &str) -> QueryParse {
    let p = parse(q);
    assert!(
        !p.has_errors(),
        "unexpected errors for {q:?}: {:#?}",
        p.issues
    );
    p
}

/// Parse and assert the logic has no opaque part.
fn modelled(q: &str) -> QueryParse {
    let p = ok(q);
    assert!(
        !p.logic.has_opaque(),
        "opaque part in {q:?}: {:#?}",
        p.logic
    );
    assert!(p.issues.is_empty(), "issues for {q:?}: {:#?}", p.issues);
    p
}

fn cmps(l: &Logic) -> Vec<&Cmp> {
    let mut v = Vec::new();
    l.visit(&mut |n| {
        if let Logic::Cmp(c) = n {
            v.push(c);
        }
    });
    v
}

/// The only comparison of a query.
fn only_cmp(p: &QueryParse) -> &Cmp {
    let v = cmps(&p.logic);
    assert_eq!(v.len(), 1, "{:#?}", p.logic);
    v[0]
}

fn at(q: &str, s: Span) -> &str {
    &q[s.start..s.end]
}

fn error(q: &str) -> (Span, String) {
    let p = parse(q);
    let e = p
        .issues
        .iter()
        .find(|i| i.severity == Severity::Error)
        .unwrap_or_else(|| panic!("no error for {q:?}: {:#?}", p.logic));
    assert_eq!(e.code, "RL008");
    (e.span, e.message.clone())
}

fn texts(c: &Cmp) -> Vec<&str> {
    c.values.iter().map(|v| v.text.as_str()).collect()
}

// ---- comparisons and spans -----------------------------------------------

#[test]
fn equality_has_exact_spans() {
    let q = r#"FROM logs-* | WHERE destination.port == 443"#;
    let p = modelled(q);
    let c = only_cmp(&p);
    assert_eq!(c.op, Op::Eq);
    assert_eq!(c.field.raw, "destination.port");
    assert!(!c.field.derived);
    assert_eq!(c.field.concept, None);
    assert_eq!(at(q, c.field.span), "destination.port");
    assert_eq!(at(q, c.span), "destination.port == 443");
    assert_eq!(c.values[0].parsed, Parsed::Int(443));
    assert_eq!(at(q, c.values[0].span), "443");
    assert!(matches!(p.logic, Logic::Cmp(_)));
}

#[test]
fn string_value_span_excludes_quotes() {
    let q = r#"from x | where process.name == "cmd.exe""#;
    let p = modelled(q);
    let c = only_cmp(&p);
    assert_eq!(c.values[0].text, "cmd.exe");
    assert_eq!(c.values[0].parsed, Parsed::Str);
    assert_eq!(at(q, c.values[0].span), "cmd.exe");
    assert_eq!(at(q, c.span), r#"process.name == "cmd.exe""#);
}

#[test]
fn not_equal_is_not_eq() {
    let q = r#"FROM x | WHERE user.id != "S-1-5-18""#;
    let p = modelled(q);
    let Logic::Not(inner) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    let Logic::Cmp(c) = inner.as_ref() else {
        panic!()
    };
    assert_eq!(c.op, Op::Eq);
    assert_eq!(at(q, c.span), r#"user.id != "S-1-5-18""#);
}

#[test]
fn ordering_operators_and_swapped_literals() {
    for (q, op, v) in [
        ("FROM x | WHERE a < 5", Op::Lt, "5"),
        ("FROM x | WHERE a <= 5", Op::Lte, "5"),
        ("FROM x | WHERE a > 5", Op::Gt, "5"),
        ("FROM x | WHERE a >= 5.5", Op::Gte, "5.5"),
        ("FROM x | WHERE 5 < a", Op::Gt, "5"),
        ("FROM x | WHERE 5 >= a", Op::Lte, "5"),
        ("FROM x | WHERE 443 == a", Op::Eq, "443"),
    ] {
        let p = modelled(q);
        let c = only_cmp(&p);
        assert_eq!(
            (c.field.raw.as_str(), c.op, texts(c)),
            ("a", op, vec![v]),
            "{q}"
        );
        assert_eq!(at(q, c.field.span), "a");
    }
}

#[test]
fn in_and_not_in() {
    let q = r#"FROM x | WHERE destination.port IN (6667, 6697) AND process.name NOT IN ("a", "b")"#;
    let p = modelled(q);
    let Logic::And(parts) = &p.logic else {
        panic!()
    };
    let Logic::Cmp(c) = &parts[0] else { panic!() };
    assert_eq!(texts(c), vec!["6667", "6697"]);
    assert_eq!(c.values[1].parsed, Parsed::Int(6697));
    assert_eq!(at(q, c.values[1].span), "6697");
    assert_eq!(at(q, c.span), "destination.port IN (6667, 6697)");
    let Logic::Not(n) = &parts[1] else { panic!() };
    let Logic::Cmp(c) = n.as_ref() else { panic!() };
    assert_eq!((c.op, texts(c)), (Op::Eq, vec!["a", "b"]));
    assert_eq!(at(q, c.span), r#"process.name NOT IN ("a", "b")"#);
    assert_eq!(at(q, c.values[0].span), "a");
}

#[test]
fn not_before_in_negates_the_predicate() {
    let q = r#"FROM x | WHERE NOT host.name IN ("a") AND b == 1"#;
    let p = modelled(q);
    let Logic::And(parts) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    assert!(matches!(&parts[0], Logic::Not(_)));
    assert!(matches!(&parts[1], Logic::Cmp(_)));
}

#[test]
fn like_patterns_map_to_operators() {
    let cases = [
        (r#""*.exe""#, Op::EndsWith, ".exe", ".exe"),
        (r#""cmd*""#, Op::StartsWith, "cmd", "cmd"),
        (
            r#""*powershell*""#,
            Op::Contains,
            "powershell",
            "powershell",
        ),
        (r#""cmd.exe""#, Op::Eq, "cmd.exe", "cmd.exe"),
        (r#""c*d.exe""#, Op::Wildcard, "c*d.exe", "c*d.exe"),
        (r#""*a?c*""#, Op::Wildcard, "*a?c*", "*a?c*"),
        // LIKE has its own `\` escapes: a literal backslash is `\\` in
        // a pattern, so `\\\\` in a quoted string
        (
            r#""*C:\\\\Windows\\\\*""#,
            Op::Contains,
            r"C:\Windows\",
            r"C:\\\\Windows\\\\",
        ),
        (r#""*a\\*b*""#, Op::Contains, "a*b", r"a\\*b"),
        (
            r#""*C:\\Windows\\*""#,
            Op::EndsWith,
            r"C:Windows*",
            r"C:\\Windows\\*",
        ),
        (
            r#""""*C:\\Temp\\*""""#,
            Op::Contains,
            r"C:\Temp\",
            r"C:\\Temp\\",
        ),
    ];
    for (pat, op, text, raw) in cases {
        let q = format!("FROM x | WHERE process.executable LIKE {pat}");
        let p = modelled(&q);
        let c = only_cmp(&p);
        assert_eq!(c.op, op, "{q}");
        assert_eq!(c.values[0].text, text, "{q}");
        assert_eq!(at(&q, c.values[0].span), raw, "{q}");
        assert_eq!(at(&q, c.span), format!("process.executable LIKE {pat}"));
    }
}

#[test]
fn like_star_alone_is_exists() {
    let p = modelled(r#"FROM x | WHERE user.name LIKE "*""#);
    let c = only_cmp(&p);
    assert_eq!((c.op, c.values.len()), (Op::Exists, 0));
}

#[test]
fn like_lists_group_by_operator() {
    let q = r#"FROM x | WHERE f LIKE ("*.exe", "*.dll", "tmp*")"#;
    let p = modelled(q);
    let Logic::Or(alts) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    let Logic::Cmp(a) = &alts[0] else { panic!() };
    let Logic::Cmp(b) = &alts[1] else { panic!() };
    assert_eq!((a.op, texts(a)), (Op::EndsWith, vec![".exe", ".dll"]));
    assert_eq!((b.op, texts(b)), (Op::StartsWith, vec!["tmp"]));
    let q = r#"FROM x | WHERE f NOT LIKE ("*.exe", "*.dll")"#;
    let p = modelled(q);
    let Logic::Not(inner) = &p.logic else {
        panic!()
    };
    let Logic::Cmp(c) = inner.as_ref() else {
        panic!()
    };
    assert_eq!((c.op, texts(c)), (Op::EndsWith, vec![".exe", ".dll"]));
}

#[test]
fn rlike_is_regex() {
    let q = r#"FROM x | WHERE user.email RLIKE ".+@[a-z]+\\.com" AND a NOT RLIKE "x.*""#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!((v[0].op, texts(v[0])), (Op::Regex, vec![r".+@[a-z]+\.com"]));
    assert_eq!(at(q, v[0].values[0].span), r".+@[a-z]+\\.com");
    let Logic::And(parts) = &p.logic else {
        panic!()
    };
    assert!(matches!(&parts[1], Logic::Not(_)));
}

#[test]
fn is_null_and_is_not_null() {
    let q = "FROM x | WHERE a IS NULL AND b is not null";
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(v[0].op, Op::Eq);
    assert!(v[0].values[0].is_null());
    assert_eq!(at(q, v[0].values[0].span), "NULL");
    assert_eq!(at(q, v[0].span), "a IS NULL");
    assert_eq!((v[1].op, v[1].values.len()), (Op::Exists, 0));
    assert_eq!(at(q, v[1].span), "b is not null");
}

#[test]
fn boolean_precedence_and_parentheses() {
    let q = "FROM x | WHERE a == 1 OR b == 2 AND NOT c == 3";
    let p = modelled(q);
    let Logic::Or(alts) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    assert!(matches!(&alts[0], Logic::Cmp(c) if c.field.raw == "a"));
    let Logic::And(ands) = &alts[1] else { panic!() };
    assert!(matches!(&ands[0], Logic::Cmp(c) if c.field.raw == "b"));
    assert!(
        matches!(&ands[1], Logic::Not(n) if matches!(n.as_ref(), Logic::Cmp(c) if c.field.raw == "c"))
    );

    let q = "FROM x | WHERE (a == 1 OR b == 2) AND c == 3";
    let p = modelled(q);
    let Logic::And(ands) = &p.logic else { panic!() };
    assert!(matches!(&ands[0], Logic::Or(v) if v.len() == 2));
    let c = cmps(&p.logic)[0];
    assert_eq!(at(q, c.span), "a == 1");
}

#[test]
fn keywords_are_case_insensitive() {
    let q = r#"from x metadata _id | where a like "b*" and not c in (1) Or d Is Not Null"#;
    let p = modelled(q);
    assert_eq!(cmps(&p.logic).len(), 3);
}

#[test]
fn to_lower_is_a_modifier_on_the_field() {
    let q = r#"FROM x | WHERE TO_LOWER(process.name) LIKE "*psexec*" AND to_upper(a) == "B""#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(v[0].field.raw, "process.name");
    assert_eq!(at(q, v[0].field.span), "process.name");
    assert_eq!(v[0].modifiers, vec!["to_lower"]);
    assert_eq!(v[0].op, Op::Contains);
    assert_eq!(
        at(q, v[0].span),
        r#"TO_LOWER(process.name) LIKE "*psexec*""#
    );
    assert_eq!(v[1].modifiers, vec!["to_upper"]);
}

#[test]
fn predicate_functions() {
    let q = r#"FROM x | WHERE STARTS_WITH(a, "pre") AND ends_with(b, ".exe") AND CIDR_MATCH(source.ip, "10.0.0.0/8", "192.168.0.0/16") AND MV_CONTAINS(c, "v") AND LOCATE(d, "needle") > 0 AND LOCATE(e, "x") == 0"#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!((v[0].op, texts(v[0])), (Op::StartsWith, vec!["pre"]));
    assert_eq!(at(q, v[0].span), r#"STARTS_WITH(a, "pre")"#);
    assert_eq!(at(q, v[0].values[0].span), "pre");
    assert_eq!((v[1].op, texts(v[1])), (Op::EndsWith, vec![".exe"]));
    assert_eq!(
        (v[2].op, texts(v[2])),
        (Op::Cidr, vec!["10.0.0.0/8", "192.168.0.0/16"])
    );
    assert_eq!(at(q, v[2].field.span), "source.ip");
    assert_eq!((v[3].op, texts(v[3])), (Op::Eq, vec!["v"]));
    assert_eq!((v[4].op, texts(v[4])), (Op::Contains, vec!["needle"]));
    assert_eq!(at(q, v[4].span), r#"LOCATE(d, "needle") > 0"#);
    let Logic::And(parts) = &p.logic else {
        panic!()
    };
    assert!(
        matches!(&parts[5], Logic::Not(n) if matches!(n.as_ref(), Logic::Cmp(c) if c.op == Op::Contains))
    );
}

#[test]
fn mv_contains_with_a_list_needs_all_values() {
    let p = modelled(r#"FROM x | WHERE MV_CONTAINS(tags, ["a", "b"])"#);
    let c = only_cmp(&p);
    assert!(c.all);
    assert_eq!(texts(c), vec!["a", "b"]);
}

#[test]
fn other_functions_as_conditions_are_opaque() {
    let q = r#"FROM x | WHERE ST_INTERSECTS(geo, TO_GEOSHAPE("POINT(1 2)")) AND a == 1"#;
    let p = ok(q);
    let Logic::And(parts) = &p.logic else {
        panic!()
    };
    let Logic::Opaque(o) = &parts[0] else {
        panic!("{:#?}", p.logic)
    };
    assert_eq!(
        at(q, o.span),
        r#"ST_INTERSECTS(geo, TO_GEOSHAPE("POINT(1 2)"))"#
    );
    assert!(matches!(&parts[1], Logic::Cmp(_)));
    let info = &p.issues[0];
    assert_eq!((info.code, info.severity), ("RL010", Severity::Info));
    assert_eq!(info.span, o.span);
}

#[test]
fn computed_values_are_derived_fields() {
    let q = r#"FROM x | WHERE LENGTH(process.command_line) > 100"#;
    let p = modelled(q);
    let c = only_cmp(&p);
    assert!(c.field.derived);
    assert_eq!(c.field.raw, "LENGTH(process.command_line)");
    assert_eq!((c.op, texts(c)), (Op::Gt, vec!["100"]));
}

#[test]
fn conversion_functions_and_casts_keep_the_field() {
    let q = r#"FROM x | WHERE TO_DOUBLE(score) > 0.7 AND user.id::keyword == "x" AND to_string(source.ip) != "127.0.0.1""#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(
        (v[0].field.raw.as_str(), v[0].modifiers.clone()),
        ("score", vec!["to_double".to_string()])
    );
    assert_eq!(v[0].values[0].parsed, Parsed::Float(0.7));
    assert_eq!(
        (v[1].field.raw.as_str(), v[1].modifiers.clone()),
        ("user.id", vec!["::keyword".to_string()])
    );
    assert_eq!(at(q, v[1].field.span), "user.id");
    assert_eq!(v[2].field.raw, "source.ip");
}

#[test]
fn field_against_field_is_fieldref() {
    let q = "FROM x | WHERE source.ip == destination.ip AND a != b";
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(
        (v[0].op, texts(v[0])),
        (Op::FieldRef, vec!["destination.ip"])
    );
    assert_eq!(at(q, v[0].values[0].span), "destination.ip");
    let Logic::And(parts) = &p.logic else {
        panic!()
    };
    assert!(matches!(&parts[1], Logic::Not(_)));
}

#[test]
fn literals() {
    let q = r#"FROM x | WHERE a == -1 AND b == true AND c == null AND @timestamp >= NOW() - 1 hour AND d == 1.5e3 AND e == """say "hi"""" AND f == "tab\there""#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(v[0].values[0].parsed, Parsed::Int(-1));
    assert_eq!(at(q, v[0].values[0].span), "-1");
    assert_eq!(v[1].values[0].parsed, Parsed::Bool(true));
    assert!(v[2].values[0].is_null());
    assert_eq!(v[3].field.raw, "@timestamp");
    assert_eq!((v[3].op, texts(v[3])), (Op::Gte, vec!["NOW() - 1 hour"]));
    assert_eq!(v[4].values[0].text, "1.5e3");
    assert_eq!(v[5].values[0].text, r#"say "hi""#);
    assert_eq!(at(q, v[5].values[0].span), r#"say "hi""#);
    assert_eq!(v[6].values[0].text, "tab\there");
    assert_eq!(at(q, v[6].values[0].span), r"tab\there");
}

#[test]
fn escaped_strings_map_spans_to_the_raw_text() {
    let q = r#"FROM x | WHERE process.executable == "C:\\Windows\\cmd.exe""#;
    let p = modelled(q);
    let c = only_cmp(&p);
    assert_eq!(c.values[0].text, r"C:\Windows\cmd.exe");
    assert_eq!(at(q, c.values[0].span), r"C:\\Windows\\cmd.exe");
}

#[test]
fn backquoted_identifiers() {
    let q =
        r#"FROM x | WHERE `process.executable` != "a" AND `weird name`.sub == 1 AND `a``b` == 2"#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(v[0].field.raw, "process.executable");
    assert_eq!(at(q, v[0].field.span), "`process.executable`");
    assert_eq!(v[1].field.raw, "weird name.sub");
    assert_eq!(v[2].field.raw, "a`b");
}

#[test]
fn match_operator_and_function() {
    let q = r#"FROM x | WHERE message : "error" AND MATCH(title, "x")"#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert_eq!(
        (v[0].field.raw.as_str(), v[0].modifiers.clone()),
        ("message", vec!["match".to_string()])
    );
    assert_eq!(v[1].modifiers, vec!["match"]);
}

#[test]
fn true_in_conditions_is_any_of_them() {
    let q = r#"FROM x | WHERE true IN (STARTS_WITH(a, "Get"), STARTS_WITH(a, "List"))"#;
    let p = modelled(q);
    let Logic::Or(alts) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    assert_eq!(alts.len(), 2);
}

#[test]
fn comments_are_skipped() {
    let q = "// lead\nFROM x /* inline */ METADATA _id\n// c | WHERE no\n| WHERE a == 1 // trailing\n/* block\n | WHERE b == 2 */";
    let p = modelled(q);
    assert_eq!(cmps(&p.logic).len(), 1);
}

// ---- commands ---------------------------------------------------------------

#[test]
fn every_command_parses() {
    let queries = [
        "FROM logs-endpoint.events.process-*, .alerts-security.* METADATA _id, _version, _index",
        r#"FROM "logs-*", remote:idx | LIMIT 10"#,
        "FROM x | EVAL a = b + 1, c = CONCAT(d, \"-\", e), f = CASE(g == 1, \"one\", \"other\"), h = 1 hour",
        "FROM x | EVAL DATE_TRUNC(1 minute, @timestamp)",
        "FROM x | STATS c = COUNT(*), d = COUNT_DISTINCT(host.id), MAX(x) BY user.name, bucket = BUCKET(@timestamp, 1 h)",
        "FROM x | STATS BY user.name",
        "FROM x | STATS c = COUNT(*) WHERE a > 1, d = SUM(b) BY h",
        "FROM x | INLINESTATS c = COUNT(*) BY h",
        "FROM x | INLINE STATS c = COUNT(*) BY h",
        "FROM x | KEEP @timestamp, host.*, Esql.*, `a b` | DROP x, y*",
        "FROM x | RENAME a AS b, c AS `d e` | RENAME f = g",
        "FROM x | LIMIT 100",
        "FROM x | SORT @timestamp DESC, a ASC NULLS FIRST, b NULLS LAST",
        r#"FROM x | DISSECT message "%{a} %{b}" APPEND_SEPARATOR = "-""#,
        r#"FROM x | GROK message "%{IP:ip} %{WORD:verb}""#,
        "FROM x | MV_EXPAND process.args",
        "FROM x | LOOKUP JOIN threat_list ON source.ip",
        "FROM x | ENRICH languages_policy ON a WITH name = language_name, other",
        "FROM x | ENRICH _any:policy",
        "FROM x | CHANGE_POINT count ON @timestamp AS type, pvalue",
        "FROM x | FORK (WHERE a == 1 | LIMIT 5) (WHERE b == 2 | SORT c)",
        "FROM x | SAMPLE 0.1",
        r#"FROM x | COMPLETION out = prompt WITH { "inference_id": "my-model" }"#,
        "FROM x | COMPLETION prompt WITH my_model AS answer",
        r#"ROW a = 1, b = "x", c = [1, 2, 3], d = null"#,
        "SHOW INFO",
        "FROM x | WHERE a IN (?p1, ?p2) AND b == ?name",
    ];
    for q in queries {
        let p = ok(q);
        assert!(!p.logic.has_opaque(), "opaque in {q}: {:#?}", p.logic);
        assert!(p.issues.is_empty(), "{q}: {:#?}", p.issues);
    }
}

#[test]
fn unknown_commands_are_opaque_notes() {
    let q = "FROM x | RERANK \"query\" ON title WITH { \"a\": [1, (2)] } | WHERE a == 1";
    let p = ok(q);
    let Logic::And(parts) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    let Logic::Opaque(o) = &parts[0] else {
        panic!()
    };
    assert_eq!(
        at(q, o.span),
        "RERANK \"query\" ON title WITH { \"a\": [1, (2)] }"
    );
    assert!(o.reason.contains("RERANK"));
    assert!(matches!(&parts[1], Logic::Cmp(_)));
    assert_eq!(p.issues.len(), 1);
    assert_eq!(
        (p.issues[0].code, p.issues[0].severity),
        ("RL010", Severity::Info)
    );
    assert_eq!(p.issues[0].span, o.span);
}

#[test]
fn the_logic_is_the_and_of_all_where_clauses_in_order() {
    let q = "FROM x | WHERE a == 1 | EVAL z = 1 | WHERE b == 2 OR c == 3 | WHERE d == 4";
    let p = modelled(q);
    let Logic::And(parts) = &p.logic else {
        panic!()
    };
    assert_eq!(parts.len(), 3);
    assert!(matches!(&parts[0], Logic::Cmp(c) if c.field.raw == "a"));
    assert!(matches!(&parts[1], Logic::Or(_)));
    assert!(matches!(&parts[2], Logic::Cmp(c) if c.field.raw == "d"));
}

#[test]
fn fork_branches_are_alternatives() {
    let q = "FROM x | FORK (WHERE a == 1) (WHERE b == 2 | WHERE c == 3)";
    let p = modelled(q);
    let Logic::Or(alts) = &p.logic else {
        panic!("{:#?}", p.logic)
    };
    assert!(matches!(&alts[0], Logic::Cmp(_)));
    assert!(matches!(&alts[1], Logic::And(v) if v.len() == 2));
    // a branch without a filter lets everything through
    let p = modelled("FROM x | FORK (WHERE a == 1) (LIMIT 5)");
    assert_eq!(p.logic, Logic::And(Vec::new()));
}

#[test]
fn query_without_where_is_an_empty_and() {
    let p = modelled("FROM x | KEEP a");
    assert_eq!(p.logic, Logic::And(Vec::new()));
}

// ---- anchors ------------------------------------------------------------------

#[test]
fn first_aggregation_is_the_pipe_of_the_first_stats() {
    let q = "FROM x\n| WHERE a == 1\n| STATS c = COUNT(*) BY h\n| STATS d = COUNT(*)";
    let p = modelled(q);
    let at_ = p.anchors.first_aggregation.unwrap();
    assert_eq!(&q[at_..at_ + 7], "| STATS");
    assert_eq!(at_, q.find("| STATS").unwrap());
    assert_eq!(p.anchors.query, None);

    let q = "FROM x | WHERE a == 1 | INLINE STATS c = COUNT(*) BY h | STATS d = MAX(c)";
    let p = modelled(q);
    assert_eq!(p.anchors.first_aggregation, q.find("| INLINE"));

    let q = "FROM x | WHERE a == 1 | INLINESTATS c = COUNT(*)";
    assert_eq!(
        modelled(q).anchors.first_aggregation,
        q.find("| INLINESTATS")
    );

    assert_eq!(
        modelled("FROM x | WHERE a == 1").anchors.first_aggregation,
        None
    );
    let q = "FROM x | FORK (STATS c = COUNT(*)) (LIMIT 1)";
    assert_eq!(ok(q).anchors.first_aggregation, None);
}

// ---- derived fields ----------------------------------------------------------------

#[test]
fn eval_outputs_are_derived() {
    let q = r#"FROM x | EVAL Esql.lower = TO_LOWER(process.name) | WHERE Esql.lower == "a" AND process.name == "b""#;
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert!(v[0].field.derived);
    assert_eq!(v[0].field.raw, "Esql.lower");
    assert!(!v[1].field.derived);
}

#[test]
fn stats_outputs_are_derived_and_hide_other_fields() {
    let q = "FROM x | WHERE event.code == 4625 | STATS Esql.count = COUNT(*), MAX(y) BY user.name, b = BUCKET(@timestamp, 1 hour) | WHERE Esql.count > 5 AND user.name != \"svc\" AND b > 0 AND `MAX(y)` > 1 AND host.name == \"gone\"";
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert!(!v[0].field.derived, "before STATS");
    assert_eq!(
        (v[1].field.raw.as_str(), v[1].field.derived),
        ("Esql.count", true)
    );
    assert_eq!(at(q, v[1].field.span), "Esql.count");
    // a plain group key still carries the event's value
    assert_eq!(
        (v[2].field.raw.as_str(), v[2].field.derived),
        ("user.name", false)
    );
    assert!(v[3].field.derived, "named group key");
    assert!(v[4].field.derived, "unnamed aggregation");
    assert!(v[5].field.derived, "not a STATS output");
}

#[test]
fn inline_stats_keep_event_fields() {
    let q = "FROM x | INLINE STATS c = COUNT(*) BY host.name | WHERE c > 3 AND user.name == \"a\"";
    let p = modelled(q);
    let v = cmps(&p.logic);
    assert!(v[0].field.derived);
    assert!(!v[1].field.derived);
}

#[test]
fn rename_points_back_at_the_source_field() {
    let q = r#"FROM x | RENAME process.name AS proc | WHERE proc == "cmd.exe""#;
    let p = modelled(q);
    let c = only_cmp(&p);
    assert_eq!(c.field.raw, "process.name");
    assert!(!c.field.derived);
    assert_eq!(at(q, c.field.span), "proc");

    let q = r#"FROM x | EVAL a = 1 | RENAME a AS b | WHERE b == 1"#;
    assert!(only_cmp(&modelled(q)).field.derived);
    let q = r#"FROM x | RENAME proc = process.name | WHERE proc == "a""#;
    assert_eq!(only_cmp(&modelled(q)).field.raw, "process.name");
}

#[test]
fn dissect_grok_enrich_completion_outputs_are_derived() {
    let cases = [
        r#"FROM x | DISSECT message "%{Esql.user} logged in from %{+Esql.user}" | WHERE Esql.user == "a""#,
        r#"FROM x | GROK message "%{IP:Esql.ip} (?<code>[0-9]+)" | WHERE Esql.ip == "a""#,
        r#"FROM x | GROK message "%{IP:Esql.ip} (?<code>[0-9]+)" | WHERE code == "a""#,
        r#"FROM x | ENRICH p ON host.name WITH owner = team | WHERE owner == "a""#,
        r#"FROM x | COMPLETION verdict = prompt WITH { "inference_id": "m" } | WHERE verdict == "a""#,
        r#"FROM x | COMPLETION prompt WITH { "inference_id": "m" } | WHERE completion == "a""#,
        r#"FROM x | CHANGE_POINT c ON t | WHERE type == "a""#,
        r#"ROW a = 1 | WHERE a == 1"#,
        r#"FROM x | FORK (EVAL z = 1) (EVAL z = 2) | WHERE z == 1"#,
    ];
    for q in cases {
        let p = modelled(q);
        assert!(only_cmp(&p).field.derived, "{q}");
    }
    let p = modelled(r#"FROM x | MV_EXPAND process.args | WHERE process.args == "a""#);
    assert!(!only_cmp(&p).field.derived);
}

// ---- embedded KQL ----------------------------------------------------------

#[test]
fn kql_function_spans_map_into_the_string() {
    for q in [
        r#"FROM x | WHERE KQL("""event.action:exec""")"#,
        r#"FROM x | WHERE KQL("event.action:\"exec\"")"#,
    ] {
        let p = ok(q);
        let start = q.find("event").unwrap();
        let end = q.rfind('"').unwrap() - if q.contains("\"\"\")") { 2 } else { 0 };
        let span = p.logic.span().expect("a span");
        assert_eq!(span, Span::new(start, end), "{q}: {:#?}", p.logic);
    }
}

// ---- errors ------------------------------------------------------------------

#[test]
fn errors_at_exact_positions() {
    let cases: [(&str, &str); 18] = [
        ("FROM x | WHERE a == \"abc", "\""),
        ("FROM x | WHERE a == \"\"\"abc", "\"\"\""),
        ("FROM x | WHERE (a == 1 OR b == 2", "("),
        ("FROM x | WHERE a IN (1, 2 | LIMIT 1", "("),
        ("FROM x | WHERE a == 1) | LIMIT 1", ")"),
        ("FROM x | WHERE a == 1 # b", "#"),
        ("FROM x | WHERE a == 1;", ";"),
        ("FROM x | WHERE a == == 1", "=="),
        ("FROM x | WHERE a == 1 == 2", "=="),
        ("FROM x | WHERE", ""),
        ("FROM x | WHERE AND a == 1", "AND"),
        ("FROM x WHERE a == 1", "WHERE"),
        ("FROM x | WHERE a == \"x\\qy\"", "\\q"),
        ("FROM x | WHERE a == 1 /* open", "/*"),
        ("FROM x | EVAL = 1", "="),
        ("FROM x | STATS c = COUNT(* BY h", "BY"),
        ("FROM x | KEEP", ""),
        ("FROM x | WHERE f(a, ) == 1", ")"),
    ];
    for (q, culprit) in cases {
        let (span, msg) = error(q);
        let want = if culprit.is_empty() {
            q.len()
        } else {
            // the last occurrence is the culprit in these cases, except for
            // openers, which are the first
            match culprit {
                "(" | "\"" | "\"\"\"" | "/*" => q.find(culprit).unwrap(),
                _ => q.rfind(culprit).unwrap(),
            }
        };
        assert_eq!(span.start, want, "{q}: {msg}");
        if !culprit.is_empty() {
            assert_eq!(&q[span.start..span.end], culprit, "{q}: {msg}");
        }
    }
}

#[test]
fn empty_query_is_an_error() {
    let (span, _) = error("  // nothing\n");
    assert_eq!(span.start, 13);
}

#[test]
fn a_syntax_error_leaves_an_opaque_logic() {
    let p = parse("FROM x | WHERE (");
    assert!(p.has_errors());
    assert!(p.logic.has_opaque());
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    // run on a thread with the default 2 MiB stack
    let h = std::thread::spawn(|| {
        for (open, close) in [("(", ")"), ("NOT ", ""), ("-", ""), ("f(", ")"), ("[", "]")] {
            let n = 5000;
            let q = format!("FROM x | WHERE {}a == 1{}", open.repeat(n), close.repeat(n));
            let (span, msg) = error(&q);
            assert!(msg.contains("nested"), "{msg}");
            assert!(span.start > 0);
        }
        // 150 levels are fine
        let q = format!(
            "FROM x | WHERE {}a == 1{}",
            "(".repeat(150),
            ")".repeat(150)
        );
        ok(&q);
        // long flat chains are not nesting
        let q = format!("FROM x | WHERE a == 0{}", " OR a == 1".repeat(5000));
        assert_eq!(cmps(&ok(&q).logic).len(), 5001);
        let q = format!("FROM x | WHERE a == 0{}", " + 1".repeat(5000));
        ok(&q);
    });
    h.join().expect("no panic");
}

#[test]
fn spaced_negative_numbers_are_numbers() {
    let q = "FROM x | WHERE a == - 2";
    let c = only_cmp(&modelled(q)).clone();
    assert_eq!(c.values[0].parsed, Parsed::Int(-2));
    assert_eq!(at(q, c.values[0].span), "- 2");
}
