//! KQL text for the AST.
//!
//! [`Display`] prints valid KQL that parses back to the same tree:
//! compound sub-expressions are fully parenthesized, names that are not plain
//! identifiers or that are keywords are bracketed (`['where']`), and literals
//! are printed in forms the lexer reads back exactly (reals in Rust's shortest
//! round-trip form, datetimes in ISO 8601 with up to seven fraction digits,
//! timespans in their largest exact unit).
//!
//! A few trees the parser never builds have no exact spelling: a negative
//! real or long is printed as `real(-1.5)` / `long(-5)` (a leading `-` would
//! read back as a unary minus), and `Literal::Null(String)` as `""` (KQL has
//! no null string; the empty string stands in for it).

use super::ast::{
    self, Argument, BinaryOp, Call, Datatable, DynamicLiteral, Expr, ExprKind, Function,
    FunctionBody, Ident, Let, LetValue, ListOp, Literal, MakeSeries, MvExpand, MvExpandItem,
    NamedExpr, Operator, OperatorKind, ParamKind, Query, ScanOutput, SeriesRange, SortExpr, Source,
    Statement, TabularExpr, UnaryOp,
};
use super::lexer::{self, DAY, HOUR, MICROSECOND, MILLISECOND, MINUTE, SECOND};
use super::parser::is_reserved_word;
use crate::types::ScalarType;
use std::fmt::{self, Display, Formatter, Write};

impl Display for Query {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, statement) in self.statements.iter().enumerate() {
            if i > 0 {
                f.write_str(";\n")?;
            }
            write!(f, "{statement}")?;
        }
        Ok(())
    }
}

impl Display for Statement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Let(binding) => write!(f, "{binding}"),
            Statement::Tabular(tabular) => write!(f, "{tabular}"),
            Statement::Set(option) => write!(f, "set {} = {}", option.name, option.value),
            Statement::Unimplemented(opaque) => f.write_str(&opaque.text),
        }
    }
}

impl Display for Let {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "let {} = {}", self.name, self.value)
    }
}

impl Display for LetValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            LetValue::Scalar(expr) => write!(f, "{expr}"),
            LetValue::Tabular(tabular) => write!(f, "{tabular}"),
            LetValue::Function(function) => write!(f, "{function}"),
        }
    }
}

impl Display for Function {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_char('(')?;
        for (i, param) in self.params.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}: ", param.name)?;
            match &param.kind {
                ParamKind::Scalar { ty, default } => {
                    write!(f, "{ty}")?;
                    if let Some(default) = default {
                        write!(f, " = {default}")?;
                    }
                }
                ParamKind::Tabular(None) => f.write_str("(*)")?,
                ParamKind::Tabular(Some(columns)) => {
                    f.write_char('(')?;
                    for (j, (name, ty)) in columns.iter().enumerate() {
                        if j > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{name}: {ty}")?;
                    }
                    f.write_char(')')?;
                }
            }
        }
        f.write_str(") { ")?;
        for binding in &self.lets {
            write!(f, "{binding}; ")?;
        }
        match &self.body {
            FunctionBody::Scalar(expr) => write!(f, "{expr}")?,
            FunctionBody::Tabular(tabular) => write!(f, "{tabular}")?,
        }
        f.write_str(" }")
    }
}

impl Display for Call {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name)?;
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            match arg {
                Argument::Scalar(expr) => write!(f, "{expr}")?,
                Argument::Tabular(tabular) => write!(f, "({tabular})")?,
            }
        }
        f.write_char(')')
    }
}

impl Display for TabularExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        for operator in &self.operators {
            write!(f, "\n| {operator}")?;
        }
        Ok(())
    }
}

impl Display for Source {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Source::Named(name) => write!(f, "{name}"),
            Source::Print(items, _) => {
                f.write_str("print ")?;
                write_list(f, items)
            }
            Source::Datatable(table) => write!(f, "{table}"),
            Source::Union(union, _) => write!(f, "{union}"),
            Source::Nested(table) => write!(f, "({table})"),
            Source::Range(range) => write!(
                f,
                "range {} from {} to {} step {}",
                range.name, range.from, range.to, range.step
            ),
            Source::Call(call) => write!(f, "{call}"),
            Source::ExternalData(external) => {
                f.write_str("externaldata (")?;
                for (i, (name, column_type)) in external.columns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {column_type}")?;
                }
                f.write_str(") [")?;
                write_list(f, &external.uris)?;
                f.write_str("]")?;
                if !external.options.is_empty() {
                    f.write_str(" with (")?;
                    for (i, (name, value)) in external.options.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{name} = {value}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Source::Search(search, _) => write!(f, "{search}"),
            Source::Find(find, _) => write!(f, "{find}"),
            Source::Unimplemented(opaque) => f.write_str(&opaque.text),
        }
    }
}

impl Display for super::ast::Search {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("search ")?;
        if self.case_sensitive {
            f.write_str("kind=case_sensitive ")?;
        }
        if !self.tables.is_empty() {
            f.write_str("in (")?;
            for (i, table) in self.tables.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                match (&table.source, table.operators.is_empty()) {
                    (Source::Named(name), true) => write!(f, "{name}")?,
                    _ => write!(f, "({table})")?,
                }
            }
            f.write_str(") ")?;
        }
        write!(f, "{}", self.predicate)
    }
}

