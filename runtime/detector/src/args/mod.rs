//! The detector's arguments: the command line and `--config FILE`.
//!
//! ```text
//! DETECTOR [OPTIONS] [FILE]...
//! ```
//!
//! The options are declared once, with clap's derive, on the structs that
//! the detector runs with: [`Options`] (batch options: input, output, time,
//! threads and limits) and [`crate::live::LiveOptions`] (live sources, the
//! webhook, NATS, state, metrics, the sandbox, scheduled rules). A field's
//! `#[arg(...)]` gives the flag's name, its value's name, its parser (a
//! function giving the message after `--flag: ` for a bad value), its
//! default, its help text and its heading in `--help`. `--help` groups the
//! options by those headings, in the order of the fields.
//!
//! **Adding an option** is one field: add it to [`Options`] (or to
//! [`crate::live::LiveOptions`] for a live source) with
//! `#[arg(long, value_name = "...", help_heading = heading::..., help = "...")]`,
//! a `value_parser` when its value is more than a string, and a doc comment
//! naming the flag (one paragraph: clap would show a longer one as the
//! option's `--help` text instead of `help`). The command line, `--help`,
//! the `--config` key (the long name without `--`), its type check and its
//! error messages all follow from it. A `Vec<String>` field repeats
//! (`--x a --x b`) and its config key takes a YAML list; a `bool` field is
//! a switch, `true` or `false` in the file. Checks between options (one
//! that needs another) go in `LiveOptions::check`, which [`parse_args`]
//! runs on the command line and config file together.
//!
//! `--config FILE` reads a YAML mapping of long option names (without
//! `--`) to values, and `inputs:` for the input files: see [`config`]. An
//! option given on the command line overrides the file's value (a list
//! given there replaces the file's list; files named there replace
//! `inputs:`).
//!
//! Every bad argument is one message naming the option (and for the
//! config file, the file, line and key); the detector prints it after
//! `error: ` with a usage line and exits with status 2. `--help` and
//! `--version` print to standard output and exit 0.
//!
//! Exceptions to "one field": `--input-format` applies to the files named
//! after it, so it and the file arguments are read together from the
//! positions clap records; `--version`, `--json`, `--rules`, `--help` and
//! `--config` are actions of the command line, not settings, and live on
//! the private top-level parser here.

pub mod config;

use crate::formats::InputFormat;
use crate::live::LiveOptions;
use crate::manifest::DetectorInfo;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};
use kql_runtime::printable::printable;
use kql_runtime::text;
use kql_runtime::value::DateTime;

/// The headings of `--help`, in the order they are shown.
pub mod heading {
    /// Input files, formats and validation.
    pub const INPUT: &str = "Input";
    /// Where and what the detector writes.
    pub const OUTPUT: &str = "Output";
    /// `now()`, and the clock of scheduled rules.
    pub const TIME: &str = "Time and scheduled rules";
    /// Threads and memory.
    pub const LIMITS: &str = "Threads and limits";
    /// `--follow`, `--listen`, `--nats`.
    pub const LIVE: &str =
        "Live sources (a service: runs until SIGTERM or SIGINT, then flushes and exits 0)";
    /// The audit webhook's TLS, authentication and limits.
    pub const WEBHOOK: &str = "Webhook and TLS (with --listen)";
    /// The JetStream consumer.
    pub const NATS: &str = "NATS JetStream (with --nats)";
    /// The Kafka consumer and producer.
    pub const KAFKA: &str = "Kafka (with --kafka; detectors built with kqlc build --kafka)";
    /// Checkpoints and metrics.
    pub const STATE: &str = "State and metrics (live sources)";
    /// Least privilege.
    pub const SANDBOX: &str = "Sandbox (live sources)";
    /// `--config`, `--version`, `--rules`, `--help`.
    pub const GENERAL: &str = "General";
}

/// The most `--threads` accepted. More than the machine has cores only
/// adds overhead; the cap keeps a typo (`--threads 100000`) from asking the
/// system for that many threads and their buffers (each worker holds up to
/// two 256 KB batches: 128 MiB at the cap). See `docs/limits.md`.
pub const MAX_THREADS: usize = 256;

/// The default `--max-memory`: 4 GiB per rule.
pub const DEFAULT_MAX_MEMORY: u64 = 4 << 30;

/// The usage status: a bad argument or config file exits with it (as do
/// I/O errors, see [`crate::detector`]).
pub const USAGE_STATUS: u8 = 2;

