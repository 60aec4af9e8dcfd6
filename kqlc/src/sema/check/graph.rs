//! `make-graph` and the graph operators after it (`graph-mark-components`,
//! then one of `graph-to-table`, `graph-match`, `graph-shortest-paths`),
//! checked together into one [`CheckedOp::Graph`] stage: a graph lives
//! only inside the query, between `make-graph` and the operator that turns
//! it back into rows.
//!
//! A match is a row: per named node variable a block of the node
//! properties, per named edge variable a block of the edge columns
//! (arrays for a variable length edge), then a column per `all()`,
//! `any()` or `map()` call. `where` and `project` read that row: the
//! checker rewrites `v.p` into the column `v.p`, each graph function
//! call into its column, and `project` becomes a `project` stage after
//! the graph's.

use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::sema::{
    CheckedFold, CheckedGraph, CheckedGraphOutput, CheckedOp, CheckedQuery, CheckedStage, Column,
};
use crate::syntax::ast::{self, BinaryOp, Expr, ExprKind, Ident, Literal, OperatorKind, Span};
use crate::types::{
    binding_events, Cycles, FoldKind, GraphPattern, PatternEdgeSpec, PatternVar, ScalarType,
};
use std::collections::HashMap;

/// The longest variable length edge kqlc matches (`*MIN..MAX`): the work
/// of a match grows as the graph's degree to this power
/// (`docs/limits.md`).
pub(crate) const MAX_PATH_LENGTH: u32 = 32;

/// Whether `operator` is one of the operators that read a graph (a form
/// of one that the parser refused included: it is reported as such, not
/// as a graph without an operator).
pub(super) fn is_graph_operator(operator: &ast::Operator) -> bool {
    match &operator.kind {
        OperatorKind::GraphMatch(_)
        | OperatorKind::GraphToTable(_)
        | OperatorKind::GraphMarkComponents { .. } => true,
        OperatorKind::Unimplemented(opaque) => opaque.text.starts_with("graph-"),
        _ => false,
    }
}

/// A pattern variable as `where` and `project` see it.
#[derive(Clone, Copy)]
struct Var {
    var: PatternVar,
    /// A variable length edge.
    variable: bool,
}

/// A graph function call found while rewriting, checked once the row's
/// layout is known.
struct PendingFold {
    kind: FoldKind,
    edge: usize,
    inner_nodes: bool,
    body: Expr,
}