impl Display for super::ast::Find {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("find ")?;
        if let Some(name) = &self.with_source {
            write!(f, "withsource={name} ")?;
        }
        if let Some(tables) = &self.tables {
            f.write_str("in (")?;
            for (i, table) in tables.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{table}")?;
            }
            f.write_str(") ")?;
        }
        write!(f, "where {}", self.predicate)?;
        if let super::ast::FindOutput::Project { columns, pack } = &self.output {
            f.write_str(" project ")?;
            for (i, (name, ty)) in columns.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{name}")?;
                if let Some(ty) = ty {
                    write!(f, ": {ty}")?;
                }
            }
            if *pack {
                if !columns.is_empty() {
                    f.write_str(", ")?;
                }
                f.write_str("pack_all()")?;
            }
        }
        Ok(())
    }
}

impl Display for Datatable {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("datatable (")?;
        for (i, (name, column_type)) in self.columns.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {column_type}")?;
        }
        f.write_str(") [")?;
        write_list(f, &self.values)?;
        f.write_str("]")
    }
}

impl Display for Operator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl Display for OperatorKind {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            OperatorKind::Where(predicate) => write!(f, "where {predicate}"),
            OperatorKind::Extend(items) => {
                f.write_str("extend ")?;
                write_list(f, items)
            }
            OperatorKind::Project(items) => {
                f.write_str("project ")?;
                write_list(f, items)
            }
            OperatorKind::ProjectAway(names) => {
                f.write_str("project-away ")?;
                write_list(f, names)
            }
            OperatorKind::ProjectRename(pairs) => {
                f.write_str("project-rename ")?;
                for (i, (new_name, old_name)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{new_name} = {old_name}")?;
                }
                Ok(())
            }
            OperatorKind::MvExpand(expand) => write!(f, "{expand}"),
            OperatorKind::Take(count) => write!(f, "take {count}"),
            OperatorKind::Sample(count) => write!(f, "sample {count}"),
            OperatorKind::Serialize(items) if items.is_empty() => f.write_str("serialize"),
            OperatorKind::Serialize(items) => {
                f.write_str("serialize ")?;
                write_list(f, items)
            }
            OperatorKind::Count => f.write_str("count"),
            OperatorKind::Summarize { aggregates, by } => {
                f.write_str("summarize")?;
                if !aggregates.is_empty() {
                    f.write_char(' ')?;
                    write_list(f, aggregates)?;
                }
                if !by.is_empty() {
                    f.write_str(" by ")?;
                    write_list(f, by)?;
                }
                Ok(())
            }
            OperatorKind::MakeSeries(series) => write!(f, "{series}"),
            OperatorKind::Sort(keys) => {
                f.write_str("sort by ")?;
                write_list(f, keys)
            }
            OperatorKind::Top { count, by } => write!(f, "top {count} by {by}"),
            OperatorKind::Distinct(names) if names.is_empty() => f.write_str("distinct *"),
            OperatorKind::Distinct(names) => {
                f.write_str("distinct ")?;
                write_list(f, names)
            }
            OperatorKind::As(name) => write!(f, "as {name}"),
            OperatorKind::Invoke(call) => write!(f, "invoke {call}"),
            OperatorKind::ProjectByNames(specs) => {
                f.write_str("project-by-names ")?;
                write_list(f, specs)
            }
            OperatorKind::ParseKv(kv) => {
                write!(f, "parse-kv {} as (", kv.expr)?;
                for (i, (key, ty)) in kv.keys.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{key}: {ty}")?;
                }
                f.write_str(")")?;
                if !kv.options.is_empty() {
                    f.write_str(" with (")?;
                    for (i, (name, value)) in kv.options.iter().enumerate() {
                        let sep = if i == 0 { "" } else { ", " };
                        write!(f, "{sep}{name}={value}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            OperatorKind::Evaluate(evaluate) => {
                write!(f, "evaluate {}", evaluate.call)?;
                if let Some(schema) = &evaluate.schema {
                    f.write_str(" : (")?;
                    if schema.star {
                        f.write_char('*')?;
                    }
                    for (i, (name, column_type)) in schema.columns.iter().enumerate() {
                        if i > 0 || schema.star {
                            f.write_str(", ")?;
                        }
                        write!(f, "{name}: {column_type}")?;
                    }
                    f.write_char(')')?;
                }
                Ok(())
            }
            OperatorKind::MvApply(apply) => {
                // `mv-expand` and `mv-apply` share the expansion's syntax.
                let expand = apply.expand.to_string();
                let rest = expand.strip_prefix("mv-expand").unwrap_or(&expand);
                write!(f, "mv-apply{rest} on (")?;
                for (i, operator) in apply.subquery.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{operator}")?;
                }
                f.write_str(")")
            }
            OperatorKind::ProjectKeep(names) => {
                f.write_str("project-keep ")?;
                write_list(f, names)
            }
            OperatorKind::ProjectReorder(items) => {
                f.write_str("project-reorder ")?;
                for (i, (pattern, order)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{pattern}")?;
                    if let Some(order) = order {
                        write!(f, " {}", order.spelling())?;
                    }
                }
                Ok(())
            }
            OperatorKind::Join(join) => {
                write!(f, "join kind={} ", join.kind.name())?;
                write_join_rest(f, join)
            }
            OperatorKind::Lookup(join) => {
                write!(f, "lookup kind={} ", join.kind.name())?;
                write_join_rest(f, join)
            }
            OperatorKind::Union(union) => write!(f, "{union}"),
            OperatorKind::Unimplemented(opaque) => f.write_str(&opaque.text),
            OperatorKind::TopNested(levels) => {
                for (i, level) in levels.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str("top-nested ")?;
                    if let Some(count) = &level.count {
                        write!(f, "{count} ")?;
                    }
                    write!(f, "of {}", level.of)?;
                    if let Some(others) = &level.others {
                        write!(f, " with others = {others}")?;
                    }
                    write!(f, " by {}", level.by)?;
                    if !level.descending {
                        f.write_str(" asc")?;
                    }
                }
                Ok(())
            }
            OperatorKind::TopHitters { count, of, by } => {
                write!(f, "top-hitters {count} of {of}")?;
                if let Some(by) = by {
                    write!(f, " by {by}")?;
                }
                Ok(())
            }
            OperatorKind::SampleDistinct { count, of } => {
                write!(f, "sample-distinct {count} of {of}")
            }
            OperatorKind::GetSchema => f.write_str("getschema"),
            OperatorKind::Render(render) => {
                write!(f, "render {}", render.visualization)?;
                if !render.properties.is_empty() {
                    f.write_str(" with (")?;
                    for (i, (name, values)) in render.properties.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        // Property names are words (`kind`), never bracketed.
                        write!(f, "{} = ", name.name)?;
                        write_list(f, values)?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            OperatorKind::Search(search) => write!(f, "{search}"),
            OperatorKind::MakeGraph(graph) => write_make_graph(f, graph),
            OperatorKind::GraphMatch(graph) => write_graph_match(f, graph),
            OperatorKind::GraphToTable(table) => {
                let (kind, first) = if table.edges {
                    ("edges", "with_source_id")
                } else {
                    ("nodes", "with_node_id")
                };
                write!(f, "graph-to-table {kind}")?;
                if let Some(id) = &table.first_id {
                    write!(f, " {first}={id}")?;
                }
                if let Some(id) = &table.target_id {
                    write!(f, " with_target_id={id}")?;
                }
                if let Some(name) = &table.name {
                    write!(f, " as {name}")?;
                }
                if let Some((edges, _)) = &table.and_edges {
                    let rest = OperatorKind::GraphToTable((**edges).clone()).to_string();
                    let rest = rest.strip_prefix("graph-to-table ").unwrap_or(&rest);
                    write!(f, ", {rest}")?;
                }
                Ok(())
            }
            OperatorKind::GraphMarkComponents { strong, property } => {
                f.write_str("graph-mark-components")?;
                if *strong {
                    f.write_str(" kind=strong")?;
                }
                if let Some(property) = property {
                    write!(f, " with_component_id={property}")?;
                }
                Ok(())
            }
            OperatorKind::Scan(scan) => {
                f.write_str("scan ")?;
                if let Some(id) = &scan.match_id {
                    write!(f, "with_match_id = {} ", id)?;
                }
                if !scan.declare.is_empty() {
                    f.write_str("declare (")?;
                    for (i, column) in scan.declare.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{}: {}", column.name, column.ty)?;
                        if let Some(default) = &column.default {
                            write!(f, " = {default}")?;
                        }
                    }
                    f.write_str(") ")?;
                }
                f.write_str("with (")?;
                for step in &scan.steps {
                    write!(f, "step {}", step.name)?;
                    match step.output {
                        ScanOutput::All => {}
                        ScanOutput::Last => f.write_str(" output = last")?,
                        ScanOutput::None => f.write_str(" output = none")?,
                    }
                    write!(f, ": {}", step.condition)?;
                    for (i, (column, value)) in step.assignments.iter().enumerate() {
                        f.write_str(if i == 0 { " => " } else { ", " })?;
                        write!(f, "{} = {value}", column)?;
                    }
                    f.write_str("; ")?;
                }
                f.write_str(")")
            }
            OperatorKind::Partition(partition) => {
                f.write_str("partition ")?;
                for (name, value) in &partition.hints {
                    write!(f, "{name} = {value} ")?;
                }
                write!(f, "by {} (", partition.by)?;
                for (i, operator) in partition.subquery.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{operator}")?;
                }
                f.write_str(")")
            }
            OperatorKind::Parse(parse) => {
                f.write_str(if parse.drop_unmatched {
                    "parse-where"
                } else {
                    "parse"
                })?;
                match parse.kind {
                    ast::ParseKind::Simple => {}
                    ast::ParseKind::Regex => f.write_str(" kind=regex")?,
                    ast::ParseKind::Relaxed => f.write_str(" kind=relaxed")?,
                }
                if let Some(flags) = &parse.flags {
                    write!(f, " flags={}", Literal::String(flags.clone()))?;
                }
                write!(f, " {} with", parse.expr)?;
                for part in &parse.pattern {
                    match part {
                        ast::ParsePart::Any => f.write_str(" *")?,
                        ast::ParsePart::Text(text, _) => {
                            write!(f, " {}", Literal::String(text.clone()))?
                        }
                        ast::ParsePart::Column(name, None) => write!(f, " {name}")?,
                        ast::ParsePart::Column(name, Some(ty)) => write!(f, " {name}: {ty}")?,
                    }
                }
                Ok(())
            }
        }
    }
}

