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

mod commands;
mod cursor;
mod expressions;

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
