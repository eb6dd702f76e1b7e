//! What rulelint prints cannot be steered by the files it reads: no
//! terminal escapes, no workflow commands on stderr, no live Markdown, no
//! lost report on a very long line, file names shown as they are, bounded
//! snippets and summaries.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn rulelint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("rulelint").expect("binary");
    c.current_dir(dir).env_remove("NO_COLOR").arg("--isolated");
    c
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = rulelint(dir).args(args).output().expect("run");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// A Sigma rule on IRC ports (two findings) with `title` and an extra
/// value in the selection.
fn irc_rule(title: &str, value: &str) -> String {
    format!(
        "title: {title}\nid: 3faac7ff-0cd0-4f69-a456-b9012b2f61a7\nstatus: experimental\nlogsource:\n    category: network_connection\n    product: windows\ndetection:\n    selection:\n        Image: {value}\n        DestinationPort:\n            - 6667\n    condition: selection\nlevel: medium\nfalsepositives:\n    - Lab traffic seen in tests\n"
    )
}

/// Characters that must never reach a terminal raw.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)
        })
        .collect()
}

/// The escape sequences in colour output are only SGR colour codes.
fn only_colour_codes(s: &str) -> bool {
    let mut rest = s;
    while let Some(i) = rest.find('\u{1b}') {
        let seq = &rest[i + 1..];
        let Some(body) = seq.strip_prefix('[') else {
            return false;
        };
        let end = body
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(body.len());
        if !body[end..].starts_with('m') {
            return false;
        }
        rest = &body[end + 1..];
    }
    !s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\u{1b}'))
}

/// Escapes written as YAML escapes: the decoded title, modifier and value
/// hold ESC, BEL, C1 and bidi characters, the file itself none.
const EVIL_RULE: &str = r#"title: "x\e]52;c;ZXZpbA==\a\e]0;owned\a\e[2J\u009b31m\u202egpj.exe\by"
id: 3faac7ff-0cd0-4f69-a456-b9012b2f61a7
status: experimental
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        "Image|en\e]0;owned\adswith": "\e]52;c;QQ==\a"
        DestinationPort:
            - 6667
    condition: selection
level: medium
"#;

#[test]
fn terminal_escapes_in_rules_and_names_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "a\u{1b}[2Jb\u{202e}.yml";
    fs::write(dir.path().join(name), EVIL_RULE).unwrap();
    // Raw escapes in the file: a parse error whose snippet holds them.
    fs::write(
        dir.path().join("broken.yml"),
        "title: 'x\u{1b}]52;c;ZXZpbA==\u{7}\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{202e}gpj.exe\u{8}y'\nlogsource:\n    category: x\ndetection:\n    sel:\n        a: 1\n    condition: sel\n",
    )
    .unwrap();
    let plain = run(dir.path(), &["check", "--color", "never", "."]);
    assert_eq!(plain.code, 2, "{}{}", plain.stdout, plain.stderr);
    assert_eq!(
        raw_controls(&plain.stdout),
        Vec::<char>::new(),
        "{}",
        plain.stdout
    );
    assert_eq!(raw_controls(&plain.stderr), Vec::<char>::new());
    // The findings are all there, with the escapes visible.
    let out = &plain.stdout;
    assert!(
        out.contains("a\\x1b[2Jb\\u{202e}.yml:9:16  error[RL005]"),
        "{out}"
    );
    assert!(
        out.contains("unknown modifier `en\\x1b]0;owned\\x07dswith`"),
        "{out}"
    );
    assert!(out.contains("broken.yml:1:10"), "{out}");
    assert!(
        out.contains(
            "\\x1b]52;c;ZXZpbA==\\x07\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u{202e}gpj.exe\\x08y"
        ),
        "{out}"
    );
    assert!(out.contains("2 errors"), "{out}");

    let colour = run(dir.path(), &["check", "--color", "always", "."]);
    assert!(only_colour_codes(&colour.stdout), "{:?}", colour.stdout);
    assert!(colour.stdout.contains("\\x1b]0;owned\\x07"));
    let quiet = run(dir.path(), &["check", "-q", "--color", "never", "."]);
    assert_eq!(raw_controls(&quiet.stdout), Vec::<char>::new());
    // The other formats carry the text escaped in their own way (JSON
    // strings escape C0 controls; the text is data there, not terminal
    // output).
    for format in ["github", "markdown", "json", "sarif"] {
        let r = run(dir.path(), &["check", "--format", format, "."]);
        let raw: Vec<char> = raw_controls(&r.stdout)
            .into_iter()
            .filter(|c| matches!(format, "github" | "markdown") || (*c as u32) < 0x20)
            .collect();
        assert_eq!(raw, Vec::<char>::new(), "{format}: {}", r.stdout);
        assert!(r.stdout.contains("owned"), "{format}");
    }
}

