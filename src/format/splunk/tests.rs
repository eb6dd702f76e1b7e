use super::*;
use crate::rule::{Logic, Op};
use crate::severity::Severity;

fn file(text: &str) -> SourceFile {
    SourceFile::new("t.yml", text)
}

fn errors(p: &ParsedFile) -> Vec<&ParseIssue> {
    p.issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect()
}

const RULE: &str = r#"name: Suspicious Nmap Usage
id: 7b0e4a5c-1111-2222-3333-444455556666
version: 4
date: '2024-10-17'
author: Jane Doe, Splunk
status: production
type: TTP
description: Finds nmap.
data_source:
- Sysmon EventID 1
- Windows Event Log Security 4688
search: '| tstats `security_content_summariesonly` count min(_time) as firstTime
  from datamodel=Endpoint.Processes where Processes.process_name=nmap.exe
  Processes.process="*-sV*" Processes.user!="svc''s" by Processes.dest
  Processes.user | `drop_dm_object_name(Processes)` | `security_content_ctime(firstTime)`
  | `suspicious_nmap_usage_filter`'
how_to_implement: Ingest EDR data.
known_false_positives: Network scanners run by IT.
references:
- https://nmap.org/
drilldown_searches:
- name: View the detection results
  search: '%original_detection_search% | search dest = "$dest$"'
  earliest_offset: $info_min_time$
rba:
  message: nmap on $dest$
tags:
  analytic_story:
  - Network Discovery
  asset_type: Endpoint
  confidence: 80
  impact: 70
  mitre_attack_id:
  - T1046
  observable:
  - name: dest
    type: Hostname
    role:
    - Victim
  required_fields:
  - Processes.process_name
  risk_score: 56
  security_domain: endpoint
tests:
- name: True Positive Test
  attack_data:
  - data: https://example.com/x.log
"#;

#[test]
fn reads_metadata() {
    let p = parse(&file(RULE));
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    assert_eq!(p.rules.len(), 1);
    let r = &p.rules[0];
    assert_eq!(
        (r.format, r.language, r.schema),
        (Format::Splunk, Language::Spl, Schema::Splunk)
    );
    let m = &r.meta;
    assert_eq!(m.title.as_ref().unwrap().value, "Suspicious Nmap Usage");
    assert_eq!(
        m.id.as_ref().unwrap().value,
        "7b0e4a5c-1111-2222-3333-444455556666"
    );
    assert_eq!(m.status.as_ref().unwrap().value, "production");
    assert_eq!(m.rule_type.as_ref().unwrap().value, "TTP");
    assert_eq!(m.author.as_ref().unwrap().value, "Jane Doe, Splunk");
    assert_eq!(m.level.as_ref().unwrap().value, "high");
    assert_eq!(m.references[0].value, "https://nmap.org/");
    assert_eq!(m.falsepositives[0].value, "Network scanners run by IT.");
    assert_eq!(
        m.data,
        [
            "sysmon eventid 1",
            "windows event log security 4688",
            "endpoint.processes"
        ]
    );
    let tags: Vec<&str> = m.tags.iter().map(|t| t.value.as_str()).collect();
    assert_eq!(tags, ["T1046", "analytic_story:Network Discovery"]);
    let t = &RULE[m.title.as_ref().unwrap().span.start..m.title.as_ref().unwrap().span.end];
    assert_eq!(t, "Suspicious Nmap Usage");
    assert_eq!(r.span.start, 0);
}

#[test]
fn spans_land_on_the_file_through_folded_single_quotes() {
    let p = parse(&file(RULE));
    let r = &p.rules[0];
    let l = r.logic.as_ref().unwrap();
    let mut cmps = Vec::new();
    l.visit_cmps(&mut |c, neg| cmps.push((c.clone(), neg)));
    let sl = |s: Span| &RULE[s.start..s.end];
    // on the 2nd line of the folded scalar
    assert_eq!(sl(cmps[0].0.field.span), "Processes.process_name");
    assert_eq!(sl(cmps[0].0.values[0].span), "nmap.exe");
    assert_eq!(sl(cmps[0].0.span), "Processes.process_name=nmap.exe");
    // on the 3rd line
    assert_eq!(cmps[1].0.op, Op::Contains);
    assert_eq!(sl(cmps[1].0.values[0].span), "-sV");
    // `''` decodes to `'`; the span covers the doubled quotes
    assert_eq!(cmps[2].0.values[0].text, "svc's");
    assert_eq!(sl(cmps[2].0.values[0].span), "svc''s");
    assert!(cmps[2].1);
    // the query anchor is the scalar's content
    let q = r.anchors.query.unwrap();
    assert!(sl(q).starts_with("| tstats"));
    assert!(sl(q).ends_with("`suspicious_nmap_usage_filter`"));
    let (name, fs) = r.anchors.filter_macro.clone().unwrap();
    assert_eq!(name, "suspicious_nmap_usage_filter");
    assert_eq!(sl(fs), "`suspicious_nmap_usage_filter`");
    assert_eq!(r.anchors.datamodel.as_deref(), Some("Processes"));
    assert_eq!(r.anchors.first_aggregation, None);
}

#[test]
fn first_aggregation_maps_to_the_file() {
    let text =
        "name: x\nid: 1\nsearch: '`sysmon` EventCode=1\n  | stats count by Image | `x_filter`'\n";
    let p = parse(&file(text));
    let r = &p.rules[0];
    let off = r.anchors.first_aggregation.unwrap();
    assert_eq!(&text[off..off + 7], "| stats");
}

