//! Time of the human and JSON reports as the number of findings in one
//! file doubles (1x, 2x, 4x), in process, on the release build. Run by
//! hand:
//!
//! ```sh
//! cargo bench --bench report             # both shapes
//! cargo bench --bench report -- rules    # one of rules, lines
//! ```
//!
//! Two shapes: many Sigma rules in one file (4x is 4,000 findings in about
//! 520 KB), and the same with every finding at the end of a line of 2,000
//! characters. Prints the
//! median of 5 renders of each report after one warm-up. The time of the
//! human report should double with the findings, like the JSON report's.

use rulelint::lint::FileResult;
use rulelint::report::{human, json, Summary};
use rulelint::{lint_source, Knowledge, LintOptions, SourceFile};
use std::time::Instant;

/// `n` Sigma rules in one file (YAML documents), each on an IRC port: two
/// findings per rule. Each rule is padded to about 260 bytes.
fn many_rules(n: usize) -> String {
    let pad = "p".repeat(90);
    (0..n)
        .map(|i| {
            format!(
                "title: Rule {i}\nid: {i}\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        Comment: '{pad}'\n        DestinationPort: 6667\n    condition: selection\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// As [`many_rules`], with each rule's selection on one line of about
/// 2,000 characters, the port at its end.
fn long_lines(n: usize) -> String {
    let pad = "q".repeat(2_000);
    (0..n)
        .map(|i| {
            format!(
                "title: Rule {i}\nid: {i}\nlogsource:\n    category: network_connection\ndetection:\n    selection: {{Comment: '{pad}', DestinationPort: 6667}}\n    condition: selection\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

fn median(mut f: impl FnMut()) -> f64 {
    f();
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[2]
}

fn bench(shape: &str, text: String, k: &Knowledge) {
    let bytes = text.len();
    let file = SourceFile::new("bench.yml", text);
    let result: FileResult = lint_source(k, &LintOptions::default(), file, "bench.yml", true);
    let results = vec![result];
    let summary = Summary::from_results(&results, 0);
    let opts = human::HumanOptions {
        color: false,
        quiet: false,
        width: 100,
    };
    let mut out_len = 0;
    let h = median(|| out_len = human::render(&results, &summary, &opts).len());
    let j = median(|| {
        let _ = json::render(&results, &summary);
    });
    println!(
        "{shape:<10} {:>6} findings  {:>7} KB file   human {h:>8.1} ms ({:>6} KB out)   json {j:>7.1} ms",
        results[0].diagnostics.len(),
        bytes / 1024,
        out_len / 1024,
    );
}

fn main() {
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |shape: &str| only.is_empty() || only.iter().any(|o| o == shape);
    let k = Knowledge::builtin().expect("catalogue");
    if wanted("rules") {
        for n in [500, 1000, 2000] {
            bench("rules", many_rules(n), &k);
        }
    }
    if wanted("lines") {
        for n in [500, 1000, 2000] {
            bench("long lines", long_lines(n), &k);
        }
    }
}