/// A baseline whose entries no longer occur, with file names and values
/// that would be workflow commands at the start of a line.
#[test]
fn stderr_never_starts_a_workflow_command() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.yml"), irc_rule("Clean", "'C:\\x.exe'")).unwrap();
    let baseline = serde_json::json!({
        "version": 1,
        "entries": [
            {"file": "::add-mask::s3cr3t", "code": "RL201", "pattern": "irc-client",
             "key": "k|::stop-commands::tok", "count": 1},
            {"file": "x\n::set-output name=a::b", "code": "RL201", "pattern": null,
             "key": "##[add-mask]hidden\u{1b}]52;c;QQ==\u{7}", "count": 2},
            {"file": "\u{a0}::warning::fake", "code": "RL201", "pattern": null,
             "key": "v", "count": 1}
        ]
    });
    fs::write(dir.path().join("base.json"), baseline.to_string()).unwrap();
    // An unknown configuration key is reported on stderr as well.
    fs::write(
        dir.path().join("bad.toml"),
        "\"::add-mask::x\\u001b[2J\" = 1\n",
    )
    .unwrap();
    let mut outs = Vec::new();
    for format in ["github", "human"] {
        let r = run(
            dir.path(),
            &[
                "check",
                "--format",
                format,
                "--baseline",
                "base.json",
                "a.yml",
            ],
        );
        assert!(r.stderr.contains("no longer occur"), "{}", r.stderr);
        assert!(r.stderr.contains("add-mask::s3cr3t"), "{}", r.stderr);
        outs.push(r.stderr);
    }
    let mut cfg = Command::cargo_bin("rulelint").unwrap();
    let r = cfg
        .current_dir(dir.path())
        .args(["--config", "bad.toml", "check", "a.yml"])
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    let cfg_err = String::from_utf8(r.stderr).unwrap();
    assert!(cfg_err.contains("unknown key"), "{cfg_err}");
    outs.push(cfg_err);
    for err in &outs {
        assert_eq!(raw_controls(err), Vec::<char>::new(), "{err}");
        for line in err.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line:?}");
            assert!(!line.contains("##["), "{line:?}");
        }
    }
}

#[test]
fn a_finding_past_column_65535_keeps_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let pad = "a".repeat(70_000);
    let rule = format!(
        "title: Long\nid: 1\nlogsource:\n    category: network_connection\ndetection:\n    selection: {{Comment: '{pad}', DestinationPort: 6667}}\n    condition: selection\n"
    );
    fs::write(dir.path().join("long.yml"), rule).unwrap();
    fs::write(dir.path().join("short.yml"), irc_rule("Short", "'x.exe'")).unwrap();
    let r = run(dir.path(), &["check", "--color", "never", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("long.yml:6:70047"), "{}", r.stdout);
    assert!(r.stdout.contains("short.yml:11:15"), "{}", r.stdout);
    assert!(r.stdout.contains("findings in 2 files"), "{}", r.stdout);
    // The long line is shown as a window around the value.
    let shown: Vec<&str> = r.stdout.lines().filter(|l| l.contains("6667}")).collect();
    assert!(!shown.is_empty(), "{}", r.stdout);
    for l in &shown {
        assert!(l.contains('…'), "{l}");
        assert!(l.chars().count() <= 100, "{} chars", l.chars().count());
    }
    assert!(r.stdout.lines().all(|l| l.chars().count() < 1_100));
}

