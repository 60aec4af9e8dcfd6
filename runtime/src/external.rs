//! `externaldata`: rows read from local files when a detector starts (the
//! air-gapped way to load an allow-list or a watchlist).
//!
//! Every problem is an error naming the file, the line and the cause: a
//! detector never runs with a silently shortened list.

use crate::query::ColumnType;
use crate::value::{Row, Value};
use std::path::Path;
use std::sync::Mutex;

/// The files [`load`] has read, each once: a detector that confines its
/// file access (Landlock, in live modes) keeps them readable, since a
/// scheduled rule loads its data again at each run.
static FILES_READ: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The paths of the files [`load`] has read so far (as given, without a
/// `file://` prefix).
pub fn files_read() -> Vec<String> {
    FILES_READ.lock().map(|f| f.clone()).unwrap_or_default()
}

/// How a file's records are laid out (the `format` option of
/// `externaldata`, or the file's extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalFormat {
    /// Fields separated by this byte, with RFC 4180 quoting (`csv`: `,`,
    /// `tsv`: tab, `psv`: `|`, `scsv`: `;`, `sohsv`: `\x01`).
    Delimited(u8),
    /// JSON objects whose keys are the column names, one after another
    /// (one per line, or spread over several: `json`, `multijson`).
    Json,
    /// One record per line: the line is the first column (`txt`).
    Text,
    /// The whole file is one record (`raw`).
    Raw,
}

/// Reads `files` in order into rows of `columns`; `skip_first` drops the
/// first record of each file (a header: `ignoreFirstRecord=true`).
/// A `file://` prefix is removed; relative paths are relative to the
/// working directory.
pub fn load(
    files: &[&str],
    format: ExternalFormat,
    columns: &[(&str, ColumnType)],
    skip_first: bool,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for file in files {
        let path = file.strip_prefix("file://").unwrap_or(file);
        let bytes = std::fs::read(Path::new(path))
            .map_err(|e| format!("externaldata: {path}: cannot read: {e}"))?;
        if let Ok(mut read) = FILES_READ.lock() {
            if !read.iter().any(|f| f == path) {
                read.push(path.to_string());
            }
        }
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            format!("externaldata: {path}:{line}: invalid UTF-8")
        })?;
        // A byte order mark is not data.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let skip = usize::from(skip_first);
        match format {
            ExternalFormat::Delimited(delimiter) => {
                delimited(text, delimiter, columns, skip, &mut rows)
                    .map_err(|e| format!("externaldata: {path}:{e}"))?;
            }
            ExternalFormat::Json => json(text, columns, skip, &mut rows)
                .map_err(|e| format!("externaldata: {path}:{e}"))?,
            ExternalFormat::Text => {
                for line in text.lines().skip(skip) {
                    rows.push(text_row(line, columns));
                }
            }
            ExternalFormat::Raw => {
                if !skip_first {
                    rows.push(text_row(text, columns));
                }
            }
        }
    }
    Ok(rows)
}

/// A row whose first column is `text` and the others null.
fn text_row(text: &str, columns: &[(&str, ColumnType)]) -> Row {
    columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            if i == 0 {
                crate::parse::convert(text, *ty).unwrap_or_else(|| ty.null())
            } else {
                ty.null()
            }
        })
        .collect()
}

/// Delimited records: fields map to columns by position; missing or empty
/// fields are null (`""` for strings); a field that does not convert to its
/// column's type is an error. Errors start with `LINE: `.
fn delimited(
    text: &str,
    delimiter: u8,
    columns: &[(&str, ColumnType)],
    skip: usize,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for record in reader.records().skip(skip) {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("{line}: {e}")
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.len() > columns.len() {
            return Err(format!(
                "{line}: {} fields, but the schema has {} columns",
                record.len(),
                columns.len()
            ));
        }
        let mut row = Vec::with_capacity(columns.len());
        for (i, (name, ty)) in columns.iter().enumerate() {
            let field = record.get(i).unwrap_or("");
            let value = if field.is_empty() {
                ty.null()
            } else {
                crate::parse::convert(field, *ty).ok_or_else(|| {
                    format!(
                        "{line}: column '{name}' is {}, but field {} is '{}'",
                        ty.name(),
                        i + 1,
                        crate::record::clip(field)
                    )
                })?
            };
            row.push(value);
        }
        rows.push(row);
    }
    Ok(())
}

