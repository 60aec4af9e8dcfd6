//! Property-bag functions: `bag_has_key`, `bag_merge`, `bag_remove_keys`,
//! `bag_set_key`, `bag_zip`, and `extract_json`/`extractjson`, which read
//! JSONPath expressions (`jsonpath.md`).
//!
//! The supported JSONPath subset is the reference's: `$` for the root,
//! `.name` or `['name']` (`["name"]`) for a child, `[n]` for an array
//! element. A key given without a leading `$` is one root-level key, as
//! `bag_has_key(bag, 'key2')` is.

use std::sync::Arc;

use crate::json::parse_json_text;
use crate::text::to_text;
use crate::value::{Bag, Str, Value};

/// One step of a JSONPath.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
}

/// Parses a JSONPath of the supported subset; `None` when it is not one.
fn parse_path(path: &str) -> Option<Vec<Step>> {
    let path = path.trim();
    let Some(rest) = path.strip_prefix('$') else {
        return (!path.is_empty()).then(|| vec![Step::Key(path.to_string())]);
    };
    let mut steps = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '.' => {
                let mut name = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    name.push(c);
                    chars.next();
                }
                if name.is_empty() {
                    return None;
                }
                steps.push(Step::Key(name));
            }
            '[' => {
                let (_, first) = *chars.peek()?;
                if first == '\'' || first == '"' {
                    chars.next();
                    let mut name = String::new();
                    loop {
                        let (_, c) = chars.next()?;
                        if c == '\\' {
                            let (_, escaped) = chars.next()?;
                            name.push(escaped);
                        } else if c == first {
                            break;
                        } else {
                            name.push(c);
                        }
                    }
                    if chars.next()?.1 != ']' {
                        return None;
                    }
                    steps.push(Step::Key(name));
                } else {
                    let mut digits = String::new();
                    loop {
                        let (_, c) = chars.next()?;
                        if c == ']' {
                            break;
                        }
                        digits.push(c);
                    }
                    steps.push(Step::Index(digits.trim().parse().ok()?));
                }
            }
            _ => return None,
        }
    }
    Some(steps)
}

/// The value at `steps` under `v`, if any.
fn lookup<'a>(v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    let mut current = v;
    for step in steps {
        current = match (step, current) {
            (Step::Key(k), Value::Bag(bag)) => bag.get(k)?,
            (Step::Index(i), Value::Array(items)) => {
                let i = if *i < 0 {
                    i.checked_add(items.len() as i64)?
                } else {
                    *i
                };
                items.get(usize::try_from(i).ok()?)?
            }
            _ => return None,
        };
    }
    Some(current)
}

/// `bag_has_key(bag, key)` (`bag-has-key-function.md`): whether the bag has
/// `key`, a root-level key or a JSONPath (`'$.key2.prop1'`); array indexing
/// is not supported in the key. A `bag` that is not a property bag, or a key
/// that is not a valid path, gives `false`.
pub fn bag_has_key(bag: &Value, key: &Value) -> Value {
    let found = matches!(bag, Value::Bag(_))
        && parse_path(&to_text(key))
            .filter(|steps| !steps.iter().any(|s| matches!(s, Step::Index(_))))
            .is_some_and(|steps| !steps.is_empty() && lookup(bag, &steps).is_some());
    Value::Bool(found)
}

/// `bag_merge(bag1, bag2, ...)` (`bag-merge-function.md`), arguments as a
/// slice: one bag with the properties of all arguments. "If a key appears
/// in more than one input objects, an arbitrary value ... will be chosen":
/// here the first argument's value wins (`bag_merge({'A1':12, ...},
/// {'A1':1, ...})` keeps 12, as in the reference's example), and keys keep
/// the order in which they first appear. Arguments that are not bags (null
/// included) are skipped (the reference is silent).
pub fn bag_merge(args: &[Value]) -> Value {
    let mut entries: Vec<(Str, Value)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for arg in args {
        if let Value::Bag(bag) = arg {
            for (k, v) in bag.iter() {
                if seen.insert(k.to_string()) {
                    entries.push((Str::from(k), v.clone()));
                }
            }
        }
    }
    Value::bag(entries)
}

