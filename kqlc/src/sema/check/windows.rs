//! Row functions (`row_number`, `prev`, `next`, `row_cumsum`, `row_rank_dense`,
//! `row_rank_min`, `row_window_session`): an operator
//! that calls them gets a `Window` stage before it that computes each call
//! into a hidden column, dropped after the operator.

use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::sema::limits::MAX_NEXT_OFFSET;
use crate::sema::{
    CheckedOp, CheckedQuery, CheckedStage, CheckedWindow, Column, TypedExpr, TypedExprKind,
    WindowKind,
};
use crate::syntax::ast::{self, Expr, ExprKind, Ident, Literal, OperatorKind, Span};
use crate::types::ScalarType;

impl Checker<'_> {
    /// `query | operator` where `exprs` (the operator's) call row functions:
    /// a `Window` stage computes each call into a column first (inner calls
    /// first), the operator reads those columns, and the columns are
    /// dropped after it.
    pub(super) fn push_with_windows(
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
                self.refused_windows
                    .insert((call.span.start, call.span.end));
                continue;
            };
            let ty = match window.kind {
                WindowKind::RowNumber => ScalarType::Long,
                WindowKind::Prev(_) | WindowKind::Next(_) => window.args[0].ty,
                WindowKind::CumSum => match window.args[0].ty {
                    ScalarType::Real => ScalarType::Real,
                    _ => ScalarType::Long,
                },
                WindowKind::RankDense | WindowKind::RankMin => ScalarType::Long,
                WindowKind::Session => window.args[0].ty,
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
        self.refused_windows.clear();
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
        // A `next` column is filled in only when the rows it looks ahead to
        // arrive, after the stage has computed the other calls of the row.
        if let Some(inner) = args.iter().find_map(next_call) {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    format!(
                        "next() inside an argument of the row function '{}' is not supported yet",
                        name.name
                    ),
                    inner,
                )
                .with_label("a later row's value, not known when this row function runs")
                .with_help("compute next() with `extend` first, then use its column"),
            );
            return None;
        }
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
            "row_rank_dense" | "row_rank_min" => {
                if !arity(1, 2) {
                    return bad_arity(self, "1 or 2 arguments (term, restart)");
                }
                if typed.len() == 1 {
                    typed.push(literal(Literal::Bool(false), ScalarType::Bool));
                }
                let kind = if name.name == "row_rank_dense" {
                    WindowKind::RankDense
                } else {
                    WindowKind::RankMin
                };
                CheckedWindow { kind, args: typed }
            }
            "row_window_session" => {
                if !arity(3, 4) {
                    return bad_arity(
                        self,
                        "3 or 4 arguments (expr, max_distance_from_first, max_distance_between_neighbors, restart)",
                    );
                }
                let expected = [
                    (ScalarType::DateTime, "datetime"),
                    (ScalarType::TimeSpan, "timespan"),
                    (ScalarType::TimeSpan, "timespan"),
                    (ScalarType::Bool, "bool"),
                ];
                for (arg, (ty, described)) in typed.iter().zip(expected) {
                    if arg.ty != ty && arg.ty != ScalarType::Dynamic {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "row_window_session expects a {described} here, found {}",
                                    arg.ty
                                ),
                                arg.span,
                            )
                            .with_label(format!("of type {}", arg.ty)),
                        );
                        return None;
                    }
                }
                if typed.len() == 3 {
                    typed.push(literal(Literal::Bool(false), ScalarType::Bool));
                }
                CheckedWindow {
                    kind: WindowKind::Session,
                    args: typed,
                }
            }
            "prev" | "next" => {
                if !arity(1, 3) {
                    return bad_arity(self, "1 to 3 arguments (value, offset, default)");
                }
                let offset = match typed.get(1).map(|t| &t.kind) {
                    None => 1,
                    Some(TypedExprKind::Literal(Literal::Long(n))) if *n >= 1 => *n as u64,
                    Some(TypedExprKind::Literal(Literal::Int(n))) if *n >= 1 => *n as u64,
                    Some(_) => {
                        self.error(Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "{}'s offset must be a positive whole-number constant",
                                name.name
                            ),
                            typed[1].span,
                        ));
                        return None;
                    }
                };
                if name.name == "next" && offset > MAX_NEXT_OFFSET as u64 {
                    self.error(
                        Diagnostic::new(
                            Code::LimitExceeded,
                            format!(
                                "next's offset {offset} is more than the limit of {MAX_NEXT_OFFSET} rows held back"
                            ),
                            typed[1].span,
                        )
                        .with_label("rows held back until the row this far ahead arrives")
                        .with_help("use a smaller offset (docs/limits.md)"),
                    );
                    return None;
                }
                let default = if typed.len() == 3 {
                    typed.remove(2)
                } else {
                    literal(Literal::Null(typed[0].ty), typed[0].ty)
                };
                let offset = offset as usize;
                CheckedWindow {
                    kind: if name.name == "next" {
                        WindowKind::Next(offset)
                    } else {
                        WindowKind::Prev(offset)
                    },
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
                    .with_note(
                        "supported: row_number, prev, next, row_cumsum, row_rank_dense, row_rank_min, row_window_session",
                    ),
                );
                return None;
            }
        };
        Some(window)
    }
}

/// The row functions (window functions over the ordered rows).
pub(super) const WINDOW_FUNCTIONS: &[&str] = &[
    "row_number",
    "prev",
    "next",
    "row_cumsum",
    "row_rank_dense",
    "row_rank_min",
    "row_window_session",
];

/// The span of a `next` call in `expr`, if it has one.
fn next_call(expr: &Expr) -> Option<Span> {
    let mut calls = Vec::new();
    window_calls(expr, &mut calls);
    calls.into_iter().find_map(|call| match &call.kind {
        ExprKind::Call { name, .. } if name.name == "next" => Some(call.span),
        _ => None,
    })
}

/// Whether `expr` calls a row function.
pub(super) fn has_window_call(expr: &Expr) -> bool {
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
