//! Date and time functions: `now`, `ago`, `startofday`, and `bin` (also
//! `floor`), which rounds numbers, timespans and datetimes down.

use crate::context::Context;
use crate::text::{datetime_checked, UNIX_EPOCH_DOTNET_TICKS};
use crate::value::{ticks, TimeSpan, Value};

/// `now()` (`now-function.md`): the time the run started (or the `--now`
/// given for replaying old logs), the same everywhere in one run, as Kusto's
/// `now()` is the same across one query.
pub fn now(ctx: &Context) -> Value {
    Value::DateTime(ctx.now)
}

/// `ago(timespan)` (`ago-function.md`): `now()` minus `timespan`
/// (`where Timestamp > ago(1h)`). Null, a non-timespan argument, or a result
/// outside years 1–9999 → null.
pub fn ago(ctx: &Context, span: &Value) -> Value {
    match span {
        Value::TimeSpan(t) => ctx
            .now
            .0
            .checked_sub(t.0)
            .and_then(datetime_checked)
            .map_or(Value::Null, Value::DateTime),
        _ => Value::Null,
    }
}

/// `startofday(date)` (`startofday-function.md`): midnight (UTC) at the start
/// of the day holding `date`. Null or a non-datetime → null.
pub fn startofday(d: &Value) -> Value {
    startofday_offset(d, &Value::Long(0))
}

/// `startofday(date, offset)`: [`startofday`] shifted by `offset` whole days
/// (`startofday(datetime(2017-01-01 10:10:17), -1)` is `2016-12-31`). A null
/// or non-integer offset, or a result outside years 1–9999 → null.
pub fn startofday_offset(d: &Value, offset: &Value) -> Value {
    let Value::DateTime(d) = d else {
        return Value::Null;
    };
    let days = match offset {
        Value::Int(n) => i64::from(*n),
        Value::Long(n) => *n,
        _ => return Value::Null,
    };
    d.0.div_euclid(ticks::PER_DAY)
        .checked_add(days)
        .and_then(|day| day.checked_mul(ticks::PER_DAY))
        .and_then(datetime_checked)
        .map_or(Value::Null, Value::DateTime)
}

/// Floors `x` to a multiple of `size` (> 0), `None` on overflow.
fn floor_to(x: i64, size: i64) -> Option<i64> {
    x.div_euclid(size).checked_mul(size)
}

/// `bin(value, roundTo)` (`bin-function.md`): `value` rounded down to a
/// multiple of `roundTo`: `bin(4.5, 1)` is 4, `bin(time(16d), 7d)` is `14d`,
/// `bin(datetime(1970-05-11 13:45:07), 1d)` is `1970-05-11`.
///
/// - the result has the type of `value` (the compiler types `bin` so):
///   int → int, long → long, real → real; an integer value binned by a real
///   size is floored in floating point (`bin(7, 2.5)` is 5);
/// - timespan by timespan → timespan;
/// - datetime by timespan → datetime, in multiples counted from KQL's
///   datetime origin 0001-01-01 (so `7d` bins fall on the same days as in
///   Kusto, not on Unix-epoch weeks);
/// - "Null values, a null bin size, or a negative bin size will result in
///   null"; so do a zero bin size, NaN, other type pairs and overflow.
pub fn bin(v: &Value, size: &Value) -> Value {
    match (v, size) {
        (Value::TimeSpan(t), Value::TimeSpan(k)) if k.0 > 0 => {
            floor_to(t.0, k.0).map_or(Value::Null, |t| Value::TimeSpan(TimeSpan(t)))
        }
        (Value::DateTime(d), Value::TimeSpan(k)) if k.0 > 0 => {
            d.0.checked_add(UNIX_EPOCH_DOTNET_TICKS)
                .and_then(|abs| floor_to(abs, k.0))
                .and_then(|abs| abs.checked_sub(UNIX_EPOCH_DOTNET_TICKS))
                .and_then(datetime_checked)
                .map_or(Value::Null, Value::DateTime)
        }
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
            let (Some(x), Some(k)) = (integer(v), integer(size)) else {
                return Value::Null;
            };
            if k <= 0 {
                return Value::Null;
            }
            integer_like(v, floor_to(x, k))
        }
        _ => match (real(v), real(size)) {
            (Some(x), Some(k)) if k > 0.0 => {
                let floored = (x / k).floor() * k;
                match v {
                    Value::Real(_) => Value::Real(floored),
                    _ => integer_like(v, real_to_i64(floored)),
                }
            }
            _ => Value::Null,
        },
    }
}

/// An integer result in the integer type of `like` (int or long); null when
/// absent or out of that type's range.
fn integer_like(like: &Value, n: Option<i64>) -> Value {
    match (like, n) {
        (Value::Int(_), Some(n)) => i32::try_from(n).map_or(Value::Null, Value::Int),
        (_, Some(n)) => Value::Long(n),
        (_, None) => Value::Null,
    }
}

fn real_to_i64(x: f64) -> Option<i64> {
    (x.is_finite() && x >= i64::MIN as f64 && x < i64::MAX as f64).then_some(x as i64)
}

/// `floor(value, roundTo)`: the same as [`bin`] (`bin-function.md`: "The
/// `bin()` and `floor()` functions are equivalent").
pub fn floor(v: &Value, size: &Value) -> Value {
    bin(v, size)
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        _ => None,
    }
}

