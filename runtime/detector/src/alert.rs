//! `--output alerts`: one JSON object per result row, carrying the rule's
//! metadata, the detection time and where the event came from, in the form
//! `docs/alerts.schema.json` publishes:
//!
//! ```json
//! {"rule":{"id":"privileged-pod","name":"Privileged pod","severity":"High",
//!   "tactics":["PrivilegeEscalation"],"techniques":["T1611"]},
//!  "detected_at":"2024-05-28T12:00:00Z",
//!  "input":{"file":"audit.jsonl","line":2},
//!  "row":{"Timestamp":"2024-05-28T09:12:44.5Z","PodName":"debug-priv"}}
//! ```
//!
//! `input` is null for rows that no single input line produced (rows a
//! `summarize` or `count` emits at the end, rows written in the query).
//! Values in `row` are written as `--output rows` writes them.

use crate::manifest::RuleInfo;
use kql_runtime::text;
use kql_runtime::value::{DateTime, Row, Value};
use std::io::{self, Write};

/// Where a row's event was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputPosition<'a> {
    /// The file as named on the command line (`<stdin>` for stdin).
    pub file: &'a str,
    /// The 1-based line.
    pub line: u64,
}

/// Writes alerts as JSON lines to a byte sink.
pub struct AlertWriter<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> AlertWriter<W> {
    /// A writer to `out` (wrap it in a `BufWriter`).
    pub fn new(out: W) -> AlertWriter<W> {
        AlertWriter {
            out,
            line: String::new(),
        }
    }

    /// The sink (for writers over a buffer).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Writes the alert for one result `row` (with column names `columns`)
    /// of `rule`, detected at `detected_at` from the event at `input`.
    pub fn write_alert(
        &mut self,
        rule: &RuleInfo,
        detected_at: DateTime,
        input: Option<InputPosition<'_>>,
        columns: &[&str],
        row: &Row,
    ) -> io::Result<()> {
        self.line.clear();
        let line = &mut self.line;
        line.push_str("{\"rule\":{\"id\":");
        json_string(line, rule.id);
        line.push_str(",\"name\":");
        json_string(line, rule.name);
        line.push_str(",\"severity\":");
        match rule.severity {
            Some(severity) => json_string(line, severity),
            None => line.push_str("null"),
        }
        line.push_str(",\"tactics\":");
        json_strings(line, rule.tactics);
        line.push_str(",\"techniques\":");
        json_strings(line, rule.techniques);
        line.push_str("},\"detected_at\":");
        text::write_json(&Value::DateTime(detected_at), line);
        line.push_str(",\"input\":");
        match input {
            Some(position) => {
                line.push_str("{\"file\":");
                json_string(line, position.file);
                line.push_str(",\"line\":");
                line.push_str(&position.line.to_string());
                line.push('}');
            }
            None => line.push_str("null"),
        }
        line.push_str(",\"row\":{");
        for (i, (name, value)) in columns.iter().zip(row).enumerate() {
            if i > 0 {
                line.push(',');
            }
            json_string(line, name);
            line.push(':');
            text::write_json(value, line);
        }
        line.push_str("}}\n");
        self.out.write_all(self.line.as_bytes())
    }

    /// Flushes the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

fn json_string(out: &mut String, s: &str) {
    text::write_json(&Value::string(s), out);
}

fn json_strings(out: &mut String, items: &[&str]) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(out, item);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    static RULE: RuleInfo = RuleInfo {
        id: "privileged-pod",
        name: "Privileged \"pod\"",
        severity: Some("High"),
        tactics: &["PrivilegeEscalation"],
        techniques: &["T1610", "T1611"],
        file: "privileged-pod.kql",
        sha256: "00",
        text: "",
        description: "",
        schedule: None,
        partition_key: &[],
    };

    #[test]
    fn an_alert_carries_rule_metadata_time_input_position_and_row() {
        let mut buf = Vec::new();
        let mut writer = AlertWriter::new(&mut buf);
        let now = text::parse_datetime("2024-05-28T12:00:00Z").unwrap();
        let row = vec![Value::from_static("debug-priv"), Value::Null];
        writer
            .write_alert(
                &RULE,
                now,
                Some(InputPosition {
                    file: "audit.jsonl",
                    line: 2,
                }),
                &["PodName", "PodNamespace"],
                &row,
            )
            .unwrap();
        writer
            .write_alert(&RULE, now, None, &["Count"], &vec![Value::Long(3)])
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            r#"{"rule":{"id":"privileged-pod","name":"Privileged \"pod\"","severity":"High","tactics":["PrivilegeEscalation"],"techniques":["T1610","T1611"]},"detected_at":"2024-05-28T12:00:00Z","input":{"file":"audit.jsonl","line":2},"row":{"PodName":"debug-priv","PodNamespace":null}}"#
        );
        assert!(
            lines[1].contains(r#""input":null,"row":{"Count":3}}"#),
            "{}",
            lines[1]
        );
    }
}
