//! Deterministic sample data for benchmarks and demos:
//! `kqlc sample (--bytes N | --events N) [--seed S] [--source aks|eks|gke|onprem|arm|mixed]
//! [--format cloudaudit|native] [-o FILE]`.
//!
//! Events look like the Kubernetes audit events of busy clusters: mostly
//! reads by kubelets, controllers and add-ons, lease renewals, events, a few
//! creates, deletes and execs by people; with `--source arm` or `mixed`,
//! also Azure Resource Manager operations. `--format cloudaudit` writes
//! `CloudAuditEvents` rows as Microsoft Defender exports them (see
//! `examples/data/audit.jsonl`); `--format native` writes each platform's
//! own export (AKS diagnostic records, EKS CloudWatch Logs payloads, GKE
//! Cloud Logging entries, upstream audit events for on-premises clusters,
//! Activity Log records), which a detector reads with `--input-format auto`.
//! For a seed and `--events N` both formats describe the same events.
//!
//! A small, chosen fraction of events is planted to match one of the three
//! reference detections in `examples/rules/`. The generator counts, for
//! every event it writes, the result rows each rule gives for it, both as
//! written and without its `DataSource == "Azure Kubernetes Service"`
//! condition (an exec into kube-system on EKS is the same attack), so a
//! benchmark can check that a detector found exactly what was planted.
//!
//! The same [`SampleOptions`] always give byte-identical output: the only
//! source of variety is a seeded SplitMix64 generator, and timestamps are
//! derived from [`SampleOptions::now`], never from the clock.
//!
//! The crate follows one event from choice to text: [`write_sample`] asks
//! the generator (`generator`) for rows; it picks a kind of event
//! (`events`), fills in its request (`requests`) from the fixed world of
//! clusters, identities, resources and workloads (`world`), and renders it
//! in the sample's format (`formats`: one module per platform's export,
//! as the detector's readers are split). `rng` holds the random numbers and
//! `write` the text helpers.

#![forbid(unsafe_code)]

mod events;
mod formats;
mod generator;
mod requests;
mod rng;
mod world;
mod write;

use std::io::{self, Write};

use chrono::{DateTime, Utc};

use generator::Generator;
use world::Platform;

/// The default share of rows planted to match a reference rule: 0.01 %.
pub const DEFAULT_MATCH_RATE_PER_MILLION: u32 = 100;

/// The reference rules, by file stem in `examples/rules/`, in the order of
/// [`SampleStats::matches_per_rule`].
pub const REFERENCE_RULES: [&str; 3] = [
    "privileged-pod",
    "exec-in-kube-system",
    "cluster-admin-binding",
];

/// Where the events of a sample come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Azure Kubernetes Service clusters.
    Aks,
    /// Amazon EKS clusters.
    Eks,
    /// Google Kubernetes Engine clusters.
    Gke,
    /// A self-managed (on-premises) cluster.
    OnPrem,
    /// Azure Resource Manager (Activity Log) operations only.
    Arm,
    /// All of the above: mostly AKS, some EKS, GKE and on-premises, and a
    /// few Resource Manager operations.
    Mixed,
}

impl Source {
    /// Every source, as named on the command line.
    pub const ALL: [Source; 6] = [
        Source::Aks,
        Source::Eks,
        Source::Gke,
        Source::OnPrem,
        Source::Arm,
        Source::Mixed,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Source::Aks => "aks",
            Source::Eks => "eks",
            Source::Gke => "gke",
            Source::OnPrem => "onprem",
            Source::Arm => "arm",
            Source::Mixed => "mixed",
        }
    }

    /// The source of a command-line name.
    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether clusters of `platform` are in the sample.
    fn has(self, platform: Platform) -> bool {
        match self {
            Source::Aks => platform == Platform::Aks,
            Source::Eks => platform == Platform::Eks,
            Source::Gke => platform == Platform::Gke,
            Source::OnPrem => platform == Platform::OnPrem,
            Source::Arm => false,
            Source::Mixed => true,
        }
    }

    /// Events per million that are Resource Manager operations.
    fn arm_per_million(self) -> u32 {
        match self {
            Source::Arm => 1_000_000,
            Source::Mixed => ARM_ROWS_PER_MILLION,
            _ => 0,
        }
    }
}

