//! `top-nested` and `partition`: grouped rankings and per-group
//! sub-queries (`top-hitters` is desugared: `sema/desugar.rs`).

use super::{reads_input_table, Checker};
use crate::diag::{Code, Diagnostic};
use crate::sema::aggregates::{self};
use crate::sema::names::item_name;
use crate::sema::{CheckedOp, CheckedQuery, CheckedSource, Column, TypedExprKind};
use crate::syntax::ast::{self, ExprKind, Literal, Span};

impl Checker<'_> {
    /// `top-nested`: two columns per level, the key's and the aggregate's
    /// (`aggregated_KEY` unless named).
    pub(super) fn top_nested(
        &mut self,
        levels: &[ast::TopNestedLevel],
        input: &[Column],
    ) -> (CheckedOp, Vec<Column>) {
        /// The aggregates the reference lists for `top-nested`.
        const RANKING: &[&str] = &[
            "sum",
            "count",
            "max",
            "min",
            "dcount",
            "avg",
            "percentile",
            "percentilew",
        ];
        let mut columns: Vec<Column> = Vec::new();
        let mut checked = Vec::new();
        let mut unnamed = 0;
        for level in levels {
            let count = level
                .count
                .as_ref()
                .map(|c| self.constant_count(c, "top-nested"));
            let key = self.expr(&level.of.expr, input);
            let key_name = item_name(&level.of, &mut unnamed);
            let span = level
                .of
                .name
                .as_ref()
                .map_or(level.of.expr.span, |n| n.span);
            self.check_unique(&columns, &key_name, span);
            columns.push(Column::new(key_name.clone(), key.ty));
            let others = level.others.as_ref().map(|o| {
                // A constant: it may read no column.
                let value = self.expr(o, &[]);
                let fits = value.ty == key.ty
                    || matches!(value.kind, TypedExprKind::Literal(Literal::Null(_)))
                    || (value.ty.is_numeric() && key.ty.is_numeric());
                if !fits {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "`with others` gives a {} where the level's values are {}",
                                value.ty, key.ty
                            ),
                            o.span,
                        )
                        .with_label(format!("expected a {}", key.ty)),
                    );
                }
                value
            });
            let by = &level.by;
            let function = match &by.expr.kind {
                ExprKind::Call { name, .. } => Some(name),
                _ => None,
            };
            let Some(function) = function else {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "an expression over aggregates in `top-nested` is not supported yet",
                        by.expr.span,
                    )
                    .with_label("not a single aggregate call"),
                );
                continue;
            };
            // An aggregate the reference does not list (a name that is no
            // aggregate at all is reported by `aggregate`).
            if !RANKING.contains(&function.name.as_str())
                && aggregates::lookup(&function.name).is_some()
            {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("`top-nested` does not rank by '{}'", function.name),
                        function.span,
                    )
                    .with_label("not a top-nested aggregate")
                    .with_note(format!("it ranks by {}", RANKING.join(", "))),
                );
                continue;
            }
            let Some(aggregate) = self.aggregate(&by.expr, input, &[]) else {
                continue;
            };
            let ty = aggregate
                .function
                .result_type(aggregate.value.as_ref().map(|v| v.ty));
            let name = by
                .name
                .as_ref()
                .map_or_else(|| format!("aggregated_{key_name}"), |n| n.name.clone());
            let span = by.name.as_ref().map_or(by.expr.span, |n| n.span);
            self.check_unique(&columns, &name, span);
            columns.push(Column::new(name, ty));
            checked.push(crate::sema::CheckedTopNestedLevel {
                count,
                key,
                others,
                aggregate,
                descending: level.descending,
            });
        }
        (CheckedOp::TopNested(checked), columns)
    }

    /// `partition [hint.strategy=S] by COL (SUBQUERY)`.
    pub(super) fn partition(
        &mut self,
        partition: &ast::Partition,
        input: &[Column],
        span: Span,
    ) -> (CheckedOp, Vec<Column>) {
        let key = self.column_index(input, &partition.by).unwrap_or(0);
        let mut limit = Some(crate::sema::limits::LEGACY_PARTITIONS);
        for (name, value) in &partition.hints {
            if name == "hint.strategy" {
                limit = match value.as_str() {
                    "legacy" => Some(crate::sema::limits::LEGACY_PARTITIONS),
                    "native" | "shuffle" => None,
                    other => {
                        self.error(
                            Diagnostic::new(
                                Code::UnexpectedToken,
                                format!("unknown partition strategy '{other}'"),
                                span,
                            )
                            .with_label("expected legacy, native or shuffle"),
                        );
                        None
                    }
                };
            }
        }
        let mut sub = CheckedQuery {
            source: CheckedSource::Rows {
                columns: input.to_vec(),
                rows: Vec::new(),
            },
            stages: Vec::new(),
            output: input.to_vec(),
        };
        self.check_render_last(&partition.subquery);
        let outer = self.graph_refused_in.replace(("partition", false));
        for operator in &partition.subquery {
            sub = self.push_operator(sub, operator);
        }
        self.graph_refused_in = outer;
        if reads_input_table(&sub, true) {
            self.error(Diagnostic::new(
                Code::Unsupported,
                "a partition subquery that reads a table or a file (in a join or union) is not supported yet",
                span,
            ));
        }
        let output = sub.output.clone();
        (
            CheckedOp::Partition {
                key,
                sub: Box::new(sub),
                limit,
            },
            output,
        )
    }
}
