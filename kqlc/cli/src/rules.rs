//! Rule packs: the files and folders `kqlc check`, `build` and `test` take.
//!
//! A rule is either
//! - a `.kql` file: the whole file is the query; leading `//` lines of the
//!   form `// @key value` carry its metadata (see `docs/rules.md`), or
//! - a Microsoft Sentinel / Defender rule in YAML (`.yaml`, `.yml`): the
//!   `query` field holds the KQL; `id`, `name`, `severity`, `tactics`,
//!   `relevantTechniques` and `description` are its metadata; every other
//!   field is ignored, with a note, or
//! - a Sigma rule (`.yml`, `.yaml` with `logsource` and `detection`),
//!   translated to KQL by [`crate::sigma`].
//!
//! A folder stands for every rule file under it, recursively, in path order
//! (hidden folders and `*.tests` fixture folders are skipped). A rule
//! without an id takes its file stem; two rules with one id are an error
//! naming both files. Loading reports every error of a pack at once.

use serde_norway::Value as Yaml;
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};

/// What a rule says about itself, beyond its query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuleMeta {
    /// A stable identifier (Sentinel uses GUIDs); defaults to the file stem.
    pub id: String,
    /// A human-readable name; defaults to the id.
    pub name: String,
    /// `Informational`, `Low`, `Medium` or `High` by convention; kept as
    /// written.
    pub severity: Option<String>,
    /// MITRE ATT&CK tactics, e.g. `PrivilegeEscalation`.
    pub tactics: Vec<String>,
    /// MITRE ATT&CK techniques, e.g. `T1611`.
    pub techniques: Vec<String>,
    /// What the rule detects.
    pub description: Option<String>,
    /// Known false positives (Sigma's `falsepositives`).
    pub falsepositives: Vec<String>,
    /// How a live detector schedules the rule, as the rule says.
    pub schedule: ScheduleMeta,
    /// Output columns whose values key the rule's published alerts
    /// (`@partition-key`; Sentinel YAML `partitionKey`, a kqlc field):
    /// `--publish` puts them in the subject's last token, `--publish-kafka`
    /// picks the partition from them, so one entity's alerts stay in order.
    pub partition_key: Vec<String>,
}

/// What a rule says about its schedule in a live detector (`@frequency`,
/// `@period`, `@trigger`, `@suppress`; Sentinel's `queryFrequency`,
/// `queryPeriod`, `triggerOperator`/`triggerThreshold`,
/// `suppressionDuration`). Durations in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleMeta {
    /// How often it runs.
    pub frequency: Option<u64>,
    /// Over the events of how long before each run.
    pub period: Option<u64>,
    /// When a run's rows make an alert: the operator and the threshold.
    pub trigger: Option<(TriggerOp, u64)>,
    /// After an alert, how long the rule stays quiet.
    pub suppress: Option<u64>,
}

/// Sentinel's `triggerOperator`: how a run's row count is compared with
/// the threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerOp {
    /// More rows than the threshold (`gt`, Sentinel's default with 0).
    Gt,
    /// Fewer rows.
    Lt,
    /// Exactly as many.
    Eq,
    /// Any other number.
    Ne,
}

impl TriggerOp {
    /// `gt`, `lt`, `eq`, `ne` (or the ARM template names `GreaterThan`,
    /// `LessThan`, `Equal`, `NotEqual`), any case.
    pub fn parse(text: &str) -> Option<TriggerOp> {
        match text.trim().to_ascii_lowercase().as_str() {
            "gt" | "greaterthan" => Some(TriggerOp::Gt),
            "lt" | "lessthan" => Some(TriggerOp::Lt),
            "eq" | "equal" => Some(TriggerOp::Eq),
            "ne" | "notequal" => Some(TriggerOp::Ne),
            _ => None,
        }
    }

    /// The short name: `gt`, `lt`, `eq`, `ne`.
    pub fn name(self) -> &'static str {
        match self {
            TriggerOp::Gt => "gt",
            TriggerOp::Lt => "lt",
            TriggerOp::Eq => "eq",
            TriggerOp::Ne => "ne",
        }
    }
}

