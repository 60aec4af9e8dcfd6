//! `kqlc bench --suite hunting`: full-scan queries, where no literal
//! prefilter helps, against the engines a hunter would otherwise use.
//!
//! Each query of [`queries`] is built into its own detector (`kqlc build`,
//! release profile) and timed with one thread and with `--threads N`, then
//! run by each peer (DuckDB, chdb for ClickHouse, polars; `peers.py`
//! beside this file holds their SQL and expressions) with N threads. Every
//! tool's result rows are written canonically (values as text, tab
//! separated, null as "", sorted) to `DIR/hunting/QUERY.TOOL.tsv` and
//! compared by SHA-256 with kqlc's one-thread rows: the suite fails when
//! any tool disagrees or fails. A peer the Python interpreter cannot import
//! is reported as not installed. The interpreter is
//! `target/bench-peers/bin/python` when present (made by
//! `kqlc/cli/bench/install-peers.sh`), else `python3`.
//!
//! kqlc's own results are also checked against each other
//! ([`cross_checks`]: the group-by's total is the number of events, the time
//! buckets' totals per source are the group-by's, and so on), so the suite
//! means something without peers too. Beside the queries it times `cat` and
//! the per-row cost of a selective reference rule with `--no-prefilter`.

use super::{peers_python, run_timed, write_sample, BenchOptions, NOW};
use crate::build::{Profile, Rule, Toolchain};
use kqlc::sema::Schema;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The peers' queries, run by the interpreter (see the module docs).
const PEERS_PY: &str = include_str!("peers.py");

/// The peers this suite knows, as `--peers` names them.
pub const PEERS: [&str; 3] = ["duckdb", "chdb", "polars"];

/// The reference rule whose per-row cost is measured with `--no-prefilter`.
const PER_ROW_RULE: &str = "exec-in-kube-system";

/// How many names the allow-list of the anti-join holds.
pub const ALLOW_LIST_LEN: usize = 10_000;

/// The prefix of the string-predicate query.
pub const SERVICE_ACCOUNT: &str = "system:serviceaccount:";

/// One hunting query: its KQL and the columns of its result, in the order
/// the canonical rows list them (the peers return the same order).
#[derive(Clone, Debug)]
pub struct HuntingQuery {
    /// Short name, also the detector's and the result files' name.
    pub name: &'static str,
    /// What it does, for the table.
    pub summary: &'static str,
    /// The query.
    pub kql: String,
    /// Result columns, in canonical order.
    pub columns: &'static [&'static str],
}

/// The allow-list of the anti-join: the usual kube-system controllers and
/// schedulers, padded with synthetic service identities to
/// [`ALLOW_LIST_LEN`] names.
pub fn allow_list() -> Vec<String> {
    let known = [
        "acsService",
        "system:apiserver",
        "system:kube-controller-manager",
        "system:kube-scheduler",
    ];
    let controllers = [
        "ama-logs",
        "cloud-node-manager",
        "coredns",
        "daemon-set-controller",
        "deployment-controller",
        "endpointslice-controller",
        "generic-garbage-collector",
        "job-controller",
        "metrics-server",
        "replicaset-controller",
    ];
    let mut names: Vec<String> = known.iter().map(|n| n.to_string()).collect();
    names.extend(
        controllers
            .iter()
            .map(|c| format!("{SERVICE_ACCOUNT}kube-system:{c}")),
    );
    let padding = ALLOW_LIST_LEN - names.len();
    names.extend((0..padding).map(|i| format!("svc-{i:05}@example.com")));
    names
}

