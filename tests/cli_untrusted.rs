//! A pull request from a stranger controls the rule files, the
//! `rulelint.toml` and the baseline. Each test performs one attack and
//! checks that nothing outside the repository is written or shown, and
//! that the other files are still linted.

mod common;

use common::{repo, rulelint, stdout_json, IRC};
use std::fs;
use std::path::Path;
use std::time::Duration;

/// A run of `rulelint <args>` in `dir`: exit code, stdout, stderr. The
/// timeout only guards against a run that blocks forever.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = rulelint(dir)
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `(file, code, message)` of every diagnostic of a JSON report.
fn diagnostics(stdout: &str) -> Vec<(String, String, String)> {
    let v: serde_json::Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["code"].as_str().unwrap_or("").to_string(),
                d["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn codes_of<'a>(ds: &'a [(String, String, String)], file: &str) -> Vec<&'a str> {
    ds.iter()
        .filter(|d| d.0 == file)
        .map(|d| d.1.as_str())
        .collect()
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).expect("symlink");
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

// ----- writes through links ----------------------------------------------------

#[cfg(unix)]
#[test]
fn write_baseline_ignores_links_planted_at_temporary_paths() {
    let d = repo(&[("irc.yml", IRC)]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("authorized_keys");
    fs::write(&victim, "ssh-ed25519 AAAA precious\n").unwrap();
    // The names a baseline writer might use for its temporary file.
    for name in ["b.rulelint-tmp", "b.json.tmp", ".b.json.tmp", "b.json~"] {
        symlink(&victim, &d.path().join(name));
    }
    let (code, _, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--write-baseline",
            "b.json",
            "irc.yml",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        fs::read_to_string(&victim).unwrap(),
        "ssh-ed25519 AAAA precious\n"
    );
    let b = d.path().join("b.json");
    assert!(fs::symlink_metadata(&b).unwrap().file_type().is_file());
    assert!(fs::read_to_string(&b).unwrap().contains("\"RL201\""));
    assert!(fs::symlink_metadata(d.path().join("b.rulelint-tmp"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[cfg(unix)]
#[test]
fn write_baseline_refuses_a_baseline_that_is_a_link() {
    let d = repo(&[("irc.yml", IRC)]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("bashrc");
    fs::write(&victim, "export PATH\n").unwrap();
    symlink(&victim, &d.path().join("b.json"));
    let (code, stdout, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--write-baseline",
            "b.json",
            "irc.yml",
        ],
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(stderr.contains("cannot write baseline b.json"), "{stderr}");
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert_eq!(fs::read_to_string(&victim).unwrap(), "export PATH\n");
    assert!(fs::symlink_metadata(d.path().join("b.json"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[cfg(unix)]
#[test]
fn fix_ignores_links_planted_for_every_likely_pid() {
    let d = repo(&[("irc.yml", IRC)]);
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    fs::write(&victim, "precious").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        fs::set_permissions(d.path().join("irc.yml"), fs::Permissions::from_mode(0o640)).unwrap();
    }
    // The next pids the system hands out: the child's is among them.
    let me = std::process::id();
    for pid in me..me + 20_000 {
        symlink(
            &victim,
            &d.path().join(format!(".irc.yml.rulelint-fix.{pid}")),
        );
    }
    let (code, _, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "json",
            "irc.yml",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("fixed irc.yml:9: RL201 ephemeral-port"),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(mode(&victim), 0o600);
    let rule = d.path().join("irc.yml");
    assert!(fs::symlink_metadata(&rule).unwrap().file_type().is_file());
    assert!(fs::read_to_string(&rule)
        .unwrap()
        .contains("filter_ephemeral_port"));
    assert_eq!(mode(&rule), 0o640, "the rule keeps its permissions");
    // No temporary file is left behind.
    let stray = fs::read_dir(d.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "irc.yml")
        .collect::<Vec<_>>();
    assert!(stray.is_empty(), "{stray:?}");
}

#[cfg(unix)]
#[test]
fn fix_leaves_linked_rules_alone_and_goes_on_with_the_others() {
    let d = repo(&[("a_first.yml", IRC), ("z_last.yml", IRC)]);
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("shared.yml");
    fs::write(&target, IRC).unwrap();
    symlink(&target, &d.path().join("m_linked.yml"));
    let hard_target = outside.path().join("hard.yml");
    fs::write(&hard_target, IRC).unwrap();
    fs::hard_link(&hard_target, d.path().join("n_hard.yml")).unwrap();
    let (code, stdout, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "json",
            "a_first.yml",
            "m_linked.yml",
            "n_hard.yml",
            "z_last.yml",
        ],
    );
    // The files that could not be written make the run fail ...
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot write m_linked.yml: it is a symbolic link to"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot write n_hard.yml: it has 2 hard links"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not fixed m_linked.yml:9: RL201 ephemeral-port: not written"),
        "{stderr}"
    );
    // ... the link and its target are untouched, the hard link is not split ...
    assert!(fs::symlink_metadata(d.path().join("m_linked.yml"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_to_string(&target).unwrap(), IRC);
    assert_eq!(fs::read_to_string(&hard_target).unwrap(), IRC);
    assert_eq!(
        fs::read_to_string(d.path().join("n_hard.yml")).unwrap(),
        IRC
    );
    // ... and the files before and after them are fixed and linted.
    for f in ["a_first.yml", "z_last.yml"] {
        let text = fs::read_to_string(d.path().join(f)).unwrap();
        assert!(text.contains("filter_ephemeral_port"), "{f}: {text}");
        assert!(
            stderr.contains(&format!("fixed {f}:9: RL201 ephemeral-port")),
            "{stderr}"
        );
    }
    let ds = diagnostics(&stdout);
    assert!(codes_of(&ds, "z_last.yml").contains(&"RL201"), "{ds:?}");
    assert!(codes_of(&ds, "m_linked.yml").contains(&"RL201"), "{ds:?}");
}

// ----- reading outside the repository ----------------------------------------

const SECRETS: [&str; 3] = [
    "ghp_FAKEt0kenTHATmustNEVERbePRINTED",
    "AKIAFAKEFAKEFAKEFAKE",
    "hunter2-fake-password",
];

fn secrets_file() -> String {
    format!(
        "GITHUB_TOKEN={}\nAWS_ACCESS_KEY_ID={}\npassword: {}\n-----BEGIN OPENSSH PRIVATE KEY-----\n",
        SECRETS[0], SECRETS[1], SECRETS[2]
    )
}

fn assert_no_secret(out: &str) {
    for s in SECRETS {
        assert!(!out.contains(s), "secret `{s}` shown:\n{out}");
    }
}

#[test]
fn knowledge_extend_cannot_name_files_outside_the_configuration_directory() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join("secret.yml"), secrets_file()).unwrap();
    let abs = outer.path().join("secret.yml");
    let proj = outer.path().join("proj");
    fs::create_dir_all(&proj).unwrap();
    fs::write(proj.join("irc.yml"), IRC).unwrap();
    for extend in [
        abs.to_string_lossy().replace('\\', "/"),
        "/proc/self/environ".to_string(),
        "../secret.yml".to_string(),
        "sub/../../secret.yml".to_string(),
    ] {
        fs::write(
            proj.join("rulelint.toml"),
            format!("[knowledge]\nextend = [{extend:?}]\n"),
        )
        .unwrap();
        let out = rulelint(&proj)
            .env("GITHUB_TOKEN", SECRETS[0])
            .args(["check", "irc.yml"])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{extend}: {all}");
        assert!(all.contains("rulelint.toml:2:"), "{extend}: {all}");
        assert!(
            all.contains("absolute path is not allowed")
                || all.contains("leads out of the configuration's directory"),
            "{extend}: {all}"
        );
        assert_no_secret(&all);
    }
}

#[cfg(unix)]
#[test]
fn knowledge_extend_cannot_follow_a_link_out_and_never_shows_a_non_catalogue() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join("secret.yml"), secrets_file()).unwrap();
    let proj = outer.path().join("proj");
    fs::create_dir_all(proj.join("k")).unwrap();
    fs::write(proj.join("irc.yml"), IRC).unwrap();
    symlink(&outer.path().join("secret.yml"), &proj.join("k/team.yml"));
    fs::write(
        proj.join("k/config.json"),
        format!(
            "{{\"auths\": {{\"ghcr.io\": {{\"auth\": \"{}\"}}}}}}\n",
            SECRETS[1]
        ),
    )
    .unwrap();
    fs::write(proj.join("k/env.yml"), secrets_file()).unwrap();
    fs::write(
        proj.join("k/key.yml"),
        format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}\n",
            SECRETS[0], SECRETS[2]
        ),
    )
    .unwrap();
    fs::write(
        proj.join("k/nul.yml"),
        format!("A={}\0B={}\0", SECRETS[0], SECRETS[1]),
    )
    .unwrap();
    for (extend, expect) in [
        ("k/team.yml", "through a symbolic link"),
        ("k/config.json", "is not a rulelint catalogue"),
        ("k/env.yml", "is not a rulelint catalogue"),
        ("k/key.yml", "is not a rulelint catalogue"),
        ("k/nul.yml", "is not a rulelint catalogue"),
    ] {
        fs::write(
            proj.join("rulelint.toml"),
            format!("[knowledge]\nextend = [\"{extend}\"]\n"),
        )
        .unwrap();
        let (code, stdout, stderr) = run(&proj, &["check", "irc.yml"]);
        let all = format!("{stdout}{stderr}");
        assert_eq!(code, 2, "{extend}: {all}");
        assert!(all.contains(expect), "{extend}: {all}");
        assert_no_secret(&all);
    }
}

#[test]
fn configuration_above_the_repository_root_is_not_read() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(
        outer.path().join("rulelint.toml"),
        "ignore = [\"RL2\"]\n[knowledge]\nextend = [\"/etc/passwd\"]\n",
    )
    .unwrap();
    let checkout = outer.path().join("checkout");
    fs::create_dir_all(checkout.join(".git")).unwrap();
    fs::create_dir_all(checkout.join("rules")).unwrap();
    fs::write(checkout.join("rules/irc.yml"), IRC).unwrap();
    let (code, stdout, stderr) = run(
        &checkout.join("rules"),
        &["check", "--format", "json", "irc.yml"],
    );
    // Defaults: the RL201 findings are reported, the outer file is unread.
    assert_eq!(code, 1, "{stderr}");
    assert!(codes_of(&diagnostics(&stdout), "irc.yml").contains(&"RL201"));
    let (_, config, _) = run(&checkout, &["config"]);
    assert!(
        config.contains("defaults (no rulelint.toml found)"),
        "{config}"
    );
    // Without a repository the walk still finds it.
    fs::remove_dir(checkout.join(".git")).unwrap();
    let (code, _, stderr) = run(&checkout, &["check", "rules"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("absolute path is not allowed"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn a_discovered_configuration_linking_out_of_the_repository_is_not_read() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(outer.path().join("secret.toml"), secrets_file()).unwrap();
    let checkout = outer.path().join("checkout");
    fs::create_dir_all(checkout.join(".git")).unwrap();
    fs::write(checkout.join("irc.yml"), IRC).unwrap();
    symlink(
        &outer.path().join("secret.toml"),
        &checkout.join("rulelint.toml"),
    );
    let (code, stdout, stderr) = run(&checkout, &["check", "irc.yml"]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    assert!(
        stderr.contains("rulelint.toml: cannot read the configuration file: it is a link to a file outside the repository"),
        "{stderr}"
    );
    assert_no_secret(&format!("{stdout}{stderr}"));
    // A link to a file inside the repository is read.
    fs::write(checkout.join("shared.toml"), "ignore = [\"RL2\"]\n").unwrap();
    fs::remove_file(checkout.join("rulelint.toml")).unwrap();
    symlink(Path::new("shared.toml"), &checkout.join("rulelint.toml"));
    let (code, _, stderr) = run(&checkout, &["check", "irc.yml"]);
    assert_eq!(code, 0, "{stderr}");
}

// ----- bounded reading -------------------------------------------------------

#[test]
fn files_over_the_size_limit_are_refused_and_the_others_linted() {
    let big = format!("{IRC}{}", "# padding\n".repeat(500_000)); // ~5 MB
    let d = repo(&[("big.yml", &big), ("irc.yml", IRC)]);
    let (code, stdout, stderr) = run(d.path(), &["check", "--isolated", "--format", "json", "."]);
    assert_eq!(code, 2, "{stderr}");
    let ds = diagnostics(&stdout);
    assert_eq!(codes_of(&ds, "big.yml"), vec!["RL001"], "{ds:?}");
    let msg = &ds.iter().find(|d| d.0 == "big.yml").unwrap().2;
    assert!(
        msg.contains("larger than the 4 MB limit (max-file-size)"),
        "{msg}"
    );
    assert!(codes_of(&ds, "irc.yml").contains(&"RL201"));

    // Raised on the command line ...
    let (code, stdout, _) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--format",
            "json",
            "--max-file-size",
            "8MB",
            "big.yml",
        ],
    );
    assert_eq!(code, 1);
    assert!(codes_of(&diagnostics(&stdout), "big.yml").contains(&"RL201"));
    // ... or lowered in the configuration, where the flag still wins.
    fs::write(d.path().join("rulelint.toml"), "max-file-size = \"1KB\"\n").unwrap();
    let (_, stdout, _) = run(d.path(), &["check", "--format", "json", "irc.yml"]);
    assert_eq!(
        codes_of(&diagnostics(&stdout), "irc.yml"),
        vec!["RL201", "RL201"]
    );
    fs::write(d.path().join("rulelint.toml"), "max-file-size = 100\n").unwrap();
    let (code, stdout, _) = run(d.path(), &["check", "--format", "json", "irc.yml"]);
    assert_eq!(code, 2);
    let ds = diagnostics(&stdout);
    assert!(
        ds[0].2.contains("larger than the 100 bytes limit"),
        "{ds:?}"
    );
    let (code, _, _) = run(d.path(), &["check", "--max-file-size", "1MB", "irc.yml"]);
    assert_eq!(code, 1);
    // A bad size is a configuration error with its position.
    fs::write(d.path().join("rulelint.toml"), "max-file-size = \"lots\"\n").unwrap();
    let (code, _, stderr) = run(d.path(), &["check", "irc.yml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("rulelint.toml:1:17:"), "{stderr}");
    assert!(stderr.contains("`lots`"), "{stderr}");
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_are_refused_without_blocking() {
    let d = repo(&[("irc.yml", IRC), ("rules/ok.yml", IRC)]);
    let fifo = d.path().join("rules/rule.yml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let _socket =
        std::os::unix::net::UnixListener::bind(d.path().join("sock.yml")).expect("socket");
    let (code, stdout, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--fix",
            "--unsafe-fixes",
            "--format",
            "json",
            "rules/rule.yml",
            "sock.yml",
            "/dev/zero",
            "rules",
            "irc.yml",
        ],
    );
    assert_eq!(code, 2, "{stderr}");
    let ds = diagnostics(&stdout);
    assert_eq!(codes_of(&ds, "rules/rule.yml"), vec!["RL001"], "{ds:?}");
    let msg = &ds.iter().find(|d| d.0 == "rules/rule.yml").unwrap().2;
    assert!(
        msg.contains("FIFO (named pipe), not a regular file"),
        "{msg}"
    );
    assert_eq!(codes_of(&ds, "/dev/zero"), vec!["RL001"], "{ds:?}");
    let msg = &ds.iter().find(|d| d.0 == "sock.yml").unwrap().2;
    assert!(msg.contains("it is a socket, not a regular file"), "{msg}");
    assert_eq!(codes_of(&ds, "rules/ok.yml"), vec!["RL201"], "{ds:?}");
    assert!(fs::read_to_string(d.path().join("rules/ok.yml"))
        .unwrap()
        .contains("filter_ephemeral_port"));
    assert!(fs::read_to_string(d.path().join("irc.yml"))
        .unwrap()
        .contains("filter_ephemeral_port"));
    // A FIFO given as the baseline does not block either.
    let (code, _, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--baseline",
            "rules/rule.yml",
            "irc.yml",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read baseline rules/rule.yml: it is a FIFO (named pipe)"),
        "{stderr}"
    );
}

// ----- smaller ---------------------------------------------------------------

#[test]
fn ignore_files_hiding_every_rule_give_a_note_and_no_ignore_lints_them() {
    let d = repo(&[(".gitignore", "rules/\n"), ("rules/irc.yml", IRC)]);
    let (code, stdout, stderr) = run(d.path(), &["check", "--isolated", "--format", "json", "."]);
    // No file checked at all: exit 2, with the reason on stderr.
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no rule file checked"), "{stderr}");
    assert!(diagnostics(&stdout).is_empty());
    assert!(
        stderr.contains(". holds 1 rule file that .gitignore or .ignore files hide (./rules/irc.yml); pass --no-ignore to lint it"),
        "{stderr}"
    );
    let (code, stdout, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--format",
            "json",
            "--no-ignore",
            ".",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("--no-ignore"), "{stderr}");
    assert!(codes_of(&diagnostics(&stdout), "rules/irc.yml").contains(&"RL201"));
}

#[test]
fn baselines_with_a_byte_order_mark_or_huge_counts_are_read() {
    let d = repo(&[("irc.yml", IRC)]);
    let (code, _, stderr) = run(
        d.path(),
        &[
            "check",
            "--isolated",
            "--write-baseline",
            "b.json",
            "irc.yml",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let text = fs::read_to_string(d.path().join("b.json")).unwrap();
    let max = u64::MAX.to_string();
    let huge = text.replace("\"count\": 1", &format!("\"count\": {max}"));
    // Two copies of each entry: their counts add up past u64::MAX.
    let v: serde_json::Value = serde_json::from_str(&huge).unwrap();
    let mut doubled = v.clone();
    let entries = v["entries"].as_array().unwrap();
    doubled["entries"] = serde_json::Value::Array(entries.iter().chain(entries).cloned().collect());
    let with_bom = format!(
        "\u{feff}{}",
        serde_json::to_string_pretty(&doubled).unwrap()
    );
    fs::write(d.path().join("b.json"), with_bom).unwrap();
    let out = rulelint(d.path())
        .args([
            "check",
            "--isolated",
            "--format",
            "json",
            "--baseline",
            "b.json",
            "irc.yml",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout_json(&out)["diagnostics"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(
        stderr.contains(&format!(
            "{} findings recorded in the baseline no longer occur",
            usize::MAX
        )),
        "{stderr}"
    );
}

#[test]
fn cr_only_line_endings_give_the_right_lines() {
    let d = repo(&[("irc.yml", &IRC.replace('\n', "\r"))]);
    let (code, stdout, stderr) = run(
        d.path(),
        &["check", "--isolated", "--format", "json", "irc.yml"],
    );
    assert_eq!(code, 1, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let lines: Vec<u64> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["span"]["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![9, 9], "{stdout}");
}
