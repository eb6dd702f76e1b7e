//! Token access for the ES|QL parser: a lazily filled look-ahead buffer,
//! expectations with precise errors, and the nesting guard.

use super::*;

impl Parser<'_> {
    pub(super) fn fill(&mut self, n: usize) -> LexResult<()> {
        while self.buf.len() <= n {
            let from = self.buf.last().map_or(self.pos, |t| t.span.end);
            let at = lexer::skip_trivia(self.text, from)?;
            let t = lexer::lex_at(self.text, at)?;
            self.buf.push(t);
        }
        Ok(())
    }

    pub(super) fn peek(&mut self) -> R<Token> {
        self.fill(0)?;
        Ok(self
            .buf
            .first()
            .cloned()
            .unwrap_or_else(|| self.eof_token()))
    }

    pub(super) fn peek_nth(&mut self, n: usize) -> R<Token> {
        self.fill(n)?;
        Ok(self.buf.get(n).cloned().unwrap_or_else(|| self.eof_token()))
    }

    pub(super) fn eof_token(&self) -> Token {
        let at = self.text.len();
        Token {
            kind: Tok::Eof,
            span: Span::point(at),
            text: String::new(),
            content: Span::point(at),
            triple: false,
        }
    }

    pub(super) fn bump(&mut self) -> R<Token> {
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
    pub(super) fn seek(&mut self, pos: usize) {
        self.buf.clear();
        self.pos = pos;
        self.last_end = pos;
    }

    pub(super) fn at(&mut self, kind: Tok) -> R<bool> {
        Ok(self.peek()?.kind == kind)
    }

    pub(super) fn at_kw(&mut self, kw: &str) -> R<bool> {
        Ok(self.peek()?.is_kw(kw))
    }

    pub(super) fn eat(&mut self, kind: Tok) -> R<Option<Token>> {
        if self.at(kind)? {
            Ok(Some(self.bump()?))
        } else {
            Ok(None)
        }
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> R<Option<Token>> {
        if self.at_kw(kw)? {
            Ok(Some(self.bump()?))
        } else {
            Ok(None)
        }
    }

    pub(super) fn expect(&mut self, kind: Tok, what: &str) -> R<Token> {
        let t = self.peek()?;
        if t.kind == kind {
            self.bump()
        } else {
            Err(self.unexpected(&t, what))
        }
    }

    pub(super) fn expect_kw(&mut self, kw: &str) -> R<Token> {
        let t = self.peek()?;
        if t.is_kw(kw) {
            self.bump()
        } else {
            Err(self.unexpected(&t, &format!("`{kw}`")))
        }
    }

    #[cold]
    #[inline(never)]
    pub(super) fn unexpected(&self, t: &Token, expected: &str) -> SyntaxError {
        let found = describe(t);
        SyntaxError::new(t.span, format!("expected {expected}, found {found}"))
    }

    /// The error for the next token, which is not what was `expected`.
    #[cold]
    #[inline(never)]
    pub(super) fn unexpected_next(&mut self, expected: &str) -> SyntaxError {
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
    pub(super) fn tok(&mut self, n: usize) -> R<&Token> {
        self.fill(n)?;
        let end = self.text.len();
        self.buf
            .get(n)
            .ok_or_else(|| SyntaxError::new(Span::point(end), "unexpected end of query"))
    }

    pub(super) fn kind(&mut self, n: usize) -> R<Tok> {
        Ok(self.tok(n)?.kind)
    }

    /// Consume the next token, returning its span.
    pub(super) fn advance(&mut self) -> R<Span> {
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

    pub(super) fn eat_comma(&mut self) -> R<bool> {
        if self.kind(0)? == Tok::Comma {
            self.advance()?;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    pub(super) fn enter(&mut self, at: Span) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_deep(at));
        }
        Ok(())
    }

    pub(super) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// `(` … expect `)`: when the query ends first, the error points at the
    /// unclosed `(`.
    pub(super) fn close(&mut self, open: Span, close: Tok, what: &str) -> R<Span> {
        let k = self.kind(0)?;
        if k == close {
            return self.advance();
        }
        Err(self.close_error(open, k, what))
    }

    #[cold]
    #[inline(never)]
    pub(super) fn close_error(&mut self, open: Span, found: Tok, what: &str) -> SyntaxError {
        if matches!(found, Tok::Eof | Tok::Pipe) {
            let sym = self.text.get(open.start..open.end).unwrap_or("(");
            return SyntaxError::new(open, format!("unclosed `{sym}`"));
        }
        self.unexpected_next(what)
    }
}

#[cold]
#[inline(never)]
fn too_deep(at: Span) -> SyntaxError {
    SyntaxError::new(
        at,
        format!("query nested more than {MAX_DEPTH} levels deep"),
    )
}
