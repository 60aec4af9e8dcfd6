//! Row functions (`window-functions.md`): values that depend on the rows
//! before (or, for `next`, after) the current one in a serialized row set.
//! A detector's rows are always in input order, so every row set is
//! serialized.

use crate::ops;
use crate::value::{Row, Value};
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

/// `next(value [, offset [, default]])` (`next-function.md`): `value` as it
/// is `offset` rows after this one, or `default` for the last `offset`
/// rows. One `Next` serves every `next` call of a stage: it holds each row
/// back, with each call's value and default at that row, until the row
/// furthest ahead that a call reads has arrived ([`Next::push`]), or the
/// input ends ([`Next::finish`]). It holds at most the largest offset plus
/// one rows.
#[derive(Debug, Default)]
pub struct Next {
    /// Rows not yet complete, oldest first, each with its calls' (value,
    /// default) pairs.
    held: VecDeque<(Row, Vec<(Value, Value)>)>,
}

impl Next {
    /// Takes a row whose `next` columns are still to be filled, with its
    /// calls' (value, default) pairs; `calls` gives each call's column and
    /// offset. Returns the oldest row held, completed, once the rows every
    /// call looks ahead to have arrived.
    pub fn push(
        &mut self,
        calls: &[(usize, usize)],
        row: Row,
        values: Vec<(Value, Value)>,
    ) -> Option<Row> {
        self.held.push_back((row, values));
        let furthest = calls.iter().map(|&(_, offset)| offset).max().unwrap_or(0);
        if self.held.len() <= furthest {
            return None;
        }
        let completed = self.complete(calls, 0);
        self.held.pop_front();
        Some(completed)
    }

    /// The rows still held at the end of the input, completed: a call that
    /// looks past the last row gives its default.
    pub fn finish(&mut self, calls: &[(usize, usize)]) -> Vec<Row> {
        let rows = (0..self.held.len())
            .map(|i| self.complete(calls, i))
            .collect();
        self.held.clear();
        rows
    }

