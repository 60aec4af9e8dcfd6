//! Rows as generated structs where the layout is known.
//!
//! After the filters that borrow the reader's row, a run of row-by-row
//! operators (`where`, `extend`, `project` and its column forms) carries its
//! rows as a struct per layout instead of a `Row`: the input columns stay
//! where they are, borrowed from the reader's row (`input: &'r Row`), and
//! each computed column is a field named after it. A `string` column made
//! by `tostring` is a `Str` field, which the text predicates read as it is;
//! other computed columns are `Value` fields. The struct becomes a `Row`
//! once, where the run ends: at `emit`, or before a stateful operator.
//!
//! Nothing else changes: each operator is still a method whose doc comment
//! is its KQL, and the values are those of the generic code.

use super::expr::{columns_of, text_only_columns};
use super::*;

/// Where a column of a typed row is.
#[derive(Clone)]
enum Slot {
    /// This column of the reader's row, borrowed.
    Input(usize),
    /// A field of the row's struct (or, inside an `extend`, a local
    /// holding the value an earlier item computed).
    Field {
        /// The field's name.
        name: Ident,
        /// A `Str` field (a `string` that is always a string), else `Value`.
        text: bool,
        /// Set by the stage being generated, not yet in a struct.
        local: bool,
        /// Its KQL type (for the field's doc comment).
        ty: ScalarType,
    },
    /// A column no later stage of the run reads: not carried.
    Dead,
}

/// The columns of the rows between two stages of a typed run.
#[derive(Clone)]
pub(super) struct Layout {
    /// The struct's name; `None` while the row is the reader's `&Row`.
    name: Option<Ident>,
    slots: Vec<Slot>,
    /// The width of the reader's row.
    input_width: usize,
}

impl Layout {
    /// The reader's row, as the filters before the run passed it on.
    pub(super) fn reader(width: usize) -> Layout {
        Layout {
            name: None,
            slots: (0..width).map(Slot::Input).collect(),
            input_width: width,
        }
    }

