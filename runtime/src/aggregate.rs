//! What the stateful operators keep between rows: groups for `summarize`
//! and `distinct`, aggregate states, and the sort order of `sort` and `top`.
//!
//! Groups keep their first-seen order, so results are deterministic (Kusto
//! leaves the order of `summarize` output unspecified). Null is a key like
//! any other: rows whose key is null form one group.

use crate::decimal::Decimal;
use crate::ops;
use crate::text;
use crate::value::{Row, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// A grouping key: values compared as KQL groups them (strings exactly,
/// numbers by value within their type, `-0.0` as `0.0`, every NaN equal,
/// dynamic arrays and bags by their JSON text).
#[derive(Clone, Debug)]
pub struct GroupKey(pub Vec<Value>);

/// One value's identity for grouping.
pub(crate) fn identity(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0),
        Value::Bool(b) => out.extend([1, u8::from(*b)]),
        Value::Int(n) => {
            out.push(2);
            out.extend(i64::from(*n).to_le_bytes());
        }
        Value::Long(n) => {
            out.push(2);
            out.extend(n.to_le_bytes());
        }
        Value::Real(x) => {
            out.push(3);
            let x = if *x == 0.0 {
                0.0
            } else if x.is_nan() {
                f64::NAN
            } else {
                *x
            };
            out.extend(x.to_bits().to_le_bytes());
        }
        Value::String(s) => {
            out.push(4);
            out.extend((s.len() as u64).to_le_bytes());
            out.extend(s.as_bytes());
        }
        Value::DateTime(d) => {
            out.push(5);
            out.extend(d.0.to_le_bytes());
        }
        Value::TimeSpan(t) => {
            out.push(6);
            out.extend(t.0.to_le_bytes());
        }
        Value::Guid(g) => {
            out.push(7);
            out.extend(g.to_ascii_lowercase().as_bytes());
            out.push(0xff);
        }
        Value::Decimal(d) => {
            out.push(9);
            out.extend(d.to_string().as_bytes());
            out.push(0xff);
        }
        Value::Array(_) | Value::Bag(_) => {
            out.push(8);
            let mut json = String::new();
            text::write_json(value, &mut json);
            out.extend((json.len() as u64).to_le_bytes());
            out.extend(json.as_bytes());
        }
    }
}

impl GroupKey {
    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for value in &self.0 {
            identity(value, &mut out);
        }
        out
    }
}

impl PartialEq for GroupKey {
    fn eq(&self, other: &GroupKey) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for GroupKey {}

impl Hash for GroupKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
}

/// Groups in first-seen order, each with its state.
#[derive(Debug)]
pub struct Groups<S> {
    index: HashMap<Vec<u8>, usize>,
    groups: Vec<(Vec<Value>, S)>,
    /// The identity bytes of the key being looked up, reused from row to
    /// row: a row of an existing group allocates nothing here.
    scratch: Vec<u8>,
}

impl<S> Default for Groups<S> {
    fn default() -> Groups<S> {
        Groups {
            index: HashMap::new(),
            groups: Vec::new(),
            scratch: Vec::new(),
        }
    }
}

impl<S> Groups<S> {
    /// The state of the group of `key` (made by `init` the first time; the
    /// key's values are kept for output).
    pub fn entry(&mut self, key: Vec<Value>, init: impl FnOnce() -> S) -> &mut S {
        self.scratch.clear();
        for value in &key {
            identity(value, &mut self.scratch);
        }
        self.slot(|| key, init)
    }

    /// [`Groups::entry`] with the key's values borrowed (from the row):
    /// they are cloned only when they make a new group, so a row of an
    /// existing group copies and allocates nothing.
    pub fn entry_ref(&mut self, key: &[&Value], init: impl FnOnce() -> S) -> &mut S {
        self.scratch.clear();
        for value in key {
            identity(value, &mut self.scratch);
        }
        self.slot(|| key.iter().map(|&v| v.clone()).collect(), init)
    }

    /// The state of the group whose identity is in `scratch`, added with
    /// `key()` and `init()` when new.
    fn slot(&mut self, key: impl FnOnce() -> Vec<Value>, init: impl FnOnce() -> S) -> &mut S {
        let slot = match self.index.get(self.scratch.as_slice()) {
            Some(&slot) => slot,
            None => {
                self.index.insert(self.scratch.clone(), self.groups.len());
                self.groups.push((key(), init()));
                self.groups.len() - 1
            }
        };
        &mut self.groups[slot].1
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when there is no group.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Takes the groups out, in first-seen order.
    pub fn drain(&mut self) -> Vec<(Vec<Value>, S)> {
        self.index.clear();
        std::mem::take(&mut self.groups)
    }

    /// Merges the groups of `later`, made from rows that came after all of
    /// this one's (`--threads`: a worker's batch): a group both have gets
    /// `merge(state, later_state)`, a group new here is added after the
    /// existing ones in `later`'s first-seen order, so the order is the one
    /// a single pass over both sets of rows gives.
    pub fn merge(&mut self, later: Groups<S>, mut merge: impl FnMut(&mut S, S)) {
        let mut later_index: Vec<(usize, Vec<u8>)> = later
            .index
            .into_iter()
            .map(|(identity, slot)| (slot, identity))
            .collect();
        later_index.sort_unstable_by_key(|(slot, _)| *slot);
        for ((_, identity), (key, state)) in later_index.into_iter().zip(later.groups) {
            match self.index.get(&identity) {
                Some(&slot) => merge(&mut self.groups[slot].1, state),
                None => {
                    self.index.insert(identity, self.groups.len());
                    self.groups.push((key, state));
                }
            }
        }
    }
}

/// The rows `distinct` has seen.
#[derive(Debug, Default)]
pub struct Seen {
    keys: HashSet<Vec<u8>>,
    /// The identity bytes being looked up, reused (see [`Groups`]).
    scratch: Vec<u8>,
}

impl Seen {
    /// True the first time these values are seen.
    pub fn first_time(&mut self, values: &[Value]) -> bool {
        self.scratch.clear();
        for value in values {
            identity(value, &mut self.scratch);
        }
        if self.keys.contains(self.scratch.as_slice()) {
            return false;
        }
        self.keys.insert(self.scratch.clone())
    }

