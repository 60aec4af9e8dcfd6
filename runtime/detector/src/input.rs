//! Reading input: bytes → lines or JSON documents → rows, with every bad
//! piece reported and nothing silently dropped.
//!
//! - [`open_decompressed`] sees gzip by its magic bytes (`1f 8b`) and
//!   decompresses (several concatenated gzip members too, as CloudWatch and
//!   Firehose exports are).
//! - [`InputReader`] splits the bytes into [`Chunk`]s: normally one per line
//!   (JSON lines, at most [`MAX_LINE_BYTES`] each); a file whose first
//!   non-blank line opens a JSON document that goes on over further lines
//!   (pretty-printed JSON, see [`opens_document`]) is read whole as a
//!   *document*, and each top-level JSON value in it (each element, for a
//!   top-level array) is one chunk.
//! - [`crate::formats`] turns a chunk into `CloudAuditEvents` records;
//!   [`record_to_row`] lays a record out as the row a compiled query reads.
//!
//! Values are converted to the column's type (datetimes from ISO 8601 text
//! or as normalizers made them). A row that lacks a column the query reads,
//! or holds a value of the wrong type, is rejected with its cause. Keys that
//! are not columns of the table are ignored.

use kql_runtime::text;
use kql_runtime::value::Value;
use std::io::{self, BufRead, Read, Write};

/// The longest line read (64 MiB); a longer line is rejected, not buffered
/// (its bytes go to the caller's spill writer, so a `--rejects` file still
/// gets them). A multi-line document has the same limit.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// One line of input.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// The line's bytes, without the line terminator.
    Text,
    /// The line was longer than the limit; it was not kept.
    TooLong(usize),
}

/// Splits a byte stream into lines, with a bound on line length.
pub struct LineReader<R> {
    inner: R,
    limit: usize,
}

impl<R: BufRead> LineReader<R> {
    /// Reads lines from `inner`, at most [`MAX_LINE_BYTES`] each.
    pub fn new(inner: R) -> LineReader<R> {
        LineReader::with_limit(inner, MAX_LINE_BYTES)
    }

    /// Reads lines from `inner`, at most `limit` bytes each.
    pub fn with_limit(inner: R, limit: usize) -> LineReader<R> {
        LineReader { inner, limit }
    }

    /// The longest line kept.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Reads the next line into `buf` (cleared first; `\n` and a `\r` before
    /// it removed). `None` at the end of input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<Line>> {
        self.next_line_spilling(buf, &mut io::sink())
    }

    /// Like [`LineReader::next_line`], but the bytes of a line longer than
    /// the limit are written to `spill` as they are read (without the `\n`),
    /// so memory stays bounded and nothing is lost. On a read error, `buf`
    /// keeps the part of the line read so far.
    pub fn next_line_spilling(
        &mut self,
        buf: &mut Vec<u8>,
        spill: &mut dyn Write,
    ) -> io::Result<Option<Line>> {
        buf.clear();
        let mut total = 0usize;
        let mut any = false;
        let mut spilling = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            any = true;
            let (take, done) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if spilling {
                spill.write_all(&chunk[..take])?;
            } else if total.saturating_add(take) <= self.limit {
                buf.extend_from_slice(&chunk[..take]);
            } else {
                spilling = true;
                spill.write_all(buf)?;
                spill.write_all(&chunk[..take])?;
                buf.clear();
            }
            total = total.saturating_add(take);
            self.inner.consume(take + usize::from(done));
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        if spilling {
            return Ok(Some(Line::TooLong(total)));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(Line::Text))
    }

    /// Appends the rest of the input to `buf`. When `buf` would grow beyond
    /// the limit, its bytes and the rest of the input are written to `spill`
    /// instead and `Some(total length)` is returned.
    fn read_rest(&mut self, buf: &mut Vec<u8>, spill: &mut dyn Write) -> io::Result<Option<u64>> {
        let room = self.limit.saturating_sub(buf.len());
        let before = buf.len();
        (&mut self.inner).take(room as u64 + 1).read_to_end(buf)?;
        if buf.len() - before <= room {
            return Ok(None);
        }
        spill.write_all(buf)?;
        let mut total = buf.len() as u64;
        buf.clear();
        total += io::copy(&mut self.inner, &mut CountingWriter(spill))?;
        Ok(Some(total))
    }
}

