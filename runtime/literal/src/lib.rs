//! KQL's timespan and datetime literal text, decoded in one place for the
//! compiler and the runtime ([`datetime`] for datetimes): kqlc's lexer reads `1.5h` and `timespan(...)` with it, and
//! `kql-runtime`'s `totimespan()` reads strings with it, so a unit name or
//! form accepted in a query is accepted in data too, with the same value.
//! [`decimal`] is KQL's exact `decimal` number: the lexer reads
//! `decimal(1.5)` with it and the runtime computes with it.
//!
//! A crate of its own, with no dependencies, because the compiler library
//! (which the `kql!` proc macro compiles) does not depend on the runtime,
//! whose dependencies (time zones, compression, hashes, CSV) it does not
//! need.

pub mod datetime;
pub mod decimal;

/// Ticks (100 ns) per day.
pub const DAY: u64 = 864_000_000_000;
/// Ticks per hour.
pub const HOUR: u64 = 36_000_000_000;
/// Ticks per minute.
pub const MINUTE: u64 = 600_000_000;
/// Ticks per second.
pub const SECOND: u64 = 10_000_000;
/// Ticks per millisecond.
pub const MILLISECOND: u64 = 10_000;
/// Ticks per microsecond.
pub const MICROSECOND: u64 = 10;

/// Timespan units: every suffix Kusto accepts, with the length of one unit in
/// ticks as a fraction `numerator / denominator` (a nanosecond is 1/100 tick).
pub const TIMESPAN_UNITS: &[(&str, u64, u64)] = &[
    ("d", DAY, 1),
    ("day", DAY, 1),
    ("days", DAY, 1),
    ("h", HOUR, 1),
    ("hr", HOUR, 1),
    ("hrs", HOUR, 1),
    ("hour", HOUR, 1),
    ("hours", HOUR, 1),
    ("m", MINUTE, 1),
    ("min", MINUTE, 1),
    ("minute", MINUTE, 1),
    ("minutes", MINUTE, 1),
    ("s", SECOND, 1),
    ("sec", SECOND, 1),
    ("second", SECOND, 1),
    ("seconds", SECOND, 1),
    ("ms", MILLISECOND, 1),
    ("milli", MILLISECOND, 1),
    ("millis", MILLISECOND, 1),
    ("millisec", MILLISECOND, 1),
    ("millisecond", MILLISECOND, 1),
    ("milliseconds", MILLISECOND, 1),
    ("micro", MICROSECOND, 1),
    ("micros", MICROSECOND, 1),
    ("microsec", MICROSECOND, 1),
    ("microsecond", MICROSECOND, 1),
    ("microseconds", MICROSECOND, 1),
    ("nano", 1, 100),
    ("nanos", 1, 100),
    ("nanosec", 1, 100),
    ("nanosecond", 1, 100),
    ("nanoseconds", 1, 100),
    ("tick", 1, 1),
    ("ticks", 1, 1),
];

/// The length of one `suffix` (a unit of [`TIMESPAN_UNITS`]) in ticks, as
/// `(numerator, denominator)`.
pub fn timespan_unit(suffix: &str) -> Option<(u64, u64)> {
    TIMESPAN_UNITS
        .iter()
        .find(|(name, _, _)| *name == suffix)
        .map(|(_, numerator, denominator)| (*numerator, *denominator))
}

/// A leading `-` (negative) or `+` taken off `text`, and the spaces after it.
pub fn split_sign(text: &str) -> (bool, &str) {
    if let Some(rest) = text.strip_prefix('-') {
        (true, rest.trim_start())
    } else {
        (false, text.strip_prefix('+').unwrap_or(text).trim_start())
    }
}

/// `digits[.digits]` times a unit of `numerator / denominator` ticks, exactly,
/// truncated toward zero as .NET's `TimeSpan` does. `None` on overflow or
/// malformed text.
pub fn decimal_to_ticks(
    number: &str,
    numerator: u64,
    denominator: u64,
    negative: bool,
) -> Option<i64> {
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let fraction = fraction.trim_end_matches('0');
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let mut mantissa: u128 = 0;
    for byte in whole.bytes().chain(fraction.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(u128::from(byte - b'0'))?;
    }
    let scale = 10u128.checked_pow(u32::try_from(fraction.len()).ok()?)?;
    let ticks = mantissa.checked_mul(u128::from(numerator))?
        / scale.checked_mul(u128::from(denominator))?;
    let ticks = i128::try_from(ticks).ok()?;
    i64::try_from(if negative { -ticks } else { ticks }).ok()
}

