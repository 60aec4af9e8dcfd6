//! Codegen of the operators that combine pipelines: `join` (its right side
//! a pipeline of its own), `union` (its legs), `partition` and the type
//! that runs a subquery afresh (`partition`, `mv-apply`).

use super::*;

impl Gen {
    /// `join`: the right side's pipeline feeds the join state; left rows probe it.
    pub(super) fn join(&mut self, s: &StageCode<'_>) -> TokenStream {
        let StageCode {
            method,
            next,
            state,
            ..
        } = s;
        let Op::Join {
            kind,
            right,
            left_keys,
            right_keys,
            right_columns,
            ipv4_range,
            left_width,
            right_width: _,
            left_strings,
            right_strings,
        } = &s.stage.op
        else {
            return quote! {};
        };
        self.state_fields.push(quote! {
            /// The right side and the waiting rows of the join.
            #state: Join,
        });
        let spec = format_ident!("{}", format!("{method}_spec").to_uppercase());
        let kind = format_ident!(
            "{}",
            match kind {
                JoinKind::Inner if *ipv4_range => "Ipv4Inner",
                JoinKind::LeftOuter if *ipv4_range => "Ipv4LeftOuter",
                JoinKind::InnerUnique => "InnerUnique",
                JoinKind::Inner => "Inner",
                JoinKind::LeftOuter => "LeftOuter",
                JoinKind::RightOuter => "RightOuter",
                JoinKind::FullOuter => "FullOuter",
                JoinKind::LeftAnti => "LeftAnti",
                JoinKind::RightAnti => "RightAnti",
                JoinKind::LeftSemi => "LeftSemi",
                JoinKind::RightSemi => "RightSemi",
            }
        );
        let (lk, rk, rc) = (
            left_keys.iter().map(|&i| Literal::usize_unsuffixed(i)),
            right_keys.iter().map(|&i| Literal::usize_unsuffixed(i)),
            right_columns.iter().map(|&i| Literal::usize_unsuffixed(i)),
        );
        self.assoc_consts.push(quote! {
            /// The join's keys and output layout.
            const #spec: JoinSpec = JoinSpec {
                kind: JoinKind::#kind,
                left_keys: &[#(#lk),*],
                right_keys: &[#(#rk),*],
                right_columns: &[#(#rc),*],
                left_width: #left_width,
                left_strings: &[#(#left_strings),*],
                right_strings: &[#(#right_strings),*],
            };
        });
        let right_static = !reads_table(right);
        let exit = |row: TokenStream| quote! { self.#state.push_right(#row, &Self::#spec); };
        self.pipeline(&format!("{method}_right_"), right, &exit, right_static);
        if right_static {
            self.start_steps
                .push(quote! { self.#state.complete_right(); });
        }
        self.finish_steps.push(quote! {
            for row in self.#state.finish(&Self::#spec) {
                #next
            }
        });
        quote! {
            for row in self.#state.push_left(row, &Self::#spec) {
                #next
            }
        }
    }

    /// `union`: each leg's rows laid out as the union's, then passed on.
    pub(super) fn union(
        &mut self,
        s: &StageCode<'_>,
        input: &[Expr],
        legs: &[(Pipeline, Vec<Expr>)],
    ) -> TokenStream {
        let StageCode { method, next, .. } = s;
        let mapped = |layout: &[Expr]| {
            let values = layout.iter().map(|e| match e {
                Expr::Column(i, _) => {
                    let i = Literal::usize_unsuffixed(*i);
                    quote! { row[#i].clone() }
                }
                other => owned(other, &[]),
            });
            quote! { vec![#(#values),*] }
        };
        for (k, (leg, mapping)) in legs.iter().enumerate() {
            let leg_method = format_ident!("{}_leg_{}", method, k + 1);
            let layout = mapped(mapping);
            let leg_doc = format!(
                " Rows of `union` table {} in the union's column layout.",
                k + 1
            );
            let leg_next = next.clone();
            let body = quote! {
                let row: Row = #layout;
                #leg_next
            };
            let ctx_param = if mentions(&body, "ctx") {
                quote! { ctx }
            } else {
                quote! { _ctx }
            };
            let emit_param = if mentions(&body, "emit") {
                quote! { emit }
            } else {
                quote! { _emit }
            };
            self.methods.push(quote! {
                #[doc = #leg_doc]
                fn #leg_method(&mut self, #ctx_param: &Context, row: Row, #emit_param: Emit<'_>) {
                    #body
                }
            });
            let exit = |row: TokenStream| quote! { self.#leg_method(ctx, #row, emit); };
            let leg_static = !reads_table(leg);
            self.pipeline(&format!("{method}_leg{}_", k + 1), leg, &exit, leg_static);
        }
        let layout = mapped(input);
        quote! {
            let row: Row = #layout;
            #next
        }
    }

    /// `partition`: the rows of each key, run through the subquery at the end.
    pub(super) fn partition(
        &mut self,
        s: &StageCode<'_>,
        key: &usize,
        sub: &Pipeline,
        limit: &Option<usize>,
    ) -> TokenStream {
        let StageCode {
            stage,
            method,
            next,
            state,
            ..
        } = s;
        let name = format_ident!("{}", camel_case(&method.to_string()));
        let sub_item = sub_struct(&name, &format!("{method}_"), sub, &stage.kql);
        self.items.push(sub_item);
        self.state_fields.push(quote! {
            /// The rows of each partition, until the end of the input.
            #state: Partitions,
        });
        let limit = match limit {
            Some(n) => {
                let n = Literal::usize_unsuffixed(*n);
                quote! { Some(#n) }
            }
            None => quote! { None },
        };
        self.finish_steps.push(quote! {
            for rows in self.#state.finish(#limit) {
                let mut results: Vec<Row> = Vec::new();
                #name::run(ctx, rows, &mut |sub| results.push(sub));
                for row in results {
                    #next
                }
            }
        });
        let key = Literal::usize_unsuffixed(*key);
        quote! {
            self.#state.push(row[#key].clone(), row);
        }
    }
}

/// True when `pipeline` or any of its sub-pipelines reads the input table.
pub(super) fn reads_table(pipeline: &Pipeline) -> bool {
    matches!(pipeline.input, Input::Table { .. })
        || pipeline.stages.iter().any(|stage| match &stage.op {
            Op::Join { right, .. } => reads_table(right),
            Op::Union { legs, .. } => legs.iter().any(|(leg, _)| reads_table(leg)),
            Op::Graph(graph) => graph.node_tables.iter().any(|t| reads_table(&t.pipeline)),
            _ => false,
        })
}

/// `name` or `_name`, as `tokens` use it or not (unused parameters).
pub(super) fn param(tokens: &TokenStream, name: &str) -> Ident {
    if mentions(tokens, name) {
        format_ident!("{}", name)
    } else {
        format_ident!("_{}", name)
    }
}

/// The type that runs an `mv-apply` subquery: a fresh value per input row
/// (its operators' state starts empty), fed the row's subtable.
pub(super) fn sub_struct(name: &Ident, prefix: &str, sub: &Pipeline, kql: &str) -> TokenStream {
    let mut pipeline = sub.clone();
    let columns = match &pipeline.input {
        Input::Rows { columns, .. } => columns.clone(),
        _ => Vec::new(),
    };
    pipeline.input = Input::Table {
        name: "subtable".to_string(),
        used: (0..columns.len()).collect(),
        access: vec![Access::Whole; columns.len()],
        computed: Vec::new(),
        serialized_event: None,
        columns,
    };
    let mut gen = Gen::default();
    gen.pipeline(prefix, &pipeline, &|row| quote! { emit(#row); }, false);
    let entry: TokenStream = gen
        .table_entries
        .iter()
        .map(|e| e(quote! { row }))
        .collect();
    let start: TokenStream = gen.start_steps.iter().cloned().collect();
    let finish: TokenStream = gen.finish_steps.iter().cloned().collect();
    let doc = format!(
        " The subquery of `{}`, run afresh over each row's subtable.",
        doc_lines(kql).next().unwrap_or_default()
    );
    let Gen {
        methods,
        state_fields,
        assoc_consts,
        items,
        ..
    } = gen;
    let (start_fn, start_call) = if start.is_empty() {
        (quote! {}, quote! {})
    } else {
        let (ctx, emit) = (param(&start, "ctx"), param(&start, "emit"));
        (
            quote! {
                fn start(&mut self, #ctx: &Context, #emit: Emit<'_>) {
                    #start
                }
            },
            quote! { query.start(ctx, emit); },
        )
    };
    let (finish_fn, finish_call) = if finish.is_empty() {
        (quote! {}, quote! {})
    } else {
        let (ctx, emit) = (param(&finish, "ctx"), param(&finish, "emit"));
        (
            quote! {
                fn finish(&mut self, #ctx: &Context, #emit: Emit<'_>) {
                    #finish
                }
            },
            quote! { query.finish(ctx, emit); },
        )
    };
    let (ctx, emit) = (param(&entry, "ctx"), param(&entry, "emit"));
    quote! {
        #[doc = #doc]
        #[derive(Debug, Default)]
        struct #name {
            #(#state_fields)*
        }

        impl #name {
            #(#assoc_consts)*

            /// Runs the subquery over `rows`.
            fn run(ctx: &Context, rows: Vec<Row>, emit: Emit<'_>) {
                let mut query = #name::default();
                #start_call
                for row in rows {
                    query.push(ctx, row, emit);
                }
                #finish_call
            }

            #start_fn

            fn push(&mut self, #ctx: &Context, row: Row, #emit: Emit<'_>) {
                #entry
            }

            #finish_fn

            #(#methods)*
        }

        #(#items)*
    }
}
