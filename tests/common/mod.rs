//! Helpers shared by the integration tests (`mod common;`): the corpus
//! root and its files, the query of an Elastic rule, deterministic
//! pseudo-random generators, and running the `rulelint` binary.
//!
//! Every test crate uses only some of them.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

// ----- corpus ----------------------------------------------------------------

/// The shared rule corpus: `$RULELINT_CORPUS`, else
/// `<manifest>/../shared/corpus` (it may not exist).
pub fn corpus_root() -> PathBuf {
    match std::env::var_os("RULELINT_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    }
}

/// `<corpus>/<sub>`. Panics with what to do when it is not a folder: the
/// corpus tests are `#[ignore]`d and fail, never pass, without it.
pub fn corpus_dir(sub: &str) -> PathBuf {
    let dir = corpus_root().join(sub);
    assert!(
        dir.is_dir(),
        "{} not found: this test needs the rule corpus; put it at ../shared/corpus \
         or set RULELINT_CORPUS to its path",
        dir.display()
    );
    dir
}

/// The files below `dir` (recursively) whose extension is one of `exts`,
/// in path order. An unreadable folder is passed over.
pub fn files_with_ext(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    fn walk(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
        let Ok(rd) = fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, exts, out);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| exts.contains(&e))
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, exts, &mut out);
    out
}

/// The `.toml` files below `dir`, in path order.
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    files_with_ext(dir, &["toml"])
}

/// The `.yml` and `.yaml` files below `dir`, in path order.
pub fn yml_files(dir: &Path) -> Vec<PathBuf> {
    files_with_ext(dir, &["yml", "yaml"])
}

/// The `rule.query` of an Elastic TOML rule whose `rule.language` is
/// `language`; `None` for another language or a file that does not parse.
pub fn rule_query(text: &str, language: &str) -> Option<String> {
    let doc: toml::Table = toml::from_str(text).ok()?;
    let rule = doc.get("rule")?.as_table()?;
    if rule.get("language")?.as_str()? != language {
        return None;
    }
    Some(rule.get("query")?.as_str()?.to_string())
}

// ----- deterministic pseudo-random numbers -----------------------------------

/// A deterministic pseudo-random generator, no dependency.
pub trait Prng {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;

    /// A number below `n` (0 when `n` is 0; the state advances either way).
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// xorshift64 (shifts 13, 7, 17).
pub struct Xorshift(pub u64);

impl Prng for Xorshift {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// xorshift64* (shifts 12, 25, 27, then a multiplication).
pub struct XorshiftStar(pub u64);

impl Prng for XorshiftStar {
    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

// ----- the rulelint binary ---------------------------------------------------

/// A Sigma rule on traffic to the Internet with `ephemeral-port` and
/// `irc-client` findings on its `DestinationPort` line (line 9).
pub const IRC: &str = "title: IRC Connection To The Internet
id: 6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21
status: test
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        DestinationPort: 6667
    condition: selection
level: medium
falsepositives:
    - Lab traffic seen in tests
";

/// `rulelint` run in `dir`, with `NO_COLOR` unset.
pub fn rulelint(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("rulelint").expect("binary");
    c.current_dir(dir).env_remove("NO_COLOR");
    c
}

/// A temporary folder holding `files` as `(relative path, text)`.
pub fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = d.path().join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(p, text).expect("write");
    }
    d
}

/// Runs `rulelint <fixed> <args>` in `dir`: its output and the JSON
/// document it printed on stdout.
pub fn run_json(dir: &Path, fixed: &[&str], args: &[&str]) -> (std::process::Output, Value) {
    let out = rulelint(dir).args(fixed).args(args).output().expect("run");
    let v = stdout_json(&out);
    (out, v)
}

/// The JSON document a run printed on stdout; panics with stdout and
/// stderr when it is not JSON.
pub fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
