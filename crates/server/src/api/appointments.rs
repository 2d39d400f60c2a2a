//! `/api/v1/appointments`: booking, reading, and every change of an appointment's status.
//!
//! A booking is checked against the schedule here (is there such a slot, is it bookable now)
//! and then decided by the database through the group-commit writer; the answer comes only
//! after the commit. Every change e-mails the patient (in the same transaction) and is pushed
//! on their live channel after the commit.
//!
//! One file per part: `booking` (booking a slot: the request, its checks against the
//! schedule), `reading` (one appointment, the lists, the view), `status` (cancel, confirm,
//! deny, check-in, complete, no-show), `reschedule` (moving to another slot). This file keeps
//! what they share: the booking's consequences after the writer answered, and how booking
//! errors become answers.

mod booking;
mod reading;
mod reschedule;
mod status;

pub use booking::{__path_book, BookRequest, book};
pub(crate) use booking::{doctor_view, idempotency_key, prepare};
pub use reading::{
    __path_get, __path_mine, __path_of_doctor, AppointmentPage, AppointmentView, ListQuery, get,
    mine, of_doctor,
};
pub use reschedule::{__path_reschedule, RescheduleRequest, reschedule};
pub use status::{
    __path_cancel, __path_check_in, __path_complete, __path_confirm, __path_deny, __path_no_show,
    ReasonRequest, cancel, check_in, complete, confirm, deny, no_show,
};

use axum::http::StatusCode;
use docde_domain::schedule::WindowError;
use docde_store::booking::{BookOutcome, BookingConflict, BookingError, NewAppointment};

use crate::booking::notify::{self, SeatChange};
use crate::problem::ApiError;
use crate::state::AppState;

/// The booking's consequences after the writer answered: notices on success, and the view
/// told that a slot is full when the database said so.
pub(crate) async fn settle(
    state: &AppState,
    new: &NewAppointment,
    outcome: Result<BookOutcome, BookingError>,
) -> Result<BookOutcome, ApiError> {
    match outcome {
        Ok(outcome) => {
            if let BookOutcome::Created {
                appointment,
                event_id,
                seats_taken,
            } = &outcome
            {
                if new.email.is_some() {
                    notify::wake_mail(state);
                }
                notify::after_commit(
                    state,
                    appointment,
                    *event_id,
                    SeatChange::Taken(*seats_taken),
                )
                .await;
            }
            Ok(outcome)
        }
        Err(BookingError::Conflict(BookingConflict::SlotFull)) => {
            state
                .booking
                .views
                .note(new.doctor_id, new.starts_at, new.capacity, None);
            Err(conflict(BookingConflict::SlotFull))
        }
        Err(e) => Err(booking_error(e)),
    }
}

fn window_error(e: WindowError, field: &str) -> ApiError {
    ApiError::Invalid {
        code: e.code(),
        field: field.into(),
        message: e.to_string(),
    }
}

pub(crate) fn conflict(c: BookingConflict) -> ApiError {
    match c {
        BookingConflict::IdempotencyKeyReused => ApiError::Rejected {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: c.code(),
            detail: Some(c.to_string()),
        },
        _ => ApiError::Conflict {
            code: c.code(),
            detail: c.to_string(),
        },
    }
}

pub(crate) fn booking_error(e: BookingError) -> ApiError {
    match e {
        BookingError::Conflict(c) => conflict(c),
        BookingError::NotFound => ApiError::NotFound,
        BookingError::SessionEnded => ApiError::Unauthorized("session_revoked"),
        BookingError::Store(e) => e.into(),
    }
}
