//! The column names KQL gives unnamed expressions (`RawEventData.x` is
//! `RawEventData_x`; other unnamed items are `Column1`, `Column2`, ...),
//! shared by the checker and the desugaring.

use crate::syntax::ast::{self, Expr, ExprKind, Literal};

/// The name of an `extend` or `project` item: its explicit name, the name
/// its expression implies, or `Column1`, `Column2`, ... counting the unnamed
/// items (as Kusto does).
pub(super) fn item_name(item: &ast::NamedExpr, unnamed: &mut usize) -> String {
    if let Some(name) = &item.name {
        return name.name.clone();
    }
    default_name(&item.expr).unwrap_or_else(|| {
        *unnamed += 1;
        format!("Column{unnamed}")
    })
}

/// The column name KQL gives an unnamed expression: a column keeps its name;
/// a member path `a.b.c` becomes `a_b_c`; a conversion keeps its argument's
/// name. Other expressions have none (the caller numbers them).
pub(super) fn default_name(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Name(ident) => Some(ident.name.clone()),
        ExprKind::Call { name, args }
            if args.len() == 1 && NAME_PRESERVING_FUNCTIONS.contains(&name.name.as_str()) =>
        {
            default_name(&args[0])
        }
        // `bin(Timestamp, 1h)` is named `Timestamp`, as Kusto names it.
        ExprKind::Call { name, args }
            if !args.is_empty()
                && matches!(name.name.as_str(), "bin" | "floor" | "bin_at" | "bin_auto") =>
        {
            default_name(&args[0])
        }
        ExprKind::Member { target, name } => {
            default_name(target).map(|prefix| format!("{prefix}_{}", name.name))
        }
        ExprKind::Index { target, index } => match &index.kind {
            ExprKind::Literal(Literal::String(key)) => {
                default_name(target).map(|prefix| format!("{prefix}_{key}"))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Conversion functions whose result keeps the name of their argument
/// (`tostring(RawEventData.x)` is named `RawEventData_x`, as in Kusto).
const NAME_PRESERVING_FUNCTIONS: &[&str] = &[
    "tostring",
    "toint",
    "tolong",
    "toreal",
    "todouble",
    "tobool",
    "toboolean",
    "todatetime",
    "totimespan",
    "todynamic",
    "toguid",
];
