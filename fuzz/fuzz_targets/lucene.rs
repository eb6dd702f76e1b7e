#![no_main]
//! The Lucene query parser: no panic, every span inside the query.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(q) = rulelint_fuzz::text(data) {
        let parsed = rulelint::query::lucene::parse(q);
        rulelint_fuzz::check_query(q, &parsed);
    }
});
