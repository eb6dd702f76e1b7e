//! Reading `rulelint.toml`: the TOML tree, its shape (unknown keys with a
//! did-you-mean, wrong types, invalid globs), and the byte span of every
//! value. Every error of the file is collected, not only the first.

use super::error::{error_at, ConfigError};
use super::workspace::{display_path, inside, repo_root};
use crate::diagnostic::Severity;
use crate::did_you_mean::did_you_mean;
use crate::fsio;
use crate::source::SourceFile;
use globset::GlobSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml_edit::{Item, TableLike, Value};

/// File names looked for in each directory, in order of preference.
pub const CONFIG_FILE_NAMES: [&str; 2] = ["rulelint.toml", ".rulelint.toml"];

/// Top-level keys of the configuration.
const TOP_KEYS: &[&str] = &[
    "select",
    "ignore",
    "fail-on",
    "severity",
    "environment",
    "knowledge",
    "overrides",
    "max-file-size",
];
const KNOWLEDGE_KEYS: &[&str] = &["extend"];
const OVERRIDE_KEYS: &[&str] = &["include", "select", "ignore", "severity"];

/// A value with the byte range where it is written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub span: Option<Range<usize>>,
}

impl<T> At<T> {
    pub(crate) fn new(value: T, span: Option<Range<usize>>) -> Self {
        At { value, span }
    }
}

/// Selection and severity settings of the top level or of one override.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    pub select: Vec<At<String>>,
    pub ignore: Vec<At<String>>,
    pub severity: Vec<(At<String>, Severity)>,
}

/// `[[overrides]]`: settings for the files matching `include`.
#[derive(Debug, Clone)]
pub struct Override {
    pub include: Vec<At<String>>,
    pub globs: Option<GlobSet>,
    pub layer: Layer,
}

/// A parsed configuration file (or the defaults).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file read, `None` for the defaults.
    pub file: Option<PathBuf>,
    /// How messages name the file.
    pub display: String,
    /// Directory that `include` globs and `[knowledge] extend` paths are
    /// relative to: the file's directory (or the working directory).
    pub root: PathBuf,
    pub(super) source: Option<SourceFile>,
    pub base: Layer,
    pub fail_on: Option<At<Severity>>,
    pub environment: Vec<(At<String>, Vec<At<String>>)>,
    pub extend: Vec<At<String>>,
    pub overrides: Vec<Override>,
    /// `max-file-size`: rule files larger than this many bytes are not read.
    pub max_file_size: Option<At<u64>>,
}

/// A configuration file larger than this is not read.
const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// Find `rulelint.toml` / `.rulelint.toml` in `start` or above, up to the
/// repository root (the directory holding `.git`): a configuration above
/// the checkout is never read. Outside a repository the walk goes up to
/// the file-system root.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let stop = repo_root(start);
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in CONFIG_FILE_NAMES {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        if stop.as_deref() == Some(d) {
            break;
        }
        dir = d.parent();
    }
    None
}

/// Parse a size: a number of bytes (`4194304`) or a number with a unit
/// `KB`, `MB` or `GB` (binary multiples: `4MB` is 4 × 1024 × 1024 bytes).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let (num, unit) = t.split_at(digits);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// The types of TOML items, for messages.
fn kind(item: &Item) -> &'static str {
    match item {
        Item::None => "nothing",
        Item::Value(v) => value_kind(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
    }
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "an inline table",
    }
}

/// Is `s` an IPv4/IPv6 address or a CIDR range?
pub fn valid_address(s: &str) -> bool {
    crate::knowledge::facts::valid_cidr(s)
}

