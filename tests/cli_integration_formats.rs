//! End-to-end tests of the integration output formats: SARIF, GitHub
//! workflow commands and Markdown, on small Sigma rules in a temporary
//! directory.

mod common;

use common::{repo, rulelint};
use serde_json::Value;
use std::fs;
use std::path::Path;

/// Connections to an IRC port: `ephemeral-port` and `irc-client` findings
/// on line 11.
const FLAGGED: &str = "title: IRC Connection From A Workstation To The Internet
id: 6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21
status: test
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        Protocol: tcp
        # the classic IRC port
        DestinationPort: 6667
    condition: selection
level: medium
falsepositives:
    - Lab traffic seen in tests
";

/// No finding.
const CLEAN: &str = "title: Registry Run Key Points To Temp
id: 0b7c36a4-6d8e-4bd4-9a3e-2f0a4c1d9e11
status: test
logsource:
    category: registry_set
    product: windows
detection:
    selection:
        TargetObject|contains: '\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\'
        Details|contains: '\\AppData\\Local\\Temp\\'
    condition: selection
level: high
falsepositives:
    - Lab traffic seen in tests
";

fn sarif(dir: &Path, args: &[&str]) -> (Value, i32) {
    let (out, v) = common::run_json(dir, &["check", "--isolated", "--format", "sarif"], args);
    (v, out.status.code().unwrap_or(-1))
}

#[test]
fn sarif_results_rules_locations_and_fixes() {
    let d = repo(&[("rules/net irc.yml", FLAGGED), ("rules/clean.yml", CLEAN)]);
    let (v, code) = sarif(d.path(), &["rules"]);
    assert_eq!(code, 1);
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().any(|r| r["id"] == "RL201"));
    assert!(rules.iter().any(|r| r["id"] == "RL201/irc-client"));
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
            .as_str()
            .map(|u| u.starts_with("file:///") && u.ends_with('/')),
        Some(true)
    );
    let results = run["results"].as_array().expect("results");
    let ids: Vec<&str> = results
        .iter()
        .filter_map(|r| r["ruleId"].as_str())
        .collect();
    assert!(ids.contains(&"RL201/ephemeral-port"), "{ids:?}");
    assert!(ids.contains(&"RL201/irc-client"), "{ids:?}");
    for r in results {
        let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "rules/net%20irc.yml");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 11);
        assert_eq!(loc["region"]["startColumn"], 26);
        assert_eq!(loc["region"]["endColumn"], 30);
        assert_eq!(loc["region"]["snippet"]["text"], "6667");
        assert!(r["partialFingerprints"]["rulelint/v1"].is_string());
        assert_eq!(r["level"], "warning");
    }
    // The Sigma suggestion applies mechanically: a fix with replacements.
    let fixed = results
        .iter()
        .find(|r| r["fixes"].is_array())
        .expect("a result with fixes");
    let change = &fixed["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "rules/net%20irc.yml");
    assert!(change["replacements"][0]["deletedRegion"]["startLine"].is_u64());
    assert!(change["replacements"][0]["insertedContent"]["text"].is_string());
}

#[test]
fn sarif_fingerprints_survive_moved_lines() {
    let d = repo(&[("r.yml", FLAGGED)]);
    let (a, _) = sarif(d.path(), &["r.yml"]);
    let moved = FLAGGED.replace(
        "status: test\n",
        "status: test\ndescription: |\n    Moved down by three lines.\nauthor: someone\n",
    );
    fs::write(d.path().join("r.yml"), moved).expect("write");
    let (b, _) = sarif(d.path(), &["r.yml"]);
    let fp = |v: &Value| -> Vec<(String, String, u64)> {
        v["runs"][0]["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap_or("").to_string(),
                    r["partialFingerprints"]["rulelint/v1"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap_or(0),
                )
            })
            .collect()
    };
    let (fa, fb) = (fp(&a), fp(&b));
    assert_eq!(fa.len(), fb.len());
    assert!(!fa.is_empty());
    for (x, y) in fa.iter().zip(&fb) {
        assert_eq!(x.0, y.0);
        assert_eq!(x.1, y.1, "fingerprint changed when lines moved");
        assert_eq!(x.2 + 3, y.2);
    }
}

