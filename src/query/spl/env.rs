//! The field environment of an SPL pipeline: which names exist after each
//! command and which event field each one holds.
//!
//! * `rename a as b` and `eval b=a` make `b` hold the event field `a`;
//! * `eval`/`stats` outputs, lookup outputs and `rex` groups are derived;
//! * `stats`/`tstats`/`table`/`fields` close the set of names: after them
//!   only the listed names exist;
//! * `` `drop_dm_object_name(P)` `` renames every known `P.x` to `x`.
//!
//! `Field::raw` for a name is the event field it holds, written without a
//! datamodel prefix that `drop_dm_object_name` removed (the unprefixed CIM
//! name, which the concept table maps).
//!
//! The environment is persistent: a clone (one per pipeline stage) shares
//! everything with the original, and each command copies only what it
//! changes, so a search of `n` commands keeps `n` environments in
//! O(n log n) memory.

use crate::rule::{FieldScope, PList, PMap};
use std::collections::BTreeMap;

/// What a name in the pipeline holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An event field (as named where it was read, e.g.
    /// `Processes.process_name`), possibly transformed (`lower`).
    Raw {
        field: String,
        modifiers: Vec<String>,
    },
    /// Computed in the query.
    Derived,
}

impl Origin {
    /// The event field a name holds as read (untransformed), if any.
    fn alias(&self) -> Option<String> {
        match self {
            Origin::Raw { field, modifiers } if modifiers.is_empty() => Some(field.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldEnv {
    /// Names whose origin is known.
    pub known: PMap<Origin>,
    /// Names renamed away or removed while the set was open.
    pub removed: PMap<()>,
    /// After an aggregation or projection only `known` names exist.
    pub closed: bool,
    /// Datamodel prefixes removed by `drop_dm_object_name`, newest first.
    pub dropped: PList<String>,
    /// `known` as the anchors record it (name → the field it holds as
    /// read), kept in step with `known`.
    aliases: PMap<Option<String>>,
}

impl FieldEnv {
    /// The names visible here, as recorded in a rule's anchors (shared
    /// with this environment, not copied).
    pub fn scope(&self) -> FieldScope {
        FieldScope {
            names: self.aliases.clone(),
            removed: self.removed.clone(),
            closed: self.closed,
            dropped: self.dropped.clone(),
        }
    }

    fn put(&mut self, name: &str, origin: Origin) {
        self.aliases.insert(name, origin.alias());
        self.known.insert(name, origin);
    }

    fn take(&mut self, name: &str) -> Option<Origin> {
        self.aliases.remove(name);
        self.known.remove(name)
    }

    fn set_known(&mut self, names: BTreeMap<String, Origin>) {
        self.aliases = names.iter().map(|(n, o)| (n, o.alias())).collect();
        self.known = names.into_iter().collect();
    }

    /// The origin of `name` as used at this point.
    pub fn origin(&self, name: &str) -> Origin {
        match self.known.get(name) {
            Some(o) => o.clone(),
            None => Origin::Raw {
                field: name.to_string(),
                modifiers: Vec::new(),
            },
        }
    }

    /// `raw` name for a field used here, whether it is derived, and the
    /// modifiers applied to it.
    pub fn resolve(&self, name: &str) -> (String, bool, Vec<String>) {
        match self.origin(name) {
            Origin::Derived => (name.to_string(), true, Vec::new()),
            Origin::Raw { field, modifiers } => (self.strip_dropped(&field), false, modifiers),
        }
    }

    /// `field` without a datamodel prefix removed by `drop_dm_object_name`
    /// (the first prefix dropped that matches).
    pub fn strip_dropped(&self, field: &str) -> String {
        let mut out = None;
        for p in self.dropped.iter() {
            if let Some(rest) = field
                .strip_prefix(p.as_str())
                .and_then(|r| r.strip_prefix('.'))
            {
                if !rest.is_empty() {
                    out = Some(rest);
                }
            }
        }
        out.unwrap_or(field).to_string()
    }

    /// Bind `name` to `origin` (an assignment or a rename target).
    pub fn bind(&mut self, name: &str, origin: Origin) {
        self.removed.remove(name);
        self.put(name, origin);
    }

    pub fn derive(&mut self, name: &str) {
        self.bind(name, Origin::Derived);
    }

    /// `rename from as to` (wildcards `*` in both: prefix/suffix patterns).
    pub fn rename(&mut self, from: &str, to: &str) {
        if from.contains('*') {
            self.rename_pattern(from, to);
            return;
        }
        let origin = self.origin(from);
        self.take(from);
        if !self.closed {
            self.removed.insert(from, ());
        }
        self.bind(to, origin);
    }

    fn rename_pattern(&mut self, from: &str, to: &str) {
        let Some((fp, fs)) = from.split_once('*') else {
            return;
        };
        let (tp, ts) = to.split_once('*').unwrap_or((to, ""));
        let names: Vec<String> = self.known.keys().map(str::to_string).collect();
        for n in names {
            if n.len() >= fp.len() + fs.len() && n.starts_with(fp) && n.ends_with(fs) {
                let mid = &n[fp.len()..n.len() - fs.len()];
                let new = format!("{tp}{mid}{ts}");
                if let Some(o) = self.take(&n) {
                    self.put(&new, o);
                }
            }
        }
        // `rename P.* as *` on an open set acts like dropping a prefix.
        if !self.closed && fs.is_empty() && tp.is_empty() && ts.is_empty() {
            if let Some(p) = fp.strip_suffix('.') {
                if !self.dropped.iter().any(|d| d == p) {
                    self.dropped.push(p.to_string());
                }
            }
        }
    }

    /// `` `drop_dm_object_name(prefix)` ``.
    pub fn drop_prefix(&mut self, prefix: &str) {
        let names: Vec<String> = self.known.keys().map(str::to_string).collect();
        for n in names {
            if let Some(rest) = n.strip_prefix(prefix).and_then(|r| r.strip_prefix('.')) {
                if rest.is_empty() {
                    continue;
                }
                let rest = rest.to_string();
                if let Some(o) = self.take(&n) {
                    self.put(&rest, o);
                }
            }
        }
        if !self.dropped.iter().any(|d| d == prefix) {
            self.dropped.push(prefix.to_string());
        }
    }

    /// After `stats`/`tstats`/`table`: only these names exist.
    pub fn close(&mut self, names: BTreeMap<String, Origin>) {
        self.set_known(names);
        self.removed = PMap::default();
        self.closed = true;
    }

    /// `table`/`fields`: keep the listed names (globs allowed).
    pub fn project(&mut self, patterns: &[String]) {
        let mut keep = BTreeMap::new();
        for p in patterns {
            if p.contains('*') {
                for (n, o) in self.known.iter() {
                    if glob(p, n) {
                        keep.insert(n.to_string(), o.clone());
                    }
                }
                if !self.closed {
                    // Unknown event fields may match the glob too.
                    return;
                }
            } else if self.closed {
                if let Some(o) = self.known.get(p) {
                    keep.insert(p.clone(), o.clone());
                }
            } else if !self.removed.contains_key(p) {
                keep.insert(p.clone(), self.origin(p));
            }
        }
        self.close(keep);
    }

    /// `fields - a b`: remove names.
    pub fn remove(&mut self, patterns: &[String]) {
        for p in patterns {
            let gone: Vec<String> = self
                .known
                .keys()
                .filter(|n| glob(p, n))
                .map(str::to_string)
                .collect();
            for n in gone {
                self.take(&n);
            }
            if !self.closed && !p.contains('*') {
                self.removed.insert(p, ());
            }
        }
    }

    /// Whether a name exists at this point (a known name, or any event
    /// field while the set is open).
    pub fn has(&self, name: &str) -> bool {
        if self.known.contains_key(name) {
            return true;
        }
        !self.closed && !self.removed.contains_key(name)
    }

    /// The name under which the event field `field` (named as in the
    /// datamodel, `Processes.process_name`, or raw, `Computer`) can be
    /// referenced here, if it still exists.
    pub fn name_for(&self, field: &str) -> Option<String> {
        let want = self.strip_dropped(field);
        let mut best: Option<&str> = None;
        for (n, o) in self.known.iter() {
            if let Origin::Raw {
                field: f,
                modifiers,
            } = o
            {
                if modifiers.is_empty() && (f == field || self.strip_dropped(f) == want) {
                    // Prefer the name that is the field itself.
                    if best.is_none() || n == want {
                        best = Some(n);
                    }
                }
            }
        }
        if let Some(n) = best {
            return Some(n.to_string());
        }
        if self.closed {
            return None;
        }
        // Open set: the field is visible under its own (unprefixed) name,
        // unless that name was renamed away or now holds something else.
        if self.removed.contains_key(&want) || self.known.contains_key(&want) {
            return None;
        }
        Some(want)
    }

    /// Names bound in `other` (a joined subsearch) that this set lacks.
    pub fn merge(&mut self, other: &FieldEnv) {
        for (n, o) in other.known.iter() {
            if !self.known.contains_key(n) {
                self.put(n, o.clone());
            }
        }
        for d in other.dropped.to_vec() {
            if !self.dropped.contains(d) {
                self.dropped.push(d.clone());
            }
        }
    }
}

/// `*` glob match (case-sensitive, as field names are).
pub fn glob(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == name;
    }
    let mut rest = name;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(p) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(p);
        } else if let Some(pos) = rest.find(p) {
            rest = &rest[pos + p.len()..];
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(f: &str) -> Origin {
        Origin::Raw {
            field: f.into(),
            modifiers: vec![],
        }
    }

    #[test]
    fn tstats_drop_and_rename() {
        let mut e = FieldEnv::default();
        let mut m = BTreeMap::new();
        m.insert(
            "Processes.process_name".to_string(),
            raw("Processes.process_name"),
        );
        m.insert("count".to_string(), Origin::Derived);
        e.close(m);
        e.drop_prefix("Processes");
        assert_eq!(e.resolve("process_name").0, "process_name");
        assert_eq!(
            e.name_for("Processes.process_name").as_deref(),
            Some("process_name")
        );
        e.rename("process_name", "pn");
        assert_eq!(e.resolve("pn"), ("process_name".into(), false, vec![]));
        assert_eq!(e.name_for("Processes.process_name").as_deref(), Some("pn"));
        assert_eq!(e.name_for("Processes.dest"), None);
        assert!(e.resolve("count").1);
    }

    #[test]
    fn open_set_renames() {
        let mut e = FieldEnv::default();
        e.rename("Computer", "dest");
        assert_eq!(e.resolve("dest").0, "Computer");
        assert_eq!(e.name_for("Computer").as_deref(), Some("dest"));
        assert_eq!(e.name_for("EventCode").as_deref(), Some("EventCode"));
        assert!(!e.has("Computer"));
    }

    #[test]
    fn globs() {
        assert!(glob("Processes.*", "Processes.dest"));
        assert!(!glob("*time", "firstTime"));
        assert!(glob("*Time", "firstTime"));
        assert!(!glob("a*b", "ac"));
    }
}
