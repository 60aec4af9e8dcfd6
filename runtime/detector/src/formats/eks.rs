//! `eks`: Amazon EKS control-plane audit logs from CloudWatch Logs (log
//! group `/aws/eks/CLUSTER/cluster`, streams `kube-apiserver-audit-*`),
//! where the audit event is the message body. Read in these forms:
//!
//! - the subscription payload (what a Lambda, Kinesis or Firehose
//!   subscription receives, gunzipped): `{"messageType": "DATA_MESSAGE",
//!   "owner", "logGroup", "logStream", "logEvents": [{"id", "timestamp",
//!   "message"}]}`; `CONTROL_MESSAGE` payloads (CloudWatch's health checks)
//!   carry no events and give no rows;
//! - `{"events": [...]}` as `aws logs filter-log-events` prints it, and a
//!   lone event `{"timestamp", "message", ...}`;
//! - lines of an S3 export: `2024-05-28T10:00:00.000Z {"kind":"Event",...}`;
//! - the message bodies alone (audit `Event`s, one per line) with
//!   `--input-format eks`: nothing in them says EKS, so `auto` reads them
//!   as `k8s`.

use super::k8s::{self, Platform};
use super::{
    datetime_from_millis, field, opt_string, parse_datetime_text, string_field, InputFormat, Item,
    Record, Rejection,
};
use crate::input::describe;
use kql_runtime::text::parse_json_text;
use kql_runtime::value::{Bag, Str, Value};

/// The records of a subscription payload, one per element of `logEvents`.
pub fn payload(payload: &Bag, out: &mut Vec<Item>) {
    let context = match payload_platform(payload) {
        Ok(Some(platform)) => platform,
        Ok(None) => return,
        Err(cause) => {
            out.push(Err(Rejection::whole(cause)));
            return;
        }
    };
    batch(payload, "logEvents", &context, out);
}

/// What the envelope says about the cluster, or `None` for a control
/// message.
fn payload_platform(payload: &Bag) -> Result<Option<Platform>, String> {
    if string_field(payload, "messageType", "messageType")?.map(Str::as_str)
        == Some("CONTROL_MESSAGE")
    {
        return Ok(None);
    }
    let owner = string_field(payload, "owner", "owner")?;
    let log_group = string_field(payload, "logGroup", "logGroup")?;
    let log_stream = string_field(payload, "logStream", "logStream")?;
    let cluster = log_group.and_then(|group| cluster_of_log_group(group));
    // The payload does not carry the region: the ARN leaves it empty.
    let resource_id = match (owner, &cluster) {
        (Some(owner), Some(cluster)) => Some(Str::from(format!(
            "arn:aws:eks::{}:cluster/{cluster}",
            owner.as_str()
        ))),
        _ => None,
    };
    Ok(Some(Platform {
        resource_id,
        additional: vec![
            ("ClusterName", opt_string(cluster.map(Str::from).as_ref())),
            ("AccountId", opt_string(owner)),
            ("LogGroup", opt_string(log_group)),
            ("LogStream", opt_string(log_stream)),
        ],
        ..Platform::eks_bare()
    }))
}

/// `/aws/eks/NAME/cluster` → `NAME`.
fn cluster_of_log_group(group: &str) -> Option<&str> {
    group
        .strip_prefix("/aws/eks/")?
        .strip_suffix("/cluster")
        .filter(|name| !name.is_empty())
}

/// `{"events": [...]}` from the CloudWatch Logs API.
pub fn events(list: &Bag, out: &mut Vec<Item>) {
    batch(list, "events", &Platform::eks_bare(), out);
}

/// One record per element of the array under `key`.
fn batch(envelope: &Bag, key: &str, platform: &Platform, out: &mut Vec<Item>) {
    let events = match field(envelope, key) {
        Some(Value::Array(events)) => events,
        None => {
            out.push(Err(Rejection::whole(format!("{key}: missing"))));
            return;
        }
        Some(other) => {
            out.push(Err(Rejection::whole(format!(
                "{key}: expected an array, found {}",
                describe(other)
            ))));
            return;
        }
    };
    for (i, event) in events.iter().enumerate() {
        let record = match event {
            Value::Bag(event) => log_event(event, platform),
            other => Err(format!("expected a JSON object, found {}", describe(other))),
        };
        let at = format!("{key}[{i}]");
        out.push(match record {
            Ok(record) => Ok(record.located(at)),
            Err(cause) => Err(Rejection::at(at, cause)),
        });
    }
}

/// The record of one CloudWatch Logs event: its message is the audit event.
pub fn log_event(event: &Bag, platform: &Platform) -> Result<Record, String> {
    let message = string_field(event, "message", "message")?.ok_or("message: missing")?;
    let parsed = parse_json_text(message).map_err(|e| {
        format!("message is not JSON (is this an audit log stream, kube-apiserver-audit-*?): {e}")
    })?;
    let audit = k8s::audit_event(&parsed, "message")?;
    let mut platform = platform.clone();
    if let Some(time) = field(event, "timestamp") {
        platform.fallback_time = Some(datetime_from_millis(time, "timestamp")?);
    }
    for (key, name) in [
        ("id", "EventId"),
        ("eventId", "EventId"),
        ("logStreamName", "LogStream"),
    ] {
        if let Some(value) = string_field(event, key, key)? {
            platform.additional.retain(|(k, _)| *k != name);
            platform
                .additional
                .push((name, Value::String(value.clone())));
        }
    }
    k8s::event_record(audit, &platform).map(|fields| Record::new(InputFormat::Eks, fields))
}

/// Splits a line of a CloudWatch Logs export to S3,
/// `2024-05-28T10:00:00.000Z {...}`, into its time and its message.
pub fn split_export_line(line: &str) -> Option<(&str, &str)> {
    if !line.as_bytes().first()?.is_ascii_digit() {
        return None;
    }
    let (time, message) = line.split_once(' ')?;
    let message = message.trim_start();
    (message.starts_with('{') && kql_runtime::text::parse_datetime(time).is_some())
        .then_some((time, message))
}

/// The record of an export line split by [`split_export_line`].
pub fn export_line(time: &str, message: &str, out: &mut Vec<Item>) {
    let record = (|| {
        let parsed = parse_json_text(message).map_err(|e| format!("malformed JSON: {e}"))?;
        let audit = k8s::audit_event(&parsed, "message")?;
        let platform = Platform {
            fallback_time: Some(parse_datetime_text(time, "time")?),
            ..Platform::eks_bare()
        };
        k8s::event_record(audit, &platform).map(|fields| Record::new(InputFormat::Eks, fields))
    })();
    out.push(record.map_err(Rejection::whole));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_groups_name_their_cluster() {
        assert_eq!(cluster_of_log_group("/aws/eks/prod/cluster"), Some("prod"));
        assert_eq!(cluster_of_log_group("/aws/eks//cluster"), None);
        assert_eq!(cluster_of_log_group("/aws/lambda/x"), None);
    }

    #[test]
    fn export_lines_split_at_the_first_space() {
        assert_eq!(
            split_export_line("2024-05-28T10:00:00.000Z {\"a\":1}"),
            Some(("2024-05-28T10:00:00.000Z", "{\"a\":1}"))
        );
        assert_eq!(split_export_line("{\"a\":1}"), None);
        assert_eq!(split_export_line("2024 is a year {"), None);
    }
}
