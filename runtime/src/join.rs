//! `join` and `lookup`: matching rows with the rows of another query.
//!
//! The right side is collected first. When it reads no table (a
//! `datatable`, an allow-list) it is complete before the input is read, and
//! left rows are matched as they arrive, in constant memory. When it reads
//! the input too, left rows wait until the end of the input.
//!
//! Keys match when every key value is equal as a group key; a null key
//! never matches (chosen to mirror SQL; the KQL reference does not say).
//! `innerunique` (the default of `join`) keeps the first left row of each
//! key.

use crate::aggregate::{GroupKey, Seen};
use crate::value::{Row, Value};
use std::collections::HashMap;

/// The join flavours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JoinKind {
    /// Inner join after keeping one left row per key.
    InnerUnique,
    /// Every matching pair.
    Inner,
    /// Every left row; matched ones once per match.
    LeftOuter,
    /// Every right row; matched ones once per match.
    RightOuter,
    /// Every row of both sides.
    FullOuter,
    /// Left rows without a match.
    LeftAnti,
    /// Right rows without a match.
    RightAnti,
    /// Left rows with a match (once each).
    LeftSemi,
    /// Right rows with a match (once each).
    RightSemi,
    /// `evaluate ipv4_lookup`: every pair whose left IPv4 address lies in
    /// the right key's range (`a.b.c.d/n`).
    Ipv4Inner,
    /// `evaluate ipv4_lookup(..., return_unmatched = true)`: as
    /// `Ipv4Inner`, and left rows without a range padded.
    Ipv4LeftOuter,
}

impl JoinKind {
    fn ipv4(self) -> bool {
        matches!(self, JoinKind::Ipv4Inner | JoinKind::Ipv4LeftOuter)
    }
}

/// A join's fixed shape, generated as a constant.
#[derive(Debug)]
pub struct JoinSpec {
    /// The flavour.
    pub kind: JoinKind,
    /// Key positions in left rows.
    pub left_keys: &'static [usize],
    /// Key positions in right rows.
    pub right_keys: &'static [usize],
    /// Right positions appended to left rows (inner and outer flavours).
    pub right_columns: &'static [usize],
    /// How many columns left rows have.
    pub left_width: usize,
    /// Which left columns are strings: unmatched rows pad them with `""`
    /// (KQL strings are never null).
    pub left_strings: &'static [bool],
    /// Which appended right columns are strings.
    pub right_strings: &'static [bool],
}

/// The value an unmatched side's column gets.
fn padding(is_string: bool) -> Value {
    if is_string {
        Value::from_static("")
    } else {
        Value::Null
    }
}

/// A join's state.
#[derive(Debug, Default)]
pub struct Join {
    right: Vec<Row>,
    index: HashMap<GroupKey, Vec<usize>>,
    matched: Vec<bool>,
    complete: bool,
    pending: Vec<Row>,
    seen_left: Seen,
}

/// An IPv4 range key: the masked address and the prefix length.
fn ipv4_key(address: u32, prefix: u32) -> GroupKey {
    GroupKey(vec![
        Value::Long(i64::from(address)),
        Value::Long(i64::from(prefix)),
    ])
}

/// The right key of an IPv4 lookup: the range, masked.
fn ipv4_right_key(row: &Row, positions: &[usize]) -> Option<GroupKey> {
    let (address, prefix) = crate::functions::ip::ipv4_network(row.get(*positions.first()?)?)?;
    Some(ipv4_key(address, prefix))
}

fn key(row: &Row, positions: &[usize]) -> Option<GroupKey> {
    let values: Vec<Value> = positions
        .iter()
        .map(|&i| row.get(i).cloned().unwrap_or_default())
        .collect();
    (!values.iter().any(Value::is_null)).then_some(GroupKey(values))
}

