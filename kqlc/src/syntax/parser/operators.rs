//! Tabular operators: the dispatch on the operator's name, and the pieces
//! many operators share (named expression lists, column patterns, sort
//! keys, `kind=` options and hints).

use super::{unsupported_what, Parser};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::syntax::ast::{
    self, Expr, Ident, JoinKind, NamedExpr, Operator, OperatorKind, SortExpr, Span, Unimplemented,
};
use crate::syntax::lexer::{PResult, TokenKind};

/// What the parser does with a tabular operator name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OperatorName {
    Where,
    Extend,
    Project,
    ProjectAway,
    ProjectRename,
    MvExpand,
    Take,
    Count,
    Summarize,
    Sort,
    Top,
    Distinct,
    ProjectKeep,
    ProjectReorder,
    Join,
    Lookup,
    Union,
    Parse,
    ParseWhere,
    As,
    Invoke,
    MvApply,
    Sample,
    Serialize,
    MakeSeries,
    TopNested,
    TopHitters,
    SampleDistinct,
    GetSchema,
    Render,
    Partition,
    Evaluate,
    ProjectByNames,
    Scan,
    ParseKv,
    Search,
    MakeGraph,
    GraphMatch,
    GraphShortestPaths,
    GraphToTable,
    GraphMarkComponents,
    /// A KQL operator kqlc does not implement yet.
    NotYetSupported,
}

/// The tabular operator table: every operator name KQL has after a `|`.
/// Hyphenated names are the tokens `word - word` written without spaces; the
/// parser glues them together before looking them up here.
pub(super) const TABULAR_OPERATORS: &[(&str, OperatorName)] = {
    use OperatorName::*;
    &[
        ("where", Where),
        ("filter", Where),
        ("extend", Extend),
        ("project", Project),
        ("project-away", ProjectAway),
        ("project-rename", ProjectRename),
        ("mv-expand", MvExpand),
        ("mvexpand", MvExpand),
        ("take", Take),
        ("limit", Take),
        ("count", Count),
        ("as", As),
        ("assert-schema", NotYetSupported),
        ("consume", NotYetSupported),
        ("distinct", Distinct),
        ("evaluate", Evaluate),
        ("execute-and-cache", NotYetSupported),
        ("facet", NotYetSupported),
        ("find", NotYetSupported),
        ("fork", NotYetSupported),
        ("getschema", GetSchema),
        ("graph-mark-components", GraphMarkComponents),
        ("graph-match", GraphMatch),
        ("graph-shortest-paths", GraphShortestPaths),
        ("graph-to-table", GraphToTable),
        ("invoke", Invoke),
        ("join", Join),
        ("lookup", Lookup),
        ("macro-expand", NotYetSupported),
        ("make-graph", MakeGraph),
        ("make-series", MakeSeries),
        ("mv-apply", MvApply),
        ("mvapply", MvApply),
        ("order", Sort),
        ("parse", Parse),
        ("parse-kv", ParseKv),
        ("parse-where", ParseWhere),
        ("partition", Partition),
        ("project-by-names", ProjectByNames),
        ("project-keep", ProjectKeep),
        ("project-reorder", ProjectReorder),
        ("reduce", NotYetSupported),
        ("render", Render),
        ("sample", Sample),
        ("sample-distinct", SampleDistinct),
        ("scan", Scan),
        ("search", Search),
        ("serialize", Serialize),
        ("sort", Sort),
        ("summarize", Summarize),
        ("top", Top),
        ("top-hitters", TopHitters),
        ("top-nested", TopNested),
        ("union", Union),
    ]
};

impl Parser {
    /// An operator; one that is valid syntax but uses something kqlc
    /// refuses while parsing (an unreadable typed literal, ...) is kept opaque, so
    /// the checker reports it and `--syntax-only` accepts it.
    pub(super) fn parse_operator(&mut self) -> PResult<Operator> {
        let saved = (self.pos, self.last_end, self.depth);
        match self.parse_operator_inner() {
            Err(diagnostic) if diagnostic.code == Code::Unsupported => {
                (self.pos, self.last_end, self.depth) = saved;
                let opaque = self.skip_unimplemented(unsupported_what(&diagnostic), false);
                Ok(Operator {
                    span: opaque.span,
                    kind: OperatorKind::Unimplemented(opaque),
                })
            }
            other => other,
        }
    }

