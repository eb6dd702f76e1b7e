//! `RL302 unknown-field`.

use super::proposal::Finding;
use super::{Check, CheckContext, Declared};
use crate::declare_check;
use crate::diagnostic::Diagnostic;
use crate::did_you_mean::did_you_mean;
use crate::rule::{Cmp, DetectionRule, Language, Schema};
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

declare_check! {
    /// The rule compares a field its log source does not have.
    ///
    /// ## Why
    ///
    /// A misspelt field (`proces.name`, `CommandLne`, `Processes.proces_name`)
    /// exists in no event: the comparison never matches, so the selection it
    /// belongs to never fires, and an exclusion on it removes nothing. The
    /// query is valid, so no engine reports it.
    ///
    /// Fields are checked against the schema the rule's log source is
    /// described by, shipped with rulelint under `knowledge/schemas/`:
    ///
    /// * **Sigma**: SigmaHQ's field list of the rule's `logsource` (product
    ///   and category or service), only for log sources the list describes.
    ///   Field names are case-sensitive in most backends, so a name that
    ///   differs from the listed one only in case is reported too.
    /// * **Elastic** (KQL, EQL, ES|QL, Lucene): the Elastic Common Schema,
    ///   for fields under an ECS field set (`process.*`, `destination.*`,
    ///   …). Fields of an integration's own namespace (`winlog.*`,
    ///   `aws.*`, `okta.*`, …) and vendor extensions inside a field set
    ///   (any part written with a capital letter: `process.Ext.*`,
    ///   `file.Ext.*`) cannot be known and are never reported.
    /// * **Splunk**: the CIM datamodel fields of the dataset a `tstats` or
    ///   `datamodel` search reads (`Processes.process_name`,
    ///   `All_Traffic.dest_port`), for the datasets listed.
    ///
    /// A custom or unknown log source is never reported, nor a Sigma field
    /// that the logsource's `definition` names (the rule documents an
    /// enrichment that adds it).
    ///
    /// ## Example
    ///
    /// Flagged:
    ///
    /// ```yaml
    /// logsource:
    ///     category: process_creation
    ///     product: windows
    /// detection:
    ///     selection:
    ///         CommandLne|contains: ' -enc '
    ///     condition: selection
    /// ```
    ///
    /// Clean:
    ///
    /// ```yaml
    /// logsource:
    ///     category: process_creation
    ///     product: windows
    /// detection:
    ///     selection:
    ///         CommandLine|contains: ' -enc '
    ///     condition: selection
    /// ```
    ///
    /// ## Fix
    ///
    /// Use the field's name as the log source spells it; the help suggests
    /// the closest known field. If the field is real but missing from the
    /// schema (a custom pipeline), suppress the finding on that rule.
    pub struct UnknownField {
        code: "RL302",
        name: "unknown-field",
        category: Logic,
        severity: Warning,
        fix: None,
    }
}

/// ECS field names, one a line; `name.*` marks an object or flattened
/// field whose sub-fields are free.
const ECS_FIELDS: &str = include_str!("../../knowledge/schemas/ecs/fields.txt");

/// Fields Elastic integrations add inside ECS field sets, by index pattern
/// part: `part<TAB>prefix prefix …`.
const ECS_INTEGRATIONS: &str = include_str!("../../knowledge/schemas/ecs/integrations.tsv");

/// Top-level namespaces of integrations, never checked.
const ECS_INTEGRATION_NAMESPACES: &str =
    include_str!("../../knowledge/schemas/ecs/integration-namespaces.txt");

/// CIM datamodel fields, `Dataset.field`, one a line.
const CIM_FIELDS: &str = include_str!("../../knowledge/schemas/splunk-cim/fields.txt");

/// How many ECS findings of one rule get a did-you-mean.
const MAX_ECS_SUGGESTIONS: usize = 32;

/// The schemas, read once.
struct Schemas {
    /// Every ECS field, with every prefix of one (`process.parent`).
    ecs: HashSet<&'static str>,
    /// The ECS fields themselves (no prefixes), for suggestions.
    ecs_fields: Vec<&'static str>,
    /// Integration namespaces outside ECS (`winlog`, `aws`).
    namespaces: HashSet<&'static str>,
    /// ECS fields whose sub-fields are free (`labels`, `container.labels`).
    ecs_open: Vec<&'static str>,
    /// The top-level ECS names: field sets and root fields.
    ecs_sets: HashSet<&'static str>,
    /// Index pattern part → field prefixes the integration adds.
    integrations: Vec<(&'static str, Vec<&'static str>)>,
    /// CIM dataset → its fields.
    cim: HashMap<&'static str, Vec<&'static str>>,
    /// Sigma product → (common fields, category or service → fields), as
    /// written (case kept); keys lower-case.
    sigma: HashMap<String, SigmaProduct>,
}