impl Join {
    /// Adds a row of the right side.
    pub fn push_right(&mut self, row: Row, spec: &JoinSpec) {
        let key = if spec.kind.ipv4() {
            ipv4_right_key(&row, spec.right_keys)
        } else {
            key(&row, spec.right_keys)
        };
        if let Some(key) = key {
            self.index.entry(key).or_default().push(self.right.len());
        }
        self.right.push(row);
        self.matched.push(false);
    }

    /// Marks the right side complete: left rows are matched as they come.
    pub fn complete_right(&mut self) {
        self.complete = true;
    }

    /// Adds a left row; returns the rows it produces now.
    pub fn push_left(&mut self, row: Row, spec: &JoinSpec) -> Vec<Row> {
        if !self.complete {
            self.pending.push(row);
            return Vec::new();
        }
        let mut out = Vec::new();
        self.match_left(row, spec, &mut out);
        out
    }

    fn combined(&self, left: &Row, right: usize, spec: &JoinSpec) -> Row {
        let mut row = left.clone();
        row.extend(
            spec.right_columns
                .iter()
                .map(|&i| self.right[right].get(i).cloned().unwrap_or_default()),
        );
        row
    }

    fn match_left(&mut self, left: Row, spec: &JoinSpec, out: &mut Vec<Row>) {
        // One left row can match every right row: stop making rows once the
        // rule is over its memory budget (the detector then stops the rule).
        if crate::budget::over_ceiling() {
            return;
        }
        if spec.kind.ipv4() {
            let matches = self.ipv4_matches(&left, spec);
            for &m in &matches {
                self.matched[m] = true;
            }
            if matches.is_empty() {
                if spec.kind == JoinKind::Ipv4LeftOuter {
                    let mut row = left;
                    row.extend(spec.right_strings.iter().map(|&s| padding(s)));
                    out.push(row);
                }
            } else {
                out.extend(matches.iter().map(|&m| self.combined(&left, m, spec)));
            }
            return;
        }
        let key = key(&left, spec.left_keys);
        if spec.kind == JoinKind::InnerUnique {
            match &key {
                Some(k) if self.seen_left.first_time(&k.0) => {}
                _ => return,
            }
        }
        let matches: Vec<usize> = key
            .as_ref()
            .and_then(|k| self.index.get(k))
            .cloned()
            .unwrap_or_default();
        for &m in &matches {
            self.matched[m] = true;
        }
        match spec.kind {
            JoinKind::InnerUnique | JoinKind::Inner => {
                for chunk in matches.chunks(1024) {
                    if crate::budget::over_ceiling() {
                        return;
                    }
                    out.extend(chunk.iter().map(|&m| self.combined(&left, m, spec)));
                }
            }
            JoinKind::LeftOuter | JoinKind::FullOuter | JoinKind::RightOuter => {
                if matches.is_empty() {
                    if spec.kind != JoinKind::RightOuter {
                        let mut row = left;
                        row.extend(spec.right_strings.iter().map(|&s| padding(s)));
                        out.push(row);
                    }
                } else {
                    out.extend(matches.iter().map(|&m| self.combined(&left, m, spec)));
                }
            }
            JoinKind::LeftAnti => {
                if matches.is_empty() {
                    out.push(left);
                }
            }
            JoinKind::LeftSemi => {
                if !matches.is_empty() {
                    out.push(left);
                }
            }
            JoinKind::RightAnti
            | JoinKind::RightSemi
            | JoinKind::Ipv4Inner
            | JoinKind::Ipv4LeftOuter => {}
        }
    }

    /// The right rows whose range holds the left row's IPv4 address (with
    /// a prefix of its own, only ranges at most that long), in right-side
    /// order.
    fn ipv4_matches(&self, left: &Row, spec: &JoinSpec) -> Vec<usize> {
        let Some(position) = spec.left_keys.first() else {
            return Vec::new();
        };
        let Some((address, own_prefix)) = left
            .get(*position)
            .and_then(crate::functions::ip::ipv4_network)
        else {
            return Vec::new();
        };
        let mut matches: Vec<usize> = (0..=own_prefix)
            .filter_map(|prefix| {
                let masked = crate::functions::ip::ipv4_mask(address, prefix);
                self.index.get(&ipv4_key(masked, prefix))
            })
            .flatten()
            .copied()
            .collect();
        matches.sort_unstable();
        matches
    }

