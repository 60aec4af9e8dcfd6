//! Codegen of a pipeline's source: the input table (its description and
//! prefilter), `range`, `externaldata` and rows written in the query.

use super::*;

impl Gen {
    /// Where `pipeline`'s rows come from: the input table's rows reach its
    /// first stage (`stage_names`) through `push` (by reference when
    /// `borrowed`: that stage takes `&Row`); the others are made in
    /// `start`.
    pub(super) fn input(
        &mut self,
        pipeline: &Pipeline,
        stage_names: &[Ident],
        exit: Exit<'_>,
        borrowed: bool,
    ) {
        match &pipeline.input {
            Input::Table {
                name,
                columns,
                used,
                access,
                ..
            } => {
                match partial_summarize(pipeline) {
                    Some(i) => self
                        .partial_states
                        .push(format_ident!("{}_state", stage_names[i])),
                    None => self.partial_blocked = true,
                }
                let entry_target = stage_names.first().cloned();
                let exit_for_entry = exit(quote! { __ROW__ });
                self.table_entries
                    .push(Box::new(move |row: TokenStream| match &entry_target {
                        // Lent whether or not another pipeline gets the row after.
                        Some(method) if borrowed => quote! { self.#method(ctx, &row, emit); },
                        Some(method) => quote! { self.#method(ctx, #row, emit); },
                        None => replace_row(&exit_for_entry, &row),
                    }));
                let slot = self.table.get_or_insert_with(|| {
                    let unread = vec![Access::Unread; columns.len()];
                    (name.clone(), columns.clone(), Default::default(), unread)
                });
                slot.2.extend(used.iter().copied());
                for (mine, theirs) in slot.3.iter_mut().zip(access) {
                    mine.merge(theirs);
                }
            }
            Input::Range { from, to, step, .. } => {
                let (from, to, step) = (owned(from, &[]), owned(to, &[]), owned(step, &[]));
                let statement = handoff(stage_names, 0, quote! { vec![value] }, exit);
                self.keep_start_errors();
                self.start_steps.push(quote! {
                    // `range`: more rows than the limit stop the rule (docs/limits.md).
                    match expand::range_values(&#from, &#to, &#step) {
                        Ok(values) => {
                            for value in values {
                                #statement
                            }
                        }
                        Err(error) => self.load_errors.push(error),
                    }
                });
            }
            Input::External {
                columns,
                files,
                format,
                skip_first,
            } => {
                let format = match format {
                    ExternalFormat::Delimited(byte) => {
                        let byte = proc_macro2::Literal::byte_character(*byte);
                        quote! { ExternalFormat::Delimited(#byte) }
                    }
                    ExternalFormat::Json => quote! { ExternalFormat::Json },
                    ExternalFormat::Text => quote! { ExternalFormat::Text },
                    ExternalFormat::Raw => quote! { ExternalFormat::Raw },
                };
                let columns = columns.iter().map(|(n, t)| {
                    let ty = column_type(*t);
                    quote! { (#n, ColumnType::#ty) }
                });
                let statement = handoff(stage_names, 0, quote! { row }, exit);
                self.keep_start_errors();
                self.start_steps.push(quote! {
                    // `externaldata`: read when the detector starts.
                    match kql_runtime::external::load(
                        &[#(#files),*],
                        kql_runtime::external::#format,
                        &[#(#columns),*],
                        #skip_first,
                    ) {
                        Ok(rows) => {
                            for row in rows {
                                #statement
                            }
                        }
                        Err(error) => self.load_errors.push(error),
                    }
                });
            }
            // A long table of constants (a watchlist written as a
            // `datatable`) is static data read in a loop, not a statement
            // per row: compile time stays linear in its size.
            Input::Rows { rows, .. }
                if rows.len() >= STATIC_ROWS_MIN && rows.iter().flatten().all(is_static_const) =>
            {
                let rows = rows.iter().map(|row| {
                    let values = row.iter().filter_map(static_const);
                    quote! { &[#(#values),*] }
                });
                let statement = handoff(stage_names, 0, quote! { row.to_vec() }, exit);
                self.start_steps.push(quote! {
                    static ROWS: &[&[Value]] = &[#(#rows),*];
                    for row in ROWS {
                        #statement
                    }
                });
            }
            Input::Rows { rows, .. } => {
                for row in rows {
                    let values = row.iter().map(|e| owned(e, &[]));
                    let statement = handoff(stage_names, 0, quote! { vec![#(#values),*] }, exit);
                    self.start_steps.push(statement);
                }
            }
        }
    }
}

/// The runtime's `Access` for a column (member keys in sorted order).
pub(super) fn access_tokens(access: &Access) -> TokenStream {
    match access {
        Access::Unread => quote! { Access::Unread },
        Access::Whole => quote! { Access::Whole },
        Access::Members(members) => {
            let members = members.iter().map(|(key, below)| {
                let below = access_tokens(below);
                quote! { (#key, #below) }
            });
            quote! { Access::Members(&[#(#members),*]) }
        }
    }
}

pub(super) fn prefilter_tokens(filter: &Prefilter) -> TokenStream {
    match filter {
        Prefilter::Always => quote! { Prefilter::Always },
        Prefilter::Needle {
            text,
            case_insensitive,
        } => quote! { Prefilter::Needle(#text, #case_insensitive) },
        Prefilter::All(items) => {
            let items = items.iter().map(prefilter_tokens);
            quote! { Prefilter::All(&[#(#items),*]) }
        }
        Prefilter::Any(items) => {
            let items = items.iter().map(prefilter_tokens);
            quote! { Prefilter::Any(&[#(#items),*]) }
        }
    }
}

/// From this many rows on, a `datatable` of scalar constants is static
/// data.
pub(super) const STATIC_ROWS_MIN: usize = 32;

pub(super) fn is_static_const(expr: &Expr) -> bool {
    static_const(expr).is_some()
}

/// A scalar constant as a `Value` expression that a `static` can hold.
pub(super) fn static_const(expr: &Expr) -> Option<TokenStream> {
    let Expr::Const(c) = expr else {
        return None;
    };
    Some(match c {
        Const::String(text) => quote! { Value::String(Str::Static(#text)) },
        Const::Guid(text) => quote! { Value::Guid(Str::Static(#text)) },
        Const::Array(_) | Const::Bag(_) => return None,
        other => constant(other),
    })
}
