//! Series decomposition, anomalies and forecasts
//! (series-decompose-function.md, series-decompose-anomalies-function.md,
//! series-decompose-forecast-function.md).
//!
//! A series is split into a seasonal component (per phase of the period,
//! the median of the learning points in that phase), a trend fitted to what
//! the seasonal component leaves (its average, its least-squares line, or
//! nothing) and the residual (`x - baseline`, where `baseline = seasonal +
//! trend`). The last `test_points` points take no part in learning: they
//! get the components the learning points predict, which is the forecast.
//!
//! The seasonality is a period in bins, or 0 for none. Its default, -1,
//! detects the period with `series_periods_detect` over the learning
//! points (`periods.rs`): the best period, when its score reaches
//! `seasonality_threshold` (0.6 by default), else none.
//!
//! As the other series functions: an element that is not a finite number,
//! or a series argument that is not an array, makes every member null.

use super::periods::{detect_period, median};
use super::series::{bag as member_bag, nearest_rank, tukey_score};
use super::{integer_arg, real_arg};
use crate::value::Value;

/// The members of `series_decompose_dynamic`'s bag, in the order
/// `series_decompose` gives them as columns.
pub const DECOMPOSE_MEMBERS: [&str; 4] = ["baseline", "seasonal", "trend", "residual"];

/// The members of `series_decompose_anomalies_dynamic`'s bag, in column
/// order.
pub const ANOMALIES_MEMBERS: [&str; 3] = ["ad_flag", "ad_score", "baseline"];

/// How a decomposition finds its seasonal component.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seasonality {
    /// `0`: no seasonal component.
    None,
    /// A period in bins.
    Period(usize),
    /// `-1`: the best period `series_periods_detect` finds, when its score
    /// reaches the threshold.
    Detect(f64),
}

/// How a decomposition finds its trend.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Trend {
    /// `avg`: the average of the deseasoned learning points.
    Avg,
    /// `linefit`: their least-squares line.
    LineFit,
    /// `none`.
    None,
}

/// The four components, one value per point.
struct Components {
    baseline: Vec<f64>,
    seasonal: Vec<f64>,
    trend: Vec<f64>,
    residual: Vec<f64>,
}

/// The finite numbers of a series argument, or none.
fn series_of(value: Option<&Value>) -> Option<Vec<f64>> {
    let Some(Value::Array(items)) = value else {
        return None;
    };
    items
        .iter()
        .map(|v| real_arg(v).filter(|x| x.is_finite()))
        .collect()
}

/// An optional argument: its default when absent or null, none when it
/// has the wrong type.
fn optional<T>(
    args: &[Value],
    i: usize,
    default: T,
    read: impl Fn(&Value) -> Option<T>,
) -> Option<T> {
    match args.get(i) {
        None | Some(Value::Null) => Some(default),
        Some(v) => read(v),
    }
}

/// The seasonality: a period, 0, or -1 (the default, null included) to
/// detect it with the threshold at `threshold_at`; none for anything else.
fn seasonality_arg(args: &[Value], i: usize, threshold_at: usize) -> Option<Seasonality> {
    match optional(args, i, -1, integer_arg)? {
        -1 => Some(Seasonality::Detect(threshold_arg(
            args,
            threshold_at,
            DETECTION_THRESHOLD,
        )?)),
        0 => Some(Seasonality::None),
        p if p > 0 => Some(Seasonality::Period(usize::try_from(p).ok()?)),
        _ => None,
    }
}

/// The score a detected period needs by default (`seasonality_threshold`).
const DETECTION_THRESHOLD: f64 = 0.6;

fn trend_arg(args: &[Value], i: usize, default: Trend) -> Option<Trend> {
    optional(args, i, default, |v| match v {
        Value::String(s) => match s.as_str() {
            "" => Some(default),
            "avg" => Some(Trend::Avg),
            "linefit" => Some(Trend::LineFit),
            "none" => Some(Trend::None),
            _ => None,
        },
        _ => None,
    })
}

fn count_arg(args: &[Value], i: usize) -> Option<usize> {
    optional(args, i, 0, integer_arg).and_then(|n| usize::try_from(n).ok())
}

fn threshold_arg(args: &[Value], i: usize, default: f64) -> Option<f64> {
    optional(args, i, default, real_arg).filter(|x| x.is_finite())
}

