//! Splunk: a `macros.conf` with one `[<detection>_filter]` stanza per
//! affected detection. Splunk security content ends each detection's
//! search with `` `<detection>_filter` ``, a macro shipped as `search *`
//! for each site to tune; its definition survives content updates.
//!
//! Several patterns hitting one detection share one definition
//! (`search NOT (…) NOT (…)`). With `--merge-with`, the stanzas of the
//! user's file are kept: a definition the user tuned is combined with the
//! exclusions (`<theirs> | search NOT (…)`), never replaced.

use super::Target;
use std::collections::BTreeMap;

/// One stanza of a `.conf` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Stanza {
    pub name: String,
    /// `key = value`, continuation lines joined with `\n`.
    pub entries: Vec<(String, String)>,
    /// The stanza's lines as written (header included), to keep an
    /// untouched stanza byte for byte.
    pub raw: Vec<String>,
}

impl Stanza {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed `.conf` file: lines before the first stanza, then stanzas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conf {
    pub preamble: Vec<String>,
    pub stanzas: Vec<Stanza>,
}

/// Parse a Splunk `.conf` file: `[stanza]` headers, `key = value` lines
/// (a trailing `\` continues the value on the next line), `#` comments and
/// blank lines. Anything else is an error naming the line.
pub fn parse_conf(text: &str) -> Result<Conf, String> {
    let mut conf = Conf::default();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((i, line)) = lines.next() {
        let t = line.trim();
        if t.starts_with('[') {
            let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) else {
                return Err(format!("line {}: a stanza header must end with `]`", i + 1));
            };
            if name.trim().is_empty() {
                return Err(format!("line {}: empty stanza name", i + 1));
            }
            if conf.stanzas.iter().any(|s| s.name == name) {
                return Err(format!("line {}: stanza [{name}] appears twice", i + 1));
            }
            conf.stanzas.push(Stanza {
                name: name.to_string(),
                entries: Vec::new(),
                raw: vec![line.to_string()],
            });
            continue;
        }
        let Some(stanza) = conf.stanzas.last_mut() else {
            if t.is_empty() || t.starts_with('#') {
                conf.preamble.push(line.to_string());
                continue;
            }
            // Splunk puts settings before any header in [default].
            return Err(format!(
                "line {}: a setting before the first `[stanza]` header",
                i + 1
            ));
        };
        stanza.raw.push(line.to_string());
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!(
                "line {}: expected `key = value`, a `[stanza]` header or a `#` comment",
                i + 1
            ));
        };
        let key = k.trim().to_string();
        if key.is_empty() {
            return Err(format!("line {}: a setting without a name", i + 1));
        }
        let mut value = v.trim_start().to_string();
        while value.ends_with('\\') {
            value.pop();
            value.push('\n');
            match lines.next() {
                Some((_, next)) => {
                    stanza.raw.push(next.to_string());
                    value.push_str(next);
                }
                None => break,
            }
        }
        stanza.entries.push((key, value.trim_end().to_string()));
    }
    Ok(conf)
}

/// The description our stanzas carry, to recognise them on a merge.
const OURS: &str = "rulelint tune:";

/// `macros.conf`: the existing file's stanzas (if any) with the
/// exclusions combined into them, then new stanzas sorted by name.
pub fn render(targets: &[Target], existing: Option<&str>) -> Result<String, String> {
    // macro → pattern → clause
    let mut by_macro: BTreeMap<&str, BTreeMap<&str, String>> = BTreeMap::new();
    for t in targets {
        let Some((name, names)) = &t.filter_macro else {
            continue;
        };
        let Some(clause) = crate::suggest::spl::clause(&t.exclusion, names) else {
            continue;
        };
        let m = by_macro.entry(name.as_str()).or_default();
        let slot = m.entry(t.pattern.as_str()).or_default();
        if slot.is_empty() {
            *slot = clause;
        } else if !slot.contains(&clause) {
            slot.push(' ');
            slot.push_str(&clause);
        }
    }
    let conf = match existing {
        Some(text) => parse_conf(text).map_err(|e| format!("--merge-with: {e}"))?,
        None => Conf::default(),
    };
    let mut out = String::new();
    if conf.preamble.is_empty() && conf.stanzas.is_empty() {
        out.push_str("# Filter macros written by `rulelint tune`: each excludes the benign\n");
        out.push_str("# activity of known false-positive patterns from one detection, with the\n");
        out.push_str("# values of your [environment] facts. Rerun `rulelint tune` to update.\n");
    }
    for l in &conf.preamble {
        out.push_str(l);
        out.push('\n');
    }
    for s in &conf.stanzas {
        let Some(ours) = by_macro.remove(s.name.as_str()) else {
            for l in &s.raw {
                out.push_str(l);
                out.push('\n');
            }
            continue;
        };
        let theirs = s.get("definition").unwrap_or("").trim();
        let generated = s.get("description").is_some_and(|d| d.starts_with(OURS));
        let clauses: Vec<&String> = ours.values().collect();
        let definition = if theirs.is_empty() || theirs == "search *" || generated {
            definition(&clauses)
        } else {
            let missing: Vec<&String> = clauses
                .iter()
                .copied()
                .filter(|c| !theirs.contains(c.as_str()))
                .collect();
            if missing.is_empty() {
                theirs.to_string()
            } else {
                format!("{theirs} | {}", definition(&missing))
            }
        };
        let replaced = theirs.is_empty() || theirs == "search *" || generated;
        let mut entries = s.entries.clone();
        set(&mut entries, "definition", definition);
        // Only a stanza that is now wholly ours says so: a combined one
        // stays the user's (and is combined again, never replaced).
        if replaced {
            set(&mut entries, "description", description(&ours));
        }
        out.push_str(&format!("[{}]\n", s.name));
        for (k, v) in &entries {
            out.push_str(&format!("{k} = {}\n", v.replace('\n', "\\\n")));
        }
        // Keep the blank line that separated it from the next stanza.
        if s.raw.last().is_some_and(|l| l.trim().is_empty()) {
            out.push('\n');
        }
    }
    for (name, ours) in &by_macro {
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        let clauses: Vec<&String> = ours.values().collect();
        out.push_str(&format!("[{name}]\n"));
        out.push_str(&format!("definition = {}\n", definition(&clauses)));
        out.push_str(&format!("description = {}\n", description(ours)));
    }
    Ok(out)
}

