//! Lazy, typed reading of table rows: a line of JSON straight into the
//! [`Row`] the rules read, building only what they can observe.
//!
//! The general path ([`crate::formats::Normalizer::line`], then
//! [`crate::input::record_to_row`]) parses a whole line into a [`Value`]
//! tree and converts each column. For a row-shaped line, [`RowReader`] does
//! both in one guided pass over the text (serde's `DeserializeSeed` over
//! `serde_json`, borrowing strings from the line), with what the compiler
//! worked out about each column ([`Access`], `kqlc/src/plan/access.rs`):
//!
//! - a column no rule reads is checked (as the general path would convert
//!   it) but not built;
//! - a scalar column is converted to its type from the borrowed text;
//! - a `dynamic` column read through member chains is built as a *pruned*
//!   bag: of each object on a projected path only the projected keys are
//!   kept (any other value there is built whole, since member access on it
//!   gives null either way);
//! - everything else in the line is skipped without being built, through
//!   the same `serde_json` entry points the general path uses, so the same
//!   text is accepted (`IgnoredAny` would skip the nesting limit and number
//!   range checks).
//!
//! Whatever the reader does not expect (a type mismatch, a missing column,
//! malformed JSON, a line holding more than one value, invalid UTF-8) makes
//! it return `None`, and the caller reads the line the general way: its
//! messages and results stay exactly those of the general path. Repeated
//! keys keep the last value, as [`kql_runtime::value::Bag`] does.

use std::fmt;
use std::sync::Arc;

mod scan;
mod strings;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::formats::tables::DerivedTable;
use crate::input::convert;
use kql_runtime::json::ValueVisitor;
use kql_runtime::query::{Access, ColumnType, Table};
use kql_runtime::text;
use kql_runtime::value::{Bag, Row, Str, Value};

/// What the reader builds of one value: an owned form of [`Access`] that
/// can be merged over several rules.
#[derive(Clone, Debug, PartialEq)]
pub enum Projection {
    /// Checked, not built.
    Unread,
    /// Built whole.
    Whole,
    /// Of an object, only these keys (with what to build below each); any
    /// other value is built whole.
    Members(Vec<(Str, Projection)>),
}

impl Projection {
    /// The projection of a compiled access path.
    pub fn from_access(access: &Access) -> Projection {
        match access {
            Access::Unread => Projection::Unread,
            Access::Whole => Projection::Whole,
            Access::Members(members) => Projection::Members(
                members
                    .iter()
                    .map(|(key, below)| (Str::Static(key), Projection::from_access(below)))
                    .collect(),
            ),
        }
    }

    /// Adds what `other` builds (the union; `Whole` wins).
    pub fn merge(&mut self, other: &Projection) {
        match (&mut *self, other) {
            (Projection::Whole, _) | (_, Projection::Unread) => {}
            (_, Projection::Whole) => *self = Projection::Whole,
            (Projection::Unread, Projection::Members(_)) => *self = other.clone(),
            (Projection::Members(mine), Projection::Members(theirs)) => {
                for (key, below) in theirs {
                    match mine.iter_mut().find(|(k, _)| k == key) {
                        Some((_, slot)) => slot.merge(below),
                        None => mine.push((key.clone(), below.clone())),
                    }
                }
            }
        }
    }
}

/// Reads row-shaped lines of one table layout into rows.
#[derive(Clone, Debug)]
pub struct RowReader {
    columns: &'static [(&'static str, ColumnType)],
    /// Per column, what to build.
    projection: Vec<Projection>,
    /// Per column, whether a row must have it.
    required: Vec<bool>,
    /// Reads `CloudAuditEvents` records for derived tables ([`Self::record`])
    /// rather than rows ([`Self::row`]).
    records: bool,
    /// The strings built lately, shared while they repeat (a clone starts
    /// empty: each thread's reader has its own).
    strings: strings::StrCache,
    /// The slots of the line being read, kept from line to line.
    slots: Vec<Option<Value>>,
    /// Rows given back once read ([`Self::reuse_row`]): later rows'
    /// storage.
    spares: Vec<Row>,
}

/// The most rows a reader keeps to read later rows into.
const SPARE_ROWS: usize = 256;

/// What the `CloudAuditEvents` record must hold for a derived table's
/// column that rules observe as `observed`: the record columns it is made
/// from, with what to build of each. A constant column needs nothing.
fn derived_sources(
    table: DerivedTable,
    column: &str,
    observed: &Projection,
) -> Vec<(&'static str, Projection)> {
    let below = |key: &'static str, projection: Projection| {
        Projection::Members(vec![(Str::Static(key), projection)])
    };
    let event = |key: &'static str| vec![("RawEventData", below(key, observed.clone()))];
    let additional = |key: &'static str| vec![("AdditionalFields", below(key, Projection::Whole))];
    let ids = || {
        vec![
            ("ResourceId", Projection::Whole),
            ("AzureResourceId", Projection::Whole),
        ]
    };
    const EVENT_KEYS: [&str; 11] = [
        "Level",
        "AuditId",
        "Stage",
        "Verb",
        "User",
        "UserAgent",
        "ObjectRef",
        "ResponseStatus",
        "RequestObject",
        "ResponseObject",
        "Annotations",
    ];
    match (table, column) {
        (_, "TimeGenerated") => vec![("Timestamp", Projection::Whole)],
        (DerivedTable::AzureDiagnostics, "log_s") => {
            vec![("RawEventData", event_paths(observed.clone()))]
        }
        (DerivedTable::AzureDiagnostics, "pod_s") => additional("Pod"),
        (DerivedTable::AzureDiagnostics, "Category") => additional("Category"),
        (DerivedTable::AzureDiagnostics, "Resource") => additional("ClusterName"),
        (
            DerivedTable::AzureDiagnostics,
            "ResourceId" | "ResourceGroup" | "SubscriptionId" | "ResourceProvider" | "ResourceType"
            | "_ResourceId",
        ) => ids(),
        (DerivedTable::AzureDiagnostics, _) => Vec::new(),
        (_, "PodName") => additional("Pod"),
        (_, "_ResourceId" | "_SubscriptionId") => ids(),
        (_, "RequestUri") => event("RequestURI"),
        (_, "SourceIps") => event("SourceIPs"),
        (_, "RequestReceivedTime") => event("RequestReceivedTimestamp"),
        (_, "StageReceivedTime") => event("StageTimestamp"),
        (_, other) => match EVENT_KEYS.iter().find(|key| **key == other) {
            Some(key) => event(key),
            None => Vec::new(),
        },
    }
}

/// What to build of `RawEventData` for a projection of the event with its
/// upstream keys (`log_s`'s parse: `tables::upstream_event`). A key there
/// comes from any `RawEventData` key that the upstream spelling maps to it:
/// itself, the same with a capital first letter, and `AuditId` for
/// `auditID`. A key not starting with an ASCII letter builds the whole
/// event (the mapping of other first letters is not inverted here).
fn event_paths(log: Projection) -> Projection {
    let Projection::Members(members) = log else {
        return log;
    };
    let mut event = Vec::new();
    for (key, below) in members {
        if !key.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return Projection::Whole;
        }
        let mut capital = key.to_string();
        capital[..1].make_ascii_uppercase();
        let mut sources = vec![key.clone(), Str::from(capital)];
        if key.as_str() == "auditID" {
            sources.push(Str::Static("AuditId"));
        }
        sources.dedup();
        for source in sources {
            event.push((source, below.clone()));
        }
    }
    Projection::Members(event)
}

/// What a record must hold for any derived row, whatever the rules read:
/// the event time (scheduled rules and `--clock event` read it), whether
/// the event is an Activity Log record (`DataSource`), and the keys that
/// make `RawEventData` a Kubernetes audit event (and tell reads, for
/// `AKSAuditAdmin`).
fn record_base() -> Vec<(&'static str, Projection)> {
    let whole = |keys: &[&'static str]| {
        Projection::Members(
            keys.iter()
                .map(|k| (Str::Static(k), Projection::Whole))
                .collect(),
        )
    };
    vec![
        ("Timestamp", Projection::Whole),
        ("DataSource", Projection::Whole),
        ("RawEventData", whole(&["Verb", "AuditId", "Stage"])),
    ]
}

