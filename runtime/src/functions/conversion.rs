//! Conversion functions: `tostring`, `toint`, `tolong`, `toreal`/`todouble`,
//! `todecimal`, `tobool`/`toboolean`, `todatetime`, `totimespan`,
//! `todynamic`/`parse_json`, `toguid`, `tohex`, `format_bytes`,
//! `parse_version`.
//!
//! Every conversion gives null when it fails (the reference says so for each
//! of them), and null for a null input, except `tostring`, which gives `""`.

use super::checked_long;
use crate::decimal::Decimal;
use crate::json::parse_json_text;
use crate::text::{parse_datetime, parse_timespan, to_string, UNIX_EPOCH_DOTNET_TICKS};
use crate::value::{Str, Value};

/// `tostring(value)` (`tostring-function.md`): the text of any value; null →
/// `""`. Forms as in [`crate::text::to_string`].
pub fn tostring(v: &Value) -> Value {
    Value::String(tostring_str(v))
}

/// [`tostring`] as the string itself: what a typed row field of type
/// `string` holds (`tostring` always gives a string, never null).
pub fn tostring_str(v: &Value) -> Str {
    match v {
        Value::String(s) | Value::Guid(s) => s.clone(),
        other => Str::from(to_string(other)),
    }
}

/// The integer a value converts to, before range checks:
/// - int, long: the number; real and decimal: truncated toward zero (NaN,
///   ±inf and values beyond the long range → none, never a saturated
///   long); bool: 1 or 0;
/// - string: trimmed, an integer (`"123"`, `"+5"`) or a decimal truncated
///   (`"2.7"` → 2, as `toint(2.3)` is 2), read exactly (see
///   [`integer_of_text`]: one past either end of the long range → none),
///   or else a real truncated (`"1e3"` → 1000);
/// - datetime: its .NET ticks (since 0001-01-01), timespan: its ticks
///   (the reference is silent; this is what `tolong(datetime)` and
///   `tolong(1s)` give in Kusto);
/// - anything else (null, guid, array, bag): none.
fn integer_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        Value::Real(x) => checked_long(x.trunc()),
        Value::Decimal(d) => d.to_i64(),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::String(s) => integer_of_text(s.trim()),
        Value::DateTime(d) => d.0.checked_add(UNIX_EPOCH_DOTNET_TICKS),
        Value::TimeSpan(t) => Some(t.0),
        _ => None,
    }
}

/// The integer that trimmed text holds, truncated toward zero; `None` when
/// it is not a number or is outside the long range.
///
/// Integers (`"-9223372036854775808"`) and decimals (`"2.7"`,
/// `"-9223372036854775809.5"`) are read exactly, digit by digit: going
/// through a real would round `-9223372036854775809` to -2^63, which is a
/// long, while its positive twin rounds to 2^63, which is not. Other forms
/// (`"1e3"`) are read as a real, then truncated.
fn integer_of_text(s: &str) -> Option<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    let (sign, unsigned) = match s.as_bytes().first() {
        Some(b'-') => ("-", &s[1..]),
        Some(b'+') => ("", &s[1..]),
        _ => ("", s),
    };
    let all_digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !unsigned.is_empty() && all_digits(unsigned) {
        // An integer the long parse refused: out of range.
        return None;
    }
    if let Some((whole, fraction)) = unsigned.split_once('.') {
        if all_digits(whole) && all_digits(fraction) && !(whole.is_empty() && fraction.is_empty()) {
            if whole.is_empty() {
                return Some(0);
            }
            return format!("{sign}{whole}").parse::<i64>().ok();
        }
    }
    s.parse::<f64>().ok().and_then(|x| checked_long(x.trunc()))
}

/// `toint(value)` (`toint-function.md`): a 32-bit integer; a decimal value is
/// truncated (`toint(2.3)` is 2); a string holding an integer or a real;
/// bool → 1/0. A value outside the int range gives null (the reference is
/// silent; .NET's checked conversion refuses it). Failure or null → null.
pub fn toint(v: &Value) -> Value {
    integer_of(v)
        .and_then(|n| i32::try_from(n).ok())
        .map_or(Value::Null, Value::Int)
}