    /// Adds the values `later` has seen; returns how many were new here.
    pub(crate) fn merge(&mut self, later: Seen) -> i64 {
        let mut new = 0;
        for key in later.keys {
            if self.keys.insert(key) {
                new += 1;
            }
        }
        new
    }
}

/// Notes that a `make_*` aggregate dropped a value at the default size
/// (a `maxSize` the query gives is its own choice, not a silent cap).
pub(crate) fn default_cap_hit(limit: usize, aggregate: &'static str) {
    if limit == DEFAULT_MAX_SIZE {
        crate::budget::cap_hit(match aggregate {
            "make_set" => "make_set's default size of 1048576 values",
            "make_list" => "make_list's default size of 1048576 values",
            _ => "make_bag's default size of 1048576 keys",
        });
    }
}

/// The state of one aggregate function over one group.
///
/// Each `add_*` takes the aggregate's arguments for one row; [`Aggregate::finish`]
/// gives the result. Null arguments are ignored by every aggregate except
/// `count` (as in Kusto), so an all-null group gives null for `sum`, `avg`,
/// `min`, `max`, and an empty array for `make_set`/`make_list`.
#[derive(Debug)]
pub enum Aggregate {
    /// `count()`, `countif(p)`.
    Count(i64),
    /// `hll(x)`, `hll_if(x, p)` (`merging` false) and `hll_merge(sketch)`
    /// (true): the distinct values, in order of first appearance
    /// (`functions::sketch`).
    Hll {
        /// The values kept so far.
        seen: Seen,
        /// The same values, in order.
        items: Vec<Value>,
        /// The rows hold sketches whose values are added.
        merging: bool,
    },
    /// `dcount(x)`, `dcountif(x, p)`: exact distinct count.
    DCount(Seen, i64),
    /// `tdigest(x [, w])` (`merging` false) and `tdigest_merge(digest)`
    /// (true): every value with its weight (`functions::sketch`).
    TDigest {
        /// The weighted values so far, compacted now and then.
        values: Vec<(Value, u64)>,
        /// The rows hold digests whose entries are added.
        merging: bool,
    },
    /// `sum(x)`, `sumif(x, p)`.
    Sum(Value),
    /// `avg(x)`, `avgif(x, p)`: sum and count of non-null values.
    Avg(f64, i64),
    /// `avg(x)`, `avgif(x, p)` of decimals: the exact sum (null once it
    /// overflows 38 digits) and the count of non-null values.
    AvgDecimal(Value, i64),
    /// `min(x)`, `minif(x, p)`.
    Min(Value),
    /// `max(x)`, `maxif(x, p)`.
    Max(Value),
    /// `arg_min(x, cols...)`: the smallest x and the other values of its row.
    ArgMin(Value, Vec<Value>),
    /// `arg_max(x, cols...)`.
    ArgMax(Value, Vec<Value>),
    /// `make_set(x [, max])`, `make_set_if(x, p [, max])`.
    MakeSet(Seen, Vec<Value>, usize),
    /// `make_list(x [, max])`, `make_list_if(x, p [, max])`.
    MakeList(Vec<Value>, usize),
    /// `make_bag(x [, max])`: merges property bags (the first value of a key wins).
    MakeBag(crate::value::Bag, usize),
    /// `take_any(x)`, `take_anyif(x, p)`: some value (the first non-null one).
    TakeAny(Value),
    /// `make_list_with_nulls(x)`: like `make_list`, null values included.
    MakeListWithNulls(Vec<Value>, usize),
    /// `variance`, `variancep`, `stdev`, `stdevp` and their `if` forms.
    Spread(Spread, Dispersion),
    /// `percentile`, `percentiles`, `percentilew`, `percentilesw` and the
    /// `_array` forms: exact nearest-rank percentiles.
    Percentiles(Percentiles),
}

/// Which measure of spread a [`Spread`] state gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dispersion {
    /// `variance`: the sample variance (divided by n - 1).
    Variance,
    /// `variancep`: the population variance (divided by n).
    VarianceP,
    /// `stdev`: the square root of the sample variance.
    Stdev,
    /// `stdevp`: the square root of the population variance.
    StdevP,
}

/// The running count, mean and sum of squared deviations of the numbers
/// seen (Welford's method, which stays accurate when the values are large
/// and close together, where a sum of squares would cancel).
#[derive(Clone, Debug, Default)]
pub struct Spread {
    n: u64,
    mean: f64,
    squares: f64,
}

impl Spread {
    /// Adds one number.
    pub fn add(&mut self, x: f64) {
        self.n += 1;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.squares += delta * (x - self.mean);
    }

    /// Merges the numbers of `other` (Chan et al.'s pairwise update).
    pub fn merge(&mut self, other: &Spread) {
        if other.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = other.clone();
            return;
        }
        let n = self.n + other.n;
        let delta = other.mean - self.mean;
        self.squares +=
            other.squares + delta * delta * (self.n as f64) * (other.n as f64) / n as f64;
        self.mean += delta * other.n as f64 / n as f64;
        self.n = n;
    }

    /// The measure asked for. Over no values it is 0, the default value
    /// summarize-operator.md gives for `variance` and `stdev`; the sample
    /// forms over one value are 0 too (Bessel's correction would divide by
    /// zero; the spread of one value is none).
    pub fn result(&self, dispersion: Dispersion) -> f64 {
        let divisor = match dispersion {
            Dispersion::Variance | Dispersion::Stdev => self.n.saturating_sub(1),
            Dispersion::VarianceP | Dispersion::StdevP => self.n,
        };
        if divisor == 0 {
            return 0.0;
        }
        let variance = (self.squares / divisor as f64).max(0.0);
        match dispersion {
            Dispersion::Variance | Dispersion::VarianceP => variance,
            Dispersion::Stdev | Dispersion::StdevP => variance.sqrt(),
        }
    }
}

/// The state of the percentile aggregates: every non-null value with its
/// weight (1 unless weighted), kept until the end, so the result is the
/// exact nearest-rank percentile where Kusto estimates it (T-Digest).
#[derive(Clone, Debug)]
pub struct Percentiles {
    values: Vec<(Value, u64)>,
    /// The percentiles asked for, each in 0..=100.
    percentiles: Vec<f64>,
    /// One dynamic array (`percentiles_array`) rather than a value each.
    array: bool,
}

impl Percentiles {
    fn add(&mut self, value: &Value, weight: Option<&Value>) {
        if value.is_null() {
            return;
        }
        if let Some(weight) = weight_of(weight) {
            self.values.push((value.clone(), weight));
        }
    }

    fn finish(mut self) -> Vec<Value> {
        self.values
            .sort_by(|(a, _), (b, _)| sort_order(a, b, false, true));
        let total: u128 = self.values.iter().map(|(_, w)| u128::from(*w)).sum();
        let results: Vec<Value> = self
            .percentiles
            .iter()
            .map(|&p| nearest_rank(&self.values, total, p))
            .collect();
        if self.array && self.values.is_empty() {
            // No values: null, the default of every aggregate the summarize
            // page does not list, rather than an array of nulls.
            vec![Value::Null]
        } else if self.array {
            vec![Value::array(results)]
        } else {
            results
        }
    }
}

