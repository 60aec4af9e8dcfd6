//! The per-operator dispatch: each tabular operator checked against its
//! input columns, giving its checked form and output columns; also
//! `render`, `getschema` and `sort` keys.

use super::{place, Checker};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::sema::{CheckedOp, CheckedSortKey, Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{self, Expr, ExprKind, Literal, OperatorKind, Span};
use crate::types::ScalarType;

impl Checker<'_> {
    pub(super) fn operator(
        &mut self,
        operator: &ast::Operator,
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
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
                        .with_label(format!("of type {}", typed.ty)),
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
                // `sample-distinct N of C` is desugared to `distinct` and a
                // `take` spanning the whole operator: name what was written.
                let written = self
                    .source
                    .get(operator.span.start..operator.span.end)
                    .unwrap_or("");
                let what = if written.starts_with("sample-distinct") {
                    "sample-distinct"
                } else {
                    "take"
                };
                let n = self.constant_count(count, what);
                (CheckedOp::Take(n), input.to_vec())
            }
            // The desugar pass rewrites these before checking; reaching
            // here means it did not run, which is a compiler error, said.
            OperatorKind::Serialize(_)
            | OperatorKind::TopHitters { .. }
            | OperatorKind::SampleDistinct { .. } => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "internal error: this operator reached the checker without being desugared",
                        operator.span,
                    )
                    .with_help("run `sema::desugar::query` on the query before `sema::check`"),
                );
                (
                    CheckedOp::Select((0..input.len()).collect()),
                    input.to_vec(),
                )
            }
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
            OperatorKind::ProjectByNames(specs) => self.project_by_names(specs, input),
            OperatorKind::Unimplemented(opaque) => {
                self.unimplemented(opaque);
                (CheckedOp::Take(u64::MAX), input.to_vec())
            }
            // `tabular` binds the name and passes the rows on.
            OperatorKind::As(_)
            | OperatorKind::Invoke(_)
            | OperatorKind::Evaluate(_)
            | OperatorKind::ParseKv(_) => (
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
            OperatorKind::Scan(scan) => self.scan(scan, input),
            // `push_operator` and `tabular` handle these (`graph`).
            OperatorKind::MakeGraph(_)
            | OperatorKind::GraphMatch(_)
            | OperatorKind::GraphToTable(_)
            | OperatorKind::GraphMarkComponents { .. } => (
                CheckedOp::Select((0..input.len()).collect()),
                input.to_vec(),
            ),
            // The desugar pass makes it a `where`, except with `in (...)`.
            OperatorKind::Search(_) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "`search in (...)` must be the first operator of the query",
                        operator.span,
                    )
                    .with_label("after a pipe")
                    .with_help("after a pipe, `search` filters its input: remove `in (...)`"),
                );
                (
                    CheckedOp::Select((0..input.len()).collect()),
                    input.to_vec(),
                )
            }
            // `push_operator` handles this.
            OperatorKind::Render(_) => (
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
                // Only columns get here: the desugar pass turns computed
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

    /// `render` must be the last operator of its query.
    pub(super) fn check_render_last(&mut self, operators: &[ast::Operator]) {
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
    pub(super) fn render(&mut self, render: &ast::Render, columns: &[Column]) {
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
                    ScalarType::Decimal => "System.Data.SqlTypes.SqlDecimal",
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

    fn sort_key(&mut self, key: &ast::SortExpr, input: &[Column]) -> CheckedSortKey {
        CheckedSortKey {
            expr: self.expr(&key.expr, input),
            descending: key.descending,
            nulls_first: key.nulls_first(),
        }
    }
}

/// A function that gives several columns in `extend` and `project`: a
/// column per member of its `_dynamic` form's bag, named
/// `NAME_ARG_MEMBER` as Microsoft's parser names them.
pub(super) struct MultiColumnFunction {
    pub(super) name: &'static str,
    /// The function giving the bag (in the function table).
    pub(super) dynamic: &'static str,
    /// The members, in column order, with their column types.
    pub(super) members: &'static [(&'static str, ScalarType)],
    /// With names written, only the named columns (series-stats-function.md
    /// says so); otherwise the unnamed ones keep their default names.
    pub(super) named_only: bool,
}

/// The columns of `series_decompose` and `series_decompose_forecast`.
const DECOMPOSITION: &[(&str, ScalarType)] = &[
    ("baseline", ScalarType::Dynamic),
    ("seasonal", ScalarType::Dynamic),
    ("trend", ScalarType::Dynamic),
    ("residual", ScalarType::Dynamic),
];

