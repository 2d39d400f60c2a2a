//! Expanding a schedule into bookable slots.
//!
//! Per local date, in wall-clock minutes:
//! 1. each weekly rule for the weekday lays back-to-back slots from its start; a slot that
//!    would end after the rule's end is dropped (unless `closed_on_holidays` and the date is
//!    a public holiday: then the rules offer nothing that day);
//! 2. each extra session on the date does the same in its window;
//! 3. a slot overlapping a break for the weekday (or an every-day break) or a closed window
//!    on the date is dropped, never shortened;
//! 4. an extra slot overlapping a rule slot that survived 1–3 is dropped: the weekly slot is
//!    the one patients may already hold, so it wins.
//!
//! Then each wall-clock start becomes an instant in the schedule's time zone. A start that
//! does not exist (clocks spring forward over it) is skipped; an ambiguous one (clocks fall
//! back) takes the earlier instant. A slot always lasts exactly its length in real time, and
//! one during which the clocks spring forward is dropped: on the wall clock it would run
//! into the next slot. Together these keep slots sorted and non-overlapping in real time.

use chrono::{
    DateTime, Datelike, NaiveDate, NaiveTime, Offset, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::definition::Schedule;
use super::week::{ExceptionKind, Minute, overlaps};
use crate::directory::HolidayCalendar;

/// A bookable time: `start..end` (end exclusive) with room for `capacity` patients.
/// Ordered by start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub capacity: u16,
}

impl Slot {
    pub fn minutes(&self) -> i64 {
        (self.end - self.start).num_minutes()
    }
}

/// A slot before it meets the time zone.
#[derive(Debug, Clone, Copy)]
struct WallSlot {
    start: Minute,
    len: u16,
    capacity: u16,
}

impl WallSlot {
    fn window(&self) -> (Minute, Minute) {
        (self.start, self.start + self.len)
    }
}

/// Back-to-back slots from `start`, as many as end by `end`.
fn lay((start, end): (Minute, Minute), len: u16, capacity: u16) -> impl Iterator<Item = WallSlot> {
    // `Schedule::new` keeps len ≥ 5, so this terminates.
    (start..end)
        .step_by(usize::from(len.max(1)))
        .take_while(move |&m| m + len <= end)
        .map(move |m| WallSlot {
            start: m,
            len,
            capacity,
        })
}

impl Schedule {
    /// Every slot whose local start date is in `from..=to`, sorted by start, no duplicates.
    /// Empty if `from > to`. Cost is linear in the number of days; callers bound the range.
    pub fn slots(&self, from: NaiveDate, to: NaiveDate, holidays: &HolidayCalendar) -> Vec<Slot> {
        let mut out = Vec::new();
        let mut day = from;
        while day <= to {
            self.push_day(day, holidays, &mut out);
            match day.succ_opt() {
                Some(next) => day = next,
                None => break,
            }
        }
        out
    }

    /// The slot that starts exactly at `start`, if the schedule has one. This is how a
    /// booking request's time is checked against the schedule.
    ///
    /// Only the wall-clock slot starting at `start`'s local minute is turned into an instant:
    /// a slot's instant always shows its own wall-clock start in the zone, so no other can
    /// match, and every booking attempt asks this (converting the whole day's slots was
    /// ~5 % of a refused booking's cost).
    pub fn slot_at(&self, start: DateTime<Utc>, holidays: &HolidayCalendar) -> Option<Slot> {
        let local = start.with_timezone(&self.tz());
        let minute = Minute::try_from(local.hour() * 60 + local.minute()).ok()?;
        let date = local.date_naive();
        self.wall_day(date, holidays)
            .iter()
            .filter(|w| w.start == minute)
            .find_map(|w| self.to_instant(date, w).filter(|slot| slot.start == start))
    }

    fn push_day(&self, date: NaiveDate, holidays: &HolidayCalendar, out: &mut Vec<Slot>) {
        let wall = self.wall_day(date, holidays);
        out.extend(wall.iter().filter_map(|w| self.to_instant(date, w)));
    }

    /// The date's slots on the wall clock (steps 1–4 of the module doc), sorted by start.
    fn wall_day(&self, date: NaiveDate, holidays: &HolidayCalendar) -> Vec<WallSlot> {
        let weekday = date.weekday();
        let on_date = || self.exceptions().iter().filter(move |e| e.date == date);
        let blocked: Vec<(Minute, Minute)> = self
            .breaks()
            .iter()
            .filter(|b| b.applies_on(weekday))
            .map(|b| b.window())
            .chain(
                on_date()
                    .filter(|e| e.kind == ExceptionKind::Closed)
                    .map(|e| e.window()),
            )
            .collect();
        let free = |slot: &WallSlot| !blocked.iter().any(|&w| overlaps(w, slot.window()));

        let mut wall: Vec<WallSlot> = Vec::new();
        if !(self.closed_on_holidays() && holidays.is_holiday(date)) {
            for rule in self.rules().iter().filter(|r| r.weekday == weekday) {
                wall.extend(lay(rule.window(), rule.slot_minutes, rule.capacity).filter(free));
            }
        }
        for extra in on_date() {
            if let ExceptionKind::Extra {
                slot_minutes,
                capacity,
            } = extra.kind
            {
                for slot in lay(extra.window(), slot_minutes, capacity).filter(free) {
                    // Rules come first in `wall`, and extras never overlap each other
                    // (`Schedule::new`), so this keeps the rule slot.
                    if !wall.iter().any(|w| overlaps(w.window(), slot.window())) {
                        wall.push(slot);
                    }
                }
            }
        }
        wall.sort_unstable_by_key(|w| w.start);
        wall
    }

    fn to_instant(&self, date: NaiveDate, slot: &WallSlot) -> Option<Slot> {
        let tz = self.tz();
        let time =
            NaiveTime::from_hms_opt(u32::from(slot.start / 60), u32::from(slot.start % 60), 0)?;
        let start = tz
            .from_local_datetime(&date.and_time(time))
            .earliest()?
            .with_timezone(&Utc);
        let end = start.checked_add_signed(TimeDelta::minutes(i64::from(slot.len)))?;
        // The last second, not `end`: a slot that ends exactly as the clocks jump is whole.
        let last = end - TimeDelta::seconds(1);
        if offset_seconds(tz, last) > offset_seconds(tz, start) {
            return None;
        }
        Some(Slot {
            start,
            end,
            capacity: slot.capacity,
        })
    }
}

fn offset_seconds(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc())
        .fix()
        .local_minus_utc()
}
