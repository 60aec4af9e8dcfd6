//! `join`, `lookup` and `union`: operators that read another tabular
//! expression.

use super::{collect_tables, place, unique_name, Checker};
use crate::diag::{Code, Diagnostic};
use crate::sema::{CheckedOp, CheckedQuery, CheckedStage, Column, TypedExpr, TypedExprKind};
use crate::syntax::ast::{self, Literal, Source, Span, TabularExpr};
use crate::types::ScalarType;

impl Checker<'_> {
    /// `join`/`lookup`: the right side, the keys, the output layout.
    pub(super) fn join(
        &mut self,
        join: &ast::Join,
        input: &[Column],
        lookup: bool,
    ) -> (CheckedOp, Vec<Column>) {
        use ast::JoinKind as K;
        let right = self.tabular(&join.right);
        if lookup && !matches!(join.kind, K::LeftOuter | K::Inner) {
            self.error(Diagnostic::new(
                Code::Unsupported,
                format!(
                    "lookup supports kind=leftouter and kind=inner, not {}",
                    join.kind.name()
                ),
                join.right.span,
            ));
        }
        let (mut left_keys, mut right_keys) = (Vec::new(), Vec::new());
        for key in &join.on {
            let (left_name, right_name) = match key {
                ast::JoinKey::Same(name) => (name, name),
                ast::JoinKey::Pair(left, right) => (left, right),
            };
            let left = self.column_index(input, left_name);
            let right_index = self.column_index(&right.output, right_name);
            if let (Some(l), Some(r)) = (left, right_index) {
                let (lt, rt) = (input[l].ty, right.output[r].ty);
                if lt != rt
                    && lt != ScalarType::Dynamic
                    && rt != ScalarType::Dynamic
                    && !(lt.is_numeric() && rt.is_numeric())
                {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("join keys have different types: {lt} and {rt}"),
                            right_name.span,
                        )
                        .with_label(format!("of type {rt}; the left key is of type {lt}")),
                    );
                }
                left_keys.push(l);
                right_keys.push(r);
            }
        }
        let mut right_columns = Vec::new();
        let columns: Vec<Column> = match join.kind {
            K::LeftSemi | K::LeftAnti => input.to_vec(),
            K::RightSemi | K::RightAnti => right.output.clone(),
            _ => {
                let mut all = input.to_vec();
                for (i, column) in right.output.iter().enumerate() {
                    if lookup && right_keys.contains(&i) {
                        continue;
                    }
                    let name = unique_name(&all, &column.name);
                    right_columns.push(i);
                    all.push(Column::new(name, column.ty));
                }
                all
            }
        };
        self.check_single_table(&right);
        (
            CheckedOp::Join {
                kind: join.kind,
                right: Box::new(right),
                left_keys,
                right_keys,
                right_columns,
                ipv4_range: false,
            },
            columns,
        )
    }

    /// `union`: columns by name, in order of first appearance.
    /// The tables of a `union`, checked. With `isfuzzy=true`, a table
    /// name that resolves to nothing is left out (unless none resolves).
    /// With `withsource=S`, each gets a column `S` holding its name.
    pub(super) fn union_legs(&mut self, union: &ast::Union) -> Vec<CheckedQuery> {
        let unresolved = |checker: &Self, table: &TabularExpr| match &table.source {
            Source::Named(name) => !checker.is_tabular_name(&name.name),
            _ => false,
        };
        let fuzzy_skip = union.fuzzy && union.tables.iter().any(|t| !unresolved(self, t));
        let mut legs = Vec::new();
        for table in &union.tables {
            if fuzzy_skip && unresolved(self, table) {
                continue;
            }
            let mut leg = self.tabular(table);
            if let Some(column) = &union.with_source {
                let name = match &table.source {
                    Source::Named(name) if table.operators.is_empty() => name.name.clone(),
                    _ => {
                        self.error(
                            Diagnostic::new(
                                Code::Unsupported,
                                "`withsource` with a table that is not a plain name is not supported yet",
                                table.span,
                            )
                            .with_label("no name for this table's rows")
                            .with_help("bind it with `let NAME = ...;` and name it here"),
                        );
                        String::new()
                    }
                };
                let input = leg.output.clone();
                let mut output = input.clone();
                let position = place(&mut output, &column.name, ScalarType::String);
                let value = TypedExpr {
                    kind: TypedExprKind::Literal(Literal::String(name.clone())),
                    ty: ScalarType::String,
                    span: table.span,
                };
                leg.stages.push(CheckedStage {
                    op: CheckedOp::Extend(vec![(position, value)]),
                    text: format!("extend {} = \"{name}\"", column.name),
                    input,
                    output: output.clone(),
                });
                leg.output = output;
            }
            legs.push(leg);
        }
        legs
    }

    pub(super) fn union(
        &mut self,
        input: &[Column],
        legs: Vec<CheckedQuery>,
        union: &ast::Union,
        span: Span,
    ) -> (CheckedOp, Vec<Column>) {
        let mut columns: Vec<Column> = input.to_vec();
        for leg in &legs {
            self.check_single_table(leg);
            for column in &leg.output {
                match columns.iter().find(|c| c.name == column.name) {
                    Some(existing) if existing.ty != column.ty => self.error(
                        Diagnostic::new(
                            Code::Unsupported,
                            format!(
                                "union of column '{}' with types {} and {} is not supported",
                                column.name, existing.ty, column.ty
                            ),
                            span,
                        )
                        .with_help("convert the column to one type in every table first"),
                    ),
                    Some(_) => {}
                    None => columns.push(column.clone()),
                }
            }
        }
        if union.inner {
            columns.retain(|c| {
                input.iter().any(|i| i.name == c.name)
                    && legs
                        .iter()
                        .all(|leg| leg.output.iter().any(|o| o.name == c.name))
            });
        }
        if let Some(source) = &union.with_source {
            if let Some(i) = columns.iter().position(|c| c.name == source.name) {
                let column = columns.remove(i);
                columns.insert(0, column);
            }
        }
        let mapping = |output: &[Column]| -> Vec<Option<usize>> {
            columns
                .iter()
                .map(|c| output.iter().position(|o| o.name == c.name))
                .collect()
        };
        let input_map = mapping(input);
        let legs = legs
            .into_iter()
            .map(|leg| {
                let map = mapping(&leg.output);
                (leg, map)
            })
            .collect();
        (
            CheckedOp::Union {
                input: input_map,
                legs,
            },
            columns,
        )
    }

    /// A rule reads at most one table: every table source in `query`
    /// must be the same as in the rest of the query.
    pub(super) fn check_single_table(&mut self, query: &CheckedQuery) {
        let mut names = Vec::new();
        collect_tables(query, &mut names);
        names.sort();
        names.dedup();
        if names.len() > 1 {
            self.error(Diagnostic::new(
                Code::Unsupported,
                format!(
                    "a rule reads one table; this query reads {}",
                    names.join(" and ")
                ),
                Span::default(),
            ));
        }
    }
}