fn write_make_graph(f: &mut Formatter<'_>, graph: &ast::MakeGraph) -> fmt::Result {
    write!(f, "make-graph {} --> {}", graph.source, graph.target)?;
    for (i, (table, id)) in graph.nodes.iter().enumerate() {
        f.write_str(if i == 0 { " with " } else { ", " })?;
        write!(f, "({table}) on {id}")?;
    }
    if let Some(id) = &graph.node_id {
        write!(f, " with_node_id={id}")?;
    }
    if let Some((column, operators)) = &graph.partitioned_by {
        write!(f, " partitioned-by {column} (")?;
        for (i, operator) in operators.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{operator}")?;
        }
        f.write_char(')')?;
    }
    Ok(())
}

fn write_graph_match(f: &mut Formatter<'_>, graph: &ast::GraphMatch) -> fmt::Result {
    match graph.shortest {
        Some(all) => {
            f.write_str("graph-shortest-paths")?;
            if all {
                f.write_str(" output=all")?;
            }
        }
        None => f.write_str("graph-match")?,
    }
    if let Some(cycles) = &graph.cycles {
        write!(f, " cycles={cycles}")?;
    }
    for (i, sequence) in graph.pattern.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ", " })?;
        write_pattern_node(f, &sequence.first)?;
        for (edge, node) in &sequence.steps {
            let (open, close) = match edge.direction {
                crate::types::EdgeDirection::Forward => ("-", "->"),
                crate::types::EdgeDirection::Backward => ("<-", "-"),
                crate::types::EdgeDirection::Any => ("-", "-"),
            };
            f.write_str(open)?;
            f.write_char('[')?;
            if let Some(name) = &edge.name {
                write!(f, "{name}")?;
            }
            if let Some((min, max)) = edge.range {
                write!(f, "*{min}..{max}")?;
            }
            f.write_char(']')?;
            f.write_str(close)?;
            write_pattern_node(f, node)?;
        }
    }
    if let Some(predicate) = &graph.predicate {
        write!(f, " where {predicate}")?;
    }
    f.write_str(" project ")?;
    write_list(f, &graph.project)
}

