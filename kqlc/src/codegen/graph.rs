//! Codegen of `make-graph` and the graph operators after it: the stage
//! keeps its rows as edges (`graph::GraphInput`), node tables are
//! pipelines of their own feeding it, and at the end the graph is built
//! and its nodes, edges or matches go on. A pattern's `where` conjuncts
//! and graph functions become two closures the runtime's matcher calls
//! (`graph::find_matches`).

use super::*;
use crate::plan::ir::{FoldPlan, GraphOutput, GraphPlan};
use crate::types::{Cycles, EdgeDirection, FoldKind, GraphPattern};

fn index(i: usize) -> Literal {
    Literal::usize_unsuffixed(i)
}

fn optional(value: Option<usize>) -> TokenStream {
    match value {
        Some(i) => {
            let i = index(i);
            quote! { Some(#i) }
        }
        None => quote! { None },
    }
}

impl Gen {
    /// `make-graph ... | graph-...`.
    pub(super) fn graph(&mut self, s: &StageCode<'_>, graph: &GraphPlan) -> TokenStream {
        let StageCode {
            stage,
            method,
            next,
            state,
            ..
        } = s;
        self.state_fields.push(quote! {
            /// The graph's edges (and node tables' rows), until the end of
            /// the input.
            #state: graph::GraphInput,
        });
        let spec = format_ident!("{}", format!("{method}_spec").to_uppercase());
        let tables = graph.node_tables.iter().map(|table| {
            let id = index(table.id);
            let properties = table.properties.iter().map(|&p| index(p));
            quote! { graph::NodeTableSpec { id: #id, properties: &[#(#properties),*] } }
        });
        let strings = graph
            .node_properties
            .iter()
            .map(|(_, ty)| *ty == ScalarType::String);
        let node_id = optional(graph.node_id_property);
        let components = graph.components.iter().map(|&(strong, p)| {
            let p = index(p);
            quote! { (#strong, #p) }
        });
        let (source, target) = (index(graph.source), index(graph.target));
        let partition = match &graph.partition {
            Some((edges, tables)) => {
                let edges = index(*edges);
                let tables = tables.iter().map(|&i| index(i));
                quote! { Some((#edges, &[#(#tables),*])) }
            }
            None => quote! { None },
        };
        self.assoc_consts.push(quote! {
            /// The graph's ends, node tables, properties and components.
            const #spec: graph::GraphSpec = graph::GraphSpec {
                source: #source,
                target: #target,
                node_tables: &[#(#tables),*],
                node_strings: &[#(#strings),*],
                node_id_property: #node_id,
                components: &[#(#components),*],
                partition: #partition,
            };
        });
        for (k, table) in graph.node_tables.iter().enumerate() {
            let k_lit = index(k);
            let exit = |row: TokenStream| quote! { self.#state.push_node(#k_lit, #row); };
            let at_start = !combine::reads_table(&table.pipeline);
            self.pipeline(
                &format!("{method}_nodes{}_", k + 1),
                &table.pipeline,
                &exit,
                at_start,
            );
        }
        let rows = match &graph.output {
            GraphOutput::Nodes { with_id } => quote! { built.node_rows(#with_id) },
            GraphOutput::Edges {
                source_id,
                target_id,
            } => quote! { built.edge_rows(#source_id, #target_id) },
            GraphOutput::Match {
                pattern,
                conditions,
                folds,
            } => {
                let pattern_const = format_ident!("{}", format!("{method}_pattern").to_uppercase());
                let value = pattern_tokens(pattern, folds);
                self.assoc_consts.push(quote! {
                    /// The pattern and the layout of a match's row.
                    const #pattern_const: graph::PatternSpec = #value;
                });
                let condition = condition_closure(&stage.output_names, conditions);
                let node_names: Vec<String> = graph
                    .node_properties
                    .iter()
                    .map(|(n, _)| n.clone())
                    .collect();
                let fold = fold_closure(&stage.input_names, &node_names, folds);
                quote! {
                    {
                        let mut matched: Vec<Row> = Vec::new();
                        graph::find_matches(
                            &built,
                            &Self::#pattern_const,
                            &#condition,
                            &#fold,
                            &mut |row| matched.push(row),
                        );
                        matched
                    }
                }
            }
        };
        self.finish_steps.push(quote! {
            for built in self.#state.build(&Self::#spec) {
                for row in #rows {
                    #next
                }
            }
        });
        quote! {
            self.#state.push_edge(row);
        }
    }
}

/// The `graph::PatternSpec` value of a pattern.
fn pattern_tokens(pattern: &GraphPattern, folds: &[FoldPlan]) -> TokenStream {
    let nodes = index(pattern.nodes);
    let edges = pattern.edges.iter().map(|e| {
        let direction = match e.direction {
            EdgeDirection::Forward => quote! { Forward },
            EdgeDirection::Backward => quote! { Backward },
            EdgeDirection::Any => quote! { Any },
        };
        let (min, max, variable) = (e.min, e.max, e.variable);
        quote! {
            graph::EdgeSpec { direction: graph::Direction::#direction, min: #min, max: #max, variable: #variable }
        }
    });
    let sequences = pattern.sequences.iter().map(|(first, steps)| {
        let first = index(*first);
        let steps = steps.iter().map(|&(e, n)| {
            let (e, n) = (index(e), index(n));
            quote! { (#e, #n) }
        });
        quote! { (#first, &[#(#steps),*]) }
    });
    let cycles = match pattern.cycles {
        Cycles::UniqueEdges => quote! { UniqueEdges },
        Cycles::None => quote! { None },
        Cycles::All => quote! { All },
    };
    let shortest = match pattern.shortest {
        Some(all) => quote! { Some(#all) },
        None => quote! { None },
    };
    let node_blocks = pattern.node_blocks.iter().map(|b| optional(*b));
    let edge_blocks = pattern.edge_blocks.iter().map(|b| optional(*b));
    let width = index(pattern.width);
    let folds = folds.iter().map(|f| {
        let kind = match f.kind {
            FoldKind::All => quote! { All },
            FoldKind::Any => quote! { Any },
            FoldKind::Map => quote! { Map },
        };
        let (edge, inner, position) = (index(f.edge), f.inner_nodes, index(f.position));
        quote! {
            graph::FoldSpec { kind: graph::FoldKind::#kind, edge: #edge, inner_nodes: #inner, position: #position }
        }
    });
    quote! {
        graph::PatternSpec {
            nodes: #nodes,
            edges: &[#(#edges),*],
            sequences: &[#(#sequences),*],
            cycles: graph::Cycles::#cycles,
            shortest: #shortest,
            node_blocks: &[#(#node_blocks),*],
            edge_blocks: &[#(#edge_blocks),*],
            width: #width,
            folds: &[#(#folds),*],
        }
    }
}

/// `|event, row| ...`: whether the conjuncts checked after binding event
/// `event` hold for the match row.
fn condition_closure(row_names: &[String], conditions: &[(usize, Expr)]) -> TokenStream {
    if conditions.is_empty() {
        return quote! { |_: usize, _: &[Value]| true };
    }
    let wide = Bindings::over(row_names);
    let mut events: Vec<usize> = conditions.iter().map(|(e, _)| *e).collect();
    events.sort_unstable();
    events.dedup();
    let arms: TokenStream = events
        .iter()
        .map(|&event| {
            let exprs: Vec<&Expr> = conditions
                .iter()
                .filter(|(e, _)| *e == event)
                .map(|(_, c)| c)
                .collect();
            let lets = wide.lets(&exprs);
            let tests = exprs.iter().map(|c| owned_bool(c, &wide.names));
            let event = index(event);
            quote! {
                #event => {
                    #lets
                    #(#tests)&&*
                }
            }
        })
        .collect();
    let row = row_param(&arms);
    quote! {
        |event: usize, #row: &[Value]| -> bool {
            match event {
                #arms
                _ => true,
            }
        }
    }
}

/// `|k, row| ...`: graph function `k`'s expression over one element's row
/// (an edge's columns, or a node's properties for `inner_nodes`).
fn fold_closure(edge_names: &[String], node_names: &[String], folds: &[FoldPlan]) -> TokenStream {
    if folds.is_empty() {
        return quote! { |_: usize, _: &[Value]| Value::Null };
    }
    let arms: TokenStream = folds
        .iter()
        .enumerate()
        .map(|(k, fold)| {
            let names = if fold.inner_nodes {
                node_names
            } else {
                edge_names
            };
            let bindings = Bindings::over(names);
            let lets = bindings.lets(&[&fold.body]);
            let value = owned(&fold.body, &bindings.names);
            let k = index(k);
            quote! {
                #k => {
                    #lets
                    #value
                }
            }
        })
        .collect();
    let row = row_param(&arms);
    quote! {
        |fold: usize, #row: &[Value]| -> Value {
            match fold {
                #arms
                _ => Value::Null,
            }
        }
    }
}

/// `row`, or `_row` when the closure's body does not read it.
fn row_param(body: &TokenStream) -> TokenStream {
    if mentions(body, "row") {
        quote! { row }
    } else {
        quote! { _row }
    }
}
