//! `graph-match` and `graph-shortest-paths`: the matches of a pattern
//! (`graph-match-operator.md`, `graph-shortest-paths-operator.md`).
//!
//! A match is found by backtracking over the pattern's binding events
//! (each sequence's first node, then each edge and the node after it):
//! a first node tries every node in node order, an edge every path from
//! the node before it, out of that node's edges in edge order, shortest
//! first. Each `where` conjunct is checked as soon as the variables it
//! reads are bound (the compiler says after which event), so a condition
//! on the first node prunes the search at once. Matches come out in that
//! search order (`docs/semantics.md`).

use super::Graph;
use crate::ops;
use crate::value::{Row, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Which way a pattern edge goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// `-->`.
    Forward,
    /// `<--`.
    Backward,
    /// `--`: either way.
    Any,
}

/// `cycles=`: which repetitions a match may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cycles {
    /// No edge twice in a match (the default).
    UniqueEdges,
    /// No node twice in a match, except a variable named twice.
    None,
    /// Anything (paths are bounded by their lengths).
    All,
}

/// One edge of a pattern.
#[derive(Clone, Copy, Debug)]
pub struct EdgeSpec {
    /// Which way it goes.
    pub direction: Direction,
    /// At least this many edges.
    pub min: u32,
    /// At most this many edges.
    pub max: u32,
    /// A variable length edge: its properties are arrays.
    pub variable: bool,
}

/// The graph functions over a variable length edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    /// `all()`: true when the condition holds for every element.
    All,
    /// `any()`: true when it holds for some element.
    Any,
    /// `map()`: the array of the values.
    Map,
}

/// A graph function's column of the match row.
#[derive(Clone, Copy, Debug)]
pub struct FoldSpec {
    /// Which function.
    pub kind: FoldKind,
    /// The edge variable.
    pub edge: usize,
    /// Over its inner nodes, not its edges.
    pub inner_nodes: bool,
    /// The column it fills.
    pub position: usize,
}

/// A pattern and the layout of its match rows (generated as a constant).
#[derive(Debug)]
pub struct PatternSpec {
    /// How many node variables.
    pub nodes: usize,
    /// The edge variables.
    pub edges: &'static [EdgeSpec],
    /// Each sequence: its first node, then (edge, node) steps.
    pub sequences: &'static [(usize, &'static [(usize, usize)])],
    /// `cycles=`.
    pub cycles: Cycles,
    /// `graph-shortest-paths`: `Some(all)`.
    pub shortest: Option<bool>,
    /// Per node variable, where its properties go in the row (if named).
    pub node_blocks: &'static [Option<usize>],
    /// Per edge variable, where its columns go in the row (if named).
    pub edge_blocks: &'static [Option<usize>],
    /// The row's width.
    pub width: usize,
    /// The graph functions' columns.
    pub folds: &'static [FoldSpec],
}

/// A binding event.
#[derive(Clone, Copy)]
enum Event {
    /// A sequence's first node.
    Node(usize),
    /// An edge from the node variable `from`; the next event binds `to`.
    Edge { edge: usize, from: usize, to: usize },
    /// The node after an edge (bound with the edge's path).
    End,
}

/// A match being built, for `graph-shortest-paths`: its ends and length.
type Found = (usize, usize, usize);

struct Matcher<'a> {
    graph: &'a Graph,
    spec: &'a PatternSpec,
    condition: &'a dyn Fn(usize, &[Value]) -> bool,
    fold: &'a dyn Fn(usize, &[Value]) -> Value,
    events: Vec<Event>,
    node_at: Vec<Option<usize>>,
    used_edges: Vec<usize>,
    visited: Vec<usize>,
    row: Row,
    length: usize,
    out: &'a mut dyn FnMut(Row, Found),
}

