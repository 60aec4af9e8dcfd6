//! Sub-queries (`toscalar(T)`, `x in (T)`): found in a pipeline's
//! expressions, each computed in `start` into a field.

use super::*;

impl Gen {
    /// `toscalar(T)` and `x in (T)` in `pipeline`'s expressions: each a
    /// field computed before anything reads it.
    pub(super) fn subqueries(&mut self, pipeline: &Pipeline) {
        for (id, sub, column) in subqueries(pipeline) {
            let field = format_ident!("subquery_{}", id);
            let rows = format_ident!("subquery_{}_rows", id);
            let doc = format!(
                " Sub-query {id} ({}), computed at the start.",
                if column {
                    "`in`: the first column"
                } else {
                    "`toscalar`"
                }
            );
            let ty = if column {
                quote! { ValueSet }
            } else {
                quote! { Value }
            };
            self.state_fields.push(quote! {
                #[doc = #doc]
                #field: #ty,
                /// Its rows, until it is complete.
                #rows: Vec<Row>,
            });
            let sink = rows.clone();
            let exit = move |row: TokenStream| quote! { self.#sink.push(#row); };
            self.pipeline(&format!("subquery_{id}_"), sub, &exit, true);
            let value = quote! { ops::subquery_value(std::mem::take(&mut self.#rows), #column) };
            self.start_steps.push(if column {
                quote! { self.#field = ValueSet::new(#value); }
            } else {
                quote! { self.#field = #value; }
            });
        }
    }
}

/// The sub-queries in `pipeline`'s own expressions (not those of its joins'
/// or unions' other pipelines, which generate their own), in order.
pub(super) fn subqueries(pipeline: &Pipeline) -> Vec<(usize, &Pipeline, bool)> {
    fn visit<'a>(expr: &'a Expr, out: &mut Vec<(usize, &'a Pipeline, bool)>) {
        match expr {
            Expr::Subquery {
                id,
                pipeline,
                column,
                ..
            } => out.push((*id, pipeline, *column)),
            _ => expr.operands().into_iter().for_each(|e| visit(e, out)),
        }
    }
    let mut exprs: Vec<&Expr> = Vec::new();
    match &pipeline.input {
        Input::Range { from, to, step, .. } => exprs.extend([from, to, step]),
        Input::Rows { rows, .. } => exprs.extend(rows.iter().flatten()),
        Input::Table { .. } | Input::External { .. } => {}
    }
    for stage in &pipeline.stages {
        match &stage.op {
            Op::Filter(e) => exprs.push(e),
            Op::Extend(items) => exprs.extend(items.iter().map(|(_, e)| e)),
            Op::Project(values) => exprs.extend(values),
            Op::MvExpand { items, .. } => exprs.extend(items.iter().map(|(_, e)| e)),
            Op::MvApply { expand, .. } => {
                if let Op::MvExpand { items, .. } = expand.as_ref() {
                    exprs.extend(items.iter().map(|(_, e)| e));
                }
            }
            Op::Summarize { keys, aggregates } => {
                exprs.extend(keys);
                for a in aggregates {
                    exprs.extend(
                        a.value
                            .iter()
                            .chain(&a.predicate)
                            .chain(&a.parameter)
                            .chain(&a.carried),
                    );
                }
            }
            Op::MakeSeries(series) => exprs.extend(series.expressions()),
            Op::Sort { keys, .. } => exprs.extend(keys.iter().map(|k| &k.expr)),
            Op::Parse { expr, .. } => exprs.push(expr),
            Op::Union { input, .. } => exprs.extend(input),
            Op::TopNested(levels) => {
                for level in levels {
                    exprs.push(&level.key);
                    let a = &level.aggregate;
                    exprs.extend(a.value.iter().chain(&a.parameter).chain(&a.carried));
                    exprs.extend(&level.others);
                }
            }
            Op::ConstantRows(rows) => exprs.extend(rows.iter().flatten()),
            Op::Window(items) => {
                exprs.extend(items.iter().flat_map(|(_, w)| &w.args));
            }
            Op::Scan(scan) => exprs.extend(scan.expressions()),
            Op::Graph(graph) => exprs.extend(graph.expressions()),
            Op::Select(_)
            | Op::Take(_)
            | Op::Sample(_)
            | Op::Count
            | Op::Distinct(_)
            | Op::Partition { .. }
            | Op::Join { .. } => {}
        }
    }
    let mut out = Vec::new();
    for expr in exprs {
        visit(expr, &mut out);
    }
    out
}
