//! Dynamic-array functions: `array_concat`, `array_slice`, `array_split`,
//! `array_index_of`, `array_reverse`, `array_rotate_left`/`right`,
//! `array_shift_left`/`right`, `array_sort_asc`/`desc`, `array_sum`,
//! `array_iff`, `set_has_element`, `set_union`, `set_intersect`,
//! `set_difference`, `jaccard_index`, `zip`, `repeat`, `range`.
//!
//! Elements are compared as [`same_element`] says: the set functions and
//! `array_index_of` treat int and long as one type and compare everything
//! else by type and value (strings case-sensitively), so `1` and `"1"` are
//! different elements.

use std::cmp::Ordering;
use std::sync::Arc;

use super::{integer_arg, real_arg};
use crate::ops;
use crate::text::datetime_checked;
use crate::value::{TimeSpan, Value};

fn array(items: Vec<Value>) -> Value {
    Value::Array(Arc::new(items))
}

/// The elements of a dynamic array, or `None` for anything else.
fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

/// Whether two array elements are the same for the set functions and
/// `array_index_of`: int and long compare by value; reals by value (and NaN
/// equals NaN, so that sets stay sets); guids case-insensitively; arrays and
/// bags by structure; any other pair only when type and value agree.
pub fn same_element(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(_) | Value::Long(_), Value::Int(_) | Value::Long(_)) => {
            integer_arg(a) == integer_arg(b)
        }
        (Value::Real(x), Value::Real(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Guid(x), Value::Guid(y)) => x.eq_ignore_ascii_case(y),
        (Value::Array(_), Value::Array(_)) | (Value::Bag(_), Value::Bag(_)) => {
            ops::is_true(&ops::eq(a, b))
        }
        _ => a == b,
    }
}

/// `array_concat(arr, ...)` (`array-concat-function.md`), arguments as a
/// slice: one array of the elements of all arguments, in order. An argument
/// that is not an array (null included) gives null (the reference is
/// silent).
pub fn array_concat(args: &[Value]) -> Value {
    let mut out = Vec::new();
    for arg in args {
        let Some(items) = items(arg) else {
            return Value::Null;
        };
        out.extend_from_slice(items);
    }
    array(out)
}

/// An index that may count from the end (`len + index` when negative).
fn from_end(index: i64, len: usize) -> i64 {
    if index < 0 {
        index.saturating_add(len as i64)
    } else {
        index
    }
}

/// `array_slice(array, start, end)` (`array-slice-function.md`): the
/// elements from `start` to `end`, both inclusive; negative indexes count
/// from the end (`array_slice([1,2,3,4,5], -3, -2)` is `[3,4]`). "Out of
/// bounds indices are ignored": the range is clipped to the array, and an
/// empty range gives `[]`. A non-array, or a null or non-integer index, gives
/// null.
pub fn array_slice(arr: &Value, start: &Value, end: &Value) -> Value {
    let (Some(items), Some(start), Some(end)) = (items(arr), integer_arg(start), integer_arg(end))
    else {
        return Value::Null;
    };
    let len = items.len();
    let start = from_end(start, len).max(0);
    let end = from_end(end, len).min(len as i64 - 1);
    if start > end {
        return array(Vec::new());
    }
    array(items[start as usize..=end as usize].to_vec())
}

/// `array_split(array, index)` (`array-split-function.md`): the array cut
/// at the given index, or at each index of an array of indexes, into N+1
/// arrays `[0..i1), [i1..i2), ... [iN..len)` (`array_split([1,2,3,4,5],
/// dynamic([1,3]))` is `[[1],[2,3],[4,5]]`). Negative indexes count from
/// the end; indexes are clipped to the array and to the previous index. A
/// non-array, or an index that is not an integer, gives null.
pub fn array_split(arr: &Value, index: &Value) -> Value {
    let Some(elements) = items(arr) else {
        return Value::Null;
    };
    let cuts: Vec<i64> = match index {
        Value::Array(list) => {
            let mut cuts = Vec::with_capacity(list.len());
            for i in list.iter() {
                match integer_arg(i) {
                    Some(i) => cuts.push(i),
                    None => return Value::Null,
                }
            }
            cuts
        }
        other => match integer_arg(other) {
            Some(i) => vec![i],
            None => return Value::Null,
        },
    };
    let len = elements.len();
    let mut parts = Vec::with_capacity(cuts.len() + 1);
    let mut from = 0usize;
    for cut in cuts {
        let to = (from_end(cut, len).clamp(0, len as i64) as usize).max(from);
        parts.push(array(elements[from..to].to_vec()));
        from = to;
    }
    parts.push(array(elements[from..].to_vec()));
    array(parts)
}

