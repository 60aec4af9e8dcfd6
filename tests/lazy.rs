//! Lazy, typed field access never changes results: random rules drawn from
//! the supported language run over random `CloudAuditEvents` lines (with
//! repeated keys, wrong types, nulls, missing columns, escaped keys, deep
//! nesting, huge numbers, non-objects where objects are expected, and lines
//! that are not rows at all) give exactly the same rows, messages, summary
//! and exit status with and without `--full-parse`, through the generated
//! code users get.

use crate::common::Random;
use kqlc::plan::ir::{Access, Input};
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::path::Path;
use std::process::Command;

/// Conditions reading columns through member paths (lazily built).
const PATH_ATOMS: &[&str] = &[
    r#"OperationName == "create""#,
    r#"OperationName != "delete""#,
    r#"Timestamp > datetime(2024-05-28T00:00:00Z)"#,
    r#"isnull(Timestamp)"#,
    r#"IsAnonymousProxy == true"#,
    r#"RawEventData.ObjectRef.resource == "pods""#,
    r#"isnull(RawEventData.ObjectRef.subresource)"#,
    r#"RawEventData["ObjectRef"]["namespace"] has "kube-system""#,
    r#"tostring(RawEventData.ResponseStatus.code) startswith "20""#,
    r#"RawEventData.ResponseStatus.code == 201"#,
    r#"RawEventData.User.username has_any ("alice", "bob")"#,
    r#"tostring(RawEventData.RequestObject.subjects[0].name) == "x""#,
    r#"array_length(RawEventData.RequestObject.spec.containers) > 0"#,
    r#"isnotnull(RawEventData.ObjectRef)"#,
    r#"RawEventData.Deep.a.b == 1"#,
    r#"AdditionalFields.Extra == 1"#,
    r#"isnull(AdditionalFields.Extra)"#,
];

/// Conditions that observe a whole dynamic value.
const WHOLE_ATOMS: &[&str] = &[
    r#"tostring(RawEventData) has "alice""#,
    r#"array_length(bag_keys(RawEventData.ObjectRef)) > 2"#,
    r#"isnotnull(AdditionalFields)"#,
];

/// What the rule does with the rows that pass.
const TAILS: &[&str] = &[
    "| project OperationName, N = tostring(RawEventData.ObjectRef.name)",
    "| extend U = RawEventData.User | project U, Timestamp",
    "| mv-expand C = RawEventData.RequestObject.spec.containers | project N = tostring(C.name), P = C.securityContext.privileged",
    "| summarize count() by R = tostring(RawEventData.ObjectRef.resource)",
    "| project O = RawEventData.ObjectRef, Code = RawEventData.ResponseStatus.code, D = RawEventData.Deep",
    "| project-keep OperationName, Timestamp, IsAnonymousProxy",
    "| count",
    "| extend R = tostring(RawEventData.ObjectRef.resource) | distinct R",
    "| project S = RawEventData.RequestObject.subjects, A = AdditionalFields.Extra",
];

/// Tails that observe whole columns.
const WHOLE_TAILS: &[&str] = &[
    "",
    "| top 3 by tostring(RawEventData.User.username)",
    "| project RawEventData",
];

fn predicate(random: &mut Random, atoms: &[&str], depth: usize) -> String {
    if depth == 0 || random.chance(3) {
        return random.pick(atoms).to_string();
    }
    let (a, b) = (
        predicate(random, atoms, depth - 1),
        predicate(random, atoms, depth - 1),
    );
    match random.below(3) {
        0 => format!("({a} and {b})"),
        1 => format!("({a} or {b})"),
        _ => format!("not({a})"),
    }
}

fn rule(random: &mut Random, whole: bool) -> String {
    let (atoms, tails): (Vec<&str>, Vec<&str>) = if whole {
        (
            PATH_ATOMS.iter().chain(WHOLE_ATOMS).copied().collect(),
            TAILS.iter().chain(WHOLE_TAILS).copied().collect(),
        )
    } else {
        (PATH_ATOMS.to_vec(), TAILS.to_vec())
    };
    format!(
        "CloudAuditEvents\n| where {}\n{}",
        predicate(random, &atoms, 2),
        random.pick(&tails)
    )
}

