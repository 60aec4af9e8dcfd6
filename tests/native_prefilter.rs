//! The prefilter of native formats (`k8s`, `eks`, `aks`) never changes
//! results: a pack of rules with varied predicates, built by `kqlc build`,
//! gives exactly the same rows over `kqlc sample`'s events of each format,
//! plus hand-written edge events (escaped `\"`, `\/` and `\u00xx`, keys
//! that differ in case, non-ASCII, the AKS log escaped twice), with and
//! without `--no-prefilter`, and with `--threads 2`. Rules whose needles
//! hold in native text must skip lines unparsed.

use crate::common::{kqlc, rules, NOW};
use kqlc_cli::build::{Profile, Toolchain};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Rules with needles that hold in native text (they must skip lines).
const SKIPPING: &[(&str, &str)] = &[
    (
        "create",
        r#"CloudAuditEvents | where OperationName == "create" | project OperationName, Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "create_pods_ci",
        r#"CloudAuditEvents | where OperationName =~ "CREATE" and RawEventData.ObjectRef.resource == "pods" | project Id = tostring(RawEventData.AuditId)"#,
    ),
];

/// Rules of every kind: needles from verbatim columns, from members of
/// `RawEventData`, from columns the normalizer computes, negations,
/// numbers, `or`.
const PACK: &[(&str, &str)] = &[
    (
        "ns_or_verbs",
        r#"CloudAuditEvents | where RawEventData.ObjectRef.namespace has "kube-system" or OperationName in ("delete", "patch") | project OperationName, Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "not_reads_secrets",
        r#"CloudAuditEvents | where OperationName !in ("get", "list", "watch") and RawEventData.ObjectRef.resource startswith "secr" | project Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "alice",
        r#"CloudAuditEvents | where RawEventData.User.username contains "alice" | project U = tostring(RawEventData.User.username)"#,
    ),
    (
        "kelvin",
        r#"CloudAuditEvents | where RawEventData.User.username =~ "kelvin" | project U = tostring(RawEventData.User.username)"#,
    ),
    (
        "uri_slash",
        r#"CloudAuditEvents | where tostring(RawEventData.RequestURI) contains "/api/v1/namespaces/kube-system" | project Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "renamed_key_text",
        r#"CloudAuditEvents | where tostring(RawEventData) contains_cs "ObjectRef" | project Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "renamed_key_ci",
        r#"CloudAuditEvents | where tostring(RawEventData) has "AuditId" and OperationName == "get" | project Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "data_source_k8s",
        r#"CloudAuditEvents | where DataSource == "Kubernetes Audit" and OperationName == "create" | project DataSource, Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "data_source_has",
        r#"CloudAuditEvents | where DataSource has "Azure" or DataSource has "Amazon" | project DataSource, OperationName"#,
    ),
    (
        "action_type",
        r#"CloudAuditEvents | where ActionType == "Create" | project ActionType, Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "action_type_ci",
        r#"CloudAuditEvents | where ActionType =~ "delete" and RawEventData.ObjectRef.resource in~ ("PODS", "secrets") | project ActionType"#,
    ),
    (
        "code_and_verb",
        r#"CloudAuditEvents | where RawEventData.ResponseStatus.code == 201 and OperationName == "create" | project Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "negations",
        r#"CloudAuditEvents | where not(OperationName == "get") and RawEventData.Verb != "list" | project OperationName"#,
    ),
    (
        "exec_ids",
        r#"CloudAuditEvents | where RawEventData.ObjectRef.subresource == "exec" | project AzureResourceId, ResourceId, Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "agent",
        r#"CloudAuditEvents | where UserAgent has "kubectl" | project UserAgent"#,
    ),
    (
        "ip",
        r#"CloudAuditEvents | where IPAddress == "203.0.113.7" or ReportId has "edge" | project IPAddress, ReportId"#,
    ),
    (
        "pod_member",
        r#"CloudAuditEvents | where AdditionalFields.Pod has "apiserver" | project P = tostring(AdditionalFields.Pod)"#,
    ),
    (
        "additional_text",
        r#"CloudAuditEvents | where tostring(AdditionalFields) contains_cs "Category" and OperationName == "create" | project OperationName"#,
    ),
    (
        "cluster_name",
        r#"CloudAuditEvents | where AdditionalFields.ClusterName == "prod" | project C = tostring(AdditionalFields.ClusterName)"#,
    ),
    (
        "lower_key",
        r#"CloudAuditEvents | where RawEventData.Objectref.resource == "secrets" | project Id = tostring(RawEventData.AuditId)"#,
    ),
    (
        "non_ascii",
        r#"CloudAuditEvents | where RawEventData.User.username == "é-user" or RawEventData.User.username has "quoted" | project U = tostring(RawEventData.User.username)"#,
    ),
    (
        "mv_expand_groups",
        r#"CloudAuditEvents | mv-expand G = RawEventData.User.groups | where G == "system:masters" | project Id = tostring(RawEventData.AuditId)"#,
    ),
];

