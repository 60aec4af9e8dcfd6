//! Time-zone functions: `datetime_utc_to_local`, `datetime_local_to_utc`
//! (`datetime-utc-to-local-function.md`, `datetime-local-to-utc-function.md`)
//! and `datetime_list_timezones` (`datetime-list-timezones.md`).
//!
//! The zones are those of the IANA time-zone database bundled in the
//! `chrono-tz` crate (version [`TZDB_VERSION`]), so a detector needs no
//! zone files on its machine. A zone name is matched exactly first, then
//! ignoring ASCII case; an unknown zone, a null argument or a result outside
//! KQL's `datetime` range gives null.
//!
//! A local time that does not exist (the hour skipped when clocks go
//! forward) or exists twice (the hour repeated when they go back) is read
//! with the offset in force *after* the change: the reference's own example
//! turns Brussels' skipped 02:00 into 00:00 UTC (the summer offset), and the
//! same rule reads a repeated hour as standard time. `docs/semantics.md`
//! records the choice.

use std::str::FromStr;

use chrono::{Offset, TimeZone};
use chrono_tz::Tz;

use crate::text::datetime_checked;
use crate::value::{ticks, DateTime, Value};

/// The version of the bundled IANA time-zone database.
pub const TZDB_VERSION: &str = chrono_tz::IANA_TZDB_VERSION;

/// The zone named by a string argument: exact name first, then ignoring
/// ASCII case (`utc`, `europe/paris`).
fn zone(name: &Value) -> Option<Tz> {
    let name = name.as_str()?;
    Tz::from_str(name).ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
    })
}

/// Whole seconds and the ticks left over (always in `0..PER_SECOND`).
fn split_seconds(d: DateTime) -> (i64, i64) {
    (
        d.0.div_euclid(ticks::PER_SECOND),
        d.0.rem_euclid(ticks::PER_SECOND),
    )
}

/// The zone's offset from UTC, in seconds, at the UTC instant `seconds`
/// (since the Unix epoch).
fn offset_at_utc(tz: Tz, seconds: i64) -> Option<i64> {
    let utc = chrono::DateTime::from_timestamp(seconds, 0)?.naive_utc();
    Some(i64::from(
        tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
    ))
}

/// `seconds` moved by `offset` seconds, plus the sub-second ticks, as a
/// datetime in range.
fn shifted(seconds: i64, offset: i64, fraction: i64) -> Value {
    seconds
        .checked_add(offset)
        .and_then(|s| s.checked_mul(ticks::PER_SECOND))
        .and_then(|t| t.checked_add(fraction))
        .and_then(datetime_checked)
        .map_or(Value::Null, Value::DateTime)
}

/// `datetime_utc_to_local(from, timezone)`: the wall-clock time in
/// `timezone` at the UTC instant `from`. Null when `from` is not a datetime,
/// the zone is unknown, or the result is outside the datetime range.
pub fn datetime_utc_to_local(from: &Value, timezone: &Value) -> Value {
    let (Value::DateTime(d), Some(tz)) = (from, zone(timezone)) else {
        return Value::Null;
    };
    let (seconds, fraction) = split_seconds(*d);
    match offset_at_utc(tz, seconds) {
        Some(offset) => shifted(seconds, offset, fraction),
        None => Value::Null,
    }
}

/// `datetime_local_to_utc(from, timezone)`: the UTC instant at which the
/// wall clock in `timezone` shows `from`. A skipped or repeated local time
/// is read with the offset in force after the change (see the module
/// documentation). Null as for [`datetime_utc_to_local`].
pub fn datetime_local_to_utc(from: &Value, timezone: &Value) -> Value {
    let (Value::DateTime(d), Some(tz)) = (from, zone(timezone)) else {
        return Value::Null;
    };
    let (seconds, fraction) = split_seconds(*d);
    let Some(local) = chrono::DateTime::from_timestamp(seconds, 0).map(|u| u.naive_utc()) else {
        return Value::Null;
    };
    let offset = match tz.from_local_datetime(&local) {
        chrono::LocalResult::Single(t) => i64::from(t.offset().fix().local_minus_utc()),
        // The later instant is the one read with the offset after the change.
        chrono::LocalResult::Ambiguous(_, later) => {
            i64::from(later.offset().fix().local_minus_utc())
        }
        // In a gap, `local - before` is an instant after the change (the
        // clock jumped past `local`), so its offset is the one after it.
        chrono::LocalResult::None => {
            let Some(before) = offset_at_utc(tz, seconds.saturating_sub(86_400)) else {
                return Value::Null;
            };
            match offset_at_utc(tz, seconds.saturating_sub(before)) {
                Some(after) => after,
                None => return Value::Null,
            }
        }
    };
    shifted(seconds, -offset, fraction)
}

/// `datetime_list_timezones()`: the names of every zone the functions
/// above accept, as a dynamic array of strings in the database's order
/// (alphabetical), aliases (`US/Pacific`) included.
pub fn datetime_list_timezones() -> Value {
    Value::array(
        chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| Value::from_static(tz.name()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::parse_datetime;

    fn at(text: &str) -> Value {
        Value::DateTime(parse_datetime(text).expect("a datetime"))
    }

    #[test]
    fn utc_to_local_applies_the_offset_of_the_instant() {
        let zone = Value::from_static("Europe/Paris");
        assert_eq!(
            datetime_utc_to_local(&at("2024-01-15T12:00:00.1234567Z"), &zone),
            at("2024-01-15T13:00:00.1234567Z")
        );
        assert_eq!(
            datetime_utc_to_local(&at("2024-07-15T12:00:00Z"), &zone),
            at("2024-07-15T14:00:00Z")
        );
    }

    #[test]
    fn skipped_local_hour_reads_with_the_summer_offset() {
        let zone = Value::from_static("Europe/Brussels");
        assert_eq!(
            datetime_local_to_utc(&at("2022-03-27T02:30:00Z"), &zone),
            at("2022-03-27T00:30:00Z")
        );
    }

    #[test]
    fn repeated_local_hour_reads_as_standard_time() {
        let zone = Value::from_static("Europe/Brussels");
        assert_eq!(
            datetime_local_to_utc(&at("2022-10-30T02:30:00Z"), &zone),
            at("2022-10-30T01:30:00Z")
        );
    }

    #[test]
    fn unknown_zone_and_out_of_range_give_null() {
        let d = at("2024-01-01T00:00:00Z");
        assert_eq!(
            datetime_utc_to_local(&d, &Value::from_static("Mars/Olympus")),
            Value::Null
        );
        assert_eq!(
            datetime_utc_to_local(
                &at("9999-12-31T23:00:00Z"),
                &Value::from_static("Asia/Tokyo")
            ),
            Value::Null
        );
        assert_eq!(datetime_local_to_utc(&d, &Value::from_static("utc")), d);
    }
}
