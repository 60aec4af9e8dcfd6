//! `k8s`: upstream Kubernetes audit events (`audit.k8s.io/v1`, and the
//! older `v1beta1` and unversioned ones), as the log backend writes them one
//! per line and the webhook backend posts them in `EventList`s. The AKS and
//! EKS normalizers unwrap their envelopes and come here for the event.
//!
//! `RawEventData` is the event with its top-level keys in PascalCase
//! (`objectRef` → `ObjectRef`, `auditID` → `AuditId`, `requestURI` →
//! `RequestURI`, `sourceIPs` → `SourceIPs`), nested objects as the API
//! server wrote them, which is what the reference queries read
//! (`RawEventData.ObjectRef.resource`, `RawEventData.RequestObject.spec`).

use super::{
    datetime_field, describe_object, field, object_field, sparse_bag, string_field, InputFormat,
    Item, Record, RecordFields, Rejection, DATA_SOURCE_EKS, DATA_SOURCE_KUBERNETES,
};
use crate::input::{describe, json_kind};
use kql_runtime::value::{Bag, DateTime, Str, Value};

/// Where an event comes from: what the envelope around it says.
#[derive(Clone, Debug)]
pub struct Platform {
    /// The format, for counting.
    pub format: InputFormat,
    /// The `DataSource` column.
    pub data_source: &'static str,
    /// The `ResourceId` column: the cluster.
    pub resource_id: Option<Str>,
    /// The `AzureResourceId` column.
    pub azure_resource_id: Option<Str>,
    /// `AdditionalFields`: what the envelope knows that the event does not.
    pub additional: Vec<(&'static str, Value)>,
    /// The time to use when the event has none.
    pub fallback_time: Option<DateTime>,
}

impl Platform {
    /// A self-managed (on-premises) cluster: nothing but the event.
    pub fn kubernetes() -> Platform {
        Platform {
            format: InputFormat::K8s,
            data_source: DATA_SOURCE_KUBERNETES,
            resource_id: None,
            azure_resource_id: None,
            additional: Vec::new(),
            fallback_time: None,
        }
    }

    /// An EKS event without its CloudWatch envelope (a message body).
    pub fn eks_bare() -> Platform {
        Platform {
            format: InputFormat::Eks,
            data_source: DATA_SOURCE_EKS,
            ..Platform::kubernetes()
        }
    }
}

/// `ActionType` of a Kubernetes verb: Create, Read, Update, Delete, or
/// Other for the verbs that are none of these (`impersonate`, `bind`,
/// `escalate`, `approve`, ...), Unknown without a verb.
pub fn action_type(verb: Option<&str>) -> &'static str {
    match verb {
        Some("create") => "Create",
        Some("get" | "list" | "watch") => "Read",
        Some("update" | "patch") => "Update",
        Some("delete" | "deletecollection") => "Delete",
        Some(_) => "Other",
        None => "Unknown",
    }
}

/// `value` as an audit event: an object whose `kind` (when present) is
/// `Event` and whose `apiVersion` (when present) is `audit.k8s.io/...`.
/// `path` names it in messages (`properties.log`, `message`).
pub fn audit_event<'a>(value: &'a Value, path: &str) -> Result<&'a Bag, String> {
    let Value::Bag(event) = value else {
        return Err(format!(
            "{path}: expected a Kubernetes audit event (a JSON object), found {}",
            json_kind(value)
        ));
    };
    let kind_ok = match field(event, "kind") {
        None => true,
        Some(Value::String(kind)) => kind.as_str() == "Event",
        Some(_) => false,
    };
    if !kind_ok || !super::detect::is_audit_api_version(event) {
        return Err(format!(
            "{path}: not a Kubernetes audit event: {}",
            describe_object(event)
        ));
    }
    Ok(event)
}

/// The record of one audit event.
pub fn event_record(event: &Bag, platform: &Platform) -> Result<Value, String> {
    let verb = string_field(event, "verb", "verb")?;
    let mut time = None;
    for key in ["stageTimestamp", "requestReceivedTimestamp", "timestamp"] {
        if let Some(t) = datetime_field(event, key, key)? {
            time = Some(t);
            break;
        }
    }
    if let Some(status) = object_field(event, "responseStatus", "responseStatus")? {
        if let Some(code) = field(status, "code") {
            check_status_code(code, "responseStatus.code")?;
        }
    }
    let ip_address = match field(event, "sourceIPs") {
        None => None,
        Some(Value::Array(ips)) => match ips.first() {
            None | Some(Value::Null) => None,
            Some(Value::String(ip)) => Some(ip.clone()),
            Some(other) => {
                return Err(format!(
                    "sourceIPs[0]: expected a string, found {}",
                    describe(other)
                ))
            }
        },
        Some(other) => {
            return Err(format!(
                "sourceIPs: expected an array, found {}",
                describe(other)
            ))
        }
    };
    let additional = if platform.additional.is_empty() {
        Value::Null
    } else {
        sparse_bag(platform.additional.clone())
    };
    Ok(RecordFields {
        time: time.or(platform.fallback_time),
        report_id: string_field(event, "auditID", "auditID")?.cloned(),
        data_source: platform.data_source,
        action_type: action_type(verb.map(Str::as_str)),
        operation_name: verb.cloned(),
        resource_id: platform.resource_id.clone(),
        azure_resource_id: platform.azure_resource_id.clone(),
        ip_address,
        user_agent: string_field(event, "userAgent", "userAgent")?.cloned(),
        raw_event_data: pascal_case_keys(event),
        additional_fields: additional,
    }
    .into_value())
}