#[test]
fn block_and_double_quoted_searches() {
    let text =
        "name: x\nid: 1\nsearch: |\n  `sysmon` EventCode=1\n  | where Image=\"C:\\\\x.exe\"\n";
    let p = parse(&file(text));
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let mut vals = Vec::new();
    p.rules[0]
        .logic
        .as_ref()
        .unwrap()
        .visit_cmps(&mut |c, _| vals.push(c.values[0].clone()));
    assert_eq!(vals[1].text, "C:\\x.exe");
    assert_eq!(&text[vals[1].span.start..vals[1].span.end], "C:\\\\x.exe");

    let text = "name: x\nid: 1\nsearch: \"`sysmon` Image=\\\"*\\\\\\\\x.exe\\\" \\\n  User=bob\"\n";
    let p = parse(&file(text));
    assert!(p.issues.is_empty(), "{:?}", p.issues);
    let mut c = Vec::new();
    p.rules[0]
        .logic
        .as_ref()
        .unwrap()
        .visit_cmps(&mut |x, _| c.push(x.clone()));
    assert_eq!(c[0].values[0].text, "\\x.exe");
    assert_eq!(
        &text[c[0].values[0].span.start..c[0].values[0].span.end],
        "\\\\\\\\x.exe"
    );
    assert_eq!(&text[c[1].span.start..c[1].span.end], "User=bob");
}

#[test]
fn spl_errors_point_at_the_byte_in_the_file() {
    let text =
        "name: x\nid: 1\nsearch: '`sysmon` EventCode=1\n  | where (Image=\"x\" | `x_filter`'\n";
    let p = parse(&file(text));
    let e = errors(&p);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].code, "RL008");
    assert_eq!(&text[e[0].span.start..e[0].span.end], "(");
    assert_eq!(file(text).line_col(e[0].span.start).line, 4);
    // the rule is still there, with an opaque search
    assert!(matches!(p.rules[0].logic, Some(Logic::Opaque(_))));

    let text = "name: x\nid: 1\nsearch: '`sysmon` a=1 OR\n\n  | stats count'\n";
    let p = parse(&file(text));
    let e = errors(&p);
    assert_eq!(&text[e[0].span.start..e[0].span.end], "OR");
}

#[test]
fn bad_input_is_reported_not_panicked() {
    // invalid YAML, at its position
    let text = "name: x\nid: 1\nsearch: 'abc\n";
    let p = parse(&file(text));
    assert_eq!(p.issues[0].code, "RL002");
    assert!(p.issues[0].span.start >= text.find('\'').unwrap());
    let p = parse(&file("name: [1\nid: 2\n"));
    assert_eq!(p.issues[0].code, "RL002");
    assert_eq!(
        file("name: [1\nid: 2\n")
            .line_col(p.issues[0].span.start)
            .line,
        2
    );
    // search not a string
    let text = "name: x\nid: 1\nsearch:\n  - a\n";
    let p = parse(&file(text));
    assert_eq!(p.issues[0].code, "RL004");
    assert_eq!(file(text).line_col(p.issues[0].span.start).line, 4);
    assert_eq!(p.rules[0].logic, None);
    // missing keys
    let p = parse(&file("name: x\nsearch: a=1\n"));
    assert_eq!(errors(&p).len(), 1);
    assert!(p.issues[0].message.contains("`id`"));
    let p = parse(&file("description: nothing here\n"));
    assert_eq!(errors(&p).len(), 3);
    // a list, a scalar, an empty file
    assert_eq!(parse(&file("- a\n- b\n")).issues[0].code, "RL004");
    assert_eq!(parse(&file("just text\n")).issues[0].code, "RL004");
    assert_eq!(parse(&file("  \n")).issues[0].code, "RL012");
    assert_eq!(parse(&file("# only a comment\n")).issues[0].code, "RL012");
    // wrong type for metadata
    let p = parse(&file("name: {a: 1}\nid: 1\nsearch: a=1\n"));
    assert_eq!(p.issues[0].code, "RL004");
    // duplicate keys: reported, the last one wins
    let text = "name: x\nid: 1\nsearch: a=1\nsearch: b=2\n";
    let p = parse(&file(text));
    assert_eq!(p.issues[0].code, "RL013");
    assert_eq!(p.issues[0].span.start, text.rfind("search").unwrap());
    let mut f = Vec::new();
    p.rules[0]
        .logic
        .as_ref()
        .unwrap()
        .visit_cmps(&mut |c, _| f.push(c.field.raw.clone()));
    assert_eq!(f, ["b"]);
    // empty search
    let p = parse(&file("name: x\nid: 1\nsearch: ''\n"));
    assert_eq!(errors(&p)[0].code, "RL008");
}

#[test]
fn sniffs_detections() {
    assert!(looks_like_rule(RULE));
    assert!(looks_like_rule("\"name\": a\n'id': b\nsearch : x\n"));
    assert!(!looks_like_rule(
        "title: x\nid: 1\ndetection:\n  search: x\n"
    ));
    assert!(!looks_like_rule("name: x\nid: 1\n  search: x\n"));
    assert!(!looks_like_rule(""));
}

#[test]
fn search_scalar_finds_the_decoded_search() {
    let f = file(RULE);
    let p = parse(&f);
    let q = p.rules[0].anchors.query.unwrap();
    let d = search_scalar(&f, q).unwrap();
    assert!(d.exact);
    assert_eq!(d.style, ScalarStyle::SingleQuoted);
    assert!(d.text.contains("Processes.user!=\"svc's\""));
    assert!(search_scalar(&f, Span::new(0, 1)).is_none());
}
