//! What a rule's comparisons say about the values of one field, and two
//! questions about such value sets: can an event satisfy both, and does one
//! hold every value of the other.
//!
//! A comparison `field <op> values` becomes a [`ValueSet`]: a list of
//! alternatives (any of the values), each a conjunction of [`Atom`]s (all
//! of them, Sigma `|all`). An atom is an exact value, a prefix, a suffix, a
//! substring, or something this model does not reason about (a glob, a
//! regex, `null`). The answers are *proofs*: `disjoint` and `covers` say
//! `true` only when it holds for every string, and `false` when it does not
//! or when it cannot be told.
//!
//! Case: every engine compares either exactly or ignoring (ASCII) case.
//! Disjointness is always decided on lower-cased text (two values that
//! differ even ignoring case differ exactly too), so it holds under either
//! semantics. Coverage ignores case only when the covering comparison does
//! (Sigma without `|cased`, EQL `:` / `~`); otherwise it compares exactly.
//! Text outside ASCII is never case-folded: with it, values that would only
//! differ by case are not called disjoint.
//!
//! [`requirements`] collects the value sets every match of a subtree must
//! satisfy, per field; [`alternatives`] writes a subtree (an exclusion) as
//! a disjunction of conjunctions of comparisons.

use super::logic::{Cmp, Logic, Op, Parsed};
use super::Language;

/// Most pairs of alternatives two sets are compared by.
const MAX_PAIRS: usize = 100_000;

/// The shape of one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The whole value.
    Eq,
    /// The value starts with the text.
    Prefix,
    /// The value ends with the text.
    Suffix,
    /// The value contains the text.
    Contains,
    /// A glob, a regex, `null`: not reasoned about.
    Unknown,
}

/// One value test.
#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    pub shape: Shape,
    pub text: String,
    /// The engine ignores case for this test.
    pub fold: bool,
    /// The value is an integer (compared as one against another integer).
    pub int: Option<i64>,
    /// `text` lower-cased, when it is ASCII.
    lower: Option<String>,
}

/// The values a comparison accepts: any of `alts`, each all of its atoms.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueSet {
    pub alts: Vec<Vec<Atom>>,
}

impl Atom {
    pub fn new(shape: Shape, text: impl Into<String>, fold: bool) -> Atom {
        let text = text.into();
        let int = if shape == Shape::Eq {
            int_of(&text)
        } else {
            None
        };
        Atom {
            shape,
            lower: folded(&text),
            text,
            fold,
            int,
        }
    }
}

