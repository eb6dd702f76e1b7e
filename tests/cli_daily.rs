//! Day-to-day use on a rule repository: configuration nearest to each file,
//! selection on the command line, `--diff`, baselines holding parse
//! errors, runs that check nothing, statistics, report files, JUnit and
//! readable human output.

mod common;

use common::{repo, rulelint};
use std::fs;
use std::path::Path;

const IRC: &str = "title: IRC to the Internet
id: 6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21
status: test
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        Protocol: tcp
        DestinationPort:
            - 6667
            - 6697
    condition: selection
level: medium
falsepositives:
    - Chat clients of the support team
";

const BROKEN: &str = "title: Broken
id: 0d6a3c1e-1111-4a39-9d7e-0d1f1a7f3c21
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image: x.exe
    condition: selection and (
level: low
";

fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = rulelint(dir)
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .args(args)
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `(file, code, pattern)` of each finding of a JSON report, sorted.
fn findings(stdout: &str) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let mut out: Vec<_> = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["code"].as_str().unwrap_or("").to_string(),
                d["pattern"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn patterns(stdout: &str) -> Vec<String> {
    findings(stdout).into_iter().map(|f| f.2).collect()
}

/// A repository (with `.git`) holding `files`.
fn git_repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = repo(files);
    fs::create_dir_all(d.path().join(".git")).unwrap();
    d
}

// ----- configuration nearest to each file -------------------------------------

#[test]
fn each_file_uses_the_nearest_configuration_from_any_working_directory() {
    let d = git_repo(&[
        ("rules/rulelint.toml", "ignore = [\"irc-client\"]\n"),
        ("rules/net/irc.yml", IRC),
        ("other/irc.yml", IRC),
    ]);
    // From the root, as pre-commit runs: rules/ uses rules/rulelint.toml,
    // other/ has no configuration.
    let (code, out, err) = run(d.path(), &["check", "--format", "json", "."]);
    assert_eq!(code, 1, "{err}");
    let f = findings(&out);
    assert!(f.contains(&(
        "rules/net/irc.yml".into(),
        "RL201".into(),
        "ephemeral-port".into()
    )));
    assert!(!f.contains(&(
        "rules/net/irc.yml".into(),
        "RL201".into(),
        "irc-client".into()
    )));
    assert!(f.contains(&("other/irc.yml".into(), "RL201".into(), "irc-client".into())));
    // The same file named directly, and from inside rules/: the same result.
    let (_, direct, _) = run(
        d.path(),
        &["check", "--format", "json", "rules/net/irc.yml"],
    );
    assert_eq!(patterns(&direct), vec!["ephemeral-port"]);
    let (_, inside, _) = run(&d.path().join("rules"), &["check", "--format", "json", "."]);
    assert_eq!(patterns(&inside), vec!["ephemeral-port"]);
    // --isolated and --config still give every file one configuration.
    let (_, iso, _) = run(
        d.path(),
        &["check", "--isolated", "--format", "json", "rules"],
    );
    assert_eq!(patterns(&iso), vec!["ephemeral-port", "irc-client"]);
    fs::write(d.path().join("all.toml"), "ignore = [\"RL201\"]\n").unwrap();
    let (code, all, _) = run(
        d.path(),
        &["check", "--config", "all.toml", "--format", "json", "."],
    );
    assert_eq!(code, 0);
    assert!(findings(&all).is_empty());
}

#[test]
fn configuration_globs_are_relative_to_the_configuration_and_unmatched_globs_are_reported() {
    let d = git_repo(&[
        (
            "rules/rulelint.toml",
            "[[overrides]]\ninclude = [\"net/**\"]\nignore = [\"RL201\"]\n\n[[overrides]]\ninclude = [\"nothing/**\"]\nignore = [\"RL101\"]\n",
        ),
        ("rules/net/irc.yml", IRC),
        ("rules/host/irc.yml", IRC),
    ]);
    for cwd in [d.path().to_path_buf(), d.path().join("rules")] {
        let (code, out, err) = run(&cwd, &["check", "--format", "json", "."]);
        assert_eq!(code, 1, "{err}");
        let files: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
        assert!(
            files.iter().all(|f| f.ends_with("host/irc.yml")),
            "{files:?}"
        );
        assert!(!files.is_empty());
        assert!(
            err.contains("`[[overrides]]` glob `nothing/**` matches no checked file"),
            "{err}"
        );
        assert!(!err.contains("`net/**`"), "{err}");
    }
    // Walking part of the configuration's directory judges no glob.
    let (_, _, err) = run(d.path(), &["check", "rules/host"]);
    assert!(!err.contains("matches no checked file"), "{err}");
    // Command-line globs are relative to the working directory.
    let (code, out, err) = run(
        d.path(),
        &[
            "check",
            "--format",
            "json",
            "--exclude",
            "rules/host/*",
            ".",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(findings(&out).is_empty(), "{out}");
    assert!(!err.contains("rules/host/*"), "{err}");
    let (_, _, err) = run(
        d.path(),
        &["check", "--format", "json", "--exclude", "host/*", "."],
    );
    assert!(
        err.contains("--exclude `host/*` matches no rule file"),
        "{err}"
    );
    // Files named on the command line are not filtered: no warning.
    let (_, _, err) = run(
        d.path(),
        &["check", "--exclude", "host/*", "rules/host/irc.yml"],
    );
    assert!(!err.contains("matches no rule file"), "{err}");
}

#[test]
fn a_missing_configuration_is_named_as_given() {
    let d = repo(&[("irc.yml", IRC)]);
    let (code, _, err) = run(d.path(), &["check", "--config", "/nope/rulelint.toml", "."]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: /nope/rulelint.toml: cannot read the configuration file"),
        "{err}"
    );
}

// ----- selection on the command line -----------------------------------------

#[test]
fn select_extend_select_and_ignore_follow_ruff() {
    let d = git_repo(&[
        ("rulelint.toml", "ignore = [\"irc-client\"]\n"),
        ("irc.yml", IRC),
    ]);
    let json = |extra: &[&str]| {
        let mut a = vec!["check", "--format", "json"];
        a.extend_from_slice(extra);
        a.push("irc.yml");
        let (code, out, err) = run(d.path(), &a);
        (code, patterns(&out), err)
    };
    assert_eq!(json(&[]).1, vec!["ephemeral-port"]);
    // --select replaces the configured select and ignore.
    assert_eq!(
        json(&["--select", "RL2"]).1,
        vec!["ephemeral-port", "irc-client"]
    );
    assert_eq!(json(&["--select", "irc-client"]).1, vec!["irc-client"]);
    // --ignore adds to the ignores; --extend-select adds to the selection.
    let (code, p, _) = json(&["--ignore", "ephemeral-port"]);
    assert_eq!((code, p.len()), (0, 0));
    assert_eq!(
        json(&["--select", "RL1", "--extend-select", "irc-client"]).1,
        vec!["irc-client"]
    );
    assert!(json(&["--select", "RL1"]).1.is_empty());
    // Comma-separated lists, and a whole check ignored is not run.
    assert!(json(&["--select", "RL2", "--ignore", "RL201,RL101"])
        .1
        .is_empty());
    // Unknown names: a did-you-mean and exit 2.
    let (code, _, err) = run(
        d.path(),
        &["check", "--select", "ephemeral-prot", "irc.yml"],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown check or pattern `ephemeral-prot` in `--select`"),
        "{err}"
    );
    assert!(err.contains("did you mean `ephemeral-port`?"), "{err}");
}

#[test]
fn parse_errors_cannot_be_ignored_in_the_configuration_or_on_the_command_line() {
    let d = git_repo(&[
        ("rulelint.toml", "ignore = [\"RL006\"]\n"),
        ("bad.yml", BROKEN),
    ]);
    let (code, _, err) = run(d.path(), &["check", "bad.yml"]);
    assert_eq!(code, 2);
    assert!(err.contains("rulelint.toml:1:"), "{err}");
    assert!(
        err.contains("`RL006` (invalid-condition) cannot be ignored: it is an error that stops the file from being checked"),
        "{err}"
    );
    assert!(err.contains("record its error in a baseline"), "{err}");
    let (code, _, err) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--ignore",
            "invalid-condition",
            "bad.yml",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot be ignored"), "{err}");
    assert!(err.contains("(in `--ignore`)"), "{err}");
    // Without the ignore the parse error is reported (exit 2).
    let (code, out, _) = run(
        d.path(),
        &["check", "--isolated", "--format", "json", "bad.yml"],
    );
    assert_eq!(code, 2);
    assert_eq!(findings(&out)[0].1, "RL006");
}

// ----- runs that check nothing --------------------------------------------------

#[test]
fn a_run_that_checks_no_rule_file_says_so_and_exits_2() {
    let d = repo(&[("rules/irc.yml", IRC)]);
    let (code, _, err) = run(
        d.path(),
        &["check", "--isolated", "--include", "*.yaml", "rules"],
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no rule file checked (--include *.yaml)"),
        "{err}"
    );
    assert!(
        err.contains("--include `*.yaml` matches no rule file"),
        "{err}"
    );
    // pre-commit with only non-rule files staged: not an error.
    fs::write(d.path().join("ci.yml"), "on: push\njobs: {}\n").unwrap();
    let (code, _, err) = run(
        d.path(),
        &["check", "--isolated", "--skip-non-rules", "ci.yml"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("no rule file among the files given"), "{err}");
}

// ----- --diff --------------------------------------------------------------------

#[test]
fn diff_prints_what_fix_would_write_and_writes_nothing() {
    let d = repo(&[("irc.yml", IRC)]);
    // Catalogue defaults are unsafe: no diff without --unsafe-fixes.
    let (code, out, err) = run(d.path(), &["check", "--isolated", "--diff", "irc.yml"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(
        err.contains("would not fix irc.yml:11: RL201 ephemeral-port"),
        "{err}"
    );
    let (code, out, err) = run(
        d.path(),
        &["check", "--isolated", "--diff", "--unsafe-fixes", "irc.yml"],
    );
    assert_eq!(code, 1, "{err}");
    assert!(
        out.starts_with("--- a/irc.yml\n+++ b/irc.yml\n@@ -10,7 +10,"),
        "{out}"
    );
    assert!(out.contains("\n-    condition: selection\n"), "{out}");
    assert!(out.contains("\n+    filter_ephemeral_port:\n"), "{out}");
    assert!(
        out.contains("\n+    condition: selection and not filter_ephemeral_port\n"),
        "{out}"
    );
    assert!(
        !out.contains("<your"),
        "placeholders need --fix-placeholders: {out}"
    );
    assert!(
        err.contains("would fix irc.yml:11: RL201 ephemeral-port"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(d.path().join("irc.yml")).unwrap(), IRC);
    // With --fix-placeholders the placeholder exclusion is in the diff too.
    let scanner = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/known_fp_pattern/sigma/flagged_security_scanner.yml"),
    )
    .unwrap();
    fs::write(d.path().join("scanner.yml"), &scanner).unwrap();
    let (code, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--diff",
            "--unsafe-fixes",
            "scanner.yml",
        ],
    );
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--diff",
            "--unsafe-fixes",
            "--fix-placeholders",
            "scanner.yml",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        out.contains("\n+        User: '<your security team users>'\n"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(d.path().join("scanner.yml")).unwrap(),
        scanner
    );
    // The options that choose fixes need --fix or --diff.
    let (code, _, err) = run(
        d.path(),
        &["check", "--isolated", "--unsafe-fixes", "irc.yml"],
    );
    assert_eq!(code, 2);
    assert!(err.contains("need --fix or --diff"), "{err}");
}

// ----- baselines -----------------------------------------------------------------

#[test]
fn baselines_hold_parse_errors_and_writing_one_prints_a_summary() {
    let d = git_repo(&[("unsupported/bad.yml", BROKEN), ("rules/irc.yml", IRC)]);
    let (code, out, err) = run(
        d.path(),
        &["check", "--isolated", "--write-baseline", "b.json", "."],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "", "no finding is printed");
    assert_eq!(err, "rulelint: wrote b.json with 3 findings from 2 files\n");
    let b = fs::read_to_string(d.path().join("b.json")).unwrap();
    assert!(b.contains("\"code\": \"RL006\""), "{b}");
    let (code, out, err) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--baseline",
            "b.json",
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(findings(&out).is_empty(), "{out}");
    // A path that does not exist is never recorded or covered.
    let (code, out, err) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--write-baseline",
            "b2.json",
            ".",
            "nope.yml",
        ],
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("rulelint: error: nope.yml: no such file or directory"),
        "{err}"
    );
    assert!(!fs::read_to_string(d.path().join("b2.json"))
        .unwrap()
        .contains("nope.yml"));
    let (code, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--baseline",
            "b.json",
            "--format",
            "json",
            ".",
            "nope.yml",
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(
        findings(&out),
        vec![("nope.yml".into(), "RL001".into(), String::new())]
    );
    // A new parse error is not covered.
    fs::write(
        d.path().join("rules/new.yml"),
        BROKEN.replace("Broken", "New"),
    )
    .unwrap();
    let (code, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--baseline",
            "b.json",
            "--format",
            "json",
            ".",
        ],
    );
    assert_eq!(code, 2);
    assert_eq!(
        findings(&out),
        vec![("rules/new.yml".into(), "RL006".into(), String::new())]
    );
}

// ----- output ----------------------------------------------------------------------

#[test]
fn statistics_count_findings_per_code_and_pattern() {
    let d = repo(&[("a.yml", IRC), ("b.yml", IRC)]);
    let (code, out, _) = run(d.path(), &["check", "--isolated", "--statistics", "."]);
    assert_eq!(code, 1);
    assert_eq!(
        out,
        "2  RL201  ephemeral-port\n2  RL201  irc-client\n4 findings in total\n"
    );
    let (_, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--statistics",
            "--format",
            "json",
            ".",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["code"], "RL201");
    assert_eq!(v[0]["count"], 2);
}

#[test]
fn output_file_receives_the_report_and_stdout_stays_empty() {
    let d = repo(&[("irc.yml", IRC)]);
    let (code, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--format",
            "json",
            "--output-file",
            "report.json",
            ".",
        ],
    );
    assert_eq!((code, out.as_str()), (1, ""));
    let text = fs::read_to_string(d.path().join("report.json")).unwrap();
    assert_eq!(patterns(&text), vec!["ephemeral-port", "irc-client"]);
    // The diff of --diff too.
    let (code, out, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--diff",
            "--unsafe-fixes",
            "--output-file",
            "fix.diff",
            "irc.yml",
        ],
    );
    assert_eq!((code, out.as_str()), (1, ""));
    let diff = fs::read_to_string(d.path().join("fix.diff")).unwrap();
    assert!(diff.starts_with("--- a/irc.yml\n+++ b/irc.yml\n"), "{diff}");
    let (code, _, err) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--output-file",
            "missing-dir/r.txt",
            ".",
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot write missing-dir/r.txt"), "{err}");
}

#[test]
fn junit_has_a_suite_per_file_and_a_failing_case_per_rule_with_findings() {
    let tricky = IRC
        .replace("IRC to the Internet", "IRC to the Internet <&> \"quoted\"")
        .replace("id: 6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21\n", "");
    let d = repo(&[
        ("irc.yml", &tricky),
        ("bad.yml", BROKEN),
        ("ok.toml", "[x]\n"),
    ]);
    let (code, out, _) = run(d.path(), &["check", "--isolated", "--format", "junit", "."]);
    assert_eq!(code, 2);
    assert!(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rulelint\" tests=\"2\" failures=\"1\" errors=\"1\">"), "{out}");
    assert!(
        out.contains(
            "<testcase name=\"IRC to the Internet &lt;&amp;&gt; &quot;quoted&quot;\" classname=\"irc.yml\">"
        ),
        "{out}"
    );
    assert!(
        out.contains("<failure message=\"2 findings\" type=\"RL201\">"),
        "{out}"
    );
    assert!(out.contains("<error message="), "{out}");
    assert!(!out.contains("ok.toml"), "non-rules are left out: {out}");
    assert!(out.trim_end().ends_with("</testsuites>"));
}

