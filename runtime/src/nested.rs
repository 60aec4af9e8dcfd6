//! What `top-nested` and `partition` compute at the end of the input.
//!
//! `top-nested` holds, for each input row, every level's key and the
//! arguments of every level's aggregate; [`TopNested::finish`] then walks
//! the hierarchy: the rows of each group of a level are grouped by the
//! next level's key, the groups ranked by their aggregate and cut to the
//! level's N. The aggregates are computed over the group's own rows, so a
//! `dcount` or a `percentile` is exact at every level.

use crate::aggregate::{sort_order, Aggregate, Groups};
use crate::value::{Row, Value};

/// How one level of `top-nested` ranks and cuts.
#[derive(Clone, Debug)]
pub struct NestedLevel {
    /// How many values to keep (none: all).
    pub limit: Option<u64>,
    /// The key of the row aggregating the values not kept (`with others`).
    pub others: Option<Value>,
    /// Largest aggregate first (nulls last); otherwise smallest first
    /// (nulls first), as `sort` orders.
    pub descending: bool,
    /// What an `others` row of an outer level holds in this level's key
    /// and aggregate columns (null, or `""` for strings).
    pub pads: [Value; 2],
}

/// One input row as `top-nested` keeps it.
#[derive(Debug)]
struct NestedRow {
    keys: Vec<Value>,
    values: Vec<Value>,
    also: Vec<Vec<Value>>,
}

/// The rows `top-nested` holds until the end of the input.
#[derive(Debug, Default)]
pub struct TopNested {
    rows: Vec<NestedRow>,
}

impl TopNested {
    /// Holds a row: per level, its key, its aggregate's value and the
    /// aggregate's further arguments (the weight of `percentilew`).
    pub fn push(&mut self, keys: Vec<Value>, values: Vec<Value>, also: Vec<Vec<Value>>) {
        self.rows.push(NestedRow { keys, values, also });
    }

    /// The result rows: per level, the key and the aggregate; groups of a
    /// level in rank order (ties in order of first appearance), each
    /// followed by its nested rows, then the level's `others` row when
    /// some values were left out. `inits[level]` makes a level's
    /// aggregate state.
    pub fn finish(&mut self, levels: &[NestedLevel], inits: &[fn() -> Aggregate]) -> Vec<Row> {
        let rows = std::mem::take(&mut self.rows);
        let all: Vec<usize> = (0..rows.len()).collect();
        let mut out = Vec::new();
        let walk = Walk {
            rows: &rows,
            levels,
            inits,
        };
        walk.descend(&all, 0, &mut Vec::new(), &mut out);
        out
    }
}

struct Walk<'a> {
    rows: &'a [NestedRow],
    levels: &'a [NestedLevel],
    inits: &'a [fn() -> Aggregate],
}

