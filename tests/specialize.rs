//! Differential: the specialised code kqlc generates (short-circuit
//! `and`/`or`, text comparisons without a `Value`, comparisons with a long,
//! real, datetime or timespan constant (`ops::eq_long`), run constants
//! (`ago(1d)`) computed once and compared by their type, string operators
//! and their negations as `bool`, constant regular expressions compiled
//! once, properties read in place, typed `summarize` keys and aggregate
//! states, also merged from `--threads` batches, `mv-expand` rows holding
//! only the columns read after it, rows carried as generated structs after
//! the filters)
//! gives exactly the rows of the generic `Value` path, on random rules from
//! the supported language over random lines. One test in this binary: it
//! turns specialisation off for the whole process while it builds the
//! generic detectors.

use crate::common::Random;
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::process::Command;

const SUBJECTS: &[&str] = &[
    "OperationName",
    "DataSource",
    "RawEventData.Code",
    "RawEventData.Flag",
    "RawEventData.ObjectRef.resource",
    "RawEventData.ObjectRef.missing",
    "RawEventData.Items",
    "tostring(RawEventData.ObjectRef.name)",
];

const TEXTS: &[&str] = &[
    "", "create", "Create", "201", " 201", "201.0", "true", "True", "pods", "[1,2]", "null",
];

fn atom(random: &mut Random) -> String {
    let subject = random.pick(SUBJECTS);
    let text = random.pick(TEXTS);
    match random.below(13) {
        10 => text_operator(random),
        11 => membership(random),
        12 => typed_run_constant(random),
        0 => format!("{subject} == \"{text}\""),
        1 => format!("\"{text}\" == {subject}"),
        2 => format!("{subject} != \"{text}\""),
        3 => format!("{subject} =~ \"{text}\""),
        4 => format!("isnull({subject})"),
        5 => format!("{subject} has \"{text}\""),
        6 => typed_comparison(random),
        7 => run_constant(random),
        8 => regex(random),
        // Numbers and bools against dynamic values only (a string column
        // against a number is a type error).
        _ => format!(
            "{} == {}",
            random.pick(&[
                "RawEventData.Code",
                "RawEventData.Flag",
                "RawEventData.Items"
            ]),
            random.pick(&["201", "true", "1.5"])
        ),
    }
}

/// A comparison of a dynamic, numeric or datetime value with a constant of
/// a type the runtime compares directly (`ops::eq_long`, `lt_real`, ...),
/// either side.
fn typed_comparison(random: &mut Random) -> String {
    let op = *random.pick(&["==", "!=", "<", "<=", ">", ">="]);
    let (subject, constant) = match random.below(5) {
        0 | 1 => (
            *random.pick(&[
                "RawEventData.Code",
                "RawEventData.Flag",
                "RawEventData.Items",
                "RawEventData.ObjectRef.resource",
                "toint(RawEventData.Code)",
                "todouble(RawEventData.Code)",
            ]),
            *random.pick(&["201", "200", "int(201)", "201.0", "1.5", "-1", "real(nan)"]),
        ),
        2 => (
            *random.pick(&["Timestamp", "todatetime(RawEventData.ObjectRef.name)"]),
            *random.pick(&[
                "datetime(2024-05-28T10:00:00Z)",
                "datetime(2024-05-27)",
                "datetime(null)",
            ]),
        ),
        3 => (
            *random.pick(&[
                "totimespan(RawEventData.Code)",
                "now() - Timestamp",
                "RawEventData.Code",
            ]),
            *random.pick(&["1h", "2d", "0s", "-1m"]),
        ),
        _ => (
            "RawEventData.Code",
            *random.pick(&["datetime(2024-05-28T10:00:00Z)", "1h"]),
        ),
    };
    if random.below(2) == 0 {
        format!("{subject} {op} {constant}")
    } else {
        format!("{constant} {op} {subject}")
    }
}

/// A comparison with a value that depends on the run only (`ago(1d)`,
/// `now()`, arithmetic on them): computed once per run when specialised.
fn run_constant(random: &mut Random) -> String {
    let op = *random.pick(&["<", ">=", "==", "!="]);
    let bound = *random.pick(&[
        "ago(1h)",
        "ago(3d)",
        "now()",
        "now(-2h)",
        "ago(1h) - 30m",
        "datetime_add('hour', -1, now())",
    ]);
    let subject = *random.pick(&["Timestamp", "todatetime(RawEventData.ObjectRef.name)"]);
    format!("{subject} {op} {bound}")
}

