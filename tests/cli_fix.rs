//! `check --fix`: applies exclusions, keeps every other byte, writes
//! catalogue default values only with `--unsafe-fixes`, refuses placeholders
//! unless asked, and uses the configured environment facts.

use assert_cmd::Command;
use std::fs;

fn rulelint(dir: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("rulelint").expect("binary");
    c.current_dir(dir).env("NO_COLOR", "1");
    c
}

const IRC: &str = "# leading comment kept\r\ntitle: IRC to the Internet\r\nid: 5f0c0a8e-6b8e-4c55-9c61-2c2f6a1d7a11\r\nstatus: test\r\nlogsource:\r\n    category: network_connection\r\n    product: windows\r\ndetection:\r\n    selection:\r\n        Protocol: tcp\r\n        DestinationPort:\r\n            - 6667   # classic IRC\r\n            - 6697\r\n    condition: selection\r\nlevel: medium\r\n";

#[test]
fn fix_applies_the_exclusion_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("irc.yml");
    fs::write(&p, IRC).unwrap();
    let out = rulelint(dir.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "json",
            "irc.yml",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fixed irc.yml:12: RL201 ephemeral-port"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not fixed irc.yml:12: RL201 irc-client"),
        "{stderr}"
    );
    let fixed = fs::read_to_string(&p).unwrap();
    // Everything before the inserted filter and after the condition is
    // byte-identical, CRLF line endings and comments included.
    let head = IRC.split("    condition:").next().unwrap();
    assert!(fixed.starts_with(head), "{fixed}");
    assert!(fixed.ends_with("level: medium\r\n"), "{fixed}");
    assert!(fixed.contains("filter_ephemeral_port:\r\n"), "{fixed}");
    assert!(
        fixed.contains("condition: selection and not filter_ephemeral_port\r\n"),
        "{fixed}"
    );
    // The remaining findings no longer include the fixed pattern.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let pats: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["pattern"].as_str())
        .collect();
    assert!(!pats.contains(&"ephemeral-port"), "{pats:?}");
    assert!(pats.contains(&"irc-client"), "{pats:?}");
}

#[test]
fn plain_fix_never_writes_catalogue_defaults() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("irc.yml");
    fs::write(&p, IRC).unwrap();
    let out = rulelint(dir.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--format",
            "json",
            "irc.yml",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not fixed irc.yml:12: RL201 ephemeral-port")
            && stderr.contains("--unsafe-fixes"),
        "{stderr}"
    );
    assert!(!stderr.lines().any(|l| l.starts_with("fixed ")), "{stderr}");
    assert_eq!(fs::read_to_string(&p).unwrap(), IRC);
    // The JSON report says why: the suggestion is unsafe.
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let eph = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["pattern"] == "ephemeral-port")
        .expect("ephemeral-port finding");
    assert_eq!(eph["suggestion"]["applicability"], "unsafe");
}

#[test]
fn fix_without_fixable_findings_leaves_the_file_alone() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("ssh.yml");
    let text = "title: SSH\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        DestinationPort: 22\n    condition: selection\n";
    fs::write(&p, text).unwrap();
    let out = rulelint(dir.path())
        .args(["check", "--isolated", "--fix", "ssh.yml"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    // The bastions' addresses go into a CIDR match, which cannot hold a
    // placeholder: no fix mode writes it, and the help names the fact.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not fixed ssh.yml:6"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("set the environment fact `bastions`"),
        "{stdout}"
    );
    assert_eq!(fs::read_to_string(&p).unwrap(), text);
    let out = rulelint(dir.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--fix-placeholders",
            "ssh.yml",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(fs::read_to_string(&p).unwrap(), text);
}

#[test]
fn fix_uses_environment_facts_in_an_elastic_rule() {
    let dir = tempfile::tempdir().expect("tmp");
    fs::write(
        dir.path().join("rulelint.toml"),
        "[environment]\nbastions = [\"10.1.2.3\", \"10.1.2.4\"]\n",
    )
    .unwrap();
    let p = dir.path().join("ssh.toml");
    fs::write(
        &p,
        "[metadata]\ncreation_date = \"2024/01/01\"\n\n[rule]\nname = \"SSH to anywhere\"\nrule_id = \"x\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = '''\nevent.category:network and destination.port:22\n'''\n",
    )
    .unwrap();
    let out = rulelint(dir.path())
        .args(["check", "--fix", "--format", "json", "ssh.toml"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fixed ssh.toml:10: RL201 ssh-bastion"),
        "{stderr}"
    );
    let fixed = fs::read_to_string(&p).unwrap();
    assert!(fixed.contains("10.1.2.3"), "{fixed}");
    assert!(fixed.contains("not "), "{fixed}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["pattern"] != "ssh-bastion"));
}

/// `RL307 ambiguous-yaml-scalar`: plain `--fix` (a safe fix) quotes every
/// misread value of the file, the same value twice included, and changes
/// no other byte; the fixed file parses and is clean.
#[test]
fn fix_quotes_every_ambiguous_yaml_scalar() {
    let rule = "title: Access Mask\r\nid: 0b4b3c6e-7f4f-4c59-9a0e-3e1f1c2a7d09\r\nstatus: test\r\nlogsource:\r\n    category: process_access\r\n    product: windows\r\ndetection:\r\n    selection:\r\n        GrantedAccess:\r\n            - 0x1410   # read memory\r\n            - 0x1410\r\n        Mode: 0755\r\n    other:\r\n        Enabled: no\r\n    condition: selection or other\r\nlevel: high\r\n";
    let dir = tempfile::tempdir().expect("tmp");
    let p = dir.path().join("mask.yml");
    fs::write(&p, rule).unwrap();
    let out = rulelint(dir.path())
        .args([
            "check",
            "--isolated",
            "--fix",
            "--select",
            "RL307",
            "mask.yml",
        ])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches(": RL307 ambiguous-yaml-scalar").count(),
        4,
        "{stderr}"
    );
    let fixed = fs::read_to_string(&p).unwrap();
    let want = rule
        .replace("- 0x1410", "- '0x1410'")
        .replace("Mode: 0755", "Mode: '0755'")
        .replace("Enabled: no", "Enabled: 'no'");
    assert_eq!(fixed, want);
    let again = rulelint(dir.path())
        .args(["check", "--isolated", "--select", "RL307", "mask.yml"])
        .output()
        .expect("run");
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}