fn real(v: &Value) -> Option<f64> {
    match v {
        Value::Int(n) => Some(f64::from(*n)),
        Value::Long(n) => Some(*n as f64),
        Value::Real(x) => Some(*x),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{format_datetime, parse_datetime, DATETIME_MAX, DATETIME_MIN};
    use crate::value::ticks::*;
    use crate::value::DateTime;

    fn dt(s: &str) -> Value {
        Value::DateTime(parse_datetime(s).unwrap_or_else(|| panic!("{s}")))
    }

    fn ts(t: i64) -> Value {
        Value::TimeSpan(TimeSpan(t))
    }

    fn ctx(now: &str) -> Context {
        let Value::DateTime(now) = dt(now) else {
            unreachable!()
        };
        Context { now }
    }

    #[test]
    fn now_and_ago_count_from_the_run_start() {
        let c = ctx("2024-05-28T10:00:00Z");
        assert_eq!(now(&c), dt("2024-05-28T10:00:00Z"));
        assert_eq!(ago(&c, &ts(PER_HOUR)), dt("2024-05-28T09:00:00Z"));
        assert_eq!(ago(&c, &ts(-PER_DAY)), dt("2024-05-29T10:00:00Z"));
        assert_eq!(ago(&c, &Value::Null), Value::Null);
        assert_eq!(ago(&c, &Value::Long(5)), Value::Null);
        assert_eq!(ago(&c, &ts(i64::MAX)), Value::Null);
    }

    #[test]
    fn startofday_truncates_to_midnight() {
        let d = dt("2017-01-01 10:10:17");
        assert_eq!(startofday(&d), dt("2017-01-01"));
        assert_eq!(startofday_offset(&d, &Value::Long(-1)), dt("2016-12-31"));
        assert_eq!(startofday_offset(&d, &Value::Int(1)), dt("2017-01-02"));
        assert_eq!(startofday(&dt("1969-12-31T23:00:00Z")), dt("1969-12-31"));
        assert_eq!(startofday(&Value::Null), Value::Null);
        assert_eq!(startofday_offset(&d, &Value::Null), Value::Null);
        let last = Value::DateTime(DATETIME_MAX);
        assert_eq!(startofday_offset(&last, &Value::Long(1)), Value::Null);
        assert_eq!(
            startofday_offset(&last, &Value::Long(i64::MAX)),
            Value::Null
        );
    }

    #[test]
    fn bin_follows_reference_examples() {
        assert_eq!(bin(&Value::Real(4.5), &Value::Long(1)), Value::Real(4.0));
        assert_eq!(bin(&ts(16 * PER_DAY), &ts(7 * PER_DAY)), ts(14 * PER_DAY));
        let b = bin(&dt("1970-05-11 13:45:07"), &ts(PER_DAY));
        assert_eq!(b, dt("1970-05-11"));
        let Value::DateTime(d) = b else {
            unreachable!()
        };
        assert_eq!(format_datetime(d), "1970-05-11T00:00:00Z");
    }

    #[test]
    fn bin_aligns_datetimes_to_kql_origin() {
        // 0001-01-01 was a Monday; 7-day bins start on Mondays.
        assert_eq!(
            bin(&dt("2024-05-30T12:00:00Z"), &ts(7 * PER_DAY)),
            dt("2024-05-27")
        );
        assert_eq!(
            bin(&dt("1969-12-31T23:59:00Z"), &ts(PER_HOUR)),
            dt("1969-12-31T23:00")
        );
        let first = Value::DateTime(DATETIME_MIN);
        assert_eq!(bin(&first, &ts(PER_DAY)), first);
    }

    #[test]
    fn bin_of_numbers() {
        assert_eq!(bin(&Value::Long(17), &Value::Long(5)), Value::Long(15));
        assert_eq!(bin(&Value::Int(-1), &Value::Int(5)), Value::Int(-5));
        assert_eq!(bin(&Value::Int(17), &Value::Long(5)), Value::Int(15));
        assert_eq!(bin(&Value::Int(i32::MIN), &Value::Long(3)), Value::Null);
        assert_eq!(bin(&Value::Long(7), &Value::Real(2.5)), Value::Long(5));
        assert_eq!(bin(&Value::Int(7), &Value::Real(2.5)), Value::Int(5));
        assert_eq!(
            bin(&Value::Real(-0.5), &Value::Real(1.0)),
            Value::Real(-1.0)
        );
        assert_eq!(floor(&Value::Long(9), &Value::Long(10)), Value::Long(0));
    }

    #[test]
    fn bin_rejects_bad_sizes_and_nulls() {
        assert_eq!(bin(&Value::Long(7), &Value::Long(0)), Value::Null);
        assert_eq!(bin(&Value::Long(7), &Value::Long(-1)), Value::Null);
        assert_eq!(bin(&Value::Real(7.0), &Value::Real(-1.0)), Value::Null);
        assert_eq!(bin(&Value::Real(7.0), &Value::Real(f64::NAN)), Value::Null);
        assert_eq!(bin(&ts(PER_HOUR), &ts(0)), Value::Null);
        assert_eq!(bin(&Value::Null, &Value::Long(1)), Value::Null);
        assert_eq!(bin(&Value::Long(1), &Value::Null), Value::Null);
        assert_eq!(bin(&dt("2024-01-01"), &Value::Long(1)), Value::Null);
        assert_eq!(bin(&Value::from_static("5"), &Value::Long(1)), Value::Null);
        assert_eq!(bin(&Value::Long(i64::MIN), &Value::Long(3)), Value::Null);
        assert_eq!(
            bin(&Value::DateTime(DateTime(i64::MAX)), &ts(PER_DAY)),
            Value::Null
        );
    }
}
