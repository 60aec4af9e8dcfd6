//! Input formats: turning what each platform exports into `CloudAuditEvents`
//! records.
//!
//! A *unit* of input (one JSON line, or one value of a multi-line document;
//! see [`crate::input`]) becomes zero or more [`Item`]s: each a [`Record`]
//! (a bag keyed by the table's column names, which
//! [`crate::input::record_to_row`] lays out as a row) or a [`Rejection`]
//! saying where and why. A batch (an EventList's `items`, an Azure
//! `{"records": [...]}` file, a CloudWatch Logs `logEvents` payload) gives
//! one item per element; nothing in it is dropped without an item.
//!
//! | format | module | what it reads |
//! |---|---|---|
//! | `cloudaudit` | [`cloudaudit`] | rows of the table itself |
//! | `k8s` | [`k8s`] | upstream `audit.k8s.io` `Event`s and `EventList`s |
//! | `aks` | [`aks`] | Azure diagnostic records of `kube-audit` / `kube-audit-admin` |
//! | `eks` | [`eks`] | EKS audit events from CloudWatch Logs |
//! | `gke` | [`gke`] | Cloud Logging audit entries of GKE (`k8s.io`) |
//! | `arm` | [`arm`] | Azure Activity Log (Resource Manager) records |
//!
//! Rules over `AKSAudit`, `AKSAuditAdmin` or `AzureDiagnostics` get rows
//! derived from these records ([`tables`]).
//!
//! With `auto` (the default) the format is decided per unit from its shape
//! ([`detect`]). `docs/input-formats.md` has the column mapping and the
//! reasons for it.

pub mod aks;
pub mod arm;
pub mod cloudaudit;
pub mod detect;
pub mod eks;
pub mod gke;
pub mod k8s;
pub mod tables;

use crate::input::{clip, describe, json_kind};
use kql_runtime::query::ColumnType;
use kql_runtime::text;
use kql_runtime::value::{Bag, DateTime, Str, Value};
use std::fmt;

/// The columns of `CloudAuditEvents`, in table order: the keys of every
/// record a native-format normalizer makes.
pub const CLOUD_AUDIT_COLUMNS: [&str; 15] = [
    "Timestamp",
    "ReportId",
    "DataSource",
    "ActionType",
    "OperationName",
    "ResourceId",
    "AzureResourceId",
    "IPAddress",
    "IsAnonymousProxy",
    "CountryCode",
    "City",
    "Isp",
    "UserAgent",
    "RawEventData",
    "AdditionalFields",
];

/// [`CLOUD_AUDIT_COLUMNS`] with their types, as the built-in schema
/// declares them: the layout in which the lazy reader reads the records of
/// the derived tables (each value converted as `record_to_row` converts
/// it, so that rows of every table are the general path's), and the fuzz
/// targets' row layout.
pub static CLOUD_AUDIT_RECORD: [(&str, ColumnType); 15] = [
    ("Timestamp", ColumnType::DateTime),
    ("ReportId", ColumnType::String),
    ("DataSource", ColumnType::String),
    ("ActionType", ColumnType::String),
    ("OperationName", ColumnType::String),
    ("ResourceId", ColumnType::String),
    ("AzureResourceId", ColumnType::String),
    ("IPAddress", ColumnType::String),
    ("IsAnonymousProxy", ColumnType::Bool),
    ("CountryCode", ColumnType::String),
    ("City", ColumnType::String),
    ("Isp", ColumnType::String),
    ("UserAgent", ColumnType::String),
    ("RawEventData", ColumnType::Dynamic),
    ("AdditionalFields", ColumnType::Dynamic),
];

