//! `[knowledge] extend`: the team's catalogues, loaded after the built-in
//! one.
//!
//! A catalogue path must stay inside the directory of the configuration
//! that names it: no absolute path, no `..` leading out of it, no symbolic
//! link pointing out of it. A file that is not a catalogue is reported
//! without quoting any of its content, so a configuration cannot make
//! rulelint print another file (credentials, environment) into a CI log.

use super::error::{error_at, ConfigError};
use super::read::Config;
use super::workspace::{display_path, inside, normalize};
use crate::fsio::{self, DEFAULT_MAX_FILE_SIZE};
use crate::knowledge::Knowledge;
use crate::source::SourceFile;
use std::path::{Component, Path, PathBuf};

const CONFINED_HELP: &str =
    "name a catalogue file inside the directory of the configuration, e.g. `knowledge/team.yml`";

/// The file `rel` names under `root`, or why it may not be read.
pub fn confine(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let p = Path::new(rel);
    if p.is_absolute()
        || p.has_root()
        || matches!(p.components().next(), Some(Component::Prefix(_)))
    {
        return Err("an absolute path is not allowed".into());
    }
    let n = normalize(p);
    if n.components().next() == Some(Component::ParentDir) {
        return Err("the path leads out of the configuration's directory".into());
    }
    let joined = root.join(&n);
    if !inside(&joined, root) {
        return Err(
            "the path leads out of the configuration's directory through a symbolic link".into(),
        );
    }
    Ok(joined)
}

/// Does `text` look like a catalogue (a YAML mapping with `patterns`)?
/// On failure, the position of the problem (no content).
fn catalogue_shape(text: &str) -> Result<(), Option<(u64, u64)>> {
    #[derive(serde::Deserialize)]
    struct Shape {
        #[allow(dead_code)]
        patterns: serde::de::IgnoredAny,
    }
    serde_saphyr::from_str::<Shape>(text)
        .map(|_| ())
        .map_err(|e| e.location().map(|l| (l.line(), l.column())))
}

impl Config {
    /// The built-in catalogue plus the `[knowledge] extend` files.
    pub fn knowledge(&self) -> Result<Knowledge, Vec<ConfigError>> {
        let mut k = Knowledge::builtin().map_err(|es| {
            es.iter()
                .map(|e| ConfigError::plain(&e.file, e.message.clone()))
                .collect::<Vec<_>>()
        })?;
        let mut errors = Vec::new();
        for ext in &self.extend {
            let refuse = |why: String, help: Option<String>| {
                self.error(
                    ext.span.clone(),
                    format!("cannot read knowledge file `{}`: {why}", ext.value),
                    help,
                )
            };
            let path = match confine(&self.root, &ext.value) {
                Ok(p) => p,
                Err(why) => {
                    errors.push(refuse(why, Some(CONFINED_HELP.into())));
                    continue;
                }
            };
            let text = match fsio::read_regular(&path, DEFAULT_MAX_FILE_SIZE) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(_) => {
                        errors.push(refuse("it is not UTF-8 text".into(), None));
                        continue;
                    }
                },
                Err(e) => {
                    errors.push(refuse(e.to_string(), None));
                    continue;
                }
            };
            if let Err(at) = catalogue_shape(&text) {
                let at = at
                    .map(|(l, c)| format!(" (problem at line {l}, column {c})"))
                    .unwrap_or_default();
                errors.push(self.error(
                    ext.span.clone(),
                    format!(
                        "`{}` is not a rulelint catalogue{at}; its content is not shown",
                        ext.value
                    ),
                    Some(
                        "a catalogue is a YAML mapping with a `patterns` list (see knowledge/README.md)"
                            .into(),
                    ),
                ));
                continue;
            }
            let shown = display_path(&path, &std::env::current_dir().unwrap_or_default());
            if let Err(es) = k.add_patterns(&shown, &text) {
                let sf = SourceFile::new(&shown, text.as_str());
                for e in es {
                    let span = e.span.map(|s| s.start..s.end);
                    let mut ce = error_at(&shown, &sf, span, e.message.clone(), None);
                    if ce.line.is_none() {
                        ce.line = e.line;
                        ce.column = e.column;
                    }
                    errors.push(ce);
                }
            }
        }
        if errors.is_empty() {
            Ok(k)
        } else {
            Err(errors)
        }
    }
}
