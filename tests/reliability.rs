//! Regression tests for the adversarial review of built detectors (issue
//! 13): no silent wrong answer, no silent limit. Each runs through the
//! user's path: the `kqlc` binary, or detectors built by the build driver.

use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NOW: &str = "2024-05-28T12:00:00Z";

/// A quick build of one rule, as `kqlc run` and `kqlc test` make them.
fn detector(name: &str, kql: &str) -> PathBuf {
    let pipeline = kqlc::compile(kql, &Schema::builtin())
        .unwrap_or_else(|d| panic!("{kql}: {}", d[0].message));
    let rule = Rule {
        name: name.to_string(),
        kql: kql.to_string(),
        path: format!("{name}.kql"),
        pipeline,
    };
    Toolchain::discover()
        .unwrap()
        .build(&[rule], Profile::Quick)
        .unwrap()
}

fn run(binary: &Path, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .args(["--now", NOW])
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CREATES: &str =
    "CloudAuditEvents | where OperationName == \"create\" | project OperationName";

/// A malformed line without the rule's literal, then a matching line.
fn bad_then_good(dir: &Path) -> PathBuf {
    let input = dir.join("input.jsonl");
    std::fs::write(
        &input,
        concat!(
            "{\"Timestamp\": \"2024-05-28T10:00:00Z\", \"OperationName\": \"get\"\n",
            "{\"Timestamp\": \"2024-05-28T10:00:01Z\", \"OperationName\": \"create\"}\n",
        ),
    )
    .unwrap();
    input
}

#[test]
fn lines_the_prefilter_skips_are_counted_as_not_validated() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_then_good(dir.path());
    let binary = detector("creates", CREATES);
    let output = run(&binary, &[input.to_str().unwrap()]);
    let stderr = text(&output.stderr);
    assert_eq!(text(&output.stdout), "{\"OperationName\":\"create\"}\n");
    assert!(
        stderr.contains("1 lines skipped unparsed by the literal prefilter (not validated"),
        "{stderr}"
    );
}

#[test]
fn validate_reports_a_bad_line_the_prefilter_would_skip() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_then_good(dir.path());
    let binary = detector("creates", CREATES);
    for flag in ["--validate", "--no-prefilter"] {
        let output = run(&binary, &[input.to_str().unwrap(), flag]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{flag}: {stderr}");
        assert!(
            stderr.contains("input.jsonl:1: malformed JSON"),
            "{flag}: {stderr}"
        );
        assert_eq!(text(&output.stdout), "{\"OperationName\":\"create\"}\n");
    }
}

#[test]
fn strict_stops_at_a_bad_line_the_prefilter_would_skip() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_then_good(dir.path());
    let binary = detector("creates", CREATES);
    let output = run(&binary, &[input.to_str().unwrap(), "--strict"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("input.jsonl:1: malformed JSON"), "{stderr}");
    assert!(
        stderr.contains("stopping at the first bad line (--strict)"),
        "{stderr}"
    );
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn closed_stdin_is_an_io_error_not_an_empty_input() {
    let binary = detector("creates", CREATES);
    // `exec DET <&-`: the detector starts with descriptor 0 closed.
    let output = Command::new("sh")
        .arg("-c")
        .arg("exec \"$0\" --now 2024-05-28T12:00:00Z <&-")
        .arg(&binary)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("<stdin>: cannot read: standard input is closed"),
        "{stderr}"
    );
    // An open but empty stdin is still an empty input.
    let output = run(&binary, &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn a_constant_range_past_the_limit_is_a_located_compile_error() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("big.kql");
    std::fs::write(&rule, "range x from 1 to 10000000000 step 1\n| count\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kqlc"))
        .arg("check")
        .arg(&rule)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("KQL0109"), "{stderr}");
    assert!(
        stderr.contains("this range makes 10000000000 rows, more than the limit of 100000000"),
        "{stderr}"
    );
    assert!(stderr.contains("big.kql:1:"), "{stderr}");
}

#[test]
fn a_range_within_the_limit_counts_every_row() {
    // More rows than the old silent cap of 10,000,000.
    let binary = detector(
        "many",
        "range x from 1 to 12000000 step 1 | summarize n = count(), top = max(x)",
    );
    let output = run(&binary, &[]);
    assert_eq!(
        text(&output.stdout),
        "{\"n\":12000000,\"top\":12000000}\n",
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn a_computed_range_past_the_limit_stops_the_detector_naming_the_rule() {
    // Bounds computed at run time: 400 days in 100 ms steps is 345,600,000 rows.
    let binary = detector(
        "ticks",
        "range t from ago(400d) to now() step 100ms | count",
    );
    let output = run(&binary, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "error: rule ticks: range would make 345600001 rows, more than the limit of 100000000"
        ),
        "{stderr}"
    );
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn the_compiler_and_the_runtime_agree_on_the_range_limit() {
    assert_eq!(
        kqlc::sema::limits::MAX_RANGE_ROWS,
        kql_runtime::expand::MAX_RANGE_ROWS
    );
}