#[test]
fn explain_and_notes_wrap_to_columns() {
    let d = repo(&[("irc.yml", IRC)]);
    let out = rulelint(d.path())
        .env("COLUMNS", "60")
        .args(["--isolated", "explain", "RL201"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fenced = false;
    for l in text.lines() {
        if l.starts_with("```") {
            fenced = !fenced;
        }
        let longest_word = l.split(' ').map(|w| w.chars().count()).max().unwrap_or(0);
        assert!(
            fenced || l.chars().count() <= 60 || longest_word > 40,
            "{l:?}\n{text}"
        );
    }
    assert!(text.lines().count() > 10);
    let out = rulelint(d.path())
        .env("COLUMNS", "60")
        .env("NO_COLOR", "1")
        .args(["check", "--isolated", "irc.yml"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let notes: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("  = note:"))
        .take_while(|l| !l.starts_with("  = help:"))
        .collect();
    assert!(notes.len() > 1, "{text}");
    assert!(notes.iter().all(|l| l.chars().count() <= 60), "{notes:?}");
}

#[test]
fn colour_output_has_no_stray_severity_line_and_the_summary_reads_well() {
    let d = repo(&[("irc.yml", IRC), ("ci.yml", "on: push\njobs: {}\n")]);
    let (_, out, _) = run(d.path(), &["check", "--isolated", "--color", "always", "."]);
    assert!(out.contains("\x1b["), "colour is on: {out}");
    for l in out.lines() {
        let visible: String = l
            .split('\x1b')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once('m').map(|x| x.1).unwrap_or("")
                }
            })
            .collect();
        assert!(!["⚠", "×", "☞"].contains(&visible.trim()), "{l:?}\n{out}");
    }
    assert!(
        out.contains(
            "2 findings in 1 file (1 rule checked), 0 errors, 1 file skipped (not a rule)"
        ),
        "{out}"
    );
}

