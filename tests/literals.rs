//! Timespan text means the same in a query and in data: every unit name and
//! form a `timespan` literal takes (`3h`, `timespan(3 hours)`) gives the same
//! value from kqlc's lexer as from the runtime's `totimespan()` (one decoder,
//! `kql-literal`, serves both), and text one rejects the other rejects too.
//! The same holds for datetime text: `datetime(...)` literals and
//! `todatetime()` share `kql_literal::datetime`.

use kql_runtime::text::parse_timespan;
use kql_runtime::value::TimeSpan;
use kqlc::syntax::ast::{ExprKind, Literal, Source, Statement};

const TICK: i128 = 1;
const MICROSECOND: i128 = 10;
const MILLISECOND: i128 = 10_000;
const SECOND: i128 = 10_000_000;
const MINUTE: i128 = 60 * SECOND;
const HOUR: i128 = 60 * MINUTE;
const DAY: i128 = 24 * HOUR;

/// Every unit name of a timespan literal (`scalar-data-types/timespan.md`
/// and Microsoft's parser), with its length in hundredths of a tick (a
/// nanosecond is 1/100 tick).
const UNITS: &[(&str, i128)] = &[
    ("d", DAY * 100),
    ("day", DAY * 100),
    ("days", DAY * 100),
    ("h", HOUR * 100),
    ("hr", HOUR * 100),
    ("hrs", HOUR * 100),
    ("hour", HOUR * 100),
    ("hours", HOUR * 100),
    ("m", MINUTE * 100),
    ("min", MINUTE * 100),
    ("minute", MINUTE * 100),
    ("minutes", MINUTE * 100),
    ("s", SECOND * 100),
    ("sec", SECOND * 100),
    ("second", SECOND * 100),
    ("seconds", SECOND * 100),
    ("ms", MILLISECOND * 100),
    ("milli", MILLISECOND * 100),
    ("millis", MILLISECOND * 100),
    ("millisec", MILLISECOND * 100),
    ("millisecond", MILLISECOND * 100),
    ("milliseconds", MILLISECOND * 100),
    ("micro", MICROSECOND * 100),
    ("micros", MICROSECOND * 100),
    ("microsec", MICROSECOND * 100),
    ("microsecond", MICROSECOND * 100),
    ("microseconds", MICROSECOND * 100),
    ("nano", 1),
    ("nanos", 1),
    ("nanosec", 1),
    ("nanosecond", 1),
    ("nanoseconds", 1),
    ("tick", TICK * 100),
    ("ticks", TICK * 100),
];

/// The value of `print x = LITERAL` as the compiler reads it, or `None`
/// when it is not a valid literal.
fn compiled(literal: &str) -> Option<i64> {
    let query = kqlc::syntax::parse(&format!("print x = {literal}")).ok()?;
    let Some(Statement::Tabular(tabular)) = query.statements.first() else {
        panic!("`print x = {literal}` is not a tabular statement");
    };
    let Source::Print(items, _) = &tabular.source else {
        panic!("`print x = {literal}` has no print source");
    };
    match &items[0].expr.kind {
        ExprKind::Literal(Literal::TimeSpan(ticks)) => Some(*ticks),
        ExprKind::InvalidLiteral { .. } => None,
        other => panic!("`{literal}` is not a timespan literal: {other:?}"),
    }
}

/// The value `totimespan(text)` gives.
fn runtime(text: &str) -> Option<i64> {
    parse_timespan(text).map(|TimeSpan(ticks)| ticks)
}

#[test]
fn every_unit_name_means_the_same_in_a_literal_and_in_totimespan() {
    // (number as written, number × 10) so that lengths stay exact integers.
    for (number, tenths) in [("3", 30), ("1.5", 15), ("700", 7000), ("0.25", 2)] {
        for &(unit, hundredths) in UNITS {
            // 0.25 is written "0.25": a quarter, so scale by 100 there.
            let expected = if number == "0.25" {
                25 * hundredths / 10_000
            } else {
                tenths * hundredths / 1_000
            };
            let expected = i64::try_from(expected).expect("in range");
            let glued = format!("{number}{unit}");
            let spaced = format!("{number} {unit}");
            assert_eq!(compiled(&glued), Some(expected), "literal {glued}");
            assert_eq!(
                compiled(&format!("timespan({spaced})")),
                Some(expected),
                "literal timespan({spaced})"
            );
            assert_eq!(runtime(&glued), Some(expected), "totimespan(\"{glued}\")");
            assert_eq!(runtime(&spaced), Some(expected), "totimespan(\"{spaced}\")");
        }
    }
}

