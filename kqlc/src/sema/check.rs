//! The checker: resolves names, infers types, fixes column layouts.

use super::aggregates::{self, Shape};
use super::functions::{self, Accepts, RegexByKind, Returns};
use super::{
    ApplyColumn, CheckedAggregate, CheckedOp, CheckedQuery, CheckedSortKey, CheckedSource,
    CheckedStage, CheckedWindow, Column, ExternalFormat, Schema, TypedExpr, TypedExprKind,
    WindowKind,
};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::syntax::ast::{
    self, BinaryOp, DynamicLiteral, Expr, ExprKind, Ident, LetValue, ListOp, Literal, OperatorKind,
    Source, Span, Statement, StringOpKind, TabularExpr, UnaryOp,
};
use crate::types::ScalarType;
use std::collections::HashMap;

/// Checks `query` against `schema`. `source` is the query text (operator text
/// is copied from it for comments in generated code).
pub fn check(
    query: &ast::Query,
    schema: &Schema,
    source: &str,
) -> Result<CheckedQuery, Vec<Diagnostic>> {
    let mut checker = Checker {
        schema,
        source,
        diagnostics: Vec::new(),
        scalars: HashMap::new(),
        tabulars: HashMap::new(),
        user_functions: HashMap::new(),
        inline_depth: 0,
        window_columns: HashMap::new(),
        in_window_stage: false,
    };
    let mut result = None;
    for statement in &query.statements {
        match statement {
            Statement::Unimplemented(opaque) if is_engine_only_setting(opaque) => {}
            Statement::Unimplemented(opaque) => checker.unimplemented(opaque),
            Statement::Let(binding) => checker.bind(binding),
            Statement::Tabular(tabular) => {
                if result.is_some() {
                    checker.error(
                        Diagnostic::new(
                            Code::Unsupported,
                            "a query with several result tables is not supported",
                            tabular.span,
                        )
                        .with_label("second tabular expression")
                        .with_help("keep one tabular expression; bind the others with `let`"),
                    );
                }
                result = Some(checker.tabular(tabular));
            }
        }
    }
    let Some(result) = result else {
        let end = query.span.end;
        checker.error(
            Diagnostic::new(
                Code::NoTabularExpression,
                "the query has no tabular expression to run",
                Span::new(end, end),
            )
            .with_help(
                "end the query with a tabular expression such as `CloudAuditEvents | take 10`",
            ),
        );
        return Err(checker.diagnostics);
    };
    if checker.diagnostics.is_empty() {
        Ok(result)
    } else {
        Err(checker.diagnostics)
    }
}

struct Checker<'a> {
    schema: &'a Schema,
    source: &'a str,
    diagnostics: Vec<Diagnostic>,
    /// Scalar `let` bindings, already checked (they cannot read columns).
    scalars: HashMap<String, TypedExpr>,
    /// Tabular `let` bindings, already checked.
    tabulars: HashMap<String, CheckedQuery>,
    /// User-defined scalar functions, inlined at each call.
    user_functions: HashMap<String, ast::Function>,
    /// How deep function bodies are being inlined (recursion guard).
    inline_depth: usize,
    /// Row function calls (by their span) already computed into a column
    /// by a `Window` stage: the position and type.
    window_columns: HashMap<(usize, usize), (usize, ScalarType)>,
    /// The operator being checked has had its row functions computed.
    in_window_stage: bool,
}

/// The typed placeholder an erroneous expression becomes, so that checking
/// goes on without cascading errors (dynamic is accepted everywhere).
fn poisoned(span: Span) -> TypedExpr {
    TypedExpr {
        kind: TypedExprKind::Literal(Literal::Null(ScalarType::Dynamic)),
        ty: ScalarType::Dynamic,
        span,
    }
}

impl Checker<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn text(&self, span: Span) -> String {
        self.source
            .get(span.start..span.end)
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn bind(&mut self, binding: &ast::Let) {
        let name = binding.name.name.clone();
        match &binding.value {
            LetValue::Function(function) => {
                self.scalars.remove(&name);
                self.tabulars.remove(&name);
                self.user_functions.insert(name, function.clone());
            }
            LetValue::Tabular(tabular) => {
                let checked = self.tabular(tabular);
                self.scalars.remove(&name);
                self.tabulars.insert(name, checked);
            }
            LetValue::Scalar(Expr {
                kind: ExprKind::Name(ident),
                span,
            }) if self.is_tabular_name(&ident.name) => {
                let tabular = TabularExpr {
                    source: Source::Named(ident.clone()),
                    operators: Vec::new(),
                    span: *span,
                };
                let checked = self.tabular(&tabular);
                self.scalars.remove(&name);
                self.tabulars.insert(name, checked);
            }
            LetValue::Scalar(expr) => {
                let typed = self.expr(expr, &[]);
                self.tabulars.remove(&name);
                self.scalars.insert(name, typed);
            }
        }
    }

    /// Reports valid KQL kqlc does not implement yet.
    fn unimplemented(&mut self, opaque: &ast::Unimplemented) {
        let head: String = opaque.text.chars().take(40).collect();
        self.error(
            Diagnostic::new(
                Code::Unsupported,
                format!("{} is not supported yet", opaque.what),
                opaque.span,
            )
            .with_label(format!(
                "`{head}`... is valid KQL that kqlc cannot compile yet"
            )),
        );
    }

    fn is_tabular_name(&self, name: &str) -> bool {
        self.tabulars.contains_key(name)
            || self.schema.table(name).is_some()
            || self.is_parameterless_tabular_function(name)
    }

    fn is_parameterless_tabular_function(&self, name: &str) -> bool {
        self.user_functions.get(name).is_some_and(|function| {
            function.params.is_empty() && matches!(function.body, ast::FunctionBody::Tabular(_))
        })
    }

    fn tabular(&mut self, tabular: &TabularExpr) -> CheckedQuery {
        let mut query = self.source(&tabular.source);
        self.check_render_last(&tabular.operators);
        for operator in &tabular.operators {
            query = self.push_operator(query, operator);
        }
        query
    }

    /// `query | operator` where `exprs` (the operator's) call row functions:
    /// a `Window` stage computes each call into a column first (inner calls
    /// first), the operator reads those columns, and the columns are
    /// dropped after it.
    fn push_with_windows(
        &mut self,
        mut query: CheckedQuery,
        operator: &ast::Operator,
        exprs: &[&Expr],
    ) -> CheckedQuery {
        let mut calls = Vec::new();
        for expr in exprs {
            window_calls(expr, &mut calls);
        }
        let input = query.output.clone();
        let width = input.len();
        let mut columns = input.clone();
        let mut items = Vec::new();
        for call in calls {
            let ExprKind::Call { name, args } = &call.kind else {
                continue;
            };
            let Some(window) = self.window_call(name, args, &columns, call.span) else {
                continue;
            };
            let ty = match window.kind {
                WindowKind::RowNumber => ScalarType::Long,
                WindowKind::Prev(_) => window.args[0].ty,
                WindowKind::CumSum => match window.args[0].ty {
                    ScalarType::Real => ScalarType::Real,
                    _ => ScalarType::Long,
                },
            };
            let position = columns.len();
            columns.push(Column::new(
                format!("__row_function_{}", items.len() + 1),
                ty,
            ));
            self.window_columns
                .insert((call.span.start, call.span.end), (position, ty));
            items.push((position, window));
        }
        let hidden = columns.len() - width;
        query.stages.push(CheckedStage {
            op: CheckedOp::Window(items),
            text: self.text(operator.span),
            input,
            output: columns.clone(),
        });
        query.output = columns;
        self.in_window_stage = true;
        query = self.push_operator(query, operator);
        self.in_window_stage = false;
        self.window_columns.clear();
        // `project` keeps only what it names; after `extend` and `where`
        // the row functions' columns go.
        if !matches!(operator.kind, OperatorKind::Project(_)) {
            let keep: Vec<usize> = (0..query.output.len())
                .filter(|&i| i < width || i >= width + hidden)
                .collect();
            let output: Vec<Column> = keep.iter().map(|&i| query.output[i].clone()).collect();
            query.stages.push(CheckedStage {
                op: CheckedOp::Select(keep),
                text: self.text(operator.span),
                input: query.output.clone(),
                output: output.clone(),
            });
            query.output = output;
        }
        query
    }

