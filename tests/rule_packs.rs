//! Rule packs end to end: `.kql` and Sentinel YAML rules built into one
//! hardened static binary with its manifest and SBOM, id clashes and broken
//! files reported with their names, `kqlc test` on the reference rules'
//! fixtures (and on a wrong expectation), reproducible builds, and a build
//! from vendored crates without network access.

use crate::common::{kqlc, repo, stderr, stdout, NOW};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether this host can make static builds (x86-64 Linux gnu).
fn static_host() -> bool {
    cfg!(all(
        target_arch = "x86_64",
        target_os = "linux",
        target_env = "gnu"
    ))
}

/// A tiny rule, so cold builds compile as little of their own as possible.
const TINY_RULE: &str = "// @id tiny\n// @name Deletes\n// @severity Low\nCloudAuditEvents\n| where OperationName == \"delete\"\n| project Timestamp, OperationName\n";

#[test]
fn a_mixed_pack_of_kql_and_sentinel_yaml_builds_into_one_static_binary_with_manifest_and_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("pack");
    let pack = repo().join("tests/fixtures/rules/pack");
    let output = kqlc()
        .arg("build")
        .arg(repo().join("examples/rules"))
        .arg(&pack)
        .arg("-o")
        .arg(&binary)
        .arg("--sbom")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(
            "cluster-admin-by-anyone.yaml: ignored fields: requiredDataConnectors, entityMappings"
        ),
        "the ignored Sentinel fields are noted: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).contains(
            "cluster-admin-by-anyone.yaml: the rule keeps no state: in a live detector it runs on each event as it arrives"
        ),
        "a stateless rule's schedule is noted as unused: {}",
        stderr(&output)
    );

    // The manifest lists every rule with the hash of its file.
    let manifest = json(&dir.path().join("pack.manifest.json"));
    let rules = manifest["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "cluster-admin-binding",
            "exec-in-kube-system",
            "privileged-pod",
            "5b7d2a4e-1c3f-4e8a-9b6d-2f0a1c3e5d70",
            "K8S-EXEC-ANY"
        ]
    );
    let files = [
        repo().join("examples/rules/cluster-admin-binding.kql"),
        repo().join("examples/rules/exec-in-kube-system.kql"),
        repo().join("examples/rules/privileged-pod.kql"),
        pack.join("cluster-admin-by-anyone.yaml"),
        pack.join("exec-anywhere.kql"),
    ];
    for (rule, file) in rules.iter().zip(&files) {
        assert_eq!(rule["sha256"], sha256_file(file), "{}", file.display());
    }
    let yaml = &rules[3];
    assert_eq!(yaml["name"], "Cluster-admin granted (any platform)");
    assert_eq!(yaml["severity"], "High");
    assert_eq!(
        yaml["tactics"],
        serde_json::json!(["PrivilegeEscalation", "Persistence"])
    );
    assert_eq!(yaml["techniques"], serde_json::json!(["T1098", "T1078"]));
    let kql = &rules[4];
    assert_eq!(kql["name"], "Exec into a pod");
    assert_eq!(kql["severity"], "Medium");
    assert_eq!(kql["techniques"], serde_json::json!(["T1609"]));
    assert_eq!(manifest["profile"], "release");
    assert_eq!(manifest["static"], static_host());

    // Every rule runs; rows are tagged with the rule ids.
    let run = Command::new(&binary)
        .arg(repo().join("examples/data/audit.jsonl"))
        .args(["--now", NOW])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let rows = stdout(&run);
    for id in &ids {
        assert!(
            rows.contains(&format!("{{\"_rule\":\"{id}\"")),
            "no row of {id}:\n{rows}"
        );
    }

    // Static: no shared library at all (static-pie says "statically linked").
    if static_host() {
        let ldd = Command::new("ldd").arg(&binary).output();
        if let Ok(ldd) = ldd {
            let said = format!("{}{}", stdout(&ldd), stderr(&ldd));
            assert!(
                said.contains("not a dynamic executable") || said.contains("statically linked"),
                "ldd: {said}"
            );
        }
    }

    // The SBOM names the runtime and its crates with checksums.
    let sbom = json(&dir.path().join("pack.cdx.json"));
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["specVersion"], "1.5");
    let components = sbom["components"].as_array().unwrap();
    let find = |name: &str| components.iter().find(|c| c["name"] == name);
    let runtime = find("kql-runtime").expect("kql-runtime in the SBOM");
    assert_eq!(runtime["scope"], "required");
    let regex = find("regex").expect("regex in the SBOM");
    assert_eq!(regex["scope"], "required");
    assert_eq!(regex["hashes"][0]["alg"], "SHA-256");
    assert!(regex["purl"]
        .as_str()
        .unwrap()
        .starts_with("pkg:cargo/regex@"));
    if let Some(derive) = find("serde_derive") {
        assert_eq!(derive["scope"], "excluded", "a proc-macro is not shipped");
    }
}

