//! What a live detector needs to know to run a rule on a schedule
//! (`docs/rules.md`, "Scheduled rules"):
//!
//! - [`is_stateful`]: whether the rule keeps state across rows, so that in
//!   live mode it runs every `@frequency` over the rows of the last
//!   `@period` rather than per event;
//! - [`split_point`]: how many leading stages run per event as rows
//!   arrive (the stateless prefix); the rest runs at each tick over the
//!   rows the prefix gave;
//! - [`ago_bound`]: the period a leading `where Timestamp > ago(1h)` implies,
//!   for a rule that says no `@period`.

use super::ir::{Arg, Builtin, Comparison, Const, Expr, FunctionId, Input, Op, Pipeline, Stage};

/// True when a rule keeps state across rows: its pipeline, or a `union`
/// leg or `join` side that reads the table, has a stateful operator
/// (`summarize`, `count`, `join`, `sort`, `top`, `distinct`, `take`,
/// `sample`, row functions).
pub fn is_stateful(pipeline: &Pipeline) -> bool {
    pipeline.stages.iter().any(|stage| match &stage.op {
        Op::Union { legs, .. } => legs.iter().any(|(leg, _)| is_stateful(leg)),
        op => op.is_stateful(),
    })
}

/// The number of leading stages of a stateful rule that can run on each
/// row as it arrives, with the same result as at the tick: stages that
/// keep no state, do not read `now()` (at the tick it is the tick's time)
/// and use no sub-query (computed when the rule starts). 0 when the rule
/// reads its table more than once (a `join` or `union` over it): then the
/// input rows themselves are kept and the whole rule runs at the tick.
pub fn split_point(pipeline: &Pipeline) -> usize {
    if !matches!(pipeline.input, Input::Table { .. }) || table_reads(pipeline) != 1 {
        return 0;
    }
    pipeline
        .stages
        .iter()
        .position(|stage| !runs_per_row(stage))
        .unwrap_or(pipeline.stages.len())
}

/// The period that a rule's leading `where` clauses bound it to: the
/// largest `T` of `Timestamp > ago(T)` (or `>=`, or `ago(T) < Timestamp`)
/// over a datetime column, in ticks, when one of them holds such a test
/// (alone, or as a term of an `and`).
pub fn ago_bound(pipeline: &Pipeline) -> Option<i64> {
    let Input::Table { columns, .. } = &pipeline.input else {
        return None;
    };
    let mut bound = None;
    for stage in &pipeline.stages {
        let Op::Filter(predicate) = &stage.op else {
            break;
        };
        // Up to the first stage that is not a `where`, columns are the
        // table's.
        let mut terms = Vec::new();
        and_terms(predicate, &mut terms);
        for term in terms {
            if let Some(span) = ago_test(term, columns) {
                bound = Some(bound.map_or(span, |b: i64| b.max(span)));
            }
        }
    }
    bound
}

fn and_terms<'a>(expr: &'a Expr, out: &mut Vec<&'a Expr>) {
    match expr {
        Expr::Call {
            builtin: Builtin::And,
            args,
            ..
        } => {
            for arg in args {
                if let Arg::Value(e) = arg {
                    and_terms(e, out);
                }
            }
        }
        other => out.push(other),
    }
}

/// `T` of `column > ago(T)`, `column >= ago(T)`, `ago(T) < column`,
/// `ago(T) <= column` over a datetime column.
fn ago_test(term: &Expr, columns: &[(String, crate::types::ScalarType)]) -> Option<i64> {
    let Expr::Call {
        builtin: Builtin::Compare(comparison),
        args,
        ..
    } = term
    else {
        return None;
    };
    let [Arg::Value(left), Arg::Value(right)] = args.as_slice() else {
        return None;
    };
    let (column, bound) = match comparison {
        Comparison::Gt | Comparison::Ge => (left, right),
        Comparison::Lt | Comparison::Le => (right, left),
        _ => return None,
    };
    let Expr::Column(i, _) = column else {
        return None;
    };
    if columns.get(*i).map(|(_, t)| *t) != Some(crate::types::ScalarType::DateTime) {
        return None;
    }
    match bound {
        Expr::Call {
            builtin: Builtin::Function(FunctionId::AGO),
            args,
            ..
        } => match args.as_slice() {
            [Arg::Context, Arg::Value(Expr::Const(Const::TimeSpan(span)))] if *span > 0 => {
                Some(*span)
            }
            _ => None,
        },
        _ => None,
    }
}

