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
    /// Read this configuration file for every file instead of the nearest
    /// `rulelint.toml` or `.rulelint.toml` in each checked file's directory
    /// and above (up to the repository root).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Ignore configuration files: built-in defaults only.
    #[arg(long, global = true, conflicts_with = "config")]
    pub isolated: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint rule files and directories.
    Check(Box<CheckArgs>),
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
    Config {
        /// Show the configuration that applies to this file or directory
        /// (the nearest `rulelint.toml` in its directory or above) instead
        /// of the working directory's.
        path: Option<PathBuf>,
    },
    /// Write a commented starter `rulelint.toml` in the working directory.
    Init,
    /// Write the exclusions of known false-positive patterns beside rule
    /// packs you do not edit: Sigma meta-filters, Splunk filter macros,
    /// Elastic exception lists (values from your `[environment]` facts).
    Tune(Box<TuneArgs>),
    /// Check a macros.conf: each stanza parses and each definition parses
    /// as SPL (used by the tuning-pack round trip).
    #[command(hide = true)]
    DebugMacros { path: PathBuf },
}

#[derive(Debug, clap::Args)]
pub struct TuneArgs {
    /// Rule files or directories (directories are walked, honouring
    /// `.gitignore`).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The folder to write the tuning pack to: `sigma/mf_<pattern>.yml`,
    /// `splunk/macros.conf`, `elastic/<pattern>.ndjson` and
    /// `elastic/exception_references.json`. It is replaced as a whole, so
    /// it must be new, empty or a pack written earlier.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Write nothing; exit 1 when DIR differs from what `tune` would write
    /// (for CI: the tuning pack is up to date with the rules).
    #[arg(long)]
    pub check: bool,
    /// Start `splunk/macros.conf` from this file: its stanzas are kept,
    /// and a definition you tuned is combined with the exclusions, never
    /// replaced.
    #[arg(long, value_name = "FILE")]
    pub merge_with: Option<PathBuf>,
    /// Only these checks and patterns (as for `check`).
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    pub select: Option<Vec<String>>,
    /// Also these checks and patterns, on top of the selection.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    pub extend_select: Vec<String>,
    /// Not these patterns.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    pub ignore: Vec<String>,
    /// Leave out the findings recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Only files matching these globs (when walking directories).
    #[arg(long)]
    pub include: Vec<String>,
    /// Skip files matching these globs (when walking directories).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Number of threads (default: the number of cores).
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Do not read files larger than this (as for `check`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg)]
    pub max_file_size: Option<u64>,
    /// Walk directories without honouring `.gitignore` and `.ignore` files.
    #[arg(long)]
    pub no_ignore: bool,
}