/// A Splunk search on one line of about 2,000 characters: the finding is
/// shown in a window that fits a terminal.
#[test]
fn long_splunk_searches_are_windowed() {
    let dir = tempfile::tempdir().unwrap();
    let filler: String = (0..60)
        .map(|i| format!("Processes.process!=\"*skip{i:02}*\" "))
        .collect();
    let search = format!(
        "| tstats count from datamodel=Endpoint.Processes where {filler}Processes.process_name IN (\"nmap\", \"masscan\") by Processes.dest Processes.user | `x_filter`"
    );
    assert!(search.len() > 1_500);
    let rule = format!(
        "name: Scanner\nid: 2a2dadf0-162b-406d-b30f-357d47929609\nversion: 1\ndate: '2025-01-20'\nauthor: t\ntype: TTP\nstatus: production\ndescription: d\ndata_source:\n- Sysmon EventID 1\nsearch: '{search}'\nhow_to_implement: x\nknown_false_positives: x\nreferences: []\ntags:\n  analytic_story:\n  - x\n  asset_type: Endpoint\n  security_domain: endpoint\n"
    );
    fs::write(dir.path().join("scan.yml"), rule).unwrap();
    // The filler's exclusions are RL303 findings of their own; this test
    // is about the RL201 finding far along the line.
    let r = run(
        dir.path(),
        &["check", "--color", "never", "--ignore", "RL303", "scan.yml"],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let header = r.stdout.lines().next().unwrap();
    assert!(header.starts_with("scan.yml:11:"), "{header}");
    let col: usize = header
        .split(':')
        .nth(2)
        .and_then(|c| c.split_whitespace().next())
        .and_then(|c| c.parse().ok())
        .unwrap();
    assert!(col > 1_500, "{header}");
    let snippet: Vec<&str> = r
        .stdout
        .lines()
        .take_while(|l| !l.starts_with("  = note"))
        .skip(1)
        .collect();
    assert!(
        snippet.iter().any(|l| l.contains("\"nmap\"")),
        "{}",
        r.stdout
    );
    assert!(snippet.iter().any(|l| l.contains('…')), "{}", r.stdout);
    for l in &snippet {
        assert!(l.chars().count() <= 100, "{l}");
    }
    // The header points at the real column.
    assert!(
        snippet[0].contains(&format!("scan.yml:11:{col}")),
        "{}",
        snippet[0]
    );
}

/// Each snippet copies only the lines it shows: the report of a finding in
/// a large file is as long as in a small one.
#[test]
fn snippets_do_not_grow_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let small = irc_rule("T", "'x.exe'");
    let big = small.replace(
        "level: medium\n",
        &format!("level: medium\n{}", "# filler line\n".repeat(40_000)),
    );
    fs::write(dir.path().join("small.yml"), &small).unwrap();
    fs::write(dir.path().join("big.yml"), &big).unwrap();
    let a = run(dir.path(), &["check", "--color", "never", "small.yml"]);
    let b = run(dir.path(), &["check", "--color", "never", "big.yml"]);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains(" ms"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&a.stdout).replace("small.yml", "F"),
        strip(&b.stdout).replace("big.yml", "F")
    );
}

