//! `mv-expand`: the values one input value expands into.
//!
//! Reference: `mv-expand-operator.md`. The operator itself (zipping several
//! expanded columns, `with_itemindex`, `limit`, `to typeof()`) is planned by
//! the compiler; this module answers "which values does this one value give".

use std::sync::Arc;

use crate::value::{Bag, Row, Str, Value};

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

/// The row `mv-expand` makes for one element, before the element is stored:
/// a copy of `row` as wide as it, holding only the columns at `positions`,
/// the others null. The compiler passes the columns the stages after the
/// expansion read (or pass to the output), so the other columns, often a
/// large `dynamic` one the expansion came from, are not copied per element.
/// The copy has room for the columns those stages append.
pub fn copy_columns(row: &[Value], positions: &[usize], capacity: usize) -> Row {
    let mut copy = Vec::with_capacity(capacity.max(row.len()));
    copy.resize(row.len(), Value::Null);
    for &p in positions {
        copy[p] = row[p].clone();
    }
    copy
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
    fn a_copy_keeps_only_the_given_columns_and_the_width() {
        let row = vec![
            Value::Long(1),
            dynamic(r#"{"a": [1, 2]}"#),
            Value::from_static("x"),
        ];
        let copy = copy_columns(&row, &[0, 2], 5);
        assert_eq!(copy, [Value::Long(1), Value::Null, Value::from_static("x")]);
        assert!(copy.capacity() >= 5);
        assert_eq!(
            copy_columns(&row, &[], 0),
            [Value::Null, Value::Null, Value::Null]
        );
    }

    #[test]
    fn null_and_scalars_expand_to_themselves() {
        assert_eq!(expand_values(&Value::Null), vec![Value::Null]);
        assert_eq!(expand_values(&Value::Long(5)), vec![Value::Long(5)]);
        let text = Value::from_static("[1,2]");
        assert_eq!(expand_values(&text), vec![text.clone()]);
    }
}

/// The most rows one `range` produces (`docs/limits.md`): a typo such as
/// `step 1tick` over a year must not run for hours. The compiler refuses
/// constant bounds past it; bounds computed at run time (`ago`, `now`)
/// that pass it stop the rule with an error, never a silently short table.
pub const MAX_RANGE_ROWS: u64 = 100_000_000;

/// The values of `range x from FROM to TO step STEP`: `FROM`, `FROM+STEP`,
/// ... while not past `TO` (in the step's direction). Numbers (long, or real
/// when any bound is real), datetimes and timespans with a timespan step.
/// A zero step, a step away from `TO`, or a null bound gives no rows.
/// The values are made one at a time, so memory stays constant; more than
/// [`MAX_RANGE_ROWS`] rows is an error naming the count.
pub fn range_values(from: &Value, to: &Value, step: &Value) -> Result<RangeValues, String> {
    let range = RangeValues::new(from, to, step);
    match range.len() {
        n if n > u128::from(MAX_RANGE_ROWS) => Err(format!(
            "range would make {n} rows, more than the limit of {MAX_RANGE_ROWS} (docs/limits.md)"
        )),
        _ => Ok(range),
    }
}

/// The values of one `range`, made as they are taken.
#[derive(Clone, Debug)]
pub struct RangeValues {
    kind: RangeKind,
    /// Values still to make.
    left: u128,
    /// The index of the next value.
    next: u128,
}

#[derive(Clone, Copy, Debug)]
enum RangeKind {
    Empty,
    Real {
        from: f64,
        step: f64,
    },
    Ticks {
        from: i64,
        step: i64,
        unit: TickUnit,
    },
}

#[derive(Clone, Copy, Debug)]
enum TickUnit {
    Long,
    DateTime,
    TimeSpan,
}

impl RangeValues {
    fn new(from: &Value, to: &Value, step: &Value) -> RangeValues {
        let empty = RangeValues {
            kind: RangeKind::Empty,
            left: 0,
            next: 0,
        };
        let as_f64 = |v: &Value| match v {
            Value::Real(x) => Some(*x),
            Value::Long(n) => Some(*n as f64),
            Value::Int(n) => Some(f64::from(*n)),
            _ => None,
        };
        let ticks = |v: &Value| match v {
            Value::DateTime(d) => Some(d.0),
            Value::TimeSpan(t) => Some(t.0),
            Value::Long(n) => Some(*n),
            Value::Int(n) => Some(i64::from(*n)),
            _ => None,
        };
        if [from, to, step].iter().any(|v| matches!(v, Value::Real(_))) {
            let (Some(a), Some(b), Some(s)) = (as_f64(from), as_f64(to), as_f64(step)) else {
                return empty;
            };
            if s == 0.0 || !s.is_finite() || !a.is_finite() || !b.is_finite() || (b - a) * s < 0.0 {
                return empty;
            }
            // Count as the loop `x = a + s*i` while not past b would.
            let mut left = ((b - a) / s).floor().max(0.0) as u128 + 1;
            while left > 0 && {
                let last = a + s * (left - 1) as f64;
                (s > 0.0 && last > b) || (s < 0.0 && last < b)
            } {
                left -= 1;
            }
            return RangeValues {
                kind: RangeKind::Real { from: a, step: s },
                left,
                next: 0,
            };
        }
        let (Some(a), Some(b), Some(s)) = (ticks(from), ticks(to), ticks(step)) else {
            return empty;
        };
        let span = i128::from(b) - i128::from(a);
        if s == 0 || span * i128::from(s) < 0 {
            return empty;
        }
        let unit = match from {
            Value::DateTime(_) => TickUnit::DateTime,
            Value::TimeSpan(_) => TickUnit::TimeSpan,
            _ => TickUnit::Long,
        };
        RangeValues {
            kind: RangeKind::Ticks {
                from: a,
                step: s,
                unit,
            },
            left: (span / i128::from(s)) as u128 + 1,
            next: 0,
        }
    }

    /// How many values are left to make.
    pub fn len(&self) -> u128 {
        self.left
    }

    /// True when no value is left.
    pub fn is_empty(&self) -> bool {
        self.left == 0
    }
}

impl Iterator for RangeValues {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        if self.left == 0 {
            return None;
        }
        let i = self.next;
        self.left -= 1;
        self.next += 1;
        Some(match self.kind {
            RangeKind::Empty => return None,
            RangeKind::Real { from, step } => Value::Real(from + step * i as f64),
            RangeKind::Ticks { from, step, unit } => {
                // In range by construction: from + step*i stays between the bounds.
                let x = (i128::from(from) + i128::from(step) * i as i128) as i64;
                match unit {
                    TickUnit::Long => Value::Long(x),
                    TickUnit::DateTime => Value::DateTime(crate::value::DateTime(x)),
                    TickUnit::TimeSpan => Value::TimeSpan(crate::value::TimeSpan(x)),
                }
            }
        })
    }
}

