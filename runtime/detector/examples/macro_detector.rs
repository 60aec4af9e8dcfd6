//! A detector written as an ordinary Rust program: the three reference
//! queries are compiled by `kql!` when this example compiles, and run over
//! JSON lines. It prints what `kqlc build examples/rules -o detector` prints:
//! each result row as JSON, starting with `"_rule"`.
//!
//! ```text
//! cargo run -p kql-detector --example macro_detector -- examples/data/audit.jsonl --now 2024-05-28T12:00:00Z
//! ```

use kql_detector::runner::Runner;
use kql_runtime::kql;
use kql_runtime::query::Query;
use kql_runtime::text::parse_datetime;
use std::io::Write;
use std::process::ExitCode;

/// Runs one compiled rule over `lines` and prints its rows tagged with `name`.
fn detect<Q: Query>(
    rule: Q,
    name: &str,
    lines: &[String],
    now: kql_runtime::DateTime,
) -> Result<(), String> {
    let mut runner = Runner::with_now(rule, now);
    let rows = runner
        .run_json_lines(lines.iter().map(String::as_str))
        .map_err(|e| e.to_string())?;
    let mut out = std::io::stdout().lock();
    for row in rows {
        let json = runner.to_json_line(&row);
        // Insert the rule tag as the first key, as the multi-rule detector does.
        writeln!(out, "{{\"_rule\":\"{name}\",{}", &json[1..]).map_err(|e| e.to_string())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut files, mut now) = (Vec::new(), None);
    while let Some(arg) = args.next() {
        if arg == "--now" {
            now = args.next().and_then(|t| parse_datetime(&t));
        } else {
            files.push(arg);
        }
    }
    let now = now.unwrap_or_else(kql_detector::detector::system_now);
    let mut lines = Vec::new();
    for file in &files {
        match std::fs::read_to_string(file) {
            Ok(text) => lines.extend(text.lines().map(str::to_string)),
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    // Rows are printed rule by rule; the kqlc binary interleaves them in input order.
    let results = [
        detect(
            kql!(file = "../../examples/rules/cluster-admin-binding.kql"),
            "cluster-admin-binding",
            &lines,
            now,
        ),
        detect(
            kql!(file = "../../examples/rules/exec-in-kube-system.kql"),
            "exec-in-kube-system",
            &lines,
            now,
        ),
        detect(
            kql!(file = "../../examples/rules/privileged-pod.kql"),
            "privileged-pod",
            &lines,
            now,
        ),
    ];
    for result in results {
        if let Err(e) = result {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
