//! Textual forms of KQL values: `datetime`, `timespan` and `real` text, and
//! `tostring`.
//!
//! JSON (dynamic values as text, and JSON text as dynamic values) lives in
//! [`crate::json`]; its entry points are re-exported here so that everything
//! textual is reachable from one module.
//!
//! Reference: `scalar-data-types/datetime.md`, `scalar-data-types/timespan.md`,
//! `scalar-data-types/real.md` and `tostring-function.md` in the KQL reference.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::value::{ticks, DateTime, TimeSpan, Value};
use kql_literal::datetime::civil_from_days;

pub use crate::json::{from_json, parse_json_text, to_json, write_json};

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch. KQL's `datetime`
/// counts from 0001-01-01; [`DateTime`] counts from 1970-01-01; add this to go
/// from ours to KQL's (what `tolong(datetime)` shows, and what `bin` aligns to).
pub const UNIX_EPOCH_DOTNET_TICKS: i64 = kql_literal::datetime::UNIX_EPOCH_DOTNET_TICKS;

/// The earliest KQL `datetime`, 0001-01-01T00:00:00Z, in [`DateTime`] ticks.
pub const DATETIME_MIN: DateTime = DateTime(kql_literal::datetime::MIN_TICKS);

/// The latest KQL `datetime`, 9999-12-31T23:59:59.9999999Z, in [`DateTime`]
/// ticks.
pub const DATETIME_MAX: DateTime = DateTime(kql_literal::datetime::MAX_TICKS);

/// `Some(d)` when `ticks` lies in KQL's datetime range (years 1 to 9999).
///
/// Datetime arithmetic that leaves the range gives null (the reference is
/// silent; .NET, which Kusto runs on, refuses such values).
pub fn datetime_checked(ticks: i64) -> Option<DateTime> {
    (DATETIME_MIN.0..=DATETIME_MAX.0)
        .contains(&ticks)
        .then_some(DateTime(ticks))
}

/// Appends `.fffffff` with trailing zeros trimmed, or nothing when `frac` is 0.
fn push_trimmed_fraction(out: &mut String, frac: u64) {
    if frac == 0 {
        return;
    }
    let digits = format!("{frac:07}");
    out.push('.');
    out.push_str(digits.trim_end_matches('0'));
}

/// ISO 8601 UTC text of a datetime, the form KQL's `tostring(datetime)` gives:
/// `2024-05-28T10:00:00Z`, with the fraction of a second only when it is not
/// zero, trailing zeros trimmed, at most 7 digits (`2024-05-28T10:00:00.5Z`).
///
/// The reference's examples (`bin-function.md`: `1970-05-11T00:00:00Z`) show
/// this form. Years outside 1..=9999 (which KQL cannot hold) are printed with
/// as many digits as they need, so this never fails.
pub fn format_datetime(d: DateTime) -> String {
    let days = d.0.div_euclid(ticks::PER_DAY);
    let in_day = d.0.rem_euclid(ticks::PER_DAY);
    let (y, m, day) = civil_from_days(days);
    let secs = in_day / ticks::PER_SECOND;
    let frac = (in_day % ticks::PER_SECOND) as u64;
    let mut out = String::with_capacity(28);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    push_trimmed_fraction(&mut out, frac);
    out.push('Z');
    out
}

/// Kusto's text of a timespan, `[-][d.]hh:mm:ss[.fffffff]`: `01:00:00`,
/// `1.02:03:04.5000000`. The fraction, when not zero, has all 7 digits, as
/// Kusto (and .NET's `TimeSpan.ToString()`) print it.
pub fn format_timespan(t: TimeSpan) -> String {
    let abs = t.0.unsigned_abs();
    let per_day = ticks::PER_DAY as u64;
    let per_second = ticks::PER_SECOND as u64;
    let days = abs / per_day;
    let secs = abs % per_day / per_second;
    let frac = abs % per_second;
    let mut out = String::with_capacity(26);
    if t.0 < 0 {
        out.push('-');
    }
    if days > 0 {
        let _ = write!(out, "{days}.");
    }
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    if frac != 0 {
        let _ = write!(out, ".{frac:07}");
    }
    out
}