#[test]
fn two_rules_with_one_id_are_an_error_naming_both_files() {
    let dir = repo().join("tests/fixtures/rules/duplicate");
    let output = kqlc().arg("check").arg(&dir).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("two rules have the id 'K8S-DUP'"),
        "{message}"
    );
    assert!(message.contains("privileged-pod.kql"), "{message}");
    assert!(message.contains("privileged-pod-again.yaml"), "{message}");
    // The same for `build`, before anything is compiled.
    let output = kqlc()
        .arg("build")
        .arg(&dir)
        .args(["-o", "/nonexistent/never-written"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("two rules have the id 'K8S-DUP'"));
}

#[test]
fn broken_yaml_and_a_missing_query_are_reported_together_with_their_files() {
    let output = kqlc()
        .arg("check")
        .arg(repo().join("tests/fixtures/rules/broken"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.contains("broken.yaml: not valid YAML: "),
        "{message}"
    );
    assert!(
        message.contains("no-query.yaml: no 'query' field"),
        "{message}"
    );
    let missing = kqlc()
        .args(["check", "no/such/rule.yaml"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no/such/rule.yaml: "),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn sentinel_rules_from_the_corpus_load_with_their_metadata_and_parse() {
    let corpus = repo().join("../shared/corpus/kql/Azure-Azure-Sentinel");
    if !corpus.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{} is missing and CI is set",
            corpus.display()
        );
        eprintln!("skipped: {} is missing", corpus.display());
        return;
    }
    let pack = kqlc_cli::rules::load(std::slice::from_ref(&corpus)).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert!(pack.rules.len() >= 20, "{} rules", pack.rules.len());
    for rule in &pack.rules {
        let file = rule.path.display();
        assert_eq!(rule.format, kqlc_cli::rules::RuleFormat::SentinelYaml);
        assert_eq!(
            rule.meta.id.len(),
            36,
            "{file}: a GUID id, got {}",
            rule.meta.id
        );
        assert_ne!(rule.meta.name, rule.meta.id, "{file}: has a name");
        assert!(!rule.meta.tactics.is_empty(), "{file}: has tactics");
        assert!(!rule.kql.trim().is_empty(), "{file}: has a query");
        if let Err(diagnostic) = kqlc::syntax::parse(&rule.kql) {
            panic!(
                "{}",
                diagnostic.render(&rule.query_origin(), &rule.kql, false)
            );
        }
    }
    let aks = pack
        .rules
        .iter()
        .find(|r| r.meta.id == "c3ac03d5-dbf2-49ab-a2de-83396a20a5fb")
        .expect("AKS-clusterrolebinding.yaml");
    assert_eq!(aks.meta.name, "AKS find cluster-admin clusterrolebinding");
    assert_eq!(aks.meta.severity.as_deref(), Some("Medium"));
    assert_eq!(aks.meta.tactics, ["Persistence"]);
    assert_eq!(aks.meta.techniques, ["T1098"]);
    assert!(aks.kql.trim_start().starts_with("AzureDiagnostics"));
    assert!(
        pack.notes
            .iter()
            .any(|n| n
                .contains("AKS-clusterrolebinding.yaml: ignored fields: requiredDataConnectors"))
    );
}

#[test]
fn kqlc_test_passes_on_the_reference_rules_fixtures() {
    let output = kqlc()
        .arg("test")
        .arg(repo().join("examples/rules"))
        .output()
        .unwrap();
    let report = stdout(&output);
    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    for rule in [
        "privileged-pod",
        "exec-in-kube-system",
        "cluster-admin-binding",
    ] {
        for case in ["positive", "negative"] {
            assert!(
                report.contains(&format!("PASS {rule}/{case}\n")),
                "{rule}/{case}:\n{report}"
            );
        }
    }
    assert!(
        report.ends_with("rule tests: 6 passed, 0 failed\n"),
        "{report}"
    );
}

#[test]
fn kqlc_test_fails_with_a_readable_diff_on_a_wrong_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("privileged-pod.kql");
    std::fs::copy(repo().join("examples/rules/privileged-pod.kql"), &rule).unwrap();
    let tests = dir.path().join("privileged-pod.tests");
    std::fs::create_dir(&tests).unwrap();
    let source = repo().join("examples/rules/privileged-pod.tests");
    std::fs::copy(
        source.join("positive.input.jsonl"),
        tests.join("positive.input.jsonl"),
    )
    .unwrap();
    // The first row's user is wrong, and a row that will not come is added.
    let expected = std::fs::read_to_string(source.join("positive.expected.jsonl"))
        .unwrap()
        .replacen(
            "\"Username\":\"alice@contoso.com\"",
            "\"Username\":\"mallory@contoso.com\"",
            1,
        )
        + "{\"Timestamp\":\"2024-05-28T11:00:00Z\",\"PodName\":\"ghost\"}\n";
    std::fs::write(tests.join("positive.expected.jsonl"), expected).unwrap();
    std::fs::copy(
        source.join("negative.input.jsonl"),
        tests.join("negative.input.jsonl"),
    )
    .unwrap();
    std::fs::write(tests.join("negative.expected.jsonl"), "").unwrap();

    let output = kqlc().arg("test").arg(&rule).output().unwrap();
    let report = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{report}\n{}",
        stderr(&output)
    );
    assert!(
        report.contains("PASS privileged-pod/negative\n"),
        "{report}"
    );
    assert!(
        report.contains("FAIL privileged-pod/positive\n"),
        "{report}"
    );
    assert!(report.contains("rows differ (- expected in "), "{report}");
    assert!(
        report.contains("  - {\"Timestamp\":\"2024-05-28T09:12:44.5Z\""),
        "{report}"
    );
    assert!(
        report.contains("  + {\"Timestamp\":\"2024-05-28T09:12:44.5Z\""),
        "{report}"
    );
    assert!(
        report.contains("~ Username: expected \"mallory@contoso.com\", got \"alice@contoso.com\""),
        "{report}"
    );
    assert!(
        report.contains("  - {\"Timestamp\":\"2024-05-28T11:00:00Z\",\"PodName\":\"ghost\"}"),
        "{report}"
    );
    assert!(
        report.ends_with("rule tests: 1 passed, 1 failed\n"),
        "{report}"
    );
}

