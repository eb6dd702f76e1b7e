//! The catalogue schema's shared pieces: every pattern file is loaded
//! without being named in code, named value sets (`$name`), value globs and
//! anchored regular expressions, and typed environment facts.

use rulelint::knowledge::facts::{check_value, fact_kinds, FactType};
use rulelint::knowledge::{Knowledge, BUILTIN_PATTERN_FILES, BUILTIN_SET_FILES};
use rulelint::{Diagnostic, LintOptions, SourceFile};
use std::path::Path;

fn builtin() -> Knowledge {
    Knowledge::builtin().unwrap_or_else(|es| {
        panic!(
            "{}",
            es.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn data(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/catalogue")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn lint(k: &Knowledge, name: &str, text: &str) -> Vec<Diagnostic> {
    let opts = LintOptions::default();
    rulelint::lint_source(
        k,
        &opts,
        SourceFile::new(name, text.to_string()),
        name,
        true,
    )
    .diagnostics
}

#[test]
fn every_pattern_file_under_knowledge_is_embedded() {
    // The files on disk that hold `patterns:` are exactly the embedded ones.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut on_disk = Vec::new();
    for dir in ["knowledge", "knowledge/patterns"] {
        let Ok(rd) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "yml") {
                let text = std::fs::read_to_string(&p).unwrap();
                if text.lines().any(|l| l.starts_with("patterns:")) {
                    on_disk.push(format!("{dir}/{}", e.file_name().to_string_lossy()));
                }
            }
        }
    }
    on_disk.sort();
    // Load order: the files directly under knowledge/, then patterns/.
    let mut embedded: Vec<String> = BUILTIN_PATTERN_FILES
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let top = embedded
        .iter()
        .filter(|n| !n.contains("/patterns/"))
        .count();
    assert!(embedded[top..].iter().all(|n| n.contains("/patterns/")));
    embedded.sort();
    assert_eq!(embedded, on_disk);
    assert!(embedded.iter().any(|n| n == "knowledge/process.yml"));
    assert!(embedded
        .iter()
        .any(|n| n.starts_with("knowledge/patterns/")));
    // Data files keep their roles: none of them is loaded as patterns.
    for data in ["fields.yml", "facts.yml", "intent.yml", "sets.yml"] {
        assert!(!embedded.iter().any(|n| n.ends_with(data)), "{data}");
    }
    assert!(BUILTIN_SET_FILES
        .iter()
        .any(|(n, _)| *n == "knowledge/sets.yml"));
}

#[test]
fn builtin_sets_are_described_and_referenced_by_evidence() {
    let k = builtin();
    assert!(k.sets.len() >= 4, "{}", k.sets.len());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, set) in &k.sets {
        assert!(!set.values.is_empty(), "{name}");
        if let Some(ev) = set.provenance.strip_prefix("knowledge/evidence/") {
            let path = root.join("knowledge/evidence").join(ev);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("set `{name}`: {}: {e}", path.display()));
            // Every value of the set is backed by at least one corpus rule.
            for v in &set.values {
                let backed = text.lines().any(|l| {
                    l.split('\t')
                        .next()
                        .is_some_and(|x| x.eq_ignore_ascii_case(v))
                });
                assert!(backed, "set `{name}`: `{v}` has no evidence row in {ev}");
            }
        }
    }
}

