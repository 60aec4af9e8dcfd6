//! Plan: [`CheckedQuery`] → [`ir::Pipeline`].
//!
//! Lowers operators and functions to calls of named runtime functions, drops
//! operators that do nothing at run time (`project-rename` only renames), and
//! works out which input columns the query reads and what it can observe of
//! them ([`access`]).

pub mod access;
pub mod ir;
pub mod partition;
pub mod prefilter;
pub mod schedule;
mod show;

pub(crate) use show::expr_text;

use crate::sema::aggregates::Shape;
use crate::sema::functions::Convention;
use crate::sema::{
    CheckedOp, CheckedQuery, CheckedSortKey, CheckedSource, TypedExpr, TypedExprKind,
};
use crate::syntax::ast::{BinaryOp, DynamicLiteral, ListOp, Literal, StringOpKind, UnaryOp};
use crate::types::ScalarType;
use ir::{
    Arg, Arith, Builtin, Comparison, Const, Expr, FunctionId, Input, Op, Pipeline, Stage, TextOp,
};

/// Lowers a checked query.
pub fn plan(query: &CheckedQuery) -> Pipeline {
    Planner::default().plan_query(query)
}

/// Lowers checked queries. It numbers the sub-queries (`toscalar`, `in (T)`)
/// of the rule it plans, so that each gets a distinct field in generated
/// code.
#[derive(Default)]
struct Planner {
    /// Sub-queries numbered so far.
    subqueries: std::cell::Cell<usize>,
}

