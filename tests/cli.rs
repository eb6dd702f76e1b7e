//! CLI behaviour: exit codes, usage errors, bad input, JSON shape.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;

fn rulelint() -> Command {
    let mut c = Command::cargo_bin("rulelint").expect("binary");
    c.env_remove("NO_COLOR");
    c
}

#[test]
fn explain_pattern_and_check() {
    rulelint()
        .args(["explain", "ephemeral-port"])
        .assert()
        .success()
        .stdout(predicate::str::contains("source.port"))
        .stdout(predicate::str::contains("References"));
    rulelint()
        .args(["explain", "RL201"])
        .assert()
        .success()
        .stdout(predicate::str::contains("known-fp-pattern"));
    rulelint()
        .args(["explain", "known-fp-pattern"])
        .assert()
        .success();
}

#[test]
fn explain_unknown_name_suggests() {
    rulelint()
        .args(["explain", "ephemral-port"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `ephemeral-port`"));
    rulelint()
        .args(["explain", "rl20l"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `RL201`"));
}

#[test]
fn patterns_table_and_json() {
    let n = rulelint::Knowledge::builtin()
        .expect("catalogue")
        .patterns
        .len();
    rulelint()
        .arg("patterns")
        .assert()
        .success()
        .stdout(predicate::str::contains("ephemeral-port"))
        .stdout(predicate::str::contains(format!("{n} patterns")));
    let out = rulelint()
        .args(["patterns", "--format", "json"])
        .output()
        .expect("run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(|a| a.len()), Some(n));
    assert!(v[0]["id"].is_string() && v[0]["exclusion"]["fields"].is_array());
}

#[test]
fn usage_errors_exit_2() {
    rulelint()
        .args(["check", "--format", "xml"])
        .assert()
        .code(2);
    rulelint()
        .args(["check", "--fail-on", "sometimes"])
        .assert()
        .code(2);
    rulelint().arg("frobnicate").assert().code(2);
}

#[test]
fn non_rule_files_are_skipped_when_walking_and_not_reported() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(dir.path().join(".pre-commit-config.yaml"), "repos: []\n").unwrap();
    fs::write(dir.path().join("ci.yml"), "on: push\njobs: {}\n").unwrap();
    fs::write(dir.path().join("pyproject.toml"), "[project]\nname = 'x'\n").unwrap();
    let out = rulelint()
        .args(["check", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("run");
    // Nothing to check is an error (exit 2), said on stderr; the report is
    // still written.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no rule file checked: 2 files looked at, none is a rule"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["version"], 1);
    assert_eq!(v["summary"]["files"], 0);
    assert_eq!(v["diagnostics"].as_array().map(|a| a.len()), Some(0));
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let bin = dir.path().join("bin.yml");
    fs::write(&bin, b"title: x\0\x01\x02").unwrap();
    let latin1 = dir.path().join("latin1.yml");
    fs::write(&latin1, b"title: caf\xe9\nlogsource: {}\ndetection: {}\n").unwrap();
    let dir_named_yml = dir.path().join("x.yml");
    fs::create_dir(&dir_named_yml).unwrap();
    let empty = dir.path().join("empty.yml");
    fs::write(&empty, "").unwrap();
    let out = rulelint()
        .args(["check", "--format", "json"])
        .arg(&bin)
        .arg(&latin1)
        .arg(&dir_named_yml)
        .arg(&empty)
        .arg(dir.path().join("missing.yml"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let diags = v["diagnostics"].as_array().expect("array");
    let by_file = |name: &str| {
        diags
            .iter()
            .find(|d| d["file"].as_str().is_some_and(|f| f.ends_with(name)))
            .unwrap_or_else(|| panic!("no diagnostic for {name}: {diags:?}"))
            .clone()
    };
    assert_eq!(by_file("bin.yml")["code"], "RL001");
    let l = by_file("latin1.yml");
    assert_eq!(l["code"], "RL001");
    assert_eq!(l["span"]["line"], 1);
    assert_eq!(l["span"]["column"], 11);
    assert!(by_file("x.yml")["message"]
        .as_str()
        .unwrap()
        .contains("directory"));
    assert_eq!(by_file("empty.yml")["code"], "RL012");
    assert_eq!(by_file("missing.yml")["code"], "RL001");
    for d in diags {
        assert_eq!(d["severity"], "error");
        assert!(d["pattern"].is_null());
    }
    assert_eq!(v["summary"]["errors"], 5);
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("dangling.yml");
    // A dangling symlink cannot be read by anyone, root included.
    std::os::unix::fs::symlink(dir.path().join("nowhere"), &p).unwrap();
    rulelint()
        .args(["check", "--format", "json"])
        .arg(&p)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("RL001"));
}

#[test]
fn sigma_bad_input_is_reported_at_its_position_and_other_files_still_checked() {
    let dir = tempfile::tempdir().expect("tmp");
    let head = "title: t\nlogsource:\n    category: network_connection\n";
    let files = [
        ("invalid_yaml.yml", format!("{head}detection:\n    selection: [a, b\n    condition: selection\n")),
        ("detection_list.yml", format!("{head}detection:\n    - a\n    - b\n")),
        ("typo_modifier.yml", format!("{head}detection:\n    selection:\n        Image|contians: x\n    condition: selection\n")),
        ("unknown_selection.yml", format!("{head}detection:\n    selection:\n        Image: x\n    condition: selectoin\n")),
        ("duplicate_key.yml", format!("{head}detection:\n    selection:\n        Image: x\n        Image: y\n    condition: selection\n")),
        ("good.yml", format!("{head}detection:\n    selection:\n        DestinationPort: 6667\n    condition: selection\n")),
    ];
    for (name, text) in &files {
        fs::write(dir.path().join(name), text).unwrap();
    }
    let out = rulelint()
        .args(["check", "--isolated", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let diags = v["diagnostics"].as_array().expect("array");
    let find = |file: &str| -> Vec<serde_json::Value> {
        diags
            .iter()
            .filter(|d| d["file"].as_str().is_some_and(|f| f.ends_with(file)))
            .cloned()
            .collect()
    };
    let first = |file: &str| {
        find(file)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing for {file}: {diags:?}"))
    };
    assert_eq!(first("invalid_yaml.yml")["code"], "RL002");
    assert_eq!(first("detection_list.yml")["code"], "RL004");
    assert_eq!(first("detection_list.yml")["span"]["line"], 5);
    let m = first("typo_modifier.yml");
    assert_eq!(m["code"], "RL005");
    assert_eq!(m["span"]["line"], 6);
    assert_eq!(m["span"]["column"], 15, "{m}");
    assert!(
        m["help"]
            .as_str()
            .unwrap()
            .contains("did you mean `contains`"),
        "{m}"
    );
    let s = first("unknown_selection.yml");
    assert_eq!(s["code"], "RL007");
    assert_eq!(
        (s["span"]["line"].as_u64(), s["span"]["column"].as_u64()),
        (Some(7), Some(16))
    );
    let text = format!("{} {}", s["message"], s["help"]);
    assert!(text.contains("did you mean `selection`"), "{s}");
    assert_eq!(first("duplicate_key.yml")["code"], "RL013");
    // The good file is still checked.
    assert!(find("good.yml")
        .iter()
        .any(|d| d["pattern"] == "irc-client"));
    assert_eq!(v["summary"]["errors"].as_u64(), Some(5));
}

#[test]
fn output_is_sorted_and_identical_whatever_the_number_of_jobs() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |jobs: &str| -> serde_json::Value {
        let out = rulelint()
            .current_dir(root)
            .args([
                "check",
                "--isolated",
                "--format",
                "json",
                "--jobs",
                jobs,
                "rules",
            ])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(1), "the examples have findings");
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["summary"]["elapsed_ms"] = serde_json::Value::Null;
        v
    };
    let one = run("1");
    assert_eq!(one, run("4"));
    let keys: Vec<(String, u64, u64)> = one["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_string(),
                d["span"]["line"].as_u64().unwrap(),
                d["span"]["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.len() >= 27, "every pattern fires on the examples");
}