impl Checker<'_> {
    /// `query | make-graph ... | OPS`: `ops` are the graph operators after
    /// `make-graph` (the last turns the graph into rows).
    pub(super) fn graph(
        &mut self,
        mut query: CheckedQuery,
        make: &ast::Operator,
        graph: &ast::MakeGraph,
        ops: &[ast::Operator],
    ) -> CheckedQuery {
        let edges = query.output.clone();
        let source = self.column_index(&edges, &graph.source).unwrap_or(0);
        let target = self.column_index(&edges, &graph.target).unwrap_or(0);
        let id_type = edges.get(source).map_or(ScalarType::Dynamic, |c| c.ty);
        if let Some(target_column) = edges.get(target) {
            if target_column.ty != id_type {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!(
                            "the target node ids are {}, the source node ids {id_type}",
                            target_column.ty
                        ),
                        graph.target.span,
                    )
                    .with_label(format!("of type {}", target_column.ty))
                    .with_help("node ids of both ends must have one type: convert one of them"),
                );
            }
        }
        let mut properties: Vec<Column> = Vec::new();
        let mut node_tables = Vec::new();
        for (table, id) in &graph.nodes {
            let checked = self.tabular(table);
            let id_column = self.column_index(&checked.output, id).unwrap_or(0);
            if let Some(column) = checked.output.get(id_column) {
                if column.ty != id_type {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!("node ids here are {}, the edges' are {id_type}", column.ty),
                            id.span,
                        )
                        .with_label(format!("of type {}", column.ty))
                        .with_help("node ids of nodes and edges must have one type"),
                    );
                }
            }
            let mut positions = Vec::new();
            for column in &checked.output {
                match properties.iter().position(|p| p.name == column.name) {
                    Some(i) => {
                        if properties[i].ty != column.ty {
                            self.error(
                                Diagnostic::new(
                                    Code::TypeMismatch,
                                    format!(
                                        "node property '{}' is {} in one table and {} in another",
                                        column.name, properties[i].ty, column.ty
                                    ),
                                    table.span,
                                )
                                .with_label("second table of nodes")
                                .with_help("give the property one type in both tables"),
                            );
                        }
                        positions.push(i);
                    }
                    None => {
                        properties.push(column.clone());
                        positions.push(properties.len() - 1);
                    }
                }
            }
            node_tables.push((checked, id_column, positions));
        }
        let node_id_property = graph.node_id.as_ref().map(|name| {
            properties.push(Column::new(name.name.clone(), id_type));
            properties.len() - 1
        });
        let mut checked = CheckedGraph {
            source,
            target,
            node_tables,
            node_properties: properties,
            node_id_property,
            components: Vec::new(),
            partition: None,
            output: CheckedGraphOutput::Nodes { with_id: false },
        };
        let ops = match &graph.partitioned_by {
            Some((column, inner)) => {
                let key = self.column_index(&edges, column).unwrap_or(0);
                let mut keys = Vec::new();
                for (table, _, _) in &checked.node_tables {
                    match table.output.iter().position(|c| c.name == column.name) {
                        Some(i) => keys.push(i),
                        None => {
                            self.error(
                                Diagnostic::new(
                                    Code::UnknownColumn,
                                    format!("a table of nodes has no partition column '{}'", column.name),
                                    column.span,
                                )
                                .with_label("not in every table of nodes")
                                .with_help("the edges and every table of nodes must have the partition column"),
                            );
                            keys.push(0);
                        }
                    }
                }
                checked.partition = Some((key, keys));
                for operator in inner {
                    if !is_graph_operator(operator) {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                "`partitioned-by` takes graph operators only",
                                operator.span,
                            )
                            .with_label("not a graph operator")
                            .with_help("move tabular operators after the closing `)`"),
                        );
                    }
                }
                inner.as_slice()
            }
            None => ops,
        };
        let Some((last, marks)) = ops.split_last() else {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    "`make-graph` must be followed by a graph operator",
                    make.span,
                )
                .with_label("a graph, not rows")
                .with_help(
                    "follow it with `graph-match`, `graph-shortest-paths` or `graph-to-table`",
                ),
            );
            return query;
        };
        for mark in marks {
            match &mark.kind {
                OperatorKind::GraphMarkComponents { strong, property } => {
                    let name = property.as_ref().map_or("ComponentId", |p| p.name.as_str());
                    let position =
                        super::place(&mut checked.node_properties, name, ScalarType::Long);
                    checked.components.push((*strong, position));
                }
                _ => self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "a graph operator that gives rows must be the last one on the graph",
                        mark.span,
                    )
                    .with_label("rows, not a graph")
                    .with_help(
                        "only `graph-mark-components` may come before another graph operator",
                    ),
                ),
            }
        }
        let text = self.text(make.span.to(last.span).to(make.span));
        let (output, project) = match &last.kind {
            OperatorKind::GraphToTable(table) => {
                if let Some((_, comma)) = &table.and_edges {
                    // graph-to-table-operator.md: "returns two tabular
                    // results"; a query gives one.
                    self.error(
                        Diagnostic::new(
                            Code::Unsupported,
                            "`graph-to-table` of both nodes and edges gives two results, and a query here gives one",
                            last.span,
                        )
                        .with_secondary(*comma, "the edges table starts here")
                        .with_label("two tables")
                        .with_help("export one table: `graph-to-table nodes ...` or `graph-to-table edges ...` (a query for each)"),
                    );
                }
                let mut columns = Vec::new();
                let mut add = |checker: &mut Self, name: &Option<Ident>| {
                    if let Some(name) = name {
                        checker.check_unique(&columns, &name.name, name.span);
                        columns.push(Column::new(name.name.clone(), ScalarType::Long));
                    }
                };
                add(self, &table.first_id);
                add(self, &table.target_id);
                let rest = if table.edges {
                    &edges
                } else {
                    &checked.node_properties
                };
                for column in rest {
                    let span = table.first_id.as_ref().map_or(last.span, |n| n.span);
                    self.check_unique(&columns, &column.name, span);
                    columns.push(column.clone());
                }
                checked.output = if table.edges {
                    CheckedGraphOutput::Edges {
                        source_id: table.first_id.is_some(),
                        target_id: table.target_id.is_some(),
                    }
                } else {
                    CheckedGraphOutput::Nodes {
                        with_id: table.first_id.is_some(),
                    }
                };
                (columns, None)
            }
            OperatorKind::GraphMatch(pattern) => {
                let (output, project) = self.graph_match(pattern, &edges, &mut checked, last);
                (output, Some(project))
            }
            OperatorKind::Unimplemented(opaque) => {
                self.unimplemented(opaque);
                return query;
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "`make-graph` must be followed by a graph operator that gives rows",
                        make.span,
                    )
                    .with_label("a graph, not rows")
                    .with_help(
                        "end with `graph-match`, `graph-shortest-paths` or `graph-to-table`",
                    ),
                );
                return query;
            }
        };
        query.stages.push(CheckedStage {
            op: CheckedOp::Graph(Box::new(checked)),
            text,
            input: edges,
            output: output.clone(),
        });
        query.output = output;
        if let Some(project) = project {
            query = self.push_operator(query, &project);
        }
        if let OperatorKind::GraphToTable(ast::GraphToTable {
            name: Some(name), ..
        }) = &last.kind
        {
            self.scalars.remove(&name.name);
            self.tabulars.insert(name.name.clone(), query.clone());
        }
        query
    }

    /// `graph-match` or `graph-shortest-paths`: the pattern into
    /// `checked.output`; returns the match row's columns and the `project`
    /// to run over them.
    fn graph_match(
        &mut self,
        graph: &ast::GraphMatch,
        edges: &[Column],
        checked: &mut CheckedGraph,
        operator: &ast::Operator,
    ) -> (Vec<Column>, ast::Operator) {
        let cycles = match graph.cycles.as_ref().map(|c| c.name.as_str()) {
            None | Some("unique_edges") => Cycles::UniqueEdges,
            Some("none") => Cycles::None,
            Some("all") => Cycles::All,
            Some(other) => {
                let span = graph.cycles.as_ref().map_or(operator.span, |c| c.span);
                self.error(
                    Diagnostic::new(
                        Code::UnexpectedToken,
                        format!("unknown cycles option '{other}'"),
                        span,
                    )
                    .with_label("expected `unique_edges`, `none` or `all`"),
                );
                Cycles::UniqueEdges
            }
        };
        let mut pattern = GraphPattern {
            nodes: 0,
            edges: Vec::new(),
            sequences: Vec::new(),
            cycles,
            shortest: graph.shortest,
            node_blocks: Vec::new(),
            edge_blocks: Vec::new(),
            width: 0,
        };
        let mut layout: Vec<Column> = Vec::new();
        let mut scope: HashMap<String, Var> = HashMap::new();
        let node_properties = checked.node_properties.clone();
        for sequence in &graph.pattern {
            let first = self.pattern_node(
                &sequence.first,
                &mut pattern,
                &mut scope,
                &mut layout,
                &node_properties,
            );
            let mut steps = Vec::new();
            for (edge, node) in &sequence.steps {
                let e = self.pattern_edge(edge, &mut pattern, &mut scope, &mut layout, edges);
                let n = self.pattern_node(
                    node,
                    &mut pattern,
                    &mut scope,
                    &mut layout,
                    &node_properties,
                );
                steps.push((e, n));
            }
            pattern.sequences.push((first, steps));
        }
        if graph.shortest.is_some() {
            let variable = pattern.edges.iter().any(|e| e.variable);
            if graph.pattern.len() != 1 || !variable {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "`graph-shortest-paths` needs one sequence with a variable length edge",
                        operator.span,
                    )
                    .with_label("no shortest path to find")
                    .with_help("write one sequence such as `(a)-[e*1..5]->(b)`"),
                );
            }
        }
        // Rewrite `where` and `project` over the match row.
        let events = binding_events(&pattern);
        let event_of = |var: PatternVar| events.iter().position(|e| *e == var).unwrap_or(0);
        let mut folds = Vec::new();
        let mut conjuncts = Vec::new();
        if let Some(predicate) = &graph.predicate {
            let mut parts = Vec::new();
            split_and(predicate, &mut parts);
            for part in parts {
                let mut used = Vec::new();
                let rewritten = self.rewrite_graph_expr(part, &scope, &mut folds, &mut used, true);
                let event = used.iter().map(|v| event_of(*v)).max().unwrap_or(0);
                conjuncts.push((event, rewritten, part.span));
            }
        }
        let mut project = Vec::new();
        for item in &graph.project {
            let mut used = Vec::new();
            let mut item = item.clone();
            if item.name.is_none() {
                if let ExprKind::Member { target, name } = &item.expr.kind {
                    if let ExprKind::Name(var) = &target.kind {
                        if scope.contains_key(&var.name) {
                            item.name = Some(Ident {
                                name: format!("{}_{}", var.name, name.name),
                                span: item.expr.span,
                            });
                        }
                    }
                }
            }
            item.expr = self.rewrite_graph_expr(&item.expr, &scope, &mut folds, &mut used, false);
            project.push(item);
        }
        let mut checked_folds = Vec::new();
        for (k, fold) in folds.into_iter().enumerate() {
            let element = if fold.inner_nodes {
                node_properties.as_slice()
            } else {
                edges
            };
            // Inside, names are the element's properties, not variables.
            let mut inner_folds = Vec::new();
            let body = self.rewrite_graph_expr(
                &fold.body,
                &HashMap::new(),
                &mut inner_folds,
                &mut Vec::new(),
                false,
            );
            let body = self.expr(&body, element);
            let ty = match fold.kind {
                FoldKind::All | FoldKind::Any => {
                    if !matches!(body.ty, ScalarType::Bool | ScalarType::Dynamic) {
                        self.error(
                            Diagnostic::new(
                                Code::TypeMismatch,
                                format!(
                                    "the condition of a graph function must be bool, found {}",
                                    body.ty
                                ),
                                fold.body.span,
                            )
                            .with_label(format!("of type {}", body.ty)),
                        );
                    }
                    ScalarType::Bool
                }
                FoldKind::Map => ScalarType::Dynamic,
            };
            layout.push(Column::new(fold_column(k), ty));
            checked_folds.push(CheckedFold {
                kind: fold.kind,
                edge: fold.edge,
                inner_nodes: fold.inner_nodes,
                position: layout.len() - 1,
                body,
            });
        }
        pattern.width = layout.len();
        let mut conditions = Vec::new();
        for (event, rewritten, span) in conjuncts {
            let typed = self.expr(&rewritten, &layout);
            if !matches!(typed.ty, ScalarType::Bool | ScalarType::Dynamic) {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("`where` needs a bool predicate, found {}", typed.ty),
                        span,
                    )
                    .with_label(format!("of type {}", typed.ty)),
                );
            }
            conditions.push((event, typed));
        }
        checked.output = CheckedGraphOutput::Match {
            pattern,
            conditions,
            folds: checked_folds,
        };
        let project = ast::Operator {
            kind: OperatorKind::Project(project),
            span: operator.span,
        };
        (layout, project)
    }

    /// A node of the pattern: its variable (a named one again is the same
    /// variable; each `()` a new one).
    fn pattern_node(
        &mut self,
        node: &ast::PatternNode,
        pattern: &mut GraphPattern,
        scope: &mut HashMap<String, Var>,
        layout: &mut Vec<Column>,
        properties: &[Column],
    ) -> usize {
        if let Some(name) = &node.name {
            match scope.get(&name.name) {
                Some(Var {
                    var: PatternVar::Node(k),
                    ..
                }) => return *k,
                Some(_) => self.error(
                    Diagnostic::new(
                        Code::DuplicateColumn,
                        format!("'{}' names an edge and a node", name.name),
                        name.span,
                    )
                    .with_label("already an edge variable")
                    .with_help("give the node another name"),
                ),
                None => {}
            }
        }
        let k = pattern.nodes;
        pattern.nodes += 1;
        let block = node.name.as_ref().map(|name| {
            scope.insert(
                name.name.clone(),
                Var {
                    var: PatternVar::Node(k),
                    variable: false,
                },
            );
            let at = layout.len();
            for p in properties {
                layout.push(Column::new(format!("{}.{}", name.name, p.name), p.ty));
            }
            // The node's degrees follow its properties (the runtime's
            // `bind_node` fills them); `(` keeps them apart from names.
            for degree in NODE_DEGREES {
                layout.push(Column::new(
                    format!("{}.{degree}()", name.name),
                    ScalarType::Long,
                ));
            }
            at
        });
        pattern.node_blocks.push(block);
        k
    }

    /// An edge of the pattern: always a variable of its own.
    fn pattern_edge(
        &mut self,
        edge: &ast::PatternEdge,
        pattern: &mut GraphPattern,
        scope: &mut HashMap<String, Var>,
        layout: &mut Vec<Column>,
        columns: &[Column],
    ) -> usize {
        let (min, max) = edge.range.unwrap_or((1, 1));
        if min > max || max > MAX_PATH_LENGTH {
            self.error(
                Diagnostic::new(
                    Code::Unsupported,
                    format!("a variable length edge must have MIN <= MAX <= {MAX_PATH_LENGTH}, found {min}..{max}"),
                    edge.span,
                )
                .with_label("length range out of bounds")
                .with_help(format!("kqlc matches paths of at most {MAX_PATH_LENGTH} edges")),
            );
        }
        let k = pattern.edges.len();
        let variable = edge.range.is_some();
        pattern.edges.push(PatternEdgeSpec {
            direction: edge.direction,
            min,
            max: max.min(MAX_PATH_LENGTH).max(min.min(MAX_PATH_LENGTH)),
            variable,
        });
        let block = edge.name.as_ref().map(|name| {
            if scope.contains_key(&name.name) {
                self.error(
                    Diagnostic::new(
                        Code::DuplicateColumn,
                        format!("graph variable '{}' is defined twice", name.name),
                        name.span,
                    )
                    .with_label("second definition")
                    .with_help("an edge variable names one edge of the pattern: rename one"),
                );
            }
            scope.insert(
                name.name.clone(),
                Var {
                    var: PatternVar::Edge(k),
                    variable,
                },
            );
            let at = layout.len();
            for c in columns {
                let ty = if variable { ScalarType::Dynamic } else { c.ty };
                layout.push(Column::new(format!("{}.{}", name.name, c.name), ty));
            }
            at
        });
        pattern.edge_blocks.push(block);
        k
    }

    /// `expr` over the match row: `v.p` becomes the column `v.p`, a graph
    /// function call its fold's column; `used` gets the variables read.
    /// In `where` (`condition`), a property of a variable length edge
    /// must be read through `all()`/`any()`/`map()`.
    fn rewrite_graph_expr(
        &mut self,
        expr: &Expr,
        scope: &HashMap<String, Var>,
        folds: &mut Vec<PendingFold>,
        used: &mut Vec<PatternVar>,
        condition: bool,
    ) -> Expr {
        let span = expr.span;
        let property = |target: &Expr, name: Option<String>| -> Option<(String, String)> {
            match (&target.kind, name) {
                (ExprKind::Name(var), Some(p)) if scope.contains_key(&var.name) => {
                    Some((var.name.clone(), p))
                }
                _ => None,
            }
        };
        let named = match &expr.kind {
            ExprKind::Member { target, name } => property(target, Some(name.name.clone())),
            ExprKind::Index { target, index } => match &index.kind {
                ExprKind::Literal(Literal::String(p)) => property(target, Some(p.clone())),
                _ => None,
            },
            _ => None,
        };
        if let Some((var, p)) = named {
            let found = scope[&var];
            used.push(found.var);
            if condition && found.variable {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("a property of variable length edge '{var}' in `where` is not supported yet"),
                        span,
                    )
                    .with_label("one value per edge of the path")
                    .with_help(format!("say which edges must match: `all({var}, {p} ...)` or `any({var}, {p} ...)`")),
                );
                return poisoned_expr(span);
            }
            return Expr {
                kind: ExprKind::Name(Ident {
                    name: format!("{var}.{p}"),
                    span,
                }),
                span,
            };
        }
        let mut recurse = |checker: &mut Self, e: &Expr| {
            Box::new(checker.rewrite_graph_expr(e, scope, folds, used, condition))
        };
        let kind = match &expr.kind {
            ExprKind::Name(var) if scope.contains_key(&var.name) => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "graph variable '{}' without a property is not supported yet",
                            var.name
                        ),
                        span,
                    )
                    .with_label("a node or an edge, not a value")
                    .with_help(format!("read one of its properties: `{}.NAME`", var.name)),
                );
                return poisoned_expr(span);
            }
            ExprKind::Call { name, args }
                if matches!(name.name.as_str(), "all" | "any" | "map") && args.len() == 2 =>
            {
                let kind = match name.name.as_str() {
                    "all" => FoldKind::All,
                    "any" => FoldKind::Any,
                    _ => FoldKind::Map,
                };
                let (target, inner_nodes) = match &args[0].kind {
                    ExprKind::Call { name, args: inner }
                        if name.name == "inner_nodes" && inner.len() == 1 =>
                    {
                        (&inner[0], true)
                    }
                    _ => (&args[0], false),
                };
                let edge = match &target.kind {
                    ExprKind::Name(var) => match scope.get(&var.name) {
                        Some(Var {
                            var: PatternVar::Edge(k),
                            variable: true,
                        }) => Some(*k),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(edge) = edge else {
                    self.error(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            format!(
                                "`{}()` needs a variable length edge of the pattern",
                                name.name
                            ),
                            target.span,
                        )
                        .with_label("not a variable length edge variable")
                        .with_help("name a `-[e*MIN..MAX]-` edge, or `inner_nodes(e)` of one"),
                    );
                    return poisoned_expr(span);
                };
                used.push(PatternVar::Edge(edge));
                folds.push(PendingFold {
                    kind,
                    edge,
                    inner_nodes,
                    body: args[1].clone(),
                });
                ExprKind::Name(Ident {
                    name: fold_column(folds.len() - 1),
                    span,
                })
            }
            // A graph made by `make-graph` has no labels: `labels(v)` and,
            // inside a graph function, `labels()` are empty arrays
            // (`labels-graph-function.md`).
            ExprKind::Call { name, args }
                if name.name == "labels"
                    && (args.is_empty() && !condition_scope_has_vars(scope)
                        || args.len() == 1 && is_var(&args[0], scope)) =>
            {
                if let Some(ExprKind::Name(var)) = args.first().map(|a| &a.kind) {
                    used.push(scope[&var.name].var);
                }
                ExprKind::Literal(Literal::Dynamic(ast::DynamicLiteral::Array(Vec::new())))
            }
            // `node_degree_in(n)`, `node_degree_out(n)` (node-degree-in.md,
            // node_degree_out.md): the column after the node's properties.
            ExprKind::Call { name, args }
                if NODE_DEGREES.contains(&name.name.as_str())
                    && args.len() == 1
                    && is_node_var(&args[0], scope) =>
            {
                let ExprKind::Name(var) = &args[0].kind else {
                    return poisoned_expr(span);
                };
                used.push(scope[&var.name].var);
                ExprKind::Name(Ident {
                    name: format!("{}.{}()", var.name, name.name),
                    span,
                })
            }
            ExprKind::Call { name, .. } if NODE_DEGREES.contains(&name.name.as_str()) => {
                self.error(
                    Diagnostic::new(
                        Code::TypeMismatch,
                        format!("`{}()` needs a node variable of the pattern", name.name),
                        span,
                    )
                    .with_label("not one node variable")
                    .with_help(format!(
                        "name a node of the pattern: `{}(n)` for `(n)`",
                        name.name
                    )),
                );
                return poisoned_expr(span);
            }
            ExprKind::Call { name, .. }
                if matches!(name.name.as_str(), "inner_nodes" | "labels") =>
            {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!("`{}()` here is not supported yet", name.name),
                        span,
                    )
                    .with_label("valid KQL that kqlc cannot compile yet")
                    .with_help("`inner_nodes(e)` is supported as the first argument of `all()`, `any()` and `map()`"),
                );
                return poisoned_expr(span);
            }
            ExprKind::Member { target, name } => ExprKind::Member {
                target: recurse(self, target),
                name: name.clone(),
            },
            ExprKind::Index { target, index } => ExprKind::Index {
                target: recurse(self, target),
                index: recurse(self, index),
            },
            ExprKind::NamedArgument { name, value } => ExprKind::NamedArgument {
                name: name.clone(),
                value: recurse(self, value),
            },
            ExprKind::Call { name, args } => ExprKind::Call {
                name: name.clone(),
                args: args.iter().map(|a| *recurse(self, a)).collect(),
            },
            ExprKind::Unary { op, operand } => ExprKind::Unary {
                op: *op,
                operand: recurse(self, operand),
            },
            ExprKind::Binary { op, lhs, rhs } => ExprKind::Binary {
                op: *op,
                lhs: recurse(self, lhs),
                rhs: recurse(self, rhs),
            },
            ExprKind::Chain { first, rest } => ExprKind::Chain {
                first: recurse(self, first),
                rest: rest
                    .iter()
                    .map(|(op, e)| (*op, *recurse(self, e)))
                    .collect(),
            },
            ExprKind::List { op, expr, items } => ExprKind::List {
                op: *op,
                expr: recurse(self, expr),
                items: items.iter().map(|e| *recurse(self, e)).collect(),
            },
            ExprKind::Between {
                negated,
                expr,
                low,
                high,
            } => ExprKind::Between {
                negated: *negated,
                expr: recurse(self, expr),
                low: recurse(self, low),
                high: recurse(self, high),
            },
            other => other.clone(),
        };
        Expr { kind, span }
    }

    /// A graph operator with no `make-graph` before it.
    pub(super) fn graph_without_graph(&mut self, operator: &ast::Operator) {
        if self.unknown_sources > 0 {
            // The source was refused (`graph("Model")`) and reported.
            return;
        }
        if let Some((subquery, refused)) = self.graph_refused_in {
            // Subqueries run operator by operator over each group's rows;
            // a graph there would be built per group.
            if !refused {
                self.graph_refused_in = Some((subquery, true));
                let what = match &operator.kind {
                    OperatorKind::MakeGraph(_) => "`make-graph`",
                    _ => "a graph operator",
                };
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        format!(
                            "{what} inside {} `{subquery}` subquery is not supported yet",
                            if subquery == "mv-apply" { "an" } else { "a" }
                        ),
                        operator.span,
                    )
                    .with_label("a graph per group")
                    .with_help(format!(
                        "build the graph outside `{subquery}`; for a graph per group use `make-graph ... partitioned-by COLUMN (...)`"
                    )),
                );
            }
            return;
        }
        let name = match &operator.kind {
            OperatorKind::MakeGraph(_) => {
                self.error(
                    Diagnostic::new(
                        Code::Unsupported,
                        "`make-graph` must be followed by a graph operator",
                        operator.span,
                    )
                    .with_label("a graph, not rows")
                    .with_help(
                        "follow it with `graph-match`, `graph-shortest-paths` or `graph-to-table`",
                    ),
                );
                return;
            }
            OperatorKind::GraphMatch(m) if m.shortest.is_some() => "graph-shortest-paths",
            OperatorKind::GraphMatch(_) => "graph-match",
            OperatorKind::GraphToTable(_) => "graph-to-table",
            _ => "graph-mark-components",
        };
        self.error(
            Diagnostic::new(
                Code::TypeMismatch,
                format!("`{name}` reads a graph, and its input is rows"),
                operator.span,
            )
            .with_label("no graph here")
            .with_help("build the graph first: `| make-graph SOURCE --> TARGET | ...`"),
        );
    }
}