    /// A row function's arguments, checked over `columns` (missing ones
    /// filled with their defaults).
    fn window_call(
        &mut self,
        name: &Ident,
        args: &[Expr],
        columns: &[Column],
        span: Span,
    ) -> Option<CheckedWindow> {
        let typed: Vec<TypedExpr> = args.iter().map(|a| self.expr(a, columns)).collect();
        let count = typed.len();
        let arity = |min: usize, max: usize| (min..=max).contains(&count);
        let literal = |value: Literal, ty| TypedExpr {
            kind: TypedExprKind::Literal(value),
            ty,
            span,
        };
        let bad_arity = |checker: &mut Self, takes: &str| {
            checker.error(Diagnostic::new(
                Code::WrongArgumentCount,
                format!("{} takes {takes}", name.name),
                span,
            ));
            None
        };
        let mut typed = typed;
        let window = match name.name.as_str() {
            "row_number" => {
                if !arity(0, 2) {
                    return bad_arity(self, "0 to 2 arguments (start, restart)");
                }
                if typed.is_empty() {
                    typed.push(literal(Literal::Long(1), ScalarType::Long));
                }
                if typed.len() == 1 {
                    typed.push(literal(Literal::Bool(false), ScalarType::Bool));
                }
                CheckedWindow {
                    kind: WindowKind::RowNumber,
                    args: typed,
                }
            }
            "row_cumsum" => {
                if !arity(1, 2) {
                    return bad_arity(self, "1 or 2 arguments (term, restart)");
                }
                if !typed[0].ty.is_numeric() && typed[0].ty != ScalarType::Dynamic {
                    self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        format!("row_cumsum sums numbers, found {}", typed[0].ty),
                        typed[0].span,
                    ));
                    return None;
                }
                if typed.len() == 1 {
                    typed.push(literal(Literal::Bool(false), ScalarType::Bool));
                }
                CheckedWindow {
                    kind: WindowKind::CumSum,
                    args: typed,
                }
            }
            "prev" => {
                if !arity(1, 3) {
                    return bad_arity(self, "1 to 3 arguments (value, offset, default)");
                }
                let offset = match typed.get(1).map(|t| &t.kind) {
                    None => 1,
                    Some(TypedExprKind::Literal(Literal::Long(n))) if *n >= 1 => *n as usize,
                    Some(TypedExprKind::Literal(Literal::Int(n))) if *n >= 1 => *n as usize,
                    Some(_) => {
                        self.error(Diagnostic::new(
                            Code::TypeMismatch,
                            "prev's offset must be a positive whole-number constant",
                            typed[1].span,
                        ));
                        return None;
                    }
                };
                let default = if typed.len() == 3 {
                    typed.remove(2)
                } else {
                    literal(Literal::Null(typed[0].ty), typed[0].ty)
                };
                CheckedWindow {
                    kind: WindowKind::Prev(offset),
                    args: vec![typed.remove(0), default],
                }
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("row function '{}' is not supported yet", name.name),
                        span,
                    )
                    .with_note("supported: row_number, prev, row_cumsum"),
                );
                return None;
            }
        };
        Some(window)
    }

    /// `query | operator`.
    fn push_operator(&mut self, mut query: CheckedQuery, operator: &ast::Operator) -> CheckedQuery {
        match &operator.kind {
            OperatorKind::Invoke(call) => return self.tabular_call(call, Some(query)),
            OperatorKind::As(name) => {
                // Later operators read these rows again by name, as from a
                // tabular `let` (the rows are the same each time).
                self.scalars.remove(&name.name);
                self.tabulars.insert(name.name.clone(), query.clone());
                return query;
            }
            OperatorKind::Serialize(items) => {
                // The rows are already in order: `serialize` only extends.
                if items.is_empty() {
                    return query;
                }
                let extend = ast::Operator {
                    kind: OperatorKind::Extend(items.clone()),
                    span: operator.span,
                };
                return self.push_operator(query, &extend);
            }
            OperatorKind::Extend(items) | OperatorKind::Project(items)
                if !self.in_window_stage && items.iter().any(|i| has_window_call(&i.expr)) =>
            {
                let exprs: Vec<&Expr> = items.iter().map(|i| &i.expr).collect();
                return self.push_with_windows(query, operator, &exprs);
            }
            OperatorKind::Where(predicate)
                if !self.in_window_stage && has_window_call(predicate) =>
            {
                return self.push_with_windows(query, operator, &[predicate]);
            }
            // A detector draws no chart: `render` passes the rows on.
            OperatorKind::Render(render) => {
                self.render(render, &query.output);
                return query;
            }
            // `summarize` then `top`, as the reference defines it.
            OperatorKind::TopHitters { count, of, by } => {
                for stage in self.top_hitters(count, of, by.as_ref(), &query.output, operator.span)
                {
                    query = self.push_operator(query, &stage);
                }
                return query;
            }
            // `distinct` of computed values: `project` them, then `distinct *`.
            OperatorKind::Distinct(items)
                if items
                    .iter()
                    .any(|i| i.name.is_some() || !matches!(i.expr.kind, ExprKind::Name(_))) =>
            {
                let project = ast::Operator {
                    kind: OperatorKind::Project(items.clone()),
                    span: operator.span,
                };
                query = self.push_operator(query, &project);
                let all = ast::Operator {
                    kind: OperatorKind::Distinct(Vec::new()),
                    span: operator.span,
                };
                return self.push_operator(query, &all);
            }
            _ => {}
        }
        let input = query.output.clone();
        let (op, output) = self.operator(operator, &input);
        query.stages.push(CheckedStage {
            op,
            text: self.text(operator.span),
            input,
            output: output.clone(),
        });
        query.output = output;
        query
    }

    fn source(&mut self, source: &Source) -> CheckedQuery {
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
                    let rows = super::limits::range_rows(a, b, c).unwrap_or(0);
                    if valid && rows > u128::from(super::limits::MAX_RANGE_ROWS) {
                        self.error(
                            Diagnostic::new(
                                Code::LimitExceeded,
                                format!(
                                    "this range makes {rows} rows, more than the limit of {}",
                                    super::limits::MAX_RANGE_ROWS
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
            Source::Call(call) => self.tabular_call(call, None),
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
                for (i, item) in items.iter().enumerate() {
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
                            let typed = self.expr(value, &[]);
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
            let path = text.strip_prefix("file://").unwrap_or(text);
            if path.contains("://") {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("externaldata reads local files only, not '{path}'"),
                        uri.span,
                    )
                    .with_label("a remote URL")
                    .with_help("download the file next to the detector and give its path"),
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

    /// `mv-expand`: the expanded items replace or append columns.
    fn mv_expand(&mut self, expand: &ast::MvExpand, input: &[Column]) -> (CheckedOp, Vec<Column>) {
        let mut columns = input.to_vec();
        let mut items = Vec::new();
        for item in &expand.items {
            let typed = self.expr(&item.expr, input);
            if typed.ty != ScalarType::Dynamic {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("mv-expand needs a dynamic array or bag, found {}", typed.ty),
                        item.expr.span,
                    )
                    .with_label(format!("this is {}", typed.ty)),
                );
            }
            let name = match (&item.name, &item.expr.kind) {
                (Some(name), _) => name.name.clone(),
                (None, ExprKind::Name(ident)) => ident.name.clone(),
                (None, _) => match default_name(&item.expr) {
                    Some(name) => name,
                    None => {
                        self.error(
                            Diagnostic::new(
                                Code::UnexpectedToken,
                                "mv-expand of an expression needs a column name",
                                item.expr.span,
                            )
                            .with_help("write `mv-expand NAME = EXPRESSION`"),
                        );
                        continue;
                    }
                },
            };
            let ty = item.to_type.unwrap_or(ScalarType::Dynamic);
            let position = place(&mut columns, &name, ty);
            items.push((position, typed));
        }
        let limit = expand
            .limit
            .as_ref()
            .map(|e| self.constant_count(e, "mv-expand limit"));
        let item_index = expand
            .item_index
            .as_ref()
            .map(|name| place(&mut columns, &name.name, ScalarType::Long));
        (
            CheckedOp::MvExpand {
                items,
                limit,
                item_index,
                bag_as_array: expand.bag_as_array,
            },
            columns,
        )
    }

    /// `mv-apply`: the subquery is checked over the expanded subtable; the
    /// output is the input's columns that were not expanded, then the
    /// subquery's other columns.
    fn mv_apply(
        &mut self,
        apply: &ast::MvApply,
        input: &[Column],
        span: Span,
    ) -> (CheckedOp, Vec<Column>) {
        if apply.expand.bag_as_array {
            self.error(Diagnostic::new(
                Code::Unsupported,
                "mv-apply has no `kind=array`; expand bags with an `mv-expand` in the subquery",
                span,
            ));
        }
        let (expand, subtable) = self.mv_expand(&apply.expand, input);
        let mut sub = CheckedQuery {
            source: CheckedSource::Rows {
                columns: subtable.clone(),
                rows: Vec::new(),
            },
            stages: Vec::new(),
            output: subtable.clone(),
        };
        for operator in &apply.subquery {
            sub = self.push_operator(sub, operator);
        }
        if reads_input_table(&sub, true) {
            self.error(Diagnostic::new(
                Code::Unsupported,
                "an mv-apply subquery that reads a table or a file (in a join or union) is not supported yet",
                span,
            ));
        }
        // Input columns replaced by an expanded item (same name) are not
        // carried over: the subquery's columns stand for them.
        let expanded_names: Vec<&str> = match &expand {
            CheckedOp::MvExpand {
                items, item_index, ..
            } => items
                .iter()
                .map(|(position, _)| *position)
                .chain(*item_index)
                .filter_map(|p| subtable.get(p).map(|c| c.name.as_str()))
                .collect(),
            _ => Vec::new(),
        };
        let mut layout = Vec::new();
        let mut output = Vec::new();
        for (i, column) in input.iter().enumerate() {
            if expanded_names.contains(&column.name.as_str()) {
                continue;
            }
            // A column the subquery also returns takes the subquery's value.
            match sub.output.iter().position(|c| c.name == column.name) {
                Some(j) => {
                    layout.push(ApplyColumn::Sub(j));
                    output.push(sub.output[j].clone());
                }
                None => {
                    layout.push(ApplyColumn::Outer(i));
                    output.push(column.clone());
                }
            }
        }
        for (j, column) in sub.output.iter().enumerate() {
            if !output.iter().any(|c: &Column| c.name == column.name) {
                layout.push(ApplyColumn::Sub(j));
                output.push(column.clone());
            }
        }
        (
            CheckedOp::MvApply {
                expand: Box::new(expand),
                sub: Box::new(sub),
                layout,
            },
            output,
        )
    }

    fn check_unique(&mut self, columns: &[Column], name: &str, span: Span) {
        if columns.iter().any(|c| c.name == name) {
            self.error(
                Diagnostic::new(
                    Code::DuplicateColumn,
                    format!("column '{name}' is defined twice"),
                    span,
                )
                .with_label("second definition")
                .with_help("give one of them another name with `NAME = ...`"),
            );
        }
    }

    /// The columns a name or pattern stands for, in input order; an
    /// unknown plain name is an error, a pattern may match none.
    fn pattern_columns(&mut self, columns: &[Column], pattern: &ast::ColumnPattern) -> Vec<usize> {
        if !pattern.wildcard {
            return self
                .column_index(columns, &pattern.name)
                .into_iter()
                .collect();
        }
        let matched: Vec<usize> = (0..columns.len())
            .filter(|&i| pattern.matches(&columns[i].name))
            .collect();
        if matched.is_empty() {
            // As Microsoft's parser does: a pattern must match a column.
            self.error(
                Diagnostic::new(
                    Code::UnknownColumn,
                    format!("no column matches '{}'", pattern.name.name),
                    pattern.name.span,
                )
                .with_label("matches no column"),
            );
        }
        matched
    }

    fn column_index(&mut self, columns: &[Column], ident: &Ident) -> Option<usize> {
        if let Some(i) = columns.iter().position(|c| c.name == ident.name) {
            return Some(i);
        }
        self.unknown_column(columns, ident);
        None
    }

    fn unknown_column(&mut self, columns: &[Column], ident: &Ident) {
        let mut diagnostic = Diagnostic::new(
            Code::UnknownColumn,
            format!("unknown column '{}'", ident.name),
            ident.span,
        )
        .with_label("no column or `let` of this name here");
        let candidates = columns
            .iter()
            .map(|c| c.name.as_str())
            .chain(self.scalars.keys().map(String::as_str));
        if let Some(best) = closest_name(&ident.name, candidates) {
            diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
        }
        self.error(diagnostic);
    }

    fn constant_count(&mut self, expr: &Expr, what: &str) -> u64 {
        let typed = self.expr(expr, &[]);
        match typed.kind {
            TypedExprKind::Literal(Literal::Long(n)) if n >= 0 => n as u64,
            TypedExprKind::Literal(Literal::Int(n)) if n >= 0 => n as u64,
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("{what} needs a constant non-negative integer"),
                        expr.span,
                    )
                    .with_label("not a non-negative integer literal"),
                );
                0
            }
        }
    }

    fn operator(&mut self, operator: &ast::Operator, input: &[Column]) -> (CheckedOp, Vec<Column>) {
        match &operator.kind {
            OperatorKind::Where(Expr {
                kind: ExprKind::NamedArgument { name, value },
                span,
            }) => {
                // Kusto's grammar takes `where NAME = VALUE`; it is not a
                // comparison, and its meaning is not documented.
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "`where NAME = VALUE` is not supported",
                        *span,
                    )
                    .with_label("`=` names a value; it does not compare")
                    .with_help(format!("to compare, write `where {} == {}`", name, value)),
                );
                (
                    CheckedOp::Select((0..input.len()).collect()),
                    input.to_vec(),
                )
            }
            OperatorKind::Where(predicate) => {
                let typed = self.expr(predicate, input);
                if !matches!(typed.ty, ScalarType::Bool | ScalarType::Dynamic) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("`where` needs a bool predicate, found {}", typed.ty),
                            predicate.span,
                        )
                        .with_label(format!("this is {}", typed.ty)),
                    );
                }
                (CheckedOp::Where(typed), input.to_vec())
            }
            OperatorKind::Extend(items) => {
                let mut columns = input.to_vec();
                let mut assignments = Vec::new();
                let mut unnamed = 0;
                for item in items {
                    for (name, typed, _) in self.item_columns(item, &columns.clone(), &mut unnamed)
                    {
                        let position = place(&mut columns, &name, typed.ty);
                        assignments.push((position, typed));
                    }
                }
                (CheckedOp::Extend(assignments), columns)
            }
            OperatorKind::Project(items) => {
                let mut columns: Vec<Column> = Vec::new();
                let mut values = Vec::new();
                let mut unnamed = 0;
                for item in items {
                    for (name, typed, span) in self.item_columns(item, input, &mut unnamed) {
                        self.check_unique(&columns, &name, span);
                        columns.push(Column::new(name, typed.ty));
                        values.push(typed);
                    }
                }
                (CheckedOp::Project(values), columns)
            }
            OperatorKind::ProjectAway(patterns) => {
                let mut removed = vec![false; input.len()];
                for pattern in patterns {
                    for i in self.pattern_columns(input, pattern) {
                        removed[i] = true;
                    }
                }
                let kept: Vec<usize> = (0..input.len()).filter(|&i| !removed[i]).collect();
                let columns = kept.iter().map(|&i| input[i].clone()).collect();
                (CheckedOp::Select(kept), columns)
            }
            OperatorKind::ProjectRename(pairs) => {
                let mut columns = input.to_vec();
                for (new, old) in pairs {
                    if let Some(i) = self.column_index(input, old) {
                        if columns
                            .iter()
                            .enumerate()
                            .any(|(j, c)| j != i && c.name == new.name)
                        {
                            self.check_unique(&columns, &new.name, new.span);
                        }
                        columns[i].name = new.name.clone();
                    }
                }
                (CheckedOp::Select((0..input.len()).collect()), columns)
            }
            OperatorKind::MvExpand(expand) => self.mv_expand(expand, input),
            OperatorKind::MvApply(apply) => self.mv_apply(apply, input, operator.span),
            OperatorKind::Take(count) => {
                let n = self.constant_count(count, "take");
                (CheckedOp::Take(n), input.to_vec())
            }
            // `push_operator` turns `serialize` into `extend`.
            OperatorKind::Serialize(_) => (
                CheckedOp::Select((0..input.len()).collect()),
                input.to_vec(),
            ),
            OperatorKind::Sample(count) => {
                let n = self.constant_count(count, "sample");
                (CheckedOp::Sample(n), input.to_vec())
            }
            OperatorKind::Count => (
                CheckedOp::Count,
                vec![Column::new("Count", ScalarType::Long)],
            ),
            OperatorKind::Summarize { aggregates, by } => self.summarize(aggregates, by, input),
            OperatorKind::MakeSeries(series) => self.make_series(series, input),
            OperatorKind::Join(join) => self.join(join, input, false),
            OperatorKind::Parse(parse) => self.parse_operator(parse, input),
            OperatorKind::Unimplemented(opaque) => {
                self.unimplemented(opaque);
                (CheckedOp::Take(u64::MAX), input.to_vec())
            }
            // `tabular` binds the name and passes the rows on.
            OperatorKind::As(_) | OperatorKind::Invoke(_) => (
                CheckedOp::Select((0..input.len()).collect()),
                input.to_vec(),
            ),
            OperatorKind::Lookup(join) => self.join(join, input, true),
            OperatorKind::Union(union) => {
                if let Some(name) = &union.with_source {
                    self.error(
                        Diagnostic::new(
                            Code::Unsupported,
                            "`withsource` after a pipe is not supported yet: the reference does not say what names the input rows",
                            name.span,
                        )
                        .with_label("not supported yet")
                        .with_help("start the query with `union withsource=... T, U`"),
                    );
                }
                let legs = self.union_legs(union);
                self.union(input, legs, union, operator.span)
            }
            OperatorKind::TopNested(levels) => self.top_nested(levels, input),
            OperatorKind::GetSchema => self.getschema(input, operator.span),
            OperatorKind::Partition(partition) => self.partition(partition, input, operator.span),
            // `push_operator` handles these.
            OperatorKind::Render(_) | OperatorKind::TopHitters { .. } => (
                CheckedOp::Select((0..input.len()).collect()),
                input.to_vec(),
            ),
            OperatorKind::Sort(keys) => {
                let keys = keys.iter().map(|k| self.sort_key(k, input)).collect();
                (CheckedOp::Sort(keys), input.to_vec())
            }
            OperatorKind::Top { count, by } => {
                let count = self.constant_count(count, "top");
                let key = self.sort_key(by, input);
                (CheckedOp::Top { count, key }, input.to_vec())
            }
            OperatorKind::Distinct(items) => {
                let mut indices = Vec::new();
                if items.is_empty() {
                    indices.extend(0..input.len());
                }
                // Only columns get here: `push_operator` turns computed
                // values into `project` + `distinct *`.
                for item in items {
                    if let (None, ExprKind::Name(ident)) = (&item.name, &item.expr.kind) {
                        if let Some(i) = self.column_index(input, ident) {
                            indices.push(i);
                        }
                    }
                }
                let columns = indices.iter().map(|&i| input[i].clone()).collect();
                (CheckedOp::Distinct(indices), columns)
            }
            OperatorKind::ProjectKeep(patterns) => {
                let mut keep = vec![false; input.len()];
                for pattern in patterns {
                    for i in self.pattern_columns(input, pattern) {
                        keep[i] = true;
                    }
                }
                let kept: Vec<usize> = (0..input.len()).filter(|&i| keep[i]).collect();
                let columns = kept.iter().map(|&i| input[i].clone()).collect();
                (CheckedOp::Select(kept), columns)
            }
            OperatorKind::ProjectReorder(items) => {
                let mut order: Vec<usize> = Vec::new();
                for (pattern, direction) in items {
                    let mut matched = self.pattern_columns(input, pattern);
                    match direction {
                        None => {}
                        Some(ast::ReorderOrder::Asc) => {
                            matched.sort_by(|&a, &b| input[a].name.cmp(&input[b].name))
                        }
                        Some(ast::ReorderOrder::Desc) => {
                            matched.sort_by(|&a, &b| input[b].name.cmp(&input[a].name))
                        }
                        Some(granny) => self.error(
                            Diagnostic::new(
                                Code::Unsupported,
                                format!(
                                    "project-reorder {} is not supported yet",
                                    granny.spelling()
                                ),
                                pattern.name.span,
                            )
                            .with_label("not supported yet")
                            .with_help("use asc or desc"),
                        ),
                    }
                    for i in matched {
                        if !order.contains(&i) {
                            order.push(i);
                        }
                    }
                }
                order.extend(
                    (0..input.len())
                        .filter(|i| !order.contains(i))
                        .collect::<Vec<_>>(),
                );
                let columns = order.iter().map(|&i| input[i].clone()).collect();
                (CheckedOp::Select(order), columns)
            }
        }
    }

    /// `parse`: the pattern as a regular expression, and the new columns.
    fn parse_operator(&mut self, parse: &ast::Parse, input: &[Column]) -> (CheckedOp, Vec<Column>) {
        let expr = self.expr(&parse.expr, input);
        let mut columns = input.to_vec();
        let mut targets = Vec::new();
        let mut regex = String::from("^");
        let mut regex_ok = true;
        if let Some(flags) = &parse.flags {
            // RE2's flags, which the regex crate spells the same way.
            let valid = !flags.is_empty() && flags.chars().all(|c| "imsU".contains(c));
            if parse.kind != ast::ParseKind::Regex || !valid {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("parse flags '{flags}' are not supported"),
                        parse.expr.span,
                    )
                    .with_note("kqlc takes the regex flags i, m, s and U, with kind=regex"),
                );
            } else {
                regex = format!("(?{flags})^");
            }
        }
        let last_column = parse
            .pattern
            .iter()
            .rposition(|p| matches!(p, ast::ParsePart::Column(..)));
        for (i, part) in parse.pattern.iter().enumerate() {
            match part {
                ast::ParsePart::Any => regex.push_str(".*?"),
                ast::ParsePart::Text(text, span) => match parse.kind {
                    ast::ParseKind::Regex => {
                        // Each piece alone first: one that only compiles
                        // inside the wrapping (`a)(b`) would change the
                        // pattern's meaning.
                        regex_ok &= self.check_regex_text(text, *span);
                        regex.push_str(&format!("(?:{text})"));
                    }
                    _ => regex.push_str(&regex::escape(text)),
                },
                ast::ParsePart::Column(name, ty) => {
                    let ty = ty.unwrap_or(ScalarType::String);
                    // A column at the end takes the rest of the text.
                    let ends = Some(i) == last_column && i + 1 == parse.pattern.len();
                    let capture = match (parse.kind, ty) {
                        (ast::ParseKind::Simple, ScalarType::Long | ScalarType::Int) => r"(-?\d+)",
                        (ast::ParseKind::Simple, ScalarType::Real) => {
                            r"(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)"
                        }
                        (ast::ParseKind::Regex, _) | (_, _) if ends => "(.*)",
                        (ast::ParseKind::Regex, _) => "(.*)",
                        _ => "(.*?)",
                    };
                    regex.push_str(capture);
                    targets.push((place(&mut columns, &name.name, ty), ty));
                }
            }
        }
        if let (true, Err(error)) = (regex_ok, regex::Regex::new(&regex)) {
            self.error(
                Diagnostic::new(
                    Code::InvalidLiteral,
                    "invalid parse pattern",
                    parse.expr.span,
                )
                .with_note(
                    error
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .to_string(),
                ),
            );
        }
        (
            CheckedOp::Parse {
                expr,
                regex,
                targets,
                relaxed: parse.kind == ast::ParseKind::Relaxed,
                drop_unmatched: parse.drop_unmatched,
            },
            columns,
        )
    }

    /// `join`/`lookup`: the right side, the keys, the output layout.
    fn join(
        &mut self,
        join: &ast::Join,
        input: &[Column],
        lookup: bool,
    ) -> (CheckedOp, Vec<Column>) {
        use ast::JoinKind as K;
        let right = self.tabular(&join.right);
        if lookup && !matches!(join.kind, K::LeftOuter | K::Inner) {
            self.error(Diagnostic::new(
                Code::Unsupported,
                format!(
                    "lookup supports kind=leftouter and kind=inner, not {}",
                    join.kind.name()
                ),
                join.right.span,
            ));
        }
        let (mut left_keys, mut right_keys) = (Vec::new(), Vec::new());
        for key in &join.on {
            let (left_name, right_name) = match key {
                ast::JoinKey::Same(name) => (name, name),
                ast::JoinKey::Pair(left, right) => (left, right),
            };
            let left = self.column_index(input, left_name);
            let right_index = self.column_index(&right.output, right_name);
            if let (Some(l), Some(r)) = (left, right_index) {
                let (lt, rt) = (input[l].ty, right.output[r].ty);
                if lt != rt
                    && lt != ScalarType::Dynamic
                    && rt != ScalarType::Dynamic
                    && !(lt.is_numeric() && rt.is_numeric())
                {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("join keys have different types: {lt} and {rt}"),
                            right_name.span,
                        )
                        .with_label(format!("this is {rt}, the left key is {lt}")),
                    );
                }
                left_keys.push(l);
                right_keys.push(r);
            }
        }
        let mut right_columns = Vec::new();
        let columns: Vec<Column> = match join.kind {
            K::LeftSemi | K::LeftAnti => input.to_vec(),
            K::RightSemi | K::RightAnti => right.output.clone(),
            _ => {
                let mut all = input.to_vec();
                for (i, column) in right.output.iter().enumerate() {
                    if lookup && right_keys.contains(&i) {
                        continue;
                    }
                    let name = unique_name(&all, &column.name);
                    right_columns.push(i);
                    all.push(Column::new(name, column.ty));
                }
                all
            }
        };
        self.check_single_table(&right);
        (
            CheckedOp::Join {
                kind: join.kind,
                right: Box::new(right),
                left_keys,
                right_keys,
                right_columns,
            },
            columns,
        )
    }

    /// `union`: columns by name, in order of first appearance.
    /// The tables of a `union`, checked. With `isfuzzy=true`, a table
    /// name that resolves to nothing is left out (unless none resolves).
    /// With `withsource=S`, each gets a column `S` holding its name.
    fn union_legs(&mut self, union: &ast::Union) -> Vec<CheckedQuery> {
        let unresolved = |checker: &Self, table: &TabularExpr| match &table.source {
            Source::Named(name) => !checker.is_tabular_name(&name.name),
            _ => false,
        };
        let fuzzy_skip = union.fuzzy && union.tables.iter().any(|t| !unresolved(self, t));
        let mut legs = Vec::new();
        for table in &union.tables {
            if fuzzy_skip && unresolved(self, table) {
                continue;
            }
            let mut leg = self.tabular(table);
            if let Some(column) = &union.with_source {
                let name = match &table.source {
                    Source::Named(name) if table.operators.is_empty() => name.name.clone(),
                    _ => {
                        self.error(
                            Diagnostic::new(
                                Code::Unsupported,
                                "`withsource` with a table that is not a plain name is not supported yet",
                                table.span,
                            )
                            .with_label("no name for this table's rows")
                            .with_help("bind it with `let NAME = ...;` and name it here"),
                        );
                        String::new()
                    }
                };
                let input = leg.output.clone();
                let mut output = input.clone();
                let position = place(&mut output, &column.name, ScalarType::String);
                let value = TypedExpr {
                    kind: TypedExprKind::Literal(Literal::String(name.clone())),
                    ty: ScalarType::String,
                    span: table.span,
                };
                leg.stages.push(CheckedStage {
                    op: CheckedOp::Extend(vec![(position, value)]),
                    text: format!("extend {} = \"{name}\"", column.name),
                    input,
                    output: output.clone(),
                });
                leg.output = output;
            }
            legs.push(leg);
        }
        legs
    }

    fn union(
        &mut self,
        input: &[Column],
        legs: Vec<CheckedQuery>,
        union: &ast::Union,
        span: Span,
    ) -> (CheckedOp, Vec<Column>) {
        let mut columns: Vec<Column> = input.to_vec();
        for leg in &legs {
            self.check_single_table(leg);
            for column in &leg.output {
                match columns.iter().find(|c| c.name == column.name) {
                    Some(existing) if existing.ty != column.ty => self.error(
                        Diagnostic::new(
                            Code::Unsupported,
                            format!(
                                "union of column '{}' with types {} and {} is not supported",
                                column.name, existing.ty, column.ty
                            ),
                            span,
                        )
                        .with_help("convert the column to one type in every table first"),
                    ),
                    Some(_) => {}
                    None => columns.push(column.clone()),
                }
            }
        }
        if union.inner {
            columns.retain(|c| {
                input.iter().any(|i| i.name == c.name)
                    && legs
                        .iter()
                        .all(|leg| leg.output.iter().any(|o| o.name == c.name))
            });
        }
        if let Some(source) = &union.with_source {
            if let Some(i) = columns.iter().position(|c| c.name == source.name) {
                let column = columns.remove(i);
                columns.insert(0, column);
            }
        }
        let mapping = |output: &[Column]| -> Vec<Option<usize>> {
            columns
                .iter()
                .map(|c| output.iter().position(|o| o.name == c.name))
                .collect()
        };
        let input_map = mapping(input);
        let legs = legs
            .into_iter()
            .map(|leg| {
                let map = mapping(&leg.output);
                (leg, map)
            })
            .collect();
        (
            CheckedOp::Union {
                input: input_map,
                legs,
            },
            columns,
        )
    }

    /// A rule reads at most one table: every table source in `query`
    /// must be the same as in the rest of the query.
    fn check_single_table(&mut self, query: &CheckedQuery) {
        let mut names = Vec::new();
        collect_tables(query, &mut names);
        names.sort();
        names.dedup();
        if names.len() > 1 {
            self.error(Diagnostic::new(
                Code::Unsupported,
                format!(
                    "a rule reads one table; this query reads {}",
                    names.join(" and ")
                ),
                Span::default(),
            ));
        }
    }

    /// `render` must be the last operator of its query.
    fn check_render_last(&mut self, operators: &[ast::Operator]) {
        let last = operators.len().saturating_sub(1);
        for (i, operator) in operators.iter().enumerate() {
            if matches!(operator.kind, OperatorKind::Render(_)) && i != last {
                self.error(
                    Diagnostic::new(
                        Code::UnexpectedToken,
                        "`render` must be the last operator of the query",
                        operator.span,
                    )
                    .with_label("operators follow it"),
                );
            }
        }
    }

    /// `render`: the visualization and the properties must be ones the
    /// reference lists, and the column properties must name columns.
    fn render(&mut self, render: &ast::Render, columns: &[Column]) {
        const VISUALIZATIONS: &[&str] = &[
            "anomalychart",
            "areachart",
            "barchart",
            "card",
            "columnchart",
            "ladderchart",
            "linechart",
            "piechart",
            "pivotchart",
            "scatterchart",
            "stackedareachart",
            "table",
            "timechart",
            "timepivot",
            "treemap",
        ];
        // Each property, with the words its value may be (empty: any
        // expression; `None`: column names).
        const PROPERTIES: &[(&str, Option<&[&str]>)] = &[
            ("accumulate", Some(&[])),
            (
                "kind",
                Some(&["default", "unstacked", "stacked", "stacked100", "map"]),
            ),
            ("legend", Some(&["visible", "hidden"])),
            ("series", None),
            ("ymin", Some(&[])),
            ("ymax", Some(&[])),
            ("title", Some(&[])),
            ("xaxis", Some(&["linear", "log"])),
            ("xcolumn", None),
            ("xtitle", Some(&[])),
            ("yaxis", Some(&["linear", "log"])),
            ("ycolumns", None),
            ("ysplit", Some(&["none", "axes", "panels"])),
            ("ytitle", Some(&[])),
            ("anomalycolumns", None),
        ];
        let visualization = &render.visualization;
        if !VISUALIZATIONS.contains(&visualization.name.as_str()) {
            let mut d = Diagnostic::new(
                Code::UnexpectedToken,
                format!("unknown visualization '{}'", visualization.name),
                visualization.span,
            )
            .with_label("not a visualization of `render`");
            if let Some(best) = closest_name(&visualization.name, VISUALIZATIONS.iter().copied()) {
                d = d.with_help(format!("did you mean '{best}'?"));
            }
            self.error(d);
        }
        for (name, values) in &render.properties {
            let Some((_, words)) = PROPERTIES.iter().find(|(p, _)| *p == name.name) else {
                self.error(
                    Diagnostic::new(
                        Code::UnexpectedToken,
                        format!("unknown `render` property '{}'", name.name),
                        name.span,
                    )
                    .with_label("not a property of `render`"),
                );
                continue;
            };
            for value in values {
                match (words, &value.kind) {
                    (None, ExprKind::Name(column)) => {
                        self.column_index(columns, column);
                    }
                    (None, _) => self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("`render` property '{}' takes column names", name.name),
                            value.span,
                        )
                        .with_label("not a column name"),
                    ),
                    (Some(words), ExprKind::Name(word)) if !words.is_empty() => {
                        if !words.contains(&word.name.as_str()) {
                            self.error(
                                Diagnostic::new(
                                    Code::UnexpectedToken,
                                    format!(
                                        "`render` property '{}' takes one of: {}",
                                        name.name,
                                        words.join(", ")
                                    ),
                                    value.span,
                                )
                                .with_label("not one of its values"),
                            );
                        }
                    }
                    // A title, a bound or a flag: a constant.
                    _ => {
                        self.expr(value, &[]);
                    }
                }
            }
        }
    }

    /// `top-hitters N of EXPR [by SUM]`, as the reference defines it:
    /// `summarize approximate_count_EXPR = count() by EXPR` (or
    /// `approximate_sum_EXPR = sum(SUM)`), then `top N` by that column.
    /// Counts are exact.
    fn top_hitters(
        &mut self,
        count: &Expr,
        of: &Expr,
        by: Option<&Expr>,
        input: &[Column],
        span: Span,
    ) -> Vec<ast::Operator> {
        let _ = input;
        let key = ast::NamedExpr {
            name: None,
            more_names: Vec::new(),
            expr: of.clone(),
        };
        let key_name = item_name(&key, &mut 0);
        let ident = |name: &str| Ident {
            name: name.to_string(),
            span,
        };
        let (column, args) = match by {
            Some(sum) => (format!("approximate_sum_{key_name}"), vec![sum.clone()]),
            None => (format!("approximate_count_{key_name}"), Vec::new()),
        };
        let function = if by.is_some() { "sum" } else { "count" };
        let aggregate = ast::NamedExpr {
            name: Some(ident(&column)),
            more_names: Vec::new(),
            expr: Expr {
                kind: ExprKind::Call {
                    name: ident(function),
                    args,
                },
                span,
            },
        };
        vec![
            ast::Operator {
                kind: OperatorKind::Summarize {
                    aggregates: vec![aggregate],
                    by: vec![key],
                },
                span,
            },
            ast::Operator {
                kind: OperatorKind::Top {
                    count: count.clone(),
                    by: ast::SortExpr {
                        expr: Expr {
                            kind: ExprKind::Name(ident(&column)),
                            span,
                        },
                        descending: true,
                        nulls_first: None,
                    },
                },
                span,
            },
        ]
    }

    /// `top-nested`: two columns per level, the key's and the aggregate's
    /// (`aggregated_KEY` unless named).
    fn top_nested(
        &mut self,
        levels: &[ast::TopNestedLevel],
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
        /// The aggregates the reference lists for `top-nested`.
        const RANKING: &[&str] = &[
            "sum",
            "count",
            "max",
            "min",
            "dcount",
            "avg",
            "percentile",
            "percentilew",
        ];
        let mut columns: Vec<Column> = Vec::new();
        let mut checked = Vec::new();
        let mut unnamed = 0;
        for level in levels {
            let count = level
                .count
                .as_ref()
                .map(|c| self.constant_count(c, "top-nested"));
            let key = self.expr(&level.of.expr, input);
            let key_name = item_name(&level.of, &mut unnamed);
            let span = level
                .of
                .name
                .as_ref()
                .map_or(level.of.expr.span, |n| n.span);
            self.check_unique(&columns, &key_name, span);
            columns.push(Column::new(key_name.clone(), key.ty));
            let others = level.others.as_ref().map(|o| {
                // A constant: it may read no column.
                let value = self.expr(o, &[]);
                let fits = value.ty == key.ty
                    || matches!(value.kind, TypedExprKind::Literal(Literal::Null(_)))
                    || (value.ty.is_numeric() && key.ty.is_numeric());
                if !fits {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "`with others` gives a {} where the level's values are {}",
                                value.ty, key.ty
                            ),
                            o.span,
                        )
                        .with_label(format!("expected a {}", key.ty)),
                    );
                }
                value
            });
            let by = &level.by;
            let function = match &by.expr.kind {
                ExprKind::Call { name, .. } => Some(name),
                _ => None,
            };
            let Some(function) = function else {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "an expression over aggregates in `top-nested` is not supported yet",
                        by.expr.span,
                    )
                    .with_label("not a single aggregate call"),
                );
                continue;
            };
            // An aggregate the reference does not list (a name that is no
            // aggregate at all is reported by `aggregate`).
            if !RANKING.contains(&function.name.as_str())
                && aggregates::lookup(&function.name).is_some()
            {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("`top-nested` does not rank by '{}'", function.name),
                        function.span,
                    )
                    .with_label("not a top-nested aggregate")
                    .with_note(format!("it ranks by {}", RANKING.join(", "))),
                );
                continue;
            }
            let Some(aggregate) = self.aggregate(&by.expr, input, &[]) else {
                continue;
            };
            let ty = aggregate
                .function
                .result_type(aggregate.value.as_ref().map(|v| v.ty));
            let name = by
                .name
                .as_ref()
                .map_or_else(|| format!("aggregated_{key_name}"), |n| n.name.clone());
            let span = by.name.as_ref().map_or(by.expr.span, |n| n.span);
            self.check_unique(&columns, &name, span);
            columns.push(Column::new(name, ty));
            checked.push(super::CheckedTopNestedLevel {
                count,
                key,
                others,
                aggregate,
                descending: level.descending,
            });
        }
        (CheckedOp::TopNested(checked), columns)
    }

    /// `getschema`: a row per input column: its name, position, .NET type
    /// and KQL type.
    fn getschema(&mut self, input: &[Column], span: Span) -> (CheckedOp, Vec<Column>) {
        let text = |value: &str| TypedExpr {
            kind: TypedExprKind::Literal(Literal::String(value.to_string())),
            ty: ScalarType::String,
            span,
        };
        let rows = input
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let data_type = match column.ty {
                    ScalarType::Bool => "System.SByte",
                    ScalarType::Int => "System.Int32",
                    ScalarType::Long => "System.Int64",
                    ScalarType::Real => "System.Double",
                    ScalarType::String => "System.String",
                    ScalarType::DateTime => "System.DateTime",
                    ScalarType::TimeSpan => "System.TimeSpan",
                    ScalarType::Guid => "System.Guid",
                    ScalarType::Dynamic => "System.Object",
                };
                vec![
                    text(&column.name),
                    TypedExpr {
                        kind: TypedExprKind::Literal(Literal::Int(
                            i32::try_from(i).unwrap_or(i32::MAX),
                        )),
                        ty: ScalarType::Int,
                        span,
                    },
                    text(data_type),
                    text(column.ty.name()),
                ]
            })
            .collect();
        let output = vec![
            Column::new("ColumnName", ScalarType::String),
            Column::new("ColumnOrdinal", ScalarType::Int),
            Column::new("DataType", ScalarType::String),
            Column::new("ColumnType", ScalarType::String),
        ];
        (CheckedOp::ConstantRows(rows), output)
    }

    /// `partition [hint.strategy=S] by COL (SUBQUERY)`.
    fn partition(
        &mut self,
        partition: &ast::Partition,
        input: &[Column],
        span: Span,
    ) -> (CheckedOp, Vec<Column>) {
        let key = self.column_index(input, &partition.by).unwrap_or(0);
        let mut limit = Some(crate::sema::limits::LEGACY_PARTITIONS);
        for (name, value) in &partition.hints {
            if name == "hint.strategy" {
                limit = match value.as_str() {
                    "legacy" => Some(crate::sema::limits::LEGACY_PARTITIONS),
                    "native" | "shuffle" => None,
                    other => {
                        self.error(
                            Diagnostic::new(
                                Code::UnexpectedToken,
                                format!("unknown partition strategy '{other}'"),
                                span,
                            )
                            .with_label("expected legacy, native or shuffle"),
                        );
                        None
                    }
                };
            }
        }
        let mut sub = CheckedQuery {
            source: CheckedSource::Rows {
                columns: input.to_vec(),
                rows: Vec::new(),
            },
            stages: Vec::new(),
            output: input.to_vec(),
        };
        self.check_render_last(&partition.subquery);
        for operator in &partition.subquery {
            sub = self.push_operator(sub, operator);
        }
        if reads_input_table(&sub, true) {
            self.error(Diagnostic::new(
                Code::Unsupported,
                "a partition subquery that reads a table or a file (in a join or union) is not supported yet",
                span,
            ));
        }
        let output = sub.output.clone();
        (
            CheckedOp::Partition {
                key,
                sub: Box::new(sub),
                limit,
            },
            output,
        )
    }

    fn sort_key(&mut self, key: &ast::SortExpr, input: &[Column]) -> CheckedSortKey {
        CheckedSortKey {
            expr: self.expr(&key.expr, input),
            descending: key.descending,
            nulls_first: key.nulls_first(),
        }
    }

    /// `summarize`: the group keys' columns, then each aggregate's.
    fn summarize(
        &mut self,
        items: &[ast::NamedExpr],
        by: &[ast::NamedExpr],
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
        let mut columns: Vec<Column> = Vec::new();
        let mut keys = Vec::new();
        let mut unnamed = 0;
        for item in by {
            let typed = self.expr(&item.expr, input);
            let name = item_name(item, &mut unnamed);
            let span = item.name.as_ref().map_or(item.expr.span, |n| n.span);
            self.check_unique(&columns, &name, span);
            columns.push(Column::new(name, typed.ty));
            keys.push(typed);
        }
        let key_columns: Vec<usize> = keys
            .iter()
            .filter_map(|key| match key.kind {
                TypedExprKind::Column(i) => Some(i),
                _ => None,
            })
            .collect();
        let mut checked = Vec::new();
        for item in items {
            let Some(aggregate) = self.aggregate(&item.expr, input, &key_columns) else {
                continue;
            };
            if item.more_names.len() >= aggregate.width() {
                let extra = &item.more_names[aggregate.width() - 1];
                self.error(
                    Diagnostic::new(
                        Code::WrongArgumentCount,
                        format!(
                            "{} names for the {} column{} of '{}'",
                            item.more_names.len() + 1,
                            aggregate.width(),
                            if aggregate.width() == 1 { "" } else { "s" },
                            aggregate.function.name
                        ),
                        extra.span,
                    )
                    .with_label("no column left for this name"),
                );
                continue;
            }
            let function = aggregate.function;
            // `countif(p)` is `countif_`: only aggregated values lend a name.
            let value_name = match (&item.expr.kind, function.shape) {
                (_, Shape::None | Shape::Predicate) => String::new(),
                (ExprKind::Call { args, .. }, _) => {
                    args.first().and_then(default_name).unwrap_or_default()
                }
                _ => String::new(),
            };
            let first = match (&item.name, function.shape) {
                (Some(name), _) => name.name.clone(),
                (None, Shape::Extreme) | (None, _) if function.prefix.is_empty() => {
                    if value_name.is_empty() {
                        format!("{}_", function.name)
                    } else {
                        value_name.clone()
                    }
                }
                (None, Shape::Extreme) if !value_name.is_empty() => value_name.clone(),
                (None, Shape::Percentiles { array: false, .. }) => {
                    let first = aggregate.percentiles.first().map_or("", String::as_str);
                    format!("{}_{value_name}_{first}", function.prefix)
                }
                (None, _) => format!("{}_{value_name}", function.prefix),
            };
            let ty = function.result_type(aggregate.value.as_ref().map(|v| v.ty));
            if item.name.is_some() {
                let span = item.name.as_ref().map_or(item.expr.span, |n| n.span);
                self.check_unique(&columns, &first, span);
                columns.push(Column::new(first, ty));
            } else {
                let name = unique_name(&columns, &first);
                columns.push(Column::new(name, ty));
            }
            // The columns after the first: `arg_max`'s carried ones, or a
            // column per further percentile of `percentiles`.
            let more: Vec<(String, ScalarType)> = match function.shape {
                Shape::Percentiles { array: false, .. } => aggregate
                    .percentiles
                    .iter()
                    .skip(1)
                    .map(|p| (format!("{}_{value_name}_{p}", function.prefix), ty))
                    .collect(),
                _ => aggregate
                    .carried
                    .iter()
                    .zip(&aggregate.carried_names)
                    .map(|(carried, base)| (base.clone(), carried.ty))
                    .collect(),
            };
            // `(a, b, c) = arg_max(...)` names the columns in order; the
            // rest keep their own names.
            for (k, (base, ty)) in more.into_iter().enumerate() {
                match item.more_names.get(k) {
                    Some(name) => {
                        self.check_unique(&columns, &name.name, name.span);
                        columns.push(Column::new(name.name.clone(), ty));
                    }
                    None => {
                        let name = unique_name(&columns, &base);
                        columns.push(Column::new(name, ty));
                    }
                }
            }
            checked.push(aggregate);
        }
        (
            CheckedOp::Summarize {
                by: keys,
                aggregates: checked,
            },
            columns,
        )
    }

    /// The columns an `extend` or `project` item gives, with their names
    /// and where they are named: one, or one per member for a function that
    /// gives several columns (`series_stats`, `series_fit_line`), computed
    /// as members of its `_dynamic` form's bag.
    fn item_columns(
        &mut self,
        item: &ast::NamedExpr,
        scope: &[Column],
        unnamed: &mut usize,
    ) -> Vec<(String, TypedExpr, Span)> {
        let span = item.name.as_ref().map_or(item.expr.span, |n| n.span);
        let multi = match &item.expr.kind {
            ExprKind::Call { name, args } => MULTI_COLUMN_FUNCTIONS
                .iter()
                .find(|m| m.name == name.name)
                .map(|m| (m, name, args)),
            _ => None,
        };
        let Some((multi, function, args)) = multi else {
            if let Some(extra) = item.more_names.first() {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "assigning several names to a value that is not a multi-column function is not supported yet",
                        extra.span,
                    )
                    .with_label("one value, several names")
                    .with_note("kqlc expands `series_stats` and `series_fit_line` into several columns"),
                );
            }
            let typed = self.expr(&item.expr, scope);
            return vec![(item_name(item, unnamed), typed, span)];
        };
        let call = Expr {
            kind: ExprKind::Call {
                name: Ident {
                    name: multi.dynamic.to_string(),
                    span: function.span,
                },
                args: args.clone(),
            },
            span: item.expr.span,
        };
        let bag = self.expr(&call, scope);
        let names: Vec<&Ident> = item.name.iter().chain(&item.more_names).collect();
        if let Some(extra) = names.get(multi.members.len()) {
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "{} names for the {} columns of '{}'",
                        names.len(),
                        multi.members.len(),
                        multi.name
                    ),
                    extra.span,
                )
                .with_label("no column left for this name"),
            );
        }
        // series_stats-function.md: "If you provide a limited number of
        // names, the table will show only those columns."
        let count = if multi.named_only && !names.is_empty() {
            names.len().min(multi.members.len())
        } else {
            multi.members.len()
        };
        let base = format!(
            "{}_{}",
            multi.name,
            args.first().and_then(default_name).unwrap_or_default()
        );
        let mut out = Vec::new();
        for (k, (member, ty)) in multi.members.iter().take(count).enumerate() {
            let (name, name_span) = match names.get(k) {
                Some(name) => (name.name.clone(), name.span),
                None => (format!("{base}_{member}"), item.expr.span),
            };
            let value = TypedExpr {
                kind: TypedExprKind::Member(Box::new(bag.clone()), member.to_string()),
                ty: ScalarType::Dynamic,
                span: item.expr.span,
            };
            let conversion = match ty {
                ScalarType::Real => functions::lookup("toreal"),
                ScalarType::Long => functions::lookup("tolong"),
                _ => None,
            };
            let value = match conversion {
                Some(conversion) => TypedExpr {
                    kind: TypedExprKind::Call(conversion, vec![value]),
                    ty: *ty,
                    span: item.expr.span,
                },
                None => value,
            };
            out.push((name, value, name_span));
        }
        out
    }

    /// `make-series`: the aggregates and groups are named as `summarize`
    /// names them; the aggregates' columns and the axis column are dynamic
    /// arrays (make-series-operator.md).
    fn make_series(
        &mut self,
        series: &ast::MakeSeries,
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
        let items: Vec<ast::NamedExpr> = series.aggregates.iter().map(|a| a.item.clone()).collect();
        let (summarize, mut columns) = self.summarize(&items, &series.by, input);
        let CheckedOp::Summarize { by, aggregates } = summarize else {
            unreachable!("summarize checks to a summarize")
        };
        let mut defaults = Vec::new();
        for (aggregate, item) in aggregates.iter().zip(&series.aggregates) {
            let function = aggregate.function;
            let span = match &item.item.expr.kind {
                ExprKind::Call { name, .. } => name.span,
                _ => item.item.expr.span,
            };
            if !MAKE_SERIES_AGGREGATES.contains(&function.name) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "aggregate '{}' cannot be used in make-series",
                            function.name
                        ),
                        span,
                    )
                    .with_label("not one of make-series' aggregates")
                    .with_note(format!(
                        "make-series takes {}",
                        MAKE_SERIES_AGGREGATES.join(", ")
                    )),
                );
                continue;
            }
            let ty = function.result_type(aggregate.value.as_ref().map(|v| v.ty));
            if !ty.is_numeric() && ty != ScalarType::Dynamic {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "make-series needs numeric aggregates; '{}' gives {ty} here",
                            function.name
                        ),
                        item.item.expr.span,
                    )
                    .with_label(format!("a series of {ty}")),
                );
            }
            let default = item.default.as_ref().map(|d| {
                let typed = self.expr(d, &[]);
                if !typed.ty.is_numeric()
                    && typed.ty != ScalarType::Dynamic
                    && !matches!(typed.kind, TypedExprKind::Literal(Literal::Null(_)))
                {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("a series default must be a number, not {}", typed.ty),
                            d.span,
                        )
                        .with_label("not a number"),
                    );
                }
                typed
            });
            defaults.push(default);
        }
        // The axis and its bounds.
        let axis = self.expr(&series.axis, input);
        let (from, to, step, in_range) = match &series.range {
            ast::SeriesRange::Step { from, to, step } => (from.as_ref(), to.as_ref(), step, false),
            ast::SeriesRange::InRange { start, stop, step } => {
                (Some(start), Some(stop), step, true)
            }
        };
        let (bound_ok, step_ok): (TypeTest, TypeTest) = match axis.ty {
            ScalarType::DateTime => (|t| t == ScalarType::DateTime, |t| t == ScalarType::TimeSpan),
            ScalarType::TimeSpan => (|t| t == ScalarType::TimeSpan, |t| t == ScalarType::TimeSpan),
            ScalarType::Int | ScalarType::Long => (
                |t| matches!(t, ScalarType::Int | ScalarType::Long),
                |t| matches!(t, ScalarType::Int | ScalarType::Long),
            ),
            ScalarType::Real => (ScalarType::is_numeric, ScalarType::is_numeric),
            other => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("the make-series axis must be a datetime, timespan or number, not {other}"),
                        series.axis.span,
                    )
                    .with_label("not an axis"),
                );
                (|_| true, |_| true)
            }
        };
        let bound = |checker: &mut Checker, expr: &Expr, ok: fn(ScalarType) -> bool, what: &str| {
            let typed = checker.expr(expr, &[]);
            if !ok(typed.ty) && typed.ty != ScalarType::Dynamic {
                checker.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("the {what} of a {} axis cannot be a {}", axis.ty, typed.ty),
                        expr.span,
                    )
                    .with_label(format!("a {}", typed.ty)),
                );
            }
            typed
        };
        let from = from.map(|e| bound(self, e, bound_ok, "start"));
        let to = to.map(|e| bound(self, e, bound_ok, "end"));
        let step = bound(self, step, step_ok, "step");
        let step_is_not_positive = match &step.kind {
            TypedExprKind::Literal(Literal::Long(n)) => *n <= 0,
            TypedExprKind::Literal(Literal::Real(x)) => *x <= 0.0,
            TypedExprKind::Literal(Literal::TimeSpan(t)) => *t <= 0,
            _ => false,
        };
        if step_is_not_positive {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "the make-series step must be positive",
                    step.span,
                )
                .with_label("not a positive step"),
            );
        }
        // The aggregates' columns hold arrays; the axis column comes last.
        for column in columns.iter_mut().skip(by.len()) {
            column.ty = ScalarType::Dynamic;
        }
        let axis_name = default_name(&series.axis).unwrap_or_else(|| "Column1".to_string());
        let named_like_axis = series
            .aggregates
            .iter()
            .filter_map(|a| a.item.name.as_ref())
            .find(|name| name.name == axis_name);
        if let Some(name) = named_like_axis {
            self.check_unique(
                &[Column::new(axis_name.clone(), axis.ty)],
                &name.name,
                name.span,
            );
        }
        let axis_name = unique_name(&columns, &axis_name);
        columns.push(Column::new(axis_name, ScalarType::Dynamic));
        (
            CheckedOp::MakeSeries(Box::new(super::CheckedMakeSeries {
                by,
                aggregates,
                defaults,
                axis,
                from,
                to,
                step,
                in_range,
                nonempty: series.nonempty,
            })),
            columns,
        )
    }

    /// Checks one aggregate call of `summarize`.
    /// `key_columns`: the input columns that `by` keys are, which `*` in
    /// `arg_max(x, *)` does not carry again.
    fn aggregate(
        &mut self,
        expr: &Expr,
        input: &[Column],
        key_columns: &[usize],
    ) -> Option<CheckedAggregate> {
        let ExprKind::Call { name, args } = &expr.kind else {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "summarize needs aggregate calls such as count() or max(x)",
                    expr.span,
                )
                .with_label("not an aggregate call")
                .with_note("expressions over aggregates (`2 * count()`) are not supported yet; compute them with a later `extend`"),
            );
            return None;
        };
        let Some(function) = aggregates::lookup(&name.name) else {
            let diagnostic = if aggregates::KNOWN_UNSUPPORTED.contains(&name.name.as_str()) {
                Diagnostic::new(
                    Code::Unsupported,
                    format!("aggregate '{}' is not supported yet", name.name),
                    name.span,
                )
                .with_label("not supported yet")
            } else {
                let mut d = Diagnostic::new(
                    Code::UnknownFunction,
                    format!("unknown aggregate function '{}'", name.name),
                    name.span,
                )
                .with_label("not an aggregate kqlc knows");
                if let Some(best) =
                    closest_name(&name.name, aggregates::AGGREGATES.iter().map(|a| a.name))
                {
                    d = d.with_help(format!("did you mean '{best}'?"));
                }
                d
            };
            self.error(diagnostic);
            return None;
        };
        let (min, max) = function.arity();
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let expected = match max {
                Some(max) if max == min => format!("{min}"),
                Some(max) => format!("{min} to {max}"),
                None => format!("at least {min}"),
            };
            self.error(Diagnostic::new(
                Code::WrongArgumentCount,
                format!(
                    "aggregate '{}' takes {expected} argument{}, but {} {} given",
                    function.name,
                    if expected == "1" { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                expr.span,
            ));
            return None;
        }
        let mut aggregate = CheckedAggregate {
            function,
            value: None,
            predicate: None,
            parameter: None,
            carried: Vec::new(),
            carried_names: Vec::new(),
            weight: None,
            percentiles: Vec::new(),
        };
        let typed = |checker: &mut Self, arg: &Expr| checker.expr(arg, input);
        match function.shape {
            Shape::None => {}
            Shape::Predicate => aggregate.predicate = Some(typed(self, &args[0])),
            Shape::Value => aggregate.value = Some(typed(self, &args[0])),
            Shape::ValueLimit => {
                aggregate.value = Some(typed(self, &args[0]));
                aggregate.parameter = args.get(1).map(|a| typed(self, a));
            }
            Shape::ValuePredicate => {
                aggregate.value = Some(typed(self, &args[0]));
                aggregate.predicate = Some(typed(self, &args[1]));
            }
            Shape::ValuePredicateLimit => {
                aggregate.value = Some(typed(self, &args[0]));
                aggregate.predicate = Some(typed(self, &args[1]));
                aggregate.parameter = args.get(2).map(|a| typed(self, a));
            }
            Shape::Percentiles {
                weighted, array, ..
            } => {
                aggregate.value = Some(typed(self, &args[0]));
                let mut rest = &args[1..];
                if weighted {
                    aggregate.weight = Some(typed(self, &rest[0]));
                    rest = &rest[1..];
                }
                let listed = rest.iter().map(|a| typed(self, a)).collect::<Vec<_>>();
                let (parameter, names) = self.percentile_list(function.name, &listed, array)?;
                aggregate.parameter = Some(parameter);
                aggregate.percentiles = names;
            }
            Shape::Extreme => {
                let value = typed(self, &args[0]);
                // `*` carries the columns not otherwise in the output: not
                // the value, not a column carried by name, not a column a
                // `by` key is (as Microsoft's parser names the columns).
                let mut skipped: Vec<usize> = key_columns.to_vec();
                if let TypedExprKind::Column(i) = value.kind {
                    skipped.push(i);
                }
                for arg in &args[1..] {
                    if let ExprKind::Name(ident) = &arg.kind {
                        skipped.extend(input.iter().position(|c| c.name == ident.name));
                    }
                }
                for arg in &args[1..] {
                    match &arg.kind {
                        ExprKind::Star => {
                            for (i, column) in input.iter().enumerate() {
                                if !skipped.contains(&i) {
                                    aggregate.carried.push(TypedExpr {
                                        kind: TypedExprKind::Column(i),
                                        ty: column.ty,
                                        span: arg.span,
                                    });
                                    aggregate.carried_names.push(column.name.clone());
                                }
                            }
                        }
                        ExprKind::NamedArgument { name, value } => {
                            aggregate.carried.push(typed(self, value));
                            aggregate.carried_names.push(name.name.clone());
                        }
                        _ => {
                            let carried = typed(self, arg);
                            let name = match &carried.kind {
                                TypedExprKind::Column(i) => input[*i].name.clone(),
                                _ => "Column".to_string(),
                            };
                            aggregate.carried.push(carried);
                            aggregate.carried_names.push(name);
                        }
                    }
                }
                aggregate.value = Some(value);
            }
        }
        if let Some(predicate) = &aggregate.predicate {
            if !matches!(predicate.ty, ScalarType::Bool | ScalarType::Dynamic) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "the predicate of '{}' must be bool, found {}",
                            function.name, predicate.ty
                        ),
                        predicate.span,
                    )
                    .with_label(format!("this is {}", predicate.ty)),
                );
            }
        }
        self.check_aggregated_types(&aggregate);
        if let Some(parameter) = &aggregate.parameter {
            if matches!(function.shape, Shape::Percentiles { .. }) {
                // Checked by `percentile_list`.
            } else if !matches!(parameter.kind, TypedExprKind::Literal(_))
                || !parameter.ty.is_numeric()
            {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "this argument of '{}' must be a constant number",
                            function.name
                        ),
                        parameter.span,
                    )
                    .with_label("not a number literal"),
                );
            }
        }
        Some(aggregate)
    }

    /// The constant percentiles of `percentiles(x, 5, 50)` (or of
    /// `percentiles_array(x, dynamic([5, 50]))`): a dynamic array for the
    /// runtime, and each as a column name ends (`99.9` is `99_9`, as
    /// Microsoft's parser names it). `None` after an error.
    fn percentile_list(
        &mut self,
        function: &str,
        listed: &[TypedExpr],
        array: bool,
    ) -> Option<(TypedExpr, Vec<String>)> {
        let mut literals: Vec<(Literal, Span)> = Vec::new();
        for arg in listed {
            match &arg.kind {
                TypedExprKind::Literal(Literal::Dynamic(DynamicLiteral::Array(items)))
                    if array && listed.len() == 1 =>
                {
                    for item in items {
                        match item {
                            DynamicLiteral::Scalar(literal) => {
                                literals.push(((**literal).clone(), arg.span));
                            }
                            _ => literals.push((Literal::Null(ScalarType::Dynamic), arg.span)),
                        }
                    }
                }
                TypedExprKind::Literal(literal) => literals.push((literal.clone(), arg.span)),
                _ => literals.push((Literal::Null(ScalarType::Dynamic), arg.span)),
            }
        }
        let mut ok = true;
        let mut values = Vec::new();
        let mut names = Vec::new();
        for (literal, span) in literals {
            let (value, name) = match literal {
                Literal::Long(n) => (n as f64, n.to_string()),
                Literal::Int(n) => (f64::from(n), n.to_string()),
                Literal::Real(x) => (x, x.to_string().replace('.', "_")),
                _ => {
                    let mut d = Diagnostic::new(
                        Code::TypeMismatch,
                        format!("the percentiles of '{function}' must be constant numbers"),
                        span,
                    )
                    .with_label("not a number literal");
                    if array {
                        d = d.with_help("list numbers, or give one `dynamic([...])` of numbers");
                    }
                    self.error(d);
                    ok = false;
                    continue;
                }
            };
            if !(0.0..=100.0).contains(&value) {
                self.error(
                    Diagnostic::new(
                        Code::InvalidLiteral,
                        format!("a percentile of '{function}' must be between 0 and 100"),
                        span,
                    )
                    .with_label("out of range"),
                );
                ok = false;
                continue;
            }
            values.push(DynamicLiteral::Scalar(Box::new(Literal::Real(value))));
            names.push(name);
        }
        if !ok {
            return None;
        }
        let span = listed.first().map_or_else(Span::default, |a| a.span);
        let parameter = TypedExpr {
            kind: TypedExprKind::Literal(Literal::Dynamic(DynamicLiteral::Array(values))),
            ty: ScalarType::Dynamic,
            span,
        };
        Some((parameter, names))
    }

    /// The aggregated values a numeric aggregate can take: numbers (and
    /// dynamic values, of which the numbers count) for `stdev`/`variance`;
    /// also datetimes and timespans, which have an order, for percentiles;
    /// an integer weight.
    fn check_aggregated_types(&mut self, aggregate: &CheckedAggregate) {
        use ScalarType as T;
        let function = aggregate.function;
        let spread = matches!(
            function.runtime,
            "stdev" | "stdevp" | "variance" | "variancep"
        );
        let percentiles = matches!(function.shape, Shape::Percentiles { .. });
        if let Some(value) = aggregate.value.as_ref().filter(|_| spread || percentiles) {
            let unsupported = Diagnostic::new(
                Code::Unsupported,
                format!(
                    "'{}' of {} values is not supported yet",
                    function.name, value.ty
                ),
                value.span,
            )
            .with_label("not supported yet");
            match value.ty {
                T::Int | T::Long | T::Real | T::Dynamic => {}
                T::DateTime | T::TimeSpan if percentiles => {}
                T::DateTime | T::TimeSpan => self.error(unsupported),
                _ if spread => self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("'{}' takes a number, found {}", function.name, value.ty),
                        value.span,
                    )
                    .with_label(format!("this is {}", value.ty)),
                ),
                _ => self
                    .error(unsupported.with_note(
                        "kqlc computes percentiles of numbers, datetimes and timespans",
                    )),
            }
        }
        if let Some(weight) = &aggregate.weight {
            if !matches!(weight.ty, T::Int | T::Long) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "the weight of '{}' must be an integer, found {}",
                            function.name, weight.ty
                        ),
                        weight.span,
                    )
                    .with_label(format!("this is {}", weight.ty))
                    .with_help("convert it with tolong(...)"),
                );
            }
        }
    }

    fn expr(&mut self, expr: &Expr, columns: &[Column]) -> TypedExpr {
        let span = expr.span;
        let typed = |kind, ty| TypedExpr { kind, ty, span };
        match &expr.kind {
            ExprKind::Unimplemented(opaque) => {
                self.unimplemented(opaque);
                poisoned(span)
            }
            ExprKind::Tabular(_) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "a tabular expression where a scalar is expected",
                        span,
                    )
                    .with_help("use `toscalar(...)`, or the table as the operand of `in`"),
                );
                poisoned(span)
            }
            ExprKind::Star => {
                self.error(
                    Diagnostic::new(
                        Code::UnexpectedToken,
                        "`*` is allowed only as an argument of arg_max and arg_min",
                        span,
                    )
                    .with_label("not allowed here"),
                );
                poisoned(span)
            }
            ExprKind::InvalidLiteral { diagnostic, .. } => {
                self.error((**diagnostic).clone());
                poisoned(span)
            }
            ExprKind::TypeOf(_) => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "typeof(...) is supported only as the last argument of extract and extract_json, and in `mv-expand ... to typeof(...)`",
                        span,
                    )
                    .with_label("not supported here"),
                );
                poisoned(span)
            }
            ExprKind::NamedArgument { name, value } => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "named arguments (`{} = ...`) are not supported yet here",
                            name.name
                        ),
                        name.span,
                    )
                    .with_label("not supported yet")
                    .with_note("kqlc takes named arguments in calls of user-defined functions and in arg_max/arg_min (to name a carried column)")
                    .with_help("pass the argument by position"),
                );
                self.expr(value, columns);
                poisoned(span)
            }
            ExprKind::Literal(literal) => typed(
                TypedExprKind::Literal(literal.clone()),
                literal_type(literal),
            ),
            ExprKind::Name(ident) => {
                if let Some(i) = columns.iter().position(|c| c.name == ident.name) {
                    return typed(TypedExprKind::Column(i), columns[i].ty);
                }
                if let Some(value) = self.scalars.get(&ident.name) {
                    return TypedExpr {
                        span,
                        ..value.clone()
                    };
                }
                if self.is_tabular_name(&ident.name) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("'{}' is a table, not a scalar value", ident.name),
                            ident.span,
                        )
                        .with_label("a table here"),
                    );
                } else {
                    self.unknown_column(columns, ident);
                }
                poisoned(span)
            }
            ExprKind::Member { target, name } => {
                let target = self.expr(target, columns);
                self.require_dynamic(&target, &format!("member access '.{}'", name.name));
                typed(
                    TypedExprKind::Member(Box::new(target), name.name.clone()),
                    ScalarType::Dynamic,
                )
            }
            ExprKind::Index { target, index } => {
                let target = self.expr(target, columns);
                let index = self.expr(index, columns);
                self.require_dynamic(&target, "an indexer `[...]`");
                if !matches!(
                    index.ty,
                    ScalarType::String | ScalarType::Int | ScalarType::Long | ScalarType::Dynamic
                ) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "an index must be a string or an integer, found {}",
                                index.ty
                            ),
                            index.span,
                        )
                        .with_label(format!("this is {}", index.ty)),
                    );
                }
                typed(
                    TypedExprKind::Index(Box::new(target), Box::new(index)),
                    ScalarType::Dynamic,
                )
            }
            ExprKind::Call { name, args } => self.call(name, args, columns, span),
            ExprKind::Unary { op, operand } => {
                let operand = self.expr(operand, columns);
                let ty = operand.ty;
                if !(ty.is_numeric() || matches!(ty, ScalarType::TimeSpan | ScalarType::Dynamic)) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("cannot negate a value of type {ty}"),
                            span,
                        )
                        .with_label(format!("this is {ty}")),
                    );
                }
                if *op == UnaryOp::Plus {
                    return TypedExpr { span, ..operand };
                }
                // `-1` is a negative literal (so `datatable` accepts it).
                let negated = match &operand.kind {
                    TypedExprKind::Literal(Literal::Long(n)) => n.checked_neg().map(Literal::Long),
                    TypedExprKind::Literal(Literal::Int(n)) => n.checked_neg().map(Literal::Int),
                    TypedExprKind::Literal(Literal::Real(x)) => Some(Literal::Real(-x)),
                    TypedExprKind::Literal(Literal::TimeSpan(t)) => {
                        t.checked_neg().map(Literal::TimeSpan)
                    }
                    _ => None,
                };
                if let Some(literal) = negated {
                    return typed(TypedExprKind::Literal(literal), ty);
                }
                typed(TypedExprKind::Unary(*op, Box::new(operand)), ty)
            }
            ExprKind::Binary { op, lhs, rhs } if matches!(lhs.kind, ExprKind::Star) => {
                self.column_wildcard_test(*op, lhs.span, rhs, columns, span)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let lhs = self.expr(lhs, columns);
                let rhs = self.expr(rhs, columns);
                let ty = self.binary_type(*op, &lhs, &rhs, span);
                typed(TypedExprKind::Binary(*op, Box::new(lhs), Box::new(rhs)), ty)
            }
            ExprKind::Chain { first, rest } => {
                let first = self.expr(first, columns);
                // The value so far, as `binary_type` sees an operand: its
                // type and where it was written.
                let mut so_far = TypedExpr {
                    kind: TypedExprKind::Literal(Literal::Null(first.ty)),
                    ty: first.ty,
                    span: first.span,
                };
                let mut steps = Vec::with_capacity(rest.len());
                for (op, operand) in rest {
                    let operand = self.expr(operand, columns);
                    let step_span = so_far.span.to(operand.span);
                    so_far.ty = self.binary_type(*op, &so_far, &operand, step_span);
                    so_far.span = step_span;
                    steps.push((*op, operand, so_far.ty));
                }
                typed(TypedExprKind::Chain(Box::new(first), steps), so_far.ty)
            }
            ExprKind::List { op, expr, items } => {
                let expr = self.expr(expr, columns);
                let items: Vec<TypedExpr> = match self.table_operand(items, columns) {
                    // `x in (T)`: the values of T's first column.
                    Some(table) => vec![self.subquery(table, true, span)],
                    None => items.iter().map(|i| self.expr(i, columns)).collect(),
                };
                if matches!(op, ListOp::InCi | ListOp::NotInCi) {
                    for item in std::iter::once(&expr).chain(&items) {
                        self.require_stringish(item, op.spelling());
                    }
                }
                typed(
                    TypedExprKind::List(*op, Box::new(expr), items),
                    ScalarType::Bool,
                )
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                let expr = self.expr(expr, columns);
                let low_typed = self.expr(low, columns);
                let mut high_typed = self.expr(high, columns);
                // `(datetime(...) .. 1h)`: a datetime range given by its
                // start and width (between-operator.md).
                if matches!(expr.ty, ScalarType::DateTime | ScalarType::Dynamic)
                    && low_typed.ty == ScalarType::DateTime
                    && high_typed.ty == ScalarType::TimeSpan
                {
                    let end = Expr {
                        kind: ExprKind::Binary {
                            op: BinaryOp::Add,
                            lhs: low.clone(),
                            rhs: high.clone(),
                        },
                        span: high.span,
                    };
                    high_typed = self.expr(&end, columns);
                }
                let (low, high) = (low_typed, high_typed);
                for bound in [&low, &high] {
                    self.require_comparable(&expr, bound, "between", span);
                }
                typed(
                    TypedExprKind::Between {
                        negated: *negated,
                        expr: Box::new(expr),
                        low: Box::new(low),
                        high: Box::new(high),
                    },
                    ScalarType::Bool,
                )
            }
        }
    }

    /// `* OP VALUE`: true when some column, as text, passes the test
    /// (`tostring(A) OP VALUE or tostring(B) OP VALUE ...`). Only the
    /// positive tests are taken: for a negated one (`* !has "x"`) the
    /// reference does not say whether some or every column must pass.
    fn column_wildcard_test(
        &mut self,
        op: BinaryOp,
        star: Span,
        value: &Expr,
        columns: &[Column],
        span: Span,
    ) -> TypedExpr {
        let positive = match op {
            BinaryOp::Eq | BinaryOp::EqCi => true,
            BinaryOp::Str(string_op) => !string_op.negated,
            _ => false,
        };
        if !positive {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "a negated test of every column (`*`) is not supported yet",
                    star.to(value.span),
                )
                .with_label("not supported yet")
                .with_help("write `not(* has ...)` for \"no column has\""),
            );
            return poisoned(span);
        }
        let tests = columns.iter().map(|column| {
            let name = Ident {
                name: column.name.clone(),
                span: star,
            };
            let text = Expr {
                kind: ExprKind::Call {
                    name: Ident {
                        name: "tostring".to_string(),
                        span: star,
                    },
                    args: vec![Expr {
                        kind: ExprKind::Name(name),
                        span: star,
                    }],
                },
                span: star,
            };
            Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(text),
                    rhs: Box::new(value.clone()),
                },
                span,
            }
        });
        let any = tests
            .reduce(|a, b| Expr {
                kind: ExprKind::Binary {
                    op: BinaryOp::Or,
                    lhs: Box::new(a),
                    rhs: Box::new(b),
                },
                span,
            })
            .unwrap_or(Expr {
                kind: ExprKind::Literal(Literal::Bool(false)),
                span,
            });
        self.expr(&any, columns)
    }

    fn require_dynamic(&mut self, target: &TypedExpr, what: &str) {
        if target.ty != ScalarType::Dynamic {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("{what} needs a dynamic value, found {}", target.ty),
                    target.span,
                )
                .with_label(format!("this is {}", target.ty)),
            );
        }
    }

    fn require_stringish(&mut self, operand: &TypedExpr, op: &str) {
        if !matches!(operand.ty, ScalarType::String | ScalarType::Dynamic) {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("`{op}` compares strings, found {}", operand.ty),
                    operand.span,
                )
                .with_label(format!("this is {}", operand.ty))
                .with_help("convert it with tostring(...)"),
            );
        }
    }

    fn require_comparable(&mut self, lhs: &TypedExpr, rhs: &TypedExpr, op: &str, span: Span) {
        if !comparable(lhs.ty, rhs.ty) {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("`{op}` cannot compare {} with {}", lhs.ty, rhs.ty),
                    span,
                )
                .with_secondary(lhs.span, lhs.ty.name())
                .with_secondary(rhs.span, rhs.ty.name())
                .with_help(
                    "convert one side, e.g. with tostring(...), tolong(...) or todatetime(...)",
                ),
            );
        }
    }

    fn binary_type(
        &mut self,
        op: BinaryOp,
        lhs: &TypedExpr,
        rhs: &TypedExpr,
        span: Span,
    ) -> ScalarType {
        use ScalarType as T;
        match op {
            BinaryOp::Or | BinaryOp::And => {
                for operand in [lhs, rhs] {
                    if !matches!(operand.ty, T::Bool | T::Dynamic) {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "`{}` needs bool operands, found {}",
                                    if op == BinaryOp::Or { "or" } else { "and" },
                                    operand.ty
                                ),
                                operand.span,
                            )
                            .with_label(format!("this is {}", operand.ty)),
                        );
                    }
                }
                T::Bool
            }
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let spelling = match op {
                    BinaryOp::Eq => "==",
                    BinaryOp::NotEq => "!=",
                    BinaryOp::Lt => "<",
                    BinaryOp::Le => "<=",
                    BinaryOp::Gt => ">",
                    _ => ">=",
                };
                self.require_comparable(lhs, rhs, spelling, span);
                T::Bool
            }
            BinaryOp::EqCi | BinaryOp::NotEqCi => {
                let spelling = if op == BinaryOp::EqCi { "=~" } else { "!~" };
                self.require_stringish(lhs, spelling);
                self.require_stringish(rhs, spelling);
                T::Bool
            }
            BinaryOp::Str(string_op) => {
                if string_op.kind == StringOpKind::MatchesRegex {
                    self.check_constant_regex(rhs);
                }
                T::Bool
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => {
                match arithmetic_type(op, lhs.ty, rhs.ty) {
                    Some(ty) => ty,
                    None => {
                        let spelling = match op {
                            BinaryOp::Add => "+",
                            BinaryOp::Sub => "-",
                            BinaryOp::Mul => "*",
                            BinaryOp::Div => "/",
                            _ => "%",
                        };
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!("cannot apply `{spelling}` to {} and {}", lhs.ty, rhs.ty),
                                span,
                            )
                            .with_secondary(lhs.span, lhs.ty.name())
                            .with_secondary(rhs.span, rhs.ty.name()),
                        );
                        T::Dynamic
                    }
                }
            }
        }
    }

    fn check_constant_regex(&mut self, pattern: &TypedExpr) {
        if let TypedExprKind::Literal(Literal::String(text)) = &pattern.kind {
            self.check_regex_text(text, pattern.span);
        }
    }

    /// A regular expression written at `span` must compile (the one check
    /// behind every constant pattern: functions, `matches regex`, `parse
    /// kind=regex`). `false` when it does not (reported).
    fn check_regex_text(&mut self, text: &str, span: Span) -> bool {
        let Err(error) = regex::Regex::new(text) else {
            return true;
        };
        let detail = error.to_string();
        let last = detail
            .lines()
            .last()
            .unwrap_or("invalid regular expression")
            .trim()
            .to_string();
        self.error(
            Diagnostic::new(Code::InvalidLiteral, "invalid regular expression", span)
                .with_label(last)
                .with_note("kqlc uses RE2 syntax, as Kusto does"),
        );
        false
    }

    /// A function whose pattern is a regular expression for one kind
    /// (`countof(text, search, "regex")`): with that kind constant, a
    /// constant pattern must compile, as for `extract`. (Another kind gives
    /// null at run time, as the runtime documents.)
    fn check_regex_by_kind(&mut self, by_kind: RegexByKind, args: &[TypedExpr]) {
        let Some(kind) = args.get(by_kind.kind) else {
            return;
        };
        let TypedExprKind::Literal(Literal::String(text)) = &kind.kind else {
            return;
        };
        if text == by_kind.regex_kind {
            if let Some(pattern) = args.get(by_kind.pattern) {
                self.check_constant_regex(pattern);
            }
        }
    }

    /// `column_ifexists("Name", default)`: the column when the rows have
    /// one of that name, else the default (decided at compile time: the
    /// columns are known).
    fn column_ifexists(&mut self, args: &[Expr], columns: &[Column], span: Span) -> TypedExpr {
        let [name, default] = args else {
            self.error(Diagnostic::new(
                Code::WrongArgumentCount,
                format!(
                    "column_ifexists takes 2 arguments (a column name and a default), but {} {} given",
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
            ));
            return poisoned(span);
        };
        let ExprKind::Literal(Literal::String(column)) = &name.kind else {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "column_ifexists needs the column's name as a string literal",
                    name.span,
                )
                .with_label("not a string literal"),
            );
            return poisoned(span);
        };
        match columns.iter().position(|c| &c.name == column) {
            Some(i) => TypedExpr {
                kind: TypedExprKind::Column(i),
                ty: columns[i].ty,
                span,
            },
            None => {
                let typed = self.expr(default, columns);
                TypedExpr { span, ..typed }
            }
        }
    }

    /// The table an `in` operand or a `toscalar` argument stands for: a
    /// tabular expression, or the name of a table that is not a column or
    /// a scalar.
    fn table_operand(&mut self, items: &[Expr], columns: &[Column]) -> Option<CheckedQuery> {
        match items {
            [Expr {
                kind: ExprKind::Tabular(tabular),
                ..
            }] => Some(self.tabular(tabular)),
            [Expr {
                kind: ExprKind::Name(ident),
                span,
            }] if !columns.iter().any(|c| c.name == ident.name)
                && !self.scalars.contains_key(&ident.name)
                && self.is_tabular_name(&ident.name) =>
            {
                let tabular = TabularExpr {
                    source: Source::Named(ident.clone()),
                    operators: Vec::new(),
                    span: *span,
                };
                Some(self.tabular(&tabular))
            }
            _ => None,
        }
    }

    /// A table computed before the input is read (see
    /// [`TypedExprKind::Subquery`]); it must not read the input.
    fn subquery(&mut self, query: CheckedQuery, column: bool, span: Span) -> TypedExpr {
        if reads_input_table(&query, false) {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "a sub-query of `in` or `toscalar` that reads an input table is not supported yet",
                    span,
                )
                .with_help("bind the values with `let` over `datatable`, `externaldata` or `range`, or use `join`"),
            );
            return poisoned(span);
        }
        if query.output.is_empty() {
            return poisoned(span);
        }
        let ty = if column {
            ScalarType::Dynamic
        } else {
            query.output[0].ty
        };
        TypedExpr {
            kind: TypedExprKind::Subquery {
                query: Box::new(query),
                column,
            },
            ty,
            span,
        }
    }

    fn call(&mut self, name: &Ident, args: &[Expr], columns: &[Column], span: Span) -> TypedExpr {
        // `extract(re, n, s, typeof(T))`, `extract_json(path, s, typeof(T))`:
        // the text result converted to T (null when it does not convert).
        if let Some((
            Expr {
                kind: ExprKind::TypeOf(ty),
                ..
            },
            rest,
        )) = args.split_last()
        {
            let arity = match name.name.as_str() {
                "extract" => Some(3),
                "extract_json" | "extractjson" => Some(2),
                _ => None,
            };
            if arity == Some(rest.len()) {
                let text = Expr {
                    kind: ExprKind::Call {
                        name: name.clone(),
                        args: rest.to_vec(),
                    },
                    span,
                };
                let conversion = match ty {
                    ScalarType::String => return self.expr(&text, columns),
                    ScalarType::Real => "toreal".to_string(),
                    ScalarType::Dynamic => "todynamic".to_string(),
                    other => format!("to{}", other.name()),
                };
                let converted = Expr {
                    kind: ExprKind::Call {
                        name: Ident {
                            name: conversion,
                            span: name.span,
                        },
                        args: vec![text],
                    },
                    span,
                };
                return self.expr(&converted, columns);
            }
        }
        if WINDOW_FUNCTIONS.contains(&name.name.as_str()) {
            if let Some(&(position, ty)) = self.window_columns.get(&(span.start, span.end)) {
                return TypedExpr {
                    kind: TypedExprKind::Column(position),
                    ty,
                    span,
                };
            }
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    format!(
                        "row function '{}' is supported only in extend, project, where and serialize",
                        name.name
                    ),
                    span,
                )
                .with_help("compute it with `extend` first"),
            );
            return poisoned(span);
        }
        if matches!(name.name.as_str(), "column_ifexists" | "columnifexists") {
            return self.column_ifexists(args, columns, span);
        }
        // The row's columns are known here: `pack_all()` and
        // `bag_pack_columns(a, b)` are `bag_pack("a", a, "b", b, ...)`.
        if matches!(name.name.as_str(), "pack_all" | "bag_pack_columns") {
            let picked: Vec<Ident> = if name.name == "pack_all" {
                if let Some(flag) = args.first() {
                    if !matches!(flag.kind, ExprKind::Literal(Literal::Bool(false))) {
                        self.error(
                            Diagnostic::new(
                                Code::Unsupported,
                                "pack_all(ignore_null_empty) is supported only as pack_all() or pack_all(false)",
                                flag.span,
                            ),
                        );
                        return poisoned(span);
                    }
                }
                columns
                    .iter()
                    .map(|c| Ident {
                        name: c.name.clone(),
                        span,
                    })
                    .collect()
            } else {
                let mut picked = Vec::new();
                for arg in args {
                    match &arg.kind {
                        ExprKind::Name(ident) => picked.push(ident.clone()),
                        _ => {
                            self.error(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    "bag_pack_columns takes column names",
                                    arg.span,
                                )
                                .with_label("not a column name"),
                            );
                            return poisoned(span);
                        }
                    }
                }
                picked
            };
            let pairs: Vec<Expr> = picked
                .into_iter()
                .flat_map(|ident| {
                    [
                        Expr {
                            kind: ExprKind::Literal(Literal::String(ident.name.clone())),
                            span: ident.span,
                        },
                        Expr {
                            span: ident.span,
                            kind: ExprKind::Name(ident),
                        },
                    ]
                })
                .collect();
            let bag_pack = Ident {
                name: "bag_pack".to_string(),
                span: name.span,
            };
            return self.call(&bag_pack, &pairs, columns, span);
        }
        if name.name == "toscalar" {
            if let Some(table) = self.table_operand(args, columns) {
                return self.subquery(table, false, span);
            }
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "toscalar takes one tabular expression",
                    span,
                )
                .with_help("write `toscalar(T | summarize ...)` or `toscalar(T)` with T a table"),
            );
            return poisoned(span);
        }
        // `parse_json` of a dynamic value returns it as it is: a string it
        // holds is not parsed a second time (parse-json-function.md).
        if matches!(name.name.as_str(), "parse_json" | "todynamic")
            && args.len() == 1
            && !self.user_functions.contains_key(&name.name)
        {
            let reported = self.diagnostics.len();
            let value = self.expr(&args[0], columns);
            if value.ty == ScalarType::Dynamic {
                return TypedExpr { span, ..value };
            }
            // Checked again below, as the function's argument.
            self.diagnostics.truncate(reported);
        }
        if let Some(function) = self.user_functions.get(&name.name).cloned() {
            let written: Vec<ast::Argument> =
                args.iter().cloned().map(ast::Argument::Scalar).collect();
            let Some(ordered) = self.positional_arguments(name, &function, written, 0) else {
                return poisoned(span);
            };
            let typed_args: Vec<TypedExpr> = ordered
                .iter()
                .map(|a| match a {
                    ast::Argument::Scalar(expr) => self.expr(expr, columns),
                    ast::Argument::Tabular(_) => poisoned(span),
                })
                .collect();
            return self.inline_call(name, &function, typed_args, span);
        }
        let typed_args: Vec<TypedExpr> = args.iter().map(|a| self.expr(a, columns)).collect();
        let Some(function) = functions::lookup(&name.name) else {
            if let Some(multi) = MULTI_COLUMN_FUNCTIONS.iter().find(|m| m.name == name.name) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("'{}' gives several columns, not a value", name.name),
                        name.span,
                    )
                    .with_label("several columns")
                    .with_help(format!(
                        "use it alone in `extend` or `project` (`extend ({}) = {}(...)`), or use '{}' for one dynamic value",
                        multi.members.iter().map(|(m, _)| *m).collect::<Vec<_>>().join(", "),
                        multi.name,
                        multi.dynamic
                    )),
                );
                return poisoned(span);
            }
            if functions::KNOWN_UNSUPPORTED.contains(&name.name.as_str()) {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("function '{}' is not supported yet", name.name),
                        name.span,
                    )
                    .with_label("a KQL function kqlc does not implement yet"),
                );
            } else {
                let mut diagnostic = Diagnostic::new(
                    Code::UnknownFunction,
                    format!("unknown function '{}'", name.name),
                    name.span,
                )
                .with_label("not a KQL function kqlc knows");
                if let Some(best) =
                    closest_name(&name.name, functions::FUNCTIONS.iter().map(|f| f.name))
                {
                    diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
                }
                self.error(diagnostic);
            }
            return poisoned(span);
        };
        let count = typed_args.len();
        let too_many = function.max_args().is_some_and(|max| count > max);
        if count < function.required || too_many {
            let expected = match function.max_args() {
                Some(max) if max == function.required => format!("{max}"),
                Some(max) => format!("{} to {max}", function.required),
                None => format!("at least {}", function.required),
            };
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "function '{}' takes {expected} argument{}, but {count} {} given",
                        function.name,
                        if expected == "1" { "" } else { "s" },
                        if count == 1 { "was" } else { "were" },
                    ),
                    span,
                )
                .with_label(format!(
                    "{count} argument{}",
                    if count == 1 { "" } else { "s" }
                ))
                .with_note(format!("{}: {}", function.name, function.summary)),
            );
            return poisoned(span);
        }
        for (i, arg) in typed_args.iter().enumerate() {
            let accepts = function.accepts(i);
            if !accepts.admits(arg.ty) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "argument {} of '{}' must be {}, found {}",
                            i + 1,
                            function.name,
                            accepts.describe(),
                            arg.ty
                        ),
                        arg.span,
                    )
                    .with_label(format!("this is {}", arg.ty))
                    .with_help(match accepts {
                        Accepts::String => "convert it with tostring(...)",
                        Accepts::DateTime => "convert it with todatetime(...)",
                        Accepts::TimeSpan => {
                            "write a timespan such as 1d or 2h, or convert with totimespan(...)"
                        }
                        _ => "convert it to the expected type",
                    }),
                );
            }
        }
        for &i in function.regex_params {
            if let Some(arg) = typed_args.get(i) {
                self.check_constant_regex(arg);
            }
        }
        if let Some(by_kind) = function.regex_by_kind {
            self.check_regex_by_kind(by_kind, &typed_args);
        }
        let ty = match function.returns {
            Returns::Fixed(ty) => ty,
            Returns::ArgType(i) => typed_args.get(i).map_or(ScalarType::Dynamic, |a| a.ty),
        };
        TypedExpr {
            kind: TypedExprKind::Call(function, typed_args),
            ty,
            span,
        }
    }
}

