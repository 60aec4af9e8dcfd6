//! KQL operators: comparison, logic, arithmetic, member access, string and
//! list operators, each with KQL's rules for null.
//!
//! Null rules (`scalar-data-types/null-values.md`, the reference's dedicated
//! page, dated 2023-11):
//!
//! - Binary operators are "sticky": null in, null out ...
//! - ... except `==` and `!=`: null against a non-null value gives `false`
//!   (`==`) or `true` (`!=`); null against null gives null;
//! - `and`: a `false` operand makes `false`; `or`: a `true` operand makes
//!   `true`; otherwise a null operand makes null; `not(null)` is null;
//! - `where` keeps a row only when its predicate is `true` ([`is_true`]).
//!
//! The older `logical-operators.md` table (`bool(null) and true` → `false`)
//! disagrees with `null-values.md`; we follow `null-values.md`. Under `where`
//! and `iff` both read the same.
//!
//! String operators take the `tostring` of both operands (a null becomes
//! `""`), so they never return null.

use std::borrow::Cow;
use std::cmp::Ordering;

use memchr::memmem;

use crate::decimal::Decimal;
use crate::functions::regex::cached_regex;
use crate::text::{datetime_checked, parse_datetime, parse_timespan, to_text};
use crate::value::{Row, Str, TimeSpan, Value};

mod typed;
pub use typed::*;

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

/// Parses text as a number for comparing with a number: an integer when it
/// is one, else a real.
enum ParsedNumber {
    Int(i64),
    Real(f64),
}

fn parse_number(s: &str) -> Option<ParsedNumber> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(ParsedNumber::Int(n));
    }
    s.parse::<f64>().ok().map(ParsedNumber::Real)
}

fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        _ => None,
    }
}

fn as_real(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(f64::from(*n)),
        Value::Long(n) => Some(*n as f64),
        Value::Real(x) => Some(*x),
        Value::Decimal(d) => Some(d.to_f64()),
        _ => None,
    }
}

/// A number as a decimal: integers exactly, reals from their shortest text
/// (`None` for NaN, infinities and reals beyond 38 integer digits).
fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(n) => Some(Decimal::from_i64(i64::from(*n))),
        Value::Long(n) => Some(Decimal::from_i64(*n)),
        Value::Real(x) => Decimal::from_f64(*x),
        Value::Decimal(d) => Some(*d),
        _ => None,
    }
}

/// Orders two numbers (int, long, real, decimal in any mix); `None` for
/// NaN. A decimal is compared exactly with an integer or a real (the real
/// read as the decimal of its shortest text); a real a decimal cannot hold
/// (an infinity, or beyond 38 digits) is compared as a real.
pub(crate) fn compare_numbers(a: &Value, b: &Value) -> Option<Ordering> {
    if matches!(a, Value::Decimal(_)) || matches!(b, Value::Decimal(_)) {
        if let (Some(x), Some(y)) = (as_decimal(a), as_decimal(b)) {
            return Some(x.cmp(&y));
        }
    }
    match (as_integer(a), as_integer(b)) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => as_real(a)?.partial_cmp(&as_real(b)?),
    }
}

/// Orders a number against text that holds a number (a decimal against
/// the text read as a decimal, exactly).
fn compare_number_text(n: &Value, s: &str) -> Option<Ordering> {
    if let Value::Decimal(d) = n {
        return Some(d.cmp(&Decimal::parse(s)?));
    }
    match parse_number(s)? {
        ParsedNumber::Int(m) => compare_numbers(n, &Value::Long(m)),
        ParsedNumber::Real(x) => compare_numbers(n, &Value::Real(x)),
    }
}

fn is_number(v: &Value) -> bool {
    matches!(
        v,
        Value::Int(_) | Value::Long(_) | Value::Real(_) | Value::Decimal(_)
    )
}

/// Equality of a non-string value with a string (`dynamic` holding a number
/// or bool compared with a string literal, and the like).
fn equals_text(other: &Value, s: &str) -> bool {
    match other {
        Value::Null => s.is_empty(),
        v if is_number(v) => compare_number_text(v, s) == Some(Ordering::Equal),
        Value::DateTime(d) => parse_datetime(s) == Some(*d),
        Value::TimeSpan(t) => parse_timespan(s) == Some(*t),
        Value::Guid(g) => g.eq_ignore_ascii_case(s.trim()),
        other => to_text(other) == s,
    }
}

/// Structural equality for elements of arrays and bags: null equals null,
/// numbers compare by value across int/long/real, other values only equal
/// values of their own type. Bags compare as sets of slots (order does not
/// matter: KQL bags are unordered).
fn structurally_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|(p, q)| structurally_equal(p, q))
        }
        (Value::Bag(x), Value::Bag(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, p)| y.get(k).is_some_and(|q| structurally_equal(p, q)))
        }
        (Value::Guid(x), Value::Guid(y)) => x.eq_ignore_ascii_case(y),
        _ if is_number(a) && is_number(b) => compare_numbers(a, b) == Some(Ordering::Equal),
        _ => a == b,
    }
}

/// `==` without the null-null case: `None` only when both sides are null.
fn equality(a: &Value, b: &Value) -> Option<bool> {
    Some(match (a, b) {
        (Value::Null, Value::Null) => return None,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::String(s), other) | (other, Value::String(s)) => equals_text(other, s),
        (Value::Null, _) | (_, Value::Null) => false,
        _ => structurally_equal(a, b),
    })
}

/// `==` (`equals-cs-operator.md`, `null-values.md`): `Bool`, case-sensitive
/// for strings.
///
/// - null == null → null; null == non-null → `false` (`null-values.md`).
/// - Numbers compare by value across int, long and real.
/// - datetime, timespan, bool, guid (case-insensitively) with their own type.
/// - Arrays and bags compare by structure (bags as unordered slots).
/// - Choices where the reference is silent (mixed types, which arise when a
///   `dynamic` value meets a literal):
///   - a string against a number: equal when the string, trimmed, parses as
///     a number with the same value (`dynamic("101") == 101`); otherwise not;
///   - a string against a bool, array or bag: the `tostring` of the other
///     side compared with the string (`dynamic(true) == "true"`);
///   - a string against a datetime/timespan/guid: the string parsed as that
///     type (`todatetime`/`totimespan` forms; guid text case-insensitively);
///   - a string against null: null reads as `""` (KQL strings have no null;
///     `tostring(null)` is `""`), so `dynamic(null) == ""` is `true`;
///   - any other mix of types: `false`.
pub fn eq(a: &Value, b: &Value) -> Value {
    equality(a, b).map_or(Value::Null, Value::Bool)
}

/// `!=`: the negation of [`eq`]; null != null → null, null != non-null →
/// `true` (`null-values.md`).
pub fn ne(a: &Value, b: &Value) -> Value {
    equality(a, b).map_or(Value::Null, |x| Value::Bool(!x))
}

/// Orders two values for `<`, `<=`, `>`, `>=`; `None` → null result.
///
/// Numbers across int/long/real; strings ordinally (by code point); datetime,
/// timespan, bool (`false < true`), guid text with their own type; a string
/// against a number, datetime or timespan is parsed as that type (as in
/// [`eq`]). Null, NaN and any other mix (arrays, bags) → `None`.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Null, _) | (_, Value::Null) => None,
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        (Value::DateTime(x), Value::DateTime(y)) => Some(x.cmp(y)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Guid(x), Value::Guid(y)) => {
            Some(x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()))
        }
        (Value::String(s), other) => compare_with_text(other, s).map(Ordering::reverse),
        (other, Value::String(s)) => compare_with_text(other, s),
        _ if is_number(a) && is_number(b) => compare_numbers(a, b),
        _ => None,
    }
}

/// Orders a non-string value against text parsed as the value's type.
fn compare_with_text(v: &Value, s: &str) -> Option<Ordering> {
    match v {
        Value::DateTime(d) => Some(d.cmp(&parse_datetime(s)?)),
        Value::TimeSpan(t) => Some(t.cmp(&parse_timespan(s)?)),
        v if is_number(v) => compare_number_text(v, s),
        _ => None,
    }
}

fn ordered(a: &Value, b: &Value, accept: fn(Ordering) -> bool) -> Value {
    compare(a, b).map_or(Value::Null, |o| Value::Bool(accept(o)))
}