    fn parse_operator_inner(&mut self) -> PResult<Operator> {
        let (name, name_span) = self.operator_name()?;
        let known = TABULAR_OPERATORS
            .iter()
            .find(|(spelling, _)| *spelling == name)
            .map(|(_, operator)| *operator);
        let kind = match known {
            // `where NAME = VALUE` parses in Kusto (the checker refuses it).
            Some(OperatorName::Where) if self.at_name_then_assign() => {
                OperatorKind::Where(self.parse_named_argument()?)
            }
            Some(OperatorName::Where) => OperatorKind::Where(self.parse_expr()?),
            // `extend (a, b) = f(x)`: several names for the columns of a
            // function that gives several (`series_stats`).
            Some(OperatorName::Extend) => OperatorKind::Extend(self.parse_aggregate_list()?),
            Some(OperatorName::Project) => OperatorKind::Project(self.parse_aggregate_list()?),
            Some(OperatorName::ProjectAway) => {
                OperatorKind::ProjectAway(self.parse_column_patterns()?)
            }
            Some(OperatorName::ProjectRename) => {
                OperatorKind::ProjectRename(self.parse_project_rename()?)
            }
            Some(OperatorName::MvExpand) => OperatorKind::MvExpand(self.parse_mv_expand()?),
            Some(OperatorName::Take) => OperatorKind::Take(self.parse_expr()?),
            Some(OperatorName::Sample) => OperatorKind::Sample(self.parse_expr()?),
            Some(OperatorName::Serialize) => {
                if matches!(
                    self.kind_at(0),
                    TokenKind::Pipe | TokenKind::Eof | TokenKind::Semicolon | TokenKind::RParen
                ) {
                    OperatorKind::Serialize(Vec::new())
                } else {
                    OperatorKind::Serialize(self.parse_named_list()?)
                }
            }
            Some(OperatorName::Count) => OperatorKind::Count,
            Some(OperatorName::Summarize) => {
                self.skip_hints()?;
                self.parse_summarize()?
            }
            Some(OperatorName::MakeSeries) => {
                OperatorKind::MakeSeries(Box::new(self.parse_make_series()?))
            }
            Some(OperatorName::Sort) => {
                self.expect_word("by")?;
                let mut keys = vec![self.parse_sort_expr()?];
                while self.eat(&TokenKind::Comma).is_some() {
                    keys.push(self.parse_sort_expr()?);
                }
                OperatorKind::Sort(keys)
            }
            Some(OperatorName::Top) => {
                let count = self.parse_expr()?;
                self.expect_word("by")?;
                OperatorKind::Top {
                    count,
                    by: self.parse_sort_expr()?,
                }
            }
            Some(OperatorName::Distinct) => {
                self.skip_hints()?;
                if self.eat(&TokenKind::Star).is_some() {
                    OperatorKind::Distinct(Vec::new())
                } else {
                    OperatorKind::Distinct(self.parse_named_list()?)
                }
            }
            Some(OperatorName::ProjectKeep) => {
                OperatorKind::ProjectKeep(self.parse_column_patterns()?)
            }
            Some(OperatorName::Join | OperatorName::Lookup) => {
                let lookup = known == Some(OperatorName::Lookup);
                let default_kind = if lookup {
                    JoinKind::LeftOuter
                } else {
                    JoinKind::InnerUnique
                };
                match self.parse_join(default_kind)? {
                    Ok(join) if lookup => OperatorKind::Lookup(join),
                    Ok(join) => OperatorKind::Join(join),
                    Err(what) => {
                        let mut opaque = self.skip_unimplemented(what, false);
                        opaque.span = name_span.to(opaque.span);
                        opaque.text = format!("{name} {}", opaque.text);
                        OperatorKind::Unimplemented(opaque)
                    }
                }
            }
            Some(OperatorName::Parse | OperatorName::ParseWhere) => {
                let drop_unmatched = known == Some(OperatorName::ParseWhere);
                match self.parse_parse(drop_unmatched)? {
                    Ok(parse) => OperatorKind::Parse(parse),
                    Err(what) => {
                        let mut opaque = self.skip_unimplemented(what, false);
                        opaque.span = name_span.to(opaque.span);
                        opaque.text = format!("{name} {}", opaque.text);
                        OperatorKind::Unimplemented(opaque)
                    }
                }
            }
            Some(OperatorName::Union) => match self.parse_union()? {
                Ok(union) => OperatorKind::Union(union),
                Err(what) => {
                    let mut opaque = self.skip_unimplemented(what, false);
                    opaque.span = name_span.to(opaque.span);
                    opaque.text = format!("{name} {}", opaque.text);
                    OperatorKind::Unimplemented(opaque)
                }
            },
            Some(OperatorName::ProjectReorder) => {
                OperatorKind::ProjectReorder(self.parse_reorder_list()?)
            }
            Some(OperatorName::As) => {
                for (option, _, span) in self.parse_options()? {
                    if !option.starts_with("hint.") {
                        return Err(Diagnostic::new(
                            Code::Unsupported,
                            format!("`as` option '{option}' is not supported"),
                            span,
                        )
                        .into());
                    }
                }
                OperatorKind::As(self.parse_name("a name after `as`")?)
            }
            Some(OperatorName::MvApply) => {
                let expand = self.parse_mv_expand()?;
                self.expect_word("on")?;
                self.expect(&TokenKind::LParen, "`(` and the subquery")?;
                let mut subquery = vec![self.parse_operator()?];
                while self.eat(&TokenKind::Pipe).is_some() {
                    subquery.push(self.parse_operator()?);
                }
                self.expect(&TokenKind::RParen, "`|` or `)`")?;
                OperatorKind::MvApply(ast::MvApply { expand, subquery })
            }
            Some(OperatorName::Invoke) => {
                let function = self.parse_name("a function name after `invoke`")?;
                OperatorKind::Invoke(self.parse_call(function)?)
            }
            Some(OperatorName::TopNested) => OperatorKind::TopNested(self.parse_top_nested()?),
            Some(OperatorName::TopHitters) => {
                let count = self.parse_expr()?;
                self.expect_word("of")?;
                let of = self.parse_expr()?;
                let by = if self.at_word("by") {
                    self.advance();
                    Some(self.parse_expr()?)
                } else {
                    None
                };
                OperatorKind::TopHitters { count, of, by }
            }
            Some(OperatorName::SampleDistinct) => {
                let count = self.parse_expr()?;
                self.expect_word("of")?;
                let of = self.parse_name("a column name after `of`")?;
                OperatorKind::SampleDistinct { count, of }
            }
            Some(OperatorName::GetSchema) => OperatorKind::GetSchema,
            Some(OperatorName::Evaluate) => OperatorKind::Evaluate(self.parse_evaluate()?),
            Some(OperatorName::ProjectByNames) => {
                let mut specs = vec![self.parse_expr()?];
                while self.eat(&TokenKind::Comma).is_some() {
                    specs.push(self.parse_expr()?);
                }
                OperatorKind::ProjectByNames(specs)
            }
            Some(OperatorName::ParseKv) => OperatorKind::ParseKv(self.parse_parse_kv()?),
            Some(OperatorName::Render) => OperatorKind::Render(self.parse_render()?),
            Some(OperatorName::Partition) => OperatorKind::Partition(self.parse_partition()?),
            Some(OperatorName::Scan) => OperatorKind::Scan(Box::new(self.parse_scan()?)),
            Some(OperatorName::Search) => OperatorKind::Search(Box::new(self.parse_search()?)),
            Some(OperatorName::MakeGraph) => self.parse_make_graph()?,
            Some(OperatorName::GraphMatch) => self.parse_graph_match(false)?,
            Some(OperatorName::GraphShortestPaths) => self.parse_graph_match(true)?,
            Some(OperatorName::GraphToTable) => self.parse_graph_to_table()?,
            Some(OperatorName::GraphMarkComponents) => self.parse_graph_mark_components()?,
            Some(OperatorName::NotYetSupported) => {
                let what = format!("operator '{name}'");
                let mut opaque = self.skip_unimplemented(what, false);
                opaque.span = name_span.to(opaque.span);
                opaque.text = format!("{name} {}", opaque.text).trim_end().to_string();
                OperatorKind::Unimplemented(opaque)
            }
            None => {
                let diagnostic = Diagnostic::new(
                    Code::UnexpectedToken,
                    format!("expected a tabular operator, found `{name}`"),
                    name_span,
                )
                .with_label("unknown operator");
                let suggestion = closest_name(
                    &name,
                    TABULAR_OPERATORS.iter().map(|(spelling, _)| *spelling),
                );
                return Err(match suggestion {
                    Some(suggestion) => {
                        diagnostic.with_help(format!("did you mean `{suggestion}`?"))
                    }
                    None => diagnostic,
                }
                .into());
            }
        };
        Ok(Operator {
            kind,
            span: Span::new(name_span.start, self.last_end),
        })
    }

