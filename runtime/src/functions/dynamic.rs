//! Dynamic (array and property bag) functions: `array_length`, `bag_keys`,
//! `pack_array`, `bag_pack`/`pack`, `gettype`, `dynamic_to_json`.

use std::sync::Arc;

use crate::text::to_text;
use crate::value::{Bag, Str, Value};

/// `array_length(array)` (`array-length-function.md`): the number of elements
/// of a dynamic array, as a long; "`null` if *array* isn't an array".
pub fn array_length(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Long(items.len() as i64),
        _ => Value::Null,
    }
}

/// `bag_keys(object)` (`bag-keys-function.md`): the root keys of a property
/// bag as a dynamic array of strings (here in the bag's order; the reference
/// says the order is undetermined). `{}` gives `[]`; null, strings, arrays
/// and other non-bags give null (the reference's table).
pub fn bag_keys(v: &Value) -> Value {
    match v {
        Value::Bag(bag) => Value::Array(Arc::new(
            bag.iter().map(|(k, _)| Value::string(k)).collect(),
        )),
        _ => Value::Null,
    }
}

/// `treepath(object)` (`treepath-function.md`): the path of every node
/// below the root, depth first, each once: `['key']` for a bag's member,
/// `[0]` for the elements of an array (one path stands for them all, so
/// `['a'][0]['x']` when some element is a bag with `x`). The reference's
/// examples list the paths of members that are arrays as well as of
/// leaves. A value that is not a bag or an array gives `[]`; null gives
/// null.
pub fn treepath(v: &Value) -> Value {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Bag(bag) => {
                for (key, member) in bag.iter() {
                    let quoted = key.replace('\\', "\\\\").replace('\'', "\\'");
                    let here = format!("{path}['{quoted}']");
                    if !out.contains(&here) {
                        out.push(here.clone());
                    }
                    walk(member, &here, out);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                let here = format!("{path}[0]");
                if !out.contains(&here) {
                    out.push(here.clone());
                }
                for item in items.iter() {
                    walk(item, &here, out);
                }
            }
            _ => {}
        }
    }
    if matches!(v, Value::Null) {
        return Value::Null;
    }
    let mut paths = Vec::new();
    walk(v, "", &mut paths);
    Value::Array(Arc::new(paths.into_iter().map(Value::string).collect()))
}

/// `pack_array(value1, value2, ...)` (`pack-array-function.md`): a dynamic
/// array of the arguments, in order, nulls included
/// (`pack_array(x, tostring(x * 2), x * 2 * 1s)` is `[1,"2","00:00:02"]` as
/// JSON).
pub fn pack_array(args: &[Value]) -> Value {
    Value::Array(Arc::new(args.to_vec()))
}

/// `bag_pack(key1, value1, key2, value2, ...)` (`packfunction.md`): a
/// property bag of the key/value pairs, in order; a repeated key keeps its
/// first position and takes the last value. Keys are taken as their
/// `tostring`.
///
/// An odd number of arguments (a compile-time error in KQL) gives null.
pub fn bag_pack(args: &[Value]) -> Value {
    let pairs = args.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Value::Null;
    }
    let mut bag = Bag::new();
    for pair in pairs {
        let key = match &pair[0] {
            Value::String(s) => s.clone(),
            other => Str::from(to_text(other).as_ref()),
        };
        bag.insert(key, pair[1].clone());
    }
    Value::Bag(Arc::new(bag))
}

/// `pack(key1, value1, ...)`: the deprecated name of [`bag_pack`].
pub fn pack(args: &[Value]) -> Value {
    bag_pack(args)
}

/// `gettype(value)` (`gettype-function.md`): the name of the run-time type:
/// `string`, `long`, `int`, `bool`, `real`, `datetime`, `timespan`, `guid`,
/// `array`, `dictionary`, and `null` for a null.
///
/// Differences from Kusto that follow from the run-time representation: a
/// typed null (`int(null)`) reports `null` (the static type is gone at run
/// time), and integers parsed from JSON are longs, so
/// `gettype(parse_json('1'))` is `long` where the reference shows `int`.
pub fn gettype(v: &Value) -> Value {
    Value::from_static(v.type_name())
}

/// `dynamic_to_json(x)` (`dynamic-to-json-function.md`): the canonical
/// text of a value. A value that is not an array or bag gives its
/// `tostring`; an array or bag gives compact JSON in which every bag's
/// properties are sorted by name (ordinal order), at every depth, so two
/// bags with the same properties in another order give the same text.
pub fn dynamic_to_json(v: &Value) -> Value {
    match v {
        Value::Array(_) | Value::Bag(_) => {
            let mut out = String::new();
            crate::json::write_json(&sorted_keys(v), &mut out);
            Value::string(out)
        }
        other => Value::string(to_text(other).into_owned()),
    }
}

