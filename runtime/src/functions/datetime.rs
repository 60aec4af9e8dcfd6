//! Date and time functions: `now`, `ago`, `startof*`/`endof*` (day, week,
//! month, year), the calendar parts (`dayofweek`, `dayofmonth`,
//! `dayofyear`, `hourofday`, `getmonth`/`monthofyear`, `getyear`,
//! `week_of_year`, `datetime_part`), `datetime_add`, `datetime_diff`,
//! `make_datetime`, `make_timespan`, `unixtime_*_todatetime`,
//! `format_datetime`, `format_timespan`, and `bin` (also `floor`) and
//! `bin_at`, which round numbers, timespans and datetimes down.
//!
//! The calendar is the proleptic Gregorian one in UTC, years 1 to 9999 (the
//! range of KQL's `datetime`); a result outside it is null. Weeks start on
//! Sunday (`startofweek-function.md`, `dayofweek-function.md`), except the
//! ISO 8601 week number of `week_of_year`.

use chrono::{Datelike, Months, NaiveDate};

use super::{checked_long, integer_arg, real_arg};
use crate::context::Context;
use crate::text::{datetime_checked, UNIX_EPOCH_DOTNET_TICKS};
use crate::value::{ticks, DateTime, TimeSpan, Value};

/// `now([offset])` (`now-function.md`): the time the run started (or the
/// `--now` given for replaying old logs), the same everywhere in one run, as
/// Kusto's `now()` is the same across one query, plus the optional timespan
/// `offset`. A null or non-timespan offset, or a result outside years
/// 1–9999, gives null.
pub fn now(ctx: &Context, args: &[Value]) -> Value {
    match args {
        [] => Value::DateTime(ctx.now),
        [Value::TimeSpan(t), ..] => ctx
            .now
            .0
            .checked_add(t.0)
            .and_then(datetime_checked)
            .map_or(Value::Null, Value::DateTime),
        _ => Value::Null,
    }
}

/// `ingestion_time()` (`ingestion-time-function.md`): when the record was
/// ingested. A detector's records are ingested when it reads them, so this
/// is the time of reading: the run's `now()` in a batch run (or `--now`),
/// and in a live detector the clock as each event is read (the `now` a
/// live detector's context carries per event). See `docs/semantics.md`.
pub fn ingestion_time(ctx: &Context) -> Value {
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
                    _ => integer_like(v, checked_long(floored)),
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

/// A datetime as its civil date and the ticks into that day.
fn civil(d: DateTime) -> Option<(NaiveDate, i64)> {
    let abs = d.0.checked_add(UNIX_EPOCH_DOTNET_TICKS)?;
    let days = abs.div_euclid(ticks::PER_DAY);
    let date = NaiveDate::from_num_days_from_ce_opt(i32::try_from(days.checked_add(1)?).ok()?)?;
    Some((date, abs.rem_euclid(ticks::PER_DAY)))
}

/// The datetime of a civil date plus `time_of_day` ticks, if in range.
fn from_civil(date: NaiveDate, time_of_day: i64) -> Option<DateTime> {
    let days = i64::from(date.num_days_from_ce()) - 1;
    days.checked_mul(ticks::PER_DAY)?
        .checked_add(time_of_day)?
        .checked_sub(UNIX_EPOCH_DOTNET_TICKS)
        .and_then(datetime_checked)
}

fn datetime_value(d: Option<DateTime>) -> Value {
    d.map_or(Value::Null, Value::DateTime)
}

/// `date` moved by `months` calendar months, the day clamped to the end of
/// the month (as .NET's `AddMonths`).
fn add_months(date: NaiveDate, months: i64) -> Option<NaiveDate> {
    let magnitude = u32::try_from(months.unsigned_abs()).ok()?;
    if months >= 0 {
        date.checked_add_months(Months::new(magnitude))
    } else {
        date.checked_sub_months(Months::new(magnitude))
    }
}

/// The unit a `startof*`/`endof*` function rounds to.
#[derive(Clone, Copy)]
enum Period {
    Day,
    Week,
    Month,
    Year,
}

/// The start of the period holding `d`, moved by `offset` whole periods.
fn start_of(d: DateTime, period: Period, offset: i64) -> Option<DateTime> {
    let (date, _) = civil(d)?;
    let start = match period {
        Period::Day => {
            return d
                .0
                .checked_add(UNIX_EPOCH_DOTNET_TICKS)?
                .div_euclid(ticks::PER_DAY)
                .checked_add(offset)?
                .checked_mul(ticks::PER_DAY)?
                .checked_sub(UNIX_EPOCH_DOTNET_TICKS)
                .and_then(datetime_checked);
        }
        Period::Week => {
            let sunday = date.checked_sub_days(chrono::Days::new(u64::from(
                date.weekday().num_days_from_sunday(),
            )))?;
            let days = offset.checked_mul(7)?;
            let moved = if days >= 0 {
                sunday.checked_add_days(chrono::Days::new(days as u64))
            } else {
                sunday.checked_sub_days(chrono::Days::new(days.unsigned_abs()))
            };
            moved?
        }
        Period::Month => add_months(date.with_day(1)?, offset)?,
        Period::Year => add_months(date.with_day(1)?.with_month(1)?, offset.checked_mul(12)?)?,
    };
    from_civil(start, 0)
}

/// The last tick of the period holding `d`, moved by `offset` periods.
fn end_of(d: DateTime, period: Period, offset: i64) -> Option<DateTime> {
    let next = start_of(d, period, offset.checked_add(1)?);
    match next {
        Some(next) => datetime_checked(next.0 - 1),
        // The period after the last one is out of range: its end is the
        // last datetime when the period itself is in range.
        None => {
            start_of(d, period, offset)?;
            Some(crate::text::DATETIME_MAX)
        }
    }
}

/// Arguments of the `startof*`/`endof*` functions: a datetime and an
/// optional integer offset (default 0).
fn period_args(args: &[Value]) -> Option<(DateTime, i64)> {
    let Some(Value::DateTime(d)) = args.first() else {
        return None;
    };
    let offset = match args.get(1) {
        None => 0,
        Some(v) => integer_arg(v)?,
    };
    Some((*d, offset))
}

/// `startofday(date [, offset])` (`startofday-function.md`), arguments as a
/// slice: [`startofday`] or [`startofday_offset`].
pub fn startofday_args(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| start_of(d, Period::Day, o)))
}

