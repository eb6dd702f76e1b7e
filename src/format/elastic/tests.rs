use super::*;
use crate::rule::{Cmp, Op};
use crate::severity::Severity;

fn file(text: &str) -> SourceFile {
    SourceFile::new("rule.toml", text)
}

fn rule_of(text: &str) -> (SourceFile, DetectionRule) {
    let f = file(text);
    let p = parse(&f);
    assert!(
        p.issues.iter().all(|i| i.severity != Severity::Error),
        "{:?}",
        p.issues
    );
    assert_eq!(p.rules.len(), 1);
    let r = p.rules[0].clone();
    (f, r)
}

fn cmps(l: &Logic) -> Vec<(Cmp, bool)> {
    let mut out = Vec::new();
    l.visit_cmps(&mut |c, neg| out.push((c.clone(), neg)));
    out
}

fn one_error(text: &str) -> ParseIssue {
    let p = parse(&file(text));
    let errors: Vec<_> = p
        .issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .cloned()
        .collect();
    assert_eq!(errors.len(), 1, "{:?}", p.issues);
    errors[0].clone()
}

const IRC: &str = r#"[metadata]
creation_date = "2020/02/18"
maturity = "production"
updated_date = "2024/05/21"

[rule]
author = ["Elastic", "Someone"]
description = "Detects IRC."
false_positives = ["Chat clients."]
from = "now-9m"
index = ["packetbeat-*", "Logs-Network_Traffic.*"]
language = "kuery"
license = "Elastic License v2"
name = "IRC (Internet Relay Chat) Protocol Activity to the Internet"
references = ["https://example.org/irc"]
risk_score = 47
rule_id = "c6474c34-4953-447a-903e-9fcb7b6661aa"
severity = "medium"
tags = ["Domain: Network", "Tactic: Command and Control"]
type = "query"

query = '''
event.category:network and destination.port:(6667 or 6697) and
  not destination.ip:(10.0.0.0/8 or "FE80::/10")
'''

[[rule.threat]]
framework = "MITRE ATT&CK"
[rule.threat.tactic]
id = "TA0011"
name = "Command and Control"
reference = "https://attack.mitre.org/tactics/TA0011/"
"#;

#[test]
fn metadata_and_spans_in_a_literal_string() {
    let (f, r) = rule_of(IRC);
    assert_eq!(r.format, Format::Elastic);
    assert_eq!(r.language, Language::Kql);
    assert_eq!(r.schema, Schema::Ecs);
    let m = &r.meta;
    assert_eq!(
        m.id.as_ref().map(|x| x.value.as_str()),
        Some("c6474c34-4953-447a-903e-9fcb7b6661aa")
    );
    let title = m.title.as_ref().unwrap();
    assert_eq!(f.slice(title.span), title.value);
    assert_eq!(m.level.as_ref().unwrap().value, "medium");
    assert_eq!(m.rule_type.as_ref().unwrap().value, "query");
    assert_eq!(m.status.as_ref().unwrap().value, "production");
    assert_eq!(m.author.as_ref().unwrap().value, "Elastic, Someone");
    assert_eq!(m.tags.len(), 2);
    assert_eq!(f.slice(m.tags[1].span), "Tactic: Command and Control");
    assert_eq!(m.references[0].value, "https://example.org/irc");
    assert_eq!(m.falsepositives[0].value, "Chat clients.");
    assert_eq!(m.data, ["packetbeat-*", "logs-network_traffic.*"]);
    assert_eq!(m.description.as_ref().unwrap().value, "Detects IRC.");

    let logic = r.logic.as_ref().unwrap();
    let cs = cmps(logic);
    let port = &cs[1].0;
    assert_eq!(port.field.raw, "destination.port");
    assert_eq!(f.slice(port.field.span), "destination.port");
    assert_eq!(f.slice(port.values[0].span), "6667");
    assert_eq!(f.slice(port.values[1].span), "6697");
    assert_eq!(f.slice(port.span), "destination.port:(6667 or 6697)");
    let (ip, negated) = &cs[2];
    assert!(negated);
    assert_eq!(ip.op, Op::Cidr);
    assert_eq!(f.slice(ip.values[1].span), "FE80::/10");
    let q = r.anchors.query.unwrap();
    assert!(f.slice(q).starts_with("event.category:network"));
    assert!(f.slice(q).ends_with("\"FE80::/10\")\n"));
}