impl Walk<'_> {
    fn aggregate(&self, members: &[usize], level: usize) -> Value {
        let Some(init) = self.inits.get(level) else {
            return Value::Null;
        };
        let mut state = init();
        for &i in members {
            let row = &self.rows[i];
            let value = row.values.get(level).unwrap_or(&Value::Null);
            let also = row.also.get(level).map_or(&[][..], Vec::as_slice);
            state.add(value, also);
        }
        state.finish(0).into_iter().next().unwrap_or(Value::Null)
    }

    fn descend(&self, members: &[usize], level: usize, prefix: &mut Row, out: &mut Vec<Row>) {
        let Some(spec) = self.levels.get(level) else {
            out.push(prefix.clone());
            return;
        };
        let mut groups: Groups<Vec<usize>> = Groups::default();
        for &i in members {
            let key = self.rows[i].keys.get(level).cloned().unwrap_or(Value::Null);
            groups.entry(vec![key], Vec::new).push(i);
        }
        let mut ranked: Vec<(Value, Value, Vec<usize>)> = groups
            .drain()
            .into_iter()
            .map(|(key, members)| {
                let aggregate = self.aggregate(&members, level);
                (
                    key.into_iter().next().unwrap_or(Value::Null),
                    aggregate,
                    members,
                )
            })
            .collect();
        // Stable: equal aggregates keep the order of first appearance.
        ranked.sort_by(|a, b| sort_order(&a.1, &b.1, spec.descending, !spec.descending));
        let keep = spec.limit.map_or(ranked.len(), |n| {
            usize::try_from(n).unwrap_or(usize::MAX).min(ranked.len())
        });
        let rest = ranked.split_off(keep);
        for (key, aggregate, members) in ranked {
            prefix.push(key);
            prefix.push(aggregate);
            self.descend(&members, level + 1, prefix, out);
            prefix.truncate(prefix.len() - 2);
        }
        if let (Some(others), false) = (&spec.others, rest.is_empty()) {
            let mut left_out: Vec<usize> = rest.into_iter().flat_map(|(_, _, m)| m).collect();
            left_out.sort_unstable();
            let mut row = prefix.clone();
            row.push(others.clone());
            row.push(self.aggregate(&left_out, level));
            for deeper in &self.levels[level + 1..] {
                row.extend(deeper.pads.iter().cloned());
            }
            out.push(row);
        }
    }
}

/// The rows of each partition of `partition`, in order of first
/// appearance.
#[derive(Debug, Default)]
pub struct Partitions {
    groups: Groups<Vec<Row>>,
}

impl Partitions {
    /// Holds a row in the partition of `key`.
    pub fn push(&mut self, key: Value, row: Row) {
        self.groups.entry(vec![key], Vec::new).push(row);
    }

    /// The partitions' rows, in order of first appearance; none, with the
    /// cap noted (`budget::cap_hit`), when there are more than `limit`
    /// partitions: Kusto fails such a query rather than cut it.
    pub fn finish(&mut self, limit: Option<usize>) -> Vec<Vec<Row>> {
        let groups = self.groups.drain();
        if limit.is_some_and(|limit| groups.len() > limit) {
            crate::budget::cap_hit(
                "partition's limit of 64 partitions (legacy strategy): no rows; use hint.strategy=native",
            );
            return Vec::new();
        }
        groups.into_iter().map(|(_, rows)| rows).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(limit: Option<u64>, others: Option<Value>) -> NestedLevel {
        NestedLevel {
            limit,
            others,
            descending: true,
            pads: [Value::Null, Value::Null],
        }
    }

    #[test]
    fn levels_rank_cut_and_add_others() {
        let mut t = TopNested::default();
        for (a, b) in [("x", 1), ("x", 2), ("y", 3), ("x", 2), ("z", 4)] {
            t.push(
                vec![Value::from(a.to_string()), Value::Long(b)],
                vec![Value::Null, Value::Null],
                vec![Vec::new(), Vec::new()],
            );
        }
        let levels = [
            level(Some(1), Some(Value::from(String::from("other")))),
            level(Some(1), None),
        ];
        let inits: [fn() -> Aggregate; 2] = [Aggregate::count, Aggregate::count];
        let rows = t.finish(&levels, &inits);
        assert_eq!(
            rows,
            vec![
                vec![
                    Value::from(String::from("x")),
                    Value::Long(3),
                    Value::Long(2),
                    Value::Long(2)
                ],
                vec![
                    Value::from(String::from("other")),
                    Value::Long(2),
                    Value::Null,
                    Value::Null
                ],
            ]
        );
    }

    #[test]
    fn too_many_partitions_give_no_rows() {
        let mut p = Partitions::default();
        for i in 0..3 {
            p.push(Value::Long(i), vec![Value::Long(i)]);
        }
        assert!(p.finish(Some(2)).is_empty());
        for i in 0..3 {
            p.push(Value::Long(i), vec![Value::Long(i)]);
        }
        assert_eq!(p.finish(Some(3)).len(), 3);
    }
}
