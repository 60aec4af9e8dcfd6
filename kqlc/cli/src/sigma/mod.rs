//! Sigma rules as input: YAML → rule model ([`SigmaRule`]) → KQL text.
//!
//! A YAML file with `logsource` and `detection` is a Sigma rule
//! (<https://github.com/SigmaHQ/sigma-specification>). [`translate_file`]
//! reads it into a [`SigmaRule`] (this module), parses its condition
//! ([`condition`]) and writes KQL over the table of its log source
//! ([`translate`]); the KQL then goes through the compiler like any other
//! rule. Everything that cannot be translated exactly is a [`SigmaError`]
//! naming the file, the line and the field: a rule is never made weaker
//! to make it fit. The field mapping per log source is in `docs/rules.md`.

pub mod condition;
pub mod translate;

use crate::rules::RuleMeta;
use serde_norway::Value as Yaml;
use std::fmt;
use std::path::{Path, PathBuf};

/// A Sigma rule that cannot be read or translated, located in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigmaError {
    /// The rule file.
    pub path: PathBuf,
    /// The 1-based line of the field the error is about (0 when unknown).
    pub line: usize,
    /// The field, as a path: `detection.selection.verb|re`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SigmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        if self.line > 0 {
            write!(f, "{path}:{}: {}: {}", self.line, self.field, self.message)
        } else {
            write!(f, "{path}: {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for SigmaError {}

/// Where a rule's events come from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogSource {
    /// `category`, e.g. `application`.
    pub category: Option<String>,
    /// `product`, e.g. `kubernetes`.
    pub product: Option<String>,
    /// `service`, e.g. `audit`.
    pub service: Option<String>,
    /// The line of `logsource:`.
    pub line: usize,
}

/// A value in a detection, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum SigmaValue {
    /// A string (wildcards and escapes not yet interpreted).
    Text(String),
    /// An integer or a decimal number, as its text.
    Number(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`: the field is absent or empty.
    Null,
}

/// One `field|modifiers: values` entry of a selection, or a keyword list
/// (`field` is `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldItem {
    /// The field; `None` for keywords (searched in the whole event).
    pub field: Option<String>,
    /// The modifiers after the field, in order.
    pub modifiers: Vec<String>,
    /// The values; several are alternatives (or, with `all`, all required).
    pub values: Vec<SigmaValue>,
    /// The key as written, for messages (`requestURI|contains`).
    pub key: String,
    /// Its 1-based line.
    pub line: usize,
}

/// A search identifier: alternatives (a list of maps, or keywords), each
/// an all-of group of field items.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// Its name (`selection`, `filter_main`).
    pub name: String,
    /// Alternatives, each a conjunction of items.
    pub alternatives: Vec<Vec<FieldItem>>,
    /// Its 1-based line.
    pub line: usize,
}

/// A Sigma rule read from YAML.
#[derive(Clone, Debug, PartialEq)]
pub struct SigmaRule {
    /// `title`.
    pub title: String,
    /// `id`, a UUID by convention.
    pub id: Option<String>,
    /// `level`: informational, low, medium, high, critical.
    pub level: Option<String>,
    /// `tags`, e.g. `attack.t1609`, `attack.execution`.
    pub tags: Vec<String>,
    /// `description`.
    pub description: Option<String>,
    /// `falsepositives`.
    pub falsepositives: Vec<String>,
    /// `logsource`.
    pub logsource: LogSource,
    /// The search identifiers of `detection`, in file order.
    pub searches: Vec<Search>,
    /// The conditions (several are alternatives) with the line of
    /// `condition:`.
    pub conditions: Vec<String>,
    /// The line of `condition:`.
    pub condition_line: usize,
}

/// Whether a YAML text is a Sigma rule: a mapping with `logsource` and
/// `detection` (anything that does not parse is left to the Sentinel
/// reader, which reports it).
pub fn is_sigma(source: &str) -> bool {
    match serde_norway::from_str::<Yaml>(source) {
        Ok(Yaml::Mapping(fields)) => {
            fields.contains_key("logsource") && fields.contains_key("detection")
        }
        _ => false,
    }
}

/// Reads a Sigma rule file's text and translates it: the KQL and the
/// metadata. `notes` gets what is worth saying but not an error.
pub fn translate_file(
    path: &Path,
    source: &str,
    notes: &mut Vec<String>,
) -> Result<(String, RuleMeta), SigmaError> {
    let rule = parse_rule(path, source)?;
    let kql = translate::to_kql(path, &rule)?;
    let meta = metadata(&rule, path, notes);
    Ok((kql, meta))
}

/// The rule metadata of a Sigma rule: `title` → name, `level` → severity,
/// `attack.tNNNN` tags → techniques, `attack.<tactic>` tags → tactics.
pub fn metadata(rule: &SigmaRule, path: &Path, notes: &mut Vec<String>) -> RuleMeta {
    let mut tactics = Vec::new();
    let mut techniques = Vec::new();
    for tag in &rule.tags {
        let Some(attack) = tag.strip_prefix("attack.") else {
            continue;
        };
        if let Some(number) = attack
            .strip_prefix('t')
            .or_else(|| attack.strip_prefix('T'))
        {
            if number.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                techniques.push(format!("T{}", number.to_ascii_uppercase()));
                continue;
            }
        }
        match tactic_name(attack) {
            Some(tactic) => tactics.push(tactic.to_string()),
            None => notes.push(format!(
                "{}: tag '{tag}' is neither an ATT&CK technique nor a tactic (ignored)",
                path.display()
            )),
        }
    }
    let severity = rule.level.as_deref().map(|level| {
        match level.to_ascii_lowercase().as_str() {
            "informational" => "Informational",
            "low" => "Low",
            "medium" => "Medium",
            // Sentinel's scale stops at High.
            "high" | "critical" => "High",
            _ => level,
        }
        .to_string()
    });
    let mut description = rule.description.clone().map(|d| d.trim().to_string());
    if description.as_deref() == Some("") {
        description = None;
    }
    RuleMeta {
        id: rule.id.clone().unwrap_or_default(),
        name: rule.title.clone(),
        severity,
        tactics,
        techniques,
        description,
        falsepositives: rule.falsepositives.clone(),
        schedule: Default::default(),
        partition_key: Vec::new(),
    }
}

