//! `RL101 unused-suppression`, reported by the suppression pass
//! after every check has run.

use crate::declare_check;

declare_check! {
    /// A `rulelint: allow(...)` comment suppresses nothing.
    ///
    /// An inline suppression names a check or pattern that reports nothing
    /// on the lines it covers, usually because the rule was fixed since.
    /// Stale suppressions hide future findings, so remove them. Not
    /// reported for a file that could not be checked.
    ///
    /// **Example:** `# rulelint: allow(ephemeral-port) -- NAT replies` above
    /// a selection that no longer matches a high port.
    ///
    /// **Fix:** remove the id from the comment, or the comment when it names
    /// nothing else.
    pub struct UnusedSuppression {
        code: "RL101",
        name: "unused-suppression",
        category: Suppression,
        severity: Info,
        fix: None,
    }
}
