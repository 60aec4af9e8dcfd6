//! The one value type of KQL at run time.
//!
//! Every scalar KQL type (`bool`, `int`, `long`, `real`, `decimal`, `string`, `datetime`,
//! `timespan`, `guid`) and `dynamic` share [`Value`]. Null is a value
//! ([`Value::Null`]), and every operation in this crate documents what it does
//! with it. The static KQL type of an expression is known to the compiler; at
//! run time a value of static type `dynamic` may hold any variant, including
//! [`Value::Array`] and [`Value::Bag`], which only dynamic values hold.
//!
//! KQL strings are never null: an absent string is the empty string.

use std::fmt;
use std::sync::Arc;

use crate::decimal::Decimal;

/// A string shared cheaply: literals from the query are borrowed for
/// `'static`, strings read from input are reference counted.
#[derive(Clone)]
pub enum Str {
    /// A string literal compiled into the detector.
    Static(&'static str),
    /// A string made at run time.
    Shared(Arc<str>),
    /// A JSON document made at run time from a value, whose text is
    /// written when first read: `parse_json` of it is the value, without
    /// writing or parsing anything (see [`JsonText`]).
    Json(Arc<JsonText>),
}

impl Str {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            Str::Static(s) => s,
            Str::Shared(s) => s,
            Str::Json(json) => json.text(),
        }
    }

    /// The JSON text of `value` (compact, as `tostring` writes a dynamic
    /// value), written only when read.
    pub fn json(value: Value) -> Str {
        Str::Json(Arc::new(JsonText {
            value,
            text: std::sync::OnceLock::new(),
        }))
    }

    /// The value this text is known to parse to, when it is the JSON text
    /// of a value ([`Str::json`]).
    pub fn known_parse(&self) -> Option<&Value> {
        match self {
            Str::Json(json) => Some(&json.value),
            _ => None,
        }
    }
}

/// The JSON text of a value, as a string column holds it when the detector
/// makes the column from a parsed value (`AzureDiagnostics`' `log_s` is the
/// audit event re-serialized). `parse_json` of it takes the value as it is,
/// and the text is written only if something reads it. The value is the
/// document as it was read, so its parse is exactly the parse of the
/// original text; the written text may spell a number differently (a real
/// `1.0` is written `1`, which would parse as a long: `docs/semantics.md`).
pub struct JsonText {
    value: Value,
    text: std::sync::OnceLock<Box<str>>,
}

impl JsonText {
    /// The text, written on first use.
    pub fn text(&self) -> &str {
        self.text.get_or_init(|| {
            let mut text = String::new();
            crate::json::write_json(&self.value, &mut text);
            text.into_boxed_str()
        })
    }
}

impl std::ops::Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl std::hash::Hash for Str {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::Shared(Arc::from(s))
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::Shared(Arc::from(s))
    }
}

/// A point in time: 100-nanosecond ticks since the Unix epoch, UTC (KQL's
/// `datetime` has tick precision).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub i64);

/// A duration in 100-nanosecond ticks (KQL's `timespan`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeSpan(pub i64);

/// Ticks (100 ns) per unit, for building [`TimeSpan`]s and [`DateTime`]s.
pub mod ticks {
    /// Ticks in one microsecond.
    pub const PER_MICROSECOND: i64 = 10;
    /// Ticks in one millisecond.
    pub const PER_MILLISECOND: i64 = 10_000;
    /// Ticks in one second.
    pub const PER_SECOND: i64 = 10_000_000;
    /// Ticks in one minute.
    pub const PER_MINUTE: i64 = 60 * PER_SECOND;
    /// Ticks in one hour.
    pub const PER_HOUR: i64 = 60 * PER_MINUTE;
    /// Ticks in one day.
    pub const PER_DAY: i64 = 24 * PER_HOUR;
}

/// If `name` is the name kqlc gives the hidden column of an open row
/// (`evaluate bag_unpack` without an output schema: `\0bag_unpack#N\0PREFIX`),
/// the prefix of the columns its bag's members become. Row writers write
/// such a column as those members ([`open_bag_members`]).
pub fn open_bag_prefix(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('\0')?.strip_prefix("bag_unpack#")?;
    Some(rest.split_once('\0')?.1)
}

/// The columns an open row's hidden bag `value` adds to a written row:
/// each non-null member as `PREFIX` + key, in key order (as Kusto orders
/// `bag_unpack`'s columns), except those whose name `taken` says is
/// already a column of the row. Anything but a bag adds none.
pub fn open_bag_members<'v>(
    prefix: &str,
    value: &'v Value,
    taken: impl Fn(&str) -> bool,
) -> Vec<(String, &'v Value)> {
    let Value::Bag(bag) = value else {
        return Vec::new();
    };
    let mut members: Vec<(String, &Value)> = bag
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (format!("{prefix}{k}"), v))
        .filter(|(name, _)| !taken(name))
        .collect();
    members.sort_by(|a, b| a.0.cmp(&b.0));
    members
}

/// A property bag: keys in insertion order, each key once (a later insert of
/// the same key replaces the value, as JSON parsers do). Keys are compared
/// case-sensitively, as in Kusto.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bag {
    entries: Vec<(Str, Value)>,
}

impl Bag {
    /// An empty bag.
    pub fn new() -> Bag {
        Bag::default()
    }

