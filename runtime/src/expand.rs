//! `mv-expand`: the values one input value expands into.
//!
//! Reference: `mv-expand-operator.md`. The operator itself (zipping several
//! expanded columns, `with_itemindex`, `limit`, `to typeof()`) is planned by
//! the compiler; this module answers "which values does this one value give".

use std::sync::Arc;

use crate::value::{Bag, Str, Value};

/// How `mv-expand` expands a property bag (`kind=` / `bagexpansion=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BagExpansion {
    /// `kind=bag` (the default): one single-entry bag per property.
    #[default]
    Bag,
    /// `kind=array`: one two-element `[key, value]` array per property.
    Array,
}

/// The values `mv-expand` (default `kind=bag`) makes of one value; see
/// [`expand_values_kind`].
pub fn expand_values(v: &Value) -> Vec<Value> {
    expand_values_kind(v, BagExpansion::Bag)
}

/// The values `mv-expand` makes of one value (`mv-expand-operator.md`,
/// "Returns"):
///
/// - an array → its elements, in order;
/// - a property bag → one value per property, in order: a single-entry bag
///   (`kind=bag`) or a `[key, value]` array (`kind=array`);
/// - an empty array or empty bag → nothing ("no record is produced");
/// - null → one null ("a single record is produced for that value");
/// - any other scalar → itself, once (the legacy `mvexpand` page: "If the
///   value in a row is not an array, the row is kept as is"). A string is a
///   scalar here even when it holds JSON text.
pub fn expand_values_kind(v: &Value, kind: BagExpansion) -> Vec<Value> {
    match v {
        Value::Array(items) => items.as_ref().clone(),
        Value::Bag(bag) => bag
            .iter()
            .map(|(key, value)| match kind {
                BagExpansion::Bag => {
                    let mut single = Bag::new();
                    single.insert(Str::from(key), value.clone());
                    Value::Bag(Arc::new(single))
                }
                BagExpansion::Array => {
                    Value::Array(Arc::new(vec![Value::string(key), value.clone()]))
                }
            })
            .collect(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;
    use crate::text::to_string;

    fn dynamic(text: &str) -> Value {
        parse_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn texts(values: &[Value]) -> Vec<String> {
        values.iter().map(to_string).collect()
    }

    #[test]
    fn arrays_expand_to_their_elements() {
        assert_eq!(texts(&expand_values(&dynamic("[10, 20]"))), ["10", "20"]);
        assert_eq!(
            texts(&expand_values(&dynamic(r#"["a", [1], null]"#))),
            ["a", "[1]", ""]
        );
        assert_eq!(expand_values(&dynamic("[null]")), vec![Value::Null]);
    }

    #[test]
    fn bags_expand_to_single_entry_bags() {
        let bag = dynamic(r#"{"prop1": "a1", "prop2": "b1"}"#);
        assert_eq!(
            texts(&expand_values(&bag)),
            [r#"{"prop1":"a1"}"#, r#"{"prop2":"b1"}"#]
        );
        assert_eq!(
            texts(&expand_values_kind(&bag, BagExpansion::Array)),
            [r#"["prop1","a1"]"#, r#"["prop2","b1"]"#]
        );
    }

    #[test]
    fn empty_collections_expand_to_nothing() {
        assert!(expand_values(&dynamic("[]")).is_empty());
        assert!(expand_values(&dynamic("{}")).is_empty());
    }

    #[test]
    fn null_and_scalars_expand_to_themselves() {
        assert_eq!(expand_values(&Value::Null), vec![Value::Null]);
        assert_eq!(expand_values(&Value::Long(5)), vec![Value::Long(5)]);
        let text = Value::from_static("[1,2]");
        assert_eq!(expand_values(&text), vec![text.clone()]);
    }
}

/// The most rows `range` produces (a typo such as `step 1tick` over a year
/// must not exhaust memory).
pub const MAX_RANGE_ROWS: usize = 10_000_000;

/// The values of `range x from FROM to TO step STEP`: `FROM`, `FROM+STEP`,
/// ... while not past `TO` (in the step's direction). Numbers (long, or real
/// when any bound is real), datetimes and timespans with a timespan step.
/// A zero step, a step away from `TO`, or a null bound gives no rows; at
/// most [`MAX_RANGE_ROWS`] rows.
pub fn range_values(from: &Value, to: &Value, step: &Value) -> Vec<Value> {
    fn ticks(v: &Value) -> Option<i64> {
        match v {
            Value::DateTime(d) => Some(d.0),
            Value::TimeSpan(t) => Some(t.0),
            Value::Long(n) => Some(*n),
            Value::Int(n) => Some(i64::from(*n)),
            _ => None,
        }
    }
    let mut out = Vec::new();
    match (from, to, step) {
        (Value::Real(_), _, _) | (_, Value::Real(_), _) | (_, _, Value::Real(_)) => {
            let as_f64 = |v: &Value| match v {
                Value::Real(x) => Some(*x),
                Value::Long(n) => Some(*n as f64),
                Value::Int(n) => Some(f64::from(*n)),
                _ => None,
            };
            let (Some(a), Some(b), Some(s)) = (as_f64(from), as_f64(to), as_f64(step)) else {
                return out;
            };
            if s == 0.0 || !s.is_finite() || (b - a) * s < 0.0 {
                return out;
            }
            let mut i = 0usize;
            loop {
                let x = a + s * i as f64;
                if (s > 0.0 && x > b) || (s < 0.0 && x < b) || out.len() >= MAX_RANGE_ROWS {
                    break;
                }
                out.push(Value::Real(x));
                i += 1;
            }
        }
        _ => {
            let (Some(a), Some(b), Some(s)) = (ticks(from), ticks(to), ticks(step)) else {
                return out;
            };
            if s == 0 || (b as i128 - a as i128) * (s as i128) < 0 {
                return out;
            }
            let make = |x: i64| match from {
                Value::DateTime(_) => Value::DateTime(crate::value::DateTime(x)),
                Value::TimeSpan(_) => Value::TimeSpan(crate::value::TimeSpan(x)),
                _ => Value::Long(x),
            };
            let mut x = a;
            while ((s > 0 && x <= b) || (s < 0 && x >= b)) && out.len() < MAX_RANGE_ROWS {
                out.push(make(x));
                match x.checked_add(s) {
                    Some(next) => x = next,
                    None => break,
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod range_tests {
    use super::*;
    use crate::value::{ticks, DateTime, TimeSpan};

    #[test]
    fn range_counts_up_and_down_and_stops_at_bad_steps() {
        assert_eq!(
            range_values(&Value::Long(1), &Value::Long(5), &Value::Long(2)),
            [Value::Long(1), Value::Long(3), Value::Long(5)]
        );
        assert_eq!(
            range_values(&Value::Long(3), &Value::Long(1), &Value::Long(-1)).len(),
            3
        );
        assert!(range_values(&Value::Long(1), &Value::Long(5), &Value::Long(0)).is_empty());
        assert!(range_values(&Value::Long(1), &Value::Long(5), &Value::Long(-1)).is_empty());
        assert!(range_values(&Value::Null, &Value::Long(5), &Value::Long(1)).is_empty());
        assert_eq!(
            range_values(&Value::Real(0.0), &Value::Long(1), &Value::Real(0.5)).len(),
            3
        );
        let day = range_values(
            &Value::DateTime(DateTime(0)),
            &Value::DateTime(DateTime(ticks::PER_DAY)),
            &Value::TimeSpan(TimeSpan(6 * ticks::PER_HOUR)),
        );
        assert_eq!(day.len(), 5);
        assert_eq!(
            range_values(&Value::Long(0), &Value::Long(i64::MAX), &Value::Long(1)).len(),
            MAX_RANGE_ROWS
        );
    }
}