    /// Drops the columns not in `live` (no later stage reads them).
    fn kill_dead(&mut self, live: &BTreeSet<usize>) {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if !live.contains(&i) {
                *slot = Slot::Dead;
            }
        }
    }

    fn has_input(&self) -> bool {
        self.slots.iter().any(|s| matches!(s, Slot::Input(_)))
    }

    /// The type of a stage's `row` parameter for rows of this layout.
    pub(super) fn row_type(&self) -> TokenStream {
        match &self.name {
            None => quote! { &Row },
            Some(name) if self.has_input() => quote! { #name<'_> },
            Some(name) => quote! { #name },
        }
    }

    /// Where column `i`'s value is: `row[4]`, `row.input[4]`, `row.pod_name`
    /// or a local `pod_name`.
    fn place(&self, i: usize) -> TokenStream {
        match &self.slots[i] {
            Slot::Input(k) => {
                let k = Literal::usize_unsuffixed(*k);
                if self.name.is_some() {
                    quote! { row.input[#k] }
                } else {
                    quote! { row[#k] }
                }
            }
            Slot::Field {
                name, local: true, ..
            } => quote! { #name },
            Slot::Field { name, .. } => quote! { row.#name },
            Slot::Dead => quote! { Value::Null },
        }
    }

    /// `let NAME = ...;` binding column `i` for an expression: a `&Value`,
    /// or the `&Str` itself where the reader takes one (`as_text`).
    fn bind(&self, name: &Ident, i: usize, as_text: bool) -> TokenStream {
        let place = self.place(i);
        match &self.slots[i] {
            Slot::Field { text: true, .. } if !as_text => {
                quote! { let #name = &Value::String(#place.clone()); }
            }
            _ => quote! { let #name = &#place; },
        }
    }

    /// The row as a `Row`: the input columns copied, the fields moved.
    fn to_row(&self) -> TokenStream {
        let mut moved = BTreeSet::new();
        // The whole input row first (`extend` before a stateful operator):
        // copied as a slice, the rest pushed after it.
        let whole = self.input_width;
        let copies_input = whole > 0
            && self.slots.len() >= whole
            && (0..whole).all(|k| matches!(self.slots[k], Slot::Input(j) if j == k));
        let first = if copies_input { whole } else { 0 };
        let values = (first..self.slots.len()).map(|i| {
            let place = self.place(i);
            match &self.slots[i] {
                Slot::Input(_) | Slot::Dead => quote! { #place.clone() },
                Slot::Field { name, text, .. } => {
                    // A field that fills two columns is copied for the first.
                    let twice = self.slots[i + 1..]
                        .iter()
                        .any(|s| matches!(s, Slot::Field { name: other, .. } if other == name));
                    let value = if twice || !moved.insert(name.to_string()) {
                        quote! { #place.clone() }
                    } else {
                        quote! { #place }
                    };
                    if *text {
                        quote! { Value::String(#value) }
                    } else {
                        value
                    }
                }
            }
        });
        if copies_input {
            let input = if self.name.is_some() {
                quote! { row.input }
            } else {
                quote! { row }
            };
            let width = Literal::usize_unsuffixed(self.slots.len());
            let values: Vec<TokenStream> = values.collect();
            return quote! {{
                let mut values = Vec::with_capacity(#width);
                values.extend_from_slice(#input);
                #(values.push(#values);)*
                values
            }};
        }
        quote! { vec![#(#values),*] }
    }
}

/// The stages of the main pipeline that carry typed rows: the run of
/// row-by-row operators after the filters that borrow the reader's row
/// (`borrowed`, ending in a filter).
pub(super) struct TypedRun {
    /// Its first stage.
    pub(super) start: usize,
    /// The stage after its last.
    pub(super) end: usize,
    /// For each of its stages, the positions of its output that a later
    /// stage of the run reads or that leave the run.
    live_out: Vec<BTreeSet<usize>>,
}

impl TypedRun {
    /// Whether stage `i` is in the run.
    pub(super) fn contains(&self, i: usize) -> bool {
        (self.start..self.end).contains(&i)
    }

    /// The positions of stage `i`'s output that are read later.
    pub(super) fn live_out(&self, i: usize) -> &BTreeSet<usize> {
        &self.live_out[i - self.start]
    }
}

/// Whether codegen carries typed rows (the default) or the `Row` code of
/// before (`KQLC_UNTYPED_ROWS=1` for the CLI, to measure what they buy).
static TYPED_ROWS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns typed rows off (or back on) for the code generated after it, in
/// this process; the other specialisations stay as they are.
pub fn set_typed_rows(on: bool) {
    TYPED_ROWS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The typed run of `pipeline` ([`TypedRun`]). `None` when not
/// specialising or typed rows are off ([`set_typed_rows`]), when no such run exists, or when a scheduled run splits
/// the pipeline inside it.
pub(super) fn typed_run(
    pipeline: &Pipeline,
    borrowed: usize,
    split: Option<usize>,
) -> Option<TypedRun> {
    let on = TYPED_ROWS.load(std::sync::atomic::Ordering::Relaxed);
    if !on || !specializing() || borrowed == 0 {
        return None;
    }
    if !matches!(pipeline.stages[borrowed - 1].op, Op::Filter(_)) {
        return None;
    }
    let start = borrowed;
    let mut end = start;
    while let Some(stage) = pipeline.stages.get(end) {
        let fits = match &stage.op {
            Op::Filter(_) | Op::Project(_) => true,
            Op::Select(indices) => !indices.is_empty(),
            // An item that sets a column twice would leave a value unused.
            Op::Extend(items) => {
                let mut seen = BTreeSet::new();
                items.iter().all(|(p, _)| seen.insert(*p))
            }
            _ => false,
        };
        if !fits {
            break;
        }
        end += 1;
    }
    if end == start || split.is_some_and(|s| (start..end).contains(&s)) {
        return None;
    }
    // Backwards from the run's output, which leaves it whole.
    let stages = &pipeline.stages[start..end];
    let mut live: BTreeSet<usize> = (0..stages[stages.len() - 1].output_names.len()).collect();
    let mut live_out = vec![BTreeSet::new(); stages.len()];
    for (j, stage) in stages.iter().enumerate().rev() {
        live_out[j] = live.clone();
        live = match &stage.op {
            Op::Filter(predicate) => {
                columns_of(predicate, &mut live);
                live
            }
            Op::Extend(items) => {
                for (position, expr) in items.iter().rev() {
                    live.remove(position);
                    columns_of(expr, &mut live);
                }
                live
            }
            Op::Project(values) => {
                let mut read = BTreeSet::new();
                for value in values {
                    columns_of(value, &mut read);
                }
                read
            }
            Op::Select(indices) => live.iter().map(|&k| indices[k]).collect(),
            _ => live,
        };
    }
    Some(TypedRun {
        start,
        end,
        live_out,
    })
}

/// Names for a struct's fields: each column's name in snake case, unique,
/// never `input` (the field of the reader's row).
fn field_names(columns: &[String]) -> Vec<Ident> {
    let mut taken = BTreeSet::from(["input".to_string()]);
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| unique_ident(c, "column", i, &mut taken))
        .collect()
}

/// A value to store in a new field: `(tokens, is_text)`. `tostring(x)` is a
/// `Str` made without a `Value`; a copy of a `Str` column stays one.
fn field_value(layout: &Layout, expr: &Expr, names: &[Ident]) -> (TokenStream, bool) {
    match expr {
        Expr::Call {
            builtin: Builtin::Function(f),
            args,
            ..
        } if f.0 == "tostring" => {
            if let [Arg::Value(inner)] = args.as_slice() {
                let inner = borrowed(inner, names);
                return (quote! { functions::tostring_str(#inner) }, true);
            }
        }
        Expr::Column(i, _) if *i < layout.slots.len() => {
            if let Slot::Field { text: true, .. } = layout.slots[*i] {
                let place = layout.place(*i);
                return (quote! { #place.clone() }, true);
            }
        }
        _ => {}
    }
    (owned(expr, names), false)
}

/// The statement that computes a new field: `let NAME: Str = { LETS VALUE };`
/// for a text field, `Value` otherwise.
fn field_step(name: &Ident, text: bool, lets: TokenStream, value: TokenStream) -> TokenStream {
    let ty = if text {
        quote! { Str }
    } else {
        quote! { Value }
    };
    quote! {
        let #name: #ty = {
            #lets
            #value
        };
    }
}

/// Whether `expr` is a copy of a `Str` column, which [`field_value`]
/// clones from its place without a binding.
fn is_text_copy(layout: &Layout, expr: &Expr) -> bool {
    matches!(expr, Expr::Column(i, _)
        if matches!(layout.slots.get(*i), Some(Slot::Field { text: true, .. })))
}

/// What a typed stage hands on: the rows' next layout.
pub(super) struct TypedStage {
    /// The method's body.
    pub(super) body: TokenStream,
    /// The type of its `row` parameter.
    pub(super) row_type: TokenStream,
}

impl Gen {
    /// The body of stage `s` in a typed run, whose rows arrive as `layout`
    /// (updated to what it hands on). `last`: the run's last stage, which
    /// hands a `Row` on (`s.next`, whose `row` it binds).
    pub(super) fn typed_stage(
        &mut self,
        s: &StageCode<'_>,
        layout: &mut Layout,
        last: bool,
        live: &BTreeSet<usize>,
        next_method: Option<&Ident>,
    ) -> TypedStage {
        let row_type = layout.row_type();
        let StageCode {
            stage,
            next,
            bindings,
            method,
            ..
        } = s;
        let handoff = |layout: &Layout, build: TokenStream| -> TokenStream {
            if last {
                let row = layout.to_row();
                quote! {
                    #build
                    let row: Row = #row;
                    #next
                }
            } else {
                let next_method = next_method.expect("a typed run's stage has a next stage");
                quote! {
                    #build
                    self.#next_method(ctx, row, emit);
                }
            }
        };
        let body = match &stage.op {
            Op::Filter(predicate) => {
                let text = text_only_columns(predicate);
                let lets = bindings.lets_with(&[predicate], |name, i| {
                    layout.bind(name, i, text.contains(&i))
                });
                let test = bindings.predicate(predicate);
                let pass = handoff(layout, quote! {});
                quote! {
                    let keep = {
                        #lets
                        #test
                    };
                    if keep {
                        #pass
                    }
                }
            }
            Op::Extend(items) => {
                let fields = field_names(&stage.output_names);
                let mut next_layout = layout.clone();
                let mut steps = Vec::new();
                // The items whose value a later item or stage reads (the
                // others are not computed: expressions have no effects).
                let mut needed = live.clone();
                let mut wanted = vec![false; items.len()];
                for (k, (position, expr)) in items.iter().enumerate().rev() {
                    wanted[k] = needed.remove(position);
                    if wanted[k] {
                        columns_of(expr, &mut needed);
                    }
                }
                for ((position, expr), wanted) in items.iter().zip(wanted) {
                    if !wanted {
                        if *position < next_layout.slots.len() {
                            next_layout.slots[*position] = Slot::Dead;
                        } else {
                            next_layout.slots.push(Slot::Dead);
                        }
                        continue;
                    }
                    let (value, text) = field_value(&next_layout, expr, &bindings.names);
                    let lets = if is_text_copy(&next_layout, expr) {
                        quote! {}
                    } else {
                        bindings.lets_with(&[expr], |name, i| next_layout.bind(name, i, false))
                    };
                    let name = fields[*position].clone();
                    steps.push(field_step(&name, text, lets, value));
                    let slot = Slot::Field {
                        name,
                        text,
                        local: true,
                        ty: expr.ty(),
                    };
                    if *position < next_layout.slots.len() {
                        next_layout.slots[*position] = slot;
                    } else {
                        next_layout.slots.push(slot);
                    }
                }
                next_layout.kill_dead(live);
                let build = self.build_struct(layout, next_layout, stage, method, &fields, last);
                let (build, next_layout) = build;
                *layout = next_layout;
                let steps = quote! { #(#steps)* #build };
                handoff(layout, steps)
            }
            Op::Project(values) => {
                let fields = field_names(&stage.output_names);
                let mut next_layout = Layout {
                    slots: Vec::new(),
                    ..layout.clone()
                };
                let mut steps = Vec::new();
                for (position, expr) in values.iter().enumerate() {
                    if let Expr::Column(i, _) = expr {
                        if *i < layout.slots.len() {
                            next_layout.slots.push(layout.slots[*i].clone());
                            continue;
                        }
                    }
                    // A value no later stage reads is not computed.
                    if !live.contains(&position) {
                        next_layout.slots.push(Slot::Dead);
                        continue;
                    }
                    let lets = bindings.lets_with(&[expr], |name, i| layout.bind(name, i, false));
                    let (value, text) = field_value(layout, expr, &bindings.names);
                    let name = fields[position].clone();
                    steps.push(field_step(&name, text, lets, value));
                    next_layout.slots.push(Slot::Field {
                        name,
                        text,
                        local: true,
                        ty: expr.ty(),
                    });
                }
                next_layout.kill_dead(live);
                let (build, next_layout) =
                    self.build_struct(layout, next_layout, stage, method, &fields, last);
                *layout = next_layout;
                handoff(layout, quote! { #(#steps)* #build })
            }
            Op::Select(indices) => {
                let fields = field_names(&stage.output_names);
                let mut next_layout = Layout {
                    slots: indices.iter().map(|&i| layout.slots[i].clone()).collect(),
                    ..layout.clone()
                };
                next_layout.kill_dead(live);
                let (build, next_layout) =
                    self.build_struct(layout, next_layout, stage, method, &fields, last);
                *layout = next_layout;
                handoff(layout, quote! { #build })
            }
            _ => unreachable!("typed_run admits only row-by-row operators"),
        };
        TypedStage { body, row_type }
    }

    /// The struct of the rows a stage hands on (`Extend9Row`, declared
    /// among the rule's items) and the statement that fills it from the
    /// locals and `row` (`from`); when `last`, no struct: the locals and
    /// `row` are what [`Layout::to_row`] reads.
    fn build_struct(
        &mut self,
        from: &Layout,
        mut to: Layout,
        stage: &Stage,
        method: &Ident,
        columns: &[Ident],
        last: bool,
    ) -> (TokenStream, Layout) {
        if last {
            return (quote! {}, to);
        }
        let name = format_ident!("{}Row", camel_case(&method.to_string()));
        // Every field takes its column's name in the new struct; a field of
        // the old one that fills two columns is copied for all but the last.
        let mut decls = Vec::new();
        let mut inits = Vec::new();
        let old: Vec<Slot> = to.slots.clone();
        for (i, slot) in to.slots.iter_mut().enumerate() {
            if let Slot::Field {
                name: field,
                text,
                local,
                ty,
            } = slot
            {
                let column = &columns[i];
                let again = old[i + 1..].iter().any(|s| {
                    matches!(s, Slot::Field { name, local: l, .. } if name == field && l == local)
                });
                let value = match (*local, again) {
                    (true, false) => quote! { #field },
                    (true, true) => quote! { #field.clone() },
                    (false, false) => quote! { row.#field },
                    (false, true) => quote! { row.#field.clone() },
                };
                let kql = &stage.output_names[i];
                let doc = format!(" `{kql}` ({ty}).");
                let rust_ty = if *text {
                    quote! { Str }
                } else {
                    quote! { Value }
                };
                decls.push(quote! {
                    #[doc = #doc]
                    #column: #rust_ty,
                });
                // `pod_name` rather than `pod_name: pod_name`.
                if *local && !again && field == column {
                    inits.push(quote! { #column });
                } else {
                    inits.push(quote! { #column: #value });
                }
                *field = column.clone();
                *local = false;
            }
        }
        let doc = format!(" The rows `{method}` hands on.");
        let (lifetime, input_decl, input_init) = if to.has_input() {
            (
                quote! { <'r> },
                quote! {
                    /// The reader's row: the input columns, borrowed.
                    input: &'r Row,
                },
                if from.name.is_some() {
                    quote! { input: row.input, }
                } else {
                    quote! { input: row, }
                },
            )
        } else {
            (quote! {}, quote! {}, quote! {})
        };
        self.items.push(quote! {
            #[doc = #doc]
            struct #name #lifetime {
                #input_decl
                #(#decls)*
            }
        });
        to.name = Some(name.clone());
        let build = quote! {
            let row = #name {
                #input_init
                #(#inits),*
            };
        };
        (build, to)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::emit;

    /// The body of method `name`, up to the next method.
    fn method<'c>(code: &'c str, name: &str) -> &'c str {
        let start = code
            .find(&format!("fn {name}("))
            .unwrap_or_else(|| panic!("no {name}: {code}"));
        let rest = &code[start..];
        let end = rest[1..].find("\n    fn ").map_or(rest.len(), |e| e + 1);
        &rest[..end]
    }

    #[test]
    fn extends_after_the_filters_fill_fields_of_a_row_struct() {
        let code = emit(
            "CloudAuditEvents | where OperationName == 'create' \
             | extend Pod = tostring(RawEventData.name) \
             | where Pod !startswith 'aks-' \
             | extend Raw = RawEventData.code \
             | project Timestamp, Pod, Raw",
        );
        // One struct per layout, a field per computed column, `Str` for
        // `tostring`, `Value` for a dynamic member.
        assert!(code.contains("struct Extend2Row<'r> {"), "{code}");
        assert!(code.contains("struct Extend4Row<'r> {"), "{code}");
        assert!(
            code.contains("/// `Pod` (string).\n    pod: Str,"),
            "{code}"
        );
        assert!(
            code.contains("/// `Raw` (dynamic).\n    raw: Value,"),
            "{code}"
        );
        assert!(code.contains("input: &'r Row,"), "{code}");
        // No row pushed or copied on the way; the predicate reads the
        // field itself.
        assert!(!code.contains("row.push("), "{code}");
        assert!(!code.contains("row.clone()"), "{code}");
        assert!(
            method(&code, "where_3").contains("let pod = &row.pod;"),
            "{code}"
        );
        assert!(
            method(&code, "extend_2").contains("functions::tostring_str("),
            "{code}"
        );
        // The output row is made once, from the borrowed input and the
        // fields moved out.
        let project = method(&code, "project_5");
        assert!(project.contains("row.input[0].clone()"), "{project}");
        assert!(project.contains("Value::String(row.pod)"), "{project}");
        assert!(project.contains("row.raw"), "{project}");
    }

    #[test]
    fn columns_no_later_stage_reads_are_not_carried() {
        let code = emit(
            "CloudAuditEvents | where OperationName == 'create' \
             | extend Tmp = tostring(RawEventData.name), Kept = tostring(RawEventData.kind) \
             | where Tmp == 'x' \
             | extend Other = 1 \
             | project Kept, Other",
        );
        let extend2 = &code[code.find("struct Extend2Row").expect("Extend2Row")..];
        let extend2 = &extend2[..extend2.find('}').expect("end")];
        assert!(extend2.contains("tmp: Str"), "{code}");
        // `Tmp` is read by the filter only: `extend Other` drops it.
        let extend4 = &code[code.find("struct Extend4Row").expect("Extend4Row")..];
        let extend4 = &extend4[..extend4.find('}').expect("end")];
        assert!(!extend4.contains("tmp"), "{code}");
        assert!(extend4.contains("kept: Str"), "{code}");
        // Nothing of the input row flows on: the struct does not borrow it.
        assert!(code.contains("struct Extend4Row {"), "{code}");
    }

    #[test]
    fn a_project_in_the_run_copies_a_field_it_keeps_twice() {
        let code = emit(
            "CloudAuditEvents | where OperationName == 'create' \
             | extend A = tostring(RawEventData.name) \
             | project A, B = A, OperationName \
             | where B != 'x' \
             | project A, B",
        );
        let project = method(&code, "project_3");
        assert!(project.contains("a: row.a.clone()"), "{project}");
        assert!(
            project.contains("struct").then_some(()).is_none(),
            "{project}"
        );
    }

    #[test]
    fn stateful_operators_and_the_generic_path_end_or_skip_the_run() {
        // A `summarize` after the run gets a `Row`, the input copied as a
        // slice and the fields pushed after it.
        let code = emit(
            "CloudAuditEvents | where OperationName == 'create' \
             | extend Pod = tostring(RawEventData.name) \
             | summarize count() by Pod",
        );
        let extend = method(&code, "extend_2");
        assert!(extend.contains("extend_from_slice(row)"), "{extend}");
        assert!(
            extend.contains("values.push(Value::String(pod))"),
            "{extend}"
        );
        // No filter to borrow the row first: today's `Row` code.
        let code = emit("CloudAuditEvents | extend Pod = tostring(RawEventData.name)");
        assert!(!code.contains("Row<"), "{code}");
        assert!(code.contains("row.push(value);"), "{code}");
    }
}
