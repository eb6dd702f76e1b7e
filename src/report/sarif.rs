//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other viewers.
//!
//! One run. `tool.driver.rules[]` holds one rule per check (`RL201`) and one
//! per knowledge pattern (`RL201/ephemeral-port`), built from the same text
//! as `rulelint explain`. Each result points at the triggering value with a
//! repository-relative URI (`uriBaseId` `%SRCROOT%`), carries a fingerprint
//! that does not depend on line numbers, and the suggested exclusion as a
//! fix when it can be applied mechanically. Parse errors are results too.

use super::paths::{slashed, Context};
use crate::checks::{self, CheckMeta, Code};
use crate::config;
use crate::diagnostic::{Diagnostic, Severity};
use crate::knowledge::{Knowledge, Pattern};
use crate::lint::FileResult;
use crate::source::{SourceFile, Span};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const SRCROOT: &str = "%SRCROOT%";
/// Name of our entry in `partialFingerprints`.
pub const FINGERPRINT: &str = "rulelint/v1";

/// SARIF `level` of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

/// `known-fp-pattern` → `KnownFpPattern`.
fn pascal(s: &str) -> String {
    s.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// End a sentence with a period (SARIF viewers expect sentences).
fn sentence(s: &str) -> String {
    let t = s.trim_end();
    if t.ends_with(['.', '!', '?']) {
        t.to_string()
    } else {
        format!("{t}.")
    }
}

/// The first paragraph of a Markdown document that is not a heading, as
/// plain text.
fn first_paragraph(md: &str) -> String {
    md.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with('#'))
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// 64-bit FNV-1a, stable across platforms and versions.
fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    let mut h = basis;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A stable 128-bit hex fingerprint of the parts.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut buf = Vec::new();
    for p in parts {
        buf.extend_from_slice(p.as_bytes());
        buf.push(0);
    }
    format!(
        "{:016x}{:016x}",
        fnv1a(&buf, 0xcbf2_9ce4_8422_2325),
        fnv1a(&buf, 0x6c62_272e_07bb_0142)
    )
}

/// Percent-encode a path for a URI reference: everything but unreserved
/// characters, `/` and the sub-delimiters is encoded (UTF-8 bytes as
/// `%XX`), so a space, `%`, `#`, `?`, `\`, `:` or a non-ASCII character in
/// a file name stays part of the path.
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `file://` URI for an absolute path (with a trailing slash for
/// directories when `dir`).
pub fn file_uri(path: &std::path::Path, dir: bool) -> String {
    let s = slashed(path);
    let s = s.strip_prefix('/').unwrap_or(&s);
    // A Windows drive (`C:`) stays as it is.
    let b = s.as_bytes();
    let (drive, rest) = if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        s.split_at(2)
    } else {
        ("", s)
    };
    let mut u = format!("file:///{drive}{}", uri_path(rest));
    if dir && !u.ends_with('/') {
        u.push('/');
    }
    u
}

fn check_tags(c: &CheckMeta) -> Vec<&'static str> {
    vec!["detection-rule", c.category.as_str()]
}

/// Link to the rule's section of `docs/checks.md` in the repository
/// (GitHub heading anchors).
fn help_uri(heading: &str) -> String {
    let anchor: String = heading
        .to_ascii_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect();
    format!(
        "{}/blob/main/docs/checks.md#{anchor}",
        env!("CARGO_PKG_REPOSITORY").trim_end_matches('/')
    )
}

fn check_rule(c: &CheckMeta) -> Value {
    let (summary, doc) = (c.summary(), c.doc());
    let full = first_paragraph(&doc);
    json!({
        "id": c.code,
        "name": pascal(c.name),
        "helpUri": help_uri(&format!("{} {}", c.code, c.name)),
        "shortDescription": {"text": sentence(summary)},
        "fullDescription": {"text": sentence(if full.is_empty() { summary } else { &full })},
        "help": {
            "text": format!("{summary}\n\n{doc}"),
            "markdown": format!("**{} {}**: {summary}\n\n{doc}", c.code, c.name),
        },
        "defaultConfiguration": {"level": level(c.severity)},
        "properties": {"tags": check_tags(c)},
    })
}

/// The lines explaining a pattern's exclusion and the facts it uses.
fn exclusion_text(p: &Pattern) -> Vec<String> {
    p.exclusion.describe()
}