/// How a sample is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleFormat {
    /// `CloudAuditEvents` rows, as Defender exports them.
    CloudAudit,
    /// Each platform's own export format.
    Native,
}

impl SampleFormat {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            SampleFormat::CloudAudit => "cloudaudit",
            SampleFormat::Native => "native",
        }
    }

    /// The format of a command-line name.
    pub fn from_name(name: &str) -> Option<SampleFormat> {
        [SampleFormat::CloudAudit, SampleFormat::Native]
            .into_iter()
            .find(|f| f.name() == name)
    }
}

/// Options for a generated sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Write events until at least this many bytes are written (the last
    /// line is always complete, so the output may be up to one line longer).
    /// Ignored when [`SampleOptions::events`] is set.
    pub bytes: u64,
    /// Write exactly this many events (one line each) instead.
    pub events: Option<u64>,
    /// Where the events come from.
    pub source: Source,
    /// How they are written.
    pub format: SampleFormat,
    /// Seed of the pseudo-random generator: same seed, same bytes.
    pub seed: u64,
    /// The moment the sample is "taken": rows fall in the 24 hours before
    /// it (a few are days older). Run detectors with `--now` set to this to
    /// get exactly [`SampleStats::matches_per_rule`].
    pub now: DateTime<Utc>,
    /// How many rows in a million are planted to match a reference rule.
    pub match_rate_per_million: u32,
}

impl SampleOptions {
    /// Options with seed 0 and the default match rate.
    pub fn new(bytes: u64, now: DateTime<Utc>) -> Self {
        SampleOptions {
            bytes,
            events: None,
            source: Source::Mixed,
            format: SampleFormat::CloudAudit,
            seed: 0,
            now,
            match_rate_per_million: DEFAULT_MATCH_RATE_PER_MILLION,
        }
    }
}

/// How many events match one reference rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMatches {
    /// The rule's file stem, one of [`REFERENCE_RULES`].
    pub rule: &'static str,
    /// Input rows the rule's `where` clauses keep.
    pub rows: u64,
    /// Rows the rule outputs: differs from `rows` because the rule
    /// `mv-expand`s an array (privileged containers of a pod, subjects of a
    /// binding), giving one output row per element.
    pub output_rows: u64,
    /// Input rows kept by the rule without its `DataSource` condition (the
    /// same detection on every platform): the events planted for it.
    pub anywhere_rows: u64,
    /// Output rows of the rule without its `DataSource` condition.
    pub anywhere_output_rows: u64,
}

/// What [`write_sample`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleStats {
    /// Lines written: one event each.
    pub rows: u64,
    /// Bytes written, newlines included.
    pub bytes: u64,
    /// Planted matches, one entry per rule of [`REFERENCE_RULES`], in order.
    /// Exact for a detector whose `now` is within an hour of
    /// [`SampleOptions::now`]: planted rows are at most 23 hours old, and
    /// decoys that only the time filter rejects are over 25 hours old.
    pub matches_per_rule: [RuleMatches; 3],
}

/// Writes JSON lines of events until `options.events` are written, or at
/// least `options.bytes` bytes, and says how many rows each reference rule
/// should find in them.
pub fn write_sample(out: &mut impl Write, options: &SampleOptions) -> io::Result<SampleStats> {
    let mut generator = Generator::new(options);
    let mut stats = SampleStats {
        rows: 0,
        bytes: 0,
        matches_per_rule: REFERENCE_RULES.map(|rule| RuleMatches {
            rule,
            rows: 0,
            output_rows: 0,
            anywhere_rows: 0,
            anywhere_output_rows: 0,
        }),
    };
    let mut buffer = String::with_capacity(FLUSH_AT + 64 * 1024);
    loop {
        // How far through the sample: time advances with it.
        let (done, total) = match options.events {
            Some(events) if stats.rows < events => (stats.rows, events),
            None if stats.bytes < options.bytes => (stats.bytes, options.bytes),
            _ => break,
        };
        let before = buffer.len();
        let matches = generator.row(&mut buffer, done, total);
        stats.rows += 1;
        stats.bytes += (buffer.len() - before) as u64;
        for (counts, (written, anywhere)) in stats.matches_per_rule.iter_mut().zip(matches) {
            counts.rows += u64::from(written > 0);
            counts.output_rows += written;
            counts.anywhere_rows += u64::from(anywhere > 0);
            counts.anywhere_output_rows += anywhere;
        }
        if buffer.len() >= FLUSH_AT {
            out.write_all(buffer.as_bytes())?;
            buffer.clear();
        }
    }
    out.write_all(buffer.as_bytes())?;
    Ok(stats)
}

