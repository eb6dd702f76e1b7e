//! End-to-end tests of inline suppressions and baselines.

mod common;

use common::{repo, rulelint, IRC};
use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

/// `(code, pattern or check, line, message | help)` of a diagnostic.
type Found = (String, String, u64, String);

/// The diagnostics of a run, the exit code and stderr.
fn run(dir: &Path, args: &[&str]) -> (Vec<Found>, i32, String) {
    let (out, v) = common::run_json(dir, &["check", "--isolated", "--format", "json"], args);
    let list = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["pattern"]
                    .as_str()
                    .or(d["check"].as_str())
                    .unwrap_or("")
                    .to_string(),
                d["span"]["line"].as_u64().unwrap_or(0),
                format!(
                    "{} | {}",
                    d["message"].as_str().unwrap_or(""),
                    d["help"].as_str().unwrap_or("")
                ),
            )
        })
        .collect();
    (
        list,
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids(list: &[Found]) -> Vec<(&str, &str, u64)> {
    list.iter()
        .map(|x| (x.0.as_str(), x.1.as_str(), x.2))
        .collect()
}

#[test]
fn comment_on_the_line_before_suppresses_that_line() {
    let text = IRC.replace(
        "        DestinationPort: 6667\n",
        "        # rulelint: allow(ephemeral-port) -- our NAT replies never reach this sensor\n        DestinationPort: 6667\n",
    );
    let d = repo(&[("irc.yml", &text)]);
    let (list, code, _) = run(d.path(), &["irc.yml"]);
    assert_eq!(ids(&list), vec![("RL201", "irc-client", 10)]);
    assert_eq!(code, 1);
}

#[test]
fn comment_above_a_mapping_covers_what_is_nested() {
    let text = IRC.replace(
        "    selection:\n",
        "    # rulelint: allow(RL201)\n    selection:\n",
    );
    let d = repo(&[("irc.yml", &text)]);
    let (list, code, _) = run(d.path(), &["irc.yml"]);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(code, 0);
}

#[test]
fn leading_comment_block_covers_the_file() {
    let text = format!(
        "# Reviewed 2025-01: IRC is blocked at the egress proxy.\n# rulelint: allow(known-fp-pattern)\n{IRC}"
    );
    let d = repo(&[("irc.yml", &text)]);
    let (list, code, _) = run(d.path(), &["irc.yml"]);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(code, 0);
}

#[test]
fn unknown_ids_and_unused_suppressions_are_reported() {
    let text = IRC
        .replace(
            "        DestinationPort: 6667\n",
            "        # rulelint: allow(ephemeral-prot, irc-client)\n        DestinationPort: 6667\n",
        )
        .replace(
            "level: medium\n",
            "level: medium # rulelint: allow(dns-server)\n",
        );
    let d = repo(&[("irc.yml", &text)]);
    let (list, code, _) = run(d.path(), &["irc.yml"]);
    assert_eq!(
        ids(&list),
        vec![
            ("RL102", "invalid-suppression", 9),
            ("RL201", "ephemeral-port", 10),
            ("RL101", "unused-suppression", 12),
        ]
    );
    assert!(
        list[0].3.contains("did you mean `ephemeral-port`?"),
        "{}",
        list[0].3
    );
    assert!(
        list[2]
            .3
            .contains("`dns-server` reports nothing on line 12"),
        "{}",
        list[2].3
    );
    assert_eq!(code, 1);
}

#[test]
fn unused_suppression_is_info_and_does_not_fail_by_default() {
    let text = "title: Registry Run Key Points To Temp
id: 0b7c36a4-6d8e-4bd4-9a3e-2f0a4c1d9e11
logsource:
    category: registry_set
    product: windows
detection:
    selection:
        # rulelint: allow(ephemeral-port) -- stale
        TargetObject|contains: '\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\'
        Details|contains: '\\Temp\\'
    condition: selection
level: high
falsepositives:
    - Lab traffic seen in tests
";
    let d = repo(&[("a.yml", text)]);
    let (list, _, _) = run(d.path(), &["a.yml"]);
    assert_eq!(ids(&list), vec![("RL101", "unused-suppression", 8)]);
    assert!(list[0].3.contains("remove the comment"), "{}", list[0].3);
    rulelint(d.path())
        .args(["check", "--isolated", "-q", "a.yml"])
        .assert()
        .code(0);
    rulelint(d.path())
        .args(["check", "--isolated", "-q", "--fail-on", "info", "a.yml"])
        .assert()
        .code(1);
}

#[test]
fn baseline_round_trip() {
    let d = repo(&[("rules/irc.yml", IRC)]);
    let dir = d.path();
    // Record today's findings: exit 0, nothing reported as failing.
    rulelint(dir)
        .args([
            "check",
            "--isolated",
            "-q",
            "--write-baseline",
            "baseline.json",
            "rules",
        ])
        .assert()
        .code(0)
        .stderr(predicate::str::contains(
            "wrote baseline.json with 2 findings",
        ));
    let b: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("baseline.json")).expect("written"))
            .expect("json");
    assert_eq!(b["version"], 1);
    let entries = b["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["file"], "rules/irc.yml");
    assert_eq!(entries[0]["rule"], "6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21");
    assert_eq!(entries[0]["code"], "RL201");
    assert_eq!(entries[0]["pattern"], "ephemeral-port");
    assert_eq!(entries[0]["count"], 1);
    assert!(entries[0].get("line").is_none());

    // Nothing new.
    let (list, code, err) = run(dir, &["--baseline", "baseline.json", "rules"]);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(code, 0);
    assert!(
        err.contains("2 findings recorded in the baseline not shown"),
        "{err}"
    );

    // Moving lines keeps the baseline valid.
    let moved = IRC.replace(
        "status: test\n",
        "status: test\ndescription: |\n    Three more lines\n    above the detection.\n",
    );
    fs::write(dir.join("rules/irc.yml"), &moved).expect("write");
    let (list, code, _) = run(dir, &["--baseline", "baseline.json", "rules"]);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(code, 0);

    // A new rule with findings is reported; the old one is not.
    fs::write(
        dir.join("rules/irc2.yml"),
        IRC.replace(
            "6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21",
            "9a1b6f2e-0c4d-4e8a-b7f1-2d3e4f5a6b7c",
        ),
    )
    .expect("write");
    let (list, code, _) = run(dir, &["--baseline", "baseline.json", "rules"]);
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(code, 1);
    fs::remove_file(dir.join("rules/irc2.yml")).expect("rm");

    // Fixing the rule leaves stale entries, listed on stderr.
    fs::write(
        dir.join("rules/irc.yml"),
        moved.replace("DestinationPort: 6667", "DestinationPort: 22"),
    )
    .expect("write");
    let (_, _, err) = run(dir, &["--baseline", "baseline.json", "rules"]);
    assert!(err.contains("no longer occur"), "{err}");
    assert!(
        err.contains("rules/irc.yml: RL201 ephemeral-port `6667`"),
        "{err}"
    );
    // The Markdown summary lists them too.
    rulelint(dir)
        .args([
            "check",
            "--isolated",
            "--format",
            "markdown",
            "--baseline",
            "baseline.json",
            "rules",
        ])
        .assert()
        .stdout(predicate::str::contains("### Fixed since the baseline"));
}

