//! Checking in (접수): the request, the checks, the choice between checking in now and the
//! waiting room, and the answer to a retry with the same Idempotency-Key.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use docde_domain::reception::{accepts_walk_ins, local_day};
use docde_store::booking::{Transition, appointments};
use docde_store::reception::admission::QueuedCheckIn;
use docde_store::reception::{NewVisit, ReceptionConflict, Visit, visits};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::errors::{invalid, refused};
use super::lookups::{department_of, doctor_of};
use super::{announce, place, reception_error};
use crate::auth::{CurrentUser, Principal};
use crate::authz::{Action, Target, authorize};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::reception::views::{TicketView, VisitView};
use crate::reception::waiting_room;
use crate::state::AppState;

/// Check in for a department today.
#[derive(Debug, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct CheckInRequest {
    /// Department code (`internal_medicine`) or Korean name (`내과`).
    pub department: String,
    /// A doctor of the department, if the patient wants one (default: whoever calls first).
    #[serde(default)]
    pub doctor_id: Option<Uuid>,
    /// Check in against this booked appointment of today (it moves to `checked_in`).
    #[serde(default)]
    pub appointment_id: Option<Uuid>,
    /// The patient, when reception staff check someone in (default: the caller).
    #[serde(default)]
    pub patient_id: Option<Uuid>,
}

/// Check in (접수): the patient themselves, or reception staff on their behalf. The answer is
/// `201` with the visit and its waiting number, or — during a spike, or while others already
/// wait in the waiting room — `202` with a ticket to follow (`Location`).
#[utoipa::path(post, operation_id = "reception_check_in", path = "/api/v1/hospitals/{id}/reception/check-ins", tag = "reception", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Hospital id"),
           ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: a retry returns the first request's visit (200) or ticket (202)")),
    request_body = CheckInRequest,
    responses((status = 201, description = "Checked in", body = VisitView),
              (status = 200, description = "A retry: the first request's visit, as it is now", body = VisitView),
              (status = 202, description = "In the waiting room: follow the ticket", body = TicketView),
              (status = 409, description = "`already_checked_in`, `hospital_closed` or `appointment_not_booked`"),
              (status = 422, description = "`unknown_department`, `unknown_doctor`, `unknown_patient`, `appointment_not_today`, `idempotency_key_reused`")))]