#[test]
fn file_names_are_kept_and_uris_encoded() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join(".git")).unwrap();
    fs::create_dir(dir.path().join("rules")).unwrap();
    let names = ["rules\\a.yml", "rules/sp ace%#?é.yml"];
    for n in names {
        fs::write(dir.path().join(n), irc_rule("T", "'x.exe'")).unwrap();
    }
    if cfg!(windows) {
        return;
    }
    let j = run(dir.path(), &["check", "--format", "json", "."]);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    let files: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert!(files.contains(&"rules\\a.yml"), "{files:?}");
    assert!(files.contains(&"rules/sp ace%#?é.yml"), "{files:?}");
    assert!(!files.contains(&"rules/a.yml"));

    let h = run(dir.path(), &["check", "--color", "never", "rules\\a.yml"]);
    assert!(h.stdout.starts_with("rules\\a.yml:11:15"), "{}", h.stdout);
    let gh = run(dir.path(), &["check", "--format", "github", "rules\\a.yml"]);
    assert!(gh.stdout.contains("file=rules\\a.yml,"), "{}", gh.stdout);

    let s = run(dir.path(), &["check", "--format", "sarif", "."]);
    let v: Value = serde_json::from_str(&s.stdout).unwrap();
    let uris: Vec<&str> = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"rules%5Ca.yml"), "{uris:?}");
    assert!(
        uris.contains(&"rules/sp%20ace%25%23%3F%C3%A9.yml"),
        "{uris:?}"
    );
}

/// Events of a CommonMark parse that would be live in a pull request
/// comment: HTML, links and images, and text (outside code) that GitHub
/// turns into a mention or a link.
fn live_markdown(md: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    let mut bad = Vec::new();
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match ev {
            Event::Html(h) | Event::InlineHtml(h) => bad.push(format!("html {h}")),
            Event::Start(Tag::Link { dest_url, .. }) => bad.push(format!("link {dest_url}")),
            Event::Start(Tag::Image { dest_url, .. }) => bad.push(format!("image {dest_url}")),
            Event::Text(t) => {
                let l = t.to_ascii_lowercase();
                if t.contains('@') || l.contains("://") || l.contains("www.") {
                    bad.push(format!("text {t}"));
                }
            }
            _ => {}
        }
    }
    bad
}