/// `startofweek(date [, offset])` (`startofweek-function.md`), as a slice:
/// midnight of the Sunday that starts the week holding `date`, moved by
/// `offset` weeks. Null, a non-datetime, a non-integer offset, or a result
/// outside years 1–9999 → null (so do the other `startof*`/`endof*`).
pub fn startofweek(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| start_of(d, Period::Week, o)))
}

/// `startofmonth(date [, offset])` (`startofmonth-function.md`): midnight of
/// the first day of the month, moved by `offset` months.
pub fn startofmonth(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| start_of(d, Period::Month, o)))
}

/// `startofyear(date [, offset])` (`startofyear-function.md`): midnight of
/// January 1st, moved by `offset` years.
pub fn startofyear(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| start_of(d, Period::Year, o)))
}

/// `endofday(date [, offset])` (`endofday-function.md`): the last tick of the
/// day (`23:59:59.9999999`), moved by `offset` days.
pub fn endofday(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| end_of(d, Period::Day, o)))
}

/// `endofweek(date [, offset])` (`endofweek-function.md`): the last tick of
/// the Saturday that ends the week, moved by `offset` weeks.
pub fn endofweek(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| end_of(d, Period::Week, o)))
}

/// `endofmonth(date [, offset])` (`endofmonth-function.md`): the last tick
/// of the month (`endofmonth(datetime(2017-01-01 10:10:17), 1)` is
/// `2017-02-28T23:59:59.9999999Z`).
pub fn endofmonth(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| end_of(d, Period::Month, o)))
}

/// `endofyear(date [, offset])` (`endofyear-function.md`): the last tick of
/// December 31st, moved by `offset` years.
pub fn endofyear(args: &[Value]) -> Value {
    datetime_value(period_args(args).and_then(|(d, o)| end_of(d, Period::Year, o)))
}

/// A calendar part of a datetime as an int; null for null or a
/// non-datetime.
fn part(v: &Value, f: impl Fn(NaiveDate, i64) -> i64) -> Value {
    match v {
        Value::DateTime(d) => civil(*d)
            .map(|(date, tod)| f(date, tod))
            .and_then(|n| i32::try_from(n).ok())
            .map_or(Value::Null, Value::Int),
        _ => Value::Null,
    }
}

/// `dayofweek(date)` (`dayofweek-function.md`): the whole days since the
/// preceding Sunday, as a timespan (`dayofweek(datetime(1947-11-30))`, a
/// Sunday, is `00:00:00`; a Saturday is `6.00:00:00`).
pub fn dayofweek(v: &Value) -> Value {
    match v {
        Value::DateTime(d) => civil(*d).map_or(Value::Null, |(date, _)| {
            Value::TimeSpan(TimeSpan(
                i64::from(date.weekday().num_days_from_sunday()) * ticks::PER_DAY,
            ))
        }),
        _ => Value::Null,
    }
}

/// `dayofmonth(date)` (`dayofmonth-function.md`): the day of the month,
/// 1–31, as an int.
pub fn dayofmonth(v: &Value) -> Value {
    part(v, |date, _| i64::from(date.day()))
}

/// `dayofyear(date)` (`dayofyear-function.md`): the day of the year, 1–366,
/// as an int.
pub fn dayofyear(v: &Value) -> Value {
    part(v, |date, _| i64::from(date.ordinal()))
}

/// `hourofday(date)` (`hourofday-function.md`): the hour, 0–23, as an int.
pub fn hourofday(v: &Value) -> Value {
    part(v, |_, tod| tod / ticks::PER_HOUR)
}

/// `getmonth(date)` (`getmonth-function.md`; also `monthofyear`): the
/// month, 1–12, as an int.
pub fn getmonth(v: &Value) -> Value {
    part(v, |date, _| i64::from(date.month()))
}

/// `getyear(date)` (`getyear-function.md`): the year as an int.
pub fn getyear(v: &Value) -> Value {
    part(v, |date, _| i64::from(date.year()))
}

/// `week_of_year(date)` (`week-of-year-function.md`; also the deprecated
/// `weekofyear`): the ISO 8601 week number, 1–53, as an int
/// (`week_of_year(datetime(2020-12-31))` is 53,
/// `week_of_year(datetime(2000-01-01))` is 52).
pub fn week_of_year(v: &Value) -> Value {
    part(v, |date, _| i64::from(date.iso_week().week()))
}

/// The value of one `datetime_part` part.
fn date_part(name: &str, date: NaiveDate, tod: i64) -> Option<i64> {
    let fraction = tod % ticks::PER_SECOND;
    Some(match name.to_ascii_lowercase().as_str() {
        "year" => i64::from(date.year()),
        "quarter" => i64::from(date.month0() / 3 + 1),
        "month" => i64::from(date.month()),
        "week_of_year" | "weekofyear" | "week" => i64::from(date.iso_week().week()),
        "day" => i64::from(date.day()),
        "dayofyear" => i64::from(date.ordinal()),
        "hour" => tod / ticks::PER_HOUR,
        "minute" => tod / ticks::PER_MINUTE % 60,
        "second" => tod / ticks::PER_SECOND % 60,
        "millisecond" => fraction / ticks::PER_MILLISECOND,
        "microsecond" => fraction / ticks::PER_MICROSECOND,
        "nanosecond" => fraction * 100,
        _ => return None,
    })
}