    /// Held row `i` with each call's column set from the row `offset` later,
    /// or to its default.
    fn complete(&self, calls: &[(usize, usize)], i: usize) -> Row {
        let (row, values) = &self.held[i];
        let mut row = row.clone();
        for (k, &(position, offset)) in calls.iter().enumerate() {
            let value = match self.held.get(i + offset) {
                Some((_, later)) => later[k].0.clone(),
                None => values[k].1.clone(),
            };
            if let Some(cell) = row.get_mut(position) {
                *cell = value;
            }
        }
        row
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

/// `row_rank_dense(term [, restart])`: 1 on the first row, one more each
/// time `term` differs from the previous row's, 1 again where `restart` is
/// true. Two nulls are the same term (`docs/semantics.md`).
#[derive(Debug, Default)]
pub struct RankDense {
    last: Option<(Value, i64)>,
}

impl RankDense {
    /// The dense rank of this row.
    pub fn next(&mut self, term: &Value, restart: &Value) -> Value {
        let rank = match &self.last {
            Some((previous, rank)) if !ops::is_true(restart) => {
                if previous == term {
                    *rank
                } else {
                    rank.saturating_add(1)
                }
            }
            _ => 1,
        };
        self.last = Some((term.clone(), rank));
        Value::Long(rank)
    }
}

/// `row_rank_min(term [, restart])`: the row number (from 1, counted again
/// from 1 where `restart` is true) of the first row of the current run of
/// equal terms. Two nulls are the same term.
#[derive(Debug, Default)]
pub struct RankMin {
    /// The previous row's term, its row number and its rank.
    last: Option<(Value, i64, i64)>,
}

impl RankMin {
    /// The minimal rank of this row.
    pub fn next(&mut self, term: &Value, restart: &Value) -> Value {
        let (number, rank) = match &self.last {
            Some((previous, number, rank)) if !ops::is_true(restart) => {
                let number = number.saturating_add(1);
                (number, if previous == term { *rank } else { number })
            }
            _ => (1, 1),
        };
        self.last = Some((term.clone(), number, rank));
        Value::Long(rank)
    }
}

/// `row_window_session(expr, max_from_first, max_between_neighbors
/// [, restart])`: the value of `expr` at the start of the current session.
/// A row starts a session when there is no session yet or its start is
/// null, when `expr` is at least the session's start plus
/// `max_from_first`, when it is at least the previous row's `expr` plus
/// `max_between_neighbors`, or when `restart` is true. A null `expr` starts
/// a session of its own (null), so the row after it starts another.
#[derive(Debug, Default)]
pub struct Session {
    /// The session's start and the previous row's value.
    last: Option<(Value, Value)>,
}

impl Session {
    /// The start of this row's session.
    pub fn next(
        &mut self,
        value: &Value,
        max_from_first: &Value,
        max_between_neighbors: &Value,
        restart: &Value,
    ) -> Value {
        let start = match &self.last {
            Some((start, previous))
                if !start.is_null()
                    && !value.is_null()
                    && !ops::is_true(restart)
                    && !ops::is_true(&ops::ge(value, &ops::add(start, max_from_first)))
                    && !ops::is_true(&ops::ge(
                        value,
                        &ops::add(previous, max_between_neighbors),
                    )) =>
            {
                start.clone()
            }
            _ => value.clone(),
        };
        self.last = Some((start.clone(), value.clone()));
        start
    }
}

/// `scan` (`scan-operator.md`): the state of each step, an active
/// sequence or none. A sequence holds its match number and one record per
/// step it has passed (the record of step `j` at index `j`). Generated code
/// evaluates the steps' conditions over the rows [`Scan::promoting`] and
/// [`Scan::continuing`] give, and records matches with [`Scan::promote`]
/// and [`Scan::advance`].
#[derive(Debug, Default)]
pub struct Scan {
    states: Vec<Option<Sequence>>,
    next_id: i64,
}

#[derive(Clone, Debug)]
struct Sequence {
    id: i64,
    records: Vec<Vec<Value>>,
}

impl Scan {
    /// Check 1 of step `k` (of `steps`): when step `k - 1` has an active
    /// sequence, the row its condition reads: `record` (its first
    /// `input_width` values the row's, the others the declared columns'
    /// defaults), then each step's values in that sequence; for a step it
    /// has not passed, nulls and the defaults.
    pub fn promoting(
        &mut self,
        steps: usize,
        k: usize,
        record: &[Value],
        input_width: usize,
    ) -> Option<Row> {
        self.states.resize(steps, None);
        let previous = self.states[k.checked_sub(1)?].as_ref()?;
        Some(wide(steps, record, input_width, previous))
    }

    /// Check 2 of step `k`: when it has an active sequence, or is the first
    /// step, the row its condition reads.
    pub fn continuing(
        &mut self,
        steps: usize,
        k: usize,
        record: &[Value],
        input_width: usize,
    ) -> Option<Row> {
        self.states.resize(steps, None);
        match &self.states[k] {
            Some(sequence) => Some(wide(steps, record, input_width, sequence)),
            None if k == 0 => Some(wide(
                steps,
                record,
                input_width,
                &Sequence {
                    id: 0,
                    records: Vec::new(),
                },
            )),
            None => None,
        }
    }

    /// A check-1 match of step `k`: step `k - 1`'s sequence moves to step
    /// `k` (replacing the one there) with `record` as its step-`k` values.
    /// Returns the output row: `record`, then the match number when
    /// `match_id`.
    pub fn promote(&mut self, k: usize, record: Row, match_id: bool) -> Row {
        let mut sequence = self.states[k - 1].take().unwrap_or(Sequence {
            id: 0,
            records: Vec::new(),
        });
        sequence.records.truncate(k);
        sequence.records.push(record.clone());
        let id = sequence.id;
        self.states[k] = Some(sequence);
        output(record, match_id, id)
    }

    /// A check-2 match of step `k`: its values in the step's sequence
    /// become `record`; for the first step without a sequence, a new
    /// sequence (the next match number) begins.
    pub fn advance(&mut self, k: usize, record: Row, match_id: bool) -> Row {
        let next_id = &mut self.next_id;
        let sequence = self.states[k].get_or_insert_with(|| {
            let id = *next_id;
            *next_id += 1;
            Sequence {
                id,
                records: Vec::new(),
            }
        });
        sequence.records.truncate(k);
        sequence.records.push(record.clone());
        output(record, match_id, sequence.id)
    }
}

/// `record`, then `steps` blocks as wide as it: the sequence's records;
/// for the steps it has not passed, nulls for the input columns and the
/// declared columns' defaults (as `record` holds them).
fn wide(steps: usize, record: &[Value], input_width: usize, sequence: &Sequence) -> Row {
    let width = record.len();
    let mut row = Vec::with_capacity(width * (steps + 1));
    row.extend_from_slice(record);
    for j in 0..steps {
        match sequence.records.get(j) {
            Some(values) => row.extend_from_slice(values),
            None => {
                row.resize(row.len() + input_width.min(width), Value::Null);
                row.extend_from_slice(&record[input_width.min(width)..]);
            }
        }
    }
    row
}

fn output(mut record: Row, match_id: bool, id: i64) -> Row {
    if match_id {
        record.push(Value::Long(id));
    }
    record
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
    fn next_holds_rows_back_until_the_row_ahead_arrives() {
        let mut n = Next::default();
        let none = Value::from_static("none");
        // Two calls: next(v) into column 1, next(v, 2, "none") into column 2.
        let calls = [(1, 1), (2, 2)];
        let mut out = Vec::new();
        for i in 1..=4 {
            let row = vec![Value::Long(i), Value::Null, Value::Null];
            let values = vec![
                (Value::Long(i), Value::Null),
                (Value::Long(i), none.clone()),
            ];
            out.extend(n.push(&calls, row, values));
            // At most the largest offset plus one rows are held.
            assert!(n.held.len() <= 2);
        }
        assert_eq!(out.len(), 2);
        out.extend(n.finish(&calls));
        let l = Value::Long;
        assert_eq!(
            out,
            [
                vec![l(1), l(2), l(3)],
                vec![l(2), l(3), l(4)],
                vec![l(3), l(4), none.clone()],
                vec![l(4), Value::Null, none],
            ]
        );
        assert!(n.finish(&calls).is_empty());
    }

    #[test]
    fn dense_rank_steps_on_changes_and_min_rank_on_row_numbers() {
        let mut dense = RankDense::default();
        let mut min = RankMin::default();
        let no = Value::Bool(false);
        let terms = [2, 3, 3, 5, 5, 7].map(Value::Long);
        let d: Vec<Value> = terms.iter().map(|t| dense.next(t, &no)).collect();
        let m: Vec<Value> = terms.iter().map(|t| min.next(t, &no)).collect();
        assert_eq!(d, [1, 2, 2, 3, 3, 4].map(Value::Long));
        assert_eq!(m, [1, 2, 2, 4, 4, 6].map(Value::Long));
        assert_eq!(
            dense.next(&Value::Long(7), &Value::Bool(true)),
            Value::Long(1)
        );
        assert_eq!(
            min.next(&Value::Long(7), &Value::Bool(true)),
            Value::Long(1)
        );
        assert_eq!(min.next(&Value::Long(8), &no), Value::Long(2));
    }

    #[test]
    fn sessions_break_on_either_distance_and_after_nulls() {
        use crate::value::{DateTime, TimeSpan};
        let at = |minutes: i64| Value::DateTime(DateTime(minutes * 60 * 10_000_000));
        let span = |minutes: i64| Value::TimeSpan(TimeSpan(minutes * 60 * 10_000_000));
        let mut s = Session::default();
        let no = Value::Bool(false);
        let mut step = |v: Value| s.next(&v, &span(60), &span(5), &no);
        assert_eq!(step(at(0)), at(0));
        assert_eq!(step(at(4)), at(0));
        assert_eq!(step(at(9)), at(9)); // 5 minutes after the previous row
        assert_eq!(step(at(13)), at(9));
        assert_eq!(step(Value::Null), Value::Null);
        assert_eq!(step(at(14)), at(14));
    }

    /// Start → middle* → stop, as a three-step scan driven by hand.
    #[test]
    fn scan_promotes_sequences_step_by_step() {
        let mut scan = Scan::default();
        let record = |s: &'static str| vec![Value::from_static(s)];
        let conditions = ["start", "mid", "stop"];
        let mut out = Vec::new();
        for event in ["x", "start", "mid", "mid", "stop", "mid", "start"] {
            for k in (0..3).rev() {
                let hit = event == conditions[k];
                if let Some(row) = scan.promoting(3, k, &record(event), 1) {
                    assert_eq!(row.len(), 4);
                    if hit {
                        out.push(scan.promote(k, record(event), true));
                        continue;
                    }
                }
                if scan.continuing(3, k, &record(event), 1).is_some() && hit {
                    out.push(scan.advance(k, record(event), true));
                }
            }
        }
        let expected: Vec<Row> = [
            ("start", 0),
            ("mid", 0),
            ("mid", 0),
            ("stop", 0),
            ("start", 1),
        ]
        .iter()
        .map(|(s, id)| vec![Value::from_static(s), Value::Long(*id)])
        .collect();
        assert_eq!(out, expected);
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
