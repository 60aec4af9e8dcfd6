//! The IR as text, for review (`kqlc emit --ir`) and for the snapshots of
//! the conformance cases (`tests/cases/**/NAME.ir`).
//!
//! One line per operator: its KQL, then what codegen receives, with each
//! column written as its name and position (`Timestamp#0`) and each runtime
//! function as its path under `kql_runtime`. Sub-pipelines (the right side
//! of a join, a union's legs, sub-queries) are indented below their
//! operator.
//!
//! ```text
//! input CloudAuditEvents
//!   reads Timestamp#0, DataSource#2
//! prefilter "create"
//! | where Timestamp > ago(1d)
//!     filter ops::gt(Timestamp#0, functions::ago(ctx, timespan(864000000000)))
//! output Timestamp: datetime, DataSource: string
//! ```

use super::ir::{
    Access, Aggregate, Arg, Const, Expr, GraphOutput, GraphPlan, Input, MakeSeries, Op, Pipeline,
    Prefilter, SortKey, Stage,
};
use std::fmt::Write;

impl Pipeline {
    /// The pipeline as text (see the module's documentation).
    pub fn show(&self) -> String {
        let mut out = String::new();
        show_pipeline(self, 0, &mut out);
        // The hidden column of an open row (`evaluate bag_unpack`) has a
        // NUL in its name: written `\0`, so snapshots stay text.
        if out.contains('\0') {
            out = out.replace('\0', "\\0");
        }
        out
    }
}

/// Appends `pipeline`, each line indented by `indent` spaces.
fn show_pipeline(pipeline: &Pipeline, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    show_input(&pipeline.input, &pad, out);
    if pipeline.prefilter != Prefilter::Always {
        let _ = writeln!(out, "{pad}prefilter {}", prefilter(&pipeline.prefilter));
    }
    for stage in &pipeline.stages {
        show_stage(stage, indent, out);
    }
    let columns: Vec<String> = pipeline
        .output
        .iter()
        .map(|(name, ty)| format!("{name}: {ty}"))
        .collect();
    let _ = writeln!(out, "{pad}output {}", columns.join(", "));
}

fn show_input(input: &Input, pad: &str, out: &mut String) {
    match input {
        Input::Table {
            name,
            columns,
            used,
            access,
            computed,
            serialized_event,
        } => {
            let _ = writeln!(out, "{pad}input {name}");
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            let reads: Vec<String> = used.iter().map(|&i| column(&names, i)).collect();
            let _ = writeln!(out, "{pad}  reads {}", or_none(&reads));
            for (i, a) in access.iter().enumerate() {
                if let Access::Members(_) = a {
                    let _ = writeln!(
                        out,
                        "{pad}  access {} {}",
                        column(&names, i),
                        access_text(a)
                    );
                }
            }
            if !computed.is_empty() {
                let computed: Vec<String> = computed.iter().map(|&i| column(&names, i)).collect();
                let _ = writeln!(out, "{pad}  computed {}", computed.join(", "));
            }
            if let Some(i) = serialized_event {
                let _ = writeln!(out, "{pad}  serialized event {}", column(&names, *i));
            }
        }
        Input::Range {
            column: (name, ty),
            from,
            to,
            step,
        } => {
            let none: [String; 0] = [];
            let _ = writeln!(
                out,
                "{pad}input range {name}: {ty} from {} to {} step {}",
                expr(from, &none),
                expr(to, &none),
                expr(step, &none)
            );
        }
        Input::External {
            columns,
            files,
            format,
            skip_first,
        } => {
            let columns: Vec<String> = columns.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            let _ = writeln!(
                out,
                "{pad}input externaldata ({}) {format:?}{} {files:?}",
                columns.join(", "),
                if *skip_first {
                    " skipping the first record"
                } else {
                    ""
                },
            );
        }
        Input::Rows { columns, rows } => {
            let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            let typed: Vec<String> = columns.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            let _ = writeln!(out, "{pad}input rows ({})", typed.join(", "));
            for row in rows {
                let values: Vec<String> = row.iter().map(|e| expr(e, &names)).collect();
                let _ = writeln!(out, "{pad}  [{}]", values.join(", "));
            }
        }
    }
}

