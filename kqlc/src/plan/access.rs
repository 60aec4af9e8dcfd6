//! Access paths: what a query can observe of each input column.
//!
//! The reader parses only that much of an input line (`runtime/detector/src/lazy.rs`):
//! a column the query never reads is checked but not built, and a `dynamic`
//! column read only through constant member chains (`C.a.b`, `C["a"]`) is
//! built only along those paths. So the analysis must never miss a way a
//! value can be observed, and is conservative wherever it is unsure:
//!
//! - a chain `C.a.b` makes path `a.b` whole below it; a chain broken by a
//!   non-constant key or an array index (`C.a[0].b`, `C.a[k]`) stops at the
//!   last constant key before it (`a`);
//! - any other reference to a column (passed to a function, compared,
//!   expanded, projected, summarized by, made distinct, sorted on, reaching
//!   the output) makes the whole column observable;
//! - a pipeline with a `join`, `union` or `mv-apply` observes every column
//!   whole.
//!
//! A table's column that holds the whole event re-serialized (`log_s`:
//! `sema::Table::serialized_event`) is a string, but the detector makes it
//! from the parsed event (`kql_runtime::value::JsonText`), and
//! `parse_json` of it gives that event back. So member chains off
//! `parse_json(log_s)`, or off a column an `extend` set to it, are paths of
//! the column, as if it were `dynamic` (in the event's upstream key
//! spelling: `objectRef.resource`). Reading the text itself, or the parse
//! in any other way, observes it whole.

use super::ir::{Access, Arg, Builtin, Expr, FunctionId, Op, Stage};
use crate::types::ScalarType;

/// What `stages` can observe of each column of the input table
/// (`columns`, in row order; `serialized` is the column holding the event
/// re-serialized, if any).
pub fn column_access(
    columns: &[(String, ScalarType)],
    serialized: Option<usize>,
    stages: &[Stage],
) -> Vec<Access> {
    let width = columns.len();
    let combines = stages.iter().any(|s| {
        matches!(
            s.op,
            Op::Join { .. } | Op::Union { .. } | Op::MvApply { .. } | Op::Graph(_)
        )
    });
    if combines {
        return vec![Access::Whole; width];
    }
    let mut tracker = Tracker {
        origin: (0..width).map(Some).collect(),
        parsed: vec![None; width],
        serialized,
        access: vec![Access::Unread; width],
    };
    for stage in stages {
        tracker.stage(&stage.op);
    }
    // Whatever still holds an input column (or its parse) reaches the
    // output unchanged.
    let held = tracker.origin.iter().chain(&tracker.parsed).flatten();
    for k in held.copied().collect::<Vec<_>>() {
        tracker.access[k] = Access::Whole;
    }
    // Only `dynamic` values (and the serialized event) have members: any
    // other read column is whole.
    tracker
        .access
        .into_iter()
        .zip(columns)
        .enumerate()
        .map(|(i, (access, (_, ty)))| match access {
            Access::Members(_) if *ty != ScalarType::Dynamic && Some(i) != serialized => {
                Access::Whole
            }
            other => other,
        })
        .collect()
}

/// The walk over the stages: which input column each position of the
/// current row still holds, and what has been observed so far.
struct Tracker {
    /// `origin[i]`: the input column that position `i` holds unchanged.
    origin: Vec<Option<usize>>,
    /// `parsed[i]`: the serialized-event column whose `parse_json`
    /// position `i` holds unchanged.
    parsed: Vec<Option<usize>>,
    /// The column holding the event re-serialized, if any.
    serialized: Option<usize>,
    /// Per input column, what has been observed.
    access: Vec<Access>,
}