pub(super) const MULTI_COLUMN_FUNCTIONS: &[MultiColumnFunction] = &[
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
    MultiColumnFunction {
        name: "series_fit_2lines",
        dynamic: "series_fit_2lines_dynamic",
        members: &[
            ("rsquare", ScalarType::Real),
            ("split_idx", ScalarType::Long),
            ("variance", ScalarType::Real),
            ("rvariance", ScalarType::Real),
            ("line_fit", ScalarType::Dynamic),
            ("right_rsquare", ScalarType::Real),
            ("right_slope", ScalarType::Real),
            ("right_interception", ScalarType::Real),
            ("right_variance", ScalarType::Real),
            ("right_rvariance", ScalarType::Real),
            ("left_rsquare", ScalarType::Real),
            ("left_slope", ScalarType::Real),
            ("left_interception", ScalarType::Real),
            ("left_variance", ScalarType::Real),
            ("left_rvariance", ScalarType::Real),
        ],
        named_only: false,
    },
    MultiColumnFunction {
        name: "series_decompose",
        dynamic: "series_decompose_dynamic",
        members: DECOMPOSITION,
        named_only: false,
    },
    MultiColumnFunction {
        name: "series_decompose_forecast",
        dynamic: "series_decompose_forecast_dynamic",
        members: DECOMPOSITION,
        named_only: false,
    },
    MultiColumnFunction {
        name: "series_periods_detect",
        dynamic: "series_periods_detect_dynamic",
        members: &[
            ("periods", ScalarType::Dynamic),
            ("periods_scores", ScalarType::Dynamic),
        ],
        named_only: false,
    },
    MultiColumnFunction {
        name: "series_periods_validate",
        dynamic: "series_periods_validate_dynamic",
        members: &[
            ("periods", ScalarType::Dynamic),
            ("scores", ScalarType::Dynamic),
        ],
        named_only: false,
    },
    MultiColumnFunction {
        name: "series_decompose_anomalies",
        dynamic: "series_decompose_anomalies_dynamic",
        members: &[
            ("ad_flag", ScalarType::Dynamic),
            ("ad_score", ScalarType::Dynamic),
            ("baseline", ScalarType::Dynamic),
        ],
        named_only: false,
    },
];

impl Checker<'_> {
    /// `project-by-names SPEC, ...` (`project-by-names-operator.md`): the
    /// input columns each constant specifier names, in the order given; a
    /// name no column has is ignored, a pattern with `*` takes every column
    /// it fits, a column named twice comes once (at its first place).
    fn project_by_names(&mut self, specs: &[Expr], input: &[Column]) -> (CheckedOp, Vec<Column>) {
        let mut names: Vec<String> = Vec::new();
        for spec in specs {
            if let ExprKind::Call { name, args } = &spec.kind {
                if name.name == "column_names_of" {
                    match args.as_slice() {
                        [Expr {
                            kind: ExprKind::Name(table),
                            ..
                        }] if self.is_tabular_name(&table.name) => {
                            let tabular = ast::TabularExpr {
                                source: ast::Source::Named(table.clone()),
                                operators: Vec::new(),
                                span: table.span,
                            };
                            let checked = self.tabular(&tabular);
                            names.extend(checked.output.iter().map(|c| c.name.clone()));
                        }
                        _ => self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                "column_names_of needs the name of a table",
                                spec.span,
                            )
                            .with_label("not a table name"),
                        ),
                    }
                    continue;
                }
            }
            // Typed over the row, so that a column named bare is one error
            // (not a constant), not an unknown name too.
            let errors = self.diagnostics.len();
            let typed = self.expr(spec, input);
            let mut strings = |literal: &Literal| match literal {
                Literal::String(text) => {
                    names.push(text.clone());
                    true
                }
                _ => false,
            };
            let ok = match &typed.kind {
                TypedExprKind::Literal(Literal::Dynamic(ast::DynamicLiteral::Array(items))) => {
                    items.iter().all(|item| match item {
                        ast::DynamicLiteral::Scalar(literal) => strings(literal),
                        _ => false,
                    })
                }
                TypedExprKind::Literal(literal) => strings(literal),
                _ => false,
            };
            // An expression already reported (an unknown name) is not
            // reported again.
            if !ok && self.diagnostics.len() == errors {
                let label = match &typed.kind {
                    TypedExprKind::Column(_) => {
                        "a column, not its name: write the name as a string"
                    }
                    _ => "not a constant name",
                };
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "project-by-names needs constant column names: strings, a dynamic array of strings or column_names_of(T)",
                        spec.span,
                    )
                    .with_label(label),
                );
            }
        }
        let mut kept: Vec<usize> = Vec::new();
        for name in &names {
            let pattern = ast::ColumnPattern {
                name: ast::Ident {
                    name: name.clone(),
                    span: Span::new(0, 0),
                },
                wildcard: name.contains('*'),
            };
            for (i, column) in input.iter().enumerate() {
                if pattern.matches(&column.name) && !kept.contains(&i) {
                    kept.push(i);
                }
            }
        }
        let columns = kept.iter().map(|&i| input[i].clone()).collect();
        (CheckedOp::Select(kept), columns)
    }
}
