//! End-to-end: the three reference detections, unmodified, compiled by the
//! `kqlc` binary (`build` and `run`) and run over the bundled sample data.
//! Expected rows are in `tests/expected/` (derived by hand; see its README).

use crate::common::{kqlc, repo, scratch, stderr, stdout, NOW};
use std::path::PathBuf;
use std::process::Command;

const RULES: [&str; 3] = [
    "privileged-pod",
    "exec-in-kube-system",
    "cluster-admin-binding",
];

fn rule_path(rule: &str) -> PathBuf {
    repo().join("examples/rules").join(format!("{rule}.kql"))
}

fn sample_data() -> PathBuf {
    repo().join("examples/data/audit.jsonl")
}

fn expected(rule: &str) -> String {
    std::fs::read_to_string(repo().join("tests/expected").join(format!("{rule}.jsonl"))).unwrap()
}

/// Builds `rules` into one binary (once per set of rules per test run).
fn build(rules: &[&str]) -> PathBuf {
    let name = rules.join("+");
    let binary = scratch("end_to_end").join(&name);
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if binary.exists() {
        return binary;
    }
    let output = kqlc()
        .arg("build")
        .args(rules.iter().map(|r| rule_path(r)))
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "kqlc build failed:\n{}",
        stderr(&output)
    );
    binary
}

#[test]
fn bundled_rules_are_the_reference_queries_unmodified() {
    let shared = repo().join("../shared/seed-queries");
    if !shared.is_dir() {
        eprintln!("skipped: {} is missing", shared.display());
        return;
    }
    for rule in RULES {
        let ours = std::fs::read(rule_path(rule)).unwrap();
        let reference = std::fs::read(shared.join(format!("{rule}.kql"))).unwrap();
        assert_eq!(
            ours, reference,
            "examples/rules/{rule}.kql differs from the reference query"
        );
    }
}

#[test]
fn each_reference_rule_built_with_kqlc_build_returns_exactly_the_expected_rows() {
    for rule in RULES {
        let binary = build(&[rule]);
        let output = Command::new(&binary)
            .arg(sample_data())
            .args(["--now", NOW])
            .output()
            .unwrap();
        assert!(output.status.success(), "{rule}: {}", stderr(&output));
        assert_eq!(stdout(&output), expected(rule), "{rule}: rows differ");
        let expected_count = expected(rule).lines().count();
        assert!(
            stderr(&output).contains(&format!(
                "summary: 46 rows read, 0 rejected, {expected_count} emitted"
            )),
            "{rule}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn kqlc_run_returns_the_same_rows_as_the_built_binary() {
    for rule in RULES {
        let run = kqlc()
            .arg("run")
            .arg(rule_path(rule))
            .arg("--input")
            .arg(sample_data())
            .args(["--now", NOW])
            .output()
            .unwrap();
        assert!(run.status.success(), "{rule}: {}", stderr(&run));
        let built = Command::new(build(&[rule]))
            .arg(sample_data())
            .args(["--now", NOW])
            .output()
            .unwrap();
        assert_eq!(
            stdout(&run),
            stdout(&built),
            "{rule}: kqlc run and the binary differ"
        );
        assert_eq!(stdout(&run), expected(rule));
    }
}

#[test]
fn one_binary_runs_all_rules_in_one_pass_and_tags_rows_with_the_rule() {
    let binary = build(&RULES);
    let output = Command::new(&binary)
        .arg(sample_data())
        .args(["--now", NOW])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    for rule in RULES {
        let prefix = format!("{{\"_rule\":\"{rule}\",");
        let ours: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with(&prefix))
            .map(|l| format!("{{{}", &l[prefix.len()..]))
            .collect();
        let wanted: Vec<String> = expected(rule).lines().map(str::to_string).collect();
        assert_eq!(ours, wanted, "{rule}");
    }
    let total: usize = RULES.iter().map(|r| expected(r).lines().count()).sum();
    assert_eq!(
        text.lines().count(),
        total,
        "every row is tagged with a known rule"
    );
    assert!(
        stderr(&output).contains("privileged-pod=6"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn stdin_is_read_when_no_file_is_given() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary)
        .args(["--now", NOW])
        .stdin(std::fs::File::open(sample_data()).unwrap())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(stdout(&output), expected("privileged-pod"));
}

#[test]
fn without_now_old_sample_events_are_outside_ago_1d() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary).arg(sample_data()).output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        stdout(&output),
        "",
        "the sample data is from 2024; ago(1d) from today excludes it"
    );
}

