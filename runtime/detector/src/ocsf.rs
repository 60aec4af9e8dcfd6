//! `--output ocsf`: each alert as an OCSF Detection Finding (class 2004 of
//! category 2, Findings), one JSON object per line, written after the
//! OCSF 1.8.0 schema (`events/findings/detection_finding.json` and the
//! objects it uses); `docs/ocsf-detection-finding.schema.json` is the
//! JSON Schema the tests hold the output to.
//!
//! | OCSF attribute | from |
//! |---|---|
//! | `finding_info.uid` | rule id, `:`, the event's `ReportId` (else `FILE:LINE`, else a count) |
//! | `finding_info.title`, `desc` | the rule's name and description |
//! | `finding_info.analytic` | the rule: `uid` id, `name`, `type_id` 1 (Rule) |
//! | `finding_info.attacks` | the rule's tactics (`TA00NN` and name) and techniques (`T1609`; `T1098.006` as `sub_technique` under `technique` `T1098`) |
//! | `severity_id` | Informational 1, Low 2, Medium 3, High 4, Critical 5; none or another word 0 (Unknown) / 99 (Other) |
//! | `time` | the row's `Timestamp`, else the event's, else the detection time (ms since 1970) |
//! | `evidences`, `resources`, `observables` | user, source IP, operation, resource (uid, name, type, namespace) of the event, else of the row's columns of the same names |
//! | `raw_data` | the event's `RawEventData` as JSON text (the event as the platform recorded it, top-level keys in PascalCase) |
//! | `unmapped` | the rule's result row and the input position (`input`: file and line, or null) |
//!
//! Which attribute of the event holds what is in `EventFields`; the rows
//! the detector reads are always `CloudAuditEvents` shaped.

use crate::alert::InputPosition;
use crate::manifest::RuleInfo;
use kql_runtime::text;
use kql_runtime::value::{DateTime, Row, Value};

/// The OCSF schema version the findings follow.
pub const OCSF_VERSION: &str = "1.8.0";

/// The input event a result row came from: the table's column names and
/// the normalized row.
#[derive(Clone, Copy)]
pub struct Event<'a> {
    /// Column names, in row order.
    pub columns: &'a [&'a str],
    /// The row as the detector read it.
    pub row: &'a Row,
}

/// What an alert knows about its event, from the event's row or the rule's
/// result row (the first that has it).
#[derive(Default)]
struct EventFields {
    time: Option<DateTime>,
    report_id: Option<String>,
    user: Option<String>,
    ip: Option<String>,
    operation: Option<String>,
    data_source: Option<String>,
    resource_uid: Option<String>,
    resource_type: Option<String>,
    resource_name: Option<String>,
    namespace: Option<String>,
    raw: Option<String>,
}

fn column<'v>(columns: &[&str], row: &'v Row, name: &str) -> Option<&'v Value> {
    columns
        .iter()
        .position(|c| *c == name)
        .and_then(|i| row.get(i))
}

fn member<'v>(mut value: &'v Value, path: &[&str]) -> Option<&'v Value> {
    for key in path {
        match value {
            Value::Bag(bag) => value = bag.get(key)?,
            _ => return None,
        }
    }
    Some(value)
}

/// A non-empty string value as text.
fn text_of(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        other => {
            let t = text::to_text(other).into_owned();
            (!t.is_empty()).then_some(t)
        }
    }
}

impl EventFields {
    fn of_event(event: Event<'_>) -> EventFields {
        let col = |name| column(event.columns, event.row, name);
        let raw = col("RawEventData");
        let raw_at = |path: &[&str]| text_of(raw.and_then(|r| member(r, path)));
        let time = match col("Timestamp") {
            Some(Value::DateTime(t)) => Some(*t),
            _ => None,
        };
        let uri =
            raw_at(&["RequestURI"]).map(|u| u.split('?').next().unwrap_or_default().to_string());
        let azure_id = text_of(col("AzureResourceId"));
        let kube_resource = raw_at(&["ObjectRef", "resource"]);
        EventFields {
            time,
            report_id: text_of(col("ReportId")),
            user: raw_at(&["User", "username"])
                .or_else(|| text_of(col("AdditionalFields").and_then(|a| member(a, &["Caller"])))),
            ip: text_of(col("IPAddress")),
            operation: text_of(col("OperationName")),
            data_source: text_of(col("DataSource")),
            resource_uid: if kube_resource.is_some() {
                uri
            } else {
                azure_id.clone().or(uri)
            },
            resource_type: kube_resource,
            resource_name: raw_at(&["ObjectRef", "name"]),
            namespace: raw_at(&["ObjectRef", "namespace"]),
            raw: raw.filter(|r| !matches!(r, Value::Null)).map(|r| {
                let mut out = String::new();
                text::write_json(r, &mut out);
                out
            }),
        }
    }