impl Planner {
    /// Lowers a query or a sub-query.
    fn plan_query(&self, query: &CheckedQuery) -> Pipeline {
        let columns =
            |cols: &[crate::sema::Column]| cols.iter().map(|c| (c.name.clone(), c.ty)).collect();
        let mut stages = Vec::new();
        for stage in &query.stages {
            let op = match &stage.op {
                CheckedOp::Where(predicate) => Op::Filter(self.lower(predicate)),
                CheckedOp::Extend(items) => {
                    Op::Extend(items.iter().map(|(i, e)| (*i, self.lower(e))).collect())
                }
                CheckedOp::Project(values) => {
                    Op::Project(values.iter().map(|e| self.lower(e)).collect())
                }
                CheckedOp::Select(indices) => {
                    if indices.iter().copied().eq(0..stage.input.len()) {
                        continue; // a rename: same values in the same places
                    }
                    Op::Select(indices.clone())
                }
                CheckedOp::MvExpand { .. } => self.lower_mv_expand(&stage.op, &stage.output),
                CheckedOp::MvApply {
                    expand,
                    sub,
                    layout,
                } => {
                    let subtable = match &sub.source {
                        CheckedSource::Rows { columns, .. } => columns.clone(),
                        _ => Vec::new(),
                    };
                    Op::MvApply {
                        expand: Box::new(self.lower_mv_expand(expand, &subtable)),
                        sub: Box::new(self.plan_query(sub)),
                        layout: layout.clone(),
                    }
                }
                CheckedOp::Take(n) => Op::Take(*n),
                CheckedOp::Sample(n) => Op::Sample(*n),
                CheckedOp::Window(items) => Op::Window(
                    items
                        .iter()
                        .map(|(position, window)| {
                            let mut args: Vec<Expr> =
                                window.args.iter().map(|e| self.lower(e)).collect();
                            // A running sum of ints is a long, like `sum`.
                            if window.kind == crate::sema::WindowKind::CumSum
                                && window.args[0].ty != ScalarType::Real
                            {
                                args[0] = Expr::call(
                                    Builtin::Function(FunctionId("tolong")),
                                    vec![Arg::Value(args[0].clone())],
                                    ScalarType::Long,
                                );
                            }
                            (
                                *position,
                                ir::WindowFn {
                                    kind: window.kind,
                                    args,
                                },
                            )
                        })
                        .collect(),
                ),
                CheckedOp::Scan(scan) => Op::Scan(Box::new(self.lower_scan(scan))),
                CheckedOp::Graph(graph) => Op::Graph(Box::new(self.lower_graph(graph))),
                CheckedOp::Count => Op::Count,
                CheckedOp::Summarize { by, aggregates } => Op::Summarize {
                    keys: by.iter().map(|e| self.lower(e)).collect(),
                    aggregates: aggregates.iter().map(|e| self.lower_aggregate(e)).collect(),
                },
                CheckedOp::MakeSeries(series) => {
                    Op::MakeSeries(Box::new(self.lower_make_series(series)))
                }
                CheckedOp::Sort(keys) => Op::Sort {
                    keys: keys.iter().map(|e| self.sort_key(e)).collect(),
                    limit: None,
                },
                CheckedOp::Top { count, key } => Op::Sort {
                    keys: vec![self.sort_key(key)],
                    limit: Some(*count),
                },
                CheckedOp::Distinct(columns) => Op::Distinct(columns.clone()),
                CheckedOp::Join {
                    kind,
                    right,
                    left_keys,
                    right_keys,
                    right_columns,
                    ipv4_range,
                } => Op::Join {
                    kind: *kind,
                    ipv4_range: *ipv4_range,
                    right_width: right.output.len(),
                    right: Box::new(self.plan_query(right)),
                    left_keys: left_keys.clone(),
                    right_keys: right_keys.clone(),
                    right_columns: right_columns.clone(),
                    left_width: stage.input.len(),
                    left_strings: stage
                        .input
                        .iter()
                        .map(|c| c.ty == ScalarType::String)
                        .collect(),
                    right_strings: right_columns
                        .iter()
                        .map(|&i| right.output[i].ty == ScalarType::String)
                        .collect(),
                },
                CheckedOp::Parse {
                    expr,
                    regex,
                    targets,
                    relaxed,
                    drop_unmatched,
                } => Op::Parse {
                    expr: self.lower(expr),
                    regex: regex.clone(),
                    targets: targets.clone(),
                    relaxed: *relaxed,
                    drop_unmatched: *drop_unmatched,
                },
                CheckedOp::TopNested(levels) => Op::TopNested(
                    levels
                        .iter()
                        .map(|level| {
                            let pad = |ty: ScalarType| match ty {
                                ScalarType::String => Const::String(String::new()),
                                _ => Const::Null,
                            };
                            let aggregate_ty = level
                                .aggregate
                                .function
                                .result_type(level.aggregate.value.as_ref().map(|v| v.ty));
                            ir::TopNestedLevel {
                                limit: level.count,
                                key: self.lower(&level.key),
                                others: level.others.as_ref().map(|e| self.lower(e)),
                                aggregate: self.lower_aggregate(&level.aggregate),
                                descending: level.descending,
                                pads: [pad(level.key.ty), pad(aggregate_ty)],
                            }
                        })
                        .collect(),
                ),
                CheckedOp::ConstantRows(rows) => Op::ConstantRows(
                    rows.iter()
                        .map(|row| row.iter().map(|e| self.lower(e)).collect())
                        .collect(),
                ),
                CheckedOp::Partition { key, sub, limit } => Op::Partition {
                    key: *key,
                    sub: Box::new(self.plan_query(sub)),
                    limit: *limit,
                },
                CheckedOp::Union { input, legs } => {
                    let layout = |mapping: &[Option<usize>]| -> Vec<Expr> {
                        mapping
                            .iter()
                            .zip(&stage.output)
                            .map(|(m, column)| match (m, column.ty) {
                                (Some(i), ty) => Expr::Column(*i, ty),
                                (None, ScalarType::String) => {
                                    Expr::Const(Const::String(String::new()))
                                }
                                (None, _) => Expr::Const(Const::Null),
                            })
                            .collect()
                    };
                    Op::Union {
                        input: layout(input),
                        legs: legs
                            .iter()
                            .map(|(leg, map)| (self.plan_query(leg), layout(map)))
                            .collect(),
                    }
                }
            };
            stages.push(Stage {
                kql: stage.text.clone(),
                input_names: stage.input.iter().map(|c| c.name.clone()).collect(),
                output_names: stage.output.iter().map(|c| c.name.clone()).collect(),
                op,
            });
        }
        let input = match &query.source {
            CheckedSource::Range {
                column,
                from,
                to,
                step,
            } => Input::Range {
                column: (column.name.clone(), column.ty),
                from: self.lower(from),
                to: self.lower(to),
                step: self.lower(step),
            },
            CheckedSource::Table(table) => {
                let columns: Vec<(String, ScalarType)> = columns(&table.columns);
                Input::Table {
                    name: table.name.clone(),
                    used: used_input_columns(table.columns.len(), &stages, query.output.len()),
                    access: access::column_access(&columns, table.serialized_event(), &stages),
                    computed: (table.columns.iter().enumerate())
                        .filter(|(_, c)| table.is_computed(&c.name))
                        .map(|(i, _)| i)
                        .collect(),
                    serialized_event: table.serialized_event(),
                    columns,
                }
            }
            CheckedSource::External {
                columns: cols,
                files,
                format,
                skip_first,
            } => Input::External {
                columns: columns(cols),
                files: files.clone(),
                format: *format,
                skip_first: *skip_first,
            },
            CheckedSource::Rows {
                columns: cols,
                rows,
            } => Input::Rows {
                columns: columns(cols),
                rows: rows
                    .iter()
                    .map(|row| row.iter().map(|e| self.lower(e)).collect())
                    .collect(),
            },
        };
        let mut pipeline = Pipeline {
            input,
            stages,
            output: columns(&query.output),
            prefilter: ir::Prefilter::Always,
        };
        pipeline.prefilter = prefilter::derive(&pipeline);
        pipeline
    }