/// The suite's queries, over `CloudAuditEvents`; `allow` is the anti-join's
/// list, written into the query as a constant `!in` list (a static set).
pub fn queries(allow: &[String]) -> Vec<HuntingQuery> {
    let user = "tostring(RawEventData.User.username)";
    let allowed = allow
        .iter()
        .map(|name| format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        HuntingQuery {
            name: "group-by",
            summary: "`summarize n = count() by DataSource, OperationName`",
            kql: "CloudAuditEvents\n| summarize n = count() by DataSource, OperationName\n".into(),
            columns: &["DataSource", "OperationName", "n"],
        },
        HuntingQuery {
            name: "nested-dcount",
            summary: "`where DataSource == ...` then `count()`, `dcount(user)` by resource, OperationName",
            kql: format!(
                "CloudAuditEvents\n| where DataSource == \"Azure Kubernetes Service\"\n\
                 | summarize n = count(), users = dcount({user}) by resource = tostring(RawEventData.ObjectRef.resource), OperationName\n"
            ),
            columns: &["resource", "OperationName", "n", "users"],
        },
        HuntingQuery {
            name: "nested-startswith",
            summary: "`where user startswith \"system:serviceaccount:\"`, `count()` by user",
            kql: format!(
                "CloudAuditEvents\n| where {user} startswith \"{SERVICE_ACCOUNT}\"\n\
                 | summarize n = count() by user = {user}\n"
            ),
            columns: &["user", "n"],
        },
        HuntingQuery {
            name: "mv-expand",
            summary: "pod creates, `mv-expand` containers, `count()` by image",
            kql: "CloudAuditEvents\n\
                  | where OperationName == \"create\" and tostring(RawEventData.ObjectRef.resource) == \"pods\"\n\
                  | mv-expand container = RawEventData.RequestObject.spec.containers\n\
                  | extend image = tostring(container.image)\n\
                  | where isnotempty(image)\n\
                  | summarize n = count() by image\n"
                .into(),
            columns: &["image", "n"],
        },
        HuntingQuery {
            name: "time-buckets",
            summary: "`count()` by `bin(Timestamp, 1h)`, DataSource",
            kql: "CloudAuditEvents\n| summarize n = count() by hour = bin(Timestamp, 1h), DataSource\n"
                .into(),
            columns: &["hour", "DataSource", "n"],
        },
        HuntingQuery {
            name: "join",
            summary: "creates by user `join` deletes by user (two slices of the input)",
            kql: format!(
                "let Creates = CloudAuditEvents | where OperationName == \"create\" | summarize creates = count() by user = {user};\n\
                 let Deletes = CloudAuditEvents | where OperationName == \"delete\" | summarize deletes = count() by user = {user};\n\
                 Creates\n| join kind=inner Deletes on user\n"
            ),
            columns: &["user", "creates", "deletes"],
        },
        HuntingQuery {
            name: "allow-list",
            summary: "anti-join: `where user !in (10,000 names)`, `count()` by user",
            kql: format!(
                "CloudAuditEvents\n| extend user = {user}\n| where user !in ({allowed})\n| summarize n = count() by user\n"
            ),
            columns: &["user", "n"],
        },
    ]
}

/// What happened when one tool ran one query.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// It ran: fastest time, result rows, their checksum, peak RSS.
    Ran {
        seconds: f64,
        rows: usize,
        checksum: String,
        peak_kib: Option<u64>,
    },
    /// The peer's Python package is missing.
    NotInstalled(String),
    /// It failed (the reason).
    Failed(String),
}

/// One tool on one query.
#[derive(Clone, Debug)]
pub struct ToolRun {
    /// What ran, as the table names it (`kqlc --threads 2`, `DuckDB 2.0.0`).
    pub tool: String,
    /// Its name in the result files (`kqlc-threads-2`, `duckdb`).
    pub slug: String,
    /// How it went.
    pub outcome: Outcome,
}

/// Every tool on one query; the first run is kqlc with one thread.
#[derive(Clone, Debug)]
pub struct QueryRuns {
    /// The query.
    pub query: HuntingQuery,
    /// kqlc first, then kqlc with threads, then the peers in order.
    pub runs: Vec<ToolRun>,
}

/// A detector's time over the whole input with some flags.
#[derive(Clone, Debug)]
pub struct PerRowCost {
    /// The rule.
    pub rule: String,
    /// The flags (`default`, `--no-prefilter`).
    pub flags: String,
    /// Fastest wall-clock seconds.
    pub seconds: f64,
}

