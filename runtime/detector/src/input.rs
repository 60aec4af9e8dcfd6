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
//!   top-level array) is one chunk. A document that does not parse is
//!   rejected in the smallest piece that lets the rest be read: a broken
//!   array element alone, or one line with the lines after it read as JSON
//!   lines (a first line `[` or `{"a":{` above JSON lines is just a bad
//!   line); see [`Chunk::Broken`].
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

/// The UTF-8 byte order mark, skipped at the start of an input.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

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
    /// One line of JSON-lines input, without its terminator. Also each line
    /// after the point where a document broke (see [`Chunk::Broken`]).
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
    /// A part of a document that could not be read, verbatim. What follows
    /// depends on the break (the cause says which): the array goes on at its
    /// next element; or the rest is handed out as [`Chunk::Line`]s (the
    /// document's first line, when nothing of it was read yet, or the line a
    /// broken value starts on; the array's `[` when a separator is missing);
    /// or, when the document ends inside the value, `text` is all the rest.
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
/// JSON by itself. Any other input is JSON lines. The document is verified
/// as it is read: when it does not parse before any value of it was read,
/// the first line alone is rejected and the input is JSON lines after all.
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
    /// The document's first line, `\n`, and the rest of the input.
    text: Vec<u8>,
    pos: usize,
    /// The line `pos` is on.
    line: u64,
    /// The document's first line.
    first: u64,
    array: ArrayState,
    /// The `[` of the current top-level array, and its line.
    array_open: (usize, u64),
    /// Where the last value handed out ends.
    value_end: usize,
    /// Whether anything of the document has been handed out: until then, a
    /// break means the input is no document at all, and all its lines are
    /// still to be read.
    handed_out: bool,
    mode: Mode,
}

#[derive(Clone, Copy, PartialEq)]
enum ArrayState {
    Outside,
    /// Just after `[` or `,`: an element comes next.
    Element,
    /// After an element: `,` or `]` comes next.
    Separator,
}

/// What a [`Document`] hands out next.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Its top-level values.
    Values,
    /// Lines: the document broke, and the rest is read as JSON lines.
    Lines,
    Done,
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
    /// [`InputReader::into_inner`]. False for a document, even one that
    /// broke and is handed out as lines: its text is already in memory.
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
                return Ok(doc.next_chunk());
            }
            State::Start | State::Lines => {}
        }
        let Some(line) = self.lines.next_line_spilling(&mut self.buf, spill)? else {
            self.state = State::Done;
            return Ok(None);
        };
        self.line += 1;
        // A UTF-8 byte order mark (as Windows tools write) opens the input,
        // not its first value.
        if self.line == 1 && self.buf.starts_with(UTF8_BOM) {
            self.buf.drain(..UTF8_BOM.len());
        }
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
        // Invalid UTF-8 is a JSON error where it stands (serde_json checks
        // the strings it reads), so it breaks the document there, not whole.
        self.state = State::Document(Document {
            text: std::mem::take(&mut self.buf),
            pos: 0,
            line: first,
            first,
            array: ArrayState::Outside,
            array_open: (0, first),
            value_end: 0,
            handed_out: false,
            mode: Mode::Values,
        });
        let State::Document(doc) = &mut self.state else {
            return Ok(None);
        };
        Ok(doc.next_chunk())
    }
}

