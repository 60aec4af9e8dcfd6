//! What `make-graph` and the graph operators compute
//! (`make-graph-operator.md`, `graph-to-table-operator.md`,
//! `graph-mark-components-operator.md`; matching is in [`matching`]).
//!
//! A graph lives inside one rule: [`GraphInput`] holds the edge rows (and
//! the node tables' rows) until the input ends, like `summarize`'s groups,
//! so its memory is bounded by the input; [`GraphInput::build`] then makes
//! the [`Graph`], whose nodes and edges keep a deterministic order:
//! - nodes: the node tables' rows in order (the first table's first), then
//!   the nodes only edges name, in order of first appearance (each edge's
//!   source, then its target);
//! - edges: the input rows' order.

pub mod components;
pub mod matching;

use crate::aggregate::identity;
use crate::value::{Row, Value};
use std::collections::HashMap;

pub use matching::{find_matches, Cycles, Direction, EdgeSpec, FoldKind, FoldSpec, PatternSpec};

/// The most nodes plus edges a graph may have (`docs/limits.md`): the
/// reference advises transient graphs below 10 million elements. Past it
/// the operator gives no rows and the detector reports the cap.
pub const MAX_GRAPH_ELEMENTS: usize = 10_000_000;

/// How a rule's `make-graph` lays out its graph (generated as a constant).
#[derive(Debug)]
pub struct GraphSpec {
    /// The position of each edge's source node id.
    pub source: usize,
    /// The position of each edge's target node id.
    pub target: usize,
    /// The node tables (`with T on ID`).
    pub node_tables: &'static [NodeTableSpec],
    /// Per node property: whether it is a string (`""` when unset, not null).
    pub node_strings: &'static [bool],
    /// `with_node_id=`: the property holding each node's id.
    pub node_id_property: Option<usize>,
    /// `graph-mark-components`, in order: strong or weak, and the property
    /// that gets the component number.
    pub components: &'static [(bool, usize)],
    /// `partitioned-by`: the partition column of the edges and of each
    /// node table; a graph per value.
    pub partition: Option<(usize, &'static [usize])>,
}

/// A table of node properties.
#[derive(Debug)]
pub struct NodeTableSpec {
    /// The position of the node id in its rows.
    pub id: usize,
    /// The node property each column fills.
    pub properties: &'static [usize],
}

/// The rows `make-graph` keeps until the end of its input.
#[derive(Debug, Default)]
pub struct GraphInput {
    edges: Vec<Row>,
    nodes: Vec<Vec<Row>>,
}

impl GraphInput {
    /// Keeps an edge row.
    pub fn push_edge(&mut self, row: Row) {
        self.edges.push(row);
    }

    /// Keeps a row of node table `table`.
    pub fn push_node(&mut self, table: usize, row: Row) {
        if self.nodes.len() <= table {
            self.nodes.resize_with(table + 1, Vec::new);
        }
        self.nodes[table].push(row);
    }

