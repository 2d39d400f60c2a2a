//! Weekly opening hours. Times are minutes after local midnight (0..=1440; 1440 closes at
//! midnight). Hours that run past midnight are not modelled: a 24-hour service is open
//! 00:00–24:00.

use chrono::{Datelike, NaiveDateTime, Timelike};

use super::HolidayCalendar;

/// One day's hours: open from `open` (inclusive) to `close` (exclusive), except during lunch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayHours {
    open: u16,
    close: u16,
    lunch: Option<(u16, u16)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimetableProblem {
    #[error("times must be between 00:00 and 24:00")]
    OutOfDay,
    #[error("closing time must be after opening time")]
    ClosesBeforeOpening,
    #[error("the lunch break must end after it starts and lie within opening hours")]
    LunchOutsideHours,
    #[error("times are written HH:MM, e.g. 09:00")]
    Format,
}

impl DayHours {
    pub fn new(open: u16, close: u16, lunch: Option<(u16, u16)>) -> Result<Self, TimetableProblem> {
        if open > 1440 || close > 1440 {
            return Err(TimetableProblem::OutOfDay);
        }
        if close <= open {
            return Err(TimetableProblem::ClosesBeforeOpening);
        }
        if let Some((start, end)) = lunch
            && (end <= start || start <= open || end >= close)
        {
            return Err(TimetableProblem::LunchOutsideHours);
        }
        Ok(Self { open, close, lunch })
    }

    pub fn open(&self) -> u16 {
        self.open
    }

    pub fn close(&self) -> u16 {
        self.close
    }

    pub fn lunch(&self) -> Option<(u16, u16)> {
        self.lunch
    }

    /// Open at this minute of the day? The closing minute and the first minute after lunch
    /// starts are closed; the minute lunch ends is open again.
    pub fn is_open_at(&self, minute: u16) -> bool {
        let in_hours = minute >= self.open && minute < self.close;
        let at_lunch = self
            .lunch
            .is_some_and(|(start, end)| minute >= start && minute < end);
        in_hours && !at_lunch
    }
}

/// Parses `HH:MM` (00:00–24:00) into minutes after midnight.
pub fn parse_clock(text: &str) -> Result<u16, TimetableProblem> {
    let (h, m) = text
        .trim()
        .split_once(':')
        .ok_or(TimetableProblem::Format)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(TimetableProblem::Format);
    }
    let h: u16 = h.parse().map_err(|_| TimetableProblem::Format)?;
    let m: u16 = m.parse().map_err(|_| TimetableProblem::Format)?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(TimetableProblem::OutOfDay);
    }
    Ok(h * 60 + m)
}

/// A hospital's week: hours per weekday (Monday first) and on public holidays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timetable {
    pub weekly: [Option<DayHours>; 7],
    /// Hours on public holidays; `None` means closed.
    pub holiday: Option<DayHours>,
}