/// `DataSource` of events from Azure Kubernetes Service.
pub const DATA_SOURCE_AKS: &str = "Azure Kubernetes Service";
/// `DataSource` of events from Amazon Elastic Kubernetes Service.
pub const DATA_SOURCE_EKS: &str = "Amazon Elastic Kubernetes Service";
/// `DataSource` of events from Google Kubernetes Engine.
pub const DATA_SOURCE_GKE: &str = "Google Kubernetes Engine";
/// `DataSource` of events from any other (on-premises, self-managed)
/// Kubernetes cluster: the name the `CloudAuditEvents` reference gives to
/// Kubernetes audit data in general.
pub const DATA_SOURCE_KUBERNETES: &str = "Kubernetes Audit";
/// `DataSource` of Azure Resource Manager (Activity Log) events.
pub const DATA_SOURCE_ARM: &str = "Azure Resource Manager";

/// How input is to be read: one format, or decided per unit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Decide per unit from its shape.
    #[default]
    Auto,
    /// Rows of `CloudAuditEvents` (or of the table the rules read).
    CloudAudit,
    /// Upstream Kubernetes audit events (on-premises clusters).
    K8s,
    /// Azure Kubernetes Service diagnostic records.
    Aks,
    /// Amazon EKS audit events via CloudWatch Logs.
    Eks,
    /// Google Kubernetes Engine audit log entries.
    Gke,
    /// Azure Activity Log records.
    Arm,
}

impl InputFormat {
    /// Every format, in the order of [`InputFormat::name`]s in usage text.
    pub const ALL: [InputFormat; 7] = [
        InputFormat::Auto,
        InputFormat::CloudAudit,
        InputFormat::K8s,
        InputFormat::Aks,
        InputFormat::Eks,
        InputFormat::Gke,
        InputFormat::Arm,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Auto => "auto",
            InputFormat::CloudAudit => "cloudaudit",
            InputFormat::K8s => "k8s",
            InputFormat::Aks => "aks",
            InputFormat::Eks => "eks",
            InputFormat::Gke => "gke",
            InputFormat::Arm => "arm",
        }
    }

    /// The format of a command-line name.
    pub fn from_name(name: &str) -> Option<InputFormat> {
        InputFormat::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One record made from input: the fields of a row, by column name.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The format it was read as (never [`InputFormat::Auto`]).
    pub format: InputFormat,
    /// A [`Value::Bag`] keyed by column names.
    pub fields: Value,
    /// Where in the unit it came from, for an element of a batch
    /// (`records[3]`), or empty; messages about the record name it.
    pub at: String,
}

impl Record {
    /// A record that is the whole unit.
    pub fn new(format: InputFormat, fields: Value) -> Record {
        Record {
            format,
            fields,
            at: String::new(),
        }
    }

    /// The record, as element `at` of a batch.
    pub fn located(mut self, at: String) -> Record {
        self.at = at;
        self
    }
}

/// Why (part of) a unit was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// Where in the unit, for an element of a batch (`records[3]`), or empty.
    pub at: String,
    /// What is wrong.
    pub cause: String,
}

impl Rejection {
    /// A rejection of the whole unit.
    pub fn whole(cause: impl Into<String>) -> Rejection {
        Rejection {
            at: String::new(),
            cause: cause.into(),
        }
    }

    /// A rejection of an element of a batch.
    pub fn at(at: impl Into<String>, cause: impl Into<String>) -> Rejection {
        Rejection {
            at: at.into(),
            cause: cause.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            f.write_str(&self.cause)
        } else {
            write!(f, "{}: {}", self.at, self.cause)
        }
    }
}

/// What a unit gives: a record, or a rejection.
pub type Item = Result<Record, Rejection>;

/// Turns units of input into records, in one format or detecting each.
#[derive(Clone, Debug)]
pub struct Normalizer {
    format: InputFormat,
    /// Column names of the tables the rules read: an object whose keys are
    /// among them is a row.
    row_columns: Vec<&'static str>,
}

impl Normalizer {
    /// A normalizer for `format`; `row_columns` are the column names of the
    /// tables read (for `cloudaudit` rows of other tables in `auto`).
    pub fn new(format: InputFormat, row_columns: Vec<&'static str>) -> Normalizer {
        Normalizer {
            format,
            row_columns,
        }
    }

