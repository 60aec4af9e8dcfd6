//! `--threads N` gives exactly what one thread gives: the same inputs run
//! through `detector::run` with 1, 2 and 4 threads must print the same
//! stdout and stderr, write the same `--rejects` file and exit alike, for
//! stateless rules, `take`, `summarize`, `top`, several rules at once, bad
//! input of every kind, gzip, several formats and files, and `--strict`.

use kql_detector::detector::{self, InputFile, Options, OutputKind};
use kql_detector::formats::InputFormat;
use kql_detector::manifest::{DetectorInfo, RuleInfo};
use kql_detector::output::RowWriter;
use kql_runtime::kql;
use kql_runtime::query::Query;
use kql_runtime::text::parse_datetime;
use std::io::Write;
use std::path::{Path, PathBuf};

const NOW: &str = "2024-05-28T12:00:00Z";

/// Makes a fresh set of rules for each run (rules hold state).
type Rules = fn() -> Vec<Box<dyn Query>>;

/// What a run printed and wrote.
#[derive(Debug, PartialEq)]
struct Outcome {
    stdout: String,
    stderr: String,
    status: String,
    rejects: Option<Vec<u8>>,
}

struct Setup {
    files: Vec<(PathBuf, InputFormat)>,
    strict: bool,
    no_prefilter: bool,
    rejects: Option<PathBuf>,
    alerts: bool,
}

impl Setup {
    fn new(files: Vec<(PathBuf, InputFormat)>) -> Setup {
        Setup {
            files,
            strict: false,
            no_prefilter: false,
            rejects: None,
            alerts: false,
        }
    }
}

fn run(rules: Rules, setup: &Setup, threads: usize, line_by_line: bool) -> Outcome {
    run_in(rules, setup, threads, line_by_line, None)
}

