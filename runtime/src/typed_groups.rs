//! Typed `summarize` state: groups found by keys whose KQL types the
//! compiler knows, and the distinct values of `dcount` over a typed value.
//!
//! The generic [`Groups`](crate::aggregate::Groups) writes every key value's
//! identity bytes and hashes them. Here the key is a tuple of key types
//! ([`group_key`]), each seeing a row value as a small typed view (a
//! `&str`, an `i64`, ...) that is hashed and compared in place: a row of an
//! existing group copies and allocates nothing.
//!
//! A view groups exactly as the generic identity does, and each key type
//! accepts a set of variants closed under that identity (strings and null;
//! ints and longs, which group together by value; ...). A value outside its
//! key type's variants (a type the checker did not foresee) is grouped by
//! its identity bytes in a second index, which no typed key can equal. So
//! the groups, their first-seen order and the kept key values are those of
//! the generic path, whatever the values.

use crate::aggregate::{identity, Seen};
use crate::value::Value;
use hashbrown::HashTable;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::marker::PhantomData;

/// One part of a typed group key: the values of one KQL type, and null.
pub trait KeyPart {
    /// What is hashed and compared of a value: equal views exactly when
    /// the generic identity bytes are equal.
    type View<'a>: Hash + Eq;

    /// The view of `value`; `None` when the value is not of this type nor
    /// null.
    fn view(value: &Value) -> Option<Self::View<'_>>;
}

/// The key types of a typed group key, one per KQL type that is not
/// `dynamic`.
pub mod group_key {
    use super::KeyPart;
    use crate::value::Value;
    use std::hash::{Hash, Hasher};

    /// A `string` key (KQL strings are never null, but a value read from a
    /// dynamic one may be).
    #[derive(Debug)]
    pub struct Text;

