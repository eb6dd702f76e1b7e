//! `rulelint tune`: the tuning pack written for the rules of
//! `tests/fixtures/tune/` (snapshots of every file), determinism,
//! `--check`, `--merge-with`, and bad input (exit 2, nothing written).

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tune")
}

fn rulelint() -> Command {
    let mut c = Command::cargo_bin("rulelint").expect("binary");
    c.env_remove("NO_COLOR");
    c
}

/// `tune` on the fixture rules (from the fixture folder, so that its
/// rulelint.toml applies and paths read `rules/…`).
fn tune(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    rulelint()
        .current_dir(fixture())
        .arg("tune")
        .arg("--out")
        .arg(out)
        .args(extra)
        .arg("rules")
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

/// Every file under `dir`: relative path → text.
fn files(dir: &Path) -> Vec<(String, String)> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, String)>) {
        for e in fs::read_dir(dir).expect("read dir") {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().expect("type").is_dir() {
                walk(&e.path(), &r, out);
            } else {
                out.push((r, fs::read_to_string(e.path()).expect("text")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

#[test]
fn the_pack_of_the_fixture_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let a = tune(&out, &[]).success();
    let text = stdout(&a).replace(&out.display().to_string(), "PACK");
    insta::assert_snapshot!("tune_stdout", text);
    let got = files(&out);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec![
            ".rulelint-tune",
            "elastic/debugger-tracer.ndjson",
            "elastic/exception_references.json",
            "elastic/file-enumeration.ndjson",
            "sigma/mf_irc-client_network_connection_linux.yml",
            "sigma/mf_irc-client_network_connection_windows.yml",
            "splunk/macros.conf",
        ]
    );
    for (name, text) in &got {
        let snap = format!("tune_{}", name.replace(['/', '.'], "_"));
        insta::assert_snapshot!(snap, text);
    }
}

#[test]
fn meta_filters_exclude_and_are_split_by_log_source() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    tune(&out, &[]).success();
    for product in ["windows", "linux"] {
        let text = fs::read_to_string(out.join(format!(
            "sigma/mf_irc-client_network_connection_{product}.yml"
        )))
        .unwrap();
        assert!(
            text.contains(&format!("    product: '{product}'\n")),
            "{text}"
        );
        assert!(
            text.contains("    condition: not filter_developer_hosts\n"),
            "{text}"
        );
        assert!(!text.contains("condition: filter_"), "{text}");
        assert_eq!(
            text.matches("        - '").count(),
            1,
            "one rule each: {text}"
        );
        assert!(text.contains("SourceIp|cidr: '10.30.0.0/16'"), "{text}");
    }
}

#[test]
fn skipped_exclusions_name_the_fact_they_need_and_eql_sequences_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tune(&tmp.path().join("pack"), &[]).success();
    let s = stdout(&a);
    assert!(
        s.contains("rules/sigma/firewall_ftp_outbound.yml: 1687f4c3-3b86-46e7-9c1f-030039742724: ftp-server: needs the environment fact `ftp_servers`"),
        "{s}"
    );
    assert!(
        s.contains("linux_find_suid_then_chmod.toml: 5b0d6c1e-8f2a-4d3b-9c4e-1a2b3c4d5e6f: file-enumeration: an EQL sequence rule takes exceptions only on fields that every event of the sequence has (its `sequence by` keys)"),
        "{s}"
    );
    let pack = files(&tmp.path().join("pack"));
    // Never a placeholder, never the sequence whose keys do not hold the
    // exclusion's field; the sequence by that field gets its exception.
    for (name, text) in &pack {
        assert!(!text.contains("<your"), "{name}: {text}");
        assert!(
            !text.contains("5b0d6c1e-8f2a-4d3b-9c4e-1a2b3c4d5e6f"),
            "{name}: {text}"
        );
    }
    let list = &pack
        .iter()
        .find(|(n, _)| n == "elastic/file-enumeration.ndjson")
        .expect("the list of file-enumeration")
        .1;
    assert!(
        list.contains("6c1e7d2f-9a3b-4e4c-8d5f-2b3c4d5e6f7a"),
        "{list}"
    );
    assert!(
        list.contains("65747de2-bf2d-4f06-a692-0c6782cc61e7"),
        "{list}"
    );
}

#[test]
fn addresses_are_widened_to_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    tune(&out, &[]).success();
    let macros = fs::read_to_string(out.join("splunk/macros.conf")).unwrap();
    assert!(
        macros.contains("src_ip IN (10.0.0.53/32, 10.0.1.0/24)"),
        "{macros}"
    );
}