/// `array_index_of(array, value [, start [, length [, occurrence]]])`
/// (`array-index-of-function.md`), arguments as a slice: the zero-based
/// position of `value` in `array` (elements compared as
/// [`same_element`]), as a long; -1 when it is not found.
///
/// The optional `start` (default 0) may count from the end, `length`
/// (default -1, unlimited) limits how many elements are examined, and
/// `occurrence` (default 1) picks a later match. Null when `array` is not
/// an array, when `length` is below -1 or `occurrence` below 1, or when an
/// optional argument is null. A start past the end gives -1, and a
/// negative start before the beginning starts at 0.
pub fn array_index_of(args: &[Value]) -> Value {
    let (Some(elements), Some(value)) = (args.first().and_then(items), args.get(1)) else {
        return Value::Null;
    };
    let optional = |i: usize, default: i64| match args.get(i) {
        None => Some(default),
        Some(v) => integer_arg(v),
    };
    let (Some(start), Some(length), Some(occurrence)) =
        (optional(2, 0), optional(3, -1), optional(4, 1))
    else {
        return Value::Null;
    };
    if length < -1 || occurrence < 1 {
        return Value::Null;
    }
    let len = elements.len() as i64;
    let start = from_end(start, elements.len()).max(0);
    if start >= len {
        return Value::Long(-1);
    }
    let end = if length == -1 {
        len
    } else {
        start.saturating_add(length).min(len)
    };
    let found = elements[start as usize..end as usize]
        .iter()
        .enumerate()
        .filter(|(_, e)| same_element(e, value))
        .nth(usize::try_from(occurrence - 1).unwrap_or(usize::MAX));
    Value::Long(found.map_or(-1, |(i, _)| start + i as i64))
}

/// `set_has_element(set, value)` (`set-has-element-function.md`): whether
/// `value` is an element of the array `set` (compared as
/// [`same_element`]). A `set` that is not an array gives null.
pub fn set_has_element(set: &Value, value: &Value) -> Value {
    match items(set) {
        Some(elements) => Value::Bool(elements.iter().any(|e| same_element(e, value))),
        None => Value::Null,
    }
}

/// Appends the elements of `from` that `out` does not hold yet.
fn push_distinct(out: &mut Vec<Value>, from: &[Value]) {
    for e in from {
        if !out.iter().any(|o| same_element(o, e)) {
            out.push(e.clone());
        }
    }
}

/// The arrays of a set function's arguments, or `None` when one is not an
/// array.
fn all_arrays(args: &[Value]) -> Option<Vec<&[Value]>> {
    args.iter().map(items).collect()
}

/// `set_union(set1, set2 [, set3, ...])` (`set-union-function.md`), as a
/// slice: the distinct elements of all the arrays, in order of first
/// appearance (`set_union([1,2,1,4], [1,2], [8])` is `[1,2,4,8]`). An
/// argument that is not an array gives null.
pub fn set_union(args: &[Value]) -> Value {
    let Some(arrays) = all_arrays(args) else {
        return Value::Null;
    };
    let mut out = Vec::new();
    for a in arrays {
        push_distinct(&mut out, a);
    }
    array(out)
}

/// `set_intersect(set1, set2 [, set3, ...])` (`set-intersect-function.md`):
/// the distinct elements of the first array that are in every other array,
/// in the first array's order. An argument that is not an array gives null.
pub fn set_intersect(args: &[Value]) -> Value {
    let Some(arrays) = all_arrays(args) else {
        return Value::Null;
    };
    let Some((first, rest)) = arrays.split_first() else {
        return array(Vec::new());
    };
    let mut distinct = Vec::new();
    push_distinct(&mut distinct, first);
    distinct.retain(|e| rest.iter().all(|r| r.iter().any(|x| same_element(x, e))));
    array(distinct)
}

/// `set_difference(set1, set2 [, set3, ...])` (`set-difference-function.md`):
/// the distinct elements of the first array that are in none of the others,
/// in the first array's order (`set_difference([1,2,3], [1,2,3])` is `[]`).
/// An argument that is not an array gives null.
pub fn set_difference(args: &[Value]) -> Value {
    let Some(arrays) = all_arrays(args) else {
        return Value::Null;
    };
    let Some((first, rest)) = arrays.split_first() else {
        return array(Vec::new());
    };
    let mut distinct = Vec::new();
    push_distinct(&mut distinct, first);
    distinct.retain(|e| !rest.iter().any(|r| r.iter().any(|x| same_element(x, e))));
    array(distinct)
}

