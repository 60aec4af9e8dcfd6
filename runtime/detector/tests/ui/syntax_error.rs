fn main() {
    let _rule = kql_runtime::kql!(r#"
        CloudAuditEvents
        | where (OperationName == "create"
    "#);
}