/// Passes bytes through to a writer (for [`io::copy`] into a `dyn Write`).
struct CountingWriter<'a>(&'a mut dyn Write);

impl Write for CountingWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.write(data)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// How an input was stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (RFC 1952), seen by its magic bytes.
    Gzip,
}

/// `source`, decompressed if it starts with the gzip magic bytes. A file is
/// taken as gzip by its content, never by its name.
pub fn open_decompressed<'a>(
    mut source: Box<dyn BufRead + 'a>,
) -> io::Result<(Box<dyn BufRead + 'a>, Compression)> {
    let head = loop {
        match source.fill_buf() {
            Ok(head) => break head,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if head.starts_with(&[0x1f, 0x8b]) {
        let decoder = flate2::bufread::MultiGzDecoder::new(source);
        Ok((
            Box::new(io::BufReader::with_capacity(1 << 16, decoder)),
            Compression::Gzip,
        ))
    } else {
        Ok((source, Compression::None))
    }
}

/// A piece of input, as [`InputReader::next_chunk`] hands it out.
#[derive(Debug)]
pub enum Chunk<'a> {
    /// A line of only whitespace.
    Blank,
    /// One line of JSON-lines input, without its terminator.
    Line {
        /// 1-based line number.
        line: u64,
        /// The line's bytes.
        bytes: &'a [u8],
    },
    /// A line or document longer than the limit; its bytes went to the spill
    /// writer.
    TooLong {
        /// The line (or the document's first line).
        line: u64,
        /// Its length in bytes.
        len: u64,
        /// True for a multi-line document.
        document: bool,
    },
    /// One top-level value of a multi-line document (or one element of a
    /// top-level array).
    Value {
        /// The line the value starts on.
        line: u64,
        /// Its text, verbatim.
        text: &'a str,
        /// The parsed value.
        value: Value,
    },
    /// The part of a document from `line` on could not be read; `text` is
    /// all of it, verbatim. The document ends here.
    Broken {
        /// Where the unreadable part starts.
        line: u64,
        /// Its bytes.
        text: &'a [u8],
        /// Why it could not be read.
        cause: String,
    },
}

/// True when the first non-blank line of an input opens a JSON document
/// spanning further lines: it starts with `[`, or it starts with `{`, ends
/// with `{` or `[` (as `{` alone or `{"records": [` do) and is not complete
/// JSON by itself. Any other input is JSON lines.
pub fn opens_document(first_line: &[u8]) -> bool {
    let trimmed = first_line.trim_ascii();
    match (trimmed.first(), trimmed.last()) {
        (Some(b'['), _) => true,
        (Some(b'{'), Some(b'{' | b'[')) => std::str::from_utf8(trimmed)
            .map(|t| text::parse_json_text(t).is_err())
            .unwrap_or(false),
        _ => false,
    }
}

/// Splits an input into [`Chunk`]s: lines, or the values of one document.
pub struct InputReader<R> {
    lines: LineReader<R>,
    /// Number of the last line read.
    line: u64,
    buf: Vec<u8>,
    state: State,
}

enum State {
    /// Before the first non-blank line.
    Start,
    Lines,
    Document(Document),
    Done,
}

/// A document read whole, and how far it has been handed out.
struct Document {
    text: String,
    pos: usize,
    /// The line `pos` is on.
    line: u64,
    array: ArrayState,
    done: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum ArrayState {
    Outside,
    /// Just after `[` or `,`: an element comes next.
    Element,
    /// After an element: `,` or `]` comes next.
    Separator,
}

impl<R: BufRead> InputReader<R> {
    /// Reads `inner` with lines (and documents) of at most [`MAX_LINE_BYTES`].
    pub fn new(inner: R) -> InputReader<R> {
        InputReader::with_limit(inner, MAX_LINE_BYTES)
    }

    /// Reads `inner` with lines (and documents) of at most `limit` bytes.
    pub fn with_limit(inner: R, limit: usize) -> InputReader<R> {
        InputReader {
            lines: LineReader::with_limit(inner, limit),
            line: 0,
            buf: Vec::new(),
            state: State::Start,
        }
    }

    /// The number of the last line read (0 before the first).
    pub fn line(&self) -> u64 {
        self.line
    }

    /// True once the input is known to be JSON lines (its first non-blank
    /// line did not open a document): every further chunk is one line, so
    /// the rest may be read by [`crate::parallel`] from
    /// [`InputReader::into_inner`].
    pub fn reads_lines(&self) -> bool {
        matches!(self.state, State::Lines)
    }

    /// The underlying reader, at the start of the line after the last one
    /// read, and the number of lines read.
    pub fn into_inner(self) -> (R, u64) {
        (self.lines.inner, self.line)
    }

    /// What was read of the current line when an I/O error stopped the
    /// reader, so it can still be kept.
    pub fn partial_line(&self) -> &[u8] {
        &self.buf
    }

    /// The next chunk, `None` at the end. Bytes too long to keep are written
    /// to `spill`.
    pub fn next_chunk(&mut self, spill: &mut dyn Write) -> io::Result<Option<Chunk<'_>>> {
        match self.state {
            State::Done => return Ok(None),
            State::Document(_) => {
                let State::Document(doc) = &mut self.state else {
                    return Ok(None);
                };
                return Ok(doc.next_value());
            }
            State::Start | State::Lines => {}
        }
        let Some(line) = self.lines.next_line_spilling(&mut self.buf, spill)? else {
            self.state = State::Done;
            return Ok(None);
        };
        self.line += 1;
        if let Line::TooLong(len) = line {
            self.state = State::Lines;
            return Ok(Some(Chunk::TooLong {
                line: self.line,
                len: len as u64,
                document: false,
            }));
        }
        if is_blank(&self.buf) {
            return Ok(Some(Chunk::Blank));
        }
        if matches!(self.state, State::Start) {
            if opens_document(&self.buf) {
                return self.start_document(spill);
            }
            self.state = State::Lines;
        }
        Ok(Some(Chunk::Line {
            line: self.line,
            bytes: &self.buf,
        }))
    }

    /// Reads the rest of the input as one document that starts with the
    /// line in `buf`.
    fn start_document(&mut self, spill: &mut dyn Write) -> io::Result<Option<Chunk<'_>>> {
        let first = self.line;
        self.buf.push(b'\n');
        if let Some(len) = self.lines.read_rest(&mut self.buf, spill)? {
            self.state = State::Done;
            return Ok(Some(Chunk::TooLong {
                line: first,
                len,
                document: true,
            }));
        }
        match String::from_utf8(std::mem::take(&mut self.buf)) {
            Ok(text) => {
                self.state = State::Document(Document {
                    text,
                    pos: 0,
                    line: first,
                    array: ArrayState::Outside,
                    done: false,
                });
                let State::Document(doc) = &mut self.state else {
                    return Ok(None);
                };
                Ok(doc.next_value())
            }
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                self.buf = e.into_bytes();
                self.state = State::Done;
                let before = &self.buf[..valid];
                let line = first + memchr::memchr_iter(b'\n', before).count() as u64;
                let line_start = before
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                Ok(Some(Chunk::Broken {
                    line: first,
                    text: &self.buf,
                    cause: format!(
                        "invalid UTF-8 at line {line} byte {} (the document is not read)",
                        valid - line_start + 1
                    ),
                }))
            }
        }
    }
}

