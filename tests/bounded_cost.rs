//! Small valid rules must not make the parsers grow faster than the input:
//! the shapes of `tests/common/shapes.rs` at sizes that once took
//! gigabytes, checked by the structure they produce (node counts, shared
//! parts, the diagnostic of a limit), never by time.

#[path = "common/shapes.rs"]
mod shapes;

use rulelint::format;
use rulelint::query::spl;
use rulelint::rule::{Format, Logic, ParsedFile};
use rulelint::source::SourceFile;

fn parse(format: Format, text: String, name: &str) -> ParsedFile {
    format::parse(format, &SourceFile::new(name, text))
}

fn only_logic(p: &ParsedFile) -> &Logic {
    assert_eq!(p.rules.len(), 1, "issues: {:?}", p.issues);
    p.rules[0].logic.as_ref().expect("the rule has logic")
}

fn errors(p: &ParsedFile) -> Vec<(&str, &str)> {
    p.issues
        .iter()
        .filter(|i| i.severity == rulelint::Severity::Error)
        .map(|i| (i.code, i.message.as_str()))
        .collect()
}

/// The search of a generated Splunk rule, as written.
fn search_of(rule: &str) -> String {
    let line = rule
        .lines()
        .find_map(|l| l.strip_prefix("search: '"))
        .expect("a search line");
    line.trim_end_matches('\'').to_string()
}

#[test]
fn ten_thousand_evals_keep_every_stage_environment() {
    let n = 10_000;
    let search = search_of(&shapes::spl_eval(n));
    let a = spl::analyze(&search);
    assert!(a.issues.iter().all(|i| i.code != "RL008"), "{:?}", a.issues);
    // The base search, n evals, the where and the filter macro.
    assert_eq!(a.stages.len(), n + 3);
    // Each stage sees exactly the names bound before it, all resolving to
    // the event field f0 through the chain.
    for i in [1, 2, 500, 9_999, n] {
        let env = &a.stages[i].env;
        assert_eq!(env.known.len(), i - 1, "before eval {i}");
        assert!(!env.known.contains_key(&format!("f{i}")));
    }
    let (raw, derived, mods) = a.end_env.resolve(&format!("f{n}"));
    assert_eq!((raw.as_str(), derived), ("f0", false));
    // lower() applied 5,000 times is one `lower`.
    assert_eq!(mods, vec!["lower".to_string()]);
}

#[test]
fn ten_thousand_renames_follow_the_chain() {
    let n = 10_000;
    let search = search_of(&shapes::spl_rename(n));
    let a = spl::analyze(&search);
    assert_eq!(a.stages.len(), n + 2);
    assert_eq!(a.end_env.resolve(&format!("f{n}")).0, "f0");
    assert_eq!(a.end_env.name_for("f0").as_deref(), Some(&*format!("f{n}")));
    // Halfway, the older names are renamed away and the newer not yet bound.
    let mid = &a.stages[n / 2].env;
    assert!(!mid.has("f0"));
    assert_eq!(
        mid.name_for("f0").as_deref(),
        Some(&*format!("f{}", n / 2 - 1))
    );
}

#[test]
fn a_selection_named_many_times_is_held_once() {
    let n = 20_000;
    let p = parse(Format::Sigma, shapes::sigma_mentions(n), "m.yml");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let logic = only_logic(&p);
    // The selection (n / 10 comparisons, each a node) exists twice (the
    // first mention and the shared copy); each further mention is one node.
    let selection = n / 10 + 1;
    let count = logic.node_count();
    assert!(count <= 2 * selection + 2 * n, "{count} nodes");
    let mut mentions = 0;
    let mut copies = std::collections::HashSet::new();
    logic.visit(&mut |l| {
        if let Logic::Shared(x) = l {
            mentions += 1;
            copies.insert(std::sync::Arc::as_ptr(x));
        }
    });
    assert_eq!((mentions, copies.len()), (n - 1, 1), "one shared copy");
    // Every comparison is still seen, in positive position, and the filter
    // in negative position.
    let mut pos = 0;
    let mut neg = 0;
    logic.visit_cmps(&mut |_, n| if n { neg += 1 } else { pos += 1 });
    assert_eq!((pos, neg), (2 * (n / 10), 1));
}

#[test]
fn one_of_over_thirty_thousand_selections_is_linear() {
    let n = 30_000;
    let p = parse(Format::Sigma, shapes::sigma_one_of(n), "o.yml");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let logic = only_logic(&p);
    let Logic::And(parts) = logic else {
        panic!("expected and(1 of sel*, not 1 of sel9*), got {logic:?}");
    };
    let Logic::Or(all) = &parts[0] else {
        panic!("expected or(...)");
    };
    assert_eq!(all.len(), n);
    let Logic::Not(nine) = &parts[1] else {
        panic!("expected not(...)");
    };
    // sel9, sel90…sel99, sel900…sel999, sel9000…sel9999: all shared with
    // the first pattern, each one node.
    let Logic::Or(nines) = nines_of(nine) else {
        panic!("expected or(...)");
    };
    assert_eq!(nines.len(), 1 + 10 + 100 + 1000);
    assert!(nines.iter().all(|l| matches!(l, Logic::Shared(_))));
    assert!(logic.node_count() < 4 * n + 2 * 1111 + 10);
}