#[test]
fn the_same_input_gives_byte_identical_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    tune(&a, &[]).success();
    tune(&b, &["--jobs", "1"]).success();
    assert_eq!(files(&a), files(&b));
    // Writing over a previous pack replaces it, with the same bytes.
    let before = files(&a);
    tune(&a, &[]).success();
    assert_eq!(files(&a), before);
    let leftovers: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".rulelint"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn check_exits_1_when_the_pack_is_stale_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let a = tune(&out, &["--check"]).code(1);
    assert!(
        stdout(&a).contains("missing splunk/macros.conf"),
        "{}",
        stdout(&a)
    );
    assert!(!out.exists(), "--check wrote the pack");
    tune(&out, &[]).success();
    let a = tune(&out, &["--check"]).success();
    assert!(stdout(&a).contains("is up to date"), "{}", stdout(&a));
    let conf = out.join("splunk/macros.conf");
    fs::write(&conf, "[x]\ndefinition = search *\n").unwrap();
    fs::write(out.join("sigma/mf_old.yml"), "title: old\n").unwrap();
    let a = tune(&out, &["--check"]).code(1);
    let s = stdout(&a);
    assert!(s.contains("changed splunk/macros.conf"), "{s}");
    assert!(s.contains("not in the pack sigma/mf_old.yml"), "{s}");
    assert_eq!(
        fs::read_to_string(&conf).unwrap(),
        "[x]\ndefinition = search *\n"
    );
}

#[test]
fn merge_with_keeps_the_definitions_the_user_tuned() {
    let tmp = tempfile::tempdir().unwrap();
    let mine = tmp.path().join("macros.conf");
    fs::write(
        &mine,
        "# our tuning\n[linux_socat_reverse_shell_filter]\ndefinition = search NOT user=\"root\"\niseval = 0\n\n[windows_system_information_discovery_filter]\ndefinition = search *\n\n[unrelated_filter]\ndefinition = search NOT host=\"lab*\"\n",
    )
    .unwrap();
    let out = tmp.path().join("pack");
    let mine_arg = mine.display().to_string();
    tune(&out, &["--merge-with", &mine_arg]).success();
    let conf = fs::read_to_string(out.join("splunk/macros.conf")).unwrap();
    insta::assert_snapshot!("tune_merged_macros_conf", conf);
    assert!(conf.starts_with("# our tuning\n"), "{conf}");
    assert!(
        conf.contains(
            "definition = search NOT user=\"root\" | search NOT (user=\"adm_carol\")\niseval = 0\n"
        ),
        "{conf}"
    );
    // The shipped `search *` is replaced; the unrelated stanza is kept as is.
    assert!(
        conf.contains("[windows_system_information_discovery_filter]\ndefinition = search NOT (user=\"adm_carol\")\n"),
        "{conf}"
    );
    assert!(
        conf.contains("[unrelated_filter]\ndefinition = search NOT host=\"lab*\"\n"),
        "{conf}"
    );
    // Merging again with the result adds nothing twice.
    let again = tmp.path().join("again.conf");
    fs::write(&again, &conf).unwrap();
    let out2 = tmp.path().join("pack2");
    tune(&out2, &["--merge-with", &again.display().to_string()]).success();
    assert_eq!(
        fs::read_to_string(out2.join("splunk/macros.conf")).unwrap(),
        conf
    );
    // Each stanza parses, and each definition parses as SPL.
    rulelint()
        .arg("debug-macros")
        .arg(out.join("splunk/macros.conf"))
        .assert()
        .success()
        .stdout("4 definitions parse\n");
}

