//! Table-driven examples of the schedule rules: breaks, exceptions, holidays, cut-offs, the
//! horizon at local midnight, daylight-saving edges, and every way `Schedule::new` refuses.
//! The helpers are here; each subject has a file of its own.

mod refusals;
mod slots;
mod window;
mod zones;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use docde_domain::directory::HolidayCalendar;
use docde_domain::schedule::{
    BookingPolicy, Break, DEFAULT_TZ, Exception, ExceptionKind, Schedule, ScheduleError, Slot,
    WeeklyRule, WindowError,
};

fn t(hhmm: &str) -> NaiveTime {
    NaiveTime::parse_from_str(hhmm, "%H:%M").unwrap()
}

fn d(ymd: &str) -> NaiveDate {
    NaiveDate::parse_from_str(ymd, "%Y-%m-%d").unwrap()
}

fn utc(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

fn rule(weekday: Weekday, start: &str, end: &str, slot_minutes: u16) -> WeeklyRule {
    WeeklyRule {
        weekday,
        start: t(start),
        end: t(end),
        slot_minutes,
        capacity: 1,
    }
}

fn brk(weekday: Option<Weekday>, start: &str, end: &str) -> Break {
    Break {
        weekday,
        start: t(start),
        end: t(end),
    }
}

fn closed(date: &str, window: Option<(&str, &str)>) -> Exception {
    Exception {
        date: d(date),
        start: window.map(|w| t(w.0)),
        end: window.map(|w| t(w.1)),
        kind: ExceptionKind::Closed,
    }
}

fn extra(date: &str, start: &str, end: &str, slot_minutes: u16, capacity: u16) -> Exception {
    Exception {
        date: d(date),
        start: Some(t(start)),
        end: Some(t(end)),
        kind: ExceptionKind::Extra {
            slot_minutes,
            capacity,
        },
    }
}

fn seoul(rules: Vec<WeeklyRule>, breaks: Vec<Break>, exceptions: Vec<Exception>) -> Schedule {
    Schedule::new(
        DEFAULT_TZ,
        rules,
        breaks,
        exceptions,
        true,
        BookingPolicy::default(),
    )
    .unwrap()
}

/// Local start times ("HH:MM") of the slots on `date`.
fn starts(schedule: &Schedule, date: &str, holidays: &HolidayCalendar) -> Vec<String> {
    schedule
        .slots(d(date), d(date), holidays)
        .iter()
        .map(|s| {
            s.start
                .with_timezone(&schedule.tz())
                .format("%H:%M")
                .to_string()
        })
        .collect()
}

fn no_holidays() -> HolidayCalendar {
    HolidayCalendar::empty()
}

// 2026-11-23 is a Monday, 2026-11-24 a Tuesday, 2026-11-29 a Sunday.
const MONDAY: &str = "2026-11-23";
const TUESDAY: &str = "2026-11-24";
const SUNDAY: &str = "2026-11-29";

fn policy(
    horizon_days: u16,
    book_cutoff_minutes: u32,
    cancel_cutoff_minutes: u32,
) -> BookingPolicy {
    BookingPolicy {
        horizon_days,
        book_cutoff_minutes,
        cancel_cutoff_minutes,
    }
}

fn with_policy(p: BookingPolicy) -> Schedule {
    Schedule::new(
        DEFAULT_TZ,
        vec![rule(Weekday::Mon, "09:00", "12:00", 30)],
        vec![],
        vec![],
        true,
        p,
    )
    .unwrap()
}
