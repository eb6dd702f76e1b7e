//! The vocabulary of the check registry: what a check declares about itself
//! ([`CheckMeta`]), the [`Check`] trait the lint loop runs, and the
//! [`declare_check!`](crate::declare_check) macro that keeps a check's
//! documentation, code, category, severity and fix kind next to its code.

use super::proposal::Finding;
use super::Code;
use crate::diagnostic::Severity;
use crate::knowledge::Knowledge;
use crate::rule::DetectionRule;
use crate::source::SourceFile;
use std::collections::BTreeMap;

/// What a code is about. Questions such as "does this stop the file from
/// being checked?" ask the category, never the code's digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// The file cannot be read or parsed (`RL0xx`): an error here means the
    /// rule was not checked.
    Parse,
    /// The rule's metadata (`RL1xx`).
    Metadata,
    /// Inline suppression comments (`RL10x`).
    Suppression,
    /// Exposure to known false positives, driven by the catalogue (`RL2xx`).
    FalsePositive,
    /// The rule's logic cannot do what it intends (`RL3xx`, and `RL014`).
    Logic,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Parse => "parse",
            Category::Metadata => "metadata",
            Category::Suppression => "suppression",
            Category::FalsePositive => "false-positive",
            Category::Logic => "logic",
        }
    }
}

/// Whether a check's findings come with an edit `--fix` can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    /// Some findings carry a fix (see their applicability).
    Sometimes,
    Always,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Sometimes => "sometimes",
            FixAvailability::Always => "always",
        }
    }
}

/// What a check declares about itself; one per [`Code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckMeta {
    /// `RL201`: stable, never reused.
    pub code: &'static str,
    /// `known-fp-pattern`: kebab-case, names what is flagged.
    pub name: &'static str,
    pub category: Category,
    /// Default severity (configuration can change it).
    pub severity: Severity,
    pub fix: FixAvailability,
    /// The check's doc comment as written: the first line is the summary,
    /// the rest the documentation.
    pub docs: &'static str,
}

impl CheckMeta {
    /// One line.
    pub fn summary(&self) -> &'static str {
        self.docs.lines().next().unwrap_or("").trim()
    }

    /// Markdown after the summary: *What it does*, *Why*, *Example*,
    /// *Fix safety*.
    pub fn doc(&self) -> String {
        let body: Vec<&str> = self
            .docs
            .lines()
            .skip(1)
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        body.join("\n").trim().to_string()
    }
}

/// Organisation facts (configuration `[environment]`): fact name → values.
pub type Environment = BTreeMap<String, Vec<String>>;

/// What a check sees besides the rule.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    pub knowledge: &'a Knowledge,
    pub environment: &'a Environment,
    pub file: &'a SourceFile,
    /// The path as shown in output.
    pub display: &'a str,
}

/// What [`declare_check!`](crate::declare_check) implements for every
/// declared code.
pub trait Declared {
    fn code(&self) -> Code;
}

/// A check that runs on each parsed rule. Codes emitted elsewhere (parse
/// errors, suppression comments) are declared but do not implement it.
pub trait Check: Declared + Sync {
    /// Append the findings on `rule` to `out`: each a diagnostic and, for
    /// checks that suggest an exclusion, what to exclude (written in the
    /// rule's language by the rendering stage after the checks).
    fn check_rule(&self, ctx: &CheckContext<'_>, rule: &DetectionRule, out: &mut Vec<Finding>);
}

/// Declare a check: the doc comment is its documentation (first line the
/// summary), the fields its code, name, category, default severity and fix
/// availability. Generates a unit struct with a `META` constant; list the
/// struct once in `checks::registry!`.
#[macro_export]
macro_rules! declare_check {
    (
        $(#[doc = $doc:literal])+
        $vis:vis struct $ty:ident {
            code: $code:literal,
            name: $name:literal,
            category: $cat:ident,
            severity: $sev:ident,
            fix: $fix:ident $(,)?
        }
    ) => {
        $(#[doc = $doc])+
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $ty;

        impl $ty {
            pub const META: $crate::checks::CheckMeta = $crate::checks::CheckMeta {
                code: $code,
                name: $name,
                category: $crate::checks::Category::$cat,
                severity: $crate::diagnostic::Severity::$sev,
                fix: $crate::checks::FixAvailability::$fix,
                docs: concat!($($doc, "\n"),+),
            };
        }

        impl $crate::checks::Declared for $ty {
            fn code(&self) -> $crate::checks::Code {
                $crate::checks::Code::$ty
            }
        }
    };
}
