#![no_main]
//! The Elastic file reader (TOML, string decoding and the query parser of
//! the rule's language): no panic, every span inside the file.

use libfuzzer_sys::fuzz_target;
use rulelint::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = rulelint_fuzz::text(data) {
        let file = SourceFile::new("rule.toml", text);
        let parsed = rulelint::format::elastic::parse(&file);
        rulelint_fuzz::check_file(text, &parsed);
    }
});