/// [`run`], with the workers reading plain files in byte ranges of
/// `batch_bytes` (`None`: the default).
fn run_in(
    rules: Rules,
    setup: &Setup,
    threads: usize,
    line_by_line: bool,
    batch_bytes: Option<usize>,
) -> Outcome {
    let options = Options {
        files: setup
            .files
            .iter()
            .map(|(path, format)| InputFile {
                path: path.display().to_string(),
                format: *format,
            })
            .collect(),
        now: parse_datetime(NOW),
        strict: setup.strict,
        rejects: setup.rejects.as_ref().map(|p| p.display().to_string()),
        no_prefilter: setup.no_prefilter,
        full_parse: false,
        output: if setup.alerts {
            OutputKind::Alerts
        } else {
            OutputKind::Rows
        },
        info: setup.alerts.then_some(&INFO),
        threads,
        line_by_line,
        batch_bytes,
        stdin_closed: false,
        ..Options::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = {
        let mut writer = RowWriter::new(&mut out);
        detector::run(rules(), &options, &mut writer, &mut err).unwrap()
    };
    Outcome {
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        status: format!("{status:?}"),
        rejects: setup.rejects.as_ref().map(|p| std::fs::read(p).unwrap()),
    }
}

/// The thread counts and batch sizes compared with one thread line by
/// line: plain files are read by the workers in byte ranges (positioned
/// reads), of the default size and of sizes that put range boundaries
/// inside lines, on line ends, and around a line's `\r`.
const RUNS: [(usize, Option<usize>); 6] = [
    (1, None),
    (2, None),
    (4, None),
    (2, Some(613)),
    (3, Some(4096)),
    (2, Some(1 << 16)),
];

/// Runs line by line (the reference), then in batches with 1, 2, 3 and 4
/// threads (see [`RUNS`]); asserts the outcomes are identical and returns
/// the reference.
fn same_with_threads(rules: Rules, setup: &Setup) -> Outcome {
    let one = run(rules, setup, 1, true);
    for (threads, batch) in RUNS {
        let many = run_in(rules, setup, threads, false, batch);
        assert!(
            one == many,
            "--threads {threads} (in batches of {batch:?} bytes) differs from one thread line by line\n--- line by line: status {}\n{}\n{}\n--- {threads} threads: status {}\n{}\n{}",
            one.status,
            clip(&one.stderr),
            clip(&one.stdout),
            many.status,
            clip(&many.stderr),
            clip(&many.stdout)
        );
    }
    one
}

/// Fails unless a run with `threads` in ranges of `batch` bytes printed
/// what the one-thread run printed, showing both.
fn assert_same_in_ranges(one: &Outcome, many: &Outcome, threads: usize, batch: usize) {
    assert!(
        one == many,
        "--threads {threads} in ranges of {batch} bytes\n--- one thread:\n{}\n{}\n--- {threads} threads:\n{}\n{}",
        one.stderr,
        one.stdout,
        many.stderr,
        many.stdout
    );
}

fn clip(text: &str) -> String {
    text.chars().take(3000).collect()
}

// -- rules -------------------------------------------------------------------

fn creates() -> Vec<Box<dyn Query>> {
    vec![Box::new(kql!(
        "CloudAuditEvents | where OperationName == 'create' | project Timestamp, OperationName, DataSource, R = tostring(RawEventData.ObjectRef.resource)"
    ))]
}

fn take_seven() -> Vec<Box<dyn Query>> {
    vec![Box::new(kql!(
        "CloudAuditEvents | where OperationName == 'create' | take 7"
    ))]
}

fn summarize() -> Vec<Box<dyn Query>> {
    vec![Box::new(kql!(
        "CloudAuditEvents | summarize n = count(), first = min(Timestamp) by OperationName, DataSource"
    ))]
}

fn top_three() -> Vec<Box<dyn Query>> {
    vec![Box::new(kql!(
        "CloudAuditEvents | top 3 by Timestamp desc | project Timestamp, OperationName"
    ))]
}

fn reference_rules() -> Vec<Box<dyn Query>> {
    vec![
        Box::new(kql!(file = "../../examples/rules/privileged-pod.kql")),
        Box::new(kql!(file = "../../examples/rules/exec-in-kube-system.kql")),
        Box::new(kql!(
            file = "../../examples/rules/cluster-admin-binding.kql"
        )),
    ]
}

fn several() -> Vec<Box<dyn Query>> {
    let mut rules = creates();
    rules.extend(take_seven());
    rules.extend(summarize());
    rules.extend(reference_rules());
    rules
}

static INFO: DetectorInfo = DetectorInfo {
    kqlc_version: "test",
    rustc: "test",
    target: "test",
    static_linking: false,
    profile: "test",
    rules: &[RuleInfo {
        id: "creates",
        name: "Creates",
        severity: Some("Low"),
        tactics: &[],
        techniques: &[],
        file: "creates.kql",
        sha256: "0",
        text: "",
        description: "",
        schedule: None,
        partition_key: &[],
    }],
    manifest_json: "{}",
};

// -- inputs ------------------------------------------------------------------

fn sample(events: u64, native: bool, seed: u64) -> Vec<u8> {
    use kql_sample::{write_sample, SampleFormat, SampleOptions};
    let now = chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let mut options = SampleOptions::new(0, now);
    options.events = Some(events);
    options.seed = seed;
    options.match_rate_per_million = 50_000;
    if native {
        options.format = SampleFormat::Native;
    }
    let mut out = Vec::new();
    write_sample(&mut out, &options).unwrap();
    out
}

/// Lines a detector must reject or skip, of every kind.
const BAD_LINES: [&[u8]; 10] = [
    b"{\"OperationName\":\"create\",\"Timestamp\": ",
    b"{\"OperationName\":\"create\",\"Timestamp\":\"2024-05-28T10:00:00Z\",\"x\":\"\xff\"}",
    b"",
    b"   \t ",
    b"[1,2]",
    b"42",
    b"{\"OperationName\":\"create\",\"Timestamp\":\"yesterday\"}",
    b"{\"OperationName\":\"create\"}",
    b"\r",
    b"{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"DataSource\":\"x\",\"RawEventData\":{}}\r",
];

/// `events` sample lines with a bad line after every `every` of them
/// (starting at `first_bad`), and some CRLF line ends.
fn mixed_input(events: u64, every: usize, first_bad: usize, native: bool) -> Vec<u8> {
    let good = sample(events, native, 7);
    let mut out = Vec::new();
    let mut bad = 0;
    for (i, line) in good.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        out.extend_from_slice(line);
        out.extend_from_slice(if i % 13 == 0 { b"\r\n" } else { b"\n" });
        if i >= first_bad && i % every == 0 {
            out.extend_from_slice(BAD_LINES[bad % BAD_LINES.len()]);
            out.push(b'\n');
            bad += 1;
        }
    }
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

// -- tests -------------------------------------------------------------------

#[test]
fn a_stateless_rule_gives_the_same_rows_reports_and_rejects_over_many_batches() {
    let dir = tempfile::tempdir().unwrap();
    let input = mixed_input(3_000, 37, 0, false);
    assert!(input.len() > 4 * 256 * 1024, "{} bytes", input.len());
    let file = write(dir.path(), "mixed.jsonl", &input);
    let mut setup = Setup::new(vec![(file, InputFormat::Auto)]);
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    let one = same_with_threads(creates, &setup);
    assert!(one.stdout.lines().count() > 50, "{}", one.stdout.len());
    assert!(one.stderr.contains("invalid UTF-8"), "{}", one.stderr);
    assert!(one.stderr.contains("malformed JSON"), "{}", one.stderr);
    assert!(
        one.stderr.contains("lines skipped unparsed"),
        "{}",
        one.stderr
    );
    assert!(one.stderr.contains("blank lines skipped"), "{}", one.stderr);
    assert!(!one.rejects.unwrap().is_empty());
    assert_eq!(one.status, "ExitCode(unix_exit_status(1))");
    // Every line parsed, and alerts with input positions.
    setup.no_prefilter = true;
    same_with_threads(creates, &setup);
    setup.alerts = true;
    let alerts = same_with_threads(creates, &setup);
    assert!(
        alerts.stdout.contains("\"line\":"),
        "{}",
        clip(&alerts.stdout)
    );
}

#[test]
fn take_summarize_top_and_several_rules_give_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "m.jsonl", &mixed_input(2_500, 101, 0, false));
    let setup = Setup::new(vec![(file, InputFormat::Auto)]);
    let take = same_with_threads(take_seven, &setup);
    assert_eq!(take.stdout.lines().count(), 7);
    let summary = same_with_threads(summarize, &setup);
    assert!(summary.stdout.lines().count() > 3, "{}", summary.stdout);
    same_with_threads(top_three, &setup);
    let all = same_with_threads(several, &setup);
    assert!(all.stdout.contains("\"_rule\""));
}