    /// `evaluate` after its name: hints, the plugin call, and an optional
    /// output schema `: ([*,] NAME: TYPE, ...)`.
    fn parse_evaluate(&mut self) -> PResult<ast::Evaluate> {
        self.skip_hints()?;
        let plugin = self.parse_name("a plugin name after `evaluate`")?;
        let call = self.parse_call(plugin)?;
        let schema = if self.eat(&TokenKind::Colon).is_some() {
            self.expect(&TokenKind::LParen, "`(` and the output columns")?;
            let star = self.eat(&TokenKind::Star).is_some();
            let mut columns = Vec::new();
            if !star || self.eat(&TokenKind::Comma).is_some() {
                loop {
                    let name = self.parse_name("a column name")?;
                    self.expect(&TokenKind::Colon, "`:`")?;
                    columns.push((name, self.parse_type()?));
                    if self.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
            Some(ast::OutputSchema { star, columns })
        } else {
            None
        };
        Ok(ast::Evaluate { call, schema })
    }

    /// `[NAME =] EXPR`.
    pub(super) fn parse_named_expr(&mut self) -> PResult<NamedExpr> {
        let name = if self.at_name_then_assign() {
            let name = self.parse_name("a column name")?;
            self.advance();
            Some(name)
        } else {
            None
        };
        Ok(NamedExpr {
            name,
            more_names: Vec::new(),
            expr: self.parse_expr()?,
        })
    }

    /// `render VISUALIZATION [with (NAME = VALUE [, VALUE ...], ...)]`.
    /// A form kqlc does not know (an older property syntax) is kept
    /// opaque, as not supported.
    fn parse_render(&mut self) -> PResult<ast::Render> {
        let visualization = self.parse_name("a visualization after `render`")?;
        let mut properties: Vec<(Ident, Vec<Expr>)> = Vec::new();
        if self.at_word("with") {
            self.advance();
            self.expect(&TokenKind::LParen, "`(`")?;
            loop {
                if self.at_name_then_assign() || properties.is_empty() {
                    let name = self.parse_name("a property name")?;
                    self.expect(&TokenKind::Assign, "`=`")?;
                    properties.push((name, vec![self.parse_expr()?]));
                } else if let Some((_, values)) = properties.last_mut() {
                    // `ycolumns=a, b`: more columns of the same property.
                    values.push(self.parse_expr()?);
                }
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
        }
        if !matches!(
            self.kind_at(0),
            TokenKind::Pipe | TokenKind::Eof | TokenKind::Semicolon | TokenKind::RParen
        ) {
            return Err(Diagnostic::new(
                Code::Unsupported,
                "this form of `render` is not supported yet",
                self.peek().span,
            )
            .into());
        }
        Ok(ast::Render {
            visualization,
            properties,
        })
    }

    /// The operator name after `|`, gluing hyphenated names (`mv-expand`)
    /// from their `word - word` tokens when no space separates them.
    pub(super) fn operator_name(&mut self) -> PResult<(String, Span)> {
        let Some(first) = self.word_at(0) else {
            return Err(self.unexpected("a tabular operator after `|`").into());
        };
        let mut name = first.to_string();
        let mut span = self.advance();
        loop {
            let (minus, word) = (self.peek_at(0), self.peek_at(1));
            let glued = minus.kind == TokenKind::Minus
                && minus.span.start == span.end
                && word.span.start == minus.span.end;
            match &word.kind {
                TokenKind::Ident(part) if glued => {
                    name.push('-');
                    name.push_str(part);
                    span = span.to(word.span);
                    self.advance();
                    self.advance();
                }
                _ => break,
            }
        }
        Ok((name, span))
    }

    /// `COL, ...` of `project-away` and `project-keep`: names or patterns.
    fn parse_column_patterns(&mut self) -> PResult<Vec<ast::ColumnPattern>> {
        let mut patterns = vec![self.parse_column_pattern()?];
        while self.eat(&TokenKind::Comma).is_some() {
            patterns.push(self.parse_column_pattern()?);
        }
        Ok(patterns)
    }

    /// A column name, or a pattern: words and `*` written together
    /// (`Dns*`, `*Id*`).
    pub(super) fn parse_column_pattern(&mut self) -> PResult<ast::ColumnPattern> {
        let glued_star = matches!(self.kind_at(0), TokenKind::Ident(_))
            && *self.kind_at(1) == TokenKind::Star
            && self.peek_at(1).span.start == self.peek().span.end;
        if !self.at(&TokenKind::Star) && !glued_star {
            return Ok(ast::ColumnPattern {
                name: self.parse_name("a column name or pattern")?,
                wildcard: false,
            });
        }
        let start = self.peek().span;
        let mut text = String::new();
        let mut end = start;
        loop {
            let token = self.peek();
            if !text.is_empty() && token.span.start != end.end {
                break;
            }
            match &token.kind {
                TokenKind::Star => text.push('*'),
                TokenKind::Ident(word) => text.push_str(word),
                TokenKind::Long(_) if !text.is_empty() => {
                    text.push_str(&self.token_text(0));
                }
                _ => break,
            }
            end = self.advance();
        }
        Ok(ast::ColumnPattern {
            name: Ident {
                name: text,
                span: start.to(end),
            },
            wildcard: true,
        })
    }

    /// `COL [asc|desc|granny-asc|granny-desc], ...` of `project-reorder`.
    fn parse_reorder_list(
        &mut self,
    ) -> PResult<Vec<(ast::ColumnPattern, Option<ast::ReorderOrder>)>> {
        let mut items = Vec::new();
        loop {
            let pattern = self.parse_column_pattern()?;
            let order = match self.word_at(0) {
                Some("asc") => Some(ast::ReorderOrder::Asc),
                Some("desc") => Some(ast::ReorderOrder::Desc),
                Some("granny") if *self.kind_at(1) == TokenKind::Minus => match self.word_at(2) {
                    Some("asc") => Some(ast::ReorderOrder::GrannyAsc),
                    Some("desc") => Some(ast::ReorderOrder::GrannyDesc),
                    _ => None,
                },
                _ => None,
            };
            if let Some(order) = order {
                let tokens = if order.spelling().starts_with("granny") {
                    3
                } else {
                    1
                };
                for _ in 0..tokens {
                    self.advance();
                }
            }
            items.push((pattern, order));
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(items);
            }
        }
    }

    fn parse_project_rename(&mut self) -> PResult<Vec<(Ident, Ident)>> {
        let mut pairs = Vec::new();
        loop {
            let new_name = self.parse_name("a new column name")?;
            self.expect(&TokenKind::Assign, "`=`")?;
            let old_name = self.parse_name("the column to rename")?;
            pairs.push((new_name, old_name));
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(pairs);
            }
        }
    }

    /// Skips a construct kqlc does not implement, up to the end of its
    /// statement (`;`) or, unless `statement`, of its operator (a `|` or a
    /// closing `)` outside brackets), and keeps its text.
    pub(super) fn skip_unimplemented(&mut self, what: String, statement: bool) -> Unimplemented {
        let start = self.peek().span.start;
        let mut depth = 0usize;
        loop {
            match self.kind_at(0) {
                TokenKind::Eof => break,
                TokenKind::Semicolon if depth == 0 => break,
                TokenKind::Pipe if depth == 0 && !statement => break,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace if depth == 0 => break,
                TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth -= 1,
                _ => {}
            }
            self.advance();
        }
        let end = self.last_end.max(start);
        Unimplemented {
            what,
            text: self
                .source
                .get(start..end)
                .unwrap_or_default()
                .trim()
                .to_string(),
            span: Span::new(start, end),
            binds: Vec::new(),
        }
    }

    /// Options of the form `name=value` before an operator's operands
    /// (`kind=inner`, `hint.strategy=shuffle`, `withsource=T`): returns
    /// them as text; hints are accepted and ignored, as they do not change
    /// results.
    pub(super) fn parse_options(&mut self) -> PResult<Vec<(String, String, Span)>> {
        let mut options = Vec::new();
        loop {
            // `name=` or `hint.name=`.
            let dotted = self.word_at(0).is_some()
                && *self.kind_at(1) == TokenKind::Dot
                && self.word_at(2).is_some()
                && *self.kind_at(3) == TokenKind::Assign;
            let plain = (self.word_at(0).is_some() || self.keyword_at(0).is_some())
                && *self.kind_at(1) == TokenKind::Assign
                && !matches!(self.kind_at(2), TokenKind::LParen);
            if !(dotted || plain) {
                return Ok(options);
            }
            let start = self.peek().span;
            let mut name = self.token_text(0);
            self.advance();
            if dotted {
                self.advance();
                name.push('.');
                name.push_str(&self.token_text(0));
                self.advance();
            }
            self.advance(); // `=`
            let value = self.token_text(0);
            let end = self.advance();
            options.push((name, value, start.to(end)));
        }
    }

    /// `hint.NAME = VALUE ...` before the operands of `summarize` and
    /// `distinct`: execution hints, which do not change results, skipped.
    pub(super) fn skip_hints(&mut self) -> PResult<()> {
        while self.word_at(0) == Some("hint")
            && *self.kind_at(1) == TokenKind::Dot
            && self.word_at(2).is_some()
            && *self.kind_at(3) == TokenKind::Assign
        {
            for _ in 0..4 {
                self.advance();
            }
            if matches!(
                self.kind_at(0),
                TokenKind::Pipe | TokenKind::Semicolon | TokenKind::Eof | TokenKind::Comma
            ) {
                return Err(self.unexpected("the hint's value").into());
            }
            self.advance();
        }
        Ok(())
    }

    /// The source text of token `offset`, for option values.
    fn token_text(&self, offset: usize) -> String {
        let span = self.peek_at(offset).span;
        self.source
            .get(span.start..span.end)
            .unwrap_or_default()
            .to_string()
    }

    /// `EXPR [asc|desc] [nulls first|last]`.
    fn parse_sort_expr(&mut self) -> PResult<SortExpr> {
        let expr = self.parse_expr()?;
        let descending = if self.at_word("asc") {
            self.advance();
            false
        } else {
            if self.at_word("desc") {
                self.advance();
            }
            true
        };
        let nulls_first = if self.at_word("nulls") {
            self.advance();
            if self.at_word("first") {
                self.advance();
                Some(true)
            } else {
                self.expect_word("last")?;
                Some(false)
            }
        } else {
            None
        };
        Ok(SortExpr {
            expr,
            descending,
            nulls_first,
        })
    }

    /// `[NAME =] EXPR, ...`, at least one.
    pub(super) fn parse_named_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            let name = if self.at_name_then_assign() {
                let name = self.parse_name("a column name")?;
                self.advance();
                Some(name)
            } else {
                None
            };
            let expr = self.parse_expr()?;
            items.push(NamedExpr {
                name,
                more_names: Vec::new(),
                expr,
            });
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(items);
            }
        }
    }

    /// The aggregates of `summarize`: `[NAME =] EXPR` or
    /// `(NAME, ...) = EXPR`, at least one.
    pub(super) fn parse_aggregate_list(&mut self) -> PResult<Vec<NamedExpr>> {
        let mut items = Vec::new();
        loop {
            if self.at_parenthesized_names_then_assign() {
                self.advance();
                let mut names = vec![self.parse_name("a column name")?];
                while self.eat(&TokenKind::Comma).is_some() {
                    names.push(self.parse_name("a column name")?);
                }
                self.expect(&TokenKind::RParen, "`,` or `)`")?;
                self.expect(&TokenKind::Assign, "`=`")?;
                let expr = self.parse_expr()?;
                let more_names = names.split_off(1);
                items.push(NamedExpr {
                    name: names.pop(),
                    more_names,
                    expr,
                });
            } else {
                let name = if self.at_name_then_assign() {
                    let name = self.parse_name("a column name")?;
                    self.advance();
                    Some(name)
                } else {
                    None
                };
                let expr = self.parse_expr()?;
                items.push(NamedExpr {
                    name,
                    more_names: Vec::new(),
                    expr,
                });
            }
            if self.eat(&TokenKind::Comma).is_none() {
                return Ok(items);
            }
        }
    }

    /// True at `(NAME, ...) =`.
    fn at_parenthesized_names_then_assign(&self) -> bool {
        if *self.kind_at(0) != TokenKind::LParen {
            return false;
        }
        let mut offset = 1;
        loop {
            if !self.starts_name(offset) {
                return false;
            }
            offset += self.name_length(offset);
            match self.kind_at(offset) {
                TokenKind::Comma => offset += 1,
                TokenKind::RParen => return *self.kind_at(offset + 1) == TokenKind::Assign,
                _ => return false,
            }
        }
    }

    /// True at `NAME =` (a single `=`, not `==`).
    pub(super) fn at_name_then_assign(&self) -> bool {
        self.starts_name(0) && *self.kind_at(self.name_length(0)) == TokenKind::Assign
    }

    /// A name: a word (keywords included: KQL keywords are names where a
    /// name is expected) or a bracketed name `['name']`.
    /// `scan`'s clauses, after its name.
    fn parse_scan(&mut self) -> PResult<ast::Scan> {
        let mut scan = ast::Scan {
            match_id: None,
            declare: Vec::new(),
            steps: Vec::new(),
        };
        if self.at_word("with_match_id") {
            self.advance();
            self.expect(&TokenKind::Assign, "`=`")?;
            scan.match_id = Some(self.parse_name("a column name")?);
        }
        if self.at_word("declare") {
            self.advance();
            self.expect(&TokenKind::LParen, "`(`")?;
            loop {
                let name = self.parse_name("a column name")?;
                self.expect(&TokenKind::Colon, "`:`")?;
                let ty = self.parse_type()?;
                let default = if self.eat(&TokenKind::Assign).is_some() {
                    Some(self.parse_expr()?)
                } else {
                    None
                };
                scan.declare.push(ast::ScanDeclare { name, ty, default });
                if self.eat(&TokenKind::Comma).is_none() {
                    break;
                }
            }
            self.expect(&TokenKind::RParen, "`)`")?;
        }
        self.expect_word("with")?;
        self.expect(&TokenKind::LParen, "`(`")?;
        while self.at_word("step") {
            self.advance();
            let name = self.parse_name("a step name")?;
            let mut output = ast::ScanOutput::All;
            if self.at_word("output") {
                self.advance();
                self.expect(&TokenKind::Assign, "`=`")?;
                output = match self.word_at(0) {
                    Some("all") => ast::ScanOutput::All,
                    Some("last") => ast::ScanOutput::Last,
                    Some("none") => ast::ScanOutput::None,
                    _ => return Err(self.unexpected("`all`, `last` or `none`").into()),
                };
                self.advance();
            }
            self.expect(&TokenKind::Colon, "`:`")?;
            let condition = self.parse_expr()?;
            let mut assignments = Vec::new();
            if self.at(&TokenKind::Assign) && *self.kind_at(1) == TokenKind::Gt {
                self.advance();
                self.advance();
                loop {
                    let column = self.parse_name("a column name")?;
                    self.expect(&TokenKind::Assign, "`=`")?;
                    assignments.push((column, self.parse_expr()?));
                    if self.eat(&TokenKind::Comma).is_none() {
                        break;
                    }
                }
            }
            self.expect(&TokenKind::Semicolon, "`;`")?;
            scan.steps.push(ast::ScanStep {
                name,
                output,
                condition,
                assignments,
            });
        }
        if scan.steps.is_empty() {
            return Err(self.unexpected("`step`").into());
        }
        self.expect(&TokenKind::RParen, "`)`")?;
        Ok(scan)
    }

    pub(super) fn parse_name(&mut self, expected: &str) -> PResult<Ident> {
        match self.kind_at(0) {
            TokenKind::Ident(name) => {
                let name = name.clone();
                let span = self.advance();
                Ok(Ident { name, span })
            }
            TokenKind::LBracket if self.starts_name(0) => {
                let TokenKind::String(name) = self.kind_at(1) else {
                    return Err(self.unexpected(expected).into());
                };
                let name = name.clone();
                let open = self.advance();
                self.advance();
                let close = self.advance();
                Ok(Ident {
                    name,
                    span: open.to(close),
                })
            }
            _ => Err(self.unexpected(expected).into()),
        }
    }
}
