//! Rule file formats: recognise a file by content and parse it into
//! [`crate::rule::DetectionRule`]s.

pub mod elastic;
pub mod sigma;
pub mod splunk;

use crate::rule::{Format, ParsedFile};
use crate::source::SourceFile;

/// Parse `file` as `format`.
pub fn parse(format: Format, file: &SourceFile) -> ParsedFile {
    match format {
        Format::Sigma => sigma::parse(file),
        Format::Elastic => elastic::parse(file),
        Format::Splunk => splunk::parse(file),
    }
}

/// Top-level keys of a YAML text (lines starting in column 0 with `key:`),
/// across all documents.
fn yaml_top_keys(text: &str) -> Vec<&str> {
    let mut keys = Vec::new();
    for line in text.lines() {
        let Some(first) = line.bytes().next() else {
            continue;
        };
        if first == b' ' || first == b'\t' || first == b'#' || first == b'-' {
            continue;
        }
        if let Some((k, _)) = line.split_once(':') {
            let k = k.trim().trim_matches(|c| c == '"' || c == '\'');
            if !k.is_empty() && !k.contains(' ') {
                keys.push(k);
            }
        }
    }
    keys
}

/// TOML table headers (`[rule]`, `[metadata]`) and the keys directly under
/// `[rule]`.
fn toml_shape(text: &str) -> (bool, bool, bool) {
    let mut has_rule = false;
    let mut has_meta = false;
    let mut rule_keys = false;
    let mut in_rule = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            in_rule = t == "[rule]";
            has_rule |= in_rule;
            has_meta |= t == "[metadata]";
            continue;
        }
        if in_rule {
            if let Some((k, _)) = t.split_once('=') {
                let k = k.trim();
                rule_keys |= matches!(k, "type" | "query" | "language");
            }
        }
    }
    (has_rule, has_meta, rule_keys)
}

/// Recognise a rule file by its content. `None` means "not a rule" (a CI
/// config, a `.pre-commit-config.yaml`, a `pyproject.toml`).
pub fn sniff(text: &str) -> Option<Format> {
    let (has_rule, has_meta, rule_keys) = toml_shape(text);
    if has_rule && (rule_keys || has_meta) {
        return Some(Format::Elastic);
    }
    let keys = yaml_top_keys(text);
    let has = |k: &str| keys.contains(&k);
    if (has("detection") && has("logsource"))
        || has("correlation")
        || (has("filter") && has("rules"))
    {
        return Some(Format::Sigma);
    }
    if has("search") && has("name") && has("id") {
        return Some(Format::Splunk);
    }
    None
}

/// The format to try for a file named explicitly that `sniff` does not
/// recognise, so its problems are reported rather than skipped.
pub fn guess_by_extension(path: &std::path::Path, text: &str) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => Format::Elastic,
        _ => {
            let keys = yaml_top_keys(text);
            if keys.contains(&"search") {
                Format::Splunk
            } else {
                Format::Sigma
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_each_format_and_skips_other_files() {
        assert_eq!(
            sniff("title: x\nlogsource:\n  category: a\ndetection:\n  s: {a: 1}\n  condition: s\n"),
            Some(Format::Sigma)
        );
        assert_eq!(
            sniff("[metadata]\na = 1\n[rule]\nname = 'x'\n"),
            Some(Format::Elastic)
        );
        assert_eq!(
            sniff("name: X\nid: 1\nsearch: '| tstats count'\n"),
            Some(Format::Splunk)
        );
        assert_eq!(sniff("repos:\n  - repo: local\n"), None);
        assert_eq!(sniff("on: push\njobs:\n  build: {}\n"), None);
        assert_eq!(sniff("[package]\nname = 'x'\n"), None);
        assert_eq!(
            sniff("title: c\ncorrelation:\n  type: event_count\n"),
            Some(Format::Sigma)
        );
    }
}
