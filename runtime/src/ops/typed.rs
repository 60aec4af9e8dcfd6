//! Comparisons with a typed constant, for predicates: `a == 101`,
//! `a > datetime(...)` where only whether the result is `true` matters.
//!
//! Each is exactly `is_true(&OP(a, &Value::KIND(b)))` (see [`super::eq`] and
//! [`super::lt`] for the rules: null, numbers across int/long/real, strings
//! that hold numbers or dates), without making the constant's `Value` or
//! the result's: the value of the constant's own kind is compared directly,
//! and any other falls back to the generic rules. Codegen uses them where
//! one side of a comparison is a constant (an `int` constant compares as
//! the `long` of the same value: the rules compare numbers by value).

use std::cmp::Ordering;

use super::{compare, equality, is_true};
use crate::value::{DateTime, TimeSpan, Value};

/// Defines the six comparisons of `a` with a constant of one kind.
macro_rules! typed_comparisons {
    ($kind:literal, $ty:ty, $variant:ident, $eq:ident, $ne:ident, $lt:ident, $le:ident, $gt:ident, $ge:ident) => {
        #[doc = concat!("`a == b` with a ", $kind, " constant: `is_true(&eq(a, &Value::", stringify!($variant), "(b)))`.")]
        pub fn $eq(a: &Value, b: $ty) -> bool {
            match a {
                Value::$variant(x) => x.partial_cmp(&b) == Some(Ordering::Equal),
                other => equality(other, &Value::$variant(b)) == Some(true),
            }
        }

        #[doc = concat!("`a != b` with a ", $kind, " constant: `is_true(&ne(a, &Value::", stringify!($variant), "(b)))` (never null: the constant is not).")]
        pub fn $ne(a: &Value, b: $ty) -> bool {
            !$eq(a, b)
        }

        #[doc = concat!("`a < b` with a ", $kind, " constant: `is_true(&lt(a, &Value::", stringify!($variant), "(b)))`.")]
        pub fn $lt(a: &Value, b: $ty) -> bool {
            ordered(a, &b, Value::$variant, |o| o == Ordering::Less)
        }

        #[doc = concat!("`a <= b` with a ", $kind, " constant: `is_true(&le(a, &Value::", stringify!($variant), "(b)))`.")]
        pub fn $le(a: &Value, b: $ty) -> bool {
            ordered(a, &b, Value::$variant, |o| o != Ordering::Greater)
        }

        #[doc = concat!("`a > b` with a ", $kind, " constant: `is_true(&gt(a, &Value::", stringify!($variant), "(b)))`.")]
        pub fn $gt(a: &Value, b: $ty) -> bool {
            ordered(a, &b, Value::$variant, |o| o == Ordering::Greater)
        }

        #[doc = concat!("`a >= b` with a ", $kind, " constant: `is_true(&ge(a, &Value::", stringify!($variant), "(b)))`.")]
        pub fn $ge(a: &Value, b: $ty) -> bool {
            ordered(a, &b, Value::$variant, |o| o != Ordering::Less)
        }
    };
}

typed_comparisons!("long", i64, Long, eq_long, ne_long, lt_long, le_long, gt_long, ge_long);
typed_comparisons!("real", f64, Real, eq_real, ne_real, lt_real, le_real, gt_real, ge_real);
typed_comparisons!(
    "datetime",
    DateTime,
    DateTime,
    eq_datetime,
    ne_datetime,
    lt_datetime,
    le_datetime,
    gt_datetime,
    ge_datetime
);
typed_comparisons!(
    "timespan",
    TimeSpan,
    TimeSpan,
    eq_timespan,
    ne_timespan,
    lt_timespan,
    le_timespan,
    gt_timespan,
    ge_timespan
);

/// Defines the six comparisons of `a` with a run constant (`ago(1d)`,
/// computed once per run, held as a `Value`) whose type is one kind: its
/// value of that kind compared as by the typed comparison above, any other
/// (null, when the constant's function gives null) by the generic rules.
macro_rules! run_comparisons {
    ($kind:literal, $variant:ident, $(($run:ident, $typed:ident, $generic:ident)),*) => {$(
        #[doc = concat!("`a ", stringify!($generic), " b` with a run constant of type ", $kind, ": exactly `is_true(&", stringify!($generic), "(a, b))`, by [`", stringify!($typed), "`] when `b` holds a ", $kind, ".")]
        pub fn $run(a: &Value, b: &Value) -> bool {
            match b {
                Value::$variant(b) => $typed(a, *b),
                other => is_true(&super::$generic(a, other)),
            }
        }
    )*};
}

