//! Regression tests for the adversarial review of built detectors (issue
//! 13): no silent wrong answer, no silent limit. Each runs through the
//! user's path: the `kqlc` binary, or detectors built by the build driver.

use crate::common::{detector, kqlc, NOW};
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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
    let output = kqlc().arg("check").arg(&rule).output().unwrap();
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

#[test]
fn number_conversions_out_of_range_give_null_at_both_ends() {
    let binary = detector(
        "ranges",
        "print a = tolong(\"-9223372036854775809\"), b = tolong(\"9223372036854775808\"), \
         c = tolong(\"9223372036854775807\"), d = tolong(\"-9223372036854775808\"), \
         e = tolong(1e30), f = tolong(-1e30), g = toint(3e9), h = toint(\"-2147483649\"), \
         i = toint(\"-2147483648\")",
    );
    let output = run(&binary, &[]);
    assert_eq!(
        text(&output.stdout),
        "{\"a\":null,\"b\":null,\"c\":9223372036854775807,\"d\":-9223372036854775808,\
         \"e\":null,\"f\":null,\"g\":null,\"h\":null,\"i\":-2147483648}\n",
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn an_invalid_constant_regex_in_countof_is_a_located_compile_error() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("count.kql");
    std::fs::write(
        &rule,
        "CloudAuditEvents\n| extend n = countof(OperationName, \"(unclosed\", \"regex\")\n",
    )
    .unwrap();
    let output = kqlc().arg("check").arg(&rule).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error[KQL0005]: invalid regular expression"),
        "{stderr}"
    );
    assert!(stderr.contains("count.kql:2:37"), "{stderr}");
    // The same search with the default kind is a plain substring.
    std::fs::write(
        &rule,
        "CloudAuditEvents\n| extend n = countof(OperationName, \"(unclosed\")\n",
    )
    .unwrap();
    let output = kqlc().arg("check").arg(&rule).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

#[test]
fn infinities_and_nan_are_written_as_kusto_strings_not_null() {
    let binary = detector(
        "reals",
        "print a = 1.0/0.0, b = -1.0/0.0, c = 0.0/0.0, n = isnull(1.0/0.0), \
         d = pack_array(1.0/0.0, 2.5)",
    );
    let output = run(&binary, &[]);
    assert_eq!(
        text(&output.stdout),
        "{\"a\":\"Infinity\",\"b\":\"-Infinity\",\"c\":\"NaN\",\"n\":false,\
         \"d\":[\"Infinity\",2.5]}\n",
        "{}",
        text(&output.stderr)
    );
}

/// `n` matching JSON lines.
fn creates(dir: &Path, n: usize) -> PathBuf {
    let input = dir.join("creates.jsonl");
    let line = "{\"Timestamp\": \"2024-05-28T10:00:01Z\", \"OperationName\": \"create\"}\n";
    std::fs::write(&input, line.repeat(n)).unwrap();
    input
}

#[test]
fn threads_past_the_cap_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let input = creates(dir.path(), 3);
    let binary = detector("creates", CREATES);
    for n in ["257", "100000", "99999999999999999999999"] {
        let output = run(&binary, &[input.to_str().unwrap(), "--threads", n]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{n}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "error: --threads: {n} is more than the limit of 256 threads"
            )),
            "{stderr}"
        );
        assert_eq!(text(&output.stdout), "");
    }
    let output = run(&binary, &[input.to_str().unwrap(), "--threads", "256"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "{\"OperationName\":\"create\"}\n".repeat(3)
    );
}

#[test]
fn a_thread_the_system_refuses_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let input = creates(dir.path(), 3);
    let binary = detector("creates", CREATES);
    // Every spawned thread asks for a 128 TiB stack: the whole of a 47-bit
    // address space, which no system grants.
    let output = Command::new(&binary)
        .args([input.to_str().unwrap(), "--threads", "4", "--now", NOW])
        .env("RUST_MIN_STACK", (1u64 << 47).to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("error: --threads 4: cannot start worker thread "),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("summary: "), "{stderr}");
}

