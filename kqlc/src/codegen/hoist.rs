//! Run constants: the sub-expressions of a `where`, `extend` or `project`
//! that read no row (`ago(1d)`, `now()`, `1d * 7`, `tolower("X")`) are
//! computed once per run into a field of the rule (`RunConstant`), not
//! for every row.
//!
//! The stage's expressions are rewritten so that each such sub-expression
//! is a position past the row's columns, and [`Bindings`] binds that
//! position to the field's value (`let ago = self.where_1_ago.get(ctx,
//! ...)`), so the rest of codegen reads it as it reads a column. Only
//! when specialising (the generic path of `tests/specialize.rs` computes
//! everything per row).

use super::*;

/// One sub-expression computed once per run.
pub(super) struct Hoisted {
    /// The field that holds it (`where_1_ago`).
    pub(super) field: Ident,
    /// The local name its value is bound to in the stage's method.
    pub(super) name: Ident,
    /// The expression.
    pub(super) expr: Expr,
}

/// `stage` with its run constants replaced by positions after those the
/// stage's bindings name (`taken`), one per constant in order, and the
/// constants; `None` when it has none (or codegen is not specialising).
pub(super) fn hoist(
    stage: &Stage,
    method: &Ident,
    taken: &[Ident],
) -> Option<(Stage, Vec<Hoisted>)> {
    if !specializing() {
        return None;
    }
    let mut hoisted: Vec<Hoisted> = Vec::new();
    let mut rewrite = |expr: &Expr| replace(expr, method, taken, &mut hoisted);
    let op = match &stage.op {
        Op::Filter(e) => Op::Filter(rewrite(e)),
        Op::Extend(items) => Op::Extend(items.iter().map(|(i, e)| (*i, rewrite(e))).collect()),
        Op::Project(values) => Op::Project(values.iter().map(&mut rewrite).collect()),
        _ => return None,
    };
    if hoisted.is_empty() {
        return None;
    }
    let stage = Stage {
        op,
        ..stage.clone()
    };
    Some((stage, hoisted))
}

/// `expr` with each outermost run constant replaced by a position past
/// the bindings (`taken`), recorded in `hoisted`; their names differ from
/// the bindings'.
fn replace(expr: &Expr, method: &Ident, taken: &[Ident], hoisted: &mut Vec<Hoisted>) -> Expr {
    if is_run_constant(expr) {
        let position = taken.len() + hoisted.len();
        let base = first_function(expr).unwrap_or("constant");
        let mut name = base.to_string();
        let mut k = 1;
        while hoisted.iter().any(|h| h.name == name) || taken.iter().any(|t| t == &name) {
            k += 1;
            name = format!("{base}_{k}");
        }
        hoisted.push(Hoisted {
            field: format_ident!("{}_{}", method, name),
            name: format_ident!("{}", name),
            expr: expr.clone(),
        });
        return Expr::Column(position, expr.ty());
    }
    let mut again = |e: &Expr| replace(e, method, taken, hoisted);
    match expr {
        Expr::Member(target, key) => Expr::Member(Box::new(again(target)), key.clone()),
        Expr::Index(target, index) => Expr::Index(Box::new(again(target)), Box::new(again(index))),
        Expr::Fold { first, steps, ty } => Expr::Fold {
            first: Box::new(again(first)),
            steps: steps.iter().map(|(a, e)| (*a, again(e))).collect(),
            ty: *ty,
        },
        Expr::Call { builtin, args, ty } => Expr::Call {
            builtin: *builtin,
            args: args
                .iter()
                .map(|arg| match arg {
                    Arg::Value(e) => Arg::Value(again(e)),
                    Arg::Slice(es) => Arg::Slice(es.iter().map(&mut again).collect()),
                    Arg::Set(e) => Arg::Set(e.clone()),
                    Arg::Context => Arg::Context,
                })
                .collect(),
            ty: *ty,
        },
        other => other.clone(),
    }
}

/// The name of the first function `expr` calls (itself, then its
/// operands in order): what its field is named after (`ago(1h) - 30m` is
/// `ago`).
fn first_function(expr: &Expr) -> Option<&'static str> {
    match expr {
        Expr::Call {
            builtin: Builtin::Function(f),
            ..
        } => Some(f.0),
        _ => expr.operands().into_iter().find_map(first_function),
    }
}

/// True for a call or fold (not a lone constant) that reads nothing of
/// the row and gives the same value all run: its leaves are constants and
/// the run's context, and it calls nothing that differs per call (`rand`,
/// `new_guid`). Its value is a scalar, not a dynamic array or bag (whose
/// copy would cost what computing it does).
fn is_run_constant(expr: &Expr) -> bool {
    matches!(expr, Expr::Call { .. } | Expr::Fold { .. })
        && !matches!(expr.ty(), ScalarType::Dynamic)
        && reads_no_row(expr)
}