/// `jaccard_index(set1, set2)` (`jaccard-index-function.md`): |set1 ∩ set2| /
/// |set1 ∪ set2| of the distinct elements, as a real
/// (`jaccard_index([1,2,3], [1,2,3,4])` is 0.75). Two empty sets give NaN
/// (0 / 0); a non-array gives null.
pub fn jaccard_index(a: &Value, b: &Value) -> Value {
    let (Some(x), Some(y)) = (items(a), items(b)) else {
        return Value::Null;
    };
    let mut union = Vec::new();
    push_distinct(&mut union, x);
    let mut distinct_x = Vec::new();
    push_distinct(&mut distinct_x, x);
    let common = distinct_x
        .iter()
        .filter(|e| y.iter().any(|o| same_element(o, e)))
        .count();
    push_distinct(&mut union, y);
    Value::Real(common as f64 / union.len() as f64)
}

/// `array_reverse(value)` (`array-reverse-function.md`): the elements in
/// reverse order; a non-array gives null.
pub fn array_reverse(arr: &Value) -> Value {
    items(arr).map_or(Value::Null, |e| array(e.iter().rev().cloned().collect()))
}

fn rotate(arr: &Value, count: &Value, left: bool) -> Value {
    let (Some(elements), Some(count)) = (items(arr), integer_arg(count)) else {
        return Value::Null;
    };
    let mut out = elements.to_vec();
    if !out.is_empty() {
        let len = out.len() as i64;
        let by = count.rem_euclid(len) as usize;
        if left {
            out.rotate_left(by);
        } else {
            out.rotate_right(by);
        }
    }
    array(out)
}

/// `array_rotate_left(array, rotate_count)` (`array-rotate-left-function.md`):
/// the elements rotated `rotate_count` positions to the left (negative: to
/// the right): `array_rotate_left([1,2,3,4,5], 2)` is `[3,4,5,1,2]`. A
/// non-array or a non-integer count gives null.
pub fn array_rotate_left(arr: &Value, count: &Value) -> Value {
    rotate(arr, count, true)
}

/// `array_rotate_right(array, rotate_count)`
/// (`array-rotate-right-function.md`): as [`array_rotate_left`], to the
/// right.
pub fn array_rotate_right(arr: &Value, count: &Value) -> Value {
    rotate(arr, count, false)
}

/// The default filler of `array_shift_*`: "null or an empty string
/// depending on the type of elements": `""` when every element that is not
/// null is a string (and there is one), else null.
fn shift_filler(elements: &[Value]) -> Value {
    let mut non_null = elements.iter().filter(|e| !e.is_null()).peekable();
    if non_null.peek().is_some() && non_null.all(|e| matches!(e, Value::String(_))) {
        Value::from_static("")
    } else {
        Value::Null
    }
}

fn shift(args: &[Value], left: bool) -> Value {
    let (Some(elements), Some(count)) = (
        args.first().and_then(items),
        args.get(1).and_then(integer_arg),
    ) else {
        return Value::Null;
    };
    let filler = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| shift_filler(elements));
    let len = elements.len() as i64;
    let shift = if left { count } else { count.saturating_neg() };
    let out = (0..len)
        .map(|i| match i.checked_add(shift) {
            Some(j) if (0..len).contains(&j) => elements[j as usize].clone(),
            _ => filler.clone(),
        })
        .collect();
    array(out)
}

/// `array_shift_left(array, shift_count [, default_value])`
/// (`array-shift-left-function.md`), arguments as a slice: the elements
/// moved `shift_count` positions to the left (negative: to the right), the
/// vacated positions filled with `default_value` (default null, or `""` for
/// an array of strings): `array_shift_left([1,2,3,4,5], 2)` is
/// `[3,4,5,null,null]`. A non-array or non-integer count gives null.
pub fn array_shift_left(args: &[Value]) -> Value {
    shift(args, true)
}

/// `array_shift_right(array, shift_count [, default_value])`
/// (`array-shift-right-function.md`): as [`array_shift_left`], to the right.
pub fn array_shift_right(args: &[Value]) -> Value {
    shift(args, false)
}

/// The sort group of an element (`array-sort-asc-function.md`: numbers,
/// datetimes and timespans first, then strings, then guids, then all
/// others).
fn sort_group(v: &Value) -> u8 {
    match v {
        Value::Int(_)
        | Value::Long(_)
        | Value::Real(_)
        | Value::DateTime(_)
        | Value::TimeSpan(_) => 0,
        Value::String(_) => 1,
        Value::Guid(_) => 2,
        _ => 3,
    }
}