impl Document {
    /// The next top-level value (or top-level array element).
    fn next_value(&mut self) -> Option<Chunk<'_>> {
        if self.done {
            return None;
        }
        loop {
            self.skip_whitespace();
            let Some(&b) = self.text.as_bytes().get(self.pos) else {
                if self.array == ArrayState::Outside {
                    self.done = true;
                    return None;
                }
                return Some(self.broken(
                    "malformed JSON: the document ends inside an array (']' missing)".to_string(),
                ));
            };
            match (self.array, b) {
                (ArrayState::Outside, b'[') => self.array = ArrayState::Element,
                (ArrayState::Element, b']') | (ArrayState::Separator, b']') => {
                    self.array = ArrayState::Outside;
                }
                (ArrayState::Separator, b',') => self.array = ArrayState::Element,
                (ArrayState::Separator, _) => {
                    return Some(self.broken(format!(
                        "malformed JSON: expected ',' or ']' after an array element at line {}",
                        self.line
                    )));
                }
                _ => break,
            }
            self.pos += 1;
        }
        let start = self.pos;
        let mut stream =
            serde_json::Deserializer::from_str(&self.text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                let end = start + stream.byte_offset();
                let line = self.line;
                self.line +=
                    memchr::memchr_iter(b'\n', &self.text.as_bytes()[start..end]).count() as u64;
                self.pos = end;
                if self.array == ArrayState::Element {
                    self.array = ArrayState::Separator;
                }
                Some(Chunk::Value {
                    line,
                    text: &self.text[start..end],
                    value,
                })
            }
            Some(Err(e)) => {
                let message = e.to_string();
                let message = message
                    .rfind(" at line ")
                    .map_or(message.as_str(), |i| &message[..i]);
                let line = self.line + (e.line() as u64).saturating_sub(1);
                let column = if e.line() <= 1 {
                    let line_start = self.text.as_bytes()[..start]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(0, |i| i + 1);
                    start - line_start + e.column()
                } else {
                    e.column()
                };
                let cause = format!("malformed JSON: {message} at line {line} column {column}");
                Some(self.broken(cause))
            }
            None => {
                self.done = true;
                None
            }
        }
    }

    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// Ends the document: everything from the current position on is one
    /// broken chunk.
    fn broken(&mut self, cause: String) -> Chunk<'_> {
        self.done = true;
        Chunk::Broken {
            line: self.line,
            text: &self.text.as_bytes()[self.pos..],
            cause,
        }
    }
}