/// The names of the tables `query` reads, sub-queries included.
fn collect_tables(query: &CheckedQuery, out: &mut Vec<String>) {
    if let CheckedSource::Table(table) = &query.source {
        out.push(table.name.clone());
    }
    for stage in &query.stages {
        match &stage.op {
            CheckedOp::Join { right, .. } => collect_tables(right, out),
            CheckedOp::Union { legs, .. } => {
                for (leg, _) in legs {
                    collect_tables(leg, out);
                }
            }
            _ => {}
        }
    }
}

/// `base`, or `base1`, `base2`, ... when a column already has that name (as
/// Kusto names repeated `summarize` results).
fn unique_name(columns: &[Column], base: &str) -> String {
    if !columns.iter().any(|c| c.name == base) {
        return base.to_string();
    }
    (1..)
        .map(|n| format!("{base}{n}"))
        .find(|name| !columns.iter().any(|c| &c.name == name))
        .unwrap_or_default()
}

/// An argument of a user-defined function, checked in the caller's scope.
enum BoundArg {
    Scalar(TypedExpr),
    Tabular(Box<CheckedQuery>),
}

/// The names a function body sees, saved while it is checked.
struct Scope {
    scalars: HashMap<String, TypedExpr>,
    tabulars: HashMap<String, CheckedQuery>,
    user_functions: HashMap<String, ast::Function>,
}

