//! ES|QL exclusion renderer: the suggestion text, where the edit goes, and
//! that the edited rule still parses with the exclusion under a `NOT`.

use rulelint::diagnostic::Suggestion;
use rulelint::query::esql::parse;
use rulelint::rule::{
    Anchors, Cmp, DetectionRule, Format, Language, Logic, Op, PipeCommand, Quoting, RuleMeta,
    Schema,
};
use rulelint::source::{OffsetMap, SourceFile, Span};
use rulelint::suggest::{self, Exclusion, ExclusionField, ExclusionValue};

fn num(t: &str) -> ExclusionValue {
    ExclusionValue {
        text: t.to_string(),
        numeric: true,
        origin: rulelint::suggest::ValueOrigin::Catalogue,
    }
}

fn s(t: &str) -> ExclusionValue {
    ExclusionValue {
        text: t.to_string(),
        numeric: false,
        origin: rulelint::suggest::ValueOrigin::Catalogue,
    }
}

fn field(name: &str, op: Op, values: Vec<ExclusionValue>) -> ExclusionField {
    ExclusionField {
        field: name.to_string(),
        op,
        values,
    }
}

fn excl(fields: Vec<ExclusionField>) -> Exclusion {
    Exclusion {
        name: "filter_test".to_string(),
        fields,
    }
}

/// Decode the TOML string that starts at `open` (the offset of its first
/// delimiter character): the query text and its offset map.
fn decode(file: &str, open: usize) -> (String, OffsetMap, Span) {
    let rest = &file[open..];
    let (delim, multi) = if rest.starts_with("'''") {
        ("'''", true)
    } else if rest.starts_with("\"\"\"") {
        ("\"\"\"", true)
    } else if rest.starts_with('\'') {
        ("'", false)
    } else {
        ("\"", false)
    };
    let mut start = open + delim.len();
    if multi && file[start..].starts_with('\n') {
        start += 1;
    }
    let basic = delim.starts_with('"');
    let mut out = String::new();
    let mut map = OffsetMap::new();
    let bytes = file.as_bytes();
    let mut i = start;
    while !file[i..].starts_with(delim) {
        if basic && bytes[i] == b'\\' {
            if multi && bytes[i + 1] == b'\n' {
                // line-ending backslash: skip the blanks that follow
                i += 2;
                while bytes[i] == b' ' || bytes[i] == b'\n' {
                    i += 1;
                }
                continue;
            }
            let (c, len) = match bytes[i + 1] {
                b'\\' => ('\\', 2),
                b'"' => ('"', 2),
                b'n' => ('\n', 2),
                b't' => ('\t', 2),
                b'u' => {
                    let code = u32::from_str_radix(&file[i + 2..i + 6], 16).unwrap();
                    (char::from_u32(code).unwrap(), 6)
                }
                other => panic!("escape {other}"),
            };
            out.push(c);
            map.push(c.len_utf8(), i, i + len);
            i += len;
        } else {
            let ch = file[i..].chars().next().unwrap();
            out.push(ch);
            map.push_verbatim(i, ch.len_utf8());
            i += ch.len_utf8();
        }
    }
    map.set_tail(i);
    (out, map, Span::new(start, i))
}

