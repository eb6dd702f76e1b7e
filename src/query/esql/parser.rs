//! Recursive-descent parser for ES|QL: a pipeline of commands, each with
//! its own argument syntax, and a precedence-climbing expression parser.
//!
//! The parser only builds syntax ([`Command`]s and [`Expr`]s); what the
//! query means (derived fields, the Logic IR) is worked out in `lower`.

use super::ast::{ArithOp, CmpOp, Expr, ExprKind};
use super::lexer::{self, char_len, LexResult, SyntaxError, Tok, Token};
use crate::source::Span;

/// Nesting deeper than this (parentheses, function calls, `NOT`s, FORK
/// branches) is refused with an error instead of risking the stack.
pub const MAX_DEPTH: usize = 200;

/// FORK branches nested in FORK branches: each level counts as
/// `MAX_DEPTH / MAX_FORK_DEPTH` expression levels.
const MAX_FORK_DEPTH: usize = 10;

/// A name as written in the query (unquoted) and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

/// `name = expr`, or a bare `expr` (whose column is named after its text).
#[derive(Debug, Clone, PartialEq)]
pub struct Assign {
    pub name: Option<Name>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    pub kind: CommandKind,
    /// The `|` before the command (none for the source command and the
    /// first command of a FORK branch).
    pub pipe: Option<Span>,
    /// The command keyword(s), e.g. `INLINE STATS`.
    pub name_span: Span,
    /// From the keyword to the end of the command's last token.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    From {
        sources: Vec<Name>,
        metadata: Vec<Name>,
    },
    Row(Vec<Assign>),
    Show,
    Where(Expr),
    Eval(Vec<Assign>),
    Stats {
        inline: bool,
        aggs: Vec<Assign>,
        /// Per-aggregation filters (`COUNT(*) WHERE x > 1`).
        filters: Vec<Expr>,
        by: Vec<Assign>,
    },
    Keep(Vec<Name>),
    Drop(Vec<Name>),
    /// `(old, new)` pairs.
    Rename(Vec<(Name, Name)>),
    Limit,
    Sort(Vec<Expr>),
    Dissect {
        input: Expr,
        pattern: Token,
    },
    Grok {
        input: Expr,
        patterns: Vec<Token>,
    },
    MvExpand(Name),
    LookupJoin {
        index: Name,
        on: Vec<Expr>,
    },
    Enrich {
        policy: Name,
        on: Option<Name>,
        /// `(new name, enrich field)`.
        with: Vec<(Name, Name)>,
    },
    ChangePoint {
        value: Name,
        key: Option<Name>,
        outputs: Vec<Name>,
    },
    Fork(Vec<Vec<Command>>),
    Sample,
    Completion {
        target: Option<Name>,
        prompt: Expr,
    },
    /// A command this parser does not know: skipped up to the next `|`.
    Unknown {
        name: String,
    },
}

/// Parse a whole query into its commands.
pub fn parse_pipeline(text: &str) -> Result<Vec<Command>, SyntaxError> {
    let mut p = Parser::new(text);
    p.query()
}

type R<T> = Result<T, SyntaxError>;

// Binding powers of the expression operators.
const P_OR: u8 = 1;
const P_AND: u8 = 2;
const P_NOT: u8 = 3;
const P_PRED: u8 = 4;
const P_ADD: u8 = 5;
const P_MUL: u8 = 6;
const P_UNARY: u8 = 7;

const TIME_UNITS: &[&str] = &[
    "nanosecond",
    "nanoseconds",
    "ns",
    "microsecond",
    "microseconds",
    "us",
    "millisecond",
    "milliseconds",
    "ms",
    "second",
    "seconds",
    "sec",
    "secs",
    "s",
    "minute",
    "minutes",
    "min",
    "mins",
    "m",
    "hour",
    "hours",
    "h",
    "hr",
    "hrs",
    "day",
    "days",
    "d",
    "week",
    "weeks",
    "w",
    "wk",
    "wks",
    "month",
    "months",
    "mo",
    "mos",
    "quarter",
    "quarters",
    "q",
    "qtr",
    "qtrs",
    "year",
    "years",
    "yr",
    "yrs",
    "y",
];

/// Words that cannot start an expression.
const NOT_AN_OPERAND: &[&str] = &[
    "AND", "OR", "IN", "LIKE", "RLIKE", "IS", "BY", "WHERE", "AS",
];

