//! Periods of a series (series-periods-detect-function.md,
//! series-periods-validate-function.md, series-seasonal-function.md).
//!
//! The reference gives the rules but not the score, so kqlc fixes one
//! (`docs/semantics.md`): the series is detrended (its least-squares line
//! is taken off), and the score of a period `p` is the Pearson correlation
//! of the detrended series with itself shifted by `p`, over the points the
//! two share (linearly interpolated between the two whole shifts around a
//! fractional `p`). A score under the white-noise bound `2 / sqrt(n)`, or
//! under 0, is 0. A period must hold at least 4 points and repeat more than
//! twice within the series (`2p < n`); outside those bounds its score is 0.
//!
//! `series_periods_detect` takes as candidates the whole periods within
//! its bounds whose score is above the bound and above the score of every
//! shift within a quarter of the period (ties go to the shorter shift),
//! leaves out a candidate within one bin of a whole multiple of a shorter
//! candidate (a harmonic), orders the rest best first (ties: shorter
//! first), keeps `num_periods` of them and pads the arrays to
//! `num_periods` with 0 periods scoring 0.
//!
//! As the other series functions: an element that is not a finite number,
//! or a series argument that is not an array, gives nulls.

use super::decompose::centred_line;
use super::series::bag;
use super::{integer_arg, real_arg};
use crate::value::Value;

/// The members of `series_periods_detect`'s bag, in column order (the
/// columns Microsoft's parser names `..._periods` and `..._periods_scores`).
pub const DETECT_MEMBERS: [&str; 2] = ["periods", "periods_scores"];

/// The members of `series_periods_validate`'s bag, in column order.
pub const VALIDATE_MEMBERS: [&str; 2] = ["periods", "scores"];

/// The shortest period that can be detected or validated, in bins.
const MIN_PERIOD: f64 = 4.0;

/// The most periods `series_periods_validate` takes.
pub const MAX_VALIDATED: usize = 16;

/// The finite numbers of a series argument, or none.
pub(crate) fn series_of(value: Option<&Value>) -> Option<Vec<f64>> {
    let Some(Value::Array(items)) = value else {
        return None;
    };
    items
        .iter()
        .map(|v| real_arg(v).filter(|x| x.is_finite()))
        .collect()
}

/// A series and the scores of its shifts.
struct Shifts {
    /// The series less its least-squares line.
    detrended: Vec<f64>,
    /// The scores computed so far, by whole shift.
    scores: Vec<Option<f64>>,
}

impl Shifts {
    fn new(y: &[f64]) -> Self {
        let (mx, my, slope) = centred_line(y);
        let detrended = y
            .iter()
            .enumerate()
            .map(|(i, y)| y - my - slope * (i as f64 - mx))
            .collect();
        Shifts {
            detrended,
            scores: vec![None; y.len()],
        }
    }

    fn len(&self) -> usize {
        self.detrended.len()
    }

    /// The white-noise bound: a correlation under it is taken as none.
    fn bound(&self) -> f64 {
        2.0 / (self.len() as f64).sqrt()
    }

    /// Whether `p` is a period the series can show: at least 4 points,
    /// repeating more than twice.
    fn admits(&self, p: f64) -> bool {
        p >= MIN_PERIOD && 2.0 * p < self.len() as f64
    }

    /// The correlation of the series with itself shifted by `k` whole
    /// bins (0 when either part does not vary).
    fn correlation(&mut self, k: usize) -> f64 {
        if let Some(Some(r)) = self.scores.get(k) {
            return *r;
        }
        let n = self.len();
        let r = if k + 2 > n {
            0.0
        } else {
            let (a, b) = (&self.detrended[..n - k], &self.detrended[k..]);
            let m = (n - k) as f64;
            let (ma, mb) = (a.iter().sum::<f64>() / m, b.iter().sum::<f64>() / m);
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for (a, b) in a.iter().zip(b) {
                sab += (a - ma) * (b - mb);
                saa += (a - ma) * (a - ma);
                sbb += (b - mb) * (b - mb);
            }
            let d = (saa * sbb).sqrt();
            // Rounding leaves a flat part a spread of about 1e-16 of its
            // size: below that, it does not vary.
            if d <= f64::EPSILON * (sab.abs() + 1.0) || !d.is_normal() {
                0.0
            } else {
                (sab / d).clamp(-1.0, 1.0)
            }
        };
        if let Some(slot) = self.scores.get_mut(k) {
            *slot = Some(r);
        }
        r
    }

    /// The score of period `p` (0 outside the bounds or under the
    /// white-noise bound).
    fn score(&mut self, p: f64) -> f64 {
        if !self.admits(p) {
            return 0.0;
        }
        let low = p.floor();
        let fraction = p - low;
        let low = low as usize;
        let r = if fraction == 0.0 {
            self.correlation(low)
        } else {
            (1.0 - fraction) * self.correlation(low) + fraction * self.correlation(low + 1)
        };
        if r < self.bound() {
            0.0
        } else {
            r
        }
    }

