//! Deciding the format of a unit from its JSON shape (`--input-format auto`),
//! and checking that a unit has a shape its chosen format reads.
//!
//! The checks, in order (the first that holds decides):
//!
//! 1. the first key is a column of a table the rules read → a row
//!    (`cloudaudit`; checked first because it is the common, fast case);
//! 2. `kind` is `Event` or `EventList` and `apiVersion` is `audit.k8s.io/…`
//!    (or absent, as in events of old API servers) → `k8s`;
//! 3. `records` is an array → an Azure export: each element is an AKS record
//!    or an Activity Log record;
//! 4. `category` starts with `kube-audit` → `aks`;
//! 5. `logEvents` is an array or `messageType` a string → a CloudWatch Logs
//!    subscription payload (`eks`);
//! 6. `protoPayload` is an object → a Cloud Logging entry (`gke`);
//! 7. `operationName`, `resourceId` and `time` with an Activity Log
//!    `category`, or the REST shape (`operationName.value`,
//!    `eventTimestamp`) → `arm`; `value` holding such records → `arm`;
//! 8. `events` (as `aws logs filter-log-events` prints it) or a lone
//!    CloudWatch event (`message` and `timestamp`) → `eks`;
//! 9. any key is a column → a row.
//!
//! Anything else is rejected with a message that says what was seen. A bare
//! audit `Event` is read as `k8s` (an on-premises cluster): nothing in an
//! event tells which platform wrote it, so EKS message bodies need
//! `--input-format eks`.

use super::{describe_object, field, InputFormat};
use crate::input::describe;
use kql_runtime::value::{Bag, Value};

/// The shapes of unit the normalizers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A row of the table.
    Row,
    /// A Kubernetes audit `Event`.
    Event,
    /// A Kubernetes audit `EventList` (webhook batch).
    EventList,
    /// `{"records": [...]}` from an Azure diagnostic setting.
    AzureRecords,
    /// One AKS `kube-audit` / `kube-audit-admin` record.
    AksRecord,
    /// A CloudWatch Logs subscription payload (`logEvents`).
    CloudWatchPayload,
    /// `{"events": [...]}` from the CloudWatch Logs API.
    CloudWatchEvents,
    /// One CloudWatch Logs event (`message`, `timestamp`).
    CloudWatchEvent,
    /// A Cloud Logging `LogEntry` with a `protoPayload`.
    GkeEntry,
    /// One Azure Activity Log record.
    ArmRecord,
    /// `{"value": [...]}` of Activity Log records (the REST API's list).
    ArmList,
}

/// Activity Log categories, as diagnostic settings write them (the older
/// `Write`, `Delete` and `Action` too). Other Azure resource logs share the
/// record shape but are not Resource Manager events.
const ACTIVITY_CATEGORIES: [&str; 11] = [
    "Administrative",
    "Security",
    "ServiceHealth",
    "Alert",
    "Recommendation",
    "Policy",
    "Autoscale",
    "ResourceHealth",
    "Action",
    "Write",
    "Delete",
];

const EXPECTED: &str =
    "expected a CloudAuditEvents row, a Kubernetes audit Event or EventList (k8s), \
an AKS kube-audit record (aks), an EKS CloudWatch Logs record (eks), a GKE audit log entry (gke) \
or an Azure Activity Log record (arm)";

/// The shape of `bag`, as read in `format`; an error says what was seen
/// and what `format` expects.
pub fn detect(bag: &Bag, format: InputFormat, row_columns: &[&str]) -> Result<Shape, String> {
    if format == InputFormat::Auto {
        if let Some((first, _)) = bag.iter().next() {
            if row_columns.contains(&first) {
                return Ok(Shape::Row);
            }
        }
    }
    let shape = native_shape(bag, format == InputFormat::Arm);
    let accepted = match (format, shape) {
        (InputFormat::Auto, Some(shape)) => Some(shape),
        (InputFormat::Auto, None) => bag
            .iter()
            .any(|(key, _)| row_columns.contains(&key))
            .then_some(Shape::Row),
        (InputFormat::CloudAudit, _) => Some(Shape::Row),
        (InputFormat::K8s, Some(shape @ (Shape::Event | Shape::EventList))) => Some(shape),
        (InputFormat::Aks, Some(shape @ (Shape::AksRecord | Shape::AzureRecords))) => Some(shape),
        // An AKS record of another category: the normalizer says which.
        (InputFormat::Aks, _)
            if bag.get("properties").is_some() && bag.get("category").is_some() =>
        {
            Some(Shape::AksRecord)
        }
        (
            InputFormat::Eks,
            Some(
                shape @ (Shape::CloudWatchPayload
                | Shape::CloudWatchEvents
                | Shape::CloudWatchEvent
                | Shape::Event),
            ),
        ) => Some(shape),
        (InputFormat::Gke, Some(Shape::GkeEntry)) => Some(Shape::GkeEntry),
        (
            InputFormat::Arm,
            Some(shape @ (Shape::ArmRecord | Shape::ArmList | Shape::AzureRecords)),
        ) => Some(shape),
        _ => None,
    };
    accepted.ok_or_else(|| not_readable(bag, format))
}

