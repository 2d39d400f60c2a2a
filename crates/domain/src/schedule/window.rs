//! When patients may act on a slot: how far ahead they may book, how close to the start
//! booking closes, and until when they may cancel themselves. Staff are not bound by the
//! cancel cut-off; the caller decides who is asking.
//!
//! Boundaries: booking is open while `now < start - book_cutoff` (so at the cut-off instant
//! it is closed, and with no cut-off a slot can be booked until it starts). A patient may
//! cancel while `now <= start - cancel_cutoff` ("until 60 minutes before" includes the
//! 60th minute) and never once the slot has started. "Today" is the local date in the
//! schedule's time zone.

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::definition::Schedule;
use super::slots::Slot;
use crate::directory::HolidayCalendar;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct BookingPolicy {
    /// Bookable up to this many local days ahead, today included.
    pub horizon_days: u16,
    /// Booking closes this long before the slot starts.
    pub book_cutoff_minutes: u32,
    /// Patients may cancel until this long before the slot starts.
    pub cancel_cutoff_minutes: u32,
}

impl Default for BookingPolicy {
    fn default() -> Self {
        BookingPolicy {
            horizon_days: 14,
            book_cutoff_minutes: 0,
            cancel_cutoff_minutes: 60,
        }
    }
}

/// Why a patient cannot act on a slot now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum WindowError {
    #[error("the slot has already started")]
    Past,
    #[error("booking for this slot has closed")]
    Cutoff,
    #[error("the slot is beyond the booking horizon")]
    BeyondHorizon,
    #[error("it is too late to cancel this appointment yourself; please call the hospital")]
    CancelCutoff,
    #[error("the appointment has already started")]
    AlreadyStarted,
}

impl WindowError {
    pub fn code(self) -> &'static str {
        match self {
            WindowError::Past => "slot_in_past",
            WindowError::Cutoff => "booking_closed",
            WindowError::BeyondHorizon => "beyond_horizon",
            WindowError::CancelCutoff => "cancel_cutoff",
            WindowError::AlreadyStarted => "already_started",
        }
    }
}

/// `start - minutes`, or `None` if that is before the earliest representable instant (then
/// every `now` is after it).
fn before(start: DateTime<Utc>, minutes: u32) -> Option<DateTime<Utc>> {
    start.checked_sub_signed(TimeDelta::minutes(i64::from(minutes)))
}

impl Schedule {
    /// The local dates bookable at `now`: today ..= today + horizon_days - 1.
    pub fn horizon(&self, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let today = now.with_timezone(&self.tz()).date_naive();
        let ahead = u64::from(self.policy().horizon_days.saturating_sub(1));
        let last = today
            .checked_add_days(Days::new(ahead))
            .unwrap_or(NaiveDate::MAX);
        (today, last)
    }

    /// The slots a patient could book at `now`: those in the horizon that have not started
    /// and whose booking has not closed. (Whether they still have room is the store's job.)
    pub fn bookable_slots(&self, now: DateTime<Utc>, holidays: &HolidayCalendar) -> Vec<Slot> {
        let (first, last) = self.horizon(now);
        let mut slots = self.slots(first, last, holidays);
        slots.retain(|slot| self.check_bookable(slot, now).is_ok());
        slots
    }

    /// Can a patient book this slot now? Checked in this order: already started, booking
    /// closed, beyond the horizon. Whether `slot` belongs to this schedule is `slot_at`'s job.
    pub fn check_bookable(&self, slot: &Slot, now: DateTime<Utc>) -> Result<(), WindowError> {
        if now >= slot.start {
            return Err(WindowError::Past);
        }
        if before(slot.start, self.policy().book_cutoff_minutes).is_none_or(|close| now >= close) {
            return Err(WindowError::Cutoff);
        }
        let date = slot.start.with_timezone(&self.tz()).date_naive();
        if date > self.horizon(now).1 {
            return Err(WindowError::BeyondHorizon);
        }
        Ok(())
    }

    /// Can a patient (not staff) cancel an appointment starting at `slot_start` now?
    pub fn check_patient_cancel(
        &self,
        slot_start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), WindowError> {
        if now >= slot_start {
            return Err(WindowError::AlreadyStarted);
        }
        if before(slot_start, self.policy().cancel_cutoff_minutes).is_none_or(|last| now > last) {
            return Err(WindowError::CancelCutoff);
        }
        Ok(())
    }
}
