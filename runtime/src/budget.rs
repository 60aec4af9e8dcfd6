//! The memory budget of stateful operators (`--max-memory`,
//! `docs/limits.md`).
//!
//! A detector installs a counting allocator (`kql_detector::budget`) that
//! keeps [`live_bytes`] up to date. Before it hands a rule a row (or asks
//! for its final rows) it sets a [`ceiling`]: the live-heap level at which
//! that rule has used up its budget. Operators whose output can grow far
//! beyond their input inside one call (a join's matches) check
//! [`over_ceiling`] as they go and stop early; the detector then stops the
//! rule with an error and drops its partial result, so a rule never reports
//! a cut-short table as if it were whole. Without a counting allocator
//! (`kql!` in a program of its own) nothing is measured and nothing stops.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The live heap, less what threads have not yet added ([`PENDING`]).
static LIVE: AtomicI64 = AtomicI64::new(0);

/// How far a thread's unpublished allocations may go (either way) before
/// it adds them to [`LIVE`]. One shared atomic per allocation made
/// `--threads 2` fight over one cache line on every `malloc` and `free`;
/// now a thread touches it once per this many bytes. The calling thread
/// adds its own pending bytes when it reads the level, so one thread
/// measures exactly; with workers, the level is short by at most this much
/// per worker.
const SLACK: i64 = 64 << 10;
static COUNTING: AtomicBool = AtomicBool::new(false);
static CEILING: AtomicUsize = AtomicUsize::new(usize::MAX);
static TRIPPED: AtomicBool = AtomicBool::new(false);

/// Silent caps that were hit since the last [`take_caps_hit`]: a value a
/// function or aggregate cut at a limit the reference documents (the
/// default `make_set` size, `range()`'s length) is right by the reference,
/// but the detector says so on stderr and in the summary.
static CAPS_HIT: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
static ANY_CAP_HIT: AtomicBool = AtomicBool::new(false);

/// Notes that `cap` (e.g. "make_set's default size of 1048576") was hit.
pub fn cap_hit(cap: &'static str) {
    if let Ok(mut caps) = CAPS_HIT.lock() {
        if !caps.contains(&cap) {
            caps.push(cap);
        }
    }
    ANY_CAP_HIT.store(true, Ordering::Relaxed);
}

/// The caps hit since the last call (cheap when none was).
pub fn take_caps_hit() -> Vec<&'static str> {
    if !ANY_CAP_HIT.load(Ordering::Relaxed) || !ANY_CAP_HIT.swap(false, Ordering::Relaxed) {
        return Vec::new();
    }
    CAPS_HIT
        .lock()
        .map(|mut caps| std::mem::take(&mut *caps))
        .unwrap_or_default()
}

thread_local! {
    /// Bytes allocated minus bytes freed by this thread (`--threads`: what
    /// a worker's partial state holds, measured apart from the others').
    static THREAD_NET: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
    /// This thread's allocations not yet added to [`LIVE`].
    static PENDING: std::cell::Cell<i64> = const { std::cell::Cell::new(0) };
}

/// Adds `delta` to this thread's pending bytes, publishing them to
/// [`LIVE`] past the slack (or when the thread-locals are gone).
#[inline]
fn account(delta: i64) {
    let _ = THREAD_NET.try_with(|net| net.set(net.get().wrapping_add(delta)));
    let published = PENDING.try_with(|pending| {
        let now = pending.get().wrapping_add(delta);
        if now.abs() > SLACK {
            LIVE.fetch_add(now, Ordering::Relaxed);
            pending.set(0);
        } else {
            pending.set(now);
        }
    });
    if published.is_err() {
        LIVE.fetch_add(delta, Ordering::Relaxed);
    }
}

/// The live level as this thread sees it: the published level and its own
/// pending bytes.
fn live_level() -> usize {
    let own = PENDING.try_with(std::cell::Cell::get).unwrap_or(0);
    usize::try_from(LIVE.load(Ordering::Relaxed).wrapping_add(own)).unwrap_or(0)
}

/// Records an allocation (called by the counting allocator).
pub fn allocated(bytes: usize) {
    account(bytes as i64);
}

/// Records a deallocation (called by the counting allocator).
pub fn freed(bytes: usize) {
    account((bytes as i64).wrapping_neg());
}

/// Bytes this thread has allocated minus those it has freed (on any
/// thread's allocations), when a counting allocator is installed: the
/// difference of two readings is what the thread's work in between holds.
pub fn thread_net_bytes() -> i64 {
    THREAD_NET.try_with(std::cell::Cell::get).unwrap_or(0)
}

/// Says that a counting allocator is installed, so [`live_bytes`] means
/// something.
pub fn start_counting() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// The bytes the program holds on the heap now, when a counting allocator
/// is installed.
pub fn live_bytes() -> Option<usize> {
    COUNTING.load(Ordering::Relaxed).then(live_level)
}

/// Sets the live-heap level past which the rule now running is over its
/// budget (`usize::MAX`: no limit).
pub fn ceiling(level: usize) {
    CEILING.store(level, Ordering::Relaxed);
}

/// True when the heap has grown past the [`ceiling`]. An operator that
/// stops early for it leaves a mark that [`take_tripped`] reads, so a cut
/// short result is never taken for a whole one.
pub fn over_ceiling() -> bool {
    let over = live_level() > CEILING.load(Ordering::Relaxed);
    if over {
        TRIPPED.store(true, Ordering::Relaxed);
    }
    over
}

/// True when [`over_ceiling`] said so since the last call; clears the mark.
pub fn take_tripped() -> bool {
    TRIPPED.swap(false, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a thread allocates shows at once to itself (exactly: the one
    /// thread of a detector measures its rules to the byte), and to other
    /// threads once it passes the slack.
    #[test]
    fn a_thread_sees_its_own_bytes_and_others_past_the_slack() {
        start_counting();
        let base = live_bytes().expect("counting");
        allocated(100);
        assert_eq!(live_bytes(), Some(base + 100));
        freed(40);
        assert_eq!(live_bytes(), Some(base + 60));
        assert_eq!(thread_net_bytes(), 60);
        // Past the slack the bytes are published; still exact here.
        allocated(SLACK as usize * 3);
        assert_eq!(live_bytes(), Some(base + 60 + SLACK as usize * 3));
        freed(SLACK as usize * 3 + 60);
        assert_eq!(live_bytes(), Some(base));
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    allocated(1000);
                    assert_eq!(thread_net_bytes(), 1000);
                    assert_eq!(live_bytes(), Some(base + 1000));
                })
                .join()
                .unwrap();
            // Within the slack: not yet seen by this thread.
            assert_eq!(live_bytes(), Some(base));
            scope
                .spawn(|| {
                    allocated(SLACK as usize + 1);
                })
                .join()
                .unwrap();
            assert_eq!(live_bytes(), Some(base + SLACK as usize + 1));
            // Freed here what the other thread allocated: the level drops
            // for this thread at once, and never reads below zero.
            freed(SLACK as usize + 1 + 1000);
            assert_eq!(live_bytes(), Some(base.saturating_sub(1000)));
        });
    }
}