/// A schedule duration in whole seconds, at least one: a KQL timespan
/// literal's form (`30s`, `5m`, `1h`, `14d`) or ISO 8601 (`PT5M`, `PT1H`,
/// `P1D`, `P1DT12H`), as Sentinel's YAML and ARM templates write them.
pub fn parse_schedule_duration(text: &str) -> Option<u64> {
    let text = text.trim();
    let seconds = if let Some(iso) = text.strip_prefix('P').or_else(|| text.strip_prefix('p')) {
        let mut total: u64 = 0;
        let mut number = String::new();
        let mut in_time = false;
        let mut any = false;
        for c in iso.chars() {
            match c.to_ascii_uppercase() {
                'T' if number.is_empty() && !in_time => in_time = true,
                d if d.is_ascii_digit() => number.push(d),
                unit => {
                    let n: u64 = number.parse().ok()?;
                    number.clear();
                    let scale = match (unit, in_time) {
                        ('W', false) => 7 * 86_400,
                        ('D', false) => 86_400,
                        ('H', true) => 3_600,
                        ('M', true) => 60,
                        ('S', true) => 1,
                        _ => return None,
                    };
                    total = total.checked_add(n.checked_mul(scale)?)?;
                    any = true;
                }
            }
        }
        if !number.is_empty() || !any {
            return None;
        }
        total
    } else {
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let n: u64 = number.parse().ok()?;
        let scale = match unit.trim() {
            "s" | "sec" | "second" | "seconds" => 1,
            "m" | "min" | "minute" | "minutes" => 60,
            "h" | "hr" | "hour" | "hours" => 3_600,
            "d" | "day" | "days" => 86_400,
            _ => return None,
        };
        n.checked_mul(scale)?
    };
    (seconds > 0).then_some(seconds)
}

/// The schedule a live detector gives a rule, worked out from what the
/// rule says and its query ([`ScheduleMeta::resolve`]).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Schedule {
    /// Seconds between runs.
    pub frequency: u64,
    /// Seconds of events each run reads, back from its tick.
    pub period: u64,
    /// `gt`, `lt`, `eq` or `ne`.
    pub trigger_operator: &'static str,
    /// The row count a run's rows are compared with.
    pub trigger_threshold: u64,
    /// Seconds without alerts after an alert (0: none).
    pub suppression: u64,
}

impl ScheduleMeta {
    /// True when the rule says anything about its schedule.
    pub fn is_given(&self) -> bool {
        *self != ScheduleMeta::default()
    }

    /// The schedule of a rule whose query is `pipeline`, and a note when
    /// something the rule says is not used. `None` for a stateless rule
    /// (it runs per event), and for a stateful one that gives no
    /// frequency, no period and no `where Timestamp > ago(T)` bound (a
    /// live detector refuses to run it; batch mode runs it as always).
    /// One of frequency and period stands for both; a bound alone gives
    /// both.
    pub fn resolve(
        &self,
        pipeline: &kqlc::plan::ir::Pipeline,
    ) -> (Option<Schedule>, Option<String>) {
        if !kqlc::plan::schedule::is_stateful(pipeline) {
            let note = self.is_given().then(|| {
                "the rule keeps no state: in a live detector it runs on each event as it arrives, so its schedule (frequency, period, trigger, suppression) is not used".to_string()
            });
            return (None, note);
        }
        let bound = kqlc::plan::schedule::ago_bound(pipeline)
            .map(|ticks| (ticks / 10_000_000).max(1) as u64);
        let (frequency, period) = match (self.frequency, self.period, bound) {
            (Some(f), Some(p), _) => (f, p),
            (Some(f), None, _) => (f, f),
            (None, Some(p), _) => (p, p),
            (None, None, Some(b)) => (b, b),
            (None, None, None) => return (None, None),
        };
        let (op, threshold) = self.trigger.unwrap_or((TriggerOp::Gt, 0));
        let note = (period < frequency).then(|| {
            format!("the period ({period}s) is shorter than the frequency ({frequency}s): events between the runs' periods are never read")
        });
        (
            Some(Schedule {
                frequency,
                period,
                trigger_operator: op.name(),
                trigger_threshold: threshold,
                suppression: self.suppress.unwrap_or(0),
            }),
            note,
        )
    }
}

/// The form a rule was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleFormat {
    /// A `.kql` file, metadata in leading `// @key value` lines.
    Kql,
    /// A Sentinel / Defender YAML rule.
    SentinelYaml,
    /// A Sigma rule, translated to KQL (`crate::sigma`).
    Sigma,
}

