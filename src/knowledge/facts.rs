//! Organisation facts: the names `[environment]` in `rulelint.toml`
//! accepts, loaded from `knowledge/facts.yml` (embedded).
//!
//! Patterns name the facts their exclusions use (`ExclusionFieldSpec::fact`);
//! team catalogues may use further names.
//!
//! Every fact has a type (`name`, `cidr`, `address`, `arn`, `app-id`,
//! `domain`); [`check_value`] validates a configured value against it, so
//! a host name given where a CIDR range is needed is refused when the
//! configuration is read, not rendered into a broken exclusion.

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
    /// What a value must be (validated when the configuration is read).
    #[serde(rename = "type")]
    pub kind: FactType,
    pub description: String,
}

/// The type of a fact's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FactType {
    /// Free text: account, host or program names, paths, commands.
    Name,
    /// IP ranges; a bare address is widened to `/32` (`/128`).
    Cidr,
    /// Single IP addresses.
    Address,
    /// AWS ARNs (`arn:partition:service:region:account:resource`).
    Arn,
    /// Application ids: a GUID (Entra) or a token without spaces (Okta,
    /// Google Workspace client ids).
    AppId,
    /// DNS names, optionally with a leading `*.`.
    Domain,
}

impl FactType {
    pub fn as_str(self) -> &'static str {
        match self {
            FactType::Name => "name",
            FactType::Cidr => "cidr",
            FactType::Address => "address",
            FactType::Arn => "arn",
            FactType::AppId => "app-id",
            FactType::Domain => "domain",
        }
    }

    /// What a value of this type looks like, for a diagnostic's help.
    pub fn example(self) -> &'static str {
        match self {
            FactType::Name => "a name, e.g. `svc_backup`",
            FactType::Cidr => "an address like `10.0.0.53` or a range like `10.0.0.0/24`",
            FactType::Address => "an address like `10.0.0.53`",
            FactType::Arn => "an ARN like `arn:aws:iam::123456789012:role/terraform`",
            FactType::AppId => "an application id like `00000003-0000-0000-c000-000000000000`",
            FactType::Domain => "a DNS name like `example.com` or `*.example.com`",
        }
    }
}

/// An IP address, or an address with a prefix length (`10.0.0.0/8`,
/// `fd00::/8`) within its family's bounds.
pub fn valid_cidr(s: &str) -> bool {
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

/// Validate one configured value of a fact of type `kind`: the value to
/// keep (a bare address in a `cidr` fact becomes `/32` or `/128`), or why
/// it is refused.
pub fn check_value(kind: FactType, value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() {
        return Err("is empty".into());
    }
    let ip = v.parse::<std::net::IpAddr>().ok();
    match kind {
        FactType::Name => Ok(v.to_string()),
        FactType::Cidr => match ip {
            Some(std::net::IpAddr::V4(_)) => Ok(format!("{v}/32")),
            Some(std::net::IpAddr::V6(_)) => Ok(format!("{v}/128")),
            None if valid_cidr(v) => Ok(v.to_string()),
            None => Err("is not an IP address or CIDR range".into()),
        },
        FactType::Address => match ip {
            Some(_) => Ok(v.to_string()),
            None if valid_cidr(v) => Err("is a range; this fact takes single addresses".into()),
            None => Err("is not an IP address".into()),
        },
        FactType::Arn => {
            let parts: Vec<&str> = v.splitn(6, ':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && !parts[1].is_empty()
                && !parts[2].is_empty()
                && !parts[5].is_empty()
                && !v.contains(char::is_whitespace);
            if ok {
                Ok(v.to_string())
            } else {
                Err("is not an ARN (`arn:partition:service:region:account:resource`)".into())
            }
        }
        FactType::AppId => {
            let ok = v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if ok {
                Ok(v.to_string())
            } else {
                Err("is not an application id (letters, digits, `-`, `_`, `.`)".into())
            }
        }
        FactType::Domain => {
            let name = v.strip_prefix("*.").unwrap_or(v).trim_end_matches('.');
            let label_ok = |l: &str| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            };
            let labels: Vec<&str> = name.split('.').collect();
            let all_digits = labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit()));
            if ip.is_none()
                && !all_digits
                && labels.len() >= 2
                && labels.iter().all(|l| label_ok(l))
            {
                Ok(v.to_string())
            } else {
                Err("is not a DNS name".into())
            }
        }
    }
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

/// Where a built-in fact is declared: `knowledge/facts.yml:<line>`.
pub fn declared_at(name: &str) -> Option<String> {
    let (file, text) = BUILTIN_FACTS;
    let needle = format!("name: {name}");
    text.lines()
        .position(|l| l.trim_start().trim_start_matches("- ").trim_end() == needle)
        .map(|i| format!("{file}:{}", i + 1))
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

/// Fact names usable in `[environment]` and their types: the built-in
/// facts plus those the loaded patterns use. A fact that only team
/// catalogues use is a `cidr` when every use excludes it on an IP field or
/// with `cidr`, and a `name` otherwise.
pub fn fact_kinds(knowledge: &Knowledge) -> Vec<(String, FactType)> {
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
    let mut out: Vec<(String, FactType)> =
        builtin().iter().map(|f| (f.name.clone(), f.kind)).collect();
    for (name, n, addr) in uses {
        if out.iter().any(|(x, _)| *x == name) {
            continue;
        }
        let kind = if n == addr {
            FactType::Cidr
        } else {
            FactType::Name
        };
        out.push((name, kind));
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
        assert_eq!(kind("dns_servers"), Some(FactType::Cidr));
        assert_eq!(kind("admin_users"), Some(FactType::Name));
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