impl Checker<'_> {
    /// A scalar call of a user-defined function: its body checked with the
    /// parameters bound to the arguments (the body is inlined).
    /// The arguments of a call of a user-defined function in parameter
    /// order: named ones (`f(x, limit = 5)`) go to their parameter; a
    /// skipped parameter takes its default. `skip`: parameters already
    /// bound (the input of `invoke`). `None` after reporting an error.
    fn positional_arguments(
        &mut self,
        name: &Ident,
        function: &ast::Function,
        args: Vec<ast::Argument>,
        skip: usize,
    ) -> Option<Vec<ast::Argument>> {
        let named = |arg: &ast::Argument| {
            matches!(
                arg,
                ast::Argument::Scalar(Expr {
                    kind: ExprKind::NamedArgument { .. },
                    ..
                })
            )
        };
        if !args.iter().any(named) {
            return Some(args);
        }
        let params = function.params.get(skip..).unwrap_or_default();
        let mut slots: Vec<Option<ast::Argument>> = vec![None; params.len()];
        let mut position = 0;
        for arg in args {
            let (slot, arg) = match arg {
                ast::Argument::Scalar(Expr {
                    kind: ExprKind::NamedArgument { name: param, value },
                    ..
                }) => {
                    let Some(slot) = params.iter().position(|p| p.name.name == param.name) else {
                        self.error(
                            Diagnostic::new(
                                Code::WrongArgumentCount,
                                format!(
                                    "function '{}' has no parameter '{}'",
                                    name.name, param.name
                                ),
                                param.span,
                            )
                            .with_label("no such parameter"),
                        );
                        return None;
                    };
                    (slot, ast::Argument::Scalar(*value))
                }
                positional => {
                    position += 1;
                    (position - 1, positional)
                }
            };
            if slot >= slots.len() || slots[slot].is_some() {
                self.error(Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "too many arguments, or one given twice, in the call of '{}'",
                        name.name
                    ),
                    name.span,
                ));
                return None;
            }
            slots[slot] = Some(arg);
        }
        let given = slots.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
        let mut ordered = Vec::new();
        for (slot, param) in slots.into_iter().take(given).zip(params) {
            match (slot, &param.kind) {
                (Some(arg), _) => ordered.push(arg),
                (
                    None,
                    ast::ParamKind::Scalar {
                        default: Some(default),
                        ..
                    },
                ) => ordered.push(ast::Argument::Scalar(default.clone())),
                (None, _) => {
                    self.error(
                        Diagnostic::new(
                            Code::WrongArgumentCount,
                            format!(
                                "the call of '{}' gives no value for parameter '{}'",
                                name.name, param.name.name
                            ),
                            name.span,
                        )
                        .with_label("missing argument"),
                    );
                    return None;
                }
            }
        }
        Some(ordered)
    }

    fn inline_call(
        &mut self,
        name: &Ident,
        function: &ast::Function,
        args: Vec<TypedExpr>,
        span: Span,
    ) -> TypedExpr {
        if let ast::FunctionBody::Tabular(_) = function.body {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("function '{}' returns a table, not a scalar", name.name),
                    span,
                )
                .with_help(format!(
                    "use it as a tabular source: `{}(...) | ...`",
                    name.name
                )),
            );
            return poisoned(span);
        }
        let args = args.into_iter().map(BoundArg::Scalar).collect();
        let Some(scope) = self.enter_function(name, function, args, span) else {
            return poisoned(span);
        };
        let body = match &function.body {
            ast::FunctionBody::Scalar(expr) => self.expr(expr, &[]),
            ast::FunctionBody::Tabular(_) => poisoned(span),
        };
        self.leave_function(scope);
        TypedExpr { span, ..body }
    }

    /// A call of a user-defined function in tabular position: `f(...)`, or
    /// `invoke f(...)` with the rows so far (`input`) as first argument.
    fn tabular_call(&mut self, call: &ast::Call, input: Option<CheckedQuery>) -> CheckedQuery {
        let Some(function) = self.user_functions.get(&call.name.name).cloned() else {
            let mut diagnostic = Diagnostic::new(
                Code::UnknownFunction,
                format!("unknown tabular function '{}'", call.name.name),
                call.name.span,
            )
            .with_label("not a user-defined function (`let f = (...) { ... }`)");
            let names = self.user_functions.keys().map(String::as_str);
            if let Some(best) = closest_name(&call.name.name, names) {
                diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
            }
            self.error(diagnostic);
            return empty_query();
        };
        // Arguments are checked in the caller's scope, before any parameter
        // is bound.
        let mut args: Vec<BoundArg> = input
            .into_iter()
            .map(|q| BoundArg::Tabular(Box::new(q)))
            .collect();
        let Some(written) =
            self.positional_arguments(&call.name, &function, call.args.clone(), args.len())
        else {
            return empty_query();
        };
        for arg in &written {
            let wants_table = matches!(
                function.params.get(args.len()).map(|p| &p.kind),
                Some(ast::ParamKind::Tabular(_))
            );
            args.push(match arg {
                ast::Argument::Tabular(tabular) => {
                    BoundArg::Tabular(Box::new(self.tabular(tabular)))
                }
                ast::Argument::Scalar(Expr {
                    kind: ExprKind::Name(ident),
                    span,
                }) if wants_table && self.is_tabular_name(&ident.name) => {
                    let tabular = TabularExpr {
                        source: Source::Named(ident.clone()),
                        operators: Vec::new(),
                        span: *span,
                    };
                    BoundArg::Tabular(Box::new(self.tabular(&tabular)))
                }
                ast::Argument::Scalar(expr) => BoundArg::Scalar(self.expr(expr, &[])),
            });
        }
        let Some(scope) = self.enter_function(&call.name, &function, args, call.span) else {
            return empty_query();
        };
        let result = match &function.body {
            ast::FunctionBody::Tabular(tabular) => self.tabular(tabular),
            ast::FunctionBody::Scalar(Expr {
                kind: ExprKind::Name(ident),
                span,
            }) if self.is_tabular_name(&ident.name) => {
                let tabular = TabularExpr {
                    source: Source::Named(ident.clone()),
                    operators: Vec::new(),
                    span: *span,
                };
                self.tabular(&tabular)
            }
            ast::FunctionBody::Scalar(expr) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "function '{}' returns a scalar, not a table",
                            call.name.name
                        ),
                        call.span,
                    )
                    .with_label("used as a tabular source here")
                    .with_note(format!("its body is `{expr}`")),
                );
                empty_query()
            }
        };
        self.leave_function(scope);
        result
    }

    /// Binds a function's parameters to `args` (defaults fill missing
    /// scalar ones) and its body's `let`s; returns the caller's scope to
    /// restore, or `None` after reporting why the call is wrong.
    fn enter_function(
        &mut self,
        name: &Ident,
        function: &ast::Function,
        args: Vec<BoundArg>,
        span: Span,
    ) -> Option<Scope> {
        let required = function
            .params
            .iter()
            .take_while(|p| {
                !matches!(
                    p.kind,
                    ast::ParamKind::Scalar {
                        default: Some(_),
                        ..
                    }
                )
            })
            .count();
        if args.len() < required || args.len() > function.params.len() {
            let count = function.params.len();
            let takes = if required == count {
                format!("{count} argument{}", if count == 1 { "" } else { "s" })
            } else {
                format!("{required} to {count} arguments")
            };
            self.error(Diagnostic::new(
                Code::WrongArgumentCount,
                format!(
                    "function '{}' takes {takes}, but {} {} given",
                    name.name,
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
            ));
            return None;
        }
        if self.inline_depth >= 32 {
            self.error(Diagnostic::new(
                Code::Unsupported,
                format!(
                    "function '{}' calls itself too deeply (recursion is not supported)",
                    name.name
                ),
                span,
            ));
            return None;
        }
        let mut bound: Vec<(String, BoundArg)> = Vec::new();
        let mut args = args.into_iter();
        for param in &function.params {
            let arg = match (args.next(), &param.kind) {
                (Some(arg), _) => arg,
                (
                    None,
                    ast::ParamKind::Scalar {
                        default: Some(default),
                        ..
                    },
                ) => BoundArg::Scalar(self.expr(default, &[])),
                (None, _) => return None,
            };
            match (&param.kind, arg) {
                (ast::ParamKind::Scalar { ty, .. }, BoundArg::Scalar(arg)) => {
                    if !comparable(*ty, arg.ty) {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "parameter '{}' of '{}' is {ty}, found {}",
                                    param.name.name, name.name, arg.ty
                                ),
                                arg.span,
                            )
                            .with_label(format!("this is {}", arg.ty)),
                        );
                    }
                    bound.push((param.name.name.clone(), BoundArg::Scalar(arg)));
                }
                (ast::ParamKind::Tabular(columns), BoundArg::Tabular(table)) => {
                    for (column, ty) in columns.iter().flatten() {
                        let found = table.output.iter().find(|c| c.name == column.name);
                        let problem = match found {
                            None => Some("has no such column".to_string()),
                            Some(c) if !comparable(c.ty, *ty) => {
                                Some(format!("has it as {}", c.ty))
                            }
                            Some(_) => None,
                        };
                        if let Some(problem) = problem {
                            self.error(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    format!(
                                        "parameter '{}' of '{}' needs a column '{}' of type {ty}, but the table given {problem}",
                                        param.name.name, name.name, column.name
                                    ),
                                    span,
                                )
                                .with_label("in this call"),
                            );
                        }
                    }
                    bound.push((param.name.name.clone(), BoundArg::Tabular(table)));
                }
                (ast::ParamKind::Scalar { .. }, BoundArg::Tabular(_)) => {
                    self.error(Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "parameter '{}' of '{}' is a scalar, but a table was given",
                            param.name.name, name.name
                        ),
                        span,
                    ));
                    return None;
                }
                (ast::ParamKind::Tabular(_), BoundArg::Scalar(arg)) => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "parameter '{}' of '{}' is a table, but a scalar was given",
                                param.name.name, name.name
                            ),
                            arg.span,
                        )
                        .with_label("not a table"),
                    );
                    return None;
                }
            }
        }
        let scope = Scope {
            scalars: self.scalars.clone(),
            tabulars: self.tabulars.clone(),
            user_functions: self.user_functions.clone(),
        };
        for (param, arg) in bound {
            match arg {
                BoundArg::Scalar(value) => {
                    self.tabulars.remove(&param);
                    self.user_functions.remove(&param);
                    self.scalars.insert(param, value);
                }
                BoundArg::Tabular(table) => {
                    self.scalars.remove(&param);
                    self.user_functions.remove(&param);
                    self.tabulars.insert(param, *table);
                }
            }
        }
        self.inline_depth += 1;
        for binding in &function.lets {
            self.bind(binding);
        }
        Some(scope)
    }

    /// Restores the caller's names after a function body.
    fn leave_function(&mut self, scope: Scope) {
        self.inline_depth -= 1;
        self.scalars = scope.scalars;
        self.tabulars = scope.tabulars;
        self.user_functions = scope.user_functions;
    }
}