/// One rule read from disk.
#[derive(Clone, Debug)]
pub struct RuleFile {
    /// The file, as named on the command line or found in a folder.
    pub path: PathBuf,
    /// The form it was written in.
    pub format: RuleFormat,
    /// The file's full text: what [`RuleFile::sha256`] hashes and what a
    /// detector's `--rules` prints.
    pub source: String,
    /// The KQL query (for a `.kql` file, the whole file).
    pub kql: String,
    /// Its metadata, defaults filled in.
    pub meta: RuleMeta,
    /// Hex SHA-256 of [`RuleFile::source`], the same as `sha256sum FILE`.
    pub sha256: String,
}

impl RuleFile {
    /// The name diagnostics about the query show: the path, plus `(query)`
    /// for YAML, whose query does not start at the file's first line.
    pub fn query_origin(&self) -> String {
        match self.format {
            RuleFormat::Kql => self.path.display().to_string(),
            RuleFormat::SentinelYaml => format!("{} (query)", self.path.display()),
            RuleFormat::Sigma => format!("{} (translated from Sigma)", self.path.display()),
        }
    }

    /// The file's name without its folder, as manifests record it.
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The rules of a pack, and notes about what was ignored.
#[derive(Clone, Debug, Default)]
pub struct RulePack {
    /// The rules, in the order named (folders in path order).
    pub rules: Vec<RuleFile>,
    /// Things worth saying that are not errors, each starting with a file
    /// name (`rule.yaml: ignored fields: ...`).
    pub notes: Vec<String>,
}

/// Why a rule could not be loaded.
#[derive(Debug)]
pub enum RuleError {
    /// A file or folder could not be read.
    Io(PathBuf, std::io::Error),
    /// A file is not UTF-8; the offset of the first bad byte.
    NotUtf8(PathBuf, usize),
    /// A folder holds no rule files.
    EmptyFolder(PathBuf),
    /// YAML that does not parse.
    Yaml {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A YAML rule without a `query` field.
    MissingQuery(PathBuf),
    /// A field or header key with a value of the wrong shape.
    BadField {
        /// The file.
        path: PathBuf,
        /// The field (`query`, `tactics`, `@severity`, ...).
        field: String,
        /// What it should be.
        expected: String,
    },
    /// A malformed `// @key` header line in a `.kql` file.
    BadHeader {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A Sigma rule that cannot be read or translated.
    Sigma(crate::sigma::SigmaError),
    /// Two rules with one id.
    DuplicateId {
        /// The id.
        id: String,
        /// The file that had it first.
        first: PathBuf,
        /// The file that had it again.
        second: PathBuf,
    },
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            RuleError::NotUtf8(path, at) => {
                write!(f, "{}: not UTF-8 text (byte {at})", path.display())
            }
            RuleError::EmptyFolder(path) => write!(
                f,
                "{}: no rule files (.kql, .yaml, .yml) in this folder",
                path.display()
            ),
            RuleError::Yaml { path, message } => {
                write!(f, "{}: not valid YAML: {message}", path.display())
            }
            RuleError::MissingQuery(path) => write!(
                f,
                "{}: no 'query' field (a YAML rule keeps its KQL there)",
                path.display()
            ),
            RuleError::BadField {
                path,
                field,
                expected,
            } => write!(f, "{}: '{field}' must be {expected}", path.display()),
            RuleError::BadHeader {
                path,
                line,
                message,
            } => write!(f, "{}:{line}: {message}", path.display()),
            RuleError::Sigma(e) => write!(f, "{e}"),
            RuleError::DuplicateId { id, first, second } => write!(
                f,
                "two rules have the id '{id}': {} and {}",
                first.display(),
                second.display()
            ),
        }
    }
}

impl std::error::Error for RuleError {}

/// The file extensions a folder is searched for.
const RULE_EXTENSIONS: [&str; 3] = ["kql", "yaml", "yml"];

/// The fields of a Sentinel rule kept as metadata or query; the others are
/// ignored with a note.
const YAML_FIELDS: [&str; 14] = [
    "id",
    "name",
    "severity",
    "tactics",
    "relevantTechniques",
    "description",
    "query",
    "queryFrequency",
    "queryPeriod",
    "triggerOperator",
    "triggerThreshold",
    "suppressionDuration",
    "suppressionEnabled",
    "partitionKey",
];

/// Severities Sentinel and Defender use; others are kept, with a note.
const SEVERITIES: [&str; 4] = ["Informational", "Low", "Medium", "High"];

/// Loads every rule named by `paths` (files, or folders searched
/// recursively). All errors are returned together.
pub fn load(paths: &[PathBuf]) -> Result<RulePack, Vec<RuleError>> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = files.len();
            if let Err(e) = find_rule_files(path, &mut files) {
                errors.push(e);
                continue;
            }
            files[before..].sort();
            if files.len() == before {
                errors.push(RuleError::EmptyFolder(path.clone()));
            }
        } else {
            files.push(path.clone());
        }
    }
    let mut pack = RulePack::default();
    for path in files {
        match load_file(&path, &mut pack.notes) {
            Ok(rule) => pack.rules.push(rule),
            Err(e) => errors.push(e),
        }
    }
    for (i, rule) in pack.rules.iter().enumerate() {
        if let Some(first) = pack.rules[..i].iter().find(|r| r.meta.id == rule.meta.id) {
            errors.push(RuleError::DuplicateId {
                id: rule.meta.id.clone(),
                first: first.path.clone(),
                second: rule.path.clone(),
            });
        }
    }
    if errors.is_empty() {
        Ok(pack)
    } else {
        Err(errors)
    }
}

