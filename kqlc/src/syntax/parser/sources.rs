//! Tabular expressions and their sources (tables, `print`, `datatable`,
//! `range`, `externaldata`, `union`, nested expressions), and the operators
//! that read another tabular expression (`join`, `union`).

use super::operators::TABULAR_OPERATORS;
use super::{is_keyword_not_name, unsupported_what, Parser};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    self, Datatable, Ident, Join, JoinKey, JoinKind, Range, Source, Span, TabularExpr,
    Unimplemented,
};
use crate::syntax::lexer::{self, Keyword, PResult, TokenKind};

/// Words that start a tabular expression kqlc does not implement yet
/// (`union T1, T2`, `range x from 1 to 3 step 1`, ...).
pub(super) const UNSUPPORTED_SOURCES: &[&str] = &["evaluate"];

impl Parser {
    pub(super) fn at_unsupported_source(&self) -> bool {
        self.word_at(0)
            .is_some_and(|word| UNSUPPORTED_SOURCES.contains(&word))
            && !matches!(
                self.kind_at(1),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof
            )
    }

    pub(super) fn parse_tabular(&mut self) -> PResult<TabularExpr> {
        let start = self.peek().span.start;
        let source = self.parse_source()?;
        let mut operators = Vec::new();
        while self.eat(&TokenKind::Pipe).is_some() {
            operators.push(self.parse_operator()?);
        }
        Ok(TabularExpr {
            source,
            operators,
            span: Span::new(start, self.last_end),
        })
    }

    /// A tabular source; as with operators, one kqlc refuses while
    /// parsing is kept opaque.
    fn parse_source(&mut self) -> PResult<Source> {
        let saved = (self.pos, self.last_end, self.depth);
        match self.parse_source_inner() {
            Err(diagnostic) if diagnostic.code == Code::Unsupported => {
                (self.pos, self.last_end, self.depth) = saved;
                let opaque = self.skip_unimplemented(unsupported_what(&diagnostic), false);
                Ok(Source::Unimplemented(opaque))
            }
            other => other,
        }
    }

    fn parse_source_inner(&mut self) -> PResult<Source> {
        match self.keyword_at(0) {
            Some(Keyword::Print) => {
                let start = self.advance();
                // `print (a, b) = f(...)` names a multi-column function's
                // columns, as in `extend`.
                let items = self.parse_aggregate_list()?;
                return Ok(Source::Print(items, Span::new(start.start, self.last_end)));
            }
            Some(Keyword::Datatable) if *self.kind_at(1) == TokenKind::LParen => {
                return self.parse_datatable().map(Source::Datatable);
            }
            _ => {}
        }
        if self.at_external_data() {
            return self.parse_external_data().map(Source::ExternalData);
        }
        if self.at_word("search")
            && !matches!(
                self.kind_at(1),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof
            )
        {
            let start = self.advance();
            let search = self.parse_search()?;
            return Ok(Source::Search(
                Box::new(search),
                Span::new(start.start, self.last_end),
            ));
        }
        if self.at_word("find")
            && !matches!(
                self.kind_at(1),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof
            )
        {
            let start = self.advance();
            let find = self.parse_find()?;
            return Ok(Source::Find(
                Box::new(find),
                Span::new(start.start, self.last_end),
            ));
        }
        if self.at_unsupported_source() {
            let word = self.word_at(0).unwrap_or_default();
            let what = format!("the '{word}' tabular source");
            return Ok(Source::Unimplemented(self.skip_unimplemented(what, false)));
        }
        if self.at(&TokenKind::LParen) {
            return Ok(Source::Nested(Box::new(self.parse_tabular_operand()?)));
        }
        if self.word_at(0) == Some("range") && self.starts_name(1) {
            self.advance();
            let name = self.parse_name("the range's column name")?;
            self.expect_word("from")?;
            let from = self.parse_expr()?;
            if self.eat_keyword(Keyword::To).is_none() {
                return Err(self.unexpected("`to`").into());
            }
            let to = self.parse_expr()?;
            self.expect_word("step")?;
            let step = self.parse_expr()?;
            return Ok(Source::Range(Box::new(Range {
                name,
                from,
                to,
                step,
            })));
        }
        if self.word_at(0) == Some("materialize") && *self.kind_at(1) == TokenKind::LParen {
            // `materialize` caches a result; evaluating it again gives the same rows.
            self.advance();
            return Ok(Source::Nested(Box::new(self.parse_tabular_operand()?)));
        }
        if self.word_at(0) == Some("union") {
            let start = self.advance();
            return Ok(match self.parse_union()? {
                Ok(union) => Source::Union(union, Span::new(start.start, self.last_end)),
                Err(what) => {
                    let mut opaque = self.skip_unimplemented(what, false);
                    opaque.span = start.to(opaque.span);
                    opaque.text = format!("union {}", opaque.text);
                    Source::Unimplemented(opaque)
                }
            });
        }
        if let Some(word) = self.word_at(0) {
            let is_operator = TABULAR_OPERATORS.iter().any(|(name, _)| *name == word);
            if is_operator
                && !matches!(
                    self.kind_at(1),
                    TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof
                )
            {
                return Err(self
                    .unexpected("a table name, `print` or `datatable`")
                    .with_help("tabular operators come after a `|`, as in `TableName | where ...`")
                    .into());
            }
        }
        let keyword = self.word_at(0).is_some_and(is_keyword_not_name);
        if !self.starts_name(0) || keyword {
            return Err(self
                .unexpected("a tabular expression (a table name, `print` or `datatable`)")
                .into());
        }
        let name = self.parse_name("a table name")?;
        if self.at(&TokenKind::Dot) {
            // `db.T`: a table of another database, kept opaque.
            let what = "a qualified table name (`database.table`)".to_string();
            return Ok(Source::Unimplemented(self.skip_reference(name.span, what)));
        }
        if self.at(&TokenKind::LParen) {
            let (pos, last_end, depth) = (self.pos, self.last_end, self.depth);
            let call = self.parse_call(name.clone());
            if call.is_ok() && !self.at(&TokenKind::Dot) {
                return call.map(Source::Call);
            }
            // `cluster("c").database("d").T`, `arg("").T`: references to
            // other data sources, kept opaque.
            (self.pos, self.last_end, self.depth) = (pos, last_end, depth);
            let what = format!("the reference to another data source '{}(...)'", name.name);
            return Ok(Source::Unimplemented(self.skip_reference(name.span, what)));
        }
        Ok(Source::Named(name))
    }