fn int_of(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// `text` lower-cased when every character is ASCII; `None` otherwise.
fn folded(text: &str) -> Option<String> {
    text.is_ascii().then(|| text.to_ascii_lowercase())
}

/// Can no string pass both tests? (`true` only when provable.)
pub fn atoms_disjoint(a: &Atom, b: &Atom) -> bool {
    use Shape::*;
    if a.shape == Unknown || b.shape == Unknown {
        return false;
    }
    if let (Eq, Eq, Some(x), Some(y)) = (a.shape, b.shape, a.int, b.int) {
        return x != y;
    }
    let (Some(x), Some(y)) = (a.lower.as_deref(), b.lower.as_deref()) else {
        return false;
    };
    match (a.shape, b.shape) {
        (Eq, Eq) => x != y,
        (Eq, Prefix) => !x.starts_with(y),
        (Prefix, Eq) => !y.starts_with(x),
        (Eq, Suffix) => !x.ends_with(y),
        (Suffix, Eq) => !y.ends_with(x),
        (Eq, Contains) => !x.contains(y),
        (Contains, Eq) => !y.contains(x),
        (Prefix, Prefix) => !x.starts_with(y) && !y.starts_with(x),
        (Suffix, Suffix) => !x.ends_with(y) && !y.ends_with(x),
        // A long enough string has any prefix, suffix and substrings.
        _ => false,
    }
}

/// Does every string that passes `inner` pass `outer`? (`true` only when
/// provable.)
pub fn atom_covers(outer: &Atom, inner: &Atom) -> bool {
    use Shape::*;
    if outer.shape == Unknown || inner.shape == Unknown {
        return false;
    }
    if let (Eq, Eq, Some(x), Some(y)) = (outer.shape, inner.shape, outer.int, inner.int) {
        return x == y;
    }
    // An exact outer test covers a case-insensitive inner one only in the
    // degenerate case of text without letters; keep it simple: no.
    let (o, i) = if outer.fold {
        match (outer.lower.as_deref(), inner.lower.as_deref()) {
            (Some(o), Some(i)) => (o, i),
            _ => return false,
        }
    } else if inner.fold {
        return false;
    } else {
        (outer.text.as_str(), inner.text.as_str())
    };
    match (outer.shape, inner.shape) {
        (Eq, Eq) => o == i,
        (Prefix, Eq | Prefix) => i.starts_with(o),
        (Suffix, Eq | Suffix) => i.ends_with(o),
        (Contains, _) => i.contains(o),
        _ => false,
    }
}

impl ValueSet {
    /// The union: a value of either set.
    pub fn union(mut self, other: ValueSet) -> ValueSet {
        self.alts.extend(other.alts);
        self
    }

    /// Whether comparing the two sets pairwise stays cheap; beyond that
    /// nothing is concluded.
    fn small_enough(&self, other: &ValueSet) -> bool {
        self.alts.len().saturating_mul(other.alts.len()) <= MAX_PAIRS
    }

    /// No value is in both sets (provably).
    pub fn disjoint(&self, other: &ValueSet) -> bool {
        self.small_enough(other)
            && !self.alts.is_empty()
            && !other.alts.is_empty()
            && self.alts.iter().all(|a| {
                other
                    .alts
                    .iter()
                    .all(|b| a.iter().any(|x| b.iter().any(|y| atoms_disjoint(x, y))))
            })
    }

    /// Every value of `inner` is in this set (provably).
    pub fn covers(&self, inner: &ValueSet) -> bool {
        self.small_enough(inner)
            && !inner.alts.is_empty()
            && inner.alts.iter().all(|alt| {
                // `alt` holds all its atoms, so it is inside an outer
                // alternative when each of that alternative's atoms covers
                // one of them.
                self.alts.iter().any(|o| {
                    !o.is_empty() && o.iter().all(|x| alt.iter().any(|y| atom_covers(x, y)))
                })
            })
    }
}

/// Whether the engine ignores case for this comparison: Sigma unless
/// `|cased` (regexes aside, which this model does not read), EQL `:`,
/// `~` and `in~`. KQL, SPL, ES|QL and Lucene depend on the field's mapping
/// or the command, so they count as exact.
pub fn ignores_case(cmp: &Cmp, language: Language) -> bool {
    match language {
        Language::Sigma => !cmp.modifiers.iter().any(|m| m == "cased"),
        Language::Eql => cmp.modifiers.iter().any(|m| m == "case_insensitive"),
        Language::Kql | Language::Esql | Language::Lucene | Language::Spl => false,
    }
}

/// The values `cmp` accepts, or `None` for a comparison that is not a test
/// on text or numbers (ranges, address blocks, presence, field
/// references) or that transforms its values first (Sigma `base64`,
/// `windash`, …).
pub fn value_set(cmp: &Cmp, language: Language) -> Option<ValueSet> {
    if cmp.values.is_empty()
        || cmp
            .modifiers
            .iter()
            .any(|m| m != "case_insensitive" && m != "cased")
    {
        return None;
    }
    let shape = match cmp.op {
        Op::Eq => Shape::Eq,
        Op::StartsWith => Shape::Prefix,
        Op::EndsWith => Shape::Suffix,
        Op::Contains => Shape::Contains,
        Op::Wildcard | Op::Regex => Shape::Unknown,
        _ => return None,
    };
    // KQL and Lucene search a `text` field for the words of the value, not
    // the whole value: an equality there is not an exact value.
    let shape = if shape == Shape::Eq
        && matches!(language, Language::Kql | Language::Lucene)
        && is_free_text(&cmp.field.raw)
    {
        Shape::Unknown
    } else {
        shape
    };
    let fold = ignores_case(cmp, language);
    let atoms = cmp.values.iter().map(|v| {
        let shape = if matches!(v.parsed, Parsed::Null) {
            Shape::Unknown
        } else {
            shape
        };
        Atom::new(shape, v.text.clone(), fold)
    });
    let alts = if cmp.all {
        vec![atoms.collect()]
    } else {
        atoms.map(|a| vec![a]).collect()
    };
    Some(ValueSet { alts })
}

/// Fields that hold free text (analysed as words by Elasticsearch).
fn is_free_text(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    [
        "text",
        "message",
        "command_line",
        "description",
        "title",
        "body",
        "query",
    ]
    .iter()
    .any(|w| f.contains(w))
}

/// The key a comparison's field is compared by: its name as written;
/// `None` for a field computed inside the query (it may be reassigned).
pub fn field_key(cmp: &Cmp) -> Option<&str> {
    (!cmp.field.derived).then_some(cmp.field.raw.as_str())
}

/// Fields that may hold several values in one event (ECS arrays such as
/// `event.category`, `process.args`, `related.*`, `host.ip`): two
/// different values can both be present, so exact values do not exclude
/// each other there.
pub fn may_hold_several_values(field: &str) -> bool {
    let f = field.to_ascii_lowercase();
    let last = f.rsplit('.').next().unwrap_or(&f);
    f.starts_with("related.")
        || f.starts_with("threat.")
        || f.starts_with("dns.answers")
        || f.contains("roles")
        || matches!(
            f.as_str(),
            "event.category"
                | "event.type"
                | "tags"
                | "host.ip"
                | "host.mac"
                | "dns.resolved_ip"
                | "file.attributes"
                | "registry.data.strings"
                | "process.env_vars"
        )
        || matches!(last, "args" | "strings" | "domains" | "values")
        || f.contains("list")
}

/// A required comparison: the field's values must be in `set`.
#[derive(Debug, Clone)]
pub struct Requirement<'a> {
    pub set: ValueSet,
    /// The comparisons the requirement comes from.
    pub from: Vec<&'a Cmp>,
}

