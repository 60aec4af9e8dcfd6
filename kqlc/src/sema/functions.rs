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
pub static FUNCTIONS: &[Function] = &[
    f(
        "abs",
        &[A::Binnable],
        1,
        Returns::ArgType(0),
        "abs",
        C::Refs,
        "absolute value of a number or timespan",
    ),
    f(
        "acos",
        &[A::Number],
        1,
        fixed(T::Real),
        "acos",
        C::Refs,
        "arccosine",
    ),
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
        "array_concat",
        &[A::Dynamic],
        1,
        fixed(T::Dynamic),
        "array_concat",
        C::Slice,
        "concatenates dynamic arrays",
    )
    .variadic_fn(),
    f(
        "array_iff",
        &[A::Dynamic, A::Any, A::Any],
        3,
        fixed(T::Dynamic),
        "array_iff",
        C::Refs,
        "element-wise iff over a condition array",
    ),
    f(
        "array_iif",
        &[A::Dynamic, A::Any, A::Any],
        3,
        fixed(T::Dynamic),
        "array_iff",
        C::Refs,
        "alias of array_iff",
    ),
    f(
        "array_index_of",
        &[A::Dynamic, A::Any, A::Integer, A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "array_index_of",
        C::Slice,
        "position of a value in an array, or -1",
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
        "array_reverse",
        &[A::Dynamic],
        1,
        fixed(T::Dynamic),
        "array_reverse",
        C::Refs,
        "the array in reverse order",
    ),
    f(
        "array_rotate_left",
        &[A::Dynamic, A::Integer],
        2,
        fixed(T::Dynamic),
        "array_rotate_left",
        C::Refs,
        "rotates array elements to the left",
    ),
    f(
        "array_rotate_right",
        &[A::Dynamic, A::Integer],
        2,
        fixed(T::Dynamic),
        "array_rotate_right",
        C::Refs,
        "rotates array elements to the right",
    ),
    f(
        "array_shift_left",
        &[A::Dynamic, A::Integer, A::Any],
        2,
        fixed(T::Dynamic),
        "array_shift_left",
        C::Slice,
        "shifts array elements to the left, filling the end",
    ),
    f(
        "array_shift_right",
        &[A::Dynamic, A::Integer, A::Any],
        2,
        fixed(T::Dynamic),
        "array_shift_right",
        C::Slice,
        "shifts array elements to the right, filling the start",
    ),
    f(
        "array_slice",
        &[A::Dynamic, A::Integer, A::Integer],
        3,
        fixed(T::Dynamic),
        "array_slice",
        C::Refs,
        "the elements from start to end (inclusive)",
    ),
    f(
        "array_sort_asc",
        &[A::Dynamic, A::Bool],
        1,
        fixed(T::Dynamic),
        "array_sort_asc",
        C::Slice,
        "the array sorted ascending (one-array form)",
    ),
    f(
        "array_sort_desc",
        &[A::Dynamic, A::Bool],
        1,
        fixed(T::Dynamic),
        "array_sort_desc",
        C::Slice,
        "the array sorted descending (one-array form)",
    ),
    f(
        "array_split",
        &[A::Dynamic, A::Any],
        2,
        fixed(T::Dynamic),
        "array_split",
        C::Refs,
        "the array cut at one or more indexes",
    ),
    f(
        "array_strcat",
        &[A::Dynamic, A::String],
        2,
        fixed(T::String),
        "array_strcat",
        C::Refs,
        "deprecated alias of strcat_array",
    ),
    f(
        "array_sum",
        &[A::Dynamic],
        1,
        fixed(T::Real),
        "array_sum",
        C::Refs,
        "sum of the elements of a numeric array",
    ),
    f(
        "asin",
        &[A::Number],
        1,
        fixed(T::Real),
        "asin",
        C::Refs,
        "arcsine",
    ),
    f(
        "atan",
        &[A::Number],
        1,
        fixed(T::Real),
        "atan",
        C::Refs,
        "arctangent",
    ),
    f(
        "atan2",
        &[A::Number, A::Number],
        2,
        fixed(T::Real),
        "atan2",
        C::Refs,
        "angle of the point (x, y)",
    ),
    f(
        "bag_has_key",
        &[A::Dynamic, A::String],
        2,
        fixed(T::Bool),
        "bag_has_key",
        C::Refs,
        "whether a property bag has a key (or JSONPath)",
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
        "bag_merge",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "bag_merge",
        C::Slice,
        "merges property bags (the first value of a key wins)",
    )
    .variadic_fn(),
    f(
        "bag_pack",
        &[A::Any],
        0,
        fixed(T::Dynamic),
        "bag_pack",
        C::Slice,
        "a property bag of key/value pairs",
    )
    .variadic_fn(),
    f(
        "bag_remove_keys",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "bag_remove_keys",
        C::Refs,
        "a property bag without the given keys",
    ),
    f(
        "bag_set_key",
        &[A::Dynamic, A::String, A::Any],
        3,
        fixed(T::Dynamic),
        "bag_set_key",
        C::Refs,
        "a property bag with a key set",
    ),
    f(
        "bag_zip",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "bag_zip",
        C::Refs,
        "a property bag from an array of keys and an array of values",
    ),
    f(
        "base64_decode_toarray",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "base64_decode_toarray",
        C::Refs,
        "the bytes of a base64 string as an array of longs",
    ),
    f(
        "base64_decode_toguid",
        &[A::String],
        1,
        fixed(T::Guid),
        "base64_decode_toguid",
        C::Refs,
        "the guid a base64 string encodes",
    ),
    f(
        "base64_decode_tostring",
        &[A::String],
        1,
        fixed(T::String),
        "base64_decode_tostring",
        C::Refs,
        "the UTF-8 text of a base64 string",
    ),
    f(
        "base64_decodestring",
        &[A::String],
        1,
        fixed(T::String),
        "base64_decode_tostring",
        C::Refs,
        "deprecated alias of base64_decode_tostring",
    ),
    f(
        "base64_encode_fromarray",
        &[A::Dynamic],
        1,
        fixed(T::String),
        "base64_encode_fromarray",
        C::Refs,
        "base64 of an array of bytes",
    ),
    f(
        "base64_encode_fromguid",
        &[A::Any],
        1,
        fixed(T::String),
        "base64_encode_fromguid",
        C::Refs,
        "base64 of a guid's bytes",
    ),
    f(
        "base64_encode_tostring",
        &[A::String],
        1,
        fixed(T::String),
        "base64_encode_tostring",
        C::Refs,
        "base64 of a string's UTF-8 bytes",
    ),
    f(
        "base64_encodestring",
        &[A::String],
        1,
        fixed(T::String),
        "base64_encode_tostring",
        C::Refs,
        "deprecated alias of base64_encode_tostring",
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
        "bin_at",
        &[A::Binnable, A::Binnable, A::Binnable],
        3,
        Returns::ArgType(0),
        "bin_at",
        C::Refs,
        "rounds down to a multiple of the bin size from a fixed point",
    ),
    f(
        "binary_and",
        &[A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "binary_and",
        C::Refs,
        "bitwise and",
    ),
    f(
        "binary_not",
        &[A::Integer],
        1,
        Returns::ArgType(0),
        "binary_not",
        C::Refs,
        "bitwise complement",
    ),
    f(
        "binary_or",
        &[A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "binary_or",
        C::Refs,
        "bitwise or",
    ),
    f(
        "binary_shift_left",
        &[A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "binary_shift_left",
        C::Refs,
        "bitwise shift left",
    ),
    f(
        "binary_shift_right",
        &[A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "binary_shift_right",
        C::Refs,
        "bitwise shift right",
    ),
    f(
        "binary_xor",
        &[A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "binary_xor",
        C::Refs,
        "bitwise exclusive or",
    ),
    f(
        "bitset_count_ones",
        &[A::Integer],
        1,
        fixed(T::Long),
        "bitset_count_ones",
        C::Refs,
        "number of set bits",
    ),
    f(
        "case",
        &[A::Bool, A::Any, A::Any],
        3,
        Returns::ArgType(1),
        "case",
        C::Slice,
        "the value of the first satisfied predicate, else the last argument",
    )
    .variadic_fn(),
    f(
        "ceiling",
        &[A::Number],
        1,
        Returns::ArgType(0),
        "ceiling",
        C::Refs,
        "smallest integer not below the number",
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
    f(
        "convert_angle",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_angle",
        C::Refs,
        "an angle converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_energy",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_energy",
        C::Refs,
        "an energy converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_force",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_force",
        C::Refs,
        "a force converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_length",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_length",
        C::Refs,
        "a length converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_mass",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_mass",
        C::Refs,
        "a mass converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_speed",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_speed",
        C::Refs,
        "a speed converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_temperature",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_temperature",
        C::Refs,
        "a temperature converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "convert_volume",
        &[A::Number, A::String, A::String],
        3,
        fixed(T::Real),
        "convert_volume",
        C::Refs,
        "a volume converted from one unit to another (null for an unknown unit)",
    ),
    f(
        "cos",
        &[A::Number],
        1,
        fixed(T::Real),
        "cos",
        C::Refs,
        "cosine",
    ),
    f(
        "cot",
        &[A::Number],
        1,
        fixed(T::Real),
        "cot",
        C::Refs,
        "cotangent",
    ),
    regex_by_kind(
        f(
            "countof",
            &[A::String, A::String, A::String],
            2,
            fixed(T::Long),
            "countof",
            C::Slice,
            "number of matches of a substring or regex",
        ),
        RegexByKind {
            pattern: 1,
            kind: 2,
            regex_kind: "regex",
        },
    ),
    f(
        "datepart",
        &[A::String, A::DateTime],
        2,
        fixed(T::Int),
        "datetime_part",
        C::Refs,
        "deprecated alias of datetime_part",
    ),
    f(
        "datetime_add",
        &[A::String, A::Integer, A::DateTime],
        3,
        fixed(T::DateTime),
        "datetime_add",
        C::Refs,
        "a datetime moved by a number of periods",
    ),
    f(
        "datetime_diff",
        &[A::String, A::DateTime, A::DateTime],
        3,
        fixed(T::Long),
        "datetime_diff",
        C::Refs,
        "the number of periods between two datetimes",
    ),
    f(
        "datetime_list_timezones",
        &[],
        0,
        fixed(T::Dynamic),
        "datetime_list_timezones",
        C::Refs,
        "the names of the supported IANA time zones",
    ),
    f(
        "datetime_local_to_utc",
        &[A::DateTime, A::String],
        2,
        fixed(T::DateTime),
        "datetime_local_to_utc",
        C::Refs,
        "a wall-clock time in an IANA time zone as UTC",
    ),
    f(
        "datetime_part",
        &[A::String, A::DateTime],
        2,
        fixed(T::Int),
        "datetime_part",
        C::Refs,
        "a part (year, month, hour, ...) of a datetime",
    ),
    f(
        "datetime_utc_to_local",
        &[A::DateTime, A::String],
        2,
        fixed(T::DateTime),
        "datetime_utc_to_local",
        C::Refs,
        "a UTC datetime as the wall-clock time in an IANA time zone",
    ),
    f(
        "dayofmonth",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "dayofmonth",
        C::Refs,
        "day of the month (1-31)",
    ),
    f(
        "dayofweek",
        &[A::DateTime],
        1,
        fixed(T::TimeSpan),
        "dayofweek",
        C::Refs,
        "days since the preceding Sunday, as a timespan",
    ),
    f(
        "dayofyear",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "dayofyear",
        C::Refs,
        "day of the year (1-366)",
    ),
    f(
        "degrees",
        &[A::Number],
        1,
        fixed(T::Real),
        "degrees",
        C::Refs,
        "radians to degrees",
    ),
    f(
        "dynamic_to_json",
        &[A::Any],
        1,
        fixed(T::String),
        "dynamic_to_json",
        C::Refs,
        "canonical JSON text of a value (bag properties sorted by name)",
    ),
    f(
        "endofday",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "endofday",
        C::Slice,
        "the last tick of the day",
    ),
    f(
        "endofmonth",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "endofmonth",
        C::Slice,
        "the last tick of the month",
    ),
    f(
        "endofweek",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "endofweek",
        C::Slice,
        "the last tick of the week (Saturday)",
    ),
    f(
        "endofyear",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "endofyear",
        C::Slice,
        "the last tick of the year",
    ),
    f(
        "erf",
        &[A::Number],
        1,
        fixed(T::Real),
        "erf",
        C::Refs,
        "the error function",
    ),
    f(
        "erfc",
        &[A::Number],
        1,
        fixed(T::Real),
        "erfc",
        C::Refs,
        "the complementary error function",
    ),
    f(
        "exp",
        &[A::Number],
        1,
        fixed(T::Real),
        "exp",
        C::Refs,
        "e raised to the number",
    ),
    f(
        "exp10",
        &[A::Number],
        1,
        fixed(T::Real),
        "exp10",
        C::Refs,
        "10 raised to the number",
    ),
    f(
        "exp2",
        &[A::Number],
        1,
        fixed(T::Real),
        "exp2",
        C::Refs,
        "2 raised to the number",
    ),
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
            &[A::String, A::Any, A::Any],
            2,
            fixed(T::Dynamic),
            "extract_all_args",
            C::Slice,
            "all matches of a regex (capture groups) as a dynamic array",
        ),
        &[0],
    ),
    f(
        "extract_json",
        &[A::String, A::Any],
        2,
        fixed(T::String),
        "extract_json",
        C::Refs,
        "the element at a JSONPath in JSON text, as a string",
    ),
    f(
        "extractjson",
        &[A::String, A::Any],
        2,
        fixed(T::String),
        "extract_json",
        C::Refs,
        "alias of extract_json",
    ),
    f(
        "floor",
        &[A::Binnable, A::Binnable],
        2,
        Returns::ArgType(0),
        "floor",
        C::Refs,
        "alias of bin",
    ),
    f(
        "format_bytes",
        &[A::Number, A::Integer, A::String],
        1,
        fixed(T::String),
        "format_bytes",
        C::Slice,
        "a size in bytes as text in Bytes, KB, MB, ... (powers of 1024)",
    ),
    f(
        "format_datetime",
        &[A::DateTime, A::String],
        2,
        fixed(T::String),
        "format_datetime",
        C::Refs,
        "a datetime formatted by a pattern",
    ),
    f(
        "format_ipv4",
        &[A::Any, A::Integer],
        1,
        fixed(T::String),
        "format_ipv4",
        C::Slice,
        "dotted text of an IPv4 address, masked",
    ),
    f(
        "format_ipv4_mask",
        &[A::Any, A::Integer],
        1,
        fixed(T::String),
        "format_ipv4_mask",
        C::Slice,
        "CIDR text of an IPv4 address",
    ),
    f(
        "format_timespan",
        &[A::TimeSpan, A::String],
        2,
        fixed(T::String),
        "format_timespan",
        C::Refs,
        "a timespan formatted by a pattern",
    ),
    f(
        "gamma",
        &[A::Number],
        1,
        fixed(T::Real),
        "gamma",
        C::Refs,
        "the gamma function",
    ),
    f(
        "geo_distance_2points",
        &[A::Number, A::Number, A::Number, A::Number],
        4,
        fixed(T::Real),
        "geo_distance_2points",
        C::Refs,
        "great-circle distance in metres between two points (on the sphere)",
    ),
    f(
        "geo_geohash_to_central_point",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "geo_geohash_to_central_point",
        C::Refs,
        "the centre of a geohash cell as a GeoJSON point",
    ),
    f(
        "geo_geohash_to_polygon",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "geo_geohash_to_polygon",
        C::Refs,
        "a geohash cell as a GeoJSON polygon",
    ),
    f(
        "geo_point_in_circle",
        &[A::Number, A::Number, A::Number, A::Number, A::Number],
        5,
        fixed(T::Bool),
        "geo_point_in_circle",
        C::Slice,
        "whether a point lies within a circle on the sphere",
    ),
    f(
        "geo_point_to_geohash",
        &[A::Number, A::Number, A::Integer],
        2,
        fixed(T::String),
        "geo_point_to_geohash",
        C::Slice,
        "the geohash of a point",
    ),
    f(
        "getmonth",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "getmonth",
        C::Refs,
        "month of a datetime (1-12)",
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
        "getyear",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "getyear",
        C::Refs,
        "year of a datetime",
    ),
    f(
        "gzip_compress_to_base64_string",
        &[A::String],
        1,
        fixed(T::String),
        "gzip_compress_to_base64_string",
        C::Refs,
        "gzip of a string's UTF-8 bytes, as base64",
    ),
    f(
        "gzip_decompress_from_base64_string",
        &[A::String],
        1,
        fixed(T::String),
        "gzip_decompress_from_base64_string",
        C::Refs,
        "the text of base64 gzip data (\"\" when invalid)",
    ),
    f(
        "has_any_index",
        &[A::String, A::Dynamic],
        2,
        fixed(T::Long),
        "has_any_index",
        C::Refs,
        "position of the first array element the string has, or -1",
    ),
    f(
        "has_any_ipv4",
        &[A::String, A::Any],
        2,
        fixed(T::Bool),
        "has_any_ipv4",
        C::Slice,
        "whether text holds any of the IPv4 addresses",
    )
    .variadic_fn(),
    f(
        "has_any_ipv4_prefix",
        &[A::String, A::Any],
        2,
        fixed(T::Bool),
        "has_any_ipv4_prefix",
        C::Slice,
        "whether text holds an IPv4 address with any of the prefixes",
    )
    .variadic_fn(),
    f(
        "has_ipv4",
        &[A::String, A::String],
        2,
        fixed(T::Bool),
        "has_ipv4",
        C::Refs,
        "whether text holds an IPv4 address",
    ),
    f(
        "has_ipv4_prefix",
        &[A::String, A::String],
        2,
        fixed(T::Bool),
        "has_ipv4_prefix",
        C::Refs,
        "whether text holds an IPv4 address with a prefix",
    ),
    f(
        "hash",
        &[A::Any, A::Integer],
        1,
        fixed(T::Long),
        "hash",
        C::Slice,
        "xxhash64 of a value",
    ),
    f(
        "hash_md5",
        &[A::Any],
        1,
        fixed(T::String),
        "hash_md5",
        C::Refs,
        "MD5 of a value, as hex",
    ),
    f(
        "hash_sha1",
        &[A::Any],
        1,
        fixed(T::String),
        "hash_sha1",
        C::Refs,
        "SHA-1 of a value, as hex",
    ),
    f(
        "hash_sha256",
        &[A::Any],
        1,
        fixed(T::String),
        "hash_sha256",
        C::Refs,
        "SHA-256 of a value, as hex",
    ),
    f(
        "hash_xxhash64",
        &[A::Any, A::Integer],
        1,
        fixed(T::Long),
        "hash",
        C::Slice,
        "alias of hash",
    ),
    f(
        "hourofday",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "hourofday",
        C::Refs,
        "hour of a datetime (0-23)",
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
        &[A::String, A::String, A::Integer, A::Integer, A::Integer],
        2,
        fixed(T::Long),
        "indexof_range",
        C::Slice,
        "position of the first occurrence of a substring, or -1",
    ),
    regex_at(
        f(
            "indexof_regex",
            &[A::String, A::String, A::Integer, A::Integer, A::Integer],
            2,
            fixed(T::Long),
            "indexof_regex",
            C::Slice,
            "position of the first match of a regex, or -1",
        ),
        &[1],
    ),
    f(
        "ipv4_compare",
        &[A::String, A::String, A::Integer],
        2,
        fixed(T::Long),
        "ipv4_compare",
        C::Slice,
        "compares two IPv4 addresses (-1, 0, 1)",
    ),
    f(
        "ipv4_is_in_any_range",
        &[A::String, A::Any],
        2,
        fixed(T::Bool),
        "ipv4_is_in_any_range",
        C::Slice,
        "whether an IPv4 address is in any of the ranges",
    )
    .variadic_fn(),
    f(
        "ipv4_is_in_range",
        &[A::String, A::String],
        2,
        fixed(T::Bool),
        "ipv4_is_in_range",
        C::Refs,
        "whether an IPv4 address is in a range",
    ),
    f(
        "ipv4_is_match",
        &[A::String, A::String, A::Integer],
        2,
        fixed(T::Bool),
        "ipv4_is_match",
        C::Slice,
        "whether two IPv4 addresses match under their prefixes",
    ),
    f(
        "ipv4_is_private",
        &[A::String],
        1,
        fixed(T::Bool),
        "ipv4_is_private",
        C::Refs,
        "whether an IPv4 address is private (RFC 1918)",
    ),
    f(
        "ipv4_netmask_suffix",
        &[A::String],
        1,
        fixed(T::Int),
        "ipv4_netmask_suffix",
        C::Refs,
        "prefix length of an IPv4 address",
    ),
    f(
        "ipv4_range_to_cidr_list",
        &[A::String, A::String],
        2,
        fixed(T::Dynamic),
        "ipv4_range_to_cidr_list",
        C::Refs,
        "the CIDR blocks that cover a range of IPv4 addresses",
    ),
    f(
        "ipv6_compare",
        &[A::String, A::String, A::Integer],
        2,
        fixed(T::Long),
        "ipv6_compare",
        C::Slice,
        "compares two IPv6/IPv4 addresses (-1, 0, 1)",
    ),
    f(
        "ipv6_is_in_any_range",
        &[A::String, A::Any],
        2,
        fixed(T::Bool),
        "ipv6_is_in_any_range",
        C::Slice,
        "whether an IPv6/IPv4 address is in any of the ranges",
    )
    .variadic_fn(),
    f(
        "ipv6_is_in_range",
        &[A::String, A::String],
        2,
        fixed(T::Bool),
        "ipv6_is_in_range",
        C::Refs,
        "whether an IPv6/IPv4 address is in a range",
    ),
    f(
        "ipv6_is_match",
        &[A::String, A::String, A::Integer],
        2,
        fixed(T::Bool),
        "ipv6_is_match",
        C::Slice,
        "whether two IPv6/IPv4 addresses match under their prefixes",
    ),
    f(
        "isascii",
        &[A::String],
        1,
        fixed(T::Bool),
        "isascii",
        C::Refs,
        "whether every character is ASCII",
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
        "isfinite",
        &[A::Number],
        1,
        fixed(T::Bool),
        "isfinite",
        C::Refs,
        "true unless NaN or infinite",
    ),
    f(
        "isinf",
        &[A::Number],
        1,
        fixed(T::Bool),
        "isinf",
        C::Refs,
        "true for an infinite real",
    ),
    f(
        "isnan",
        &[A::Number],
        1,
        fixed(T::Bool),
        "isnan",
        C::Refs,
        "true for NaN",
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
        "jaccard_index",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Real),
        "jaccard_index",
        C::Refs,
        "Jaccard index of two arrays taken as sets",
    ),
    f(
        "log",
        &[A::Number],
        1,
        fixed(T::Real),
        "log",
        C::Refs,
        "natural logarithm",
    ),
    f(
        "log10",
        &[A::Number],
        1,
        fixed(T::Real),
        "log10",
        C::Refs,
        "base-10 logarithm",
    ),
    f(
        "log2",
        &[A::Number],
        1,
        fixed(T::Real),
        "log2",
        C::Refs,
        "base-2 logarithm",
    ),
    f(
        "loggamma",
        &[A::Number],
        1,
        fixed(T::Real),
        "loggamma",
        C::Refs,
        "natural logarithm of the absolute gamma function",
    ),
    f(
        "make_datetime",
        &[
            A::Integer,
            A::Integer,
            A::Integer,
            A::Integer,
            A::Integer,
            A::Number,
        ],
        3,
        fixed(T::DateTime),
        "make_datetime",
        C::Slice,
        "a datetime from its parts",
    ),
    f(
        "make_string",
        &[A::Dynamic],
        1,
        fixed(T::String),
        "unicode_codepoints_to_string",
        C::Refs,
        "deprecated alias of unicode_codepoints_to_string",
    ),
    f(
        "make_timespan",
        &[A::Number, A::Number, A::Number, A::Number],
        2,
        fixed(T::TimeSpan),
        "make_timespan",
        C::Slice,
        "a timespan from its parts",
    ),
    f(
        "max_of",
        &[A::Any, A::Any],
        2,
        Returns::ArgType(0),
        "max_of",
        C::Slice,
        "the greatest argument that is not null",
    )
    .variadic_fn(),
    f(
        "min_of",
        &[A::Any, A::Any],
        2,
        Returns::ArgType(0),
        "min_of",
        C::Slice,
        "the least argument that is not null",
    )
    .variadic_fn(),
    f(
        "monthofyear",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "getmonth",
        C::Refs,
        "month of a datetime (1-12)",
    ),
    f(
        "new_guid",
        &[],
        0,
        fixed(T::Guid),
        "new_guid",
        C::Refs,
        "a random version-4 GUID (different at every call)",
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
        &[A::TimeSpan],
        0,
        fixed(T::DateTime),
        "now",
        C::Context,
        "the time of the run (or --now), plus an optional offset",
    ),
    f(
        "pack",
        &[A::Any],
        0,
        fixed(T::Dynamic),
        "pack",
        C::Slice,
        "deprecated alias of bag_pack",
    )
    .variadic_fn(),
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
        "parse_command_line",
        &[A::String, A::String],
        2,
        fixed(T::Dynamic),
        "parse_command_line",
        C::Refs,
        "the arguments of a Windows command line",
    ),
    f(
        "parse_csv",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_csv",
        C::Refs,
        "the fields of a CSV record",
    ),
    f(
        "parse_ipv4",
        &[A::String],
        1,
        fixed(T::Long),
        "parse_ipv4",
        C::Refs,
        "an IPv4 address as a long",
    ),
    f(
        "parse_ipv4_mask",
        &[A::String, A::Integer],
        2,
        fixed(T::Long),
        "parse_ipv4_mask",
        C::Refs,
        "an IPv4 address masked by a prefix, as a long",
    ),
    f(
        "parse_ipv6",
        &[A::String],
        1,
        fixed(T::String),
        "parse_ipv6",
        C::Refs,
        "canonical text of an IPv6/IPv4 address",
    ),
    f(
        "parse_ipv6_mask",
        &[A::String, A::Integer],
        2,
        fixed(T::String),
        "parse_ipv6_mask",
        C::Refs,
        "canonical text of an IPv6/IPv4 address masked by a prefix",
    ),
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
        "parse_path",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_path",
        C::Refs,
        "the parts of a file path",
    ),
    f(
        "parse_url",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_url",
        C::Refs,
        "the parts of a URL",
    ),
    f(
        "parse_urlquery",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_urlquery",
        C::Refs,
        "the parameters of a URL query",
    ),
    f(
        "parse_xml",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_xml",
        C::Refs,
        "XML text as a dynamic value (attributes as @name, text as #text)",
    ),
    f(
        "parseurl",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_url",
        C::Refs,
        "deprecated alias of parse_url",
    ),
    f(
        "parseurlquery",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "parse_urlquery",
        C::Refs,
        "deprecated alias of parse_urlquery",
    ),
    f(
        "pi",
        &[],
        0,
        fixed(T::Real),
        "pi",
        C::Refs,
        "the constant pi",
    ),
    f(
        "pow",
        &[A::Number, A::Number],
        2,
        fixed(T::Real),
        "pow",
        C::Refs,
        "a number raised to a power",
    ),
    f(
        "punycode_from_string",
        &[A::String],
        1,
        fixed(T::String),
        "punycode_from_string",
        C::Refs,
        "a string encoded as Punycode (RFC 3492, without xn--)",
    ),
    f(
        "punycode_to_string",
        &[A::String],
        1,
        fixed(T::String),
        "punycode_to_string",
        C::Refs,
        "the string a Punycode text encodes",
    ),
    f(
        "radians",
        &[A::Number],
        1,
        fixed(T::Real),
        "radians",
        C::Refs,
        "degrees to radians",
    ),
    f(
        "rand",
        &[A::Integer],
        0,
        fixed(T::Real),
        "rand",
        C::Slice,
        "a random number (non-deterministic)",
    ),
    f(
        "range",
        &[A::Binnable, A::Binnable, A::Binnable],
        2,
        fixed(T::Dynamic),
        "range",
        C::Slice,
        "a dynamic array of equally spaced values",
    ),
    f(
        "regex_quote",
        &[A::String],
        1,
        fixed(T::String),
        "regex_quote",
        C::Refs,
        "escapes a string's regular-expression characters",
    ),
    f(
        "repeat",
        &[A::Any, A::Integer],
        2,
        fixed(T::Dynamic),
        "repeat",
        C::Refs,
        "a dynamic array of one value repeated",
    ),
    regex_at(
        f(
            "replace",
            &[A::String, A::String, A::String],
            3,
            fixed(T::String),
            "replace",
            C::Refs,
            "deprecated form of replace_regex (regex, rewrite, text)",
        ),
        &[0],
    ),
    regex_at(
        f(
            "replace_regex",
            &[A::String, A::String, A::String],
            3,
            fixed(T::String),
            "replace_regex",
            C::Refs,
            "replaces every match of a regex",
        ),
        &[1],
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
        "replace_strings",
        &[A::String, A::Dynamic, A::Dynamic],
        3,
        fixed(T::String),
        "replace_strings",
        C::Refs,
        "replaces occurrences of several substrings",
    ),
    f(
        "reverse",
        &[A::Any],
        1,
        fixed(T::String),
        "reverse",
        C::Refs,
        "the characters of a string in reverse order",
    ),
    f(
        "round",
        &[A::Number, A::Integer],
        1,
        Returns::ArgType(0),
        "round",
        C::Slice,
        "a number rounded to a precision",
    ),
    f(
        "series_abs",
        &[A::Dynamic],
        1,
        fixed(T::Dynamic),
        "series_abs",
        C::Refs,
        "element-wise absolute value of a series",
    ),
    f(
        "series_add",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_add",
        C::Refs,
        "element-wise sum of two series",
    ),
    f(
        "series_divide",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_divide",
        C::Refs,
        "element-wise quotient of two series (real)",
    ),
    f(
        "series_equals",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_equals",
        C::Refs,
        "element-wise == of two series",
    ),
    f(
        "series_fill_backward",
        &[A::Dynamic, A::Any],
        1,
        fixed(T::Dynamic),
        "series_fill_backward",
        C::Slice,
        "missing values of a series filled from the next value",
    ),
    f(
        "series_fill_const",
        &[A::Dynamic, A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_fill_const",
        C::Slice,
        "missing values of a series replaced by a constant",
    ),
    f(
        "series_fill_forward",
        &[A::Dynamic, A::Any],
        1,
        fixed(T::Dynamic),
        "series_fill_forward",
        C::Slice,
        "missing values of a series filled from the previous value",
    ),
    f(
        "series_fill_linear",
        &[A::Dynamic, A::Any, A::Bool, A::Any],
        1,
        fixed(T::Dynamic),
        "series_fill_linear",
        C::Slice,
        "missing values of a series interpolated linearly",
    ),
    f(
        "series_fir",
        &[A::Dynamic, A::Dynamic, A::Bool, A::Bool],
        2,
        fixed(T::Dynamic),
        "series_fir",
        C::Slice,
        "a finite impulse response filter applied to a series",
    ),
    f(
        "series_fit_line_dynamic",
        &[A::Dynamic],
        1,
        fixed(T::Dynamic),
        "series_fit_line_dynamic",
        C::Refs,
        "linear regression of a series, as a bag",
    ),
    f(
        "series_greater",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_greater",
        C::Refs,
        "element-wise > of two series",
    ),
    f(
        "series_greater_equals",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_greater_equals",
        C::Refs,
        "element-wise >= of two series",
    ),
    f(
        "series_iir",
        &[A::Dynamic, A::Dynamic, A::Dynamic],
        3,
        fixed(T::Dynamic),
        "series_iir",
        C::Refs,
        "an infinite impulse response filter applied to a series",
    ),
    f(
        "series_less",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_less",
        C::Refs,
        "element-wise < of two series",
    ),
    f(
        "series_less_equals",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_less_equals",
        C::Refs,
        "element-wise <= of two series",
    ),
    f(
        "series_multiply",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_multiply",
        C::Refs,
        "element-wise product of two series",
    ),
    f(
        "series_not_equals",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_not_equals",
        C::Refs,
        "element-wise != of two series",
    ),
    f(
        "series_outliers",
        &[A::Dynamic, A::String, A::Number, A::Number, A::Number],
        1,
        fixed(T::Dynamic),
        "series_outliers",
        C::Slice,
        "Tukey fence scores of a series' values",
    ),
    f(
        "series_pearson_correlation",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Real),
        "series_pearson_correlation",
        C::Refs,
        "Pearson correlation coefficient of two series",
    ),
    f(
        "series_stats_dynamic",
        &[A::Dynamic, A::Bool],
        1,
        fixed(T::Dynamic),
        "series_stats_dynamic",
        C::Slice,
        "min, max, avg, variance, stdev, sum, len of a series, as a bag",
    ),
    f(
        "series_subtract",
        &[A::Any, A::Any],
        2,
        fixed(T::Dynamic),
        "series_subtract",
        C::Refs,
        "element-wise difference of two series",
    ),
    f(
        "series_sum",
        &[A::Dynamic],
        1,
        fixed(T::Real),
        "series_sum",
        C::Refs,
        "the sum of the elements of a series",
    ),
    f(
        "set_difference",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "set_difference",
        C::Slice,
        "distinct elements of the first array not in the others",
    )
    .variadic_fn(),
    f(
        "set_has_element",
        &[A::Dynamic, A::Any],
        2,
        fixed(T::Bool),
        "set_has_element",
        C::Refs,
        "whether an array holds a value",
    ),
    f(
        "set_intersect",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "set_intersect",
        C::Slice,
        "distinct elements common to all arrays",
    )
    .variadic_fn(),
    f(
        "set_union",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "set_union",
        C::Slice,
        "distinct elements of all arrays",
    )
    .variadic_fn(),
    f(
        "sign",
        &[A::Number],
        1,
        Returns::ArgType(0),
        "sign",
        C::Refs,
        "-1, 0 or 1 by the sign of a number",
    ),
    f(
        "sin",
        &[A::Number],
        1,
        fixed(T::Real),
        "sin",
        C::Refs,
        "sine",
    ),
    f(
        "split",
        &[A::String, A::String, A::Integer],
        2,
        fixed(T::Dynamic),
        "split_args",
        C::Slice,
        "splits a string into a dynamic array (or picks one part)",
    ),
    f(
        "sqrt",
        &[A::Number],
        1,
        fixed(T::Real),
        "sqrt",
        C::Refs,
        "square root",
    ),
    f(
        "startofday",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "startofday_args",
        C::Slice,
        "midnight of the datetime's day",
    ),
    f(
        "startofmonth",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "startofmonth",
        C::Slice,
        "midnight of the first day of the month",
    ),
    f(
        "startofweek",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "startofweek",
        C::Slice,
        "midnight of the Sunday starting the week",
    ),
    f(
        "startofyear",
        &[A::DateTime, A::Integer],
        1,
        fixed(T::DateTime),
        "startofyear",
        C::Slice,
        "midnight of January 1st",
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
        "strcmp",
        &[A::String, A::String],
        2,
        fixed(T::Int),
        "strcmp",
        C::Refs,
        "compares two strings (-1, 0, 1)",
    ),
    f(
        "string_size",
        &[A::String],
        1,
        fixed(T::Long),
        "string_size",
        C::Refs,
        "size of a string in UTF-8 bytes",
    ),
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
        "strrep",
        &[A::Any, A::Integer, A::Any],
        2,
        fixed(T::String),
        "strrep",
        C::Slice,
        "a string repeated (at most 1024 times)",
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
        "tan",
        &[A::Number],
        1,
        fixed(T::Real),
        "tan",
        C::Refs,
        "tangent",
    ),
    f(
        "to_utf8",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "unicode_codepoints_from_string",
        C::Refs,
        "deprecated alias of unicode_codepoints_from_string",
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
        "toguid",
        &[A::Any],
        1,
        fixed(T::Guid),
        "toguid",
        C::Refs,
        "converts to guid",
    ),
    f(
        "tohex",
        &[A::Integer, A::Integer],
        1,
        fixed(T::String),
        "tohex",
        C::Slice,
        "hexadecimal text of an integer",
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
        "translate",
        &[A::String, A::String, A::String],
        3,
        fixed(T::String),
        "translate",
        C::Refs,
        "replaces characters by characters",
    ),
    regex_at(
        f(
            "trim",
            &[A::String, A::String],
            2,
            fixed(T::String),
            "trim",
            C::Refs,
            "removes leading and trailing matches of a regex",
        ),
        &[0],
    ),
    regex_at(
        f(
            "trim_end",
            &[A::String, A::String],
            2,
            fixed(T::String),
            "trim_end",
            C::Refs,
            "removes trailing matches of a regex",
        ),
        &[0],
    ),
    regex_at(
        f(
            "trim_start",
            &[A::String, A::String],
            2,
            fixed(T::String),
            "trim_start",
            C::Refs,
            "removes leading matches of a regex",
        ),
        &[0],
    ),
    f(
        "unicode_codepoints_from_string",
        &[A::String],
        1,
        fixed(T::Dynamic),
        "unicode_codepoints_from_string",
        C::Refs,
        "the code points of a string",
    ),
    f(
        "unicode_codepoints_to_string",
        &[A::Dynamic],
        1,
        fixed(T::String),
        "unicode_codepoints_to_string",
        C::Refs,
        "the string of an array of code points",
    ),
    f(
        "unixtime_microseconds_todatetime",
        &[A::Number],
        1,
        fixed(T::DateTime),
        "unixtime_microseconds_todatetime",
        C::Refs,
        "datetime from Unix microseconds",
    ),
    f(
        "unixtime_milliseconds_todatetime",
        &[A::Number],
        1,
        fixed(T::DateTime),
        "unixtime_milliseconds_todatetime",
        C::Refs,
        "datetime from Unix milliseconds",
    ),
    f(
        "unixtime_nanoseconds_todatetime",
        &[A::Number],
        1,
        fixed(T::DateTime),
        "unixtime_nanoseconds_todatetime",
        C::Refs,
        "datetime from Unix nanoseconds",
    ),
    f(
        "unixtime_seconds_todatetime",
        &[A::Number],
        1,
        fixed(T::DateTime),
        "unixtime_seconds_todatetime",
        C::Refs,
        "datetime from Unix seconds",
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
    f(
        "week_of_year",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "week_of_year",
        C::Refs,
        "ISO 8601 week number",
    ),
    f(
        "weekofyear",
        &[A::DateTime],
        1,
        fixed(T::Int),
        "week_of_year",
        C::Refs,
        "deprecated alias of week_of_year",
    ),
    f(
        "zip",
        &[A::Dynamic, A::Dynamic],
        2,
        fixed(T::Dynamic),
        "zip",
        C::Slice,
        "arrays of the elements at each position of several arrays",
    )
    .variadic_fn(),
    f(
        "zlib_compress_to_base64_string",
        &[A::String],
        1,
        fixed(T::String),
        "zlib_compress_to_base64_string",
        C::Refs,
        "zlib stream of a string's UTF-8 bytes, as base64",
    ),
    f(
        "zlib_decompress_from_base64_string",
        &[A::String],
        1,
        fixed(T::String),
        "zlib_decompress_from_base64_string",
        C::Refs,
        "the text of base64 zlib data (\"\" when invalid)",
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

/// The Rust source of `generated/src/catalog.rs`: one typed reference per
/// runtime function of [`FUNCTIONS`], with the signature its calling
/// convention gives it. Compiling that file checks, when the workspace
/// builds, that every entry names a function of `kql_runtime::functions`
/// that takes what the planner passes; `tests/generated.rs` keeps the file
/// equal to this text.
pub fn catalog() -> String {
    let mut out = String::from(
        "// @generated by kqlc from the function table (kqlc/src/sema/functions.rs).\n\
         // Regenerate: KQLC_BLESS=1 cargo test -p kqlc-cli --test generated\n\
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
/// row-at-a-time detector does not have: the row itself (`pack_all`,
/// `bag_pack_columns`), neighbouring rows (`prev`, `next`, `row_number`,
/// `row_cumsum`), a cluster
/// (`current_database`, `cursor_after`, `ingestion_time`, `extent_id`), a
/// decimal type (`todecimal`, `parse_version`), or data kqlc does not ship
/// (`geo_info_from_ip_address`, `parse_user_agent`). The rest (some series
/// and geospatial functions, t-digest, special mathematical functions) are
/// not implemented yet; see `docs/functions.md`.
pub const KNOWN_UNSUPPORTED: &[&str] = &[
    "around",
    "assert",
    "beta_cdf",
    "beta_inv",
    "beta_pdf",
    "bin_auto",
    "current_cluster_endpoint",
    "current_database",
    "current_principal",
    "current_principal_details",
    "current_principal_is_member_of",
    "cursor_after",
    "cursor_before_or_at",
    "cursor_current",
    "dcount_hll",
    "estimate_data_size",
    "extent_id",
    "extent_tags",
    "geo_distance_point_to_line",
    "geo_distance_point_to_polygon",
    "geo_info_from_ip_address",
    "geo_point_in_polygon",
    "geo_point_to_h3cell",
    "geo_point_to_s2cell",
    "hash_combine",
    "hash_many",
    "hll_merge",
    "ingestion_time",
    "merge_tdigest",
    "next",
    "parse_user_agent",
    "parse_version",
    "percentile_array_tdigest",
    "percentile_tdigest",
    "percentrank_tdigest",
    "rank_tdigest",
    "row_rank_dense",
    "row_rank_min",
    "row_window_session",
    "series_decompose",
    "series_decompose_anomalies",
    "series_decompose_forecast",
    "series_fit_2lines",
    "series_fit_2lines_dynamic",
    "series_periods_detect",
    "series_periods_validate",
    "series_seasonal",
    "todecimal",
    "treepath",
    "welch_test",
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
