//! What an SPL search counts before it alerts: `stats`/`tstats`/
//! `eventstats`/`streamstats` with their `by` fields and distinct counts
//! (`dc(x)`, `distinct_count(x)`, `estdc(x)`), and the count a following
//! `where`/`search` compares with (`| where count > 5`).
//!
//! ES|QL reads the same way: `STATS n = COUNT_DISTINCT(user.name) BY
//! source.ip | WHERE n > 10`.
//!
//! A reading of the search text, not a parse: top-level commands are cut
//! at pipes outside quotes, brackets and macros, and only the shapes above
//! are read. Spans are offsets into the text given.

use crate::rule::{Aggregation, AggregationKind, Meta};
use crate::source::Span;

const COUNTING: &[&str] = &["stats", "tstats", "eventstats", "streamstats"];

/// The aggregations of a search, in order.
pub fn aggregations(text: &str) -> Vec<Aggregation> {
    let cmds = commands(text);
    let mut out = Vec::new();
    for (i, &(start, end)) in cmds.iter().enumerate() {
        let cmd = &text[start..end];
        let (name, args_at) = command_name(cmd);
        if !COUNTING.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        let args = &cmd[args_at..];
        let base = start + args_at;
        let lower = args.to_ascii_lowercase();
        let mut distinct = Vec::new();
        for f in ["dc(", "distinct_count(", "estdc(", "count_distinct("] {
            for (at, _) in lower.match_indices(f) {
                let word_start = at == 0 || {
                    let b = lower.as_bytes()[at - 1];
                    !b.is_ascii_alphanumeric() && b != b'_'
                };
                if !word_start {
                    continue;
                }
                let inner_at = at + f.len();
                let Some(close) = lower[inner_at..].find(')') else {
                    continue;
                };
                let field = args[inner_at..inner_at + close].trim();
                if !field.is_empty() && !field.contains(char::is_whitespace) {
                    let s = base
                        + inner_at
                        + (args[inner_at..].len() - args[inner_at..].trim_start().len());
                    distinct.push(Meta {
                        value: field.to_string(),
                        span: Span::new(s, s + field.len()),
                    });
                }
            }
        }
        let mut fields = Vec::new();
        if let Some(by) = find_word(&lower, "by") {
            let mut pos = by + 2;
            for tok in args[pos..].split([',', ' ', '\t', '\n', '\r']) {
                if !tok.is_empty() {
                    if tok.contains(['=', '(', '`', '[', '"'])
                        || tok.starts_with("//")
                        || tok.eq_ignore_ascii_case("span")
                    {
                        break;
                    }
                    let s = base + pos;
                    fields.push(Meta {
                        value: tok.to_string(),
                        span: Span::new(s, s + tok.len()),
                    });
                }
                pos += tok.len() + 1;
            }
        }
        // The first comparison of a count after it, before the next
        // counting command (macros, `eval`, `rename` may come between).
        let threshold = cmds[i + 1..]
            .iter()
            .take_while(|&&(s, e)| {
                let (n, _) = command_name(&text[s..e]);
                !COUNTING.contains(&n.to_ascii_lowercase().as_str())
            })
            .find_map(|&(s, e)| compared_count(&text[s..e]));
        out.push(Aggregation {
            kind: AggregationKind::Threshold,
            fields,
            distinct,
            threshold,
        });
    }
    out
}

/// `where count > 5`, `search count>=10`, `where dc_users > 30`: the
/// number a counting result is compared with.
fn compared_count(cmd: &str) -> Option<i64> {
    let (name, at) = command_name(cmd);
    if !matches!(name.to_ascii_lowercase().as_str(), "where" | "search") {
        return None;
    }
    let args = &cmd[at..];
    let gt = args.find('>')?;
    let rest = args[gt + 1..].trim_start_matches('=').trim_start();
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    digits.parse().ok()
}

/// The command's name and where its arguments start.
fn command_name(cmd: &str) -> (&str, usize) {
    let t = cmd.trim_start_matches(['|', ' ', '\t', '\n', '\r']);
    let lead = cmd.len() - t.len();
    let end = t.find(|c: char| c.is_whitespace()).unwrap_or(t.len());
    (&t[..end], lead + end)
}