#[test]
fn a_merge_file_that_is_not_a_conf_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("macros.conf");
    fs::write(&bad, "[a_filter]\nthis is not a setting\n").unwrap();
    let out = tmp.path().join("pack");
    let a = tune(&out, &["--merge-with", &bad.display().to_string()]).code(2);
    assert!(
        stderr(&a).contains("--merge-with: line 2"),
        "{}",
        stderr(&a)
    );
    assert!(!out.exists());
}

#[test]
fn the_ndjson_is_a_list_then_its_items() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    tune(&out, &[]).success();
    let text = fs::read_to_string(out.join("elastic/debugger-tracer.ndjson")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert!(lines.len() >= 2);
    assert_eq!(lines[0]["type"], "detection");
    let list_id = lines[0]["list_id"].as_str().unwrap();
    assert!(lines[0]["description"]
        .as_str()
        .unwrap()
        .contains("37a7e6b3-ae87-4a21-80e2-076feb01437a"));
    for item in &lines[1..] {
        assert_eq!(item["list_id"], list_id);
        assert_eq!(item["type"], "simple");
        for e in item["entries"].as_array().unwrap() {
            assert_eq!(e["operator"], "included");
            assert!(
                ["match", "match_any", "exists", "wildcard"].contains(&e["type"].as_str().unwrap())
            );
        }
    }
    let refs: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(out.join("elastic/exception_references.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        refs["rules"][0]["exceptions_list"][0]["list_id"], list_id,
        "{refs}"
    );
}

/// A folder with a rulelint.toml and rule files (name → text).
fn project(config: &str, rules: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("rulelint.toml"), config).unwrap();
    fs::create_dir(tmp.path().join("rules")).unwrap();
    for (name, text) in rules {
        fs::write(tmp.path().join("rules").join(name), text).unwrap();
    }
    tmp
}

fn irc_rule() -> String {
    fs::read_to_string(fixture().join("rules/sigma/net_irc_to_internet.yml")).unwrap()
}

const DEV_HOSTS: &str = "[environment]\ndeveloper_hosts = [\"10.30.0.0/16\"]\n";

fn tune_in(dir: &Path, out: &str) -> assert_cmd::assert::Assert {
    rulelint()
        .current_dir(dir)
        .args(["tune", "--out", out, "rules"])
        .assert()
}

#[test]
fn a_rule_without_an_id_is_named() {
    let text = irc_rule()
        .lines()
        .filter(|l| !l.starts_with("id:"))
        .collect::<Vec<_>>()
        .join("\n");
    let p = project(DEV_HOSTS, &[("irc.yml", &text)]);
    let a = tune_in(p.path(), "pack").code(2);
    let e = stderr(&a);
    assert!(
        e.contains("rules/irc.yml: the rule `Outbound IRC Connection To The Internet` has no `id`; meta-filters name the rules they apply to by id"),
        "{e}"
    );
    assert!(e.contains("nothing was written"), "{e}");
    assert!(!p.path().join("pack").exists());
}

#[test]
fn duplicate_rule_ids_are_refused() {
    let p = project(DEV_HOSTS, &[("a.yml", &irc_rule()), ("b.yml", &irc_rule())]);
    let a = tune_in(p.path(), "pack").code(2);
    let e = stderr(&a);
    assert!(
        e.contains("duplicate rule id `3faac7ff-0cd0-4f69-a456-b9012b2f61a7` in rules/a.yml and rules/b.yml"),
        "{e}"
    );
    assert!(!p.path().join("pack").exists());
}

#[test]
fn a_name_where_an_address_block_is_needed_is_refused_with_the_fact() {
    let p = project(
        "[environment]\ndeveloper_hosts = [\"devbox01\"]\n",
        &[("irc.yml", &irc_rule())],
    );
    let a = tune_in(p.path(), "pack").code(2);
    let e = stderr(&a);
    assert!(
        e.contains("the environment fact `developer_hosts` holds `devbox01`, which is not an IP address or CIDR range"),
        "{e}"
    );
    assert!(!p.path().join("pack").exists());
}

