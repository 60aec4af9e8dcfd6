//! Input formats end to end: real public samples (`../shared/corpus`),
//! the fixtures of each format (`tests/fixtures/formats`), the three
//! reference rules over each platform's export, bad input of every kind
//! the issue lists (one test per case), and `kqlc sample --format native`.
//!
//! Rules run through `detector::run`, exactly as a built detector runs them.

use kql_detector::detector::{self, InputFile, Options};
use kql_detector::formats::{InputFormat, Item, Normalizer, Record};
use kql_detector::input::{self, Chunk, InputReader};
use kql_detector::output::RowWriter;
use kql_runtime::kql;
use kql_runtime::query::Query;
use kql_runtime::text::parse_datetime;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const NOW: &str = "2024-05-28T12:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/formats").join(name)
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// What a detector run printed.
struct Run {
    rows: Vec<serde_json::Value>,
    stderr: String,
    status: ExitCode,
}

impl Run {
    fn summary(&self) -> &str {
        self.stderr
            .lines()
            .find(|l| l.starts_with("summary:"))
            .unwrap_or_default()
    }

    /// The stderr lines that report rejections.
    fn rejections(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.starts_with("summary:") && !l.starts_with("stopping"))
            .collect()
    }

    fn column(&self, name: &str) -> Vec<String> {
        self.rows
            .iter()
            .map(|row| match &row[name] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect()
    }
}