/// The weight of a row of `percentilew`/`tdigest`: 1 when there is no
/// weight argument; `None` (the value counts no times) for a weight that
/// is null, zero, negative or not an integer.
fn weight_of(weight: Option<&Value>) -> Option<u64> {
    let weight = match weight {
        None => 1,
        Some(Value::Long(w)) => u64::try_from(*w).unwrap_or(0),
        Some(Value::Int(w)) => u64::try_from(*w).unwrap_or(0),
        Some(_) => 0,
    };
    (weight > 0).then_some(weight)
}

/// An int as a long (what `percentile` gives for int values); any other
/// value as it is.
fn int_as_long(value: &Value) -> Value {
    match value {
        Value::Int(n) => Value::Long(i64::from(*n)),
        other => other.clone(),
    }
}

/// The nearest-rank percentile `p` of sorted weighted values: the smallest
/// value with at least `p`% of the total weight at or below it; `p` = 0 is
/// the smallest value (percentiles-aggregation-function.md). No values, or
/// a `p` outside 0..=100: null. An int is given as a long, the type
/// Kusto's `percentile` gives for int values.
pub(crate) fn nearest_rank(values: &[(Value, u64)], total: u128, p: f64) -> Value {
    if values.is_empty() || !(0.0..=100.0).contains(&p) {
        return Value::Null;
    }
    // `p * total / 100` rather than `p / 100 * total`: 95 * 20 / 100 is
    // exactly 19, where 0.95 * 20 rounds above it and ceil would skip a rank.
    let rank = ((p * total as f64) / 100.0).ceil().max(1.0);
    let rank = if rank >= total as f64 {
        total
    } else {
        rank as u128
    };
    let mut seen = 0u128;
    for (value, weight) in values {
        seen += u128::from(*weight);
        if seen >= rank {
            return match value {
                Value::Int(n) => Value::Long(i64::from(*n)),
                other => other.clone(),
            };
        }
    }
    Value::Null
}

/// The percentiles of a constructor's parameter: a number, or a dynamic
/// array of numbers (the checker makes it a constant).
fn percentile_list(parameter: &Value) -> Vec<f64> {
    match parameter {
        Value::Array(items) => items.iter().map(percentile_number).collect(),
        other => vec![percentile_number(other)],
    }
}

fn percentile_number(value: &Value) -> f64 {
    as_f64(value).unwrap_or(f64::NAN)
}

/// The most values `make_set`/`make_list`/`make_bag` keep by default
/// (Kusto's documented default is 1,048,576).
pub const DEFAULT_MAX_SIZE: usize = 1_048_576;

pub(crate) fn max_size(limit: &Value) -> usize {
    match limit {
        Value::Long(n) if *n > 0 => usize::try_from(*n)
            .unwrap_or(DEFAULT_MAX_SIZE)
            .min(DEFAULT_MAX_SIZE),
        Value::Int(n) if *n > 0 => usize::try_from(*n)
            .unwrap_or(DEFAULT_MAX_SIZE)
            .min(DEFAULT_MAX_SIZE),
        _ => DEFAULT_MAX_SIZE,
    }
}

impl Aggregate {
    /// `count()` / `countif()`.
    pub fn count() -> Aggregate {
        Aggregate::Count(0)
    }
    /// `hll(x [, accuracy])` / `hll_if()`: kqlc's sketch is exact, so the
    /// accuracy changes nothing.
    pub fn hll(_accuracy: &Value) -> Aggregate {
        Aggregate::Hll {
            seen: Seen::default(),
            items: Vec::new(),
            merging: false,
        }
    }
    /// `hll_merge(sketch)`.
    pub fn hll_merge() -> Aggregate {
        Aggregate::Hll {
            seen: Seen::default(),
            items: Vec::new(),
            merging: true,
        }
    }
    /// `tdigest(x [, w])`.
    pub fn tdigest() -> Aggregate {
        Aggregate::TDigest {
            values: Vec::new(),
            merging: false,
        }
    }
    /// `tdigest_merge(digest)` (alias `merge_tdigest`).
    pub fn tdigest_merge() -> Aggregate {
        Aggregate::TDigest {
            values: Vec::new(),
            merging: true,
        }
    }
    /// `dcount()` / `dcountif()`.
    pub fn dcount() -> Aggregate {
        Aggregate::DCount(Seen::default(), 0)
    }
    /// `sum()` / `sumif()` of dynamic values: null until a value comes.
    pub fn sum() -> Aggregate {
        Aggregate::Sum(Value::Null)
    }
    /// `sum()` / `sumif()` of int or long values: 0 over no values
    /// (summarize-operator.md, "Default values of aggregations").
    pub fn sum_long() -> Aggregate {
        Aggregate::Sum(Value::Long(0))
    }
    /// `sum()` / `sumif()` of real values: 0 over no values.
    pub fn sum_real() -> Aggregate {
        Aggregate::Sum(Value::Real(0.0))
    }
    /// `sum()` / `sumif()` of decimals: 0 over no values; null once the
    /// sum needs more than 38 integer digits.
    pub fn sum_decimal() -> Aggregate {
        Aggregate::Sum(Value::Decimal(Decimal::ZERO))
    }
    /// `avg()` / `avgif()` of decimals: a decimal, the exact sum divided by
    /// the count (rounded to 38 digits); null over no values.
    pub fn avg_decimal() -> Aggregate {
        Aggregate::AvgDecimal(Value::Decimal(Decimal::ZERO), 0)
    }
    /// `sum()` / `sumif()` of timespans: 0 over no values.
    pub fn sum_timespan() -> Aggregate {
        Aggregate::Sum(Value::TimeSpan(crate::value::TimeSpan(0)))
    }
    /// `avg()` / `avgif()`.
    pub fn avg() -> Aggregate {
        Aggregate::Avg(0.0, 0)
    }
    /// `min()` / `minif()`.
    pub fn min() -> Aggregate {
        Aggregate::Min(Value::Null)
    }
    /// `max()` / `maxif()`.
    pub fn max() -> Aggregate {
        Aggregate::Max(Value::Null)
    }
    /// `arg_min()`.
    pub fn arg_min() -> Aggregate {
        Aggregate::ArgMin(Value::Null, Vec::new())
    }
    /// `arg_max()`.
    pub fn arg_max() -> Aggregate {
        Aggregate::ArgMax(Value::Null, Vec::new())
    }
    /// `make_set()` with an optional size limit.
    pub fn make_set(limit: &Value) -> Aggregate {
        Aggregate::MakeSet(Seen::default(), Vec::new(), max_size(limit))
    }
    /// `make_list()` with an optional size limit.
    pub fn make_list(limit: &Value) -> Aggregate {
        Aggregate::MakeList(Vec::new(), max_size(limit))
    }
    /// `make_bag()` with an optional size limit.
    pub fn make_bag(limit: &Value) -> Aggregate {
        Aggregate::MakeBag(crate::value::Bag::new(), max_size(limit))
    }
    /// `take_any()`.
    pub fn take_any() -> Aggregate {
        Aggregate::TakeAny(Value::Null)
    }
    /// `make_list_with_nulls()`.
    pub fn make_list_with_nulls() -> Aggregate {
        Aggregate::MakeListWithNulls(Vec::new(), DEFAULT_MAX_SIZE)
    }
    /// `variance()` / `varianceif()`.
    pub fn variance() -> Aggregate {
        Aggregate::Spread(Spread::default(), Dispersion::Variance)
    }
    /// `variancep()` / `variancepif()`.
    pub fn variancep() -> Aggregate {
        Aggregate::Spread(Spread::default(), Dispersion::VarianceP)
    }
    /// `stdev()` / `stdevif()`.
    pub fn stdev() -> Aggregate {
        Aggregate::Spread(Spread::default(), Dispersion::Stdev)
    }
    /// `stdevp()` / `stdevpif()`.
    pub fn stdevp() -> Aggregate {
        Aggregate::Spread(Spread::default(), Dispersion::StdevP)
    }
    /// `percentile(x, p)`.
    pub fn percentile(p: &Value) -> Aggregate {
        Aggregate::percentiles(p)
    }
    /// `percentiles(x, p1, p2, ...)` and `percentilesw(x, w, ...)`: one
    /// value per percentile of `ps` (a number or an array of numbers).
    pub fn percentiles(ps: &Value) -> Aggregate {
        Aggregate::Percentiles(Percentiles {
            values: Vec::new(),
            percentiles: percentile_list(ps),
            array: false,
        })
    }
    /// `percentiles_array(x, ...)` and `percentilesw_array(x, w, ...)`:
    /// the percentiles as one dynamic array.
    pub fn percentiles_array(ps: &Value) -> Aggregate {
        Aggregate::Percentiles(Percentiles {
            values: Vec::new(),
            percentiles: percentile_list(ps),
            array: true,
        })
    }

