//! `estimate_data_size` (estimate-data-size-function.md): the estimated
//! size in bytes of a row's values.
//!
//! The page's one example gives a `long` 8 bytes and a string its length
//! (ten characters, 10 bytes): each value is sized by its type, a
//! fixed-width type by its width, a string by its UTF-8 bytes. The checker
//! refuses `dynamic` values, whose size the page does not give.

use crate::value::Value;

/// The estimated size of one value, in bytes: `bool` 1, `int` 4, `long`,
/// `real`, `datetime` and `timespan` 8, `decimal` and `guid` 16, a string
/// its UTF-8 length, null 0 (**unsettled**: the page shows only a `long`
/// and a string). A dynamic array or bag (which the checker keeps from
/// reaching here) counts its JSON text.
fn value_size(value: &Value) -> i64 {
    let bytes = match value {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Int(_) => 4,
        Value::Long(_) | Value::Real(_) | Value::DateTime(_) | Value::TimeSpan(_) => 8,
        Value::Decimal(_) | Value::Guid(_) => 16,
        Value::String(s) => s.as_str().len(),
        Value::Array(_) | Value::Bag(_) => crate::json::to_json(value).to_string().len(),
    };
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// `estimate_data_size(col, ...)`: the sum of the values' estimated sizes:
/// `bool` 1 byte, `int` 4, `long`, `real`, `datetime`, `timespan` 8,
/// `decimal`, `guid` 16, a string its UTF-8 bytes, null 0. The checker
/// passes every column of the row for `estimate_data_size(*)`.
pub fn estimate_data_size(values: &[Value]) -> Value {
    Value::Long(values.iter().map(value_size).fold(0, i64::saturating_add))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_and_a_string_of_ten_characters_take_18_bytes() {
        let row = [Value::Long(7), Value::from_static("1234567890")];
        assert_eq!(estimate_data_size(&row), Value::Long(18));
    }

    #[test]
    fn strings_count_utf8_bytes_and_nulls_nothing() {
        let row = [Value::from_static("é"), Value::Null, Value::Int(1)];
        assert_eq!(estimate_data_size(&row), Value::Long(2 + 4));
    }
}