/// Reads the TOML tree, collecting errors.
struct Reader<'a> {
    display: &'a str,
    source: &'a SourceFile,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    /// The span of a string value without its quotes.
    fn inner_span(&self, v: &Value) -> Option<Range<usize>> {
        let sp = v.span()?;
        let raw = self.source.text.get(sp.clone()).unwrap_or("");
        let q = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            3
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            1
        } else {
            0
        };
        if q > 0 && sp.len() >= 2 * q {
            Some(sp.start + q..sp.end - q)
        } else {
            Some(sp)
        }
    }

    fn error(&mut self, span: Option<Range<usize>>, message: String, help: Option<String>) {
        self.errors
            .push(error_at(self.display, self.source, span, message, help));
    }

    fn unknown_key(&mut self, key: &str, span: Option<Range<usize>>, known: &[&str], what: &str) {
        let help = match did_you_mean(key, known.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!("{what} keys are: {}", known.join(", ")),
        };
        self.error(span, format!("unknown key `{key}`"), Some(help));
    }

    fn strings(&mut self, name: &str, item: &Item) -> Vec<At<String>> {
        let Some(arr) = item.as_array() else {
            self.error(
                item.span(),
                format!("`{name}` must be an array of strings, found {}", kind(item)),
                Some(format!("write `{name} = [\"…\"]`")),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in arr.iter() {
            match v.as_str() {
                Some(s) => out.push(At::new(s.to_string(), self.inner_span(v))),
                None => self.error(
                    v.span(),
                    format!(
                        "`{name}` must be an array of strings, found {} in it",
                        value_kind(v)
                    ),
                    None,
                ),
            }
        }
        out
    }

    fn severity(&mut self, name: &str, item: &Item) -> Option<Severity> {
        let Some(s) = item.as_str() else {
            self.error(
                item.span(),
                format!(
                    "`{name}` must be a string (error, warning, info or hint), found {}",
                    kind(item)
                ),
                None,
            );
            return None;
        };
        match s.parse::<Severity>() {
            Ok(sev) => Some(sev),
            Err(_) => {
                let help = did_you_mean(s, ["error", "warning", "info", "hint"])
                    .map(|c| format!("did you mean `{c}`?"))
                    .unwrap_or_else(|| "use error, warning, info or hint".into());
                self.error(
                    item.span(),
                    format!("unknown severity `{s}` for `{name}`"),
                    Some(help),
                );
                None
            }
        }
    }

    fn table<'t>(&mut self, name: &str, item: &'t Item) -> Option<&'t dyn TableLike> {
        let t = item.as_table_like();
        if t.is_none() {
            self.error(
                item.span(),
                format!("`{name}` must be a table, found {}", kind(item)),
                Some(format!("write `[{name}]` followed by its keys")),
            );
        }
        t
    }

    fn severity_table(&mut self, name: &str, item: &Item) -> Vec<(At<String>, Severity)> {
        let Some(t) = self.table(name, item) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in t.iter() {
            let kspan = t.key(k).and_then(|k| k.span());
            if let Some(sev) = self.severity(&format!("{name}.{k}"), v) {
                out.push((At::new(k.to_string(), kspan), sev));
            }
        }
        out
    }

    fn layer_key(&mut self, layer: &mut Layer, key: &str, item: &Item) -> bool {
        match key {
            "select" => layer.select = self.strings(key, item),
            "ignore" => layer.ignore = self.strings(key, item),
            "severity" => layer.severity = self.severity_table(key, item),
            _ => return false,
        }
        true
    }
}

impl Config {
    /// The defaults (no file), rooted at `cwd`.
    pub fn defaults(cwd: &Path) -> Config {
        Config {
            display: "(defaults)".into(),
            root: cwd.to_path_buf(),
            ..Config::default()
        }
    }

