//! The scalar function table: name → parameters → result type → runtime
//! implementation. It exists once; the checker, the planner and
//! `kqlc functions` (the docs) all read it. Adding a function means adding one
//! entry here and its implementation in `kql_runtime::functions`.

use crate::types::ScalarType;

mod table_a_to_e;
mod table_f_to_r;
mod table_r_to_z;

/// What a parameter accepts. `dynamic` arguments are accepted everywhere
/// (their type is only known at run time), as Kusto does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accepts {
    /// Any scalar type.
    Any,
    /// A string.
    String,
    /// `int`, `long` or `real`.
    Number,
    /// `int`, `long`, `real` or `decimal` (where the implementation keeps
    /// a decimal exact: `round`).
    NumberOrDecimal,
    /// An `int` or `long`.
    Integer,
    /// A `bool`.
    Bool,
    /// A `datetime`.
    DateTime,
    /// A `timespan`.
    TimeSpan,
    /// A `dynamic` (an array or bag at run time).
    Dynamic,
    /// A number, `datetime` or `timespan` (what `bin` rounds).
    Binnable,
}

impl Accepts {
    /// True when an argument of type `ty` is acceptable.
    pub fn admits(self, ty: ScalarType) -> bool {
        use ScalarType as T;
        ty == T::Dynamic
            || match self {
                Accepts::Any => true,
                Accepts::String => ty == T::String,
                Accepts::Number => ty.is_numeric(),
                Accepts::NumberOrDecimal => ty.is_number(),
                Accepts::Integer => matches!(ty, T::Int | T::Long),
                Accepts::Bool => ty == T::Bool,
                Accepts::DateTime => ty == T::DateTime,
                Accepts::TimeSpan => ty == T::TimeSpan,
                Accepts::Dynamic => false,
                Accepts::Binnable => ty.is_numeric() || matches!(ty, T::DateTime | T::TimeSpan),
            }
    }

    /// How the parameter is described in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Accepts::Any => "any scalar",
            Accepts::String => "string",
            Accepts::Number => "number",
            Accepts::NumberOrDecimal => "number or decimal",
            Accepts::Integer => "integer",
            Accepts::Bool => "bool",
            Accepts::DateTime => "datetime",
            Accepts::TimeSpan => "timespan",
            Accepts::Dynamic => "dynamic",
            Accepts::Binnable => "number, datetime or timespan",
        }
    }
}

/// The result type of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// Always this type.
    Fixed(ScalarType),
    /// The type of argument N (`iff` returns its branches' type).
    ArgType(usize),
}

/// How generated code passes arguments to the runtime implementation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Convention {
    /// `f(&a, &b, ...)`.
    Refs,
    /// `f(&[a, b, ...])`: variadic functions and optional arguments.
    Slice,
    /// `f(ctx, &a, ...)`: functions that read the run's context (`now`, `ago`);
    /// `f(ctx, &[a, ...])` when some parameters are optional (`now([offset])`).
    Context,
}

/// One KQL scalar function.
#[derive(Clone, Copy, Debug)]
pub struct Function {
    /// The KQL name.
    pub name: &'static str,
    /// What each parameter accepts; with `variadic`, the last one repeats.
    pub params: &'static [Accepts],
    /// How many parameters are required (the rest are optional).
    pub required: usize,
    /// The last parameter may repeat without bound.
    pub variadic: bool,
    /// The result type.
    pub returns: Returns,
    /// The implementation: the name of a function in `kql_runtime::functions`.
    pub runtime: &'static str,
    /// How arguments are passed.
    pub convention: Convention,
    /// Indices of arguments that must be constant regular expressions
    /// (checked at compile time).
    pub regex_params: &'static [usize],
    /// An argument that is a regular expression only when another argument
    /// names a kind that says so (`countof(text, search, "regex")`).
    pub regex_by_kind: Option<RegexByKind>,
    /// One line for `kqlc functions`.
    pub summary: &'static str,
}

