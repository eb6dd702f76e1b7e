//! The select / ignore / severity settings: which diagnostics a file
//! reports and at which severity. Shared by the linter, inline
//! suppressions and baselines; knows diagnostics, not the checks.

pub use crate::checks::Environment;
use crate::checks::{Category, Code};
use crate::diagnostic::{Diagnostic, Severity};
use globset::GlobSet;
use std::path::PathBuf;

/// What a `select` / `ignore` / `[severity]` entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// `ALL`.
    All,
    /// A code prefix: `RL2`.
    Prefix(String),
    /// A check, by code or name.
    Code(Code),
    /// A knowledge pattern id.
    Pattern(String),
}

impl Selector {
    pub(crate) fn matches(&self, d: &Diagnostic) -> bool {
        match self {
            Selector::All => true,
            Selector::Prefix(p) => d.code.as_str().starts_with(p.as_str()),
            Selector::Code(c) => d.code == *c,
            Selector::Pattern(p) => d.pattern.as_deref() == Some(p.as_str()),
        }
    }

    /// Whether the selector names `code` as a whole (a pattern selector
    /// names part of `RL201`).
    fn names_code(&self, code: Code) -> bool {
        match self {
            Selector::All => true,
            Selector::Prefix(p) => code.as_str().starts_with(p.as_str()),
            Selector::Code(c) => *c == code,
            Selector::Pattern(_) => false,
        }
    }

    /// More specific selectors win over less specific ones.
    pub(crate) fn specificity(&self) -> usize {
        match self {
            Selector::All => 0,
            Selector::Prefix(p) => p.len(),
            Selector::Code(_) => 10,
            Selector::Pattern(_) => 20,
        }
    }
}

/// One layer (the top level or an override) with its names resolved.
#[derive(Debug, Clone)]
pub(crate) struct CompiledLayer {
    /// `None` for the top level (all files).
    pub(crate) globs: Option<GlobSet>,
    /// The globs as written (empty for the top level and the command line).
    pub(crate) include: Vec<String>,
    pub(crate) select: Vec<Selector>,
    pub(crate) ignore: Vec<Selector>,
    pub(crate) severity: Vec<(Selector, Severity)>,
    /// The layer of `--extend-select` / `--ignore`.
    pub(crate) cli: bool,
}

/// Validated settings, applied to each file's diagnostics.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Override globs are relative to this directory.
    pub root: PathBuf,
    pub(crate) layers: Vec<CompiledLayer>,
    pub environment: Environment,
    pub fail_on: Option<Severity>,
    /// `max-file-size` of the configuration, in bytes.
    pub max_file_size: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            root: PathBuf::new(),
            layers: vec![CompiledLayer {
                globs: None,
                include: Vec::new(),
                select: Vec::new(),
                ignore: Vec::new(),
                severity: Vec::new(),
                cli: false,
            }],
            environment: Environment::new(),
            fail_on: None,
            max_file_size: None,
        }
    }
}

/// Errors that stop a file from being checked are always reported.
pub fn is_fatal(d: &Diagnostic) -> bool {
    d.is_fatal()
}

