//! `gke`: Google Kubernetes Engine audit logs as Cloud Logging stores them
//! (and exports them to Cloud Storage, BigQuery or Pub/Sub as JSON): a
//! `LogEntry` whose `protoPayload` is a `google.cloud.audit.AuditLog` of
//! service `k8s.io`.
//!
//! Cloud Logging keeps the Kubernetes event in its own fields, so the event
//! is rebuilt:
//!
//! | audit event | from |
//! |---|---|
//! | `verb` | the last part of `methodName` (`io.k8s.core.v1.pods.create` → `create`) |
//! | `objectRef` | `resourceName` (`core/v1/namespaces/NS/pods/NAME/exec`: group, version, namespace, resource, name, subresource; `core` is the empty group) |
//! | `requestURI` | the path `resourceName` stands for (`/api/v1/namespaces/NS/pods/NAME/exec`), with the exec `command`s of `request`, if any, as query parameters |
//! | `user.username` | `authenticationInfo.principalEmail` |
//! | `sourceIPs`, `userAgent` | `requestMetadata.callerIp`, `requestMetadata.callerSuppliedUserAgent` |
//! | `responseStatus.code` | the HTTP code: `response.code` when the response is a `Status`; else from `status.code` (gRPC): OK → 101 for `exec`/`attach`/`portforward` (the API server switches protocols), 201 for other `create`s, 200 otherwise; errors by the usual gRPC → HTTP table (7 → 403, 5 → 404, 6 → 409, ...) |
//! | `requestObject`, `responseObject` | `request`, `response` (without `@type`) |
//! | `annotations` | the entry's `labels` (`authorization.k8s.io/decision`, ...) |
//! | `auditID` | `operation.id`, else `insertId` |
//! | `requestReceivedTimestamp`, `stageTimestamp` | `timestamp` |

use super::k8s::{self, Platform};
use super::{
    datetime_field, field, object_field, opt_string, string_field, InputFormat, Record,
    DATA_SOURCE_GKE,
};
use crate::input::describe;
use kql_runtime::value::{Bag, Str, Value};

/// The `@type` of an audit log payload.
pub const AUDIT_LOG_TYPE: &str = "type.googleapis.com/google.cloud.audit.AuditLog";