/// The text KQL gives a `real`: the shortest text that reads back as the same
/// number, in .NET's `double.ToString()` layout, which Kusto uses: plain
/// decimal when the decimal exponent is in -5 < e < 15 (`1.5`, `1` for 1.0,
/// `0.0001`), else scientific with a signed exponent of at least two digits
/// (`1E+15`, `1E-05`, `1.5E+20`); `NaN`, `Infinity`, `-Infinity`.
///
/// The reference is silent beyond `tostring(123) == "123"`; this follows the
/// .NET runtime Kusto is built on.
pub fn format_real(x: f64) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    // `{:e}` prints the shortest round-trip digits: `-1.2345e-7`, `1e20`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if negative {
        out.push('-');
    }
    if -5 < exp && exp < 15 {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.push_str(&"0".repeat(int_len - digits.len()));
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.push_str(&"0".repeat((-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "E{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
    out
}

/// KQL `tostring` of any value, borrowing when the value is a string.
///
/// See [`to_string`] for the forms.
pub fn to_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Guid(g) => Cow::Borrowed(g.as_str()),
        Value::Null => Cow::Borrowed(""),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        other => Cow::Owned(to_string(other)),
    }
}

/// KQL `tostring` (`tostring-function.md`): null → `""`; a string as it is;
/// `true`/`false`; integers in decimal; reals per [`format_real`]; datetimes
/// per [`format_datetime`]; timespans per [`format_timespan`]; a guid as its
/// lowercase text; arrays and property bags as compact JSON (see
/// [`write_json`], keys in order, strings JSON-escaped).
pub fn to_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Long(n) => n.to_string(),
        Value::Real(x) => format_real(*x),
        Value::Decimal(d) => d.to_string(),
        Value::String(s) | Value::Guid(s) => s.as_str().to_owned(),
        Value::DateTime(d) => format_datetime(*d),
        Value::TimeSpan(t) => format_timespan(*t),
        Value::Array(_) | Value::Bag(_) => {
            let mut out = String::new();
            write_json(v, &mut out);
            out
        }
    }
}

/// Parses the datetime forms of `scalar-data-types/datetime.md`, as
/// `todatetime()` does, with the decoder kqlc's lexer uses for `datetime(...)`
/// literals ([`kql_literal::datetime::parse`], which lists the forms). `None`
/// for anything else, an invalid date, or one outside years 1–9999.
pub fn parse_datetime(s: &str) -> Option<DateTime> {
    kql_literal::datetime::parse(s).map(DateTime)
}