#[test]
fn an_address_where_a_block_is_needed_is_widened() {
    let p = project(
        "[environment]\ndeveloper_hosts = [\"10.30.0.7\", \"fe80::1\"]\n",
        &[("irc.yml", &irc_rule())],
    );
    tune_in(p.path(), "pack").success();
    let text = fs::read_to_string(p.path().join("pack/sigma/mf_irc-client.yml")).unwrap();
    assert!(
        text.contains(
            "SourceIp|cidr:\n            - '10.30.0.7/32'\n            - 'fe80::1/128'\n"
        ),
        "{text}"
    );
}

#[test]
fn an_output_folder_that_is_a_file_a_link_or_someone_elses_is_refused() {
    let p = project(DEV_HOSTS, &[("irc.yml", &irc_rule())]);
    let dir = p.path();
    fs::write(dir.join("file"), "mine").unwrap();
    let a = tune_in(dir, "file").code(2);
    assert!(
        stderr(&a).contains("--out file is a file, not a folder"),
        "{}",
        stderr(&a)
    );
    assert_eq!(fs::read_to_string(dir.join("file")).unwrap(), "mine");

    // Not writable: its parent is a file.
    let a = tune_in(dir, "file/pack").code(2);
    assert!(
        stderr(&a).contains("cannot write --out file/pack"),
        "{}",
        stderr(&a)
    );

    fs::create_dir(dir.join("docs")).unwrap();
    fs::write(dir.join("docs/notes.md"), "keep").unwrap();
    let a = tune_in(dir, "docs").code(2);
    assert!(
        stderr(&a).contains("--out docs already holds files that `rulelint tune` did not write"),
        "{}",
        stderr(&a)
    );
    assert_eq!(
        fs::read_to_string(dir.join("docs/notes.md")).unwrap(),
        "keep"
    );

    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.join("docs"), dir.join("link")).unwrap();
        let a = tune_in(dir, "link").code(2);
        assert!(
            stderr(&a).contains("--out link is a symbolic link"),
            "{}",
            stderr(&a)
        );
        assert_eq!(fs::read_dir(dir.join("docs")).unwrap().count(), 1);
    }
    // An empty folder is fine.
    fs::create_dir(dir.join("empty")).unwrap();
    tune_in(dir, "empty").success();
    assert!(dir.join("empty/sigma/mf_irc-client.yml").is_file());
}

#[test]
fn selection_options_apply_as_for_check() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pack");
    let a = tune(&out, &["--ignore", "irc-client"]).success();
    assert!(
        stdout(&a).contains("0 Sigma meta-filters"),
        "{}",
        stdout(&a)
    );
    assert!(!out.join("sigma").exists());
    let a = tune(&out, &["--select", "irc-client"]).success();
    assert!(
        stdout(&a).contains("2 Sigma meta-filters"),
        "{}",
        stdout(&a)
    );
    assert!(!out.join("splunk").exists());
}

mod common;

/// `tune` over each shared corpus with every fact set: exit 0, a second
/// run finds nothing stale, every macros.conf stanza and definition parses,
/// every meta-filter negates its selection, every NDJSON line is a list or
/// an item of it.
#[test]
#[ignore = "needs the rule corpus: ../shared/corpus or RULELINT_CORPUS"]
fn tune_over_the_corpora() {
    let env = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tune-environment.toml");
    for (corpus, want) in [
        ("sigma", "sigma"),
        ("elastic", "elastic"),
        ("splunk", "splunk"),
    ] {
        let dir = common::corpus_dir(corpus);
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("pack");
        let run = |extra: &[&str]| {
            rulelint()
                .arg("--config")
                .arg(&env)
                .arg("tune")
                .arg("--out")
                .arg(&out)
                .args(extra)
                .arg(&dir)
                .assert()
        };
        let a = run(&[]);
        assert_eq!(
            a.get_output().status.code(),
            Some(0),
            "{corpus}: {}",
            stderr(&a)
        );
        run(&["--check"]).success();
        let got = files(&out);
        assert!(
            got.iter().any(|(n, _)| n.starts_with(&format!("{want}/"))),
            "{corpus}: nothing written for it: {}",
            stdout(&a)
        );
        for (name, text) in &got {
            if name.ends_with(".yml") {
                assert!(text.contains("\n    condition: not filter_"), "{name}");
                assert!(
                    text.contains("\nfilter:\n    rules:\n        - '"),
                    "{name}"
                );
            } else if name.ends_with("macros.conf") {
                rulelint()
                    .arg("debug-macros")
                    .arg(out.join(name))
                    .assert()
                    .success();
            } else if name.ends_with(".ndjson") {
                let lines: Vec<serde_json::Value> = text
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("JSON line"))
                    .collect();
                assert_eq!(lines[0]["type"], "detection", "{name}");
                assert!(lines.len() > 1, "{name}: a list without items");
                for item in &lines[1..] {
                    assert_eq!(item["list_id"], lines[0]["list_id"], "{name}");
                    assert!(!item["entries"].as_array().unwrap().is_empty(), "{name}");
                }
            }
            assert!(!text.contains("<your"), "{name}: a placeholder");
        }
    }
}

