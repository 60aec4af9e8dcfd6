//! Writing result rows as JSON lines: one object per row, keys in column
//! order, values as `text::write_json` renders them; to standard output or
//! to `--output-file` ([`Sink`]), which SIGHUP reopens for logrotate; or,
//! with `--publish`, to a broker that acknowledges each row ([`Publish`]).

use kql_runtime::text;
use kql_runtime::value::Row;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};

/// Writes result rows to a byte sink.
pub struct RowWriter<W: Write> {
    out: W,
    line: String,
    /// Opens the sink again (`--output-file` after SIGHUP), if it can be.
    reopen: Option<fn(&mut W) -> io::Result<()>>,
    /// `--publish`, `--publish-kafka`: every row also goes there.
    publishers: Vec<Box<dyn Publish>>,
    /// A publisher replaces the byte sink (`--publish`): rows are not
    /// written to `out`.
    replaced: bool,
}

/// One output line handed to a [`Publish`] sink.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    /// Its deterministic id ([`crate::alert_id::alert_id`] of the rule's id
    /// and the row): the JetStream `Nats-Msg-Id`, the Kafka record key.
    pub id: &'a str,
    /// The line as `--output` formats it, without its newline.
    pub payload: &'a [u8],
    /// The rule's partition key value ([`partition_key`]), when the rule
    /// names partition key columns: the alerts of one value stay in one
    /// partition (the subject's last token, the Kafka partition).
    pub partition: Option<&'a str>,
}

/// A sink that takes each output line as one message and acknowledges it
/// (`--publish`: a JetStream subject; `--publish-kafka`: a Kafka topic).
/// [`RowWriter::flush`] returns only once every message sent was
/// acknowledged, so a source that acks its input after the flush acks it
/// only after its alerts are stored.
pub trait Publish {
    /// Sends one message. May wait for earlier acks when many are
    /// outstanding.
    fn send(&mut self, message: Message<'_>) -> io::Result<()>;

    /// Waits until every message sent was acknowledged; the error of one
    /// that could not be stored, after retries.
    fn flush(&mut self) -> io::Result<()>;

    /// True when it replaces the byte sink (rows are not also written to
    /// standard output or `--output-file`).
    fn replaces_output(&self) -> bool;
}

impl<W: Write> RowWriter<W> {
    /// A writer to `out` (wrap it in a `BufWriter`).
    pub fn new(out: W) -> RowWriter<W> {
        RowWriter {
            out,
            line: String::new(),
            reopen: None,
            publishers: Vec::new(),
            replaced: false,
        }
    }

    /// Also sends rows to `publisher` (`--publish`, `--publish-kafka`).
    pub fn publish_to(&mut self, publisher: Box<dyn Publish>) {
        self.replaced |= publisher.replaces_output();
        self.publishers.push(publisher);
    }

    /// True when rows go to a publisher ([`RowWriter::publish_to`]).
    pub fn publishes(&self) -> bool {
        !self.publishers.is_empty()
    }

    /// Writes one row of `rule` and publishes it (with a publisher): the
    /// row and the rule's id give its id. `line` is what is written (the
    /// row itself, tagged with the rule when `tag`, when `None`);
    /// `partition` the rule's partition key value.
    pub fn emit_row(
        &mut self,
        rule: &str,
        tag: bool,
        columns: &[&str],
        row: &Row,
        line: Option<&[u8]>,
        partition: Option<&str>,
    ) -> io::Result<()> {
        if self.publishers.is_empty() {
            return match line {
                Some(line) => self.out.write_all(line),
                None => self.write_row(tag.then_some(rule), columns, row),
            };
        }
        render_row(&mut self.line, None, columns, row);
        let id = crate::alert_id::alert_id(rule, &self.line);
        let payload = match line {
            Some(line) => line.strip_suffix(b"\n").unwrap_or(line).to_vec(),
            None if tag => {
                render_row(&mut self.line, Some(rule), columns, row);
                self.line.as_bytes().to_vec()
            }
            None => self.line.as_bytes().to_vec(),
        };
        if !self.replaced {
            self.out.write_all(&payload)?;
            self.out.write_all(b"\n")?;
        }
        let message = Message {
            id: &id,
            payload: &payload,
            partition,
        };
        for publisher in &mut self.publishers {
            publisher.send(message)?;
        }
        Ok(())
    }

    /// A writer to `out` that [`RowWriter::reopen`] opens again with
    /// `reopen`.
    pub fn reopenable(out: W, reopen: fn(&mut W) -> io::Result<()>) -> RowWriter<W> {
        RowWriter {
            out,
            line: String::new(),
            reopen: Some(reopen),
            publishers: Vec::new(),
            replaced: false,
        }
    }

    /// True when [`RowWriter::reopen`] opens the sink again.
    pub fn can_reopen(&self) -> bool {
        self.reopen.is_some()
    }

