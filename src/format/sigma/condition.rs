//! The Sigma `condition` language: a hand-written lexer and recursive
//! descent parser.
//!
//! ```text
//! condition := expr ( '|' aggregation )?
//! expr      := and ( 'or' and )*
//! and       := not ( 'and' not )*
//! not       := 'not' not | atom
//! atom      := '(' expr ')' | quant 'of' ( pattern | 'them' ) | identifier
//! quant     := '1' | 'any' | 'all' | number
//! ```
//!
//! Selection names are replaced by their Logic: the first mention of a
//! selection gets a copy, later mentions share one [`Logic::Shared`] copy,
//! so a condition that names a large selection many times stays small.
//! Positions are offsets into the decoded condition text, mapped to file
//! bytes with an [`OffsetMap`].

use crate::did_you_mean::did_you_mean;
use crate::rule::{Logic, ParseIssue};
use crate::source::{OffsetMap, Span};
use indexmap::IndexMap;
use std::collections::HashMap;
use std::sync::Arc;

const MAX_DEPTH: usize = 200;

/// Most selection references one condition may expand to (`1 of sel*`
/// counts one per selection it matches). Each costs one node.
pub(crate) const MAX_REFERENCES: usize = 200_000;

/// Unknown names for which a close selection name is looked for: each
/// look-up compares with every selection.
const MAX_SUGGESTIONS: usize = 16;

/// The selections a condition can name: `None` for one that did not parse.
pub(crate) type Selections = IndexMap<String, Option<Logic>>;

#[derive(Debug, Clone, Copy, PartialEq)]
enum T<'s> {
    LParen,
    RParen,
    Word(&'s str),
}

#[derive(Debug, Clone, Copy)]
struct Tok<'s> {
    t: T<'s>,
    start: usize,
    end: usize,
}

struct SynErr {
    span: Span,
    message: String,
}

/// The tokens of `src` up to a top-level `|`, and the offset of that `|`.
fn lex(src: &str) -> (Vec<Tok<'_>>, Option<usize>) {
    let mut toks = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        match c {
            c if c.is_whitespace() => {
                it.next();
            }
            '(' => {
                it.next();
                toks.push(Tok {
                    t: T::LParen,
                    start: i,
                    end: i + 1,
                });
            }
            ')' => {
                it.next();
                toks.push(Tok {
                    t: T::RParen,
                    start: i,
                    end: i + 1,
                });
            }
            '|' => return (toks, Some(i)),
            _ => {
                let mut end = i;
                while let Some(&(j, d)) = it.peek() {
                    if d.is_whitespace() || matches!(d, '(' | ')' | '|') {
                        break;
                    }
                    end = j + d.len_utf8();
                    it.next();
                }
                toks.push(Tok {
                    t: T::Word(&src[i..end]),
                    start: i,
                    end,
                });
            }
        }
    }
    (toks, None)
}

fn is_kw(w: &str, kw: &str) -> bool {
    w.eq_ignore_ascii_case(kw)
}

fn is_keyword(w: &str) -> bool {
    ["and", "or", "not", "of", "them"]
        .iter()
        .any(|k| is_kw(w, k))
}