    /// Lowers `make-graph` and its graph operators.
    fn lower_graph(&self, graph: &crate::sema::CheckedGraph) -> ir::GraphPlan {
        use crate::sema::CheckedGraphOutput;
        let node_tables = graph
            .node_tables
            .iter()
            .map(|(query, id, properties)| ir::NodeTablePlan {
                pipeline: self.plan_query(query),
                id: *id,
                properties: properties.clone(),
            })
            .collect();
        let output = match &graph.output {
            CheckedGraphOutput::Nodes { with_id } => ir::GraphOutput::Nodes { with_id: *with_id },
            CheckedGraphOutput::Edges {
                source_id,
                target_id,
            } => ir::GraphOutput::Edges {
                source_id: *source_id,
                target_id: *target_id,
            },
            CheckedGraphOutput::Match {
                pattern,
                conditions,
                folds,
            } => ir::GraphOutput::Match {
                pattern: pattern.clone(),
                conditions: conditions
                    .iter()
                    .map(|(event, e)| (*event, self.lower(e)))
                    .collect(),
                folds: folds
                    .iter()
                    .map(|fold| ir::FoldPlan {
                        kind: fold.kind,
                        edge: fold.edge,
                        inner_nodes: fold.inner_nodes,
                        position: fold.position,
                        body: self.lower(&fold.body),
                    })
                    .collect(),
            },
        };
        ir::GraphPlan {
            source: graph.source,
            target: graph.target,
            node_tables,
            node_properties: graph
                .node_properties
                .iter()
                .map(|c| (c.name.clone(), c.ty))
                .collect(),
            node_id_property: graph.node_id_property,
            components: graph.components.clone(),
            partition: graph.partition.clone(),
            output,
        }
    }

    /// Lowers `scan`: each declared column's value in a step's matches is
    /// its assignment (converted to the column's type) or its default.
    fn lower_scan(&self, scan: &crate::sema::CheckedScan) -> ir::ScanPlan {
        let defaults: Vec<Expr> = scan.defaults.iter().map(|e| self.lower(e)).collect();
        let converted = |value: Expr, ty: ScalarType| {
            let runtime = match ty {
                _ if value.ty() == ty || !value.ty().is_numeric() => return value,
                ScalarType::Int => "toint",
                ScalarType::Long => "tolong",
                ScalarType::Real => "toreal",
                _ => return value,
            };
            Expr::call(
                Builtin::Function(FunctionId(runtime)),
                vec![Arg::Value(value)],
                ty,
            )
        };
        let steps = scan
            .steps
            .iter()
            .map(|step| ir::ScanStepPlan {
                name: step.name.clone(),
                output: step.output,
                condition: self.lower(&step.condition),
                values: step
                    .assignments
                    .iter()
                    .zip(&scan.defaults)
                    .zip(&defaults)
                    .map(|((assigned, declared), default)| match assigned {
                        Some(value) => converted(self.lower(value), declared.ty),
                        None => default.clone(),
                    })
                    .collect(),
            })
            .collect();
        ir::ScanPlan {
            input_width: scan.input_width,
            defaults: defaults
                .iter()
                .zip(&scan.defaults)
                .map(|(value, declared)| converted(value.clone(), declared.ty))
                .collect(),
            steps,
            match_id: scan.match_id,
        }
    }

