//! KQL's `decimal`: exact decimal numbers of up to 38 significant digits.
//!
//! The reference (`scalar-data-types/decimal.md`) calls `decimal` "a
//! 128-bit wide, decimal number" and gives .NET's `SqlDecimal` as its
//! equivalent type: a value is an integer mantissa of at most 38 digits
//! times a power of ten, `m × 10^-s` with `0 ≤ s ≤ 38`. [`Decimal`] keeps
//! exactly that in an `i128` (which holds 38 digits) and a scale, always
//! without trailing zeros in the fraction, so equal values are equal
//! structs (derived `Eq` and `Hash` serve group keys and `dcount`).
//!
//! Addition, subtraction and multiplication are exact when the exact result
//! has at most 38 digits; otherwise, and for division, the result is
//! rounded half away from zero to 38 significant digits (at most 38 after
//! the point). A result whose integer part needs more than 38 digits is
//! `None` (null to KQL). The exact intermediate results (up to 77 digits)
//! are computed in a small unsigned 256-bit integer (`U256`), written here
//! because no well-kept crate gives a 38-digit decimal (`rust_decimal` stops
//! at 28 digits: `docs/dependencies.md`).

use std::cmp::Ordering;
use std::fmt;

/// The most significant digits a [`Decimal`] holds.
pub const MAX_DIGITS: u32 = 38;

/// 10^k for k ≤ 38 (10^38 < 2^127).
const fn pow10(k: u32) -> u128 {
    let mut value = 1u128;
    let mut i = 0;
    while i < k {
        value *= 10;
        i += 1;
    }
    value
}

/// 10^38: every mantissa is below it.
const LIMIT: u128 = pow10(MAX_DIGITS);

/// A KQL `decimal`: `mantissa × 10^-scale`, `|mantissa| < 10^38`,
/// `scale ≤ 38`, no trailing zero digit when `scale > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    mantissa: i128,
    scale: u8,
}

impl Decimal {
    /// Zero.
    pub const ZERO: Decimal = Decimal {
        mantissa: 0,
        scale: 0,
    };

    /// The decimal `mantissa × 10^-scale`, as generated code spells a
    /// constant ([`Decimal::mantissa`], [`Decimal::scale`]); trailing zeros
    /// are dropped.
    ///
    /// # Panics
    ///
    /// When `|mantissa| ≥ 10^38` or `scale > 38`, which no decimal has (in
    /// a constant, that is a compile-time error).
    pub const fn from_parts(mantissa: i128, scale: u8) -> Decimal {
        assert!(
            mantissa.unsigned_abs() < LIMIT && scale as u32 <= MAX_DIGITS,
            "not a decimal"
        );
        let (mut mantissa, mut scale) = (mantissa, scale);
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        Decimal { mantissa, scale }
    }

    /// The digits, as an integer (see [`Decimal::from_parts`]).
    pub const fn mantissa(self) -> i128 {
        self.mantissa
    }

    /// How many of the digits are after the point.
    pub const fn scale(self) -> u8 {
        self.scale
    }

    /// The decimal of an integer (exact).
    pub fn from_i64(n: i64) -> Decimal {
        Decimal {
            mantissa: i128::from(n),
            scale: 0,
        }
    }

    /// The decimal nearest to a real, read from its shortest round-trip
    /// text (`0.1` is exactly 0.1); `None` for NaN, infinities and values
    /// beyond 38 integer digits.
    pub fn from_f64(x: f64) -> Option<Decimal> {
        if !x.is_finite() {
            return None;
        }
        Decimal::parse(&format!("{x:e}"))
    }