/// ATT&CK tactics as Sigma tags them (`attack.privilege-escalation`, older
/// rules with `_`) → as Sentinel names them (`PrivilegeEscalation`).
fn tactic_name(tag: &str) -> Option<&'static str> {
    const TACTICS: [(&str, &str); 16] = [
        ("reconnaissance", "Reconnaissance"),
        ("resource-development", "ResourceDevelopment"),
        ("initial-access", "InitialAccess"),
        ("execution", "Execution"),
        ("persistence", "Persistence"),
        ("privilege-escalation", "PrivilegeEscalation"),
        ("defense-evasion", "DefenseEvasion"),
        ("credential-access", "CredentialAccess"),
        ("discovery", "Discovery"),
        ("lateral-movement", "LateralMovement"),
        ("collection", "Collection"),
        ("command-and-control", "CommandAndControl"),
        ("exfiltration", "Exfiltration"),
        ("impact", "Impact"),
        // ATT&CK v18 split Defense Evasion into these two.
        ("stealth", "Stealth"),
        ("defense-impairment", "DefenseImpairment"),
    ];
    let tag = tag.replace('_', "-").to_ascii_lowercase();
    TACTICS.iter().find(|(t, _)| *t == tag).map(|(_, n)| *n)
}

/// The 1-based line of the first line at or after `from` (1-based) whose
/// text, after indentation and a list dash, starts with `key:` (bare or
/// quoted); `from` itself when none does. A locator for messages only.
fn line_of(source: &str, key: &str, from: usize) -> usize {
    for (index, line) in source.lines().enumerate().skip(from.saturating_sub(1)) {
        let text = line.trim_start();
        let text = text.strip_prefix("- ").unwrap_or(text).trim_start();
        for quoted in [
            format!("{key}:"),
            format!("'{key}':"),
            format!("\"{key}\":"),
        ] {
            if text.starts_with(&quoted) {
                return index + 1;
            }
        }
    }
    from
}