    /// Fills what the event did not say from the rule's result row, by the
    /// column names rules commonly project.
    fn fill_from_row(&mut self, columns: &[&str], row: &Row) {
        let pick = |names: &[&str]| names.iter().find_map(|n| text_of(column(columns, row, n)));
        if self.time.is_none() {
            if let Some(Value::DateTime(t)) = column(columns, row, "Timestamp") {
                self.time = Some(*t);
            }
        }
        fill(&mut self.user, || {
            pick(&[
                "Username",
                "UserName",
                "User",
                "ActionTakenBy",
                "Caller",
                "AccountName",
            ])
        });
        fill(&mut self.ip, || {
            pick(&["IPAddress", "SourceIP", "SourceIp", "ClientIP"])
        });
        fill(&mut self.operation, || pick(&["OperationName", "Verb"]));
        fill(&mut self.data_source, || pick(&["DataSource"]));
        fill(&mut self.namespace, || pick(&["Namespace", "PodNamespace"]));
        fill(&mut self.resource_name, || {
            pick(&["Name", "PodName", "BindingName"])
        });
        fill(&mut self.resource_type, || pick(&["Resource"]));
        fill(&mut self.resource_uid, || {
            pick(&["AzureResourceId", "ResourceId"])
        });
    }
}

fn fill(slot: &mut Option<String>, f: impl FnOnce() -> Option<String>) {
    if slot.is_none() {
        *slot = f();
    }
}

/// OCSF `severity_id` for a rule severity.
pub fn severity_id(severity: Option<&str>) -> (u8, &'static str) {
    match severity.map(str::to_ascii_lowercase).as_deref() {
        None => (0, "Unknown"),
        Some("informational") => (1, "Informational"),
        Some("low") => (2, "Low"),
        Some("medium") => (3, "Medium"),
        Some("high") => (4, "High"),
        Some("critical") => (5, "Critical"),
        Some(_) => (99, "Other"),
    }
}

/// The ATT&CK Enterprise tactics by the names rules give them (Sentinel's
/// spelling, and ATT&CK's with spaces or hyphens): id and display name.
const TACTICS: &[(&str, &str, &str)] = &[
    ("reconnaissance", "TA0043", "Reconnaissance"),
    ("resourcedevelopment", "TA0042", "Resource Development"),
    ("initialaccess", "TA0001", "Initial Access"),
    ("execution", "TA0002", "Execution"),
    ("persistence", "TA0003", "Persistence"),
    ("privilegeescalation", "TA0004", "Privilege Escalation"),
    ("defenseevasion", "TA0005", "Defense Evasion"),
    ("credentialaccess", "TA0006", "Credential Access"),
    ("discovery", "TA0007", "Discovery"),
    ("lateralmovement", "TA0008", "Lateral Movement"),
    ("collection", "TA0009", "Collection"),
    ("exfiltration", "TA0010", "Exfiltration"),
    ("commandandcontrol", "TA0011", "Command and Control"),
    ("impact", "TA0040", "Impact"),
];

/// Names of the ATT&CK techniques and sub-techniques of the Containers
/// matrix that Kubernetes audit rules use; others are given by id alone.
const TECHNIQUES: &[(&str, &str)] = &[
    ("T1053", "Scheduled Task/Job"),
    ("T1053.007", "Container Orchestration Job"),
    ("T1070", "Indicator Removal"),
    ("T1078", "Valid Accounts"),
    ("T1078.001", "Default Accounts"),
    ("T1098", "Account Manipulation"),
    ("T1098.006", "Additional Container Cluster Roles"),
    ("T1528", "Steal Application Access Token"),
    ("T1552", "Unsecured Credentials"),
    ("T1552.007", "Container API"),
    ("T1562", "Impair Defenses"),
    ("T1562.001", "Disable or Modify Tools"),
    ("T1609", "Container Administration Command"),
    ("T1610", "Deploy Container"),
    ("T1611", "Escape to Host"),
    ("T1613", "Container and Resource Discovery"),
];

