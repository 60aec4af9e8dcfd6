//! Codegen of the operators that hold rows or aggregate them until the end
//! of the input: `count`, `summarize`, `make-series`, `sort`/`top`,
//! `top-nested` and `getschema`. Their results leave in `finish`.

use super::*;

impl Gen {
    /// `count`: a counter field, one row at the end.
    pub(super) fn count(&mut self, s: &StageCode<'_>) -> TokenStream {
        let StageCode { next, state, .. } = s;
        self.state_fields.push(quote! {
            /// Rows counted so far by `count`.
            #state: i64,
        });
        self.finish_steps.push(quote! {
            let row = vec![Value::Long(self.#state)];
            #next
        });
        quote! {
            let _ = row;
            self.#state += 1;
        }
    }

    /// `summarize`: the groups and their aggregates' states.
    pub(super) fn summarize(
        &mut self,
        s: &StageCode<'_>,
        keys: &[Expr],
        aggregates: &[Aggregate],
    ) -> TokenStream {
        if specializing() {
            if let Some(parts) = typed_key_parts(keys) {
                return self.typed_summarize(s, keys, &parts, aggregates);
            }
        }
        let StageCode {
            next,
            bindings,
            state,
            ..
        } = s;
        self.state_fields.push(quote! {
            /// The groups of `summarize`, each with its aggregates' states.
            #state: Groups<Vec<Aggregate>>,
        });
        let mut exprs: Vec<&Expr> = keys.iter().collect();
        for a in aggregates {
            exprs.extend(a.value.iter().chain(&a.predicate).chain(&a.carried));
        }
        let lets = bindings.lets(&exprs);
        let inits = aggregate_inits(aggregates);
        let adds = aggregate_adds(aggregates, &bindings.names);
        let widths = aggregates
            .iter()
            .map(|a| Literal::usize_unsuffixed(a.width));
        let take_groups = if keys.is_empty() {
            // Without `by`, summarize gives one row even for no input.
            quote! {
                let mut groups = self.#state.drain();
                if groups.is_empty() {
                    groups.push((Vec::new(), vec![#(#inits),*]));
                }
            }
        } else {
            quote! { let groups = self.#state.drain(); }
        };
        self.finish_steps.push(quote! {
            #take_groups
            for (key, states) in groups {
                let mut row = key;
                row.extend(aggregate::finish_all(states, &[#(#widths),*]));
                #next
            }
        });
        // The key's values borrowed from the row, cloned only for a new
        // group (the generic path makes the key for every row).
        let entry = if specializing() {
            let key_values = keys.iter().map(|e| borrowed(e, &bindings.names));
            quote! { entry_ref(&[#(#key_values),*], || vec![#(#inits),*]) }
        } else {
            let key_values = keys.iter().map(|e| owned(e, &bindings.names));
            quote! { entry(vec![#(#key_values),*], || vec![#(#inits),*]) }
        };
        quote! {
            #lets
            let states = self.#state.#entry;
            #(#adds)*
        }
    }

    /// `summarize ... by` keys of known types: typed groups
    /// (`TypedGroups`, the key's values hashed and compared by their types),
    /// or without `by` the one group (`OneGroup`), and a struct of the
    /// aggregates' states named after the output columns (see
    /// `TypedState`). The rows, their order and the values are the
    /// generic path's.
    fn typed_summarize(
        &mut self,
        s: &StageCode<'_>,
        keys: &[Expr],
        parts: &[TokenStream],
        aggregates: &[Aggregate],
    ) -> TokenStream {
        let StageCode {
            method,
            next,
            bindings,
            state,
            stage,
            ..
        } = s;
        let group = format_ident!("{}Group", camel_case(&method.to_string()));
        self.state_fields.push(if keys.is_empty() {
            quote! {
                /// The one group of `summarize` (no `by`): its aggregates' states.
                #state: OneGroup<#group>,
            }
        } else {
            quote! {
                /// The groups of `summarize`, each with its aggregates' states.
                #state: TypedGroups<(#(#parts,)*), #group>,
            }
        });
        let mut exprs: Vec<&Expr> = keys.iter().collect();
        for a in aggregates {
            exprs.extend(a.value.iter().chain(&a.predicate).chain(&a.carried));
        }
        let lets = bindings.lets(&exprs);
        let names = &bindings.names;
        let fields = state_field_names(&stage.output_names, keys.len(), aggregates);
        let (mut decls, mut inits, mut merges, mut finishes, mut adds) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((a, field), init) in aggregates
            .iter()
            .zip(&fields)
            .zip(aggregate_inits(aggregates))
        {
            let column = &stage.output_names[keys.len() + fields_offset(aggregates, a)];
            let (ty, init, merge, finish, add) = match typed_state(a) {
                TypedState::Count => (
                    quote! { i64 },
                    quote! { 0 },
                    quote! { self.#field += later.#field; },
                    quote! { row.push(Value::Long(self.#field)); },
                    quote! { group.#field += 1; },
                ),
                TypedState::OneValue { ty, init, value } => {
                    let value = borrowed(value, names);
                    (
                        ty,
                        init,
                        quote! { self.#field.merge(later.#field); },
                        quote! { row.push(self.#field.finish()); },
                        quote! { group.#field.add(#value); },
                    )
                }
                TypedState::Arg { ty, init, value } => {
                    let value = borrowed(value, names);
                    let carried = a.carried.iter().map(|e| owned(e, names));
                    let width = Literal::usize_unsuffixed(a.width.saturating_sub(1));
                    (
                        ty,
                        init,
                        quote! { self.#field.merge(later.#field); },
                        quote! { row.extend(self.#field.finish(#width)); },
                        quote! { group.#field.add(#value, || vec![#(#carried),*]); },
                    )
                }
                TypedState::Generic => {
                    let value = a
                        .value
                        .as_ref()
                        .map_or_else(|| quote! { &Value::Null }, |v| borrowed(v, names));
                    let carried = a.carried.iter().map(|e| owned(e, names));
                    let width = Literal::usize_unsuffixed(a.width.saturating_sub(1));
                    (
                        quote! { Aggregate },
                        init,
                        quote! { self.#field.merge(later.#field); },
                        quote! { row.extend(self.#field.finish(#width)); },
                        quote! { group.#field.add(#value, &[#(#carried),*]); },
                    )
                }
            };
            let doc = format!(" The state of `{column}`.");
            decls.push(quote! {
                #[doc = #doc]
                #field: #ty,
            });
            inits.push(quote! { #field: #init });
            merges.push(merge);
            finishes.push(finish);
            adds.push(match &a.predicate {
                Some(p) => {
                    let test = owned_bool(p, names);
                    quote! { if #test { #add } }
                }
                None => add,
            });
        }
        let doc = format!(" The aggregates of one group of `{method}`.");
        // `summarize by X` alone keeps no state.
        let (later, row) = if decls.is_empty() {
            (quote! { _later }, quote! { _row })
        } else {
            (quote! { later }, quote! { row })
        };
        self.items.push(quote! {
            #[doc = #doc]
            #[derive(Debug)]
            struct #group {
                #(#decls)*
            }

            impl #group {
                /// The states over no rows.
                fn new() -> #group {
                    #group { #(#inits),* }
                }

                /// Appends the results to the group's key values.
                fn finish(self, #row: &mut Row) {
                    #(#finishes)*
                }
            }
        });
        // Added to the items only when `--threads` merges this state.
        self.typed_groups.push(TypedGroup {
            state: state.clone(),
            group: group.clone(),
            merge: quote! {
                impl #group {
                    /// Merges the states over a later batch of rows (`--threads`).
                    fn merge(&mut self, #later: #group) {
                        #(#merges)*
                    }
                }
            },
        });
        let entry = if keys.is_empty() {
            // Without `by`, summarize gives one row even for no input.
            self.finish_steps.push(quote! {
                let mut row = Row::new();
                self.#state.take(#group::new).finish(&mut row);
                #next
            });
            quote! { self.#state.entry(#group::new) }
        } else {
            self.finish_steps.push(quote! {
                for (key, group) in self.#state.drain() {
                    let mut row = key;
                    group.finish(&mut row);
                    #next
                }
            });
            // The key's values borrowed from the row, cloned only for a new
            // group.
            let key_values = keys.iter().map(|e| borrowed(e, names));
            quote! { self.#state.entry(&[#(#key_values),*], #group::new) }
        };
        if adds.is_empty() {
            return quote! {
                #lets
                #entry;
            };
        }
        quote! {
            #lets
            let group = #entry;
            #(#adds)*
        }
    }

    /// `make-series`: the groups and their bins' aggregate states.
    pub(super) fn make_series(&mut self, s: &StageCode<'_>, series: &MakeSeries) -> TokenStream {
        let StageCode {
            next,
            bindings,
            state,
            ..
        } = s;
        self.state_fields.push(quote! {
            /// The groups of `make-series`, each with its bins' aggregate states.
            #state: MakeSeries,
        });
        let exprs = series.expressions();
        let lets = bindings.lets(&exprs);
        let key_values = series.keys.iter().map(|e| owned(e, &bindings.names));
        let inits = aggregate_inits(&series.aggregates);
        let adds = aggregate_adds(&series.aggregates, &bindings.names);
        let axis_value = borrowed(&series.axis, &bindings.names);
        let zero = constant(&series.zero);
        let (from, to, step) = (
            owned(&series.from, &[]),
            owned(&series.to, &[]),
            owned(&series.step, &[]),
        );
        let constructor = if series.in_range {
            quote! { SeriesAxis::in_range }
        } else {
            quote! { SeriesAxis::new }
        };
        let configure = quote! {
            if !self.#state.configured() {
                let axis = #constructor(&#zero, &#from, &#to, &#step);
                self.#state.configure(axis);
            }
        };
        let defaults = series.defaults.iter().map(|d| owned(d, &[]));
        let nonempty = series.nonempty;
        let empty_key = series.empty_key.iter().map(constant);
        self.finish_steps.push(quote! {
            #configure
            let defaults = [#(#defaults),*];
            for row in self.#state.finish(&defaults, #nonempty, vec![#(#empty_key),*]) {
                #next
            }
        });
        quote! {
            #lets
            #configure
            let key = vec![#(#key_values),*];
            if let Some(states) = self.#state.states(key, #axis_value, || vec![#(#inits),*]) {
                #(#adds)*
            }
        }
    }

    /// `sort` and `top`: a buffer of rows with their keys.
    pub(super) fn sort(
        &mut self,
        s: &StageCode<'_>,
        keys: &[SortKey],
        limit: &Option<u64>,
    ) -> TokenStream {
        let StageCode {
            method,
            next,
            bindings,
            state,
            ..
        } = s;
        self.state_fields.push(quote! {
            /// The rows `sort`/`top` holds until the end of the input.
            #state: SortBuffer,
        });
        let order = format_ident!("{}", format!("{method}_order").to_uppercase());
        let order_keys = keys.iter().map(|k| {
            let (descending, nulls_first) = (k.descending, k.nulls_first);
            quote! { SortKey { descending: #descending, nulls_first: #nulls_first } }
        });
        let count = keys.len();
        self.assoc_consts.push(quote! {
            /// The sort order: one entry per key.
            const #order: [SortKey; #count] = [#(#order_keys),*];
        });
        let exprs: Vec<&Expr> = keys.iter().map(|k| &k.expr).collect();
        let lets = bindings.lets(&exprs);
        let values = keys.iter().map(|k| owned(&k.expr, &bindings.names));
        let limit = match limit {
            Some(n) => {
                let n = Literal::u64_unsuffixed(*n);
                quote! { Some(#n) }
            }
            None => quote! { None },
        };
        self.finish_steps.push(quote! {
            for row in self.#state.finish(&Self::#order, #limit) {
                #next
            }
        });
        quote! {
            let keys = {
                #lets
                vec![#(#values),*]
            };
            self.#state.push(keys, row, &Self::#order, #limit);
        }
    }

    /// `top-nested`: the rows' keys and aggregate arguments.
    pub(super) fn top_nested(
        &mut self,
        s: &StageCode<'_>,
        levels: &[TopNestedLevel],
    ) -> TokenStream {
        let StageCode {
            next,
            bindings,
            state,
            ..
        } = s;
        self.state_fields.push(quote! {
            /// The rows `top-nested` holds until the end of the input.
            #state: TopNested,
        });
        top_nested_body(levels, bindings, state, next, &mut self.finish_steps)
    }

    /// `getschema`: constant rows at the end, whatever the input.
    pub(super) fn constant_rows(&mut self, s: &StageCode<'_>, rows: &[Vec<Expr>]) -> TokenStream {
        let StageCode { next, .. } = s;
        let rows = rows.iter().map(|row| {
            let values = row.iter().map(|e| owned(e, &[]));
            quote! { vec![#(#values),*] }
        });
        self.finish_steps.push(quote! {
            let rows: Vec<Row> = vec![#(#rows),*];
            for row in rows {
                #next
            }
        });
        quote! {
            let _ = row;
        }
    }
}

/// `top-nested`: the statement that holds a row's keys and aggregate
/// arguments, and (pushed to `finish`) the walk of the hierarchy.
pub(super) fn top_nested_body(
    levels: &[TopNestedLevel],
    bindings: &Bindings,
    state: &Ident,
    next: &TokenStream,
    finish_steps: &mut Vec<TokenStream>,
) -> TokenStream {
    let mut exprs: Vec<&Expr> = Vec::new();
    for level in levels {
        exprs.push(&level.key);
        exprs.extend(level.aggregate.value.iter().chain(&level.aggregate.carried));
    }
    let lets = bindings.lets(&exprs);
    let keys = levels.iter().map(|l| owned(&l.key, &bindings.names));
    let values = levels.iter().map(|l| {
        l.aggregate
            .value
            .as_ref()
            .map_or_else(|| quote! { Value::Null }, |v| owned(v, &bindings.names))
    });
    let also = levels.iter().map(|l| {
        let carried = l
            .aggregate
            .carried
            .iter()
            .map(|e| owned(e, &bindings.names));
        quote! { vec![#(#carried),*] }
    });
    let aggregates: Vec<Aggregate> = levels.iter().map(|l| l.aggregate.clone()).collect();
    let inits = aggregate_inits(&aggregates);
    let count = levels.len();
    let specs = levels.iter().map(|l| {
        let limit = match l.limit {
            Some(n) => {
                let n = Literal::u64_unsuffixed(n);
                quote! { Some(#n) }
            }
            None => quote! { None },
        };
        let others = match &l.others {
            Some(e) => {
                let value = owned(e, &[]);
                quote! { Some(#value) }
            }
            None => quote! { None },
        };
        let descending = l.descending;
        let pads = l.pads.iter().map(constant);
        quote! {
            NestedLevel {
                limit: #limit,
                others: #others,
                descending: #descending,
                pads: [#(#pads),*],
            }
        }
    });
    finish_steps.push(quote! {
        let levels = [#(#specs),*];
        let inits: [fn() -> Aggregate; #count] = [#(|| #inits),*];
        for row in self.#state.finish(&levels, &inits) {
            #next
        }
    });
    quote! {
        #lets
        self.#state.push(vec![#(#keys),*], vec![#(#values),*], vec![#(#also),*]);
    }
}

/// The constructors of aggregates' states (`Aggregate::count()`, ...).
pub(super) fn aggregate_inits(aggregates: &[Aggregate]) -> Vec<TokenStream> {
    aggregates
        .iter()
        .map(|a| {
            let constructor = format_ident!("{}", a.runtime);
            if a.takes_parameter {
                let parameter = a
                    .parameter
                    .as_ref()
                    .map_or_else(|| quote! { &Value::Null }, |p| borrowed(p, &[]));
                quote! { Aggregate::#constructor(#parameter) }
            } else {
                quote! { Aggregate::#constructor() }
            }
        })
        .collect()
}

/// Statements that add a row's values to `states` (one per aggregate).
pub(super) fn aggregate_adds(aggregates: &[Aggregate], names: &[Ident]) -> Vec<TokenStream> {
    aggregates
        .iter()
        .enumerate()
        .map(|(k, a)| {
            let k = Literal::usize_unsuffixed(k);
            let value = a
                .value
                .as_ref()
                .map_or_else(|| quote! { &Value::Null }, |v| borrowed(v, names));
            let carried = a.carried.iter().map(|e| owned(e, names));
            let add = quote! { states[#k].add(#value, &[#(#carried),*]); };
            match &a.predicate {
                Some(p) => {
                    let test = owned_bool(p, names);
                    quote! { if #test { #add } }
                }
                None => add,
            }
        })
        .collect()
}

/// The widest typed group key (`kql_runtime::typed_groups::MAX_KEY_PARTS`).
const MAX_KEY_PARTS: usize = 8;

/// The key type (`group_key::Text`, ...) of each `summarize` key, when
/// each is of a type other than `dynamic` (none without `by`).
fn typed_key_parts(keys: &[Expr]) -> Option<Vec<TokenStream>> {
    if keys.len() > MAX_KEY_PARTS {
        return None;
    }
    keys.iter().map(|k| key_part(k.ty())).collect()
}

/// The key type of a value of type `ty` (none for `dynamic`).
fn key_part(ty: ScalarType) -> Option<TokenStream> {
    Some(match ty {
        ScalarType::String => quote! { group_key::Text },
        ScalarType::Long | ScalarType::Int => quote! { group_key::Long },
        ScalarType::Real => quote! { group_key::Real },
        ScalarType::Bool => quote! { group_key::Bool },
        ScalarType::DateTime => quote! { group_key::DateTime },
        ScalarType::TimeSpan => quote! { group_key::TimeSpan },
        ScalarType::Guid => quote! { group_key::Guid },
        // `dynamic` keys hash through `Value`; decimal keys keep the
        // generic path too (no typed key part for them yet).
        ScalarType::Dynamic | ScalarType::Decimal => return None,
    })
}

/// The key type whose values `min`, `max`, `arg_min` and `arg_max` order
/// in place (`kql_runtime::typed_groups::Ordered`): none for guids,
/// decimals and `dynamic`.
fn ordered_part(ty: ScalarType) -> Option<TokenStream> {
    match ty {
        ScalarType::Guid | ScalarType::Decimal | ScalarType::Dynamic => None,
        _ => key_part(ty),
    }
}

/// How a typed `summarize` keeps an aggregate's state.
enum TypedState<'a> {
    /// `count()`, `countif()`: an `i64`.
    Count,
    /// A state of `kql_runtime::typed_groups` that takes one value per row
    /// (`add(&Value)`) and gives one (`finish()`): its type, its
    /// constructor, and the value.
    OneValue {
        ty: TokenStream,
        init: TokenStream,
        value: &'a Expr,
    },
    /// `arg_min`, `arg_max` with a first argument of an ordered key type:
    /// `ArgMin` or `ArgMax` of it, given the row's carried values only
    /// when it keeps them.
    Arg {
        ty: TokenStream,
        init: TokenStream,
        value: &'a Expr,
    },
    /// Any other: the generic `Aggregate`.
    Generic,
}

/// The typed state of an aggregate, where there is one:
/// - `dcount`, `dcountif` of a key type: `DistinctCount` of it;
/// - `sum`, `sumif` of longs (ints) or reals: `Sum`;
/// - `avg`, `avgif` of anything but decimals: `Average`;
/// - `min`, `max`, `minif`, `maxif`, `arg_min`, `arg_max` of an ordered
///   key type (not guid): `Min`, `Max`, `ArgMin`, `ArgMax` of it;
/// - `make_set`, `make_set_if` of a key type: `MakeSet` of it;
/// - `make_list`, `make_list_if`: `MakeList`; `take_any`, `take_anyif`:
///   `TakeAny`.
///
/// Each gives the generic result whatever the values (a value outside
/// its type takes the generic arithmetic or comparison).
fn typed_state(a: &Aggregate) -> TypedState<'_> {
    let Some(value) = &a.value else {
        return match a.runtime.as_str() {
            "count" if a.carried.is_empty() => TypedState::Count,
            _ => TypedState::Generic,
        };
    };
    let one = |ty: TokenStream, init: TokenStream| TypedState::OneValue { ty, init, value };
    let (runtime, plain) = (a.runtime.as_str(), a.carried.is_empty());
    let (part, ordered) = (key_part(value.ty()), ordered_part(value.ty()));
    match (runtime, part, ordered) {
        ("dcount", Some(part), _) if plain => one(
            quote! { DistinctCount<#part> },
            quote! { DistinctCount::default() },
        ),
        ("sum_long", ..) if plain => one(quote! { Sum }, quote! { Sum::long() }),
        ("sum_real", ..) if plain => one(quote! { Sum }, quote! { Sum::real() }),
        ("avg", ..) if plain => one(quote! { Average }, quote! { Average::default() }),
        ("min", _, Some(part)) if plain => one(quote! { Min<#part> }, quote! { Min::default() }),
        ("max", _, Some(part)) if plain => one(quote! { Max<#part> }, quote! { Max::default() }),
        ("arg_min" | "arg_max", _, Some(part)) => {
            let kind = if runtime == "arg_min" {
                quote! { ArgMin }
            } else {
                quote! { ArgMax }
            };
            TypedState::Arg {
                ty: quote! { #kind<#part> },
                init: quote! { #kind::default() },
                value,
            }
        }
        ("make_set", Some(part), _) if plain => {
            let limit = size_limit(a);
            one(quote! { MakeSet<#part> }, quote! { MakeSet::new(#limit) })
        }
        ("make_list", ..) if plain => {
            let limit = size_limit(a);
            one(quote! { MakeList }, quote! { MakeList::new(#limit) })
        }
        ("take_any", ..) if plain => one(quote! { TakeAny }, quote! { TakeAny::default() }),
        _ => TypedState::Generic,
    }
}

/// The size limit of `make_set`/`make_list` (`&Value::Null`: the default).
fn size_limit(a: &Aggregate) -> TokenStream {
    a.parameter
        .as_ref()
        .map_or_else(|| quote! { &Value::Null }, |p| borrowed(p, &[]))
}

/// The position of `a`'s first output column among the aggregates'.
fn fields_offset(aggregates: &[Aggregate], a: &Aggregate) -> usize {
    aggregates
        .iter()
        .take_while(|other| !std::ptr::eq(*other, a))
        .map(|other| other.width)
        .sum()
}

/// A field name for each aggregate's state: its (first) output column's
/// name in snake case, made unique.
fn state_field_names(output: &[String], keys: usize, aggregates: &[Aggregate]) -> Vec<Ident> {
    let mut taken = BTreeSet::new();
    let mut column = keys;
    aggregates
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let name = output.get(column).map_or("", String::as_str);
            column += a.width;
            unique_ident(name, "aggregate", i, &mut taken)
        })
        .collect()
}