#[test]
fn spans_through_basic_string_escapes() {
    let text = "[rule]\ntype = \"query\"\nlanguage = \"kuery\"\nquery = \"process.name:\\\"cmd.exe\\\" and process.args:\\\"a\\\\\\\"b\\\" and destination.port:6667\"\n";
    let (f, r) = rule_of(text);
    let cs = cmps(r.logic.as_ref().unwrap());
    assert_eq!(cs[0].0.values[0].text, "cmd.exe");
    assert_eq!(f.slice(cs[0].0.values[0].span), "cmd.exe");
    // KQL `"a\"b"` written in TOML as `\"a\\\"b\"`
    assert_eq!(cs[1].0.values[0].text, "a\"b");
    assert_eq!(f.slice(cs[1].0.values[0].span), "a\\\\\\\"b");
    assert_eq!(f.slice(cs[2].0.values[0].span), "6667");
    assert_eq!(f.slice(cs[2].0.field.span), "destination.port");
}

#[test]
fn spans_through_multiline_basic_string() {
    let text = "[rule]\ntype = \"query\"\nquery = \"\"\"\nevent.category:network and \\\n   destination.port:(6667 or \\u0036697)\n\"\"\"\n";
    let (f, r) = rule_of(text);
    let cs = cmps(r.logic.as_ref().unwrap());
    let port = &cs[1].0;
    assert_eq!(f.slice(port.values[0].span), "6667");
    assert_eq!(port.values[1].text, "6697");
    assert_eq!(f.slice(port.values[1].span), "\\u0036697");
    assert_eq!(f.slice(port.field.span), "destination.port");
}

#[test]
fn query_syntax_error_at_file_position() {
    let text =
        "[rule]\ntype = \"query\"\nlanguage = \"kuery\"\nquery = '''\nprocess.name:(a or b\n'''\n";
    let e = one_error(text);
    assert_eq!(e.code, "RL008");
    let at = text.find("(a or").unwrap();
    assert_eq!(e.span, Span::new(at, at + 1));

    let text = "[rule]\ntype = \"query\"\nquery = \"a:\\\"x\"\n";
    let e = one_error(text);
    assert_eq!(e.code, "RL008");
    assert_eq!(&text[e.span.start..e.span.end], "\\\"");
}

#[test]
fn malformed_toml_is_rl003_at_the_error() {
    let text = "[rule]\ntype = \"query\"\nquery = 'a:b\nname = \"x\"\n";
    let e = one_error(text);
    assert_eq!(e.code, "RL003");
    let line = file(text).line_col(e.span.start).line;
    assert_eq!(line, 3);

    let text = "[rule]\ntype = \"query\"\ntype = \"eql\"\nquery = 'a:b'\n";
    let e = one_error(text);
    assert_eq!(e.code, "RL013");
    assert_eq!(file(text).line_col(e.span.start).line, 3);

    let text = "[rule]\nquery = '''\na:b\n";
    let e = one_error(text);
    assert_eq!(e.code, "RL003");
}

#[test]
fn wrong_types_and_unknown_language() {
    let text = "[rule]\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 42\n";
    let e = one_error(text);
    assert_eq!((e.code, &text[e.span.start..e.span.end]), ("RL004", "42"));

    let text = "[rule]\ntype = \"query\"\nlanguage = \"kqery\"\nquery = 'a:b'\n";
    let e = one_error(text);
    assert_eq!(
        (e.code, &text[e.span.start..e.span.end]),
        ("RL011", "kqery")
    );
    assert!(
        e.help.as_deref().unwrap().contains("`kuery`"),
        "{:?}",
        e.help
    );

    let text = "[rule]\ntype = \"eql\"\nlanguage = \"kql\"\nquery = 'a:b'\n";
    let e = one_error(text);
    assert!(e.help.as_deref().unwrap().contains("`kuery`"));

    let text = "[rule]\ntype = \"query\"\nname = \"x\"\n";
    let e = one_error(text);
    assert_eq!((e.code, &text[e.span.start..e.span.end]), ("RL004", "rule"));

    let text = "[metadata]\nmaturity = \"production\"\n";
    let e = one_error(text);
    assert_eq!(e.code, "RL012");

    let e = one_error("  \n");
    assert_eq!(e.code, "RL012");
}