    /// A normalizer for `format` over `CloudAuditEvents` rows.
    pub fn cloud_audit(format: InputFormat) -> Normalizer {
        Normalizer::new(format, CLOUD_AUDIT_COLUMNS.to_vec())
    }

    /// The format this normalizer reads.
    pub fn format(&self) -> InputFormat {
        self.format
    }

    /// Normalizes one line of JSON-lines input into `out` (which is not
    /// cleared). The line may hold several concatenated JSON objects (as
    /// Firehose writes CloudWatch payloads); a line that is not valid UTF-8
    /// or JSON, or holds a JSON value other than an object, is one
    /// rejection.
    pub fn line(&self, line: &[u8], out: &mut Vec<Item>) {
        let text = match std::str::from_utf8(line) {
            Ok(text) => text,
            Err(e) => {
                out.push(Err(Rejection::whole(format!(
                    "invalid UTF-8 at byte {}",
                    e.valid_up_to() + 1
                ))));
                return;
            }
        };
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let first = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => {
                if self.accepts(InputFormat::Eks) {
                    if let Some((time, event)) = eks::split_export_line(text) {
                        eks::export_line(time, event, out);
                        return;
                    }
                }
                out.push(Err(Rejection::whole(format!("malformed JSON: {e}"))));
                return;
            }
            None => {
                out.push(Err(Rejection::whole("malformed JSON: no value")));
                return;
            }
        };
        let offset = stream.byte_offset();
        if text[offset..].trim_ascii().is_empty() {
            self.line_value(first, out);
            return;
        }
        // Several values on one line: all must parse before any is used,
        // so a line is either read or rejected as a whole.
        let mut values = vec![first];
        for next in stream {
            match next {
                Ok(value) => values.push(value),
                Err(e) => {
                    out.push(Err(Rejection::whole(format!("malformed JSON: {e}"))));
                    return;
                }
            }
        }
        let several = values.len();
        for (i, value) in values.into_iter().enumerate() {
            let start = out.len();
            self.line_value(value, out);
            let outer = format!("value {} of {several}", i + 1);
            for item in &mut out[start..] {
                match item {
                    Ok(record) => record.at = join_path(&outer, &record.at),
                    Err(rejection) => rejection.at = join_path(&outer, &rejection.at),
                }
            }
        }
    }

    /// Normalizes a value that stands on a line by itself: it must be an
    /// object.
    fn line_value(&self, value: Value, out: &mut Vec<Item>) {
        match value {
            Value::Bag(_) => self.value(value, out),
            other => out.push(Err(Rejection::whole(format!(
                "expected a JSON object (one row), found {}",
                json_kind(&other)
            )))),
        }
    }

    /// Normalizes one parsed unit (a value of a multi-line document, or of
    /// a line) into `out`.
    pub fn value(&self, value: Value, out: &mut Vec<Item>) {
        let Value::Bag(bag) = &value else {
            out.push(Err(Rejection::whole(format!(
                "expected a JSON object, found {}",
                json_kind(&value)
            ))));
            return;
        };
        if self.format == InputFormat::CloudAudit {
            out.push(Ok(cloudaudit::row(value)));
            return;
        }
        let shape = match detect::detect(bag, self.format, &self.row_columns) {
            Ok(shape) => shape,
            Err(cause) => {
                out.push(Err(Rejection::whole(cause)));
                return;
            }
        };
        let platform = match self.format {
            InputFormat::Eks => k8s::Platform::eks_bare(),
            _ => k8s::Platform::kubernetes(),
        };
        match shape {
            detect::Shape::Row => out.push(Ok(cloudaudit::row(value))),
            detect::Shape::Event => out.push(
                k8s::event_record(bag, &platform)
                    .map_err(Rejection::whole)
                    .map(|fields| Record::new(platform.format, fields)),
            ),
            detect::Shape::EventList => k8s::event_list(bag, &platform, out),
            detect::Shape::AzureRecords => self.azure_records(bag, out),
            detect::Shape::AksRecord => out.push(aks::record(bag).map_err(Rejection::whole)),
            detect::Shape::CloudWatchPayload => eks::payload(bag, out),
            detect::Shape::CloudWatchEvents => eks::events(bag, out),
            detect::Shape::CloudWatchEvent => {
                out.push(eks::log_event(bag, &k8s::Platform::eks_bare()).map_err(Rejection::whole))
            }
            detect::Shape::GkeEntry => out.push(gke::entry(bag).map_err(Rejection::whole)),
            detect::Shape::ArmRecord => out.push(arm::record(bag).map_err(Rejection::whole)),
            detect::Shape::ArmList => arm::list(bag, out),
        }
    }

    /// True when this normalizer reads `format` (itself or by detection).
    fn accepts(&self, format: InputFormat) -> bool {
        self.format == format || self.format == InputFormat::Auto
    }

    /// `{"records": [...]}`: each element is an AKS record or an Activity
    /// Log record (as the format, or detection, says).
    fn azure_records(&self, envelope: &Bag, out: &mut Vec<Item>) {
        let Some(Value::Array(records)) = envelope.get("records") else {
            out.push(Err(Rejection::whole("records: expected an array")));
            return;
        };
        for (i, record) in records.iter().enumerate() {
            let at = || format!("records[{i}]");
            let Value::Bag(bag) = record else {
                out.push(Err(Rejection::at(
                    at(),
                    format!("expected a JSON object, found {}", json_kind(record)),
                )));
                continue;
            };
            let item = match detect::azure_record(bag, self.format) {
                Ok(detect::Shape::AksRecord) => aks::record(bag),
                Ok(_) => arm::record(bag),
                Err(cause) => Err(cause),
            };
            out.push(match item {
                Ok(record) => Ok(record.located(at())),
                Err(cause) => Err(Rejection::at(at(), cause)),
            });
        }
    }
}