/// What every match of a subtree satisfies, per field key: each listed
/// requirement holds (a conjunction).
#[derive(Debug, Clone, Default)]
pub struct Requirements<'a> {
    pub fields: Vec<(&'a str, Vec<Requirement<'a>>)>,
}

impl<'a> Requirements<'a> {
    pub fn on(&self, field: &str) -> &[Requirement<'a>] {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, r)| r.as_slice())
            .unwrap_or(&[])
    }

    /// Add every requirement of `other` (both hold).
    pub fn merge(&mut self, other: Requirements<'a>) {
        for (k, rs) in other.fields {
            match self.fields.iter_mut().find(|(f, _)| *f == k) {
                Some((_, v)) => v.extend(rs),
                None => self.fields.push((k, rs)),
            }
        }
    }

    /// Keep only the requirements from comparisons `keep` accepts.
    pub fn retain(&mut self, keep: impl Fn(&Cmp) -> bool) {
        for (_, rs) in &mut self.fields {
            rs.retain(|r| r.from.iter().all(|c| keep(c)));
        }
        self.fields.retain(|(_, rs)| !rs.is_empty());
    }
}

/// The positive requirements every match of `logic` satisfies: every
/// comparison under an `and`; under an `or`, a field that every branch
/// constrains, with the union of the branches' values. Exclusions,
/// free-text keywords and what the parser could not model add nothing
/// (the requirements hold of a superset of the matches, which is what a
/// proof of disjointness or coverage needs).
pub fn requirements<'a>(logic: &'a Logic, language: Language) -> Requirements<'a> {
    match logic {
        Logic::Cmp(c) => {
            let (Some(k), Some(set)) = (field_key(c), value_set(c, language)) else {
                return Requirements::default();
            };
            Requirements {
                fields: vec![(k, vec![Requirement { set, from: vec![c] }])],
            }
        }
        Logic::And(xs) => {
            let mut out = Requirements::default();
            for x in xs {
                out.merge(requirements(x, language));
            }
            out
        }
        Logic::Or(xs) => {
            let mut branches = xs.iter().map(|x| requirements(x, language));
            let Some(first) = branches.next() else {
                return Requirements::default();
            };
            // One requirement per field and branch (any one of a branch's
            // requirements holds of its matches).
            let mut out: Vec<(&str, Requirement)> = first
                .fields
                .into_iter()
                .filter_map(|(k, mut rs)| (!rs.is_empty()).then(|| (k, rs.swap_remove(0))))
                .collect();
            for b in branches {
                out.retain_mut(|(k, r)| {
                    let Some(mine) = b.on(k).first() else {
                        return false;
                    };
                    r.set = std::mem::take(&mut r.set).union(mine.set.clone());
                    r.from.extend(mine.from.iter().copied());
                    true
                });
            }
            Requirements {
                fields: out.into_iter().map(|(k, r)| (k, vec![r])).collect(),
            }
        }
        Logic::Shared(x) => requirements(x, language),
        Logic::Not(_) | Logic::Keyword(_) | Logic::Opaque(_) => Requirements::default(),
    }
}

