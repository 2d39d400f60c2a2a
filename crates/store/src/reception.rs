//! Walk-in reception's home in the database: check-ins with their per-day waiting numbers,
//! the visit state machine, "call next", the department event log the lobby boards and the
//! patients' live views replay from, and the waiting room's durable admission tickets.
//!
//! The rules hold for any number of server instances, with or without Redis (all of them in
//! `migrations/*/0008_reception.sql`): numbers per (hospital, department, local day) are
//! 1, 2, 3 … with no gap or duplicate (a counter row bumped by an upsert … RETURNING inside the
//! check-in's own transaction), a patient holds one active visit per hospital and day, a
//! visit's status moves only along the legal transitions (trigger), and "call next" hands a
//! waiting visit to exactly one caller (a conditional update; `SKIP LOCKED` on PostgreSQL).
//! Callers get a [`ReceptionConflict`] when a rule refuses a write, never a raw database error.

pub mod admission;
pub mod events;
pub mod line;
pub mod visits;

pub use visits::{NewVisit, Visit, VisitChange};

use crate::StoreError;
use crate::booking::{BookingConflict, BookingError};

/// A reception rule refused the write; each maps to a 409 with the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ReceptionConflict {
    #[error("the patient is already in a line of this hospital today")]
    AlreadyCheckedIn,
    #[error("the visit cannot move from its current status to the requested one")]
    IllegalTransition,
    #[error("the visit changed meanwhile")]
    Stale,
    #[error("the appointment cannot be checked in (it is not booked)")]
    AppointmentNotBooked,
    /// A queued check-in that could no longer be done (its doctor or patient went away).
    #[error("the check-in could not be done")]
    Refused,
}

impl ReceptionConflict {
    pub fn code(self) -> &'static str {
        match self {
            ReceptionConflict::AlreadyCheckedIn => "already_checked_in",
            ReceptionConflict::IllegalTransition => "illegal_transition",
            ReceptionConflict::Stale => "visit_changed",
            ReceptionConflict::AppointmentNotBooked => "appointment_not_booked",
            ReceptionConflict::Refused => "check_in_refused",
        }
    }
}

/// What a reception write can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ReceptionError {
    #[error(transparent)]
    Conflict(#[from] ReceptionConflict),
    #[error("visit not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ReceptionError {
    fn from(e: sqlx::Error) -> Self {
        classify(StoreError::from(e))
    }
}

impl From<BookingError> for ReceptionError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::Conflict(BookingConflict::Stale | BookingConflict::IllegalTransition) => {
                ReceptionConflict::AppointmentNotBooked.into()
            }
            BookingError::Conflict(_) => ReceptionConflict::AppointmentNotBooked.into(),
            BookingError::NotFound => ReceptionError::NotFound,
            // Reception's changes carry no session for the booking writer to confirm.
            e @ BookingError::SessionEnded => {
                classify(StoreError::Other(sqlx::Error::Protocol(e.to_string())))
            }
            BookingError::Store(e) => classify(e),
        }
    }
}

/// Maps the constraints named in the migration to the rule they protect.
pub(crate) fn classify(e: StoreError) -> ReceptionError {
    if e.is_constraint("reception_visits_one_active") {
        ReceptionConflict::AlreadyCheckedIn.into()
    } else if e.is_constraint("reception_illegal_transition") {
        ReceptionConflict::IllegalTransition.into()
    } else if e.is_constraint("appointments_illegal_transition") {
        ReceptionConflict::AppointmentNotBooked.into()
    } else {
        ReceptionError::Store(e)
    }
}
