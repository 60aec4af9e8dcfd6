//! What a built detector holds: the compiler and runtime versions, the
//! target, and each rule with the SHA-256 of its source text.
//!
//! `kqlc build` writes it next to the binary as `BIN.manifest.json`; the
//! detector embeds the same data, so `DETECTOR --version` lists the same
//! rules and hashes. A rule's hash is that of its file's bytes, so
//! `sha256sum RULE` checks it.

use serde::Serialize;

/// The manifest of one detector binary. Field order is the JSON order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Manifest {
    /// The kqlc version that generated the code.
    pub kqlc_version: String,
    /// The `kql-runtime` version linked in.
    pub runtime_version: String,
    /// `rustc --version` of the compiler that built it.
    pub rustc: String,
    /// The target triple, e.g. `x86_64-unknown-linux-gnu`.
    pub target: String,
    /// Whether the C runtime is linked in (no shared libraries needed).
    #[serde(rename = "static")]
    pub static_linking: bool,
    /// The cargo profile: `release` (hardened) or `quick`.
    pub profile: String,
    /// The rules, in the order they run.
    pub rules: Vec<ManifestRule>,
}

/// One rule of a [`Manifest`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ManifestRule {
    /// Its id (what tags its rows and alerts).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its severity, if it says.
    pub severity: Option<String>,
    /// MITRE ATT&CK tactics.
    pub tactics: Vec<String>,
    /// MITRE ATT&CK techniques.
    pub techniques: Vec<String>,
    /// The rule file's name (without its folder, so the manifest does not
    /// depend on where the pack was checked out).
    pub file: String,
    /// Hex SHA-256 of the rule file's text.
    pub sha256: String,
    /// The rule file's text, embedded for `DETECTOR --rules`; not in the
    /// JSON, which carries its hash instead.
    #[serde(skip)]
    pub source: String,
    /// Its description (empty when none), for OCSF findings; not in the
    /// JSON.
    #[serde(skip)]
    pub description: String,
    /// How a live detector schedules it (stateful rules only; absent for
    /// the others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<crate::rules::Schedule>,
    /// The output columns whose values key its published alerts
    /// (`@partition-key`); absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partition_key: Vec<String>,
}

impl Manifest {
    /// The manifest as pretty-printed JSON with a final newline: the bytes
    /// of `BIN.manifest.json`.
    pub fn to_json(&self) -> String {
        // Serializing plain strings, bools and vectors cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_json_has_a_fixed_field_order_and_omits_rule_texts() {
        let manifest = Manifest {
            kqlc_version: "0.1.0".into(),
            runtime_version: "0.1.0".into(),
            rustc: "rustc 1.95.0".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            static_linking: true,
            profile: "release".into(),
            rules: vec![ManifestRule {
                id: "r1".into(),
                name: "Rule one".into(),
                severity: None,
                tactics: vec!["Execution".into()],
                techniques: vec![],
                file: "r1.kql".into(),
                sha256: "00".into(),
                source: "CloudAuditEvents".into(),
                description: String::new(),
                schedule: None,
                partition_key: Vec::new(),
            }],
        };
        let expected = r#"{
  "kqlc_version": "0.1.0",
  "runtime_version": "0.1.0",
  "rustc": "rustc 1.95.0",
  "target": "x86_64-unknown-linux-gnu",
  "static": true,
  "profile": "release",
  "rules": [
    {
      "id": "r1",
      "name": "Rule one",
      "severity": null,
      "tactics": [
        "Execution"
      ],
      "techniques": [],
      "file": "r1.kql",
      "sha256": "00"
    }
  ]
}
"#;
        assert_eq!(manifest.to_json(), expected);
    }
}
