//! `RL301 placeholder-value`.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::knowledge::Knowledge;
use crate::rule::DetectionRule;

declare_check! {
    /// The rule compares a field with a placeholder such as `<your DNS servers>`.
    ///
    /// ## Why
    ///
    /// `rulelint check --fix --fix-placeholders` writes an exclusion whose
    /// values are placeholders when the environment facts it needs are not
    /// set. Left in the rule, the placeholder is a literal value: the
    /// exclusion matches no event, so the false positives it was meant to
    /// remove still fire, and the rule looks reviewed when it is not. Every
    /// rule language is checked, on the parsed detection logic (comparisons,
    /// in positive or negative position), not on the text.
    ///
    /// A placeholder is a value (ignoring `*` and `%` wildcards around it)
    /// written in angle brackets that is one of the catalogue's placeholders
    /// or starts with `your `.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// filter_security_team:
    ///     User: '<your security team users>'
    /// condition: selection and not filter_security_team
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// filter_security_team:
    ///     User: 'svc-vulnscan'
    /// condition: selection and not filter_security_team
    /// ```
    ///
    /// ## Fix
    ///
    /// Replace the placeholder with your values, or set the environment fact
    /// in `rulelint.toml` (`[environment]`), undo the edit and run `--fix`
    /// again, which then writes your values.
    pub struct PlaceholderValue {
        code: "RL301",
        name: "placeholder-value",
        category: Logic,
        severity: Error,
        fix: None,
    }
}

/// Is `text` a placeholder rulelint writes: `<your …>` or a placeholder of
/// the catalogue, with any `*` / `%` wildcards around it?
pub fn is_placeholder(text: &str, knowledge: &Knowledge) -> bool {
    let core = text.trim().trim_matches(['*', '%']).trim();
    let Some(inner) = core.strip_prefix('<').and_then(|c| c.strip_suffix('>')) else {
        return false;
    };
    if inner.is_empty() || inner.contains(['<', '>']) {
        return false;
    }
    inner.starts_with("your ")
        || knowledge.patterns.iter().any(|p| {
            p.exclusion
                .fields
                .iter()
                .any(|f| f.placeholder.as_deref() == Some(core))
        })
}

impl Check for PlaceholderValue {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        logic.visit_cmps(&mut |cmp, _negated| {
            for v in &cmp.values {
                if !is_placeholder(&v.text, ctx.knowledge) {
                    continue;
                }
                let shown = v.text.trim();
                out.push(
                    Diagnostic::new(
                        self.code(),
                        ctx,
                        v.span,
                        format!(
                            "`{}` is compared with the placeholder `{shown}`, which no event holds: the exclusion it belongs to excludes nothing",
                            cmp.field.raw
                        ),
                    )
                    .with_rule(rule)
                    .with_help(
                        "replace the placeholder with your values, or set the environment fact in rulelint.toml ([environment]) and run --fix again",
                    )
                    .into(),
                );
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::is_placeholder;
    use crate::Knowledge;

    #[test]
    fn placeholder_shapes() {
        let k = Knowledge::builtin().expect("catalogue");
        for yes in [
            "<your DNS servers>",
            " *<your known scripts>* ",
            "%<your admin users>%",
            "<the product's web-server executable>",
            "<hosts allowed to use Tor>",
        ] {
            assert!(is_placeholder(yes, &k), "{yes}");
        }
        for no in [
            "<script>",
            "your DNS servers",
            "<>",
            "<your <x>>",
            "a <your DNS servers>",
            "10.0.0.53",
        ] {
            assert!(!is_placeholder(no, &k), "{no}");
        }
    }
}
