//! What a running query knows beyond its rows.

use crate::value::DateTime;

/// The evaluation context of a run.
#[derive(Clone, Debug)]
pub struct Context {
    /// What `now()` returns and `ago()` counts back from: the start of the run,
    /// or the `--now` given to replay old logs. Fixed for the whole run, as in
    /// Kusto, where `now()` is the same everywhere in one query.
    pub now: DateTime,
}