/// `datetime_part(part, date)` (`datetime-part-function.md`; deprecated alias
/// `datepart`): the part of `date` named (case-insensitively) `Year`,
/// `Quarter`, `Month`, `week_of_year`, `Day`, `DayOfYear`, `Hour`, `Minute`,
/// `Second`, `Millisecond`, `Microsecond` or `Nanosecond`, as an int; for
/// `2017-10-30 01:02:03.7654321` these are 2017, 4, 10, 44, 30, 303, 1, 2,
/// 3, 765, 765432, 765432100. `week_of_year` is the ISO 8601 week. An
/// unknown part, null, or a non-datetime gives null.
pub fn datetime_part(name: &Value, v: &Value) -> Value {
    let Value::String(name) = name else {
        return Value::Null;
    };
    match v {
        Value::DateTime(d) => civil(*d)
            .and_then(|(date, tod)| date_part(name, date, tod))
            .and_then(|n| i32::try_from(n).ok())
            .map_or(Value::Null, Value::Int),
        _ => Value::Null,
    }
}

/// A period name of `datetime_add` and `datetime_diff`, lowercased.
fn period_name(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_ascii_lowercase()),
        _ => None,
    }
}

/// Ticks in one fixed-length period, or `None` for calendar periods.
fn fixed_period_ticks(period: &str) -> Option<i64> {
    Some(match period {
        "week" => 7 * ticks::PER_DAY,
        "day" => ticks::PER_DAY,
        "hour" => ticks::PER_HOUR,
        "minute" => ticks::PER_MINUTE,
        "second" => ticks::PER_SECOND,
        "millisecond" => ticks::PER_MILLISECOND,
        "microsecond" => ticks::PER_MICROSECOND,
        _ => return None,
    })
}

/// `datetime_add(period, amount, datetime)` (`datetime-add-function.md`):
/// `datetime` moved by `amount` periods, `period` being (case-insensitively)
/// `Year`, `Quarter`, `Month`, `Week`, `Day`, `Hour`, `Minute`, `Second`,
/// `Millisecond`, `Microsecond` or `Nanosecond`:
/// `datetime_add('month', -15, make_datetime(2017,1,1))` is `2015-10-01`.
/// Years, quarters and months move the calendar date and clamp the day to
/// the month's end (January 31st plus a month is February 28th or 29th, as
/// in .NET); nanoseconds are truncated to whole ticks (100 ns). An unknown
/// period, null, or a result outside years 1–9999 gives null.
pub fn datetime_add(period: &Value, amount: &Value, d: &Value) -> Value {
    let (Some(period), Some(amount), Value::DateTime(d)) =
        (period_name(period), integer_arg(amount), d)
    else {
        return Value::Null;
    };
    let months = match period.as_str() {
        "year" => amount.checked_mul(12),
        "quarter" => amount.checked_mul(3),
        "month" => Some(amount),
        "nanosecond" => {
            return datetime_value(d.0.checked_add(amount / 100).and_then(datetime_checked));
        }
        other => match fixed_period_ticks(other) {
            Some(unit) => {
                return datetime_value(
                    amount
                        .checked_mul(unit)
                        .and_then(|t| d.0.checked_add(t))
                        .and_then(datetime_checked),
                );
            }
            None => return Value::Null,
        },
    };
    datetime_value(months.and_then(|m| {
        let (date, tod) = civil(*d)?;
        from_civil(add_months(date, m)?, tod)
    }))
}

/// `datetime_diff(period, datetime1, datetime2)` (`datetime-diff-function.md`):
/// the number of `period` boundaries between `datetime2` and `datetime1`
/// (`datetime1 - datetime2`), as a long: both are truncated to the period
/// and the difference counted in whole periods, as the reference's examples
/// show (`datetime_diff('day', datetime(2017-10-29 00:00),
/// datetime(2017-09-30 23:59))` is 29, `'hour'` of 01:00 and 23:59 the day
/// before is 2, `'week'` counts Sunday-started weeks, `'nanosecond'` is the
/// tick difference × 100). Periods as in [`datetime_add`]. An unknown
/// period, null, or overflow gives null.
pub fn datetime_diff(period: &Value, a: &Value, b: &Value) -> Value {
    let (Some(period), Value::DateTime(a), Value::DateTime(b)) = (period_name(period), a, b) else {
        return Value::Null;
    };
    let result = match period.as_str() {
        "year" | "quarter" | "month" => (|| {
            let (x, _) = civil(*a)?;
            let (y, _) = civil(*b)?;
            let months = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
            Some(match period.as_str() {
                "year" => i64::from(x.year()) - i64::from(y.year()),
                "quarter" => months(x).div_euclid(3) - months(y).div_euclid(3),
                _ => months(x) - months(y),
            })
        })(),
        "nanosecond" => a.0.checked_sub(b.0).and_then(|t| t.checked_mul(100)),
        "week" => (|| {
            let x = start_of(*a, Period::Week, 0)?;
            let y = start_of(*b, Period::Week, 0)?;
            Some((x.0 - y.0) / (7 * ticks::PER_DAY))
        })(),
        other => fixed_period_ticks(other).and_then(|unit| {
            let x = a.0.checked_add(UNIX_EPOCH_DOTNET_TICKS)?.div_euclid(unit);
            let y = b.0.checked_add(UNIX_EPOCH_DOTNET_TICKS)?.div_euclid(unit);
            x.checked_sub(y)
        }),
    };
    result.map_or(Value::Null, Value::Long)
}

/// Ticks of a number of seconds given as a real (rounded to the nearest
/// tick) or an integer; `None` when out of range.
fn seconds_to_ticks(v: &Value) -> Option<i64> {
    match v {
        Value::Int(_) | Value::Long(_) => integer_arg(v)?.checked_mul(ticks::PER_SECOND),
        Value::Real(x) => checked_long((x * ticks::PER_SECOND as f64).round()),
        _ => None,
    }
}