/// The row functions (window functions over the ordered rows).
const WINDOW_FUNCTIONS: &[&str] = &["row_number", "prev", "next", "row_cumsum"];

/// Whether `expr` calls a row function.
/// `set` options that only tune how Kusto runs a query (memory, time
/// limits, tracing, result truncation, which a detector never does):
/// accepted and ignored. Others (`query_now`, `truncationmaxrecords`, ...)
/// change results and stay "not supported yet".
const ENGINE_ONLY_SETTINGS: &[&str] = &[
    "notruncation",
    "querytrace",
    "norequesttimeout",
    "servertimeout",
    "maxmemoryconsumptionperiterator",
    "max_memory_consumption_per_query_per_node",
    "query_fanout_nodes_percent",
    "query_fanout_threads_percent",
    "query_results_cache_max_age",
    "request_app_name",
    "request_description",
    "request_user",
];

/// Whether a statement is `set OPTION [= VALUE]` with an engine-only option.
fn is_engine_only_setting(opaque: &ast::Unimplemented) -> bool {
    let Some(rest) = opaque.text.strip_prefix("set") else {
        return false;
    };
    let name = rest.split(['=', ';']).next().unwrap_or_default().trim();
    opaque.what == "the 'set' statement" && ENGINE_ONLY_SETTINGS.contains(&name)
}

