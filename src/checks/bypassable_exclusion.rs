//! `RL303 bypassable-exclusion`.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::{Applicability, Diagnostic, Fix, Label, Position, Suggestion};
use crate::rule::constraints::{alternatives, Conjunction};
use crate::rule::{Cmp, DetectionRule, Language, Logic, Op, Schema};

declare_check! {
    /// An exclusion an attacker can satisfy at will: a substring, suffix or open pattern on a field they control.
    ///
    /// ## Why
    ///
    /// An exclusion removes every event that matches it, malicious or not.
    /// When it tests a field the attacker writes (the command line, the
    /// script text, the URL or user agent) with `contains`, `endswith` or
    /// a leading wildcard, adding the text to their own command line is
    /// enough to hide it. On a program or file path (`Image`,
    /// `ParentImage`, `TargetFilename`, `process.name`) a suffix or
    /// substring is met by copying any binary to a folder or file of that
    /// name, and a prefix or pattern under a folder any user can write
    /// (`C:\Users\`, `C:\ProgramData\`, `C:\Windows\Temp\`, `/tmp/`, or
    /// `C:\Program Files` without its trailing backslash) by putting it
    /// there.
    ///
    /// Not reported: an exclusion of paths in a rule about a renamed
    /// program (it excludes the program's own name, which is what the rule
    /// means), an exact full path, a prefix under a folder only
    /// administrators write (`C:\Windows\System32\`, `C:\Program Files\`),
    /// and any exclusion that also requires something the attacker does
    /// not choose (a full parent path, a signer, a hash, a user or host, an
    /// event code): every condition of one alternative of the exclusion
    /// must be attacker-controlled. One finding per such alternative (a
    /// Sigma filter map, a `not (…)` group), not per value.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// filter_updater:
    ///     Image|endswith: '\updater.exe'
    /// condition: selection and not filter_updater
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// filter_updater:
    ///     Image: 'C:\Program Files\Vendor\updater.exe'
    /// condition: selection and not filter_updater
    /// ```
    ///
    /// ## Fix
    ///
    /// Exclude the benign program by its full path under a protected folder,
    /// and where it matters by its signer or its parent process (full
    /// path); tie a command-line exclusion to the program that runs it. The
    /// suggestion shows the tightened form; it is not applied by `--fix`,
    /// since only you know the real path.
    pub struct BypassableExclusion {
        code: "RL303",
        name: "bypassable-exclusion",
        category: Logic,
        severity: Info,
        fix: Sometimes,
    }
}

/// Most alternatives an exclusion is expanded to.
const LIMIT: usize = 64;

/// What an attacker controls about a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Free text they write (command line, script, URL, user agent).
    Text,
    /// A path or file name they choose by placing a file.
    Path,
}

fn class_of(cmp: &Cmp) -> Option<Class> {
    if cmp.field.derived {
        return None;
    }
    match cmp.field.concept.as_deref()? {
        "process.command_line"
        | "process.parent.command_line"
        | "process.args"
        | "powershell.file.script_block_text"
        | "user_agent.original"
        | "url.full"
        | "url.path"
        | "url.query" => Some(Class::Text),
        "process.executable"
        | "process.parent.executable"
        | "process.name"
        | "process.parent.name"
        | "file.path"
        | "file.name"
        | "dll.path" => Some(Class::Path),
        _ => None,
    }
}

/// Lower-case, `/` as `\`, with the drive letter (`c:`, `?:`) or a leading
/// `:` dropped: `\program files\x`.
fn norm_path(text: &str) -> String {
    let t = text.to_ascii_lowercase().replace('/', "\\");
    let b = t.as_bytes();
    if b.len() >= 2 && b[1] == b':' && (b[0].is_ascii_alphabetic() || b[0] == b'?') {
        return t[2..].to_string();
    }
    t.strip_prefix(':').map(str::to_string).unwrap_or(t)
}

/// Folders (normalised by [`norm_path`]) where any user can create files.
const WRITABLE: &[&str] = &[
    "\\users\\",
    "\\programdata\\",
    "\\perflogs\\",
    "\\temp\\",
    "\\tmp\\",
    "\\windows\\temp\\",
    "\\windows\\tasks\\",
    "\\windows\\tracing\\",
    "\\windows\\system32\\tasks\\",
    "\\windows\\system32\\spool\\drivers\\color\\",
    "\\$recycle.bin\\",
    "%temp%",
    "%tmp%",
    "%appdata%",
    "%localappdata%",
    "%userprofile%",
    "%public%",
    "%programdata%",
    "\\private\\tmp\\",
    "\\private\\var\\folders\\",
    "\\var\\tmp\\",
    "\\dev\\shm\\",
    "\\home\\",
];