/// `make_datetime(year, month, day [, hour, minute [, second]])`
/// (`make-datetime-function.md`), arguments as a slice: the datetime of the
/// given parts (`make_datetime(2017,10,01,12,11,0.1234567)` is
/// `2017-10-01T12:11:00.1234567Z`); `second` may be a real. The forms with
/// 3, 5 and 6 arguments are the reference's; 4 (an hour only) is accepted
/// too. A part out of range (month 1–12, a day of that month, hour 0–23,
/// minute 0–59, second 0 to below 60, year 1–9999), null, or a missing part
/// gives null.
pub fn make_datetime(args: &[Value]) -> Value {
    if !(3..=6).contains(&args.len()) {
        return Value::Null;
    }
    let int = |i: usize, default: i64| match args.get(i) {
        None => Some(default),
        Some(v) => integer_arg(v),
    };
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute)) =
        (int(0, 0), int(1, 0), int(2, 0), int(3, 0), int(4, 0))
    else {
        return Value::Null;
    };
    let second = match args.get(5) {
        None => Some(0),
        Some(v) => seconds_to_ticks(v),
    };
    let Some(second) = second else {
        return Value::Null;
    };
    if !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..60 * ticks::PER_SECOND).contains(&second)
    {
        return Value::Null;
    }
    let date = (|| {
        NaiveDate::from_ymd_opt(
            i32::try_from(year).ok()?,
            u32::try_from(month).ok()?,
            u32::try_from(day).ok()?,
        )
    })();
    datetime_value(date.and_then(|date| {
        from_civil(
            date,
            hour * ticks::PER_HOUR + minute * ticks::PER_MINUTE + second,
        )
    }))
}

/// `make_timespan(hour, minute)`, `make_timespan(hour, minute, second)`,
/// `make_timespan(day, hour, minute, second)` (`make-timespan-function.md`),
/// arguments as a slice: the timespan of the parts
/// (`make_timespan(1,12,30,55.123)` is `1.12:30:55.1230000`); `second` may
/// be a real. Hours must be 0–23, minutes 0–59 and seconds 0 to below 60, as
/// the reference gives them; a part out of range, null, or another number of
/// arguments gives null.
pub fn make_timespan(args: &[Value]) -> Value {
    let (day, rest) = match args.len() {
        2 | 3 => (Some(0), args),
        4 => (integer_arg(&args[0]), &args[1..]),
        _ => return Value::Null,
    };
    let (Some(day), Some(hour), Some(minute)) = (day, integer_arg(&rest[0]), integer_arg(&rest[1]))
    else {
        return Value::Null;
    };
    let second = match rest.get(2) {
        None => Some(0),
        Some(v) => seconds_to_ticks(v),
    };
    let Some(second) = second else {
        return Value::Null;
    };
    if !(0..24).contains(&hour)
        || !(0..60).contains(&minute)
        || !(0..60 * ticks::PER_SECOND).contains(&second)
    {
        return Value::Null;
    }
    day.checked_mul(ticks::PER_DAY)
        .and_then(|t| t.checked_add(hour * ticks::PER_HOUR + minute * ticks::PER_MINUTE + second))
        .map_or(Value::Null, |t| Value::TimeSpan(TimeSpan(t)))
}

/// The datetime `count` units of `unit_ticks` after the Unix epoch; reals
/// round to the nearest tick.
fn unix_to_datetime(v: &Value, ticks_per_unit: f64, integer: impl Fn(i64) -> Option<i64>) -> Value {
    let ticks = match v {
        Value::Int(_) | Value::Long(_) => integer_arg(v).and_then(integer),
        Value::Real(x) => checked_long((x * ticks_per_unit).round()),
        _ => None,
    };
    datetime_value(ticks.and_then(datetime_checked))
}

/// `unixtime_seconds_todatetime(seconds)`
/// (`unixtime-seconds-todatetime-function.md`): the datetime `seconds`
/// (a long or real) after 1970-01-01 (`1546300800` is
/// `2019-01-01T00:00:00Z`). Null, a non-number, or a result outside years
/// 1–9999 gives null.
pub fn unixtime_seconds_todatetime(v: &Value) -> Value {
    unix_to_datetime(v, ticks::PER_SECOND as f64, |n| {
        n.checked_mul(ticks::PER_SECOND)
    })
}

/// `unixtime_milliseconds_todatetime(milliseconds)`
/// (`unixtime-milliseconds-todatetime-function.md`).
pub fn unixtime_milliseconds_todatetime(v: &Value) -> Value {
    unix_to_datetime(v, ticks::PER_MILLISECOND as f64, |n| {
        n.checked_mul(ticks::PER_MILLISECOND)
    })
}

/// `unixtime_microseconds_todatetime(microseconds)`
/// (`unixtime-microseconds-todatetime-function.md`).
pub fn unixtime_microseconds_todatetime(v: &Value) -> Value {
    unix_to_datetime(v, ticks::PER_MICROSECOND as f64, |n| {
        n.checked_mul(ticks::PER_MICROSECOND)
    })
}

/// `unixtime_nanoseconds_todatetime(nanoseconds)`
/// (`unixtime-nanoseconds-todatetime-function.md`): nanoseconds are rounded
/// down to whole ticks (100 ns).
pub fn unixtime_nanoseconds_todatetime(v: &Value) -> Value {
    unix_to_datetime(v, 0.01, |n| Some(n.div_euclid(100)))
}

