//! The contract between generated code and the detector harness.
//!
//! kqlc turns each rule into a type implementing [`Query`]: rows are pushed
//! in one at a time and results come out through an `emit` callback, so a
//! detector streams input of any size in constant memory (operators that
//! must see every row, such as `count`, hold only their state).

use crate::context::Context;
use crate::prefilter::Prefilter;
use crate::value::{Row, Value};

/// The callback that receives result rows.
pub type Emit<'a> = &'a mut dyn FnMut(Row);

/// A column type, as the reader converts input values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `long`.
    Long,
    /// `real`.
    Real,
    /// `decimal`.
    Decimal,
    /// `string`.
    String,
    /// `datetime`.
    DateTime,
    /// `timespan`.
    TimeSpan,
    /// `guid`.
    Guid,
    /// `dynamic`.
    Dynamic,
}

impl ColumnType {
    /// The KQL name of the type.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Bool => "bool",
            ColumnType::Int => "int",
            ColumnType::Long => "long",
            ColumnType::Real => "real",
            ColumnType::Decimal => "decimal",
            ColumnType::String => "string",
            ColumnType::DateTime => "datetime",
            ColumnType::TimeSpan => "timespan",
            ColumnType::Guid => "guid",
            ColumnType::Dynamic => "dynamic",
        }
    }

    /// The value of this type that an absent or JSON-null input gives: the
    /// empty string for strings (KQL strings are never null), null otherwise.
    pub fn null(self) -> Value {
        match self {
            ColumnType::String => Value::from_static(""),
            _ => Value::Null,
        }
    }
}

/// What a query can observe of one input column, as the compiler worked it
/// out (`kqlc/src/plan/access.rs`): the reader builds only that much.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// The query never reads the column: it is checked, not built.
    Unread,
    /// The query may read all of the value.
    Whole,
    /// The query reads the value only through constant member chains
    /// (`C.a.b`, `C["a"]`): of an object, only these keys (each with what is
    /// read below it) are kept; any other value is kept whole.
    Members(&'static [(&'static str, Access)]),
}

/// A table a query reads: its columns in row order, and which of them the
/// query uses (a row that lacks a used column is rejected with a message).
#[derive(Debug)]
pub struct Table {
    /// The table name.
    pub name: &'static str,
    /// Column names and types, in row order.
    pub columns: &'static [(&'static str, ColumnType)],
    /// Positions of the columns the query reads.
    pub used: &'static [usize],
    /// What the query can observe of each column, in row order (empty: all
    /// of every column, as for tables written by hand).
    pub access: &'static [Access],
}

/// A compiled query.
pub trait Query {
    /// The rule's name (its file stem).
    fn name(&self) -> &'static str;
    /// The table it reads, or `None` when its rows are written in the query
    /// (`print`, `datatable`).
    fn input(&self) -> Option<&'static Table>;
    /// The result column names, in order.
    fn output(&self) -> &'static [&'static str];
    /// Produces the rows written in the query, if any. Called once, first.
    fn start(&mut self, ctx: &Context, emit: Emit<'_>) {
        let _ = (ctx, emit);
    }
    /// What a line must contain for this query to produce a row from it
    /// (see [`crate::prefilter`]); lines that cannot match are not parsed.
    fn prefilter(&self) -> &'static Prefilter {
        static ALWAYS: Prefilter = Prefilter::Always;
        &ALWAYS
    }
    /// What went wrong in [`Query::start`] (an `externaldata` file that
    /// cannot be read, ...), taken once: the run must not go on without
    /// the data.
    fn take_errors(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Processes one input row (laid out as [`Query::input`] says).
    fn push(&mut self, ctx: &Context, row: Row, emit: Emit<'_>);
    /// [`Query::push`] of a row the caller keeps: a rule whose first
    /// operators only read the row (filters, then `summarize`) takes it by
    /// reference, and the caller reuses the row's storage for the next one
    /// ([`Query::borrows_rows`]). By default the rule gets a copy.
    fn push_borrowed(&mut self, ctx: &Context, row: &Row, emit: Emit<'_>) {
        self.push(ctx, row.clone(), emit);
    }
    /// True when [`Query::push_borrowed`] takes the row without copying
    /// it: a caller holding a row then lends it rather than giving it.
    fn borrows_rows(&self) -> bool {
        false
    }
    /// Called once after the last row: operators that wait for the whole
    /// input (`count`) emit here.
    fn finish(&mut self, ctx: &Context, emit: Emit<'_>) {
        let _ = (ctx, emit);
    }
    /// A scheduled run in a live detector, per input row: the rule's
    /// stateless prefix (its operators before the first one that keeps
    /// state or reads `now()`), whose rows go to `emit` to be kept until
    /// the next tick. By default the prefix is empty: the row itself.
    fn push_prefix(&mut self, ctx: &Context, row: Row, emit: Emit<'_>) {
        let _ = ctx;
        emit(row);
    }
    /// A scheduled run, at a tick: the rest of the rule on a row that
    /// [`Query::push_prefix`] gave (on a [`Query::fresh`] value, then
    /// [`Query::finish`]). By default the whole rule.
    fn push_rest(&mut self, ctx: &Context, row: Row, emit: Emit<'_>) {
        self.push(ctx, row, emit);
    }
    /// A new value of this rule, without state: what each scheduled run
    /// starts from. `None` when the rule cannot be scheduled (it keeps no
    /// state, or was written by hand).
    fn fresh(&self) -> Option<Box<dyn Query>> {
        None
    }
    /// `--threads`: a new value of this rule, without state, for a worker
    /// thread to push one batch of rows into (on the same [`Context`]),
    /// whose state [`Query::merge_partial`] then merges into this one's.
    /// Only rules that give no row before [`Query::finish`] and whose
    /// state merges exactly as one pass computes it have one (a stateless
    /// prefix, then `summarize` with mergeable aggregates); `None` for the
    /// rest, which take every row on the calling thread.
    fn partial(&self) -> Option<Box<dyn Query + Send>> {
        None
    }
    /// Merges the state of `partial` (made by [`Query::partial`]), which
    /// took rows that came after all the rows this value has taken.
    fn merge_partial(&mut self, partial: Box<dyn Query + Send>) {
        let _ = partial;
    }
    /// The value itself, for [`Query::merge_partial`] to take its state
    /// (`None`: a rule without [`Query::partial`]).
    fn into_any(self: Box<Self>) -> Option<Box<dyn std::any::Any + Send>> {
        None
    }
}