/// `*` matches any run of characters, `?` one character.
pub(crate) fn glob_match(pat: &str, name: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

struct P<'a, 's> {
    src: &'s str,
    toks: Vec<Tok<'s>>,
    pos: usize,
    /// Per selection (by index): `None` before its first mention, then the
    /// copy later mentions share.
    used: Vec<Option<Arc<Logic>>>,
    /// Selection names in sorted order, with their index, to find the
    /// matches of a `prefix*` pattern without a scan.
    sorted: Vec<(&'a str, usize)>,
    /// `N of pattern` already expanded, by quantifier and pattern.
    quantified: HashMap<(Option<usize>, &'s str), Logic>,
    references: usize,
    suggestions: usize,
    /// Decoded offset of the end of the modelled part.
    end: usize,
    map: &'a OffsetMap,
    sels: &'a Selections,
    issues: &'a mut Vec<ParseIssue>,
    /// Per selection (by index): named by the condition.
    mentioned: &'a mut [bool],
}

/// Parse one condition string. Returns `None` after a syntax error (an
/// `RL006` issue has been pushed).
///
/// `mentioned` (one flag per selection, in declaration order) is set for
/// every selection the condition names.
pub(crate) fn parse(
    src: &str,
    map: &OffsetMap,
    sels: &Selections,
    issues: &mut Vec<ParseIssue>,
    mentioned: &mut [bool],
) -> Option<Logic> {
    let (toks, pipe) = lex(src);
    // Issues about names are only reported when the syntax is right.
    let mut local = Vec::new();
    let logic = parse_tokens(src, toks, pipe, map, sels, &mut local, mentioned);
    if logic.is_none() {
        local.retain(|i| i.code == "RL006");
    }
    issues.extend(local);
    logic
}

fn parse_tokens(
    src: &str,
    toks: Vec<Tok<'_>>,
    pipe: Option<usize>,
    map: &OffsetMap,
    sels: &Selections,
    issues: &mut Vec<ParseIssue>,
    mentioned: &mut [bool],
) -> Option<Logic> {
    let end = pipe.unwrap_or(src.trim_end().len());
    let mut sorted: Vec<(&str, usize)> = sels
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    sorted.sort_unstable();
    let mut p = P {
        src,
        toks,
        pos: 0,
        used: vec![None; sels.len()],
        sorted,
        quantified: HashMap::new(),
        references: 0,
        suggestions: 0,
        end,
        map,
        sels,
        issues,
        mentioned,
    };
    if p.toks.is_empty() {
        let at = p.file(Span::point(src.len() - src.trim_start().len()));
        let msg = if pipe.is_some() {
            "condition has nothing before the aggregation `|`"
        } else {
            "empty condition"
        };
        p.issues.push(ParseIssue::error("RL006", at, msg));
        return None;
    }
    let logic = match p.expr(0) {
        Ok(l) => l,
        Err(e) => {
            let span = p.file(e.span);
            p.issues.push(ParseIssue::error("RL006", span, e.message));
            return None;
        }
    };
    if let Some(t) = p.toks.get(p.pos).copied() {
        let span = p.file(Span::new(t.start, t.end));
        let what = &p.src[t.start..t.end];
        p.issues.push(ParseIssue::error(
            "RL006",
            span,
            format!("unexpected `{what}` in condition: expected `and`, `or` or the end"),
        ));
        return None;
    }
    let Some(pipe) = pipe else {
        return Some(logic);
    };
    let agg = src[pipe..].trim_end();
    let span = map.span(Span::new(pipe, pipe + agg.len()));
    let what = if agg.contains("near") {
        "legacy `near` correlation"
    } else {
        "legacy aggregation"
    };
    p.issues.push(
        ParseIssue::info(
            "RL009",
            span,
            format!("{what} `{agg}` is not modelled: only the part before `|` is checked"),
        )
        .with_help("rewrite it as a Sigma correlation rule"),
    );
    Some(Logic::and(vec![
        logic,
        Logic::opaque(agg, span, format!("{what} (legacy Sigma pipe syntax)")),
    ]))
}

impl<'s> P<'_, 's> {
    fn file(&self, span: Span) -> Span {
        self.map.span(span)
    }

    fn peek(&self) -> Option<Tok<'s>> {
        self.toks.get(self.pos).copied()
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        match self.peek() {
            Some(Tok { t: T::Word(w), .. }) if is_kw(w, kw) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    fn at_end(&self) -> Span {
        Span::point(self.end)
    }

    fn expr(&mut self, depth: usize) -> Result<Logic, SynErr> {
        let mut items = vec![self.and(depth)?];
        while self.eat_kw("or") {
            items.push(self.and(depth)?);
        }
        Ok(Logic::or(items))
    }

    fn and(&mut self, depth: usize) -> Result<Logic, SynErr> {
        let mut items = vec![self.not(depth)?];
        while self.eat_kw("and") {
            items.push(self.not(depth)?);
        }
        Ok(Logic::and(items))
    }

    fn not(&mut self, depth: usize) -> Result<Logic, SynErr> {
        if depth > MAX_DEPTH {
            let span = self
                .peek()
                .map_or(self.at_end(), |t| Span::new(t.start, t.end));
            return Err(SynErr {
                span,
                message: format!("condition nested deeper than {MAX_DEPTH} levels"),
            });
        }
        if self.eat_kw("not") {
            return Ok(Logic::not(self.not(depth + 1)?));
        }
        self.atom(depth)
    }

    fn atom(&mut self, depth: usize) -> Result<Logic, SynErr> {
        let Some(tok) = self.peek() else {
            return Err(SynErr {
                span: self.at_end(),
                message: "condition ends too early: expected a selection name, `not`, `(` or `1 of`/`all of`".into(),
            });
        };
        let tspan = Span::new(tok.start, tok.end);
        match tok.t {
            T::LParen => {
                self.pos += 1;
                let inner = self.expr(depth + 1)?;
                match self.peek() {
                    Some(Tok { t: T::RParen, .. }) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some(t) => Err(SynErr {
                        span: Span::new(t.start, t.end),
                        message: format!(
                            "expected `)` to close the `(` at column {} of the condition, found `{}`",
                            tok.start + 1,
                            &self.src[t.start..t.end]
                        ),
                    }),
                    None => Err(SynErr {
                        span: self.at_end(),
                        message: "unclosed `(` in condition".into(),
                    }),
                }
            }
            T::RParen => Err(SynErr {
                span: tspan,
                message: "unexpected `)` in condition".into(),
            }),
            T::Word(w) => {
                let next_is_of = matches!(
                    self.toks.get(self.pos + 1),
                    Some(Tok { t: T::Word(o), .. }) if is_kw(o, "of")
                );
                if next_is_of {
                    return self.quantified(tok, w);
                }
                if is_keyword(w) {
                    return Err(SynErr {
                        span: tspan,
                        message: format!(
                            "unexpected `{w}` in condition: expected a selection name, `not`, `(` or `1 of`/`all of`"
                        ),
                    });
                }
                self.pos += 1;
                self.reference(w, tspan)
            }
        }
    }

    /// A selection name close to the unknown `name`, for the first
    /// [`MAX_SUGGESTIONS`] unknown names of the condition.
    fn suggest(&mut self, name: &str) -> Option<String> {
        if self.suggestions >= MAX_SUGGESTIONS {
            return None;
        }
        self.suggestions += 1;
        did_you_mean(name, self.sels.keys().map(String::as_str)).map(str::to_string)
    }

    /// Count `n` more selection references against [`MAX_REFERENCES`].
    fn charge(&mut self, n: usize, span: Span) -> Result<(), SynErr> {
        self.references = self.references.saturating_add(n);
        if self.references > MAX_REFERENCES {
            return Err(SynErr {
                span,
                message: format!(
                    "the condition expands to more than {MAX_REFERENCES} selection references: \
                     combine the selections or use fewer `N of` patterns"
                ),
            });
        }
        Ok(())
    }

    /// The Logic of selection `i`: a copy at its first mention, the
    /// shared copy after.
    fn use_selection(&mut self, i: usize, logic: &Logic) -> Logic {
        match &self.used[i] {
            Some(shared) => Logic::Shared(Arc::clone(shared)),
            None => {
                self.used[i] = Some(Arc::new(logic.clone()));
                logic.clone()
            }
        }
    }

    fn reference(&mut self, name: &str, span: Span) -> Result<Logic, SynErr> {
        self.charge(1, span)?;
        let fspan = self.file(span);
        if let Some(i) = self.sels.get_index_of(name) {
            if let Some(m) = self.mentioned.get_mut(i) {
                *m = true;
            }
        }
        Ok(match self.sels.get_full(name) {
            Some((i, _, Some(l))) => self.use_selection(i, l),
            Some((_, _, None)) => Logic::opaque(
                name,
                fspan,
                format!("selection `{name}` could not be parsed"),
            ),
            None => {
                let mut issue = ParseIssue::error(
                    "RL007",
                    fspan,
                    format!("condition names `{name}`, which is not a selection of this rule"),
                );
                if let Some(s) = self.suggest(name) {
                    issue = issue.with_help(format!("did you mean `{s}`?"));
                }
                self.issues.push(issue);
                Logic::opaque(name, fspan, "unknown selection")
            }
        })
    }

    fn quantified(&mut self, q: Tok<'s>, qword: &str) -> Result<Logic, SynErr> {
        // `q of`
        self.pos += 2;
        let Some(target) = self.peek() else {
            return Err(SynErr {
                span: self.at_end(),
                message: format!("expected a selection pattern or `them` after `{qword} of`"),
            });
        };
        let T::Word(pat) = target.t else {
            return Err(SynErr {
                span: Span::new(target.start, target.end),
                message: format!("expected a selection pattern or `them` after `{qword} of`"),
            });
        };
        if is_keyword(pat) && !is_kw(pat, "them") {
            return Err(SynErr {
                span: Span::new(target.start, target.end),
                message: format!(
                    "expected a selection pattern or `them` after `{qword} of`, found `{pat}`"
                ),
            });
        }
        self.pos += 1;
        let count: Option<usize> = if is_kw(qword, "all") {
            None
        } else if is_kw(qword, "any") {
            Some(1)
        } else {
            match qword.parse::<usize>() {
                Ok(n) if n >= 1 => Some(n),
                _ => {
                    return Err(SynErr {
                        span: Span::new(q.start, q.end),
                        message: format!(
                            "expected `1`, `any` or `all` before `of`, found `{qword}`"
                        ),
                    })
                }
            }
        };
        let whole = self.file(Span::new(q.start, target.end));
        let pspan = self.file(Span::new(target.start, target.end));
        if let Some(done) = self.quantified.get(&(count, pat)) {
            // The same `N of pattern` again: share what it expanded to.
            let done = done.clone();
            self.charge(1, Span::new(q.start, target.end))?;
            return Ok(done);
        }
        let them = is_kw(pat, "them");
        let names = self.matching(pat, them);
        self.charge(names.len(), Span::new(q.start, target.end))?;
        if names.is_empty() {
            let mut issue = ParseIssue::error(
                "RL007",
                pspan,
                if them {
                    "`of them` but the rule has no selections".to_string()
                } else {
                    format!("`{pat}` matches no selection of this rule")
                },
            );
            if !them {
                if let Some(s) = self.suggest(pat) {
                    issue = issue.with_help(format!("did you mean `{s}`?"));
                }
            }
            self.issues.push(issue);
            return Ok(Logic::opaque(
                &self.src[q.start..target.end],
                whole,
                "pattern matches no selection",
            ));
        }
        for &i in &names {
            if let Some(m) = self.mentioned.get_mut(i) {
                *m = true;
            }
        }
        let sels = self.sels;
        let parts: Vec<Logic> = names
            .iter()
            .map(|&i| match sels.get_index(i) {
                Some((_, Some(l))) => self.use_selection(i, l),
                Some((n, None)) => Logic::opaque(
                    n.as_str(),
                    pspan,
                    format!("selection `{n}` could not be parsed"),
                ),
                None => Logic::opaque(pat, pspan, "unknown selection"),
            })
            .collect();
        let logic = self.combine(count, parts, q, target, whole);
        if names.len() > 1 {
            let shared = Logic::Shared(Arc::new(logic.clone()));
            self.quantified.insert((count, pat), shared);
        }
        Ok(logic)
    }

    /// Indexes (in declaration order) of the selections `pat` names.
    fn matching(&self, pat: &str, them: bool) -> Vec<usize> {
        let mut out: Vec<usize> = if them {
            (0..self.sels.len())
                .filter(|&i| {
                    self.sels
                        .get_index(i)
                        .is_some_and(|(n, _)| !n.starts_with('_'))
                })
                .collect()
        } else if let Some(prefix) = pat.strip_suffix('*').filter(|p| !p.contains(['*', '?'])) {
            // `prefix*`: a range of the sorted names.
            let from = self.sorted.partition_point(|(n, _)| *n < prefix);
            self.sorted[from..]
                .iter()
                .take_while(|(n, _)| n.starts_with(prefix))
                .map(|&(_, i)| i)
                .collect()
        } else if !pat.contains(['*', '?']) {
            self.sels.get_index_of(pat).into_iter().collect()
        } else {
            (0..self.sels.len())
                .filter(|&i| {
                    self.sels
                        .get_index(i)
                        .is_some_and(|(n, _)| glob_match(pat, n))
                })
                .collect()
        };
        out.sort_unstable();
        out
    }

    fn combine(
        &mut self,
        count: Option<usize>,
        parts: Vec<Logic>,
        q: Tok<'s>,
        target: Tok<'s>,
        whole: Span,
    ) -> Logic {
        match count {
            None => Logic::and(parts),
            Some(1) => Logic::or(parts),
            Some(n) if n == parts.len() => Logic::and(parts),
            Some(n) => {
                let text = &self.src[q.start..target.end];
                self.issues.push(ParseIssue::info(
                    "RL010",
                    whole,
                    format!(
                        "`{text}` (at least {n} of {} selections) is not modelled",
                        parts.len()
                    ),
                ));
                Logic::opaque(text, whole, "`N of` with N > 1")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing() {
        assert!(glob_match("sel*", "selection"));
        assert!(glob_match("*", "x"));
        assert!(glob_match("a*b*c", "aXXbYc"));
        assert!(!glob_match("filter*", "selection"));
        assert!(glob_match("sel?", "sel1"));
        assert!(glob_match("sel", "sel"));
    }

    #[test]
    fn lexing_stops_at_pipe() {
        let (toks, pipe) = lex("(a and b)| count() > 5");
        assert_eq!(toks.len(), 5);
        assert_eq!(pipe, Some(9));
    }
}
