//! Scalar function calls: arity, argument types and result type from the
//! function table, constant regexes, `column_ifexists`, sub-queries.

use super::operators::MULTI_COLUMN_FUNCTIONS;
use super::windows::WINDOW_FUNCTIONS;
use super::{poisoned, reads_input_table, Checker};
use crate::diag::{closest_name, Code, Diagnostic};
use crate::sema::functions::{self, Accepts, Function, RegexByKind, Returns};
use crate::sema::{CheckedQuery, Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{self, Expr, ExprKind, Ident, Literal, Source, Span, TabularExpr};
use crate::types::ScalarType;

/// The most periods `series_periods_validate` takes (the runtime's
/// `periods::MAX_VALIDATED`).
const MAX_VALIDATED_PERIODS: usize = 16;

impl Checker<'_> {
    pub(super) fn check_constant_regex(&mut self, pattern: &TypedExpr) {
        if let TypedExprKind::Literal(Literal::String(text)) = &pattern.kind {
            self.check_regex_text(text, pattern.span);
        }
    }

    /// A regular expression written at `span` must compile (the one check
    /// behind every constant pattern: functions, `matches regex`, `parse
    /// kind=regex`). `false` when it does not (reported).
    pub(super) fn check_regex_text(&mut self, text: &str, span: Span) -> bool {
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

    /// `series_periods_validate` takes at most `MAX_VALIDATED_PERIODS` periods
    /// (series-periods-validate-function.md): more is an error, not a
    /// silent drop.
    fn check_validated_periods(&mut self, function: &Function, args: &[TypedExpr]) {
        if function.name != "series_periods_validate_dynamic" {
            return;
        }
        if let Some(extra) = args.get(1 + MAX_VALIDATED_PERIODS) {
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "series_periods_validate takes at most {} periods, but {} were given",
                        MAX_VALIDATED_PERIODS,
                        args.len() - 1
                    ),
                    extra.span,
                )
                .with_label("one period too many"),
            );
        }
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
    pub(super) fn table_operand(
        &mut self,
        items: &[Expr],
        columns: &[Column],
    ) -> Option<CheckedQuery> {
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
    pub(super) fn subquery(&mut self, query: CheckedQuery, column: bool, span: Span) -> TypedExpr {
        if reads_input_table(&query, false) {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "a sub-query of `in` or `toscalar` that reads an input table is not supported yet",
                    span,
                )
                .with_label("this sub-query reads the input table")
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

    pub(super) fn call(
        &mut self,
        name: &Ident,
        args: &[Expr],
        columns: &[Column],
        span: Span,
    ) -> TypedExpr {
        // `ingestion_time()` outside a table's rows (`print`, `datatable`,
        // `range`) is null (ingestion-time-function.md).
        if self.no_records && name.name == "ingestion_time" && args.is_empty() {
            return TypedExpr {
                kind: TypedExprKind::Literal(Literal::Null(ScalarType::DateTime)),
                ty: ScalarType::DateTime,
                span,
            };
        }
        // `extract(re, n, s, typeof(T))`, `extract_json(path, s, typeof(T))`,
        // `percentile_tdigest(d, p, typeof(T))`: the result converted to T
        // (null when it does not convert).
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
                "extract_json" | "extractjson" | "percentile_tdigest" => Some(2),
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
            if self.refused_windows.contains(&(span.start, span.end)) {
                return poisoned(span);
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
                .with_label("a row function inside another operator's expression")
                .with_help("compute it with `extend` first"),
            );
            return poisoned(span);
        }
        if name.name == "assert" {
            return self.assert_call(args, columns, span);
        }
        if name.name == "bin_auto" && !self.user_functions.contains_key(&name.name) {
            return self.bin_auto_call(name, args, columns, span);
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
        if name.name == "estimate_data_size" && !self.user_functions.contains_key(&name.name) {
            return self.estimate_data_size_call(args, columns, span);
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
                if let Some(best) = closest_name(
                    &name.name,
                    // `parse-kv` is its operator's rewrite, not callable.
                    functions::FUNCTIONS
                        .iter()
                        .map(|f| f.name)
                        .filter(|n| !n.contains('-')),
                ) {
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
        let mut typed_args = typed_args;
        if super::summarize::sorts_arrays(function.name) {
            self.sort_arrays_args(function.name, &mut typed_args, span);
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
                    .with_label(format!("of type {}", arg.ty))
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
        self.check_validated_periods(function, &typed_args);
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

impl Checker<'_> {
    /// `array_sort_asc`/`array_sort_desc(array1 [, ..., arrayN] [, nulls_last])`
    /// (array-sort-asc-function.md): a trailing `bool` is `nulls_last`, every
    /// other argument an array. The flag is made explicit (`true`, the
    /// default, when not written), so the runtime always finds it last and
    /// never mistakes an array held in a `dynamic` for it.
    fn sort_arrays_args(&mut self, name: &str, args: &mut Vec<TypedExpr>, span: Span) {
        let flagged = args.len() > 1 && args.last().is_some_and(|a| a.ty == ScalarType::Bool);
        let arrays = if flagged { args.len() - 1 } else { args.len() };
        for (i, arg) in args.iter().take(arrays).enumerate() {
            if arg.ty != ScalarType::Dynamic {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "argument {} of '{name}' must be a dynamic array{}, found {}",
                            i + 1,
                            if i == 0 {
                                ""
                            } else {
                                " or, last, the bool nulls_last"
                            },
                            arg.ty
                        ),
                        arg.span,
                    )
                    .with_label(format!("of type {}", arg.ty)),
                );
            }
        }
        if !flagged {
            args.push(TypedExpr {
                kind: TypedExprKind::Literal(Literal::Bool(true)),
                ty: ScalarType::Bool,
                span,
            });
        }
    }
}

impl Checker<'_> {
    /// `estimate_data_size(*)` / `estimate_data_size(a, b, ...)`
    /// (estimate-data-size-function.md): `*` stands for every column of
    /// the row. The runtime sizes each value by its type; a `dynamic`
    /// value is refused here, because the reference gives no size for one
    /// (only that it is larger than its JSON text as a string).
    fn estimate_data_size_call(
        &mut self,
        args: &[Expr],
        columns: &[Column],
        span: Span,
    ) -> TypedExpr {
        let Some(function) = functions::lookup("estimate_data_size") else {
            return poisoned(span);
        };
        if args.is_empty() {
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    "function 'estimate_data_size' takes at least 1 argument, but 0 were given",
                    span,
                )
                .with_help("write `estimate_data_size(*)` for the whole row"),
            );
            return poisoned(span);
        }
        let mut typed = Vec::new();
        for arg in args {
            if matches!(arg.kind, ExprKind::Star) {
                typed.extend(columns.iter().enumerate().map(|(i, c)| TypedExpr {
                    kind: TypedExprKind::Column(i),
                    ty: c.ty,
                    span: arg.span,
                }));
            } else {
                typed.push(self.expr(arg, columns));
            }
        }
        let dynamic = typed.iter().position(|t| t.ty == ScalarType::Dynamic);
        if let Some(i) = dynamic {
            let what = match typed[i].kind {
                TypedExprKind::Column(c) => {
                    format!(
                        "column '{}' is dynamic",
                        columns.get(c).map_or("", |c| &c.name)
                    )
                }
                _ => "a dynamic value".to_string(),
            };
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "estimate_data_size of a dynamic value is not supported yet",
                    typed[i].span,
                )
                .with_label(what)
                .with_note(
                    "the reference gives sizes for scalar types only; a dynamic value's size is Kusto's own",
                )
                .with_help("name the non-dynamic columns: `estimate_data_size(a, b)`"),
            );
            return poisoned(span);
        }
        TypedExpr {
            kind: TypedExprKind::Call(function, typed),
            ty: ScalarType::Long,
            span,
        }
    }

    /// `assert(CONDITION, MESSAGE)` (`assert-function.md`): the condition
    /// must be constant when the query is analysed (literals, `let`s and
    /// function arguments of them); true gives `true`, false is a compile
    /// error with the message, which must be a string literal.
    fn assert_call(&mut self, args: &[Expr], columns: &[Column], span: Span) -> TypedExpr {
        let [condition, message] = args else {
            self.error(
                Diagnostic::new(
                    Code::WrongArgumentCount,
                    format!(
                        "assert takes a condition and a message, found {} arguments",
                        args.len()
                    ),
                    span,
                )
                .with_label("wrong arguments"),
            );
            return poisoned(span);
        };
        let ExprKind::Literal(Literal::String(text)) = &message.kind else {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "assert's message must be a string literal",
                    message.span,
                )
                .with_label("not a string literal"),
            );
            return poisoned(span);
        };
        let typed = self.expr(condition, columns);
        match constant(&typed) {
            Some(Literal::Bool(true)) => TypedExpr {
                kind: TypedExprKind::Literal(Literal::Bool(true)),
                ty: ScalarType::Bool,
                span,
            },
            Some(Literal::Bool(false)) => {
                self.error(
                    Diagnostic::new(
                        Code::AssertionFailed,
                        format!("assert() has failed with message: '{text}'"),
                        condition.span,
                    )
                    .with_label("false"),
                );
                poisoned(span)
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        "assert's condition must be a bool constant when the query is analysed",
                        condition.span,
                    )
                    .with_label("not a constant bool")
                    .with_note("it may use literals, `let`s and function arguments, not columns"),
                );
                poisoned(span)
            }
        }
    }
}