#[test]
fn native_formats_several_files_documents_gzip_and_missing_files_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let native = write(
        dir.path(),
        "native.jsonl",
        &mixed_input(2_000, 211, 0, true),
    );
    let cloud = mixed_input(1_500, 97, 0, false);
    let gz = write(dir.path(), "cloud.jsonl.gz", &gzip(&cloud));
    // A truncated gzip file: a read error in the middle of the stream.
    let compressed = gzip(&cloud);
    let truncated = write(
        dir.path(),
        "truncated.gz",
        &compressed[..compressed.len() / 2],
    );
    let document = write(
        dir.path(),
        "document.json",
        b"[\n {\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"DataSource\":\"d\",\"RawEventData\":{}},\n 7\n]\n",
    );
    let blank_start = write(
        dir.path(),
        "blank-start.jsonl",
        &[b"\n  \n\n".as_slice(), &cloud[..cloud.len() / 3]].concat(),
    );
    let files = vec![
        (native.clone(), InputFormat::Auto),
        (gz, InputFormat::Auto),
        (document, InputFormat::Auto),
        (dir.path().join("missing.jsonl"), InputFormat::Auto),
        (truncated, InputFormat::Auto),
        (blank_start, InputFormat::CloudAudit),
        (native, InputFormat::K8s),
    ];
    let mut setup = Setup::new(files);
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    let one = same_with_threads(several, &setup);
    assert!(one.stderr.contains("read error"), "{}", one.stderr);
    assert!(one.stderr.contains("cannot open"), "{}", one.stderr);
    assert!(one.stderr.contains("gzip file"), "{}", one.stderr);
    assert!(one.stderr.contains("multi-line document"), "{}", one.stderr);
    assert!(one.stderr.contains("by format"), "{}", one.stderr);
    assert_eq!(one.status, "ExitCode(unix_exit_status(2))");
}

#[test]
fn strict_stops_at_the_same_line_and_counts_the_same() {
    let dir = tempfile::tempdir().unwrap();
    // The first bad line comes late, after several batches.
    let file = write(
        dir.path(),
        "late.jsonl",
        &mixed_input(3_000, 500, 1_200, false),
    );
    let mut setup = Setup::new(vec![(file, InputFormat::Auto)]);
    setup.strict = true;
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    let one = same_with_threads(several, &setup);
    assert!(one.stderr.contains("--strict"), "{}", one.stderr);
    let one = same_with_threads(summarize, &setup);
    assert!(
        one.stdout.is_empty(),
        "stopped runs do not finish: {}",
        one.stdout
    );
}

