//! Scheduled rules: how a live detector runs a stateful rule, the way
//! Sentinel runs a scheduled analytic rule (`docs/rules.md`, "Scheduled
//! rules").
//!
//! ```text
//! each event:  rule.push_prefix (its stateless operators) ─ rows kept with
//!              the event's time, at most --max-buffered-rows (oldest dropped,
//!              reported)
//! each tick T (a multiple of the frequency since the Unix epoch, once the
//!              clock reaches it): a fresh rule ─ start ─ push_rest of the
//!              rows whose time is in [T - period, T) ─ finish; its rows are
//!              written if their count passes the trigger and no alert of
//!              the rule is suppressed at T; rows too old for the next
//!              tick are dropped
//! ```
//!
//! The clock ([`Clock`]) is the wall clock, or (`--clock event`) the
//! newest event time read, so a replayed log fires the same ticks. This
//! module keeps the buffers and the arithmetic; the session
//! ([`crate::detector`]) runs the rules.

use kql_runtime::value::{ticks, DateTime, Row};
use std::collections::VecDeque;
use std::time::Duration;

/// The default `--max-buffered-rows`: rows one scheduled rule may hold
/// between its runs (see `docs/limits.md`).
pub const DEFAULT_MAX_BUFFERED_ROWS: usize = 1_000_000;

/// How a rule runs in a live detector, as kqlc worked it out from the
/// rule's metadata (`@frequency`, `@period`, `@trigger`, `@suppress`, or
/// Sentinel's `queryFrequency`, `queryPeriod`, `triggerOperator`,
/// `triggerThreshold`, `suppressionDuration`). Durations in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Seconds between runs.
    pub frequency: u64,
    /// Seconds of events each run reads, back from its tick.
    pub period: u64,
    /// How a run's row count is compared with [`Schedule::threshold`].
    pub trigger: TriggerOp,
    /// The row count compared.
    pub threshold: u64,
    /// Seconds after an alert during which the rule does not alert (0: none).
    pub suppression: u64,
}

/// Sentinel's `triggerOperator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerOp {
    /// More rows than the threshold.
    Gt,
    /// Fewer rows.
    Lt,
    /// Exactly as many.
    Eq,
    /// Any other number.
    Ne,
}

impl TriggerOp {
    /// Whether a run that gave `rows` rows alerts.
    pub fn holds(self, rows: u64, threshold: u64) -> bool {
        match self {
            TriggerOp::Gt => rows > threshold,
            TriggerOp::Lt => rows < threshold,
            TriggerOp::Eq => rows == threshold,
            TriggerOp::Ne => rows != threshold,
        }
    }
}

/// `--clock`: what moves the schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClockKind {
    /// The system's clock (the default).
    #[default]
    Wall,
    /// The newest event time read so far (replays).
    Event,
}

/// The time scheduled rules run by.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Which clock.
    pub kind: ClockKind,
    /// The newest event time seen (ticks).
    newest_event: Option<i64>,
}

impl Clock {
    /// A clock of this kind that has seen no event.
    pub fn new(kind: ClockKind) -> Clock {
        Clock {
            kind,
            newest_event: None,
        }
    }

    /// The newest event time seen (ticks), whichever the clock's kind.
    pub fn newest_event(&self) -> Option<i64> {
        self.newest_event
    }

    /// Notes an event's time.
    pub fn saw_event(&mut self, at: i64) {
        self.newest_event = Some(self.newest_event.map_or(at, |n| n.max(at)));
    }

    /// The time now, in ticks: the wall clock, or the newest event time
    /// (`None` before the first event).
    pub fn now(&self) -> Option<i64> {
        match self.kind {
            ClockKind::Wall => Some(crate::detector::system_now().0),
            ClockKind::Event => self.newest_event,
        }
    }
}

