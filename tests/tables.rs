//! The Azure Monitor tables of AKS audit logs (`AKSAudit`, `AKSAuditAdmin`,
//! `AzureDiagnostics`) beside `CloudAuditEvents`: the same detection written
//! over each table finds the same events in a mixed native sample (and in
//! the same sample as `CloudAuditEvents` rows), whatever the prefilter and
//! the threads; one detector over several tables tags each rule's rows; a
//! mixed pack (`.kql`, Sentinel YAML over two tables, SigmaHQ rules) is one
//! detector built by `kqlc build`; every corpus query over these tables
//! compiles unmodified; and the corpus queries, run unmodified on samples of
//! every native format, find what their twins over `CloudAuditEvents` find.

use crate::common::{corpus, kqlc, rules, yaml_query, NOW};
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The logical fields every detection projects, under the same names.
const FIELDS: &str = "AuditId, Verb, Username, Resource, Namespace, Code, Time";

/// Writes to secrets and RBAC objects (not reads), over each table.
const WRITES: &[(&str, &str)] = &[
    (
        "writes_cloudaudit",
        r#"CloudAuditEvents
| where RawEventData.ObjectRef.resource in ("secrets", "rolebindings", "clusterrolebindings")
| where OperationName !in ("get", "list", "watch")
| project AuditId = tostring(RawEventData.AuditId), Verb = OperationName, Username = tostring(RawEventData.User.username), Resource = tostring(RawEventData.ObjectRef.resource), Namespace = tostring(RawEventData.ObjectRef.namespace), Code = tolong(RawEventData.ResponseStatus.code), Time = Timestamp"#,
    ),
    (
        "writes_aksaudit",
        r#"AKSAudit
| where ObjectRef.resource in ("secrets", "rolebindings", "clusterrolebindings")
| where Verb !in ("get", "list", "watch")
| project AuditId, Verb, Username = tostring(User.username), Resource = tostring(ObjectRef.resource), Namespace = tostring(ObjectRef.namespace), Code = tolong(ResponseStatus.code), Time = TimeGenerated"#,
    ),
    (
        "writes_aksauditadmin",
        r#"AKSAuditAdmin
| where ObjectRef.resource in ("secrets", "rolebindings", "clusterrolebindings")
| project AuditId, Verb, Username = tostring(User.username), Resource = tostring(ObjectRef.resource), Namespace = tostring(ObjectRef.namespace), Code = tolong(ResponseStatus.code), Time = TimeGenerated"#,
    ),
    (
        "writes_azurediagnostics",
        r#"AzureDiagnostics
| where Category in ("kube-audit", "kube-audit-admin")
| extend Event = parse_json(log_s)
| where Event.objectRef.resource in ("secrets", "rolebindings", "clusterrolebindings")
| where Event.verb !in ("get", "list", "watch")
| project AuditId = tostring(Event.auditID), Verb = tostring(Event.verb), Username = tostring(Event.user.username), Resource = tostring(Event.objectRef.resource), Namespace = tostring(Event.objectRef.namespace), Code = tolong(Event.responseStatus.code), Time = TimeGenerated"#,
    ),
];

/// Reads of secrets: in `AKSAudit` and `AzureDiagnostics`, never in
/// `AKSAuditAdmin`.
const READS: &[(&str, &str)] = &[
    (
        "reads_cloudaudit",
        r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where RawEventData.ObjectRef.resource == "secrets" and OperationName in ("get", "list", "watch")
| project AuditId = tostring(RawEventData.AuditId), Verb = OperationName, Username = tostring(RawEventData.User.username), Resource = tostring(RawEventData.ObjectRef.resource), Namespace = tostring(RawEventData.ObjectRef.namespace), Code = tolong(RawEventData.ResponseStatus.code), Time = Timestamp"#,
    ),
    (
        "reads_aksaudit",
        r#"AKSAudit
| where ObjectRef.resource == "secrets" and Verb in ("get", "list", "watch")
| project AuditId, Verb, Username = tostring(User.username), Resource = tostring(ObjectRef.resource), Namespace = tostring(ObjectRef.namespace), Code = tolong(ResponseStatus.code), Time = TimeGenerated"#,
    ),
    (
        "reads_aksauditadmin",
        r#"AKSAuditAdmin
| where ObjectRef.resource == "secrets" and Verb in ("get", "list", "watch")
| project AuditId, Verb, Username = tostring(User.username), Resource = tostring(ObjectRef.resource), Namespace = tostring(ObjectRef.namespace), Code = tolong(ResponseStatus.code), Time = TimeGenerated"#,
    ),
    (
        "reads_azurediagnostics",
        r#"AzureDiagnostics
| where Category startswith "kube-audit"
| where parse_json(log_s).objectRef.resource == "secrets" and parse_json(log_s).verb in ("get", "list", "watch")
| project AuditId = tostring(parse_json(log_s).auditID), Verb = tostring(parse_json(log_s).verb), Username = tostring(parse_json(log_s).user.username), Resource = tostring(parse_json(log_s).objectRef.resource), Namespace = tostring(parse_json(log_s).objectRef.namespace), Code = tolong(parse_json(log_s).responseStatus.code), Time = TimeGenerated"#,
    ),
];

