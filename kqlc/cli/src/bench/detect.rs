//! `kqlc bench --suite detect` (the default): the selective reference
//! rules against the floor and the tools a user would pick instead.
//!
//! Generates a deterministic sample (`kqlc sample`), builds each reference
//! rule and all three in one binary, then times, one after the other on the
//! same file (page cache warm): `cat FILE > /dev/null`, `grep -cF` of the
//! rule's rarest literal, each detector, `jq` with an equivalent filter and
//! DuckDB (Python package) with equivalent SQL where installed. Every tool
//! must return the number of rows the generator planted; the table shows
//! MB/s, events/s, the time relative to `cat`, each peer's time relative to
//! the detector's, and peak memory (from `/usr/bin/time` when present).
//! Each detector also runs with `--threads N` (2 by default), and
//! [`thread_speedups`] gives its throughput relative to one thread.
//! Last, two detections over `CloudAuditEvents` and the same two over
//! `AKSAudit` and `AzureDiagnostics` (each pack with `cluster-admin-binding`)
//! must give the same rows, and [`table_costs`] gives the time one pays for
//! reading three tables instead of one.

use super::{peers_python, timed, write_sample, BenchOptions, NOW};
use crate::build::{Profile, Rule, Toolchain};
use kqlc::sema::Schema;
use std::path::Path;
use std::process::{Command, Stdio};

/// One measured command.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// What ran.
    pub name: String,
    /// Wall-clock seconds (fastest run).
    pub seconds: f64,
    /// Rows (or matches) it reported, when it reports a count.
    pub count: Option<u64>,
    /// The count it should report.
    pub expected: Option<u64>,
    /// Peak resident memory in KiB, when measurable.
    pub peak_kib: Option<u64>,
}

/// The label of the pack of three detections over `CloudAuditEvents`.
pub const ONE_TABLE_LABEL: &str = "3 rules over 1 table";
/// The label of the same detections over `AKSAudit`, `AzureDiagnostics` and
/// `CloudAuditEvents`.
pub const THREE_TABLES_LABEL: &str = "the same 3 rules over 3 tables";

/// Two detections written over `CloudAuditEvents` (with the reference
/// rule `cluster-admin-binding`, the one-table pack).
const ONE_TABLE: &[(&str, &str)] = &[
    (
        "exec",
        r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where OperationName == "create"
| where RawEventData.ObjectRef.subresource == "exec"
| project Username = tostring(RawEventData.User.username), Pod = tostring(RawEventData.ObjectRef.name), Namespace = tostring(RawEventData.ObjectRef.namespace)"#,
    ),
    (
        "secret-writes",
        r#"CloudAuditEvents
| where DataSource != "Azure Resource Manager"
| where RawEventData.ObjectRef.resource == "secrets"
| where OperationName !in ("get", "list", "watch")
| project AuditId = tostring(RawEventData.AuditId), Verb = OperationName, Username = tostring(RawEventData.User.username)"#,
    ),
];

/// The same two detections over `AKSAudit` and `AzureDiagnostics`.
const THREE_TABLES: &[(&str, &str)] = &[
    (
        "exec",
        r#"AKSAudit
| where Verb == "create"
| where ObjectRef.subresource == "exec"
| project Username = tostring(User.username), Pod = tostring(ObjectRef.name), Namespace = tostring(ObjectRef.namespace)"#,
    ),
    (
        "secret-writes",
        r#"AzureDiagnostics
| where Category in ("kube-audit", "kube-audit-admin")
| extend Event = parse_json(log_s)
| where Event.objectRef.resource == "secrets"
| where Event.verb !in ("get", "list", "watch")
| project AuditId = tostring(Event.auditID), Verb = tostring(Event.verb), Username = tostring(Event.user.username)"#,
    ),
];

/// The time of the three-table pack relative to the one-table pack.
pub fn table_costs(results: &[Measurement]) -> String {
    let find = |label: &str| {
        results
            .iter()
            .find(|m| m.name == format!("kqlc detector: {label}"))
    };
    match (find(ONE_TABLE_LABEL), find(THREE_TABLES_LABEL)) {
        (Some(one), Some(three)) => format!(
            "3 tables / 1 table: {:.2}× the time ({:.3} s / {:.3} s)\n",
            three.seconds / one.seconds,
            three.seconds,
            one.seconds
        ),
        _ => String::new(),
    }
}