fn definition(clauses: &[&String]) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in clauses {
        if !parts.contains(&c.as_str()) {
            parts.push(c.as_str());
        }
    }
    format!("search {}", parts.join(" "))
}

fn description(ours: &BTreeMap<&str, String>) -> String {
    let names: Vec<&str> = ours.keys().copied().collect();
    format!(
        "{OURS} excludes the known false-positive pattern{} {}",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// Set `key` in place (its first occurrence; later ones dropped), or add
/// it at the end.
fn set(entries: &mut Vec<(String, String)>, key: &str, value: String) {
    match entries.iter().position(|(k, _)| k == key) {
        Some(i) => {
            entries[i].1 = value;
            let mut n = 0;
            entries.retain(|(k, _)| {
                n += usize::from(k == key);
                k != key || n == 1
            });
        }
        None => entries.push((key.to_string(), value)),
    }
}

/// Check a `macros.conf`: every stanza parses and every `definition`
/// parses as SPL. Returns the number of definitions, or the problems.
pub fn verify(text: &str) -> Result<usize, Vec<String>> {
    let conf = parse_conf(text).map_err(|e| vec![e])?;
    let mut problems = Vec::new();
    let mut n = 0;
    for s in &conf.stanzas {
        let Some(def) = s.get("definition") else {
            problems.push(format!("[{}]: no definition", s.name));
            continue;
        };
        n += 1;
        let q = crate::query::spl::parse(&def.replace("\\\n", " ").replace('\n', " "));
        if q.has_errors() {
            let msgs: Vec<String> = q
                .issues
                .iter()
                .filter(|i| i.severity == crate::severity::Severity::Error)
                .map(|i| i.message.clone())
                .collect();
            problems.push(format!(
                "[{}]: the definition does not parse: {}",
                s.name,
                msgs.join("; ")
            ));
        }
    }
    if problems.is_empty() {
        Ok(n)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conf_files_parse_with_continuations_and_comments() {
        let c = parse_conf(
            "# top\n[a_filter]\ndefinition = search \\\nNOT x=1\n# note\niseval = 0\n\n[b]\nk=v\n",
        )
        .unwrap();
        assert_eq!(c.preamble, vec!["# top"]);
        assert_eq!(c.stanzas.len(), 2);
        assert_eq!(c.stanzas[0].get("definition"), Some("search \nNOT x=1"));
        assert_eq!(c.stanzas[0].get("iseval"), Some("0"));
        assert_eq!(c.stanzas[1].get("k"), Some("v"));
        assert!(parse_conf("[a]\nnot a setting\n")
            .unwrap_err()
            .contains("line 2"));
        assert!(parse_conf("k = v\n").unwrap_err().contains("line 1"));
        assert!(parse_conf("[a]\n[a]\n").unwrap_err().contains("twice"));
        assert!(parse_conf("[a\n").unwrap_err().contains("`]`"));
    }

    fn target(pattern: &str, field: &str, value: &str) -> Target {
        use crate::checks::proposal::{Exclusion, ExclusionField, ExclusionValue, ValueOrigin};
        Target {
            pattern: pattern.into(),
            file: "d.yml".into(),
            id: "1".into(),
            title: "d".into(),
            logsource: Vec::new(),
            filter_macro: Some(("d_filter".into(), vec![field.into()])),
            exclusion: Exclusion {
                name: pattern.into(),
                fields: vec![ExclusionField {
                    field: field.into(),
                    op: crate::rule::Op::Eq,
                    values: vec![ExclusionValue {
                        text: value.into(),
                        numeric: false,
                        origin: ValueOrigin::Fact,
                    }],
                }],
            },
            summary: "s".into(),
            facts: vec!["f".into()],
        }
    }

    #[test]
    fn patterns_hitting_one_detection_share_one_definition() {
        let ts = [
            target("b-pattern", "user", "x"),
            target("a-pattern", "src", "10.0.0.0/8"),
        ];
        let text = render(&ts, None).unwrap();
        assert!(
            text.ends_with("[d_filter]\ndefinition = search NOT (src=\"10.0.0.0/8\") NOT (user=\"x\")\ndescription = rulelint tune: excludes the known false-positive patterns a-pattern, b-pattern\n"),
            "{text}"
        );
        assert_eq!(verify(&text), Ok(1));
    }

    #[test]
    fn definitions_are_checked_with_the_spl_parser() {
        assert_eq!(
            verify("[a_filter]\ndefinition = search NOT (user IN (\"x\", \"y\"))\n"),
            Ok(1)
        );
        assert!(verify("[a_filter]\ndefinition = search NOT (user=\"x\"\n").is_err());
        assert!(verify("[a_filter]\niseval = 0\n").is_err());
    }
}
