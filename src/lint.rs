//! The linting pipeline: read → sniff → parse → resolve concepts → checks.

use crate::checks::proposal::Finding;
use crate::checks::{Check, CheckContext, Code, Environment, RULE_CHECKS};
use crate::diagnostic::{Diagnostic, Position, Severity};
use crate::format;
use crate::knowledge::Knowledge;
use crate::rule::{DetectionRule, Format, ParseIssue};
use crate::source::{SourceFile, Span};
use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::path::Path;

/// What linting one file produced.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// The path as shown in output.
    pub path: String,
    /// The file's text, when it could be read (reporters quote it).
    pub source: Option<SourceFile>,
    pub format: Option<Format>,
    pub status: FileStatus,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// Parsed and checked; the number of rules in it.
    Checked(usize),
    /// Not a rule file (found while walking a directory).
    Skipped,
    /// Unreadable or unparseable.
    Failed,
}

/// Options for linting, independent of the command line.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    pub environment: Environment,
    /// Checks not to run (disabled by the configuration for every file).
    pub disabled: BTreeSet<Code>,
    /// Files larger than this many bytes are not read (default 4 MB).
    pub max_file_size: Option<u64>,
}

/// Turn a parser issue into a diagnostic.
pub fn issue_diagnostic(
    file: &SourceFile,
    display: &str,
    format: Option<Format>,
    issue: &ParseIssue,
) -> Diagnostic {
    // Parsers name their codes as declared in `checks::parse`; a test
    // keeps every code they use declared.
    let code = Code::from_code(issue.code).unwrap_or(Code::InternalError);
    let span = clamp(issue.span, file.text.len());
    Diagnostic {
        code,
        pattern: None,
        severity: issue.severity,
        message: issue.message.clone(),
        note: None,
        help: issue.help.clone(),
        file: display.to_string(),
        format,
        rule: None,
        span,
        position: Position::resolve(file, span),
        labels: Vec::new(),
        suggestion: None,
        key: format!("{code}|{}", issue.message),
    }
}

fn clamp(span: Span, len: usize) -> Span {
    let start = span.start.min(len);
    Span::new(start, span.end.clamp(start, len))
}

/// An error about a file that has no text to point into (unreadable).
pub fn file_error(display: &str, code: Code, message: String, help: Option<String>) -> Diagnostic {
    Diagnostic {
        code,
        pattern: None,
        severity: Severity::Error,
        message: message.clone(),
        note: None,
        help,
        file: display.to_string(),
        format: None,
        rule: None,
        span: Span::default(),
        position: Position {
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            offset: 0,
            length: 0,
        },
        labels: Vec::new(),
        suggestion: None,
        key: format!("{code}|{message}"),
    }
}

/// Decode file bytes: UTF-8 text, or an RL001 diagnostic.
pub fn decode(display: &str, bytes: Vec<u8>) -> Result<String, Box<Diagnostic>> {
    if bytes.contains(&0) {
        return Err(Box::new(file_error(
            display,
            Code::UnreadableFile,
            "binary file (contains NUL bytes), not a rule".into(),
            Some("exclude it with `--exclude`".into()),
        )));
    }
    match String::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let prefix = String::from_utf8_lossy(&bytes[..valid]).into_owned();
            let sf = SourceFile::new(display, prefix);
            let lc = sf.line_col(valid);
            let mut d = file_error(
                display,
                Code::UnreadableFile,
                format!(
                    "invalid UTF-8 at line {}, column {} (byte {valid})",
                    lc.line, lc.column
                ),
                Some("save the file as UTF-8".into()),
            );
            d.position.line = lc.line;
            d.position.column = lc.column;
            d.position.end_line = lc.line;
            d.position.end_column = lc.column;
            d.position.offset = valid;
            Err(Box::new(d))
        }
    }
}

