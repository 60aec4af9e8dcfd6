//! What `make-series` keeps between rows: per group, the aggregate states of
//! each bin of the axis; at the end, per group, an array of each aggregate
//! over the bins and the array of the bins' axis values
//! (make-series-operator.md).
//!
//! A bin is numbered by how many steps it lies from the axis origin: `from`
//! in the main syntax (`bin_at(axis, step, from)`), 0 otherwise (`bin(axis,
//! step)`, as the alternate `in range(...)` syntax and a missing `from` say).
//! Datetimes, timespans and integers are binned in exact integer arithmetic;
//! reals (an axis or step of type real) in floating point.

use crate::aggregate::{Aggregate, Groups};
use crate::functions::array::MAX_SERIES_LENGTH;
use crate::value::{DateTime, Row, TimeSpan, Value};
use std::collections::BTreeMap;

/// The axis of a `make-series`: its origin, its step and the bins it keeps.
#[derive(Clone, Debug)]
pub struct SeriesAxis {
    origin: Point,
    step: Point,
    /// The first bin kept (`from`, or `range`'s start); none: each series
    /// starts at its first bin with data.
    first: Option<i64>,
    /// The bin after the last kept (`to`, or `range`'s stop); none: each
    /// series ends after its last bin with data.
    end: Option<i64>,
}

/// An axis value or step as a number: ticks and integers exactly, reals as
/// reals. `kind` says which type axis values have.
#[derive(Clone, Copy, Debug)]
enum Point {
    Whole(i128, Kind),
    Real(f64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    DateTime,
    TimeSpan,
    Long,
}

fn point(value: &Value) -> Option<Point> {
    match value {
        Value::DateTime(d) => Some(Point::Whole(i128::from(d.0), Kind::DateTime)),
        Value::TimeSpan(t) => Some(Point::Whole(i128::from(t.0), Kind::TimeSpan)),
        Value::Int(n) => Some(Point::Whole(i128::from(*n), Kind::Long)),
        Value::Long(n) => Some(Point::Whole(i128::from(*n), Kind::Long)),
        Value::Real(x) if x.is_finite() => Some(Point::Real(*x)),
        _ => None,
    }
}

fn as_real(p: Point) -> f64 {
    match p {
        Point::Whole(n, _) => n as f64,
        Point::Real(x) => x,
    }
}

impl SeriesAxis {
    /// The axis of `from START to END step STEP` (`START` or `END` null:
    /// not given); `zero` is the zero of the axis's type. None when the
    /// step is not a positive number or timespan: the operator then gives
    /// no rows.
    pub fn new(zero: &Value, from: &Value, to: &Value, step: &Value) -> Option<SeriesAxis> {
        let step = positive_step(step)?;
        let from_point = if from.is_null() {
            None
        } else {
            Some(point(from)?)
        };
        let origin = from_point.unwrap_or(point(zero)?);
        let mut axis = SeriesAxis {
            origin,
            step,
            first: from_point.map(|_| 0),
            end: None,
        };
        if !to.is_null() {
            // The bins whose start is below `to`: `to` itself is excluded.
            let offset = axis.offset(point(to)?)?;
            axis.end = Some(offset.ceil().clamp(i64::MIN as f64, i64::MAX as f64) as i64);
        }
        Some(axis)
    }

    /// The axis of `in range(START, STOP, STEP)`: bins of `bin(axis, STEP)`
    /// from the one holding `START` to the one holding `STOP`, included.
    pub fn in_range(zero: &Value, start: &Value, stop: &Value, step: &Value) -> Option<SeriesAxis> {
        let step = positive_step(step)?;
        let (start, stop) = (point(start)?, point(stop)?);
        let mut axis = SeriesAxis {
            origin: point(zero)?,
            step,
            first: None,
            end: None,
        };
        axis.first = Some(axis.bin_of(start)?);
        axis.end = Some(axis.bin_of(stop)?.checked_add(1)?);
        Some(axis)
    }

    /// How many steps `value` lies from the origin, as a real.
    fn offset(&self, value: Point) -> Option<f64> {
        match (value, self.origin, self.step) {
            (Point::Whole(v, _), Point::Whole(o, _), Point::Whole(s, _)) => {
                let d = v - o;
                // Exact for ticks: the quotient, plus the remainder's share.
                Some((d.div_euclid(s)) as f64 + (d.rem_euclid(s) as f64 / s as f64))
            }
            (v, o, s) => {
                let offset = (as_real(v) - as_real(o)) / as_real(s);
                offset.is_finite().then_some(offset)
            }
        }
    }

    /// The bin holding `value`.
    fn bin_of(&self, value: Point) -> Option<i64> {
        match (value, self.origin, self.step) {
            (Point::Whole(v, _), Point::Whole(o, _), Point::Whole(s, _)) => {
                i64::try_from((v - o).div_euclid(s)).ok()
            }
            _ => {
                let k = self.offset(value)?.floor();
                (k >= i64::MIN as f64 && k < i64::MAX as f64).then_some(k as i64)
            }
        }
    }

