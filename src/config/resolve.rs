//! Checking a read configuration against the loaded catalogue (check codes,
//! pattern ids, environment facts) and compiling the [`Settings`].

use super::error::ConfigError;
use super::names::Names;
use super::read::{At, Config, Layer};
use super::settings::{CompiledLayer, Environment, Selector, Settings};
use crate::checks::Category;
use crate::diagnostic::Severity;
use crate::did_you_mean::did_you_mean;
use crate::knowledge::facts::{check_value, declared_at, fact_kinds};
use crate::knowledge::Knowledge;
use globset::GlobSet;
use std::path::Path;

/// Read the configuration (see [`Config::load`]), load the catalogue with
/// its `[knowledge] extend` files and resolve the settings, collecting
/// every error of the file rather than stopping at the first stage that
/// has one. Names are checked against the catalogue only when it loaded.
pub fn load_all(
    explicit: Option<&Path>,
    isolated: bool,
    cwd: &Path,
) -> Result<(Config, Knowledge, Settings), Vec<ConfigError>> {
    load_all_from(explicit, isolated, cwd, cwd)
}

/// [`load_all`] with discovery starting at `start` (see
/// [`Config::load_partial_from`]).
pub fn load_all_from(
    explicit: Option<&Path>,
    isolated: bool,
    start: &Path,
    cwd: &Path,
) -> Result<(Config, Knowledge, Settings), Vec<ConfigError>> {
    let (config, mut errors) = Config::load_partial_from(explicit, isolated, start, cwd)?;
    match config.knowledge() {
        Ok(knowledge) => match config.resolve(&knowledge) {
            Ok(settings) if errors.is_empty() => return Ok((config, knowledge, settings)),
            Ok(_) => {}
            Err(mut es) => errors.append(&mut es),
        },
        Err(mut es) => errors.append(&mut es),
    }
    // The configuration's own errors first, in the order of its lines.
    errors.sort_by_key(|e| (e.file != config.display, e.line, e.column));
    Err(errors)
}

impl Config {
    /// Check names against the catalogue and compile the settings.
    pub fn resolve(&self, knowledge: &Knowledge) -> Result<Settings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let names = Names::new(knowledge);
        let mut layers = Vec::new();
        layers.push(self.compile_layer(&self.base, None, &names, &mut errors));
        for o in &self.overrides {
            let mut l = self.compile_layer(&o.layer, o.globs.clone(), &names, &mut errors);
            l.include = o.include.iter().map(|g| g.value.clone()).collect();
            layers.push(l);
        }
        let kinds = fact_kinds(knowledge);
        let mut environment = Environment::new();
        for (fact, values) in &self.environment {
            let Some((_, kind)) = kinds.iter().find(|(n, _)| *n == fact.value) else {
                let help = match did_you_mean(&fact.value, kinds.iter().map(|(n, _)| n.as_str())) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => "`rulelint config` lists the known facts".into(),
                };
                errors.push(self.error(
                    fact.span.clone(),
                    format!("unknown environment fact `{}`", fact.value),
                    Some(help),
                ));
                continue;
            };
            let mut kept = Vec::with_capacity(values.len());
            for v in values {
                match check_value(*kind, &v.value) {
                    Ok(x) => kept.push(x),
                    Err(why) => {
                        let declared = declared_at(&fact.value)
                            .map(|at| format!(", declared at {at}"))
                            .unwrap_or_default();
                        errors.push(self.error(
                            v.span.clone(),
                            format!(
                                "`{}` in `{}` {why}: `{}` is {} {} fact{declared}",
                                v.value,
                                fact.value,
                                fact.value,
                                if kind.as_str().starts_with('a') {
                                    "an"
                                } else {
                                    "a"
                                },
                                kind.as_str()
                            ),
                            Some(format!("write {}", kind.example())),
                        ));
                    }
                }
            }
            environment.insert(fact.value.clone(), kept);
        }
        if errors.is_empty() {
            Ok(Settings {
                root: self.root.clone(),
                layers,
                environment,
                fail_on: self.fail_on.as_ref().map(|f| f.value),
                max_file_size: self.max_file_size.as_ref().map(|m| m.value),
            })
        } else {
            Err(errors)
        }
    }

    fn compile_layer(
        &self,
        layer: &Layer,
        globs: Option<GlobSet>,
        names: &Names,
        errors: &mut Vec<ConfigError>,
    ) -> CompiledLayer {
        let mut sel = |list: &[At<String>], what: &str| -> Vec<Selector> {
            let mut out = Vec::new();
            for s in list {
                match names.selector(&s.value) {
                    Ok(x) => out.push(x),
                    Err(help) => errors.push(self.error(
                        s.span.clone(),
                        format!("unknown check or pattern `{}` in `{what}`", s.value),
                        Some(help),
                    )),
                }
            }
            out
        };
        let select = sel(&layer.select, "select");
        let ignore = sel(&layer.ignore, "ignore");
        for (s, x) in layer.ignore.iter().zip(&ignore) {
            if let Err(why) = ignorable(x) {
                errors.push(self.error(s.span.clone(), why, Some(UNIGNORABLE_HELP.into())));
            }
        }
        let mut severity = Vec::new();
        for (k, sev) in &layer.severity {
            match names.selector(&k.value) {
                Ok(Selector::Code(c)) => severity.push((Selector::Code(c), *sev)),
                Ok(Selector::Pattern(p)) => severity.push((Selector::Pattern(p), *sev)),
                Ok(_) => errors.push(self.error(
                    k.span.clone(),
                    format!(
                        "`[severity]` keys are check codes, check names or pattern ids, not `{}`",
                        k.value
                    ),
                    None,
                )),
                Err(help) => errors.push(self.error(
                    k.span.clone(),
                    format!("unknown check or pattern `{}` in `[severity]`", k.value),
                    Some(help),
                )),
            }
        }
        CompiledLayer {
            globs,
            include: Vec::new(),
            select,
            ignore,
            severity,
            cli: false,
        }
    }
}

/// What to do instead of ignoring an error that stops a file from being
/// checked.
pub const UNIGNORABLE_HELP: &str = "exclude the file (`--exclude`, `.gitignore`) or record its error in a baseline (`--write-baseline`)";

/// A selector naming exactly one check whose diagnostics are errors that
/// stop the file from being checked (`RL006 invalid-condition`) cannot be
/// ignored: nothing of the file would be checked, silently.
pub fn ignorable(s: &Selector) -> Result<(), String> {
    match s {
        Selector::Code(c) if c.category() == Category::Parse && c.meta().severity == Severity::Error => {
            Err(format!(
                "`{}` ({}) cannot be ignored: it is an error that stops the file from being checked",
                c.as_str(),
                c.name()
            ))
        }
        _ => Ok(()),
    }
}
