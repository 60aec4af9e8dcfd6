//! Input records to typed rows: one JSON object per row, each column
//! converted to its declared type (shared by the detector's readers and
//! `externaldata`).

use crate::decimal::Decimal;
use crate::printable::printable;
use crate::query::{ColumnType, Table};
use crate::text;
use crate::value::{Row, Value};

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
pub fn convert(value: &Value, ty: ColumnType) -> Result<Value, String> {
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
        ColumnType::Decimal => match value {
            Value::Decimal(_) => Ok(value.clone()),
            Value::Long(n) => Ok(Value::Decimal(Decimal::from_i64(*n))),
            Value::Int(n) => Ok(Value::Decimal(Decimal::from_i64(i64::from(*n)))),
            Value::Real(x) => Decimal::from_f64(*x)
                .map(Value::Decimal)
                .ok_or_else(|| format!("number {x} is not a decimal")),
            // Decimal text keeps every digit (`"0.1"`), as Kusto writes it.
            Value::String(s) => Decimal::parse(s)
                .map(Value::Decimal)
                .ok_or_else(|| format!("'{}' is not a decimal", clip(s))),
            _ => mismatch(),
        },
        ColumnType::DateTime => match value {
            Value::DateTime(_) => Ok(value.clone()),
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

/// The JSON kind of a value, with its article, for messages.
pub fn json_kind(value: &Value) -> &'static str {
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

/// A value and its kind, clipped, for messages.
pub fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("string '{}'", clip(s)),
        Value::Long(n) => format!("number {n}"),
        Value::Real(x) => format!("number {x}"),
        Value::Bool(b) => format!("bool {b}"),
        other => json_kind(other).to_string(),
    }
}

/// At most 40 characters of `s`, for messages, made printable
/// ([`printable`]: a line end or an escape sequence in the input cannot
/// start a line of its own or drive the terminal).
pub fn clip(s: &str) -> String {
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(40).collect();
    let head = printable(&head).into_owned();
    if chars.next().is_some() {
        format!("{head}...")
    } else {
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipped_input_is_printable() {
        assert_eq!(
            clip("a\n summary: 0 rows\x1b[31m"),
            "a\\n summary: 0 rows\\u{1b}[31m"
        );
        assert_eq!(clip(&"x".repeat(41)), format!("{}...", "x".repeat(40)));
        assert_eq!(
            describe(&Value::string("k\u{202e}v")),
            "string 'k\\u{202e}v'"
        );
    }
}
