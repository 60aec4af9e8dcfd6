//! The literal prefilter: skip input lines that cannot match, before
//! parsing them.
//!
//! The compiler derives, from a rule's leading `where` clauses, byte strings
//! that every line producing a result must contain, combined by the
//! clauses' `and`/`or` structure ([`Prefilter`]). A detector scans each line
//! once for the needles of all its rules ([`PrefilterSet`], one
//! Aho-Corasick automaton) and parses the line only for the rules whose
//! formula can be true.
//!
//! Exactness: a needle counts as present not only when its bytes occur, but
//! also whenever the line could spell it in a way a byte search misses — a
//! JSON `\u` escape anywhere in the line, `\/` when the needle has a `/`, and,
//! for case-insensitive needles, any non-ASCII byte (Unicode case folding
//! can map non-ASCII letters to ASCII ones, such as the Kelvin sign to `k`).
//! The compiler only emits needles free of JSON structure and number
//! spellings (see `kqlc::plan::prefilter`).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a rule needs a line to contain.
#[derive(Debug)]
pub enum Prefilter {
    /// No condition: every line may match.
    Always,
    /// The line contains this text (ASCII-case-insensitively when the flag
    /// is set).
    Needle(&'static str, bool),
    /// Every condition holds.
    All(&'static [Prefilter]),
    /// Some condition holds.
    Any(&'static [Prefilter]),
}

impl Prefilter {
    fn needles(&'static self, out: &mut Vec<(&'static str, bool)>) {
        match self {
            Prefilter::Always => {}
            Prefilter::Needle(text, ci) => out.push((text, *ci)),
            Prefilter::All(items) | Prefilter::Any(items) => {
                for item in *items {
                    item.needles(out);
                }
            }
        }
    }

    /// Evaluates the formula; `present(text, ci)` says whether a needle may
    /// be in the line.
    fn holds(&self, present: &dyn Fn(&str, bool) -> bool) -> bool {
        match self {
            Prefilter::Always => true,
            Prefilter::Needle(text, ci) => present(text, *ci),
            Prefilter::All(items) => items.iter().all(|p| p.holds(present)),
            Prefilter::Any(items) => items.iter().any(|p| p.holds(present)),
        }
    }

    /// True when the filter never skips a line: it holds even when no
    /// needle is present.
    pub fn is_always(&self) -> bool {
        self.holds(&|_, _| false)
    }
}

/// The prefilters of every rule of a detector, scanned in one pass.
#[derive(Debug)]
pub struct PrefilterSet {
    filters: Vec<&'static Prefilter>,
    /// All distinct needles, lowercased for the case-insensitive scan.
    needles: Vec<(&'static str, bool)>,
    automaton: Option<AhoCorasick>,
}

impl PrefilterSet {
    /// The set for these rules' filters, in rule order.
    pub fn new(filters: Vec<&'static Prefilter>) -> PrefilterSet {
        let mut needles = Vec::new();
        for filter in &filters {
            filter.needles(&mut needles);
        }
        needles.sort_unstable();
        needles.dedup();
        let automaton = if needles.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(needles.iter().map(|(text, _)| text.as_bytes()))
                .ok()
        };
        PrefilterSet {
            filters,
            needles,
            automaton,
        }
    }

    /// True when no rule has a needle: scanning would be wasted work. (With
    /// some rules always matching, lines are never skipped, but the other
    /// rules are still spared lines they cannot match.)
    pub fn is_trivial(&self) -> bool {
        self.automaton.is_none()
    }

    /// Which rules may match `line`: `out[i]` for rule `i`. Returns true
    /// when any may.
    pub fn scan(&self, line: &[u8], out: &mut Vec<bool>) -> bool {
        out.clear();
        let Some(automaton) = &self.automaton else {
            out.resize(self.filters.len(), true);
            return !self.filters.is_empty();
        };
        let escaped = memchr::memmem::find(line, b"\\u").is_some();
        let escaped_slash = escaped || memchr::memmem::find(line, b"\\/").is_some();
        let non_ascii = !line.is_ascii();
        let mut found = vec![false; self.needles.len()];
        let mut remaining = self.needles.len();
        for m in automaton.find_overlapping_iter(line) {
            let i = m.pattern().as_usize();
            if found[i] {
                continue;
            }
            // The automaton ignores ASCII case; a case-sensitive needle
            // counts only where the bytes match exactly.
            let (text, ci) = self.needles[i];
            if ci || &line[m.start()..m.end()] == text.as_bytes() {
                found[i] = true;
                remaining -= 1;
                if remaining == 0 {
                    break;
                }
            }
        }
        let present = |text: &str, ci: bool| {
            let Ok(i) = self.needles.binary_search(&(text, ci)) else {
                return true;
            };
            found[i] || escaped || (escaped_slash && text.contains('/')) || (ci && non_ascii)
        };
        let mut any = false;
        for filter in &self.filters {
            let may = filter.holds(&present);
            any |= may;
            out.push(may);
        }
        any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static CLUSTER_ADMIN: Prefilter = Prefilter::All(&[
        Prefilter::Needle("clusterrolebindings", false),
        Prefilter::Needle("cluster-admin", false),
    ]);
    static EXEC: Prefilter = Prefilter::Any(&[
        Prefilter::Needle("kube-system", true),
        Prefilter::Needle("exec", false),
    ]);

    fn scan(line: &str) -> Vec<bool> {
        let set = PrefilterSet::new(vec![&CLUSTER_ADMIN, &EXEC]);
        let mut out = Vec::new();
        set.scan(line.as_bytes(), &mut out);
        out
    }

    #[test]
    fn lines_without_the_needles_are_skipped() {
        assert_eq!(
            scan(r#"{"verb":"get","resource":"configmaps"}"#),
            [false, false]
        );
        assert_eq!(
            scan(r#"{"resource":"clusterrolebindings","name":"cluster-admin"}"#),
            [true, false]
        );
        assert_eq!(
            scan(r#"{"resource":"clusterrolebindings"}"#),
            [false, false]
        );
        assert_eq!(scan(r#"{"ns":"KUBE-SYSTEM"}"#), [false, true]);
        assert_eq!(
            scan(r#"{"sub":"EXEC"}"#),
            [false, false],
            "exec is case-sensitive"
        );
    }

    #[test]
    fn escapes_and_non_ascii_never_cause_a_wrong_skip() {
        // `\u0063` is `c`: the line may spell a needle with escapes.
        assert_eq!(
            scan(r#"{"resource":"\u0063lusterrolebindings","n":"cluster-admin"}"#),
            [true, true]
        );
        // The Kelvin sign folds to `k`: case-insensitive needles may be present.
        assert_eq!(scan("{\"ns\":\"\u{212A}ube-system\"}"), [false, true]);
    }

    #[test]
    fn always_filters_make_the_set_trivial() {
        static ALWAYS: Prefilter = Prefilter::Always;
        assert!(ALWAYS.is_always());
        assert!(!CLUSTER_ADMIN.is_always());
        assert!(PrefilterSet::new(vec![&ALWAYS]).is_trivial());
        assert!(!PrefilterSet::new(vec![&CLUSTER_ADMIN, &ALWAYS]).is_trivial());
        let mixed = PrefilterSet::new(vec![&CLUSTER_ADMIN, &ALWAYS]);
        let mut out = Vec::new();
        assert!(
            mixed.scan(b"{}", &mut out),
            "a rule that always matches keeps every line"
        );
        assert_eq!(out, [false, true], "but the other rule is spared it");
    }
}
