#![no_main]
//! Fix, then re-parse: lint a rule file (any format), apply the edits of
//! every finding's suggestion one finding at a time, and lint the result.
//! A rule that parsed must still parse after the edit and gain no error,
//! and nothing may panic. A fix that writes placeholders (`needs-facts`)
//! makes the rule match a literal placeholder, which `RL301` reports as an
//! error by design: for those only parse errors count.

use libfuzzer_sys::fuzz_target;
use rulelint::diagnostic::{Applicability, Severity};
use rulelint::{Diagnostic, LintOptions, SourceFile};

fn errors(ds: &[Diagnostic], parse_only: bool) -> Vec<String> {
    ds.iter()
        .filter(|d| d.severity == Severity::Error && (!parse_only || d.is_fatal()))
        .map(|d| {
            format!(
                "{} {}:{} {}",
                d.code, d.position.line, d.position.column, d.message
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Some(text) = rulelint_fuzz::text(data) else {
        return;
    };
    let name = if text.contains("[rule]") {
        "rule.toml"
    } else {
        "rule.yml"
    };
    let k = rulelint_fuzz::knowledge();
    let opts = LintOptions::default();
    let before = rulelint::lint_source(k, &opts, SourceFile::new(name, text), name, true);
    if !errors(&before.diagnostics, false).is_empty() {
        return;
    }
    for d in &before.diagnostics {
        rulelint_fuzz::check_span(text, d.span, "diagnostic");
        let Some(s) = &d.suggestion else {
            continue;
        };
        if s.fix.edits.is_empty() {
            continue;
        }
        let Some(fixed) = rulelint_fuzz::apply_edits(text, &s.fix.edits) else {
            panic!(
                "the edits of {} {:?} do not apply: {:?}",
                d.code, d.pattern, s.fix.edits
            );
        };
        let after =
            rulelint::lint_source(k, &opts, SourceFile::new(name, fixed.as_str()), name, true);
        let new = errors(
            &after.diagnostics,
            s.fix.applicability == Applicability::NeedsFacts,
        );
        assert!(
            new.is_empty(),
            "the fix for {} {:?} at {}:{} breaks the rule: {new:?}\n--- fixed text ---\n{fixed}",
            d.code,
            d.pattern,
            d.position.line,
            d.position.column
        );
    }
});
