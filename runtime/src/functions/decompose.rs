//! Series decomposition, anomalies and forecasts, and period detection
//! (series-decompose-function.md, series-decompose-anomalies-function.md,
//! series-decompose-forecast-function.md, series-periods-detect-function.md,
//! series-periods-validate-function.md).
//!
//! A series is split into a seasonal component (per phase of the period,
//! the median of the learning points in that phase), a trend fitted to what
//! the seasonal component leaves (its average, its least-squares line, or
//! nothing) and the residual (`x - baseline`, where `baseline = seasonal +
//! trend`). The last `test_points` points take no part in learning: they
//! get the components the learning points predict, which is the forecast.
//!
//! The reference does not give the period detector's algorithm nor its
//! score, so kqlc's are its own (`docs/semantics.md`): the score of a
//! period `p` is the autocorrelation at lag `p` of the series with its
//! least-squares line removed (Pearson's coefficient of the series against
//! itself shifted by `p`), clipped to `[0, 1]`; a period is detected where
//! that score peaks over the lags within a quarter of `p` on either side,
//! and a multiple of a detected shorter period that scores at least 80% as
//! well is the same cycle seen again, so it is left out. Periods are
//! searched from 4 points to half the series, as the reference says.
//!
//! As the other series functions: an element that is not a finite number,
//! or a series argument that is not an array, makes every member null.

use super::real_arg;
use super::series::nearest_rank;
use crate::value::{Bag, Str, Value};
use std::sync::Arc;

/// The members of `series_decompose_dynamic`'s bag, in the order
/// `series_decompose` gives them as columns.
pub const DECOMPOSE_MEMBERS: [&str; 4] = ["baseline", "seasonal", "trend", "residual"];

/// The members of `series_decompose_anomalies_dynamic`'s bag, in column
/// order.
pub const ANOMALIES_MEMBERS: [&str; 3] = ["ad_flag", "ad_score", "baseline"];

/// The members of the period functions' bags, in column order.
pub const PERIODS_MEMBERS: [&str; 2] = ["periods", "scores"];

/// The shortest period the detector looks for (the reference: "at least 4
/// points").
const MIN_PERIOD: usize = 4;

/// The default seasonality score threshold of autodetection.
const SEASONALITY_THRESHOLD: f64 = 0.6;

/// How a decomposition finds its seasonal component.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Seasonality {
    /// `-1`: the best period `series_periods_detect` finds, when its score
    /// reaches the threshold; none otherwise.
    Detect(f64),
    /// `0`: no seasonal component.
    None,
    /// A period in bins.
    Period(usize),
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

fn long_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(i64::from(*n)),
        Value::Long(n) => Some(*n),
        _ => None,
    }
}

fn seasonality_arg(args: &[Value], i: usize, threshold: f64) -> Option<Seasonality> {
    match optional(args, i, -1, long_arg)? {
        -1 => Some(Seasonality::Detect(threshold)),
        0 => Some(Seasonality::None),
        p if p > 0 => Some(Seasonality::Period(usize::try_from(p).ok()?)),
        _ => None,
    }
}

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
    optional(args, i, 0, long_arg).and_then(|n| usize::try_from(n).ok())
}

fn threshold_arg(args: &[Value], i: usize, default: f64) -> Option<f64> {
    optional(args, i, default, real_arg).filter(|x| x.is_finite())
}

fn reals(values: &[f64]) -> Value {
    Value::array(values.iter().map(|&x| Value::Real(x)).collect())
}