/// An input file and how to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputFile {
    /// The path, or `-` for stdin.
    pub path: String,
    /// Its format.
    pub format: InputFormat,
}

impl InputFile {
    /// A file read with format detection.
    pub fn auto(path: impl Into<String>) -> InputFile {
        InputFile {
            path: path.into(),
            format: InputFormat::Auto,
        }
    }
}

/// `--output`: what is written per match.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OutputKind {
    /// Bare result rows (the default).
    #[default]
    Rows,
    /// One alert object per match, with the rule's metadata and the input
    /// position.
    Alerts,
    /// Each alert as an OCSF Detection Finding ([`crate::ocsf`]).
    Ocsf,
}

impl OutputKind {
    /// Alerts (plain or OCSF) rather than rows: needs the manifest.
    pub fn alerts(self) -> bool {
        self != OutputKind::Rows
    }

    /// OCSF Detection Findings.
    pub fn ocsf(self) -> bool {
        self == OutputKind::Ocsf
    }
}

/// Parsed options: what the detector runs with.
#[derive(Debug, Default, PartialEq, clap::Args)]
pub struct Options {
    /// Input files (`FILE...`, or `inputs:` in the config file, each with
    /// the `--input-format` in force there); empty means stdin, read as
    /// `auto`.
    #[arg(skip)]
    pub files: Vec<InputFile>,
    /// `--rejects`: where rejected input goes, verbatim.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::INPUT,
        help = "write every rejected line there, verbatim (never an input file)"
    )]
    pub rejects: Option<String>,
    /// `--strict`.
    #[arg(
        long,
        help_heading = heading::INPUT,
        help = "stop at the first bad input line (every line is validated: implies\n\
                --validate)"
    )]
    pub strict: bool,
    /// `--validate` (or `--no-prefilter`): parse every line, even those no
    /// rule can match (so that every malformed line is reported).
    /// `--strict` implies it: it must see every bad line to stop at it.
    #[arg(
        long = "validate",
        alias = "no-prefilter",
        help_heading = heading::INPUT,
        help = "(or --no-prefilter) parse and validate every line; by default a line that\n\
                lacks the literals every rule needs is skipped unparsed, so not validated\n\
                (the summary counts them)"
    )]
    pub no_prefilter: bool,
    /// `--full-parse`: read every line into a whole `Value` tree, without
    /// the lazy reader of [`crate::lazy`] (same results; for comparisons).
    #[arg(
        long,
        help_heading = heading::INPUT,
        help = "parse each CloudAuditEvents line whole; by default only the fields the\n\
                rules read are built (same results and messages; for comparisons)"
    )]
    pub full_parse: bool,
    /// `--line-by-line`: with one thread, read and hand on one line at a
    /// time (what stdin always gets: a live stream's rows come out as soon
    /// as its lines arrive). Otherwise a file is read in batches of lines.
    #[arg(
        long,
        help_heading = heading::INPUT,
        help = "with one thread, hand on each line as it is read, as for stdin (by\n\
                default a file is read in batches of lines, which is faster)"
    )]
    pub line_by_line: bool,
    /// Standard input was closed when the detector started (`det <&-`):
    /// reading it is an I/O error, not an empty input.
    #[arg(skip)]
    pub stdin_closed: bool,
    /// `--output rows|alerts|ocsf`.
    #[arg(
        long,
        value_name = "rows|alerts|ocsf",
        value_parser = output_kind,
        default_value = "rows",
        hide_default_value = true,
        help_heading = heading::OUTPUT,
        help = "bare result rows (the default), alerts with the rule's metadata, or\n\
                alerts as OCSF Detection Findings (class 2004)"
    )]
    pub output: OutputKind,
    /// `--output-file`: rows are appended there instead of standard output
    /// (reopened on SIGHUP in live modes).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::OUTPUT,
        help = "append the rows (or alerts) to FILE instead of stdout (never an input\n\
                file); in live modes SIGHUP reopens it (logrotate: rename, then SIGHUP);\n\
                a failed write stops the detector (status 2)"
    )]
    pub output_file: Option<String>,
    /// The detector's manifest (rules' ids, names, severities...), needed
    /// for alerts.
    #[arg(skip)]
    pub info: Option<&'static DetectorInfo>,
    /// `--now`.
    #[arg(
        long,
        value_name = "DATETIME",
        value_parser = datetime,
        help_heading = heading::TIME,
        help = "what now() and ago() count from (ISO 8601, e.g. 2024-05-28T12:00:00Z),\n\
                to replay old logs; fixed in every mode"
    )]
    pub now: Option<DateTime>,
    /// `--threads N`: threads for the per-line work of JSON-lines input
    /// (see [`crate::parallel`]). 0 and 1 both read on the calling thread;
    /// results are the same whatever the number.
    #[arg(
        long,
        value_name = "N",
        value_parser = thread_count,
        default_value = "1",
        hide_default_value = true,
        help_heading = heading::LIMITS,
        help = "N threads (1 to 256; default 1) check, prefilter and parse JSON lines;\n\
                the rules, output and reports stay in input order, identical to one thread.\n\
                Input is taken in batches of 256 KB (for a live stream, use 1);\n\
                a multi-line JSON document is read on one thread"
    )]
    pub threads: usize,
    /// The size of the byte ranges workers read from a plain file with
    /// `--threads N` (see [`crate::parallel`]); `None`:
    /// [`crate::parallel::BATCH_BYTES`]. Not an option: tests set it
    /// through the library to put batch boundaries anywhere in a small
    /// input (results are the same whatever the size).
    #[arg(skip)]
    pub batch_bytes: Option<usize>,
    /// `--max-memory`: the heap bytes one rule's state may hold (rows kept
    /// by `summarize`, `join`, `sort`, `distinct`, `make_set`, ...) before
    /// the rule is stopped; `None`: no limit. Measured only in built
    /// detectors (their counting allocator, [`crate::budget`]).
    // The full path keeps clap from reading `Option` as "optional flag":
    // the parser itself gives `None` for `none`.
    #[arg(
        long,
        value_name = "SIZE",
        value_parser = memory_limit,
        default_value = "4G",
        hide_default_value = true,
        help_heading = heading::LIMITS,
        help = "the heap one rule's state may hold (default 4G; 512M, ...; none: no limit);\n\
                a rule past it is stopped with an error, the others go on"
    )]
    pub max_memory: std::option::Option<u64>,
    /// `--follow`, `--listen`, `--nats` and their options (see [`crate::live`]).
    #[command(flatten)]
    pub live: Box<LiveOptions>,
}