/// The order of two non-null elements for `array_sort_*`: by group, then
/// numbers by value (NaN last), datetimes and timespans by ticks (after
/// numbers, datetimes before timespans), strings and guids ordinally; other
/// elements keep their order.
fn element_order(a: &Value, b: &Value) -> Ordering {
    let by_group = sort_group(a).cmp(&sort_group(b));
    if by_group != Ordering::Equal {
        return by_group;
    }
    let kind = |v: &Value| match v {
        Value::DateTime(_) => 1,
        Value::TimeSpan(_) => 2,
        _ => 0,
    };
    match (a, b) {
        (Value::DateTime(x), Value::DateTime(y)) => x.cmp(y),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.as_str().cmp(y.as_str()),
        (Value::Guid(x), Value::Guid(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
        _ => match (real_arg(a), real_arg(b)) {
            (Some(x), Some(y)) => match (integer_arg(a), integer_arg(b)) {
                (Some(i), Some(j)) => i.cmp(&j),
                _ => x
                    .partial_cmp(&y)
                    .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan())),
            },
            _ => kind(a).cmp(&kind(b)),
        },
    }
}

/// The arrays of `array_sort_*`'s arguments sorted: the first by its
/// elements, the others reordered along with it. kqlc's checker always
/// passes `nulls_last` last (`true` when not written); a null flag means
/// the default.
fn sort(args: &[Value], descending: bool) -> Value {
    let (nulls_last, arrays) = match args.split_last() {
        Some((Value::Bool(b), arrays)) if !arrays.is_empty() => (*b, arrays),
        Some((Value::Null, arrays)) if !arrays.is_empty() => (true, arrays),
        _ => (true, args),
    };
    let Some(first) = arrays.first().and_then(items) else {
        return Value::Null;
    };
    let mut order: Vec<usize> = (0..first.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&first[i], &first[j]);
        match (a.is_null(), b.is_null()) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if nulls_last {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                if nulls_last {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, false) => {
                let o = element_order(a, b);
                if descending {
                    o.reverse()
                } else {
                    o
                }
            }
        }
    });
    let reorder = |elements: &[Value]| array(order.iter().map(|&i| elements[i].clone()).collect());
    if arrays.len() == 1 {
        return reorder(first);
    }
    // Several arrays: one array of the results, the first sorted and each
    // other reordered to match, or null where an array's length differs
    // from the first's (array-sort-asc-function.md).
    array(
        arrays
            .iter()
            .map(|a| match items(a) {
                Some(elements) if elements.len() == first.len() => reorder(elements),
                _ => Value::Null,
            })
            .collect(),
    )
}

/// `array_sort_asc(array1 [, ..., arrayN] [, nulls_last])`
/// (`array-sort-asc-function.md`), arguments as a slice: the first array
/// sorted ascending (stable), nulls last unless `nulls_last` is `false`;
/// elements of different types are ordered numbers/datetimes/timespans,
/// then strings, then guids, then the rest.
/// `array_sort_asc(dynamic([null,"blue","yellow","green",null]))` is
/// `["blue","green","yellow",null,null]`.
///
/// With several arrays the result is an array holding the first array
/// sorted and the others reordered to match (null for one whose length
/// differs); in `extend` and `project` the checker spreads it over one
/// column per array, as Kusto does. A first argument that is not an array
/// gives null.
pub fn array_sort_asc(args: &[Value]) -> Value {
    sort(args, false)
}

/// `array_sort_desc(array1 [, ..., arrayN] [, nulls_last])`
/// (`array-sort-desc-function.md`): as [`array_sort_asc`], descending
/// (nulls still last by default).
pub fn array_sort_desc(args: &[Value]) -> Value {
    sort(args, true)
}

/// `array_sum(array)` (`array-sum-function.md`): the sum of the elements as
/// a real (`array_sum([1,2,3,4])` is 10). "If the array contains elements
/// of non-numeric types, the result is null" (a null element included); an
/// empty array sums to 0; a non-array gives null.
pub fn array_sum(arr: &Value) -> Value {
    let Some(elements) = items(arr) else {
        return Value::Null;
    };
    let mut sum = 0.0;
    for e in elements {
        match real_arg(e) {
            Some(x) => sum += x,
            None => return Value::Null,
        }
    }
    Value::Real(sum)
}

/// `array_iff(condition_array, when_true, when_false)`
/// (`array-iff-function.md`; alias `array_iif`): element-wise `iff`. Each
/// condition element that is `true` (or a non-zero number) takes the element
/// of `when_true` at the same position, `false` (or zero) the element of
/// `when_false`; `when_true`/`when_false` may be scalars, used for every
/// position, and arrays shorter than the condition give null past their
/// end. A condition element that is neither bool nor number gives null. A
/// `condition_array` that is not an array gives null.
pub fn array_iff(condition: &Value, when_true: &Value, when_false: &Value) -> Value {
    let Some(conditions) = items(condition) else {
        return Value::Null;
    };
    let pick = |source: &Value, i: usize| match source {
        Value::Array(a) => a.get(i).cloned().unwrap_or(Value::Null),
        scalar => scalar.clone(),
    };
    let out = conditions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let truth = match c {
                Value::Bool(b) => Some(*b),
                Value::Int(_) | Value::Long(_) | Value::Real(_) => real_arg(c).map(|x| x != 0.0),
                _ => None,
            };
            match truth {
                Some(true) => pick(when_true, i),
                Some(false) => pick(when_false, i),
                None => Value::Null,
            }
        })
        .collect();
    array(out)
}