/// Parses the content of `timespan(...)`: `1d`, `1.5 hours`, `2` (days),
/// `-1h`, `hh:mm[:ss[.fffffff]]`, `d.hh:mm:ss[.fffffff]`. The error is a short
/// reason.
pub fn parse_timespan(text: &str) -> Result<i64, String> {
    let (negative, body) = split_sign(text);
    if body.contains(':') {
        return parse_clock_timespan(body, negative);
    }
    let number_length = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(body.len());
    let (number, unit) = body.split_at(number_length);
    let unit = unit.trim_start();
    let (numerator, denominator) = if unit.is_empty() {
        (DAY, 1)
    } else {
        timespan_unit(unit).ok_or_else(|| format!("unknown timespan unit `{unit}`"))?
    };
    let well_formed = match number.split_once('.') {
        Some((whole, fraction)) => {
            !whole.is_empty() && !fraction.is_empty() && !fraction.contains('.')
        }
        None => !number.is_empty(),
    };
    if !well_formed {
        return Err("expected a number and a unit, such as 1.5h".to_string());
    }
    decimal_to_ticks(number, numerator, denominator, negative)
        .ok_or_else(|| "timespan out of range".to_string())
}

/// `[d.]hh:mm[:ss[.fffffff]]`.
fn parse_clock_timespan(text: &str, negative: bool) -> Result<i64, String> {
    let mut cursor = Cursor::new(text);
    let first = cursor.number(1, 8).ok_or("expected hours or days")?;
    let (days, hours) = if cursor.eat('.') {
        (
            first,
            cursor.number(1, 2).ok_or("expected hours after the days")?,
        )
    } else {
        (0, first)
    };
    cursor.expect(':').ok_or("expected `:` after the hours")?;
    let minutes = cursor.number(2, 2).ok_or("expected two-digit minutes")?;
    let mut seconds = 0;
    let mut fraction_ticks = 0;
    if cursor.eat(':') {
        seconds = cursor.number(2, 2).ok_or("expected two-digit seconds")?;
        if cursor.eat('.') {
            fraction_ticks = cursor.fraction_ticks()?;
        }
    }
    if !cursor.at_end() {
        return Err(format!("unexpected `{}`", cursor.rest()));
    }
    if hours > 23 || minutes > 59 || seconds > 59 {
        return Err("hours must be below 24, minutes and seconds below 60".to_string());
    }
    let ticks = i128::from(days) * i128::from(DAY)
        + i128::from(hours) * i128::from(HOUR)
        + i128::from(minutes) * i128::from(MINUTE)
        + i128::from(seconds) * i128::from(SECOND)
        + i128::from(fraction_ticks);
    i64::try_from(if negative { -ticks } else { ticks })
        .map_err(|_| "timespan out of range".to_string())
}

/// A small reader over literal text, for the datetime and timespan formats.
pub struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    /// A reader at the start of `text`.
    pub fn new(text: &'a str) -> Cursor<'a> {
        Cursor { rest: text }
    }

    /// Everything has been read.
    pub fn at_end(&self) -> bool {
        self.rest.is_empty()
    }

    /// What is left to read.
    pub fn rest(&self) -> &'a str {
        self.rest
    }

    /// An unsigned decimal number of `min..=max` digits (reading at most `max`).
    pub fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let length = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if length < min {
            return None;
        }
        let (digits, rest) = self.rest.split_at(length);
        self.rest = rest;
        digits.parse().ok()
    }

    /// The digits after a decimal point, as ticks (at most 7 digits).
    pub fn fraction_ticks(&mut self) -> Result<u32, String> {
        let length = self.rest.bytes().take_while(u8::is_ascii_digit).count();
        if length == 0 || length > 7 {
            return Err("expected 1 to 7 digits of fraction".to_string());
        }
        let (digits, rest) = self.rest.split_at(length);
        self.rest = rest;
        let value: u32 = digits.parse().map_err(|_| "bad fraction".to_string())?;
        let scale = 10u32.pow(7 - length as u32);
        Ok(value * scale)
    }

    /// Reads `c` if it comes next.
    pub fn eat(&mut self, c: char) -> bool {
        match self.rest.strip_prefix(c) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Reads `c`, or `None` if something else comes next.
    pub fn expect(&mut self, c: char) -> Option<()> {
        self.eat(c).then_some(())
    }

    /// Reads `word` if it comes next.
    pub fn eat_word(&mut self, word: &str) -> bool {
        match self.rest.strip_prefix(word) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    /// Reads any whitespace; `true` if there was some.
    pub fn eat_spaces(&mut self) -> bool {
        let trimmed = self.rest.trim_start();
        let ate = trimmed.len() != self.rest.len();
        self.rest = trimmed;
        ate
    }

    /// `+` or `-`, as 1 or -1.
    pub fn eat_sign(&mut self) -> Option<i64> {
        if self.eat('+') {
            Some(1)
        } else if self.eat('-') {
            Some(-1)
        } else {
            None
        }
    }
}
