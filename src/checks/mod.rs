//! The check registry.
//!
//! Every code rulelint can emit is declared once, in the file of the check
//! that emits it, with [`declare_check!`](crate::declare_check): its doc
//! comment (which feeds `rulelint explain`, the SARIF rule metadata and
//! `docs/checks.md`), code, name, category, default severity and fix kind.
//! The list below names each declaration once; it generates the typed
//! [`Code`] enum, [`CHECKS`] and the checks the lint loop runs.
//!
//! Adding a check: a new file here with its `declare_check!` and its
//! [`Check`] impl, one line `module::Type [runs],` in `registry!` below,
//! and a fixture folder `tests/fixtures/<check_name>/`.

pub mod ambiguous_yaml_scalar;
pub mod bypassable_exclusion;
pub mod commandline_only_selection;
mod declare;
pub mod diagnostic;
pub mod documented_fp_unhandled;
pub mod fp_notes_missing;
pub mod invalid_suppression;
pub mod known_fp_pattern;
pub mod literal_wildcard;
pub mod modifier_misuse;
pub mod noop_exclusion;
pub mod parse;
pub mod placeholder_value;
pub mod proposal;
pub mod tstats_without_datamodel;
pub mod unknown_field;
pub mod unreachable_logic;
pub mod unused_suppression;

pub use declare::{
    Category, Check, CheckContext, CheckMeta, Declared, Environment, FixAvailability,
};

/// The registry: each declared code once, as `module::Type`, in the order
/// of the documentation; `[runs]` marks the checks the lint loop runs on
/// each parsed rule (they implement [`Check`]). The other codes are
/// emitted by the readers, parsers and the suppression pass.
macro_rules! registry {
    ($($module:ident :: $ty:ident $([$runs:ident])?),+ $(,)?) => {
        /// Every code rulelint can emit.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($ty),+
        }

        /// The declaration of every code, in [`Code`] order.
        pub const CHECKS: &[CheckMeta] = &[$($module::$ty::META),+];

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$ty),+];
        }

        /// The checks that run on each parsed rule, in order.
        pub(crate) static RULE_CHECKS: &[&dyn Check] = &[$($(runs!($runs, &$module::$ty),)?)+];
    };
}

macro_rules! runs {
    (runs, $check:expr) => {
        $check
    };
}

registry! {
    parse::InternalError,
    parse::UnreadableFile,
    parse::InvalidYaml,
    parse::InvalidToml,
    parse::InvalidRuleStructure,
    parse::UnknownModifier,
    parse::InvalidCondition,
    parse::UnknownSelection,
    parse::InvalidQuery,
    parse::LegacyConstruct,
    parse::OpaqueQueryPart,
    parse::UnknownQueryLanguage,
    parse::EmptyRuleFile,
    parse::DuplicateKey,
    tstats_without_datamodel::TstatsWithoutDatamodel [runs],
    unused_suppression::UnusedSuppression,
    invalid_suppression::InvalidSuppression,
    known_fp_pattern::KnownFpPattern [runs],
    documented_fp_unhandled::DocumentedFpUnhandled [runs],
    fp_notes_missing::FpNotesMissing [runs],
    placeholder_value::PlaceholderValue [runs],
    unknown_field::UnknownField [runs],
    bypassable_exclusion::BypassableExclusion [runs],
    noop_exclusion::NoopExclusion [runs],
    unreachable_logic::UnreachableLogic [runs],
    literal_wildcard::LiteralWildcard [runs],
    ambiguous_yaml_scalar::AmbiguousYamlScalar [runs],
    commandline_only_selection::CommandlineOnlySelection [runs],
    modifier_misuse::ModifierMisuse [runs],
}

impl Code {
    pub fn meta(self) -> &'static CheckMeta {
        &CHECKS[self as usize]
    }

    /// `RL201`.
    pub fn as_str(self) -> &'static str {
        self.meta().code
    }

    /// `known-fp-pattern`.
    pub fn name(self) -> &'static str {
        self.meta().name
    }

    pub fn category(self) -> Category {
        self.meta().category
    }

    /// The code with this exact code string (`RL201`), as parsers name
    /// their issues.
    pub fn from_code(code: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// Look a code up by code (`RL201`) or name (`known-fp-pattern`),
    /// case-insensitively.
    pub fn find(name: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.as_str().eq_ignore_ascii_case(name) || c.name().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Look up a check by code (`RL201`) or name (`known-fp-pattern`),
/// case-insensitively.
pub fn find(name: &str) -> Option<&'static CheckMeta> {
    Code::find(name).map(Code::meta)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique_and_well_formed() {
        let mut codes = HashSet::new();
        let mut names = HashSet::new();
        for c in Code::ALL {
            let m = c.meta();
            assert!(codes.insert(m.code), "duplicate code {}", m.code);
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            assert!(
                m.code.len() == 5
                    && m.code.starts_with("RL")
                    && m.code[2..].bytes().all(|b| b.is_ascii_digit()),
                "{}",
                m.code
            );
            assert!(
                m.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                m.name
            );
            assert!(!m.summary().is_empty(), "{} has no summary", m.code);
            assert!(!m.doc().is_empty(), "{} has no documentation", m.code);
            assert_eq!(Code::find(m.code), Some(*c));
            assert_eq!(Code::find(m.name), Some(*c));
            assert_eq!(Code::from_code(m.code), Some(*c));
        }
    }

    #[test]
    fn the_enum_and_the_table_agree() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(*c as usize, i);
            assert_eq!(c.meta(), &CHECKS[i]);
        }
        assert_eq!(CHECKS.len(), Code::ALL.len());
    }

    #[test]
    fn every_rule_check_is_declared_once_and_not_a_parse_code() {
        let mut seen = HashSet::new();
        for c in RULE_CHECKS {
            assert!(seen.insert(c.code()), "{} listed twice", c.code());
            assert_ne!(c.code().category(), Category::Parse, "{}", c.code());
        }
    }

    #[test]
    fn docs_lose_the_doc_comment_indent() {
        let m = Code::TstatsWithoutDatamodel.meta();
        assert_eq!(
            m.summary(),
            "A Splunk `tstats` search uses datamodel fields but names no datamodel."
        );
        assert!(m.doc().starts_with("## Why\n\nWithout `from datamodel=…`"));
        assert!(m.doc().contains("\n```spl\n| tstats count where"));
    }
}
