//! Keeping a failure inside rulelint on one input from taking the run down
//! or printing what it read: [`catching`] turns a panic into an error
//! value, and the panic hook keeps caught panics off stderr.

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;

thread_local! {
    /// Set while [`catching`] runs: the panic hook records instead of
    /// printing.
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// Where the last caught panic happened (`src/x.rs:12`).
    static PANIC_AT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Run `f`, turning a panic into `Err(location)`. Nothing is printed for a
/// panic caught here once [`install_panic_hook`] ran.
pub fn catching<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let was = CATCHING.with(|c| c.replace(true));
    let r = std::panic::catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(was));
    r.map_err(|_| PANIC_AT.with(|p| std::mem::take(&mut *p.borrow_mut())))
}

/// Keep panics that the linter catches (they become `RL000` diagnostics)
/// off stderr; any other panic prints one line naming where it happened.
/// The panic's own message, which may quote rule text, is never printed.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if CATCHING.with(Cell::get) {
            PANIC_AT.with(|p| *p.borrow_mut() = at);
        } else {
            eprintln!("rulelint: internal error at {at}; please report it");
        }
    }));
}
