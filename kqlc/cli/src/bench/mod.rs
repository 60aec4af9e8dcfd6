//! `kqlc bench`: detectors against the floor and the tools a user would
//! pick instead, side by side on one generated file.
//!
//! Three suites share the generated input (`kqlc sample`, seed 1) and the
//! timing helper:
//! - [`detect`] (the default): the selective reference rules against
//!   `cat`, `grep`, jq and DuckDB;
//! - [`hunting`]: full-scan queries (group-by, `dcount`, `mv-expand`, time
//!   buckets, a join, an allow-list) against DuckDB, chdb (ClickHouse) and
//!   polars, every tool's result rows compared by checksum;
//!   ([`floor`]: with `--floor`, how fast validating JSON readers go over
//!   the same input, the bound for any reader that keeps the guarantee);
//! - [`live`]: a detector run as a service: the webhook over HTTPS
//!   (events/s, latency), `--follow` against batch mode, and memory under
//!   a 10× burst.

pub mod detect;
pub mod floor;
pub mod hunting;
pub mod live;

pub use detect::{counts_agree, run, table, thread_speedups, Measurement};

use kql_sample::{SampleOptions, SampleStats};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// Which set of measurements `kqlc bench` runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// The selective reference rules against `cat`, `grep`, jq and DuckDB.
    Detect,
    /// Full-scan hunting queries against DuckDB, chdb and polars.
    Hunting,
    /// A detector as a service: webhook over HTTPS, `--follow`, a burst.
    Live,
}

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Size of the generated input in bytes.
    pub bytes: u64,
    /// Where the input and binaries go.
    pub dir: PathBuf,
    /// The reference rules' folder.
    pub rules: PathBuf,
    /// Run each measurement this many times and keep the fastest.
    pub repeat: usize,
    /// Also time each detector with `--threads` this (when above 1).
    pub threads: usize,
    /// Which suite.
    pub suite: Suite,
    /// The peers of the hunting suite (`duckdb`, `chdb`, `polars`); empty
    /// for kqlc alone.
    pub peers: Vec<String>,
    /// The hunting suite's floor ([`floor`]) instead of its queries.
    pub floor: bool,
}

/// Runs the chosen suite, prints its tables on stdout, and says whether
/// every tool agreed (failure otherwise, with the reason on stderr).
pub fn run_suite(options: &BenchOptions) -> Result<ExitCode, String> {
    if options.floor {
        if options.suite != Suite::Hunting {
            return Err(
                "--floor is a measurement of the hunting suite: add --suite hunting".into(),
            );
        }
        print!("{}", floor::run(options)?);
        return Ok(ExitCode::SUCCESS);
    }
    match options.suite {
        Suite::Detect => {
            let (results, bytes, rows) = detect::run(options)?;
            println!("{}", detect::table(&results, bytes, rows));
            print!("{}", detect::thread_speedups(&results));
            print!("{}", detect::table_costs(&results));
            println!("input: {bytes} bytes, {rows} events");
            Ok(if detect::counts_agree(&results) {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: some tool returned a different count (marked ✗)");
                ExitCode::FAILURE
            })
        }
        Suite::Live => {
            let report = live::run(options)?;
            let (text, rows_agree) = live::report(&report);
            print!("{text}");
            Ok(if rows_agree {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: the detector wrote another number of rows than expected");
                ExitCode::FAILURE
            })
        }
        Suite::Hunting => {
            let report = hunting::run(options)?;
            print!("{}", hunting::report(&report));
            let problems = hunting::problems(&report);
            for problem in &problems {
                eprintln!("error: {problem}");
            }
            Ok(if problems.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

/// The "now" the sample is written around; detectors run with it.
pub(crate) const NOW: &str = "2024-05-28T12:00:00Z";

/// Writes the deterministic sample of `options.bytes` (seed 1) into
/// `options.dir` and returns its path and statistics.
pub(crate) fn write_sample(options: &BenchOptions) -> Result<(PathBuf, SampleStats), String> {
    std::fs::create_dir_all(&options.dir).map_err(|e| format!("{}: {e}", options.dir.display()))?;
    let input = options.dir.join(format!("sample-{}.jsonl", options.bytes));
    let now = chrono::DateTime::parse_from_rfc3339(NOW)
        .map_err(|e| e.to_string())?
        .with_timezone(&chrono::Utc);
    let mut sample_options = SampleOptions::new(options.bytes, now);
    sample_options.seed = 1;
    let file = std::fs::File::create(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let stats = kql_sample::write_sample(&mut out, &sample_options).map_err(|e| e.to_string())?;
    std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
    Ok((input, stats))
}

/// One timed command: the fastest wall-clock time of `repeat` runs, the
/// stdout and stderr of that run, its exit status, and its peak RSS in KiB
/// (from `/usr/bin/time` when present).
pub(crate) struct Timed {
    pub seconds: f64,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
    pub code: Option<i32>,
    pub peak_kib: Option<u64>,
}

pub(crate) fn run_timed(command: &Command, repeat: usize) -> Result<Timed, String> {
    let time_binary = Path::new("/usr/bin/time");
    let mut best: Option<Timed> = None;
    for _ in 0..repeat.max(1) {
        let program = command.get_program().to_owned();
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();
        let mut run = if time_binary.is_file() {
            let mut c = Command::new(time_binary);
            c.arg("-f").arg("%M").arg(&program).args(&args);
            c
        } else {
            let mut c = Command::new(&program);
            c.args(&args);
            c
        };
        if let Some(dir) = command.get_current_dir() {
            run.current_dir(dir);
        }
        for (key, value) in command.get_envs() {
            match value {
                Some(value) => run.env(key, value),
                None => run.env_remove(key),
            };
        }
        run.stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let output = run
            .output()
            .map_err(|e| format!("{}: {e}", program.to_string_lossy()))?;
        let seconds = start.elapsed().as_secs_f64();
        if best.as_ref().is_none_or(|b| seconds < b.seconds) {
            let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            // /usr/bin/time appends the peak RSS as the last line.
            let peak_kib = if time_binary.is_file() {
                let last = stderr.trim_end().rsplit('\n').next().unwrap_or("");
                let peak = last.trim().parse().ok();
                if peak.is_some() {
                    let keep = stderr.trim_end().len() - last.len();
                    stderr.truncate(keep);
                }
                peak
            } else {
                None
            };
            best = Some(Timed {
                seconds,
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr,
                success: output.status.success(),
                code: output.status.code(),
                peak_kib,
            });
        }
    }
    Ok(best.expect("at least one run"))
}

/// [`run_timed`] for the detect suite: (seconds, stdout, peak RSS).
pub(crate) fn timed(command: Command, repeat: usize) -> Result<(f64, String, Option<u64>), String> {
    let t = run_timed(&command, repeat)?;
    Ok((t.seconds, t.stdout, t.peak_kib))
}

/// The Python interpreter for the peers (DuckDB, chdb, polars):
/// `target/bench-peers/bin/python` when `kqlc/cli/bench/install-peers.sh`
/// made it, else `python3`.
pub(crate) fn peers_python() -> PathBuf {
    let venv = Path::new("target/bench-peers/bin/python");
    if venv.is_file() {
        venv.to_path_buf()
    } else {
        PathBuf::from("python3")
    }
}
