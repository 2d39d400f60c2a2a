//! `/api/v1/appointments`: booking, reading, and every change of an appointment's status.
//!
//! A booking is checked against the schedule here (is there such a slot, is it bookable now)
//! and then decided by the database through the group-commit writer; the answer comes only
//! after the commit. Every change e-mails the patient (in the same transaction) and is pushed
//! on their live channel after the commit.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use docde_domain::schedule::{AppointmentStatus, WindowError};
use docde_store::booking::appointments::{self, Appointment, Owner};
use docde_store::booking::{
    BookOutcome, BookingConflict, BookingError, NewAppointment, Transition,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::now;
use super::schedules::local;
use crate::auth::{CurrentUser, Principal, SignedUser, UserPrincipal, confirm_session};
use crate::authz::{Action, Target, authorize};
use crate::booking::availability::DoctorView;
use crate::booking::document::zone;
use crate::booking::notify::{self, SeatChange};
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

/// An appointment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AppointmentView {
    pub id: Uuid,
    pub hospital_id: Uuid,
    pub doctor_id: Uuid,
    pub patient_id: Uuid,
    /// In the hospital's time zone.
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    /// `requested`, `booked`, `denied`, `cancelled`, `checked_in`, `completed`, `no_show`.
    pub status: String,
    pub reason: String,
    /// Why it was denied or cancelled.
    pub status_reason: Option<String>,
    /// The appointment this one replaced (reschedule).
    pub rescheduled_from: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AppointmentView {
    pub fn of(a: &Appointment, tz: chrono_tz::Tz) -> Self {
        Self {
            id: a.id,
            hospital_id: a.hospital_id,
            doctor_id: a.doctor_id,
            patient_id: a.patient_id,
            starts_at: local(a.starts_at, tz),
            ends_at: local(a.ends_at, tz),
            status: a.status.clone(),
            reason: a.reason.clone(),
            status_reason: a.status_reason.clone(),
            rescheduled_from: a.rescheduled_from,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
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
        let ticket = rush::enqueue(&state, me.id, &req, new).await?;
        crate::metrics::domain::booking_queued();
        let location = format!("/api/v1/booking-tickets/{}", ticket.id);
        let mut response = (StatusCode::ACCEPTED, Json(ticket)).into_response();
        if let Ok(value) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        return Ok(response);
    }
    let _guard = state.booking.enter();
    let outcome = state.booking.writer.book(new.clone()).await;
    crate::metrics::domain::booked(&outcome);
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

/// Checks the request against the doctor's schedule and builds the booking.
///
/// `unread_session` is the caller's session if it has not been read yet ([`SignedUser`]).
/// The refusals before it is read use only what anyone may see — the doctor's schedule and
/// which slots are free are public (`GET …/availability`) — so a token whose session was
/// revoked learns nothing from them and changes nothing. Everything after (the caller's own
/// idempotency key, the booking itself) happens only once the session is confirmed.
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
    // holder, and otherwise the database is asked whether the key booked. The view counts a
    // seat only after its commit, so a first attempt that filled the slot is visible here.
    let full = view.taken(start.timestamp()) >= slot.capacity;
    let maybe_retry =
        full && key.is_some() && view.ever_held_by(start.timestamp(), patient_id) != Some(false);
    if full && !maybe_retry {
        return Err(conflict(BookingConflict::SlotFull));
    }
    if let Some(user) = unread_session {
        confirm_session(state, user).await?;
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
        hex(&h.finalize())
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
    })
}

/// The patient's e-mail about a change, if the hospital mails them; the store addresses it
/// in the change's own transaction.
fn patient_letter(
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        BookingError::Store(e) => e.into(),
    }
}

/// The appointment and the facts its rules need.
async fn load(
    state: &AppState,
    id: Uuid,
) -> Result<(Appointment, std::sync::Arc<DoctorView>), ApiError> {
    let appointment = appointments::get(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let view = state
        .booking
        .views
        .doctor(&state.store, appointment.doctor_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok((appointment, view))
}

fn target(a: &Appointment, view: &DoctorView) -> Target<'static> {
    Target::Appointment {
        hospital_id: a.hospital_id,
        patient_id: a.patient_id,
        doctor_user_id: view.doctor.user_id,
    }
}

/// One appointment (its patient; staff of its hospital).
#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Appointment id")),
    responses((status = 200, description = "The appointment", body = AppointmentView)))]