fn bad_input() -> PathBuf {
    repo().join("tests/data/bad-input.jsonl")
}

#[test]
fn bad_lines_are_reported_with_file_line_and_cause_and_processing_goes_on() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary)
        .arg(bad_input())
        .args(["--now", NOW, "--no-prefilter"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "rejected lines make the exit status 1:\n{err}"
    );
    let rejected: Vec<u64> = err
        .lines()
        .filter_map(|l| l.split_once("bad-input.jsonl:"))
        .filter_map(|(_, rest)| rest.split(':').next()?.parse().ok())
        .collect();
    assert_eq!(
        rejected,
        [2, 3, 4, 5, 6, 7, 8, 9, 11],
        "rejected lines:\n{err}"
    );
    for cause in [
        ":2: malformed JSON",
        ":3: malformed JSON",
        ":4: invalid UTF-8",
        ":5: invalid UTF-8",
        ":6: expected a JSON object (one row), found an array",
        ":7: column 'Timestamp': 'yesterday' is not a datetime",
        ":8: column 'OperationName': expected string, found number 42",
        ":9: missing column 'RawEventData'",
        ":11: malformed JSON",
    ] {
        assert!(err.contains(cause), "missing '{cause}' in:\n{err}");
    }
    assert!(
        err.contains("summary: 12 rows read, 9 rejected, 2 emitted, 1 blank lines skipped"),
        "{err}"
    );
    assert_eq!(
        stdout(&output).lines().count(),
        2,
        "the two good privileged rows are still found"
    );
}

#[test]
fn strict_stops_at_the_first_bad_line() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary)
        .arg(bad_input())
        .args(["--now", NOW, "--strict", "--no-prefilter"])
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1));
    assert!(err.contains("bad-input.jsonl:2: malformed JSON"), "{err}");
    assert!(!err.contains("bad-input.jsonl:3:"), "{err}");
    assert!(err.contains("--strict"), "{err}");
    assert_eq!(
        stdout(&output).lines().count(),
        1,
        "only the row before the bad line"
    );
}

#[test]
fn a_missing_input_file_is_reported_and_the_others_are_read() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary)
        .arg(scratch("end_to_end").join("no-such-file.jsonl"))
        .arg(sample_data())
        .args(["--now", NOW])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no-such-file.jsonl: cannot open"),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output), expected("privileged-pod"));
}

#[test]
fn bad_detector_arguments_give_usage_and_status_2() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary)
        .args(["--now", "yesterday"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("'yesterday' is not a datetime"));
}