fn write_pattern_node(f: &mut Formatter<'_>, node: &ast::PatternNode) -> fmt::Result {
    match &node.name {
        Some(name) => write!(f, "({name})"),
        None => f.write_str("()"),
    }
}

fn write_join_rest(f: &mut Formatter<'_>, join: &ast::Join) -> fmt::Result {
    write!(f, "({}) on ", join.right)?;
    for (i, key) in join.on.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match key {
            ast::JoinKey::Same(name) => write!(f, "{name}")?,
            ast::JoinKey::Pair(left, right) => write!(f, "$left.{left} == $right.{right}")?,
        }
    }
    Ok(())
}

/// Tabular expressions, each parenthesized.
impl Display for ast::ColumnPattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str(&self.name.name)
        } else {
            write!(f, "{}", self.name)
        }
    }
}

impl Display for ast::Union {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("union ")?;
        if self.inner {
            f.write_str("kind=inner ")?;
        }
        if let Some(name) = &self.with_source {
            write!(f, "withsource={name} ")?;
        }
        if self.fuzzy {
            f.write_str("isfuzzy=true ")?;
        }
        write_nested_list(f, &self.tables)
    }
}

fn write_nested_list(f: &mut Formatter<'_>, tables: &[TabularExpr]) -> fmt::Result {
    for (i, table) in tables.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match &table.source {
            // `union *`: a wildcard is not a tabular expression of its own.
            Source::Unimplemented(opaque) if table.operators.is_empty() => {
                f.write_str(&opaque.text)?
            }
            _ => write!(f, "({table})")?,
        }
    }
    Ok(())
}

impl Display for SortExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.expr,
            if self.descending { "desc" } else { "asc" }
        )?;
        match self.nulls_first {
            Some(true) => f.write_str(" nulls first"),
            Some(false) => f.write_str(" nulls last"),
            None => Ok(()),
        }
    }
}

impl Display for MvExpand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("mv-expand ")?;
        if self.bag_as_array {
            f.write_str("kind=array ")?;
        }
        if let Some(name) = &self.item_index {
            write!(f, "with_itemindex={name} ")?;
        }
        write_list(f, &self.items)?;
        if let Some(limit) = &self.limit {
            write!(f, " limit {limit}")?;
        }
        Ok(())
    }
}

impl Display for MvExpandItem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.name {
            write!(f, "{name} = ")?;
        }
        write!(f, "{}", self.expr)?;
        if let Some(to_type) = self.to_type {
            write!(f, " to typeof({to_type})")?;
        }
        Ok(())
    }
}

impl Display for MakeSeries {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str("make-series ")?;
        if self.nonempty {
            f.write_str("kind=nonempty ")?;
        }
        for (i, aggregate) in self.aggregates.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", aggregate.item)?;
            if let Some(default) = &aggregate.default {
                write!(f, " default = {default}")?;
            }
        }
        write!(f, " on {}", self.axis)?;
        match &self.range {
            SeriesRange::Step { from, to, step } => {
                if let Some(from) = from {
                    write!(f, " from {from}")?;
                }
                if let Some(to) = to {
                    write!(f, " to {to}")?;
                }
                write!(f, " step {step}")?;
            }
            SeriesRange::InRange { start, stop, step } => {
                write!(f, " in range({start}, {stop}, {step})")?;
            }
        }
        if !self.by.is_empty() {
            f.write_str(" by ")?;
            write_list(f, &self.by)?;
        }
        Ok(())
    }
}

impl Display for NamedExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) if !self.more_names.is_empty() => {
                write!(f, "({name}")?;
                for name in &self.more_names {
                    write!(f, ", {name}")?;
                }
                f.write_str(") = ")?;
            }
            Some(name) => write!(f, "{name} = ")?,
            None => {}
        }
        write!(f, "{}", self.expr)
    }
}