/// `tolong(value)` (`tolong-function.md`): a 64-bit integer, with the same
/// rules as [`toint`]; datetimes give their ticks since 0001-01-01 and
/// timespans their ticks (Kusto's behaviour; the reference is silent).
/// Failure or null → null.
pub fn tolong(v: &Value) -> Value {
    integer_of(v).map_or(Value::Null, Value::Long)
}

/// `toreal(value)` (`toreal-function.md`): a real. Numbers convert; bool →
/// 1/0; a string, trimmed, parses as a decimal or scientific number, or
/// `NaN`/`Infinity`/`-Infinity` (any case, also `inf`); datetime and
/// timespan give their ticks as in [`tolong`] (the reference is silent).
/// Failure or null → null.
pub fn toreal(v: &Value) -> Value {
    let x = match v {
        Value::Real(x) => Some(*x),
        Value::Decimal(d) => Some(d.to_f64()),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        other => integer_of(other).map(|n| n as f64),
    };
    x.map_or(Value::Null, Value::Real)
}

/// `todecimal(value)` (`todecimal-function.md`): a decimal, or null when
/// the conversion fails. A decimal as it is; int and long exactly; a real
/// from its shortest text (`todecimal(0.1)` is exactly 0.1; NaN and
/// infinities → null); a string, trimmed, as decimal text with an optional
/// exponent (`"123.45678"`, `"1e5"`), every digit kept up to 38 significant
/// ones (more are rounded half away from zero); bool → 1/0; datetime and
/// timespan → their ticks as in [`tolong`] (the reference is silent on
/// these, as for `toreal`). More than 38 integer digits, or null → null.
pub fn todecimal(v: &Value) -> Value {
    let d = match v {
        Value::Decimal(d) => Some(*d),
        Value::Real(x) => Decimal::from_f64(*x),
        Value::String(s) => Decimal::parse(s),
        other => integer_of(other).map(Decimal::from_i64),
    };
    d.map_or(Value::Null, Value::Decimal)
}

/// `parse_version(version)` (`parse-version-function.md`): one to four
/// parts of at most eight digits each, separated by dots, as one decimal
/// whose digits are the parts, each padded to eight digits, missing
/// trailing parts counting as 0: `1.2.3.4` is
/// 1,000,000,020,000,000,300,000,004 and `1.0` equals `1.0.0.0`, so
/// versions compare as numbers. Surrounding white space is ignored (**the
/// reference is silent**). A part empty, longer than eight digits or not
/// all digits, more than four parts, a non-string or null → null.
pub fn parse_version(v: &Value) -> Value {
    let Value::String(text) = v else {
        return Value::Null;
    };
    let parts: Vec<&str> = text.trim().split('.').collect();
    if parts.len() > 4 {
        return Value::Null;
    }
    let mut digits = String::with_capacity(32);
    for i in 0..4 {
        let part = parts.get(i).copied().unwrap_or("0");
        if part.is_empty() || part.len() > 8 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Value::Null;
        }
        digits.push_str(&format!("{part:0>8}"));
    }
    Decimal::parse(&digits).map_or(Value::Null, Value::Decimal)
}

/// `todouble(value)`: the same as [`toreal`] (`toreal-function.md`).
pub fn todouble(v: &Value) -> Value {
    toreal(v)
}

/// `tobool(value)` (`tobool-function.md`): `tobool("true") == true`,
/// `tobool("false") == false`, `tobool(1) == true`, `tobool(123) == true`.
///
/// Numbers: non-zero → `true`, zero → `false` (NaN → null). Strings: `true`
/// or `false` in any case, surrounding whitespace ignored (as .NET's
/// `bool.Parse`); other strings (`"1"`, `"yes"`) → null, since the reference
/// lists no other forms. Failure or null → null.
pub fn tobool(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(*b),
        Value::Int(n) => Value::Bool(*n != 0),
        Value::Long(n) => Value::Bool(*n != 0),
        Value::Decimal(d) => Value::Bool(!d.is_zero()),
        Value::Real(x) if x.is_nan() => Value::Null,
        Value::Real(x) => Value::Bool(*x != 0.0),
        Value::String(s) => {
            let s = s.trim();
            if s.eq_ignore_ascii_case("true") {
                Value::Bool(true)
            } else if s.eq_ignore_ascii_case("false") {
                Value::Bool(false)
            } else {
                Value::Null
            }
        }
        _ => Value::Null,
    }
}