#[test]
fn a_config_file_gives_the_rows_of_the_same_flags() {
    let binary = build(&["privileged-pod"]);
    let flags = Command::new(&binary)
        .arg(sample_data())
        .args(["--now", NOW, "--threads", "2", "--output", "alerts"])
        .output()
        .unwrap();
    assert!(flags.status.success(), "{}", stderr(&flags));
    assert!(!flags.stdout.is_empty());
    let dir = scratch("end_to_end").join("config");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("detector.yaml");
    std::fs::write(
        &config,
        format!(
            "# the flags above, as a service would keep them\ninputs:\n  - {}\nnow: {NOW}\nthreads: 2\noutput: alerts\nvalidate: false\n",
            sample_data().display()
        ),
    )
    .unwrap();
    let from_config = Command::new(&binary)
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(from_config.status.success(), "{}", stderr(&from_config));
    assert_eq!(stdout(&from_config), stdout(&flags));
    assert_eq!(stderr(&from_config), stderr(&flags));
    // The command line overrides the file.
    let rows = Command::new(&binary)
        .arg("--config")
        .arg(&config)
        .args(["--output", "rows"])
        .output()
        .unwrap();
    assert!(rows.status.success(), "{}", stderr(&rows));
    assert_eq!(stdout(&rows), expected("privileged-pod"));
    // A bad key: one error naming the file, the line and the key; usage status.
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "now: 2024-05-28T12:00:00Z\nthreads: 0\n").unwrap();
    let output = Command::new(&binary)
        .arg("--config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.starts_with(&format!(
            "error: --config {}:2: threads: needs at least 1 thread\n",
            bad.display()
        )),
        "{err}"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn detector_help_groups_the_options_by_topic_on_stdout() {
    let binary = build(&["privileged-pod"]);
    let output = Command::new(&binary).arg("--help").output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let help = stdout(&output);
    let mut at = 0;
    for heading in [
        "Input:",
        "Output:",
        "Time and scheduled rules:",
        "Threads and limits:",
        "Live sources",
        "Webhook and TLS (with --listen):",
        "NATS JetStream (with --nats):",
        "State and metrics (live sources):",
        "Sandbox (live sources):",
        "General:",
    ] {
        let found = help[at..]
            .find(&format!("\n{heading}"))
            .unwrap_or_else(|| panic!("no {heading:?} in order:\n{help}"));
        at += found + 1;
    }
    assert!(
        help.contains("Usage: privileged-pod [OPTIONS] [FILE]..."),
        "{help}"
    );
    assert!(help.contains("\n      --config <FILE>"), "{help}");
    assert!(help.ends_with("rule: privileged-pod\n"), "{help}");
    assert!(stderr(&output).is_empty());
    // A bad option: one line naming it, then how to get help; status 2.
    let output = Command::new(&binary).arg("--thread").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: unknown option '--thread' (did you mean '--threads'?)\n\
         usage: privileged-pod [OPTIONS] [FILE]... ('privileged-pod --help' lists the options)\n"
    );
    assert!(stdout(&output).is_empty());
}

#[test]
fn print_and_datatable_queries_run_without_input() {
    let dir = scratch("end_to_end").join("inline");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("print-literals", "print a = 1, b = \"x\", c = 1d, d = datetime(2024-05-28T10:00:00Z), e = dynamic({\"k\": [1, true, null]})", "{\"a\":1,\"b\":\"x\",\"c\":\"1.00:00:00\",\"d\":\"2024-05-28T10:00:00Z\",\"e\":{\"k\":[1,true,null]}}\n"),
        ("datatable-count", "datatable (Name: string, N: long) [\"a\", 1, \"b\", 2, \"c\", 3]\n| where N >= 2\n| count", "{\"Count\":2}\n"),
        ("let-and-take", "let threshold = 1;\nlet T = datatable (Name: string, N: long) [\"a\", 1, \"b\", 2, \"c\", 3];\nT\n| where N > threshold\n| extend Upper = toupper(Name)\n| project-away N\n| project-rename Label = Name\n| take 1", "{\"Label\":\"b\",\"Upper\":\"B\"}\n"),
    ];
    for (name, query, want) in cases {
        let file = dir.join(format!("{name}.kql"));
        std::fs::write(&file, query).unwrap();
        let output = kqlc()
            .arg("run")
            .arg(&file)
            .args(["--now", NOW])
            .output()
            .unwrap();
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        assert_eq!(stdout(&output), want, "{name}");
    }
}

