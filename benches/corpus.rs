//! Wall time and peak memory of `rulelint check` over the corpora, in
//! process, on the release build. Run by hand:
//!
//! ```sh
//! cargo bench --bench corpus                # all three corpora
//! cargo bench --bench corpus -- sigma       # one of sigma, elastic, splunk, single
//! ```
//!
//! Prints the median of 5 runs per corpus (after one warm-up run) and the
//! process's peak resident memory. Uses `$RULELINT_CORPUS` or
//! `../shared/corpus`.

use clap::Parser;
use rulelint::cli::{self, Cli, Command};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn time(args: &[&str]) -> (f64, i32) {
    let cli = Cli::parse_from(args);
    let start = Instant::now();
    let out = match cli.command {
        Command::Check(a) => cli::check(*a),
        _ => unreachable!("bench runs check only"),
    };
    (start.elapsed().as_secs_f64() * 1000.0, out.code)
}

fn bench(name: &str, path: &Path) {
    let p = path.to_string_lossy().to_string();
    let args = [
        "rulelint",
        "check",
        "--quiet",
        "--format",
        "json",
        p.as_str(),
    ];
    let _ = time(&args);
    let mut runs: Vec<f64> = (0..5).map(|_| time(&args).0).collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "{name:<8} median {:>7.1} ms   (min {:.1}, max {:.1})   peak RSS so far {:.0} MB",
        runs[2],
        runs[0],
        runs[4],
        peak_rss_mb().unwrap_or(f64::NAN)
    );
}

fn main() {
    let root = std::env::var_os("RULELINT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    if !root.is_dir() {
        eprintln!("corpus not found at {}: nothing to measure", root.display());
        return;
    }
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |n: &str| only.is_empty() || only.iter().any(|o| o == n);
    for name in ["sigma", "elastic", "splunk"] {
        if want(name) {
            bench(name, &root.join(name));
        }
    }
    if want("single") {
        // The pre-commit case: one rule file.
        let one = root.join("sigma/rules/network/zeek/zeek_dns_torproxy.yml");
        if one.is_file() {
            bench("single", &one);
        } else {
            eprintln!("{} not found: single-file case skipped", one.display());
        }
    }
}