/// Lint one file's text. `explicit` files are checked even when their
/// content does not look like a rule.
pub fn lint_source(
    knowledge: &Knowledge,
    opts: &LintOptions,
    file: SourceFile,
    display: &str,
    explicit: bool,
) -> FileResult {
    let fmt = match format::sniff(&file.text) {
        Some(f) => f,
        None if explicit => {
            if file.text.trim().is_empty() {
                let d = file_error(
                    display,
                    Code::EmptyRuleFile,
                    "the file is empty".into(),
                    Some("write a rule or remove the file".into()),
                );
                return FileResult {
                    path: display.into(),
                    source: Some(file),
                    format: None,
                    status: FileStatus::Failed,
                    diagnostics: vec![d],
                };
            }
            format::guess_by_extension(file.path(), &file.text)
        }
        None => {
            return FileResult {
                path: display.into(),
                source: Some(file),
                format: None,
                status: FileStatus::Skipped,
                diagnostics: Vec::new(),
            }
        }
    };
    let parsed = catching(|| format::parse(fmt, &file));
    let mut parsed = match parsed {
        Ok(p) => p,
        Err(at) => {
            let d = internal_error(display, "reading this file", &at);
            return FileResult {
                path: display.into(),
                source: Some(file),
                format: Some(fmt),
                status: FileStatus::Failed,
                diagnostics: vec![d],
            };
        }
    };
    let mut diags: Vec<Diagnostic> = parsed
        .issues
        .iter()
        .map(|i| issue_diagnostic(&file, display, Some(fmt), i))
        .collect();
    if parsed.rules.is_empty() && !diags.iter().any(|d| d.severity == Severity::Error) {
        diags.push(file_error(
            display,
            Code::EmptyRuleFile,
            format!("no {} rule found in this file", fmt.as_str()),
            None,
        ));
    }
    for rule in &mut parsed.rules {
        if let Some(l) = &mut rule.logic {
            knowledge.fields.resolve(rule.schema, l);
        }
    }
    let ctx = CheckContext {
        knowledge,
        environment: &opts.environment,
        file: &file,
        display,
    };
    let checks: Vec<&dyn Check> = RULE_CHECKS
        .iter()
        .copied()
        .filter(|c| !opts.disabled.contains(&c.code()))
        .collect();
    let findings = run_checks(&ctx, &checks, &parsed.rules, &mut diags);
    // The rendering stage: each proposed exclusion in the rule's language.
    diags.extend(crate::suggest::stage::render(
        &parsed.rules,
        &file,
        findings,
    ));
    let failed = diags.iter().any(Diagnostic::is_fatal);
    if file.text.contains("rulelint") {
        let names = crate::config::Names::new(knowledge);
        crate::suppress::apply(
            &file,
            display,
            Some(fmt),
            &names.all(),
            !failed,
            &opts.disabled,
            &mut diags,
        );
    }
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    FileResult {
        path: display.into(),
        format: Some(fmt),
        status: if failed {
            FileStatus::Failed
        } else {
            FileStatus::Checked(parsed.rules.len())
        },
        source: Some(file),
        diagnostics: diags,
    }
}

/// The dispatch loop: every enabled check on every rule. A panic in a
/// check keeps what was found so far and becomes one `RL000` in `diags`.
fn run_checks(
    ctx: &CheckContext<'_>,
    checks: &[&dyn Check],
    rules: &[DetectionRule],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut current = None;
    let ran = catching(|| {
        for rule in rules {
            for check in checks {
                current = Some(check.code());
                check.check_rule(ctx, rule, &mut findings);
            }
        }
    });
    if let Err(at) = ran {
        let what = match current {
            Some(code) => format!("running {} {}", code, code.name()),
            None => "running the checks".to_string(),
        };
        diags.push(internal_error(ctx.display, &what, &at));
    }
    findings
}

/// `RL000`: rulelint itself failed on this file.
fn internal_error(display: &str, doing: &str, at: &str) -> Diagnostic {
    file_error(
        display,
        Code::InternalError,
        format!("internal error while {doing}; the file was not fully checked"),
        Some(format!(
            "please report it with this file (or a reduced copy){}",
            if at.is_empty() {
                String::new()
            } else {
                format!(": {at}")
            }
        )),
    )
}

thread_local! {
    /// Set while [`catching`] runs: the panic hook records instead of
    /// printing.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// Where the last caught panic happened (`src/x.rs:12`).
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Run `f`, turning a panic into `Err(location)`. Nothing is printed for a
/// panic caught here once [`install_panic_hook`] ran.
fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = CATCHING.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    r.map_err(|_| PANIC_AT.with(|p| std::mem::take(&mut *p.borrow_mut())))
}

