//! The ES|QL pipeline and the arguments of each command.

use super::*;

impl Parser<'_> {
    pub(super) fn query(&mut self) -> R<Vec<Command>> {
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
    pub(super) fn command(
        &mut self,
        pipe: Option<Span>,
        is_source: bool,
        in_fork: bool,
    ) -> R<Command> {
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
    pub(super) fn skip_command(&mut self, in_fork: bool) -> R<()> {
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

    pub(super) fn source_args(&mut self) -> R<CommandKind> {
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
    pub(super) fn source_pattern(&mut self) -> R<Name> {
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
    pub(super) fn name_pattern(&mut self) -> R<Name> {
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

    pub(super) fn name_list(&mut self) -> R<Vec<Name>> {
        let mut v = vec![self.name_pattern()?];
        while self.eat(Tok::Comma)?.is_some() {
            v.push(self.name_pattern()?);
        }
        Ok(v)
    }

    /// `a.b.c` in expression context, each part bare or backquoted.
    pub(super) fn qualified_name(&mut self) -> R<Name> {
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
    pub(super) fn assignment_target(&mut self) -> R<Option<Name>> {
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

    pub(super) fn assignments(&mut self, allow_bare: bool) -> R<Vec<Assign>> {
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

    pub(super) fn stats_args(&mut self, inline: bool) -> R<CommandKind> {
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

    pub(super) fn rename_args(&mut self) -> R<CommandKind> {
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

    pub(super) fn sort_args(&mut self) -> R<CommandKind> {
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
    pub(super) fn command_options(&mut self) -> R<()> {
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

    pub(super) fn join_args(&mut self) -> R<CommandKind> {
        let index = self.source_pattern()?;
        self.expect_kw("ON")?;
        let mut on = vec![self.expr()?];
        while self.eat(Tok::Comma)?.is_some() {
            on.push(self.expr()?);
        }
        Ok(CommandKind::LookupJoin { index, on })
    }

    pub(super) fn enrich_args(&mut self) -> R<CommandKind> {
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

    pub(super) fn change_point_args(&mut self) -> R<CommandKind> {
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

    pub(super) fn fork_args(&mut self) -> R<CommandKind> {
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

    pub(super) fn completion_args(&mut self) -> R<CommandKind> {
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
}
