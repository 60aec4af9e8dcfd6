//! Rule tests: fixtures beside a rule, run through its detector by
//! `kqlc test`.
//!
//! A rule `r.kql` (or `r.yaml`) may have a folder `r.tests/` beside it
//! holding, per test `NAME`:
//!
//! - `NAME.input.EXT`: the input (any file the detector reads: JSON lines of
//!   `CloudAuditEvents` rows or a platform's own format, plain or gzip);
//! - `NAME.expected.jsonl`: exactly the rows the rule must print, one JSON
//!   object per line, in order (empty for a negative test);
//! - `NAME.now` (optional): the datetime `now()` is fixed at, else
//!   [`DEFAULT_NOW`].
//!
//! A test passes when the detector exits with status 0 and prints exactly
//! the expected lines; a failure shows a line diff of expected and actual
//! rows, with the fields that differ when a row changed.

use crate::build::{Profile, Rule, Toolchain};
use crate::rules::RuleFile;
use kqlc::sema::Schema;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The `now` of a test without a `NAME.now` file: the one the sample data
/// and `tests/expected/` were written for.
pub const DEFAULT_NOW: &str = "2024-05-28T12:00:00Z";

/// One fixture of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// The test's name: `NAME` of its files.
    pub name: String,
    /// Its input file, if there is one.
    pub input: Option<PathBuf>,
    /// Its expected rows, if there are.
    pub expected: Option<PathBuf>,
    /// What `now()` is, from `NAME.now` or [`DEFAULT_NOW`].
    pub now: String,
}

/// The fixture folder of a rule: `r.tests/` beside `r.kql`.
pub fn tests_dir(rule: &Path) -> PathBuf {
    let stem = rule
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    rule.with_file_name(format!("{stem}.tests"))
}

/// The tests in a rule's fixture folder, sorted by name; none when it has
/// no folder.
pub fn find_cases(rule: &Path) -> Result<Vec<TestCase>, String> {
    let dir = tests_dir(rule);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut cases: Vec<TestCase> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let Some(file) = path.file_name().map(|f| f.to_string_lossy().into_owned()) else {
            continue;
        };
        let (name, role) = if let Some((name, _)) = file.split_once(".input.") {
            (name.to_string(), Role::Input)
        } else if let Some(name) = file.strip_suffix(".expected.jsonl") {
            (name.to_string(), Role::Expected)
        } else if let Some(name) = file.strip_suffix(".now") {
            (name.to_string(), Role::Now)
        } else {
            continue;
        };
        let index = match cases.iter().position(|c| c.name == name) {
            Some(i) => i,
            None => {
                cases.push(TestCase {
                    name: name.clone(),
                    input: None,
                    expected: None,
                    now: DEFAULT_NOW.to_string(),
                });
                cases.len() - 1
            }
        };
        let case = &mut cases[index];
        match role {
            Role::Input if case.input.is_some() => {
                return Err(format!(
                    "{}: two input files for test '{name}'",
                    dir.display()
                ));
            }
            Role::Input => case.input = Some(path),
            Role::Expected => case.expected = Some(path),
            Role::Now => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                case.now = text.trim().to_string();
            }
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

#[derive(Clone, Copy)]
enum Role {
    Input,
    Expected,
    Now,
}

/// How one test went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The rows were exactly the expected ones.
    Pass,
    /// They were not, or the detector failed: a readable explanation.
    Fail(String),
}

/// Runs one test through a built detector.
pub fn run_case(binary: &Path, case: &TestCase) -> Outcome {
    let (Some(input), Some(expected_path)) = (&case.input, &case.expected) else {
        return Outcome::Fail(match case.input {
            None => format!("no input file ({}.input.jsonl)", case.name),
            Some(_) => format!("no expected rows ({}.expected.jsonl)", case.name),
        });
    };
    let expected = match std::fs::read_to_string(expected_path) {
        Ok(text) => text,
        Err(e) => return Outcome::Fail(format!("{}: {e}", expected_path.display())),
    };
    let output = match Command::new(binary)
        .arg(input)
        .arg("--now")
        .arg(&case.now)
        .output()
    {
        Ok(output) => output,
        Err(e) => return Outcome::Fail(format!("cannot run {}: {e}", binary.display())),
    };
    let actual = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut report = String::new();
    if !output.status.success() {
        let _ = writeln!(
            report,
            "the detector exited with {} (every input line must be read); it said:",
            output.status
        );
        for line in stderr.lines() {
            let _ = writeln!(report, "    {line}");
        }
    }
    let expected_lines = rows(&expected);
    let actual_lines = rows(&actual);
    if expected_lines != actual_lines {
        let _ = writeln!(
            report,
            "rows differ (- expected in {}, + actual):",
            expected_path.display()
        );
        report.push_str(&line_diff(&expected_lines, &actual_lines));
    }
    if report.is_empty() {
        Outcome::Pass
    } else {
        Outcome::Fail(report)
    }
}

