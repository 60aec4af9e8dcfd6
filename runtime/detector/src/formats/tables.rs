//! The tables derived from the normalized event: `AKSAudit`,
//! `AKSAuditAdmin` and `AzureDiagnostics` (categories `kube-audit` and
//! `kube-audit-admin`), the tables Azure Monitor fills from AKS audit logs.
//!
//! Every input format is normalized once, into a `CloudAuditEvents` record
//! (see [`super`]); a row of one of these tables is made from that record,
//! so that one event read once feeds rules over every table. A row is a bag
//! keyed by the table's documented columns, which
//! [`crate::input::record_to_row`] then lays out (and types) as the rule's
//! table says.
//!
//! Only Kubernetes audit events have rows here: a record whose
//! `RawEventData` is an object holding `Verb`, `AuditId` or `Stage` (an
//! Activity Log record has none of these). `AKSAuditAdmin` holds the events
//! whose verb is not `get`, `list` or `watch`, as AKS's `kube-audit-admin`
//! category does. `docs/input-formats.md` has the column mapping.

use super::DATA_SOURCE_ARM;
use kql_runtime::value::{Bag, Str, Value};

/// A table whose rows are derived from the normalized event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DerivedTable {
    /// `AKSAudit`: every Kubernetes audit event.
    AksAudit,
    /// `AKSAuditAdmin`: the events that are not reads.
    AksAuditAdmin,
    /// `AzureDiagnostics`, as AKS's `kube-audit*` categories fill it.
    AzureDiagnostics,
}

/// `OperationName` of AKS diagnostic records.
pub const AKS_DIAGNOSTIC_OPERATION: &str =
    "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read";

impl DerivedTable {
    /// Every derived table.
    pub const ALL: [DerivedTable; 3] = [
        DerivedTable::AksAudit,
        DerivedTable::AksAuditAdmin,
        DerivedTable::AzureDiagnostics,
    ];