pub async fn check_in(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path(hospital_id): Path<Uuid>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<CheckInRequest>,
) -> Result<Response, ApiError> {
    let key = crate::api::appointments::idempotency_key(&headers)?;
    let facts = state
        .reception
        .hospitals
        .get(&state.store, hospital_id)
        .await?;
    let patient_id = req.patient_id.unwrap_or(me.id);
    authorize(
        &Principal::User(me.clone()),
        Action::CheckIn,
        Target::Visit {
            hospital_id,
            patient_id,
        },
    )?;
    let department = department_of(&req.department, &facts)?;
    // A retry of a check-in answered at once gets that visit back, even after closing time.
    if let Some(key) = key.as_deref()
        && let Some(first) = visits::by_key(&state.store, me.id, key).await?
    {
        return replayed(&state, first, hospital_id, patient_id, &department, &req).await;
    }
    let now = state.reception.clock.now();
    if let Some(timetable) = &facts.timetable
        && !accepts_walk_ins(
            timetable,
            now.with_timezone(&facts.tz).naive_local(),
            &crate::booking::HOLIDAYS,
        )
    {
        return Err(refused(
            StatusCode::CONFLICT,
            "hospital_closed",
            "the hospital is closed now (see its opening hours)",
        ));
    }
    if patient_id != me.id {
        let patient = docde_store::accounts::users::get(&state.store, patient_id).await?;
        if !patient.is_some_and(|p| p.role == docde_domain::account::Role::Patient) {
            return Err(invalid(
                "unknown_patient",
                "patient_id",
                "no patient has that id",
            ));
        }
    }
    let day = local_day(now, facts.tz);
    let mut doctor_id = match req.doctor_id {
        Some(d) => Some(doctor_of(&state, hospital_id, &department, d).await?),
        None => None,
    };
    if let Some(aid) = req.appointment_id {
        let a = appointments::get(&state.store, aid).await?;
        let Some(a) = a.filter(|a| a.patient_id == patient_id && a.hospital_id == hospital_id)
        else {
            return Err(invalid(
                "unknown_appointment",
                "appointment_id",
                "no appointment of this patient at this hospital has that id",
            ));
        };
        let starts = chrono::DateTime::from_timestamp(a.starts_at, 0).unwrap_or_default();
        if local_day(starts, facts.tz) != day {
            return Err(invalid(
                "appointment_not_today",
                "appointment_id",
                "the appointment is on another day",
            ));
        }
        if a.status != "booked" {
            return Err(ReceptionConflict::AppointmentNotBooked)
                .map_err(|c| reception_error(c.into()));
        }
        doctor_id = doctor_id.or(Some(a.doctor_id));
    }
    let visit_id = Uuid::now_v7();
    let slot = state.reception.admission.try_enter(hospital_id);
    let queue = match &slot {
        None => true,
        Some(_) => {
            state
                .reception
                .admission
                .anyone_waiting(&state, hospital_id)
                .await?
        }
    };
    if queue {
        drop(slot);
        let request = QueuedCheckIn {
            visit_id,
            department,
            day,
            patient_id,
            doctor_id,
            appointment_id: req.appointment_id,
            by: me.id,
        };
        let ticket =
            waiting_room::enqueue(&state, hospital_id, patient_id, &request, key.as_deref())
                .await?;
        crate::metrics::domain::checked_in("waiting_room");
        let location = format!("/api/v1/reception/tickets/{}", ticket.id);
        let mut response = (StatusCode::ACCEPTED, Json(ticket)).into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return Ok(response);
    }
    let new = NewVisit {
        id: visit_id,
        hospital_id,
        department,
        day,
        patient_id,
        doctor_id,
        appointment: req.appointment_id.map(|a| Transition {
            appointment_id: a,
            from: "booked".into(),
            to: "checked_in",
            reason: None,
            by: me.id,
            frees_seat: false,
            now,
            email: None,
        }),
        by: me.id,
        idempotency_key: key.clone(),
        now,
    };
    let done = match visits::check_in(&state.store, &new).await {
        Ok(done) => done,
        Err(e) => {
            // Two first attempts with one key raced (on two instances): the unique index
            // refused the second; answer it with the first's visit.
            if let Some(key) = key.as_deref()
                && let Some(first) = visits::by_key(&state.store, me.id, key).await?
            {
                drop(slot);
                return replayed(
                    &state,
                    first,
                    hospital_id,
                    patient_id,
                    &new.department,
                    &req,
                )
                .await;
            }
            return Err(reception_error(e));
        }
    };
    crate::metrics::domain::checked_in("walk_in");
    drop(slot);
    announce(&state, &done.visit);
    let mut view = VisitView::of(&done.visit);
    place(&state, &done.visit, &mut view).await?;
    let location = format!("/api/v1/reception/visits/{}", done.visit.id);
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The answer to a retry whose key already made a visit: that visit (200, as it is now), if
/// the retry asks for the same check-in; otherwise the key was reused for another request.
async fn replayed(
    state: &AppState,
    first: Visit,
    hospital_id: Uuid,
    patient_id: Uuid,
    department: &str,
    req: &CheckInRequest,
) -> Result<Response, ApiError> {
    if first.hospital_id != hospital_id
        || first.patient_id != patient_id
        || first.department != department
        || first.appointment_id != req.appointment_id
    {
        return Err(key_reused());
    }
    let mut view = VisitView::of(&first);
    place(state, &first, &mut view).await?;
    let location = format!("/api/v1/reception/visits/{}", first.id);
    let mut response = (StatusCode::OK, Json(view)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The same Idempotency-Key came with a different check-in.
pub(crate) fn key_reused() -> ApiError {
    ApiError::Rejected {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        code: "idempotency_key_reused",
        detail: Some("this Idempotency-Key was used for a different check-in".into()),
    }
}
