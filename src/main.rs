#![forbid(unsafe_code)]

use clap::Parser;
use std::io::Write;

fn main() {
    rulelint::lint::install_panic_hook();
    let cli = match rulelint::cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            if !e.use_stderr() {
                let _ = e.print();
                std::process::exit(0);
            }
            let shown = rulelint::report::sanitize::stderr(&e.render().to_string());
            let _ = std::io::stderr().write_all(shown.as_bytes());
            std::process::exit(2);
        }
    };
    let out = rulelint::cli::run(cli);
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    if !out.stderr.is_empty() {
        let shown = rulelint::report::sanitize::stderr(&out.stderr);
        let _ = std::io::stderr().write_all(shown.as_bytes());
    }
    std::process::exit(out.code);
}
