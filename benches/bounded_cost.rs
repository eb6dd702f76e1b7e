//! Time and peak memory of linting small rules shaped to grow a careless
//! parser faster than its input (see `tests/common/shapes.rs`), at 1×, 2×
//! and 4× size. Run by hand:
//!
//! ```sh
//! cargo bench --bench bounded_cost                  # every shape
//! cargo bench --bench bounded_cost -- spl-eval      # one shape
//! ```
//!
//! `-- --write <shape> <n> <file>` writes one generated rule, to run
//! `rulelint check` on it by hand (e.g. under `/usr/bin/time -v`).
//!
//! Each measurement runs in a child process of this benchmark, so the peak
//! resident memory printed is that of one lint alone.

#[path = "../tests/common/shapes.rs"]
mod shapes;

use rulelint::{lint_source, Knowledge, LintOptions, SourceFile};
use std::process::Command;
use std::time::Instant;

/// The 1× size of each shape.
fn base(shape: &str) -> usize {
    match shape {
        "spl-eval" | "spl-rename" => 2_500,
        "sigma-mentions" => 2_000,
        "yaml-anchors" => 500,
        "sigma-one-of" => 7_500,
        _ => 1,
    }
}

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Child: lint one generated file, print `ms mb nodes codes`.
fn one(shape: &str, n: usize) {
    let Some((text, name)) = shapes::generate(shape, n) else {
        eprintln!("unknown shape {shape}");
        std::process::exit(2);
    };
    let k = Knowledge::builtin().unwrap_or_else(|_| std::process::exit(2));
    let opts = LintOptions::default();
    let bytes = text.len();
    let start = Instant::now();
    let r = lint_source(&k, &opts, SourceFile::new(name, text), name, true);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let mut codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    println!("{ms:.1} {:.1} {bytes} {}", peak_rss_mb(), codes.join(","));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--one") {
        let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
        one(args.get(1).map_or("", String::as_str), n);
        return;
    }
    if args.first().map(String::as_str) == Some("--write") {
        let n = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
        let text = shapes::generate(args.get(1).map_or("", String::as_str), n);
        match (text, args.get(3)) {
            (Some((t, _)), Some(path)) => {
                if let Err(e) = std::fs::write(path, t) {
                    eprintln!("{path}: {e}");
                    std::process::exit(2);
                }
            }
            _ => {
                eprintln!("usage: --write <shape> <n> <file>");
                std::process::exit(2);
            }
        }
        return;
    }
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    let exe = std::env::current_exe().expect("the benchmark knows its own path");
    println!(
        "{:<15} {:>5} {:>8} {:>10} {:>10}  codes",
        "shape", "size", "KB", "ms", "peak MB"
    );
    for shape in shapes::SHAPES {
        if !filter.is_empty() && !filter.iter().any(|f| shape.contains(f.as_str())) {
            continue;
        }
        for mult in [1, 2, 4] {
            let n = base(shape) * mult;
            let out = Command::new(&exe)
                .args(["--one", shape, &n.to_string()])
                .output();
            let line = match out {
                Ok(o) if o.status.success() => {
                    String::from_utf8_lossy(&o.stdout).trim().to_string()
                }
                Ok(o) => format!("failed ({})", o.status),
                Err(e) => format!("failed ({e})"),
            };
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() >= 3 {
                let kb = f[2].parse::<f64>().unwrap_or(0.0) / 1024.0;
                println!(
                    "{shape:<15} {:>4}x {kb:>8.0} {:>10} {:>10}  {}",
                    mult,
                    f[0],
                    f[1],
                    f.get(3).unwrap_or(&"")
                );
            } else {
                println!("{shape:<15} {mult:>4}x {:>8} {line}", "-");
            }
        }
    }
}
