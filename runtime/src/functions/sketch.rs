//! HyperLogLog sketches (`hll-aggregate-function.md`, `hll-merge-*`,
//! `dcount-hll-function.md`). Kusto's sketch bytes are not documented, so
//! kqlc's sketch is its own dynamic value: a bag `{"kqlc_hll": [...]}`
//! holding the distinct non-null values. `dcount_hll` of it is kqlc's
//! `dcount` of those values (exact), and merging sketches is the union, so
//! `dcount_hll(hll_merge(hll(a), hll(b)))` is `dcount` over both row sets.
//! These sketches cannot be exchanged with Kusto's (`docs/semantics.md`).
//!
//! T-digests (`tdigest-aggregate-function.md`, `tdigest-merge-*`,
//! `percentile-tdigest-function.md` and the other `*_tdigest` scalars) are
//! kept exact the same way: a bag `{"kqlc_tdigest": [[value, weight], ...]}`
//! holding every distinct non-null value, sorted, with its total weight.
//! Merging digests adds their entries, and `percentile_tdigest` is the
//! nearest-rank percentile `percentile`/`percentilew` give, so
//! `percentile_tdigest(tdigest(x), p)` is `percentile(x, p)`.

use crate::aggregate::{as_f64, kind_rank, nearest_rank, sort_order, Seen};
use crate::value::{Bag, Str, Value};
use std::sync::Arc;

/// The key of kqlc's sketch bag.
const HLL_KEY: &str = "kqlc_hll";

/// A sketch holding these distinct values.
pub fn hll_sketch(items: Vec<Value>) -> Value {
    let mut bag = Bag::new();
    bag.insert(Str::Static(HLL_KEY), Value::array(items));
    Value::Bag(Arc::new(bag))
}

/// The distinct values a sketch holds; `None` when `value` is not one.
pub fn hll_items(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Bag(bag) => match bag.get(HLL_KEY) {
            Some(Value::Array(items)) => Some(items.as_slice()),
            _ => None,
        },
        _ => None,
    }
}

/// `dcount_hll(sketch)`: the distinct count the sketch holds; null for a
/// value that is not a sketch.
pub fn dcount_hll(sketch: &Value) -> Value {
    match hll_items(sketch) {
        Some(items) => Value::Long(items.len() as i64),
        None => Value::Null,
    }
}

/// `hll_merge(sketch, sketch, ...)`: one sketch of the union. Null
/// arguments are skipped; any other value that is not a sketch makes the
/// result null.
pub fn hll_merge(sketches: &[Value]) -> Value {
    let mut seen = Seen::default();
    let mut items = Vec::new();
    for sketch in sketches {
        if sketch.is_null() {
            continue;
        }
        let Some(values) = hll_items(sketch) else {
            return Value::Null;
        };
        for value in values {
            if seen.first_time(std::slice::from_ref(value)) {
                items.push(value.clone());
            }
        }
    }
    hll_sketch(items)
}

/// The key of kqlc's t-digest bag.
const TDIGEST_KEY: &str = "kqlc_tdigest";

/// Sorts weighted values and adds up the weights of equal ones.
fn compact(values: &mut Vec<(Value, u64)>) {
    values.sort_by(|(a, _), (b, _)| sort_order(a, b, false, true));
    let mut kept: Vec<(Value, u64)> = Vec::with_capacity(values.len());
    for (value, weight) in values.drain(..) {
        match kept.last_mut() {
            Some((last, total)) if *last == value => *total = total.saturating_add(weight),
            _ => kept.push((value, weight)),
        }
    }
    *values = kept;
}

/// Keeps a growing digest state small: at every power of two from 4096
/// values on, equal values are combined (a column of few distinct values
/// then takes little memory however many rows it has).
pub(crate) fn tdigest_bound(values: &mut Vec<(Value, u64)>) {
    if values.len() >= 4096 && values.len().is_power_of_two() {
        compact(values);
    }
}

/// A digest of these weighted values (sorted and combined here).
pub fn tdigest_sketch(mut values: Vec<(Value, u64)>) -> Value {
    compact(&mut values);
    let entries = values
        .into_iter()
        .map(|(value, weight)| {
            Value::array(vec![
                value,
                Value::Long(i64::try_from(weight).unwrap_or(i64::MAX)),
            ])
        })
        .collect();
    let mut bag = Bag::new();
    bag.insert(Str::Static(TDIGEST_KEY), Value::array(entries));
    Value::Bag(Arc::new(bag))
}