/// Reads the YAML into a [`SigmaRule`].
pub fn parse_rule(path: &Path, source: &str) -> Result<SigmaRule, SigmaError> {
    let err = |line: usize, field: &str, message: String| SigmaError {
        path: path.to_path_buf(),
        line,
        field: field.to_string(),
        message,
    };
    let document: Yaml = serde_norway::from_str(source)
        .map_err(|e| err(0, "(file)", format!("not valid YAML: {e}")))?;
    let Yaml::Mapping(fields) = document else {
        return Err(err(1, "(top level)", "a Sigma rule is a mapping".into()));
    };
    let text = |name: &str| -> Result<Option<String>, SigmaError> {
        match fields.get(name) {
            None | Some(Yaml::Null) => Ok(None),
            Some(value) => scalar(value)
                .map(|v| Some(v.trim().to_string()))
                .ok_or_else(|| err(line_of(source, name, 1), name, "must be text".into())),
        }
    };
    let list = |name: &str| -> Result<Vec<String>, SigmaError> {
        match fields.get(name) {
            None | Some(Yaml::Null) => Ok(Vec::new()),
            Some(Yaml::Sequence(items)) => items
                .iter()
                .map(|item| scalar(item).map(|s| s.trim().to_string()))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    err(
                        line_of(source, name, 1),
                        name,
                        "must be a list of text items".into(),
                    )
                }),
            Some(value) => scalar(value).map(|s| vec![s]).ok_or_else(|| {
                err(
                    line_of(source, name, 1),
                    name,
                    "must be a list of text items".into(),
                )
            }),
        }
    };
    let title = text("title")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| err(0, "title", "a Sigma rule needs a title".into()))?;
    let logsource_line = line_of(source, "logsource", 1);
    let logsource = match fields.get("logsource") {
        Some(Yaml::Mapping(map)) => {
            let get = |key: &str| map.get(key).and_then(scalar).map(|s| s.trim().to_string());
            LogSource {
                category: get("category"),
                product: get("product"),
                service: get("service"),
                line: logsource_line,
            }
        }
        _ => {
            return Err(err(
                logsource_line,
                "logsource",
                "must be a mapping (product, service, category)".into(),
            ))
        }
    };
    let detection_line = line_of(source, "detection", 1);
    let Some(Yaml::Mapping(detection)) = fields.get("detection") else {
        return Err(err(
            detection_line,
            "detection",
            "must be a mapping of search identifiers and a condition".into(),
        ));
    };
    let mut searches = Vec::new();
    let mut conditions = Vec::new();
    let mut condition_line = detection_line;
    for (key, value) in detection {
        let Some(name) = scalar(key) else {
            return Err(err(
                detection_line,
                "detection",
                "search identifiers must be text".into(),
            ));
        };
        let line = line_of(source, &name, detection_line);
        let field = format!("detection.{name}");
        match name.as_str() {
            "condition" => {
                condition_line = line;
                match value {
                    Yaml::Sequence(items) => {
                        for item in items {
                            conditions.push(scalar(item).ok_or_else(|| {
                                err(line, &field, "each condition must be text".into())
                            })?);
                        }
                    }
                    other => conditions.push(scalar(other).ok_or_else(|| {
                        err(line, &field, "must be text or a list of text".into())
                    })?),
                }
            }
            "timeframe" => {
                return Err(err(
                    line,
                    &field,
                    "timeframe belongs to aggregations, which kqlc does not translate (a Sigma correlation rule or a KQL summarize expresses it)".into(),
                ))
            }
            _ => searches.push(parse_search(source, path, &name, value, line)?),
        }
    }
    if conditions.is_empty() {
        return Err(err(
            detection_line,
            "detection.condition",
            "a Sigma rule needs a condition".into(),
        ));
    }
    Ok(SigmaRule {
        title,
        id: text("id")?,
        level: text("level")?,
        tags: list("tags")?,
        description: text("description")?,
        falsepositives: list("falsepositives")?,
        logsource,
        searches,
        conditions,
        condition_line,
    })
}