fn show_stage(stage: &Stage, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let kql = stage.kql.split_whitespace().collect::<Vec<_>>().join(" ");
    let _ = writeln!(out, "{pad}| {kql}");
    let names = &stage.input_names;
    let body = format!("{pad}    ");
    let line = |out: &mut String, text: String| {
        let _ = writeln!(out, "{body}{text}");
    };
    match &stage.op {
        Op::Filter(e) => line(out, format!("filter {}", expr(e, names))),
        Op::Scan(scan) => {
            let wide = scan.wide_names(&stage.output_names);
            let defaults: Vec<String> = scan.defaults.iter().map(|e| expr(e, &wide)).collect();
            line(
                out,
                format!(
                    "scan declare [{}]{}",
                    defaults.join(", "),
                    if scan.match_id { " with match id" } else { "" }
                ),
            );
            for step in &scan.steps {
                let values: Vec<String> = step.values.iter().map(|e| expr(e, &wide)).collect();
                line(
                    out,
                    format!(
                        "  step {} ({:?}): {} => [{}]",
                        step.name,
                        step.output,
                        expr(&step.condition, &wide),
                        values.join(", ")
                    ),
                );
            }
        }
        Op::Extend(items) => {
            for (i, e) in items {
                // Later items see the columns earlier ones set.
                line(
                    out,
                    format!(
                        "set {} = {}",
                        column(&stage.output_names, *i),
                        expr(e, &stage.output_names)
                    ),
                );
            }
        }
        Op::Project(values) => {
            for (i, e) in values.iter().enumerate() {
                line(
                    out,
                    format!(
                        "project {} = {}",
                        column(&stage.output_names, i),
                        expr(e, names)
                    ),
                );
            }
        }
        Op::Select(indices) => {
            let picked: Vec<String> = indices.iter().map(|&i| column(names, i)).collect();
            line(out, format!("select {}", picked.join(", ")));
        }
        Op::MvExpand { .. } => line(out, mv_expand(&stage.op, names, &stage.output_names)),
        Op::MvApply {
            expand,
            sub,
            layout,
        } => {
            line(out, mv_expand(expand, names, &stage.output_names));
            line(out, format!("apply, laid out as {layout:?}:"));
            show_pipeline(sub, indent + 8, out);
        }
        Op::Window(items) => {
            for (i, w) in items {
                let args: Vec<String> = w.args.iter().map(|e| expr(e, names)).collect();
                line(
                    out,
                    format!(
                        "set {} = {:?}({})",
                        column(&stage.output_names, *i),
                        w.kind,
                        args.join(", ")
                    ),
                );
            }
        }
        Op::Take(n) => line(out, format!("take {n}")),
        Op::Sample(n) => line(out, format!("sample {n}")),
        Op::Count => line(out, "count".to_string()),
        Op::Summarize { keys, aggregates } => {
            line(out, format!("summarize by [{}]", exprs(keys, names)));
            for a in aggregates {
                line(out, format!("  {}", aggregate(a, names)));
            }
        }
        Op::MakeSeries(series) => make_series(series, names, &body, out),
        Op::Sort { keys, limit } => {
            let keys: Vec<String> = keys.iter().map(|k| sort_key(k, names)).collect();
            match limit {
                Some(n) => line(out, format!("top {n} by {}", keys.join(", "))),
                None => line(out, format!("sort by {}", keys.join(", "))),
            }
        }
        Op::Distinct(columns) => {
            let columns: Vec<String> = columns.iter().map(|&i| column(names, i)).collect();
            line(out, format!("distinct {}", columns.join(", ")));
        }
        Op::Join {
            kind,
            right,
            left_keys,
            right_keys,
            right_columns,
            ipv4_range,
            left_width,
            right_width,
            left_strings: _,
            right_strings: _,
        } => {
            let right_names: Vec<String> = right.output.iter().map(|(n, _)| n.clone()).collect();
            let pairs: Vec<String> = left_keys
                .iter()
                .zip(right_keys)
                .map(|(&l, &r)| {
                    let (l, r) = (column(names, l), column(&right_names, r));
                    if *ipv4_range {
                        format!("ipv4 {l} in range {r}")
                    } else {
                        format!("{l} == {r}")
                    }
                })
                .collect();
            let appended: Vec<String> = right_columns
                .iter()
                .map(|&i| column(&right_names, i))
                .collect();
            line(
                out,
                format!(
                    "join {kind:?} on {}; left width {left_width}, right width {right_width}; appends {}",
                    pairs.join(", "),
                    or_none(&appended)
                ),
            );
            line(out, "right:".to_string());
            show_pipeline(right, indent + 8, out);
        }
        Op::Parse {
            expr: text,
            regex,
            targets,
            relaxed,
            drop_unmatched,
        } => {
            let targets: Vec<String> = targets
                .iter()
                .map(|(i, ty)| format!("{}: {ty}", column(&stage.output_names, *i)))
                .collect();
            line(
                out,
                format!(
                    "parse {} with {regex:?} into {}{}{}",
                    expr(text, names),
                    targets.join(", "),
                    if *relaxed { ", relaxed" } else { "" },
                    if *drop_unmatched {
                        ", dropping unmatched rows"
                    } else {
                        ""
                    }
                ),
            );
        }
        Op::TopNested(levels) => {
            for (k, level) in levels.iter().enumerate() {
                let mut text = format!("top-nested level {}: ", k + 1);
                if let Some(n) = level.limit {
                    let _ = write!(text, "{n} of ");
                }
                let _ = write!(text, "{}", expr(&level.key, names));
                if let Some(others) = &level.others {
                    let _ = write!(text, " with others = {}", expr(others, names));
                }
                let _ = write!(
                    text,
                    " by {} {}",
                    aggregate(&level.aggregate, names),
                    if level.descending { "desc" } else { "asc" }
                );
                line(out, text);
            }
        }
        Op::ConstantRows(rows) => {
            line(out, "the input's rows are dropped; at the end:".to_string());
            for row in rows {
                line(out, format!("  [{}]", exprs(row, names)));
            }
        }
        Op::Graph(graph) => show_graph(graph, stage, indent, &body, out),
        Op::Partition { key, sub, limit } => {
            let limit = limit.map_or(String::new(), |n| format!(", at most {n} partitions"));
            line(
                out,
                format!("partition by {}{limit}, each through:", column(names, *key)),
            );
            show_pipeline(sub, indent + 8, out);
        }
        Op::Union { input, legs } => {
            line(
                out,
                format!("union; this input as [{}]", exprs(input, names)),
            );
            for (k, (leg, layout)) in legs.iter().enumerate() {
                let leg_names: Vec<String> = leg.output.iter().map(|(n, _)| n.clone()).collect();
                line(
                    out,
                    format!("leg {}, as [{}]:", k + 1, exprs(layout, &leg_names)),
                );
                show_pipeline(leg, indent + 8, out);
            }
        }
    }
}

