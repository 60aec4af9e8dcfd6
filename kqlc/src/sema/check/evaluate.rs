//! `evaluate PLUGIN(...)`: the plugins kqlc implements, each rewritten into
//! operators it already checks (`bag_unpack` → `extend`/`project`,
//! `narrow` → `serialize` + `mv-expand` + `project`) or into a checked
//! stage (`ipv4_lookup` → a join on IPv4 ranges). Any other plugin is a
//! located "not supported yet".
//!
//! `bag_unpack` without an output schema makes the row "open": its output
//! columns depend on the data. The rewrite keeps the unpacked bag in a
//! hidden column (named by `open_column_name`); a name that is no column
//! of the row resolves to that bag's member (`dynamic`, null when absent,
//! `Checker::open_slot`), and the rows that reach the output carry the
//! bag's members as columns of their own (`docs/semantics.md`).

use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::sema::{CheckedOp, CheckedQuery, CheckedStage, Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{
    self, Argument, ColumnPattern, DynamicLiteral, Expr, ExprKind, Ident, Literal, NamedExpr,
    Operator, OperatorKind, Source, Span, TabularExpr,
};
use crate::types::ScalarType;

/// The first character of a hidden open-bag column's name (no KQL name can
/// hold it). The runtime's row writer knows the same form
/// (`kql_runtime::value::open_bag_prefix`).
const OPEN_MARK: char = '\u{0}';

/// The name of the `n`th hidden open-bag column of a row, whose members
/// become columns named `prefix` + key: `\0bag_unpack#N\0PREFIX`.
pub(crate) fn open_column_name(n: usize, prefix: &str) -> String {
    format!("{OPEN_MARK}bag_unpack#{n}{OPEN_MARK}{prefix}")
}

/// The prefix of a hidden open-bag column's members, if `name` is one.
pub(crate) fn open_column_prefix(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(OPEN_MARK)?;
    Some(rest.split_once(OPEN_MARK)?.1)
}

/// `columnsConflict`: what happens when an unpacked slot has the name of an
/// input column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conflict {
    Error,
    ReplaceSource,
    KeepSource,
}

/// The plugins kqlc implements (for the "did you mean" of others).
const PLUGINS: &[&str] = &["bag_unpack", "ipv4_lookup", "narrow", "pivot"];

/// The aggregates `pivot` takes (pivot-plugin.md).
const PIVOT_AGGREGATES: &[&str] = &[
    "min",
    "max",
    "take_any",
    "sum",
    "dcount",
    "avg",
    "stdev",
    "variance",
    "make_list",
    "make_bag",
    "make_set",
    "count",
];

pub(super) fn ident(name: &str, span: Span) -> Ident {
    Ident {
        name: name.to_string(),
        span,
    }
}

pub(super) fn name_expr(name: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Name(ident(name, span)),
        span,
    }
}

pub(super) fn string_expr(text: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Literal(Literal::String(text.to_string())),
        span,
    }
}

pub(super) fn call_expr(function: &str, args: Vec<Expr>, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Call {
            name: ident(function, span),
            args,
        },
        span,
    }
}

pub(super) fn index_expr(target: Expr, index: Expr, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Index {
            target: Box::new(target),
            index: Box::new(index),
        },
        span,
    }
}

pub(super) fn named(name: &str, expr: Expr) -> NamedExpr {
    NamedExpr {
        name: Some(ident(name, expr.span)),
        more_names: Vec::new(),
        expr,
    }
}

/// `value` converted to `ty` as an output schema declares it.
pub(super) fn converted(value: Expr, ty: ScalarType, span: Span) -> Expr {
    match ty {
        ScalarType::Dynamic => value,
        _ => call_expr(&format!("to{ty}"), vec![value], span),
    }
}