/// One search identifier's body: a map (one alternative), or a list of
/// maps and keyword strings (alternatives).
fn parse_search(
    source: &str,
    path: &Path,
    name: &str,
    value: &Yaml,
    line: usize,
) -> Result<Search, SigmaError> {
    let field = format!("detection.{name}");
    let err = |line: usize, field: &str, message: &str| SigmaError {
        path: path.to_path_buf(),
        line,
        field: field.to_string(),
        message: message.to_string(),
    };
    let mut alternatives = Vec::new();
    match value {
        Yaml::Mapping(map) => alternatives.push(parse_map(source, path, name, map, line)?),
        Yaml::Sequence(items) => {
            let mut keywords = Vec::new();
            for item in items {
                match item {
                    Yaml::Mapping(map) => {
                        alternatives.push(parse_map(source, path, name, map, line)?)
                    }
                    other => keywords.push(value_of(other).ok_or_else(|| {
                        err(
                            line,
                            &field,
                            "a list holds keywords (text) or maps of fields",
                        )
                    })?),
                }
            }
            if !keywords.is_empty() {
                alternatives.push(vec![FieldItem {
                    field: None,
                    modifiers: Vec::new(),
                    values: keywords,
                    key: name.to_string(),
                    line,
                }]);
            }
        }
        _ => {
            return Err(err(
                line,
                &field,
                "a search identifier is a map of fields or a list (of maps or keywords)",
            ))
        }
    }
    if alternatives.is_empty() {
        return Err(err(line, &field, "is empty"));
    }
    Ok(Search {
        name: name.to_string(),
        alternatives,
        line,
    })
}

/// A map of `field|modifiers: values`: one conjunction.
fn parse_map(
    source: &str,
    path: &Path,
    name: &str,
    map: &serde_norway::Mapping,
    search_line: usize,
) -> Result<Vec<FieldItem>, SigmaError> {
    let mut items = Vec::new();
    for (key, value) in map {
        let key = scalar(key).ok_or_else(|| SigmaError {
            path: path.to_path_buf(),
            line: search_line,
            field: format!("detection.{name}"),
            message: "field names must be text".into(),
        })?;
        let line = line_of(source, &key, search_line);
        let err = |message: &str| SigmaError {
            path: path.to_path_buf(),
            line,
            field: format!("detection.{name}.{key}"),
            message: message.to_string(),
        };
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or_default().trim().to_string();
        let modifiers: Vec<String> = parts.map(|m| m.trim().to_string()).collect();
        if modifiers.iter().any(String::is_empty) {
            return Err(err("an empty modifier ('||' or a trailing '|')"));
        }
        let values = match value {
            Yaml::Sequence(items) => {
                let values = items
                    .iter()
                    .map(value_of)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| err("values must be text, numbers, booleans or null"))?;
                if values.is_empty() {
                    return Err(err("an empty list of values matches nothing"));
                }
                if values.len() > 1 && values.contains(&SigmaValue::Null) {
                    return Err(err(
                        "null cannot be one of several values (the specification asks for a selection of its own)",
                    ));
                }
                values
            }
            other => vec![value_of(other)
                .ok_or_else(|| err("a value must be text, a number, a boolean or null"))?],
        };
        items.push(FieldItem {
            field: (!field.is_empty()).then_some(field),
            modifiers,
            values,
            key,
            line,
        });
    }
    if items.is_empty() {
        return Err(SigmaError {
            path: path.to_path_buf(),
            line: search_line,
            field: format!("detection.{name}"),
            message: "an empty map matches everything; write the fields it should test".into(),
        });
    }
    Ok(items)
}

fn value_of(value: &Yaml) -> Option<SigmaValue> {
    match value {
        Yaml::Null => Some(SigmaValue::Null),
        Yaml::Bool(b) => Some(SigmaValue::Bool(*b)),
        Yaml::Number(n) => Some(SigmaValue::Number(n.to_string())),
        Yaml::String(s) => Some(SigmaValue::Text(s.clone())),
        Yaml::Tagged(tagged) => value_of(&tagged.value),
        _ => None,
    }
}

