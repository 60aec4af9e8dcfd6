//! KQL's datetime text, decoded in one place for kqlc's lexer
//! (`datetime(...)` literals) and the runtime (`todatetime()`, timestamps in
//! events): the forms of `scalar-data-types/datetime.md` in the KQL
//! reference. Values are ticks (100 ns) since 1970-01-01T00:00:00Z.

/// Ticks per second.
const SECOND: i64 = crate::SECOND as i64;
/// Ticks per minute.
const MINUTE: i64 = crate::MINUTE as i64;
/// Ticks per day.
const DAY: i64 = crate::DAY as i64;

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
pub const UNIX_EPOCH_DOTNET_TICKS: i64 = 621_355_968_000_000_000;
/// The earliest KQL `datetime`, 0001-01-01T00:00:00Z, in ticks since 1970.
pub const MIN_TICKS: i64 = -UNIX_EPOCH_DOTNET_TICKS;
/// The latest KQL `datetime`, 9999-12-31T23:59:59.9999999Z, in ticks since
/// 1970.
pub const MAX_TICKS: i64 = 3_155_378_975_999_999_999 - UNIX_EPOCH_DOTNET_TICKS;

// ---------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian, UTC), after Howard Hinnant's
// `days_from_civil` / `civil_from_days`. Total functions on their domains: no
// panics for any i64 input.
// ---------------------------------------------------------------------------

/// Days since 1970-01-01 of the civil date `y-m-d` (`m` in 1..=12).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap_year(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(y) => 29,
        2 => 28,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/// A byte cursor for the hand-written parsers below.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Cursor<'a> {
        Cursor {
            b: s.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
        self.i - start
    }

    /// Between `min` and `max` ASCII digits, as a number.
    fn number(&mut self, min: usize, max: usize) -> Option<i64> {
        let start = self.i;
        let mut n: i64 = 0;
        while self.i - start < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    n = n * 10 + i64::from(c - b'0');
                    self.i += 1;
                }
                _ => break,
            }
        }
        if self.i - start < min {
            self.i = start;
            return None;
        }
        Some(n)
    }

    /// A run of ASCII digits of any length, as text.
    fn digit_run(&mut self) -> &'a [u8] {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        &self.b[start..self.i]
    }

    /// A run of ASCII letters, as text.
    fn word(&mut self) -> &'a [u8] {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphabetic()) {
            self.i += 1;
        }
        &self.b[start..self.i]
    }
}

/// Ticks of a fraction of a second given as its digits (`5` → 5_000_000);
/// digits beyond the 7th (finer than a tick) are dropped.
fn fraction_ticks(digits: &[u8]) -> i64 {
    let mut ticks = 0;
    for k in 0..7 {
        let d = digits.get(k).map_or(0, |c| i64::from(c - b'0'));
        ticks = ticks * 10 + d;
    }
    ticks
}

/// `hh:mm[:ss[.fffffff]]`, as ticks into the day.
fn parse_time_of_day(c: &mut Cursor<'_>) -> Option<i64> {
    let h = c.number(1, 2)?;
    if !c.eat(b':') {
        return None;
    }
    let m = c.number(2, 2)?;
    let mut s = 0;
    let mut frac = 0;
    if c.eat(b':') {
        s = c.number(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            let digits = c.digit_run();
            if digits.is_empty() {
                return None;
            }
            frac = fraction_ticks(digits);
        }
    }
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + s) * SECOND + frac)
}

/// An optional zone after a time: `Z`, `GMT`, `UTC`, `UT`, `+hh:mm`, `+hhmm`,
/// `+hh` (and `-`). Returns the offset east of UTC in ticks, or `None` when
/// the text there is not a zone.
fn parse_zone(c: &mut Cursor<'_>) -> Option<i64> {
    c.skip_spaces();
    match c.peek() {
        None => Some(0),
        Some(b'Z' | b'z') => {
            c.i += 1;
            Some(0)
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let h = c.number(2, 2)?;
            let m = if c.eat(b':') {
                c.number(2, 2)?
            } else {
                c.number(2, 2).unwrap_or(0)
            };
            if h > 23 || m > 59 {
                return None;
            }
            let offset = (h * 60 + m) * MINUTE;
            Some(if sign == b'-' { -offset } else { offset })
        }
        Some(_) => {
            let w = c.word();
            let known = [&b"GMT"[..], b"UTC", b"UT"]
                .iter()
                .any(|z| w.eq_ignore_ascii_case(z));
            known.then_some(0)
        }
    }
}