#[test]
fn a_team_catalogue_uses_sets_globs_and_regex() {
    let mut k = builtin();
    let before = k.patterns.len();
    k.add_patterns("team_sets_globs.yml", &data("team_sets_globs.yml"))
        .unwrap_or_else(|es| panic!("{es:?}"));
    assert_eq!(k.patterns.len(), before + 1);
    let p = k.pattern("team-updater-tasks").unwrap();
    // `$team_updaters` expanded everywhere it is named.
    assert_eq!(
        p.exclusion.fields[0].values,
        vec!["acmeupdate.exe", "acme-agent.exe"]
    );
    assert_eq!(
        p.handled[0].processes,
        vec!["acmeupdate.exe", "acme-agent.exe"]
    );

    let rule = |task: &str| {
        format!(
            "title: Task\nid: 5d7a1c2e-0b7e-4f0e-9a55-0c1d2e3f4a5b\nstatus: test\n\
             logsource:\n    product: windows\n    service: security\n\
             detection:\n    selection:\n        EventID: 4698\n        TaskName: '{task}'\n\
             \x20   condition: selection\nlevel: medium\n"
        )
    };
    let hits = |text: &str| {
        lint(&k, "task.yml", text)
            .into_iter()
            .filter(|d| d.pattern.as_deref() == Some("team-updater-tasks"))
            .count()
    };
    // The glob matches the value with its own wildcards removed, any case.
    assert_eq!(hits(&rule("\\acmecorp\\Nightly*")), 1);
    assert_eq!(hits(&rule("*AcmeDailyUpdateTask")), 1);
    assert_eq!(hits(&rule("\\Microsoft\\Windows\\Defrag")), 0);
    // Anchored: a longer value with the regex's text inside does not match.
    let op = |action: &str| {
        format!(
            "[metadata]\ncreation_date = \"2024/01/01\"\n\n[rule]\nauthor = [\"x\"]\n\
             description = \"d\"\nname = \"n\"\nrisk_score = 21\nrule_id = \"5d7a1c2e-0b7e-4f0e-9a55-0c1d2e3f4a5c\"\n\
             severity = \"low\"\ntype = \"query\"\nlanguage = \"kuery\"\nindex = [\"logs-azure*\"]\n\
             query = '''\nevent.action: \"{action}\"\n'''\n"
        )
    };
    let kql_hits = |text: &str| {
        lint(&k, "op.toml", text)
            .into_iter()
            .filter(|d| d.pattern.as_deref() == Some("team-updater-tasks"))
            .count()
    };
    assert_eq!(kql_hits(&op("Add member to role")), 1);
    assert_eq!(
        kql_hits(&op("Add eligible member to role in PIM requested")),
        1
    );
    assert_eq!(kql_hits(&op("Remove member from role")), 0);
    assert_eq!(kql_hits(&op("Bulk add member to role")), 0);
}

#[test]
fn an_unknown_set_is_an_error_at_its_position() {
    let mut k = builtin();
    let text = data("unknown_set.yml");
    let errs = k.add_patterns("unknown_set.yml", &text).unwrap_err();
    let e = errs
        .iter()
        .find(|e| e.message.contains("unknown value set `$team_updatres`"))
        .unwrap_or_else(|| panic!("{errs:?}"));
    assert_eq!((e.line, e.column), (Some(9), Some(21)), "{e}");
    assert!(e.to_string().starts_with("unknown_set.yml:9:21:"), "{e}");
    assert!(k.pattern("team-unknown-set").is_none());
}

#[test]
fn set_definitions_are_validated() {
    let mut k = builtin();
    let taken = k.sets.keys().next().unwrap().clone();
    let text = format!(
        "sets:\n  {taken}:\n    description: again\n    provenance: here\n    values: [x]\n  \
         Bad-Name:\n    description: d\n    provenance: p\n    values: [$other]\npatterns: []\n"
    );
    let errs = k.add_patterns("sets.yml", &text).unwrap_err();
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let all = all.join("\n");
    assert!(
        all.contains("sets.yml:2:3: set `") && all.contains("defined twice"),
        "{all}"
    );
    assert!(all.contains("snake_case"), "{all}");
    assert!(all.contains("cannot name another set"), "{all}");
}

#[test]
fn a_bad_regex_or_an_all_matching_glob_is_refused_at_load() {
    let mut k = builtin();
    let text = "patterns:\n  - id: team-bad-regex\n    title: t\n    rationale: r\n    benign: [x]\n    \
                trigger:\n      - concepts: [event.action]\n        regex: ['add (member']\n      \
                - concepts: [task.name]\n        globs: ['**']\n    exclusion:\n      summary: s\n      \
                name: x\n      fields:\n        - concept: user.name\n          placeholder: '<x>'\n";
    let errs = k.add_patterns("team.yml", text).unwrap_err();
    let all: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let all = all.join("\n");
    assert!(
        all.contains(
            "team.yml:2:9: pattern `team-bad-regex`: regex `add (member` does not compile"
        ),
        "{all}"
    );
    assert!(all.contains("glob `**` matches every value"), "{all}");
}

