//! `RL014 tstats-without-datamodel`.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::rule::DetectionRule;

declare_check! {
    /// A Splunk `tstats` search uses datamodel fields but names no datamodel.
    ///
    /// ## Why
    ///
    /// Without `from datamodel=…`, `tstats` reads index-time fields only; a
    /// field such as `Processes.process_name` does not exist there, so the
    /// search matches nothing and the detection never fires.
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```spl
    /// | tstats count where Processes.process_name=cmd.exe by Processes.dest
    /// ```
    ///
    /// Clean:
    ///
    /// ```spl
    /// | tstats count from datamodel=Endpoint.Processes where Processes.process_name=cmd.exe by Processes.dest
    /// ```
    ///
    /// ## Fix
    ///
    /// Add `from datamodel=<Model>` (for example `from datamodel=Endpoint.Processes`).
    pub struct TstatsWithoutDatamodel {
        code: "RL014",
        name: "tstats-without-datamodel",
        category: Logic,
        severity: Warning,
        fix: None,
    }
}

impl Check for TstatsWithoutDatamodel {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        for call in &rule.anchors.tstats {
            if call.names_datamodel {
                continue;
            }
            let Some(field) = call.datamodel_fields.first() else {
                continue;
            };
            let object = field.split('.').next().unwrap_or("Processes");
            out.push(
                Diagnostic::new(
                    self.code(),
                    ctx,
                    call.span,
                    format!(
                        "`tstats` uses the datamodel field `{field}` but names no datamodel: it reads index-time fields only and matches nothing"
                    ),
                )
                .with_rule(rule)
                .with_help(format!(
                    "add `from datamodel=<Model>` (e.g. `from datamodel=Endpoint.{object}`)"
                ))
                .into(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::checks::Code;
    use crate::{lint_source, Knowledge, LintOptions, SourceFile};

    fn codes(search: &str) -> Vec<(Code, String)> {
        let text = format!(
            "name: T\nid: 3f1c2b4a-0000-4000-8000-000000000001\ntype: TTP\nsearch: '{search}'\n"
        );
        let k = Knowledge::builtin().expect("catalogue");
        let r = lint_source(
            &k,
            &LintOptions::default(),
            SourceFile::new("t.yml", text.clone()),
            "t.yml",
            true,
        );
        r.diagnostics
            .iter()
            .map(|d| (d.code, text[d.span.start..d.span.end].to_string()))
            .collect()
    }

    #[test]
    fn flags_datamodel_fields_without_a_datamodel() {
        let got = codes("| tstats count where Processes.process_name=nmap.exe by Processes.dest");
        let hit = got
            .iter()
            .find(|(c, _)| *c == Code::TstatsWithoutDatamodel)
            .expect("RL014");
        assert!(hit.1.starts_with("count where Processes"), "{hit:?}");
    }

    #[test]
    fn quiet_with_a_datamodel_or_index_time_fields() {
        for ok in [
            "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=nmap.exe by Processes.dest",
            "| tstats count where index=wineventlog by host",
        ] {
            assert!(
                codes(ok).iter().all(|(c, _)| *c != Code::TstatsWithoutDatamodel),
                "{ok}"
            );
        }
    }

    #[test]
    fn not_run_when_disabled() {
        let text =
            "name: T\nid: x\nsearch: '| tstats count where Processes.process_name=nmap.exe'\n";
        let k = Knowledge::builtin().expect("catalogue");
        let opts = LintOptions {
            disabled: [Code::TstatsWithoutDatamodel].into(),
            ..LintOptions::default()
        };
        let r = lint_source(&k, &opts, SourceFile::new("t.yml", text), "t.yml", true);
        assert!(r
            .diagnostics
            .iter()
            .all(|d| d.code != Code::TstatsWithoutDatamodel));
    }
}