#[derive(Default)]
struct SigmaProduct {
    common: Vec<String>,
    sources: HashMap<String, Vec<String>>,
}

fn data_lines(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

fn schemas() -> &'static Schemas {
    static SCHEMAS: OnceLock<Schemas> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let mut ecs = HashSet::new();
        let mut ecs_open = Vec::new();
        let mut ecs_sets = HashSet::new();
        let mut ecs_fields = Vec::new();
        for line in data_lines(ECS_FIELDS) {
            let name = match line.strip_suffix(".*") {
                Some(open) => {
                    ecs_open.push(open);
                    open
                }
                None => line,
            };
            ecs_sets.insert(name.split('.').next().unwrap_or(name));
            ecs.insert(name);
            ecs_fields.push(name);
            for (i, b) in name.bytes().enumerate() {
                if b == b'.' {
                    ecs.insert(&name[..i]);
                }
            }
        }
        let mut cim: HashMap<&str, Vec<&str>> = HashMap::new();
        for line in data_lines(CIM_FIELDS) {
            if let Some((set, field)) = line.split_once('.') {
                cim.entry(set).or_default().push(field);
            }
        }
        let integrations = data_lines(ECS_INTEGRATIONS)
            .filter_map(|l| l.split_once('\t'))
            .map(|(part, prefixes)| (part.trim(), prefixes.split_whitespace().collect()))
            .collect();
        Schemas {
            ecs,
            ecs_fields,
            namespaces: data_lines(ECS_INTEGRATION_NAMESPACES).collect(),
            ecs_open,
            ecs_sets,
            integrations,
            cim,
            sigma: sigma_products(crate::knowledge::BUILTIN_SIGMA_LOGSOURCES.1),
        }
    })
}

/// SigmaHQ's log source list with the names' case kept (the catalogue's
/// own copy is lower-cased for matching concepts).
fn sigma_products(text: &str) -> HashMap<String, SigmaProduct> {
    let mut out: HashMap<String, SigmaProduct> = HashMap::new();
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return out;
    };
    let strings = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    for part in ["legit", "addon"] {
        let Some(products) = json.get(part).and_then(|p| p.as_object()) else {
            continue;
        };
        for (product, p) in products {
            let e = out.entry(product.to_ascii_lowercase()).or_default();
            e.common.extend(strings(p.get("common")));
            for kind in ["category", "service"] {
                let Some(sources) = p.get(kind).and_then(|s| s.as_object()) else {
                    continue;
                };
                for (name, fields) in sources {
                    e.sources
                        .entry(name.to_ascii_lowercase())
                        .or_default()
                        .extend(strings(Some(fields)));
                }
            }
        }
    }
    out
}

/// The fields of the Sigma log source named by `words` (the rule's
/// lower-case logsource values), as written; `None` when the list does not
/// describe it, or does not describe one of the categories and services
/// the rule names (a legacy `action: global` document merged into another
/// names two).
fn sigma_fields<'a>(s: &'a Schemas, words: &[String]) -> Option<(String, Vec<&'a str>)> {
    let (pname, product) = words
        .iter()
        .find_map(|w| s.sigma.get_key_value(w.as_str()))
        .or_else(|| s.sigma.get_key_value("empty"))?;
    let mut out: Vec<&str> = Vec::new();
    let mut named = Vec::new();
    for w in words {
        match product.sources.get(w.as_str()) {
            Some(list) if !list.is_empty() => {
                named.push(w.as_str());
                out.extend(list.iter().map(String::as_str));
            }
            None if w == pname => {}
            // A category or service the list does not describe: the rule
            // may read fields from it, so nothing can be said.
            _ => return None,
        }
    }
    if named.is_empty() {
        return None;
    }
    out.extend(product.common.iter().map(String::as_str));
    let label = if pname == "empty" {
        named.join("/")
    } else {
        format!("{pname}/{}", named.join("/"))
    };
    Some((label, out))
}

/// What is wrong with a field, for the message.
struct Unknown {
    /// Where the field is looked up, for the message (`ECS`, `the Sigma
    /// log source windows/process_creation`).
    source: String,
    suggestion: Option<String>,
    /// The field differs from a known one only in case.
    case_only: bool,
}