    impl KeyPart for Text {
        type View<'a> = Option<&'a str>;
        fn view(value: &Value) -> Option<Option<&str>> {
            match value {
                Value::String(s) => Some(Some(s.as_str())),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// A `long` or `int` key: ints and longs group together by value.
    #[derive(Debug)]
    pub struct Long;

    impl KeyPart for Long {
        type View<'a> = Option<i64>;
        fn view(value: &Value) -> Option<Option<i64>> {
            match value {
                Value::Long(n) => Some(Some(*n)),
                Value::Int(n) => Some(Some(i64::from(*n))),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// A `real` key: `-0.0` groups with `0.0`, every NaN with every other.
    #[derive(Debug)]
    pub struct Real;

    impl KeyPart for Real {
        type View<'a> = Option<u64>;
        fn view(value: &Value) -> Option<Option<u64>> {
            match value {
                Value::Real(x) => Some(Some(if *x == 0.0 {
                    0f64.to_bits()
                } else if x.is_nan() {
                    f64::NAN.to_bits()
                } else {
                    x.to_bits()
                })),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// A `bool` key.
    #[derive(Debug)]
    pub struct Bool;

    impl KeyPart for Bool {
        type View<'a> = Option<bool>;
        fn view(value: &Value) -> Option<Option<bool>> {
            match value {
                Value::Bool(b) => Some(Some(*b)),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// A `datetime` key.
    #[derive(Debug)]
    pub struct DateTime;

    impl KeyPart for DateTime {
        type View<'a> = Option<i64>;
        fn view(value: &Value) -> Option<Option<i64>> {
            match value {
                Value::DateTime(d) => Some(Some(d.0)),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// A `timespan` key.
    #[derive(Debug)]
    pub struct TimeSpan;

    impl KeyPart for TimeSpan {
        type View<'a> = Option<i64>;
        fn view(value: &Value) -> Option<Option<i64>> {
            match value {
                Value::TimeSpan(t) => Some(Some(t.0)),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// A `guid` key: its text compared ignoring ASCII case.
    #[derive(Debug)]
    pub struct Guid;

    impl KeyPart for Guid {
        type View<'a> = Option<Caseless<'a>>;
        fn view(value: &Value) -> Option<Option<Caseless<'_>>> {
            match value {
                Value::Guid(g) => Some(Some(Caseless(g.as_str()))),
                Value::Null => Some(None),
                _ => None,
            }
        }
    }

    /// Text hashed and compared ignoring ASCII case.
    #[derive(Clone, Copy, Debug)]
    pub struct Caseless<'a>(&'a str);

    impl PartialEq for Caseless<'_> {
        fn eq(&self, other: &Self) -> bool {
            self.0.eq_ignore_ascii_case(other.0)
        }
    }

    impl Eq for Caseless<'_> {}

    impl Hash for Caseless<'_> {
        fn hash<H: Hasher>(&self, state: &mut H) {
            for b in self.0.bytes() {
                state.write_u8(b.to_ascii_lowercase());
            }
            state.write_u8(0xff);
        }
    }
}

/// A typed group key: a tuple of [`KeyPart`]s, one per `by` expression.
pub trait KeyParts {
    /// Hashes the views of `key`'s values into `state`; false when some
    /// value does not fit its part's type.
    fn hash_views<V: Borrow<Value>>(key: &[V], state: &mut impl Hasher) -> bool;

    /// True when the views of `a` and `b` are equal (both fit).
    fn same_views<V: Borrow<Value>, W: Borrow<Value>>(a: &[V], b: &[W]) -> bool;
}

macro_rules! key_parts {
    ($($part:ident $i:tt),+) => {
        impl<$($part: KeyPart),+> KeyParts for ($($part,)+) {
            fn hash_views<V: Borrow<Value>>(key: &[V], state: &mut impl Hasher) -> bool {
                $(
                    match $part::view(key[$i].borrow()) {
                        Some(view) => view.hash(state),
                        None => return false,
                    }
                )+
                true
            }

            fn same_views<V: Borrow<Value>, W: Borrow<Value>>(a: &[V], b: &[W]) -> bool {
                $($part::view(a[$i].borrow()) == $part::view(b[$i].borrow()))&&+
            }
        }
    };
}

key_parts!(A 0);
key_parts!(A 0, B 1);
key_parts!(A 0, B 1, C 2);
key_parts!(A 0, B 1, C 2, D 3);
key_parts!(A 0, B 1, C 2, D 3, E 4);
key_parts!(A 0, B 1, C 2, D 3, E 4, F 5);
key_parts!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
key_parts!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The widest typed group key (more `by` expressions take the generic
/// path).
pub const MAX_KEY_PARTS: usize = 8;

/// Where a key not found goes.
enum Place {
    /// The typed index, with the key's hash.
    Typed(u64),
    /// The index of identity bytes (the bytes are in `scratch`).
    Other,
}

/// Groups in first-seen order, each with its state `S`, found by a typed
/// key `K` (see the module documentation).
pub struct TypedGroups<K, S> {
    /// Each typed group's hash and position in `groups`.
    typed: HashTable<(u64, usize)>,
    /// The groups whose key has a value outside its type, by identity bytes.
    other: HashMap<Vec<u8>, usize>,
    /// Each group's key values (as first seen) and state.
    groups: Vec<(Vec<Value>, S)>,
    hasher: RandomState,
    /// The identity bytes of a key outside its types, reused.
    scratch: Vec<u8>,
    parts: PhantomData<K>,
}

impl<K, S> Default for TypedGroups<K, S> {
    fn default() -> TypedGroups<K, S> {
        TypedGroups {
            typed: HashTable::new(),
            other: HashMap::new(),
            groups: Vec::new(),
            hasher: RandomState::new(),
            scratch: Vec::new(),
            parts: PhantomData,
        }
    }
}

impl<K, S: std::fmt::Debug> std::fmt::Debug for TypedGroups<K, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedGroups")
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl<K: KeyParts, S> TypedGroups<K, S> {
    /// The state of the group of `key`, its values borrowed from the row:
    /// cloned only when they make a new group (whose state `init` makes).
    pub fn entry(&mut self, key: &[&Value], init: impl FnOnce() -> S) -> &mut S {
        let slot = match self.find(key) {
            Ok(slot) => slot,
            Err(place) => {
                let key = key.iter().map(|&v| v.clone()).collect();
                self.add(place, key, init())
            }
        };
        &mut self.groups[slot].1
    }

    /// The position of `key`'s group, or where a new one goes.
    fn find<V: Borrow<Value>>(&mut self, key: &[V]) -> Result<usize, Place> {
        let mut state = self.hasher.build_hasher();
        if K::hash_views(key, &mut state) {
            let hash = state.finish();
            let groups = &self.groups;
            return self
                .typed
                .find(hash, |&(h, slot)| {
                    h == hash && K::same_views(key, &groups[slot].0)
                })
                .map(|&(_, slot)| slot)
                .ok_or(Place::Typed(hash));
        }
        self.scratch.clear();
        for value in key {
            identity(value.borrow(), &mut self.scratch);
        }
        self.other
            .get(self.scratch.as_slice())
            .copied()
            .ok_or(Place::Other)
    }

    /// Adds a group where [`TypedGroups::find`] said; returns its position.
    fn add(&mut self, place: Place, key: Vec<Value>, state: S) -> usize {
        let slot = self.groups.len();
        match place {
            Place::Typed(hash) => {
                self.typed
                    .insert_unique(hash, (hash, slot), |&(hash, _)| hash);
            }
            Place::Other => {
                self.other.insert(self.scratch.clone(), slot);
            }
        }
        self.groups.push((key, state));
        slot
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
        self.typed.clear();
        self.other.clear();
        std::mem::take(&mut self.groups)
    }

    /// Merges the groups of `later`, made from rows that came after all of
    /// this one's (`--threads`), as [`Groups::merge`](crate::aggregate::Groups::merge)
    /// does: a group both have gets `merge(state, later_state)`, a new one
    /// is added in `later`'s first-seen order.
    pub fn merge(&mut self, later: TypedGroups<K, S>, mut merge: impl FnMut(&mut S, S)) {
        for (key, state) in later.groups {
            match self.find(&key) {
                Ok(slot) => merge(&mut self.groups[slot].1, state),
                Err(place) => {
                    self.add(place, key, state);
                }
            }
        }
    }
}

/// True when `a` and `b` have equal views as `P`.
fn same<P: KeyPart>(a: &Value, b: &Value) -> bool {
    P::view(a) == P::view(b)
}

/// The state of `dcount(x)` / `dcountif(x, p)` over a value of a known
/// type: the distinct non-null values, hashed by their typed view (see
/// [`KeyPart`]); values outside the type are counted by identity, as the
/// generic [`Aggregate::DCount`](crate::aggregate::Aggregate::DCount) does.
pub struct DistinctCount<P> {
    /// Each distinct typed value's hash and the value.
    typed: HashTable<(u64, Value)>,
    /// The values outside `P`'s type.
    other: Seen,
    /// How many values `other` holds.
    other_count: i64,
    hasher: RandomState,
    part: PhantomData<P>,
}

impl<P> Default for DistinctCount<P> {
    fn default() -> DistinctCount<P> {
        DistinctCount {
            typed: HashTable::new(),
            other: Seen::default(),
            other_count: 0,
            hasher: RandomState::new(),
            part: PhantomData,
        }
    }
}

impl<P> std::fmt::Debug for DistinctCount<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DistinctCount")
            .field("count", &self.count())
            .finish_non_exhaustive()
    }
}

impl<P> DistinctCount<P> {
    /// The number of distinct values so far.
    pub fn count(&self) -> i64 {
        self.typed.len() as i64 + self.other_count
    }

    /// The result: the count as a long.
    pub fn finish(self) -> Value {
        Value::Long(self.count())
    }
}

impl<P: KeyPart> DistinctCount<P> {
    /// Adds one row's value (null is not counted).
    pub fn add(&mut self, value: &Value) {
        if value.is_null() {
            return;
        }
        self.insert(value, |v| v.clone());
    }

    /// Adds `value` if new, keeping `keep(value)`.
    fn insert<'v>(&mut self, value: &'v Value, keep: impl FnOnce(&'v Value) -> Value) {
        match P::view(value) {
            Some(view) => {
                let hash = self.hasher.hash_one(view);
                let found = self
                    .typed
                    .find(hash, |(h, seen)| *h == hash && same::<P>(seen, value))
                    .is_some();
                if !found {
                    let kept = keep(value);
                    self.typed
                        .insert_unique(hash, (hash, kept), |(hash, _)| *hash);
                }
            }
            None => {
                if self.other.first_time(std::slice::from_ref(value)) {
                    self.other_count += 1;
                }
            }
        }
    }

    /// Merges the values of `later` (`--threads`): the count is that of one
    /// pass over both sets of rows.
    pub fn merge(&mut self, later: DistinctCount<P>) {
        for (_, value) in later.typed {
            self.insert(&value, Value::clone);
        }
        self.other_count += self.other.merge(later.other);
    }
}

#[cfg(test)]
mod tests {
    use super::group_key::{Guid, Long, Real, Text};
    use super::*;
    use crate::aggregate::Groups;
    use crate::value::Str;

    /// Rows whose values fit and do not fit their key types group exactly
    /// as the generic groups do, in the same order with the same values.
    #[test]
    fn typed_groups_group_as_generic_groups_do() {
        let s = Value::from_static;
        let rows: Vec<[Value; 3]> = vec![
            [s("a"), Value::Long(1), Value::Real(0.0)],
            [s(""), Value::Int(1), Value::Real(-0.0)],
            [Value::Null, Value::Null, Value::Real(f64::NAN)],
            [s("a"), Value::Int(1), Value::Real(-0.0)],
            [s(""), Value::Null, Value::Real(-f64::NAN)],
            // Values outside their types: grouped by identity.
            [Value::Long(1), Value::Real(1.0), Value::Long(0)],
            [Value::Long(1), Value::Real(1.0), Value::Int(0)],
            [Value::Null, Value::from_static("1"), Value::Null],
            [Value::Null, Value::Null, Value::Null],
            [s("a"), Value::Long(1), Value::Real(0.0)],
        ];
        let mut generic: Groups<i64> = Groups::default();
        let mut typed: TypedGroups<(Text, Long, Real), i64> = TypedGroups::default();
        for row in &rows {
            let key = [&row[0], &row[1], &row[2]];
            *generic.entry_ref(&key, || 0) += 1;
            *typed.entry(&key, || 0) += 1;
        }
        let generic = generic.drain();
        assert_eq!(generic.len(), 7, "{generic:?}");
        assert_eq!(format!("{:?}", typed.drain()), format!("{generic:?}"));
    }

    #[test]
    fn guid_keys_ignore_case() {
        let guid = |g: &'static str| Value::Guid(Str::Static(g));
        let mut typed: TypedGroups<(Guid,), i64> = TypedGroups::default();
        for g in ["ab-CD", "AB-cd", "ab-ce"] {
            *typed.entry(&[&guid(g)], || 0) += 1;
        }
        let counts: Vec<i64> = typed.drain().into_iter().map(|(_, n)| n).collect();
        assert_eq!(counts, [2, 1]);
    }

    /// Split at every point and merged, typed groups keep the first-seen
    /// order and states of one pass.
    #[test]
    fn merged_typed_groups_equal_one_pass() {
        let keys: Vec<Value> = [3, 1, 3, 2, 1, 4]
            .into_iter()
            .map(Value::Long)
            .chain([Value::Real(1.0), Value::Long(2)])
            .collect();
        let run = |rows: &[Value]| {
            let mut groups: TypedGroups<(Long,), i64> = TypedGroups::default();
            for (i, key) in rows.iter().enumerate() {
                *groups.entry(&[key], || 0) += i as i64 + 1;
            }
            groups
        };
        let mut one = run(&keys);
        let expected = format!("{:?}", one.drain());
        for split in 0..=keys.len() {
            let mut first = run(&keys[..split]);
            let later = {
                let mut groups: TypedGroups<(Long,), i64> = TypedGroups::default();
                for (i, key) in keys[split..].iter().enumerate() {
                    *groups.entry(&[key], || 0) += (split + i) as i64 + 1;
                }
                groups
            };
            first.merge(later, |a, b| *a += b);
            assert_eq!(format!("{:?}", first.drain()), expected, "split at {split}");
        }
    }

    /// `DistinctCount` counts as the generic `dcount`, values outside the
    /// type included, in one pass and merged.
    #[test]
    fn distinct_count_counts_as_generic_dcount() {
        let values = [
            Value::Long(1),
            Value::Int(1),
            Value::Null,
            Value::Real(1.0),
            Value::from_static("1"),
            Value::Long(2),
            Value::from_static("1"),
            Value::Real(1.0),
        ];
        let mut generic = crate::aggregate::Aggregate::dcount();
        for v in &values {
            generic.add(v, &[]);
        }
        let expected = generic.finish(0);
        for split in 0..=values.len() {
            let (mut first, mut later) = (
                DistinctCount::<Long>::default(),
                DistinctCount::<Long>::default(),
            );
            values[..split].iter().for_each(|v| first.add(v));
            values[split..].iter().for_each(|v| later.add(v));
            first.merge(later);
            assert_eq!(vec![first.finish()], expected, "split at {split}");
        }
        assert_eq!(expected, [Value::Long(4)]);
    }
}
