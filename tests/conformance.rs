//! The conformance suite: every case under `tests/cases/` run through the
//! code users get (the same code generator and runtime as `kqlc run`), many
//! cases per compiled binary to keep the cost per case low.
//!
//! A case is `tests/cases/<feature>/.../NAME.kql` with either
//! - `NAME.expected.jsonl`: the exact result rows (JSON lines, keys in column
//!   order), optionally with `NAME.input.jsonl` as the input rows
//!   (`CloudAuditEvents` or the tables of `NAME.schema.json`); or
//! - `NAME.error`: the query must be rejected, and this is exactly what
//!   `kqlc check NAME.kql` (with `--schema NAME.schema.json` when there is
//!   one) prints on stderr, run in `tests/cases` so the file name is the
//!   case's path: the code, the message, the source snippet with its labels,
//!   notes and help. `KQLC_BLESS=1` rewrites these files after review.
//!
//! Every query runs with `now()` = 2024-05-28T12:00:00Z. A failure names the
//! case's path, so it names the feature. `KQLC_CASES=text` runs only the
//! cases whose path contains `text` (`KQLC_CASES=aggregates/`).

use crate::common::{kqlc, NOW};
use kqlc::plan::ir::Pipeline;
use kqlc::sema::Schema;
use kqlc_cli::build::{Profile, Rule, Toolchain};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Cases sharing an input file and schema run in the same binaries.
type InputKey = (Option<PathBuf>, Option<PathBuf>);

/// Cases compiled into one binary.
const BATCH: usize = 150;

struct Case {
    /// Path relative to `tests/cases`, without `.kql`.
    id: String,
    kql: String,
    expected: Expectation,
    input: Option<PathBuf>,
    schema: Option<PathBuf>,
}

enum Expectation {
    Rows(String),
    /// The rendered diagnostics, as `kqlc check` prints them.
    Error(String),
}

fn cases_dir() -> PathBuf {
    crate::common::repo().join("tests/cases")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "kql") {
            out.push(path);
        }
    }
}

fn load_cases() -> Result<Vec<Case>, String> {
    let root = cases_dir();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        let id = file
            .strip_prefix(&root)
            .unwrap_or(&file)
            .with_extension("")
            .to_string_lossy()
            .into_owned();
        let sibling = |suffix: &str| file.with_extension(suffix);
        let kql = std::fs::read_to_string(&file).map_err(|e| format!("{id}: {e}"))?;
        let expected = if let Ok(rows) = std::fs::read_to_string(sibling("expected.jsonl")) {
            Expectation::Rows(rows)
        } else if let Ok(error) = std::fs::read_to_string(sibling("error")) {
            Expectation::Error(error)
        } else {
            return Err(format!(
                "{id}: has neither NAME.expected.jsonl nor NAME.error"
            ));
        };
        let input = Some(sibling("input.jsonl")).filter(|p| p.is_file());
        let schema = Some(sibling("schema.json")).filter(|p| p.is_file());
        cases.push(Case {
            id,
            kql,
            expected,
            input,
            schema,
        });
    }
    Ok(cases)
}

impl Case {
    fn error_file(&self) -> PathBuf {
        cases_dir().join(format!("{}.error", self.id))
    }
}