/// Parses what `totimespan()` accepts: exactly what a `timespan(...)`
/// literal accepts, decoded by the same code (`kql_literal::parse_timespan`,
/// which kqlc's lexer calls too):
///
/// - .NET's timespan text `[-][d.]hh:mm[:ss[.fffffff]]`: `1.02:03:04.5`,
///   `02:03:04`, `0.00:01:00`, `-01:00:00`; hours 0–23, minutes and seconds
///   0–59, at most 7 fraction digits;
/// - a bare number, meaning days (`time(2)` is 2 days in the reference);
/// - a number (with optional fraction) and a unit: `2d`, `1.5h`, `30m`,
///   `10s`, `100ms`, `10microsecond`, `1tick`, `15 seconds`; every unit
///   name of `kql_literal::TIMESPAN_UNITS`; a fraction finer than a tick is
///   truncated toward zero.
///
/// A leading `-` negates. Surrounding whitespace is ignored. Anything else,
/// or a value beyond the tick range, gives `None`.
pub fn parse_timespan(s: &str) -> Option<TimeSpan> {
    let s = s.trim();
    if s.is_empty() || !s.is_ascii() {
        return None;
    }
    kql_literal::parse_timespan(s).ok().map(TimeSpan)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::value::ticks::*;

    fn dt(s: &str) -> DateTime {
        parse_datetime(s).unwrap_or_else(|| panic!("{s} should parse"))
    }

    #[test]
    fn format_datetime_trims_the_fraction() {
        assert_eq!(format_datetime(DateTime(0)), "1970-01-01T00:00:00Z");
        let d = dt("2024-05-28T10:00:00Z");
        assert_eq!(format_datetime(d), "2024-05-28T10:00:00Z");
        assert_eq!(
            format_datetime(DateTime(d.0 + 5_000_000)),
            "2024-05-28T10:00:00.5Z"
        );
        assert_eq!(
            format_datetime(DateTime(d.0 + 1_234_567)),
            "2024-05-28T10:00:00.1234567Z"
        );
        assert_eq!(format_datetime(DATETIME_MIN), "0001-01-01T00:00:00Z");
        assert_eq!(
            format_datetime(DATETIME_MAX),
            "9999-12-31T23:59:59.9999999Z"
        );
        assert_eq!(
            format_datetime(DateTime(-1)),
            "1969-12-31T23:59:59.9999999Z"
        );
    }

    #[test]
    fn format_datetime_never_panics_at_the_extremes() {
        let _ = format_datetime(DateTime(i64::MIN));
        let _ = format_datetime(DateTime(i64::MAX));
    }

    #[test]
    fn parse_datetime_reads_iso_forms() {
        let base = dt("2014-05-25T08:20:03Z");
        assert_eq!(format_datetime(base), "2014-05-25T08:20:03Z");
        assert_eq!(dt("2014-05-25T08:20:03"), base);
        assert_eq!(dt("2014-05-25 08:20:03"), base);
        assert_eq!(dt("  2014-05-25T08:20:03Z "), base);
        assert_eq!(dt("2014-05-25T08:20:03.123456Z").0, base.0 + 1_234_560);
        assert_eq!(dt("2014-05-25T08:20:03.123456789Z").0, base.0 + 1_234_567);
        assert_eq!(dt("2014-05-25T08:20").0, base.0 - 3 * PER_SECOND);
        assert_eq!(
            dt("2014-05-25").0,
            base.0 - (8 * 3600 + 20 * 60 + 3) * PER_SECOND
        );
        assert_eq!(dt("2014-5-25 8:20:03"), base);
        assert_eq!(dt("2014-05-25T10:20:03+02:00"), base);
        assert_eq!(dt("2014-05-25T03:20:03-0500"), base);
        assert_eq!(dt("2014-05-25T08:20:03 GMT"), base);
        assert_eq!(dt("2015-12-31 23:59:59.9"), dt("2015-12-31T23:59:59.900Z"));
    }

    #[test]
    fn parse_datetime_reads_rfc_forms() {
        let base = dt("2024-05-28T10:00:00Z");
        assert_eq!(dt("Tue, 28 May 2024 10:00:00 GMT"), base);
        assert_eq!(dt("28 May 2024 10:00:00"), base);
        assert_eq!(dt("Tue, 28 May 24 10:00 GMT"), base);
        assert_eq!(dt("Tuesday, 28-May-24 10:00:00 GMT"), base);
        assert_eq!(dt("28-May-24 12:00:00 +0200"), base);
        assert_eq!(dt("Sat, 8 Nov 14 15:05:02 GMT"), dt("2014-11-08T15:05:02Z"));
        assert_eq!(dt("8 Nov 99 15:05"), dt("1999-11-08T15:05"));
    }

    #[test]
    fn parse_datetime_reads_month_first_dates() {
        assert_eq!(dt("12-02-2022"), dt("2022-12-02"));
        assert_eq!(dt("5/28/2024 10:00"), dt("2024-05-28T10:00:00Z"));
    }

    #[test]
    fn parse_datetime_rejects_invalid_text() {
        for s in [
            "",
            "   ",
            "yesterday",
            "2023-02-30",
            "2024-13-01",
            "2024-05-28T24:00:00",
            "2024-05-28T10:60",
            "2024-05-28X10:00",
            "2024-05-28T10:00:00Zjunk",
            "2024-05-28T10:00:00.Z",
            "Foo, 28 May 2024 10:00:00",
            "28 Mai 2024 10:00:00",
            "10000-01-01",
            "2024-05-28T10:00:00+25:00",
            "é2024-05-28",
        ] {
            assert_eq!(parse_datetime(s), None, "{s:?}");
        }
    }

    #[test]
    fn format_timespan_uses_kusto_layout() {
        assert_eq!(format_timespan(TimeSpan(PER_HOUR)), "01:00:00");
        assert_eq!(format_timespan(TimeSpan(0)), "00:00:00");
        assert_eq!(
            format_timespan(TimeSpan(
                PER_DAY + 2 * PER_HOUR + 3 * PER_MINUTE + 4 * PER_SECOND + 5_000_000
            )),
            "1.02:03:04.5000000"
        );
        assert_eq!(format_timespan(TimeSpan(-PER_HOUR)), "-01:00:00");
        assert_eq!(format_timespan(TimeSpan(1)), "00:00:00.0000001");
        assert_eq!(format_timespan(TimeSpan(14 * PER_DAY)), "14.00:00:00");
        let _ = format_timespan(TimeSpan(i64::MIN));
    }

    #[test]
    fn parse_timespan_reads_clock_and_literal_forms() {
        let p = |s: &str| parse_timespan(s).map(|t| t.0);
        assert_eq!(
            p("1.02:03:04.5"),
            Some(PER_DAY + 2 * PER_HOUR + 3 * PER_MINUTE + 4 * PER_SECOND + 5_000_000)
        );
        assert_eq!(
            p("02:03:04"),
            Some(2 * PER_HOUR + 3 * PER_MINUTE + 4 * PER_SECOND)
        );
        assert_eq!(p("0.00:01:00"), Some(PER_MINUTE));
        assert_eq!(p("02:03"), Some(2 * PER_HOUR + 3 * PER_MINUTE));
        assert_eq!(p("-01:00:00"), Some(-PER_HOUR));
        assert_eq!(p("2"), Some(2 * PER_DAY));
        assert_eq!(p("1.5"), Some(36 * PER_HOUR));
        assert_eq!(p("2millisec"), Some(2 * PER_MILLISECOND));
        assert_eq!(p("3micros"), Some(30));
        assert_eq!(p("250nanoseconds"), Some(2));
        assert_eq!(p("1d"), Some(PER_DAY));
        assert_eq!(p("2h"), Some(2 * PER_HOUR));
        assert_eq!(p("30m"), Some(30 * PER_MINUTE));
        assert_eq!(p("10s"), Some(10 * PER_SECOND));
        assert_eq!(p("100ms"), Some(100 * PER_MILLISECOND));
        assert_eq!(p("1.5h"), Some(90 * PER_MINUTE));
        assert_eq!(p("0.1s"), Some(PER_SECOND / 10));
        assert_eq!(p("10microsecond"), Some(100));
        assert_eq!(p("1tick"), Some(1));
        assert_eq!(p("15 seconds"), Some(15 * PER_SECOND));
        assert_eq!(p("-1d"), Some(-PER_DAY));
        assert_eq!(p(" 5m "), Some(5 * PER_MINUTE));
    }

    #[test]
    fn parse_timespan_rejects_invalid_text() {
        for s in [
            "",
            "-",
            "abc",
            "1x",
            "24:00:00",
            "01:60:00",
            "01:00:00.12345678",
            "1.",
            "5mins",
            "d",
            "99999999999999999999d",
            "1.2.3",
            "01:00:00junk",
        ] {
            assert_eq!(parse_timespan(s), None, "{s:?}");
        }
    }

    #[test]
    fn timespan_text_round_trips() {
        for t in [0, 1, PER_SECOND, -PER_DAY - 1, 123_456_789_012_345] {
            assert_eq!(
                parse_timespan(&format_timespan(TimeSpan(t))),
                Some(TimeSpan(t))
            );
        }
    }

    #[test]
    fn format_real_follows_dotnet_layout() {
        assert_eq!(format_real(1.5), "1.5");
        assert_eq!(format_real(1.0), "1");
        assert_eq!(format_real(-2.0), "-2");
        assert_eq!(format_real(0.0), "0");
        assert_eq!(format_real(123.45), "123.45");
        assert_eq!(format_real(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(format_real(0.0001), "0.0001");
        assert_eq!(format_real(0.00001), "1E-05");
        assert_eq!(format_real(1e14), "100000000000000");
        assert_eq!(format_real(1e15), "1E+15");
        assert_eq!(format_real(1.5e20), "1.5E+20");
        assert_eq!(format_real(-1.25e-7), "-1.25E-07");
        assert_eq!(format_real(f64::MAX), "1.7976931348623157E+308");
        assert_eq!(format_real(f64::NAN), "NaN");
        assert_eq!(format_real(f64::INFINITY), "Infinity");
        assert_eq!(format_real(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn real_text_reads_back_as_the_same_number() {
        for x in [1.5, 1e-300, 123_456_789.123, 1e15, 5e-324, -0.000_012_5] {
            let s = format_real(x);
            assert_eq!(s.parse::<f64>().ok(), Some(x), "{s}");
        }
    }

    #[test]
    fn to_string_gives_kql_tostring() {
        assert_eq!(to_string(&Value::Null), "");
        assert_eq!(to_string(&Value::from_static("abc")), "abc");
        assert_eq!(to_string(&Value::Bool(true)), "true");
        assert_eq!(to_string(&Value::Int(-5)), "-5");
        assert_eq!(to_string(&Value::Long(123)), "123");
        assert_eq!(to_string(&Value::Real(1.0)), "1");
        assert_eq!(
            to_string(&Value::TimeSpan(TimeSpan(PER_SECOND))),
            "00:00:01"
        );
        assert_eq!(
            to_string(&Value::DateTime(DateTime(0))),
            "1970-01-01T00:00:00Z"
        );
        assert_eq!(
            to_string(&Value::Guid("01234567-89ab-cdef-0123-456789abcdef".into())),
            "01234567-89ab-cdef-0123-456789abcdef"
        );
        let arr = crate::json::parse_json_text(r#"[1,"a\"b",{"k":null,"a":2.5}]"#);
        assert_eq!(
            to_string(&arr.unwrap_or_default()),
            r#"[1,"a\"b",{"k":null,"a":2.5}]"#
        );
    }

    #[test]
    fn to_text_borrows_strings() {
        let v = Value::from_static("abc");
        assert!(matches!(to_text(&v), Cow::Borrowed("abc")));
        assert!(matches!(to_text(&Value::Null), Cow::Borrowed("")));
        assert_eq!(to_text(&Value::Long(7)), "7");
    }

    #[test]
    fn datetime_checked_enforces_the_kql_range() {
        assert_eq!(datetime_checked(0), Some(DateTime(0)));
        assert_eq!(datetime_checked(DATETIME_MAX.0 + 1), None);
        assert_eq!(datetime_checked(DATETIME_MIN.0 - 1), None);
    }
}