#[cfg(test)]
mod range_tests {
    use super::*;
    use crate::value::{ticks, DateTime, TimeSpan};

    #[test]
    fn range_counts_up_and_down_and_stops_at_bad_steps() {
        let values = |a: &Value, b: &Value, s: &Value| -> Vec<Value> {
            range_values(a, b, s).unwrap().collect()
        };
        assert_eq!(
            values(&Value::Long(1), &Value::Long(5), &Value::Long(2)),
            [Value::Long(1), Value::Long(3), Value::Long(5)]
        );
        assert_eq!(
            values(&Value::Long(3), &Value::Long(1), &Value::Long(-1)),
            [Value::Long(3), Value::Long(2), Value::Long(1)]
        );
        assert!(values(&Value::Long(1), &Value::Long(5), &Value::Long(0)).is_empty());
        assert!(values(&Value::Long(1), &Value::Long(5), &Value::Long(-1)).is_empty());
        assert!(values(&Value::Null, &Value::Long(5), &Value::Long(1)).is_empty());
        assert_eq!(
            values(&Value::Real(0.0), &Value::Long(1), &Value::Real(0.5)),
            [Value::Real(0.0), Value::Real(0.5), Value::Real(1.0)]
        );
        assert_eq!(
            values(&Value::Real(0.0), &Value::Real(1.0), &Value::Real(0.3)).len(),
            4
        );
        let day = values(
            &Value::DateTime(DateTime(0)),
            &Value::DateTime(DateTime(ticks::PER_DAY)),
            &Value::TimeSpan(TimeSpan(6 * ticks::PER_HOUR)),
        );
        assert_eq!(day.len(), 5);
        assert_eq!(day[4], Value::DateTime(DateTime(ticks::PER_DAY)));
        let extremes = values(
            &Value::Long(i64::MAX - 1),
            &Value::Long(i64::MAX),
            &Value::Long(1),
        );
        assert_eq!(extremes, [Value::Long(i64::MAX - 1), Value::Long(i64::MAX)]);
    }

    #[test]
    fn a_range_past_the_limit_is_an_error_not_a_short_table() {
        let limit = i64::try_from(MAX_RANGE_ROWS).unwrap();
        assert_eq!(
            range_values(&Value::Long(1), &Value::Long(limit), &Value::Long(1))
                .unwrap()
                .len(),
            u128::from(MAX_RANGE_ROWS)
        );
        let error = range_values(
            &Value::Long(1),
            &Value::Long(10_000_000_000),
            &Value::Long(1),
        )
        .unwrap_err();
        assert!(error.contains("10000000000 rows"), "{error}");
        assert!(range_values(&Value::Long(0), &Value::Long(i64::MAX), &Value::Long(1)).is_err());
    }
}
