//! Limits the checker can see in constants (`docs/limits.md`): a query that
//! would pass one at run time is refused where it is written, rather than
//! run and cut short.

use crate::syntax::ast::Literal;

/// The most rows one `range` makes; the same number as the runtime's
/// `kql_runtime::expand::MAX_RANGE_ROWS`, which stops bounds computed at
/// run time.
pub const MAX_RANGE_ROWS: u64 = 100_000_000;

/// The most partitions `partition` makes with the legacy strategy (its
/// default), as the reference states; `hint.strategy=native` and
/// `shuffle` have no limit.
pub const LEGACY_PARTITIONS: usize = 64;

/// The largest offset of `next(value, offset)`: a stage that calls it holds
/// back that many rows (each until the row `offset` later arrives).
pub const MAX_NEXT_OFFSET: usize = 100_000;

/// The number of rows `range from F to T step S` makes when all three are
/// literals, as the runtime counts them; `None` when a bound is not a
/// number, datetime or timespan literal (the runtime checks those).
pub fn range_rows(from: &Literal, to: &Literal, step: &Literal) -> Option<u128> {
    let real = |l: &Literal| match l {
        Literal::Real(x) => Some(*x),
        Literal::Long(n) => Some(*n as f64),
        Literal::Int(n) => Some(f64::from(*n)),
        _ => None,
    };
    let ticks = |l: &Literal| match l {
        Literal::Long(n) | Literal::DateTime(n) | Literal::TimeSpan(n) => Some(*n),
        Literal::Int(n) => Some(i64::from(*n)),
        _ => None,
    };
    if [from, to, step]
        .iter()
        .any(|l| matches!(l, Literal::Real(_)))
    {
        let (a, b, s) = (real(from)?, real(to)?, real(step)?);
        if s == 0.0 || !s.is_finite() || !a.is_finite() || !b.is_finite() || (b - a) * s < 0.0 {
            return Some(0);
        }
        return Some(((b - a) / s).floor().max(0.0) as u128 + 1);
    }
    let (a, b, s) = (ticks(from)?, ticks(to)?, ticks(step)?);
    let span = i128::from(b) - i128::from(a);
    if s == 0 || span * i128::from(s) < 0 {
        return Some(0);
    }
    Some((span / i128::from(s)) as u128 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_rows_count_like_the_runtime() {
        let long = Literal::Long;
        assert_eq!(range_rows(&long(1), &long(5), &long(2)), Some(3));
        assert_eq!(range_rows(&long(5), &long(1), &long(-1)), Some(5));
        assert_eq!(range_rows(&long(1), &long(5), &long(0)), Some(0));
        assert_eq!(
            range_rows(&long(1), &long(10_000_000_000), &long(1)),
            Some(10_000_000_000)
        );
        assert_eq!(
            range_rows(&Literal::Real(0.0), &long(1), &Literal::Real(0.5)),
            Some(3)
        );
        assert_eq!(
            range_rows(&Literal::String("a".into()), &long(1), &long(1)),
            None
        );
    }
}
