//! `graph-mark-components`: connected components, numbered from 0 in the
//! order of each component's first node (the reference leaves the numbers
//! arbitrary; `docs/semantics.md`).

use super::Graph;

/// Weak components: nodes linked by edges either way (union-find).
pub fn weak(graph: &Graph) -> Vec<usize> {
    let n = graph.node_count();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for &(a, b) in &graph.ends {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra != rb {
            // The smaller node is the root: roots are first nodes.
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent[high] = low;
        }
    }
    let roots: Vec<usize> = (0..n).map(|x| root(&mut parent, x)).collect();
    number_by_first_node(&roots)
}

/// Strong components: nodes that reach each other along the edges'
/// directions (Tarjan's algorithm, without recursion).
pub fn strong(graph: &Graph) -> Vec<usize> {
    let n = graph.node_count();
    const UNSEEN: usize = usize::MAX;
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![UNSEEN; n];
    let mut next_index = 0;
    let mut found = 0;
    for start in 0..n {
        if index[start] != UNSEEN {
            continue;
        }
        // (node, position in its outgoing edges)
        let mut frames: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&(v, at)) = frames.last() {
            if let Some(&e) = graph.out[v].get(at) {
                if let Some(top) = frames.last_mut() {
                    top.1 += 1;
                }
                let w = graph.ends[e].1;
                if index[w] == UNSEEN {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    frames.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            frames.pop();
            if let Some(&(parent, _)) = frames.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = found;
                    if w == v {
                        break;
                    }
                }
                found += 1;
            }
        }
    }
    number_by_first_node(&component)
}

/// Renumbers labels 0, 1, ... in order of their first node.
fn number_by_first_node(labels: &[usize]) -> Vec<usize> {
    let mut numbers = std::collections::HashMap::new();
    labels
        .iter()
        .map(|label| {
            let next = numbers.len();
            *numbers.entry(*label).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::GraphSpec;

    static SPEC: GraphSpec = GraphSpec {
        source: 0,
        target: 1,
        node_tables: &[],
        node_strings: &[],
        node_id_property: None,
        components: &[],
        partition: None,
    };

    fn graph(edges: &[(i64, i64)]) -> Graph {
        crate::graph::graph_of_long_edges(&SPEC, edges)
    }

    #[test]
    fn weak_components_ignore_direction_and_number_by_first_node() {
        // Nodes in order: 1, 2, 3, 4, 5.
        let g = graph(&[(1, 2), (3, 4), (4, 2), (5, 5)]);
        assert_eq!(weak(&g), vec![0, 0, 0, 0, 1]);
    }

    #[test]
    fn strong_components_need_both_directions() {
        // 1 -> 2 -> 3 -> 1 is a cycle; 4 hangs off it.
        let g = graph(&[(1, 2), (2, 3), (3, 1), (3, 4)]);
        assert_eq!(strong(&g), vec![0, 0, 0, 1]);
        let chain = graph(&[(1, 2), (2, 3)]);
        assert_eq!(strong(&chain), vec![0, 1, 2]);
    }
}