/// Hand-written k8s audit events that spell needles in ways a byte search
/// misses, and near misses.
fn edge_events() -> Vec<String> {
    let event = |id: &str, rest: &str| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"edge-{id}","stage":"ResponseComplete","requestReceivedTimestamp":"2024-05-28T10:00:00Z","stageTimestamp":"2024-05-28T10:00:01Z",{rest}}}"#
        )
    };
    vec![
        // `create` spelt with a \u escape; `pods` too.
        event(
            "1",
            r#""verb":"cre\u0061te","objectRef":{"resource":"po\u0064s"},"responseStatus":{"code":201}"#,
        ),
        // A URI written with \/ (as some encoders write `/`).
        event(
            "2",
            r#""verb":"get","requestURI":"\/api\/v1\/namespaces\/kube-system\/pods","objectRef":{"resource":"pods","namespace":"kube-system"}"#,
        ),
        // An escaped quote in the user name, next to the needle.
        event(
            "3",
            r#""verb":"get","user":{"username":"al\"alice\"quoted"}"#,
        ),
        // Keys differing in case: `objectref` is not `objectRef`.
        event(
            "4",
            r#""verb":"get","objectref":{"resource":"secrets"},"objectRef":{"resource":"configmaps"}"#,
        ),
        event("5", r#""verb":"delete","Objectref":{"resource":"secrets"}"#),
        // The Kelvin sign folds to `k`; a non-ASCII exact name.
        event(
            "6",
            "\"verb\":\"get\",\"user\":{\"username\":\"\u{212A}ELVIN\"}",
        ),
        event(
            "7",
            "\"verb\":\"get\",\"user\":{\"username\":\"\u{e9}-user\"}",
        ),
        event("8", r#""verb":"get","user":{"username":"\u00e9-user"}"#),
        // Verb in capitals (=~ matches, == does not); a tab escape.
        event(
            "9",
            r#""verb":"CREATE","objectRef":{"resource":"pods"},"userAgent":"kubectl\t1.30""#,
        ),
        // The renamed keys' names appear only as values here.
        event(
            "10",
            r#""verb":"get","objectRef":{"resource":"ObjectRef","name":"AuditId"}"#,
        ),
        // A number spelt with an exponent (a status code must be whole); a
        // group list.
        event(
            "11",
            r#""verb":"create","responseStatus":{"code":201},"annotations":{"n":2.01e2},"user":{"username":"x","groups":["system:masters"]},"sourceIPs":["203.0.113.7"]"#,
        ),
        // Repeated keys: the last value counts.
        event(
            "12",
            r#""verb":"get","verb":"create","objectRef":{"resource":"pods"}"#,
        ),
    ]
}

/// `event` (a k8s event's JSON text) in `format`'s envelope.
fn wrap(format: &str, event: &str) -> String {
    let string = serde_json::to_string(event).unwrap();
    match format {
        "k8s" => event.to_string(),
        // A CloudWatch Logs subscription payload: the event is a JSON
        // string, escaped once more.
        "eks" => format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"\/aws\/eks\/prod\/cluster","logStream":"kube-apiserver-audit-1","logEvents":[{{"id":"1","timestamp":1716890400000,"message":{string}}}]}}"#
        ),
        // AKS diagnostic settings: the event in `properties.log`, escaped
        // twice in the line.
        "aks" => format!(
            r#"{{"category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","resourceId":"\/SUBSCRIPTIONS\/0000\/RESOURCEGROUPS\/RG\/PROVIDERS\/MICROSOFT.CONTAINERSERVICE\/MANAGEDCLUSTERS\/PROD","time":"2024-05-28T10:00:00Z","properties":{{"log":{string},"pod":"kube-apiserver-7d9\u0061piserver","stream":"stdout"}}}}"#
        ),
        _ => unreachable!(),
    }
}

