//! Configuration: `rulelint.toml` or `.rulelint.toml`, found for each
//! checked file by walking up from its directory to the repository root
//! ([`per_file`]; `--config PATH` and `--isolated` override). The commands
//! that check no file (`config`, `explain`, `patterns`) start at the
//! working directory.
//!
//! * [`read`]: [`Config::parse`] reads the TOML and checks its shape
//!   (unknown keys with a did-you-mean, wrong types), keeping the byte span
//!   of every value; every error of the file is collected.
//! * [`resolve`]: [`Config::resolve`] checks the names against the loaded
//!   catalogue (check codes, pattern ids, environment facts) and compiles
//!   the [`Settings`]; [`Config::knowledge`] loads the `[knowledge] extend`
//!   catalogues, confined to the configuration's directory.
//! * [`settings`]: select / ignore / severity, applied to diagnostics (shared
//!   by the linter, suppressions and baselines).
//! * [`workspace`]: the working directory and the project root.
//!
//! Every error carries the file, line and column.

pub mod effective;
pub mod error;
pub mod extend;
pub mod names;
pub mod per_file;
pub mod read;
pub mod resolve;
pub mod settings;
pub mod workspace;

pub use crate::knowledge::facts::{fact_description, pattern_facts};
pub use error::ConfigError;
pub use names::Names;
pub use read::{parse_size, Config, CONFIG_FILE_NAMES};
pub use resolve::{ignorable, load_all, UNIGNORABLE_HELP};
pub use settings::Settings;
pub use workspace::Workspace;

/// A commented starter configuration (`rulelint init`).
pub const STARTER: &str = include_str!("starter.toml");

#[cfg(test)]
mod tests;
