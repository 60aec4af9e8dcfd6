//! Whether a rule stays exact when its input is partitioned by a key
//! (`docs/scale-out.md`).
//!
//! N detector instances that each consume one partition of a stream (all
//! events with the same partition key value go to one instance) give the
//! same results as one instance over the whole stream when every piece of
//! state a rule keeps is per value of the partition key: a stateless rule
//! always does; a `summarize`, `distinct`, `make-series` or `join` does
//! when one of its grouping (or join) keys is the partition key itself,
//! carried unchanged from the input. A `count`, `sort`/`top`, `take`,
//! `sample` or row function sees every row in one place, so under
//! partitioning each instance computes it over its own share only.
//!
//! [`partition_warnings`] follows, stage by stage, which output columns
//! hold the partition key: the input column itself, or a member path of
//! it (`RawEventData.User.username`) copied by `extend`/`project`, also
//! through `tostring()`. Anything else (a `tolower`, a `strcat`, a bin)
//! is not the key: different keys could give the same value, so the group
//! could span partitions. The analysis is conservative: it may warn about
//! a rule that happens to be exact, never the other way round.

use super::ir::{Arg, Builtin, Expr, FunctionId, Input, Op, Pipeline};

/// The partition key: an input column, or a member path inside one
/// (`AzureResourceId`, `RawEventData.User.username`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionKey {
    column: String,
    path: Vec<String>,
}

impl PartitionKey {
    /// Reads `Column` or `Column.member.member`.
    pub fn parse(text: &str) -> Result<PartitionKey, String> {
        let mut parts = text.split('.');
        let column = parts.next().unwrap_or_default().trim();
        let path: Vec<String> = parts.map(|p| p.trim().to_string()).collect();
        let name_like = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !name_like(column) || !path.iter().all(|p| name_like(p)) {
            return Err(format!(
                "'{text}' is not a column or a member path (e.g. AzureResourceId, RawEventData.User.username)"
            ));
        }
        Ok(PartitionKey {
            column: column.to_string(),
            path,
        })
    }
}

impl std::fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.column)?;
        for member in &self.path {
            write!(f, ".{member}")?;
        }
        Ok(())
    }
}

/// What a column holds, as far as the partition key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Carries {
    /// Nothing known.
    Other,
    /// The partition key's value.
    Key,
    /// The input column the key's member path starts from, unchanged.
    Root,
}

/// Why `pipeline`, run by instances that each see one partition of its
/// input (by `key`), would not give what one instance over all of the
/// input gives: one message per stateful operator whose state is not per
/// partition key. Empty when the rule stays exact.
pub fn partition_warnings(pipeline: &Pipeline, key: &PartitionKey) -> Vec<String> {
    let mut warnings = Vec::new();
    walk(pipeline, key, &mut warnings);
    warnings
}

