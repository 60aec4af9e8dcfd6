//! The sources of a tabular expression: tables, `print`, `datatable`,
//! `range`, `externaldata`, tabular `let` names and calls.

use super::{empty_query, Checker};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::sema::{
    CheckedQuery, CheckedSource, CheckedStage, Column, ExternalFormat, TypedExpr, TypedExprKind,
};
use crate::syntax::ast::{self, ExprKind, Literal, Source};
use crate::types::ScalarType;

impl Checker<'_> {
    pub(super) fn source(&mut self, source: &Source) -> CheckedQuery {
        match source {
            Source::Named(ident) => {
                if let Some(query) = self.tabulars.get(&ident.name) {
                    return query.clone();
                }
                if let Some(table) = self.schema.table(&ident.name) {
                    return CheckedQuery {
                        source: CheckedSource::Table(table.clone()),
                        stages: Vec::new(),
                        output: table.columns.clone(),
                    };
                }
                // A tabular function without parameters (a `view`, or any
                // `() { ... }`) is named without parentheses too.
                if self.is_parameterless_tabular_function(&ident.name) {
                    let call = ast::Call {
                        name: ident.clone(),
                        args: Vec::new(),
                        span: ident.span,
                    };
                    return self.tabular_call(&call, None);
                }
                let names: Vec<&str> = self
                    .schema
                    .tables
                    .iter()
                    .map(|t| t.name.as_str())
                    .chain(self.tabulars.keys().map(String::as_str))
                    .collect();
                let mut diagnostic = Diagnostic::new(
                    Code::UnknownTable,
                    format!("unknown table '{}'", ident.name),
                    ident.span,
                )
                .with_label("not a table of the schema or a tabular `let`");
                if let Some(best) = closest_name(&ident.name, names.iter().copied()) {
                    diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
                } else {
                    diagnostic = diagnostic
                        .with_note(format!("known tables: {}", names.join(", ")))
                        .with_help("give other tables' columns with --schema FILE");
                }
                self.error(diagnostic);
                CheckedQuery {
                    source: CheckedSource::Rows {
                        columns: Vec::new(),
                        rows: Vec::new(),
                    },
                    stages: Vec::new(),
                    output: Vec::new(),
                }
            }
            Source::Nested(inner) => self.tabular(inner),
            Source::Range(range) => {
                let from = self.expr(&range.from, &[]);
                let to = self.expr(&range.to, &[]);
                let step = self.expr(&range.step, &[]);
                let ty = if from.ty == ScalarType::Int {
                    ScalarType::Long
                } else {
                    from.ty
                };
                let valid = match ty {
                    ScalarType::DateTime => {
                        to.ty == ScalarType::DateTime && step.ty == ScalarType::TimeSpan
                    }
                    ScalarType::TimeSpan => {
                        to.ty == ScalarType::TimeSpan && step.ty == ScalarType::TimeSpan
                    }
                    t if t.is_numeric() => to.ty.is_numeric() && step.ty.is_numeric(),
                    _ => false,
                };
                if !valid {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "range needs numbers, or datetimes/timespans with a timespan step; found {} to {} step {}",
                                from.ty, to.ty, step.ty
                            ),
                            range.name.span.to(range.step.span),
                        ),
                    );
                }
                if let (
                    TypedExprKind::Literal(a),
                    TypedExprKind::Literal(b),
                    TypedExprKind::Literal(c),
                ) = (&from.kind, &to.kind, &step.kind)
                {
                    let rows = crate::sema::limits::range_rows(a, b, c).unwrap_or(0);
                    if valid && rows > u128::from(crate::sema::limits::MAX_RANGE_ROWS) {
                        self.error(
                            Diagnostic::new(
                                Code::LimitExceeded,
                                format!(
                                    "this range makes {rows} rows, more than the limit of {}",
                                    crate::sema::limits::MAX_RANGE_ROWS
                                ),
                                range.name.span.to(range.step.span),
                            )
                            .with_help("use a larger step or a shorter span (docs/limits.md)"),
                        );
                    }
                }
                for bound in [&from, &to, &step] {
                    if !matches!(bound.kind, TypedExprKind::Literal(_))
                        && !matches!(bound.kind, TypedExprKind::Call(..))
                    {
                        self.error(Diagnostic::new(
                            Code::TypeMismatch,
                            "range bounds must be constants",
                            bound.span,
                        ));
                    }
                }
                let column = Column::new(
                    range.name.name.clone(),
                    if ty == ScalarType::Real
                        || to.ty == ScalarType::Real
                        || step.ty == ScalarType::Real
                    {
                        ScalarType::Real
                    } else {
                        ty
                    },
                );
                CheckedQuery {
                    output: vec![column.clone()],
                    source: CheckedSource::Range {
                        column,
                        from,
                        to,
                        step,
                    },
                    stages: Vec::new(),
                }
            }
            Source::Call(call) => match self.watchlist_source(call) {
                Some(query) => query,
                None => self.tabular_call(call, None),
            },
            Source::ExternalData(external) => self.external_data(external),
            Source::Unimplemented(opaque) => {
                self.unimplemented(opaque);
                CheckedQuery {
                    source: CheckedSource::Rows {
                        columns: Vec::new(),
                        rows: Vec::new(),
                    },
                    stages: Vec::new(),
                    output: Vec::new(),
                }
            }
            Source::Search(search, span) => self.search_source(search, *span),
            Source::Find(find, span) => self.find_source(find, *span),
            Source::Union(union, span) => {
                let mut checked = self.union_legs(union);
                if checked.is_empty() {
                    return empty_query();
                }
                let mut query = checked.remove(0);
                let input = query.output.clone();
                let (op, output) = self.union(&input, checked, union, *span);
                query.stages.push(CheckedStage {
                    op,
                    text: self.text(*span),
                    input,
                    output: output.clone(),
                });
                query.output = output;
                self.check_single_table(&query);
                query
            }
            Source::Print(items, _) => {
                let mut columns: Vec<Column> = Vec::new();
                let mut row = Vec::new();
                let mut unnamed = 0;
                for (i, item) in items.iter().enumerate() {
                    if super::summarize::spreads_over_columns(item) {
                        let mut spread = self.item_columns(item, &[], &mut unnamed);
                        // Microsoft's parser keeps only the named columns of
                        // a multi-column function in `print` (in `extend` the
                        // unnamed ones follow with their default names).
                        let named = item.name.iter().count() + item.more_names.len();
                        if named > 0 {
                            spread.truncate(named);
                        }
                        // One column without a written name is `print_i`.
                        if let ([(name, _, _)], None) = (spread.as_mut_slice(), &item.name) {
                            *name = format!("print_{i}");
                        }
                        for (name, typed, span) in spread {
                            self.check_unique(&columns, &name, span);
                            columns.push(Column::new(name, typed.ty));
                            row.push(typed);
                        }
                        continue;
                    }
                    let typed = self.expr(&item.expr, &[]);
                    // `print` has no input columns, so a bare name is a
                    // scalar `let` and lends no name: `print v` is `print_0`.
                    let name = match &item.name {
                        Some(name) => name.name.clone(),
                        None => format!("print_{i}"),
                    };
                    self.check_unique(
                        &columns,
                        &name,
                        item.name.as_ref().map_or(item.expr.span, |n| n.span),
                    );
                    columns.push(Column::new(name, typed.ty));
                    row.push(typed);
                }
                CheckedQuery {
                    source: CheckedSource::Rows {
                        columns: columns.clone(),
                        rows: vec![row],
                    },
                    stages: Vec::new(),
                    output: columns,
                }
            }
            Source::Datatable(table) => {
                let columns: Vec<Column> = table
                    .columns
                    .iter()
                    .map(|(name, ty)| Column::new(name.name.clone(), *ty))
                    .collect();
                let mut rows = Vec::new();
                if columns.is_empty() {
                    self.error(Diagnostic::new(
                        Code::UnexpectedToken,
                        "a datatable needs at least one column",
                        table.span,
                    ));
                } else {
                    if table.values.len() % columns.len() != 0 {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "datatable has {} values, not a multiple of its {} columns",
                                    table.values.len(),
                                    columns.len()
                                ),
                                table.span,
                            )
                            .with_label("the last row is incomplete"),
                        );
                    }
                    for chunk in table.values.chunks(columns.len()) {
                        let mut row = Vec::new();
                        for (value, column) in chunk.iter().zip(&columns) {
                            let mut typed = self.expr(value, &[]);
                            if column.ty == ScalarType::Decimal {
                                typed.kind = decimal_literal(typed.kind);
                            }
                            if !matches!(typed.kind, TypedExprKind::Literal(_)) {
                                self.error(
                                    Diagnostic::new(
                                        Code::TypeMismatch,
                                        "datatable values must be literals",
                                        value.span,
                                    )
                                    .with_label("not a literal"),
                                );
                            } else if !literal_fits(&typed, column.ty) {
                                self.error(
                                    Diagnostic::new(
                                        Code::TypeMismatch,
                                        format!(
                                            "column '{}' is {}, but this value is {}",
                                            column.name, column.ty, typed.ty
                                        ),
                                        value.span,
                                    )
                                    .with_label(format!("expected {}", column.ty)),
                                );
                            }
                            row.push(TypedExpr {
                                ty: column.ty,
                                ..typed
                            });
                        }
                        rows.push(row);
                    }
                }
                CheckedQuery {
                    source: CheckedSource::Rows {
                        columns: columns.clone(),
                        rows,
                    },
                    stages: Vec::new(),
                    output: columns,
                }
            }
        }
    }

    /// `externaldata`: local files only (a detector runs air-gapped), in a
    /// format kqlc reads.
    /// `search [in (TABLE, ...)]` as a source, its predicate moved into a
    /// `where` by the desugar pass: the rows of the tables, as `union
    /// withsource=$table TABLE, ...` gives them (search-operator.md: the
    /// output always has `$table`). Without `in`, every table of the
    /// schema.
    fn search_source(&mut self, search: &ast::Search, span: ast::Span) -> CheckedQuery {
        let tables = if search.tables.is_empty() {
            if self.schema.tables.len() != 1 {
                let names: Vec<&str> = self.schema.tables.iter().map(|t| t.name.as_str()).collect();
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "`search` without `in (...)` reads every table of the schema ({}); a rule reads one table",
                            names.join(", ")
                        ),
                        span,
                    )
                    .with_label("searches every table")
                    .with_help("name the table: `search in (TABLE) ...`"),
                );
                return empty_query();
            }
            self.schema
                .tables
                .iter()
                .map(|t| ast::TabularExpr {
                    source: Source::Named(ast::Ident {
                        name: t.name.clone(),
                        span,
                    }),
                    operators: Vec::new(),
                    span,
                })
                .collect()
        } else {
            search.tables.clone()
        };
        let union = ast::Union {
            inner: false,
            with_source: Some(ast::Ident {
                name: "$table".to_string(),
                span,
            }),
            fuzzy: false,
            tables,
        };
        self.source(&Source::Union(union, span))
    }

    /// `_GetWatchlist('ALIAS')`, Microsoft Sentinel's watchlist function,
    /// over a watchlist the schema declares: its CSV file read as
    /// `externaldata` (header line skipped), then `SearchKey`, the
    /// search-key column as a string. `None` when the call is not one
    /// (another name, or a user-defined function of that name).
    pub(super) fn watchlist_source(&mut self, call: &ast::Call) -> Option<CheckedQuery> {
        if call.name.name != "_GetWatchlist" || self.user_functions.contains_key(&call.name.name) {
            return None;
        }
        let span = call.span;
        let alias = match call.args.as_slice() {
            [ast::Argument::Scalar(ast::Expr {
                kind: ExprKind::Literal(Literal::String(alias)),
                ..
            })] => alias.clone(),
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "_GetWatchlist takes one argument, the watchlist's alias as a string literal",
                        span,
                    )
                    .with_label("expected `_GetWatchlist('ALIAS')`"),
                );
                return Some(empty_query());
            }
        };
        let Some(list) = self.schema.watchlist(&alias).cloned() else {
            let mut diagnostic = Diagnostic::new(
                Code::UnknownTable,
                format!("unknown watchlist '{alias}'"),
                span,
            )
            .with_label("no watchlist of this alias in the schema")
            .with_help(format!(
                "declare its CSV file in a schema file (--schema): {{\"watchlists\": [{{\"alias\": \"{alias}\", \"file\": \"PATH.csv\", \"searchKey\": \"COLUMN\", \"columns\": [...]}}]}}"
            ));
            let aliases = self.schema.watchlists.iter().map(|w| w.alias.as_str());
            if let Some(best) = closest_name(&alias, aliases) {
                diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
            }
            self.error(diagnostic);
            return Some(empty_query());
        };
        let ident = |name: &str| ast::Ident {
            name: name.to_string(),
            span,
        };
        let expr = |kind: ExprKind| ast::Expr { kind, span };
        let string = |text: &str| expr(ExprKind::Literal(Literal::String(text.to_string())));
        let read = ast::ExternalData {
            columns: list
                .columns
                .iter()
                .map(|c| (ident(&c.name), c.ty))
                .collect(),
            uris: vec![string(&list.file)],
            options: vec![
                (ident("format"), string("csv")),
                (
                    ident("ignoreFirstRecord"),
                    expr(ExprKind::Literal(Literal::Bool(true))),
                ),
            ],
            span,
        };
        let search_key = ast::NamedExpr {
            name: Some(ident("SearchKey")),
            more_names: Vec::new(),
            expr: expr(ExprKind::Call {
                name: ident("tostring"),
                args: vec![expr(ExprKind::Name(ident(&list.search_key)))],
            }),
        };
        let query = ast::TabularExpr {
            source: Source::ExternalData(read),
            operators: vec![ast::Operator {
                kind: ast::OperatorKind::Extend(vec![search_key]),
                span,
            }],
            span,
        };
        Some(self.tabular(&query))
    }

    fn external_data(&mut self, external: &ast::ExternalData) -> CheckedQuery {
        let mut columns: Vec<Column> = Vec::new();
        for (name, ty) in &external.columns {
            self.check_unique(&columns, &name.name, name.span);
            columns.push(Column::new(name.name.clone(), *ty));
        }
        let mut files = Vec::new();
        for uri in &external.uris {
            let ExprKind::Literal(Literal::String(text)) = &uri.kind else {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "externaldata files must be string literals",
                        uri.span,
                    )
                    .with_label("not a string literal"),
                );
                continue;
            };
            // A URL with a local copy named by the schema reads the copy.
            let text = match self.schema.external_copies.get(text.as_str()) {
                Some(copy) => copy,
                None => text,
            };
            let path = text.strip_prefix("file://").unwrap_or(text);
            if path.contains("://") {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("externaldata reads local files only, not '{path}'"),
                        uri.span,
                    )
                    .with_label("a remote URL")
                    .with_help(format!(
                        "download the file, and name the copy in a schema file (--schema): \
                         {{\"externaldata\": {{\"{path}\": \"PATH\"}}}}"
                    )),
                );
                continue;
            }
            if path.is_empty() {
                self.error(Diagnostic::new(
                    Code::TypeMismatch,
                    "externaldata needs a file path, not an empty string",
                    uri.span,
                ));
                continue;
            }
            files.push(path.to_string());
        }
        if external.uris.is_empty() {
            self.error(Diagnostic::new(
                Code::TypeMismatch,
                "externaldata needs at least one file between `[` and `]`",
                external.span,
            ));
        }
        let mut format = None;
        let mut skip_first = false;
        for (name, value) in &external.options {
            // Option values are literals or bare words (`format=csv`).
            let text = match &value.kind {
                ExprKind::Literal(Literal::String(text)) => Some(text.clone()),
                ExprKind::Literal(Literal::Bool(b)) => Some(b.to_string()),
                ExprKind::Name(ident) => Some(ident.name.clone()),
                _ => None,
            };
            match (name.name.to_ascii_lowercase().as_str(), text) {
                ("format", Some(text)) => match ExternalFormat::from_name(&text) {
                    Some(f) => format = Some(f),
                    None => self.error(
                        Diagnostic::new(
                            Code::Unsupported,
                            format!("externaldata format '{text}' is not supported"),
                            value.span,
                        )
                        .with_label("not a format kqlc reads")
                        .with_help(
                            "formats: csv, tsv, psv, scsv, sohsv, json, multijson, txt, raw",
                        ),
                    ),
                },
                ("ignorefirstrecord", Some(text)) => match text.to_ascii_lowercase().as_str() {
                    "true" => skip_first = true,
                    "false" => skip_first = false,
                    _ => self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        "ignoreFirstRecord is true or false",
                        value.span,
                    )),
                },
                (option, _) => self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("externaldata option '{option}' is not supported"),
                        name.span,
                    )
                    .with_help("options: format, ignoreFirstRecord"),
                ),
            }
        }
        // Without a `format`, the first file's extension says, else CSV.
        let format = format.unwrap_or_else(|| {
            files
                .first()
                .and_then(|f| std::path::Path::new(f).extension())
                .and_then(|e| e.to_str())
                .and_then(ExternalFormat::from_name)
                .unwrap_or(ExternalFormat::Delimited(b','))
        });
        CheckedQuery {
            output: columns.clone(),
            source: CheckedSource::External {
                columns,
                files,
                format,
                skip_first,
            },
            stages: Vec::new(),
        }
    }
}

