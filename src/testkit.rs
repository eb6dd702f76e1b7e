//! Helpers for the unit tests of the parsers: deterministic pseudo-random
//! generators and the "garbage in, no panic, spans in bounds" loop.

use crate::rule::{Cmp, Logic, ParseIssue};

/// A 64-bit linear congruential generator (Knuth's MMIX constants),
/// giving the high bits of its state.
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

/// xorshift64 (shifts 13, 7, 17).
pub(crate) struct Xorshift(pub(crate) u64);

impl Xorshift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n`; 0 (and no step) when `n` is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Calls `check` on 5000 deterministic garbage texts of up to 39
/// characters: every fifth one raw bytes (lossily decoded), the others
/// characters drawn from `alphabet`.
pub(crate) fn for_each_garbage(seed: u64, alphabet: &str, mut check: impl FnMut(&str)) {
    let alphabet: Vec<char> = alphabet.chars().collect();
    let mut rng = Lcg(seed);
    for i in 0..5000 {
        let len = rng.next() % 40;
        let text: String = if i % 5 == 0 {
            let bytes: Vec<u8> = (0..len).map(|_| (rng.next() % 256) as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..len)
                .map(|_| alphabet[rng.next() % alphabet.len()])
                .collect()
        };
        check(&text);
    }
}

/// Every issue's span ends inside `text`, on character boundaries.
pub(crate) fn assert_issue_spans(text: &str, issues: &[ParseIssue]) {
    for issue in issues {
        assert!(issue.span.end <= text.len(), "{text:?}: {issue:?}");
        assert!(text.is_char_boundary(issue.span.start), "{text:?}");
        assert!(text.is_char_boundary(issue.span.end), "{text:?}");
    }
}

/// The comparison `l` is; panics on any other node.
pub(crate) fn cmp(l: &Logic) -> &Cmp {
    match l {
        Logic::Cmp(c) => c,
        other => panic!("not a Cmp: {other:?}"),
    }
}

/// The texts of a comparison's values.
pub(crate) fn texts(c: &Cmp) -> Vec<&str> {
    c.values.iter().map(|v| v.text.as_str()).collect()
}
