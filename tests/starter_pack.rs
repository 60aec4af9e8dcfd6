//! The starter rule pack in `rules/`: every rule's `kqlc test` fixtures
//! pass (positive and negative, in each native format), and the whole pack
//! builds into one detector that finds each rule's positives, in every
//! format at once, and nothing in the near misses.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

const NOW: &str = "2024-05-28T12:00:00Z";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn kqlc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kqlc"))
}

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