/// What the buffer of a rule says when a row is offered.
#[derive(Debug, PartialEq, Eq)]
pub enum Offered {
    /// Kept.
    Kept,
    /// Kept, and the oldest row dropped for it; `true` the first time since
    /// the last run (to be reported).
    DroppedOldest(bool),
}

/// One scheduled rule's state between its runs.
#[derive(Debug)]
pub struct RuleSchedule {
    /// Its schedule.
    pub schedule: Schedule,
    /// The rows its prefix gave, with their event time (ticks), in arrival
    /// order.
    rows: VecDeque<(i64, Row)>,
    max_rows: usize,
    /// The last tick run, or the tick before the clock's first reading.
    last_tick: Option<i64>,
    /// Ticks before this one do not alert (after an alert).
    quiet_until: Option<i64>,
    /// Rows dropped at the bound since the last run.
    pub dropped_since_run: u64,
    /// Counters for metrics and the summary.
    pub stats: ScheduleStats,
    /// Counts the changes of what a checkpoint keeps (rows, ticks,
    /// suppression), so an unchanged state is not written again.
    version: u64,
}

/// A scheduled rule's counters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScheduleStats {
    /// Runs made.
    pub runs: u64,
    /// Runs whose rows were written (alerts).
    pub alerts: u64,
    /// Runs that passed the trigger inside a suppression.
    pub suppressed: u64,
    /// Rows dropped at `--max-buffered-rows`.
    pub dropped: u64,
    /// How long the last run took.
    pub last_run: Duration,
    /// All runs' time.
    pub run_time: Duration,
}

impl RuleSchedule {
    /// A rule's schedule with no rows yet, holding at most `max_rows`.
    pub fn new(schedule: Schedule, max_rows: usize) -> RuleSchedule {
        RuleSchedule {
            schedule,
            rows: VecDeque::new(),
            max_rows: max_rows.max(1),
            last_tick: None,
            quiet_until: None,
            dropped_since_run: 0,
            stats: ScheduleStats::default(),
            version: 0,
        }
    }

    /// A number that changes whenever what a `--state` checkpoint keeps of
    /// the rule (rows, last tick, suppression) changes.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn frequency(&self) -> i64 {
        i64::try_from(self.schedule.frequency)
            .unwrap_or(i64::MAX / ticks::PER_SECOND)
            .saturating_mul(ticks::PER_SECOND)
            .max(1)
    }

    fn period(&self) -> i64 {
        i64::try_from(self.schedule.period)
            .unwrap_or(i64::MAX / ticks::PER_SECOND)
            .saturating_mul(ticks::PER_SECOND)
    }

    /// The rows held.
    pub fn buffered(&self) -> usize {
        self.rows.len()
    }

    /// Keeps a row of the prefix, at event time `at`; at the bound the
    /// oldest row goes.
    pub fn offer(&mut self, at: i64, row: Row) -> Offered {
        self.version += 1;
        let mut offered = Offered::Kept;
        if self.rows.len() >= self.max_rows {
            self.rows.pop_front();
            self.stats.dropped += 1;
            self.dropped_since_run += 1;
            offered = Offered::DroppedOldest(self.dropped_since_run == 1);
        }
        self.rows.push_back((at, row));
        offered
    }

    /// The next tick due at clock time `now`, if one is. The first reading
    /// of the clock only sets where the schedule starts: the first tick is
    /// the next multiple of the frequency after it. With nothing buffered,
    /// ticks that would run over nothing are passed over to the last one
    /// due.
    pub fn due(&mut self, now: i64) -> Option<i64> {
        let frequency = self.frequency();
        let aligned = now.div_euclid(frequency).saturating_mul(frequency);
        let Some(last) = self.last_tick else {
            self.version += 1;
            self.last_tick = Some(aligned);
            return None;
        };
        let next = last.saturating_add(frequency);
        if next > now {
            return None;
        }
        if self.rows.is_empty() && aligned > next {
            return Some(aligned);
        }
        Some(next)
    }

    /// The rows a run at `tick` reads, in arrival order: those whose event
    /// time is in `[tick - period, tick)`.
    pub fn window(&self, tick: i64) -> impl Iterator<Item = &Row> + '_ {
        let from = tick.saturating_sub(self.period());
        self.rows
            .iter()
            .filter(move |(at, _)| *at >= from && *at < tick)
            .map(|(_, row)| row)
    }

    /// Records the run at `tick` that gave `rows` rows, taking `took`:
    /// true when they are to be written (the trigger holds and the rule is
    /// not suppressed). Drops the rows no later run reads.
    pub fn ran(&mut self, tick: i64, rows: u64, took: Duration) -> bool {
        self.version += 1;
        self.last_tick = Some(tick);
        self.dropped_since_run = 0;
        self.stats.runs += 1;
        self.stats.last_run = took;
        self.stats.run_time += took;
        let next_from = tick
            .saturating_add(self.frequency())
            .saturating_sub(self.period());
        self.rows.retain(|(at, _)| *at >= next_from);
        if !self.schedule.trigger.holds(rows, self.schedule.threshold) {
            return false;
        }
        if self.quiet_until.is_some_and(|until| tick < until) {
            self.stats.suppressed += 1;
            return false;
        }
        if self.schedule.suppression > 0 {
            let quiet = i64::try_from(self.schedule.suppression)
                .unwrap_or(i64::MAX / ticks::PER_SECOND)
                .saturating_mul(ticks::PER_SECOND);
            self.quiet_until = Some(tick.saturating_add(quiet));
        }
        self.stats.alerts += 1;
        true
    }

    /// The next tick, once the clock has been read.
    pub fn next_tick(&self) -> Option<i64> {
        self.last_tick.map(|t| t.saturating_add(self.frequency()))
    }
}