/// Roots only administrators write to, as a prefix is often written
/// without the separator that closes them (`C:\Program Files` also matches
/// `C:\Program Files Evil\`, a folder any user can create).
const PROTECTED_ROOTS: &[&str] = &[
    "\\windows",
    "\\program files",
    "\\program files (x86)",
    "\\windows\\system32",
    "\\windows\\syswow64",
];

/// Does a prefix (the start of a full path) let any user place a file
/// under it?
fn writable_prefix(prefix: &str) -> bool {
    let drive_anchored = {
        let b = prefix.as_bytes();
        (b.len() >= 2 && b[1] == b':') || prefix.starts_with('/') || prefix.starts_with('%')
    };
    if !drive_anchored {
        return false;
    }
    let p = norm_path(prefix);
    if p.is_empty() || p == "\\" {
        return true;
    }
    if PROTECTED_ROOTS.iter().any(|r| p == *r) {
        return true;
    }
    // Under `C:\ProgramData\` any user creates a folder, but the vendors'
    // own folders there are usually locked down.
    if p == "\\programdata\\" || p == "%programdata%" || p == "%programdata%\\" {
        return true;
    }
    WRITABLE
        .iter()
        .filter(|w| !w.contains("programdata"))
        .any(|w| p.starts_with(w))
}

/// The text before the first wildcard of a glob.
fn glob_prefix(glob: &str) -> &str {
    // `?:\` is a drive letter, not a wildcard of interest.
    let skip = if glob.starts_with("?:") { 2 } else { 0 };
    let end = glob[skip..]
        .find(['*', '?'])
        .map(|i| i + skip)
        .unwrap_or(glob.len());
    &glob[..end]
}

/// Why an attacker can satisfy `cmp`, if they can.
fn weakness(cmp: &Cmp) -> Option<&'static str> {
    let class = class_of(cmp)?;
    if cmp.values.is_empty() || cmp.values.iter().any(|v| v.text.trim().is_empty()) {
        return None;
    }
    let all_values = |f: &dyn Fn(&str) -> bool| cmp.values.iter().all(|v| f(&v.text));
    match (class, cmp.op) {
        (Class::Text, Op::Contains) => Some("contains"),
        (Class::Text, Op::EndsWith) => Some("ends with"),
        (Class::Text, Op::Wildcard) if all_values(&|t| t.starts_with('*')) => {
            Some("is a pattern with a leading wildcard on")
        }
        (Class::Path, Op::Contains) if all_values(&|t| !anchored_to_protected(t)) => {
            Some("contains")
        }
        (Class::Path, Op::EndsWith) if all_values(&|t| !anchored_to_protected(t)) => {
            Some("ends with")
        }
        (Class::Path, Op::Wildcard) if all_values(&|t| t.starts_with('*')) => {
            Some("is a pattern with a leading wildcard on")
        }
        (Class::Path, Op::Wildcard) if all_values(&|t| writable_prefix(glob_prefix(t))) => {
            Some("is a pattern under a user-writable folder on")
        }
        (Class::Path, Op::StartsWith) if all_values(&writable_prefix) => {
            Some("starts with a user-writable folder on")
        }
        _ => None,
    }
}

/// `:\Program Files\…` or `:\Windows\System32\…`: a suffix or substring
/// that names the drive's root, which is as strong as a prefix on it.
fn anchored_to_protected(text: &str) -> bool {
    let t = text.to_ascii_lowercase().replace('/', "\\");
    let Some(rest) = t.strip_prefix(':') else {
        return false;
    };
    rest.starts_with('\\')
        && PROTECTED_ROOTS
            .iter()
            .any(|r| rest.starts_with(&format!("{r}\\")))
        && !WRITABLE.iter().any(|w| rest.starts_with(w))
}

