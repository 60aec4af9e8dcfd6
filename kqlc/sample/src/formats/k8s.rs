//! `k8s`: the upstream Kubernetes audit event (`audit.k8s.io/v1`), which
//! every Kubernetes format carries: on-premises clusters write it as is,
//! AKS and EKS wrap it as text, and `CloudAuditEvents` holds it in
//! `RawEventData` with PascalCase keys.

use super::Drawn;
use crate::generator::Generator;
use crate::world::{push_username, ACTORS, RESOURCES};
use crate::write::{push_datetime, push_json_string, push_u64};

impl Generator {
    /// The audit event, with top-level keys named by `keys`.
    pub(crate) fn push_event(&self, out: &mut String, keys: &EventKeys, drawn: &Drawn) {
        let event = &self.event;
        let actor = &ACTORS[event.actor];
        let resource = &RESOURCES[event.resource];
        let key = |out: &mut String, name: &str| {
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
        };
        out.push('{');
        key(out, keys.kind);
        out.push_str("\"Event\",");
        key(out, keys.api_version);
        out.push_str("\"audit.k8s.io/v1\",");
        key(out, keys.level);
        push_json_string(out, event.level);
        out.push(',');
        key(out, keys.audit_id);
        push_json_string(out, &drawn.audit_id);
        out.push(',');
        key(out, keys.stage);
        push_json_string(out, event.stage);
        out.push(',');
        key(out, keys.request_uri);
        push_json_string(out, &event.request_uri);
        out.push(',');
        key(out, keys.verb);
        push_json_string(out, event.verb);
        out.push(',');
        key(out, keys.user);
        out.push_str("{\"username\":\"");
        let username_start = out.len();
        push_username(out, actor, event.node);
        debug_assert!(!out[username_start..].contains(['"', '\\']));
        out.push('"');
        out.push_str(&self.user_tails[event.actor]);
        out.push(',');
        key(out, keys.source_ips);
        out.push('[');
        push_json_string(out, &drawn.ip);
        out.push_str("],");
        key(out, keys.user_agent);
        push_json_string(out, event.user_agent);
        out.push(',');
        key(out, keys.object_ref);
        out.push_str("{\"resource\":");
        push_json_string(out, resource.name);
        if !event.namespace.is_empty() {
            out.push_str(",\"namespace\":");
            push_json_string(out, event.namespace);
        }
        if !event.name.is_empty() {
            out.push_str(",\"name\":");
            push_json_string(out, &event.name);
        }
        if !event.subresource.is_empty() {
            out.push_str(",\"subresource\":");
            push_json_string(out, event.subresource);
        }
        if !resource.group.is_empty() {
            out.push_str(",\"apiGroup\":");
            push_json_string(out, resource.group);
        }
        out.push_str(",\"apiVersion\":");
        push_json_string(out, resource.version);
        out.push_str("},");
        key(out, keys.response_status);
        out.push_str("{\"metadata\":{}");
        if !event.failure_reason.is_empty() {
            out.push_str(",\"status\":\"Failure\",\"message\":");
            push_json_string(out, &event.failure_message);
            out.push_str(",\"reason\":");
            push_json_string(out, event.failure_reason);
            out.push_str(",\"details\":{");
            if !event.name.is_empty() {
                out.push_str("\"name\":");
                push_json_string(out, &event.name);
                out.push(',');
            }
            if !resource.group.is_empty() {
                out.push_str("\"group\":");
                push_json_string(out, resource.group);
                out.push(',');
            }
            out.push_str("\"kind\":");
            push_json_string(out, resource.name);
            out.push('}');
        }
        out.push_str(",\"code\":");
        push_u64(out, u64::from(event.code));
        out.push('}');
        if !event.request_object.is_empty() {
            out.push(',');
            key(out, keys.request_object);
            out.push_str(&event.request_object);
        }
        out.push(',');
        key(out, keys.request_received);
        out.push('"');
        push_datetime(out, drawn.received, 6);
        out.push_str("\",");
        key(out, keys.stage_timestamp);
        out.push('"');
        push_datetime(out, drawn.stage_end, 6);
        out.push_str("\",");
        key(out, keys.annotations);
        self.push_annotations(out);
        out.push('}');
    }

    /// `annotations` of the event: the authorizer's decision.
    pub(crate) fn push_annotations(&self, out: &mut String) {
        let event = &self.event;
        out.push_str("{\"authorization.k8s.io/decision\":\"");
        if event.denied {
            out.push_str("forbid\",\"authorization.k8s.io/reason\":\"\"");
        } else {
            out.push_str("allow\",\"authorization.k8s.io/reason\":");
            push_json_string(out, ACTORS[event.actor].authz_reason);
        }
        out.push_str(event.extra_annotation);
        out.push('}');
    }
}

/// Top-level key names of an audit event: PascalCase in `RawEventData`
/// (as Defender writes it), camelCase as the API server does.
pub(crate) struct EventKeys {
    kind: &'static str,
    api_version: &'static str,
    level: &'static str,
    audit_id: &'static str,
    stage: &'static str,
    request_uri: &'static str,
    verb: &'static str,
    user: &'static str,
    source_ips: &'static str,
    user_agent: &'static str,
    object_ref: &'static str,
    response_status: &'static str,
    request_object: &'static str,
    request_received: &'static str,
    stage_timestamp: &'static str,
    annotations: &'static str,
}

/// Keys as Defender writes them in `RawEventData`.
pub(crate) const PASCAL_KEYS: EventKeys = EventKeys {
    kind: "Kind",
    api_version: "ApiVersion",
    level: "Level",
    audit_id: "AuditId",
    stage: "Stage",
    request_uri: "RequestURI",
    verb: "Verb",
    user: "User",
    source_ips: "SourceIPs",
    user_agent: "UserAgent",
    object_ref: "ObjectRef",
    response_status: "ResponseStatus",
    request_object: "RequestObject",
    request_received: "RequestReceivedTimestamp",
    stage_timestamp: "StageTimestamp",
    annotations: "Annotations",
};

/// Keys as the API server writes them.
pub(crate) const CAMEL_KEYS: EventKeys = EventKeys {
    kind: "kind",
    api_version: "apiVersion",
    level: "level",
    audit_id: "auditID",
    stage: "stage",
    request_uri: "requestURI",
    verb: "verb",
    user: "user",
    source_ips: "sourceIPs",
    user_agent: "userAgent",
    object_ref: "objectRef",
    response_status: "responseStatus",
    request_object: "requestObject",
    request_received: "requestReceivedTimestamp",
    stage_timestamp: "stageTimestamp",
    annotations: "annotations",
};
