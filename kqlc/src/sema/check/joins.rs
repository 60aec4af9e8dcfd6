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
        // Every (name, type) pair in order of first occurrence
        // (union-operator.md, `kind=outer`: "one column for each name and
        // type occurrences").
        let mut pairs: Vec<Column> = Vec::new();
        for column in input
            .iter()
            .chain(legs.iter().flat_map(|leg| leg.output.iter()))
        {
            if !pairs
                .iter()
                .any(|p| p.name == column.name && p.ty == column.ty)
            {
                pairs.push(column.clone());
            }
        }
        for leg in &legs {
            self.check_single_table(leg);
        }
        let typed_twice = |name: &str| pairs.iter().filter(|p| p.name == name).count() > 1;
        if union.inner {
            if let Some(column) = pairs.iter().find(|p| typed_twice(&p.name)) {
                let types: Vec<String> = pairs
                    .iter()
                    .filter(|p| p.name == column.name)
                    .map(|p| p.ty.to_string())
                    .collect();
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "union kind=inner of column '{}' with types {} is not supported",
                            column.name,
                            types.join(" and ")
                        ),
                        span,
                    )
                    .with_help("convert the column to one type in every table first"),
                );
            }
        }
        // A name with several types becomes NAME_TYPE per type; where that
        // is taken by a column of the inputs, a number follows (the page's
        // `x_long1`).
        let mut columns: Vec<Column> = pairs
            .iter()
            .filter(|p| !typed_twice(&p.name))
            .cloned()
            .collect();
        let mut origins: Vec<(String, ScalarType)> =
            columns.iter().map(|c| (c.name.clone(), c.ty)).collect();
        let mut named: Vec<(usize, Column, (String, ScalarType))> = Vec::new();
        for (at, pair) in pairs.iter().enumerate() {
            if typed_twice(&pair.name) {
                let name = unique_name(&columns, &format!("{}_{}", pair.name, pair.ty));
                let column = Column::new(name, pair.ty);
                columns.push(column.clone());
                named.push((at, column, (pair.name.clone(), pair.ty)));
            }
        }
        // Back into the order of first occurrence.
        let mut ordered: Vec<(Column, (String, ScalarType))> = Vec::new();
        let mut plain = columns
            .iter()
            .zip(origins.drain(..))
            .take(columns.len() - named.len());
        let mut renamed = named.into_iter().peekable();
        for (at, _) in pairs.iter().enumerate() {
            if renamed.peek().is_some_and(|(k, _, _)| *k == at) {
                let (_, column, origin) = renamed.next().unwrap_or_else(|| unreachable!());
                ordered.push((column, origin));
            } else if let Some((column, origin)) = plain.next() {
                ordered.push((column.clone(), origin));
            }
        }
        let (mut columns, mut origins): (Vec<Column>, Vec<(String, ScalarType)>) =
            ordered.into_iter().unzip();
        if union.inner {
            let keep: Vec<bool> = origins
                .iter()
                .map(|(name, _)| {
                    input.iter().any(|i| &i.name == name)
                        && legs
                            .iter()
                            .all(|leg| leg.output.iter().any(|o| &o.name == name))
                })
                .collect();
            let mut k = keep.iter();
            columns.retain(|_| *k.next().unwrap_or(&false));
            let mut k = keep.iter();
            origins.retain(|_| *k.next().unwrap_or(&false));
        }
        if let Some(source) = &union.with_source {
            if let Some(i) = columns.iter().position(|c| c.name == source.name) {
                let column = columns.remove(i);
                columns.insert(0, column);
                let origin = origins.remove(i);
                origins.insert(0, origin);
            }
        }
        let mapping = |output: &[Column]| -> Vec<Option<usize>> {
            origins
                .iter()
                .map(|(name, ty)| {
                    output
                        .iter()
                        .position(|o| &o.name == name && (o.ty == *ty || !typed_twice(name)))
                })
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