/// A rule as the Elastic format layer would build it. `with_delims`:
/// `anchors.query` includes the string's quotes.
fn rule(file_text: &str, with_delims: bool) -> (SourceFile, DetectionRule) {
    let key = file_text.find("query = ").expect("query key") + "query = ".len();
    let (query, map, content) = decode(file_text, key);
    let parsed = parse(&query);
    assert!(!parsed.has_errors(), "{:#?}", parsed.issues);
    let mut logic = parsed.logic;
    logic.map_spans(&|sp| map.span(sp));
    let query_span = if with_delims {
        let close_len =
            if file_text[key..].starts_with("'''") || file_text[key..].starts_with("\"\"\"") {
                3
            } else {
                1
            };
        Span::new(key, content.end + close_len)
    } else {
        content
    };
    let rest = &file_text[key..];
    let quoting = if rest.starts_with("'''") {
        Quoting::TomlMultiLiteral
    } else if rest.starts_with("\"\"\"") {
        Quoting::TomlMultiBasic
    } else if rest.starts_with('\'') {
        Quoting::TomlLiteral
    } else {
        Quoting::TomlBasic
    };
    let anchors = Anchors {
        query: Some(query_span),
        query_quoting: Some(quoting),
        first_aggregation: parsed.anchors.first_aggregation.map(|a| map.offset(a)),
        commands: parsed
            .anchors
            .commands
            .iter()
            .map(|c| PipeCommand {
                pipe: map.offset(c.pipe),
                writes: c.writes.clone(),
            })
            .collect(),
        ..Anchors::default()
    };
    let r = DetectionRule {
        format: Format::Elastic,
        language: Language::Esql,
        schema: Schema::Ecs,
        meta: RuleMeta::default(),
        logic: Some(logic),
        anchors,
        span: Span::new(0, file_text.len()),
    };
    (SourceFile::new("rule.toml", file_text), r)
}

fn apply(text: &str, sugg: &Suggestion) -> String {
    let mut out = text.to_string();
    let mut edits = sugg.fix.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.offset));
    for e in edits {
        out.replace_range(e.offset..e.offset + e.length, &e.replacement);
    }
    out
}

fn query_of(toml_text: &str) -> String {
    let doc: toml::Table = toml_text.parse().expect("edited file is valid TOML");
    doc["rule"]["query"].as_str().expect("query").to_string()
}

/// Comparisons that sit under a `Not`.
fn excluded(l: &Logic) -> Vec<Cmp> {
    let mut out = Vec::new();
    l.visit_cmps(&mut |c, negated| {
        if negated {
            out.push(c.clone());
        }
    });
    out
}

/// Render, apply, re-parse: the edited query must parse cleanly and
/// contain the exclusion under a `NOT`. Returns the suggestion and the
/// edited query.
fn roundtrip(file_text: &str, e: &Exclusion, with_delims: bool) -> (Suggestion, String) {
    let (file, r) = rule(file_text, with_delims);
    let sugg = suggest::render(&r, &file, e, &[]).expect("a suggestion");
    assert_eq!(sugg.language, Language::Esql);
    assert_eq!(sugg.fix.edits.len(), 1, "{sugg:#?}");
    let edited = apply(file_text, &sugg);
    let q = query_of(&edited);
    let p = parse(&q);
    assert!(
        !p.has_errors(),
        "edited query does not parse:\n{q}\n{:#?}",
        p.issues
    );
    let ex = excluded(&p.logic);
    for f in &e.fields {
        // several values may come back as one comparison or as an OR of
        // comparisons: collect them all
        let got: Vec<&str> = ex
            .iter()
            .filter(|c| c.field.raw == f.field && !c.field.derived && c.op == f.op)
            .flat_map(|c| c.values.iter().map(|v| v.text.as_str()))
            .collect();
        let want: Vec<&str> = f.values.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(
            got, want,
            "exclusion on {} under NOT in:\n{q}\n{:#?}",
            f.field, p.logic
        );
    }
    (sugg, q)
}

const STATS_RULE: &str = r#"[rule]
language = "esql"
query = '''
from logs-network_traffic.* metadata _id
| where event.category == "network" and destination.port in (6667, 6697)
    | stats Esql.count = count(*) by source.ip
| where Esql.count > 10
'''
type = "esql"
"#;

#[test]
fn inserted_as_a_new_line_before_the_first_stats() {
    let e = excl(vec![field(
        "source.port",
        Op::Eq,
        vec![num("80"), num("443")],
    )]);
    let (sugg, q) = roundtrip(STATS_RULE, &e, false);
    assert_eq!(
        sugg.text,
        "| WHERE source.port IS NULL OR NOT (source.port IN (80, 443))"
    );
    assert!(!sugg.has_placeholders);
    assert_eq!(
        sugg.fix.edits[0].offset,
        STATS_RULE.find("| stats").unwrap(),
        "right before the `|` of STATS"
    );
    assert_eq!(
        q,
        "from logs-network_traffic.* metadata _id\n\
         | where event.category == \"network\" and destination.port in (6667, 6697)\n    \
         | WHERE source.port IS NULL OR NOT (source.port IN (80, 443))\n    \
         | stats Esql.count = count(*) by source.ip\n\
         | where Esql.count > 10\n"
    );
    // the anchor may also span the quotes
    let (_, q2) = roundtrip(STATS_RULE, &e, true);
    assert_eq!(q, q2);
}