/// The name of fold `k`'s column in the match row (not a name one can
/// write, so no property or variable clashes with it).
fn fold_column(k: usize) -> String {
    format!("graph function #{}", k + 1)
}

/// The conjuncts of `a and b and ...`.
fn split_and<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match &expr.kind {
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            split_and(lhs, out);
            split_and(rhs, out);
        }
        _ => out.push(expr),
    }
}

/// A typed null for an expression that was refused (already reported).
fn poisoned_expr(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Literal(Literal::Null(ScalarType::Dynamic)),
        span,
    }
}

/// Whether `expr` is a bare pattern variable.
fn is_var(expr: &Expr, scope: &HashMap<String, Var>) -> bool {
    matches!(&expr.kind, ExprKind::Name(var) if scope.contains_key(&var.name))
}

/// The graph functions of a node, in the order their columns follow the
/// node's properties in a match row.
const NODE_DEGREES: [&str; 2] = ["node_degree_in", "node_degree_out"];

/// Whether the expression names a node variable of the pattern.
fn is_node_var(expr: &Expr, scope: &HashMap<String, Var>) -> bool {
    matches!(&expr.kind, ExprKind::Name(var)
        if scope.get(&var.name).is_some_and(|v| matches!(v.var, PatternVar::Node(_))))
}

/// Whether the expression is over a match row (with variables), not over
/// one element of a graph function.
fn condition_scope_has_vars(scope: &HashMap<String, Var>) -> bool {
    !scope.is_empty()
}