/// A name, bracketed (`["x y"]`) unless it is a plain identifier that is not
/// a keyword.
impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if lexer::is_identifier(&self.name) && !is_reserved_word(&self.name) {
            f.write_str(&self.name)
        } else {
            f.write_char('[')?;
            write_string(f, &self.name)?;
            f.write_char(']')
        }
    }
}

/// An expression, without parentheses around itself; its compound operands
/// are parenthesized.
impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(literal) => write!(f, "{literal}"),
            ExprKind::Name(name) => write!(f, "{name}"),
            ExprKind::Member { target, name } => {
                write_postfix_target(f, target)?;
                write!(f, ".{name}")
            }
            ExprKind::Index { target, index } => {
                write_postfix_target(f, target)?;
                write!(f, "[{index}]")
            }
            ExprKind::Star => f.write_char('*'),
            ExprKind::NamedArgument { name, value } => write!(f, "{name} = {value}"),
            ExprKind::TypeOf(ty) => write!(f, "typeof({ty})"),
            ExprKind::InvalidLiteral { text, .. } => f.write_str(text),
            ExprKind::Unimplemented(opaque) => f.write_str(&opaque.text),
            ExprKind::Tabular(tabular) => write!(f, "({tabular})"),
            ExprKind::Call { name, args } => {
                write!(f, "{name}(")?;
                write_list(f, args)?;
                f.write_char(')')
            }
            ExprKind::Unary { op, operand } => {
                write!(f, "{op}")?;
                write_operand(f, operand)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                write_operand(f, lhs)?;
                write!(f, " {op} ")?;
                write_operand(f, rhs)
            }
            ExprKind::Chain { first, rest } => {
                write_operand(f, first)?;
                for (op, operand) in rest {
                    write!(f, " {op} ")?;
                    write_operand(f, operand)?;
                }
                Ok(())
            }
            ExprKind::List { op, expr, items } => {
                write_operand(f, expr)?;
                write!(f, " {op} (")?;
                write_list(f, items)?;
                f.write_char(')')
            }
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => {
                write_operand(f, expr)?;
                f.write_str(if *negated {
                    " !between ("
                } else {
                    " between ("
                })?;
                write_operand(f, low)?;
                f.write_str(" .. ")?;
                write_operand(f, high)?;
                f.write_char(')')
            }
        }
    }
}

/// An operand: parenthesized when it is itself an operator expression.
fn write_operand(f: &mut Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr.kind {
        ExprKind::Unary { .. }
        | ExprKind::Binary { .. }
        | ExprKind::Chain { .. }
        | ExprKind::List { .. }
        | ExprKind::Between { .. } => write!(f, "({expr})"),
        _ => write!(f, "{expr}"),
    }
}

/// The target of `.name` or `[index]`: parenthesized unless it is itself a
/// name, call or postfix expression (so `(1).x` does not lex as `1.` `x`).
fn write_postfix_target(f: &mut Formatter<'_>, expr: &Expr) -> fmt::Result {
    match expr.kind {
        ExprKind::Name(_)
        | ExprKind::Member { .. }
        | ExprKind::Index { .. }
        | ExprKind::Call { .. } => write!(f, "{expr}"),
        _ => write!(f, "({expr})"),
    }
}

fn write_list<T: Display>(f: &mut Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl Display for UnaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnaryOp::Neg => "-",
            UnaryOp::Plus => "+",
        })
    }
}

impl Display for BinaryOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let spelling = match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::EqCi => "=~",
            BinaryOp::NotEqCi => "!~",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Str(op) => return f.write_str(&op.spelling()),
        };
        f.write_str(spelling)
    }
}

impl Display for ListOp {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.spelling())
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Bool(value) => write!(f, "{value}"),
            Literal::Int(value) => write!(f, "int({value})"),
            Literal::Long(value) if *value >= 0 => write!(f, "{value}"),
            Literal::Long(value) => write!(f, "long({value})"),
            Literal::Real(value) => write_real(f, *value),
            Literal::Decimal(value) => write!(f, "decimal({value})"),
            Literal::String(text) => write_string(f, text),
            Literal::DateTime(ticks) => write_datetime(f, *ticks),
            Literal::TimeSpan(ticks) if *ticks >= 0 => {
                write_timespan_magnitude(f, ticks.unsigned_abs())
            }
            Literal::TimeSpan(ticks) => {
                f.write_str("timespan(-")?;
                write_timespan_magnitude(f, ticks.unsigned_abs())?;
                f.write_char(')')
            }
            Literal::Guid(text) => write!(f, "guid({text})"),
            Literal::Dynamic(value) => write!(f, "dynamic({value})"),
            Literal::Null(ScalarType::String) => f.write_str("\"\""),
            Literal::Null(scalar_type) => write!(f, "{scalar_type}(null)"),
        }
    }
}

impl Display for DynamicLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            DynamicLiteral::Null => f.write_str("null"),
            DynamicLiteral::Scalar(literal) => write!(f, "{literal}"),
            DynamicLiteral::Array(items) => {
                f.write_char('[')?;
                write_list(f, items)?;
                f.write_char(']')
            }
            DynamicLiteral::Bag(pairs) => {
                f.write_char('{')?;
                for (i, (key, value)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write_string(f, key)?;
                    write!(f, ": {value}")?;
                }
                f.write_char('}')
            }
        }
    }
}

