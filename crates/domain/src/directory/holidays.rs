//! Korean public holidays (공휴일), including substitute holidays (대체공휴일) and the
//! temporary ones announced so far. Lunar holidays move every year, so the calendar is data:
//! the built-in list covers 2025–2027, and installations add dates through configuration
//! (`directory.extra_holidays`) as the government announces them.

use std::collections::BTreeSet;

use chrono::NaiveDate;

/// `(year, month, day, name)` of every public holiday 2025–2027.
pub const KOREAN_PUBLIC_HOLIDAYS: &[(i32, u32, u32, &str)] = &[
    (2025, 1, 1, "신정"),
    (2025, 1, 27, "임시공휴일"),
    (2025, 1, 28, "설날 연휴"),
    (2025, 1, 29, "설날"),
    (2025, 1, 30, "설날 연휴"),
    (2025, 3, 1, "삼일절"),
    (2025, 3, 3, "대체공휴일(삼일절)"),
    (2025, 5, 5, "어린이날 · 부처님오신날"),
    (2025, 5, 6, "대체공휴일(부처님오신날)"),
    (2025, 6, 3, "제21대 대통령 선거일"),
    (2025, 6, 6, "현충일"),
    (2025, 8, 15, "광복절"),
    (2025, 10, 3, "개천절"),
    (2025, 10, 5, "추석 연휴"),
    (2025, 10, 6, "추석"),
    (2025, 10, 7, "추석 연휴"),
    (2025, 10, 8, "대체공휴일(추석)"),
    (2025, 10, 9, "한글날"),
    (2025, 12, 25, "기독탄신일"),
    (2026, 1, 1, "신정"),
    (2026, 2, 16, "설날 연휴"),
    (2026, 2, 17, "설날"),
    (2026, 2, 18, "설날 연휴"),
    (2026, 3, 1, "삼일절"),
    (2026, 3, 2, "대체공휴일(삼일절)"),
    (2026, 5, 5, "어린이날"),
    (2026, 5, 24, "부처님오신날"),
    (2026, 5, 25, "대체공휴일(부처님오신날)"),
    (2026, 6, 3, "전국동시지방선거일"),
    (2026, 6, 6, "현충일"),
    (2026, 8, 15, "광복절"),
    (2026, 8, 17, "대체공휴일(광복절)"),
    (2026, 9, 24, "추석 연휴"),
    (2026, 9, 25, "추석"),
    (2026, 9, 26, "추석 연휴"),
    (2026, 10, 3, "개천절"),
    (2026, 10, 5, "대체공휴일(개천절)"),
    (2026, 10, 9, "한글날"),
    (2026, 12, 25, "기독탄신일"),
    (2027, 1, 1, "신정"),
    (2027, 2, 6, "설날 연휴"),
    (2027, 2, 7, "설날"),
    (2027, 2, 8, "설날 연휴"),
    (2027, 2, 9, "대체공휴일(설날)"),
    (2027, 3, 1, "삼일절"),
    (2027, 5, 5, "어린이날"),
    (2027, 5, 13, "부처님오신날"),
    (2027, 6, 6, "현충일"),
    (2027, 8, 15, "광복절"),
    (2027, 8, 16, "대체공휴일(광복절)"),
    (2027, 9, 14, "추석 연휴"),
    (2027, 9, 15, "추석"),
    (2027, 9, 16, "추석 연휴"),
    (2027, 10, 3, "개천절"),
    (2027, 10, 4, "대체공휴일(개천절)"),
    (2027, 10, 9, "한글날"),
    (2027, 10, 11, "대체공휴일(한글날)"),
    (2027, 12, 25, "기독탄신일"),
    (2027, 12, 27, "대체공휴일(기독탄신일)"),
];

/// A set of holiday dates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    dates: BTreeSet<NaiveDate>,
}

impl HolidayCalendar {
    pub fn empty() -> Self {
        Self::default()
    }

    /// The built-in Korean calendar.
    pub fn korea() -> Self {
        let dates = KOREAN_PUBLIC_HOLIDAYS
            .iter()
            .filter_map(|&(y, m, d, _)| NaiveDate::from_ymd_opt(y, m, d))
            .collect();
        Self { dates }
    }

    /// Adds dates (e.g. newly announced temporary holidays).
    pub fn with(mut self, extra: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.dates.extend(extra);
        self
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.dates.contains(&date)
    }

    /// The last date the calendar knows about (to warn before it runs out).
    pub fn last_known(&self) -> Option<NaiveDate> {
        self.dates.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    #[test]
    fn every_built_in_date_exists_and_is_listed_once() {
        let cal = HolidayCalendar::korea();
        assert_eq!(cal.dates.len(), KOREAN_PUBLIC_HOLIDAYS.len());
    }

    #[test]
    fn fixed_holidays_are_there_every_year() {
        let cal = HolidayCalendar::korea();
        for year in 2025..=2027 {
            for (m, d) in [
                (1, 1),
                (3, 1),
                (5, 5),
                (6, 6),
                (8, 15),
                (10, 3),
                (10, 9),
                (12, 25),
            ] {
                assert!(
                    cal.is_holiday(NaiveDate::from_ymd_opt(year, m, d).unwrap()),
                    "{year}-{m}-{d}"
                );
            }
        }
    }

    #[test]
    fn substitute_holidays_fall_on_weekdays() {
        for &(y, m, d, name) in KOREAN_PUBLIC_HOLIDAYS {
            if name.starts_with("대체공휴일") {
                let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
                assert!(date.weekday().num_days_from_monday() < 5, "{date} {name}");
            }
        }
    }

    #[test]
    fn ordinary_days_are_not_holidays_and_extra_dates_can_be_added() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(!HolidayCalendar::korea().is_holiday(day));
        assert!(HolidayCalendar::korea().with([day]).is_holiday(day));
        assert_eq!(
            HolidayCalendar::korea().last_known(),
            NaiveDate::from_ymd_opt(2027, 12, 27)
        );
    }
}