/// A JSON string literal for `text`, some letters written as `\u` escapes.
fn json_string(random: &mut Random, text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if c.is_ascii_alphabetic() && random.chance(10) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else if c == '"' || c == '\\' {
            out.push('\\');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// An object from entries, sometimes with a key repeated (first with
/// another value) and keys spelt with escapes.
fn object(random: &mut Random, entries: Vec<(&str, String)>) -> String {
    let mut parts = Vec::new();
    for (key, value) in entries {
        if random.chance(12) {
            let other = random.pick(&["null", "1", "\"x\"", "{}", "[]"]).to_string();
            parts.push(format!("{}:{other}", json_string(random, key)));
        }
        parts.push(format!("{}:{value}", json_string(random, key)));
    }
    format!("{{{}}}", parts.join(","))
}

fn deep(random: &mut Random) -> String {
    let depth = *random.pick(&[2, 20, 124, 125, 126, 127, 128, 140]);
    let open = if random.chance(2) { "[" } else { "{\"a\":" };
    let close = if open == "[" { "]" } else { "}" };
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

fn scalar(random: &mut Random, choices: &[&str]) -> String {
    let text = *random.pick(choices);
    if text.starts_with('"') {
        json_string(random, &text[1..text.len() - 1])
    } else {
        text.to_string()
    }
}

fn raw_event(random: &mut Random) -> String {
    if random.chance(15) {
        return scalar(
            random,
            &[
                "null",
                "\"pods\"",
                "[1,2]",
                "42",
                "1e400",
                "{\"ObjectRef\":\"x\"}",
            ],
        );
    }
    let object_ref = if random.chance(10) {
        scalar(
            random,
            &["\"pods\"", "[{\"resource\":\"pods\"}]", "null", "7"],
        )
    } else {
        let entries = vec![
            (
                "resource",
                scalar(
                    random,
                    &["\"pods\"", "\"secrets\"", "null", "1", "[\"pods\"]"],
                ),
            ),
            ("subresource", scalar(random, &["null", "\"exec\"", "\"\""])),
            (
                "namespace",
                scalar(random, &["\"kube-system\"", "\"default\"", "{\"a\":1}"]),
            ),
            ("name", scalar(random, &["\"tunnelfront-1\"", "\"x\"", "3"])),
        ];
        object(random, entries)
    };
    let code = scalar(
        random,
        &[
            "201",
            "\"201\"",
            "2.01e2",
            "123456789012345678901234567890",
            "18446744073709551615",
            "-9223372036854775808",
            "-0",
            "1e400",
            "null",
        ],
    );
    let containers: Vec<String> = (0..random.below(3))
        .map(|_| {
            format!(
                r#"{{"name":{},"securityContext":{{"privileged":{}}}}}"#,
                scalar(random, &["\"nginx\"", "\"app\"", "null"]),
                scalar(random, &["true", "\"true\"", "false", "null"])
            )
        })
        .collect();
    let status = object(
        random,
        vec![("code", code), ("status", "\"Success\"".into())],
    );
    let username = scalar(random, &["\"alice\"", "\"bob\"", "\"carol\"", "5"]);
    let user = object(
        random,
        vec![
            ("username", username),
            ("groups", "[\"system:masters\"]".into()),
        ],
    );
    let mut entries = vec![
        ("ObjectRef", object_ref),
        ("ResponseStatus", status),
        ("User", user),
        (
            "RequestObject",
            format!(
                r#"{{"spec":{{"containers":[{}]}},"subjects":{}}}"#,
                containers.join(","),
                scalar(random, &["[{\"name\":\"x\"}]", "[]", "null", "{\"0\":1}"])
            ),
        ),
    ];
    if random.chance(3) {
        entries.push((
            "Deep",
            scalar(
                random,
                &["{\"a\":{\"b\":1}}", "{\"a\":[{\"b\":1}]}", "\"deep\""],
            ),
        ));
    }
    if random.chance(5) {
        entries.push(("Nested", deep(random)));
    }
    if random.chance(4) {
        let len = entries.len();
        entries.swap(random.below(len), random.below(len));
    }
    object(random, entries)
}

fn row(random: &mut Random) -> String {
    let mut entries: Vec<(&str, String)> = vec![
        (
            "Timestamp",
            scalar(
                random,
                &[
                    "\"2024-05-28T10:00:00Z\"",
                    "\"2024-05-28T10:00:00.1234567Z\"",
                    "\"2024-05-27T10:00:00Z\"",
                    "null",
                    "5",
                    "\"yesterday\"",
                ],
            ),
        ),
        (
            "OperationName",
            scalar(
                random,
                &["\"create\"", "\"delete\"", "null", "7", "\"cr\\u00e9ate\""],
            ),
        ),
        (
            "DataSource",
            scalar(
                random,
                &["\"Azure Kubernetes Service\"", "\"Kubernetes Audit\""],
            ),
        ),
        (
            "IsAnonymousProxy",
            scalar(random, &["true", "false", "null", "\"yes\"", "1"]),
        ),
        ("RawEventData", raw_event(random)),
    ];
    if random.chance(3) {
        let extra = scalar(
            random,
            &["{\"Extra\":1}", "{\"Extra\":1.5}", "\"s\"", "null"],
        );
        entries.push(("AdditionalFields", extra));
    }
    if random.chance(6) {
        entries.push(("AdditionalFields", deep(random)));
    }
    if random.chance(4) {
        let noise = scalar(
            random,
            &[
                "{\"a\":[1,2,{\"b\":\"\\u00e9\"}]}",
                "[1e400]",
                "\"\\ud800\"",
                "\"\\ud83d\\ude00\"",
                "-01",
                "123456789012345678901234567890",
            ],
        );
        entries.push(("Unknown", noise));
    }
    if random.chance(8) {
        // A used column missing.
        let i = random.below(entries.len());
        entries.remove(i);
    }
    if random.chance(5) {
        let i = 1 + random.below(entries.len() - 1);
        entries.swap(0, i);
    }
    object(random, entries)
}

fn line(random: &mut Random) -> String {
    let row = row(random);
    match random.below(30) {
        0 => format!("{row} {row}"),
        1 => row[..row.len() / 2].to_string(),
        2 => "[1,2]".to_string(),
        3 => format!("  {row}  "),
        4 => r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create","objectRef":{"resource":"pods"},"stageTimestamp":"2024-05-28T10:00:00Z","user":{"username":"alice"}}"#.to_string(),
        5 => format!("{row}x"),
        _ => row,
    }
}

fn rules(random: &mut Random, prefix: &str, count: usize, whole: bool) -> Vec<Rule> {
    let schema = Schema::builtin();
    (0..count)
        .map(|i| {
            let kql = rule(random, whole);
            let pipeline =
                kqlc::compile(&kql, &schema).unwrap_or_else(|d| panic!("{kql}\n{}", d[0].message));
            Rule {
                name: format!("{prefix}_{i:02}"),
                path: format!("{prefix}_{i:02}.kql"),
                kql,
                pipeline,
            }
        })
        .collect()
}

/// Output, messages and exit status of a detector run.
fn run(binary: &Path, input: &Path, extra: &[&str]) -> (String, String, Option<i32>) {
    let output = Command::new(binary)
        .arg(input)
        .args(["--now", "2024-05-28T12:00:00Z"])
        .args(extra)
        .output()
        .unwrap();
    (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    )
}

fn first_difference(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let at = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    format!(
        "line {at}:\n  lazy: {:?}\n  full: {:?}",
        a.get(at),
        b.get(at)
    )
}

#[test]
fn lazy_and_full_parsing_give_identical_rows_and_messages() {
    let mut random = Random(0x1A2E);
    // Rules that read only paths (so one binary of them all still builds
    // pruned values), rules that may read whole columns, and one rule alone.
    let paths = rules(&mut random, "paths", 24, false);
    let mixed = rules(&mut random, "mixed", 16, true);
    let pruned = paths
        .iter()
        .filter(|r| {
            let Input::Table { access, .. } = &r.pipeline.input else {
                return false;
            };
            access.iter().any(|a| matches!(a, Access::Members(_)))
        })
        .count();
    assert!(
        pruned >= 12,
        "too few random rules read through member paths ({pruned})"
    );
    let single = vec![paths[0].clone()];

    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lines.jsonl");
    let lines: Vec<String> = (0..3000).map(|_| line(&mut random)).collect();
    std::fs::write(&input, lines.join("\n")).unwrap();

    let toolchain = Toolchain::discover().unwrap();
    let mut emitted = 0;
    for set in [&paths, &mixed, &single] {
        let binary = toolchain.build(set, Profile::Quick).unwrap();
        for extra in [
            &[][..],
            &["--no-prefilter"][..],
            &["--input-format", "cloudaudit"][..],
        ] {
            let lazy = run(&binary, &input, extra);
            let full = run(&binary, &input, &[extra, &["--full-parse"][..]].concat());
            let rules: Vec<&str> = set.iter().map(|r| r.kql.as_str()).collect();
            let rules = rules.join("\n---\n");
            assert!(
                lazy.0 == full.0,
                "rows differ ({extra:?}), {}\nrules:\n{rules}",
                first_difference(&lazy.0, &full.0)
            );
            assert!(
                lazy.1 == full.1,
                "messages differ ({extra:?}), {}\nrules:\n{rules}",
                first_difference(&lazy.1, &full.1)
            );
            assert_eq!(lazy.2, full.2, "exit status ({extra:?})");
            emitted += lazy.0.lines().count();
        }
    }
    assert!(emitted > 100, "the random rules should match some lines");
}