fn reads_no_row(expr: &Expr) -> bool {
    match expr {
        Expr::Const(_) => true,
        Expr::Column(..) | Expr::Subquery { .. } | Expr::ConstSet(_) => false,
        Expr::Call {
            builtin: Builtin::Function(f),
            ..
        } if f.is_volatile() => false,
        Expr::Call { args, .. } if args.iter().any(|a| matches!(a, Arg::Set(_))) => false,
        _ => expr.operands().into_iter().all(reads_no_row),
    }
}

/// A run constant as KQL (`ago(1d)`), or as the IR shows it when it has
/// parts this does not write back.
fn kql(expr: &Expr) -> String {
    kql_of(expr).unwrap_or_else(|| crate::plan::expr_text(expr))
}

fn kql_of(expr: &Expr) -> Option<String> {
    Some(match expr {
        Expr::Const(Const::Long(n)) => n.to_string(),
        Expr::Const(Const::Int(n)) => n.to_string(),
        Expr::Const(Const::String(s)) => format!("{s:?}"),
        Expr::Const(Const::Bool(b)) => b.to_string(),
        Expr::Const(Const::TimeSpan(ticks)) => {
            const UNITS: [(i64, &str); 5] = [
                (864_000_000_000, "d"),
                (36_000_000_000, "h"),
                (600_000_000, "m"),
                (10_000_000, "s"),
                (10_000, "ms"),
            ];
            let (size, unit) = UNITS
                .iter()
                .find(|(size, _)| ticks % size == 0)
                .copied()
                .unwrap_or((1, "tick"));
            format!("{}{unit}", ticks / size)
        }
        Expr::Call {
            builtin: Builtin::Function(f),
            args,
            ..
        } => {
            let args: Option<Vec<String>> = args
                .iter()
                .flat_map(|a| match a {
                    Arg::Value(e) => std::slice::from_ref(e),
                    Arg::Slice(es) => es.as_slice(),
                    Arg::Set(_) | Arg::Context => &[],
                })
                .map(kql_of)
                .collect();
            format!("{}({})", f.0, args?.join(", "))
        }
        Expr::Fold { first, steps, .. } => {
            let mut text = kql_of(first)?;
            for (arith, operand) in steps {
                text = format!("{text} {} {}", symbol(*arith), kql_of(operand)?);
            }
            text
        }
        Expr::Call {
            builtin: Builtin::Arith(arith),
            args,
            ..
        } => match args.as_slice() {
            [Arg::Value(a), Arg::Value(b)] => {
                format!("{} {} {}", kql_of(a)?, symbol(*arith), kql_of(b)?)
            }
            _ => return None,
        },
        _ => return None,
    })
}

fn symbol(arith: Arith) -> &'static str {
    match arith {
        Arith::Add => "+",
        Arith::Sub => "-",
        Arith::Mul => "*",
        Arith::Div => "/",
        Arith::Rem => "%",
    }
}

impl Hoisted {
    /// The field's declaration, with the expression's IR as its doc.
    pub(super) fn declaration(&self) -> TokenStream {
        let field = &self.field;
        let doc = format!(" `{}`, computed once per run.", kql(&self.expr));
        quote! {
            #[doc = #doc]
            #field: RunConstant,
        }
    }

    /// `let NAME = self.FIELD.get(ctx, |ctx| VALUE);`
    pub(super) fn binding(&self) -> TokenStream {
        let (field, name) = (&self.field, &self.name);
        let value = owned(&self.expr, &[]);
        let ctx = if mentions(&value, "ctx") {
            quote! { ctx }
        } else {
            quote! { _ }
        };
        quote! { let #name = self.#field.get(ctx, |#ctx| #value); }
    }
}

#[cfg(test)]
mod tests {
    use crate::codegen::tests::emit;

    #[test]
    fn run_constants_are_fields_named_after_their_function() {
        let code = emit(
            "CloudAuditEvents | where Timestamp < ago(1h) - 30m and now() - Timestamp > 1h | extend d = ago(2d)",
        );
        assert!(
            code.contains("/// `ago(1h) - 30m`, computed once per run."),
            "{code}"
        );
        assert!(code.contains("where_1_ago: RunConstant,"), "{code}");
        assert!(
            code.contains("/// `now()`, computed once per run."),
            "{code}"
        );
        assert!(code.contains("extend_2_ago: RunConstant,"), "{code}");
        assert_eq!(code.matches("functions::ago(").count(), 2, "{code}");
        assert_eq!(code.matches(".get(").count(), 3, "{code}");
    }

    #[test]
    fn what_reads_the_row_or_differs_per_call_stays_per_row() {
        let code = emit(
            "CloudAuditEvents | where rand() < 0.5 | extend g = new_guid(), t = Timestamp + 1d",
        );
        assert!(!code.contains("RunConstant"), "{code}");
        // Only the part that reads no row is computed once.
        let code =
            emit("CloudAuditEvents | where Timestamp > ago(1d) + totimespan(RawEventData.Age)");
        assert!(
            code.contains("/// `ago(1d)`, computed once per run."),
            "{code}"
        );
        assert!(code.contains("&functions::totimespan("), "{code}");
    }
}