pub use kql_runtime::record::{
    clip, convert, describe, is_blank, json_kind, parse_record, record_to_row,
};

#[cfg(test)]
mod tests {
    use super::*;
    use kql_runtime::query::{ColumnType, Table};
    use kql_runtime::value::Row;

    static TABLE: Table = Table {
        name: "T",
        columns: &[
            ("Timestamp", ColumnType::DateTime),
            ("Name", ColumnType::String),
            ("Data", ColumnType::Dynamic),
        ],
        used: &[0, 2],
        access: &[],
    };
    const REQUIRED: &[bool] = &[true, false, true];

    fn row(line: &str) -> Result<Row, String> {
        let record = parse_record(line.as_bytes())?;
        record_to_row(&record, &TABLE, REQUIRED)
    }

    #[test]
    fn converts_columns_to_their_types() {
        let r = row(r#"{"Timestamp":"2024-05-28T10:00:00Z","Name":null,"Data":{"a":1}}"#).unwrap();
        assert!(matches!(r[0], Value::DateTime(_)));
        assert_eq!(r[1], Value::from_static(""));
        assert!(matches!(r[2], Value::Bag(_)));
    }

    #[test]
    fn absent_unused_columns_are_null_but_absent_used_ones_reject_the_row() {
        let r = row(r#"{"Timestamp":"2024-05-28T10:00:00Z","Data":1}"#).unwrap();
        assert_eq!(r[1], Value::from_static(""));
        let e = row(r#"{"Timestamp":"2024-05-28T10:00:00Z"}"#).unwrap_err();
        assert!(e.contains("missing column 'Data'"), "{e}");
    }

    #[test]
    fn wrong_types_and_bad_json_are_reported() {
        assert!(row(r#"{"Timestamp":"yesterday","Data":1}"#)
            .unwrap_err()
            .contains("'yesterday' is not a datetime"));
        assert!(
            row(r#"{"Timestamp":"2024-05-28T10:00:00Z","Name":42,"Data":1}"#)
                .unwrap_err()
                .contains("expected string, found number 42")
        );
        assert!(row(r#"{"Timestamp": "#)
            .unwrap_err()
            .starts_with("malformed JSON"));
        assert!(row("[1,2]").unwrap_err().contains("found an array"));
        assert!(parse_record(b"{\"a\":\"\xff\"}")
            .unwrap_err()
            .contains("invalid UTF-8 at byte 7"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            "{{\"Data\":{}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(parse_record(deep.as_bytes()).is_err());
    }

    #[test]
    fn line_reader_splits_lines_and_bounds_their_length() {
        let input = b"a\r\n\nlast".to_vec();
        let mut reader = LineReader::new(&input[..]);
        let mut buf = Vec::new();
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Text));
        assert_eq!(buf, b"a");
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Text));
        assert!(is_blank(&buf));
        assert_eq!(reader.next_line(&mut buf).unwrap(), Some(Line::Text));
        assert_eq!(buf, b"last");
        assert_eq!(reader.next_line(&mut buf).unwrap(), None);
    }
}