#[test]
fn clock_forms_and_bare_numbers_agree() {
    for (text, expected) in [
        ("2", 2 * DAY),
        ("1.5", 36 * HOUR),
        (
            "0.12:34:56.7",
            12 * HOUR + 34 * MINUTE + 56 * SECOND + 7_000_000,
        ),
        ("02:03", 2 * HOUR + 3 * MINUTE),
        ("-01:00:00", -HOUR),
        ("-1d", -DAY),
        (
            "1.02:03:04.0000001",
            DAY + 2 * HOUR + 3 * MINUTE + 4 * SECOND + 1,
        ),
    ] {
        let expected = Some(i64::try_from(expected).expect("in range"));
        assert_eq!(compiled(&format!("timespan({text})")), expected, "{text}");
        assert_eq!(runtime(text), expected, "totimespan(\"{text}\")");
    }
}

#[test]
fn text_one_rejects_the_other_rejects() {
    for text in [
        "5mins",
        "5secs",
        "1x",
        "1.",
        "1.2.3",
        "d",
        "24:00:00",
        "01:60:00",
        "01:00:00.12345678",
        "99999999999999999999d",
    ] {
        assert_eq!(compiled(&format!("timespan({text})")), None, "{text}");
        assert_eq!(runtime(text), None, "totimespan(\"{text}\")");
    }
}

/// The value of `print x = datetime(TEXT)` as the compiler reads it, or
/// `None` when it is not a valid literal.
fn compiled_datetime(text: &str) -> Option<i64> {
    let query = kqlc::syntax::parse(&format!("print x = datetime({text})")).ok()?;
    let Some(Statement::Tabular(tabular)) = query.statements.first() else {
        panic!("`print x = datetime({text})` is not a tabular statement");
    };
    let Source::Print(items, _) = &tabular.source else {
        panic!("`print x = datetime({text})` has no print source");
    };
    match &items[0].expr.kind {
        ExprKind::Literal(Literal::DateTime(ticks)) => Some(*ticks),
        ExprKind::InvalidLiteral { .. } => None,
        other => panic!("`datetime({text})` is not a datetime literal: {other:?}"),
    }
}

#[test]
fn datetime_text_means_the_same_in_a_literal_and_in_todatetime() {
    let mut read = 0;
    for text in [
        "2024-05-28",
        "2024-05-28T10:00:00Z",
        "2024-05-28 10:00",
        "2024-05-28T10:00:00.1234567Z",
        "2024-05-28T10:00:00.123456789Z",
        "2024-05-28T12:00:00+02:00",
        "2024-05-28T08:00:00-0200",
        "2024/05/28 10:00:00",
        "2024-5-8T1:02:03",
        "Sat, 8 Nov 14 15:05:02 GMT",
        "Tue, 28 May 2024 10:00:00 GMT",
        "Saturday, 08-Nov-14 15:05",
        "8 Nov 2014 15:05 UTC",
        "12-02-2022",
        "5/28/2024 10:00",
        "0001-01-01",
        "9999-12-31T23:59:59.9999999",
        // Rejected by both.
        "2024-13-45",
        "2023-02-29",
        "24-01-01",
        "2024-01-01T25:00",
        "2024-01-01 10",
        "Funday, 8 Nov 14 15:05",
        "soon",
        "2024-01-01x",
    ] {
        let runtime = kql_runtime::text::parse_datetime(text).map(|d| d.0);
        assert_eq!(compiled_datetime(text), runtime, "datetime({text})");
        read += usize::from(runtime.is_some());
    }
    assert_eq!(read, 17, "the valid forms are read");
}
