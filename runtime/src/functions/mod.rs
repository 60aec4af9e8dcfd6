//! The KQL scalar function library, one module per family. Every function is
//! re-exported here under its KQL name (`kql_runtime::functions::tostring`).
//!
//! Conventions, shared by every family:
//!
//! - arguments are `&Value` and the result is a `Value`; nothing panics on any
//!   input;
//! - functions with a variable number of arguments (`strcat`, `coalesce`,
//!   `pack_array`, …) and those whose KQL form has optional arguments
//!   (`substring`, `indexof_range`) take `&[Value]`; a few optional forms
//!   have their own fixed-argument function (`split_at`,
//!   `startofday_offset`, `extract_all_groups`);
//! - functions that need the run's context (`now`, `ago`) take
//!   `&Context` first;
//! - each function's doc comment cites the KQL reference page it follows and
//!   says what it does with null and where it had to choose.
//!
//! The function table (name → arity → types → implementation) belongs to the
//! compiler; this crate only provides the implementations.

pub mod conditional;
pub mod conversion;
pub mod datetime;
pub mod dynamic;
pub mod regex;
pub mod string;

pub use self::conditional::{coalesce, iff, iif, isempty, isnotempty, isnotnull, isnull};
pub use self::conversion::{
    parse_json, tobool, toboolean, todatetime, todouble, todynamic, toguid, toint, tolong, toreal,
    tostring, totimespan,
};
pub use self::datetime::{ago, bin, floor, now, startofday, startofday_offset};
pub use self::dynamic::{array_length, bag_keys, bag_pack, gettype, pack, pack_array};
pub use self::regex::{extract, extract_all, extract_all_groups};
pub use self::string::{
    indexof, indexof_range, replace_string, split, split_at, strcat, strcat_array, strcat_delim,
    strlen, substring, tolower, toupper, url_decode, url_encode, url_encode_component,
};
/// `not(expr)` (`not-function.md`) is the logical operator's function form.
pub use crate::ops::not;

#[cfg(test)]
mod tests {
    //! Every operator and function on every pair of awkward values: nothing
    //! panics, whatever the input.

    use super::*;
    use crate::context::Context;
    use crate::expand::expand_values;
    use crate::json::parse_json_text;
    use crate::ops;
    use crate::text::{to_string, DATETIME_MAX, DATETIME_MIN};
    use crate::value::{DateTime, TimeSpan, Value};

    fn awkward_values() -> Vec<Value> {
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i32::MIN),
            Value::Int(i32::MAX),
            Value::Long(0),
            Value::Long(1),
            Value::Long(-1),
            Value::Long(i64::MIN),
            Value::Long(i64::MAX),
            Value::Real(0.0),
            Value::Real(-0.0),
            Value::Real(2.5),
            Value::Real(f64::NAN),
            Value::Real(f64::INFINITY),
            Value::Real(f64::NEG_INFINITY),
            Value::Real(f64::MAX),
            Value::Real(f64::MIN_POSITIVE),
            Value::from_static(""),
            Value::from_static(" "),
            Value::from_static("abc"),
            Value::from_static("ÀÉ-ß ǅ İ \u{0}"),
            Value::from_static("(("),
            Value::from_static("%"),
            Value::from_static("%zz%e9"),
            Value::from_static("-5"),
            Value::from_static("1e400"),
            Value::from_static("2024-05-28T10:00:00Z"),
            Value::from_static("01:00:00"),
            Value::DateTime(DateTime(0)),
            Value::DateTime(DATETIME_MIN),
            Value::DateTime(DATETIME_MAX),
            Value::DateTime(DateTime(i64::MIN)),
            Value::DateTime(DateTime(i64::MAX)),
            Value::TimeSpan(TimeSpan(0)),
            Value::TimeSpan(TimeSpan(-1)),
            Value::TimeSpan(TimeSpan(i64::MIN)),
            Value::TimeSpan(TimeSpan(i64::MAX)),
            Value::Guid("01234567-89ab-cdef-0123-456789abcdef".into()),
        ];
        for text in [
            "[]",
            "{}",
            "[1,\"a\",null,[2]]",
            r#"{"a":{"b":[1]},"":null}"#,
            "[-1]",
        ] {
            values.push(parse_json_text(text).unwrap_or_default());
        }
        values
    }

    #[test]
    fn nothing_panics_on_awkward_values() {
        let values = awkward_values();
        let ctx = Context {
            now: DateTime(1_700_000_000 * 10_000_000),
        };
        let binary: &[fn(&Value, &Value) -> Value] = &[
            ops::eq,
            ops::ne,
            ops::lt,
            ops::le,
            ops::gt,
            ops::ge,
            ops::eq_ci,
            ops::ne_ci,
            ops::and,
            ops::or,
            ops::add,
            ops::sub,
            ops::mul,
            ops::div,
            ops::rem,
            ops::index,
            ops::matches_regex,
            bin,
            extract_all,
            split,
            strcat_array,
            indexof,
            startofday_offset,
        ];
        let flagged: &[fn(&Value, &Value, bool) -> Value] = &[
            ops::contains,
            ops::has,
            ops::hasprefix,
            ops::hassuffix,
            ops::startswith,
            ops::endswith,
        ];
        let unary: &[fn(&Value) -> Value] = &[
            ops::not,
            ops::neg,
            tostring,
            toint,
            tolong,
            toreal,
            tobool,
            todatetime,
            totimespan,
            parse_json,
            toguid,
            isnull,
            isempty,
            strlen,
            tolower,
            toupper,
            url_decode,
            url_encode,
            url_encode_component,
            startofday,
            array_length,
            bag_keys,
            gettype,
        ];
        for a in &values {
            let _ = to_string(a);
            let _ = expand_values(a);
            let _ = ago(&ctx, a);
            let _ = ops::member(a, "a");
            for f in unary {
                let _ = f(a);
            }
            for b in &values {
                for f in binary {
                    let _ = f(a, b);
                }
                for f in flagged {
                    let _ = f(a, b, true);
                    let _ = f(a, b, false);
                }
                let pair = [a.clone(), b.clone()];
                let _ = ops::in_list(a, &pair, false);
                let _ = ops::has_any(a, &pair);
                let _ = ops::has_all(a, &pair);
                let _ = ops::between(a, b, a);
                let _ = substring(&pair);
                let _ = strcat(&pair);
                let _ = strcat_delim(&pair);
                let _ = coalesce(&pair);
                let _ = bag_pack(&pair);
                let _ = extract(b, a, a);
                let _ = extract_all_groups(b, a, a);
                let _ = replace_string(a, b, a);
                let _ = split_at(a, b, a);
                let _ = iff(a, a, b);
                for c in [
                    &Value::Long(1),
                    &Value::Long(-1),
                    &Value::Long(i64::MAX),
                    &Value::Null,
                ] {
                    let _ = substring(&[a.clone(), b.clone(), c.clone()]);
                    let _ = indexof_range(&[a.clone(), b.clone(), c.clone(), c.clone(), c.clone()]);
                }
            }
        }
    }
}
