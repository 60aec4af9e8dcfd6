//! HyperLogLog sketches (`hll-aggregate-function.md`, `hll-merge-*`,
//! `dcount-hll-function.md`). Kusto's sketch bytes are not documented, so
//! kqlc's sketch is its own dynamic value: a bag `{"kqlc_hll": [...]}`
//! holding the distinct non-null values. `dcount_hll` of it is kqlc's
//! `dcount` of those values (exact), and merging sketches is the union, so
//! `dcount_hll(hll_merge(hll(a), hll(b)))` is `dcount` over both row sets.
//! These sketches cannot be exchanged with Kusto's (`docs/semantics.md`).

use crate::aggregate::Seen;
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

#[cfg(test)]
mod tests {
    use super::*;

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