/// A copy of `bag` without the value at `steps` (a missing path changes
/// nothing).
fn remove_path(bag: &Bag, steps: &[Step]) -> Bag {
    let Some((Step::Key(first), rest)) = steps.split_first() else {
        return bag.clone();
    };
    let entries = bag
        .iter()
        .filter_map(|(k, v)| {
            if k != first {
                return Some((Str::from(k), v.clone()));
            }
            if rest.is_empty() {
                return None;
            }
            match v {
                Value::Bag(inner) => {
                    Some((Str::from(k), Value::Bag(Arc::new(remove_path(inner, rest)))))
                }
                other => Some((Str::from(k), other.clone())),
            }
        })
        .collect();
    Bag::from_entries(entries)
}

/// `bag_remove_keys(bag, keys)` (`bag-remove-keys-function.md`): the bag
/// without the keys listed in the array `keys`; a key may be a JSONPath to
/// remove a nested property (`'$.key2.prop1'`). Keys that are not strings,
/// not valid paths, or use array indexing are ignored. A `bag` that is not a
/// bag, or `keys` that is not an array, gives null.
pub fn bag_remove_keys(bag: &Value, keys: &Value) -> Value {
    let (Value::Bag(bag), Value::Array(keys)) = (bag, keys) else {
        return Value::Null;
    };
    let mut out: Bag = (**bag).clone();
    for key in keys.iter() {
        let Value::String(key) = key else {
            continue;
        };
        let Some(steps) = parse_path(key) else {
            continue;
        };
        if steps.iter().all(|s| matches!(s, Step::Key(_))) {
            out = remove_path(&out, &steps);
        }
    }
    Value::Bag(Arc::new(out))
}

/// A copy of `bag` with `value` at `steps`, making the bags on the way;
/// a value on the way that is not a bag is replaced by one.
fn set_path(bag: &Bag, steps: &[String], value: &Value) -> Bag {
    let Some((first, rest)) = steps.split_first() else {
        return bag.clone();
    };
    let mut out = bag.clone();
    let new_value = if rest.is_empty() {
        value.clone()
    } else {
        let inner = match bag.get(first) {
            Some(Value::Bag(inner)) => (**inner).clone(),
            _ => Bag::new(),
        };
        Value::Bag(Arc::new(set_path(&inner, rest, value)))
    };
    out.insert(Str::from(first.as_str()), new_value);
    out
}

/// `bag_set_key(bag, key, value)` (`bag-set-key-function.md`): the bag with
/// `key` set to `value`, replacing an existing value. `key` is a root-level
/// key or a JSONPath (`'$.key2.prop1'`), whose missing levels are created
/// (a level that exists but is not a bag is replaced by one; the reference
/// is silent). "If the input bag isn't a property-bag, a null value is
/// returned"; so does a key that is not a valid path, the root path, or one
/// with array indexing.
pub fn bag_set_key(bag: &Value, key: &Value, value: &Value) -> Value {
    let Value::Bag(bag) = bag else {
        return Value::Null;
    };
    let Some(steps) = parse_path(&to_text(key)) else {
        return Value::Null;
    };
    let mut keys = Vec::with_capacity(steps.len());
    for step in steps {
        match step {
            Step::Key(k) => keys.push(k),
            Step::Index(_) => return Value::Null,
        }
    }
    if keys.is_empty() {
        return Value::Null;
    }
    Value::Bag(Arc::new(set_path(bag, &keys, value)))
}