impl Options {
    /// `--output alerts` or `ocsf`.
    pub fn alerts(&self) -> bool {
        self.output.alerts()
    }
}

/// The command line as clap reads it: [`Options`] and the actions that
/// are not settings.
#[derive(Debug, clap::Parser)]
#[command(
    name = "DETECTOR",
    about = "Runs the detector's KQL rules over audit events and prints the rows they\n\
             return as JSON lines.",
    after_help = "Exit status: 0 when everything was processed, 1 when something was rejected\n\
                  (or --strict stopped at it), 2 on a usage or I/O error.",
    disable_help_flag = true,
    disable_version_flag = true,
    args_override_self = true
)]
struct Cli {
    /// The input files, in order.
    #[arg(
        value_name = "FILE",
        help_heading = heading::INPUT,
        help = "input files, plain or gzip (stdin when none, or '-'); with --follow,\n\
                paths or globs"
    )]
    files: Vec<String>,
    /// Each `--input-format`, in order.
    #[arg(
        long,
        value_name = "FORMAT",
        value_parser = input_format,
        action = clap::ArgAction::Append,
        help_heading = heading::INPUT,
        help = "auto (the default: decided per line), cloudaudit, k8s, aks, eks, gke or\n\
                arm; applies to the files after it (a single one: to every file)"
    )]
    input_format: Vec<InputFormat>,
    #[command(flatten)]
    options: Options,
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::GENERAL,
        help = "read options from a YAML file: keys are the long option names without\n\
                '--' (threads: 2, follow: true, listen: 127.0.0.1:8443), files under\n\
                inputs:; options on the command line override the file's"
    )]
    config: Option<String>,
    #[arg(
        long,
        value_name = "ID",
        num_args = 0..=1,
        help_heading = heading::GENERAL,
        help = "print the embedded rule texts (one rule's exact text with an id)"
    )]
    rules: Option<Option<String>>,
    #[arg(
        short = 'V',
        long,
        help_heading = heading::GENERAL,
        help = "print versions and the embedded rules (with --json: the manifest)"
    )]
    version: bool,
    #[arg(long, help_heading = heading::GENERAL, help = "with --version: print the manifest as JSON")]
    json: bool,
    #[arg(
        short = 'h',
        long,
        action = clap::ArgAction::Help,
        help_heading = heading::GENERAL,
        help = "print this help"
    )]
    help: Option<bool>,
}

/// The clap id of the file arguments, and the config file's key for them.
const FILES: &str = "files";
/// The config file's key for the input files.
pub const INPUTS_KEY: &str = "inputs";