/// A number literal in a `decimal` column, as the decimal it denotes (a
/// real by its shortest text, so `1.5` is exactly 1.5); anything else as
/// it is.
fn decimal_literal(kind: TypedExprKind) -> TypedExprKind {
    use kql_literal::decimal::Decimal;
    let decimal = match &kind {
        TypedExprKind::Literal(Literal::Long(n)) => Some(Decimal::from_i64(*n)),
        TypedExprKind::Literal(Literal::Int(n)) => Some(Decimal::from_i64(i64::from(*n))),
        TypedExprKind::Literal(Literal::Real(x)) => Decimal::from_f64(*x),
        _ => None,
    };
    decimal.map_or(kind, |d| TypedExprKind::Literal(Literal::Decimal(d)))
}

/// A datatable value fits its column: same type, a number in a numeric
/// column, a typed null, or anything in a dynamic column.
fn literal_fits(value: &TypedExpr, column: ScalarType) -> bool {
    value.ty == column
        || column == ScalarType::Dynamic
        || (column.is_numeric() && value.ty.is_numeric())
        || (column == ScalarType::Decimal
            && matches!(value.kind, TypedExprKind::Literal(Literal::Decimal(_))))
        || matches!(value.kind, TypedExprKind::Literal(Literal::Null(_)))
}