    /// The bin of an axis value, if the series keeps it: null, NaN and
    /// values outside `from`..`to` are left out.
    pub fn bin(&self, value: &Value) -> Option<i64> {
        let k = self.bin_of(point(value)?)?;
        if self.first.is_some_and(|first| k < first) || self.end.is_some_and(|end| k >= end) {
            return None;
        }
        Some(k)
    }

    /// The axis value of bin `k`: the origin plus `k` steps, of the axis's
    /// type (a real when the axis or the step is real).
    fn value_of(&self, k: i64) -> Value {
        match (self.origin, self.step) {
            (Point::Whole(o, kind), Point::Whole(s, _)) => {
                let Ok(v) = i64::try_from(o + i128::from(k) * s) else {
                    return Value::Null;
                };
                match kind {
                    Kind::DateTime => Value::DateTime(DateTime(v)),
                    Kind::TimeSpan => Value::TimeSpan(TimeSpan(v)),
                    Kind::Long => Value::Long(v),
                }
            }
            (o, s) => Value::Real(as_real(o) + k as f64 * as_real(s)),
        }
    }

    /// The bins of a series whose data lies in bins `low..=high` (none: no
    /// data): `first` and `end` where given, the data's extent otherwise;
    /// at most [`MAX_SERIES_LENGTH`] bins.
    fn bins(&self, data: Option<(i64, i64)>) -> std::ops::Range<i64> {
        let first = self.first.or(data.map(|(low, _)| low));
        let end = self.end.or(data.map(|(_, high)| high.saturating_add(1)));
        match (first, end) {
            (Some(first), Some(end)) if first < end => {
                let length = end.saturating_sub(first);
                if length as u64 > MAX_SERIES_LENGTH as u64 {
                    crate::budget::cap_hit("make-series' limit of 1048576 values per series");
                    first..first + MAX_SERIES_LENGTH as i64
                } else {
                    first..end
                }
            }
            _ => 0..0,
        }
    }
}

/// A step that is a positive number or timespan.
fn positive_step(step: &Value) -> Option<Point> {
    match point(step)? {
        Point::Whole(s, kind) if s > 0 && kind != Kind::DateTime => Some(Point::Whole(s, kind)),
        Point::Real(s) if s > 0.0 => Some(Point::Real(s)),
        _ => None,
    }
}

/// The state of one `make-series`: the axis (set once, from constant
/// bounds) and, per group in first-seen order, the aggregate states of
/// each bin that has rows.
#[derive(Debug, Default)]
pub struct MakeSeries {
    axis: Option<Option<SeriesAxis>>,
    groups: Groups<BTreeMap<i64, Vec<Aggregate>>>,
}

impl MakeSeries {
    /// True once the axis is set.
    pub fn configured(&self) -> bool {
        self.axis.is_some()
    }

    /// Sets the axis (from the bounds, evaluated once).
    pub fn configure(&mut self, axis: Option<SeriesAxis>) {
        self.axis = Some(axis);
    }

    /// The aggregate states of the bin of `axis_value` in the group of
    /// `key` (made by `init` the first time), or none when the row is left
    /// out (a null axis value, outside the range, or no valid axis).
    pub fn states(
        &mut self,
        key: Vec<Value>,
        axis_value: &Value,
        init: impl FnOnce() -> Vec<Aggregate>,
    ) -> Option<&mut Vec<Aggregate>> {
        let axis = self.axis.as_ref()?.as_ref()?;
        let k = axis.bin(axis_value)?;
        let bins = self.groups.entry(key, BTreeMap::new);
        Some(bins.entry(k).or_insert_with(init))
    }

