//! File names as reporters show them, and the plain data about the
//! project's files that reporters need ([`Context`]), built by the caller.
//!
//! A name is shown as it is: only the platform's own separator becomes `/`
//! (on Windows `\`), so on Unix, where `\` is an ordinary character in a
//! file name, `rules\a.yml` stays `rules\a.yml` and never names another
//! file.

use std::collections::HashMap;
use std::path::PathBuf;

pub use crate::source::slashed;

/// Where one reported file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The absolute path.
    pub absolute: PathBuf,
    /// The path relative to the project root (with `/`), when the file is
    /// inside it.
    pub relative: Option<String>,
}

/// What reporters know about the run's files: the project root (the base
/// of relative paths in SARIF URIs, annotations and summaries) and where
/// each file named in the results is. Plain data; the command line builds
/// it from its workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The project root, absolute.
    pub root: PathBuf,
    files: HashMap<String, FileRef>,
}

impl Context {
    pub fn new(root: impl Into<PathBuf>) -> Context {
        Context {
            root: root.into(),
            files: HashMap::new(),
        }
    }

    /// Record that the file shown as `shown` is at `absolute`.
    pub fn add(&mut self, shown: &str, absolute: PathBuf) {
        let relative = absolute.strip_prefix(&self.root).ok().map(slashed);
        self.files
            .insert(shown.to_string(), FileRef { absolute, relative });
    }

    /// With every file in `shown` recorded through `absolute`.
    pub fn with_files<'a>(
        mut self,
        shown: impl IntoIterator<Item = &'a str>,
        absolute: impl Fn(&str) -> PathBuf,
    ) -> Context {
        for s in shown {
            let a = absolute(s);
            self.add(s, a);
        }
        self
    }

    pub fn file(&self, shown: &str) -> Option<&FileRef> {
        self.files.get(shown)
    }

    /// The path relative to the root, else the absolute path, else (for a
    /// file not recorded) the path as shown.
    pub fn rel(&self, shown: &str) -> String {
        match self.files.get(shown) {
            Some(FileRef {
                relative: Some(r), ..
            }) => r.clone(),
            Some(f) => slashed(&f.absolute),
            None => shown.to_string(),
        }
    }

    /// Is the file inside the project root? (A file not recorded counts as
    /// inside: its shown path is relative.)
    pub fn inside(&self, shown: &str) -> bool {
        self.files.get(shown).is_none_or(|f| f.relative.is_some())
    }

    /// The absolute path (for a file not recorded, the root joined with
    /// the shown path).
    pub fn absolute(&self, shown: &str) -> PathBuf {
        match self.files.get(shown) {
            Some(f) => f.absolute.clone(),
            None => self.root.join(shown),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn names_keep_their_characters() {
        if std::path::MAIN_SEPARATOR == '/' {
            assert_eq!(slashed(Path::new("rules\\a.yml")), "rules\\a.yml");
        }
        assert_eq!(slashed(Path::new("rules/a b.yml")), "rules/a b.yml");
    }

    #[test]
    fn relative_inside_absolute_outside() {
        let ctx =
            Context::new("/r").with_files(["x/a.yml", "/e/b.yml"], |s| Path::new("/r").join(s));
        assert_eq!(ctx.rel("x/a.yml"), "x/a.yml");
        assert!(ctx.inside("x/a.yml"));
        assert_eq!(ctx.rel("/e/b.yml"), "/e/b.yml");
        assert!(!ctx.inside("/e/b.yml"));
        assert_eq!(ctx.rel("unknown.yml"), "unknown.yml");
    }
}
