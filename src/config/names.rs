//! The names `select`, `ignore`, `[severity]` and suppression comments may
//! use: check codes and names (looked up in the check registry), code
//! prefixes and the loaded catalogue's pattern ids.

use super::settings::Selector;
use crate::checks::{self, Code};
use crate::did_you_mean::did_you_mean;
use crate::knowledge::Knowledge;

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
