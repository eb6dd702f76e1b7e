//! Command-line interface (clap). `main.rs` calls [`run`].

use crate::baseline::{self, Baseline};
use crate::checks;
use crate::config::{self, Config, ConfigError, Settings, Workspace};
use crate::diagnostic::Severity;
use crate::discover;
use crate::fix;
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
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options of every command that reads the configuration.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GlobalArgs {
    /// Read this configuration file instead of looking for `rulelint.toml`
    /// or `.rulelint.toml` in the working directory and above.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ignore configuration files: built-in defaults only.
    #[arg(long, global = true, conflicts_with = "config")]
    pub isolated: bool,
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
    /// Print the effective configuration (TOML).
    Config,
    /// Write a commented starter `rulelint.toml` in the working directory.
    Init,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// A Markdown summary ($GITHUB_STEP_SUMMARY, pull request comments).
    Markdown,
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
    /// Exit with 1 when a finding has at least this severity
    /// (default: `fail-on` of the configuration, else warning).
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
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
    /// Report only findings that are not recorded in this baseline file.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file (exit 0 unless a
    /// file cannot be checked).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Skip files named on the command line that do not look like rules,
    /// as when walking a directory (for pre-commit, which passes every
    /// staged YAML and TOML file).
    #[arg(long)]
    pub skip_non_rules: bool,
    /// Apply the suggested exclusions to the rule files (each edit is
    /// re-parsed and kept only when the rule still parses and the finding
    /// is gone). Only exclusions whose values all come from your
    /// `[environment]` facts are applied; `--unsafe-fixes` adds those with
    /// catalogue default values, `--fix-placeholders` those with
    /// placeholders. A rule file that is a symbolic link, has several hard
    /// links or changed during the run is left as it is and reported.
    #[arg(long)]
    pub fix: bool,
    /// With `--fix`, also apply exclusions that use the catalogue's default
    /// values (`jenkins`, `gitlab-runner`): they change what the rule
    /// detects without values you supplied, so review them first.
    #[arg(long, requires = "fix")]
    pub unsafe_fixes: bool,
    /// With `--fix`, also apply exclusions that still hold placeholders
    /// such as `<your DNS servers>` (in every rule language; never into an
    /// address-block match such as Sigma `|cidr` or EQL `cidrMatch`, which
    /// no toolchain accepts with a placeholder: set the fact instead).
    #[arg(long, requires = "fix")]
    pub fix_placeholders: bool,
    /// Do not read files larger than this (bytes, or a number with KB, MB
    /// or GB); they are reported as RL001. Default: `max-file-size` of the
    /// configuration, else 4MB.
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub max_file_size: Option<u64>,
    /// Walk directories without honouring `.gitignore` and `.ignore` files.
    #[arg(long)]
    pub no_ignore: bool,
}