/// The detector's command, as clap builds it from [`Options`] (for help
/// and for the config file's keys).
pub fn command() -> clap::Command {
    Cli::command().mut_args(|arg| {
        // A valued option takes the next argument whatever it looks like
        // (`--now -1` reports '-1', not a missing value), as the detector
        // always has; `--rules` takes an id only when one follows.
        if arg.get_long().is_some() && arg.get_action().takes_values() && arg.get_id() != "rules" {
            arg.allow_hyphen_values(true)
        } else {
            arg
        }
    })
}

/// `--help`: the options grouped by topic, `program` being the detector's
/// name.
pub fn help_text(program: &str) -> String {
    command()
        .bin_name(program.to_string())
        .render_help()
        .to_string()
}

/// The line printed after a usage error.
pub fn usage_hint(program: &str) -> String {
    format!("usage: {program} [OPTIONS] [FILE]... ('{program} --help' lists the options)")
}

/// What the command line asked for.
#[derive(Debug, PartialEq)]
pub enum Invocation {
    /// Run with these options.
    Run(Options),
    /// Print usage.
    Help,
    /// `--version [--json]`: versions and the embedded rules.
    Version {
        /// Print the manifest JSON instead of text.
        json: bool,
    },
    /// `--rules [ID]`: the rule texts (one rule's exact bytes with an id).
    Rules(Option<String>),
}

/// Parses arguments (without the program name), and the config file they
/// name. `Err` is the one-line message for a bad argument or config file.
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Invocation, String> {
    let args: Vec<String> = args.into_iter().collect();
    let command = command();
    let program = || std::iter::once("DETECTOR".to_string());
    let matches = match command
        .clone()
        .try_get_matches_from(program().chain(args.iter().cloned()))
    {
        Ok(matches) => matches,
        Err(e) if e.kind() == ErrorKind::DisplayHelp => return Ok(Invocation::Help),
        Err(e) => return Err(describe(&e)),
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| describe(&e))?;
    if let Some(id) = cli.rules {
        return Ok(Invocation::Rules(id));
    }
    if cli.version {
        return Ok(Invocation::Version { json: cli.json });
    }
    let Some(path) = cli.config else {
        return options_from(&matches, Vec::new());
    };
    // The file's options first, those given on the command line left out,
    // then the command line: clap reads them as one command line.
    let config = config::read(&path, &command)?;
    let mut merged: Vec<String> = program().collect();
    for setting in &config.settings {
        if matches.value_source(&setting.id) != Some(ValueSource::CommandLine) {
            merged.extend(setting.args.iter().cloned());
        }
    }
    merged.extend(args);
    let matches = command
        .try_get_matches_from(merged)
        .map_err(|e| format!("--config {path}: {}", describe(&e)))?;
    options_from(&matches, config.inputs)
}

/// The options of parsed `matches`; `config_inputs` are the config file's
/// `inputs:`, read when the command line names no file.
fn options_from(matches: &ArgMatches, config_inputs: Vec<String>) -> Result<Invocation, String> {
    let cli = Cli::from_arg_matches(matches).map_err(|e| describe(&e))?;
    let mut options = cli.options;
    // Each file takes the `--input-format` in force where it was named;
    // files before the first take the first.
    let formats: Vec<(usize, InputFormat)> = matches
        .indices_of("input_format")
        .into_iter()
        .flatten()
        .zip(cli.input_format.iter().copied())
        .collect();
    let first = formats.first().map(|(_, f)| *f).unwrap_or_default();
    let format_at = |index: usize| {
        formats
            .iter()
            .take_while(|(at, _)| *at < index)
            .last()
            .map_or(first, |(_, format)| *format)
    };
    options.files = match matches.indices_of(FILES) {
        Some(indices) => indices
            .zip(cli.files)
            .map(|(index, path)| InputFile {
                path,
                format: format_at(index),
            })
            .collect(),
        None => config_inputs
            .into_iter()
            .map(|path| InputFile {
                path,
                format: first,
            })
            .collect(),
    };
    options.live.check(&options.files)?;
    if let (Some(_), Some(path)) = (&options.live.publish, &options.output_file) {
        return Err(format!(
            "--publish and --output-file {path}: rows go to one place (--publish replaces the output)"
        ));
    }
    if options.files.is_empty() && first != InputFormat::Auto && !options.live.is_live() {
        options.files.push(InputFile {
            path: "-".to_string(),
            format: first,
        });
    }
    Ok(Invocation::Run(options))
}