fn technique_name(id: &str) -> Option<&'static str> {
    TECHNIQUES.iter().find(|(t, _)| *t == id).map(|(_, n)| *n)
}

/// Writes Detection Findings as JSON lines into a string buffer.
pub struct OcsfWriter {
    product_version: &'static str,
    /// Findings written, for the uid of findings without an event id.
    count: u64,
}

impl OcsfWriter {
    /// A writer for a detector built by kqlc `product_version`.
    pub fn new(product_version: &'static str) -> OcsfWriter {
        OcsfWriter {
            product_version,
            count: 0,
        }
    }

    /// Appends the finding for one result row (columns `columns`) of `rule`,
    /// detected at `detected_at`, from `event` read at `input`, as a line.
    #[allow(clippy::too_many_arguments)]
    pub fn write_finding(
        &mut self,
        out: &mut String,
        rule: &RuleInfo,
        detected_at: DateTime,
        input: Option<InputPosition<'_>>,
        event: Option<Event<'_>>,
        columns: &[&str],
        row: &Row,
    ) {
        self.count += 1;
        let mut fields = event.map(EventFields::of_event).unwrap_or_default();
        fields.fill_from_row(columns, row);
        let mut w = Json::new(out);
        w.open();
        w.key("activity_id").raw("1");
        w.key("activity_name").string("Create");
        w.key("category_uid").raw("2");
        w.key("category_name").string("Findings");
        w.key("class_uid").raw("2004");
        w.key("class_name").string("Detection Finding");
        w.key("type_uid").raw("200401");
        w.key("type_name").string("Detection Finding: Create");
        let (severity_id, severity) = severity_id(rule.severity);
        w.key("severity_id").raw(&severity_id.to_string());
        w.key("severity").string(rule.severity.unwrap_or(severity));
        w.key("status_id").raw("1");
        w.key("status").string("New");
        w.key("is_alert").raw("true");
        let time = fields.time.unwrap_or(detected_at);
        w.key("time").raw(&millis(time).to_string());
        w.key("message").string(rule.name);

        w.key("metadata").open();
        w.key("version").string(OCSF_VERSION);
        w.key("product").open();
        w.key("name").string("kqlc");
        w.key("vendor_name").string("kqlc");
        w.key("version").string(self.product_version);
        w.close();
        if let Some(source) = &fields.data_source {
            w.key("log_name").string(source);
        }
        w.key("processed_time")
            .raw(&millis(detected_at).to_string());
        w.close();

        w.key("finding_info").open();
        let suffix = match (&fields.report_id, input) {
            (Some(id), _) => id.clone(),
            (None, Some(p)) => format!("{}:{}", p.file, p.line),
            (None, None) => format!("{}", self.count),
        };
        w.key("uid").string(&format!("{}:{suffix}", rule.id));
        w.key("title").string(rule.name);
        if !rule.description.is_empty() {
            w.key("desc").string(rule.description);
        }
        w.key("created_time").raw(&millis(detected_at).to_string());
        w.key("analytic").open();
        w.key("uid").string(rule.id);
        w.key("name").string(rule.name);
        w.key("type_id").raw("1");
        w.key("type").string("Rule");
        w.close();
        write_attacks(&mut w, rule);
        if let Some(source) = &fields.data_source {
            w.key("data_sources").open_array();
            w.item().string(source);
            w.close_array();
        }
        w.close();

        let has_resource = fields.resource_uid.is_some()
            || fields.resource_name.is_some()
            || fields.namespace.is_some();
        if has_resource {
            w.key("resources").open_array();
            w.item().open();
            for (key, value) in [
                ("uid", &fields.resource_uid),
                ("name", &fields.resource_name),
                ("type", &fields.resource_type),
                ("namespace", &fields.namespace),
            ] {
                if let Some(value) = value {
                    w.key(key).string(value);
                }
            }
            w.close();
            w.close_array();
        }
        if fields.user.is_some() || fields.ip.is_some() || fields.operation.is_some() {
            w.key("evidences").open_array();
            w.item().open();
            if let Some(user) = &fields.user {
                w.key("actor").open();
                w.key("user").open();
                w.key("name").string(user);
                w.close();
                w.close();
            }
            if let Some(operation) = &fields.operation {
                w.key("api").open();
                w.key("operation").string(operation);
                w.close();
            }
            if let Some(ip) = &fields.ip {
                w.key("src_endpoint").open();
                w.key("ip").string(ip);
                w.close();
            }
            w.close();
            w.close_array();
        }
        let observables = [
            ("evidences[0].actor.user.name", 4, "User Name", &fields.user),
            ("evidences[0].src_endpoint.ip", 2, "IP Address", &fields.ip),
            ("resources[0].uid", 10, "Resource UID", &fields.resource_uid),
            ("resources[0].namespace", 99, "Other", &fields.namespace),
        ];
        if observables.iter().any(|(_, _, _, v)| v.is_some()) {
            w.key("observables").open_array();
            for (name, type_id, type_name, value) in observables {
                let Some(value) = value else { continue };
                w.item().open();
                w.key("name").string(name);
                w.key("type_id").raw(&type_id.to_string());
                w.key("type").string(type_name);
                w.key("value").string(value);
                w.close();
            }
            w.close_array();
        }
        if let Some(raw) = &fields.raw {
            w.key("raw_data").string(raw);
        }
        w.key("unmapped").open();
        w.key("input");
        match input {
            Some(position) => {
                w.open();
                w.key("file").string(position.file);
                w.key("line").raw(&position.line.to_string());
                w.close();
            }
            None => {
                w.raw("null");
            }
        }
        w.key("row").open();
        for (name, value) in columns.iter().zip(row) {
            w.key(name);
            text::write_json(value, w.out);
        }
        w.close();
        w.close();
        w.close();
        w.out.push('\n');
    }
}

