//! Series functions: dynamic arrays of numbers, as `make-series` makes them
//! (series-*-function.md).
//!
//! Common rules: a series argument that is not an array gives null; an
//! element that is not a number (null included) gives a null element in
//! element-wise results. `series_stats_dynamic` and `series_fit_line_dynamic`
//! give bags; the checker expands `series_stats` and `series_fit_line` into a
//! column per member of those bags.

use super::real_arg;
use crate::aggregate::{Aggregate, Dispersion, Spread};
use crate::value::{Bag, Str, Value};
use std::sync::Arc;

/// The elements of a series argument; a number stands for itself repeated
/// (`series_multiply(10, s)`); anything else: none.
enum Operand<'a> {
    Array(&'a [Value]),
    Scalar(&'a Value),
}

fn operand(value: &Value) -> Option<Operand<'_>> {
    match value {
        Value::Array(items) => Some(Operand::Array(items)),
        Value::Int(_) | Value::Long(_) | Value::Real(_) => Some(Operand::Scalar(value)),
        _ => None,
    }
}

impl Operand<'_> {
    fn len(&self) -> Option<usize> {
        match self {
            Operand::Array(items) => Some(items.len()),
            Operand::Scalar(_) => None,
        }
    }
    fn get(&self, i: usize) -> &Value {
        match self {
            Operand::Array(items) => items.get(i).unwrap_or(&Value::Null),
            Operand::Scalar(value) => value,
        }
    }
}

/// Applies `f` to the elements of two series at each position, up to the
/// longer one's length (missing elements are null). At least one argument
/// must be an array.
fn element_wise(a: &Value, b: &Value, f: impl Fn(&Value, &Value) -> Value) -> Value {
    let (Some(a), Some(b)) = (operand(a), operand(b)) else {
        return Value::Null;
    };
    let Some(len) = a.len().max(b.len()) else {
        return Value::Null;
    };
    Value::array((0..len).map(|i| f(a.get(i), b.get(i))).collect())
}

/// Two numbers as longs when both are integers, else as reals; none when
/// either is not a number.
enum Pair {
    Whole(i64, i64),
    Real(f64, f64),
}

fn pair(a: &Value, b: &Value) -> Option<Pair> {
    match (super::integer_arg(a), super::integer_arg(b)) {
        (Some(x), Some(y)) => Some(Pair::Whole(x, y)),
        _ => Some(Pair::Real(real_arg(a)?, real_arg(b)?)),
    }
}

fn arithmetic(
    a: &Value,
    b: &Value,
    whole: fn(i64, i64) -> i64,
    real: fn(f64, f64) -> f64,
) -> Value {
    element_wise(a, b, |x, y| match pair(x, y) {
        Some(Pair::Whole(x, y)) => Value::Long(whole(x, y)),
        Some(Pair::Real(x, y)) => Value::Real(real(x, y)),
        None => Value::Null,
    })
}

/// `series_add(s1, s2)`: element-wise sum (series-add-function.md); longs
/// when both elements are integers (wrapping, as `+` does), else reals.
pub fn series_add(a: &Value, b: &Value) -> Value {
    arithmetic(a, b, i64::wrapping_add, |x, y| x + y)
}

/// `series_subtract(s1, s2)`: element-wise difference.
pub fn series_subtract(a: &Value, b: &Value) -> Value {
    arithmetic(a, b, i64::wrapping_sub, |x, y| x - y)
}

/// `series_multiply(s1, s2)`: element-wise product.
pub fn series_multiply(a: &Value, b: &Value) -> Value {
    arithmetic(a, b, i64::wrapping_mul, |x, y| x * y)
}

/// `series_divide(s1, s2)`: element-wise quotient, always real
/// (series-divide-function.md: division by zero follows real division,
/// `2 / 0` is `+inf`).
pub fn series_divide(a: &Value, b: &Value) -> Value {
    element_wise(a, b, |x, y| match (real_arg(x), real_arg(y)) {
        (Some(x), Some(y)) => Value::Real(x / y),
        _ => Value::Null,
    })
}