/// `outer: inner`, or either alone when the other is empty.
pub(crate) fn join_path(outer: &str, inner: &str) -> String {
    match (outer.is_empty(), inner.is_empty()) {
        (true, _) => inner.to_string(),
        (_, true) => outer.to_string(),
        _ => format!("{outer}: {inner}"),
    }
}

// ---------------------------------------------------------------------------
// Reading fields, with messages that name them

/// The value under `key`, treating JSON null as absent.
pub(crate) fn field<'a>(bag: &'a Bag, key: &str) -> Option<&'a Value> {
    bag.get(key).filter(|v| !v.is_null())
}

/// A string field: absent or null → `None`; another type → an error naming
/// `path`.
pub(crate) fn string_field<'a>(
    bag: &'a Bag,
    key: &str,
    path: &str,
) -> Result<Option<&'a Str>, String> {
    match field(bag, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{path}: expected a string, found {}",
            describe(other)
        )),
    }
}

/// An object field: absent or null → `None`; another type → an error.
pub(crate) fn object_field<'a>(
    bag: &'a Bag,
    key: &str,
    path: &str,
) -> Result<Option<&'a Bag>, String> {
    match field(bag, key) {
        None => Ok(None),
        Some(Value::Bag(b)) => Ok(Some(b)),
        Some(other) => Err(format!(
            "{path}: expected an object, found {}",
            describe(other)
        )),
    }
}

/// A datetime field written as ISO 8601 text: absent or null → `None`;
/// text that is not a datetime, or another type → an error naming `path`.
pub(crate) fn datetime_field(bag: &Bag, key: &str, path: &str) -> Result<Option<DateTime>, String> {
    match string_field(bag, key, path)? {
        None => Ok(None),
        Some(s) => parse_datetime_text(s, path).map(Some),
    }
}

/// ISO 8601 text as a datetime, or an error naming `path`.
pub(crate) fn parse_datetime_text(s: &str, path: &str) -> Result<DateTime, String> {
    text::parse_datetime(s).ok_or_else(|| {
        format!(
            "{path}: '{}' is not a datetime (expected ISO 8601)",
            clip(s)
        )
    })
}

