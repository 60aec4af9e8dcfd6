//! Codegen of the operators that work row by row: `where`, `extend`,
//! `project`, row functions, `mv-expand`, `mv-apply`, `take`, `sample`,
//! `parse` and `distinct`. Each method returns the body of its stage's
//! method; a few also add state fields.

use super::*;

impl Gen {
    /// `where`: keep the row when the predicate is true.
    pub(super) fn filter(&mut self, s: &StageCode<'_>, predicate: &Expr) -> TokenStream {
        let StageCode { next, bindings, .. } = s;
        let lets = bindings.lets(&[predicate]);
        let test = bindings.predicate(predicate);
        quote! {
            let keep = {
                #lets
                #test
            };
            if keep {
                #next
            }
        }
    }

    /// `extend`: store each value at its position, in order.
    pub(super) fn extend(&mut self, s: &StageCode<'_>, items: &[(usize, Expr)]) -> TokenStream {
        let StageCode {
            stage,
            next,
            bindings,
            ..
        } = s;
        let mut width = stage.input_names.len();
        let steps = items.iter().map(|(position, expr)| {
            let lets = bindings.lets(&[expr]);
            let value = owned(expr, &bindings.names);
            let store = if *position < width {
                let p = Literal::usize_unsuffixed(*position);
                quote! { row[#p] = value; }
            } else {
                width += 1;
                quote! { row.push(value); }
            };
            quote! {
                let value = {
                    #lets
                    #value
                };
                #store
            }
        });
        let steps: Vec<TokenStream> = steps.collect();
        quote! {
            let mut row = row;
            #(#steps)*
            #next
        }
    }

    /// Row functions (`row_number`, `prev`, `row_cumsum`, the ranks,
    /// `row_window_session`): each keeps its state in a field.
    pub(super) fn window(&mut self, s: &StageCode<'_>, items: &[(usize, WindowFn)]) -> TokenStream {
        let StageCode {
            stage,
            next,
            bindings,
            state,
            ..
        } = s;
        let mut width = stage.input_names.len();
        let mut steps = Vec::new();
        // `next` calls: each call's (column, offset), and its (value,
        // default) at this row, for the one `window::Next` of the stage.
        let mut next_calls = Vec::new();
        for (k, (position, window)) in items.iter().enumerate() {
            let store = if *position < width {
                let p = Literal::usize_unsuffixed(*position);
                quote! { row[#p] = value; }
            } else {
                width += 1;
                quote! { row.push(value); }
            };
            if let WindowKind::Next(offset) = window.kind {
                let refs: Vec<&Expr> = window.args.iter().collect();
                let lets = bindings.lets(&refs);
                let values = window.args.iter().map(|e| owned(e, &bindings.names));
                let index = Literal::usize_unsuffixed(next_calls.len());
                next_calls.push((
                    Literal::usize_unsuffixed(*position),
                    Literal::usize_unsuffixed(offset),
                ));
                steps.push(quote! {
                    next_values[#index] = {
                        #lets
                        (#(#values),*)
                    };
                    // Filled in when the row `offset` later arrives.
                    let value = Value::Null;
                    #store
                });
                continue;
            }
            let field = format_ident!("{}_{}", state, k + 1);
            let (kind, doc) = match window.kind {
                WindowKind::RowNumber => (quote! { RowNumber }, " `row_number`'s count."),
                WindowKind::Prev(_) => (quote! { Prev }, " `prev`'s last values."),
                WindowKind::Next(_) => unreachable!("next calls share the stage's window::Next"),
                WindowKind::CumSum => (quote! { CumSum }, " `row_cumsum`'s running sum."),
                WindowKind::RankDense => (quote! { RankDense }, " `row_rank_dense`'s last term."),
                WindowKind::RankMin => (quote! { RankMin }, " `row_rank_min`'s last term."),
                WindowKind::Session => {
                    (quote! { Session }, " `row_window_session`'s session start.")
                }
            };
            self.state_fields.push(quote! {
                #[doc = #doc]
                #field: window::#kind,
            });
            let refs: Vec<&Expr> = window.args.iter().collect();
            let lets = bindings.lets(&refs);
            let args: Vec<TokenStream> = window
                .args
                .iter()
                .map(|e| borrowed(e, &bindings.names))
                .collect();
            let call = match window.kind {
                WindowKind::Prev(offset) => {
                    let offset = Literal::usize_unsuffixed(offset);
                    quote! { self.#field.next(#offset, #(#args),*) }
                }
                _ => quote! { self.#field.next(#(#args),*) },
            };
            steps.push(quote! {
                let value = {
                    #lets
                    #call
                };
                #store
            });
        }
        if next_calls.is_empty() {
            return quote! {
                let mut row = row;
                #(#steps)*
                #next
            };
        }
        // The stage holds rows back for `next`: a row goes on once the rows
        // its calls look ahead to have arrived, the rest at the end.
        let field = format_ident!("{}_next", state);
        self.state_fields.push(quote! {
            /// `next`'s rows held back until the rows ahead arrive.
            #field: window::Next,
        });
        let calls = next_calls
            .iter()
            .map(|(position, offset)| quote! { (#position, #offset) });
        let calls = quote! { &[#(#calls),*] };
        let count = Literal::usize_unsuffixed(next_calls.len());
        self.finish_steps.push(quote! {
            for row in self.#field.finish(#calls) {
                #next
            }
        });
        quote! {
            let mut row = row;
            let mut next_values = vec![(Value::Null, Value::Null); #count];
            #(#steps)*
            if let Some(row) = self.#field.push(#calls, row, next_values) {
                #next
            }
        }
    }

    /// `scan`: the record (the row and the declared columns' defaults) is
    /// tried against each step, last to first: check 1 (the step before
    /// has a sequence and the condition holds over it) promotes that
    /// sequence; otherwise check 2 (this step has a sequence, or is the
    /// first) updates it. Matches of steps with `output=all` go on.
    pub(super) fn scan(&mut self, s: &StageCode<'_>, scan: &ScanPlan) -> TokenStream {
        let StageCode {
            stage, next, state, ..
        } = s;
        self.state_fields.push(quote! {
            #[doc = " `scan`'s sequences, one per step."]
            #state: window::Scan,
        });
        let wide = Bindings::over(&scan.wide_names(&stage.output_names));
        let steps_count = Literal::usize_unsuffixed(scan.steps.len());
        let match_id = scan.match_id;
        let default_refs: Vec<&Expr> = scan.defaults.iter().collect();
        let default_lets = wide.lets(&default_refs);
        let defaults = scan.defaults.iter().map(|e| owned(e, &wide.names));
        let record_width = Literal::usize_unsuffixed(scan.input_width);
        let mut checks = Vec::new();
        for (k, step) in scan.steps.iter().enumerate().rev() {
            let index = Literal::usize_unsuffixed(k);
            let condition_lets = wide.lets(&[&step.condition]);
            let condition = owned_bool(&step.condition, &wide.names);
            let value_refs: Vec<&Expr> = step.values.iter().collect();
            let value_lets = wide.lets(&value_refs);
            let values = step.values.iter().map(|e| owned(e, &wide.names));
            let extended = if step.values.is_empty() {
                quote! { record[..#record_width].to_vec() }
            } else {
                quote! {
                    {
                        #value_lets
                        let mut extended: Row = record[..#record_width].to_vec();
                        #(extended.push(#values);)*
                        extended
                    }
                }
            };
            let keep = if step.output == ScanOutput::All {
                quote! { matched.push(out); }
            } else {
                quote! { let _ = out; }
            };
            let promote = (k > 0).then(|| {
                quote! {
                    if let Some(row) = self.#state.promoting(#steps_count, #index, &record, #record_width) {
                        let hit = {
                            #condition_lets
                            #condition
                        };
                        if hit {
                            let extended = #extended;
                            let out = self.#state.promote(#index, extended, #match_id);
                            #keep
                            promoted = true;
                        }
                    }
                }
            });
            let continuing = quote! {
                if let Some(row) = self.#state.continuing(#steps_count, #index, &record, #record_width) {
                    let hit = {
                        #condition_lets
                        #condition
                    };
                    if hit {
                        let extended = #extended;
                        let out = self.#state.advance(#index, extended, #match_id);
                        #keep
                    }
                }
            };
            checks.push(match promote {
                Some(promote) => quote! {
                    {
                        let mut promoted = false;
                        #promote
                        if !promoted {
                            #continuing
                        }
                    }
                },
                None => quote! {
                    {
                        #continuing
                    }
                },
            });
        }
        quote! {
            let record: Row = {
                #default_lets
                let mut record = row;
                record.truncate(#record_width);
                #(record.push(#defaults);)*
                record
            };
            let mut matched: Vec<Row> = Vec::new();
            #(#checks)*
            for row in matched {
                #next
            }
        }
    }

    /// `project`: the row replaced by the values.
    pub(super) fn project(&mut self, s: &StageCode<'_>, values: &[Expr]) -> TokenStream {
        let StageCode { next, bindings, .. } = s;
        let refs: Vec<&Expr> = values.iter().collect();
        let lets = bindings.lets(&refs);
        let values = values.iter().map(|e| owned(e, &bindings.names));
        quote! {
            let row = {
                #lets
                vec![#(#values),*]
            };
            #next
        }
    }

    /// A `project` of columns only: the row replaced by some of its values.
    pub(super) fn select(&mut self, s: &StageCode<'_>, indices: &[usize]) -> TokenStream {
        let StageCode { next, .. } = s;
        if indices.is_empty() {
            // No column kept (`project-by-names` of names no column has):
            // the input row is not read.
            return quote! {
                drop(row);
                let row: Row = Vec::new();
                #next
            };
        }
        let indices = indices.iter().map(|&i| Literal::usize_unsuffixed(i));
        quote! {
            let row = vec![#(row[#indices].clone()),*];
            #next
        }
    }

    /// `mv-expand`: a row per element.
    pub(super) fn mv_expand(&mut self, s: &StageCode<'_>) -> TokenStream {
        let StageCode {
            stage,
            rest,
            next,
            bindings,
            ..
        } = s;
        let rows = ElementRows::new(
            &stage.op,
            stage.input_names.len(),
            stage.output_names.len(),
            rest,
            true,
        );
        mv_expand_body(&stage.op, &rows, bindings, next)
    }

    /// `mv-apply`: the subquery's own type, run over each row's subtable.
    pub(super) fn mv_apply(
        &mut self,
        s: &StageCode<'_>,
        expand: &Op,
        sub: &Pipeline,
        layout: &[ApplyColumn],
    ) -> TokenStream {
        let StageCode {
            stage,
            method,
            next,
            bindings,
            ..
        } = s;
        let name = format_ident!("{}", camel_case(&method.to_string()));
        let sub_item = sub_struct(&name, &format!("{method}_"), sub, &stage.kql);
        self.items.push(sub_item);
        let subtable_width = match &sub.input {
            Input::Rows { columns, .. } => columns.len(),
            _ => stage.input_names.len(),
        };
        // The subtable's rows hold what the subquery reads; the input row
        // itself is read again below for the outer columns.
        let rows = ElementRows::new(
            expand,
            stage.input_names.len(),
            subtable_width,
            &sub.stages,
            false,
        );
        let collect = mv_expand_body(expand, &rows, bindings, &quote! { subtable.push(row); });
        let values = layout.iter().map(|column| match column {
            ApplyColumn::Outer(i) => {
                let i = Literal::usize_unsuffixed(*i);
                quote! { outer[#i].clone() }
            }
            ApplyColumn::Sub(j) => {
                let j = Literal::usize_unsuffixed(*j);
                quote! { sub[#j].clone() }
            }
        });
        let keep_outer = layout
            .iter()
            .any(|column| matches!(column, ApplyColumn::Outer(_)))
            .then(|| quote! { let outer = row; });
        quote! {
            // The row's subtable, as `mv-expand` would make it.
            let mut subtable: Vec<Row> = Vec::new();
            #collect
            #keep_outer
            let mut results: Vec<Row> = Vec::new();
            #name::run(ctx, subtable, &mut |sub| results.push(sub));
            for sub in results {
                let row: Row = vec![#(#values),*];
                #next
            }
        }
    }

    /// `take N`: pass the first N rows.
    pub(super) fn take(&mut self, s: &StageCode<'_>, n: &u64) -> TokenStream {
        let StageCode { next, state, .. } = s;
        let n = Literal::u64_unsuffixed(*n);
        self.state_fields.push(quote! {
            /// Rows passed so far by `take`.
            #state: u64,
        });
        quote! {
            if self.#state < #n {
                self.#state += 1;
                #next
            }
        }
    }

    /// `sample N`: hold a uniform random choice of N rows.
    pub(super) fn sample(&mut self, s: &StageCode<'_>, n: &u64) -> TokenStream {
        let StageCode { next, state, .. } = s;
        let n = Literal::u64_unsuffixed(*n);
        self.state_fields.push(quote! {
            /// The rows `sample` holds: a uniform random choice
            /// of those seen so far.
            #state: Reservoir,
        });
        self.finish_steps.push(quote! {
            for row in std::mem::take(&mut self.#state).finish() {
                #next
            }
        });
        quote! {
            self.#state.offer(#n, row);
        }
    }

    /// `parse`: the captures of a regular expression, converted and stored.
    pub(super) fn parse(&mut self, s: &StageCode<'_>) -> TokenStream {
        let StageCode {
            stage,
            next,
            bindings,
            ..
        } = s;
        let Op::Parse {
            expr,
            regex,
            targets,
            relaxed,
            drop_unmatched,
        } = &s.stage.op
        else {
            return quote! {};
        };
        let lets = bindings.lets(&[expr]);
        let text = borrowed(expr, &bindings.names);
        // The pattern compiled once for the run (specialised), or looked up
        // in the per-thread cache.
        let (parse, regex) = if specializing() {
            (
                quote! { kql_runtime::parse::parse_text_with },
                const_regex(regex),
            )
        } else {
            (quote! { kql_runtime::parse::parse_text }, quote! { #regex })
        };
        let types: Vec<Ident> = targets.iter().map(|(_, ty)| column_type(*ty)).collect();
        let width = stage.input_names.len();
        let stores: Vec<TokenStream> = targets
            .iter()
            .enumerate()
            .map(|(k, (position, _))| {
                let k = Literal::usize_unsuffixed(k);
                let value = quote! { values[#k].clone() };
                if *position < width {
                    let p = Literal::usize_unsuffixed(*position);
                    quote! { row[#p] = #value; }
                } else {
                    quote! { row.push(#value); }
                }
            })
            .collect();
        let unmatched = if *drop_unmatched {
            quote! { return }
        } else {
            quote! { vec![#(ColumnType::#types.null()),*] }
        };
        quote! {
            let values = {
                #lets
                #parse(#text, #regex, &[#(ColumnType::#types),*], #relaxed)
            };
            let values = match values {
                Some(values) => values,
                None => #unmatched,
            };
            let mut row = row;
            #(#stores)*
            #next
        }
    }

    /// `distinct`: the first row of each combination of the columns.
    pub(super) fn distinct(&mut self, s: &StageCode<'_>, columns: &[usize]) -> TokenStream {
        let StageCode { next, state, .. } = s;
        self.state_fields.push(quote! {
            /// The value combinations `distinct` has passed.
            #state: Seen,
        });
        let columns = columns.iter().map(|&i| Literal::usize_unsuffixed(i));
        quote! {
            let row: Row = vec![#(row[#columns].clone()),*];
            if self.#state.first_time(&row) {
                #next
            }
        }
    }
}

/// How an `mv-expand` (or the expansion of an `mv-apply`) makes the row of
/// each element from the input row, before storing the element in it.
struct ElementRows {
    /// The width of the input row.
    width: usize,
    /// The input columns the stages after the expansion read or pass on
    /// (not those the expansion itself overwrites); `None` when that is
    /// every column.
    read: Option<Vec<usize>>,
    /// Room for the columns those stages append to the row.
    capacity: usize,
    /// The last element's row is the input row itself, not a copy
    /// (`mv-apply` reads the input row again after the expansion).
    last_takes_row: bool,
}

impl ElementRows {
    /// The element rows of `op` over a `width`-wide input row, handed to
    /// `rest` (the stages after it) as `expanded_width`-wide rows.
    fn new(
        op: &Op,
        width: usize,
        expanded_width: usize,
        rest: &[Stage],
        last_takes_row: bool,
    ) -> ElementRows {
        let stored: BTreeSet<usize> = match op {
            Op::MvExpand {
                items, item_index, ..
            } => items.iter().map(|(p, _)| *p).chain(*item_index).collect(),
            _ => BTreeSet::new(),
        };
        let read: Vec<usize> = crate::plan::columns_read(expanded_width, rest)
            .into_iter()
            .filter(|p| *p < width && !stored.contains(p))
            .collect();
        let every = (0..width).all(|p| stored.contains(&p) || read.contains(&p));
        // The stages that keep the row and may append to it.
        let capacity = rest
            .iter()
            .take_while(|s| {
                matches!(
                    s.op,
                    Op::Filter(_) | Op::Extend(_) | Op::Parse { .. } | Op::Take(_)
                )
            })
            .map(|s| s.output_names.len())
            .fold(expanded_width, usize::max);
        ElementRows {
            width,
            read: (!every).then_some(read),
            capacity,
            last_takes_row,
        }
    }

    /// The statement that starts the loop over the elements, if any.
    fn before_loop(&self) -> TokenStream {
        if self.last_takes_row {
            quote! { let mut row = row; }
        } else {
            quote! {}
        }
    }

    /// The row of element `i` of `count`.
    fn element_row(&self) -> TokenStream {
        let copy = match &self.read {
            // Only what the stages after the expansion read: the other
            // columns (often the large `dynamic` the elements came from)
            // are not copied per element. The generic path (the reference
            // of the differential test, `tests/specialize.rs`) copies the
            // whole row.
            Some(read) if specializing() => {
                let read = read.iter().map(|&p| Literal::usize_unsuffixed(p));
                let capacity = Literal::usize_unsuffixed(self.capacity);
                quote! { expand::copy_columns(&row, &[#(#read),*], #capacity) }
            }
            // Every column is still needed after the expansion (it reaches
            // the output, or a join's, sort's or sample's state, which keep
            // rows): each element's row is a whole copy.
            _ => quote! { row.clone() },
        };
        if self.last_takes_row {
            quote! { if i + 1 < count { #copy } else { std::mem::take(&mut row) } }
        } else {
            copy
        }
    }
}

/// The body of an `mv-expand` (or the expansion of an `mv-apply`): one row
/// per element, made as `rows` says, with the element stored; `next` hands
/// it on.
fn mv_expand_body(
    op: &Op,
    rows: &ElementRows,
    bindings: &Bindings,
    next: &TokenStream,
) -> TokenStream {
    let Op::MvExpand {
        items,
        limit,
        item_index,
        bag_as_array,
        conversions,
    } = op
    else {
        return quote! {};
    };
    let width = rows.width;
    // `to typeof(T)`: each element converted to T.
    let convert = |k: usize, value: TokenStream| match conversions.get(k).copied().flatten() {
        Some(f) => {
            let path = path_tokens(&f.path());
            quote! { #path(&#value) }
        }
        None => value,
    };
    let refs: Vec<&Expr> = items.iter().map(|(_, e)| e).collect();
    let lets = bindings.lets(&refs);
    let mut_row = rows.before_loop();
    let row_for_element = rows.element_row();
    let sources: Vec<TokenStream> = items
        .iter()
        .map(|(_, e)| {
            let value = borrowed(e, &bindings.names);
            if *bag_as_array {
                quote! { expand::expand_values_kind(#value, expand::BagExpansion::Array) }
            } else {
                quote! { expand::expand_values(#value) }
            }
        })
        .collect();

    let store_at = |position: usize, value: TokenStream| {
        if position < width {
            let p = Literal::usize_unsuffixed(position);
            quote! { row[#p] = #value; }
        } else {
            quote! { row.push(#value); }
        }
    };
    let index_store = item_index.map(|p| store_at(p, quote! { Value::Long(i as i64) }));
    let count = match limit {
        Some(n) => {
            let n = Literal::u64_unsuffixed(*n);
            quote! { rows.min(#n as usize) }
        }
        None => quote! { rows },
    };
    if let ([(position, _)], None) = (items.as_slice(), item_index) {
        // One expanded column: one row per element.
        let source = &sources[0];
        let store = store_at(*position, convert(0, quote! { value }));
        // The element's index and the count only when the last element
        // takes the row (or `limit` stops early).
        let (count, take) = match limit {
            Some(n) => {
                let n = Literal::u64_unsuffixed(*n);
                (
                    quote! { let count = values.len().min(#n as usize); },
                    quote! { .take(count) },
                )
            }
            None if rows.last_takes_row => (quote! { let count = values.len(); }, quote! {}),
            None => (quote! {}, quote! {}),
        };
        let elements = if rows.last_takes_row {
            quote! { (i, value) in values.into_iter() #take .enumerate() }
        } else {
            quote! { value in values.into_iter() #take }
        };
        quote! {
            let values = {
                #lets
                #source
            };
            #count
            #mut_row
            for #elements {
                let mut row = #row_for_element;
                #store
                #next
            }
        }
    } else {
        let stores = items.iter().enumerate().map(|(k, (position, _))| {
            let index = Literal::usize_unsuffixed(k);
            let element = quote! { expanded[#index].get(i).cloned().unwrap_or_default() };
            store_at(*position, convert(k, element))
        });
        quote! {
            let expanded = {
                #lets
                [#(#sources),*]
            };
            // Expanded columns run in parallel; shorter ones are padded with nulls.
            let rows = expanded.iter().map(Vec::len).max().unwrap_or(0);
            let count = #count;
            #mut_row
            for i in 0..count {
                let mut row = #row_for_element;
                #(#stores)*
                #index_store
                #next
            }
        }
    }
}
