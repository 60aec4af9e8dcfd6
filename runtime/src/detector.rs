//! The detector's `main`: arguments, the read loop, error reports, summary.
//!
//! ```text
//! DETECTOR [FILE...] [--now DATETIME] [--strict]
//! ```
//!
//! Reads each file (stdin when none, or for `-`) once, line by line, and
//! hands every row to every rule; prints result rows as JSON lines on stdout.
//! With several rules each row starts with `"_rule"`. Every rejected line gets
//! one stderr line `FILE:LINE: cause`; at the end a one-line summary goes to
//! stderr. Exit status: 0 when every line was processed, 1 when some were
//! rejected (or `--strict` stopped at one), 2 on a usage or I/O error.

use crate::context::Context;
use crate::input::{self, Line, LineReader};
use crate::output::RowWriter;
use crate::query::{Query, Table};
use crate::text;
use crate::value::{DateTime, Row};
use std::io::{self, BufReader, Write};
use std::process::ExitCode;

/// Parsed command-line options.
#[derive(Debug, Default, PartialEq)]
pub struct Options {
    /// Input files; empty means stdin.
    pub files: Vec<String>,
    /// `--now`.
    pub now: Option<DateTime>,
    /// `--strict`.
    pub strict: bool,
}

const USAGE: &str = "usage: DETECTOR [FILE...] [--now DATETIME] [--strict]\n\
  FILE        JSON-lines input files (stdin when none, or '-')\n\
  --now T     what now() and ago() count from (ISO 8601), to replay old logs\n\
  --strict    stop at the first bad input line";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub enum Invocation {
    /// Run with these options.
    Run(Options),
    /// Print usage.
    Help,
}

/// Parses arguments (without the program name).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Invocation, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    let mut only_files = false;
    while let Some(arg) = args.next() {
        if only_files {
            options.files.push(arg);
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "--" => only_files = true,
            "-h" | "--help" => return Ok(Invocation::Help),
            "--strict" => options.strict = true,
            "--now" => {
                let value = match inline {
                    Some(v) => v,
                    None => args
                        .next()
                        .ok_or("--now needs a datetime, e.g. --now 2024-05-28T12:00:00Z")?,
                };
                let now = text::parse_datetime(&value)
                    .ok_or_else(|| format!("--now: '{value}' is not a datetime (expected ISO 8601, e.g. 2024-05-28T12:00:00Z)"))?;
                options.now = Some(now);
            }
            _ if arg.starts_with("--") => return Err(format!("unknown option '{arg}'")),
            _ => options.files.push(arg),
        }
    }
    Ok(Invocation::Run(options))
}

/// Counts for the summary.
#[derive(Debug, Default)]
struct Counts {
    read: u64,
    rejected: u64,
    blank: u64,
    emitted: Vec<u64>,
}