fn has_window_call(expr: &Expr) -> bool {
    let mut calls = Vec::new();
    window_calls(expr, &mut calls);
    !calls.is_empty()
}

/// The row function calls in `expr`, inner ones first.
fn window_calls<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &expr.kind {
        ExprKind::Literal(_)
        | ExprKind::Name(_)
        | ExprKind::Unimplemented(_)
        | ExprKind::Tabular(_)
        | ExprKind::Star
        | ExprKind::TypeOf(_)
        | ExprKind::InvalidLiteral { .. } => {}
        ExprKind::NamedArgument { value, .. } => window_calls(value, out),
        ExprKind::Member { target, .. } => window_calls(target, out),
        ExprKind::Index { target, index } => {
            window_calls(target, out);
            window_calls(index, out);
        }
        ExprKind::Call { name, args } => {
            for arg in args {
                window_calls(arg, out);
            }
            if WINDOW_FUNCTIONS.contains(&name.name.as_str()) {
                out.push(expr);
            }
        }
        ExprKind::Unary { operand, .. } => window_calls(operand, out),
        ExprKind::Binary { lhs, rhs, .. } => {
            window_calls(lhs, out);
            window_calls(rhs, out);
        }
        ExprKind::Chain { first, rest } => {
            window_calls(first, out);
            for (_, operand) in rest {
                window_calls(operand, out);
            }
        }
        ExprKind::List { expr, items, .. } => {
            window_calls(expr, out);
            for item in items {
                window_calls(item, out);
            }
        }
        ExprKind::Between {
            expr, low, high, ..
        } => {
            window_calls(expr, out);
            window_calls(low, out);
            window_calls(high, out);
        }
    }
}

