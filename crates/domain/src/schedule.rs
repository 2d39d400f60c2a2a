//! Doctor schedules: the weekly template (sessions per weekday, breaks), date exceptions
//! (leave, holidays, extra sessions), the booking window, the bookable slots all of that
//! produces, and the appointment state machine.
//!
//! Everything is in the hospital's time zone (default Asia/Seoul): admins think in local
//! wall-clock times, patients book instants. This module owns the translation between the
//! two, including the daylight-saving edges that Seoul does not have but other installations
//! do. The database decides who gets a seat; this module decides which seats exist.

mod appointment;
mod definition;
mod error;
mod slots;
mod week;
mod window;

pub use appointment::{ALL_TRANSITIONS, AppointmentStatus, IllegalTransition, UnknownStatus};
pub use definition::Schedule;
pub use error::{
    CAPACITY, HORIZON_DAYS, MAX_BREAKS, MAX_CUTOFF_MINUTES, MAX_EXCEPTIONS, MAX_RULES,
    SLOT_MINUTES, ScheduleError,
};
pub use slots::Slot;
pub use week::{Break, Exception, ExceptionKind, WeeklyRule};
pub use window::{BookingPolicy, WindowError};

/// The time zone of a hospital that has not chosen one.
pub const DEFAULT_TZ: chrono_tz::Tz = chrono_tz::Asia::Seoul;
