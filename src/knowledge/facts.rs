//! Organisation facts: the names `[environment]` in `rulelint.toml`
//! accepts, loaded from `knowledge/facts.yml` (embedded).
//!
//! Patterns name the facts their exclusions use (`ExclusionFieldSpec::fact`);
//! team catalogues may use further names.

use super::{Knowledge, KnowledgeError, Pattern};
use serde::Deserialize;
use std::sync::OnceLock;

/// The embedded fact table.
pub const BUILTIN_FACTS: (&str, &str) = (
    "knowledge/facts.yml",
    include_str!("../../knowledge/facts.yml"),
);

/// An organisation fact of `[environment]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub name: String,
    /// Values are IP addresses or CIDR ranges (validated).
    pub address: bool,
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsFile {
    facts: Vec<Fact>,
}

/// Parse a fact table.
pub fn parse(file: &str, text: &str) -> Result<Vec<Fact>, KnowledgeError> {
    serde_saphyr::from_str::<FactsFile>(text)
        .map(|f| f.facts)
        .map_err(|e| super::yaml_error(file, text, e))
}

/// The built-in facts. The table is validated by a test; should it not
/// parse, no fact is known (and every `[environment]` key is reported).
pub fn builtin() -> &'static [Fact] {
    static FACTS: OnceLock<Vec<Fact>> = OnceLock::new();
    FACTS.get_or_init(|| {
        let (file, text) = BUILTIN_FACTS;
        parse(file, text).unwrap_or_default()
    })
}

/// Description of a built-in fact.
pub fn fact_description(name: &str) -> Option<&'static str> {
    builtin()
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.description.as_str())
}

/// The facts a pattern's exclusion uses, in order, without duplicates.
pub fn pattern_facts(p: &Pattern) -> Vec<&str> {
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
    let mut out: Vec<(String, bool)> = builtin()
        .iter()
        .map(|f| (f.name.clone(), f.address))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_table_parses_and_names_are_unique() {
        let (file, text) = BUILTIN_FACTS;
        let facts = parse(file, text).expect("knowledge/facts.yml parses");
        assert_eq!(facts, builtin());
        assert!(facts.len() >= 20, "{}", facts.len());
        for (i, f) in facts.iter().enumerate() {
            assert!(
                f.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{}",
                f.name
            );
            assert!(!f.description.trim().is_empty(), "{}", f.name);
            assert!(
                !facts[..i].iter().any(|g| g.name == f.name),
                "{} twice",
                f.name
            );
        }
    }

    #[test]
    fn a_malformed_table_is_an_error_with_position() {
        let e = parse("facts.yml", "facts:\n  - name: x\n    adress: true\n").unwrap_err();
        assert_eq!(e.line, Some(3), "{e}");
    }

    #[test]
    fn fact_kinds_follow_the_catalogue() {
        let k = Knowledge::builtin().unwrap();
        let kinds = fact_kinds(&k);
        let kind = |n: &str| kinds.iter().find(|(x, _)| x == n).map(|(_, a)| *a);
        assert_eq!(kind("dns_servers"), Some(true));
        assert_eq!(kind("admin_users"), Some(false));
        // Every fact a built-in pattern uses is described by the table.
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
}
