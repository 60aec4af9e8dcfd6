//! The starter rule pack in `rules/`: every rule's `kqlc test` fixtures
//! pass (positive and negative, in each native format), and the whole pack
//! builds into one detector that finds each rule's positives, in every
//! format at once, and nothing in the near misses.

use crate::common::{kqlc, repo, NOW};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The rules' fixture inputs named `FORMAT-KIND.input.jsonl`, per rule id.
fn fixtures(kind: &str) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(repo().join("rules")).unwrap() {
        let folder = entry.unwrap().path();
        let Some(name) = folder.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some(stem) = name.strip_suffix(".tests") else {
            continue;
        };
        let rule =
            std::fs::read_to_string(repo().join("rules").join(format!("{stem}.kql"))).unwrap();
        let id = rule
            .lines()
            .find_map(|l| l.strip_prefix("// @id "))
            .unwrap_or_else(|| panic!("{stem}.kql has no @id"))
            .trim()
            .to_string();
        for file in std::fs::read_dir(&folder).unwrap() {
            let path = file.unwrap().path();
            let file_name = path.file_name().unwrap().to_str().unwrap().to_string();
            if file_name.ends_with(&format!("-{kind}.input.jsonl")) {
                found.push((id.clone(), path));
            }
        }
    }
    found.sort();
    found
}

/// The pack built once into a detector (the hardened `kqlc build`).
fn detector() -> &'static Path {
    static BUILT: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, binary) = BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("starter");
        let output = kqlc()
            .arg("build")
            .arg(repo().join("rules"))
            .arg("-o")
            .arg(&binary)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "kqlc build rules/: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        (dir, binary)
    });
    binary
}

