//! Embeds the catalogue: every YAML file directly under `knowledge/` or
//! `knowledge/patterns/` that holds a top-level `patterns:` or `sets:` key
//! is listed, in path order, in `$OUT_DIR/catalogue.rs` as
//! `(path, include_str!(..))` pairs. No catalogue file is named in code; a
//! new file is picked up by the next build.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    out.sort();
    out
}

/// Does the file hold `key:` at the top level (a line starting with it)?
fn has_top_key(text: &str, key: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
    })
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let knowledge = root.join("knowledge");
    println!("cargo:rerun-if-changed=knowledge");
    println!("cargo:rerun-if-changed=knowledge/patterns");
    let mut files = yml_files(&knowledge);
    files.extend(yml_files(&knowledge.join("patterns")));
    let mut patterns = String::new();
    let mut sets = String::new();
    for f in files {
        println!("cargo:rerun-if-changed={}", f.display());
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let rel = f
            .strip_prefix(&root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        let entry = format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.display().to_string()
        );
        if has_top_key(&text, "patterns") {
            patterns.push_str(&entry);
        } else if has_top_key(&text, "sets") {
            sets.push_str(&entry);
        }
    }
    let mut out = String::new();
    let _ = write!(
        out,
        "/// The embedded catalogue files (a top-level `patterns:`), in load order.\n\
         pub const BUILTIN_PATTERN_FILES: &[(&str, &str)] = &[\n{patterns}];\n\n\
         /// The embedded files that only define shared value sets (`sets:`).\n\
         pub const BUILTIN_SET_FILES: &[(&str, &str)] = &[\n{sets}];\n"
    );
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("catalogue.rs");
    std::fs::write(dest, out).expect("write the generated catalogue list");
}