pub async fn get(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<AppointmentView>, ApiError> {
    let (a, view) = load(&state, id).await?;
    // Someone else's appointment is "not found", not "forbidden": ids are not confirmed.
    authorize(&principal, Action::ReadAppointment, target(&a, &view))
        .map_err(|_| ApiError::NotFound)?;
    Ok(Json(AppointmentView::of(&a, zone(&view.doctor.time_zone))))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// First local date (default: today, Asia/Seoul for a patient's own list).
    pub from: Option<NaiveDate>,
    /// Last local date, inclusive (default: `from` + 30 days).
    pub to: Option<NaiveDate>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
}

/// A page of appointments.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppointmentPage {
    pub items: Vec<AppointmentView>,
    pub next_cursor: Option<String>,
}

/// My appointments (patients).
#[utoipa::path(get, path = "/api/v1/me/appointments", tag = "booking", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "Appointments by start time; empty list if none", body = AppointmentPage)))]
pub async fn mine(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<AppointmentPage>, ApiError> {
    page(
        &state,
        Owner::Patient(me.id),
        docde_domain::schedule::DEFAULT_TZ,
        &q,
    )
    .await
}

/// A doctor's appointments (staff of the doctor's hospital), e.g. today's list.
#[utoipa::path(get, path = "/api/v1/doctors/{id}/appointments", tag = "booking", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Doctor id"), ListQuery),
    responses((status = 200, description = "Appointments by start time; empty list if none", body = AppointmentPage)))]
pub async fn of_doctor(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<ListQuery>,
) -> Result<Json<AppointmentPage>, ApiError> {
    let view = state
        .booking
        .views
        .doctor(&state.store, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    authorize(
        &principal,
        Action::ListAppointments,
        Target::Doctor {
            hospital_id: view.doctor.hospital_id,
            user_id: view.doctor.user_id,
        },
    )?;
    page(&state, Owner::Doctor(id), zone(&view.doctor.time_zone), &q).await
}

async fn page(
    state: &AppState,
    owner: Owner,
    tz: chrono_tz::Tz,
    q: &ListQuery,
) -> Result<Json<AppointmentPage>, ApiError> {
    let today = now().with_timezone(&tz).date_naive();
    let from = q.from.unwrap_or(today);
    let to = q.to.unwrap_or(from + chrono::Duration::days(30));
    if to < from {
        return Err(super::invalid("to", "must be on or after from"));
    }
    let start_of = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(tz).earliest())
            .map(|t| t.timestamp())
            .unwrap_or(0)
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    let after = match &q.cursor {
        Some(c) => Some(
            parse_cursor(c)
                .ok_or_else(|| super::invalid("cursor", "not a cursor from this list"))?,
        ),
        None => None,
    };
    let items = appointments::list(
        &state.store,
        owner,
        start_of(from),
        start_of(to + chrono::Duration::days(1)),
        after,
        limit,
    )
    .await?;
    let next_cursor = (items.len() == limit as usize)
        .then(|| items.last().map(|a| format!("{}_{}", a.starts_at, a.id)))
        .flatten();
    let mut views = Vec::with_capacity(items.len());
    for a in &items {
        let zone = match owner {
            Owner::Patient(_) => match state
                .booking
                .views
                .doctor(&state.store, a.doctor_id)
                .await?
            {
                Some(v) => zone(&v.doctor.time_zone),
                None => tz,
            },
            _ => tz,
        };
        views.push(AppointmentView::of(a, zone));
    }
    Ok(Json(AppointmentPage {
        items: views,
        next_cursor,
    }))
}

fn parse_cursor(c: &str) -> Option<(i64, Uuid)> {
    let (start, id) = c.split_once('_')?;
    Some((start.parse().ok()?, id.parse().ok()?))
}

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
            return Err(super::invalid("reason", "staff must say why they cancel"));
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
        return Err(super::invalid("reason", "say why the request is denied"));
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
        return Err(super::invalid(
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