/// Everything the hunting suite measured.
#[derive(Clone, Debug)]
pub struct HuntingReport {
    /// Input size in bytes.
    pub bytes: u64,
    /// Input events (lines).
    pub events: u64,
    /// Threads given to `kqlc --threads` and to each peer.
    pub threads: usize,
    /// `cat FILE > /dev/null` seconds.
    pub cat_seconds: f64,
    /// Per query.
    pub queries: Vec<QueryRuns>,
    /// The reference rule with and without its prefilter.
    pub per_row: Vec<PerRowCost>,
    /// Failed consistency checks among kqlc's own results.
    pub cross_check_failures: Vec<String>,
    /// Where the canonical result rows are.
    pub rows_dir: PathBuf,
    /// `/proc/loadavg` before and after the measurements.
    pub load: (String, String),
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Canonical rows of a detector's JSON-lines output: the `columns` of
/// each row as text (strings as they are, numbers as JSON writes them,
/// null as ""), tab-separated, sorted.
pub fn canonical_rows(output: &str, columns: &[&str]) -> Result<Vec<String>, String> {
    let mut rows = Vec::new();
    for line in output.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("not a JSON row ({e}): {line}"))?;
        let mut fields = Vec::with_capacity(columns.len());
        for column in columns {
            let value = row
                .get(column)
                .ok_or_else(|| format!("no column {column} in {line}"))?;
            fields.push(match value {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        }
        rows.push(fields.join("\t"));
    }
    rows.sort();
    Ok(rows)
}

/// The SHA-256 of a canonical rows file's text, in hex (first 16 digits).
fn checksum(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

fn rows_text(rows: &[String]) -> String {
    rows.iter().map(|r| format!("{r}\n")).collect()
}

/// Runs the suite.
pub fn run(options: &BenchOptions) -> Result<HuntingReport, String> {
    let (input, stats) = write_sample(options)?;
    let rows_dir = options.dir.join("hunting");
    std::fs::create_dir_all(&rows_dir).map_err(|e| format!("{}: {e}", rows_dir.display()))?;
    let allow = allow_list();
    let allow_path = rows_dir.join("allow-list.txt");
    std::fs::write(&allow_path, rows_text(&allow))
        .map_err(|e| format!("{}: {e}", allow_path.display()))?;
    let peers_path = rows_dir.join("peers.py");
    std::fs::write(&peers_path, PEERS_PY).map_err(|e| format!("{}: {e}", peers_path.display()))?;
    let threads = options.threads.max(1);

    // Build everything first, so no build runs during a measurement.
    let toolchain = Toolchain::discover().map_err(|e| e.to_string())?;
    let schema = Schema::builtin();
    let build = |name: &str, kql: String, path: String| -> Result<PathBuf, String> {
        let pipeline =
            kqlc::compile(&kql, &schema).map_err(|d| format!("{name}: {}", d[0].message))?;
        let rule = Rule {
            name: name.to_string(),
            kql,
            path,
            pipeline,
        };
        eprintln!("building {name}");
        // KQLC_BENCH_PROFILE=quick: the smoke test checks results, not
        // speed, and quick builds take seconds instead of a minute.
        let profile = match std::env::var("KQLC_BENCH_PROFILE").as_deref() {
            Ok("quick") => Profile::Quick,
            _ => Profile::Release,
        };
        toolchain
            .build(&[rule], profile)
            .map_err(|e| format!("{name}: {e}"))
    };
    let queries = queries(&allow);
    let mut binaries = Vec::new();
    for query in &queries {
        binaries.push(build(
            query.name,
            query.kql.clone(),
            "kqlc bench --suite hunting".into(),
        )?);
    }
    let reference_path = options.rules.join(format!("{PER_ROW_RULE}.kql"));
    let reference_kql = std::fs::read_to_string(&reference_path)
        .map_err(|e| format!("{}: {e}", reference_path.display()))?;
    let reference = build(
        PER_ROW_RULE,
        reference_kql,
        reference_path.display().to_string(),
    )?;

    let load_before = load_average();
    let _ = Command::new("cat")
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .status();
    let mut cat = Command::new("sh");
    cat.arg("-c")
        .arg(format!("cat '{}' > /dev/null", input.display()));
    let cat_seconds = run_timed(&cat, options.repeat)?.seconds;

    let python = peers_python();
    let mut missing: BTreeMap<String, String> = BTreeMap::new();
    let mut all = Vec::new();
    for (query, binary) in queries.iter().zip(&binaries) {
        eprintln!("running {}", query.name);
        let mut runs = Vec::new();
        let mut thread_counts = vec![1];
        if threads > 1 {
            thread_counts.push(threads);
        }
        for n in thread_counts {
            let mut command = Command::new(binary);
            command.arg(&input).args(["--now", NOW]);
            let (tool, slug) = if n == 1 {
                ("kqlc 1 thread".to_string(), "kqlc".to_string())
            } else {
                command.arg("--threads").arg(n.to_string());
                (format!("kqlc --threads {n}"), format!("kqlc-threads-{n}"))
            };
            let timed = run_timed(&command, options.repeat)?;
            if !timed.success {
                return Err(format!(
                    "{tool} failed on {}: {}",
                    query.name,
                    timed.stderr.trim()
                ));
            }
            let rows = canonical_rows(&timed.stdout, query.columns)
                .map_err(|e| format!("{tool} on {}: {e}", query.name))?;
            let text = rows_text(&rows);
            let path = rows_dir.join(format!("{}.{slug}.tsv", query.name));
            std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            runs.push(ToolRun {
                tool,
                slug,
                outcome: Outcome::Ran {
                    seconds: timed.seconds,
                    rows: rows.len(),
                    checksum: checksum(&text),
                    peak_kib: timed.peak_kib,
                },
            });
        }
        for peer in options.peers.iter().filter(|p| p.as_str() != "none") {
            if let Some(why) = missing.get(peer) {
                runs.push(ToolRun {
                    tool: peer.clone(),
                    slug: peer.clone(),
                    outcome: Outcome::NotInstalled(why.clone()),
                });
                continue;
            }
            let out = rows_dir.join(format!("{}.{peer}.tsv", query.name));
            let _ = std::fs::remove_file(&out);
            let mut command = Command::new(&python);
            command
                .arg(&peers_path)
                .arg(peer)
                .arg(query.name)
                .arg(&input)
                .arg(&allow_path)
                .arg(options.repeat.max(1).to_string())
                .arg(threads.to_string())
                .arg(&out);
            let timed = match run_timed(&command, 1) {
                Ok(timed) => timed,
                Err(e) => {
                    missing.insert(peer.clone(), format!("no Python: {e}"));
                    runs.push(ToolRun {
                        tool: peer.clone(),
                        slug: peer.clone(),
                        outcome: Outcome::NotInstalled(format!("no Python: {e}")),
                    });
                    continue;
                }
            };
            let run = peer_outcome(peer, &timed, &out);
            if let Outcome::NotInstalled(why) = &run.outcome {
                missing.insert(peer.clone(), why.clone());
            }
            runs.push(run);
        }
        all.push(QueryRuns {
            query: query.clone(),
            runs,
        });
    }

    let mut per_row = Vec::new();
    for flags in [&[][..], &["--no-prefilter"][..]] {
        let mut command = Command::new(&reference);
        command.arg(&input).args(["--now", NOW]).args(flags);
        let timed = run_timed(&command, options.repeat)?;
        if !timed.success {
            return Err(format!("{PER_ROW_RULE} failed: {}", timed.stderr.trim()));
        }
        per_row.push(PerRowCost {
            rule: PER_ROW_RULE.into(),
            flags: if flags.is_empty() {
                "default".into()
            } else {
                flags.join(" ")
            },
            seconds: timed.seconds,
        });
    }
    let load_after = load_average();
    let cross_check_failures = cross_checks(&rows_dir, stats.rows, &allow)?;
    Ok(HuntingReport {
        bytes: stats.bytes,
        events: stats.rows,
        threads,
        cat_seconds,
        queries: all,
        per_row,
        cross_check_failures,
        rows_dir,
        load: (load_before, load_after),
    })
}

/// A peer's run, from its process's exit and the rows file it wrote.
fn peer_outcome(peer: &str, timed: &super::Timed, out: &Path) -> ToolRun {
    let failed = |why: String| ToolRun {
        tool: peer.to_string(),
        slug: peer.to_string(),
        outcome: Outcome::Failed(why),
    };
    if timed.code == Some(3) && timed.stderr.contains("not installed") {
        let why = timed
            .stderr
            .lines()
            .find(|l| l.contains("not installed"))
            .unwrap_or("not installed")
            .to_string();
        return ToolRun {
            tool: peer.to_string(),
            slug: peer.to_string(),
            outcome: Outcome::NotInstalled(why),
        };
    }
    if !timed.success {
        let tail: Vec<&str> = timed.stderr.trim().lines().rev().take(3).collect();
        return failed(tail.into_iter().rev().collect::<Vec<_>>().join(" / "));
    }
    let Some(report) = timed
        .stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    else {
        return failed(format!("no report in {:?}", timed.stdout));
    };
    let (Some(seconds), Some(version)) = (
        report.get("seconds").and_then(|s| s.as_f64()),
        report.get("version").and_then(|v| v.as_str()),
    ) else {
        return failed(format!("bad report {report}"));
    };
    let text = match std::fs::read_to_string(out) {
        Ok(text) => text,
        Err(e) => return failed(format!("{}: {e}", out.display())),
    };
    let name = match peer {
        "duckdb" => "DuckDB",
        "polars" => "polars",
        other => other,
    };
    ToolRun {
        tool: format!("{name} {version}"),
        slug: peer.to_string(),
        outcome: Outcome::Ran {
            seconds,
            rows: text.lines().count(),
            checksum: checksum(&text),
            peak_kib: timed.peak_kib,
        },
    }
}

/// Reads the canonical rows kqlc (one thread) gave for `query`, split into
/// fields.
pub fn read_rows(rows_dir: &Path, query: &str) -> Result<Vec<Vec<String>>, String> {
    let path = rows_dir.join(format!("{query}.kqlc.tsv"));
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect())
}

fn number(field: &str) -> u64 {
    field.parse().unwrap_or(u64::MAX)
}

/// Sums of the last column of `rows`, grouped by the columns `key` picks.
fn sums_by(rows: &[Vec<String>], key: impl Fn(&[String]) -> String) -> BTreeMap<String, u64> {
    let mut sums = BTreeMap::new();
    for row in rows {
        let n = row.last().map_or(u64::MAX, |n| number(n));
        *sums.entry(key(row)).or_insert(0u64) += n;
    }
    sums
}

/// What kqlc's results of different queries say about each other, on the
/// rows files in `rows_dir` (one thread): each failed check, described.
pub fn cross_checks(rows_dir: &Path, events: u64, allow: &[String]) -> Result<Vec<String>, String> {
    let group_by = read_rows(rows_dir, "group-by")?;
    let dcount = read_rows(rows_dir, "nested-dcount")?;
    let startswith = read_rows(rows_dir, "nested-startswith")?;
    let expand = read_rows(rows_dir, "mv-expand")?;
    let buckets = read_rows(rows_dir, "time-buckets")?;
    let join = read_rows(rows_dir, "join")?;
    let allowed = read_rows(rows_dir, "allow-list")?;
    let mut failures = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };
    let total = |rows: &[Vec<String>]| -> u64 { sums_by(rows, |_| String::new()).values().sum() };
    check(
        total(&group_by) == events,
        format!(
            "group-by counts {} events, the input has {events}",
            total(&group_by)
        ),
    );
    check(
        total(&buckets) == events,
        format!(
            "time-buckets count {} events, the input has {events}",
            total(&buckets)
        ),
    );
    let by_source = sums_by(&group_by, |r| r[0].clone());
    check(
        sums_by(&buckets, |r| r[1].clone()) == by_source,
        "time-buckets' totals per DataSource differ from group-by's".into(),
    );
    let aks = |r: &[String]| r[0] == "Azure Kubernetes Service";
    let aks_ops = sums_by(
        &group_by
            .iter()
            .filter(|r| aks(r))
            .cloned()
            .collect::<Vec<_>>(),
        |r| r[1].clone(),
    );
    let dcount_ops = sums_by(
        &dcount.iter().map(|r| r[..3].to_vec()).collect::<Vec<_>>(),
        |r| r[1].clone(),
    );
    check(
        dcount_ops == aks_ops,
        "nested-dcount's counts per OperationName differ from group-by's for AKS".into(),
    );
    check(
        dcount
            .iter()
            .all(|r| number(&r[3]) >= 1 && number(&r[3]) <= number(&r[2])),
        "nested-dcount has a dcount outside 1..=count".into(),
    );
    check(
        startswith
            .iter()
            .all(|r| r[0].to_lowercase().starts_with(SERVICE_ACCOUNT)),
        "nested-startswith has a user without the prefix".into(),
    );
    let allow_set: BTreeSet<&str> = allow.iter().map(String::as_str).collect();
    check(
        allowed.iter().all(|r| !allow_set.contains(r[0].as_str())),
        "allow-list kept a user on the list".into(),
    );
    // A service account off the list has the same count in both queries.
    let allowed_counts: BTreeMap<&str, &str> = allowed
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    for row in &startswith {
        let off_list = !allow_set.contains(row[0].as_str());
        if off_list && allowed_counts.get(row[0].as_str()) != Some(&row[1].as_str()) {
            check(
                false,
                format!(
                    "{}: {} in nested-startswith, {:?} in allow-list",
                    row[0],
                    row[1],
                    allowed_counts.get(row[0].as_str())
                ),
            );
        }
    }
    check(
        total(&allowed) <= events,
        "allow-list counts more events than the input has".into(),
    );
    check(
        expand.iter().all(|r| !r[0].is_empty()),
        "mv-expand has an empty image".into(),
    );
    let ops = sums_by(&group_by, |r| r[1].clone());
    let creates: u64 = join.iter().map(|r| number(&r[1])).sum();
    let deletes: u64 = join.iter().map(|r| number(&r[2])).sum();
    check(
        creates <= ops.get("create").copied().unwrap_or(0)
            && deletes <= ops.get("delete").copied().unwrap_or(0),
        "join counts more creates or deletes than group-by".into(),
    );
    Ok(failures)
}

