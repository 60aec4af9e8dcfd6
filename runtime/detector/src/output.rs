//! Writing result rows as JSON lines: one object per row, keys in column
//! order, values as `text::write_json` renders them.

use kql_runtime::text;
use kql_runtime::value::Row;
use std::io::{self, Write};

/// Writes result rows to a byte sink.
pub struct RowWriter<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> RowWriter<W> {
    /// A writer to `out` (wrap it in a `BufWriter`).
    pub fn new(out: W) -> RowWriter<W> {
        RowWriter {
            out,
            line: String::new(),
        }
    }

    /// Writes one row. With `rule`, the object starts with `"_rule": rule`.
    pub fn write_row(&mut self, rule: Option<&str>, columns: &[&str], row: &Row) -> io::Result<()> {
        self.line.clear();
        self.line.push('{');
        let mut first = true;
        if let Some(rule) = rule {
            self.line.push_str("\"_rule\":");
            write_json_string(&mut self.line, rule);
            first = false;
        }
        for (name, value) in columns.iter().zip(row) {
            if !first {
                self.line.push(',');
            }
            first = false;
            write_json_string(&mut self.line, name);
            self.line.push(':');
            text::write_json(value, &mut self.line);
        }
        self.line.push_str("}\n");
        self.out.write_all(self.line.as_bytes())
    }

    /// Writes bytes already formatted (an alert line).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// Flushes the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Appends `s` as a JSON string literal.
fn write_json_string(out: &mut String, s: &str) {
    text::write_json(&kql_runtime::value::Value::string(s), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql_runtime::value::Value;

    #[test]
    fn rows_are_objects_with_keys_in_column_order() {
        let mut buf = Vec::new();
        let mut writer = RowWriter::new(&mut buf);
        let row = vec![Value::Long(1), Value::from_static("a\"b"), Value::Null];
        writer.write_row(None, &["z", "a", "n"], &row).unwrap();
        writer
            .write_row(Some("r1"), &["z", "a", "n"], &row)
            .unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(
            text,
            "{\"z\":1,\"a\":\"a\\\"b\",\"n\":null}\n{\"_rule\":\"r1\",\"z\":1,\"a\":\"a\\\"b\",\"n\":null}\n"
        );
    }
}
