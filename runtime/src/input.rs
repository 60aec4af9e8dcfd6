//! Reading rows: JSON lines of a table's rows, with every bad line reported.
//!
//! One JSON object per line; keys are column names; values are converted to
//! the column's type (datetimes from ISO 8601 text). Blank lines are skipped
//! and counted. A line that is not valid UTF-8, not a JSON object, lacks a
//! column the query reads, or holds a value of the wrong type is rejected
//! with its cause; it never stops the run unless `--strict` asks it to.
//! Keys that are not columns of the table are ignored.

use crate::query::{ColumnType, Table};
use crate::text;
use crate::value::{Row, Value};
use std::io::{self, BufRead};

/// The longest line read (64 MiB); a longer line is rejected, not buffered.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// One line of input.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// The line's bytes, without the line terminator.
    Text,
    /// The line was longer than [`MAX_LINE_BYTES`]; it was skipped.
    TooLong(usize),
}

/// Splits a byte stream into lines, with a bound on line length.
pub struct LineReader<R> {
    inner: R,
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines from `inner`.
    pub fn new(inner: R) -> LineReader<R> {
        LineReader { inner }
    }

    /// Reads the next line into `buf` (cleared first; `\n` and a `\r` before
    /// it removed). `None` at the end of input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        buf.clear();
        let mut total = 0usize;
        let mut any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if total + take <= MAX_LINE_BYTES {
                buf.extend_from_slice(&chunk[..take]);
            }
            total += take;
            self.inner.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if total > MAX_LINE_BYTES {
            buf.clear();
            return Ok(Some(Line::TooLong(total)));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(Line::Text))
    }
}

/// True for a line of only ASCII whitespace.
pub fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Parses one line into a JSON object value (a bag).
pub fn parse_record(line: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("invalid UTF-8 at byte {}", e.valid_up_to() + 1))?;
    let value = text::parse_json_text(text).map_err(|e| format!("malformed JSON: {e}"))?;
    match value {
        Value::Bag(_) => Ok(value),
        other => Err(format!(
            "expected a JSON object (one row), found {}",
            json_kind(&other)
        )),
    }
}

/// Converts a parsed record to a row of `table`: one value per column, in
/// order. `required[i]` says whether column `i` must be present.
pub fn record_to_row(record: &Value, table: &Table, required: &[bool]) -> Result<Row, String> {
    let Value::Bag(bag) = record else {
        return Err("expected a JSON object".to_string());
    };
    let mut row = Vec::with_capacity(table.columns.len());
    for (i, &(name, ty)) in table.columns.iter().enumerate() {
        let value = match bag.get(name) {
            Some(value) => {
                convert(value, ty).map_err(|cause| format!("column '{name}': {cause}"))?
            }
            None if required.get(i).copied().unwrap_or(false) => {
                return Err(format!(
                "missing column '{name}' (the query reads it; write null if the value is absent)"
            ))
            }
            None => ty.null(),
        };
        row.push(value);
    }
    Ok(row)
}