#[test]
fn malformed_baseline_is_a_clear_error() {
    let d = repo(&[
        ("irc.yml", IRC),
        (
            "b.json",
            "{\"version\": 1, \"entries\": [\n  {\"file\": 3}\n]}\n",
        ),
    ]);
    let out = rulelint(d.path())
        .args([
            "check",
            "--isolated",
            "--format",
            "sarif",
            "--baseline",
            "b.json",
            "irc.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("b.json:2:"), "{err}");
    assert!(err.contains("invalid baseline"), "{err}");

    fs::write(d.path().join("b.json"), "not json").expect("write");
    rulelint(d.path())
        .args(["check", "--isolated", "--baseline", "b.json", "irc.yml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("b.json:1:"));
    rulelint(d.path())
        .args([
            "check",
            "--isolated",
            "--baseline",
            "missing.json",
            "irc.yml",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read baseline missing.json",
        ));
}

#[test]
fn write_baseline_to_a_missing_directory_fails() {
    let d = repo(&[("irc.yml", IRC)]);
    rulelint(d.path())
        .args([
            "check",
            "--isolated",
            "--write-baseline",
            "no/such/dir/b.json",
            "irc.yml",
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("cannot write baseline"));
    assert!(!d.path().join("no").exists());
}

#[test]
fn baseline_and_write_baseline_conflict() {
    let d = repo(&[("irc.yml", IRC)]);
    rulelint(d.path())
        .args([
            "check",
            "--baseline",
            "a.json",
            "--write-baseline",
            "b.json",
            "irc.yml",
        ])
        .assert()
        .code(2);
}
