//! `--threads N` with partial aggregation: a detector whose rules
//! are a stateless prefix then a mergeable `summarize` aggregates its rows
//! on the workers (a state per region of batches of the file, about 1 MB
//! each here) and merges the states in input order. Its output, reports,
//! rejects and exit status must be those of one thread, byte for byte, for
//! each hunting-query shape and for the aggregates whose result depends on
//! row order (`make_list`, `make_set`, `arg_max` ties, `take_any`, the
//! first-seen order of groups).

use crate::common::{kqlc, scratch, stderr, NOW};
use std::path::PathBuf;
use std::process::Command;

const USER: &str = "tostring(RawEventData.User.username)";

/// Each rule: its name and KQL.
fn rules() -> Vec<(&'static str, String)> {
    vec![
        (
            "group-by",
            "CloudAuditEvents\n| summarize n = count() by DataSource, OperationName\n".into(),
        ),
        (
            "nested-dcount",
            format!(
                "CloudAuditEvents\n| where DataSource == \"Azure Kubernetes Service\"\n\
                 | summarize n = count(), users = dcount({USER}) by resource = tostring(RawEventData.ObjectRef.resource), OperationName\n"
            ),
        ),
        (
            "nested-startswith",
            format!(
                "CloudAuditEvents\n| where {USER} startswith \"system:serviceaccount:\"\n\
                 | summarize n = count() by user = {USER}\n"
            ),
        ),
        (
            "mv-expand",
            "CloudAuditEvents\n\
             | where OperationName == \"create\"\n\
             | mv-expand container = RawEventData.RequestObject.spec.containers\n\
             | extend image = tostring(container.image)\n\
             | where isnotempty(image)\n\
             | summarize n = count(), images = make_list(image) by image\n"
                .into(),
        ),
        (
            "time-buckets",
            "CloudAuditEvents\n| summarize n = count() by hour = bin(Timestamp, 1h), DataSource\n"
                .into(),
        ),
        (
            "join",
            format!(
                "let Creates = CloudAuditEvents | where OperationName == \"create\" | summarize creates = count() by user = {USER};\n\
                 let Deletes = CloudAuditEvents | where OperationName == \"delete\" | summarize deletes = count() by user = {USER};\n\
                 Creates\n| join kind=inner Deletes on user\n"
            ),
        ),
        (
            "allow-list",
            format!(
                "CloudAuditEvents\n| extend user = {USER}\n\
                 | where user !in (\"system:kube-scheduler\", \"admin\")\n\
                 | summarize n = count() by user\n| sort by n desc, user asc\n"
            ),
        ),
        (
            "ordered",
            format!(
                "CloudAuditEvents\n\
                 | summarize ops = make_list(OperationName), users = make_set({USER}), \
                 latest = arg_max(bin(Timestamp, 1d), OperationName, {USER}), \
                 first_op = arg_min(DataSource, OperationName), any_user = take_any({USER}), \
                 earliest = min(Timestamp), last_name = max(OperationName), \
                 creates = countif(OperationName == \"create\"), letters = sum(strlen(OperationName)), \
                 median = percentile(strlen({USER}), 50), few = make_set(OperationName, 3) \
                 by DataSource\n"
            ),
        ),
        ("no-groups", "CloudAuditEvents\n| summarize n = count(), users = dcount(tostring(RawEventData.User.username))\n".into()),
    ]
}

fn rule_files() -> Vec<PathBuf> {
    rules()
        .into_iter()
        .map(|(name, kql)| {
            let path = scratch("threads").join(format!("{name}.kql"));
            std::fs::write(&path, kql).unwrap();
            path
        })
        .collect()
}

/// The sample, about 3 MB (a dozen batches), with bad lines and blank lines
/// spread through it.
fn input() -> PathBuf {
    let path = scratch("threads").join("input.jsonl");
    let sample = kqlc()
        .args(["sample", "--bytes", "3M", "--seed", "7", "--now", NOW])
        .output()
        .unwrap();
    assert!(sample.status.success(), "{}", stderr(&sample));
    let mut text = Vec::new();
    for (i, line) in sample.stdout.split_inclusive(|&b| b == b'\n').enumerate() {
        text.extend_from_slice(line);
        if i % 997 == 5 {
            text.extend_from_slice(b"{\"Timestamp\": not json\n\n");
        }
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn hunting_rules_are_split_at_a_mergeable_summarize() {
    for path in rule_files() {
        let emitted = kqlc().arg("emit").arg(&path).output().unwrap();
        assert!(emitted.status.success(), "{}", stderr(&emitted));
        let code = String::from_utf8_lossy(&emitted.stdout);
        assert!(code.contains("fn partial("), "{}:\n{code}", path.display());
    }
    // Floating-point sums and per-row output keep the one-thread path.
    for (name, kql) in [
        (
            "avg",
            "CloudAuditEvents\n| summarize a = avg(strlen(OperationName)) by DataSource\n",
        ),
        (
            "rows",
            "CloudAuditEvents\n| where OperationName == \"create\"\n",
        ),
        ("take", "CloudAuditEvents\n| take 5\n| summarize count()\n"),
    ] {
        let path = scratch("threads").join(format!("{name}.kql"));
        std::fs::write(&path, kql).unwrap();
        let emitted = kqlc().arg("emit").arg(&path).output().unwrap();
        let code = String::from_utf8_lossy(&emitted.stdout);
        assert!(!code.contains("fn partial("), "{name}:\n{code}");
    }
}

#[test]
fn partial_aggregation_on_threads_gives_one_threads_output_reports_and_rejects() {
    let binary = scratch("threads").join("hunting");
    let built = kqlc()
        .arg("build")
        .args(rule_files())
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    let input = input();
    let run = |threads: &str| {
        // One path for every run: the summary names it.
        let rejects = scratch("threads").join("rejects.jsonl");
        let output = Command::new(&binary)
            .arg(&input)
            .args(["--now", NOW, "--threads", threads, "--rejects"])
            .arg(&rejects)
            .output()
            .unwrap();
        (output, std::fs::read(&rejects).unwrap())
    };
    let (one, one_rejects) = run("1");
    assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
    assert!(one.stdout.len() > 10_000, "{}", stderr(&one));
    assert!(stderr(&one).contains("rejected"), "{}", stderr(&one));
    assert!(!one_rejects.is_empty());
    for threads in ["2", "4"] {
        let (many, rejects) = run(threads);
        assert!(
            one.stdout == many.stdout,
            "--threads {threads}: rows differ:\n{}\n---\n{}",
            String::from_utf8_lossy(&one.stdout),
            String::from_utf8_lossy(&many.stdout)
        );
        assert_eq!(stderr(&one), stderr(&many), "--threads {threads}");
        assert_eq!(one.status.code(), many.status.code(), "--threads {threads}");
        assert!(
            one_rejects == rejects,
            "--threads {threads}: rejects differ"
        );
    }
}