fn bag(members: &[&'static str], values: Vec<Value>) -> Value {
    let mut out = Bag::new();
    for (key, value) in members.iter().zip(values) {
        out.insert(Str::Static(key), value);
    }
    Value::Bag(Arc::new(out))
}

fn nulls(members: &[&'static str]) -> Value {
    bag(members, members.iter().map(|_| Value::Null).collect())
}

/// The median (the mean of the two middle values of an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The least-squares line through `(i, y[i])`: (interception, slope).
fn line(y: &[f64]) -> (f64, f64) {
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
    (my - slope * mx, slope)
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
        Seasonality::Detect(threshold) => {
            detect(&y[..learn], MIN_PERIOD as f64, (learn / 2) as f64)
                .first()
                .filter(|(_, score)| *score >= threshold)
                .map(|(p, _)| *p)
        }
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
        let threshold = threshold_arg(args, 4, SEASONALITY_THRESHOLD)?;
        let seasonality = seasonality_arg(args, 1, threshold)?;
        let trend = trend_arg(args, 2, Trend::Avg)?;
        let test_points = count_arg(args, 3)?;
        decompose(&y, seasonality, trend, test_points)
    })();
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
        let seasonality_threshold = threshold_arg(args, 6, SEASONALITY_THRESHOLD)?;
        let seasonality = seasonality_arg(args, 2, seasonality_threshold)?;
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
        let range = q3 - q1;
        let scores: Vec<f64> = c
            .residual
            .iter()
            .map(|&x| {
                if x > q3 {
                    (x - q3) / range
                } else if x < q1 {
                    (x - q1) / range
                } else {
                    0.0
                }
            })
            .collect();
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

/// `series_decompose_forecast(series, points [, seasonality [, trend [,
/// seasonality_threshold]]])`: the baseline learnt from all but the last
/// `points` points, over the whole series (the last `points` values are
/// the forecast).
pub fn series_decompose_forecast(args: &[Value]) -> Value {
    let forecast = (|| {
        let y = series_of(args.first())?;
        let points = args.get(1).and_then(long_arg)?;
        let points = usize::try_from(points).ok()?;
        let threshold = threshold_arg(args, 4, SEASONALITY_THRESHOLD)?;
        let seasonality = seasonality_arg(args, 2, threshold)?;
        let trend = trend_arg(args, 3, Trend::Avg)?;
        decompose(&y, seasonality, trend, points)
    })();
    match forecast {
        Some(c) => reals(&c.baseline),
        None => Value::Null,
    }
}

/// The autocorrelation of `z` at lag `p`: Pearson's coefficient of
/// `z[..n-p]` against `z[p..]`; 0 when either part does not vary.
fn autocorrelation(z: &[f64], p: usize) -> f64 {
    let (a, b) = (&z[..z.len() - p], &z[p..]);
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    if saa == 0.0 || sbb == 0.0 {
        0.0
    } else {
        sab / (saa * sbb).sqrt()
    }
}

/// `y` with its least-squares line removed.
fn detrended(y: &[f64]) -> Vec<f64> {
    let (interception, slope) = line(y);
    y.iter()
        .enumerate()
        .map(|(i, y)| y - (interception + slope * i as f64))
        .collect()
}

/// The score of period `p` (see the module doc), 0 outside the periods
/// the detector can see.
fn score(z: &[f64], p: usize) -> f64 {
    if p < MIN_PERIOD || p > z.len() / 2 {
        return 0.0;
    }
    autocorrelation(z, p).clamp(0.0, 1.0)
}

/// The periods between `min` and `max` (within 4 points and half the
/// series), best first, with their scores (module doc).
fn detect(y: &[f64], min: f64, max: f64) -> Vec<(usize, f64)> {
    let z = detrended(y);
    let longest = y.len() / 2;
    if longest < MIN_PERIOD {
        return Vec::new();
    }
    let scores: Vec<f64> = (0..=longest).map(|p| score(&z, p)).collect();
    let mut peaks: Vec<(usize, f64)> = (MIN_PERIOD..=longest)
        .filter(|&p| (p as f64) >= min && (p as f64) <= max && scores[p] > 0.0)
        .filter(|&p| {
            let reach = (p / 4).max(1);
            let (from, to) = (
                p.saturating_sub(reach).max(MIN_PERIOD),
                (p + reach).min(longest),
            );
            (from..=to).all(|q| scores[q] <= scores[p])
        })
        .map(|p| (p, scores[p]))
        .collect();
    let shorter_peaks = peaks.clone();
    peaks.retain(|&(p, s)| {
        !shorter_peaks.iter().any(|&(q, sq)| {
            q < p && sq >= 0.8 * s && {
                let k = (p as f64 / q as f64).round();
                k >= 2.0 && (p as f64 - k * q as f64).abs() <= 1.0
            }
        })
    });
    peaks.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    peaks
}

/// `series_periods_detect_dynamic(series, min_period, max_period,
/// num_periods)`: the bag that `series_periods_detect` expands into
/// `periods` and `scores`, each `num_periods` long, best first, padded
/// with zeros when fewer periods are found.
pub fn series_periods_detect_dynamic(args: &[Value]) -> Value {
    let found = (|| {
        let y = series_of(args.first())?;
        let min = args.get(1).and_then(real_arg)?;
        let max = args.get(2).and_then(real_arg)?;
        let count = usize::try_from(args.get(3).and_then(long_arg)?).ok()?;
        let mut periods = detect(&y, min, max);
        periods.truncate(count);
        periods.resize(count, (0, 0.0));
        Some(periods)
    })();
    match found {
        Some(periods) => bag(
            &PERIODS_MEMBERS,
            vec![
                Value::array(
                    periods
                        .iter()
                        .map(|(p, _)| Value::Real(*p as f64))
                        .collect(),
                ),
                Value::array(periods.iter().map(|(_, s)| Value::Real(*s)).collect()),
            ],
        ),
        None => nulls(&PERIODS_MEMBERS),
    }
}

/// `series_periods_validate_dynamic(series, period1 [, period2, ...])`:
/// the bag that `series_periods_validate` expands: each given period with
/// its score (a period is rounded to whole bins; one the detector cannot
/// see scores 0).
pub fn series_periods_validate_dynamic(args: &[Value]) -> Value {
    let validated = (|| {
        let y = series_of(args.first())?;
        let periods: Vec<f64> = args[1..].iter().map(real_arg).collect::<Option<_>>()?;
        if periods.is_empty() {
            return None;
        }
        let z = detrended(&y);
        let scores = periods
            .iter()
            .map(|&p| {
                let lag = p.round();
                if lag >= 1.0 && lag <= z.len() as f64 {
                    score(&z, lag as usize)
                } else {
                    0.0
                }
            })
            .collect::<Vec<f64>>();
        Some((periods, scores))
    })();
    match validated {
        Some((periods, scores)) => bag(&PERIODS_MEMBERS, vec![reals(&periods), reals(&scores)]),
        None => nulls(&PERIODS_MEMBERS),
    }
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
    fn a_weekly_cycle_is_detected_once_not_as_its_multiples() {
        let found = series_periods_detect_dynamic(&[
            series(&weekly()),
            Value::Real(0.0),
            Value::Real(50.0),
            Value::Long(2),
        ]);
        let periods = member(&found, "periods");
        let scores = member(&found, "scores");
        assert_eq!(periods[0], 14.0, "{periods:?} {scores:?}");
        assert!(scores[0] > 0.9, "{scores:?}");
        // 28 is the same cycle: not a second period.
        assert!(!periods.contains(&28.0), "{periods:?}");
        assert_eq!(periods.len(), 2);
    }

    #[test]
    fn a_series_without_a_cycle_has_no_period_and_padding_is_zero() {
        let y: Vec<f64> = (0..40)
            .map(|i| (i * 7 % 13) as f64 * 0.0 + i as f64)
            .collect();
        let found = series_periods_detect_dynamic(&[
            series(&y),
            Value::Real(4.0),
            Value::Real(20.0),
            Value::Long(3),
        ]);
        assert_eq!(member(&found, "periods"), vec![0.0, 0.0, 0.0]);
        assert_eq!(member(&found, "scores"), vec![0.0, 0.0, 0.0]);
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
        let forecast = series_decompose_forecast(&[
            series(&with_tail),
            Value::Long(3),
            Value::Long(0),
            Value::from("linefit".to_string()),
        ]);
        let Value::Array(items) = forecast else {
            panic!()
        };
        let values: Vec<f64> = items.iter().map(|v| real_arg(v).unwrap()).collect();
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
            Value::Long(-1),
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
        assert_eq!(
            series_decompose_dynamic(&[series(&[1.0, 2.0]), Value::Long(-2)]),
            nulls(&DECOMPOSE_MEMBERS)
        );
        assert_eq!(
            series_decompose_dynamic(&[
                series(&[1.0, 2.0]),
                Value::Long(0),
                Value::from("cubic".to_string())
            ]),
            nulls(&DECOMPOSE_MEMBERS)
        );
        assert_eq!(
            series_decompose_forecast(&[series(&[1.0, 2.0]), Value::Long(2)]),
            Value::Null
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

    #[test]
    fn validate_scores_the_given_periods_only() {
        let found = series_periods_validate_dynamic(&[
            series(&weekly()),
            Value::Long(14),
            Value::Long(5),
            Value::Long(100),
        ]);
        assert_eq!(member(&found, "periods"), vec![14.0, 5.0, 100.0]);
        let scores = member(&found, "scores");
        assert!(scores[0] > 0.9, "{scores:?}");
        assert!(scores[1] < 0.5, "{scores:?}");
        assert_eq!(scores[2], 0.0);
    }
}
