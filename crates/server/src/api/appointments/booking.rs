//! Booking a slot: the request, its checks against the doctor's schedule, and the booking
//! built from it (also used when rescheduling), plus the idempotency key and the doctor's
//! cached view the checks read.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, Utc};
use docde_domain::schedule::AppointmentStatus;
use docde_store::booking::{BookOutcome, BookingConflict, BookingError, NewAppointment, tickets};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AppointmentView, conflict, settle, window_error};
use crate::api::now;
use crate::auth::{Principal, SignedUser, UserPrincipal, confirm_session};
use crate::authz::{Action, Target, authorize};
use crate::booking::availability::DoctorView;
use crate::booking::document::zone;
use crate::booking::notify;
use crate::booking::{HOLIDAYS, rush};
use crate::extract::ApiJson;
use crate::problem::ApiError;
use crate::state::AppState;

/// A booking request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, garde::Validate)]
#[serde(deny_unknown_fields)]
pub struct BookRequest {
    #[garde(skip)]
    pub doctor_id: Uuid,
    /// The slot's start, as listed by the availability endpoint (any offset).
    #[garde(skip)]
    pub starts_at: DateTime<FixedOffset>,
    /// Why the patient comes (shown to the hospital only).
    #[garde(length(chars, min = 1, max = 500))]
    pub reason: String,
}

/// Book a slot (patients). With `Idempotency-Key`, a retried request returns the first
/// request's appointment (200) instead of booking again.
#[utoipa::path(post, path = "/api/v1/appointments", tag = "booking", security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe (at most 200 characters)")),
    request_body = BookRequest,
    responses((status = 201, description = "Booked (or requested, where the doctor approves)", body = AppointmentView),
              (status = 200, description = "A retry: the first request's appointment", body = AppointmentView),
              (status = 202, description = "Queued during a rush: follow the ticket", body = rush::TicketView),
              (status = 409, description = "`slot_full` or `patient_overlap`"),
              (status = 422, description = "Not a slot of the schedule, not bookable now, or invalid fields")))]