    /// Lowers one aggregate of `summarize` or `make-series`.
    fn lower_aggregate(&self, a: &crate::sema::CheckedAggregate) -> ir::Aggregate {
        ir::Aggregate {
            runtime: aggregate_runtime(a),
            takes_parameter: matches!(
                a.function.shape,
                Shape::ValueLimit | Shape::ValuePredicateLimit | Shape::Percentiles { .. }
            ),
            parameter: a.parameter.as_ref().map(|e| self.lower(e)),
            value: a.value.as_ref().map(|e| self.lower(e)),
            predicate: a.predicate.as_ref().map(|e| self.lower(e)),
            carried: a
                .carried
                .iter()
                .chain(&a.weight)
                .map(|e| self.lower(e))
                .collect(),
            width: a.width(),
            mergeable: mergeable(a),
        }
    }

    /// Lowers `make-series`. A default is converted to its aggregate's result
    /// type (a series of `count()` holds longs whatever the default's type),
    /// and defaults to 0 (make-series-operator.md).
    fn lower_make_series(&self, series: &crate::sema::CheckedMakeSeries) -> ir::MakeSeries {
        let defaults = series
            .aggregates
            .iter()
            .zip(&series.defaults)
            .map(|(a, default)| {
                let value = default
                    .as_ref()
                    .map_or(Expr::Const(Const::Long(0)), |e| self.lower(e));
                let ty = a.function.result_type(a.value.as_ref().map(|v| v.ty));
                let conversion = match ty {
                    ScalarType::Int | ScalarType::Long | ScalarType::Real => {
                        FunctionId::conversion(ty)
                    }
                    _ => None,
                };
                match conversion {
                    Some(f) => Expr::call(Builtin::Function(f), vec![Arg::Value(value)], ty),
                    None => value,
                }
            })
            .collect();
        let bound = |b: &Option<TypedExpr>| {
            b.as_ref()
                .map_or(Expr::Const(Const::Null), |e| self.lower(e))
        };
        ir::MakeSeries {
            keys: series.by.iter().map(|e| self.lower(e)).collect(),
            aggregates: series
                .aggregates
                .iter()
                .map(|e| self.lower_aggregate(e))
                .collect(),
            defaults,
            zero: match series.axis.ty {
                ScalarType::DateTime => Const::DateTime(0),
                ScalarType::TimeSpan => Const::TimeSpan(0),
                ScalarType::Real => Const::Real(0.0),
                _ => Const::Long(0),
            },
            axis: self.lower(&series.axis),
            from: bound(&series.from),
            to: bound(&series.to),
            step: self.lower(&series.step),
            in_range: series.in_range,
            nonempty: series.nonempty,
            empty_key: series
                .by
                .iter()
                .map(|key| match key.ty {
                    ScalarType::String => Const::String(String::new()),
                    _ => Const::Null,
                })
                .collect(),
        }
    }

    /// Lowers a [`CheckedOp::MvExpand`] whose output columns are `output`.
    fn lower_mv_expand(&self, op: &CheckedOp, output: &[crate::sema::Column]) -> Op {
        let CheckedOp::MvExpand {
            items,
            limit,
            item_index,
            bag_as_array,
        } = op
        else {
            return Op::Take(u64::MAX);
        };
        Op::MvExpand {
            conversions: items
                .iter()
                .map(|(i, _)| output.get(*i).and_then(|c| FunctionId::conversion(c.ty)))
                .collect(),
            items: items.iter().map(|(i, e)| (*i, self.lower(e))).collect(),
            limit: *limit,
            item_index: *item_index,
            bag_as_array: *bag_as_array,
        }
    }

    /// Lowers a sort key.
    fn sort_key(&self, key: &CheckedSortKey) -> ir::SortKey {
        ir::SortKey {
            expr: self.lower(&key.expr),
            descending: key.descending,
            nulls_first: key.nulls_first,
        }
    }