/// Is `name` an ECS field? `None` when it cannot be told (not under an ECS
/// field set, a vendor extension).
fn check_ecs(s: &Schemas, name: &str, extra: &[&str], suggest: bool) -> Option<Unknown> {
    let name = name.trim_start_matches('?');
    if name.is_empty()
        || name.contains(['*', '?', ' ', '(', '`', '"', '\''])
        || name.starts_with('_')
        || name.starts_with('.')
        || name.ends_with('.')
    {
        return None;
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let (top, rest) = name.split_once('.').unwrap_or((name, ""));
    if !s.ecs_sets.contains(top) {
        return misspelt_field_set(s, top, rest);
    }
    if s.ecs.contains(name) {
        return None;
    }
    // Multi-fields the Elastic integrations add to keyword fields.
    if let Some((base, last)) = name.rsplit_once('.') {
        if matches!(last, "text" | "caseless" | "keyword") && s.ecs.contains(base) {
            return None;
        }
    }
    if s.ecs_open.iter().chain(extra).any(|o| {
        name.strip_prefix(o)
            .is_some_and(|r| r.is_empty() || r.starts_with('.'))
    }) {
        return None;
    }
    let suggestion = suggest
        .then(|| suggest_dotted(name, s.ecs_fields.iter().copied(), &s.ecs))
        .flatten();
    Some(Unknown {
        source: "ECS".to_string(),
        suggestion,
        case_only: false,
    })
}

/// A top-level name that is not an ECS field set nor an integration's
/// namespace, one letter away from a field set, with the rest of the name a
/// field of that set (`proces.name`): a misspelt field set. Anything else
/// outside ECS cannot be told.
fn misspelt_field_set(s: &Schemas, top: &str, rest: &str) -> Option<Unknown> {
    if rest.is_empty() || top.len() < 3 || s.namespaces.contains(top) {
        return None;
    }
    let set = s
        .ecs_sets
        .iter()
        .copied()
        .filter(|set| strsim::damerau_levenshtein(top, set) == 1)
        .find(|set| s.ecs.contains(format!("{set}.{rest}").as_str()))?;
    Some(Unknown {
        source: format!("ECS (no field set `{top}`)"),
        suggestion: Some(format!("{set}.{rest}")),
        case_only: false,
    })
}

/// The closest known dotted name: a name with one `_` written for a `.`
/// (`process.parent_name`), then among those of the same depth (a misspelt
/// part), then among all.
fn suggest_dotted<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
    all: &HashSet<&str>,
) -> Option<String> {
    for (i, b) in name.bytes().enumerate() {
        if b == b'_' || b == b'.' {
            let other = if b == b'_' { "." } else { "_" };
            let swapped = format!("{}{other}{}", &name[..i], &name[i + 1..]);
            if all.contains(swapped.as_str()) && known.clone().any(|k| k == swapped) {
                return Some(swapped);
            }
        }
    }
    let depth = name.matches('.').count();
    let (parent, _) = name.rsplit_once('.').unwrap_or(("", name));
    // A misspelt last part: a sibling under the same parent.
    let siblings = known.clone().filter(|k| {
        k.rsplit_once('.').map(|(p, _)| p) == Some(parent) && k.matches('.').count() == depth
    });
    if let Some(s) = did_you_mean(name, siblings) {
        return Some(s.to_string());
    }
    did_you_mean(name, known.filter(|k| k.matches('.').count() == depth)).map(str::to_string)
}

/// Is `name` a field of a CIM dataset? `None` when not a `Dataset.field`
/// name of a listed dataset.
fn check_cim(s: &Schemas, name: &str) -> Option<Unknown> {
    let (set, field) = name.split_once('.')?;
    let fields = s.cim.get(set)?;
    if field.is_empty() || field.contains(['*', '.', ' ']) || fields.contains(&field) {
        return None;
    }
    if let Some(exact) = fields.iter().find(|f| f.eq_ignore_ascii_case(field)) {
        // Splunk field names are case-sensitive: a case-only difference
        // is a different field.
        return Some(Unknown {
            source: format!("the CIM dataset `{set}`"),
            suggestion: Some(format!("{set}.{exact}")),
            case_only: true,
        });
    }
    Some(Unknown {
        source: format!("the CIM dataset `{set}`"),
        suggestion: did_you_mean(field, fields.iter().copied()).map(|f| format!("{set}.{f}")),
        case_only: false,
    })
}