/// Calls `out` with the row of each match of `spec` in `graph`, in search
/// order; `condition(event, row)` says whether the conjuncts checked
/// after binding event `event` hold, `fold(k, element)` is the value of
/// graph function `k`'s expression for one element (an edge's row or a
/// node's properties). For `graph-shortest-paths`, only the shortest
/// matches of each pair of end nodes come out (one, or all with
/// `output=all`), pairs in the order their first match was found.
pub fn find_matches(
    graph: &Graph,
    spec: &PatternSpec,
    condition: &dyn Fn(usize, &[Value]) -> bool,
    fold: &dyn Fn(usize, &[Value]) -> Value,
    out: &mut dyn FnMut(Row),
) {
    let mut events = Vec::new();
    for (first, steps) in spec.sequences {
        events.push(Event::Node(*first));
        let mut from = *first;
        for &(edge, node) in steps.iter() {
            events.push(Event::Edge {
                edge,
                from,
                to: node,
            });
            events.push(Event::End);
            from = node;
        }
    }
    match spec.shortest {
        None => {
            let mut emit = |row: Row, _: Found| out(row);
            Matcher::new(graph, spec, condition, fold, events, &mut emit).event(0);
        }
        Some(all) => {
            let mut pairs: Vec<(usize, usize)> = Vec::new();
            let mut best: HashMap<(usize, usize), (usize, Vec<Row>)> = HashMap::new();
            let mut keep = |row: Row, (a, b, length): Found| match best.get_mut(&(a, b)) {
                None => {
                    pairs.push((a, b));
                    best.insert((a, b), (length, vec![row]));
                }
                Some((shortest, rows)) if length < *shortest => {
                    *shortest = length;
                    *rows = vec![row];
                }
                Some((shortest, rows)) if length == *shortest && all => rows.push(row),
                Some(_) => {}
            };
            Matcher::new(graph, spec, condition, fold, events, &mut keep).event(0);
            for pair in pairs {
                if let Some((_, rows)) = best.remove(&pair) {
                    rows.into_iter().for_each(&mut *out);
                }
            }
        }
    }
}

