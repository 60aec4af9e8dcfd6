//! Text helpers: faster than `write!` and exactly what JSON needs.

use crate::rng::SplitMix64;
use crate::MICROS_PER_SECOND;

/// Kubernetes' alphabet for generated name suffixes (no vowels, no
/// look-alike digits).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// Appends `s` as a JSON string literal.
pub(crate) fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            push_hex(out, u64::from(byte), 2);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends `s` percent-encoded as a query value: everything but the
/// unreserved characters of RFC 3986 is escaped (so never a `+`).
pub(crate) fn push_percent_encoded(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

/// Appends `n` in decimal.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[i..] {
        out.push(char::from(digit));
    }
}

/// Appends the low `digits` hex digits of `n`, lowercase.
pub(crate) fn push_hex(out: &mut String, n: u64, digits: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in (0..digits).rev() {
        out.push(char::from(HEX[((n >> (4 * i)) & 15) as usize]));
    }
}

/// Appends a random version-4 UUID.
pub(crate) fn push_uuid(out: &mut String, rng: &mut SplitMix64) {
    let high = rng.next_u64();
    let low = rng.next_u64();
    push_hex(out, high >> 32, 8);
    out.push('-');
    push_hex(out, high >> 16, 4);
    out.push_str("-4");
    push_hex(out, high, 3);
    out.push('-');
    push_hex(out, 0x8 | ((low >> 62) & 3), 1);
    push_hex(out, low >> 48, 3);
    out.push('-');
    push_hex(out, low, 12);
}

/// Appends `len` random characters of [`NAME_ALPHABET`], as Kubernetes
/// suffixes generated names (one 64-bit draw: enough for 13).
pub(crate) fn push_random_name(out: &mut String, rng: &mut SplitMix64, len: usize) {
    let mut bits = rng.next_u64();
    for _ in 0..len {
        out.push(char::from(
            NAME_ALPHABET[(bits % NAME_ALPHABET.len() as u64) as usize],
        ));
        bits /= NAME_ALPHABET.len() as u64;
    }
}

/// Appends `n` (below 100) as two digits.
fn push_two_digits(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}

/// Appends microseconds since the Unix epoch as ISO 8601 UTC with
/// `fraction_digits` (3 or 6) digits and a `Z`.
pub(crate) fn push_datetime(out: &mut String, micros: i64, fraction_digits: u32) {
    let seconds = micros.div_euclid(MICROS_PER_SECOND);
    let fraction = micros.rem_euclid(MICROS_PER_SECOND) as u64;
    let days = seconds.div_euclid(86_400);
    let second_of_day = seconds.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    push_u64(out, year as u64);
    out.push('-');
    push_two_digits(out, month);
    out.push('-');
    push_two_digits(out, day);
    out.push('T');
    push_two_digits(out, second_of_day / 3600);
    out.push(':');
    push_two_digits(out, second_of_day / 60 % 60);
    out.push(':');
    push_two_digits(out, second_of_day % 60);
    out.push('.');
    let fraction = fraction / 10u64.pow(6 - fraction_digits);
    let mut divisor = 10u64.pow(fraction_digits - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (fraction / divisor % 10) as u8));
        divisor /= 10;
    }
    out.push('Z');
}

/// Year, month, day of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`), to format dates without a calendar library per row.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    #[test]
    fn datetimes_format_like_chrono() {
        let mut rng = SplitMix64(11);
        for _ in 0..2_000 {
            let micros = rng.range(-2_000_000_000_000_000, 4_000_000_000_000_000);
            let expected = DateTime::from_timestamp_micros(micros).unwrap();
            let mut text = String::new();
            push_datetime(&mut text, micros, 6);
            assert_eq!(text, expected.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
            text.clear();
            push_datetime(&mut text, micros, 3);
            assert_eq!(text, expected.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
        }
    }

    #[test]
    fn json_strings_are_escaped() {
        for s in [
            "plain",
            "quote \" and \\ backslash",
            "tab\tnew\nline\r",
            "\u{1}\u{1f}",
            "é ☃ 😀",
        ] {
            let mut text = String::new();
            push_json_string(&mut text, s);
            assert_eq!(serde_json::from_str::<String>(&text).unwrap(), s);
        }
    }

    #[test]
    fn commands_are_percent_encoded_without_plus() {
        let mut text = String::new();
        push_percent_encoded(&mut text, "sh -c 'a+b' && /x?y=1");
        assert_eq!(text, "sh%20-c%20%27a%2Bb%27%20%26%26%20%2Fx%3Fy%3D1");
    }
}
