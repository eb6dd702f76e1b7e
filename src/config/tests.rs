use super::error::format_errors;
use super::read::{discover, valid_address};
use super::*;
use crate::checks::Code;
use crate::diagnostic::{Diagnostic, Severity};
use crate::fsio::DEFAULT_MAX_FILE_SIZE;
use crate::knowledge::Knowledge;
use std::path::{Path, PathBuf};

fn parse(text: &str) -> Result<Config, Vec<ConfigError>> {
    Config::parse("rulelint.toml", text, Path::new("/repo"))
}

fn resolve(text: &str) -> Result<Settings, Vec<ConfigError>> {
    let k = Knowledge::builtin().expect("builtin knowledge");
    parse(text)?.resolve(&k)
}

fn diag(code: &'static str, pattern: Option<&str>, severity: Severity) -> Diagnostic {
    let code = Code::from_code(code).expect("a declared code");
    let mut d = crate::lint::file_error("rules/a.yml", code, "m".into(), None);
    d.pattern = pattern.map(str::to_string);
    d.severity = severity;
    d
}

#[test]
fn starter_file_is_valid() {
    let s = resolve(STARTER).expect("starter config resolves");
    assert_eq!(s.fail_on, Some(Severity::Warning));
    assert_eq!(s.max_file_size, Some(DEFAULT_MAX_FILE_SIZE));
    // Every top-level key of the starter file is documented in it.
    let doc = toml_edit::Document::parse(STARTER).unwrap();
    assert!(doc.as_table().len() >= 6);
}

#[test]
fn unknown_key_has_position_and_suggestion() {
    let e = parse("fail-on = \"error\"\nselcet = [\"RL2\"]\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].line, e[0].column), (Some(2), Some(1)));
    assert_eq!(e[0].message, "unknown key `selcet`");
    assert_eq!(e[0].help.as_deref(), Some("did you mean `select`?"));
    let shown = e[0].to_string();
    assert!(
        shown.starts_with("rulelint.toml:2:1: unknown key `selcet`"),
        "{shown}"
    );
    assert!(
        shown.contains("2 | selcet = [\"RL2\"]\n  | ^^^^^^"),
        "{shown}"
    );
}

#[test]
fn nested_unknown_keys_and_wrong_types() {
    let e = parse("[knowledge]\nextends = []\n[[overrides]]\ninclude = [\"a/**\"]\nignor = []\n")
        .unwrap_err();
    assert_eq!(e.len(), 2);
    assert_eq!(e[0].help.as_deref(), Some("did you mean `extend`?"));
    assert_eq!((e[1].line, e[1].column), (Some(5), Some(1)));
    assert_eq!(e[1].help.as_deref(), Some("did you mean `ignore`?"));

    let e = parse("select = \"RL2\"\n").unwrap_err();
    assert_eq!((e[0].line, e[0].column), (Some(1), Some(10)));
    assert!(e[0]
        .message
        .contains("must be an array of strings, found a string"));

    let e = parse("ignore = [\"RL2\", 3]\n").unwrap_err();
    assert_eq!((e[0].line, e[0].column), (Some(1), Some(18)));

    let e = parse("fail-on = \"warn\"\n").unwrap_err();
    assert_eq!(e[0].help.as_deref(), Some("did you mean `warning`?"));

    let e = parse("environment = 3\n").unwrap_err();
    assert!(e[0].message.contains("must be a table"));
}

#[test]
fn toml_syntax_error_has_position() {
    let e = parse("select = [\"RL2\"\nignore = []\n").unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e[0].message.starts_with("invalid TOML"), "{}", e[0].message);
    assert!(e[0].line.is_some());
    let e = parse("select = []\nselect = []\n").unwrap_err();
    assert!(e[0].message.contains("duplicate"), "{}", e[0].message);
    assert_eq!(e[0].line, Some(2));
}

#[test]
fn selectors_are_checked_against_the_catalogue() {
    let e = resolve("ignore = [\"ephemeral-prot\", \"RL9\", \"RL20\"]\n").unwrap_err();
    assert_eq!(e.len(), 2, "{e:?}");
    assert_eq!(e[0].help.as_deref(), Some("did you mean `ephemeral-port`?"));
    assert_eq!((e[0].line, e[0].column), (Some(1), Some(12)));
    assert!(e[1].message.contains("`RL9`"));
    let e = resolve("[severity]\nRL2 = \"error\"\nknown-fp-patern = \"info\"\n").unwrap_err();
    assert_eq!(e.len(), 2);
    assert_eq!(
        e[1].help.as_deref(),
        Some("did you mean `known-fp-pattern`?")
    );
}