/// `<` (`numerical-operators.md`): `Bool`, or null when either side is null
/// (`null-values.md`: binary operators are sticky) or the two cannot be
/// ordered. Ordered pairs: numbers across int/long/real (NaN → null),
/// strings ordinally by code point, datetime, timespan, bool
/// (`false < true`) and guid with their own type, and a string against a
/// number, datetime or timespan parsed as that type (as in [`eq`]).
/// Arrays, bags and other mixes → null.
pub fn lt(a: &Value, b: &Value) -> Value {
    ordered(a, b, |o| o == Ordering::Less)
}

/// `<=`; see [`lt`].
pub fn le(a: &Value, b: &Value) -> Value {
    ordered(a, b, |o| o != Ordering::Greater)
}

/// `>`; see [`lt`].
pub fn gt(a: &Value, b: &Value) -> Value {
    ordered(a, b, |o| o == Ordering::Greater)
}

/// `>=`; see [`lt`].
pub fn ge(a: &Value, b: &Value) -> Value {
    ordered(a, b, |o| o != Ordering::Less)
}

/// Case-insensitive equality of two texts: ASCII fast path, else Unicode
/// lowercase of both.
fn text_eq_ci(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

/// `=~` (`equals-operator.md`): case-insensitive equality of the `tostring`
/// of both sides (null → `""`, so `dynamic(null) =~ ""` is `true`). Never
/// null. Case folding is Unicode lowercasing (`str::to_lowercase`).
pub fn eq_ci(a: &Value, b: &Value) -> Value {
    Value::Bool(text_eq_ci(&to_text(a), &to_text(b)))
}

/// `!~`: the negation of [`eq_ci`].
pub fn ne_ci(a: &Value, b: &Value) -> Value {
    Value::Bool(!text_eq_ci(&to_text(a), &to_text(b)))
}

// ---------------------------------------------------------------------------
// Logic
// ---------------------------------------------------------------------------

/// A value as a KQL bool: `Bool` (also when held by a `dynamic`); anything
/// else, null included, is "unknown".
fn as_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

/// `and` (`null-values.md`): `false` if either side is `false`; `true` if both
/// are `true`; otherwise null. Non-bool operands count as null.
pub fn and(a: &Value, b: &Value) -> Value {
    match (as_bool(a), as_bool(b)) {
        (Some(false), _) | (_, Some(false)) => Value::Bool(false),
        (Some(true), Some(true)) => Value::Bool(true),
        _ => Value::Null,
    }
}

/// `or` (`null-values.md`): `true` if either side is `true`; `false` if both
/// are `false`; otherwise null. Non-bool operands count as null.
pub fn or(a: &Value, b: &Value) -> Value {
    match (as_bool(a), as_bool(b)) {
        (Some(true), _) | (_, Some(true)) => Value::Bool(true),
        (Some(false), Some(false)) => Value::Bool(false),
        _ => Value::Null,
    }
}

/// `not()` (`not-function.md`, `null-values.md`): negates a bool; null (and
/// any non-bool) → null.
pub fn not(a: &Value) -> Value {
    as_bool(a).map_or(Value::Null, |b| Value::Bool(!b))
}

/// True only for `Bool(true)`: what `where` keeps (`null-values.md`: null
/// counts as `false`).
pub fn is_true(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

/// True only for `Bool(false)`: whether `where not(v)` keeps a row, exactly
/// `is_true(&not(v))` (the `not` of null or of a non-bool is null).
pub fn is_false(v: &Value) -> bool {
    matches!(v, Value::Bool(false))
}

// ---------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------

fn datetime_value(ticks: Option<i64>) -> Value {
    ticks
        .and_then(datetime_checked)
        .map_or(Value::Null, Value::DateTime)
}

fn timespan_value(ticks: Option<i64>) -> Value {
    ticks.map_or(Value::Null, |t| Value::TimeSpan(TimeSpan(t)))
}

/// A tick count computed in floating point, rounded to the nearest tick;
/// `None` when not finite or beyond the tick range.
fn ticks_from_real(x: f64) -> Option<i64> {
    crate::functions::checked_long(x.round())
}

/// Integer, real and decimal arithmetic shared by the operators: integers
/// (int or long in any mix) give long, computed with `int_op`; a decimal
/// with any number gives decimal, computed with `decimal_op` (as Microsoft's
/// parser types it: decimal is the widest number type, wider than real; a
/// real that no decimal holds gives null); otherwise any real gives real,
/// computed with `real_op`. `None` when an operand is not a number.
fn numeric(
    a: &Value,
    b: &Value,
    int_op: fn(i64, i64) -> Option<i64>,
    real_op: fn(f64, f64) -> f64,
    decimal_op: fn(Decimal, Decimal) -> Option<Decimal>,
) -> Option<Value> {
    if let (Some(x), Some(y)) = (as_integer(a), as_integer(b)) {
        return Some(int_op(x, y).map_or(Value::Null, Value::Long));
    }
    if matches!(a, Value::Decimal(_)) || matches!(b, Value::Decimal(_)) {
        if !is_number(a) || !is_number(b) {
            return None;
        }
        let result = as_decimal(a)
            .zip(as_decimal(b))
            .and_then(|(x, y)| decimal_op(x, y));
        return Some(result.map_or(Value::Null, Value::Decimal));
    }
    Some(Value::Real(real_op(as_real(a)?, as_real(b)?)))
}

/// `+` (`numerical-operators.md`, `datetime-timespan-arithmetic.md`):
///
/// - numbers: int/long in any mix → long; any real → real
///   (`numerical-operators.md`: "If both operands are of integer types (int
///   or long), the result will be of type long"); integer overflow wraps
///   (the reference is silent; .NET's unchecked arithmetic, which Kusto uses,
///   wraps);
/// - datetime + timespan (either order) → datetime; timespan + timespan →
///   timespan. A datetime outside years 1–9999, or a timespan beyond the
///   tick range, → null (the reference is silent);
/// - null, or any other mix (strings included) → null.
pub fn add(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::DateTime(d), Value::TimeSpan(t)) | (Value::TimeSpan(t), Value::DateTime(d)) => {
            datetime_value(d.0.checked_add(t.0))
        }
        (Value::TimeSpan(x), Value::TimeSpan(y)) => timespan_value(x.0.checked_add(y.0)),
        _ => numeric(
            a,
            b,
            |x, y| Some(x.wrapping_add(y)),
            |x, y| x + y,
            Decimal::checked_add,
        )
        .unwrap_or(Value::Null),
    }
}

/// `-`: numbers as in [`add`]; datetime − datetime → timespan; datetime −
/// timespan → datetime; timespan − timespan → timespan (out of range → null);
/// null or any other mix → null.
pub fn sub(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::DateTime(x), Value::DateTime(y)) => timespan_value(x.0.checked_sub(y.0)),
        (Value::DateTime(d), Value::TimeSpan(t)) => datetime_value(d.0.checked_sub(t.0)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => timespan_value(x.0.checked_sub(y.0)),
        _ => numeric(
            a,
            b,
            |x, y| Some(x.wrapping_sub(y)),
            |x, y| x - y,
            Decimal::checked_sub,
        )
        .unwrap_or(Value::Null),
    }
}

/// `*`: numbers as in [`add`]; timespan × number (either order) → timespan
/// (`1.5 * 1h`; a real factor rounds to the nearest tick; beyond the tick
/// range → null); null or any other mix → null.
pub fn mul(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::TimeSpan(t), n) | (n, Value::TimeSpan(t)) if is_number(n) => match as_integer(n) {
            Some(k) => timespan_value(t.0.checked_mul(k)),
            None => timespan_value(as_real(n).and_then(|x| ticks_from_real(t.0 as f64 * x))),
        },
        _ => numeric(
            a,
            b,
            |x, y| Some(x.wrapping_mul(y)),
            |x, y| x * y,
            Decimal::checked_mul,
        )
        .unwrap_or(Value::Null),
    }
}