    /// A bag from entries in order. A repeated key keeps its first position
    /// and its last value (as JSON parsers do); large inputs are deduplicated
    /// with a hash set, so a record with many keys costs linear time.
    pub fn from_entries(entries: Vec<(Str, Value)>) -> Bag {
        const LINEAR_LIMIT: usize = 16;
        if entries.len() <= LINEAR_LIMIT {
            // Most objects repeat no key: keep the vector as it is.
            let repeats = (1..entries.len())
                .any(|i| entries[..i].iter().any(|(key, _)| *key == entries[i].0));
            if !repeats {
                return Bag { entries };
            }
            let mut bag = Bag {
                entries: Vec::with_capacity(entries.len()),
            };
            for (key, value) in entries {
                bag.insert(key, value);
            }
            return bag;
        }
        let mut first: std::collections::HashMap<Str, usize> = std::collections::HashMap::new();
        let mut deduped: Vec<(Str, Value)> = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            match first.get(&key) {
                Some(&i) => deduped[i].1 = value,
                None => {
                    first.insert(key.clone(), deduped.len());
                    deduped.push((key, value));
                }
            }
        }
        Bag { entries: deduped }
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`, keeping the key's first position.
    pub fn insert(&mut self, key: Str, value: Value) {
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((key, value)),
        }
    }

    /// The entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the bag has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Takes the entries out in order, leaving the bag empty: a reader
    /// that builds the same bag for every line refills one it alone
    /// holds, keeping the vector's storage, rather than allocating anew.
    pub fn take_entries(&mut self) -> Vec<(Str, Value)> {
        std::mem::take(&mut self.entries)
    }
}

/// A KQL value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    /// The null of any type (strings excepted: they have no null).
    #[default]
    Null,
    /// `bool`.
    Bool(bool),
    /// `int` (32-bit).
    Int(i32),
    /// `long` (64-bit).
    Long(i64),
    /// `real` (64-bit IEEE float).
    Real(f64),
    /// `decimal` (38 exact digits: [`Decimal`]).
    Decimal(Decimal),
    /// `string`.
    String(Str),
    /// `datetime`.
    DateTime(DateTime),
    /// `timespan`.
    TimeSpan(TimeSpan),
    /// `guid`, kept as its canonical lowercase text.
    Guid(Str),
    /// A dynamic array.
    Array(Arc<Vec<Value>>),
    /// A dynamic property bag.
    Bag(Arc<Bag>),
}

impl Value {
    /// A string value from a literal, without allocating.
    pub const fn from_static(s: &'static str) -> Value {
        Value::String(Str::Static(s))
    }

    /// A string value from run-time text.
    pub fn string(s: impl Into<Str>) -> Value {
        Value::String(s.into())
    }

    /// True for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether `take_any` should still replace this value by `next`: it
    /// is null, or the empty string while `next` is not null
    /// (take-any-aggregation-function.md: "it will attempt to return a
    /// non-null/non-empty value, if such value is present").
    pub fn wants_any_value(&self, next: &Value) -> bool {
        match self {
            Value::Null => true,
            Value::String(s) => s.as_str().is_empty() && !next.is_null(),
            _ => false,
        }
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// A name for the variant as KQL's `gettype` prints it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Real(_) => "real",
            Value::Decimal(_) => "decimal",
            Value::String(_) => "string",
            Value::DateTime(_) => "datetime",
            Value::TimeSpan(_) => "timespan",
            Value::Guid(_) => "guid",
            Value::Array(_) => "array",
            Value::Bag(_) => "dictionary",
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Long(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Int(n)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Real(n)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s.into())
    }
}

impl From<Option<bool>> for Value {
    fn from(b: Option<bool>) -> Value {
        b.map_or(Value::Null, Value::Bool)
    }
}

/// A row: one value per column, in the column order the compiler fixed.
pub type Row = Vec<Value>;

impl Value {
    /// A dynamic array.
    pub fn array(items: Vec<Value>) -> Value {
        Value::Array(Arc::new(items))
    }

    /// A dynamic property bag from entries in order (a repeated key keeps
    /// its first position and its last value).
    pub fn bag(entries: Vec<(Str, Value)>) -> Value {
        Value::Bag(Arc::new(Bag::from_entries(entries)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bags_keep_first_position_and_last_value_for_repeated_keys() {
        for size in [3, 100] {
            let mut entries: Vec<(Str, Value)> = (0..size)
                .map(|i| (Str::from(format!("k{i}")), Value::Long(i)))
                .collect();
            entries.push((Str::from("k1"), Value::Long(-1)));
            let bag = Bag::from_entries(entries);
            assert_eq!(bag.len(), size as usize);
            assert_eq!(bag.get("k1"), Some(&Value::Long(-1)));
            assert_eq!(bag.iter().nth(1).map(|(k, _)| k), Some("k1"));
        }
    }

    #[test]
    fn taken_entries_leave_an_empty_bag_and_keep_their_order() {
        let mut bag = Bag::from_entries(vec![
            (Str::from("b"), Value::Long(1)),
            (Str::from("a"), Value::Long(2)),
        ]);
        let entries = bag.take_entries();
        assert!(bag.is_empty());
        assert_eq!(bag.get("a"), None);
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "a"]);
    }
}