impl Tracker {
    fn stage(&mut self, op: &Op) {
        match op {
            Op::Filter(e) => self.observe(e),
            Op::Extend(items) => {
                for (position, e) in items {
                    // `extend Event = parse_json(log_s)`: members of
                    // `Event` are paths of `log_s`.
                    let parse = self.parse_of(e);
                    if parse.is_none() {
                        self.observe(e);
                    }
                    self.replace(*position);
                    self.parsed[*position] = parse;
                }
            }
            Op::MvExpand {
                items, item_index, ..
            } => {
                for (position, e) in items {
                    self.observe(e);
                    self.replace(*position);
                }
                if let Some(position) = item_index {
                    self.replace(*position);
                }
            }
            Op::Project(values) => {
                // Even a column projected as it is counts as observed whole:
                // simpler to trust than following it under a new name.
                for e in values {
                    self.observe(e);
                }
                self.origin = vec![None; values.len()];
                self.parsed = vec![None; values.len()];
            }
            Op::Select(indices) => {
                self.origin = indices
                    .iter()
                    .map(|&i| self.origin.get(i).copied().flatten())
                    .collect();
                self.parsed = indices
                    .iter()
                    .map(|&i| self.parsed.get(i).copied().flatten())
                    .collect();
            }
            Op::Take(_) | Op::Sample(_) => {}
            Op::Window(items) => {
                for (position, window) in items {
                    for e in &window.args {
                        self.observe(e);
                    }
                    self.replace(*position);
                }
            }
            // Conditions read the steps' copies of the columns too: every
            // column is observed whole, and passed on.
            Op::Scan(scan) => {
                let width = self.origin.len();
                for i in 0..width {
                    self.observe_column(i);
                }
                let added = scan.defaults.len() + usize::from(scan.match_id);
                for position in width..width + added {
                    self.replace(position);
                }
            }
            Op::Count => self.clear(),
            Op::MakeSeries(series) => {
                for e in series.expressions() {
                    self.observe(e);
                }
                self.clear();
            }
            Op::Summarize { keys, aggregates } => {
                for e in keys {
                    self.observe(e);
                }
                for a in aggregates {
                    for e in a
                        .value
                        .iter()
                        .chain(&a.predicate)
                        .chain(&a.parameter)
                        .chain(&a.carried)
                    {
                        self.observe(e);
                    }
                }
                self.clear();
            }
            Op::Sort { keys, .. } => {
                for key in keys {
                    self.observe(&key.expr);
                }
            }
            Op::Distinct(columns) => {
                // Rows are told apart by the whole values.
                for &i in columns {
                    self.observe_column(i);
                }
                self.origin = columns
                    .iter()
                    .map(|&i| self.origin.get(i).copied().flatten())
                    .collect();
                self.parsed = columns
                    .iter()
                    .map(|&i| self.parsed.get(i).copied().flatten())
                    .collect();
            }
            Op::Parse { expr, targets, .. } => {
                self.observe(expr);
                for (position, _) in targets {
                    self.replace(*position);
                }
            }
            // `column_access` treats these before the walk; should one get
            // here, everything still held is observed.
            Op::TopNested(levels) => {
                for level in levels {
                    self.observe(&level.key);
                    let a = &level.aggregate;
                    for e in a.value.iter().chain(&a.parameter).chain(&a.carried) {
                        self.observe(e);
                    }
                }
                self.clear();
            }
            Op::ConstantRows(_) => self.clear(),
            Op::Join { .. }
            | Op::Union { .. }
            | Op::MvApply { .. }
            | Op::Partition { .. }
            | Op::Graph(_) => {
                let held: Vec<usize> = self
                    .origin
                    .drain(..)
                    .chain(self.parsed.drain(..))
                    .flatten()
                    .collect();
                for k in held {
                    self.access[k] = Access::Whole;
                }
            }
        }
    }

    /// The row holds no input column any more (`summarize`, `count`).
    fn clear(&mut self) {
        self.origin.clear();
        self.parsed.clear();
    }

    /// Position `position` gets a computed value (replaced or appended).
    fn replace(&mut self, position: usize) {
        if position < self.origin.len() {
            self.origin[position] = None;
        } else {
            self.origin.resize(position + 1, None);
        }
        if position < self.parsed.len() {
            self.parsed[position] = None;
        } else {
            self.parsed.resize(position + 1, None);
        }
    }