/// Runs `rule` over `files` as a detector would, `--now` fixed.
fn run_files(
    rule: Box<dyn Query>,
    files: &[(PathBuf, InputFormat)],
    rejects: Option<&Path>,
) -> Run {
    let options = Options {
        files: files
            .iter()
            .map(|(path, format)| InputFile {
                path: path.display().to_string(),
                format: *format,
            })
            .collect(),
        now: parse_datetime(NOW),
        strict: false,
        rejects: rejects.map(|p| p.display().to_string()),
        // Every line parsed, so every bad one is reported.
        no_prefilter: true,
        ..Options::default()
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let status = {
        let mut writer = RowWriter::new(&mut out);
        detector::run(vec![rule], &options, &mut writer, &mut err).unwrap()
    };
    let rows = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    Run {
        rows,
        stderr: String::from_utf8_lossy(&err).into_owned(),
        status,
    }
}

fn run_file(rule: Box<dyn Query>, file: PathBuf, format: InputFormat) -> Run {
    run_files(rule, &[(file, format)], None)
}

/// Every row of the input, as the detector reads it.
fn everything() -> Box<dyn Query> {
    Box::new(kql!("CloudAuditEvents"))
}

fn privileged_pod() -> Box<dyn Query> {
    Box::new(kql!(file = "../../examples/rules/privileged-pod.kql"))
}

fn exec_in_kube_system() -> Box<dyn Query> {
    Box::new(kql!(file = "../../examples/rules/exec-in-kube-system.kql"))
}

fn cluster_admin_binding() -> Box<dyn Query> {
    Box::new(kql!(
        file = "../../examples/rules/cluster-admin-binding.kql"
    ))
}

/// `privileged-pod.kql` without its `DataSource` condition: the same
/// detection for any platform.
fn privileged_pod_anywhere() -> Box<dyn Query> {
    Box::new(kql!(
        r#"CloudAuditEvents
| where Timestamp > ago(1d)
| where OperationName == "create"
| where RawEventData.ObjectRef.resource == "pods" and isnull(RawEventData.ObjectRef.subresource)
| where RawEventData.ResponseStatus.code startswith "20"
| extend PodName = RawEventData.RequestObject.metadata.name
| extend PodNamespace = RawEventData.ObjectRef.namespace
| mv-expand Container = RawEventData.RequestObject.spec.containers
| extend ContainerName = Container.name
| where Container.securityContext.privileged == "true"
| extend Username = RawEventData.User.username
| project Timestamp, AzureResourceId , OperationName, IPAddress, UserAgent, PodName, PodNamespace, ContainerName, Username"#
    ))
}

/// `exec-in-kube-system.kql` without its `DataSource` condition.
fn exec_in_kube_system_anywhere() -> Box<dyn Query> {
    Box::new(kql!(
        r#"CloudAuditEvents
| where Timestamp > ago(1d)
| where OperationName == "create"
| where RawEventData.ObjectRef.resource == "pods" and RawEventData.ResponseStatus.code == 101
| where RawEventData.ObjectRef.namespace == "kube-system"
| where RawEventData.ObjectRef.subresource == "exec"
| where RawEventData.ResponseStatus.code == 101
| extend RequestURI = tostring(RawEventData.RequestURI)
| extend PodName = tostring(RawEventData.ObjectRef.name)
| extend PodNamespace = tostring(RawEventData.ObjectRef.namespace)
| extend Username = tostring(RawEventData.User.username)
| where PodName !startswith "tunnelfront-" and PodName !startswith "konnectivity-" and PodName !startswith "aks-link"
| extend Commands =  extract_all(@"command=([^\&]*)", RequestURI)
| extend ParsedCommand = url_decode(strcat_array(Commands, " "))
| project Timestamp, AzureResourceId , OperationName, IPAddress, UserAgent, PodName, PodNamespace,  Username, ParsedCommand"#
    ))
}

/// Records and rejections of one file, read with the library's reader and
/// normalizer (no rules): for looking at what a format gives.
fn records(path: &Path, format: InputFormat) -> (Vec<Record>, Vec<String>) {
    let file = std::fs::File::open(path).unwrap();
    let (source, _) = input::open_decompressed(Box::new(BufReader::new(file))).unwrap();
    let mut reader = InputReader::new(source);
    let normalizer = Normalizer::cloud_audit(format);
    let (mut records, mut rejections) = (Vec::new(), Vec::new());
    let mut items: Vec<Item> = Vec::new();
    while let Some(chunk) = reader.next_chunk(&mut std::io::sink()).unwrap() {
        match chunk {
            Chunk::Blank => continue,
            Chunk::Line { bytes, .. } => normalizer.line(bytes, &mut items),
            Chunk::Value { value, .. } => normalizer.value(value, &mut items),
            Chunk::TooLong { line, .. } => rejections.push(format!("{line}: too long")),
            Chunk::Broken { line, cause, .. } => rejections.push(format!("{line}: {cause}")),
        }
        for item in items.drain(..) {
            match item {
                Ok(record) => records.push(record),
                Err(rejection) => rejections.push(rejection.to_string()),
            }
        }
    }
    (records, rejections)
}

/// A record's fields as JSON, for assertions.
fn json(record: &Record) -> serde_json::Value {
    kql_runtime::json::to_json(&record.fields)
}

/// The DataSource of every row.
fn data_sources(run: &Run) -> Vec<String> {
    run.column("DataSource")
}

/// Runs the three reference rules (and, for the two that filter on AKS,
/// their `DataSource`-free versions) over one file: result rows per rule.
fn attacks_found(file: PathBuf, format: InputFormat) -> [usize; 5] {
    let rules: [fn() -> Box<dyn Query>; 5] = [
        privileged_pod,
        exec_in_kube_system,
        cluster_admin_binding,
        privileged_pod_anywhere,
        exec_in_kube_system_anywhere,
    ];
    rules.map(|rule| {
        let run = run_file(rule(), file.clone(), format);
        assert!(
            run.rejections().is_empty(),
            "{}: {}",
            file.display(),
            run.stderr
        );
        run.rows.len()
    })
}

/// The fixtures hold the same seven events in every format: one privileged
/// pod, one exec into kube-system and a cluster-admin binding with two
/// subjects, among reads and near misses.
const PLANTED_ANYWHERE: [usize; 5] = [0, 0, 2, 1, 1];
const PLANTED_ON_AKS: [usize; 5] = [1, 1, 2, 1, 1];

// -- fixtures of each format ---------------------------------------------

#[test]
fn k8s_log_backend_lines_give_the_planted_attacks() {
    assert_eq!(
        attacks_found(fixture("k8s/audit.log"), InputFormat::Auto),
        PLANTED_ANYWHERE
    );
    assert_eq!(
        attacks_found(fixture("k8s/audit.log"), InputFormat::K8s),
        PLANTED_ANYWHERE
    );
    let run = run_file(everything(), fixture("k8s/audit.log"), InputFormat::Auto);
    assert_eq!(run.rows.len(), 7);
    assert!(data_sources(&run).iter().all(|d| d == "Kubernetes Audit"));
    assert!(
        run.summary().contains("by format: k8s=7"),
        "{}",
        run.summary()
    );
}

#[test]
fn k8s_webhook_event_list_document_gives_one_row_per_item() {
    let run = run_file(
        everything(),
        fixture("k8s/eventlist.json"),
        InputFormat::Auto,
    );
    assert_eq!(run.column("OperationName"), ["create", "create", "create"]);
    assert!(
        run.summary().contains("1 batch; 1 multi-line document"),
        "{}",
        run.summary()
    );
    assert_eq!(
        attacks_found(fixture("k8s/eventlist.json"), InputFormat::K8s),
        PLANTED_ANYWHERE
    );
}

#[test]
fn aks_records_are_found_by_the_reference_rules_as_written() {
    for format in [InputFormat::Auto, InputFormat::Aks] {
        assert_eq!(
            attacks_found(fixture("aks/kube-audit.jsonl"), format),
            PLANTED_ON_AKS
        );
        assert_eq!(
            attacks_found(fixture("aks/records.json"), format),
            PLANTED_ON_AKS
        );
    }
    let run = run_file(
        privileged_pod(),
        fixture("aks/kube-audit.jsonl"),
        InputFormat::Auto,
    );
    let row = &run.rows[0];
    assert_eq!(row["PodName"], "node-shell-x2k9q");
    assert_eq!(row["ContainerName"], "host");
    assert_eq!(row["Username"], "mallory@contoso.com");
    assert_eq!(row["IPAddress"], "198.51.100.77");
    assert!(row["AzureResourceId"]
        .as_str()
        .unwrap()
        .ends_with("/MANAGEDCLUSTERS/AKS-PROD"));
}

#[test]
fn eks_subscription_payloads_give_the_planted_attacks_and_control_messages_nothing() {
    assert_eq!(
        attacks_found(fixture("eks/subscription.jsonl"), InputFormat::Auto),
        PLANTED_ANYWHERE
    );
    let run = run_file(
        everything(),
        fixture("eks/subscription.jsonl"),
        InputFormat::Eks,
    );
    assert_eq!(run.rows.len(), 7);
    assert!(data_sources(&run)
        .iter()
        .all(|d| d == "Amazon Elastic Kubernetes Service"));
    assert_eq!(
        run.column("ResourceId")[0],
        "arn:aws:eks::111122223333:cluster/eks-prod"
    );
    assert!(
        run.summary().contains("1 record without events"),
        "{}",
        run.summary()
    );
}

#[test]
fn eks_message_bodies_are_eks_only_when_the_format_says_so() {
    let eks = run_file(
        everything(),
        fixture("eks/messages.jsonl"),
        InputFormat::Eks,
    );
    assert!(data_sources(&eks)
        .iter()
        .all(|d| d == "Amazon Elastic Kubernetes Service"));
    let auto = run_file(
        everything(),
        fixture("eks/messages.jsonl"),
        InputFormat::Auto,
    );
    assert!(data_sources(&auto).iter().all(|d| d == "Kubernetes Audit"));
    assert_eq!(
        attacks_found(fixture("eks/messages.jsonl"), InputFormat::Eks),
        PLANTED_ANYWHERE
    );
}

#[test]
fn eks_s3_export_lines_with_a_time_prefix_are_read() {
    assert_eq!(
        attacks_found(fixture("eks/export.log"), InputFormat::Auto),
        PLANTED_ANYWHERE
    );
    let run = run_file(everything(), fixture("eks/export.log"), InputFormat::Eks);
    assert!(data_sources(&run)
        .iter()
        .all(|d| d == "Amazon Elastic Kubernetes Service"));
}

#[test]
fn gzip_files_are_read_by_their_magic_bytes() {
    assert_eq!(
        attacks_found(fixture("k8s/audit.log.gz"), InputFormat::Auto),
        PLANTED_ANYWHERE
    );
    assert_eq!(
        attacks_found(fixture("aks/kube-audit.jsonl.gz"), InputFormat::Auto),
        PLANTED_ON_AKS
    );
    // Firehose: gzipped payloads written back to back, without newlines.
    assert_eq!(
        attacks_found(fixture("eks/firehose.gz"), InputFormat::Auto),
        PLANTED_ANYWHERE
    );
    let run = run_file(everything(), fixture("eks/firehose.gz"), InputFormat::Auto);
    assert_eq!(run.rows.len(), 7);
    assert!(run.summary().contains("1 gzip file"), "{}", run.summary());
}

#[test]
fn gke_entries_are_rebuilt_into_kubernetes_events() {
    assert_eq!(
        attacks_found(fixture("gke/audit.jsonl"), InputFormat::Auto),
        PLANTED_ANYWHERE
    );
    let (records, rejections) = records(&fixture("gke/audit.jsonl"), InputFormat::Gke);
    assert!(rejections.is_empty(), "{rejections:?}");
    let exec = json(&records[2]);
    assert_eq!(exec["DataSource"], "Google Kubernetes Engine");
    assert_eq!(exec["OperationName"], "create");
    let raw = &exec["RawEventData"];
    assert_eq!(raw["ObjectRef"]["subresource"], "exec");
    assert_eq!(raw["ObjectRef"]["namespace"], "kube-system");
    assert_eq!(raw["ResponseStatus"]["code"], 101);
    assert_eq!(raw["User"]["username"], "mallory@contoso.com");
    assert_eq!(
        raw["RequestURI"],
        "/api/v1/namespaces/kube-system/pods/coredns-5d78c9869d-x7k2p/exec"
    );
    assert_eq!(
        exec["ResourceId"],
        "//container.googleapis.com/projects/contoso-prod/locations/us-central1/clusters/gke-prod"
    );
    let binding = json(&records[4]);
    assert_eq!(
        binding["RawEventData"]["ObjectRef"]["apiGroup"],
        "rbac.authorization.k8s.io"
    );
    assert_eq!(binding["RawEventData"]["ResponseStatus"]["code"], 201);
    assert!(binding["RawEventData"]["RequestObject"]
        .get("@type")
        .is_none());
}

#[test]
fn gke_khi_samples_read_as_a_pod_create_and_two_status_patches() {
    let mut verbs = Vec::new();
    for i in 1..=3 {
        let (records, rejections) = records(
            &fixture(&format!("gke/khi-container-recorder-1-{i}.json")),
            InputFormat::Auto,
        );
        assert!(rejections.is_empty(), "{rejections:?}");
        let record = json(&records[0]);
        let raw = &record["RawEventData"];
        verbs.push(format!(
            "{} {}/{}",
            record["OperationName"].as_str().unwrap(),
            raw["ObjectRef"]["resource"].as_str().unwrap(),
            raw["ObjectRef"]["subresource"].as_str().unwrap_or("-"),
        ));
        assert_eq!(raw["ObjectRef"]["namespace"], "1-2-deployment-update");
        assert_eq!(record["Timestamp"], "2024-01-01T01:00:00Z");
    }
    assert_eq!(
        verbs,
        ["create pods/-", "patch pods/status", "patch pods/status"]
    );
    let (records, _) = records(
        &fixture("gke/khi-container-recorder-1-1.json"),
        InputFormat::Gke,
    );
    let create = json(&records[0]);
    assert_eq!(create["RawEventData"]["ResponseStatus"]["code"], 201);
    assert_eq!(
        create["RawEventData"]["RequestObject"]["spec"]["containers"][1]["name"],
        "late-startup"
    );
    assert_eq!(create["IPAddress"], "172.16.0.3");
}

#[test]
fn arm_activity_records_are_read_in_both_shapes() {
    let run = run_file(
        everything(),
        fixture("arm/activity.jsonl"),
        InputFormat::Auto,
    );
    assert_eq!(
        run.column("OperationName"),
        [
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
            "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE"
        ]
    );
    assert!(data_sources(&run)
        .iter()
        .all(|d| d == "Azure Resource Manager"));
    assert_eq!(run.column("ActionType"), ["Update", "Update", "Update"]);
    let rest = run_file(
        everything(),
        fixture("arm/activity-rest.json"),
        InputFormat::Arm,
    );
    assert_eq!(
        rest.column("OperationName"),
        ["Microsoft.Compute/virtualMachines/delete"]
    );
    assert_eq!(rest.column("ActionType"), ["Delete"]);
    // Defender's own ARM example reads RawEventData.status and subStatus.
    let example = Box::new(kql!(
        r#"CloudAuditEvents
| where Timestamp > ago(7d)
| where OperationName startswith "Microsoft.Compute/virtualMachines/write"
| extend Status = RawEventData["status"], SubStatus = RawEventData["subStatus"]
| project Status, SubStatus"#
    ));
    let run = run_file(example, fixture("arm/activity.jsonl"), InputFormat::Auto);
    assert_eq!(run.column("Status"), ["Start", "Success"]);
    assert_eq!(run.column("SubStatus"), ["Started.", "Succeeded.Created"]);
}

#[test]
fn every_platform_gives_the_same_rows_for_the_same_events() {
    let files = [
        "k8s/audit.log",
        "aks/kube-audit.jsonl",
        "aks/records.json",
        "eks/subscription.jsonl",
        "eks/export.log",
        "gke/audit.jsonl",
    ];
    let columns = [
        "PodName",
        "PodNamespace",
        "ContainerName",
        "Username",
        "IPAddress",
        "UserAgent",
        "Timestamp",
    ];
    let rows = |file: &str| {
        let run = run_file(privileged_pod_anywhere(), fixture(file), InputFormat::Auto);
        columns.map(|c| run.column(c))
    };
    let first = rows(files[0]);
    for file in &files[1..] {
        assert_eq!(rows(file), first, "{file}");
    }
    let commands = |file: &str| {
        run_file(
            exec_in_kube_system_anywhere(),
            fixture(file),
            InputFormat::Auto,
        )
        .column("PodName")
    };
    for file in files {
        assert_eq!(commands(file), ["coredns-5d78c9869d-x7k2p"], "{file}");
    }
}

#[test]
fn auto_detects_each_format_line_by_line() {
    let run = run_file(everything(), fixture("mixed.jsonl"), InputFormat::Auto);
    assert!(run.rejections().is_empty(), "{}", run.stderr);
    assert_eq!(
        data_sources(&run),
        [
            "Azure Kubernetes Service",
            "Kubernetes Audit",
            "Azure Kubernetes Service",
            "Amazon Elastic Kubernetes Service",
            "Google Kubernetes Engine",
            "Azure Resource Manager"
        ]
    );
    assert!(
        run.summary()
            .contains("by format: cloudaudit=1, k8s=1, aks=1, eks=1, gke=1, arm=1"),
        "{}",
        run.summary()
    );
}

#[test]
fn an_explicit_format_rejects_other_shapes_naming_what_it_saw() {
    let run = run_file(everything(), fixture("k8s/audit.log"), InputFormat::Gke);
    assert_eq!(run.rows.len(), 0);
    let rejections = run.rejections();
    assert_eq!(rejections.len(), 7);
    assert!(
        rejections[0].contains(
            "audit.log:1: not a GKE audit log entry: an object with keys kind, apiVersion"
        ),
        "{}",
        rejections[0]
    );
    assert_eq!(run.status, ExitCode::FAILURE);
}

#[test]
fn per_file_formats_apply_to_their_own_files() {
    let run = run_files(
        everything(),
        &[
            (fixture("eks/messages.jsonl"), InputFormat::Eks),
            (fixture("k8s/audit.log"), InputFormat::Auto),
        ],
        None,
    );
    let sources = data_sources(&run);
    assert_eq!(sources.len(), 14);
    assert!(sources[..7]
        .iter()
        .all(|d| d == "Amazon Elastic Kubernetes Service"));
    assert!(sources[7..].iter().all(|d| d == "Kubernetes Audit"));
}

// -- the real public samples ----------------------------------------------

/// An audit-data file of `../shared/corpus`, as its manifest lists it.
struct Sample {
    file: String,
    events: u64,
    note: String,
}

/// The corpus folder and its audit-data files (not queries, not the
/// README), with the number of events the manifest gives for each.
fn corpus_samples() -> Option<(PathBuf, Vec<Sample>)> {
    let corpus = repo().join("../shared/corpus");
    let manifest = std::fs::read_to_string(corpus.join("MANIFEST.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    let samples = manifest["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| Sample {
            file: s["file"].as_str().unwrap().to_string(),
            events: s["events"].as_u64().unwrap(),
            note: s["note"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    Some((corpus, samples))
}

#[test]
fn every_corpus_audit_file_is_read_without_rejects_except_the_malformed_one() {
    let Some((corpus, samples)) = corpus_samples() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/corpus is missing and CI is set"
        );
        eprintln!("skipped: ../shared/corpus is missing");
        return;
    };
    let (mut files, mut rows, mut rejected) = (0, 0, 0);
    for Sample { file, events, note } in &samples {
        if file.ends_with(".yaml") {
            // GKE entries written as YAML: converted to JSON fixtures
            // (tests/fixtures/formats/gke/khi-*.json), read above.
            continue;
        }
        let path = corpus.join(file);
        let run = run_file(everything(), path.clone(), InputFormat::Auto);
        files += 1;
        rows += run.rows.len();
        rejected += run.rejections().len();
        if note.contains("malformed on purpose") {
            assert_eq!(run.rows.len(), 0, "{file}");
            assert_eq!(run.rejections().len(), 1, "{file}: {}", run.stderr);
            assert!(
                run.rejections()[0]
                    .contains("unknown input format: an object with keys kind; kind is number 0"),
                "{}",
                run.stderr
            );
            continue;
        }
        assert!(run.rejections().is_empty(), "{file}:\n{}", run.stderr);
        assert_eq!(run.rows.len() as u64, *events, "{file}: rows");
        for row in &run.rows {
            assert!(row["Timestamp"].is_string(), "{file}: {row}");
            assert!(!row["DataSource"].as_str().unwrap().is_empty(), "{file}");
            assert!(
                !row["OperationName"].as_str().unwrap().is_empty(),
                "{file}: {row}"
            );
            assert!(row["RawEventData"].is_object(), "{file}");
        }
    }
    eprintln!("corpus: {files} files, {rows} rows, {rejected} rejected (the malformed sample)");
    assert_eq!(rejected, 1);
}

#[test]
fn corpus_attack_samples_are_found_by_the_reference_rules() {
    let Some((corpus, _)) = corpus_samples() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/corpus is missing and CI is set"
        );
        eprintln!("skipped: ../shared/corpus is missing");
        return;
    };
    let falco = corpus.join("falcosecurity-falco/test/trace_files/k8s_audit");
    // Captured in 2018: replay them as of their own day.
    let replay = |rule: Box<dyn Query>, file: &str, now: &str| {
        let options = Options {
            files: vec![InputFile::auto(falco.join(file).display().to_string())],
            now: parse_datetime(now),
            ..Options::default()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        detector::run(
            vec![rule],
            &options,
            &mut RowWriter::new(&mut out),
            &mut err,
        )
        .unwrap();
        String::from_utf8(out).unwrap().lines().count()
    };
    assert_eq!(
        replay(
            privileged_pod_anywhere(),
            "create_nginx_pod_privileged.json",
            "2018-10-25T20:00:00Z"
        ),
        1
    );
    assert_eq!(
        replay(
            privileged_pod_anywhere(),
            "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json",
            "2018-10-25T20:00:00Z"
        ),
        1
    );
    assert_eq!(
        replay(
            cluster_admin_binding(),
            "attach_cluster_admin_role.json",
            "2018-10-26T20:00:00Z"
        ),
        1
    );
    // exec_pod.json is an exec into `default`: the rule rightly ignores it.
    assert_eq!(
        replay(
            exec_in_kube_system_anywhere(),
            "exec_pod.json",
            "2018-10-26T20:00:00Z"
        ),
        0
    );
}

// -- bad input: one test per case ------------------------------------------

/// A routine event (the first line of the k8s fixture).
fn good_line() -> Vec<u8> {
    let text = std::fs::read_to_string(fixture("k8s/audit.log")).unwrap();
    text.lines().next().unwrap().as_bytes().to_vec()
}

/// Runs every row over a good line, `bad`, and a good line, with a rejects
/// file: checks that the run went on around the bad line, that exactly one
/// stderr line reports it (and returns it), and that the rejects file holds
/// `bad` byte for byte.
fn one_bad_line(bad: &[u8], format: InputFormat) -> String {
    let dir = scratch();
    let input = dir.path().join("input.jsonl");
    let rejects = dir.path().join("rejects.jsonl");
    let mut bytes = good_line();
    bytes.push(b'\n');
    bytes.extend_from_slice(bad);
    bytes.push(b'\n');
    bytes.extend_from_slice(&good_line());
    bytes.push(b'\n');
    std::fs::write(&input, &bytes).unwrap();
    let run = run_files(everything(), &[(input, format)], Some(&rejects));
    assert_eq!(
        run.rows.len(),
        2,
        "the good lines around it are read: {}",
        run.stderr
    );
    let rejections = run.rejections();
    assert_eq!(rejections.len(), 1, "{}", run.stderr);
    assert!(
        rejections[0].starts_with(&format!("{}:2: ", dir.path().join("input.jsonl").display())),
        "{}",
        rejections[0]
    );
    assert!(
        rejections[0].len() < 1_000,
        "a short message: {} bytes",
        rejections[0].len()
    );
    assert!(
        run.summary()
            .starts_with("summary: 3 rows read, 1 rejected, 2 emitted"),
        "{}",
        run.summary()
    );
    assert!(
        run.summary().contains("rejected input written to"),
        "{}",
        run.summary()
    );
    assert_eq!(run.status, ExitCode::FAILURE);
    let mut kept = bad.to_vec();
    kept.push(b'\n');
    assert!(
        std::fs::read(&rejects).unwrap() == kept,
        "the rejects file holds the line verbatim"
    );
    let (_, cause) = rejections[0].split_once(":2: ").unwrap();
    cause.to_string()
}

#[test]
fn truncated_json_is_rejected_with_its_line() {
    let good = good_line();
    let cause = one_bad_line(&good[..good.len() / 2], InputFormat::Auto);
    assert!(
        cause.starts_with("malformed JSON: EOF while parsing"),
        "{cause}"
    );
}

#[test]
fn malformed_json_is_rejected_with_its_line() {
    let cause = one_bad_line(
        br#"{"kind":"Event","verb":"get",,"auditID":"x"}"#,
        InputFormat::Auto,
    );
    assert!(cause.starts_with("malformed JSON: "), "{cause}");
    let cause = one_bad_line(br#"{"kind":"Event"} trailing words"#, InputFormat::K8s);
    assert!(cause.starts_with("malformed JSON: "), "{cause}");
}

#[test]
fn invalid_utf8_is_rejected_and_kept_byte_for_byte() {
    let mut bad = br#"{"kind":"Event","verb":"get","user":{"username":"#.to_vec();
    bad.extend_from_slice(b"\"\xff\xfe\"}}");
    let cause = one_bad_line(&bad, InputFormat::Auto);
    assert_eq!(cause, "invalid UTF-8 at byte 50");
}

#[test]
fn aks_properties_log_that_is_not_json_is_rejected_at_its_record() {
    let records = std::fs::read_to_string(fixture("aks/kube-audit.jsonl")).unwrap();
    let good: Vec<&str> = records.lines().collect();
    let bad_record = good[0].replacen(
        r#""log":"{"#,
        r#""log":"I0528 10:01:00.140000 1 audit.go:42] not json {"#,
        1,
    );
    // Alone on its line, and as element 1 of a {"records": [...]} batch whose
    // other elements are read.
    let cause = one_bad_line(bad_record.as_bytes(), InputFormat::Auto);
    assert!(cause.starts_with("properties.log is not JSON: "), "{cause}");
    let batch = format!("{{\"records\":[{},{bad_record},{}]}}", good[1], good[2]);
    let dir = scratch();
    let input = dir.path().join("records.json");
    std::fs::write(&input, format!("{batch}\n")).unwrap();
    let run = run_file(everything(), input, InputFormat::Aks);
    assert_eq!(run.rows.len(), 2);
    let rejections = run.rejections();
    assert_eq!(rejections.len(), 1);
    assert!(
        rejections[0].contains("records.json:1: records[1]: properties.log is not JSON"),
        "{}",
        rejections[0]
    );
    assert!(
        run.summary()
            .starts_with("summary: 3 rows read, 1 rejected"),
        "{}",
        run.summary()
    );
}

#[test]
fn a_record_of_unknown_format_is_rejected_naming_what_was_seen() {
    let cause = one_bad_line(br#"{"hello":"world","n":1}"#, InputFormat::Auto);
    assert!(
        cause.starts_with(
            "unknown input format: an object with keys hello, n; expected a CloudAuditEvents row"
        ),
        "{cause}"
    );
    let cause = one_bad_line(
        br#"{"kind":"Event","apiVersion":"v1","reason":"Pulled","message":"Pulling image"}"#,
        InputFormat::Auto,
    );
    assert!(
        cause.contains("is a cluster event, not an audit event"),
        "{cause}"
    );
}

#[test]
fn a_fifty_megabyte_line_is_reported_once_and_kept_whole() {
    // A huge event cut off before its end: 50 MB of one string.
    let mut bad = br#"{"kind":"Event","verb":"create","requestObject":{"data":""#.to_vec();
    bad.resize(50 << 20, b'a');
    let cause = one_bad_line(&bad, InputFormat::Auto);
    assert!(
        cause.starts_with("malformed JSON: EOF while parsing a string"),
        "{cause}"
    );
}

#[test]
fn a_line_over_the_limit_is_rejected_unread_and_kept_whole() {
    let mut bad = br#"{"kind":"Event","annotations":{"x":""#.to_vec();
    bad.resize(input::MAX_LINE_BYTES + 10, b'b');
    bad.extend_from_slice(br#""}}"#);
    let cause = one_bad_line(&bad, InputFormat::Auto);
    assert_eq!(
        cause,
        format!(
            "line of {} bytes is longer than the limit of {} bytes",
            bad.len(),
            input::MAX_LINE_BYTES
        )
    );
}

#[test]
fn json_nested_ten_thousand_levels_is_rejected_without_overflowing_the_stack() {
    let deep = |open: &str, close: &str| format!("{}{}", open.repeat(10_000), close.repeat(10_000));
    let bad = format!(
        r#"{{"kind":"Event","verb":"get","requestObject":{}}}"#,
        deep("[", "]")
    );
    let cause = one_bad_line(bad.as_bytes(), InputFormat::Auto);
    assert!(cause.contains("recursion limit exceeded"), "{cause}");
    // The same inside an AKS record's properties.log, a JSON text in JSON.
    let inner = format!(
        r#"{{"kind":"Event","verb":"get","requestObject":{}}}"#,
        deep("{\"a\":", "}")
    );
    let record = format!(
        r#"{{"category":"kube-audit","properties":{{"log":{}}},"resourceId":"/x","time":"2024-05-28T10:00:00Z"}}"#,
        serde_json::to_string(&inner).unwrap()
    );
    let cause = one_bad_line(record.as_bytes(), InputFormat::Auto);
    assert!(
        cause.starts_with("properties.log is not JSON: recursion limit exceeded"),
        "{cause}"
    );
}

#[test]
fn a_number_too_large_for_long_is_rejected_where_an_integer_is_read() {
    let bad = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"create","responseStatus":{"metadata":{},"code":99999999999999999999},"stageTimestamp":"2024-05-28T10:00:00Z"}"#;
    let cause = one_bad_line(bad, InputFormat::Auto);
    assert_eq!(
        cause,
        "responseStatus.code: number 100000000000000000000 is too large for long (a status code is expected)"
    );
}

#[test]
fn a_timestamp_in_an_unexpected_format_is_rejected_naming_the_field() {
    let bad = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","verb":"get","stageTimestamp":"28.05.2024 10:00 Uhr"}"#;
    let cause = one_bad_line(bad, InputFormat::Auto);
    assert_eq!(
        cause,
        "stageTimestamp: '28.05.2024 10:00 Uhr' is not a datetime (expected ISO 8601)"
    );
}

#[test]
fn every_rejected_line_is_written_verbatim_to_the_rejects_file_in_order() {
    let dir = scratch();
    let input = dir.path().join("mixed-bad.jsonl");
    let rejects = dir.path().join("rejects.jsonl");
    let bad: [&[u8]; 4] = [
        b"{\"kind\":\"Event\",",
        b"\xff\xfe not text",
        br#"{"kind":"Event","stageTimestamp":"soon"}"#,
        br#"{"records":[{"category":"kube-audit","properties":{"log":"x"}}]}"#,
    ];
    let good = good_line();
    let mut bytes = Vec::new();
    let mut wanted = Vec::new();
    for line in bad {
        bytes.extend_from_slice(&good);
        bytes.extend_from_slice(b"\r\n");
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
        wanted.extend_from_slice(line);
        wanted.push(b'\n');
    }
    std::fs::write(&input, &bytes).unwrap();
    let run = run_files(everything(), &[(input, InputFormat::Auto)], Some(&rejects));
    assert_eq!(run.rows.len(), 4);
    assert_eq!(run.rejections().len(), 4, "{}", run.stderr);
    assert!(std::fs::read(&rejects).unwrap() == wanted);
}

#[test]
fn a_broken_document_is_read_up_to_the_error_and_kept_from_there() {
    let dir = scratch();
    let input = dir.path().join("events.json");
    let events = std::fs::read_to_string(fixture("k8s/audit.log")).unwrap();
    let events: Vec<&str> = events.lines().collect();
    let text = format!(
        "[\n  {},\n  {},\n  {{\"kind\": \"Event\",, }},\n  {}\n]\n",
        events[0], events[1], events[2]
    );
    std::fs::write(&input, &text).unwrap();
    let rejects = dir.path().join("rejects.json");
    let run = run_files(everything(), &[(input, InputFormat::Auto)], Some(&rejects));
    assert_eq!(run.rows.len(), 2);
    let rejections = run.rejections();
    assert_eq!(rejections.len(), 1, "{}", run.stderr);
    assert!(
        rejections[0].contains("events.json:4: malformed JSON: "),
        "{}",
        rejections[0]
    );
    let kept = std::fs::read_to_string(&rejects).unwrap();
    assert!(kept.starts_with("{\"kind\": \"Event\",, }"), "{kept}");
    assert!(kept.ends_with("\n]\n"));
}

#[test]
fn a_truncated_gzip_file_is_read_up_to_the_damage_and_reported() {
    let dir = scratch();
    let input = dir.path().join("cut.gz");
    let whole = std::fs::read(fixture("k8s/audit.log.gz")).unwrap();
    std::fs::write(&input, &whole[..whole.len() * 2 / 3]).unwrap();
    let run = run_file(everything(), input, InputFormat::Auto);
    assert!(run.stderr.contains("read error"), "{}", run.stderr);
    assert!(run.rows.len() < 7);
    assert_eq!(run.status, ExitCode::from(2));
}

// -- kqlc sample --format native ---------------------------------------------

#[test]
fn native_samples_are_found_by_the_reference_rules_in_the_reported_numbers() {
    use kql_sample::{write_sample, SampleFormat, SampleOptions, Source};
    let now = chrono::DateTime::parse_from_rfc3339(NOW)
        .unwrap()
        .with_timezone(&chrono::Utc);
    let dir = scratch();
    for source in Source::ALL {
        for format in [SampleFormat::Native, SampleFormat::CloudAudit] {
            let mut options = SampleOptions::new(0, now);
            options.events = Some(1_500);
            options.source = source;
            options.format = format;
            options.seed = 11;
            options.match_rate_per_million = 60_000;
            let path = dir
                .path()
                .join(format!("{}-{}.jsonl", source.name(), format.name()));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            let stats = write_sample(&mut out, &options).unwrap();
            out.flush().unwrap();
            drop(out);
            let found = attacks_found(path, InputFormat::Auto);
            let m = &stats.matches_per_rule;
            let expected = [
                m[0].output_rows,
                m[1].output_rows,
                m[2].output_rows,
                m[0].anywhere_output_rows,
                m[1].anywhere_output_rows,
            ]
            .map(|n| n as usize);
            assert_eq!(found, expected, "{} {}", source.name(), format.name());
            if source != Source::Arm {
                assert!(
                    m.iter().all(|r| r.anywhere_rows > 0),
                    "{} plants every attack: {m:?}",
                    source.name()
                );
            }
        }
    }
}