    /// Adds one row: `value` is the aggregated argument (ignored by
    /// `count`), `also` the other values `arg_min`/`arg_max` carry.
    pub fn add(&mut self, value: &Value, also: &[Value]) {
        match self {
            Aggregate::Count(n) => *n += 1,
            Aggregate::Hll {
                seen,
                items,
                merging,
            } => {
                let values = if *merging {
                    crate::functions::sketch::hll_items(value).unwrap_or(&[])
                } else if value.is_null() {
                    &[]
                } else {
                    std::slice::from_ref(value)
                };
                for value in values {
                    if seen.first_time(std::slice::from_ref(value)) {
                        items.push(value.clone());
                    }
                }
            }
            Aggregate::TDigest { values, merging } => {
                if *merging {
                    if let Some(entries) = crate::functions::sketch::tdigest_entries(value) {
                        values.extend(entries);
                    }
                } else if let Some(weight) = weight_of(also.first()).filter(|_| !value.is_null()) {
                    values.push((int_as_long(value), weight));
                }
                crate::functions::sketch::tdigest_bound(values);
            }
            Aggregate::DCount(seen, n) => {
                if !value.is_null() && seen.first_time(std::slice::from_ref(value)) {
                    *n += 1;
                }
            }
            Aggregate::Sum(total) => {
                if !value.is_null() {
                    *total = if total.is_null() {
                        value.clone()
                    } else {
                        ops::add(total, value)
                    };
                }
            }
            Aggregate::Avg(sum, n) => {
                if let Some(x) = as_f64(value) {
                    *sum += x;
                    *n += 1;
                }
            }
            Aggregate::AvgDecimal(sum, n) => {
                if !value.is_null() {
                    *sum = ops::add(sum, value);
                    *n += 1;
                }
            }
            Aggregate::Min(best) => {
                if !value.is_null() && (best.is_null() || ops::is_true(&ops::lt(value, best))) {
                    *best = value.clone();
                }
            }
            Aggregate::Max(best) => {
                if !value.is_null() && (best.is_null() || ops::is_true(&ops::gt(value, best))) {
                    *best = value.clone();
                }
            }
            Aggregate::ArgMin(best, carried) => {
                if !value.is_null() && (best.is_null() || ops::is_true(&ops::lt(value, best))) {
                    *best = value.clone();
                    *carried = also.to_vec();
                } else if best.is_null() && carried.is_empty() {
                    *carried = also.to_vec();
                }
            }
            Aggregate::ArgMax(best, carried) => {
                if !value.is_null() && (best.is_null() || ops::is_true(&ops::gt(value, best))) {
                    *best = value.clone();
                    *carried = also.to_vec();
                } else if best.is_null() && carried.is_empty() {
                    *carried = also.to_vec();
                }
            }
            Aggregate::MakeSet(seen, items, limit) => {
                if !value.is_null() {
                    for item in flatten(value) {
                        if seen.first_time(std::slice::from_ref(&item)) {
                            if items.len() >= *limit {
                                default_cap_hit(*limit, "make_set");
                                break;
                            }
                            items.push(item);
                        }
                    }
                }
            }
            Aggregate::MakeList(items, limit) => {
                if !value.is_null() {
                    for item in flatten(value) {
                        if items.len() >= *limit {
                            default_cap_hit(*limit, "make_list");
                            break;
                        }
                        items.push(item);
                    }
                }
            }
            Aggregate::MakeBag(bag, limit) => {
                if let Value::Bag(other) = value {
                    for (key, item) in other.iter() {
                        if bag.get(key).is_none() {
                            if bag.len() >= *limit {
                                default_cap_hit(*limit, "make_bag");
                                break;
                            }
                            bag.insert(key.into(), item.clone());
                        }
                    }
                }
            }
            Aggregate::TakeAny(any) => {
                if any.wants_any_value(value) {
                    *any = value.clone();
                }
            }
            Aggregate::MakeListWithNulls(items, limit) => {
                for item in flatten(value) {
                    if items.len() >= *limit {
                        crate::budget::cap_hit(
                            "make_list_with_nulls's default size of 1048576 values",
                        );
                        break;
                    }
                    items.push(item);
                }
            }
            Aggregate::Spread(spread, _) => {
                if let Some(x) = as_f64(value) {
                    spread.add(x);
                }
            }
            Aggregate::Percentiles(state) => state.add(value, also.first()),
        }
    }