/// `toboolean(value)`: the same as [`tobool`] (`tobool-function.md`).
pub fn toboolean(v: &Value) -> Value {
    tobool(v)
}

/// `todatetime(value)` (`todatetime-function.md`): a datetime as it is; a
/// string in one of the forms of [`crate::text::parse_datetime`]
/// (`"2015-12-31 23:59:59.9"`, `"12-02-2022"`, RFC 822/850). Numbers and
/// anything else → null (the reference lists only text forms). Failure or
/// null → null.
pub fn todatetime(v: &Value) -> Value {
    match v {
        Value::DateTime(d) => Value::DateTime(*d),
        Value::String(s) => parse_datetime(s).map_or(Value::Null, Value::DateTime),
        _ => Value::Null,
    }
}

/// `totimespan(value)` (`totimespan-function.md`): a timespan as it is; a
/// string in one of the forms of [`crate::text::parse_timespan`]
/// (`"0.00:01:00"`, `"1.5h"`, `"100ms"`). Numbers and anything else → null
/// (the reference's parameter is a string). Failure or null → null.
pub fn totimespan(v: &Value) -> Value {
    match v {
        Value::TimeSpan(t) => Value::TimeSpan(*t),
        Value::String(s) => parse_timespan(s).map_or(Value::Null, Value::TimeSpan),
        _ => Value::Null,
    }
}

/// `parse_json(json)` (`parse-json-function.md`):
///
/// - a string holding well-formed JSON → that value (objects keep their key
///   order; integers → long, other numbers → real; strings stay strings);
/// - a string that is empty or only whitespace → null
///   (`isnull(parse_json(""))` is true: `isnull-function.md`);
/// - any other string → the string itself, as a dynamic string;
/// - any non-string value → as it is ("If json is of type dynamic, its value
///   is used as-is").
pub fn parse_json(v: &Value) -> Value {
    match v {
        // Text the detector wrote from a value: that value, unparsed.
        Value::String(s) if s.known_parse().is_some() => {
            s.known_parse().cloned().unwrap_or_default()
        }
        Value::String(s) if s.trim().is_empty() => Value::Null,
        Value::String(s) => parse_json_text(s).unwrap_or_else(|_| v.clone()),
        other => other.clone(),
    }
}

/// `todynamic(json)`: the same as [`parse_json`] (a deprecated alias in the
/// reference).
pub fn todynamic(v: &Value) -> Value {
    parse_json(v)
}

/// `toguid(value)` (`toguid-function.md`): takes the first 32 hex digits of
/// the text, "ignoring properly located hyphens" (one hyphen at any of the
/// 8-4-4-4-12 group boundaries, so the reference's
/// `0123456789ab-cdef-0123-456789abcdef` reads too), ignores the rest of the
/// string, and gives the guid in canonical lowercase form. A guid stays as it is. Anything else, or text that does not start
/// with a guid → null.
pub fn toguid(v: &Value) -> Value {
    match v {
        Value::Guid(_) => v.clone(),
        Value::String(s) => parse_guid(s).map_or(Value::Null, |g| Value::Guid(Str::from(g))),
        _ => Value::Null,
    }
}