/// A scheduled rule's state as a `--state` checkpoint keeps it: the rows
/// its runs will read, its last tick and its suppression.
#[cfg(feature = "live")]
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SavedSchedule {
    /// The rule's name (its id).
    pub rule: String,
    /// The last tick run, or where the schedule started.
    pub last_tick: Option<i64>,
    /// Ticks before this one do not alert.
    pub quiet_until: Option<i64>,
    /// Rows dropped at the bound since the last run (reported at the next).
    pub dropped_since_run: u64,
    /// The rows held: event time (ticks) and the row's values, each
    /// encoded by [`value_to_json`].
    pub rows: Vec<(i64, Vec<serde_json::Value>)>,
}

#[cfg(feature = "live")]
impl RuleSchedule {
    /// Its state, for a checkpoint.
    pub fn save(&self, rule: &str) -> SavedSchedule {
        SavedSchedule {
            rule: rule.to_string(),
            last_tick: self.last_tick,
            quiet_until: self.quiet_until,
            dropped_since_run: self.dropped_since_run,
            rows: self
                .rows
                .iter()
                .map(|(at, row)| (*at, row.iter().map(value_to_json).collect()))
                .collect(),
        }
    }

    /// Takes up the state of a checkpoint (replacing its own). Rows past
    /// its bound (a smaller `--max-buffered-rows` than before) drop the
    /// oldest, counted as at the bound. `Err` names the first row that
    /// cannot be read.
    pub fn restore(&mut self, saved: &SavedSchedule) -> Result<(), String> {
        let mut rows = VecDeque::with_capacity(saved.rows.len().min(self.max_rows));
        for (index, (at, values)) in saved.rows.iter().enumerate() {
            let row = values
                .iter()
                .map(value_from_json)
                .collect::<Option<Row>>()
                .ok_or_else(|| {
                    format!(
                        "buffered row {} is not a row this detector wrote",
                        index + 1
                    )
                })?;
            rows.push_back((*at, row));
        }
        self.rows.clear();
        self.last_tick = saved.last_tick;
        self.quiet_until = saved.quiet_until;
        self.dropped_since_run = saved.dropped_since_run;
        for (at, row) in rows {
            self.offer(at, row);
        }
        Ok(())
    }
}