/// An `EventList`: one item per element of `items`.
pub fn event_list(list: &Bag, platform: &Platform, out: &mut Vec<Item>) {
    let items = match field(list, "items") {
        None => return,
        Some(Value::Array(items)) => items,
        Some(other) => {
            out.push(Err(Rejection::whole(format!(
                "items: expected an array, found {}",
                describe(other)
            ))));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let record = audit_event(item, "event")
            .and_then(|event| event_record(event, platform))
            .map(|fields| Record::new(platform.format, fields).located(format!("items[{i}]")));
        out.push(record.map_err(|cause| Rejection::at(format!("items[{i}]"), cause)));
    }
}

/// A status code must be a whole number that fits in a `long`: the
/// reference queries compare it (`== 101`, `startswith "20"`).
pub fn check_status_code(code: &Value, path: &str) -> Result<(), String> {
    match code {
        Value::Long(_) | Value::Int(_) => Ok(()),
        Value::Real(x) if x.abs() >= 9.223_372_036_854_776e18 => Err(format!(
            "{path}: number {x} is too large for long (a status code is expected)"
        )),
        other => Err(format!(
            "{path}: expected a whole number, found {}",
            describe(other)
        )),
    }
}

/// The event with its top-level keys in PascalCase; nested values as they
/// are (shared, not copied).
pub fn pascal_case_keys(event: &Bag) -> Value {
    Value::bag(
        event
            .iter()
            .map(|(key, value)| (pascal_case(key), value.clone()))
            .collect(),
    )
}

/// The PascalCase name of a top-level audit event key. The three keys with
/// capitals inside keep them as Defender writes them (`AuditId`,
/// `RequestURI`, `SourceIPs`); others get a capital first letter.
pub fn pascal_case(key: &str) -> Str {
    let known = match key {
        "kind" => "Kind",
        "apiVersion" => "ApiVersion",
        "level" => "Level",
        "auditID" => "AuditId",
        "stage" => "Stage",
        "requestURI" => "RequestURI",
        "verb" => "Verb",
        "user" => "User",
        "impersonatedUser" => "ImpersonatedUser",
        "sourceIPs" => "SourceIPs",
        "userAgent" => "UserAgent",
        "objectRef" => "ObjectRef",
        "responseStatus" => "ResponseStatus",
        "requestObject" => "RequestObject",
        "responseObject" => "ResponseObject",
        "requestReceivedTimestamp" => "RequestReceivedTimestamp",
        "stageTimestamp" => "StageTimestamp",
        "annotations" => "Annotations",
        "metadata" => "Metadata",
        "timestamp" => "Timestamp",
        _ => "",
    };
    if !known.is_empty() {
        return Str::Static(known);
    }
    let mut chars = key.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => {
            let mut text: String = first.to_uppercase().collect();
            text.push_str(chars.as_str());
            Str::from(text)
        }
        _ => Str::from(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql_runtime::text::parse_json_text;

    fn event(text: &str) -> Value {
        let value = parse_json_text(text).unwrap();
        let Value::Bag(bag) = &value else { panic!() };
        event_record(bag, &Platform::kubernetes()).unwrap()
    }

    fn get<'a>(record: &'a Value, key: &str) -> &'a Value {
        let Value::Bag(bag) = record else { panic!() };
        bag.get(key).unwrap()
    }

    #[test]
    fn top_level_keys_become_pascal_case_and_nested_keys_stay() {
        let record = event(
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","requestURI":"/api","sourceIPs":["10.0.0.1","10.0.0.2"],"objectRef":{"resource":"pods","apiGroup":""},"verb":"get","stageTimestamp":"2024-05-28T10:00:00.5Z","customField":1}"#,
        );
        let raw = kql_runtime::json::to_json(get(&record, "RawEventData"));
        assert_eq!(raw["AuditId"], "a1");
        assert_eq!(raw["RequestURI"], "/api");
        assert_eq!(raw["ObjectRef"]["apiGroup"], "");
        assert_eq!(raw["CustomField"], 1);
        assert_eq!(get(&record, "IPAddress"), &Value::from_static("10.0.0.1"));
        assert_eq!(get(&record, "ActionType"), &Value::from_static("Read"));
        assert_eq!(get(&record, "ReportId"), &Value::from_static("a1"));
        assert!(matches!(get(&record, "Timestamp"), Value::DateTime(_)));
    }

    #[test]
    fn verbs_map_to_action_types() {
        assert_eq!(action_type(Some("create")), "Create");
        assert_eq!(action_type(Some("watch")), "Read");
        assert_eq!(action_type(Some("patch")), "Update");
        assert_eq!(action_type(Some("deletecollection")), "Delete");
        assert_eq!(action_type(Some("impersonate")), "Other");
        assert_eq!(action_type(None), "Unknown");
    }

    #[test]
    fn bad_fields_are_named_in_the_error() {
        let bad = |text: &str| {
            let value = parse_json_text(text).unwrap();
            let Value::Bag(bag) = &value else { panic!() };
            event_record(bag, &Platform::kubernetes()).unwrap_err()
        };
        assert!(bad(r#"{"kind":"Event","stageTimestamp":"yesterday"}"#)
            .starts_with("stageTimestamp: 'yesterday' is not a datetime"));
        assert!(bad(r#"{"kind":"Event","verb":7}"#).starts_with("verb: expected a string"));
        assert!(
            bad(r#"{"kind":"Event","responseStatus":{"code":99999999999999999999}}"#)
                .contains("too large for long")
        );
        assert!(bad(r#"{"kind":"Event","sourceIPs":"1.2.3.4"}"#).starts_with("sourceIPs:"));
    }
}