/// Appends the rule files under `dir` (unsorted).
fn find_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), RuleError> {
    let entries = std::fs::read_dir(dir).map_err(|e| RuleError::Io(dir.to_path_buf(), e))?;
    for entry in entries {
        let path = entry
            .map_err(|e| RuleError::Io(dir.to_path_buf(), e))?
            .path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.') && !name.ends_with(".tests") {
                find_rule_files(&path, out)?;
            }
        } else if path
            .extension()
            .is_some_and(|x| RULE_EXTENSIONS.iter().any(|e| x == *e))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether `path` names a YAML rule (by extension; anything else is KQL).
fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"))
}

/// Reads one rule file.
pub fn load_file(path: &Path, notes: &mut Vec<String>) -> Result<RuleFile, RuleError> {
    let bytes = std::fs::read(path).map_err(|e| RuleError::Io(path.to_path_buf(), e))?;
    let source = String::from_utf8(bytes)
        .map_err(|e| RuleError::NotUtf8(path.to_path_buf(), e.utf8_error().valid_up_to()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "rule".to_string());
    let (format, kql, mut meta) = if is_yaml(path) && crate::sigma::is_sigma(&source) {
        let (kql, meta) =
            crate::sigma::translate_file(path, &source, notes).map_err(RuleError::Sigma)?;
        (RuleFormat::Sigma, kql, meta)
    } else if is_yaml(path) {
        let (kql, meta) = parse_sentinel_yaml(path, &source, notes)?;
        (RuleFormat::SentinelYaml, kql, meta)
    } else {
        let meta = parse_kql_header(path, &source, notes)?;
        (RuleFormat::Kql, source.clone(), meta)
    };
    if meta.id.is_empty() {
        meta.id = stem;
    }
    if meta.name.is_empty() {
        meta.name = meta.id.clone();
    }
    if let Some(severity) = &meta.severity {
        if !SEVERITIES.iter().any(|s| s.eq_ignore_ascii_case(severity)) {
            notes.push(format!(
                "{}: severity '{severity}' is not one of {} (kept as written)",
                path.display(),
                SEVERITIES.join(", ")
            ));
        }
    }
    let sha256 = hex(&Sha256::digest(source.as_bytes()));
    Ok(RuleFile {
        path: path.to_path_buf(),
        format,
        source,
        kql,
        meta,
        sha256,
    })
}

/// Reads the metadata in the leading comment lines of a `.kql` file: the
/// lines before the first one that is neither blank nor a `//` comment.
/// Lines `// @key value` set a key; other comments are ordinary comments.
pub fn parse_kql_header(
    path: &Path,
    source: &str,
    notes: &mut Vec<String>,
) -> Result<RuleMeta, RuleError> {
    let mut meta = RuleMeta::default();
    let mut seen: Vec<&str> = Vec::new();
    let mut description: Vec<&str> = Vec::new();
    for (index, line) in source.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("//") else {
            break;
        };
        let Some(tagged) = comment.trim_start().strip_prefix('@') else {
            continue;
        };
        let line_no = index + 1;
        let (key, value) = match tagged.split_once(|c: char| c.is_whitespace()) {
            Some((key, value)) => (key, value.trim()),
            None => (tagged, ""),
        };
        let bad = |message: String| RuleError::BadHeader {
            path: path.to_path_buf(),
            line: line_no,
            message,
        };
        if !matches!(
            key,
            "id" | "name"
                | "severity"
                | "tactics"
                | "techniques"
                | "description"
                | "frequency"
                | "period"
                | "trigger"
                | "suppress"
                | "partition-key"
        ) {
            notes.push(format!(
                "{}:{line_no}: unknown metadata key '@{key}' ignored (known: @id, @name, @severity, @tactics, @techniques, @description, @frequency, @period, @trigger, @suppress, @partition-key)",
                path.display()
            ));
            continue;
        }
        if value.is_empty() {
            return Err(bad(format!("'@{key}' needs a value")));
        }
        if key != "description" {
            if seen.contains(&key) {
                return Err(bad(format!("'@{key}' is given twice")));
            }
            seen.push(key);
        }
        match key {
            "id" => meta.id = checked_id(value).map_err(bad)?,
            "name" => meta.name = value.to_string(),
            "severity" => meta.severity = Some(value.to_string()),
            "tactics" => meta.tactics = split_list(value),
            "techniques" => meta.techniques = split_list(value),
            "partition-key" => meta.partition_key = split_list(value),
            "frequency" | "period" | "suppress" => {
                let seconds = parse_schedule_duration(value).ok_or_else(|| {
                    bad(format!(
                        "'@{key}' must be a duration of at least one second, e.g. 5m, 1h, 1d or PT1H (not '{value}')"
                    ))
                })?;
                match key {
                    "frequency" => meta.schedule.frequency = Some(seconds),
                    "period" => meta.schedule.period = Some(seconds),
                    _ => meta.schedule.suppress = Some(seconds),
                }
            }
            "trigger" => {
                meta.schedule.trigger = Some(parse_trigger(value).ok_or_else(|| {
                    bad(format!(
                        "'@trigger' must be an operator (gt, lt, eq or ne) and a row count, e.g. '@trigger gt 0' (not '{value}')"
                    ))
                })?);
            }
            _ => description.push(value),
        }
    }
    if !description.is_empty() {
        meta.description = Some(description.join("\n"));
    }
    Ok(meta)
}