fn comparison(a: &Value, b: &Value, test: fn(std::cmp::Ordering) -> bool) -> Value {
    element_wise(a, b, |x, y| {
        let ordering = match pair(x, y) {
            Some(Pair::Whole(x, y)) => Some(x.cmp(&y)),
            Some(Pair::Real(x, y)) => x.partial_cmp(&y),
            None => return Value::Null,
        };
        ordering.map_or(Value::Bool(false), |o| Value::Bool(test(o)))
    })
}

/// `series_greater(s1, s2)`: element-wise `>` (series-greater-function.md);
/// a non-numeric element gives null, a NaN `false`.
pub fn series_greater(a: &Value, b: &Value) -> Value {
    comparison(a, b, |o| o.is_gt())
}

/// `series_less(s1, s2)`: element-wise `<`.
pub fn series_less(a: &Value, b: &Value) -> Value {
    comparison(a, b, |o| o.is_lt())
}

/// `series_equals(s1, s2)`: element-wise `==`.
pub fn series_equals(a: &Value, b: &Value) -> Value {
    comparison(a, b, |o| o.is_eq())
}

/// `series_greater_equals(s1, s2)`: element-wise `>=`.
pub fn series_greater_equals(a: &Value, b: &Value) -> Value {
    comparison(a, b, |o| o.is_ge())
}

/// `series_less_equals(s1, s2)`: element-wise `<=`.
pub fn series_less_equals(a: &Value, b: &Value) -> Value {
    comparison(a, b, |o| o.is_le())
}

/// `series_not_equals(s1, s2)`: element-wise `!=`; a NaN is unequal to
/// everything, itself included (IEEE 754, as `!=` on reals).
pub fn series_not_equals(a: &Value, b: &Value) -> Value {
    element_wise(a, b, |x, y| match pair(x, y) {
        Some(Pair::Whole(x, y)) => Value::Bool(x != y),
        Some(Pair::Real(x, y)) => Value::Bool(x != y),
        None => Value::Null,
    })
}

/// The numbers of a series (NaN and infinities included), or none when an
/// element is not a number.
fn numbers(items: &[Value]) -> Option<Vec<f64>> {
    items.iter().map(real_arg).collect()
}

/// `series_sum(s)` (series-sum-function.md): the sum of the elements, a
/// real; 0 for an empty series. An element that is not a number (null
/// included) makes it null, as it makes `series_stats` null: a sum that
/// left it out would be another series' sum.
pub fn series_sum(series: &Value) -> Value {
    let Value::Array(items) = series else {
        return Value::Null;
    };
    // Folded from +0.0: an empty sum is 0, not the -0.0 of `Sum for f64`.
    numbers(items).map_or(Value::Null, |x| {
        Value::Real(x.iter().fold(0.0, |t, v| t + v))
    })
}

/// `series_fir(s, filter [, normalize [, center]])` (series-fir-function.md):
/// `y[i] = Σ filter[j] · x[i + shift - j]`, elements before the start or
/// past the end counting as 0, with `shift` 0, or `(len(filter) - 1) / 2`
/// (rounded down) when `center` is true. `normalize` divides the
/// coefficients by their sum; by default it is true unless a coefficient is
/// negative, and given as true with a negative coefficient the result is
/// null (as the page says). An element or coefficient that is not a
/// number, an empty filter, or a normalized filter summing to 0 gives null.
pub fn series_fir(args: &[Value]) -> Value {
    let (Some(Value::Array(items)), Some(Value::Array(filter))) = (args.first(), args.get(1))
    else {
        return Value::Null;
    };
    let (Some(x), Some(mut filter)) = (numbers(items), numbers(filter)) else {
        return Value::Null;
    };
    let negative = filter.iter().any(|c| *c < 0.0);
    let normalize = match args.get(2) {
        None | Some(Value::Null) => !negative,
        Some(Value::Bool(true)) if negative => return Value::Null,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Value::Null,
    };
    let center = match args.get(3) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Value::Null,
    };
    if filter.is_empty() {
        return Value::Null;
    }
    if normalize {
        let total = filter.iter().fold(0.0, |t, c| t + c);
        if total == 0.0 {
            return Value::Null;
        }
        filter.iter_mut().for_each(|c| *c /= total);
    }
    let shift = if center { (filter.len() - 1) / 2 } else { 0 };
    let out = (0..x.len())
        .map(|i| {
            let at = i + shift;
            let sum: f64 = filter
                .iter()
                .enumerate()
                .filter_map(|(j, c)| at.checked_sub(j).and_then(|k| x.get(k)).map(|v| c * v))
                .fold(0.0, |t, v| t + v);
            Value::Real(sum)
        })
        .collect();
    Value::array(out)
}

