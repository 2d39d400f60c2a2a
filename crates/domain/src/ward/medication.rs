//! The medicine-delivery round: each patient's medicine is `to_do` until the delivery robot
//! scans its QR code (`done`), and goes back to `to_do` at fixed local times of day. The reset
//! is computed, not scheduled in memory: given when the last reset happened, whether one is
//! due now and when the next one falls are pure functions, so any instance can run the job
//! and a missed run is caught up by the next.

use chrono::{DateTime, Days, FixedOffset, NaiveTime, TimeZone, Utc};

labelled_enum! {
    MedicationStatus {
        ToDo => "to_do", "투약 전", "To do";
        Done => "done", "투약 완료", "Done";
    }
}

/// Why a delivery or a schedule was refused. [`MedicationProblem::code`] is stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MedicationProblem {
    #[error("this medicine was already delivered in this round")]
    AlreadyDelivered,
    #[error("a reset schedule needs at least one time of day")]
    NoResetTimes,
}

impl MedicationProblem {
    pub fn code(&self) -> &'static str {
        match self {
            MedicationProblem::AlreadyDelivered => "already_delivered",
            MedicationProblem::NoResetTimes => "no_reset_times",
        }
    }
}

impl MedicationStatus {
    /// The robot's scan. A second scan in the same round is refused so the caller can tell
    /// a duplicate from a delivery (and answer it idempotently if it wishes).
    pub fn deliver(self) -> Result<MedicationStatus, MedicationProblem> {
        match self {
            MedicationStatus::ToDo => Ok(MedicationStatus::Done),
            MedicationStatus::Done => Err(MedicationProblem::AlreadyDelivered),
        }
    }
}

/// Local times of day at which every status goes back to `to_do`, in a fixed UTC offset
/// (Asia/Seoul is +09:00 all year; zones with daylight saving would need a zone database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetSchedule {
    times: Vec<NaiveTime>,
    offset: FixedOffset,
}

impl ResetSchedule {
    /// Sorts and de-duplicates the times.
    pub fn new(
        times: impl IntoIterator<Item = NaiveTime>,
        offset: FixedOffset,
    ) -> Result<Self, MedicationProblem> {
        let mut times: Vec<_> = times.into_iter().collect();
        times.sort_unstable();
        times.dedup();
        if times.is_empty() {
            return Err(MedicationProblem::NoResetTimes);
        }
        Ok(Self { times, offset })
    }

    pub fn times(&self) -> &[NaiveTime] {
        &self.times
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    /// Reset instants on the local day of `instant`, the day before and the day after: enough
    /// to bracket any instant, since every day has at least one.
    fn around(&self, instant: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        let today = instant.with_timezone(&self.offset).date_naive();
        [
            today.checked_sub_days(Days::new(1)),
            Some(today),
            today.checked_add_days(Days::new(1)),
        ]
        .into_iter()
        .flatten()
        .flat_map(move |day| {
            self.times.iter().filter_map(move |&time| {
                // A fixed offset maps every local time to exactly one instant.
                self.offset
                    .from_local_datetime(&day.and_time(time))
                    .single()
                    .map(|local| local.with_timezone(&Utc))
            })
        })
    }

    /// The first reset strictly after `instant`.
    pub fn next_reset_after(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        self.around(instant)
            .filter(|&reset| reset > instant)
            .min()
            .unwrap_or(instant)
    }

    /// The latest reset at or before `instant`: what a catching-up job records as done.
    pub fn latest_reset_at_or_before(&self, instant: DateTime<Utc>) -> DateTime<Utc> {
        self.around(instant)
            .filter(|&reset| reset <= instant)
            .max()
            .unwrap_or(instant)
    }

    /// Has a reset time passed since `last_reset`? Several passed (the job was down) still
    /// means one reset: statuses only go back to `to_do`.
    pub fn is_reset_due(&self, last_reset: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.next_reset_after(last_reset) <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seoul() -> FixedOffset {
        FixedOffset::east_opt(9 * 3600).unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn rounds() -> ResetSchedule {
        ResetSchedule::new([hm(18, 0), hm(6, 0), hm(12, 0), hm(6, 0)], seoul()).unwrap()
    }

    #[test]
    fn delivery_moves_to_done_once_per_round() {
        assert_eq!(MedicationStatus::ToDo.deliver(), Ok(MedicationStatus::Done));
        let err = MedicationStatus::Done.deliver().unwrap_err();
        assert_eq!(err.code(), "already_delivered");
        assert_eq!("to_do".parse(), Ok(MedicationStatus::ToDo));
    }

    #[test]
    fn the_next_reset_is_the_next_local_time_of_day_in_seoul() {
        let s = rounds();
        assert_eq!(s.times(), [hm(6, 0), hm(12, 0), hm(18, 0)]);
        assert_eq!(
            s.next_reset_after(at("2026-03-01T07:00:00+09:00")),
            at("2026-03-01T12:00:00+09:00")
        );
        assert_eq!(
            s.next_reset_after(at("2026-03-01T12:00:00+09:00")),
            at("2026-03-01T18:00:00+09:00"),
            "strictly after"
        );
        assert_eq!(
            s.next_reset_after(at("2026-03-01T20:00:00+09:00")),
            at("2026-03-02T06:00:00+09:00"),
            "over midnight"
        );
        // 23:30 UTC on 28 Feb is already 08:30 on 1 March in Seoul.
        assert_eq!(
            s.next_reset_after(at("2026-02-28T23:30:00Z")),
            at("2026-03-01T12:00:00+09:00")
        );
    }

    #[test]
    fn a_reset_is_due_once_a_reset_time_has_passed_since_the_last_one() {
        let s = rounds();
        let last = at("2026-03-01T06:00:00+09:00");
        assert!(!s.is_reset_due(last, at("2026-03-01T11:59:59+09:00")));
        assert!(s.is_reset_due(last, at("2026-03-01T12:00:00+09:00")));
        assert!(
            s.is_reset_due(last, at("2026-03-03T00:00:00+09:00")),
            "job was down"
        );
        assert_eq!(
            s.latest_reset_at_or_before(at("2026-03-03T00:00:00+09:00")),
            at("2026-03-02T18:00:00+09:00")
        );
    }

    #[test]
    fn a_schedule_needs_a_time() {
        let err = ResetSchedule::new([], seoul()).unwrap_err();
        assert_eq!(err.code(), "no_reset_times");
    }
}