/// Why a rule's `@partition-key` (`partitionKey`) cannot be used: a named
/// column that the rule does not output. `None` when every one is there.
pub fn unknown_partition_key(
    meta: &RuleMeta,
    pipeline: &kqlc::plan::ir::Pipeline,
) -> Option<String> {
    let missing = meta
        .partition_key
        .iter()
        .find(|key| !pipeline.output.iter().any(|(column, _)| column == *key))?;
    let columns: Vec<&str> = pipeline.output.iter().map(|(c, _)| c.as_str()).collect();
    Some(format!(
        "rule {}: partition key '{missing}' is not a column of the rule's output ({}); @partition-key (partitionKey) names output columns, whose values key the published alerts",
        meta.id,
        columns.join(", ")
    ))
}

/// `gt 0`, `eq 3`: a trigger operator and a row count.
fn parse_trigger(text: &str) -> Option<(TriggerOp, u64)> {
    let mut words = text.split_whitespace();
    let op = TriggerOp::parse(words.next()?)?;
    let threshold = words.next()?.parse().ok()?;
    words.next().is_none().then_some((op, threshold))
}

/// Reads a Sentinel / Defender YAML rule: its query and metadata.
pub fn parse_sentinel_yaml(
    path: &Path,
    source: &str,
    notes: &mut Vec<String>,
) -> Result<(String, RuleMeta), RuleError> {
    let document: Yaml = serde_norway::from_str(source).map_err(|e| RuleError::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let bad = |field: &str, expected: &str| RuleError::BadField {
        path: path.to_path_buf(),
        field: field.to_string(),
        expected: expected.to_string(),
    };
    let Yaml::Mapping(fields) = document else {
        return Err(bad(
            "(top level)",
            "a mapping of fields (id, name, query, ...)",
        ));
    };
    let text = |field: &str| -> Result<Option<String>, RuleError> {
        match fields.get(field) {
            None | Some(Yaml::Null) => Ok(None),
            Some(value) => scalar_text(value)
                .map(Some)
                .ok_or_else(|| bad(field, "text")),
        }
    };
    let list = |field: &str| -> Result<Vec<String>, RuleError> {
        match fields.get(field) {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Sequence(items)) => items
                .iter()
                .map(|item| scalar_text(item).map(|s| s.trim().to_string()))
                .filter(|item| item.as_ref().is_none_or(|s| !s.is_empty()))
                .collect::<Option<Vec<String>>>()
                .ok_or_else(|| bad(field, "a list of text items")),
            Some(value) => scalar_text(value)
                .map(|s| split_list(&s))
                .ok_or_else(|| bad(field, "a list of text items")),
        }
    };
    let query = match fields.get("query") {
        None | Some(Yaml::Null) => return Err(RuleError::MissingQuery(path.to_path_buf())),
        Some(Yaml::String(query)) if !query.trim().is_empty() => query.clone(),
        Some(Yaml::String(_)) => return Err(bad("query", "a non-empty KQL query")),
        Some(_) => return Err(bad("query", "text (the KQL query)")),
    };
    let id = match text("id")? {
        Some(id) => checked_id(id.trim()).map_err(|message| RuleError::BadField {
            path: path.to_path_buf(),
            field: "id".to_string(),
            expected: message,
        })?,
        None => String::new(),
    };
    let meta = RuleMeta {
        id,
        name: text("name")?
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
        severity: text("severity")?.map(|s| s.trim().to_string()),
        tactics: list("tactics")?,
        techniques: list("relevantTechniques")?,
        description: text("description")?.map(|s| s.trim().to_string()),
        falsepositives: Vec::new(),
        schedule: yaml_schedule(&text, &bad)?,
        partition_key: list("partitionKey")?,
    };
    let ignored: Vec<String> = fields
        .keys()
        .map(|key| scalar_text(key).unwrap_or_else(|| "(a non-text key)".to_string()))
        .filter(|key| !YAML_FIELDS.contains(&key.as_str()))
        .collect();
    if !ignored.is_empty() {
        notes.push(format!(
            "{}: ignored fields: {}",
            path.display(),
            ignored.join(", ")
        ));
    }
    Ok((query, meta))
}

