//! Rescheduling: moving an appointment to another slot (of the same or another doctor of the
//! hospital) in one transaction that cancels the old one and books the new one.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use docde_domain::schedule::AppointmentStatus;
use docde_store::booking::appointments;
use docde_store::booking::{BookOutcome, BookingConflict, Transition};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::reading::{load, target};
use super::{
    AppointmentView, BookRequest, booking_error, conflict, doctor_view, prepare, window_error,
};
use crate::api::now;
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, authorize};
use crate::booking::document::zone;
use crate::booking::notify::{self, SeatChange};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// Move to another slot (the patient until the cut-off, or staff). Atomic: the patient never
/// holds both seats and never neither; on any refusal the old appointment stays.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct RescheduleRequest {
    /// The new slot's start.
    #[garde(skip)]
    pub starts_at: DateTime<FixedOffset>,
    /// Another doctor of the same hospital (default: the same doctor).
    #[garde(skip)]
    #[serde(default)]
    pub doctor_id: Option<Uuid>,
}

/// Reschedule an appointment to another slot.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/reschedule", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")), request_body = RescheduleRequest,
    responses((status = 201, description = "The new appointment (the old one is cancelled)", body = AppointmentView),
              (status = 409, description = "`slot_full`, `patient_overlap`, `illegal_transition`")))]
pub async fn reschedule(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<RescheduleRequest>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let (a, view) = load(&state, id).await?;
    let principal = Principal::User(me.clone());
    let t = target(&a, &view);
    let start = DateTime::from_timestamp(a.starts_at, 0).unwrap_or_default();
    if a.patient_id == me.id {
        authorize(&principal, Action::CancelOwnAppointment, t)?;
        if let Some(s) = view.schedule.as_ref() {
            s.check_patient_cancel(start, now())
                .map_err(|e| window_error(e, "id"))?;
        }
    } else {
        authorize(&principal, Action::ManageAppointment, t).map_err(|_| ApiError::NotFound)?;
    }
    let from: AppointmentStatus = a
        .status
        .parse()
        .map_err(|_| anyhow::anyhow!("stored status unknown"))?;
    from.transition(AppointmentStatus::Cancelled)
        .map_err(|_| conflict(BookingConflict::IllegalTransition))?;
    let target_view = match req.doctor_id {
        Some(d) if d != a.doctor_id => doctor_view(&state, d).await?,
        _ => view.clone(),
    };
    if target_view.doctor.hospital_id != a.hospital_id {
        return Err(crate::api::invalid(
            "doctor_id",
            "must be a doctor of the same hospital",
        ));
    }
    let book = BookRequest {
        doctor_id: target_view.doctor.id,
        starts_at: req.starts_at,
        reason: a.reason.clone(),
    };
    let at = now();
    let mut new = prepare(&state, &target_view, a.patient_id, &book, None, at, None).await?;
    new.rescheduled_from = Some(a.id);
    // The new appointment keeps the status the old one had reached (approval is not asked twice).
    if from == AppointmentStatus::Booked {
        new.status = AppointmentStatus::Booked.as_str();
    }
    let cancel = Transition {
        appointment_id: a.id,
        from: a.status.clone(),
        to: AppointmentStatus::Cancelled.as_str(),
        reason: Some("rescheduled".into()),
        by: me.id,
        frees_seat: from.is_active(),
        now: at,
        email: None,
    };
    let (old, old_event, outcome) = appointments::reschedule(&state.store, &cancel, &new)
        .await
        .map_err(booking_error)?;
    if new.email.is_some() {
        notify::wake_mail(&state);
    }
    notify::after_commit(&state, &old, old_event, SeatChange::Freed).await;
    if let BookOutcome::Created {
        appointment,
        event_id,
        seats_taken,
    } = &outcome
    {
        notify::after_commit(
            &state,
            appointment,
            *event_id,
            SeatChange::Taken(*seats_taken),
        )
        .await;
    }
    Ok((
        StatusCode::CREATED,
        Json(AppointmentView::of(
            outcome.appointment(),
            zone(&target_view.doctor.time_zone),
        )),
    ))
}
