//! `find` (`find-operator.md`): the rows of several tables that pass a
//! predicate, laid out by `find`'s own rules. Each table that takes part
//! becomes a pipeline of its own (the predicate's columns it lacks as
//! typed nulls, `where PREDICATE`, then a `project` to the common layout:
//! the source column, the output columns, `pack_`), and the pipelines are
//! a `union` of identical layouts. The predicate's terms (`"x"` alone) were
//! made `* has "x"` by the desugar pass.

use super::{collect_tables, empty_query, Checker};
use crate::diag::{Code, Diagnostic};
use crate::sema::{CheckedQuery, CheckedSource, CheckedStage, Column};
use crate::syntax::ast::{
    self, Expr, ExprKind, FindOutput, Ident, Literal, NamedExpr, Operator, OperatorKind, Source,
    Span, TabularExpr,
};
use crate::types::ScalarType;

/// A table of `find`, checked: its name (for the source column), where it
/// is written, and its rows.
struct FindLeg {
    name: String,
    span: Span,
    query: CheckedQuery,
}

impl Checker<'_> {
    /// `find [withsource=S] [in (T, ...)] where P [project ...]` as a source.
    pub(super) fn find_source(&mut self, find: &ast::Find, span: Span) -> CheckedQuery {
        let source_column = find
            .with_source
            .as_ref()
            .map_or_else(|| "source_".to_string(), |name| name.name.clone());
        let tables: Vec<TabularExpr> = match &find.tables {
            Some(tables) => tables.clone(),
            // Without `in`, every table of the database: the schema's.
            None => self
                .schema
                .tables
                .iter()
                .map(|t| TabularExpr {
                    source: Source::Named(Ident {
                        name: t.name.clone(),
                        span,
                    }),
                    operators: Vec::new(),
                    span,
                })
                .collect(),
        };
        let reported = self.diagnostics.len();
        let mut legs = Vec::new();
        for table in &tables {
            let name = match (&table.source, table.operators.is_empty()) {
                (Source::Named(name), true) => name.name.clone(),
                _ => String::new(),
            };
            let query = self.tabular(table);
            legs.push(FindLeg {
                name,
                span: table.span,
                query,
            });
        }
        if self.diagnostics.len() > reported {
            return empty_query();
        }

        // The columns the predicate names (those some table has), and
        // whether it tests every column (`*`, or a term).
        let mut named = Vec::new();
        let mut star = false;
        predicate_columns(&find.predicate, &mut named, &mut star);
        let has = |leg: &FindLeg, name: &str| leg.query.output.iter().any(|c| c.name == name);
        named.retain(|name| legs.iter().any(|leg| has(leg, name)));

        // The tables that take part (Microsoft's analysis): the only one, or
        // all when the predicate tests every column, or those that have a
        // column the predicate names.
        let every = legs.len() == 1 || star;
        let (kept, left_out): (Vec<FindLeg>, Vec<FindLeg>) = legs
            .into_iter()
            .partition(|leg| every || named.iter().any(|name| has(leg, name)));

        let mut read = Vec::new();
        for leg in &kept {
            collect_tables(&leg.query, &mut read);
        }
        read.sort();
        read.dedup();
        if read.len() > 1 {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    format!(
                        "`find` here reads the tables {}; a rule reads one table",
                        read.join(", ")
                    ),
                    span,
                )
                .with_label("searches more than one table of the schema")
                .with_help("name one table with `in (TABLE)`, or name columns only one table has"),
            );
            return empty_query();
        }

        // The predicate's columns, each of one type wherever it is.
        let mut predicate_types = Vec::new();
        for name in &named {
            let kept_refs: Vec<&FindLeg> = kept.iter().collect();
            let Some(ty) = self.one_type(&kept_refs, name, find.predicate.span, "the predicate")
            else {
                return empty_query();
            };
            predicate_types.push((name.clone(), ty));
        }

        // The output columns after the source column: each with its type
        // and, when `project` gives one, the type to convert to.
        let (outputs, pack) = match &find.output {
            FindOutput::Smart => {
                let mut outputs: Vec<(String, ScalarType, bool)> = Vec::new();
                if let Some(first) = kept.first() {
                    for column in &first.query.output {
                        let common = kept.iter().all(|leg| {
                            leg.query
                                .output
                                .iter()
                                .any(|c| c.name == column.name && c.ty == column.ty)
                        });
                        if common {
                            outputs.push((column.name.clone(), column.ty, false));
                        }
                    }
                }
                for (name, ty) in &predicate_types {
                    if !outputs.iter().any(|(n, _, _)| n == name) {
                        outputs.push((name.clone(), *ty, false));
                    }
                }
                let rest = kept.iter().any(|leg| {
                    leg.query
                        .output
                        .iter()
                        .any(|c| !outputs.iter().any(|(n, _, _)| *n == c.name))
                });
                (outputs, rest)
            }
            FindOutput::Project { columns, pack } => {
                let mut outputs = Vec::new();
                for (name, converted) in columns {
                    let ty = match converted {
                        Some(ty) => *ty,
                        None => {
                            // A column of a table left out still names
                            // a column (of nulls).
                            let all: Vec<&FindLeg> = kept.iter().chain(&left_out).collect();
                            let Some(ty) = self.one_type(&all, &name.name, name.span, "`project`")
                            else {
                                return empty_query();
                            };
                            if !all.iter().any(|leg| has(leg, &name.name)) {
                                self.error(
                                    Diagnostic::new(
                                        Code::UnknownColumn,
                                        format!(
                                            "no table of this `find` has a column '{}'",
                                            name.name
                                        ),
                                        name.span,
                                    )
                                    .with_label("not a column of the tables searched")
                                    .with_help(format!(
                                        "give it a type to have a column of nulls: `{}: string`",
                                        name.name
                                    )),
                                );
                                return empty_query();
                            }
                            ty
                        }
                    };
                    outputs.push((name.name.clone(), ty, converted.is_some()));
                }
                (outputs, *pack)
            }
        };

        // Each table's rows, filtered and laid out.
        let mut laid_out = Vec::new();
        for leg in kept {
            let own: Vec<String> = leg.query.output.iter().map(|c| c.name.clone()).collect();
            let mut query = leg.query;
            let missing: Vec<NamedExpr> = predicate_types
                .iter()
                .filter(|(name, _)| !query.output.iter().any(|c| c.name == *name))
                .map(|(name, ty)| named_expr(name, null_of(*ty, span), span))
                .collect();
            if !missing.is_empty() {
                query = self.push_operator(
                    query,
                    &Operator {
                        kind: OperatorKind::Extend(missing),
                        span,
                    },
                );
            }
            query = self.push_operator(
                query,
                &Operator {
                    kind: OperatorKind::Where(find.predicate.clone()),
                    span: find.predicate.span,
                },
            );
            let columns = query.output.clone();
            let mut items = vec![named_expr(
                &source_column,
                Expr {
                    kind: ExprKind::Literal(Literal::String(leg.name.clone())),
                    span: leg.span,
                },
                span,
            )];
            for (name, ty, convert) in &outputs {
                let value = match columns.iter().find(|c| c.name == *name) {
                    Some(column) if *convert && column.ty != *ty => {
                        conversion(*ty, column_ref(name, span), span)
                    }
                    Some(_) => column_ref(name, span),
                    None => null_of(*ty, span),
                };
                items.push(named_expr(name, value, span));
            }
            if pack {
                // The table's own columns that are not output columns.
                let pairs: Vec<Expr> = own
                    .iter()
                    .filter(|name| !outputs.iter().any(|(n, _, _)| n == *name))
                    .flat_map(|name| {
                        [
                            Expr {
                                kind: ExprKind::Literal(Literal::String(name.clone())),
                                span,
                            },
                            column_ref(name, span),
                        ]
                    })
                    .collect();
                let bag = Expr {
                    kind: ExprKind::Call {
                        name: Ident {
                            name: "bag_pack".to_string(),
                            span,
                        },
                        args: pairs,
                    },
                    span,
                };
                items.push(named_expr("pack_", bag, span));
            }
            query = self.push_operator(
                query,
                &Operator {
                    kind: OperatorKind::Project(items),
                    span,
                },
            );
            if self.diagnostics.len() > reported {
                // Reported once, for the first table: not again per table.
                return empty_query();
            }
            laid_out.push(query);
        }

        if laid_out.is_empty() {
            // No table has a column the predicate names: no rows.
            let mut columns = vec![Column::new(source_column, ScalarType::String)];
            columns.extend(
                outputs
                    .iter()
                    .map(|(name, ty, _)| Column::new(name.clone(), *ty)),
            );
            return CheckedQuery {
                source: CheckedSource::Rows {
                    columns: columns.clone(),
                    rows: Vec::new(),
                },
                stages: Vec::new(),
                output: columns,
            };
        }
        let mut query = laid_out.remove(0);
        if laid_out.is_empty() {
            return query;
        }
        let input = query.output.clone();
        let union = ast::Union {
            inner: false,
            with_source: None,
            fuzzy: false,
            tables: Vec::new(),
        };
        let (op, output) = self.union(&input, laid_out, &union, span);
        query.stages.push(CheckedStage {
            op,
            text: self.text(span),
            input,
            output: output.clone(),
        });
        query.output = output;
        query
    }

    /// The one type column `name` has in the tables that have it (dynamic
    /// when none has it); a located error when the tables disagree.
    fn one_type(
        &mut self,
        legs: &[&FindLeg],
        name: &str,
        at: Span,
        used_in: &str,
    ) -> Option<ScalarType> {
        let mut types: Vec<(ScalarType, &str)> = Vec::new();
        for leg in legs {
            if let Some(column) = leg.query.output.iter().find(|c| c.name == name) {
                if !types.iter().any(|(ty, _)| *ty == column.ty) {
                    types.push((column.ty, &leg.name));
                }
            }
        }
        match types.as_slice() {
            [] => Some(ScalarType::Dynamic),
            [(ty, _)] => Some(*ty),
            [(a, table_a), (b, table_b), ..] => {
                let message = format!(
                    "`find` over column '{name}', {a} in {table_a} and {b} in {table_b}, in {used_in}"
                );
                self.error(
                    Diagnostic::new(Code::Unsupported, format!("{message} is not supported yet"), at)
                        .with_label("a column of several types")
                        .with_help(format!(
                            "give it one type: `project {name}: {a}`, or convert it in each table first"
                        )),
                );
                None
            }
        }
    }
}

