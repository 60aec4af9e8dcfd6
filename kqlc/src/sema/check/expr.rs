//! Scalar expressions: names, literals, members, operators and their
//! types.

use super::{poisoned, Checker};
use crate::diag::{Code, Diagnostic};
use crate::sema::{Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{
    BinaryOp, Expr, ExprKind, Ident, ListOp, Literal, Span, StringOpKind, UnaryOp,
};
use crate::types::ScalarType;

impl Checker<'_> {
    pub(super) fn expr(&mut self, expr: &Expr, columns: &[Column]) -> TypedExpr {
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
                        "typeof(...) is supported only as the last argument of extract, extract_json and percentile_tdigest, and in `mv-expand ... to typeof(...)`",
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
                if let Some(slot) = self.open_slot(columns, &ident.name, span) {
                    return slot;
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
                        .with_label(format!("of type {}", index.ty)),
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
                if !(ty.is_number() || matches!(ty, ScalarType::TimeSpan | ScalarType::Dynamic)) {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("cannot negate a value of type {ty}"),
                            span,
                        )
                        .with_label(format!("of type {ty}")),
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
                    TypedExprKind::Literal(Literal::Decimal(d)) => Some(Literal::Decimal(-*d)),
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
                .with_label(format!("of type {}", target.ty)),
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
                .with_label(format!("of type {}", operand.ty))
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
                            .with_label(format!("of type {}", operand.ty)),
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
}

/// The type of a literal.
pub(crate) fn literal_type(literal: &Literal) -> ScalarType {
    match literal {
        Literal::Bool(_) => ScalarType::Bool,
        Literal::Int(_) => ScalarType::Int,
        Literal::Long(_) => ScalarType::Long,
        Literal::Real(_) => ScalarType::Real,
        Literal::Decimal(_) => ScalarType::Decimal,
        Literal::String(_) => ScalarType::String,
        Literal::DateTime(_) => ScalarType::DateTime,
        Literal::TimeSpan(_) => ScalarType::TimeSpan,
        Literal::Guid(_) => ScalarType::Guid,
        Literal::Dynamic(_) => ScalarType::Dynamic,
        Literal::Null(ty) => *ty,
    }
}

/// Whether KQL can compare values of these types.
pub(super) fn comparable(a: ScalarType, b: ScalarType) -> bool {
    a == b
        || a == ScalarType::Dynamic
        || b == ScalarType::Dynamic
        || (a.is_number() && b.is_number())
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
    // decimal is the widest number type, wider than real (as Microsoft's
    // parser types it: `decimal(1) + 1.5` is decimal).
    if a.is_number() && b.is_number() && (a == T::Decimal || b == T::Decimal) {
        return Some(T::Decimal);
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