    /// The table's name.
    pub fn name(self) -> &'static str {
        match self {
            DerivedTable::AksAudit => "AKSAudit",
            DerivedTable::AksAuditAdmin => "AKSAuditAdmin",
            DerivedTable::AzureDiagnostics => "AzureDiagnostics",
        }
    }

    /// The derived table named `name`, if it is one.
    pub fn of_table(name: &str) -> Option<DerivedTable> {
        DerivedTable::ALL.into_iter().find(|t| t.name() == name)
    }

    /// The row of `record` (a `CloudAuditEvents` record) in this table, as
    /// a bag keyed by column names, or `None` when the event has no row
    /// here (not a Kubernetes audit event; a read, for `AKSAuditAdmin`).
    /// `log_s` is built only with `build_log` (re-serializing the event is
    /// the costly part; it is skipped when no rule reads the column).
    pub fn row(self, record: &Value, build_log: bool) -> Option<Value> {
        self.row_with(record, |column| build_log || column != "log_s")
    }

    /// The row of `record` with only the columns `builds` names (those the
    /// rules observe: an absent column reads as null), or `None` as for
    /// [`Self::row`].
    pub fn row_with(self, record: &Value, builds: impl Fn(&str) -> bool) -> Option<Value> {
        let Value::Bag(fields) = record else {
            return None;
        };
        let event = kubernetes_event(fields)?;
        if self == DerivedTable::AksAuditAdmin && is_read(event) {
            return None;
        }
        // The cluster, in its cloud's id form; an Azure id when it is one
        // (`AzureResourceId` of EKS and GKE events names Defender's
        // connector, not the cluster).
        let resource_id = non_empty(fields.get("ResourceId"))
            .or_else(|| non_empty(fields.get("AzureResourceId")));
        let azure_id = resource_id.filter(|id| {
            id.get(..15)
                .is_some_and(|head| head.eq_ignore_ascii_case("/subscriptions/"))
        });
        let additional = match fields.get("AdditionalFields") {
            Some(Value::Bag(bag)) => Some(&**bag),
            _ => None,
        };
        let from_additional = |key: &str| additional.and_then(|bag| bag.get(key)).cloned();
        let time = || fields.get("Timestamp").cloned().unwrap_or(Value::Null);
        let lower_id = || match (azure_id, resource_id) {
            (Some(id), _) => Value::from(id.to_ascii_lowercase()),
            (None, Some(id)) => Value::String(id.clone()),
            (None, None) => Value::from_static(""),
        };
        let mut entries: Vec<(Str, Value)> = Vec::with_capacity(8);
        let mut put = |column: &'static str, value: &dyn Fn() -> Value| {
            if builds(column) {
                entries.push((Str::Static(column), value()));
            }
        };
        match self {
            DerivedTable::AksAudit | DerivedTable::AksAuditAdmin => {
                let member = |key: &str| event.get(key).cloned().unwrap_or(Value::Null);
                put("TenantId", &|| Value::from_static(""));
                put("TimeGenerated", &time);
                put("Level", &|| member("Level"));
                put("AuditId", &|| member("AuditId"));
                put("Stage", &|| member("Stage"));
                put("RequestUri", &|| member("RequestURI"));
                put("Verb", &|| member("Verb"));
                put("User", &|| member("User"));
                put("SourceIps", &|| member("SourceIPs"));
                put("UserAgent", &|| member("UserAgent"));
                put("ObjectRef", &|| member("ObjectRef"));
                put("ResponseStatus", &|| member("ResponseStatus"));
                put("RequestObject", &|| member("RequestObject"));
                put("ResponseObject", &|| member("ResponseObject"));
                put("RequestReceivedTime", &|| {
                    member("RequestReceivedTimestamp")
                });
                put("StageReceivedTime", &|| member("StageTimestamp"));
                put("Annotations", &|| member("Annotations"));
                put("PodName", &|| from_additional("Pod").unwrap_or(Value::Null));
                put("SourceSystem", &|| Value::from_static("Azure"));
                put("Type", &|| Value::from_static(self.name()));
                put("_BilledSize", &|| Value::Null);
                put("_IsBillable", &|| Value::from_static(""));
                put("_ResourceId", &lower_id);
                put("_SubscriptionId", &|| {
                    azure_id
                        .and_then(|id| segment_after(id, "subscriptions"))
                        .map_or(Value::from_static(""), |s| {
                            Value::from(s.to_ascii_lowercase())
                        })
                });
            }
            DerivedTable::AzureDiagnostics => {
                let azure = |key: &str| {
                    azure_id
                        .and_then(|id| segment_after(id, key))
                        .map_or(Value::from_static(""), |s| Value::from(s.to_string()))
                };
                put("TenantId", &|| Value::from_static(""));
                put("TimeGenerated", &time);
                put("ResourceId", &|| {
                    resource_id.map_or(Value::from_static(""), |s| Value::String(s.clone()))
                });
                put("Category", &|| match from_additional("Category") {
                    Some(category @ Value::String(_)) => category,
                    _ => Value::from_static("kube-audit"),
                });
                put("ResourceGroup", &|| azure("resourcegroups"));
                put("SubscriptionId", &|| azure("subscriptions"));
                put("ResourceProvider", &|| {
                    Value::from(
                        azure_id
                            .and_then(|id| segment_after(id, "providers"))
                            .map(str::to_ascii_uppercase)
                            .unwrap_or_default(),
                    )
                });
                put("Resource", &|| {
                    from_additional("ClusterName").unwrap_or(Value::Null)
                });
                put("ResourceType", &|| {
                    Value::from(
                        azure_id
                            .and_then(|id| resource_type(id))
                            .map(|s| s.to_ascii_uppercase())
                            .unwrap_or_default(),
                    )
                });
                put("OperationName", &|| {
                    Value::from_static(AKS_DIAGNOSTIC_OPERATION)
                });
                // Its text is written only if a rule reads it as text:
                // `parse_json(log_s)` takes the event as it is.
                put("log_s", &|| Value::String(Str::json(upstream_event(event))));
                put("pod_s", &|| from_additional("Pod").unwrap_or(Value::Null));
                put("stream_s", &|| Value::from_static(""));
                put("containerID_s", &|| Value::from_static(""));
                put("SourceSystem", &|| Value::from_static("Azure"));
                put("Type", &|| Value::from_static("AzureDiagnostics"));
                put("_ResourceId", &lower_id);
            }
        }
        Some(Value::bag(entries))
    }
}