/// Keep panics that the linter catches (they become `RL000` diagnostics)
/// off stderr; any other panic prints one line naming where it happened.
/// The panic's own message, which may quote rule text, is never printed.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if CATCHING.with(Cell::get) {
            PANIC_AT.with(|p| *p.borrow_mut() = at);
        } else {
            eprintln!("rulelint: internal error at {at}; please report it");
        }
    }));
}

/// Read and lint one path.
pub fn lint_path(
    knowledge: &Knowledge,
    opts: &LintOptions,
    path: &Path,
    display: &str,
    explicit: bool,
) -> FileResult {
    let failed = |d: Diagnostic| FileResult {
        path: display.into(),
        source: None,
        format: None,
        status: FileStatus::Failed,
        diagnostics: vec![d],
    };
    let bytes = match crate::fsio::read_rule(path, opts.max_file_size) {
        Ok(b) => b,
        Err(e) => {
            let message = format!("cannot read the file: {e}");
            return failed(file_error(display, Code::UnreadableFile, message, e.help()));
        }
    };
    match decode(display, bytes) {
        Ok(text) => lint_source(
            knowledge,
            opts,
            SourceFile::new(path, text),
            display,
            explicit,
        ),
        Err(d) => failed(*d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{Category, Declared};

    struct Panics;

    impl Declared for Panics {
        fn code(&self) -> Code {
            Code::TstatsWithoutDatamodel
        }
    }

    impl Check for Panics {
        fn check_rule(&self, ctx: &CheckContext<'_>, _: &DetectionRule, out: &mut Vec<Finding>) {
            out.push(
                file_error(
                    ctx.display,
                    Code::TstatsWithoutDatamodel,
                    "before".into(),
                    None,
                )
                .into(),
            );
            panic!("a check failed on {}", ctx.display);
        }
    }

    /// Parsers sit below the registry and name their codes as strings
    /// (`ParseIssue::error("RL004", …)`); every such string must be a
    /// declared parse code, or the issue would turn into `RL000`.
    #[test]
    fn every_code_the_parsers_name_is_a_declared_parse_code() {
        fn walk(dir: &Path, found: &mut Vec<(String, String)>) {
            for e in std::fs::read_dir(dir).expect("read src") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    walk(&p, found);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    let text = std::fs::read_to_string(&p).expect("read");
                    let bytes = text.as_bytes();
                    for (i, _) in text.match_indices("\"RL") {
                        let code = &text[i + 1..(i + 6).min(text.len())];
                        if bytes.get(i + 6) == Some(&b'"')
                            && code[2..].bytes().all(|b| b.is_ascii_digit())
                        {
                            found.push((p.display().to_string(), code.to_string()));
                        }
                    }
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        for dir in ["format", "query", "rule"] {
            walk(&root.join(dir), &mut found);
        }
        assert!(found.len() > 50, "too few codes found: {}", found.len());
        for (file, code) in found {
            let c = Code::from_code(&code)
                .unwrap_or_else(|| panic!("{file}: `{code}` is not a declared code"));
            assert_eq!(c.category(), Category::Parse, "{file}: `{code}`");
        }
    }

    #[test]
    fn a_panicking_check_becomes_one_internal_error_and_keeps_the_rest() {
        let k = Knowledge::builtin().expect("catalogue");
        let file = SourceFile::new(
            "r.yml",
            "title: t\nlogsource: {category: process_creation}\ndetection:\n  s: {Image: x}\n  condition: s\n",
        );
        let parsed = format::parse(Format::Sigma, &file);
        assert_eq!(parsed.rules.len(), 1);
        let ctx = CheckContext {
            knowledge: &k,
            environment: &Environment::new(),
            file: &file,
            display: "r.yml",
        };
        let mut diags = Vec::new();
        let found = run_checks(&ctx, &[&Panics, &Panics], &parsed.rules, &mut diags);
        diags.extend(found.into_iter().map(|f| f.diagnostic));
        diags.sort_by_key(|d| d.code != Code::TstatsWithoutDatamodel);
        let codes: Vec<Code> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![Code::TstatsWithoutDatamodel, Code::InternalError]
        );
        let d = &diags[1];
        assert!(d.is_fatal());
        assert!(
            d.message.contains("RL014 tstats-without-datamodel"),
            "{}",
            d.message
        );
        // The panic's own text (which may quote the rule) is not repeated.
        assert!(!d.message.contains("a check failed"), "{}", d.message);
        assert!(!d.help.as_deref().unwrap_or("").contains("a check failed"));
    }
}