/// jq filters equivalent to the reference rules (count of result rows).
fn jq_filter(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "exec-in-kube-system" => {
            r#"select(.Timestamp > "2024-05-27T12:00:00Z" and .DataSource == "Azure Kubernetes Service" and .OperationName == "create" and .RawEventData.ObjectRef.resource == "pods" and .RawEventData.ResponseStatus.code == 101 and .RawEventData.ObjectRef.namespace == "kube-system" and .RawEventData.ObjectRef.subresource == "exec" and ((.RawEventData.ObjectRef.name // "" | ascii_downcase) as $n | ($n | startswith("tunnelfront-") or startswith("konnectivity-") or startswith("aks-link")) | not)) | 1"#
        }
        "cluster-admin-binding" => {
            r#"select(.Timestamp > "2024-05-27T12:00:00Z" and .OperationName == "create" and .RawEventData.ObjectRef.resource == "clusterrolebindings" and ((.RawEventData.ResponseStatus.code | tostring) | startswith("20")) and .RawEventData.RequestObject.roleRef.name == "cluster-admin" and .RawEventData.User.username != "acsService") | (.RawEventData.RequestObject.subjects // [null])[] | 1"#
        }
        "privileged-pod" => {
            r#"select(.Timestamp > "2024-05-27T12:00:00Z" and .DataSource == "Azure Kubernetes Service" and .OperationName == "create" and .RawEventData.ObjectRef.resource == "pods" and .RawEventData.ObjectRef.subresource == null and ((.RawEventData.ResponseStatus.code | tostring) | startswith("20"))) | (.RawEventData.RequestObject.spec.containers // [null])[] | select(.securityContext.privileged == true or .securityContext.privileged == "true") | 1"#
        }
        _ => return None,
    })
}

/// DuckDB SQL equivalent to the reference rules (a count).
fn duckdb_sql(rule: &str, file: &Path) -> Option<String> {
    let f = file.display();
    let base = format!(
        "SELECT j FROM (SELECT json AS j FROM read_ndjson_objects('{f}')) WHERE j->>'$.Timestamp' > '2024-05-27T12:00:00Z'"
    );
    Some(match rule {
        "exec-in-kube-system" => format!(
            "SELECT count(*) FROM ({base}) WHERE j->>'$.DataSource' = 'Azure Kubernetes Service' AND j->>'$.OperationName' = 'create' AND j->>'$.RawEventData.ObjectRef.resource' = 'pods' AND j->>'$.RawEventData.ResponseStatus.code' = '101' AND j->>'$.RawEventData.ObjectRef.namespace' = 'kube-system' AND j->>'$.RawEventData.ObjectRef.subresource' = 'exec' AND NOT (lower(j->>'$.RawEventData.ObjectRef.name') LIKE 'tunnelfront-%' OR lower(j->>'$.RawEventData.ObjectRef.name') LIKE 'konnectivity-%' OR lower(j->>'$.RawEventData.ObjectRef.name') LIKE 'aks-link%')"
        ),
        "cluster-admin-binding" => format!(
            "SELECT coalesce(sum(greatest(json_array_length(j->'$.RawEventData.RequestObject.subjects'), 1)), 0) FROM ({base}) WHERE j->>'$.OperationName' = 'create' AND j->>'$.RawEventData.ObjectRef.resource' = 'clusterrolebindings' AND (j->>'$.RawEventData.ResponseStatus.code') LIKE '20%' AND j->>'$.RawEventData.RequestObject.roleRef.name' = 'cluster-admin' AND j->>'$.RawEventData.User.username' <> 'acsService'"
        ),
        "privileged-pod" => format!(
            "SELECT count(*) FROM (SELECT unnest(from_json(j->'$.RawEventData.RequestObject.spec.containers', '[\"json\"]')) AS c FROM ({base}) WHERE j->>'$.DataSource' = 'Azure Kubernetes Service' AND j->>'$.OperationName' = 'create' AND j->>'$.RawEventData.ObjectRef.resource' = 'pods' AND j->>'$.RawEventData.ObjectRef.subresource' IS NULL AND (j->>'$.RawEventData.ResponseStatus.code') LIKE '20%') WHERE c->>'$.securityContext.privileged' = 'true'"
        ),
        _ => return None,
    })
}

/// The rarest literal of each rule (for the `grep -cF` floor).
fn rarest_literal(rule: &str) -> &'static str {
    match rule {
        "exec-in-kube-system" => "\"exec\"",
        "cluster-admin-binding" => "cluster-admin",
        _ => "privileged",
    }
}