    /// The serialized-event column that `expr` is `parse_json` of (or a
    /// position holding that parse), if it is.
    fn parse_of(&self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Column(i, _) => self.parsed.get(*i).copied().flatten(),
            Expr::Call {
                builtin: Builtin::Function(FunctionId::PARSE_JSON),
                args,
                ..
            } => match args.as_slice() {
                [Arg::Value(Expr::Column(i, _))] => {
                    let k = self.origin.get(*i).copied().flatten()?;
                    (Some(k) == self.serialized).then_some(k)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// Records that the value of position `i` is observed whole.
    fn observe_column(&mut self, i: usize) {
        if let Some(Some(k)) = self.parsed.get(i) {
            self.access[*k].add_path(&[]);
        } else if let Some(Some(k)) = self.origin.get(i) {
            self.access[*k].add_path(&[]);
        }
    }

    /// Records what evaluating `expr` can observe.
    fn observe(&mut self, expr: &Expr) {
        match expr {
            Expr::Const(_) => {}
            Expr::Column(..) | Expr::Member(..) => {
                let mut keys: Vec<&str> = Vec::new();
                let mut base = expr;
                while let Expr::Member(target, key) = base {
                    keys.push(key);
                    base = target;
                }
                keys.reverse();
                if let Some(k) = self.parse_of(base) {
                    // A chain off the parsed event: a path of its column
                    // (the parse itself, with no key, observes it whole).
                    self.access[k].add_path(&keys);
                    return;
                }
                match base {
                    Expr::Column(i, _) => {
                        if let Some(Some(k)) = self.origin.get(*i) {
                            self.access[*k].add_path(&keys);
                        }
                    }
                    // The chain hangs off a computed value: what that value
                    // observes is all (the keys after it select from it).
                    other => self.observe(other),
                }
            }
            // `parse_json(log_s)` alone: the parse is observed whole.
            Expr::Call { .. } if self.parse_of(expr).is_some() => {
                if let Some(k) = self.parse_of(expr) {
                    self.access[k] = Access::Whole;
                }
            }
            // `t[i]` (the chain of `t` ends there, observed whole below
            // it), folds and calls: each operand. A sub-query or a
            // constant set reads no column of the row.
            _ => expr.operands().into_iter().for_each(|e| self.observe(e)),
        }
    }
}

impl Access {
    /// Marks `keys` (a member path; empty: the value itself) as observed
    /// whole below it.
    pub fn add_path(&mut self, keys: &[&str]) {
        let Some((first, rest)) = keys.split_first() else {
            *self = Access::Whole;
            return;
        };
        match self {
            Access::Whole => {}
            Access::Unread => {
                let mut child = Access::Unread;
                child.add_path(rest);
                *self = Access::Members([(first.to_string(), child)].into());
            }
            Access::Members(members) => members
                .entry(first.to_string())
                .or_insert(Access::Unread)
                .add_path(rest),
        }
    }

    /// Adds what `other` observes (the union; `Whole` wins).
    pub fn merge(&mut self, other: &Access) {
        match (&mut *self, other) {
            (Access::Whole, _) | (_, Access::Unread) => {}
            (_, Access::Whole) => *self = Access::Whole,
            (Access::Unread, Access::Members(_)) => *self = other.clone(),
            (Access::Members(mine), Access::Members(theirs)) => {
                for (key, access) in theirs {
                    mine.entry(key.clone())
                        .or_insert(Access::Unread)
                        .merge(access);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ir::Input;
    use crate::sema::Schema;

    /// The access of each read column of `CloudAuditEvents`, written as
    /// `Column` (whole) or `Column: a.b, a.c` (paths), unread columns left
    /// out.
    fn access_of(kql: &str) -> Vec<String> {
        let pipeline = crate::compile(kql, &Schema::builtin())
            .unwrap_or_else(|d| panic!("{kql}: {}", d[0].message));
        let Input::Table {
            columns, access, ..
        } = &pipeline.input
        else {
            panic!("{kql}: reads no table");
        };
        columns
            .iter()
            .zip(access)
            .filter_map(|((name, _), access)| match access {
                Access::Unread => None,
                Access::Whole => Some(name.clone()),
                Access::Members(_) => {
                    let mut paths = Vec::new();
                    collect_paths(access, String::new(), &mut paths);
                    Some(format!("{name}: {}", paths.join(", ")))
                }
            })
            .collect()
    }

    fn collect_paths(access: &Access, prefix: String, out: &mut Vec<String>) {
        match access {
            Access::Members(members) => {
                for (key, below) in members {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    collect_paths(below, path, out);
                }
            }
            _ => out.push(prefix),
        }
    }

    #[test]
    fn chains_off_the_parsed_log_are_paths_of_log_s() {
        assert_eq!(
            access_of(
                r#"AzureDiagnostics
                | extend Event = parse_json(log_s)
                | where Event.objectRef.resource == "secrets"
                | project TimeGenerated, Verb = tostring(parse_json(log_s).verb)"#
            ),
            ["TimeGenerated", "log_s: objectRef.resource, verb"]
        );
        // The text, or the parse as a whole, observes all of it.
        for kql in [
            "AzureDiagnostics | where log_s contains 'exec'",
            "AzureDiagnostics | extend Event = parse_json(log_s) | project Event",
            "AzureDiagnostics | extend Event = parse_json(log_s) | where tostring(Event) has 'x'",
            "AzureDiagnostics | extend Event = parse_json(log_s) | summarize take_any(Event)",
            "AzureDiagnostics | where parse_json(log_s)['objectRef'] != ''",
        ] {
            assert!(
                access_of(kql).contains(&"log_s".to_string()),
                "{kql}: {:?}",
                access_of(kql)
            );
        }
    }

    #[test]
    fn member_chains_read_only_their_paths() {
        assert_eq!(
            access_of(
                r#"CloudAuditEvents
                | where RawEventData.ObjectRef.resource == "pods" and isnull(RawEventData["ObjectRef"]["subresource"])
                | project Timestamp, U = tostring(RawEventData.User.username)"#
            ),
            [
                "Timestamp",
                "RawEventData: ObjectRef.resource, ObjectRef.subresource, User.username"
            ]
        );
    }

    #[test]
    fn the_reference_rule_reads_seven_paths() {
        let kql = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/rules/privileged-pod.kql"
        ))
        .unwrap();
        let access = access_of(&kql);
        assert_eq!(
            access
                .iter()
                .find(|a| a.starts_with("RawEventData"))
                .unwrap(),
            "RawEventData: ObjectRef.namespace, ObjectRef.resource, ObjectRef.subresource, \
             RequestObject.metadata.name, RequestObject.spec.containers, \
             ResponseStatus.code, User.username"
        );
        assert!(!access.iter().any(|a| a.starts_with("AdditionalFields")));
    }

    #[test]
    fn a_shorter_chain_covers_longer_ones() {
        assert_eq!(
            access_of(
                "CloudAuditEvents | where RawEventData.ObjectRef.name == 'x' | where isnotnull(RawEventData.ObjectRef) | project OperationName"
            ),
            ["OperationName", "RawEventData: ObjectRef"]
        );
    }

    #[test]
    fn indexes_and_computed_keys_stop_the_chain() {
        assert_eq!(
            access_of(
                "CloudAuditEvents | where RawEventData.RequestObject.subjects[0].name == 'x' | project OperationName"
            ),
            ["OperationName", "RawEventData: RequestObject.subjects"]
        );
        assert_eq!(
            access_of(
                "CloudAuditEvents | where RawEventData.ObjectRef[OperationName] == 'x' | project ReportId"
            ),
            ["ReportId", "OperationName", "RawEventData: ObjectRef"]
        );
    }

    #[test]
    fn whole_uses_of_a_column() {
        for kql in [
            "CloudAuditEvents | where tostring(RawEventData) has 'x' | project OperationName",
            "CloudAuditEvents | where array_length(bag_keys(RawEventData)) > 3 | project OperationName",
            "CloudAuditEvents | mv-expand RawEventData | project OperationName",
            "CloudAuditEvents | extend R = RawEventData | where R.ObjectRef.name == 'x' | project OperationName",
            "CloudAuditEvents | project OperationName, R = RawEventData | where R.ObjectRef.name == 'x' | project OperationName",
            "CloudAuditEvents | summarize count() by tostring(RawEventData.ObjectRef), RawEventData | project OperationName = tostring(count_)",
            "CloudAuditEvents | distinct OperationName, RawEventData | where RawEventData.a == 1 | project OperationName",
            "CloudAuditEvents | where isnotnull(RawEventData) | project OperationName",
            "CloudAuditEvents | where RawEventData == dynamic(null) | project OperationName",
            "CloudAuditEvents | summarize arg_max(Timestamp, *) | project OperationName",
        ] {
            let access = access_of(kql);
            assert!(
                access.iter().any(|a| a == "RawEventData"),
                "{kql}: {access:?}"
            );
        }
    }

    #[test]
    fn columns_reaching_the_output_are_whole_and_others_unread() {
        assert_eq!(
            access_of("CloudAuditEvents | where RawEventData.a == 1"),
            [
                "Timestamp",
                "ReportId",
                "DataSource",
                "ActionType",
                "OperationName",
                "ResourceId",
                "AzureResourceId",
                "IPAddress",
                "IsAnonymousProxy",
                "CountryCode",
                "City",
                "Isp",
                "UserAgent",
                "RawEventData",
                "AdditionalFields"
            ]
        );
        assert_eq!(
            access_of("CloudAuditEvents | where RawEventData.a == 1 | project-away RawEventData | project-keep OperationName"),
            ["OperationName", "RawEventData: a"]
        );
        assert_eq!(
            access_of("CloudAuditEvents | where RawEventData.a == 1 | count"),
            ["RawEventData: a"]
        );
    }

    #[test]
    fn mv_expand_of_a_path_reads_it_whole_and_its_elements_are_not_the_column() {
        assert_eq!(
            access_of(
                "CloudAuditEvents | mv-expand C = RawEventData.RequestObject.spec.containers | where C.securityContext.privileged == true | project N = tostring(C.name)"
            ),
            ["RawEventData: RequestObject.spec.containers"]
        );
    }

    #[test]
    fn joins_and_unions_read_every_column_whole() {
        for kql in [
            "CloudAuditEvents | where RawEventData.a == 1 | project OperationName | join kind=inner (CloudAuditEvents | project OperationName) on OperationName",
            "CloudAuditEvents | where RawEventData.a == 1 | project OperationName | union (CloudAuditEvents | project OperationName)",
        ] {
            let pipeline = crate::compile(kql, &Schema::builtin())
                .unwrap_or_else(|d| panic!("{kql}: {}", d[0].message));
            let Input::Table { access, .. } = &pipeline.input else {
                panic!("{kql}: reads no table");
            };
            assert!(access.iter().all(|a| *a == Access::Whole), "{kql}: {access:?}");
        }
    }

    #[test]
    fn merging_keeps_the_union_and_whole_wins() {
        let mut a = Access::Unread;
        a.add_path(&["x", "y"]);
        let mut b = Access::Unread;
        b.add_path(&["x", "z"]);
        b.add_path(&["w"]);
        a.merge(&b);
        let mut paths = Vec::new();
        collect_paths(&a, String::new(), &mut paths);
        assert_eq!(paths, ["w", "x.y", "x.z"]);
        let mut whole = Access::Whole;
        whole.merge(&a);
        assert_eq!(whole, Access::Whole);
        a.merge(&Access::Whole);
        assert_eq!(a, Access::Whole);
    }
}