fn nines_of(l: &Logic) -> &Logic {
    match l {
        Logic::Shared(x) => nines_of(x),
        other => other,
    }
}

#[test]
fn a_repeated_one_of_is_expanded_once() {
    let mut rule = shapes::sigma_one_of(1_000);
    let cond = "1 of sel* and not 1 of sel9*";
    let many = vec!["1 of sel*"; 2_000].join(" and ");
    rule = rule.replace(cond, &format!("{many} and not 1 of sel9*"));
    let p = parse(Format::Sigma, rule, "r.yml");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let logic = only_logic(&p);
    // 1,000 selections once, their shared copies, then one node per repeat.
    assert!(
        logic.node_count() < 5 * 1_000 + 3 * 2_000,
        "{}",
        logic.node_count()
    );
}

#[test]
fn a_condition_expanding_past_the_limit_is_an_error_naming_it() {
    let mut rule = shapes::sigma_one_of(2_000);
    // 200 different patterns (`s*`, `s**`, …) that each match all 2,000
    // selections.
    let pats: Vec<String> = (1..=200)
        .map(|i| format!("1 of s{}", "*".repeat(i)))
        .collect();
    rule = rule.replace("1 of sel* and not 1 of sel9*", &pats.join(" or "));
    let p = parse(Format::Sigma, rule, "c.yml");
    let errs = errors(&p);
    assert!(
        errs.iter()
            .any(|(c, m)| *c == "RL006" && m.contains("200000 selection references")),
        "{errs:?}"
    );
}

#[test]
fn nested_anchors_count_against_the_alias_budget() {
    // 150 nested anchors around 1,000 values copy 150,000 nodes.
    let p = parse(Format::Sigma, shapes::yaml_anchors(1_000), "a.yml");
    let errs = errors(&p);
    assert!(
        errs.iter()
            .any(|(c, m)| *c == "RL002" && m.contains("more than 100000 nodes")),
        "{errs:?}"
    );
    // The same nesting around a few values is fine.
    let p = parse(Format::Sigma, shapes::yaml_anchors(10), "a.yml");
    assert!(
        errors(&p).iter().all(|(c, _)| *c != "RL002"),
        "{:?}",
        errors(&p)
    );
}

#[test]
fn many_selections_keep_their_order_and_names() {
    let p = parse(Format::Sigma, shapes::sigma_one_of(5_000), "k.yml");
    let names = &p.rules[0].anchors.selections;
    assert_eq!(names.len(), 5_000);
    assert_eq!(names[0], "sel0");
    assert_eq!(names[4_999], "sel4999");
}

#[test]
fn unknown_names_get_a_did_you_mean_only_for_the_first_few() {
    let mut rule = shapes::sigma_one_of(5_000);
    let unknown: Vec<String> = (0..1_000).map(|i| format!("sal{i}")).collect();
    rule = rule.replace("1 of sel* and not 1 of sel9*", &unknown.join(" or "));
    let p = parse(Format::Sigma, rule, "u.yml");
    let rl007: Vec<_> = p.issues.iter().filter(|i| i.code == "RL007").collect();
    assert_eq!(rl007.len(), 1_000);
    let helped = rl007.iter().filter(|i| i.help.is_some()).count();
    assert!((1..=16).contains(&helped), "{helped} with help");
    assert_eq!(rl007[0].help.as_deref(), Some("did you mean `sel0`?"));
}

#[test]
fn a_global_document_with_many_selections_merges_linearly() {
    let n = 20_000;
    let mut text = String::from(
        "action: global\ntitle: Generated\nid: 5d2c8f43-7c1a-4d7e-9a55-000000000002\n\
         status: test\ndetection:\n",
    );
    for i in 0..n {
        text.push_str(&format!("    a{i}:\n        CommandLine|contains: x{i}\n"));
    }
    text.push_str("    condition: 1 of a* or 1 of b*\nlevel: low\n---\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n");
    for i in 0..n {
        text.push_str(&format!("    b{i}:\n        Image|endswith: y{i}.exe\n"));
    }
    let p = parse(Format::Sigma, text, "g.yml");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let Logic::Or(alts) = only_logic(&p) else {
        panic!("expected or(…)");
    };
    assert_eq!(alts.len(), 2 * n);
}

#[test]
fn a_splunk_rule_of_ten_thousand_commands_records_every_stage_scope() {
    let n = 10_000;
    let p = parse(Format::Splunk, shapes::spl_eval(n), "s.yml");
    assert!(errors(&p).is_empty(), "{:?}", errors(&p));
    let pl = p.rules[0]
        .anchors
        .pipeline
        .as_ref()
        .expect("the SPL pipeline anchors");
    assert_eq!(pl.stages.len(), n + 3);
    // Before eval i the names f1 … f(i-1) exist, each holding f0 (read
    // as is only through the plain copies, every odd eval).
    let mid = &pl.stages[n / 2].scope;
    assert_eq!(mid.names.len(), n / 2 - 1);
    assert_eq!(mid.name_for("f0").as_deref(), Some("f1"));
    assert!(mid.name_for("g").is_some());
    assert_eq!(pl.end_scope.names.len(), n);
}
