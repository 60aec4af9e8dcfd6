//! `mv-expand`: the values one input value expands into.
//!
//! Reference: `mv-expand-operator.md`. The operator itself (zipping several
//! expanded columns, `with_itemindex`, `limit`, `to typeof()`) is planned by
//! the compiler; this module answers "which values does this one value give".

use std::sync::Arc;

use crate::value::{Bag, Str, Value};

/// How `mv-expand` expands a property bag (`kind=` / `bagexpansion=`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BagExpansion {
    /// `kind=bag` (the default): one single-entry bag per property.
    #[default]
    Bag,
    /// `kind=array`: one two-element `[key, value]` array per property.
    Array,
}

/// The values `mv-expand` (default `kind=bag`) makes of one value; see
/// [`expand_values_kind`].
pub fn expand_values(v: &Value) -> Vec<Value> {
    expand_values_kind(v, BagExpansion::Bag)
}

/// The values `mv-expand` makes of one value (`mv-expand-operator.md`,
/// "Returns"):
///
/// - an array → its elements, in order;
/// - a property bag → one value per property, in order: a single-entry bag
///   (`kind=bag`) or a `[key, value]` array (`kind=array`);
/// - an empty array or empty bag → nothing ("no record is produced");
/// - null → one null ("a single record is produced for that value");
/// - any other scalar → itself, once (the legacy `mvexpand` page: "If the
///   value in a row is not an array, the row is kept as is"). A string is a
///   scalar here even when it holds JSON text.
pub fn expand_values_kind(v: &Value, kind: BagExpansion) -> Vec<Value> {
    match v {
        Value::Array(items) => items.as_ref().clone(),
        Value::Bag(bag) => bag
            .iter()
            .map(|(key, value)| match kind {
                BagExpansion::Bag => {
                    let mut single = Bag::new();
                    single.insert(Str::from(key), value.clone());
                    Value::Bag(Arc::new(single))
                }
                BagExpansion::Array => {
                    Value::Array(Arc::new(vec![Value::string(key), value.clone()]))
                }
            })
            .collect(),
        other => vec![other.clone()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;
    use crate::text::to_string;

    fn dynamic(text: &str) -> Value {
        parse_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn texts(values: &[Value]) -> Vec<String> {
        values.iter().map(to_string).collect()
    }

    #[test]
    fn arrays_expand_to_their_elements() {
        assert_eq!(texts(&expand_values(&dynamic("[10, 20]"))), ["10", "20"]);
        assert_eq!(
            texts(&expand_values(&dynamic(r#"["a", [1], null]"#))),
            ["a", "[1]", ""]
        );
        assert_eq!(expand_values(&dynamic("[null]")), vec![Value::Null]);
    }

    #[test]
    fn bags_expand_to_single_entry_bags() {
        let bag = dynamic(r#"{"prop1": "a1", "prop2": "b1"}"#);
        assert_eq!(
            texts(&expand_values(&bag)),
            [r#"{"prop1":"a1"}"#, r#"{"prop2":"b1"}"#]
        );
        assert_eq!(
            texts(&expand_values_kind(&bag, BagExpansion::Array)),
            [r#"["prop1","a1"]"#, r#"["prop2","b1"]"#]
        );
    }

    #[test]
    fn empty_collections_expand_to_nothing() {
        assert!(expand_values(&dynamic("[]")).is_empty());
        assert!(expand_values(&dynamic("{}")).is_empty());
    }

    #[test]
    fn null_and_scalars_expand_to_themselves() {
        assert_eq!(expand_values(&Value::Null), vec![Value::Null]);
        assert_eq!(expand_values(&Value::Long(5)), vec![Value::Long(5)]);
        let text = Value::from_static("[1,2]");
        assert_eq!(expand_values(&text), vec![text.clone()]);
    }
}