/// A string operator, plain or negated, with a constant text: a `bool`
/// test without a `Value` (`ops::startswith_text`) when specialised, its
/// negation `!` of it (the operators are never null).
fn text_operator(random: &mut Random) -> String {
    let subject = random.pick(SUBJECTS);
    let op = random.pick(&[
        "startswith",
        "!startswith",
        "has",
        "!has",
        "contains",
        "!contains",
        "endswith",
        "!endswith",
        "hasprefix",
        "!hassuffix",
        "startswith_cs",
        "!contains_cs",
    ]);
    let text = random.pick(TEXTS);
    format!("{subject} {op} \"{text}\"")
}

/// `in`, `!in`, `in~`, `!in~` over a short list of strings: `!in` of a
/// null is null (not true), `!in~` never null.
fn membership(random: &mut Random) -> String {
    let subject = *random.pick(&[
        "OperationName",
        "RawEventData.ObjectRef.resource",
        "RawEventData.Code",
        "tostring(RawEventData.ObjectRef.missing)",
    ]);
    let op = random.pick(&["in", "!in", "in~", "!in~"]);
    let list = random.pick(&["(\"create\", \"pods\")", "(\"Create\", \"\")", "(\"201\")"]);
    format!("{subject} {op} {list}")
}

/// A comparison with a run constant of type long, real or timespan
/// (`ops::lt_timespan_run`), either side.
fn typed_run_constant(random: &mut Random) -> String {
    let op = *random.pick(&["==", "!=", "<", "<=", ">", ">="]);
    let (subject, bound) = *random.pick(&[
        ("toint(RawEventData.Code)", "strlen(\"abc\") * 67"),
        ("RawEventData.Code", "strlen(\"abc\") * 67"),
        ("todouble(RawEventData.Code)", "sqrt(40401.0)"),
        ("RawEventData.Code", "sqrt(2.25)"),
        ("totimespan(RawEventData.Code)", "totimespan(\"01:00:00\")"),
        ("now() - Timestamp", "1h * 2"),
        ("RawEventData.Code", "totimespan(\"01:00:00\")"),
    ]);
    if random.below(2) == 0 {
        format!("{subject} {op} {bound}")
    } else {
        format!("{bound} {op} {subject}")
    }
}

/// A constant regular expression: compiled once per call site when
/// specialised.
fn regex(random: &mut Random) -> String {
    let subject = *random.pick(&[
        "OperationName",
        "tostring(RawEventData.Code)",
        "tostring(RawEventData.ObjectRef.resource)",
    ]);
    match random.below(4) {
        0 => format!(
            "{subject} matches regex \"{}\"",
            random.pick(&["^cr", "[0-9]+", "^$", "o"])
        ),
        1 => format!("extract(\"([0-9]+)\", 1, {subject}) == \"201\""),
        2 => format!("isnotempty(extract_all(@\"([a-z])\", {subject}))"),
        _ => format!("replace_regex({subject}, @\"[aeiou]\", \"_\") startswith \"cr\""),
    }
}

fn predicate(random: &mut Random, depth: usize) -> String {
    if depth == 0 {
        return atom(random);
    }
    match random.below(5) {
        0 => format!(
            "({} and {})",
            predicate(random, depth - 1),
            predicate(random, depth - 1)
        ),
        1 => format!(
            "({} or {})",
            predicate(random, depth - 1),
            predicate(random, depth - 1)
        ),
        2 => format!("not({})", predicate(random, depth - 1)),
        _ => atom(random),
    }
}

fn line(random: &mut Random) -> String {
    let text = |random: &mut Random| {
        let t = *random.pick(&["create", "Create", "get", "", " 201", "pods", "true"]);
        format!("\"{t}\"")
    };
    let timestamp = *random.pick(&[
        "2024-05-28T10:00:00Z",
        "2024-05-28T11:30:00Z",
        "2024-05-26T10:00:00Z",
        "2024-05-28T12:00:00Z",
    ]);
    let value = |random: &mut Random| {
        random
            .pick(&[
                "201",
                "201.0",
                "\"2024-05-28T11:00:00Z\"",
                "\"01:00:00\"",
                "-5",
                "\"201\"",
                "\" 201\"",
                "true",
                "\"true\"",
                "null",
                "[1,2]",
                "{\"a\":1}",
                "[\"create\",[2],null,\"pods\"]",
                "{\"a\":\"x\",\"b\":[1]}",
                "\"pods\"",
                "1.5",
                "\"\"",
                "9223372036854775807",
                "\"nan\"",
                "-0.0",
            ])
            .to_string()
    };
    let (op, source, code, flag, resource, name, items) = (
        text(random),
        text(random),
        value(random),
        value(random),
        value(random),
        value(random),
        value(random),
    );
    format!(
        r#"{{"Timestamp":"{timestamp}","OperationName":{op},"DataSource":{source},"RawEventData":{{"Code":{code},"Flag":{flag},"ObjectRef":{{"resource":{resource},"name":{name}}},"Items":{items}}}}}"#
    )
}

