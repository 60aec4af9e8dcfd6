//! The checker: resolves names, infers types, fixes column layouts.
//!
//! This file holds the entry point ([`check`]), the statements (`let`,
//! `set`, the one tabular expression), the pipeline loop that pushes each
//! operator onto the checked query, and the column helpers every operator
//! shares. The sub-steps live beside it:
//! - `sources`: where rows come from (tables, `print`, `datatable`,
//!   `range`, `externaldata`, ...);
//! - `find`: the `find` source, a `union` of the tables it searches, each
//!   filtered and laid out by `find`'s rules;
//! - `settings`: `set` options that change results (`bin_auto`'s);
//! - `operators`: the per-operator dispatch (filters, projections, sort,
//!   take, ...), `render` and `getschema`;
//! - `summarize`: `summarize`, `make-series` and their aggregates;
//! - `joins`: `join`, `lookup` and `union`;
//! - `expand`: `mv-expand`, `mv-apply` and `parse`;
//! - `nested`: `top-nested` and `partition`;
//! - `evaluate`: the `evaluate` plugins (`bag_unpack`, `ipv4_lookup`,
//!   `narrow`) and the names an open row (`bag_unpack` without an output
//!   schema) resolves;
//! - `windows`: row functions (`row_number`, `prev`, ...) computed by a
//!   `Window` stage;
//! - `expr`: scalar expressions and operator typing;
//! - `calls`: scalar function calls against the function table;
//! - `user_functions`: user-defined functions, inlined at each call.
//!
//! Shorthand operators (`serialize`, `top-hitters`, `distinct` of computed
//! values) are rewritten by `sema::desugar` before they are checked.

mod calls;
mod evaluate;
mod expand;
mod expr;
mod find;
mod graph;
mod joins;
mod nested;
mod operators;
mod parse_kv;
mod scan;
mod settings;
mod sources;
mod summarize;
mod user_functions;
mod windows;

use super::{
    CheckedOp, CheckedQuery, CheckedSource, CheckedStage, Column, Schema, TypedExpr, TypedExprKind,
};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::syntax::ast::{
    self, Expr, ExprKind, Ident, LetValue, Literal, OperatorKind, Source, Span, Statement,
    TabularExpr,
};
use crate::types::ScalarType;
use std::collections::HashMap;
use windows::has_window_call;

/// Checks `query`, desugared by [`super::desugar::query`], against `schema`. `source` is the query text (operator text
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
        refused_windows: std::collections::HashSet::new(),
        in_window_stage: false,
        unknown_sources: 0,
        bin_auto: BinAuto::default(),
        graph_refused_in: None,
        no_records: false,
    };
    // `set` options hold for the whole query, wherever they are written.
    for statement in &query.statements {
        if let Statement::Set(option) = statement {
            checker.set_option(option);
        }
    }
    let mut result = None;
    for statement in &query.statements {
        match statement {
            Statement::Set(_) => {}
            Statement::Unimplemented(opaque) if is_engine_only_setting(opaque) => {}
            Statement::Unimplemented(opaque) if !opaque.binds.is_empty() => {
                // A `declare query_parameters` with a parameter without a
                // default value.
                checker.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("{} is not supported yet", opaque.what),
                        opaque.span,
                    )
                    .with_label("valid KQL that kqlc cannot compile yet")
                    .with_help(
                        "give each parameter a default value (`NAME: TYPE = VALUE`): a detector has no client to pass one",
                    ),
                );
                // Its names are known: their uses are no further error.
                for name in &opaque.binds {
                    checker.tabulars.remove(&name.name);
                    checker
                        .scalars
                        .insert(name.name.clone(), poisoned(name.span));
                }
            }
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
    /// Spans of row-function calls whose arguments were refused (already
    /// reported): reading them gives no second error.
    refused_windows: std::collections::HashSet<(usize, usize)>,
    /// The operator being checked has had its row functions computed.
    in_window_stage: bool,
    /// How many pipelines being checked have a source that was refused
    /// (an unknown table, watchlist or function): their columns are
    /// unknown, so a column they name is not reported a second time.
    unknown_sources: usize,
    /// What `bin_auto` rounds by: the query's `set query_bin_auto_*`.
    bin_auto: BinAuto,
    /// The `mv-apply` or `partition` whose subquery is being checked, and
    /// whether a `make-graph` in it was refused already (its graph
    /// operators then give no second error).
    graph_refused_in: Option<(&'static str, bool)>,
    /// The rows being checked are not records of a table (the pipeline
    /// starts with `print`, `datatable` or `range`): `ingestion_time()` is
    /// null there, as the reference says outside a table's context.
    no_records: bool,
}