/// The exclusions of `logic`: the subtrees under a `not` reached without
/// passing another `not`.
fn exclusions<'a>(logic: &'a Logic, out: &mut Vec<&'a Logic>) {
    match logic {
        Logic::And(xs) | Logic::Or(xs) => xs.iter().for_each(|x| exclusions(x, out)),
        Logic::Shared(x) => exclusions(x, out),
        Logic::Not(x) => out.push(x),
        Logic::Cmp(_) | Logic::Keyword(_) | Logic::Opaque(_) => {}
    }
}

/// Every condition of the alternative is one an attacker meets at will.
fn bypassable<'a>(conj: &Conjunction<'a>) -> Option<Vec<(&'a Cmp, &'static str)>> {
    if conj.extra || conj.cmps.is_empty() {
        return None;
    }
    conj.cmps
        .iter()
        .map(|c| weakness(c).map(|w| (*c, w)))
        .collect()
}

impl Check for BypassableExclusion {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        // A rule on a renamed program excludes the program's own name: that
        // exclusion is what the rule means, not a filter to tighten.
        let renamed = rule
            .meta
            .title
            .as_ref()
            .is_some_and(|t| t.value.to_ascii_lowercase().contains("renamed"));
        let mut roots = Vec::new();
        exclusions(logic, &mut roots);
        let mut seen = std::collections::HashSet::new();
        for root in roots {
            let Some(alts) = alternatives(root, LIMIT) else {
                continue;
            };
            for conj in &alts {
                let Some(weak) = bypassable(conj) else {
                    continue;
                };
                if renamed && weak.iter().all(|(c, _)| class_of(c) == Some(Class::Path)) {
                    continue;
                }
                let key: Vec<_> = weak.iter().map(|(c, _)| c.span).collect();
                if !seen.insert(key) {
                    continue;
                }
                out.push(self.finding(ctx, rule, &weak).into());
            }
        }
    }
}

fn shown_values(cmp: &Cmp) -> String {
    let mut v: Vec<String> = cmp
        .values
        .iter()
        .take(3)
        .map(|v| format!("`{}`", v.text))
        .collect();
    if cmp.values.len() > 3 {
        v.push(format!("{} more", cmp.values.len() - 3));
    }
    v.join(", ")
}

