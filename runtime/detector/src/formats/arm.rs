//! `arm`: Azure Activity Log records (Resource Manager control-plane
//! events), in the two shapes Azure writes them:
//!
//! - diagnostic settings (storage account, Event Hub): `{"time",
//!   "resourceId", "operationName", "category", "resultType",
//!   "resultSignature", "callerIpAddress", "correlationId", "identity",
//!   "properties", ...}`, one per line or in `{"records": [...]}`;
//! - the REST API and `az monitor activity-log list`: `{"eventTimestamp",
//!   "operationName": {"value", "localizedValue"}, "status": {...},
//!   "eventDataId", "caller", "httpRequest", ...}`, in a JSON array or
//!   `{"value": [...]}`.
//!
//! `RawEventData` is the record as written. Defender's own example query
//! reads `RawEventData["status"]` and `RawEventData["subStatus"]`, which only
//! the REST shape has: for the diagnostic shape they are added, from
//! `resultType` and `resultSignature`.

use super::{
    datetime_field, field, object_field, opt_string, sparse_bag, string_field, InputFormat, Item,
    Record, RecordFields, Rejection, DATA_SOURCE_ARM,
};
use crate::input::describe;
use kql_runtime::value::{Bag, Str, Value};

/// The record of one Activity Log record.
pub fn record(record: &Bag) -> Result<Record, String> {
    let operation = match field(record, "operationName") {
        Some(Value::String(name)) => Some(name.clone()),
        Some(Value::Bag(name)) => string_field(name, "value", "operationName.value")?.cloned(),
        None => None,
        Some(other) => {
            return Err(format!(
                "operationName: expected a string or an object, found {}",
                describe(other)
            ))
        }
    };
    let time = match datetime_field(record, "time", "time")? {
        Some(time) => Some(time),
        None => datetime_field(record, "eventTimestamp", "eventTimestamp")?,
    };
    let resource_id = string_field(record, "resourceId", "resourceId")?;
    let mut ip = string_field(record, "callerIpAddress", "callerIpAddress")?.cloned();
    if ip.is_none() {
        if let Some(http) = object_field(record, "httpRequest", "httpRequest")? {
            ip = string_field(http, "clientIpAddress", "httpRequest.clientIpAddress")?.cloned();
        }
    }
    let report_id = string_field(record, "eventDataId", "eventDataId")?
        .or(string_field(record, "correlationId", "correlationId")?)
        .cloned();
    let category = match field(record, "category") {
        Some(Value::Bag(c)) => field(c, "value").cloned(),
        other => other.cloned(),
    };
    let caller = string_field(record, "caller", "caller")?
        .cloned()
        .or(claim_name(record));
    let additional = sparse_bag(vec![
        ("Category", category.unwrap_or_default()),
        ("Level", field(record, "level").cloned().unwrap_or_default()),
        (
            "CorrelationId",
            opt_string(string_field(record, "correlationId", "correlationId")?),
        ),
        ("Caller", caller.map_or(Value::Null, Value::String)),
    ]);
    Ok(Record::new(
        InputFormat::Arm,
        RecordFields {
            time,
            report_id,
            data_source: DATA_SOURCE_ARM,
            action_type: action_type(operation.as_deref()),
            operation_name: operation,
            resource_id: resource_id.cloned(),
            azure_resource_id: resource_id.cloned(),
            ip_address: ip,
            user_agent: None,
            raw_event_data: raw_event_data(record),
            additional_fields: additional,
        }
        .into_value(),
    ))
}

/// `{"value": [...]}`: one record per element.
pub fn list(list: &Bag, out: &mut Vec<Item>) {
    let Some(Value::Array(records)) = field(list, "value") else {
        out.push(Err(Rejection::whole("value: expected an array")));
        return;
    };
    for (i, item) in records.iter().enumerate() {
        let result = match item {
            Value::Bag(bag) => record(bag),
            other => Err(format!("expected a JSON object, found {}", describe(other))),
        };
        let at = format!("value[{i}]");
        out.push(match result {
            Ok(record) => Ok(record.located(at)),
            Err(cause) => Err(Rejection::at(at, cause)),
        });
    }
}

/// `ActionType` from the last part of an operation name: `write` (a PUT,
/// which creates or replaces: the record cannot tell which) → Update,
/// `read` → Read, `delete` → Delete, `action` → Other.
pub fn action_type(operation: Option<&str>) -> &'static str {
    let Some(operation) = operation else {
        return "Unknown";
    };
    let last = operation.rsplit('/').next().unwrap_or_default();
    if last.eq_ignore_ascii_case("write") {
        "Update"
    } else if last.eq_ignore_ascii_case("read") {
        "Read"
    } else if last.eq_ignore_ascii_case("delete") {
        "Delete"
    } else if last.eq_ignore_ascii_case("action") {
        "Other"
    } else {
        "Unknown"
    }
}

/// The caller's name from the token claims of the diagnostic shape.
fn claim_name(record: &Bag) -> Option<Str> {
    let Some(Value::Bag(identity)) = field(record, "identity") else {
        return None;
    };
    let Some(Value::Bag(claims)) = field(identity, "claims") else {
        return None;
    };
    for key in [
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
        "appid",
    ] {
        if let Some(Value::String(name)) = field(claims, key) {
            return Some(name.clone());
        }
    }
    None
}

/// The record, with `status` and `subStatus` added from `resultType` and
/// `resultSignature` when it has none.
fn raw_event_data(record: &Bag) -> Value {
    let mut entries: Vec<(Str, Value)> = record
        .iter()
        .map(|(key, value)| (Str::from(key), value.clone()))
        .collect();
    for (added, from) in [("status", "resultType"), ("subStatus", "resultSignature")] {
        if record.get(added).is_none() {
            if let Some(value) = field(record, from) {
                entries.push((Str::Static(added), value.clone()));
            }
        }
    }
    Value::bag(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_suffixes_give_action_types() {
        assert_eq!(
            action_type(Some("Microsoft.Compute/virtualMachines/write")),
            "Update"
        );
        assert_eq!(
            action_type(Some("MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE")),
            "Delete"
        );
        assert_eq!(
            action_type(Some("Microsoft.Storage/storageAccounts/listKeys/action")),
            "Other"
        );
        assert_eq!(
            action_type(Some("Microsoft.Resourcehealth/healthevent/Updated/action")),
            "Other"
        );
        assert_eq!(action_type(None), "Unknown");
    }
}
