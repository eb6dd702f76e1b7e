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

/// What [`discover_with`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    pub candidates: Vec<Candidate>,
    /// Paths that do not exist or cannot be walked.
    pub errors: Vec<(PathBuf, String)>,
    /// Directories named on the command line where `.gitignore` / `.ignore`
    /// files hide every rule file.
    pub ignored: Vec<Ignored>,
}

/// A directory whose rule files are all hidden by ignore files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub dir: PathBuf,
    /// The hidden rule files, sorted.
    pub files: Vec<PathBuf>,
}

impl Ignored {
    /// A note for the user.
    pub fn note(&self) -> String {
        let n = self.files.len();
        let examples: Vec<String> = self
            .files
            .iter()
            .take(3)
            .map(|p| crate::source::slashed(p))
            .collect();
        format!(
            "{} holds {n} rule file{} that .gitignore or .ignore files hide ({}{}); pass --no-ignore to lint {}",
            crate::source::slashed(&self.dir),
            if n == 1 { "" } else { "s" },
            examples.join(", "),
            if n > examples.len() { ", ..." } else { "" },
            if n == 1 { "it" } else { "them" }
        )
    }
}

fn has_rule_extension(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| RULE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// The rule files under `root`, honouring ignore files unless `no_ignore`.
fn walk(root: &Path, no_ignore: bool, errors: &mut Vec<(PathBuf, String)>) -> Vec<PathBuf> {
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .require_git(false)
        .git_global(false)
        .git_ignore(!no_ignore)
        .git_exclude(!no_ignore)
        .ignore(!no_ignore)
        .parents(!no_ignore)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    let mut out = Vec::new();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push((root.to_path_buf(), e.to_string()));
                continue;
            }
        };
        if entry.file_type().is_some_and(|t| t.is_file()) && has_rule_extension(entry.path()) {
            out.push(entry.path().to_path_buf());
        }
    }
    out
}

/// Expand the command-line paths into the files to lint, sorted. With
/// `no_ignore`, `.gitignore` and `.ignore` files are not honoured. When
/// they hide every rule file of a directory named on the command line, the
/// directory is listed in [`Discovered::ignored`].
pub fn discover_with(
    paths: &[PathBuf],
    include: &Option<GlobSet>,
    exclude: &Option<GlobSet>,
    no_ignore: bool,
) -> Discovered {
    let mut d = Discovered::default();
    for root in paths {
        if !root.exists() {
            d.errors
                .push((root.clone(), "no such file or directory".to_string()));
            continue;
        }
        if !root.is_dir() || has_rule_extension(root) {
            // A directory named like a rule file (`x.yml`) is reported as
            // such by the linter rather than walked.
            d.candidates.push(Candidate {
                path: root.clone(),
                explicit: true,
            });
            continue;
        }
        let found = walk(root, no_ignore, &mut d.errors);
        if found.is_empty() && !no_ignore {
            let hidden = walk(root, true, &mut Vec::new());
            if !hidden.is_empty() {
                d.ignored.push(Ignored {
                    dir: root.clone(),
                    files: hidden,
                });
            }
        }
        for p in found {
            if include.is_some() && !matches(include, &p) {
                continue;
            }
            if matches(exclude, &p) {
                continue;
            }
            d.candidates.push(Candidate {
                path: p,
                explicit: false,
            });
        }
    }
    d.candidates.sort();
    d.candidates.dedup_by(|a, b| a.path == b.path);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn ignore_files_that_hide_every_rule_are_reported() {
        let dir = tree(&[
            (".gitignore", "*.yml\n"),
            ("rules/a.yml", "title: a\n"),
            ("rules/b.yml", "title: b\n"),
        ]);
        let rules = dir.path().join("rules");
        let d = discover_with(std::slice::from_ref(&rules), &None, &None, false);
        assert!(d.candidates.is_empty(), "{:?}", d.candidates);
        assert_eq!(d.ignored.len(), 1);
        assert_eq!(
            d.ignored[0].files,
            vec![rules.join("a.yml"), rules.join("b.yml")]
        );
        let note = d.ignored[0].note();
        assert!(note.contains("holds 2 rule files"), "{note}");
        assert!(note.contains("--no-ignore"), "{note}");

        let d = discover_with(std::slice::from_ref(&rules), &None, &None, true);
        assert_eq!(d.candidates.len(), 2);
        assert!(d.ignored.is_empty());
    }

    #[test]
    fn partly_ignored_directories_are_linted_without_a_note() {
        let dir = tree(&[
            (".ignore", "b.yml\n"),
            ("rules/a.yml", "title: a\n"),
            ("rules/b.yml", "title: b\n"),
        ]);
        let rules = dir.path().join("rules");
        let d = discover_with(std::slice::from_ref(&rules), &None, &None, false);
        assert_eq!(d.candidates.len(), 1);
        assert!(d.ignored.is_empty());
    }
}