run_comparisons!(
    "long",
    Long,
    (eq_long_run, eq_long, eq),
    (ne_long_run, ne_long, ne),
    (lt_long_run, lt_long, lt),
    (le_long_run, le_long, le),
    (gt_long_run, gt_long, gt),
    (ge_long_run, ge_long, ge)
);
run_comparisons!(
    "real",
    Real,
    (eq_real_run, eq_real, eq),
    (ne_real_run, ne_real, ne),
    (lt_real_run, lt_real, lt),
    (le_real_run, le_real, le),
    (gt_real_run, gt_real, gt),
    (ge_real_run, ge_real, ge)
);
run_comparisons!(
    "datetime",
    DateTime,
    (eq_datetime_run, eq_datetime, eq),
    (ne_datetime_run, ne_datetime, ne),
    (lt_datetime_run, lt_datetime, lt),
    (le_datetime_run, le_datetime, le),
    (gt_datetime_run, gt_datetime, gt),
    (ge_datetime_run, ge_datetime, ge)
);
run_comparisons!(
    "timespan",
    TimeSpan,
    (eq_timespan_run, eq_timespan, eq),
    (ne_timespan_run, ne_timespan, ne),
    (lt_timespan_run, lt_timespan, lt),
    (le_timespan_run, le_timespan, le),
    (gt_timespan_run, gt_timespan, gt),
    (ge_timespan_run, ge_timespan, ge)
);

