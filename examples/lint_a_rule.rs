//! Using rulelint as a library: lint one rule held in memory and print each
//! finding with its suggested exclusion.
//!
//! ```sh
//! cargo run --example lint_a_rule
//! ```

use rulelint::{lint_source, Knowledge, LintOptions, SourceFile};

const RULE: &str = "\
title: IRC connection to the Internet
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        Initiated: 'true'
        DestinationPort:
            - 6667
            - 6697
    condition: selection
level: medium
";

fn main() {
    let knowledge = match Knowledge::builtin() {
        Ok(k) => k,
        Err(errors) => {
            for e in errors {
                eprintln!("{e}");
            }
            std::process::exit(2);
        }
    };
    // Organisation facts fill the exclusions instead of placeholders.
    let mut options = LintOptions::default();
    options
        .environment
        .insert("developer_hosts".into(), vec!["10.20.0.0/16".into()]);

    let file = SourceFile::new("irc.yml", RULE);
    let result = lint_source(&knowledge, &options, file, "irc.yml", true);
    for d in &result.diagnostics {
        println!(
            "{}:{}:{} {} {}: {}",
            d.file,
            d.position.line,
            d.position.column,
            d.code,
            d.pattern.as_deref().unwrap_or(d.check()),
            d.message
        );
        if let Some(s) = &d.suggestion {
            println!("{}\n", s.text);
        }
    }
}