fn run_detector(args: &[&str], inputs: &[PathBuf]) -> Vec<serde_json::Value> {
    let output = Command::new(detector())
        .args(args)
        .args(["--now", NOW])
        .args(inputs)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn every_rule_of_the_starter_pack_passes_its_fixtures() {
    let output = kqlc()
        .arg("test")
        .arg(repo().join("rules"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    // Each rule has a positive and a negative test in upstream Kubernetes
    // and in at least one cloud's format.
    for kind in ["positive", "negative"] {
        let mut formats: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
        for (id, path) in fixtures(kind) {
            let name = path.file_name().unwrap().to_str().unwrap();
            let format = name.split('-').next().unwrap().to_string();
            formats.entry(id).or_default().insert(format);
        }
        assert_eq!(formats.len(), 12, "{kind}: {formats:?}");
        for (id, formats) in &formats {
            assert!(formats.contains("k8s"), "{id} has no k8s {kind} test");
            assert!(
                formats
                    .iter()
                    .any(|f| ["aks", "eks", "gke"].contains(&f.as_str())),
                "{id} has no cloud {kind} test"
            );
        }
    }
}

#[test]
fn the_built_pack_finds_every_positive_in_every_format_and_no_near_miss() {
    let positives = fixtures("positive");
    let inputs: Vec<PathBuf> = positives.iter().map(|(_, p)| p.clone()).collect();
    let alerts = run_detector(&["--output", "alerts"], &inputs);
    let fired: BTreeSet<&str> = alerts
        .iter()
        .map(|a| a["rule"]["id"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = positives.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(fired, expected);
    // Each positive input's alerts are its rule's expected rows, in every format.
    let expected_rows: usize = inputs
        .iter()
        .map(|p| {
            let expected = p
                .to_str()
                .unwrap()
                .replace(".input.jsonl", ".expected.jsonl");
            std::fs::read_to_string(expected).unwrap().lines().count()
        })
        .sum();
    let own: usize = alerts
        .iter()
        .filter(|a| {
            let file = a["input"]["file"].as_str().unwrap();
            positives
                .iter()
                .any(|(id, p)| p.to_str() == Some(file) && a["rule"]["id"] == id.as_str())
        })
        .count();
    assert_eq!(own, expected_rows);
    for alert in &alerts {
        let rule = &alert["rule"];
        assert!(rule["severity"].is_string(), "{alert}");
        assert!(!rule["tactics"].as_array().unwrap().is_empty(), "{alert}");
        assert!(
            !rule["techniques"].as_array().unwrap().is_empty(),
            "{alert}"
        );
    }

    let negatives = fixtures("negative");
    let inputs: Vec<PathBuf> = negatives.iter().map(|(_, p)| p.clone()).collect();
    // A near miss of one rule may be another rule's match (an anonymous
    // user's refused list of secrets is not, Alice's list is); none may be
    // its own rule's.
    for alert in run_detector(&["--output", "alerts"], &inputs) {
        let file = alert["input"]["file"].as_str().unwrap();
        let (id, _) = negatives
            .iter()
            .find(|(_, p)| p.to_str() == Some(file))
            .unwrap();
        assert_ne!(alert["rule"]["id"], id.as_str(), "{alert}");
    }
}

/// The schema of `--output ocsf` lines, with formats (`ipv4`) checked.
fn ocsf_validator() -> jsonschema::Validator {
    let text =
        std::fs::read_to_string(repo().join("docs/ocsf-detection-finding.schema.json")).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[test]
fn ocsf_output_is_detection_findings_that_validate_against_the_schema() {
    let validator = ocsf_validator();
    let positives = fixtures("positive");
    let inputs: Vec<PathBuf> = positives.iter().map(|(_, p)| p.clone()).collect();
    let findings = run_detector(&["--output", "ocsf"], &inputs);
    let alerts = run_detector(&["--output", "alerts"], &inputs);
    assert_eq!(findings.len(), alerts.len());
    for finding in &findings {
        let errors: Vec<String> = validator
            .iter_errors(finding)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{finding}");
    }
    // One finding, checked field by field: the cluster-admin binding in
    // upstream Kubernetes format.
    let finding = findings
        .iter()
        .find(|f| {
            f["finding_info"]["analytic"]["uid"] == "k8s-cluster-admin-binding"
                && f["unmapped"]["input"]["file"]
                    .as_str()
                    .unwrap()
                    .ends_with("k8s-positive.input.jsonl")
        })
        .expect("a cluster-admin binding finding");
    assert_eq!(finding["class_uid"], 2004);
    assert_eq!(finding["category_uid"], 2);
    assert_eq!(finding["type_uid"], 200401);
    assert_eq!(finding["severity_id"], 4);
    assert_eq!(finding["time"], 1_716_890_460_000i64); // 2024-05-28T10:01:00Z
    assert_eq!(finding["metadata"]["product"]["name"], "kqlc");
    let info = &finding["finding_info"];
    assert_eq!(
        info["uid"],
        "k8s-cluster-admin-binding:5e0a7d2c-1b3f-4c6d-8e9f-000000000000"
    );
    assert_eq!(info["title"], "Binding to cluster-admin created or changed");
    assert!(info["desc"]
        .as_str()
        .unwrap()
        .starts_with("A ClusterRoleBinding"));
    let attacks = info["attacks"].as_array().unwrap();
    assert!(attacks
        .iter()
        .any(|a| a["tactic"]["uid"] == "TA0003" && a["tactic"]["name"] == "Persistence"));
    assert!(attacks.iter().any(|a| a["technique"]["uid"] == "T1098"
        && a["sub_technique"]["uid"] == "T1098.006"
        && a["sub_technique"]["name"] == "Additional Container Cluster Roles"));
    assert_eq!(
        finding["evidences"][0]["actor"]["user"]["name"],
        "mallory@contoso.com"
    );
    assert_eq!(
        finding["evidences"][0]["src_endpoint"]["ip"],
        "198.51.100.77"
    );
    assert_eq!(
        finding["resources"][0]["uid"],
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/break-glass"
    );
    let observed: BTreeSet<(i64, &str)> = finding["observables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["type_id"].as_i64().unwrap(), o["value"].as_str().unwrap()))
        .collect();
    assert!(
        observed.contains(&(4, "mallory@contoso.com")),
        "{observed:?}"
    );
    assert!(observed.contains(&(2, "198.51.100.77")), "{observed:?}");
    let raw: serde_json::Value =
        serde_json::from_str(finding["raw_data"].as_str().unwrap()).unwrap();
    assert_eq!(raw["RequestObject"]["roleRef"]["name"], "cluster-admin");
    assert_eq!(finding["unmapped"]["row"]["Name"], "break-glass");

    // The namespace observable of a namespaced event, in a cloud format.
    let secrets = findings
        .iter()
        .find(|f| {
            f["finding_info"]["analytic"]["uid"] == "k8s-secrets-access"
                && f["finding_info"]["data_sources"][0] == "Google Kubernetes Engine"
                && f["unmapped"]["input"]["file"]
                    .as_str()
                    .unwrap()
                    .contains("secrets-access.tests")
        })
        .expect("a GKE secrets finding");
    assert_eq!(secrets["resources"][0]["namespace"], "kube-system");
    assert_eq!(secrets["metadata"]["log_name"], "Google Kubernetes Engine");
}

#[test]
fn the_ocsf_schema_rejects_a_finding_without_its_required_attributes() {
    let validator = ocsf_validator();
    let good = serde_json::json!({
        "activity_id": 1, "category_uid": 2, "class_uid": 2004, "type_uid": 200401,
        "severity_id": 3, "time": 1716890400000i64,
        "metadata": {"version": "1.8.0", "product": {"name": "kqlc"}},
        "finding_info": {"uid": "r:1"}
    });
    assert!(validator.is_valid(&good));
    for (path, bad) in [
        ("finding_info", serde_json::Value::Null),
        ("class_uid", serde_json::json!(2001)),
        ("time", serde_json::json!("2024-05-28T10:00:00Z")),
        ("severity_id", serde_json::json!(7)),
        ("metadata", serde_json::json!({"version": "1.8.0"})),
    ] {
        let mut finding = good.clone();
        if bad.is_null() {
            finding.as_object_mut().unwrap().remove(path);
        } else {
            finding[path] = bad;
        }
        assert!(!validator.is_valid(&finding), "{path}: {finding}");
    }
}