pub struct Parser<'a> {
    text: &'a str,
    /// Next unconsumed byte.
    pos: usize,
    /// End of the last consumed token.
    last_end: usize,
    buf: Vec<Token>,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str) -> Self {
        Parser {
            text,
            pos: 0,
            last_end: 0,
            buf: Vec::new(),
            depth: 0,
        }
    }

    // ---- token plumbing -------------------------------------------------

    fn fill(&mut self, n: usize) -> LexResult<()> {
        while self.buf.len() <= n {
            let from = self.buf.last().map_or(self.pos, |t| t.span.end);
            let at = lexer::skip_trivia(self.text, from)?;
            let t = lexer::lex_at(self.text, at)?;
            self.buf.push(t);
        }
        Ok(())
    }

    fn peek(&mut self) -> R<Token> {
        self.fill(0)?;
        Ok(self
            .buf
            .first()
            .cloned()
            .unwrap_or_else(|| self.eof_token()))
    }

    fn peek_nth(&mut self, n: usize) -> R<Token> {
        self.fill(n)?;
        Ok(self.buf.get(n).cloned().unwrap_or_else(|| self.eof_token()))
    }

    fn eof_token(&self) -> Token {
        let at = self.text.len();
        Token {
            kind: Tok::Eof,
            span: Span::point(at),
            text: String::new(),
            content: Span::point(at),
            triple: false,
        }
    }

    fn bump(&mut self) -> R<Token> {
        self.fill(0)?;
        let t = if self.buf.is_empty() {
            self.eof_token()
        } else {
            self.buf.remove(0)
        };
        if t.kind != Tok::Eof {
            self.pos = t.span.end;
            self.last_end = t.span.end;
        }
        Ok(t)
    }

    /// Move to a byte position (after raw scanning).
    fn seek(&mut self, pos: usize) {
        self.buf.clear();
        self.pos = pos;
        self.last_end = pos;
    }

    fn at(&mut self, kind: Tok) -> R<bool> {
        Ok(self.peek()?.kind == kind)
    }

    fn at_kw(&mut self, kw: &str) -> R<bool> {
        Ok(self.peek()?.is_kw(kw))
    }

    fn eat(&mut self, kind: Tok) -> R<Option<Token>> {
        if self.at(kind)? {
            Ok(Some(self.bump()?))
        } else {
            Ok(None)
        }
    }

    fn eat_kw(&mut self, kw: &str) -> R<Option<Token>> {
        if self.at_kw(kw)? {
            Ok(Some(self.bump()?))
        } else {
            Ok(None)
        }
    }

    fn expect(&mut self, kind: Tok, what: &str) -> R<Token> {
        let t = self.peek()?;
        if t.kind == kind {
            self.bump()
        } else {
            Err(self.unexpected(&t, what))
        }
    }

    fn expect_kw(&mut self, kw: &str) -> R<Token> {
        let t = self.peek()?;
        if t.is_kw(kw) {
            self.bump()
        } else {
            Err(self.unexpected(&t, &format!("`{kw}`")))
        }
    }

    #[cold]
    #[inline(never)]
    fn unexpected(&self, t: &Token, expected: &str) -> SyntaxError {
        let found = describe(t);
        SyntaxError::new(t.span, format!("expected {expected}, found {found}"))
    }

    /// The error for the next token, which is not what was `expected`.
    #[cold]
    #[inline(never)]
    fn unexpected_next(&mut self, expected: &str) -> SyntaxError {
        match self.tok(0) {
            Ok(t) => {
                let t = t.clone();
                self.unexpected(&t, expected)
            }
            Err(e) => e,
        }
    }

    /// The next-but-`n` token, by reference (the recursive expression
    /// functions use these small accessors to keep their stack frames
    /// small).
    fn tok(&mut self, n: usize) -> R<&Token> {
        self.fill(n)?;
        let end = self.text.len();
        self.buf
            .get(n)
            .ok_or_else(|| SyntaxError::new(Span::point(end), "unexpected end of query"))
    }

    fn kind(&mut self, n: usize) -> R<Tok> {
        Ok(self.tok(n)?.kind)
    }

    /// Consume the next token, returning its span.
    fn advance(&mut self) -> R<Span> {
        self.fill(0)?;
        if self.buf.is_empty() {
            return Ok(Span::point(self.text.len()));
        }
        let t = self.buf.remove(0);
        if t.kind != Tok::Eof {
            self.pos = t.span.end;
            self.last_end = t.span.end;
        }
        Ok(t.span)
    }

    fn eat_comma(&mut self) -> R<bool> {
        if self.kind(0)? == Tok::Comma {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    fn enter(&mut self, at: Span) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(at));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// `(` … expect `)`: when the query ends first, the error points at the
    /// unclosed `(`.
    fn close(&mut self, open: Span, close: Tok, what: &str) -> R<Span> {
        let k = self.kind(0)?;
        if k == close {
            return self.advance();
        }
        Err(self.close_error(open, k, what))
    }

    #[cold]
    #[inline(never)]
    fn close_error(&mut self, open: Span, found: Tok, what: &str) -> SyntaxError {
        if matches!(found, Tok::Eof | Tok::Pipe) {
            let sym = self.text.get(open.start..open.end).unwrap_or("(");
            return SyntaxError::new(open, format!("unclosed `{sym}`"));
        }
        self.unexpected_next(what)
    }

    // ---- pipeline -------------------------------------------------------

    fn query(&mut self) -> R<Vec<Command>> {
        let first = self.peek()?;
        if first.kind == Tok::Eof {
            return Err(SyntaxError::new(first.span, "empty query"));
        }
        let mut commands = Vec::new();
        let mut pipe = None;
        let mut is_source = true;
        loop {
            let cmd = self.command(pipe, is_source, false)?;
            commands.push(cmd);
            is_source = false;
            let t = self.peek()?;
            match t.kind {
                Tok::Eof => return Ok(commands),
                Tok::Pipe => {
                    self.bump()?;
                    pipe = Some(t.span);
                }
                _ => return Err(self.unexpected(&t, "`|` or the end of the query")),
            }
        }
    }

    /// One command. `in_fork`: a `)` ends the command list.
    fn command(&mut self, pipe: Option<Span>, is_source: bool, in_fork: bool) -> R<Command> {
        let t = self.peek()?;
        if t.kind != Tok::Ident {
            return Err(self.unexpected(&t, "a command name"));
        }
        self.bump()?;
        let word = t.text.to_ascii_uppercase();
        let mut name_span = t.span;
        let kind = match (is_source, word.as_str()) {
            (true, "FROM") | (true, "TS") => self.source_args()?,
            (true, "ROW") => CommandKind::Row(self.assignments(true)?),
            (true, "SHOW") => {
                self.expect_kw("INFO")?;
                CommandKind::Show
            }
            (false, "WHERE") => CommandKind::Where(self.expr()?),
            (false, "EVAL") => CommandKind::Eval(self.assignments(true)?),
            (false, "STATS") => self.stats_args(false)?,
            (false, "INLINESTATS") => self.stats_args(true)?,
            (false, "INLINE") if self.at_kw("STATS")? => {
                let s = self.bump()?;
                name_span = name_span.join(s.span);
                self.stats_args(true)?
            }
            (false, "KEEP") => CommandKind::Keep(self.name_list()?),
            (false, "DROP") => CommandKind::Drop(self.name_list()?),
            (false, "RENAME") => self.rename_args()?,
            (false, "LIMIT") => {
                let t = self.peek()?;
                if matches!(t.kind, Tok::Number | Tok::Param) {
                    self.bump()?;
                } else {
                    return Err(self.unexpected(&t, "a number"));
                }
                CommandKind::Limit
            }
            (false, "SORT") => self.sort_args()?,
            (false, "DISSECT") => {
                let input = self.operand()?;
                let pattern = self.expect(Tok::Str, "a dissect pattern string")?;
                self.command_options()?;
                CommandKind::Dissect { input, pattern }
            }
            (false, "GROK") => {
                let input = self.operand()?;
                let mut patterns = vec![self.expect(Tok::Str, "a grok pattern string")?];
                while self.eat(Tok::Comma)?.is_some() {
                    patterns.push(self.expect(Tok::Str, "a grok pattern string")?);
                }
                CommandKind::Grok { input, patterns }
            }
            (false, "MV_EXPAND") => CommandKind::MvExpand(self.name_pattern()?),
            (false, "LOOKUP" | "LEFT" | "RIGHT") if self.at_kw("JOIN")? => {
                let j = self.bump()?;
                name_span = name_span.join(j.span);
                self.join_args()?
            }
            (false, "ENRICH") => self.enrich_args()?,
            (false, "CHANGE_POINT") => self.change_point_args()?,
            (false, "FORK") => self.fork_args()?,
            (false, "SAMPLE") => {
                let t = self.peek()?;
                if matches!(t.kind, Tok::Number | Tok::Param) {
                    self.bump()?;
                } else {
                    return Err(self.unexpected(&t, "a probability"));
                }
                CommandKind::Sample
            }
            (false, "COMPLETION") => self.completion_args()?,
            _ => {
                self.skip_command(in_fork)?;
                CommandKind::Unknown {
                    name: t.text.clone(),
                }
            }
        };
        let end = self.last_end.max(name_span.end);
        let next = self.peek()?;
        let ends = match next.kind {
            Tok::Eof | Tok::Pipe => true,
            Tok::RParen => in_fork,
            _ => false,
        };
        if !ends {
            return Err(self.unexpected(&next, "`|` or the end of the query"));
        }
        Ok(Command {
            kind,
            pipe,
            name_span,
            span: Span::new(name_span.start, end),
        })
    }

    /// Skip an unknown command: everything up to the next `|` that is not
    /// inside brackets or a string (or the `)` closing a FORK branch).
    /// Unknown characters are skipped; unterminated strings and unbalanced
    /// brackets are still errors.
    fn skip_command(&mut self, in_fork: bool) -> R<()> {
        let mut stack: Vec<Token> = Vec::new();
        let mut pos = self.last_end;
        loop {
            let at = lexer::skip_trivia(self.text, pos)?;
            let t = match lexer::lex_at(self.text, at) {
                Ok(t) => t,
                Err(e) if e.message.starts_with("unexpected character") => {
                    pos = at + char_len(self.text, at);
                    continue;
                }
                Err(e) => return Err(e),
            };
            match t.kind {
                Tok::Eof => {
                    if let Some(open) = stack.pop() {
                        return Err(SyntaxError::new(
                            open.span,
                            format!("unclosed `{}`", open.text),
                        ));
                    }
                    break;
                }
                Tok::Pipe if stack.is_empty() => break,
                Tok::RParen if stack.is_empty() && in_fork => break,
                Tok::LParen | Tok::LBracket | Tok::LBrace => stack.push(t.clone()),
                Tok::RParen | Tok::RBracket | Tok::RBrace => {
                    let want = match t.kind {
                        Tok::RParen => Tok::LParen,
                        Tok::RBracket => Tok::LBracket,
                        _ => Tok::LBrace,
                    };
                    match stack.pop() {
                        Some(open) if open.kind == want => {}
                        _ => {
                            return Err(SyntaxError::new(
                                t.span,
                                format!("unbalanced `{}`", t.text),
                            ))
                        }
                    }
                }
                _ => {}
            }
            pos = t.span.end;
            self.last_end = t.span.end;
        }
        self.seek(self.last_end);
        Ok(())
    }

    // ---- command arguments ------------------------------------------------

    fn source_args(&mut self) -> R<CommandKind> {
        let mut sources = vec![self.source_pattern()?];
        while self.eat(Tok::Comma)?.is_some() {
            sources.push(self.source_pattern()?);
        }
        let mut metadata = Vec::new();
        if self.eat_kw("METADATA")?.is_some() {
            metadata.push(self.qualified_name()?);
            while self.eat(Tok::Comma)?.is_some() {
                metadata.push(self.qualified_name()?);
            }
        }
        Ok(CommandKind::From { sources, metadata })
    }

    /// An index pattern, read raw: `logs-endpoint.events.process-*`,
    /// `remote:idx`, `<logs-{now/d}>` or a quoted string.
    fn source_pattern(&mut self) -> R<Name> {
        let start = lexer::skip_trivia(self.text, self.pos)?;
        let bytes = self.text.as_bytes();
        if bytes.get(start) == Some(&b'"') {
            self.seek(start);
            let t = self.bump()?;
            return Ok(Name {
                text: t.text,
                span: t.span,
            });
        }
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            let comment = b == b'/' && matches!(bytes.get(end + 1), Some(b'/') | Some(b'*'));
            if b.is_ascii_whitespace()
                || comment
                || matches!(
                    b,
                    b',' | b'|' | b'"' | b'`' | b'(' | b')' | b'[' | b']' | b'='
                )
            {
                break;
            }
            end += char_len(self.text, end);
        }
        if end == start {
            self.seek(start);
            let t = self.peek()?;
            return Err(self.unexpected(&t, "an index pattern"));
        }
        self.seek(end);
        Ok(Name {
            text: self.text.get(start..end).unwrap_or("").to_string(),
            span: Span::new(start, end),
        })
    }

    /// A field name or pattern as KEEP/DROP/RENAME/MV_EXPAND take it:
    /// `host.*`, `` `a b`.c ``, `Esql.*`.
    fn name_pattern(&mut self) -> R<Name> {
        let start = lexer::skip_trivia(self.text, self.pos)?;
        let bytes = self.text.as_bytes();
        let mut end = start;
        let mut out = String::new();
        while let Some(&b) = bytes.get(end) {
            if b == b'`' {
                let t = lexer::lex_at(self.text, end)?;
                out.push_str(&t.text);
                end = t.span.end;
                continue;
            }
            let comment = b == b'/' && matches!(bytes.get(end + 1), Some(b'/') | Some(b'*'));
            if b.is_ascii_whitespace()
                || comment
                || matches!(
                    b,
                    b',' | b'|' | b'"' | b'(' | b')' | b'[' | b']' | b'=' | b'{' | b'}'
                )
            {
                break;
            }
            let len = char_len(self.text, end);
            out.push_str(self.text.get(end..end + len).unwrap_or(""));
            end += len;
        }
        if end == start {
            self.seek(start);
            let t = self.peek()?;
            return Err(self.unexpected(&t, "a field name"));
        }
        self.seek(end);
        Ok(Name {
            text: out,
            span: Span::new(start, end),
        })
    }

    fn name_list(&mut self) -> R<Vec<Name>> {
        let mut v = vec![self.name_pattern()?];
        while self.eat(Tok::Comma)?.is_some() {
            v.push(self.name_pattern()?);
        }
        Ok(v)
    }

    /// `a.b.c` in expression context, each part bare or backquoted.
    fn qualified_name(&mut self) -> R<Name> {
        let t = self.peek()?;
        if !matches!(t.kind, Tok::Ident | Tok::QuotedIdent) {
            return Err(self.unexpected(&t, "a field name"));
        }
        self.bump()?;
        let mut text = t.text.clone();
        let mut span = t.span;
        while self.at(Tok::Dot)? {
            let part = self.peek_nth(1)?;
            if !matches!(part.kind, Tok::Ident | Tok::QuotedIdent) {
                return Err(self.unexpected(&part, "a field name after `.`"));
            }
            self.bump()?;
            self.bump()?;
            text.push('.');
            text.push_str(&part.text);
            span = span.join(part.span);
        }
        Ok(Name { text, span })
    }

    /// `name =` ahead? Consumes it when it is.
    fn assignment_target(&mut self) -> R<Option<Name>> {
        let t = self.peek()?;
        if !matches!(t.kind, Tok::Ident | Tok::QuotedIdent) {
            return Ok(None);
        }
        // look ahead over `a.b.c` without consuming
        let mut n = 1;
        loop {
            let d = self.peek_nth(n)?;
            if d.kind == Tok::Dot
                && matches!(self.peek_nth(n + 1)?.kind, Tok::Ident | Tok::QuotedIdent)
            {
                n += 2;
                continue;
            }
            if d.kind == Tok::Assign {
                let name = self.qualified_name()?;
                self.bump()?; // `=`
                return Ok(Some(name));
            }
            return Ok(None);
        }
    }

    fn assignments(&mut self, allow_bare: bool) -> R<Vec<Assign>> {
        let mut v = Vec::new();
        loop {
            let name = self.assignment_target()?;
            if name.is_none() && !allow_bare {
                let t = self.peek()?;
                return Err(self.unexpected(&t, "`name = value`"));
            }
            let expr = self.expr()?;
            v.push(Assign { name, expr });
            if self.eat(Tok::Comma)?.is_none() {
                return Ok(v);
            }
        }
    }

    fn stats_args(&mut self, inline: bool) -> R<CommandKind> {
        let mut aggs = Vec::new();
        let mut filters = Vec::new();
        let mut by = Vec::new();
        let t = self.peek()?;
        if !(t.is_kw("BY") || matches!(t.kind, Tok::Eof | Tok::Pipe)) {
            loop {
                let name = self.assignment_target()?;
                let expr = self.expr()?;
                aggs.push(Assign { name, expr });
                if self.eat_kw("WHERE")?.is_some() {
                    filters.push(self.expr()?);
                }
                if self.eat(Tok::Comma)?.is_none() {
                    break;
                }
            }
        }
        if self.eat_kw("BY")?.is_some() {
            by = self.assignments(true)?;
        }
        Ok(CommandKind::Stats {
            inline,
            aggs,
            filters,
            by,
        })
    }

    fn rename_args(&mut self) -> R<CommandKind> {
        let mut pairs = Vec::new();
        loop {
            let first = self.name_pattern()?;
            if self.eat(Tok::Assign)?.is_some() {
                let old = self.name_pattern()?;
                pairs.push((old, first));
            } else {
                self.expect_kw("AS")?;
                let new = self.name_pattern()?;
                pairs.push((first, new));
            }
            if self.eat(Tok::Comma)?.is_none() {
                return Ok(CommandKind::Rename(pairs));
            }
        }
    }

    fn sort_args(&mut self) -> R<CommandKind> {
        let mut keys = Vec::new();
        loop {
            keys.push(self.expr()?);
            if self.eat_kw("ASC")?.is_none() {
                self.eat_kw("DESC")?;
            }
            if self.eat_kw("NULLS")?.is_some() {
                let t = self.peek()?;
                if t.is_kw("FIRST") || t.is_kw("LAST") {
                    self.bump()?;
                } else {
                    return Err(self.unexpected(&t, "`FIRST` or `LAST`"));
                }
            }
            if self.eat(Tok::Comma)?.is_none() {
                return Ok(CommandKind::Sort(keys));
            }
        }
    }

    /// `name = constant, …` after DISSECT (`APPEND_SEPARATOR = "-"`).
    fn command_options(&mut self) -> R<()> {
        loop {
            let t = self.peek()?;
            if t.kind == Tok::Ident && self.peek_nth(1)?.kind == Tok::Assign {
                self.bump()?;
                self.bump()?;
                self.operand()?;
                if self.eat(Tok::Comma)?.is_none() {
                    return Ok(());
                }
            } else {
                return Ok(());
            }
        }
    }

    fn join_args(&mut self) -> R<CommandKind> {
        let index = self.source_pattern()?;
        self.expect_kw("ON")?;
        let mut on = vec![self.expr()?];
        while self.eat(Tok::Comma)?.is_some() {
            on.push(self.expr()?);
        }
        Ok(CommandKind::LookupJoin { index, on })
    }

    fn enrich_args(&mut self) -> R<CommandKind> {
        let policy = self.source_pattern()?;
        let mut on = None;
        if self.eat_kw("ON")?.is_some() {
            on = Some(self.name_pattern()?);
        }
        let mut with = Vec::new();
        if self.eat_kw("WITH")?.is_some() {
            loop {
                let first = self.name_pattern()?;
                if self.eat(Tok::Assign)?.is_some() {
                    let field = self.name_pattern()?;
                    with.push((first, field));
                } else {
                    with.push((first.clone(), first));
                }
                if self.eat(Tok::Comma)?.is_none() {
                    break;
                }
            }
        }
        Ok(CommandKind::Enrich { policy, on, with })
    }

    fn change_point_args(&mut self) -> R<CommandKind> {
        let value = self.qualified_name()?;
        let mut key = None;
        if self.eat_kw("ON")?.is_some() {
            key = Some(self.qualified_name()?);
        }
        let mut outputs = Vec::new();
        if self.eat_kw("AS")?.is_some() {
            outputs.push(self.qualified_name()?);
            self.expect(Tok::Comma, "`,`")?;
            outputs.push(self.qualified_name()?);
        }
        Ok(CommandKind::ChangePoint {
            value,
            key,
            outputs,
        })
    }

    fn fork_args(&mut self) -> R<CommandKind> {
        let mut branches = Vec::new();
        while self.at(Tok::LParen)? {
            let open = self.bump()?;
            // a FORK inside a FORK costs much more stack than an expression
            for _ in 0..MAX_DEPTH / MAX_FORK_DEPTH {
                self.enter(open.span)?;
            }
            let mut cmds = Vec::new();
            let mut pipe = None;
            loop {
                let c = self.command(pipe, false, true)?;
                cmds.push(c);
                let t = self.peek()?;
                match t.kind {
                    Tok::Pipe => {
                        self.bump()?;
                        pipe = Some(t.span);
                    }
                    _ => break,
                }
            }
            self.close(open.span, Tok::RParen, "`|` or `)`")?;
            for _ in 0..MAX_DEPTH / MAX_FORK_DEPTH {
                self.leave();
            }
            branches.push(cmds);
        }
        if branches.is_empty() {
            let t = self.peek()?;
            return Err(self.unexpected(&t, "`(` starting a FORK branch"));
        }
        Ok(CommandKind::Fork(branches))
    }

    fn completion_args(&mut self) -> R<CommandKind> {
        let target = self.assignment_target()?;
        let prompt = self.expr()?;
        let mut target = target;
        if self.eat_kw("WITH")?.is_some() {
            if self.at(Tok::LBrace)? {
                self.map()?;
            } else {
                self.operand()?;
            }
        }
        if self.eat_kw("AS")?.is_some() {
            target = Some(self.qualified_name()?);
        }
        Ok(CommandKind::Completion { target, prompt })
    }

    // ---- expressions ------------------------------------------------------
    //
    // The functions on the recursive path (expr_bp, prefix, primary, paren,
    // array, call, map, predicate, in_list) keep few locals and leave token
    // inspection and error building to small leaf functions, so a nesting
    // level costs little stack even in unoptimised builds.

    pub fn expr(&mut self) -> R<Expr> {
        self.expr_bp(0)
    }

    /// A primary expression with casts (DISSECT/GROK input, option values).
    fn operand(&mut self) -> R<Expr> {
        let at = self.tok(0)?.span;
        self.enter(at)?;
        let r = self.primary_with_casts();
        self.leave();
        r
    }

    fn expr_bp(&mut self, min: u8) -> R<Expr> {
        let at = self.tok(0)?.span;
        self.enter(at)?;
        let r = self.expr_bp_inner(min);
        self.leave();
        r
    }

    fn expr_bp_inner(&mut self, min: u8) -> R<Expr> {
        let mut lhs = self.prefix(min)?;
        let mut predicate_done = false;
        loop {
            lhs = match self.infix(min, predicate_done)? {
                Infix::Stop => return Ok(lhs),
                Infix::Bool(or) => {
                    self.advance()?;
                    let rhs = self.expr_bp(if or { P_OR + 1 } else { P_AND + 1 })?;
                    predicate_done = false;
                    join_nary(lhs, rhs, or)
                }
                Infix::Predicate => {
                    predicate_done = true;
                    self.predicate(lhs)?
                }
                Infix::Arith(op, bp) => {
                    self.advance()?;
                    let rhs = self.expr_bp(bp + 1)?;
                    join_arith(lhs, op, rhs)
                }
            };
        }
    }

    /// What the next token does after an operand (a leaf: no recursion).
    #[inline(never)]
    fn infix(&mut self, min: u8, predicate_done: bool) -> R<Infix> {
        self.fill(1)?;
        let (Some(t), Some(next)) = (self.buf.first(), self.buf.get(1)) else {
            return Ok(Infix::Stop);
        };
        if t.is_kw("OR") {
            return Ok(if min <= P_OR {
                Infix::Bool(true)
            } else {
                Infix::Stop
            });
        }
        if t.is_kw("AND") {
            return Ok(if min <= P_AND {
                Infix::Bool(false)
            } else {
                Infix::Stop
            });
        }
        if is_predicate_start(t, next) {
            if min > P_PRED {
                return Ok(Infix::Stop);
            }
            if predicate_done {
                let t = t.clone();
                return Err(SyntaxError::new(
                    t.span,
                    format!(
                        "unexpected {}: comparisons cannot be chained, combine them with AND",
                        describe(&t)
                    ),
                ));
            }
            return Ok(Infix::Predicate);
        }
        let arith = match t.kind {
            Tok::Plus => (ArithOp::Add, P_ADD),
            Tok::Minus => (ArithOp::Sub, P_ADD),
            Tok::Star => (ArithOp::Mul, P_MUL),
            Tok::Slash => (ArithOp::Div, P_MUL),
            Tok::Percent => (ArithOp::Mod, P_MUL),
            _ => return Ok(Infix::Stop),
        };
        Ok(if min <= arith.1 {
            Infix::Arith(arith.0, arith.1)
        } else {
            Infix::Stop
        })
    }

    fn prefix(&mut self, min: u8) -> R<Expr> {
        match self.prefix_kind(min)? {
            Prefix::Not => {
                let start = self.advance()?;
                let inner = self.expr_bp(P_NOT)?;
                Ok(wrap_not(start, inner))
            }
            Prefix::Sign(negative) => {
                let start = self.advance()?;
                let inner = self.expr_bp(P_UNARY)?;
                Ok(wrap_sign(start, inner, negative))
            }
            Prefix::Primary => self.primary_with_casts(),
        }
    }

    #[inline(never)]
    fn prefix_kind(&mut self, min: u8) -> R<Prefix> {
        let t = self.tok(0)?;
        Ok(if t.is_kw("NOT") && min <= P_NOT {
            Prefix::Not
        } else if t.kind == Tok::Minus {
            Prefix::Sign(true)
        } else if t.kind == Tok::Plus {
            Prefix::Sign(false)
        } else {
            Prefix::Primary
        })
    }

    fn primary_with_casts(&mut self) -> R<Expr> {
        let p = self.primary()?;
        self.casts(p)
    }

    fn primary(&mut self) -> R<Expr> {
        match self.primary_kind()? {
            Primary::Leaf => self.leaf(),
            Primary::Paren => self.paren(),
            Primary::Array => self.array(),
            Primary::Map => self.map(),
            Primary::Call => self.call(),
        }
    }

    #[inline(never)]
    fn primary_kind(&mut self) -> R<Primary> {
        self.fill(1)?;
        let (Some(t), Some(next)) = (self.buf.first(), self.buf.get(1)) else {
            return Err(self.unexpected_next("an expression"));
        };
        Ok(match t.kind {
            Tok::Number | Tok::Str | Tok::Param | Tok::QuotedIdent => Primary::Leaf,
            Tok::LParen => Primary::Paren,
            Tok::LBracket => Primary::Array,
            Tok::LBrace => Primary::Map,
            Tok::Ident => {
                if NOT_AN_OPERAND.iter().any(|k| t.is_kw(k)) || t.is_kw("NOT") {
                    return Err(self.unexpected_next("an expression"));
                }
                if next.kind == Tok::LParen
                    && !(t.is_kw("TRUE") || t.is_kw("FALSE") || t.is_kw("NULL"))
                {
                    Primary::Call
                } else {
                    Primary::Leaf
                }
            }
            _ => return Err(self.unexpected_next("an expression")),
        })
    }

    /// Literals, parameters and field names (no recursion).
    #[inline(never)]
    fn leaf(&mut self) -> R<Expr> {
        let t = self.tok(0)?.clone();
        match t.kind {
            Tok::Number => {
                self.advance()?;
                let unit = self.tok(0)?;
                if unit.kind == Tok::Ident
                    && TIME_UNITS.iter().any(|u| unit.text.eq_ignore_ascii_case(u))
                {
                    let span = t.span.join(unit.span);
                    self.advance()?;
                    let text = self
                        .text
                        .get(span.start..span.end)
                        .unwrap_or("")
                        .to_string();
                    return Ok(Expr::new(ExprKind::Timespan(text), span));
                }
                Ok(Expr::new(ExprKind::Num(t.text), t.span))
            }
            Tok::Str => {
                self.advance()?;
                Ok(Expr::new(
                    ExprKind::Str {
                        text: t.text,
                        content: t.content,
                        triple: t.triple,
                    },
                    t.span,
                ))
            }
            Tok::Param => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Param(t.text), t.span))
            }
            Tok::Ident if t.is_kw("TRUE") || t.is_kw("FALSE") => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Bool(t.is_kw("TRUE")), t.span))
            }
            Tok::Ident if t.is_kw("NULL") => {
                self.advance()?;
                Ok(Expr::new(ExprKind::Null, t.span))
            }
            _ => {
                let n = self.qualified_name()?;
                Ok(Expr::new(ExprKind::Field(n.text), n.span))
            }
        }
    }

    fn paren(&mut self) -> R<Expr> {
        let open = self.advance()?;
        let inner = self.expr()?;
        let close = self.close(open, Tok::RParen, "`)`")?;
        Ok(widen_paren(inner, open.join(close)))
    }

    fn array(&mut self) -> R<Expr> {
        let open = self.advance()?;
        let mut items = Vec::new();
        if self.kind(0)? != Tok::RBracket {
            loop {
                items.push(self.expr()?);
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RBracket, "`,` or `]`")?;
        Ok(Expr::new(ExprKind::Array(items), open.join(close)))
    }

    fn call(&mut self) -> R<Expr> {
        let (name, name_span, open) = self.call_head()?;
        let mut args = Vec::new();
        if let Some(star) = self.count_star()? {
            args.push(Expr::new(ExprKind::Star, star));
        } else if self.kind(0)? != Tok::RParen {
            loop {
                args.push(self.expr()?);
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RParen, "`,` or `)`")?;
        Ok(Expr::new(
            ExprKind::Call {
                name,
                name_span,
                args,
            },
            name_span.join(close),
        ))
    }

    /// `NAME (`: the upper-cased name, its span and the `(`'s span.
    #[inline(never)]
    fn call_head(&mut self) -> R<(String, Span, Span)> {
        let t = self.tok(0)?;
        let (name, span) = (t.text.to_ascii_uppercase(), t.span);
        self.advance()?;
        let open = self.advance()?;
        Ok((name, span, open))
    }

    /// The `*` of `COUNT(*)`.
    #[inline(never)]
    fn count_star(&mut self) -> R<Option<Span>> {
        if self.kind(0)? == Tok::Star {
            return Ok(Some(self.advance()?));
        }
        Ok(None)
    }

    /// `{ "key": value, … }`
    fn map(&mut self) -> R<Expr> {
        let open = self.tok(0)?.span;
        if self.kind(0)? != Tok::LBrace {
            return Err(self.unexpected_next("`{`"));
        }
        self.advance()?;
        self.enter(open)?;
        let r = self.map_body(open);
        self.leave();
        r
    }

    fn map_body(&mut self, open: Span) -> R<Expr> {
        let mut entries = Vec::new();
        if self.kind(0)? != Tok::RBrace {
            loop {
                let key = self.map_key()?;
                let value = if self.kind(0)? == Tok::LBrace {
                    self.map()?
                } else {
                    self.expr_bp(P_PRED + 1)?
                };
                entries.push((key, value));
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RBrace, "`,` or `}`")?;
        Ok(Expr::new(ExprKind::Map(entries), open.join(close)))
    }

    /// `"key" :`
    #[inline(never)]
    fn map_key(&mut self) -> R<String> {
        let t = self.tok(0)?;
        if !matches!(t.kind, Tok::Str | Tok::Ident) {
            return Err(self.unexpected_next("a string key"));
        }
        let key = t.text.clone();
        self.advance()?;
        if self.kind(0)? != Tok::Colon {
            return Err(self.unexpected_next("`:`"));
        }
        self.advance()?;
        Ok(key)
    }

    /// The predicate after `lhs`: a comparison, `[NOT] IN`, `[NOT] LIKE`,
    /// `[NOT] RLIKE`, `IS [NOT] NULL` or `:`.
    fn predicate(&mut self, lhs: Expr) -> R<Expr> {
        match self.predicate_head()? {
            Pred::Compare(op) => {
                let rhs = self.expr_bp(P_PRED + 1)?;
                Ok(make_compare(op, lhs, rhs))
            }
            Pred::Match => {
                let rhs = self.expr_bp(P_PRED + 1)?;
                Ok(make_match(lhs, rhs))
            }
            Pred::IsNull { negated, end } => Ok(make_is_null(lhs, negated, end)),
            Pred::In { negated } => self.in_list(lhs, negated),
            Pred::Like { negated, rlike } => self.like(lhs, negated, rlike),
        }
    }

    /// Consume the predicate's operator words.
    #[inline(never)]
    fn predicate_head(&mut self) -> R<Pred> {
        let t = self.tok(0)?.clone();
        self.advance()?;
        let cmp = match t.kind {
            Tok::Eq => Some(CmpOp::Eq),
            Tok::Neq => Some(CmpOp::Neq),
            Tok::Lt => Some(CmpOp::Lt),
            Tok::Lte => Some(CmpOp::Lte),
            Tok::Gt => Some(CmpOp::Gt),
            Tok::Gte => Some(CmpOp::Gte),
            Tok::CaseEq => Some(CmpOp::CaseEq),
            _ => None,
        };
        if let Some(op) = cmp {
            return Ok(Pred::Compare(op));
        }
        if t.kind == Tok::Colon {
            return Ok(Pred::Match);
        }
        if t.is_kw("IS") {
            let negated = self.eat_kw("NOT")?.is_some();
            let null = self.expect_kw("NULL")?;
            return Ok(Pred::IsNull {
                negated,
                end: null.span,
            });
        }
        let negated = t.is_kw("NOT");
        let op = if negated { self.bump()? } else { t };
        if op.is_kw("IN") {
            return Ok(Pred::In { negated });
        }
        Ok(Pred::Like {
            negated,
            rlike: op.is_kw("RLIKE"),
        })
    }

    fn in_list(&mut self, lhs: Expr, negated: bool) -> R<Expr> {
        if self.kind(0)? != Tok::LParen {
            return Err(self.unexpected_next("`(`"));
        }
        let open = self.advance()?;
        let mut list = Vec::new();
        if self.kind(0)? != Tok::RParen {
            loop {
                list.push(self.expr()?);
                if !self.eat_comma()? {
                    break;
                }
            }
        }
        let close = self.close(open, Tok::RParen, "`,` or `)`")?;
        Ok(make_in(lhs, list, negated, close))
    }

    /// LIKE / RLIKE patterns: one string, or a parenthesised list.
    #[inline(never)]
    fn like(&mut self, lhs: Expr, negated: bool, rlike: bool) -> R<Expr> {
        let mut patterns = Vec::new();
        let end;
        if self.kind(0)? == Tok::LParen {
            let open = self.advance()?;
            loop {
                patterns.push(self.pattern()?);
                if !self.eat_comma()? {
                    break;
                }
            }
            end = self.close(open, Tok::RParen, "`,` or `)`")?;
        } else {
            let p = self.pattern()?;
            end = p.span;
            patterns.push(p);
        }
        let span = lhs.span.join(end);
        Ok(Expr::new(
            ExprKind::Like {
                expr: Box::new(lhs),
                patterns,
                negated,
                rlike,
            },
            span,
        ))
    }

    fn pattern(&mut self) -> R<Expr> {
        match self.kind(0)? {
            Tok::Str | Tok::Param => self.leaf(),
            _ => Err(self.unexpected_next("a pattern string")),
        }
    }

    #[inline(never)]
    fn casts(&mut self, mut e: Expr) -> R<Expr> {
        let mut types = Vec::new();
        let mut span = e.span;
        while self.eat(Tok::Cast)?.is_some() {
            let t = self.expect(Tok::Ident, "a type name after `::`")?;
            types.push(t.text.to_ascii_lowercase());
            span = span.join(t.span);
        }
        if !types.is_empty() {
            e = Expr::new(
                ExprKind::Cast {
                    expr: Box::new(e),
                    types,
                },
                span,
            );
        }
        Ok(e)
    }
}

enum Infix {
    Stop,
    /// `OR` (true) or `AND` (false).
    Bool(bool),
    Predicate,
    Arith(ArithOp, u8),
}

enum Prefix {
    Not,
    /// Unary minus (true) or plus.
    Sign(bool),
    Primary,
}

enum Primary {
    Leaf,
    Paren,
    Array,
    Map,
    Call,
}

enum Pred {
    Compare(CmpOp),
    Match,
    IsNull { negated: bool, end: Span },
    In { negated: bool },
    Like { negated: bool, rlike: bool },
}

#[cold]
#[inline(never)]
fn too_deep(at: Span) -> SyntaxError {
    SyntaxError::new(
        at,
        format!("query nested more than {MAX_DEPTH} levels deep"),
    )
}

fn wrap_not(start: Span, inner: Expr) -> Expr {
    let span = start.join(inner.span);
    Expr::new(ExprKind::Not(Box::new(inner)), span)
}

fn wrap_sign(start: Span, inner: Expr, negative: bool) -> Expr {
    let span = start.join(inner.span);
    if negative {
        Expr::new(ExprKind::Neg(Box::new(inner)), span)
    } else {
        Expr::new(inner.kind, span)
    }
}

/// Value expressions keep their parentheses in the span (so the text of
/// `(a + b) * 2` is whole); predicates keep their own span.
fn widen_paren(inner: Expr, span: Span) -> Expr {
    if inner.is_predicate() {
        inner
    } else {
        Expr::new(inner.kind, span)
    }
}

fn make_compare(op: CmpOp, lhs: Expr, rhs: Expr) -> Expr {
    let span = lhs.span.join(rhs.span);
    Expr::new(
        ExprKind::Compare {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
        span,
    )
}

fn make_match(field: Expr, value: Expr) -> Expr {
    let span = field.span.join(value.span);
    Expr::new(
        ExprKind::Match {
            field: Box::new(field),
            value: Box::new(value),
        },
        span,
    )
}

fn make_is_null(lhs: Expr, negated: bool, end: Span) -> Expr {
    let span = lhs.span.join(end);
    Expr::new(
        ExprKind::IsNull {
            expr: Box::new(lhs),
            negated,
        },
        span,
    )
}

fn make_in(lhs: Expr, list: Vec<Expr>, negated: bool, close: Span) -> Expr {
    let span = lhs.span.join(close);
    Expr::new(
        ExprKind::In {
            expr: Box::new(lhs),
            list,
            negated,
        },
        span,
    )
}

fn is_predicate_start(t: &Token, next: &Token) -> bool {
    match t.kind {
        Tok::Eq | Tok::Neq | Tok::Lt | Tok::Lte | Tok::Gt | Tok::Gte | Tok::CaseEq | Tok::Colon => {
            true
        }
        Tok::Ident => {
            t.is_kw("IN")
                || t.is_kw("LIKE")
                || t.is_kw("RLIKE")
                || t.is_kw("IS")
                || (t.is_kw("NOT")
                    && (next.is_kw("IN") || next.is_kw("LIKE") || next.is_kw("RLIKE")))
        }
        _ => false,
    }
}

fn join_nary(lhs: Expr, rhs: Expr, or: bool) -> Expr {
    let span = lhs.span.join(rhs.span);
    let mut items = match lhs.kind {
        ExprKind::Or(v) if or => v,
        ExprKind::And(v) if !or => v,
        other => vec![Expr::new(other, lhs.span)],
    };
    items.push(rhs);
    Expr::new(
        if or {
            ExprKind::Or(items)
        } else {
            ExprKind::And(items)
        },
        span,
    )
}

fn level(op: ArithOp) -> u8 {
    match op {
        ArithOp::Add | ArithOp::Sub => P_ADD,
        _ => P_MUL,
    }
}

fn join_arith(lhs: Expr, op: ArithOp, rhs: Expr) -> Expr {
    let span = lhs.span.join(rhs.span);
    match lhs.kind {
        ExprKind::Arith { first, mut rest }
            if rest.first().is_some_and(|(o, _)| level(*o) == level(op)) =>
        {
            rest.push((op, rhs));
            Expr::new(ExprKind::Arith { first, rest }, span)
        }
        other => Expr::new(
            ExprKind::Arith {
                first: Box::new(Expr::new(other, lhs.span)),
                rest: vec![(op, rhs)],
            },
            span,
        ),
    }
}

/// How a token is named in error messages.
pub fn describe(t: &Token) -> String {
    match t.kind {
        Tok::Eof => "the end of the query".to_string(),
        Tok::Str => "a string".to_string(),
        Tok::Number => format!("`{}`", t.text),
        _ => format!("`{}`", t.text),
    }
}