fn scalar(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Tagged(tagged) => scalar(&tagged.value),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "title: Exec
id: 1
level: critical
tags:
  - attack.execution
  - attack.t1609
  - attack.privilege_escalation
  - cve.2024-1
  - attack.g0035
description: d
falsepositives:
  - debugging
logsource:
  product: kubernetes
  service: audit
detection:
  selection:
    verb: create
    objectRef.subresource|contains:
      - ex
      - at
  keywords:
    - evil
    - 42
  filter:
    - user.username: a
    - user.username: b
  condition: selection and not filter
";

    #[test]
    fn maps_lists_and_keywords_become_searches_with_lines() {
        let rule = parse_rule(Path::new("r.yml"), RULE).unwrap();
        assert_eq!(rule.title, "Exec");
        assert_eq!(rule.logsource.product.as_deref(), Some("kubernetes"));
        assert_eq!(rule.conditions, ["selection and not filter"]);
        assert_eq!(rule.condition_line, 28);
        let names: Vec<&str> = rule.searches.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["selection", "keywords", "filter"]);
        let selection = &rule.searches[0];
        assert_eq!(selection.line, 17);
        assert_eq!(selection.alternatives.len(), 1);
        let item = &selection.alternatives[0][1];
        assert_eq!(item.field.as_deref(), Some("objectRef.subresource"));
        assert_eq!(item.modifiers, ["contains"]);
        assert_eq!(item.line, 19);
        assert_eq!(item.values.len(), 2);
        let keywords = &rule.searches[1].alternatives[0][0];
        assert_eq!(keywords.field, None);
        assert_eq!(
            keywords.values,
            [
                SigmaValue::Text("evil".into()),
                SigmaValue::Number("42".into())
            ]
        );
        assert_eq!(rule.searches[2].alternatives.len(), 2);
    }

    #[test]
    fn tags_and_level_become_metadata() {
        let rule = parse_rule(Path::new("r.yml"), RULE).unwrap();
        let mut notes = Vec::new();
        let meta = metadata(&rule, Path::new("r.yml"), &mut notes);
        assert_eq!(meta.id, "1");
        assert_eq!(meta.name, "Exec");
        assert_eq!(meta.severity.as_deref(), Some("High"));
        assert_eq!(meta.tactics, ["Execution", "PrivilegeEscalation"]);
        assert_eq!(meta.techniques, ["T1609"]);
        assert_eq!(meta.falsepositives, ["debugging"]);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("attack.g0035"));
    }

    #[test]
    fn only_mappings_with_logsource_and_detection_are_sigma() {
        assert!(is_sigma(RULE));
        assert!(!is_sigma("id: 1\nquery: T\n"));
        assert!(!is_sigma("[unclosed"));
    }

    #[test]
    fn malformed_detections_are_located_errors() {
        let bad = RULE.replace("    - evil\n    - 42\n", "    - {a: [1, {b: 2}]}\n");
        let err = parse_rule(Path::new("r.yml"), &bad).unwrap_err();
        assert_eq!(err.line, 22, "{err}");
        assert_eq!(err.field, "detection.keywords.a");
        let bad = RULE.replace("  condition: selection and not filter\n", "");
        let err = parse_rule(Path::new("r.yml"), &bad).unwrap_err();
        assert!(err.message.contains("needs a condition"), "{err}");
        let bad = RULE.replace("    verb: create", "    verb||re: create");
        let err = parse_rule(Path::new("r.yml"), &bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "r.yml:18: detection.selection.verb||re: an empty modifier ('||' or a trailing '|')"
        );
        let bad = RULE.replace("    verb: create", "    verb: [a, null]");
        assert!(parse_rule(Path::new("r.yml"), &bad).is_err());
        let bad = RULE.replace("  condition:", "  timeframe: 5m\n  condition:");
        let err = parse_rule(Path::new("r.yml"), &bad).unwrap_err();
        assert!(err.message.contains("timeframe"), "{err}");
    }
}