#[test]
fn environment_addresses_are_validated() {
    let s = resolve(
        "[environment]\ndns_servers = [\"10.0.0.53\", \"fd00::/8\"]\nservice_accounts = \"svc_x\"\n",
    )
    .unwrap();
    assert_eq!(
        s.environment["dns_servers"],
        vec!["10.0.0.53/32", "fd00::/8"]
    );
    assert_eq!(s.environment["service_accounts"], vec!["svc_x"]);
    let e = resolve("[environment]\nproxies = [\"10.0.0.1\", \"10.0.0.0/33\", \"proxy.corp\"]\n")
        .unwrap_err();
    assert_eq!(e.len(), 2);
    assert_eq!((e[0].line, e[0].column), (Some(2), Some(25)));
    assert!(e[0].message.contains("`10.0.0.0/33` in `proxies`"));
    assert!(
        e[0].to_string()
            .contains("\n  |                         ^^^^^^^^^^^\n"),
        "{}",
        e[0]
    );
    assert!(e[1].message.contains("proxy.corp"));
    let e = resolve("[environment]\ndns_server = [\"10.0.0.1\"]\n").unwrap_err();
    assert_eq!(e[0].help.as_deref(), Some("did you mean `dns_servers`?"));
    assert_eq!((e[0].line, e[0].column), (Some(2), Some(1)));
}

#[test]
fn addresses() {
    for ok in [
        "10.0.0.1",
        "10.0.0.0/8",
        "::1",
        "2001:db8::/32",
        "0.0.0.0/0",
    ] {
        assert!(valid_address(ok), "{ok}");
    }
    for bad in [
        "10.0.0",
        "10.0.0.0/",
        "10.0.0.0/x",
        "::1/129",
        "host",
        "10.0.0.1/+1",
        "",
    ] {
        assert!(!valid_address(bad), "{bad}");
    }
}

#[test]
fn selection_specificity_and_overrides() {
    let s = resolve(
        "select = [\"RL2\", \"RL0\"]\nignore = [\"ephemeral-port\"]\n\
         [[overrides]]\ninclude = [\"rules/windows/**\"]\nselect = [\"ephemeral-port\"]\n\
         severity = { ephemeral-port = \"error\" }\n\
         [[overrides]]\ninclude = [\"legacy/**\"]\nignore = [\"RL2\"]\n",
    )
    .unwrap();
    let eph = diag("RL201", Some("ephemeral-port"), Severity::Warning);
    let other = diag("RL201", Some("some-other"), Severity::Warning);
    let info = diag("RL010", None, Severity::Info);
    let fatal = diag("RL002", None, Severity::Error);
    assert!(!s.enabled("rules/linux/a.yml", &eph));
    assert!(s.enabled("rules/linux/a.yml", &other));
    assert!(s.enabled("rules/linux/a.yml", &info));
    assert!(s.enabled("rules/windows/x/a.yml", &eph));
    assert_eq!(
        s.severity("rules/windows/a.yml", &eph),
        Some(Severity::Error)
    );
    assert_eq!(s.severity("rules/linux/a.yml", &eph), None);
    assert!(!s.enabled("legacy/a.yml", &other));
    assert!(s.enabled("legacy/a.yml", &fatal));

    let s = resolve("select = [\"ephemeral-port\"]\nignore = [\"RL2\"]\n").unwrap();
    assert!(s.enabled("a.yml", &eph));
    assert!(!s.enabled("a.yml", &other));
    assert!(!s.enabled("a.yml", &info));
    let s = resolve("ignore = [\"RL201\"]\nselect = [\"known-fp-pattern\"]\n").unwrap();
    assert!(!s.enabled("a.yml", &eph), "ignore wins a tie");
}

#[test]
fn severity_by_code_and_pattern() {
    let s = resolve("[severity]\nRL201 = \"info\"\nephemeral-port = \"error\"\n").unwrap();
    let mut ds = vec![
        diag("RL201", Some("ephemeral-port"), Severity::Warning),
        diag("RL201", Some("x"), Severity::Warning),
    ];
    s.apply("a.yml", &mut ds);
    assert_eq!(ds[0].severity, Severity::Error);
    assert_eq!(ds[1].severity, Severity::Info);
}

#[test]
fn knowledge_extension_errors_have_positions() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("team.yml"),
        "patterns:\n  - id: Bad_Id\n    title: t\n    rationale: r\n    benign: [b]\n    trigger:\n      - concepts: [destination.port]\n        ports: [1]\n    exclusion:\n      summary: s\n      name: n\n      fields:\n        - concept: source.ip\n          fact: jump_hosts\n          placeholder: <x>\n",
    )
    .unwrap();
    let c = Config::parse(
        "rulelint.toml",
        "[knowledge]\nextend = [\"team.yml\", \"missing.yml\"]\n",
        dir.path(),
    )
    .unwrap();
    let e = c.knowledge().unwrap_err();
    assert_eq!(e.len(), 2, "{e:?}");
    assert!(e[0].message.contains("kebab-case"), "{}", e[0]);
    assert_eq!((e[0].line, e[0].column), (Some(2), Some(9)));
    assert!(e[1].message.contains("missing.yml"));
    assert_eq!(e[1].file, "rulelint.toml");
    assert_eq!((e[1].line, e[1].column), (Some(2), Some(24)));
}

