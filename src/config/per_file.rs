//! One configuration per checked file: the nearest `rulelint.toml` or
//! `.rulelint.toml` in the file's directory or above, up to the repository
//! root. Each configuration is read once, with its own catalogue
//! (`[knowledge] extend`) and settings; `--config` and `--isolated` give
//! every file the same one.

use super::error::ConfigError;
use super::read::{discover, Config};
use super::resolve::load_all_from;
use super::settings::Settings;
use super::workspace::normalize;
use crate::knowledge::Knowledge;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A configuration with its catalogue and settings.
pub struct Loaded {
    pub config: Config,
    pub knowledge: Knowledge,
    pub settings: Settings,
}

/// The configurations of a run and which one each file uses.
pub struct PerFile {
    pub loaded: Vec<Loaded>,
    /// For each file given to [`PerFile::load`], its index in `loaded`.
    pub index: Vec<usize>,
}

/// Load the configuration of each of `files` (paths as given, relative to
/// `cwd` or absolute). With `explicit` or `isolated`, one configuration
/// for all. Every error of every configuration is returned, each once.
pub fn load(
    files: &[PathBuf],
    explicit: Option<&Path>,
    isolated: bool,
    cwd: &Path,
) -> Result<PerFile, Vec<ConfigError>> {
    if explicit.is_some() || isolated || files.is_empty() {
        let (config, knowledge, settings) = load_all_from(explicit, isolated, cwd, cwd)?;
        return Ok(PerFile {
            loaded: vec![Loaded {
                config,
                knowledge,
                settings,
            }],
            index: vec![0; files.len()],
        });
    }
    let mut by_dir: HashMap<PathBuf, usize> = HashMap::new();
    let mut by_file: HashMap<Option<PathBuf>, usize> = HashMap::new();
    let mut loaded = Vec::new();
    let mut index = Vec::with_capacity(files.len());
    let mut errors: Vec<ConfigError> = Vec::new();
    for f in files {
        let abs = normalize(&cwd.join(f));
        let dir = abs
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.to_path_buf());
        if let Some(&i) = by_dir.get(&dir) {
            index.push(i);
            continue;
        }
        let found = discover(&dir);
        let i = match by_file.get(&found) {
            Some(&i) => i,
            None => {
                let i = match load_all_from(None, false, &dir, cwd) {
                    Ok((config, knowledge, settings)) => {
                        loaded.push(Loaded {
                            config,
                            knowledge,
                            settings,
                        });
                        loaded.len() - 1
                    }
                    Err(es) => {
                        for e in es {
                            if !errors.contains(&e) {
                                errors.push(e);
                            }
                        }
                        usize::MAX
                    }
                };
                by_file.insert(found, i);
                i
            }
        };
        by_dir.insert(dir, i);
        index.push(i);
    }
    if errors.is_empty() {
        Ok(PerFile { loaded, index })
    } else {
        Err(errors)
    }
}
