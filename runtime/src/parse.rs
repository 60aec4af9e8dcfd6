//! The `parse` operator: a pattern (compiled to a regular expression by
//! kqlc) matched against text, captures converted to the columns' types.

use crate::functions::regex::{cached_regex, ConstRegex};
use crate::query::ColumnType;
use crate::text;
use crate::value::{DateTime, Value};

/// Matches `value`'s text against `pattern` and converts capture `i` to
/// `types[i]`. `None` when the pattern does not match, or (unless
/// `relaxed`) when a capture does not convert to its type; with `relaxed`
/// such a capture is null instead.
pub fn parse_text(
    value: &Value,
    pattern: &str,
    types: &[ColumnType],
    relaxed: bool,
) -> Option<Vec<Value>> {
    parse_compiled(value, cached_regex(pattern).as_deref(), types, relaxed)
}

/// [`parse_text`] with the pattern compiled once for the run.
pub fn parse_text_with(
    value: &Value,
    pattern: &ConstRegex,
    types: &[ColumnType],
    relaxed: bool,
) -> Option<Vec<Value>> {
    parse_compiled(value, pattern.get(), types, relaxed)
}

fn parse_compiled(
    value: &Value,
    regex: Option<&::regex::Regex>,
    types: &[ColumnType],
    relaxed: bool,
) -> Option<Vec<Value>> {
    let text = text::to_text(value);
    let regex = regex?;
    let captures = regex.captures(&text)?;
    let mut out = Vec::with_capacity(types.len());
    for (i, &ty) in types.iter().enumerate() {
        let piece = captures.get(i + 1).map_or("", |m| m.as_str());
        match convert(piece, ty) {
            Some(v) => out.push(v),
            None if relaxed => out.push(ty.null()),
            None => return None,
        }
    }
    Some(out)
}

pub(crate) fn convert(piece: &str, ty: ColumnType) -> Option<Value> {
    let trimmed = piece.trim();
    Some(match ty {
        ColumnType::String => Value::string(piece),
        ColumnType::Long => Value::Long(trimmed.parse().ok()?),
        ColumnType::Int => Value::Int(trimmed.parse().ok()?),
        ColumnType::Real => Value::Real(trimmed.parse().ok()?),
        ColumnType::Decimal => Value::Decimal(crate::decimal::Decimal::parse(trimmed)?),
        ColumnType::Bool => match trimmed.to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return None,
        },
        ColumnType::DateTime => {
            Value::DateTime(text::parse_datetime(trimmed).map(|d: DateTime| d)?)
        }
        ColumnType::TimeSpan => Value::TimeSpan(text::parse_timespan(trimmed)?),
        ColumnType::Guid => Value::Guid(trimmed.to_ascii_lowercase().into()),
        ColumnType::Dynamic => {
            crate::json::parse_json_text(trimmed).unwrap_or_else(|_| Value::string(piece))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_convert_to_their_types_strictly_or_relaxed() {
        let text = Value::from_static("user=alice id=42 took=1.5s");
        let pattern = r"^user=(.*?) id=(-?\d+) took=(.*?)s";
        let types = [ColumnType::String, ColumnType::Long, ColumnType::Real];
        assert_eq!(
            parse_text(&text, pattern, &types, false),
            Some(vec![
                Value::from_static("alice"),
                Value::Long(42),
                Value::Real(1.5)
            ])
        );
        assert_eq!(
            parse_text(&Value::from_static("nothing"), pattern, &types, false),
            None
        );
        let loose = [ColumnType::String, ColumnType::String, ColumnType::Long];
        assert_eq!(
            parse_text(&text, r"^user=(.*?) id=(.*?) took=(.*?)s", &loose, false),
            None
        );
        assert_eq!(
            parse_text(&text, r"^user=(.*?) id=(.*?) took=(.*?)s", &loose, true),
            Some(vec![
                Value::from_static("alice"),
                Value::from_static("42"),
                Value::Null
            ])
        );
    }
}
