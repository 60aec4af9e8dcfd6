//! Row functions (`window-functions.md`): values that depend on the rows
//! before the current one in a serialized row set. A detector's rows are
//! always in input order, so every row set is serialized.

use crate::ops;
use crate::value::Value;
use std::collections::VecDeque;

/// `row_number([start [, restart]])`: the current row's number, from
/// `start` (1 by default), starting over at `start` on rows where
/// `restart` is true.
#[derive(Debug, Default)]
pub struct RowNumber {
    current: Option<i64>,
}

impl RowNumber {
    /// The number of the next row.
    pub fn next(&mut self, start: &Value, restart: &Value) -> Value {
        let start = match crate::functions::tolong(start) {
            Value::Long(n) => n,
            _ => 1,
        };
        let number = match self.current {
            Some(n) if !ops::is_true(restart) => n.saturating_add(1),
            _ => start,
        };
        self.current = Some(number);
        Value::Long(number)
    }
}

/// `prev(value [, offset [, default]])`: `value` as it was `offset` rows
/// before this one, or `default` for the first `offset` rows.
#[derive(Debug, Default)]
pub struct Prev {
    past: VecDeque<Value>,
}

impl Prev {
    /// The value `offset` rows back, then remembers `value`.
    pub fn next(&mut self, offset: usize, value: &Value, default: &Value) -> Value {
        let out = if self.past.len() >= offset {
            self.past[self.past.len() - offset].clone()
        } else {
            default.clone()
        };
        self.past.push_back(value.clone());
        while self.past.len() > offset {
            self.past.pop_front();
        }
        out
    }
}

/// `row_cumsum(term [, restart])`: the running sum of `term`, starting
/// over (at this row's term) where `restart` is true. Null terms add
/// nothing; the sum is null until a term is not.
#[derive(Debug, Default)]
pub struct CumSum {
    total: Value,
}

impl CumSum {
    /// The sum up to and including this row.
    pub fn next(&mut self, term: &Value, restart: &Value) -> Value {
        if ops::is_true(restart) || self.total.is_null() {
            self.total = term.clone();
        } else if !term.is_null() {
            self.total = ops::add(&self.total, term);
        }
        self.total.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_numbers_count_from_start_and_restart() {
        let mut n = RowNumber::default();
        let (no, yes) = (Value::Bool(false), Value::Bool(true));
        let seven = Value::Long(7);
        assert_eq!(n.next(&seven, &no), Value::Long(7));
        assert_eq!(n.next(&seven, &no), Value::Long(8));
        assert_eq!(n.next(&seven, &yes), Value::Long(7));
        assert_eq!(n.next(&Value::Null, &yes), Value::Long(1));
    }

    #[test]
    fn prev_looks_back_offset_rows() {
        let mut p = Prev::default();
        let none = Value::from_static("none");
        let got: Vec<Value> = (1..=4).map(|i| p.next(2, &Value::Long(i), &none)).collect();
        assert_eq!(got, [none.clone(), none, Value::Long(1), Value::Long(2)]);
    }

    #[test]
    fn cumsum_restarts_and_skips_nulls() {
        let mut s = CumSum::default();
        let no = Value::Bool(false);
        assert_eq!(s.next(&Value::Null, &no), Value::Null);
        assert_eq!(s.next(&Value::Long(2), &no), Value::Long(2));
        assert_eq!(s.next(&Value::Null, &no), Value::Long(2));
        assert_eq!(s.next(&Value::Long(3), &no), Value::Long(5));
        assert_eq!(
            s.next(&Value::Long(10), &Value::Bool(true)),
            Value::Long(10)
        );
    }
}