/// `names` name the input row's positions, `targets` the output row's.
fn mv_expand(op: &Op, names: &[String], targets: &[String]) -> String {
    let Op::MvExpand {
        items,
        limit,
        item_index,
        bag_as_array,
        conversions,
    } = op
    else {
        return format!("{op:?}");
    };
    let items: Vec<String> = items
        .iter()
        .zip(conversions.iter().chain(std::iter::repeat(&None)))
        .map(|((i, e), conversion)| {
            let value = expr(e, names);
            match conversion {
                Some(f) => format!("{} = {}(each of {value})", column(targets, *i), f.path()),
                None => format!("{} = each of {value}", column(targets, *i)),
            }
        })
        .collect();
    let mut text = format!("mv-expand {}", items.join(", "));
    if *bag_as_array {
        text.push_str(", bags as [key, value]");
    }
    if let Some(i) = item_index {
        let _ = write!(text, ", item index at {}", column(targets, *i));
    }
    if let Some(n) = limit {
        let _ = write!(text, ", at most {n} rows");
    }
    text
}

fn make_series(series: &MakeSeries, names: &[String], body: &str, out: &mut String) {
    let _ = writeln!(
        out,
        "{body}make-series by [{}] on {} from {} to {} step {}{}{}",
        exprs(&series.keys, names),
        expr(&series.axis, names),
        expr(&series.from, names),
        expr(&series.to, names),
        expr(&series.step, names),
        if series.in_range { ", in range" } else { "" },
        if series.nonempty { ", nonempty" } else { "" },
    );
    for (a, default) in series.aggregates.iter().zip(&series.defaults) {
        let _ = writeln!(
            out,
            "{body}  {} default {}",
            aggregate(a, names),
            expr(default, names)
        );
    }
}

fn aggregate(a: &Aggregate, names: &[String]) -> String {
    let mut args = Vec::new();
    if let Some(v) = &a.value {
        args.push(expr(v, names));
    }
    if let Some(p) = &a.predicate {
        args.push(format!("if {}", expr(p, names)));
    }
    if let Some(p) = &a.parameter {
        args.push(format!("parameter {}", expr(p, names)));
    }
    if !a.carried.is_empty() {
        args.push(format!("carrying [{}]", exprs(&a.carried, names)));
    }
    format!(
        "aggregate::{}({}) -> {} column{}",
        a.runtime,
        args.join(", "),
        a.width,
        if a.width == 1 { "" } else { "s" }
    )
}