/// What `kqlc check` prints on stderr for a case it must refuse, run in
/// `tests/cases` on the case's relative path (so no absolute path shows)
/// and with stderr a pipe (so no colour).
fn kqlc_check(case: &Case) -> Result<String, String> {
    let mut command = kqlc();
    command.current_dir(cases_dir()).arg("check");
    if case.schema.is_some() {
        command
            .arg("--schema")
            .arg(format!("{}.schema.json", case.id));
    }
    let output = command
        .arg(format!("{}.kql", case.id))
        .output()
        .map_err(|e| format!("kqlc check: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.code() != Some(1) {
        return Err(format!(
            "kqlc check should exit with 1, not {}:\n{stderr}",
            output.status
        ));
    }
    Ok(stderr)
}

/// Compares a refused case's `NAME.error` with what `kqlc check` prints,
/// exactly; with `bless`, rewrites the file instead.
fn check_rendered_error(case: &Case, stored: &str, bless: bool) -> Result<(), String> {
    let rendered = kqlc_check(case)?;
    if rendered == stored {
        return Ok(());
    }
    let path = case.error_file();
    if bless {
        return std::fs::write(&path, &rendered).map_err(|e| format!("{}: {e}", path.display()));
    }
    let line = stored
        .lines()
        .zip(rendered.lines())
        .position(|(a, b)| a != b)
        .unwrap_or(stored.lines().count().min(rendered.lines().count()));
    Err(format!(
        "the message differs from {} from line {} (review, then KQLC_BLESS=1):\n--- stored\n{stored}\n--- kqlc check\n{rendered}",
        path.display(),
        line + 1
    ))
}

/// Runs a binary holding `batch` (already compiled) and returns each case's
/// output rows, or why the run failed.
fn run_batch(
    toolchain: &Toolchain,
    batch: &[(&Case, Pipeline)],
    input: Option<&Path>,
) -> Result<BTreeMap<String, String>, String> {
    let rules: Vec<Rule> = batch
        .iter()
        .enumerate()
        .map(|(i, (case, pipeline))| Rule {
            name: format!("case_{i:04}"),
            kql: case.kql.clone(),
            path: case.id.clone(),
            pipeline: pipeline.clone(),
        })
        .collect();
    let binary = toolchain
        .build(&rules, Profile::Quick)
        .map_err(|e| format!("build failed: {e}"))?;
    let mut command = Command::new(&binary);
    // `externaldata` paths in cases are relative to `tests/cases`.
    command.current_dir(cases_dir());
    command.args(["--now", NOW]);
    if let Some(input) = input {
        command.arg(input);
    }
    let output = command.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.code().is_none_or(|c| c > 1) {
        return Err(format!(
            "detector failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    for (i, (case, _)) in batch.iter().enumerate() {
        rows.insert(case.id.clone(), String::new());
        let prefix = format!("{{\"_rule\":\"case_{i:04}\"");
        for line in stdout.lines().filter(|l| l.starts_with(&prefix)) {
            let rest = &line[prefix.len()..];
            // A single-rule binary does not tag rows; a multi-rule one does.
            let row = match rest.strip_prefix(',') {
                Some(fields) => format!("{{{fields}"),
                None => "{}".to_string(),
            };
            let entry = rows.entry(case.id.clone()).or_default();
            entry.push_str(&row);
            entry.push('\n');
        }
    }
    if batch.len() == 1 {
        rows.insert(batch[0].0.id.clone(), stdout.into_owned());
    }
    Ok(rows)
}

#[test]
fn conformance_cases_return_their_documented_rows() {
    let mut cases = match load_cases() {
        Ok(cases) => cases,
        Err(e) => panic!("{e}"),
    };
    if let Ok(filter) = std::env::var("KQLC_CASES") {
        cases.retain(|case| case.id.contains(filter.as_str()));
    }
    if cases.is_empty() {
        eprintln!("no conformance cases under {}", cases_dir().display());
        return;
    }
    let toolchain = Toolchain::discover().expect("runtime crate");
    let mut failures: Vec<String> = Vec::new();
    // Compile every case on its own first, so a bad case fails alone.
    let mut runnable: BTreeMap<InputKey, Vec<(&Case, Pipeline)>> = BTreeMap::new();
    let mut error_cases = 0;
    for case in &cases {
        let mut schema = Schema::builtin();
        if let Some(path) = &case.schema {
            schema.extend(Schema::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", case.id)));
        }
        let compiled = kqlc::compile(&case.kql, &schema);
        match (&case.expected, compiled) {
            (Expectation::Rows(_), Ok(pipeline)) => runnable
                .entry((case.input.clone(), case.schema.clone()))
                .or_default()
                .push((case, pipeline)),
            (Expectation::Rows(_), Err(diagnostics)) => failures.push(format!(
                "{}: does not compile:\n{}",
                case.id,
                diagnostics
                    .iter()
                    .map(|d| d.render(&case.id, &case.kql, false))
                    .collect::<Vec<_>>()
                    .join("\n")
            )),
            // `refused_cases_print_their_stored_diagnostics` checks these.
            (Expectation::Error(_), _) => error_cases += 1,
        }
    }
    let mut run = 0;
    for ((input, _), group) in &runnable {
        for batch in group.chunks(BATCH) {
            let outputs = match run_batch(&toolchain, batch, input.as_deref()) {
                Ok(outputs) => outputs,
                Err(why) if batch.len() > 1 => {
                    // Find the culprit: run the batch's cases one by one.
                    eprintln!("batch failed ({why}); running its cases one at a time");
                    let mut outputs = BTreeMap::new();
                    for single in batch.chunks(1) {
                        match run_batch(&toolchain, single, input.as_deref()) {
                            Ok(o) => outputs.extend(o),
                            Err(why) => failures.push(format!("{}: {why}", single[0].0.id)),
                        }
                    }
                    outputs
                }
                Err(why) => {
                    failures.push(format!("{}: {why}", batch[0].0.id));
                    continue;
                }
            };
            for (case, _) in batch {
                let Expectation::Rows(expected) = &case.expected else {
                    continue;
                };
                let Some(got) = outputs.get(&case.id) else {
                    continue;
                };
                run += 1;
                let want: Vec<&str> = expected.lines().filter(|l| !l.trim().is_empty()).collect();
                let have: Vec<&str> = got.lines().collect();
                if want != have {
                    failures.push(format!(
                        "{}: rows differ\n--- expected\n{}\n--- got\n{}",
                        case.id,
                        want.join("\n"),
                        have.join("\n")
                    ));
                }
            }
        }
    }
    eprintln!(
        "conformance: {} cases ({run} run, {error_cases} expected errors), {} failures",
        cases.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failing cases:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Every case with a `NAME.error` is refused, and `kqlc check` prints
/// exactly the stored diagnostics for it. `KQLC_BLESS=1` rewrites them.
#[test]
fn refused_cases_print_their_stored_diagnostics() {
    let mut cases = match load_cases() {
        Ok(cases) => cases,
        Err(e) => panic!("{e}"),
    };
    if let Ok(filter) = std::env::var("KQLC_CASES") {
        cases.retain(|case| case.id.contains(filter.as_str()));
    }
    let bless = std::env::var_os("KQLC_BLESS").is_some();
    let mut failures: Vec<String> = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let Expectation::Error(stored) = &case.expected else {
            continue;
        };
        checked += 1;
        let mut schema = Schema::builtin();
        if let Some(path) = &case.schema {
            schema.extend(Schema::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", case.id)));
        }
        if kqlc::compile(&case.kql, &schema).is_ok() {
            failures.push(format!(
                "{}: compiled, but {} says it is refused",
                case.id,
                case.error_file().display()
            ));
        } else if let Err(why) = check_rendered_error(case, stored, bless) {
            failures.push(format!("{}: {why}", case.id));
        }
    }
    eprintln!("conformance: {checked} refused cases");
    assert!(
        failures.is_empty(),
        "{} failing refused cases:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The planned pipeline of every case that compiles, as `kqlc emit --ir`
/// prints it, matches `NAME.ir` beside the case: a change in lowering shows
/// up in review as a change in these files. `KQLC_BLESS=1` writes them.
#[test]
fn conformance_cases_plan_to_their_ir_snapshots() {
    let cases = match load_cases() {
        Ok(cases) => cases,
        Err(e) => panic!("{e}"),
    };
    let bless = std::env::var_os("KQLC_BLESS").is_some();
    let mut stale: Vec<String> = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let mut schema = Schema::builtin();
        if let Some(path) = &case.schema {
            schema.extend(Schema::from_file(path).unwrap_or_else(|e| panic!("{}: {e}", case.id)));
        }
        let path = cases_dir().join(format!("{}.ir", case.id));
        let Ok(pipeline) = kqlc::compile(&case.kql, &schema) else {
            // Refused cases have no plan; a stale snapshot must not linger.
            if path.exists() {
                stale.push(format!(
                    "{}: refused, yet {} exists",
                    case.id,
                    path.display()
                ));
            }
            continue;
        };
        checked += 1;
        let shown = pipeline.show();
        match std::fs::read_to_string(&path) {
            Ok(stored) if stored == shown => {}
            _ if bless => {
                std::fs::write(&path, &shown).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            }
            Ok(stored) => {
                let first = stored
                    .lines()
                    .zip(shown.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(stored.lines().count().min(shown.lines().count()));
                stale.push(format!(
                    "{}: the IR differs from {} from line {}:\n  stored: {:?}\n  now:    {:?}",
                    case.id,
                    path.display(),
                    first + 1,
                    stored.lines().nth(first).unwrap_or(""),
                    shown.lines().nth(first).unwrap_or("")
                ));
            }
            Err(_) => stale.push(format!("{}: no snapshot {}", case.id, path.display())),
        }
    }
    assert!(checked > 0, "no case compiled");
    assert!(
        stale.is_empty(),
        "{} IR snapshot(s) out of date (review, then KQLC_BLESS=1 cargo test -p kqlc-cli --test integration conformance::conformance_cases_plan_to_their_ir_snapshots):\n{}",
        stale.len(),
        stale.join("\n")
    );
}

/// Every function of the table is called by at least one case whose rows
/// are checked: an entry without one is an implementation nobody compared
/// with the reference.
#[test]
fn every_function_of_the_table_has_a_conformance_case() {
    let cases = match load_cases() {
        Ok(cases) => cases,
        Err(e) => panic!("{e}"),
    };
    let called = |name: &str| {
        cases.iter().any(|case| {
            matches!(case.expected, Expectation::Rows(_))
                && case.kql.match_indices(name).any(|(at, _)| {
                    let before = case.kql[..at].chars().next_back();
                    let after = case.kql[at + name.len()..].trim_start().chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && after == Some('(')
                })
        })
    };
    let missing: Vec<&str> = kqlc::sema::functions::FUNCTIONS
        .iter()
        .map(|f| f.name)
        .filter(|name| !called(name))
        .collect();
    assert!(
        missing.is_empty(),
        "{} function(s) of the table have no conformance case under tests/cases: {}",
        missing.len(),
        missing.join(", ")
    );
}
