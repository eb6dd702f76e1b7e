#![no_main]
//! The catalogue reader (`knowledge/*.yml` and `[knowledge] extend` files):
//! load fuzzed patterns on top of the built-in catalogue; when they load,
//! lint a rule of each format with them. No panic anywhere.

use libfuzzer_sys::fuzz_target;
use rulelint::{LintOptions, SourceFile};

const RULES: [(&str, &str); 3] = [
    (
        "rule.yml",
        "title: t\nlogsource:\n  category: network_connection\n  product: windows\ndetection:\n  selection:\n    DestinationPort: 6667\n    Image|endswith: '\\x.exe'\n  condition: selection\nlevel: medium\n",
    ),
    (
        "rule.toml",
        "[metadata]\ncreation_date = \"2024/01/01\"\n[rule]\nname = \"t\"\nrule_id = \"1\"\ntype = \"query\"\nlanguage = \"kuery\"\nquery = '''\nevent.category:network and destination.port:6667 and process.name:x.exe\n'''\n",
    ),
    (
        "splunk.yml",
        "name: t\nid: 1\nsearch: '| tstats count from datamodel=Network_Traffic where All_Traffic.dest_port=6667 by All_Traffic.src | `t_filter`'\n",
    ),
];

fuzz_target!(|data: &[u8]| {
    let Some(text) = rulelint_fuzz::text(data) else {
        return;
    };
    let mut k = rulelint_fuzz::knowledge().clone();
    match k.add_patterns("fuzz.yml", text) {
        Ok(()) => {
            let opts = LintOptions::default();
            for (name, rule) in RULES {
                let r = rulelint::lint_source(&k, &opts, SourceFile::new(name, rule), name, true);
                for d in &r.diagnostics {
                    rulelint_fuzz::check_span(rule, d.span, "diagnostic");
                }
            }
        }
        Err(errors) => {
            for e in &errors {
                if let Some(s) = e.span {
                    rulelint_fuzz::check_span(text, s, "catalogue error");
                }
                let _ = e.to_string();
            }
        }
    }
});