impl TuneArgs {
    /// The `check` options that select the findings.
    fn as_check(&self) -> CheckArgs {
        CheckArgs {
            paths: self.paths.clone(),
            format: OutputFormat::Json,
            fail_on: None,
            quiet: true,
            color: ColorChoice::Never,
            jobs: self.jobs,
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            baseline: self.baseline.clone(),
            write_baseline: None,
            skip_non_rules: false,
            fix: false,
            unsafe_fixes: false,
            fix_placeholders: false,
            diff: false,
            select: self.select.clone(),
            extend_select: self.extend_select.clone(),
            ignore: self.ignore.clone(),
            statistics: false,
            output_file: None,
            max_file_size: self.max_file_size,
            no_ignore: self.no_ignore,
        }
    }
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
    /// JUnit XML (one test suite per file, one test case per rule).
    Junit,
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
    /// Record today's findings, parse errors included, in this baseline
    /// file; prints a one-line summary instead of the findings (exit 0
    /// unless the file cannot be written or a path does not exist).
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
    /// With `--fix` or `--diff`, also apply exclusions that use the catalogue's default
    /// values (`jenkins`, `gitlab-runner`): they change what the rule
    /// detects without values you supplied, so review them first.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// With `--fix` or `--diff`, also apply exclusions that still hold placeholders
    /// such as `<your DNS servers>` (in every rule language; never into an
    /// address-block match such as Sigma `|cidr` or EQL `cidrMatch`, which
    /// no toolchain accepts with a placeholder: set the fact instead).
    #[arg(long)]
    pub fix_placeholders: bool,
    /// Print the unified diff of what `--fix` would write (same
    /// `--unsafe-fixes` and `--fix-placeholders` rules) and write nothing.
    /// Exit 1 when there is a diff.
    #[arg(long)]
    pub diff: bool,
    /// Only these checks (codes, prefixes, names, pattern ids; comma
    /// separated or repeated): replaces `select` and `ignore` of the
    /// configuration's top level.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    pub select: Option<Vec<String>>,
    /// Also these checks, on top of the selection.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    pub extend_select: Vec<String>,
    /// Not these checks (added to the configuration's `ignore`). Errors that
    /// stop a file from being checked (parse errors such as RL006) cannot
    /// be ignored.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    pub ignore: Vec<String>,
    /// Print the number of findings per check and pattern instead of the
    /// findings.
    #[arg(long)]
    pub statistics: bool,
    /// Write the report to this file (replaced atomically) instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub output_file: Option<PathBuf>,
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
        Command::Check(args) => check_with(*args, &g),
        Command::Explain { name } => explain_with(&name, &g),
        Command::Patterns { format } => patterns_with(format, &g),
        Command::Config { path } => show_config(&g, path.as_deref()),
        Command::Init => init(),
        Command::Tune(args) => tune_with(&args, &g),
        Command::DebugMacros { path } => debug_macros(&path),
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

fn show_config(g: &GlobalArgs, path: Option<&std::path::Path>) -> Outcome {
    let Some(path) = path else {
        return match setup(g) {
            Ok(s) => Outcome {
                stdout: s.config.to_toml(&s.settings, &s.knowledge),
                stderr: String::new(),
                code: 0,
            },
            Err(o) => o,
        };
    };
    let ws = Workspace::current();
    if !path.exists() {
        return usage_error(format!(
            "{}: no such file or directory",
            crate::source::slashed(path)
        ));
    }
    let abs = config::workspace::normalize(&ws.cwd.join(path));
    let start = if abs.is_dir() {
        abs
    } else {
        abs.parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| ws.cwd.clone())
    };
    match config::resolve::load_all_from(g.config.as_deref(), g.isolated, &start, &ws.cwd) {
        Ok((config, knowledge, settings)) => Outcome {
            stdout: config.to_toml(&settings, &knowledge),
            stderr: String::new(),
            code: 0,
        },
        Err(e) => config_errors(&e),
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

/// Resolve the command line's `--select`, `--extend-select` and
/// `--ignore` against a catalogue and apply them to `settings`.
fn command_line_selection(
    args: &CheckArgs,
    knowledge: &Knowledge,
    settings: &mut Settings,
) -> Result<(), String> {
    let names = config::Names::new(knowledge);
    let resolve =
        |list: &[String], flag: &str| -> Result<Vec<config::settings::Selector>, String> {
            let mut out = Vec::new();
            for x in list.iter().map(|x| x.trim()).filter(|x| !x.is_empty()) {
                match names.selector(x) {
                    Ok(sel) => out.push(sel),
                    Err(help) => {
                        return Err(format!(
                            "unknown check or pattern `{x}` in `{flag}`; {help}"
                        ))
                    }
                }
            }
            Ok(out)
        };
    let select = match &args.select {
        Some(list) => Some(resolve(list, "--select")?),
        None => None,
    };
    let extend = resolve(&args.extend_select, "--extend-select")?;
    let ignore = resolve(&args.ignore, "--ignore")?;
    for sel in &ignore {
        config::ignorable(sel)
            .map_err(|why| format!("{why} (in `--ignore`); {}", config::UNIGNORABLE_HELP))?;
    }
    settings.with_command_line(select, extend, ignore);
    Ok(())
}

/// `--include` / `--exclude` globs that match no file under `paths`.
fn unmatched_cli_globs(args: &CheckArgs) -> Vec<String> {
    // The globs filter directory walks only.
    if (args.include.is_empty() && args.exclude.is_empty())
        || !args.paths.iter().any(|p| p.is_dir())
    {
        return Vec::new();
    }
    let all = discover::discover_with(&args.paths, &None, &None, args.no_ignore);
    let walked: Vec<&std::path::Path> = all
        .candidates
        .iter()
        .filter(|c| !c.explicit)
        .map(|c| c.path.as_path())
        .collect();
    let mut out = Vec::new();
    for (flag, globs) in [("--include", &args.include), ("--exclude", &args.exclude)] {
        for glob in globs {
            let Ok(Some(set)) = discover::globset(std::slice::from_ref(glob)) else {
                continue;
            };
            let hit = walked.iter().any(|p| {
                let text = crate::source::slashed(p);
                let text = text.strip_prefix("./").unwrap_or(&text);
                set.is_match(text) || p.file_name().is_some_and(|n| set.is_match(n))
            });
            if !hit {
                out.push(format!(
                    "rulelint: warning: {flag} `{glob}` matches no rule file under the paths given\n"
                ));
            }
        }
    }
    out
}

/// The configuration of each discovered file, with the command line's
/// `--select`/`--ignore` applied to every one (shared by `check` and
/// `tune`).
fn configurations(
    args: &CheckArgs,
    g: &GlobalArgs,
    ws: &Workspace,
    candidates: &[discover::Candidate],
) -> Result<config::per_file::PerFile, Outcome> {
    let paths: Vec<PathBuf> = candidates.iter().map(|c| c.path.clone()).collect();
    let mut per = config::per_file::load(&paths, g.config.as_deref(), g.isolated, &ws.cwd)
        .map_err(|e| config_errors(&e))?;
    for l in &mut per.loaded {
        command_line_selection(args, &l.knowledge, &mut l.settings).map_err(usage_error)?;
    }
    Ok(per)
}

/// How one configuration's files are linted.
struct Group<'a> {
    knowledge: &'a Knowledge,
    settings: &'a Settings,
    opts: LintOptions,
}

/// How each configuration's files are linted.
fn groups_of<'a>(per: &'a config::per_file::PerFile, args: &CheckArgs) -> Vec<Group<'a>> {
    per.loaded
        .iter()
        .map(|l| Group {
            knowledge: &l.knowledge,
            settings: &l.settings,
            opts: LintOptions {
                environment: l.settings.environment.clone(),
                max_file_size: args.max_file_size.or(l.settings.max_file_size),
                disabled: checks::Code::ALL
                    .iter()
                    .copied()
                    .filter(|c| !l.settings.may_enable(*c))
                    .collect(),
            },
        })
        .collect()
}