/// The value of a constant expression: literals, comparisons and
/// arithmetic of longs and reals, `and`/`or`/`not`, string equality.
/// `None` when it reads a row or uses anything else.
fn constant(e: &TypedExpr) -> Option<Literal> {
    use crate::syntax::ast::BinaryOp as B;
    let number = |l: &Literal| match l {
        Literal::Long(x) => Some(*x as f64),
        Literal::Int(x) => Some(f64::from(*x)),
        Literal::Real(x) => Some(*x),
        _ => None,
    };
    match &e.kind {
        TypedExprKind::Literal(literal) => Some(literal.clone()),
        TypedExprKind::Unary(crate::syntax::ast::UnaryOp::Neg, operand) => {
            match constant(operand)? {
                Literal::Long(x) => x.checked_neg().map(Literal::Long),
                Literal::Int(x) => x.checked_neg().map(Literal::Int),
                Literal::Real(x) => Some(Literal::Real(-x)),
                _ => None,
            }
        }
        TypedExprKind::Call(function, args) if function.name == "not" && args.len() == 1 => {
            match constant(&args[0])? {
                Literal::Bool(b) => Some(Literal::Bool(!b)),
                _ => None,
            }
        }
        TypedExprKind::Binary(op, lhs, rhs) => {
            let (l, r) = (constant(lhs)?, constant(rhs)?);
            match (op, &l, &r) {
                (B::And, Literal::Bool(a), Literal::Bool(b)) => Some(Literal::Bool(*a && *b)),
                (B::Or, Literal::Bool(a), Literal::Bool(b)) => Some(Literal::Bool(*a || *b)),
                (B::Eq, Literal::String(a), Literal::String(b)) => Some(Literal::Bool(a == b)),
                (B::NotEq, Literal::String(a), Literal::String(b)) => Some(Literal::Bool(a != b)),
                (B::Eq | B::NotEq | B::Lt | B::Le | B::Gt | B::Ge, _, _) => {
                    let (a, b) = (number(&l)?, number(&r)?);
                    Some(Literal::Bool(match op {
                        B::Eq => a == b,
                        B::NotEq => a != b,
                        B::Lt => a < b,
                        B::Le => a <= b,
                        B::Gt => a > b,
                        _ => a >= b,
                    }))
                }
                _ => None,
            }
        }
        _ => None,
    }
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
