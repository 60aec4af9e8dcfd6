//! JSON and KQL `dynamic` values: writing values as JSON text, and reading
//! JSON text into values with the key order of the text kept.
//!
//! KQL's `dynamic` type is JSON-like (`scalar-data-types/dynamic.md`): values
//! JSON cannot represent (`datetime`, `timespan`, `guid`) are written as JSON
//! strings. Property bags keep their keys in insertion order here, so output
//! is stable and matches the input's order.
//!
//! `serde_json::Map` in this workspace is a `BTreeMap` (the `preserve_order`
//! feature is off), so [`to_json`] sorts keys; [`write_json`], which the
//! output writer uses, does not. [`parse_json_text`] reads JSON text straight
//! into [`Value`] through [`serde::Deserialize`] and keeps key order.

use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::text::{format_datetime, format_real, format_timespan};
use crate::value::{Bag, Str, Value};

/// Appends `s` as a JSON string literal: `"` and `\` escaped, control
/// characters as `\n`, `\r`, `\t`, `\b`, `\f` or `\u00XX`; everything else,
/// non-ASCII included, as it is.
fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends the compact JSON text of `v` to `out`, keeping property-bag keys in
/// order. This is what the output writer uses for result rows, and what
/// `tostring` gives for arrays and bags.
///
/// - null → `null`; bool → `true`/`false`; int/long → decimal;
/// - real → the text of [`format_real`] (`1.5`, `1`, `1E+20`: valid JSON
///   numbers); NaN and ±infinity, which JSON numbers cannot hold, are the
///   strings `"NaN"`, `"Infinity"` and `"-Infinity"`, as Kusto's query API
///   writes them (the reference's `real` page is silent on JSON; clients of
///   the Log Analytics and Data Explorer APIs read these strings back as
///   doubles). Never `null`, which `isnull` would deny;
/// - decimal → its exact text as a JSON string (`"1.5"`), as Kusto's
///   query results carry decimals, so no reader rounds it to a double;
/// - string → JSON string; datetime → string per [`format_datetime`];
///   timespan → string per [`format_timespan`]; guid → string;
/// - array → `[…]`; property bag → `{…}` in key order.
pub fn write_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Long(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Real(x) if x.is_finite() => out.push_str(&format_real(*x)),
        Value::Real(x) => write_json_string(&format_real(*x), out),
        Value::Decimal(d) => write_json_string(&d.to_string(), out),
        Value::String(s) | Value::Guid(s) => write_json_string(s, out),
        Value::DateTime(d) => write_json_string(&format_datetime(*d), out),
        Value::TimeSpan(t) => write_json_string(&format_timespan(*t), out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out);
            }
            out.push(']');
        }
        Value::Bag(bag) => {
            out.push('{');
            for (i, (k, item)) in bag.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_json(item, out);
            }
            out.push('}');
        }
    }
}

/// `v` as a `serde_json::Value`, with the same mapping as [`write_json`]
/// (NaN and ±infinity → the strings `"NaN"`, `"Infinity"`, `"-Infinity"`;
/// datetime, timespan and guid → strings).
///
/// Note: `serde_json::Map` sorts keys in this workspace (no `preserve_order`),
/// so bag key order is lost here. Use [`write_json`] to keep it.
pub fn to_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => J::from(*n),
        Value::Long(n) => J::from(*n),
        Value::Real(x) => {
            serde_json::Number::from_f64(*x).map_or_else(|| J::String(format_real(*x)), J::Number)
        }
        Value::Decimal(d) => J::String(d.to_string()),
        Value::String(s) | Value::Guid(s) => J::String(s.as_str().to_owned()),
        Value::DateTime(d) => J::String(format_datetime(*d)),
        Value::TimeSpan(t) => J::String(format_timespan(*t)),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Bag(bag) => J::Object(
            bag.iter()
                .map(|(k, item)| (k.to_owned(), to_json(item)))
                .collect(),
        ),
    }
}

/// A `dynamic` value from a `serde_json::Value`: objects → bags (in the map's
/// iteration order, which is sorted in this workspace; prefer
/// [`parse_json_text`] to keep the text's order), integers → long (unsigned
/// beyond `i64::MAX` → real), other numbers → real, strings stay strings
/// (no guessing of datetimes or guids).
pub fn from_json(j: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Long(i),
            None => Value::Real(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::string(s.as_str()),
        J::Array(items) => Value::Array(Arc::new(items.iter().map(from_json).collect())),
        J::Object(map) => {
            let mut bag = Bag::new();
            for (k, item) in map {
                bag.insert(Str::from(k.as_str()), from_json(item));
            }
            Value::Bag(Arc::new(bag))
        }
    }
}