/// Everything wrong with the run: tools that disagree with kqlc or failed,
/// and failed cross-checks.
pub fn problems(report: &HuntingReport) -> Vec<String> {
    let mut problems = report.cross_check_failures.clone();
    for query in &report.queries {
        let Some(Outcome::Ran {
            rows,
            checksum: sum,
            ..
        }) = query.runs.first().map(|r| &r.outcome)
        else {
            continue;
        };
        for run in &query.runs[1..] {
            match &run.outcome {
                Outcome::Ran {
                    rows: r,
                    checksum: c,
                    ..
                } if r != rows || c != sum => problems.push(format!(
                    "{}: {} gave {r} rows (checksum {c}), kqlc {rows} rows ({sum}); compare {}",
                    query.query.name,
                    run.tool,
                    report
                        .rows_dir
                        .join(format!("{}.{{kqlc,{}}}.tsv", query.query.name, run.slug))
                        .display()
                )),
                Outcome::Failed(why) => {
                    problems.push(format!("{}: {} failed: {why}", query.query.name, run.tool))
                }
                _ => {}
            }
        }
    }
    problems
}

fn seconds_of(run: &ToolRun) -> Option<f64> {
    match run.outcome {
        Outcome::Ran { seconds, .. } => Some(seconds),
        _ => None,
    }
}

