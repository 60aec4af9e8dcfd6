//! The detector's `main`: the read loop, error reports, summary.
//!
//! ```text
//! DETECTOR [OPTIONS] [FILE]...
//! ```
//!
//! The arguments (and `--config FILE`) are read by [`crate::args`] into
//! [`Options`]; `DETECTOR --help` lists them by topic.
//!
//! Reads each file (stdin when none, or for `-`) once, gunzipping it when it
//! starts with the gzip magic bytes, normalizes every event once and hands
//! each rule the event's row in the table it reads (see
//! [`crate::formats::tables`] for the tables derived from the event);
//! prints result rows as JSON lines on stdout. With several rules each row
//! starts with `"_rule"`.
//!
//! `--input-format` says how files are read (see [`crate::formats`]):
//! `auto` (the default) decides per line, the others read every line in
//! that one format. It applies to the files named after it, up to the next
//! `--input-format`; files named before the first one take the first one,
//! so a single `--input-format` anywhere applies to every file.
//!
//! A line of `CloudAuditEvents` rows (format `cloudaudit`, or `auto` when
//! the line starts like a row) is read by [`crate::lazy::RowReader`]
//! straight into a row holding only what the rules can observe; a line it
//! does not expect goes the general way, so results and messages are the
//! same. `--full-parse` reads every line the general way, and so does a
//! detector with a rule over a derived table (`AKSAudit`, ...).
//!
//! Every rejected line (or element of a batch) gets one stderr line
//! `FILE:LINE: cause` (`FILE:LINE: records[3]: cause` for an element);
//! with `--rejects FILE` each rejected line is also written there verbatim
//! (once, however many of its elements were rejected). An output that is
//! also an input, by file identity whatever its name (`--rejects` naming an
//! input or a hard link of one, stdout appended to an input), is refused
//! before anything is written ([`crate::file_identity`]). At the end a
//! one-line summary goes to stderr. Exit status: 0 when everything was
//! processed, 1 when something was rejected (or `--strict` stopped at it), 2
//! on a usage or I/O error.
//!
//! `--threads N` (1 to [`MAX_THREADS`]) does the per-line work of JSON-lines
//! input (UTF-8 check, prefilter, parsing, normalization) on N threads; a
//! thread the system refuses to start is an error (status 2), not a panic;
//! everything else stays
//! on one thread in input order, so the output, the reports and the exit
//! status are those of one thread ([`crate::parallel`]).

use crate::alert::{AlertWriter, InputPosition};
use crate::file_identity::FileId;
use crate::formats::{InputFormat, Rejection};
use crate::input::{self, Chunk, Compression, InputReader};
use crate::lazy::RowReader;
use crate::manifest::DetectorInfo;
use crate::ocsf::{self, OcsfWriter};
use crate::output::{RowWriter, Sink};
use crate::parallel::{
    self, BatchOutcome, EventKind, LineRows, LineSink, LineWork, PartialRules, Partials,
    RecordRows, Taken,
};
use crate::prefilter::PrefilterSet;
use crate::schedule::{show_time, Clock, ClockKind, Offered, RuleSchedule};
use kql_runtime::context::Context;
use kql_runtime::printable::printable;
use kql_runtime::query::{Query, Table};
use kql_runtime::value::{DateTime, Row};
use std::io::{self, BufRead, BufReader, Write};
use std::process::ExitCode;

pub use crate::args::{
    parse_args, InputFile, Invocation, Options, OutputKind, DEFAULT_MAX_MEMORY, MAX_THREADS,
};

/// A rule stopped for going over `--max-memory`: it keeps its name and
/// columns for reports, and holds nothing.
struct StoppedRule {
    name: &'static str,
    output: &'static [&'static str],
}

impl Query for StoppedRule {
    fn name(&self) -> &'static str {
        self.name
    }
    fn input(&self) -> Option<&'static Table> {
        None
    }
    fn output(&self) -> &'static [&'static str] {
        self.output
    }
    fn push(&mut self, _: &Context, _: Row, _: kql_runtime::query::Emit<'_>) {}
}

/// Sets the heap level at which the rule about to run is over budget:
/// `room` more bytes than now.
fn budget_ceiling(room: i64) {
    if let Some(live) = kql_runtime::budget::live_bytes() {
        kql_runtime::budget::ceiling(
            live.saturating_add(usize::try_from(room.max(0)).unwrap_or(usize::MAX)),
        );
    }
}

/// Adds the heap growth since `before` to a rule's `held` bytes; true when
/// it is over `limit` (or an operator saw the heap go past the ceiling).
fn grew_past_budget(held: &mut i64, limit: Option<i64>, before: usize) -> bool {
    let Some(limit) = limit else {
        return false;
    };
    let after = kql_runtime::budget::live_bytes().unwrap_or(before);
    let over = kql_runtime::budget::over_ceiling() | kql_runtime::budget::take_tripped();
    kql_runtime::budget::ceiling(usize::MAX);
    *held = (*held + after as i64 - before as i64).max(0);
    over || *held > limit
}

/// A session's running counts, as live sources' metrics show them.
#[cfg(feature = "live")]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) read: u64,
    pub(crate) rejected: u64,
    pub(crate) skipped: u64,
}

/// Counts for the summary.
#[derive(Debug, Default)]
struct Counts {
    /// Rows (records, or rejected lines and elements) read.
    read: u64,
    /// Rules stopped for going over `--max-memory`.
    stopped_rules: u64,
    rejected: u64,
    blank: u64,
    emitted: Vec<u64>,
    /// Records read per format, in the order of [`InputFormat::ALL`].
    by_format: [u64; 7],
    /// Units that held several rows (batches, several objects on a line).
    batches: u64,
    /// Units that held no row (CloudWatch control messages, empty batches).
    without_rows: u64,
    gzip_files: u64,
    documents: u64,
    /// Lines the literal prefilter skipped unparsed.
    skipped: u64,
}

impl Counts {
    /// Counts lines whose rows partial states took on a worker, as
    /// [`Session::take_unit`] counts a unit's records.
    fn take(&mut self, taken: &Taken) {
        self.read += taken.records;
        self.without_rows += taken.without_rows;
        self.batches += taken.batches;
        for (count, more) in self.by_format.iter_mut().zip(taken.by_format) {
            *count += more;
        }
    }
}

/// Where rejected input goes: a file, or nowhere. Write errors are kept,
/// not raised, so that a failing rejects file never stops the reading; the
/// run reports them at the end.
struct Rejects {
    path: Option<String>,
    writer: Option<io::BufWriter<std::fs::File>>,
    error: Option<io::Error>,
}

impl Rejects {
    fn open(path: Option<&str>) -> io::Result<Rejects> {
        let writer = match path {
            Some(path) => Some(io::BufWriter::new(std::fs::File::create(path)?)),
            None => None,
        };
        Ok(Rejects {
            path: path.map(str::to_string),
            writer,
            error: None,
        })
    }

    /// The rejects file, when there is one: its option and identity.
    #[cfg(feature = "live")]
    fn identity(&self) -> Option<(String, FileId)> {
        let file = self.writer.as_ref()?.get_ref();
        let id = FileId::of_metadata(&file.metadata().ok()?)?;
        Some((format!("--rejects {}", self.path.as_deref()?), id))
    }

    /// Writes a rejected unit and a line end.
    fn unit(&mut self, bytes: &[u8]) {
        let _ = self.write_all(bytes);
        if !bytes.ends_with(b"\n") {
            let _ = self.write_all(b"\n");
        }
    }

    fn finish(&mut self) -> Option<io::Error> {
        if let Some(writer) = &mut self.writer {
            if let Err(e) = writer.flush() {
                self.error.get_or_insert(e);
            }
        }
        self.error.take()
    }
}

