//! Small valid rules whose size is set by one number `n`, each shaped to
//! make a careless parser grow faster than its input. Shared by
//! `tests/bounded_cost.rs` (structure) and `benches/bounded_cost.rs`
//! (time and memory).
#![allow(dead_code)]

use std::fmt::Write;

/// The shapes, by name.
pub const SHAPES: &[&str] = &[
    "spl-eval",
    "spl-rename",
    "sigma-mentions",
    "yaml-anchors",
    "sigma-one-of",
];

/// The rule text of `shape` at size `n`, and its file name.
pub fn generate(shape: &str, n: usize) -> Option<(String, &'static str)> {
    Some(match shape {
        "spl-eval" => (spl_eval(n), "eval.yml"),
        "spl-rename" => (spl_rename(n), "rename.yml"),
        "sigma-mentions" => (sigma_mentions(n), "mentions.yml"),
        "yaml-anchors" => (yaml_anchors(n), "anchors.yml"),
        "sigma-one-of" => (sigma_one_of(n), "one_of.yml"),
        _ => return None,
    })
}

fn splunk(search: &str) -> String {
    // A single-quoted YAML scalar: the search holds no `'`.
    format!(
        "name: Generated Search\nid: 00000000-0000-4000-8000-000000000001\nversion: 1\n\
         type: TTP\ndescription: generated\nsearch: '{search}'\n"
    )
}

/// `index=main EventCode=4688 | eval f1=f0 | eval f2=lower(f1) | …`: every
/// command binds one more name.
pub fn spl_eval(n: usize) -> String {
    let mut s = String::from("index=main EventCode=4688 process_name=cmd.exe");
    for i in 1..=n {
        if i % 2 == 0 {
            let _ = write!(s, " | eval f{i}=lower(f{})", i - 1);
        } else {
            let _ = write!(s, " | eval f{i}=f{}", i - 1);
        }
    }
    s.push_str(" | where f1=\"x\" | `generated_filter`");
    splunk(&s)
}

/// `… | rename f0 as f1 | rename f1 as f2 | …` followed by a table of all
/// names.
pub fn spl_rename(n: usize) -> String {
    let mut s = String::from("index=main EventCode=4688 process_name=cmd.exe");
    for i in 1..=n {
        let _ = write!(s, " | rename f{} as f{i}, g{i} as h{i}", i - 1);
    }
    s.push_str(" | `generated_filter`");
    splunk(&s)
}

fn sigma(detection: &str, condition: &str) -> String {
    format!(
        "title: Generated\nid: 5d2c8f43-7c1a-4d7e-9a55-000000000001\nstatus: test\n\
         logsource:\n    category: process_creation\n    product: windows\n\
         detection:\n{detection}    condition: {condition}\nlevel: low\n"
    )
}

/// One selection of `n / 10` comparisons, named `n` times in the
/// condition.
pub fn sigma_mentions(n: usize) -> String {
    let mut d = String::from("    selection:\n");
    for i in 0..n.div_ceil(10) {
        let _ = writeln!(d, "        Field{i}|contains: value{i}");
    }
    d.push_str("    filter:\n        User: SYSTEM\n");
    let mut c = String::from("selection");
    for i in 1..n {
        c.push_str(if i % 2 == 0 {
            " or selection"
        } else {
            " and selection"
        });
    }
    sigma(&d, &format!("({c}) and not filter"))
}

/// Anchors nested inside anchors: `&d1 [v…, &d2 [v…, … [seed…]]]`, 150
/// levels deep around `n` values, then one alias to the outermost.
pub fn yaml_anchors(n: usize) -> String {
    const DEPTH: usize = 150;
    let mut d = String::from("    selection:\n        CommandLine|contains:\n            - ");
    for i in 1..=DEPTH {
        let _ = write!(d, "&d{i} [v{i}, ");
    }
    for j in 0..n {
        let _ = write!(d, "s{j}, ");
    }
    d.push_str("end");
    d.push_str(&"]".repeat(DEPTH));
    d.push_str("\n            - *d1\n");
    sigma(&d, "selection")
}

/// `n` selections `sel1 … seln` and `1 of sel*` (twice).
pub fn sigma_one_of(n: usize) -> String {
    let mut d = String::new();
    for i in 0..n {
        let _ = writeln!(d, "    sel{i}:\n        Image|endswith: '\\tool{i}.exe'");
    }
    sigma(&d, "1 of sel* and not 1 of sel9*")
}
