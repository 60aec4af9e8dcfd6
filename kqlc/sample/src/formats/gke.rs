//! `gke`: Google Kubernetes Engine audit logs as Cloud Logging entries
//! (`protoPayload` of type `AuditLog`, service `k8s.io`).

use super::Drawn;
use crate::generator::Generator;
use crate::world::{push_username, ACTORS, CLUSTERS, RESOURCES};
use crate::write::{push_datetime, push_json_string, push_u64};

impl Generator {
    /// A Cloud Logging entry of a GKE audit event.
    pub(crate) fn push_gke_entry(&self, out: &mut String, drawn: &Drawn) {
        let event = &self.event;
        let cluster = &CLUSTERS[event.cluster];
        let resource = &RESOURCES[event.resource];
        let mut method = String::from("io.k8s.");
        if resource.group.is_empty() {
            method.push_str("core");
        } else {
            let group = resource.group.trim_end_matches(".k8s.io");
            for (i, part) in group.rsplit('.').enumerate() {
                if i > 0 {
                    method.push('.');
                }
                method.push_str(part);
            }
        }
        method.push('.');
        method.push_str(resource.version);
        method.push('.');
        method.push_str(resource.name);
        if !event.subresource.is_empty() {
            method.push('.');
            method.push_str(event.subresource);
        }
        method.push('.');
        method.push_str(event.verb);
        let mut name = String::from(if resource.group.is_empty() {
            "core"
        } else {
            resource.group
        });
        name.push('/');
        name.push_str(resource.version);
        if !event.namespace.is_empty() {
            name.push_str("/namespaces/");
            name.push_str(event.namespace);
        }
        name.push('/');
        name.push_str(resource.name);
        for part in [event.name.as_str(), event.subresource] {
            if !part.is_empty() {
                name.push('/');
                name.push_str(part);
            }
        }
        let grpc = match event.code {
            403 => 7,
            404 => 5,
            409 if event.verb == "create" => 6,
            409 => 10,
            _ => 0,
        };
        let read = matches!(event.verb, "get" | "list" | "watch");
        out.push_str("{\"insertId\":");
        push_json_string(out, &drawn.audit_id);
        out.push_str(",\"labels\":");
        self.push_annotations(out);
        out.push_str(",\"logName\":\"projects/contoso-prod/logs/cloudaudit.googleapis.com%2F");
        out.push_str(if read { "data_access" } else { "activity" });
        out.push_str("\",\"operation\":{\"first\":true,\"id\":");
        push_json_string(out, &drawn.audit_id);
        out.push_str(",\"last\":true,\"producer\":\"k8s.io\"},\"protoPayload\":{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\",\"authenticationInfo\":{\"principalEmail\":\"");
        push_username(out, &ACTORS[event.actor], event.node);
        out.push_str("\"},\"authorizationInfo\":[{\"granted\":");
        out.push_str(if event.denied { "false" } else { "true" });
        out.push_str(",\"permission\":");
        push_json_string(out, &method);
        out.push_str(",\"resource\":");
        push_json_string(out, &name);
        out.push_str("}],\"methodName\":");
        push_json_string(out, &method);
        if let Some(body) = event.request_object.strip_prefix('{') {
            out.push_str(",\"request\":{\"@type\":\"");
            out.push_str(if resource.group.is_empty() {
                "core"
            } else {
                resource.group
            });
            out.push('/');
            out.push_str(resource.version);
            out.push_str(".Object\",");
            out.push_str(body);
        }
        out.push_str(",\"requestMetadata\":{\"callerIp\":");
        push_json_string(out, &drawn.ip);
        out.push_str(",\"callerSuppliedUserAgent\":");
        push_json_string(out, event.user_agent);
        out.push_str("},\"resourceName\":");
        push_json_string(out, &name);
        out.push_str(",\"serviceName\":\"k8s.io\",\"status\":{\"code\":");
        push_u64(out, grpc);
        if grpc != 0 {
            out.push_str(",\"message\":");
            push_json_string(out, &event.failure_message);
        }
        out.push_str("}},\"receiveTimestamp\":\"");
        push_datetime(out, drawn.stage_end + 412_000, 6);
        out.push_str("\",\"resource\":{\"labels\":{\"cluster_name\":");
        push_json_string(out, cluster.name);
        out.push_str(",\"location\":\"us-central1\",\"project_id\":\"contoso-prod\"},\"type\":\"k8s_cluster\"},\"timestamp\":\"");
        push_datetime(out, drawn.stage_end, 6);
        out.push_str("\"}");
    }
}
