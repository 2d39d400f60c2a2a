//! The clock reception reads. Days (and so waiting numbers) change at the hospital's local
//! midnight, which tests must be able to reach without waiting for it: they shift this clock.
//! It always runs at real speed; only its offset from the system clock can be set.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Acquire))
    }

    /// Makes `now()` read `at` at this moment (and run on from there).
    pub fn set(&self, at: DateTime<Utc>) {
        let offset = (at - Utc::now()).num_milliseconds();
        self.offset_ms.store(offset, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_reads_the_set_time_and_runs_on() {
        let clock = Clock::default();
        let at: DateTime<Utc> = "2026-11-22T14:59:59Z".parse().unwrap();
        clock.set(at);
        let read = clock.now();
        // Millisecond offsets: the read is within a millisecond before `at` or a little after.
        assert!((read - at).abs() < Duration::seconds(5), "{read}");
    }
}
