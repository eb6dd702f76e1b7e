//! End-to-end tests of the configuration: discovery, `--config`,
//! `--isolated`, selection, severities, overrides, environment facts,
//! team catalogues, `rulelint config`, `rulelint init`, and bad input.

mod common;

use common::{repo, rulelint, IRC};
use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

/// A `dns-server` finding, whose exclusion uses the `dns_servers` fact.
const DNS: &str = "title: DNS To An External Resolver
id: 3e0f5e1a-6c3e-4a4e-8f8b-1f2d3c4b5a69
status: test
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        DestinationPort: 53
    condition: selection
level: low
falsepositives:
    - Lab traffic seen in tests
";

/// `(code, pattern, severity, file)` of a diagnostic.
type Found = (String, String, String, String);

/// The diagnostics of a run, the exit code and the JSON document.
fn findings(dir: &Path, args: &[&str]) -> (Vec<Found>, i32, Value) {
    let (out, v) = common::run_json(dir, &["check", "--format", "json"], args);
    let list = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_string(),
                d["pattern"].as_str().unwrap_or("").to_string(),
                d["severity"].as_str().unwrap_or("").to_string(),
                d["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (list, out.status.code().unwrap_or(-1), v)
}

fn patterns_of(list: &[Found]) -> Vec<&str> {
    list.iter().map(|d| d.1.as_str()).collect()
}

#[test]
fn config_is_found_by_walking_up() {
    let d = repo(&[
        ("rulelint.toml", "[severity]\nephemeral-port = \"error\"\n"),
        ("rules/net/irc.yml", IRC),
    ]);
    let sub = d.path().join("rules/net");
    let (list, code, _) = findings(&sub, &["irc.yml"]);
    assert_eq!(code, 1);
    let eph = list
        .iter()
        .find(|x| x.1 == "ephemeral-port")
        .expect("finding");
    assert_eq!(eph.2, "error");
    // --isolated ignores it.
    let (list, _, _) = findings(&sub, &["--isolated", "irc.yml"]);
    let eph = list
        .iter()
        .find(|x| x.1 == "ephemeral-port")
        .expect("finding");
    assert_eq!(eph.2, "warning");
}

#[test]
fn dot_config_and_explicit_config() {
    let d = repo(&[
        (".rulelint.toml", "ignore = [\"irc-client\"]\n"),
        ("other.toml", "ignore = [\"ephemeral-port\"]\n"),
        ("irc.yml", IRC),
    ]);
    let (list, _, _) = findings(d.path(), &["irc.yml"]);
    assert_eq!(patterns_of(&list), vec!["ephemeral-port"]);
    let (list, _, _) = findings(d.path(), &["--config", "other.toml", "irc.yml"]);
    assert_eq!(patterns_of(&list), vec!["irc-client"]);
    rulelint(d.path())
        .args(["check", "--config", "missing.toml", "irc.yml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("missing.toml"));
    rulelint(d.path())
        .args(["check", "--config", "other.toml", "--isolated", "irc.yml"])
        .assert()
        .code(2);
}

#[test]
fn select_ignore_and_overrides() {
    let cfg = "select = [\"RL2\"]\nignore = [\"ephemeral-port\"]\n\n[[overrides]]\ninclude = [\"rules/legacy/**\"]\nignore = [\"RL201\"]\n\n[[overrides]]\ninclude = [\"rules/strict/**\"]\nselect = [\"ephemeral-port\"]\nseverity = { RL201 = \"error\" }\n";
    let d = repo(&[
        ("rulelint.toml", cfg),
        ("rules/irc.yml", IRC),
        ("rules/legacy/irc.yml", IRC),
        ("rules/strict/irc.yml", IRC),
    ]);
    let (list, code, _) = findings(d.path(), &["rules"]);
    assert_eq!(code, 1);
    let got: Vec<(&str, &str, &str)> = list
        .iter()
        .map(|x| (x.3.as_str(), x.1.as_str(), x.2.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("rules/irc.yml", "irc-client", "warning"),
            ("rules/strict/irc.yml", "ephemeral-port", "error"),
            ("rules/strict/irc.yml", "irc-client", "error"),
        ]
    );
}

#[test]
fn fail_on_from_config_and_command_line() {
    let d = repo(&[("rulelint.toml", "fail-on = \"error\"\n"), ("irc.yml", IRC)]);
    rulelint(d.path())
        .args(["check", "-q", "irc.yml"])
        .assert()
        .code(0);
    rulelint(d.path())
        .args(["check", "-q", "--fail-on", "warning", "irc.yml"])
        .assert()
        .code(1);
}

#[test]
fn environment_fills_the_suggestion_and_explain_names_the_facts() {
    let d = repo(&[
        (
            "rulelint.toml",
            "[environment]\ndns_servers = [\"10.0.0.53\", \"10.1.0.0/24\"]\n",
        ),
        ("dns.yml", DNS),
    ]);
    let (_, _, v) = findings(d.path(), &["dns.yml"]);
    let dns = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["pattern"] == "dns-server")
        .expect("dns-server finding");
    let help = dns["help"].as_str().expect("help");
    assert!(
        help.contains("10.0.0.53") && help.contains("10.1.0.0/24"),
        "{help}"
    );
    assert!(!help.contains("<your DNS servers>"), "{help}");
    assert_eq!(dns["suggestion"]["has_placeholders"], false);

    rulelint(d.path())
        .args(["explain", "dns-server"])
        .assert()
        .success()
        .stdout(predicate::str::contains("dns_servers"))
        .stdout(predicate::str::contains("10.0.0.53/32, 10.1.0.0/24"));
    // Without configuration, explain says the placeholder is shown.
    rulelint(d.path())
        .args(["--isolated", "explain", "dns-server"])
        .assert()
        .success()
        .stdout(predicate::str::contains("dns_servers"))
        .stdout(predicate::str::contains("not set"));
}

#[test]
fn invalid_configurations_exit_2_with_positions() {
    let cases: &[(&str, &[&str])] = &[
        (
            "fail-on = \"error\"\nselcet = [\"RL2\"]\n",
            &[
                "rulelint.toml:2:1: unknown key `selcet`",
                "did you mean `select`?",
            ],
        ),
        ("select = [\"RL2\"\n", &["rulelint.toml:", "invalid TOML"]),
        (
            "ignore = \"RL201\"\n",
            &["rulelint.toml:1:10:", "must be an array of strings"],
        ),
        (
            "[environment]\ndns_servers = [\"10.0.0.53\", \"dns.corp\"]\n",
            &[
                "rulelint.toml:2:30:",
                "`dns.corp` in `dns_servers` is not an IP address or CIDR range",
            ],
        ),
        (
            "[environment]\ndns_server = [\"10.0.0.53\"]\n",
            &["rulelint.toml:2:1:", "did you mean `dns_servers`?"],
        ),
        (
            "ignore = [\"ephemeral-prot\"]\n",
            &["rulelint.toml:1:12:", "did you mean `ephemeral-port`?"],
        ),
        (
            "[[overrides]]\nignore = [\"RL201\"]\n",
            &["needs `include`"],
        ),
        (
            "fail-on = \"sometimes\"\n",
            &["rulelint.toml:1:11:", "unknown severity"],
        ),
    ];
    for (cfg, want) in cases {
        let d = repo(&[("rulelint.toml", cfg), ("irc.yml", IRC)]);
        for args in [
            &["check", "--format", "sarif", "irc.yml"][..],
            &["config"][..],
        ] {
            let out = rulelint(d.path()).args(args).output().expect("run");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{cfg}: {err}");
            assert!(out.stdout.is_empty(), "{cfg}: wrote output");
            for w in *want {
                assert!(err.contains(w), "{cfg}: `{w}` not in\n{err}");
            }
        }
    }
}

#[test]
fn team_catalogue_extends_the_knowledge() {
    let team = "patterns:
  - id: team-irc-bouncer
    title: Our IRC bouncer
    rationale: The chat team runs an IRC bouncer.
    benign: [the chat team's bouncer]
    trigger:
      - concepts: [destination.port]
        ports: [6667]
    exclusion:
      summary: exclude the bouncer
      name: irc_bouncer
      fields:
        - concept: source.ip
          op: cidr
          fact: irc_bouncers
          placeholder: <your IRC bouncers>
";
    let d = repo(&[
        (
            "rulelint.toml",
            "[knowledge]\nextend = [\"knowledge/team.yml\"]\n[environment]\nirc_bouncers = [\"192.0.2.7\"]\n",
        ),
        ("knowledge/team.yml", team),
        ("irc.yml", IRC),
    ]);
    let (_, _, v) = findings(d.path(), &["irc.yml"]);
    let t = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .find(|d| d["pattern"] == "team-irc-bouncer")
        .expect("team pattern finding");
    assert!(
        t["help"].as_str().unwrap_or("").contains("192.0.2.7"),
        "{t}"
    );
    rulelint(d.path())
        .args(["explain", "team-irc-bouncer"])
        .assert()
        .success()
        .stdout(predicate::str::contains("irc_bouncers"));

    // A broken team catalogue: file:line:col, exit 2.
    fs::write(
        d.path().join("knowledge/team.yml"),
        team.replace("id: team-irc-bouncer", "id: Team_IRC"),
    )
    .expect("write");
    rulelint(d.path())
        .args(["check", "irc.yml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("knowledge/team.yml:2:9:"))
        .stderr(predicate::str::contains("kebab-case"));
}

#[test]
fn config_command_prints_effective_settings() {
    let d = repo(&[(
        "rulelint.toml",
        "ignore = [\"irc-client\"]\n[environment]\ndns_servers = [\"10.0.0.53\"]\n",
    )]);
    rulelint(d.path())
        .arg("config")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "# Effective settings, from rulelint.toml",
        ))
        .stdout(predicate::str::contains("ignore = [\"irc-client\"]"))
        .stdout(predicate::str::contains("fail-on = \"warning\""))
        .stdout(predicate::str::contains("dns_servers = [\"10.0.0.53/32\"]"));
    rulelint(d.path())
        .args(["--isolated", "config"])
        .assert()
        .success()
        .stdout(predicate::str::contains("defaults"));
}

#[test]
fn init_writes_a_starter_file_once() {
    let d = repo(&[("irc.yml", IRC)]);
    rulelint(d.path())
        .arg("init")
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote rulelint.toml"));
    let text = fs::read_to_string(d.path().join("rulelint.toml")).expect("written");
    assert!(text.contains("[environment]") && text.contains("# dns_servers"));
    // The starter file is valid and changes nothing.
    rulelint(d.path()).arg("config").assert().success();
    rulelint(d.path())
        .args(["check", "-q", "irc.yml"])
        .assert()
        .code(1);
    // A second init refuses to overwrite.
    fs::write(d.path().join("rulelint.toml"), "# mine\n").expect("write");
    rulelint(d.path())
        .arg("init")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("refusing to overwrite"));
    assert_eq!(
        fs::read_to_string(d.path().join("rulelint.toml")).expect("read"),
        "# mine\n"
    );
}
