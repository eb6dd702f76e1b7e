//! The rendering stage seen from the command line: suggestion text is
//! code only, explanations are help; fixes never write what the rule's
//! toolchain rejects (placeholders in address-block matches), bare
//! addresses become one-address blocks; SPL placeholders can be written
//! with `--fix-placeholders`.

mod common;

use common::{repo, rulelint, run_json};
use serde_json::Value;
use std::fs;

/// The RL201 finding of `pattern` in a JSON report.
fn finding<'a>(v: &'a Value, pattern: &str) -> &'a Value {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["pattern"] == pattern)
        .unwrap_or_else(|| panic!("no {pattern} finding in {v:#}"))
}

const EQL_DNS: &str = r#"[metadata]
creation_date = "2025/01/01"

[rule]
name = "DNS to an external resolver"
description = "DNS from a workstation."
rule_id = "00000000-0000-0000-0000-000000000053"
risk_score = 21
severity = "low"
type = "eql"
language = "eql"
index = ["logs-endpoint.events.network-*"]
query = '''
network where event.type == "start" and destination.port == 53
'''
"#;

const SIGMA_DNS: &str = "title: DNS to an external resolver\nlogsource:\n    category: network_connection\n    product: windows\ndetection:\n    selection:\n        DestinationPort: 53\n    condition: selection\nlevel: low\n";

const KQL_IRC: &str = r#"[rule]
name = "IRC to the Internet"
description = "IRC."
rule_id = "00000000-0000-0000-0000-000000006667"
risk_score = 21
severity = "low"
type = "query"
language = "kuery"
index = ["logs-*"]
query = "event.category:network and destination.port:(6667 or 6697)"
"#;

const SPL_FAILED_LOGONS: &str = "name: Failed logons\nid: 7d1e2c1a-0000-4000-8000-000000004625\nsearch: '`wineventlog_security` EventCode=4625 | stats count by user dest | `failed_logons_filter`'\n";

#[test]
fn elastic_suggestion_text_is_code_and_the_kibana_note_is_help() {
    let d = repo(&[("irc.toml", KQL_IRC), ("dns.yml", SIGMA_DNS)]);
    let (_, v) = run_json(
        d.path(),
        &["check", "--isolated", "--format", "json"],
        &["."],
    );
    let irc = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| {
            x["file"].as_str().unwrap().ends_with("irc.toml") && x["pattern"] == "ephemeral-port"
        })
        .expect("ephemeral-port on the KQL rule");
    let text = irc["suggestion"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("and not ") && !text.contains('\n'),
        "{text}"
    );
    let help = irc["help"].as_str().unwrap();
    assert!(help.contains(text), "{help}");
    assert!(help.contains("Kibana rule exception"), "{help}");
    // A Sigma rule gets no Kibana note.
    let dns = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["file"].as_str().unwrap().ends_with("dns.yml"))
        .expect("a finding on the Sigma rule");
    assert!(!dns["help"].as_str().unwrap().contains("Kibana"), "{dns:#}");
}

#[test]
fn a_placeholder_is_never_written_into_an_address_block_match() {
    for (name, text) in [("dns.toml", EQL_DNS), ("dns.yml", SIGMA_DNS)] {
        let d = repo(&[(name, text)]);
        let (out, v) = run_json(
            d.path(),
            &[
                "check",
                "--isolated",
                "--fix",
                "--unsafe-fixes",
                "--fix-placeholders",
                "--format",
                "json",
            ],
            &[name],
        );
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert_eq!(
            fs::read_to_string(d.path().join(name)).unwrap(),
            text,
            "{name}"
        );
        let f = finding(&v, "dns-server");
        assert_eq!(f["suggestion"]["applicability"], "display-only", "{name}");
        assert!(f["suggestion"].get("edits").is_none(), "{name}: {f:#}");
        let help = f["help"].as_str().unwrap();
        assert!(
            help.contains("set the environment fact `dns_servers`"),
            "{help}"
        );
    }
}

#[test]
fn bare_address_facts_become_one_address_blocks() {
    let config = "[environment]\ndns_servers = [\"10.0.0.53\", \"fd00::53\", \"10.1.0.0/16\"]\n";
    for (name, text, want) in [
        (
            "dns.toml",
            EQL_DNS,
            r#"and not cidrMatch(?source.ip, "10.0.0.53/32", "fd00::53/128", "10.1.0.0/16")"#,
        ),
        (
            "dns.yml",
            SIGMA_DNS,
            "- '10.0.0.53/32'\n            - 'fd00::53/128'\n            - '10.1.0.0/16'\n",
        ),
    ] {
        let d = repo(&[(name, text), ("rulelint.toml", config)]);
        let out = rulelint(d.path())
            .args(["check", "--fix", name])
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("fixed {name}")), "{stderr}");
        let fixed = fs::read_to_string(d.path().join(name)).unwrap();
        assert!(fixed.contains(want), "{name}:\n{fixed}");
    }
}

#[test]
fn spl_placeholders_are_written_with_fix_placeholders() {
    let d = repo(&[("failed.yml", SPL_FAILED_LOGONS)]);
    let (_, v) = run_json(
        d.path(),
        &["check", "--isolated", "--format", "json"],
        &["failed.yml"],
    );
    let f = finding(&v, "auth-retry-automation");
    assert_eq!(f["suggestion"]["applicability"], "needs-facts");
    let help = f["help"].as_str().unwrap();
    assert!(help.contains("--fix-placeholders"), "{help}");
    assert!(help.contains("`service_accounts`"), "{help}");
    let out = rulelint(d.path())
        .args(["check", "--isolated", "--fix", "failed.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        fs::read_to_string(d.path().join("failed.yml")).unwrap(),
        SPL_FAILED_LOGONS
    );
    let out = rulelint(d.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--fix-placeholders",
            "failed.yml",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed failed.yml"), "{stderr}");
    let fixed = fs::read_to_string(d.path().join("failed.yml")).unwrap();
    assert!(
        fixed.contains("| search NOT (user=\"<your service accounts>\") | `failed_logons_filter`"),
        "{fixed}"
    );
}

#[test]
fn a_multi_line_sigma_condition_keeps_its_lines() {
    let rule = "title: IRC to the Internet\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        DestinationPort: 6667\n    filter_main:\n        Image|endswith: '\\irc.exe'\n    condition: >\n        selection and\n        not filter_main\nlevel: low\n";
    let d = repo(&[("irc.yml", rule)]);
    let out = rulelint(d.path())
        .args(["check", "--isolated", "--fix", "--unsafe-fixes", "irc.yml"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("fixed irc.yml"), "{stderr}");
    let fixed = fs::read_to_string(d.path().join("irc.yml")).unwrap();
    assert!(
        fixed.contains(
            "    condition: >\n        selection and\n        not filter_main and not filter_ephemeral_port\n"
        ),
        "{fixed}"
    );
}