/// `bin_at(value, bin_size, fixed_point)` (`bin-at-function.md`): `value`
/// rounded down to a multiple of `bin_size` counted from `fixed_point`
/// (`bin_at(6.5, 2.5, 7)` is 4.5, `bin_at(time(1h), 1d, 12h)` is
/// `-12:00:00`, `bin_at(datetime(2017-05-15 10:20), 1d, datetime(1970-01-01
/// 12:00))` is `2017-05-14T12:00:00Z`). The result has the type of `value`;
/// datetimes and timespans need a timespan size and a fixed point of their
/// own type. A size ≤ 0, null, mismatched types or overflow give null.
pub fn bin_at(v: &Value, size: &Value, fixed: &Value) -> Value {
    match (v, size, fixed) {
        (Value::DateTime(x), Value::TimeSpan(k), Value::DateTime(f)) if k.0 > 0 => datetime_value(
            x.0.checked_sub(f.0)
                .and_then(|d| floor_to(d, k.0))
                .and_then(|d| f.0.checked_add(d))
                .and_then(datetime_checked),
        ),
        (Value::TimeSpan(x), Value::TimeSpan(k), Value::TimeSpan(f)) if k.0 > 0 => {
            x.0.checked_sub(f.0)
                .and_then(|d| floor_to(d, k.0))
                .and_then(|d| f.0.checked_add(d))
                .map_or(Value::Null, |t| Value::TimeSpan(TimeSpan(t)))
        }
        (
            Value::Int(_) | Value::Long(_),
            Value::Int(_) | Value::Long(_),
            Value::Int(_) | Value::Long(_),
        ) => {
            let (Some(x), Some(k), Some(f)) = (integer(v), integer(size), integer(fixed)) else {
                return Value::Null;
            };
            if k <= 0 {
                return Value::Null;
            }
            integer_like(
                v,
                x.checked_sub(f)
                    .and_then(|d| floor_to(d, k))
                    .and_then(|d| f.checked_add(d)),
            )
        }
        _ => match (real_arg(v), real_arg(size), real_arg(fixed)) {
            (Some(x), Some(k), Some(f))
                if k > 0.0 && !matches!(v, Value::DateTime(_) | Value::TimeSpan(_)) =>
            {
                let binned = f + ((x - f) / k).floor() * k;
                match v {
                    Value::Real(_) => Value::Real(binned),
                    _ => integer_like(v, checked_long(binned.floor())),
                }
            }
            _ => Value::Null,
        },
    }
}

/// Appends the fraction-of-second specifier `f`/`F` repeated `count` times
/// (at most 7): `f` always prints `count` digits; `F` prints them without
/// trailing zeros, and nothing (dropping a `.` just before) when they are all
/// zero, as .NET does.
fn push_fraction(out: &mut String, fraction: i64, count: usize, optional: bool) {
    let count = count.min(7);
    let digits = format!("{fraction:07}");
    let digits = &digits[..count];
    if !optional {
        out.push_str(digits);
        return;
    }
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        if out.ends_with('.') {
            out.pop();
        }
    } else {
        out.push_str(trimmed);
    }
}

/// Splits a format string into runs of one repeated letter (`yyyy`, `MM`)
/// and single other characters.
fn format_tokens(format: &str) -> Vec<(char, usize)> {
    let mut tokens: Vec<(char, usize)> = Vec::new();
    for c in format.chars() {
        match tokens.last_mut() {
            Some((last, n)) if *last == c && c.is_ascii_alphabetic() => *n += 1,
            _ => tokens.push((c, 1)),
        }
    }
    tokens
}

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// `format_datetime(date, format)` (`format-datetime-function.md`): `date`
/// formatted by the .NET-style specifiers `d`, `dd`, `f`…`fffffff`,
/// `F`…`FFFFFFF`, `h`, `hh`, `H`, `HH`, `m`, `mm`, `M`, `MM`, `s`, `ss`,
/// `y`, `yy`, `yyyy`, `tt`; any other character (the reference lists the
/// delimiters ` /-:,._[]`) is copied as it is
/// (`format_datetime(datetime(2017-01-29 09:00:05), 'yy-MM-dd [HH:mm:ss]')`
/// is `17-01-29 [09:00:05]`). Also `ddd`/`dddd` (day name), `MMM`/`MMMM`
/// (month name), `yyy`/`yyyyy` (padded year) and `t` (`A`/`P`) as in .NET.
/// Null or a non-datetime gives `""`.
pub fn format_datetime(d: &Value, format: &Value) -> Value {
    let (Value::DateTime(d), Value::String(format)) = (d, format) else {
        return Value::from_static("");
    };
    let Some((date, tod)) = civil(*d) else {
        return Value::from_static("");
    };
    let hour = tod / ticks::PER_HOUR;
    let minute = tod / ticks::PER_MINUTE % 60;
    let second = tod / ticks::PER_SECOND % 60;
    let fraction = tod % ticks::PER_SECOND;
    let hour12 = if hour % 12 == 0 { 12 } else { hour % 12 };
    let mut out = String::new();
    for (c, n) in format_tokens(format) {
        let text = match (c, n) {
            ('d', 1) => date.day().to_string(),
            ('d', 2) => format!("{:02}", date.day()),
            ('d', 3) => date.weekday().to_string(),
            ('d', _) => chrono::format::strftime::StrftimeItems::new("%A")
                .next()
                .map(|_| format!("{}", date.format("%A")))
                .unwrap_or_default(),
            ('f', _) => {
                push_fraction(&mut out, fraction, n, false);
                continue;
            }
            ('F', _) => {
                push_fraction(&mut out, fraction, n, true);
                continue;
            }
            ('h', 1) => hour12.to_string(),
            ('h', _) => format!("{hour12:02}"),
            ('H', 1) => hour.to_string(),
            ('H', _) => format!("{hour:02}"),
            ('m', 1) => minute.to_string(),
            ('m', _) => format!("{minute:02}"),
            ('M', 1) => date.month().to_string(),
            ('M', 2) => format!("{:02}", date.month()),
            ('M', 3) => MONTH_NAMES[date.month0() as usize][..3].to_string(),
            ('M', _) => MONTH_NAMES[date.month0() as usize].to_string(),
            ('s', 1) => second.to_string(),
            ('s', _) => format!("{second:02}"),
            ('y', 1) => (date.year() % 100).to_string(),
            ('y', 2) => format!("{:02}", date.year() % 100),
            ('y', n) => format!("{:0width$}", date.year(), width = n),
            ('t', 1) => (if hour < 12 { "A" } else { "P" }).to_string(),
            ('t', _) => (if hour < 12 { "AM" } else { "PM" }).to_string(),
            (c, n) => std::iter::repeat_n(c, n).collect(),
        };
        out.push_str(&text);
    }
    Value::string(out)
}