    /// The graph of the rows kept (which it takes), or with
    /// `partitioned-by` a graph per partition value, in order of first
    /// appearance (node tables' rows first, then edges); none, with the cap
    /// noted (`budget::cap_hit`), when they would hold more than
    /// [`MAX_GRAPH_ELEMENTS`] nodes and edges.
    pub fn build(&mut self, spec: &GraphSpec) -> Vec<Graph> {
        let edges = std::mem::take(&mut self.edges);
        let mut tables = std::mem::take(&mut self.nodes);
        tables.resize_with(spec.node_tables.len(), Vec::new);
        let rows: usize = edges.len() + tables.iter().map(Vec::len).sum::<usize>();
        // Nodes are at most two per edge plus the tables' rows.
        if rows + edges.len() > MAX_GRAPH_ELEMENTS {
            crate::budget::cap_hit(
                "make-graph's limit of 10000000 nodes and edges: no rows from the graph",
            );
            return Vec::new();
        }
        let Some((edge_key, table_keys)) = spec.partition else {
            return vec![build_graph(edges, tables, spec)];
        };
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut parts: Vec<(Vec<Row>, Vec<Vec<Row>>)> = Vec::new();
        let mut key = Vec::new();
        let mut part_of = |value: Option<&Value>, parts: &mut Vec<(Vec<Row>, Vec<Vec<Row>>)>| {
            key.clear();
            identity(value.unwrap_or(&Value::Null), &mut key);
            *index.entry(key.clone()).or_insert_with(|| {
                parts.push((Vec::new(), vec![Vec::new(); spec.node_tables.len()]));
                parts.len() - 1
            })
        };
        for (t, rows) in tables.into_iter().enumerate() {
            let column = table_keys.get(t).copied().unwrap_or(0);
            for row in rows {
                let p = part_of(row.get(column), &mut parts);
                parts[p].1[t].push(row);
            }
        }
        for row in edges {
            let p = part_of(row.get(edge_key), &mut parts);
            parts[p].0.push(row);
        }
        parts
            .into_iter()
            .map(|(edges, tables)| build_graph(edges, tables, spec))
            .collect()
    }
}

/// The graph of these edges and node tables' rows.
fn build_graph(edges: Vec<Row>, tables: Vec<Vec<Row>>, spec: &GraphSpec) -> Graph {
    {
        let width = spec.node_strings.len();
        let mut graph = Graph::default();
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut properties: Vec<Vec<Option<Value>>> = Vec::new();
        let mut key = Vec::new();
        let mut node_of =
            |id: &Value, graph: &mut Graph, properties: &mut Vec<Vec<Option<Value>>>| {
                key.clear();
                identity(id, &mut key);
                if let Some(&k) = index.get(&key) {
                    return k;
                }
                let k = graph.ids.len();
                index.insert(key.clone(), k);
                graph.ids.push(id.clone());
                properties.push(vec![None; width]);
                k
            };
        for (t, rows) in tables.iter().enumerate() {
            let Some(table) = spec.node_tables.get(t) else {
                continue;
            };
            for row in rows {
                let id = row.get(table.id).cloned().unwrap_or_default();
                let k = node_of(&id, &mut graph, &mut properties);
                for (value, &p) in row.iter().zip(table.properties) {
                    // A node in several rows keeps the first value of each
                    // property (the reference takes an arbitrary one).
                    if properties[k][p].is_none() {
                        properties[k][p] = Some(value.clone());
                    }
                }
            }
        }
        for row in &edges {
            let from = row.get(spec.source).cloned().unwrap_or_default();
            let to = row.get(spec.target).cloned().unwrap_or_default();
            let a = node_of(&from, &mut graph, &mut properties);
            let b = node_of(&to, &mut graph, &mut properties);
            graph.ends.push((a, b));
        }
        graph.edges = edges;
        // A node no table describes still has its id in each table's id
        // property (and in `with_node_id`'s).
        let id_properties = spec
            .node_tables
            .iter()
            .filter_map(|t| t.properties.get(t.id).copied())
            .chain(spec.node_id_property);
        let id_properties: Vec<usize> = id_properties.collect();
        for (k, node) in properties.iter_mut().enumerate() {
            for &p in &id_properties {
                if node[p].is_none() {
                    node[p] = Some(graph.ids[k].clone());
                }
            }
        }
        graph.nodes = properties
            .into_iter()
            .map(|node| {
                node.into_iter()
                    .zip(spec.node_strings)
                    .map(|(value, &string)| match value {
                        Some(value) => value,
                        None if string => Value::from_static(""),
                        None => Value::Null,
                    })
                    .collect()
            })
            .collect();
        graph.out = vec![Vec::new(); graph.ids.len()];
        graph.inn = vec![Vec::new(); graph.ids.len()];
        for (e, &(a, b)) in graph.ends.iter().enumerate() {
            graph.out[a].push(e);
            graph.inn[b].push(e);
        }
        for &(strong, property) in spec.components {
            let numbers = if strong {
                components::strong(&graph)
            } else {
                components::weak(&graph)
            };
            for (node, number) in graph.nodes.iter_mut().zip(numbers) {
                if let Some(slot) = node.get_mut(property) {
                    *slot = Value::Long(number as i64);
                }
            }
        }
        graph
    }
}

/// A graph: nodes with their properties, edges with their rows.
#[derive(Debug, Default)]
pub struct Graph {
    /// Each node's properties.
    nodes: Vec<Row>,
    /// Each node's id.
    ids: Vec<Value>,
    /// Each edge's row.
    edges: Vec<Row>,
    /// Each edge's source and target node.
    ends: Vec<(usize, usize)>,
    /// Each node's outgoing edges, in edge order.
    out: Vec<Vec<usize>>,
    /// Each node's incoming edges, in edge order.
    inn: Vec<Vec<usize>>,
}

impl Graph {
    /// How many nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// A node's hash id: `hash()` of its id.
    fn hash_id(&self, node: usize) -> Value {
        crate::functions::hash(std::slice::from_ref(&self.ids[node]))
    }