/// Whether `query` or a join, union or mv-apply in it reads a table of the
/// schema (or, with `files`, an `externaldata` file).
fn reads_input_table(query: &CheckedQuery, files: bool) -> bool {
    matches!(query.source, CheckedSource::Table(_))
        || (files && matches!(query.source, CheckedSource::External { .. }))
        || query.stages.iter().any(|stage| match &stage.op {
            CheckedOp::Join { right, .. } => reads_input_table(right, files),
            CheckedOp::Union { legs, .. } => {
                legs.iter().any(|(leg, _)| reads_input_table(leg, files))
            }
            CheckedOp::MvApply { sub, .. } => reads_input_table(sub, files),
            _ => false,
        })
}

/// The rows of a source that could not be checked (an error was reported).
fn empty_query() -> CheckedQuery {
    CheckedQuery {
        source: CheckedSource::Rows {
            columns: Vec::new(),
            rows: Vec::new(),
        },
        stages: Vec::new(),
        output: Vec::new(),
    }
}

/// Where a named result goes: the existing column of that name (its type
/// updated), or a new column at the end.
fn place(columns: &mut Vec<Column>, name: &str, ty: ScalarType) -> usize {
    match columns.iter().position(|c| c.name == name) {
        Some(i) => {
            columns[i].ty = ty;
            i
        }
        None => {
            columns.push(Column::new(name, ty));
            columns.len() - 1
        }
    }
}

