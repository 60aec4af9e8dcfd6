//! `cloudaudit`: rows of the table itself, as Defender's advanced hunting
//! exports them and as the detectors read them from the start.
//!
//! The object is used as it is: [`crate::input::record_to_row`] converts
//! each column to its type and reports a missing or mistyped one. No work is
//! added here, so this stays the fastest path.

use super::{InputFormat, Record};
use kql_runtime::value::Value;

/// A row object as a record.
pub fn row(object: Value) -> Record {
    Record::new(InputFormat::CloudAudit, object)
}

/// True when `key` is one of `columns`: an object whose first key is a
/// column is taken as a row without looking further.
pub fn is_column(key: &str, columns: &[&str]) -> bool {
    columns.contains(&key)
}