    /// Parses decimal text: an optional sign, digits with an optional
    /// point (at least one digit), and an optional exponent (`1.5e-3`).
    /// Surrounding white space is ignored. More than 38 significant digits
    /// are rounded half away from zero; an integer part beyond 38 digits,
    /// or anything else, is `None`.
    pub fn parse(text: &str) -> Option<Decimal> {
        let text = text.trim();
        let (negative, body) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (number, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], Some(&body[at + 1..])),
            None => (body, None),
        };
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let mut exponent: i64 = match exponent {
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                // Beyond ±100000 the value is 0 or too large either way.
                let magnitude = digits.trim_start_matches('0');
                let magnitude: i64 = if magnitude.len() > 6 {
                    100_000
                } else {
                    magnitude.parse().unwrap_or(0).min(100_000)
                };
                if e.starts_with('-') {
                    -magnitude
                } else {
                    magnitude
                }
            }
            None => 0,
        };
        exponent -= fraction.len() as i64;
        // Significant digits, leading zeros dropped; past 77 digits none
        // can change the rounding to 38.
        let digits: Vec<u8> = whole
            .bytes()
            .chain(fraction.bytes())
            .skip_while(|&b| b == b'0')
            .collect();
        const KEPT: usize = 77;
        let kept = &digits[..digits.len().min(KEPT)];
        exponent += (digits.len() - kept.len()) as i64;
        let mut magnitude = U256::ZERO;
        for &digit in kept {
            magnitude = magnitude
                .mul_small(10)?
                .add(U256::from(u128::from(digit - b'0')))?;
        }
        if magnitude.is_zero() {
            return Some(Decimal::ZERO);
        }
        if exponent >= 0 {
            if exponent > 76 {
                return None;
            }
            let magnitude = magnitude.mul_pow10(exponent as u32)?;
            return fit(negative, magnitude, 0, false);
        }
        fit(negative, magnitude, exponent.unsigned_abs() as u32, false)
    }

    /// The nearest real.
    pub fn to_f64(self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// The integer part (truncated toward zero), if it fits a long.
    pub fn to_i64(self) -> Option<i64> {
        let whole = self.mantissa / pow10(u32::from(self.scale)) as i128;
        i64::try_from(whole).ok()
    }

    /// True for zero.
    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    fn magnitude(self) -> U256 {
        U256::from(self.mantissa.unsigned_abs())
    }

    fn is_negative(self) -> bool {
        self.mantissa < 0
    }

    /// Both magnitudes at the larger scale (exact: below 10^76).
    fn aligned(self, other: Decimal) -> (U256, U256, u32) {
        let scale = self.scale.max(other.scale);
        let widen = |d: Decimal| {
            d.magnitude()
                .mul_pow10(u32::from(scale - d.scale))
                .unwrap_or(U256::MAX)
        };
        (widen(self), widen(other), u32::from(scale))
    }

    /// `self + other`; `None` beyond 38 integer digits.
    pub fn checked_add(self, other: Decimal) -> Option<Decimal> {
        let (a, b, scale) = self.aligned(other);
        if self.is_negative() == other.is_negative() {
            return fit(self.is_negative(), a.add(b)?, scale, false);
        }
        match a.cmp(&b) {
            Ordering::Less => fit(other.is_negative(), b.sub(a), scale, false),
            _ => fit(self.is_negative(), a.sub(b), scale, false),
        }
    }

    /// `self - other`; `None` beyond 38 integer digits.
    pub fn checked_sub(self, other: Decimal) -> Option<Decimal> {
        self.checked_add(-other)
    }

    /// `self × other`, rounded to 38 digits; `None` beyond 38 integer
    /// digits.
    pub fn checked_mul(self, other: Decimal) -> Option<Decimal> {
        let product = U256::mul_u128(self.mantissa.unsigned_abs(), other.mantissa.unsigned_abs());
        let negative = self.is_negative() != other.is_negative();
        fit(
            negative,
            product,
            u32::from(self.scale) + u32::from(other.scale),
            false,
        )
    }

    /// `self / other`, rounded half away from zero to 38 significant digits
    /// (and at most 38 after the point); `None` for a zero divisor or beyond
    /// 38 integer digits.
    pub fn checked_div(self, other: Decimal) -> Option<Decimal> {
        if other.is_zero() {
            return None;
        }
        if self.is_zero() {
            return Some(Decimal::ZERO);
        }
        let divisor = other.mantissa.unsigned_abs();
        // Widen the dividend to 76 digits, so the quotient has at least 38.
        let widen = 76 - digit_count(self.magnitude());
        let dividend = self.magnitude().mul_pow10(widen)?;
        let (quotient, remainder) = dividend.div_rem(U256::from(divisor));
        let beyond_half = remainder.low() >= divisor - remainder.low();
        let scale = u32::from(self.scale) + widen - u32::from(other.scale);
        let negative = self.is_negative() != other.is_negative();
        fit(negative, quotient, scale, beyond_half)
    }

    /// `self % other` as KQL's `%` takes it (`numerical-operators.md`: the
    /// result is never negative, `0 ≤ N % D < abs(D)`); `None` for a zero
    /// divisor. Exact.
    pub fn checked_rem_euclid(self, other: Decimal) -> Option<Decimal> {
        if other.is_zero() {
            return None;
        }
        let (a, b, scale) = self.aligned(other);
        let (_, mut remainder) = a.div_rem(b);
        if self.is_negative() && !remainder.is_zero() {
            remainder = b.sub(remainder);
        }
        fit(false, remainder, scale, false)
    }

    /// `self` rounded half away from zero to `digits` places after the
    /// point (negative: before it), as `round` does; `None` when rounding
    /// up carries past 38 integer digits.
    pub fn round(self, digits: i64) -> Option<Decimal> {
        let keep = digits.clamp(-(MAX_DIGITS as i64), MAX_DIGITS as i64);
        if keep >= i64::from(self.scale) {
            return Some(self);
        }
        let drop = (i64::from(self.scale) - keep) as u32;
        let (quotient, last) = drop_digits(self.magnitude(), drop);
        let mut rounded = quotient;
        if last >= 5 {
            rounded = rounded.add(U256::from(1))?;
        }
        // `keep` < 0: the kept digits stand for tens, hundreds, ...
        let (rounded, scale) = if keep < 0 {
            (rounded.mul_pow10(keep.unsigned_abs() as u32)?, 0)
        } else {
            (rounded, keep as u32)
        };
        fit(self.is_negative(), rounded, scale, false)
    }

    /// The largest multiple of `size` at or below `self` (`bin`/`floor`);
    /// `None` for a zero or negative size, or beyond 38 digits.
    pub fn floor_to(self, size: Decimal) -> Option<Decimal> {
        if size.is_zero() || size.is_negative() {
            return None;
        }
        let remainder = self.checked_rem_euclid(size)?;
        self.checked_sub(remainder)
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (negative, _) => {
                let (a, b, _) = self.aligned(*other);
                let order = a.cmp(&b);
                if negative {
                    order.reverse()
                } else {
                    order
                }
            }
        }
    }
}