#[test]
fn kqlc_test_without_fixtures_fails() {
    let output = kqlc()
        .arg("test")
        .arg(repo().join("tests/fixtures/rules/pack"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no rule tests found"),
        "{}",
        stderr(&output)
    );
}

/// Builds `rule` with the cache (projects, target directory) in `cache`.
fn build_in(cache: &Path, rule: &Path, extra: &[&str], envs: &[(&str, &Path)]) -> PathBuf {
    let binary = cache.join("detector");
    let mut command = kqlc();
    command
        .arg("build")
        .arg(rule)
        .arg("-o")
        .arg(&binary)
        .args(extra)
        .env("KQLC_CACHE_DIR", cache.join("kqlc"));
    for (key, value) in envs {
        command.env(key, value);
    }
    let started = Instant::now();
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    eprintln!(
        "cold build in {}: {:.1} s",
        cache.display(),
        started.elapsed().as_secs_f64()
    );
    binary
}

#[test]
fn two_cold_builds_in_different_directories_give_identical_binaries() {
    let rules = tempfile::tempdir().unwrap();
    let rule = rules.path().join("tiny.kql");
    std::fs::write(&rule, TINY_RULE).unwrap();
    let first = tempfile::tempdir().unwrap();
    // Nested deeper, so no path has the same length either.
    let second = tempfile::tempdir().unwrap();
    let second = second.path().join("somewhere/else");
    let a = build_in(first.path(), &rule, &[], &[]);
    let b = build_in(&second, &rule, &[], &[]);
    assert_eq!(
        sha256_file(&a),
        sha256_file(&b),
        "the same rule built in {} and {} differs",
        first.path().display(),
        second.display()
    );
    let manifest_a = std::fs::read_to_string(first.path().join("detector.manifest.json")).unwrap();
    let manifest_b = std::fs::read_to_string(second.join("detector.manifest.json")).unwrap();
    assert_eq!(manifest_a, manifest_b);
}

#[test]
fn an_offline_build_from_vendored_crates_succeeds() {
    let work = tempfile::tempdir().unwrap();
    let vendor = work.path().join("vendor");
    // Vendor what the workspace locks (a superset of a detector's crates),
    // as the connected machine of docs/shipping.md does: from cargo's cache,
    // downloading what is missing (crates of other platforms).
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let vendored = Command::new(&cargo)
        .args(["vendor", "--locked", "--versioned-dirs", "--manifest-path"])
        .arg(repo().join("Cargo.toml"))
        .arg(&vendor)
        .output()
        .unwrap();
    assert!(
        vendored.status.success(),
        "cargo vendor: {}",
        stderr(&vendored)
    );
    let config = stdout(&vendored);
    assert!(config.contains("[source.vendored-sources]"), "{config}");
    // A cargo home of its own, with only the source replacement in it: no
    // registry cache to fall back on.
    let cargo_home = work.path().join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    std::fs::write(cargo_home.join("config.toml"), &config).unwrap();
    let rule = work.path().join("tiny.kql");
    std::fs::write(&rule, TINY_RULE).unwrap();
    let binary = build_in(
        work.path(),
        &rule,
        &["--offline"],
        &[
            ("CARGO_HOME", &cargo_home),
            ("CARGO_NET_OFFLINE", Path::new("true")),
        ],
    );
    let run = Command::new(&binary)
        .args(["--now", NOW])
        .arg(repo().join("examples/data/audit.jsonl"))
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    assert!(
        stdout(&run).contains("\"OperationName\":\"delete\""),
        "{}",
        stdout(&run)
    );
}

/// Checks `value` against the subset of JSON Schema that
/// `docs/alerts.schema.json` uses (type, required, properties,
/// additionalProperties, items, minLength, minimum, pattern); returns every
/// violation with its JSON path.
fn schema_violations(
    schema: &serde_json::Value,
    value: &serde_json::Value,
    at: &str,
) -> Vec<String> {
    use serde_json::Value;
    let mut errors = Vec::new();
    let type_name = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    if let Some(allowed) = schema.get("type") {
        let allowed: Vec<&str> = match allowed {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let ok = allowed
            .iter()
            .any(|t| *t == type_name || (*t == "number" && type_name == "integer"));
        if !ok {
            errors.push(format!("{at}: {type_name}, expected {allowed:?}"));
            return errors;
        }
    }
    match value {
        Value::Object(map) => {
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().unwrap_or_default();
                if !map.contains_key(key) {
                    errors.push(format!("{at}: no '{key}'"));
                }
            }
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, item) in map {
                match properties.and_then(|p| p.get(key)) {
                    Some(sub) => {
                        errors.extend(schema_violations(sub, item, &format!("{at}.{key}")))
                    }
                    None if schema["additionalProperties"] == Value::Bool(false) => {
                        errors.push(format!("{at}: unexpected '{key}'"))
                    }
                    None => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    errors.extend(schema_violations(sub, item, &format!("{at}[{i}]")));
                }
            }
        }
        Value::String(s) => {
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if (s.chars().count() as u64) < min {
                    errors.push(format!("{at}: shorter than {min}"));
                }
            }
            if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
                if !regex::Regex::new(pattern).unwrap().is_match(s) {
                    errors.push(format!("{at}: '{s}' does not match {pattern}"));
                }
            }
        }
        Value::Number(n) => {
            if let (Some(min), Some(x)) =
                (schema.get("minimum").and_then(Value::as_f64), n.as_f64())
            {
                if x < min {
                    errors.push(format!("{at}: below {min}"));
                }
            }
        }
        _ => {}
    }
    errors
}