/// True when `fields` is a `CloudAuditEvents` record (it has
/// `RawEventData`), as every native format's normalizer makes and as
/// Defender exports; a row without it is a row of the table itself.
pub fn is_cloud_audit_record(fields: &Value) -> bool {
    matches!(fields, Value::Bag(bag) if bag.get("RawEventData").is_some())
}

/// The Kubernetes audit event of a record: its `RawEventData`, when that is
/// an object holding `Verb`, `AuditId` or `Stage`, and the record is not an
/// Activity Log record.
fn kubernetes_event(fields: &Bag) -> Option<&Bag> {
    if matches!(fields.get("DataSource"), Some(Value::String(s)) if s.as_str() == DATA_SOURCE_ARM) {
        return None;
    }
    match fields.get("RawEventData") {
        Some(Value::Bag(event))
            if ["Verb", "AuditId", "Stage"]
                .iter()
                .any(|k| event.get(k).is_some()) =>
        {
            Some(event)
        }
        _ => None,
    }
}

/// True for the read verbs, which `kube-audit-admin` leaves out.
fn is_read(event: &Bag) -> bool {
    matches!(event.get("Verb"), Some(Value::String(v)) if matches!(v.as_str(), "get" | "list" | "watch"))
}

/// A string value that is not empty.
fn non_empty(value: Option<&Value>) -> Option<&Str> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    }
}

/// The segment after `/NAME/` in an Azure resource id (`NAME` in any
/// case), as written.
fn segment_after<'a>(id: &'a str, name: &str) -> Option<&'a str> {
    let mut parts = id.split('/');
    parts.find(|part| part.eq_ignore_ascii_case(name))?;
    parts.next().filter(|s| !s.is_empty())
}

/// The resource type of an Azure resource id: the segment after the
/// provider (`managedClusters`).
fn resource_type(id: &str) -> Option<&str> {
    let mut parts = id.split('/');
    parts.find(|part| part.eq_ignore_ascii_case("providers"))?;
    parts.next()?;
    parts.next().filter(|s| !s.is_empty())
}

/// The event as the API server wrote it: the upstream (camelCase)
/// top-level keys, undoing [`super::k8s::pascal_case`].
pub fn upstream_event(event: &Bag) -> Value {
    Value::bag(
        event
            .iter()
            .map(|(key, value)| (upstream_key(key), value.clone()))
            .collect(),
    )
}