/// Runs the benchmark and returns the measurements and the input size.
pub fn run(options: &BenchOptions) -> Result<(Vec<Measurement>, u64, u64), String> {
    let (input, stats) = write_sample(options)?;
    let expected = |rule: &str| {
        stats
            .matches_per_rule
            .iter()
            .find(|m| m.rule == rule)
            .map(|m| m.output_rows)
    };
    let toolchain = Toolchain::discover().map_err(|e| e.to_string())?;
    let schema = Schema::builtin();
    let load = |name: &str| -> Result<Rule, String> {
        let path = options.rules.join(format!("{name}.kql"));
        let kql = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let pipeline = kqlc::compile(&kql, &schema)
            .map_err(|d| format!("{}: {}", path.display(), d[0].message))?;
        Ok(Rule {
            name: name.to_string(),
            kql,
            path: path.display().to_string(),
            pipeline,
        })
    };
    let names = [
        "exec-in-kube-system",
        "cluster-admin-binding",
        "privileged-pod",
    ];
    let mut results = Vec::new();
    // Warm the page cache, then measure the floor.
    let _ = Command::new("cat")
        .arg(&input)
        .stdout(Stdio::null())
        .status();
    let mut cat = Command::new("sh");
    cat.arg("-c")
        .arg(format!("cat '{}' > /dev/null", input.display()));
    let (seconds, _, peak) = timed(cat, options.repeat)?;
    results.push(Measurement {
        name: "cat FILE > /dev/null".into(),
        seconds,
        count: None,
        expected: None,
        peak_kib: peak,
    });
    // The last line holds the count (tools may print progress before it).
    let count_lines = |text: &str| -> Option<u64> {
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())?
            .trim()
            .parse()
            .ok()
    };
    for name in names {
        let mut grep = Command::new("grep");
        grep.arg("-cF").arg(rarest_literal(name)).arg(&input);
        let (seconds, out, peak) = timed(grep, options.repeat)?;
        results.push(Measurement {
            name: format!("grep -cF {} (floor for {name})", rarest_literal(name)),
            seconds,
            count: count_lines(&out),
            expected: None,
            peak_kib: peak,
        });
    }
    let detector =
        |results: &mut Vec<Measurement>, label: &str, rules: Vec<Rule>, expected: Option<u64>| {
            let binary = toolchain
                .build(&rules, Profile::Release)
                .map_err(|e| e.to_string())?;
            let mut threads = vec![1];
            if options.threads > 1 {
                threads.push(options.threads);
            }
            for n in threads {
                let mut command = Command::new(&binary);
                command.arg(&input).args(["--now", NOW]);
                let name = if n == 1 {
                    format!("kqlc detector: {label}")
                } else {
                    command.arg("--threads").arg(n.to_string());
                    format!("kqlc detector --threads {n}: {label}")
                };
                let (seconds, out, peak) = timed(command, options.repeat)?;
                results.push(Measurement {
                    name,
                    seconds,
                    count: Some(out.lines().count() as u64),
                    expected,
                    peak_kib: peak,
                });
            }
            Ok::<(), String>(())
        };
    for name in names {
        detector(&mut results, name, vec![load(name)?], expected(name))?;
    }
    let all: Result<Vec<Rule>, String> = names.iter().map(|n| load(n)).collect();
    let total: Option<u64> = names.iter().map(|n| expected(n)).sum();
    detector(&mut results, "all three, one pass", all?, total)?;
    // The same detections over one table, then over three: what reading
    // the Azure Monitor tables beside CloudAuditEvents costs (issue 17's
    // bound: within 10%). Both packs must give the same number of rows.
    let over = |rules: &[(&str, &str)]| -> Result<Vec<Rule>, String> {
        rules
            .iter()
            .map(|(name, kql)| {
                Ok(Rule {
                    name: name.to_string(),
                    kql: kql.to_string(),
                    path: format!("{name}.kql"),
                    pipeline: kqlc::compile(kql, &schema)
                        .map_err(|d| format!("{name}: {}", d[0].message))?,
                })
            })
            .collect()
    };
    let cluster_admin = load("cluster-admin-binding")?;
    let mut one_table = over(ONE_TABLE)?;
    one_table.push(cluster_admin.clone());
    let mut three_tables = over(THREE_TABLES)?;
    three_tables.push(cluster_admin);
    detector(&mut results, ONE_TABLE_LABEL, one_table, None)?;
    let one_count = results
        .iter()
        .find(|m| m.name == format!("kqlc detector: {ONE_TABLE_LABEL}"))
        .and_then(|m| m.count);
    detector(&mut results, THREE_TABLES_LABEL, three_tables, one_count)?;
    let has = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has("jq", "--version") {
        for name in names {
            let Some(filter) = jq_filter(name) else {
                continue;
            };
            let mut jq = Command::new("sh");
            jq.arg("-c")
                .arg(format!("jq -c '{filter}' '{}' | wc -l", input.display()));
            let (seconds, out, peak) = timed(jq, 1)?;
            results.push(Measurement {
                name: format!("jq: {name}"),
                seconds,
                count: count_lines(&out),
                expected: expected(name),
                peak_kib: peak,
            });
        }
    }
    let python = peers_python();
    if Command::new(&python)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success())
    {
        for name in names {
            let Some(sql) = duckdb_sql(name, &input) else {
                continue;
            };
            let script = format!(
                "import duckdb; c = duckdb.connect(); c.execute(\"SET threads TO 2\"); c.execute(\"SET enable_progress_bar = false\"); print(c.execute({sql:?}).fetchone()[0])"
            );
            let mut duck = Command::new(&python);
            duck.arg("-c").arg(script);
            let (seconds, out, peak) = timed(duck, 1)?;
            results.push(Measurement {
                name: format!("duckdb (2 threads): {name}"),
                seconds,
                count: count_lines(&out),
                expected: expected(name),
                peak_kib: peak,
            });
        }
    }
    Ok((results, stats.bytes, stats.rows))
}

