//! Searches Splunk runs must not be parse errors: what rulelint cannot
//! model becomes an Opaque part with an RL010 info.

use rulelint::query::spl;
use rulelint::rule::{Logic, ParseIssue};
use rulelint::Severity;

fn errors(issues: &[ParseIssue]) -> Vec<String> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| format!("{} {} at {}", i.code, i.message, i.span.start))
        .collect()
}

fn infos(issues: &[ParseIssue]) -> Vec<&str> {
    issues
        .iter()
        .filter(|i| i.code == "RL010")
        .map(|i| i.message.as_str())
        .collect()
}

fn opaque_reasons(l: &Logic) -> Vec<String> {
    let mut out = Vec::new();
    l.visit(&mut |n| {
        if let Logic::Opaque(o) = n {
            out.push(o.reason.clone());
        }
    });
    out
}

fn cmps(l: &Logic) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    l.visit_cmps(&mut |c, neg| out.push((c.field.raw.clone(), neg)));
    out
}

#[test]
fn foreach_templates_are_accepted() {
    for q in [
        r#"index=main sourcetype=foo | foreach * [eval <<FIELD>>=trim('<<FIELD>>')] | where user!="admin""#,
        r#"index=main | foreach count_* [ eval pct_<<MATCHSTR>> = round('<<FIELD>>' / total * 100, 2) ] | search pct_a > 50"#,
        r#"index=main | foreach mode=multifield a b c [eval <<FIELD>>=if(isnull(<<FIELD>>), "-", <<FIELD>>)] | stats count by a"#,
        r#"index=main | foreach Processes.* [ eval <<MATCHSEG1>>_lower = lower('<<FIELD>>') ]"#,
    ] {
        let a = spl::analyze(q);
        assert!(errors(&a.issues).is_empty(), "{q}: {:?}", errors(&a.issues));
    }
    // The filter after the foreach is still modelled.
    let a = spl::analyze(
        r#"index=main process_name=cmd.exe | foreach * [eval <<FIELD>>=trim('<<FIELD>>')] | where user!="admin""#,
    );
    assert!(cmps(&a.logic).contains(&("process_name".to_string(), false)));
    assert!(
        cmps(&a.logic).iter().any(|(f, _)| f == "user"),
        "{:?}",
        a.logic
    );
}

#[test]
fn relative_time_in_search_and_where() {
    for q in [
        r#"index=main EventCode=4625 | search _time >= relative_time(now(), "-10m@m")"#,
        r#"index=main EventCode=4625 | search _time>=relative_time(now(),"-10m@m") user=bob"#,
        r#"index=main EventCode=4625 | where _time >= relative_time(now(), "-10m@m")"#,
        r#"index=main EventCode=4625 _time >= relative_time(now(), "-1d@d") | stats count by user"#,
    ] {
        let a = spl::analyze(q);
        assert!(errors(&a.issues).is_empty(), "{q}: {:?}", errors(&a.issues));
        assert!(
            cmps(&a.logic).contains(&("EventCode".to_string(), false)),
            "{q}: {:?}",
            a.logic
        );
    }
    // In `search`, the computed bound is not modelled: an Opaque part with
    // an info that names it, and the other terms stay.
    let a = spl::analyze(
        r#"index=main EventCode=4625 | search _time>=relative_time(now(),"-10m@m") user=bob"#,
    );
    assert!(
        infos(&a.issues).iter().any(|m| m.contains("relative_time")),
        "{:?}",
        a.issues
    );
    assert!(!opaque_reasons(&a.logic).is_empty());
    assert!(cmps(&a.logic).contains(&("user".to_string(), false)));
}

#[test]
fn what_splunk_rejects_is_still_an_error() {
    for q in [
        r#"index=main | search _time >= relative_time(now(), "-10m@m""#,
        r#"index=main | foreach * [eval <<FIELD>>=trim('<<FIELD>>')"#,
        r#"index=main | where (a=1"#,
        r#"index=main | search a="#,
    ] {
        let a = spl::analyze(q);
        assert!(!errors(&a.issues).is_empty(), "{q} should be an error");
    }
}