#[test]
fn a_team_catalogue_of_a_nested_configuration_reaches_the_sarif_rules() {
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
    let d = git_repo(&[
        ("a/irc.yml", IRC),
        (
            "team/rulelint.toml",
            "[knowledge]\nextend = [\"team.yml\"]\n",
        ),
        ("team/team.yml", team),
        ("team/irc.yml", IRC),
    ]);
    let (code, out, err) = run(d.path(), &["check", "--format", "sarif", "."]);
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(rules.contains(&"RL201/team-irc-bouncer"), "{rules:?}");
    let (_, out, _) = run(d.path(), &["check", "--format", "json", "."]);
    let team_findings: Vec<String> = findings(&out)
        .into_iter()
        .filter(|f| f.2 == "team-irc-bouncer")
        .map(|f| f.0)
        .collect();
    assert_eq!(team_findings, vec!["team/irc.yml"]);
}

#[test]
fn config_shows_the_configuration_of_a_file() {
    let d = git_repo(&[
        ("rulelint.toml", "ignore = [\"RL101\"]\n"),
        ("rules/rulelint.toml", "ignore = [\"irc-client\"]\n"),
        ("rules/net/irc.yml", IRC),
    ]);
    let (code, out, _) = run(d.path(), &["config", "rules/net/irc.yml"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("# Effective settings, from rules/rulelint.toml"),
        "{out}"
    );
    assert!(out.contains("ignore = [\"irc-client\"]"), "{out}");
    let (_, out, _) = run(d.path(), &["config"]);
    assert!(
        out.contains("# Effective settings, from rulelint.toml"),
        "{out}"
    );
    assert!(out.contains("ignore = [\"RL101\"]"), "{out}");
    let (code, _, err) = run(d.path(), &["config", "nope/x.yml"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("nope/x.yml: no such file or directory"),
        "{err}"
    );
}
