//! Exclusions written in SPL.
//!
//! The clause is `NOT (f IN ("a", "b") AND g="c")`: one condition per
//! field, values quoted and escaped (`\` → `\\`, `"` → `\"`), numbers
//! unquoted, `EndsWith`/`StartsWith`/`Contains` written with `*`, CIDR
//! blocks as the block. Field names are written as they are visible where
//! the clause goes: each field (named as in the datamodel,
//! `Processes.process_name`, or raw, `Computer`) is looked up in the
//! field scope the parser recorded for that point of the pipeline
//! (renames, `drop_dm_object_name` prefixes, projections).
//!
//! Where it goes, in order of preference:
//! 1. before the detection's `` `<name>_filter` `` macro, as
//!    `| search NOT (…) ` — when every field is still visible there; the
//!    text then also gives the macro's definition as a macros.conf stanza
//!    (Splunk's intended place for local exclusions);
//! 2. before the first aggregation of a raw-event search (`| stats`);
//! 3. in the `where` of the generating `tstats` (datamodel field names;
//!    a name without a `.` gets the datamodel object prefix);
//! 4. at the end of a search without a filter macro;
//! 5. before the latest command where every field is still visible (a
//!    final `| table` drops fields the base search matched on).
//!
//! Edits are escaped for the YAML scalar holding the search (single
//! quoted: `'` doubled; double quoted: `\` and `"` escaped; block scalars
//! as is; plain scalars only when the text cannot end the scalar).

use super::edit::escape;
use super::{Exclusion, ExclusionField, ExclusionValue, Rendered};
use crate::diagnostic::Edit;
use crate::rule::{DetectionRule, FieldScope, Op, SplPipeline, TstatsAnchor};
use crate::source::{SourceFile, Span};