/// The upstream name of a top-level key of `RawEventData`.
fn upstream_key(key: &str) -> Str {
    // The keys of `audit.k8s.io/v1` events, without allocating.
    let known = match key {
        "Kind" => "kind",
        "ApiVersion" => "apiVersion",
        "Level" => "level",
        "AuditId" => "auditID",
        "Stage" => "stage",
        "RequestURI" => "requestURI",
        "Verb" => "verb",
        "User" => "user",
        "ImpersonatedUser" => "impersonatedUser",
        "SourceIPs" => "sourceIPs",
        "UserAgent" => "userAgent",
        "ObjectRef" => "objectRef",
        "ResponseStatus" => "responseStatus",
        "RequestObject" => "requestObject",
        "ResponseObject" => "responseObject",
        "RequestReceivedTimestamp" => "requestReceivedTimestamp",
        "StageTimestamp" => "stageTimestamp",
        "Annotations" => "annotations",
        _ => "",
    };
    if !known.is_empty() {
        return Str::Static(known);
    }
    let mut chars = key.chars();
    match chars.next() {
        Some(first) if first.is_uppercase() => {
            let mut text: String = first.to_lowercase().collect();
            text.push_str(chars.as_str());
            Str::from(text)
        }
        _ => Str::from(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{InputFormat, Item, Normalizer};
    use kql_runtime::json::{to_json, write_json};

    /// The `CloudAuditEvents` record of one line of native input.
    fn normalized(line: &str) -> Value {
        let mut items: Vec<Item> = Vec::new();
        Normalizer::cloud_audit(InputFormat::Auto).line(line.as_bytes(), &mut items);
        let [Ok(record)] = &items[..] else {
            panic!("{items:?}");
        };
        record.fields.clone()
    }

    const EXEC: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a-1","stage":"ResponseStarted","requestURI":"/api/v1/namespaces/kube-system/pods/p/exec?command=sh","verb":"create","user":{"username":"alice","groups":["dev"]},"sourceIPs":["10.0.0.7","10.0.0.1"],"userAgent":"kubectl/v1.29","objectRef":{"resource":"pods","namespace":"kube-system","name":"p","subresource":"exec"},"responseStatus":{"code":101},"requestReceivedTimestamp":"2024-05-28T10:00:00.000000Z","stageTimestamp":"2024-05-28T10:00:00.100000Z","annotations":{"authorization.k8s.io/decision":"allow"}}"#;

    fn aks_record(category: &str, event: &str) -> String {
        let mut log = String::new();
        write_json(&Value::from(event.to_string()), &mut log);
        format!(
            r#"{{"category":"{category}","operationName":"{AKS_DIAGNOSTIC_OPERATION}","properties":{{"log":{log},"pod":"kube-apiserver-1","stream":"stdout"}},"resourceId":"/SUBSCRIPTIONS/AB-12/RESOURCEGROUPS/RG-1/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/PROD","time":"2024-05-28T10:00:01Z"}}"#
        )
    }

    fn column(row: &Value, key: &str) -> serde_json::Value {
        to_json(row)[key].clone()
    }

    #[test]
    fn aks_audit_columns_come_from_the_event_and_the_envelope() {
        let record = normalized(&aks_record("kube-audit-admin", EXEC));
        let row = DerivedTable::AksAudit.row(&record, false).unwrap();
        assert_eq!(column(&row, "Verb"), "create");
        assert_eq!(column(&row, "AuditId"), "a-1");
        assert_eq!(column(&row, "Level"), "Metadata");
        assert_eq!(column(&row, "Stage"), "ResponseStarted");
        assert_eq!(
            column(&row, "RequestUri"),
            "/api/v1/namespaces/kube-system/pods/p/exec?command=sh"
        );
        assert_eq!(column(&row, "User")["username"], "alice");
        assert_eq!(column(&row, "SourceIps")[1], "10.0.0.1");
        assert_eq!(column(&row, "ObjectRef")["subresource"], "exec");
        assert_eq!(column(&row, "ResponseStatus")["code"], 101);
        assert_eq!(
            column(&row, "Annotations")["authorization.k8s.io/decision"],
            "allow"
        );
        assert_eq!(
            column(&row, "RequestReceivedTime"),
            "2024-05-28T10:00:00.000000Z"
        );
        assert_eq!(column(&row, "PodName"), "kube-apiserver-1");
        assert_eq!(column(&row, "Type"), "AKSAudit");
        assert_eq!(
            column(&row, "_ResourceId"),
            "/subscriptions/ab-12/resourcegroups/rg-1/providers/microsoft.containerservice/managedclusters/prod"
        );
        assert_eq!(column(&row, "_SubscriptionId"), "ab-12");
        let admin = DerivedTable::AksAuditAdmin.row(&record, false).unwrap();
        assert_eq!(column(&admin, "Type"), "AKSAuditAdmin");
    }

    #[test]
    fn aks_audit_admin_leaves_out_reads() {
        for verb in ["get", "list", "watch"] {
            let event = EXEC.replace("\"create\"", &format!("\"{verb}\""));
            let record = normalized(&event);
            assert!(DerivedTable::AksAudit.row(&record, false).is_some());
            assert_eq!(DerivedTable::AksAuditAdmin.row(&record, false), None);
        }
        let record = normalized(&EXEC.replace("\"create\"", "\"patch\""));
        assert!(DerivedTable::AksAuditAdmin.row(&record, false).is_some());
    }

    #[test]
    fn azure_diagnostics_has_the_record_category_and_the_event_as_text() {
        let record = normalized(&aks_record("kube-audit-admin", EXEC));
        let row = DerivedTable::AzureDiagnostics.row(&record, true).unwrap();
        assert_eq!(column(&row, "Category"), "kube-audit-admin");
        assert_eq!(column(&row, "ResourceGroup"), "RG-1");
        assert_eq!(column(&row, "SubscriptionId"), "AB-12");
        assert_eq!(
            column(&row, "ResourceProvider"),
            "MICROSOFT.CONTAINERSERVICE"
        );
        assert_eq!(column(&row, "ResourceType"), "MANAGEDCLUSTERS");
        assert_eq!(column(&row, "Resource"), "PROD");
        assert_eq!(column(&row, "pod_s"), "kube-apiserver-1");
        let log: serde_json::Value =
            serde_json::from_str(column(&row, "log_s").as_str().unwrap()).unwrap();
        let original: serde_json::Value = serde_json::from_str(EXEC).unwrap();
        assert_eq!(log, original, "log_s is the event with its upstream keys");
        // Columns no rule observes are left out (a row reads them as null).
        let unbuilt = DerivedTable::AzureDiagnostics.row(&record, false).unwrap();
        assert_eq!(column(&unbuilt, "log_s"), serde_json::Value::Null);
        let only = DerivedTable::AzureDiagnostics
            .row_with(&record, |c| c == "Category")
            .unwrap();
        assert_eq!(
            to_json(&only),
            serde_json::json!({"Category": "kube-audit-admin"})
        );
        // The text is written when read, and parses back to the value.
        let Value::Bag(fields) = &row else { panic!() };
        let Some(Value::String(text)) = fields.get("log_s") else {
            panic!()
        };
        assert!(text.known_parse().is_some());
        assert_eq!(
            &kql_runtime::text::parse_json_text(text).unwrap(),
            text.known_parse().unwrap()
        );
    }

    #[test]
    fn events_of_other_platforms_are_kube_audit_rows() {
        let record = normalized(EXEC);
        let row = DerivedTable::AzureDiagnostics.row(&record, false).unwrap();
        assert_eq!(column(&row, "Category"), "kube-audit");
        assert_eq!(column(&row, "ResourceId"), "");
        assert_eq!(column(&row, "_ResourceId"), "");
        let audit = DerivedTable::AksAudit.row(&record, false).unwrap();
        assert_eq!(column(&audit, "PodName"), serde_json::Value::Null);
    }

    #[test]
    fn activity_log_records_have_no_rows() {
        let record = normalized(
            r#"{"time":"2024-05-28T10:00:00Z","resourceId":"/SUBSCRIPTIONS/S/RESOURCEGROUPS/G/PROVIDERS/MICROSOFT.COMPUTE/VIRTUALMACHINES/V","operationName":"MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE","category":"Administrative","resultType":"Success","callerIpAddress":"1.2.3.4"}"#,
        );
        for table in DerivedTable::ALL {
            assert_eq!(table.row(&record, true), None, "{}", table.name());
        }
    }

    #[test]
    fn tables_are_found_by_name() {
        for table in DerivedTable::ALL {
            assert_eq!(DerivedTable::of_table(table.name()), Some(table));
        }
        assert_eq!(DerivedTable::of_table("CloudAuditEvents"), None);
        assert_eq!(upstream_key("ObjectRef").as_str(), "objectRef");
    }
}