    /// Ends the input: matches left rows that waited, then emits the right
    /// rows the flavour keeps unmatched (or matched, for `rightsemi`).
    pub fn finish(&mut self, spec: &JoinSpec) -> Vec<Row> {
        self.complete = true;
        let mut out = Vec::new();
        for left in std::mem::take(&mut self.pending) {
            self.match_left(left, spec, &mut out);
        }
        let right = std::mem::take(&mut self.right);
        let matched = std::mem::take(&mut self.matched);
        for (row, matched) in right.into_iter().zip(matched) {
            match spec.kind {
                JoinKind::RightOuter | JoinKind::FullOuter if !matched => {
                    let mut padded: Row = spec.left_strings.iter().map(|&s| padding(s)).collect();
                    padded.extend(
                        spec.right_columns
                            .iter()
                            .map(|&i| row.get(i).cloned().unwrap_or_default()),
                    );
                    out.push(padded);
                }
                JoinKind::RightAnti if !matched => out.push(row),
                JoinKind::RightSemi if matched => out.push(row),
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: JoinKind) -> JoinSpec {
        JoinSpec {
            kind,
            left_keys: &[0],
            right_keys: &[0],
            right_columns: &[0, 1],
            left_width: 2,
            left_strings: &[true, false],
            right_strings: &[true, false],
        }
    }

    fn run(kind: JoinKind, static_right: bool) -> Vec<Row> {
        let spec = spec(kind);
        let mut join = Join::default();
        let l = |k: &'static str, v: i64| vec![Value::from_static(k), Value::Long(v)];
        let mut out = Vec::new();
        if static_right {
            join.push_right(l("a", 10), &spec);
            join.push_right(l("a", 11), &spec);
            join.push_right(l("z", 12), &spec);
            join.complete_right();
        }
        for row in [
            l("a", 1),
            l("a", 2),
            l("b", 3),
            vec![Value::Null, Value::Long(4)],
        ] {
            out.extend(join.push_left(row, &spec));
        }
        if !static_right {
            join.push_right(l("a", 10), &spec);
            join.push_right(l("a", 11), &spec);
            join.push_right(l("z", 12), &spec);
        }
        out.extend(join.finish(&spec));
        out
    }

    #[test]
    fn every_flavour_gives_the_same_rows_whether_the_right_side_is_static_or_not() {
        use JoinKind::*;
        for kind in [
            InnerUnique,
            Inner,
            LeftOuter,
            RightOuter,
            FullOuter,
            LeftAnti,
            RightAnti,
            LeftSemi,
            RightSemi,
        ] {
            let mut a = run(kind, true);
            let mut b = run(kind, false);
            let text = |rows: &mut Vec<Row>| {
                let mut lines: Vec<String> = rows.iter().map(|r| format!("{r:?}")).collect();
                lines.sort();
                lines
            };
            assert_eq!(text(&mut a), text(&mut b), "{kind:?}");
        }
        assert_eq!(
            run(InnerUnique, true).len(),
            2,
            "first left row of key a, times two right rows"
        );
        assert_eq!(run(Inner, true).len(), 4);
        assert_eq!(
            run(LeftOuter, true).len(),
            6,
            "4 matches + b + the null key"
        );
        assert_eq!(run(FullOuter, true).len(), 7, "left outer + unmatched z");
        assert_eq!(run(LeftAnti, true).len(), 2, "b and the null key");
        assert_eq!(run(RightAnti, true).len(), 1, "z");
        assert_eq!(run(LeftSemi, true).len(), 2);
        assert_eq!(run(RightSemi, true).len(), 2);
    }
}