#[test]
fn machine_learning_threshold_new_terms_esql() {
    let ml = "[metadata]\nmaturity = \"production\"\n[rule]\nanomaly_threshold = 50\nmachine_learning_job_id = [\"x\"]\nname = \"ML\"\ntype = \"machine_learning\"\n";
    let (_, r) = rule_of(ml);
    assert!(r.logic.is_none());
    assert!(parse(&file(ml)).issues.is_empty());

    let th = "[rule]\ntype = \"threshold\"\nlanguage = \"kuery\"\nquery = 'event.action:logon-failed'\n[rule.threshold]\nfield = [\"source.ip\"]\nvalue = 25\n[[rule.threshold.cardinality]]\nfield = \"user.name\"\nvalue = 5\n";
    let (_, r) = rule_of(th);
    assert_eq!(cmps(r.logic.as_ref().unwrap()).len(), 1);
    let [agg] = r.meta.aggregations.as_slice() else {
        panic!("one aggregation: {:?}", r.meta.aggregations)
    };
    assert_eq!(agg.kind, AggregationKind::Threshold);
    assert_eq!(agg.fields.len(), 1);
    assert_eq!(
        &th[agg.fields[0].span.start..agg.fields[0].span.end],
        "source.ip"
    );
    assert_eq!(agg.distinct[0].value, "user.name");
    assert_eq!(agg.threshold, Some(25));

    let nt = "[rule]\ntype = \"new_terms\"\nlanguage = \"kuery\"\nquery = 'host.os.type:linux'\n[rule.new_terms]\nfield = \"new_terms_fields\"\nvalue = [\"host.id\"]\n[[rule.new_terms.history_window_start]]\nfield = \"history_window_start\"\nvalue = \"now-7d\"\n";
    let (_, r) = rule_of(nt);
    let [agg] = r.meta.aggregations.as_slice() else {
        panic!("one aggregation: {:?}", r.meta.aggregations)
    };
    assert_eq!(agg.kind, AggregationKind::NewTerms);
    assert_eq!(agg.fields[0].value, "host.id");
    assert_eq!(
        &nt[agg.fields[0].span.start..agg.fields[0].span.end],
        "host.id"
    );
    assert!(agg.distinct.is_empty() && agg.threshold.is_none());

    let tm = "[rule]\ntype = \"threat_match\"\nlanguage = \"kuery\"\nquery = 'source.ip:*'\nthreat_query = '@timestamp >= \"now-30d/d\"'\n[[rule.threat_mapping]]\n[[rule.threat_mapping.entries]]\nfield = \"source.ip\"\ntype = \"mapping\"\nvalue = \"threat.indicator.ip\"\n";
    rule_of(tm);

    let es = "[rule]\ntype = \"esql\"\nquery = '''\nfrom logs-* | where a == 1\n'''\n[transform]\n[[transform.osquery]]\nquery = \"SELECT 1\"\n";
    let (_, r) = rule_of(es);
    assert_eq!(r.language, Language::Esql);

    let eql = "[rule]\ntype = \"eql\"\nlanguage = \"eql\"\nquery = 'process where true'\n";
    let (_, r) = rule_of(eql);
    assert_eq!(r.language, Language::Eql);

    let bad =
        "[rule]\ntype = \"threshold\"\nquery = 'a:b'\n[rule.threshold]\nfield = 3\nvalue = \"x\"\n";
    let p = parse(&file(bad));
    assert_eq!(p.issues.iter().filter(|i| i.code == "RL004").count(), 2);
}

