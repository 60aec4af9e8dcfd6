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
        }
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
