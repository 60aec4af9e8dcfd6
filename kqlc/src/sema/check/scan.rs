//! `scan` (`scan-operator.md`): the steps' conditions and assignments are
//! checked over a wide row, the record followed by one block per step, so
//! that `s1.Col` is a column like any other (named `s1.Col` here).

use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::sema::{CheckedOp, CheckedScan, CheckedScanStep, Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{self, Expr, ExprKind, Ident, Literal};
use crate::types::ScalarType;

impl Checker<'_> {
    pub(super) fn scan(&mut self, scan: &ast::Scan, input: &[Column]) -> (CheckedOp, Vec<Column>) {
        let mut record: Vec<Column> = input.to_vec();
        let mut defaults = Vec::new();
        for declared in &scan.declare {
            if record.iter().any(|c| c.name == declared.name.name) {
                self.error(Diagnostic::new(
                    Code::DuplicateColumn,
                    format!(
                        "scan declares '{}', a column the rows already have",
                        declared.name.name
                    ),
                    declared.name.span,
                ));
            }
            let default = match &declared.default {
                Some(expr) => {
                    let typed = self.expr(expr, &[]);
                    self.scan_value_type(&typed, declared.ty, &declared.name);
                    typed
                }
                None => TypedExpr {
                    kind: TypedExprKind::Literal(Literal::Null(declared.ty)),
                    ty: declared.ty,
                    span: declared.name.span,
                },
            };
            defaults.push(default);
            record.push(Column::new(declared.name.name.clone(), declared.ty));
        }
        let mut names: Vec<&Ident> = Vec::new();
        for step in &scan.steps {
            if let Some(first) = names.iter().find(|n| n.name == step.name.name) {
                self.error(
                    Diagnostic::new(
                        Code::DuplicateColumn,
                        format!("scan has two steps named '{}'", step.name.name),
                        step.name.span,
                    )
                    .with_note(format!("the first is at byte {}", first.span.start)),
                );
            }
            names.push(&step.name);
        }
        let mut wide = record.clone();
        for step in &scan.steps {
            for column in &record {
                wide.push(Column::new(
                    format!("{}.{}", step.name.name, column.name),
                    column.ty,
                ));
            }
        }
        let step_names: Vec<&str> = scan.steps.iter().map(|s| s.name.name.as_str()).collect();
        let mut steps = Vec::new();
        for (k, step) in scan.steps.iter().enumerate() {
            if step.output == ast::ScanOutput::Last {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "scan's `output=last` is not supported yet",
                        step.name.span,
                    )
                    .with_label("this step keeps only its last match (`output=last`)")
                    .with_help("`output=all` (the default) and `output=none` are supported"),
                );
            }
            let later = &step_names[k + 1..];
            let condition = self.scan_expr(&step.condition, &wide, &step_names, later);
            if !matches!(condition.ty, ScalarType::Bool | ScalarType::Dynamic) {
                self.error(Diagnostic::new(
                    Code::TypeMismatch,
                    format!(
                        "a scan step's condition must be a bool, found {}",
                        condition.ty
                    ),
                    step.condition.span,
                ));
            }
            let mut assignments: Vec<Option<TypedExpr>> = vec![None; scan.declare.len()];
            for (column, value) in &step.assignments {
                let Some(i) = scan.declare.iter().position(|d| d.name.name == column.name) else {
                    self.error(
                        Diagnostic::new(
                            Code::UnknownColumn,
                            format!(
                                "scan assigns '{}', which its declare clause does not declare",
                                column.name
                            ),
                            column.span,
                        )
                        .with_label("not a column of `declare (...)`")
                        .with_help("steps assign only the columns of `declare (...)`"),
                    );
                    continue;
                };
                let typed = self.scan_expr(value, &wide, &step_names, later);
                self.scan_value_type(&typed, scan.declare[i].ty, column);
                assignments[i] = Some(typed);
            }
            steps.push(CheckedScanStep {
                name: step.name.name.clone(),
                output: step.output,
                condition,
                assignments,
            });
        }
        let mut output = record;
        if let Some(id) = &scan.match_id {
            if output.iter().any(|c| c.name == id.name) {
                self.error(Diagnostic::new(
                    Code::DuplicateColumn,
                    format!(
                        "with_match_id names '{}', a column the rows already have",
                        id.name
                    ),
                    id.span,
                ));
            }
            output.push(Column::new(id.name.clone(), ScalarType::Long));
        }
        let checked = CheckedScan {
            input_width: input.len(),
            defaults,
            steps,
            match_id: scan.match_id.is_some(),
        };
        (CheckedOp::Scan(Box::new(checked)), output)
    }

    /// A condition or assignment: `step.Col` read as the wide row's column
    /// of that name; a step after this one has no values in its state.
    fn scan_expr(
        &mut self,
        expr: &Expr,
        wide: &[Column],
        steps: &[&str],
        later: &[&str],
    ) -> TypedExpr {
        let mut rewritten = expr.clone();
        let mut errors = Vec::new();
        rewrite_step_references(&mut rewritten, steps, later, &mut errors);
        for error in errors {
            self.error(error);
        }
        self.expr(&rewritten, wide)
    }

    /// A value of a declared column must have its type (a null, a
    /// `dynamic` and a number of another numeric type are converted).
    fn scan_value_type(&mut self, typed: &TypedExpr, ty: ScalarType, column: &Ident) {
        let fits = typed.ty == ty
            || typed.ty == ScalarType::Dynamic
            || matches!(typed.kind, TypedExprKind::Literal(Literal::Null(_)))
            || (typed.ty.is_numeric() && ty.is_numeric());
        if !fits {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!(
                        "scan column '{}' is {ty}, this value is {}",
                        column.name, typed.ty
                    ),
                    typed.span,
                )
                .with_label(format!("of type {}", typed.ty)),
            );
        }
    }
}