/// The weighted values of a digest, in its (sorted) order; `None` when
/// `value` is not one (entries that are not `[value, positive weight]`
/// make it not one either).
pub fn tdigest_entries(value: &Value) -> Option<Vec<(Value, u64)>> {
    let Value::Bag(bag) = value else {
        return None;
    };
    let Some(Value::Array(entries)) = bag.get(TDIGEST_KEY) else {
        return None;
    };
    entries
        .iter()
        .map(|entry| match entry {
            Value::Array(pair) => match pair.as_slice() {
                [value, Value::Long(weight)] if *weight > 0 && !value.is_null() => {
                    Some((value.clone(), *weight as u64))
                }
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The entries and total weight of a digest that holds values.
fn filled(digest: &Value) -> Option<(Vec<(Value, u64)>, u128)> {
    let entries = tdigest_entries(digest)?;
    let total: u128 = entries.iter().map(|(_, w)| u128::from(*w)).sum();
    (total > 0).then_some((entries, total))
}

/// `percentile_tdigest(digest, p)`: the nearest-rank percentile `p` of the
/// digest's values (what `percentile` gives). Null for an empty digest, a
/// value that is not a digest, or `p` outside 0..=100.
pub fn percentile_tdigest(digest: &Value, p: &Value) -> Value {
    match (filled(digest), as_f64(p)) {
        (Some((entries, total)), Some(p)) => nearest_rank(&entries, total, p),
        _ => Value::Null,
    }
}

/// `percentile_array_tdigest(digest, p1, p2, ...)` or with one dynamic
/// array of percentiles: an array of the percentiles (null for a
/// percentile that is not a number in 0..=100). Null for an empty digest
/// or a value that is not a digest.
pub fn percentile_array_tdigest(args: &[Value]) -> Value {
    let Some((digest, ps)) = args.split_first() else {
        return Value::Null;
    };
    let Some((entries, total)) = filled(digest) else {
        return Value::Null;
    };
    let ps: Vec<&Value> = match ps {
        [Value::Array(items)] => items.iter().collect(),
        _ => ps.iter().collect(),
    };
    Value::array(
        ps.into_iter()
            .map(|p| as_f64(p).map_or(Value::Null, |p| nearest_rank(&entries, total, p)))
            .collect(),
    )
}

/// The total weight of a digest's values at or below `value`, and the
/// digest's total weight. `None` for an empty digest, a value that is not
/// a digest, or a null `value` or one of another kind than the digest's
/// values (a string against numbers).
fn rank(digest: &Value, value: &Value) -> Option<(u128, u128)> {
    let (entries, total) = filled(digest)?;
    if value.is_null()
        || entries
            .iter()
            .all(|(v, _)| kind_rank(v) != kind_rank(value))
    {
        return None;
    }
    let below = entries
        .iter()
        .filter(|(v, _)| {
            kind_rank(v) == kind_rank(value) && sort_order(v, value, false, true).is_le()
        })
        .map(|(_, w)| u128::from(*w))
        .sum();
    Some((below, total))
}

/// `rank_tdigest(digest, value)`: how many of the digest's values (by
/// weight) are at or below `value`.
pub fn rank_tdigest(digest: &Value, value: &Value) -> Value {
    match rank(digest, value) {
        Some((below, _)) => Value::Long(i64::try_from(below).unwrap_or(i64::MAX)),
        None => Value::Null,
    }
}

/// `percentrank_tdigest(digest, value)`: `rank_tdigest` as a percentage
/// of the digest's total weight.
pub fn percentrank_tdigest(digest: &Value, value: &Value) -> Value {
    match rank(digest, value) {
        Some((below, total)) => Value::Real(below as f64 * 100.0 / total as f64),
        None => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_rank_and_take_percentiles_exactly() {
        let digest = tdigest_sketch(vec![
            (Value::Long(5), 1),
            (Value::Long(1), 2),
            (Value::Long(5), 1),
            (Value::Long(3), 4),
        ]);
        assert_eq!(
            tdigest_entries(&digest),
            Some(vec![
                (Value::Long(1), 2),
                (Value::Long(3), 4),
                (Value::Long(5), 2)
            ])
        );
        // Ranks 1-2 are 1, 3-6 are 3, 7-8 are 5.
        assert_eq!(
            percentile_tdigest(&digest, &Value::Long(25)),
            Value::Long(1)
        );
        assert_eq!(
            percentile_tdigest(&digest, &Value::Real(50.0)),
            Value::Long(3)
        );
        assert_eq!(percentile_tdigest(&digest, &Value::Long(101)), Value::Null);
        assert_eq!(
            percentile_array_tdigest(&[digest.clone(), Value::Long(0), Value::Long(100)]),
            Value::array(vec![Value::Long(1), Value::Long(5)])
        );
        assert_eq!(rank_tdigest(&digest, &Value::Long(4)), Value::Long(6));
        assert_eq!(rank_tdigest(&digest, &Value::Long(0)), Value::Long(0));
        assert_eq!(
            percentrank_tdigest(&digest, &Value::Real(3.0)),
            Value::Real(75.0)
        );
        assert_eq!(rank_tdigest(&digest, &Value::from_static("x")), Value::Null);
        assert_eq!(
            percentile_tdigest(&Value::Long(1), &Value::Long(50)),
            Value::Null
        );
        let empty = tdigest_sketch(Vec::new());
        assert_eq!(percentile_tdigest(&empty, &Value::Long(50)), Value::Null);
        assert_eq!(rank_tdigest(&empty, &Value::Long(1)), Value::Null);
    }

    #[test]
    fn merged_sketches_count_the_union() {
        let a = hll_sketch(vec![Value::Long(1), Value::Long(2)]);
        let b = hll_sketch(vec![Value::Long(2), Value::Long(3)]);
        assert_eq!(
            dcount_hll(&hll_merge(&[a.clone(), Value::Null, b])),
            Value::Long(3)
        );
        assert_eq!(dcount_hll(&a), Value::Long(2));
        assert_eq!(dcount_hll(&Value::Long(4)), Value::Null);
        assert_eq!(hll_merge(&[a, Value::from_static("x")]), Value::Null);
    }
}