#[test]
fn an_output_that_is_an_input_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let input = bad_then_good(dir.path());
    let before = std::fs::read(&input).unwrap();
    let link = dir.path().join("hard-link.jsonl");
    std::fs::hard_link(&input, &link).unwrap();
    let binary = detector("creates", CREATES);
    let input_name = input.to_str().unwrap();
    for rejects in [input_name, link.to_str().unwrap()] {
        let output = run(&binary, &[input_name, "--rejects", rejects]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: --rejects {rejects} is the input file {input_name} (the same file)"
            )),
            "{stderr}"
        );
        assert_eq!(text(&output.stdout), "");
        assert_eq!(
            std::fs::read(&input).unwrap(),
            before,
            "the input is intact"
        );
    }
    // Standard output appended to the input (`det in >> in`) would read its
    // own rows back.
    let appended = std::fs::OpenOptions::new()
        .append(true)
        .open(&input)
        .unwrap();
    let output = Command::new(&binary)
        .args([input_name, "--now", NOW])
        .stdin(Stdio::null())
        .stdout(appended)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: standard output is the input file {input_name}"
        )),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is intact"
    );
    // A rejects file of another name is written as before.
    let rejects = dir.path().join("rejects.jsonl");
    let output = run(
        &binary,
        &[
            input_name,
            "--validate",
            "--rejects",
            rejects.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        std::fs::read_to_string(&rejects).unwrap(),
        "{\"Timestamp\": \"2024-05-28T10:00:00Z\", \"OperationName\": \"get\"\n"
    );
}