    /// The detected periods within `[min, max]`, best first, at most
    /// `count`: (period, score).
    fn detect(&mut self, min: f64, max: f64, count: usize) -> Vec<(usize, f64)> {
        let n = self.len();
        let first = min.max(MIN_PERIOD).ceil();
        let last = max.min(((n.saturating_sub(1)) / 2) as f64).floor();
        let mut candidates: Vec<(usize, f64)> = Vec::new();
        if first <= last {
            for k in first as usize..=last as usize {
                let score = self.score(k as f64);
                if score == 0.0 {
                    continue;
                }
                let window = k / 4;
                let before =
                    (k.saturating_sub(window).max(1)..k).all(|j| score > self.correlation(j));
                let after = (k + 1..=(k + window).min(n.saturating_sub(2)))
                    .all(|j| score >= self.correlation(j));
                if before && after {
                    candidates.push((k, score));
                }
            }
        }
        // A candidate within one bin of a whole multiple of a shorter one
        // is its harmonic, and goes.
        let fundamentals: Vec<(usize, f64)> = candidates
            .iter()
            .filter(|&&(k, _)| {
                !candidates.iter().any(|&(q, _)| {
                    let multiple = (k + q / 2) / q;
                    q < k && multiple >= 2 && k.abs_diff(multiple * q) <= 1
                })
            })
            .copied()
            .collect();
        let mut taken = fundamentals;
        taken.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        taken.truncate(count);
        taken
    }
}

/// The best period of `y` scoring at least `threshold`, as the
/// decompositions and `series_seasonal` detect it: `series_periods_detect`
/// over every admissible period, its first period kept when its score
/// reaches the threshold.
pub(crate) fn detect_period(y: &[f64], threshold: f64) -> Option<usize> {
    let mut shifts = Shifts::new(y);
    let (period, score) = *shifts.detect(0.0, f64::INFINITY, 1).first()?;
    (score >= threshold).then_some(period)
}

fn reals(values: impl Iterator<Item = f64>) -> Value {
    Value::array(values.map(Value::Real).collect())
}