/// The record of one Cloud Logging entry.
pub fn entry(entry: &Bag) -> Result<Record, String> {
    let payload =
        object_field(entry, "protoPayload", "protoPayload")?.ok_or("protoPayload: missing")?;
    match string_field(payload, "@type", "protoPayload.@type")? {
        Some(t) if t.as_str() == AUDIT_LOG_TYPE => {}
        other => {
            return Err(format!(
                "protoPayload.@type is {}, not {AUDIT_LOG_TYPE}",
                other.map_or("missing".to_string(), |t| format!(
                    "'{}'",
                    crate::input::clip(t)
                ))
            ))
        }
    }
    let service = string_field(payload, "serviceName", "protoPayload.serviceName")?;
    if let Some(service) = service {
        if service.as_str() != "k8s.io" {
            return Err(format!(
                "protoPayload.serviceName is '{}': only Kubernetes API audit entries (k8s.io) are read",
                crate::input::clip(service)
            ));
        }
    }
    let method = string_field(payload, "methodName", "protoPayload.methodName")?;
    let resource_name = string_field(payload, "resourceName", "protoPayload.resourceName")?;
    let verb = method
        .and_then(|m| m.rsplit('.').next())
        .unwrap_or_default();
    let path = resource_name.and_then(|name| ResourcePath::parse(name));
    let subresource = path.as_ref().and_then(|p| {
        p.subresource
            .or_else(|| method.and_then(|m| subresource_from_method(m, p.resource?, verb)))
    });

    let request = object_field(payload, "request", "protoPayload.request")?;
    let response = object_field(payload, "response", "protoPayload.response")?;
    let code = response_code(payload, response, verb, subresource)?;

    let mut event: Vec<(&'static str, Value)> = vec![
        ("kind", Value::from_static("Event")),
        ("apiVersion", Value::from_static("audit.k8s.io/v1")),
        (
            "level",
            Value::from_static(match (request.is_some(), response.is_some()) {
                (_, true) => "RequestResponse",
                (true, false) => "Request",
                _ => "Metadata",
            }),
        ),
    ];
    let operation = object_field(entry, "operation", "operation")?;
    let audit_id = match operation {
        Some(op) => string_field(op, "id", "operation.id")?,
        None => None,
    }
    .or(string_field(entry, "insertId", "insertId")?);
    event.push(("auditID", opt_string(audit_id)));
    let connect = subresource.is_some_and(is_connect);
    event.push((
        "stage",
        Value::from_static(if connect && code == 101 {
            "ResponseStarted"
        } else {
            "ResponseComplete"
        }),
    ));
    let uri = match &path {
        Some(p) => p.request_uri(subresource, request),
        None => format!(
            "/{}",
            resource_name.map_or("", |n| n.trim_start_matches('/'))
        ),
    };
    event.push(("requestURI", Value::string(uri)));
    event.push(("verb", Value::string(verb)));
    let authentication = object_field(
        payload,
        "authenticationInfo",
        "protoPayload.authenticationInfo",
    )?;
    if let Some(user) = authentication {
        let name = string_field(
            user,
            "principalEmail",
            "protoPayload.authenticationInfo.principalEmail",
        )?;
        event.push((
            "user",
            Value::bag(vec![(Str::Static("username"), opt_string(name))]),
        ));
    }
    let metadata = object_field(payload, "requestMetadata", "protoPayload.requestMetadata")?;
    if let Some(metadata) = metadata {
        if let Some(ip) = string_field(
            metadata,
            "callerIp",
            "protoPayload.requestMetadata.callerIp",
        )? {
            event.push(("sourceIPs", Value::array(vec![Value::String(ip.clone())])));
        }
        let agent = string_field(
            metadata,
            "callerSuppliedUserAgent",
            "protoPayload.requestMetadata.callerSuppliedUserAgent",
        )?;
        event.push(("userAgent", opt_string(agent)));
    }
    if let Some(p) = &path {
        event.push(("objectRef", p.object_ref(subresource)));
    }
    event.push(("responseStatus", response_status(payload, code)?));
    if let Some(request) = request {
        event.push(("requestObject", without_type(request)));
    }
    if let Some(response) = response {
        event.push(("responseObject", without_type(response)));
    }
    let time = field(entry, "timestamp").cloned();
    event.push(("requestReceivedTimestamp", time.clone().unwrap_or_default()));
    event.push(("stageTimestamp", time.unwrap_or_default()));
    if let Some(labels) = object_field(entry, "labels", "labels")? {
        event.push((
            "annotations",
            Value::Bag(std::sync::Arc::new(labels.clone())),
        ));
    }
    let event = super::sparse_bag(event);
    let Value::Bag(event) = &event else {
        return Err("internal: the rebuilt event is not an object".to_string());
    };

    let resource = object_field(entry, "resource", "resource")?;
    let labels = match resource {
        Some(r) => object_field(r, "labels", "resource.labels")?,
        None => None,
    };
    let label = |key: &str| -> Result<Option<&Str>, String> {
        match labels {
            Some(l) => string_field(l, key, &format!("resource.labels.{key}")),
            None => Ok(None),
        }
    };
    let (project, location, cluster) = (
        label("project_id")?,
        label("location")?,
        label("cluster_name")?,
    );
    let resource_id = match (project, location, cluster) {
        (Some(p), Some(l), Some(c)) => Some(Str::from(format!(
            "//container.googleapis.com/projects/{}/locations/{}/clusters/{}",
            p.as_str(),
            l.as_str(),
            c.as_str()
        ))),
        _ => None,
    };
    let platform = Platform {
        format: InputFormat::Gke,
        data_source: DATA_SOURCE_GKE,
        resource_id,
        azure_resource_id: None,
        additional: vec![
            ("ClusterName", opt_string(cluster)),
            ("ProjectId", opt_string(project)),
            ("Location", opt_string(location)),
            (
                "LogName",
                opt_string(string_field(entry, "logName", "logName")?),
            ),
            (
                "InsertId",
                opt_string(string_field(entry, "insertId", "insertId")?),
            ),
            ("MethodName", opt_string(method)),
        ],
        fallback_time: datetime_field(entry, "receiveTimestamp", "receiveTimestamp")?,
    };
    k8s::event_record(event, &platform).map(|fields| Record::new(InputFormat::Gke, fields))
}