/// `-d` (exact).
impl std::ops::Neg for Decimal {
    type Output = Decimal;
    fn neg(self) -> Decimal {
        Decimal {
            mantissa: -self.mantissa,
            scale: self.scale,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Plain digits with a point where the scale says, never an exponent:
/// `1.5`, `-0.005`, `1000000020000000300000004`.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::from(self.scale);
        let sign = if self.is_negative() { "-" } else { "" };
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        if digits.len() > scale {
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            write!(f, "{sign}{whole}.{fraction}")
        } else {
            let zeros = "0".repeat(scale - digits.len());
            write!(f, "{sign}0.{zeros}{digits}")
        }
    }
}

/// The decimal of `±magnitude × 10^-scale`, rounded half away from zero to
/// at most 38 digits and a scale of at most 38; `beyond_half` says whether
/// the exact value lies at least half a unit above `magnitude` (a
/// division's remainder), used when no digit is dropped. `None` when the
/// integer part needs more than 38 digits.
fn fit(negative: bool, magnitude: U256, scale: u32, beyond_half: bool) -> Option<Decimal> {
    let digits = digit_count(magnitude);
    let drop = scale
        .saturating_sub(MAX_DIGITS)
        .max(digits.saturating_sub(MAX_DIGITS))
        .min(scale);
    let (mut kept, round_up) = if drop == 0 {
        (magnitude, beyond_half)
    } else {
        let (kept, last) = drop_digits(magnitude, drop);
        (kept, last >= 5)
    };
    if round_up {
        kept = kept.add(U256::from(1))?;
    }
    let mut scale = scale - drop;
    let mut mantissa = kept.to_u128()?;
    if mantissa >= LIMIT {
        // Rounding up made 10^38: one digit fewer, if the point allows.
        if mantissa == LIMIT && scale > 0 {
            mantissa /= 10;
            scale -= 1;
        } else {
            return None;
        }
    }
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    if mantissa == 0 {
        return Some(Decimal::ZERO);
    }
    let mantissa = mantissa as i128;
    Some(Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        scale: scale as u8,
    })
}