    /// The rest of a reference to another data source after its first
    /// name (`start`): `.name` and balanced `(...)` parts, kept as text.
    fn skip_reference(&mut self, start: Span, what: String) -> Unimplemented {
        loop {
            match self.kind_at(0) {
                TokenKind::Dot if self.starts_name(1) => {
                    self.advance();
                    let name = self.parse_name("a name").ok();
                    // `database("db").Sign*`: the tables whose names match
                    // (`find in (...)`, `union`).
                    if let Some(name) = name {
                        if self.at(&TokenKind::Star) && self.peek().span.start == name.span.end {
                            self.advance();
                        }
                    }
                }
                // `database("*").*`: every table.
                TokenKind::Dot if *self.kind_at(1) == TokenKind::Star => {
                    self.advance();
                    self.advance();
                }
                TokenKind::LParen => {
                    let mut depth = 0usize;
                    loop {
                        match self.kind_at(0) {
                            TokenKind::LParen => depth += 1,
                            TokenKind::RParen => depth -= 1,
                            TokenKind::Eof => break,
                            _ => {}
                        }
                        self.advance();
                        if depth == 0 {
                            break;
                        }
                    }
                }
                _ => break,
            }
        }
        let span = start.to(Span::new(self.last_end, self.last_end));
        Unimplemented {
            what,
            text: self
                .source
                .get(span.start..span.end)
                .unwrap_or_default()
                .to_string(),
            span,
            binds: Vec::new(),
        }
    }

    /// `externaldata` or `external_data` followed by `(`.
    pub(super) fn at_external_data(&self) -> bool {
        matches!(self.word_at(0), Some("externaldata" | "external_data"))
            && *self.kind_at(1) == TokenKind::LParen
    }

