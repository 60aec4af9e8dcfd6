//! Sigma rules end to end: every SigmaHQ Kubernetes rule in
//! `../shared/corpus/sigma` translates and compiles, and one detector built
//! from all of them fires on each rule's matching fixture and stays silent
//! on its near misses (`tests/fixtures/sigma/STEM.match.jsonl`,
//! `STEM.nomatch.jsonl`, in the log source's native format; written by
//! `make-fixtures.py` there). The corpus is read in place, never copied.

use crate::common::{corpus, kqlc, repo, NOW};
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use kqlc_cli::rules::{RuleFile, RuleFormat};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn corpus_rules(dir: &Path) -> Vec<RuleFile> {
    let pack = kqlc_cli::rules::load(&[dir.to_path_buf()]).unwrap_or_else(|errors| {
        panic!(
            "{}",
            errors.iter().map(|e| format!("{e}\n")).collect::<String>()
        )
    });
    pack.rules
}

#[test]
fn all_sigma_corpus_rules_translate_and_compile() {
    let Some(dir) = corpus("sigma") else { return };
    let rules = corpus_rules(&dir);
    assert_eq!(rules.len(), 30, "the corpus holds 30 SigmaHQ rules");
    let schema = Schema::builtin();
    for rule in &rules {
        assert_eq!(rule.format, RuleFormat::Sigma, "{}", rule.path.display());
        assert!(rule.kql.contains("CloudAuditEvents"), "{}", rule.kql);
        assert_eq!(rule.meta.id.len(), 36, "{}: a UUID id", rule.path.display());
        assert!(!rule.meta.name.is_empty());
        assert!(rule.meta.severity.is_some(), "{}", rule.path.display());
        assert!(
            !rule.meta.techniques.is_empty() || !rule.meta.tactics.is_empty(),
            "{}",
            rule.path.display()
        );
        if let Err(diagnostics) = kqlc::compile(&rule.kql, &schema) {
            panic!(
                "{}",
                diagnostics
                    .iter()
                    .map(|d| d.render(&rule.query_origin(), &rule.kql, false))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }
    // The command line agrees.
    let check = kqlc().arg("check").arg(&dir).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn kqlc_emit_kql_prints_the_translation() {
    let Some(dir) = corpus("sigma") else { return };
    let rule = dir.join(
        "SigmaHQ-sigma/rules/application/kubernetes/audit/kubernetes_audit_exec_into_container.yml",
    );
    let output = kqlc().args(["emit", "--kql"]).arg(&rule).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.ends_with("| where (RawEventData.Verb =~ \"create\" and RawEventData.ObjectRef.resource =~ \"pods\" and RawEventData.ObjectRef.subresource =~ \"exec\")\n"),
        "{text}"
    );
}

#[test]
fn an_untranslatable_sigma_rule_is_an_error_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let rule = dir.path().join("bad.yml");
    std::fs::write(
        &rule,
        "title: Bad\nlogsource:\n  product: kubernetes\n  service: audit\ndetection:\n  selection:\n    verb: create\n    user.username|expand: '%Admins%'\n  condition: selection\n",
    )
    .unwrap();
    let output = kqlc().arg("check").arg(&rule).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr
            .contains("bad.yml:8: detection.selection.user.username|expand: 'expand' placeholders"),
        "{stderr}"
    );
}

#[test]
fn sigma_rules_fire_on_their_fixtures_and_stay_silent_on_near_misses() {
    let Some(dir) = corpus("sigma") else { return };
    let files = corpus_rules(&dir);
    let fixtures = repo().join("tests/fixtures/sigma");
    let schema = Schema::builtin();
    let mut ids: BTreeMap<String, String> = BTreeMap::new();
    let mut rules = Vec::new();
    for file in &files {
        let stem = file
            .path
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        ids.insert(stem, file.meta.id.clone());
        rules.push(Rule {
            name: file.meta.id.clone(),
            kql: file.kql.clone(),
            path: file.path.display().to_string(),
            pipeline: kqlc::compile(&file.kql, &schema)
                .unwrap_or_else(|_| panic!("{}", file.path.display())),
        });
    }
    let toolchain = Toolchain::discover().unwrap();
    let binary = toolchain.build(&rules, Profile::Quick).unwrap();
    let mut missing = Vec::new();
    for (stem, id) in &ids {
        for (kind, expect_rows) in [("match", true), ("nomatch", false)] {
            let input = fixtures.join(format!("{stem}.{kind}.jsonl"));
            if !input.is_file() {
                missing.push(input.display().to_string());
                continue;
            }
            let lines = std::fs::read_to_string(&input)
                .unwrap()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .count();
            let run = Command::new(&binary)
                .arg(&input)
                .args(["--now", NOW, "--strict"])
                .output()
                .unwrap();
            assert!(
                run.status.success(),
                "{}: {}",
                input.display(),
                String::from_utf8_lossy(&run.stderr)
            );
            let stdout = String::from_utf8_lossy(&run.stdout);
            let tag = format!("{{\"_rule\":\"{id}\"");
            let fired = stdout.lines().filter(|l| l.starts_with(&tag)).count();
            if expect_rows {
                assert_eq!(
                    fired,
                    lines,
                    "{stem} on {}: one row per event:\n{stdout}",
                    input.display()
                );
            } else {
                assert_eq!(
                    fired,
                    0,
                    "{stem} fired on its near misses {}:\n{stdout}",
                    input.display()
                );
            }
        }
    }
    assert!(missing.is_empty(), "fixtures missing: {missing:?}");
}