/// `magnitude` without its last `drop` (≥ 1) digits, and the last digit
/// dropped (which decides rounding half away from zero).
fn drop_digits(magnitude: U256, drop: u32) -> (U256, u8) {
    let mut rest = magnitude;
    let mut left = drop - 1;
    while left > 0 && !rest.is_zero() {
        let step = left.min(MAX_DIGITS);
        rest = rest.div_rem(U256::from(pow10(step))).0;
        left -= step;
    }
    let (kept, last) = rest.div_rem(U256::from(10));
    (kept, last.low() as u8)
}

/// The number of decimal digits of `n` (0 for zero).
fn digit_count(n: U256) -> u32 {
    let mut n = n;
    let mut count = 0;
    while n.hi != 0 {
        n = n.div_rem(U256::from(pow10(19))).0;
        count += 19;
    }
    if n.lo == 0 {
        count
    } else {
        count + n.lo.ilog10() + 1
    }
}

/// An unsigned 256-bit integer, just enough for exact decimal
/// intermediates (products and aligned sums of two 38-digit mantissas).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct U256 {
    // Field order matters: the derived order compares `hi` first.
    hi: u128,
    lo: u128,
}

impl U256 {
    const ZERO: U256 = U256 { hi: 0, lo: 0 };
    const MAX: U256 = U256 {
        hi: u128::MAX,
        lo: u128::MAX,
    };

    fn from(n: u128) -> U256 {
        U256 { hi: 0, lo: n }
    }

    fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == 0
    }

    fn low(self) -> u128 {
        self.lo
    }

    fn to_u128(self) -> Option<u128> {
        (self.hi == 0).then_some(self.lo)
    }

    /// The full product of two u128s.
    fn mul_u128(a: u128, b: u128) -> U256 {
        const MASK: u128 = u64::MAX as u128;
        let (a1, a0) = (a >> 64, a & MASK);
        let (b1, b0) = (b >> 64, b & MASK);
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        let middle = (p00 >> 64) + (p01 & MASK) + (p10 & MASK);
        U256 {
            hi: p11 + (p01 >> 64) + (p10 >> 64) + (middle >> 64),
            lo: (p00 & MASK) | (middle << 64),
        }
    }

    fn add(self, other: U256) -> Option<U256> {
        let (lo, carry) = self.lo.overflowing_add(other.lo);
        let hi = self
            .hi
            .checked_add(other.hi)?
            .checked_add(u128::from(carry))?;
        Some(U256 { hi, lo })
    }

    /// `self - other`, for `self ≥ other`.
    fn sub(self, other: U256) -> U256 {
        let (lo, borrow) = self.lo.overflowing_sub(other.lo);
        U256 {
            hi: self.hi - other.hi - u128::from(borrow),
            lo,
        }
    }

    fn mul_small(self, factor: u128) -> Option<U256> {
        let low = U256::mul_u128(self.lo, factor);
        let high = U256::mul_u128(self.hi, factor);
        if high.hi != 0 {
            return None;
        }
        U256 { hi: high.lo, lo: 0 }.add(low)
    }

    fn mul_pow10(self, k: u32) -> Option<U256> {
        let mut n = self;
        let mut left = k;
        while left > 0 {
            let step = left.min(MAX_DIGITS);
            n = n.mul_small(pow10(step))?;
            left -= step;
        }
        Some(n)
    }

    fn shl1(self) -> U256 {
        U256 {
            hi: (self.hi << 1) | (self.lo >> 127),
            lo: self.lo << 1,
        }
    }

    fn bit(self, i: u32) -> bool {
        if i >= 128 {
            (self.hi >> (i - 128)) & 1 == 1
        } else {
            (self.lo >> i) & 1 == 1
        }
    }

    /// Quotient and remainder, for a non-zero divisor below 2^255.
    fn div_rem(self, divisor: U256) -> (U256, U256) {
        if self.hi == 0 && divisor.hi == 0 {
            return (
                U256::from(self.lo / divisor.lo),
                U256::from(self.lo % divisor.lo),
            );
        }
        let mut quotient = U256::ZERO;
        let mut remainder = U256::ZERO;
        for i in (0..256).rev() {
            remainder = remainder.shl1();
            if self.bit(i) {
                remainder.lo |= 1;
            }
            quotient = quotient.shl1();
            if remainder >= divisor {
                remainder = remainder.sub(divisor);
                quotient.lo |= 1;
            }
        }
        (quotient, remainder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        Decimal::parse(text).unwrap_or_else(|| panic!("{text} should parse"))
    }

    #[test]
    fn parsing_keeps_every_digit_and_drops_trailing_zeros() {
        assert_eq!(d("1.50").to_string(), "1.5");
        assert_eq!(d("-0.005").to_string(), "-0.005");
        assert_eq!(d("1e5").to_string(), "100000");
        assert_eq!(d("1.5E-3").to_string(), "0.0015");
        assert_eq!(d("  +42 ").to_string(), "42");
        assert_eq!(d(".5").to_string(), "0.5");
        assert_eq!(d("5.").to_string(), "5");
        assert_eq!(d("-0.000").to_string(), "0");
        let big = "12345678901234567890123456789012345678";
        assert_eq!(d(big).to_string(), big);
        assert_eq!(
            d("1.00000000000000000000000000000000000001").to_string(),
            "1"
        );
        assert_eq!(d("1e-40").to_string(), "0");
        for bad in [
            "", "-", ".", "1.2.3", "abc", "1e", "1e+", "0x10", "inf", "NaN",
        ] {
            assert_eq!(Decimal::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Decimal::parse("1e38"), None);
        assert_eq!(
            Decimal::parse("99999999999999999999999999999999999999.5"),
            None
        );
    }

    #[test]
    fn arithmetic_is_exact_within_38_digits() {
        assert_eq!(d("0.1").checked_add(d("0.2")), Some(d("0.3")));
        assert_eq!(d("1.5").checked_sub(d("2.25")), Some(d("-0.75")));
        assert_eq!(d("1.5").checked_mul(d("-4")), Some(d("-6")));
        assert_eq!(
            d("99999999999999999999999999999999999999").checked_add(d("1")),
            None
        );
        assert_eq!(
            d("1").checked_div(d("3")).map(|x| x.to_string()).as_deref(),
            Some("0.33333333333333333333333333333333333333")
        );
        assert_eq!(
            d("2").checked_div(d("3")).map(|x| x.to_string()).as_deref(),
            Some("0.66666666666666666666666666666666666667")
        );
        assert_eq!(d("-10").checked_div(d("4")), Some(d("-2.5")));
        assert_eq!(d("1").checked_div(d("0")), None);
        assert_eq!(d("-14").checked_rem_euclid(d("12")), Some(d("10")));
        assert_eq!(d("14").checked_rem_euclid(d("-12")), Some(d("2")));
        assert_eq!(d("5.5").checked_rem_euclid(d("2")), Some(d("1.5")));
    }

    #[test]
    fn order_and_identity_follow_the_value() {
        assert!(d("1.5") < d("1.51"));
        assert!(d("-2") < d("-1.5"));
        assert_eq!(d("2.000"), d("2"));
        assert_eq!(d("-0.5").cmp(&d("0")), Ordering::Less);
    }

    #[test]
    fn conversions_to_and_from_other_numbers() {
        assert_eq!(Decimal::from_f64(0.1), Some(d("0.1")));
        assert_eq!(Decimal::from_f64(f64::NAN), None);
        assert_eq!(Decimal::from_f64(1e300), None);
        assert_eq!(d("2.5").to_f64(), 2.5);
        assert_eq!(d("-2.7").to_i64(), Some(-2));
        assert_eq!(d("1e20").to_i64(), None);
        assert_eq!(d("2.345").round(2), Some(d("2.35")));
        assert_eq!(d("-2.345").round(0), Some(d("-2")));
        assert_eq!(d("1250").round(-2), Some(d("1300")));
        assert_eq!(d("7.5").floor_to(d("2")), Some(d("6")));
        assert_eq!(d("-7.5").floor_to(d("2")), Some(d("-8")));
    }
}