/// Notes on stderr about what the walk left out: ignored rule files,
/// command-line and override globs that match nothing.
fn discovery_notes(
    args: &CheckArgs,
    ws: &Workspace,
    ignored: &[discover::Ignored],
    per: &config::per_file::PerFile,
    candidates: &[discover::Candidate],
    rel_in: &dyn Fn(&Settings, &str) -> String,
) -> String {
    let mut out = String::new();
    for i in ignored {
        out.push_str(&format!("rulelint: note: {}\n", i.note()));
    }
    for w in unmatched_cli_globs(args) {
        out.push_str(&w);
    }
    // Directories walked; a configuration's globs are judged only when its
    // whole directory was walked.
    let walked: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .map(|p| config::workspace::normalize(&ws.cwd.join(p)))
        .collect();
    if candidates.iter().any(|c| !c.explicit) {
        for (gi, l) in per.loaded.iter().enumerate() {
            if l.config.file.is_none() || !walked.iter().any(|w| l.config.root.starts_with(w)) {
                continue;
            }
            let rels: Vec<String> = candidates
                .iter()
                .zip(&per.index)
                .filter(|(_, i)| **i == gi)
                .map(|(c, _)| rel_in(&l.settings, &display_path(&c.path)))
                .collect();
            for glob in l.settings.unmatched_globs(&rels) {
                out.push_str(&format!(
                    "rulelint: warning: {}: `[[overrides]]` glob `{glob}` matches no checked file\n",
                    l.config.display
                ));
            }
        }
    }
    out
}

/// Drop the findings recorded in `b`, saying on `stderr` how many and
/// which recorded ones no longer occur (returned).
fn filter_by_baseline(
    b: &Baseline,
    results: &mut [FileResult],
    rel: &dyn Fn(&str) -> String,
    stderr: &mut String,
) -> Vec<baseline::Entry> {
    let f = b.filter(results, rel);
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
    f.stale
}

/// What linting found, with each file's configured selection and
/// severities applied, and the severity each file fails at.
type Linted = (Vec<FileResult>, std::collections::HashMap<String, Severity>);