fn reals(values: &[f64]) -> Value {
    Value::array(values.iter().map(|&x| Value::Real(x)).collect())
}

fn bag(members: &[&'static str], values: Vec<Value>) -> Value {
    member_bag(members.iter().copied().zip(values).collect())
}

fn nulls(members: &[&'static str]) -> Value {
    bag(members, members.iter().map(|_| Value::Null).collect())
}

/// The least-squares line through `(i, y[i])`: (interception, slope).
fn line(y: &[f64]) -> (f64, f64) {
    let (mx, my, slope) = centred_line(y);
    (my - slope * mx, slope)
}

/// The least-squares line through `(i, y[i])` about its centre: the mean
/// index, the mean value and the slope (0 for fewer than two points).
pub(super) fn centred_line(y: &[f64]) -> (f64, f64, f64) {
    let n = y.len() as f64;
    let mx = (n - 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, y) in y.iter().enumerate() {
        let dx = i as f64 - mx;
        sxy += dx * (y - my);
        sxx += dx * dx;
    }
    let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
    (mx, my, slope)
}

/// Decomposes `y`, learning from all but the last `test_points` points;
/// none when no point is left to learn from.
fn decompose(
    y: &[f64],
    seasonality: Seasonality,
    trend: Trend,
    test_points: usize,
) -> Option<Components> {
    let n = y.len();
    let learn = n.checked_sub(test_points).filter(|&l| l > 0)?;
    let period = match seasonality {
        Seasonality::None => None,
        Seasonality::Period(p) => Some(p),
        Seasonality::Detect(threshold) => detect_period(&y[..learn], threshold),
    };
    let seasonal: Vec<f64> = match period {
        None => vec![0.0; n],
        Some(p) => {
            let phase_medians: Vec<f64> = (0..p)
                .map(|phase| {
                    let mut points: Vec<f64> = (phase..learn).step_by(p).map(|i| y[i]).collect();
                    if points.is_empty() {
                        0.0
                    } else {
                        median(&mut points)
                    }
                })
                .collect();
            (0..n).map(|i| phase_medians[i % p]).collect()
        }
    };
    let deseasoned: Vec<f64> = y.iter().zip(&seasonal).map(|(y, s)| y - s).collect();
    let trend: Vec<f64> = match trend {
        Trend::None => vec![0.0; n],
        Trend::Avg => {
            let avg = deseasoned[..learn].iter().sum::<f64>() / learn as f64;
            vec![avg; n]
        }
        Trend::LineFit => {
            let (interception, slope) = line(&deseasoned[..learn]);
            (0..n).map(|i| interception + slope * i as f64).collect()
        }
    };
    let baseline: Vec<f64> = seasonal.iter().zip(&trend).map(|(s, t)| s + t).collect();
    let residual = y.iter().zip(&baseline).map(|(y, b)| y - b).collect();
    Some(Components {
        baseline,
        seasonal,
        trend,
        residual,
    })
}

/// `series_decompose_dynamic(series [, seasonality [, trend [,
/// test_points [, seasonality_threshold]]]])`: the bag that
/// `series_decompose` expands into its four columns.
pub fn series_decompose_dynamic(args: &[Value]) -> Value {
    let decomposed = (|| {
        let y = series_of(args.first())?;
        let seasonality = seasonality_arg(args, 1, 4)?;
        let trend = trend_arg(args, 2, Trend::Avg)?;
        let test_points = count_arg(args, 3)?;
        decompose(&y, seasonality, trend, test_points)
    })();
    components(decomposed)
}

/// The bag of a decomposition's components, or nulls.
fn components(decomposed: Option<Components>) -> Value {
    match decomposed {
        Some(c) => bag(
            &DECOMPOSE_MEMBERS,
            vec![
                reals(&c.baseline),
                reals(&c.seasonal),
                reals(&c.trend),
                reals(&c.residual),
            ],
        ),
        None => nulls(&DECOMPOSE_MEMBERS),
    }
}

/// `series_decompose_anomalies_dynamic(series [, threshold [, seasonality
/// [, trend [, test_points [, ad_method [, seasonality_threshold]]]]]])`:
/// the bag that `series_decompose_anomalies` expands. `ad_score` is
/// Tukey's fence score of each residual, as `series_outliers` gives it
/// (`ctukey`: the 10th and 90th percentiles; `tukey`: 25th and 75th), with
/// the percentiles taken over the learning points' residuals; `ad_flag` is
/// 1 where the score is above `threshold`, -1 where it is below
/// `-threshold`, else 0.
pub fn series_decompose_anomalies_dynamic(args: &[Value]) -> Value {
    let found = (|| {
        let y = series_of(args.first())?;
        let k = threshold_arg(args, 1, 1.5)?;
        let seasonality = seasonality_arg(args, 2, 6)?;
        let trend = trend_arg(args, 3, Trend::Avg)?;
        let test_points = count_arg(args, 4)?;
        let (low, high) = match args.get(5) {
            None | Some(Value::Null) => (10.0, 90.0),
            Some(Value::String(s)) => match s.as_str() {
                "" | "ctukey" => (10.0, 90.0),
                "tukey" => (25.0, 75.0),
                _ => return None,
            },
            Some(_) => return None,
        };
        let c = decompose(&y, seasonality, trend, test_points)?;
        let learning = &c.residual[..y.len() - test_points];
        let (q1, q3) = (nearest_rank(learning, low), nearest_rank(learning, high));
        let scores: Vec<f64> = c.residual.iter().map(|&x| tukey_score(x, q1, q3)).collect();
        let flags = scores
            .iter()
            .map(|&s| {
                Value::Long(if s > k {
                    1
                } else if s < -k {
                    -1
                } else {
                    0
                })
            })
            .collect();
        Some(vec![
            Value::array(flags),
            reals(&scores),
            reals(&c.baseline),
        ])
    })();
    match found {
        Some(values) => bag(&ANOMALIES_MEMBERS, values),
        None => nulls(&ANOMALIES_MEMBERS),
    }
}

/// `series_decompose_forecast_dynamic(series, points [, seasonality [,
/// trend [, seasonality_threshold]]])`: the bag that
/// `series_decompose_forecast` expands (the columns of `series_decompose`,
/// as Microsoft's parser gives them), learnt from all but the last
/// `points` points: the baseline's last `points` values are the forecast.
pub fn series_decompose_forecast_dynamic(args: &[Value]) -> Value {
    let forecast = (|| {
        let y = series_of(args.first())?;
        let points = args.get(1).and_then(integer_arg)?;
        let points = usize::try_from(points).ok()?;
        let seasonality = seasonality_arg(args, 2, 4)?;
        let trend = trend_arg(args, 3, Trend::Avg)?;
        decompose(&y, seasonality, trend, points)
    })();
    components(forecast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(values: &[f64]) -> Value {
        reals(values)
    }

    fn member(bag: &Value, key: &str) -> Vec<f64> {
        let Value::Bag(b) = bag else {
            panic!("not a bag: {bag:?}")
        };
        match b.get(key) {
            Some(Value::Array(items)) => items.iter().map(|v| real_arg(v).unwrap()).collect(),
            other => panic!("{key}: {other:?}"),
        }
    }

    /// A week of 12-hour bins, five weeks (a period of 14 points), with a
    /// daily swing.
    fn weekly() -> Vec<f64> {
        (0..70)
            .map(|i| {
                let day = (i / 2) % 7;
                let base = if day >= 5 { 50.0 } else { 140.0 };
                base + if i % 2 == 0 { 10.0 } else { -10.0 } + (i as f64 * 0.3)
            })
            .collect()
    }

    #[test]
    fn the_default_seasonality_detects_the_weekly_period() {
        // weekly(): 14 bins a week, with a day/night alternation.
        let y = weekly();
        let explicit = series_decompose_dynamic(&[series(&y), Value::Long(14)]);
        assert_eq!(series_decompose_dynamic(&[series(&y)]), explicit);
        assert_eq!(
            series_decompose_dynamic(&[series(&y), Value::Long(-1)]),
            explicit
        );
        // A threshold no score reaches: no seasonal component.
        let none = series_decompose_dynamic(&[
            series(&y),
            Value::Long(-1),
            Value::from("avg".to_string()),
            Value::Long(0),
            Value::Real(1.5),
        ]);
        assert_eq!(member(&none, "seasonal"), vec![0.0; 70]);
        // Forecasting learns the period from the learning points only.
        let forecast = series_decompose_forecast_dynamic(&[series(&y), Value::Long(14)]);
        let explicit =
            series_decompose_forecast_dynamic(&[series(&y), Value::Long(14), Value::Long(14)]);
        assert_eq!(forecast, explicit);
    }

    #[test]
    fn an_explicit_period_takes_the_median_per_phase_and_the_trend_of_the_rest() {
        // Period 3: phases 0, 1, 2 hold (1, 2, 100), (5, 6, 7), (9, 9, 9):
        // medians 2, 6, 9.
        let y = [1.0, 5.0, 9.0, 2.0, 6.0, 9.0, 100.0, 7.0, 9.0];
        let c = series_decompose_dynamic(&[
            series(&y),
            Value::Long(3),
            Value::from("none".to_string()),
        ]);
        assert_eq!(
            member(&c, "seasonal"),
            vec![2.0, 6.0, 9.0, 2.0, 6.0, 9.0, 2.0, 6.0, 9.0]
        );
        assert_eq!(member(&c, "trend"), vec![0.0; 9]);
        assert_eq!(member(&c, "residual")[6], 98.0);
        // avg: the mean of what the seasonal part leaves, as a constant.
        let c =
            series_decompose_dynamic(&[series(&y), Value::Long(3), Value::from("avg".to_string())]);
        let rest: f64 = [-1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 98.0, 1.0, 0.0]
            .iter()
            .sum::<f64>()
            / 9.0;
        assert_eq!(member(&c, "trend"), vec![rest; 9]);
        let baseline = member(&c, "baseline");
        assert_eq!(baseline[0], 2.0 + rest);
    }

    #[test]
    fn linefit_learns_the_line_without_the_test_points_and_forecasts_them() {
        let y: Vec<f64> = (0..10).map(|i| 3.0 + 2.0 * i as f64).collect();
        let mut with_tail = y.clone();
        with_tail.extend([0.0, 0.0, 0.0]);
        let forecast = series_decompose_forecast_dynamic(&[
            series(&with_tail),
            Value::Long(3),
            Value::Long(0),
            Value::from("linefit".to_string()),
        ]);
        let values = member(&forecast, "baseline");
        for (i, v) in values.iter().enumerate() {
            assert!((v - (3.0 + 2.0 * i as f64)).abs() < 1e-9, "{i}: {v}");
        }
    }

    #[test]
    fn anomalies_flag_the_spike_and_the_dip_and_nothing_else() {
        let mut y = weekly();
        y[30] += 80.0;
        y[45] -= 80.0;
        let found = series_decompose_anomalies_dynamic(&[
            series(&y),
            Value::Real(1.5),
            Value::Long(14),
            Value::from("linefit".to_string()),
        ]);
        let flags = member(&found, "ad_flag");
        for (i, f) in flags.iter().enumerate() {
            let expected = match i {
                30 => 1.0,
                45 => -1.0,
                _ => 0.0,
            };
            assert_eq!(*f, expected, "point {i}: {flags:?}");
        }
    }

    #[test]
    fn bad_arguments_and_non_numbers_give_nulls() {
        let with_null = Value::array(vec![Value::Real(1.0), Value::Null, Value::Real(2.0)]);
        assert_eq!(
            series_decompose_dynamic(&[with_null]),
            nulls(&DECOMPOSE_MEMBERS)
        );
        for seasonality in [Value::Long(-2), Value::from("daily".to_string())] {
            assert_eq!(
                series_decompose_dynamic(&[series(&[1.0, 2.0]), seasonality]),
                nulls(&DECOMPOSE_MEMBERS)
            );
        }
        assert_eq!(
            series_decompose_dynamic(&[
                series(&[1.0, 2.0]),
                Value::Long(0),
                Value::from("cubic".to_string())
            ]),
            nulls(&DECOMPOSE_MEMBERS)
        );
        assert_eq!(
            series_decompose_forecast_dynamic(&[
                series(&[1.0, 2.0]),
                Value::Long(2),
                Value::Long(0)
            ]),
            nulls(&DECOMPOSE_MEMBERS)
        );
        assert_eq!(
            series_decompose_anomalies_dynamic(&[
                series(&[1.0, 2.0, 3.0]),
                Value::Real(1.5),
                Value::Long(0),
                Value::from("avg".to_string()),
                Value::Long(0),
                Value::from("zscore".to_string()),
            ]),
            nulls(&ANOMALIES_MEMBERS)
        );
    }
}
