//! Configuration: `rulelint.toml` or `.rulelint.toml`, found by walking up
//! from the working directory (`--config PATH` and `--isolated` override).
//!
//! Reading happens in two steps. [`Config::parse`] reads the TOML and checks
//! its shape (unknown keys with a did-you-mean, wrong types, invalid
//! addresses), keeping the byte span of every value. [`Config::resolve`]
//! then checks the names against the loaded catalogue (check codes, pattern
//! ids, environment facts) and compiles the [`Settings`] the linter applies.
//! Every error carries the file, line and column.

use crate::checks::{self, Category, Code, Environment};
use crate::diagnostic::{Diagnostic, Severity};
use crate::knowledge::Knowledge;
use crate::source::SourceFile;
use globset::GlobSet;
use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
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
];
const KNOWLEDGE_KEYS: &[&str] = &["extend"];
const OVERRIDE_KEYS: &[&str] = &["include", "select", "ignore", "severity"];

/// An organisation fact of `[environment]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    pub name: &'static str,
    /// Values are IP addresses or CIDR ranges (validated).
    pub address: bool,
    pub description: &'static str,
}

/// The facts rulelint knows. Patterns name the facts their exclusions use
/// (`ExclusionFieldSpec::fact`); team catalogues may use further names.
pub const FACTS: &[Fact] = &[
    Fact {
        name: "dns_servers",
        address: true,
        description: "your DNS resolvers",
    },
    Fact {
        name: "mail_relays",
        address: true,
        description: "your mail relays and SMTP gateways",
    },
    Fact {
        name: "proxies",
        address: true,
        description: "your web proxies",
    },
    Fact {
        name: "vpn_servers",
        address: true,
        description: "your VPN concentrators",
    },
    Fact {
        name: "bastions",
        address: true,
        description: "your jump hosts / bastions",
    },
    Fact {
        name: "rdp_gateways",
        address: true,
        description: "your RDP gateways",
    },
    Fact {
        name: "ftp_servers",
        address: true,
        description: "your sanctioned FTP/SFTP servers",
    },
    Fact {
        name: "scanner_hosts",
        address: true,
        description: "your vulnerability and network scanners",
    },
    Fact {
        name: "tor_allowed_hosts",
        address: true,
        description: "hosts allowed to use Tor",
    },
    Fact {
        name: "security_team_users",
        address: false,
        description: "accounts of the security team",
    },
    Fact {
        name: "build_agent_users",
        address: false,
        description: "accounts CI build agents run as",
    },
    Fact {
        name: "build_agent_parents",
        address: false,
        description: "processes of CI build agents, e.g. java or Runner.Worker",
    },
    Fact {
        name: "developer_hosts",
        address: false,
        description: "developer workstations, by host name or address",
    },
    Fact {
        name: "developer_users",
        address: false,
        description: "developer accounts",
    },
    Fact {
        name: "admin_users",
        address: false,
        description: "administrator accounts",
    },
    Fact {
        name: "service_accounts",
        address: false,
        description: "service accounts",
    },
    Fact {
        name: "known_scripts",
        address: false,
        description: "scripts your administrators run (full paths)",
    },
    Fact {
        name: "cron_jobs",
        address: false,
        description: "expected scheduled jobs (commands)",
    },
    Fact {
        name: "known_clients",
        address: true,
        description: "hosts expected to make these connections",
    },
    Fact {
        name: "known_web_servers",
        address: false,
        description: "your web server programs, e.g. w3wp.exe or httpd",
    },
    Fact {
        name: "known_web_children",
        address: false,
        description: "programs your web servers legitimately start",
    },
];

/// A value with the byte range where it is written in the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub span: Option<Range<usize>>,
}

impl<T> At<T> {
    fn new(value: T, span: Option<Range<usize>>) -> Self {
        At { value, span }
    }
}

/// An error in a configuration file (or a file it names), with position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
    /// The source line, for a caret display.
    pub source_line: Option<String>,
    /// Width of the caret (characters).
    pub width: usize,
}