/// Parses JSON text into a `dynamic` value, keeping object keys in the order
/// of the text (a repeated key keeps its first position and takes the last
/// value). Integers → long, unsigned integers beyond `i64::MAX` → real, other
/// numbers → real; strings stay strings.
///
/// Nesting deeper than serde_json's recursion limit (128) is an error, not a
/// stack overflow. Trailing non-whitespace after the value is an error.
pub fn parse_json_text(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = Value::deserialize(&mut de).map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    Ok(v)
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from any self-describing serde input.
pub struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Long(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        Ok(i64::try_from(n).map_or(Value::Real(n as f64), Value::Long))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Ok(Value::Real(x))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::string(s))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::string(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(Arc::new(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<KeyStr>()? {
            let item = map.next_value::<Value>()?;
            entries.push((key.0, item));
        }
        Ok(Value::Bag(Arc::new(Bag::from_entries(entries))))
    }
}

/// An object key read without an intermediate `String` when the input lends
/// it.
struct KeyStr(Str);

impl<'de> Deserialize<'de> for KeyStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<KeyStr, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = KeyStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KeyStr, E> {
                Ok(KeyStr(Str::from(s)))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<KeyStr, E> {
                Ok(KeyStr(Str::from(s)))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{DateTime, TimeSpan};

    fn json(v: &Value) -> String {
        let mut out = String::new();
        write_json(v, &mut out);
        out
    }

    #[test]
    fn parse_keeps_key_order() {
        let v = parse_json_text(r#"{"zeta":1,"alpha":{"y":true,"b":null},"mid":[1,2]}"#);
        let v = v.unwrap_or_default();
        assert_eq!(
            json(&v),
            r#"{"zeta":1,"alpha":{"y":true,"b":null},"mid":[1,2]}"#
        );
    }

    #[test]
    fn parse_maps_numbers_to_long_and_real() {
        let v = parse_json_text("[1, -2, 2.5, 1.0, 18446744073709551615, 1e3]");
        let Ok(Value::Array(items)) = v else {
            panic!("expected an array")
        };
        assert_eq!(items[0], Value::Long(1));
        assert_eq!(items[1], Value::Long(-2));
        assert_eq!(items[2], Value::Real(2.5));
        assert_eq!(items[3], Value::Real(1.0));
        assert_eq!(items[4], Value::Real(18_446_744_073_709_551_615.0));
        assert_eq!(items[5], Value::Real(1000.0));
    }

    #[test]
    fn parse_repeated_key_keeps_first_position_last_value() {
        let v = parse_json_text(r#"{"a":1,"b":2,"a":3}"#).unwrap_or_default();
        assert_eq!(json(&v), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn parse_rejects_bad_text_and_trailing_garbage() {
        assert!(parse_json_text("").is_err());
        assert!(parse_json_text("{").is_err());
        assert!(parse_json_text("[1,]").is_err());
        assert!(parse_json_text("1 2").is_err());
        assert!(parse_json_text("NaN").is_err());
        assert_eq!(parse_json_text("  null "), Ok(Value::Null));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse_json_text(&deep).is_err());
        let deep_obj = r#"{"a":"#.repeat(10_000) + "1" + &"}".repeat(10_000);
        assert!(parse_json_text(&deep_obj).is_err());
        let ok = "[".repeat(100) + &"]".repeat(100);
        assert!(parse_json_text(&ok).is_ok());
    }

    #[test]
    fn write_json_escapes_strings() {
        let v = Value::string("a\"b\\c\nd\u{1}é/");
        assert_eq!(json(&v), r#""a\"b\\c\nd\u0001é/""#);
    }

    #[test]
    fn write_json_writes_kql_scalars() {
        assert_eq!(json(&Value::Null), "null");
        assert_eq!(json(&Value::Real(1.5)), "1.5");
        assert_eq!(json(&Value::Real(1.0)), "1");
        assert_eq!(json(&Value::Real(f64::NAN)), r#""NaN""#);
        assert_eq!(json(&Value::Real(f64::INFINITY)), r#""Infinity""#);
        assert_eq!(json(&Value::Real(f64::NEG_INFINITY)), r#""-Infinity""#);
        assert_eq!(
            json(&Value::Array(std::sync::Arc::new(vec![
                Value::Real(f64::NAN),
                Value::Null
            ]))),
            r#"["NaN",null]"#
        );
        assert_eq!(json(&Value::Int(3)), "3");
        assert_eq!(
            json(&Value::DateTime(DateTime(0))),
            r#""1970-01-01T00:00:00Z""#
        );
        assert_eq!(
            json(&Value::TimeSpan(TimeSpan(20_000_000))),
            r#""00:00:02""#
        );
    }

    #[test]
    fn written_json_reads_back() {
        let text = r#"{"s":"x\ty","n":-7,"r":0.25,"big":1E+20,"a":[null,false,{}],"e":[]}"#;
        let v = parse_json_text(text).unwrap_or_default();
        let again = parse_json_text(&json(&v)).unwrap_or_default();
        assert_eq!(v, again);
    }

    #[test]
    fn to_json_and_from_json_agree_on_scalars() {
        let v = parse_json_text(r#"{"b":[1,2.5,"s",true,null]}"#).unwrap_or_default();
        let j = to_json(&v);
        assert_eq!(j, serde_json::json!({"b": [1, 2.5, "s", true, null]}));
        assert_eq!(from_json(&j), v);
        assert_eq!(to_json(&Value::Real(f64::NAN)), serde_json::json!("NaN"));
        assert_eq!(
            to_json(&Value::Real(f64::NEG_INFINITY)),
            serde_json::json!("-Infinity")
        );
        assert_eq!(
            from_json(&serde_json::json!(u64::MAX)),
            Value::Real(u64::MAX as f64)
        );
    }
}