fn nulls(members: &[&'static str]) -> Value {
    bag(members.iter().map(|&m| (m, Value::Null)).collect())
}

/// `series_periods_detect(series, min_period, max_period, num_periods)`,
/// as the bag kqlc expands into its two columns: `periods` (reals, best
/// first, padded with 0) and `periods_scores`. Null members for a series
/// that is not an array of finite numbers, a bound that is not a number
/// or a negative count.
pub fn series_periods_detect_dynamic(args: &[Value]) -> Value {
    let found = (|| {
        let y = series_of(args.first())?;
        let min = args.get(1).and_then(real_arg).filter(|x| !x.is_nan())?;
        let max = args.get(2).and_then(real_arg).filter(|x| !x.is_nan())?;
        let count = usize::try_from(args.get(3).and_then(integer_arg)?).ok()?;
        let taken = if y.is_empty() {
            Vec::new()
        } else {
            Shifts::new(&y).detect(min, max, count)
        };
        let padding = count - taken.len();
        let periods = taken
            .iter()
            .map(|&(p, _)| p as f64)
            .chain(std::iter::repeat_n(0.0, padding));
        let scores = taken
            .iter()
            .map(|&(_, s)| s)
            .chain(std::iter::repeat_n(0.0, padding));
        Some((reals(periods), reals(scores)))
    })();
    match found {
        Some((periods, scores)) => bag(vec![
            (DETECT_MEMBERS[0], periods),
            (DETECT_MEMBERS[1], scores),
        ]),
        None => nulls(&DETECT_MEMBERS),
    }
}

/// `series_periods_validate(series, period1 [, period2, ...])`, as the bag
/// kqlc expands into its two columns: the periods as given (reals) and
/// their scores. A null or non-numeric period scores null; a series that is
/// not an array of finite numbers gives null members.
pub fn series_periods_validate_dynamic(args: &[Value]) -> Value {
    let Some(y) = series_of(args.first()) else {
        return nulls(&VALIDATE_MEMBERS);
    };
    let mut shifts = (!y.is_empty()).then(|| Shifts::new(&y));
    let mut periods = Vec::new();
    let mut scores = Vec::new();
    for arg in args.iter().skip(1).take(MAX_VALIDATED) {
        match real_arg(arg) {
            Some(p) if p.is_finite() => {
                periods.push(Value::Real(p));
                let score = shifts.as_mut().map_or(0.0, |s| s.score(p));
                scores.push(Value::Real(score));
            }
            _ => {
                periods.push(Value::Null);
                scores.push(Value::Null);
            }
        }
    }
    bag(vec![
        (VALIDATE_MEMBERS[0], Value::array(periods)),
        (VALIDATE_MEMBERS[1], Value::array(scores)),
    ])
}

/// The score a detected period needs for `series_seasonal`'s default.
const SEASONAL_THRESHOLD: f64 = 0.7;

/// `series_seasonal(series [, period])`: per phase of the period, the
/// median of the series' values in that phase, repeated over the series.
/// The period -1 (the default) is detected (a score of at least 0.7); no
/// detected period, or a period of 0 or under -1, gives zeros. Null for a
/// series that is not an array of finite numbers or a period that is not
/// an integer.
pub fn series_seasonal(args: &[Value]) -> Value {
    let Some(y) = series_of(args.first()) else {
        return Value::Null;
    };
    let period = match args.get(1) {
        None | Some(Value::Null) => -1,
        Some(v) => match integer_arg(v) {
            Some(p) => p,
            None => return Value::Null,
        },
    };
    let period = match period {
        -1 => detect_period(&y, SEASONAL_THRESHOLD),
        p if p > 0 => usize::try_from(p).ok(),
        _ => None,
    };
    let Some(p) = period else {
        return reals(y.iter().map(|_| 0.0));
    };
    let medians: Vec<f64> = (0..p.min(y.len()))
        .map(|phase| {
            let mut points: Vec<f64> = y.iter().skip(phase).step_by(p).copied().collect();
            median(&mut points)
        })
        .collect();
    reals((0..y.len()).map(|i| medians[i % p]))
}

/// The median (the mean of the two middle values of an even count) of a
/// non-empty slice.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Value {
        Value::array(values.iter().map(|&x| Value::Real(x)).collect())
    }

    fn member(bag: &Value, key: &str) -> Vec<f64> {
        let Value::Bag(b) = bag else {
            panic!("not a bag: {bag:?}")
        };
        let Some(Value::Array(items)) = b.get(key) else {
            panic!("no {key} in {bag:?}")
        };
        items
            .iter()
            .map(|v| match v {
                Value::Real(x) => *x,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    /// A period of 8 with a rising trend and a little noise-like wobble.
    fn eights(cycles: usize) -> Vec<f64> {
        let shape = [1.0, 4.0, 9.0, 7.0, 3.0, 2.0, 0.0, 1.0];
        (0..cycles * 8)
            .map(|i| shape[i % 8] + 0.05 * i as f64 + if i % 3 == 0 { 0.2 } else { 0.0 })
            .collect()
    }

    #[test]
    fn the_period_is_found_and_its_multiples_are_left_out() {
        let y = eights(6);
        let found = series_periods_detect_dynamic(&[
            series(&y),
            Value::Real(0.0),
            Value::Real(30.0),
            Value::Long(3),
        ]);
        let periods = member(&found, "periods");
        let scores = member(&found, "periods_scores");
        assert_eq!(periods, vec![8.0, 0.0, 0.0]);
        assert!(scores[0] > 0.9 && scores[0] <= 1.0, "{scores:?}");
        assert_eq!(&scores[1..], &[0.0, 0.0]);
        assert_eq!(detect_period(&y, 0.7), Some(8));
    }

    #[test]
    fn validation_scores_zero_outside_the_bounds_and_for_no_period() {
        let y = eights(6);
        let v = series_periods_validate_dynamic(&[
            series(&y),
            Value::Real(8.0),
            Value::Real(3.0),
            Value::Real(24.0),
            Value::Long(5),
        ]);
        assert_eq!(member(&v, "periods"), vec![8.0, 3.0, 24.0, 5.0]);
        let scores = member(&v, "scores");
        assert!(scores[0] > 0.9);
        assert_eq!(&scores[1..], &[0.0, 0.0, 0.0], "{scores:?}");
    }

    #[test]
    fn a_flat_series_has_no_period() {
        let y = vec![3.0; 40];
        assert_eq!(detect_period(&y, 0.0), None);
        assert_eq!(
            series_seasonal(&[series(&y)]),
            series(&[0.0; 40]),
            "no period: zeros"
        );
    }

    #[test]
    fn seasonal_takes_the_median_per_phase() {
        let y = [1.0, 5.0, 2.0, 9.0, 3.0, 4.0];
        assert_eq!(
            series_seasonal(&[series(&y), Value::Long(2)]),
            series(&[2.0, 5.0, 2.0, 5.0, 2.0, 5.0])
        );
        assert_eq!(
            series_seasonal(&[series(&y), Value::Long(0)]),
            series(&[0.0; 6])
        );
        assert_eq!(series_seasonal(&[series(&[1.0, 2.0])]), series(&[0.0, 0.0]));
        assert_eq!(
            series_seasonal(&[Value::array(vec![Value::Null])]),
            Value::Null
        );
    }
}