/// `series_iir(s, numerators, denominators)` (series-iir-function.md):
/// `y[i] = (Σ b[k]·x[i-k] - Σ a[k]·y[i-k] (k ≥ 1)) / a[0]`, elements
/// before the start counting as 0. An element or coefficient that is not a
/// number, an empty coefficient array, or `a[0]` = 0 (the page forbids it)
/// gives null.
pub fn series_iir(series: &Value, numerators: &Value, denominators: &Value) -> Value {
    let (Value::Array(items), Value::Array(b), Value::Array(a)) =
        (series, numerators, denominators)
    else {
        return Value::Null;
    };
    let (Some(x), Some(b), Some(a)) = (numbers(items), numbers(b), numbers(a)) else {
        return Value::Null;
    };
    let a0 = match a.first() {
        Some(a0) if *a0 != 0.0 && !b.is_empty() => *a0,
        _ => return Value::Null,
    };
    let mut y: Vec<f64> = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        let forward: f64 = b
            .iter()
            .enumerate()
            .filter_map(|(k, c)| i.checked_sub(k).map(|j| c * x[j]))
            .fold(0.0, |t, v| t + v);
        let feedback: f64 = a
            .iter()
            .enumerate()
            .skip(1)
            .filter_map(|(k, c)| i.checked_sub(k).map(|j| c * y[j]))
            .fold(0.0, |t, v| t + v);
        y.push((forward - feedback) / a0);
    }
    Value::array(y.into_iter().map(Value::Real).collect())
}

/// `series_abs(s)`: element-wise absolute value (series-abs-function.md);
/// a non-numeric element gives null.
pub fn series_abs(series: &Value) -> Value {
    let Value::Array(items) = series else {
        return Value::Null;
    };
    Value::array(
        items
            .iter()
            .map(|v| match v {
                Value::Int(n) => Value::Long(i64::from(*n).wrapping_abs()),
                Value::Long(n) => Value::Long(n.wrapping_abs()),
                Value::Real(x) => Value::Real(x.abs()),
                _ => Value::Null,
            })
            .collect(),
    )
}

/// Whether an element stands for a missing value: equal to the placeholder
/// (by number), or null when the placeholder is null.
fn is_missing(value: &Value, placeholder: &Value) -> bool {
    match (real_arg(value), real_arg(placeholder)) {
        (Some(x), Some(p)) => x == p,
        (None, None) => {
            value.is_null() || !matches!(value, Value::Int(_) | Value::Long(_) | Value::Real(_))
        }
        _ => false,
    }
}

/// `series_fill_const(s, constant [, missing_value_placeholder])`: missing
/// elements (null by default) replaced by the constant
/// (series-fill-const-function.md).
pub fn series_fill_const(args: &[Value]) -> Value {
    let (Some(Value::Array(items)), Some(constant)) = (args.first(), args.get(1)) else {
        return Value::Null;
    };
    let placeholder = args.get(2).unwrap_or(&Value::Null);
    Value::array(
        items
            .iter()
            .map(|v| {
                if is_missing(v, placeholder) {
                    constant.clone()
                } else {
                    v.clone()
                }
            })
            .collect(),
    )
}

/// `series_fill_forward(s [, missing_value_placeholder])`: each missing
/// element takes the last value before it; leading missing elements stay
/// (series-fill-forward-function.md).
pub fn series_fill_forward(args: &[Value]) -> Value {
    fill_directed(args, false)
}

/// `series_fill_backward(s [, missing_value_placeholder])`: each missing
/// element takes the next value after it; trailing missing elements stay.
pub fn series_fill_backward(args: &[Value]) -> Value {
    fill_directed(args, true)
}