/// The schedule fields of a Sentinel rule: `queryFrequency`, `queryPeriod`
/// and `suppressionDuration` (KQL timespans such as `5m`, `1h`, `1d`, or
/// ISO 8601 such as `PT1H`), `triggerOperator` and `triggerThreshold`,
/// and `suppressionEnabled` (false: no suppression).
fn yaml_schedule(
    text: &dyn Fn(&str) -> Result<Option<String>, RuleError>,
    bad: &dyn Fn(&str, &str) -> RuleError,
) -> Result<ScheduleMeta, RuleError> {
    let duration = |field: &str| -> Result<Option<u64>, RuleError> {
        match text(field)? {
            None => Ok(None),
            Some(value) => parse_schedule_duration(&value).map(Some).ok_or_else(|| {
                bad(
                    field,
                    "a duration of at least one second (5m, 1h, 1d, or ISO 8601 such as PT1H)",
                )
            }),
        }
    };
    let operator = match text("triggerOperator")? {
        None => None,
        Some(value) => Some(
            TriggerOp::parse(&value).ok_or_else(|| bad("triggerOperator", "gt, lt, eq or ne"))?,
        ),
    };
    let threshold = match text("triggerThreshold")? {
        None => None,
        Some(value) => Some(
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| bad("triggerThreshold", "a whole number of rows"))?,
        ),
    };
    let enabled = match text("suppressionEnabled")? {
        None => true,
        Some(value) => match value.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return Err(bad("suppressionEnabled", "true or false")),
        },
    };
    let suppress = duration("suppressionDuration")?;
    Ok(ScheduleMeta {
        frequency: duration("queryFrequency")?,
        period: duration("queryPeriod")?,
        trigger: match (operator, threshold) {
            (None, None) => None,
            (op, threshold) => Some((op.unwrap_or(TriggerOp::Gt), threshold.unwrap_or(0))),
        },
        suppress: suppress.filter(|_| enabled),
    })
}

/// The text of a YAML scalar (a string, number or bool), `None` for
/// anything else.
fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Tagged(tagged) => scalar_text(&tagged.value),
        _ => None,
    }
}

