//! Null, emptiness and conditional functions: `isnull`, `isnotnull`,
//! `isempty`, `isnotempty`, `coalesce`, `iff`/`iif`, `case`, `max_of`,
//! `min_of`.

use crate::ops::{self, is_true};
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

/// `case(predicate_1, then_1, [predicate_2, then_2, ...] else)`
/// (`case-function.md`), arguments as a slice: the `then` of the first
/// predicate that is `true`, else the last argument (a null or non-bool
/// predicate counts as not satisfied, as in [`iff`]).
///
/// The compiler requires an odd number of arguments; with an even number
/// (no `else`), nothing satisfied gives null.
pub fn case(args: &[Value]) -> Value {
    let mut pairs = args.chunks_exact(2);
    for pair in pairs.by_ref() {
        if is_true(&pair[0]) {
            return pair[1].clone();
        }
    }
    pairs.remainder().first().cloned().unwrap_or(Value::Null)
}

/// The greatest (`want_greater`) or least argument that is not null; null
/// when all are null. Arguments that cannot be ordered against the best so
/// far (mixed types) are skipped.
fn extreme(args: &[Value], want_greater: bool) -> Value {
    let mut best: Option<&Value> = None;
    for arg in args.iter().filter(|a| !a.is_null()) {
        best = match best {
            None => Some(arg),
            Some(current) => {
                let better = if want_greater {
                    ops::gt(arg, current)
                } else {
                    ops::lt(arg, current)
                };
                if is_true(&better) {
                    Some(arg)
                } else {
                    Some(current)
                }
            }
        };
    }
    best.cloned().unwrap_or(Value::Null)
}

/// `max_of(arg, arg_2, ...)` (`max-of-function.md`), arguments as a slice:
/// the greatest argument, ordered as `>` orders them (numbers across int,
/// long and real, strings ordinally, datetimes, timespans). "Non-null values
/// take precedence to null values": nulls are skipped, and only all-null
/// arguments give null (`max_of(int(null), 2)` is 2). The first of equal
/// greatest arguments is kept.
pub fn max_of(args: &[Value]) -> Value {
    extreme(args, true)
}

/// `min_of(arg, arg_2, ...)` (`min-of-function.md`): as [`max_of`], the
/// least argument.
pub fn min_of(args: &[Value]) -> Value {
    extreme(args, false)
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

    #[test]
    fn case_returns_first_satisfied_branch() {
        let (t, f) = (Value::Bool(true), Value::Bool(false));
        let args = [f.clone(), s("a"), t.clone(), s("b"), s("c")];
        assert_eq!(case(&args), s("b"));
        assert_eq!(case(&[f.clone(), s("a"), s("else")]), s("else"));
        assert_eq!(case(&[Value::Null, s("a"), s("else")]), s("else"));
        assert_eq!(case(&[f, s("a")]), Value::Null);
        assert_eq!(case(&[t, s("a")]), s("a"));
        assert_eq!(case(&[s("only")]), s("only"));
        assert_eq!(case(&[]), Value::Null);
    }

    #[test]
    fn max_of_and_min_of_skip_nulls() {
        let args = [
            Value::Long(10),
            Value::Long(1),
            Value::Long(-3),
            Value::Long(17),
        ];
        assert_eq!(max_of(&args), Value::Long(17));
        assert_eq!(min_of(&args), Value::Long(-3));
        assert_eq!(max_of(&[Value::Null, Value::Int(2)]), Value::Int(2));
        assert_eq!(max_of(&[Value::Null, Value::Null]), Value::Null);
        assert_eq!(max_of(&[Value::Real(0.5), Value::Long(1)]), Value::Long(1));
        assert_eq!(min_of(&[s("b"), s("a")]), s("a"));
        assert_eq!(max_of(&[]), Value::Null);
    }
}