fn pattern_rule(p: &Pattern) -> Value {
    let sev: Severity = p.severity;
    let excl = exclusion_text(p);
    let facts = config::pattern_facts(p);
    let mut text = format!(
        "{}\n\n{}\n\nBenign sources: {}.\n\nSuggested exclusion: {}.\n{}",
        sentence(&p.title),
        p.rationale.trim(),
        p.benign.join("; "),
        p.exclusion.summary,
        excl.join("\n")
    );
    let mut md = format!(
        "**{}** (`{}`)\n\n{}\n\n**Benign sources**\n\n{}\n\n**Suggested exclusion**: {}\n\n{}",
        p.title,
        p.id,
        p.rationale.trim(),
        p.benign
            .iter()
            .map(|b| format!("* {b}"))
            .collect::<Vec<_>>()
            .join("\n"),
        p.exclusion.summary,
        excl.iter()
            .map(|l| format!("* {l}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    if !facts.is_empty() {
        let list = facts.join(", ");
        text.push_str(&format!(
            "\n\nSet the environment facts {list} in rulelint.toml to fill in your values."
        ));
        md.push_str(&format!(
            "\n\nSet {} under `[environment]` in `rulelint.toml` to fill in your values.",
            facts
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if !p.references.is_empty() {
        text.push_str(&format!("\n\nReferences: {}", p.references.join(" ")));
        md.push_str(&format!(
            "\n\n**References**\n\n{}",
            p.references
                .iter()
                .map(|r| format!("* <{r}>"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
    }
    let mut tags = vec!["detection-rule".to_string(), "false-positive".to_string()];
    tags.extend(p.taxonomy.iter().cloned());
    json!({
        "id": format!("{}/{}", Code::KnownFpPattern, p.id),
        "name": pascal(&p.id),
        "helpUri": help_uri(&p.id),
        "shortDescription": {"text": sentence(&p.title)},
        "fullDescription": {"text": p.rationale.split_whitespace().collect::<Vec<_>>().join(" ")},
        "help": {"text": text, "markdown": md},
        "defaultConfiguration": {"level": level(sev)},
        "properties": {"tags": tags},
    })
}

/// The SARIF rule id of a diagnostic.
pub fn rule_id(d: &Diagnostic) -> String {
    match &d.pattern {
        Some(p) => format!("{}/{p}", d.code),
        None => d.code.to_string(),
    }
}

/// The whole lines around a span (one line before and after), as a SARIF
/// context region with its text.
fn context_region(src: &SourceFile, span: Span) -> Option<Value> {
    if span.end > src.text.len() {
        return None;
    }
    let first = src.line_col(span.start).line.saturating_sub(1).max(1);
    let last = src.line_col(span.end).line + 1;
    let start = src.index.line_start(first)?;
    let end = src
        .index
        .line_start(last + 1)
        .unwrap_or(src.text.len())
        .max(start);
    let text = src.text.get(start..end)?;
    let end_line = src.line_col(end).line;
    // A region ending at the start of a line ends on the line before.
    let end_line = if end > start && src.text.as_bytes().get(end - 1) == Some(&b'\n') {
        end_line.saturating_sub(1).max(first)
    } else {
        end_line
    };
    Some(json!({
        "startLine": first,
        "endLine": end_line,
        "snippet": {"text": text},
    }))
}

/// A text region with line/column and byte offsets.
fn region(src: Option<&SourceFile>, span: Span, d: Option<&Diagnostic>) -> Value {
    let (l, c, el, ec) = match (src, d) {
        (Some(s), _) if span.end <= s.text.len() => {
            let a = s.line_col(span.start);
            let b = s.line_col(span.end);
            (a.line, a.column, b.line, b.column)
        }
        (_, Some(d)) => (
            d.position.line,
            d.position.column,
            d.position.end_line,
            d.position.end_column,
        ),
        _ => (1, 1, 1, 1),
    };
    let mut r = Map::new();
    r.insert("startLine".into(), json!(l.max(1)));
    r.insert("startColumn".into(), json!(c.max(1)));
    r.insert("endLine".into(), json!(el.max(l).max(1)));
    r.insert(
        "endColumn".into(),
        json!(if el > l { ec.max(1) } else { ec.max(c).max(1) }),
    );
    if let Some(s) = src.filter(|s| span.end <= s.text.len()) {
        r.insert("byteOffset".into(), json!(span.start));
        r.insert("byteLength".into(), json!(span.len()));
        if let Some(t) = s.text.get(span.start..span.end) {
            r.insert("snippet".into(), json!({ "text": t }));
        }
    }
    Value::Object(r)
}

fn artifact_location(ctx: &Context, shown: &str) -> Value {
    if ctx.inside(shown) {
        json!({"uri": uri_path(&ctx.rel(shown)), "uriBaseId": SRCROOT})
    } else {
        json!({"uri": file_uri(&ctx.absolute(shown), false)})
    }
}

/// `tool.driver.rules[]`: one rule per check and per pattern, and one for
/// each code or pattern met in the results that is in neither table.
struct Rules {
    list: Vec<Value>,
    index: HashMap<String, usize>,
}

impl Rules {
    fn new(knowledge: &Knowledge) -> Rules {
        let mut rules = Rules {
            list: Vec::new(),
            index: HashMap::new(),
        };
        for c in checks::CHECKS {
            rules.push(c.code.to_string(), check_rule(c));
        }
        for p in &knowledge.patterns {
            rules.push(
                format!("{}/{}", Code::KnownFpPattern, p.id),
                pattern_rule(p),
            );
        }
        rules
    }

    fn push(&mut self, id: String, rule: Value) -> usize {
        let i = self.list.len();
        self.list.push(rule);
        self.index.insert(id, i);
        i
    }

    /// The index of a diagnostic's rule (described minimally when unknown).
    fn index_of(&mut self, id: &str, d: &Diagnostic) -> usize {
        match self.index.get(id) {
            Some(i) => *i,
            None => self.push(
                id.to_string(),
                json!({
                    "id": id,
                    "shortDescription": {"text": sentence(d.check())},
                    "defaultConfiguration": {"level": level(d.severity)},
                }),
            ),
        }
    }
}

/// Fingerprints of one file's results: from the file, the rule, the code,
/// the pattern and the triggering value, never from line numbers; repeats
/// are numbered.
#[derive(Default)]
struct Fingerprints {
    seen: HashMap<String, usize>,
}

impl Fingerprints {
    fn next(&mut self, rel: &str, d: &Diagnostic) -> String {
        let rule_key = d
            .rule
            .as_ref()
            .and_then(|x| x.id.clone().or_else(|| x.title.clone()))
            .unwrap_or_default();
        let base = fingerprint(&[
            rel,
            &rule_key,
            d.code.as_str(),
            d.pattern.as_deref().unwrap_or(""),
            &d.key,
        ]);
        let n = self.seen.entry(base.clone()).or_default();
        *n += 1;
        if *n == 1 {
            base
        } else {
            fingerprint(&[&base, &n.to_string()])
        }
    }
}

/// The message: the diagnostic's sentence and the rule's title.
fn message_text(d: &Diagnostic) -> String {
    let mut text = sentence(&d.message);
    if let Some(t) = d.rule.as_ref().and_then(|r| r.title.as_deref()) {
        text.push_str(&format!(" Rule: {}.", t.trim_end_matches('.')));
    }
    text
}

/// The physical location of a diagnostic, with the lines around it.
fn physical_location(loc: &Value, src: Option<&SourceFile>, d: &Diagnostic) -> Value {
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), loc.clone());
    physical.insert("region".into(), region(src, d.span, Some(d)));
    if let Some(c) = src.and_then(|s| context_region(s, d.span)) {
        physical.insert("contextRegion".into(), c);
    }
    Value::Object(physical)
}

/// `relatedLocations`: the diagnostic's labels.
fn related_locations(loc: &Value, src: Option<&SourceFile>, d: &Diagnostic) -> Value {
    let related: Vec<Value> = d
        .labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            json!({
                "id": i + 1,
                "physicalLocation": {
                    "artifactLocation": loc.clone(),
                    "region": region(src, l.span, None),
                },
                "message": {"text": sentence(&l.message)},
            })
        })
        .collect();
    json!(related)
}

/// `fixes`: the suggestion's edits, when every edit lies in the file, with
/// their applicability.
fn fixes(loc: &Value, src: &SourceFile, d: &Diagnostic) -> Option<Value> {
    let fix = &d.suggestion.as_ref()?.fix;
    if fix.edits.is_empty() || fix.edits.iter().any(|e| e.span.end > src.text.len()) {
        return None;
    }
    let replacements: Vec<Value> = fix
        .edits
        .iter()
        .map(|e| {
            json!({
                "deletedRegion": region(Some(src), e.span, None),
                "insertedContent": {"text": e.replacement},
            })
        })
        .collect();
    let desc = d
        .help
        .as_deref()
        .and_then(|h| h.lines().next())
        .unwrap_or("apply the suggested exclusion")
        .trim_end_matches(':');
    Some(json!([{
        "description": {"text": sentence(desc)},
        "artifactChanges": [{
            "artifactLocation": loc.clone(),
            "replacements": replacements,
        }],
        "properties": {"applicability": fix.applicability.as_str()},
    }]))
}

/// `properties`: what SARIF has no place for.
fn properties(d: &Diagnostic) -> Value {
    let mut props = Map::new();
    props.insert("check".into(), json!(d.check()));
    if let Some(p) = &d.pattern {
        props.insert("pattern".into(), json!(p));
    }
    if let Some(rr) = &d.rule {
        if let Some(i) = &rr.id {
            props.insert("ruleId".into(), json!(i));
        }
        if let Some(t) = &rr.title {
            props.insert("ruleTitle".into(), json!(t));
        }
    }
    if let Some(n) = &d.note {
        props.insert("note".into(), json!(n));
    }
    if let Some(h) = &d.help {
        props.insert("help".into(), json!(h));
    }
    if let Some(s) = &d.suggestion {
        props.insert(
            "suggestion".into(),
            json!({
                "language": s.language.as_str(),
                "text": s.text,
                "hasPlaceholders": s.has_placeholders,
            }),
        );
    }
    Value::Object(props)
}

/// One SARIF result.
fn result(
    d: &Diagnostic,
    rules: &mut Rules,
    fingerprint: String,
    loc: &Value,
    src: Option<&SourceFile>,
) -> Value {
    let id = rule_id(d);
    let mut res = Map::new();
    res.insert("ruleIndex".into(), json!(rules.index_of(&id, d)));
    res.insert("ruleId".into(), json!(id));
    res.insert("level".into(), json!(level(d.severity)));
    res.insert("message".into(), json!({"text": message_text(d)}));
    res.insert(
        "locations".into(),
        json!([{ "physicalLocation": physical_location(loc, src, d) }]),
    );
    res.insert(
        "partialFingerprints".into(),
        json!({ FINGERPRINT: fingerprint }),
    );
    if !d.labels.is_empty() {
        res.insert("relatedLocations".into(), related_locations(loc, src, d));
    }
    if let Some(f) = src.and_then(|src| fixes(loc, src, d)) {
        res.insert("fixes".into(), f);
    }
    res.insert("properties".into(), properties(d));
    Value::Object(res)
}

/// Render the SARIF log.
pub fn render(results: &[FileResult], knowledge: &Knowledge, ctx: &Context) -> String {
    let mut rules = Rules::new(knowledge);
    let mut out = Vec::new();
    for r in results {
        let loc = artifact_location(ctx, &r.path);
        let rel = ctx.rel(&r.path);
        let mut fps = Fingerprints::default();
        for d in &r.diagnostics {
            let fp = fps.next(&rel, d);
            out.push(result(d, &mut rules, fp, &loc, r.source.as_ref()));
        }
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "rulelint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules.list,
                }
            },
            "invocations": [{"executionSuccessful": true}],
            "originalUriBaseIds": {
                SRCROOT: {"uri": file_uri(&ctx.root, true)}
            },
            "columnKind": "unicodeCodePoints",
            "results": out,
        }]
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::{Edit, Label, Position, RuleRef, Suggestion};
    use crate::lint::{self, FileStatus};
    use crate::rule::{Format, Language};
    use std::path::PathBuf;

    const TEXT: &str = "title: Odd port\nid: 5e1f\nlogsource:\n    category: network_connection\ndetection:\n    selection:\n        DestinationPort: 6667\n    condition: selection\n";

    fn finding(src: &SourceFile, value: &str) -> Diagnostic {
        let start = src.text.find(value).unwrap();
        let span = Span::new(start, start + value.len());
        let at = src.text.find("    condition").unwrap();
        Diagnostic {
            code: Code::KnownFpPattern,
            pattern: Some("ephemeral-port".into()),
            severity: Severity::Warning,
            message: format!(
                "`DestinationPort` matches `{value}`: destination port in the ephemeral range"
            ),
            note: Some("Clients pick ports.".into()),
            help: Some(
                "exclude server replies:\nfilter_ephemeral_port:\n    SourcePort: [80, 443]".into(),
            ),
            file: "rules/net/odd port.yml".into(),
            format: Some(Format::Sigma),
            rule: Some(RuleRef {
                id: Some("5e1f".into()),
                title: Some("Odd port".into()),
            }),
            span,
            position: Position::resolve(src, span),
            labels: vec![Label {
                span,
                position: Position::resolve(src, span),
                message: "triggers the pattern".into(),
            }],
            suggestion: Some(Suggestion {
                language: Language::Sigma,
                text: "filter_ephemeral_port:\n    SourcePort: [80, 443]".into(),
                fix: crate::diagnostic::Fix {
                    applicability: crate::diagnostic::Applicability::Unsafe,
                    edits: vec![
                        Edit::insert(
                            at,
                            "    filter_ephemeral_port:\n        SourcePort: [80, 443]\n",
                        ),
                        Edit::new(
                            Span::new(src.text.len() - 1, src.text.len() - 1),
                            " and not filter_ephemeral_port",
                        ),
                    ],
                },
                has_placeholders: false,
                proposal: None,
            }),
            key: format!("ephemeral-port|DestinationPort|{value}"),
        }
    }

    fn sample(text: &str) -> Vec<FileResult> {
        let src = SourceFile::new("rules/net/odd port.yml", text);
        let d = finding(&src, "6667");
        let parse_err = lint::file_error(
            "rules/bad.yml",
            Code::InvalidYaml,
            "invalid YAML: did not find expected key".into(),
            None,
        );
        vec![
            FileResult {
                path: "rules/bad.yml".into(),
                source: None,
                format: Some(Format::Sigma),
                status: FileStatus::Failed,
                diagnostics: vec![parse_err],
            },
            FileResult {
                path: "rules/net/odd port.yml".into(),
                source: Some(src),
                format: Some(Format::Sigma),
                status: FileStatus::Checked(1),
                diagnostics: vec![d],
            },
        ]
    }

    fn ws() -> Context {
        Context::new("/work/repo").with_files(
            [
                "rules/bad.yml",
                "rules/net/odd port.yml",
                "a.yml",
                "/elsewhere/x.yml",
            ],
            |s| PathBuf::from("/work/repo").join(s),
        )
    }

    fn render_sample(text: &str) -> Value {
        let k = Knowledge::builtin().unwrap();
        let s = render(&sample(text), &k, &ws());
        serde_json::from_str(&s).unwrap()
    }

    #[test]
    fn log_shape() {
        let v = render_sample(TEXT);
        assert_eq!(v["version"], "2.1.0");
        let run = &v["runs"][0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "rulelint");
        assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
        let rules = driver["rules"].as_array().unwrap();
        assert!(rules.iter().any(|r| r["id"] == "RL201"));
        let eph = rules
            .iter()
            .position(|r| r["id"] == "RL201/ephemeral-port")
            .expect("pattern rule");
        assert_eq!(rules[eph]["name"], "EphemeralPort");
        assert_eq!(rules[eph]["defaultConfiguration"]["level"], "warning");
        assert!(rules[eph]["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("**Benign sources**"));
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///work/repo/"
        );

        let res = run["results"].as_array().unwrap();
        assert_eq!(res.len(), 2);
        assert_eq!(res[0]["ruleId"], "RL002");
        assert_eq!(res[0]["level"], "error");
        let r = &res[1];
        assert_eq!(r["ruleId"], "RL201/ephemeral-port");
        assert_eq!(r["ruleIndex"], eph);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "rules/net/odd%20port.yml");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(loc["region"]["startLine"], 7);
        assert_eq!(loc["region"]["startColumn"], 26);
        assert_eq!(loc["region"]["endLine"], 7);
        assert_eq!(loc["region"]["endColumn"], 30);
        assert_eq!(loc["region"]["byteLength"], 4);
        assert_eq!(loc["region"]["snippet"]["text"], "6667");
        assert_eq!(loc["contextRegion"]["startLine"], 6);
        assert_eq!(loc["contextRegion"]["endLine"], 8);
        assert_eq!(
            loc["contextRegion"]["snippet"]["text"],
            "    selection:\n        DestinationPort: 6667\n    condition: selection\n"
        );
        assert!(rules[eph]["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("/blob/main/docs/checks.md#ephemeral-port"));
        let rl201 = rules.iter().find(|r| r["id"] == "RL201").unwrap();
        assert!(rl201["helpUri"]
            .as_str()
            .unwrap()
            .ends_with("#rl201-known-fp-pattern"));
        let fix = &r["fixes"][0];
        assert_eq!(fix["description"]["text"], "exclude server replies.");
        assert_eq!(fix["properties"]["applicability"], "unsafe");
        let reps = fix["artifactChanges"][0]["replacements"]
            .as_array()
            .unwrap();
        assert_eq!(reps.len(), 2);
        assert_eq!(reps[0]["deletedRegion"]["startLine"], 8);
        assert_eq!(reps[0]["deletedRegion"]["byteLength"], 0);
        assert!(r["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with("Rule: Odd port."));
    }

    #[test]
    fn fingerprints_ignore_line_moves() {
        let a = render_sample(TEXT);
        let moved = TEXT.replace(
            "detection:\n",
            "description: moved\nfalsepositives: []\ndetection:\n",
        );
        let b = render_sample(&moved);
        let fa = &a["runs"][0]["results"][1]["partialFingerprints"][FINGERPRINT];
        let fb = &b["runs"][0]["results"][1]["partialFingerprints"][FINGERPRINT];
        assert_eq!(
            a["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"],
            7
        );
        assert_eq!(
            b["runs"][0]["results"][1]["locations"][0]["physicalLocation"]["region"]["startLine"],
            9
        );
        assert_eq!(fa, fb);
        assert_eq!(fa.as_str().unwrap().len(), 32);
    }

    #[test]
    fn duplicate_keys_get_distinct_fingerprints() {
        let src = SourceFile::new("a.yml", TEXT);
        let d = finding(&src, "6667");
        let k = Knowledge::builtin().unwrap();
        let r = vec![FileResult {
            path: "a.yml".into(),
            source: Some(src),
            format: None,
            status: FileStatus::Checked(1),
            diagnostics: vec![d.clone(), d],
        }];
        let v: Value = serde_json::from_str(&render(&r, &k, &ws())).unwrap();
        let res = v["runs"][0]["results"].as_array().unwrap();
        assert_ne!(res[0]["partialFingerprints"], res[1]["partialFingerprints"]);
    }

    #[test]
    fn files_outside_the_root_get_absolute_uris() {
        let k = Knowledge::builtin().unwrap();
        let r = vec![FileResult {
            path: "/elsewhere/x.yml".into(),
            source: None,
            format: None,
            status: FileStatus::Failed,
            diagnostics: vec![lint::file_error(
                "/elsewhere/x.yml",
                Code::UnreadableFile,
                "cannot read".into(),
                None,
            )],
        }];
        let v: Value = serde_json::from_str(&render(&r, &k, &ws())).unwrap();
        let al =
            &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(al["uri"], "file:///elsewhere/x.yml");
        assert!(al.get("uriBaseId").is_none());
    }

    #[test]
    fn helpers() {
        assert_eq!(pascal("known-fp-pattern"), "KnownFpPattern");
        assert_eq!(uri_path("a b/é#?.yml"), "a%20b/%C3%A9%23%3F.yml");
        assert_eq!(uri_path("r\\a%:b.yml"), "r%5Ca%25%3Ab.yml");
        assert_eq!(
            file_uri(std::path::Path::new("/w/a b#/"), true),
            "file:///w/a%20b%23/"
        );
        assert_eq!(sentence("done"), "done.");
        assert_eq!(sentence("done?"), "done?");
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
    }

    /// Writes a sample log covering fixes, related locations, parse errors
    /// and an URI that needs escaping to `$RULELINT_SARIF_SAMPLE`, for
    /// `.ci/sarif-validate.sh` to validate with the SARIF Multitool.
    #[test]
    fn sample_for_the_validator() {
        let k = Knowledge::builtin().unwrap();
        let s = render(&sample(TEXT), &k, &ws());
        if let Some(p) = std::env::var_os("RULELINT_SARIF_SAMPLE") {
            std::fs::write(p, &s).unwrap();
        }
        assert!(s.contains("\"fixes\""));
    }
}