    /// Flushes what is written to the sink as it is, then opens it again
    /// (a file renamed by logrotate: rows written before go to the renamed
    /// file, rows after to a new one). `Ok(false)` for a sink that cannot
    /// be reopened (standard output).
    pub fn reopen(&mut self) -> io::Result<bool> {
        self.out.flush()?;
        match self.reopen {
            Some(reopen) => reopen(&mut self.out).map(|()| true),
            None => Ok(false),
        }
    }

    /// Writes one row. With `rule`, the object starts with `"_rule": rule`.
    pub fn write_row(&mut self, rule: Option<&str>, columns: &[&str], row: &Row) -> io::Result<()> {
        render_row(&mut self.line, rule, columns, row);
        self.line.push('\n');
        self.out.write_all(self.line.as_bytes())
    }

    /// The line [`RowWriter::write_row`] wrote last, without its line end.
    pub fn last_row(&self) -> &str {
        self.line.strip_suffix('\n').unwrap_or(&self.line)
    }

    /// Writes bytes already formatted (an alert line).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// Flushes the sink; with publishers, waits for their acks.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        for publisher in &mut self.publishers {
            publisher.flush()?;
        }
        Ok(())
    }
}

/// Renders one row into `line` (cleared first) as `--output rows` writes
/// it, without the newline. With `rule`, the object starts with
/// `"_rule": rule`.
fn render_row(line: &mut String, rule: Option<&str>, columns: &[&str], row: &Row) {
    line.clear();
    line.push('{');
    let mut first = true;
    if let Some(rule) = rule {
        line.push_str("\"_rule\":");
        write_json_string(line, rule);
        first = false;
    }
    let mut spliced: Vec<String> = Vec::new();
    for (name, value) in columns.iter().zip(row) {
        if let Some(prefix) = kql_runtime::value::open_bag_prefix(name) {
            // An open row's bag (`evaluate bag_unpack` without an output
            // schema): its members are columns of the row.
            let taken =
                |member: &str| columns.contains(&member) || spliced.iter().any(|s| s == member);
            let members = kql_runtime::value::open_bag_members(prefix, value, taken);
            for (member, value) in members {
                if !first {
                    line.push(',');
                }
                first = false;
                write_json_string(line, &member);
                line.push(':');
                text::write_json(value, line);
                spliced.push(member);
            }
            continue;
        }
        if !first {
            line.push(',');
        }
        first = false;
        write_json_string(line, name);
        line.push(':');
        text::write_json(value, line);
    }
    line.push('}');
}

/// Where rows go: standard output, or `--output-file`, appended to.
pub enum Sink {
    /// Standard output, buffered.
    Stdout(io::BufWriter<io::StdoutLock<'static>>),
    /// `--output-file PATH`, buffered.
    File {
        /// The path, as given (opened again by [`Sink::reopen`]).
        path: String,
        /// The file open for appending.
        file: io::BufWriter<File>,
    },
}

/// The output buffer: rows are written in blocks of this size.
const BUFFER: usize = 1 << 16;

impl Sink {
    /// Standard output.
    pub fn stdout() -> Sink {
        Sink::Stdout(io::BufWriter::with_capacity(BUFFER, io::stdout().lock()))
    }

    /// `path` opened for appending, created when missing.
    pub fn append(path: &str) -> io::Result<Sink> {
        Ok(Sink::File {
            path: path.to_string(),
            file: io::BufWriter::with_capacity(BUFFER, open_append(path)?),
        })
    }

    /// Opens `--output-file` again at its path (after [`Write::flush`]): for
    /// [`RowWriter::reopenable`]. Standard output stays as it is.
    pub fn reopen(&mut self) -> io::Result<()> {
        if let Sink::File { path, file } = self {
            let fresh = open_append(path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("--output-file {path}: cannot reopen: {e}"),
                )
            })?;
            // The old buffer is empty (flushed): dropping it writes nothing.
            *file = io::BufWriter::with_capacity(BUFFER, fresh);
        }
        Ok(())
    }
}

fn open_append(path: &str) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Sink::Stdout(out) => out.write(data),
            Sink::File { file, .. } => file.write(data),
        }
    }

    fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.write_all(data),
            Sink::File { file, .. } => file.write_all(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush(),
            Sink::File { file, .. } => file.flush(),
        }
    }
}

/// A row as `--output rows` writes it for one rule (one JSON object, keys
/// in column order, no `"_rule"`): what [`crate::alert_id::alert_id`]
/// hashes with the rule's id.
pub fn row_json(columns: &[&str], row: &Row) -> String {
    let mut out = String::new();
    render_row(&mut out, None, columns, row);
    out
}