impl RowReader {
    /// A reader for the tables the rules read (each with the columns a row
    /// must have), building the union of what they observe; `None` when
    /// they do not share one column layout. When one of them is derived
    /// from the normalized record (`AKSAudit`, ...: its rows are not the
    /// line's own; see [`crate::formats::tables`]), the reader reads
    /// `CloudAuditEvents` records instead ([`Self::record`]), if every other
    /// table's columns are among that table's. With `None` the general path
    /// reads every line.
    pub fn for_tables(tables: &[(&'static Table, Vec<bool>)]) -> Option<RowReader> {
        if tables
            .iter()
            .any(|(t, _)| DerivedTable::of_table(t.name).is_some())
        {
            return RowReader::for_records(tables);
        }
        let (first, _) = tables.first()?;
        let columns = first.columns;
        if tables.iter().any(|(t, _)| t.columns != columns) {
            return None;
        }
        let mut projection = vec![Projection::Unread; columns.len()];
        let mut required = vec![false; columns.len()];
        for (table, needed) in tables {
            for (i, slot) in projection.iter_mut().enumerate() {
                // A table written without access paths observes everything.
                let access = table.access.get(i).unwrap_or(&Access::Whole);
                slot.merge(&Projection::from_access(access));
            }
            for (slot, &needed) in required.iter_mut().zip(needed) {
                *slot |= needed;
            }
        }
        for ((slot, &needed), (_, ty)) in projection.iter_mut().zip(&required).zip(columns) {
            // A column a rule reads is never left unbuilt, and only dynamic
            // values have members.
            let members = matches!(slot, Projection::Members(_));
            if (needed && *slot == Projection::Unread) || (members && *ty != ColumnType::Dynamic) {
                *slot = Projection::Whole;
            }
        }
        Some(RowReader {
            columns,
            projection,
            required,
            records: false,
            strings: strings::StrCache::default(),
            slots: Vec::new(),
            spares: Vec::new(),
        })
    }

    /// The reader of `CloudAuditEvents` records from which derived tables'
    /// rows are made (and rows of the other tables, laid out by
    /// `record_to_row` as the general path does). Each column is converted
    /// to its `CloudAuditEvents` type as `record_to_row` converts it (a line
    /// whose column does not convert goes to the general path), and built
    /// as far as the rules observe:
    /// - the envelope and the derived scalar columns' sources, whole
    ///   ([`record_base`]);
    /// - a derived dynamic column's source (`User` is `RawEventData.User`)
    ///   as the column is observed, and of `RawEventData` what is observed of
    ///   `AzureDiagnostics`' `log_s` (its parse);
    /// - another table's columns as observed (that table must have the
    ///   `CloudAuditEvents` columns' types; otherwise there is no reader).
    fn for_records(tables: &[(&'static Table, Vec<bool>)]) -> Option<RowReader> {
        let columns: &'static [(&'static str, ColumnType)] = &crate::formats::CLOUD_AUDIT_RECORD;
        let position = |name: &str| columns.iter().position(|(c, _)| *c == name);
        let mut projection = vec![Projection::Unread; columns.len()];
        for (name, below) in record_base() {
            projection[position(name)?].merge(&below);
        }
        for (table, required) in tables {
            let access = |i: usize| {
                let access = table.access.get(i).unwrap_or(&Access::Whole);
                match (access, required.get(i)) {
                    (Access::Unread, Some(true)) => Projection::Whole,
                    (access, _) => Projection::from_access(access),
                }
            };
            match DerivedTable::of_table(table.name) {
                Some(derived) => {
                    for (i, (name, _)) in table.columns.iter().enumerate() {
                        let observed = access(i);
                        if observed == Projection::Unread {
                            continue;
                        }
                        for (source, below) in derived_sources(derived, name, &observed) {
                            projection[position(source)?].merge(&below);
                        }
                    }
                }
                None => {
                    for (i, (name, ty)) in table.columns.iter().enumerate() {
                        let at = position(name)?;
                        if columns[at].1 != *ty {
                            return None;
                        }
                        match (access(i), ty) {
                            (Projection::Members(_), ColumnType::Dynamic)
                            | (Projection::Unread, _) => projection[at].merge(&access(i)),
                            _ => projection[at] = Projection::Whole,
                        }
                    }
                }
            }
        }
        // A row of another table that lacks a column it must have goes to
        // the general path, for its message.
        let mut required = vec![false; columns.len()];
        for (table, needed) in tables {
            if DerivedTable::of_table(table.name).is_none() {
                for ((name, _), &needed) in table.columns.iter().zip(needed) {
                    required[position(name)?] |= needed;
                }
            }
        }
        Some(RowReader {
            columns,
            required,
            projection,
            records: true,
            strings: strings::StrCache::default(),
            slots: Vec::new(),
            spares: Vec::new(),
        })
    }

    /// The column layout rows are read in (for a record reader, that of
    /// `CloudAuditEvents`).
    pub fn columns(&self) -> &'static [(&'static str, ColumnType)] {
        self.columns
    }

    /// True when the reader reads records ([`Self::record`]), not rows.
    pub fn reads_records(&self) -> bool {
        self.records
    }

    /// The `CloudAuditEvents` record of a line holding one JSON object with
    /// an object `RawEventData` (a record derived tables have rows of),
    /// with the columns present in the line, pruned to what the rules
    /// observe, and the same as a row of [`Self::columns`] (for the tables
    /// of that layout); `None` for anything else, which the general path
    /// reads.
    pub fn record(&mut self, line: &[u8]) -> Option<(Value, Row)> {
        self.read_slots(line, &mut [])?;
        let slots = std::mem::take(&mut self.slots);
        let raw = (self.columns.iter()).position(|(c, _)| *c == "RawEventData")?;
        if !matches!(slots.get(raw), Some(Some(Value::Bag(_)))) {
            return None;
        }
        let mut fields = Vec::with_capacity(8);
        let mut row = Vec::with_capacity(self.columns.len());
        for ((((name, ty), slot), projection), &required) in (self.columns.iter())
            .zip(slots)
            .zip(&self.projection)
            .zip(&self.required)
        {
            match (slot, projection) {
                (None, _) if required => return None,
                (None, _) => row.push(ty.null()),
                // Checked, not built: as if absent (no rule observes it).
                (Some(value), Projection::Unread) => row.push(value),
                (Some(value), _) => {
                    fields.push((Str::Static(name), value.clone()));
                    row.push(value);
                }
            }
        }
        Some((Value::bag(fields), row))
    }

    /// Builds column `column` whole even where no rule reads it (a live
    /// detector's scheduled rules and `--clock event` need each event's
    /// time); a row without it is not rejected for that. A record reader
    /// always builds `Timestamp`, the time of every derived row.
    pub fn also_build(&mut self, column: usize) {
        if self.records {
            return;
        }
        if let Some(slot) = self.projection.get_mut(column) {
            *slot = Projection::Whole;
        }
    }

    /// What the reader builds of each column, in row order.
    pub fn projection(&self) -> &[Projection] {
        &self.projection
    }

    /// The row of a line holding one JSON object, or `None` when the line
    /// is anything else or would be rejected: the general path must read
    /// it then, for its messages.
    pub fn row(&mut self, line: &[u8]) -> Option<Row> {
        // The row given back last, if any: its bags are refilled, and the
        // new row goes into its storage.
        let mut row = match self.spares.pop() {
            Some(row) => row,
            None => Vec::with_capacity(self.columns.len()),
        };
        let read = self.read_slots(line, &mut row);
        row.clear();
        let missing = || {
            (self.slots.iter().zip(&self.required)).any(|(slot, &needed)| slot.is_none() && needed)
        };
        if read.is_none() || missing() {
            self.spares.push(row);
            return None;
        }
        let columns = self.columns.iter();
        row.extend(
            (self.slots.drain(..).zip(columns)).map(|(slot, (_, ty))| match slot {
                Some(value) => value,
                None => ty.null(),
            }),
        );
        Some(row)
    }