    /// Lowers one typed expression.
    fn lower(&self, expr: &TypedExpr) -> Expr {
        match &expr.kind {
            TypedExprKind::Literal(literal) => Expr::Const(constant(literal)),
            TypedExprKind::Column(i) => Expr::Column(*i, expr.ty),
            TypedExprKind::Member(target, name) => {
                Expr::Member(Box::new(self.lower(target)), name.clone())
            }
            TypedExprKind::Index(target, index) => match &index.kind {
                // `a["b"]` is `a.b`.
                TypedExprKind::Literal(Literal::String(key)) => {
                    Expr::Member(Box::new(self.lower(target)), key.clone())
                }
                _ => Expr::Index(Box::new(self.lower(target)), Box::new(self.lower(index))),
            },
            TypedExprKind::Call(function, args) => {
                let values = args.iter().map(|e| self.lower(e));
                let args = match function.convention {
                    Convention::Refs => values.map(Arg::Value).collect(),
                    Convention::Slice => vec![Arg::Slice(values.collect())],
                    Convention::Context if function.params.len() > function.required => {
                        vec![Arg::Context, Arg::Slice(values.collect())]
                    }
                    Convention::Context => std::iter::once(Arg::Context)
                        .chain(values.map(Arg::Value))
                        .collect(),
                };
                Expr::call(
                    Builtin::Function(FunctionId(function.runtime)),
                    args,
                    expr.ty,
                )
            }
            TypedExprKind::Unary(op, operand) => match op {
                UnaryOp::Neg => {
                    Expr::call(Builtin::Neg, vec![Arg::Value(self.lower(operand))], expr.ty)
                }
                UnaryOp::Plus => self.lower(operand),
            },
            TypedExprKind::Chain(first, steps) => Expr::Fold {
                first: Box::new(self.lower(first)),
                steps: steps
                    .iter()
                    .map(|(op, operand, _)| {
                        let arith = match op {
                            BinaryOp::Add => Arith::Add,
                            BinaryOp::Sub => Arith::Sub,
                            BinaryOp::Mul => Arith::Mul,
                            BinaryOp::Div => Arith::Div,
                            BinaryOp::Mod => Arith::Rem,
                            // The parser chains arithmetic operators only.
                            _ => unreachable!("a chain of {op:?}"),
                        };
                        (arith, self.lower(operand))
                    })
                    .collect(),
                ty: expr.ty,
            },
            TypedExprKind::Binary(op, lhs, rhs) => {
                let (l, r) = (Arg::Value(self.lower(lhs)), Arg::Value(self.lower(rhs)));
                let builtin = match op {
                    BinaryOp::Or => Builtin::Or,
                    BinaryOp::And => Builtin::And,
                    BinaryOp::Eq => Builtin::Compare(Comparison::Eq),
                    BinaryOp::NotEq => Builtin::Compare(Comparison::Ne),
                    BinaryOp::EqCi => Builtin::Compare(Comparison::EqCi),
                    BinaryOp::NotEqCi => Builtin::Compare(Comparison::NeCi),
                    BinaryOp::Lt => Builtin::Compare(Comparison::Lt),
                    BinaryOp::Le => Builtin::Compare(Comparison::Le),
                    BinaryOp::Gt => Builtin::Compare(Comparison::Gt),
                    BinaryOp::Ge => Builtin::Compare(Comparison::Ge),
                    BinaryOp::Add => Builtin::Arith(Arith::Add),
                    BinaryOp::Sub => Builtin::Arith(Arith::Sub),
                    BinaryOp::Mul => Builtin::Arith(Arith::Mul),
                    BinaryOp::Div => Builtin::Arith(Arith::Div),
                    BinaryOp::Mod => Builtin::Arith(Arith::Rem),
                    BinaryOp::Str(string_op) => {
                        let op = match string_op.kind {
                            StringOpKind::Contains => TextOp::Contains,
                            StringOpKind::Has => TextOp::Has,
                            StringOpKind::HasPrefix => TextOp::HasPrefix,
                            StringOpKind::HasSuffix => TextOp::HasSuffix,
                            StringOpKind::StartsWith => TextOp::StartsWith,
                            StringOpKind::EndsWith => TextOp::EndsWith,
                            StringOpKind::MatchesRegex => {
                                return test(Builtin::MatchesRegex, vec![l, r]);
                            }
                        };
                        let test = test(
                            Builtin::Text {
                                op,
                                case_sensitive: string_op.case_sensitive,
                            },
                            vec![l, r],
                        );
                        return if string_op.negated {
                            Expr::negated(test)
                        } else {
                            test
                        };
                    }
                };
                Expr::call(builtin, vec![l, r], expr.ty)
            }
            TypedExprKind::Subquery { query, column } => Expr::Subquery {
                id: {
                    self.subqueries.set(self.subqueries.get() + 1);
                    self.subqueries.get()
                },
                pipeline: Box::new(self.plan_query(query)),
                column: *column,
                ty: expr.ty,
            },
            // `x in (T)`: looked up in an index of T's values, not compared
            // with each.
            TypedExprKind::List(op, value, items)
                if matches!(
                    op,
                    ListOp::In | ListOp::NotIn | ListOp::InCi | ListOp::NotInCi
                ) && matches!(
                    items[..],
                    [TypedExpr {
                        kind: TypedExprKind::Subquery { column: true, .. },
                        ..
                    }]
                ) =>
            {
                let test = test(
                    Builtin::InSet {
                        case_insensitive: matches!(op, ListOp::InCi | ListOp::NotInCi),
                    },
                    vec![
                        Arg::Value(self.lower(value)),
                        Arg::Set(self.lower(&items[0])),
                    ],
                );
                if matches!(op, ListOp::NotIn | ListOp::NotInCi) {
                    Expr::negated(test)
                } else {
                    test
                }
            }
            // A long list of scalar constants: one static index, built once.
            TypedExprKind::List(op, value, items)
                if matches!(
                    op,
                    ListOp::In | ListOp::NotIn | ListOp::InCi | ListOp::NotInCi
                ) && items.len() >= CONST_SET_MIN_ITEMS
                    && items.iter().all(|item| scalar_constant(&self.lower(item))) =>
            {
                let constants = items
                    .iter()
                    .filter_map(|item| match self.lower(item) {
                        Expr::Const(c) => Some(c),
                        _ => None,
                    })
                    .collect();
                let test = test(
                    Builtin::InSet {
                        case_insensitive: matches!(op, ListOp::InCi | ListOp::NotInCi),
                    },
                    vec![
                        Arg::Value(self.lower(value)),
                        Arg::Set(Expr::ConstSet(constants)),
                    ],
                );
                if matches!(op, ListOp::NotIn | ListOp::NotInCi) {
                    Expr::negated(test)
                } else {
                    test
                }
            }
            TypedExprKind::List(op, value, items) => {
                let value = Arg::Value(self.lower(value));
                let items = Arg::Slice(items.iter().map(|e| self.lower(e)).collect());
                let in_list = |case_insensitive| Builtin::InList { case_insensitive };
                match op {
                    ListOp::In => test(in_list(false), vec![value, items]),
                    ListOp::NotIn => Expr::negated(test(in_list(false), vec![value, items])),
                    ListOp::InCi => test(in_list(true), vec![value, items]),
                    ListOp::NotInCi => Expr::negated(test(in_list(true), vec![value, items])),
                    ListOp::HasAny => test(Builtin::HasAny, vec![value, items]),
                    ListOp::HasAll => test(Builtin::HasAll, vec![value, items]),
                }
            }
            TypedExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                let test = test(
                    Builtin::Between,
                    vec![
                        Arg::Value(self.lower(expr)),
                        Arg::Value(self.lower(low)),
                        Arg::Value(self.lower(high)),
                    ],
                );
                if *negated {
                    Expr::negated(test)
                } else {
                    test
                }
            }
        }
    }
}