/// Argument `pattern` is a regular expression when argument `kind` is
/// `regex_kind`.
#[derive(Clone, Copy, Debug)]
pub struct RegexByKind {
    /// The index of the argument that may be a regular expression.
    pub pattern: usize,
    /// The index of the kind argument.
    pub kind: usize,
    /// The kind that makes `pattern` a regular expression.
    pub regex_kind: &'static str,
}

impl Function {
    /// The largest argument count, or `None` when variadic.
    pub fn max_args(&self) -> Option<usize> {
        (!self.variadic).then_some(self.params.len())
    }

    /// What argument `i` accepts.
    pub fn accepts(&self, i: usize) -> Accepts {
        match self.params.get(i) {
            Some(a) => *a,
            None => *self.params.last().unwrap_or(&Accepts::Any),
        }
    }
}

const fn f(
    name: &'static str,
    params: &'static [Accepts],
    required: usize,
    returns: Returns,
    runtime: &'static str,
    convention: Convention,
    summary: &'static str,
) -> Function {
    Function {
        name,
        params,
        required,
        variadic: false,
        returns,
        runtime,
        convention,
        regex_params: &[],
        regex_by_kind: None,
        summary,
    }
}

const fn variadic(mut function: Function) -> Function {
    function.variadic = true;
    function
}

const fn regex_at(mut function: Function, params: &'static [usize]) -> Function {
    function.regex_params = params;
    function
}

const fn regex_by_kind(mut function: Function, by_kind: RegexByKind) -> Function {
    function.regex_by_kind = Some(by_kind);
    function
}

const fn fixed(ty: ScalarType) -> Returns {
    Returns::Fixed(ty)
}

/// Every scalar function kqlc knows, sorted by name.
pub static FUNCTIONS: &[Function] = &TABLE;

/// The table's parts, concatenated in order.
static TABLE: [Function; TABLE_LEN] = concat_entries(&[
    table_a_to_e::ENTRIES,
    table_f_to_r::ENTRIES,
    table_r_to_z::ENTRIES,
]);

const TABLE_LEN: usize =
    table_a_to_e::ENTRIES.len() + table_f_to_r::ENTRIES.len() + table_r_to_z::ENTRIES.len();

/// `parts`, one after another (`N` is their total length).
const fn concat_entries<const N: usize>(parts: &[&[Function]]) -> [Function; N] {
    let mut out = [parts[0][0]; N];
    let mut at = 0;
    let mut part = 0;
    while part < parts.len() {
        let mut i = 0;
        while i < parts[part].len() {
            out[at] = parts[part][i];
            at += 1;
            i += 1;
        }
        part += 1;
    }
    assert!(at == N, "TABLE_LEN is the parts' total length");
    out
}

impl Function {
    const fn variadic_fn(self) -> Function {
        variadic(self)
    }
}

/// The function named `name` (KQL function names are case-sensitive).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// The Rust source of `generated/src/catalog.rs`: one typed reference per
/// runtime function of [`FUNCTIONS`], with the signature its calling
/// convention gives it. Compiling that file checks, when the workspace
/// builds, that every entry names a function of `kql_runtime::functions`
/// that takes what the planner passes; `tests/generated.rs` keeps the file
/// equal to this text.
pub fn catalog() -> String {
    let mut out = String::from(
        "// @generated by kqlc from the function table (kqlc/src/sema/functions/).\n\
         // Regenerate: KQLC_BLESS=1 cargo test -p kqlc-cli --test integration generated::\n\
         //! Every runtime function of kqlc's function table, as a typed reference:\n\
         //! this file compiles only if each exists in `kql_runtime::functions` with\n\
         //! the signature its calling convention gives it.\n\n\
         use kql_runtime::context::Context;\n\
         use kql_runtime::functions;\n\
         use kql_runtime::value::Value;\n",
    );
    let mut seen = std::collections::BTreeSet::new();
    for function in FUNCTIONS {
        if !seen.insert(function.runtime) {
            continue; // an alias of an earlier entry
        }
        let refs = || vec!["&Value"; function.params.len()].join(", ");
        let signature = match function.convention {
            Convention::Refs => format!("fn({}) -> Value", refs()),
            Convention::Slice => "fn(&[Value]) -> Value".to_string(),
            Convention::Context if function.params.len() > function.required => {
                "fn(&Context, &[Value]) -> Value".to_string()
            }
            Convention::Context if function.params.is_empty() => {
                "fn(&Context) -> Value".to_string()
            }
            Convention::Context => format!("fn(&Context, {}) -> Value", refs()),
        };
        let names: Vec<&str> = FUNCTIONS
            .iter()
            .filter(|f| f.runtime == function.runtime)
            .map(|f| f.name)
            .collect();
        out.push_str(&format!(
            "\n/// {}: {}\npub const {}: {signature} = functions::{};\n",
            names.join(", "),
            function.summary,
            function.runtime.to_uppercase(),
            function.runtime
        ));
    }
    out
}