impl Settings {
    fn layers_for<'a>(&'a self, rel: &str) -> Vec<&'a CompiledLayer> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.layers
            .iter()
            .filter(|l| match &l.globs {
                None => true,
                Some(g) => g.is_match(rel) || g.is_match(name),
            })
            .collect()
    }

    /// Is `d` enabled for the file at `rel` (relative to [`Settings::root`])?
    /// Later layers (overrides, in order) decide before earlier ones; within
    /// a layer the most specific matching entry decides, `ignore` winning a
    /// tie. With no matching entry, a check is enabled unless the top-level
    /// `select` is non-empty.
    pub fn enabled(&self, rel: &str, d: &Diagnostic) -> bool {
        if is_fatal(d) {
            return true;
        }
        let layers = self.layers_for(rel);
        for l in layers.iter().rev() {
            let best = l
                .select
                .iter()
                .map(|s| (s, false))
                .chain(l.ignore.iter().map(|s| (s, true)))
                .filter(|(s, _)| s.matches(d))
                .map(|(s, ignore)| (s.specificity(), ignore))
                .max();
            if let Some((_, ignore)) = best {
                return !ignore;
            }
        }
        self.layers.first().is_none_or(|l| l.select.is_empty())
    }

    /// The configured severity of `d`, if any.
    pub fn severity(&self, rel: &str, d: &Diagnostic) -> Option<Severity> {
        if is_fatal(d) {
            return None;
        }
        for l in self.layers_for(rel).iter().rev() {
            let best = l
                .severity
                .iter()
                .filter(|(s, _)| s.matches(d))
                .max_by_key(|(s, _)| s.specificity());
            if let Some((_, sev)) = best {
                return Some(*sev);
            }
        }
        None
    }

    /// Whether `code` may report in some file. A check that no layer
    /// enables is not run at all. Conservative: a check enabled by any
    /// override, or `RL201` when any pattern is selected, runs everywhere
    /// and [`Settings::apply`] drops what a file does not enable.
    pub fn may_enable(&self, code: Code) -> bool {
        if code.category() == Category::Parse {
            return true;
        }
        // The command-line layer applies to every file and decides first.
        if let Some(cli) = self.layers.last().filter(|l| l.cli) {
            let pattern_selected = code == Code::KnownFpPattern
                && cli.select.iter().any(|s| matches!(s, Selector::Pattern(_)));
            let best = cli
                .select
                .iter()
                .map(|s| (s, false))
                .chain(cli.ignore.iter().map(|s| (s, true)))
                .filter(|(s, _)| s.names_code(code))
                .map(|(s, ignore)| (s.specificity(), ignore))
                .max();
            match best {
                Some((_, false)) => return true,
                Some((_, true)) if !pattern_selected => return false,
                _ => {}
            }
        }
        let Some(top) = self.layers.first() else {
            return true;
        };
        let at_top = top
            .select
            .iter()
            .map(|s| (s, false))
            .chain(top.ignore.iter().map(|s| (s, true)))
            .filter(|(s, _)| s.names_code(code))
            .map(|(s, ignore)| (s.specificity(), ignore))
            .max()
            .map(|(_, ignore)| !ignore)
            .unwrap_or(top.select.is_empty());
        at_top
            || self.layers.iter().any(|l| {
                l.select.iter().any(|s| {
                    s.names_code(code)
                        || (code == Code::KnownFpPattern && matches!(s, Selector::Pattern(_)))
                })
            })
    }

    /// Apply the command line's selection (ruff's semantics): `select`
    /// replaces the top level's `select` and `ignore`; `extend_select` and
    /// `ignore` form a last layer for every file, deciding before the
    /// configuration's `[[overrides]]`.
    pub fn with_command_line(
        &mut self,
        select: Option<Vec<Selector>>,
        extend_select: Vec<Selector>,
        ignore: Vec<Selector>,
    ) {
        if let Some(sel) = select {
            if let Some(top) = self.layers.first_mut() {
                top.select = sel;
                top.ignore.clear();
            }
        }
        if !extend_select.is_empty() || !ignore.is_empty() {
            self.layers.push(CompiledLayer {
                globs: None,
                include: Vec::new(),
                select: extend_select,
                ignore,
                severity: Vec::new(),
                cli: true,
            });
        }
    }

    /// The `[[overrides]]` globs that match none of `rels` (paths relative
    /// to [`Settings::root`]).
    pub fn unmatched_globs(&self, rels: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for l in &self.layers {
            for g in &l.include {
                let Ok(set) = crate::discover::globset(std::slice::from_ref(g)) else {
                    continue;
                };
                let Some(set) = set else { continue };
                let hit = rels.iter().any(|r| {
                    let name = r.rsplit('/').next().unwrap_or(r);
                    set.is_match(r) || set.is_match(name)
                });
                if !hit && !out.contains(g) {
                    out.push(g.clone());
                }
            }
        }
        out
    }

    /// Drop disabled diagnostics and apply configured severities.
    pub fn apply(&self, rel: &str, diags: &mut Vec<Diagnostic>) {
        diags.retain(|d| self.enabled(rel, d));
        for d in diags.iter_mut() {
            if let Some(s) = self.severity(rel, d) {
                d.severity = s;
            }
        }
    }
}