/// A value as JSON that [`value_from_json`] reads back to the same value,
/// type included: `null`, booleans, `long`s (JSON integers), strings and
/// arrays stand for themselves; the other types are one-key objects:
/// `{"i": 1}` (int), `{"r": 1.5}` (real; `"nan"`, `"inf"`, `"-inf"` for
/// those), `{"d": ticks}` (datetime), `{"t": ticks}` (timespan),
/// `{"g": "..."}` (guid), `{"m": "1.5"}` (decimal, its exact text),
/// `{"o": [["key", value], ...]}` (a bag, its keys in order).
#[cfg(feature = "live")]
pub fn value_to_json(value: &kql_runtime::value::Value) -> serde_json::Value {
    use kql_runtime::value::Value;
    use serde_json::{json, Value as Json};
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Long(n) => json!(n),
        Value::String(s) => Json::String(s.to_string()),
        Value::Int(n) => json!({ "i": n }),
        Value::Real(r) if r.is_nan() => json!({ "r": "nan" }),
        Value::Real(r) if r.is_infinite() => {
            json!({ "r": if *r > 0.0 { "inf" } else { "-inf" } })
        }
        Value::Real(r) => json!({ "r": r }),
        Value::DateTime(d) => json!({ "d": d.0 }),
        Value::TimeSpan(t) => json!({ "t": t.0 }),
        Value::Guid(g) => json!({ "g": g.as_str() }),
        Value::Decimal(d) => json!({ "m": d.to_string() }),
        Value::Array(items) => Json::Array(items.iter().map(value_to_json).collect()),
        Value::Bag(bag) => json!({
            "o": bag
                .iter()
                .map(|(k, v)| json!([k, value_to_json(v)]))
                .collect::<Vec<_>>()
        }),
    }
}

/// The value [`value_to_json`] wrote; `None` for JSON it does not write.
#[cfg(feature = "live")]
pub fn value_from_json(json: &serde_json::Value) -> Option<kql_runtime::value::Value> {
    use kql_runtime::value::{Bag, DateTime, TimeSpan, Value};
    use serde_json::Value as Json;
    use std::sync::Arc;
    Some(match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => Value::Long(n.as_i64()?),
        Json::String(s) => Value::string(s.as_str()),
        Json::Array(items) => Value::Array(Arc::new(
            items.iter().map(value_from_json).collect::<Option<_>>()?,
        )),
        Json::Object(map) if map.len() == 1 => {
            let (key, inner) = map.iter().next()?;
            match key.as_str() {
                "i" => Value::Int(i32::try_from(inner.as_i64()?).ok()?),
                "r" => Value::Real(match inner {
                    Json::String(s) if s == "nan" => f64::NAN,
                    Json::String(s) if s == "inf" => f64::INFINITY,
                    Json::String(s) if s == "-inf" => f64::NEG_INFINITY,
                    other => other.as_f64()?,
                }),
                "d" => Value::DateTime(DateTime(inner.as_i64()?)),
                "t" => Value::TimeSpan(TimeSpan(inner.as_i64()?)),
                "g" => Value::Guid(inner.as_str()?.into()),
                "m" => Value::Decimal(kql_runtime::Decimal::parse(inner.as_str()?)?),
                "o" => {
                    let mut entries = Vec::new();
                    for entry in inner.as_array()? {
                        let [key, value] = entry.as_array()?.as_slice() else {
                            return None;
                        };
                        entries.push((key.as_str()?.into(), value_from_json(value)?));
                    }
                    Value::Bag(Arc::new(Bag::from_entries(entries)))
                }
                _ => return None,
            }
        }
        Json::Object(_) => return None,
    })
}