/// The input columns the pipeline reads: those its expressions use, and those
/// that reach the output unchanged.
fn used_input_columns(width: usize, stages: &[Stage], output_width: usize) -> Vec<usize> {
    // origin[i]: the input column that position i of the current row still holds.
    let mut origin: Vec<Option<usize>> = (0..width).map(Some).collect();
    let mut used = vec![false; width];
    let mut joined: Vec<usize> = Vec::new();
    let mut mark = |expr: &Expr, origin: &[Option<usize>]| {
        visit_columns(expr, &mut |i| {
            if let Some(Some(k)) = origin.get(i) {
                used[*k] = true;
            }
        })
    };
    for stage in stages {
        match &stage.op {
            Op::Filter(e) => mark(e, &origin),
            Op::Window(items) => {
                for (position, window) in items {
                    for e in &window.args {
                        mark(e, &origin);
                    }
                    if *position < origin.len() {
                        origin[*position] = None;
                    } else {
                        origin.push(None);
                    }
                }
            }
            Op::Extend(items) | Op::MvExpand { items, .. } => {
                for (position, e) in items {
                    mark(e, &origin);
                    if *position < origin.len() {
                        origin[*position] = None;
                    } else {
                        origin.push(None);
                    }
                }
            }
            Op::Project(values) => {
                for e in values {
                    mark(e, &origin);
                }
                origin = values
                    .iter()
                    .map(|e| match e {
                        Expr::Column(i, _) => origin.get(*i).copied().flatten(),
                        _ => None,
                    })
                    .collect();
            }
            Op::Select(indices) => {
                origin = indices
                    .iter()
                    .map(|&i| origin.get(i).copied().flatten())
                    .collect();
            }
            Op::Take(_) | Op::Sample(_) => {}
            // Conditions read the steps' copies of every column, which
            // also reach the output.
            Op::Scan(scan) => {
                joined.extend(origin.iter().flatten());
                let added = scan.defaults.len() + usize::from(scan.match_id);
                origin.extend(std::iter::repeat_n(None, added));
            }
            Op::Count => origin.clear(),
            Op::MakeSeries(series) => {
                for e in series.expressions() {
                    mark(e, &origin);
                }
                origin.clear();
            }
            Op::Summarize { keys, aggregates } => {
                for e in keys {
                    mark(e, &origin);
                }
                for a in aggregates {
                    for e in a
                        .value
                        .iter()
                        .chain(&a.predicate)
                        .chain(&a.parameter)
                        .chain(&a.carried)
                    {
                        mark(e, &origin);
                    }
                }
                origin.clear();
            }
            Op::Sort { keys, .. } => {
                for key in keys {
                    mark(&key.expr, &origin);
                }
            }
            Op::Distinct(columns) => {
                origin = columns
                    .iter()
                    .map(|&i| origin.get(i).copied().flatten())
                    .collect();
            }
            Op::Parse { expr, targets, .. } => {
                mark(expr, &origin);
                for (position, _) in targets {
                    if *position < origin.len() {
                        origin[*position] = None;
                    } else {
                        origin.push(None);
                    }
                }
            }
            // The left rows' columns all reach the output (or decide matches).
            Op::Join { .. } | Op::Union { .. } | Op::Graph(_) => {
                joined.extend(origin.drain(..).flatten())
            }
            // The key, and what the subquery reads of (or passes on from)
            // the partition's rows, which have the input's columns.
            Op::Partition { key, sub, .. } => {
                if let Some(Some(k)) = origin.get(*key) {
                    joined.push(*k);
                }
                for j in used_input_columns(origin.len(), &sub.stages, sub.output.len()) {
                    if let Some(Some(k)) = origin.get(j) {
                        joined.push(*k);
                    }
                }
                origin = vec![None; sub.output.len()];
            }
            Op::TopNested(levels) => {
                for level in levels {
                    mark(&level.key, &origin);
                    let a = &level.aggregate;
                    for e in a.value.iter().chain(&a.parameter).chain(&a.carried) {
                        mark(e, &origin);
                    }
                }
                origin.clear();
            }
            Op::ConstantRows(_) => origin.clear(),
            Op::MvApply {
                expand,
                sub,
                layout,
            } => {
                if let Op::MvExpand { items, .. } = expand.as_ref() {
                    for (_, e) in items {
                        mark(e, &origin);
                    }
                }
                // What the subquery reads of the subtable's first columns
                // (the input row's) is read from the input.
                let sub_width = match &sub.input {
                    Input::Rows { columns, .. } => columns.len(),
                    _ => 0,
                };
                for j in used_input_columns(sub_width, &sub.stages, sub.output.len()) {
                    if let Some(Some(k)) = origin.get(j) {
                        joined.push(*k);
                    }
                }
                origin = layout
                    .iter()
                    .map(|column| match column {
                        ir::ApplyColumn::Outer(i) => origin.get(*i).copied().flatten(),
                        ir::ApplyColumn::Sub(_) => None,
                    })
                    .collect();
            }
        }
    }
    for k in origin
        .into_iter()
        .take(output_width)
        .flatten()
        .chain(joined)
    {
        used[k] = true;
    }
    (0..width).filter(|&k| used[k]).collect()
}