#[test]
fn lines_over_the_limit_are_rejected_alike_in_the_middle_and_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let good = sample(600, false, 3);
    let long = vec![b'x'; kql_detector::input::MAX_LINE_BYTES + 1];
    let mut input = good.clone();
    input.extend_from_slice(&long);
    input.push(b'\n');
    input.extend_from_slice(&good);
    // The last line, without a line end, is one byte over the limit too.
    input.extend_from_slice(&long);
    let file = write(dir.path(), "long.jsonl", &input);
    let mut setup = Setup::new(vec![(file, InputFormat::Auto)]);
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    let one = same_with_threads(creates, &setup);
    assert_eq!(
        one.stderr.matches("is longer than the limit").count(),
        2,
        "{}",
        one.stderr
    );
    assert_eq!(one.rejects.unwrap().len(), 2 * (long.len() + 1));
}

#[test]
fn threads_must_be_a_positive_number() {
    let parse = |list: &[&str]| detector::parse_args(list.iter().map(|s| s.to_string()));
    let Ok(detector::Invocation::Run(options)) = parse(&["--threads", "3", "f"]) else {
        panic!("expected options");
    };
    assert_eq!(options.threads, 3);
    let Ok(detector::Invocation::Run(options)) = parse(&["--threads=64"]) else {
        panic!("expected options");
    };
    assert_eq!(options.threads, 64, "more threads than CPUs is allowed");
    assert!(parse(&["--threads", "0"])
        .unwrap_err()
        .contains("at least 1"));
    assert!(parse(&["--threads", "two"])
        .unwrap_err()
        .contains("'two' is not a number of threads"));
    assert_eq!(
        parse(&["--threads"]).unwrap_err(),
        "--threads needs a value (--threads N)"
    );
}

fn creates_and_deletes() -> Vec<Box<dyn Query>> {
    let mut rules = creates();
    rules.push(Box::new(kql!(
        "CloudAuditEvents | where OperationName == 'delete' | project OperationName"
    )));
    rules
}

#[test]
fn a_document_after_a_lines_file_reaches_every_rule() {
    // The prefilter's verdict on the last line of the first file once
    // leaked into the document's records, hiding them from the rule it had
    // ruled out.
    let dir = tempfile::tempdir().unwrap();
    let lines = write(
        dir.path(),
        "lines.jsonl",
        b"{\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"create\",\"DataSource\":\"d\",\"RawEventData\":{}}\n",
    );
    let document = write(
        dir.path(),
        "document.json",
        b"[\n {\"Timestamp\":\"2024-05-28T10:00:00Z\",\"OperationName\":\"delete\",\"DataSource\":\"d\",\"RawEventData\":{}}\n]\n",
    );
    let setup = Setup::new(vec![
        (lines, InputFormat::Auto),
        (document, InputFormat::Auto),
    ]);
    let one = same_with_threads(creates_and_deletes, &setup);
    assert!(
        one.stdout.contains("\"OperationName\":\"delete\""),
        "{}",
        one.stdout
    );
}

/// A small file whose lines are of every kind the reader tells apart.
fn every_kind_of_line() -> Vec<u8> {
    let event = |i: usize, operation: &str| {
        format!(
            "{{\"Timestamp\":\"2024-05-28T10:00:{:02}Z\",\"OperationName\":\"{operation}\",\"DataSource\":\"d{}\",\"RawEventData\":{{}}}}",
            i % 60,
            "x".repeat(i % 5)
        )
    };
    let mut input = Vec::new();
    for i in 0..12 {
        input.extend_from_slice(event(i, "create").as_bytes());
        input.extend_from_slice(if i % 3 == 0 { b"\r\n" } else { b"\n" });
        input.extend_from_slice(BAD_LINES[i % BAD_LINES.len()]);
        input.push(b'\n');
        input.extend_from_slice(event(i, "get").as_bytes());
        input.push(b'\n');
    }
    // The last line, without a line end.
    input.extend_from_slice(event(60, "create").as_bytes());
    input
}