fn sort_key(key: &SortKey, names: &[String]) -> String {
    format!(
        "{} {} nulls {}",
        expr(&key.expr, names),
        if key.descending { "desc" } else { "asc" },
        if key.nulls_first { "first" } else { "last" }
    )
}

fn prefilter(filter: &Prefilter) -> String {
    match filter {
        Prefilter::Always => "always".to_string(),
        Prefilter::Needle {
            text,
            case_insensitive,
        } => {
            if *case_insensitive {
                format!("{text:?}i")
            } else {
                format!("{text:?}")
            }
        }
        Prefilter::All(parts) => group(parts, " and "),
        Prefilter::Any(parts) => group(parts, " or "),
    }
}

fn group(parts: &[Prefilter], joiner: &str) -> String {
    let parts: Vec<String> = parts.iter().map(prefilter).collect();
    format!("({})", parts.join(joiner))
}

fn access_text(access: &Access) -> String {
    match access {
        Access::Unread => "unread".to_string(),
        Access::Whole => "whole".to_string(),
        Access::Members(members) => {
            let members: Vec<String> = members
                .iter()
                .map(|(key, below)| match below {
                    Access::Whole => key.clone(),
                    _ => format!("{key}: {}", access_text(below)),
                })
                .collect();
            format!("{{{}}}", members.join(", "))
        }
    }
}

/// A column as its name and position (`Timestamp#0`), or its position alone
/// when it has no name here.
fn column(names: &[String], i: usize) -> String {
    match names.get(i) {
        Some(name) => format!("{name}#{i}"),
        None => format!("#{i}"),
    }
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".to_string()
    } else {
        items.join(", ")
    }
}

