//! The one "did you mean" rule of rulelint: which known word a mistyped
//! one was meant to be.
//!
//! Comparison ignores ASCII case. A candidate is close enough when its
//! Jaro-Winkler similarity is at least [`MIN_SIMILARITY`] (catches
//! transpositions and dropped letters in long names) or when it is at most
//! a third of its length away in Damerau-Levenshtein edits, one edit at
//! least (catches a wrong letter in short names such as `RL20l`). The most
//! similar close candidate wins; the first one listed wins a tie.

/// Jaro-Winkler similarity at or above which a candidate is suggested.
pub const MIN_SIMILARITY: f64 = 0.8;

/// The closest candidate to `word`, when one is close enough to be what
/// was meant. An exact match (ignoring case) is returned as is.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    if word.is_empty() {
        return None;
    }
    let mut best: Option<(&'a str, f64)> = None;
    for c in candidates {
        let lower = c.to_ascii_lowercase();
        let similarity = strsim::jaro_winkler(&word, &lower);
        let edits = strsim::damerau_levenshtein(&word, &lower);
        let allowed = (word.chars().count().max(lower.chars().count()) / 3).max(1);
        let close = similarity >= MIN_SIMILARITY || edits <= allowed;
        if close && best.is_none_or(|(_, s)| similarity > s) {
            best = Some((c, similarity));
        }
    }
    best.map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_find_the_intended_name() {
        let keys = ["select", "ignore", "fail-on", "severity", "environment"];
        assert_eq!(did_you_mean("selcet", keys), Some("select"));
        assert_eq!(did_you_mean("ignor", keys), Some("ignore"));
        assert_eq!(did_you_mean("SEVERITY", keys), Some("severity"));
        assert_eq!(did_you_mean("fail_on", keys), Some("fail-on"));
        assert_eq!(did_you_mean("rl20l", ["RL001", "RL201"]), Some("RL201"));
        assert_eq!(
            did_you_mean("warn", ["error", "warning", "info", "hint"]),
            Some("warning")
        );
        assert_eq!(
            did_you_mean("ephemeral-prot", ["ephemeral-port", "dns-server"]),
            Some("ephemeral-port")
        );
    }

    #[test]
    fn unrelated_words_get_no_suggestion() {
        let keys = ["select", "ignore", "severity"];
        assert_eq!(did_you_mean("knowledge", keys), None);
        assert_eq!(did_you_mean("", keys), None);
        assert_eq!(did_you_mean("RL9", ["RL201", "RL101"]), None);
        assert_eq!(did_you_mean("x", std::iter::empty()), None);
    }

    #[test]
    fn the_most_similar_candidate_wins() {
        assert_eq!(
            did_you_mean("dns_server", ["dns_servers", "mail_relays", "dns"]),
            Some("dns_servers")
        );
        assert_eq!(did_you_mean("extends", ["extend"]), Some("extend"));
    }
}