    fn parse_external_data(&mut self) -> PResult<ast::ExternalData> {
        let start = self.advance();
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut columns = Vec::new();
        loop {
            let name = self.parse_name("a column name")?;
            self.expect(&TokenKind::Colon, "`:`")?;
            columns.push((name, self.parse_type()?));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        self.expect(&TokenKind::LBracket, "`[` and the files to read")?;
        let mut uris = Vec::new();
        while !self.at(&TokenKind::RBracket) {
            uris.push(self.parse_expr()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBracket, "`,` or `]`")?;
        let mut options = Vec::new();
        if self.word_at(0) == Some("with") && *self.kind_at(1) == TokenKind::LParen {
            self.advance();
            self.advance();
            while !self.at(&TokenKind::RParen) {
                let name = self.parse_name("an option name")?;
                self.expect(&TokenKind::Assign, "`=`")?;
                options.push((name, self.parse_expr()?));
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
        }
        Ok(ast::ExternalData {
            columns,
            uris,
            options,
            span: Span::new(start.start, self.last_end),
        })
    }

    fn parse_datatable(&mut self) -> PResult<Datatable> {
        let start = self.advance();
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut columns = Vec::new();
        loop {
            let name = self.parse_name("a column name")?;
            self.expect(&TokenKind::Colon, "`:`")?;
            let column_type = self.parse_type()?;
            columns.push((name, column_type));
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RParen, "`,` or `)`")?;
        self.expect(&TokenKind::LBracket, "`[`")?;
        let mut values = Vec::new();
        // Kusto allows a trailing comma after the last value.
        while !self.at(&TokenKind::RBracket) {
            values.push(self.parse_expr()?);
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        self.expect(&TokenKind::RBracket, "`,` or `]`")?;
        Ok(Datatable {
            columns,
            values,
            span: Span::new(start.start, self.last_end),
        })
    }

    /// `join`/`lookup` after the operator name: options, the right side,
    /// `on` keys.
    /// Or, with a valid option kqlc does not implement (`withsource=`),
    /// what to report, the position back before the options.
    pub(super) fn parse_join(&mut self, default_kind: JoinKind) -> PResult<Result<Join, String>> {
        let (pos, last_end) = (self.pos, self.last_end);
        let mut kind = default_kind;
        for (name, value, _) in self.parse_options()? {
            if name == "kind" {
                match JoinKind::from_name(&value) {
                    Some(known) => kind = known,
                    // Kusto's grammar takes any kind; the checker refuses it.
                    None => {
                        (self.pos, self.last_end) = (pos, last_end);
                        return Ok(Err(format!("join kind '{value}'")));
                    }
                }
            } else if !name.starts_with("hint.") {
                (self.pos, self.last_end) = (pos, last_end);
                return Ok(Err(format!("join option '{name}'")));
            }
        }
        let right = self.parse_tabular_operand()?;
        self.expect_word("on")?;
        let mut on = Vec::new();
        loop {
            if self.word_at(0) == Some("$left") {
                self.advance();
                self.expect(&TokenKind::Dot, "`.`")?;
                let left = self.parse_name("a column of the left side")?;
                self.expect(&TokenKind::EqEq, "`==`")?;
                if self.word_at(0) != Some("$right") {
                    return Err(self.unexpected("`$right`").into());
                }
                self.advance();
                self.expect(&TokenKind::Dot, "`.`")?;
                let right = self.parse_name("a column of the right side")?;
                on.push(JoinKey::Pair(left, right));
            } else {
                on.push(JoinKey::Same(self.parse_name("a key column")?));
            }
            if self.eat(&TokenKind::Comma).is_none() && self.eat_keyword(Keyword::And).is_none() {
                break;
            }
        }
        Ok(Ok(Join {
            kind,
            right: Box::new(right),
            on,
        }))
    }

    /// A tabular operand: `(TABULAR)` or a table name.
    /// A table of `union`: a tabular operand, or a wildcard pattern of
    /// table names (`*`, `Sign*`), which kqlc does not implement yet.
    fn parse_union_operand(&mut self) -> PResult<TabularExpr> {
        let glued_star = matches!(self.kind_at(0), TokenKind::Ident(_))
            && *self.kind_at(1) == TokenKind::Star
            && self.peek_at(1).span.start == self.peek().span.end;
        if self.at(&TokenKind::Star) || glued_star {
            // `union *`, `union Sign*`: the tables whose names match.
            let pattern = self.parse_column_pattern()?;
            let span = pattern.name.span;
            return Ok(TabularExpr {
                source: Source::Unimplemented(Unimplemented {
                    what: format!("a wildcard table reference '{}'", pattern.name.name),
                    text: pattern.name.name,
                    span,
                    binds: Vec::new(),
                }),
                operators: Vec::new(),
                span,
            });
        }
        self.parse_tabular_operand()
    }

    pub(super) fn parse_tabular_operand(&mut self) -> PResult<TabularExpr> {
        if self.at(&TokenKind::LParen) {
            self.advance();
            let inner = self.parse_tabular()?;
            self.expect_closing_paren()?;
            return Ok(inner);
        }
        if self.starts_name(0) && *self.kind_at(self.name_length(0)) == TokenKind::LParen {
            // `F(x)`: a function that returns a table (or a reference to
            // another data source, which parse_source keeps opaque).
            let start = self.peek().span.start;
            let source = self.parse_source()?;
            return Ok(TabularExpr {
                source,
                operators: Vec::new(),
                span: Span::new(start, self.last_end),
            });
        }
        let name = self.parse_name("a table name or `(`")?;
        let span = name.span;
        Ok(TabularExpr {
            source: Source::Named(name),
            operators: Vec::new(),
            span,
        })
    }

    /// `union` after its name: options, then the tables; or, with a valid
    /// option kqlc does not implement (`kind=left`, `withsource=['a b']`),
    /// what to report, the position back before the options.
    pub(super) fn parse_union(&mut self) -> PResult<Result<ast::Union, String>> {
        let (pos, last_end) = (self.pos, self.last_end);
        let mut union = ast::Union {
            inner: false,
            with_source: None,
            fuzzy: false,
            tables: Vec::new(),
        };
        for (name, value, span) in self.parse_options()? {
            match (name.as_str(), value.as_str()) {
                ("kind", "inner") => union.inner = true,
                ("kind", "outer") => union.inner = false,
                ("isfuzzy", "true") => union.fuzzy = true,
                ("isfuzzy", "false") => union.fuzzy = false,
                ("withsource", _) if lexer::is_identifier(&value) => {
                    let name_span = Span::new(span.end - value.len(), span.end);
                    union.with_source = Some(Ident {
                        name: value,
                        span: name_span,
                    });
                }
                _ if name.starts_with("hint.") => {}
                ("kind" | "isfuzzy" | "withsource", _) => {
                    (self.pos, self.last_end) = (pos, last_end);
                    return Ok(Err(format!("union option '{name}={value}'")));
                }
                _ => {
                    return Err(Diagnostic::new(
                        Code::UnexpectedToken,
                        format!("unknown union option '{name}={value}'"),
                        span,
                    )
                    .with_help(
                        "options: kind=inner|outer, withsource=NAME, isfuzzy=true|false, hint.*",
                    )
                    .into())
                }
            }
        }
        union.tables.push(self.parse_union_operand()?);
        while self.eat(&TokenKind::Comma).is_some() {
            union.tables.push(self.parse_union_operand()?);
        }
        Ok(Ok(union))
    }

    /// `find` after its name (`find-operator.md`, and the grammar of
    /// Microsoft's parser): `[OPTION=VALUE ...] [in (TABLE, ...)] where
    /// PREDICATE`, or `PREDICATE` alone when neither options nor `in` come
    /// first; then `project-smart` or `project COLUMN[: TYPE], ...` with
    /// `pack_all()` (or `pack(*)`) last. The tables are names, wildcard
    /// patterns and references to other databases, not pipelines.
    pub(super) fn parse_find(&mut self) -> PResult<ast::Find> {
        let mut with_source = None;
        let options = self.parse_options()?;
        let had_options = !options.is_empty();
        for (name, value, span) in options {
            match name.as_str() {
                "withsource" if lexer::is_identifier(&value) => {
                    with_source = Some(Ident {
                        name: value.clone(),
                        span: Span::new(span.end - value.len(), span.end),
                    });
                }
                // Which extents Kusto reads (hot cache or all): a detector
                // reads all its input.
                "datascope" => {}
                _ if name.starts_with("hint.") => {}
                // Microsoft's parser takes any `name=value` here; its
                // analysis refuses the others.
                _ => {
                    return Err(Diagnostic::new(
                        Code::Unsupported,
                        format!("`find` option '{name}={value}'"),
                        span,
                    )
                    .into())
                }
            }
        }
        let mut tables = None;
        if self.keyword_at(0) == Some(Keyword::In) && *self.kind_at(1) == TokenKind::LParen {
            self.advance();
            self.advance();
            let mut list = Vec::new();
            loop {
                if self.at(&TokenKind::LParen) {
                    return Err(self.unexpected("a table name").into());
                }
                list.push(self.parse_union_operand()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect_closing_paren()?;
            tables = Some(list);
        }
        if self.at_word("where") {
            self.advance();
        } else if had_options || tables.is_some() {
            return Err(self.unexpected("`where`").into());
        }
        let predicate = self.parse_expr()?;
        let output = self.parse_find_output()?;
        Ok(ast::Find {
            with_source,
            tables,
            predicate,
            output,
        })
    }

    /// `find`'s output clause, if any: `project-smart`, or `project` and its
    /// columns.
    fn parse_find_output(&mut self) -> PResult<ast::FindOutput> {
        if !self.at_word("project") {
            return Ok(ast::FindOutput::Smart);
        }
        let glued = |p: &Self, i: usize| p.peek_at(i).span.start == p.peek_at(i - 1).span.end;
        if *self.kind_at(1) == TokenKind::Minus
            && self.word_at(2) == Some("smart")
            && glued(self, 1)
            && glued(self, 2)
        {
            for _ in 0..3 {
                self.advance();
            }
            return Ok(ast::FindOutput::Smart);
        }
        self.advance();
        let mut columns = Vec::new();
        let mut pack = false;
        loop {
            let pack_all = self.word_at(0) == Some("pack_all")
                && *self.kind_at(1) == TokenKind::LParen
                && *self.kind_at(2) == TokenKind::RParen;
            let pack_star = self.word_at(0) == Some("pack")
                && *self.kind_at(1) == TokenKind::LParen
                && *self.kind_at(2) == TokenKind::Star
                && *self.kind_at(3) == TokenKind::RParen;
            if pack || pack_all || pack_star {
                if pack {
                    // Microsoft's parser takes it; its analysis requires the
                    // pack to be the last item.
                    return Err(Diagnostic::new(
                        Code::Unsupported,
                        "a second pack in `find`'s project list",
                        self.peek().span,
                    )
                    .into());
                }
                for _ in 0..if pack_all { 3 } else { 4 } {
                    self.advance();
                }
                pack = true;
            } else {
                if pack {
                    return Err(Diagnostic::new(
                        Code::Unsupported,
                        "a column after the pack in `find`'s project list",
                        self.peek().span,
                    )
                    .into());
                }
                let name = self.parse_name("a column name")?;
                let ty = if self.eat(&TokenKind::Colon).is_some() {
                    Some(self.parse_type()?)
                } else {
                    None
                };
                columns.push((name, ty));
            }
            if self.eat(&TokenKind::Comma).is_none() {
                break;
            }
        }
        Ok(ast::FindOutput::Project { columns, pack })
    }

    /// `search` after its name: `[kind=K] [in (TABLE, ...)] PREDICATE`
    /// (`in` after a pipe parses, as in Kusto; the checker refuses it).
    pub(super) fn parse_search(&mut self) -> PResult<ast::Search> {
        let mut case_sensitive = false;
        for (name, value, span) in self.parse_options()? {
            match (name.as_str(), value.as_str()) {
                ("kind", "case_sensitive") => case_sensitive = true,
                ("kind", "case_insensitive" | "default") => case_sensitive = false,
                _ if name.starts_with("hint.") => {}
                // Microsoft's parser takes any `name=value` here; its
                // analysis refuses the others.
                _ => {
                    return Err(Diagnostic::new(
                        Code::Unsupported,
                        format!("`search` option '{name}={value}'"),
                        span,
                    )
                    .into())
                }
            }
        }
        let mut tables = Vec::new();
        if self.keyword_at(0) == Some(Keyword::In) && *self.kind_at(1) == TokenKind::LParen {
            self.advance();
            self.advance();
            loop {
                // Table names (or patterns), not parenthesized pipelines.
                if self.at(&TokenKind::LParen) {
                    return Err(self.unexpected("a table name").into());
                }
                tables.push(self.parse_union_operand()?);
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect_closing_paren()?;
        }
        let predicate = if self.at(&TokenKind::Star)
            && matches!(
                self.kind_at(1),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof | TokenKind::RParen
            ) {
            let span = self.advance();
            ast::Expr {
                kind: ast::ExprKind::Star,
                span,
            }
        } else {
            let outer = std::mem::replace(&mut self.search_predicate, true);
            let predicate = self.parse_expr();
            self.search_predicate = outer;
            predicate?
        };
        Ok(ast::Search {
            case_sensitive,
            tables,
            predicate,
        })
    }
}