/// `kqlc sample --events 20000 --source mixed` in `format`, written to `dir`.
fn sample(dir: &Path, format: &str) -> PathBuf {
    let path = dir.join(format!("{format}.jsonl"));
    let status = kqlc()
        .args(["sample", "--events", "20000", "--source", "mixed"])
        .args(["--format", format, "--now", NOW, "-o"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "kqlc sample --format {format}");
    path
}

/// The detector's rows by rule (the `_rule` key taken off), its stderr and
/// exit status.
fn run(
    binary: &Path,
    input: &Path,
    extra: &[&str],
) -> (BTreeMap<String, Vec<String>>, String, Option<i32>) {
    let output = Command::new(binary)
        .arg(input)
        .args(["--now", NOW])
        .args(extra)
        .output()
        .unwrap();
    let mut by_rule: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in String::from_utf8(output.stdout).unwrap().lines() {
        let mut row: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let Some(serde_json::Value::String(rule)) = row.remove("_rule") else {
            panic!("a row without its rule: {line}");
        };
        by_rule
            .entry(rule)
            .or_default()
            .push(serde_json::Value::Object(row).to_string());
    }
    (
        by_rule,
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    )
}

#[test]
fn the_same_detection_over_each_table_finds_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    let pack: Vec<Rule> = rules(&[WRITES, READS].concat());
    let binary = Toolchain::discover()
        .unwrap()
        .build(&pack, Profile::Quick)
        .unwrap();
    for format in ["native", "cloudaudit"] {
        let input = sample(dir.path(), format);
        let (rows, stderr, status) = run(&binary, &input, &[]);
        assert_eq!(status, Some(0), "{format}: {stderr}");
        let of = |rule: &str| rows.get(rule).cloned().unwrap_or_default();
        let writes = of("writes_cloudaudit");
        assert!(
            writes.len() >= 20,
            "{format}: too few writes to compare ({})",
            writes.len()
        );
        for (name, _) in &WRITES[1..] {
            assert_eq!(
                of(name),
                writes,
                "{format}: {name} against writes_cloudaudit"
            );
        }
        let reads = of("reads_cloudaudit");
        assert!(
            reads.len() >= 20,
            "{format}: too few reads ({})",
            reads.len()
        );
        assert_eq!(of("reads_aksaudit"), reads, "{format}: reads_aksaudit");
        assert_eq!(
            of("reads_azurediagnostics"),
            reads,
            "{format}: reads_azurediagnostics"
        );
        assert_eq!(of("reads_aksauditadmin"), Vec::<String>::new());
        // The fields are the logical ones, filled in (the event's own
        // values, not nulls of a missed mapping).
        let first: serde_json::Value = serde_json::from_str(&writes[0]).unwrap();
        for field in FIELDS.split(", ") {
            assert!(
                !first[field].is_null() && first[field] != "",
                "{format}: {field} is empty in {first}"
            );
        }
        // Neither the prefilter, threads nor the lazy reader (which reads
        // derived tables' records pruned) change anything.
        for extra in [
            &["--no-prefilter"][..],
            &["--threads", "2"][..],
            &["--full-parse"][..],
        ] {
            let (again, _, status) = run(&binary, &input, extra);
            assert_eq!(status, Some(0));
            assert!(again == rows, "{format} {extra:?}: rows differ");
        }
    }
}