impl Document {
    /// The next chunk: a value, or after a break, a line.
    fn next_chunk(&mut self) -> Option<Chunk<'_>> {
        match self.mode {
            Mode::Values => self.next_value(),
            Mode::Lines => self.next_line(),
            Mode::Done => None,
        }
    }

    /// The next top-level value (or top-level array element).
    fn next_value(&mut self) -> Option<Chunk<'_>> {
        loop {
            self.skip_whitespace();
            let Some(&b) = self.text.get(self.pos) else {
                if self.array == ArrayState::Outside {
                    self.mode = Mode::Done;
                    return None;
                }
                let cause = "the document ends inside an array (']' missing)".to_string();
                if !self.handed_out {
                    return Some(self.not_a_document(cause));
                }
                return Some(self.broken_rest(format!("malformed JSON: {cause}")));
            };
            match (self.array, b) {
                (ArrayState::Outside, b'[') => {
                    self.array = ArrayState::Element;
                    self.array_open = (self.pos, self.line);
                }
                (ArrayState::Element, b']') | (ArrayState::Separator, b']') => {
                    self.array = ArrayState::Outside;
                }
                (ArrayState::Separator, b',') => self.array = ArrayState::Element,
                (ArrayState::Separator, _) => return Some(self.separator_missing()),
                _ => break,
            }
            self.pos += 1;
        }
        let start = self.pos;
        let mut stream =
            serde_json::Deserializer::from_slice(&self.text[start..]).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => return Some(self.value_failed(start, &e)),
            None => {
                self.mode = Mode::Done;
                return None;
            }
        };
        let end = start + stream.byte_offset();
        if self.array == ArrayState::Element && !self.handed_out {
            // A first element must be followed by ',' or ']': a line `[`
            // above JSON lines does not make them an array.
            let next = self.skip_whitespace_from(end);
            if self.text.get(next).is_some_and(|&b| b != b',' && b != b']') {
                let (line, column) = self.line_and_column(next);
                return Some(self.not_a_document(format!(
                    "expected ',' or ']' after an array element at line {line} column {column}"
                )));
            }
        }
        let line = self.line;
        self.line += memchr::memchr_iter(b'\n', &self.text[start..end]).count() as u64;
        self.pos = end;
        self.value_end = end;
        self.handed_out = true;
        if self.array == ArrayState::Element {
            self.array = ArrayState::Separator;
        }
        let span = &self.text[start..end];
        Some(match std::str::from_utf8(span) {
            Ok(text) => Chunk::Value { line, text, value },
            // Not expected: serde_json reads only valid UTF-8 into a value.
            Err(e) => Chunk::Broken {
                line,
                text: span,
                cause: format!("invalid UTF-8 at byte {} of the value", e.valid_up_to() + 1),
            },
        })
    }

    /// The value at `start` does not parse: rejects the least that keeps
    /// the rest readable.
    fn value_failed(&mut self, start: usize, e: &serde_json::Error) -> Chunk<'_> {
        let message = e.to_string();
        let message = message
            .rfind(" at line ")
            .map_or(message.as_str(), |i| &message[..i]);
        let line = self.line + (e.line() as u64).saturating_sub(1);
        let column = if e.line() <= 1 {
            start - self.line_start(start) + e.column()
        } else {
            e.column()
        };
        let cause = format!("{message} at line {line} column {column}");
        if e.is_eof() {
            // The rest is all part of this value: nothing after it to read.
            return self.broken_rest(format!("malformed JSON: {cause}"));
        }
        if self.array == ArrayState::Element {
            if let Some((at, at_line)) = self.next_element_after(start) {
                let broken = self.text[start..at].trim_ascii_end().len();
                let broken_line = self.line;
                self.pos = at;
                self.line = at_line;
                self.handed_out = true;
                return Chunk::Broken {
                    line: broken_line,
                    text: &self.text[start..start + broken],
                    cause: format!("malformed JSON: {cause}; the array goes on at line {at_line}"),
                };
            }
        }
        if !self.handed_out {
            return self.not_a_document(cause);
        }
        // The line the value starts on is rejected; the lines after it are
        // read on their own.
        let end = self.line_end(start);
        let broken_line = self.line;
        self.pos = (end + 1).min(self.text.len());
        self.line += 1;
        self.mode = Mode::Lines;
        Chunk::Broken {
            line: broken_line,
            text: without_cr(&self.text[start..end]),
            cause: format!(
                "malformed JSON: {cause}; the lines after this one are read as JSON lines"
            ),
        }
    }

    /// Where a top-level array goes on after its element at `start` broke:
    /// the next line, at the broken element's indentation or less, that
    /// starts an element followed by ',' or ']' (or that is the array's
    /// closing `]`), with its line number. Lines indented deeper are taken
    /// as the broken element's, and so are closing `}`s. `None` when the
    /// first other line is no such element (the input is not an array of
    /// one element per line or pretty-printed elements).
    fn next_element_after(&self, start: usize) -> Option<(usize, u64)> {
        let indent = start - self.line_start(start);
        let mut line = self.line;
        let mut at = self.line_end(start) + 1;
        while at < self.text.len() {
            line += 1;
            let end = self.line_end(at);
            let content = self.skip_whitespace_from(at).min(end);
            match self.text.get(content) {
                _ if content == end || content - at > indent => {}
                Some(b'}') => {}
                Some(b']') => {
                    // `],` closes an element of the broken one's depth.
                    if self.text.get(self.skip_whitespace_from(content + 1)) != Some(&b',') {
                        return Some((content, line));
                    }
                }
                _ => {
                    let mut stream = serde_json::Deserializer::from_slice(&self.text[content..])
                        .into_iter::<serde::de::IgnoredAny>();
                    let parsed = matches!(stream.next(), Some(Ok(_)));
                    let after = self.skip_whitespace_from(content + stream.byte_offset());
                    return match self.text.get(after) {
                        Some(b',' | b']') if parsed => Some((content, line)),
                        _ => None,
                    };
                }
            }
            at = end + 1;
        }
        None
    }

    /// The array's element is not followed by ',' or ']': its `[` is
    /// rejected, and the input is read as JSON lines from the line where
    /// the separator should be (from the end of the last value, when that
    /// is on the same line).
    fn separator_missing(&mut self) -> Chunk<'_> {
        let (line, column) = self.line_and_column(self.pos);
        let cause = format!(
            "malformed JSON: expected ',' or ']' after an array element at line {line} column {column}; \
             the array is not read further, and from line {line} on the input is read as JSON lines"
        );
        self.pos = self.line_start(self.pos).max(self.value_end);
        self.mode = Mode::Lines;
        let (open, open_line) = self.array_open;
        Chunk::Broken {
            line: open_line,
            text: &self.text[open..open + 1],
            cause,
        }
    }

    /// The document broke before any value of it was read: its first line
    /// alone is rejected, and the lines after it are read as JSON lines.
    fn not_a_document(&mut self, cause: String) -> Chunk<'_> {
        let end = self.line_end(0);
        self.pos = (end + 1).min(self.text.len());
        self.line = self.first + 1;
        self.mode = Mode::Lines;
        Chunk::Broken {
            line: self.first,
            text: &self.text[..end],
            cause: format!(
                "malformed JSON: {cause}; this line opens no JSON document, and the lines after it are read as JSON lines"
            ),
        }
    }

    /// Ends the document: everything from the current position on is one
    /// broken chunk.
    fn broken_rest(&mut self, cause: String) -> Chunk<'_> {
        self.mode = Mode::Done;
        Chunk::Broken {
            line: self.line,
            text: &self.text[self.pos..],
            cause,
        }
    }

    /// The next line, after the document broke.
    fn next_line(&mut self) -> Option<Chunk<'_>> {
        if self.pos >= self.text.len() {
            self.mode = Mode::Done;
            return None;
        }
        let start = self.pos;
        let end = self.line_end(start);
        let line = self.line;
        self.pos = (end + 1).min(self.text.len());
        self.line += 1;
        let bytes = without_cr(&self.text[start..end]);
        if is_blank(bytes) {
            return Some(Chunk::Blank);
        }
        Some(Chunk::Line { line, bytes })
    }

    fn skip_whitespace(&mut self) {
        let bytes = &self.text;
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// The first byte at or after `at` that is not JSON whitespace.
    fn skip_whitespace_from(&self, at: usize) -> usize {
        at + self.text[at.min(self.text.len())..]
            .iter()
            .take_while(|&&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count()
    }

    /// Where the line holding `at` starts.
    fn line_start(&self, at: usize) -> usize {
        self.text[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1)
    }

    /// Where the line holding `at` ends (its `\n`, or the end of the text).
    fn line_end(&self, at: usize) -> usize {
        memchr::memchr(b'\n', &self.text[at..]).map_or(self.text.len(), |i| at + i)
    }

    /// The line and 1-based byte column of `at`, at or after `pos`.
    fn line_and_column(&self, at: usize) -> (u64, usize) {
        let line = self.line + memchr::memchr_iter(b'\n', &self.text[self.pos..at]).count() as u64;
        (line, at - self.line_start(at) + 1)
    }
}

/// `line` without a final `\r` (of a `\r\n` line end).
fn without_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
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

    /// The chunks `InputReader` gives for `input`, one short line each:
    /// `LINE kind text[ | cause]`.
    fn chunks(input: &[u8]) -> Vec<String> {
        let mut reader = InputReader::new(input);
        let mut out = Vec::new();
        while let Some(chunk) = reader.next_chunk(&mut io::sink()).unwrap() {
            let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
            out.push(match chunk {
                Chunk::Blank => "blank".to_string(),
                Chunk::Line { line, bytes } => format!("{line} line {}", text(bytes)),
                Chunk::Value { line, text, .. } => format!("{line} value {text}"),
                Chunk::TooLong { line, len, .. } => format!("{line} too long {len}"),
                Chunk::Broken {
                    line,
                    text: t,
                    cause,
                } => {
                    format!("{line} broken {} | {cause}", text(t))
                }
            });
        }
        out
    }

    #[test]
    fn a_first_line_bracket_above_json_lines_rejects_that_line_and_reads_every_other() {
        let mut input = b"[\n".to_vec();
        for n in 0..1000 {
            input.extend_from_slice(format!("{{\"n\":{n}}}\n").as_bytes());
        }
        let got = chunks(&input);
        assert_eq!(got.len(), 1001);
        assert_eq!(
            got[0],
            "1 broken [ | malformed JSON: expected ',' or ']' after an array element at \
             line 3 column 1; this line opens no JSON document, and the lines after it are \
             read as JSON lines"
        );
        for (n, chunk) in got[1..].iter().enumerate() {
            assert_eq!(*chunk, format!("{} line {{\"n\":{n}}}", n + 2));
        }
        // The same when the line after `[` is bad too: it is a line of its own.
        let got = chunks(b"[\n{\"n\":\n{\"n\":2}\n{\"n\":3}\n");
        assert!(
            got[0].starts_with("1 broken [ | malformed JSON: "),
            "{got:?}"
        );
        assert_eq!(
            got[1..],
            ["2 line {\"n\":", "3 line {\"n\":2}", "4 line {\"n\":3}"]
        );
    }

    #[test]
    fn a_first_line_that_opens_an_object_and_never_closes_it_rejects_only_that_line() {
        let input = b"{\"kind\":\"Event\",\"x\":{\r\n{\"n\":1}\r\n\r\n{\"n\":2}\n";
        assert_eq!(
            chunks(input),
            [
                "1 broken {\"kind\":\"Event\",\"x\":{ | malformed JSON: key must be a string \
                 at line 2 column 1; this line opens no JSON document, and the lines after it \
                 are read as JSON lines",
                "2 line {\"n\":1}",
                "blank",
                "4 line {\"n\":2}",
            ]
        );
        let got = chunks(b"{\"a\":{\n{\"n\":1}\n{\"n\":2}");
        assert!(got[0].starts_with("1 broken {\"a\":{ | "), "{got:?}");
        assert_eq!(got[1..], ["2 line {\"n\":1}", "3 line {\"n\":2}"]);
    }

    #[test]
    fn well_formed_documents_are_read_value_by_value_as_before() {
        let array =
            b"\n[\n  {\n    \"n\": 1,\n    \"m\": [1, 2]\n  },\r\n  {\"n\": 2}, {\"n\": 3}\n]\n";
        assert_eq!(
            chunks(array),
            [
                "blank",
                "3 value {\n    \"n\": 1,\n    \"m\": [1, 2]\n  }",
                "7 value {\"n\": 2}",
                "7 value {\"n\": 3}",
            ]
        );
        let records = b"{\"records\": [\n  {\"n\": 1},\n  {\"n\": 2}\n]}\n";
        assert_eq!(
            chunks(records),
            ["1 value {\"records\": [\n  {\"n\": 1},\n  {\"n\": 2}\n]}"]
        );
        // One element, and `[` alone on the first line: still an array.
        assert_eq!(chunks(b"[\n  {\"n\": 1}\n]"), ["2 value {\"n\": 1}"]);
    }

    #[test]
    fn a_broken_element_of_a_pretty_printed_array_is_rejected_and_the_array_goes_on() {
        let input = b"[\n  {\n    \"n\": 1\n  },\n  {\n    \"n\": ,\n    \"m\": [1, 2]\n  },\n  {\n    \"n\": 3\n  }\n]\n";
        assert_eq!(
            chunks(input),
            [
                "2 value {\n    \"n\": 1\n  }",
                "5 broken {\n    \"n\": ,\n    \"m\": [1, 2]\n  }, | malformed JSON: expected \
                 value at line 6 column 10; the array goes on at line 9",
                "9 value {\n    \"n\": 3\n  }",
            ]
        );
        // One element a line, the broken one last, or the first.
        assert_eq!(
            chunks(b"[\n  {\"n\":1},\n  {\"n\":,},\n  {\"n\":3}\n]\n"),
            [
                "2 value {\"n\":1}",
                "3 broken {\"n\":,}, | malformed JSON: expected value at line 3 column 8; \
                 the array goes on at line 4",
                "4 value {\"n\":3}",
            ]
        );
        let got = chunks(b"[\n  {\"n\":1},\n  {\"n\":,}\n]\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].starts_with("3 broken {\"n\":,} | "), "{got:?}");
        assert!(got[1].ends_with("the array goes on at line 4"), "{got:?}");
        let got = chunks(b"[\n  {\"n\":,},\n  {\"n\":2}\n]\n");
        assert_eq!(got[1..], ["3 value {\"n\":2}"]);
        // Invalid UTF-8 breaks the element it is in, not the document.
        let got = chunks(b"[\n  {\"n\":1},\n  {\"n\":\"\xff\"},\n  {\"n\":3}\n]\n");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(
            got[1].contains("malformed JSON: invalid unicode code point at line 3"),
            "{got:?}"
        );
        assert_eq!(got[2], "4 value {\"n\":3}");
    }

    #[test]
    fn after_a_break_the_array_cannot_go_on_from_the_rest_is_read_as_lines() {
        // An element that does not parse, with no element after it.
        let input = b"[\n  {\"n\": 1},\n  {\"n\": 2,\n  \"m\": }\n  {\"n\": 3}\n";
        assert_eq!(
            chunks(input),
            [
                "2 value {\"n\": 1}",
                "3 broken {\"n\": 2, | malformed JSON: expected value at line 4 column 8; \
                 the lines after this one are read as JSON lines",
                "4 line   \"m\": }",
                "5 line   {\"n\": 3}",
            ]
        );
        // A missing ',' after an element: the `[` is rejected.
        let input = b"[\n  {\"n\": 1},\n  {\"n\": 2}\n  {\"n\": 3}\n]\n";
        assert_eq!(
            chunks(input),
            [
                "2 value {\"n\": 1}",
                "3 value {\"n\": 2}",
                "1 broken [ | malformed JSON: expected ',' or ']' after an array element at \
                 line 4 column 3; the array is not read further, and from line 4 on the input \
                 is read as JSON lines",
                "4 line   {\"n\": 3}",
                "5 line ]",
            ]
        );
        // On one line: the rest of it is read from the end of the value.
        let got = chunks(b"[{\"n\": 1}, {\"n\": 2} {\"n\": 3}\n{\"n\": 4}\n");
        assert!(got[2].starts_with("1 broken [ | "), "{got:?}");
        assert_eq!(
            got[3..],
            ["1 line  {\"n\": 3}", "2 line {\"n\": 4}"],
            "{got:?}"
        );
        // Once a part of the document was handed out, its first line is
        // not read again.
        assert_eq!(
            chunks(b"[\n{\"n\":\n]\n[\n{\"n\":1}\n{\"n\":2}\n"),
            [
                "2 broken {\"n\": | malformed JSON: expected value at line 3 column 1; the \
                 array goes on at line 3",
                "5 value {\"n\":1}",
                "4 broken [ | malformed JSON: expected ',' or ']' after an array element at \
                 line 6 column 1; the array is not read further, and from line 6 on the input \
                 is read as JSON lines",
                "6 line {\"n\":2}",
            ]
        );
        // Top-level values, then one that does not parse.
        let input = b"{\n  \"n\": 1\n}\n{\"n\": ,\n{\"n\": 3}\n";
        let got = chunks(input);
        assert_eq!(got[0], "1 value {\n  \"n\": 1\n}");
        assert!(got[1].starts_with("4 broken {\"n\": , | "), "{got:?}");
        assert_eq!(got[2..], ["5 line {\"n\": 3}"]);
    }

    #[test]
    fn a_document_cut_off_inside_a_value_is_one_rejection_to_the_end() {
        let got = chunks(b"[\n  {\"n\": 1},\n  {\n    \"n\": 2,\n    \"m\": [1,\n");
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[1].starts_with(
                "3 broken {\n    \"n\": 2,\n    \"m\": [1,\n | malformed JSON: EOF while parsing"
            ),
            "{got:?}"
        );
    }
}