/// `finding_info.attacks`: one entry per tactic and one per technique (a
/// sub-technique under its technique), as OCSF's `attack` object allows
/// (at least one of tactic, technique, sub_technique).
fn write_attacks(w: &mut Json<'_>, rule: &RuleInfo) {
    if rule.tactics.is_empty() && rule.techniques.is_empty() {
        return;
    }
    w.key("attacks").open_array();
    for tactic in rule.tactics {
        let key: String = tactic
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        w.item().open();
        w.key("tactic").open();
        match TACTICS.iter().find(|(k, _, _)| *k == key) {
            Some((_, uid, name)) => {
                w.key("uid").string(uid);
                w.key("name").string(name);
            }
            None => {
                w.key("name").string(tactic);
            }
        }
        w.close();
        w.close();
    }
    for technique in rule.techniques {
        let id = technique.trim().to_ascii_uppercase();
        let parent = id.split('.').next().unwrap_or_default().to_string();
        w.item().open();
        w.key("technique").open();
        w.key("uid").string(&parent);
        if let Some(name) = technique_name(&parent) {
            w.key("name").string(name);
        }
        w.close();
        if parent != id {
            w.key("sub_technique").open();
            w.key("uid").string(&id);
            if let Some(name) = technique_name(&id) {
                w.key("name").string(name);
            }
            w.close();
        }
        w.close();
    }
    w.close_array();
}

/// Milliseconds since 1970 (OCSF `timestamp_t`).
fn millis(time: DateTime) -> i64 {
    time.0.div_euclid(10_000)
}

/// A small JSON writer: commas between members and items.
struct Json<'a> {
    out: &'a mut String,
    first: Vec<bool>,
}