/// One alternative of an exclusion: all of `cmps` hold.
#[derive(Debug, Clone, Default)]
pub struct Conjunction<'a> {
    pub cmps: Vec<&'a Cmp>,
    /// The alternative also holds a part that is not a plain comparison
    /// (a nested `not`, a keyword, an opaque part): it matches *at most*
    /// what `cmps` match.
    pub extra: bool,
}

/// `logic` as a disjunction of conjunctions (at most `limit` of them;
/// `None` beyond that).
pub fn alternatives(logic: &Logic, limit: usize) -> Option<Vec<Conjunction<'_>>> {
    match logic {
        Logic::Cmp(c) => Some(vec![Conjunction {
            cmps: vec![c],
            extra: false,
        }]),
        Logic::Or(xs) => {
            let mut out = Vec::new();
            for x in xs {
                out.extend(alternatives(x, limit)?);
                if out.len() > limit {
                    return None;
                }
            }
            Some(out)
        }
        Logic::And(xs) => {
            let mut out = vec![Conjunction::default()];
            for x in xs {
                let next = alternatives(x, limit)?;
                if out.len() * next.len() > limit {
                    return None;
                }
                let mut product = Vec::with_capacity(out.len() * next.len());
                for a in &out {
                    for b in &next {
                        let mut c = a.clone();
                        c.cmps.extend(b.cmps.iter().copied());
                        c.extra |= b.extra;
                        product.push(c);
                    }
                }
                out = product;
            }
            Some(out)
        }
        Logic::Shared(x) => alternatives(x, limit),
        Logic::Not(_) | Logic::Keyword(_) | Logic::Opaque(_) => Some(vec![Conjunction {
            cmps: Vec::new(),
            extra: true,
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rule::logic::{Field, Value};
    use crate::source::Span;

    fn a(shape: Shape, t: &str) -> Atom {
        Atom::new(shape, t, true)
    }

    fn exact(shape: Shape, t: &str) -> Atom {
        Atom::new(shape, t, false)
    }

    fn any(atoms: Vec<Atom>) -> ValueSet {
        ValueSet {
            alts: atoms.into_iter().map(|x| vec![x]).collect(),
        }
    }

    fn cmp(field: &str, op: Op, values: &[&str]) -> Cmp {
        Cmp::new(
            Field::new(field, Span::default()),
            op,
            values
                .iter()
                .map(|v| Value::string(*v, Span::default()))
                .collect(),
            Span::default(),
        )
    }

    use Shape::*;

    #[test]
    fn exact_values_against_shapes() {
        assert!(atoms_disjoint(&a(Eq, "admin"), &a(Contains, "AUTHORI")));
        assert!(!atoms_disjoint(
            &a(Eq, "NT AUTHORITY\\SYSTEM"),
            &a(Contains, "authori")
        ));
        assert!(atoms_disjoint(&a(Eq, "a"), &a(Eq, "b")));
        assert!(!atoms_disjoint(&a(Eq, "CMD.exe"), &exact(Eq, "cmd.exe")));
        assert!(atoms_disjoint(&a(Eq, "c:\\x.exe"), &a(Prefix, "d:\\")));
        assert!(!atoms_disjoint(&a(Prefix, "d:\\"), &a(Eq, "D:\\x")));
        assert!(atoms_disjoint(
            &a(Suffix, "\\cmd.exe"),
            &a(Eq, "c:\\powershell.exe")
        ));
        assert!(atoms_disjoint(&a(Eq, "4688"), &a(Eq, "1")));
        assert!(!atoms_disjoint(&a(Eq, "01"), &a(Eq, "1")), "same integer");
    }

    #[test]
    fn prefixes_and_suffixes() {
        assert!(atoms_disjoint(
            &a(Suffix, "\\cmd.exe"),
            &a(Suffix, "\\powershell.exe")
        ));
        assert!(!atoms_disjoint(
            &a(Suffix, "\\cmd.exe"),
            &a(Suffix, "cmd.exe")
        ));
        assert!(atoms_disjoint(
            &a(Prefix, "c:\\windows\\"),
            &a(Prefix, "c:\\users\\")
        ));
        assert!(!atoms_disjoint(
            &a(Prefix, "c:\\windows\\"),
            &a(Prefix, "C:\\")
        ));
        // Any two of prefix, suffix and substring fit in one long string.
        assert!(!atoms_disjoint(&a(Prefix, "a"), &a(Suffix, "b")));
        assert!(!atoms_disjoint(&a(Contains, "a"), &a(Contains, "b")));
        assert!(!atoms_disjoint(&a(Unknown, "a*"), &a(Eq, "b")));
    }

    #[test]
    fn non_ascii_text_is_not_case_folded_for_disjointness() {
        assert!(!atoms_disjoint(&a(Eq, "Ä"), &a(Eq, "ä")));
    }

    #[test]
    fn coverage() {
        assert!(atom_covers(&a(Suffix, ".EXE"), &a(Suffix, "\\cmd.exe")));
        assert!(atom_covers(&a(Contains, "cmd"), &a(Eq, "c:\\CMD.exe")));
        assert!(atom_covers(&a(Prefix, "c:\\"), &a(Prefix, "C:\\Windows\\")));
        assert!(!atom_covers(&a(Suffix, ".exe"), &a(Contains, ".exe")));
        assert!(!atom_covers(&a(Prefix, "c:\\"), &a(Suffix, "\\cmd.exe")));
        // Exact outer: case matters, and a case-insensitive inner is
        // never covered.
        assert!(!atom_covers(
            &exact(Suffix, ".EXE"),
            &exact(Suffix, "\\cmd.exe")
        ));
        assert!(atom_covers(
            &exact(Suffix, ".exe"),
            &exact(Suffix, "\\cmd.exe")
        ));
        assert!(!atom_covers(
            &exact(Suffix, ".exe"),
            &a(Suffix, "\\cmd.exe")
        ));
    }

    #[test]
    fn sets_are_disjoint_when_every_pair_of_alternatives_is() {
        let sel = any(vec![a(Suffix, "\\cmd.exe"), a(Suffix, "\\powershell.exe")]);
        assert!(sel.disjoint(&any(vec![a(Suffix, "\\wscript.exe")])));
        assert!(!sel.disjoint(&any(vec![a(Suffix, "\\wscript.exe"), a(Eq, "c:\\cmd.exe")])));
        // `|all`: one atom of the conjunction excluding the other side is enough.
        let all = ValueSet {
            alts: vec![vec![a(Contains, "x"), a(Suffix, "\\cmd.exe")]],
        };
        assert!(all.disjoint(&any(vec![a(Eq, "c:\\x\\calc.exe")])));
        assert!(!ValueSet::default().disjoint(&sel));
    }

    #[test]
    fn huge_sets_conclude_nothing() {
        let big_a = any((0..400).map(|i| a(Eq, &format!("a{i}"))).collect());
        let big_b = any((0..400).map(|i| a(Eq, &format!("b{i}"))).collect());
        assert!(!big_a.disjoint(&big_b), "160,000 pairs are past the bound");
        let small = any(vec![a(Eq, "c")]);
        assert!(big_a.disjoint(&small));
    }

    #[test]
    fn sets_cover_when_every_inner_alternative_is_inside() {
        let sel = any(vec![a(Suffix, "\\cmd.exe"), a(Suffix, "\\powershell.exe")]);
        assert!(any(vec![a(Suffix, ".exe")]).covers(&sel));
        assert!(!any(vec![a(Suffix, "\\cmd.exe")]).covers(&sel));
        let all = ValueSet {
            alts: vec![vec![a(Contains, "zz"), a(Suffix, ".exe")]],
        };
        assert!(!all.covers(&sel), "needs both atoms");
        assert!(any(vec![a(Suffix, ".exe")]).covers(&all));
    }

    #[test]
    fn value_sets_of_comparisons() {
        let c = cmp("Image", Op::EndsWith, &["\\cmd.exe", "\\pwsh.exe"]);
        let s = value_set(&c, Language::Sigma).expect("modelled");
        assert_eq!(s.alts.len(), 2);
        assert!(s.alts[0][0].fold);
        let mut cased = c.clone();
        cased.modifiers.push("cased".into());
        assert!(!value_set(&cased, Language::Sigma).expect("modelled").alts[0][0].fold);
        assert!(!value_set(&c, Language::Kql).expect("modelled").alts[0][0].fold);
        let mut b64 = c.clone();
        b64.modifiers.push("base64offset".into());
        assert!(value_set(&b64, Language::Sigma).is_none());
        assert!(value_set(&cmp("Port", Op::Gt, &["5"]), Language::Sigma).is_none());
        let text = cmp("powershell.file.script_block_text", Op::Eq, &["Get-X"]);
        assert_eq!(
            value_set(&text, Language::Kql).expect("modelled").alts[0][0].shape,
            Shape::Unknown
        );
        assert_eq!(
            value_set(&text, Language::Eql).expect("modelled").alts[0][0].shape,
            Shape::Eq
        );
        let mut all = cmp("CommandLine", Op::Contains, &["a", "b"]);
        all.all = true;
        assert_eq!(
            value_set(&all, Language::Sigma)
                .expect("modelled")
                .alts
                .len(),
            1
        );
    }

    fn leaf(c: Cmp) -> Logic {
        Logic::Cmp(c)
    }

    #[test]
    fn requirements_of_and_or() {
        let l = Logic::and(vec![
            leaf(cmp("Image", Op::EndsWith, &["\\cmd.exe"])),
            Logic::or(vec![
                leaf(cmp("User", Op::Contains, &["AUTHORI"])),
                Logic::and(vec![
                    leaf(cmp("User", Op::Eq, &["root"])),
                    leaf(cmp("Host", Op::Eq, &["h"])),
                ]),
            ]),
            Logic::not(leaf(cmp("Host", Op::Eq, &["x"]))),
        ]);
        let r = requirements(&l, Language::Sigma);
        assert_eq!(r.on("Image").len(), 1);
        let user = r.on("User");
        assert_eq!(user.len(), 1);
        assert_eq!(user[0].set.alts.len(), 2, "the union of both branches");
        assert!(r.on("Host").is_empty(), "one branch only, and an exclusion");
    }

    #[test]
    fn alternatives_of_an_exclusion() {
        let l = Logic::or(vec![
            Logic::and(vec![
                leaf(cmp("A", Op::Eq, &["1"])),
                Logic::or(vec![
                    leaf(cmp("B", Op::Eq, &["2"])),
                    leaf(cmp("C", Op::Eq, &["3"])),
                ]),
            ]),
            Logic::Keyword(crate::rule::Keyword {
                values: Vec::new(),
                span: Span::default(),
            }),
        ]);
        let alts = alternatives(&l, 16).expect("small");
        assert_eq!(alts.len(), 3);
        assert_eq!(alts[0].cmps.len(), 2);
        assert!(alts[2].extra && alts[2].cmps.is_empty());
        assert!(alternatives(&l, 2).is_none());
    }

    #[test]
    fn several_valued_fields() {
        for f in [
            "event.category",
            "process.args",
            "related.user",
            "host.ip",
            "Event.Type",
        ] {
            assert!(may_hold_several_values(f), "{f}");
        }
        for f in ["process.name", "Image", "User", "source.ip", "event.code"] {
            assert!(!may_hold_several_values(f), "{f}");
        }
    }
}
