//! `docs/checks.md` is generated from the check docs and the catalogue; this
//! test fails when it is stale. Regenerate with
//! `RULELINT_BLESS=1 cargo test --test docs`.

use rulelint::Knowledge;
use std::path::Path;

#[test]
fn checks_page_is_up_to_date() {
    let k = Knowledge::builtin().expect("catalogue");
    let want = rulelint::docs::checks_markdown(&k);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    if std::env::var_os("RULELINT_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/checks.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "docs/checks.md is stale: run `RULELINT_BLESS=1 cargo test --test docs`"
    );
}