fn exprs(items: &[Expr], names: &[String]) -> String {
    items
        .iter()
        .map(|e| expr(e, names))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An expression over no row, as text (`functions::ago(ctx, ...)`).
pub(crate) fn expr_text(e: &Expr) -> String {
    expr(e, &[])
}

/// An expression; `names` name the row's positions.
fn expr(e: &Expr, names: &[String]) -> String {
    match e {
        Expr::Const(c) => constant(c),
        Expr::Column(i, _) => column(names, *i),
        Expr::Member(target, key) => format!("{}[{key:?}]", expr(target, names)),
        Expr::Index(target, index) => format!("{}[{}]", expr(target, names), expr(index, names)),
        Expr::Subquery {
            id,
            pipeline,
            column,
            ..
        } => {
            let mut inner = String::new();
            show_pipeline(pipeline, 0, &mut inner);
            let inner: Vec<&str> = inner.lines().collect();
            format!(
                "subquery {id} ({}: {})",
                if *column {
                    "its first column"
                } else {
                    "its first value"
                },
                inner.join(" ")
            )
        }
        Expr::ConstSet(items) => {
            let shown: Vec<String> = items.iter().take(3).map(constant).collect();
            if items.len() > 3 {
                format!("set of {} [{}, ...]", items.len(), shown.join(", "))
            } else {
                format!("set of {} [{}]", items.len(), shown.join(", "))
            }
        }
        Expr::Fold { first, steps, .. } => {
            let mut text = expr(first, names);
            for (arith, operand) in steps {
                text = format!("{}({text}, {})", arith.path(), expr(operand, names));
            }
            text
        }
        Expr::Call { builtin, args, .. } => {
            let mut args: Vec<String> = args.iter().map(|a| arg(a, names)).collect();
            args.extend(builtin.flag().map(|flag| flag.to_string()));
            format!("{}({})", builtin.path(), args.join(", "))
        }
    }
}

fn arg(a: &Arg, names: &[String]) -> String {
    match a {
        Arg::Value(e) => expr(e, names),
        Arg::Slice(items) => format!("&[{}]", exprs(items, names)),
        Arg::Set(e) => format!("set of {}", expr(e, names)),
        Arg::Context => "ctx".to_string(),
    }
}

fn constant(c: &Const) -> String {
    match c {
        Const::Null => "null".to_string(),
        Const::Bool(b) => b.to_string(),
        Const::Int(n) => format!("int({n})"),
        Const::Long(n) => n.to_string(),
        Const::Real(x) => format!("real({x:?})"),
        Const::String(s) => format!("{s:?}"),
        Const::DateTime(t) => format!("datetime({t} ticks)"),
        Const::TimeSpan(t) => format!("timespan({t} ticks)"),
        Const::Guid(g) => format!("guid({g})"),
        Const::Decimal(d) => format!("decimal({d})"),
        Const::Array(items) => {
            let items: Vec<String> = items.iter().map(constant).collect();
            format!("dynamic([{}])", items.join(", "))
        }
        Const::Bag(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{k:?}: {}", constant(v)))
                .collect();
            format!("dynamic({{{}}})", entries.join(", "))
        }
    }
}

/// `make-graph` and its graph operators: the ends, the node tables, the
/// components, and the output (with a pattern's conditions over the match
/// row and the graph functions over an element's row).
fn show_graph(graph: &GraphPlan, stage: &Stage, indent: usize, body: &str, out: &mut String) {
    let names = &stage.input_names;
    let properties: Vec<String> = graph
        .node_properties
        .iter()
        .map(|(n, t)| format!("{n}: {t}"))
        .collect();
    let _ = writeln!(
        out,
        "{body}graph edges {} --> {}, node properties [{}]",
        column(names, graph.source),
        column(names, graph.target),
        properties.join(", ")
    );
    if let Some((edges, tables)) = &graph.partition {
        let _ = writeln!(
            out,
            "{body}  a graph per value of {} (node tables' columns {tables:?})",
            column(names, *edges)
        );
    }
    if let Some(p) = graph.node_id_property {
        let _ = writeln!(out, "{body}  node id in property #{p}");
    }
    for table in &graph.node_tables {
        let table_names: Vec<String> = table
            .pipeline
            .output
            .iter()
            .map(|(n, _)| n.clone())
            .collect();
        let _ = writeln!(
            out,
            "{body}  nodes on {} into properties {:?}:",
            column(&table_names, table.id),
            table.properties
        );
        show_pipeline(&table.pipeline, indent + 8, out);
    }
    for (strong, p) in &graph.components {
        let kind = if *strong { "strong" } else { "weak" };
        let _ = writeln!(out, "{body}  {kind} components into property #{p}");
    }
    match &graph.output {
        GraphOutput::Nodes { with_id } => {
            let _ = writeln!(
                out,
                "{body}  nodes out{}",
                if *with_id { " with hash id" } else { "" }
            );
        }
        GraphOutput::Edges {
            source_id,
            target_id,
        } => {
            let _ = writeln!(
                out,
                "{body}  edges out{}{}",
                if *source_id {
                    " with source hash id"
                } else {
                    ""
                },
                if *target_id {
                    " with target hash id"
                } else {
                    ""
                }
            );
        }
        GraphOutput::Match {
            pattern,
            conditions,
            folds,
        } => {
            let _ = writeln!(
                out,
                "{body}  match {:?} {:?}, cycles {:?}, shortest {:?}",
                pattern.sequences, pattern.edges, pattern.cycles, pattern.shortest
            );
            let row = &stage.output_names;
            let node_names: Vec<String> = graph
                .node_properties
                .iter()
                .map(|(n, _)| n.clone())
                .collect();
            for fold in folds {
                let element = if fold.inner_nodes { &node_names } else { names };
                let _ = writeln!(
                    out,
                    "{body}  #{} = {:?} over edge {}{}: {}",
                    fold.position,
                    fold.kind,
                    fold.edge,
                    if fold.inner_nodes {
                        "'s inner nodes"
                    } else {
                        ""
                    },
                    expr(&fold.body, element)
                );
            }
            for (event, condition) in conditions {
                let _ = writeln!(out, "{body}  after event {event}: {}", expr(condition, row));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::sema::Schema;

    fn show(kql: &str) -> String {
        crate::compile(kql, &Schema::builtin())
            .unwrap_or_else(|e| panic!("{e:?}"))
            .show()
    }

    #[test]
    fn columns_are_named_and_calls_are_runtime_paths() {
        let text = show(
            "CloudAuditEvents | where OperationName == \"create\" | extend n = strlen(OperationName) | project n",
        );
        assert!(text.starts_with("input CloudAuditEvents\n"), "{text}");
        assert!(text.contains("prefilter \"create\""), "{text}");
        assert!(
            text.contains("| where OperationName == \"create\""),
            "{text}"
        );
        assert!(
            text.contains("set n#") && text.contains("functions::strlen(OperationName#"),
            "{text}"
        );
        assert!(text.trim_end().ends_with("output n: long"), "{text}");
    }

    #[test]
    fn sub_pipelines_are_indented_under_their_operator() {
        let text = show(
            "CloudAuditEvents | join kind=leftanti (CloudAuditEvents | where OperationName == \"delete\") on OperationName",
        );
        assert!(text.contains("join LeftAnti on OperationName#"), "{text}");
        assert!(
            text.contains("\n        input CloudAuditEvents\n"),
            "{text}"
        );
    }
}