/// Lint every candidate in parallel with the settings of its
/// configuration.
fn lint_pass(
    args: &CheckArgs,
    candidates: &[discover::Candidate],
    index: &[usize],
    groups: &[Group<'_>],
    rel_in: &(dyn Fn(&Settings, &str) -> String + Sync),
) -> Result<Linted, String> {
    let lint_all = || -> Vec<(FileResult, usize)> {
        candidates
            .par_iter()
            .zip(index.par_iter())
            .map(|(c, gi)| {
                let grp = &groups[*gi];
                let display = display_path(&c.path);
                let r = lint::lint_path(
                    grp.knowledge,
                    &grp.opts,
                    &c.path,
                    &display,
                    c.explicit && !args.skip_non_rules,
                );
                (r, *gi)
            })
            .collect()
    };
    let linted = match args.jobs {
        Some(n) => match rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
        {
            Ok(pool) => pool.install(lint_all),
            Err(e) => return Err(format!("cannot start {n} threads: {e}")),
        },
        None => lint_all(),
    };
    let mut fail_at: std::collections::HashMap<String, Severity> = Default::default();
    let default_fail = args.fail_on.map(FailOn::severity);
    let mut results = Vec::with_capacity(linted.len());
    for (mut r, gi) in linted {
        let settings = groups[gi].settings;
        let rel = rel_in(settings, &r.path);
        settings.apply(&rel, &mut r.diagnostics);
        fail_at.insert(
            r.path.clone(),
            default_fail
                .or(settings.fail_on)
                .unwrap_or(Severity::Warning),
        );
        results.push(r);
    }
    Ok((results, fail_at))
}

/// The `--baseline` file, read bounded and regular-only.
fn read_baseline(args: &CheckArgs) -> Result<Option<Baseline>, String> {
    let Some(p) = &args.baseline else {
        return Ok(None);
    };
    let shown = p.display().to_string();
    let text = crate::fsio::read_regular(p, baseline::MAX_SIZE)
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".into()))
        .map_err(|e| format!("cannot read baseline {shown}: {e}"))?;
    Baseline::parse(&shown, &text).map(Some)
}

/// What `--fix` or `--diff` did.
#[derive(Default)]
struct FixPass {
    /// One line per finding: fixed (would fix) or not, and why.
    report: String,
    /// `--diff`: the unified diff of every file.
    diff: String,
    /// Some file could not be written.
    write_failed: bool,
}

/// Fix (or, with `--diff`, show the fix of) every candidate with the
/// settings of its configuration.
fn fix_pass(
    args: &CheckArgs,
    candidates: &[discover::Candidate],
    index: &[usize],
    groups: &[Group<'_>],
    rel_in: &dyn Fn(&Settings, &str) -> String,
) -> FixPass {
    let mut out = FixPass::default();
    let verb = if args.diff { "would fix" } else { "fixed" };
    let not_verb = if args.diff {
        "would not fix"
    } else {
        "not fixed"
    };
    for (c, gi) in candidates.iter().zip(index) {
        let grp = &groups[*gi];
        let display = display_path(&c.path);
        // Unreadable files are reported by the linter below.
        let Ok(bytes) = crate::fsio::read_rule(&c.path, grp.opts.max_file_size) else {
            continue;
        };
        let Ok(text) = lint::decode(&display, bytes) else {
            continue;
        };
        let file = crate::source::SourceFile::new(&c.path, text);
        let rel = rel_in(grp.settings, &display);
        let settle = |d: &mut Vec<crate::diagnostic::Diagnostic>| grp.settings.apply(&rel, d);
        let res = fix::fix_text(
            grp.knowledge,
            &grp.opts,
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
            if args.diff {
                out.diff
                    .push_str(&fix::unified_diff(&display, &file.text, new_text));
            } else if let Err(e) = fix::write_atomic(&c.path, &file.text, new_text) {
                out.report.push_str(&format!(
                    "rulelint: error: cannot write {display}: {e}; its fixes are not applied\n"
                ));
                out.write_failed = true;
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
                None => out
                    .report
                    .push_str(&format!("{verb} {display}:{}: {} {what}\n", o.line, o.code)),
                Some(r) => out.report.push_str(&format!(
                    "{not_verb} {display}:{}: {} {what}: {r}\n",
                    o.line, o.code
                )),
            }
        }
    }
    out
}

/// The report in the chosen format, safe to print.
fn render_report(
    args: &CheckArgs,
    ws: &Workspace,
    groups: &[Group<'_>],
    results: &[FileResult],
    summary: &Summary,
    stale: &[baseline::Entry],
) -> String {
    let color = use_color(
        args.color,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
        std::io::stdout().is_terminal(),
    );
    let ctx = report::Context::new(ws.root.clone())
        .with_files(results.iter().map(|r| r.path.as_str()), |p| ws.absolute(p));
    // Every configuration's patterns (teams' own ones included), for the
    // SARIF rule metadata.
    let empty = Knowledge::default();
    let merged;
    let knowledge = match groups {
        [] => &empty,
        [first, ..] if args.format != OutputFormat::Sarif => first.knowledge,
        [first, rest @ ..] => {
            let mut all = first.knowledge.clone();
            for g in rest {
                for p in &g.knowledge.patterns {
                    if all.pattern(&p.id).is_none() {
                        all.patterns.push(p.clone());
                    }
                }
            }
            merged = all;
            &merged
        }
    };
    let stdout = if args.statistics {
        report::statistics::render(results, args.format == OutputFormat::Json)
    } else {
        match args.format {
            OutputFormat::Human => report::human::render(
                results,
                summary,
                &report::human::HumanOptions {
                    color,
                    quiet: args.quiet,
                    width: terminal_width(),
                },
            ),
            OutputFormat::Json => report::json::render(results, summary),
            OutputFormat::Sarif => report::sarif::render(results, knowledge, &ctx),
            OutputFormat::Github => report::github::render(results, summary, &ctx),
            OutputFormat::Markdown => report::markdown::render(results, summary, &ctx, stale),
            OutputFormat::Junit => report::junit::render(results),
        }
    };
    // Text for people can quote rule values; a CI runner reading stdout
    // must never take one of its lines for a workflow command. (The GitHub
    // format escapes its own values; JSON, SARIF and JUnit lines never
    // start so.)
    let stdout = match args.format {
        _ if args.statistics && args.format != OutputFormat::Json => {
            report::sanitize::workflow_commands(&stdout).into_owned()
        }
        OutputFormat::Human | OutputFormat::Markdown => {
            report::sanitize::workflow_commands(&stdout).into_owned()
        }
        _ => stdout,
    };
    stdout
}

pub fn check_with(args: CheckArgs, g: &GlobalArgs) -> Outcome {
    let start = Instant::now();
    if (args.unsafe_fixes || args.fix_placeholders) && !(args.fix || args.diff) {
        return usage_error("--unsafe-fixes and --fix-placeholders need --fix or --diff".into());
    }
    let ws = Workspace::current();
    let baseline = match read_baseline(&args) {
        Ok(b) => b,
        Err(e) => return usage_error(e),
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
    let discover::Discovered {
        candidates,
        errors: missing,
        ignored,
    } = found;
    let per = match configurations(&args, g, &ws, &candidates) {
        Ok(p) => p,
        Err(out) => return out,
    };
    let groups = groups_of(&per, &args);
    let rel_in = |settings: &Settings, display: &str| {
        ws.relative_to(&settings.root, display)
            .unwrap_or_else(|| ws.rel(display))
    };
    let mut fix_report = discovery_notes(&args, &ws, &ignored, &per, &candidates, &rel_in);
    let fixed = if args.fix || args.diff {
        fix_pass(&args, &candidates, &per.index, &groups, &rel_in)
    } else {
        FixPass::default()
    };
    fix_report.push_str(&fixed.report);
    let (write_failed, diff_out) = (fixed.write_failed, fixed.diff);
    let (mut results, fail_at) = match lint_pass(&args, &candidates, &per.index, &groups, &rel_in) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    // Paths that do not exist are a mistake on the command line: never
    // recorded in or covered by a baseline.
    let mut missing_results = Vec::new();
    for (p, msg) in &missing {
        let display = display_path(p);
        missing_results.push(FileResult {
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
    let mut stderr = fix_report;
    let rel = |p: &str| ws.rel(p);
    let stale = match &baseline {
        Some(b) => filter_by_baseline(b, &mut results, &rel, &mut stderr),
        None => Vec::new(),
    };
    if let Some(p) = &args.write_baseline {
        let b = Baseline::from_results(&results, &rel);
        if let Err(e) = crate::fsio::replace_file(p, None, b.to_json().as_bytes()) {
            return usage_error(format!("cannot write baseline {}: {e}", p.display()));
        }
        let n = baseline::total(&b.entries);
        stderr.push_str(&format!(
            "rulelint: wrote {} with {n} finding{} from {}\n",
            p.display(),
            if n == 1 { "" } else { "s" },
            plural(Summary::from_results(&results, 0).files, "file", "files")
        ));
        for (p, msg) in &missing {
            stderr.push_str(&format!("rulelint: error: {}: {msg}\n", display_path(p)));
        }
        return Outcome {
            stdout: String::new(),
            stderr,
            code: if missing.is_empty() { 0 } else { 2 },
        };
    }
    results.append(&mut missing_results);
    results.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = Summary::from_results(&results, start.elapsed().as_millis());
    let mut no_files = false;
    if summary.files == 0 {
        let what = if args.include.is_empty() {
            String::new()
        } else {
            format!(" (--include {})", args.include.join(", "))
        };
        if args.skip_non_rules && missing.is_empty() {
            // pre-commit passes the staged YAML and TOML files; a commit
            // without rules is not an error.
            stderr.push_str("rulelint: no rule file among the files given\n");
        } else {
            stderr.push_str(&format!(
                "rulelint: error: no rule file checked{what}: {} looked at, none is a rule; check the paths and the --include / --exclude globs\n",
                plural(summary.skipped, "file", "files")
            ));
            no_files = true;
        }
    }
    let any_error = results.iter().any(|r| {
        r.status == lint::FileStatus::Failed && r.diagnostics.iter().any(|d| d.is_fatal())
    });
    if args.diff {
        let code = if any_error || no_files {
            2
        } else if !diff_out.is_empty() {
            1
        } else {
            0
        };
        return deliver(diff_out, stderr, code, args.output_file.as_deref());
    }
    let stdout = render_report(&args, &ws, &groups, &results, &summary, &stale);
    let any_finding = results.iter().any(|r| {
        let fail = fail_at.get(&r.path).copied().unwrap_or(Severity::Warning);
        r.diagnostics.iter().any(|d| d.severity >= fail)
    });
    let code = if any_error || write_failed || no_files {
        2
    } else if any_finding {
        1
    } else {
        0
    };
    deliver(stdout, stderr, code, args.output_file.as_deref())
}

/// `rulelint tune`: the findings `check` would report with the same
/// selection, configuration and baseline, written as a tuning pack.
pub fn tune_with(targs: &TuneArgs, g: &GlobalArgs) -> Outcome {
    let args = targs.as_check();
    let ws = Workspace::current();
    let baseline = match read_baseline(&args) {
        Ok(b) => b,
        Err(e) => return usage_error(e),
    };
    let merge = match &targs.merge_with {
        None => None,
        Some(p) => match crate::fsio::read_regular(p, 16 * 1024 * 1024)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".into()))
        {
            Ok(t) => Some(t),
            Err(e) => return usage_error(format!("cannot read --merge-with {}: {e}", p.display())),
        },
    };
    let (include, exclude) = match (
        discover::globset(&args.include),
        discover::globset(&args.exclude),
    ) {
        (Ok(i), Ok(e)) => (i, e),
        (Err(e), _) | (_, Err(e)) => return usage_error(e),
    };
    let discover::Discovered {
        candidates,
        errors: missing,
        ignored,
    } = discover::discover_with(&args.paths, &include, &exclude, args.no_ignore);
    if let Some((p, msg)) = missing.first() {
        return usage_error(format!("{}: {msg}", display_path(p)));
    }
    let per = match configurations(&args, g, &ws, &candidates) {
        Ok(p) => p,
        Err(out) => return out,
    };
    let groups = groups_of(&per, &args);
    let rel_in = |settings: &Settings, display: &str| {
        ws.relative_to(&settings.root, display)
            .unwrap_or_else(|| ws.rel(display))
    };
    let mut stderr = discovery_notes(&args, &ws, &ignored, &per, &candidates, &rel_in);
    let (mut results, _) = match lint_pass(&args, &candidates, &per.index, &groups, &rel_in) {
        Ok(r) => r,
        Err(e) => return usage_error(e),
    };
    results.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(b) = &baseline {
        let rel = |p: &str| ws.rel(p);
        filter_by_baseline(b, &mut results, &rel, &mut stderr);
    }
    if !results
        .iter()
        .any(|r| r.status != lint::FileStatus::Skipped)
    {
        return usage_error(format!(
            "no rule file found in {}; nothing was written",
            args.paths
                .iter()
                .map(|p| display_path(p))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let failed = results
        .iter()
        .filter(|r| r.status == lint::FileStatus::Failed)
        .count();
    if failed > 0 {
        stderr.push_str(&format!(
            "rulelint: warning: {} could not be checked and {} not tuned (`rulelint check` shows why)\n",
            plural(failed, "file", "files"),
            if failed == 1 { "is" } else { "are" }
        ));
    }
    let plan = match crate::tune::plan(&results) {
        Ok(p) => p,
        Err(es) => {
            for e in es {
                stderr.push_str(&format!("error: {e}\n"));
            }
            stderr.push_str("rulelint: nothing was written\n");
            return Outcome {
                stdout: String::new(),
                stderr: report::sanitize::terminal(&stderr).into_owned(),
                code: 2,
            };
        }
    };
    let pack = match crate::tune::render(&plan, merge.as_deref()) {
        Ok(p) => p,
        Err(e) => return usage_error(format!("{e}; nothing was written")),
    };
    let out = &targs.out;
    let mut stdout = String::new();
    let code = if targs.check {
        match crate::tune::write::stale(out, &pack) {
            Ok(d) if d.is_empty() => {
                stdout.push_str(&format!("{} is up to date\n", display_path(out)));
                0
            }
            Ok(d) => {
                stdout.push_str(&format!(
                    "{} is stale; run `rulelint tune` again:\n",
                    display_path(out)
                ));
                for l in d {
                    stdout.push_str(&format!("  {l}\n"));
                }
                1
            }
            Err(e) => return usage_error(e),
        }
    } else {
        if let Err(e) = crate::tune::write::write_pack(out, &pack) {
            return usage_error(e);
        }
        stdout.push_str(&tune_summary(out, &plan, &pack));
        0
    };
    if !plan.skipped.is_empty() {
        stdout.push_str(&format!(
            "skipped {}:\n",
            plural(plan.skipped.len(), "exclusion", "exclusions")
        ));
        for s in &plan.skipped {
            stdout.push_str(&format!(
                "  {}: {}: {}: {}\n",
                s.file, s.rule, s.pattern, s.reason
            ));
        }
    }
    Outcome {
        stdout: report::sanitize::terminal(&stdout).into_owned(),
        stderr: report::sanitize::terminal(&stderr).into_owned(),
        code,
    }
}

/// What `tune` wrote, in one line per format.
fn tune_summary(
    out: &std::path::Path,
    plan: &crate::tune::Plan,
    pack: &crate::tune::Pack,
) -> String {
    let count = |prefix: &str, ext: &str| {
        pack.keys()
            .filter(|k| k.starts_with(prefix) && k.ends_with(ext))
            .count()
    };
    let rules = |ts: &[crate::tune::Target]| {
        let mut ids: Vec<(&str, &str)> = ts
            .iter()
            .map(|t| (t.file.as_str(), t.id.as_str()))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    let macros: std::collections::BTreeSet<&str> = plan
        .splunk
        .iter()
        .filter_map(|t| t.filter_macro.as_ref().map(|(n, _)| n.as_str()))
        .collect();
    format!(
        "wrote {}: {} for {}, {} for {}, {} for {}\n",
        display_path(out),
        plural(
            count("sigma/", ".yml"),
            "Sigma meta-filter",
            "Sigma meta-filters"
        ),
        plural(rules(&plan.sigma), "rule", "rules"),
        plural(macros.len(), "Splunk filter macro", "Splunk filter macros"),
        plural(rules(&plan.splunk), "detection", "detections"),
        plural(
            count("elastic/", ".ndjson"),
            "Elastic exception list",
            "Elastic exception lists"
        ),
        plural(rules(&plan.elastic), "rule", "rules"),
    )
}

/// The hidden `debug-macros` command: parse a macros.conf and each
/// definition as SPL.
fn debug_macros(path: &std::path::Path) -> Outcome {
    let text = match crate::fsio::read_regular(path, 64 * 1024 * 1024)
        .map_err(|e| e.to_string())
        .and_then(|b| String::from_utf8(b).map_err(|_| "it is not UTF-8 text".into()))
    {
        Ok(t) => t,
        Err(e) => return usage_error(format!("cannot read {}: {e}", path.display())),
    };
    match crate::tune::splunk::verify(&text) {
        Ok(n) => Outcome {
            stdout: format!("{n} definitions parse\n"),
            stderr: String::new(),
            code: 0,
        },
        Err(ps) => Outcome {
            stdout: String::new(),
            stderr: report::sanitize::terminal(
                &ps.iter()
                    .map(|p| format!("error: {p}\n"))
                    .collect::<String>(),
            )
            .into_owned(),
            code: 1,
        },
    }
}

/// Whether to colour the output: `--color`, else no colour when `NO_COLOR`
/// is set (non-empty), `TERM` is `dumb` or stdout is not a terminal.
fn use_color(
    choice: ColorChoice,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
    terminal: bool,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb") && terminal
        }
    }
}

/// The outcome, with the report written to `output_file` (atomically)
/// instead of stdout when one is given.
fn deliver(
    stdout: String,
    stderr: String,
    code: i32,
    output_file: Option<&std::path::Path>,
) -> Outcome {
    let Some(p) = output_file else {
        return Outcome {
            stdout,
            stderr,
            code,
        };
    };
    match crate::fsio::replace_file(p, None, stdout.as_bytes()) {
        Ok(()) => Outcome {
            stdout: String::new(),
            stderr,
            code,
        },
        Err(e) => Outcome {
            stdout: String::new(),
            stderr: format!("{stderr}error: cannot write {}: {e}\n", p.display()),
            code: 2,
        },
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Reflow prose to `width` columns: consecutive unindented prose lines
/// form a paragraph; a longer line is wrapped at spaces with continuation
/// lines keeping its indentation (under the text of a `- ` item). Fenced
/// code blocks, headings, tables and words longer than the width are
/// left whole.
pub fn wrap_text(text: &str, width: usize) -> String {
    let prose = |l: &str| {
        !l.is_empty()
            && !l.starts_with([' ', '#', '|', '-', '*', '>', '`', '\t'])
            && !l.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut lines: Vec<String> = Vec::new();
    let mut fenced = false;
    let mut joinable = false;
    for l in text.lines() {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
            lines.push(l.to_string());
            joinable = false;
            continue;
        }
        if fenced {
            lines.push(l.to_string());
            continue;
        }
        let p = prose(l);
        match lines.last_mut() {
            Some(last) if joinable && p => {
                last.push(' ');
                last.push_str(l.trim());
            }
            _ => lines.push(l.to_string()),
        }
        joinable = p || l.starts_with("- ") || l.starts_with("* ");
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut fenced = false;
    for body in &lines {
        if body.trim_start().starts_with("```") {
            fenced = !fenced;
        }
        if fenced || body.chars().count() <= width {
            out.push_str(body);
            out.push('\n');
            continue;
        }
        let indent = body.len() - body.trim_start().len();
        let rest = body.trim_start();
        let hang = indent
            + if rest.starts_with("- ") || rest.starts_with("* ") {
                2
            } else {
                0
            };
        let pad = " ".repeat(hang);
        out.push_str(&body[..indent]);
        let mut col = indent;
        let mut first = true;
        for word in rest.split(' ').filter(|w| !w.is_empty()) {
            let n = word.chars().count();
            if !first && col + 1 + n > width {
                out.push('\n');
                out.push_str(&pad);
                col = hang;
            } else if !first {
                out.push(' ');
                col += 1;
            }
            out.push_str(word);
            col += n;
            first = false;
        }
        out.push('\n');
    }
    if !text.ends_with('\n') {
        out.pop();
    }
    out
}

/// Columns to wrap prose at: `COLUMNS` when set, else 80.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c >= 20)
        .unwrap_or(80)
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
        } else if !m.globs.is_empty() {
            format!("matching glob {}", m.globs.join(", "))
        } else if !m.regex.is_empty() {
            format!("matching regex {}", m.regex.join(", "))
        } else if m.any {
            "any value".into()
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
            stdout: report::sanitize::terminal(&wrap_text(&s, terminal_width())).into_owned(),
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
            stdout: report::sanitize::terminal(&wrap_text(&text, terminal_width())).into_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_capable_terminal_unless_forced() {
        let dumb = Some(OsStr::new("dumb"));
        let xterm = Some(OsStr::new("xterm-256color"));
        assert!(use_color(ColorChoice::Auto, None, xterm, true));
        assert!(use_color(ColorChoice::Auto, None, None, true));
        assert!(!use_color(ColorChoice::Auto, None, dumb, true));
        assert!(!use_color(
            ColorChoice::Auto,
            Some(OsStr::new("1")),
            xterm,
            true
        ));
        assert!(use_color(
            ColorChoice::Auto,
            Some(OsStr::new("")),
            xterm,
            true
        ));
        assert!(!use_color(ColorChoice::Auto, None, xterm, false));
        assert!(use_color(
            ColorChoice::Always,
            Some(OsStr::new("1")),
            dumb,
            false
        ));
        assert!(!use_color(ColorChoice::Never, None, xterm, true));
    }

    #[test]
    fn wrapping_reflows_prose_and_keeps_code_and_lists() {
        let text = "First line of a\nparagraph that goes on.\n\n```yaml\na very long code line that must stay whole\n```\n- an item that is long enough to wrap\n";
        let w = wrap_text(text, 20);
        assert_eq!(
            w,
            "First line of a\nparagraph that goes\non.\n\n```yaml\na very long code line that must stay whole\n```\n- an item that is\n  long enough to\n  wrap\n"
        );
    }
}