fn fill_directed(args: &[Value], backward: bool) -> Value {
    let Some(Value::Array(items)) = args.first() else {
        return Value::Null;
    };
    let placeholder = args.get(1).unwrap_or(&Value::Null);
    let mut out: Vec<Value> = items.to_vec();
    let mut last: Option<Value> = None;
    let indices: Box<dyn Iterator<Item = usize>> = if backward {
        Box::new((0..out.len()).rev())
    } else {
        Box::new(0..out.len())
    };
    for i in indices {
        if is_missing(&out[i], placeholder) {
            if let Some(value) = &last {
                out[i] = value.clone();
            }
        } else {
            last = Some(out[i].clone());
        }
    }
    Value::array(out)
}

/// `series_fill_linear(s [, missing_value_placeholder [, fill_edges [,
/// constant_value]]])` (series-fill-linear-function.md): missing elements
/// between two values are interpolated linearly; with `fill_edges` (the
/// default) those at either end take the nearest value; a series of
/// missing elements only is filled with `constant_value` (default 0). When
/// every value is an int or long, interpolated values are rounded (the
/// text says rounded; halves away from zero).
pub fn series_fill_linear(args: &[Value]) -> Value {
    let Some(Value::Array(items)) = args.first() else {
        return Value::Null;
    };
    let placeholder = args.get(1).unwrap_or(&Value::Null);
    let fill_edges = !matches!(args.get(2), Some(Value::Bool(false)));
    let constant = args.get(3).cloned().unwrap_or(Value::Long(0));
    let known: Vec<(usize, f64)> = items
        .iter()
        .enumerate()
        .filter(|(_, v)| !is_missing(v, placeholder))
        .filter_map(|(i, v)| real_arg(v).map(|x| (i, x)))
        .collect();
    if known.is_empty() {
        return Value::array(items.iter().map(|_| constant.clone()).collect());
    }
    let integers = items
        .iter()
        .filter(|v| !is_missing(v, placeholder))
        .all(|v| matches!(v, Value::Int(_) | Value::Long(_)));
    let make = |x: f64| {
        if integers {
            super::checked_long(x.round()).map_or(Value::Null, Value::Long)
        } else {
            Value::Real(x)
        }
    };
    let mut out: Vec<Value> = items.to_vec();
    let (first, last) = (known[0], known[known.len() - 1]);
    for pair in known.windows(2) {
        let ((i, a), (j, b)) = (pair[0], pair[1]);
        for (k, slot) in out.iter_mut().enumerate().take(j).skip(i + 1) {
            *slot = make(a + (b - a) * (k - i) as f64 / (j - i) as f64);
        }
    }
    if fill_edges {
        for slot in out.iter_mut().take(first.0) {
            *slot = items[first.0].clone();
        }
        for slot in out.iter_mut().skip(last.0 + 1) {
            *slot = items[last.0].clone();
        }
    }
    Value::array(out)
}

/// The numbers of a series, or none when an element is not a finite number.
fn finite_numbers(items: &[Value]) -> Option<Vec<f64>> {
    items
        .iter()
        .map(|v| real_arg(v).filter(|x| x.is_finite()))
        .collect()
}

/// `series_pearson_correlation(s1, s2)` (series-pearson-correlation-function.md):
/// null when an element is not a number or the lengths differ; NaN when a
/// series does not vary (the coefficient divides by zero).
pub fn series_pearson_correlation(a: &Value, b: &Value) -> Value {
    let (Value::Array(a), Value::Array(b)) = (a, b) else {
        return Value::Null;
    };
    let (Some(x), Some(y)) = (finite_numbers(a), finite_numbers(b)) else {
        return Value::Null;
    };
    if x.len() != y.len() || x.is_empty() {
        return Value::Null;
    }
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in x.iter().zip(&y) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    Value::Real(sxy / (sxx * syy).sqrt())
}

