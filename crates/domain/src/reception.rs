//! Walk-in reception's rules: the visit state machine, waiting numbers and their prefixes,
//! the local day that keys numbering, when a hospital takes walk-ins, and a patient's place
//! in line with an estimated wait.
//!
//! Nothing here does IO. The store enforces the same transitions with a trigger; the server
//! asks here first so a refusal is explained without a round trip.

mod number;
mod status;
mod wait;

pub use number::{NumberPrefix, PrefixProblem, WaitingNumber};
pub use status::{ALL_VISIT_TRANSITIONS, IllegalVisitTransition, VisitStatus};
pub use wait::{
    DEFAULT_CONSULTATION_SECS, estimate_wait_secs, position_in, typical_consultation_secs,
};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::directory::{HolidayCalendar, Timetable};

/// The hospital's local calendar day at `now`: waiting numbers start again at 1 when it
/// changes, because the day is part of the counter's key (no reset job, no reset button).
pub fn local_day(now: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// Whether reception takes walk-ins at this local time: between opening and closing on an
/// open day (the holiday hours on a public holiday). Unlike the directory's open-now rule, the
/// lunch break counts as open: patients may join the line while the doctors eat.
pub fn accepts_walk_ins(
    timetable: &Timetable,
    local: NaiveDateTime,
    holidays: &HolidayCalendar,
) -> bool {
    use chrono::{Datelike, Timelike};
    let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(u16::MAX);
    let day = if holidays.is_holiday(local.date()) {
        timetable.holiday
    } else {
        timetable.weekly[local.weekday().num_days_from_monday() as usize]
    };
    day.is_some_and(|h| minute >= h.open() && minute < h.close())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DayHours;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn the_local_day_changes_at_local_midnight_not_utc_midnight() {
        let seoul = chrono_tz::Asia::Seoul;
        // 14:59:59 UTC is 23:59:59 in Seoul; a second later it is the next day there.
        let before: DateTime<Utc> = "2026-11-22T14:59:59Z".parse().unwrap();
        let after: DateTime<Utc> = "2026-11-22T15:00:00Z".parse().unwrap();
        assert_eq!(local_day(before, seoul).to_string(), "2026-11-22");
        assert_eq!(local_day(after, seoul).to_string(), "2026-11-23");
        assert_eq!(local_day(after, chrono_tz::UTC).to_string(), "2026-11-22");
    }

    #[test]
    fn walk_ins_are_taken_during_hours_and_lunch_but_not_after_closing_or_on_holidays() {
        let weekday = DayHours::new(540, 1080, Some((780, 840))).unwrap();
        let t = Timetable {
            weekly: [
                Some(weekday),
                Some(weekday),
                Some(weekday),
                Some(weekday),
                Some(weekday),
                None,
                None,
            ],
            holiday: None,
        };
        let none = HolidayCalendar::empty();
        // 2026-11-23 is a Monday.
        assert!(accepts_walk_ins(&t, at("2026-11-23 09:00"), &none));
        assert!(accepts_walk_ins(&t, at("2026-11-23 13:30"), &none), "lunch");
        assert!(!accepts_walk_ins(&t, at("2026-11-23 08:59"), &none));
        assert!(!accepts_walk_ins(&t, at("2026-11-23 18:00"), &none));
        assert!(
            !accepts_walk_ins(&t, at("2026-11-22 10:00"), &none),
            "Sunday"
        );
        let holiday = HolidayCalendar::empty().with([at("2026-11-23 00:00").date()]);
        assert!(!accepts_walk_ins(&t, at("2026-11-23 10:00"), &holiday));
    }
}