/// How many pipelines of the rule receive the table's rows.
fn table_reads(pipeline: &Pipeline) -> usize {
    let own = usize::from(matches!(pipeline.input, Input::Table { .. }));
    own + pipeline
        .stages
        .iter()
        .map(|stage| match &stage.op {
            Op::Join { right, .. } => table_reads(right),
            Op::Union { legs, .. } => legs.iter().map(|(leg, _)| table_reads(leg)).sum(),
            Op::Graph(graph) => graph
                .node_tables
                .iter()
                .map(|t| table_reads(&t.pipeline))
                .sum(),
            _ => 0,
        })
        .sum::<usize>()
}

/// Whether a stage's result for a row depends on that row alone, the same
/// whenever it runs.
fn runs_per_row(stage: &Stage) -> bool {
    let exprs: Vec<&Expr> = match &stage.op {
        Op::Filter(e) => vec![e],
        Op::Extend(items) => items.iter().map(|(_, e)| e).collect(),
        Op::Project(values) => values.iter().collect(),
        Op::Select(_) => Vec::new(),
        Op::MvExpand { items, .. } => items.iter().map(|(_, e)| e).collect(),
        Op::Parse { expr, .. } => vec![expr],
        _ => return false,
    };
    exprs.into_iter().all(is_timeless)
}

/// True when an expression reads neither the run's context (`now()`,
/// `ago()`) nor a sub-query.
fn is_timeless(expr: &Expr) -> bool {
    match expr {
        Expr::Subquery { .. } => false,
        Expr::Call { args, .. } if args.iter().any(|arg| matches!(arg, Arg::Context)) => false,
        _ => expr.operands().into_iter().all(is_timeless),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sema::Schema;

    fn plan(kql: &str) -> Pipeline {
        crate::compile(kql, &Schema::builtin()).unwrap_or_else(|d| panic!("{kql}: {d:?}"))
    }

    #[test]
    fn the_prefix_ends_at_the_first_stateful_or_time_reading_stage() {
        let p = plan(
            "CloudAuditEvents | where OperationName == 'exec' | extend U = tostring(RawEventData.User) \
             | summarize n = count() by U | where n > 5",
        );
        assert!(is_stateful(&p));
        assert_eq!(split_point(&p), 2);
        let p = plan(
            "CloudAuditEvents | where OperationName == 'exec' | where Timestamp > ago(1h) \
             | summarize n = count() by tostring(RawEventData.User)",
        );
        assert_eq!(split_point(&p), 1);
        assert_eq!(ago_bound(&p), Some(36_000_000_000));
        let p = plan("CloudAuditEvents | where OperationName == 'exec'");
        assert!(!is_stateful(&p));
        assert_eq!(ago_bound(&p), None);
    }

    #[test]
    fn rows_made_at_the_end_of_input_run_at_the_tick() {
        for kql in [
            "CloudAuditEvents | where City == 'x' | top-nested 2 of OperationName by count()",
            "CloudAuditEvents | where City == 'x' | partition hint.strategy=native by City (take 1)",
            "CloudAuditEvents | where City == 'x' | getschema",
        ] {
            let p = plan(kql);
            assert!(is_stateful(&p), "{kql}");
            assert_eq!(split_point(&p), 1, "{kql}");
        }
        // `render` draws nothing: the rule stays per event.
        let p = plan("CloudAuditEvents | where City == 'x' | render table");
        assert!(!is_stateful(&p));
    }

    #[test]
    fn a_rule_reading_its_table_twice_keeps_input_rows() {
        let p = plan(
            "CloudAuditEvents | where OperationName == 'exec' \
             | join kind=inner (CloudAuditEvents | where OperationName == 'create') on OperationName",
        );
        assert!(is_stateful(&p));
        assert_eq!(split_point(&p), 0);
    }

    #[test]
    fn ago_bounds_are_found_in_and_terms_and_either_side() {
        let p =
            plan("CloudAuditEvents | where OperationName == 'x' and ago(2h) <= Timestamp | count");
        assert_eq!(ago_bound(&p), Some(72_000_000_000));
        let p = plan("CloudAuditEvents | where Timestamp < ago(2h) | count");
        assert_eq!(ago_bound(&p), None);
    }
}