    /// Merges `later`, the state of the same aggregate over rows that came
    /// after all of this one's (`--threads`: per-batch partial states,
    /// merged in input order).
    ///
    /// For `count`, `dcount`, `sum` of longs (wrapping, as one pass adds),
    /// `min`/`max`/`arg_min`/`arg_max` over a type whose `<` is a total
    /// order (ties keep the earlier row), `take_any`, `make_set`,
    /// `make_list`, `make_bag` and the percentiles, the result is the one a
    /// single pass over both sets of rows gives; the compiler splits only
    /// rules whose aggregates are all of these (`plan::mergeable`). The
    /// others merge correctly as arithmetic, but floating-point sums
    /// (`avg`, `variance`, `sum` of reals) may differ in their last bits
    /// from one pass, and `sum` of timespans restarts after an overflow.
    pub fn merge(&mut self, later: Aggregate) {
        match (self, later) {
            (Aggregate::Count(n), Aggregate::Count(m)) => *n += m,
            (Aggregate::Hll { seen, items, .. }, Aggregate::Hll { items: other, .. }) => {
                for value in other {
                    if seen.first_time(std::slice::from_ref(&value)) {
                        items.push(value);
                    }
                }
            }
            (Aggregate::DCount(seen, n), Aggregate::DCount(other, _)) => *n += seen.merge(other),
            (Aggregate::TDigest { values, .. }, Aggregate::TDigest { values: other, .. }) => {
                values.extend(other);
                crate::functions::sketch::tdigest_bound(values);
            }
            (Aggregate::Sum(total), Aggregate::Sum(other)) => {
                if !other.is_null() {
                    *total = if total.is_null() {
                        other
                    } else {
                        ops::add(total, &other)
                    };
                }
            }
            (Aggregate::Avg(sum, n), Aggregate::Avg(other, m)) => {
                *sum += other;
                *n += m;
            }
            (Aggregate::AvgDecimal(sum, n), Aggregate::AvgDecimal(other, m)) => {
                *sum = ops::add(sum, &other);
                *n += m;
            }
            (Aggregate::Min(best), Aggregate::Min(other)) => {
                if !other.is_null() && (best.is_null() || ops::is_true(&ops::lt(&other, best))) {
                    *best = other;
                }
            }
            (Aggregate::Max(best), Aggregate::Max(other)) => {
                if !other.is_null() && (best.is_null() || ops::is_true(&ops::gt(&other, best))) {
                    *best = other;
                }
            }
            (Aggregate::ArgMin(best, carried), Aggregate::ArgMin(other, also)) => {
                if !other.is_null() && (best.is_null() || ops::is_true(&ops::lt(&other, best))) {
                    *best = other;
                    *carried = also;
                } else if best.is_null() && carried.is_empty() {
                    *carried = also;
                }
            }
            (Aggregate::ArgMax(best, carried), Aggregate::ArgMax(other, also)) => {
                if !other.is_null() && (best.is_null() || ops::is_true(&ops::gt(&other, best))) {
                    *best = other;
                    *carried = also;
                } else if best.is_null() && carried.is_empty() {
                    *carried = also;
                }
            }
            (Aggregate::MakeSet(seen, items, limit), Aggregate::MakeSet(_, other, _)) => {
                // While this set is below its limit, `seen` holds exactly
                // its items; at the limit nothing more is added.
                for item in other {
                    if seen.first_time(std::slice::from_ref(&item)) {
                        if items.len() >= *limit {
                            default_cap_hit(*limit, "make_set");
                            break;
                        }
                        items.push(item);
                    }
                }
            }
            (Aggregate::MakeList(items, limit), Aggregate::MakeList(other, _)) => {
                let room = limit.saturating_sub(items.len());
                if other.len() > room {
                    default_cap_hit(*limit, "make_list");
                }
                items.extend(other.into_iter().take(room));
            }
            (
                Aggregate::MakeListWithNulls(items, limit),
                Aggregate::MakeListWithNulls(other, _),
            ) => {
                let room = limit.saturating_sub(items.len());
                if other.len() > room {
                    crate::budget::cap_hit("make_list_with_nulls's default size of 1048576 values");
                }
                items.extend(other.into_iter().take(room));
            }
            (Aggregate::MakeBag(bag, limit), Aggregate::MakeBag(other, _)) => {
                for (key, item) in other.iter() {
                    if bag.get(key).is_none() {
                        if bag.len() >= *limit {
                            default_cap_hit(*limit, "make_bag");
                            break;
                        }
                        bag.insert(key.into(), item.clone());
                    }
                }
            }
            (Aggregate::TakeAny(any), Aggregate::TakeAny(other)) => {
                if any.wants_any_value(&other) {
                    *any = other;
                }
            }
            (Aggregate::Spread(spread, _), Aggregate::Spread(other, _)) => spread.merge(&other),
            (Aggregate::Percentiles(state), Aggregate::Percentiles(other)) => {
                // Sorted stably at the end: the concatenation in input
                // order sorts as one pass's list does.
                state.values.extend(other.values);
            }
            // States of different aggregates: the compiler never pairs them.
            (_, _) => {}
        }
    }

    /// The result: one value, or for `arg_min`/`arg_max` the extreme value
    /// followed by the carried ones (`width` of them, null when no row had a
    /// non-null value).
    pub fn finish(self, width: usize) -> Vec<Value> {
        match self {
            Aggregate::Count(n) | Aggregate::DCount(_, n) => vec![Value::Long(n)],
            Aggregate::Hll { items, .. } => vec![crate::functions::sketch::hll_sketch(items)],
            Aggregate::TDigest { values, .. } => {
                vec![crate::functions::sketch::tdigest_sketch(values)]
            }
            Aggregate::Sum(total) => vec![total],
            Aggregate::AvgDecimal(sum, n) => vec![match sum {
                Value::Decimal(total) if n > 0 => total
                    .checked_div(Decimal::from_i64(n))
                    .map_or(Value::Null, Value::Decimal),
                _ => Value::Null,
            }],
            Aggregate::Avg(sum, n) => vec![if n == 0 {
                Value::Null
            } else {
                Value::Real(sum / n as f64)
            }],
            Aggregate::Min(v) | Aggregate::Max(v) | Aggregate::TakeAny(v) => vec![v],
            Aggregate::ArgMin(best, mut carried) | Aggregate::ArgMax(best, mut carried) => {
                carried.resize(width, Value::Null);
                std::iter::once(best).chain(carried).collect()
            }
            Aggregate::MakeSet(_, items, _)
            | Aggregate::MakeList(items, _)
            | Aggregate::MakeListWithNulls(items, _) => {
                vec![Value::array(items)]
            }
            // Over no bags, an empty array, as summarize-operator.md's
            // table of default values says for every make_* aggregate.
            Aggregate::MakeBag(bag, _) if bag.is_empty() => vec![Value::array(Vec::new())],
            Aggregate::MakeBag(bag, _) => vec![Value::Bag(std::sync::Arc::new(bag))],
            Aggregate::Spread(spread, dispersion) => {
                vec![Value::Real(spread.result(dispersion))]
            }
            Aggregate::Percentiles(state) => state.finish(),
        }
    }
}