/// The native shape of `bag`, if it has one. `lenient_arm` takes any Azure
/// record with `operationName` and `resourceId` as an Activity Log record,
/// whatever its category (for `--input-format arm`).
fn native_shape(bag: &Bag, lenient_arm: bool) -> Option<Shape> {
    if let Some(Value::String(kind)) = field(bag, "kind") {
        if is_audit_api_version(bag) {
            match kind.as_str() {
                "Event" => return Some(Shape::Event),
                "EventList" => return Some(Shape::EventList),
                _ => {}
            }
        }
    }
    if let Some(Value::Array(_)) = field(bag, "records") {
        return Some(Shape::AzureRecords);
    }
    if let Some(Value::String(category)) = field(bag, "category") {
        if category.starts_with("kube-audit") {
            return Some(Shape::AksRecord);
        }
    }
    if matches!(field(bag, "logEvents"), Some(Value::Array(_)))
        || matches!(field(bag, "messageType"), Some(Value::String(_)))
    {
        return Some(Shape::CloudWatchPayload);
    }
    if let Some(Value::Bag(_)) = field(bag, "protoPayload") {
        return Some(Shape::GkeEntry);
    }
    if is_activity_record(bag, lenient_arm) {
        return Some(Shape::ArmRecord);
    }
    if let Some(Value::Array(items)) = field(bag, "value") {
        if let Some(Value::Bag(first)) = items.first() {
            if is_activity_record(first, lenient_arm) {
                return Some(Shape::ArmList);
            }
        }
    }
    if let Some(Value::Array(_)) = field(bag, "events") {
        return Some(Shape::CloudWatchEvents);
    }
    if matches!(field(bag, "message"), Some(Value::String(_)))
        && matches!(field(bag, "timestamp"), Some(Value::Long(_)))
    {
        return Some(Shape::CloudWatchEvent);
    }
    None
}

/// An element of `{"records": [...]}` in `format`: an AKS record or an
/// Activity Log record.
pub fn azure_record(bag: &Bag, format: InputFormat) -> Result<Shape, String> {
    match format {
        InputFormat::Aks => Ok(Shape::AksRecord),
        InputFormat::Arm => Ok(Shape::ArmRecord),
        _ => {
            if let Some(Value::String(category)) = field(bag, "category") {
                if category.starts_with("kube-audit") {
                    return Ok(Shape::AksRecord);
                }
            }
            if is_activity_record(bag, false) {
                return Ok(Shape::ArmRecord);
            }
            Err(format!(
                "not an AKS kube-audit record nor an Azure Activity Log record: {}",
                describe_object(bag)
            ))
        }
    }
}

/// `apiVersion` is absent (old API servers) or `audit.k8s.io/...`.
pub fn is_audit_api_version(bag: &Bag) -> bool {
    match field(bag, "apiVersion") {
        None => true,
        Some(Value::String(v)) => v.starts_with("audit.k8s.io/"),
        Some(_) => false,
    }
}

/// An Activity Log record: the diagnostic-settings shape (`time`,
/// `resourceId`, `operationName`, an Activity Log `category`) or the REST
/// shape (`operationName.value`, `eventTimestamp`).
fn is_activity_record(bag: &Bag, any_category: bool) -> bool {
    match field(bag, "operationName") {
        Some(Value::String(_)) => {
            matches!(field(bag, "resourceId"), Some(Value::String(_)))
                && field(bag, "time").is_some()
                && (any_category
                    || matches!(field(bag, "category"), Some(Value::String(c))
                        if ACTIVITY_CATEGORIES.iter().any(|a| a.eq_ignore_ascii_case(c))))
        }
        Some(Value::Bag(name)) => {
            matches!(name.get("value"), Some(Value::String(_)))
                && (field(bag, "eventTimestamp").is_some() || field(bag, "eventDataId").is_some())
        }
        _ => false,
    }
}

/// Why `bag` is not read in `format`.
fn not_readable(bag: &Bag, format: InputFormat) -> String {
    let seen = describe_object(bag);
    let hint = hint(bag);
    let hint = if hint.is_empty() {
        String::new()
    } else {
        format!(" ({hint})")
    };
    match format {
        InputFormat::Auto => format!("unknown input format: {seen}{hint}; {EXPECTED}"),
        InputFormat::CloudAudit => format!("not a row: {seen}"),
        InputFormat::K8s => format!(
            "not a Kubernetes audit event: {seen}{hint}; expected kind Event or EventList of apiVersion audit.k8s.io/v1"
        ),
        InputFormat::Aks => format!(
            "not an AKS diagnostic record: {seen}{hint}; expected category kube-audit or kube-audit-admin with properties.log, or {{\"records\": [...]}}"
        ),
        InputFormat::Eks => format!(
            "not an EKS audit record: {seen}{hint}; expected a CloudWatch Logs payload (logEvents), a CloudWatch event (message) or a Kubernetes audit Event"
        ),
        InputFormat::Gke => format!(
            "not a GKE audit log entry: {seen}{hint}; expected a Cloud Logging entry with protoPayload"
        ),
        InputFormat::Arm => format!(
            "not an Azure Activity Log record: {seen}{hint}; expected time, resourceId and operationName, or {{\"records\": [...]}}"
        ),
    }
}

/// A note on near misses: shapes that look like a format but are not what
/// it reads.
fn hint(bag: &Bag) -> String {
    if let Some(Value::String(kind)) = field(bag, "kind") {
        if kind.as_str() == "Event" && !is_audit_api_version(bag) {
            return format!(
                "a Kubernetes Event of apiVersion {} is a cluster event, not an audit event",
                field(bag, "apiVersion").map_or_else(String::new, describe)
            );
        }
    }
    if let Some(Value::String(category)) = field(bag, "category") {
        if bag.get("properties").is_some() && category.starts_with("kube-") {
            return format!(
                "AKS category '{}' is not an audit log; only kube-audit and kube-audit-admin are",
                crate::input::clip(category)
            );
        }
        if field(bag, "operationName").is_some() && field(bag, "resourceId").is_some() {
            return format!(
                "Azure resource log of category '{}' is not an Activity Log record",
                crate::input::clip(category)
            );
        }
    }
    String::new()
}
