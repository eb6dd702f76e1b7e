//! Command-line interface (clap). `main.rs` calls [`run`].

use crate::checks;
use crate::diagnostic::Severity;
use crate::discover;
use crate::knowledge::{Knowledge, Pattern};
use crate::lint::{self, FileResult, LintOptions};
use crate::report::{self, Summary};
use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "rulelint",
    version,
    about = "Find known false-positive patterns in detection rules (Sigma, Elastic, Splunk) and write the exclusion"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint rule files and directories.
    Check(CheckArgs),
    /// Explain a check (`RL201`) or a false-positive pattern (`ephemeral-port`).
    Explain {
        /// A check code or name, or a pattern id.
        name: String,
    },
    /// List the catalogue of false-positive patterns.
    Patterns {
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
    Hint,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
            FailOn::Hint => Severity::Hint,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Files or directories to lint (directories are walked, honouring
    /// `.gitignore`).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Exit with 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// Only the header line of each finding, no snippet.
    #[arg(long, short)]
    pub quiet: bool,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Number of threads (default: the number of cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Only lint files matching these globs (when walking directories).
    #[arg(long)]
    pub include: Vec<String>,
    /// Skip files matching these globs (when walking directories).
    #[arg(long)]
    pub exclude: Vec<String>,
}

/// The outcome of a command: text for stdout and stderr, and the exit code.
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

fn usage_error(msg: String) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: format!("error: {msg}\n"),
        code: 2,
    }
}

fn load_knowledge() -> Result<Knowledge, Outcome> {
    Knowledge::builtin().map_err(|errs| {
        usage_error(
            errs.iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    })
}

pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Check(args) => check(args),
        Command::Explain { name } => explain(&name),
        Command::Patterns { format } => patterns(format),
    }
}

fn display_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

pub fn check(args: CheckArgs) -> Outcome {
    let start = Instant::now();
    let knowledge = match load_knowledge() {
        Ok(k) => k,
        Err(o) => return o,
    };
    let include = match discover::globset(&args.include) {
        Ok(g) => g,
        Err(e) => return usage_error(e),
    };
    let exclude = match discover::globset(&args.exclude) {
        Ok(g) => g,
        Err(e) => return usage_error(e),
    };
    let (candidates, missing) = discover::discover(&args.paths, &include, &exclude);
    let opts = LintOptions::default();
    let lint_all = || -> Vec<FileResult> {
        candidates
            .par_iter()
            .map(|c| {
                let display = display_path(&c.path);
                lint::lint_path(&knowledge, &opts, &c.path, &display, c.explicit)
            })
            .collect()
    };
    let mut results = match args.jobs {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(lint_all),
            Err(e) => return usage_error(format!("cannot start {n} threads: {e}")),
        },
        None => lint_all(),
    };
    for (p, msg) in &missing {
        let display = display_path(p);
        results.push(FileResult {
            path: display.clone(),
            source: None,
            format: None,
            status: lint::FileStatus::Failed,
            diagnostics: vec![lint::file_error(&display, "RL001", msg.clone(), None)],
        });
    }
    results.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = Summary::from_results(&results, start.elapsed().as_millis());
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let stdout = match args.format {
        OutputFormat::Human => report::human::render(
            &results,
            &summary,
            &report::human::HumanOptions {
                color,
                quiet: args.quiet,
                width: 100,
            },
        ),
        OutputFormat::Json => report::json::render(&results, &summary),
    };
    let any_error = results.iter().any(|r| r.status == lint::FileStatus::Failed);
    let fail = args.fail_on.severity();
    let any_finding = results
        .iter()
        .flat_map(|r| &r.diagnostics)
        .any(|d| d.severity >= fail);
    let code = if any_error {
        2
    } else if any_finding {
        1
    } else {
        0
    };
    Outcome {
        stdout,
        stderr: String::new(),
        code,
    }
}

/// Example exclusion of a pattern, in words and Sigma-like notation.
fn exclusion_lines(p: &Pattern) -> Vec<String> {
    p.exclusion
        .fields
        .iter()
        .map(|f| {
            let vals = if f.values.is_empty() {
                f.placeholder.clone().unwrap_or_default()
            } else {
                f.values.join(", ")
            };
            let op = if f.op == "eq" {
                String::new()
            } else {
                format!(" ({})", f.op)
            };
            let fact = f
                .fact
                .as_ref()
                .map(|x| format!("  [environment fact: {x}]"))
                .unwrap_or_default();
            format!("not {}{op}: {vals}{fact}", f.concept)
        })
        .collect()
}