    /// `graph-to-table nodes`: a row per node, its hash id first when
    /// `with_id`, then its properties.
    pub fn node_rows(&self, with_id: bool) -> Vec<Row> {
        (0..self.nodes.len())
            .map(|k| {
                let mut row = Vec::with_capacity(self.nodes[k].len() + 1);
                if with_id {
                    row.push(self.hash_id(k));
                }
                row.extend(self.nodes[k].iter().cloned());
                row
            })
            .collect()
    }

    /// `graph-to-table edges`: a row per edge, the hash ids of its source
    /// and target first when asked, then its columns.
    pub fn edge_rows(&self, source_id: bool, target_id: bool) -> Vec<Row> {
        self.edges
            .iter()
            .zip(&self.ends)
            .map(|(edge, &(a, b))| {
                let mut row = Vec::with_capacity(edge.len() + 2);
                if source_id {
                    row.push(self.hash_id(a));
                }
                if target_id {
                    row.push(self.hash_id(b));
                }
                row.extend(edge.iter().cloned());
                row
            })
            .collect()
    }
}

/// The one graph of `spec` over edges between `long` node ids, for the
/// tests of this module's parts.
#[cfg(test)]
pub(crate) fn graph_of_long_edges(spec: &GraphSpec, edges: &[(i64, i64)]) -> Graph {
    let mut input = GraphInput::default();
    for &(a, b) in edges {
        input.push_edge(vec![Value::Long(a), Value::Long(b)]);
    }
    input.build(spec).pop().expect("one graph")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    static TABLES: [NodeTableSpec; 1] = [NodeTableSpec {
        id: 0,
        properties: &[0, 1],
    }];

    static SPEC: GraphSpec = GraphSpec {
        source: 0,
        target: 1,
        node_tables: &TABLES,
        node_strings: &[true, false],
        node_id_property: None,
        components: &[],
        partition: None,
    };

    #[test]
    fn nodes_come_from_tables_then_edges_and_unknown_ones_keep_their_id() {
        let mut input = GraphInput::default();
        input.push_node(0, vec![s("b"), Value::Long(2)]);
        input.push_node(0, vec![s("b"), Value::Long(3)]);
        input.push_edge(vec![s("a"), s("b")]);
        input.push_edge(vec![s("b"), s("c")]);
        let graph = input.build(&SPEC).pop().expect("one graph");
        assert_eq!(
            graph.node_rows(false),
            vec![
                vec![s("b"), Value::Long(2)],
                vec![s("a"), Value::Null],
                vec![s("c"), Value::Null],
            ]
        );
        let edges = graph.edge_rows(true, false);
        assert_eq!(edges[0][0], crate::functions::hash(&[s("a")]));
        assert_eq!(edges[1][1..], [s("b"), s("c")]);
    }
}
