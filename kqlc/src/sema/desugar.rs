//! Desugaring: operators that are shorthand for others are rewritten, on
//! the AST, into the operators they stand for, before those are checked.
//!
//! The checker calls [`operator`] on each operator of a pipeline before it
//! checks it (desugar → check, operator by operator, so that pipelines
//! nested in expressions, joins, unions and function bodies are desugared
//! as they are reached); a rewritten operator's replacements are checked as
//! if written, with the original operator's span.
//!
//! What stays in the checker, and why:
//! - **Row functions** (`row_number`, `prev`, ...; `check/windows.rs`): the
//!   `Window` stage's columns take the types of the calls' checked
//!   arguments, and the operator that reads them must be checked with
//!   those columns in scope.
//! - **`let` and user-defined function inlining** (`check/user_functions.rs`):
//!   a binding is checked once in its own scope, and an argument is bound
//!   in the caller's scope; both need the checker's scopes and types.
//! - **`pack_all()` / `bag_pack_columns()`** (`check/calls.rs`): they stand
//!   for the columns of the row, known only after the operators before them
//!   are checked.

use super::names::item_name;
use crate::syntax::ast::{self, Expr, ExprKind, Ident, OperatorKind, Span};

/// The operators `operator` stands for, or `None` when it is not shorthand
/// (it is checked as written).
pub(super) fn operator(operator: &ast::Operator) -> Option<Vec<ast::Operator>> {
    match &operator.kind {
        // The rows are already in order: `serialize` only extends.
        OperatorKind::Serialize(items) if items.is_empty() => Some(Vec::new()),
        OperatorKind::Serialize(items) => Some(vec![ast::Operator {
            kind: OperatorKind::Extend(items.clone()),
            span: operator.span,
        }]),
        // `summarize` then `top`, as the reference defines it.
        OperatorKind::TopHitters { count, of, by } => {
            Some(top_hitters(count, of, by.as_ref(), operator.span))
        }
        // `distinct` of computed values: `project` them, then `distinct *`.
        OperatorKind::Distinct(items)
            if items
                .iter()
                .any(|i| i.name.is_some() || !matches!(i.expr.kind, ExprKind::Name(_))) =>
        {
            Some(vec![
                ast::Operator {
                    kind: OperatorKind::Project(items.clone()),
                    span: operator.span,
                },
                ast::Operator {
                    kind: OperatorKind::Distinct(Vec::new()),
                    span: operator.span,
                },
            ])
        }
        _ => None,
    }
}

/// `top-hitters N of EXPR [by SUM]`, as the reference defines it:
/// `summarize approximate_count_EXPR = count() by EXPR` (or
/// `approximate_sum_EXPR = sum(SUM)`), then `top N` by that column.
/// Counts are exact.
fn top_hitters(count: &Expr, of: &Expr, by: Option<&Expr>, span: Span) -> Vec<ast::Operator> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::Statement;

    /// The operators of `query`'s tabular expression, each desugared, as
    /// KQL text (`None` for one written as is).
    fn desugared(query: &str) -> Vec<Option<Vec<String>>> {
        let parsed = crate::syntax::parse(query).expect("parses");
        let Some(Statement::Tabular(tabular)) = parsed.statements.last() else {
            panic!("no tabular expression in {query}");
        };
        tabular
            .operators
            .iter()
            .map(|op| operator(op).map(|ops| ops.iter().map(|o| o.to_string()).collect()))
            .collect()
    }

    #[test]
    fn shorthand_operators_become_the_operators_they_stand_for() {
        assert_eq!(
            desugared("T | serialize | serialize n = 1 | where x"),
            [Some(vec![]), Some(vec!["extend n = 1".to_string()]), None]
        );
        assert_eq!(
            desugared("T | distinct a, b | distinct c = tolower(a)"),
            [
                None,
                Some(vec![
                    "project c = tolower(a)".to_string(),
                    "distinct *".to_string()
                ])
            ]
        );
        assert_eq!(
            desugared("T | top-hitters 3 of a.b by n"),
            [Some(vec![
                "summarize approximate_sum_a_b = sum(n) by a.b".to_string(),
                "top 3 by approximate_sum_a_b desc".to_string()
            ])]
        );
    }
}