/// Subresources that switch the connection to a stream (HTTP 101).
fn is_connect(subresource: &str) -> bool {
    matches!(subresource, "exec" | "attach" | "portforward")
}

/// `io.k8s.core.v1.pods.exec.create` with resource `pods` → `exec`.
fn subresource_from_method<'a>(method: &'a str, resource: &str, verb: &str) -> Option<&'a str> {
    let parts: Vec<&str> = method.split('.').collect();
    let n = parts.len();
    (n >= 3 && parts[n - 1] == verb && parts[n - 3] == resource).then(|| parts[n - 2])
}

/// The HTTP status code of the request.
fn response_code(
    payload: &Bag,
    response: Option<&Bag>,
    verb: &str,
    subresource: Option<&str>,
) -> Result<i64, String> {
    if let Some(response) = response {
        let is_status = matches!(field(response, "@type"), Some(Value::String(t)) if t.ends_with("v1.Status"))
            || matches!(field(response, "kind"), Some(Value::String(k)) if k.as_str() == "Status");
        if is_status {
            if let Some(code) = field(response, "code") {
                k8s::check_status_code(code, "protoPayload.response.code")?;
                if let Value::Long(code) = code {
                    return Ok(*code);
                }
            }
        }
    }
    let grpc = grpc_code(payload)?;
    Ok(match grpc {
        0 if subresource.is_some_and(is_connect) => 101,
        0 if verb == "create" => 201,
        0 => 200,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    })
}

/// `status.code` (gRPC); absent means OK.
fn grpc_code(payload: &Bag) -> Result<i64, String> {
    let Some(status) = object_field(payload, "status", "protoPayload.status")? else {
        return Ok(0);
    };
    match field(status, "code") {
        None => Ok(0),
        Some(Value::Long(code)) => Ok(*code),
        Some(other) => {
            k8s::check_status_code(other, "protoPayload.status.code")?;
            Err(format!(
                "protoPayload.status.code: expected a whole number, found {}",
                describe(other)
            ))
        }
    }
}

/// `responseStatus` of the rebuilt event.
fn response_status(payload: &Bag, code: i64) -> Result<Value, String> {
    let mut entries = vec![
        (Str::Static("metadata"), Value::bag(Vec::new())),
        (Str::Static("code"), Value::Long(code)),
    ];
    if code >= 400 {
        entries.push((Str::Static("status"), Value::from_static("Failure")));
        if let Some(status) = object_field(payload, "status", "protoPayload.status")? {
            if let Some(message) = string_field(status, "message", "protoPayload.status.message")? {
                entries.push((Str::Static("message"), Value::String(message.clone())));
            }
        }
    }
    Ok(Value::bag(entries))
}

/// An object without its protobuf `@type`.
fn without_type(object: &Bag) -> Value {
    Value::bag(
        object
            .iter()
            .filter(|(key, _)| *key != "@type")
            .map(|(key, value)| (Str::from(key), value.clone()))
            .collect(),
    )
}

/// What a `resourceName` names: `GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]`.
#[derive(Debug, PartialEq)]
struct ResourcePath<'a> {
    /// `core` for the core group.
    group: &'a str,
    version: &'a str,
    namespace: Option<&'a str>,
    resource: Option<&'a str>,
    name: Option<&'a str>,
    subresource: Option<&'a str>,
}