/// The positions of a `width`-wide row that `stages` read, or pass on to
/// whatever takes their rows: what a row handed to the first of them must
/// hold (codegen's `mv-expand` copies only these for each element).
pub(crate) fn columns_read(width: usize, stages: &[Stage]) -> Vec<usize> {
    // Every column still held after the last stage reaches its exit.
    used_input_columns(width, stages, usize::MAX)
}

/// Calls `f` with each row position `expr` reads.
pub(crate) fn visit_columns(expr: &Expr, f: &mut dyn FnMut(usize)) {
    match expr {
        Expr::Column(i, _) => f(*i),
        // A sub-query or a constant set reads no column of the row: no
        // operands.
        _ => expr
            .operands()
            .into_iter()
            .for_each(|e| visit_columns(e, f)),
    }
}

/// A call of a test: a builtin whose result is a bool.
fn test(builtin: Builtin, args: Vec<Arg>) -> Expr {
    Expr::call(builtin, args, ScalarType::Bool)
}

/// From this many constants on, an `in` list is a static set
/// ([`Expr::ConstSet`]); shorter lists are compared one by one (as fast,
/// and their literals feed the prefilter).
pub const CONST_SET_MIN_ITEMS: usize = 16;

/// A constant `in~`/`in` compares like any other value of its list: not a
/// dynamic array (which `in` would flatten) and not null.
fn scalar_constant(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Const(
            Const::String(_) | Const::Long(_) | Const::Int(_) | Const::Real(_) | Const::Bool(_)
        )
    )
}