/// The one-line message for a clap error: `--flag: what is wrong with its
/// value`, as the detector has always said it.
pub(crate) fn describe(error: &clap::Error) -> String {
    let context = |kind: ContextKind| match error.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(ContextValue::Strings(list)) => list.first().cloned(),
        _ => None,
    };
    // `--threads <N>` → `--threads`.
    let flag = context(ContextKind::InvalidArg)
        .map(|arg| arg.split([' ', '=']).next().unwrap_or_default().to_string());
    let value = context(ContextKind::InvalidValue);
    match (error.kind(), flag) {
        (ErrorKind::UnknownArgument, Some(flag)) => match context(ContextKind::SuggestedArg) {
            Some(suggested) => format!("unknown option '{flag}' (did you mean '{suggested}'?)"),
            None => format!("unknown option '{flag}'"),
        },
        (ErrorKind::ValueValidation, Some(flag)) => {
            let cause = std::error::Error::source(error)
                .map(|e| e.to_string())
                .unwrap_or_else(|| format!("'{}' is not valid", value.unwrap_or_default()));
            format!("{flag}: {cause}")
        }
        (ErrorKind::InvalidValue, Some(flag)) if value.as_deref().is_none_or(str::is_empty) => {
            let arg = context(ContextKind::InvalidArg).unwrap_or_default();
            format!("{flag} needs a value ({})", arg.replace(['<', '>'], ""))
        }
        (ErrorKind::TooManyValues, Some(flag)) => match value {
            Some(value) => format!("{flag} takes no value (given '{value}')"),
            None => format!("{flag} takes no value"),
        },
        _ => {
            // Clap's own first line, without its `error: `.
            let text = error.render().to_string();
            let line = text.lines().next().unwrap_or_default();
            line.strip_prefix("error: ").unwrap_or(line).to_string()
        }
    }
}

/// `--input-format`.
fn input_format(value: &str) -> Result<InputFormat, String> {
    InputFormat::from_name(value).ok_or_else(|| {
        let names: Vec<&str> = InputFormat::ALL.iter().map(|f| f.name()).collect();
        format!(
            "unknown format '{value}' (expected one of {})",
            names.join(", ")
        )
    })
}

/// `--output`.
fn output_kind(value: &str) -> Result<OutputKind, String> {
    match value {
        "rows" => Ok(OutputKind::Rows),
        "alerts" => Ok(OutputKind::Alerts),
        "ocsf" => Ok(OutputKind::Ocsf),
        other => Err(format!("'{other}' is not rows, alerts or ocsf")),
    }
}

/// `--now`.
fn datetime(value: &str) -> Result<DateTime, String> {
    text::parse_datetime(value).ok_or_else(|| {
        format!("'{value}' is not a datetime (expected ISO 8601, e.g. 2024-05-28T12:00:00Z)")
    })
}

/// `--threads`: 1 to [`MAX_THREADS`].
fn thread_count(value: &str) -> Result<usize, String> {
    match value.parse::<u64>() {
        Ok(0) => Err("needs at least 1 thread".to_string()),
        Ok(n) if n > MAX_THREADS as u64 => Err(format!(
            "{n} is more than the limit of {MAX_THREADS} threads"
        )),
        Ok(n) => Ok(n as usize),
        Err(_) if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => Err(format!(
            "{value} is more than the limit of {MAX_THREADS} threads"
        )),
        Err(_) => Err(format!(
            "'{value}' is not a number of threads (a whole number, at least 1)"
        )),
    }
}

/// `--max-memory`: a size, or `none`.
fn memory_limit(value: &str) -> Result<Option<u64>, String> {
    match value {
        "none" => Ok(None),
        text => parse_bytes(text).map(Some).ok_or_else(|| {
            format!(
                "'{}' is not a size (e.g. 512M, 4G, or none)",
                printable(text)
            )
        }),
    }
}

/// `512M`, `4G`, `100K`, `1000` (bytes; binary units, an optional `B` or `iB`).
fn parse_bytes(text: &str) -> Option<u64> {
    let upper = text.trim().to_ascii_uppercase();
    let number = upper.trim_end_matches("IB").trim_end_matches('B');
    let (digits, shift) = match number.chars().last()? {
        'K' => (&number[..number.len() - 1], 10),
        'M' => (&number[..number.len() - 1], 20),
        'G' => (&number[..number.len() - 1], 30),
        'T' => (&number[..number.len() - 1], 40),
        _ => (number, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests;