impl<'a> ResourcePath<'a> {
    /// `None` for a non-resource path (`readyz`, `apis`, `version`).
    fn parse(name: &'a str) -> Option<ResourcePath<'a>> {
        let parts: Vec<&str> = name.trim_matches('/').split('/').collect();
        if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let version = parts[1];
        let looks_like_version =
            version.starts_with('v') && version.as_bytes().get(1).is_some_and(u8::is_ascii_digit);
        if !looks_like_version {
            return None;
        }
        let mut rest = &parts[2..];
        let mut namespace = None;
        // `namespaces/NS/RESOURCE...`, except `namespaces/NS/status` and
        // `namespaces/NS/finalize`, which are the namespace's own
        // subresources (as the API server's request parser has it).
        if rest[0] == "namespaces"
            && rest.len() >= 3
            && !(rest.len() == 3 && matches!(rest[2], "status" | "finalize"))
        {
            namespace = Some(rest[1]);
            rest = &rest[2..];
        }
        Some(ResourcePath {
            group: parts[0],
            version,
            namespace,
            resource: rest.first().copied(),
            name: rest.get(1).copied(),
            subresource: rest.get(2).copied(),
        })
    }

    /// The request path, as the API server would have logged it.
    fn request_uri(&self, subresource: Option<&str>, request: Option<&Bag>) -> String {
        let mut uri = if self.group == "core" {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        if let Some(ns) = self.namespace {
            uri.push_str("/namespaces/");
            uri.push_str(ns);
        }
        for part in [self.resource, self.name, subresource]
            .into_iter()
            .flatten()
        {
            uri.push('/');
            uri.push_str(part);
        }
        if let (Some("exec" | "attach"), Some(request)) = (subresource, request) {
            uri.push_str(&exec_query(request));
        }
        uri
    }

    /// `objectRef` of the rebuilt event.
    fn object_ref(&self, subresource: Option<&str>) -> Value {
        let string = |s: Option<&str>| s.map_or(Value::Null, Value::string);
        let group = (self.group != "core").then_some(self.group);
        super::sparse_bag(vec![
            ("resource", string(self.resource)),
            ("namespace", string(self.namespace)),
            ("name", string(self.name)),
            ("subresource", string(subresource)),
            ("apiGroup", string(group)),
            ("apiVersion", string(Some(self.version))),
        ])
    }
}

/// `?command=...&container=...` from an exec request (`PodExecOptions`), so
/// that queries reading the command from `RequestURI` work.
fn exec_query(request: &Bag) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let mut pairs = Vec::new();
    match field(request, "command") {
        Some(Value::Array(words)) => {
            for word in words.iter() {
                pairs.push(("command", kql_runtime::text::to_text(word).into_owned()));
            }
        }
        Some(Value::String(word)) => pairs.push(("command", word.to_string())),
        _ => {}
    }
    if let Some(Value::String(container)) = field(request, "container") {
        pairs.push(("container", container.to_string()));
    }
    if pairs.is_empty() {
        return String::new();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
        .collect();
    format!("?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_are_split_like_request_paths() {
        let p = ResourcePath::parse("core/v1/namespaces/kube-system/pods/x/exec").unwrap();
        assert_eq!(
            (p.group, p.namespace, p.resource, p.name, p.subresource),
            (
                "core",
                Some("kube-system"),
                Some("pods"),
                Some("x"),
                Some("exec")
            )
        );
        let p =
            ResourcePath::parse("rbac.authorization.k8s.io/v1/clusterrolebindings/admin").unwrap();
        assert_eq!(
            (p.namespace, p.resource, p.name),
            (None, Some("clusterrolebindings"), Some("admin"))
        );
        let p = ResourcePath::parse("core/v1/namespaces/foo").unwrap();
        assert_eq!(
            (p.namespace, p.resource, p.name),
            (None, Some("namespaces"), Some("foo"))
        );
        let p = ResourcePath::parse("core/v1/namespaces/foo/finalize").unwrap();
        assert_eq!(
            (p.resource, p.name, p.subresource),
            (Some("namespaces"), Some("foo"), Some("finalize"))
        );
        assert_eq!(ResourcePath::parse("readyz"), None);
        assert_eq!(ResourcePath::parse("HNAP1"), None);
        assert_eq!(
            p.request_uri(Some("finalize"), None),
            "/api/v1/namespaces/foo/finalize"
        );
    }

    #[test]
    fn methods_give_verbs_and_subresources() {
        assert_eq!(
            subresource_from_method("io.k8s.core.v1.pods.exec.create", "pods", "create"),
            Some("exec")
        );
        assert_eq!(
            subresource_from_method("io.k8s.core.v1.pods.create", "pods", "create"),
            None
        );
    }
}