#[test]
fn facts_are_typed_and_values_checked_by_type() {
    use FactType::*;
    assert_eq!(check_value(Cidr, "10.0.0.53").unwrap(), "10.0.0.53/32");
    assert_eq!(check_value(Cidr, "fd00::1").unwrap(), "fd00::1/128");
    assert_eq!(check_value(Cidr, " 10.0.0.0/8 ").unwrap(), "10.0.0.0/8");
    assert!(check_value(Cidr, "dns.corp").is_err());
    assert!(check_value(Address, "10.0.0.0/8")
        .unwrap_err()
        .contains("range"));
    assert_eq!(check_value(Address, "10.0.0.1").unwrap(), "10.0.0.1");
    assert!(check_value(Arn, "arn:aws:iam::123456789012:role/terraform").is_ok());
    assert!(check_value(Arn, "terraform").is_err());
    assert!(check_value(Arn, "arn:aws:iam").is_err());
    assert!(check_value(AppId, "00000003-0000-0000-c000-000000000000").is_ok());
    assert!(check_value(AppId, "0oa1b2c3d4EXAMPLE").is_ok());
    assert!(check_value(AppId, "my app").is_err());
    assert!(check_value(Domain, "*.example.com").is_ok());
    assert!(check_value(Domain, "example.com.").is_ok());
    assert!(check_value(Domain, "10.0.0.1").is_err());
    assert!(check_value(Domain, "localhost").is_err());
    assert!(check_value(Domain, "bad_label.com").is_err());
    assert!(check_value(Name, "svc backup").is_ok());
    assert!(check_value(Name, "  ").is_err());

    let kinds = fact_kinds(&builtin());
    let kind = |n: &str| kinds.iter().find(|(x, _)| x == n).map(|(_, t)| *t);
    assert_eq!(kind("dns_servers"), Some(Cidr));
    assert_eq!(kind("service_accounts"), Some(Name));
    assert_eq!(kind("iac_role_arns"), Some(Arn));
    assert_eq!(kind("sanctioned_app_ids"), Some(AppId));
    assert_eq!(kind("sanctioned_rmm_domains"), Some(Domain));
}

#[test]
fn a_value_of_the_wrong_type_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rulelint.toml"),
        "[environment]\nsanctioned_rmm_domains = [\"rmm.example.com\", \"10.0.0.1\"]\n\
         iac_role_arns = [\"terraform\"]\ndns_servers = [\"10.0.0.53\"]\n",
    )
    .unwrap();
    let out = assert_cmd::Command::cargo_bin("rulelint")
        .unwrap()
        .current_dir(dir.path())
        .arg("config")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let domain_line = rulelint::knowledge::facts::declared_at("sanctioned_rmm_domains").unwrap();
    assert!(
        err.contains("rulelint.toml:2:47:")
            && err.contains(&format!(
                "`10.0.0.1` in `sanctioned_rmm_domains` is not a DNS name: \
                 `sanctioned_rmm_domains` is a domain fact, declared at {domain_line}"
            )),
        "{err}"
    );
    assert!(
        err.contains("rulelint.toml:3:19:")
            && err.contains("`terraform` in `iac_role_arns` is not an ARN"),
        "{err}"
    );
    // The good values are not reported.
    assert!(!err.contains("rmm.example.com` in"), "{err}");
    assert!(!err.contains("10.0.0.53"), "{err}");
}

#[test]
fn explain_names_glob_triggers() {
    let out = assert_cmd::Command::cargo_bin("rulelint")
        .unwrap()
        .args(["explain", "installer-updater"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("registry.path is matching glob *\\currentcontrolset\\services\\"),
        "{text}"
    );
    assert!(!text.contains("absent or empty"), "{text}");
}
