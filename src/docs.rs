//! The reference page `docs/checks.md`, generated from the same metadata as
//! `rulelint explain` (check docs in `checks/`, patterns in `knowledge/`).
//! A test fails when the committed page is stale.

use crate::checks::CHECKS;
use crate::knowledge::Knowledge;
use std::fmt::Write;

/// Render the reference page.
pub fn checks_markdown(k: &Knowledge) -> String {
    let mut s = String::new();
    s.push_str("# rulelint checks and false-positive patterns\n\n");
    s.push_str("<!-- Generated from src/checks and knowledge/ by `RULELINT_BLESS=1 cargo test --test docs`; do not edit. -->\n\n");
    s.push_str("## Checks\n\n| code | name | category | severity | fix | summary |\n| --- | --- | --- | --- | --- | --- |\n");
    let mut checks: Vec<_> = CHECKS.iter().collect();
    checks.sort_by_key(|c| c.code);
    for c in &checks {
        let _ = writeln!(
            s,
            "| `{}` | `{}` | {} | {} | {} | {} |",
            c.code,
            c.name,
            c.category.as_str(),
            c.severity,
            c.fix.as_str(),
            c.summary()
        );
    }
    for c in &checks {
        let _ = write!(
            s,
            "\n### {} {}\n\n{}\n\n{}\n",
            c.code,
            c.name,
            c.summary(),
            c.doc()
        );
    }
    s.push_str("\n## Patterns\n\n| id | severity | title |\n| --- | --- | --- |\n");
    for p in &k.patterns {
        let _ = writeln!(s, "| `{}` | {} | {} |", p.id, p.severity, p.title);
    }
    for p in &k.patterns {
        let _ = write!(
            s,
            "\n### {}\n\n**{}**\n\n{}\n\nBenign sources:\n\n",
            p.id,
            p.title,
            p.rationale.trim()
        );
        for b in &p.benign {
            let _ = writeln!(s, "* {b}");
        }
        let _ = write!(s, "\nSuggested exclusion: {}.\n\n", p.exclusion.summary);
        for line in p.exclusion.describe() {
            let _ = writeln!(s, "* {line}");
        }
        if !p.references.is_empty() {
            s.push_str("\nReferences:\n\n");
            for r in &p.references {
                let _ = writeln!(s, "* <{r}>");
            }
        }
    }
    s
}
