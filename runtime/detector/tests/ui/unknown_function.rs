fn main() {
    let _rule = kql_runtime::kql!("CloudAuditEvents | extend User = tostrin(RawEventData.User)");
}