/// `zip(arrays...)` (`zip-function.md`), arguments as a slice: an array
/// whose i-th element is the array of the i-th elements of every argument;
/// as long as the longest argument, shorter ones padded with null
/// (`zip(["A",1,1.5], [{}, "B"])` is `[["A",{}],[1,"B"],[1.5,null]]`). An
/// argument that is not an array gives null.
pub fn zip(args: &[Value]) -> Value {
    let Some(arrays) = all_arrays(args) else {
        return Value::Null;
    };
    let longest = arrays.iter().map(|a| a.len()).max().unwrap_or(0);
    let out = (0..longest)
        .map(|i| {
            array(
                arrays
                    .iter()
                    .map(|a| a.get(i).cloned().unwrap_or(Value::Null))
                    .collect(),
            )
        })
        .collect();
    array(out)
}

/// Most elements `repeat` and `range` make (`range-function.md`: "The
/// maximum number of values is 1,048,576 (2^20)"); `repeat` shares the
/// limit.
pub const MAX_SERIES_LENGTH: usize = 1 << 20;

/// `repeat(value, count)` (`repeat-function.md`): an array of `count`
/// copies of `value`; 0 gives `[]`, a negative or null count gives null. A
/// count above [`MAX_SERIES_LENGTH`] makes that many (the reference is
/// silent; this bounds memory).
pub fn repeat(value: &Value, count: &Value) -> Value {
    match integer_arg(count) {
        Some(n) if n >= 0 => {
            if n as u64 > MAX_SERIES_LENGTH as u64 {
                crate::budget::cap_hit("repeat()'s length limit of 1048576 values");
            }
            array(vec![value.clone(); (n as usize).min(MAX_SERIES_LENGTH)])
        }
        _ => Value::Null,
    }
}

/// `range(start, stop [, step])` (`range-function.md`), arguments as a
/// slice: the array `start`, `start + step`, ... up to and including `stop`
/// (`range(1, 8, 3)` is `[1,4,7]`), at most [`MAX_SERIES_LENGTH`] values.
/// Numbers (integers give longs, any real gives reals), timespans, and
/// datetimes (with a timespan step); the default step is 1, or 1h for
/// datetimes and timespans. A step of 0, null or mismatched types give
/// null; a `stop` that the steps go away from gives `[]`.
pub fn range(args: &[Value]) -> Value {
    let (Some(start), Some(stop)) = (args.first(), args.get(1)) else {
        return Value::Null;
    };
    let step = args.get(2);
    match (start, stop) {
        (Value::DateTime(a), Value::DateTime(b)) => {
            let step = match step {
                None => crate::value::ticks::PER_HOUR,
                Some(Value::TimeSpan(t)) => t.0,
                _ => return Value::Null,
            };
            tick_series(a.0, b.0, step, |t| {
                datetime_checked(t).map_or(Value::Null, Value::DateTime)
            })
        }
        (Value::TimeSpan(a), Value::TimeSpan(b)) => {
            let step = match step {
                None => crate::value::ticks::PER_HOUR,
                Some(Value::TimeSpan(t)) => t.0,
                _ => return Value::Null,
            };
            tick_series(a.0, b.0, step, |t| Value::TimeSpan(TimeSpan(t)))
        }
        _ => {
            let step = step.cloned().unwrap_or(Value::Long(1));
            match (integer_arg(start), integer_arg(stop), integer_arg(&step)) {
                (Some(a), Some(b), Some(s)) => tick_series(a, b, s, Value::Long),
                _ => match (real_arg(start), real_arg(stop), real_arg(&step)) {
                    (Some(a), Some(b), Some(s)) if s != 0.0 && s.is_finite() => {
                        if (b - a) * s < 0.0 {
                            return array(Vec::new());
                        }
                        let out: Vec<Value> = (0..MAX_SERIES_LENGTH)
                            .map(|i| a + s * i as f64)
                            .take_while(|x| if s > 0.0 { *x <= b } else { *x >= b })
                            .map(Value::Real)
                            .collect();
                        if out.len() == MAX_SERIES_LENGTH {
                            let next = a + s * MAX_SERIES_LENGTH as f64;
                            if (s > 0.0 && next <= b) || (s < 0.0 && next >= b) {
                                crate::budget::cap_hit(RANGE_CAP);
                            }
                        }
                        array(out)
                    }
                    _ => Value::Null,
                },
            }
        }
    }
}

