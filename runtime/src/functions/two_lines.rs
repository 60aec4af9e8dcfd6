//! `series_fit_2lines` (series-fit-2lines-function.md): a two-segment
//! linear regression. The reference says the series is split at each index
//! in turn, a line fitted to each part, and the split with the best total
//! r-square kept; kqlc's exact rule (`docs/semantics.md`):
//!
//! - the points are `(1, y[0]), (2, y[1]), ...`, as `series_fit_line`'s;
//! - `split_idx` is the zero-based index of the right part's first point,
//!   and every split leaving at least 2 points on each side is tried
//!   (`2..=n-2`), so a series needs at least 4 points;
//! - the total r-square is `1 - (left residual + right residual) / total
//!   sum of squares` (1 for a series with no spread); the best split has
//!   the highest, the first (leftmost) among equals;
//! - each line is `slope * x + interception` over the whole series' `x`,
//!   and its side's `rsquare`, `variance` and `rvariance` are
//!   `series_fit_line`'s over that side's points;
//! - `variance` is the sample variance of the series, `rvariance` the sum
//!   of both residuals over `n - 1`, `line_fit` the two lines' values.
//!
//! An element that is not a finite number, or fewer than 4 points, makes
//! every member null.

use super::periods::series_of;
use super::series::bag;
use crate::value::Value;

/// The members of `series_fit_2lines_dynamic`'s bag, in the order
/// `series_fit_2lines` gives them as columns.
pub const FIT_2LINES_MEMBERS: [&str; 15] = [
    "rsquare",
    "split_idx",
    "variance",
    "rvariance",
    "line_fit",
    "right_rsquare",
    "right_slope",
    "right_interception",
    "right_variance",
    "right_rvariance",
    "left_rsquare",
    "left_slope",
    "left_interception",
    "left_variance",
    "left_rvariance",
];

/// A least-squares line through `(first + i, y[i])`.
struct Fit {
    slope: f64,
    interception: f64,
    /// The sum of squares about the mean.
    total: f64,
    /// The sum of squared residuals.
    residual: f64,
}

impl Fit {
    fn new(y: &[f64], first: usize) -> Fit {
        let n = y.len() as f64;
        let mx = first as f64 + (n - 1.0) / 2.0;
        let my = y.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (i, y) in y.iter().enumerate() {
            let dx = (first + i) as f64 - mx;
            sxy += dx * (y - my);
            sxx += dx * dx;
            syy += (y - my) * (y - my);
        }
        let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
        let interception = my - slope * mx;
        let residual = y
            .iter()
            .enumerate()
            .map(|(i, y)| {
                let e = y - (interception + slope * (first + i) as f64);
                e * e
            })
            .sum();
        Fit {
            slope,
            interception,
            total: syy,
            residual,
        }
    }

    fn at(&self, x: usize) -> f64 {
        self.interception + self.slope * x as f64
    }

    /// r-square: 1 - residual / total (1 with no spread).
    fn rsquare(&self) -> f64 {
        rsquare(self.residual, self.total)
    }

    /// The side's members: rsquare, slope, interception, variance,
    /// rvariance.
    fn members(&self, points: usize) -> [Value; 5] {
        let divisor = (points as f64 - 1.0).max(1.0);
        [
            Value::Real(self.rsquare()),
            Value::Real(self.slope),
            Value::Real(self.interception),
            Value::Real(self.total / divisor),
            Value::Real(self.residual / divisor),
        ]
    }
}

fn rsquare(residual: f64, total: f64) -> f64 {
    if total == 0.0 {
        1.0
    } else {
        1.0 - residual / total
    }
}

/// `series_fit_2lines_dynamic(series)`: the bag of the best two-line fit
/// (the module's rule).
pub fn series_fit_2lines_dynamic(series: &Value) -> Value {
    let fit = series_of(Some(series))
        .filter(|y| y.len() >= 4)
        .map(|y| fit_2lines(&y));
    let values = fit.unwrap_or_else(|| vec![Value::Null; FIT_2LINES_MEMBERS.len()]);
    bag(FIT_2LINES_MEMBERS.iter().copied().zip(values).collect())
}

fn fit_2lines(y: &[f64]) -> Vec<Value> {
    let n = y.len();
    let whole = Fit::new(y, 1);
    let mut best: Option<(usize, f64, Fit, Fit)> = None;
    for split in 2..=n - 2 {
        let left = Fit::new(&y[..split], 1);
        let right = Fit::new(&y[split..], split + 1);
        let r2 = rsquare(left.residual + right.residual, whole.total);
        if best.as_ref().is_none_or(|(_, b, _, _)| r2 > *b) {
            best = Some((split, r2, left, right));
        }
    }
    let Some((split, r2, left, right)) = best else {
        return vec![Value::Null; FIT_2LINES_MEMBERS.len()];
    };
    let divisor = (n as f64 - 1.0).max(1.0);
    let line: Vec<Value> = (1..=n)
        .map(|x| Value::Real(if x <= split { left.at(x) } else { right.at(x) }))
        .collect();
    let mut values = vec![
        Value::Real(r2),
        Value::Long(split as i64),
        Value::Real(whole.total / divisor),
        Value::Real((left.residual + right.residual) / divisor),
        Value::array(line),
    ];
    values.extend(right.members(n - split));
    values.extend(left.members(split));
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Value {
        Value::array(values.iter().map(|&x| Value::Real(x)).collect())
    }

    fn get(bag: &Value, key: &str) -> Value {
        let Value::Bag(b) = bag else {
            panic!("not a bag: {bag:?}")
        };
        b.get(key).cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn a_rise_then_a_fall_splits_at_the_turn() {
        // 1, 3, 5, 7 then 6, 4, 2: the right part starts at index 4.
        let fit = series_fit_2lines_dynamic(&series(&[1.0, 3.0, 5.0, 7.0, 6.0, 4.0, 2.0]));
        assert_eq!(get(&fit, "split_idx"), Value::Long(4));
        assert_eq!(get(&fit, "rsquare"), Value::Real(1.0));
        assert_eq!(get(&fit, "left_slope"), Value::Real(2.0));
        assert_eq!(get(&fit, "left_interception"), Value::Real(-1.0));
        assert_eq!(get(&fit, "right_slope"), Value::Real(-2.0));
        // y = -2x + 16 over x = 5, 6, 7.
        assert_eq!(get(&fit, "right_interception"), Value::Real(16.0));
        assert_eq!(get(&fit, "rvariance"), Value::Real(0.0));
        assert_eq!(
            get(&fit, "line_fit"),
            series(&[1.0, 3.0, 5.0, 7.0, 6.0, 4.0, 2.0])
        );
    }

    #[test]
    fn short_or_non_numeric_series_give_nulls() {
        for bad in [
            series(&[1.0, 2.0, 3.0]),
            Value::array(vec![
                Value::Long(1),
                Value::Null,
                Value::Long(2),
                Value::Long(3),
            ]),
            Value::Long(4),
        ] {
            assert_eq!(
                get(&series_fit_2lines_dynamic(&bad), "rsquare"),
                Value::Null
            );
        }
    }

    #[test]
    fn a_flat_series_fits_at_the_first_split() {
        let fit = series_fit_2lines_dynamic(&series(&[5.0; 6]));
        assert_eq!(get(&fit, "split_idx"), Value::Long(2));
        assert_eq!(get(&fit, "rsquare"), Value::Real(1.0));
        assert_eq!(get(&fit, "variance"), Value::Real(0.0));
    }
}