/// `/`:
///
/// - integers → long, truncated toward zero (`1 / 2` is `0`); division by
///   zero → null; `long.min / -1` wraps;
/// - any real → real per IEEE (`1.0 / 0` is +inf, `0.0 / 0` is NaN:
///   `scalar-data-types/real.md`);
/// - timespan / timespan → real (`1d / 5h` is 4.8; a zero divisor gives
///   ±inf or NaN as for reals);
/// - timespan / number → timespan (integer 0 → null; a real divisor rounds
///   to the nearest tick, non-finite → null);
/// - null or any other mix → null.
pub fn div(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::TimeSpan(x), Value::TimeSpan(y)) => Value::Real(x.0 as f64 / y.0 as f64),
        (Value::TimeSpan(t), n) if is_number(n) => match as_integer(n) {
            Some(0) => Value::Null,
            Some(k) => timespan_value(Some(t.0.wrapping_div(k))),
            None => timespan_value(as_real(n).and_then(|x| ticks_from_real(t.0 as f64 / x))),
        },
        _ => numeric(
            a,
            b,
            |x, y| (y != 0).then(|| x.wrapping_div(y)),
            |x, y| x / y,
            Decimal::checked_div,
        )
        .unwrap_or(Value::Null),
    }
}

/// `%` (`numerical-operators.md`: "The modulo of two numbers always returns
/// in Kusto a 'small non-negative number'", `0 ≤ N % D < abs(D)`, so
/// `-14 % 12` is 10 and `14 % -12` is 2):
///
/// - integers → long, Euclidean remainder; modulo zero → null;
/// - any real → real, Euclidean remainder (`x % 0.0` is NaN);
/// - timespan % timespan → timespan, Euclidean; zero → null (the reference
///   is silent on timespans);
/// - null or any other mix → null.
pub fn rem(a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::TimeSpan(x), Value::TimeSpan(y)) => {
            timespan_value((y.0 != 0).then(|| x.0.wrapping_rem_euclid(y.0)))
        }
        _ => numeric(
            a,
            b,
            |x, y| (y != 0).then(|| x.wrapping_rem_euclid(y)),
            f64::rem_euclid,
            Decimal::checked_rem_euclid,
        )
        .unwrap_or(Value::Null),
    }
}

/// Unary `-`: int → int and long → long (wrapping at the minimum), real →
/// real, timespan → timespan (the minimum → null); null and anything else →
/// null.
pub fn neg(a: &Value) -> Value {
    match a {
        Value::Int(n) => Value::Int(n.wrapping_neg()),
        Value::Long(n) => Value::Long(n.wrapping_neg()),
        Value::Real(x) => Value::Real(-x),
        Value::Decimal(d) => Value::Decimal(-*d),
        Value::TimeSpan(t) => timespan_value(t.0.checked_neg()),
        _ => Value::Null,
    }
}

// ---------------------------------------------------------------------------
// Member access
// ---------------------------------------------------------------------------

/// [`member`] without a copy: the property itself, or a null.
pub fn member_ref<'a>(v: &'a Value, name: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    match v {
        Value::Bag(bag) => bag.get(name).unwrap_or(&NULL),
        _ => &NULL,
    }
}

/// `a == "text"` where a predicate needs only whether it is true: exactly
/// `is_true(&eq(a, &Value::String("text")))`, without making a `Value`.
pub fn eq_text(a: &(impl TextOperand + ?Sized), text: &str) -> bool {
    match a.as_value_or_text() {
        Ok(Value::String(s)) => s.as_str() == text,
        Ok(other) => equals_text(other, text),
        Err(s) => s == text,
    }
}

/// The left side of the `*_text` predicates: a [`Value`], or the string of
/// a typed row field (`Str`), which is exactly `Value::String` of it, read
/// without making a `Value`.
pub trait TextOperand {
    /// The value, or the text when the operand is a string known as such.
    fn as_value_or_text(&self) -> Result<&Value, &str>;
}

impl TextOperand for Value {
    fn as_value_or_text(&self) -> Result<&Value, &str> {
        Ok(self)
    }
}

impl TextOperand for Str {
    fn as_value_or_text(&self) -> Result<&Value, &str> {
        Err(self.as_str())
    }
}

/// `a != "text"` where a predicate needs only whether it is true: exactly
/// `is_true(&ne(a, &Value::String("text")))`.
pub fn ne_text(a: &(impl TextOperand + ?Sized), text: &str) -> bool {
    !eq_text(a, text)
}

/// `v.name` (`scalar-data-types/dynamic.md`, "Dynamic object accessors"): the
/// property `name` of a property bag (case-sensitive); null when `v` is not a
/// bag or has no such property.
pub fn member(v: &Value, name: &str) -> Value {
    match v {
        Value::Bag(bag) => bag.get(name).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// `v[i]` (`scalar-data-types/dynamic.md`): a string key of a property bag;
/// an integer (int or long) index of an array, negative counting from the
/// end (`arr[-1]` is the last element). Out of range, a key not present, or
/// any other combination → null.
///
/// The reference also allows a bool subscript on arrays; it is not supported
/// here (null).
pub fn index(v: &Value, i: &Value) -> Value {
    match (v, i) {
        (Value::Bag(bag), Value::String(key)) => bag.get(key).cloned().unwrap_or(Value::Null),
        (Value::Array(items), i) => {
            let Some(k) = as_integer(i) else {
                return Value::Null;
            };
            let len = items.len() as i64;
            let k = if k < 0 { k + len } else { k };
            usize::try_from(k)
                .ok()
                .and_then(|k| items.get(k))
                .cloned()
                .unwrap_or(Value::Null)
        }
        _ => Value::Null,
    }
}

// ---------------------------------------------------------------------------
// String operators
// ---------------------------------------------------------------------------

/// How a needle must sit among the haystack's terms.
#[derive(Clone, Copy, PartialEq)]
enum TermMatch {
    /// Anywhere (`contains`).
    Anywhere,
    /// Starting and ending at term boundaries (`has`).
    Whole,
    /// Starting at a term boundary (`hasprefix`).
    Prefix,
    /// Ending at a term boundary (`hassuffix`).
    Suffix,
}

/// Characters that make up terms: ASCII letters and digits
/// (`datatypes-string-operators.md`, "What is a term?").
fn is_term_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// True when `needle` occurs in `hay` at `pos` in a way `mode` accepts. A
/// boundary is required only where the needle's own edge is a term
/// character: `"a-b" has "-b"` matches, since its `-` already separates.
fn sits_well(hay: &[u8], needle: &[u8], pos: usize, mode: TermMatch) -> bool {
    let end = pos + needle.len();
    let start_ok = match needle.first() {
        Some(&first) if is_term_byte(first) => pos == 0 || !is_term_byte(hay[pos - 1]),
        _ => true,
    };
    let end_ok = match needle.last() {
        Some(&last) if is_term_byte(last) => end == hay.len() || !is_term_byte(hay[end]),
        _ => true,
    };
    match mode {
        TermMatch::Anywhere => true,
        TermMatch::Whole => start_ok && end_ok,
        TermMatch::Prefix => start_ok,
        TermMatch::Suffix => end_ok,
    }
}

/// Byte offset of the first ASCII-case-insensitive occurrence of `needle` in
/// `hay` at or after `from`.
fn find_ascii_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let Some(&first) = needle.first() else {
        return (from <= hay.len()).then_some(from);
    };
    let (lo, up) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    let last_start = hay.len().checked_sub(needle.len())?;
    let mut at = from;
    while at <= last_start {
        let window = &hay[at..=last_start];
        let found = at + memchr::memchr2(lo, up, window)?;
        if hay[found..found + needle.len()].eq_ignore_ascii_case(needle) {
            return Some(found);
        }
        at = found + 1;
    }
    None
}

/// Searches `needle` in `hay` (both already case-folded if need be, or
/// ASCII-insensitive when `ascii_ci`) for an occurrence `mode` accepts.
fn search(hay: &[u8], needle: &[u8], mode: TermMatch, ascii_ci: bool) -> bool {
    let mut from = 0;
    loop {
        let found = if ascii_ci {
            find_ascii_ci(hay, needle, from)
        } else if needle.is_empty() {
            (from <= hay.len()).then_some(from)
        } else {
            hay.get(from..)
                .and_then(|rest| memmem::find(rest, needle))
                .map(|p| p + from)
        };
        let Some(pos) = found else {
            return false;
        };
        if sits_well(hay, needle, pos, mode) {
            return true;
        }
        from = pos + 1;
    }
}

/// Unicode lowercase, borrowing when nothing changes.
fn fold(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        }
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// The `contains`/`has` family on the `tostring` of both operands.
fn find_term(a: &Value, b: &Value, case_sensitive: bool, mode: TermMatch) -> Value {
    Value::Bool(find_text(&to_text(a), &to_text(b), case_sensitive, mode))
}

/// [`find_term`] on the texts: whether `needle` occurs in `hay` where
/// `mode` accepts it.
fn find_text(hay: &str, needle: &str, case_sensitive: bool, mode: TermMatch) -> bool {
    if case_sensitive {
        search(hay.as_bytes(), needle.as_bytes(), mode, false)
    } else if hay.is_ascii() && needle.is_ascii() {
        search(hay.as_bytes(), needle.as_bytes(), mode, true)
    } else {
        search(fold(hay).as_bytes(), fold(needle).as_bytes(), mode, false)
    }
}

/// `contains` / `contains_cs` (`contains-operator.md`): the right side occurs
/// in the left side. Operands are taken as their `tostring` (null → `""`), so
/// the result is never null; an empty needle is always found.
/// Case-insensitive matching is Unicode lowercasing of both sides
/// (ASCII-insensitive when both are ASCII).
pub fn contains(a: &Value, b: &Value, case_sensitive: bool) -> Value {
    find_term(a, b, case_sensitive, TermMatch::Anywhere)
}

/// `has` / `has_cs` (`has-operator.md`, `datatypes-string-operators.md`): the
/// right side is a whole term of the left side, where terms are maximal runs
/// of ASCII letters and digits. A needle spanning several terms
/// (`"a-b c" has "b c"`) matches when it starts and ends on term boundaries.
///
/// Choices where the reference is silent or index-specific: needles shorter
/// than 3 characters match whole terms like any other (there is no term
/// index here to make them scan differently); a needle's edge that is not a
/// term character needs no boundary there (`"a-b" has "-b"`); an empty
/// needle matches. Non-ASCII letters separate terms, as the reference's
/// "ASCII alphanumeric" says. Case folding as in [`contains`].
pub fn has(a: &Value, b: &Value, case_sensitive: bool) -> Value {
    find_term(a, b, case_sensitive, TermMatch::Whole)
}

/// `hasprefix` / `hasprefix_cs` (`hasprefix-operator.md`): the right side is
/// a prefix of a term of the left side (`"North America" hasprefix "ame"`).
/// Terms and choices as in [`has`].
pub fn hasprefix(a: &Value, b: &Value, case_sensitive: bool) -> Value {
    find_term(a, b, case_sensitive, TermMatch::Prefix)
}

/// `hassuffix` / `hassuffix_cs` (`hassuffix-operator.md`): the right side is
/// a suffix of a term of the left side (`"North America" hassuffix "ica"`).
/// Terms and choices as in [`has`].
pub fn hassuffix(a: &Value, b: &Value, case_sensitive: bool) -> Value {
    find_term(a, b, case_sensitive, TermMatch::Suffix)
}

/// `startswith` / `startswith_cs` (`startswith-operator.md`): the left side
/// begins with the right side. `tostring` of both operands, never null; case
/// folding as in [`contains`].
pub fn startswith(a: &Value, b: &Value, case_sensitive: bool) -> Value {
    Value::Bool(starts_with_text(&to_text(a), &to_text(b), case_sensitive))
}

/// [`startswith`] on the texts.
fn starts_with_text(hay: &str, needle: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        hay.starts_with(needle)
    } else if hay.is_ascii() && needle.is_ascii() {
        hay.len() >= needle.len()
            && hay.as_bytes()[..needle.len()].eq_ignore_ascii_case(needle.as_bytes())
    } else {
        fold(hay).starts_with(fold(needle).as_ref())
    }
}

