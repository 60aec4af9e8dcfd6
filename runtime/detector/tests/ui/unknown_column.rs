fn main() {
    let _rule = kql_runtime::kql!("CloudAuditEvents | where OperationNam == \"create\"");
}
