//! `kqlc bench` in its quick forms. Correctness only: timings are for
//! docs/PERFORMANCE.md, never asserted here.
//!
//! - The detect suite: every tool it runs (the detectors, and jq and
//!   DuckDB where installed) must report the row counts the generator
//!   planted.
//! - The hunting suite, kqlc alone (no peers needed): the results of its
//!   queries must agree with what the input and each other imply.

use crate::common::{kqlc, repo};
use std::collections::BTreeMap;
use std::path::Path;

#[test]
fn quick_benchmark_tools_agree_on_the_planted_counts() {
    let dir = tempfile::tempdir().unwrap();
    let output = kqlc()
        .current_dir(repo())
        .args(["bench", "--bytes", "20M", "--repeat", "1", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "a tool disagreed:\n{table}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for rule in [
        "exec-in-kube-system",
        "cluster-admin-binding",
        "privileged-pod",
    ] {
        let line = table
            .lines()
            .find(|l| l.contains(&format!("kqlc detector: {rule}")))
            .unwrap_or_else(|| panic!("no row for {rule}:\n{table}"));
        assert!(line.contains('✓'), "{line}");
    }
}

/// kqlc's canonical result rows of one hunting query (one thread), split
/// into fields.
fn rows(dir: &Path, query: &str, tool: &str) -> Vec<Vec<String>> {
    let path = dir.join("hunting").join(format!("{query}.{tool}.tsv"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn count(field: &str) -> u64 {
    field
        .parse()
        .unwrap_or_else(|_| panic!("{field:?} is not a count"))
}

/// The last column summed, per the key `key` picks from each row.
fn totals(rows: &[Vec<String>], key: impl Fn(&[String]) -> String) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for row in rows {
        *totals.entry(key(row)).or_insert(0) += count(row.last().unwrap());
    }
    totals
}

#[test]
fn hunting_suite_results_agree_with_the_input_and_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let output = kqlc()
        .current_dir(repo())
        .env("KQLC_BENCH_PROFILE", "quick")
        .args([
            "bench", "--suite", "hunting", "--bytes", "3M", "--repeat", "1", "--peers", "none",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the hunting suite failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events: u64 = report
        .lines()
        .find_map(|l| l.strip_prefix("input: "))
        .and_then(|l| l.split(", ").nth(1))
        .and_then(|l| l.strip_suffix(" events"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no input line:\n{report}"));
    assert!(events > 1_000, "{events} events");
    let dir = dir.path();
    for query in [
        "group-by",
        "nested-dcount",
        "nested-startswith",
        "mv-expand",
        "time-buckets",
        "join",
        "allow-list",
    ] {
        // Two threads give exactly one thread's rows.
        assert_eq!(
            rows(dir, query, "kqlc"),
            rows(dir, query, "kqlc-threads-2"),
            "{query}"
        );
        assert!(report.contains(&format!("| {query}: ")), "{report}");
    }

    // group-by and the time buckets each count every event once, and
    // agree per source.
    let group_by = rows(dir, "group-by", "kqlc");
    let by_source = totals(&group_by, |r| r[0].clone());
    assert_eq!(by_source.values().sum::<u64>(), events);
    let buckets = rows(dir, "time-buckets", "kqlc");
    assert_eq!(totals(&buckets, |r| r[1].clone()), by_source);
    assert!(
        buckets.iter().all(|r| r[0].ends_with(":00:00Z")),
        "{buckets:?}"
    );

    // The AKS slice per operation is the same in group-by and nested-dcount;
    // a distinct count of users is at least 1 and at most the row count.
    let dcount = rows(dir, "nested-dcount", "kqlc");
    let aks: Vec<Vec<String>> = group_by
        .iter()
        .filter(|r| r[0] == "Azure Kubernetes Service")
        .cloned()
        .collect();
    let dcount_counts: Vec<Vec<String>> = dcount.iter().map(|r| r[..3].to_vec()).collect();
    assert_eq!(
        totals(&dcount_counts, |r| r[1].clone()),
        totals(&aks, |r| r[1].clone())
    );
    assert!(dcount
        .iter()
        .all(|r| (1..=count(&r[2])).contains(&count(&r[3]))));

    // Service accounts: the prefix holds, and one off the allow-list has
    // the same count in the anti-join.
    let accounts = rows(dir, "nested-startswith", "kqlc");
    assert!(!accounts.is_empty());
    assert!(accounts
        .iter()
        .all(|r| r[0].to_lowercase().starts_with("system:serviceaccount:")));
    let allow: Vec<String> = std::fs::read_to_string(dir.join("hunting/allow-list.txt"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(allow.len(), 10_000);
    let kept = rows(dir, "allow-list", "kqlc");
    let kept_counts: BTreeMap<&str, &str> = kept
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert!(kept.iter().all(|r| !allow.contains(&r[0])));
    let mut off_list = 0;
    for account in &accounts {
        if !allow.contains(&account[0]) {
            off_list += 1;
            assert_eq!(
                kept_counts.get(account[0].as_str()),
                Some(&account[1].as_str())
            );
        }
    }
    assert!(off_list > 0, "no service account off the allow-list");
    assert!(kept.iter().map(|r| count(&r[1])).sum::<u64>() < events);

    // mv-expand: the rows without an image were dropped.
    let images = rows(dir, "mv-expand", "kqlc");
    assert!(images.iter().all(|r| !r[0].is_empty()));

    // The join's creates and deletes are at most all creates and deletes.
    let ops = totals(&group_by, |r| r[1].clone());
    let join = rows(dir, "join", "kqlc");
    assert!(!join.is_empty());
    assert!(join.iter().map(|r| count(&r[1])).sum::<u64>() <= ops["create"]);
    assert!(join.iter().map(|r| count(&r[2])).sum::<u64>() <= ops["delete"]);
}