/// Is `name` a field of the Sigma log source? The caller has the list.
fn check_sigma(label: &str, fields: &[&str], name: &str) -> Option<Unknown> {
    if name.is_empty() || fields.contains(&name) {
        return None;
    }
    let source = format!("the Sigma log source `{label}`");
    if let Some(exact) = fields.iter().find(|f| f.eq_ignore_ascii_case(name)) {
        return Some(Unknown {
            source,
            suggestion: Some((*exact).to_string()),
            case_only: true,
        });
    }
    Some(Unknown {
        source,
        suggestion: did_you_mean(name, fields.iter().copied()).map(str::to_string),
        case_only: false,
    })
}

/// The field prefixes the integrations a rule reads add inside ECS field
/// sets, told by its index patterns or its ES|QL `FROM` sources.
fn integration_prefixes(ctx: &CheckContext<'_>, rule: &DetectionRule) -> Vec<&'static str> {
    let mut sources: Vec<String> = rule.meta.data.clone();
    if rule.language == Language::Esql {
        if let Some(q) = rule
            .anchors
            .query
            .and_then(|q| ctx.file.text.get(q.start..q.end))
        {
            let first = q.split('|').next().unwrap_or("").trim_start();
            if first
                .get(..5)
                .is_some_and(|w| w.eq_ignore_ascii_case("from "))
            {
                sources.extend(
                    first[5..]
                        .split_whitespace()
                        .take_while(|w| !w.eq_ignore_ascii_case("metadata"))
                        .flat_map(|w| w.split(','))
                        .filter(|w| !w.is_empty())
                        .map(str::to_ascii_lowercase),
                );
            }
        }
    }
    schemas()
        .integrations
        .iter()
        .filter(|(part, _)| sources.iter().any(|src| src.contains(part)))
        .flat_map(|(_, prefixes)| prefixes.iter().copied())
        .collect()
}

/// SPL: the search reads a datamodel (`tstats … from datamodel=…` or the
/// `datamodel` command), so `Dataset.field` names are datamodel fields.
fn reads_datamodel(ctx: &CheckContext<'_>, rule: &DetectionRule) -> bool {
    rule.anchors.tstats.iter().any(|t| t.names_datamodel)
        || rule
            .anchors
            .query
            .and_then(|q| ctx.file.text.get(q.start..q.end))
            .is_some_and(|t| {
                t.split('|')
                    .any(|cmd| cmd.trim_start().starts_with("datamodel "))
            })
}

impl UnknownField {
    fn report(
        &self,
        ctx: &CheckContext<'_>,
        rule: &DetectionRule,
        cmp: &Cmp,
        negated: bool,
        u: Unknown,
        out: &mut Vec<Finding>,
    ) {
        let written = ctx
            .file
            .text
            .get(cmp.field.span.start..cmp.field.span.end)
            .filter(|t| !t.is_empty() && t.len() <= cmp.field.raw.len() + 2)
            .unwrap_or(cmp.field.raw.as_str());
        let shown = if written.contains(cmp.field.raw.as_str()) {
            cmp.field.raw.as_str()
        } else {
            written
        };
        let effect = if negated {
            "the exclusion it belongs to removes nothing"
        } else {
            "the comparison never matches"
        };
        let message = if u.case_only {
            format!(
                "`{shown}` is not a field of {}, which spells it `{}`: field names are case-sensitive, so {effect}",
                u.source,
                u.suggestion.as_deref().unwrap_or_default()
            )
        } else {
            format!("`{shown}` is not a field of {}: {effect}", u.source)
        };
        let help = match &u.suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => "use a field the log source has, or suppress this finding if your data adds the field".to_string(),
        };
        out.push(
            Diagnostic::new(self.code(), ctx, cmp.field.span, message)
                .with_rule(rule)
                .with_help(help)
                .into(),
        );
    }
}

