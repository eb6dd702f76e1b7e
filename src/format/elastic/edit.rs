//! Edits that extend the query string of an Elastic rule in place.

use super::string::{self, StrKind};
use crate::source::Edit;
use crate::source::{SourceFile, Span};

/// Edits turning the query whose string content is `content` into
/// `(query)` + separator + `clause` (parentheses only when `wrap`), written
/// for the TOML string's kind (escaped as needed). The separator is a
/// newline in multi-line strings, a space otherwise.
///
/// `None` when the text cannot be written into that kind of string (a
/// `'…'` string cannot hold `'`), or when the result would not decode to
/// the intended query.
pub fn append_to_query(
    file: &SourceFile,
    content: Span,
    clause: &str,
    wrap: bool,
) -> Option<Vec<Edit>> {
    let text = file.text.as_str();
    let (kind, literal) = string::literal_around(text, content)?;
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
    let edited = apply(text.get(literal.start..literal.end)?, literal.start, &edits);
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
pub fn apply(text: &str, base: usize, edits: &[Edit]) -> String {
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