pub fn render(
    rule: &DetectionRule,
    _file: &SourceFile,
    excl: &Exclusion,
    _triggers: &[Span],
) -> Option<Rendered> {
    if excl.fields.is_empty() || excl.fields.iter().any(|f| f.values.is_empty()) {
        return None;
    }
    let given: Vec<String> = excl.fields.iter().map(|f| f.field.clone()).collect();
    // Without the parser's picture of the search (it did not parse), the
    // exclusion can only be shown.
    let placed = rule
        .anchors
        .pipeline
        .as_ref()
        .and_then(|pl| place(rule, pl, excl));
    let Some(p) = placed else {
        return Some(Rendered::new(
            format!("| search {}", clause(excl, &given)?),
            Vec::new(),
        ));
    };
    let cl = clause(excl, &p.names)?;
    let (inserted, shown) = match p.kind {
        Kind::PipeBefore => (format!("| search {cl} "), format!("| search {cl}")),
        Kind::TstatsAnd => (format!(" AND {cl}"), format!("AND {cl}")),
        Kind::TstatsWhereBeforeBy => (format!("where {cl} "), format!("where {cl}")),
        Kind::TstatsWhereAtEnd => (format!(" where {cl}"), format!("where {cl}")),
        Kind::PipeAtEnd => (format!(" | search {cl}"), format!("| search {cl}")),
    };
    let edits = rule
        .anchors
        .query_quoting
        .and_then(|q| escape(q, &inserted))
        .map(|esc| vec![Edit::insert(p.at, esc)])
        .unwrap_or_default();
    let mut out = Rendered::new(shown, edits);
    if let (Some((name, _)), true) = (&rule.anchors.filter_macro, p.at_filter) {
        out = out.note(format!(
            "Or define the detection's filter macro in macros.conf (Splunk's place for local exclusions):\n[{name}]\ndefinition = search {cl}"
        ));
    }
    Some(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `| search NOT (…) ` before a pipe.
    PipeBefore,
    /// ` AND NOT (…)` after the tstats `where` expression.
    TstatsAnd,
    /// `where NOT (…) ` before the tstats `by`.
    TstatsWhereBeforeBy,
    /// ` where NOT (…)` at the end of the tstats command.
    TstatsWhereAtEnd,
    /// ` | search NOT (…)` at the end of the search.
    PipeAtEnd,
}

struct Placement {
    /// File offset.
    at: usize,
    kind: Kind,
    names: Vec<String>,
    /// At the filter macro (its definition can hold the clause too).
    at_filter: bool,
}

pub(crate) fn names_in(scope: &FieldScope, excl: &Exclusion) -> Option<Vec<String>> {
    excl.fields
        .iter()
        .map(|f| scope.name_for(&f.field))
        .collect()
}

/// Like [`names_in`], but a name the search binds to an event field of
/// its own (`rename actor.user.uid as user`, `eval user=…` of a field)
/// counts as the field of that name.
fn names_bound(scope: &FieldScope, excl: &Exclusion) -> Option<Vec<String>> {
    excl.fields
        .iter()
        .map(|f| {
            scope.name_for(&f.field).or_else(|| {
                let want = scope.strip_dropped(&f.field);
                matches!(scope.names.get(&want), Some(Some(_))).then_some(want)
            })
        })
        .collect()
}

fn place(rule: &DetectionRule, pl: &SplPipeline, excl: &Exclusion) -> Option<Placement> {
    // 1. Before the filter macro. A name the search itself binds there
    //    (`rename actor.user.uid as user`) is the search's own notion of
    //    that field: the raw events may not have it at all (OCSF data), so
    //    the exclusion goes where the search defines it.
    if let Some(stage) = pl.filter_stage.and_then(|i| pl.stages.get(i)) {
        if let (Some(pipe), Some(names)) = (stage.pipe, names_bound(&stage.scope, excl)) {
            return Some(Placement {
                at: pipe,
                kind: Kind::PipeBefore,
                names,
                at_filter: true,
            });
        }
    }
    // 2. Before the first aggregation of a raw-event search.
    if let Some(agg) = rule.anchors.first_aggregation {
        if let Some(stage) = pl.stages.iter().find(|s| s.pipe == Some(agg)) {
            if let Some(names) = names_in(&stage.scope, excl) {
                return Some(Placement {
                    at: agg,
                    kind: Kind::PipeBefore,
                    names,
                    at_filter: false,
                });
            }
        }
    }
    // 3. In the `where` of the generating tstats that reads the excluded
    //    fields' datamodel object (the search's own, or a subsearch's):
    //    datamodel names, and a name without a `.` gets the object prefix.
    if let Some((t, names)) = tstats_for(rule, pl, excl) {
        let kind = if t.has_where {
            Kind::TstatsAnd
        } else if t.before_by {
            Kind::TstatsWhereBeforeBy
        } else {
            Kind::TstatsWhereAtEnd
        };
        return Some(Placement {
            at: t.at,
            kind,
            names,
            at_filter: false,
        });
    }
    // 4. At the end of a search without a filter macro.
    if rule.anchors.filter_macro.is_none() {
        if let Some(names) = names_in(&pl.end_scope, excl) {
            return Some(Placement {
                at: pl.end,
                kind: Kind::PipeAtEnd,
                names,
                at_filter: false,
            });
        }
    }
    // 5. Before the latest command (ahead of the filter macro) where every
    //    field is still visible, e.g. before a final `| table`.
    let limit = pl.filter_stage.unwrap_or(pl.stages.len());
    for stage in pl.stages[..limit.min(pl.stages.len())].iter().rev() {
        if let (Some(pipe), Some(names)) = (stage.pipe, names_in(&stage.scope, excl)) {
            return Some(Placement {
                at: pipe,
                kind: Kind::PipeBefore,
                names,
                at_filter: false,
            });
        }
    }
    None
}

/// The generating `tstats` whose datamodel object the exclusion's fields
/// belong to, and the fields' names there. Fields named with another
/// object's prefix (`All_Traffic.src_port` in an `Endpoint.Processes`
/// search) never go into it: that tstats cannot read them.
fn tstats_for<'a>(
    rule: &'a DetectionRule,
    pl: &'a SplPipeline,
    excl: &Exclusion,
) -> Option<(&'a TstatsAnchor, Vec<String>)> {
    let prefixes: Vec<Option<&str>> = excl
        .fields
        .iter()
        .map(|f| f.field.split_once('.').map(|(p, _)| p))
        .collect();
    let wanted = prefixes.iter().flatten().next().copied();
    if prefixes.iter().flatten().any(|p| Some(*p) != wanted) {
        return None;
    }
    let t = match wanted {
        Some(w) => pl.tstats.iter().find(|t| t.object.as_deref() == Some(w))?,
        None => pl.tstats.get(pl.own_tstats?)?,
    };
    let object = t.object.as_deref().or(rule.anchors.datamodel.as_deref());
    let names = excl
        .fields
        .iter()
        .map(|f| match object {
            Some(dm) if !f.field.contains('.') => format!("{dm}.{}", f.field),
            _ => f.field.clone(),
        })
        .collect();
    Some((t, names))
}