impl ConfigError {
    fn plain(file: &str, message: impl Into<String>) -> Self {
        ConfigError {
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
            help: None,
            source_line: None,
            width: 0,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{}:{}: {}", self.file, l, c, self.message)?,
            _ => write!(f, "{}: {}", self.file, self.message)?,
        }
        if let (Some(src), Some(l), Some(c)) = (&self.source_line, self.line, self.column) {
            let gutter = l.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{l} | {src}\n{:gutter$} | {}{}",
                "",
                "",
                " ".repeat(c.saturating_sub(1)),
                "^".repeat(self.width.max(1))
            )?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

/// Join errors for printing.
#[cfg(test)]
pub fn format_errors(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The closest candidate to `name`, when it is close enough to suggest.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
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
    source: Option<SourceFile>,
    pub base: Layer,
    pub fail_on: Option<At<Severity>>,
    pub environment: Vec<(At<String>, Vec<At<String>>)>,
    pub extend: Vec<At<String>>,
    pub overrides: Vec<Override>,
}

/// Find `rulelint.toml` / `.rulelint.toml` in `start` or above.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in CONFIG_FILE_NAMES {
            let p = d.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
        dir = d.parent();
    }
    None
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
    let (addr, prefix) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    match prefix {
        None => true,
        Some(p) => {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && p.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
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

fn error_at(
    display: &str,
    source: &SourceFile,
    span: Option<Range<usize>>,
    message: String,
    help: Option<String>,
) -> ConfigError {
    let mut e = ConfigError::plain(display, message);
    e.help = help;
    if let Some(sp) = span {
        let lc = source.line_col(sp.start);
        e.line = Some(lc.line);
        e.column = Some(lc.column);
        if let Some(start) = source.index.line_start(lc.line) {
            let rest = source.text.get(start..).unwrap_or("");
            let line = rest.lines().next().unwrap_or("");
            let end = (start + line.len()).min(sp.end.max(sp.start));
            let width = source
                .text
                .get(sp.start.min(end)..end)
                .map(|s| s.chars().count())
                .unwrap_or(1);
            e.source_line = Some(line.to_string());
            e.width = width.max(1);
        }
    }
    e
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
        let path = match (explicit, isolated) {
            (Some(p), _) => Some(cwd.join(p)),
            (None, true) => None,
            (None, false) => discover(cwd),
        };
        let Some(path) = path else {
            return Ok(Config::defaults(cwd));
        };
        let display = display_path(&path, cwd);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            vec![ConfigError::plain(
                &display,
                format!("cannot read the configuration file: {e}"),
            )]
        })?;
        let root = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| cwd.to_path_buf());
        let mut c = Config::parse(&display, &text, &root)?;
        c.file = Some(path);
        Ok(c)
    }

    /// Parse configuration text. `root` is the directory relative paths in
    /// it are relative to.
    pub fn parse(display: &str, text: &str, root: &Path) -> Result<Config, Vec<ConfigError>> {
        let source = SourceFile::new(display, text);
        let doc = match toml_edit::Document::parse(text) {
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
        if r.errors.is_empty() {
            c.source = Some(source);
            Ok(c)
        } else {
            Err(r.errors)
        }
    }

    fn error(
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

    /// The built-in catalogue plus the `[knowledge] extend` files.
    pub fn knowledge(&self) -> Result<Knowledge, Vec<ConfigError>> {
        let mut k = Knowledge::builtin().map_err(|es| {
            es.iter()
                .map(|e| ConfigError::plain(&e.file, e.message.clone()))
                .collect::<Vec<_>>()
        })?;
        let mut errors = Vec::new();
        for ext in &self.extend {
            let path = self.root.join(&ext.value);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(self.error(
                        ext.span.clone(),
                        format!("cannot read knowledge file `{}`: {e}", ext.value),
                        None,
                    ));
                    continue;
                }
            };
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

    /// Check names against the catalogue and compile the settings.
    pub fn resolve(&self, knowledge: &Knowledge) -> Result<Settings, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let names = Names::new(knowledge);
        let mut layers = Vec::new();
        layers.push(self.compile_layer(&self.base, None, &names, &mut errors));
        for o in &self.overrides {
            layers.push(self.compile_layer(&o.layer, o.globs.clone(), &names, &mut errors));
        }
        let kinds = fact_kinds(knowledge);
        let mut environment = Environment::new();
        for (fact, values) in &self.environment {
            let Some((_, address)) = kinds.iter().find(|(n, _)| *n == fact.value) else {
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
            for v in values {
                if *address && !valid_address(v.value.trim()) {
                    errors.push(
                        self.error(
                            v.span.clone(),
                            format!(
                                "`{}` in `{}` is not an IP address or CIDR range",
                                v.value, fact.value
                            ),
                            Some(
                                "write an address like `10.0.0.53` or a range like `10.0.0.0/24`"
                                    .into(),
                            ),
                        ),
                    );
                }
            }
            environment.insert(
                fact.value.clone(),
                values.iter().map(|v| v.value.trim().to_string()).collect(),
            );
        }
        if errors.is_empty() {
            Ok(Settings {
                root: self.root.clone(),
                layers,
                environment,
                fail_on: self.fail_on.as_ref().map(|f| f.value),
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
            select,
            ignore,
            severity,
        }
    }

    /// The effective settings as TOML (`rulelint config`).
    pub fn to_toml(&self, settings: &Settings, knowledge: &Knowledge) -> String {
        let mut s = String::new();
        match &self.file {
            Some(_) => s.push_str(&format!("# Effective settings, from {}\n", self.display)),
            None => s.push_str("# Effective settings: defaults (no rulelint.toml found)\n"),
        }
        s.push_str(&format!(
            "# Paths are relative to {}\n\n",
            self.root.display()
        ));
        s.push_str(&format!("select = {}\n", toml_list(&self.base.select)));
        if self.base.select.is_empty() {
            s.push_str("# (empty select: every check)\n");
        }
        s.push_str(&format!("ignore = {}\n", toml_list(&self.base.ignore)));
        s.push_str(&format!(
            "fail-on = {}\n",
            toml_str(settings.fail_on.unwrap_or(Severity::Warning).as_str())
        ));
        s.push_str("\n[severity]\n");
        for (k, v) in &self.base.severity {
            s.push_str(&format!(
                "{} = {}\n",
                toml_key(&k.value),
                toml_str(v.as_str())
            ));
        }
        s.push_str("\n[environment]\n");
        for (k, v) in &settings.environment {
            let list: Vec<String> = v.iter().map(|x| toml_str(x)).collect();
            s.push_str(&format!("{} = [{}]\n", toml_key(k), list.join(", ")));
        }
        let unset: Vec<String> = fact_kinds(knowledge)
            .into_iter()
            .filter(|(n, _)| !settings.environment.contains_key(n))
            .map(|(n, _)| n)
            .collect();
        if !unset.is_empty() {
            s.push_str(&format!("# not set: {}\n", unset.join(", ")));
        }
        s.push_str("\n[knowledge]\n");
        s.push_str(&format!("extend = {}\n", toml_list(&self.extend)));
        s.push_str(&format!("# {} patterns loaded\n", knowledge.patterns.len()));
        for o in &self.overrides {
            s.push_str("\n[[overrides]]\n");
            s.push_str(&format!("include = {}\n", toml_list(&o.include)));
            if !o.layer.select.is_empty() {
                s.push_str(&format!("select = {}\n", toml_list(&o.layer.select)));
            }
            if !o.layer.ignore.is_empty() {
                s.push_str(&format!("ignore = {}\n", toml_list(&o.layer.ignore)));
            }
            if !o.layer.severity.is_empty() {
                let kv: Vec<String> = o
                    .layer
                    .severity
                    .iter()
                    .map(|(k, v)| format!("{} = {}", toml_key(&k.value), toml_str(v.as_str())))
                    .collect();
                s.push_str(&format!("severity = {{ {} }}\n", kv.join(", ")));
            }
        }
        s
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

/// Fact names usable in `[environment]` and whether their values are
/// addresses (IPs or CIDR ranges, validated): the built-in facts plus those
/// the loaded patterns use. A fact that patterns use is an address when
/// every use excludes it on an IP field or with `cidr`; a fact no pattern
/// uses keeps the kind of the built-in table.
pub fn fact_kinds(knowledge: &Knowledge) -> Vec<(String, bool)> {
    // name -> (uses, address uses)
    let mut uses: Vec<(String, usize, usize)> = Vec::new();
    for p in &knowledge.patterns {
        for f in &p.exclusion.fields {
            let Some(name) = &f.fact else { continue };
            let address = f.op == "cidr" || f.concept.ends_with(".ip");
            match uses.iter_mut().find(|(n, _, _)| n == name) {
                Some(e) => {
                    e.1 += 1;
                    e.2 += usize::from(address);
                }
                None => uses.push((name.clone(), 1, usize::from(address))),
            }
        }
    }
    let mut out: Vec<(String, bool)> = FACTS
        .iter()
        .map(|f| (f.name.to_string(), f.address))
        .collect();
    for (name, n, addr) in uses {
        let address = n == addr;
        match out.iter_mut().find(|(x, _)| *x == name) {
            Some(e) => e.1 = address,
            None => out.push((name, address)),
        }
    }
    out
}

/// The facts a pattern's exclusion uses, in order, without duplicates.
pub fn pattern_facts(p: &crate::knowledge::Pattern) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for f in &p.exclusion.fields {
        if let Some(x) = f.fact.as_deref() {
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }
    out
}

/// Description of a built-in fact.
pub fn fact_description(name: &str) -> Option<&'static str> {
    FACTS.iter().find(|f| f.name == name).map(|f| f.description)
}

fn toml_str(s: &str) -> String {
    Value::from(s).to_string().trim().to_string()
}

fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        s.to_string()
    } else {
        toml_str(s)
    }
}

fn toml_list(v: &[At<String>]) -> String {
    let items: Vec<String> = v.iter().map(|x| toml_str(&x.value)).collect();
    format!("[{}]", items.join(", "))
}

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
    fn matches(&self, d: &Diagnostic) -> bool {
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
    fn specificity(&self) -> usize {
        match self {
            Selector::All => 0,
            Selector::Prefix(p) => p.len(),
            Selector::Code(_) => 10,
            Selector::Pattern(_) => 20,
        }
    }
}

/// The names a selector may use.
pub struct Names {
    patterns: Vec<String>,
}

impl Names {
    pub fn new(knowledge: &Knowledge) -> Self {
        Names {
            patterns: knowledge.patterns.iter().map(|p| p.id.clone()).collect(),
        }
    }

    /// Resolve a selector, or explain why it is unknown.
    pub fn selector(&self, s: &str) -> Result<Selector, String> {
        if s.eq_ignore_ascii_case("all") {
            return Ok(Selector::All);
        }
        if let Some(c) = Code::find(s) {
            return Ok(Selector::Code(c));
        }
        if self.patterns.iter().any(|p| p == s) {
            return Ok(Selector::Pattern(s.to_string()));
        }
        let upper = s.to_ascii_uppercase();
        if upper.len() >= 2
            && upper.starts_with("RL")
            && upper[2..].bytes().all(|b| b.is_ascii_digit())
            && checks::CHECKS.iter().any(|c| c.code.starts_with(&upper))
        {
            return Ok(Selector::Prefix(upper));
        }
        let candidates = checks::CHECKS
            .iter()
            .flat_map(|c| [c.code, c.name])
            .chain(self.patterns.iter().map(String::as_str));
        Err(match did_you_mean(s, candidates) {
            Some(c) => format!("did you mean `{c}`?"),
            None => "use a check code (`RL201`), a code prefix (`RL2`), a check name or a pattern id (`rulelint patterns`)".into(),
        })
    }

    /// Every id a suppression comment may name (codes, names, pattern ids).
    pub fn all(&self) -> Vec<&str> {
        checks::CHECKS
            .iter()
            .flat_map(|c| [c.code, c.name])
            .chain(self.patterns.iter().map(String::as_str))
            .collect()
    }
}

#[derive(Debug, Clone)]
struct CompiledLayer {
    /// `None` for the top level (all files).
    globs: Option<GlobSet>,
    select: Vec<Selector>,
    ignore: Vec<Selector>,
    severity: Vec<(Selector, Severity)>,
}

/// Validated settings, applied to each file's diagnostics.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Override globs are relative to this directory.
    pub root: PathBuf,
    layers: Vec<CompiledLayer>,
    pub environment: Environment,
    pub fail_on: Option<Severity>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            root: PathBuf::new(),
            layers: vec![CompiledLayer {
                globs: None,
                select: Vec::new(),
                ignore: Vec::new(),
                severity: Vec::new(),
            }],
            environment: Environment::new(),
            fail_on: None,
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

/// Where the linter runs: the working directory and the project root that
/// output paths (SARIF URIs, annotations, baselines) are relative to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub cwd: PathBuf,
    /// The enclosing git repository, or the working directory.
    pub root: PathBuf,
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
fn display_path(p: &Path, cwd: &Path) -> String {
    let n = normalize(p);
    if !n.is_absolute() || !cwd.is_absolute() {
        return n.to_string_lossy().replace('\\', "/");
    }
    let a: Vec<_> = n.components().collect();
    let b: Vec<_> = cwd.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return n.to_string_lossy().replace('\\', "/");
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &a[common..] {
        out.push(c.as_os_str());
    }
    out.to_string_lossy().replace('\\', "/")
}

impl Workspace {
    pub fn new(cwd: PathBuf) -> Workspace {
        let cwd = normalize(&cwd);
        let mut root = cwd.clone();
        let mut dir = Some(cwd.as_path());
        while let Some(d) = dir {
            if d.join(".git").exists() {
                root = d.to_path_buf();
                break;
            }
            dir = d.parent();
        }
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
        abs.strip_prefix(base)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    }

    /// `shown` relative to the project root (forward slashes), or the
    /// absolute path when outside it.
    pub fn rel(&self, shown: &str) -> String {
        self.relative_to(&self.root, shown)
            .unwrap_or_else(|| self.absolute(shown).to_string_lossy().replace('\\', "/"))
    }

    /// Is `shown` inside the project root?
    pub fn inside(&self, shown: &str) -> bool {
        self.relative_to(&self.root, shown).is_some()
    }
}

/// A commented starter configuration (`rulelint init`).
pub const STARTER: &str = r#"# rulelint configuration. Found by walking up from the working directory;
# `rulelint config` prints the effective settings. Paths and globs are
# relative to this file's directory.

# Checks to run: codes (RL201), code prefixes (RL2), check names
# (known-fp-pattern) or pattern ids (ephemeral-port). Empty = all.
select = []
# Checks and patterns to skip; the more specific entry wins over `select`.
ignore = []
# Exit with 1 when a finding has at least this severity
# (error, warning, info, hint); `--fail-on` overrides it.
fail-on = "warning"

# Severity per check code or pattern id.
[severity]
# ephemeral-port = "info"

# Your organisation's facts. They replace the placeholders in suggested
# exclusions (`rulelint explain <pattern>` lists the facts a pattern uses).
# Address facts take IP addresses and CIDR ranges.
[environment]
# dns_servers = ["10.0.0.53", "10.0.1.53"]
# proxies = ["10.10.0.0/24"]
# scanner_hosts = ["10.20.0.15"]
# build_agent_users = ["svc_jenkins"]
# service_accounts = ["svc_backup"]

# Your own false-positive patterns, in the catalogue schema.
[knowledge]
extend = []

# Settings for some files only.
# [[overrides]]
# include = ["rules/windows/**"]
# ignore = ["ephemeral-port"]
# severity = { RL201 = "info" }
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Position;
    use crate::source::Span;

    fn parse(text: &str) -> Result<Config, Vec<ConfigError>> {
        Config::parse("rulelint.toml", text, Path::new("/repo"))
    }

    fn resolve(text: &str) -> Result<Settings, Vec<ConfigError>> {
        let k = Knowledge::builtin().expect("builtin knowledge");
        parse(text)?.resolve(&k)
    }

    fn diag(code: &'static str, pattern: Option<&str>, severity: Severity) -> Diagnostic {
        Diagnostic {
            code: Code::from_code(code).expect("a declared code"),
            pattern: pattern.map(str::to_string),
            severity,
            message: "m".into(),
            note: None,
            help: None,
            file: "rules/a.yml".into(),
            format: None,
            rule: None,
            span: Span::default(),
            position: Position {
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1,
                offset: 0,
                length: 0,
            },
            labels: Vec::new(),
            suggestion: None,
            key: String::new(),
        }
    }

    #[test]
    fn starter_file_is_valid() {
        let s = resolve(STARTER).expect("starter config resolves");
        assert_eq!(s.fail_on, Some(Severity::Warning));
    }

    #[test]
    fn unknown_key_has_position_and_suggestion() {
        let e = parse("fail-on = \"error\"\nselcet = [\"RL2\"]\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].line, e[0].column), (Some(2), Some(1)));
        assert_eq!(e[0].message, "unknown key `selcet`");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `select`?"));
        let shown = e[0].to_string();
        assert!(
            shown.starts_with("rulelint.toml:2:1: unknown key `selcet`"),
            "{shown}"
        );
        assert!(
            shown.contains("2 | selcet = [\"RL2\"]\n  | ^^^^^^"),
            "{shown}"
        );
    }

    #[test]
    fn nested_unknown_keys_and_wrong_types() {
        let e =
            parse("[knowledge]\nextends = []\n[[overrides]]\ninclude = [\"a/**\"]\nignor = []\n")
                .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].help.as_deref(), Some("did you mean `extend`?"));
        assert_eq!((e[1].line, e[1].column), (Some(5), Some(1)));
        assert_eq!(e[1].help.as_deref(), Some("did you mean `ignore`?"));

        let e = parse("select = \"RL2\"\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (Some(1), Some(10)));
        assert!(e[0]
            .message
            .contains("must be an array of strings, found a string"));

        let e = parse("ignore = [\"RL2\", 3]\n").unwrap_err();
        assert_eq!((e[0].line, e[0].column), (Some(1), Some(18)));

        let e = parse("fail-on = \"warn\"\n").unwrap_err();
        assert_eq!(e[0].help.as_deref(), Some("did you mean `warning`?"));

        let e = parse("environment = 3\n").unwrap_err();
        assert!(e[0].message.contains("must be a table"));
    }

    #[test]
    fn toml_syntax_error_has_position() {
        let e = parse("select = [\"RL2\"\nignore = []\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.starts_with("invalid TOML"), "{}", e[0].message);
        assert!(e[0].line.is_some());
        let e = parse("select = []\nselect = []\n").unwrap_err();
        assert!(e[0].message.contains("duplicate"), "{}", e[0].message);
        assert_eq!(e[0].line, Some(2));
    }

    #[test]
    fn selectors_are_checked_against_the_catalogue() {
        let e = resolve("ignore = [\"ephemeral-prot\", \"RL9\", \"RL20\"]\n").unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `ephemeral-port`?"));
        assert_eq!((e[0].line, e[0].column), (Some(1), Some(12)));
        assert!(e[1].message.contains("`RL9`"));
        let e = resolve("[severity]\nRL2 = \"error\"\nknown-fp-patern = \"info\"\n").unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(
            e[1].help.as_deref(),
            Some("did you mean `known-fp-pattern`?")
        );
    }

    #[test]
    fn environment_addresses_are_validated() {
        let s = resolve(
            "[environment]\ndns_servers = [\"10.0.0.53\", \"fd00::/8\"]\nservice_accounts = \"svc_x\"\n",
        )
        .unwrap();
        assert_eq!(s.environment["dns_servers"], vec!["10.0.0.53", "fd00::/8"]);
        assert_eq!(s.environment["service_accounts"], vec!["svc_x"]);
        let e =
            resolve("[environment]\nproxies = [\"10.0.0.1\", \"10.0.0.0/33\", \"proxy.corp\"]\n")
                .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].line, e[0].column), (Some(2), Some(25)));
        assert!(e[0].message.contains("`10.0.0.0/33` in `proxies`"));
        assert!(
            e[0].to_string()
                .contains("\n  |                         ^^^^^^^^^^^\n"),
            "{}",
            e[0]
        );
        assert!(e[1].message.contains("proxy.corp"));
        let e = resolve("[environment]\ndns_server = [\"10.0.0.1\"]\n").unwrap_err();
        assert_eq!(e[0].help.as_deref(), Some("did you mean `dns_servers`?"));
        assert_eq!((e[0].line, e[0].column), (Some(2), Some(1)));
    }

    #[test]
    fn fact_kinds_follow_the_catalogue() {
        let k = Knowledge::builtin().unwrap();
        let kinds = fact_kinds(&k);
        let kind = |n: &str| kinds.iter().find(|(x, _)| x == n).map(|(_, a)| *a);
        assert_eq!(kind("dns_servers"), Some(true));
        assert_eq!(kind("admin_users"), Some(false));
        // Every fact a built-in pattern uses is known to the table.
        for p in &k.patterns {
            for f in pattern_facts(p) {
                assert!(
                    fact_description(f).is_some(),
                    "fact `{f}` of `{}` has no description",
                    p.id
                );
            }
        }
    }

    #[test]
    fn addresses() {
        for ok in [
            "10.0.0.1",
            "10.0.0.0/8",
            "::1",
            "2001:db8::/32",
            "0.0.0.0/0",
        ] {
            assert!(valid_address(ok), "{ok}");
        }
        for bad in [
            "10.0.0",
            "10.0.0.0/",
            "10.0.0.0/x",
            "::1/129",
            "host",
            "10.0.0.1/+1",
            "",
        ] {
            assert!(!valid_address(bad), "{bad}");
        }
    }

    #[test]
    fn selection_specificity_and_overrides() {
        let s = resolve(
            "select = [\"RL2\", \"RL0\"]\nignore = [\"ephemeral-port\"]\n\
             [[overrides]]\ninclude = [\"rules/windows/**\"]\nselect = [\"ephemeral-port\"]\n\
             severity = { ephemeral-port = \"error\" }\n\
             [[overrides]]\ninclude = [\"legacy/**\"]\nignore = [\"RL2\"]\n",
        )
        .unwrap();
        let eph = diag("RL201", Some("ephemeral-port"), Severity::Warning);
        let other = diag("RL201", Some("some-other"), Severity::Warning);
        let info = diag("RL010", None, Severity::Info);
        let fatal = diag("RL002", None, Severity::Error);
        assert!(!s.enabled("rules/linux/a.yml", &eph));
        assert!(s.enabled("rules/linux/a.yml", &other));
        assert!(s.enabled("rules/linux/a.yml", &info));
        assert!(s.enabled("rules/windows/x/a.yml", &eph));
        assert_eq!(
            s.severity("rules/windows/a.yml", &eph),
            Some(Severity::Error)
        );
        assert_eq!(s.severity("rules/linux/a.yml", &eph), None);
        assert!(!s.enabled("legacy/a.yml", &other));
        assert!(s.enabled("legacy/a.yml", &fatal));

        let s = resolve("select = [\"ephemeral-port\"]\nignore = [\"RL2\"]\n").unwrap();
        assert!(s.enabled("a.yml", &eph));
        assert!(!s.enabled("a.yml", &other));
        assert!(!s.enabled("a.yml", &info));
        let s = resolve("ignore = [\"RL201\"]\nselect = [\"known-fp-pattern\"]\n").unwrap();
        assert!(!s.enabled("a.yml", &eph), "ignore wins a tie");
    }

    #[test]
    fn severity_by_code_and_pattern() {
        let s = resolve("[severity]\nRL201 = \"info\"\nephemeral-port = \"error\"\n").unwrap();
        let mut ds = vec![
            diag("RL201", Some("ephemeral-port"), Severity::Warning),
            diag("RL201", Some("x"), Severity::Warning),
        ];
        s.apply("a.yml", &mut ds);
        assert_eq!(ds[0].severity, Severity::Error);
        assert_eq!(ds[1].severity, Severity::Info);
    }

    #[test]
    fn knowledge_extension_errors_have_positions() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("team.yml"),
            "patterns:\n  - id: Bad_Id\n    title: t\n    rationale: r\n    benign: [b]\n    trigger:\n      - concepts: [destination.port]\n        ports: [1]\n    exclusion:\n      summary: s\n      name: n\n      fields:\n        - concept: source.ip\n          fact: jump_hosts\n          placeholder: <x>\n",
        )
        .unwrap();
        let c = Config::parse(
            "rulelint.toml",
            "[knowledge]\nextend = [\"team.yml\", \"missing.yml\"]\n",
            dir.path(),
        )
        .unwrap();
        let e = c.knowledge().unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].message.contains("kebab-case"), "{}", e[0]);
        assert_eq!((e[0].line, e[0].column), (Some(2), Some(9)));
        assert!(e[1].message.contains("missing.yml"));
        assert_eq!(e[1].file, "rulelint.toml");
        assert_eq!((e[1].line, e[1].column), (Some(2), Some(24)));
    }

    #[test]
    fn team_patterns_bring_their_facts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("team.yml"),
            "patterns:\n  - id: team-jump\n    title: t\n    rationale: r\n    benign: [b]\n    trigger:\n      - concepts: [destination.port]\n        ports: [22]\n    exclusion:\n      summary: s\n      name: jump\n      fields:\n        - concept: source.ip\n          fact: jump_hosts\n          placeholder: <your jump hosts>\n",
        )
        .unwrap();
        let c = Config::parse(
            "rulelint.toml",
            "ignore = [\"team-jump\"]\n[knowledge]\nextend = [\"team.yml\"]\n[environment]\njump_hosts = [\"not-an-ip\"]\n",
            dir.path(),
        )
        .unwrap();
        let k = c.knowledge().unwrap();
        let e = c.resolve(&k).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("not-an-ip"));
        assert_eq!(
            pattern_facts(k.pattern("team-jump").unwrap()),
            vec!["jump_hosts"]
        );
    }

    #[test]
    fn discovery_walks_up_and_prefers_the_plain_name() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(dir.path().join(".rulelint.toml"), "").unwrap();
        assert_eq!(discover(&sub), Some(dir.path().join(".rulelint.toml")));
        std::fs::write(dir.path().join("rulelint.toml"), "").unwrap();
        assert_eq!(discover(&sub), Some(dir.path().join("rulelint.toml")));
        std::fs::write(dir.path().join("a/rulelint.toml"), "select = 1").unwrap();
        let e = Config::load(None, false, &sub).unwrap_err();
        assert_eq!(e[0].file, "../rulelint.toml");
        assert!(Config::load(None, true, &sub).unwrap().file.is_none());
    }

    #[test]
    fn effective_settings_round_trip() {
        let text = "select = [\"RL2\"]\nfail-on = \"info\"\n[severity]\nephemeral-port = \"error\"\n[environment]\ndns_servers = [\"10.0.0.53\"]\n[[overrides]]\ninclude = [\"rules/windows/**\"]\nignore = [\"RL201\"]\nseverity = { RL010 = \"hint\" }\n";
        let k = Knowledge::builtin().unwrap();
        let c = parse(text).unwrap();
        let s = c.resolve(&k).unwrap();
        let out = c.to_toml(&s, &k);
        let again = parse(&out).unwrap_or_else(|e| panic!("{}\n{out}", format_errors(&e)));
        let s2 = again.resolve(&k).unwrap();
        assert_eq!(s2.environment, s.environment);
        assert_eq!(s2.fail_on, Some(Severity::Info));
        assert_eq!(again.overrides.len(), 1);
        assert!(out.contains("dns_servers = [\"10.0.0.53\"]"), "{out}");
    }

    #[test]
    fn workspace_paths() {
        let ws = Workspace {
            cwd: PathBuf::from("/repo/rules"),
            root: PathBuf::from("/repo"),
        };
        assert_eq!(ws.rel("windows/a.yml"), "rules/windows/a.yml");
        assert_eq!(ws.rel("./x/../b.yml"), "rules/b.yml");
        assert_eq!(ws.rel("../../etc/x.yml"), "/etc/x.yml");
        assert!(!ws.inside("/etc/x.yml"));
    }
}