/// A double-quoted string with the escapes the lexer decodes.
fn write_string(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{:04x}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Reals in Rust's shortest round-trip form, which always has a `.` or an
/// exponent, so they lex as reals again; the values a bare literal cannot
/// spell go through `real(...)`.
fn write_real(f: &mut Formatter<'_>, value: f64) -> fmt::Result {
    if value.is_nan() {
        f.write_str("real(nan)")
    } else if value.is_infinite() {
        f.write_str(if value > 0.0 {
            "real(+inf)"
        } else {
            "real(-inf)"
        })
    } else if value.is_sign_negative() {
        write!(f, "real({value:?})")
    } else {
        let text = format!("{value:?}");
        f.write_str(&text)?;
        if !text.contains(['.', 'e', 'E']) {
            f.write_str(".0")?;
        }
        Ok(())
    }
}

/// `datetime(2024-05-28T10:00:00.1234567Z)`, the fraction trimmed of
/// trailing zeros and left out when zero.
fn write_datetime(f: &mut Formatter<'_>, ticks: i64) -> fmt::Result {
    use chrono::{Datelike, Timelike};
    let per_second = SECOND as i64;
    let seconds = ticks.div_euclid(per_second);
    let fraction = ticks.rem_euclid(per_second);
    let Some(moment) = chrono::DateTime::from_timestamp(seconds, 0) else {
        // Unreachable for i64 ticks (chrono spans ±262,000 years); still no panic.
        return write!(f, "datetime(out of range: {ticks} ticks)");
    };
    write!(
        f,
        "datetime({:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        moment.year(),
        moment.month(),
        moment.day(),
        moment.hour(),
        moment.minute(),
        moment.second()
    )?;
    if fraction != 0 {
        let digits = format!("{fraction:07}");
        write!(f, ".{}", digits.trim_end_matches('0'))?;
    }
    f.write_str("Z)")
}

/// A non-negative timespan as a bare literal in its largest exact unit:
/// `1d`, `90m`, `1500ms`, `7tick`.
fn write_timespan_magnitude(f: &mut Formatter<'_>, ticks: u64) -> fmt::Result {
    const UNITS: [(u64, &str); 7] = [
        (DAY, "d"),
        (HOUR, "h"),
        (MINUTE, "m"),
        (SECOND, "s"),
        (MILLISECOND, "ms"),
        (MICROSECOND, "microsecond"),
        (1, "tick"),
    ];
    if ticks == 0 {
        return f.write_str("0s");
    }
    let (unit, suffix) = UNITS
        .into_iter()
        .find(|(unit, _)| ticks / unit * unit == ticks)
        .unwrap_or((1, "tick"));
    write!(f, "{}{suffix}", ticks / unit)
}

#[cfg(test)]
mod tests {
    use crate::syntax::ast::{Span, StringOp, StringOpKind};
    use crate::syntax::parse;

    use super::*;

    /// Parses, prints, parses again and checks the trees are equal; returns
    /// the printed text.
    fn round_trip(source: &str) -> String {
        let query = parse(source).unwrap_or_else(|d| panic!("{source}: {d}"));
        let printed = query.to_string();
        let reparsed =
            parse(&printed).unwrap_or_else(|d| panic!("printed {printed:?} does not parse: {d}"));
        assert_eq!(reparsed, query, "printed: {printed}");
        printed
    }

    fn expr(kind: ExprKind) -> Expr {
        Expr {
            kind,
            span: Span::default(),
        }
    }

    fn literal(literal: Literal) -> Expr {
        expr(ExprKind::Literal(literal))
    }

    fn print_of(value: Expr) -> Query {
        Query {
            statements: vec![Statement::Tabular(TabularExpr {
                source: Source::Print(
                    vec![NamedExpr {
                        name: None,
                        more_names: Vec::new(),
                        expr: value,
                    }],
                    Span::default(),
                ),
                operators: vec![],
                span: Span::default(),
            })],
            span: Span::default(),
        }
    }

    /// Prints a hand-built tree and checks it parses back to itself.
    fn prints_back(query: Query) -> String {
        let printed = query.to_string();
        let reparsed =
            parse(&printed).unwrap_or_else(|d| panic!("printed {printed:?} does not parse: {d}"));
        assert_eq!(reparsed, query, "printed: {printed}");
        printed
    }

    #[test]
    fn ranking_schema_chart_and_partition_operators_print_back() {
        assert_eq!(
            round_trip("T | top-nested 2 of A with others = \"x\" by S = sum(B), top-nested of C by max(1) asc"),
            "T\n| top-nested 2 of A with others = \"x\" by S = sum(B), top-nested of C by max(1) asc"
        );
        assert_eq!(
            round_trip("T | top-hitters 3 of A by B * 2"),
            "T\n| top-hitters 3 of A by B * 2"
        );
        assert_eq!(
            round_trip("T | sample-distinct 2 * 5 of ['a b']"),
            "T\n| sample-distinct 2 * 5 of [\"a b\"]"
        );
        assert_eq!(round_trip("T | getschema"), "T\n| getschema");
        assert_eq!(
            round_trip("T | render timechart with (title='t', ycolumns=a, b, kind=stacked)"),
            "T\n| render timechart with (title = \"t\", ycolumns = a, b, kind = stacked)"
        );
        assert_eq!(
            round_trip("T | partition hint.strategy=native by A (top 1 by B | project A)"),
            "T\n| partition hint.strategy = native by A (top 1 by B desc | project A)"
        );
    }

    #[test]
    fn union_options_wildcards_and_parse_flags_print_back() {
        assert_eq!(
            round_trip("union withsource = S kind = inner isfuzzy = true hint.concurrency = 2 A, (B | take 1)"),
            "union kind=inner withsource=S isfuzzy=true (A), (B\n| take 1)"
        );
        assert_eq!(
            round_trip("T | project-away a*, *b*c, ['x y'] | project-keep * | project-reorder z* desc, y granny-asc, x"),
            "T\n| project-away a*, *b*c, [\"x y\"]\n| project-keep *\n| project-reorder z* desc, y granny-asc, x"
        );
        assert_eq!(
            round_trip("T | where * has 'x' and not(* =~ 'y') | parse kind=regex flags=Ui t with 'a' b"),
            "T\n| where (* has \"x\") and not(* =~ \"y\")\n| parse kind=regex flags=\"Ui\" t with \"a\" b"
        );
        assert_eq!(
            round_trip("T | summarize hint.shufflekey = k count() by k | distinct hint.strategy = shuffle k"),
            "T\n| summarize [\"count\"]() by k\n| distinct k"
        );
    }

    #[test]
    fn wildcard_union_tables_and_where_with_assignment_print_back() {
        assert_eq!(round_trip("union T*, *, U"), "union T*, *, (U)");
        assert_eq!(round_trip("T | where a = true"), "T\n| where a = true");
    }

    #[test]
    fn query_parameters_print_as_lets() {
        assert_eq!(
            round_trip("declare query_parameters(u: string = 'a', n: long = 2); T | take n"),
            "let u = \"a\";\nlet n = 2;\nT\n| take n"
        );
    }

    #[test]
    fn tuple_assignments_and_named_arguments_print_back() {
        assert_eq!(
            round_trip("T | summarize (a, b)=arg_max(x, y), (c) = arg_min(x, Prev = y) by k"),
            "T\n| summarize (a, b) = arg_max(x, y), c = arg_min(x, Prev = y) by k"
        );
        assert_eq!(
            round_trip("print f(n = 1 + 2, m = 'x')"),
            "print f(n = 1 + 2, m = \"x\")"
        );
        assert_eq!(
            round_trip("T | join kind=inner F(1, n = 2) on a | union G('x'), H()"),
            "T\n| join kind=inner (F(1, n = 2)) on a\n| union (G(\"x\")), (H())"
        );
        assert_eq!(
            round_trip("print extract('a(1)', 1, 'a1', typeof( long ))"),
            "print extract(\"a(1)\", 1, \"a1\", typeof(long))"
        );
    }

    #[test]
    fn seed_queries_round_trip() {
        let Some(queries) = crate::syntax::parser::tests::seed_queries() else {
            return;
        };
        for (path, text) in queries {
            let printed = round_trip(&text);
            assert!(
                printed.starts_with("CloudAuditEvents\n| where"),
                "{path}: {printed}"
            );
        }
    }

    #[test]
    fn expressions_print_fully_parenthesized() {
        assert_eq!(round_trip("print a or b and c"), "print a or (b and c)");
        assert_eq!(round_trip("print (a + b) * -c"), "print (a + b) * (-c)");
        assert_eq!(
            round_trip("print x between (1 .. 2) and y !in (1, 2)"),
            "print (x between (1 .. 2)) and (y !in (1, 2))"
        );
        assert_eq!(round_trip("print - - 1"), "print -(-1)");
        assert_eq!(
            round_trip("print a.b[\"c\"].['d e']"),
            "print a.b[\"c\"].[\"d e\"]"
        );
    }

    #[test]
    fn keywords_and_odd_names_are_bracketed() {
        assert_eq!(
            round_trip("print ['where'] = 1, ['x y'] = 2, ['and'] = 3, $left = 4"),
            "print [\"where\"] = 1, [\"x y\"] = 2, [\"and\"] = 3, $left = 4"
        );
        round_trip("['datatable'] | project ['long'], ['print'], ['in~']");
        round_trip("T | where x.['where'] == 1 | mv-expand ['kind'] = x");
    }

    #[test]
    fn every_operator_round_trips() {
        round_trip(
            "let x = 5; let T = datatable (a: long, b: string, ['c d']: dynamic) [1, \"x\", dynamic(null), 2, 'y', dynamic([1])];\n\
             T | where a > x and b has_cs \"x\" | filter a in (1, 2) | extend c = a + 1, d = b\n\
             | project c, e = d | project-away c | project-rename f = e\n\
             | mv-expand g = dynamic([1, 2]) to typeof(long), h = dynamic([]) limit 10\n\
             | take 5 | limit 2 | count",
        );
        round_trip("print x = 1; print y = 2;");
    }

    #[test]
    fn graph_operators_round_trip() {
        let printed = round_trip(
            "E | make-graph a --> b with N on id, (M | where x > 1) on id \
             | graph-mark-components kind=strong with_component_id=c \
             | graph-match cycles=none (x)-[e*1..3]->(y)<--(), (y)-[f]-(z) \
             where x.id == \"a\" and all(e, k > 1) project x.id, n = map(inner_nodes(e), id)",
        );
        assert!(printed.contains("(x)-[e*1..3]->(y)<-[]-()"), "{printed}");
        round_trip(
            "E | make-graph a --> b with_node_id=n \
             | graph-shortest-paths output=all (s)-[p*1..2]-(t) project s.n",
        );
        round_trip(
            "E | make-graph a --> b | graph-to-table edges with_source_id=S with_target_id=T as X",
        );
        round_trip("E | make-graph a --> b | graph-to-table nodes with_node_id=Id");
        round_trip(
            "E | make-graph a --> b | graph-to-table nodes with_node_id=Id as N, edges with_source_id=S as X",
        );
        round_trip(
            "E | make-graph a --> b with N on id partitioned-by t (graph-mark-components | graph-to-table nodes) | take 1",
        );
    }

    #[test]
    fn every_string_operator_round_trips() {
        for base in [
            "contains",
            "has",
            "hasprefix",
            "hassuffix",
            "startswith",
            "endswith",
        ] {
            for negated in ["", "!"] {
                for cs in ["", "_cs"] {
                    let source = format!("print a {negated}{base}{cs} \"x\"");
                    assert_eq!(round_trip(&source), source);
                }
            }
        }
        for source in [
            "print a matches regex \"x\"",
            "print a in (\"x\")",
            "print a !in (\"x\")",
            "print a in~ (\"x\")",
            "print a !in~ (\"x\")",
            "print a has_any (\"x\", \"y\")",
            "print a has_all (\"x\")",
            "print a =~ \"x\"",
            "print a !~ \"x\"",
        ] {
            assert_eq!(round_trip(source), source);
        }
    }

    #[test]
    fn literals_print_in_forms_that_read_back() {
        let cases = [
            ("print 1.5", "print 1.5"),
            ("print 1e300", "print 1e300"),
            ("print 2.", "print 2.0"),
            ("print 0x10", "print 16"),
            ("print long(-5)", "print long(-5)"),
            ("print int(-5)", "print int(-5)"),
            ("print real(-1.5)", "print real(-1.5)"),
            ("print real(+inf)", "print real(+inf)"),
            ("print real(-inf)", "print real(-inf)"),
            ("print 1d", "print 1d"),
            ("print 90m", "print 90m"),
            ("print 1.5s", "print 1500ms"),
            ("print 7tick", "print 7tick"),
            ("print 10microseconds", "print 10microsecond"),
            ("print timespan(-1d)", "print timespan(-1d)"),
            ("print timespan(0.00:00:00)", "print 0s"),
            (
                "print datetime(2024-05-28)",
                "print datetime(2024-05-28T00:00:00Z)",
            ),
            (
                "print datetime(2024-05-28 10:00:00.1234500)",
                "print datetime(2024-05-28T10:00:00.12345Z)",
            ),
            (
                "print datetime(0001-01-01)",
                "print datetime(0001-01-01T00:00:00Z)",
            ),
            (
                "print datetime(9999-12-31T23:59:59.9999999)",
                "print datetime(9999-12-31T23:59:59.9999999Z)",
            ),
            (
                "print guid(74BE27DE-1E4E-49D9-B579-FE0B331D3642)",
                "print guid(74be27de-1e4e-49d9-b579-fe0b331d3642)",
            ),
            ("print long(null)", "print long(null)"),
            ("print date(null)", "print datetime(null)"),
            ("print dynamic(null)", "print dynamic(null)"),
            (
                "print dynamic({\"a\": [1, -2, 2.5, null, true, \"s\", 1h]})",
                "print dynamic({\"a\": [1, long(-2), 2.5, null, true, \"s\", 1h]})",
            ),
            ("print \"a\" 'b'", "print \"ab\""),
            ("print @\"C:\\dir\"", "print \"C:\\\\dir\""),
            (
                "print \"tab\\tquote\\\"nul\\u0000\"",
                "print \"tab\\tquote\\\"nul\\u0000\"",
            ),
            ("print \"ä€😀\"", "print \"ä€😀\""),
        ];
        for (source, printed) in cases {
            assert_eq!(round_trip(source), printed, "{source}");
        }
    }

    #[test]
    fn hand_built_trees_with_negative_and_extreme_values_print_back() {
        for value in [
            Literal::Long(i64::MIN),
            Literal::Long(-1),
            Literal::Int(i32::MIN),
            Literal::Real(-0.5),
            Literal::Real(f64::MAX),
            Literal::Real(f64::MIN_POSITIVE),
            Literal::Real(5e-324),
            Literal::Real(1e16),
            Literal::TimeSpan(i64::MIN),
            Literal::TimeSpan(i64::MAX),
            Literal::TimeSpan(-1),
            Literal::DateTime(-1),
            Literal::DateTime(1),
            Literal::String("\u{7f}\u{1b}\r\n\"\\".to_string()),
            Literal::Bool(false),
        ] {
            prints_back(print_of(literal(value)));
        }
        let negated_literal = expr(ExprKind::Unary {
            op: UnaryOp::Neg,
            operand: Box::new(literal(Literal::Long(-5))),
        });
        assert_eq!(prints_back(print_of(negated_literal)), "print -long(-5)");
        let member_of_number = expr(ExprKind::Member {
            target: Box::new(literal(Literal::Long(1))),
            name: Ident {
                name: "x".to_string(),
                span: Span::default(),
            },
        });
        assert_eq!(prints_back(print_of(member_of_number)), "print (1).x");
        let regex = expr(ExprKind::Binary {
            op: BinaryOp::Str(StringOp {
                kind: StringOpKind::MatchesRegex,
                negated: false,
                case_sensitive: true,
            }),
            lhs: Box::new(literal(Literal::String("a".to_string()))),
            rhs: Box::new(literal(Literal::String("b".to_string()))),
        });
        assert_eq!(
            prints_back(print_of(regex)),
            "print \"a\" matches regex \"b\""
        );
        assert_eq!(
            prints_back(Query {
                statements: vec![],
                span: Span::default()
            }),
            ""
        );
    }

    #[test]
    fn nan_prints_as_real_nan() {
        let printed = print_of(literal(Literal::Real(f64::NAN))).to_string();
        assert_eq!(printed, "print real(nan)");
        assert_eq!(parse(&printed).expect("parses").to_string(), printed);
    }
}