/// What the detector says when `range()` stops at its limit.
const RANGE_CAP: &str = "range()'s limit of 1048576 values (the KQL reference's)";

/// An integer series from `a` towards `b` by `step`, at most
/// [`MAX_SERIES_LENGTH`] long, each value made by `make`.
fn tick_series(a: i64, b: i64, step: i64, make: impl Fn(i64) -> Value) -> Value {
    if step == 0 {
        return Value::Null;
    }
    let mut out = Vec::new();
    let mut x = a;
    while if step > 0 { x <= b } else { x >= b } {
        if out.len() == MAX_SERIES_LENGTH {
            crate::budget::cap_hit(RANGE_CAP);
            break;
        }
        out.push(make(x));
        match x.checked_add(step) {
            Some(next) => x = next,
            None => break,
        }
    }
    array(out)
}

/// `strcat_array` under its deprecated name `array_strcat`: see
/// [`crate::functions::strcat_array`].
pub fn array_strcat(arr: &Value, delimiter: &Value) -> Value {
    super::string::strcat_array(arr, delimiter)
}

/// The string form of every element, for diagnostics in tests.
#[cfg(test)]
fn texts(v: &Value) -> String {
    crate::text::to_string(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;

    fn d(text: &str) -> Value {
        parse_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn l(n: i64) -> Value {
        Value::Long(n)
    }

    #[test]
    fn concat_and_slice() {
        assert_eq!(
            texts(&array_concat(&[d("[1,2,4]"), d("[1,2]")])),
            "[1,2,4,1,2]"
        );
        assert_eq!(array_concat(&[d("[1]"), Value::Null]), Value::Null);
        assert_eq!(texts(&array_slice(&d("[1,2,3]"), &l(1), &l(2))), "[2,3]");
        assert_eq!(
            texts(&array_slice(&d("[1,2,3,4,5]"), &l(2), &l(-1))),
            "[3,4,5]"
        );
        assert_eq!(
            texts(&array_slice(&d("[1,2,3,4,5]"), &l(-3), &l(-2))),
            "[3,4]"
        );
        assert_eq!(
            texts(&array_slice(&d("[1,2,3]"), &l(-10), &l(10))),
            "[1,2,3]"
        );
        assert_eq!(texts(&array_slice(&d("[1,2,3]"), &l(2), &l(1))), "[]");
        assert_eq!(texts(&array_slice(&d("[]"), &l(0), &l(0))), "[]");
        assert_eq!(array_slice(&Value::Null, &l(0), &l(1)), Value::Null);
        assert_eq!(
            texts(&array_slice(&d("[1]"), &l(i64::MIN), &l(i64::MAX))),
            "[1]"
        );
    }

    #[test]
    fn split_by_indexes() {
        assert_eq!(
            texts(&array_split(&d("[1,2,3,4,5]"), &l(2))),
            "[[1,2],[3,4,5]]"
        );
        assert_eq!(
            texts(&array_split(&d("[1,2,3,4,5]"), &d("[1,3]"))),
            "[[1],[2,3],[4,5]]"
        );
        assert_eq!(texts(&array_split(&d("[1,2,3]"), &l(-1))), "[[1,2],[3]]");
        assert_eq!(
            texts(&array_split(&d("[1,2,3]"), &d("[2,1]"))),
            "[[1,2],[],[3]]"
        );
        assert_eq!(texts(&array_split(&d("[1,2]"), &l(9))), "[[1,2],[]]");
        assert_eq!(array_split(&d("[1]"), &Value::Null), Value::Null);
    }

    #[test]
    fn index_of_follows_reference_examples() {
        let arr = d(r#"["this","is","an","example","an","example"]"#);
        let s = Value::from_static;
        let f = |extra: &[Value]| {
            let mut args = vec![arr.clone()];
            args.extend_from_slice(extra);
            array_index_of(&args)
        };
        assert_eq!(f(&[s("an")]), l(2));
        assert_eq!(f(&[s("example"), l(1), l(3)]), l(3));
        assert_eq!(f(&[s("example"), l(1), l(2)]), l(-1));
        assert_eq!(f(&[s("is"), l(2), l(4)]), l(-1));
        assert_eq!(f(&[s("example"), l(2), l(-1)]), l(3));
        assert_eq!(f(&[s("an"), l(1), l(-1), l(2)]), l(4));
        assert_eq!(f(&[s("an"), l(1), l(-1), l(3)]), l(-1));
        assert_eq!(f(&[s("an"), l(-3)]), l(4));
        assert_eq!(f(&[s("is"), l(-4)]), l(-1));
        assert_eq!(f(&[s("an"), l(0), l(-2)]), Value::Null);
        assert_eq!(f(&[s("an"), Value::Null]), Value::Null);
        assert_eq!(array_index_of(&[Value::Null, s("a")]), Value::Null);
        assert_eq!(array_index_of(&[d("[1,2]"), Value::Int(2)]), l(1));
        assert_eq!(array_index_of(&[d(r#"["1"]"#), l(1)]), l(-1));
    }

    #[test]
    fn set_functions() {
        assert_eq!(
            texts(&set_union(&[d("[1,2,1,4]"), d("[1,2]"), d("[8]")])),
            "[1,2,4,8]"
        );
        assert_eq!(
            texts(&set_union(&[d(r#"["A4","A2","A7","A2"]"#), d(r#"["A4"]"#)])),
            r#"["A4","A2","A7"]"#
        );
        assert_eq!(
            texts(&set_intersect(&[d("[1,2,3,2]"), d("[2,3,4]")])),
            "[2,3]"
        );
        assert_eq!(
            texts(&set_difference(&[d("[1,2,1,4]"), d("[1,2]"), d("[8]")])),
            "[4]"
        );
        assert_eq!(texts(&set_difference(&[d("[1,2,3]"), d("[1,2,3]")])), "[]");
        assert_eq!(set_union(&[d("[1]"), Value::Null]), Value::Null);
        assert_eq!(
            set_has_element(&d(r#"["this","is"]"#), &Value::from_static("is")),
            Value::Bool(true)
        );
        assert_eq!(
            set_has_element(&d("[1]"), &Value::from_static("1")),
            Value::Bool(false)
        );
        assert_eq!(set_has_element(&Value::Null, &l(1)), Value::Null);
        assert_eq!(
            jaccard_index(&d("[1,2,3]"), &d("[1,2,3,4]")),
            Value::Real(0.75)
        );
        assert_eq!(jaccard_index(&d("[1,1]"), &d("[2]")), Value::Real(0.0));
    }

    #[test]
    fn reverse_rotate_and_shift() {
        assert_eq!(
            texts(&array_reverse(&d(r#"["this","is","an"]"#))),
            r#"["an","is","this"]"#
        );
        assert_eq!(
            texts(&array_rotate_left(&d("[1,2,3,4,5]"), &l(2))),
            "[3,4,5,1,2]"
        );
        assert_eq!(
            texts(&array_rotate_left(&d("[1,2,3,4,5]"), &l(-2))),
            "[4,5,1,2,3]"
        );
        assert_eq!(
            texts(&array_rotate_right(&d("[1,2,3,4,5]"), &l(2))),
            "[4,5,1,2,3]"
        );
        assert_eq!(texts(&array_rotate_right(&d("[]"), &l(2))), "[]");
        assert_eq!(
            texts(&array_rotate_left(&d("[1,2]"), &l(i64::MIN))),
            "[1,2]"
        );
        assert_eq!(
            texts(&array_shift_left(&[d("[1,2,3,4,5]"), l(2)])),
            "[3,4,5,null,null]"
        );
        assert_eq!(
            texts(&array_shift_left(&[d("[1,2,3,4,5]"), l(2), l(-1)])),
            "[3,4,5,-1,-1]"
        );
        assert_eq!(
            texts(&array_shift_left(&[d("[1,2,3,4,5]"), l(-2), l(-1)])),
            "[-1,-1,1,2,3]"
        );
        assert_eq!(
            texts(&array_shift_right(&[d("[1,2,3,4,5]"), l(2)])),
            "[null,null,1,2,3]"
        );
        assert_eq!(
            texts(&array_shift_right(&[d(r#"["a","b"]"#), l(1)])),
            r#"["","a"]"#
        );
        assert_eq!(
            texts(&array_shift_left(&[d("[1,2]"), l(i64::MIN)])),
            "[null,null]"
        );
        assert_eq!(array_shift_left(&[Value::Null, l(1)]), Value::Null);
    }

    #[test]
    fn sorting() {
        let colours = d(r#"[null,"blue","yellow","green",null]"#);
        assert_eq!(
            texts(&array_sort_asc(std::slice::from_ref(&colours))),
            r#"["blue","green","yellow",null,null]"#
        );
        assert_eq!(
            texts(&array_sort_asc(&[colours.clone(), Value::Bool(false)])),
            r#"[null,null,"blue","green","yellow"]"#
        );
        assert_eq!(
            texts(&array_sort_desc(&[colours])),
            r#"["yellow","green","blue",null,null]"#
        );
        assert_eq!(texts(&array_sort_asc(&[d("[1,3,4,5,2]")])), "[1,2,3,4,5]");
        assert_eq!(
            texts(&array_sort_asc(&[d(r#"["b",2,true,1.5,"a"]"#)])),
            r#"[1.5,2,"a","b",true]"#
        );
        // Several arrays: the others follow the first's order; one of
        // another length gives null; the flag comes last.
        assert_eq!(
            texts(&array_sort_asc(&[
                d("[1,3,4,5,2]"),
                d(r#"["a","b","c","d","e"]"#),
                d("[1,2]"),
                Value::Bool(true)
            ])),
            r#"[[1,2,3,4,5],["a","e","b","c","d"],null]"#
        );
        assert_eq!(
            texts(&array_sort_desc(&[
                d("[2,null,3]"),
                d("[20,0,30]"),
                Value::Bool(false)
            ])),
            "[[null,3,2],[0,30,20]]"
        );
        assert_eq!(array_sort_asc(&[Value::Long(1), d("[2]")]), Value::Null);
        assert_eq!(array_sort_asc(&[Value::Null]), Value::Null);
    }

    #[test]
    fn sum_iff_zip() {
        assert_eq!(array_sum(&d("[1,2,3,4]")), Value::Real(10.0));
        assert_eq!(array_sum(&d("[1,\"2\"]")), Value::Null);
        assert_eq!(array_sum(&d("[]")), Value::Real(0.0));
        assert_eq!(array_sum(&Value::Null), Value::Null);
        assert_eq!(
            texts(&array_iff(
                &d("[true,false,true]"),
                &d("[1,2,3]"),
                &d("[4,5,6]")
            )),
            "[1,5,3]"
        );
        assert_eq!(
            texts(&array_iff(
                &d("[1,0,50]"),
                &Value::from_static("yes"),
                &Value::from_static("no")
            )),
            r#"["yes","no","yes"]"#
        );
        assert_eq!(
            texts(&array_iff(&d(r#"["x",null]"#), &l(1), &l(0))),
            "[null,null]"
        );
        assert_eq!(
            texts(&array_iff(&d("[true,true,true]"), &d("[1,2]"), &d("[3,4]"))),
            "[1,2,null]"
        );
        assert_eq!(
            texts(&zip(&[d("[1,3,5]"), d("[2,4,6]")])),
            "[[1,2],[3,4],[5,6]]"
        );
        assert_eq!(
            texts(&zip(&[d(r#"["A",1,1.5]"#), d(r#"[{},"B"]"#)])),
            r#"[["A",{}],[1,"B"],[1.5,null]]"#
        );
        assert_eq!(zip(&[d("[1]"), Value::Null]), Value::Null);
    }

    #[test]
    fn repeat_and_range() {
        assert_eq!(texts(&repeat(&l(1), &l(3))), "[1,1,1]");
        assert_eq!(texts(&repeat(&l(1), &l(0))), "[]");
        assert_eq!(repeat(&l(1), &l(-1)), Value::Null);
        let Value::Array(big) = repeat(&l(1), &l(i64::MAX)) else {
            panic!("not an array")
        };
        assert_eq!(big.len(), MAX_SERIES_LENGTH);
        assert_eq!(texts(&range(&[l(1), l(8), l(3)])), "[1,4,7]");
        assert_eq!(texts(&range(&[l(1), l(3)])), "[1,2,3]");
        assert_eq!(texts(&range(&[l(3), l(1), l(-1)])), "[3,2,1]");
        assert_eq!(texts(&range(&[l(3), l(1)])), "[]");
        assert_eq!(range(&[l(1), l(3), l(0)]), Value::Null);
        assert_eq!(texts(&range(&[Value::Real(0.5), l(2)])), "[0.5,1.5]");
        let h = crate::value::ticks::PER_HOUR;
        assert_eq!(
            texts(&range(&[
                Value::TimeSpan(TimeSpan(h)),
                Value::TimeSpan(TimeSpan(3 * h))
            ])),
            r#"["01:00:00","02:00:00","03:00:00"]"#
        );
        let Value::Array(capped) = range(&[l(1), l(i64::MAX)]) else {
            panic!("not an array")
        };
        assert_eq!(capped.len(), MAX_SERIES_LENGTH);
        assert_eq!(
            texts(&range(&[l(i64::MAX - 1), l(i64::MAX)])),
            format!("[{},{}]", i64::MAX - 1, i64::MAX)
        );
        assert_eq!(range(&[Value::Null, l(1)]), Value::Null);
    }

    #[test]
    fn array_strcat_is_strcat_array() {
        assert_eq!(
            array_strcat(&d("[1,2]"), &Value::from_static("-")),
            Value::from_static("1-2")
        );
    }
}