fn named_expr(name: &str, expr: Expr, span: Span) -> NamedExpr {
    NamedExpr {
        name: Some(Ident {
            name: name.to_string(),
            span,
        }),
        more_names: Vec::new(),
        expr,
    }
}

fn column_ref(name: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Name(Ident {
            name: name.to_string(),
            span,
        }),
        span,
    }
}

fn null_of(ty: ScalarType, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Literal(Literal::Null(ty)),
        span,
    }
}

/// `value` converted to `ty` (`project COLUMN: TYPE`).
fn conversion(ty: ScalarType, value: Expr, span: Span) -> Expr {
    let function = match ty {
        ScalarType::Real => "toreal".to_string(),
        ScalarType::Dynamic => "todynamic".to_string(),
        other => format!("to{}", other.name()),
    };
    Expr {
        kind: ExprKind::Call {
            name: Ident {
                name: function,
                span,
            },
            args: vec![value],
        },
        span,
    }
}

/// The names `expr` reads (in order, once each) and whether it tests every
/// column (`*`); pipelines nested in it have their own columns.
fn predicate_columns(expr: &Expr, out: &mut Vec<String>, star: &mut bool) {
    let children: Vec<&Expr> = match &expr.kind {
        ExprKind::Name(ident) => {
            if !out.contains(&ident.name) {
                out.push(ident.name.clone());
            }
            Vec::new()
        }
        ExprKind::Star => {
            *star = true;
            Vec::new()
        }
        ExprKind::Literal(_)
        | ExprKind::Unimplemented(_)
        | ExprKind::Tabular(_)
        | ExprKind::TypeOf(_)
        | ExprKind::InvalidLiteral { .. } => Vec::new(),
        ExprKind::NamedArgument { value, .. } => vec![&**value],
        ExprKind::Member { target, .. } => vec![&**target],
        ExprKind::Index { target, index } => vec![&**target, &**index],
        ExprKind::Call { args, .. } => args.iter().collect(),
        ExprKind::Unary { operand, .. } => vec![&**operand],
        ExprKind::Binary { lhs, rhs, .. } => vec![&**lhs, &**rhs],
        ExprKind::Chain { first, rest } => std::iter::once(&**first)
            .chain(rest.iter().map(|(_, e)| e))
            .collect(),
        ExprKind::List { expr, items, .. } => {
            std::iter::once(&**expr).chain(items.iter()).collect()
        }
        ExprKind::Between {
            expr, low, high, ..
        } => vec![&**expr, &**low, &**high],
    };
    for child in children {
        predicate_columns(child, out, star);
    }
}