    /// The result rows: per group, its key values, an array per aggregate
    /// (bins without rows take the aggregate's default), and the axis
    /// values. With `nonempty` and no group, one row of `empty_key` with
    /// default-filled arrays over the bins the bounds give.
    pub fn finish(&mut self, defaults: &[Value], nonempty: bool, empty_key: Row) -> Vec<Row> {
        let Some(Some(axis)) = self.axis.clone() else {
            return Vec::new();
        };
        let mut groups = self.groups.drain();
        if groups.is_empty() && nonempty {
            groups.push((empty_key, BTreeMap::new()));
        }
        let mut rows = Vec::with_capacity(groups.len());
        for (key, bins) in groups {
            let data = match (bins.keys().next(), bins.keys().next_back()) {
                (Some(&low), Some(&high)) => Some((low, high)),
                _ => None,
            };
            let range = axis.bins(data);
            let mut series: Vec<Vec<Value>> = defaults
                .iter()
                .map(|_| Vec::with_capacity(range.end.saturating_sub(range.start) as usize))
                .collect();
            let mut bins = bins.into_iter().peekable();
            for k in range.clone() {
                while bins.next_if(|(bin, _)| *bin < k).is_some() {}
                match bins.next_if(|(bin, _)| *bin == k) {
                    Some((_, states)) => {
                        for (values, state) in series.iter_mut().zip(states) {
                            values.extend(state.finish(0).into_iter().take(1));
                        }
                    }
                    None => {
                        for (values, default) in series.iter_mut().zip(defaults) {
                            values.push(default.clone());
                        }
                    }
                }
            }
            let mut row = key;
            row.extend(series.into_iter().map(Value::array));
            row.push(Value::array(range.map(|k| axis.value_of(k)).collect()));
            rows.push(row);
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 864_000_000_000;

    fn run(
        axis: Option<SeriesAxis>,
        rows: &[(&'static str, Value, i64)],
        nonempty: bool,
    ) -> Vec<Row> {
        let mut series = MakeSeries::default();
        series.configure(axis);
        for (key, t, x) in rows {
            if let Some(states) = series.states(vec![Value::from_static(key)], t, || {
                vec![Aggregate::sum_long(), Aggregate::count()]
            }) {
                states[0].add(&Value::Long(*x), &[]);
                states[1].add(&Value::Null, &[]);
            }
        }
        series.finish(
            &[Value::Long(0), Value::Long(-1)],
            nonempty,
            vec![Value::from_static("")],
        )
    }

    fn day(n: i64) -> Value {
        Value::DateTime(DateTime(n * DAY))
    }

    fn longs(values: &[i64]) -> Value {
        Value::array(values.iter().map(|&n| Value::Long(n)).collect())
    }

    #[test]
    fn bins_from_start_to_end_excluded_with_defaults_for_empty_bins() {
        let axis = SeriesAxis::new(&day(0), &day(1), &day(5), &Value::TimeSpan(TimeSpan(DAY)));
        let rows = run(
            axis,
            &[
                ("a", day(1), 2),
                ("a", Value::DateTime(DateTime(DAY + 5)), 3),
                ("a", day(3), 4),
                ("a", day(5), 100),
                ("a", day(0), 100),
                ("a", Value::Null, 100),
            ],
            false,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][1], longs(&[5, 0, 4, 0]));
        assert_eq!(rows[0][2], longs(&[2, -1, 1, -1]));
        assert_eq!(
            rows[0][3],
            Value::array(vec![day(1), day(2), day(3), day(4)])
        );
    }

    #[test]
    fn without_bounds_each_series_spans_its_own_data() {
        let axis = SeriesAxis::new(
            &Value::Long(0),
            &Value::Null,
            &Value::Null,
            &Value::Long(10),
        );
        let rows = run(
            axis,
            &[
                ("a", Value::Long(25), 1),
                ("b", Value::Long(-3), 1),
                ("a", Value::Long(41), 1),
            ],
            false,
        );
        assert_eq!(rows[0][1], longs(&[1, 0, 1]));
        assert_eq!(rows[0][3], longs(&[20, 30, 40]));
        assert_eq!(rows[1][3], longs(&[-10]));
    }

    #[test]
    fn in_range_bins_at_zero_and_includes_the_stop() {
        let axis = SeriesAxis::in_range(
            &Value::Long(0),
            &Value::Long(3),
            &Value::Long(9),
            &Value::Long(4),
        );
        let rows = run(axis, &[("a", Value::Long(9), 7)], false);
        assert_eq!(rows[0][1], longs(&[0, 0, 7]));
        assert_eq!(rows[0][3], longs(&[0, 4, 8]));
    }

    #[test]
    fn empty_input_gives_no_row_unless_nonempty() {
        let axis = || {
            SeriesAxis::new(
                &Value::Long(0),
                &Value::Long(0),
                &Value::Long(3),
                &Value::Long(1),
            )
        };
        assert!(run(axis(), &[], false).is_empty());
        let rows = run(axis(), &[], true);
        assert_eq!(rows[0][1], longs(&[0, 0, 0]));
        assert_eq!(rows[0][3], longs(&[0, 1, 2]));
    }

    #[test]
    fn a_step_that_is_not_positive_gives_no_axis() {
        assert!(
            SeriesAxis::new(&Value::Long(0), &Value::Null, &Value::Null, &Value::Long(0)).is_none()
        );
        assert!(
            SeriesAxis::new(&Value::Long(0), &Value::Null, &Value::Null, &Value::Null).is_none()
        );
        let negative = Value::TimeSpan(TimeSpan(-1));
        assert!(SeriesAxis::new(&day(0), &Value::Null, &Value::Null, &negative).is_none());
    }

    #[test]
    fn real_steps_bin_in_floating_point() {
        let axis = SeriesAxis::new(
            &Value::Real(0.0),
            &Value::Real(0.0),
            &Value::Real(1.0),
            &Value::Real(0.25),
        );
        let rows = run(axis, &[("a", Value::Real(0.3), 1)], false);
        assert_eq!(rows[0][1], longs(&[0, 1, 0, 0]));
        assert_eq!(
            rows[0][3],
            Value::array(vec![
                Value::Real(0.0),
                Value::Real(0.25),
                Value::Real(0.5),
                Value::Real(0.75)
            ])
        );
    }
}
