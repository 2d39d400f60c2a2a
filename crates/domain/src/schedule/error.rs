//! Why a schedule was refused, and the limits it was checked against. Each problem has a
//! stable `code()` for the API and a `field()` path (`rules[2].end`) so an editor can point
//! at the offending input.

use std::ops::RangeInclusive;

/// Slot length in minutes. Under 5 minutes is a data-entry slip; over 4 hours is a session,
/// not an appointment.
pub const SLOT_MINUTES: RangeInclusive<u16> = 5..=240;
/// Patients per slot.
pub const CAPACITY: RangeInclusive<u16> = 1..=100;
/// How many local days ahead patients may book, today included.
pub const HORIZON_DAYS: RangeInclusive<u16> = 1..=365;
/// Booking and cancellation cut-offs: at most 30 days.
pub const MAX_CUTOFF_MINUTES: u32 = 30 * 24 * 60;
/// Bounds that keep a schedule cheap to expand on every availability request.
pub const MAX_RULES: usize = 50;
pub const MAX_BREAKS: usize = 50;
/// Exceptions pile up over the years; the store should prune past ones.
pub const MAX_EXCEPTIONS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{field}: times are whole minutes (HH:MM)")]
    NotWholeMinute { field: String },
    #[error("{field}: the end must be after the start (windows do not cross midnight)")]
    EndBeforeStart { field: String },
    #[error("{field}: slots are at least {} minutes", SLOT_MINUTES.start())]
    SlotTooShort { field: String },
    #[error("{field}: slots are at most {} minutes", SLOT_MINUTES.end())]
    SlotTooLong { field: String },
    #[error("{field}: the window is shorter than one slot, so it would offer nothing")]
    WindowShorterThanSlot { field: String },
    #[error("{field}: capacity is {} to {} patients per slot", CAPACITY.start(), CAPACITY.end())]
    CapacityOutOfRange { field: String },
    #[error("{field} overlaps {other} on the same weekday")]
    OverlappingRules { field: String, other: String },
    #[error("{field}: give both start and end for a window, or neither for the whole day")]
    WindowIncomplete { field: String },
    #[error("{field}: an extra session needs a start and an end")]
    ExtraWithoutWindow { field: String },
    #[error(
        "{field} overlaps {other} on the same date; an extra session must not overlap another exception"
    )]
    OverlappingExceptions { field: String, other: String },
    #[error("{field}: the booking horizon is {} to {} days", HORIZON_DAYS.start(), HORIZON_DAYS.end())]
    HorizonOutOfRange { field: String },
    #[error("{field}: cut-offs are at most {MAX_CUTOFF_MINUTES} minutes (30 days)")]
    CutoffOutOfRange { field: String },
    #[error("at most {MAX_RULES} weekly rules")]
    TooManyRules,
    #[error("at most {MAX_BREAKS} breaks")]
    TooManyBreaks,
    #[error("at most {MAX_EXCEPTIONS} exceptions")]
    TooManyExceptions,
}

impl ScheduleError {
    /// Stable machine-readable code for problem+json.
    pub fn code(&self) -> &'static str {
        match self {
            ScheduleError::NotWholeMinute { .. } => "not_whole_minute",
            ScheduleError::EndBeforeStart { .. } => "end_before_start",
            ScheduleError::SlotTooShort { .. } => "slot_too_short",
            ScheduleError::SlotTooLong { .. } => "slot_too_long",
            ScheduleError::WindowShorterThanSlot { .. } => "window_shorter_than_slot",
            ScheduleError::CapacityOutOfRange { .. } => "capacity_out_of_range",
            ScheduleError::OverlappingRules { .. } => "overlapping_rules",
            ScheduleError::WindowIncomplete { .. } => "window_incomplete",
            ScheduleError::ExtraWithoutWindow { .. } => "extra_without_window",
            ScheduleError::OverlappingExceptions { .. } => "overlapping_exceptions",
            ScheduleError::HorizonOutOfRange { .. } => "horizon_out_of_range",
            ScheduleError::CutoffOutOfRange { .. } => "cutoff_out_of_range",
            ScheduleError::TooManyRules => "too_many_rules",
            ScheduleError::TooManyBreaks => "too_many_breaks",
            ScheduleError::TooManyExceptions => "too_many_exceptions",
        }
    }

    /// Path of the offending input, e.g. `rules[2].end` or `policy.horizon_days`.
    pub fn field(&self) -> &str {
        match self {
            ScheduleError::NotWholeMinute { field }
            | ScheduleError::EndBeforeStart { field }
            | ScheduleError::SlotTooShort { field }
            | ScheduleError::SlotTooLong { field }
            | ScheduleError::WindowShorterThanSlot { field }
            | ScheduleError::CapacityOutOfRange { field }
            | ScheduleError::OverlappingRules { field, .. }
            | ScheduleError::WindowIncomplete { field }
            | ScheduleError::ExtraWithoutWindow { field }
            | ScheduleError::OverlappingExceptions { field, .. }
            | ScheduleError::HorizonOutOfRange { field }
            | ScheduleError::CutoffOutOfRange { field } => field,
            ScheduleError::TooManyRules => "rules",
            ScheduleError::TooManyBreaks => "breaks",
            ScheduleError::TooManyExceptions => "exceptions",
        }
    }
}
