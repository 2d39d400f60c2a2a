//! A doctor's schedule as one validated value. `Schedule::new` is the only way in, so code
//! holding a `Schedule` never meets an overlapping rule, a zero-minute slot or a
//! half-given window.

use chrono::{NaiveTime, Timelike};
use chrono_tz::Tz;

use super::error::{
    CAPACITY, HORIZON_DAYS, MAX_BREAKS, MAX_CUTOFF_MINUTES, MAX_EXCEPTIONS, MAX_RULES,
    SLOT_MINUTES, ScheduleError,
};
use super::week::{Break, Exception, ExceptionKind, Minute, WeeklyRule, overlaps};
use super::window::BookingPolicy;

/// Weekly rules, breaks and exceptions in a time zone, plus the booking window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    tz: Tz,
    rules: Vec<WeeklyRule>,
    breaks: Vec<Break>,
    exceptions: Vec<Exception>,
    closed_on_holidays: bool,
    policy: BookingPolicy,
}

impl Schedule {
    /// Checks everything and reports the first problem, in input order. Rules, breaks and
    /// exceptions are kept in the order given, so a later error's `field` index matches what
    /// the editor sent.
    pub fn new(
        tz: Tz,
        rules: Vec<WeeklyRule>,
        breaks: Vec<Break>,
        exceptions: Vec<Exception>,
        closed_on_holidays: bool,
        policy: BookingPolicy,
    ) -> Result<Schedule, ScheduleError> {
        if rules.len() > MAX_RULES {
            return Err(ScheduleError::TooManyRules);
        }
        if breaks.len() > MAX_BREAKS {
            return Err(ScheduleError::TooManyBreaks);
        }
        if exceptions.len() > MAX_EXCEPTIONS {
            return Err(ScheduleError::TooManyExceptions);
        }
        for (i, rule) in rules.iter().enumerate() {
            let at = format!("rules[{i}]");
            check_window(&at, rule.start, rule.end)?;
            check_session(&at, rule.window(), rule.slot_minutes, rule.capacity)?;
        }
        for (j, later) in rules.iter().enumerate() {
            if let Some(i) = rules[..j]
                .iter()
                .position(|r| r.weekday == later.weekday && overlaps(r.window(), later.window()))
            {
                return Err(ScheduleError::OverlappingRules {
                    field: format!("rules[{j}]"),
                    other: format!("rules[{i}]"),
                });
            }
        }
        for (i, b) in breaks.iter().enumerate() {
            check_window(&format!("breaks[{i}]"), b.start, b.end)?;
        }
        for (i, e) in exceptions.iter().enumerate() {
            check_exception(i, e)?;
        }
        check_exception_overlaps(&exceptions)?;
        check_policy(&policy)?;
        Ok(Schedule {
            tz,
            rules,
            breaks,
            exceptions,
            closed_on_holidays,
            policy,
        })
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn rules(&self) -> &[WeeklyRule] {
        &self.rules
    }

    pub fn breaks(&self) -> &[Break] {
        &self.breaks
    }

    pub fn exceptions(&self) -> &[Exception] {
        &self.exceptions
    }

    /// Whether weekly rules are suspended on public holidays (extra sessions still run).
    pub fn closed_on_holidays(&self) -> bool {
        self.closed_on_holidays
    }

    pub fn policy(&self) -> &BookingPolicy {
        &self.policy
    }
}

fn check_time(field: String, time: NaiveTime) -> Result<(), ScheduleError> {
    // Sub-minute times would make slot starts that no HH:MM form can name.
    if time.second() != 0 || time.nanosecond() != 0 {
        return Err(ScheduleError::NotWholeMinute { field });
    }
    Ok(())
}

fn check_window(at: &str, start: NaiveTime, end: NaiveTime) -> Result<(), ScheduleError> {
    check_time(format!("{at}.start"), start)?;
    check_time(format!("{at}.end"), end)?;
    if end <= start {
        return Err(ScheduleError::EndBeforeStart {
            field: format!("{at}.end"),
        });
    }
    Ok(())
}

fn check_session(
    at: &str,
    (start, end): (Minute, Minute),
    slot_minutes: u16,
    capacity: u16,
) -> Result<(), ScheduleError> {
    let field = format!("{at}.slot_minutes");
    if slot_minutes < *SLOT_MINUTES.start() {
        return Err(ScheduleError::SlotTooShort { field });
    }
    if slot_minutes > *SLOT_MINUTES.end() {
        return Err(ScheduleError::SlotTooLong { field });
    }
    if end - start < slot_minutes {
        return Err(ScheduleError::WindowShorterThanSlot {
            field: format!("{at}.end"),
        });
    }
    if !CAPACITY.contains(&capacity) {
        return Err(ScheduleError::CapacityOutOfRange {
            field: format!("{at}.capacity"),
        });
    }
    Ok(())
}

fn check_exception(i: usize, e: &Exception) -> Result<(), ScheduleError> {
    let at = format!("exceptions[{i}]");
    match (e.start, e.end) {
        (Some(start), Some(end)) => check_window(&at, start, end)?,
        (None, None) => {}
        (Some(_), None) => {
            return Err(ScheduleError::WindowIncomplete {
                field: format!("{at}.end"),
            });
        }
        (None, Some(_)) => {
            return Err(ScheduleError::WindowIncomplete {
                field: format!("{at}.start"),
            });
        }
    }
    if let ExceptionKind::Extra {
        slot_minutes,
        capacity,
    } = e.kind
    {
        // "Extra all day" would mean slots through the night; make the admin say when.
        if e.is_whole_day() {
            return Err(ScheduleError::ExtraWithoutWindow { field: at });
        }
        check_session(&at, e.window(), slot_minutes, capacity)?;
    }
    Ok(())
}

/// An extra session overlapping leave (or another extra session) on the same date is a
/// contradiction: refuse it rather than guess which one the admin meant. Closed windows may
/// overlap each other; that only says "closed" twice.
fn check_exception_overlaps(exceptions: &[Exception]) -> Result<(), ScheduleError> {
    let mut order: Vec<usize> = (0..exceptions.len()).collect();
    order.sort_by_key(|&i| (exceptions[i].date, i));
    // Report the clash whose later member comes first in the input, like every other check.
    let mut first: Option<(usize, usize)> = None;
    for group in order.chunk_by(|&a, &b| exceptions[a].date == exceptions[b].date) {
        for (k, &j) in group.iter().enumerate() {
            let later = &exceptions[j];
            let clash = group[..k].iter().copied().find(|&i| {
                let earlier = &exceptions[i];
                let either_extra = matches!(earlier.kind, ExceptionKind::Extra { .. })
                    || matches!(later.kind, ExceptionKind::Extra { .. });
                either_extra && overlaps(earlier.window(), later.window())
            });
            if let Some(i) = clash
                && first.is_none_or(|(best, _)| j < best)
            {
                first = Some((j, i));
            }
        }
    }
    match first {
        Some((j, i)) => Err(ScheduleError::OverlappingExceptions {
            field: format!("exceptions[{j}]"),
            other: format!("exceptions[{i}]"),
        }),
        None => Ok(()),
    }
}

fn check_policy(policy: &BookingPolicy) -> Result<(), ScheduleError> {
    if !HORIZON_DAYS.contains(&policy.horizon_days) {
        return Err(ScheduleError::HorizonOutOfRange {
            field: "policy.horizon_days".into(),
        });
    }
    if policy.book_cutoff_minutes > MAX_CUTOFF_MINUTES {
        return Err(ScheduleError::CutoffOutOfRange {
            field: "policy.book_cutoff_minutes".into(),
        });
    }
    if policy.cancel_cutoff_minutes > MAX_CUTOFF_MINUTES {
        return Err(ScheduleError::CutoffOutOfRange {
            field: "policy.cancel_cutoff_minutes".into(),
        });
    }
    Ok(())
}