/// An AKS record (an exec, category `kube-audit-admin`), an upstream event
/// (a read of a secret), a `CloudAuditEvents` row of an EKS create, and an
/// Activity Log record.
const MIXED_INPUT: &str = concat!(
    r#"{"category":"kube-audit-admin","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","properties":{"log":"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Metadata\",\"auditID\":\"aks-1\",\"stage\":\"ResponseStarted\",\"requestURI\":\"/api/v1/namespaces/kube-system/pods/p/exec?command=sh\",\"verb\":\"create\",\"user\":{\"username\":\"alice\"},\"sourceIPs\":[\"10.0.0.7\"],\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"kube-system\",\"name\":\"p\",\"subresource\":\"exec\"},\"responseStatus\":{\"code\":101},\"stageTimestamp\":\"2024-05-28T10:00:00Z\"}","pod":"kube-apiserver-1","stream":"stdout"},"resourceId":"/SUBSCRIPTIONS/S-1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/PROD","time":"2024-05-28T10:00:01Z"}"#,
    "\n",
    r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"k8s-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets/db","verb":"get","user":{"username":"bob"},"sourceIPs":["10.0.0.8"],"objectRef":{"resource":"secrets","namespace":"default","name":"db"},"responseStatus":{"code":200},"stageTimestamp":"2024-05-28T10:01:00Z"}"#,
    "\n",
    r#"{"Timestamp":"2024-05-28T10:02:00Z","ReportId":"eks-1","DataSource":"Amazon Elastic Kubernetes Service","ActionType":"Create","OperationName":"create","ResourceId":"arn:aws:eks::1:cluster/prod","AzureResourceId":"","IPAddress":"10.0.0.9","IsAnonymousProxy":null,"CountryCode":"","City":"","Isp":"","UserAgent":"kubectl","RawEventData":{"Kind":"Event","AuditId":"eks-1","Stage":"ResponseComplete","Verb":"create","User":{"username":"carol"},"ObjectRef":{"resource":"secrets","namespace":"prod","name":"token"},"ResponseStatus":{"code":201}},"AdditionalFields":{"ClusterName":"prod"}}"#,
    "\n",
    r#"{"time":"2024-05-28T10:03:00Z","resourceId":"/SUBSCRIPTIONS/S-1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/VM","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE","category":"Administrative","resultType":"Success","callerIpAddress":"1.2.3.4"}"#,
    "\n",
);

