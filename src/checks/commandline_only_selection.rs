//! `RL308 commandline-only-selection`.
//!
//! A branch of a rule that says which arguments a process was run with,
//! but not which program: every other program run with the same text in
//! its command line matches too.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::rule::{Cmp, DetectionRule, Language, Logic, Op, Schema};
use std::collections::HashSet;

declare_check! {
    /// A selection keys only on command-line text, with no program, original file name, hash or signer.
    ///
    /// ## Why
    ///
    /// `CommandLine|contains: ' -urlcache '` matches `certutil.exe`, but
    /// also every other program whose arguments hold the same text: a
    /// script, an installer, a renamed copy, a tool that logs its own
    /// command line. The detection is then both noisy and easy to sidestep.
    /// Anchoring the branch on the program (`Image|endswith`,
    /// `OriginalFileName`, which survives renaming), its hash or signer, or
    /// its parent, makes it say what it means.
    ///
    /// A branch is one way the rule can match (its conditions joined with
    /// `and`); exclusions do not anchor it. A parent program anchors it
    /// too. Only generic text is reported: switches and words of at most
    /// 12 characters (` -enc `, `--target`, `firewall`); a long, distinctive
    /// string or a bespoke regex already names the tool. Branches on script
    /// text (PowerShell script blocks) have no program to name and are not
    /// reported, nor are comparisons with a whole command line. One finding
    /// per rule, at its first such branch.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// selection:
    ///     CommandLine|contains|all:
    ///         - ' -urlcache '
    ///         - ' -f '
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// selection:
    ///     - Image|endswith: '\certutil.exe'
    ///     - OriginalFileName: 'CertUtil.exe'
    /// selection_cli:
    ///     CommandLine|contains|all:
    ///         - ' -urlcache '
    ///         - ' -f '
    /// condition: all of selection*
    /// ```
    ///
    /// ## Fix
    ///
    /// Add the program to the branch: Sigma `Image|endswith` and
    /// `OriginalFileName`, ECS `process.name` and
    /// `process.pe.original_file_name`, CIM `Processes.process_name`.
    pub struct CommandlineOnlySelection {
        code: "RL308",
        name: "commandline-only-selection",
        category: Logic,
        severity: Info,
        fix: None,
    }
}

/// Most branches looked at in one rule; a rule with more is skipped.
const MAX_BRANCHES: usize = 512;

impl Check for CommandlineOnlySelection {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        let Some(branches) = branches(logic) else {
            return;
        };
        // The first comparison of each unanchored branch, once.
        let mut seen = HashSet::new();
        let mut found: Vec<&Cmp> = Vec::new();
        for b in &branches {
            if b.unknown || b.cmps.iter().any(|c| is_script_text(c) || anchors(c)) {
                continue;
            }
            let cli: Vec<&&Cmp> = b
                .cmps
                .iter()
                .filter(|c| is_partial_command_line(c))
                .collect();
            // A distinctive text (a long string, a bespoke regex) names
            // the tool well enough; generic switches do not.
            if cli.iter().any(|c| !generic(c)) {
                continue;
            }
            // Reported where the text names a program (`esentutl`,
            // `ufw `, `whoami`): the rule looks for the program in the
            // arguments of whatever runs.
            if let Some(first) = cli
                .iter()
                .find(|c| c.values.iter().any(|v| program_word(&v.text)))
            {
                if seen.insert(first.span) {
                    found.push(first);
                }
            }
        }
        // One finding per rule, at its first such branch.
        if let Some(first) = found.first() {
            let more = match found.len() {
                1 => String::new(),
                n => format!(" ({n} branches of this rule do)"),
            };
            let value = first
                .values
                .iter()
                .map(|v| v.text.as_str())
                .find(|t| program_word(t))
                .unwrap_or("");
            let mut d = Diagnostic::new(
                self.code(),
                ctx,
                first.span,
                format!(
                    "this branch looks for the program in the command line (`{}` {} `{}`){more} but never compares the program: any process whose arguments hold the same text matches",
                    first.field.raw,
                    op_word(first.op),
                    value
                ),
            )
            .with_rule(rule)
            .with_help(help(rule));
            d.key = format!("{}|{}|{value}", self.code(), first.field.raw);
            out.push(d.into());
        }
    }
}

fn op_word(op: Op) -> &'static str {
    match op {
        Op::Contains => "contains",
        Op::StartsWith => "starts with",
        Op::EndsWith => "ends with",
        Op::Regex => "matches",
        _ => "matches",
    }
}

fn help(rule: &DetectionRule) -> String {
    match (rule.language, rule.schema) {
        (Language::Sigma, _) => "add the program to the same selection or an `and`-ed one: `Image|endswith: '\\<program>.exe'`, and `OriginalFileName` to survive renaming".to_string(),
        (Language::Spl, _) | (_, Schema::Splunk) => {
            "add the program: `Processes.process_name=<program>.exe` (or its hash or parent)".to_string()
        }
        _ => "add the program: `process.name` and `process.pe.original_file_name` (or its hash, signer or parent)".to_string(),
    }
}

