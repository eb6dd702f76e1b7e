//! The effective settings as TOML (`rulelint config`).

use super::read::{At, Config};
use super::settings::Settings;
use crate::diagnostic::Severity;
use crate::fsio::DEFAULT_MAX_FILE_SIZE;
use crate::knowledge::facts::fact_kinds;
use crate::knowledge::Knowledge;
use toml_edit::Value;

impl Config {
    /// The effective settings as TOML (`rulelint config`).
    pub fn to_toml(&self, settings: &Settings, knowledge: &Knowledge) -> String {
        let mut s = String::new();
        match &self.file {
            Some(_) => s.push_str(&format!("# Effective settings, from {}\n", self.display)),
            None => s.push_str("# Effective settings: defaults (no rulelint.toml found)\n"),
        }
        s.push_str(&format!(
            "# Paths are relative to {}\n\n",
            self.root.display()
        ));
        s.push_str(&format!("select = {}\n", toml_list(&self.base.select)));
        if self.base.select.is_empty() {
            s.push_str("# (empty select: every check)\n");
        }
        s.push_str(&format!("ignore = {}\n", toml_list(&self.base.ignore)));
        s.push_str(&format!(
            "fail-on = {}\n",
            toml_str(settings.fail_on.unwrap_or(Severity::Warning).as_str())
        ));
        s.push_str(&format!(
            "max-file-size = {}\n",
            settings.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE)
        ));
        s.push_str("\n[severity]\n");
        for (k, v) in &self.base.severity {
            s.push_str(&format!(
                "{} = {}\n",
                toml_key(&k.value),
                toml_str(v.as_str())
            ));
        }
        s.push_str("\n[environment]\n");
        for (k, v) in &settings.environment {
            let list: Vec<String> = v.iter().map(|x| toml_str(x)).collect();
            s.push_str(&format!("{} = [{}]\n", toml_key(k), list.join(", ")));
        }
        let unset: Vec<String> = fact_kinds(knowledge)
            .into_iter()
            .filter(|(n, _)| !settings.environment.contains_key(n))
            .map(|(n, _)| n)
            .collect();
        if !unset.is_empty() {
            s.push_str(&format!("# not set: {}\n", unset.join(", ")));
        }
        s.push_str("\n[knowledge]\n");
        s.push_str(&format!("extend = {}\n", toml_list(&self.extend)));
        s.push_str(&format!("# {} patterns loaded\n", knowledge.patterns.len()));
        for o in &self.overrides {
            s.push_str("\n[[overrides]]\n");
            s.push_str(&format!("include = {}\n", toml_list(&o.include)));
            if !o.layer.select.is_empty() {
                s.push_str(&format!("select = {}\n", toml_list(&o.layer.select)));
            }
            if !o.layer.ignore.is_empty() {
                s.push_str(&format!("ignore = {}\n", toml_list(&o.layer.ignore)));
            }
            if !o.layer.severity.is_empty() {
                let kv: Vec<String> = o
                    .layer
                    .severity
                    .iter()
                    .map(|(k, v)| format!("{} = {}", toml_key(&k.value), toml_str(v.as_str())))
                    .collect();
                s.push_str(&format!("severity = {{ {} }}\n", kv.join(", ")));
            }
        }
        s
    }
}

fn toml_str(s: &str) -> String {
    Value::from(s).to_string().trim().to_string()
}

fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        s.to_string()
    } else {
        toml_str(s)
    }
}

fn toml_list(v: &[At<String>]) -> String {
    let items: Vec<String> = v.iter().map(|x| toml_str(&x.value)).collect();
    format!("[{}]", items.join(", "))
}
