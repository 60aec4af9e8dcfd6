//! Running a compiled query inside a Rust program (what `kql!` users call).
//!
//! ```
//! use kql_detector::runner::Runner;
//! # use kql_runtime::prelude::*;
//! # #[derive(Default)] struct Rule;
//! # static INPUT: Table = Table { name: "T", columns: &[("N", ColumnType::Long)], used: &[0], access: &[] };
//! # impl Query for Rule {
//! #     fn name(&self) -> &'static str { "doc" }
//! #     fn input(&self) -> Option<&'static Table> { Some(&INPUT) }
//! #     fn output(&self) -> &'static [&'static str] { &["N"] }
//! #     fn push(&mut self, _: &Context, row: Row, emit: Emit<'_>) { emit(row) }
//! # }
//! // `Rule` is what `kql!("T | where N > 1")` or `kqlc emit` produces.
//! let mut runner = Runner::new(Rule::default());
//! let rows = runner.run_json_lines(["{\"N\": 1}", "{\"N\": 2}"]).unwrap();
//! assert_eq!(runner.to_json_line(&rows[1]), "{\"N\":2}");
//! ```

use crate::input;
use crate::output::RowWriter;
use kql_runtime::context::Context;
use kql_runtime::query::Query;
use kql_runtime::value::{DateTime, Row, Value};
use std::fmt;

/// A bad input line given to [`Runner::run_json_lines`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number among the lines given.
    pub line: usize,
    /// What is wrong with it.
    pub cause: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.cause)
    }
}

impl std::error::Error for LineError {}

/// Drives a [`Query`]: feeds rows, collects result rows.
pub struct Runner<Q: Query> {
    query: Q,
    ctx: Context,
    started: bool,
    required: Vec<bool>,
    errors: Vec<String>,
}

impl<Q: Query> Runner<Q> {
    /// A runner whose `now()` is the current time.
    pub fn new(query: Q) -> Runner<Q> {
        Runner::with_now(query, crate::detector::system_now())
    }

    /// A runner whose `now()` (and so `ago()`) is fixed, to replay old logs.
    pub fn with_now(query: Q, now: DateTime) -> Runner<Q> {
        let required = query.input().map_or_else(Vec::new, |table| {
            let mut required = vec![false; table.columns.len()];
            for &i in table.used {
                if let Some(flag) = required.get_mut(i) {
                    *flag = true;
                }
            }
            required
        });
        Runner {
            query,
            ctx: Context { now },
            started: false,
            required,
            errors: Vec::new(),
        }
    }

    /// The result column names, in order.
    pub fn columns(&self) -> &'static [&'static str] {
        self.query.output()
    }

    fn start(&mut self, out: &mut Vec<Row>) {
        if !self.started {
            self.started = true;
            self.query.start(&self.ctx, &mut |row| out.push(row));
            self.errors = self.query.take_errors();
        }
    }

    /// What went wrong when the query started, on its first row or at
    /// [`Runner::finish`] (an `externaldata` file that cannot be read, ...):
    /// its results are incomplete if this is not empty.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Feeds one row laid out as the query's input table; returns the result
    /// rows it produced now (operators such as `count` produce theirs in
    /// [`Runner::finish`]).
    pub fn push_row(&mut self, row: Row) -> Vec<Row> {
        let mut out = Vec::new();
        self.start(&mut out);
        self.query.push(&self.ctx, row, &mut |row| out.push(row));
        out
    }

    /// Feeds one JSON object (a row of the input table, keys = column names).
    pub fn push_json(&mut self, line: &str) -> Result<Vec<Row>, String> {
        let Some(table) = self.query.input() else {
            return Err("this query reads no table (it uses print or datatable)".to_string());
        };
        let record = input::parse_record(line.as_bytes())?;
        let row = input::record_to_row(&record, table, &self.required)?;
        Ok(self.push_row(row))
    }

    /// Ends the input; returns the rows that waited for it.
    pub fn finish(&mut self) -> Vec<Row> {
        let mut out = Vec::new();
        self.start(&mut out);
        self.query.finish(&self.ctx, &mut |row| out.push(row));
        out
    }

    /// Runs the query over JSON lines (blank lines skipped) and returns every
    /// result row; stops at the first bad line.
    pub fn run_json_lines<'a>(
        &mut self,
        lines: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Row>, LineError> {
        let mut rows = Vec::new();
        self.start(&mut rows);
        if let Some(cause) = self.errors.first() {
            return Err(LineError {
                line: 0,
                cause: cause.clone(),
            });
        }
        for (i, line) in lines.into_iter().enumerate() {
            if input::is_blank(line.as_bytes()) {
                continue;
            }
            let produced = self
                .push_json(line)
                .map_err(|cause| LineError { line: i + 1, cause })?;
            rows.extend(produced);
        }
        rows.extend(self.finish());
        Ok(rows)
    }

    /// A result row as one JSON object (keys in column order, no newline).
    pub fn to_json_line(&self, row: &Row) -> String {
        let mut buf = Vec::new();
        let mut writer = RowWriter::new(&mut buf);
        // Writing to a Vec cannot fail.
        let _ = writer.write_row(None, self.columns(), row);
        let mut text = String::from_utf8_lossy(&buf).into_owned();
        text.pop();
        text
    }

    /// The value of column `name` in a result row.
    pub fn get<'r>(&self, row: &'r Row, name: &str) -> Option<&'r Value> {
        let i = self.columns().iter().position(|c| *c == name)?;
        row.get(i)
    }
}
