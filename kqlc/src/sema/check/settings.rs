//! `set` options that change results, and what reads them: `bin_auto(x)`
//! rounds by `set query_bin_auto_size = ...` from `set query_bin_auto_at =
//! ...` (`bin-auto-function.md`).

use super::{poisoned, Checker};
use crate::diag::{Code, Diagnostic};
use crate::sema::{Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{self, Expr, ExprKind, Ident, Span};
use crate::types::ScalarType;

impl Checker<'_> {
    /// Records a `set` option: its value must be a constant of a type the
    /// option takes.
    pub(super) fn set_option(&mut self, option: &ast::SetOption) {
        let typed = self.expr(&option.value, &[]);
        let (allowed, described): (&[ScalarType], &str) = match option.name.name.as_str() {
            "query_bin_auto_size" => (
                &[
                    ScalarType::Int,
                    ScalarType::Long,
                    ScalarType::Real,
                    ScalarType::TimeSpan,
                ],
                "an int, long, real or timespan",
            ),
            // The page lists the size's types; its example sets a datetime.
            _ => (
                &[
                    ScalarType::Int,
                    ScalarType::Long,
                    ScalarType::Real,
                    ScalarType::TimeSpan,
                    ScalarType::DateTime,
                ],
                "an int, long, real, timespan or datetime",
            ),
        };
        let constant = matches!(typed.kind, TypedExprKind::Literal(_));
        if !constant || !allowed.contains(&typed.ty) {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!(
                        "{} must be {described} constant, not {}",
                        option.name.name,
                        if constant {
                            format!("a {}", typed.ty)
                        } else {
                            "a value computed at run time".to_string()
                        }
                    ),
                    option.value.span,
                )
                .with_label(format!("of type {}", typed.ty)),
            );
            return;
        }
        let value = (option.value.clone(), option.span);
        if option.name.name == "query_bin_auto_size" {
            self.bin_auto.size = Some(value);
        } else {
            self.bin_auto.at = Some(value);
        }
    }

    /// `bin_auto(value)`: `bin(value, size)`, or `bin_at(value, size, at)`
    /// with `set query_bin_auto_at`, from the query's `set` options.
    pub(super) fn bin_auto_call(
        &mut self,
        name: &Ident,
        args: &[Expr],
        columns: &[Column],
        span: Span,
    ) -> TypedExpr {
        let [value] = args else {
            self.error(Diagnostic::new(
                Code::WrongArgumentCount,
                format!("bin_auto takes 1 argument (value), not {}", args.len()),
                span,
            ));
            return poisoned(span);
        };
        let Some((size, _)) = self.bin_auto.size.clone() else {
            self.error(
                Diagnostic::new(
                    Code::TypeMismatch,
                    "bin_auto needs a bin size, and the query sets none",
                    name.span,
                )
                .with_label("no `set query_bin_auto_size`")
                .with_help(
                    "set it before the query: `set query_bin_auto_size = 1h;` (and optionally `set query_bin_auto_at = ...;`)",
                ),
            );
            return poisoned(span);
        };
        let at = self.bin_auto.at.clone();
        // The types only: the call below checks (and reports on) each again.
        let reported = self.diagnostics.len();
        let typed_value = self.expr(value, columns);
        let size_ty = self.expr(&size.clone(), &[]).ty;
        let at_ty = at.as_ref().map(|(at, _)| self.expr(&at.clone(), &[]).ty);
        self.diagnostics.truncate(reported);
        // The size is a timespan for datetimes and timespans, a number for
        // numbers; the fixed point is of the value's own kind.
        let size_fits = match typed_value.ty {
            ScalarType::Dynamic => true,
            ScalarType::DateTime | ScalarType::TimeSpan => size_ty == ScalarType::TimeSpan,
            t if t.is_numeric() => size_ty.is_numeric(),
            _ => false,
        };
        let at_fits = at_ty.is_none_or(|ty| match typed_value.ty {
            ScalarType::Dynamic => true,
            ScalarType::DateTime => ty == ScalarType::DateTime,
            ScalarType::TimeSpan => ty == ScalarType::TimeSpan,
            t if t.is_numeric() => ty.is_numeric(),
            _ => false,
        });
        if !size_fits || !at_fits {
            let (what, ty, setting) = if !size_fits {
                ("size", size_ty, self.bin_auto.size.as_ref().map(|s| s.1))
            } else {
                (
                    "fixed point",
                    at_ty.unwrap_or(ScalarType::Dynamic),
                    at.as_ref().map(|a| a.1),
                )
            };
            let mut diagnostic = Diagnostic::new(
                Code::TypeMismatch,
                format!(
                    "bin_auto cannot round a {} by a bin {what} of type {ty}",
                    typed_value.ty
                ),
                span,
            )
            .with_label(format!("a {}", typed_value.ty));
            if let Some(setting) = setting {
                diagnostic = diagnostic.with_secondary(setting, format!("the {what} is set here"));
            }
            self.error(diagnostic);
            return poisoned(span);
        }
        let (function, mut rounded_args) = match &at {
            Some((at, _)) => ("bin_at", vec![size, at.clone()]),
            None => ("bin", vec![size]),
        };
        rounded_args.insert(0, value.clone());
        let call = Expr {
            kind: ExprKind::Call {
                name: Ident {
                    name: function.to_string(),
                    span: name.span,
                },
                args: rounded_args,
            },
            span,
        };
        self.expr(&call, columns)
    }
}
