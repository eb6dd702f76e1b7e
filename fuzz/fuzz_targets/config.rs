#![no_main]
//! The configuration reader (`rulelint.toml`): parse, check the names
//! against the catalogue, render errors with their caret lines; no panic.

use libfuzzer_sys::fuzz_target;
use rulelint::config::Config;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Some(text) = rulelint_fuzz::text(data) else {
        return;
    };
    // Every line break counts, `\r\n`, `\n` or a lone `\r`.
    let lines = 1 + text.matches('\n').count() + text.matches('\r').count();
    let errors = match Config::parse("rulelint.toml", text, Path::new("/nonexistent")) {
        Ok(c) => match c.resolve(rulelint_fuzz::knowledge()) {
            Ok(settings) => {
                let _ = c.to_toml(&settings, rulelint_fuzz::knowledge());
                Vec::new()
            }
            Err(es) => es,
        },
        Err(es) => es,
    };
    for e in &errors {
        if let Some(l) = e.line {
            assert!(
                l >= 1 && l <= lines,
                "error line {l} outside the file: {e:?}"
            );
        }
        let _ = e.to_string();
    }
});