/// `v` with the properties of every bag in it sorted by name.
fn sorted_keys(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::array(items.iter().map(sorted_keys).collect()),
        Value::Bag(bag) => {
            let mut entries: Vec<(&str, &Value)> = bag.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let mut sorted = Bag::new();
            for (key, value) in entries {
                sorted.insert(Str::from(key), sorted_keys(value));
            }
            Value::Bag(Arc::new(sorted))
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse_json_text;
    use crate::text::to_string;
    use crate::value::{ticks, DateTime, TimeSpan};

    fn dynamic(text: &str) -> Value {
        parse_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn array_length_counts_elements() {
        assert_eq!(
            array_length(&dynamic(r#"[1, 2, 3, "four"]"#)),
            Value::Long(4)
        );
        assert_eq!(array_length(&dynamic("[]")), Value::Long(0));
        assert_eq!(array_length(&dynamic("{}")), Value::Null);
        assert_eq!(array_length(&s("[1]")), Value::Null);
        assert_eq!(array_length(&Value::Null), Value::Null);
    }

    #[test]
    fn treepath_lists_member_and_element_paths() {
        let paths = |t: &str| to_string(&treepath(&dynamic(t)));
        assert_eq!(paths(r#"{"a":"b","c":123}"#), r#"["['a']","['c']"]"#);
        assert_eq!(
            paths(r#"{"p":[1,2],"q":"v"}"#),
            r#"["['p']","['p'][0]","['q']"]"#
        );
        assert_eq!(
            paths(r#"{"l":[1,"s",{"x":"y"},{"x":1,"z":2}]}"#),
            r#"["['l']","['l'][0]","['l'][0]['x']","['l'][0]['z']"]"#
        );
        assert_eq!(paths("[]"), "[]");
        assert_eq!(paths("5"), "[]");
        assert_eq!(treepath(&Value::Null), Value::Null);
    }

    #[test]
    fn bag_keys_follows_reference_table() {
        let keys = |t: &str| to_string(&bag_keys(&dynamic(t)));
        assert_eq!(keys(r#"{"a":"b","c":123}"#), r#"["a","c"]"#);
        assert_eq!(keys(r#"{"a":"b","c":{"d":123}}"#), r#"["a","c"]"#);
        assert_eq!(keys(r#"{"a":"b","c":[{"d":123}]}"#), r#"["a","c"]"#);
        assert_eq!(bag_keys(&Value::Null), Value::Null);
        assert_eq!(keys("{}"), "[]");
        assert_eq!(bag_keys(&dynamic(r#""a""#)), Value::Null);
        assert_eq!(bag_keys(&dynamic("[]")), Value::Null);
    }

    #[test]
    fn pack_array_keeps_order_and_nulls() {
        let v = pack_array(&[
            Value::Long(1),
            s("2"),
            Value::TimeSpan(TimeSpan(2 * ticks::PER_SECOND)),
            Value::Null,
        ]);
        assert_eq!(to_string(&v), r#"[1,"2","00:00:02",null]"#);
        assert_eq!(to_string(&pack_array(&[])), "[]");
    }

    #[test]
    fn bag_pack_builds_bags_in_order() {
        let v = bag_pack(&[
            s("z"),
            Value::Long(1),
            s("a"),
            s("x"),
            s("z"),
            Value::Long(2),
        ]);
        assert_eq!(to_string(&v), r#"{"z":2,"a":"x"}"#);
        let v = pack(&[Value::Long(5), Value::Null]);
        assert_eq!(to_string(&v), r#"{"5":null}"#);
        assert_eq!(bag_pack(&[s("odd")]), Value::Null);
        assert_eq!(to_string(&bag_pack(&[])), "{}");
    }

    #[test]
    fn gettype_names_runtime_types() {
        let t = |v: &Value| to_string(&gettype(v));
        assert_eq!(t(&s("a")), "string");
        assert_eq!(t(&Value::Long(111)), "long");
        assert_eq!(t(&Value::Int(1)), "int");
        assert_eq!(t(&Value::Bool(true)), "bool");
        assert_eq!(t(&Value::DateTime(DateTime(0))), "datetime");
        assert_eq!(t(&Value::TimeSpan(TimeSpan(1))), "timespan");
        assert_eq!(t(&dynamic("1")), "long");
        assert_eq!(t(&dynamic(r#" "abc" "#)), "string");
        assert_eq!(t(&dynamic(r#" {"abc":1} "#)), "dictionary");
        assert_eq!(t(&dynamic(" [1, 2, 3] ")), "array");
        assert_eq!(t(&Value::Real(123.45)), "real");
        assert_eq!(
            t(&Value::Guid("12e8b78d-55b4-46ae-b068-26d7a0080254".into())),
            "guid"
        );
        assert_eq!(t(&Value::Null), "null");
    }
}