/// Converts an input JSON value to a column type.
fn convert(value: &Value, ty: ColumnType) -> Result<Value, String> {
    if value.is_null() {
        return Ok(ty.null());
    }
    let mismatch = || Err(format!("expected {}, found {}", ty.name(), describe(value)));
    match ty {
        ColumnType::Dynamic => Ok(value.clone()),
        ColumnType::String => match value {
            Value::String(_) => Ok(value.clone()),
            _ => mismatch(),
        },
        ColumnType::Guid => match value {
            Value::String(s) => Ok(Value::Guid(s.clone())),
            _ => mismatch(),
        },
        ColumnType::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => mismatch(),
        },
        ColumnType::Long => match value {
            Value::Long(_) => Ok(value.clone()),
            Value::Int(n) => Ok(Value::Long(i64::from(*n))),
            _ => mismatch(),
        },
        ColumnType::Int => match value {
            Value::Long(n) => i32::try_from(*n).map(Value::Int).or_else(|_| mismatch()),
            Value::Int(_) => Ok(value.clone()),
            _ => mismatch(),
        },
        ColumnType::Real => match value {
            Value::Real(_) => Ok(value.clone()),
            Value::Long(n) => Ok(Value::Real(*n as f64)),
            Value::Int(n) => Ok(Value::Real(f64::from(*n))),
            _ => mismatch(),
        },
        ColumnType::DateTime => match value {
            Value::String(s) => text::parse_datetime(s)
                .map(Value::DateTime)
                .ok_or_else(|| format!("'{}' is not a datetime (expected ISO 8601)", clip(s))),
            _ => mismatch(),
        },
        ColumnType::TimeSpan => match value {
            Value::String(s) => text::parse_timespan(s)
                .map(Value::TimeSpan)
                .ok_or_else(|| format!("'{}' is not a timespan", clip(s))),
            _ => mismatch(),
        },
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Int(_) | Value::Long(_) | Value::Real(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Bag(_) => "an object",
        _ => "a value",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("string '{}'", clip(s)),
        Value::Long(n) => format!("number {n}"),
        Value::Real(x) => format!("number {x}"),
        Value::Bool(b) => format!("bool {b}"),
        other => json_kind(other).to_string(),
    }
}

/// At most 40 characters of `s`, for messages.
fn clip(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(40).collect();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static TABLE: Table = Table {
        name: "T",
        columns: &[
            ("Timestamp", ColumnType::DateTime),
            ("Name", ColumnType::String),
            ("Data", ColumnType::Dynamic),
        ],
        used: &[0, 2],
    };
    const REQUIRED: &[bool] = &[true, false, true];

    fn row(line: &str) -> Result<Row, String> {
        let record = parse_record(line.as_bytes())?;
        record_to_row(&record, &TABLE, REQUIRED)
    }

    #[test]
    fn converts_columns_to_their_types() {
        let r = row(r#"{"Timestamp":"2024-05-28T10:00:00Z","Name":null,"Data":{"a":1}}"#).unwrap();
        assert!(matches!(r[0], Value::DateTime(_)));
        assert_eq!(r[1], Value::from_static(""));
        assert!(matches!(r[2], Value::Bag(_)));
    }

    #[test]
    fn absent_unused_columns_are_null_but_absent_used_ones_reject_the_row() {
        let r = row(r#"{"Timestamp":"2024-05-28T10:00:00Z","Data":1}"#).unwrap();
        assert_eq!(r[1], Value::from_static(""));
        let e = row(r#"{"Timestamp":"2024-05-28T10:00:00Z"}"#).unwrap_err();
        assert!(e.contains("missing column 'Data'"), "{e}");
    }

    #[test]
    fn wrong_types_and_bad_json_are_reported() {
        assert!(row(r#"{"Timestamp":"yesterday","Data":1}"#)
            .unwrap_err()
            .contains("'yesterday' is not a datetime"));
        assert!(
            row(r#"{"Timestamp":"2024-05-28T10:00:00Z","Name":42,"Data":1}"#)
                .unwrap_err()
                .contains("expected string, found number 42")
        );
        assert!(row(r#"{"Timestamp": "#)
            .unwrap_err()
            .starts_with("malformed JSON"));
        assert!(row("[1,2]").unwrap_err().contains("found an array"));
        assert!(parse_record(b"{\"a\":\"\xff\"}")
            .unwrap_err()
            .contains("invalid UTF-8 at byte 7"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            "{{\"Data\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse_record(deep.as_bytes()).is_err());
    }

    #[test]
    fn line_reader_splits_lines_and_bounds_their_length() {
        let input = b"a\r\n\nlast".to_vec();
        let mut reader = LineReader::new(&input[..]);
        let mut buf = Vec::new();
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Text));
        assert_eq!(buf, b"a");
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Text));
        assert!(is_blank(&buf));
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Text));
        assert_eq!(buf, b"last");
        assert_eq!(reader.next_line(&mut buf).unwrap(), None);
    }
}