/// Whether `a` and the constant `b` are ordered and `accept` takes their
/// order: a value of the constant's own kind compared directly, any
/// other by the generic rules (`compare`).
fn ordered<T: PartialOrd + Copy>(
    a: &Value,
    b: &T,
    make: fn(T) -> Value,
    accept: fn(Ordering) -> bool,
) -> bool {
    let own = make(*b);
    match (a, &own) {
        (Value::Long(x), Value::Long(y)) => accept(x.cmp(y)),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y).is_some_and(accept),
        (Value::DateTime(x), Value::DateTime(y)) => accept(x.cmp(y)),
        (Value::TimeSpan(x), Value::TimeSpan(y)) => accept(x.cmp(y)),
        _ => compare(a, &own).is_some_and(accept),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{eq, ge, gt, is_true, le, lt, ne};
    use crate::value::Str;

    /// Values of every kind, with the awkward ones: null, NaN, strings
    /// that hold numbers, dates and durations, arrays and bags.
    fn subjects() -> Vec<Value> {
        let mut values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Bool(false),
            Value::Int(101),
            Value::Int(-3),
            Value::Long(101),
            Value::Long(102),
            Value::Long(i64::MIN),
            Value::Real(101.0),
            Value::Real(100.5),
            Value::Real(f64::NAN),
            Value::Real(-0.0),
            Value::DateTime(DateTime(638_525_000_000_000_000)),
            Value::DateTime(DateTime(0)),
            Value::TimeSpan(TimeSpan(864_000_000_000)),
            Value::TimeSpan(TimeSpan(-1)),
            Value::Guid(Str::Static("0b4e2d9c-7a3f-4c1e-9d2a-5f6e7a8b9c0d")),
            Value::array(vec![Value::Long(101)]),
            Value::bag(vec![(Str::Static("a"), Value::Long(1))]),
        ];
        for text in [
            "101",
            " 101 ",
            "101.0",
            "1.01e2",
            "+101",
            "abc",
            "",
            "NaN",
            "inf",
            "1.00:00:00",
            "1d",
            "2024-05-28T12:00:00Z",
            "0",
            "-0",
        ] {
            values.push(Value::String(Str::Static(text)));
        }
        values
    }

    /// Each typed comparison against the generic operator, both as written
    /// and mirrored (`b > a` is `a < b`).
    fn check<T: Copy + std::fmt::Debug>(
        constants: &[T],
        make: fn(T) -> Value,
        typed: [fn(&Value, T) -> bool; 6],
    ) {
        let generic: [fn(&Value, &Value) -> Value; 6] = [eq, ne, lt, le, gt, ge];
        let names = ["==", "!=", "<", "<=", ">", ">="];
        for a in subjects() {
            for &b in constants {
                for k in 0..6 {
                    let expected = is_true(&generic[k](&a, &make(b)));
                    assert_eq!(typed[k](&a, b), expected, "{a:?} {} {b:?}", names[k]);
                }
            }
        }
    }

    #[test]
    fn long_comparisons_are_the_generic_ones() {
        check(
            &[101, 0, -3, i64::MAX, i64::MIN],
            Value::Long,
            [eq_long, ne_long, lt_long, le_long, gt_long, ge_long],
        );
    }

    #[test]
    fn real_comparisons_are_the_generic_ones() {
        check(
            &[101.0, 100.5, 0.0, -0.0, f64::NAN, f64::INFINITY],
            Value::Real,
            [eq_real, ne_real, lt_real, le_real, gt_real, ge_real],
        );
    }

    #[test]
    fn datetime_comparisons_are_the_generic_ones() {
        check(
            &[DateTime(638_525_000_000_000_000), DateTime(0)],
            Value::DateTime,
            [
                eq_datetime,
                ne_datetime,
                lt_datetime,
                le_datetime,
                gt_datetime,
                ge_datetime,
            ],
        );
    }

    #[test]
    fn timespan_comparisons_are_the_generic_ones() {
        check(
            &[TimeSpan(864_000_000_000), TimeSpan(0), TimeSpan(-1)],
            Value::TimeSpan,
            [
                eq_timespan,
                ne_timespan,
                lt_timespan,
                le_timespan,
                gt_timespan,
                ge_timespan,
            ],
        );
    }

    /// Each run-constant comparison against the generic operator, with
    /// constants of its kind, null and other kinds (what a run constant's
    /// function could give).
    fn check_run(constants: &[Value], run: [fn(&Value, &Value) -> bool; 6]) {
        let generic: [fn(&Value, &Value) -> Value; 6] = [eq, ne, lt, le, gt, ge];
        let names = ["==", "!=", "<", "<=", ">", ">="];
        let mut constants = constants.to_vec();
        constants.extend([Value::Null, Value::Long(101), Value::from_static("101")]);
        for a in subjects() {
            for b in &constants {
                for k in 0..6 {
                    let expected = is_true(&generic[k](&a, b));
                    assert_eq!(run[k](&a, b), expected, "{a:?} {} run {b:?}", names[k]);
                }
            }
        }
    }

    #[test]
    fn run_constant_comparisons_are_the_generic_ones() {
        check_run(
            &[Value::Long(101), Value::Long(i64::MIN)],
            [
                eq_long_run,
                ne_long_run,
                lt_long_run,
                le_long_run,
                gt_long_run,
                ge_long_run,
            ],
        );
        check_run(
            &[Value::Real(101.0), Value::Real(f64::NAN), Value::Real(-0.0)],
            [
                eq_real_run,
                ne_real_run,
                lt_real_run,
                le_real_run,
                gt_real_run,
                ge_real_run,
            ],
        );
        check_run(
            &[
                Value::DateTime(DateTime(638_525_000_000_000_000)),
                Value::DateTime(DateTime(0)),
            ],
            [
                eq_datetime_run,
                ne_datetime_run,
                lt_datetime_run,
                le_datetime_run,
                gt_datetime_run,
                ge_datetime_run,
            ],
        );
        check_run(
            &[
                Value::TimeSpan(TimeSpan(864_000_000_000)),
                Value::TimeSpan(TimeSpan(-1)),
            ],
            [
                eq_timespan_run,
                ne_timespan_run,
                lt_timespan_run,
                le_timespan_run,
                gt_timespan_run,
                ge_timespan_run,
            ],
        );
    }

    #[test]
    fn an_int_column_compares_with_a_long_constant_as_with_an_int_one() {
        for a in subjects() {
            for b in [101, -3, 0] {
                assert_eq!(
                    eq_long(&a, i64::from(b)),
                    is_true(&eq(&a, &Value::Int(b))),
                    "{a:?} == int({b})"
                );
                assert_eq!(
                    lt_long(&a, i64::from(b)),
                    is_true(&lt(&a, &Value::Int(b))),
                    "{a:?} < int({b})"
                );
            }
        }
    }
}