/// `endswith` / `endswith_cs` (`endswith-operator.md`): the left side ends
/// with the right side. `tostring` of both operands, never null; case folding
/// as in [`contains`].
pub fn endswith(a: &Value, b: &Value, case_sensitive: bool) -> Value {
    Value::Bool(ends_with_text(&to_text(a), &to_text(b), case_sensitive))
}

/// [`endswith`] on the texts.
fn ends_with_text(hay: &str, needle: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        hay.ends_with(needle)
    } else if hay.is_ascii() && needle.is_ascii() {
        hay.len() >= needle.len()
            && hay.as_bytes()[hay.len() - needle.len()..].eq_ignore_ascii_case(needle.as_bytes())
    } else {
        fold(hay).ends_with(fold(needle).as_ref())
    }
}

/// Defines a string operator against a constant text, for predicates.
macro_rules! text_operators {
    ($($name:ident: $op:ident = $test:expr;)*) => {$(
        #[doc = concat!("`a ", stringify!($op), " \"text\"` (`case_sensitive`: its `_cs` form) where only whether it is true matters: exactly `is_true(&", stringify!($op), "(a, &Value::String(text), case_sensitive))`, never null, without making a `Value`; so its negation (`!", stringify!($op), "`) is `!` of it.")]
        pub fn $name(a: &(impl TextOperand + ?Sized), text: &str, case_sensitive: bool) -> bool {
            let test: fn(&str, &str, bool) -> bool = $test;
            match a.as_value_or_text() {
                Ok(a) => test(&to_text(a), text, case_sensitive),
                Err(a) => test(a, text, case_sensitive),
            }
        }
    )*};
}

text_operators! {
    contains_text: contains = |h, n, cs| find_text(h, n, cs, TermMatch::Anywhere);
    has_text: has = |h, n, cs| find_text(h, n, cs, TermMatch::Whole);
    hasprefix_text: hasprefix = |h, n, cs| find_text(h, n, cs, TermMatch::Prefix);
    hassuffix_text: hassuffix = |h, n, cs| find_text(h, n, cs, TermMatch::Suffix);
    startswith_text: startswith = starts_with_text;
    endswith_text: endswith = ends_with_text;
}

/// `matches regex` (`matches-regex-operator.md`): the left side (its
/// `tostring`) contains a match of the pattern (RE2 syntax, the `regex`
/// crate; compiled patterns are cached per thread). An invalid pattern → null
/// (the compiler rejects invalid constant patterns before run time). This
/// form takes a constant pattern, compiled once (`ConstRegex`).
pub fn matches_regex_with(a: &Value, pattern: &crate::functions::regex::ConstRegex) -> Value {
    match pattern.get() {
        Some(re) => Value::Bool(re.is_match(&to_text(a))),
        None => Value::Null,
    }
}

/// [`matches_regex_with`]'s general form, the pattern any value.
pub fn matches_regex(a: &Value, pattern: &Value) -> Value {
    match cached_regex(&to_text(pattern)) {
        Some(re) => Value::Bool(re.is_match(&to_text(a))),
        None => Value::Null,
    }
}

// ---------------------------------------------------------------------------
// List operators
// ---------------------------------------------------------------------------

/// The items of an operator's list, with `dynamic` arrays contributing their
/// elements (`in-operator.md`: "`in~ (dynamic([...]))`").
fn flatten(items: &[Value]) -> impl Iterator<Item = &Value> {
    items.iter().flat_map(|item| match item {
        Value::Array(elements) => elements.as_slice(),
        other => std::slice::from_ref(other),
    })
}

/// `in` / `in~` (`in-cs-operator.md`, `in-operator.md`): whether `a` equals
/// one of `items`; an item that is a `dynamic` array contributes its
/// elements.
///
/// Case-sensitive `in` is the logical `or` of [`eq`] over the items
/// (`null-values.md`: "The in operator behaves like a logical OR of equality
/// comparisons"), so it is `Bool` except in the corner where `a` is null, no
/// item matches and some item is null: then null. `in~` is the `or` of
/// [`eq_ci`], always `Bool`. An empty list gives `false`.
pub fn in_list(a: &Value, items: &[Value], case_insensitive: bool) -> Value {
    let mut saw_null = false;
    for item in flatten(items) {
        let hit = if case_insensitive {
            eq_ci(a, item)
        } else {
            eq(a, item)
        };
        match hit {
            Value::Bool(true) => return Value::Bool(true),
            Value::Null => saw_null = true,
            _ => {}
        }
    }
    if saw_null {
        Value::Null
    } else {
        Value::Bool(false)
    }
}