/// `word` at word boundaries in lower-case `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let b = text.as_bytes();
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        (i == 0 || b[i - 1].is_ascii_whitespace())
            && b.get(i + word.len())
                .is_none_or(|c| c.is_ascii_whitespace())
    })
}

/// The top-level commands: (start, end) of each, the first being the
/// base search.
fn commands(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut tick, mut esc) = (0usize, false, false, false);
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if esc {
            esc = false;
            continue;
        }
        match c {
            '\\' if quote => esc = true,
            '"' if !tick => quote = !quote,
            '`' if !quote => tick = !tick,
            '[' | '(' if !quote && !tick => depth += 1,
            ']' | ')' if !quote && !tick => depth = depth.saturating_sub(1),
            '|' if !quote && !tick && depth == 0 => {
                if i > start {
                    out.push((start, i));
                }
                start = i;
            }
            _ => {}
        }
    }
    if text.len() > start {
        out.push((start, text.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::aggregations;

    #[test]
    fn stats_with_by_fields_distinct_counts_and_a_threshold() {
        let s = "`wineventlog_security` EventCode=4625 | stats dc(TargetUserName) as users count by src, dest | where users > 30";
        let a = aggregations(s);
        assert_eq!(a.len(), 1, "{a:?}");
        let d = &a[0].distinct[0];
        assert_eq!(d.value, "TargetUserName");
        assert_eq!(&s[d.span.start..d.span.end], "TargetUserName");
        let by: Vec<&str> = a[0].fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(by, ["src", "dest"]);
        assert_eq!(
            &s[a[0].fields[1].span.start..a[0].fields[1].span.end],
            "dest"
        );
        assert_eq!(a[0].threshold, Some(30));
    }

    #[test]
    fn the_threshold_may_follow_macros_and_renames() {
        let s = "| tstats count from datamodel=Authentication by Authentication.user | `drop_dm_object_name(Authentication)` | rename user as u | where count > 20 | `x_filter`";
        assert_eq!(aggregations(s)[0].threshold, Some(20));
    }

    #[test]
    fn tstats_by_fields_stop_at_span_and_no_threshold() {
        let s = "| tstats count from datamodel=Authentication where Authentication.action=failure by Authentication.src span=1h | `x_filter`";
        let a = aggregations(s);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].fields.len(), 1);
        assert_eq!(a[0].fields[0].value, "Authentication.src");
        assert!(a[0].distinct.is_empty());
        assert_eq!(a[0].threshold, None);
    }

    #[test]
    fn pipes_inside_quotes_brackets_and_macros_do_not_cut() {
        let s = "index=x \"a|b\" [search y | stats count by z] | eval f=\"|\" | stats estdc(user) by host | search count>=5";
        let a = aggregations(s);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].distinct[0].value, "user");
        assert_eq!(a[0].threshold, Some(5));
    }

    #[test]
    fn esql_stats_by_with_a_distinct_count_and_a_where() {
        let s = "FROM logs-*\n| WHERE event.outcome == \"failure\"\n| STATS users = COUNT_DISTINCT(user.name), n = COUNT(*) BY source.ip\n  // one row per source\n| WHERE users > 10";
        let a = aggregations(s);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].distinct[0].value, "user.name");
        let d = a[0].distinct[0].span;
        assert_eq!(&s[d.start..d.end], "user.name");
        let by: Vec<&str> = a[0].fields.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(by, ["source.ip"]);
        assert_eq!(a[0].threshold, Some(10));
    }

    #[test]
    fn a_dc_inside_a_longer_name_is_not_a_distinct_count() {
        let a = aggregations("| stats count_dc(user) as x by dest");
        assert!(a[0].distinct.is_empty(), "{a:?}");
    }

    #[test]
    fn searches_without_counting_have_none_and_odd_text_does_not_panic() {
        assert!(aggregations("index=x sourcetype=y | table a b").is_empty());
        for s in [
            "",
            "|",
            "| stats dc(",
            "| stats by",
            "| stats count by ,,,",
            "\u{e9}| stats dc(\u{e9}) by \u{e9}",
        ] {
            let _ = aggregations(s);
        }
    }
}
