#![no_main]
//! The Splunk file reader (YAML, scalar decoding and the SPL parser): no
//! panic, every span inside the file.

use libfuzzer_sys::fuzz_target;
use rulelint::source::SourceFile;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = rulelint_fuzz::text(data) {
        let file = SourceFile::new("rule.yml", text);
        let parsed = rulelint::format::splunk::parse(&file);
        rulelint_fuzz::check_file(text, &parsed);
    }
});