/// `summarize` keys: strings (empty ones included), ints, longs, reals,
/// bools, datetimes and timespans (each null on some lines, and on some
/// of another type than the checker's), and a dynamic one (the generic
/// path).
const KEYS: &[&str] = &[
    "OperationName",
    "tostring(R)",
    "Code = toint(RawEventData.Code)",
    "L = tolong(RawEventData.Flag)",
    "X = toreal(RawEventData.Code)",
    "B = tobool(RawEventData.Flag)",
    "T = todatetime(RawEventData.ObjectRef.name)",
    "S = totimespan(RawEventData.ObjectRef.resource)",
    "H = bin(Timestamp, 1h)",
    "D = RawEventData.Items",
];

/// Aggregates: the typed ones (`count`, `countif`, `dcount` and
/// `dcountif` of typed values; `sum`, `sumif`, `avg`, `avgif` of longs,
/// ints and reals; `min`, `max`, `minif`, `maxif`, `arg_min`, `arg_max` of
/// longs, ints, reals (NaN from `"nan"`), strings, bools, datetimes and
/// timespans, ties included; `make_set` of a typed value, `make_list`,
/// `take_any`, with a size or not) and generic ones beside them.
const AGGREGATES: &[&str] = &[
    "n = count()",
    "c = countif(isnotempty(R))",
    "d = dcount(tostring(R))",
    "di = dcountif(toint(RawEventData.Code), isnotnull(R))",
    "dr = dcount(toreal(RawEventData.Flag))",
    "dt = dcount(todatetime(RawEventData.ObjectRef.name))",
    "dd = dcount(RawEventData.Items)",
    "s = sum(tolong(RawEventData.Code))",
    "si = sumif(toint(RawEventData.Flag), OperationName != \"get\")",
    "sr = sum(toreal(RawEventData.Code))",
    "sri = sumif(toreal(RawEventData.Flag), isnotempty(R))",
    "av = avg(tolong(RawEventData.Flag))",
    "avr = avgif(toreal(RawEventData.Code), isnull(R))",
    "mn = min(toint(RawEventData.Code))",
    "mx = maxif(tolong(RawEventData.Flag), isnotnull(R))",
    "mr = min(toreal(RawEventData.Flag))",
    "xr = max(toreal(RawEventData.Code))",
    "mt = max(todatetime(RawEventData.ObjectRef.name))",
    "ms = minif(totimespan(RawEventData.ObjectRef.resource), OperationName != \"\")",
    "mb = max(tobool(RawEventData.Flag))",
    "ns = min(OperationName)",
    "m = make_set(OperationName)",
    "mi = make_set(toint(RawEventData.Code), 2)",
    "md = make_set_if(RawEventData.Items, OperationName != \"get\")",
    "ml = make_list(tostring(R))",
    "mli = make_list_if(RawEventData.Items, isnotnull(R), 3)",
    "ta = take_any(tostring(R))",
    "tai = take_anyif(RawEventData.Code, isnotnull(R))",
    "a = arg_max(toint(RawEventData.Code), OperationName)",
    "(r, ro, rr) = arg_min(toreal(RawEventData.Flag), OperationName, R)",
    "(t, tr) = arg_max(tostring(R), RawEventData.Code)",
    "(h, ho) = arg_min(bin(Timestamp, 1h), OperationName)",
    "x = max(tostring(R))",
    "dy = max(RawEventData.Code)",
    "ay = avg(RawEventData.Code)",
];

/// A `summarize` of no key (one in six) or one to three keys, and one to
/// four aggregates.
fn summarize(random: &mut Random) -> String {
    let mut pick = |from: &[&'static str], most: usize| {
        let mut chosen: Vec<&str> = Vec::new();
        for _ in 0..=random.below(most) {
            let item = *random.pick(from);
            if !chosen.contains(&item) {
                chosen.push(item);
            }
        }
        chosen.join(", ")
    };
    let aggregates = pick(AGGREGATES, 4);
    let keys = pick(KEYS, 3);
    if random.below(6) == 0 {
        return format!("| summarize {aggregates}");
    }
    format!("| summarize {aggregates} by {keys}")
}