#[test]
fn markdown_cannot_be_steered() {
    let dir = tempfile::tempdir().unwrap();
    let title = "\"x\\n\\n<img src=https://evil.example/p.png> @octocat [click](https://evil.example) www.evil.example\"";
    let value = "'a`` <img src=x onerror=alert(1)> @org/team ``b'";
    fs::write(dir.path().join("a.yml"), irc_rule(title, value)).unwrap();
    let stale = serde_json::json!({
        "version": 1,
        "entries": [{"file": "<img src=x>\n\n@octocat", "code": "RL201",
                     "pattern": "[x](https://evil.example)", "key": "k|`` @admin ``", "count": 1}]
    });
    fs::write(dir.path().join("base.json"), stale.to_string()).unwrap();
    let r = run(
        dir.path(),
        &[
            "check",
            "--format",
            "markdown",
            "--baseline",
            "base.json",
            "a.yml",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        live_markdown(&r.stdout),
        Vec::<String>::new(),
        "{}",
        r.stdout
    );
    // Everything is still there, as text.
    assert!(
        r.stdout.contains("<img src=https://evil.example/p.png>"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Fixed since the baseline"));
    assert!(r.stdout.contains("@octocat"));
}

#[test]
fn markdown_values_and_document_are_capped() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "v".repeat(100_000);
    fs::write(
        dir.path().join("a.yml"),
        irc_rule(&huge, &format!("'{huge}'")),
    )
    .unwrap();
    for i in 0..300 {
        fs::write(
            dir.path().join(format!("r{i:03}.yml")),
            irc_rule(&format!("Rule {i}"), "'x.exe'"),
        )
        .unwrap();
    }
    let r = run(dir.path(), &["check", "--format", "markdown", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.chars().count() < 65_536, "{}", r.stdout.len());
    assert!(
        r.stdout.contains("more characters)"),
        "a value was cut silently"
    );
    assert!(
        r.stdout.contains("_Not shown, to keep this summary below"),
        "{}",
        &r.stdout[r.stdout.len() - 500..]
    );
    assert!(r.stdout.contains("findings"));
}

/// The Kibana exception sentence is prose after the code block, not part
/// of the query to paste.
#[test]
fn markdown_prose_stays_out_of_code_blocks() {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let r = run(
        root,
        &[
            "check",
            "--format",
            "markdown",
            "rules/elastic/linux_find_suid_binaries.toml",
        ],
    );
    let md = r.stdout;
    let mut in_code = None;
    let mut blocks = Vec::new();
    let mut prose = String::new();
    for ev in Parser::new(&md) {
        match ev {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => {
                in_code = Some((lang.to_string(), String::new()))
            }
            Event::End(TagEnd::CodeBlock) => blocks.extend(in_code.take()),
            Event::Text(t) | Event::Code(t) => match &mut in_code {
                Some((_, body)) => body.push_str(&t),
                None => prose.push_str(&t),
            },
            _ => {}
        }
    }
    let eql: Vec<_> = blocks.iter().filter(|(l, _)| l == "eql").collect();
    assert_eq!(eql.len(), 1, "{md}");
    assert!(
        eql[0].1.starts_with("and not ?process.parent.executable"),
        "{md}"
    );
    assert!(!eql[0].1.contains("Kibana"), "{md}");
    assert!(prose.contains("Kibana rule exception"), "{md}");
}

/// A team catalogue (from the repository under review) with escapes and
/// Markdown in its prose: `explain`, `patterns` and the reports keep them
/// inert.
#[test]
fn team_catalogue_text_is_inert() {
    let dir = tempfile::tempdir().unwrap();
    let team = "patterns:
  - id: team-irc-bouncer
    title: \"Bouncer \\e]0;owned\\a <img src=x> @octocat\"
    rationale: \"Runs \\e[2J a bouncer. [x](https://evil.example) @org/team\"
    benign: [\"the \\u202e bouncer\"]
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
    fs::create_dir(dir.path().join("knowledge")).unwrap();
    fs::write(dir.path().join("knowledge/team.yml"), team).unwrap();
    fs::write(
        dir.path().join("rulelint.toml"),
        "[knowledge]\nextend = [\"knowledge/team.yml\"]\n",
    )
    .unwrap();
    fs::write(dir.path().join("irc.yml"), irc_rule("T", "'x.exe'")).unwrap();
    let cmd = |args: &[&str]| {
        let out = Command::cargo_bin("rulelint")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (code, explain, err) = cmd(&["explain", "team-irc-bouncer"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(explain.contains("Bouncer \\x1b]0;owned\\x07"), "{explain}");
    let (_, list, _) = cmd(&["patterns"]);
    assert!(list.contains("team-irc-bouncer"));
    let (code, human, _) = cmd(&["check", "--color", "never", "irc.yml"]);
    assert_eq!(code, Some(1));
    assert!(human.contains("team-irc-bouncer"), "{human}");
    for out in [&explain, &list, &human] {
        assert_eq!(raw_controls(out), Vec::<char>::new(), "{out}");
    }
    let (_, md, _) = cmd(&["check", "--format", "markdown", "irc.yml"]);
    assert!(md.contains("team-irc-bouncer"), "{md}");
    assert_eq!(live_markdown(&md), Vec::<String>::new(), "{md}");
}

#[test]
fn stdout_for_people_never_starts_a_workflow_command() {
    // A file name and a value that would each be a workflow command at the
    // start of a line of a CI log.
    let dir = tempfile::tempdir().unwrap();
    let name = "::add-mask::s3cr3t.yml";
    fs::write(
        dir.path().join(name),
        irc_rule("::stop-commands::tok", "'::add-mask::v'"),
    )
    .unwrap();
    for format in ["human", "markdown"] {
        let r = run(dir.path(), &["check", "--format", format, name]);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(r.stdout.contains("add-mask"), "{format}: {}", r.stdout);
        for line in r.stdout.lines() {
            assert!(!line.trim_start().starts_with("::"), "{format}: {line:?}");
        }
    }
}
