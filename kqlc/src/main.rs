//! The `kqlc` command line: check, emit, build and run KQL detections.

use clap::{Parser, Subcommand};
use kqlc::build::{Profile, Rule, Toolchain};
use kqlc::codegen::{self, RuleSource};
use kqlc::sema::Schema;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Compile KQL (Kusto Query Language) detections into native binaries.
#[derive(Parser)]
#[command(name = "kqlc", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check queries; print diagnostics to stderr. Exit 0 when clean, 1 on any error.
    Check {
        /// Query files (.kql) or folders of them.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only parse: accept queries over tables kqlc has no schema for.
        #[arg(long)]
        syntax_only: bool,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Print the Rust generated for a query.
    Emit {
        /// The query file.
        file: PathBuf,
        /// Write here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Build a standalone detector binary from one or more rules.
    Build {
        /// Query files (.kql) or folders of them.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The binary to write.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Compile (cached) and run one query; print its result rows.
    Run {
        /// The query file.
        query: PathBuf,
        /// Input files of rows (JSON lines); stdin when none.
        #[arg(short, long = "input")]
        inputs: Vec<PathBuf>,
        /// What now() and ago() count from (ISO 8601), to replay old logs.
        #[arg(long)]
        now: Option<String>,
        /// Stop at the first bad input line.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// List the scalar functions kqlc supports.
    Functions,
    /// Time the reference detectors against `cat`, `grep`, jq and DuckDB on
    /// a generated file; print a Markdown table (see docs/PERFORMANCE.md).
    Bench {
        /// Input size, e.g. 100M (quick) or 1G (the default).
        #[arg(long, default_value = "1G", value_parser = parse_size)]
        bytes: u64,
        /// Where the input and binaries go.
        #[arg(long, default_value = "target/bench")]
        dir: PathBuf,
        /// The folder of the reference rules.
        #[arg(long, default_value = "examples/rules")]
        rules: PathBuf,
        /// Keep the fastest of this many runs of each fast tool.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
    },
    /// Write a deterministic sample of audit events (JSON lines) for demos
    /// and benchmarks, with the number of rows each reference rule finds.
    Sample {
        /// How many bytes to write (at least; whole lines), e.g. 100M or 1G
        /// (the default, when --events is not given, is 100M).
        #[arg(long, value_parser = parse_size, conflicts_with = "events")]
        bytes: Option<u64>,
        /// How many events to write (one line each) instead of a size.
        #[arg(long)]
        events: Option<u64>,
        /// The seed: the same seed and options give the same bytes.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Where the events come from: aks, eks, gke, onprem, arm or mixed.
        #[arg(long, default_value = "mixed", value_parser = parse_source)]
        source: kqlc::sample::Source,
        /// cloudaudit (CloudAuditEvents rows) or native (each platform's own
        /// export format, read by detectors with --input-format auto).
        #[arg(long, default_value = "cloudaudit", value_parser = parse_sample_format)]
        format: kqlc::sample::SampleFormat,
        /// The "now" the sample is written around (run detectors with the same --now).
        #[arg(long, default_value = "2024-05-28T12:00:00Z")]
        now: String,
        /// Events per million planted to match one of the reference rules.
        #[arg(long, default_value_t = kqlc::sample::DEFAULT_MATCH_RATE_PER_MILLION)]
        match_rate: u32,
        /// Write here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct SchemaArgs {
    /// A JSON schema file with more tables (see docs/schema.md).
    #[arg(long)]
    schema: Option<PathBuf>,
}

impl SchemaArgs {
    fn load(&self) -> Result<Schema, String> {
        let mut schema = Schema::builtin();
        if let Some(path) = &self.schema {
            schema.extend(Schema::from_file(path)?);
        }
        Ok(schema)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// A rule file read from disk.
struct SourceFile {
    path: PathBuf,
    name: String,
    text: String,
}

/// The `.kql` files named, folders expanded (sorted by name).
fn rule_files(paths: &[PathBuf]) -> Result<Vec<SourceFile>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "kql"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{}: no .kql files in this folder", path.display()));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let mut sources: Vec<SourceFile> = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            format!(
                "{}: not UTF-8 text (byte {})",
                path.display(),
                e.utf8_error().valid_up_to()
            )
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "rule".to_string());
        if let Some(other) = sources.iter().find(|s| s.name == name) {
            return Err(format!(
                "two rules are named '{name}': {} and {}",
                other.path.display(),
                path.display()
            ));
        }
        sources.push(SourceFile { path, name, text });
    }
    Ok(sources)
}

/// Compiles every file; prints diagnostics; `None` when any failed.
fn compile_all(files: &[SourceFile], schema: &Schema) -> Option<Vec<Rule>> {
    let color = std::io::stderr().is_terminal();
    let mut rules = Vec::new();
    let mut failed = false;
    for file in files {
        match kqlc::compile(&file.text, schema) {
            Ok(pipeline) => rules.push(Rule {
                name: file.name.clone(),
                kql: file.text.clone(),
                path: file.path.display().to_string(),
                pipeline,
            }),
            Err(diagnostics) => {
                failed = true;
                for diagnostic in &diagnostics {
                    eprintln!(
                        "{}\n",
                        diagnostic.render(&file.path.display().to_string(), &file.text, color)
                    );
                }
                let n = diagnostics.len();
                eprintln!(
                    "error: {} has {n} error{}",
                    file.path.display(),
                    if n == 1 { "" } else { "s" }
                );
            }
        }
    }
    (!failed).then_some(rules)
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check {
            files,
            syntax_only,
            schema,
        } => {
            let schema = schema.load()?;
            let files = rule_files(&files)?;
            if syntax_only {
                let color = std::io::stderr().is_terminal();
                let mut failed = false;
                for file in &files {
                    if let Err(diagnostic) = kqlc::syntax::parse(&file.text) {
                        failed = true;
                        eprintln!(
                            "{}\n",
                            diagnostic.render(&file.path.display().to_string(), &file.text, color)
                        );
                    }
                }
                return Ok(if failed {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            Ok(match compile_all(&files, &schema) {
                Some(_) => ExitCode::SUCCESS,
                None => ExitCode::FAILURE,
            })
        }
        Command::Emit {
            file,
            output,
            schema,
        } => {
            let schema = schema.load()?;
            let files = rule_files(std::slice::from_ref(&file))?;
            let Some(rules) = compile_all(&files, &schema) else {
                return Ok(ExitCode::FAILURE);
            };
            let rule = &rules[0];
            let regenerate = match &output {
                Some(out) => format!("kqlc emit {} -o {}", rule.path, out.display()),
                None => format!("kqlc emit {}", rule.path),
            };
            let code = codegen::rule_module(
                &RuleSource {
                    name: &rule.name,
                    kql: &rule.kql,
                    pipeline: &rule.pipeline,
                },
                &regenerate,
            );
            match output {
                Some(path) => {
                    std::fs::write(&path, code).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => print!("{code}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Build {
            files,
            output,
            schema,
        } => {
            let schema = schema.load()?;
            let files = rule_files(&files)?;
            let Some(rules) = compile_all(&files, &schema) else {
                return Ok(ExitCode::FAILURE);
            };
            let toolchain = Toolchain::discover().map_err(|e| e.to_string())?;
            let binary = toolchain
                .build(&rules, Profile::Release)
                .map_err(|e| e.to_string())?;
            copy_executable(&binary, &output)?;
            eprintln!(
                "built {} ({} rule{})",
                output.display(),
                rules.len(),
                if rules.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            query,
            inputs,
            now,
            strict,
            schema,
        } => {
            let schema = schema.load()?;
            let files = rule_files(std::slice::from_ref(&query))?;
            let Some(rules) = compile_all(&files, &schema) else {
                return Ok(ExitCode::FAILURE);
            };
            let toolchain = Toolchain::discover().map_err(|e| e.to_string())?;
            let binary = toolchain
                .build(&rules, Profile::Quick)
                .map_err(|e| e.to_string())?;
            let mut command = std::process::Command::new(&binary);
            command.args(&inputs);
            if let Some(now) = now {
                command.arg("--now").arg(now);
            }
            if strict {
                command.arg("--strict");
            }
            let status = command
                .status()
                .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
            Ok(match status.code() {
                Some(0) => ExitCode::SUCCESS,
                Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
                None => ExitCode::FAILURE,
            })
        }
        Command::Sample {
            bytes,
            events,
            seed,
            source,
            format,
            now,
            match_rate,
            output,
        } => {
            let now = chrono::DateTime::parse_from_rfc3339(&now)
                .map_err(|e| format!("--now '{now}': {e}"))?
                .with_timezone(&chrono::Utc);
            let mut options = kqlc::sample::SampleOptions::new(bytes.unwrap_or(100 << 20), now);
            options.events = events;
            options.source = source;
            options.format = format;
            options.seed = seed;
            options.match_rate_per_million = match_rate;
            let stats = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    let stats = kqlc::sample::write_sample(&mut out, &options)
                        .map_err(|e| e.to_string())?;
                    std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
                    stats
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let stats = kqlc::sample::write_sample(&mut out, &options)
                        .map_err(|e| e.to_string())?;
                    std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
                    stats
                }
            };
            let written: Vec<String> = stats
                .matches_per_rule
                .iter()
                .map(|m| format!("{}={}", m.rule, m.output_rows))
                .collect();
            let anywhere: Vec<String> = stats
                .matches_per_rule
                .iter()
                .map(|m| format!("{}={}", m.rule, m.anywhere_output_rows))
                .collect();
            eprintln!(
                "sample: {} rows, {} bytes ({} {}); expected result rows: {}; without the rules' DataSource condition: {}",
                stats.rows,
                stats.bytes,
                source.name(),
                format.name(),
                written.join(", "),
                anywhere.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            bytes,
            dir,
            rules,
            repeat,
        } => {
            let options = kqlc::bench::BenchOptions {
                bytes,
                dir,
                rules,
                repeat,
            };
            let (results, bytes, rows) = kqlc::bench::run(&options)?;
            println!("{}", kqlc::bench::table(&results, bytes, rows));
            println!("input: {bytes} bytes, {rows} events");
            Ok(if kqlc::bench::counts_agree(&results) {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: some tool returned a different count (marked ✗)");
                ExitCode::FAILURE
            })
        }
        Command::Functions => {
            for function in kqlc::sema::functions::FUNCTIONS {
                println!("{:<22} {}", function.name, function.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn copy_executable(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    // Remove first: overwriting a running binary in place fails on Linux.
    let _ = std::fs::remove_file(to);
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("cannot write {}: {e}", to.display()))
}

/// Parses a size such as `1000000`, `100M` or `1G` (decimal units, as disk
/// sizes are quoted).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, scale) = match text.char_indices().last() {
        Some((i, 'K' | 'k')) => (&text[..i], 1_000),
        Some((i, 'M' | 'm')) => (&text[..i], 1_000_000),
        Some((i, 'G' | 'g')) => (&text[..i], 1_000_000_000),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("'{text}' is not a size (e.g. 1000000, 100M, 1G)"))
}

fn parse_source(name: &str) -> Result<kqlc::sample::Source, String> {
    kqlc::sample::Source::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = kqlc::sample::Source::ALL.iter().map(|s| s.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn parse_sample_format(name: &str) -> Result<kqlc::sample::SampleFormat, String> {
    kqlc::sample::SampleFormat::from_name(name)
        .ok_or_else(|| "expected cloudaudit or native".to_string())
}
