//! The building blocks of a doctor's week as an admin enters them: weekly sessions, breaks
//! and date exceptions. Times are local wall-clock times in the schedule's time zone, in whole
//! minutes, and a window never crosses midnight: its end is later the same day. (A session
//! past midnight is rare in out-patient care; modelling it would make "which day is this
//! slot on" ambiguous for holidays and leave.)

use chrono::{NaiveDate, NaiveTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};

/// A session that repeats every week: back-to-back slots of `slot_minutes` from `start`, as
/// many as fit before `end`, each with room for `capacity` patients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WeeklyRule {
    pub weekday: Weekday,
    pub start: NaiveTime,
    pub end: NaiveTime,
    pub slot_minutes: u16,
    pub capacity: u16,
}

/// Time nobody can book (lunch, ward rounds). A slot that touches a break is dropped, not
/// shortened: a 30-minute consultation cut to 10 is worse than none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Break {
    /// `None` = every day.
    pub weekday: Option<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

/// What happens on an exception's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExceptionKind {
    /// Leave or a holiday: no slots in the window.
    Closed,
    /// An extra session: slots in the window, like a weekly rule for that one date.
    Extra { slot_minutes: u16, capacity: u16 },
}

/// A change to one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Exception {
    pub date: NaiveDate,
    /// Both `None` = the whole day; both `Some` = the window `start..end`.
    pub start: Option<NaiveTime>,
    pub end: Option<NaiveTime>,
    #[serde(flatten)]
    pub kind: ExceptionKind,
}

/// Minutes of a day; `DAY_END` is midnight at the end of the day.
pub(super) type Minute = u16;
pub(super) const DAY_END: Minute = 24 * 60;

/// Minutes after midnight. Only exact for whole-minute times, which `Schedule::new` ensures.
pub(super) fn minute_of(time: NaiveTime) -> Minute {
    // hour < 24 and minute < 60, so this fits.
    (time.hour() * 60 + time.minute()) as Minute
}

/// Half-open intervals `[a.0, a.1)` and `[b.0, b.1)` share at least one minute.
pub(super) fn overlaps(a: (Minute, Minute), b: (Minute, Minute)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

impl WeeklyRule {
    pub(super) fn window(&self) -> (Minute, Minute) {
        (minute_of(self.start), minute_of(self.end))
    }
}

impl Break {
    pub fn applies_on(&self, weekday: Weekday) -> bool {
        self.weekday.is_none_or(|w| w == weekday)
    }

    pub(super) fn window(&self) -> (Minute, Minute) {
        (minute_of(self.start), minute_of(self.end))
    }
}

impl Exception {
    /// Closes `date` all day.
    pub fn closed_all_day(date: NaiveDate) -> Self {
        Exception {
            date,
            start: None,
            end: None,
            kind: ExceptionKind::Closed,
        }
    }

    pub fn is_whole_day(&self) -> bool {
        self.start.is_none() && self.end.is_none()
    }

    /// The window in minutes; a whole day is `0..DAY_END`. A half-given window (rejected by
    /// `Schedule::new`) is read as open-ended on the missing side.
    pub(super) fn window(&self) -> (Minute, Minute) {
        (
            self.start.map_or(0, minute_of),
            self.end.map_or(DAY_END, minute_of),
        )
    }
}