    /// Takes back a row [`Self::row`] gave, once no rule holds it: the
    /// next row is read into its storage, and a `dynamic` value's bag that
    /// nothing else holds is refilled rather than made anew (its values
    /// are dropped as the next line is read).
    pub fn reuse_row(&mut self, row: Row) {
        if self.spares.len() < SPARE_ROWS {
            self.spares.push(row);
        }
    }

    /// Reads into [`Self::slots`] each column's value in a line holding
    /// one JSON object (the last, when a key repeats); `None` when the line
    /// would be rejected. The fast scanner ([`scan`]) reads what it is sure
    /// of; anything else is read through `serde_json`
    /// ([`Self::serde_slots`]), which decides.
    ///
    /// `last` is the row read before, whose bags may be refilled (see
    /// [`Self::reuse_row`]).
    fn read_slots(&mut self, line: &[u8], last: &mut [Value]) -> Option<()> {
        // Out of `self` while the scan borrows it (an empty cache and an
        // empty vector are free).
        let mut strings = std::mem::take(&mut self.strings);
        let mut slots = std::mem::take(&mut self.slots);
        let scanned = scan::slots(self, &mut strings, &mut slots, last, line);
        self.strings = strings;
        match scanned {
            Ok(()) => {
                self.slots = slots;
                Some(())
            }
            Err(scan::Fail) => {
                // The slots keep their storage for the next line.
                slots.clear();
                self.slots = slots;
                let read = self.serde_slots(std::str::from_utf8(line).ok()?)?;
                self.slots.extend(read);
                Some(())
            }
        }
    }

    /// [`Self::slots`] through `serde_json` alone.
    fn serde_slots(&self, text: &str) -> Option<Vec<Option<Value>>> {
        let mut de = serde_json::Deserializer::from_str(text);
        let slots = RowSeed(self).deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(slots)
    }
}

/// The top-level object: one slot per column, filled by the column's key
/// (the last one, when repeated).
struct RowSeed<'r>(&'r RowReader);

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = Vec<Option<Value>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = Vec<Option<Value>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let reader = self.0;
        let mut slots: Vec<Option<Value>> = vec![None; reader.columns.len()];
        let names = KeyIn(reader.columns.iter().map(|(name, _)| *name));
        while let Some(found) = map.next_key_seed(names.clone())? {
            let Some(i) = found else {
                map.next_value::<Skip>()?;
                continue;
            };
            let ty = reader.columns[i].1;
            let value = match (&reader.projection[i], ty) {
                (Projection::Unread, _) => {
                    map.next_value_seed(ScalarSeed { ty, build: false })?;
                    ty.null()
                }
                (_, ColumnType::Dynamic) => {
                    map.next_value_seed(DynamicSeed(&reader.projection[i]))?
                }
                _ => map.next_value_seed(ScalarSeed { ty, build: true })?,
            };
            slots[i] = Some(value);
        }
        Ok(slots)
    }
}

/// A key looked up among names without allocating: its position, or
/// `None` for any other key.
#[derive(Clone)]
struct KeyIn<I>(I);

impl<'de, 'k, I: Iterator<Item = &'k str>> DeserializeSeed<'de> for KeyIn<I> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'k, I: Iterator<Item = &'k str>> Visitor<'_> for KeyIn<I> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(mut self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.position(|name| name == key))
    }
}

/// A `dynamic` value, built as its projection says.
struct DynamicSeed<'p>(&'p Projection);

impl<'de> DeserializeSeed<'de> for DynamicSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Projection::Members(members) => deserializer.deserialize_any(Pruned(members)),
            Projection::Whole | Projection::Unread => Value::deserialize(deserializer),
        }
    }
}

/// A value of which, if it is an object, only some keys are kept; any other
/// value is built whole, as [`ValueVisitor`] builds it.
struct Pruned<'p>(&'p [(Str, Projection)]);

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        ValueVisitor.visit_bool(b)
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        ValueVisitor.visit_i64(n)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        ValueVisitor.visit_u64(n)
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        ValueVisitor.visit_f64(x)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        ValueVisitor.visit_str(s)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        ValueVisitor.visit_unit()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        ValueVisitor.visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let members = self.0;
        let mut entries: Vec<(Str, Value)> = Vec::new();
        let keys = KeyIn(members.iter().map(|(key, _)| key.as_str()));
        while let Some(found) = map.next_key_seed(keys.clone())? {
            match found {
                Some(i) => {
                    let (key, below) = &members[i];
                    let value = map.next_value_seed(DynamicSeed(below))?;
                    entries.push((key.clone(), value));
                }
                None => {
                    map.next_value::<Skip>()?;
                }
            }
        }
        Ok(Value::Bag(Arc::new(Bag::from_entries(entries))))
    }
}

/// A scalar column's value converted to its type exactly as
/// [`crate::input::record_to_row`] converts it, from the borrowed text;
/// with `build` false it is only checked (the result is null).
struct ScalarSeed {
    ty: ColumnType,
    build: bool,
}

impl ScalarSeed {
    fn convert<E: de::Error>(&self, value: Value) -> Result<Value, E> {
        let converted = convert(&value, self.ty).map_err(E::custom)?;
        Ok(if self.build { converted } else { Value::Null })
    }
}

impl<'de> DeserializeSeed<'de> for ScalarSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.ty == ColumnType::Dynamic {
            // Only unread dynamic columns get here: any JSON value will do.
            Skip::deserialize(deserializer)?;
            return Ok(Value::Null);
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScalarSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} value", self.ty.name())
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        self.convert(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        self.convert(ValueVisitor.visit_i64(n)?)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        self.convert(ValueVisitor.visit_u64(n)?)
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        self.convert(ValueVisitor.visit_f64(x)?)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(if self.build {
            self.ty.null()
        } else {
            Value::Null
        })
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        let mismatch = || E::custom("not a value of the column's type");
        let value = match self.ty {
            ColumnType::String if self.build => Value::string(s),
            ColumnType::Guid if self.build => Value::Guid(Str::from(s)),
            ColumnType::String | ColumnType::Guid => Value::Null,
            ColumnType::DateTime => Value::DateTime(text::parse_datetime(s).ok_or_else(mismatch)?),
            ColumnType::TimeSpan => Value::TimeSpan(text::parse_timespan(s).ok_or_else(mismatch)?),
            ColumnType::Decimal => self.convert(Value::string(s))?,
            _ => return Err(mismatch()),
        };
        Ok(if self.build { value } else { Value::Null })
    }
}

