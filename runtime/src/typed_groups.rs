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
//!
//! The aggregate states here ([`Sum`], [`Average`], [`Min`], [`Max`],
//! [`ArgMin`], [`ArgMax`], [`DistinctCount`], [`MakeSet`], [`MakeList`],
//! [`TakeAny`]) keep the same rule: a value of
//! the type the compiler expects is added in place (an `i64` or `f64` sum, a
//! comparison of `&str`s), and any other value is added as the generic
//! [`Aggregate`](crate::aggregate::Aggregate) adds it, so the result is the
//! generic one, bit for bit, whatever the values. [`OneGroup`] holds the
//! states of a `summarize` without `by`.

use crate::aggregate::{as_f64, default_cap_hit, identity, max_size, Seen};
use crate::ops;
use crate::value::Value;
use foldhash::fast::RandomState;
use hashbrown::HashTable;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
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
            hasher: RandomState::default(),
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

/// The typed half of a set of distinct values ([`DistinctCount`],
/// [`MakeSet`]): each value of the key type `P` found by its view, hashed
/// and compared in place; an entry `E` holds or locates the value. Values
/// outside the type are the caller's (found by identity).
struct TypedIndex<P, E> {
    table: HashTable<(u64, E)>,
    hasher: RandomState,
    part: PhantomData<P>,
}

impl<P, E> Default for TypedIndex<P, E> {
    fn default() -> TypedIndex<P, E> {
        TypedIndex {
            table: HashTable::new(),
            hasher: RandomState::default(),
            part: PhantomData,
        }
    }
}

impl<P: KeyPart, E> TypedIndex<P, E> {
    /// Whether `item` is seen for the first time, storing `entry()` for it
    /// then; `None` when it is not of `P`'s type (nor null). `holds` says
    /// whether an entry is a value with `item`'s view.
    #[inline]
    fn first_time(
        &mut self,
        item: &Value,
        holds: impl Fn(&E, &Value) -> bool,
        entry: impl FnOnce() -> E,
    ) -> Option<bool> {
        let hash = self.hasher.hash_one(P::view(item)?);
        let found = (self.table)
            .find(hash, |(h, e)| *h == hash && holds(e, item))
            .is_some();
        if !found {
            self.table
                .insert_unique(hash, (hash, entry()), |(hash, _)| *hash);
        }
        Some(!found)
    }
}

impl<P, E> TypedIndex<P, E> {
    /// How many values it holds.
    fn len(&self) -> usize {
        self.table.len()
    }

    /// The entries, in no order.
    fn into_entries(self) -> impl Iterator<Item = E> {
        self.table.into_iter().map(|(_, entry)| entry)
    }
}

/// Hands `take` a row's value as `make_set` and `make_list` take it: null
/// gives nothing, a dynamic array each of its items until `take` says
/// false, anything else itself.
#[inline]
fn each_item(value: &Value, mut take: impl FnMut(&Value) -> bool) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for item in items.iter() {
                if !take(item) {
                    break;
                }
            }
        }
        value => {
            take(value);
        }
    }
}

/// The state of `dcount(x)` / `dcountif(x, p)` over a value of a known
/// type: the distinct non-null values, hashed by their typed view (see
/// [`KeyPart`]); values outside the type are counted by identity, as the
/// generic [`Aggregate::DCount`](crate::aggregate::Aggregate::DCount) does.
pub struct DistinctCount<P> {
    /// The distinct typed values.
    typed: TypedIndex<P, Value>,
    /// The values outside `P`'s type.
    other: Seen,
    /// How many values `other` holds.
    other_count: i64,
}