#[test]
fn workers_reading_byte_ranges_of_every_size_give_the_lines_of_one_thread() {
    // Range sizes from one byte to past the file put the range
    // boundaries everywhere: inside lines, on line ends, between a `\r` and
    // its `\n`, in blank and bad lines, in the last line without a `\n`.
    // Rejections' line numbers, alerts' input positions and the rejects
    // file must stay those of one thread.
    let dir = tempfile::tempdir().unwrap();
    let input = every_kind_of_line();
    let file = write(dir.path(), "kinds.jsonl", &input);
    let mut setup = Setup::new(vec![(file, InputFormat::Auto)]);
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    for (no_prefilter, alerts) in [(false, true), (true, false)] {
        setup.no_prefilter = no_prefilter;
        setup.alerts = alerts;
        let one = run(creates, &setup, 1, true);
        assert!(
            one.stderr.contains("kinds.jsonl:2: malformed JSON"),
            "{}",
            one.stderr
        );
        assert!(one.stderr.contains("invalid UTF-8"), "{}", one.stderr);
        assert!(!one.rejects.as_ref().unwrap().is_empty());
        // 12 creates, the valid one among the bad lines, and the last line.
        assert_eq!(one.stdout.lines().count(), 14, "{}", one.stdout);
        // Every size up to a few lines' length, then a sample of the rest.
        for batch in (1..400).chain((400..input.len() + 2).step_by(53)) {
            let threads = 2 + batch % 3;
            let many = run_in(creates, &setup, threads, false, Some(batch));
            assert_same_in_ranges(&one, &many, threads, batch);
        }
    }
    // A summarize aggregates on the workers, a region of ranges into one
    // state each: groups in first-seen order, the first timestamp, and the
    // rejections between them with their line numbers.
    setup.alerts = false;
    for no_prefilter in [false, true] {
        setup.no_prefilter = no_prefilter;
        let one = run(summarize, &setup, 1, true);
        assert!(one.stdout.lines().count() >= 2, "{}", one.stdout);
        assert!(one.stderr.contains("kinds.jsonl:2: malformed JSON"));
        for batch in (1..400)
            .step_by(7)
            .chain([input.len() / 2, input.len() + 1])
        {
            let threads = 2 + batch % 3;
            let many = run_in(summarize, &setup, threads, false, Some(batch));
            assert_same_in_ranges(&one, &many, threads, batch);
        }
    }
}

#[test]
fn a_line_over_the_limit_at_a_range_boundary_is_rejected_as_one_thread_does() {
    // The long line starts exactly at a range's first byte, or one byte
    // before or after; it spans many ranges, and ends on a boundary or not.
    let dir = tempfile::tempdir().unwrap();
    let good = sample(40, false, 5);
    let first_line = good.iter().position(|&b| b == b'\n').unwrap() + 1;
    let long = vec![b'x'; kql_detector::input::MAX_LINE_BYTES + 1];
    let mut input = good.clone();
    input.extend_from_slice(&long);
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(&good);
    let file = write(dir.path(), "long.jsonl", &input);
    let mut setup = Setup::new(vec![(file, InputFormat::Auto)]);
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    let one = run(creates, &setup, 1, true);
    assert_eq!(
        one.stderr.matches("is longer than the limit").count(),
        1,
        "{}",
        one.stderr
    );
    // The workers' ranges start after the first line (read on the calling
    // thread).
    let before = good.len() - first_line;
    for batch in [before - 1, before, before + 1, (long.len() + 2) / 64] {
        let many = run_in(creates, &setup, 2, false, Some(batch));
        assert!(
            one == many,
            "ranges of {batch} bytes\n--- one thread:\n{}\n--- two threads:\n{}",
            clip(&one.stderr),
            clip(&many.stderr)
        );
    }
}

#[test]
fn a_summarize_over_a_file_of_mostly_rejected_lines_gives_what_one_thread_gives() {
    // A bad line after every good one: with partial aggregation, workers
    // ahead of the calling thread fill their regions' channels with
    // rejections, keep more, and wait; with --strict the calling thread
    // stops at the first while they wait, and they must stop too.
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "bad.jsonl", &mixed_input(3_000, 1, 0, false));
    let mut setup = Setup::new(vec![(file, InputFormat::Auto)]);
    setup.rejects = Some(dir.path().join("rejects.jsonl"));
    for strict in [false, true] {
        setup.strict = strict;
        let one = run(summarize, &setup, 1, true);
        assert!(
            one.stderr.matches("bad.jsonl:").count() >= 1,
            "{}",
            clip(&one.stderr)
        );
        for (threads, batch) in [(2, Some(512)), (3, Some(2048)), (2, None)] {
            let many = run_in(summarize, &setup, threads, false, batch);
            assert!(
                one == many,
                "--strict {strict}, --threads {threads}, ranges of {batch:?} bytes\n--- one thread:\n{}\n--- {threads} threads:\n{}",
                clip(&one.stderr),
                clip(&many.stderr)
            );
        }
    }
}
