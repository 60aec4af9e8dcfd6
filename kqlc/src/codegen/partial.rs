//! `--threads`: the partial rules a worker thread runs over its batch of
//! rows, and the merge of their `summarize` states.

use super::*;

/// The stage of `pipeline` (which reads the input table) that a worker
/// thread can run up to and including with `--threads`: its first stateful
/// stage, when that is a `summarize` whose aggregates all merge exactly
/// (`Aggregate::merge`) and the stages before it depend on nothing but the
/// row. `None` when rows could leave the pipeline or reach another state
/// before it.
pub(super) fn partial_summarize(pipeline: &Pipeline) -> Option<usize> {
    for (i, stage) in pipeline.stages.iter().enumerate() {
        match &stage.op {
            Op::Filter(_)
            | Op::Extend(_)
            | Op::Project(_)
            | Op::Select(_)
            | Op::MvExpand { .. }
            | Op::Parse { .. } => {}
            Op::Summarize { aggregates, .. } if aggregates.iter().all(|a| a.mergeable) => {
                return Some(i);
            }
            _ => return None,
        }
    }
    None
}

/// `Query::partial` and the merge of a partial's state, for a rule whose
/// every pipeline reading the input table ends its per-row work in a
/// mergeable `summarize` (and which has nothing computed at start that a
/// fresh value would lack): a worker pushes a batch of rows into a fresh
/// `Rule`, and the calling thread merges its `summarize` states in input
/// order.
pub(super) fn partial_fns(gen: &mut Gen) -> TokenStream {
    if gen.partial_blocked
        || gen.partial_states.is_empty()
        || !gen.start_steps.is_empty()
        || gen.loads_files
    {
        return quote! {};
    }
    let mut merges = Vec::new();
    for state in &gen.partial_states {
        let merge = match gen.typed_groups.iter().find(|typed| &typed.state == state) {
            Some(typed) => {
                gen.items.push(typed.merge.clone());
                let group = &typed.group;
                quote! { #group::merge }
            }
            None => quote! { aggregate::merge_all },
        };
        merges.push(quote! {
            self.#state.merge(partial.#state, #merge);
        });
    }
    quote! {
        fn partial(&self) -> Option<Box<dyn Query + Send>> {
            Some(Box::new(Rule::default()))
        }

        /// Merges the `summarize` groups a worker made of a later batch of rows.
        fn merge_partial(&mut self, partial: Box<dyn Query + Send>) {
            let Some(partial) = partial.into_any().and_then(|any| any.downcast::<Rule>().ok()) else {
                return;
            };
            let partial = *partial;
            #(#merges)*
        }

        fn into_any(self: Box<Self>) -> Option<Box<dyn std::any::Any + Send>> {
            Some(self)
        }
    }
}
