//! The checked-in generated rules, run over the bundled sample data, return
//! the expected rows.

use kql_detector::runner::Runner;
use kql_runtime::query::Query;
use kql_runtime::text::parse_datetime;
use std::path::Path;

fn check<Q: Query>(rule: Q, name: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let data = std::fs::read_to_string(repo.join("examples/data/audit.jsonl")).unwrap();
    let expected =
        std::fs::read_to_string(repo.join(format!("tests/expected/{name}.jsonl"))).unwrap();
    let now = parse_datetime("2024-05-28T12:00:00Z").unwrap();
    let mut runner = Runner::with_now(rule, now);
    let rows = runner.run_json_lines(data.lines()).unwrap();
    let got: Vec<String> = rows.iter().map(|r| runner.to_json_line(r)).collect();
    let want: Vec<&str> = expected.lines().collect();
    assert_eq!(got, want, "{name}");
}

#[test]
fn generated_privileged_pod_finds_the_expected_rows() {
    check(
        kqlc_generated::privileged_pod::Rule::default(),
        "privileged-pod",
    );
}

#[test]
fn generated_exec_in_kube_system_finds_the_expected_rows() {
    check(
        kqlc_generated::exec_in_kube_system::Rule::default(),
        "exec-in-kube-system",
    );
}

#[test]
fn generated_cluster_admin_binding_finds_the_expected_rows() {
    check(
        kqlc_generated::cluster_admin_binding::Rule::default(),
        "cluster-admin-binding",
    );
}
