//! `summarize`, `make-series` and the aggregates they call.

use super::operators::MULTI_COLUMN_FUNCTIONS;
use super::{unique_name, Checker};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::sema::aggregates::{self, Shape};
use crate::sema::functions::{self};
use crate::sema::names::{default_name, item_name};
use crate::sema::{CheckedAggregate, CheckedOp, Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{self, DynamicLiteral, Expr, ExprKind, Ident, Literal, Span};
use crate::types::ScalarType;

impl Checker<'_> {
    /// `summarize`: the group keys' columns, then each aggregate's.
    pub(super) fn summarize(
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
    pub(super) fn item_columns(
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
        if let ExprKind::Call { name, args } = &item.expr.kind {
            if sorts_arrays(&name.name) {
                return self.sorted_array_columns(item, args, scope, unnamed);
            }
        }
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

    /// `array_sort_asc`/`array_sort_desc` in `extend`/`project`: a column
    /// per array argument (array-sort-asc-function.md). The names written
    /// (`x = ...` or `(x, y) = ...`) name the first columns; the others are
    /// `ARG_sorted` after the argument's name, else `arrayK_sorted` (K the
    /// argument's position from 0), as Microsoft's parser names them. One
    /// array without a name it can take keeps the usual default name.
    fn sorted_array_columns(
        &mut self,
        item: &ast::NamedExpr,
        args: &[Expr],
        scope: &[Column],
        unnamed: &mut usize,
    ) -> Vec<(String, TypedExpr, Span)> {
        let call = self.expr(&item.expr, scope);
        // The checker makes `nulls_last` the last argument.
        let arrays = match &call.kind {
            TypedExprKind::Call(_, typed) => typed.len().saturating_sub(1),
            _ => 1,
        };
        let names: Vec<&Ident> = item.name.iter().chain(&item.more_names).collect();
        let default = |k: usize| {
            args.get(k)
                .and_then(default_name)
                .map(|name| format!("{name}_sorted"))
        };
        if arrays < 2 {
            if let Some(extra) = names.get(1) {
                self.error(
                    Diagnostic::new(
                        Code::WrongArgumentCount,
                        format!("{} names for the 1 column of a one-array sort", names.len()),
                        extra.span,
                    )
                    .with_label("no column left for this name"),
                );
            }
            let (name, span) = match (names.first(), default(0)) {
                (Some(name), _) => (name.name.clone(), name.span),
                (None, Some(name)) => (name, item.expr.span),
                (None, None) => (item_name(item, unnamed), item.expr.span),
            };
            return vec![(name, call, span)];
        }
        if let Some(extra) = names.get(arrays) {
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!("{} names for the {arrays} sorted arrays", names.len()),
                    extra.span,
                )
                .with_label("no array left for this name"),
            );
        }
        (0..arrays)
            .map(|k| {
                let (name, span) = match names.get(k) {
                    Some(name) => (name.name.clone(), name.span),
                    None => (
                        default(k).unwrap_or_else(|| format!("array{k}_sorted")),
                        item.expr.span,
                    ),
                };
                let index = TypedExpr {
                    kind: TypedExprKind::Literal(Literal::Long(k as i64)),
                    ty: ScalarType::Long,
                    span: item.expr.span,
                };
                let value = TypedExpr {
                    kind: TypedExprKind::Index(Box::new(call.clone()), Box::new(index)),
                    ty: ScalarType::Dynamic,
                    span: item.expr.span,
                };
                (name, value, span)
            })
            .collect()
    }

    /// `make-series`: the aggregates and groups are named as `summarize`
    /// names them; the aggregates' columns and the axis column are dynamic
    /// arrays (make-series-operator.md).
    pub(super) fn make_series(
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
            CheckedOp::MakeSeries(Box::new(crate::sema::CheckedMakeSeries {
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
    pub(super) fn aggregate(
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
                .with_note("expressions over aggregates (`n = 2 * count()`) are supported when named and after every plain aggregate; elsewhere compute them with a later `extend`"),
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
        let several_values = match function.shape {
            Shape::Value => args.len() > 1,
            Shape::ValuePredicate => args.len() > 2,
            _ => false,
        };
        let star = args.iter().any(|a| matches!(a.kind, ExprKind::Star));
        if function.runtime == "take_any" && (several_values || star) {
            // take_any(a, b) and take_any(*) take all values from one row
            // (take-any-aggregation-function.md); one call per value may
            // take them from different rows, so it is no rewrite.
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    format!(
                        "'{}' of {} is not supported yet",
                        function.name,
                        if star { "`*`" } else { "several expressions" }
                    ),
                    expr.span,
                )
                .with_label("takes its values from one row")
                .with_help(format!(
                    "take each value alone (`{0}(a), {0}(b)`), knowing each may come from another row",
                    function.name
                )),
            );
            return None;
        }
        if args.len() < min || max.is_some_and(|max| args.len() > max) {
            let expected = match max {
                Some(max) if max == min => format!("{min}"),
                Some(max) => format!("{min} to {max}"),
                None => format!("at least {min}"),
            };
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "aggregate '{}' takes {expected} argument{}, but {} {} given",
                        function.name,
                        if expected == "1" { "" } else { "s" },
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                    expr.span,
                )
                .with_label(format!(
                    "{} argument{}",
                    args.len(),
                    if args.len() == 1 { "" } else { "s" }
                )),
            );
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
            Shape::ValueWeight => {
                aggregate.value = Some(typed(self, &args[0]));
                aggregate.weight = args.get(1).map(|a| typed(self, a));
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
                    .with_label(format!("of type {}", predicate.ty)),
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
        let percentiles = matches!(
            function.shape,
            Shape::Percentiles { .. } | Shape::ValueWeight
        );
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
                    .with_label(format!("of type {}", value.ty)),
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
                    .with_label(format!("of type {}", weight.ty))
                    .with_help("convert it with tolong(...)"),
                );
            }
        }
    }
}

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

/// `array_sort_asc`/`array_sort_desc`: several arrays in, a column per array
/// out in `extend`, `project` and `print`.
pub(super) fn sorts_arrays(function: &str) -> bool {
    matches!(function, "array_sort_asc" | "array_sort_desc")
}

/// True for an item that may give several columns: a multi-column function
/// (`series_fit_line`...) or an array sort ([`Checker::item_columns`]
/// spreads them).
pub(super) fn spreads_over_columns(item: &ast::NamedExpr) -> bool {
    let ExprKind::Call { name, .. } = &item.expr.kind else {
        return false;
    };
    MULTI_COLUMN_FUNCTIONS.iter().any(|m| m.name == name.name) || sorts_arrays(&name.name)
}