impl Write for Rejects {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let (Some(writer), None) = (&mut self.writer, &self.error) {
            if let Err(e) = writer.write_all(data) {
                self.error = Some(e);
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The detector's entry point: runs `rules` as the command line says.
pub fn main(rules: Vec<Box<dyn Query>>) -> ExitCode {
    main_impl(None, rules)
}

/// The entry point of detectors built by `kqlc build`: [`main`] plus the
/// manifest behind `--version`, `--rules` and `--output alerts`.
/// `info.rules[i]` describes `rules[i]`.
pub fn main_with_info(info: &'static DetectorInfo, rules: Vec<Box<dyn Query>>) -> ExitCode {
    main_impl(Some(info), rules)
}

fn main_impl(info: Option<&'static DetectorInfo>, rules: Vec<Box<dyn Query>>) -> ExitCode {
    let mut args = std::env::args_os();
    let program = args
        .next()
        .as_deref()
        .map(std::path::Path::new)
        .and_then(std::path::Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "DETECTOR".to_string());
    // An argument that is not UTF-8 cannot name an option; as a file name
    // it is read lossily, as before.
    let args = args.map(|arg| arg.to_string_lossy().into_owned());
    let mut options = match parse_args(args) {
        Ok(Invocation::Run(options)) => options,
        Ok(Invocation::Version { json }) => {
            match (info, json) {
                (Some(info), true) => print!("{}", info.manifest_json),
                (Some(info), false) => print!("{}", info.version_text()),
                (None, _) => println!(
                    "kql detector: kql-runtime {}; rules: {}",
                    env!("CARGO_PKG_VERSION"),
                    rules
                        .iter()
                        .map(|r| printable(r.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
            return ExitCode::SUCCESS;
        }
        Ok(Invocation::Rules(id)) => {
            let Some(info) = info else {
                let _ = say(
                    &mut io::stderr(),
                    format_args!("error: this detector carries no rule texts"),
                );
                return ExitCode::from(2);
            };
            return match info.rules_text(id.as_deref()) {
                Some(text) => {
                    print!("{text}");
                    ExitCode::SUCCESS
                }
                None => {
                    let id = id.unwrap_or_default();
                    let _ = say(
                        &mut io::stderr(),
                        format_args!("error: no rule has the id '{id}'"),
                    );
                    ExitCode::from(2)
                }
            };
        }
        Ok(Invocation::Help) => {
            print!("{}", crate::args::help_text(&program));
            for rule in &rules {
                println!("rule: {}", printable(rule.name()));
            }
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            let _ = say(&mut io::stderr(), format_args!("error: {message}"));
            let _ = say(
                &mut io::stderr(),
                format_args!("{}", crate::args::usage_hint(&program)),
            );
            return ExitCode::from(crate::args::USAGE_STATUS);
        }
    };
    if options.alerts() && info.is_none() {
        let _ = say(&mut io::stderr(), format_args!("error: --output alerts needs a detector built by kqlc build (it carries the rules' metadata)"));
        return ExitCode::from(2);
    }
    options.info = info;
    options.stdin_closed = stdin_is_closed();
    let mut streams = standard_streams().to_vec();
    if let Some(path) = &options.output_file {
        streams.push((format!("--output-file {path}"), FileId::of_path(path)));
    }
    if let Some(message) = output_that_is_an_input(&options.files, &streams) {
        let _ = say(&mut io::stderr(), format_args!("error: {message}"));
        return ExitCode::from(2);
    }
    let mut writer = match &options.output_file {
        Some(path) => match Sink::append(path) {
            Ok(sink) => RowWriter::reopenable(sink, Sink::reopen),
            Err(e) => {
                let _ = say(
                    &mut io::stderr(),
                    format_args!("error: --output-file {path}: cannot open: {e}"),
                );
                return ExitCode::from(2);
            }
        },
        None => RowWriter::new(Sink::stdout()),
    };
    // A rule with a partition key sends its alerts to a subject (a Kafka
    // partition) of their own.
    let partitioned =
        info.is_some_and(|info| info.rules.iter().any(|rule| !rule.partition_key.is_empty()));
    let sinks = [
        ("--publish", options.live.publish.as_deref()),
        ("--publish-kafka", options.live.publish_kafka.as_deref()),
    ];
    for (flag, name) in sinks {
        let Some(name) = name else { continue };
        let publisher = if flag == "--publish" {
            crate::live::publisher(name, &options.live, partitioned)
        } else {
            crate::live::kafka_publisher(name, &options.live, partitioned)
        };
        match publisher {
            Ok(publisher) => writer.publish_to(publisher),
            Err(e) => {
                let _ = say(&mut io::stderr(), format_args!("error: {flag} {name}: {e}"));
                return ExitCode::from(2);
            }
        }
    }
    match run(rules, &options, &mut writer, &mut io::stderr()) {
        Ok(status) => status,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = say(
                &mut io::stderr(),
                format_args!("error: writing results: {e}"),
            );
            ExitCode::from(2)
        }
    }
}

/// Writes one message line to `errors`, made printable
/// ([`printable`]): text quoted from input, file names and rule metadata
/// cannot start a line of their own (a forged `FILE:LINE:` or `summary:`)
/// or drive the terminal. Every message of the detector goes through here.
fn say<E: Write + ?Sized>(errors: &mut E, message: std::fmt::Arguments<'_>) -> io::Result<()> {
    let message = message.to_string();
    writeln!(errors, "{}", printable(&message))
}

/// The first of `outputs` (a name and its identity) that is also one of
/// the input `files` (stdin when none), by file identity, whatever the
/// names (a hard link, a symlink, `./x`): the message refusing it.
fn output_that_is_an_input(
    files: &[InputFile],
    outputs: &[(String, Option<FileId>)],
) -> Option<String> {
    let stdin = [InputFile::auto("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    let inputs: Vec<(&str, FileId)> = files
        .iter()
        .filter_map(|file| match file.path.as_str() {
            "-" => Some(("<stdin>", FileId::of_stdin()?)),
            path => Some((path, FileId::of_path(path)?)),
        })
        .collect();
    outputs.iter().find_map(|(output, id)| {
        let id = (*id)?;
        let (input, _) = inputs.iter().find(|(_, input)| *input == id)?;
        Some(format!(
            "{output} is the input file {input} (the same file): writing to it would destroy \
             the input before it is read; write to another file"
        ))
    })
}

/// True when the process started with standard input closed (`det <&-`).
///
/// Rust's start-up code reopens a closed descriptor 0 on `/dev/null`
/// read-write, so a closed stdin would read as an empty input. A shell's
/// `< /dev/null` opens it read-only: descriptor 0 on `/dev/null` opened
/// read-write is taken as closed (Linux, through `/proc/self`; elsewhere
/// the check is skipped, see `docs/limits.md`).
fn stdin_is_closed() -> bool {
    let Ok(target) = std::fs::read_link("/proc/self/fd/0") else {
        return false;
    };
    if target != std::path::Path::new("/dev/null") {
        return false;
    }
    let Ok(info) = std::fs::read_to_string("/proc/self/fdinfo/0") else {
        return false;
    };
    info.lines()
        .find_map(|l| l.strip_prefix("flags:"))
        .and_then(|flags| u32::from_str_radix(flags.trim(), 8).ok())
        .is_some_and(|flags| flags & 0o3 == 0o2) // O_RDWR
}

/// An input event kept for an OCSF finding: its table's column names and row.
type OcsfEvent = (Vec<&'static str>, Row);

/// Standard output and error, named for messages, with their files when
/// they are regular files.
fn standard_streams() -> [(String, Option<FileId>); 2] {
    [
        ("standard output".to_string(), FileId::of_stdout()),
        ("standard error".to_string(), FileId::of_stderr()),
    ]
}

impl<W: Write, E: Write> Session<'_, W, E> {
    /// The detector's own output files, by identity: standard output and
    /// error when they are regular files, `--rejects`, and the file now at
    /// `--output-file`'s path.
    #[cfg(feature = "live")]
    pub(crate) fn output_files(&self) -> Vec<(String, FileId)> {
        let output_file = self
            .output_file
            .as_ref()
            .and_then(|path| Some((format!("--output-file {path}"), FileId::of_path(path)?)));
        standard_streams()
            .into_iter()
            .filter_map(|(name, id)| Some((name, id?)))
            .chain(self.rejects.identity())
            .chain(output_file)
            .collect()
    }

    /// `--output-file`'s path, when rows go there.
    #[cfg(feature = "live")]
    pub(crate) fn output_file(&self) -> Option<&str> {
        self.output_file.as_deref()
    }

    /// Flushes the output and opens `--output-file` again at its path
    /// (SIGHUP). `Ok(false)` when rows go to standard output.
    #[cfg(feature = "live")]
    pub(crate) fn reopen_output(&mut self) -> io::Result<bool> {
        self.writer.reopen()
    }
}

/// The state of one run: rules, counts, where output goes.
pub(crate) struct Session<'a, W: Write, E: Write> {
    rules: Vec<Box<dyn Query>>,
    tables: Vec<(&'static Table, Vec<bool>)>,
    ctx: Context,
    tag_rows: bool,
    counts: Counts,
    output_rows: Vec<(usize, Row)>,
    writer: &'a mut RowWriter<W>,
    /// `--output-file`: where `writer` writes, when not standard output
    /// (for live sources: `--follow` skips it, SIGHUP reopens it).
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    output_file: Option<String>,
    errors: &'a mut E,
    rejects: Rejects,
    strict: bool,
    /// Standard input was closed at start (`Options::stdin_closed`).
    stdin_closed: bool,
    /// Heap bytes each rule's state has grown by (measured around its calls).
    held: Vec<i64>,
    /// The silent caps each rule has hit (`kql_runtime::budget::cap_hit`),
    /// each reported once.
    caps_hit: Vec<Vec<&'static str>>,
    /// `--max-memory`, when the heap is measured.
    max_memory: Option<i64>,
    /// The rules' literal prefilters, when any rule can skip lines.
    prefilter: Option<PrefilterSet>,
    /// Which rules may match the current line (set by the prefilter).
    may_match: Vec<bool>,
    /// Reads row-shaped lines straight into rows, building only what the
    /// rules observe (none with `--full-parse`).
    row_reader: Option<RowReader>,
    /// Threads for the per-line work (`--threads`; 1 reads on this thread).
    threads: usize,
    /// `--line-by-line`.
    line_by_line: bool,
    /// The byte ranges workers read from a plain file (see
    /// [`Options::batch_bytes`]).
    batch_bytes: usize,
    /// Alerts instead of rows: the manifest and a buffer for one alert.
    alerts: Option<(&'static DetectorInfo, AlertWriter<Vec<u8>>)>,
    /// The input line being processed (for alerts), if any.
    position: Option<(String, u64)>,
    /// `--output ocsf`: the finding writer, and the event (its table's
    /// columns and row) the rows being flushed came from.
    ocsf: Option<(OcsfWriter, Option<OcsfEvent>)>,
    /// Live mode: the clock scheduled rules run by (and, without `--now`,
    /// what `now()` is); `None` in batch mode.
    clock: Option<Clock>,
    /// `--now` was given: `now()` stays fixed in every mode.
    fixed_now: bool,
    /// Live mode: each scheduled rule's buffer and state, by rule index
    /// (empty in batch mode, `None` for rules that run per event).
    schedules: Vec<Option<RuleSchedule>>,
    /// Per table of [`Session::tables`], its event-time column
    /// (`Timestamp`, `TimeGenerated`), if it has one.
    event_time: Vec<Option<usize>>,
    /// Per rule, the indexes of its partition key columns in its output
    /// (empty: no partition key), from its metadata.
    partition_columns: Vec<Vec<usize>>,
    /// A line's row per table, when the lazy reader read it as one row
    /// (kept from line to line: no vector allocated per line).
    line_rows: Vec<Option<Row>>,
}

/// How [`Session::read_chunks`] ended.
enum ChunksEnd {
    /// At the end of the input (`true`), or at a read error (`false`).
    Done(bool),
    /// The input is JSON lines, and the rest of them are still to be read.
    LinesFollow,
}

/// The session as [`parallel::read_lines`] delivers to it, for one file.
struct ParallelSink<'s, 'a, W: Write, E: Write> {
    session: &'s mut Session<'a, W, E>,
    name: &'s str,
    /// The number of the last line delivered.
    line: u64,
    /// `Some`: a read error is kept here for the caller (a followed file
    /// is read again at the next poll), not reported as the end of the
    /// file.
    kept_error: Option<Option<io::Error>>,
    /// Rows of [`EventKind::Row`] events that every rule only borrowed, to
    /// go back to the reader ([`LineSink::take_spare_rows`]).
    spares: Vec<Row>,
}

/// The most rows a [`ParallelSink`] keeps for the reader (a batch of
/// 256 KB holds some 150 of the benchmark's lines).
const SPARE_ROWS: usize = 256;

impl<W: Write, E: Write> LineSink for ParallelSink<'_, '_, W, E> {
    type Stop = Stop;

    fn batch(&mut self, first_line: u64, batch: BatchOutcome) -> Result<(), Stop> {
        self.line = first_line - 1 + batch.lines;
        let session = &mut *self.session;
        for event in batch.events {
            session.counts.blank += event.blank_before;
            session.counts.read += event.skipped_before;
            session.counts.skipped += event.skipped_before;
            session.counts.take(&event.taken_before);
            let line = first_line + event.index;
            match event.kind {
                EventKind::Unit {
                    records,
                    may_match,
                    text,
                } => {
                    session.may_match = may_match;
                    session.take_unit(self.name, line, &text, records)?;
                }
                EventKind::Row { row, may_match } => {
                    session.may_match = may_match;
                    let spare = session.take_row(self.name, line, row)?;
                    if let Some(spare) = spare.filter(|_| self.spares.len() < SPARE_ROWS) {
                        self.spares.push(spare);
                    }
                }
                EventKind::TooLong { bytes } => {
                    let _ = session.rejects.write_all(&bytes);
                    session.too_long(self.name, line, bytes.len() as u64, false)?;
                }
            }
        }
        session.counts.blank += batch.blank_after;
        session.counts.read += batch.skipped_after;
        session.counts.skipped += batch.skipped_after;
        session.counts.take(&batch.taken_after);
        if let Some(partials) = batch.partials {
            session.merge_partials(partials).map_err(Stop::Write)?;
        }
        Ok(())
    }

    fn spill(&mut self) -> &mut dyn Write {
        &mut self.session.rejects
    }

    fn take_spare_rows(&mut self, into: &mut Vec<Row>) {
        into.append(&mut self.spares);
    }

    fn too_long(&mut self, line: u64, len: u64) -> Result<(), Stop> {
        self.line = line;
        self.session.too_long(self.name, line, len, false)
    }

    fn read_error(&mut self, line: u64, partial: &[u8], error: io::Error) -> Result<(), Stop> {
        if let Some(kept) = &mut self.kept_error {
            *kept = Some(error);
            return Ok(());
        }
        self.session.read_failed(self.name, line, partial, error)
    }

    fn partials(&mut self, partials: Partials) -> Result<(), Stop> {
        self.session.merge_partials(partials).map_err(Stop::Write)
    }

    fn no_thread(&mut self, index: usize, threads: usize, error: io::Error) -> Stop {
        Stop::NoThread(format!(
            "--threads {threads}: cannot start worker thread {index}: {error} (try fewer threads)"
        ))
    }
}

/// What `Session::take_message` made of one message.
#[cfg_attr(not(feature = "live"), allow(dead_code))]
pub(crate) struct MessageTaken {
    /// Its records that were rejected.
    pub rejected: usize,
    /// Its records.
    pub total: usize,
    /// Why the first rejected record was rejected.
    pub reason: Option<String>,
}

/// Why reading stopped early.
pub(crate) enum Stop {
    /// `--strict` and a rejection.
    Strict,
    /// Writing results failed.
    Write(io::Error),
    /// A worker thread could not be started (`--threads`): the message.
    NoThread(String),
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
    // Before anything is opened for writing: `File::create` would
    // truncate an input that is also the rejects file.
    if let Some(path) = &options.rejects {
        let output = (format!("--rejects {path}"), FileId::of_path(path));
        if let Some(message) = output_that_is_an_input(&options.files, &[output]) {
            say(errors, format_args!("error: {message}"))?;
            return Ok(ExitCode::from(2));
        }
    }
    let rejects = match Rejects::open(options.rejects.as_deref()) {
        Ok(rejects) => rejects,
        Err(e) => {
            let path = options.rejects.as_deref().unwrap_or_default();
            say(
                errors,
                format_args!("error: --rejects {path}: cannot create: {e}"),
            )?;
            return Ok(ExitCode::from(2));
        }
    };
    let mut output_rows: Vec<(usize, Row)> = Vec::new();
    let mut load_failed = false;
    let mut start_caps = Vec::new();
    for (index, rule) in rules.iter_mut().enumerate() {
        rule.start(&ctx, &mut |row| output_rows.push((index, row)));
        start_caps.extend(
            kql_runtime::budget::take_caps_hit()
                .into_iter()
                .map(|cap| (index, cap)),
        );
        for error in rule.take_errors() {
            say(errors, format_args!("error: rule {}: {error}", rule.name()))?;
            load_failed = true;
        }
    }
    if load_failed {
        writeln!(errors, "stopping: a rule could not start (its data could not be loaded, or a limit was passed)")?;
        return Ok(ExitCode::from(2));
    }
    // Rules read the same table: group them so a line is parsed once per table.
    let tables = distinct_tables(&rules);
    // `--strict` promises to stop at the first bad line, so it must parse
    // every line: the prefilter would skip bad lines unseen.
    let prefilter = if options.no_prefilter || options.strict {
        None
    } else {
        Some(PrefilterSet::with_tables(
            rules.iter().map(|r| (r.prefilter(), r.input())).collect(),
        ))
        .filter(|p| !p.is_trivial())
    };
    // OCSF findings carry the whole event, which the lazy reader would prune.
    let row_reader = if options.full_parse || options.output.ocsf() {
        None
    } else {
        RowReader::for_tables(&tables)
    };
    let alerts = match (options.alerts(), options.info) {
        (true, Some(info)) => Some((info, AlertWriter::new(Vec::new()))),
        _ => None,
    };
    let ocsf = match (options.output.ocsf(), options.info) {
        (true, Some(info)) => Some((OcsfWriter::new(info.kqlc_version), None)),
        _ => None,
    };
    let rule_count = rules.len();
    let event_time = tables
        .iter()
        .map(|(table, _)| {
            table.columns.iter().position(|(name, ty)| {
                matches!(*name, "Timestamp" | "TimeGenerated")
                    && *ty == kql_runtime::query::ColumnType::DateTime
            })
        })
        .collect();
    let mut session = Session {
        clock: None,
        fixed_now: options.now.is_some(),
        schedules: Vec::new(),
        event_time,
        partition_columns: partition_columns(&rules, options.info),
        line_rows: Vec::new(),
        alerts,
        position: None,
        ocsf,
        prefilter,
        may_match: Vec::new(),
        row_reader,
        threads: options.threads,
        line_by_line: options.line_by_line,
        batch_bytes: options.batch_bytes.unwrap_or(parallel::BATCH_BYTES),
        counts: Counts {
            emitted: vec![0; rules.len()],
            ..Counts::default()
        },
        rules,
        tables,
        ctx,
        tag_rows,
        output_rows,
        writer,
        output_file: options.output_file.clone(),
        errors,
        rejects,
        strict: options.strict,
        stdin_closed: options.stdin_closed,
        held: vec![0; rule_count],
        caps_hit: vec![Vec::new(); rule_count],
        max_memory: options
            .max_memory
            .filter(|_| kql_runtime::budget::live_bytes().is_some())
            .map(|m| i64::try_from(m).unwrap_or(i64::MAX)),
    };
    for (index, cap) in start_caps {
        session.warn_cap(index, cap)?;
    }
    session.flush_rows()?;

    let files: Vec<InputFile> = if options.files.is_empty() {
        vec![InputFile::auto("-")]
    } else {
        options.files.clone()
    };
    let mut io_failed = false;
    let mut stopped = false;
    if options.live.is_live() && !session.start_schedules(options)? {
        io_failed = true;
        stopped = true;
    } else if options.live.is_live() {
        // Live sources run until a signal; what follows is as in batch mode.
        match crate::live::run(&mut session, &options.live, &files, options.info) {
            Ok(live_ok) => io_failed |= !live_ok,
            Err(Stop::Strict) => {
                writeln!(session.errors, "stopping at the first bad line (--strict)")?;
                stopped = true;
            }
            Err(Stop::Write(e)) => return Err(e),
            Err(Stop::NoThread(message)) => {
                say(session.errors, format_args!("error: {message}"))?;
                writeln!(session.errors, "stopping: the input could not be read")?;
                io_failed = true;
                stopped = true;
            }
        }
    } else if !session.tables.is_empty() {
        for file in &files {
            match session.read_file(file) {
                Ok(read_ok) => io_failed |= !read_ok,
                Err(Stop::Strict) => {
                    writeln!(session.errors, "stopping at the first bad line (--strict)")?;
                    stopped = true;
                    break;
                }
                Err(Stop::Write(e)) => return Err(e),
                Err(Stop::NoThread(message)) => {
                    say(session.errors, format_args!("error: {message}"))?;
                    writeln!(session.errors, "stopping: the input could not be read")?;
                    io_failed = true;
                    stopped = true;
                    break;
                }
            }
        }
    }
    if !stopped {
        session.report_unrun()?;
        for index in 0..session.rules.len() {
            // A scheduled rule ran at its ticks; what it holds waits for
            // the next one.
            if session.is_scheduled(index) {
                continue;
            }
            let before = session.max_memory.and_then(|limit| {
                budget_ceiling(limit - session.held[index]);
                kql_runtime::budget::live_bytes()
            });
            let output_rows = &mut session.output_rows;
            let mark = output_rows.len();
            session.rules[index].finish(&session.ctx, &mut |row| output_rows.push((index, row)));
            for cap in kql_runtime::budget::take_caps_hit() {
                session.warn_cap(index, cap)?;
            }
            if let Some(before) = before {
                if grew_past_budget(&mut session.held[index], session.max_memory, before) {
                    session.output_rows.truncate(mark);
                    session.stop_rule(index, "while computing its final results")?;
                }
            }
        }
        session.flush_rows()?;
    }
    session.writer.flush()?;
    if let Some(e) = session.rejects.finish() {
        let path = session.rejects.path.clone().unwrap_or_default();
        say(
            session.errors,
            format_args!("error: writing rejected input to {path}: {e}"),
        )?;
        io_failed = true;
    }
    let summary = session.summary();
    say(session.errors, format_args!("{summary}"))?;
    Ok(if io_failed {
        ExitCode::from(2)
    } else if (session.counts.rejected > 0 || session.counts.stopped_rules > 0)
        && !options.live.is_live()
    {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

impl<W: Write, E: Write> Session<'_, W, E> {
    /// Reads one file through. `Ok(false)` when it could not be read (to
    /// its end).
    fn read_file(&mut self, file: &InputFile) -> Result<bool, Stop> {
        // With several threads, a plain file is read by the workers with
        // positioned reads (`parallel::read_file_lines`), through this
        // second handle on it.
        let mut positioned = None;
        let (name, source): (&str, Box<dyn BufRead>) = if file.path == "-" {
            if self.stdin_closed {
                self.report(format_args!(
                    "<stdin>: cannot read: standard input is closed (give input files, or redirect stdin)"
                ))?;
                return Ok(false);
            }
            ("<stdin>", Box::new(BufReader::new(io::stdin().lock())))
        } else {
            match std::fs::File::open(&file.path) {
                Ok(f) => {
                    if self.threads > 1 && self.clock.is_none() {
                        positioned = parallel::PlainFile::of(&f);
                    }
                    (
                        file.path.as_str(),
                        Box::new(BufReader::with_capacity(1 << 16, f)),
                    )
                }
                Err(e) => {
                    self.report(format_args!("{}: cannot open: {e}", file.path))?;
                    return Ok(false);
                }
            }
        };
        let source = match input::open_decompressed(source) {
            Ok((source, compression)) => {
                if compression == Compression::Gzip {
                    self.counts.gzip_files += 1;
                    positioned = None;
                }
                source
            }
            Err(e) => {
                self.report(format_args!("{name}: cannot read: {e}"))?;
                return Ok(false);
            }
        };
        let mut work = self.line_work(file.format);
        if self.threads > 1 && self.clock.is_none() {
            let partials = PartialRules::new(&self.ctx, &self.rules, &self.rule_tables());
            work = work.with_partials(partials);
        }
        let mut reader = InputReader::new(source);
        // With several threads, the start of the input is read here until it
        // is known to be JSON lines; the rest of the lines go to the workers.
        // One thread reads a file in batches too (faster: no per-line copy,
        // runs of lines skipped at once); stdin goes line by line, so a live
        // stream's rows are not held back.
        let parallel = self.threads > 1 || (!self.line_by_line && file.path != "-");
        match self.read_chunks(name, &mut work, &mut reader, parallel)? {
            ChunksEnd::Done(read_ok) => Ok(read_ok),
            ChunksEnd::LinesFollow => {
                let (mut source, lines) = reader.into_inner();
                let start = positioned
                    .as_ref()
                    .and_then(|handle| handle.offset_of(&mut source));
                let (threads, batch_bytes) = (self.threads, self.batch_bytes);
                let mut sink = ParallelSink {
                    session: self,
                    name,
                    line: lines,
                    kept_error: None,
                    spares: Vec::new(),
                };
                match (&positioned, start) {
                    (Some(handle), Some(start)) => parallel::read_file_lines(
                        handle,
                        start,
                        batch_bytes,
                        lines,
                        threads,
                        &work,
                        &mut sink,
                    ),
                    _ => parallel::read_lines(source, lines, threads, &work, &mut sink),
                }
            }
        }
    }

    /// The per-line work for input read as `format`.
    pub(crate) fn line_work(&self, format: InputFormat) -> LineWork {
        LineWork::new(format, self.prefilter.clone(), self.tables.clone())
            .with_row_reader(self.row_reader.clone())
            .with_rule_tables(self.rule_tables())
    }

    /// Per rule, the position in `tables` of the table it reads.
    fn rule_tables(&self) -> Vec<Option<usize>> {
        self.rules
            .iter()
            .map(|rule| {
                let table = rule.input()?;
                self.tables
                    .iter()
                    .position(|(t, _)| std::ptr::eq(*t, table))
            })
            .collect()
    }

    /// Reads `source` to its end, whole JSON lines after line
    /// `lines_before` of `name`, as a file's lines are read (live sources).
    /// The number of the last line delivered, and the error reading
    /// stopped at (not reported: the whole lines before it were delivered,
    /// the partial one after them was not).
    #[cfg(feature = "live")]
    pub(crate) fn read_lines_of<R: BufRead>(
        &mut self,
        name: &str,
        lines_before: u64,
        source: R,
        work: &LineWork,
    ) -> Result<(u64, Option<io::Error>), Stop> {
        let mut sink = ParallelSink {
            session: self,
            name,
            line: lines_before,
            kept_error: Some(None),
            spares: Vec::new(),
        };
        let threads = sink.session.threads;
        parallel::read_lines(source, lines_before, threads, work, &mut sink)?;
        Ok((sink.line, sink.kept_error.flatten()))
    }

    /// Reads one message of a message source (`--nats`): one JSON value,
    /// an event or an `EventList` in any format `work` reads, at `position`
    /// (the stream sequence) of `name`. Returns how many of its records
    /// were rejected, how many it had (a message that is not JSON is one
    /// rejected record), and the first rejection's reason.
    #[cfg_attr(not(feature = "live"), allow(dead_code))]
    pub(crate) fn take_message(
        &mut self,
        name: &str,
        position: u64,
        bytes: &[u8],
        work: &mut LineWork,
    ) -> Result<MessageTaken, Stop> {
        match work.line(bytes, &mut self.may_match) {
            None => {
                self.counts.read += 1;
                self.counts.skipped += 1;
                Ok(MessageTaken {
                    rejected: 0,
                    total: 1,
                    reason: None,
                })
            }
            Some(records) => {
                let rejected = records.iter().filter(|r| r.is_err()).count();
                let total = records.len();
                let reason = records
                    .iter()
                    .find_map(|r| r.as_ref().err())
                    .map(|rejection| rejection.to_string());
                self.take_unit(name, position, bytes, records)?;
                Ok(MessageTaken {
                    rejected,
                    total,
                    reason,
                })
            }
        }
    }

    /// Flushes the output (live sources: after each batch).
    #[cfg(feature = "live")]
    pub(crate) fn flush_output(&mut self) -> io::Result<()> {
        self.writer.flush()
    }

    /// The running counts (live sources' metrics).
    #[cfg(feature = "live")]
    pub(crate) fn totals(&self) -> Totals {
        Totals {
            read: self.counts.read,
            rejected: self.counts.rejected,
            skipped: self.counts.skipped,
        }
    }

    /// Rows emitted per rule, and the rules' names, in order.
    #[cfg(feature = "live")]
    pub(crate) fn emitted(&self) -> (&[u64], Vec<&str>) {
        let names = self.rules.iter().map(|r| r.name()).collect();
        (&self.counts.emitted, names)
    }

    /// Reads `reader`'s chunks one by one, to the end or (with
    /// `until_lines`) until the input is known to be JSON lines.
    fn read_chunks<R: BufRead>(
        &mut self,
        name: &str,
        work: &mut LineWork,
        reader: &mut InputReader<R>,
        until_lines: bool,
    ) -> Result<ChunksEnd, Stop> {
        let mut in_document = false;
        loop {
            if until_lines && reader.reads_lines() {
                return Ok(ChunksEnd::LinesFollow);
            }
            let chunk = match reader.next_chunk(&mut self.rejects) {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok(ChunksEnd::Done(true)),
                Err(e) => {
                    let line = reader.line() + 1;
                    let partial = reader.partial_line().to_vec();
                    self.read_failed(name, line, &partial, e)?;
                    return Ok(ChunksEnd::Done(false));
                }
            };
            match chunk {
                Chunk::Blank => self.counts.blank += 1,
                Chunk::TooLong {
                    line,
                    len,
                    document,
                } => self.too_long(name, line, len, document)?,
                Chunk::Broken { line, text, cause } => {
                    self.rejects.unit(text);
                    self.counts.read += 1;
                    self.reject(name, line, &Rejection::whole(cause))?;
                }
                Chunk::Line { line, bytes } => match work.line_rows(bytes, &mut self.may_match) {
                    None => {
                        self.counts.read += 1;
                        self.counts.skipped += 1;
                    }
                    Some(LineRows::Row(row)) => {
                        if let Some(spare) = self.take_row(name, line, row)? {
                            work.reuse_row(spare);
                        }
                    }
                    Some(LineRows::Records(records)) => {
                        self.take_unit(name, line, bytes, records)?
                    }
                },
                Chunk::Value { line, text, value } => {
                    if !in_document {
                        in_document = true;
                        self.counts.documents += 1;
                    }
                    // The prefilter reads lines only: every rule gets a
                    // document's records.
                    self.may_match.clear();
                    let records = work.value(value);
                    self.take_unit(name, line, text.as_bytes(), records)?;
                }
            }
        }
    }

    /// Counts and hands on what a unit (a line, or a value of a document)
    /// gave: its records' rows go to the rules (those `may_match` allows),
    /// its rejections are reported, and the unit is written to `--rejects`
    /// when any part of it was rejected.
    pub(crate) fn take_unit(
        &mut self,
        name: &str,
        line: u64,
        unit: &[u8],
        records: Vec<RecordRows>,
    ) -> Result<(), Stop> {
        self.take_unit_skipping(name, line, unit, records, 0)
    }

    /// [`Session::take_unit`] for a line the lazy reader read as one
    /// `CloudAuditEvents` row, the same in every table read: counted as a
    /// unit of one record, without the record's vectors. Returns the row
    /// when every rule only borrowed it, for its storage to be reused.
    fn take_row(&mut self, name: &str, line: u64, row: Row) -> Result<Option<Row>, Stop> {
        self.counts.read += 1;
        if let Some(i) = (InputFormat::ALL.iter()).position(|f| *f == InputFormat::CloudAudit) {
            self.counts.by_format[i] += 1;
        }
        if self.alerts.is_some() {
            self.position = Some((name.to_string(), line));
        }
        let mut rows = std::mem::take(&mut self.line_rows);
        rows.resize(self.tables.len(), Some(row));
        let pushed = self.push_rows(&mut rows);
        let spare = rows.iter_mut().find_map(Option::take);
        rows.clear();
        self.line_rows = rows;
        self.position = None;
        pushed.map_err(Stop::Write)?;
        Ok(spare)
    }

    /// [`Session::take_unit`] for a unit of which `skipped` more elements
    /// were skipped unparsed by the prefilter (the webhook's `EventList`
    /// items): they count as read and skipped, and the unit as one of
    /// `records.len() + skipped` elements.
    pub(crate) fn take_unit_skipping(
        &mut self,
        name: &str,
        line: u64,
        unit: &[u8],
        records: Vec<RecordRows>,
        skipped: u64,
    ) -> Result<(), Stop> {
        self.counts.read += skipped;
        self.counts.skipped += skipped;
        match records.len() as u64 + skipped {
            0 => self.counts.without_rows += 1,
            1 => {}
            _ => self.counts.batches += 1,
        }
        let mut rejected = false;
        let mut stop = None;
        for record in records {
            self.counts.read += 1;
            match record {
                Ok((format, mut rows)) => {
                    if let Some(i) = InputFormat::ALL.iter().position(|f| *f == format) {
                        self.counts.by_format[i] += 1;
                    }
                    if self.alerts.is_some() {
                        self.position = Some((name.to_string(), line));
                    }
                    let pushed = self.push_rows(&mut rows);
                    self.position = None;
                    pushed.map_err(Stop::Write)?;
                }
                Err(rejection) => {
                    rejected = true;
                    if let Err(e) = self.reject(name, line, &rejection) {
                        stop = Some(e);
                        break;
                    }
                }
            }
        }
        if rejected {
            self.rejects.unit(unit);
        }
        match stop {
            Some(stop) => Err(stop),
            None => Ok(()),
        }
    }

    /// A line (or document) longer than the limit, whose bytes already went
    /// to the rejects file.
    fn too_long(&mut self, name: &str, line: u64, len: u64, document: bool) -> Result<(), Stop> {
        self.rejects.unit(b"");
        let what = if document { "document" } else { "line" };
        self.counts.read += 1;
        self.reject(
            name,
            line,
            &Rejection::whole(format!(
                "{what} of {len} bytes is longer than the limit of {} bytes",
                input::MAX_LINE_BYTES
            )),
        )
    }

    /// Reading failed in line `line`, of which `partial` was read.
    fn read_failed(
        &mut self,
        name: &str,
        line: u64,
        partial: &[u8],
        error: io::Error,
    ) -> Result<(), Stop> {
        if !partial.is_empty() {
            self.rejects.unit(partial);
        }
        self.report(format_args!(
            "{name}:{line}: read error: {error} (the rest of the file is not read)"
        ))
    }

    /// Reports a rejection; `Err(Stop::Strict)` when that ends the run.
    fn reject(&mut self, name: &str, line: u64, rejection: &Rejection) -> Result<(), Stop> {
        self.counts.rejected += 1;
        self.report(format_args!("{name}:{line}: {rejection}"))?;
        if self.strict {
            return Err(Stop::Strict);
        }
        Ok(())
    }

    pub(crate) fn report(&mut self, message: std::fmt::Arguments<'_>) -> Result<(), Stop> {
        say(self.errors, message).map_err(Stop::Write)
    }

    /// Live mode: starts the clock and gives each scheduled rule its
    /// buffer. A stateful rule without a schedule cannot run live: each is
    /// reported, with how to give one, and `Ok(false)` stops the run.
    fn start_schedules(&mut self, options: &Options) -> io::Result<bool> {
        let live = &options.live;
        self.clock = Some(Clock::new(live.clock));
        let Some(info) = options.info else {
            // Rules without a manifest (`kql!`) run per event, stateful ones
            // reporting at the end as in batch mode.
            return Ok(true);
        };
        let mut unscheduled = Vec::new();
        let mut schedules = Vec::with_capacity(self.rules.len());
        for (index, rule) in self.rules.iter().enumerate() {
            let stateful = rule.fresh().is_some();
            let schedule = info.rules.get(index).and_then(|r| r.schedule);
            schedules.push(match (stateful, schedule) {
                (true, Some(schedule)) => {
                    Some(RuleSchedule::new(schedule, live.max_buffered_rows()))
                }
                (true, None) => {
                    unscheduled.push(rule.name());
                    None
                }
                (false, _) => None,
            });
        }
        for name in &unscheduled {
            say(
                self.errors,
                format_args!(
                    "error: rule {name} keeps state (summarize, count, join, sort, top, distinct, take...) and has no schedule: a live detector runs such a rule every @frequency over the events of the last @period\n  help: add '// @frequency 10m' and '// @period 10m' to its .kql header (Sentinel YAML: queryFrequency, queryPeriod), or a 'where Timestamp > ago(10m)' bound, and build again (docs/rules.md, \"Scheduled rules\")"
                ),
            )?;
        }
        if !unscheduled.is_empty() {
            writeln!(
                self.errors,
                "stopping: a stateful rule has no schedule (batch mode runs it without one)"
            )?;
            return Ok(false);
        }
        if schedules.iter().any(Option::is_some)
            || live.clock == ClockKind::Event
            || live.metrics.is_some()
        {
            // Every event's time is needed, read or not by the rules (the
            // schedule, or the lag metric).
            if let Some(reader) = &mut self.row_reader {
                for column in self.event_time.iter().flatten() {
                    reader.also_build(*column);
                }
            }
        }
        self.schedules = schedules;
        Ok(true)
    }

    /// True when rule `index` runs on a schedule.
    pub(crate) fn is_scheduled(&self, index: usize) -> bool {
        matches!(self.schedules.get(index), Some(Some(_)))
    }

    /// Each scheduled rule's name, rows held and counters (metrics).
    #[cfg(feature = "live")]
    pub(crate) fn schedule_stats(
        &self,
    ) -> Vec<(&'static str, usize, crate::schedule::ScheduleStats)> {
        self.rules
            .iter()
            .zip(&self.schedules)
            .filter_map(|(rule, s)| {
                s.as_ref()
                    .map(|s| (rule.name(), s.buffered(), s.stats.clone()))
            })
            .collect()
    }

    /// The scheduled rules' versions (what a checkpoint compares).
    #[cfg(feature = "live")]
    pub(crate) fn schedule_versions(&self) -> Vec<u64> {
        self.schedules
            .iter()
            .flatten()
            .map(RuleSchedule::version)
            .collect()
    }

    /// The newest event time seen (ticks), in live mode.
    #[cfg(feature = "live")]
    pub(crate) fn newest_event(&self) -> Option<i64> {
        self.clock.as_ref().and_then(Clock::newest_event)
    }

    /// The scheduled rules' state, for a checkpoint.
    #[cfg(feature = "live")]
    pub(crate) fn saved_schedules(&self) -> crate::live::state::SavedSchedules {
        crate::live::state::SavedSchedules {
            newest_event: self.newest_event(),
            rules: (self.rules.iter().zip(&self.schedules))
                .filter_map(|(rule, s)| Some(s.as_ref()?.save(rule.name())))
                .collect(),
        }
    }

    /// Takes up the scheduled rules' state from a checkpoint. `Err` when
    /// it names a rule that is not scheduled here or holds a row that
    /// cannot be read. Returns the rows restored.
    #[cfg(feature = "live")]
    pub(crate) fn restore_schedules(
        &mut self,
        saved: &crate::live::state::SavedSchedules,
    ) -> Result<usize, String> {
        let mut restored = 0;
        for rule in &saved.rules {
            let index = self.rules.iter().position(|r| r.name() == rule.rule);
            let schedule = index.and_then(|i| self.schedules.get_mut(i)?.as_mut());
            let Some(schedule) = schedule else {
                return Err(format!(
                    "the checkpoint holds the state of rule {}, which does not run on a schedule in this detector",
                    rule.rule
                ));
            };
            schedule
                .restore(rule)
                .map_err(|e| format!("rule {}: {e}", rule.rule))?;
            restored += schedule.buffered();
        }
        if let (Some(at), Some(clock)) = (saved.newest_event, &mut self.clock) {
            clock.saw_event(at);
        }
        Ok(restored)
    }

    /// Live mode: reads the clock, sets `now()` from it (without `--now`),
    /// and runs the scheduled rules whose ticks are due, writing what they
    /// give. Called per event and by the live loop between polls.
    pub(crate) fn run_due(&mut self) -> io::Result<()> {
        let Some(now) = self.clock.as_ref().and_then(Clock::now) else {
            return Ok(());
        };
        if !self.fixed_now {
            self.ctx.now = DateTime(now);
        }
        // The earliest tick first, rules in order at one tick: as batch
        // runs over each period, one after the other, would write them.
        loop {
            let next = (self.schedules.iter_mut().enumerate())
                .filter_map(|(index, s)| Some((s.as_mut()?.due(now)?, index)))
                .min();
            let Some((tick, index)) = next else {
                return Ok(());
            };
            self.run_scheduled(index, tick)?;
        }
    }

    /// Runs scheduled rule `index` at `tick` over the rows of its period.
    fn run_scheduled(&mut self, index: usize, tick: i64) -> io::Result<()> {
        let name = self.rules[index].name();
        let Some(mut run) = self.rules[index].fresh() else {
            // Stopped over --max-memory: it runs no more.
            self.schedules[index] = None;
            return Ok(());
        };
        // The rows a rule holds and its runs' state are its state under
        // --max-memory: what a run frees (rows past the period) counts too.
        let before = self.max_memory.and_then(|limit| {
            budget_ceiling(limit - self.held[index]);
            kql_runtime::budget::live_bytes()
        });
        let Some(schedule) = self.schedules[index].as_mut() else {
            return Ok(());
        };
        let ctx = Context {
            now: if self.fixed_now {
                self.ctx.now
            } else {
                DateTime(tick)
            },
        };
        let started = std::time::Instant::now();
        let mut rows = Vec::new();
        run.start(&ctx, &mut |row| rows.push(row));
        let errors = run.take_errors();
        if errors.is_empty() {
            for row in schedule.window(tick) {
                run.push_rest(&ctx, row.clone(), &mut |row| rows.push(row));
            }
            run.finish(&ctx, &mut |row| rows.push(row));
        } else {
            rows.clear();
        }
        drop(run);
        let dropped = schedule.dropped_since_run;
        let write = schedule.ran(tick, rows.len() as u64, started.elapsed()) && errors.is_empty();
        for error in errors {
            say(
                self.errors,
                format_args!(
                    "error: rule {name}: the run at {} could not start: {error}",
                    show_time(tick)
                ),
            )?;
        }
        if dropped > 0 {
            say(
                self.errors,
                format_args!(
                    "warning: rule {name}: the run at {} lacks {dropped} row{} dropped at --max-buffered-rows (docs/limits.md)",
                    show_time(tick),
                    if dropped == 1 { "" } else { "s" }
                ),
            )?;
        }
        for cap in kql_runtime::budget::take_caps_hit() {
            self.warn_cap(index, cap)?;
        }
        if let Some(before) = before {
            if grew_past_budget(&mut self.held[index], self.max_memory, before) {
                drop(rows);
                self.schedules[index] = None;
                return self.stop_rule(index, "while holding rows for its runs, or in a run");
            }
        }
        if !write {
            return Ok(());
        }
        // The run's rows are alerts at the tick, of no input line or event.
        let before_flush = self
            .max_memory
            .and_then(|_| kql_runtime::budget::live_bytes());
        self.output_rows
            .extend(rows.into_iter().map(|row| (index, row)));
        let saved_ctx = std::mem::replace(&mut self.ctx, ctx);
        let saved_position = self.position.take();
        let saved_event = self.ocsf.as_mut().and_then(|(_, event)| event.take());
        let flushed = self.flush_rows();
        self.ctx = saved_ctx;
        self.position = saved_position;
        if let Some((_, event)) = &mut self.ocsf {
            *event = saved_event;
        }
        // The written rows, counted above, are freed.
        if let Some(before) = before_flush {
            grew_past_budget(&mut self.held[index], self.max_memory, before);
        }
        flushed
    }

    /// At the end of a live run: says what scheduled rules hold that no
    /// run has read yet.
    fn report_unrun(&mut self) -> io::Result<()> {
        let mut notes = Vec::new();
        for (rule, schedule) in self.rules.iter().zip(&self.schedules) {
            let Some(schedule) = schedule else { continue };
            if schedule.buffered() > 0 {
                notes.push(format!(
                    "rule {}: {} buffered row{} wait{} for the run at {}, which did not come before the detector stopped",
                    rule.name(),
                    schedule.buffered(),
                    if schedule.buffered() == 1 { "" } else { "s" },
                    if schedule.buffered() == 1 { "s" } else { "" },
                    schedule.next_tick().map(show_time).unwrap_or_default()
                ));
            }
        }
        for note in notes {
            say(self.errors, format_args!("{note}"))?;
        }
        Ok(())
    }

    /// The event time of a record, from the first of its table rows with
    /// an event-time column holding a datetime.
    fn event_time_of(&self, table_rows: &[Option<Row>]) -> Option<i64> {
        self.event_time
            .iter()
            .zip(table_rows)
            .find_map(|(column, row)| match row.as_ref()?.get((*column)?)? {
                kql_runtime::value::Value::DateTime(at) => Some(at.0),
                _ => None,
            })
    }

    /// Hands a record's rows (one per table, if it has one there) to the
    /// rules reading them.
    fn push_rows(&mut self, table_rows: &mut [Option<Row>]) -> io::Result<()> {
        // Live mode: the event moves the clock first, so the ticks it
        // passes run over the rows before it.
        let mut at = None;
        if self.clock.is_some() {
            at = self.event_time_of(table_rows);
            if let (Some(at), Some(clock)) = (at, &mut self.clock) {
                // The wall clock notes it too: the lag metric.
                clock.saw_event(at);
            }
            self.run_due()?;
        }
        if let Some((_, event)) = &mut self.ocsf {
            // The CloudAuditEvents row, which every input format gives.
            let at = (self.tables.iter())
                .position(|(t, _)| t.name == "CloudAuditEvents")
                .unwrap_or(0);
            *event = self
                .tables
                .get(at)
                .zip(table_rows.get(at).and_then(Option::as_ref))
                .map(|((table, _), row)| {
                    (
                        table.columns.iter().map(|(name, _)| *name).collect(),
                        row.clone(),
                    )
                });
        }
        // A row without an event time is kept at the time it was read.
        let at = at
            .or_else(|| self.clock.as_ref().and_then(Clock::now))
            .unwrap_or(self.ctx.now.0);
        let mut over = Vec::new();
        let mut caps = Vec::new();
        let mut bound_hit = Vec::new();
        for index in 0..self.rules.len() {
            // Rules the prefilter ruled out for this line get nothing.
            let wanted = |rule: usize| self.may_match.get(rule) != Some(&false);
            if !wanted(index) {
                continue;
            }
            let Some(table) = self.rules[index].input() else {
                continue;
            };
            let Some(position) = self
                .tables
                .iter()
                .position(|(t, _)| std::ptr::eq(*t, table))
            else {
                continue;
            };
            // A rule that only reads the row borrows it (a scheduled one
            // keeps its prefix's rows: it takes them). Otherwise the last
            // rule reading the table takes its row, the others a copy (no
            // copy at all with one rule).
            let scheduled = matches!(self.schedules.get(index), Some(Some(_)));
            let lent = !scheduled && self.rules[index].borrows_rows();
            let row = if lent {
                None
            } else {
                let later = (index + 1..self.rules.len()).any(|r| {
                    wanted(r)
                        && self.rules[r]
                            .input()
                            .is_some_and(|t| std::ptr::eq(t, table))
                });
                match later {
                    true => table_rows[position].clone(),
                    false => table_rows[position].take(),
                }
            };
            if row.is_none() && (!lent || table_rows[position].is_none()) {
                continue;
            }
            let rule = &mut self.rules[index];
            let before = self.max_memory.and_then(|limit| {
                budget_ceiling(limit - self.held[index]);
                kql_runtime::budget::live_bytes()
            });
            let output_rows = &mut self.output_rows;
            let mark = output_rows.len();
            let mut emit = |row| output_rows.push((index, row));
            match (self.schedules.get_mut(index).and_then(Option::as_mut), row) {
                // A scheduled rule: its prefix now, the rest at its ticks.
                (Some(schedule), Some(row)) => {
                    let mut kept = Vec::new();
                    rule.push_prefix(&self.ctx, row, &mut |row| kept.push(row));
                    for row in kept {
                        if schedule.offer(at, row) == Offered::DroppedOldest(true) {
                            bound_hit.push(index);
                        }
                    }
                }
                (None, Some(row)) => rule.push(&self.ctx, row, &mut emit),
                (_, None) => {
                    if let Some(row) = &table_rows[position] {
                        rule.push_borrowed(&self.ctx, row, &mut emit);
                    }
                }
            }
            caps.extend(
                kql_runtime::budget::take_caps_hit()
                    .into_iter()
                    .map(|cap| (index, cap)),
            );
            if let Some(before) = before {
                if grew_past_budget(&mut self.held[index], self.max_memory, before) {
                    self.output_rows.truncate(mark);
                    over.push(index);
                }
            }
        }
        for index in over {
            self.stop_rule(index, "while reading its input")?;
        }
        for index in bound_hit {
            let name = self.rules[index].name();
            let next = self.schedules[index]
                .as_ref()
                .and_then(RuleSchedule::next_tick)
                .map(show_time)
                .unwrap_or_default();
            say(
                self.errors,
                format_args!(
                    "warning: rule {name}: it holds --max-buffered-rows rows; the oldest are dropped until its run at {next} (docs/limits.md)"
                ),
            )?;
        }
        for (index, cap) in caps {
            self.warn_cap(index, cap)?;
        }
        let flushed = self.flush_rows();
        if let Some((_, event)) = &mut self.ocsf {
            *event = None;
        }
        flushed
    }

    /// Merges a batch's partial states (`--threads`) into the rules, in
    /// rule order, as [`Session::push_rows`] hands a row to each: what each
    /// state grew the heap by counts against the rule's `--max-memory`.
    fn merge_partials(&mut self, partials: Partials) -> io::Result<()> {
        let mut over = Vec::new();
        let mut caps = Vec::new();
        for (index, (partial, grown)) in partials.rules.into_iter().zip(partials.held).enumerate() {
            let Some(rule) = self.rules.get_mut(index) else {
                break;
            };
            let before = kql_runtime::budget::thread_net_bytes();
            rule.merge_partial(partial);
            caps.extend(
                kql_runtime::budget::take_caps_hit()
                    .into_iter()
                    .map(|cap| (index, cap)),
            );
            if let Some(limit) = self.max_memory {
                let grown = grown + kql_runtime::budget::thread_net_bytes() - before;
                self.held[index] = (self.held[index] + grown).max(0);
                if self.held[index] > limit {
                    over.push(index);
                }
            }
        }
        for index in over {
            self.stop_rule(index, "while reading its input")?;
        }
        for (index, cap) in caps {
            self.warn_cap(index, cap)?;
        }
        Ok(())
    }

    /// Says, once per rule and cap, that a value was cut at a documented
    /// limit (`make_set`'s default size, `range()`'s length, ...).
    fn warn_cap(&mut self, index: usize, cap: &'static str) -> io::Result<()> {
        if self.caps_hit[index].contains(&cap) {
            return Ok(());
        }
        self.caps_hit[index].push(cap);
        let name = self.rules[index].name();
        say(
            self.errors,
            format_args!("warning: rule {name}: a value was cut at {cap} (docs/limits.md)"),
        )
    }

    /// Stops rule `index` for going over `--max-memory`: its state is
    /// dropped, it gets no more rows and gives no result.
    fn stop_rule(&mut self, index: usize, when: &str) -> io::Result<()> {
        let (name, output) = (self.rules[index].name(), self.rules[index].output());
        self.rules[index] = Box::new(StoppedRule { name, output });
        self.counts.stopped_rules += 1;
        let limit = self.max_memory.unwrap_or_default();
        say(
            self.errors,
            format_args!(
                "error: rule {name}: its state (rows kept by summarize, join, sort, distinct, make_set and the like) grew past the memory budget of {} MiB {when} (--max-memory); the rule is stopped and gives no result",
                limit >> 20
            ),
        )
    }

    fn flush_rows(&mut self) -> io::Result<()> {
        for (index, row) in self.output_rows.drain(..) {
            let rule = &self.rules[index];
            let partition = self
                .partition_columns
                .get(index)
                .and_then(|columns| crate::output::partition_key(columns, &row));
            let partition = partition.as_deref();
            match &mut self.alerts {
                Some((info, alerts)) => {
                    let position = self
                        .position
                        .as_ref()
                        .map(|(file, line)| InputPosition { file, line: *line });
                    if let (Some(meta), Some((ocsf, event))) =
                        (info.rules.get(index), &mut self.ocsf)
                    {
                        let event = event
                            .as_ref()
                            .map(|(columns, row)| ocsf::Event { columns, row });
                        let mut line = String::new();
                        ocsf.write_finding(
                            &mut line,
                            meta,
                            self.ctx.now,
                            position,
                            event,
                            rule.output(),
                            &row,
                        );
                        self.writer.emit_row(
                            rule.name(),
                            false,
                            rule.output(),
                            &row,
                            Some(line.as_bytes()),
                            partition,
                        )?;
                    } else if let Some(meta) = info.rules.get(index) {
                        alerts.write_alert(meta, self.ctx.now, position, rule.output(), &row)?;
                        self.writer.emit_row(
                            rule.name(),
                            false,
                            rule.output(),
                            &row,
                            Some(alerts.get_mut().as_slice()),
                            partition,
                        )?;
                        alerts.get_mut().clear();
                    }
                }
                None => self.writer.emit_row(
                    rule.name(),
                    self.tag_rows,
                    rule.output(),
                    &row,
                    None,
                    partition,
                )?,
            }
            self.counts.emitted[index] += 1;
        }
        Ok(())
    }

    /// `summary: N rows read, R rejected, E emitted[, B blank lines skipped]
    /// [ (rule=n, ...)][; by format: ...][; ...]`.
    fn summary(&self) -> String {
        let counts = &self.counts;
        let emitted: u64 = counts.emitted.iter().sum();
        let mut summary = format!(
            "summary: {} rows read, {} rejected, {} emitted",
            counts.read, counts.rejected, emitted
        );
        if counts.blank > 0 {
            summary.push_str(&format!(", {} blank lines skipped", counts.blank));
        }
        let caps: usize = self.caps_hit.iter().map(Vec::len).sum();
        if caps > 0 {
            summary.push_str(&format!(
                ", {caps} value cap{} hit (see the warnings)",
                if caps == 1 { "" } else { "s" }
            ));
        }
        if counts.stopped_rules > 0 {
            summary.push_str(&format!(
                ", {} rule{} stopped over --max-memory",
                counts.stopped_rules,
                if counts.stopped_rules == 1 { "" } else { "s" }
            ));
        }
        if counts.skipped > 0 {
            summary.push_str(&format!(
                ", {} lines skipped unparsed by the literal prefilter (not validated: --validate checks them)",
                counts.skipped
            ));
        }
        if self.tag_rows {
            let per_rule: Vec<String> = self
                .rules
                .iter()
                .zip(&counts.emitted)
                .map(|(rule, n)| format!("{}={n}", rule.name()))
                .collect();
            summary.push_str(&format!(" ({})", per_rule.join(", ")));
        }
        let mut notes: Vec<String> = Vec::new();
        let native = InputFormat::ALL
            .iter()
            .zip(counts.by_format)
            .any(|(f, n)| n > 0 && *f != InputFormat::CloudAudit);
        if native {
            let by_format: Vec<String> = InputFormat::ALL
                .iter()
                .zip(counts.by_format)
                .filter(|(_, n)| *n > 0)
                .map(|(f, n)| format!("{f}={n}"))
                .collect();
            notes.push(format!("by format: {}", by_format.join(", ")));
        }
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        if counts.batches > 0 {
            notes.push(plural(counts.batches, "batch", "batches"));
        }
        if counts.without_rows > 0 {
            notes.push(format!(
                "{} without events",
                plural(counts.without_rows, "record", "records")
            ));
        }
        if counts.documents > 0 {
            notes.push(plural(
                counts.documents,
                "multi-line document",
                "multi-line documents",
            ));
        }
        if counts.gzip_files > 0 {
            notes.push(plural(counts.gzip_files, "gzip file", "gzip files"));
        }
        if let (Some(path), true) = (&self.rejects.path, counts.rejected > 0) {
            notes.push(format!("rejected input written to {path}"));
        }
        for note in notes {
            summary.push_str("; ");
            summary.push_str(&note);
        }
        summary
    }
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Write(e)
    }
}

/// Per rule, the indexes in its output of the partition key columns its
/// metadata names ([`crate::manifest::RuleInfo::partition_key`]; `kqlc
/// build` checked that the rule outputs them).
fn partition_columns(
    rules: &[Box<dyn Query>],
    info: Option<&'static DetectorInfo>,
) -> Vec<Vec<usize>> {
    rules
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let keys = info
                .and_then(|info| info.rules.get(index))
                .map_or(&[][..], |meta| meta.partition_key);
            let output = rule.output();
            keys.iter()
                .filter_map(|key| output.iter().position(|column| column == key))
                .collect()
        })
        .collect()
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

/// The current time as a KQL datetime.
pub fn system_now() -> DateTime {
    let now = chrono::Utc::now();
    let ticks = now.timestamp() * kql_runtime::value::ticks::PER_SECOND
        + i64::from(now.timestamp_subsec_nanos() / 100);
    DateTime(ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_that_is_an_input_by_any_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.jsonl");
        std::fs::write(&input, "{}\n").unwrap();
        let link = dir.path().join("link.jsonl");
        std::fs::hard_link(&input, &link).unwrap();
        let other = dir.path().join("other.jsonl");
        std::fs::write(&other, "").unwrap();
        let files = [
            InputFile::auto(other.display().to_string()),
            InputFile::auto(input.display().to_string()),
        ];
        let output = |path: &std::path::Path| {
            [(
                format!("--rejects {}", path.display()),
                FileId::of_path(path),
            )]
        };
        let message = output_that_is_an_input(&files, &output(&link)).unwrap();
        assert!(
            message.starts_with(&format!(
                "--rejects {} is the input file {} (the same file)",
                link.display(),
                input.display()
            )),
            "{message}"
        );
        let fresh = dir.path().join("rejects.jsonl");
        assert_eq!(output_that_is_an_input(&files, &output(&fresh)), None);
        assert_eq!(output_that_is_an_input(&files[..1], &output(&input)), None);
    }
}