impl Timetable {
    /// Open at this local date and time? On a public holiday the holiday hours apply instead
    /// of the weekday's.
    pub fn is_open(&self, local: NaiveDateTime, holidays: &HolidayCalendar) -> bool {
        let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(u16::MAX);
        let day = if holidays.is_holiday(local.date()) {
            self.holiday
        } else {
            self.weekly[local.weekday().num_days_from_monday() as usize]
        };
        day.is_some_and(|hours| hours.is_open_at(minute))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(date: &str, time: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M").unwrap()
    }

    fn clinic() -> Timetable {
        let weekday = DayHours::new(540, 1080, Some((780, 840))).unwrap(); // 09:00–18:00, lunch 13–14
        let saturday = DayHours::new(540, 780, None).unwrap(); // 09:00–13:00
        Timetable {
            weekly: [
                Some(weekday),
                Some(weekday),
                Some(weekday),
                Some(weekday),
                Some(weekday),
                Some(saturday),
                None,
            ],
            holiday: None,
        }
    }

    #[test]
    fn open_now_respects_opening_lunch_and_closing_minutes() {
        let cal = HolidayCalendar::korea();
        let t = clinic();
        // 2026-11-23 is a Monday.
        assert!(!t.is_open(at("2026-11-23", "08:59"), &cal));
        assert!(
            t.is_open(at("2026-11-23", "09:00"), &cal),
            "the opening minute is open"
        );
        assert!(t.is_open(at("2026-11-23", "12:59"), &cal));
        assert!(!t.is_open(at("2026-11-23", "13:00"), &cal), "lunch starts");
        assert!(!t.is_open(at("2026-11-23", "13:59"), &cal));
        assert!(t.is_open(at("2026-11-23", "14:00"), &cal), "lunch is over");
        assert!(t.is_open(at("2026-11-23", "17:59"), &cal));
        assert!(
            !t.is_open(at("2026-11-23", "18:00"), &cal),
            "the closing minute is closed"
        );
        assert!(
            t.is_open(at("2026-11-28", "12:00"), &cal),
            "Saturday morning"
        );
        assert!(!t.is_open(at("2026-11-29", "12:00"), &cal), "Sunday");
    }

    #[test]
    fn public_holidays_use_holiday_hours() {
        let cal = HolidayCalendar::korea();
        let mut t = clinic();
        // 2026-10-09 (Friday) is 한글날.
        assert!(!t.is_open(at("2026-10-09", "10:00"), &cal));
        t.holiday = Some(DayHours::new(600, 720, None).unwrap());
        assert!(t.is_open(at("2026-10-09", "10:00"), &cal));
        assert!(!t.is_open(at("2026-10-09", "12:00"), &cal));
        // 2026-09-25 is a Friday and 추석: closed although Friday hours exist.
        assert!(!clinic().is_open(at("2026-09-25", "10:00"), &cal));
        assert!(
            clinic().is_open(at("2026-09-25", "10:00"), &HolidayCalendar::empty()),
            "an ordinary Friday otherwise"
        );
    }

    #[test]
    fn invalid_hours_say_why() {
        assert_eq!(
            DayHours::new(600, 540, None),
            Err(TimetableProblem::ClosesBeforeOpening)
        );
        assert_eq!(
            DayHours::new(600, 600, None),
            Err(TimetableProblem::ClosesBeforeOpening)
        );
        assert_eq!(
            DayHours::new(540, 1500, None),
            Err(TimetableProblem::OutOfDay)
        );
        assert_eq!(
            DayHours::new(540, 1080, Some((840, 780))),
            Err(TimetableProblem::LunchOutsideHours)
        );
        assert_eq!(
            DayHours::new(540, 1080, Some((500, 600))),
            Err(TimetableProblem::LunchOutsideHours)
        );
        assert!(DayHours::new(0, 1440, None).is_ok(), "24 hours");
    }

    #[test]
    fn clock_times_parse_strictly() {
        assert_eq!(parse_clock("09:30"), Ok(570));
        assert_eq!(parse_clock("24:00"), Ok(1440));
        assert_eq!(parse_clock("9:30"), Err(TimetableProblem::Format));
        assert_eq!(parse_clock("24:01"), Err(TimetableProblem::OutOfDay));
        assert_eq!(parse_clock("12:60"), Err(TimetableProblem::OutOfDay));
        assert_eq!(parse_clock("noon"), Err(TimetableProblem::Format));
    }

    proptest! {
        #[test]
        fn open_exactly_inside_hours_and_outside_lunch(open in 0u16..1400, len in 2u16..600, minute in 0u16..1440) {
            let close = (open + len).min(1440);
            prop_assume!(close > open + 1);
            let lunch_start = open + (close - open) / 3;
            let lunch_end = lunch_start + 1;
            let lunch = (lunch_start > open && lunch_end < close).then_some((lunch_start, lunch_end));
            let hours = DayHours::new(open, close, lunch).unwrap();
            let expected = minute >= open && minute < close && !lunch.is_some_and(|(s, e)| minute >= s && minute < e);
            prop_assert_eq!(hours.is_open_at(minute), expected);
        }

        #[test]
        fn any_valid_hours_are_closed_at_their_closing_minute(open in 0u16..1439, extra in 1u16..1440) {
            let close = (open + extra).min(1440);
            prop_assume!(close > open);
            let hours = DayHours::new(open, close, None).unwrap();
            prop_assert!(hours.is_open_at(open));
            prop_assert!(!hours.is_open_at(close));
        }
    }
}
