//! Checks: each walks the Logic IR of one rule and returns diagnostics.
//!
//! One file per check, named after the check. Every check and every parse
//! code is listed in [`CHECKS`] with its documentation, which feeds
//! `rulelint explain`, the SARIF rule metadata and `docs/checks.md`.

pub mod known_fp_pattern;

use crate::diagnostic::Severity;

/// Documentation of one check or parse code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// Markdown: *Why*, *Example*, *Fix safety*.
    pub doc: &'static str,
}

/// Every code rulelint can emit, parse codes first.
pub const CHECKS: &[CheckInfo] = &[
    CheckInfo {
        code: "RL001",
        name: "unreadable-file",
        severity: Severity::Error,
        summary: "The file cannot be read, is not UTF-8, or is binary.",
        doc: "A rule file must be readable UTF-8 text. Binary files, files in another encoding and paths that are directories or lack read permission are reported here; the other files are still checked.\n\n**Fix:** convert the file to UTF-8, or exclude it with `--exclude`.",
    },
    CheckInfo {
        code: "RL002",
        name: "invalid-yaml",
        severity: Severity::Error,
        summary: "The YAML of a Sigma or Splunk rule does not parse.",
        doc: "The position points at the first character the YAML parser could not accept.\n\n**Fix:** correct the YAML syntax at the reported line and column.",
    },
    CheckInfo {
        code: "RL003",
        name: "invalid-toml",
        severity: Severity::Error,
        summary: "The TOML of an Elastic rule does not parse.",
        doc: "The position points at the first character the TOML parser could not accept.\n\n**Fix:** correct the TOML syntax at the reported line and column.",
    },
    CheckInfo {
        code: "RL004",
        name: "invalid-rule-structure",
        severity: Severity::Error,
        summary: "A key has the wrong type or a required key is missing.",
        doc: "For example a Sigma `detection` that is a list instead of a mapping, a selection that is a number, an Elastic `query` that is not a string or a Splunk `search` that is missing.\n\n**Fix:** give the key the type the rule format expects.",
    },
    CheckInfo {
        code: "RL005",
        name: "unknown-modifier",
        severity: Severity::Error,
        summary: "A Sigma field modifier is not one the Sigma specification defines.",
        doc: "`Image|contians: x` is a typo that Sigma converters reject or silently mis-handle. The message suggests the closest known modifier.\n\n**Fix:** use a modifier of the Sigma specification (contains, startswith, endswith, all, re, cidr, base64, base64offset, utf16le, utf16be, wide, windash, exists, lt, lte, gt, gte, expand, fieldref, cased).",
    },
    CheckInfo {
        code: "RL006",
        name: "invalid-condition",
        severity: Severity::Error,
        summary: "A Sigma condition does not parse.",
        doc: "The condition grammar is `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`, `1 of them`, `all of them`.\n\n**Fix:** correct the condition at the reported position.",
    },
    CheckInfo {
        code: "RL007",
        name: "unknown-selection",
        severity: Severity::Error,
        summary: "A Sigma condition names a selection that is not defined.",
        doc: "The message suggests the closest defined selection name.\n\n**Fix:** define the selection under `detection`, or correct the name.",
    },
    CheckInfo {
        code: "RL008",
        name: "invalid-query",
        severity: Severity::Error,
        summary: "A KQL, EQL, ES|QL, Lucene or SPL query does not parse.",
        doc: "The position points at the exact character inside the query string, through TOML and YAML escapes.\n\n**Fix:** correct the query at the reported position.",
    },
    CheckInfo {
        code: "RL009",
        name: "legacy-construct",
        severity: Severity::Info,
        summary: "Legacy or unsupported syntax that rulelint keeps but does not model.",
        doc: "Legacy Sigma pipe aggregations (`| count() by x > 5`) and `near` are kept as an opaque part of the logic; checks skip that part.\n\n**Fix:** none needed; consider a Sigma correlation rule instead of a pipe aggregation.",
    },
    CheckInfo {
        code: "RL010",
        name: "opaque-query-part",
        severity: Severity::Info,
        summary: "Part of a query could not be modelled and is skipped by checks.",
        doc: "Unknown commands or functions are kept as opaque parts. Findings in the rest of the query are still reported.\n\n**Fix:** none needed.",
    },
    CheckInfo {
        code: "RL011",
        name: "unknown-query-language",
        severity: Severity::Error,
        summary: "An Elastic rule names a query language rulelint does not know.",
        doc: "Known languages: kuery, eql, esql, lucene.\n\n**Fix:** correct the `language` value.",
    },
    CheckInfo {
        code: "RL012",
        name: "empty-rule-file",
        severity: Severity::Error,
        summary: "A file named on the command line is empty or holds no rule.",
        doc: "**Fix:** remove the file or write the rule.",
    },
    CheckInfo {
        code: "RL013",
        name: "duplicate-key",
        severity: Severity::Error,
        summary: "A mapping defines the same key twice.",
        doc: "YAML parsers differ on which value wins, so the rule means different things to different tools.\n\n**Fix:** keep one of the keys.",
    },
    CheckInfo {
        code: crate::suppress::UNUSED_CODE,
        name: crate::suppress::UNUSED_NAME,
        severity: Severity::Info,
        summary: crate::suppress::UNUSED_SUMMARY,
        doc: crate::suppress::UNUSED_DOC,
    },
    CheckInfo {
        code: crate::suppress::INVALID_CODE,
        name: crate::suppress::INVALID_NAME,
        severity: Severity::Warning,
        summary: crate::suppress::INVALID_SUMMARY,
        doc: crate::suppress::INVALID_DOC,
    },
    CheckInfo {
        code: "RL014",
        name: "tstats-without-datamodel",
        severity: Severity::Warning,
        summary: "A Splunk `tstats` search uses datamodel fields but names no datamodel.",
        doc: "Without `from datamodel=…`, `tstats` reads index-time fields only; a field such as `Processes.process_name` does not exist there, so the search matches nothing and the detection never fires.\n\n**Fix:** add `from datamodel=<Model>` (for example `from datamodel=Endpoint.Processes`).",
    },
    CheckInfo {
        code: known_fp_pattern::CODE,
        name: known_fp_pattern::NAME,
        severity: Severity::Warning,
        summary: known_fp_pattern::SUMMARY,
        doc: known_fp_pattern::DOC,
    },
];

/// Look up a check by code (`RL201`) or name (`known-fp-pattern`),
/// case-insensitively.
pub fn find(name: &str) -> Option<&'static CheckInfo> {
    CHECKS
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(name) || c.name.eq_ignore_ascii_case(name))
}