#[test]
fn kibana_filters_are_and_ed_with_the_query() {
    let text = r#"[rule]
type = "query"
language = "kuery"
query = 'event.category:process'

[[rule.filters]]
[rule.filters.meta]
negate = true
[rule.filters.query.wildcard."file.path"]
case_insensitive = true
value = "?:\\\\ProgramData\\\\*"

[[rule.filters]]
[rule.filters.meta]
negate = true
type = "exists"
key = "rapid7.id"
[rule.filters.query.exists]
field = "rapid7.id"

[[rule.filters]]
[rule.filters.meta]
negate = true
type = "phrase"
key = "user.name"
[rule.filters.meta.params]
query = "svc_backup"

[[rule.filters]]
[rule.filters.meta]
negate = false
[rule.filters.query.match_phrase]
"host.os.type" = "windows"

[[rule.filters]]
[rule.filters.meta]
negate = true
[rule.filters.query.bool]
minimum_should_match = 1
[[rule.filters.query.bool.should]]
[rule.filters.query.bool.should.match_phrase]
"process.name" = "a.exe"
[[rule.filters.query.bool.should]]
[rule.filters.query.bool.should.match_phrase]
"process.name" = "b.exe"

[[rule.filters]]
[rule.filters.meta]
negate = true
[rule.filters.query.query_string]
query = "source.port:(80 OR 443)"

[[rule.filters]]
[rule.filters.meta]
disabled = true
negate = true
[rule.filters.query.exists]
field = "ignored"
"#;
    let (f, r) = rule_of(text);
    let l = r.logic.as_ref().unwrap();
    assert!(!l.has_opaque(), "{l:?}");
    let cs = cmps(l);
    let names: Vec<(&str, Op, bool)> = cs
        .iter()
        .map(|(c, n)| (c.field.raw.as_str(), c.op, *n))
        .collect();
    assert_eq!(
        names,
        [
            ("event.category", Op::Eq, false),
            ("file.path", Op::Wildcard, true),
            ("rapid7.id", Op::Exists, true),
            ("user.name", Op::Eq, true),
            ("host.os.type", Op::Eq, false),
            ("process.name", Op::Eq, true),
            ("source.port", Op::Eq, true),
        ]
    );
    let wc = &cs[1].0;
    assert_eq!(wc.values[0].text, "?:\\ProgramData\\*");
    assert_eq!(wc.modifiers, ["case_insensitive"]);
    assert_eq!(f.slice(wc.field.span), "file.path");
    assert_eq!(f.slice(cs[3].0.values[0].span), "svc_backup");
    let pn = &cs[5].0;
    assert_eq!(
        pn.values
            .iter()
            .map(|v| v.text.as_str())
            .collect::<Vec<_>>(),
        ["a.exe", "b.exe"]
    );
    let sp = &cs[6].0;
    assert_eq!(f.slice(sp.values[1].span), "443");
    assert_eq!(f.slice(sp.field.span), "source.port");
}

#[test]
fn sniffing() {
    assert!(looks_like_rule(IRC));
    assert!(looks_like_rule("[rule]\nquery = 'a'\n"));
    assert!(looks_like_rule("[metadata]\n[ rule ]\nname = 'x'\n"));
    assert!(!looks_like_rule("title: x\ndetection:\n  sel: {}\n"));
    assert!(!looks_like_rule("[rule]\nname = 'x'\n"));
    assert!(!looks_like_rule("[package]\nname = 'x'\n"));
}

#[test]
fn garbage_never_panics() {
    let pieces = [
        "[rule]\n",
        "[metadata]\n",
        "query = ",
        "'''",
        "\"\"\"",
        "\"",
        "'",
        "\\",
        "\\u00",
        "\n",
        "type = \"query\"\n",
        "language = ",
        "kuery",
        "a:(b or c)",
        "[[rule.filters]]\n",
        "[rule.filters.query.exists]\n",
        "field = ",
        "= ",
        "é",
        "{",
        "}",
        "[",
        "]",
        ",",
        "1",
        "true",
        "#",
    ];
    let mut rng = crate::testkit::Lcg(42);
    let mut next = || rng.next();
    for i in 0..3000 {
        let n = next() % 25;
        let text: String = if i % 4 == 0 {
            let bytes: Vec<u8> = (0..n * 4).map(|_| (next() % 256) as u8).collect();
            format!("[rule]\nquery = '''\n{}", String::from_utf8_lossy(&bytes))
        } else {
            (0..n).map(|_| pieces[next() % pieces.len()]).collect()
        };
        let f = file(&text);
        let p = parse(&f);
        for i in &p.issues {
            assert!(
                i.span.end <= text.len() && i.span.start <= i.span.end,
                "{text:?} {i:?}"
            );
        }
        let _ = looks_like_rule(&text);
    }
}

