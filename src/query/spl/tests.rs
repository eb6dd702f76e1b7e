use super::*;
use crate::rule::{Cmp, Op};

/// A compact rendering of the IR for assertions:
/// `and(macro(sysmon), EventCode=[1], Image endswith [\cmd.exe], not(...))`.
pub(crate) fn show(l: &Logic) -> String {
    match l {
        Logic::And(c) => format!("and({})", c.iter().map(show).collect::<Vec<_>>().join(", ")),
        Logic::Or(c) => format!("or({})", c.iter().map(show).collect::<Vec<_>>().join(", ")),
        Logic::Not(x) => format!("not({})", show(x)),
        Logic::Keyword(k) => format!(
            "kw[{}]",
            k.values
                .iter()
                .map(|v| v.text.clone())
                .collect::<Vec<_>>()
                .join("|")
        ),
        Logic::Opaque(o) if o.reason == "macro" => format!("macro({})", o.text),
        Logic::Opaque(o) => format!("opaque({})", o.reason),
        Logic::Shared(x) => show(x),
        Logic::Cmp(c) => {
            let op = match c.op {
                Op::Eq => "=".to_string(),
                Op::Contains => " contains ".into(),
                Op::StartsWith => " startswith ".into(),
                Op::EndsWith => " endswith ".into(),
                Op::Wildcard => " glob ".into(),
                Op::Regex => " re ".into(),
                Op::Cidr => " cidr ".into(),
                Op::Exists => " exists".into(),
                Op::FieldRef => " =field ".into(),
                Op::Gt => ">".into(),
                Op::Gte => ">=".into(),
                Op::Lt => "<".into(),
                Op::Lte => "<=".into(),
                Op::Range { .. } => " range ".into(),
            };
            let vals = if c.op == Op::Exists {
                String::new()
            } else {
                format!(
                    "[{}]",
                    c.values
                        .iter()
                        .map(|v| if v.is_null() {
                            "null".to_string()
                        } else {
                            v.text.clone()
                        })
                        .collect::<Vec<_>>()
                        .join("|")
                )
            };
            let d = if c.field.derived { "~" } else { "" };
            let m = if c.modifiers.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", c.modifiers.join(","))
            };
            format!("{d}{}{m}{op}{vals}", c.field.raw)
        }
    }
}

fn p(text: &str) -> QueryParse {
    let q = parse(text);
    assert!(
        !q.has_errors(),
        "unexpected errors for {text:?}: {:?}",
        q.issues
    );
    q
}

fn s(text: &str) -> String {
    show(&p(text).logic)
}

fn cmps(l: &Logic) -> Vec<(&Cmp, bool)> {
    let mut v = Vec::new();
    l.visit_cmps(&mut |c, n| v.push((c, n)));
    v
}

fn slice(text: &str, s: Span) -> &str {
    &text[s.start..s.end]
}

fn err(text: &str) -> (String, Span) {
    let q = parse(text);
    let e = q
        .issues
        .iter()
        .find(|i| i.severity == crate::severity::Severity::Error)
        .unwrap_or_else(|| panic!("expected an error for {text:?}, got {:?}", q.issues));
    (e.message.clone(), e.span)
}

// ---------------------------------------------------------------- base search