/// The detector's entry point: runs `rules` as the command line says.
pub fn main(rules: Vec<Box<dyn Query>>) -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(Invocation::Run(options)) => options,
        Ok(Invocation::Help) => {
            println!("{USAGE}");
            for rule in &rules {
                println!("rule: {}", rule.name());
            }
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let stdout = io::stdout();
    let mut writer = RowWriter::new(io::BufWriter::with_capacity(1 << 16, stdout.lock()));
    match run(rules, &options, &mut writer, &mut io::stderr()) {
        Ok(status) => status,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing results: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs `rules` over the inputs of `options`, writing rows to `writer` and
/// reports to `errors`. `Err` only when writing results fails.
pub fn run<W: Write, E: Write>(
    mut rules: Vec<Box<dyn Query>>,
    options: &Options,
    writer: &mut RowWriter<W>,
    errors: &mut E,
) -> io::Result<ExitCode> {
    let now = options.now.unwrap_or_else(system_now);
    let ctx = Context { now };
    let tag_rows = rules.len() > 1;
    let mut counts = Counts {
        emitted: vec![0; rules.len()],
        ..Counts::default()
    };
    // Rules read the same table: group them so a line is parsed once per table.
    let tables = distinct_tables(&rules);
    let mut io_failed = false;
    let mut write_error: Option<io::Error> = None;
    let mut output_rows: Vec<(usize, Row)> = Vec::new();

    for (index, rule) in rules.iter_mut().enumerate() {
        rule.start(&ctx, &mut |row| output_rows.push((index, row)));
    }
    flush_rows(&rules, &mut output_rows, tag_rows, writer, &mut counts)?;

    let reads_input = !tables.is_empty();
    let files: Vec<String> = if options.files.is_empty() {
        vec!["-".to_string()]
    } else {
        options.files.clone()
    };
    let mut stopped = false;
    if reads_input {
        let mut buf = Vec::new();
        'files: for file in &files {
            let (name, source): (&str, Box<dyn io::BufRead>) = if file == "-" {
                ("<stdin>", Box::new(BufReader::new(io::stdin().lock())))
            } else {
                match std::fs::File::open(file) {
                    Ok(f) => (
                        file.as_str(),
                        Box::new(BufReader::with_capacity(1 << 16, f)),
                    ),
                    Err(e) => {
                        writeln!(errors, "{file}: cannot open: {e}")?;
                        io_failed = true;
                        continue;
                    }
                }
            };
            let mut lines = LineReader::new(source);
            let mut number = 0u64;
            loop {
                let line = match lines.next_line(&mut buf) {
                    Ok(Some(line)) => line,
                    Ok(None) => break,
                    Err(e) => {
                        writeln!(errors, "{name}:{}: read error: {e}", number + 1)?;
                        io_failed = true;
                        break;
                    }
                };
                number += 1;
                let outcome = match line {
                    Line::TooLong(len) => Err(format!(
                        "line of {len} bytes is longer than the limit of {} bytes",
                        input::MAX_LINE_BYTES
                    )),
                    Line::Text if input::is_blank(&buf) => {
                        counts.blank += 1;
                        continue;
                    }
                    Line::Text => rows_for_tables(&buf, &tables),
                };
                counts.read += 1;
                match outcome {
                    Ok(table_rows) => {
                        for (index, rule) in rules.iter_mut().enumerate() {
                            let Some(table) = rule.input() else { continue };
                            let Some(position) =
                                tables.iter().position(|(t, _)| std::ptr::eq(*t, table))
                            else {
                                continue;
                            };
                            let row = table_rows[position].clone();
                            rule.push(&ctx, row, &mut |row| output_rows.push((index, row)));
                        }
                        if let Err(e) =
                            flush_rows(&rules, &mut output_rows, tag_rows, writer, &mut counts)
                        {
                            write_error = Some(e);
                            break 'files;
                        }
                    }
                    Err(cause) => {
                        counts.rejected += 1;
                        writeln!(errors, "{name}:{number}: {cause}")?;
                        if options.strict {
                            writeln!(errors, "stopping at the first bad line (--strict)")?;
                            stopped = true;
                            break 'files;
                        }
                    }
                }
            }
        }
    }
    if let Some(e) = write_error {
        return Err(e);
    }
    if !stopped {
        for (index, rule) in rules.iter_mut().enumerate() {
            rule.finish(&ctx, &mut |row| output_rows.push((index, row)));
        }
        flush_rows(&rules, &mut output_rows, tag_rows, writer, &mut counts)?;
    }
    writer.flush()?;

    let emitted: u64 = counts.emitted.iter().sum();
    let mut summary = format!(
        "summary: {} rows read, {} rejected, {} emitted",
        counts.read, counts.rejected, emitted
    );
    if counts.blank > 0 {
        summary.push_str(&format!(", {} blank lines skipped", counts.blank));
    }
    if tag_rows {
        let per_rule: Vec<String> = rules
            .iter()
            .zip(&counts.emitted)
            .map(|(rule, n)| format!("{}={n}", rule.name()))
            .collect();
        summary.push_str(&format!(" ({})", per_rule.join(", ")));
    }
    writeln!(errors, "{summary}")?;
    Ok(if io_failed {
        ExitCode::from(2)
    } else if counts.rejected > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The tables the rules read, each once, with the union of the columns the
/// rules need (a row lacking one is rejected).
fn distinct_tables(rules: &[Box<dyn Query>]) -> Vec<(&'static Table, Vec<bool>)> {
    let mut tables: Vec<(&'static Table, Vec<bool>)> = Vec::new();
    for rule in rules {
        let Some(table) = rule.input() else { continue };
        let index = match tables.iter().position(|(t, _)| std::ptr::eq(*t, table)) {
            Some(i) => i,
            None => {
                tables.push((table, vec![false; table.columns.len()]));
                tables.len() - 1
            }
        };
        for &used in table.used {
            if let Some(flag) = tables[index].1.get_mut(used) {
                *flag = true;
            }
        }
    }
    tables
}

/// Parses a line once and makes a row for each table.
fn rows_for_tables(
    line: &[u8],
    tables: &[(&'static Table, Vec<bool>)],
) -> Result<Vec<Row>, String> {
    let record = input::parse_record(line)?;
    tables
        .iter()
        .map(|(table, required)| input::record_to_row(&record, table, required))
        .collect()
}

fn flush_rows<W: Write>(
    rules: &[Box<dyn Query>],
    rows: &mut Vec<(usize, Row)>,
    tag_rows: bool,
    writer: &mut RowWriter<W>,
    counts: &mut Counts,
) -> io::Result<()> {
    for (index, row) in rows.drain(..) {
        let rule = &rules[index];
        writer.write_row(tag_rows.then(|| rule.name()), rule.output(), &row)?;
        counts.emitted[index] += 1;
    }
    Ok(())
}

/// The current time as a KQL datetime.
pub fn system_now() -> DateTime {
    let now = chrono::Utc::now();
    let ticks = now.timestamp() * crate::value::ticks::PER_SECOND
        + i64::from(now.timestamp_subsec_nanos() / 100);
    DateTime(ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Invocation, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_files_now_and_strict() {
        let Ok(Invocation::Run(options)) = args(&[
            "a.jsonl",
            "--now",
            "2024-05-28T12:00:00Z",
            "--strict",
            "b.jsonl",
        ]) else {
            panic!("expected options");
        };
        assert_eq!(options.files, ["a.jsonl", "b.jsonl"]);
        assert!(options.strict);
        assert!(options.now.is_some());
        assert!(matches!(
            args(&["--now=2024-05-28"]),
            Ok(Invocation::Run(_))
        ));
    }

    #[test]
    fn rejects_bad_now_and_unknown_flags() {
        assert!(args(&["--now", "yesterday"])
            .unwrap_err()
            .contains("not a datetime"));
        assert!(args(&["--now"]).unwrap_err().contains("needs a datetime"));
        assert!(args(&["--fast"]).unwrap_err().contains("unknown option"));
        assert_eq!(
            args(&["--", "--strict"]),
            Ok(Invocation::Run(Options {
                files: vec!["--strict".into()],
                ..Options::default()
            }))
        );
    }
}