/// Ticks of a civil date and time of day, minus a zone offset, if in range.
fn assemble(y: i64, m: i64, d: i64, time: i64, offset: i64) -> Option<i64> {
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let ticks = days_from_civil(y, m, d)
        .checked_mul(DAY)?
        .checked_add(time)?
        .checked_sub(offset)?;
    (MIN_TICKS..=MAX_TICKS).contains(&ticks).then_some(ticks)
}

/// A 2-digit year as .NET reads it (two-digit-year window ending at 2049).
fn full_year(y: i64, digits: usize) -> i64 {
    match digits {
        2 if y <= 49 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    }
}

/// ISO 8601: `yyyy-M-d`, then optionally `T` or spaces and a time
/// `H:mm[:ss[.f…]]`, then optionally a zone.
fn parse_iso(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let y = c.number(4, 4)?;
    let sep = c.peek()?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    c.i += 1;
    let m = c.number(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let d = c.number(1, 2)?;
    let mut time = 0;
    let mut offset = 0;
    if !c.at_end() {
        if !c.eat(b'T') && !c.eat(b't') && c.skip_spaces() == 0 {
            return None;
        }
        time = parse_time_of_day(&mut c)?;
        offset = parse_zone(&mut c)?;
        c.skip_spaces();
        if !c.at_end() {
            return None;
        }
    }
    assemble(y, m, d, time, offset)
}

/// `yyyy-mm-ddThh:mm:ss[.f…]Z`, the form nearly every event's time has, at
/// fixed offsets: what [`parse_iso`] makes of it, without its cursor. `None`
/// for any other text or a date or time out of range (the general parsers
/// then read it, so the result is theirs).
fn parse_iso_utc(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let two = |i: usize| -> Option<i64> {
        let (tens, units) = (b[i], b[i + 1]);
        (tens.is_ascii_digit() && units.is_ascii_digit())
            .then(|| i64::from(tens - b'0') * 10 + i64::from(units - b'0'))
    };
    let year = two(0)? * 100 + two(2)?;
    let (month, day) = (two(5)?, two(8)?);
    let (hour, minute, second) = (two(11)?, two(14)?, two(17)?);
    let frac = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            fraction_ticks(digits)
        }
        _ => return None,
    };
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let time = ((hour * 60 + minute) * 60 + second) * SECOND + frac;
    assemble(year, month, day, time, 0)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

const WEEKDAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

fn month_number(w: &[u8]) -> Option<i64> {
    let w = std::str::from_utf8(w).ok()?.to_ascii_lowercase();
    MONTHS
        .iter()
        .position(|m| *m == w)
        .or_else(|| MONTH_NAMES.iter().position(|m| *m == w))
        .map(|i| i as i64 + 1)
}

fn is_weekday(w: &[u8]) -> bool {
    let Ok(w) = std::str::from_utf8(w) else {
        return false;
    };
    let w = w.to_ascii_lowercase();
    WEEKDAYS.contains(&w.as_str()) || WEEKDAY_NAMES.contains(&w.as_str())
}

/// RFC 822 / 1123 / 850: `[Wkd, ]d Mon yy[yy] H:mm[:ss] [zone]` and
/// `[Weekday, ]dd-Mon-yy H:mm[:ss] [zone]`.
fn parse_rfc(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    if c.peek()?.is_ascii_alphabetic() {
        let w = c.word();
        if !is_weekday(w) || !c.eat(b',') {
            return None;
        }
        c.skip_spaces();
    }
    let d = c.number(1, 2)?;
    let dash = c.eat(b'-');
    if !dash && c.skip_spaces() == 0 {
        return None;
    }
    let m = month_number(c.word())?;
    if (dash && !c.eat(b'-')) || (!dash && c.skip_spaces() == 0) {
        return None;
    }
    let year_digits = c.digit_run();
    if year_digits.len() != 2 && year_digits.len() != 4 {
        return None;
    }
    let y = std::str::from_utf8(year_digits).ok()?.parse().ok()?;
    let y = full_year(y, year_digits.len());
    if c.skip_spaces() == 0 {
        return None;
    }
    let time = parse_time_of_day(&mut c)?;
    let offset = parse_zone(&mut c)?;
    c.skip_spaces();
    if !c.at_end() {
        return None;
    }
    assemble(y, m, d, time, offset)
}