impl Checker<'_> {
    /// `query | evaluate PLUGIN(...)`.
    pub(super) fn evaluate(
        &mut self,
        query: CheckedQuery,
        operator: &Operator,
        evaluate: &ast::Evaluate,
    ) -> CheckedQuery {
        let plugin = &evaluate.call.name;
        match plugin.name.as_str() {
            "bag_unpack" => return self.bag_unpack(query, operator.span, evaluate),
            "ipv4_lookup" | "narrow" if evaluate.schema.is_some() => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "an output schema after '{}' is not supported yet",
                            plugin.name
                        ),
                        operator.span,
                    )
                    .with_label("the plugin's own columns are used")
                    .with_help("remove `: (...)`"),
                );
            }
            "ipv4_lookup" => return self.ipv4_lookup(query, operator, evaluate),
            "pivot" => return self.pivot(query, operator.span, evaluate),
            "narrow" => return self.narrow(query, operator.span, evaluate),
            _ => {
                let mut diagnostic = Diagnostic::new(
                    Code::Unsupported,
                    format!("plugin '{}' is not supported yet", plugin.name),
                    plugin.span,
                )
                .with_label("valid KQL that kqlc cannot compile yet")
                .with_note(format!(
                    "kqlc implements the plugins {}",
                    PLUGINS.join(", ")
                ));
                if let Some(best) = crate::diag::closest_name(&plugin.name, PLUGINS.iter().copied())
                {
                    diagnostic = diagnostic.with_help(format!("did you mean '{best}'?"));
                }
                self.error(diagnostic);
            }
        }
        query
    }

    /// Pushes operators written by a rewrite, located at the `evaluate`.
    fn push_rewritten(
        &mut self,
        mut query: CheckedQuery,
        span: Span,
        kinds: Vec<OperatorKind>,
    ) -> CheckedQuery {
        for kind in kinds {
            query = self.push_operator(query, &Operator { kind, span });
        }
        query
    }

    /// The plugin's arguments: positional ones in order, named ones by
    /// name (lowercase).
    fn plugin_args<'e>(
        &mut self,
        call: &'e ast::Call,
    ) -> (Vec<&'e Argument>, Vec<(String, &'e Expr, Span)>) {
        let mut positional = Vec::new();
        let mut named_args = Vec::new();
        for arg in &call.args {
            match arg {
                Argument::Scalar(Expr {
                    kind: ExprKind::NamedArgument { name, value },
                    span,
                }) => named_args.push((name.name.to_ascii_lowercase(), value.as_ref(), *span)),
                other => positional.push(other),
            }
        }
        (positional, named_args)
    }

    /// A constant string argument.
    fn constant_string(&mut self, expr: &Expr, what: &str) -> Option<String> {
        match self.expr(expr, &[]).kind {
            TypedExprKind::Literal(Literal::String(text)) => Some(text),
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("{what} needs a constant string"),
                        expr.span,
                    )
                    .with_label("not a string literal"),
                );
                None
            }
        }
    }

    fn plugin_arity(&mut self, call: &ast::Call, message: String) {
        self.error(
            Diagnostic::new(Code::WrongArgumentCount, message, call.span)
                .with_label("wrong arguments"),
        );
    }

    /// `bag_unpack(COL [, PREFIX] [, columnsConflict] [, ignoredProperties])
    /// [: (SCHEMA)]`.
    fn bag_unpack(
        &mut self,
        query: CheckedQuery,
        span: Span,
        evaluate: &ast::Evaluate,
    ) -> CheckedQuery {
        let call = &evaluate.call;
        let (positional, named_args) = self.plugin_args(call);
        let Some(Argument::Scalar(column)) = positional.first().copied() else {
            self.plugin_arity(
                call,
                "bag_unpack needs the dynamic column to unpack as its first argument".into(),
            );
            return query;
        };
        let mut prefix = String::new();
        let mut conflict = Conflict::Error;
        let mut ignored: Vec<String> = Vec::new();
        let mut options: Vec<(&str, &Expr)> = Vec::new();
        for (i, arg) in positional.iter().enumerate().skip(1) {
            let name = match i {
                1 => "outputcolumnprefix",
                2 => "columnsconflict",
                3 => "ignoredproperties",
                _ => {
                    self.plugin_arity(call, "bag_unpack takes at most 4 arguments".into());
                    return query;
                }
            };
            match arg {
                Argument::Scalar(expr) => options.push((name, expr)),
                Argument::Tabular(t) => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            "bag_unpack takes no tabular argument",
                            t.span,
                        )
                        .with_label("a table here"),
                    );
                    return query;
                }
            }
        }
        for (name, value, arg_span) in &named_args {
            match name.as_str() {
                "outputcolumnprefix" | "columnsconflict" | "ignoredproperties" => {
                    options.push((name.as_str(), value))
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("bag_unpack has no argument '{name}'"),
                            *arg_span,
                        )
                        .with_label("unknown argument")
                        .with_help("its named arguments are columnsConflict and ignoredProperties"),
                    );
                    return query;
                }
            }
        }
        for (name, value) in options {
            match name {
                "outputcolumnprefix" => {
                    prefix = self
                        .constant_string(value, "bag_unpack's prefix")
                        .unwrap_or_default()
                }
                "columnsconflict" => {
                    let Some(text) = self.constant_string(value, "columnsConflict") else {
                        continue;
                    };
                    conflict = match text.as_str() {
                        "error" => Conflict::Error,
                        "replace_source" => Conflict::ReplaceSource,
                        "keep_source" => Conflict::KeepSource,
                        _ => {
                            self.error(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    format!("columnsConflict '{text}' is not one of error, replace_source, keep_source"),
                                    value.span,
                                )
                                .with_label("unknown value"),
                            );
                            continue;
                        }
                    }
                }
                _ => ignored = self.ignored_properties(value),
            }
        }
        let input = query.output.clone();
        let typed = self.expr(column, &input);
        if typed.ty != ScalarType::Dynamic {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("bag_unpack needs a dynamic column, found {}", typed.ty),
                    column.span,
                )
                .with_label(format!("of type {}", typed.ty))
                .with_help("unpack `parse_json(...)` of it"),
            );
            return query;
        }
        // The unpacked column leaves the row (when it is one).
        let source_column = match &column.kind {
            ExprKind::Name(name) if input.iter().any(|c| c.name == name.name) => {
                Some(name.name.clone())
            }
            _ => None,
        };
        let kept: Vec<&Column> = input
            .iter()
            .filter(|c| Some(&c.name) != source_column.as_ref())
            .collect();
        match &evaluate.schema {
            Some(schema) => {
                let items =
                    self.declared_unpack(schema, column, &kept, &prefix, conflict, &ignored, span);
                match items {
                    Some(items) => {
                        self.push_rewritten(query, span, vec![OperatorKind::Project(items)])
                    }
                    None => query,
                }
            }
            None => {
                let mut removed: Vec<Expr> = ignored.iter().map(|k| string_expr(k, span)).collect();
                let mut away: Vec<ColumnPattern> = source_column
                    .iter()
                    .map(|name| ColumnPattern {
                        name: ident(name, span),
                        wildcard: false,
                    })
                    .collect();
                for c in &kept {
                    let Some(key) = c.name.strip_prefix(prefix.as_str()) else {
                        continue;
                    };
                    if open_column_prefix(&c.name).is_some() {
                        continue;
                    }
                    match conflict {
                        // The input column stays; the slot is dropped (with
                        // `error` too: kqlc cannot know before the data
                        // whether a bag holds the slot; docs/semantics.md).
                        Conflict::Error | Conflict::KeepSource => {
                            removed.push(string_expr(key, span))
                        }
                        Conflict::ReplaceSource => away.push(ColumnPattern {
                            name: ident(&c.name, span),
                            wildcard: false,
                        }),
                    }
                }
                let n = input
                    .iter()
                    .filter_map(|c| open_column_name_index(&c.name))
                    .max()
                    .map_or(0, |last| last + 1);
                let bag = if removed.is_empty() {
                    column.clone()
                } else {
                    call_expr(
                        "bag_remove_keys",
                        vec![column.clone(), call_expr("pack_array", removed, span)],
                        span,
                    )
                };
                let mut kinds = vec![OperatorKind::Extend(vec![named(
                    &open_column_name(n, &prefix),
                    bag,
                )])];
                if !away.is_empty() {
                    kinds.push(OperatorKind::ProjectAway(away));
                }
                self.push_rewritten(query, span, kinds)
            }
        }
    }

    /// `ignoredProperties`: a constant dynamic array of strings.
    fn ignored_properties(&mut self, value: &Expr) -> Vec<String> {
        let typed = self.expr(value, &[]);
        if let TypedExprKind::Literal(Literal::Dynamic(DynamicLiteral::Array(items))) = &typed.kind
        {
            let names: Vec<String> = items
                .iter()
                .filter_map(|item| match item {
                    DynamicLiteral::Scalar(literal) => match literal.as_ref() {
                        Literal::String(text) => Some(text.clone()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            if names.len() == items.len() {
                return names;
            }
        }
        self.error(
            Diagnostic::new(
                Code::TypeMismatch,
                "ignoredProperties needs a constant dynamic array of strings",
                value.span,
            )
            .with_label("not a `dynamic([\"name\", ...])` literal"),
        );
        Vec::new()
    }

    /// The `project` items of `bag_unpack` with an output schema: the kept
    /// input columns (with `*`), then each declared column from the bag,
    /// converted to its type.
    #[allow(clippy::too_many_arguments)]
    fn declared_unpack(
        &mut self,
        schema: &ast::OutputSchema,
        column: &Expr,
        kept: &[&Column],
        prefix: &str,
        conflict: Conflict,
        ignored: &[String],
        span: Span,
    ) -> Option<Vec<NamedExpr>> {
        let mut sources: Vec<&str> = if schema.star {
            kept.iter().map(|c| c.name.as_str()).collect()
        } else {
            Vec::new()
        };
        let mut declared = Vec::new();
        for (name, ty) in &schema.columns {
            if let Some(source) = kept.iter().find(|c| c.name == name.name) {
                match conflict {
                    Conflict::Error if schema.star => {
                        self.error(
                            Diagnostic::new(
                                Code::DuplicateColumn,
                                format!(
                                    "bag_unpack's column '{}' is also an input column",
                                    name.name
                                ),
                                name.span,
                            )
                            .with_label("an input column has this name")
                            .with_help("add columnsConflict='replace_source' or 'keep_source'"),
                        );
                        return None;
                    }
                    Conflict::KeepSource if schema.star => continue,
                    Conflict::ReplaceSource => sources.retain(|s| *s != name.name),
                    // Without `*`, a declared input column is that column.
                    Conflict::Error | Conflict::KeepSource => {
                        declared.push(named(
                            &name.name,
                            converted(name_expr(&source.name, name.span), *ty, name.span),
                        ));
                        continue;
                    }
                }
            }
            let value = match name.name.strip_prefix(prefix) {
                Some(key) if !ignored.iter().any(|i| i == key) => converted(
                    index_expr(column.clone(), string_expr(key, name.span), name.span),
                    *ty,
                    name.span,
                ),
                // KQL strings are never null.
                _ if *ty == ScalarType::String => string_expr("", name.span),
                _ => Expr {
                    kind: ExprKind::Literal(Literal::Null(*ty)),
                    span: name.span,
                },
            };
            declared.push(named(&name.name, value));
        }
        let mut items: Vec<NamedExpr> = sources
            .into_iter()
            .map(|s| NamedExpr {
                name: None,
                more_names: Vec::new(),
                expr: name_expr(s, span),
            })
            .collect();
        items.extend(declared);
        Some(items)
    }

    /// `pivot(COLUMN [, AGGREGATE [, GROUP, ...]]) [: (SCHEMA)]`: one row
    /// per value of the group columns (default: every column that is
    /// neither the pivoted one nor read by the aggregate), with a column
    /// per value of `COLUMN` (as text) holding the aggregate (default
    /// `count()`) of the group's rows with that value. A combination with
    /// no rows holds the aggregate of no rows (0 for `count`, `sum`,
    /// `dcount`, `stdev`, `variance`; `[]`/`{}` for `make_*`; null
    /// otherwise). The value columns depend on the data: without a schema
    /// they are an open row's bag (as `bag_unpack`'s), dynamic.
    ///
    /// Rewritten into: the cells (`summarize` by the groups and the key),
    /// all of them with the bag of every key's empty value (`summarize`
    /// of the whole input), expanded again, each group's bag of cells
    /// merged over that bag.
    fn pivot(&mut self, query: CheckedQuery, span: Span, evaluate: &ast::Evaluate) -> CheckedQuery {
        let call = &evaluate.call;
        let (positional, named_args) = self.plugin_args(call);
        if let Some((name, _, arg_span)) = named_args.first() {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("pivot has no argument '{name}'"),
                    *arg_span,
                )
                .with_label("unknown argument"),
            );
            return query;
        }
        let mut scalars = Vec::new();
        for arg in &positional {
            match arg {
                Argument::Scalar(expr) => scalars.push(expr),
                Argument::Tabular(t) => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            "pivot takes no tabular argument",
                            t.span,
                        )
                        .with_label("a table here"),
                    );
                    return query;
                }
            }
        }
        let Some(pivot) = scalars.first().copied() else {
            self.plugin_arity(
                call,
                "pivot needs the column to pivot as its first argument".into(),
            );
            return query;
        };
        let input = query.output.clone();
        let ExprKind::Name(pivot_name) = &pivot.kind else {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "pivot needs a column name here",
                    pivot.span,
                )
                .with_label("not a column name"),
            );
            return query;
        };
        self.column_index(&input, pivot_name);
        let aggregate = match scalars.get(1) {
            Some(expr) => {
                let known = match &expr.kind {
                    ExprKind::Call { name, .. } => PIVOT_AGGREGATES.contains(&name.name.as_str()),
                    _ => false,
                };
                if !known {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            "pivot's second argument is an aggregation",
                            expr.span,
                        )
                        .with_label("not one of pivot's aggregations")
                        .with_note(format!("pivot takes {}", PIVOT_AGGREGATES.join(", "))),
                    );
                    return query;
                }
                (*expr).clone()
            }
            None => call_expr("count", Vec::new(), span),
        };
        let ExprKind::Call { name: function, .. } = &aggregate.kind else {
            return query;
        };
        let function = function.name.clone();
        let mut groups: Vec<Ident> = Vec::new();
        for expr in scalars.iter().skip(2) {
            match &expr.kind {
                ExprKind::Name(name) => {
                    if self.column_index(&input, name).is_none() {
                        return query;
                    }
                    groups.push(name.clone());
                }
                _ => {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            "pivot needs a column name here",
                            expr.span,
                        )
                        .with_label("not a column name"),
                    );
                    return query;
                }
            }
        }
        if scalars.len() <= 2 {
            let mut read = Vec::new();
            names_in(&aggregate, &mut read);
            groups = input
                .iter()
                .filter(|c| {
                    c.name != pivot_name.name
                        && !read.contains(&c.name)
                        && open_column_prefix(&c.name).is_none()
                })
                .map(|c| ident(&c.name, span))
                .collect();
        }
        let key = "\u{0}pivot_key";
        let cell = "\u{0}pivot_cell";
        let rows = "\u{0}pivot_rows";
        let row = "\u{0}pivot_row";
        let empty = "\u{0}pivot_empty";
        let cells = "\u{0}pivot_cells";
        let group_items = |extra: Vec<NamedExpr>| -> Vec<NamedExpr> {
            let mut items: Vec<NamedExpr> = groups
                .iter()
                .map(|g| named(&g.name, name_expr(&g.name, span)))
                .collect();
            items.extend(extra);
            items
        };
        let query = self.push_rewritten(
            query,
            span,
            vec![OperatorKind::Summarize {
                aggregates: vec![named(cell, aggregate.clone())],
                by: group_items(vec![named(
                    key,
                    call_expr("tostring", vec![pivot.clone()], span),
                )]),
            }],
        );
        let Some(cell_type) = query.output.iter().find(|c| c.name == cell).map(|c| c.ty) else {
            return query;
        };
        let literal = |literal: Literal| Expr {
            kind: ExprKind::Literal(literal),
            span,
        };
        let empty_value = match function.as_str() {
            "count" | "dcount" | "sum" | "stdev" | "variance" => {
                converted(literal(Literal::Long(0)), cell_type, span)
            }
            "make_list" | "make_set" => {
                literal(Literal::Dynamic(DynamicLiteral::Array(Vec::new())))
            }
            "make_bag" => literal(Literal::Dynamic(DynamicLiteral::Bag(Vec::new()))),
            _ => literal(Literal::Null(ScalarType::Dynamic)),
        };
        // A bag per cell, members named by position (`make_list` would
        // spread an array's elements).
        let mut values: Vec<Expr> = groups.iter().map(|g| name_expr(&g.name, span)).collect();
        values.push(name_expr(key, span));
        values.push(name_expr(cell, span));
        let mut packed = Vec::new();
        for (i, value) in values.into_iter().enumerate() {
            packed.push(string_expr(&i.to_string(), span));
            packed.push(value);
        }
        let at = |i: usize| {
            index_expr(
                name_expr(row, span),
                string_expr(&i.to_string(), span),
                span,
            )
        };
        let mut unpacked: Vec<NamedExpr> = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let ty = input
                .iter()
                .find(|c| c.name == g.name)
                .map_or(ScalarType::Dynamic, |c| c.ty);
            unpacked.push(named(&g.name, converted(at(i), ty, span)));
        }
        unpacked.push(named(
            key,
            call_expr("tostring", vec![at(groups.len())], span),
        ));
        unpacked.push(named(cell, at(groups.len() + 1)));
        unpacked.push(named(empty, name_expr(empty, span)));
        let n = input
            .iter()
            .filter_map(|c| open_column_name_index(&c.name))
            .max()
            .map_or(0, |last| last + 1);
        let bag = open_column_name(n, "");
        let kinds = vec![
            OperatorKind::Summarize {
                aggregates: vec![
                    named(
                        rows,
                        call_expr("make_list", vec![call_expr("bag_pack", packed, span)], span),
                    ),
                    named(
                        empty,
                        call_expr(
                            "make_bag",
                            vec![call_expr(
                                "bag_pack",
                                vec![name_expr(key, span), empty_value],
                                span,
                            )],
                            span,
                        ),
                    ),
                ],
                by: Vec::new(),
            },
            OperatorKind::MvExpand(ast::MvExpand {
                items: vec![ast::MvExpandItem {
                    name: Some(ident(row, span)),
                    expr: name_expr(rows, span),
                    to_type: None,
                }],
                limit: None,
                item_index: None,
                bag_as_array: false,
            }),
            OperatorKind::Where(call_expr("isnotnull", vec![name_expr(row, span)], span)),
            OperatorKind::Project(unpacked),
            OperatorKind::Summarize {
                aggregates: vec![
                    named(
                        cells,
                        call_expr(
                            "make_bag",
                            vec![call_expr(
                                "bag_pack",
                                vec![name_expr(key, span), name_expr(cell, span)],
                                span,
                            )],
                            span,
                        ),
                    ),
                    named(
                        empty,
                        call_expr("take_any", vec![name_expr(empty, span)], span),
                    ),
                ],
                by: group_items(Vec::new()),
            },
            OperatorKind::Project(group_items(vec![named(
                &bag,
                call_expr(
                    "bag_merge",
                    vec![name_expr(cells, span), name_expr(empty, span)],
                    span,
                ),
            )])),
        ];
        let query = self.push_rewritten(query, span, kinds);
        let Some(schema) = &evaluate.schema else {
            return query;
        };
        // The declared columns: a group column as itself, any other from
        // the bag (absent from every row: the aggregate of no rows).
        let mut items = Vec::new();
        for (name, ty) in &schema.columns {
            let value = if groups.iter().any(|g| g.name == name.name) {
                name_expr(&name.name, name.span)
            } else {
                let empty_value = match function.as_str() {
                    "count" | "dcount" | "sum" | "stdev" | "variance" => literal(Literal::Long(0)),
                    _ => literal(Literal::Null(ScalarType::Dynamic)),
                };
                call_expr(
                    "coalesce",
                    vec![
                        index_expr(
                            name_expr(&bag, name.span),
                            string_expr(&name.name, name.span),
                            name.span,
                        ),
                        call_expr("todynamic", vec![empty_value], name.span),
                    ],
                    name.span,
                )
            };
            items.push(named(&name.name, converted(value, *ty, name.span)));
        }
        self.push_rewritten(query, span, vec![OperatorKind::Project(items)])
    }

    /// `narrow()`: one row per input cell: `Row` (the input row's number
    /// from 0), `Column` (its name), `Value` (`tostring` of the value).
    fn narrow(
        &mut self,
        query: CheckedQuery,
        span: Span,
        evaluate: &ast::Evaluate,
    ) -> CheckedQuery {
        if !evaluate.call.args.is_empty() {
            self.plugin_arity(&evaluate.call, "narrow takes no arguments".into());
            return query;
        }
        let row = "\u{0}narrow_row";
        let cells = "\u{0}narrow_cells";
        let pairs: Vec<Expr> = query
            .output
            .iter()
            .filter(|c| open_column_prefix(&c.name).is_none())
            .map(|c| {
                call_expr(
                    "pack_array",
                    vec![
                        string_expr(&c.name, span),
                        call_expr("tostring", vec![name_expr(&c.name, span)], span),
                    ],
                    span,
                )
            })
            .collect();
        let cell = |i: i64| {
            call_expr(
                "tostring",
                vec![index_expr(
                    name_expr(cells, span),
                    Expr {
                        kind: ExprKind::Literal(Literal::Long(i)),
                        span,
                    },
                    span,
                )],
                span,
            )
        };
        // `serialize` written as the `extend` it desugars to: this
        // rewrite happens in the checker, after the desugar pass.
        let kinds = vec![
            OperatorKind::Extend(vec![named(
                row,
                call_expr(
                    "row_number",
                    vec![Expr {
                        kind: ExprKind::Literal(Literal::Long(0)),
                        span,
                    }],
                    span,
                ),
            )]),
            OperatorKind::Extend(vec![named(cells, call_expr("pack_array", pairs, span))]),
            OperatorKind::MvExpand(ast::MvExpand {
                items: vec![ast::MvExpandItem {
                    name: None,
                    expr: name_expr(cells, span),
                    to_type: None,
                }],
                limit: None,
                item_index: None,
                bag_as_array: false,
            }),
            OperatorKind::Project(vec![
                named("Row", name_expr(row, span)),
                named("Column", cell(0)),
                named("Value", cell(1)),
            ]),
        ];
        self.push_rewritten(query, span, kinds)
    }

    /// `ipv4_lookup(TABLE, SOURCE_COLUMN, RANGE_COLUMN [, return_unmatched
    /// = BOOL])`: a lookup join whose keys match when the range holds the
    /// address.
    fn ipv4_lookup(
        &mut self,
        mut query: CheckedQuery,
        operator: &Operator,
        evaluate: &ast::Evaluate,
    ) -> CheckedQuery {
        let call = &evaluate.call;
        let (positional, named_args) = self.plugin_args(call);
        if !(3..=4).contains(&positional.len()) {
            self.plugin_arity(
                call,
                "ipv4_lookup takes a table, the address column, the range column and an optional return_unmatched".into(),
            );
            return query;
        }
        let mut unmatched_arg: Option<&Expr> = positional.get(3).and_then(|arg| match arg {
            Argument::Scalar(expr) => Some(expr),
            Argument::Tabular(_) => None,
        });
        for (name, value, arg_span) in &named_args {
            if name == "return_unmatched" {
                unmatched_arg = Some(*value);
            } else {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("ipv4_lookup has no argument '{name}'"),
                        *arg_span,
                    )
                    .with_label("unknown argument")
                    .with_help("its named argument is return_unmatched"),
                );
                return query;
            }
        }
        let return_unmatched = match unmatched_arg.map(|e| (self.expr(e, &[]).kind, e.span)) {
            None => false,
            Some((TypedExprKind::Literal(Literal::Bool(b)), _)) => b,
            Some((_, arg_span)) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "return_unmatched needs a constant bool",
                        arg_span,
                    )
                    .with_label("not `true` or `false`"),
                );
                return query;
            }
        };
        let table = match positional[0] {
            Argument::Tabular(tabular) => tabular.clone(),
            Argument::Scalar(Expr {
                kind: ExprKind::Name(name),
                span,
            }) => TabularExpr {
                source: Source::Named(name.clone()),
                operators: Vec::new(),
                span: *span,
            },
            Argument::Scalar(expr) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "ipv4_lookup needs a table as its first argument",
                        expr.span,
                    )
                    .with_label("not a table"),
                );
                return query;
            }
        };
        let right = self.tabular(&table);
        let input = query.output.clone();
        let key = |checker: &mut Self, arg: &Argument, columns: &[Column]| -> Option<usize> {
            match arg {
                Argument::Scalar(Expr {
                    kind: ExprKind::Name(name),
                    ..
                }) => {
                    let i = checker.column_index(columns, name)?;
                    if !matches!(columns[i].ty, ScalarType::String | ScalarType::Dynamic) {
                        checker.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "ipv4_lookup needs a string column of IPv4 addresses, found {}",
                                    columns[i].ty
                                ),
                                name.span,
                            )
                            .with_label(format!("of type {}", columns[i].ty)),
                        );
                    }
                    Some(i)
                }
                Argument::Scalar(expr) => {
                    checker.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            "ipv4_lookup needs a column name here",
                            expr.span,
                        )
                        .with_label("not a column name"),
                    );
                    None
                }
                Argument::Tabular(t) => {
                    checker.error(
                        Diagnostic::new(Code::TypeMismatch, "a column name is expected", t.span)
                            .with_label("a table here"),
                    );
                    None
                }
            }
        };
        let left_key = key(self, positional[1], &input);
        let right_key = key(self, positional[2], &right.output);
        let (Some(left_key), Some(right_key)) = (left_key, right_key) else {
            return query;
        };
        self.check_single_table(&right);
        let mut output = input.clone();
        let mut right_columns = Vec::new();
        for (i, column) in right.output.iter().enumerate() {
            let name = super::unique_name(&output, &column.name);
            right_columns.push(i);
            output.push(Column::new(name, column.ty));
        }
        let kind = if return_unmatched {
            ast::JoinKind::LeftOuter
        } else {
            ast::JoinKind::Inner
        };
        query.stages.push(CheckedStage {
            op: CheckedOp::Join {
                kind,
                right: Box::new(right),
                left_keys: vec![left_key],
                right_keys: vec![right_key],
                right_columns,
                ipv4_range: true,
            },
            text: self.text(operator.span),
            input,
            output: output.clone(),
        });
        query.output = output;
        query
    }

    /// A name that is no column of the row, read from the row's open bags
    /// (`bag_unpack` without an output schema): the member of the newest
    /// bag that has it, as `dynamic` (null when none has it).
    pub(super) fn open_slot(
        &self,
        columns: &[Column],
        name: &str,
        span: Span,
    ) -> Option<TypedExpr> {
        let members: Vec<TypedExpr> = columns
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, c)| {
                let key = name.strip_prefix(open_column_prefix(&c.name)?)?;
                Some(TypedExpr {
                    kind: TypedExprKind::Member(
                        Box::new(TypedExpr {
                            kind: TypedExprKind::Column(i),
                            ty: ScalarType::Dynamic,
                            span,
                        }),
                        key.to_string(),
                    ),
                    ty: ScalarType::Dynamic,
                    span,
                })
            })
            .collect();
        match members.len() {
            0 => None,
            1 => members.into_iter().next(),
            _ => Some(TypedExpr {
                kind: TypedExprKind::Call(crate::sema::functions::lookup("coalesce")?, members),
                ty: ScalarType::Dynamic,
                span,
            }),
        }
    }
}

/// The names `expr` reads (columns, for `pivot`'s default groups).
fn names_in(expr: &Expr, names: &mut Vec<String>) {
    match &expr.kind {
        ExprKind::Name(name) => names.push(name.name.clone()),
        ExprKind::Call { args, .. } => args.iter().for_each(|a| names_in(a, names)),
        ExprKind::Binary { lhs, rhs, .. } => {
            names_in(lhs, names);
            names_in(rhs, names);
        }
        ExprKind::Unary { operand, .. } => names_in(operand, names),
        ExprKind::Member { target, .. } => names_in(target, names),
        ExprKind::Index { target, index } => {
            names_in(target, names);
            names_in(index, names);
        }
        _ => {}
    }
}

/// The number of a hidden open-bag column, if `name` is one.
fn open_column_name_index(name: &str) -> Option<usize> {
    let rest = name.strip_prefix(OPEN_MARK)?.strip_prefix("bag_unpack#")?;
    rest.split_once(OPEN_MARK)?.0.parse().ok()
}