/// `format_timespan(timespan, format)` (`format-timespan-function.md`):
/// `timespan` formatted by the specifiers `d`…`dddddddd` (whole days, padded
/// to the count), `H`/`HH` (hours of the day; `h`/`hh` read the same, as the
/// reference's example `'ddd.h:mm:ss [fffffff]'` shows), `m`/`mm`, `s`/`ss`,
/// `f`…`fffffff`, `F`…`FFFFFFF`; other characters are copied
/// (`format_timespan(time(29.09:00:05.12345), 'dd.hh:mm:ss:FF')` is
/// `29.09:00:05:12`). A negative timespan is formatted by its magnitude with
/// a leading `-` (the reference is silent). Null or a non-timespan gives
/// `""`.
pub fn format_timespan(t: &Value, format: &Value) -> Value {
    let (Value::TimeSpan(t), Value::String(format)) = (t, format) else {
        return Value::from_static("");
    };
    let magnitude = t.0.unsigned_abs();
    let per = |unit: i64| unit as u64;
    let days = magnitude / per(ticks::PER_DAY);
    let hours = magnitude / per(ticks::PER_HOUR) % 24;
    let minutes = magnitude / per(ticks::PER_MINUTE) % 60;
    let seconds = magnitude / per(ticks::PER_SECOND) % 60;
    let fraction = (magnitude % per(ticks::PER_SECOND)) as i64;
    let mut out = String::new();
    if t.0 < 0 {
        out.push('-');
    }
    for (c, n) in format_tokens(format) {
        let text = match c {
            'd' => format!("{days:0n$}", n = n.min(8)),
            'h' | 'H' if n == 1 => hours.to_string(),
            'h' | 'H' => format!("{hours:02}"),
            'm' if n == 1 => minutes.to_string(),
            'm' => format!("{minutes:02}"),
            's' if n == 1 => seconds.to_string(),
            's' => format!("{seconds:02}"),
            'f' | 'F' => {
                push_fraction(&mut out, fraction, n, c == 'F');
                continue;
            }
            c => std::iter::repeat_n(c, n).collect(),
        };
        out.push_str(&text);
    }
    Value::string(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{parse_datetime, DATETIME_MAX, DATETIME_MIN};
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
        assert_eq!(now(&c, &[]), dt("2024-05-28T10:00:00Z"));
        assert_eq!(now(&c, &[ts(-2 * PER_DAY)]), dt("2024-05-26T10:00:00Z"));
        assert_eq!(now(&c, &[ts(PER_HOUR)]), dt("2024-05-28T11:00:00Z"));
        assert_eq!(now(&c, &[Value::Null]), Value::Null);
        assert_eq!(now(&c, &[ts(i64::MAX)]), Value::Null);
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
        assert_eq!(crate::text::format_datetime(d), "1970-05-11T00:00:00Z");
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

    fn l(n: i64) -> Value {
        Value::Long(n)
    }

    fn text(v: &Value) -> String {
        crate::text::to_string(v)
    }

    #[test]
    fn start_and_end_of_periods() {
        let d = dt("2017-01-01 10:10:17");
        assert_eq!(startofday_args(&[d.clone(), l(-1)]), dt("2016-12-31"));
        assert_eq!(startofweek(&[dt("2017-01-04 10:00")]), dt("2017-01-01"));
        assert_eq!(startofweek(&[dt("2017-01-01"), l(1)]), dt("2017-01-08"));
        assert_eq!(startofmonth(&[d.clone(), l(-1)]), dt("2016-12-01"));
        assert_eq!(startofyear(&[dt("2017-06-15"), l(1)]), dt("2018-01-01"));
        assert_eq!(
            text(&endofday(std::slice::from_ref(&d))),
            "2017-01-01T23:59:59.9999999Z"
        );
        assert_eq!(
            text(&endofmonth(&[d.clone(), l(-1)])),
            "2016-12-31T23:59:59.9999999Z"
        );
        assert_eq!(
            text(&endofmonth(&[d.clone(), l(1)])),
            "2017-02-28T23:59:59.9999999Z"
        );
        assert_eq!(
            text(&endofweek(std::slice::from_ref(&d))),
            "2017-01-07T23:59:59.9999999Z"
        );
        assert_eq!(
            text(&endofyear(std::slice::from_ref(&d))),
            "2017-12-31T23:59:59.9999999Z"
        );
        assert_eq!(
            text(&endofyear(&[dt("9999-05-01")])),
            "9999-12-31T23:59:59.9999999Z"
        );
        assert_eq!(startofmonth(&[Value::Null]), Value::Null);
        assert_eq!(startofmonth(&[d.clone(), Value::Null]), Value::Null);
        assert_eq!(startofyear(&[d, l(i64::MAX)]), Value::Null);
        assert_eq!(startofweek(&[Value::DateTime(DATETIME_MIN)]), Value::Null);
    }

    #[test]
    fn calendar_parts() {
        let d = dt("2017-10-30 01:02:03.7654321");
        assert_eq!(dayofmonth(&d), Value::Int(30));
        assert_eq!(dayofyear(&d), Value::Int(303));
        assert_eq!(hourofday(&d), Value::Int(1));
        assert_eq!(getmonth(&d), Value::Int(10));
        assert_eq!(getyear(&d), Value::Int(2017));
        assert_eq!(dayofweek(&dt("1947-11-30")), ts(0));
        assert_eq!(dayofweek(&dt("1970-05-11")), ts(PER_DAY));
        assert_eq!(week_of_year(&dt("2020-12-31")), Value::Int(53));
        assert_eq!(week_of_year(&dt("2020-06-15")), Value::Int(25));
        assert_eq!(week_of_year(&dt("1970-01-01")), Value::Int(1));
        assert_eq!(week_of_year(&dt("2000-01-01")), Value::Int(52));
        let parts = [
            ("year", 2017),
            ("Quarter", 4),
            ("month", 10),
            ("week_of_year", 44),
            ("day", 30),
            ("dayOfYear", 303),
            ("hour", 1),
            ("minute", 2),
            ("second", 3),
            ("millisecond", 765),
            ("microsecond", 765432),
            ("nanosecond", 765432100),
        ];
        for (name, want) in parts {
            assert_eq!(
                datetime_part(&Value::from_static(name), &d),
                Value::Int(want),
                "{name}"
            );
        }
        assert_eq!(
            datetime_part(&Value::from_static("fortnight"), &d),
            Value::Null
        );
        assert_eq!(dayofmonth(&Value::Null), Value::Null);
    }

    #[test]
    fn datetime_add_follows_reference_examples() {
        let base = dt("2017-01-01");
        let add = |p: &'static str, n: i64| datetime_add(&Value::from_static(p), &l(n), &base);
        assert_eq!(add("year", 1), dt("2018-01-01"));
        assert_eq!(add("quarter", 1), dt("2017-04-01"));
        assert_eq!(add("month", 1), dt("2017-02-01"));
        assert_eq!(add("week", 1), dt("2017-01-08"));
        assert_eq!(add("day", 1), dt("2017-01-02"));
        assert_eq!(add("hour", 1), dt("2017-01-01 01:00"));
        assert_eq!(add("minute", 1), dt("2017-01-01 00:01"));
        assert_eq!(add("second", 1), dt("2017-01-01 00:00:01"));
        assert_eq!(add("year", -5), dt("2012-01-01"));
        assert_eq!(add("quarter", 12), dt("2020-01-01"));
        assert_eq!(add("month", -15), dt("2015-10-01"));
        assert_eq!(add("week", 100), dt("2018-12-02"));
        assert_eq!(add("nanosecond", 250), dt("2017-01-01 00:00:00.0000002"));
        assert_eq!(
            datetime_add(&Value::from_static("Month"), &l(1), &dt("2024-01-31")),
            dt("2024-02-29")
        );
        assert_eq!(add("eon", 1), Value::Null);
        assert_eq!(add("year", 9000), Value::Null);
        assert_eq!(add("day", i64::MAX), Value::Null);
    }

    #[test]
    fn datetime_diff_follows_reference_examples() {
        let diff = |p: &'static str, a: &str, b: &str| {
            datetime_diff(&Value::from_static(p), &dt(a), &dt(b))
        };
        assert_eq!(diff("year", "2017-01-01", "2000-12-31"), l(17));
        assert_eq!(diff("quarter", "2017-07-01", "2017-03-30"), l(2));
        assert_eq!(diff("month", "2017-01-01", "2015-12-30"), l(13));
        assert_eq!(diff("week", "2017-10-29 00:00", "2017-09-30 23:59"), l(5));
        assert_eq!(diff("day", "2017-10-29 00:00", "2017-09-30 23:59"), l(29));
        assert_eq!(diff("hour", "2017-10-31 01:00", "2017-10-30 23:59"), l(2));
        assert_eq!(
            diff("minute", "2017-10-30 23:05:01", "2017-10-30 23:00:59"),
            l(5)
        );
        assert_eq!(
            diff(
                "second",
                "2017-10-30 23:00:10.100",
                "2017-10-30 23:00:00.900"
            ),
            l(10)
        );
        assert_eq!(
            diff(
                "millisecond",
                "2017-10-30 23:00:00.200100",
                "2017-10-30 23:00:00.100900"
            ),
            l(100)
        );
        assert_eq!(
            diff(
                "microsecond",
                "2017-10-30 23:00:00.1009001",
                "2017-10-30 23:00:00.1008009"
            ),
            l(100)
        );
        assert_eq!(
            diff(
                "nanosecond",
                "2017-10-30 23:00:00.0000000",
                "2017-10-30 23:00:00.0000007"
            ),
            l(-700)
        );
        assert_eq!(diff("eon", "2017-01-01", "2017-01-01"), Value::Null);
        let far = datetime_diff(
            &Value::from_static("nanosecond"),
            &Value::DateTime(DATETIME_MAX),
            &Value::DateTime(DATETIME_MIN),
        );
        assert_eq!(far, Value::Null);
    }

    #[test]
    fn make_datetime_and_timespan() {
        assert_eq!(make_datetime(&[l(2017), l(10), l(1)]), dt("2017-10-01"));
        assert_eq!(
            make_datetime(&[l(2017), l(10), l(1), l(12), l(10)]),
            dt("2017-10-01 12:10")
        );
        assert_eq!(
            make_datetime(&[l(2017), l(10), l(1), l(12), l(11), Value::Real(0.1234567)]),
            dt("2017-10-01 12:11:00.1234567")
        );
        assert_eq!(make_datetime(&[l(2017), l(2), l(30)]), Value::Null);
        assert_eq!(make_datetime(&[l(0), l(1), l(1)]), Value::Null);
        assert_eq!(
            make_datetime(&[l(2017), l(1), l(1), l(24), l(0)]),
            Value::Null
        );
        assert_eq!(make_datetime(&[l(2017), Value::Null, l(1)]), Value::Null);
        assert_eq!(make_datetime(&[l(2017), l(1)]), Value::Null);
        assert_eq!(
            text(&make_timespan(&[l(1), l(12), l(30), Value::Real(55.123)])),
            "1.12:30:55.1230000"
        );
        assert_eq!(
            make_timespan(&[l(1), l(30)]),
            ts(PER_HOUR + 30 * PER_MINUTE)
        );
        assert_eq!(
            make_timespan(&[l(1), l(30), l(5)]),
            ts(PER_HOUR + 30 * PER_MINUTE + 5 * PER_SECOND)
        );
        assert_eq!(make_timespan(&[l(25), l(0)]), Value::Null);
        assert_eq!(make_timespan(&[l(1)]), Value::Null);
        assert_eq!(make_timespan(&[l(i64::MAX), l(0), l(0), l(0)]), Value::Null);
    }

    #[test]
    fn unixtime_conversions() {
        assert_eq!(
            unixtime_seconds_todatetime(&l(1546300800)),
            dt("2019-01-01")
        );
        assert_eq!(
            unixtime_seconds_todatetime(&Value::Real(1.5)),
            dt("1970-01-01 00:00:01.5")
        );
        assert_eq!(
            unixtime_milliseconds_todatetime(&l(1546300800123)),
            dt("2019-01-01 00:00:00.123")
        );
        assert_eq!(
            unixtime_microseconds_todatetime(&l(1546300800123456)),
            dt("2019-01-01 00:00:00.123456")
        );
        assert_eq!(
            unixtime_nanoseconds_todatetime(&l(1546300800123456789)),
            dt("2019-01-01 00:00:00.1234567")
        );
        assert_eq!(unixtime_seconds_todatetime(&l(i64::MAX)), Value::Null);
        assert_eq!(
            unixtime_seconds_todatetime(&Value::Real(f64::NAN)),
            Value::Null
        );
        assert_eq!(unixtime_seconds_todatetime(&Value::Null), Value::Null);
        assert_eq!(
            unixtime_seconds_todatetime(&l(-62135596800)),
            Value::DateTime(DATETIME_MIN)
        );
    }

    #[test]
    fn bin_at_follows_reference_examples() {
        assert_eq!(
            bin_at(&Value::Real(6.5), &Value::Real(2.5), &l(7)),
            Value::Real(4.5)
        );
        assert_eq!(
            bin_at(&ts(PER_HOUR), &ts(PER_DAY), &ts(12 * PER_HOUR)),
            ts(-12 * PER_HOUR)
        );
        assert_eq!(
            bin_at(
                &dt("2017-05-15 10:20:00"),
                &ts(PER_DAY),
                &dt("1970-01-01 12:00")
            ),
            dt("2017-05-14 12:00")
        );
        assert_eq!(
            bin_at(
                &dt("2017-05-17 10:20:00"),
                &ts(7 * PER_DAY),
                &dt("2017-06-04")
            ),
            dt("2017-05-14")
        );
        assert_eq!(bin_at(&l(17), &l(5), &l(1)), l(16));
        assert_eq!(bin_at(&l(17), &l(0), &l(1)), Value::Null);
        assert_eq!(bin_at(&Value::Null, &l(5), &l(1)), Value::Null);
        assert_eq!(bin_at(&dt("2017-05-17"), &ts(PER_DAY), &l(1)), Value::Null);
    }

    #[test]
    fn format_datetime_follows_reference_examples() {
        let d = dt("2017-01-29 09:00:05");
        let f = |fmt: &'static str| format_datetime(&d, &Value::from_static(fmt));
        assert_eq!(
            f("yy-MM-dd [HH:mm:ss]"),
            Value::from_static("17-01-29 [09:00:05]")
        );
        assert_eq!(
            f("yyyy-M-dd [H:mm:ss]"),
            Value::from_static("2017-1-29 [9:00:05]")
        );
        assert_eq!(
            f("yy-MM-dd [hh:mm:ss tt]"),
            Value::from_static("17-01-29 [09:00:05 AM]")
        );
        let p = dt("2009-06-15T13:45:30.6175420");
        let g = |fmt: &'static str| format_datetime(&p, &Value::from_static(fmt));
        assert_eq!(g("fff"), Value::from_static("617"));
        assert_eq!(g("FFFFFFF"), Value::from_static("617542"));
        assert_eq!(g("h tt"), Value::from_static("1 PM"));
        assert_eq!(g("y"), Value::from_static("9"));
        assert_eq!(g("ss.FFF"), Value::from_static("30.617"));
        let whole = dt("2009-06-15T13:45:30");
        assert_eq!(
            format_datetime(&whole, &Value::from_static("ss.FFF")),
            Value::from_static("30")
        );
        assert_eq!(
            format_datetime(&Value::Null, &Value::from_static("yyyy")),
            Value::from_static("")
        );
    }

    #[test]
    fn format_timespan_follows_reference_examples() {
        let t = totimespan_text("29.09:00:05.12345");
        let f = |fmt: &'static str| format_timespan(&t, &Value::from_static(fmt));
        assert_eq!(f("dd.hh:mm:ss:FF"), Value::from_static("29.09:00:05:12"));
        assert_eq!(
            f("ddd.h:mm:ss [fffffff]"),
            Value::from_static("029.9:00:05 [1234500]")
        );
        assert_eq!(
            format_timespan(&ts(-PER_HOUR), &Value::from_static("HH:mm")),
            Value::from_static("-01:00")
        );
        assert_eq!(
            format_timespan(&ts(i64::MIN), &Value::from_static("d")),
            Value::from_static("-10675199")
        );
        assert_eq!(
            format_timespan(&Value::Null, &Value::from_static("d")),
            Value::from_static("")
        );
    }

    fn totimespan_text(s: &str) -> Value {
        Value::TimeSpan(crate::text::parse_timespan(s).unwrap_or_else(|| panic!("{s}")))
    }
}
