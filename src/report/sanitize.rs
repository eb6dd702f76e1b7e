//! Text from rule files, file names and configuration made safe to print.
//!
//! Every renderer that writes for a person (the human report, stderr, the
//! Markdown summary, the annotation messages) passes foreign text through
//! this module, so that a rule cannot drive the terminal (`ESC]52` clipboard
//! writes, window titles, `ESC[2J`), reorder what is shown (bidi
//! overrides), or start a GitHub Actions workflow command (`::add-mask::`,
//! `::stop-commands::`, `##[...]`) in a log the runner parses.
//!
//! Characters that are neutralised are shown as visible escapes: C0
//! controls, DEL and C1 controls as `\x1b`, other invisible or reordering
//! characters as `\u{202e}`.

use std::borrow::Cow;

/// Is `c` a character that must not reach a terminal raw?
///
/// C0 controls (except tab and line feed, which only lay out text), DEL,
/// C1 controls, bidirectional embeddings, overrides and isolates, the
/// implicit direction marks, the Unicode line and paragraph separators and
/// the byte-order mark.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}'
        | '\u{b}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{feff}')
}

/// The visible escape of an unsafe character.
fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write;
    let n = c as u32;
    if n < 0x100 {
        let _ = write!(out, "\\x{n:02x}");
    } else {
        let _ = write!(out, "\\u{{{n:x}}}");
    }
}

/// Length in bytes of the escape of `c` (0 for a safe character).
pub fn escaped_len(c: char) -> usize {
    if !is_unsafe(c) {
        0
    } else if (c as u32) < 0x100 {
        4
    } else {
        format!("{:x}", c as u32).len() + 4
    }
}

/// Text for a terminal: unsafe characters as visible escapes; line feeds
/// and tabs are kept.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Text for one line: as [`terminal`], and line feeds and tabs escaped too.
pub fn one_line(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) || c == '\n' || c == '\t') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => push_escape(&mut out, c),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// At most `max` characters of `s`; a longer text is cut and says how much
/// was left out.
pub fn cap(s: &str, max: usize) -> Cow<'_, str> {
    match s.char_indices().nth(max) {
        None => Cow::Borrowed(s),
        Some((at, _)) => {
            let rest = s[at..].chars().count();
            Cow::Owned(format!("{}… ({rest} more characters)", &s[..at]))
        }
    }
}

/// Break GitHub Actions workflow commands: the runner runs a line whose
/// text (after leading white space) starts with `::`, and the older form
/// `##[name]` anywhere in a line. The first `:` of such a line and the
/// second `#` of every `##[` are shown as `\x3a` and `\x23`.
pub fn workflow_commands(s: &str) -> Cow<'_, str> {
    let starts_command = |line: &str| line.trim_start().starts_with("::");
    if !s.contains("##[") && !s.split('\n').any(starts_command) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let line = line.replace("##[", "#\\x23[");
        if starts_command(&line) {
            let indent = line.len() - line.trim_start().len();
            out.push_str(&line[..indent]);
            out.push_str("\\x3a");
            out.push_str(&line[indent + 1..]);
        } else {
            out.push_str(&line);
        }
    }
    Cow::Owned(out)
}

/// Everything written to stderr goes through here: unsafe characters as
/// escapes and workflow commands broken, whatever the output format.
pub fn stderr(s: &str) -> String {
    workflow_commands(&terminal(s)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible() {
        assert_eq!(
            terminal("a\u{1b}]52;c;ZXZpbA==\u{7}b\u{1b}[2J"),
            "a\\x1b]52;c;ZXZpbA==\\x07b\\x1b[2J"
        );
        assert_eq!(
            terminal("x\u{9b}31m\u{202e}y\r"),
            "x\\x9b31m\\u{202e}y\\x0d"
        );
        assert_eq!(terminal("tab\tand\nline"), "tab\tand\nline");
        assert!(matches!(terminal("plain é"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\nb\tc\u{0}"), "a\\nb\\tc\\x00");
    }

    #[test]
    fn escaped_len_matches_the_escape() {
        for c in ['\u{1b}', '\u{9b}', '\u{202e}', '\u{feff}', 'a', 'é'] {
            let shown = terminal(&c.to_string()).into_owned();
            let want = if is_unsafe(c) { shown.len() } else { 0 };
            assert_eq!(escaped_len(c), want, "{c:?}");
        }
    }

    #[test]
    fn caps_say_what_was_cut() {
        assert_eq!(cap("abcdef", 3), "abc… (3 more characters)");
        assert_eq!(cap("abc", 3), "abc");
        assert_eq!(cap("ééé", 1), "é… (2 more characters)");
    }

    #[test]
    fn workflow_commands_are_broken() {
        let s = stderr(
            "ok\n  ::add-mask::x\n::stop-commands::tok\nmid ::x:: fine\nsee ##[set-env name=A]1",
        );
        assert_eq!(
            s,
            "ok\n  \\x3a:add-mask::x\n\\x3a:stop-commands::tok\nmid ::x:: fine\nsee #\\x23[set-env name=A]1"
        );
        for line in s.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
            assert!(!line.contains("##["), "{line}");
        }
    }
}