/// An id as given, if it is one: non-empty, no control characters, no
/// surrounding whitespace (ids tag output rows and name alerts).
fn checked_id(id: &str) -> Result<String, String> {
    if id.is_empty() || id.trim() != id || id.chars().any(char::is_control) {
        return Err("a non-empty id without control characters or surrounding spaces".into());
    }
    Ok(id.to_string())
}

/// `a, b ,c` → `["a", "b", "c"]`.
fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(text: &str) -> Result<(RuleMeta, Vec<String>), RuleError> {
        let mut notes = Vec::new();
        parse_kql_header(Path::new("r.kql"), text, &mut notes).map(|m| (m, notes))
    }

    fn yaml(text: &str) -> Result<(String, RuleMeta, Vec<String>), RuleError> {
        let mut notes = Vec::new();
        parse_sentinel_yaml(Path::new("r.yaml"), text, &mut notes).map(|(q, m)| (q, m, notes))
    }

    #[test]
    fn kql_header_lines_set_metadata_and_plain_comments_are_ignored() {
        let (meta, notes) = header(
            "// Finds privileged pods.\n// @id K8S-001\n// @name Privileged pod\n//@severity High\n\n\
             // @tactics PrivilegeEscalation, Execution\n// @techniques T1610,T1611\n\
             // @description first line\n// @description second line\nCloudAuditEvents\n// @id not-a-header\n",
        )
        .unwrap();
        assert_eq!(
            meta,
            RuleMeta {
                id: "K8S-001".into(),
                name: "Privileged pod".into(),
                severity: Some("High".into()),
                tactics: vec!["PrivilegeEscalation".into(), "Execution".into()],
                techniques: vec!["T1610".into(), "T1611".into()],
                description: Some("first line\nsecond line".into()),
                falsepositives: Vec::new(),
                schedule: ScheduleMeta::default(),
                partition_key: Vec::new(),
            }
        );
        assert!(notes.is_empty());
    }

    #[test]
    fn kql_header_rejects_repeated_and_empty_keys_and_notes_unknown_ones() {
        let err = header("// @id a\n// @id b\nT").unwrap_err();
        assert_eq!(err.to_string(), "r.kql:2: '@id' is given twice");
        let err = header("// @severity\nT").unwrap_err();
        assert_eq!(err.to_string(), "r.kql:1: '@severity' needs a value");
        let (_, notes) = header("// @owner soc\nT").unwrap();
        assert!(
            notes[0].contains("unknown metadata key '@owner'"),
            "{notes:?}"
        );
    }

    #[test]
    fn sentinel_yaml_keeps_query_and_metadata_and_notes_other_fields() {
        let (query, meta, notes) = yaml(
            "id: 6e95aef3-a1e0-4063-8e74-cd59aa59f245\nname: Diag settings removed\nseverity: Medium\n\
             queryFrequency: 1h\ntactics:\n  - DefenseEvasion\nrelevantTechniques:\n  - T1562.008\n\
             description: |\n  'Looks for things.'\nquery: |\n  AzureActivity\n  | take 1\nkind: Scheduled\n",
        )
        .unwrap();
        assert_eq!(query, "AzureActivity\n| take 1\n");
        assert_eq!(meta.id, "6e95aef3-a1e0-4063-8e74-cd59aa59f245");
        assert_eq!(meta.name, "Diag settings removed");
        assert_eq!(meta.severity.as_deref(), Some("Medium"));
        assert_eq!(meta.tactics, ["DefenseEvasion"]);
        assert_eq!(meta.techniques, ["T1562.008"]);
        assert_eq!(meta.description.as_deref(), Some("'Looks for things.'"));
        assert_eq!(meta.schedule.frequency, Some(3600));
        assert_eq!(notes, ["r.yaml: ignored fields: kind"]);
    }

    #[test]
    fn broken_yaml_and_missing_or_mistyped_fields_are_errors_naming_the_file() {
        let err = yaml("id: [unclosed\nquery: x").unwrap_err();
        assert!(
            err.to_string().starts_with("r.yaml: not valid YAML: "),
            "{err}"
        );
        let err = yaml("id: a\nname: b\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.yaml: no 'query' field (a YAML rule keeps its KQL there)"
        );
        let err = yaml("query:\n  - a\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.yaml: 'query' must be text (the KQL query)"
        );
        let err = yaml("query: T\ntactics:\n  - {a: 1}\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.yaml: 'tactics' must be a list of text items"
        );
        let err = yaml("- a\n- b\n").unwrap_err();
        assert!(err.to_string().contains("must be a mapping"), "{err}");
        let err = yaml("").unwrap_err();
        assert!(err.to_string().contains("must be a mapping"), "{err}");
        let err = yaml("query: T\nid: \"a\\u0001\"\n").unwrap_err();
        assert!(
            err.to_string().contains("'id' must be a non-empty id"),
            "{err}"
        );
    }

    #[test]
    fn partition_keys_come_from_kql_headers_and_sentinel_yaml_and_must_be_output_columns() {
        let (meta, notes) = header("// @partition-key User, Cluster\nT").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(meta.partition_key, ["User", "Cluster"]);
        let (_, meta, notes) = yaml("query: T\npartitionKey:\n  - User\n").unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(meta.partition_key, ["User"]);
        let (_, meta, _) = yaml("query: T\npartitionKey: User, Verb\n").unwrap();
        assert_eq!(meta.partition_key, ["User", "Verb"]);

        let pipeline = kqlc::compile(
            "CloudAuditEvents | extend User = tostring(RawEventData.User.username) | summarize n = count() by User",
            &kqlc::sema::Schema::builtin(),
        )
        .unwrap();
        let mut meta = RuleMeta {
            id: "r".into(),
            partition_key: vec!["User".into()],
            ..RuleMeta::default()
        };
        assert_eq!(unknown_partition_key(&meta, &pipeline), None);
        meta.partition_key.push("Cluster".into());
        assert_eq!(
            unknown_partition_key(&meta, &pipeline).as_deref(),
            Some("rule r: partition key 'Cluster' is not a column of the rule's output (User, n); @partition-key (partitionKey) names output columns, whose values key the published alerts")
        );
    }

    #[test]
    fn schedules_come_from_kql_headers_and_sentinel_fields() {
        let (meta, notes) =
            header("// @frequency 10m\n// @period PT1H\n// @trigger gt 5\n// @suppress 1d\nT")
                .unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            meta.schedule,
            ScheduleMeta {
                frequency: Some(600),
                period: Some(3600),
                trigger: Some((TriggerOp::Gt, 5)),
                suppress: Some(86_400),
            }
        );
        let err = header("// @frequency soon\nT").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("r.kql:1: '@frequency' must be a duration"),
            "{err}"
        );
        let err = header("// @trigger above 5\nT").unwrap_err();
        assert!(
            err.to_string().contains("'@trigger' must be an operator"),
            "{err}"
        );

        let (_, meta, notes) = yaml(
            "query: T\nqueryFrequency: 5m\nqueryPeriod: 14d\ntriggerOperator: GreaterThan\n\
             triggerThreshold: 3\nsuppressionDuration: PT5H\nsuppressionEnabled: false\n",
        )
        .unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            meta.schedule,
            ScheduleMeta {
                frequency: Some(300),
                period: Some(14 * 86_400),
                trigger: Some((TriggerOp::Gt, 3)),
                suppress: None,
            }
        );
        let err = yaml("query: T\ntriggerOperator: above\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.yaml: 'triggerOperator' must be gt, lt, eq or ne"
        );
    }

    #[test]
    fn durations_take_kql_and_iso_8601_forms() {
        assert_eq!(parse_schedule_duration("30s"), Some(30));
        assert_eq!(parse_schedule_duration("5m"), Some(300));
        assert_eq!(parse_schedule_duration("14d"), Some(14 * 86_400));
        assert_eq!(parse_schedule_duration("P1DT12H"), Some(129_600));
        assert_eq!(parse_schedule_duration("PT1H30M"), Some(5_400));
        assert_eq!(parse_schedule_duration("0m"), None);
        assert_eq!(parse_schedule_duration("PT"), None);
        assert_eq!(parse_schedule_duration("P1H"), None);
        assert_eq!(parse_schedule_duration("1w"), None);
    }

    #[test]
    fn numeric_ids_and_comma_separated_tactics_are_accepted() {
        let (_, meta, _) = yaml("id: 42\nquery: T\ntactics: Execution, Persistence\n").unwrap();
        assert_eq!(meta.id, "42");
        assert_eq!(meta.tactics, ["Execution", "Persistence"]);
    }
}
