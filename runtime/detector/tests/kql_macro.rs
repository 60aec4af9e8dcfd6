//! `kql!` in a Rust program: queries with lets and several operators, inline
//! tables, schema files; and compile-fail cases with located errors
//! (`tests/ui/*.rs`, expected compiler output in the `.stderr` files beside
//! them; regenerate with `TRYBUILD=overwrite`).

use kql_detector::runner::Runner;
use kql_runtime::kql;
use kql_runtime::text::parse_datetime;
use kql_runtime::Value;

#[test]
fn lets_and_several_operators_work_in_a_macro_query() {
    let now = parse_datetime("2024-05-28T12:00:00Z").unwrap();
    let mut runner = Runner::with_now(
        kql!(
            r#"
            let verbs = dynamic(["create", "delete"]);
            let Recent = CloudAuditEvents | where Timestamp > ago(1h);
            Recent
            | where OperationName in (verbs)
            | extend User = tostring(RawEventData.User.username)
            | project User, OperationName
            | take 2
        "#
        ),
        now,
    );
    let rows = runner
        .run_json_lines([
            r#"{"Timestamp": "2024-05-28T11:30:00Z", "OperationName": "create", "RawEventData": {"User": {"username": "alice"}}}"#,
            r#"{"Timestamp": "2024-05-28T09:00:00Z", "OperationName": "create", "RawEventData": {"User": {"username": "old"}}}"#,
            r#"{"Timestamp": "2024-05-28T11:40:00Z", "OperationName": "get", "RawEventData": {"User": {"username": "bob"}}}"#,
            r#"{"Timestamp": "2024-05-28T11:50:00Z", "OperationName": "delete", "RawEventData": {"User": {"username": "carol"}}}"#,
        ])
        .unwrap();
    let users: Vec<&Value> = rows.iter().filter_map(|r| runner.get(r, "User")).collect();
    assert_eq!(
        users,
        [&Value::from_static("alice"), &Value::from_static("carol")]
    );
}

#[test]
fn sub_queries_and_mv_apply_work_in_a_macro_query() {
    let mut runner = Runner::new(kql!(
        r#"
        let Allowed = datatable(User: string)["system:admin"];
        let Least = toscalar(print n = 1);
        CloudAuditEvents
        | extend User = tostring(RawEventData.User.username)
        | where User !in (Allowed)
        | mv-apply c = RawEventData.RequestObject.spec.containers on (
            where tobool(c.securityContext.privileged)
            | summarize Privileged = count()
        )
        | where Privileged >= Least
        | project User, Privileged
    "#
    ));
    let pod = |user: &str, privileged: &[bool]| {
        let containers: Vec<String> = privileged
            .iter()
            .map(|p| format!(r#"{{"securityContext": {{"privileged": {p}}}}}"#))
            .collect();
        format!(
            r#"{{"RawEventData": {{"User": {{"username": "{user}"}}, "RequestObject": {{"spec": {{"containers": [{}]}}}}}}}}"#,
            containers.join(",")
        )
    };
    let lines = [
        pod("alice", &[false, true, true]),
        pod("system:admin", &[true]),
        pod("bob", &[false]),
        pod("carol", &[]),
    ];
    let rows = runner
        .run_json_lines(lines.iter().map(String::as_str))
        .unwrap();
    let found: Vec<String> = rows.iter().map(|r| runner.to_json_line(r)).collect();
    assert_eq!(found, [r#"{"User":"alice","Privileged":2}"#]);
}

#[test]
fn inline_table_declarations_give_other_tables() {
    let mut runner = Runner::new(kql!(
        table Logins(User: string, Failures: long),
        "Logins | where Failures >= 3 | count"
    ));
    let rows = runner
        .run_json_lines([
            r#"{"User": "a", "Failures": 5}"#,
            r#"{"User": "b", "Failures": 1}"#,
            r#"{"User": "c", "Failures": 3}"#,
        ])
        .unwrap();
    assert_eq!(runner.to_json_line(&rows[0]), r#"{"Count":2}"#);
}

#[test]
fn schema_files_give_other_tables() {
    let mut runner = Runner::new(kql!(
        schema = "tests/ui/logins-schema.json",
        "Logins | project User"
    ));
    let rows = runner
        .run_json_lines([r#"{"User": "a", "Failures": 5}"#])
        .unwrap();
    assert_eq!(runner.to_json_line(&rows[0]), r#"{"User":"a"}"#);
}

#[test]
fn bad_json_lines_are_reported_with_their_line_number() {
    let mut runner = Runner::new(kql!("CloudAuditEvents | take 1"));
    let error = runner.run_json_lines(["", "{oops"]).unwrap_err();
    assert_eq!(error.line, 2);
    assert!(error.cause.starts_with("malformed JSON"), "{error}");
}

#[test]
fn kql_errors_fail_the_build_with_located_messages() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