#[test]
fn base_search_comparisons() {
    assert_eq!(
        s(r#"index=main sourcetype=xmlwineventlog EventCode=4688 user!=SYSTEM count>5 size<=10"#),
        "and(index=[main], sourcetype=[xmlwineventlog], EventCode=[4688], not(user=[SYSTEM]), count>[5], size<=[10])"
    );
    assert_eq!(s("a >= 1 b < 2 c > 3"), "and(a>=[1], b<[2], c>[3])");
    // spaces around `=`
    assert_eq!(
        s(r#"ScriptBlockText = "*get-foresttrust*""#),
        "ScriptBlockText contains [get-foresttrust]"
    );
}

#[test]
fn or_binds_tighter_than_and_in_search() {
    assert_eq!(s("a=1 b=2 OR c=3"), "and(a=[1], or(b=[2], c=[3]))");
    assert_eq!(s("a=1 AND b=2 OR c=3"), "and(a=[1], or(b=[2], c=[3]))");
    assert_eq!(s("(a=1 b=2) OR c=3"), "or(and(a=[1], b=[2]), c=[3])");
    assert_eq!(s("NOT a=1 OR b=2"), "or(not(a=[1]), b=[2])");
    // lower-case `or` is a plain term
    assert_eq!(s("a=1 or b=2"), "and(a=[1], kw[or], b=[2])");
}

#[test]
fn wildcards_map_to_operators_with_exact_spans() {
    let t = r#"Image="*\\cmd.exe" CommandLine=*whoami* p=C:\\Windows* x=a*b y=* z!=*"#;
    let q = p(t);
    assert_eq!(
        show(&q.logic),
        r"and(Image endswith [\cmd.exe], CommandLine contains [whoami], p startswith [C:\Windows], x glob [a*b], y exists, not(z exists))"
    );
    let c = cmps(&q.logic);
    // the value span covers what is left after the `*`, escapes included
    assert_eq!(slice(t, c[0].0.values[0].span), r"\\cmd.exe");
    assert_eq!(slice(t, c[0].0.field.span), "Image");
    assert_eq!(slice(t, c[0].0.span), r#"Image="*\\cmd.exe""#);
    assert_eq!(slice(t, c[1].0.values[0].span), "whoami");
    assert_eq!(slice(t, c[2].0.values[0].span), r"C:\\Windows");
    assert_eq!(slice(t, c[3].0.values[0].span), "a*b");
}

#[test]
fn values_keep_quoting_and_escapes() {
    let t = r#"a="443" b=443 c="say \"hi\"" d=0755 e=10.0.0.0/8 f!="192.168.0.0/16""#;
    let q = p(t);
    let c = cmps(&q.logic);
    assert_eq!(c[0].0.values[0].parsed, crate::rule::Parsed::Str);
    assert_eq!(c[1].0.values[0].parsed, crate::rule::Parsed::Int(443));
    assert_eq!(c[2].0.values[0].text, r#"say "hi""#);
    assert_eq!(slice(t, c[2].0.values[0].span), r#"say \"hi\""#);
    assert_eq!(c[3].0.values[0].parsed, crate::rule::Parsed::Str);
    assert_eq!(c[4].0.op, Op::Cidr);
    assert_eq!((c[5].0.op, c[5].1), (Op::Cidr, true));
}

#[test]
fn in_lists_group_by_operator() {
    let t =
        r#"process_name IN ("cmd.exe", "*\\powershell.exe", pwsh.exe) NOT user IN ("SYSTEM","*$")"#;
    let q = p(t);
    assert_eq!(
        show(&q.logic),
        r"and(or(process_name=[cmd.exe|pwsh.exe], process_name endswith [\powershell.exe]), not(or(user=[SYSTEM], user endswith [$])))"
    );
    let c = cmps(&q.logic);
    assert_eq!(
        slice(t, c[0].0.span),
        r#"process_name IN ("cmd.exe", "*\\powershell.exe", pwsh.exe)"#
    );
    assert_eq!(slice(t, c[0].0.values[1].span), "pwsh.exe");
    assert!(c[2].1 && c[3].1);
    // no commas, a macro in the list
    assert_eq!(s(r#"x IN ("a" "b")"#), "x=[a|b]");
    assert_eq!(
        s("x IN (a, `more_values`)"),
        "or(x=[a], macro(more_values))"
    );
    assert_eq!(s("EventCode IN (4886,4887)"), "EventCode=[4886|4887]");
}

#[test]
fn keywords_and_modifiers() {
    assert_eq!(
        s(r#"`wmi` EventCode=5861 Binding "two words""#),
        "and(macro(wmi), EventCode=[5861], kw[Binding], kw[two words])"
    );
    assert_eq!(s("earliest=-24h latest=now a=1 *"), "a=[1]");
    assert_eq!(s("earliest=-24h AND a=1"), "a=[1]");
    assert_eq!(
        s("TERM(10.0.0.1) CASE(Error)"),
        "and(kw[10.0.0.1], kw[Error])"
    );
    // parentheses inside an unquoted term
    assert_eq!(
        s("Processes.process=*GetCurrent()*"),
        "Processes.process contains [GetCurrent()]"
    );
}

#[test]
fn comments_are_ignored() {
    assert_eq!(
        s("a=1 ```not b=2``` | where x>1 ``` | unknowncmd ```"),
        "and(a=[1], x>[1])"
    );
}

// ---------------------------------------------------------------- tstats

const TSTATS: &str = r#"| tstats `security_content_summariesonly` count min(_time) as firstTime values(Processes.process) as process from datamodel=Endpoint.Processes where (Processes.process_name=nmap.exe OR `process_net`) Processes.parent_process_name!=explorer.exe nodename=Processes.x by Processes.dest Processes.user Processes.process_name _time span=1h | `drop_dm_object_name(Processes)` | `security_content_ctime(firstTime)` | where process_name="nmap.exe" AND process="*-sV*" | rename dest as host | search host=srv* | stats count by host | `nmap_discovery_filter`"#;

#[test]
fn tstats_where_and_anchors() {
    let a = analyze(TSTATS);
    assert!(a.issues.is_empty(), "{:?}", a.issues);
    assert_eq!(
        show(&a.logic),
        "and(or(Processes.process_name=[nmap.exe], Processes.process_name=[net.exe]), not(Processes.parent_process_name=[explorer.exe]), process_name=[nmap.exe], process=[*-sV*], dest startswith [srv])"
    );
    assert_eq!(a.anchors.datamodel.as_deref(), Some("Processes"));
    assert_eq!(a.datamodel_spec.as_deref(), Some("Endpoint.Processes"));
    // a tstats search has no aggregation before which to filter
    assert_eq!(a.anchors.first_aggregation, None);
    let (name, span) = a.anchors.filter_macro.clone().unwrap();
    assert_eq!(name, "nmap_discovery_filter");
    assert_eq!(slice(TSTATS, span), "`nmap_discovery_filter`");
    // the process_net macro: a process-name match on the macro's text
    let c = cmps(&a.logic);
    assert_eq!(slice(TSTATS, c[1].0.span), "`process_net`");
    assert_eq!(slice(TSTATS, c[1].0.values[0].span), "net");
    // `values(Processes.process) as process` keeps the field
    assert_eq!(
        (c[4].0.field.raw.as_str(), c[4].0.field.derived),
        ("process", false)
    );
    // after `rename dest as host`, `host` is the event field `dest`
    assert_eq!(c[5].0.field.raw, "dest");
    assert_eq!(slice(TSTATS, c[5].0.field.span), "host");
    let t = a.tstats.clone().unwrap();
    assert!(slice(TSTATS, t.expr.unwrap()).starts_with("(Processes.process_name=nmap.exe"));
    assert_eq!(&TSTATS[t.insert_at..t.insert_at + 4], " by ");
}

#[test]
fn tstats_environment_at_each_stage() {
    let a = analyze(TSTATS);
    let names: Vec<&str> = a.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["tstats", "`", "`", "where", "rename", "search", "stats", "`"]
    );
    let before_where = &a.stages[3].env;
    assert_eq!(
        before_where.name_for("Processes.process_name").as_deref(),
        Some("process_name")
    );
    assert_eq!(before_where.name_for("Processes.original_file_name"), None);
    let before_filter = &a.stages[7].env;
    assert_eq!(
        before_filter.name_for("Processes.dest").as_deref(),
        Some("host")
    );
    assert_eq!(before_filter.name_for("Processes.process_name"), None);
}

#[test]
fn datamodel_objects() {
    let q = p("| tstats count from datamodel=Network_Traffic where All_Traffic.dest_port=443 by All_Traffic.src");
    assert_eq!(q.anchors.datamodel.as_deref(), Some("All_Traffic"));
    let q = p("| tstats count from datamodel=Network_Resolution by host");
    assert_eq!(q.anchors.datamodel.as_deref(), Some("DNS"));
    let q = p("| datamodel Endpoint Processes search | search Processes.process_name=cmd.exe | stats count");
    assert_eq!(q.anchors.datamodel.as_deref(), Some("Processes"));
    assert!(q.anchors.first_aggregation.is_some());
    let q = p("| from datamodel:Endpoint.Filesystem | search file_name=x");
    assert_eq!(q.anchors.datamodel.as_deref(), Some("Filesystem"));
    let q = p(
        r#"| tstats count FROM datamodel=Authentication where nodename=Authentication.Failed_Authentication by Authentication.user | `drop_dm_object_name("Authentication")`"#,
    );
    assert_eq!(q.anchors.datamodel.as_deref(), Some("Authentication"));
    assert_eq!(show(&q.logic), "and()");
}

// ---------------------------------------------------------------- where / eval

#[test]
fn where_expressions() {
    assert_eq!(
        s(r#"| makeresults | where a==1 AND b="x" OR NOT c!=2"#),
        "or(and(a=[1], b=[x]), not(not(c=[2])))".replace("not(not(c=[2]))", "c=[2]")
    );
    assert_eq!(
        s(
            r#"| makeresults | where like(p, "%\\temp\\%") AND LIKE (q, "x%") AND r LIKE "%.exe" AND like(s, "a%b_c")"#
        ),
        r"and(p contains [\temp\], q startswith [x], r endswith [.exe], s glob [a*b?c])"
    );
    assert_eq!(
        s(
            r#"| makeresults | where match(process, "(?i)\\d+") AND isnull(a) AND isnotnull(b) AND in(c, "x", "y") AND cidrmatch("10.0.0.0/8", ip)"#
        ),
        r"and(process re [(?i)\d+], a=[null], b exists, c=[x|y], ip cidr [10.0.0.0/8])"
    );
    assert_eq!(
        s(
            r#"| makeresults | where lower(user)="admin" AND 5 < count AND a IN ("1", "2") AND x=-1"#
        ),
        "and(user{lower}=[admin], count>[5], a=[1|2], x=[-1])"
    );
    // where compares exactly: `*` is a literal there
    assert_eq!(s(r#"| makeresults | where p="*x*""#), "p=[*x*]");
    // lower-case operators, two fields
    assert_eq!(
        s("| makeresults | where a > 1 or b != c"),
        "or(a>[1], not(b =field [c]))"
    );
}

#[test]
fn where_unmodelled_parts_are_opaque_with_a_note() {
    let t = "| makeresults | where len(process) > 200 AND a=1";
    let q = p(t);
    assert_eq!(
        show(&q.logic),
        "and(opaque(comparison not modelled), a=[1])"
    );
    assert_eq!(q.issues.len(), 1);
    assert_eq!(q.issues[0].code, "RL010");
    assert_eq!(slice(t, q.issues[0].span), "len(process) > 200");
    assert!(!fully_modelled(&q.logic));
}

#[test]
fn eval_tracks_copies_and_derived_fields() {
    let q = p(
        r#"`sysmon` | eval dest=Computer, score=if(x>1, 1, 0), pn=lower(process_name) | where dest="srv" AND score>0 AND pn="cmd.exe""#,
    );
    assert_eq!(
        show(&q.logic),
        "and(macro(sysmon), Computer=[srv], ~score>[0], process_name{lower}=[cmd.exe])"
    );
    let c = cmps(&q.logic);
    assert_eq!(c[0].0.field.raw, "Computer");
    assert!(!c[0].0.field.derived);
    assert!(c[1].0.field.derived);
}

// ---------------------------------------------------------------- pipeline

#[test]
fn rename_stats_lookup_rex() {
    let t = r#"`wineventlog_security` EventCode=4625 | rename Computer as dest, TargetUserName AS user | stats count values(IpAddress) as src by dest user | lookup ioc ip as src OUTPUT is_bad AS bad | rex field=user "(?<domain>[^\\]+)\\(?P<name>.*)" | search dest=dc01 count>5 bad=true src=10.* domain=CORP name=adm*"#;
    let q = p(t);
    assert_eq!(
        show(&q.logic),
        "and(macro(wineventlog_security), EventCode=[4625], Computer=[dc01], ~count>[5], ~bad=[true], IpAddress startswith [10.], ~domain=[CORP], ~name startswith [adm])"
    );
    // the raw search is filtered before the first aggregation
    assert_eq!(
        q.anchors.first_aggregation,
        Some(t.find("| stats").unwrap())
    );
}

#[test]
fn drop_dm_object_name_strips_the_prefix() {
    let q = p(
        r#"| tstats count from datamodel=Endpoint.Registry by Registry.registry_path Registry.dest | `drop_dm_object_name("Registry")` | rename dest as host | where registry_path="x" AND host="h""#,
    );
    let c = cmps(&q.logic);
    assert_eq!(c[0].0.field.raw, "registry_path");
    assert_eq!(c[1].0.field.raw, "dest");
    assert_eq!(q.anchors.datamodel.as_deref(), Some("Registry"));
}

#[test]
fn macros_stay_named() {
    let t = "`powershell` EventCode=4104 | `drop_dm_object_name(Processes)` | `is_net_windows_file_macro` | `security_content_ctime(firstTime)` | `my_rule_filter`";
    let q = p(t);
    assert_eq!(
        show(&q.logic),
        "and(macro(powershell), EventCode=[4104], macro(is_net_windows_file_macro))"
    );
    assert!(fully_modelled(&q.logic));
    assert!(q.issues.is_empty());
    assert_eq!(
        q.anchors.filter_macro.as_ref().map(|f| f.0.as_str()),
        Some("my_rule_filter")
    );
    // macros that are not a plain process-name match stay opaque
    assert_eq!(
        s("`process_copy` `process_name_is(x)` `windows_shells`"),
        "and(macro(process_copy), macro(process_name_is(x)), macro(windows_shells))"
    );
    assert_eq!(
        s("`process_certutil`"),
        "Processes.process_name=[certutil.exe]"
    );
}

#[test]
fn joins_appends_and_subsearches() {
    let q = p(
        r#"| tstats count from datamodel=Endpoint.Processes by Processes.process_guid Processes.process_name | `drop_dm_object_name(Processes)` | join process_guid [| tstats count from datamodel=Endpoint.Filesystem where Filesystem.file_name="*.bat" by Filesystem.process_guid Filesystem.file_path | `drop_dm_object_name(Filesystem)`] | where isnotnull(file_path)"#,
    );
    assert_eq!(
        show(&q.logic),
        "and(Filesystem.file_name endswith [.bat], file_path exists)"
    );
    assert_eq!(q.anchors.datamodel.as_deref(), Some("Processes"));
    let q = p("a=1 | join type=left k [search b=2]");
    assert_eq!(show(&q.logic), "a=[1]");
    let q = p("a=1 | append [search b=2] | where c>1");
    assert_eq!(show(&q.logic), "and(or(a=[1], b=[2]), c>[1])");
    let t = "a=1 [search b=2 | fields k]";
    let q = p(t);
    assert_eq!(show(&q.logic), "and(a=[1], opaque(subsearch))");
    assert_eq!(q.issues[0].code, "RL010");
    // a subsearch's own errors are reported
    let (_, sp) = err("a=1 [search b= | fields k]");
    assert_eq!(sp, Span::new(13, 14));
}

#[test]
fn unknown_commands_are_opaque_notes() {
    let t = "a=1 | frobnicate x y | where b=2";
    let q = p(t);
    assert_eq!(
        show(&q.logic),
        "and(a=[1], opaque(unknown command `frobnicate`), b=[2])"
    );
    assert_eq!(q.issues.len(), 1);
    assert_eq!(q.issues[0].code, "RL010");
    assert_eq!(q.issues[0].severity, crate::severity::Severity::Info);
    assert_eq!(slice(t, q.issues[0].span), "| frobnicate x y ");
}

#[test]
fn known_passive_commands_add_nothing() {
    let q = p(
        r#"a=1 | table a b | fields - c | dedup a | sort - _time | head 10 | bin _time span=1h | convert ctime(t) | eventstats count as n by a | streamstats count | makemv delim="," x | mvexpand x | fillnull value=0 | spath input=x | xmlkv | transaction a maxspan=1h | regex a="^x$" | regex b!="y" | regex "z""#,
    );
    assert_eq!(
        show(&q.logic),
        "and(a=[1], a re [^x$], not(b re [y]), _raw re [z])"
    );
}

// ---------------------------------------------------------------- errors

#[test]
fn syntax_errors_at_exact_bytes() {
    assert_eq!(
        err(r#"a="x | b=1"#),
        ("unclosed double quote".to_string(), Span::new(2, 3))
    );
    assert_eq!(err("a=1 (b=2 OR c=3").1, Span::new(4, 5));
    assert_eq!(err("a=1 b=2)").1, Span::new(7, 8));
    assert_eq!(err("a=1 [search b=2").1, Span::new(4, 5));
    assert_eq!(err("a=1 ] b").1, Span::new(4, 5));
    assert_eq!(err("`sysmon a=1").1, Span::new(0, 1));
    assert_eq!(err("a=1 ```x").1, Span::new(4, 7));
    assert_eq!(err("a=1 AND").1, Span::new(4, 7));
    assert_eq!(err("a=1 OR").1, Span::new(4, 6));
    assert_eq!(err("OR a=1").1, Span::new(0, 2));
    assert_eq!(err("a=1 NOT").1, Span::new(4, 7));
    assert_eq!(err("a= | stats count").1, Span::new(1, 2));
    assert_eq!(err("a IN b").1, Span::new(2, 4));
    assert_eq!(err("a IN ()").1, Span::new(2, 4));
    assert_eq!(err("a=1 ()").1, Span::new(4, 6));
    assert_eq!(err("a=1 | | stats count").1, Span::new(4, 5));
    assert_eq!(err("a=1 |").1, Span::new(4, 5));
    assert_eq!(err("a=1 | where").1, Span::point(11));
    assert_eq!(err("a=1 | where b=1 c").1, Span::new(16, 17));
    assert_eq!(err("a=1 | where (b=1").1, Span::new(12, 13));
    assert_eq!(err("a=1 | where b=").1, Span::point(14));
    assert_eq!(err("=1").1, Span::new(0, 1));
    assert_eq!(err("   ").1, Span::new(0, 3));
    let q = parse("a=(1");
    assert_eq!(
        q.logic,
        Logic::opaque("a=(1", Span::new(0, 4), "syntax error")
    );
}

#[test]
fn deep_nesting_is_bounded() {
    let deep = format!("{}a=1{}", "(".repeat(150), ")".repeat(150));
    assert!(!parse(&deep).has_errors());
    let deeper = format!("{}a=1{}", "(".repeat(5000), ")".repeat(5000));
    assert!(parse(&deeper).has_errors());
    let w = format!(
        "| makeresults | where {}a=1{}",
        "(".repeat(150),
        ")".repeat(150)
    );
    assert!(!parse(&w).has_errors());
    let nots = format!("{}a=1", "NOT ".repeat(5000));
    assert!(parse(&nots).has_errors());
    let wn = format!("| makeresults | where {}a=1", "NOT ".repeat(5000));
    assert!(parse(&wn).has_errors());
    let neg = format!("| makeresults | where a={}1", "-".repeat(5000));
    assert!(parse(&neg).has_errors());
    let subs = format!("a=1 {}b=2{}", "[search ".repeat(300), "]".repeat(300));
    assert!(parse(&subs).has_errors());
    let subs = format!("a=1 {}b=2{}", "[search ".repeat(100), "]".repeat(100));
    let _ = parse(&subs);
}

#[test]
fn tstats_calls_record_their_datamodel_and_fields() {
    let q = "| tstats count where Processes.process_name=nmap.exe by Processes.dest | `x_filter`";
    let p = parse(q);
    assert!(p
        .issues
        .iter()
        .all(|i| i.severity != crate::severity::Severity::Error));
    let [call] = p.anchors.tstats.as_slice() else {
        panic!("one tstats call: {:?}", p.anchors.tstats);
    };
    assert!(!call.names_datamodel);
    assert_eq!(
        call.datamodel_fields,
        vec!["Processes.process_name", "Processes.dest"]
    );
    assert!(
        q[call.span.start..call.span.end].starts_with("count where"),
        "{:?}",
        call.span
    );
    let p = parse("| tstats count where index=wineventlog by host");
    assert!(p.anchors.tstats[0].datamodel_fields.is_empty());
    let p = parse("| tstats count from datamodel=Endpoint.Processes where Processes.process_name=nmap.exe by Processes.dest");
    assert!(p.anchors.tstats[0].names_datamodel);
}
