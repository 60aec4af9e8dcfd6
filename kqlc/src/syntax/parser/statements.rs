//! Statements: the query and its statements, `let` (scalar, tabular,
//! user-defined functions), query parameters and tabular calls.

use super::sources::UNSUPPORTED_SOURCES;
use super::{unsupported_what, Parser};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, Ident, Let, LetValue, Query, Span, Statement};
use crate::syntax::lexer::{Keyword, PResult, TokenKind};

/// Words that start a statement kqlc does not implement yet (`set x = 1;`).
pub(super) const UNSUPPORTED_STATEMENTS: &[&str] =
    &["declare", "set", "alias", "pattern", "restrict"];

/// The `set` options kqlc implements (they change results): each is a
/// [`ast::SetOption`] with its value parsed as an expression.
pub(crate) const SET_OPTIONS: &[&str] = &["query_bin_auto_size", "query_bin_auto_at"];

impl Parser {
    /// Parses the whole query: statements separated by `;` (a trailing `;`
    /// is allowed), up to the end of input.
    // The diagnostic is returned by value: that is `syntax::parse`'s API.
    #[allow(clippy::result_large_err)]
    pub(crate) fn parse_query(&mut self) -> Result<Query, Diagnostic> {
        self.parse_statements().map_err(|diagnostic| *diagnostic)
    }

    fn parse_statements(&mut self) -> PResult<Query> {
        let mut statements = Vec::new();
        while !self.at(&TokenKind::Eof) {
            if let Some(lets) = self.parse_query_parameters()? {
                statements.extend(lets);
                if self.eat(&TokenKind::Semicolon).is_none() && !self.at(&TokenKind::Eof) {
                    return Err(self.unexpected("`;` or end of input").into());
                }
                continue;
            }
            let statement = self.parse_statement()?;
            let tabular = matches!(
                statement,
                Statement::Tabular(_)
                    | Statement::Let(Let {
                        value: LetValue::Tabular(_),
                        ..
                    })
            );
            statements.push(statement);
            if self.eat(&TokenKind::Semicolon).is_none() && !self.at(&TokenKind::Eof) {
                return Err(self
                    .unexpected(if tabular {
                        "`|`, `;` or end of input"
                    } else {
                        "`;` or end of input"
                    })
                    .into());
            }
        }
        Ok(Query {
            statements,
            span: Span::new(0, self.eof.span.end),
        })
    }