/// `bag_zip(keys, values)` (`bag-zip.md`): a bag whose keys are the strings
/// of the array `keys` and whose values are the elements of `values` at the
/// same positions. Missing values (a shorter `values`, or `values` that is
/// not an array) are null; extra values are ignored; keys that are not
/// strings are skipped with their values. `keys` that is not an array gives
/// null.
pub fn bag_zip(keys: &Value, values: &Value) -> Value {
    let Value::Array(keys) = keys else {
        return Value::Null;
    };
    let entries = keys
        .iter()
        .enumerate()
        .filter_map(|(i, k)| match k {
            Value::String(k) => {
                let v = match values {
                    Value::Array(vs) => vs.get(i).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                Some((k.clone(), v))
            }
            _ => None,
        })
        .collect();
    Value::bag(entries)
}

/// `extract_json(jsonPath, dataSource)` (`extract-json-function.md`; alias
/// `extractjson`): the element at `jsonPath` in the JSON text `dataSource`,
/// as a string (`extract_json("$.name", '{"name": "John"}')` is `John`): a
/// JSON string gives its text, other JSON values their JSON form (`123`,
/// `[1,2]`, `true`). A missing element, invalid JSON, an invalid path, or a
/// JSON null give `""`.
///
/// The optional third argument `typeof(T)` is not supported (the parser does
/// not take `typeof` in expressions); convert the result instead
/// (`tolong(extract_json(...))`).
pub fn extract_json(path: &Value, source: &Value) -> Value {
    let Some(steps) = parse_path(&to_text(path)) else {
        return Value::from_static("");
    };
    let document = match source {
        Value::String(text) => match parse_json_text(text) {
            Ok(v) => v,
            Err(_) => return Value::from_static(""),
        },
        other => other.clone(),
    };
    // A path without `$` names a root key here too.
    match lookup(&document, &steps) {
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(Value::Null) | None => Value::from_static(""),
        Some(other) => Value::string(to_text(other).into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::to_string;

    fn d(text: &str) -> Value {
        parse_json_text(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn paths_parse() {
        assert_eq!(parse_path("key"), Some(vec![Step::Key("key".into())]));
        assert_eq!(
            parse_path("$.a['b c'][2].d"),
            Some(vec![
                Step::Key("a".into()),
                Step::Key("b c".into()),
                Step::Index(2),
                Step::Key("d".into())
            ])
        );
        assert_eq!(parse_path("$"), Some(vec![]));
        assert_eq!(parse_path("$."), None);
        assert_eq!(parse_path("$['a"), None);
        assert_eq!(parse_path("$[x]"), None);
        assert_eq!(parse_path("$x"), None);
        assert_eq!(parse_path(""), None);
    }

    #[test]
    fn has_key_follows_reference_examples() {
        let bag = d(r#"{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"},"key3":[100,200]}"#);
        assert_eq!(bag_has_key(&bag, &s("key2")), Value::Bool(true));
        assert_eq!(bag_has_key(&bag, &s("key4")), Value::Bool(false));
        assert_eq!(bag_has_key(&bag, &s("$.key2.prop1")), Value::Bool(true));
        assert_eq!(bag_has_key(&bag, &s("$.key2.prop3")), Value::Bool(false));
        assert_eq!(bag_has_key(&bag, &s("$.key3[0]")), Value::Bool(false));
        assert_eq!(bag_has_key(&bag, &s("$")), Value::Bool(false));
        assert_eq!(bag_has_key(&Value::Null, &s("a")), Value::Bool(false));
        assert_eq!(bag_has_key(&d(r#"{"a":null}"#), &s("a")), Value::Bool(true));
    }

    #[test]
    fn merge_keeps_first_value() {
        let v = bag_merge(&[
            d(r#"{"A1":12,"B1":2,"C1":3}"#),
            d(r#"{"A2":81,"B2":82,"A1":1}"#),
        ]);
        assert_eq!(to_string(&v), r#"{"A1":12,"B1":2,"C1":3,"A2":81,"B2":82}"#);
        assert_eq!(
            to_string(&bag_merge(&[d(r#"{"a":1}"#), Value::Null])),
            r#"{"a":1}"#
        );
        assert_eq!(to_string(&bag_merge(&[])), "{}");
    }

    #[test]
    fn remove_keys_follows_reference_examples() {
        let keys = d(r#"["key2","key4"]"#);
        let v = bag_remove_keys(&d(r#"{"key1":123,"key2":"abc"}"#), &keys);
        assert_eq!(to_string(&v), r#"{"key1":123}"#);
        let v = bag_remove_keys(&d(r#"{"key1":"value","key3":42.5}"#), &keys);
        assert_eq!(to_string(&v), r#"{"key1":"value","key3":42.5}"#);
        let v = bag_remove_keys(
            &d(r#"{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"},"key3":[100,200]}"#),
            &d(r#"["$.key2.prop1","key3"]"#),
        );
        assert_eq!(to_string(&v), r#"{"key1":123,"key2":{"prop2":"xyz"}}"#);
        assert_eq!(bag_remove_keys(&Value::Null, &keys), Value::Null);
        assert_eq!(bag_remove_keys(&d("{}"), &s("a")), Value::Null);
    }

    #[test]
    fn set_key_follows_reference_examples() {
        let v = bag_set_key(&d(r#"{"key1":1,"key2":2}"#), &s("key3"), &Value::Long(3));
        assert_eq!(to_string(&v), r#"{"key1":1,"key2":2,"key3":3}"#);
        let v = bag_set_key(
            &d(r#"{"key1":1,"key3":"abc"}"#),
            &s("key3"),
            &Value::Long(3),
        );
        assert_eq!(to_string(&v), r#"{"key1":1,"key3":3}"#);
        let v = bag_set_key(
            &d(r#"{"key1":123,"key2":{"prop1":123,"prop2":"xyz"}}"#),
            &s("$.key2.prop1"),
            &s("abc"),
        );
        assert_eq!(
            to_string(&v),
            r#"{"key1":123,"key2":{"prop1":"abc","prop2":"xyz"}}"#
        );
        let v = bag_set_key(&d(r#"{"key1":123}"#), &s("$.key2.prop1"), &s("abc"));
        assert_eq!(to_string(&v), r#"{"key1":123,"key2":{"prop1":"abc"}}"#);
        assert_eq!(bag_set_key(&Value::Null, &s("a"), &s("b")), Value::Null);
        assert_eq!(bag_set_key(&d("{}"), &s("$"), &s("b")), Value::Null);
        assert_eq!(bag_set_key(&d("{}"), &s("$.a[0]"), &s("b")), Value::Null);
    }

    #[test]
    fn zip_follows_reference_examples() {
        let z = |k: &str, v: &str| to_string(&bag_zip(&d(k), &d(v)));
        assert_eq!(
            z(r#"["a","b","c"]"#, r#"[1,"2",3.4]"#),
            r#"{"a":1,"b":"2","c":3.4}"#
        );
        assert_eq!(
            z(r#"["a","b","c"]"#, r#"[1,"2"]"#),
            r#"{"a":1,"b":"2","c":null}"#
        );
        assert_eq!(z(r#"["a","b"]"#, r#"[1,"2",2.5]"#), r#"{"a":1,"b":"2"}"#);
        assert_eq!(z(r#"["a",8,"b"]"#, r#"[1,"2",2.5]"#), r#"{"a":1,"b":2.5}"#);
        assert_eq!(z(r#"["a",8,"b"]"#, "1"), r#"{"a":null,"b":null}"#);
        assert_eq!(bag_zip(&d(r#""a""#), &d("[1]")), Value::Null);
    }

    #[test]
    fn extract_json_reads_paths() {
        let json = s(r#"{"name": "John", "age": 30, "tags": ["a", "b"], "o": {"k": null}}"#);
        assert_eq!(extract_json(&s("$.name"), &json), s("John"));
        assert_eq!(extract_json(&s("$.age"), &json), s("30"));
        assert_eq!(extract_json(&s("$.tags[1]"), &json), s("b"));
        assert_eq!(extract_json(&s("$.tags"), &json), s(r#"["a","b"]"#));
        assert_eq!(extract_json(&s("$['name']"), &json), s("John"));
        assert_eq!(extract_json(&s("$.o.k"), &json), s(""));
        assert_eq!(extract_json(&s("$.missing"), &json), s(""));
        assert_eq!(extract_json(&s("$.name"), &s("not json")), s(""));
        assert_eq!(extract_json(&s("$.["), &json), s(""));
        assert_eq!(extract_json(&s("$.name"), &Value::Null), s(""));
    }
}