/// The constant a literal denotes.
fn constant(literal: &Literal) -> Const {
    match literal {
        Literal::Bool(b) => Const::Bool(*b),
        Literal::Int(n) => Const::Int(*n),
        Literal::Long(n) => Const::Long(*n),
        Literal::Real(x) => Const::Real(*x),
        Literal::Decimal(d) => Const::Decimal(*d),
        Literal::String(s) => Const::String(s.clone()),
        Literal::DateTime(t) => Const::DateTime(*t),
        Literal::TimeSpan(t) => Const::TimeSpan(*t),
        Literal::Guid(g) => Const::Guid(g.clone()),
        Literal::Dynamic(d) => dynamic_constant(d),
        Literal::Null(_) => Const::Null,
    }
}

fn dynamic_constant(literal: &DynamicLiteral) -> Const {
    match literal {
        DynamicLiteral::Null => Const::Null,
        DynamicLiteral::Scalar(scalar) => constant(scalar),
        DynamicLiteral::Array(items) => Const::Array(items.iter().map(dynamic_constant).collect()),
        DynamicLiteral::Bag(entries) => Const::Bag(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), dynamic_constant(v)))
                .collect(),
        ),
    }
}

/// Whether an aggregate's states over consecutive runs of rows merge into
/// exactly the state one pass gives (see `Aggregate::merge` in the
/// runtime). Floating-point sums (`avg`, `variance`, `sum` of reals) do not
/// (addition is not associative), nor `sum` of timespans (one pass restarts
/// after an overflow), nor `min`/`max` of reals (a NaN first stops one pass
/// but not a merge) or of dynamic values (mixed kinds compare as null).
fn mergeable(aggregate: &crate::sema::CheckedAggregate) -> bool {
    use crate::types::ScalarType as T;
    let total_order = || {
        aggregate.value.as_ref().is_some_and(|v| {
            matches!(
                v.ty,
                T::Bool | T::Int | T::Long | T::String | T::DateTime | T::TimeSpan
            )
        })
    };
    match aggregate.function.runtime {
        "count"
        | "dcount"
        | "hll"
        | "hll_merge"
        | "tdigest"
        | "tdigest_merge"
        | "take_any"
        | "make_set"
        | "make_list"
        | "make_bag"
        | "make_list_with_nulls"
        | "percentile"
        | "percentiles"
        | "percentiles_array" => true,
        "sum" => aggregate_runtime(aggregate) == "sum_long",
        "min" | "max" | "arg_min" | "arg_max" => total_order(),
        _ => false,
    }
}

/// The runtime constructor of an aggregate's state. `sum` starts from a
/// zero of its result type, so no values sum to 0 (the reference's default
/// value); over dynamic values the type is unknown and it starts null.
/// `avg` of decimals keeps an exact decimal sum (`avg_decimal`).
fn aggregate_runtime(aggregate: &crate::sema::CheckedAggregate) -> String {
    let runtime = aggregate.function.runtime;
    let result = aggregate
        .function
        .result_type(aggregate.value.as_ref().map(|v| v.ty));
    if runtime == "avg" && result == crate::types::ScalarType::Decimal {
        return "avg_decimal".to_string();
    }
    if runtime != "sum" {
        return runtime.to_string();
    }
    match result {
        crate::types::ScalarType::Decimal => "sum_decimal",
        crate::types::ScalarType::Long => "sum_long",
        crate::types::ScalarType::Real => "sum_real",
        crate::types::ScalarType::TimeSpan => "sum_timespan",
        _ => "sum",
    }
    .to_string()
}