/// Functions of the KQL reference that kqlc does not implement yet, so that
/// an error can say "not supported" rather than "unknown". Most need what a
/// row-at-a-time detector does not have: a cluster
/// (`current_database`, `cursor_after`, `extent_id`), or
/// data kqlc does not ship (`geo_info_from_ip_address`), or Kusto's own
/// hash combination (`hash_combine`, `hash_many`); see
/// `docs/functions.md`.
pub const KNOWN_UNSUPPORTED: &[&str] = &[
    "current_cluster_endpoint",
    "current_database",
    "current_principal",
    "current_principal_details",
    "current_principal_is_member_of",
    "cursor_after",
    "cursor_before_or_at",
    "cursor_current",
    "extent_id",
    "extent_tags",
    "geo_info_from_ip_address",
    "hash_combine",
    "hash_many",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ScalarType as T;
    use Accepts as A;

    #[test]
    fn table_is_sorted_and_names_are_unique() {
        for pair in FUNCTIONS.windows(2) {
            assert!(
                pair[0].name < pair[1].name,
                "{} before {}",
                pair[0].name,
                pair[1].name
            );
        }
    }

    #[test]
    fn required_never_exceeds_declared_parameters() {
        for function in FUNCTIONS {
            assert!(
                function.required <= function.params.len().max(1),
                "{}",
                function.name
            );
            for &i in function.regex_params {
                assert!(i < function.params.len(), "{}", function.name);
            }
            if let Some(by_kind) = function.regex_by_kind {
                assert!(by_kind.pattern < function.params.len(), "{}", function.name);
                assert!(by_kind.kind < function.params.len(), "{}", function.name);
            }
        }
    }

    #[test]
    fn unsupported_names_are_sorted_and_not_implemented() {
        for pair in KNOWN_UNSUPPORTED.windows(2) {
            assert!(pair[0] < pair[1], "{} before {}", pair[0], pair[1]);
        }
        for name in KNOWN_UNSUPPORTED {
            assert!(lookup(name).is_none(), "{name} is implemented");
        }
    }

    /// `docs/functions.md` has a row per function of the table, with its
    /// summary, and states how many there are.
    #[test]
    fn the_functions_page_lists_the_table() {
        let page = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/functions.md"));
        let rows: Vec<(&str, &str)> = page
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|row| {
                let name = row.split(['(', '`']).next()?;
                let summary = row.rsplit(" | ").next()?.trim_end_matches(" |");
                Some((name, summary))
            })
            .collect();
        for function in FUNCTIONS {
            assert!(
                rows.contains(&(function.name, function.summary)),
                "docs/functions.md has no row for {} ({})",
                function.name,
                function.summary
            );
        }
        for (name, _) in &rows {
            assert!(
                lookup(name).is_some(),
                "docs/functions.md lists {name}, not in the table"
            );
        }
        assert!(
            page.contains(&format!("{} functions (aliases included)", FUNCTIONS.len())),
            "docs/functions.md gives another count than {}",
            FUNCTIONS.len()
        );
    }

    #[test]
    fn dynamic_arguments_are_admitted_everywhere() {
        for accepts in [
            A::String,
            A::Number,
            A::Bool,
            A::DateTime,
            A::TimeSpan,
            A::Dynamic,
        ] {
            assert!(accepts.admits(T::Dynamic));
        }
        assert!(!A::TimeSpan.admits(T::String));
    }
}