/// Walks `pipeline`'s stages: the columns of its output rows that carry
/// the key.
fn walk(pipeline: &Pipeline, key: &PartitionKey, warnings: &mut Vec<String>) -> Vec<Carries> {
    let mut marks: Vec<Carries> = match &pipeline.input {
        Input::Table { columns, .. } => columns
            .iter()
            .map(
                |(name, _)| match (name == &key.column, key.path.is_empty()) {
                    (true, true) => Carries::Key,
                    (true, false) => Carries::Root,
                    _ => Carries::Other,
                },
            )
            .collect(),
        _ => Vec::new(),
    };
    let reads_table = matches!(pipeline.input, Input::Table { .. });
    for stage in &pipeline.stages {
        let at = |marks: &[Carries], p: usize| marks.get(p).copied().unwrap_or(Carries::Other);
        // What makes this stage inexact under partitioning, if anything.
        let mut problem: Option<&str> = None;
        let mut warn = |what: &'static str| problem = Some(what);
        let not_by_key = "groups rows by keys that do not include the partition key";
        match &stage.op {
            Op::Filter(_) => {}
            Op::Extend(items) => {
                for (position, expr) in items {
                    let carries = classify(expr, &marks, key);
                    set(&mut marks, *position, carries);
                }
            }
            Op::Project(exprs) => marks = exprs.iter().map(|e| classify(e, &marks, key)).collect(),
            Op::Select(positions) => marks = positions.iter().map(|p| at(&marks, *p)).collect(),
            Op::MvExpand {
                items, item_index, ..
            } => {
                for (position, _) in items {
                    set(&mut marks, *position, Carries::Other);
                }
                if let Some(position) = item_index {
                    set(&mut marks, *position, Carries::Other);
                }
            }
            Op::Parse { targets, .. } => {
                for (position, _) in targets {
                    set(&mut marks, *position, Carries::Other);
                }
            }
            Op::Scan(scan) => {
                warn("matches sequences over all rows in order");
                let width = marks.len();
                let added = scan.defaults.len() + usize::from(scan.match_id);
                for position in width..width + added {
                    set(&mut marks, position, Carries::Other);
                }
            }
            Op::Window(items) => {
                warn("computes row functions over all rows in order");
                for (position, _) in items {
                    set(&mut marks, *position, Carries::Other);
                }
            }
            Op::Take(_) | Op::Sample(_) => warn("picks rows out of all rows"),
            Op::Count => warn("counts all rows"),
            Op::Sort { .. } => warn("orders all rows"),
            Op::Summarize { keys, .. } => {
                let kept: Vec<Carries> = keys.iter().map(|e| classify(e, &marks, key)).collect();
                if !kept.contains(&Carries::Key) {
                    warn(not_by_key);
                }
                marks = kept;
            }
            Op::MakeSeries(series) => {
                let kept: Vec<Carries> = series
                    .keys
                    .iter()
                    .map(|e| classify(e, &marks, key))
                    .collect();
                if !kept.contains(&Carries::Key) {
                    warn(not_by_key);
                }
                marks = kept;
            }
            Op::Distinct(columns) => {
                let kept: Vec<Carries> = columns.iter().map(|p| at(&marks, *p)).collect();
                if !kept.contains(&Carries::Key) {
                    warn("keeps distinct rows by columns that do not include the partition key");
                }
                marks = kept;
            }
            Op::Join {
                right,
                left_keys,
                right_keys,
                right_columns,
                left_width,
                ..
            } => {
                let right_marks = walk(right, key, warnings);
                let right_reads_table = table_read(right);
                let by_key = left_keys.iter().zip(right_keys).any(|(l, r)| {
                    at(&marks, *l) == Carries::Key
                        && (!right_reads_table || at(&right_marks, *r) == Carries::Key)
                });
                // A join with a constant table (a `datatable`, an
                // allow-list) is the same on every instance.
                if right_reads_table && !by_key {
                    warn("joins rows on keys that do not include the partition key on both sides");
                }
                marks.resize(*left_width, Carries::Other);
                marks.extend(right_columns.iter().map(|p| at(&right_marks, *p)));
            }
            Op::Union { legs, .. } => {
                for (leg, _) in legs {
                    walk(leg, key, warnings);
                }
                // Laid out by name: what each position holds is not tracked.
                marks.clear();
            }
            Op::MvApply { .. } => marks.clear(),
            Op::Graph(graph) => {
                for table in &graph.node_tables {
                    walk(&table.pipeline, key, warnings);
                }
                warn("builds one graph of all rows");
                marks.clear();
            }
            Op::TopNested(levels) => {
                warn("ranks values over all rows");
                marks = levels
                    .iter()
                    .flat_map(|level| [classify(&level.key, &marks, key), Carries::Other])
                    .collect();
            }
            Op::ConstantRows(_) => marks.clear(),
            Op::Partition { key: column, .. } => {
                if at(&marks, *column) != Carries::Key {
                    warn("partitions rows by a column that is not the partition key");
                }
                marks.clear();
            }
        }
        if let (Some(what), true) = (problem, reads_table) {
            warnings.push(format!("`{}` {what}", stage.kql.trim()));
        }
        marks.resize(stage.output_names.len(), Carries::Other);
    }
    marks
}

/// True when `pipeline` or one of its legs reads an input table.
fn table_read(pipeline: &Pipeline) -> bool {
    matches!(pipeline.input, Input::Table { .. })
        || pipeline.stages.iter().any(|stage| match &stage.op {
            Op::Join { right, .. } => table_read(right),
            Op::Union { legs, .. } => legs.iter().any(|(leg, _)| table_read(leg)),
            Op::Graph(graph) => graph.node_tables.iter().any(|t| table_read(&t.pipeline)),
            _ => false,
        })
}