fn trigger_lines(p: &Pattern) -> Vec<String> {
    let m = |m: &crate::knowledge::Matcher| {
        let what = if !m.ports.is_empty() {
            format!(
                "port {}",
                m.ports
                    .iter()
                    .map(|r| if r.lo == r.hi {
                        r.lo.to_string()
                    } else {
                        format!("{}-{}", r.lo, r.hi)
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else if !m.processes.is_empty() {
            format!("program {}", m.processes.join(", "))
        } else if !m.values.is_empty() {
            format!("value {}", m.values.join(", "))
        } else if !m.contains.is_empty() {
            format!("containing {}", m.contains.join(", "))
        } else if !m.prefixes.is_empty() {
            format!("starting with {}", m.prefixes.join(", "))
        } else {
            "absent or empty".into()
        };
        format!(
            "{}{} is {what}",
            if m.negated { "excludes: " } else { "" },
            m.concepts.join(" | ")
        )
    };
    p.trigger
        .iter()
        .map(|c| {
            let mut s = m(&c.matcher);
            for a in &c.also {
                s.push_str(&format!(", with {}", m(a)));
            }
            s
        })
        .collect()
}

fn explain_pattern(p: &Pattern) -> String {
    let mut s = String::new();
    s.push_str(&format!("{} — {}\n\n", p.id, p.title));
    s.push_str(&format!(
        "Check: RL201 known-fp-pattern   Default severity: {}\n\n",
        p.severity
    ));
    s.push_str("Why it fires on benign activity\n");
    s.push_str(&format!("  {}\n\n", p.rationale.trim()));
    s.push_str("Benign sources\n");
    for b in &p.benign {
        s.push_str(&format!("  - {b}\n"));
    }
    s.push_str("\nTriggers (in positive position)\n");
    for t in trigger_lines(p) {
        s.push_str(&format!("  - {t}\n"));
    }
    s.push_str(&format!("\nSuggested exclusion: {}\n", p.exclusion.summary));
    for l in exclusion_lines(p) {
        s.push_str(&format!("  {l}\n"));
    }
    for a in &p.exclusion.alternatives {
        s.push_str(&format!("  or: {a}\n"));
    }
    if !p.references.is_empty() {
        s.push_str("\nReferences\n");
        for r in &p.references {
            s.push_str(&format!("  {r}\n"));
        }
    }
    s
}

pub fn explain(name: &str) -> Outcome {
    let knowledge = match load_knowledge() {
        Ok(k) => k,
        Err(o) => return o,
    };
    if let Some(c) = checks::find(name) {
        let mut s = format!(
            "{} {} ({})\n\n{}\n\n{}\n",
            c.code,
            c.name,
            c.severity,
            c.summary,
            c.doc.trim()
        );
        if c.code == "RL201" {
            s.push_str(&format!(
                "\nPatterns ({}): {}\n",
                knowledge.patterns.len(),
                knowledge
                    .patterns
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Outcome {
            stdout: s,
            stderr: String::new(),
            code: 0,
        };
    }
    if let Some(p) = knowledge.pattern(name) {
        return Outcome {
            stdout: explain_pattern(p),
            stderr: String::new(),
            code: 0,
        };
    }
    let candidates = checks::CHECKS
        .iter()
        .flat_map(|c| [c.code, c.name])
        .chain(knowledge.patterns.iter().map(|p| p.id.as_str()));
    let best = candidates
        .map(|c| {
            (
                strsim::jaro_winkler(&name.to_ascii_lowercase(), &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(s, _)| *s > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let hint = match best {
        Some((_, c)) => format!("; did you mean `{c}`?"),
        None => "; see `rulelint patterns` for the catalogue".into(),
    };
    usage_error(format!("unknown check or pattern `{name}`{hint}"))
}

pub fn patterns(format: ListFormat) -> Outcome {
    let knowledge = match load_knowledge() {
        Ok(k) => k,
        Err(o) => return o,
    };
    let stdout = match format {
        ListFormat::Json => {
            let v: Vec<_> = knowledge
                .patterns
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "id": p.id,
                        "title": p.title,
                        "severity": p.severity,
                        "rationale": p.rationale.trim(),
                        "benign": p.benign,
                        "triggers": trigger_lines(p),
                        "exclusion": {"summary": p.exclusion.summary, "fields": exclusion_lines(p)},
                        "references": p.references,
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
            s.push('\n');
            s
        }
        ListFormat::Human => {
            let w = knowledge
                .patterns
                .iter()
                .map(|p| p.id.len())
                .max()
                .unwrap_or(2)
                .max(2);
            let mut s = format!("{:<w$}  {:<8}  TITLE\n", "ID", "SEVERITY");
            for p in &knowledge.patterns {
                s.push_str(&format!("{:<w$}  {:<8}  {}\n", p.id, p.severity, p.title));
            }
            s.push_str(&format!(
                "\n{} patterns; `rulelint explain <id>` for details\n",
                knowledge.patterns.len()
            ));
            s
        }
    };
    Outcome {
        stdout,
        stderr: String::new(),
        code: 0,
    }
}