/// The corpus round trip's environment provides every fact the catalogue
/// names, so that it tunes every exclusion that can be tuned.
#[test]
fn the_round_trip_environment_has_every_fact() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = fs::read_to_string(root.join("tests/data/tune-environment.toml")).unwrap();
    let mut n = 0;
    for e in fs::read_dir(root.join("knowledge")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_none_or(|x| x != "yml") {
            continue;
        }
        for line in fs::read_to_string(&p).unwrap().lines() {
            if let Some(fact) = line.trim().strip_prefix("fact: ") {
                n += 1;
                assert!(
                    env.contains(&format!("\n{} = [", fact.trim())),
                    "{}: fact `{fact}` is not in tests/data/tune-environment.toml",
                    p.display()
                );
            }
        }
    }
    assert!(n > 10, "only {n} facts found in the catalogue");
}

#[test]
fn findings_recorded_in_a_baseline_are_not_tuned() {
    let tmp = tempfile::tempdir().unwrap();
    let baseline = tmp.path().join("baseline.json");
    rulelint()
        .current_dir(fixture())
        .args(["check", "--select", "irc-client", "--write-baseline"])
        .arg(&baseline)
        .arg("rules")
        .assert()
        .success();
    let out = tmp.path().join("pack");
    let b = baseline.display().to_string();
    let a = tune(&out, &["--baseline", &b]).success();
    let s = stdout(&a);
    assert!(s.contains("0 Sigma meta-filters"), "{s}");
    assert!(s.contains("3 Splunk filter macros"), "{s}");
    assert!(!out.join("sigma").exists());
    let a = tune(&out, &["--baseline", "no-such-baseline.json"]).code(2);
    assert!(
        stderr(&a).contains("cannot read baseline"),
        "{}",
        stderr(&a)
    );
}

#[test]
fn an_address_block_where_exact_values_are_compared_is_refused_with_the_fact() {
    let rule = "title: MSBuild Run From A Script\nid: 7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f\nstatus: test\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n    selection:\n        Image|endswith: '\\msbuild.exe'\n    condition: selection\nlevel: medium\n";
    let p = project(
        "[environment]\ndeveloper_hosts = [\"10.30.0.0/16\"]\n",
        &[("msbuild.yml", rule)],
    );
    let a = tune_in(p.path(), "pack").code(2);
    let e = stderr(&a);
    assert!(
        e.contains("rules/msbuild.yml: the environment fact `developer_hosts` holds the address block `10.30.0.0/16`, but pattern `windows-developer-tool` compares `Computer` with exact values"),
        "{e}"
    );
    assert!(!p.path().join("pack").exists());
    // Host names are what the field holds.
    let p = project(
        "[environment]\ndeveloper_hosts = [\"devbox01\"]\n",
        &[("msbuild.yml", rule)],
    );
    tune_in(p.path(), "pack").success();
    let text =
        fs::read_to_string(p.path().join("pack/sigma/mf_windows-developer-tool.yml")).unwrap();
    assert!(text.contains("        Computer: 'devbox01'\n"), "{text}");
}

#[test]
fn a_folder_without_rules_is_an_error() {
    let p = project(DEV_HOSTS, &[("notes.yml", "owners: [a]\n")]);
    let a = tune_in(p.path(), "pack").code(2);
    assert!(
        stderr(&a).contains("no rule file found in rules"),
        "{}",
        stderr(&a)
    );
    assert!(!p.path().join("pack").exists());
}