/// The non-blank lines of a file of rows, without line ends.
fn rows(text: &str) -> Vec<&str> {
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// A line diff of `expected` and `actual`: changed lines with two lines of
/// context, `-` for expected lines missing from the output, `+` for
/// unexpected output lines; where a row was replaced by one row, the fields
/// that differ.
pub fn line_diff(expected: &[&str], actual: &[&str]) -> String {
    let ops = diff_ops(expected, actual);
    let mut out = String::new();
    let context = 2;
    let mut i = 0;
    while i < ops.len() {
        if let Op::Same(line) = ops[i] {
            let near_change = ops[i.saturating_sub(context)..ops.len().min(i + context + 1)]
                .iter()
                .any(|op| !matches!(op, Op::Same(_)));
            if near_change {
                let _ = writeln!(out, "    {line}");
            } else if !out.ends_with("  ...\n") {
                out.push_str("  ...\n");
            }
            i += 1;
            continue;
        }
        // A run of changes: removals, then additions.
        let start = i;
        while i < ops.len() && !matches!(ops[i], Op::Same(_)) {
            i += 1;
        }
        let removed: Vec<&str> = ops[start..i]
            .iter()
            .filter_map(|op| match op {
                Op::Removed(l) => Some(*l),
                _ => None,
            })
            .collect();
        let added: Vec<&str> = ops[start..i]
            .iter()
            .filter_map(|op| match op {
                Op::Added(l) => Some(*l),
                _ => None,
            })
            .collect();
        for line in &removed {
            let _ = writeln!(out, "  - {line}");
        }
        for line in &added {
            let _ = writeln!(out, "  + {line}");
        }
        if removed.len() == added.len() {
            for (old, new) in removed.iter().zip(&added) {
                for change in field_changes(old, new) {
                    let _ = writeln!(out, "    ~ {change}");
                }
            }
        }
    }
    if out == "  ...\n" {
        out.clear();
    }
    out
}

/// One step of a diff.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

/// The steps turning `a` into `b` along a longest common subsequence (a
/// positional comparison when the files are too large for the table).
fn diff_ops<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Op<'a>> {
    const MAX_CELLS: usize = 4_000_000;
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        let mut ops = Vec::new();
        for i in 0..a.len().max(b.len()) {
            match (a.get(i), b.get(i)) {
                (Some(x), Some(y)) if x == y => ops.push(Op::Same(x)),
                (x, y) => {
                    ops.extend(x.map(|x| Op::Removed(x)));
                    ops.extend(y.map(|y| Op::Added(y)));
                }
            }
        }
        return ops;
    }
    // lcs[i][j]: the LCS length of a[i..] and b[j..].
    let width = b.len() + 1;
    let mut lcs = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i * width + j] = if a[i] == b[j] {
                lcs[(i + 1) * width + j + 1] + 1
            } else {
                lcs[(i + 1) * width + j].max(lcs[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push(Op::Same(a[i]));
            i += 1;
            j += 1;
        } else if j < b.len()
            && (i == a.len() || lcs[i * width + j + 1] >= lcs[(i + 1) * width + j])
        {
            ops.push(Op::Added(b[j]));
            j += 1;
        } else {
            ops.push(Op::Removed(a[i]));
            i += 1;
        }
    }
    // Show removals before additions within a run of changes.
    let mut start = 0;
    while start < ops.len() {
        if matches!(ops[start], Op::Same(_)) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < ops.len() && !matches!(ops[end], Op::Same(_)) {
            end += 1;
        }
        ops[start..end].sort_by_key(|op| matches!(op, Op::Added(_)));
        start = end;
    }
    ops
}

/// The fields that differ between two JSON object rows, as
/// `Field: expected X, got Y`; nothing when either is not an object.
fn field_changes(expected: &str, actual: &str) -> Vec<String> {
    use serde_json::{Map, Value};
    let parse = |text: &str| match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Some(map),
        _ => None,
    };
    let (Some(old), Some(new)) = (parse(expected), parse(actual)) else {
        return Vec::new();
    };
    let shown = |map: &Map<String, Value>, key: &str| match map.get(key) {
        Some(value) => value.to_string(),
        None => "(absent)".to_string(),
    };
    let mut keys: Vec<&String> = old.keys().collect();
    keys.extend(new.keys().filter(|k| !old.contains_key(*k)));
    let mut changes: Vec<String> = keys
        .into_iter()
        .filter(|key| old.get(*key) != new.get(*key))
        .map(|key| {
            format!(
                "{key}: expected {}, got {}",
                shown(&old, key),
                shown(&new, key)
            )
        })
        .collect();
    if changes.is_empty() && expected != actual {
        changes.push("the same fields and values, in another order or spacing".to_string());
    }
    changes
}

/// Totals of a `kqlc test` run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed (including those of rules that did not build).
    pub failed: usize,
    /// Rules with no fixtures.
    pub untested_rules: usize,
}

