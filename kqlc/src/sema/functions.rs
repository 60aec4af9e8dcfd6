//! The scalar function table: name → parameters → result type → runtime
//! implementation. It exists once; the checker, the planner and
//! `kqlc functions` (the docs) all read it. Adding a function means adding one
//! entry here and its implementation in `kql_runtime::functions`.

use crate::types::ScalarType;

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
    /// `f(ctx, &a, ...)`: functions that read the run's context (`now`, `ago`).
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
    /// One line for `kqlc functions`.
    pub summary: &'static str,
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

use Accepts as A;
use Convention as C;
use ScalarType as T;

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

const fn fixed(ty: ScalarType) -> Returns {
    Returns::Fixed(ty)
}

/// Every scalar function kqlc knows, sorted by name.
pub static FUNCTIONS: &[Function] = &[
    f(
        "ago",
        &[A::TimeSpan],
        1,
        fixed(T::DateTime),
        "ago",
        C::Context,
        "now() minus the timespan",
    ),
    f(
        "array_length",
        &[A::Dynamic],
        1,
        fixed(T::Long),
        "array_length",
        C::Refs,
        "number of elements of a dynamic array; null otherwise",
    ),
    f(
        "bag_keys",
        &[A::Dynamic],
        1,
        fixed(T::Dynamic),
        "bag_keys",
        C::Refs,
        "the keys of a property bag",
    ),
    f(
        "bin",
        &[A::Binnable, A::Binnable],
        2,
        Returns::ArgType(0),
        "bin",
        C::Refs,
        "rounds down to a multiple of the bin size",
    ),
    f(
        "coalesce",
        &[A::Any],
        1,
        Returns::ArgType(0),
        "coalesce",
        C::Slice,
        "the first argument that is not null (or empty string)",
    )
    .variadic_fn(),
    regex_at(
        f(
            "extract",
            &[A::String, A::Integer, A::Any],
            3,
            fixed(T::String),
            "extract",
            C::Refs,
            "a capture group of the first match of a regex",
        ),
        &[0],
    ),
    regex_at(
        f(
            "extract_all",
            &[A::String, A::Any],
            2,
            fixed(T::Dynamic),
            "extract_all",
            C::Refs,
            "all matches of a regex (capture groups) as a dynamic array",
        ),
        &[0],
    ),
    f(
        "gettype",
        &[A::Any],
        1,
        fixed(T::String),
        "gettype",
        C::Refs,
        "the run-time type of a value",
    ),
    f(
        "iff",
        &[A::Bool, A::Any, A::Any],
        3,
        Returns::ArgType(1),
        "iff",
        C::Refs,
        "the second argument if the first is true, else the third",
    ),
    f(
        "iif",
        &[A::Bool, A::Any, A::Any],
        3,
        Returns::ArgType(1),
        "iff",
        C::Refs,
        "alias of iff",
    ),
    f(
        "indexof",
        &[A::String, A::String],
        2,
        fixed(T::Long),
        "indexof",
        C::Refs,
        "position of the first occurrence of a substring, or -1",
    ),
    f(
        "isempty",
        &[A::Any],
        1,
        fixed(T::Bool),
        "isempty",
        C::Refs,
        "true when the value is null or the empty string",
    ),
    f(
        "isnotempty",
        &[A::Any],
        1,
        fixed(T::Bool),
        "isnotempty",
        C::Refs,
        "not isempty",
    ),
    f(
        "isnotnull",
        &[A::Any],
        1,
        fixed(T::Bool),
        "isnotnull",
        C::Refs,
        "true when the value is not null",
    ),
    f(
        "isnull",
        &[A::Any],
        1,
        fixed(T::Bool),
        "isnull",
        C::Refs,
        "true when the value is null",
    ),
    f(
        "not",
        &[A::Bool],
        1,
        fixed(T::Bool),
        "not",
        C::Refs,
        "logical negation (null stays null)",
    ),
    f(
        "now",
        &[],
        0,
        fixed(T::DateTime),
        "now",
        C::Context,
        "the time of the run (or --now)",
    ),
    f(
        "pack_array",
        &[A::Any],
        1,
        fixed(T::Dynamic),
        "pack_array",
        C::Slice,
        "a dynamic array of the arguments",
    )
    .variadic_fn(),
    f(
        "parse_json",
        &[A::Any],
        1,
        fixed(T::Dynamic),
        "parse_json",
        C::Refs,
        "parses JSON text into a dynamic value",
    ),
    f(
        "replace_string",
        &[A::String, A::String, A::String],
        3,
        fixed(T::String),
        "replace_string",
        C::Refs,
        "replaces every occurrence of a substring",
    ),
    f(
        "split",
        &[A::String, A::String],
        2,
        fixed(T::Dynamic),
        "split",
        C::Refs,
        "splits a string into a dynamic array",
    ),
    f(
        "startofday",
        &[A::DateTime],
        1,
        fixed(T::DateTime),
        "startofday",
        C::Refs,
        "midnight of the datetime's day",
    ),
    f(
        "strcat",
        &[A::Any],
        1,
        fixed(T::String),
        "strcat",
        C::Slice,
        "concatenates the string forms of its arguments",
    )
    .variadic_fn(),
    f(
        "strcat_array",
        &[A::Dynamic, A::String],
        2,
        fixed(T::String),
        "strcat_array",
        C::Refs,
        "joins a dynamic array with a delimiter",
    ),
    f(
        "strcat_delim",
        &[A::String, A::Any],
        2,
        fixed(T::String),
        "strcat_delim",
        C::Slice,
        "concatenates arguments with a delimiter",
    )
    .variadic_fn(),
    f(
        "strlen",
        &[A::String],
        1,
        fixed(T::Long),
        "strlen",
        C::Refs,
        "length in characters",
    ),
    f(
        "substring",
        &[A::String, A::Integer, A::Integer],
        2,
        fixed(T::String),
        "substring",
        C::Slice,
        "part of a string from a start index",
    ),
    f(
        "tobool",
        &[A::Any],
        1,
        fixed(T::Bool),
        "tobool",
        C::Refs,
        "converts to bool",
    ),
    f(
        "toboolean",
        &[A::Any],
        1,
        fixed(T::Bool),
        "tobool",
        C::Refs,
        "alias of tobool",
    ),
    f(
        "todatetime",
        &[A::Any],
        1,
        fixed(T::DateTime),
        "todatetime",
        C::Refs,
        "converts to datetime",
    ),
    f(
        "todouble",
        &[A::Any],
        1,
        fixed(T::Real),
        "toreal",
        C::Refs,
        "alias of toreal",
    ),
    f(
        "todynamic",
        &[A::Any],
        1,
        fixed(T::Dynamic),
        "parse_json",
        C::Refs,
        "alias of parse_json",
    ),
    f(
        "toint",
        &[A::Any],
        1,
        fixed(T::Int),
        "toint",
        C::Refs,
        "converts to int",
    ),
    f(
        "tolong",
        &[A::Any],
        1,
        fixed(T::Long),
        "tolong",
        C::Refs,
        "converts to long",
    ),
    f(
        "tolower",
        &[A::String],
        1,
        fixed(T::String),
        "tolower",
        C::Refs,
        "lowercase",
    ),
    f(
        "toreal",
        &[A::Any],
        1,
        fixed(T::Real),
        "toreal",
        C::Refs,
        "converts to real",
    ),
    f(
        "tostring",
        &[A::Any],
        1,
        fixed(T::String),
        "tostring",
        C::Refs,
        "the string form of a value (null gives \"\")",
    ),
    f(
        "totimespan",
        &[A::Any],
        1,
        fixed(T::TimeSpan),
        "totimespan",
        C::Refs,
        "converts to timespan",
    ),
    f(
        "toupper",
        &[A::String],
        1,
        fixed(T::String),
        "toupper",
        C::Refs,
        "uppercase",
    ),
    f(
        "url_decode",
        &[A::String],
        1,
        fixed(T::String),
        "url_decode",
        C::Refs,
        "decodes %XX escapes",
    ),
    f(
        "url_encode",
        &[A::String],
        1,
        fixed(T::String),
        "url_encode",
        C::Refs,
        "percent-encodes a string",
    ),
    f(
        "url_encode_component",
        &[A::String],
        1,
        fixed(T::String),
        "url_encode_component",
        C::Refs,
        "percent-encodes a URL component",
    ),
];

impl Function {
    const fn variadic_fn(self) -> Function {
        variadic(self)
    }
}

/// The function named `name` (KQL function names are case-sensitive).
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Functions of the KQL reference that kqlc does not implement yet, so that
/// an error can say "not supported" rather than "unknown".
pub const KNOWN_UNSUPPORTED: &[&str] = &[
    "base64_decode_tostring",
    "base64_encode_tostring",
    "case",
    "datetime_add",
    "datetime_diff",
    "format_datetime",
    "hash_sha256",
    "ipv4_is_private",
    "parse_url",
    "replace_regex",
    "strcmp",
    "trim",
];

#[cfg(test)]
mod tests {
    use super::*;

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
        }
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