#[test]
fn an_unreadable_externaldata_file_stops_the_detector_naming_file_line_and_cause() {
    let dir = scratch("end_to_end").join("externaldata");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("levels.csv"), "alice,3\nbob,three\n").unwrap();
    let query = dir.join("levels.kql");
    std::fs::write(
        &query,
        "externaldata (User: string, Level: long) [\"levels.csv\", \"missing.csv\"]\n| count",
    )
    .unwrap();
    let output = kqlc()
        .current_dir(&dir)
        .arg("run")
        .arg(&query)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("externaldata: levels.csv:2: column 'Level' is long, but field 2 is 'three'"),
        "{err}"
    );
    assert!(
        stdout(&output).is_empty(),
        "no partial result: {}",
        stdout(&output)
    );
    // Fixed, the second file is missing: that is reported too.
    std::fs::write(dir.join("levels.csv"), "alice,3\nbob,4\n").unwrap();
    let output = kqlc()
        .current_dir(&dir)
        .arg("run")
        .arg(&query)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.contains("externaldata: missing.csv: cannot read"),
        "{err}"
    );
}

#[test]
fn emitted_code_is_formatted_safe_and_marked_generated() {
    for rule in RULES {
        let output = kqlc().arg("emit").arg(rule_path(rule)).output().unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let code = stdout(&output);
        assert!(code.starts_with("// @generated by kqlc"), "{rule}");
        assert!(!code.contains("unsafe"), "{rule}");
        assert!(
            code.contains("fn where_1("),
            "one named method per operator"
        );
        assert!(
            code.contains("/// | where Timestamp > ago(1d)"),
            "the KQL of each operator is kept"
        );
    }
}

#[test]
fn emit_ir_shows_each_operator_and_the_calls_it_lowers_to() {
    for rule in RULES {
        let output = kqlc()
            .args(["emit", "--ir"])
            .arg(rule_path(rule))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        let ir = stdout(&output);
        assert!(ir.starts_with("input CloudAuditEvents\n"), "{rule}: {ir}");
        assert!(
            ir.contains(
                "| where Timestamp > ago(1d)\n    filter ops::gt(Timestamp#0, functions::ago(ctx, "
            ),
            "{rule}: {ir}"
        );
        assert!(
            ir.lines()
                .last()
                .unwrap()
                .starts_with("output Timestamp: datetime"),
            "{rule}: {ir}"
        );
    }
    let both = kqlc()
        .args(["emit", "--ir", "--kql"])
        .arg(rule_path(RULES[0]))
        .output()
        .unwrap();
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
}

