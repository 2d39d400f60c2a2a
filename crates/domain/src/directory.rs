//! The hospital directory's rules: opening hours with lunch breaks, public holidays, and
//! whether a hospital is open at a given local time.

mod department;
mod holidays;
mod timetable;

pub use department::{Department, UnknownDepartment};
pub use holidays::{HolidayCalendar, KOREAN_PUBLIC_HOLIDAYS};
pub use timetable::{DayHours, Timetable, TimetableProblem, parse_clock};
