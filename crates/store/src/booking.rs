//! Doctor schedules, seats and appointments: the booking invariants' home.
//!
//! Three rules hold here for any number of server instances, with or without Redis:
//! a slot never has more active appointments than seats (`slot_seats`, changed only by the
//! conditional upsert in [`appointments`]), a patient never holds two overlapping active
//! appointments (an exclusion constraint on PostgreSQL, a trigger on SQLite), and a status only
//! moves along the legal transitions (a trigger on both). Callers get a [`BookingConflict`]
//! when a rule refuses a write, never a raw database error.
//!
//! Bookings arrive faster than a disk can fsync, so [`BookingWriter`] groups them: many
//! bookings share one transaction and one commit, and every caller is answered only after that
//! commit. A group is booked set by set (`grouped`: a few statements for the lot, decided in
//! order as one-by-one booking would); where the database's guards disagree with that decision
//! it is booked one by one instead, each booking inside its own savepoint so one loser does not
//! undo its neighbours.

pub mod appointments;
mod batch;
mod grouped;
pub mod schedules;
pub mod seats;
pub mod tickets;

pub use appointments::{Appointment, BookOutcome, NewAppointment, Transition};
pub(crate) use batch::MAX_BATCH;
pub use batch::{Booked, BookingWriter, prepare_statements};
pub(crate) use grouped::read_sql as group_read_sql;

use crate::StoreError;

/// The longest an appointment may last: the longest slot a schedule may have
/// (`docde_domain::schedule::SLOT_MINUTES`). The database refuses longer ones (migrations
/// `0016`/`0017_appointment_length.sql`), so an appointment overlapping one that starts at `s`
/// started after `s - MAX_APPOINTMENT_SECONDS`: the overlap checks look up only those, not
/// every appointment a patient ever held. The SQL spells it out as 14400.
pub const MAX_APPOINTMENT_SECONDS: i64 = 14_400;

/// A booking rule refused the write; each maps to a 409 with the same code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BookingConflict {
    #[error("every seat of this slot is taken")]
    SlotFull,
    #[error("the patient already holds an appointment at that time")]
    PatientOverlap,
    #[error("this idempotency key was used for a different request")]
    IdempotencyKeyReused,
    #[error("the appointment cannot move from its current status to the requested one")]
    IllegalTransition,
    #[error("the appointment changed meanwhile")]
    Stale,
}

impl BookingConflict {
    pub fn code(self) -> &'static str {
        match self {
            BookingConflict::SlotFull => "slot_full",
            BookingConflict::PatientOverlap => "patient_overlap",
            BookingConflict::IdempotencyKeyReused => "idempotency_key_reused",
            BookingConflict::IllegalTransition => "illegal_transition",
            BookingConflict::Stale => "appointment_changed",
        }
    }
}

/// What a booking write can fail with.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    #[error(transparent)]
    Conflict(#[from] BookingConflict),
    #[error("appointment not found")]
    NotFound,
    /// The session the booking was asked under ([`NewAppointment::session_id`]) no longer
    /// counts (logout, password change, a disabled account): nothing was written.
    #[error("the session has ended")]
    SessionEnded,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for BookingError {
    fn from(e: sqlx::Error) -> Self {
        classify(StoreError::from(e))
    }
}

/// Maps the constraints named in the migrations to the rule they protect.
pub(crate) fn classify(e: StoreError) -> BookingError {
    if e.is_constraint("appointments_patient_overlap") {
        BookingConflict::PatientOverlap.into()
    } else if e.is_constraint("appointments_illegal_transition") {
        BookingConflict::IllegalTransition.into()
    } else if e.is_constraint("slot_seats_capacity") {
        BookingConflict::SlotFull.into()
    } else {
        BookingError::Store(e)
    }
}