impl Check for UnknownField {
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>) {
        let Some(logic) = &rule.logic else {
            return;
        };
        let s = schemas();
        let sigma = match rule.schema {
            Schema::Sigma => match sigma_fields(s, &rule.meta.data) {
                Some(f) => Some(f),
                None => return,
            },
            Schema::Splunk if !reads_datamodel(ctx, rule) => return,
            _ => None,
        };
        let extra = match rule.schema {
            Schema::Ecs => integration_prefixes(ctx, rule),
            _ => Vec::new(),
        };
        // Sigma: a logsource `definition` that names a field says the data
        // is enriched with it (`Works only if … ParentIntegrityLevel …`).
        let definitions: Vec<&str> = match rule.schema {
            Schema::Sigma => ctx
                .file
                .text
                .get(rule.span.start..rule.span.end)
                .unwrap_or("")
                .lines()
                .filter(|l| l.trim_start().starts_with("definition:"))
                .collect(),
            _ => Vec::new(),
        };
        let mut seen = HashSet::new();
        // Searching ECS for a suggestion costs a pass over its fields: a
        // rule gets that many, the rest of its findings none.
        let mut suggestions = MAX_ECS_SUGGESTIONS;
        logic.visit_cmps(&mut |cmp, negated| {
            if cmp.field.derived || !seen.insert(cmp.field.span) {
                return;
            }
            let name = cmp.field.raw.as_str();
            if definitions.iter().any(|d| d.contains(name)) {
                return;
            }
            let unknown = match (rule.schema, &sigma) {
                (Schema::Sigma, Some((label, fields))) => check_sigma(label, fields, name),
                (Schema::Ecs, _) => {
                    let u = check_ecs(s, name, &extra, suggestions > 0);
                    suggestions = suggestions.saturating_sub(usize::from(u.is_some()));
                    u
                }
                (Schema::Splunk, _) => check_cim(s, name),
                _ => None,
            };
            if let Some(u) = unknown {
                self.report(ctx, rule, cmp, negated, u, out);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecs_misspellings_and_missing_fields() {
        let s = schemas();
        for ok in [
            "process.name",
            "process.parent.name",
            "process.command_line.text",
            "file.path.caseless",
            "@timestamp",
            "labels.team",
            "process.Ext.api.name",
            "winlog.event_data.TargetUserName",
            "aws.cloudtrail.event_type",
            "?process.name",
            "process.parent",
        ] {
            assert!(check_ecs(s, ok, &[], true).is_none(), "{ok}");
        }
        let u = check_ecs(s, "process.comand_line", &[], true).expect("misspelt");
        assert_eq!(u.suggestion.as_deref(), Some("process.command_line"));
        let u = check_ecs(s, "destination.prot", &[], true).expect("misspelt");
        assert_eq!(u.suggestion.as_deref(), Some("destination.port"));
        assert!(check_ecs(s, "process.parent_name", &[], true).is_some());
        assert!(check_ecs(s, "gen_ai.prompt", &[], true).is_some());
        assert!(check_ecs(s, "gen_ai.prompt", &["gen_ai"], true).is_none());
        let u = check_ecs(s, "process.parent_name", &[], true).expect("no such field");
        assert_eq!(u.suggestion.as_deref(), Some("process.parent.name"));
        let u = check_ecs(s, "process.comand_line", &[], false).expect("misspelt");
        assert_eq!(u.suggestion, None);
        // A misspelt field set, when the rest is a field of the set.
        let u = check_ecs(s, "proces.name", &[], true).expect("misspelt set");
        assert_eq!(u.suggestion.as_deref(), Some("process.name"));
        // Integration namespaces and other names outside ECS cannot be told.
        for ok in [
            "proces.whatever",
            "icmp.request.type",
            "zeek.http.uri",
            "acme.name",
        ] {
            assert!(check_ecs(s, ok, &[], true).is_none(), "{ok}");
        }
    }

    #[test]
    fn cim_fields_of_a_listed_dataset() {
        let s = schemas();
        assert!(check_cim(s, "Processes.process_name").is_none());
        assert!(check_cim(s, "Custom.anything").is_none());
        let u = check_cim(s, "Processes.proces_name").expect("misspelt");
        assert_eq!(u.suggestion.as_deref(), Some("Processes.process_name"));
        let u = check_cim(s, "Authentication.usr").expect("misspelt");
        assert_eq!(u.suggestion.as_deref(), Some("Authentication.user"));
        let u = check_cim(s, "Processes.Process_Name").expect("case");
        assert!(u.case_only);
    }

    #[test]
    fn sigma_fields_of_a_described_log_source() {
        let s = schemas();
        let words = |w: &[&str]| w.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (label, fields) =
            sigma_fields(s, &words(&["process_creation", "windows"])).expect("described");
        assert_eq!(label, "windows/process_creation");
        assert!(check_sigma(&label, &fields, "CommandLine").is_none());
        assert!(check_sigma(&label, &fields, "EventID").is_none());
        let u = check_sigma(&label, &fields, "CommandLne").expect("misspelt");
        assert_eq!(u.suggestion.as_deref(), Some("CommandLine"));
        let u = check_sigma(&label, &fields, "commandline").expect("case");
        assert!(u.case_only);
        assert!(sigma_fields(s, &words(&["my_custom_source", "acme"])).is_none());
        assert!(sigma_fields(s, &words(&["process_creation", "windows", "system"])).is_none());
        assert!(sigma_fields(s, &words(&["process_creation", "windows", "custom"])).is_none());
    }
}