/// The elements an array contributes to `make_set`/`make_list` (arrays are
/// flattened one level, as Kusto does); any other value contributes itself.
fn flatten(value: &Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items.iter().cloned().collect(),
        other => vec![other.clone()],
    }
}

pub(crate) fn as_f64(value: &Value) -> Option<f64> {
    match value {
        Value::Int(n) => Some(f64::from(*n)),
        Value::Long(n) => Some(*n as f64),
        Value::Real(x) => Some(*x),
        _ => None,
    }
}

/// The order of `sort`/`top`: `descending` reverses values; nulls go first
/// or last as asked, independently of the direction. Values of different
/// kinds order by kind (numbers, then strings, ...), so the order is total.
pub fn sort_order(a: &Value, b: &Value, descending: bool, nulls_first: bool) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => return Ordering::Equal,
        (true, false) => {
            return if nulls_first {
                Ordering::Less
            } else {
                Ordering::Greater
            }
        }
        (false, true) => {
            return if nulls_first {
                Ordering::Greater
            } else {
                Ordering::Less
            }
        }
        _ => {}
    }
    let order = compare_values(a, b);
    if descending {
        order.reverse()
    } else {
        order
    }
}

pub(crate) fn kind_rank(value: &Value) -> u8 {
    match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) | Value::Long(_) | Value::Real(_) | Value::Decimal(_) => 2,
        Value::DateTime(_) => 3,
        Value::TimeSpan(_) => 4,
        Value::String(_) => 5,
        Value::Guid(_) => 6,
        Value::Array(_) => 7,
        Value::Bag(_) => 8,
    }
}

/// A total order on non-null values: numbers by value (NaN last), strings
/// by ordinal (byte) order, dynamic arrays and bags by their JSON text.
fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
            as_i64(a).cmp(&as_i64(b))
        }
        (
            Value::Int(_) | Value::Long(_) | Value::Real(_),
            Value::Int(_) | Value::Long(_) | Value::Real(_),
        ) => {
            let (x, y) = (as_f64(a).unwrap_or(f64::NAN), as_f64(b).unwrap_or(f64::NAN));
            x.partial_cmp(&y)
                .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan()))
        }
        (Value::Decimal(_), _) | (_, Value::Decimal(_)) if kind_rank(a) == kind_rank(b) => {
            ops::compare_numbers(a, b).unwrap_or_else(|| {
                // A NaN real against a decimal: NaN last, as above.
                let nan = |v: &Value| matches!(v, Value::Real(x) if x.is_nan());
                nan(a).cmp(&nan(b))
            })
        }
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.as_str().cmp(y.as_str()),
        (Value::Guid(x), Value::Guid(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        (Value::Array(_) | Value::Bag(_), Value::Array(_) | Value::Bag(_))
            if kind_rank(a) == kind_rank(b) =>
        {
            text::to_string(a).cmp(&text::to_string(b))
        }
        _ => kind_rank(a).cmp(&kind_rank(b)),
    }
}

fn as_i64(value: &Value) -> i64 {
    match value {
        Value::Int(n) => i64::from(*n),
        Value::Long(n) => *n,
        _ => 0,
    }
}

/// How one sort key orders rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SortKey {
    /// `desc` (the default of `sort` and `top`).
    pub descending: bool,
    /// `nulls first` (the default for `asc`; `nulls last` for `desc`).
    pub nulls_first: bool,
}

/// Rows waiting to be sorted, each with its key values.
///
/// With a limit (`top N`) the buffer is cut back to the first N rows of the
/// order whenever it doubles, so memory stays proportional to N, not to the
/// input.
#[derive(Debug, Default)]
pub struct SortBuffer {
    rows: Vec<(Vec<Value>, Row)>,
}

impl SortBuffer {
    /// Adds a row with its key values.
    pub fn push(&mut self, keys: Vec<Value>, row: Row, order: &[SortKey], limit: Option<u64>) {
        self.rows.push((keys, row));
        if let Some(limit) = limit.map(|n| usize::try_from(n).unwrap_or(usize::MAX)) {
            if self.rows.len() >= limit.saturating_mul(2).max(1024) {
                self.sort(order);
                self.rows.truncate(limit);
            }
        }
    }