/// `NOT (a IN ("x", "y") AND b="z")` with the fields named `names`.
pub(crate) fn clause(excl: &Exclusion, names: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    for (f, name) in excl.fields.iter().zip(names) {
        parts.push(condition(f, name)?);
    }
    Some(format!("NOT ({})", parts.join(" AND ")))
}

fn condition(f: &ExclusionField, name: &str) -> Option<String> {
    let name = field_name(name);
    let values: Vec<String> = f
        .values
        .iter()
        .map(|v| value(f.op, v))
        .collect::<Option<_>>()?;
    match values.as_slice() {
        [] => None,
        [one] => Some(format!("{name}={one}")),
        many => Some(format!("{name} IN ({})", many.join(", "))),
    }
}

fn field_name(n: &str) -> String {
    if n.is_empty()
        || n.chars()
            .any(|c| c.is_whitespace() || "=()\"!<>,[]|`".contains(c))
    {
        format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        n.to_string()
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// One value as the search command matches it.
fn value(op: Op, v: &ExclusionValue) -> Option<String> {
    // `*` is always a wildcard in a search and cannot be escaped: a value
    // holding one would exclude more than asked.
    if v.text.contains('*') && !v.is_placeholder() {
        return None;
    }
    match op {
        Op::Eq if v.numeric && !v.is_placeholder() => Some(v.text.clone()),
        Op::Eq => Some(quote(&v.text)),
        Op::EndsWith => Some(quote(&format!("*{}", v.text))),
        Op::StartsWith => Some(quote(&format!("{}*", v.text))),
        Op::Contains => Some(quote(&format!("*{}*", v.text))),
        Op::Cidr
            if !v.is_placeholder()
                && v.text
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || ".:/".contains(c)) =>
        {
            Some(v.text.clone())
        }
        Op::Cidr => Some(quote(&v.text)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Suggestion;
    use crate::format::splunk;
    use crate::query::spl;

    /// Rendered as the rendering stage does (with the suggestion's
    /// applicability).
    fn render(
        rule: &DetectionRule,
        file: &SourceFile,
        excl: &Exclusion,
        triggers: &[Span],
    ) -> Option<Suggestion> {
        crate::suggest::render(rule, file, excl, triggers)
    }
    use crate::suggest::ValueOrigin;

    fn ev(text: &str) -> ExclusionValue {
        ExclusionValue {
            text: text.into(),
            numeric: text.parse::<i64>().is_ok(),
            origin: ValueOrigin::Catalogue,
        }
    }

    fn ef(field: &str, op: Op, values: &[&str]) -> ExclusionField {
        ExclusionField {
            field: field.into(),
            op,
            values: values.iter().map(|v| ev(v)).collect(),
        }
    }

    fn excl(fields: Vec<ExclusionField>) -> Exclusion {
        Exclusion {
            name: "filter_test".into(),
            fields,
        }
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut out = text.to_string();
        let mut es = edits.to_vec();
        es.sort_by_key(|e| std::cmp::Reverse(e.offset));
        for e in es {
            out.replace_range(e.offset..e.offset + e.length, &e.replacement);
        }
        out
    }

    /// Render, apply the edits, re-parse: returns the suggestion and the
    /// rule parsed from the edited file.
    fn roundtrip(yaml: &str, x: &Exclusion) -> (Suggestion, String, DetectionRule) {
        let file = SourceFile::new("r.yml", yaml);
        let parsed = splunk::parse(&file);
        assert!(
            parsed
                .issues
                .iter()
                .all(|i| i.severity != crate::diagnostic::Severity::Error),
            "{:?}",
            parsed.issues
        );
        let rule = &parsed.rules[0];
        let s = render(rule, &file, x, &[]).expect("a suggestion");
        let edited = apply(yaml, &s.fix.edits);
        let again = splunk::parse(&SourceFile::new("r.yml", edited.clone()));
        assert!(
            again
                .issues
                .iter()
                .all(|i| i.severity != crate::diagnostic::Severity::Error),
            "edited search does not parse: {:?}\n{edited}",
            again.issues
        );
        (s, edited, again.rules[0].clone())
    }

    /// The excluded (field, values) pairs: comparisons under a Not.
    fn excluded(r: &DetectionRule) -> Vec<(String, Op, Vec<String>)> {
        let mut v = Vec::new();
        if let Some(l) = &r.logic {
            l.visit_cmps(&mut |c, neg| {
                if neg {
                    v.push((
                        c.field.raw.clone(),
                        c.op,
                        c.values.iter().map(|x| x.text.clone()).collect(),
                    ));
                }
            });
        }
        v
    }

    const TSTATS_RULE: &str = "name: Nmap\nid: 1\nsearch: '| tstats count from datamodel=Endpoint.Processes\n  where Processes.process_name=nmap.exe by Processes.dest Processes.user Processes.process_name\n  Processes.parent_process_name | `drop_dm_object_name(Processes)` | `nmap_filter`'\n";

    #[test]
    fn before_the_filter_macro_with_prefix_dropped() {
        let x = excl(vec![ef(
            "Processes.parent_process_name",
            Op::Eq,
            &["svc.exe", "o'brien.exe"],
        )]);
        let (s, edited, r) = roundtrip(TSTATS_RULE, &x);
        assert_eq!(
            s.text,
            "| search NOT (parent_process_name IN (\"svc.exe\", \"o'brien.exe\"))"
        );
        let file = SourceFile::new("r.yml", TSTATS_RULE);
        let rule = splunk::parse(&file).rules.remove(0);
        let (_, notes) = crate::suggest::render_with_notes(&rule, &file, &x, &[]).unwrap();
        assert!(
            notes[0].ends_with("\n[nmap_filter]\ndefinition = search NOT (parent_process_name IN (\"svc.exe\", \"o'brien.exe\"))"),
            "{notes:?}"
        );
        assert!(edited.contains("| search NOT (parent_process_name IN (\"svc.exe\", \"o''brien.exe\")) | `nmap_filter`"), "{edited}");
        assert_eq!(
            excluded(&r),
            vec![(
                "parent_process_name".to_string(),
                Op::Eq,
                vec!["svc.exe".to_string(), "o'brien.exe".to_string()]
            )]
        );
        assert!(!s.has_placeholders);
    }

    #[test]
    fn fields_gone_at_the_filter_go_into_tstats() {
        // `original_file_name` is not in the `by` clause: not visible later.
        let x = excl(vec![
            ef(
                "Processes.original_file_name",
                Op::EndsWith,
                &["\\nmap.exe"],
            ),
            ef("Processes.user", Op::Eq, &["scanner"]),
        ]);
        let (s, edited, r) = roundtrip(TSTATS_RULE, &x);
        assert_eq!(s.text, "AND NOT (Processes.original_file_name=\"*\\\\nmap.exe\" AND Processes.user=\"scanner\")");
        assert!(edited.contains("where Processes.process_name=nmap.exe AND NOT (Processes.original_file_name=\"*\\\\nmap.exe\" AND Processes.user=\"scanner\") by"), "{edited}");
        let ex = excluded(&r);
        assert_eq!(
            ex[0],
            (
                "Processes.original_file_name".to_string(),
                Op::EndsWith,
                vec!["\\nmap.exe".to_string()]
            )
        );
        assert_eq!(ex[1].0, "Processes.user");
    }

    #[test]
    fn raw_search_goes_before_the_first_aggregation_when_renamed_away() {
        let yaml = "name: x\nid: 2\nsearch: '`sysmon` EventCode=3 | stats count by Image DestinationPort | rename Image as process | `x_filter`'\n";
        // DestinationPort is visible at the filter; Image is visible as `process`.
        let x = excl(vec![
            ef("Image", Op::EndsWith, &["\\chrome.exe"]),
            ef("DestinationPort", Op::Eq, &["443"]),
        ]);
        let (s, edited, r) = roundtrip(yaml, &x);
        assert!(
            s.text
                .starts_with("| search NOT (process=\"*\\\\chrome.exe\" AND DestinationPort=443)"),
            "{}",
            s.text
        );
        assert!(edited.contains(
            "| search NOT (process=\"*\\\\chrome.exe\" AND DestinationPort=443) | `x_filter`"
        ));
        let ex = excluded(&r);
        assert_eq!(ex[0].0, "Image");
        assert_eq!(
            ex[1],
            (
                "DestinationPort".to_string(),
                Op::Eq,
                vec!["443".to_string()]
            )
        );
        // A field dropped by stats: the exclusion goes before it.
        let x = excl(vec![ef("User", Op::Eq, &["svc"])]);
        let (s, edited, r) = roundtrip(yaml, &x);
        assert_eq!(s.text, "| search NOT (User=\"svc\")");
        assert!(
            edited.contains("EventCode=3 | search NOT (User=\"svc\") | stats"),
            "{edited}"
        );
        assert_eq!(excluded(&r)[0].0, "User");
    }

    #[test]
    fn a_name_the_search_binds_goes_where_the_search_defines_it() {
        // OCSF events have no `user`: the search makes one from
        // `actor.user.uid`, so the exclusion on `user` goes where it exists.
        let yaml = "name: x\nid: 7\nsearch: '`amazon_security_lake` api.operation=DeleteTrail | fillnull | stats count by actor.user.uid src_endpoint.ip | rename actor.user.uid as user, src_endpoint.ip as src_ip | `x_filter`'\n";
        let x = excl(vec![ef("user", Op::Eq, &["admin"])]);
        let (s, edited, _) = roundtrip(yaml, &x);
        assert_eq!(s.text, "| search NOT (user=\"admin\")");
        assert!(
            edited.contains("src_ip | search NOT (user=\"admin\") | `x_filter`"),
            "{edited}"
        );
        // A name bound to something computed is not the field.
        let yaml = "name: x\nid: 8\nsearch: '`cloudtrail` eventName=X | stats count by src | eval user=\"a\" | `x_filter`'\n";
        let (_, edited, _) = roundtrip(yaml, &x);
        assert!(
            edited.contains("eventName=X | search NOT (user=\"admin\") | stats"),
            "{edited}"
        );
    }

    #[test]
    fn before_a_final_table_that_drops_the_field() {
        let yaml = "name: x\nid: 6\nsearch: '`wineventlog_security` EventCode=4769 | rename Computer as dest\n  | table dest user | `x_filter`'\n";
        let x = excl(vec![
            ef("EventCode", Op::Eq, &["4770"]),
            ef("Computer", Op::Eq, &["dc1"]),
        ]);
        let (s, edited, r) = roundtrip(yaml, &x);
        assert_eq!(s.text, "| search NOT (EventCode=4770 AND dest=\"dc1\")");
        assert!(
            edited.contains("| search NOT (EventCode=4770 AND dest=\"dc1\") | table dest user"),
            "{edited}"
        );
        let ex = excluded(&r);
        assert_eq!(ex[0].0, "EventCode");
        assert_eq!(ex[1].0, "Computer");
    }

    #[test]
    fn other_scalar_styles() {
        let x = excl(vec![ef("dest_ip", Op::Cidr, &["10.0.0.0/8"])]);
        let dq = "name: x\nid: 3\nsearch: \"`sysmon` EventCode=3 Image=\\\"*\\\\\\\\x.exe\\\"\n  | `x_filter`\"\n";
        let (s, edited, r) = roundtrip(dq, &x);
        assert!(s.text.starts_with("| search NOT (dest_ip=10.0.0.0/8)"));
        assert!(
            edited.contains("| search NOT (dest_ip=10.0.0.0/8) | `x_filter`"),
            "{edited}"
        );
        assert_eq!(excluded(&r)[0].1, Op::Cidr);
        let x = excl(vec![ef("user", Op::Eq, &["a\"b"])]);
        let (_, edited, r) = roundtrip(dq, &x);
        assert!(
            edited.contains(r#"| search NOT (user=\"a\\\"b\") | `x_filter`"#),
            "{edited}"
        );
        assert_eq!(excluded(&r)[0].2, vec!["a\"b".to_string()]);
        let lit = "name: x\nid: 4\nsearch: |\n  `sysmon` EventCode=3\n  | `x_filter`\n";
        let (_, edited, r) = roundtrip(lit, &x);
        assert!(
            edited.contains("  | search NOT (user=\"a\\\"b\") | `x_filter`\n"),
            "{edited}"
        );
        assert_eq!(excluded(&r)[0].0, "user");
        // No filter macro: at the end, before the closing quote.
        let end = "name: x\nid: 5\nsearch: '`sysmon` EventCode=3\n  | table user'\n";
        let (_, edited, _) = roundtrip(end, &x);
        assert!(
            edited.ends_with("| table user | search NOT (user=\"a\\\"b\")'\n"),
            "{edited}"
        );
    }

    #[test]
    fn placeholders_and_unsupported_values() {
        let file = SourceFile::new("r.yml", TSTATS_RULE);
        let rule = splunk::parse(&file).rules.remove(0);
        let mut x = excl(vec![ef("Processes.dest", Op::Eq, &["x"])]);
        x.fields[0].values[0] = ExclusionValue {
            text: "<your scanners>".into(),
            numeric: false,
            origin: ValueOrigin::Placeholder,
        };
        // Placeholders are written where they belong, for
        // `--fix-placeholders`.
        let s = render(&rule, &file, &x, &[]).unwrap();
        assert!(s.has_placeholders);
        assert_eq!(
            s.fix.applicability,
            crate::diagnostic::Applicability::NeedsFacts
        );
        let edited = apply(TSTATS_RULE, &s.fix.edits);
        assert!(
            edited.contains("| search NOT (dest=\"<your scanners>\") | `nmap_filter`"),
            "{edited}"
        );
        assert!(s
            .text
            .starts_with("| search NOT (dest=\"<your scanners>\")"));
        let x = excl(vec![ef("Processes.dest", Op::Eq, &["a*b"])]);
        assert!(render(&rule, &file, &x, &[]).is_none());
        let x = excl(vec![ef("Processes.dest", Op::Regex, &["a"])]);
        assert!(render(&rule, &file, &x, &[]).is_none());
        assert!(render(&rule, &file, &excl(vec![]), &[]).is_none());
    }

    #[test]
    fn a_field_goes_into_the_tstats_that_reads_its_datamodel() {
        // The search reads Endpoint.Processes; the joined subsearch reads
        // Network_Traffic.All_Traffic. An All_Traffic exclusion belongs in
        // the subsearch's tstats, never in the Processes one.
        let yaml = "name: x\nid: 7\nsearch: '| tstats count from datamodel=Endpoint.Processes where Processes.process_name=java.exe by Processes.process_id Processes.dest | `drop_dm_object_name(Processes)` | join process_id [| tstats count from datamodel=Network_Traffic.All_Traffic where All_Traffic.dest_port=389 by All_Traffic.process_id All_Traffic.dest_port | `drop_dm_object_name(All_Traffic)`] | table dest process_id dest_port | `x_filter`'\n";
        let x = excl(vec![ef("All_Traffic.src_port", Op::Eq, &["80", "443"])]);
        let (s, edited, r) = roundtrip(yaml, &x);
        assert_eq!(s.text, "AND NOT (All_Traffic.src_port IN (80, 443))");
        assert!(
            edited.contains("where All_Traffic.dest_port=389 AND NOT (All_Traffic.src_port IN (80, 443)) by All_Traffic.process_id"),
            "{edited}"
        );
        assert!(
            edited.contains("where Processes.process_name=java.exe by"),
            "{edited}"
        );
        assert_eq!(excluded(&r)[0].0, "All_Traffic.src_port");
        // A field of the search's own object still goes into its tstats.
        let x = excl(vec![ef(
            "Processes.parent_process_name",
            Op::Eq,
            &["svc.exe"],
        )]);
        let (_, edited, _) = roundtrip(yaml, &x);
        assert!(
            edited.contains("where Processes.process_name=java.exe AND NOT (Processes.parent_process_name=\"svc.exe\") by"),
            "{edited}"
        );
        // An object no tstats reads: never into a tstats.
        let x = excl(vec![ef("Authentication.user", Op::Eq, &["svc"])]);
        let file = SourceFile::new("r.yml", yaml);
        let rule = splunk::parse(&file).rules.remove(0);
        let s = render(&rule, &file, &x, &[]).unwrap();
        assert!(
            s.fix
                .edits
                .iter()
                .all(|e| !e.replacement.contains("AND NOT")),
            "{:?}",
            s.fix.edits
        );
    }

    #[test]
    fn recorded_scopes_name_fields_as_the_parser_does() {
        let searches = [
            "| tstats count from datamodel=Endpoint.Processes where Processes.process_name=a by Processes.dest Processes.user | `drop_dm_object_name(Processes)` | rename dest as host | table host user",
            "`sysmon` EventCode=1 | eval cmd=CommandLine, Image=lower(Image) | rename User as account | stats count by cmd Image account | fields - count",
            "index=x | rename Processes.* as * | join user [search index=y | rename src as user] | table user src",
        ];
        let fields = [
            "Processes.dest",
            "Processes.user",
            "Processes.process_name",
            "dest",
            "host",
            "CommandLine",
            "Image",
            "User",
            "account",
            "user",
            "src",
            "count",
            "Processes.x",
        ];
        let mut compared = 0;
        for q in searches {
            let a = spl::analyze(q);
            let mut envs: Vec<&crate::query::spl::FieldEnv> =
                a.stages.iter().map(|s| &s.env).collect();
            envs.push(&a.end_env);
            for env in envs {
                let scope = env.scope();
                for f in fields {
                    assert_eq!(scope.name_for(f), env.name_for(f), "{q}: {f}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 100);
    }

    #[test]
    fn clause_shapes() {
        let x = excl(vec![
            ef("a", Op::Eq, &["1", "2"]),
            ef("b", Op::StartsWith, &["C:\\Temp\\"]),
            ef("c d", Op::Contains, &["x"]),
        ]);
        let names: Vec<String> = x.fields.iter().map(|f| f.field.clone()).collect();
        assert_eq!(
            clause(&x, &names).unwrap(),
            "NOT (a IN (1, 2) AND b=\"C:\\\\Temp\\\\*\" AND \"c d\"=\"*x*\")"
        );
        // The clause parses and its comparisons are exclusions.
        let q = spl::parse(&format!("x=1 | search {}", clause(&x, &names).unwrap()));
        assert!(!q.has_errors());
        let mut negs = Vec::new();
        q.logic
            .visit_cmps(&mut |c, n| negs.push((c.field.raw.clone(), c.op, n)));
        assert_eq!(negs[1], ("a".to_string(), Op::Eq, true));
        assert_eq!(negs[2], ("b".to_string(), Op::StartsWith, true));
        assert_eq!(negs[3], ("c d".to_string(), Op::Contains, true));
    }
}
