//! Codes emitted while reading and parsing a file, before any check runs.
//! An error of this category means the rule was not checked.

use crate::declare_check;

declare_check! {
    /// rulelint failed on this file; the other files are still checked.
    ///
    /// A check or a parser met a situation it does not handle and stopped on
    /// this file instead of crashing the run. The rule was not (fully)
    /// checked.
    ///
    /// **Fix:** please report it with the file (or a reduced copy of it).
    pub struct InternalError {
        code: "RL000",
        name: "internal-error",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// The file cannot be read, is not UTF-8, or is binary.
    ///
    /// A rule file must be readable UTF-8 text. Binary files, files in
    /// another encoding, paths that are directories or lack read permission,
    /// files larger than the size limit (`--max-file-size`, `max-file-size`
    /// in the configuration; 4 MB by default) and files that are not regular
    /// files (FIFOs, devices, sockets) are reported here without being read;
    /// the other files are still checked.
    ///
    /// **Fix:** convert the file to UTF-8, raise the size limit, or exclude
    /// the file with `--exclude`.
    pub struct UnreadableFile {
        code: "RL001",
        name: "unreadable-file",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// The YAML of a Sigma or Splunk rule does not parse.
    ///
    /// The position points at the first character the YAML parser could not accept.
    ///
    /// **Fix:** correct the YAML syntax at the reported line and column.
    pub struct InvalidYaml {
        code: "RL002",
        name: "invalid-yaml",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// The TOML of an Elastic rule does not parse.
    ///
    /// The position points at the first character the TOML parser could not accept.
    ///
    /// **Fix:** correct the TOML syntax at the reported line and column.
    pub struct InvalidToml {
        code: "RL003",
        name: "invalid-toml",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A key has the wrong type or a required key is missing.
    ///
    /// For example a Sigma `detection` that is a list instead of a mapping, a selection that is a number, an Elastic `query` that is not a string or a Splunk `search` that is missing.
    ///
    /// **Fix:** give the key the type the rule format expects.
    pub struct InvalidRuleStructure {
        code: "RL004",
        name: "invalid-rule-structure",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A Sigma field modifier is not one the Sigma specification defines.
    ///
    /// `Image|contians: x` is a typo that Sigma converters reject or silently mis-handle. The message suggests the closest known modifier.
    ///
    /// **Fix:** use a modifier of the Sigma specification (contains, startswith, endswith, all, re, cidr, base64, base64offset, utf16le, utf16be, wide, windash, exists, lt, lte, gt, gte, expand, fieldref, cased).
    pub struct UnknownModifier {
        code: "RL005",
        name: "unknown-modifier",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A Sigma condition does not parse.
    ///
    /// The condition grammar is `and`, `or`, `not`, parentheses, `1 of x*`, `all of x*`, `1 of them`, `all of them`.
    ///
    /// **Fix:** correct the condition at the reported position.
    pub struct InvalidCondition {
        code: "RL006",
        name: "invalid-condition",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A Sigma condition names a selection that is not defined.
    ///
    /// The message suggests the closest defined selection name.
    ///
    /// **Fix:** define the selection under `detection`, or correct the name.
    pub struct UnknownSelection {
        code: "RL007",
        name: "unknown-selection",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A KQL, EQL, ES|QL, Lucene or SPL query does not parse.
    ///
    /// The position points at the exact character inside the query string, through TOML and YAML escapes.
    ///
    /// **Fix:** correct the query at the reported position.
    pub struct InvalidQuery {
        code: "RL008",
        name: "invalid-query",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// Legacy or unsupported syntax that rulelint keeps but does not model.
    ///
    /// Legacy Sigma pipe aggregations (`| count() by x > 5`) and `near` are kept as an opaque part of the logic; checks skip that part.
    ///
    /// **Fix:** none needed; consider a Sigma correlation rule instead of a pipe aggregation.
    pub struct LegacyConstruct {
        code: "RL009",
        name: "legacy-construct",
        category: Parse,
        severity: Info,
        fix: None,
    }
}

declare_check! {
    /// Part of a query could not be modelled and is skipped by checks.
    ///
    /// Unknown commands or functions are kept as opaque parts. Findings in the rest of the query are still reported.
    ///
    /// **Fix:** none needed.
    pub struct OpaqueQueryPart {
        code: "RL010",
        name: "opaque-query-part",
        category: Parse,
        severity: Info,
        fix: None,
    }
}

declare_check! {
    /// An Elastic rule names a query language rulelint does not know.
    ///
    /// Known languages: kuery, eql, esql, lucene.
    ///
    /// **Fix:** correct the `language` value.
    pub struct UnknownQueryLanguage {
        code: "RL011",
        name: "unknown-query-language",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A file named on the command line is empty or holds no rule.
    ///
    /// **Fix:** remove the file or write the rule.
    pub struct EmptyRuleFile {
        code: "RL012",
        name: "empty-rule-file",
        category: Parse,
        severity: Error,
        fix: None,
    }
}

declare_check! {
    /// A mapping defines the same key twice.
    ///
    /// YAML parsers differ on which value wins, so the rule means different things to different tools.
    ///
    /// **Fix:** keep one of the keys.
    pub struct DuplicateKey {
        code: "RL013",
        name: "duplicate-key",
        category: Parse,
        severity: Error,
        fix: None,
    }
}
