//! `kqlc bench` in its quick form: every tool it runs (the detectors, and jq
//! and DuckDB where installed) must report the row counts the generator
//! planted. Correctness only: timings are for docs/PERFORMANCE.md, never
//! asserted here.

use std::process::Command;

#[test]
fn quick_benchmark_tools_agree_on_the_planted_counts() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kqlc"))
        .current_dir(&repo)
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
