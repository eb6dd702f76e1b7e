//! `RL102 invalid-suppression`, reported by the suppression pass
//! that reads `rulelint:` comments.

use crate::declare_check;

declare_check! {
    /// A `rulelint:` comment is malformed or names an unknown check or pattern.
    ///
    /// The comment syntax is `# rulelint: allow(ID, ...) -- reason`, where
    /// each ID is a check code (`RL201`), a check name (`known-fp-pattern`)
    /// or a pattern id (`ephemeral-port`, see `rulelint patterns`). The
    /// message suggests the closest known id.
    ///
    /// **Fix:** correct the id or the comment.
    pub struct InvalidSuppression {
        code: "RL102",
        name: "invalid-suppression",
        category: Suppression,
        severity: Warning,
        fix: None,
    }
}
