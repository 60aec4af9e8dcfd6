//! The deterministic id of an alert or result row, shared by every sink that
//! deduplicates (`--publish` as the JetStream `Nats-Msg-Id`, `--publish-kafka`
//! as the record key).
//!
//! The id is the first 16 bytes of SHA-256, in lowercase hex (32
//! characters), over:
//!
//! ```text
//! "kqlc-alert-v1" NUL rule-id NUL row-json
//! ```
//!
//! where `row-json` is the row as `--output rows` writes it (one JSON object,
//! columns in the query's order). It depends only on the rule and the
//! row's values, never on the detection time, the instance or where the
//! event was read; so an event delivered twice (after a crash or a
//! rebalance) gives the same id twice, and the broker or the consumer drops
//! the second. Two different events that give identical rows under one
//! rule are one alert: a rule that must tell them apart projects a column
//! that differs (an event id, a timestamp).
//!
//! The version tag changes if the scheme ever does, so ids of one version
//! never collide with another's by accident.

use sha2::{Digest, Sha256};

/// The scheme's version tag, hashed first.
pub const SCHEME: &str = "kqlc-alert-v1";

/// The id of the row written as `row_json` by the rule `rule_id`.
pub fn alert_id(rule_id: &str, row_json: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(SCHEME.as_bytes());
    hash.update([0]);
    hash.update(rule_id.as_bytes());
    hash.update([0]);
    hash.update(row_json.as_bytes());
    let digest = hash.finalize();
    let mut id = String::with_capacity(32);
    for byte in &digest[..16] {
        id.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        id.push(char::from_digit(u32::from(byte & 15), 16).unwrap_or('0'));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_stable_and_separates_rule_from_row() {
        let id = alert_id("privileged-pod", r#"{"PodName":"debug-priv"}"#);
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        // The same input gives the same id; the documented scheme fixes it.
        assert_eq!(
            id,
            alert_id("privileged-pod", r#"{"PodName":"debug-priv"}"#)
        );
        let mut hash = Sha256::new();
        hash.update(b"kqlc-alert-v1\0privileged-pod\0{\"PodName\":\"debug-priv\"}");
        let expected: String = hash.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(id, expected);
        // The separator keeps "ab"+"c" apart from "a"+"bc".
        assert_ne!(alert_id("ab", "c"), alert_id("a", "bc"));
        assert_ne!(id, alert_id("privileged-pod", r#"{"PodName":"other"}"#));
    }
}