/// `kqlc sample` in `format` with the edge events appended.
fn input(dir: &Path, format: &str) -> PathBuf {
    let path = dir.join(format!("{format}.jsonl"));
    let source = match format {
        "k8s" => "onprem",
        other => other,
    };
    let status = kqlc()
        .args(["sample", "--events", "4000", "--source", source])
        .args(["--format", "native", "--now", NOW, "-o"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "kqlc sample --format {format}");
    let mut text = std::fs::read_to_string(&path).unwrap();
    for event in edge_events() {
        text.push_str(&wrap(format, &event));
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn run(binary: &Path, input: &Path, format: &str, extra: &[&str]) -> (String, String) {
    let output = Command::new(binary)
        .arg(input)
        .args(["--now", NOW, "--input-format", format])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.code().is_some_and(|c| c <= 1), "{stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

#[test]
fn native_formats_give_the_same_rows_with_and_without_the_prefilter() {
    let dir = tempfile::tempdir().unwrap();
    let toolchain = Toolchain::discover().unwrap();
    let mut all: Vec<(&str, &str)> = SKIPPING.to_vec();
    all.extend_from_slice(PACK);
    let pack = toolchain.build(&rules(&all), Profile::Quick).unwrap();
    let skipping = toolchain.build(&rules(SKIPPING), Profile::Quick).unwrap();
    for format in ["k8s", "eks", "aks"] {
        let input = input(dir.path(), format);
        for binary in [&pack, &skipping] {
            let (full, _) = run(binary, &input, format, &["--no-prefilter"]);
            let (filtered, summary) = run(binary, &input, format, &[]);
            let (threads, _) = run(binary, &input, format, &["--threads", "2"]);
            assert!(
                full.lines().count() > 20,
                "{format}: too few rows to compare"
            );
            for (name, rows) in [("prefiltered", &filtered), ("--threads 2", &threads)] {
                if *rows != full {
                    let a: Vec<&str> = rows.lines().collect();
                    let b: Vec<&str> = full.lines().collect();
                    let first = (a.iter().zip(&b))
                        .position(|(x, y)| x != y)
                        .unwrap_or(a.len().min(b.len()));
                    panic!(
                        "{format}: {name} differs from --no-prefilter at row {first}:\n  {name}: {:?}\n  full: {:?}",
                        a.get(first),
                        b.get(first)
                    );
                }
            }
            if std::ptr::eq(binary, &skipping) {
                assert!(
                    summary.contains("skipped unparsed"),
                    "{format}: the native prefilter skipped nothing: {summary}"
                );
            }
        }
        // Every edge event is found by a rule meant for it.
        let (full, _) = run(&pack, &input, format, &[]);
        for id in [
            "edge-1", "edge-2", "edge-5", "edge-10", "edge-11", "edge-12",
        ] {
            assert!(
                full.contains(&format!("\"{id}\"")),
                "{format}: no row of {id}:\n{full}"
            );
        }
    }
}