/// `set query_bin_auto_size = ...` and `set query_bin_auto_at = ...`, each
/// its value (a checked constant) and the statement's span.
#[derive(Default)]
struct BinAuto {
    size: Option<(Expr, Span)>,
    at: Option<(Expr, Span)>,
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
    /// The snippet above the label shows the text, so the label does not
    /// repeat it.
    fn unimplemented(&mut self, opaque: &ast::Unimplemented) {
        self.error(
            Diagnostic::new(
                Code::Unsupported,
                format!("{} is not supported yet", opaque.what),
                opaque.span,
            )
            .with_label("valid KQL that kqlc cannot compile yet"),
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
        let reported = self.diagnostics.len();
        let outer_no_records = self.no_records;
        self.no_records = matches!(
            tabular.source,
            Source::Print(..) | Source::Datatable(_) | Source::Range(_)
        );
        let mut query = self.source(&tabular.source);
        let unknown = self.diagnostics.len() > reported && query.output.is_empty();
        self.unknown_sources += usize::from(unknown);
        self.check_render_last(&tabular.operators);
        let mut rest = tabular.operators.as_slice();
        while let Some((operator, after)) = rest.split_first() {
            if let OperatorKind::MakeGraph(graph) = &operator.kind {
                // The graph operators after it (unless partitioned: then
                // inside it): `graph-mark-components`s, then the one that
                // gives rows.
                let mut end = 0;
                while graph.partitioned_by.is_none()
                    && end < after.len()
                    && graph::is_graph_operator(&after[end])
                {
                    end += 1;
                    if !matches!(
                        after[end - 1].kind,
                        OperatorKind::GraphMarkComponents { .. }
                    ) {
                        break;
                    }
                }
                query = self.graph(query, operator, graph, &after[..end]);
                rest = &after[end..];
                continue;
            }
            query = self.push_operator(query, operator);
            rest = after;
        }
        self.unknown_sources -= usize::from(unknown);
        self.no_records = outer_no_records;
        query
    }

    /// `query | operator`.
    fn push_operator(&mut self, mut query: CheckedQuery, operator: &ast::Operator) -> CheckedQuery {
        match &operator.kind {
            OperatorKind::Invoke(call) => return self.tabular_call(call, Some(query)),
            OperatorKind::Evaluate(evaluate) => return self.evaluate(query, operator, evaluate),
            OperatorKind::ParseKv(kv) => return self.parse_kv(query, operator.span, kv),
            OperatorKind::As(name) => {
                // Later operators read these rows again by name, as from a
                // tabular `let` (the rows are the same each time).
                self.scalars.remove(&name.name);
                self.tabulars.insert(name.name.clone(), query.clone());
                return query;
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
            OperatorKind::MakeGraph(_)
            | OperatorKind::GraphMatch(_)
            | OperatorKind::GraphToTable(_)
            | OperatorKind::GraphMarkComponents { .. } => {
                self.graph_without_graph(operator);
                return query;
            }
            // A detector draws no chart: `render` passes the rows on.
            OperatorKind::Render(render) => {
                self.render(render, &query.output);
                return query;
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
        if self.unknown_sources > 0 {
            // The source was refused and reported: no columns are known.
            return;
        }
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
            CheckedOp::Graph(graph) => {
                for (table, _, _) in &graph.node_tables {
                    collect_tables(table, out);
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
            CheckedOp::Graph(graph) => graph
                .node_tables
                .iter()
                .any(|(table, _, _)| reads_input_table(table, files)),
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