/// The partition key value of a row: the values of the columns at
/// `columns` (indexes into the row), each as `tostring()` gives it, joined
/// by `|`. `None` without partition key columns.
pub fn partition_key(columns: &[usize], row: &Row) -> Option<String> {
    if columns.is_empty() {
        return None;
    }
    let mut key = String::new();
    for (i, &column) in columns.iter().enumerate() {
        if i > 0 {
            key.push('|');
        }
        if let Some(value) = row.get(column) {
            key.push_str(&text::to_text(value));
        }
    }
    Some(key)
}

/// Appends `s` as a JSON string literal.
fn write_json_string(out: &mut String, s: &str) {
    text::write_json(&kql_runtime::value::Value::string(s), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql_runtime::value::Value;
    use std::sync::{Arc, Mutex};

    /// What a [`Recorder`] was sent: (id, payload, partition key).
    type Sent = Arc<Mutex<Vec<(String, String, Option<String>)>>>;

    /// A publisher that records what it is sent.
    struct Recorder {
        sent: Sent,
        replaces: bool,
    }

    impl Publish for Recorder {
        fn send(&mut self, message: Message<'_>) -> io::Result<()> {
            self.sent.lock().unwrap().push((
                message.id.to_string(),
                String::from_utf8(message.payload.to_vec()).unwrap(),
                message.partition.map(str::to_string),
            ));
            Ok(())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }

        fn replaces_output(&self) -> bool {
            self.replaces
        }
    }

    #[test]
    fn published_rows_carry_their_id_and_partition_key_and_go_to_every_publisher() {
        let row = vec![Value::from_static("alice"), Value::Long(7)];
        let columns = ["User", "n"];
        let line = "{\"User\":\"alice\",\"n\":7}";
        let id = crate::alert_id::alert_id("r1", line);
        let key = partition_key(&[0], &row);
        assert_eq!(key.as_deref(), Some("alice"));
        assert_eq!(partition_key(&[1, 0], &row).as_deref(), Some("7|alice"));
        assert_eq!(partition_key(&[], &row), None);
        // An "also" publisher (Kafka): the line is written and sent.
        let also = Arc::new(Mutex::new(Vec::new()));
        let mut buf = Vec::new();
        let mut writer = RowWriter::new(&mut buf);
        writer.publish_to(Box::new(Recorder {
            sent: Arc::clone(&also),
            replaces: false,
        }));
        writer
            .emit_row("r1", true, &columns, &row, None, key.as_deref())
            .unwrap();
        writer.flush().unwrap();
        let tagged = "{\"_rule\":\"r1\",\"User\":\"alice\",\"n\":7}";
        assert_eq!(
            *also.lock().unwrap(),
            vec![(id.clone(), tagged.to_string(), Some("alice".to_string()))]
        );
        drop(writer);
        assert_eq!(String::from_utf8(buf).unwrap(), format!("{tagged}\n"));
        // A publisher that replaces the output (NATS): nothing written; an
        // alert line is sent without its newline.
        let instead = Arc::new(Mutex::new(Vec::new()));
        let mut buf = Vec::new();
        let mut writer = RowWriter::new(&mut buf);
        writer.publish_to(Box::new(Recorder {
            sent: Arc::clone(&instead),
            replaces: true,
        }));
        writer
            .emit_row("r1", false, &columns, &row, Some(b"{\"alert\":1}\n"), None)
            .unwrap();
        drop(writer);
        assert!(buf.is_empty());
        assert_eq!(
            *instead.lock().unwrap(),
            vec![(id, "{\"alert\":1}".to_string(), None)]
        );
    }

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

    #[test]
    fn an_output_file_is_appended_to_and_reopened_at_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rows.jsonl");
        let name = path.to_str().unwrap();
        std::fs::write(&path, "kept\n").unwrap();
        let mut writer = RowWriter::reopenable(Sink::append(name).unwrap(), Sink::reopen);
        assert!(writer.can_reopen());
        writer.write_raw(b"one\n").unwrap();
        // logrotate: rename, then the signal.
        let rotated = dir.path().join("rows.jsonl.1");
        std::fs::rename(&path, &rotated).unwrap();
        writer.write_raw(b"two\n").unwrap();
        assert!(writer.reopen().unwrap());
        writer.write_raw(b"three\n").unwrap();
        writer.flush().unwrap();
        assert_eq!(
            std::fs::read_to_string(&rotated).unwrap(),
            "kept\none\ntwo\n"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "three\n");
        assert!(!RowWriter::new(Vec::new()).reopen().unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_full_disk_is_a_write_error() {
        let mut writer = RowWriter::new(Sink::append("/dev/full").unwrap());
        writer.write_raw(b"row\n").unwrap();
        let error = writer.flush().unwrap_err();
        assert_eq!(error.raw_os_error(), Some(28), "{error}"); // ENOSPC
    }
}