#[test]
fn the_alert_schema_accepts_a_documented_alert_and_rejects_broken_ones() {
    let schema = json(&repo().join("docs/alerts.schema.json"));
    let good: serde_json::Value = serde_json::from_str(
        r#"{"rule":{"id":"privileged-pod","name":"Privileged pod","severity":"High","tactics":["PrivilegeEscalation"],"techniques":["T1611"]},"detected_at":"2024-05-28T12:00:00Z","input":{"file":"audit.jsonl","line":2},"row":{"PodName":"debug-priv"}}"#,
    )
    .unwrap();
    assert_eq!(schema_violations(&schema, &good, "$"), Vec::<String>::new());
    let mut end_of_run = good.clone();
    end_of_run["input"] = serde_json::Value::Null;
    end_of_run["rule"]["severity"] = serde_json::Value::Null;
    assert_eq!(
        schema_violations(&schema, &end_of_run, "$"),
        Vec::<String>::new()
    );
    let mut bad = good.clone();
    bad["detected_at"] = "yesterday".into();
    bad["input"]["line"] = 0.into();
    bad["extra"] = 1.into();
    assert_eq!(schema_violations(&schema, &bad, "$").len(), 3);
}

/// Needs `DETECTOR --output alerts` (runtime/detector/src/alert.rs wired into
/// runtime/detector/src/detector.rs and the detector's generated `main`).
#[test]
fn alerts_of_a_mixed_pack_validate_against_the_published_schema() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("pack");
    let output = kqlc()
        .arg("build")
        .arg(repo().join("examples/rules"))
        .arg(repo().join("tests/fixtures/rules/pack"))
        .arg("-o")
        .arg(&binary)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let data = repo().join("examples/data/audit.jsonl");
    let run = Command::new(&binary)
        .arg(&data)
        .args(["--now", NOW, "--output", "alerts"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let schema = json(&repo().join("docs/alerts.schema.json"));
    let alerts = stdout(&run);
    assert!(alerts.lines().count() >= 13, "{alerts}");
    for line in alerts.lines() {
        let alert: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            schema_violations(&schema, &alert, "$"),
            Vec::<String>::new(),
            "{line}"
        );
        assert_eq!(alert["detected_at"], NOW);
        assert!(alert["input"]["file"]
            .as_str()
            .unwrap()
            .ends_with("audit.jsonl"));
    }
    let yaml_alert = alerts
        .lines()
        .find(|l| l.contains("5b7d2a4e-1c3f-4e8a-9b6d-2f0a1c3e5d70"))
        .expect("an alert of the YAML rule");
    assert!(yaml_alert.contains(r#""severity":"High","tactics":["PrivilegeEscalation","Persistence"],"techniques":["T1098","T1078"]"#), "{yaml_alert}");
}
