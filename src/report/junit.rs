//! JUnit XML, read by CI systems: one `<testsuite>` per checked file, one
//! `<testcase>` per rule. A rule with findings has one `<failure>` listing
//! them; a file that cannot be checked has one test case with an
//! `<error>`. Files that are not rules are left out.

use crate::diagnostic::Diagnostic;
use crate::lint::{FileResult, FileStatus};
use std::fmt::Write;

/// Escape text for XML content and attribute values; characters XML 1.0
/// cannot hold are written as `?`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn line(d: &Diagnostic) -> String {
    let what = d.pattern.as_deref().unwrap_or(d.check());
    format!(
        "{}:{}:{}: {} {} {what}: {}",
        d.file, d.position.line, d.position.column, d.severity, d.code, d.message
    )
}

fn rule_name(d: &Diagnostic) -> Option<String> {
    let r = d.rule.as_ref()?;
    r.id.clone().or_else(|| r.title.clone())
}

/// The report as JUnit XML.
pub fn render(results: &[FileResult]) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors) = (0usize, 0usize, 0usize);
    for r in results {
        let (cases, f, e) = match r.status {
            FileStatus::Skipped => continue,
            FileStatus::Failed => {
                let text: Vec<String> = r.diagnostics.iter().map(line).collect();
                let msg = r
                    .diagnostics
                    .first()
                    .map(|d| d.message.clone())
                    .unwrap_or_else(|| "the file cannot be checked".into());
                let case = format!(
                    "    <testcase name=\"{}\" classname=\"{}\">\n      <error message=\"{}\" type=\"{}\">{}</error>\n    </testcase>\n",
                    escape(&r.path),
                    escape(&r.path),
                    escape(&msg),
                    escape(r.diagnostics.first().map(|d| d.code.as_str()).unwrap_or("RL000")),
                    escape(&text.join("\n"))
                );
                (vec![case], 0, 1)
            }
            FileStatus::Checked(n) => {
                // Rules with findings, in order of first finding.
                let mut by_rule: Vec<(String, Vec<&Diagnostic>)> = Vec::new();
                for d in &r.diagnostics {
                    let name = rule_name(d).unwrap_or_else(|| r.path.clone());
                    match by_rule.iter_mut().find(|(k, _)| *k == name) {
                        Some((_, v)) => v.push(d),
                        None => by_rule.push((name, vec![d])),
                    }
                }
                let mut cases = Vec::new();
                for (name, ds) in &by_rule {
                    let text: Vec<String> = ds.iter().map(|d| line(d)).collect();
                    cases.push(format!(
                        "    <testcase name=\"{}\" classname=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
                        escape(name),
                        escape(&r.path),
                        escape(&format!(
                            "{} finding{}",
                            ds.len(),
                            if ds.len() == 1 { "" } else { "s" }
                        )),
                        escape(ds[0].code.as_str()),
                        escape(&text.join("\n"))
                    ));
                }
                let failed = by_rule.len();
                for i in failed..n.max(failed) {
                    let name = if n == 1 {
                        r.path.clone()
                    } else {
                        format!("{} (rule {})", r.path, i + 1)
                    };
                    cases.push(format!(
                        "    <testcase name=\"{}\" classname=\"{}\"/>\n",
                        escape(&name),
                        escape(&r.path)
                    ));
                }
                (cases, failed, 0)
            }
        };
        tests += cases.len();
        failures += f;
        errors += e;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\">\n{}  </testsuite>\n",
            escape(&r.path),
            cases.len(),
            cases.concat()
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rulelint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n{suites}</testsuites>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c'\u{1b}\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;?&#10;"
        );
    }
}
