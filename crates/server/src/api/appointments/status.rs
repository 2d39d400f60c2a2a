//! Changing an appointment's status: cancel (the patient or staff), confirm and deny a
//! requested booking, check-in, complete, no-show; each applied with the patient's e-mail in
//! the same transaction and the live notice after the commit.

use axum::Json;
use axum::extract::{Path, State};
use chrono::DateTime;
use docde_domain::schedule::AppointmentStatus;
use docde_store::booking::appointments::{self, Appointment};
use docde_store::booking::{BookingConflict, BookingError, Transition};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::booking::patient_letter;
use super::reading::{load, target};
use super::{AppointmentView, booking_error, conflict, window_error};
use crate::api::now;
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, authorize};
use crate::booking::availability::DoctorView;
use crate::booking::document::zone;
use crate::booking::notify::{self, SeatChange};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// A status change's optional or required reason.
#[derive(Debug, Default, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    #[garde(inner(length(chars, min = 1, max = 500)))]
    #[serde(default)]
    pub reason: Option<String>,
}

/// Cancel: the patient until the cut-off, staff any time with a reason. Frees the seat at once.
#[utoipa::path(post, path = "/api/v1/appointments/{id}/cancel", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")), request_body = ReasonRequest,
    responses((status = 200, description = "Cancelled", body = AppointmentView),
              (status = 409, description = "`illegal_transition` (already cancelled, completed…)"),
              (status = 422, description = "`cancel_cutoff`, `already_started`, or a staff cancel without a reason")))]
pub async fn cancel(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<Json<AppointmentView>, ApiError> {
    let (a, view) = load(&state, id).await?;
    let principal = Principal::User(me.clone());
    let t = target(&a, &view);
    if a.patient_id == me.id {
        authorize(&principal, Action::CancelOwnAppointment, t)?;
        let start = DateTime::from_timestamp(a.starts_at, 0).unwrap_or_default();
        let policy_check = match view.schedule.as_ref() {
            Some(s) => s.check_patient_cancel(start, now()),
            None => Ok(()),
        };
        policy_check.map_err(|e| window_error(e, "id"))?;
    } else {
        authorize(&principal, Action::ManageAppointment, t).map_err(|_| ApiError::NotFound)?;
        if req.reason.is_none() {
            return Err(crate::api::invalid(
                "reason",
                "staff must say why they cancel",
            ));
        }
    }
    change(
        &state,
        a,
        &view,
        me.id,
        AppointmentStatus::Cancelled,
        req.reason,
    )
    .await
}

/// Confirm a requested booking (the doctor, hospital admins).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/confirm", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "Booked", body = AppointmentView)))]
pub async fn confirm(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<AppointmentView>, ApiError> {
    staff_change(
        &state,
        me,
        id,
        Action::DecideAppointment,
        AppointmentStatus::Booked,
        None,
    )
    .await
}

/// Deny a requested booking with a reason (the doctor, hospital admins).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/deny", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")), request_body = ReasonRequest,
    responses((status = 200, description = "Denied", body = AppointmentView)))]
pub async fn deny(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> Result<Json<AppointmentView>, ApiError> {
    if req.reason.is_none() {
        return Err(crate::api::invalid(
            "reason",
            "say why the request is denied",
        ));
    }
    staff_change(
        &state,
        me,
        id,
        Action::DecideAppointment,
        AppointmentStatus::Denied,
        req.reason,
    )
    .await
}

/// The patient arrived (reception, the doctor, hospital admins).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/check-in", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "Checked in", body = AppointmentView)))]
pub async fn check_in(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<AppointmentView>, ApiError> {
    staff_change(
        &state,
        me,
        id,
        Action::ManageAppointment,
        AppointmentStatus::CheckedIn,
        None,
    )
    .await
    .inspect(|_| crate::metrics::domain::checked_in("appointment"))
}

/// The visit is over (reception, the doctor, hospital admins).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/complete", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "Completed", body = AppointmentView)))]
pub async fn complete(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<AppointmentView>, ApiError> {
    staff_change(
        &state,
        me,
        id,
        Action::ManageAppointment,
        AppointmentStatus::Completed,
        None,
    )
    .await
}

/// The patient did not come (reception, the doctor, hospital admins).
#[utoipa::path(post, path = "/api/v1/appointments/{id}/no-show", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "Marked as no-show", body = AppointmentView)))]
pub async fn no_show(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<Json<AppointmentView>, ApiError> {
    staff_change(
        &state,
        me,
        id,
        Action::ManageAppointment,
        AppointmentStatus::NoShow,
        None,
    )
    .await
}

async fn staff_change(
    state: &AppState,
    me: crate::auth::principal::UserPrincipal,
    id: Uuid,
    action: Action,
    to: AppointmentStatus,
    reason: Option<String>,
) -> Result<Json<AppointmentView>, ApiError> {
    let (a, view) = load(state, id).await?;
    let principal = Principal::User(me.clone());
    if authorize(&principal, Action::ReadAppointment, target(&a, &view)).is_err() {
        return Err(ApiError::NotFound);
    }
    authorize(&principal, action, target(&a, &view))?;
    change(state, a, &view, me.id, to, reason).await
}

/// Applies a status change, retrying once if the row moved on between read and write.
async fn change(
    state: &AppState,
    mut a: Appointment,
    view: &DoctorView,
    by: Uuid,
    to: AppointmentStatus,
    reason: Option<String>,
) -> Result<Json<AppointmentView>, ApiError> {
    let tz_name = view.doctor.time_zone.clone();
    for attempt in 0..2 {
        let from: AppointmentStatus = a
            .status
            .parse()
            .map_err(|_| anyhow::anyhow!("stored status unknown"))?;
        from.transition(to)
            .map_err(|_| conflict(BookingConflict::IllegalTransition))?;
        let email = patient_letter(state, a.id, a.starts_at, &tz_name, to.as_str());
        let t = Transition {
            appointment_id: a.id,
            from: a.status.clone(),
            to: to.as_str(),
            reason: reason.clone(),
            by,
            frees_seat: from.is_active() && !to.is_active(),
            now: now(),
            email,
        };
        match appointments::transition(&state.store, &t).await {
            Ok((changed, event)) => {
                if t.email.is_some() {
                    notify::wake_mail(state);
                }
                let seat = if t.frees_seat {
                    SeatChange::Freed
                } else {
                    SeatChange::Unchanged
                };
                notify::after_commit(state, &changed, event, seat).await;
                return Ok(Json(AppointmentView::of(&changed, zone(&tz_name))));
            }
            Err(BookingError::Conflict(BookingConflict::Stale)) if attempt == 0 => {
                a = appointments::get(&state.store, a.id)
                    .await?
                    .ok_or(ApiError::NotFound)?;
            }
            Err(e) => return Err(booking_error(e)),
        }
    }
    Err(conflict(BookingConflict::Stale))
}