/// The name of an `extend` or `project` item: its explicit name, the name
/// its expression implies, or `Column1`, `Column2`, ... counting the unnamed
/// items (as Kusto does).
fn item_name(item: &ast::NamedExpr, unnamed: &mut usize) -> String {
    if let Some(name) = &item.name {
        return name.name.clone();
    }
    default_name(&item.expr).unwrap_or_else(|| {
        *unnamed += 1;
        format!("Column{unnamed}")
    })
}

/// A function that gives several columns in `extend` and `project`: a
/// column per member of its `_dynamic` form's bag, named
/// `NAME_ARG_MEMBER` as Microsoft's parser names them.
struct MultiColumnFunction {
    name: &'static str,
    /// The function giving the bag (in the function table).
    dynamic: &'static str,
    /// The members, in column order, with their column types.
    members: &'static [(&'static str, ScalarType)],
    /// With names written, only the named columns (series-stats-function.md
    /// says so); otherwise the unnamed ones keep their default names.
    named_only: bool,
}

const MULTI_COLUMN_FUNCTIONS: &[MultiColumnFunction] = &[
    MultiColumnFunction {
        name: "series_stats",
        dynamic: "series_stats_dynamic",
        members: &[
            ("min", ScalarType::Real),
            ("min_idx", ScalarType::Long),
            ("max", ScalarType::Real),
            ("max_idx", ScalarType::Long),
            ("avg", ScalarType::Real),
            ("stdev", ScalarType::Real),
            ("variance", ScalarType::Real),
        ],
        named_only: true,
    },
    MultiColumnFunction {
        name: "series_fit_line",
        dynamic: "series_fit_line_dynamic",
        members: &[
            ("rsquare", ScalarType::Real),
            ("slope", ScalarType::Real),
            ("variance", ScalarType::Real),
            ("rvariance", ScalarType::Real),
            ("interception", ScalarType::Real),
            ("line_fit", ScalarType::Dynamic),
        ],
        named_only: false,
    },
];

/// A test of a type (what a make-series bound or step may be).
type TypeTest = fn(ScalarType) -> bool;

/// The aggregates `make-series` takes (make-series-operator.md, "List of
/// aggregation functions").
const MAKE_SERIES_AGGREGATES: &[&str] = &[
    "avg",
    "avgif",
    "count",
    "countif",
    "dcount",
    "dcountif",
    "max",
    "maxif",
    "min",
    "minif",
    "percentile",
    "take_any",
    "stdev",
    "sum",
    "sumif",
    "variance",
];

/// Conversion functions whose result keeps the name of their argument
/// (`tostring(RawEventData.x)` is named `RawEventData_x`, as in Kusto).
const NAME_PRESERVING_FUNCTIONS: &[&str] = &[
    "tostring",
    "toint",
    "tolong",
    "toreal",
    "todouble",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "todynamic",
    "toguid",
];

/// The column name KQL gives an unnamed expression: a column keeps its name;
/// a member path `a.b.c` becomes `a_b_c`; a conversion keeps its argument's
/// name. Other expressions have none (the caller numbers them).
fn default_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(ident) => Some(ident.name.clone()),
        ExprKind::Call { name, args }
            if args.len() == 1 && NAME_PRESERVING_FUNCTIONS.contains(&name.name.as_str()) =>
        {
            default_name(&args[0])
        }
        // `bin(Timestamp, 1h)` is named `Timestamp`, as Kusto names it.
        ExprKind::Call { name, args }
            if !args.is_empty() && matches!(name.name.as_str(), "bin" | "floor" | "bin_at") =>
        {
            default_name(&args[0])
        }
        ExprKind::Member { target, name } => {
            default_name(target).map(|prefix| format!("{prefix}_{}", name.name))
        }
        ExprKind::Index { target, index } => match &index.kind {
            ExprKind::Literal(Literal::String(key)) => {
                default_name(target).map(|prefix| format!("{prefix}_{key}"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The type of a literal.
pub(crate) fn literal_type(literal: &Literal) -> ScalarType {
    match literal {
        Literal::Bool(_) => ScalarType::Bool,
        Literal::Int(_) => ScalarType::Int,
        Literal::Long(_) => ScalarType::Long,
        Literal::Real(_) => ScalarType::Real,
        Literal::String(_) => ScalarType::String,
        Literal::DateTime(_) => ScalarType::DateTime,
        Literal::TimeSpan(_) => ScalarType::TimeSpan,
        Literal::Guid(_) => ScalarType::Guid,
        Literal::Dynamic(_) => ScalarType::Dynamic,
        Literal::Null(ty) => *ty,
    }
}

/// A datatable value fits its column: same type, a number in a numeric
/// column, a typed null, or anything in a dynamic column.
fn literal_fits(value: &TypedExpr, column: ScalarType) -> bool {
    value.ty == column
        || column == ScalarType::Dynamic
        || (column.is_numeric() && value.ty.is_numeric())
        || matches!(value.kind, TypedExprKind::Literal(Literal::Null(_)))
}

/// Whether KQL can compare values of these types.
fn comparable(a: ScalarType, b: ScalarType) -> bool {
    a == b
        || a == ScalarType::Dynamic
        || b == ScalarType::Dynamic
        || (a.is_numeric() && b.is_numeric())
}

/// The result type of arithmetic, or `None` when KQL rejects it.
fn arithmetic_type(op: BinaryOp, a: ScalarType, b: ScalarType) -> Option<ScalarType> {
    use ScalarType as T;
    // With a dynamic operand the result takes the other operand's type, as
    // Kusto's type inference does (`dynamic(1) + 1` is long).
    match (a, b) {
        (T::Dynamic, T::Dynamic) => return Some(T::Dynamic),
        (T::Dynamic, other) | (other, T::Dynamic) => {
            return Some(if other == T::Int { T::Long } else { other })
        }
        _ => {}
    }
    // int arithmetic is done in long (`toint(1) + toint(2)` is long).
    if a.is_numeric() && b.is_numeric() {
        return Some(if a == T::Real || b == T::Real {
            T::Real
        } else {
            T::Long
        });
    }
    Some(match (op, a, b) {
        (BinaryOp::Sub, T::DateTime, T::DateTime) => T::TimeSpan,
        (BinaryOp::Add | BinaryOp::Sub, T::DateTime, T::TimeSpan) => T::DateTime,
        (BinaryOp::Add, T::TimeSpan, T::DateTime) => T::DateTime,
        (BinaryOp::Add | BinaryOp::Sub, T::TimeSpan, T::TimeSpan) => T::TimeSpan,
        (BinaryOp::Mul, T::TimeSpan, n) | (BinaryOp::Mul, n, T::TimeSpan) if n.is_numeric() => {
            T::TimeSpan
        }
        (BinaryOp::Div, T::TimeSpan, T::TimeSpan) => T::Real,
        (BinaryOp::Div, T::TimeSpan, n) if n.is_numeric() => T::TimeSpan,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sema::Schema;

    /// The diagnostics of `query`, as (code, message, the source text under
    /// the primary span).
    fn errors(query: &str) -> Vec<(Code, String, String)> {
        match crate::compile(query, &Schema::builtin()) {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics
                .iter()
                .map(|d| {
                    let span = d.primary.span;
                    let under = query.get(span.start..span.end).unwrap_or_default();
                    (d.code, d.message.clone(), under.to_string())
                })
                .collect(),
        }
    }

    fn invalid_regex_at(under: &str) -> Vec<(Code, String, String)> {
        vec![(
            Code::InvalidLiteral,
            "invalid regular expression".to_string(),
            under.to_string(),
        )]
    }

    #[test]
    fn every_constant_regex_argument_must_compile() {
        for query in [
            r#"print x = extract("(", 0, "a")"#,
            r#"print x = extract_all("(", "a")"#,
            r#"print x = indexof_regex("a", "(")"#,
            r#"print x = replace_regex("a", "(", "b")"#,
            r#"print x = replace("(", "b", "a")"#,
            r#"print x = trim("(", "a")"#,
            r#"print x = trim_start("(", "a")"#,
            r#"print x = trim_end("(", "a")"#,
            r#"print x = countof("a", "(", "regex")"#,
            r#"print x = "a" matches regex "(""#,
            r#"print s = "a" | parse kind=regex s with "(" x"#,
        ] {
            assert_eq!(errors(query), invalid_regex_at("\"(\""), "{query}");
        }
    }

    #[test]
    fn countof_reads_its_search_as_a_regex_only_with_kind_regex() {
        assert_eq!(errors(r#"print x = countof("a(", "(")"#), []);
        assert_eq!(errors(r#"print x = countof("a(", "(", "normal")"#), []);
        assert_eq!(errors(r#"print x = countof("ab", "a+", "regex")"#), []);
        // Another kind is not a regex (it gives null at run time).
        assert_eq!(errors(r#"print x = countof("a", "(", "other")"#), []);
    }

    #[test]
    fn a_parse_regex_piece_must_compile_on_its_own() {
        // `(?:a)(b)` compiles, but the piece `a)(b` is not a regex.
        assert_eq!(
            errors(r#"print s = "ab" | parse kind=regex s with "a)(b" x"#),
            invalid_regex_at("\"a)(b\"")
        );
        assert_eq!(
            errors(r#"print s = "ab" | parse kind=regex s with "a(b)?" x"#),
            []
        );
    }
}