/// `2024-05-28T12:00:00Z` for reports.
pub fn show_time(at: i64) -> String {
    kql_runtime::text::format_datetime(DateTime(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kql_runtime::value::Value;

    const MIN: i64 = ticks::PER_MINUTE;

    fn every_10m(trigger: TriggerOp, threshold: u64, suppression: u64) -> RuleSchedule {
        RuleSchedule::new(
            Schedule {
                frequency: 600,
                period: 600,
                trigger,
                threshold,
                suppression,
            },
            1000,
        )
    }

    fn row(n: i64) -> Row {
        vec![Value::Long(n)]
    }

    #[test]
    fn ticks_are_multiples_of_the_frequency_after_the_first_reading() {
        let mut s = every_10m(TriggerOp::Gt, 0, 0);
        assert_eq!(s.due(3 * MIN), None);
        assert_eq!(s.next_tick(), Some(10 * MIN));
        assert_eq!(s.due(9 * MIN), None);
        s.offer(5 * MIN, row(1));
        assert_eq!(s.due(10 * MIN), Some(10 * MIN));
        let window: Vec<&Row> = s.window(10 * MIN).collect();
        assert_eq!(window, [&row(1)]);
        assert!(s.ran(10 * MIN, 1, Duration::ZERO));
        assert_eq!(
            s.buffered(),
            0,
            "rows older than the next period are dropped"
        );
        assert_eq!(s.due(15 * MIN), None);
    }

    #[test]
    fn a_window_is_half_open_and_overlapping_periods_keep_rows() {
        let mut s = RuleSchedule::new(
            Schedule {
                frequency: 600,
                period: 1200,
                trigger: TriggerOp::Gt,
                threshold: 0,
                suppression: 0,
            },
            1000,
        );
        s.due(0);
        for (at, n) in [(0, 0), (9 * MIN, 1), (10 * MIN, 2), (19 * MIN, 3)] {
            s.offer(at, row(n));
        }
        assert_eq!(s.due(10 * MIN), Some(10 * MIN));
        assert_eq!(s.window(10 * MIN).count(), 2);
        s.ran(10 * MIN, 2, Duration::ZERO);
        assert_eq!(s.buffered(), 4, "the next run reads from 0:00 again");
        assert_eq!(s.due(20 * MIN), Some(20 * MIN));
        assert_eq!(s.window(20 * MIN).count(), 4);
        s.ran(20 * MIN, 4, Duration::ZERO);
        assert_eq!(s.buffered(), 2);
    }

    #[test]
    fn triggers_compare_the_row_count_and_suppression_silences_later_runs() {
        let mut s = every_10m(TriggerOp::Gt, 2, 1200);
        s.due(0);
        assert!(!s.ran(10 * MIN, 2, Duration::ZERO));
        assert!(s.ran(20 * MIN, 3, Duration::ZERO));
        assert!(!s.ran(30 * MIN, 3, Duration::ZERO), "suppressed");
        assert!(s.ran(40 * MIN, 3, Duration::ZERO), "20 minutes later");
        assert_eq!((s.stats.alerts, s.stats.suppressed), (2, 1));
        assert!(TriggerOp::Eq.holds(0, 0) && TriggerOp::Lt.holds(1, 2));
        assert!(TriggerOp::Ne.holds(1, 2) && !TriggerOp::Ne.holds(2, 2));
    }

    #[test]
    fn the_bound_drops_the_oldest_row_and_says_so_once_per_run() {
        let mut s = RuleSchedule::new(every_10m(TriggerOp::Gt, 0, 0).schedule, 2);
        assert_eq!(s.offer(1, row(1)), Offered::Kept);
        assert_eq!(s.offer(2, row(2)), Offered::Kept);
        assert_eq!(s.offer(3, row(3)), Offered::DroppedOldest(true));
        assert_eq!(s.offer(4, row(4)), Offered::DroppedOldest(false));
        assert_eq!(s.window(10 * MIN).collect::<Vec<_>>(), [&row(3), &row(4)]);
        s.ran(10 * MIN, 0, Duration::ZERO);
        assert_eq!(s.offer(5, row(5)), Offered::Kept);
        assert_eq!(s.stats.dropped, 2);
    }

    #[cfg(feature = "live")]
    #[test]
    fn values_of_every_type_go_through_a_checkpoint_unchanged() {
        use kql_runtime::value::{Bag, DateTime, TimeSpan};
        use std::sync::Arc;
        let bag = Bag::from_entries(vec![
            ("z".into(), Value::Long(1)),
            (
                "a".into(),
                Value::Array(Arc::new(vec![Value::Null, Value::Real(0.5)])),
            ),
        ]);
        let values = vec![
            Value::Null,
            Value::Bool(true),
            Value::Int(-3),
            Value::Long(i64::MIN),
            Value::Real(1.0),
            Value::Real(-0.0),
            Value::Real(0.1 + 0.2),
            Value::Real(f64::INFINITY),
            Value::string("{\"d\": 1}"),
            Value::DateTime(DateTime(638_525_000_000_000_000)),
            Value::TimeSpan(TimeSpan(-5)),
            Value::Guid("6f1f5d1e-0000-4000-8000-000000000001".into()),
            Value::Bag(Arc::new(bag)),
        ];
        for value in &values {
            let json = value_to_json(value);
            let text = serde_json::to_string(&json).unwrap();
            let back = value_from_json(&serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(format!("{back:?}"), format!("{value:?}"), "{text}");
        }
        let nan = value_from_json(&value_to_json(&Value::Real(f64::NAN))).unwrap();
        assert!(matches!(nan, Value::Real(r) if r.is_nan()));
        assert_eq!(value_from_json(&serde_json::json!({"x": 1})), None);
        assert_eq!(value_from_json(&serde_json::json!(1.5)), None);
    }

    #[cfg(feature = "live")]
    #[test]
    fn a_saved_schedule_restores_rows_ticks_and_suppression() {
        let mut s = every_10m(TriggerOp::Gt, 0, 1200);
        s.due(0);
        s.offer(MIN, row(1));
        assert!(s.ran(10 * MIN, 1, Duration::ZERO));
        s.offer(12 * MIN, row(2));
        s.offer(13 * MIN, row(3));
        let saved = s.save("r");
        let text = serde_json::to_string(&saved).unwrap();
        let mut restored = every_10m(TriggerOp::Gt, 0, 1200);
        restored
            .restore(&serde_json::from_str(&text).unwrap())
            .unwrap();
        assert_eq!(restored.buffered(), 2);
        assert_eq!(restored.next_tick(), Some(20 * MIN));
        assert_eq!(restored.due(20 * MIN), Some(20 * MIN));
        assert!(
            !restored.ran(20 * MIN, 2, Duration::ZERO),
            "still suppressed"
        );
        let mut small = RuleSchedule::new(every_10m(TriggerOp::Gt, 0, 0).schedule, 1);
        small.restore(&saved).unwrap();
        assert_eq!(small.window(20 * MIN).collect::<Vec<_>>(), [&row(3)]);
        assert_eq!(small.dropped_since_run, 1);
        let mut broken = saved.clone();
        broken.rows[1].1[0] = serde_json::json!({"q": 1});
        assert_eq!(
            small.restore(&broken).unwrap_err(),
            "buffered row 2 is not a row this detector wrote"
        );
    }

    #[test]
    fn an_empty_buffer_skips_to_the_last_tick_due() {
        let mut s = every_10m(TriggerOp::Gt, 0, 0);
        s.due(0);
        assert_eq!(s.due(95 * MIN), Some(90 * MIN));
        s.offer(96 * MIN, row(1));
        s.ran(90 * MIN, 0, Duration::ZERO);
        assert_eq!(s.due(200 * MIN), Some(100 * MIN), "rows: every tick runs");
    }
}
