//! The `kqlc` command line: check, emit, build and run KQL detections.

use clap::{Parser, Subcommand};
use kqlc::codegen::{self, RuleSource};
use kqlc::plan::partition::PartitionKey;
use kqlc::sema::Schema;
use kqlc_cli::build::{BuildOptions, Linking, Profile, Rule, Toolchain};
use kqlc_cli::manifest::ManifestRule;
use kqlc_cli::rules::RuleFile;
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
        /// Rule files (.kql, Sentinel .yaml, Sigma .yml) or folders of them (see docs/rules.md).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Only parse: accept queries over tables kqlc has no schema for.
        #[arg(long)]
        syntax_only: bool,
        /// The detectors will consume a partitioned source, partitioned by
        /// this input column or member path (e.g.
        /// RawEventData.User.username): warn about each stateful rule
        /// whose state is not per partition key (docs/scale-out.md).
        #[arg(long, value_parser = parse_partition_key, conflicts_with = "syntax_only")]
        partition_key: Option<PartitionKey>,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Print the Rust generated for a query (with --kql, the rule's KQL;
    /// with --ir, the planned pipeline that code generation reads).
    Emit {
        /// The rule file (.kql, Sentinel .yaml or Sigma .yml).
        file: PathBuf,
        /// Print the rule's KQL instead of Rust: for a Sigma rule, its
        /// translation, for review.
        #[arg(long, conflicts_with = "ir")]
        kql: bool,
        /// Print the planned pipeline (the IR) instead of Rust: each
        /// operator's KQL, then the runtime calls it lowers to.
        #[arg(long)]
        ir: bool,
        /// Write here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Build a standalone detector binary from one or more rules.
    ///
    /// The hardened release profile (LTO, stripped, panic=abort, remapped
    /// paths: reproducible), linked statically on x86-64 Linux. Writes
    /// BIN.manifest.json beside the binary (see docs/shipping.md).
    Build {
        /// Rule files (.kql, Sentinel .yaml, Sigma .yml) or folders of them (see docs/rules.md).
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The binary to write.
        #[arg(short, long)]
        output: PathBuf,
        /// Link dynamically (the default is static where it works: x86-64 Linux).
        #[arg(long)]
        dynamic: bool,
        /// Build without network access: only crates already downloaded or
        /// vendored (passes --offline to cargo).
        #[arg(long)]
        offline: bool,
        /// Also write a CycloneDX SBOM of the detector's crates to BIN.cdx.json.
        #[arg(long)]
        sbom: bool,
        /// As for check: warn about stateful rules whose state is not per
        /// this partition key (docs/scale-out.md).
        #[arg(long, value_parser = parse_partition_key)]
        partition_key: Option<PartitionKey>,
        /// Include the Kafka source and sink (--kafka, --publish-kafka):
        /// librdkafka, built from source and linked in, which needs make
        /// and a C compiler (docs/deploy.md).
        #[arg(long)]
        kafka: bool,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Run the rules' fixtures (r.tests/NAME.input.* and NAME.expected.jsonl
    /// beside r.kql); print PASS or FAIL per test and a diff per failure.
    /// Exit 0 when all pass, 1 otherwise.
    Test {
        /// Rule files or folders of them.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        schema: SchemaArgs,
    },
    /// Compile (cached) and run one query; print its result rows.
    Run {
        /// The rule file (.kql or Sentinel .yaml).
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
        /// The inputs' format: auto (default), cloudaudit, k8s, aks, eks, gke or arm.
        #[arg(long)]
        input_format: Option<String>,
        /// Write every rejected input line to this file, verbatim.
        #[arg(long)]
        rejects: Option<PathBuf>,
        /// Print alerts (rule metadata, input position, row) instead of rows.
        #[arg(long)]
        alerts: bool,
        /// Threads for checking, prefiltering and parsing input lines (the
        /// results are those of one thread).
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        threads: Option<u64>,
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
        /// Also time each detector with --threads N (1: only one thread);
        /// the hunting suite's peers run with N threads.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
        threads: u64,
        /// detect: the reference rules against cat, grep, jq and DuckDB;
        /// hunting: full-scan queries against DuckDB, chdb and polars;
        /// live: webhook over HTTPS, --follow against batch, a 10× burst.
        #[arg(long, value_enum, default_value = "detect")]
        suite: kqlc_cli::bench::Suite,
        /// The hunting suite's peers, comma-separated, or none (install
        /// them with kqlc/cli/bench/install-peers.sh).
        #[arg(long, value_delimiter = ',', default_value = "duckdb,chdb,polars",
              value_parser = ["duckdb", "chdb", "polars", "none"])]
        peers: Vec<String>,
        /// With --suite hunting: instead of the queries, build and run
        /// kqlc/cli/bench/floor (serde_json, sonic-rs, simd-json, simdutf8,
        /// memchr over the same file, one thread): how fast a validating
        /// JSON reader can go here.
        #[arg(long)]
        floor: bool,
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
        source: kql_sample::Source,
        /// cloudaudit (CloudAuditEvents rows) or native (each platform's own
        /// export format, read by detectors with --input-format auto).
        #[arg(long, default_value = "cloudaudit", value_parser = parse_sample_format)]
        format: kql_sample::SampleFormat,
        /// The "now" the sample is written around (run detectors with the same --now).
        #[arg(long, default_value = "2024-05-28T12:00:00Z")]
        now: String,
        /// Events per million planted to match one of the reference rules.
        #[arg(long, default_value_t = kql_sample::DEFAULT_MATCH_RATE_PER_MILLION)]
        match_rate: u32,
        /// Write here instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

fn parse_source(name: &str) -> Result<kql_sample::Source, String> {
    kql_sample::Source::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = kql_sample::Source::ALL.iter().map(|s| s.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

fn parse_sample_format(name: &str) -> Result<kql_sample::SampleFormat, String> {
    kql_sample::SampleFormat::from_name(name)
        .ok_or_else(|| "expected cloudaudit or native".to_string())
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
    // For measuring what specialisation buys: the generic `Value` path
    // everywhere (docs/PERFORMANCE.md). Same results either way.
    if std::env::var_os("KQLC_GENERIC_CODEGEN").is_some() {
        codegen::set_specialization(false);
    }
    // The specialised code with rows as `Row` throughout, as before typed
    // rows (`codegen::set_typed_rows`), for the same measurement.
    if std::env::var_os("KQLC_UNTYPED_ROWS").is_some() {
        codegen::set_typed_rows(false);
    }
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// The rules named (files, or folders searched recursively); notes about
/// ignored metadata go to stderr, and every error is returned at once.
fn rule_files(paths: &[PathBuf]) -> Result<Vec<RuleFile>, String> {
    match kqlc_cli::rules::load(paths) {
        Ok(pack) => {
            for note in &pack.notes {
                eprintln!("note: {note}");
            }
            Ok(pack.rules)
        }
        Err(errors) => Err(errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\nerror: ")),
    }
}

/// Compiles every file; prints diagnostics; `None` when any failed.
fn compile_all(files: &[RuleFile], schema: &Schema) -> Option<Vec<Rule>> {
    let color = std::io::stderr().is_terminal();
    let mut rules = Vec::new();
    let mut failed = false;
    for file in files {
        match kqlc::compile(&file.kql, schema) {
            Ok(pipeline) => rules.push(Rule {
                name: file.meta.id.clone(),
                kql: file.kql.clone(),
                path: file.path.display().to_string(),
                pipeline,
            }),
            Err(diagnostics) => {
                failed = true;
                for diagnostic in &diagnostics {
                    eprintln!(
                        "{}\n",
                        diagnostic.render(&file.query_origin(), &file.kql, color)
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

fn parse_partition_key(text: &str) -> Result<PartitionKey, String> {
    PartitionKey::parse(text)
}

/// Warns, on stderr, about each stateful stage of `rules` that is not
/// exact when the input is partitioned by `key`.
fn warn_partitioning(files: &[RuleFile], rules: &[Rule], key: &PartitionKey) {
    for (file, rule) in files.iter().zip(rules) {
        for warning in kqlc::plan::partition::partition_warnings(&rule.pipeline, key) {
            eprintln!(
                "warning: {}: rule {}: {warning} (--partition-key {key}): with partitioned consumption each instance sees only its partitions' events, so the result differs from one detector over all of them (docs/scale-out.md)",
                file.path.display(),
                rule.name
            );
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Check {
            files,
            syntax_only,
            partition_key,
            schema,
        } => {
            let schema = schema.load()?;
            let files = rule_files(&files)?;
            if syntax_only {
                let color = std::io::stderr().is_terminal();
                let mut failed = false;
                for file in &files {
                    if let Err(diagnostic) = kqlc::syntax::parse(&file.kql) {
                        failed = true;
                        eprintln!(
                            "{}\n",
                            diagnostic.render(&file.query_origin(), &file.kql, color)
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
                Some(rules) => {
                    if let Some(key) = &partition_key {
                        warn_partitioning(&files, &rules, key);
                    }
                    let mut failed = false;
                    for (file, rule) in files.iter().zip(&rules) {
                        if let Some(error) =
                            kqlc_cli::rules::unknown_partition_key(&file.meta, &rule.pipeline)
                        {
                            eprintln!("error: {}: {error}", file.path.display());
                            failed = true;
                        }
                    }
                    if failed {
                        ExitCode::FAILURE
                    } else {
                        ExitCode::SUCCESS
                    }
                }
                None => ExitCode::FAILURE,
            })
        }
        Command::Emit {
            file,
            kql,
            ir,
            output,
            schema,
        } => {
            let schema_file = schema.schema.clone();
            let schema = schema.load()?;
            let files = rule_files(std::slice::from_ref(&file))?;
            if let Some(path) = &output {
                refuse_outputs_over_inputs(
                    std::slice::from_ref(path),
                    &files,
                    schema_file.as_deref(),
                )?;
            }
            if kql {
                let text = &files[0].kql;
                match &output {
                    Some(path) => std::fs::write(path, text)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                    None => print!("{text}"),
                }
                return Ok(ExitCode::SUCCESS);
            }
            let Some(rules) = compile_all(&files, &schema) else {
                return Ok(ExitCode::FAILURE);
            };
            let rule = &rules[0];
            if ir {
                let text = rule.pipeline.show();
                match &output {
                    Some(path) => std::fs::write(path, text)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                    None => print!("{text}"),
                }
                return Ok(ExitCode::SUCCESS);
            }
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
            dynamic,
            offline,
            sbom,
            partition_key,
            kafka,
            schema,
        } => {
            let schema_file = schema.schema.clone();
            let schema = schema.load()?;
            let files = rule_files(&files)?;
            let mut outputs = vec![output.clone(), sibling(&output, "manifest.json")];
            if sbom {
                outputs.push(sibling(&output, "cdx.json"));
            }
            refuse_outputs_over_inputs(&outputs, &files, schema_file.as_deref())?;
            let Some(rules) = compile_all(&files, &schema) else {
                return Ok(ExitCode::FAILURE);
            };
            if let Some(key) = &partition_key {
                warn_partitioning(&files, &rules, key);
            }
            let how = BuildHow {
                dynamic,
                offline,
                sbom,
                kafka,
            };
            build_detector(&files, &rules, &output, how)
        }
        Command::Test { paths, schema } => {
            let schema = schema.load()?;
            let files = rule_files(&paths)?;
            let toolchain = Toolchain::discover().map_err(|e| e.to_string())?;
            let summary = kqlc_cli::ruletest::run_tests(
                &files,
                &schema,
                &toolchain,
                &mut std::io::stdout().lock(),
                &mut std::io::stderr().lock(),
            )
            .map_err(|e| format!("writing the report: {e}"))?;
            if summary.passed + summary.failed == 0 {
                eprintln!(
                    "error: no rule tests found (a rule r.kql keeps them in r.tests/NAME.input.jsonl and NAME.expected.jsonl)"
                );
                return Ok(ExitCode::FAILURE);
            }
            let untested = match summary.untested_rules {
                0 => String::new(),
                n => format!("; {n} rule{} without tests", if n == 1 { "" } else { "s" }),
            };
            println!(
                "rule tests: {} passed, {} failed{untested}",
                summary.passed, summary.failed
            );
            Ok(if summary.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Run {
            query,
            inputs,
            now,
            strict,
            input_format,
            rejects,
            alerts,
            threads,
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
            if let Some(format) = input_format {
                command.arg("--input-format").arg(format);
            }
            if let Some(rejects) = rejects {
                command.arg("--rejects").arg(rejects);
            }
            if alerts {
                command.arg("--output").arg("alerts");
            }
            command.args(&inputs);
            if let Some(now) = now {
                command.arg("--now").arg(now);
            }
            if strict {
                command.arg("--strict");
            }
            if let Some(threads) = threads {
                command.arg("--threads").arg(threads.to_string());
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
            let mut options = kql_sample::SampleOptions::new(bytes.unwrap_or(100 << 20), now);
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
                    let stats =
                        kql_sample::write_sample(&mut out, &options).map_err(|e| e.to_string())?;
                    std::io::Write::flush(&mut out).map_err(|e| e.to_string())?;
                    stats
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                    let stats =
                        kql_sample::write_sample(&mut out, &options).map_err(|e| e.to_string())?;
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
            threads,
            suite,
            peers,
            floor,
        } => kqlc_cli::bench::run_suite(&kqlc_cli::bench::BenchOptions {
            bytes,
            dir,
            rules,
            repeat,
            threads: usize::try_from(threads).unwrap_or(usize::MAX),
            suite,
            peers,
            floor,
        }),
        Command::Functions => {
            for function in kqlc::sema::functions::FUNCTIONS {
                println!("{:<22} {}", function.name, function.summary);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `kqlc build`'s flags.
struct BuildHow {
    dynamic: bool,
    offline: bool,
    sbom: bool,
    kafka: bool,
}

/// `kqlc build`: the hardened detector, its manifest and, with `sbom`, its
/// SBOM, written next to each other.
fn build_detector(
    files: &[RuleFile],
    rules: &[Rule],
    output: &Path,
    how: BuildHow,
) -> Result<ExitCode, String> {
    let BuildHow {
        dynamic,
        offline,
        sbom,
        kafka,
    } = how;
    let toolchain = Toolchain::discover().map_err(|e| e.to_string())?;
    let host = kqlc_cli::build::host_triple().map_err(|e| e.to_string())?;
    let options = BuildOptions {
        profile: Profile::Release,
        linking: if dynamic {
            Linking::Dynamic
        } else {
            Linking::default_for_host(&host)
        },
        offline,
        kafka,
    };
    let info: Vec<ManifestRule> = files
        .iter()
        .zip(rules)
        .map(|(file, rule)| ManifestRule {
            id: file.meta.id.clone(),
            name: file.meta.name.clone(),
            severity: file.meta.severity.clone(),
            tactics: file.meta.tactics.clone(),
            techniques: file.meta.techniques.clone(),
            file: file.file_name(),
            sha256: file.sha256.clone(),
            source: file.source.clone(),
            description: file.meta.description.clone().unwrap_or_default(),
            schedule: file.meta.schedule.resolve(&rule.pipeline).0,
            partition_key: file.meta.partition_key.clone(),
        })
        .collect();
    for (file, rule) in files.iter().zip(rules) {
        if let Some(error) = kqlc_cli::rules::unknown_partition_key(&file.meta, &rule.pipeline) {
            return Err(format!("{}: {error}", file.path.display()));
        }
        let (schedule, note) = file.meta.schedule.resolve(&rule.pipeline);
        if let Some(note) = note {
            eprintln!("note: {}: {note}", file.path.display());
        }
        if schedule.is_none() && kqlc::plan::schedule::is_stateful(&rule.pipeline) {
            eprintln!(
                "note: {}: the rule keeps state and has no schedule: batch runs report at the end of input as always, but a live detector (--follow, --listen, --nats) refuses to run it; add '// @frequency 10m' and '// @period 10m' (Sentinel YAML: queryFrequency, queryPeriod) or a 'where Timestamp > ago(10m)' bound (docs/rules.md)",
                file.path.display()
            );
        }
    }
    let built = toolchain
        .build_with(rules, &info, &options)
        .map_err(|e| e.to_string())?;
    copy_executable(&built.binary, output)?;
    let manifest_path = sibling(output, "manifest.json");
    std::fs::write(&manifest_path, built.manifest.to_json())
        .map_err(|e| format!("cannot write {}: {e}", manifest_path.display()))?;
    let mut written = vec![manifest_path];
    if sbom {
        let text = kqlc_cli::build::sbom::cyclonedx(&built, offline).map_err(|e| e.to_string())?;
        let sbom_path = sibling(output, "cdx.json");
        std::fs::write(&sbom_path, text)
            .map_err(|e| format!("cannot write {}: {e}", sbom_path.display()))?;
        written.push(sbom_path);
    }
    eprintln!(
        "built {} ({} rule{}; {}, {}{}); wrote {}",
        output.display(),
        rules.len(),
        if rules.len() == 1 { "" } else { "s" },
        built.manifest.target,
        if built.manifest.static_linking {
            "static"
        } else {
            "dynamic"
        },
        if built.compiled { "" } else { ", cached" },
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::SUCCESS)
}

/// `BIN` → `BIN.SUFFIX`, beside it.
/// Refuses to write any of `outputs` when it is one of the inputs (a rule
/// file, the schema file), by file identity whatever the name (a hard link,
/// a symlink, `./r.kql`): writing it would destroy the rule. The detector
/// refuses a `--rejects` file that is one of its inputs the same way
/// (`kql_detector::file_identity`).
fn refuse_outputs_over_inputs(
    outputs: &[PathBuf],
    files: &[RuleFile],
    schema: Option<&Path>,
) -> Result<(), String> {
    let inputs: Vec<&Path> = files
        .iter()
        .map(|f| f.path.as_path())
        .chain(schema)
        .collect();
    for output in outputs {
        let Some(id) = file_identity(output) else {
            continue;
        };
        if let Some(input) = inputs.iter().find(|i| file_identity(i) == Some(id)) {
            return Err(format!(
                "{} is the input file {} (the same file): writing it would destroy the input; write to another file",
                output.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// The device and inode of the regular file `path` names (following
/// symlinks); `None` when there is none (or elsewhere than Unix).
fn file_identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).ok()?;
        metadata.is_file().then(|| (metadata.dev(), metadata.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

fn sibling(binary: &Path, suffix: &str) -> PathBuf {
    let mut name = binary.as_os_str().to_os_string();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
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
