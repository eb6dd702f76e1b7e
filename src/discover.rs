//! Finding rule files: walk directories (honouring `.gitignore`), filter
//! with `--include` / `--exclude` globs.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};

/// A file to lint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    /// Named on the command line (always checked, whatever its extension).
    pub explicit: bool,
}

/// Extensions looked at when walking a directory.
pub const RULE_EXTENSIONS: &[&str] = &["yml", "yaml", "toml"];

pub fn globset(patterns: &[String]) -> Result<Option<GlobSet>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| format!("invalid glob `{p}`: {e}"))?;
        b.add(g);
        // `dir/` style patterns also match what is below.
        if !p.contains('*') {
            if let Ok(g) = Glob::new(&format!("{}/**", p.trim_end_matches('/'))) {
                b.add(g);
            }
        }
    }
    b.build().map(Some).map_err(|e| e.to_string())
}

fn matches(set: &Option<GlobSet>, path: &Path) -> bool {
    let Some(set) = set else { return false };
    let s = path.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    set.is_match(s) || path.file_name().is_some_and(|n| set.is_match(n))
}

/// Expand the command-line paths into the files to lint, sorted.
/// Returns the candidates and errors for paths that do not exist.
pub fn discover(
    paths: &[PathBuf],
    include: &Option<GlobSet>,
    exclude: &Option<GlobSet>,
) -> (Vec<Candidate>, Vec<(PathBuf, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for root in paths {
        if !root.exists() {
            errors.push((root.clone(), "no such file or directory".to_string()));
            continue;
        }
        let rule_ext = root
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| RULE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        if !root.is_dir() || rule_ext {
            // A directory named like a rule file (`x.yml`) is reported as
            // such by the linter rather than walked.
            out.push(Candidate {
                path: root.clone(),
                explicit: true,
            });
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .hidden(true)
            .require_git(false)
            .git_global(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    errors.push((root.clone(), e.to_string()));
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                continue;
            }
            let p = entry.path();
            let ext_ok = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| RULE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if !ext_ok {
                continue;
            }
            if include.is_some() && !matches(include, p) {
                continue;
            }
            if matches(exclude, p) {
                continue;
            }
            out.push(Candidate {
                path: p.to_path_buf(),
                explicit: false,
            });
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.path == b.path);
    (out, errors)
}