impl BypassableExclusion {
    fn finding(
        &self,
        ctx: &CheckContext<'_>,
        rule: &DetectionRule,
        weak: &[(&Cmp, &'static str)],
    ) -> Diagnostic {
        let (first, _) = weak[0];
        let what = weak
            .iter()
            .map(|(c, w)| format!("`{}` {w} {}", c.field.raw, shown_values(c)))
            .collect::<Vec<_>>()
            .join(" and ");
        let text_only = weak.iter().all(|(c, _)| class_of(c) == Some(Class::Text));
        let why = if text_only {
            "an attacker who adds that text to their own command line or request is excluded too"
        } else {
            "an attacker who names or places their file to match is excluded too"
        };
        let mut d = Diagnostic::new(
            self.code(),
            ctx,
            first.span,
            format!("the exclusion {what}: {why}"),
        )
        .with_rule(rule);
        d.labels = weak[1..]
            .iter()
            .take(8)
            .map(|(c, _)| Label {
                span: c.span,
                position: Position::resolve(ctx.file, c.span),
                message: "also attacker-controlled".into(),
            })
            .collect();
        let (summary, text) = tightened(rule, weak);
        let mut help = summary.to_string();
        if let Some(t) = &text {
            help.push_str(":\n");
            help.push_str(t);
        }
        d.help = Some(help);
        d.suggestion = text.map(|text| Suggestion {
            language: rule.language,
            text,
            fix: Fix {
                edits: Vec::new(),
                applicability: Applicability::DisplayOnly,
            },
            has_placeholders: true,
            proposal: None,
        });
        d
    }
}

/// The program's path field in the rule's schema: the process's own or,
/// for a parent field, the parent's.
fn path_field(rule: &DetectionRule, parent: bool, like: &str) -> String {
    let dm = like.split_once('.').map(|(p, _)| p).filter(|p| {
        rule.schema == Schema::Splunk && p.chars().next().is_some_and(char::is_uppercase)
    });
    match (rule.schema, parent) {
        (Schema::Sigma, false) => "Image".into(),
        (Schema::Sigma, true) => "ParentImage".into(),
        (Schema::Ecs, false) => "process.executable".into(),
        (Schema::Ecs, true) => "process.parent.executable".into(),
        // A raw Sysmon search (`Image`, `CommandLine`) keeps Sysmon's names.
        (Schema::Splunk, p)
            if dm.is_none() && like.chars().next().is_some_and(char::is_uppercase) =>
        {
            if p { "ParentImage" } else { "Image" }.to_string()
        }
        (Schema::Splunk, p) => {
            let f = if p {
                "parent_process_path"
            } else {
                "process_path"
            };
            match dm {
                Some(dm) => format!("{dm}.{f}"),
                None => f.to_string(),
            }
        }
    }
}

/// A full path placeholder ending with the file name the value names.
fn full_path(value: &str) -> String {
    let v = value.trim_matches('*');
    let unix = v.contains('/') && !v.contains('\\');
    let name = v.rsplit(['\\', '/']).next().unwrap_or(v);
    let name = if name.contains('.') || unix {
        name
    } else {
        "<program>.exe"
    };
    let name = if name.is_empty() { "<program>" } else { name };
    if unix {
        format!("/usr/<…>/{name}")
    } else {
        format!("C:\\Program Files\\<vendor>\\{name}")
    }
}

/// `field == value` in the rule's language.
fn equality(language: Language, field: &str, value: &str) -> String {
    let esc = value.replace('\\', "\\\\").replace('"', "\\\"");
    match language {
        Language::Sigma => format!("{field}: '{}'", value.replace('\'', "''")),
        Language::Kql | Language::Lucene => format!("{field} : \"{esc}\""),
        Language::Eql | Language::Esql => format!("{field} == \"{esc}\""),
        Language::Spl => format!("{field}=\"{esc}\""),
    }
}

/// The help's summary and the tightened comparison to show.
fn tightened(
    rule: &DetectionRule,
    weak: &[(&Cmp, &'static str)],
) -> (&'static str, Option<String>) {
    let path = weak
        .iter()
        .find(|(c, _)| class_of(c) == Some(Class::Path) && matches!(c.op, Op::EndsWith | Op::Eq));
    if let Some((c, _)) = path {
        let parent = c
            .field
            .concept
            .as_deref()
            .is_some_and(|k| k.starts_with("process.parent."));
        let is_process = c
            .field
            .concept
            .as_deref()
            .is_some_and(|k| k.starts_with("process."));
        let field = if is_process {
            path_field(rule, parent, &c.field.raw)
        } else {
            c.field.raw.clone()
        };
        let v = c.values.first().map(|v| v.text.as_str()).unwrap_or("");
        return (
            "exclude the full path under a folder only administrators write, and where you can the signer or the parent process",
            Some(equality(rule.language, &field, &full_path(v))),
        );
    }
    let text = weak.iter().find(|(c, _)| class_of(c) == Some(Class::Text));
    if let Some((c, _)) = text {
        let parent = c
            .field
            .concept
            .as_deref()
            .is_some_and(|k| k.starts_with("process.parent."));
        let is_process = c
            .field
            .concept
            .as_deref()
            .is_some_and(|k| k.starts_with("process."));
        if is_process {
            let field = path_field(rule, parent, &c.field.raw);
            return (
                "tie the exclusion to the program that legitimately runs this command line: add its full path (and where you can its signer or parent) to the same exclusion",
                Some(equality(rule.language, &field, "C:\\Program Files\\<vendor>\\<program>.exe")),
            );
        }
        return (
            "tie the exclusion to something the attacker does not choose: the source host, the account or the destination",
            None,
        );
    }
    (
        "exclude the full path under a folder only administrators write, and where you can the signer or the parent process",
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::{anchored_to_protected, glob_prefix, writable_prefix};
    use crate::checks::Code;
    use crate::{lint_source, Knowledge, LintOptions, SourceFile};

    fn sigma(detection: &str) -> Vec<String> {
        let text = format!(
            "title: T\nid: 3f1c2b4a-0000-4000-8000-000000000001\nlogsource:\n    category: process_creation\n    product: windows\ndetection:\n{detection}\nlevel: high\n"
        );
        let k = Knowledge::builtin().expect("catalogue");
        let r = lint_source(
            &k,
            &LintOptions::default(),
            SourceFile::new("t.yml", text),
            "t.yml",
            true,
        );
        r.diagnostics
            .iter()
            .filter(|d| d.code == Code::BypassableExclusion)
            .map(|d| d.message.clone())
            .collect()
    }

    const SEL: &str = "    selection:\n        Image|endswith: '\\cmd.exe'\n";

    #[test]
    fn flags_suffix_and_substring_exclusions() {
        for filter in [
            "        Image|endswith: '\\updater.exe'",
            "        CommandLine|contains: '\\MyApp\\'",
            "        ParentImage|contains: '\\Temp\\'",
            "        Image|startswith: 'C:\\Users\\'",
            "        Image|startswith: 'C:\\Program Files'",
            "        Image: 'C:\\Users\\\\*\\AppData\\Local\\app.exe'",
            "        CommandLine|contains: 'x'\n        Image|endswith: '\\y.exe'",
        ] {
            let det =
                format!("{SEL}    filter:\n{filter}\n    condition: selection and not filter");
            let got = sigma(&det);
            assert_eq!(got.len(), 1, "{filter}: {got:?}");
        }
    }

    #[test]
    fn one_finding_per_filter_not_per_value() {
        let det = format!("{SEL}    filter:\n        Image|endswith:\n            - '\\a.exe'\n            - '\\b.exe'\n    condition: selection and not filter");
        assert_eq!(sigma(&det).len(), 1);
    }

    #[test]
    fn quiet_on_strong_exclusions() {
        for filter in [
            "        Image: 'C:\\Program Files\\Vendor\\updater.exe'",
            "        Image|startswith: 'C:\\Windows\\System32\\'",
            "        Image|startswith: 'C:\\Program Files\\'",
            "        Image|endswith: ':\\Program Files\\Vendor\\updater.exe'",
            // Something the attacker does not choose.
            "        CommandLine|contains: 'x'\n        ParentImage: 'C:\\Program Files\\V\\v.exe'",
            "        CommandLine|contains: 'x'\n        User|contains: 'SYSTEM'",
            "        Hashes|contains: 'SHA256=AB'",
        ] {
            let det =
                format!("{SEL}    filter:\n{filter}\n    condition: selection and not filter");
            assert!(sigma(&det).is_empty(), "{filter}");
        }
        // Not an exclusion.
        assert!(sigma(
            "    selection:\n        CommandLine|contains: 'x'\n    condition: selection"
        )
        .is_empty());
    }

    #[test]
    fn splunk_suggestions_keep_the_search_s_field_names() {
        let text = "name: T\nid: 3f1c2b4a-0000-4000-8000-000000000002\ntype: TTP\nsearch: '`sysmon` EventCode=1 Image=\"*\\\\cmd.exe\" NOT CommandLine=\"*MyApp*\" | `t_filter`'\n";
        let k = Knowledge::builtin().expect("catalogue");
        let r = lint_source(
            &k,
            &LintOptions::default(),
            SourceFile::new("t.yml", text),
            "t.yml",
            true,
        );
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.code == Code::BypassableExclusion)
            .expect("RL303");
        let s = d.suggestion.as_ref().expect("a suggestion");
        assert!(s.text.starts_with("Image=\"C:"), "{}", s.text);
    }

    #[test]
    fn prefixes() {
        assert!(writable_prefix("C:\\Users\\"));
        assert!(writable_prefix("c:\\programdata\\"));
        assert!(!writable_prefix(
            "C:\\ProgramData\\Microsoft\\Windows Defender\\"
        ));
        assert!(writable_prefix("C:\\Program Files"));
        assert!(writable_prefix("C:\\Windows\\Temp\\"));
        assert!(writable_prefix("/tmp/"));
        assert!(writable_prefix("C:\\"));
        assert!(!writable_prefix("C:\\Program Files\\"));
        assert!(!writable_prefix("C:\\Windows\\System32\\"));
        assert!(!writable_prefix("/usr/bin/"));
        assert!(!writable_prefix("\\Device\\HarddiskVolume"));
        assert_eq!(glob_prefix("?:\\Users\\*\\x.exe"), "?:\\Users\\");
        assert!(anchored_to_protected(":\\Windows\\System32\\x.exe"));
        assert!(!anchored_to_protected(":\\Windows\\Temp\\x.exe"));
        assert!(!anchored_to_protected("\\Windows\\System32\\x.exe"));
    }
}