/// A datetime from milliseconds since the Unix epoch (CloudWatch Logs).
pub(crate) fn datetime_from_millis(value: &Value, path: &str) -> Result<DateTime, String> {
    let millis = match value {
        Value::Long(n) => Some(*n),
        Value::Int(n) => Some(i64::from(*n)),
        _ => None,
    };
    millis
        .and_then(|ms| ms.checked_mul(kql_runtime::value::ticks::PER_MILLISECOND))
        .and_then(text::datetime_checked)
        .ok_or_else(|| {
            format!(
                "{path}: {} is not a time in milliseconds since 1970",
                describe(value)
            )
        })
}

/// What a record holds besides the raw event: the columns a normalizer
/// fills in, in table order.
#[derive(Default)]
pub(crate) struct RecordFields {
    pub time: Option<DateTime>,
    pub report_id: Option<Str>,
    pub data_source: &'static str,
    pub action_type: &'static str,
    pub operation_name: Option<Str>,
    pub resource_id: Option<Str>,
    pub azure_resource_id: Option<Str>,
    pub ip_address: Option<Str>,
    pub user_agent: Option<Str>,
    pub raw_event_data: Value,
    pub additional_fields: Value,
}

impl RecordFields {
    /// The record as a bag keyed by [`CLOUD_AUDIT_COLUMNS`]. The
    /// geolocation columns (`IsAnonymousProxy`, `CountryCode`, `City`,
    /// `Isp`) are Defender's enrichment, which no export carries: null and
    /// empty.
    pub fn into_value(self) -> Value {
        let string = |s: Option<Str>| s.map_or(Value::from_static(""), Value::String);
        let entries: Vec<(Str, Value)> = vec![
            (
                Str::Static("Timestamp"),
                self.time.map_or(Value::Null, Value::DateTime),
            ),
            (Str::Static("ReportId"), string(self.report_id)),
            (
                Str::Static("DataSource"),
                Value::from_static(self.data_source),
            ),
            (
                Str::Static("ActionType"),
                Value::from_static(self.action_type),
            ),
            (Str::Static("OperationName"), string(self.operation_name)),
            (Str::Static("ResourceId"), string(self.resource_id)),
            (
                Str::Static("AzureResourceId"),
                string(self.azure_resource_id),
            ),
            (Str::Static("IPAddress"), string(self.ip_address)),
            (Str::Static("IsAnonymousProxy"), Value::Null),
            (Str::Static("CountryCode"), Value::from_static("")),
            (Str::Static("City"), Value::from_static("")),
            (Str::Static("Isp"), Value::from_static("")),
            (Str::Static("UserAgent"), string(self.user_agent)),
            (Str::Static("RawEventData"), self.raw_event_data),
            (Str::Static("AdditionalFields"), self.additional_fields),
        ];
        Value::bag(entries)
    }
}

/// A bag from entries whose keys are static names, leaving out null values.
pub(crate) fn sparse_bag(entries: Vec<(&'static str, Value)>) -> Value {
    Value::bag(
        entries
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (Str::Static(k), v))
            .collect(),
    )
}

/// A string value, or null.
pub(crate) fn opt_string(s: Option<&Str>) -> Value {
    s.map_or(Value::Null, |s| Value::String(s.clone()))
}

/// A short description of an object for messages: its first keys, and its
/// `kind` and `apiVersion` when it has them.
pub(crate) fn describe_object(bag: &Bag) -> String {
    const SHOWN: usize = 6;
    let mut keys: Vec<String> = bag.iter().take(SHOWN).map(|(k, _)| clip(k)).collect();
    if bag.len() > SHOWN {
        keys.push(format!("... ({} keys)", bag.len()));
    }
    let mut text = if bag.is_empty() {
        "an empty object".to_string()
    } else {
        format!("an object with keys {}", keys.join(", "))
    };
    for key in ["kind", "apiVersion", "category"] {
        if let Some(value) = bag.get(key) {
            text.push_str(&format!("; {key} is {}", describe(value)));
        }
    }
    text
}