/// A bag of the given members, in order.
pub(crate) fn bag(entries: Vec<(&'static str, Value)>) -> Value {
    let mut out = Bag::new();
    for (key, value) in entries {
        out.insert(Str::Static(key), value);
    }
    Value::Bag(Arc::new(out))
}

/// The members of `series_stats_dynamic`'s bag, in the order `series_stats`
/// gives them as columns, with their types' names.
pub const STATS_MEMBERS: [&str; 7] = [
    "min", "min_idx", "max", "max_idx", "avg", "stdev", "variance",
];

/// `series_stats_dynamic(s [, ignore_nonfinite])` (series-stats-dynamic-function.md):
/// a bag of `min`, `min_idx`, `max`, `max_idx` (first positions), `avg`,
/// `variance`, `stdev` (sample), `sum` and `len`. An element that is not a
/// finite number (null, NaN, infinity, a string) makes every statistic
/// null, unless `ignore_nonfinite` is true, when it is left out (positions
/// still count it). `len` is the number of values the statistics cover.
pub fn series_stats_dynamic(args: &[Value]) -> Value {
    let Some(Value::Array(items)) = args.first() else {
        return Value::Null;
    };
    let ignore = matches!(args.get(1), Some(Value::Bool(true)));
    let mut values: Vec<(usize, f64)> = Vec::with_capacity(items.len());
    let mut nonfinite = false;
    for (i, v) in items.iter().enumerate() {
        match real_arg(v).filter(|x| x.is_finite()) {
            Some(x) => values.push((i, x)),
            None => nonfinite = true,
        }
    }
    let len = Value::Long(values.len() as i64);
    if (nonfinite && !ignore) || values.is_empty() {
        let mut entries: Vec<(&'static str, Value)> =
            STATS_MEMBERS.iter().map(|k| (*k, Value::Null)).collect();
        entries.push(("sum", Value::Null));
        entries.push((
            "len",
            if nonfinite && !ignore {
                Value::Null
            } else {
                len
            },
        ));
        return bag(entries);
    }
    let (mut min, mut max) = (values[0], values[0]);
    let mut spread = Spread::default();
    let mut sum = 0.0;
    for &(i, x) in &values {
        if x < min.1 {
            min = (i, x);
        }
        if x > max.1 {
            max = (i, x);
        }
        spread.add(x);
        sum += x;
    }
    bag(vec![
        ("min", Value::Real(min.1)),
        ("min_idx", Value::Long(min.0 as i64)),
        ("max", Value::Real(max.1)),
        ("max_idx", Value::Long(max.0 as i64)),
        ("avg", Value::Real(sum / values.len() as f64)),
        ("stdev", Value::Real(spread.result(Dispersion::Stdev))),
        ("variance", Value::Real(spread.result(Dispersion::Variance))),
        ("sum", Value::Real(sum)),
        ("len", len),
    ])
}

/// The members of `series_fit_line_dynamic`'s bag, in the order
/// `series_fit_line` gives them as columns.
pub const FIT_LINE_MEMBERS: [&str; 6] = [
    "rsquare",
    "slope",
    "variance",
    "rvariance",
    "interception",
    "line_fit",
];

/// `series_fit_line_dynamic(s)` (series-fit-line-dynamic-function.md):
/// the least-squares line through the points `(1, s[0]), (2, s[1]), ...`:
/// `slope`, `interception`, `rsquare` (1 - residual / total sum of
/// squares), `variance` (sample variance of the values), `rvariance`
/// (residual sum of squares over n - 1) and `line_fit` (the line's values).
/// An element that is not a finite number, or an empty series, makes every
/// member null; a series with no spread fits exactly (`rsquare` 1).
pub fn series_fit_line_dynamic(series: &Value) -> Value {
    let Value::Array(items) = series else {
        return Value::Null;
    };
    let fit = finite_numbers(items).filter(|y| !y.is_empty()).map(|y| {
        let n = y.len() as f64;
        let mx = (n + 1.0) / 2.0;
        let my = y.iter().sum::<f64>() / n;
        let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
        for (i, y) in y.iter().enumerate() {
            let dx = (i + 1) as f64 - mx;
            sxy += dx * (y - my);
            sxx += dx * dx;
            syy += (y - my) * (y - my);
        }
        let slope = if sxx == 0.0 { 0.0 } else { sxy / sxx };
        let interception = my - slope * mx;
        let line: Vec<f64> = (1..=y.len())
            .map(|x| interception + slope * x as f64)
            .collect();
        let residual: f64 = y.iter().zip(&line).map(|(y, f)| (y - f) * (y - f)).sum();
        let divisor = (n - 1.0).max(1.0);
        let rsquare = if syy == 0.0 {
            1.0
        } else {
            1.0 - residual / syy
        };
        vec![
            Value::Real(rsquare),
            Value::Real(slope),
            Value::Real(syy / divisor),
            Value::Real(residual / divisor),
            Value::Real(interception),
            Value::array(line.into_iter().map(Value::Real).collect()),
        ]
    });
    let values = fit.unwrap_or_else(|| vec![Value::Null; FIT_LINE_MEMBERS.len()]);
    bag(FIT_LINE_MEMBERS.iter().copied().zip(values).collect())
}

/// Tukey's fence score of `x` between the percentiles `q1` and `q3`:
/// `(x - q3) / (q3 - q1)` above `q3`, `(x - q1) / (q3 - q1)` below `q1`,
/// else 0.
pub(crate) fn tukey_score(x: f64, q1: f64, q3: f64) -> f64 {
    if x > q3 {
        (x - q3) / (q3 - q1)
    } else if x < q1 {
        (x - q1) / (q3 - q1)
    } else {
        0.0
    }
}

/// The `p`th percentile of `values`, nearest-rank, as `percentile()`
/// computes it (NaN for no values).
pub(crate) fn nearest_rank(values: &[f64], p: f64) -> f64 {
    let mut state = Aggregate::percentile(&Value::Real(p));
    for x in values {
        state.add(&Value::Real(*x), &[]);
    }
    state
        .finish(0)
        .first()
        .and_then(real_arg)
        .unwrap_or(f64::NAN)
}

/// `series_outliers(s [, kind [, ignore_val [, min_percentile [,
/// max_percentile]]]])` (series-outliers-function.md): Tukey's fences.
/// With the percentiles `Q1`, `Q3` of the values (25 and 75 for
/// `"tukey"`; for `"ctukey"`, the default, `min_percentile` and
/// `max_percentile`, 10 and 90 by default, each in 2..=98), a value above
/// `Q3` scores `(x - Q3) / (Q3 - Q1)`, one below `Q1` scores
/// `(x - Q1) / (Q3 - Q1)`, others 0: beyond 1.5 or -1.5 is outside the
/// fences. Null elements and `ignore_val` score 0 and are not values.
/// Percentiles are nearest-rank, as `percentile()` computes them. An
/// unknown kind or a percentile outside 2..=98 gives null.
pub fn series_outliers(args: &[Value]) -> Value {
    let Some(Value::Array(items)) = args.first() else {
        return Value::Null;
    };
    let kind = match args.get(1) {
        None | Some(Value::Null) => "ctukey",
        Some(Value::String(s)) if s.is_empty() => "ctukey",
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Value::Null,
    };
    let ignore = args.get(2).and_then(real_arg);
    let percentile = |i: usize, default: f64| match args.get(i) {
        None | Some(Value::Null) => Some(default),
        Some(v) => real_arg(v).filter(|p| (2.0..=98.0).contains(p)),
    };
    let (low, high) = match kind {
        "tukey" => (25.0, 75.0),
        "ctukey" => match (percentile(3, 10.0), percentile(4, 90.0)) {
            (Some(low), Some(high)) => (low, high),
            _ => return Value::Null,
        },
        _ => return Value::Null,
    };
    let value_of = |v: &Value| real_arg(v).filter(|x| !x.is_nan() && Some(*x) != ignore);
    let values: Vec<f64> = items.iter().filter_map(value_of).collect();
    if values.is_empty() {
        return Value::array(items.iter().map(|_| Value::Real(0.0)).collect());
    }
    let (q1, q3) = (nearest_rank(&values, low), nearest_rank(&values, high));
    Value::array(
        items
            .iter()
            .map(|v| Value::Real(value_of(v).map_or(0.0, |x| tukey_score(x, q1, q3))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn longs(values: &[i64]) -> Value {
        Value::array(values.iter().map(|&n| Value::Long(n)).collect())
    }

    fn reals(values: &[f64]) -> Value {
        Value::array(values.iter().map(|&x| Value::Real(x)).collect())
    }

    #[test]
    fn element_wise_operations_pad_with_null_and_broadcast_numbers() {
        assert_eq!(
            series_add(&longs(&[1, 2, 4]), &longs(&[4, 2])),
            Value::array(vec![Value::Long(5), Value::Long(4), Value::Null])
        );
        assert_eq!(
            series_multiply(&Value::Long(10), &longs(&[1, -1])),
            longs(&[10, -10])
        );
        assert_eq!(
            series_divide(&longs(&[1, 2]), &longs(&[2, 0])),
            reals(&[0.5, f64::INFINITY])
        );
        assert_eq!(
            series_greater(&longs(&[1, 5]), &Value::Real(2.5)),
            Value::array(vec![Value::Bool(false), Value::Bool(true)])
        );
        assert_eq!(series_add(&Value::Long(1), &Value::Long(2)), Value::Null);
    }

    #[test]
    fn fill_linear_interpolates_and_fills_edges() {
        let series = Value::array(vec![
            Value::Null,
            Value::Real(10.0),
            Value::Null,
            Value::Real(20.0),
            Value::Null,
        ]);
        assert_eq!(
            series_fill_linear(std::slice::from_ref(&series)),
            reals(&[10.0, 10.0, 15.0, 20.0, 20.0])
        );
        assert_eq!(
            series_fill_linear(&[series, Value::Null, Value::Bool(false)]),
            Value::array(vec![
                Value::Null,
                Value::Real(10.0),
                Value::Real(15.0),
                Value::Real(20.0),
                Value::Null
            ])
        );
    }

    #[test]
    fn stats_of_a_series_and_of_one_with_a_null() {
        let stats = series_stats_dynamic(&[longs(&[3, 1, 4, 1])]);
        assert_eq!(crate::ops::member(&stats, "min_idx"), Value::Long(1));
        assert_eq!(crate::ops::member(&stats, "max"), Value::Real(4.0));
        assert_eq!(crate::ops::member(&stats, "sum"), Value::Real(9.0));
        let with_null = Value::array(vec![Value::Long(2), Value::Null, Value::Long(4)]);
        let strict = series_stats_dynamic(std::slice::from_ref(&with_null));
        assert_eq!(crate::ops::member(&strict, "avg"), Value::Null);
        let lenient = series_stats_dynamic(&[with_null, Value::Bool(true)]);
        assert_eq!(crate::ops::member(&lenient, "avg"), Value::Real(3.0));
        assert_eq!(crate::ops::member(&lenient, "max_idx"), Value::Long(2));
    }

    #[test]
    fn fit_line_of_a_straight_line_is_exact() {
        let fit = series_fit_line_dynamic(&longs(&[3, 5, 7]));
        assert_eq!(crate::ops::member(&fit, "slope"), Value::Real(2.0));
        assert_eq!(crate::ops::member(&fit, "interception"), Value::Real(1.0));
        assert_eq!(crate::ops::member(&fit, "rsquare"), Value::Real(1.0));
        assert_eq!(
            crate::ops::member(&fit, "line_fit"),
            reals(&[3.0, 5.0, 7.0])
        );
    }

    #[test]
    fn outliers_score_distance_beyond_the_quartiles() {
        let series = longs(&[1, 2, 3, 4, 5, 6, 7, 8, 100]);
        let scores = series_outliers(&[series, Value::from_static("tukey")]);
        // Q1 = 3, Q3 = 7 (nearest rank): 100 scores (100 - 7) / 4.
        let Value::Array(scores) = scores else {
            panic!("not an array")
        };
        assert_eq!(scores[8], Value::Real(93.0 / 4.0));
        assert_eq!(scores[0], Value::Real(-0.5));
        assert_eq!(scores[4], Value::Real(0.0));
    }
}