#[test]
fn team_patterns_bring_their_facts() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("team.yml"),
        "patterns:\n  - id: team-jump\n    title: t\n    rationale: r\n    benign: [b]\n    trigger:\n      - concepts: [destination.port]\n        ports: [22]\n    exclusion:\n      summary: s\n      name: jump\n      fields:\n        - concept: source.ip\n          fact: jump_hosts\n          placeholder: <your jump hosts>\n",
    )
    .unwrap();
    let c = Config::parse(
        "rulelint.toml",
        "ignore = [\"team-jump\"]\n[knowledge]\nextend = [\"team.yml\"]\n[environment]\njump_hosts = [\"not-an-ip\"]\n",
        dir.path(),
    )
    .unwrap();
    let k = c.knowledge().unwrap();
    let e = c.resolve(&k).unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].message.contains("not-an-ip"));
    assert_eq!(
        pattern_facts(k.pattern("team-jump").unwrap()),
        vec!["jump_hosts"]
    );
}

#[test]
fn discovery_walks_up_and_prefers_the_plain_name() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(dir.path().join(".rulelint.toml"), "").unwrap();
    assert_eq!(discover(&sub), Some(dir.path().join(".rulelint.toml")));
    std::fs::write(dir.path().join("rulelint.toml"), "").unwrap();
    assert_eq!(discover(&sub), Some(dir.path().join("rulelint.toml")));
    std::fs::write(dir.path().join("a/rulelint.toml"), "select = 1").unwrap();
    let e = Config::load(None, false, &sub).unwrap_err();
    assert_eq!(e[0].file, "../rulelint.toml");
    assert!(Config::load(None, true, &sub).unwrap().file.is_none());
}

#[test]
fn effective_settings_round_trip() {
    let text = "select = [\"RL2\"]\nfail-on = \"info\"\n[severity]\nephemeral-port = \"error\"\n[environment]\ndns_servers = [\"10.0.0.53\"]\n[[overrides]]\ninclude = [\"rules/windows/**\"]\nignore = [\"RL201\"]\nseverity = { RL010 = \"hint\" }\n";
    let k = Knowledge::builtin().unwrap();
    let c = parse(text).unwrap();
    let s = c.resolve(&k).unwrap();
    let out = c.to_toml(&s, &k);
    let again = parse(&out).unwrap_or_else(|e| panic!("{}\n{out}", format_errors(&e)));
    let s2 = again.resolve(&k).unwrap();
    assert_eq!(s2.environment, s.environment);
    assert_eq!(s2.fail_on, Some(Severity::Info));
    assert_eq!(again.overrides.len(), 1);
    // A bare address in a CIDR fact is widened to a /32 range.
    assert!(out.contains("dns_servers = [\"10.0.0.53/32\"]"), "{out}");
    assert!(out.contains("max-file-size = 4194304\n"), "{out}");
    let small = parse("max-file-size = \"512KB\"\n").unwrap();
    let out = small.to_toml(&small.resolve(&k).unwrap(), &k);
    assert!(out.contains("max-file-size = 524288\n"), "{out}");
}

#[test]
fn workspace_paths() {
    let ws = Workspace {
        cwd: PathBuf::from("/repo/rules"),
        root: PathBuf::from("/repo"),
    };
    assert_eq!(ws.rel("windows/a.yml"), "rules/windows/a.yml");
    assert_eq!(ws.rel("./x/../b.yml"), "rules/b.yml");
    assert_eq!(ws.rel("../../etc/x.yml"), "/etc/x.yml");
    assert!(!ws.inside("/etc/x.yml"));
}

#[test]
fn every_error_of_the_file_is_reported_at_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rulelint.toml"),
        "select = [\"RL2\"]\nignor = []\nignore = [\"ephemeral-prot\"]\nfail-on = 3\n\
         [environment]\ndns_server = [\"10.0.0.1\"]\nproxies = [\"proxy.corp\"]\n",
    )
    .unwrap();
    let e = load_all(None, false, dir.path()).unwrap_err();
    let at: Vec<_> = e.iter().map(|e| (e.line, e.message.as_str())).collect();
    assert_eq!(at.len(), 5, "{}", format_errors(&e));
    assert_eq!(at[0], (Some(2), "unknown key `ignor`"));
    assert!(at[1].1.contains("`ephemeral-prot`"), "{at:?}");
    assert_eq!(at[1].0, Some(3));
    assert!(at[2].1.contains("`fail-on` must be a string"), "{at:?}");
    assert_eq!(at[3], (Some(6), "unknown environment fact `dns_server`"));
    assert!(at[4].1.contains("proxy.corp"), "{at:?}");
    assert_eq!(at[4].0, Some(7));

    std::fs::write(dir.path().join("rulelint.toml"), "select = [\"RL2\"]\n").unwrap();
    let (c, _, s) = load_all(None, false, dir.path()).unwrap();
    assert!(c.file.is_some());
    assert_eq!(s.fail_on, None);
}