#[test]
fn one_detector_over_two_tables_tags_each_rules_rows() {
    let pack = rules(&[
        (
            "admin_changes",
            "AKSAuditAdmin | project AuditId, Verb, PodName, Type",
        ),
        (
            "diagnostics_all",
            "AzureDiagnostics | where Category startswith 'kube-audit' | project Id = tostring(parse_json(log_s).auditID), Category, Resource, ResourceGroup",
        ),
    ]);
    let binary = Toolchain::discover()
        .unwrap()
        .build(&pack, Profile::Quick)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.jsonl");
    std::fs::write(&input, MIXED_INPUT).unwrap();
    let output = Command::new(&binary)
        .arg(&input)
        .args(["--now", NOW])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let expected = [
        r#"{"_rule":"admin_changes","AuditId":"aks-1","Verb":"create","PodName":"kube-apiserver-1","Type":"AKSAuditAdmin"}"#,
        r#"{"_rule":"diagnostics_all","Id":"aks-1","Category":"kube-audit-admin","Resource":"PROD","ResourceGroup":"RG"}"#,
        r#"{"_rule":"diagnostics_all","Id":"k8s-1","Category":"kube-audit","Resource":"","ResourceGroup":""}"#,
        r#"{"_rule":"admin_changes","AuditId":"eks-1","Verb":"create","PodName":"","Type":"AKSAuditAdmin"}"#,
        r#"{"_rule":"diagnostics_all","Id":"eks-1","Category":"kube-audit","Resource":"prod","ResourceGroup":""}"#,
    ];
    assert_eq!(
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        expected
    );
    assert!(
        stderr.contains("4 rows read, 0 rejected, 5 emitted")
            && stderr.contains("(admin_changes=2, diagnostics_all=3)"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// The corpus

/// The files of the corpus' `kql/` and `kql-extended/`, sorted.
fn corpus_queries_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![root.join("kql"), root.join("kql-extended")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The queries of a corpus file: a whole `.kql` file, the `query:` block of
/// a Sentinel YAML rule, the fenced KQL blocks of a Markdown page (fence
/// tags `kusto`, `kql` and `query`).
fn queries_of(path: &Path, text: &str) -> Vec<String> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("kql") => vec![text.to_string()],
        Some("yaml" | "yml") => yaml_query(text).into_iter().collect(),
        Some("md") => {
            let mut queries = Vec::new();
            let mut current: Option<String> = None;
            for line in text.lines() {
                let fence = line.trim_start();
                match &mut current {
                    None if ["```kusto", "```kql", "```query"]
                        .iter()
                        .any(|tag| fence.starts_with(tag)) =>
                    {
                        current = Some(String::new())
                    }
                    Some(query) if fence.starts_with("```") => {
                        queries.push(std::mem::take(query));
                        current = None;
                    }
                    Some(query) => {
                        query.push_str(line);
                        query.push('\n');
                    }
                    None => {}
                }
            }
            queries
        }
        _ => Vec::new(),
    }
}

/// True for a query over `AKSAudit`, `AKSAuditAdmin`, or the kube-audit
/// categories of `AzureDiagnostics`.
fn reads_aks_audit_tables(query: &str) -> bool {
    let words: Vec<&str> = query
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .collect();
    words
        .iter()
        .any(|w| *w == "AKSAudit" || *w == "AKSAuditAdmin")
        || (words.contains(&"AzureDiagnostics") && query.contains("kube-audit"))
}

/// Corpus queries over these tables that still need a construct kqlc does
/// not have: (file, the construct). Empty: all compile.
const STILL_UNSUPPORTED: &[(&str, &str)] = &[];

#[test]
fn every_corpus_query_over_the_aks_audit_tables_compiles_unmodified() {
    let Some(root) = corpus("kql").and_then(|kql| kql.parent().map(Path::to_path_buf)) else {
        return;
    };
    let files = corpus_queries_files(&root);
    let schema = Schema::builtin();
    let (mut compiled, mut failures) = (Vec::new(), Vec::new());
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        for query in queries_of(path, &text) {
            if !reads_aks_audit_tables(&query) {
                continue;
            }
            match kqlc::compile(&query, &schema) {
                Ok(_) => compiled.push(name.clone()),
                Err(diagnostics) => {
                    let known = STILL_UNSUPPORTED
                        .iter()
                        .any(|(file, _)| name.ends_with(file));
                    if !known {
                        failures.push(format!("{name}: {}", diagnostics[0].message));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!(
        "{} corpus queries over AKSAudit, AKSAuditAdmin and AzureDiagnostics (kube-audit) compile",
        compiled.len()
    );
    // 1 AKSAudit and 2 AKSAuditAdmin examples of the table reference, 2
    // Sentinel hunting queries, 2 Azure Monitor community / AKS docs
    // queries over AzureDiagnostics.
    assert!(compiled.len() >= 7, "{compiled:#?}");
}

// ---------------------------------------------------------------------------
// A mixed pack

/// A `.kql` rule over `CloudAuditEvents`, in the pack's own words.
const MIXED_PACK_KQL: &str = "// @id exec-any-platform
// @name Exec into a pod (CloudAuditEvents)
// @severity Medium
CloudAuditEvents
| where RawEventData.ObjectRef.subresource == \"exec\"
| project Id = tostring(RawEventData.AuditId), Platform = DataSource
";

/// A Sentinel analytic rule over `AKSAudit`.
const MIXED_PACK_AKSAUDIT: &str = "id: 0f3c9a51-8a4e-4c55-9a7e-7d2b1c3e4f01
name: Secrets touched (AKSAudit)
severity: Medium
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics:
  - CredentialAccess
relevantTechniques:
  - T1552
query: |
  AKSAudit
  | where ObjectRef.resource == \"secrets\"
  | project Id = AuditId, Verb, User = tostring(User.username)
kind: Scheduled
";

/// A Sentinel analytic rule over `AzureDiagnostics` (kube-audit-admin).
const MIXED_PACK_DIAGNOSTICS: &str = "id: 0f3c9a51-8a4e-4c55-9a7e-7d2b1c3e4f02
name: Admin audit events (AzureDiagnostics)
severity: Low
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics:
  - Discovery
query: |
  AzureDiagnostics
  | where Category == \"kube-audit-admin\"
  | extend Event = parse_json(log_s)
  | project Id = tostring(Event.auditID), Verb = tostring(Event.verb)
kind: Scheduled
";

#[test]
fn a_mixed_pack_of_kql_sentinel_yaml_over_two_tables_and_sigma_is_one_detector_tagging_each_rules_rows(
) {
    // Issue 17: `.kql`, Sentinel YAML over `AKSAudit` and over
    // `AzureDiagnostics`, and SigmaHQ rules (upstream audit and GKE), built
    // by `kqlc build` into one detector, over native events of four
    // platforms in one stream.
    let Some(sigma) = corpus("sigma/SigmaHQ-sigma/rules") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("pack");
    std::fs::create_dir(&pack).unwrap();
    std::fs::write(pack.join("exec.kql"), MIXED_PACK_KQL).unwrap();
    std::fs::write(pack.join("secrets-aksaudit.yaml"), MIXED_PACK_AKSAUDIT).unwrap();
    std::fs::write(pack.join("admin-diagnostics.yaml"), MIXED_PACK_DIAGNOSTICS).unwrap();
    for rule in [
        "application/kubernetes/audit/kubernetes_audit_exec_into_container.yml",
        "cloud/gcp/audit/gcp_kubernetes_secrets_modified_or_deleted.yml",
    ] {
        let from = sigma.join(rule);
        std::fs::copy(&from, pack.join(from.file_name().unwrap())).unwrap();
    }
    let binary = dir.path().join("mixed");
    let built = kqlc()
        .arg("build")
        .arg(&pack)
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );

    // The four lines of MIXED_INPUT (AKS diagnostic setting, upstream
    // audit, EKS as CloudAuditEvents, Azure activity), then GKE's own
    // Cloud Audit Logs: a secrets delete and a near miss (a secrets get).
    let gke = |method: &str, id: &str| {
        format!(
            r#"{{"insertId":"{id}","logName":"projects/p/logs/cloudaudit.googleapis.com%2Factivity","protoPayload":{{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{{"principalEmail":"dan@example.com"}},"methodName":"{method}","requestMetadata":{{"callerIp":"203.0.113.7"}},"resourceName":"core/v1/namespaces/default/secrets/x","serviceName":"k8s.io","status":{{"code":0}}}},"resource":{{"labels":{{"cluster_name":"gke-prod","location":"us-central1","project_id":"p"}},"type":"k8s_cluster"}},"timestamp":"2024-05-28T10:04:00Z"}}"#
        )
    };
    let input = dir.path().join("mixed.jsonl");
    std::fs::write(
        &input,
        format!(
            "{MIXED_INPUT}{}\n{}\n",
            gke("io.k8s.core.v1.secrets.delete", "gke-1"),
            gke("io.k8s.core.v1.secrets.get", "gke-2")
        ),
    )
    .unwrap();
    let output = Command::new(&binary)
        .arg(&input)
        .args(["--now", NOW])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    // Each rule's rows, by the event's id, in input order.
    let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let id = row.get("Id").or_else(|| row.get("ReportId")).unwrap();
        ids.entry(row["_rule"].as_str().unwrap().to_string())
            .or_default()
            .push(id.as_str().unwrap().to_string());
    }
    let expected: BTreeMap<String, Vec<String>> = [
        // .kql over CloudAuditEvents: the exec in the AKS diagnostic line.
        ("exec-any-platform", &["aks-1"][..]),
        // Sentinel YAML over AKSAudit: every platform's secrets events,
        // the GKE near miss of the Sigma rule included.
        (
            "0f3c9a51-8a4e-4c55-9a7e-7d2b1c3e4f01",
            &["k8s-1", "eks-1", "gke-1", "gke-2"][..],
        ),
        // Sentinel YAML over AzureDiagnostics, category kube-audit-admin.
        ("0f3c9a51-8a4e-4c55-9a7e-7d2b1c3e4f02", &["aks-1"][..]),
        // SigmaHQ: exec into a container (upstream audit log source).
        ("a1b0ca4e-7835-413e-8471-3ff2b8a66be6", &["aks-1"][..]),
        // SigmaHQ: GKE secrets modified or deleted; the get is a near miss.
        ("2f0bae2d-bf20-4465-be86-1311addebaa3", &["gke-1"][..]),
    ]
    .into_iter()
    .map(|(rule, ids)| {
        (
            rule.to_string(),
            ids.iter().map(|s| s.to_string()).collect(),
        )
    })
    .collect();
    assert_eq!(ids, expected, "{stdout}\n{stderr}");
    for row in [
        r#"{"_rule":"exec-any-platform","Id":"aks-1","Platform":"Azure Kubernetes Service"}"#,
        r#"{"_rule":"0f3c9a51-8a4e-4c55-9a7e-7d2b1c3e4f02","Id":"aks-1","Verb":"create"}"#,
        r#"{"_rule":"0f3c9a51-8a4e-4c55-9a7e-7d2b1c3e4f01","Id":"gke-1","Verb":"delete","User":"dan@example.com"}"#,
    ] {
        assert!(stdout.lines().any(|line| line == row), "{row}\n{stdout}");
    }
    assert!(
        stderr.contains("6 rows read, 0 rejected, 8 emitted")
            && stderr.contains("by format: cloudaudit=1, k8s=1, aks=1, gke=2, arm=1"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// The corpus queries run, against twins over CloudAuditEvents

/// A corpus query over an AKS table, and its twin over `CloudAuditEvents`
/// written from the column mapping of `docs/input-formats.md`: the rows
/// each gives are compared by key, the listed fields of each row (a field
/// `log_s.K` is member `K` of the row's `log_s`, parsed).
struct Twin {
    /// The corpus file, by the end of its path.
    file: &'static str,
    /// Which query of the file (Markdown pages hold several).
    index: usize,
    /// The same detection over `CloudAuditEvents`.
    twin: &'static str,
    /// The corpus rows' key fields.
    corpus_key: &'static [&'static str],
    /// The twin rows' key fields, in the same order.
    twin_key: &'static [&'static str],
}

/// `_ResourceId` of the AKS tables, from `CloudAuditEvents`' `ResourceId`,
/// else `AzureResourceId` (an Arc-connected on-premises cluster), lower-cased
/// when it is an Azure id.
macro_rules! lowered_azure_id {
    () => {
        r#"iff(isempty(ResourceId), iff(AzureResourceId startswith "/subscriptions/", tolower(AzureResourceId), AzureResourceId), iff(ResourceId startswith "/subscriptions/", tolower(ResourceId), ResourceId))"#
    };
}

/// `Category` of `AzureDiagnostics`, from `CloudAuditEvents`.
macro_rules! category {
    () => {
        r#"iff(isempty(tostring(AdditionalFields.Category)), "kube-audit", tostring(AdditionalFields.Category))"#
    };
}

const TWINS: &[Twin] = &[
    Twin {
        file: "azure-monitor-ref/queries/aksaudit.md",
        index: 0,
        twin: concat!(
            r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where RawEventData.ResponseStatus.code != 401
| mv-expand SourceIps = RawEventData.SourceIPs
| summarize Count = count() by SourceIp = tostring(SourceIps), ResourceId = "#,
            lowered_azure_id!(),
            "\n| sort by Count desc"
        ),
        corpus_key: &["Count", "SourceIp", "ResourceId"],
        twin_key: &["Count", "SourceIp", "ResourceId"],
    },
    Twin {
        file: "azure-monitor-ref/queries/aksauditadmin.md",
        index: 0,
        twin: concat!(
            r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager" and tostring(RawEventData.Verb) !in ("get", "list", "watch")
| where RawEventData.ResponseStatus.code != 401
| summarize Count = count() by Username = tostring(RawEventData.User.username), ResourceId = "#,
            lowered_azure_id!(),
            "\n| sort by Count desc"
        ),
        corpus_key: &["Count", "Username", "ResourceId"],
        twin_key: &["Count", "Username", "ResourceId"],
    },
    Twin {
        file: "azure-monitor-ref/queries/aksauditadmin.md",
        index: 1,
        twin: r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager" and tostring(RawEventData.Verb) !in ("get", "list", "watch")
| where RawEventData.ObjectRef.resource == "deployments"
| where RawEventData.ObjectRef.namespace == "default"
| where RawEventData.User.username != "system:serviceaccount:kube-system:deployment-controller"
| limit 100
| project TimeGenerated = Timestamp, Verb = tostring(RawEventData.Verb), RequestUri = tostring(RawEventData.RequestURI), User = RawEventData.User, RequestObject = RawEventData.RequestObject, ObjectRef = RawEventData.ObjectRef"#,
        corpus_key: &[
            "TimeGenerated",
            "Verb",
            "RequestUri",
            "User",
            "RequestObject",
            "ObjectRef",
        ],
        twin_key: &[
            "TimeGenerated",
            "Verb",
            "RequestUri",
            "User",
            "RequestObject",
            "ObjectRef",
        ],
    },
    Twin {
        file: "Hunting Queries/AKS-Rbac.yaml",
        index: 0,
        twin: concat!(
            r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where "#,
            category!(),
            r#" == "kube-audit"
| where RawEventData.Verb == "create"
| where RawEventData.Annotations["authorization.k8s.io/decision"] == "allow"
| project AuditId = tostring(RawEventData.AuditId)"#
        ),
        corpus_key: &["log_s.auditID"],
        twin_key: &["AuditId"],
    },
    Twin {
        file: "Hunting Queries/AKS-clusterrolebinding.yaml",
        index: 0,
        twin: concat!(
            r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where "#,
            category!(),
            r#" == "kube-audit"
| where RawEventData.Verb == "create"
| where RawEventData.RequestObject.roleRef.name == "cluster-admin"
| where RawEventData.RequestObject.kind == "ClusterRoleBinding"
| project AuditId = tostring(RawEventData.AuditId), k8skind = RawEventData.RequestObject.kind, k8sroleref = RawEventData.RequestObject.roleRef.name, k8suser = RawEventData.User.username, k8sipaddress = RawEventData.SourceIPs[0]"#
        ),
        corpus_key: &[
            "log_s.auditID",
            "k8skind",
            "k8sroleref",
            "k8suser",
            "k8sipaddress",
        ],
        twin_key: &[
            "AuditId",
            "k8skind",
            "k8sroleref",
            "k8suser",
            "k8sipaddress",
        ],
    },
    Twin {
        file: "Queries/Audit/kube-audit.kql",
        index: 0,
        twin: concat!(
            r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where "#,
            category!(),
            r#" == "kube-audit" and RawEventData.Level == "RequestResponse"
| order by Timestamp desc
| project AuditId = tostring(RawEventData.AuditId), Verb = tostring(RawEventData.Verb)"#
        ),
        corpus_key: &["log_s.auditID", "log_s.verb"],
        twin_key: &["AuditId", "Verb"],
    },
    Twin {
        file: "articles/aks/pci-monitor.kql",
        index: 0,
        twin: concat!(
            r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where "#,
            category!(),
            r#" == "kube-audit-admin"
| project TimeGenerated = Timestamp, ResourceId, AuditId = tostring(RawEventData.AuditId), pod_s = tostring(AdditionalFields.Pod)
| top 200 by TimeGenerated desc"#
        ),
        corpus_key: &["TimeGenerated", "ResourceId", "log_s.auditID", "pod_s"],
        twin_key: &["TimeGenerated", "ResourceId", "AuditId", "pod_s"],
    },
];

/// The key of a row: its `fields`, as one JSON array.
fn row_key(row: &str, fields: &[&str]) -> String {
    let row: serde_json::Value = serde_json::from_str(row).unwrap();
    let key: Vec<serde_json::Value> = fields
        .iter()
        .map(|field| match field.strip_prefix("log_s.") {
            Some(member) => {
                let log = row["log_s"].as_str().unwrap_or_else(|| {
                    panic!("no log_s text in {row}");
                });
                let event: serde_json::Value = serde_json::from_str(log).unwrap();
                event[member].clone()
            }
            None => row
                .get(*field)
                .unwrap_or_else(|| panic!("no column {field} in {row}"))
                .clone(),
        })
        .collect();
    serde_json::Value::Array(key).to_string()
}

/// `kqlc sample --events 20000` of one `source` in `format`.
fn sample_of(dir: &Path, source: &str, format: &str) -> PathBuf {
    let path = dir.join(format!("{source}-{format}.jsonl"));
    let status = kqlc()
        .args(["sample", "--events", "20000", "--source", source])
        .args(["--format", format, "--now", NOW, "-o"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "kqlc sample --source {source} --format {format}"
    );
    path
}

#[test]
fn corpus_queries_over_the_aks_tables_find_what_their_cloudauditevents_twins_find_in_every_native_format(
) {
    let Some(root) = corpus("kql").and_then(|kql| kql.parent().map(Path::to_path_buf)) else {
        return;
    };
    // Each twin's corpus query, read from the corpus unmodified.
    let files = corpus_queries_files(&root);
    let mut named: Vec<(String, String)> = Vec::new();
    for (i, twin) in TWINS.iter().enumerate() {
        let path = files
            .iter()
            .find(|p| p.to_string_lossy().ends_with(twin.file))
            .unwrap_or_else(|| panic!("{} is not in the corpus", twin.file));
        let text = std::fs::read_to_string(path).unwrap();
        let query = queries_of(path, &text)
            .into_iter()
            .nth(twin.index)
            .unwrap_or_else(|| panic!("{} has no query {}", twin.file, twin.index));
        assert!(reads_aks_audit_tables(&query), "{}: {query}", twin.file);
        named.push((format!("corpus_{i}"), query));
        named.push((format!("twin_{i}"), twin.twin.to_string()));
    }
    let named: Vec<(&str, &str)> = named
        .iter()
        .map(|(n, q)| (n.as_str(), q.as_str()))
        .collect();
    let binary = Toolchain::discover()
        .unwrap()
        .build(&rules(&named), Profile::Quick)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Rows found per twin over all inputs, so that no comparison is of two
    // empty sets only.
    let mut found = vec![0usize; TWINS.len()];
    for (source, format) in [
        ("aks", "native"),
        ("eks", "native"),
        ("gke", "native"),
        ("onprem", "native"),
        ("mixed", "native"),
        ("mixed", "cloudaudit"),
    ] {
        let input = sample_of(dir.path(), source, format);
        let (rows, stderr, status) = run(&binary, &input, &[]);
        assert_eq!(status, Some(0), "{source} {format}: {stderr}");
        if source == "mixed" {
            // Neither the prefilter nor the lazy reader changes a row.
            let (again, _, _) = run(&binary, &input, &["--no-prefilter"]);
            assert!(again == rows, "{source} {format}: --no-prefilter differs");
        }
        for (i, twin) in TWINS.iter().enumerate() {
            let keys = |rule: String, fields: &[&str]| {
                let mut keys: Vec<String> = rows
                    .get(&rule)
                    .into_iter()
                    .flatten()
                    .map(|row| row_key(row, fields))
                    .collect();
                keys.sort();
                keys
            };
            let corpus = keys(format!("corpus_{i}"), twin.corpus_key);
            let expected = keys(format!("twin_{i}"), twin.twin_key);
            let only = |a: &[String], b: &[String]| -> Vec<String> {
                a.iter()
                    .filter(|k| !b.contains(k))
                    .take(3)
                    .cloned()
                    .collect()
            };
            assert!(
                corpus == expected,
                "{source} {format}: {} query {} gives {} rows, its twin over CloudAuditEvents {}; only in the corpus query's: {:?}; only in the twin's: {:?}",
                twin.file,
                twin.index,
                corpus.len(),
                expected.len(),
                only(&corpus, &expected),
                only(&expected, &corpus)
            );
            found[i] += corpus.len();
        }
    }
    for (i, twin) in TWINS.iter().enumerate() {
        eprintln!(
            "{} query {}: {} rows in all",
            twin.file, twin.index, found[i]
        );
        assert!(
            found[i] > 0,
            "{} query {} never fired: the comparison proves nothing",
            twin.file,
            twin.index
        );
    }
}
