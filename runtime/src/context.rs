//! What a running query knows beyond its rows.

use crate::value::{DateTime, Value};

/// The evaluation context of a run.
#[derive(Clone, Debug)]
pub struct Context {
    /// What `now()` returns and `ago()` counts back from: the start of the run,
    /// or the `--now` given to replay old logs. Fixed for the whole run, as in
    /// Kusto, where `now()` is the same everywhere in one query.
    pub now: DateTime,
}

/// A value that depends on the run only (`ago(1d)`, `now()`, or constants
/// computed from them), kept in a rule's state: computed on first use, and
/// again only when the run's `now` changes (a scheduled run at a later
/// tick), so a predicate does not recompute it for every row.
#[derive(Debug, Default)]
pub struct RunConstant {
    /// The `now` it was computed for.
    now: Option<DateTime>,
    /// The value.
    value: Value,
}

impl RunConstant {
    /// The value for the run of `ctx`, computed by `compute` the first time.
    pub fn get(&mut self, ctx: &Context, compute: impl FnOnce(&Context) -> Value) -> &Value {
        if self.now != Some(ctx.now) {
            self.value = compute(ctx);
            self.now = Some(ctx.now);
        }
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_constant_is_computed_once_per_now() {
        let mut constant = RunConstant::default();
        let mut calls = 0;
        let mut get = |constant: &mut RunConstant, now: i64| {
            let ctx = Context { now: DateTime(now) };
            constant
                .get(&ctx, |ctx| {
                    calls += 1;
                    Value::DateTime(DateTime(ctx.now.0 - 5))
                })
                .clone()
        };
        assert_eq!(get(&mut constant, 100), Value::DateTime(DateTime(95)));
        assert_eq!(get(&mut constant, 100), Value::DateTime(DateTime(95)));
        assert_eq!(get(&mut constant, 200), Value::DateTime(DateTime(195)));
        assert_eq!(calls, 2);
    }
}