/// The report as Markdown: a summary table (one row per query, one column
/// per tool: seconds and time ÷ kqlc's one-thread time), the detail table
/// (MB/s, ns per event, rows, checksum, peak RSS), the ratios and the
/// per-row cost of the reference rule.
pub fn report(report: &HuntingReport) -> String {
    let mut out = String::new();
    let mb = report.bytes as f64 / 1e6;
    let _ = writeln!(
        out,
        "Hunting suite: {} bytes, {} events; kqlc --threads {t} and every peer with {t} threads; \
         fastest of each tool's runs; time ÷ kqlc 1-thread time in brackets (above 1: kqlc faster).\n",
        report.bytes,
        report.events,
        t = report.threads
    );
    // Tool columns, in the order of the first query's runs.
    let tools: Vec<String> = report
        .queries
        .first()
        .map(|q| q.runs.iter().map(|r| r.tool.clone()).collect())
        .unwrap_or_default();
    let _ = writeln!(out, "| query | {} | results |", tools.join(" | "));
    let _ = writeln!(out, "|---|{}---|", "---|".repeat(tools.len()));
    for query in &report.queries {
        let base = query.runs.first().and_then(seconds_of);
        let cells: Vec<String> = query
            .runs
            .iter()
            .map(|run| match (&run.outcome, base) {
                (Outcome::Ran { seconds, .. }, Some(b)) => {
                    format!("{seconds:.3} s ({:.2}×)", seconds / b)
                }
                (Outcome::Ran { seconds, .. }, None) => format!("{seconds:.3} s"),
                (Outcome::NotInstalled(_), _) => "not installed".into(),
                (Outcome::Failed(_), _) => "failed".into(),
            })
            .collect();
        let ran: Vec<_> = query
            .runs
            .iter()
            .filter_map(|r| match &r.outcome {
                Outcome::Ran { rows, checksum, .. } => Some((rows, checksum)),
                _ => None,
            })
            .collect();
        let agree = ran.windows(2).all(|w| w[0] == w[1]);
        let results = match ran.first() {
            Some((rows, _)) if agree => format!("{rows} rows, {} agree ✓", ran.len()),
            Some(_) => "✗ differ".into(),
            None => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {}: {} | {} | {results} |",
            query.query.name,
            query.query.summary,
            cells.join(" | ")
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "| query | tool | seconds | × kqlc 1 thread | MB/s | ns/event | rows | checksum | peak RSS |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|");
    for query in &report.queries {
        let base = query.runs.first().and_then(seconds_of);
        for run in &query.runs {
            match &run.outcome {
                Outcome::Ran {
                    seconds,
                    rows,
                    checksum,
                    peak_kib,
                } => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | {seconds:.3} | {} | {:.0} | {:.0} | {rows} | {checksum} | {} |",
                        query.query.name,
                        run.tool,
                        base.map_or("-".into(), |b| format!("{:.2}", seconds / b)),
                        mb / seconds,
                        seconds * 1e9 / report.events.max(1) as f64,
                        peak_kib.map_or("-".into(), |k| format!("{:.1} MB", k as f64 / 1024.0)),
                    );
                }
                Outcome::NotInstalled(why) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | not installed: {why} | | | | | | |",
                        query.query.name, run.tool
                    );
                }
                Outcome::Failed(why) => {
                    let _ = writeln!(
                        out,
                        "| {} | {} | failed: {why} | | | | | | |",
                        query.query.name, run.tool
                    );
                }
            }
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "cat FILE > /dev/null: {:.3} s ({:.0} MB/s)",
        report.cat_seconds,
        mb / report.cat_seconds
    );
    for query in &report.queries {
        let base = query.runs.first().and_then(seconds_of);
        let threaded = query
            .runs
            .iter()
            .find(|r| r.slug.starts_with("kqlc-threads-"))
            .and_then(seconds_of);
        let fastest_peer = query
            .runs
            .iter()
            .filter(|r| !r.slug.starts_with("kqlc"))
            .filter_map(|r| seconds_of(r).map(|s| (s, r.tool.as_str())))
            .min_by(|a, b| a.0.total_cmp(&b.0));
        let mut line = format!("{}:", query.query.name);
        if let (Some(b), Some(t)) = (base, threaded) {
            let _ = write!(
                line,
                " --threads {} / 1 thread {:.2}× the throughput;",
                report.threads,
                b / t
            );
        }
        if let (Some(b), Some((s, tool))) = (base, fastest_peer) {
            let _ = write!(
                line,
                " fastest peer {tool} {s:.3} s, kqlc 1 thread is {:.2}× its speed",
                s / b
            );
        }
        let _ = writeln!(out, "{line}");
    }
    for cost in &report.per_row {
        let _ = writeln!(
            out,
            "per-row cost, {} ({}, 1 thread): {:.3} s, {:.0} ns/event, {:.0} MB/s",
            cost.rule,
            cost.flags,
            cost.seconds,
            cost.seconds * 1e9 / report.events.max(1) as f64,
            mb / cost.seconds
        );
    }
    let _ = writeln!(
        out,
        "load average (1, 5, 15 min) before: {}; after: {}",
        report.load.0, report.load.1
    );
    let _ = writeln!(
        out,
        "result rows: {}/QUERY.TOOL.tsv",
        report.rows_dir.display()
    );
    let _ = writeln!(
        out,
        "input: {} bytes, {} events",
        report.bytes, report.events
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_rows_pick_columns_in_order_and_sort() {
        let output = "{\"b\":2,\"a\":\"y\"}\n{\"a\":\"x\",\"b\":null}\n";
        assert_eq!(
            canonical_rows(output, &["a", "b"]).unwrap(),
            ["x\t", "y\t2"]
        );
        assert!(canonical_rows(output, &["c"]).is_err());
    }

    #[test]
    fn allow_list_has_ten_thousand_distinct_names() {
        let names = allow_list();
        assert_eq!(names.len(), ALLOW_LIST_LEN);
        assert_eq!(names.iter().collect::<BTreeSet<_>>().len(), ALLOW_LIST_LEN);
    }

    #[test]
    fn every_query_compiles() {
        let schema = Schema::builtin();
        for query in queries(&allow_list()) {
            if let Err(d) = kqlc::compile(&query.kql, &schema) {
                panic!("{}: {}", query.name, d[0].message);
            }
        }
    }
}