fn parse_size_arg(s: &str) -> Result<u64, String> {
    config::parse_size(s)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{s}` is not a size; write e.g. 8MB or 8388608"))
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

pub fn run(cli: Cli) -> Outcome {
    let g = cli.global;
    match cli.command {
        Command::Check(args) => check_with(args, &g),
        Command::Explain { name } => explain_with(&name, &g),
        Command::Patterns { format } => patterns_with(format, &g),
        Command::Config => show_config(&g),
        Command::Init => init(),
    }
}

/// Everything a command needs from the configuration.
pub struct Setup {
    pub ws: Workspace,
    pub config: Config,
    pub knowledge: Knowledge,
    pub settings: Settings,
}

fn config_errors(es: &[ConfigError]) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: es
            .iter()
            .map(|e| format!("error: {e}\n"))
            .collect::<String>(),
        code: 2,
    }
}

/// Read the configuration, the catalogue with the team's patterns, and
/// check the settings against it.
pub fn setup(g: &GlobalArgs) -> Result<Setup, Outcome> {
    let ws = Workspace::current();
    let (config, knowledge, settings) = config::load_all(g.config.as_deref(), g.isolated, &ws.cwd)
        .map_err(|e| config_errors(&e))?;
    Ok(Setup {
        ws,
        config,
        knowledge,
        settings,
    })
}

fn show_config(g: &GlobalArgs) -> Outcome {
    match setup(g) {
        Ok(s) => Outcome {
            stdout: s.config.to_toml(&s.settings, &s.knowledge),
            stderr: String::new(),
            code: 0,
        },
        Err(o) => o,
    }
}

fn init() -> Outcome {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    for name in config::CONFIG_FILE_NAMES {
        if cwd.join(name).exists() {
            return usage_error(format!(
                "{name} already exists here; refusing to overwrite it (`rulelint config` shows the effective settings)"
            ));
        }
    }
    let path = cwd.join(config::CONFIG_FILE_NAMES[0]);
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, config::STARTER.as_bytes()))
    {
        Ok(()) => Outcome {
            stdout: format!(
                "wrote {}; edit it, then `rulelint config` shows the effective settings\n",
                config::CONFIG_FILE_NAMES[0]
            ),
            stderr: String::new(),
            code: 0,
        },
        Err(e) => usage_error(format!("cannot write {}: {e}", path.display())),
    }
}

fn display_path(p: &std::path::Path) -> String {
    let s = report::paths::slashed(p);
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

pub fn check(args: CheckArgs) -> Outcome {
    check_with(args, &GlobalArgs::default())
}

pub fn check_with(args: CheckArgs, g: &GlobalArgs) -> Outcome {
    let start = Instant::now();
    let Setup {
        ws,
        knowledge,
        settings,
        ..
    } = match setup(g) {
        Ok(s) => s,
        Err(o) => return o,
    };
    let baseline = match &args.baseline {
        Some(p) => {
            let shown = p.display().to_string();
            let text = crate::fsio::read_regular(p, baseline::MAX_SIZE)
                .map_err(|e| e.to_string())
                .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".into()));
            match text {
                Ok(t) => match Baseline::parse(&shown, &t) {
                    Ok(b) => Some(b),
                    Err(e) => return usage_error(e),
                },
                Err(e) => return usage_error(format!("cannot read baseline {shown}: {e}")),
            }
        }
        None => None,
    };
    let include = match discover::globset(&args.include) {
        Ok(g) => g,
        Err(e) => return usage_error(e),
    };
    let exclude = match discover::globset(&args.exclude) {
        Ok(g) => g,
        Err(e) => return usage_error(e),
    };
    let found = discover::discover_with(&args.paths, &include, &exclude, args.no_ignore);
    let (candidates, missing) = (found.candidates, found.errors);
    let opts = LintOptions {
        environment: settings.environment.clone(),
        max_file_size: args.max_file_size.or(settings.max_file_size),
        disabled: checks::Code::ALL
            .iter()
            .copied()
            .filter(|c| !settings.may_enable(*c))
            .collect(),
    };
    let mut fix_report = String::new();
    for i in &found.ignored {
        fix_report.push_str(&format!("rulelint: note: {}\n", i.note()));
    }
    let mut write_failed = false;
    if args.fix {
        for c in &candidates {
            let display = display_path(&c.path);
            // Unreadable files are reported by the linter below.
            let Ok(bytes) = crate::fsio::read_rule(&c.path, opts.max_file_size) else {
                continue;
            };
            let Ok(text) = lint::decode(&display, bytes) else {
                continue;
            };
            let file = crate::source::SourceFile::new(&c.path, text);
            let rel = ws
                .relative_to(&settings.root, &display)
                .unwrap_or_else(|| ws.rel(&display));
            let settle = |d: &mut Vec<crate::diagnostic::Diagnostic>| settings.apply(&rel, d);
            let res = fix::fix_text(
                &knowledge,
                &opts,
                &file,
                &display,
                fix::FixMode {
                    unsafe_fixes: args.unsafe_fixes,
                    placeholders: args.fix_placeholders,
                },
                &settle,
            );
            let mut unwritten = None;
            if let Some(new_text) = &res.text {
                if let Err(e) = fix::write_atomic(&c.path, &file.text, new_text) {
                    fix_report.push_str(&format!(
                        "rulelint: error: cannot write {display}: {e}; its fixes are not applied\n"
                    ));
                    write_failed = true;
                    unwritten = Some(format!("not written: {e}"));
                }
            }
            for o in &res.outcomes {
                let what = o.pattern.as_deref().unwrap_or(o.code.name());
                let reason = match (&o.reason, &unwritten) {
                    (None, Some(w)) => Some(w),
                    (r, _) => r.as_ref(),
                };
                match reason {
                    None => fix_report
                        .push_str(&format!("fixed {display}:{}: {} {what}\n", o.line, o.code)),
                    Some(r) => fix_report.push_str(&format!(
                        "not fixed {display}:{}: {} {what}: {r}\n",
                        o.line, o.code
                    )),
                }
            }
        }
    }
    let lint_all = || -> Vec<FileResult> {
        candidates
            .par_iter()
            .map(|c| {
                let display = display_path(&c.path);
                lint::lint_path(
                    &knowledge,
                    &opts,
                    &c.path,
                    &display,
                    c.explicit && !args.skip_non_rules,
                )
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
            diagnostics: vec![lint::file_error(
                &display,
                checks::Code::UnreadableFile,
                msg.clone(),
                None,
            )],
        });
    }
    results.sort_by(|a, b| a.path.cmp(&b.path));
    for r in &mut results {
        let rel = ws
            .relative_to(&settings.root, &r.path)
            .unwrap_or_else(|| ws.rel(&r.path));
        settings.apply(&rel, &mut r.diagnostics);
    }
    let mut stderr = fix_report;
    let rel = |p: &str| ws.rel(p);
    let mut stale = Vec::new();
    if let Some(b) = &baseline {
        let f = b.filter(&mut results, &rel);
        if f.baselined > 0 {
            stderr.push_str(&format!(
                "rulelint: {} finding{} recorded in the baseline not shown\n",
                f.baselined,
                if f.baselined == 1 { "" } else { "s" }
            ));
        }
        if !f.stale.is_empty() {
            let n = baseline::total(&f.stale);
            stderr.push_str(&format!(
                "rulelint: {n} finding{} recorded in the baseline no longer occur{} (fixed); refresh it with --write-baseline:\n",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            ));
            for e in &f.stale {
                stderr.push_str(&format!("  {}\n", baseline::describe(e)));
            }
        }
        stale = f.stale;
    }
    if let Some(p) = &args.write_baseline {
        let b = Baseline::from_results(&results, &rel);
        if let Err(e) = crate::fsio::replace_file(p, None, b.to_json().as_bytes()) {
            return usage_error(format!("cannot write baseline {}: {e}", p.display()));
        }
        let n = baseline::total(&b.entries);
        stderr.push_str(&format!(
            "rulelint: wrote {} with {n} finding{}\n",
            p.display(),
            if n == 1 { "" } else { "s" }
        ));
    }
    let summary = Summary::from_results(&results, start.elapsed().as_millis());
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let ctx = report::Context::new(ws.root.clone())
        .with_files(results.iter().map(|r| r.path.as_str()), |p| ws.absolute(p));
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
        OutputFormat::Sarif => report::sarif::render(&results, &knowledge, &ctx),
        OutputFormat::Github => report::github::render(&results, &summary, &ctx),
        OutputFormat::Markdown => report::markdown::render(&results, &summary, &ctx, &stale),
    };
    // Text for people can quote rule values; a CI runner reading stdout
    // must never take one of its lines for a workflow command. (The GitHub
    // format escapes its own values; JSON and SARIF lines never start so.)
    let stdout = match args.format {
        OutputFormat::Human | OutputFormat::Markdown => {
            report::sanitize::workflow_commands(&stdout).into_owned()
        }
        _ => stdout,
    };
    let any_error = results.iter().any(|r| r.status == lint::FileStatus::Failed);
    let fail = args
        .fail_on
        .map(FailOn::severity)
        .or(settings.fail_on)
        .unwrap_or(Severity::Warning);
    let any_finding = args.write_baseline.is_none()
        && results
            .iter()
            .flat_map(|r| &r.diagnostics)
            .any(|d| d.severity >= fail);
    let code = if any_error || write_failed {
        2
    } else if any_finding {
        1
    } else {
        0
    };
    Outcome {
        stdout,
        stderr,
        code,
    }
}

/// A pattern's exclusion in words, one line per field.
fn exclusion_lines(p: &Pattern) -> Vec<String> {
    p.exclusion.describe()
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

/// Which environment facts a pattern's exclusion uses, and their values.
fn facts_section(p: &Pattern, settings: &Settings, config: &Config) -> String {
    let facts = config::pattern_facts(p);
    if facts.is_empty() {
        return "\nEnvironment facts: none (the exclusion uses fixed values)\n".into();
    }
    let mut s = String::from(
        "\nEnvironment facts used by the exclusion ([environment] in rulelint.toml)\n",
    );
    for f in facts {
        let desc = config::fact_description(f)
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        match settings.environment.get(f).filter(|v| !v.is_empty()) {
            Some(v) => s.push_str(&format!(
                "  {f}{desc}: {}  [from {}]\n",
                v.join(", "),
                config.display
            )),
            None => {
                let placeholder = p
                    .exclusion
                    .fields
                    .iter()
                    .find(|x| x.fact.as_deref() == Some(f))
                    .map(|x| x.values_text())
                    .unwrap_or_default();
                s.push_str(&format!(
                    "  {f}{desc}: not set; the suggestion shows {placeholder}\n"
                ));
            }
        }
    }
    s
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
    explain_with(name, &GlobalArgs::default())
}

pub fn explain_with(name: &str, g: &GlobalArgs) -> Outcome {
    let Setup {
        knowledge,
        settings,
        config,
        ..
    } = match setup(g) {
        Ok(s) => s,
        Err(o) => return o,
    };
    if let Some(code) = checks::Code::find(name) {
        let c = code.meta();
        let mut s = format!(
            "{} {} ({})\n\n{}\n\n{}\n",
            c.code,
            c.name,
            c.severity,
            c.summary(),
            c.doc()
        );
        if code == checks::Code::KnownFpPattern {
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
            stdout: report::sanitize::terminal(&s).into_owned(),
            stderr: String::new(),
            code: 0,
        };
    }
    if let Some(p) = knowledge.pattern(name) {
        let mut text = explain_pattern(p);
        let facts = facts_section(p, &settings, &config);
        // Before the references, after the exclusion.
        match text.find("\nReferences\n") {
            Some(i) => text.insert_str(i, &facts),
            None => text.push_str(&facts),
        }
        return Outcome {
            stdout: report::sanitize::terminal(&text).into_owned(),
            stderr: String::new(),
            code: 0,
        };
    }
    let candidates = checks::CHECKS
        .iter()
        .flat_map(|c| [c.code, c.name])
        .chain(knowledge.patterns.iter().map(|p| p.id.as_str()));
    let hint = match crate::did_you_mean::did_you_mean(name, candidates) {
        Some(c) => format!("; did you mean `{c}`?"),
        None => "; see `rulelint patterns` for the catalogue".into(),
    };
    usage_error(format!("unknown check or pattern `{name}`{hint}"))
}

pub fn patterns(format: ListFormat) -> Outcome {
    patterns_with(format, &GlobalArgs::default())
}

pub fn patterns_with(format: ListFormat, g: &GlobalArgs) -> Outcome {
    let knowledge = match setup(g) {
        Ok(s) => s.knowledge,
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
            report::sanitize::terminal(&s).into_owned()
        }
    };
    Outcome {
        stdout,
        stderr: String::new(),
        code: 0,
    }
}