/// `M/d/yyyy` or `M-d-yyyy` (as .NET's invariant culture reads it, which is
/// why `todatetime('12-02-2022')` works), optionally followed by a time.
fn parse_month_first(s: &str) -> Option<i64> {
    let mut c = Cursor::new(s);
    let m = c.number(1, 2)?;
    let sep = c.peek()?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    c.i += 1;
    let d = c.number(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let y = c.number(4, 4)?;
    let mut time = 0;
    let mut offset = 0;
    if !c.at_end() {
        if c.skip_spaces() == 0 {
            return None;
        }
        time = parse_time_of_day(&mut c)?;
        offset = parse_zone(&mut c)?;
        c.skip_spaces();
        if !c.at_end() {
            return None;
        }
    }
    assemble(y, m, d, time, offset)
}

/// Parses the datetime forms of `scalar-data-types/datetime.md`, as
/// `todatetime()` and `datetime(...)` literals read them:
///
/// - ISO 8601: `2014-05-25T08:20:03.123456Z`, `2014-11-08 15:55:55`,
///   `2014-05-25T08:20`, `2014-11-08`; month and day may have one digit
///   (the "sortable" forms); a zone `Z`, `GMT`, `UTC`, `+hh:mm`, `+hhmm` or none
///   (UTC); the fraction may have any number of digits, those finer than a
///   tick are dropped.
/// - RFC 822 / 1123 and RFC 850: `Sat, 8 Nov 14 15:05:02 GMT`,
///   `Tue, 28 May 2024 10:00:00 GMT`, `Saturday, 08-Nov-14 15:05 GMT`;
///   two-digit years mean 1950–2049 (the .NET window).
/// - Month first, as in the reference's `todatetime('12-02-2022')`:
///   `M-d-yyyy` and `M/d/yyyy`, optionally with a time.
///
/// Surrounding whitespace is ignored. Anything else, an invalid date
/// (`2023-02-30`) or one outside years 1–9999 gives `None`.
pub fn parse(s: &str) -> Option<i64> {
    if let Some(ticks) = parse_iso_utc(s.as_bytes()) {
        return Some(ticks);
    }
    let s = s.trim();
    if s.is_empty() || !s.is_ascii() {
        return None;
    }
    parse_iso(s)
        .or_else(|| parse_rfc(s))
        .or_else(|| parse_month_first(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_utc_form_reads_as_the_general_parser_reads_it() {
        let mut read = 0;
        for text in [
            "2024-05-28T10:00:00Z",
            "2024-05-28T10:00:00.1Z",
            "2024-05-28T10:00:00.919Z",
            "2024-05-28T10:00:00.1234567Z",
            "2024-05-28T10:00:00.123456789Z",
            "2024-02-29T23:59:59.9999999Z",
            "2023-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-10T00:00:00Z",
            "2024-05-00T00:00:00Z",
            "2024-05-28T24:00:00Z",
            "2024-05-28T23:60:00Z",
            "2024-05-28T23:59:60Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.9999999Z",
            "2024-05-28T10:00:00.Z",
            "2024-05-28T10:00:00.1a2Z",
            "2024-05-28T10:00:00,5Z",
            "2024-05-28T10:00:00+02:00",
            "2024-05-28T10:00:00.5-05:30",
            "2024-05-28t10:00:00Z",
            "2024-05-28 10:00:00Z",
            "2024/05/28T10:00:00Z",
            "2024-5-28T10:00:00Z",
            "+024-05-28T10:00:00Z",
            "2024-05-28T10:00:00z",
            " 2024-05-28T10:00:00Z",
            "2024-05-28T10:00:00Z ",
            "2024-05-28T1:00:00Z",
        ] {
            let general = {
                let trimmed = text.trim();
                parse_iso(trimmed)
                    .or_else(|| parse_rfc(trimmed))
                    .or_else(|| parse_month_first(trimmed))
            };
            if let Some(fast) = parse_iso_utc(text.as_bytes()) {
                assert_eq!(Some(fast), general, "{text}");
                read += 1;
            }
            assert_eq!(parse(text), general, "{text}");
        }
        assert_eq!(read, 8, "the fixed form is read for the plain cases");
    }
    #[test]
    fn calendar_round_trips_over_the_whole_range() {
        for days in (-719_162..=2_932_896).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(1, 1, 1) * DAY, MIN_TICKS);
    }
}