#[test]
fn appended_at_the_end_without_stats() {
    let file = r#"[rule]
query = '''
FROM logs-endpoint.events.process-*
| WHERE process.name == "powershell.exe" // trailing comment
'''
"#;
    let e = excl(vec![
        field("process.parent.name", Op::Eq, vec![s("svchost.exe")]),
        field(
            "process.parent.executable",
            Op::EndsWith,
            vec![s(r"\services.exe"), s(r"\wininit.exe")],
        ),
        field(
            "source.ip",
            Op::Cidr,
            vec![s("10.0.0.0/8"), s("192.168.0.0/16")],
        ),
        field(
            "process.executable",
            Op::StartsWith,
            vec![s(r"C:\Program Files\")],
        ),
    ]);
    let (sugg, q) = roundtrip(file, &e, false);
    assert_eq!(
        sugg.text,
        r#"| WHERE process.parent.name IS NULL OR process.parent.executable IS NULL OR source.ip IS NULL OR process.executable IS NULL OR NOT (process.parent.name == "svchost.exe" AND (ENDS_WITH(process.parent.executable, "\\services.exe") OR ENDS_WITH(process.parent.executable, "\\wininit.exe")) AND CIDR_MATCH(source.ip, "10.0.0.0/8", "192.168.0.0/16") AND STARTS_WITH(process.executable, "C:\\Program Files\\"))"#
    );
    assert!(
        q.ends_with(&format!("// trailing comment\n{}\n", sugg.text)),
        "{q}"
    );
}

#[test]
fn escapes_inside_a_toml_basic_multiline_string() {
    let file = "[rule]\nquery = \"\"\"\nFROM x\n| WHERE process.name == \\\"a\\\\\\\\b\\\"\n| STATS c = COUNT(*) BY host.name\n\"\"\"\n";
    let (f, _) = rule(file, false);
    assert_eq!(
        query_of(&f.text),
        "FROM x\n| WHERE process.name == \"a\\\\b\"\n| STATS c = COUNT(*) BY host.name\n"
    );
    let e = excl(vec![field(
        "process.executable",
        Op::Eq,
        vec![s(r#"C:\Program Files\a "b".exe"#)],
    )]);
    let (sugg, q) = roundtrip(file, &e, false);
    assert_eq!(
        sugg.text,
        r#"| WHERE process.executable IS NULL OR NOT (process.executable == "C:\\Program Files\\a \"b\".exe")"#
    );
    assert!(q.contains(&format!("{}\n| STATS", sugg.text)), "{q}");
    roundtrip(file, &e, true);
}

#[test]
fn single_line_strings_get_an_inline_command() {
    let file = "[rule]\nquery = \"FROM x | WHERE a == 1 | STATS c = COUNT(*) BY b\"\n";
    let e = excl(vec![field("user.name", Op::Eq, vec![s("svc\\x")])]);
    let (_, q) = roundtrip(file, &e, false);
    assert_eq!(
        q,
        "FROM x | WHERE a == 1 | WHERE user.name IS NULL OR NOT (user.name == \"svc\\\\x\") | STATS c = COUNT(*) BY b"
    );
    let file = "[rule]\nquery = 'FROM x | WHERE a == 1'\n";
    let (_, q) = roundtrip(file, &e, true);
    assert_eq!(
        q,
        "FROM x | WHERE a == 1 | WHERE user.name IS NULL OR NOT (user.name == \"svc\\\\x\")"
    );
}

#[test]
fn odd_field_names_are_backquoted() {
    let file = "[rule]\nquery = '''\nFROM x | WHERE a == 1\n'''\n";
    let e = excl(vec![
        field("winlog.event_data.Some-Field", Op::Eq, vec![s("v")]),
        field("1.field", Op::Eq, vec![num("1")]),
        field("weird`name", Op::Eq, vec![s("x")]),
        field("@timestamp", Op::Gte, vec![s("2024-01-01")]),
        field("like", Op::Eq, vec![s("y")]),
    ]);
    let (sugg, _) = roundtrip(file, &e, false);
    assert_eq!(
        sugg.text,
        "| WHERE `winlog.event_data.Some-Field` IS NULL OR `1.field` IS NULL OR `weird``name` IS NULL OR @timestamp IS NULL OR `like` IS NULL OR NOT (`winlog.event_data.Some-Field` == \"v\" AND `1.field` == 1 AND `weird``name` == \"x\" AND @timestamp >= \"2024-01-01\" AND `like` == \"y\")"
    );
}

#[test]
fn placeholders_are_quoted_and_flagged() {
    let file = "[rule]\nquery = '''\nFROM x | WHERE dns.question.name == \"a\"\n'''\n";
    let e = excl(vec![field(
        "source.ip",
        Op::Eq,
        vec![ExclusionValue {
            text: "<your DNS servers>".into(),
            numeric: true,
            origin: rulelint::suggest::ValueOrigin::Placeholder,
        }],
    )]);
    let (file, r) = rule(file, false);
    let sugg = suggest::render(&r, &file, &e, &[]).unwrap();
    assert!(sugg.has_placeholders);
    assert_eq!(
        sugg.text,
        "| WHERE source.ip IS NULL OR NOT (source.ip == \"<your DNS servers>\")"
    );
}

#[test]
fn non_numeric_text_is_never_unquoted() {
    let file = "[rule]\nquery = '''\nFROM x | WHERE a == 1\n'''\n";
    let e = excl(vec![field(
        "file.mode",
        Op::Eq,
        vec![num("0755"), num("1e5; DROP")],
    )]);
    let (file, r) = rule(file, false);
    let sugg = suggest::render(&r, &file, &e, &[]).unwrap();
    assert_eq!(
        sugg.text,
        "| WHERE file.mode IS NULL OR NOT (file.mode IN (0755, \"1e5; DROP\"))"
    );
}

#[test]
fn text_that_cannot_go_in_a_literal_string_gives_no_edit() {
    let file = "[rule]\nquery = '''\nFROM x | WHERE a == 1\n'''\n";
    let e = excl(vec![field("a", Op::Eq, vec![s("it'''s")])]);
    let (file, r) = rule(file, false);
    let sugg = suggest::render(&r, &file, &e, &[]).unwrap();
    assert!(sugg.fix.edits.is_empty());
    assert_eq!(sugg.text, "| WHERE a IS NULL OR NOT (a == \"it'''s\")");
}

#[test]
fn other_operators_render_and_reparse() {
    let file = "[rule]\nquery = '''\nFROM x | WHERE a == 1 | STATS c = COUNT(*)\n'''\n";
    let e = excl(vec![
        field("process.command_line", Op::Contains, vec![s("a*b")]),
        field("file.path", Op::Wildcard, vec![s("C:\\\\Temp\\\\*.tmp")]),
        field("url.path", Op::Regex, vec![s("/api/v[0-9]+")]),
        field("destination.port", Op::Gt, vec![num("49151")]),
        field("user.id", Op::Exists, vec![]),
    ]);
    let (sugg, _) = roundtrip(file, &e, false);
    assert_eq!(
        sugg.text,
        r#"| WHERE process.command_line IS NULL OR file.path IS NULL OR url.path IS NULL OR destination.port IS NULL OR NOT (process.command_line LIKE "*a\\*b*" AND file.path LIKE "C:\\\\Temp\\\\*.tmp" AND url.path RLIKE "/api/v[0-9]+" AND destination.port > 49151 AND user.id IS NOT NULL)"#
    );
    let range = excl(vec![field(
        "destination.port",
        Op::Range {
            lo_inclusive: true,
            hi_inclusive: false,
        },
        vec![num("49152"), num("65536")],
    )]);
    let (f, r) = rule(file, false);
    let sugg = suggest::render(&r, &f, &range, &[]).unwrap();
    assert_eq!(
        sugg.text,
        "| WHERE destination.port IS NULL OR NOT ((destination.port >= 49152 AND destination.port < 65536))"
    );
}

#[test]
fn nothing_to_exclude_gives_no_suggestion() {
    let file = "[rule]\nquery = '''\nFROM x | WHERE a == 1\n'''\n";
    let (f, r) = rule(file, false);
    assert!(suggest::render(&r, &f, &excl(vec![]), &[]).is_none());
    let e = excl(vec![field("a", Op::Eq, vec![])]);
    assert!(suggest::render(&r, &f, &e, &[]).is_none());
}

#[test]
fn goes_before_a_command_that_drops_or_reshapes_fields() {
    let e = excl(vec![field("process.name", Op::Eq, vec![s("a.exe")])]);
    // no STATS, but a KEEP: the exclusion cannot come after it
    let file = "[rule]\nquery = '''\nFROM x\n| WHERE event.type == \"start\"\n| KEEP host.name, user.name\n'''\n";
    let (_, q) = roundtrip(file, &e, false);
    assert_eq!(
        q,
        "FROM x\n| WHERE event.type == \"start\"\n| WHERE process.name IS NULL OR NOT (process.name == \"a.exe\")\n| KEEP host.name, user.name\n"
    );
    // a KEEP, MV_EXPAND, RENAME or LIMIT before the STATS
    for cmd in [
        "KEEP process.name, host.name",
        "MV_EXPAND process.args",
        "RENAME a AS b",
        "LIMIT 5",
    ] {
        let file = format!(
            "[rule]\nquery = '''\nFROM x\n| WHERE a == 1\n| {cmd}\n| STATS c = COUNT(*) BY host.name\n'''\n"
        );
        let (_, q) = roundtrip(&file, &e, false);
        assert!(
            q.contains(&format!(
                "| WHERE process.name IS NULL OR NOT (process.name == \"a.exe\")\n| {cmd}\n"
            )),
            "{q}"
        );
    }
    // an EVAL that overwrites an excluded field
    let file = "[rule]\nquery = '''\nFROM x\n| EVAL other = 1\n| EVAL process.name = TO_LOWER(process.name)\n| STATS c = COUNT(*) BY process.name\n'''\n";
    let (_, q) = roundtrip(file, &e, false);
    assert!(
        q.contains(
            "| EVAL other = 1\n| WHERE process.name IS NULL OR NOT (process.name == \"a.exe\")\n| EVAL process.name"
        ),
        "{q}"
    );
    // a GROK that extracts it
    let file = "[rule]\nquery = '''\nFROM x\n| GROK message \"%{WORD:process.name}\"\n'''\n";
    let (_, q) = roundtrip(file, &e, false);
    assert!(
        q.starts_with("FROM x\n| WHERE process.name IS NULL OR NOT"),
        "{q}"
    );
}

#[test]
fn basic_strings_are_decoded_to_find_the_insertion_point() {
    let e = excl(vec![field("process.name", Op::Eq, vec![s("a.exe")])]);
    let file = "[rule]\nquery = \"FROM x | WHERE a == \\\"|\\\" | KEEP a | STATS c = COUNT(*)\"\n";
    let (_, q) = roundtrip(file, &e, false);
    assert_eq!(
        q,
        "FROM x | WHERE a == \"|\" | WHERE process.name IS NULL OR NOT (process.name == \"a.exe\") | KEEP a | STATS c = COUNT(*)"
    );
    let file = "[rule]\nquery = \"\"\"\nFROM x \\\n  | WHERE a == \"\\u00e9\"\n| KEEP a\n\"\"\"\n";
    let (_, q) = roundtrip(file, &e, false);
    assert_eq!(
        q,
        "FROM x | WHERE a == \"é\"\n| WHERE process.name IS NULL OR NOT (process.name == \"a.exe\")\n| KEEP a\n"
    );
}
