//! EQL exclusions applied to real rules: for every Elastic EQL rule in the
//! corpus, an exclusion placed next to a triggering comparison is inserted
//! into the file; the edited file must still be valid TOML, its query must
//! parse, and the exclusion must sit under `Not` in the trigger's step.
//!
//! Corpus root: `$RULELINT_CORPUS`, else `<manifest>/../shared/corpus`.
//! Skipped (with a message) when the corpus is absent.

mod common;

use rulelint::query::eql;
use rulelint::rule::{Anchors, DetectionRule, Format, Language, Op, Quoting, RuleMeta, Schema};
use rulelint::source::{SourceFile, Span};
use rulelint::suggest::{self, Exclusion, ExclusionField, ExclusionValue};

/// The file offset of an EQL rule's `query = '''…'''` content, when the
/// file holds it verbatim.
fn literal_query_offset(text: &str, query: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find("query = '''") {
        let mut start = from + i + "query = '''".len();
        if text[start..].starts_with('\n') {
            start += 1;
        } else if text[start..].starts_with("\r\n") {
            start += 2;
        }
        if text[start..].starts_with(query) {
            return Some(start);
        }
        from = start;
    }
    None
}

fn exclusion() -> Exclusion {
    Exclusion {
        name: "ci_agent".into(),
        fields: vec![
            ExclusionField {
                field: "process.parent.executable".into(),
                op: Op::EndsWith,
                values: vec![ExclusionValue {
                    text: "\\jenkins.exe".into(),
                    numeric: false,
                    origin: rulelint::suggest::ValueOrigin::Catalogue,
                }],
            },
            ExclusionField {
                field: "user.name".into(),
                op: Op::Eq,
                values: vec![
                    ExclusionValue {
                        text: "svc \"ci\"".into(),
                        numeric: false,
                        origin: rulelint::suggest::ValueOrigin::Catalogue,
                    },
                    ExclusionValue {
                        text: "jenkins".into(),
                        numeric: false,
                        origin: rulelint::suggest::ValueOrigin::Catalogue,
                    },
                ],
            },
        ],
    }
}

fn step_of(steps: &[Span], s: Span) -> Option<usize> {
    steps
        .iter()
        .position(|st| s.start >= st.start && s.end <= st.end)
}

#[test]
fn eql_exclusions_apply_to_corpus_rules() {
    let Some(root) = common::corpus_dir("elastic", "EQL suggestion sweep") else {
        return;
    };
    let files = common::toml_files(&root);
    let excl = exclusion();
    let (mut rules, mut applied, mut wrapped, mut multi_step) = (0, 0, 0, 0);
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Some(query) = common::rule_query(&text, "eql") else {
            continue;
        };
        let Some(base) = literal_query_offset(&text, &query) else {
            continue;
        };
        let parsed = eql::parse(&query);
        assert!(!parsed.has_errors(), "{}", path.display());
        rules += 1;

        // the first positive comparison outside `event.category` triggers
        let mut trigger = None;
        parsed.logic.visit_cmps(&mut |c, neg| {
            if trigger.is_none() && !neg && c.field.raw != "event.category" {
                trigger = Some(c.span);
            }
        });
        let Some(trigger) = trigger else { continue };
        let Some(step) = step_of(&parsed.anchors.steps, trigger) else {
            continue;
        };

        let mut logic = parsed.logic.clone();
        logic.map_spans(&|s: Span| s.shift(base));
        let rule = DetectionRule {
            format: Format::Elastic,
            language: Language::Eql,
            schema: Schema::Ecs,
            meta: RuleMeta::default(),
            logic: Some(logic),
            anchors: Anchors {
                query: Some(Span::new(base, base + query.len())),
                query_quoting: Some(Quoting::TomlMultiLiteral),
                steps: parsed.anchors.steps.iter().map(|s| s.shift(base)).collect(),
                steps_need_parens: parsed.anchors.steps_need_parens.clone(),
                ..Anchors::default()
            },
            span: Span::new(0, text.len()),
        };
        let file = SourceFile::new(path.clone(), text.clone());
        let (s, notes) = suggest::render_with_notes(&rule, &file, &excl, &[trigger.shift(base)])
            .unwrap_or_else(|| panic!("{}: no suggestion", path.display()));
        // Code only: the step goes to the help.
        assert!(
            s.text.starts_with("and not ("),
            "{}: {}",
            path.display(),
            s.text
        );
        assert!(!s.fix.edits.is_empty(), "{}: no edits", path.display());
        if s.fix.edits.len() > 1 {
            wrapped += 1;
        }
        if parsed.anchors.steps.len() > 1 {
            multi_step += 1;
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains(&format!("sequence step {} ", step + 1))),
                "{}: {notes:?}",
                path.display()
            );
        }

        let mut edited = text.clone();
        let mut edits = s.fix.edits.clone();
        edits.sort_by_key(|e| std::cmp::Reverse(e.offset));
        for e in &edits {
            edited.replace_range(e.offset..e.offset + e.length, &e.replacement);
        }
        let new_query = common::rule_query(&edited, "eql")
            .unwrap_or_else(|| panic!("{}: edited file is not valid TOML", path.display()));
        let reparsed = eql::parse(&new_query);
        assert!(
            !reparsed.has_errors(),
            "{}: edited query does not parse: {:?}\n{new_query}",
            path.display(),
            reparsed.issues
        );
        let mut hits = Vec::new();
        reparsed.logic.visit_cmps(&mut |c, neg| {
            if neg && c.field.raw == "user.name" && c.values.iter().any(|v| v.text == "svc \"ci\"")
            {
                hits.push(c.span);
            }
        });
        assert_eq!(hits.len(), 1, "{}: {new_query}", path.display());
        assert_eq!(
            step_of(&reparsed.anchors.steps, hits[0]),
            Some(step),
            "{}: exclusion in the wrong step\n{new_query}",
            path.display()
        );
        applied += 1;
    }
    println!(
        "EQL suggestions: {rules} rules, {applied} exclusions applied and re-parsed \
         ({wrapped} with the condition wrapped in parentheses, {multi_step} in multi-step queries)"
    );
}
