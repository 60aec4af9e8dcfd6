//! Null, emptiness and conditional functions: `isnull`, `isnotnull`,
//! `isempty`, `isnotempty`, `coalesce`, `iff`/`iif`.

use crate::ops::is_true;
use crate::value::Value;

/// `isnull(value)` (`isnull-function.md`): `true` for null. Strings are never
/// null (`isnull("")` is `false`); `isnull(parse_json(""))` is `true`; empty
/// arrays and bags are not null.
pub fn isnull(v: &Value) -> Value {
    Value::Bool(v.is_null())
}

/// `isnotnull(value)`: the negation of [`isnull`].
pub fn isnotnull(v: &Value) -> Value {
    Value::Bool(!v.is_null())
}

/// True for null and for the empty string.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// `isempty(value)` (`isempty-function.md`): `true` for the empty string and
/// for null; `false` for everything else, including `parse_json("[]")` and
/// `parse_json("{}")` (the reference's table).
pub fn isempty(v: &Value) -> Value {
    Value::Bool(is_empty(v))
}

/// `isnotempty(value)`: the negation of [`isempty`].
pub fn isnotempty(v: &Value) -> Value {
    Value::Bool(!is_empty(v))
}

/// `coalesce(arg, arg_2, ...)` (`coalesce-function.md`): the first argument
/// that is not null and, for strings, not empty.
///
/// When every argument is null or empty, the last argument is returned (so a
/// string coalesce gives `""` and others null, the null of KQL's common
/// argument type); with no arguments, null. The reference is silent on this
/// case.
pub fn coalesce(args: &[Value]) -> Value {
    args.iter()
        .find(|v| !is_empty(v))
        .or_else(|| args.last())
        .cloned()
        .unwrap_or(Value::Null)
}

/// `iff(if, then, else)` (`iff-function.md`): `then` when `if` is `true`,
/// otherwise `else` — a null or non-bool condition picks `else`
/// (`logical-operators.md`: `iff(bool(null) and true, true, false)` is
/// `false`).
pub fn iff(condition: &Value, then: &Value, otherwise: &Value) -> Value {
    if is_true(condition) {
        then.clone()
    } else {
        otherwise.clone()
    }
}

/// `iif(if, then, else)`: the same as [`iff`].
pub fn iif(condition: &Value, then: &Value, otherwise: &Value) -> Value {
    iff(condition, then, otherwise)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::conversion::{parse_json, tolong};

    fn s(text: &'static str) -> Value {
        Value::from_static(text)
    }

    #[test]
    fn isnull_follows_reference_table() {
        assert_eq!(isnull(&s("")), Value::Bool(false));
        assert_eq!(isnull(&s("x")), Value::Bool(false));
        assert_eq!(isnull(&parse_json(&s(""))), Value::Bool(true));
        assert_eq!(isnull(&parse_json(&s("[]"))), Value::Bool(false));
        assert_eq!(isnull(&parse_json(&s("{}"))), Value::Bool(false));
        assert_eq!(isnotnull(&Value::Null), Value::Bool(false));
        assert_eq!(isnotnull(&Value::Long(0)), Value::Bool(true));
    }

    #[test]
    fn isempty_follows_reference_table() {
        assert_eq!(isempty(&s("")), Value::Bool(true));
        assert_eq!(isempty(&s("x")), Value::Bool(false));
        assert_eq!(isempty(&parse_json(&s(""))), Value::Bool(true));
        assert_eq!(isempty(&parse_json(&s("[]"))), Value::Bool(false));
        assert_eq!(isempty(&parse_json(&s("{}"))), Value::Bool(false));
        assert_eq!(isempty(&Value::Null), Value::Bool(true));
        assert_eq!(isempty(&Value::Long(0)), Value::Bool(false));
        assert_eq!(isnotempty(&s("")), Value::Bool(false));
        assert_eq!(isnotempty(&s(" ")), Value::Bool(true));
    }

    #[test]
    fn coalesce_skips_nulls_and_empty_strings() {
        let args = [
            tolong(&s("not a number")),
            tolong(&s("42")),
            Value::Long(33),
        ];
        assert_eq!(coalesce(&args), Value::Long(42));
        assert_eq!(coalesce(&[s(""), s("b"), s("c")]), s("b"));
        assert_eq!(coalesce(&[s(""), s("")]), s(""));
        assert_eq!(coalesce(&[Value::Null, Value::Null]), Value::Null);
        assert_eq!(coalesce(&[]), Value::Null);
    }

    #[test]
    fn iff_picks_else_unless_true() {
        let (a, b) = (s("a"), s("b"));
        assert_eq!(iff(&Value::Bool(true), &a, &b), a);
        assert_eq!(iff(&Value::Bool(false), &a, &b), b);
        assert_eq!(iff(&Value::Null, &a, &b), b);
        assert_eq!(iif(&s("true"), &a, &b), b);
    }
}