/// One way the rule can match: its positive comparisons.
#[derive(Default, Clone)]
struct Branch<'a> {
    cmps: Vec<&'a Cmp>,
    /// The branch holds a part no parser could model.
    unknown: bool,
}

/// The rule's branches (its positive logic in disjunctive form), or `None`
/// when there are more than [`MAX_BRANCHES`].
fn branches(l: &Logic) -> Option<Vec<Branch<'_>>> {
    match l {
        Logic::Cmp(c) => Some(vec![Branch {
            cmps: vec![c],
            unknown: false,
        }]),
        // Exclusions do not anchor a branch; free-text terms say nothing
        // about the program.
        Logic::Not(_) | Logic::Keyword(_) => Some(vec![Branch::default()]),
        Logic::Opaque(_) => Some(vec![Branch {
            cmps: Vec::new(),
            unknown: true,
        }]),
        Logic::Shared(x) => branches(x),
        Logic::Or(c) => {
            let mut out = Vec::new();
            for x in c {
                out.extend(branches(x)?);
                if out.len() > MAX_BRANCHES {
                    return None;
                }
            }
            Some(out)
        }
        Logic::And(c) => {
            let mut out = vec![Branch::default()];
            for x in c {
                let next = branches(x)?;
                if out.len() * next.len() > MAX_BRANCHES {
                    return None;
                }
                out = out
                    .iter()
                    .flat_map(|a| {
                        next.iter().map(move |b| {
                            let mut m = a.clone();
                            m.cmps.extend(b.cmps.iter().copied());
                            m.unknown |= b.unknown;
                            m
                        })
                    })
                    .collect();
            }
            Some(out)
        }
    }
}

fn concept(c: &Cmp) -> &str {
    c.field.concept.as_deref().unwrap_or("")
}

/// A comparison with part of the process's command line.
fn is_partial_command_line(c: &Cmp) -> bool {
    matches!(concept(c), "process.command_line" | "process.args")
        && matches!(
            c.op,
            Op::Contains | Op::StartsWith | Op::EndsWith | Op::Wildcard | Op::Regex
        )
        && !c.values.is_empty()
}

/// A value that reads as a program name: one lower-case word (letters,
/// digits, `_`), optionally with `.exe`, once blanks and wildcards are
/// trimmed (`esentutl`, `whoami.exe`); not a switch, not a hyphenated
/// subcommand (`clear-log`), not a word between blanks (` init `).
fn program_word(text: &str) -> bool {
    let bare = text.trim_matches(|ch: char| ch == '*' || ch == '"');
    // ` init `: a word between blanks is an argument (a subcommand).
    if bare.starts_with(char::is_whitespace) && bare.ends_with(char::is_whitespace) {
        return false;
    }
    let t = bare.trim();
    let stem = t
        .strip_suffix(".exe")
        .or_else(|| t.strip_suffix(".EXE"))
        .unwrap_or(t);
    stem.len() >= 3
        && stem.starts_with(|c: char| c.is_ascii_lowercase())
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Longest value still taken for a generic switch or word (` -enc `,
/// `--target`, `firewall`).
const GENERIC_MAX: usize = 12;

/// Every value of the comparison is short, generic text: not a regex,
/// at most [`GENERIC_MAX`] characters once blanks and wildcards are
/// trimmed.
fn generic(c: &Cmp) -> bool {
    c.op != Op::Regex
        && c.values.iter().all(|v| {
            v.text
                .trim_matches(|ch: char| ch.is_whitespace() || ch == '*')
                .chars()
                .count()
                <= GENERIC_MAX
        })
}

fn is_script_text(c: &Cmp) -> bool {
    concept(c) == "powershell.file.script_block_text"
}

/// A comparison that names the program: its name or path, original file
/// name or PE metadata, hash, signer, or its parent.
fn anchors(c: &Cmp) -> bool {
    if c.op == Op::Exists {
        return false;
    }
    let k = concept(c);
    if matches!(
        k,
        "process.name"
            | "process.executable"
            | "process.pe.original_file_name"
            | "process.pe.description"
            | "process.pe.product"
            | "process.pe.company"
            | "process.parent.name"
            | "process.parent.executable"
            | "process.parent.command_line"
    ) {
        return true;
    }
    let raw = c.field.raw.to_ascii_lowercase();
    // Linux auditd `EXECVE`: `a0` is the program as it was invoked.
    if raw == "a0" {
        return true;
    }
    ["hash", "signature", "signed", "signer", "imphash"]
        .iter()
        .any(|w| raw.contains(w))
}
