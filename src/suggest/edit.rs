//! Writing into rule files: text escaped for the string that holds a
//! query, and the edits that extend an Elastic query string in place.
//! Every renderer writes its edits through here.

use crate::diagnostic::Edit;
use crate::format::elastic::string::{self, StrKind};
use crate::rule::Quoting;
use crate::source::{SourceFile, Span};

/// `text` escaped so that, inserted into a query string written as `q`,
/// it reads back as itself; `None` when that string cannot hold it (a
/// TOML literal string cannot hold its delimiter, a YAML plain scalar
/// cannot hold `: ` or ` #`).
pub fn escape(q: Quoting, text: &str) -> Option<String> {
    let one_line = !text.contains(['\n', '\r']);
    match q {
        Quoting::TomlBasic => string::encode(StrKind::Basic, text),
        Quoting::TomlMultiBasic => string::encode(StrKind::MultiBasic, text),
        Quoting::TomlLiteral => string::encode(StrKind::Literal, text),
        Quoting::TomlMultiLiteral => string::encode(StrKind::MultiLiteral, text),
        Quoting::YamlSingle => one_line.then(|| text.replace('\'', "''")),
        Quoting::YamlDouble => one_line.then(|| text.replace('\\', "\\\\").replace('"', "\\\"")),
        Quoting::YamlBlock => Some(text.to_string()),
        Quoting::YamlPlain => {
            let breaks = text.contains(": ") || text.contains(" #") || text.ends_with(':');
            (one_line && !breaks).then(|| text.to_string())
        }
    }
}

/// Whether a string written as `q` holds line breaks as they are.
pub fn is_multiline(q: Quoting) -> bool {
    matches!(
        q,
        Quoting::TomlMultiBasic | Quoting::TomlMultiLiteral | Quoting::YamlBlock
    )
}

/// Edits turning the query whose string content is `content` into
/// `(query)` + separator + `clause` (parentheses only when `wrap`), written
/// for the TOML string's kind (escaped as needed). The separator is a
/// newline in multi-line strings, a space otherwise.
///
/// `quoting` is the string's kind as the parser recorded it. `None` when
/// the text cannot be written into that kind of string (a `'…'` string
/// cannot hold `'`), or when the result would not decode to the intended
/// query (the edited literal is read back to make sure).
pub fn append_to_query(
    file: &SourceFile,
    content: Span,
    quoting: Quoting,
    clause: &str,
    wrap: bool,
) -> Option<Vec<Edit>> {
    let text = file.text.as_str();
    let kind = match quoting {
        Quoting::TomlBasic => StrKind::Basic,
        Quoting::TomlMultiBasic => StrKind::MultiBasic,
        Quoting::TomlLiteral => StrKind::Literal,
        Quoting::TomlMultiLiteral => StrKind::MultiLiteral,
        _ => return None,
    };
    let delim = kind.delimiter();
    let open = text.get(..content.start)?;
    let open = open
        .strip_suffix("\r\n")
        .or_else(|| open.strip_suffix('\n'))
        .filter(|o| kind.is_multiline() && o.ends_with(delim))
        .unwrap_or(open);
    if !open.ends_with(delim) || text.get(content.end..content.end + delim.len()) != Some(delim) {
        return None;
    }
    let literal = Span::new(open.len() - delim.len(), content.end + delim.len());
    let decoded = string::decode(text, literal)?;
    let raw = text.get(content.start..content.end)?;
    // First and last non-whitespace bytes of the raw content.
    let lead = raw.len() - raw.trim_start().len();
    let core_len = raw.trim().len();
    if core_len == 0 {
        return None;
    }
    let a = content.start + lead;
    let b = a + core_len;
    let sep = match (kind.is_multiline(), text.contains("\r\n")) {
        (true, true) => "\r\n",
        (true, false) => "\n",
        (false, _) => " ",
    };
    let tail = format!("{}{sep}{clause}", if wrap { ")" } else { "" });
    let tail_enc = string::encode(kind, &tail)?;
    let mut edits = Vec::new();
    if wrap {
        edits.push(Edit::insert(a, "("));
    }
    edits.push(Edit::insert(b, tail_enc));

    // Check: the edited literal decodes to the intended query.
    let v = decoded.value.as_str();
    let v_lead = v.len() - v.trim_start().len();
    let v_core = v.trim();
    let intended = format!(
        "{}{}{}{}{}",
        &v[..v_lead],
        if wrap { "(" } else { "" },
        v_core,
        tail,
        &v[v_lead + v_core.len()..]
    );
    let edited = apply_at(text.get(literal.start..literal.end)?, literal.start, &edits);
    let check = string::decode(&edited, Span::new(0, edited.len()))?;
    if check.value != intended
        || (kind == StrKind::MultiLiteral && edited.matches("'''").count() != 2)
    {
        return None;
    }
    Some(edits)
}

/// Apply `edits` (file offsets, sorted, non-overlapping) to `text`, which
/// starts at file offset `base`.
pub fn apply_at(text: &str, base: usize, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0;
    for e in edits {
        let s = e.span.start.saturating_sub(base).min(text.len());
        let end = e.span.end.saturating_sub(base).min(text.len()).max(s);
        out.push_str(text.get(at..s).unwrap_or(""));
        out.push_str(&e.replacement);
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `q = <open><body><close>` as TOML reads it.
    fn toml_value(q: Quoting, body: &str) -> String {
        let (open, close) = match q {
            Quoting::TomlBasic => ("\"", "\""),
            Quoting::TomlMultiBasic => ("\"\"\"", "\"\"\""),
            Quoting::TomlLiteral => ("'", "'"),
            _ => ("'''", "'''"),
        };
        let doc: toml::Table = toml::from_str(&format!("q = {open}{body}{close}")).unwrap();
        doc["q"].as_str().unwrap().to_string()
    }

    #[test]
    fn escaping_reads_back_in_every_string() {
        let t = r#"and not a : "C:\x" and b == 'y'"#;
        for q in [Quoting::TomlBasic, Quoting::TomlMultiBasic] {
            assert_eq!(toml_value(q, &escape(q, t).unwrap()), t);
        }
        assert_eq!(escape(Quoting::TomlLiteral, t), None);
        assert_eq!(escape(Quoting::TomlMultiLiteral, "a ''' b"), None);
        let ok = "and not a == \"x\"";
        for q in [Quoting::TomlLiteral, Quoting::TomlMultiLiteral] {
            assert_eq!(toml_value(q, &escape(q, ok).unwrap()), ok);
        }
        assert_eq!(escape(Quoting::YamlSingle, "o'b").as_deref(), Some("o''b"));
        assert_eq!(
            escape(Quoting::YamlDouble, r#"a"b\"#).as_deref(),
            Some(r#"a\"b\\"#)
        );
        assert_eq!(escape(Quoting::YamlSingle, "a\nb"), None);
        assert_eq!(escape(Quoting::YamlPlain, "x: y"), None);
        assert_eq!(escape(Quoting::YamlPlain, "x #y"), None);
        assert_eq!(escape(Quoting::YamlPlain, "x=1").as_deref(), Some("x=1"));
        assert_eq!(
            escape(Quoting::YamlBlock, "x: #y").as_deref(),
            Some("x: #y")
        );
        assert!(is_multiline(Quoting::YamlBlock) && !is_multiline(Quoting::TomlBasic));
    }
}