#[test]
fn specialised_and_generic_code_return_identical_rows() {
    let mut random = Random(0x5AFE);
    let schema = Schema::builtin();
    let rules: Vec<Rule> = (0..70)
        .map(|i| {
            // Every fourth a random `summarize ... by` (typed groups and
            // states when specialised).
            let tail = if i % 4 == 3 {
                summarize(&mut random)
            } else {
                "| project OperationName, R".to_string()
            };
            // Every fifth expands `Items` (an array, a bag, a scalar or
            // null) and runs stages after it: the specialised rows of its
            // elements hold only the columns those stages read.
            let typed_stages: String;
            let expand = match (i % 5, i % 3) {
                (2, 0) => "| mv-expand X = RawEventData.Items\n\
                    | extend Y = tostring(X), OperationName = strcat(OperationName, \"/\", tostring(X))\n",
                (2, 1) => "| mv-expand with_itemindex=I X = RawEventData.Items, C = RawEventData.Code limit 2\n\
                    | where isnotnull(X) or I == 0\n\
                    | extend R = strcat(tostring(R), \"#\", tostring(I), tostring(C))\n",
                (2, _) => "| mv-apply X = RawEventData.Items on (extend Y = tostring(X) | where isnotempty(Y) | summarize n = count() by Y)\n\
                    | extend R = strcat(tostring(R), Y, tostring(n))\n",
                // Typed rows (`typed_rows`): `Str` fields from `tostring`
                // read by text predicates, a copied field, a field replaced,
                // a column dropped, before the tail.
                (4, _) => {
                    let op = random.pick(&["startswith", "!has", "==", "!=", "contains_cs", "!endswith"]);
                    let text = random.pick(TEXTS);
                    typed_stages = format!(
                        "| extend S = tostring(RawEventData.ObjectRef.name), T = tostring(RawEventData.Code)\n\
                         | where S {op} \"{text}\" or T == \"201\"\n\
                         | extend Copy = S, S = strcat(S, \"!\"), U = T\n\
                         | where Copy != \"x\" and U !startswith \"9\"\n\
                         | project-away T\n"
                    );
                    typed_stages.as_str()
                }
                _ => "",
            };
            let kql = format!(
                "CloudAuditEvents\n| where {}\n| extend R = RawEventData.ObjectRef.resource\n{expand}| where {} or isnull(R)\n{tail}",
                predicate(&mut random, 3),
                predicate(&mut random, 2)
            );
            let pipeline = kqlc::compile(&kql, &schema)
                .unwrap_or_else(|d| panic!("{kql}\n{}", d[0].message));
            Rule {
                name: format!("random_{i:02}"),
                kql,
                path: format!("random_{i:02}.kql"),
                pipeline,
            }
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.jsonl");
    let lines: Vec<String> = (0..3000).map(|_| line(&mut random)).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();

    let toolchain = Toolchain::discover().unwrap();
    let specialised = toolchain.build(&rules, Profile::Quick).unwrap();
    kqlc::codegen::set_specialization(false);
    let generic = toolchain.build(&rules, Profile::Quick);
    kqlc::codegen::set_specialization(true);
    let generic = generic.unwrap();
    assert_ne!(specialised, generic, "the two builds must differ");

    let run_on = |binary: &std::path::Path, input: &std::path::Path, threads: &str| {
        let output = Command::new(binary)
            .arg(input)
            .args(["--now", "2024-05-28T12:00:00Z", "--no-prefilter"])
            .args(["--threads", threads])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let run = |binary: &std::path::Path, threads: &str| run_on(binary, &input, threads);
    let (fast, slow) = (run(&specialised, "1"), run(&generic, "1"));
    // Typed `summarize` states merged from worker threads' batches.
    let threaded = run(&specialised, "2");
    assert!(
        threaded == slow,
        "specialised code on two threads differs from generic code on one"
    );
    assert!(
        fast.lines().count() > 500,
        "the random rules should match lines"
    );
    if fast != slow {
        let (a, b): (Vec<&str>, Vec<&str>) = (fast.lines().collect(), slow.lines().collect());
        let first = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        panic!(
            "specialised and generic code differ at row {first}:\n  specialised: {:?}\n  generic:     {:?}",
            a.get(first),
            b.get(first)
        );
    }
}