#[test]
fn sarif_reports_parse_errors_as_results() {
    let broken = "title: Broken\nlogsource:\n    category: process_creation\ndetection:\n    selection:\n        Image: [unclosed\n    condition: selection\n";
    let d = repo(&[("broken.yml", broken)]);
    let (v, code) = sarif(d.path(), &["broken.yml"]);
    assert_eq!(code, 2);
    let r = &v["runs"][0]["results"][0];
    assert!(
        r["ruleId"].as_str().is_some_and(|id| id.starts_with("RL0")),
        "{r}"
    );
    assert_eq!(r["level"], "error");
    assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() >= Some(1));
}

#[test]
fn github_annotations() {
    let d = repo(&[("rules/irc.yml", FLAGGED), ("rules/clean.yml", CLEAN)]);
    let out = rulelint(d.path())
        .args(["check", "--isolated", "--format", "github", "rules"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for l in &lines[..2] {
        assert!(
            l.starts_with(
                "::warning file=rules/irc.yml,line=11,col=26,endLine=11,endColumn=30,title=RL201 "
            ),
            "{l}"
        );
        assert!(l.contains("%0A%0Ahelp: "), "{l}");
    }
    assert_eq!(lines[2], "rulelint: 2 findings in 2 files, 0 errors");
}

#[test]
fn github_annotations_cannot_be_injected() {
    let evil = "title: \"Evil %0A::set-env name=X::1, a:b\\n::error::injected\\r\\nend\"
id: 2d1f9a57-8a43-4a4e-9c59-6a3c2a0e5b10
status: test
logsource:
    category: process_creation
    product: linux
detection:
    selection:
        Image|endswith: '/x%0A::set-env name=Y::2,c:d/nmap'
    condition: selection
level: medium
falsepositives:
    - Lab traffic seen in tests
";
    let d = repo(&[("a,b:c.yml", evil)]);
    let out = rulelint(d.path())
        .args(["check", "--isolated", "--format", "github", "a,b:c.yml"])
        .output()
        .expect("run");
    let text = String::from_utf8(out.stdout).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    // One workflow command and the summary: nothing else starts with `::`.
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::")).count(),
        1,
        "{text}"
    );
    assert!(!text.contains('\r'));
    let cmd = lines[0];
    let (props, msg) = cmd
        .strip_prefix("::warning ")
        .and_then(|c| c.split_once("::"))
        .expect("a warning command");
    assert!(props.starts_with("file=a%2Cb%3Ac.yml,line=9,"), "{props}");
    assert!(
        props.contains(
            "title=RL201 security-scanner in Evil %250A%3A%3Aset-env name=X%3A%3A1%2C a%3Ab%0A%3A%3Aerror%3A%3Ainjected%0D%0Aend"
        ),
        "{props}"
    );
    for kv in props.split(',') {
        let (_, v) = kv.split_once('=').expect("key=value");
        assert!(!v.contains(':'), "unescaped `:` in {kv}");
    }
    assert!(
        msg.contains("`/x%250A::set-env name=Y::2,c:d/nmap`"),
        "{msg}"
    );
}

#[test]
fn markdown_summary() {
    let d = repo(&[("rules/a|b.yml", FLAGGED), ("rules/clean.yml", CLEAN)]);
    let out = rulelint(d.path())
        .args(["check", "--isolated", "--format", "markdown", "rules"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let md = String::from_utf8(out.stdout).expect("utf8");
    assert!(md.starts_with("## rulelint\n"), "{md}");
    assert!(
        md.contains("**2 findings** and 0 errors in 2 files (2 rules checked)."),
        "{md}"
    );
    assert!(md.contains("### Findings by pattern"));
    assert!(
        md.contains("| RL201 known-fp-pattern | `irc-client` | warning | 1 |"),
        "{md}"
    );
    assert!(md.contains("### Findings by file"));
    assert!(md.contains("| `rules/a\\|b.yml` | 2 | 0 |"), "{md}");
    assert!(
        md.contains("#### warning `rules/a|b.yml:11:26` — RL201 `ephemeral-port`"),
        "{md}"
    );
    assert!(md.contains("```yaml\nfilter_"), "{md}");
}

#[test]
fn markdown_without_findings() {
    let d = repo(&[("clean.yml", CLEAN)]);
    rulelint(d.path())
        .args(["check", "--isolated", "--format", "markdown", "clean.yml"])
        .assert()
        .success()
        .stdout(predicates::str::contains("No findings."));
}

#[test]
fn unknown_format_is_a_usage_error() {
    let d = repo(&[("clean.yml", CLEAN)]);
    let out = rulelint(d.path())
        .args(["check", "--format", "xml", "clean.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'xml'"), "{err}");
    assert!(
        err.contains("sarif") && err.contains("github") && err.contains("markdown"),
        "{err}"
    );
}