/// Any JSON value, read and dropped. Unlike `serde::de::IgnoredAny` it goes
/// through `deserialize_any`, so nesting deeper than `serde_json`'s limit,
/// numbers out of range and bad escapes fail here exactly as they fail the
/// general path; strings are borrowed, so nothing is allocated.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skip, D::Error> {
        deserializer.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_key::<Skip>()?.is_some() {
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Item, Normalizer, CLOUD_AUDIT_COLUMNS};
    use crate::input::record_to_row;
    use kql_runtime::ops;

    const COLUMNS: [(&str, ColumnType); 6] = [
        ("Timestamp", ColumnType::DateTime),
        ("OperationName", ColumnType::String),
        ("Count", ColumnType::Long),
        ("Score", ColumnType::Real),
        ("RawEventData", ColumnType::Dynamic),
        ("AdditionalFields", ColumnType::Dynamic),
    ];

    /// Reads `Timestamp`, `OperationName`, `RawEventData.ObjectRef.resource`
    /// and `RawEventData.User`; `Count`, `Score` and `AdditionalFields` are
    /// unread.
    static TABLE: Table = Table {
        name: "T",
        columns: &COLUMNS,
        used: &[0, 1, 4],
        access: &[
            Access::Whole,
            Access::Whole,
            Access::Unread,
            Access::Unread,
            Access::Members(&[
                ("ObjectRef", Access::Members(&[("resource", Access::Whole)])),
                ("User", Access::Whole),
            ]),
            Access::Unread,
        ],
    };

    fn reader() -> RowReader {
        RowReader::for_tables(&[(&TABLE, vec![true, true, false, false, true, false])])
            .expect("one table")
    }

    /// The row the general path makes of `line`, or its message.
    fn general(line: &str) -> Result<Row, String> {
        let normalizer = Normalizer::new(
            crate::formats::InputFormat::CloudAudit,
            CLOUD_AUDIT_COLUMNS.to_vec(),
        );
        let mut items: Vec<Item> = Vec::new();
        normalizer.line(line.as_bytes(), &mut items);
        let [item] = &items[..] else {
            return Err(format!("{} items", items.len()));
        };
        let record = item.as_ref().map_err(|r| r.to_string())?;
        record_to_row(
            &record.fields,
            &TABLE,
            &[true, true, false, false, true, false],
        )
    }

    /// What a rule can see of a row: the whole scalar columns and the
    /// projected paths of `RawEventData`.
    fn observed(row: &Row) -> Vec<Value> {
        let raw = &row[4];
        let object_ref = ops::member(raw, "ObjectRef");
        vec![
            row[0].clone(),
            row[1].clone(),
            ops::member(&object_ref, "resource"),
            ops::member(raw, "User"),
            ops::member(raw, "Other"),
        ]
    }

    /// The lazy reader either gives what the general path gives for all a
    /// rule can observe, or leaves the line to it; `lazy` says which is
    /// expected.
    fn agrees(line: &str, lazy: bool) {
        let fast = reader().row(line.as_bytes());
        assert_eq!(fast.is_some(), lazy, "{line}: {fast:?}");
        if let Some(fast) = fast {
            let full = general(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(observed(&fast), observed(&full), "{line}");
        }
    }

    /// The bag of `RawEventData` in a row, by address.
    fn raw_bag(row: &Row) -> Option<*const Bag> {
        match &row[4] {
            Value::Bag(bag) => Some(Arc::as_ptr(bag)),
            _ => None,
        }
    }

    /// A reader that is given back each row it reads reads the same rows
    /// as a fresh reader, into the storage of the rows given back: a long
    /// line then a short one, a line it leaves to the general path then a
    /// good one, members present then absent or not objects, repeated
    /// keys; and a bag still held elsewhere (as a group key holds it) is
    /// never refilled.
    #[test]
    fn rows_read_into_rows_given_back_are_the_rows_of_a_fresh_reader() {
        let long = r#"{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"create","Count":3,"Score":1.5,"RawEventData":{"ObjectRef":{"resource":"pods","name":"p","namespace":"kube-system"},"User":{"username":"system:serviceaccount:kube-system:a-rather-long-service-account-name","groups":["a","b"]},"RequestObject":{"big":[1,2,3]}},"AdditionalFields":{"x":1},"Extra":[{"deep":true}]}"#;
        let short =
            r#"{"Timestamp":"2024-05-28T10:00:01Z","OperationName":"get","RawEventData":{}}"#;
        let failed =
            r#"{"Timestamp":"2024-05-28T10:00:02Z","OperationName":"get","RawEventData":{"#;
        let lines = [
            long,
            short,
            long,
            failed,
            long,
            r#"{"Timestamp":"2024-05-28T10:00:03Z","OperationName":"list","RawEventData":{"ObjectRef":"pods","User":{"username":"u"}}}"#,
            r#"{"Timestamp":"2024-05-28T10:00:04Z","OperationName":"list","RawEventData":{"User":{"username":"v"},"ObjectRef":{"name":"n"}}}"#,
            r#"{"Timestamp":"2024-05-28T10:00:05Z","OperationName":"list","RawEventData":{"ObjectRef":{"resource":"a"},"ObjectRef":{"resource":"b","x":1}}}"#,
            r#"{"Timestamp":"2024-05-28T10:00:06Z","OperationName":"list","RawEventData":[1,2]}"#,
            long,
            r#"{"Timestamp":"2024-05-28T10:00:07Z","OperationName":"list"}"#,
            short,
            long,
            long,
        ];
        let mut reused = reader();
        let mut held = Vec::new();
        let mut last: Option<(*const Value, Option<*const Bag>, bool)> = None;
        for (i, line) in lines.iter().enumerate() {
            let fresh = reader().row(line.as_bytes());
            let row = reused.row(line.as_bytes());
            assert_eq!(row, fresh, "line {i}: {line}");
            let Some(row) = row else {
                // A line not read drops the last row's values.
                if let Some((_, bag, _)) = &mut last {
                    *bag = None;
                }
                continue;
            };
            if let Some((storage, bag, kept)) = last {
                assert_eq!(
                    row.as_ptr(),
                    storage,
                    "line {i}: the row's storage is reused"
                );
                let same_bag = bag.is_some() && raw_bag(&row) == bag;
                let refillable = !kept && matches!(row[4], Value::Bag(_)) && bag.is_some();
                assert_eq!(same_bag, refillable, "line {i}: {line}");
            }
            // Every third row's bag is kept, as a group key keeps it: it
            // must not change when the next line is read.
            let kept = i % 3 == 2;
            if kept {
                held.push((row[4].clone(), fresh_value(line)));
            }
            last = Some((row.as_ptr(), raw_bag(&row), kept));
            reused.reuse_row(row);
        }
        assert!(!held.is_empty());
        for (value, expected) in held {
            assert_eq!(value, expected);
        }
    }

    /// `RawEventData` of `line` as a fresh reader reads it.
    fn fresh_value(line: &str) -> Value {
        reader().row(line.as_bytes()).expect("read")[4].clone()
    }

    #[test]
    fn builds_only_the_projected_paths() {
        let line = r#"{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"create","Count":3,"RawEventData":{"ObjectRef":{"resource":"pods","name":"p"},"User":{"username":"u","groups":["a"]},"RequestObject":{"big":[1,2,3]}},"AdditionalFields":{"x":1},"Extra":[{"deep":true}]}"#;
        let row = reader().row(line.as_bytes()).expect("read lazily");
        assert_eq!(row[2], Value::Null, "unread columns are not built");
        assert_eq!(row[3], Value::Null);
        assert_eq!(row[5], Value::Null);
        let mut text = String::new();
        kql_runtime::json::write_json(&row[4], &mut text);
        assert_eq!(
            text,
            r#"{"ObjectRef":{"resource":"pods"},"User":{"username":"u","groups":["a"]}}"#
        );
        agrees(line, true);
    }

    #[test]
    fn repeated_keys_keep_the_last_value() {
        agrees(
            r#"{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"a","OperationName":"b","RawEventData":{"ObjectRef":{"resource":"x"},"ObjectRef":{"resource":"y"},"User":1,"User":{"n":2}}}"#,
            true,
        );
        // The first value has the wrong type: the general path only
        // converts the last, so either way the row is read.
        agrees(
            r#"{"Timestamp":5,"Timestamp":"2024-05-28T10:00:00Z","OperationName":"a","RawEventData":{}}"#,
            false,
        );
        assert!(general(
            r#"{"Timestamp":5,"Timestamp":"2024-05-28T10:00:00Z","OperationName":"a","RawEventData":{}}"#
        )
        .is_ok());
    }

    #[test]
    fn escaped_keys_are_the_keys_they_spell() {
        agrees(
            r#"{"Timest\u0061mp":"2024-05-28T10:00:00Z","OperationName":"a\"b","RawEventData":{"Obj\u0065ctRef":{"resourc\u0065":"p\u00f6ds"}}}"#,
            true,
        );
    }

    #[test]
    fn non_objects_on_paths_are_kept_whole() {
        for raw in [
            r#""a string""#,
            "[1,{\"ObjectRef\":2}]",
            r#"{"ObjectRef":"pods"}"#,
            r#"{"ObjectRef":[{"resource":"pods"}]}"#,
            "null",
            "12345678901234567890123",
            "-0.0",
            "1e308",
        ] {
            agrees(
                &format!(
                    r#"{{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"a","RawEventData":{raw}}}"#
                ),
                true,
            );
        }
    }

    #[test]
    fn nulls_and_absent_optional_columns_match_the_general_path() {
        agrees(
            r#"{"Timestamp":null,"OperationName":null,"Count":null,"Score":null,"RawEventData":null,"AdditionalFields":null}"#,
            true,
        );
        agrees(
            r#"{"RawEventData":{},"Timestamp":"2024-05-28","OperationName":""}"#,
            true,
        );
    }

    #[test]
    fn numbers_convert_as_the_general_path_converts_them() {
        for (count, score, lazy) in [
            ("1", "2", true),
            ("-9223372036854775808", "1.5", true),
            ("9223372036854775808", "1", false), // u64 beyond i64: a real, not a long
            ("1.0", "1", false),
            ("1", "18446744073709551615", true),
            ("\"1\"", "1", false),
            ("1", "true", false),
        ] {
            let line = format!(
                r#"{{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"a","Count":{count},"Score":{score},"RawEventData":{{}}}}"#
            );
            agrees(&line, lazy);
            assert_eq!(general(&line).is_ok(), lazy, "{line}");
        }
    }

    #[test]
    fn anything_the_general_path_rejects_is_left_to_it() {
        for line in [
            r#"{"OperationName":"a","RawEventData":{}}"#, // missing Timestamp
            r#"{"Timestamp":"yesterday","OperationName":"a","RawEventData":{}}"#, // not a datetime
            r#"{"Timestamp":"2024-05-28","OperationName":7,"RawEventData":{}}"#, // wrong type
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{}} {"Timestamp":"2024-05-28"}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{}"#,
            r#"["Timestamp"]"#,
            r#""Timestamp""#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"Extra":1e400}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"Extra":"\ud800"}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"AdditionalFields":[01]}"#,
        ] {
            assert!(reader().row(line.as_bytes()).is_none(), "{line}");
            assert!(general(line).is_err(), "{line}");
        }
        assert!(reader().row(b"{\"Timestamp\":\"\xff\"}").is_none());
    }

    #[test]
    fn nesting_beyond_the_limit_fails_as_in_the_general_path() {
        for depth in [100, 126, 127, 128, 200] {
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            for column in ["AdditionalFields", "Extra", "RawEventData"] {
                let line = format!(
                    r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}},"{column}":{deep}}}"#
                );
                let full = general(&line).is_ok();
                let fast = reader().row(line.as_bytes()).is_some();
                assert_eq!(fast, full, "depth {depth} in {column}");
            }
        }
    }

    #[test]
    fn unread_columns_are_still_checked() {
        agrees(
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"Score":"high"}"#,
            false,
        );
        agrees(
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"Count":4.5}"#,
            false,
        );
    }

    #[test]
    fn projections_merge_over_rules_and_whole_wins() {
        let mut a = Projection::from_access(&Access::Members(&[("x", Access::Whole)]));
        a.merge(&Projection::from_access(&Access::Members(&[(
            "y",
            Access::Members(&[("z", Access::Whole)]),
        )])));
        assert_eq!(
            a,
            Projection::Members(vec![
                (Str::Static("x"), Projection::Whole),
                (
                    Str::Static("y"),
                    Projection::Members(vec![(Str::Static("z"), Projection::Whole)])
                )
            ])
        );
        a.merge(&Projection::Unread);
        assert!(matches!(a, Projection::Members(_)));
        a.merge(&Projection::Whole);
        assert_eq!(a, Projection::Whole);
    }

    #[test]
    fn tables_of_different_layouts_get_no_reader() {
        static OTHER: Table = Table {
            name: "U",
            columns: &[("A", ColumnType::Long)],
            used: &[0],
            access: &[],
        };
        assert!(RowReader::for_tables(&[(&TABLE, vec![false; 6]), (&OTHER, vec![true])]).is_none());
        let both = RowReader::for_tables(&[(&TABLE, vec![false; 6]), (&TABLE, vec![true; 6])])
            .expect("one layout");
        assert_eq!(both.required, vec![true; 6]);
        // A column a rule needs is built even if no access path says so.
        assert_eq!(both.projection()[2], Projection::Whole);
    }

    /// `AKSAudit`, observing `Verb`, `User.username` and `TimeGenerated`.
    static AKS_COLUMNS: [(&str, ColumnType); 4] = [
        ("TimeGenerated", ColumnType::DateTime),
        ("Verb", ColumnType::String),
        ("User", ColumnType::Dynamic),
        ("RequestObject", ColumnType::Dynamic),
    ];
    static AKS: Table = Table {
        name: "AKSAudit",
        columns: &AKS_COLUMNS,
        used: &[0, 1, 2],
        access: &[
            Access::Whole,
            Access::Whole,
            Access::Members(&[("username", Access::Whole)]),
            Access::Unread,
        ],
    };

    /// The `AKSAudit` row the general path makes of `line`, or its message.
    fn general_aks(line: &str) -> Result<Row, String> {
        let mut items: Vec<Item> = Vec::new();
        Normalizer::new(
            crate::formats::InputFormat::CloudAudit,
            CLOUD_AUDIT_COLUMNS.to_vec(),
        )
        .line(line.as_bytes(), &mut items);
        let [Ok(record)] = &items[..] else {
            return Err(format!("{items:?}"));
        };
        let row = DerivedTable::AksAudit
            .row(&record.fields, false)
            .ok_or("no row")?;
        record_to_row(&row, &AKS, &[true, true, true, false])
    }

    #[test]
    fn records_for_derived_tables_are_pruned_to_what_rules_observe() {
        let mut reader = RowReader::for_tables(&[(&AKS, vec![true, true, true, false])])
            .expect("a record reader");
        assert!(reader.reads_records());
        let line = r#"{"Timestamp":"2024-05-28T10:00:00Z","DataSource":"Kubernetes Audit","RawEventData":{"Verb":"create","AuditId":"a-1","User":{"username":"u","groups":["g"]},"RequestObject":{"big":[1,2,3]}},"AdditionalFields":{"Pod":"p","Other":{"x":1}},"Isp":"isp"}"#;
        let (record, _) = reader.record(line.as_bytes()).expect("read lazily");
        let mut text = String::new();
        kql_runtime::json::write_json(&record, &mut text);
        assert_eq!(
            text,
            r#"{"Timestamp":"2024-05-28T10:00:00Z","DataSource":"Kubernetes Audit","RawEventData":{"Verb":"create","AuditId":"a-1","User":{"username":"u"}}}"#
        );
        let lazy = DerivedTable::AksAudit.row(&record, false).unwrap();
        let lazy = record_to_row(&lazy, &AKS, &[true, true, true, false]).unwrap();
        let full = general_aks(line).unwrap();
        assert_eq!(lazy[..2], full[..2]);
        assert_eq!(
            ops::member(&lazy[2], "username"),
            ops::member(&full[2], "username")
        );
        // Not a record with an event object: the general path reads it.
        for line in [
            r#"{"Timestamp":"2024-05-28T10:00:00Z","Verb":"create"}"#,
            r#"{"RawEventData":"text"}"#,
            r#"{"RawEventData":{"Verb":"get"}} trailing"#,
        ] {
            assert!(reader.record(line.as_bytes()).is_none(), "{line}");
        }
        // The keys that make the event a Kubernetes audit event are built
        // whatever the rules read (here `Stage`, as the general path has it).
        let mistyped =
            r#"{"Timestamp":"2024-05-28T10:00:00Z","RawEventData":{"Verb":"get","Stage":{"x":1}}}"#;
        let (record, _) = reader.record(mistyped.as_bytes()).unwrap();
        assert_eq!(
            ops::member(&ops::member(&record, "RawEventData"), "Stage"),
            general_record(mistyped)
        );
    }

    /// What the fast scanner makes of `line`: `None` when it leaves the
    /// line to `serde_json`. Where it reads the line, `serde_json` must read
    /// it to the same slots.
    fn scanned(reader: &RowReader, line: &str) -> Option<Vec<Option<Value>>> {
        scanned_bytes(reader, line.as_bytes())
    }

    /// [`scanned`] of any bytes: where the scanner reads them, they are
    /// UTF-8 and `serde_json` reads them to the same slots.
    fn scanned_bytes(reader: &RowReader, line: &[u8]) -> Option<Vec<Option<Value>>> {
        let mut slots = Vec::new();
        let fast = (scan::slots(reader, &mut Default::default(), &mut slots, &mut [], line).ok())
            .map(|()| slots);
        if let Some(fast) = &fast {
            let text = std::str::from_utf8(line)
                .unwrap_or_else(|e| panic!("the scanner read invalid UTF-8 ({e}): {line:?}"));
            let slow = reader.serde_slots(text);
            assert_eq!(slow.as_ref(), Some(fast), "{text}");
        }
        fast
    }

    #[test]
    fn the_scanner_reads_ordinary_lines_as_serde_json_does() {
        let reader = reader();
        for line in [
            r#"{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"create","Count":3,"RawEventData":{"ObjectRef":{"resource":"pods","name":"p"},"User":{"username":"u","groups":["a"]},"RequestObject":{"big":[1,2.5,-3e2,true,false,null,{}]}},"AdditionalFields":{"x":1},"Extra":[{"deep":true}]}"#,
            // Escapes in keys and values, unicode escapes, a surrogate pair.
            r#"{"Timest\u0061mp":"2024-05-28T10:00:00Z","OperationName":"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00","RawEventData":{"Obj\u0065ctRef":{"resourc\u0065":"p\u00f6ds"},"User":"\u0000"}}"#,
            // Missing members, nulls, non-objects on projected paths.
            r#"{"Timestamp":null,"OperationName":null,"Count":null,"Score":null,"RawEventData":null,"AdditionalFields":null}"#,
            r#"{"RawEventData":{"ObjectRef":"pods","User":[1,{"a":2}]},"Timestamp":"2024-05-28","OperationName":""}"#,
            r#"{"RawEventData":{"ObjectRef":{"resource":12345678901234567890123},"User":-0},"OperationName":"x"}"#,
            // Whitespace between tokens, repeated keys, keys out of order.
            " { \"OperationName\" : \"a\" , \"OperationName\":\"b\",\"RawEventData\" : { \"User\" : 1 , \"User\" : { \"n\" : 2 } } } ",
            r#"{"Score":1.5,"Count":-9223372036854775808,"Timestamp":"2024-05-28T10:00:00.1234567+02:00","OperationName":"a","RawEventData":{}}"#,
            // Numbers as strings, and odd timestamps (with offsets and fractions).
            r#"{"Timestamp":"2024-02-29T23:59:59.9999999-05:30","OperationName":"1","RawEventData":{"User":"42"}}"#,
            r#"{"Timestamp":"2024-05-28 10:00:00","OperationName":"a","RawEventData":{},"Extra":1e5,"More":[1E-5,0.0,10]}"#,
            // Tabs, carriage returns and newlines between tokens.
            "{\"Timestamp\":\"2024-05-28\",\t\"OperationName\"\r\n:\t\"a\",\"RawEventData\":{\"User\":[\t1\n]}}\r\n",
            // Non-ASCII text (two, three and four bytes) in keys and values.
            r#"{"Timestamp":"2024-05-28","OperationName":"créé ✓ 😀","RawEventData":{"ObjectRef":{"resource":"pöds","ñame":"✓"},"User":{"名前":"ü"}},"Ünread":["😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"]}"#,
        ] {
            assert!(scanned(&reader, line).is_some(), "the scanner gave up on {line}");
        }
    }

    #[test]
    fn the_scanner_leaves_what_it_is_unsure_of_to_serde_json() {
        let reader = reader();
        for line in [
            "{\"Timestamp\":\"2024-05-28\",\"OperationName\":\"a\tb\",\"RawEventData\":{}}", // a tab in a string
            "{\"Timestamp\":\"2024-05-28\",\"OperationName\":\"a\",\"RawEventData\":{},\"X\":\"\u{7}\"}",
            "{\"Timestamp\":\"2024-05-28\",\u{c}\"OperationName\":\"a\",\"RawEventData\":{}}", // a form feed between tokens
            r#"{"Timestamp":"2024-05-28","OperationName":"\ud800","RawEventData":{}}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"\udc00","RawEventData":{}}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"\ud800\u0041","RawEventData":{}}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":1e400}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":[01]}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":[1,]}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":{"a":1,}}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":"\x"}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":"\u12"}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":-}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":1.}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"X":tru}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{}} x"#,
            r#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{}"#,
            r#"{"Timestamp":"yesterday","OperationName":"a","RawEventData":{}}"#,
            r#"{"Timestamp":"2024-05-28","OperationName":7,"RawEventData":{}}"#,
            r#"["Timestamp"]"#,
        ] {
            assert!(scan::slots(&reader, &mut Default::default(), &mut Vec::new(), &mut [], line.as_bytes()).is_err(), "{line}");
        }
        // Long numbers and those with exponents are range-checked by
        // serde_json itself.
        let long = format!(
            r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}},"X":{}}}"#,
            "9".repeat(scan::LONG_NUMBER + 1)
        );
        assert!(scanned(&reader, &long).is_some());
        let huge = format!(
            r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}},"X":1{}}}"#,
            "0".repeat(400)
        );
        // 10^400 is out of range: serde_json's check rejects it.
        assert!(scanned(&reader, &huge).is_none());
        assert!(reader.serde_slots(&huge).is_none());
    }

    #[test]
    fn the_scanner_counts_nesting_as_serde_json_does() {
        let reader = reader();
        for depth in [125, 126, 127, 128] {
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            for column in ["Extra", "RawEventData", "AdditionalFields"] {
                let line = format!(
                    r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{"User":{deep}}},"{column}":{deep}}}"#
                );
                let fast = scanned(&reader, &line).is_some();
                assert_eq!(
                    fast,
                    reader.serde_slots(&line).is_some(),
                    "{depth} {column}"
                );
            }
        }
    }

    /// Every byte of a line replaced by each of the bytes JSON's grammar
    /// turns on: whatever the scanner reads, serde_json reads the same way
    /// (checked in [`scanned`]), and the scanner reads most of what
    /// serde_json reads.
    #[test]
    fn the_scanner_agrees_with_serde_json_on_mutated_lines() {
        let reader = reader();
        let line = r#"{"Timestamp":"2024-05-28T10:00:00.5Z","OperationName":"cr\"éate","Count":30,"Score":-1.5e3,"RawEventData":{"ObjectRef":{"resource":"pöds","n":[1,{"a":null}]},"User":{"username":"u\u00e9é","groups":["a",true,false]}},"AdditionalFields":{"x":-0.25},"Extra":[{"deep":[]}]}"#;
        let (mut both, mut serde_only) = (0, 0);
        for at in 0..line.len() {
            // The grammar's bytes, whitespace and control bytes, and bytes
            // that break or start a multi-byte character (the line's `é`).
            for byte in (*br#"{}[]",:\ 0-.eEu1tfnx"#)
                .into_iter()
                .chain([b'\t', b'\n', 0x0c, 0x01, 0x7f, 0x80, 0xa9, 0xc3, 0xe2, 0xff])
            {
                let mut mutated = line.as_bytes().to_vec();
                mutated[at] = byte;
                let slow = std::str::from_utf8(&mutated)
                    .ok()
                    .and_then(|text| reader.serde_slots(text));
                match (scanned_bytes(&reader, &mutated), slow) {
                    (Some(_), _) => both += 1,
                    (None, Some(_)) => serde_only += 1,
                    (None, None) => {}
                }
            }
        }
        assert!(both > 1000, "the scanner read {both} lines");
        assert!(serde_only < both / 20, "{serde_only} left to serde_json");
    }

    /// The chunk search (SSE2 `movemask` on x86_64, the portable loop
    /// elsewhere) against the definition, for every byte value at every
    /// offset of a chunk (so in each 16-byte half), alone and with a
    /// special byte after it, over plain bytes of every value that is not
    /// special, including the neighbours of the special ones.
    #[test]
    fn first_special_agrees_with_the_definition_for_every_byte_at_every_offset() {
        let plain: Vec<u8> = (0..=255u8).filter(|&b| !scan::special(b)).collect();
        assert_eq!(plain.len(), 256 - 2 - 0x20 - 0x80);
        for fill in [b'a', b' ', b'!', b'#', b'[', b']', 0x7f] {
            for at in 0..scan::CHUNK {
                for byte in 0..=255u8 {
                    let mut chunk = [fill; scan::CHUNK];
                    // Every plain byte appears at every other offset too.
                    for (i, slot) in chunk.iter_mut().enumerate() {
                        if (i + usize::from(byte)) % 3 == 0 {
                            *slot = plain[(i * 7 + usize::from(byte)) % plain.len()];
                        }
                    }
                    chunk[at] = byte;
                    let want = chunk.iter().position(|&b| scan::special(b));
                    assert_eq!(want.is_some_and(|w| w == at), scan::special(byte));
                    assert_eq!(scan::first_special(&chunk), want, "{byte:#x} at {at}");
                    assert_eq!(
                        scan::first_special_portable(&chunk),
                        want,
                        "{byte:#x} at {at}"
                    );
                    // A second special byte later does not hide the first.
                    if at + 1 < scan::CHUNK {
                        chunk[scan::CHUNK - 1] = b'"';
                        let want = chunk.iter().position(|&b| scan::special(b));
                        assert_eq!(scan::first_special(&chunk), want, "{byte:#x} at {at}");
                        assert_eq!(scan::first_special_portable(&chunk), want);
                    }
                }
            }
        }
    }

    #[test]
    fn find_special_finds_the_first_in_any_position() {
        // Lengths over several chunks, so each position is met in a whole
        // chunk and in the padded last one.
        let specials = [b'"', b'\\', 0x00, 0x1f, 0x80, 0xc3, 0xff];
        let plain = [b'a', b' ', 0x7f, b'!', b'#', b'['];
        for len in 0..scan::CHUNK * 4 + 3 {
            for at in 0..=len {
                for byte in specials {
                    let mut bytes: Vec<u8> = (0..len).map(|i| plain[i % plain.len()]).collect();
                    if at < len {
                        bytes[at] = byte;
                        // A later match does not hide the first.
                        bytes.extend_from_slice("\"é\\\u{1}".as_bytes());
                    }
                    let want = (at < len).then_some(at);
                    assert_eq!(scan::find_special(&bytes, 0), want, "{bytes:?}");
                }
            }
        }
        assert_eq!(scan::find_special(b"ab\"cd\"", 3), Some(5));
        // From any start, including the end and near it.
        let text = format!("{}\"", "x".repeat(70));
        for from in 0..=text.len() {
            let want = (from < text.len()).then_some(text.len() - 1);
            assert_eq!(scan::find_special(text.as_bytes(), from), want);
        }
        assert_eq!(scan::find_special(b"abc", 7), None);
        assert_eq!(scan::find_special(b"abc", 3), None);
    }

    /// Keys compared a word at a time: equal only when every byte is, at
    /// every length (the word sizes and the overlapping last word) and with
    /// a difference at every position.
    #[test]
    fn keys_are_compared_byte_for_byte() {
        for len in 0..40 {
            let name: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            assert!(scan::same_key(&name, &name.clone()), "{len}");
            for at in 0..len {
                for flip in [1, 0x20, 0x80] {
                    let mut other = name.clone();
                    other[at] ^= flip;
                    assert!(!scan::same_key(&name, &other), "{len} {at} {flip}");
                }
            }
            let mut longer = name.clone();
            longer.push(b'a');
            assert!(!scan::same_key(&name, &longer));
            assert!(!scan::same_key(&longer, &name));
        }
    }

    /// Runs of backslashes before a quote, at every offset across several
    /// of the search's steps: an odd run escapes the quote (the string
    /// goes on), an even run does not. In a read value, a skipped value and a key, the
    /// scanner reads each line as serde_json does (checked in
    /// [`scanned`]); well-formed lines are all read, and a run that
    /// swallows the closing quote is rejected by both.
    #[test]
    fn the_scanner_reads_backslash_runs_across_search_steps() {
        let reader = reader();
        for at in 0..scan::CHUNK * 2 + 8 {
            for run in 1..=5 {
                let text = format!("{}{}", "a".repeat(at), "\\".repeat(run));
                // An odd run needs a character to escape: the quote, then more.
                let text = if run % 2 == 1 {
                    format!("{text}\"b")
                } else {
                    text
                };
                for line in [
                    format!(
                        r#"{{"Timestamp":"2024-05-28","OperationName":"{text}","RawEventData":{{}}}}"#
                    ),
                    format!(
                        r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}},"Extra":["{text}",{{"{text}":1}}]}}"#
                    ),
                    format!(
                        r#"{{"{text}":"{text}","Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}}}}"#
                    ),
                ] {
                    assert!(
                        scanned(&reader, &line).is_some(),
                        "the scanner gave up on {line}"
                    );
                }
                let want = serde_json::from_str::<String>(&format!("\"{text}\"")).unwrap();
                let line = format!(
                    r#"{{"Timestamp":"2024-05-28","OperationName":"{text}","RawEventData":{{}}}}"#
                );
                assert_eq!(
                    scanned(&reader, &line).unwrap()[1],
                    Some(Value::string(&*want))
                );
                // One backslash more or less: the closing quote is escaped
                // (or a lone quote ends the string early).
                let odd = format!("{}{}", "a".repeat(at), "\\".repeat(run | 1));
                for line in [
                    format!(
                        r#"{{"Timestamp":"2024-05-28","OperationName":"{odd}","RawEventData":{{}}}}"#
                    ),
                    format!(
                        r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}},"Extra":["{odd}"]}}"#
                    ),
                ] {
                    assert!(scanned(&reader, &line).is_none(), "{line}");
                    assert!(reader.serde_slots(&line).is_none(), "{line}");
                }
            }
        }
    }

    /// A long line of many of the search's steps, with strings of every
    /// length starting at every offset of a step, read and skipped: read as serde_json reads
    /// it, with every value as it was written.
    #[test]
    fn the_scanner_reads_strings_at_every_offset_of_a_step() {
        let reader = reader();
        for first in 0..scan::CHUNK + 1 {
            let mut items = Vec::new();
            for len in 0..scan::CHUNK + 3 {
                items.push(format!("\"{}\"", "s".repeat(len)));
            }
            let items = items.join(",");
            let text = "t".repeat(first);
            let line = format!(
                r#"{{"Timestamp":"2024-05-28","OperationName":"{text}","Extra":[{items}],"RawEventData":{{"User":[{items}]}}}}"#
            );
            let slots = scanned(&reader, &line).unwrap_or_else(|| panic!("gave up on {line}"));
            assert_eq!(slots[1], Some(Value::string(&*text)));
            let Some(Value::Bag(event)) = &slots[4] else {
                panic!("{:?}", slots[4]);
            };
            let Some(Value::Array(user)) = event.get("User") else {
                panic!("{event:?}");
            };
            assert_eq!(user.len(), scan::CHUNK + 3);
            for (len, item) in user.iter().enumerate() {
                assert_eq!(item, &Value::string(&*"s".repeat(len)));
            }
        }
    }

    /// Long strings, with escapes and multi-byte characters at every
    /// offset over several of the search's chunks: keys and values, read
    /// and skipped, as serde_json reads them; a bad escape, a control byte
    /// or a broken character there is still left to serde_json.
    #[test]
    fn the_scanner_reads_long_strings_with_escapes_anywhere() {
        let mut reader = reader();
        for at in 0..scan::CHUNK * 4 + 40 {
            for escape in [r#"\""#, r"\\", r"\u00e9", r"\ud83d\ude00", r"\n", "é", "😀"] {
                let text = format!("{}{escape}{}", "a".repeat(at), "b".repeat(90 - at.min(90)));
                let line = format!(
                    r#"{{"Timestamp":"2024-05-28","OperationName":"{text}","RawEventData":{{"ObjectRef":{{"resource":"{text}","{text}":["{text}"]}},"User":"{text}"}},"Extra":{{"{text}":"{text}"}},"Score":1}}"#
                );
                let slots = scanned(&reader, &line)
                    .unwrap_or_else(|| panic!("the scanner gave up on {line}"));
                let want = serde_json::from_str::<String>(&format!("\"{text}\"")).unwrap();
                assert_eq!(slots[1], Some(Value::string(&*want)), "{line}");
            }
            for bad in [r"\x", r"\u12", r"\ud800", "\u{1}"] {
                let text = format!("{}{bad}{}", "a".repeat(at), "z".repeat(60));
                for line in [
                    format!(
                        r#"{{"Timestamp":"2024-05-28","OperationName":"{text}","RawEventData":{{}}}}"#
                    ),
                    format!(
                        r#"{{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{{}},"Extra":["{text}"]}}"#
                    ),
                ] {
                    assert!(
                        scan::slots(
                            &reader,
                            &mut Default::default(),
                            &mut Vec::new(),
                            &mut [],
                            line.as_bytes()
                        )
                        .is_err(),
                        "{line}"
                    );
                }
            }
            // Invalid UTF-8 in a string: a lone continuation byte, a
            // truncated character, an overlong encoding, an encoded
            // surrogate, a byte that never occurs.
            let bad: [&[u8]; 6] = [
                &[0x80],
                &[0xc3],
                &[0xe2, 0x9c],
                &[0xc0, 0xaf],
                &[0xed, 0xa0, 0x80],
                &[0xff],
            ];
            for bad in bad {
                let mut text = "a".repeat(at).into_bytes();
                text.extend_from_slice(bad);
                text.extend_from_slice("zé".as_bytes());
                let around: [(&[u8], &[u8]); 3] = [
                    (
                        br#"{"Timestamp":"2024-05-28","OperationName":""#,
                        br#"","RawEventData":{}}"#,
                    ),
                    (
                        br#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},"Extra":[""#,
                        br#""]}"#,
                    ),
                    (
                        br#"{"Timestamp":"2024-05-28","OperationName":"a","RawEventData":{},""#,
                        br#"":1}"#,
                    ),
                ];
                for (before, after) in around {
                    let line = [before, &text, after].concat();
                    assert!(
                        scan::slots(
                            &reader,
                            &mut Default::default(),
                            &mut Vec::new(),
                            &mut [],
                            &line
                        )
                        .is_err(),
                        "{line:?}"
                    );
                    assert!(reader.row(&line).is_none(), "{line:?}");
                }
            }
        }
    }

    /// A small deterministic generator (xorshift) for the random lines.
    struct Xorshift(u64);

    impl Xorshift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A random JSON-like value: mostly well-formed, with escapes,
    /// non-ASCII and control bytes, surrogates, long numbers and deep
    /// nesting now and then.
    fn random_value(rng: &mut Xorshift, depth: u32, out: &mut Vec<u8>) {
        const ATOMS: &[&str] = &[
            "0",
            "-1",
            "12.5",
            "-0.0e-3",
            "1e400",
            "123456789012345678901234567890",
            "true",
            "false",
            "null",
            r#""""#,
            r#""pods""#,
            r#""a\"b""#,
            r#""\u00e9\ud83d\ude00""#,
            r#""\ud800""#,
            r#""\udc00x""#,
            r#""é✓😀""#,
            r#""\/\b\f\n\r\t""#,
        ];
        const STRING_BYTES: &[u8] = b"abc \"\\/\xc3\xa9\x01\x7f\xff\xe2\x9c\x93{}[]:,";
        match rng.below(if depth > 40 { 4 } else { 6 }) {
            0..=2 => out.extend_from_slice(ATOMS[rng.below(ATOMS.len())].as_bytes()),
            3 => {
                out.push(b'"');
                for _ in 0..rng.below(40) {
                    out.push(STRING_BYTES[rng.below(STRING_BYTES.len())]);
                }
                out.push(b'"');
            }
            4 => {
                out.push(b'[');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(b',');
                    }
                    random_value(rng, depth + 1, out);
                }
                out.push(b']');
            }
            _ => {
                out.push(b'{');
                for i in 0..rng.below(4) {
                    if i > 0 {
                        out.push(b',');
                    }
                    let keys = ["ObjectRef", "resource", "User", "x", "Ünread", r#"a\"b"#];
                    out.extend_from_slice(
                        format!("\"{}\":", keys[rng.below(keys.len())]).as_bytes(),
                    );
                    random_value(rng, depth + 1, out);
                }
                out.push(b'}');
            }
        }
    }

    /// Random lines over the reader's columns and others, a third with one
    /// byte changed, some nested near the limit: wherever the scanner reads
    /// a line, `serde_json` reads it to the same slots (checked in
    /// [`scanned_bytes`]), and the scanner reads most of what it reads.
    #[test]
    fn the_scanner_agrees_with_serde_json_on_random_lines() {
        let reader = reader();
        let mut reused = self::reader();
        let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
        let keys = [
            "Timestamp",
            "OperationName",
            "Count",
            "Score",
            "RawEventData",
            "AdditionalFields",
            "Extra",
        ];
        let (mut both, mut serde_only) = (0, 0);
        for round in 0..20_000 {
            let mut line = br#"{"Timestamp":"2024-05-28T10:00:00Z","OperationName":"a""#.to_vec();
            for _ in 0..rng.below(6) {
                line.extend_from_slice(format!(",\"{}\":", keys[rng.below(keys.len())]).as_bytes());
                if rng.below(50) == 0 {
                    let depth = 120 + rng.below(10);
                    line.extend(std::iter::repeat_n(b'[', depth));
                    line.extend(std::iter::repeat_n(b']', depth));
                } else {
                    random_value(&mut rng, 1, &mut line);
                }
            }
            line.push(b'}');
            if round % 3 == 0 {
                let at = rng.below(line.len());
                line[at] = rng.next() as u8;
            }
            let fast = scanned_bytes(&reader, &line);
            let slow = std::str::from_utf8(&line)
                .ok()
                .and_then(|text| reader.serde_slots(text));
            // A reader that is given back its rows, its bags refilled and
            // its strings shared from line to line, reads what a fresh
            // one reads.
            let row = reused.row(&line);
            assert_eq!(row, self::reader().row(&line), "{line:?}");
            if let Some(row) = row {
                reused.reuse_row(row);
            }
            match (fast, slow) {
                (Some(_), _) => both += 1,
                (None, Some(_)) => serde_only += 1,
                (None, None) => {}
            }
        }
        assert!(both > 2000, "the scanner read {both} lines");
        assert!(
            serde_only < both / 10,
            "{serde_only} left to serde_json, {both} read"
        );
    }

    /// `RawEventData.Stage` of the general path's record of `line`.
    fn general_record(line: &str) -> Value {
        let value = kql_runtime::text::parse_json_text(line).unwrap();
        ops::member(&ops::member(&value, "RawEventData"), "Stage")
    }
}