/// Output is handed to the writer in chunks of about this size, so an
/// unbuffered file costs one system call per megabyte.
const FLUSH_AT: usize = 1 << 20;

/// Timestamps are microseconds since the Unix epoch.
const MICROS_PER_SECOND: i64 = 1_000_000;
/// Microseconds in an hour.
const MICROS_PER_HOUR: i64 = 3_600 * MICROS_PER_SECOND;
/// Microseconds in a day.
const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// Share of rows (per million) dated 25 hours to 7 days back, so that
/// `ago(1d)` has something to drop.
const OLD_ROWS_PER_MILLION: u32 = 3_000;

/// Share of events (per million) of a mixed sample that are Resource
/// Manager operations.
const ARM_ROWS_PER_MILLION: u32 = 40_000;

/// Planted rows are at most this old, leaving an hour of slack for a
/// detector whose `now` is a little later than the generator's.
const PLANTED_MAX_AGE: i64 = 23 * MICROS_PER_HOUR;

/// A reference rule, as an index into [`REFERENCE_RULES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    PrivilegedPod = 0,
    ExecInKubeSystem = 1,
    ClusterAdminBinding = 2,
}

/// The rules, in the order planted rows cycle through them.
const RULES: [Rule; 3] = [
    Rule::PrivilegedPod,
    Rule::ExecInKubeSystem,
    Rule::ClusterAdminBinding,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::AKS;
    use serde_json::Value;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2024-05-28T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn generate(bytes: u64, seed: u64, match_rate_per_million: u32) -> (Vec<u8>, SampleStats) {
        let options = SampleOptions {
            bytes,
            seed,
            now: now(),
            match_rate_per_million,
            ..SampleOptions::new(bytes, now())
        };
        let mut out = Vec::new();
        let stats = write_sample(&mut out, &options).unwrap();
        (out, stats)
    }

    fn generate_events(
        events: u64,
        source: Source,
        format: SampleFormat,
        match_rate_per_million: u32,
    ) -> (Vec<u8>, SampleStats) {
        let mut options = SampleOptions::new(0, now());
        options.events = Some(events);
        options.source = source;
        options.format = format;
        options.seed = 21;
        options.match_rate_per_million = match_rate_per_million;
        let mut out = Vec::new();
        let stats = write_sample(&mut out, &options).unwrap();
        (out, stats)
    }

    fn rows(out: &[u8]) -> Vec<Value> {
        std::str::from_utf8(out)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    // -- the three reference rules, restated over parsed JSON ---------------
    //
    // Written from the `.kql` files and the semantics in
    // `tests/expected/README.md`, not from the generator, so that they check
    // it: `dynamic == "s"` and `startswith` use the value's string form (a
    // JSON `true` is "true", 201 is "201"), null compares false, string
    // `==` is case-sensitive, `startswith` is not, and `mv-expand` gives one
    // row per element, none for `[]`, one for null.

    fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
        path.iter()
            .fold(value, |v, key| v.get(key).unwrap_or(&Value::Null))
    }

    fn string_form(value: &Value) -> Option<String> {
        match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    }

    /// KQL `==` of a `dynamic` value and a string (also used by the table
    /// checks in `world`).
    pub(crate) fn equals(value: &Value, text: &str) -> bool {
        string_form(value).is_some_and(|s| s == text)
    }

    fn starts_with(value: &Value, prefix: &str) -> bool {
        string_form(value).is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase()))
    }

    fn within_a_day(row: &Value, now: DateTime<Utc>) -> bool {
        let time = DateTime::parse_from_rfc3339(row["Timestamp"].as_str().unwrap()).unwrap();
        time > now - chrono::Duration::days(1)
    }

    /// Elements `mv-expand` makes rows of.
    fn expand(value: &Value) -> Vec<Value> {
        match value {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        }
    }

    /// Output rows of `privileged-pod.kql` for one input row (`anywhere`:
    /// without its `DataSource` condition).
    pub(crate) fn privileged_pod(row: &Value, now: DateTime<Utc>, anywhere: bool) -> u64 {
        let raw = &row["RawEventData"];
        if !(within_a_day(row, now)
            && (anywhere || equals(&row["DataSource"], "Azure Kubernetes Service"))
            && equals(&row["OperationName"], "create")
            && equals(at(raw, &["ObjectRef", "resource"]), "pods")
            && at(raw, &["ObjectRef", "subresource"]).is_null()
            && starts_with(at(raw, &["ResponseStatus", "code"]), "20"))
        {
            return 0;
        }
        expand(at(raw, &["RequestObject", "spec", "containers"]))
            .iter()
            .filter(|container| equals(at(container, &["securityContext", "privileged"]), "true"))
            .count() as u64
    }

    /// Output rows of `exec-in-kube-system.kql` for one input row.
    pub(crate) fn exec_in_kube_system(row: &Value, now: DateTime<Utc>, anywhere: bool) -> u64 {
        let raw = &row["RawEventData"];
        let code_is_101 = at(raw, &["ResponseStatus", "code"]).as_f64() == Some(101.0);
        let pod = string_form(at(raw, &["ObjectRef", "name"]))
            .unwrap_or_default()
            .to_lowercase();
        let matches = within_a_day(row, now)
            && (anywhere || equals(&row["DataSource"], "Azure Kubernetes Service"))
            && equals(&row["OperationName"], "create")
            && equals(at(raw, &["ObjectRef", "resource"]), "pods")
            && code_is_101
            && equals(at(raw, &["ObjectRef", "namespace"]), "kube-system")
            && equals(at(raw, &["ObjectRef", "subresource"]), "exec")
            && !pod.starts_with("tunnelfront-")
            && !pod.starts_with("konnectivity-")
            && !pod.starts_with("aks-link");
        u64::from(matches)
    }

    /// Output rows of `cluster-admin-binding.kql` for one input row.
    pub(crate) fn cluster_admin_binding(row: &Value, now: DateTime<Utc>, _anywhere: bool) -> u64 {
        let raw = &row["RawEventData"];
        if !(within_a_day(row, now)
            && equals(&row["OperationName"], "create")
            && equals(at(raw, &["ObjectRef", "resource"]), "clusterrolebindings")
            && starts_with(at(raw, &["ResponseStatus", "code"]), "20")
            && equals(
                at(raw, &["RequestObject", "roleRef", "name"]),
                "cluster-admin",
            ))
        {
            return 0;
        }
        let taken_by = string_form(at(raw, &["User", "username"])).unwrap_or_default();
        if taken_by == "acsService" {
            return 0;
        }
        expand(at(raw, &["RequestObject", "subjects"])).len() as u64
    }

    /// A reference rule restated: output rows for one input row.
    type RuleCheck = fn(&Value, DateTime<Utc>, bool) -> u64;

    /// (rows, output rows) per rule over a whole sample.
    fn evaluate(rows: &[Value], now: DateTime<Utc>) -> [(u64, u64); 3] {
        evaluate_rules(rows, now, false)
    }

    /// The same, without the rules' `DataSource` condition.
    fn evaluate_anywhere(rows: &[Value], now: DateTime<Utc>) -> [(u64, u64); 3] {
        evaluate_rules(rows, now, true)
    }

    fn evaluate_rules(rows: &[Value], now: DateTime<Utc>, anywhere: bool) -> [(u64, u64); 3] {
        let rules: [RuleCheck; 3] = [privileged_pod, exec_in_kube_system, cluster_admin_binding];
        rules.map(|rule| {
            rows.iter().fold((0, 0), |(matched, output), row| {
                let n = rule(row, now, anywhere);
                (matched + u64::from(n > 0), output + n)
            })
        })
    }

    fn counted(stats: &SampleStats) -> [(u64, u64); 3] {
        stats.matches_per_rule.map(|m| (m.rows, m.output_rows))
    }

    fn counted_anywhere(stats: &SampleStats) -> [(u64, u64); 3] {
        stats
            .matches_per_rule
            .map(|m| (m.anywhere_rows, m.anywhere_output_rows))
    }

    // -- tests ---------------------------------------------------------------

    #[test]
    fn same_options_give_identical_bytes() {
        let (first, first_stats) = generate(500_000, 42, 20_000);
        let (second, second_stats) = generate(500_000, 42, 20_000);
        assert_eq!(first, second);
        assert_eq!(first_stats, second_stats);
    }

    #[test]
    fn different_seeds_give_different_bytes() {
        let (first, _) = generate(200_000, 1, DEFAULT_MATCH_RATE_PER_MILLION);
        let (second, _) = generate(200_000, 2, DEFAULT_MATCH_RATE_PER_MILLION);
        assert_ne!(first, second);
    }

    #[test]
    fn writes_whole_lines_until_the_byte_count_is_reached() {
        let (out, stats) = generate(100_000, 3, DEFAULT_MATCH_RATE_PER_MILLION);
        assert_eq!(stats.bytes, out.len() as u64);
        assert!(stats.bytes >= 100_000);
        assert!(out.ends_with(b"\n"));
        let lines = out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
        assert_eq!(stats.rows, lines as u64);
        // The last line is the one that crossed the target.
        let last_line_start = out[..out.len() - 1]
            .iter()
            .rposition(|&b| b == b'\n')
            .unwrap()
            + 1;
        assert!((last_line_start as u64) < 100_000);

        let (empty, stats) = generate(0, 3, DEFAULT_MATCH_RATE_PER_MILLION);
        assert!(empty.is_empty());
        assert_eq!(stats.rows, 0);
    }

    #[test]
    fn every_line_is_an_object_with_the_fifteen_columns() {
        const COLUMNS: [&str; 15] = [
            "Timestamp",
            "ReportId",
            "DataSource",
            "ActionType",
            "OperationName",
            "ResourceId",
            "AzureResourceId",
            "IPAddress",
            "IsAnonymousProxy",
            "CountryCode",
            "City",
            "Isp",
            "UserAgent",
            "RawEventData",
            "AdditionalFields",
        ];
        let (out, _) = generate(2_000_000, 5, 50_000);
        let rows = rows(&out);
        assert!(rows.len() > 1_000);
        // A mixed sample has a few Resource Manager operations.
        let resource_manager_rows = rows
            .iter()
            .filter(|r| r["DataSource"] == "Azure Resource Manager")
            .count();
        assert!(resource_manager_rows > 0 && resource_manager_rows < rows.len() / 10);
        for row in &rows {
            let object = row.as_object().unwrap();
            let keys: Vec<&str> = object.keys().map(String::as_str).collect();
            assert_eq!(keys.len(), 15, "{row}");
            for column in COLUMNS {
                assert!(object.contains_key(column), "{column} missing in {row}");
            }
            let raw = &row["RawEventData"];
            if row["DataSource"] == "Azure Resource Manager" {
                assert!(raw["operationName"].is_string(), "{row}");
                assert_eq!(raw["status"], raw["resultType"]);
                continue;
            }
            for key in [
                "Kind",
                "ApiVersion",
                "Level",
                "AuditId",
                "Stage",
                "RequestURI",
                "Verb",
                "User",
                "SourceIPs",
                "ObjectRef",
                "ResponseStatus",
                "RequestReceivedTimestamp",
                "StageTimestamp",
                "Annotations",
            ] {
                assert!(
                    raw.get(key).is_some(),
                    "RawEventData.{key} missing in {row}"
                );
            }
            assert_eq!(raw["Verb"], row["OperationName"]);
            let timestamp = row["Timestamp"].as_str().unwrap();
            // ISO 8601 with milliseconds: 2024-05-28T08:01:12.345Z
            assert_eq!(timestamp.len(), 24, "{timestamp}");
            assert!(
                DateTime::parse_from_rfc3339(timestamp).is_ok(),
                "{timestamp}"
            );
        }
    }

    #[test]
    fn timestamps_fall_in_the_day_before_now_and_a_few_before() {
        let (out, _) = generate(3_000_000, 6, DEFAULT_MATCH_RATE_PER_MILLION);
        let rows = rows(&out);
        let mut older = 0;
        for row in &rows {
            let time = DateTime::parse_from_rfc3339(row["Timestamp"].as_str().unwrap()).unwrap();
            assert!(time < now());
            assert!(time > now() - chrono::Duration::days(7));
            if time < now() - chrono::Duration::hours(25) {
                older += 1;
            }
        }
        // About 0.3 % of rows are older than a day, on purpose.
        assert!(
            older > 0 && older < rows.len() / 50,
            "{older} of {}",
            rows.len()
        );
        let first = DateTime::parse_from_rfc3339(rows[0]["Timestamp"].as_str().unwrap()).unwrap();
        let last =
            DateTime::parse_from_rfc3339(rows[rows.len() - 1]["Timestamp"].as_str().unwrap())
                .unwrap();
        assert!(first < now() - chrono::Duration::hours(23));
        assert!(last > now() - chrono::Duration::minutes(1));
    }

    #[test]
    fn average_line_is_between_1_2_and_2_kilobytes() {
        let (_, stats) = generate(5_000_000, 7, DEFAULT_MATCH_RATE_PER_MILLION);
        let average = stats.bytes / stats.rows;
        assert!(
            (1_200..=2_000).contains(&average),
            "average line {average} bytes"
        );
    }

    #[test]
    fn planted_matches_are_counted_exactly() {
        // A fifth of all rows planted: a few hundred per rule.
        let (out, stats) = generate(8_000_000, 8, 200_000);
        let rows = rows(&out);
        let found = evaluate(&rows, now());
        assert_eq!(found, counted(&stats));
        assert_eq!(evaluate_anywhere(&rows, now()), counted_anywhere(&stats));
        for (rows, output_rows) in found {
            assert!(rows > 100, "too few planted rows: {found:?}");
            assert!(output_rows >= rows);
        }
        // Both array forms occur: one pod with two privileged containers, one
        // binding with two subjects.
        assert!(
            found[0].1 > found[0].0 && found[2].1 > found[2].0,
            "{found:?}"
        );
        // A detector started up to an hour later finds the same.
        let later = now() + chrono::Duration::minutes(59);
        assert_eq!(evaluate(&rows, later), found);
    }

    #[test]
    fn background_rows_never_match() {
        for seed in 0..3 {
            let (out, stats) = generate(4_000_000, seed, 0);
            assert_eq!(counted(&stats), [(0, 0); 3]);
            let rows = rows(&out);
            assert_eq!(evaluate(&rows, now()), [(0, 0); 3], "seed {seed}");
            // Without the DataSource condition some background events of
            // other platforms match (privileged add-on pods on EKS); they
            // are counted as such.
            assert_eq!(evaluate_anywhere(&rows, now()), counted_anywhere(&stats));
        }
    }

    #[test]
    fn near_misses_of_every_rule_are_present() {
        // The background is only a fair test if it contains rows that fail
        // just one clause of each rule.
        let (out, _) = generate(20_000_000, 9, 0);
        let rows = rows(&out);
        let count = |pred: &dyn Fn(&Value) -> bool| rows.iter().filter(|r| pred(r)).count();
        let raw = |r: &Value, path: &[&str]| at(&r["RawEventData"], path).clone();
        let kube_system_exec = |r: &Value| {
            equals(&raw(r, &["ObjectRef", "namespace"]), "kube-system")
                && equals(&raw(r, &["ObjectRef", "subresource"]), "exec")
        };
        // Exec into AKS's tunnel pods, and exec by GET (kubectl 1.30+).
        assert!(
            count(&|r| kube_system_exec(r)
                && raw(r, &["ResponseStatus", "code"]) == 101
                && equals(&r["OperationName"], "create")
                && equals(&r["DataSource"], AKS))
                > 0
        );
        assert!(count(&|r| kube_system_exec(r) && equals(&r["OperationName"], "get")) > 0);
        // Cluster-admin bindings made by AKS itself.
        assert!(
            count(&|r| equals(
                &raw(r, &["RequestObject", "roleRef", "name"]),
                "cluster-admin"
            ) && equals(&raw(r, &["User", "username"]), "acsService"))
                > 0
        );
        // Privileged pods created outside AKS.
        assert!(
            count(&|r| equals(&raw(r, &["RequestObject", "kind"]), "Pod")
                && !equals(&r["DataSource"], AKS)
                && r.to_string().contains("\"privileged\":true"))
                > 0
        );
    }

    #[test]
    fn events_gives_exactly_that_many_lines() {
        for format in [SampleFormat::CloudAudit, SampleFormat::Native] {
            let (out, stats) = generate_events(1_234, Source::Mixed, format, 1_000);
            assert_eq!(stats.rows, 1_234);
            assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 1_234);
            assert_eq!(stats.bytes, out.len() as u64);
        }
    }

    #[test]
    fn both_formats_describe_the_same_events_and_plants() {
        for source in Source::ALL {
            let (cloud, cloud_stats) =
                generate_events(3_000, source, SampleFormat::CloudAudit, 30_000);
            let (native, native_stats) =
                generate_events(3_000, source, SampleFormat::Native, 30_000);
            assert_eq!(
                cloud_stats.matches_per_rule,
                native_stats.matches_per_rule,
                "{}",
                source.name()
            );
            let cloud_rows = rows(&cloud);
            assert_eq!(evaluate(&cloud_rows, now()), counted(&cloud_stats));
            assert_eq!(
                evaluate_anywhere(&cloud_rows, now()),
                counted_anywhere(&cloud_stats)
            );
            // Same audit IDs, line by line.
            for (row, line) in cloud_rows.iter().zip(rows(&native)) {
                let id = row["RawEventData"]["AuditId"]
                    .as_str()
                    .or(row["RawEventData"]["correlationId"].as_str())
                    .unwrap();
                assert!(
                    line.to_string().contains(id),
                    "{} {row} {line}",
                    source.name()
                );
            }
            let (again, _) = generate_events(3_000, source, SampleFormat::Native, 30_000);
            assert_eq!(native, again, "deterministic");
        }
    }

    #[test]
    fn native_lines_have_each_platforms_export_shape() {
        let first_key = |source: Source| {
            let (out, _) = generate_events(200, source, SampleFormat::Native, 0);
            let rows = rows(&out);
            let keys: std::collections::BTreeSet<String> = rows
                .iter()
                .map(|r| {
                    let object = r.as_object().unwrap();
                    [
                        "kind",
                        "category",
                        "messageType",
                        "protoPayload",
                        "operationName",
                    ]
                    .into_iter()
                    .find(|k| object.contains_key(*k))
                    .unwrap_or("?")
                    .to_string()
                })
                .collect();
            keys.into_iter().collect::<Vec<_>>()
        };
        assert_eq!(first_key(Source::Aks), ["category"]);
        assert_eq!(first_key(Source::Eks), ["messageType"]);
        assert_eq!(first_key(Source::Gke), ["protoPayload"]);
        assert_eq!(first_key(Source::OnPrem), ["kind"]);
        assert_eq!(first_key(Source::Arm), ["category"]);
        let (out, _) = generate_events(500, Source::Aks, SampleFormat::Native, 0);
        for row in rows(&out) {
            let log = row["properties"]["log"].as_str().unwrap();
            let event: Value = serde_json::from_str(log).unwrap();
            assert_eq!(event["kind"], "Event");
        }
    }

    #[test]
    fn sources_keep_to_their_platforms() {
        for (source, data_source) in [
            (Source::Aks, "Azure Kubernetes Service"),
            (Source::Eks, "Amazon Elastic Kubernetes Service"),
            (Source::Gke, "Google Kubernetes Engine"),
            (Source::OnPrem, "Kubernetes Audit"),
            (Source::Arm, "Azure Resource Manager"),
        ] {
            let (out, _) = generate_events(2_000, source, SampleFormat::CloudAudit, 20_000);
            for row in rows(&out) {
                assert_eq!(row["DataSource"], data_source, "{}", source.name());
            }
        }
        assert_eq!(Source::from_name("onprem"), Some(Source::OnPrem));
        assert_eq!(
            SampleFormat::from_name("native"),
            Some(SampleFormat::Native)
        );
    }
}