/// JSON objects one after another: each key that names a column fills it
/// (converted as input rows are), other keys are ignored, absent columns
/// are null. Errors start with `LINE: `.
fn json(
    text: &str,
    columns: &[(&str, ColumnType)],
    skip: usize,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let mut skip = skip;
    let line_at = |offset: usize| text[..offset].matches('\n').count() + 1;
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    loop {
        let start = stream.byte_offset();
        let value = match stream.next() {
            None => return Ok(()),
            Some(Ok(value)) => value,
            Some(Err(e)) => return Err(format!("{}: malformed JSON: {e}", e.line())),
        };
        let start = start + text[start..].len() - text[start..].trim_start().len();
        let line = line_at(start);
        if skip > 0 {
            skip -= 1;
            continue;
        }
        let Value::Bag(bag) = &value else {
            return Err(format!(
                "{line}: expected a JSON object, found {}",
                crate::record::json_kind(&value)
            ));
        };
        let mut row = Vec::with_capacity(columns.len());
        for (name, ty) in columns {
            let field = bag.get(name).cloned().unwrap_or(Value::Null);
            row.push(
                crate::record::convert(&field, *ty)
                    .map_err(|e| format!("{line}: column '{name}': {e}"))?,
            );
        }
        rows.push(row);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(contents: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().expect("temp file");
        f.write_all(contents).expect("write");
        f
    }

    const COLUMNS: &[(&str, ColumnType)] = &[
        ("User", ColumnType::String),
        ("Level", ColumnType::Long),
        ("Since", ColumnType::DateTime),
    ];

    #[test]
    fn csv_fields_convert_by_position_with_quotes_and_header() {
        let f = file(b"User,Level,Since\nalice,3,2024-01-02T00:00:00Z\n\"bob, jr\",,\n\"say \"\"hi\"\"\"\r\n");
        let path = f.path().to_str().unwrap();
        let rows = load(&[path], ExternalFormat::Delimited(b','), COLUMNS, true).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0][0], Value::from_static("alice"));
        assert_eq!(rows[0][1], Value::Long(3));
        assert!(matches!(rows[0][2], Value::DateTime(_)));
        assert_eq!(rows[1][0], Value::from_static("bob, jr"));
        assert_eq!(rows[1][1], Value::Null);
        assert_eq!(rows[2][0], Value::from_static("say \"hi\""));
        assert_eq!(rows[2][2], Value::Null);
    }

    #[test]
    fn bad_fields_and_files_are_errors_naming_file_and_line() {
        let f = file(b"alice,3\nbob,three\n");
        let path = f.path().to_str().unwrap();
        let e = load(&[path], ExternalFormat::Delimited(b','), COLUMNS, false).unwrap_err();
        assert!(
            e.contains(&format!("{path}:2: column 'Level' is long")),
            "{e}"
        );
        let e = load(
            &["/nonexistent/list.csv"],
            ExternalFormat::Delimited(b','),
            COLUMNS,
            false,
        )
        .unwrap_err();
        assert!(e.contains("/nonexistent/list.csv: cannot read"), "{e}");
        let f = file(b"a,1,,9\n");
        let path = f.path().to_str().unwrap();
        let e = load(&[path], ExternalFormat::Delimited(b','), COLUMNS, false).unwrap_err();
        assert!(e.contains(":1: 4 fields"), "{e}");
        let f = file(b"ok\n\xff\n");
        let path = f.path().to_str().unwrap();
        let e = load(&[path], ExternalFormat::Text, COLUMNS, false).unwrap_err();
        assert!(e.contains(":2: invalid UTF-8"), "{e}");
    }

    #[test]
    fn json_objects_fill_columns_by_name() {
        let f = file(b"{\"User\":\"a\",\"Level\":1}\n{\n  \"Level\": 2,\n  \"Other\": true\n}\n");
        let path = format!("file://{}", f.path().to_str().unwrap());
        let rows = load(&[&path], ExternalFormat::Json, COLUMNS, false).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][0], Value::from_static("a"));
        assert_eq!(rows[1][0], Value::from_static(""));
        assert_eq!(rows[1][1], Value::Long(2));
        let f = file(b"{\"User\":\"a\"}\n[1]\n");
        let e = load(
            &[f.path().to_str().unwrap()],
            ExternalFormat::Json,
            COLUMNS,
            false,
        )
        .unwrap_err();
        assert!(e.contains(":2: expected a JSON object"), "{e}");
        let f = file(b"{\"Level\":\"x\"}\n");
        let e = load(
            &[f.path().to_str().unwrap()],
            ExternalFormat::Json,
            COLUMNS,
            false,
        )
        .unwrap_err();
        assert!(e.contains(":1: column 'Level'"), "{e}");
    }

    #[test]
    fn text_lines_fill_the_first_column() {
        let f = file(b"one\ntwo\n");
        let rows = load(
            &[f.path().to_str().unwrap()],
            ExternalFormat::Text,
            COLUMNS,
            false,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1][0], Value::from_static("two"));
        assert_eq!(rows[1][1], Value::Null);
    }
}
