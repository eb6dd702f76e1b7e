//! `check --fix` on `RL309 modifier-misuse`: a repeated modifier and `|all`
//! on a single value are dropped byte-exactly and the fixed rule re-parses
//! clean; `RL306 literal-wildcard` only suggests. `explain` knows both.

use assert_cmd::Command;
use std::fs;

fn rulelint(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("rulelint").expect("binary");
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

const REPEATED: &str = "title: Shadow Copy Deletion\r\nid: 0d7c1b52-4a35-4c1e-9f3a-7e5d2c1b0a01\r\nstatus: test\r\nlogsource:\r\n    category: process_creation\r\n    product: windows\r\ndetection:\r\n    selection:\r\n        Image|endswith: '\\vssadmin.exe'   # the tool\r\n        CommandLine|contains|contains: 'delete shadows'\r\n    condition: selection\r\nlevel: high\r\n";

const LONE_ALL: &str = "title: Shadow Copy Deletion\nid: 0d7c1b52-4a35-4c1e-9f3a-7e5d2c1b0a03\nstatus: test\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\vssadmin.exe'\n        CommandLine|contains|all:\n            - 'delete shadows'\n    condition: selection\nlevel: high\n";

fn diagnostics(dir: &std::path::Path, file: &str) -> Vec<(String, String)> {
    let out = rulelint(dir)
        .args(["check", "--isolated", "--format", "json", file])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["severity"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Fix `text` as `name` in a temporary folder: the fixed text, and the
/// diagnostics of the fixed file.
fn fix(name: &str, text: &str) -> (String, String, Vec<(String, String)>) {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    let before = diagnostics(dir.path(), name);
    assert_eq!(
        before.iter().filter(|(c, _)| c == "RL309").count(),
        1,
        "{before:?}"
    );
    let out = rulelint(dir.path())
        .args(["check", "--isolated", "--fix", name])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let fixed = fs::read_to_string(&p).unwrap();
    let after = diagnostics(dir.path(), name);
    (fixed, stderr, after)
}

fn parses_without_rl309(after: &[(String, String)]) {
    assert!(
        after
            .iter()
            .all(|(c, s)| !(c.starts_with("RL0") && s == "error")),
        "{after:?}"
    );
    assert!(after.iter().all(|(c, _)| c != "RL309"), "{after:?}");
}

#[test]
fn fix_drops_a_repeated_modifier_byte_exactly() {
    let (fixed, stderr, after) = fix("vss.yml", REPEATED);
    assert!(
        stderr.contains("fixed vss.yml:10: RL309 modifier-misuse"),
        "{stderr}"
    );
    assert_eq!(
        fixed,
        REPEATED.replacen("|contains|contains", "|contains", 1)
    );
    parses_without_rl309(&after);
}

#[test]
fn fix_drops_all_on_a_single_value() {
    let (fixed, stderr, after) = fix("vss.yml", LONE_ALL);
    assert!(
        stderr.contains("fixed vss.yml:10: RL309 modifier-misuse"),
        "{stderr}"
    );
    assert_eq!(fixed, LONE_ALL.replacen("|contains|all", "|contains", 1));
    parses_without_rl309(&after);
}

#[test]
fn fix_leaves_a_literal_wildcard_to_the_author() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("web.yml");
    let text = "title: Web Shell Download\nid: 0d7c1b52-4a35-4c1e-9f3a-7e5d2c1b0a02\nstatus: test\nlogsource:\n    category: webserver\ndetection:\n    selection:\n        cs-uri-query|startswith: '(::ffff:)?10.'\n    condition: selection\nlevel: high\n";
    fs::write(&p, text).unwrap();
    let out = rulelint(dir.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--format",
            "json",
            "web.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(fs::read_to_string(&p).unwrap(), text);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "RL306")
        .expect("RL306 reported");
    assert_eq!(d["severity"], "warning");
    assert!(
        d["help"].as_str().unwrap_or("").contains(r"(::ffff:)\?10."),
        "{d}"
    );
}

#[test]
fn explain_knows_both_checks() {
    let dir = tempfile::tempdir().expect("tmp");
    for (code, name) in [("RL306", "literal-wildcard"), ("RL309", "modifier-misuse")] {
        let out = rulelint(dir.path())
            .args(["explain", code])
            .output()
            .expect("run");
        assert!(out.status.success(), "{code}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(name), "{text}");
        assert!(text.contains("Why"), "{text}");
        let by_name = rulelint(dir.path())
            .args(["explain", name])
            .output()
            .expect("run");
        assert_eq!(by_name.stdout, out.stdout);
    }
}