fn set(marks: &mut Vec<Carries>, position: usize, carries: Carries) {
    if marks.len() <= position {
        marks.resize(position + 1, Carries::Other);
    }
    marks[position] = carries;
}

/// What `expr`, over a row whose columns carry `marks`, carries.
fn classify(expr: &Expr, marks: &[Carries], key: &PartitionKey) -> Carries {
    match expr {
        Expr::Column(position, _) => match marks.get(*position) {
            Some(Carries::Key) => Carries::Key,
            Some(Carries::Root) => Carries::Root,
            _ => Carries::Other,
        },
        Expr::Member(..) => {
            // Peel the members down to the column they start from.
            let mut members = Vec::new();
            let mut target = expr;
            while let Expr::Member(inner, name) = target {
                members.push(name.as_str());
                target = inner;
            }
            members.reverse();
            match target {
                Expr::Column(position, _)
                    if marks.get(*position) == Some(&Carries::Root) && members == key.path =>
                {
                    Carries::Key
                }
                _ => Carries::Other,
            }
        }
        Expr::Call {
            builtin: Builtin::Function(FunctionId::TOSTRING),
            args,
            ..
        } => match args.as_slice() {
            [Arg::Value(inner)] => match classify(inner, marks, key) {
                Carries::Key => Carries::Key,
                _ => Carries::Other,
            },
            _ => Carries::Other,
        },
        _ => Carries::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sema::Schema;

    fn warnings(kql: &str, key: &str) -> Vec<String> {
        let pipeline = crate::compile(kql, &Schema::builtin())
            .unwrap_or_else(|d| panic!("{kql}: {}", d[0].message));
        partition_warnings(&pipeline, &PartitionKey::parse(key).unwrap())
    }

    #[test]
    fn a_stateless_rule_is_exact_under_any_partitioning() {
        assert!(warnings(
            "CloudAuditEvents | where OperationName == 'create' | project User = tostring(RawEventData.User.username)",
            "AzureResourceId"
        )
        .is_empty());
    }

    #[test]
    fn a_summarize_by_the_key_is_exact_and_one_by_other_keys_is_not() {
        let by_user = "CloudAuditEvents | extend User = tostring(RawEventData.User.username) | summarize n = count() by bin(Timestamp, 10m), User | where n > 5";
        assert!(warnings(by_user, "RawEventData.User.username").is_empty());
        let by_cluster = warnings(by_user, "AzureResourceId");
        assert_eq!(by_cluster.len(), 1, "{by_cluster:?}");
        assert!(
            by_cluster[0].starts_with("`summarize n = count() by bin(Timestamp, 10m), User` groups rows by keys that do not include the partition key"),
            "{by_cluster:?}"
        );
        // A function of the key is not the key: two keys may meet.
        assert_eq!(
            warnings(
                "CloudAuditEvents | summarize count() by tolower(tostring(RawEventData.User.username))",
                "RawEventData.User.username"
            )
            .len(),
            1
        );
        assert!(warnings(
            "CloudAuditEvents | summarize count() by AzureResourceId, OperationName",
            "AzureResourceId"
        )
        .is_empty());
    }

    #[test]
    fn counts_sorts_and_self_joins_need_every_row_in_one_place() {
        assert_eq!(
            warnings("CloudAuditEvents | count", "AzureResourceId").len(),
            1
        );
        assert_eq!(
            warnings("CloudAuditEvents | top 5 by Timestamp", "AzureResourceId").len(),
            1
        );
        let self_join = "CloudAuditEvents | where OperationName == 'create' | join kind=inner (CloudAuditEvents | where OperationName == 'delete') on AzureResourceId";
        assert!(warnings(self_join, "AzureResourceId").is_empty());
        assert_eq!(warnings(self_join, "OperationName").len(), 1);
    }

    #[test]
    fn a_key_is_a_column_or_a_member_path() {
        assert_eq!(
            PartitionKey::parse("RawEventData.User.username")
                .unwrap()
                .to_string(),
            "RawEventData.User.username"
        );
        assert!(PartitionKey::parse("a b").is_err());
        assert!(PartitionKey::parse("A..b").is_err());
    }
}