impl<'a> Matcher<'a> {
    fn new(
        graph: &'a Graph,
        spec: &'a PatternSpec,
        condition: &'a dyn Fn(usize, &[Value]) -> bool,
        fold: &'a dyn Fn(usize, &[Value]) -> Value,
        events: Vec<Event>,
        out: &'a mut dyn FnMut(Row, Found),
    ) -> Matcher<'a> {
        Matcher {
            graph,
            spec,
            condition,
            fold,
            events,
            node_at: vec![None; spec.nodes],
            used_edges: Vec::new(),
            visited: Vec::new(),
            row: vec![Value::Null; spec.width],
            length: 0,
            out,
        }
    }

    /// Binds event `i` every way it can be, and the rest after each.
    fn event(&mut self, i: usize) {
        let Some(&event) = self.events.get(i) else {
            let first = self.spec.sequences.first().map_or(0, |s| s.0);
            let last = self
                .spec
                .sequences
                .first()
                .and_then(|s| s.1.last())
                .map_or(first, |step| step.1);
            let found = (
                self.node_at[first].unwrap_or(0),
                self.node_at[last].unwrap_or(0),
                self.length,
            );
            (self.out)(self.row.clone(), found);
            return;
        };
        match event {
            Event::Node(k) => {
                if self.node_at[k].is_some() {
                    if (self.condition)(i, &self.row) {
                        self.event(i + 1);
                    }
                    return;
                }
                for x in 0..self.graph.node_count() {
                    if self.spec.cycles == Cycles::None && self.visited.contains(&x) {
                        continue;
                    }
                    self.bind_node(k, x);
                    self.visited.push(x);
                    if (self.condition)(i, &self.row) {
                        self.event(i + 1);
                    }
                    self.visited.pop();
                    self.node_at[k] = None;
                }
            }
            Event::Edge { from, .. } => {
                let Some(start) = self.node_at[from] else {
                    return;
                };
                let mut edges = Vec::new();
                let mut nodes = Vec::new();
                self.walk(i, start, &mut edges, &mut nodes, true);
            }
            // Bound by the edge before it.
            Event::End => {}
        }
    }

    fn bind_node(&mut self, k: usize, x: usize) {
        self.node_at[k] = Some(x);
        if let Some(at) = self.spec.node_blocks[k] {
            let properties = &self.graph.nodes[x];
            for (slot, value) in self.row[at..].iter_mut().zip(properties) {
                *slot = value.clone();
            }
            // Then `node_degree_in`, `node_degree_out`: the node's incoming
            // and outgoing edges (a loop counts in both).
            let degrees = [self.graph.inn[x].len(), self.graph.out[x].len()];
            let slots = self.row.iter_mut().skip(at + properties.len());
            for (slot, degree) in slots.zip(degrees) {
                *slot = Value::Long(i64::try_from(degree).unwrap_or(i64::MAX));
            }
        }
    }

    /// The edges leaving `u` along `direction`, each with the node it
    /// reaches.
    fn adjacent(&self, u: usize, direction: Direction) -> Vec<(usize, usize)> {
        let graph = self.graph;
        let forward = graph.out[u].iter().map(|&e| (e, graph.ends[e].1));
        let backward = graph.inn[u].iter().map(|&e| (e, graph.ends[e].0));
        match direction {
            Direction::Forward => forward.collect(),
            Direction::Backward => backward.collect(),
            // A loop is one edge, not two.
            Direction::Any => forward
                .chain(backward.filter(|&(e, _)| graph.ends[e].0 != graph.ends[e].1))
                .collect(),
        }
    }

    /// Extends the path of edge event `i` (its edges and the nodes they
    /// reach) from `u`; each long enough is a binding of the edge.
    /// `extendable`: `u` may be an inner node (under `cycles=none`, a node
    /// seen before may only end the path, as a variable named again).
    fn walk(
        &mut self,
        i: usize,
        u: usize,
        edges: &mut Vec<usize>,
        nodes: &mut Vec<usize>,
        extendable: bool,
    ) {
        let Event::Edge { edge, .. } = self.events[i] else {
            return;
        };
        let spec = self.spec.edges[edge];
        if edges.len() >= spec.min as usize {
            self.complete(i, edges, nodes, extendable);
        }
        if edges.len() >= spec.max as usize || !extendable {
            return;
        }
        for (e, v) in self.adjacent(u, spec.direction) {
            if self.spec.cycles != Cycles::All && self.used_edges.contains(&e) {
                continue;
            }
            let fresh = self.spec.cycles != Cycles::None
                || !(self.visited.contains(&v) || nodes.contains(&v));
            self.used_edges.push(e);
            edges.push(e);
            nodes.push(v);
            self.walk(i, v, edges, nodes, fresh);
            nodes.pop();
            edges.pop();
            self.used_edges.pop();
        }
    }

    /// Binds edge event `i` to a path and the node after it to the path's
    /// end, then goes on.
    fn complete(&mut self, i: usize, edges: &[usize], nodes: &[usize], end_fresh: bool) {
        let Event::Edge { edge, from, to } = self.events[i] else {
            return;
        };
        let start = self.node_at[from].unwrap_or(0);
        let end = nodes.last().copied().unwrap_or(start);
        let bound = self.node_at[to];
        match bound {
            Some(x) if x != end => return,
            None if !end_fresh => return,
            _ => {}
        }
        self.fill_edge(edge, edges, nodes);
        self.length += edges.len();
        if (self.condition)(i, &self.row) {
            let inner = nodes.len().saturating_sub(1);
            if bound.is_none() {
                self.bind_node(to, end);
            }
            self.visited.extend_from_slice(&nodes[..inner]);
            if bound.is_none() && !nodes.is_empty() {
                self.visited.push(end);
            }
            if (self.condition)(i + 1, &self.row) {
                self.event(i + 2);
            }
            let pushed = inner + usize::from(bound.is_none() && !nodes.is_empty());
            self.visited.truncate(self.visited.len() - pushed);
            if bound.is_none() {
                self.node_at[to] = None;
            }
        }
        self.length -= edges.len();
    }

    /// The row's block of edge variable `edge` and its graph functions.
    fn fill_edge(&mut self, edge: usize, edges: &[usize], nodes: &[usize]) {
        let graph = self.graph;
        if let Some(at) = self.spec.edge_blocks[edge] {
            let width = graph.edges.first().map_or(0, Vec::len);
            for c in 0..width {
                self.row[at + c] = if self.spec.edges[edge].variable {
                    let values = edges.iter().map(|&e| graph.edges[e][c].clone()).collect();
                    Value::Array(Arc::new(values))
                } else {
                    edges
                        .first()
                        .map_or(Value::Null, |&e| graph.edges[e][c].clone())
                };
            }
        }
        let inner = &nodes[..nodes.len().saturating_sub(1)];
        for (k, fold) in self.spec.folds.iter().enumerate() {
            if fold.edge != edge {
                continue;
            }
            let elements: Vec<&Row> = if fold.inner_nodes {
                inner.iter().map(|&x| &graph.nodes[x]).collect()
            } else {
                edges.iter().map(|&e| &graph.edges[e]).collect()
            };
            let value = match fold.kind {
                FoldKind::All => {
                    Value::Bool(elements.iter().all(|el| ops::is_true(&(self.fold)(k, el))))
                }
                FoldKind::Any => {
                    Value::Bool(elements.iter().any(|el| ops::is_true(&(self.fold)(k, el))))
                }
                FoldKind::Map => Value::Array(Arc::new(
                    elements.iter().map(|el| (self.fold)(k, el)).collect(),
                )),
            };
            self.row[fold.position] = value;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphSpec;

    static GRAPH: GraphSpec = GraphSpec {
        source: 0,
        target: 1,
        node_tables: &[],
        node_strings: &[false],
        node_id_property: Some(0),
        components: &[],
        partition: None,
    };

    fn graph(edges: &[(i64, i64)]) -> Graph {
        crate::graph::graph_of_long_edges(&GRAPH, edges)
    }

    /// `(a)-[e*MIN..MAX]->(b)` with a's and b's ids and e's targets.
    fn path_pattern(min: u32, max: u32, cycles: Cycles, shortest: Option<bool>) -> PatternSpec {
        static EDGES_1_3: [EdgeSpec; 1] = [EdgeSpec {
            direction: Direction::Forward,
            min: 1,
            max: 3,
            variable: true,
        }];
        static EDGES_2_2: [EdgeSpec; 1] = [EdgeSpec {
            direction: Direction::Forward,
            min: 2,
            max: 2,
            variable: true,
        }];
        PatternSpec {
            nodes: 2,
            edges: if (min, max) == (1, 3) {
                &EDGES_1_3
            } else {
                &EDGES_2_2
            },
            sequences: &[(0, &[(0, 1)])],
            cycles,
            shortest,
            // Each node: its id, then its in- and out-degree.
            node_blocks: &[Some(0), Some(3)],
            edge_blocks: &[Some(6)],
            width: 8,
            folds: &[],
        }
    }

    fn run(graph: &Graph, spec: &PatternSpec, from: i64) -> Vec<(i64, Vec<i64>)> {
        let mut rows = Vec::new();
        let condition = |event: usize, row: &[Value]| event != 0 || row[0] == Value::Long(from);
        find_matches(graph, spec, &condition, &|_, _| Value::Null, &mut |row| {
            rows.push(row)
        });
        rows.into_iter()
            .map(|row| {
                let Value::Long(end) = row[3] else {
                    return (-1, Vec::new());
                };
                let Value::Array(path) = &row[7] else {
                    return (end, Vec::new());
                };
                let path = path
                    .iter()
                    .map(|v| if let Value::Long(n) = v { *n } else { -1 })
                    .collect();
                (end, path)
            })
            .collect()
    }

    #[test]
    fn variable_length_paths_come_shortest_first_along_edge_order() {
        let g = graph(&[(1, 2), (2, 3), (1, 3), (3, 1)]);
        let spec = path_pattern(1, 3, Cycles::UniqueEdges, None);
        assert_eq!(
            run(&g, &spec, 1),
            vec![
                (2, vec![2]),
                (3, vec![2, 3]),
                (1, vec![2, 3, 1]),
                (3, vec![3]),
                (1, vec![3, 1]),
                (2, vec![3, 1, 2]),
            ]
        );
    }

    #[test]
    fn bound_nodes_carry_their_in_and_out_degree() {
        let g = graph(&[(1, 2), (2, 3), (1, 3), (3, 1)]);
        let spec = path_pattern(1, 3, Cycles::UniqueEdges, None);
        let mut rows = Vec::new();
        let condition = |event: usize, row: &[Value]| event != 0 || row[0] == Value::Long(1);
        find_matches(&g, &spec, &condition, &|_, _| Value::Null, &mut |row| {
            rows.push(row)
        });
        // (id, in, out): 1 has 3->1 in, 1->2 and 1->3 out; 2 has one of
        // each; 3 has 2->3 and 1->3 in, 3->1 out.
        let degrees = |id: i64| match id {
            1 => (1, 2),
            2 => (1, 1),
            _ => (2, 1),
        };
        assert!(!rows.is_empty());
        for row in rows {
            for at in [0, 3] {
                let Value::Long(id) = row[at] else {
                    panic!("no node id at {at}: {row:?}");
                };
                let (inn, out) = degrees(id);
                assert_eq!(row[at + 1], Value::Long(inn), "in-degree of {id}");
                assert_eq!(row[at + 2], Value::Long(out), "out-degree of {id}");
            }
        }
    }

    #[test]
    fn cycles_none_refuses_a_node_twice() {
        let g = graph(&[(1, 2), (2, 3), (1, 3), (3, 1)]);
        let spec = path_pattern(1, 3, Cycles::None, None);
        assert_eq!(
            run(&g, &spec, 1),
            vec![(2, vec![2]), (3, vec![2, 3]), (3, vec![3])]
        );
    }

    #[test]
    fn shortest_paths_keep_the_first_of_the_least_length_per_pair() {
        let g = graph(&[(1, 2), (2, 3), (1, 3), (3, 1)]);
        let any = path_pattern(1, 3, Cycles::UniqueEdges, Some(false));
        assert_eq!(
            run(&g, &any, 1),
            vec![(2, vec![2]), (3, vec![3]), (1, vec![3, 1])]
        );
        let two = path_pattern(2, 2, Cycles::UniqueEdges, Some(true));
        assert_eq!(run(&g, &two, 1), vec![(3, vec![2, 3]), (1, vec![3, 1])]);
    }
}
