//! The literal prefilter's formula: what a rule needs an input line to
//! contain for it to produce a row from that line.
//!
//! The compiler derives, from a rule's leading `where` clauses, byte strings
//! that every line producing a result must contain, combined by the
//! clauses' `and`/`or` structure ([`Prefilter`]). The detector host
//! (`kql-detector`'s `prefilter` module) searches lines for them and parses
//! a line only for the rules whose formula can be true. The compiler only
//! emits needles free of JSON structure and number spellings (see
//! `kqlc::plan::prefilter`).

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
    /// Evaluates the formula; `present(text, ci)` says whether a needle may
    /// be in the line.
    pub fn holds(&self, present: &dyn Fn(&str, bool) -> bool) -> bool {
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