#[test]
fn more_filter_shapes() {
    let text = r#"[rule]
type = "query"
query = 'event.category:process'

[[rule.filters]]
meta = { negate = true, type = "phrases", key = "user.name", params = ["a", "b"] }

[[rule.filters]]
meta = { negate = false }
range = { "destination.port" = { gte = 1024, lt = 65536 } }

[[rule.filters]]
meta = { negate = true }
exists = { field = "process.parent.name" }

[[rule.filters]]
meta = { negate = true }
query = { geo_shape = { x = 1 } }
"#;
    let f = file(text);
    let p = parse(&f);
    let r = &p.rules[0];
    let l = r.logic.as_ref().unwrap();
    let cs = cmps(l);
    assert_eq!(cs[1].0.field.raw, "user.name");
    assert!(cs[1].1);
    assert_eq!(cs[1].0.values.len(), 2);
    assert_eq!(f.slice(cs[1].0.values[1].span), "b");
    assert_eq!(
        cs[2].0.op,
        Op::Range {
            lo_inclusive: true,
            hi_inclusive: false
        }
    );
    assert_eq!(f.slice(cs[2].0.values[0].span), "1024");
    assert_eq!((cs[3].0.op, cs[3].1), (Op::Exists, true));
    assert!(l.has_opaque());
    let info: Vec<_> = p.issues.iter().filter(|i| i.code == "RL010").collect();
    assert_eq!(info.len(), 1);
    assert_eq!(info[0].severity, Severity::Info);
    assert!(
        f.slice(info[0].span).contains("geo_shape"),
        "{:?}",
        f.slice(info[0].span)
    );
}

#[test]
fn the_false_positive_analysis_of_the_note_is_read_as_notes() {
    let rule = |note: &str| {
        format!(
            "[rule]\nname = \"N\"\nrule_id = \"x\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = \"process.name:a\"\nfalse_positives = [\"Admins.\"]\nnote = {note}\n"
        )
    };
    let text = rule(
        "\"\"\"## Triage\n\n### False positive analysis\n\n- Build servers.\n- Backups.\n\n### Response and remediation\n\n- Isolate.\n\"\"\"",
    );
    let (f, r) = rule_of(&text);
    let fp = &r.meta.falsepositives;
    assert_eq!(fp.len(), 2, "{fp:?}");
    assert_eq!(fp[1].value, "- Build servers.\n- Backups.");
    assert_eq!(f.slice(fp[1].span), fp[1].value);

    // An escaped string keeps the whole note as the span.
    let text = rule("\"## False Positive Analysis\\n\\nScanners.\\n\"");
    let (_, r) = rule_of(&text);
    assert_eq!(r.meta.falsepositives[1].value, "Scanners.");

    // No such section: nothing added.
    let (_, r) = rule_of(&rule("\"\"\"## Triage\n\nLook.\n\"\"\""));
    assert_eq!(r.meta.falsepositives.len(), 1);
}

#[test]
fn esql_stats_by_and_where_are_an_aggregation_with_file_spans() {
    let t = "[rule]\ntype = \"esql\"\nlanguage = \"esql\"\nquery = '''\nFROM logs-* | WHERE event.outcome == \"failure\"\n| STATS users = COUNT_DISTINCT(user.name) BY source.ip\n| WHERE users > 20\n'''\n";
    let (_, r) = rule_of(t);
    let [agg] = r.meta.aggregations.as_slice() else {
        panic!("one aggregation: {:?}", r.meta.aggregations)
    };
    assert_eq!(agg.kind, AggregationKind::Threshold);
    let d = agg.distinct[0].span;
    assert_eq!(&t[d.start..d.end], "user.name");
    let f = agg.fields[0].span;
    assert_eq!(&t[f.start..f.end], "source.ip");
    assert_eq!(agg.threshold, Some(20));

    // A distinct count only read by a CASE that also alerts on one value
    // is not what the rule alerts on.
    let case = "[rule]\ntype = \"esql\"\nlanguage = \"esql\"\nquery = '''\nFROM logs-*\n| STATS users = COUNT_DISTINCT(user.name), n = COUNT(*) BY source.ip\n| EVAL t = CASE(users == 1 AND n >= 30, \"guessing\", users >= 15, \"spraying\", null)\n| WHERE t IS NOT NULL\n'''\n";
    let (_, r) = rule_of(case);
    assert!(
        r.meta.aggregations[0].distinct.is_empty(),
        "{:?}",
        r.meta.aggregations
    );

    let kql = "[rule]\ntype = \"query\"\nlanguage = \"kuery\"\nquery = 'stats:x'\n";
    assert!(rule_of(kql).1.meta.aggregations.is_empty());
}