#[test]
fn check_accepts_the_reference_rules() {
    let output = kqlc()
        .arg("check")
        .arg(repo().join("examples/rules"))
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

/// The rows of `rule` in a tagged multi-rule output, in order.
fn rows_of(text: &str, rule: &str) -> Vec<String> {
    let prefix = format!("{{\"_rule\":\"{rule}\",");
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_kql_macro_example_prints_the_same_rows_as_the_kqlc_build_binary() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let example = Command::new(cargo)
        .current_dir(repo())
        .args([
            "run",
            "--quiet",
            "-p",
            "kql-detector",
            "--example",
            "macro_detector",
            "--",
        ])
        .arg(sample_data())
        .args(["--now", NOW])
        .output()
        .unwrap();
    assert!(example.status.success(), "{}", stderr(&example));
    let built = Command::new(build(&RULES))
        .arg(sample_data())
        .args(["--now", NOW])
        .output()
        .unwrap();
    let (ours, theirs) = (stdout(&example), stdout(&built));
    for rule in RULES {
        let rows = rows_of(&ours, rule);
        assert!(!rows.is_empty(), "{rule}: the example found nothing");
        assert_eq!(rows, rows_of(&theirs, rule), "{rule}");
    }
    assert_eq!(ours.lines().count(), theirs.lines().count());
}

#[test]
fn the_prefilter_skips_lines_that_cannot_match_without_changing_results() {
    let binary = build(&RULES);
    let run = |extra: &[&str]| {
        Command::new(&binary)
            .arg(sample_data())
            .args(["--now", NOW])
            .args(extra)
            .output()
            .unwrap()
    };
    let (fast, full) = (run(&[]), run(&["--no-prefilter"]));
    assert_eq!(
        stdout(&fast),
        stdout(&full),
        "prefiltered and full runs must give the same rows"
    );
    let summary = stderr(&fast);
    assert!(
        summary.contains("lines skipped unparsed by the literal prefilter"),
        "{summary}"
    );
    assert!(
        !stderr(&full).contains("skipped unparsed"),
        "{}",
        stderr(&full)
    );
    // Invalid UTF-8 is still reported when a line is skipped; malformed JSON
    // that cannot match is skipped and counted, not reported.
    let bad = Command::new(build(&["privileged-pod"]))
        .arg(bad_input())
        .args(["--now", NOW])
        .output()
        .unwrap();
    let err = stderr(&bad);
    assert!(err.contains("bad-input.jsonl:4: invalid UTF-8"), "{err}");
    assert!(
        err.contains("skipped unparsed by the literal prefilter"),
        "{err}"
    );
    assert_eq!(
        stdout(&bad).lines().count(),
        2,
        "the two good privileged rows are still found"
    );
}

#[test]
fn threads_give_the_same_output_reports_and_status_as_one_thread() {
    let binary = build(&RULES);
    // Enough lines for several batches: the sample, repeated, with the bad
    // input in between.
    let sample = std::fs::read(sample_data()).unwrap();
    let bad = std::fs::read(bad_input()).unwrap();
    let mut input = Vec::new();
    while input.len() < 2 << 20 {
        input.extend_from_slice(&sample);
        input.extend_from_slice(&bad);
    }
    let file = scratch("end_to_end").join("threads-input.jsonl");
    std::fs::write(&file, &input).unwrap();
    let run = |extra: &[&str]| {
        Command::new(&binary)
            .arg(&file)
            .args(["--now", NOW])
            .args(extra)
            .output()
            .unwrap()
    };
    let one = run(&[]);
    assert!(stdout(&one).lines().count() > 100, "{}", stderr(&one));
    for extra in [&["--threads", "2"][..], &["--threads=3", "--no-prefilter"]] {
        let many = run(extra);
        let one = if extra.contains(&"--no-prefilter") {
            run(&["--no-prefilter"])
        } else {
            one.clone()
        };
        assert_eq!(stdout(&one), stdout(&many), "{extra:?}");
        assert_eq!(stderr(&one), stderr(&many), "{extra:?}");
        assert_eq!(one.status.code(), many.status.code(), "{extra:?}");
    }
    let usage = run(&["--threads", "0"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).contains("--threads: needs at least 1 thread"));
    // kqlc run forwards --threads.
    let rule = "privileged-pod";
    let via_run = kqlc()
        .arg("run")
        .arg(rule_path(rule))
        .arg("--input")
        .arg(sample_data())
        .args(["--now", NOW, "--threads", "2"])
        .output()
        .unwrap();
    assert!(via_run.status.success(), "{}", stderr(&via_run));
    assert_eq!(stdout(&via_run), expected(rule));
}

#[test]
fn a_first_line_bracket_above_json_lines_rejects_that_line_alone_and_reads_every_other() {
    let rule = "privileged-pod";
    let sample = std::fs::read(sample_data()).unwrap();
    let lines = sample.iter().filter(|&&b| b == b'\n').count();
    let file = scratch("end_to_end").join("bracket-first.jsonl");
    std::fs::write(&file, [b"[\n".as_slice(), &sample].concat()).unwrap();
    let rejects = scratch("end_to_end").join("bracket-first.rejects");
    let output = Command::new(build(&[rule]))
        .arg(&file)
        .args(["--now", NOW, "--rejects"])
        .arg(&rejects)
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(stdout(&output), expected(rule), "{err}");
    let summary = format!(
        "summary: {} rows read, 1 rejected, {} emitted",
        lines + 1,
        expected(rule).lines().count()
    );
    assert!(err.contains(&summary), "{err}");
    let rejection = format!(
        "{}:1: malformed JSON: expected ',' or ']' after an array element at line 3 column 1; \
         this line opens no JSON document, and the lines after it are read as JSON lines",
        file.display()
    );
    let reports: Vec<&str> = err.lines().filter(|l| !l.starts_with("summary:")).collect();
    assert_eq!(reports, [rejection.as_str()], "{err}");
    assert_eq!(std::fs::read(&rejects).unwrap(), b"[\n");
}