#[test]
fn a_100000_item_ioc_list_compiles_as_static_data_and_matches_exactly() {
    // Issue 13 item 8: a long constant `in` list is one static set, not
    // 100,000 expressions per row.
    let ips: Vec<String> = (0..100_000u32)
        .map(|i| format!("10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255))
        .collect();
    // Strings the static form must keep exact: a newline, a backslash
    // before an `n`, the empty string (KQL literals).
    let tricky = [r#""line\nbreak""#, r#""back\\slash\\n""#, r#""""#];
    let list = ips
        .iter()
        .map(|ip| format!("\"{ip}\""))
        .chain(tricky.iter().map(|s| s.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let kql = format!(
        "CloudAuditEvents\n| where IPAddress in ({list}) and IPAddress !in~ (\"10.0.0.1\", \"10.0.0.2\", \"10.0.0.3\", \"10.0.0.4\", \"10.0.0.5\", \"10.0.0.6\", \"10.0.0.7\", \"10.0.0.8\", \"10.0.0.9\", \"10.0.0.10\", \"10.0.0.11\", \"10.0.0.12\", \"10.0.0.13\", \"10.0.0.14\", \"10.0.0.15\", \"10.0.0.16\")\n| project IPAddress"
    );
    let binary = detector("iocs", &kql);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ips.jsonl");
    let lines: Vec<String> = [
        "10.1.134.159",
        "10.0.0.7",
        "10.0.0.17",
        "10.1.134.160",
        "11.0.0.1",
        // JSON string contents: the three tricky strings, and near misses.
        r"line\nbreak",
        r"line\\nbreak",
        r"back\\slash\\n",
        r"back\\slash\n",
        "",
    ]
    .iter()
    .map(|ip| format!("{{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"IPAddress\":\"{ip}\"}}"))
    .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let output = run(&binary, &[input.to_str().unwrap()]);
    assert_eq!(
        text(&output.stdout),
        concat!(
            "{\"IPAddress\":\"10.1.134.159\"}\n{\"IPAddress\":\"10.0.0.17\"}\n",
            r#"{"IPAddress":"line\nbreak"}"#,
            "\n",
            r#"{"IPAddress":"back\\slash\\n"}"#,
            "\n",
            r#"{"IPAddress":""}"#,
            "\n",
        ),
        "{}",
        text(&output.stderr)
    );
}

/// What an attacker writes into a JSON key or value: a line of the
/// detector's own, and a terminal escape.
const FORGED: &str = "\n summary: 0 rows read\u{1b}[31m";
/// The same, as the detector quotes it.
const FORGED_ESCAPED: &str = "\\n summary: 0 rows read\\u{1b}[31m";

/// Every stderr line is a report on `file` or the summary; no escape byte.
fn assert_no_forged_line(stderr: &str, file: &str) {
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("summary:")).count(),
        1,
        "{stderr}"
    );
    for line in stderr.lines() {
        assert!(
            line.starts_with(&format!("{file}:")) || line.starts_with("summary:"),
            "forged line {line:?} in:\n{stderr}"
        );
    }
}

#[test]
fn input_quoted_in_messages_cannot_forge_lines_or_escapes() {
    let dir = tempfile::tempdir().unwrap();
    // The file name too is quoted in every report.
    let input = dir.path().join(format!("in{FORGED}.jsonl"));
    let json_forged = serde_json::to_string(FORGED).unwrap();
    std::fs::write(
        &input,
        format!(
            "{{{json_forged}: 1}}\n\
             {{\"Timestamp\": {json_forged}, \"OperationName\": \"create\"}}\n\
             {{\"Timestamp\": \"2024-05-28T10:00:01Z\", \"OperationName\": [{json_forged}]}}\n"
        ),
    )
    .unwrap();
    let binary = detector("creates", CREATES);
    let output = run(&binary, &[input.to_str().unwrap(), "--validate"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let file = format!("{}{FORGED_ESCAPED}.jsonl", dir.path().join("in").display());
    assert_no_forged_line(&stderr, &file);
    assert!(
        stderr.contains(&format!(
            "{file}:1: unknown input format: an object with keys {FORGED_ESCAPED}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{file}:2: column 'Timestamp': '{FORGED_ESCAPED}' is not a datetime"
        )),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{file}:3: ")), "{stderr}");
    assert!(
        stderr.contains("summary: 3 rows read, 3 rejected"),
        "{stderr}"
    );
}

#[test]
fn rule_metadata_in_version_cannot_forge_lines_or_escapes() {
    let kql = CREATES;
    let pipeline = kqlc::compile(kql, &Schema::builtin()).unwrap();
    let rule = Rule {
        name: "creates".to_string(),
        kql: kql.to_string(),
        path: "creates.yaml".to_string(),
        pipeline,
    };
    let mut meta = kqlc_cli::manifest::ManifestRule::from_rule(&rule);
    meta.name = format!("Creates{FORGED}");
    meta.severity = Some(format!("High{FORGED}"));
    let built = Toolchain::discover()
        .unwrap()
        .build_with(
            &[rule],
            &[meta],
            &kqlc_cli::build::BuildOptions::new(Profile::Quick),
        )
        .unwrap();
    let output = run(&built.binary, &["--version"]);
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(
        stdout.contains(&format!("High{FORGED_ESCAPED}")),
        "{stdout}"
    );
    assert!(
        stdout.ends_with(&format!("Creates{FORGED_ESCAPED}\n")),
        "{stdout}"
    );
}

#[test]
fn kqlc_refuses_to_write_over_its_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("r.kql");
    let source = "CloudAuditEvents | take 1\n";
    std::fs::write(&rule, source).unwrap();
    let link = dir.path().join("link.kql");
    std::fs::hard_link(&rule, &link).unwrap();
    let kqlc = |args: &[&std::ffi::OsStr]| kqlc().args(args).output().unwrap();
    for (command, output) in [("emit", &link), ("build", &rule)] {
        let result = kqlc(&[
            command.as_ref(),
            rule.as_os_str(),
            "-o".as_ref(),
            output.as_os_str(),
        ]);
        let stderr = text(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "error: {} is the input file {} (the same file)",
                output.display(),
                rule.display()
            )),
            "{command}: {stderr}"
        );
        assert_eq!(std::fs::read_to_string(&rule).unwrap(), source);
    }
}

#[test]
fn a_leading_byte_order_mark_is_skipped_in_lines_and_documents() {
    let binary = detector("creates-bom", CREATES);
    let dir = tempfile::tempdir().unwrap();
    let line = "{\"Timestamp\": \"2024-05-28T10:00:01Z\", \"OperationName\": \"create\"}";
    for (name, body) in [
        ("lines.jsonl", format!("\u{feff}{line}\n{line}\n")),
        ("document.json", format!("\u{feff}[\n{line},\n{line}\n]\n")),
    ] {
        let input = dir.path().join(name);
        std::fs::write(&input, body).unwrap();
        let output = run(&binary, &[input.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        assert_eq!(
            text(&output.stdout),
            "{\"OperationName\":\"create\"}\n{\"OperationName\":\"create\"}\n",
            "{name}: {stderr}"
        );
    }
}

#[test]
fn a_bare_carriage_return_in_a_rule_passes_check_and_build_alike() {
    // `check` reads a bare CR as whitespace; the generated doc comments
    // must not carry it to rustc, which refuses it there.
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("cr.kql");
    std::fs::write(
        &rule,
        "CloudAuditEvents\r| where OperationName == \"create\"\r| project OperationName\r",
    )
    .unwrap();
    let kqlc = |args: &[&str]| kqlc().args(args).output().unwrap();
    let check = kqlc(&["check", rule.to_str().unwrap()]);
    assert!(check.status.success(), "{}", text(&check.stderr));
    let input = bad_then_good(dir.path());
    let run = kqlc(&[
        "run",
        rule.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--now",
        NOW,
    ]);
    assert_eq!(
        text(&run.stdout),
        "{\"OperationName\":\"create\"}\n",
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn a_rule_past_its_memory_budget_is_stopped_and_the_others_go_on() {
    // Issue 13 item 6: a self-join on a key the input controls makes
    // rows × rows; the budget stops that rule, names it, and the other
    // rule's rows still come out.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("same-key.jsonl");
    let line = "{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"DataSource\":\"x\"}\n";
    std::fs::write(&input, line.repeat(3000)).unwrap();
    let rules = [
        (
            "self-join",
            "CloudAuditEvents | project OperationName, DataSource | join kind=inner (CloudAuditEvents | project OperationName, D2 = DataSource) on OperationName | count",
        ),
        ("creates", "CloudAuditEvents | where OperationName == \"create\" | count"),
    ];
    let toolchain = Toolchain::discover().unwrap();
    let rules: Vec<Rule> = rules
        .iter()
        .map(|(name, kql)| Rule {
            name: name.to_string(),
            kql: kql.to_string(),
            path: format!("{name}.kql"),
            pipeline: kqlc::compile(kql, &Schema::builtin()).unwrap(),
        })
        .collect();
    let binary = toolchain.build(&rules, Profile::Quick).unwrap();
    let output = run(&binary, &[input.to_str().unwrap(), "--max-memory", "64M"]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error: rule self-join: its state")
            && stderr.contains("memory budget of 64 MiB"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 rule stopped over --max-memory"),
        "{stderr}"
    );
    assert_eq!(
        text(&output.stdout),
        "{\"_rule\":\"creates\",\"Count\":3000}\n",
        "{stderr}"
    );
    // Within budget, the join's 9,000,000 rows are counted.
    let output = run(&binary, &[input.to_str().unwrap(), "--max-memory", "none"]);
    assert!(
        text(&output.stdout).contains("{\"_rule\":\"self-join\",\"Count\":9000000}"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn flat_chains_of_a_thousand_ors_and_ands_compile_and_match_like_short_ones() {
    // Issue 13 item 8: a flat chain is not nesting.
    let ors = (0..1000)
        .map(|i| format!("OperationName == \"op{i}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    let ands = (0..300)
        .map(|i| format!("OperationName != \"no{i}\""))
        .collect::<Vec<_>>()
        .join(" and ");
    let kql =
        format!("CloudAuditEvents\n| where {ors} or OperationName == \"create\"\n| where {ands}\n| project OperationName");
    let binary = detector("chains", &kql);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ops.jsonl");
    let lines: Vec<String> = ["op0", "op999", "op1000", "create", "no5"]
        .iter()
        .map(|op| format!("{{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"{op}\"}}"))
        .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let output = run(&binary, &[input.to_str().unwrap()]);
    assert_eq!(
        text(&output.stdout),
        "{\"OperationName\":\"op0\"}\n{\"OperationName\":\"op999\"}\n{\"OperationName\":\"create\"}\n",
        "{}",
        text(&output.stderr)
    );
}

/// `first`, then each `(operator, operand)` of `terms`, as one flat chain
/// (`long`), or as successive `extend`s of `column` holding at most 20
/// operators each (`long` false: the nested form the parser always kept).
fn arithmetic_chain(column: &str, first: &str, terms: &[(&str, String)], long: bool) -> String {
    if long {
        let chain: String = terms.iter().map(|(op, e)| format!(" {op} {e}")).collect();
        return format!("| extend {column} = {first}{chain}\n");
    }
    let mut out = format!("| extend {column} = {first}\n");
    for chunk in terms.chunks(20) {
        let chain: String = chunk.iter().map(|(op, e)| format!(" {op} {e}")).collect();
        out.push_str(&format!("| extend {column} = {column}{chain}\n"));
    }
    out
}

#[test]
fn flat_arithmetic_chains_of_hundreds_of_terms_compile_and_fold_left_to_right() {
    // Issue 13 item 8: `a + b + ...` with hundreds of terms is a flat
    // chain, not nesting. It must keep the left-to-right order of the
    // nested form exactly: reals do not add associatively, a long may
    // overflow before a real joins in, a datetime moves by timespans.
    let reals: Vec<(&str, String)> = (0..400)
        .map(|i| {
            (
                if i % 3 == 2 { "-" } else { "+" },
                format!("0.{}", i % 10 + 1),
            )
        })
        .collect();
    let mixed: Vec<(&str, String)> = (0..300)
        .map(|i| match i % 4 {
            0 => ("+", "n".to_string()),
            1 => ("+", "9223372036854775000".to_string()),
            2 => ("-", "1.5e18".to_string()),
            _ => ("+", format!("{i}")),
        })
        .collect();
    let times: Vec<(&str, String)> = (0..200)
        .map(|i| (if i % 5 == 4 { "-" } else { "+" }, format!("{}s", i % 7)))
        .collect();
    let products: Vec<(&str, String)> = (0..240)
        .map(|i| {
            (
                ["*", "/", "%", "*"][i % 4],
                ["3", "2", "1000003", "n"][i % 4].to_string(),
            )
        })
        .collect();
    let rule = |long: bool| {
        format!(
            "CloudAuditEvents\n| extend n = strlen(OperationName)\n{}{}{}{}| project r, m, t, p",
            arithmetic_chain("r", "0.0", &reals, long),
            arithmetic_chain("m", "n", &mixed, long),
            arithmetic_chain("t", "Timestamp", &times, long),
            arithmetic_chain("p", "(n + 7)", &products, long),
        )
    };
    let (flat, nested) = (rule(true), rule(false));
    let toolchain = Toolchain::discover().unwrap();
    let rules: Vec<Rule> = [("flat", &flat), ("nested", &nested)]
        .iter()
        .map(|(name, kql)| Rule {
            name: name.to_string(),
            kql: kql.to_string(),
            path: format!("{name}.kql"),
            pipeline: kqlc::compile(kql, &Schema::builtin())
                .unwrap_or_else(|d| panic!("{name}: {}", d[0].message)),
        })
        .collect();
    let binary = toolchain.build(&rules, Profile::Quick).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ops.jsonl");
    let lines: Vec<String> = ["get", "create", "deletecollection", ""]
        .iter()
        .map(|op| format!("{{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"{op}\"}}"))
        .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let output = run(&binary, &[input.to_str().unwrap()]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows = |rule: &str| -> Vec<String> {
        let tag = format!("{{\"_rule\":\"{rule}\",");
        stdout
            .lines()
            .filter_map(|line| line.strip_prefix(&tag))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(rows("flat").len(), 4, "{stdout}");
    assert_eq!(rows("flat"), rows("nested"));
    // Not a rebalanced tree: 400 reals summed left to right.
    let mut r = 0.0f64;
    for (op, e) in &reals {
        let x: f64 = e.parse().unwrap();
        r = if *op == "+" { r + x } else { r - x };
    }
    assert!(
        rows("flat")[0].starts_with(&format!("\"r\":{},", serde_json::to_string(&r).unwrap())),
        "{} (left fold {r})",
        rows("flat")[0]
    );
}

#[test]
fn a_value_cut_at_a_documented_cap_is_a_warning_and_in_the_summary() {
    // Issue 13 item 4: make_set's default size and range()'s length are the
    // reference's limits, but reaching one is said, not silent.
    let binary = detector(
        "caps",
        "range x from 1 to 1100000 step 1 | summarize s = make_set(x) | extend n = array_length(s), r = array_length(range(1, 2000000, 1)) | project n, r",
    );
    let output = run(&binary, &[]);
    let stderr = text(&output.stderr);
    assert_eq!(
        text(&output.stdout),
        "{\"n\":1048576,\"r\":1048576}\n",
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "warning: rule caps: a value was cut at make_set's default size of 1048576 values"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: rule caps: a value was cut at range()'s limit of 1048576 values"),
        "{stderr}"
    );
    assert!(stderr.contains("2 value caps hit"), "{stderr}");
    // Under the caps, nothing is said.
    let binary = detector(
        "small",
        "range x from 1 to 10 step 1 | summarize s = make_set(x)",
    );
    let output = run(&binary, &[]);
    assert!(
        !text(&output.stderr).contains("warning"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn kqlc_check_shows_a_hostile_rule_without_terminal_escapes_or_forged_lines() {
    // Issue 13 item 10, the compiler's side: the rule's text in a snippet
    // and the messages quoting it are made harmless.
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("hostile.kql");
    std::fs::write(
        &rule,
        "CloudAuditEvents\n| where OperationName == \"\u{1b}[31mred\u{202e}\r summary: 0 rows\" and Unknwn\u{1b}x == 1\n",
    )
    .unwrap();
    let output = kqlc().arg("check").arg(&rule).output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
    assert!(!stderr.contains('\u{202e}'), "{stderr:?}");
    assert!(!stderr.contains('\r'), "{stderr:?}");
    assert!(stderr.contains("hostile.kql:2:"), "{stderr}");
}
