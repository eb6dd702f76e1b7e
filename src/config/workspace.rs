//! Where the linter runs: the working directory and the project root.

use std::path::{Component, Path, PathBuf};

/// The repository root at or above `start`: the nearest directory holding
/// `.git` (a directory, or a file in a linked worktree).
pub fn repo_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// Where the linter runs: the working directory and the project root that
/// output paths (SARIF URIs, annotations, baselines) are relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub cwd: PathBuf,
    /// The enclosing git repository, or the working directory.
    pub root: PathBuf,
}

/// Is `path` (following links) inside `dir` (following links)? A path that
/// does not exist counts as inside; reading it reports that it is missing.
pub fn inside(path: &Path, dir: &Path) -> bool {
    let Ok(dir) = dir.canonicalize() else {
        return false;
    };
    match path.canonicalize() {
        Ok(p) => p.starts_with(dir),
        Err(_) => std::fs::symlink_metadata(path).is_err(),
    }
}

/// Remove `.` and `..` components without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `p` relative to `cwd` (with `..` where needed) when both are absolute,
/// forward slashes.
pub(crate) fn display_path(p: &Path, cwd: &Path) -> String {
    let n = normalize(p);
    if !n.is_absolute() || !cwd.is_absolute() {
        return crate::source::slashed(&n);
    }
    let a: Vec<_> = n.components().collect();
    let b: Vec<_> = cwd.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return crate::source::slashed(&n);
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c.as_os_str());
    }
    crate::source::slashed(&out)
}

impl Workspace {
    pub fn new(cwd: PathBuf) -> Workspace {
        let cwd = normalize(&cwd);
        let root = repo_root(&cwd).unwrap_or_else(|| cwd.clone());
        Workspace { cwd, root }
    }

    /// The current working directory's workspace.
    pub fn current() -> Workspace {
        Workspace::new(std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")))
    }

    /// The absolute path of a path as shown in output (relative to cwd).
    pub fn absolute(&self, shown: &str) -> PathBuf {
        normalize(&self.cwd.join(shown))
    }

    /// `shown` relative to `base`, with forward slashes; `None` when the
    /// file is outside `base`.
    pub fn relative_to(&self, base: &Path, shown: &str) -> Option<String> {
        let abs = self.absolute(shown);
        abs.strip_prefix(base).ok().map(crate::source::slashed)
    }

    /// `shown` relative to the project root (forward slashes), or the
    /// absolute path when outside it.
    pub fn rel(&self, shown: &str) -> String {
        self.relative_to(&self.root, shown)
            .unwrap_or_else(|| crate::source::slashed(&self.absolute(shown)))
    }

    /// Is `shown` inside the project root?
    pub fn inside(&self, shown: &str) -> bool {
        self.relative_to(&self.root, shown).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_backslash_in_a_name_is_kept() {
        // On Unix `rules\a.yml` is one file name, not `rules/a.yml`: the
        // baseline and override globs must see the name as it is.
        let ws = Workspace {
            cwd: PathBuf::from("/r"),
            root: PathBuf::from("/r"),
        };
        assert_eq!(ws.rel("rules\\a.yml"), "rules\\a.yml");
        assert_eq!(ws.rel("rules/a.yml"), "rules/a.yml");
        assert_ne!(ws.rel("rules\\a.yml"), ws.rel("rules/a.yml"));
        assert_eq!(
            display_path(Path::new("/r/x\\y.yml"), Path::new("/r")),
            "x\\y.yml"
        );
    }
}