impl<'a> Json<'a> {
    fn new(out: &'a mut String) -> Json<'a> {
        Json {
            out,
            first: Vec::new(),
        }
    }
    fn comma(&mut self) {
        if let Some(first) = self.first.last_mut() {
            if !*first {
                self.out.push(',');
            }
            *first = false;
        }
    }
    fn key(&mut self, key: &str) -> &mut Self {
        self.comma();
        text::write_json(&Value::string(key), self.out);
        self.out.push(':');
        self
    }
    fn item(&mut self) -> &mut Self {
        self.comma();
        self
    }
    fn open(&mut self) -> &mut Self {
        self.out.push('{');
        self.first.push(true);
        self
    }
    fn close(&mut self) {
        self.out.push('}');
        self.first.pop();
    }
    fn open_array(&mut self) -> &mut Self {
        self.out.push('[');
        self.first.push(true);
        self
    }
    fn close_array(&mut self) {
        self.out.push(']');
        self.first.pop();
    }
    fn string(&mut self, s: &str) {
        text::write_json(&Value::string(s), self.out);
    }
    fn raw(&mut self, s: &str) {
        self.out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_map_to_ocsf_ids() {
        assert_eq!(severity_id(Some("High")).0, 4);
        assert_eq!(severity_id(Some("informational")).0, 1);
        assert_eq!(severity_id(None).0, 0);
        assert_eq!(severity_id(Some("Severe")).0, 99);
    }

    #[test]
    fn millis_count_from_1970() {
        let t = text::parse_datetime("2024-05-28T10:01:00.5Z").unwrap();
        assert_eq!(millis(t), 1_716_890_460_500);
    }

    #[test]
    fn a_finding_carries_rule_attacks_observables_and_raw_event() {
        static RULE: RuleInfo = RuleInfo {
            id: "k8s-exec-attach",
            name: "Exec",
            severity: Some("Medium"),
            tactics: &["Execution", "PrivilegeEscalation"],
            techniques: &["T1609", "T1098.006"],
            file: "exec-attach.kql",
            sha256: "00",
            text: "",
            description: "An exec.",
            schedule: None,
            partition_key: &[],
        };
        let now = text::parse_datetime("2024-05-28T12:00:00Z").unwrap();
        let raw = kql_runtime::json::parse_json_text(
            r#"{"User":{"username":"mallory"},"ObjectRef":{"resource":"pods","namespace":"web","name":"p"},"RequestURI":"/api/v1/namespaces/web/pods/p/exec?command=sh"}"#,
        )
        .unwrap();
        let event_row: Row = vec![
            Value::DateTime(text::parse_datetime("2024-05-28T10:00:00Z").unwrap()),
            Value::from_static("198.51.100.77"),
            Value::from_static("create"),
            raw,
        ];
        let columns = ["Timestamp", "IPAddress", "OperationName", "RawEventData"];
        let mut out = String::new();
        OcsfWriter::new("0.1.0").write_finding(
            &mut out,
            &RULE,
            now,
            Some(InputPosition {
                file: "a.jsonl",
                line: 3,
            }),
            Some(Event {
                columns: &columns,
                row: &event_row,
            }),
            &["Name"],
            &vec![Value::from_static("p")],
        );
        let v: serde_json::Value = serde_json::from_str(out.trim_end()).unwrap();
        assert_eq!(v["class_uid"], 2004);
        assert_eq!(v["severity_id"], 3);
        assert_eq!(v["time"], 1_716_890_400_000i64);
        assert_eq!(v["finding_info"]["uid"], "k8s-exec-attach:a.jsonl:3");
        assert_eq!(v["finding_info"]["desc"], "An exec.");
        assert_eq!(v["finding_info"]["attacks"][1]["tactic"]["uid"], "TA0004");
        assert_eq!(v["finding_info"]["attacks"][3]["technique"]["uid"], "T1098");
        assert_eq!(
            v["finding_info"]["attacks"][3]["sub_technique"]["name"],
            "Additional Container Cluster Roles"
        );
        assert_eq!(v["evidences"][0]["actor"]["user"]["name"], "mallory");
        assert_eq!(
            v["resources"][0]["uid"],
            "/api/v1/namespaces/web/pods/p/exec"
        );
        assert_eq!(v["observables"][1]["value"], "198.51.100.77");
        assert_eq!(v["unmapped"]["row"]["Name"], "p");
        assert!(v["raw_data"].as_str().unwrap().contains("\"mallory\""));
    }
}