    fn sort(&mut self, order: &[SortKey]) {
        // A stable sort: rows with equal keys keep their input order.
        self.rows.sort_by(|(a, _), (b, _)| {
            for ((x, y), key) in a.iter().zip(b).zip(order) {
                let o = sort_order(x, y, key.descending, key.nulls_first);
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    /// Takes the rows out in order (at most `limit` of them).
    pub fn finish(&mut self, order: &[SortKey], limit: Option<u64>) -> Vec<Row> {
        self.sort(order);
        if let Some(limit) = limit {
            self.rows
                .truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        }
        std::mem::take(&mut self.rows)
            .into_iter()
            .map(|(_, row)| row)
            .collect()
    }
}

/// Merges the aggregate states of a group over later rows (`later`) into
/// those over earlier ones (`states`), aggregate by aggregate (see
/// [`Aggregate::merge`]).
// `&mut Vec`: the function is passed as `Groups::merge`'s `FnMut(&mut S, S)`
// with `S = Vec<Aggregate>`.
#[allow(clippy::ptr_arg)]
pub fn merge_all(states: &mut Vec<Aggregate>, later: Vec<Aggregate>) {
    for (state, later) in states.iter_mut().zip(later) {
        state.merge(later);
    }
}

/// The output values of a group's aggregates, in order; `widths[i]` is how
/// many columns aggregate `i` gives (more than one for `arg_max`).
pub fn finish_all(states: Vec<Aggregate>, widths: &[usize]) -> Vec<Value> {
    states
        .into_iter()
        .zip(widths)
        .flat_map(|(state, &width)| state.finish(width.saturating_sub(1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every mergeable aggregate, over `rows` (value, carried) in one pass
    /// and split at every point then merged, gives the same result.
    #[test]
    fn merged_states_equal_one_pass_at_every_split() {
        let s = |text: &str| Value::from(text.to_string());
        let rows: Vec<(Value, Vec<Value>)> = vec![
            (Value::Null, vec![s("n0")]),
            (Value::Long(3), vec![s("a")]),
            (Value::Long(1), vec![s("b")]),
            (Value::Long(3), vec![s("c")]),
            (Value::Null, vec![s("d")]),
            (Value::Long(1), vec![s("e")]),
            (Value::Long(7), vec![s("f")]),
            (Value::Long(7), vec![s("g")]),
        ];
        let makers: Vec<fn() -> Aggregate> = vec![
            Aggregate::count,
            Aggregate::dcount,
            Aggregate::sum_long,
            Aggregate::min,
            Aggregate::max,
            Aggregate::arg_min,
            Aggregate::arg_max,
            Aggregate::take_any,
            || Aggregate::make_set(&Value::Null),
            || Aggregate::make_set(&Value::Long(2)),
            || Aggregate::make_list(&Value::Null),
            || Aggregate::make_list(&Value::Long(3)),
            Aggregate::make_list_with_nulls,
            || Aggregate::percentiles(&Value::Long(50)),
        ];
        for make in makers {
            let mut one = make();
            for (value, also) in &rows {
                one.add(value, also);
            }
            let expected = format!("{:?}", one.finish(1));
            for split in 0..=rows.len() {
                for cut in split..=rows.len() {
                    let mut parts = [make(), make(), make()];
                    for (i, (value, also)) in rows.iter().enumerate() {
                        let part = usize::from(i >= split) + usize::from(i >= cut);
                        parts[part].add(value, also);
                    }
                    let [mut first, second, third] = parts;
                    first.merge(second);
                    first.merge(third);
                    let merged = format!("{:?}", first.finish(1));
                    assert_eq!(merged, expected, "split at {split} and {cut}");
                }
            }
        }
    }

    #[test]
    fn merged_groups_keep_first_seen_order() {
        let key = |k: i64| vec![Value::Long(k)];
        let mut first: Groups<i64> = Groups::default();
        *first.entry(key(2), || 0) += 1;
        *first.entry(key(1), || 0) += 1;
        let mut later: Groups<i64> = Groups::default();
        *later.entry(key(3), || 0) += 10;
        *later.entry(key(1), || 0) += 10;
        *later.entry(key(4), || 0) += 10;
        first.merge(later, |a, b| *a += b);
        let groups: Vec<(i64, i64)> = first
            .drain()
            .into_iter()
            .map(|(k, n)| (if let Value::Long(k) = k[0] { k } else { -1 }, n))
            .collect();
        assert_eq!(groups, vec![(2, 1), (1, 11), (3, 10), (4, 10)]);
    }

    #[test]
    fn borrowed_keys_group_as_owned_ones_do() {
        let rows = [
            [Value::from_static("b"), Value::Long(1)],
            [Value::Null, Value::Int(1)],
            [Value::from_static("b"), Value::Long(1)],
            [Value::Null, Value::Long(1)],
            [Value::from_static("b"), Value::Real(1.0)],
        ];
        let (mut owned, mut borrowed): (Groups<i64>, Groups<i64>) = Default::default();
        for row in &rows {
            *owned.entry(row.to_vec(), || 0) += 1;
            *borrowed.entry_ref(&[&row[0], &row[1]], || 0) += 1;
        }
        let (owned, borrowed) = (owned.drain(), borrowed.drain());
        assert_eq!(owned.len(), 3, "{owned:?}");
        assert_eq!(format!("{owned:?}"), format!("{borrowed:?}"));
    }

    #[test]
    fn groups_keep_first_seen_order_and_null_is_a_key() {
        let mut groups: Groups<i64> = Groups::default();
        for key in [
            Value::from_static("b"),
            Value::Null,
            Value::from_static("b"),
            Value::Null,
            Value::from_static("a"),
        ] {
            *groups.entry(vec![key], || 0) += 1;
        }
        let drained = groups.drain();
        let keys: Vec<&Value> = drained.iter().map(|(k, _)| &k[0]).collect();
        assert_eq!(
            keys,
            [
                &Value::from_static("b"),
                &Value::Null,
                &Value::from_static("a")
            ]
        );
        assert_eq!(
            drained.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            [2, 2, 1]
        );
    }

    #[test]
    fn aggregates_ignore_nulls_except_count() {
        let values = [Value::Long(3), Value::Null, Value::Long(1), Value::Long(3)];
        let run = |mut agg: Aggregate| {
            for v in &values {
                agg.add(v, &[]);
            }
            agg.finish(0)
        };
        assert_eq!(run(Aggregate::count()), [Value::Long(4)]);
        assert_eq!(run(Aggregate::dcount()), [Value::Long(2)]);
        assert_eq!(run(Aggregate::sum()), [Value::Long(7)]);
        assert_eq!(run(Aggregate::avg()), [Value::Real(7.0 / 3.0)]);
        assert_eq!(run(Aggregate::min()), [Value::Long(1)]);
        assert_eq!(run(Aggregate::max()), [Value::Long(3)]);
        assert_eq!(
            run(Aggregate::make_set(&Value::Null)),
            [Value::array(vec![Value::Long(3), Value::Long(1)])]
        );
        assert_eq!(
            run(Aggregate::make_list(&Value::Long(2))),
            [Value::array(vec![Value::Long(3), Value::Long(1)])]
        );
        assert_eq!(
            run(Aggregate::percentile(&Value::Long(50))),
            [Value::Long(3)]
        );
        let mut empty = Aggregate::sum();
        empty.add(&Value::Null, &[]);
        assert_eq!(empty.finish(0), [Value::Null]);
    }

    #[test]
    fn spread_divides_by_n_minus_one_or_n_and_is_zero_without_spread() {
        let run = |agg: fn() -> Aggregate, values: &[i64]| {
            let mut agg = agg();
            for v in values {
                agg.add(&Value::Long(*v), &[]);
            }
            agg.add(&Value::Null, &[]);
            agg.finish(0)
        };
        let five = [2, 4, 6, 8, 10];
        assert_eq!(run(Aggregate::variance, &five), [Value::Real(10.0)]);
        assert_eq!(run(Aggregate::variancep, &five), [Value::Real(8.0)]);
        assert_eq!(run(Aggregate::stdevp, &five), [Value::Real(8f64.sqrt())]);
        assert_eq!(run(Aggregate::stdev, &[7]), [Value::Real(0.0)]);
        assert_eq!(run(Aggregate::variance, &[]), [Value::Real(0.0)]);
        // Welford keeps the spread of large, close values exact.
        let mut agg = Aggregate::variance();
        for x in [1e9 + 0.5, 1e9 + 1.5, 1e9 + 2.5] {
            agg.add(&Value::Real(x), &[]);
        }
        assert_eq!(agg.finish(0), [Value::Real(1.0)]);
    }

    #[test]
    fn percentiles_take_the_nearest_rank_by_weight() {
        let ps = Value::array(vec![Value::Long(0), Value::Long(95), Value::Real(100.0)]);
        // 95% of 20 values is exactly rank 19, not 20.
        let mut agg = Aggregate::percentiles(&ps);
        for v in (1..=20).rev() {
            agg.add(&Value::Int(v), &[]);
        }
        assert_eq!(
            agg.finish(0),
            [Value::Long(1), Value::Long(19), Value::Long(20)]
        );
        let mut weighted = Aggregate::percentiles_array(&Value::Long(50));
        weighted.add(&Value::Long(1), &[Value::Long(3)]);
        weighted.add(&Value::Long(2), &[Value::Long(4)]);
        weighted.add(&Value::Long(9), &[Value::Long(0)]);
        weighted.add(&Value::Long(9), &[Value::Null]);
        assert_eq!(weighted.finish(0), [Value::array(vec![Value::Long(2)])]);
        assert_eq!(
            Aggregate::percentiles_array(&Value::Long(50)).finish(0),
            [Value::Null]
        );
    }

    #[test]
    fn arg_max_carries_the_row_of_the_largest_value() {
        let mut agg = Aggregate::arg_max();
        agg.add(&Value::Long(1), &[Value::from_static("a")]);
        agg.add(&Value::Long(5), &[Value::from_static("b")]);
        agg.add(&Value::Long(5), &[Value::from_static("c")]);
        assert_eq!(agg.finish(1), [Value::Long(5), Value::from_static("b")]);
    }

    #[test]
    fn sort_puts_nulls_where_asked_and_is_stable() {
        let order = [SortKey {
            descending: true,
            nulls_first: false,
        }];
        let mut buffer = SortBuffer::default();
        for (i, v) in [Value::Long(1), Value::Null, Value::Long(3), Value::Long(1)]
            .into_iter()
            .enumerate()
        {
            buffer.push(vec![v], vec![Value::Long(i as i64)], &order, None);
        }
        let rows: Vec<Value> = buffer
            .finish(&order, None)
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(
            rows,
            [
                Value::Long(2),
                Value::Long(0),
                Value::Long(3),
                Value::Long(1)
            ]
        );
    }

    #[test]
    fn top_keeps_bounded_memory_and_the_right_rows() {
        let order = [SortKey {
            descending: true,
            nulls_first: false,
        }];
        let mut buffer = SortBuffer::default();
        for i in 0..10_000 {
            buffer.push(
                vec![Value::Long(i % 997)],
                vec![Value::Long(i)],
                &order,
                Some(3),
            );
            assert!(buffer.rows.len() <= 2048);
        }
        let keys: Vec<Value> = buffer
            .finish(&order, Some(3))
            .into_iter()
            .map(|r| {
                Value::Long(match r[0] {
                    Value::Long(i) => i % 997,
                    _ => -1,
                })
            })
            .collect();
        assert_eq!(keys, vec![Value::Long(996); 3]);
    }
}

/// `sample N`: a uniform random choice of N of the rows offered (all of
/// them when there are at most N), by reservoir sampling: memory holds N
/// rows whatever the input size. `finish` gives them in input order.
#[derive(Debug, Default)]
pub struct Reservoir {
    /// Rows offered so far.
    seen: u64,
    /// The rows held, with their position in the input.
    rows: Vec<(u64, Row)>,
    /// xorshift64* state; seeded on first use (0: not yet).
    state: u64,
}

impl Reservoir {
    /// Offers a row to a sample of `n`.
    pub fn offer(&mut self, n: u64, row: Row) {
        let index = self.seen;
        self.seen += 1;
        if (self.rows.len() as u64) < n {
            self.rows.push((index, row));
            return;
        }
        if n == 0 {
            return;
        }
        // Row i (0-based) replaces a held row with probability n / (i + 1).
        let pick = self.next_random() % (index + 1);
        if pick < n {
            self.rows[pick as usize] = (index, row);
        }
    }

    /// The rows held, in input order.
    pub fn finish(mut self) -> Vec<Row> {
        self.rows.sort_by_key(|(index, _)| *index);
        self.rows.into_iter().map(|(_, row)| row).collect()
    }

    /// The next pseudo-random number (`sample` needs no cryptographic
    /// quality, only a different choice from run to run).
    fn next_random(&mut self) -> u64 {
        if self.state == 0 {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let counter = SAMPLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.state = (nanos ^ counter.rotate_left(32)) | 1;
        }
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Reservoirs seeded so far: two seeded in the same nanosecond differ.
static SAMPLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

#[cfg(test)]
mod reservoir_tests {
    use super::*;

    #[test]
    fn a_sample_holds_n_distinct_rows_in_input_order() {
        let mut reservoir = Reservoir::default();
        for i in 0..1000 {
            reservoir.offer(10, vec![Value::Long(i)]);
        }
        let rows = reservoir.finish();
        assert_eq!(rows.len(), 10);
        let values: Vec<i64> = rows
            .iter()
            .map(|r| match r[0] {
                Value::Long(v) => v,
                _ => panic!("not a long"),
            })
            .collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
        // Fewer rows than N: all of them.
        let mut small = Reservoir::default();
        for i in 0..3 {
            small.offer(10, vec![Value::Long(i)]);
        }
        assert_eq!(small.finish().len(), 3);
    }

    #[test]
    fn every_row_can_be_picked() {
        // 2000 samples of 1 row out of 4: each row is chosen sometimes.
        let mut chosen = [0u32; 4];
        for _ in 0..2000 {
            let mut reservoir = Reservoir::default();
            for i in 0..4 {
                reservoir.offer(1, vec![Value::Long(i)]);
            }
            if let Value::Long(v) = reservoir.finish()[0][0] {
                chosen[v as usize] += 1;
            }
        }
        assert!(chosen.iter().all(|&c| c > 100), "{chosen:?}");
    }
}