    /// `declare query_parameters(NAME: TYPE = DEFAULT, ...)`: values a
    /// client may pass with the query. A detector has no client, so each
    /// takes its default: the statement is the `let`s it amounts to. With a
    /// parameter without a default, the statement stays unimplemented (one
    /// error, for the first such parameter), binding the names it declares.
    fn parse_query_parameters(&mut self) -> PResult<Option<Vec<Statement>>> {
        if !(self.word_at(0) == Some("declare")
            && self.word_at(1) == Some("query_parameters")
            && *self.kind_at(2) == TokenKind::LParen)
        {
            return Ok(None);
        }
        let (pos, last_end) = (self.pos, self.last_end);
        let start = self.advance();
        self.advance();
        self.advance();
        let mut lets = Vec::new();
        let mut names = Vec::new();
        let mut without_default = None;
        if !self.at(&TokenKind::RParen) {
            loop {
                let param = self.parse_param()?;
                names.push(param.name.clone());
                match param.kind {
                    ast::ParamKind::Scalar {
                        default: Some(value),
                        ..
                    } => lets.push(Statement::Let(Let {
                        name: param.name,
                        value: LetValue::Scalar(value),
                        span: Span::new(start.start, self.last_end),
                    })),
                    _ => {
                        without_default.get_or_insert(param.name.name);
                    }
                }
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        if let Some(name) = without_default {
            (self.pos, self.last_end) = (pos, last_end);
            let mut opaque = self.skip_unimplemented(
                format!("query parameter '{name}' without a default value"),
                true,
            );
            opaque.binds = names;
            return Ok(Some(vec![Statement::Unimplemented(opaque)]));
        }
        Ok(Some(lets))
    }

    /// A statement; one kqlc refuses while parsing (a `let` function with
    /// an unreadable typed literal, ...) is kept opaque up to its `;`.
    fn parse_statement(&mut self) -> PResult<Statement> {
        let saved = (self.pos, self.last_end, self.depth);
        match self.parse_statement_inner() {
            Err(diagnostic) if diagnostic.code == Code::Unsupported => {
                (self.pos, self.last_end, self.depth) = saved;
                let opaque = self.skip_unimplemented(unsupported_what(&diagnostic), true);
                Ok(Statement::Unimplemented(opaque))
            }
            other => other,
        }
    }

    fn parse_statement_inner(&mut self) -> PResult<Statement> {
        if self.keyword_at(0) == Some(Keyword::Let) && self.starts_name(1) {
            return self.parse_let().map(Statement::Let);
        }
        if self.at_word("set")
            && SET_OPTIONS.contains(&self.word_at(1).unwrap_or_default())
            && *self.kind_at(2) == TokenKind::Assign
        {
            let start = self.advance();
            let name = self.parse_name("an option name")?;
            self.advance(); // `=`
            let value = self.parse_expr()?;
            return Ok(Statement::Set(ast::SetOption {
                name,
                value,
                span: Span::new(start.start, self.last_end),
            }));
        }
        if let Some(word) = self.word_at(0) {
            if UNSUPPORTED_STATEMENTS.contains(&word) && self.starts_name(1) {
                let what = format!("the '{word}' statement");
                return Ok(Statement::Unimplemented(
                    self.skip_unimplemented(what, true),
                ));
            }
        }
        self.parse_tabular().map(Statement::Tabular)
    }

    fn parse_let(&mut self) -> PResult<Let> {
        let start = self.advance();
        let name = self.parse_name("a name after `let`")?;
        self.expect(&TokenKind::Assign, "`=`")?;
        if self.at_function_definition() {
            let function = self.parse_function()?;
            return Ok(Let {
                name,
                value: LetValue::Function(function),
                span: Span::new(start.start, self.last_end),
            });
        }
        let value = if self.starts_tabular_value() {
            LetValue::Tabular(Box::new(self.parse_tabular()?))
        } else {
            LetValue::Scalar(self.parse_expr()?)
        };
        Ok(Let {
            name,
            value,
            span: Span::new(start.start, self.last_end),
        })
    }

    /// `(a: long, b: string) { EXPR }`.
    /// A user-defined function after `let NAME =`:
    /// `[view] (PARAM, ...) { [let ...;] BODY }`.
    fn parse_function(&mut self) -> PResult<ast::Function> {
        if self.word_at(0) == Some("view") {
            self.advance();
        }
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut params = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                params.push(self.parse_param()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        self.expect(&TokenKind::LBrace, "`{`")?;
        let mut lets = Vec::new();
        while self.keyword_at(0) == Some(Keyword::Let) && self.starts_name(1) {
            lets.push(self.parse_let()?);
            self.expect(
                &TokenKind::Semicolon,
                "`;` after a `let` in a function body",
            )?;
            while self.eat(&TokenKind::Semicolon).is_some() {}
        }
        let body = if self.tabular_ahead(|kind| matches!(kind, TokenKind::RBrace)) {
            ast::FunctionBody::Tabular(Box::new(self.parse_tabular()?))
        } else {
            ast::FunctionBody::Scalar(self.parse_expr()?)
        };
        self.eat(&TokenKind::Semicolon);
        self.expect(&TokenKind::RBrace, "`}`")?;
        Ok(ast::Function { params, lets, body })
    }

    /// `NAME: TYPE [= DEFAULT]`, `NAME: (*)` or `NAME: (COL: TYPE, ...)`.
    fn parse_param(&mut self) -> PResult<ast::Param> {
        let name = self.parse_name("a parameter name")?;
        self.expect(&TokenKind::Colon, "`:`")?;
        if self.eat(&TokenKind::LParen).is_some() {
            let columns = if self.eat(&TokenKind::Star).is_some() {
                None
            } else {
                let mut columns = Vec::new();
                loop {
                    let column = self.parse_name("a column name")?;
                    self.expect(&TokenKind::Colon, "`:`")?;
                    columns.push((column, self.parse_type()?));
                    if self.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
                Some(columns)
            };
            self.expect(&TokenKind::RParen, "`)`")?;
            return Ok(ast::Param {
                name,
                kind: ast::ParamKind::Tabular(columns),
            });
        }
        let ty = self.parse_type()?;
        let default = if self.eat(&TokenKind::Assign).is_some() {
            Some(self.parse_expr()?)
        } else {
            None
        };
        Ok(ast::Param {
            name,
            kind: ast::ParamKind::Scalar { ty, default },
        })
    }

    /// Whether the tokens from here to the first `stop` token outside
    /// brackets form a tabular expression: they start with a tabular source
    /// keyword, or hold a `|` outside brackets (or inside one leading
    /// parenthesis: `(T | take 1)`).
    pub(super) fn tabular_ahead(&self, stop: impl Fn(&TokenKind) -> bool) -> bool {
        match self.keyword_at(0) {
            Some(Keyword::Print) => return true,
            Some(Keyword::Datatable) if *self.kind_at(1) == TokenKind::LParen => return true,
            _ => {}
        }
        if self.at_unsupported_source()
            || self.at_external_data()
            || (self.word_at(0) == Some("materialize") && *self.kind_at(1) == TokenKind::LParen)
            || (self.word_at(0) == Some("range") && self.starts_name(1))
            || (self.word_at(0) == Some("union") && !matches!(self.kind_at(1), TokenKind::LParen))
        {
            return true;
        }
        let pipe_depth = usize::from(*self.kind_at(0) == TokenKind::LParen);
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                ref kind if depth == 0 && stop(kind) => return false,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                }
                TokenKind::Pipe if depth <= pipe_depth => return true,
                TokenKind::Semicolon | TokenKind::Eof => return false,
                _ => {}
            }
        }
        false
    }

    /// Whether a `|` outside brackets comes before the first `stop` token.
    fn pipe_ahead(&self, stop: impl Fn(&TokenKind) -> bool) -> bool {
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                ref kind if depth == 0 && stop(kind) => return false,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    if depth == 0 {
                        return false;
                    }
                    depth -= 1;
                }
                TokenKind::Pipe if depth == 0 => return true,
                TokenKind::Semicolon | TokenKind::Eof => return false,
                _ => {}
            }
        }
        false
    }

    /// `f(ARG, ...)` after the function's name: each argument is tabular or
    /// scalar as `tabular_ahead` says.
    pub(super) fn parse_call(&mut self, name: Ident) -> PResult<ast::Call> {
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            loop {
                // A piped argument is parenthesized: `f((T | take 1))`.
                let tabular = !self
                    .pipe_ahead(|kind| matches!(kind, TokenKind::Comma | TokenKind::RParen))
                    && self
                        .tabular_ahead(|kind| matches!(kind, TokenKind::Comma | TokenKind::RParen));
                args.push(if tabular {
                    ast::Argument::Tabular(self.parse_tabular()?)
                } else if self.at_name_then_assign() {
                    ast::Argument::Scalar(self.parse_named_argument()?)
                } else {
                    ast::Argument::Scalar(self.parse_expr()?)
                });
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        Ok(ast::Call {
            span: name.span.to(Span::new(self.last_end, self.last_end)),
            name,
            args,
        })
    }

    /// `(` followed by `)` or `name:` starts a function's parameter list,
    /// optionally after `view`.
    fn at_function_definition(&self) -> bool {
        let offset = usize::from(self.word_at(0) == Some("view"));
        *self.kind_at(offset) == TokenKind::LParen
            && (*self.kind_at(offset + 1) == TokenKind::RParen
                || (self.starts_name(offset + 1)
                    && *self.kind_at(offset + 1 + self.name_length(offset + 1))
                        == TokenKind::Colon))
    }

    /// A `let` value is tabular if it starts with a tabular source keyword or
    /// has a `|` outside brackets before the end of the statement.
    fn starts_tabular_value(&self) -> bool {
        match self.keyword_at(0) {
            Some(Keyword::Print) => return true,
            Some(Keyword::Datatable) if *self.kind_at(1) == TokenKind::LParen => return true,
            _ => {}
        }
        if self.at_unsupported_source()
            || self.at_external_data()
            || self.word_at(0) == Some("materialize")
            || (self.word_at(0) == Some("range") && self.starts_name(1))
        {
            return true;
        }
        if *self.kind_at(0) == TokenKind::LParen
            && self
                .word_at(1)
                .is_some_and(|w| UNSUPPORTED_SOURCES.contains(&w) || w == "externaldata")
        {
            return true;
        }
        // `(T | where ...)` is a tabular expression in parentheses (which
        // parse_source reports as unsupported), so a pipe directly inside a
        // leading parenthesis counts too.
        let parenthesized = *self.kind_at(0) == TokenKind::LParen;
        let pipe_depth = usize::from(parenthesized);
        let mut depth = 0usize;
        for token in self.tokens.get(self.pos..).unwrap_or_default() {
            match token.kind {
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.saturating_sub(1)
                }
                TokenKind::Pipe if depth <= pipe_depth => return true,
                TokenKind::Semicolon if depth == 0 => return false,
                _ => {}
            }
        }
        false
    }
}
