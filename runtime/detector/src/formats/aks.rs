//! `aks`: Azure Kubernetes Service audit logs as diagnostic settings export
//! them (categories `kube-audit` and `kube-audit-admin`) to a storage
//! account or an Event Hub: one record per line, or `{"records": [...]}`.
//!
//! ```json
//! {"category": "kube-audit", "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
//!  "resourceId": "/SUBSCRIPTIONS/.../MANAGEDCLUSTERS/NAME", "time": "...",
//!  "properties": {"log": "{\"kind\":\"Event\",...}", "pod": "kube-apiserver-...", "stream": "stdout", "containerID": "..."}}
//! ```
//!
//! The audit event is the JSON text in `properties.log` (some exporters
//! write it as an object; both are read).

use super::k8s::{self, Platform};
use super::{
    datetime_field, field, object_field, opt_string, string_field, InputFormat, Record,
    DATA_SOURCE_AKS,
};
use crate::input::describe;
use kql_runtime::text::parse_json_text;
use kql_runtime::value::{Bag, Str, Value};

/// The categories that hold audit events.
pub const AUDIT_CATEGORIES: [&str; 2] = ["kube-audit", "kube-audit-admin"];

/// The record of one AKS diagnostic record.
pub fn record(record: &Bag) -> Result<Record, String> {
    let category = string_field(record, "category", "category")?
        .ok_or("category: missing (expected kube-audit or kube-audit-admin)")?;
    if !AUDIT_CATEGORIES.contains(&category.as_str()) {
        return Err(format!(
            "category '{}' is not an audit log (only kube-audit and kube-audit-admin are read)",
            crate::input::clip(category)
        ));
    }
    let properties =
        object_field(record, "properties", "properties")?.ok_or("properties: missing")?;
    let parsed;
    let log = match field(properties, "log") {
        None => return Err("properties.log: missing".to_string()),
        Some(Value::String(text)) => {
            parsed =
                parse_json_text(text).map_err(|e| format!("properties.log is not JSON: {e}"))?;
            &parsed
        }
        Some(value @ Value::Bag(_)) => value,
        Some(other) => {
            return Err(format!(
                "properties.log: expected JSON text or an object, found {}",
                describe(other)
            ))
        }
    };
    let event = k8s::audit_event(log, "properties.log")?;
    let resource_id = string_field(record, "resourceId", "resourceId")?;
    let platform = Platform {
        format: InputFormat::Aks,
        data_source: DATA_SOURCE_AKS,
        resource_id: resource_id.cloned(),
        azure_resource_id: resource_id.cloned(),
        additional: vec![
            ("Category", Value::String(category.clone())),
            (
                "ClusterName",
                opt_string(resource_id.map(last_segment).as_ref()),
            ),
            (
                "Pod",
                opt_string(string_field(properties, "pod", "properties.pod")?),
            ),
        ],
        fallback_time: datetime_field(record, "time", "time")?,
    };
    k8s::event_record(event, &platform).map(|fields| Record::new(InputFormat::Aks, fields))
}

/// The last segment of a resource id: the cluster's name.
fn last_segment(id: &Str) -> Str {
    Str::from(id.rsplit('/').next().unwrap_or_default())
}