/// The canonical lowercase text of the guid at the start of `s`: 32 hex
/// digits, each of the 8-4-4-4-12 group boundaries optionally marked by one
/// hyphen.
fn parse_guid(s: &str) -> Option<String> {
    let mut hex = String::with_capacity(32);
    let mut after_hyphen = false;
    for c in s.bytes() {
        if hex.len() == 32 {
            break;
        }
        if c == b'-' && !after_hyphen && matches!(hex.len(), 8 | 12 | 16 | 20) {
            after_hyphen = true;
            continue;
        }
        if !c.is_ascii_hexdigit() {
            return None;
        }
        hex.push(char::from(c.to_ascii_lowercase()));
        after_hyphen = false;
    }
    if hex.len() < 32 {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

/// `tohex(value [, minLength])` (`tohex-function.md`), arguments as a slice:
/// the lowercase hexadecimal form of an int or long; negative numbers in
/// two's complement of their size (`tohex(-256)` is `ffffffffffffff00`,
/// `tohex(toint(-256), 8)` is `ffffff00`). `minLength` pads with leading
/// zeros up to 16 characters (`tohex(256, 8)` is `00000100`) and is ignored
/// when the text is longer. Null, a non-integer, or a null `minLength` gives
/// null.
pub fn tohex(args: &[Value]) -> Value {
    let text = match args.first() {
        Some(Value::Int(n)) => format!("{:x}", *n as u32),
        Some(Value::Long(n)) => format!("{:x}", *n as u64),
        _ => return Value::Null,
    };
    let width = match args.get(1) {
        None => 0,
        Some(Value::Int(n)) => i64::from(*n),
        Some(Value::Long(n)) => *n,
        Some(_) => return Value::Null,
    };
    let width = width.clamp(0, 16) as usize;
    Value::string(format!("{text:0>width$}"))
}

/// The units of `format_bytes`, each 1024 times the one before.
const BYTE_UNITS: [&str; 7] = ["Bytes", "KB", "MB", "GB", "TB", "PB", "EB"];

/// `format_bytes(size [, precision [, units]])` (`format-bytes-function.md`):
/// `size` bytes as text in `units` (`Bytes`, `KB`, `MB`, `GB`, `TB`, `PB`,
/// `EB`; powers of 1024), rounded to `precision` digits after the point
/// (default 0): `format_bytes(2048)` is `2 KB`, `format_bytes(1536, 1)` is
/// `1.5 KB`, `format_bytes(3 * 1048576, 0, "KB")` is `3072 KB`. Without
/// `units` (or with `""`) the largest unit of which `size` is at least one
/// is chosen. Choices where the reference is silent: halves round away from
/// zero and the number is written as `tostring` writes a real (no trailing
/// zeros: `19.1`, not `19.10`); units match case-insensitively; a negative
/// precision is 0 and one above 15 is 15; null, a non-number or unknown
/// units give `""` (a string has no null).
pub fn format_bytes(args: &[Value]) -> Value {
    let Some(size) = args.first().and_then(super::real_arg) else {
        return Value::from_static("");
    };
    let precision = args
        .get(1)
        .and_then(super::integer_arg)
        .unwrap_or(0)
        .clamp(0, 15);
    let units = args.get(2).map(crate::text::to_text).unwrap_or_default();
    let exponent = if units.is_empty() {
        let mut exponent = 0;
        while exponent + 1 < BYTE_UNITS.len() && size.abs() >= 1024f64.powi(exponent as i32 + 1) {
            exponent += 1;
        }
        exponent
    } else {
        match BYTE_UNITS
            .iter()
            .position(|unit| unit.eq_ignore_ascii_case(&units))
        {
            Some(exponent) => exponent,
            None => return Value::from_static(""),
        }
    };
    let scaled = super::math::round_real(size / 1024f64.powi(exponent as i32), precision);
    Value::string(format!(
        "{} {}",
        crate::text::format_real(scaled + 0.0),
        BYTE_UNITS[exponent]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::ticks::PER_SECOND;
    use crate::value::{DateTime, TimeSpan};

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn tostring_of_any_value() {
        assert_eq!(tostring(&Value::Long(123)), s("123"));
        assert_eq!(tostring(&Value::Null), s(""));
        assert_eq!(tostring(&s("x")), s("x"));
        assert_eq!(tostring(&Value::Real(2.5)), s("2.5"));
        assert_eq!(
            tostring(&Value::TimeSpan(TimeSpan(PER_SECOND))),
            s("00:00:01")
        );
        assert_eq!(tostring(&Value::Guid("ab".into())), s("ab"));
    }

    #[test]
    fn toint_truncates_and_checks_range() {
        assert_eq!(toint(&s("123")), Value::Int(123));
        assert_eq!(toint(&Value::Real(2.3)), Value::Int(2));
        assert_eq!(toint(&Value::Real(-2.7)), Value::Int(-2));
        assert_eq!(toint(&s(" 2.7 ")), Value::Int(2));
        assert_eq!(toint(&s("+5")), Value::Int(5));
        assert_eq!(toint(&Value::Bool(true)), Value::Int(1));
        assert_eq!(toint(&Value::Long(1 << 40)), Value::Null);
        assert_eq!(toint(&s("abc")), Value::Null);
        assert_eq!(toint(&s("")), Value::Null);
        assert_eq!(toint(&Value::Real(f64::NAN)), Value::Null);
        assert_eq!(toint(&Value::Null), Value::Null);
    }

    #[test]
    fn tolong_converts_numbers_text_and_ticks() {
        assert_eq!(tolong(&s("123")), Value::Long(123));
        assert_eq!(tolong(&s("9223372036854775807")), Value::Long(i64::MAX));
        assert_eq!(tolong(&Value::Real(1e30)), Value::Null);
        assert_eq!(tolong(&Value::Real(-1e30)), Value::Null);
        assert_eq!(tolong(&Value::Real(f64::INFINITY)), Value::Null);
        assert_eq!(
            tolong(&Value::TimeSpan(TimeSpan(PER_SECOND))),
            Value::Long(PER_SECOND)
        );
        assert_eq!(
            tolong(&Value::DateTime(DateTime(0))),
            Value::Long(621_355_968_000_000_000)
        );
        assert_eq!(tolong(&Value::DateTime(DateTime(i64::MAX))), Value::Null);
        assert_eq!(tolong(&Value::Null), Value::Null);
        assert_eq!(tolong(&Value::Array(Default::default())), Value::Null);
    }

    #[test]
    fn out_of_range_text_and_reals_give_null_at_both_ends() {
        assert_eq!(tolong(&s("9223372036854775807")), Value::Long(i64::MAX));
        assert_eq!(tolong(&s("-9223372036854775808")), Value::Long(i64::MIN));
        assert_eq!(tolong(&s("9223372036854775808")), Value::Null);
        assert_eq!(tolong(&s("-9223372036854775809")), Value::Null);
        assert_eq!(tolong(&s(" -9223372036854775809 ")), Value::Null);
        assert_eq!(tolong(&s("-9223372036854775808.9")), Value::Long(i64::MIN));
        assert_eq!(tolong(&s("-9223372036854775809.5")), Value::Null);
        assert_eq!(tolong(&s("99999999999999999999")), Value::Null);
        assert_eq!(tolong(&s("-0.5")), Value::Long(0));
        assert_eq!(tolong(&s(".5")), Value::Long(0));
        assert_eq!(tolong(&s("-2.7")), Value::Long(-2));
        assert_eq!(tolong(&s("1e3")), Value::Long(1000));
        assert_eq!(tolong(&s("1e30")), Value::Null);
        assert_eq!(tolong(&s("-1e30")), Value::Null);
        assert_eq!(tolong(&s("Infinity")), Value::Null);
        assert_eq!(tolong(&s(".")), Value::Null);
        assert_eq!(tolong(&s("-")), Value::Null);
        assert_eq!(tolong(&s("+-5")), Value::Null);
        assert_eq!(
            tolong(&Value::Real(-9_223_372_036_854_775_808.0)),
            Value::Long(i64::MIN)
        );
        assert_eq!(
            tolong(&Value::Real(9_223_372_036_854_775_808.0)),
            Value::Null
        );
        assert_eq!(toint(&s("2147483647")), Value::Int(i32::MAX));
        assert_eq!(toint(&s("-2147483648")), Value::Int(i32::MIN));
        assert_eq!(toint(&s("2147483648")), Value::Null);
        assert_eq!(toint(&s("-2147483649")), Value::Null);
        assert_eq!(toint(&Value::Real(3e9)), Value::Null);
        assert_eq!(toint(&Value::Real(-3e9)), Value::Null);
        assert_eq!(toint(&s("-9223372036854775809")), Value::Null);
    }

    #[test]
    fn toreal_parses_text() {
        assert_eq!(todouble(&s("123.4")), Value::Real(123.4));
        assert_eq!(toreal(&s("1e3")), Value::Real(1000.0));
        assert_eq!(toreal(&s("-Infinity")), Value::Real(f64::NEG_INFINITY));
        assert!(matches!(toreal(&s("NaN")), Value::Real(x) if x.is_nan()));
        assert_eq!(toreal(&Value::Long(2)), Value::Real(2.0));
        assert_eq!(toreal(&Value::Bool(false)), Value::Real(0.0));
        assert_eq!(toreal(&s("1,5")), Value::Null);
        assert_eq!(toreal(&Value::Null), Value::Null);
    }

    #[test]
    fn tobool_follows_reference_examples() {
        assert_eq!(tobool(&s("true")), Value::Bool(true));
        assert_eq!(tobool(&s("false")), Value::Bool(false));
        assert_eq!(tobool(&Value::Long(1)), Value::Bool(true));
        assert_eq!(tobool(&Value::Long(123)), Value::Bool(true));
        assert_eq!(tobool(&Value::Int(0)), Value::Bool(false));
        assert_eq!(toboolean(&s(" TRUE ")), Value::Bool(true));
        assert_eq!(tobool(&s("1")), Value::Null);
        assert_eq!(tobool(&s("yes")), Value::Null);
        assert_eq!(tobool(&Value::Real(f64::NAN)), Value::Null);
        assert_eq!(tobool(&Value::Null), Value::Null);
    }

    #[test]
    fn todatetime_and_totimespan_parse_text() {
        assert_eq!(
            todatetime(&s("2015-12-31 23:59:59.9")),
            todatetime(&s("2015-12-31T23:59:59.900Z"))
        );
        assert!(matches!(todatetime(&s("12-02-2022")), Value::DateTime(_)));
        assert_eq!(todatetime(&s("not a date")), Value::Null);
        assert_eq!(todatetime(&Value::Long(5)), Value::Null);
        assert_eq!(todatetime(&Value::Null), Value::Null);
        assert_eq!(
            totimespan(&s("0.00:01:00")),
            Value::TimeSpan(TimeSpan(60 * PER_SECOND))
        );
        assert_eq!(
            totimespan(&s("1min")),
            Value::TimeSpan(TimeSpan(60 * PER_SECOND))
        );
        assert_eq!(totimespan(&s("soon")), Value::Null);
        assert_eq!(totimespan(&Value::Long(5)), Value::Null);
        assert_eq!(totimespan(&Value::Null), Value::Null);
    }

    #[test]
    fn parse_json_follows_the_reference() {
        assert_eq!(parse_json(&s("")), Value::Null);
        assert_eq!(parse_json(&s("  ")), Value::Null);
        assert_eq!(parse_json(&s("21")), Value::Long(21));
        assert_eq!(parse_json(&s(r#""21""#)), s("21"));
        assert_eq!(parse_json(&s("not json")), s("not json"));
        assert_eq!(todynamic(&Value::Long(4)), Value::Long(4));
        assert_eq!(parse_json(&Value::Null), Value::Null);
        let v = parse_json(&s(r#"{"a":123, "b":"hello", "c":[1,2,3], "d":{}}"#));
        assert_eq!(to_string(&v), r#"{"a":123,"b":"hello","c":[1,2,3],"d":{}}"#);
        assert_eq!(parse_json(&v), v);
    }

    #[test]
    fn parse_json_of_nested_json_string_needs_tostring() {
        let d = parse_json(&s(r#"{"a":123, "b":"{\"c\":456}"}"#));
        let b = crate::ops::member(&d, "b");
        assert_eq!(parse_json(&b), parse_json(&s(r#"{"c":456}"#)));
    }

    #[test]
    fn toguid_reads_plain_and_hyphenated_hex() {
        let want = Value::Guid("01234567-89ab-cdef-0123-456789abcdef".into());
        assert_eq!(toguid(&s("0123456789abcdef0123456789abcdef")), want);
        assert_eq!(toguid(&s("0123456789ab-cdef-0123-456789abcdef")), want);
        assert_eq!(
            toguid(&s("0123-4567-89ab-cdef-0123-456789abcdef")),
            Value::Null
        );
        assert_eq!(
            toguid(&s("01234567--89ab-cdef-0123-456789abcdef")),
            Value::Null
        );
        assert_eq!(toguid(&s("01234567-89ab-cdef-0123-456789abcdef")), want);
        assert_eq!(
            toguid(&s("01234567-89AB-CDEF-0123-456789ABCDEF trailing")),
            want
        );
        assert_eq!(toguid(&s("0123456789ABCDEF0123456789ABCDEFxyz")), want);
        assert_eq!(toguid(&s("a string that isn't a guid")), Value::Null);
        assert_eq!(toguid(&s("0123")), Value::Null);
        assert_eq!(toguid(&s("é123456789abcdef0123456789abcdef")), Value::Null);
        assert_eq!(toguid(&want), want);
        assert_eq!(toguid(&Value::Null), Value::Null);
    }

    #[test]
    fn tohex_follows_reference_examples() {
        assert_eq!(tohex(&[Value::Long(256)]), s("100"));
        assert_eq!(tohex(&[Value::Long(-256)]), s("ffffffffffffff00"));
        assert_eq!(tohex(&[Value::Int(-256), Value::Long(8)]), s("ffffff00"));
        assert_eq!(tohex(&[Value::Long(256), Value::Long(8)]), s("00000100"));
        assert_eq!(tohex(&[Value::Long(256), Value::Long(2)]), s("100"));
        assert_eq!(
            tohex(&[Value::Long(1), Value::Long(40)]),
            s("0000000000000001")
        );
        assert_eq!(tohex(&[Value::Null]), Value::Null);
        assert_eq!(tohex(&[s("1")]), Value::Null);
        assert_eq!(tohex(&[]), Value::Null);
    }

    #[test]
    fn todecimal_keeps_every_digit() {
        let dec = |t: &str| Value::Decimal(Decimal::parse(t).unwrap());
        assert_eq!(todecimal(&s("123.45678")), dec("123.45678"));
        assert_eq!(todecimal(&s(" 1e5 ")), dec("100000"));
        assert_eq!(todecimal(&Value::Real(0.1)), dec("0.1"));
        assert_eq!(todecimal(&Value::Long(-7)), dec("-7"));
        assert_eq!(todecimal(&Value::Bool(true)), dec("1"));
        assert_eq!(todecimal(&s("abc")), Value::Null);
        assert_eq!(todecimal(&Value::Real(f64::NAN)), Value::Null);
        assert_eq!(todecimal(&Value::Null), Value::Null);
        assert_eq!(tolong(&dec("-2.7")), Value::Long(-2));
        assert_eq!(toreal(&dec("2.5")), Value::Real(2.5));
        assert_eq!(tostring(&dec("-0.050")), s("-0.05"));
    }

    #[test]
    fn parse_version_pads_each_part_to_eight_digits() {
        let version = |t: &'static str| tostring(&parse_version(&s(t)));
        assert_eq!(version("1.2.3.4"), s("1000000020000000300000004"));
        assert_eq!(version("0.0.0.5"), s("5"));
        assert_eq!(version("0.2"), s("20000000000000000"));
        assert_eq!(parse_version(&s("1.0")), parse_version(&s("1.0.0.0")));
        assert_eq!(
            version("99999999.99999999.99999999.99999999"),
            s("99999999999999999999999999999999")
        );
        for bad in ["", "1..2", "1.2.3.4.5", "123456789", "1.a", "-1", "1.2."] {
            assert_eq!(parse_version(&s(bad)), Value::Null, "{bad:?}");
        }
        assert_eq!(parse_version(&Value::Null), Value::Null);
    }
}