/// The value of a sub-query from its rows: with `column`, the first
/// column's values as a dynamic array (`x in (T)`: the array's elements
/// are the list); otherwise the first row's first value, null when there
/// is no row (`toscalar`).
pub fn subquery_value(rows: Vec<Row>, column: bool) -> Value {
    if column {
        let values = rows
            .into_iter()
            .map(|row| row.into_iter().next().unwrap_or_default())
            .collect();
        Value::Array(std::sync::Arc::new(values))
    } else {
        rows.into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .unwrap_or_default()
    }
}

/// The values of a sub-query's first column (`x in (T)`), indexed so that
/// a lookup costs the same whatever their number: exact strings (when all
/// values are strings) and case-folded text (for `in~`). [`in_set`] gives
/// exactly what [`in_list`] gives over the same values.
#[derive(Debug, Default)]
pub struct ValueSet {
    /// The values as a dynamic array.
    values: Value,
    /// Each value's text as `==` compares two strings, when every value is
    /// a string.
    exact: Option<std::collections::HashSet<Str>>,
    /// Each value's text case-folded as `=~` folds it.
    folded: std::collections::HashSet<String>,
}

impl ValueSet {
    /// Indexes `values` (a dynamic array, as [`subquery_value`] makes it).
    pub fn new(values: Value) -> ValueSet {
        let items: &[Value] = match &values {
            Value::Array(items) => items,
            _ => &[],
        };
        let exact = items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect();
        // Equal folds exactly when `=~` holds (see `text_eq_ci`).
        let folded = items
            .iter()
            .map(|v| fold(&to_text(v)).into_owned())
            .collect();
        ValueSet {
            values,
            exact,
            folded,
        }
    }

    /// Indexes a list of string literals compiled into the detector (a long
    /// constant `in` list), without copying them.
    pub fn from_strs(items: &'static [&'static str]) -> ValueSet {
        ValueSet::new(Value::array(
            items.iter().map(|s| Value::from_static(s)).collect(),
        ))
    }

    /// A set of the strings of `text`, one per line, each ending in a
    /// newline; in a string, `\\n` stands for a newline and `\\\\` for a
    /// backslash (how generated code holds a long list: one literal).
    pub fn from_lines(text: &'static str) -> ValueSet {
        let items = text
            .split_terminator('\n')
            .map(|line| {
                if !line.contains('\\') {
                    return Value::from_static(line);
                }
                let mut item = String::with_capacity(line.len());
                let mut chars = line.chars();
                while let Some(c) = chars.next() {
                    match (c, chars.clone().next()) {
                        ('\\', Some('n')) => {
                            item.push('\n');
                            chars.next();
                        }
                        ('\\', Some('\\')) => {
                            item.push('\\');
                            chars.next();
                        }
                        (c, _) => item.push(c),
                    }
                }
                Value::from(item)
            })
            .collect();
        ValueSet::new(Value::array(items))
    }

    /// The values, as a dynamic array.
    pub fn values(&self) -> &Value {
        &self.values
    }
}

/// `in` / `in~` over a [`ValueSet`]: the same value as [`in_list`] over its
/// values, by lookup where the index applies.
pub fn in_set(a: &Value, set: &ValueSet, case_insensitive: bool) -> Value {
    if case_insensitive {
        // `=~` is never null: the test is exactly membership of the fold.
        return Value::Bool(set.folded.contains(fold(&to_text(a)).as_ref()));
    }
    match (a, &set.exact) {
        // String against strings: `==` is byte equality, never null.
        (Value::String(s), Some(exact)) => Value::Bool(exact.contains(s)),
        _ => in_list(a, std::slice::from_ref(&set.values), false),
    }
}

/// `has_any` (`has-any-operator.md`): [`has`] (case-insensitive) holds for at
/// least one of `items`; `dynamic` arrays contribute their elements. An
/// empty list gives `false`. Never null.
pub fn has_any(a: &Value, items: &[Value]) -> Value {
    Value::Bool(flatten(items).any(|item| is_true(&has(a, item, false))))
}

/// `has_all` (`has-all-operator.md`): [`has`] (case-insensitive) holds for
/// every one of `items`; `dynamic` arrays contribute their elements.
///
/// An empty list gives `false` (the reference is silent; a rule over an empty
/// list should not match every row). Never null.
pub fn has_all(a: &Value, items: &[Value]) -> Value {
    let mut any = false;
    for item in flatten(items) {
        any = true;
        if !is_true(&has(a, item, false)) {
            return Value::Bool(false);
        }
    }
    Value::Bool(any)
}