/// Builds every rule of `rules` that has fixtures (alone, with the quick
/// profile) and runs its tests, writing a `PASS`/`FAIL` line per test and
/// the explanation of each failure to `out`, and compiler diagnostics to
/// `errors`.
pub fn run_tests(
    rules: &[RuleFile],
    schema: &Schema,
    toolchain: &Toolchain,
    out: &mut dyn Write,
    errors: &mut dyn Write,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    for rule in rules {
        let id = &rule.meta.id;
        let cases = match find_cases(&rule.path) {
            Ok(cases) => cases,
            Err(message) => {
                writeln!(out, "FAIL {id}: {message}")?;
                summary.failed += 1;
                continue;
            }
        };
        if cases.is_empty() {
            summary.untested_rules += 1;
            continue;
        }
        let pipeline = match kqlc::compile(&rule.kql, schema) {
            Ok(pipeline) => pipeline,
            Err(diagnostics) => {
                for diagnostic in &diagnostics {
                    writeln!(
                        errors,
                        "{}\n",
                        diagnostic.render(&rule.query_origin(), &rule.kql, false)
                    )?;
                }
                for case in &cases {
                    writeln!(out, "FAIL {id}/{}: the rule does not compile", case.name)?;
                }
                summary.failed += cases.len();
                continue;
            }
        };
        let built = toolchain.build(
            &[Rule {
                name: id.clone(),
                kql: rule.kql.clone(),
                path: rule.path.display().to_string(),
                pipeline,
            }],
            Profile::Quick,
        );
        let binary = match built {
            Ok(binary) => binary,
            Err(e) => {
                for case in &cases {
                    writeln!(out, "FAIL {id}/{}: build failed: {e}", case.name)?;
                }
                summary.failed += cases.len();
                continue;
            }
        };
        for case in &cases {
            match run_case(&binary, case) {
                Outcome::Pass => {
                    writeln!(out, "PASS {id}/{}", case.name)?;
                    summary.passed += 1;
                }
                Outcome::Fail(report) => {
                    writeln!(out, "FAIL {id}/{}", case.name)?;
                    for line in report.lines() {
                        writeln!(out, "  {line}")?;
                    }
                    summary.failed += 1;
                }
            }
        }
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_shows_missing_extra_and_changed_rows_with_their_fields() {
        let expected = [
            r#"{"a":1,"b":"x"}"#,
            r#"{"a":2,"b":"y"}"#,
            r#"{"a":3,"b":"z"}"#,
        ];
        let actual = [
            r#"{"a":1,"b":"x"}"#,
            r#"{"a":2,"b":"Y"}"#,
            r#"{"a":3,"b":"z"}"#,
            r#"{"a":4,"b":"w"}"#,
        ];
        assert_eq!(
            line_diff(&expected, &actual),
            concat!(
                "    {\"a\":1,\"b\":\"x\"}\n",
                "  - {\"a\":2,\"b\":\"y\"}\n",
                "  + {\"a\":2,\"b\":\"Y\"}\n",
                "    ~ b: expected \"y\", got \"Y\"\n",
                "    {\"a\":3,\"b\":\"z\"}\n",
                "  + {\"a\":4,\"b\":\"w\"}\n",
            )
        );
    }

    #[test]
    fn diff_elides_unchanged_lines_far_from_changes() {
        let expected: Vec<String> = (0..10).map(|i| format!("{{\"n\":{i}}}")).collect();
        let mut actual = expected.clone();
        actual.remove(8);
        let e: Vec<&str> = expected.iter().map(String::as_str).collect();
        let a: Vec<&str> = actual.iter().map(String::as_str).collect();
        assert_eq!(
            line_diff(&e, &a),
            "  ...\n    {\"n\":6}\n    {\"n\":7}\n  - {\"n\":8}\n    {\"n\":9}\n"
        );
    }

    #[test]
    fn field_changes_name_absent_fields_and_reordering() {
        assert_eq!(
            field_changes(r#"{"a":1}"#, r#"{"a":1,"b":null}"#),
            ["b: expected (absent), got null"]
        );
        assert_eq!(
            field_changes(r#"{"a":1,"b":2}"#, r#"{"b":2,"a":1}"#),
            ["the same fields and values, in another order or spacing"]
        );
        assert!(field_changes("not json", "{}").is_empty());
    }

    #[test]
    fn cases_are_found_by_file_name_with_now_files() {
        let dir = tempfile::tempdir().unwrap();
        let rule = dir.path().join("r.kql");
        std::fs::write(&rule, "print 1").unwrap();
        let tests = dir.path().join("r.tests");
        std::fs::create_dir(&tests).unwrap();
        for (file, text) in [
            ("b.input.jsonl", ""),
            ("b.expected.jsonl", ""),
            ("a.input.jsonl.gz", ""),
            ("a.expected.jsonl", ""),
            ("a.now", "2020-01-01T00:00:00Z\n"),
            ("README.md", ""),
        ] {
            std::fs::write(tests.join(file), text).unwrap();
        }
        let cases = find_cases(&rule).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].name, "a");
        assert_eq!(cases[0].now, "2020-01-01T00:00:00Z");
        assert_eq!(cases[1].now, DEFAULT_NOW);
        assert!(cases
            .iter()
            .all(|c| c.input.is_some() && c.expected.is_some()));
        assert!(find_cases(&dir.path().join("other.kql"))
            .unwrap()
            .is_empty());
    }
}
