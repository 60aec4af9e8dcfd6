//! What a detector knows about itself: the kqlc and runtime versions, the
//! target it was built for, and each rule's metadata, source text and
//! SHA-256 — the data behind `DETECTOR --version`, `--rules` and
//! `--output alerts`.
//!
//! kqlc generates one `static` [`DetectorInfo`] per detector (in its
//! `main.rs`); nothing here is parsed or allocated at start-up. The JSON
//! kqlc writes beside the binary (`BIN.manifest.json`) is embedded verbatim
//! as [`DetectorInfo::manifest_json`], so `DETECTOR --version --json` and
//! that file are byte-identical.

use kql_runtime::printable::printable;
use std::fmt::Write as _;

/// The version of this runtime crate, compiled into every detector.
pub const RUNTIME_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One rule of a detector.
#[derive(Debug, PartialEq)]
pub struct RuleInfo {
    /// Its id: tags its rows (`_rule`) and alerts.
    pub id: &'static str,
    /// Its human-readable name.
    pub name: &'static str,
    /// Its severity (`Informational`, `Low`, `Medium`, `High`), if it says.
    pub severity: Option<&'static str>,
    /// MITRE ATT&CK tactics.
    pub tactics: &'static [&'static str],
    /// MITRE ATT&CK techniques.
    pub techniques: &'static [&'static str],
    /// The rule file's name.
    pub file: &'static str,
    /// Hex SHA-256 of [`RuleInfo::text`].
    pub sha256: &'static str,
    /// The rule file's text, exactly.
    pub text: &'static str,
    /// Its description (empty when it has none): OCSF findings carry it.
    pub description: &'static str,
    /// How a live detector schedules it: set for stateful rules that give
    /// a schedule (or a `where Timestamp > ago(T)` bound), `None` otherwise
    /// (see [`crate::schedule`]).
    pub schedule: Option<crate::schedule::Schedule>,
    /// The output columns whose values key its published alerts
    /// (`--publish`: the subject's last token; `--publish-kafka`: the
    /// partition), so the alerts of one entity stay in order: the rule's
    /// `@partition-key` (Sentinel YAML: `partitionKey`). Empty: none.
    pub partition_key: &'static [&'static str],
}

/// A detector's description of itself.
#[derive(Debug, PartialEq)]
pub struct DetectorInfo {
    /// The kqlc version that generated it.
    pub kqlc_version: &'static str,
    /// `rustc --version` of the compiler that built it.
    pub rustc: &'static str,
    /// The target triple.
    pub target: &'static str,
    /// Whether it is linked statically.
    pub static_linking: bool,
    /// The cargo profile (`release` or `quick`).
    pub profile: &'static str,
    /// Its rules, in the order they run (the order of the `Query` values
    /// handed to the detector's `main`).
    pub rules: &'static [RuleInfo],
    /// `BIN.manifest.json` as kqlc wrote it.
    pub manifest_json: &'static str,
}