/// `x between (lo .. hi)` (`between-operator.md`): `x >= lo and x <= hi`,
/// inclusive, for numbers, datetimes and timespans. When `lo` is a datetime
/// and `hi` a timespan, the range ends at `lo + hi` (the reference's
/// `datetime(…) .. 3d` form). Null anywhere → null; values that cannot be
/// ordered → null.
pub fn between(x: &Value, lo: &Value, hi: &Value) -> Value {
    let hi = match (lo, hi) {
        (Value::DateTime(_), Value::TimeSpan(_)) => add(lo, hi),
        _ => hi.clone(),
    };
    and(&ge(x, lo), &le(x, &hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A typed row's `Str` field answers every text predicate exactly as
    /// the `Value::String` holding it.
    #[test]
    fn text_predicates_read_a_str_as_its_string_value() {
        for text in ["", "aks-link-1", "AKS-LINK", "tunnelfront-x", "201", " 201"] {
            let (field, value) = (Str::from(text), Value::string(text));
            for needle in ["", "aks-link", "201", "x", "AKS"] {
                assert_eq!(eq_text(&field, needle), eq_text(&value, needle));
                assert_eq!(ne_text(&field, needle), ne_text(&value, needle));
                for cs in [false, true] {
                    assert_eq!(
                        startswith_text(&field, needle, cs),
                        startswith_text(&value, needle, cs)
                    );
                    assert_eq!(has_text(&field, needle, cs), has_text(&value, needle, cs));
                    assert_eq!(
                        endswith_text(&field, needle, cs),
                        endswith_text(&value, needle, cs)
                    );
                    assert_eq!(
                        contains_text(&field, needle, cs),
                        contains_text(&value, needle, cs)
                    );
                }
            }
        }
        // And `ne_text` is still `ne` on values that are not strings.
        assert!(!ne_text(&Value::Long(201), "201"));
        assert!(ne_text(&Value::Null, "x"));
        assert!(!ne_text(&Value::Null, ""));
    }

    #[test]
    fn text_operators_against_a_constant_are_the_generic_ones() {
        type Generic = fn(&Value, &Value, bool) -> Value;
        type Typed = fn(&Value, &str, bool) -> bool;
        let pairs: [(&str, Generic, Typed); 6] = [
            ("contains", contains, contains_text),
            ("has", has, has_text),
            ("hasprefix", hasprefix, hasprefix_text),
            ("hassuffix", hassuffix, hassuffix_text),
            ("startswith", startswith, startswith_text),
            ("endswith", endswith, endswith_text),
        ];
        let subjects = [
            Value::Null,
            Value::from_static(""),
            Value::from_static("Tunnelfront-abc"),
            Value::from_static("a tunnelfront-x"),
            Value::from_static("ÄBC-tunnelfront-"),
            Value::Long(101),
            Value::Bool(true),
            Value::array(vec![Value::from_static("tunnelfront-")]),
        ];
        for (name, generic, typed) in pairs {
            for a in &subjects {
                for text in ["tunnelfront-", "TUNNELFRONT", "", "101", "äbc", "true"] {
                    for cs in [false, true] {
                        let expected = generic(a, &Value::String(Str::Static(text)), cs);
                        assert_eq!(
                            typed(a, text, cs),
                            is_true(&expected),
                            "{a:?} {name} {text:?} cs={cs}"
                        );
                        // Never null, so `!op` is `!` of the test.
                        assert_eq!(
                            !typed(a, text, cs),
                            is_true(&not(&expected)),
                            "{a:?} !{name} {text:?} cs={cs}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn is_false_is_the_truth_of_not() {
        for v in [
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Long(0),
            Value::from_static("false"),
        ] {
            assert_eq!(is_false(&v), is_true(&not(&v)), "{v:?}");
        }
    }

    #[test]
    fn a_set_from_lines_reads_back_newlines_backslashes_and_empty_strings() {
        let set = ValueSet::from_lines("a\nline\\nbreak\nback\\\\slash\\\\n\n\nz\n");
        let expected: Vec<Value> = ["a", "line\nbreak", "back\\slash\\n", "", "z"]
            .into_iter()
            .map(Value::from_static)
            .collect();
        assert_eq!(set.values(), &Value::array(expected));
    }

    #[test]
    fn in_set_gives_what_in_list_gives() {
        let values = [
            Value::from_static("alice"),
            Value::from_static("Bob"),
            Value::from_static("101"),
            Value::from_static(""),
            Value::from_static("straße"),
            Value::Long(7),
            Value::Null,
            Value::Bool(true),
        ];
        let probes = [
            Value::from_static("alice"),
            Value::from_static("ALICE"),
            Value::from_static("bob"),
            Value::from_static("STRASSE"),
            Value::from_static("STRAßE"),
            Value::from_static("101"),
            Value::Long(101),
            Value::Long(7),
            Value::Real(7.0),
            Value::from_static("7"),
            Value::from_static("true"),
            Value::Null,
            Value::from_static(""),
            Value::from_static("\u{212a}"),
        ];
        // All strings (the indexed path) and mixed values (the fallback).
        for set in [&values[..5], &values[..]] {
            let array = Value::Array(std::sync::Arc::new(set.to_vec()));
            let indexed = ValueSet::new(array.clone());
            for probe in &probes {
                for ci in [false, true] {
                    assert_eq!(
                        in_set(probe, &indexed, ci),
                        in_list(probe, std::slice::from_ref(&array), ci),
                        "{probe:?} in{} {set:?}",
                        if ci { "~" } else { "" }
                    );
                }
            }
        }
    }
    use crate::json::parse_json_text;
    use crate::value::ticks::*;
    use crate::value::DateTime;

    const T: Value = Value::Bool(true);
    const F: Value = Value::Bool(false);
    const N: Value = Value::Null;

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    fn dynamic(text: &str) -> Value {
        parse_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn specialised_predicates_equal_the_generic_ones() {
        // What generated code calls in place of `is_true(&eq(..))`,
        // `is_true(&ne(..))` and `member(..)`: the same answers for every
        // kind of value against texts of every kind.
        let values = [
            N,
            s(""),
            s("create"),
            s("Create"),
            s(" 201"),
            Value::Long(201),
            Value::Real(201.0),
            Value::Int(0),
            Value::Bool(true),
            Value::Real(f64::NAN),
            dynamic(r#"{"a":{"b":"create"},"c":[1,2]}"#),
            dynamic("[1,2]"),
            dynamic(r#""create""#),
            dt("2024-05-28T10:00:00Z"),
            Value::TimeSpan(crate::value::TimeSpan(10_000_000)),
            Value::Guid(crate::value::Str::Static(
                "0123ABCD-0000-0000-0000-000000000000",
            )),
        ];
        let texts = [
            "",
            "create",
            "Create",
            "201",
            " 201",
            "201.0",
            "true",
            "True",
            "[1,2]",
            "2024-05-28T10:00:00Z",
            "00:00:01",
            "0123abcd-0000-0000-0000-000000000000",
            "nan",
        ];
        for v in &values {
            for t in texts {
                let text = Value::String(crate::value::Str::Static(t));
                assert_eq!(eq_text(v, t), is_true(&eq(v, &text)), "{v:?} == {t:?}");
                assert_eq!(ne_text(v, t), is_true(&ne(v, &text)), "{v:?} != {t:?}");
            }
            for key in ["a", "b", "c", "zz"] {
                assert_eq!(member_ref(v, key), &member(v, key), "{v:?}.{key}");
            }
        }
    }

    fn dt(text: &str) -> Value {
        Value::DateTime(parse_datetime(text).unwrap_or_else(|| panic!("{text}")))
    }

    fn ts(ticks: i64) -> Value {
        Value::TimeSpan(TimeSpan(ticks))
    }

    #[test]
    fn eq_follows_null_values_page() {
        assert_eq!(eq(&N, &N), N);
        assert_eq!(ne(&N, &N), N);
        assert_eq!(eq(&N, &Value::Long(5)), F);
        assert_eq!(ne(&Value::Int(5), &N), T);
        assert_eq!(lt(&N, &Value::Long(3)), N);
        assert_eq!(gt(&Value::Long(3), &N), N);
    }

    #[test]
    fn eq_compares_numbers_across_types() {
        assert_eq!(eq(&Value::Int(1), &Value::Long(1)), T);
        assert_eq!(eq(&Value::Long(1), &Value::Real(1.0)), T);
        assert_eq!(eq(&Value::Real(1.5), &Value::Long(1)), F);
        assert_eq!(lt(&Value::Int(1), &Value::Real(1.5)), T);
        assert_eq!(ge(&Value::Long(i64::MAX), &Value::Long(i64::MAX - 1)), T);
        assert_eq!(eq(&Value::Real(f64::NAN), &Value::Real(f64::NAN)), F);
        assert_eq!(lt(&Value::Real(f64::NAN), &Value::Real(1.0)), N);
    }

    #[test]
    fn string_equality_is_case_sensitive() {
        assert_eq!(eq(&s("aBc"), &s("aBc")), T);
        assert_eq!(eq(&s("abc"), &s("ABC")), F);
        assert_eq!(ne(&s("abc"), &s("ABC")), T);
        assert_eq!(eq_ci(&s("abc"), &s("ABC")), T);
        assert_eq!(ne_ci(&s("aBc"), &s("xyz")), T);
        assert_eq!(eq_ci(&s("ÉTÉ"), &s("été")), T);
        assert_eq!(eq_ci(&N, &s("")), T);
        assert_eq!(eq_ci(&Value::Long(1), &s("1")), T);
    }

    #[test]
    fn strings_order_ordinally() {
        assert_eq!(lt(&s("a"), &s("b")), T);
        assert_eq!(lt(&s("B"), &s("a")), T);
        assert_eq!(ge(&s("abc"), &s("abc")), T);
    }

    #[test]
    fn dynamic_bool_equals_its_text() {
        let privileged = member(&dynamic(r#"{"privileged":true}"#), "privileged");
        assert_eq!(eq(&privileged, &s("true")), T);
        assert_eq!(eq(&s("true"), &privileged), T);
        assert_eq!(eq(&privileged, &s("True")), F);
        assert_eq!(eq(&privileged, &T), T);
    }

    #[test]
    fn dynamic_number_compares_with_numeric_text() {
        let code = member(&dynamic(r#"{"code":201}"#), "code");
        assert_eq!(eq(&code, &s("201")), T);
        assert_eq!(eq(&code, &s(" 201 ")), T);
        assert_eq!(eq(&code, &s("201.0")), T);
        assert_eq!(eq(&code, &s("abc")), F);
        assert_eq!(ne(&code, &s("abc")), T);
        assert_eq!(gt(&code, &s("200")), T);
        assert_eq!(gt(&code, &s("abc")), N);
        let text = member(&dynamic(r#"{"n":"101"}"#), "n");
        assert_eq!(eq(&text, &Value::Long(101)), T);
        assert_eq!(lt(&Value::Long(100), &text), T);
    }

    #[test]
    fn null_against_string_reads_as_empty_string() {
        let missing = member(&dynamic("{}"), "x");
        assert_eq!(eq(&missing, &s("")), T);
        assert_eq!(eq(&missing, &s("x")), F);
        assert_eq!(ne(&missing, &s("x")), T);
    }

    #[test]
    fn temporal_values_compare_with_their_own_type_and_text() {
        let a = dt("2024-05-28T10:00:00Z");
        let b = dt("2024-05-28T11:00:00Z");
        assert_eq!(lt(&a, &b), T);
        assert_eq!(eq(&a, &s("2024-05-28 10:00:00")), T);
        assert_eq!(gt(&b, &s("2024-05-28T10:30:00Z")), T);
        assert_eq!(lt(&ts(PER_SECOND), &ts(PER_HOUR)), T);
        assert_eq!(eq(&ts(PER_HOUR), &s("01:00:00")), T);
        assert_eq!(eq(&a, &ts(0)), F);
        assert_eq!(lt(&a, &ts(0)), N);
    }

    #[test]
    fn arrays_and_bags_compare_by_structure() {
        assert_eq!(eq(&dynamic("[1,2,[3]]"), &dynamic("[1,2.0,[3]]")), T);
        assert_eq!(eq(&dynamic("[1,2]"), &dynamic("[2,1]")), F);
        assert_eq!(
            eq(
                &dynamic(r#"{"a":1,"b":null}"#),
                &dynamic(r#"{"b":null,"a":1}"#)
            ),
            T
        );
        assert_eq!(eq(&dynamic(r#"{"a":1}"#), &dynamic(r#"{"a":"1"}"#)), F);
        assert_eq!(eq(&dynamic("[1]"), &s("[1]")), T);
        assert_eq!(lt(&dynamic("[1]"), &dynamic("[2]")), N);
    }

    #[test]
    fn guids_compare_case_insensitively() {
        let g = Value::Guid("01234567-89ab-cdef-0123-456789abcdef".into());
        assert_eq!(
            eq(
                &g,
                &Value::Guid("01234567-89AB-cdef-0123-456789abcdef".into())
            ),
            T
        );
        assert_eq!(eq(&g, &s("01234567-89AB-CDEF-0123-456789ABCDEF")), T);
    }

    #[test]
    fn mixed_types_are_unequal() {
        assert_eq!(eq(&T, &Value::Long(1)), F);
        assert_eq!(ne(&T, &Value::Long(1)), T);
        assert_eq!(lt(&T, &Value::Long(1)), N);
    }

    #[test]
    fn logic_is_three_valued() {
        assert_eq!(and(&N, &F), F);
        assert_eq!(and(&F, &N), F);
        assert_eq!(and(&N, &T), N);
        assert_eq!(and(&T, &T), T);
        assert_eq!(or(&N, &T), T);
        assert_eq!(or(&N, &F), N);
        assert_eq!(or(&F, &F), F);
        assert_eq!(not(&N), N);
        assert_eq!(not(&T), F);
        assert_eq!(not(&Value::Long(1)), N);
        assert_eq!(and(&s("true"), &T), N);
        assert!(is_true(&T));
        assert!(!is_true(&N));
        assert!(!is_true(&F));
        assert!(!is_true(&s("true")));
    }

    #[test]
    fn integer_arithmetic_gives_long() {
        assert_eq!(add(&Value::Int(1), &Value::Int(2)), Value::Long(3));
        assert_eq!(
            add(&Value::Int(i32::MAX), &Value::Int(1)),
            Value::Long(1 << 31)
        );
        assert_eq!(sub(&Value::Long(5), &Value::Int(7)), Value::Long(-2));
        assert_eq!(mul(&Value::Long(6), &Value::Long(7)), Value::Long(42));
        assert_eq!(div(&Value::Long(1), &Value::Long(2)), Value::Long(0));
        assert_eq!(div(&Value::Long(-7), &Value::Long(2)), Value::Long(-3));
        assert_eq!(add(&Value::Long(1), &Value::Real(0.5)), Value::Real(1.5));
        assert_eq!(div(&Value::Real(1.0), &Value::Long(2)), Value::Real(0.5));
    }

    #[test]
    fn integer_overflow_wraps() {
        assert_eq!(
            add(&Value::Long(i64::MAX), &Value::Long(1)),
            Value::Long(i64::MIN)
        );
        assert_eq!(
            mul(&Value::Long(i64::MAX), &Value::Long(2)),
            Value::Long(-2)
        );
        assert_eq!(
            div(&Value::Long(i64::MIN), &Value::Long(-1)),
            Value::Long(i64::MIN)
        );
        assert_eq!(neg(&Value::Long(i64::MIN)), Value::Long(i64::MIN));
        assert_eq!(neg(&Value::Int(5)), Value::Int(-5));
    }

    #[test]
    fn division_by_zero() {
        assert_eq!(div(&Value::Long(1), &Value::Long(0)), N);
        assert_eq!(rem(&Value::Long(1), &Value::Int(0)), N);
        assert_eq!(
            div(&Value::Real(1.0), &Value::Long(0)),
            Value::Real(f64::INFINITY)
        );
        assert_eq!(
            div(&Value::Real(-1.0), &Value::Real(0.0)),
            Value::Real(f64::NEG_INFINITY)
        );
        assert!(matches!(div(&Value::Real(0.0), &Value::Real(0.0)), Value::Real(x) if x.is_nan()));
        assert_eq!(div(&ts(PER_HOUR), &Value::Long(0)), N);
        assert_eq!(div(&ts(PER_HOUR), &Value::Real(0.0)), N);
    }

    #[test]
    fn modulo_is_non_negative() {
        assert_eq!(rem(&Value::Long(14), &Value::Long(12)), Value::Long(2));
        assert_eq!(rem(&Value::Long(-14), &Value::Long(12)), Value::Long(10));
        assert_eq!(rem(&Value::Long(14), &Value::Long(-12)), Value::Long(2));
        assert_eq!(rem(&Value::Long(-14), &Value::Long(-12)), Value::Long(10));
        assert_eq!(rem(&Value::Real(-1.5), &Value::Real(1.0)), Value::Real(0.5));
        assert_eq!(
            rem(&Value::Long(i64::MIN), &Value::Long(-1)),
            Value::Long(0)
        );
    }

    #[test]
    fn null_is_sticky_in_arithmetic() {
        for op in [add, sub, mul, div, rem] {
            assert_eq!(op(&N, &Value::Long(1)), N);
            assert_eq!(op(&Value::Long(1), &N), N);
        }
        assert_eq!(neg(&N), N);
        assert_eq!(add(&s("1"), &Value::Long(1)), N);
    }

    #[test]
    fn datetime_and_timespan_arithmetic() {
        let d = dt("1910-06-11");
        assert_eq!(add(&d, &ts(PER_DAY)), dt("1910-06-12"));
        assert_eq!(add(&ts(PER_DAY), &d), dt("1910-06-12"));
        assert_eq!(sub(&d, &ts(PER_DAY)), dt("1910-06-10"));
        assert_eq!(sub(&dt("1910-06-12"), &d), ts(PER_DAY));
        assert_eq!(add(&ts(PER_DAY), &ts(2 * PER_DAY)), ts(3 * PER_DAY));
        assert_eq!(div(&ts(PER_DAY), &ts(5 * PER_HOUR)), Value::Real(4.8));
        assert_eq!(div(&ts(PER_HOUR), &ts(PER_SECOND)), Value::Real(3600.0));
        assert_eq!(mul(&Value::Real(1.5), &ts(PER_HOUR)), ts(90 * PER_MINUTE));
        assert_eq!(mul(&ts(PER_SECOND), &Value::Long(86400)), ts(PER_DAY));
        assert_eq!(div(&ts(PER_HOUR), &Value::Long(2)), ts(30 * PER_MINUTE));
        assert_eq!(div(&ts(PER_HOUR), &Value::Real(0.5)), ts(2 * PER_HOUR));
        assert_eq!(
            rem(&ts(PER_HOUR), &ts(25 * PER_MINUTE)),
            ts(10 * PER_MINUTE)
        );
        assert_eq!(neg(&ts(PER_HOUR)), ts(-PER_HOUR));
        assert_eq!(add(&d, &d), N);
        assert_eq!(mul(&d, &Value::Long(2)), N);
    }

    #[test]
    fn temporal_overflow_gives_null() {
        let d = dt("9999-12-31");
        assert_eq!(add(&d, &ts(PER_DAY)), N);
        assert_eq!(add(&ts(i64::MAX), &ts(1)), N);
        assert_eq!(mul(&ts(i64::MAX), &Value::Long(2)), N);
        assert_eq!(mul(&ts(i64::MAX), &Value::Real(2.0)), N);
        assert_eq!(mul(&ts(1), &Value::Real(f64::NAN)), N);
        assert_eq!(neg(&ts(i64::MIN)), N);
        assert_eq!(
            sub(
                &Value::DateTime(DateTime(i64::MIN)),
                &Value::DateTime(DateTime(1))
            ),
            N
        );
    }

    #[test]
    fn member_and_index_reach_into_dynamic() {
        let v = dynamic(r#"{"a":{"b":[10,20,30]},"k":"v"}"#);
        assert_eq!(member(&v, "k"), s("v"));
        assert_eq!(member(&v, "K"), N);
        assert_eq!(member(&N, "k"), N);
        let arr = member(&member(&v, "a"), "b");
        assert_eq!(index(&arr, &Value::Long(0)), Value::Long(10));
        assert_eq!(index(&arr, &Value::Int(-1)), Value::Long(30));
        assert_eq!(index(&arr, &Value::Long(-3)), Value::Long(10));
        assert_eq!(index(&arr, &Value::Long(3)), N);
        assert_eq!(index(&arr, &Value::Long(-4)), N);
        assert_eq!(index(&arr, &Value::Long(i64::MIN)), N);
        assert_eq!(index(&arr, &s("0")), N);
        assert_eq!(index(&v, &s("k")), s("v"));
        assert_eq!(index(&v, &Value::Long(0)), N);
        assert_eq!(index(&N, &Value::Long(0)), N);
    }

    #[test]
    fn contains_finds_substrings() {
        assert_eq!(contains(&s("FabriKam"), &s("BRik"), false), T);
        assert_eq!(contains(&s("FabriKam"), &s("Kam"), true), T);
        assert_eq!(contains(&s("Fabrikam"), &s("Kam"), true), F);
        assert_eq!(contains(&s("Fabrikam"), &s("xyz"), false), F);
        assert_eq!(contains(&s("abc"), &s(""), false), T);
        assert_eq!(contains(&N, &s("a"), false), F);
        assert_eq!(contains(&N, &s(""), true), T);
        assert_eq!(contains(&s("Straße"), &s("SSE"), false), F);
        assert_eq!(contains(&s("ÉCOLE"), &s("école"), false), T);
        assert_eq!(contains(&s("ab"), &s("abc"), false), F);
        assert_eq!(contains(&Value::Long(12345), &s("234"), true), T);
    }

    #[test]
    fn has_matches_whole_terms_only() {
        assert_eq!(has(&s("North America"), &s("america"), false), T);
        assert_eq!(has(&s("North America"), &s("amer"), false), F);
        assert_eq!(has(&s("North America"), &s("America"), true), T);
        assert_eq!(has(&s("North America"), &s("america"), true), F);
        assert_eq!(has(&s("Kusto: ad67d136-c1db-4f9f"), &s("c1db"), false), T);
        assert_eq!(has(&s("Kusto: ad67d136-c1db-4f9f"), &s("c1d"), false), F);
        assert_eq!(has(&s("amer america"), &s("america"), false), T);
        assert_eq!(has(&s("xamerica america"), &s("america"), false), T);
        assert_eq!(has(&s("a"), &s("a"), false), T);
        assert_eq!(has(&s("ab cd"), &s("ab"), false), T);
        assert_eq!(has(&N, &s("x"), false), F);
    }

    #[test]
    fn has_matches_phrases_of_terms() {
        let line = s("cmd.exe /c whoami & net user");
        assert_eq!(has(&line, &s("cmd.exe"), false), T);
        assert_eq!(has(&line, &s("net user"), false), T);
        assert_eq!(has(&line, &s("md.exe"), false), F);
        assert_eq!(has(&line, &s("/c"), false), T);
        assert_eq!(has(&line, &s("et use"), false), F);
        assert_eq!(has(&s("a-b"), &s("-b"), false), T);
    }

    #[test]
    fn has_separates_terms_at_non_ascii_letters() {
        assert_eq!(has(&s("caféteria"), &s("caf"), false), T);
        assert_eq!(has(&s("Über alles"), &s("ber"), false), T);
        assert_eq!(has(&s("ÜBER alles"), &s("über"), false), T);
    }

    #[test]
    fn hasprefix_and_hassuffix_match_term_edges() {
        let na = s("North America");
        assert_eq!(hasprefix(&na, &s("ame"), false), T);
        assert_eq!(hasprefix(&na, &s("mer"), false), F);
        assert_eq!(hasprefix(&na, &s("Ame"), true), T);
        assert_eq!(hasprefix(&na, &s("CA"), true), F);
        assert_eq!(hassuffix(&na, &s("ica"), false), T);
        assert_eq!(hassuffix(&na, &s("americ"), false), F);
        assert_eq!(hassuffix(&na, &s("icA"), true), F);
        assert_eq!(hassuffix(&s("rica x"), &s("ic"), false), F);
    }

    #[test]
    fn startswith_and_endswith() {
        assert_eq!(startswith(&s("Fabrikam"), &s("fab"), false), T);
        assert_eq!(startswith(&s("Fabrikam"), &s("kam"), false), F);
        assert_eq!(startswith(&s("Fabrikam"), &s("fab"), true), F);
        assert_eq!(endswith(&s("Fabrikam"), &s("Kam"), false), T);
        assert_eq!(endswith(&s("Fabrikam"), &s("brik"), false), F);
        assert_eq!(endswith(&s("Fabrikam"), &s("kam"), true), T);
        assert_eq!(endswith(&s("am"), &s("kam"), false), F);
        assert_eq!(startswith(&s("Éa"), &s("éA"), false), T);
        assert_eq!(endswith(&s("aÉ"), &s("Aé"), false), T);
        assert_eq!(startswith(&N, &s(""), false), T);
        assert_eq!(endswith(&N, &s("x"), false), F);
    }

    #[test]
    fn matches_regex_uses_re2_syntax() {
        assert_eq!(matches_regex(&s("Fabrikam"), &s("b.*k")), T);
        assert_eq!(matches_regex(&s("Fabrikam"), &s("^k")), F);
        assert_eq!(matches_regex(&N, &s("^$")), T);
        assert_eq!(matches_regex(&s("x"), &s("(")), N);
    }

    #[test]
    fn in_list_flattens_dynamic_arrays() {
        let items = [s("123"), s("345"), s("abc")];
        assert_eq!(in_list(&s("abc"), &items, false), T);
        assert_eq!(in_list(&s("ABC"), &items, false), F);
        assert_eq!(in_list(&s("ABC"), &items, true), T);
        assert_eq!(in_list(&s("bca"), &items, true), F);
        let states = [dynamic(r#"["FLORIDA","georgia"]"#)];
        assert_eq!(in_list(&s("GEORGIA"), &states, true), T);
        assert_eq!(
            in_list(&Value::Long(2), &[dynamic("[1,2]"), Value::Long(3)], false),
            T
        );
        assert_eq!(in_list(&s("x"), &[], false), F);
    }

    #[test]
    fn in_list_with_nulls() {
        assert_eq!(in_list(&N, &[Value::Long(1)], false), F);
        assert_eq!(in_list(&N, &[Value::Long(1), N], false), N);
        assert_eq!(in_list(&Value::Long(1), &[N, Value::Long(1)], false), T);
        assert_eq!(in_list(&N, &[s("")], true), T);
    }

    #[test]
    fn has_any_and_has_all() {
        let state = s("North Carolina");
        assert_eq!(has_any(&state, &[s("south"), s("north")]), T);
        assert_eq!(has_any(&state, &[s("south"), s("dakota")]), F);
        assert_eq!(has_any(&state, &[dynamic(r#"["south","carolina"]"#)]), T);
        assert_eq!(has_any(&state, &[]), F);
        let text = s("North and South America");
        assert_eq!(has_all(&text, &[s("south"), s("north")]), T);
        assert_eq!(has_all(&text, &[s("south"), s("west")]), F);
        assert_eq!(has_all(&text, &[dynamic("[]")]), F);
        assert_eq!(has_all(&text, &[]), F);
        assert_eq!(has_any(&N, &[s("x")]), F);
    }

    #[test]
    fn between_is_inclusive() {
        assert_eq!(
            between(&Value::Long(50), &Value::Long(50), &Value::Long(55)),
            T
        );
        assert_eq!(
            between(&Value::Long(55), &Value::Long(50), &Value::Long(55)),
            T
        );
        assert_eq!(
            between(&Value::Long(56), &Value::Long(50), &Value::Long(55)),
            F
        );
        assert_eq!(
            between(&Value::Real(50.5), &Value::Long(50), &Value::Long(55)),
            T
        );
        assert_eq!(between(&N, &Value::Long(50), &Value::Long(55)), N);
        let d = dt("2007-07-28");
        assert_eq!(between(&d, &dt("2007-07-27"), &dt("2007-07-30")), T);
        assert_eq!(between(&d, &dt("2007-07-27"), &ts(3 * PER_DAY)), T);
        assert_eq!(
            between(&dt("2007-07-31"), &dt("2007-07-27"), &ts(3 * PER_DAY)),
            F
        );
        assert_eq!(between(&ts(PER_HOUR), &ts(0), &ts(PER_DAY)), T);
    }
}