pub async fn book(
    State(state): State<AppState>,
    // The session is read inside `prepare`, after the refusals anyone could work out.
    SignedUser(me): SignedUser,
    headers: HeaderMap,
    ApiJson(req): ApiJson<BookRequest>,
) -> Result<Response, ApiError> {
    authorize(
        &Principal::User(me.clone()),
        Action::Book,
        Target::User {
            id: me.id,
            hospital_id: None,
        },
    )?;
    let key = idempotency_key(&headers)?;
    let at = now();
    let view = doctor_view(&state, req.doctor_id).await?;
    let new = (prepare(&state, &view, me.id, &req, key, at, Some(&me)).await)
        .inspect_err(crate::metrics::domain::booking_refused)?;
    let tz = zone(&view.doctor.time_zone);
    if state
        .booking
        .rush
        .applies(at, tz, state.booking.in_flight())
    {
        let ticket = rush::enqueue(&state, me.id, new).await?;
        crate::metrics::domain::booking_queued();
        return Ok(queued(ticket));
    }
    let _guard = state.booking.enter();
    let booked = state.booking.writer.book_keyed(new.clone()).await;
    let outcome = booked.outcome;
    crate::metrics::domain::booked(&outcome);
    // A retry whose first attempt was queued during a rush (the rush has since ended) lost
    // its seat to that very ticket: it gets the ticket back, as the first attempt did. Where
    // the writer decided the booking with its group, its read found the key unused by any
    // ticket, so a refusal is answered as it is. Otherwise the losers of a race ask together
    // (`key_checks`, one read for all waiting, which finds no appointment for them: the
    // writer would have answered with it); only a key that was used — by a ticket, then —
    // reads the ticket itself.
    if let (Err(BookingError::Conflict(_)), Some(key)) = (&outcome, &new.idempotency_key)
        && !booked.key_unused
        && state
            .booking
            .key_checks
            .contains(&state.store, (me.id, key.clone()))
            .await?
        && let Some(ticket) = tickets::by_key(&state.store, me.id, key).await?
    {
        let served = tickets::served(&state.store).await?;
        return Ok(queued(rush::view(&ticket, served)));
    }
    let outcome = settle(&state, &new, outcome).await?;
    let created = matches!(outcome, BookOutcome::Created { .. });
    let body = AppointmentView::of(outcome.appointment(), tz);
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!("/api/v1/appointments/{}", new.id)) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `202` with the ticket, and where to follow it.
fn queued(ticket: rush::TicketView) -> Response {
    let location = format!("/api/v1/booking-tickets/{}", ticket.id);
    let mut response = (StatusCode::ACCEPTED, Json(ticket)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// Checks the request against the doctor's schedule and builds the booking.
///
/// `unread_session` is the caller's session if it has not been read yet ([`SignedUser`]): it
/// is read here, or left to the booking writer (the returned booking's `session_id`), so the
/// booking must then go to the writer. The refusals before it is read use only what anyone
/// may see — the doctor's schedule and which slots are free are public (`GET
/// …/availability`) — so a token whose session was revoked learns nothing from them and
/// changes nothing. Everything after (the caller's own idempotency key, the booking itself)
/// happens only once the session is confirmed.
pub(crate) async fn prepare(
    state: &AppState,
    view: &DoctorView,
    patient_id: Uuid,
    req: &BookRequest,
    key: Option<String>,
    at: DateTime<Utc>,
    unread_session: Option<&UserPrincipal>,
) -> Result<NewAppointment, ApiError> {
    if !view.doctor.accepts_online_booking {
        return Err(ApiError::Conflict {
            code: "not_bookable_online",
            detail: "book by phone or at reception".into(),
        });
    }
    let schedule = view.schedule.as_ref().ok_or(ApiError::Conflict {
        code: "no_schedule",
        detail: "this doctor has no bookable sessions yet".into(),
    })?;
    let start = req.starts_at.with_timezone(&Utc);
    let slot = schedule
        .slot_at(start, &HOLIDAYS)
        .ok_or_else(|| ApiError::Invalid {
            code: "slot_not_in_schedule",
            field: "starts_at".into(),
            message: "the doctor has no slot starting at that time".into(),
        })?;
    schedule
        .check_bookable(&slot, at)
        .map_err(|e| window_error(e, "starts_at"))?;
    // Shed load: a slot known to be full is refused without the writer. A request with an
    // idempotency key goes on only if it may be a retry whose first attempt committed, so it
    // gets that first answer back. It may be one only if the patient has (or had) an
    // appointment in this slot: the view answers that when it has heard of every seat's
    // holder, and otherwise the database is asked whether the key booked or queued a ticket
    // (whose booking carries no key: the ticket does). The view counts a
    // seat only after its commit, so a first attempt that filled the slot is visible here.
    let full = view.taken(start.timestamp()) >= slot.capacity;
    let maybe_retry =
        full && key.is_some() && view.ever_held_by(start.timestamp(), patient_id) != Some(false);
    if full && !maybe_retry {
        return Err(conflict(BookingConflict::SlotFull));
    }
    // A request for a free seat has its session confirmed by the booking writer, with one
    // read for its whole batch in the batch's own transaction ([`NewAppointment::session_id`]).
    // A keyed request for a full slot is about to read the patient's own key, so its session
    // is confirmed here first.
    let mut session_id = None;
    if let Some(user) = unread_session {
        if full {
            confirm_session(state, user).await?;
        } else {
            session_id = Some(user.session_id);
        }
    }
    if let (true, Some(key)) = (full, &key) {
        let asked = (patient_id, key.clone());
        let booked = state
            .booking
            .key_checks
            .contains(&state.store, asked)
            .await?;
        if !booked {
            return Err(conflict(BookingConflict::SlotFull));
        }
    }
    let status = if view.doctor.booking_mode == "doctor_approval" {
        AppointmentStatus::Requested
    } else {
        AppointmentStatus::Booked
    };
    let request_hash = key.as_ref().map(|_| {
        let mut h = Sha256::new();
        h.update(req.doctor_id.as_bytes());
        h.update(start.timestamp().to_be_bytes());
        h.update(req.reason.as_bytes());
        hex::encode(h.finalize())
    });
    let id = Uuid::now_v7();
    let email = patient_letter(
        state,
        id,
        start.timestamp(),
        &view.doctor.time_zone,
        status.as_str(),
    );
    Ok(NewAppointment {
        id,
        hospital_id: view.doctor.hospital_id,
        doctor_id: view.doctor.id,
        patient_id,
        starts_at: slot.start.timestamp(),
        ends_at: slot.end.timestamp(),
        capacity: slot.capacity,
        status: status.as_str(),
        reason: req.reason.trim().to_owned(),
        idempotency_key: key,
        request_hash,
        rescheduled_from: None,
        now: at,
        email,
        session_id,
    })
}

/// The patient's e-mail about a change, if the hospital mails them; the store addresses it
/// in the change's own transaction.
pub(super) fn patient_letter(
    state: &AppState,
    appointment_id: Uuid,
    starts_at: i64,
    time_zone: &str,
    status: &str,
) -> Option<docde_store::outbox::Letter> {
    state
        .config
        .booking
        .notify_email
        .then(|| notify::letter(appointment_id, starts_at, time_zone, status))
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .ok_or_else(|| ApiError::Rejected {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_idempotency_key",
            detail: Some("Idempotency-Key must be 1–200 visible ASCII characters".into()),
        })?;
    Ok(Some(key.to_owned()))
}

pub(crate) async fn doctor_view(
    state: &AppState,
    doctor_id: Uuid,
) -> Result<std::sync::Arc<DoctorView>, ApiError> {
    state
        .booking
        .views
        .doctor(&state.store, doctor_id)
        .await?
        .ok_or_else(|| ApiError::Invalid {
            code: "unknown_doctor",
            field: "doctor_id".into(),
            message: "no such doctor".into(),
        })
}