/// Found by the `config` fuzz target: these five bytes made the TOML
/// library panic instead of returning an error.
#[test]
fn toml_the_parser_panics_on_is_an_invalid_file_not_a_crash() {
    let text = "==\n.=";
    let errs = Config::parse("rulelint.toml", text, Path::new("/r")).expect_err("not a config");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(errs[0].to_string().contains("invalid TOML"), "{}", errs[0]);
}

/// `may_enable` must be true whenever some file can report the code.
fn may_enable_matches_enabled(s: &Settings, files: &[&str]) {
    for code in Code::ALL.iter().copied() {
        let patterns: Vec<Option<&str>> = if code == Code::KnownFpPattern {
            vec![None, Some("ephemeral-port"), Some("dns-server")]
        } else {
            vec![None]
        };
        let anywhere = files.iter().any(|f| {
            patterns
                .iter()
                .any(|p| s.enabled(f, &diag(code.as_str(), *p, Severity::Warning)))
        });
        if anywhere {
            assert!(
                s.may_enable(code),
                "{code} is enabled somewhere but not run"
            );
        }
    }
}

fn with_cli(text: &str, select: Option<&[&str]>, extend: &[&str], ignore: &[&str]) -> Settings {
    let k = Knowledge::builtin().expect("builtin knowledge");
    let names = Names::new(&k);
    let sel = |l: &[&str]| -> Vec<_> { l.iter().map(|x| names.selector(x).unwrap()).collect() };
    let mut s = resolve(text).unwrap();
    s.with_command_line(select.map(sel), sel(extend), sel(ignore));
    s
}

#[test]
fn command_line_selection_replaces_extends_and_ignores() {
    let files = ["rules/a.yml", "rules/legacy/b.yml"];
    let cfg = "ignore = [\"RL201\"]\n[[overrides]]\ninclude = [\"rules/legacy/**\"]\nselect = [\"RL101\"]\n";
    let fp = diag("RL201", Some("ephemeral-port"), Severity::Warning);
    // --select replaces the configured ignore.
    let s = with_cli(cfg, Some(&["RL201"]), &[], &[]);
    assert!(s.enabled("rules/a.yml", &fp));
    assert!(s.may_enable(Code::KnownFpPattern));
    may_enable_matches_enabled(&s, &files);
    // --ignore wins over an override that selects the check.
    let s = with_cli(cfg, None, &[], &["RL101"]);
    assert!(!s.enabled("rules/legacy/b.yml", &diag("RL101", None, Severity::Info)));
    assert!(!s.may_enable(Code::UnusedSuppression));
    may_enable_matches_enabled(&s, &files);
    // A whole check ignored, one of its patterns extended back.
    let s = with_cli("", None, &["dns-server"], &["RL201"]);
    assert!(!s.enabled("rules/a.yml", &fp));
    assert!(s.enabled(
        "rules/a.yml",
        &diag("RL201", Some("dns-server"), Severity::Warning)
    ));
    assert!(s.may_enable(Code::KnownFpPattern));
    may_enable_matches_enabled(&s, &files);
    // --extend-select on top of a narrow configured select.
    let s = with_cli("select = [\"RL1\"]\n", None, &["RL201"], &[]);
    assert!(s.enabled("rules/a.yml", &fp));
    may_enable_matches_enabled(&s, &files);
    // Parse errors are reported whatever the selection.
    let s = with_cli("", Some(&["RL201"]), &[], &["RL0"]);
    assert!(s.enabled("rules/a.yml", &diag("RL006", None, Severity::Error)));
}

#[test]
fn ignoring_an_error_that_stops_the_file_is_refused() {
    let e = resolve("ignore = [\"RL006\"]\n[[overrides]]\ninclude = [\"x/**\"]\nignore = [\"unreadable-file\"]\n")
        .unwrap_err();
    let text = format_errors(&e);
    assert!(text.contains("rulelint.toml:1:12"), "{text}");
    assert!(
        text.contains("`RL006` (invalid-condition) cannot be ignored"),
        "{text}"
    );
    assert!(
        text.contains("`RL001` (unreadable-file) cannot be ignored"),
        "{text}"
    );
    // Prefixes and notes stay allowed.
    assert!(resolve("ignore = [\"RL0\", \"RL009\"]\n").is_ok());
}