impl<P> Default for DistinctCount<P> {
    fn default() -> DistinctCount<P> {
        DistinctCount {
            typed: TypedIndex::default(),
            other: Seen::default(),
            other_count: 0,
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
    #[inline]
    fn insert<'v>(&mut self, value: &'v Value, keep: impl FnOnce(&'v Value) -> Value) {
        let typed =
            self.typed
                .first_time(value, |seen, value| same::<P>(seen, value), || keep(value));
        if typed.is_none() && self.other.first_time(std::slice::from_ref(value)) {
            self.other_count += 1;
        }
    }

    /// Merges the values of `later` (`--threads`): the count is that of one
    /// pass over both sets of rows.
    pub fn merge(&mut self, later: DistinctCount<P>) {
        for value in later.typed.into_entries() {
            self.insert(&value, Value::clone);
        }
        self.other_count += self.other.merge(later.other);
    }
}

/// The one group of a `summarize` without `by`: made by the first row, or
/// at the end by [`OneGroup::take`] when no row came (such a `summarize`
/// gives one row even for no input).
#[derive(Debug)]
pub struct OneGroup<S>(Option<S>);

impl<S> Default for OneGroup<S> {
    fn default() -> OneGroup<S> {
        OneGroup(None)
    }
}

impl<S> OneGroup<S> {
    /// The group's state, made by `init` for the first row.
    pub fn entry(&mut self, init: impl FnOnce() -> S) -> &mut S {
        self.0.get_or_insert_with(init)
    }

    /// Takes the state out: the rows' one, or `init()` over no rows.
    pub fn take(&mut self, init: impl FnOnce() -> S) -> S {
        self.0.take().unwrap_or_else(init)
    }

    /// Merges the state of `later`, made from rows that came after all of
    /// this one's (`--threads`), as [`TypedGroups::merge`] does for the
    /// group of the empty key.
    pub fn merge(&mut self, later: OneGroup<S>, merge: impl FnOnce(&mut S, S)) {
        let Some(later) = later.0 else {
            return;
        };
        match &mut self.0 {
            Some(state) => merge(state, later),
            None => self.0 = Some(later),
        }
    }
}

/// The state of `sum(x)` / `sumif(x, p)` of long or real values: the total
/// as an `i64` or `f64` while the values are of its type (ints join a long
/// total), and as the generic
/// [`Aggregate::Sum`](crate::aggregate::Aggregate::Sum) keeps it once a
/// value of another type comes (`ops::add`: a real turns a long total into
/// a real one, a value that does not add makes it null, and the next value
/// starts it again). Each variant is the generic state's value, so the
/// total is the generic one: longs wrap on overflow, reals add in row order.
#[derive(Debug)]
pub enum Sum {
    /// A long total.
    Long(i64),
    /// A real total.
    Real(f64),
    /// Any other total, null included.
    Other(Value),
}

impl Sum {
    /// A sum of longs: 0 over no values.
    pub fn long() -> Sum {
        Sum::Long(0)
    }

    /// A sum of reals: 0 over no values.
    pub fn real() -> Sum {
        Sum::Real(0.0)
    }

    /// Adds one row's value (null is ignored).
    #[inline]
    pub fn add(&mut self, value: &Value) {
        match (&mut *self, value) {
            (_, Value::Null) => {}
            (Sum::Long(total), Value::Long(n)) => *total = total.wrapping_add(*n),
            (Sum::Long(total), Value::Int(n)) => *total = total.wrapping_add(i64::from(*n)),
            (Sum::Real(total), Value::Real(x)) => *total += x,
            _ => self.add_value(value),
        }
    }

    /// Adds a non-null value as the generic state does.
    fn add_value(&mut self, value: &Value) {
        let total = std::mem::replace(self, Sum::Other(Value::Null)).finish();
        let total = if total.is_null() {
            value.clone()
        } else {
            ops::add(&total, value)
        };
        *self = match total {
            Value::Long(n) => Sum::Long(n),
            Value::Real(x) => Sum::Real(x),
            other => Sum::Other(other),
        };
    }

    /// Merges the total of `later` (`--threads`), as the generic state does.
    pub fn merge(&mut self, later: Sum) {
        let later = later.finish();
        if !later.is_null() {
            self.add_value(&later);
        }
    }

    /// The result: the total.
    pub fn finish(self) -> Value {
        match self {
            Sum::Long(n) => Value::Long(n),
            Sum::Real(x) => Value::Real(x),
            Sum::Other(total) => total,
        }
    }
}

/// The state of `avg(x)` / `avgif(x, p)` of long or real values: the sum
/// (as `f64`) and count of the numbers, added in row order as the generic
/// [`Aggregate::Avg`](crate::aggregate::Aggregate::Avg) adds them (other
/// values are ignored), so the mean is the same to the last bit.
#[derive(Debug, Default)]
pub struct Average {
    sum: f64,
    count: i64,
}

impl Average {
    /// Adds one row's value (null and non-numbers are ignored).
    #[inline]
    pub fn add(&mut self, value: &Value) {
        if let Some(x) = as_f64(value) {
            self.sum += x;
            self.count += 1;
        }
    }

    /// Merges the sum and count of `later` (`--threads`).
    pub fn merge(&mut self, later: Average) {
        self.sum += later.sum;
        self.count += later.count;
    }

    /// The result: the mean as a real, null over no values.
    pub fn finish(self) -> Value {
        if self.count == 0 {
            Value::Null
        } else {
            Value::Real(self.sum / self.count as f64)
        }
    }
}

/// A key type whose values `min`, `max`, `arg_min` and `arg_max` order in
/// place.
pub trait Ordered {
    /// What is compared: `a < b` exactly when `ops::lt` of the values is
    /// true, `a > b` when `ops::gt` is.
    type Key<'a>: PartialOrd;

    /// The key of a non-null `value`; `None` when it is not of this type
    /// (it is then compared with `ops::lt`/`ops::gt`).
    fn key(value: &Value) -> Option<Self::Key<'_>>;
}

impl Ordered for group_key::Long {
    type Key<'a> = i64;
    fn key(value: &Value) -> Option<i64> {
        match value {
            Value::Long(n) => Some(*n),
            Value::Int(n) => Some(i64::from(*n)),
            _ => None,
        }
    }
}

/// Reals compare as `f64`: a NaN is neither less nor greater than any
/// value, as `ops::lt` gives null for it.
impl Ordered for group_key::Real {
    type Key<'a> = f64;
    fn key(value: &Value) -> Option<f64> {
        match value {
            Value::Real(x) => Some(*x),
            _ => None,
        }
    }
}

/// Strings compare ordinally, by their bytes.
impl Ordered for group_key::Text {
    type Key<'a> = &'a str;
    fn key(value: &Value) -> Option<&str> {
        match value {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }
}

impl Ordered for group_key::Bool {
    type Key<'a> = bool;
    fn key(value: &Value) -> Option<bool> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl Ordered for group_key::DateTime {
    type Key<'a> = i64;
    fn key(value: &Value) -> Option<i64> {
        match value {
            Value::DateTime(d) => Some(d.0),
            _ => None,
        }
    }
}

impl Ordered for group_key::TimeSpan {
    type Key<'a> = i64;
    fn key(value: &Value) -> Option<i64> {
        match value {
            Value::TimeSpan(t) => Some(t.0),
            _ => None,
        }
    }
}

/// Whether the non-null `value` replaces the non-null `best`: it is
/// strictly less (`MAX` false) or greater (true), so ties keep the earlier
/// row.
#[inline]
fn beats<P: Ordered, const MAX: bool>(value: &Value, best: &Value) -> bool {
    match (P::key(value), P::key(best)) {
        (Some(a), Some(b)) if MAX => a > b,
        (Some(a), Some(b)) => a < b,
        _ if MAX => ops::is_true(&ops::gt(value, best)),
        _ => ops::is_true(&ops::lt(value, best)),
    }
}

/// The state of `min` / `minif` (`MAX` false) or `max` / `maxif` (true) of
/// values of the key type `P`: the best non-null value so far, the first
/// of equal ones, compared as the generic
/// [`Aggregate::Min`](crate::aggregate::Aggregate::Min) does; null over no
/// values. Named [`Min`] and [`Max`].
#[derive(Debug)]
pub struct Extreme<P, const MAX: bool> {
    best: Value,
    part: PhantomData<P>,
}

/// The state of `min(x)` / `minif(x, p)` (see [`Extreme`]).
pub type Min<P> = Extreme<P, false>;

/// The state of `max(x)` / `maxif(x, p)` (see [`Extreme`]).
pub type Max<P> = Extreme<P, true>;

impl<P, const MAX: bool> Default for Extreme<P, MAX> {
    fn default() -> Extreme<P, MAX> {
        Extreme {
            best: Value::Null,
            part: PhantomData,
        }
    }
}

/// Whether the value `value` takes the place of `best` in a `min`/`max`
/// (`MAX` false or true): it is not null, and `best` is null or beaten.
#[inline]
fn takes_place<P: Ordered, const MAX: bool>(value: &Value, best: &Value) -> bool {
    !value.is_null() && (best.is_null() || beats::<P, MAX>(value, best))
}

impl<P: Ordered, const MAX: bool> Extreme<P, MAX> {
    /// Adds one row's value (null is ignored).
    #[inline]
    pub fn add(&mut self, value: &Value) {
        if takes_place::<P, MAX>(value, &self.best) {
            self.best = value.clone();
        }
    }

    /// Merges the best value of `later` (`--threads`): it wins only when
    /// strictly better, as in one pass.
    pub fn merge(&mut self, later: Extreme<P, MAX>) {
        if takes_place::<P, MAX>(&later.best, &self.best) {
            self.best = later.best;
        }
    }

    /// The result: the best value, null over no values.
    pub fn finish(self) -> Value {
        self.best
    }
}

/// The state of `arg_min` (`MAX` false) or `arg_max` (true) with a first
/// argument of the key type `P`: the best non-null value and the values
/// its row carries, compared as [`Extreme`] compares (the first row of
/// equal values wins). While no row has a non-null value, the first row's
/// carried values are kept, as the generic
/// [`Aggregate::ArgMax`](crate::aggregate::Aggregate::ArgMax) does. The
/// carried values are computed only for a row that is kept. Named
/// [`ArgMin`] and [`ArgMax`].
#[derive(Debug)]
pub struct ArgExtreme<P, const MAX: bool> {
    best: Value,
    carried: Vec<Value>,
    part: PhantomData<P>,
}

/// The state of `arg_min(x, ...)` (see [`ArgExtreme`]).
pub type ArgMin<P> = ArgExtreme<P, false>;

/// The state of `arg_max(x, ...)` (see [`ArgExtreme`]).
pub type ArgMax<P> = ArgExtreme<P, true>;

impl<P, const MAX: bool> Default for ArgExtreme<P, MAX> {
    fn default() -> ArgExtreme<P, MAX> {
        ArgExtreme {
            best: Value::Null,
            carried: Vec::new(),
            part: PhantomData,
        }
    }
}

/// What an `arg_min`/`arg_max` keeps of a row ([`ArgExtreme::keeps`]).
enum Keep {
    /// Its value and carried values: the value takes the best's place.
    Both,
    /// Its carried values only: no row had a non-null value, nor carried
    /// values, before it.
    Carried,
    /// Nothing.
    Neither,
}

impl<P: Ordered, const MAX: bool> ArgExtreme<P, MAX> {
    /// What a row of value `value` replaces, the same in one pass and in
    /// a merge.
    #[inline]
    fn keeps(&self, value: &Value) -> Keep {
        if takes_place::<P, MAX>(value, &self.best) {
            Keep::Both
        } else if self.best.is_null() && self.carried.is_empty() {
            Keep::Carried
        } else {
            Keep::Neither
        }
    }

    /// Adds one row: its value, and its carried values (made only when
    /// the row is kept).
    #[inline]
    pub fn add(&mut self, value: &Value, carried: impl FnOnce() -> Vec<Value>) {
        match self.keeps(value) {
            Keep::Both => {
                self.best = value.clone();
                self.carried = carried();
            }
            Keep::Carried => self.carried = carried(),
            Keep::Neither => {}
        }
    }

    /// Merges the state of `later` (`--threads`), as one pass would.
    pub fn merge(&mut self, later: ArgExtreme<P, MAX>) {
        let ArgExtreme { best, carried, .. } = later;
        match self.keeps(&best) {
            Keep::Both => {
                self.best = best;
                self.carried = carried;
            }
            Keep::Carried => self.carried = carried,
            Keep::Neither => {}
        }
    }

    /// The result: the best value, then `width` carried values (null when
    /// no row had a non-null value, nor carried values).
    pub fn finish(mut self, width: usize) -> Vec<Value> {
        self.carried.resize(width, Value::Null);
        std::iter::once(self.best).chain(self.carried).collect()
    }
}

/// The state of `make_set(x [, max])` / `make_set_if(x, p [, max])` of
/// values of the key type `P`: the distinct values in first-seen order,
/// found by their typed view (see [`KeyPart`]) where the generic
/// [`Aggregate::MakeSet`](crate::aggregate::Aggregate::MakeSet) writes
/// identity bytes; values outside the type (a dynamic array's items
/// included: an array adds its items) are found by identity, as there.
/// Once the set holds `max` values nothing more is kept, and a new value
/// is noted as the generic state notes it (`budget::cap_hit`).
pub struct MakeSet<P> {
    /// Each distinct typed value's position in `values`.
    typed: TypedIndex<P, usize>,
    /// The values outside `P`'s type.
    other: Seen,
    /// The set's values, in first-seen order, then the typed values first
    /// seen after it was full (kept to compare new values with).
    values: Vec<Value>,
    /// How many of `values` are the set's.
    kept: usize,
    limit: usize,
}

impl<P> std::fmt::Debug for MakeSet<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MakeSet")
            .field("values", &&self.values[..self.kept])
            .finish_non_exhaustive()
    }
}

impl<P: KeyPart> MakeSet<P> {
    /// A set of at most `limit` values (null or not a positive integer:
    /// the default size).
    pub fn new(limit: &Value) -> MakeSet<P> {
        MakeSet {
            typed: TypedIndex::default(),
            other: Seen::default(),
            values: Vec::new(),
            kept: 0,
            limit: max_size(limit),
        }
    }

    /// Adds one row's value: null is ignored, an array adds its items.
    #[inline]
    pub fn add(&mut self, value: &Value) {
        each_item(value, |item| self.insert(item));
    }

    /// Adds `item` if it is new; false when it is new but the set is full
    /// (the rest of the row's items are then not looked at).
    fn insert(&mut self, item: &Value) -> bool {
        let full = self.kept >= self.limit;
        let values = &self.values;
        let position = values.len();
        let typed = self.typed.first_time(
            item,
            |&slot, item| same::<P>(&values[slot], item),
            || position,
        );
        let new = match typed {
            Some(new) => {
                if new {
                    self.values.push(item.clone());
                }
                new
            }
            None => {
                let new = self.other.first_time(std::slice::from_ref(item));
                if new && !full {
                    self.values.push(item.clone());
                }
                new
            }
        };
        if new && full {
            default_cap_hit(self.limit, "make_set");
            return false;
        }
        if new {
            self.kept += 1;
        }
        true
    }

    /// Merges the set of `later` (`--threads`): its values in order, as
    /// the generic state merges them, so the set is that of one pass.
    pub fn merge(&mut self, later: MakeSet<P>) {
        let MakeSet {
            mut values, kept, ..
        } = later;
        values.truncate(kept);
        for item in &values {
            if !self.insert(item) {
                break;
            }
        }
    }

    /// The result: the set as a dynamic array.
    pub fn finish(mut self) -> Value {
        self.values.truncate(self.kept);
        Value::array(self.values)
    }
}

/// The state of `make_list(x [, max])` / `make_list_if(x, p [, max])`: the
/// non-null values in row order (an array adds its items), at most `max`,
/// as the generic
/// [`Aggregate::MakeList`](crate::aggregate::Aggregate::MakeList) keeps
/// them, without a list made per row.
#[derive(Debug)]
pub struct MakeList {
    items: Vec<Value>,
    limit: usize,
}

impl MakeList {
    /// A list of at most `limit` values (null or not a positive integer:
    /// the default size).
    pub fn new(limit: &Value) -> MakeList {
        MakeList {
            items: Vec::new(),
            limit: max_size(limit),
        }
    }

    /// Adds one row's value: null is ignored, an array adds its items.
    #[inline]
    pub fn add(&mut self, value: &Value) {
        each_item(value, |item| self.push(item));
    }

    /// Appends `item`; false when the list is full.
    fn push(&mut self, item: &Value) -> bool {
        if self.items.len() >= self.limit {
            default_cap_hit(self.limit, "make_list");
            return false;
        }
        self.items.push(item.clone());
        true
    }

    /// Appends the list of `later` (`--threads`), up to the size.
    pub fn merge(&mut self, later: MakeList) {
        let room = self.limit.saturating_sub(self.items.len());
        if later.items.len() > room {
            default_cap_hit(self.limit, "make_list");
        }
        self.items.extend(later.items.into_iter().take(room));
    }

    /// The result: the list as a dynamic array.
    pub fn finish(self) -> Value {
        Value::array(self.items)
    }
}

/// The state of `take_any(x)` / `take_anyif(x, p)`: the first non-null
/// value, as the generic
/// [`Aggregate::TakeAny`](crate::aggregate::Aggregate::TakeAny) keeps it.
#[derive(Debug, Default)]
pub struct TakeAny(Value);

impl TakeAny {
    /// Adds one row's value: kept while none is (or only an empty string).
    #[inline]
    pub fn add(&mut self, value: &Value) {
        if self.0.wants_any_value(value) {
            self.0 = value.clone();
        }
    }

    /// Merges the value of `later` (`--threads`).
    pub fn merge(&mut self, later: TakeAny) {
        if self.0.wants_any_value(&later.0) {
            self.0 = later.0;
        }
    }

    /// The result: the value, null over no values.
    pub fn finish(self) -> Value {
        self.0
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

    /// Values of every kind a typed aggregate may meet: its own type, ints
    /// beside longs, nulls, NaN, overflow, and values the checker did not
    /// foresee (strings, decimals, dynamic arrays).
    fn mixed_values() -> Vec<Value> {
        let s = Value::from_static;
        vec![
            Value::Null,
            Value::Long(i64::MAX),
            Value::Int(1),
            Value::Long(-3),
            Value::Real(0.5),
            Value::Real(-0.0),
            Value::Null,
            Value::Long(7),
            Value::Real(f64::NAN),
            s("b"),
            Value::Real(2.25),
            s("a"),
            Value::Long(7),
            s("12"),
            Value::Decimal(crate::decimal::Decimal::from_i64(4)),
            Value::Long(2),
            Value::array(vec![Value::Long(1)]),
            Value::DateTime(crate::value::DateTime(5)),
            Value::TimeSpan(crate::value::TimeSpan(-5)),
            Value::Bool(true),
            Value::Long(1),
            Value::DateTime(crate::value::DateTime(3)),
            Value::Bool(false),
            Value::Long(i64::MIN),
        ]
    }

    /// The generic aggregate's result over `values`, one pass.
    fn generic(mut state: crate::aggregate::Aggregate, values: &[Value], width: usize) -> String {
        for (i, v) in values.iter().enumerate() {
            state.add(v, &[Value::Long(i as i64)]);
        }
        format!("{:?}", state.finish(width))
    }

    /// Every suffix and proper prefix of `values`, so each value comes
    /// first, and last, in some run.
    fn runs(values: &[Value]) -> Vec<&[Value]> {
        let mut runs: Vec<&[Value]> = (0..values.len()).map(|i| &values[i..]).collect();
        runs.extend((1..values.len()).map(|i| &values[..i]));
        runs
    }

    /// How a test merges a later state into an earlier one.
    type Merge<'a, S> = &'a dyn Fn(&mut S, S);

    /// Asserts that a typed state over `values` finishes as `expected` (the
    /// generic result), in one pass and, with `merge`, split at every
    /// point and merged.
    fn check<S: std::fmt::Debug>(
        name: &str,
        values: &[Value],
        expected: &str,
        new: impl Fn() -> S,
        add: impl Fn(&mut S, usize, &Value),
        merge: Option<Merge<'_, S>>,
        finish: impl Fn(S) -> String,
    ) {
        let mut one = new();
        values
            .iter()
            .enumerate()
            .for_each(|(i, v)| add(&mut one, i, v));
        assert_eq!(finish(one), expected, "{name} over {values:?}");
        let Some(merge) = merge else {
            return;
        };
        for split in 0..=values.len() {
            let (mut first, mut later) = (new(), new());
            for (i, v) in values.iter().enumerate() {
                add(if i < split { &mut first } else { &mut later }, i, v);
            }
            merge(&mut first, later);
            assert_eq!(
                finish(first),
                expected,
                "{name} split at {split} over {values:?}"
            );
        }
    }

    #[test]
    fn typed_sums_and_averages_equal_the_generic_ones() {
        use crate::aggregate::Aggregate;
        let values = mixed_values();
        for run in runs(&values) {
            let longs: Vec<Value> = run
                .iter()
                .filter(|v| matches!(v, Value::Long(_) | Value::Int(_) | Value::Null))
                .cloned()
                .collect();
            let reals: Vec<Value> = run
                .iter()
                .filter(|v| matches!(v, Value::Real(_) | Value::Null))
                .cloned()
                .collect();
            for values in [run, longs.as_slice(), reals.as_slice()] {
                let long = generic(Aggregate::sum_long(), values, 0);
                let real = generic(Aggregate::sum_real(), values, 0);
                let finish = |s: Sum| format!("{:?}", vec![s.finish()]);
                let add = |s: &mut Sum, _: usize, v: &Value| s.add(v);
                // Only a sum of longs merges exactly (reals reassociate,
                // and a value that does not add restarts one pass).
                let merge: &dyn Fn(&mut Sum, Sum) = &|a, b| a.merge(b);
                let merge = (values == longs.as_slice()).then_some(merge);
                check("sum_long", values, &long, Sum::long, add, merge, finish);
                check("sum_real", values, &real, Sum::real, add, None, finish);
                let avg = generic(Aggregate::avg(), values, 0);
                check(
                    "avg",
                    values,
                    &avg,
                    Average::default,
                    |s, _, v| s.add(v),
                    None,
                    |s| format!("{:?}", vec![s.finish()]),
                );
            }
        }
        let wrapped: Vec<Value> = [i64::MAX, 2].into_iter().map(Value::Long).collect();
        let mut sum = Sum::long();
        wrapped.iter().for_each(|v| sum.add(v));
        assert_eq!(sum.finish(), Value::Long(i64::MIN + 1));
    }

    /// `min`/`max`/`arg_min`/`arg_max` of each key type give the generic
    /// results, ties and NaN included; merged where the order is total.
    #[test]
    fn typed_extremes_equal_the_generic_ones() {
        use super::group_key::{Bool, DateTime, Long, Real, Text, TimeSpan};
        use crate::aggregate::Aggregate;
        fn each<P: Ordered + std::fmt::Debug>(values: &[Value], total_order: bool) {
            let merge_min: &dyn Fn(&mut Min<P>, Min<P>) = &|a, b| a.merge(b);
            let merge_max: &dyn Fn(&mut Max<P>, Max<P>) = &|a, b| a.merge(b);
            let merge_arg_min: &dyn Fn(&mut ArgMin<P>, ArgMin<P>) = &|a, b| a.merge(b);
            let merge_arg_max: &dyn Fn(&mut ArgMax<P>, ArgMax<P>) = &|a, b| a.merge(b);
            let value = |s: Value| format!("{:?}", vec![s]);
            check(
                "min",
                values,
                &generic(Aggregate::min(), values, 0),
                Min::<P>::default,
                |s, _, v| s.add(v),
                total_order.then_some(merge_min),
                |s| value(s.finish()),
            );
            check(
                "max",
                values,
                &generic(Aggregate::max(), values, 0),
                Max::<P>::default,
                |s, _, v| s.add(v),
                total_order.then_some(merge_max),
                |s| value(s.finish()),
            );
            let carried = |i: usize| move || vec![Value::Long(i as i64)];
            check(
                "arg_min",
                values,
                &generic(Aggregate::arg_min(), values, 2),
                ArgMin::<P>::default,
                |s, i, v| s.add(v, carried(i)),
                total_order.then_some(merge_arg_min),
                |s| format!("{:?}", s.finish(2)),
            );
            check(
                "arg_max",
                values,
                &generic(Aggregate::arg_max(), values, 2),
                ArgMax::<P>::default,
                |s, i, v| s.add(v, carried(i)),
                total_order.then_some(merge_arg_max),
                |s| format!("{:?}", s.finish(2)),
            );
        }
        let values = mixed_values();
        for run in runs(&values) {
            // Every type over the mix (compared with `ops` where it does
            // not fit; a mix is not a total order, so no merge).
            each::<Long>(run, false);
            each::<Real>(run, false);
            each::<Text>(run, false);
            each::<Bool>(run, false);
            each::<DateTime>(run, false);
            each::<TimeSpan>(run, false);
            let only = |keep: fn(&Value) -> bool| -> Vec<Value> {
                run.iter().filter(|v| keep(v)).cloned().collect()
            };
            each::<Long>(
                &only(|v| matches!(v, Value::Long(_) | Value::Int(_) | Value::Null)),
                true,
            );
            each::<Real>(&only(|v| matches!(v, Value::Real(_) | Value::Null)), false);
            each::<Text>(&only(|v| matches!(v, Value::String(_) | Value::Null)), true);
            each::<Bool>(&only(|v| matches!(v, Value::Bool(_) | Value::Null)), true);
            each::<DateTime>(
                &only(|v| matches!(v, Value::DateTime(_) | Value::Null)),
                true,
            );
            each::<TimeSpan>(
                &only(|v| matches!(v, Value::TimeSpan(_) | Value::Null)),
                true,
            );
        }
    }

    /// The group of a `summarize` without `by`: one state, made over no
    /// rows at the end, merged from a later batch as one pass.
    #[test]
    fn one_group_is_made_at_the_end_when_no_row_came() {
        let mut none: OneGroup<i64> = OneGroup::default();
        assert_eq!(none.take(|| 7), 7);
        for (first, later) in [(0, 0), (0, 2), (3, 0), (3, 2)] {
            let batch = |n: i64| {
                let mut group: OneGroup<i64> = OneGroup::default();
                for _ in 0..n {
                    *group.entry(|| 100) += 1;
                }
                group
            };
            let mut group = batch(first);
            group.merge(batch(later), |a, b| *a += b - 100);
            let expected = if first + later == 0 {
                -1
            } else {
                100 + first + later
            };
            assert_eq!(group.take(|| -1), expected, "{first} then {later}");
        }
    }

    /// `make_set` of a key type, `make_list` and `take_any` give the
    /// generic results over mixed values (arrays of typed and other items,
    /// nulls, a size reached), in one pass and merged.
    #[test]
    fn typed_sets_lists_and_any_equal_the_generic_ones() {
        use super::group_key::{Long, Text};
        use crate::aggregate::Aggregate;
        let mut values = mixed_values();
        values.extend([
            Value::array(vec![
                Value::Long(7),
                Value::Long(8),
                Value::from_static("a"),
            ]),
            Value::array(vec![Value::Null, Value::array(vec![Value::Long(1)])]),
            Value::from_static("c"),
            Value::Long(9),
        ]);
        for limit in [Value::Null, Value::Long(3), Value::Long(1)] {
            for run in runs(&values) {
                let expected = generic(Aggregate::make_set(&limit), run, 0);
                let merge_long: &dyn Fn(&mut MakeSet<Long>, MakeSet<Long>) = &|a, b| a.merge(b);
                let merge_text: &dyn Fn(&mut MakeSet<Text>, MakeSet<Text>) = &|a, b| a.merge(b);
                let finish = |v: Value| format!("{:?}", vec![v]);
                check(
                    "make_set",
                    run,
                    &expected,
                    || MakeSet::<Long>::new(&limit),
                    |s, _, v| s.add(v),
                    Some(merge_long),
                    |s| finish(s.finish()),
                );
                check(
                    "make_set",
                    run,
                    &expected,
                    || MakeSet::<Text>::new(&limit),
                    |s, _, v| s.add(v),
                    Some(merge_text),
                    |s| finish(s.finish()),
                );
                let merge_list: &dyn Fn(&mut MakeList, MakeList) = &|a, b| a.merge(b);
                check(
                    "make_list",
                    run,
                    &generic(Aggregate::make_list(&limit), run, 0),
                    || MakeList::new(&limit),
                    |s, _, v| s.add(v),
                    Some(merge_list),
                    |s| finish(s.finish()),
                );
            }
        }
        for run in runs(&values) {
            let merge: &dyn Fn(&mut TakeAny, TakeAny) = &|a, b| a.merge(b);
            check(
                "take_any",
                run,
                &generic(Aggregate::take_any(), run, 0),
                TakeAny::default,
                |s, _, v| s.add(v),
                Some(merge),
                |s| format!("{:?}", vec![s.finish()]),
            );
        }
    }
}