/// The results as a Markdown table.
pub fn table(results: &[Measurement], bytes: u64, rows: u64) -> String {
    let cat = results.first().map_or(f64::NAN, |m| m.seconds);
    let detector_time = |name: &str| {
        results
            .iter()
            .find(|m| m.name == format!("kqlc detector: {name}"))
            .map(|m| m.seconds)
    };
    let mut out = String::from(
        "| what | seconds | MB/s | events/s | × cat | count (expected) | peer time / detector time | peak RSS |\n|---|---|---|---|---|---|---|---|\n",
    );
    for m in results {
        let mb_s = bytes as f64 / 1e6 / m.seconds;
        let ev_s = rows as f64 / m.seconds;
        let count = match (m.count, m.expected) {
            (Some(c), Some(e)) if c == e => format!("{c} ✓"),
            (Some(c), Some(e)) => format!("{c} ✗ (expected {e})"),
            (Some(c), None) => c.to_string(),
            (None, Some(e)) => format!("✗ no count (expected {e})"),
            _ => "-".into(),
        };
        let peer_ratio = m
            .name
            .split_once(": ")
            .filter(|(tool, _)| tool.starts_with("jq") || tool.starts_with("duckdb"))
            .and_then(|(_, rule)| detector_time(rule))
            .map_or("-".to_string(), |d| format!("{:.1}×", m.seconds / d));
        let peak = m
            .peak_kib
            .map_or("-".to_string(), |k| format!("{:.1} MB", k as f64 / 1024.0));
        out.push_str(&format!(
            "| {} | {:.3} | {:.0} | {:.0} | {:.2} | {} | {} | {} |\n",
            m.name,
            m.seconds,
            mb_s,
            ev_s,
            m.seconds / cat,
            count,
            peer_ratio,
            peak
        ));
    }
    out
}

/// Each detector's throughput with `--threads N` relative to one thread,
/// one line each: `--threads 2 / 1 thread: exec-in-kube-system 1.84×`.
pub fn thread_speedups(results: &[Measurement]) -> String {
    let mut out = String::new();
    for m in results {
        let Some((threads, rule)) = m
            .name
            .strip_prefix("kqlc detector --threads ")
            .and_then(|rest| rest.split_once(": "))
        else {
            continue;
        };
        let one = results
            .iter()
            .find(|o| o.name == format!("kqlc detector: {rule}"));
        if let Some(one) = one {
            out.push_str(&format!(
                "--threads {threads} / 1 thread: {rule} {:.2}× the throughput\n",
                one.seconds / m.seconds
            ));
        }
    }
    out
}

/// True when every tool that should report a count reported the expected one.
pub fn counts_agree(results: &[Measurement]) -> bool {
    results.iter().all(|m| match (m.count, m.expected) {
        (Some(c), Some(e)) => c == e,
        (None, Some(_)) => false,
        _ => true,
    })
}