    /// Find and read the configuration: `explicit` if given, none when
    /// `isolated`, else the nearest `rulelint.toml` / `.rulelint.toml` at or
    /// above `cwd`.
    pub fn load(
        explicit: Option<&Path>,
        isolated: bool,
        cwd: &Path,
    ) -> Result<Config, Vec<ConfigError>> {
        let (c, errors) = Config::load_partial(explicit, isolated, cwd)?;
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    /// [`Config::load`], keeping what is valid when some keys are not:
    /// the configuration without them and their errors. `Err` when the
    /// file cannot be read or is not TOML.
    pub fn load_partial(
        explicit: Option<&Path>,
        isolated: bool,
        cwd: &Path,
    ) -> Result<(Config, Vec<ConfigError>), Vec<ConfigError>> {
        Config::load_partial_from(explicit, isolated, cwd, cwd)
    }

    /// [`Config::load_partial`] with discovery starting at `start` (a
    /// checked file's directory) instead of the working directory; paths
    /// in messages stay relative to `cwd`, and `explicit` is shown as given.
    pub fn load_partial_from(
        explicit: Option<&Path>,
        isolated: bool,
        start: &Path,
        cwd: &Path,
    ) -> Result<(Config, Vec<ConfigError>), Vec<ConfigError>> {
        let path = match (explicit, isolated) {
            (Some(p), _) => Some(cwd.join(p)),
            (None, true) => None,
            (None, false) => discover(start),
        };
        let Some(path) = path else {
            return Ok((Config::defaults(cwd), Vec::new()));
        };
        let display = match explicit {
            Some(p) => crate::source::slashed(p),
            None => display_path(&path, cwd),
        };
        let cannot = |why: String| {
            vec![ConfigError::plain(
                &display,
                format!("cannot read the configuration file: {why}"),
            )]
        };
        if explicit.is_none() {
            // A discovered file must not lead out of the repository.
            if let Some(repo) = repo_root(start) {
                if !inside(&path, &repo) {
                    return Err(cannot(
                        "it is a link to a file outside the repository; not read".into(),
                    ));
                }
            }
        }
        let bytes =
            fsio::read_regular(&path, MAX_CONFIG_SIZE).map_err(|e| cannot(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8 text".into()))?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.to_path_buf());
        let (mut c, errors) = Config::parse_partial(&display, &text, &root)?;
        c.file = Some(path);
        Ok((c, errors))
    }

    /// Parse configuration text. `root` is the directory relative paths in
    /// it are relative to.
    pub fn parse(display: &str, text: &str, root: &Path) -> Result<Config, Vec<ConfigError>> {
        let (c, errors) = Config::parse_partial(display, text, root)?;
        if errors.is_empty() {
            Ok(c)
        } else {
            Err(errors)
        }
    }

    /// [`Config::parse`], keeping the valid keys: the configuration without
    /// the invalid ones and their errors. `Err` when the text is not TOML.
    pub fn parse_partial(
        display: &str,
        text: &str,
        root: &Path,
    ) -> Result<(Config, Vec<ConfigError>), Vec<ConfigError>> {
        let source = SourceFile::new(display, text);
        // The TOML library can fail on some malformed input by panicking
        // rather than with an error: that is an invalid file too.
        let parsed = crate::guard::catching(|| toml_edit::Document::parse(text));
        let Ok(parsed) = parsed else {
            return Err(vec![error_at(
                display,
                &source,
                None,
                "invalid TOML: the file could not be read as TOML".to_string(),
                Some("check the file's syntax near its first lines".into()),
            )]);
        };
        let doc = match parsed {
            Ok(d) => d,
            Err(e) => {
                let msg = e.message().trim().to_string();
                return Err(vec![error_at(
                    display,
                    &source,
                    e.span(),
                    format!("invalid TOML: {msg}"),
                    None,
                )]);
            }
        };
        let mut r = Reader {
            display,
            source: &source,
            errors: Vec::new(),
        };
        let mut c = Config {
            display: display.to_string(),
            root: root.to_path_buf(),
            ..Config::default()
        };
        let top = doc.as_table();
        for (key, item) in top.iter() {
            let kspan = top.key(key).and_then(|k| k.span());
            if r.layer_key(&mut c.base, key, item) {
                continue;
            }
            match key {
                "fail-on" => {
                    if let Some(s) = r.severity(key, item) {
                        c.fail_on = Some(At::new(s, item.span()));
                    }
                }
                "environment" => c.environment = read_environment(&mut r, item),
                "max-file-size" => c.max_file_size = read_size(&mut r, key, item),
                "knowledge" => {
                    if let Some(t) = r.table(key, item) {
                        for (k, v) in t.iter() {
                            let ks = t.key(k).and_then(|k| k.span());
                            if k == "extend" {
                                c.extend = r.strings("knowledge.extend", v);
                            } else {
                                r.unknown_key(k, ks, KNOWLEDGE_KEYS, "[knowledge]");
                            }
                        }
                    }
                }
                "overrides" => c.overrides = read_overrides(&mut r, item),
                _ => r.unknown_key(key, kspan, TOP_KEYS, "top-level"),
            }
        }
        let errors = r.errors;
        c.source = Some(source);
        Ok((c, errors))
    }

    pub(super) fn error(
        &self,
        span: Option<Range<usize>>,
        message: String,
        help: Option<String>,
    ) -> ConfigError {
        match &self.source {
            Some(s) => error_at(&self.display, s, span, message, help),
            None => {
                let mut e = ConfigError::plain(&self.display, message);
                e.help = help;
                e
            }
        }
    }
}

fn read_environment(r: &mut Reader<'_>, item: &Item) -> Vec<(At<String>, Vec<At<String>>)> {
    let Some(t) = r.table("environment", item) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in t.iter() {
        let kspan = t.key(k).and_then(|k| k.span());
        let values = if let (Some(s), Some(val)) = (v.as_str(), v.as_value()) {
            vec![At::new(s.to_string(), r.inner_span(val))]
        } else {
            r.strings(&format!("environment.{k}"), v)
        };
        out.push((At::new(k.to_string(), kspan), values));
    }
    out
}

fn read_overrides(r: &mut Reader<'_>, item: &Item) -> Vec<Override> {
    let tables: Vec<&dyn TableLike> = if let Some(a) = item.as_array_of_tables() {
        a.iter().map(|t| t as &dyn TableLike).collect()
    } else if let Some(a) = item.as_array() {
        let mut v = Vec::new();
        for x in a.iter() {
            match x.as_inline_table() {
                Some(t) => v.push(t as &dyn TableLike),
                None => r.error(
                    x.span(),
                    format!(
                        "`overrides` entries must be tables, found {}",
                        value_kind(x)
                    ),
                    None,
                ),
            }
        }
        v
    } else {
        r.error(
            item.span(),
            format!(
                "`overrides` must be an array of tables, found {}",
                kind(item)
            ),
            Some("write `[[overrides]]` followed by `include = [\"rules/windows/**\"]`".into()),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for t in tables {
        let mut layer = Layer::default();
        let mut include = Vec::new();
        let mut include_span = None;
        for (k, v) in t.iter() {
            let ks = t.key(k).and_then(|k| k.span());
            if k == "include" {
                include = r.strings("overrides.include", v);
                include_span = v.span();
            } else if !r.layer_key(&mut layer, k, v) {
                r.unknown_key(k, ks, OVERRIDE_KEYS, "[[overrides]]");
            }
        }
        if include.is_empty() {
            let span = include_span.or_else(|| {
                t.iter()
                    .next()
                    .and_then(|(k, _)| t.key(k).and_then(|k| k.span()))
            });
            r.error(
                span,
                "an `[[overrides]]` entry needs `include` with at least one glob".into(),
                Some("e.g. `include = [\"rules/windows/**\"]`".into()),
            );
            continue;
        }
        let patterns: Vec<String> = include.iter().map(|g| g.value.clone()).collect();
        let globs = match crate::discover::globset(&patterns) {
            Ok(g) => g,
            Err(e) => {
                r.error(include_span, e, None);
                None
            }
        };
        out.push(Override {
            include,
            globs,
            layer,
        });
    }
    out
}

fn read_size(r: &mut Reader<'_>, name: &str, item: &Item) -> Option<At<u64>> {
    let parsed = match item.as_value() {
        Some(Value::Integer(i)) => u64::try_from(*i.value()).ok(),
        Some(Value::String(v)) => parse_size(v.value()),
        _ => None,
    };
    let found = match item.as_str() {
        Some(v) => format!("`{v}`"),
        None => kind(item).to_string(),
    };
    match parsed {
        Some(n) if n > 0 => Some(At::new(n, item.span())),
        _ => {
            r.error(
                item.span(),
                format!(
                    "`{name}` must be a positive size in bytes or with a unit (KB, MB, GB), found {found}"
                ),
                Some(format!("write e.g. `{name} = \"8MB\"` or `{name} = 8388608`")),
            );
            None
        }
    }
}
