//! `cloudaudit`: `CloudAuditEvents` rows as Microsoft Defender exports them
//! (see `examples/data/audit.jsonl`), for Kubernetes events and Resource
//! Manager operations alike.

use super::k8s::PASCAL_KEYS;
use super::Drawn;
use crate::generator::{ArmOperation, Generator};
use crate::world::{Client, ARM_CALLERS, ARM_OPERATIONS, CLUSTERS};
use crate::write::{push_datetime, push_json_string};

impl Generator {
    /// A `CloudAuditEvents` row of a Kubernetes event.
    pub(crate) fn render_row(&self, out: &mut String, drawn: &Drawn) {
        let event = &self.event;
        let cluster = &CLUSTERS[event.cluster];
        out.push_str("{\"Timestamp\":\"");
        push_datetime(out, event.time_us, 3);
        out.push_str("\",\"ReportId\":\"");
        out.push_str(&drawn.report_id);
        out.push_str("\",\"DataSource\":");
        push_json_string(out, cluster.data_source);
        out.push_str(",\"ActionType\":\"");
        out.push_str(match event.verb {
            "create" => "Create",
            "update" | "patch" => "Update",
            "delete" => "Delete",
            _ => "Read",
        });
        out.push_str("\",\"OperationName\":");
        push_json_string(out, event.verb);
        out.push_str(",\"ResourceId\":");
        push_json_string(out, cluster.resource_id);
        out.push_str(",\"AzureResourceId\":");
        push_json_string(out, cluster.azure_resource_id);
        out.push_str(",\"IPAddress\":");
        push_json_string(out, &drawn.ip);
        push_geolocation(out, event.client);
        out.push_str(",\"UserAgent\":");
        push_json_string(out, event.user_agent);
        out.push_str(",\"RawEventData\":");
        self.push_event(out, &PASCAL_KEYS, drawn);
        out.push_str(",\"AdditionalFields\":{\"ClusterName\":");
        push_json_string(out, cluster.name);
        out.push_str(",\"Category\":\"kube-audit\"}}\n");
    }

    /// A `CloudAuditEvents` row of a Resource Manager operation.
    pub(crate) fn render_arm_row(&self, out: &mut String, op: ArmOperation, drawn: &Drawn) {
        let (operation, resource_id, _) = ARM_OPERATIONS[op.operation];
        out.push_str("{\"Timestamp\":\"");
        push_datetime(out, self.event.time_us, 3);
        out.push_str("\",\"ReportId\":\"");
        out.push_str(&drawn.report_id);
        out.push_str("\",\"DataSource\":\"Azure Resource Manager\",\"ActionType\":\"");
        out.push_str(match operation.rsplit('/').next() {
            Some("write") => "Update",
            Some("delete") => "Delete",
            Some("action") => "Other",
            _ => "Unknown",
        });
        out.push_str("\",\"OperationName\":");
        push_json_string(out, operation);
        out.push_str(",\"ResourceId\":");
        push_json_string(out, resource_id);
        out.push_str(",\"AzureResourceId\":");
        push_json_string(out, resource_id);
        out.push_str(",\"IPAddress\":");
        push_json_string(out, &drawn.ip);
        push_geolocation(out, self.event.client);
        out.push_str(",\"UserAgent\":\"\",\"RawEventData\":");
        self.push_arm_record(out, op, drawn, false);
        out.push_str(",\"status\":");
        push_json_string(out, op.result.0);
        out.push_str(",\"subStatus\":");
        push_json_string(out, op.result.1);
        out.push_str("},\"AdditionalFields\":{\"Category\":\"Administrative\",\"Caller\":");
        push_json_string(out, ARM_CALLERS[op.caller].0);
        out.push_str("}}\n");
    }
}

/// Defender's geolocation of the client: known for people, empty for
/// addresses inside a cluster.
fn push_geolocation(out: &mut String, client: Option<&Client>) {
    match client {
        Some(client) => {
            out.push_str(",\"IsAnonymousProxy\":");
            out.push_str(client.anonymous_proxy);
            out.push_str(",\"CountryCode\":");
            push_json_string(out, client.country);
            out.push_str(",\"City\":");
            push_json_string(out, client.city);
            out.push_str(",\"Isp\":");
            push_json_string(out, client.isp);
        }
        None => out
            .push_str(",\"IsAnonymousProxy\":null,\"CountryCode\":\"\",\"City\":\"\",\"Isp\":\"\""),
    }
}
