//! Codegen of scalar expressions: `Value` expressions (owned or borrowed),
//! `bool` predicates with their specialisations, constants and constant sets,
//! and the local names of the columns a stage reads.

use super::*;

/// Local names for the columns a stage reads: `let operation_name = &row[4];`.
pub(super) struct Bindings {
    /// For each input position, its local name; then the names of the
    /// stage's run constants (positions from `first_constant` on).
    pub(super) names: Vec<Ident>,
    /// The first position that names a run constant, not a column.
    first_constant: usize,
    /// Each run constant's binding (`let ago = self.where_1_ago.get(..);`).
    constants: Vec<TokenStream>,
}

impl Bindings {
    pub(super) fn new(stage: &Stage) -> Bindings {
        // Extend items can read what earlier items appended: name those too.
        let columns = match stage.op {
            Op::Extend(_) | Op::Window(_) => &stage.output_names,
            _ => &stage.input_names,
        };
        Bindings::over(columns)
    }

    /// Local names for a row of these columns.
    pub(super) fn over(columns: &[String]) -> Bindings {
        let mut taken = BTreeSet::new();
        let names: Vec<Ident> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| unique_ident(column, "column", i, &mut taken))
            .collect();
        Bindings {
            first_constant: names.len(),
            names,
            constants: Vec::new(),
        }
    }

    /// Names the stage's run constants, at the positions after its columns
    /// (see `hoist`).
    pub(super) fn add_run_constants(&mut self, constants: &[super::hoist::Hoisted]) {
        for constant in constants {
            self.names.push(constant.name.clone());
            self.constants.push(constant.binding());
        }
    }

    /// A Rust `bool` for `predicate` ([`owned_bool`]), comparisons with the
    /// stage's run constants typed by the constants' types.
    pub(super) fn predicate(&self, predicate: &Expr) -> TokenStream {
        bool_expr(predicate, &self.names, self.first_constant, false)
    }

    /// `let NAME = &row[i];` for each column the expressions read.
    pub(super) fn lets(&self, exprs: &[&Expr]) -> TokenStream {
        self.lets_with(exprs, |name, i| {
            let i = Literal::usize_unsuffixed(i);
            quote! { let #name = &row[#i]; }
        })
    }

    /// A binding for each column the expressions read, made by `bind`
    /// from its local name and position (a typed row reads its fields,
    /// see `typed_rows`); the run constants' bindings as [`Bindings::lets`].
    pub(super) fn lets_with(
        &self,
        exprs: &[&Expr],
        mut bind: impl FnMut(&Ident, usize) -> TokenStream,
    ) -> TokenStream {
        let mut used = BTreeSet::new();
        for expr in exprs {
            columns_of(expr, &mut used);
        }
        let lets = used.into_iter().filter(|&i| i < self.names.len()).map(|i| {
            if i >= self.first_constant {
                return self.constants[i - self.first_constant].clone();
            }
            bind(&self.names[i], i)
        });
        let lets: Vec<TokenStream> = lets.collect();
        quote! { #(#lets)* }
    }
}

pub(super) fn columns_of(expr: &Expr, used: &mut BTreeSet<usize>) {
    crate::plan::visit_columns(expr, &mut |i| {
        used.insert(i);
    });
}

/// Whether codegen specialises what the IR's shapes allow (the default),
/// or emits the generic `Value` path everywhere (for the differential test
/// that the two agree, `tests/specialize.rs`).
static SPECIALIZE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Turns specialisation off (or back on) for the code generated after it,
/// in this process.
pub fn set_specialization(on: bool) {
    SPECIALIZE.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub(super) fn specializing() -> bool {
    SPECIALIZE.load(std::sync::atomic::Ordering::Relaxed)
}

/// A Rust expression of type `bool`: true when `expr` is KQL `true`.
///
/// Specialised where the shape allows, each form exactly the generic one:
/// `and`/`or` short-circuit (KQL `and` is true only when both sides are,
/// `or` when either is, whatever nulls the other holds, and the operands
/// have no effects), and `==`/`!=` against a string literal compare text
/// without making a `Value` (`ops::eq_text`).
pub(super) fn owned_bool(expr: &Expr, names: &[Ident]) -> TokenStream {
    bool_expr(expr, names, names.len(), false)
}

/// [`owned_bool`], the positions from `run` on naming run constants (see
/// `hoist`); `operand` when the result is an operand of `&&` (an `||`
/// there needs brackets; anywhere else brackets would be redundant).
fn bool_expr(expr: &Expr, names: &[Ident], run: usize, operand: bool) -> TokenStream {
    if specializing() {
        if let Expr::Call { builtin, args, .. } = expr {
            match (*builtin, args.as_slice()) {
                (Builtin::And, [Arg::Value(a), Arg::Value(b)]) => {
                    let (a, b) = (
                        bool_expr(a, names, run, true),
                        bool_expr(b, names, run, true),
                    );
                    return quote! { #a && #b };
                }
                (Builtin::Or, [Arg::Value(a), Arg::Value(b)]) => {
                    let (a, b) = (
                        bool_expr(a, names, run, false),
                        bool_expr(b, names, run, false),
                    );
                    return if operand {
                        quote! { (#a || #b) }
                    } else {
                        quote! { #a || #b }
                    };
                }
                // `not(x)` is true when `x` is false: `!x` where `x` is
                // never null (`!startswith`, `!has`, ...), otherwise
                // `ops::is_false` (`not(null)` is null, not true).
                (Builtin::Not, [Arg::Value(inner)]) => {
                    if never_null(inner) {
                        let inner = bool_expr(inner, names, run, false);
                        return quote! { !#inner };
                    }
                    let value = borrowed(inner, names);
                    return quote! { ops::is_false(#value) };
                }
                (Builtin::Compare(comparison), [Arg::Value(a), Arg::Value(b)]) => {
                    let test = text_comparison(comparison, a, b, names)
                        .or_else(|| typed_comparison(comparison, a, b, names))
                        .or_else(|| run_comparison(comparison, a, b, names, run));
                    if let Some(test) = test {
                        return test;
                    }
                }
                (
                    Builtin::Text { op, case_sensitive },
                    [Arg::Value(a), Arg::Value(Expr::Const(Const::String(text)))],
                ) => {
                    let function = format_ident!("{}_text", op.name());
                    let a = borrowed(a, names);
                    return quote! { ops::#function(#a, #text, #case_sensitive) };
                }
                _ => {}
            }
        }
    }
    let value = borrowed(expr, names);
    quote! { ops::is_true(#value) }
}

/// Whether `expr`'s value is always `true` or `false`, never null: the
/// string operators (`tostring` of null is `""`), `has_any`, `has_all`,
/// and `in~` (the `or` of `=~`, never null); so `not(expr)` is `!` of its
/// truth.
fn never_null(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::Call {
            builtin: Builtin::Text { .. }
                | Builtin::HasAny
                | Builtin::HasAll
                | Builtin::InList {
                    case_insensitive: true
                }
                | Builtin::InSet {
                    case_insensitive: true
                },
            ..
        }
    )
}

/// The columns that `predicate` ([`bool_expr`]) reads only as the subject
/// of a text test against a constant (`ops::eq_text`, `ops::startswith_text`,
/// ...), which take a typed row's `Str` field as it is; the shapes here are
/// exactly those [`bool_expr`] specialises.
pub(super) fn text_only_columns(predicate: &Expr) -> BTreeSet<usize> {
    fn walk(expr: &Expr, text: &mut BTreeSet<usize>, other: &mut BTreeSet<usize>) {
        if let Expr::Call { builtin, args, .. } = expr {
            match (*builtin, args.as_slice()) {
                (Builtin::And | Builtin::Or, [Arg::Value(a), Arg::Value(b)]) => {
                    walk(a, text, other);
                    walk(b, text, other);
                    return;
                }
                (Builtin::Not, [Arg::Value(inner)]) if never_null(inner) => {
                    walk(inner, text, other);
                    return;
                }
                (
                    Builtin::Compare(Comparison::Eq | Comparison::Ne),
                    [Arg::Value(Expr::Column(i, _)), Arg::Value(Expr::Const(Const::String(_)))]
                    | [Arg::Value(Expr::Const(Const::String(_))), Arg::Value(Expr::Column(i, _))],
                )
                | (
                    Builtin::Text { .. },
                    [Arg::Value(Expr::Column(i, _)), Arg::Value(Expr::Const(Const::String(_)))],
                ) => {
                    text.insert(*i);
                    return;
                }
                _ => {}
            }
        }
        columns_of(expr, other);
    }
    let (mut text, mut other) = (BTreeSet::new(), BTreeSet::new());
    if specializing() {
        walk(predicate, &mut text, &mut other);
    }
    text.difference(&other).copied().collect()
}

/// `a OP c` (or `c OP a`) where `c` is a run constant (a position from
/// `run` on) of type long, real, datetime or timespan, as the runtime's
/// comparison with a run constant of that type (`ops::gt_datetime_run(
/// timestamp, ago)`): exactly `ops::is_true(&ops::OP(..))`, comparing the
/// constant's value of its type directly. `None` for other shapes.
fn run_comparison(
    comparison: Comparison,
    a: &Expr,
    b: &Expr,
    names: &[Ident],
    run: usize,
) -> Option<TokenStream> {
    let is_run = |e: &Expr| matches!(e, Expr::Column(i, _) if *i >= run && *i < names.len());
    let (subject, constant, comparison) = if is_run(b) {
        (a, b, comparison)
    } else if is_run(a) {
        (b, a, mirrored(comparison))
    } else {
        return None;
    };
    let kind = match constant.ty() {
        ScalarType::Long => "long",
        ScalarType::Real => "real",
        ScalarType::DateTime => "datetime",
        ScalarType::TimeSpan => "timespan",
        _ => return None,
    };
    let function = format_ident!("{}_{}_run", comparison_name(comparison)?, kind);
    let (subject, constant) = (borrowed(subject, names), borrowed(constant, names));
    Some(quote! { ops::#function(#subject, #constant) })
}

/// `OP'` such that `c OP a` is `a OP' c`.
fn mirrored(comparison: Comparison) -> Comparison {
    match comparison {
        Comparison::Lt => Comparison::Gt,
        Comparison::Le => Comparison::Ge,
        Comparison::Gt => Comparison::Lt,
        Comparison::Ge => Comparison::Le,
        other => other,
    }
}

/// The runtime's name of a comparison (`gt`); `None` for `=~`, `!~`.
fn comparison_name(comparison: Comparison) -> Option<&'static str> {
    Some(match comparison {
        Comparison::Eq => "eq",
        Comparison::Ne => "ne",
        Comparison::Lt => "lt",
        Comparison::Le => "le",
        Comparison::Gt => "gt",
        Comparison::Ge => "ge",
        Comparison::EqCi | Comparison::NeCi => return None,
    })
}

/// `a == "text"` or `a != "text"` (either side the constant), as
/// `ops::eq_text(a, "text")`: exactly `ops::is_true(&ops::eq(..))`
/// without a `Value`. `None` for other shapes.
fn text_comparison(
    comparison: Comparison,
    a: &Expr,
    b: &Expr,
    names: &[Ident],
) -> Option<TokenStream> {
    let function = match comparison {
        Comparison::Eq => quote! { ops::eq_text },
        Comparison::Ne => quote! { ops::ne_text },
        _ => return None,
    };
    match (a, b) {
        (subject, Expr::Const(Const::String(text)))
        | (Expr::Const(Const::String(text)), subject) => {
            let subject = borrowed(subject, names);
            Some(quote! { #function(#subject, #text) })
        }
        _ => None,
    }
}

/// `a OP constant` (or `constant OP a`) for a long, int, real, datetime or
/// timespan constant, as a call of the runtime's typed comparison
/// (`ops::eq_long(code, 101)`): exactly `ops::is_true(&ops::OP(..))`,
/// without a `Value` for the constant or the result. `None` for other
/// shapes.
fn typed_comparison(
    comparison: Comparison,
    a: &Expr,
    b: &Expr,
    names: &[Ident],
) -> Option<TokenStream> {
    let (subject, constant, comparison) = match (a, b) {
        (_, Expr::Const(c)) => (a, c, comparison),
        // `constant OP a` is `a OP' constant`, OP' the mirrored operator.
        (Expr::Const(c), _) => (b, c, mirrored(comparison)),
        _ => return None,
    };
    let (kind, value) = match constant {
        Const::Long(n) => ("long", {
            let n = Literal::i64_unsuffixed(*n);
            quote! { #n }
        }),
        Const::Int(n) => ("long", {
            let n = Literal::i64_unsuffixed(i64::from(*n));
            quote! { #n }
        }),
        Const::Real(x) => ("real", real(*x)),
        Const::DateTime(t) => ("datetime", {
            let t = Literal::i64_unsuffixed(*t);
            quote! { DateTime(#t) }
        }),
        Const::TimeSpan(t) => ("timespan", {
            let t = Literal::i64_unsuffixed(*t);
            quote! { TimeSpan(#t) }
        }),
        _ => return None,
    };
    let function = format_ident!("{}_{}", comparison_name(comparison)?, kind);
    let subject = borrowed(subject, names);
    Some(quote! { ops::#function(#subject, #value) })
}

/// A Rust expression of type `Value` for `expr`.
pub(super) fn owned(expr: &Expr, names: &[Ident]) -> TokenStream {
    match expr {
        Expr::Column(i, _) => match names.get(*i) {
            Some(name) => quote! { #name.clone() },
            None => quote! { Value::Null },
        },
        Expr::Const(c) => constant(c),
        Expr::Member(target, key) => {
            let target = borrowed(target, names);
            quote! { ops::member(#target, #key) }
        }
        Expr::Index(target, index) => {
            let target = borrowed(target, names);
            let index = borrowed(index, names);
            quote! { ops::index(#target, #index) }
        }
        Expr::Subquery { id, column, .. } => {
            let field = format_ident!("subquery_{}", id);
            if *column {
                quote! { self.#field.values().clone() }
            } else {
                quote! { self.#field.clone() }
            }
        }
        Expr::ConstSet(items) => {
            let set = const_set(items);
            quote! { #set.values().clone() }
        }
        // One statement per step, not one nested call per operator.
        Expr::Fold { first, steps, .. } => {
            let first = owned(first, names);
            let steps = steps.iter().map(|(arith, operand)| {
                let path = path_tokens(arith.path());
                let operand = borrowed(operand, names);
                quote! { let so_far = #path(&so_far, #operand); }
            });
            quote! {{
                let so_far = #first;
                #(#steps)*
                so_far
            }}
        }
        Expr::Call { builtin, args, .. } => {
            if let Some(call) = const_regex_call(*builtin, args, names) {
                return call;
            }
            let path = path_tokens(&builtin.path());
            let flag = builtin.flag().map(|flag| quote! { #flag });
            let args = args.iter().map(|arg| match arg {
                Arg::Value(e) => borrowed(e, names),
                Arg::Set(Expr::Subquery { id, .. }) => {
                    let field = format_ident!("subquery_{}", id);
                    quote! { &self.#field }
                }
                Arg::Set(e) => borrowed(e, names),
                // One value already held (a column, a sub-query): borrowed
                // as a slice, not cloned into one.
                Arg::Slice(es) if matches!(es[..], [Expr::Column(..) | Expr::Subquery { .. }]) => {
                    let value = borrowed(&es[0], names);
                    quote! { std::slice::from_ref(#value) }
                }
                Arg::Slice(es) => {
                    let values = es.iter().map(|e| owned(e, names));
                    quote! { &[#(#values),*] }
                }
                Arg::Context => quote! { ctx },
            });
            let args = args.chain(flag);
            quote! { #path(#(#args),*) }
        }
    }
}

/// A `&ConstRegex` for a constant pattern: a `static` of its own, compiled
/// on first use.
pub(super) fn const_regex(pattern: &str) -> TokenStream {
    quote! {
        {
            static PATTERN: ConstRegex = ConstRegex::new(#pattern);
            &PATTERN
        }
    }
}

/// A call whose regular expression is a constant string, as the `_with`
/// form of its function over the pattern compiled once
/// ([`const_regex`]), not looked up in the per-thread cache for each row:
/// `matches regex`, `extract`, two-argument `extract_all` (its arity fixed
/// here, not picked at run time from a slice) and `replace_regex`. `None`
/// for other calls, or when not specialising.
fn const_regex_call(builtin: Builtin, args: &[Arg], names: &[Ident]) -> Option<TokenStream> {
    if !specializing() {
        return None;
    }
    let pattern = |e: &Expr| match e {
        Expr::Const(Const::String(p)) => Some(const_regex(p)),
        _ => None,
    };
    let f = match builtin {
        Builtin::Function(f) => f.0,
        Builtin::MatchesRegex => "matches regex",
        _ => return None,
    };
    Some(match (f, args) {
        ("matches regex", [Arg::Value(text), Arg::Value(p)]) => {
            let (text, re) = (borrowed(text, names), pattern(p)?);
            quote! { ops::matches_regex_with(#text, #re) }
        }
        ("extract", [Arg::Value(p), Arg::Value(group), Arg::Value(text)]) => {
            let re = pattern(p)?;
            let (group, text) = (borrowed(group, names), borrowed(text, names));
            quote! { functions::extract_with(#re, #group, #text) }
        }
        ("extract_all_args", [Arg::Slice(items)]) => match items.as_slice() {
            [p, text] => {
                let (re, text) = (pattern(p)?, borrowed(text, names));
                quote! { functions::extract_all_with(#re, #text) }
            }
            _ => return None,
        },
        ("replace_regex", [Arg::Value(text), Arg::Value(p), Arg::Value(rewrite)]) => {
            let re = pattern(p)?;
            let (text, rewrite) = (borrowed(text, names), borrowed(rewrite, names));
            quote! { functions::replace_regex_with(#text, #re, #rewrite) }
        }
        _ => return None,
    })
}

/// A runtime function's path (`ops::eq`) as tokens.
pub(super) fn path_tokens(path: &str) -> TokenStream {
    path.parse().unwrap_or_else(|_| quote! { missing_function })
}

/// A Rust expression of type `&Value` for `expr`.
pub(super) fn borrowed(expr: &Expr, names: &[Ident]) -> TokenStream {
    match expr {
        Expr::Column(i, _) => match names.get(*i) {
            Some(name) => quote! { #name },
            None => quote! { &Value::Null },
        },
        Expr::Subquery { id, column, .. } => {
            let field = format_ident!("subquery_{}", id);
            if *column {
                quote! { self.#field.values() }
            } else {
                quote! { &self.#field }
            }
        }
        Expr::ConstSet(items) => const_set(items),
        // A property read in place, not copied.
        Expr::Member(target, key) if specializing() => {
            let target = borrowed(target, names);
            quote! { ops::member_ref(#target, #key) }
        }
        _ => {
            let value = owned(expr, names);
            quote! { &#value }
        }
    }
}

/// From this many strings on, a constant set is written as one text
/// ([`const_set`]).
pub(super) const CONST_SET_TEXT_MIN_ITEMS: usize = 256;

/// A `&ValueSet` of a long constant `in` list: static data, indexed the
/// first time a row is tested.
pub(super) fn const_set(items: &[Const]) -> TokenStream {
    let strings: Option<Vec<&str>> = items
        .iter()
        .map(|c| match c {
            Const::String(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    let build = match strings {
        // A long list as one text, a line per string: one literal for
        // rustc, not an array of a million (see `ValueSet::from_lines`).
        Some(strings) if strings.len() >= CONST_SET_TEXT_MIN_ITEMS => {
            let mut text = String::new();
            for item in &strings {
                for c in item.chars() {
                    match c {
                        '\\' => text.push_str("\\\\"),
                        '\n' => text.push_str("\\n"),
                        c => text.push(c),
                    }
                }
                text.push('\n');
            }
            let note = format!(
                " The list's {} strings, one per line (a newline or backslash in one is written `\\n`, `\\\\`).",
                strings.len()
            );
            quote! {{
                #[doc = #note]
                static LINES: &str = #text;
                ValueSet::from_lines(LINES)
            }}
        }
        Some(strings) => quote! { ValueSet::from_strs(&[#(#strings),*]) },
        None => {
            let values = items.iter().map(constant);
            quote! { ValueSet::new(Value::array(vec![#(#values),*])) }
        }
    };
    quote! {
        {
            static SET: std::sync::LazyLock<ValueSet> = std::sync::LazyLock::new(|| #build);
            &*SET
        }
    }
}

pub(super) fn constant(c: &Const) -> TokenStream {
    match c {
        Const::Null => quote! { Value::Null },
        Const::Bool(b) => quote! { Value::Bool(#b) },
        Const::Int(n) => {
            let n = Literal::i32_unsuffixed(*n);
            quote! { Value::Int(#n) }
        }
        Const::Long(n) => {
            let n = Literal::i64_unsuffixed(*n);
            quote! { Value::Long(#n) }
        }
        Const::Real(x) => {
            let x = real(*x);
            quote! { Value::Real(#x) }
        }
        Const::String(s) => {
            let s = Literal::string(s);
            quote! { Value::from_static(#s) }
        }
        Const::DateTime(t) => {
            let t = Literal::i64_unsuffixed(*t);
            quote! { Value::DateTime(DateTime(#t)) }
        }
        Const::TimeSpan(t) => {
            let t = Literal::i64_unsuffixed(*t);
            quote! { Value::TimeSpan(TimeSpan(#t)) }
        }
        Const::Guid(g) => {
            let g = Literal::string(g);
            quote! { Value::Guid(Str::Static(#g)) }
        }
        Const::Decimal(d) => {
            let mantissa = Literal::i128_unsuffixed(d.mantissa());
            let scale = Literal::u8_unsuffixed(d.scale());
            quote! { Value::Decimal(Decimal::from_parts(#mantissa, #scale)) }
        }
        Const::Array(items) => {
            let items = items.iter().map(constant);
            quote! { Value::array(vec![#(#items),*]) }
        }
        Const::Bag(entries) => {
            let entries = entries.iter().map(|(k, v)| {
                let v = constant(v);
                quote! { (Str::Static(#k), #v) }
            });
            quote! { Value::bag(vec![#(#entries),*]) }
        }
    }
}

pub(super) fn real(x: f64) -> TokenStream {
    if x.is_nan() {
        quote! { f64::NAN }
    } else if x == f64::INFINITY {
        quote! { f64::INFINITY }
    } else if x == f64::NEG_INFINITY {
        quote! { f64::NEG_INFINITY }
    } else {
        let lit = Literal::f64_unsuffixed(x);
        quote! { #lit }
    }
}