/// Replaces `step.Col` by the name `step.Col` (a column of the wide row).
fn rewrite_step_references(
    expr: &mut Expr,
    steps: &[&str],
    later: &[&str],
    errors: &mut Vec<Diagnostic>,
) {
    if let ExprKind::Member { target, name } = &expr.kind {
        if let ExprKind::Name(step) = &target.kind {
            if later.contains(&step.name.as_str()) {
                errors.push(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "step '{}' comes after this one: its state holds no values of it",
                            step.name
                        ),
                        expr.span,
                    )
                    .with_help("a step reads only its own and earlier steps' values"),
                );
            }
            if steps.contains(&step.name.as_str()) {
                expr.kind = ExprKind::Name(Ident {
                    name: format!("{}.{}", step.name, name.name),
                    span: expr.span,
                });
                return;
            }
        }
    }
    match &mut expr.kind {
        ExprKind::Literal(_)
        | ExprKind::Name(_)
        | ExprKind::Unimplemented(_)
        | ExprKind::Tabular(_)
        | ExprKind::Star
        | ExprKind::TypeOf(_)
        | ExprKind::InvalidLiteral { .. } => {}
        ExprKind::NamedArgument { value, .. } => {
            rewrite_step_references(value, steps, later, errors)
        }
        ExprKind::Member { target, .. } => rewrite_step_references(target, steps, later, errors),
        ExprKind::Index { target, index } => {
            rewrite_step_references(target, steps, later, errors);
            rewrite_step_references(index, steps, later, errors);
        }
        ExprKind::Call { args, .. } => {
            for arg in args {
                rewrite_step_references(arg, steps, later, errors);
            }
        }
        ExprKind::Unary { operand, .. } => rewrite_step_references(operand, steps, later, errors),
        ExprKind::Binary { lhs, rhs, .. } => {
            rewrite_step_references(lhs, steps, later, errors);
            rewrite_step_references(rhs, steps, later, errors);
        }
        ExprKind::Chain { first, rest } => {
            rewrite_step_references(first, steps, later, errors);
            for (_, operand) in rest {
                rewrite_step_references(operand, steps, later, errors);
            }
        }
        ExprKind::List { expr, items, .. } => {
            rewrite_step_references(expr, steps, later, errors);
            for item in items {
                rewrite_step_references(item, steps, later, errors);
            }
        }
        ExprKind::Between {
            expr, low, high, ..
        } => {
            rewrite_step_references(expr, steps, later, errors);
            rewrite_step_references(low, steps, later, errors);
            rewrite_step_references(high, steps, later, errors);
        }
    }
}