impl DetectorInfo {
    /// What `DETECTOR --version` prints: a line of versions and target, then
    /// one line per rule with its id, severity, SHA-256 and name.
    ///
    /// ```text
    /// kql detector: kqlc 0.1.0, kql-runtime 0.1.0, rustc 1.95.0 (...), x86_64-unknown-linux-gnu (static), profile release
    /// 2 rules:
    ///   id                     severity  sha256                                                            name
    ///   privileged-pod         High      9de5ee92...                                                       Privileged pod
    /// ```
    ///
    /// Every field is made printable ([`printable`]): a rule's name or
    /// severity holding a line end or an escape sequence cannot add a line
    /// or drive the terminal.
    pub fn version_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "kql detector: kqlc {}, kql-runtime {RUNTIME_VERSION}, {}, {} ({}), profile {}",
            printable(self.kqlc_version),
            printable(self.rustc),
            printable(self.target),
            if self.static_linking {
                "static"
            } else {
                "dynamic"
            },
            printable(self.profile)
        );
        let n = self.rules.len();
        let _ = writeln!(out, "{n} rule{}:", if n == 1 { "" } else { "s" });
        let id_width = self
            .rules
            .iter()
            .map(|r| printable(r.id).chars().count())
            .chain([2])
            .max()
            .unwrap_or(2);
        let _ = writeln!(
            out,
            "  {:<id_width$}  {:<13}  {:<64}  name",
            "id", "severity", "sha256"
        );
        for rule in self.rules {
            let _ = writeln!(
                out,
                "  {:<id_width$}  {:<13}  {:<64}  {}",
                printable(rule.id),
                printable(rule.severity.unwrap_or("-")),
                printable(rule.sha256),
                printable(rule.name)
            );
        }
        out
    }

    /// What `DETECTOR --rules` prints: every rule's text, each after a
    /// header line `// ==== rule ID (FILE, sha256 HASH) ====` (made
    /// printable). With an id,
    /// only that rule's text, byte for byte (so `DETECTOR --rules ID |
    /// sha256sum` gives its hash); `None` when no rule has that id.
    pub fn rules_text(&self, id: Option<&str>) -> Option<String> {
        if let Some(id) = id {
            return self
                .rules
                .iter()
                .find(|r| r.id == id)
                .map(|r| r.text.to_string());
        }
        let mut out = String::new();
        for rule in self.rules {
            let _ = writeln!(
                out,
                "// ==== rule {} ({}, sha256 {}) ====",
                printable(rule.id),
                printable(rule.file),
                printable(rule.sha256)
            );
            out.push_str(rule.text);
            if !rule.text.ends_with('\n') {
                out.push('\n');
            }
        }
        Some(out)
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&'static RuleInfo> {
        self.rules.iter().find(|r| r.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static INFO: DetectorInfo = DetectorInfo {
        kqlc_version: "0.1.0",
        rustc: "rustc 1.95.0",
        target: "x86_64-unknown-linux-gnu",
        static_linking: true,
        profile: "release",
        rules: &[
            RuleInfo {
                id: "privileged-pod",
                name: "Privileged pod",
                severity: Some("High"),
                tactics: &["PrivilegeEscalation"],
                techniques: &["T1610", "T1611"],
                file: "privileged-pod.kql",
                sha256: "9de5",
                text: "CloudAuditEvents\n| take 1\n",
                description: "",
                schedule: None,
                partition_key: &[],
            },
            RuleInfo {
                id: "r2",
                name: "r2",
                severity: None,
                tactics: &[],
                techniques: &[],
                file: "r2.yaml",
                sha256: "00ff",
                text: "id: r2\nquery: T",
                description: "",
                schedule: None,
                partition_key: &[],
            },
        ],
        manifest_json: "{}\n",
    };

    #[test]
    fn version_text_lists_every_rule_with_its_hash() {
        let text = INFO.version_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("kql detector: kqlc 0.1.0, kql-runtime {RUNTIME_VERSION}, rustc 1.95.0, x86_64-unknown-linux-gnu (static), profile release")
        );
        assert_eq!(lines[1], "2 rules:");
        assert!(lines[3].starts_with("  privileged-pod  High           9de5 "));
        assert!(lines[3].ends_with("  Privileged pod"));
        assert!(lines[4].starts_with("  r2              -              00ff "));
    }

    #[test]
    fn version_text_escapes_rule_metadata() {
        static RULES: [RuleInfo; 1] = [RuleInfo {
            id: "r1",
            name: "evil\n summary: 0 rows read\x1b[31m",
            severity: Some("High\r"),
            tactics: &[],
            techniques: &[],
            file: "r1\n.kql",
            sha256: "00",
            text: "T",
            description: "",
            schedule: None,
            partition_key: &[],
        }];
        let info = DetectorInfo {
            rules: &RULES,
            ..INFO
        };
        let text = info.version_text();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.ends_with("  evil\\n summary: 0 rows read\\u{1b}[31m\n"),
            "{text}"
        );
        assert!(text.contains("High\\r"), "{text}");
        let rules = info.rules_text(None).unwrap();
        assert!(rules.starts_with("// ==== rule r1 (r1\\n.kql, sha256 00) ====\nT\n"));
    }

    #[test]
    fn rules_text_prints_all_texts_with_headers_or_one_exactly() {
        assert_eq!(
            INFO.rules_text(None).unwrap(),
            "// ==== rule privileged-pod (privileged-pod.kql, sha256 9de5) ====\nCloudAuditEvents\n| take 1\n\
             // ==== rule r2 (r2.yaml, sha256 00ff) ====\nid: r2\nquery: T\n"
        );
        assert_eq!(INFO.rules_text(Some("r2")).unwrap(), "id: r2\nquery: T");
        assert_eq!(INFO.rules_text(Some("nope")), None);
        assert_eq!(INFO.rule("r2").map(|r| r.file), Some("r2.yaml"));
    }
}
